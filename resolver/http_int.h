/* http_int.h - internal contract of the HTTP listeners: per-thread state, request context, route tables, reply helpers, jobs. */
#ifndef IDN_HTTP_INT_H
#define IDN_HTTP_INT_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "proto/msg.h"
#include "proto/op.h"
#include "resolver/http.h"

/*
 * The contract between the core (http.c, http_jobs.c, http_reply.c,
 * http_tls.c) and the handler files (http_read.c, http_write.c + the
 * authentication code, http_pages.c):
 *
 * 1. Routing. Each handler file exports one route table, terminated by an
 *    entry with path NULL. http.c tries http_read_routes, http_write_routes,
 *    http_page_routes in that order; the first entry whose path matches
 *    (HTTP_EXACT: the whole path; HTTP_PREFIX: the path starts with it) and
 *    whose methods include the request's is called. A path that matches but
 *    with another method gets 405 RC 4; an unmatched /api path gets 404
 *    {"responseCode":4,"message":"Unknown HTTP API endpoint GET /api/xyz"};
 *    any other unmatched GET/HEAD is the handle proxy (http_proxy(),
 *    http_read.c). GET routes also take HEAD (evhttp drops the body).
 *    OPTIONS (CORS preflight) is answered by the core for every path.
 * 2. A handler gets a http_ctx_t on the thread's stack: valid during the
 *    call only. It must answer exactly once, now (http_reply_*) or later
 *    from a job callback (http_submit). The core adds the CORS header and
 *    honours `pretty` and `callback` (JSONP) for every JSON reply.
 * 3. Threads: a handler runs on its thread's loop and may use t->reader
 *    (begun only inside the core's bracket: call http_reader_begin/end
 *    around reads), t->q (the query step, IDN_TR_HTTP) and t->scratch.
 *    Nothing is shared between threads but the store, the server info, the
 *    dispatch table and the TLS context.
 * 4. Writes and authenticated operations never touch the store: they are
 *    native requests (built with client/admin.h, e.g. idn_build_values_req)
 *    handed to the dispatch table with http_submit() as the identity from
 *    http_identity() (the registry then checks permissions and commits,
 *    exactly as for TCP). Anonymous requests get RC 402 from the registry,
 *    which http_status_for_rc() turns into 401 over HTTPS, 403 over HTTP.
 * 5. Nothing here logs directly: http_log()/http_log_bad() go to opts.log.
 * 6. Errors from the core's own checks (bad percent-encoding, body not JSON,
 *    wrong content type) are answered by the helper that found them; the
 *    helper then returns NULL / a negative value and the handler returns.
 */

#define HTTP_SCRATCH_REQ 8192   /* native request being built */
#define HTTP_SCRATCH_LEN (HTTP_SCRATCH_REQ + IDN_MAX_MESSAGE_LEN + 4096)
#define HTTP_HANDLE_MAX IDN_MAX_HANDLE_LEN
#define HTTP_JOB_USER 512       /* a handler's own bytes carried by a job */

enum { HTTP_PLAIN = 0, HTTP_TLS = 1 };

typedef struct http_thread http_thread_t;
typedef struct http_job http_job_t;

/* One request being handled. */
typedef struct {
	http_thread_t *t;
	struct evhttp_request *req;
	enum evhttp_cmd_type method;
	bool tls;                 /* came in on the HTTPS listener */
	bool replied;
	const char *path;         /* raw path (percent-encoded), never NULL */
	const char *query;        /* raw query string, NULL when none */
	const char *rest;         /* raw path after the matched route's prefix */
	bool pretty;              /* ?pretty */
	char callback[64];        /* JSONP function (sanitised), "" = none */
} http_ctx_t;

typedef void (*http_handler_fn)(http_ctx_t *c);

enum { HTTP_EXACT = 0, HTTP_PREFIX = 1 };

typedef struct {
	unsigned methods;         /* EVHTTP_REQ_* bits */
	const char *path;
	int match;                /* HTTP_EXACT or HTTP_PREFIX */
	http_handler_fn fn;
} http_route_t;

extern const http_route_t http_read_routes[];   /* http_read.c */
extern const http_route_t http_write_routes[];  /* http_write.c */
extern const http_route_t http_page_routes[];   /* http_pages.c */
extern const http_route_t http_metrics_routes[]; /* http_metrics.c: /metrics */

/* http_read.c: GET /{handle} for everything outside /api and the pages. */
void http_proxy(http_ctx_t *c);

/* ---- authentication (http_write.c today, the auth code later) ---- */

/* The identity this request authenticated as (Basic, Handle sessions,
 * client certificate); NULL = anonymous. Never non-NULL over plain HTTP
 * (CNRI: credentials are ignored there). */
const idn_identity_t *http_identity(http_ctx_t *c);
/* Called just before any 401 goes out: add WWW-Authenticate headers. */
void http_auth_challenge(http_ctx_t *c);

/* ---- per-thread state ---- */

struct http_thread {
	struct idn_http *srv;
	int id;
	pthread_t thread;
	struct event_base *base;
	struct evhttp *http[2];   /* [HTTP_PLAIN], [HTTP_TLS]; NULL when off */
	int fd[2];
	idn_reader_t *reader;
	idn_query_t q;            /* transport IDN_TR_HTTP */
	uint8_t *scratch;         /* HTTP_SCRATCH_LEN bytes */
	struct evbuffer *out;     /* reply body being built */
	uint8_t *body_buf;        /* request body copy for parsing, grown as needed */
	struct idn_ratelimit *rl; /* per-source request rates (NULL = off) */
	size_t body_cap;

	/* jobs coming back from the dispatch table (any thread) */
	pthread_mutex_t done_mu;
	bool done_mu_ok;
	bool jobs_stopped;
	http_job_t *done_head, *done_tail;
	struct event *done_ev;
	unsigned outstanding;

	/* rate-limited logging of bad input */
	uint32_t log_second;
	unsigned log_count;
	uint64_t log_suppressed;
};

struct idn_http {
	idn_http_opts_t opts;
	struct sockaddr_storage addr[2];
	unsigned addrlen[2];
	bool on[2];
	uint16_t port[2];
	void *tls_ctx;            /* SSL_CTX, seen only by http_tls.c */
	int nthreads;
	http_thread_t **threads;
	bool started;
};

void http_log(http_thread_t *t, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Bad input from a client, at most 5 lines a second per thread. */
void http_log_bad(http_ctx_t *c, const char *what);

/* ---- replies (http_reply.c) ---- */

/* CNRI's HTTP status for a response code (section 3); RC 200 is 200 for a
 * resolution (`resolution`), 400 otherwise; RC 402 is 401 over HTTPS and
 * 403 over HTTP. */
int http_status_for_rc(const http_ctx_t *c, uint32_t rc, bool resolution);
/* Send `body` (reference stolen; NULL = out of memory -> 500) as JSON with
 * this status. */
void http_reply_json(http_ctx_t *c, int status, json_t *body);
/* {"responseCode":rc,"message":message} with this status. */
void http_reply_error(http_ctx_t *c, int status, uint32_t rc, const char *message);
/* {"responseCode":rc[,"message":m][,"handle":h]} with the status of rc
 * (message / handle left out when NULL or empty). */
void http_reply_rc(http_ctx_t *c, uint32_t rc, const char *message, const char *handle,
		   bool resolution);
/* Any other body (HTML pages, redirects). With body NULL, what the handler
 * added to c->t->out so far is sent. */
void http_reply_raw(http_ctx_t *c, int status, const char *content_type, const void *body,
		    size_t len);
/* Add a response header (before the reply); false when evhttp refuses it
 * (CR/LF in the value). */
bool http_header(http_ctx_t *c, const char *name, const char *value);

/* ---- input (http_reply.c) ---- */

/* Percent-decode in[0..len) into out (NUL-terminated). "+" stays "+"
 * unless plus_space (query strings). Returns the length, -1 for a bad %xx
 * or a NUL byte, -2 when it does not fit. */
long http_pct_decode(const char *in, size_t len, char *out, size_t cap, bool plus_space);
/* The handle in a raw path piece (c->rest for /api/handles/...): decoded,
 * valid UTF-8, not empty. On failure it replied (400 RC 4 bad encoding,
 * 400 RC 102 empty / invalid) and returns -1. */
long http_handle_arg(http_ctx_t *c, const char *raw, char *out, size_t cap);

/* Query parameters, in order, decoded ("+" is a space there). */
typedef struct {
	const char *p;
	bool bad;                 /* bad %xx or an over-long name/value: stop */
} http_qiter_t;
void http_qiter_init(const http_ctx_t *c, http_qiter_t *it);
bool http_qiter_next(http_qiter_t *it, char *name, size_t nlen, char *value, size_t vlen);
/* First value of `name`; false when absent or bad. */
bool http_param(const http_ctx_t *c, const char *name, char *buf, size_t len);
/* CNRI's boolean: present with an empty value, "true" or "yes". */
bool http_param_bool(const http_ctx_t *c, const char *name, bool def);
/* A header of the request, NULL when absent. */
const char *http_req_header(const http_ctx_t *c, const char *name);
/* The body as JSON: needs Content-Type application/json (else 400 RC 4),
 * must parse (else 400 RC 4 with jansson's message). New reference, or
 * NULL after an error reply. An empty body with `empty_ok` gives NULL
 * without a reply (check c->replied). */
json_t *http_body_json(http_ctx_t *c, bool empty_ok);

/* ---- the store and the query step (http_reply.c) ---- */

/* Bracket reads of t->reader (query step included). */
int http_reader_begin(http_ctx_t *c);
void http_reader_end(http_ctx_t *c);
/* Run one native request (OC 1 / OC 2) through the thread's query step,
 * inside a reader bracket; the answer (one message) is decoded into *m
 * (borrowing t->scratch until the next call). IDN_OK or an error (the
 * caller answers 500). */
int http_query(http_ctx_t *c, const uint8_t *msg, size_t len, idn_msg_t *m);
/* The next message of a native answer (responses back to back, e.g. list
 * answers with CN): decodes it into *m and advances; false at the end or
 * on garbage. */
bool http_answer_next(const uint8_t **p, size_t *len, idn_msg_t *m);
/* The text of an error answer (after any request digest), NUL-terminated
 * into buf ("" when none). */
void http_answer_message(const idn_msg_t *m, char *buf, size_t len);

/* ---- jobs (http_jobs.c) ---- */

typedef void (*http_job_fn)(http_job_t *j);

struct http_job {
	idn_job_t job;            /* first: job.resp / job.resp_len is the answer */
	http_ctx_t ctx;           /* copy of the request context; reply on &j->ctx */
	idn_conn_state_t conn;    /* the identity the request runs as */
	http_job_fn fn;
	bool shared;              /* HTTP_JOB_SHARED */
	http_job_t *next;
	uint8_t user[HTTP_JOB_USER];
	uint8_t req[];            /* the native request */
};

/*
 * Hand a native request (envelope + message) to the dispatch table as
 * `who` (NULL = anonymous). `fn` runs later on this thread's loop with
 * j->job.resp holding the answer (NULL when the handler gave none) and must
 * reply on &j->ctx; afterwards the core frees the job and its answer (and
 * answers 500 if fn did not). `user` (up to HTTP_JOB_USER bytes) is copied
 * into j->user. Returns IDN_OK, or an error after replying (no dispatch
 * table: 501 RC 5; undecodable request: 500; out of memory: 503 RC 3).
 */
int http_submit(http_ctx_t *c, const uint8_t *msg, size_t len, const idn_identity_t *who,
		http_job_fn fn, const void *user, size_t user_len);

/* http_submit with flags: HTTP_JOB_IDEMPOTENT sets job.idempotent (a create
 * of an identical existing handle succeeds, job.existed says so: batch
 * retries); HTTP_JOB_SHARED for one of several jobs answering one request
 * (a batch): the core never replies on its ctx, neither when fn did not nor
 * at teardown, where fn is called instead (c->t->jobs_stopped is true then:
 * submit nothing more, reply once the last one is back). With SHARED the
 * errors of the call itself are replied on `c` as usual: pass a copy with
 * replied set to keep them off the request. */
enum { HTTP_JOB_IDEMPOTENT = 1, HTTP_JOB_SHARED = 2 };
int http_submit_flags(http_ctx_t *c, const uint8_t *msg, size_t len, const idn_identity_t *who,
		      http_job_fn fn, const void *user, size_t user_len, unsigned flags);

int http_jobs_setup(http_thread_t *t);
void http_jobs_set_stopped(http_thread_t *t, bool stopped);
/* After the loop stopped: answer 503 to jobs that came back, free them. */
void http_jobs_teardown(http_thread_t *t);

/* ---- TLS (http_tls.c, the only OpenSSL user in resolver/) ---- */

/* SSL_CTX for TLS 1.2+ with this certificate chain and key; IDN_ECRYPTO
 * with the reason in err. */
int http_tls_ctx_new(const char *cert_path, const char *key_path, void **out, char *err,
		     size_t errlen);
void http_tls_ctx_free(void *ctx);
/* Make every connection of `e` a TLS server connection on srv->tls_ctx,
 * behind the head deadline of http_guard_wrap. */
void http_tls_attach(struct evhttp *e, struct idn_http *srv);
/* True when the request's connection is TLS (false once it is gone). */
bool http_is_tls(struct evhttp_request *req);

/* ---- request-head deadline (http_guard.c) ---- */

struct bufferevent;
/* Watch the input of `bev` (a new connection's bufferevent, before evhttp
 * takes it) and close the connection when a request head, from its first
 * byte to its blank line, takes more than `timeout` seconds: evhttp's own
 * timeout is reset by every byte (slowloris). Returns bev (NULL stays
 * NULL). */
struct bufferevent *http_guard_add(struct bufferevent *bev, int timeout);
/* Every plain connection of `e` guarded (srv->opts.timeout). */
void http_guard_attach(struct evhttp *e, struct idn_http *srv);

#endif
