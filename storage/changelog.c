/* changelog.c - the change log (schema 2): gapless sequence numbers, the entry codec, iteration. */
#include <string.h>
#include <time.h>

#include "storage/store_int.h"

/* Layout: see the top of store.c. */
#define CHG_FORMAT 0x01
#define CHG_FIXED (1 + 8 + 4 + 4) /* format, seq, time, op */

size_t idn_change_size(const idn_change_t *c)
{
	return CHG_FIXED + 12 + (size_t)c->who.len + c->handle.len + c->data.len;
}

void idn_change_encode(const idn_change_t *c, uint8_t *out)
{
	idn_wire_t w;
	idn_wire_init(&w, out, idn_change_size(c));
	idn_wire_put_u8(&w, CHG_FORMAT);
	idn_wire_put_u64(&w, c->seq);
	idn_wire_put_u32(&w, c->time);
	idn_wire_put_u32(&w, c->op);
	idn_wire_put_bstr(&w, c->who.p, c->who.len);
	idn_wire_put_bstr(&w, c->handle.p, c->handle.len);
	idn_wire_put_bstr(&w, c->data.p, c->data.len);
}

int idn_change_decode(const uint8_t *p, size_t len, idn_change_t *c)
{
	idn_wire_t w;
	memset(c, 0, sizeof(*c));
	idn_wire_init_ro(&w, p, len);
	uint8_t fmt = idn_wire_get_u8(&w);
	if (w.err)
		return w.err;
	if (fmt != CHG_FORMAT)
		return IDN_EVERSION;
	c->seq = idn_wire_get_u64(&w);
	c->time = idn_wire_get_u32(&w);
	c->op = idn_wire_get_u32(&w);
	c->who = idn_wire_get_bstr(&w, IDN_CHANGE_MAX_NAME);
	c->handle = idn_wire_get_bstr(&w, IDN_CHANGE_MAX_NAME);
	c->data = idn_wire_get_bstr(&w, UINT32_MAX);
	if (w.err)
		return w.err;
	return idn_wire_avail(&w) ? IDN_EMALF : IDN_OK;
}

/* Last sequence number in the log as seen by txn (0 when empty). */
static int last_seq(idn_store_t *s, MDB_txn *txn, uint64_t *seq)
{
	*seq = 0;
	if (!s->has_changelog)
		return IDN_OK;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = mdb_cursor_open(txn, s->changelog, &cur);
	if (rc)
		return map_mdb(rc);
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND)
		return IDN_OK;
	if (rc)
		return map_mdb(rc);
	if (k.mv_size != 8)
		return IDN_ECORRUPT;
	*seq = idn_store_get_be64(k.mv_data);
	return IDN_OK;
}

void idn_txn_log(idn_txn_t *t, const idn_change_t *c)
{
	if (txn_check(t))
		return;
	if (c->who.len > IDN_CHANGE_MAX_NAME || c->handle.len > IDN_CHANGE_MAX_NAME ||
	    c->data.len > 0x7fffffffu) {
		txn_fail(t, IDN_ELIMIT);
		return;
	}
	uint64_t seq;
	int ret = last_seq(t->s, t->txn, &seq);
	if (ret) {
		txn_fail(t, ret);
		return;
	}
	idn_change_t e = *c;
	e.seq = seq + 1;
	if (e.time == 0)
		e.time = (uint32_t)time(NULL);

	uint8_t kb[8];
	idn_store_put_be64(kb, e.seq);
	MDB_val k = { sizeof(kb), kb }, v = { idn_change_size(&e), NULL };
	/* APPEND: the key is past the last one, so LMDB fills pages in order
	 * (and refuses, rather than overwrites, should it not be). */
	int rc = mdb_put(t->txn, t->s->changelog, &k, &v, MDB_RESERVE | MDB_APPEND);
	if (rc) {
		txn_fail(t, map_mdb(rc));
		return;
	}
	idn_change_encode(&e, v.mv_data);
}

uint64_t idn_txn_last_seq(idn_txn_t *t)
{
	uint64_t seq;
	if (txn_check(t))
		return 0;
	int ret = last_seq(t->s, t->txn, &seq);
	if (ret) {
		txn_fail(t, ret);
		return 0;
	}
	return seq;
}

int idn_store_last_seq(idn_store_t *s, uint64_t *seq)
{
	MDB_txn *txn;
	*seq = 0;
	int ret = idn_store_txn_begin(s, MDB_RDONLY, &txn);
	if (ret)
		return ret;
	ret = last_seq(s, txn, seq);
	mdb_txn_abort(txn);
	return ret;
}

int idn_store_changes(idn_store_t *s, uint64_t from_seq,
		      int (*cb)(void *arg, const idn_change_t *c), void *arg)
{
	if (!s->has_changelog)
		return IDN_OK;
	MDB_txn *txn;
	MDB_cursor *cur;
	int ret = idn_store_read_cursor(s, s->changelog, &txn, &cur);
	if (ret)
		return ret;
	int rc;
	uint8_t kb[8];
	idn_store_put_be64(kb, from_seq);
	MDB_val k = { sizeof(kb), kb }, v;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		idn_change_t c;
		if (k.mv_size != 8 || idn_change_decode(v.mv_data, v.mv_size, &c) != IDN_OK ||
		    c.seq != idn_store_get_be64(k.mv_data)) {
			ret = IDN_ECORRUPT;
			break;
		}
		if (cb(arg, &c))
			break;
	}
	return idn_store_read_end(txn, cur, ret, rc);
}
