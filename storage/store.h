/* store.h - the LMDB store: handle records, homed prefixes, metadata, change log, counters. The only API over lmdb.h. */
#ifndef IDN_STORE_H
#define IDN_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/wire.h"

/*
 * Rules of use (LMDB's caveats, applied):
 * - One idn_store_t per process and data directory; open it before any
 *   fork()-free thread start, close it after every reader and txn is gone.
 * - Readers: each thread that resolves owns one idn_reader_t and brackets
 *   each batch of lookups with idn_reader_begin()/idn_reader_end(). Pointers
 *   returned by lookups point into the LMDB map and are valid only until
 *   idn_reader_end(). Keep batches short: a long-lived read transaction
 *   makes the file grow.
 * - Writers: one write transaction at a time per process (LMDB serialises
 *   them). idn_txn_t latches the first error; idn_txn_commit() aborts when
 *   an error is set and returns it. A write txn may have one child txn at a
 *   time (nested, see idn_txn_begin_child()). Pointers returned by reads in
 *   a write txn are valid until its next write or its end. Commits are durable (fsync) unless the
 *   store was opened with `nosync` (bulk loading only, never for
 *   acknowledged writes).
 * - Handles are stored case-insensitively: keys are the handle with ASCII
 *   a-z folded to upper case (CNRI's default). Callers pass handles as
 *   received; folding is done here.
 * - No MDB_* code leaves this module: errors are idn_error codes
 *   (IDN_EMAPFULL when the map is full, IDN_ENOTFOUND for a missing key).
 */

/* Longest storable handle: LMDB's default maximum key size. */
#define IDN_STORE_MAX_KEY 511

typedef struct idn_store idn_store_t;
typedef struct idn_reader idn_reader_t;
typedef struct idn_txn idn_txn_t;

typedef struct {
	size_t map_size;        /* bytes; 0 = default (64 GiB, sparse) */
	unsigned max_readers;   /* 0 = default (126) */
	bool read_only;
	bool nosync;            /* bulk load only: commits not fsynced (synced at close) */
	/* Entries of each reader's lookup cache (32 bytes each, plus 128 bytes
	 * of arena for the copied keys and records; rounded down to a power of
	 * two): a repeated idn_reader_get() of a handle costs a hash probe
	 * instead of a B-tree search, and a commit drops only the entries of
	 * the handles it changed (storage/cache.c). 0 = no cache. Memory is
	 * mapped per reader and resident only as entries are filled. */
	uint32_t reader_cache_entries;
} idn_store_opts_t;

/* The daemon's default (8 MiB of entries + 32 MiB of copies per reader), and
 * the largest cache accepted (larger values are clamped). */
#define IDN_READER_CACHE_DEFAULT (1u << 18)
#define IDN_READER_CACHE_MAX (1u << 24)

/* Open (creating if needed) the store in directory `dir` (created too).
 * IDN_EVERSION when the on-disk schema is newer than this code;
 * IDN_ECORRUPT when the files are not a readable store. */
int idn_store_open(const char *dir, const idn_store_opts_t *opts, idn_store_t **out);
void idn_store_close(idn_store_t *s);

/* Copy the environment to `dir` with compaction (consistent snapshot). */
int idn_store_backup(idn_store_t *s, const char *dir);

/* Is the store in `dir` open in another process (a running idnoded)?
 * 1 (with *pid, one of them), 0 (or no store there), -errno. For tools that
 * must not replace a live store (idnode restore). */
int idn_store_in_use(const char *dir, long *pid);

/* True when the filesystem of the store has less than
 * IDN_STORE_FULL_BELOW bytes free for it: a commit that failed with IDN_EIO
 * then most likely ran out of space (LMDB reports short writes as EIO). */
#define IDN_STORE_FULL_BELOW (256u << 10)
bool idn_store_disk_full(idn_store_t *s);

/* Store statistics. */
typedef struct {
	uint64_t handles;
	uint64_t homed;
	uint64_t map_size;
	uint64_t map_used;
} idn_store_stat_t;
int idn_store_stat(idn_store_t *s, idn_store_stat_t *st);

/* A stored handle record: the values, each in wire form (idn_value_t
 * encoding), back to back in index order. Borrowed; see the rules above. */
#define IDN_REC_ALL_PUBLIC 0x01 /* every value has public read */

typedef struct {
	uint8_t flags;          /* IDN_REC_* */
	uint32_t count;
	idn_bytes_t values;
} idn_record_t;

/* ---- read side ---- */

int idn_reader_new(idn_store_t *s, idn_reader_t **out);
/* The same with its own cache size instead of the store's
 * reader_cache_entries (0 = no cache). */
int idn_reader_new_cached(idn_store_t *s, uint32_t cache_entries, idn_reader_t **out);
void idn_reader_free(idn_reader_t *r);
int idn_reader_begin(idn_reader_t *r);
void idn_reader_end(idn_reader_t *r);
/* Changes with every idn_reader_begin(): answers derived from the store may
 * be cached by callers for as long as this value stays the same. */
uint64_t idn_reader_snapshot(const idn_reader_t *r);

/* Look up a handle. IDN_ENOTFOUND if absent; IDN_ECORRUPT if the stored
 * value does not decode. Answered from the reader's cache (see
 * reader_cache_entries) when the same handle was looked up before and not
 * changed since; the results are the same either way. The record stays
 * valid until idn_reader_end(). */
int idn_reader_get(idn_reader_t *r, const uint8_t *handle, size_t len, idn_record_t *rec);

/* Hints for a lookup about to come (a pipelined request behind the one
 * being answered), so its memory is fetched while this one is answered;
 * they change nothing and may be skipped. Stage 1 fetches the handle's
 * cache set; stage 2, a request or so later when the set has arrived,
 * fetches the cached key and record. Inside a begun reader. */
void idn_reader_prefetch(idn_reader_t *r, const uint8_t *handle, size_t len, int stage);

/* The reader's cache: its size and what it did since idn_reader_new(). */
typedef struct {
	uint64_t entries;       /* 0 = no cache */
	uint64_t bytes;         /* mapped for it (resident only where used) */
	uint64_t hits, misses;  /* idn_reader_get() answered from it / not */
	uint64_t drops;         /* every entry dropped (first begin; commits it could not follow) */
} idn_reader_cache_stat_t;
void idn_reader_cache_stat(const idn_reader_t *r, idn_reader_cache_stat_t *st);

/* True when prefix handle `na` ("0.NA/88.100", any case) is homed here. */
bool idn_reader_is_homed(idn_reader_t *r, const uint8_t *na, size_t len);

/* ---- write side ---- */

int idn_txn_begin(idn_store_t *s, idn_txn_t **out);
int idn_txn_commit(idn_txn_t *t);   /* frees t, returns its first error */
void idn_txn_abort(idn_txn_t *t);   /* frees t */
int idn_txn_error(const idn_txn_t *t);
/* Latch err (IDN_EINVAL for 0) unless an error is latched already: a caller
 * that cannot finish its part of the txn makes sure it does not commit. */
void idn_txn_fail(idn_txn_t *t, int err);

/* Begin a nested txn inside `parent` (LMDB nested txn). The child sees the
 * parent's writes and has its own latched error. idn_txn_commit() of the
 * child merges its changes into the parent (they become durable only when
 * the top-level txn commits); idn_txn_abort() of the child, or a commit with
 * an error latched, discards only the child's changes and leaves the parent
 * usable. While the child is open the parent must not be used: any call on
 * it latches IDN_EINVAL in it (and committing it returns IDN_EINVAL after
 * aborting everything; the child's struct then still has to be freed with
 * idn_txn_abort()). A child may have a child of its own. Errors: the
 * parent's latched error; IDN_EINVAL when it already has an open child.
 * The registry runs each request in a child so a failed request changes
 * nothing while the group commit goes on. */
int idn_txn_begin_child(idn_txn_t *parent, idn_txn_t **out);

/* Read inside a write transaction (sees its own writes). */
int idn_txn_get(idn_txn_t *t, const uint8_t *handle, size_t len, idn_record_t *rec);

/* Store `n` values (wire form back to back in `values`) under `handle`,
 * replacing any record. The values are re-ordered by index here; duplicate
 * indexes are IDN_EEXIST; undecodable values IDN_EMALF. */
void idn_txn_put(idn_txn_t *t, const uint8_t *handle, size_t len,
		 const uint8_t *values, size_t values_len, uint32_t n);
/* Delete a handle; IDN_ENOTFOUND (latched) if absent. */
void idn_txn_del(idn_txn_t *t, const uint8_t *handle, size_t len);

/* True when prefix handle `na` is homed, as seen by t (its own writes included). */
bool idn_txn_is_homed(idn_txn_t *t, const uint8_t *na, size_t len);

void idn_txn_home(idn_txn_t *t, const uint8_t *na, size_t len);
void idn_txn_unhome(idn_txn_t *t, const uint8_t *na, size_t len);

/* Metadata (small named blobs: site serial, server key, ...). */
void idn_txn_meta_put(idn_txn_t *t, const char *name, const void *val, size_t len);
int idn_txn_meta_get(idn_txn_t *t, const char *name, idn_bytes_t *val);

/* ---- listing handles (OC 105) ---- */

/* Call cb with every stored handle key that starts with `prefix` + '/'
 * (prefix "88.100.12" in any case; keys and so the names given to cb are
 * folded upper case), in key order. When alen > 0, start after key `after`
 * (a handle, any case; usually the last one of the previous page). cb
 * returns non-zero to stop. key.p borrows from the map: valid until the
 * reader (or txn) ends. IDN_EINVAL for an empty prefix or a reader not
 * begun; IDN_ELIMIT for alen over IDN_STORE_MAX_KEY. */
int idn_reader_list(idn_reader_t *r, const uint8_t *prefix, size_t plen,
		    const uint8_t *after, size_t alen,
		    int (*cb)(void *arg, idn_bytes_t key), void *arg);
/* The same inside a write txn: sees its own writes; returns t's latched error
 * if any; its own errors are not latched. */
int idn_txn_list(idn_txn_t *t, const uint8_t *prefix, size_t plen,
		 const uint8_t *after, size_t alen,
		 int (*cb)(void *arg, idn_bytes_t key), void *arg);

/* ---- change log ---- */

/* One change-log entry. Decoded entries borrow who/handle/data from the
 * buffer they were decoded from (for idn_store_changes(): the LMDB map,
 * valid only during the callback). */
typedef struct {
	uint64_t seq;       /* 1, 2, 3, ... */
	uint32_t time;      /* Unix seconds */
	uint32_t op;        /* Handle opcode: 100 create ... 104 modify, 300 home, 301 unhome */
	idn_bytes_t who;    /* identity, "300:0.NA/88.100.12" */
	idn_bytes_t handle; /* as given by the client (not folded) */
	idn_bytes_t data;   /* the stored record after the change; empty for a delete */
} idn_change_t;

/* Longest who / handle in an entry. */
#define IDN_CHANGE_MAX_NAME 65535

/* Append `c` to the change log with the next sequence number (c->seq is
 * ignored; c->time 0 means now). The number is the last one in the log as
 * seen by t, plus one: entries of an aborted txn (or child) leave no gap.
 * IDN_ELIMIT (latched) when who or handle is over IDN_CHANGE_MAX_NAME. */
void idn_txn_log(idn_txn_t *t, const idn_change_t *c);
/* Last sequence number as seen by t (its own entries included); 0 when the
 * log is empty or t has an error. */
uint64_t idn_txn_last_seq(idn_txn_t *t);

/* Call cb with every entry whose seq >= from_seq, in sequence order, in one
 * read snapshot; cb returns non-zero to stop. The entry's fields borrow
 * from the map and are valid only during the call. IDN_ECORRUPT when an
 * entry does not decode. */
int idn_store_changes(idn_store_t *s, uint64_t from_seq,
		      int (*cb)(void *arg, const idn_change_t *c), void *arg);
/* Last sequence number in the log, 0 when it is empty. */
int idn_store_last_seq(idn_store_t *s, uint64_t *seq);

/* The stored form of an entry (see the layout at the top of store.c), for
 * shipping entries as they are. idn_change_size() is its length;
 * idn_change_encode() writes exactly that many bytes to out. */
size_t idn_change_size(const idn_change_t *c);
void idn_change_encode(const idn_change_t *c, uint8_t *out);
/* Decode a stored entry; fields borrow from p. IDN_EVERSION for an unknown
 * format byte, IDN_EFEWDATA / IDN_ELIMIT / IDN_EMALF (trailing bytes) for a
 * bad one. */
int idn_change_decode(const uint8_t *p, size_t len, idn_change_t *c);

/* ---- counters ---- */

/* Named unsigned 64-bit counters; names are binary, 1 to
 * IDN_COUNTER_MAX_NAME bytes ("ids:88.100.12", "reg:88.100.12:20261201").
 * An absent counter reads as 0. */
#define IDN_COUNTER_MAX_NAME 200

/* Add delta (may be negative); the result is clamped to 0 .. UINT64_MAX.
 * IDN_EINVAL / IDN_ELIMIT (latched) for an empty / too long name. */
void idn_txn_counter_add(idn_txn_t *t, const void *name, size_t len, int64_t delta);
/* Value as seen by t; 0 when absent or t has an error (a corrupt stored
 * value latches IDN_ECORRUPT). */
uint64_t idn_txn_counter_get(idn_txn_t *t, const void *name, size_t len);
/* Value in the reader's snapshot (0 when absent). IDN_EINVAL when the
 * reader is not begun or the name is empty, IDN_ELIMIT when too long. */
int idn_reader_counter_get(idn_reader_t *r, const void *name, size_t len, uint64_t *out);
/* Call cb with every counter whose name starts with prefix (plen 0: all),
 * in name order, in one read snapshot; cb returns non-zero to stop.
 * name.p borrows from the map, valid only during the call. */
int idn_store_foreach_counter(idn_store_t *s, const void *prefix, size_t plen,
			      int (*cb)(void *arg, idn_bytes_t name, uint64_t value), void *arg);

/* Iterate homed prefixes in key order; cb returns non-zero to stop. */
int idn_store_foreach_homed(idn_store_t *s, int (*cb)(void *arg, idn_bytes_t na), void *arg);

/* ---- outbox to the top-level node ---- */

/* One outbox entry: a native admin request (opcode, opflag, body without
 * envelope, header or credential) waiting to be sent upstream. Decoded
 * entries borrow body from the buffer they were decoded from. */
typedef struct {
	uint64_t seq;       /* 1, 2, 3, ...: never reused, also after the outbox drained */
	uint32_t time;      /* Unix seconds it was queued */
	uint32_t opcode;    /* e.g. 100 create with OVRW, 101 delete, 102 add */
	uint32_t opflag;    /* e.g. IDN_OF_OVRW */
	idn_bytes_t body;
} idn_outbox_entry_t;

/* Longest body of an entry (a whole Handle message at most). */
#define IDN_OUTBOX_MAX_BODY 262144

/* Queue a request in t (so it is sent if and only if t commits). The
 * number is the next one (entries of an aborted txn leave no gap).
 * IDN_ELIMIT (latched) for a body over IDN_OUTBOX_MAX_BODY; IDN_EINVAL on a
 * read-only store without an outbox. */
void idn_txn_outbox_add(idn_txn_t *t, uint32_t opcode, uint32_t opflag, const uint8_t *body,
			size_t len, uint32_t now);
/* Remove entry `seq` (sent); an absent entry is no error. */
void idn_txn_outbox_del(idn_txn_t *t, uint64_t seq);
/* The first entry whose seq > after (after 0: the oldest), its body copied
 * into buf. IDN_ENOTFOUND when there is none; IDN_ESPACE when the body is
 * longer than cap (e->body.len says how long); IDN_ECORRUPT when the entry
 * does not decode. Reads its own snapshot: call from any thread. */
int idn_store_outbox_peek(idn_store_t *s, uint64_t after, idn_outbox_entry_t *e, uint8_t *buf,
			  size_t cap);
/* Entries waiting and the time the oldest was queued (0, 0 when empty). */
int idn_store_outbox_stat(idn_store_t *s, uint64_t *count, uint32_t *oldest_time);

/* The stored form of an entry (layout at the top of store.c), for the fuzz
 * target and tools; the same conventions as idn_change_encode/decode. */
size_t idn_outbox_size(const idn_outbox_entry_t *e);
void idn_outbox_encode(const idn_outbox_entry_t *e, uint8_t *out);
int idn_outbox_decode(const uint8_t *p, size_t len, idn_outbox_entry_t *e);

/* Fold a handle to its storage key (ASCII a-z to A-Z). out must hold len bytes. */
void idn_handle_fold(const uint8_t *in, size_t len, uint8_t *out);

#endif
