/* server.h - the native-protocol listeners: worker threads with UDP and TCP sockets on 2641. */
#ifndef IDN_SERVER_H
#define IDN_SERVER_H

#include <stdarg.h>
#include <stdint.h>
#include <sys/socket.h>

#include "client/addr.h"
#include "resolver/query.h"
#include "storage/store.h"

/*
 * Rules of use:
 * - idn_server_new() binds every socket (so a busy port is reported before
 *   any thread starts); idn_server_start() starts the workers; stop joins
 *   them; free releases everything. Call them from one thread.
 * - Each worker has its own libevent base, its own SO_REUSEPORT UDP and
 *   TCP sockets (the kernel spreads load across them), its own store
 *   reader and its own buffers: workers share nothing but the store and
 *   the read-only server info.
 * - The store and the server info must outlive the server.
 * - The server never logs by itself: it calls opts->log (may be NULL).
 * - opts->dispatch (may be NULL: admin operations get RC 5) receives every
 *   TCP operation other than resolution and site info as an idn_job_t
 *   (proto/op.h); answers go out in request order on each connection.
 *   done() may come from any thread. Shut down in this order: stop the
 *   server (idn_server_stop), then stop the dispatch handler (it calls done
 *   for every job it still holds; done on a stopped server only queues the
 *   job), then free the server (idn_server_free frees the queued jobs and
 *   their answers). The dispatch table must outlive the server.
 */

typedef struct idn_server idn_server_t;

enum { IDN_LOG_ERR = 3, IDN_LOG_WARNING = 4, IDN_LOG_NOTICE = 5, IDN_LOG_INFO = 6,
       IDN_LOG_DEBUG = 7 };

typedef void (*idn_log_fn)(int level, const char *fmt, va_list ap);

typedef struct {
	const char *listen;          /* "HOST:PORT", "[V6]:PORT"; port 0 = ephemeral */
	int workers;                 /* >= 1 */
	int tcp_idle_timeout;        /* seconds a TCP connection may stay silent */
	int tcp_max_conns;           /* per worker */
	int udp_reassembly_timeout;  /* seconds to wait for all parts of a UDP request */
	idn_store_t *store;
	const idn_server_info_t *info;
	idn_log_fn log;
	const idn_dispatch_t *dispatch; /* admin operations; NULL = none */
	/* Recursion: jobs for foreign handles with REC (UDP and TCP) and the
	 * cache the workers answer warm ones from; NULL = answer RC 301. */
	const idn_dispatch_t *recurse;
	struct idn_rcc *rcache;
	/* Abuse limits. Rates: 0 = off (the daemon's defaults are in its
	 * config); the others: 0 = the default named. */
	int rate_limit;              /* resolution requests/s per source (UDP, TCP) */
	int rate_burst;              /* 0 = 2 x rate_limit */
	int write_rate_limit;        /* admin requests/s per source (TCP) */
	int write_rate_burst;        /* 0 = 2 x write_rate_limit */
	int rate_limit_answers;      /* over-limit UDP requests answered RC 603 per second per source */
	int udp_max_answer;          /* largest answer message over UDP (0 = 1968: 4 datagrams) */
	int max_request;             /* largest request MessageLength (0 = IDN_MAX_MESSAGE_LEN) */
	int tcp_max_per_address;     /* TCP connections per source, all workers (0 = 256) */
	int max_connections;         /* TCP connections, all workers (0 = 16384) */
	int tcp_slow_timeout;        /* seconds for a partial request or unread answers (0 = 10) */
} idn_server_opts_t;

/* Bind the sockets and set up the workers. Errors: negative errno
 * (e.g. -EADDRINUSE), IDN_EINVAL for a bad address. */
int idn_server_new(const idn_server_opts_t *opts, idn_server_t **out);
int idn_server_start(idn_server_t *s);
/*
 * Shutdown, first half: every worker closes its TCP listening socket and
 * stops reading UDP and TCP; requests already read are answered (jobs out
 * with the dispatch tables included, so those must still run), the answers
 * written, and connections close once they have nothing more to send.
 * Returns IDN_OK when every worker is done, IDN_ETIMEDOUT after timeout_ms
 * (*left: workers still busy; may be NULL). idn_server_stop() follows
 * either way; a quiesced server is not restarted.
 */
int idn_server_quiesce(idn_server_t *s, int timeout_ms, unsigned *left);
/* Stop accepting, let each worker finish what it has read, join them. */
void idn_server_stop(idn_server_t *s);
void idn_server_free(idn_server_t *s);

/*
 * Configuration reload: what the workers may change while running. Each
 * worker switches between two callbacks, so a request is answered wholly
 * with the old info or wholly with the new one. Returns once every worker
 * has switched (IDN_OK): nothing reads the old info any more (jobs carry
 * copies of what they need). IDN_ETIMEDOUT when some worker did not get to
 * it within timeout_ms: it will, so the old info must then be kept alive.
 */
typedef struct {
	const idn_server_info_t *info;   /* NULL = unchanged */
	int tcp_idle_timeout;            /* seconds; 0 = unchanged */
} idn_server_live_t;
int idn_server_set_live(idn_server_t *s, const idn_server_live_t *live, int timeout_ms);

/* The port actually bound (useful with port 0). */
uint16_t idn_server_port(const idn_server_t *s);

/* Sum of the workers' counters (approximate while running). */
void idn_server_stats(idn_server_t *s, idn_query_stats_t *sum);
/* Open TCP connections, all workers (approximate while running). */
uint64_t idn_server_tcp_conns(idn_server_t *s);

#endif
