/* store_int.h - private to storage/: the structs behind the store handles and helpers shared by its files. */
#ifndef IDN_STORE_INT_H
#define IDN_STORE_INT_H

#include <lmdb.h>
#include <pthread.h>

#include "storage/store.h"

#define IDN_STORE_SCHEMA 2

/*
 * Handles changed by this process's write txns, so that readers' caches
 * (cache.c) drop only those entries at a new snapshot instead of all. The
 * writer records the key hashes of a top-level txn just before it commits;
 * a reader that finds a record for every txn id between its old and new
 * snapshot invalidates those hashes, otherwise (a commit by another
 * process, records overwritten, a txn too large) it drops everything.
 */
#define IDN_CHG_HASHES 65536   /* power of two */
#define IDN_CHG_COMMITS 4096   /* power of two */
#define IDN_CHG_TXN_MAX 16384  /* more changes in one txn: "everything" */

typedef struct {
	uint64_t txnid;
	uint64_t start;        /* position of its first hash */
	uint32_t n;            /* hashes; UINT32_MAX: everything changed */
} idn_chg_commit_t;

typedef struct {
	pthread_mutex_t mu;
	uint64_t hhead, chead;  /* hashes, commits ever recorded */
	uint64_t hashes[IDN_CHG_HASHES];
	idn_chg_commit_t commits[IDN_CHG_COMMITS];
} idn_chglog_t;

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
	uint32_t reader_cache_entries;  /* idn_reader_new()'s; 0 = no cache */
	idn_chglog_t *chg;            /* NULL: none (every new snapshot drops the caches) */
};

/* One entry of a reader's lookup cache (cache.c explains why it is valid):
 * the folded key and then the record, copied into the cache's arena. */
typedef struct {
	uint64_t pos;         /* arena position of the copy (bytes ever written) */
	uint32_t vlen;        /* the record's length */
	uint32_t tag;         /* high half of the key's hash */
	uint32_t gen;         /* valid only while equal to the cache's gen */
	uint16_t klen;
	uint16_t found;       /* 0: no such handle (only the key is copied) */
	uint64_t unused;
} idn_lkcache_ent_t;

typedef struct {
	idn_lkcache_ent_t *ents;   /* NULL: no cache; else 2 * (mask + 1) entries */
	size_t mask;              /* sets - 1 */
	size_t map_len;           /* bytes mapped: the table, then the arena */
	uint8_t *arena;           /* the copies, written round */
	size_t arena_len;         /* a power of two */
	uint64_t head;            /* arena bytes ever written */
	uint64_t bracket_head;    /* head at the last begin */
	uint32_t gen;             /* 0 until the first begin */
	size_t txnid;             /* the snapshot the entries are valid in */
	uint64_t hits, misses, drops;
} idn_lkcache_t;

/* entries: 0 = none; else rounded down to a power of two (at least 2, at
 * most IDN_READER_CACHE_MAX). IDN_ENOMEM when it cannot be mapped. */
int idn_lkcache_init(idn_lkcache_t *c, size_t entries);
void idn_lkcache_free(idn_lkcache_t *c);
/* After each successful renew into snapshot txnid: entries of handles
 * changed since the last one are dropped (all of them when chg cannot
 * tell which). */
void idn_lkcache_begin(idn_lkcache_t *c, idn_chglog_t *chg, size_t txnid);
/* The live entry for folded key `key`, or NULL (counts hits and misses). */
const idn_lkcache_ent_t *idn_lkcache_find(idn_lkcache_t *c, const uint8_t *key, size_t klen,
					uint64_t hash);
/* The record of a found entry (valid until the reader's end). */
static inline const uint8_t *idn_lkcache_val(const idn_lkcache_t *c, const idn_lkcache_ent_t *e)
{
	return c->arena + (e->pos & (c->arena_len - 1)) + e->klen;
}
/* Fetch ahead (idn_reader_prefetch): stage 1 the set, stage 2 what its
 * live entries point to. */
void idn_lkcache_prefetch(const idn_lkcache_t *c, uint64_t hash, int stage);
/* Remember a lookup's result (val NULL: the handle is absent); both are
 * copied when the bracket's share of the arena has room. */
void idn_lkcache_put(idn_lkcache_t *c, uint64_t hash, const uint8_t *key, size_t klen,
		    const uint8_t *val, size_t vlen);

struct idn_reader {
	idn_store_t *s;
	MDB_txn *txn;
	bool active;
	uint64_t snapshot;
	idn_lkcache_t cache;
	MDB_cursor *cur;          /* on "handles", for cache misses */
	bool cur_live;            /* renewed into the current txn */
};

struct idn_txn {
	idn_store_t *s;
	MDB_txn *txn;       /* NULL once an ancestor ended it (the txn is dead) */
	int ret;
	idn_txn_t *parent;  /* NULL for a top-level txn */
	idn_txn_t *child;   /* the open child, if any (LMDB allows one) */
	/* Top-level txn: hashes of the handles it (or a child) changed. */
	uint64_t *changed;
	uint32_t n_changed, cap_changed;
	bool all_changed;
};

/* Translate an LMDB return code to an idn_error. */
int idn_store_map_mdb(int rc);
#define map_mdb idn_store_map_mdb

/* u64 keys and values (change-log and outbox sequence numbers, counter
 * values) are big-endian, so LMDB's byte order is numeric order. */
static inline void idn_store_put_be64(uint8_t p[8], uint64_t v)
{
	idn_put_be32(p, (uint32_t)(v >> 32));
	idn_put_be32(p + 4, (uint32_t)v);
}

static inline uint64_t idn_store_get_be64(const uint8_t p[8])
{
	return ((uint64_t)idn_get_be32(p) << 32) | idn_get_be32(p + 4);
}

/* dbutil.c: the read-only walks over one database. idn_store_read_cursor
 * begins a read txn on s with a cursor on dbi (nothing is left open when it
 * fails); idn_store_read_end closes both and gives the walk's result: ret
 * when set, else IDN_OK when the cursor ended with 0 or MDB_NOTFOUND, else
 * the mapped rc. */
int idn_store_read_cursor(idn_store_t *s, MDB_dbi dbi, MDB_txn **txn, MDB_cursor **cur);
int idn_store_read_end(MDB_txn *txn, MDB_cursor *cur, int ret, int rc);

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
