/* store.c - the LMDB store: environment, schema, readers and write transactions (layout of every database). */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "proto/record.h"
#include "storage/store_int.h"

/*
 * On-disk layout, schema version 2. One LMDB environment (data.mdb +
 * lock.mdb in the data directory) with named databases. All integers are
 * big-endian ("int4" = 4 bytes, "u64" = 8 bytes).
 *
 *   "meta"     key: ASCII name            value: opaque blob
 *              "schema" -> int4 version (2). Written when the store is created;
 *              a store whose version is newer than IDN_STORE_SCHEMA is refused.
 *   "handles"  key: the handle with ASCII a-z folded to A-Z (CNRI is
 *              case-insensitive by default), at most IDN_STORE_MAX_KEY bytes
 *              value: the handle record:
 *                off 0  u8   format, 0x01
 *                off 1  u8   flags, 0x01 = every value is public-read
 *                off 2  int4 value count n
 *                off 6  n HandleValues in wire form (see proto/record.h),
 *                       back to back, in ascending index order
 *              Example, 88.100/A with one URL value "u" (timestamp 0, TTL
 *              86400, perms 0x0e):
 *                01 01 00000001 | 00000001 00000000 00 00015180 0e
 *                00000003 55524c 00000001 75 00000000
 *              The values are stored exactly as they go on the wire so a
 *              resolution that needs no filtering is one memcpy.
 *   "nas"      key: folded prefix handle ("0.NA/88.100")
 *              value: u8 format 0x01, int4 time homed (Unix seconds)
 *
 * Added in schema 2 (see changelog.c and counters.c):
 *
 *   "changelog" key: u64 sequence number, 1, 2, 3, ... without gaps (the
 *              next number is the last key + 1, read in the same txn, so
 *              an aborted txn leaves no hole); big-endian so that LMDB's
 *              byte order is numeric order.
 *              value: one change, self-contained so that it can be shipped
 *              as is to mirrors and to the top-level node:
 *                off 0  u8   format, 0x01
 *                off 1  u64  sequence number (same as the key)
 *                off 9  int4 time (Unix seconds)
 *                off 13 int4 op: the Handle opcode (100 create, 101 delete,
 *                       102 add, 103 remove, 104 modify, 300 home, 301 unhome)
 *                off 17 int4 length + who (identity "300:0.NA/88.100.12")
 *                       int4 length + handle, as given (not folded)
 *                       int4 length + data: the handle record after the
 *                       change ("handles" value layout), empty for a delete
 *              Example, entry 1: 88.100/A created (op 100) by
 *              300:0.NA/88.100 at time 0x66000000, data the record of the
 *              "handles" example above (0x24 bytes):
 *                key   00000000 00000001
 *                value 01 0000000000000001 66000000 00000064
 *                      0000000f 3330303a302e4e412f38382e313030
 *                      00000008 38382e3130302f41
 *                      00000024 01 01 00000001 | 00000001 00000000 00 00015180 0e
 *                               00000003 55524c 00000001 75 00000000
 *              (tests/storage/test_store2.c decodes this very example.)
 *   "counters" key: counter name, 1 to IDN_COUNTER_MAX_NAME bytes, binary
 *              ("ids:88.100.12", "reg:88.100.12:20261201")
 *              value: u64 count (a counter that went back to 0 stays, with 0)
 *              Example, "ids:88.100.12" = 2:
 *                key   6964733a38382e3130302e3132   value 00000000 00000002
 *
 *   "outbox"   (added within schema 2: code that does not know it ignores it,
 *              so the version stays 2; see outbox.c)
 *              key: u64 sequence number, 1, 2, 3, ... never reused: entries
 *              are deleted once sent, so the next number is kept in "meta"
 *              "outbox-seq" (u64, the last one handed out)
 *              value: one request for the top-level node:
 *                off 0  u8   format, 0x01
 *                off 1  u64  sequence number (same as the key)
 *                off 9  int4 time queued (Unix seconds)
 *                off 13 int4 opcode (100 create, 101 delete, 102 add, ...)
 *                off 17 int4 opflag (0x00400000 = OVRW)
 *                off 21 int4 length + body: the native request body (the
 *                       handle first), without envelope, header or credential
 *              Example, entry 1: delete 0.NA/88.100.12 queued at 0x66000000:
 *                key   00000000 00000001
 *                value 01 0000000000000001 66000000 00000065 00000000
 *                      00000012 0000000e 302e4e412f38382e3130302e3132
 *              Retries are counted in memory, not here: a failed attempt
 *              costs no write.
 *
 * A schema-1 store (without the last three) opened read-write is upgraded in
 * place: the databases are created and "schema" set to 2 in one txn. Opened
 * read-only it is read as having an empty change log, no counters and an
 * empty outbox. Later versions add databases the same way; a change-log or
 * outbox format byte other than 0x01 would be a later layout.
 */

#define REC_FORMAT 0x01
#define REC_HDR 6
#define DEFAULT_MAP_SIZE ((size_t)64 << 30)

int idn_store_map_mdb(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return IDN_OK;
	case MDB_NOTFOUND:
		return IDN_ENOTFOUND;
	case MDB_KEYEXIST:
		return IDN_EEXIST;
	case MDB_MAP_FULL:
	case MDB_TXN_FULL:
		return IDN_EMAPFULL;
	case MDB_READERS_FULL:
		return IDN_EREADERS;
	case MDB_INVALID:
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
		return IDN_ECORRUPT;
	case MDB_VERSION_MISMATCH:
		return IDN_EVERSION;
	case MDB_BAD_VALSIZE:
		return IDN_ELIMIT;
	default:
		if (rc > 0)
			return -rc; /* errno */
		return IDN_ESTORE;
	}
}

/*
 * Every lookup folds its key, and a loop with a branch per byte was 7% of
 * a resolution's instructions; so eight bytes are folded at once. For a byte v
 * below 0x80, v + 0x1f has its top bit set when v >= 'a' (0x61) and v + 0x05
 * when v > 'z' (0x7a); neither sum carries into the next byte. Bytes with
 * the top bit set (UTF-8) are left alone, as in the byte loop.
 */
static inline uint64_t fold8(const uint8_t *in)
{
	uint64_t x;
	memcpy(&x, in, 8);
	uint64_t v = x & 0x7f7f7f7f7f7f7f7fULL;
	uint64_t lower = (v + 0x1f1f1f1f1f1f1f1fULL) & ~(v + 0x0505050505050505ULL) & ~x &
			 0x8080808080808080ULL;
	return x - (lower >> 2); /* 0x80 >> 2 = 0x20 off each lower-case byte */
}

void idn_handle_fold(const uint8_t *in, size_t len, uint8_t *out)
{
	if (len < 8) {
		for (size_t i = 0; i < len; i++) {
			uint8_t c = in[i];
			out[i] = (c >= 'a' && c <= 'z') ? (uint8_t)(c - 32) : c;
		}
		return;
	}
	/* The last word overlaps the one before it: folding is idempotent, so
	 * bytes folded twice (even with in == out) come out the same. */
	uint64_t x;
	for (size_t i = 0; i < len - 8; i += 8) {
		x = fold8(in + i);
		memcpy(out + i, &x, 8);
	}
	x = fold8(in + len - 8);
	memcpy(out + len - 8, &x, 8);
}

/*
 * The reader cache's key hash, computed while folding (the same words):
 * multiply-xor per eight bytes, then a finaliser so that both the low bits
 * (the set) and the high ones (the tag) depend on every byte. It is a
 * function of the folded key and its length only. Not keyed: colliding
 * handles only fall back to the B-tree.
 */
#define HASH_K1 0x9e3779b97f4a7c15ULL
#define HASH_K2 0xff51afd7ed558ccdULL

static inline uint64_t hash_word(uint64_t h, uint64_t x)
{
	return (h ^ x) * HASH_K1;
}

static inline uint64_t fold_hash(const uint8_t *in, size_t len, uint8_t *out)
{
	uint64_t h = (uint64_t)len * HASH_K2, x;
	if (len < 8) {
		uint8_t w[8] = { 0 };
		for (size_t i = 0; i < len; i++) {
			uint8_t c = in[i];
			out[i] = w[i] = (c >= 'a' && c <= 'z') ? (uint8_t)(c - 32) : c;
		}
		memcpy(&x, w, 8);
		h = hash_word(h, x);
	} else {
		for (size_t i = 0; i < len - 8; i += 8) {
			x = fold8(in + i);
			memcpy(out + i, &x, 8);
			h = hash_word(h, x);
		}
		x = fold8(in + len - 8);
		memcpy(out + len - 8, &x, 8);
		h = hash_word(h, x);
	}
	h ^= h >> 33;
	h *= HASH_K2;
	h ^= h >> 29;
	return h;
}

/* The cache's hash of a handle (fold_hash), for the change records. */
static uint64_t key_hash(const uint8_t *handle, size_t len)
{
	uint8_t buf[IDN_STORE_MAX_KEY];
	return len <= IDN_STORE_MAX_KEY ? fold_hash(handle, len, buf) : 0;
}

static void chg_free(idn_store_t *s)
{
	if (s->chg) {
		pthread_mutex_destroy(&s->chg->mu);
		free(s->chg);
		s->chg = NULL;
	}
}

/* Note a changed handle on t's top-level txn (cache.c). */
static void chg_note(idn_txn_t *t, const uint8_t *handle, size_t len)
{
	while (t->parent)
		t = t->parent;
	if (!t->s->chg || t->all_changed)
		return;
	if (t->n_changed == t->cap_changed) {
		uint32_t cap = t->cap_changed ? t->cap_changed * 2 : 64;
		uint64_t *p = cap <= IDN_CHG_TXN_MAX ? realloc(t->changed, cap * sizeof(*p)) : NULL;
		if (!p) {
			t->all_changed = true; /* readers drop everything: always right */
			return;
		}
		t->changed = p;
		t->cap_changed = cap;
	}
	t->changed[t->n_changed++] = key_hash(handle, len);
}

/* Record a top-level txn's changes before it commits (cache.c: why before). */
static void chg_publish(idn_txn_t *t)
{
	idn_chglog_t *c = t->s->chg;
	if (!c)
		return;
	uint32_t n = t->all_changed || t->n_changed > IDN_CHG_HASHES / 4 ? UINT32_MAX : t->n_changed;
	pthread_mutex_lock(&c->mu);
	idn_chg_commit_t *r = &c->commits[c->chead % IDN_CHG_COMMITS];
	r->txnid = mdb_txn_id(t->txn);
	r->start = c->hhead;
	r->n = n;
	if (n != UINT32_MAX)
		for (uint32_t i = 0; i < n; i++)
			c->hashes[c->hhead++ % IDN_CHG_HASHES] = t->changed[i];
	c->chead++;
	pthread_mutex_unlock(&c->mu);
}

/* Begin a transaction, clearing stale reader slots once if the table is full
 * (LMDB's documented remedy for readers left behind by dead processes). */
int idn_store_txn_begin(idn_store_t *s, unsigned flags, MDB_txn **txn)
{
	int rc = mdb_txn_begin(s->env, NULL, flags, txn);
	if (rc == MDB_READERS_FULL) {
		int dead = 0;
		mdb_reader_check(s->env, &dead);
		rc = mdb_txn_begin(s->env, NULL, flags, txn);
	}
	return map_mdb(rc);
}

/* Open a schema-2 database; on a read-only open of an older store it may be
 * missing, which reads treat as empty. */
static int open_opt_db(idn_store_t *s, MDB_txn *txn, const char *name, MDB_dbi *dbi, bool *has)
{
	int rc = mdb_dbi_open(txn, name, s->read_only ? 0 : MDB_CREATE, dbi);
	*has = rc == MDB_SUCCESS;
	return rc == MDB_NOTFOUND && s->read_only ? MDB_SUCCESS : rc;
}

/* Open the databases and check the schema. A read-write open creates what a
 * fresh or older store lacks and records the current schema version (the
 * upgrade from 1 to 2 only adds databases, so it is done in place). */
static int open_dbs(idn_store_t *s)
{
	MDB_txn *txn;
	unsigned dbflags = s->read_only ? 0 : MDB_CREATE;
	int ret = idn_store_txn_begin(s, s->read_only ? MDB_RDONLY : 0, &txn);
	if (ret)
		return ret;
	int rc = mdb_dbi_open(txn, "meta", dbflags, &s->meta);
	if (!rc)
		rc = mdb_dbi_open(txn, "handles", dbflags, &s->handles);
	if (!rc)
		rc = mdb_dbi_open(txn, "nas", dbflags, &s->nas);
	if (rc) {
		mdb_txn_abort(txn);
		/* A read-only open of a store that was never written. */
		return rc == MDB_NOTFOUND ? IDN_ENOENT : map_mdb(rc);
	}

	MDB_val k = { 6, "schema" }, v;
	uint32_t have = 0;
	rc = mdb_get(txn, s->meta, &k, &v);
	if (rc == MDB_SUCCESS) {
		if (v.mv_size != 4)
			rc = MDB_CORRUPTED;
		else if ((have = idn_get_be32(v.mv_data)) > IDN_STORE_SCHEMA) {
			mdb_txn_abort(txn);
			return IDN_EVERSION;
		}
	} else if (rc == MDB_NOTFOUND) {
		rc = MDB_SUCCESS;
	}
	if (!rc)
		rc = open_opt_db(s, txn, "changelog", &s->changelog, &s->has_changelog);
	if (!rc)
		rc = open_opt_db(s, txn, "counters", &s->counters, &s->has_counters);
	if (!rc)
		rc = open_opt_db(s, txn, "outbox", &s->outbox, &s->has_outbox);
	if (!rc && !s->read_only && have < IDN_STORE_SCHEMA) {
		uint8_t ver[4];
		idn_put_be32(ver, IDN_STORE_SCHEMA);
		v.mv_size = 4;
		v.mv_data = ver;
		rc = mdb_put(txn, s->meta, &k, &v, 0);
	}
	if (rc) {
		mdb_txn_abort(txn);
		return map_mdb(rc);
	}
	return map_mdb(mdb_txn_commit(txn));
}

/* A data.mdb shorter than the pages its meta page says are in use was cut
 * (a full disk during a copy, a bad restore): the map would raise SIGBUS
 * on the first read past the end, so such a store is refused as corrupt. */
static int check_size(idn_store_t *s)
{
	MDB_envinfo info;
	MDB_stat st;
	int fd;
	struct stat fst;
	if (mdb_env_info(s->env, &info) || mdb_env_stat(s->env, &st) ||
	    mdb_env_get_fd(s->env, &fd) || fstat(fd, &fst) != 0)
		return IDN_ESTORE;
	if (!S_ISREG(fst.st_mode))
		return IDN_ECORRUPT;
	if ((uint64_t)fst.st_size < ((uint64_t)info.me_last_pgno + 1) * st.ms_psize)
		return IDN_ECORRUPT;
	return IDN_OK;
}

int idn_store_open(const char *dir, const idn_store_opts_t *opts, idn_store_t **out)
{
	idn_store_opts_t def = { 0 };
	if (!opts)
		opts = &def;
	*out = NULL;
	if (!opts->read_only && mkdir(dir, 0750) != 0 && errno != EEXIST)
		return -errno;

	idn_store_t *s = calloc(1, sizeof(*s));
	if (!s)
		return IDN_ENOMEM;
	s->read_only = opts->read_only;
	s->reader_cache_entries = opts->reader_cache_entries;
	/* Change records only matter where this process writes and reads. */
	if (!opts->read_only && opts->reader_cache_entries) {
		s->chg = calloc(1, sizeof(*s->chg));
		if (s->chg && pthread_mutex_init(&s->chg->mu, NULL) != 0) {
			free(s->chg);
			s->chg = NULL;
		}
	}

	int ret = map_mdb(mdb_env_create(&s->env));
	if (ret)
		goto fail;
	mdb_env_set_maxdbs(s->env, 16);
	mdb_env_set_mapsize(s->env, opts->map_size ? opts->map_size : DEFAULT_MAP_SIZE);
	mdb_env_set_maxreaders(s->env, opts->max_readers ? opts->max_readers : 126);

	/* NOTLS: readers belong to idn_reader_t objects, not threads.
	 * NORDAHEAD: lookups are random; read-ahead only evicts useful pages. */
	unsigned flags = MDB_NOTLS | MDB_NORDAHEAD;
	if (opts->read_only)
		flags |= MDB_RDONLY;
	if (opts->nosync)
		flags |= MDB_NOSYNC;
	int rc = mdb_env_open(s->env, dir, flags, 0640);
	if (rc) {
		ret = map_mdb(rc);
		goto fail;
	}
	ret = check_size(s);
	if (ret == IDN_OK)
		ret = open_dbs(s);
	if (ret)
		goto fail;
	*out = s;
	return IDN_OK;
fail:
	if (s->env)
		mdb_env_close(s->env);
	chg_free(s);
	free(s);
	return ret;
}

void idn_store_close(idn_store_t *s)
{
	if (!s)
		return;
	mdb_env_sync(s->env, 1);
	mdb_env_close(s->env);
	chg_free(s);
	free(s);
}

int idn_store_backup(idn_store_t *s, const char *dir)
{
	if (mkdir(dir, 0750) != 0 && errno != EEXIST)
		return -errno;
	return map_mdb(mdb_env_copy2(s->env, dir, MDB_CP_COMPACT));
}

/* Every process with the environment open holds a shared fcntl lock on
 * the first byte of lock.mdb (LMDB's liveness lock; the first opener
 * tries it exclusive); a write lock that would conflict names one. */
int idn_store_in_use(const char *dir, long *pid)
{
	char path[PATH_MAX];
	*pid = 0;
	if ((size_t)snprintf(path, sizeof(path), "%s/lock.mdb", dir) >= sizeof(path))
		return IDN_ELIMIT;
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };
	int rc = fcntl(fd, F_GETLK, &fl);
	int e = errno;
	close(fd);
	if (rc != 0)
		return -e;
	if (fl.l_type == F_UNLCK)
		return 0;
	*pid = (long)fl.l_pid;
	return 1;
}

/* LMDB reports a page write the disk cut short as EIO, not ENOSPC: the
 * free space of the store's filesystem tells which it was. */
bool idn_store_disk_full(idn_store_t *s)
{
	const char *path = NULL;
	struct statvfs vs;
	if (mdb_env_get_path(s->env, &path) || !path || statvfs(path, &vs) != 0)
		return false;
	return (uint64_t)vs.f_bavail * vs.f_frsize < IDN_STORE_FULL_BELOW;
}

int idn_store_stat(idn_store_t *s, idn_store_stat_t *st)
{
	MDB_txn *txn;
	int ret = idn_store_txn_begin(s, MDB_RDONLY, &txn);
	if (ret)
		return ret;
	MDB_stat hs, ns;
	MDB_envinfo info;
	int rc = mdb_stat(txn, s->handles, &hs);
	if (!rc)
		rc = mdb_stat(txn, s->nas, &ns);
	if (!rc)
		rc = mdb_env_info(s->env, &info);
	if (!rc) {
		st->handles = hs.ms_entries;
		st->homed = ns.ms_entries;
		st->map_size = info.me_mapsize;
		st->map_used = (uint64_t)(info.me_last_pgno + 1) * hs.ms_psize;
	}
	mdb_txn_abort(txn);
	return map_mdb(rc);
}

/* Parse a stored record; IDN_ECORRUPT when the header is inconsistent. */
static int rec_parse(const MDB_val *v, idn_record_t *rec)
{
	const uint8_t *p = v->mv_data;
	if (v->mv_size < REC_HDR || p[0] != REC_FORMAT)
		return IDN_ECORRUPT;
	rec->flags = p[1];
	rec->count = idn_get_be32(p + 2);
	rec->values.p = p + REC_HDR;
	rec->values.len = (uint32_t)(v->mv_size - REC_HDR);
	if (rec->count > IDN_MAX_VALUES)
		return IDN_ECORRUPT;
	return IDN_OK;
}

/* Fold `handle` into `buf` as an LMDB key. */
static int make_key(const uint8_t *handle, size_t len, uint8_t *buf, MDB_val *k)
{
	if (len == 0 || len > IDN_STORE_MAX_KEY)
		return len == 0 ? IDN_EINVAL : IDN_ELIMIT;
	idn_handle_fold(handle, len, buf);
	k->mv_size = len;
	k->mv_data = buf;
	return IDN_OK;
}

/* ---- read side ---- */

int idn_reader_new(idn_store_t *s, idn_reader_t **out)
{
	return idn_reader_new_cached(s, s->reader_cache_entries, out);
}

int idn_reader_new_cached(idn_store_t *s, uint32_t cache_entries, idn_reader_t **out)
{
	idn_reader_t *r = calloc(1, sizeof(*r));
	if (!r)
		return IDN_ENOMEM;
	r->s = s;
	int ret = idn_store_txn_begin(s, MDB_RDONLY, &r->txn);
	if (ret) {
		free(r);
		return ret;
	}
	/* The cache is only an optimisation: without memory for it, or without
	 * the cursor its misses use, the reader works uncached. */
	if (cache_entries && idn_lkcache_init(&r->cache, cache_entries) == IDN_OK &&
	    r->cache.ents && mdb_cursor_open(r->txn, s->handles, &r->cur) != MDB_SUCCESS) {
		r->cur = NULL;
		idn_lkcache_free(&r->cache);
	}
	mdb_txn_reset(r->txn);
	*out = r;
	return IDN_OK;
}

void idn_reader_free(idn_reader_t *r)
{
	if (!r)
		return;
	/* A read-only txn's cursor must be closed explicitly. */
	if (r->cur)
		mdb_cursor_close(r->cur);
	mdb_txn_abort(r->txn);
	idn_lkcache_free(&r->cache);
	free(r);
}

int idn_reader_begin(idn_reader_t *r)
{
	if (r->active)
		return IDN_OK;
	int rc = mdb_txn_renew(r->txn);
	if (rc == MDB_READERS_FULL) {
		int dead = 0;
		mdb_reader_check(r->s->env, &dead);
		rc = mdb_txn_renew(r->txn);
	}
	r->active = rc == MDB_SUCCESS;
	r->snapshot++;
	if (r->active && r->cache.ents) {
		idn_lkcache_begin(&r->cache, r->s->chg, mdb_txn_id(r->txn));
		r->cur_live = false;
	}
	return map_mdb(rc);
}

uint64_t idn_reader_snapshot(const idn_reader_t *r)
{
	return r->snapshot;
}

void idn_reader_end(idn_reader_t *r)
{
	if (r->active) {
		mdb_txn_reset(r->txn);
		r->active = false;
	}
}

/* A lookup through the reader's cache (storage/cache.c: why its copies
 * are valid). A miss reads with the cursor. */
static int reader_get_cached(idn_reader_t *r, const uint8_t *handle, size_t len,
			     idn_record_t *rec)
{
	uint8_t buf[IDN_STORE_MAX_KEY];
	uint64_t h = fold_hash(handle, len, buf);
	const idn_lkcache_ent_t *e = idn_lkcache_find(&r->cache, buf, len, h);
	MDB_val k = { len, buf }, v;
	if (e) {
		if (!e->found)
			return IDN_ENOTFOUND;
		v.mv_size = e->vlen;
		v.mv_data = (void *)idn_lkcache_val(&r->cache, e);
		return rec_parse(&v, rec);
	}
	int rc;
	if (!r->cur_live) {
		rc = mdb_cursor_renew(r->txn, r->cur);
		if (rc)
			return map_mdb(rc);
		r->cur_live = true;
	}
	rc = mdb_cursor_get(r->cur, &k, &v, MDB_SET_KEY);
	if (rc == MDB_NOTFOUND)
		idn_lkcache_put(&r->cache, h, buf, len, NULL, 0);
	if (rc)
		return map_mdb(rc);
	/* This answer reads the map (valid to the reader's end); later ones
	 * the copy. */
	idn_lkcache_put(&r->cache, h, buf, len, v.mv_data, v.mv_size);
	return rec_parse(&v, rec);
}

void idn_reader_prefetch(idn_reader_t *r, const uint8_t *handle, size_t len, int stage)
{
	if (!r->active || !r->cache.ents || len == 0 || len > IDN_STORE_MAX_KEY)
		return;
	uint8_t buf[IDN_STORE_MAX_KEY];
	idn_lkcache_prefetch(&r->cache, fold_hash(handle, len, buf), stage);
}

int idn_reader_get(idn_reader_t *r, const uint8_t *handle, size_t len, idn_record_t *rec)
{
	uint8_t buf[IDN_STORE_MAX_KEY];
	MDB_val k, v;
	if (!r->active)
		return IDN_EINVAL;
	if (r->cache.ents && len > 0 && len <= IDN_STORE_MAX_KEY)
		return reader_get_cached(r, handle, len, rec);
	int ret = make_key(handle, len, buf, &k);
	if (ret)
		return ret == IDN_ELIMIT ? IDN_ENOTFOUND : ret;
	int rc = mdb_get(r->txn, r->s->handles, &k, &v);
	if (rc)
		return map_mdb(rc);
	return rec_parse(&v, rec);
}

void idn_reader_cache_stat(const idn_reader_t *r, idn_reader_cache_stat_t *st)
{
	const idn_lkcache_t *c = &r->cache;
	memset(st, 0, sizeof(*st));
	if (!c->ents)
		return;
	st->entries = (uint64_t)(c->mask + 1) * 2;
	st->bytes = c->map_len;
	st->hits = c->hits;
	st->misses = c->misses;
	st->drops = c->drops;
}

bool idn_reader_is_homed(idn_reader_t *r, const uint8_t *na, size_t len)
{
	uint8_t buf[IDN_STORE_MAX_KEY];
	MDB_val k, v;
	if (!r->active || make_key(na, len, buf, &k))
		return false;
	return mdb_get(r->txn, r->s->nas, &k, &v) == MDB_SUCCESS;
}

/* ---- write side ---- */

int idn_txn_begin(idn_store_t *s, idn_txn_t **out)
{
	if (s->read_only)
		return IDN_EACCES;
	idn_txn_t *t = calloc(1, sizeof(*t));
	if (!t)
		return IDN_ENOMEM;
	t->s = s;
	int ret = idn_store_txn_begin(s, 0, &t->txn);
	if (ret) {
		free(t);
		return ret;
	}
	*out = t;
	return IDN_OK;
}

int idn_txn_begin_child(idn_txn_t *parent, idn_txn_t **out)
{
	/* A child of a failed txn could never be kept; LMDB allows one child. */
	if (parent->ret)
		return parent->ret;
	if (parent->child || !parent->txn)
		return IDN_EINVAL;
	idn_txn_t *t = calloc(1, sizeof(*t));
	if (!t)
		return IDN_ENOMEM;
	t->s = parent->s;
	int rc = mdb_txn_begin(parent->s->env, parent->txn, 0, &t->txn);
	if (rc) {
		free(t);
		return map_mdb(rc);
	}
	t->parent = parent;
	parent->child = t;
	*out = t;
	return IDN_OK;
}

/* Ending t (commit or abort) in LMDB ends its open descendants too: mark
 * their structs dead so that their own later commit/abort only frees them. */
static void txn_kill_descendants(idn_txn_t *t)
{
	for (idn_txn_t *c = t->child; c; c = c->child) {
		c->txn = NULL;
		if (c->ret == IDN_OK)
			c->ret = IDN_EINVAL;
	}
}

/* Free t and unlink it from its parent and child. */
static void txn_release(idn_txn_t *t)
{
	if (t->parent)
		t->parent->child = NULL;
	if (t->child)
		t->child->parent = NULL;
	free(t->changed);
	free(t);
}

int idn_txn_commit(idn_txn_t *t)
{
	if (t->child) {
		/* Committing over an open child is a caller bug: LMDB would
		 * silently commit the child's changes too. */
		txn_fail(t, IDN_EINVAL);
		txn_kill_descendants(t);
	}
	int ret = t->ret;
	if (t->txn) {
		if (ret) {
			mdb_txn_abort(t->txn);
		} else {
			if (!t->parent)
				chg_publish(t);
			ret = map_mdb(mdb_txn_commit(t->txn));
			/* A child's merge into its parent failed (ENOMEM): the
			 * parent's state is no longer known to be sound. */
			if (ret && t->parent)
				txn_fail(t->parent, ret);
		}
	}
	txn_release(t);
	return ret;
}

void idn_txn_abort(idn_txn_t *t)
{
	if (!t)
		return;
	txn_kill_descendants(t);
	if (t->txn)
		mdb_txn_abort(t->txn);
	txn_release(t);
}

int idn_txn_error(const idn_txn_t *t)
{
	return t->ret;
}

void idn_txn_fail(idn_txn_t *t, int err)
{
	txn_fail(t, err ? err : IDN_EINVAL);
}

int idn_txn_get(idn_txn_t *t, const uint8_t *handle, size_t len, idn_record_t *rec)
{
	uint8_t buf[IDN_STORE_MAX_KEY];
	MDB_val k, v;
	if (txn_check(t))
		return t->ret;
	int ret = make_key(handle, len, buf, &k);
	if (ret)
		return ret;
	int rc = mdb_get(t->txn, t->s->handles, &k, &v);
	if (rc)
		return map_mdb(rc);
	return rec_parse(&v, rec);
}

bool idn_txn_is_homed(idn_txn_t *t, const uint8_t *na, size_t len)
{
	uint8_t buf[IDN_STORE_MAX_KEY];
	MDB_val k, v;
	if (txn_check(t) || make_key(na, len, buf, &k))
		return false;
	return mdb_get(t->txn, t->s->nas, &k, &v) == MDB_SUCCESS;
}

typedef struct {
	uint32_t index;
	uint32_t off, len;
} val_slot_t;

static int slot_cmp(const void *a, const void *b)
{
	uint32_t x = ((const val_slot_t *)a)->index, y = ((const val_slot_t *)b)->index;
	return x < y ? -1 : x > y;
}

void idn_txn_put(idn_txn_t *t, const uint8_t *handle, size_t len,
		 const uint8_t *values, size_t values_len, uint32_t n)
{
	uint8_t buf[IDN_STORE_MAX_KEY];
	MDB_val k, v;
	if (txn_check(t))
		return;
	int ret = make_key(handle, len, buf, &k);
	if (ret || n > IDN_MAX_VALUES || values_len > UINT32_MAX - REC_HDR) {
		txn_fail(t, ret ? ret : IDN_ELIMIT);
		return;
	}

	/* Walk the values once: validate, note each one's index and extent. */
	val_slot_t stack_slots[16];
	val_slot_t *slots = n <= 16 ? stack_slots : malloc(n * sizeof(*slots));
	if (!slots) {
		txn_fail(t, IDN_ENOMEM);
		return;
	}
	idn_wire_t w;
	idn_wire_init_ro(&w, values, values_len);
	uint8_t flags = IDN_REC_ALL_PUBLIC;
	bool sorted = true;
	for (uint32_t i = 0; i < n && !ret; i++) {
		idn_value_t val;
		size_t off = idn_wire_offset(&w);
		ret = idn_value_decode(&w, &val);
		slots[i].index = val.index;
		slots[i].off = (uint32_t)off;
		slots[i].len = (uint32_t)(idn_wire_offset(&w) - off);
		if (!(val.perms & IDN_PERM_PUBLIC_READ))
			flags &= (uint8_t)~IDN_REC_ALL_PUBLIC;
		if (i > 0 && slots[i - 1].index >= val.index)
			sorted = false;
	}
	if (!ret && idn_wire_avail(&w) != 0)
		ret = IDN_EMALF;
	if (!ret && !sorted) {
		qsort(slots, n, sizeof(*slots), slot_cmp);
		for (uint32_t i = 1; i < n; i++)
			if (slots[i - 1].index == slots[i].index)
				ret = IDN_EEXIST;
	}
	if (ret) {
		ret = ret == IDN_EEXIST ? ret : IDN_EMALF;
		goto done;
	}

	/* Reserve the record in place and write it straight into the page. */
	v.mv_size = REC_HDR + values_len;
	chg_note(t, handle, len);
	int rc = mdb_put(t->txn, t->s->handles, &k, &v, MDB_RESERVE);
	if (rc) {
		ret = map_mdb(rc);
		goto done;
	}
	uint8_t *p = v.mv_data;
	p[0] = REC_FORMAT;
	p[1] = flags;
	idn_put_be32(p + 2, n);
	p += REC_HDR;
	if (sorted) {
		memcpy(p, values, values_len);
	} else {
		for (uint32_t i = 0; i < n; i++) {
			memcpy(p, values + slots[i].off, slots[i].len);
			p += slots[i].len;
		}
	}
done:
	if (slots != stack_slots)
		free(slots);
	if (ret)
		txn_fail(t, ret);
}

void idn_txn_del(idn_txn_t *t, const uint8_t *handle, size_t len)
{
	uint8_t buf[IDN_STORE_MAX_KEY];
	MDB_val k;
	if (txn_check(t))
		return;
	int ret = make_key(handle, len, buf, &k);
	if (!ret) {
		chg_note(t, handle, len);
		ret = map_mdb(mdb_del(t->txn, t->s->handles, &k, NULL));
	}
	if (ret)
		txn_fail(t, ret);
}

void idn_txn_home(idn_txn_t *t, const uint8_t *na, size_t len)
{
	uint8_t buf[IDN_STORE_MAX_KEY], val[5];
	MDB_val k, v = { sizeof(val), val };
	if (txn_check(t))
		return;
	int ret = make_key(na, len, buf, &k);
	if (!ret) {
		val[0] = REC_FORMAT;
		idn_put_be32(val + 1, (uint32_t)time(NULL));
		ret = map_mdb(mdb_put(t->txn, t->s->nas, &k, &v, 0));
	}
	if (ret)
		txn_fail(t, ret);
}

void idn_txn_unhome(idn_txn_t *t, const uint8_t *na, size_t len)
{
	uint8_t buf[IDN_STORE_MAX_KEY];
	MDB_val k;
	if (txn_check(t))
		return;
	int ret = make_key(na, len, buf, &k);
	if (!ret)
		ret = map_mdb(mdb_del(t->txn, t->s->nas, &k, NULL));
	if (ret)
		txn_fail(t, ret);
}

void idn_txn_meta_put(idn_txn_t *t, const char *name, const void *val, size_t len)
{
	MDB_val k = { strlen(name), (void *)name }, v = { len, (void *)val };
	if (txn_check(t))
		return;
	int rc = mdb_put(t->txn, t->s->meta, &k, &v, 0);
	if (rc)
		txn_fail(t, map_mdb(rc));
}

int idn_txn_meta_get(idn_txn_t *t, const char *name, idn_bytes_t *val)
{
	MDB_val k = { strlen(name), (void *)name }, v;
	if (txn_check(t))
		return t->ret;
	int rc = mdb_get(t->txn, t->s->meta, &k, &v);
	if (rc)
		return map_mdb(rc);
	val->p = v.mv_data;
	val->len = (uint32_t)v.mv_size;
	return IDN_OK;
}

int idn_store_foreach_homed(idn_store_t *s, int (*cb)(void *arg, idn_bytes_t na), void *arg)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	int ret = idn_store_read_cursor(s, s->nas, &txn, &cur);
	if (ret)
		return ret;
	int rc;
	MDB_val k, v;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		idn_bytes_t na = { k.mv_data, (uint32_t)k.mv_size };
		if (cb(arg, na))
			break;
	}
	return idn_store_read_end(txn, cur, IDN_OK, rc);
}
