/* recurse.h - the recursor: resolves foreign handles through the top (prefix records, referrals, the responsible node) on its own thread. */
#ifndef IDN_RECURSE_H
#define IDN_RECURSE_H

#include <stdint.h>

#include "proto/op.h"
#include "resolver/rcache.h"
#include "resolver/server.h"
#include "storage/store.h"

/*
 * Rules of use:
 * - The listeners hand it OC 1 requests for handles not served here (REC
 *   set) through the dispatch table from idn_recursor_dispatch(); the
 *   warm-cache answers never get here (the query step answers them from the
 *   same cache).
 * - It runs on its own thread with its own libevent base and non-blocking
 *   sockets, so a slow or dead upstream never holds a worker.
 * - Per request: the prefix record 0.NA/<prefix> from the cache, else from
 *   the local store (a top holds them), else from the upstream (the top),
 *   following RC 303 referrals (bounded hops); then the handle itself from
 *   the server its HS_SITE names (idn_site_server_index), over UDP, or TCP
 *   when the site has no UDP interface or the answer is too big for it.
 * - Bounded: at most max_inflight requests at a time (more get RC 3),
 *   bounded reassembly and TCP buffers, a deadline per request (RC 2).
 * - Shut down in the server's order: idn_server_stop, idn_recursor_stop
 *   (answers what it holds with RC 2), idn_server_free, idn_recursor_free.
 * - It logs only through opts->log, at most 5 lines a second.
 */

typedef struct idn_recursor idn_recursor_t;

typedef struct {
	idn_store_t *store;
	const idn_server_info_t *info;
	/* The top: "HOST:PORT[,HOST:PORT...]", numeric addresses (port
	 * default 2641) or names (resolved with c-ares on the recursor's
	 * loop, again when their TTL ends; every address of every entry is
	 * tried in turn); empty = only what the local store holds. */
	const char *upstream;
	idn_rcc_t *cache;             /* required; shared with the workers */
	int timeout_ms;               /* whole recursion; 0 = 3000 */
	uint32_t negative_ttl;        /* seconds RC 100/200 are kept; 0 = not cached */
	uint32_t max_ttl;             /* cap on cached TTLs; 0 = 86400 */
	unsigned max_inflight;        /* 0 = 10000 */
	idn_log_fn log;
} idn_recursor_opts_t;

typedef struct {
	uint64_t jobs, answered, busy, timeouts, bad_answers, upstream_queries, prefix_hits;
} idn_recursor_stats_t;

/* IDN_EINVAL for a bad upstream list or a missing cache, IDN_ENOMEM, -errno. */
int idn_recursor_new(const idn_recursor_opts_t *o, idn_recursor_t **out);
int idn_recursor_start(idn_recursor_t *r);
void idn_recursor_stop(idn_recursor_t *r);
void idn_recursor_free(idn_recursor_t *r);
/* Fill a dispatch table whose submit() hands jobs to r. */
void idn_recursor_dispatch(idn_recursor_t *r, idn_dispatch_t *d);
void idn_recursor_stats(idn_recursor_t *r, idn_recursor_stats_t *st);

#endif
