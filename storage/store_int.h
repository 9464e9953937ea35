/* store_int.h - private to storage/: the structs behind the store handles and helpers shared by its files. */
#ifndef IDN_STORE_INT_H
#define IDN_STORE_INT_H

#include <lmdb.h>

#include "storage/store.h"

#define IDN_STORE_SCHEMA 2

struct idn_store {
	MDB_env *env;
	MDB_dbi meta, handles, nas;
	MDB_dbi changelog, counters;  /* schema 2 */
	/* False only for a read-only open of a schema-1 store, which has no
	 * such databases yet: reads then see them empty. */
	bool has_changelog, has_counters;
	MDB_dbi outbox;               /* schema 2, added later: old code ignores it */
	bool has_outbox;
	bool read_only;
};

struct idn_reader {
	idn_store_t *s;
	MDB_txn *txn;
	bool active;
	uint64_t snapshot;
};

struct idn_txn {
	idn_store_t *s;
	MDB_txn *txn;       /* NULL once an ancestor ended it (the txn is dead) */
	int ret;
	idn_txn_t *parent;  /* NULL for a top-level txn */
	idn_txn_t *child;   /* the open child, if any (LMDB allows one) */
};

/* Translate an LMDB return code to an idn_error. */
int idn_store_map_mdb(int rc);
#define map_mdb idn_store_map_mdb

/* Begin a top-level LMDB txn, clearing stale reader slots once if needed. */
int idn_store_txn_begin(idn_store_t *s, unsigned flags, MDB_txn **txn);

/* Latch `ret` as t's error unless one is set already. */
static inline void txn_fail(idn_txn_t *t, int ret)
{
	if (t->ret == IDN_OK)
		t->ret = ret;
}

/* Check that t may be used now: its latched error, or IDN_EINVAL (latched)
 * when a child is open (LMDB forbids touching the parent meanwhile; latching
 * makes the misuse fail the whole txn rather than lose a write). */
static inline int txn_check(idn_txn_t *t)
{
	if (t->child)
		txn_fail(t, IDN_EINVAL);
	return t->ret;
}

#endif
