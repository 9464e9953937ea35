/* http.c - the HTTP(S) listeners: threads with SO_REUSEPORT sockets and an evhttp each, limits, routing to the handler tables. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/thread.h>

#include "client/addr.h"
#include "resolver/http_int.h"
#include "resolver/ratelimit.h"
#include "resolver/loop_call.h"

#define DEFAULT_LISTEN "127.0.0.1:8000"
#define DEFAULT_TLS_LISTEN "127.0.0.1:8443"

void http_log(http_thread_t *t, int level, const char *fmt, ...)
{
	if (!t->srv->opts.log)
		return;
	va_list ap;
	va_start(ap, fmt);
	t->srv->opts.log(level, fmt, ap);
	va_end(ap);
}

void http_log_bad(http_ctx_t *c, const char *what)
{
	http_thread_t *t = c->t;
	uint32_t now = (uint32_t)time(NULL);
	if (now != t->log_second) {
		if (t->log_suppressed)
			http_log(t, IDN_LOG_NOTICE, "http %d: %llu more bad requests not logged", t->id,
				 (unsigned long long)t->log_suppressed);
		t->log_second = now;
		t->log_count = 0;
		t->log_suppressed = 0;
	}
	if (t->log_count >= 5) {
		t->log_suppressed++;
		return;
	}
	t->log_count++;
	char *addr = NULL;
	ev_uint16_t port = 0;
	struct evhttp_connection *ec = evhttp_request_get_connection(c->req);
	if (ec)
		evhttp_connection_get_peer(ec, &addr, &port);
	http_log(t, IDN_LOG_NOTICE, "bad HTTP request from %s: %s", addr ? addr : "?", what);
}

/* ---- routing ---- */

static const char *method_name(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_HEAD: return "HEAD";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_OPTIONS: return "OPTIONS";
	case EVHTTP_REQ_TRACE: return "TRACE";
	case EVHTTP_REQ_CONNECT: return "CONNECT";
	case EVHTTP_REQ_PATCH: return "PATCH";
	}
	return "?";
}

static bool path_matches(const http_route_t *r, const char *path, const char **rest)
{
	size_t n = strlen(r->path);
	if (strncmp(path, r->path, n) != 0)
		return false;
	if (r->match == HTTP_EXACT && path[n] != 0)
		return false;
	*rest = path + n;
	return true;
}

static void cors_preflight(http_ctx_t *c)
{
	http_header(c, "Access-Control-Allow-Methods", "GET, POST, HEAD, PUT, DELETE");
	http_header(c, "Access-Control-Allow-Headers",
		    "X-Requested-With, Authorization, Origin, Accept, Content-Type");
	http_header(c, "Access-Control-Max-Age", "1800");
	http_reply_raw(c, 200, NULL, NULL, 0);
}

static void route(http_ctx_t *c)
{
	static const http_route_t *const tables[] = { http_read_routes, http_write_routes,
						      http_page_routes, http_metrics_routes };
	if (c->method == EVHTTP_REQ_OPTIONS) {
		cors_preflight(c);
		return;
	}
	/* HEAD is a GET whose body evhttp leaves out. */
	unsigned m = c->method == EVHTTP_REQ_HEAD ? EVHTTP_REQ_GET : (unsigned)c->method;
	bool path_known = false;
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		for (const http_route_t *r = tables[i]; r->path; r++) {
			const char *rest;
			if (!path_matches(r, c->path, &rest))
				continue;
			if (!(r->methods & m)) {
				path_known = true;
				continue;
			}
			c->rest = rest;
			r->fn(c);
			return;
		}
	}
	bool api = strncmp(c->path, "/api", 4) == 0 && (c->path[4] == 0 || c->path[4] == '/');
	if (path_known) {
		char msg[128];
		snprintf(msg, sizeof(msg), "Method %s not allowed here", method_name(c->method));
		http_reply_error(c, 405, IDN_RC_PROTOCOL_ERROR, msg);
		return;
	}
	if (api) {
		char msg[IDN_MAX_HANDLE_LEN + 64];
		snprintf(msg, sizeof(msg), "Unknown HTTP API endpoint %s %.*s", method_name(c->method),
			 IDN_MAX_HANDLE_LEN, c->path);
		http_reply_error(c, 404, IDN_RC_PROTOCOL_ERROR, msg);
		return;
	}
	if (m == EVHTTP_REQ_GET) {
		c->rest = c->path + 1;
		http_proxy(c);
		return;
	}
	http_reply_error(c, 405, IDN_RC_PROTOCOL_ERROR, "Method not allowed");
}

/* JSONP function names: CNRI replaces anything outside [A-Za-z0-9_$] (and
 * below U+00A0) by "_". */
static void set_callback(http_ctx_t *c, const char *v)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)v; *p && n + 1 < sizeof(c->callback);
	     p++) {
		unsigned char ch = *p;
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			  (ch >= '0' && ch <= '9') || ch == '_' || ch == '$';
		c->callback[n++] = ok ? (char)ch : '_';
	}
	c->callback[n] = 0;
}

/* The native listeners' limits, per HTTP thread: reads against the
 * resolution bucket, everything else against writes. The connection stays
 * open (keep-alive clients slow down and go on). */
static bool over_rate(http_thread_t *t, http_ctx_t *c)
{
	struct evhttp_connection *ec = evhttp_request_get_connection(c->req);
	const struct sockaddr *sa = ec ? evhttp_connection_get_addr(ec) : NULL;
	if (!sa)
		return false;
	bool read = c->method == EVHTTP_REQ_GET || c->method == EVHTTP_REQ_HEAD ||
		    c->method == EVHTTP_REQ_OPTIONS;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	if (idn_rl_take(t->rl, idn_rl_key(sa), read ? IDN_RL_RESOLVE : IDN_RL_WRITE, now) ==
	    IDN_RL_PASS)
		return false;
	t->q.stats.rate_limited_answered++;
	http_reply_error(c, 429, IDN_RC_REQUEST_LIMIT_DAILY, "Request rate limit exceeded");
	return true;
}

static void on_request(struct evhttp_request *req, void *arg)
{
	http_thread_t *t = arg;
	http_ctx_t c;
	memset(&c, 0, sizeof(c));
	c.t = t;
	c.req = req;
	c.method = evhttp_request_get_command(req);
	c.tls = http_is_tls(req);
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
	c.path = u ? evhttp_uri_get_path(u) : NULL;
	c.query = u ? evhttp_uri_get_query(u) : NULL;
	if (!c.path || c.path[0] != '/') {
		/* Absolute-form or garbage request targets. */
		http_log_bad(&c, "request target is not a path");
		c.path = "/";
		http_reply_error(&c, 400, IDN_RC_PROTOCOL_ERROR, "Bad request target");
		return;
	}
	if (c.query) {
		char v[128];
		c.pretty = http_param_bool(&c, "pretty", false);
		if (http_param(&c, "callback", v, sizeof(v)))
			set_callback(&c, v);
	}
	t->q.now = (uint32_t)time(NULL);
	if (t->rl && over_rate(t, &c))
		return;
	route(&c);
	if (!c.replied)
		http_reply_error(&c, 500, IDN_RC_ERROR, "Internal server error: no answer");
}

/* ---- sockets and threads ---- */

static void set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

static uint16_t get_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

/* Each thread binds its own socket on the same port (SO_REUSEPORT): the
 * kernel spreads connections across them. The first one fixes the port
 * when 0 was asked for. */
static int bind_listener(idn_http_t *h, int kind, int *out)
{
	struct sockaddr_storage *a = &h->addr[kind];
	int fd = socket(a->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (a->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)a, h->addrlen[kind]) != 0 || listen(fd, 1024) != 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	if (get_port(a) == 0) {
		struct sockaddr_storage got;
		socklen_t gl = sizeof(got);
		getsockname(fd, (struct sockaddr *)&got, &gl);
		set_port(a, get_port(&got));
	}
	*out = fd;
	return IDN_OK;
}

static void thread_free(http_thread_t *t)
{
	if (!t)
		return;
	http_jobs_teardown(t);
	for (int k = 0; k < 2; k++) {
		/* evhttp_free closes the listening socket it was given. */
		if (t->http[k])
			evhttp_free(t->http[k]);
		else if (t->fd[k] >= 0)
			close(t->fd[k]);
	}
	if (t->out)
		evbuffer_free(t->out);
	if (t->base)
		event_base_free(t->base);
	idn_reader_free(t->reader);
	idn_ratelimit_free(t->rl);
	free(t->scratch);
	free(t->body_buf);
	free(t);
}

static int thread_new(idn_http_t *h, int id, http_thread_t **out)
{
	http_thread_t *t = calloc(1, sizeof(*t));
	if (!t)
		return IDN_ENOMEM;
	t->srv = h;
	t->id = id;
	t->fd[0] = t->fd[1] = -1;
	int ret = IDN_ENOMEM;
	t->scratch = malloc(HTTP_SCRATCH_LEN);
	t->base = event_base_new();
	t->out = evbuffer_new();
	if (!t->scratch || !t->base || !t->out)
		goto fail;
	if ((ret = idn_reader_new(h->opts.store, &t->reader)))
		goto fail;
	idn_query_init(&t->q, t->reader, h->opts.info, IDN_TR_HTTP);
	idn_ratelimit_opts_t rlo = {
		.rate = { (uint32_t)h->opts.rate_limit, (uint32_t)h->opts.write_rate_limit },
		.burst = { (uint32_t)h->opts.rate_burst, (uint32_t)h->opts.write_rate_burst },
	};
	if (h->opts.rate_limit < 0 || h->opts.write_rate_limit < 0 || h->opts.rate_burst < 0 ||
	    h->opts.write_rate_burst < 0) {
		ret = IDN_EINVAL;
		goto fail;
	}
	if ((ret = idn_ratelimit_new(&rlo, &t->rl)))
		goto fail;
	if ((ret = http_jobs_setup(t)))
		goto fail;
	for (int k = 0; k < 2; k++) {
		if (!h->on[k])
			continue;
		if ((ret = bind_listener(h, k, &t->fd[k])))
			goto fail;
		ret = IDN_ENOMEM;
		struct evhttp *e = evhttp_new(t->base);
		if (!e)
			goto fail;
		t->http[k] = e;
		if (evhttp_accept_socket(e, t->fd[k]) != 0)
			goto fail;
		t->fd[k] = -1; /* the evhttp owns it now */
		evhttp_set_max_body_size(e, (ev_ssize_t)h->opts.max_body);
		evhttp_set_max_headers_size(e, (ev_ssize_t)h->opts.max_headers);
		evhttp_set_timeout(e, h->opts.timeout);
		/* A body over the limit is read and dropped before the 413 goes
		 * out, so the client sees the answer rather than a reset. */
		evhttp_set_flags(e, EVHTTP_SERVER_LINGERING_CLOSE);
		/* Every method reaches the router, which answers 405 in JSON
		 * instead of evhttp's HTML 501. */
		evhttp_set_allowed_methods(e, 0xffff);
		evhttp_set_default_content_type(e, "application/json;charset=utf-8");
		evhttp_set_gencb(e, on_request, t);
		if (k == HTTP_TLS)
			http_tls_attach(e, h);
		else
			http_guard_attach(e, h);
	}
	*out = t;
	return IDN_OK;
fail:
	thread_free(t);
	return ret;
}

static int parse_addr(idn_http_t *h, int kind, const char *s, const char *def)
{
	if (!s)
		s = def;
	if (!*s)
		return IDN_OK;
	h->on[kind] = true;
	return idn_parse_hostport(s, kind == HTTP_TLS ? 8443 : 8000, &h->addr[kind],
				  &h->addrlen[kind]);
}

int idn_http_new(const idn_http_opts_t *opts, idn_http_t **out)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, (void (*)(void))evthread_use_pthreads);

	if (!opts->store || !opts->info || opts->threads < 0 || opts->threads > 256)
		return IDN_EINVAL;
	idn_http_t *h = calloc(1, sizeof(*h));
	if (!h)
		return IDN_ENOMEM;
	h->opts = *opts;
	if (h->opts.threads == 0)
		h->opts.threads = 1;
	if (h->opts.max_body == 0)
		h->opts.max_body = 16u << 20;
	if (h->opts.max_headers == 0)
		h->opts.max_headers = 64u << 10;
	if (h->opts.timeout <= 0)
		h->opts.timeout = 30;
	int ret;
	if ((ret = parse_addr(h, HTTP_PLAIN, opts->listen, DEFAULT_LISTEN)) ||
	    (ret = parse_addr(h, HTTP_TLS, opts->tls_listen, DEFAULT_TLS_LISTEN)))
		goto fail;
	if (h->on[HTTP_TLS]) {
		char err[256];
		if (!opts->cert_path || !*opts->cert_path || !opts->key_path || !*opts->key_path) {
			ret = IDN_ENOENT;
			goto fail;
		}
		ret = http_tls_ctx_new(opts->cert_path, opts->key_path, &h->tls_ctx, err,
				       sizeof(err));
		if (ret) {
			if (opts->log) {
				/* Through a va_list: the callback is all we may call. */
				http_thread_t fake = { .srv = h };
				http_log(&fake, IDN_LOG_ERR, "https: %s", err);
			}
			goto fail;
		}
	}
	h->threads = calloc((size_t)h->opts.threads, sizeof(*h->threads));
	if (!h->threads) {
		ret = IDN_ENOMEM;
		goto fail;
	}
	for (int i = 0; i < h->opts.threads; i++) {
		if ((ret = thread_new(h, i, &h->threads[i])))
			goto fail;
		h->nthreads++;
	}
	for (int k = 0; k < 2; k++)
		h->port[k] = h->on[k] ? get_port(&h->addr[k]) : 0;
	*out = h;
	return IDN_OK;
fail:
	idn_http_free(h);
	return ret;
}

uint16_t idn_http_port(const idn_http_t *h)
{
	return h->port[HTTP_PLAIN];
}

uint16_t idn_http_tls_port(const idn_http_t *h)
{
	return h->port[HTTP_TLS];
}

static void *thread_main(void *arg)
{
	http_thread_t *t = arg;
	event_base_dispatch(t->base);
	return NULL;
}

int idn_http_start(idn_http_t *h)
{
	for (int i = 0; i < h->nthreads; i++)
		http_jobs_set_stopped(h->threads[i], false);
	for (int i = 0; i < h->nthreads; i++) {
		int rc = pthread_create(&h->threads[i]->thread, NULL, thread_main, h->threads[i]);
		if (rc) {
			for (int j = 0; j < i; j++) {
				event_base_loopbreak(h->threads[j]->base);
				pthread_join(h->threads[j]->thread, NULL);
			}
			return -rc;
		}
	}
	h->started = true;
	return IDN_OK;
}

void idn_http_stop(idn_http_t *h)
{
	if (!h || !h->started)
		return;
	for (int i = 0; i < h->nthreads; i++)
		event_base_loopexit(h->threads[i]->base, NULL);
	for (int i = 0; i < h->nthreads; i++)
		pthread_join(h->threads[i]->thread, NULL);
	for (int i = 0; i < h->nthreads; i++)
		http_jobs_set_stopped(h->threads[i], true);
	h->started = false;
}

void idn_http_free(idn_http_t *h)
{
	if (!h)
		return;
	idn_http_stop(h);
	for (int i = 0; i < h->nthreads; i++)
		thread_free(h->threads[i]);
	free(h->threads);
	if (h->tls_ctx)
		http_tls_ctx_free(h->tls_ctx);
	free(h);
}

/* Config reload: each thread takes the new info between two callbacks. */
static void set_info(void *target, const void *arg)
{
	http_thread_t *t = target;
	t->q.info = *(const idn_server_info_t *const *)arg;
}

int idn_http_set_info(idn_http_t *h, const idn_server_info_t *info, int timeout_ms)
{
	if (!h || h->nthreads == 0)
		return IDN_OK;
	struct event_base *bases[h->nthreads];
	void *targets[h->nthreads];
	for (int i = 0; i < h->nthreads; i++) {
		bases[i] = h->threads[i]->base;
		targets[i] = h->threads[i];
	}
	return loop_call_all(bases, targets, h->nthreads, h->started, set_info, &info,
			     sizeof(info), timeout_ms);
}
