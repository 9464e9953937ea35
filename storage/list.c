/* list.c - listing the stored handles under a prefix (OC 105 list handles), for readers and write txns. */
#include <string.h>

#include "storage/store_int.h"

/* Walk the handle keys "PREFIX/..." of `txn` in key order, from just after
 * `after` when alen > 0. Shared by readers and write txns. */
static int list_keys(MDB_txn *txn, MDB_dbi dbi, const uint8_t *prefix, size_t plen,
		     const uint8_t *after, size_t alen,
		     int (*cb)(void *arg, idn_bytes_t key), void *arg)
{
	uint8_t pre[IDN_STORE_MAX_KEY], start[IDN_STORE_MAX_KEY];
	if (plen == 0)
		return IDN_EINVAL;
	if (alen > IDN_STORE_MAX_KEY)
		return IDN_ELIMIT;
	if (plen + 1 >= IDN_STORE_MAX_KEY)
		return IDN_OK; /* no key this long can exist */
	idn_handle_fold(prefix, plen, pre);
	pre[plen++] = '/';

	/* Start at "PREFIX/", or at `after` when that sorts later (LMDB's
	 * default order: memcmp, then the shorter key first). */
	MDB_val k = { plen, pre }, v;
	bool skip_equal = false;
	if (alen > 0) {
		idn_handle_fold(after, alen, start);
		size_t m = alen < plen ? alen : plen;
		int c = memcmp(start, pre, m);
		if (c > 0 || (c == 0 && alen >= plen)) {
			k.mv_size = alen;
			k.mv_data = start;
			skip_equal = true;
		}
	}
	MDB_cursor *cur;
	int rc = mdb_cursor_open(txn, dbi, &cur);
	if (rc)
		return map_mdb(rc);
	MDB_val want = k;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (skip_equal) {
			skip_equal = false;
			if (k.mv_size == want.mv_size && memcmp(k.mv_data, want.mv_data, k.mv_size) == 0)
				continue;
		}
		if (k.mv_size < plen || memcmp(k.mv_data, pre, plen) != 0)
			break;
		idn_bytes_t key = { k.mv_data, (uint32_t)k.mv_size };
		if (cb(arg, key))
			break;
	}
	mdb_cursor_close(cur);
	return rc == 0 || rc == MDB_NOTFOUND ? IDN_OK : map_mdb(rc);
}

int idn_reader_list(idn_reader_t *r, const uint8_t *prefix, size_t plen,
		    const uint8_t *after, size_t alen,
		    int (*cb)(void *arg, idn_bytes_t key), void *arg)
{
	if (!r->active)
		return IDN_EINVAL;
	return list_keys(r->txn, r->s->handles, prefix, plen, after, alen, cb, arg);
}

int idn_txn_list(idn_txn_t *t, const uint8_t *prefix, size_t plen,
		 const uint8_t *after, size_t alen,
		 int (*cb)(void *arg, idn_bytes_t key), void *arg)
{
	if (txn_check(t))
		return t->ret;
	return list_keys(t->txn, t->s->handles, prefix, plen, after, alen, cb, arg);
}
