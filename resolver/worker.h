/* worker.h - internal: one listener worker (event base, sockets, buffers) shared by udp.c, tcp.c and server.c. */
#ifndef IDN_WORKER_H
#define IDN_WORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "resolver/ratelimit.h"
#include "resolver/server.h"

#define UDP_BATCH 32            /* datagrams per recvmmsg/sendmmsg */
#define UDP_TX_SLOTS 128        /* datagrams queued before a sendmmsg */
#define UDP_ARENA (UDP_TX_SLOTS * IDN_UDP_PACKET_MAX)
#define UDP_ROUNDS 16           /* recvmmsg rounds per event before yielding */
#define REASM_SLOTS 64          /* multi-packet UDP requests in progress */
#define REASM_MAX_BYTES (8u << 20)
/* Room for the largest message plus the response overheads. */
#define SCRATCH_LEN (IDN_MAX_MESSAGE_LEN + 4096)

typedef struct {
	struct sockaddr_storage from;
	socklen_t fromlen;
	uint32_t request_id;
	uint32_t total;           /* MessageLength */
	uint32_t nparts, got;
	uint32_t deadline;        /* Unix seconds */
	uint8_t *buf;             /* envelope + message */
	uint8_t *seen;            /* one byte per part */
} reasm_t;

/* idn_query_stats_t is all uint64_t: published as that many words. */
#define IDN_QSTATS_WORDS (sizeof(idn_query_stats_t) / sizeof(uint64_t))
_Static_assert(sizeof(idn_query_stats_t) % sizeof(uint64_t) == 0, "stats are uint64_t words");

typedef struct worker {
	struct idn_server *srv;
	int id;
	pthread_t thread;
	struct event_base *base;

	idn_reader_t *reader;
	idn_query_t q;            /* shared by UDP and TCP: one request at a time */
	uint8_t *scratch;         /* SCRATCH_LEN bytes: one response being built */

	/* UDP */
	int udp_fd;
	struct event *udp_ev;
	struct mmsghdr rx[UDP_BATCH];
	struct iovec rx_iov[UDP_BATCH];
	struct sockaddr_storage rx_addr[UDP_BATCH];
	uint8_t rx_buf[UDP_BATCH][IDN_UDP_PACKET_MAX + 1];
	struct mmsghdr tx[UDP_TX_SLOTS];
	struct iovec tx_iov[UDP_TX_SLOTS];
	struct sockaddr_storage tx_addr[UDP_TX_SLOTS];
	uint8_t *arena;           /* UDP_ARENA bytes of queued datagrams */
	unsigned ntx;
	size_t arena_used;
	reasm_t reasm[REASM_SLOTS];
	size_t reasm_bytes;

	/* TCP */
	int tcp_fd;
	struct evconnlistener *listener;
	int tcp_conns;
	struct conn *conns;
	struct event *sweep;      /* idle-connection sweep, once a second */

	/* Jobs answered by the dispatch handler, from any thread: queued under
	 * done_mu and handled on this worker's thread by done_ev (event_active
	 * is thread-safe with evthread_use_pthreads). */
	pthread_mutex_t done_mu;
	bool done_mu_ok;
	bool jobs_stopped;        /* the loop is gone: queue, do not wake it */
	struct pending *done_head, *done_tail;
	struct event *done_ev;

	/* Shutdown (idn_server_quiesce): no accepting, no reading; what was
	 * read is answered, then drained connections close. `drained` is
	 * published for the stopping thread. jobs_out: jobs (TCP and UDP)
	 * handed to a dispatch table and not back yet. */
	bool quiescing;
	int idle_timeout;         /* seconds; changed by idn_server_set_live() */
	struct event *quiesce_ev;
	_Atomic int drained;
	unsigned jobs_out;

	/* rate-limited logging of bad input */
	uint32_t log_second;
	unsigned log_count;
	uint64_t log_suppressed;

	/* abuse limits: this worker's per-source buckets (NULL = off) and its
	 * per-batch clock for them (monotonic microseconds) */
	idn_ratelimit_t *rl;
	uint64_t now_us;

	/* counters published for idn_server_stats(): idn_query_stats_t word by word */
	_Atomic uint64_t pub[IDN_QSTATS_WORDS];
} worker_t;

struct idn_server {
	idn_server_opts_t opts;
	struct sockaddr_storage addr;
	unsigned addrlen;
	uint16_t port;
	int nworkers;
	worker_t **workers;
	bool started;
	idn_connlimit_t *conns;   /* TCP connections per address and in total, all workers */
};

void srv_log(struct idn_server *s, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Log a bad-input event, at most a few per second per worker. */
void worker_log_bad(worker_t *w, const struct sockaddr *from, const char *what);
void worker_publish(worker_t *w);

/* The clock of the rate limits, read once per batch. */
static inline uint64_t worker_clock_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/*
 * Requests come in batches (a recvmmsg, a pipelining client's read), each
 * for a random handle, so each lookup would wait for memory: its cache set,
 * then the record in the map. The loops over a batch hint the lookups ahead
 * instead: stage 1 for the request two behind the one being answered
 * (fetch its cache set), stage 2 for the next one (its set arrived a
 * request ago: fetch the record). A hint changes nothing.
 */
static inline void worker_prefetch(worker_t *w, const uint8_t *msg, size_t len, int stage)
{
	idn_bytes_t h;
	if (idn_msg_peek_resolve_handle(msg, len, &h))
		idn_reader_prefetch(w->reader, h.p, h.len, stage);
}

int udp_setup(worker_t *w);
void udp_teardown(worker_t *w);
int tcp_setup(worker_t *w);
void tcp_teardown(worker_t *w);
/* Tell the completion queue whether the worker's loop runs (done() after
 * a stop only queues the job; idn_server_free() frees it). */
void jobs_set_stopped(worker_t *w, bool stopped);
/* tcp.c: stop reading every connection (the worker's thread); then, once
 * a tick, close those with nothing left to answer. True when no connection
 * remains open. */
void tcp_quiesce(worker_t *w);
bool tcp_quiesce_tick(worker_t *w);

#endif
