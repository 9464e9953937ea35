/* rcache.h - the recursion cache: prefix records and relayed answers for their TTL, bounded in bytes, readable from every worker. */
#ifndef IDN_RCC_H
#define IDN_RCC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/msg.h"
#include "proto/respond.h"

/*
 * Rules of use:
 * - Thread-safe: workers read (idn_rcc_get) while the recursor writes
 *   (idn_rcc_put). The table is split into shards, each under its own
 *   read-write lock, so readers of different keys rarely meet.
 * - Bounded: every entry costs its struct, key and data (plus an allowance
 *   for the allocator), counted against max_bytes with the bucket arrays;
 *   a put evicts with CLOCK (a hit sets a bit, the hand clears it or
 *   evicts; expired entries go first) until the new entry fits. An entry
 *   larger than a shard's share is not stored.
 * - Time is passed in (`now`, Unix seconds) by the caller: tests drive it.
 * - Nothing here logs.
 */

typedef struct idn_rcc idn_rcc_t;

/* Largest key (kind, folded handle, filters); longer requests are not cached. */
#define IDN_RCC_MAX_KEY 4096
/* Key kinds: relayed answers and prefix records live apart. */
enum { IDN_RCC_ANSWER = 'A', IDN_RCC_PREFIX = 'P' };

typedef struct {
	uint64_t entries, bytes, max_bytes;
	uint64_t hits, misses, inserts, evictions;
} idn_rcc_stats_t;

/* IDN_EINVAL for max_bytes under 4 KiB; IDN_ENOMEM. */
int idn_rcc_new(size_t max_bytes, idn_rcc_t **out);
void idn_rcc_free(idn_rcc_t *c);

/* Called on a hit with the entry, under the shard's read lock: copy what
 * is needed, do not call back into the cache. */
typedef void (*idn_rcc_fn)(void *arg, uint32_t rcode, const uint8_t *data, size_t len,
			      uint32_t expires);

/* True (after fn ran) when `key` is cached and expires after `now`. */
bool idn_rcc_get(idn_rcc_t *c, const uint8_t *key, size_t klen, uint32_t now,
		    idn_rcc_fn fn, void *arg);

/* Store (or replace) `key` until now + ttl. IDN_ELIMIT when the entry
 * can never fit, IDN_ENOMEM. ttl 0 stores nothing (IDN_OK). */
int idn_rcc_put(idn_rcc_t *c, const uint8_t *key, size_t klen, uint32_t rcode,
		   const uint8_t *data, size_t len, uint32_t now, uint32_t ttl);

void idn_rcc_stats(idn_rcc_t *c, idn_rcc_stats_t *st);

/*
 * The key of a request: kind, the handle with ASCII letters upper-cased
 * (handles are case-insensitive here), then the index and type filters in
 * request order (types folded too). Returns its length, 0 when it does not
 * fit in `cap` (then the request is not cached).
 */
size_t idn_rcc_key(uint8_t *buf, size_t cap, int kind, const uint8_t *handle, size_t hlen,
		      const idn_resolve_req_t *filters);

/*
 * A relayed answer to `req` (a resolution): `rcode`, and for RC 1 the body
 * `handle` (as the client wrote it) followed by `values` (int4 count, then
 * the values). Our AT is cleared (we are not authoritative for it) and the
 * RecursionCount is the request's plus one; everything else as
 * idn_resp_begin()/idn_resp_end() (version, echoed flags, digest, CT
 * signature). Returns out->err. Shared by the query step (cache hits) and
 * the recursor, so both answer alike.
 */
int idn_relay_answer(idn_wire_t *out, const idn_msg_t *req, const idn_resp_ctx_t *ctx,
		     uint32_t rcode, idn_bytes_t handle, const uint8_t *values, size_t vlen,
		     const char *message);

#endif
