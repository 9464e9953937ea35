/* dbutil.c - storage/ helpers shared by the change log, outbox, counters and homed-prefix walks (see store_int.h). */
#include "storage/store_int.h"

int idn_store_read_cursor(idn_store_t *s, MDB_dbi dbi, MDB_txn **txn, MDB_cursor **cur)
{
	int ret = idn_store_txn_begin(s, MDB_RDONLY, txn);
	if (ret)
		return ret;
	int rc = mdb_cursor_open(*txn, dbi, cur);
	if (rc) {
		mdb_txn_abort(*txn);
		return map_mdb(rc);
	}
	return IDN_OK;
}

int idn_store_read_end(MDB_txn *txn, MDB_cursor *cur, int ret, int rc)
{
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	if (ret)
		return ret;
	return rc == 0 || rc == MDB_NOTFOUND ? IDN_OK : map_mdb(rc);
}
