/* recurse_int.h - internal: the recursor's state, shared by recurse.c (the steps) and recurse_net.c (UDP/TCP exchanges). */
#ifndef IDN_RECURSE_INT_H
#define IDN_RECURSE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "client/resolve.h"
#include "resolver/query.h"
#include "resolver/recurse.h"

#define RX_MAX_HOPS 8              /* referrals and service handles followed per request */
#define RX_UDP_MAX_ANSWER (64 * 1024) /* larger UDP answers are asked again over TCP */
#define RX_REASM_MAX_BYTES (16u << 20)
#define RX_MAX_TCP 256             /* TCP exchanges at a time */
#define RX_ID_BUCKETS 4096

typedef struct rjob rjob_t;

/* One exchange with one server: a request out, one answer back. */
typedef struct tx {
	struct tx *hnext;          /* the request-id table */
	rjob_t *j;
	bool active;
	uint32_t id;
	struct sockaddr_storage udp, tcp; /* where to ask (ss_family 0 = none) */
	socklen_t udp_len, tcp_len;
	bool upstream;             /* asked at the top: resends rotate through the list */
	bool on_tcp;
	uint8_t *req;
	size_t req_len;
	int tries;
	struct event *timer;       /* UDP resends */
	/* UDP multi-packet answers */
	uint8_t *buf;
	size_t total;
	uint32_t nparts, got;
	uint8_t *seen;
	/* TCP */
	int fd;
	struct event *ev;
	size_t woff, rlen, rcap;
	uint8_t *rbuf;
} tx_t;

enum { ST_PREFIX = 0, ST_HANDLE = 1 };

struct rjob {
	struct idn_recursor *r;
	rjob_t *prev, *next;       /* every job held */
	idn_job_t *job;
	idn_resolve_req_t req;     /* the client's request, borrowing job->req */
	uint8_t key[IDN_STORE_MAX_KEY]; /* the handle, bare prefixes as 0.NA/<p> */
	size_t keylen;
	uint8_t ph[IDN_STORE_MAX_KEY];  /* the prefix (or service) handle being resolved */
	size_t phlen;
	bool via_service;          /* ph is an HS_SERV service handle */
	bool direct;               /* the client asked for a prefix handle itself */
	int stage;
	int hops;
	int next_upstream;
	bool wait_dns;             /* no top address yet: asks when a name resolves */
	struct event *deadline;
	tx_t tx;
};

struct idn_recursor {
	idn_recursor_opts_t o;
	/* the tops: numeric addresses and names (resolved on this thread's
	 * loop, recurse_dns.c); a request rotates through all their addresses */
	up_target_t up[UP_MAX_TARGETS];
	int n_up;
	up_dns_t *dns;
	struct event *dns_ev[UP_DNS_MAX_FDS];
	int n_dns_ev;
	struct event *dns_timer;
	struct event *dns_done;    /* a name resolved: take up the waiting jobs */
	struct event_base *base;
	pthread_t thread;
	bool started;
	int udp4, udp6;
	struct event *udp4_ev, *udp6_ev;
	struct event *wake;
	pthread_mutex_t mu;        /* the submit queue */
	idn_job_t **queue;
	size_t q_len, q_cap;
	atomic_uint inflight;
	rjob_t *jobs;
	tx_t *ids[RX_ID_BUCKETS];
	uint64_t rng;
	size_t reasm_bytes;
	unsigned tcp_count;
	/* the local store: a top answers prefix records from it */
	idn_reader_t *reader;
	idn_query_t lq;
	uint8_t *lbuf;             /* local answers */
	uint8_t rbuf[IDN_UDP_PACKET_MAX + 1];
	uint32_t log_second;
	unsigned log_count;
	_Atomic uint64_t st[7];    /* idn_recursor_stats_t, in order */
};

enum { S_JOBS, S_ANSWERED, S_BUSY, S_TIMEOUTS, S_BAD, S_UPSTREAM, S_PREFIX_HITS };

static inline void rx_count(struct idn_recursor *r, int i)
{
	atomic_fetch_add_explicit(&r->st[i], 1, memory_order_relaxed);
}

/* recurse.c */
/* Take a new request (recursor thread). */
void rjob_begin(struct idn_recursor *r, idn_job_t *job);
/* Answer a job and hand it back (done). */
void job_answer(idn_job_t *job, uint32_t rcode, idn_bytes_t handle, const uint8_t *vals,
		size_t vlen, const char *text);
void rx_log(struct idn_recursor *r, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* An answer (envelope + message, len bytes, borrowed) for j's exchange. */
void rx_answer(rjob_t *j, const uint8_t *msg, size_t len);
/* The exchange failed (unreachable, timed out, bad answer): `why` is logged. */
void rx_failed(rjob_t *j, const char *why);

/* Ask j's prefix handle at the top (its next address). */
void rx_ask_upstream(rjob_t *j);

/* recurse_dns.c */
int rx_parse_upstream(struct idn_recursor *r, const char *list);
int dns_setup(struct idn_recursor *r);
void dns_teardown(struct idn_recursor *r);
/* Start resolving the names whose addresses expired (the old ones are
 * used meanwhile). */
void dns_refresh(struct idn_recursor *r);
/* How many top addresses there are now, over all configured upstreams. */
int rx_upstream_count(struct idn_recursor *r);
/* Point t at the next top address for j (false: none known yet). */
bool rx_next_upstream(rjob_t *j, tx_t *t);
/* Whether a name is being resolved for the first time (worth waiting for). */
bool dns_pending(struct idn_recursor *r);

/* recurse_net.c */
int net_setup(struct idn_recursor *r);
void net_teardown(struct idn_recursor *r);
/* Ask: j->tx.udp/tcp set, the request (req, len, with its RequestId at
 * bytes 8-11 to be overwritten) is copied. Answers come to rx_answer. */
void tx_start(rjob_t *j, const uint8_t *req, size_t len);
void tx_cancel(tx_t *t);

#endif
