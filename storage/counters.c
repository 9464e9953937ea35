/* counters.c - named u64 counters (schema 2): add with a floor at 0, get, iterate by name prefix. */
#include <string.h>

#include "storage/store_int.h"

/* Layout: see the top of store.c (key: name, value: u64 big-endian). */

static int counter_key(const void *name, size_t len, MDB_val *k)
{
	if (len == 0)
		return IDN_EINVAL;
	if (len > IDN_COUNTER_MAX_NAME)
		return IDN_ELIMIT;
	k->mv_size = len;
	k->mv_data = (void *)name;
	return IDN_OK;
}

/* Read a counter in txn: 0 when absent. */
static int counter_read(idn_store_t *s, MDB_txn *txn, const MDB_val *k, uint64_t *out, bool *found)
{
	MDB_val v;
	*out = 0;
	*found = false;
	if (!s->has_counters)
		return IDN_OK;
	int rc = mdb_get(txn, s->counters, (MDB_val *)k, &v);
	if (rc == MDB_NOTFOUND)
		return IDN_OK;
	if (rc)
		return map_mdb(rc);
	if (v.mv_size != 8)
		return IDN_ECORRUPT;
	*out = idn_store_get_be64(v.mv_data);
	*found = true;
	return IDN_OK;
}

void idn_txn_counter_add(idn_txn_t *t, const void *name, size_t len, int64_t delta)
{
	MDB_val k;
	if (txn_check(t))
		return;
	int ret = counter_key(name, len, &k);
	uint64_t cur = 0;
	bool found = false;
	if (!ret)
		ret = counter_read(t->s, t->txn, &k, &cur, &found);
	if (ret) {
		txn_fail(t, ret);
		return;
	}
	uint64_t val;
	if (delta >= 0)
		val = UINT64_MAX - cur < (uint64_t)delta ? UINT64_MAX : cur + (uint64_t)delta;
	else {
		/* -(delta + 1) + 1 avoids negating INT64_MIN. */
		uint64_t sub = (uint64_t)(-(delta + 1)) + 1;
		val = cur < sub ? 0 : cur - sub;
	}
	/* Nothing to record: an absent counter reads as 0 already. */
	if ((val == cur && found) || (val == 0 && !found))
		return;
	uint8_t vb[8];
	idn_store_put_be64(vb, val);
	MDB_val v = { sizeof(vb), vb };
	int rc = mdb_put(t->txn, t->s->counters, &k, &v, 0);
	if (rc)
		txn_fail(t, map_mdb(rc));
}

uint64_t idn_txn_counter_get(idn_txn_t *t, const void *name, size_t len)
{
	MDB_val k;
	uint64_t val;
	bool found;
	if (txn_check(t) || counter_key(name, len, &k))
		return 0;
	int ret = counter_read(t->s, t->txn, &k, &val, &found);
	if (ret) {
		txn_fail(t, ret);
		return 0;
	}
	return val;
}

int idn_reader_counter_get(idn_reader_t *r, const void *name, size_t len, uint64_t *out)
{
	MDB_val k;
	bool found;
	*out = 0;
	if (!r->active)
		return IDN_EINVAL;
	int ret = counter_key(name, len, &k);
	if (ret)
		return ret;
	return counter_read(r->s, r->txn, &k, out, &found);
}

int idn_store_foreach_counter(idn_store_t *s, const void *prefix, size_t plen,
			      int (*cb)(void *arg, idn_bytes_t name, uint64_t value), void *arg)
{
	if (!s->has_counters || plen > IDN_COUNTER_MAX_NAME)
		return IDN_OK;
	MDB_txn *txn;
	MDB_cursor *cur;
	int ret = idn_store_read_cursor(s, s->counters, &txn, &cur);
	if (ret)
		return ret;
	int rc;
	MDB_val k = { plen, (void *)prefix }, v;
	MDB_cursor_op op = plen ? MDB_SET_RANGE : MDB_FIRST;
	for (rc = mdb_cursor_get(cur, &k, &v, op); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (plen && (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0))
			break;
		if (v.mv_size != 8) {
			ret = IDN_ECORRUPT;
			break;
		}
		idn_bytes_t name = { k.mv_data, (uint32_t)k.mv_size };
		if (cb(arg, name, idn_store_get_be64(v.mv_data)))
			break;
	}
	return idn_store_read_end(txn, cur, ret, rc);
}
