/* store.h - the LMDB store: handle records, homed prefixes, metadata. The only API over lmdb.h. */
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
 *   an error is set and returns it. Commits are durable (fsync) unless the
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
} idn_store_opts_t;

/* Open (creating if needed) the store in directory `dir` (created too).
 * IDN_EVERSION when the on-disk schema is newer than this code;
 * IDN_ECORRUPT when the files are not a readable store. */
int idn_store_open(const char *dir, const idn_store_opts_t *opts, idn_store_t **out);
void idn_store_close(idn_store_t *s);

/* Copy the environment to `dir` with compaction (consistent snapshot). */
int idn_store_backup(idn_store_t *s, const char *dir);

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
void idn_reader_free(idn_reader_t *r);
int idn_reader_begin(idn_reader_t *r);
void idn_reader_end(idn_reader_t *r);
/* Changes with every idn_reader_begin(): answers derived from the store may
 * be cached by callers for as long as this value stays the same. */
uint64_t idn_reader_snapshot(const idn_reader_t *r);

/* Look up a handle. IDN_ENOTFOUND if absent; IDN_ECORRUPT if the stored
 * value does not decode. */
int idn_reader_get(idn_reader_t *r, const uint8_t *handle, size_t len, idn_record_t *rec);

/* True when prefix handle `na` ("0.NA/88.100", any case) is homed here. */
bool idn_reader_is_homed(idn_reader_t *r, const uint8_t *na, size_t len);

/* ---- write side ---- */

int idn_txn_begin(idn_store_t *s, idn_txn_t **out);
int idn_txn_commit(idn_txn_t *t);   /* frees t, returns its first error */
void idn_txn_abort(idn_txn_t *t);   /* frees t */
int idn_txn_error(const idn_txn_t *t);

/* Read inside a write transaction (sees its own writes). */
int idn_txn_get(idn_txn_t *t, const uint8_t *handle, size_t len, idn_record_t *rec);

/* Store `n` values (wire form back to back in `values`) under `handle`,
 * replacing any record. The values are re-ordered by index here; duplicate
 * indexes are IDN_EEXIST; undecodable values IDN_EMALF. */
void idn_txn_put(idn_txn_t *t, const uint8_t *handle, size_t len,
		 const uint8_t *values, size_t values_len, uint32_t n);
/* Delete a handle; IDN_ENOTFOUND (latched) if absent. */
void idn_txn_del(idn_txn_t *t, const uint8_t *handle, size_t len);

void idn_txn_home(idn_txn_t *t, const uint8_t *na, size_t len);
void idn_txn_unhome(idn_txn_t *t, const uint8_t *na, size_t len);

/* Metadata (small named blobs: site serial, server key, ...). */
void idn_txn_meta_put(idn_txn_t *t, const char *name, const void *val, size_t len);
int idn_txn_meta_get(idn_txn_t *t, const char *name, idn_bytes_t *val);

/* Iterate homed prefixes in key order; cb returns non-zero to stop. */
int idn_store_foreach_homed(idn_store_t *s, int (*cb)(void *arg, idn_bytes_t na), void *arg);

/* Fold a handle to its storage key (ASCII a-z to A-Z). out must hold len bytes. */
void idn_handle_fold(const uint8_t *in, size_t len, uint8_t *out);

#endif
