/* http.h - the HTTP(S) listeners: CNRI's JSON API (/api/...), the handle proxy and the node's pages, on libevent's evhttp. */
#ifndef IDN_HTTP_H
#define IDN_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "proto/op.h"
#include "resolver/query.h"
#include "resolver/server.h"
#include "storage/store.h"

/*
 * Rules of use:
 * - Same life cycle as idn_server_t: idn_http_new() binds every socket and
 *   loads the TLS certificate (so a busy port or a bad key is reported
 *   before any thread starts), idn_http_start() starts the threads, stop
 *   joins them, free releases everything. Call them from one thread.
 * - Each thread has its own event base, its own SO_REUSEPORT sockets (one
 *   for HTTP, one for HTTPS) with an evhttp on each, its own store reader
 *   and its own query step (transport IDN_TR_HTTP): resolution and site
 *   info run through the same idn_query_consume/produce as the native
 *   listeners; every other operation is an idn_job_t for opts->dispatch,
 *   the same table the native listeners use (one registry, one code path).
 * - Shut down as for the native server: idn_http_stop(), then stop the
 *   dispatch handler (jobs it still holds come back and are only queued),
 *   then idn_http_free() (answers them 503 and frees them).
 * - The store, the server info and the dispatch table outlive the server.
 * - The server never logs by itself: it calls opts->log (may be NULL).
 */

typedef struct idn_http idn_http_t;
struct idn_metrics;            /* resolver/metrics.h */

/* The node's volumes for its pages (/node, /api/node), filled by the daemon:
 * what the policy thresholds are measured on. Days are in the node's
 * utc-offset. Resolution counts are since the daemon started (persisted
 * per-day counters come later). */
typedef struct {
	char node_prefix[64];
	char site_address[80];       /* native HOST:PORT of the site record */
	int64_t started;             /* Unix seconds */
	int64_t now;
	int utc_offset;              /* minutes east of UTC */
	char today[9];               /* YYYYMMDD in that offset */
	uint64_t resolutions;        /* since start, native + HTTP */
	uint64_t resolutions_today;  /* since the later of start and midnight, or the
				      * persisted day count when `today_persisted` */
	bool today_persisted;        /* resolutions_today survives restarts */
	uint64_t registrations_today;  /* counter regday:<today> */
	uint64_t registrations_year;   /* sum of regday:<YYYY>* */
	uint64_t enterprises;        /* 0.NA/<node-prefix>.* handles */
	uint64_t identifiers;        /* handles stored, prefix handles left out */
} idn_volumes_t;

typedef struct {
	/* "HOST:PORT" ([V6]:PORT); port 0 = ephemeral. NULL = the default
	 * (127.0.0.1:8000 and 127.0.0.1:8443), "" = that listener is off. */
	const char *listen;          /* plain HTTP */
	const char *tls_listen;      /* HTTPS, TLS 1.2 or newer only */
	const char *cert_path;       /* PEM certificate (chain) for HTTPS */
	const char *key_path;        /* PEM private key for HTTPS */
	int threads;                 /* >= 1 (0 = 1) */
	size_t max_body;             /* request body bytes (0 = 16 MiB); over: 413 */
	size_t max_headers;          /* request line + headers bytes (0 = 64 KiB) */
	int timeout;                 /* seconds to read a request / write an answer (0 = 30) */
	/* Per source address and thread, as the native listeners (0 = off):
	 * GET/HEAD count as resolutions, other methods as writes; over the
	 * rate: 429 {"responseCode":603,"message":"Request rate limit exceeded"}. */
	int rate_limit, rate_burst, write_rate_limit, write_rate_burst;
	idn_store_t *store;
	const idn_server_info_t *info;
	const idn_dispatch_t *dispatch; /* operations other than OC 1/2; NULL = RC 5 */
	idn_log_fn log;
	/* The node page's figures (called on an HTTP thread, any of them;
	 * NULL = the page shows what the HTTP threads know alone). */
	void (*volumes)(void *arg, idn_volumes_t *out);
	void *volumes_arg;
	/* GET /metrics: the node's counters (resolver/metrics.h), called on an
	 * HTTP thread; NULL = only what the HTTP threads count themselves. */
	void (*metrics)(void *arg, struct idn_metrics *out);
	void *metrics_arg;
} idn_http_opts_t;

/* Errors: negative errno (e.g. -EADDRINUSE), IDN_EINVAL for a bad address
 * or options, IDN_ECRYPTO when the certificate or key does not load (or do
 * not match), IDN_ENOENT when HTTPS is on without both paths. */
int idn_http_new(const idn_http_opts_t *opts, idn_http_t **out);
int idn_http_start(idn_http_t *h);
/* Stop accepting, leave the loops between callbacks, join the threads. */
void idn_http_stop(idn_http_t *h);
void idn_http_free(idn_http_t *h);

/* Config reload: the threads answer with `info` from their next callback
 * on; as idn_server_set_live() (IDN_OK once every thread switched,
 * IDN_ETIMEDOUT: keep the old info alive). NULL h: nothing to do. */
int idn_http_set_info(idn_http_t *h, const idn_server_info_t *info, int timeout_ms);

/* Ports actually bound (useful with port 0); 0 when that listener is off. */
uint16_t idn_http_port(const idn_http_t *h);
uint16_t idn_http_tls_port(const idn_http_t *h);

/* Sum of the HTTP threads' query counters (approximate while running). */
void idn_http_stats(idn_http_t *h, idn_query_stats_t *sum);

#endif
