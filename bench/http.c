/* http.c - HTTP load: a keep-alive GET generator for /api/handles/{h} and a minimal libevent evhttp responder to compare with. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "bench/bench.h"

/*
 * The generator is plain sockets and epoll with a tiny HTTP/1.1 response
 * reader (status line, Content-Length, body skipped): it must cost the
 * load core far less than the server costs its core, or it measures
 * itself. Closed loop: each connection keeps `pipeline` GETs in flight
 * (1 = one request, wait for its answer, send the next), re-issued as
 * answers arrive.
 */

#define HREQ_MAX 512
#define HIN_CAP (1 << 17)

typedef struct {
	int fd;
	double *sent;             /* ring of `pipeline` send times */
	unsigned head, inflight;
	char *in;
	size_t inlen;
} hconn_t;

static int hconnect(const char *server)
{
	struct sockaddr_storage ss;
	unsigned sl;
	if (idn_parse_hostport(server, 8000, &ss, &sl)) {
		fprintf(stderr, "idnode-bench: bad --server '%s'\n", server);
		return -1;
	}
	int fd = socket(ss.ss_family, SOCK_STREAM, 0), one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&ss, sl) != 0) {
		perror("idnode-bench: connect");
		close(fd);
		return -1;
	}
	return fd;
}

static size_t make_get(char *buf, const char *prefix, unsigned long long i)
{
	int n = snprintf(buf, HREQ_MAX, "GET /api/handles/%s%llu HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
			 prefix, i);
	return n > 0 && n < HREQ_MAX ? (size_t)n : 0;
}

/* One complete response at p[0..len): its total length, 0 when more bytes
 * are needed, -1 when it is not something this reader handles (no
 * Content-Length, chunked, garbage). Status and body length out. */
static long parse_response(const char *p, size_t len, int *status, size_t *body)
{
	const char *end = memmem(p, len, "\r\n\r\n", 4);
	if (!end)
		return len > HIN_CAP / 2 ? -1 : 0;
	size_t hl = (size_t)(end - p) + 4;
	if (hl < 12 || memcmp(p, "HTTP/1.", 7) != 0)
		return -1;
	*status = atoi(p + 9);
	long cl = -1;
	for (const char *l = memchr(p, '\n', hl); l && l < end; l = memchr(l, '\n', (size_t)(end - l))) {
		l++;
		if (end - l > 15 && strncasecmp(l, "Content-Length:", 15) == 0)
			cl = strtol(l + 15, NULL, 10);
	}
	if (cl < 0)
		return -1;
	if (len < hl + (size_t)cl)
		return 0;
	*body = (size_t)cl;
	return (long)(hl + (size_t)cl);
}

int bench_gen_http(const bench_opts_t *o)
{
	unsigned nc = o->conns, pl = o->pipeline;
	hconn_t *cs = calloc(nc, sizeof(*cs));
	char *out = malloc((size_t)pl * HREQ_MAX);
	bench_stats_t st;
	if (!cs || !out || bench_stats_init(&st))
		return 1;
	uint64_t rnd = 0x51afd7ed558ccd1dULL ^ (uint64_t)getpid();
	int ep = epoll_create1(0), rc = 0;
	double now = bench_now();
	for (unsigned c = 0; c < nc && !rc; c++) {
		cs[c].fd = hconnect(o->server);
		cs[c].sent = calloc(pl, sizeof(double));
		cs[c].in = malloc(HIN_CAP);
		if (cs[c].fd < 0 || !cs[c].sent || !cs[c].in) {
			rc = 1;
			break;
		}
		struct epoll_event e = { .events = EPOLLIN, .data.ptr = &cs[c] };
		epoll_ctl(ep, EPOLL_CTL_ADD, cs[c].fd, &e);
		size_t olen = 0;
		for (unsigned k = 0; k < pl; k++) {
			olen += make_get(out + olen, o->prefix, bench_rand(&rnd) % o->count);
			cs[c].sent[(cs[c].head + cs[c].inflight++) % pl] = now;
		}
		if (write(cs[c].fd, out, olen) != (ssize_t)olen)
			rc = 1;
	}
	double start = now, measure = now + o->warmup, end = measure + o->duration;
	bool measuring = false;
	uint64_t closed = 0;
	while (!rc && now < end) {
		struct epoll_event evs[128];
		int k = epoll_wait(ep, evs, 128, 1000);
		now = bench_now();
		if (!measuring && now >= measure) {
			measuring = true;
			bench_stats_reset(&st); /* the warm-up does not count */
			start = now;
		}
		if (k == 0)
			st.timeouts++;
		for (int i = 0; i < k && !rc; i++) {
			hconn_t *c = evs[i].data.ptr;
			ssize_t got = read(c->fd, c->in + c->inlen, HIN_CAP - c->inlen);
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0) {
				fprintf(stderr, "idnode-bench http: connection closed by the server\n");
				closed++;
				rc = 1;
				break;
			}
			c->inlen += (size_t)got;
			size_t pos = 0, olen = 0;
			for (;;) {
				int status = 0;
				size_t body = 0;
				long n = parse_response(c->in + pos, c->inlen - pos, &status, &body);
				if (n < 0) {
					fprintf(stderr, "idnode-bench http: unreadable response\n");
					rc = 1;
				}
				if (n <= 0)
					break;
				/* 200 = found, 404 = RC 100, anything else counted apart. */
				bench_stats_add(&st, (now - c->sent[c->head]) * 1e6,
						status == 200 ? 1 : status == 404 ? 100 : 2);
				st.reply_bytes += body;
				c->head = (c->head + 1) % pl;
				c->inflight--;
				pos += (size_t)n;
				olen += make_get(out + olen, o->prefix, bench_rand(&rnd) % o->count);
				c->sent[(c->head + c->inflight++) % pl] = now;
			}
			memmove(c->in, c->in + pos, c->inlen - pos);
			c->inlen -= pos;
			for (size_t w = 0; w < olen;) {
				ssize_t s = write(c->fd, out + w, olen - w);
				if (s < 0 && errno == EINTR)
					continue;
				if (s <= 0) {
					rc = 1;
					break;
				}
				w += (size_t)s;
			}
		}
	}
	st.seconds = now - start;
	bench_stats_print(&st, "http", o->json);
	for (unsigned c = 0; c < nc; c++) {
		if (cs[c].fd > 0)
			close(cs[c].fd);
		free(cs[c].sent);
		free(cs[c].in);
	}
	close(ep);
	bench_stats_free(&st);
	free(cs);
	free(out);
	return rc || !st.replies;
}

/* ---- the reference: the least an evhttp server can do per request ---- */

typedef struct {
	char *body;
	size_t len;
	unsigned long long n;
} raw_http_t;

static void raw_http_cb(struct evhttp_request *req, void *arg)
{
	raw_http_t *r = arg;
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	/* What idnoded sends (evhttp adds Date and Content-Length to both). */
	evhttp_add_header(h, "Content-Type", "application/json;charset=utf-8");
	struct evbuffer *b = evhttp_request_get_output_buffer(req);
	evbuffer_add(b, r->body, r->len);
	evhttp_send_reply(req, 200, "OK", NULL);
	r->n++;
}

static void raw_http_tick(evutil_socket_t fd, short what, void *arg)
{
	if (bench_stop)
		event_base_loopbreak(arg);
}

/* A JSON object of exactly `size` bytes, shaped like a resolution answer. */
static char *fixed_json(size_t size, size_t *len)
{
	static const char head[] = "{\"responseCode\":1,\"handle\":\"88.100.12/BENCH-0\",\"pad\":\"";
	size_t min = sizeof(head) - 1 + 2;
	if (size < min)
		size = min;
	char *s = malloc(size + 1);
	if (!s)
		return NULL;
	memcpy(s, head, sizeof(head) - 1);
	memset(s + sizeof(head) - 1, 'x', size - min);
	memcpy(s + size - 2, "\"}", 2);
	s[size] = 0;
	*len = size;
	return s;
}

int bench_raw_http(const bench_opts_t *o)
{
	struct sockaddr_storage ss;
	unsigned sl;
	if (idn_parse_hostport(o->listen, 0, &ss, &sl)) {
		fprintf(stderr, "idnode-bench: bad address '%s'\n", o->listen);
		return 1;
	}
	raw_http_t r = { 0 };
	r.body = fixed_json(o->reply_size > 65536 ? 65536 : o->reply_size, &r.len);
	struct event_base *base = event_base_new();
	struct evhttp *http = base ? evhttp_new(base) : NULL;
	if (!r.body || !http) {
		fprintf(stderr, "idnode-bench raw-http: out of memory\n");
		return 1;
	}
	int fd = socket(ss.ss_family, SOCK_STREAM, 0), one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	evutil_make_socket_nonblocking(fd);
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 1024) != 0 ||
	    !evhttp_accept_socket_with_handle(http, fd)) {
		perror("idnode-bench raw-http: bind");
		return 1;
	}
	socklen_t l = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &l);
	unsigned port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
						      : ((struct sockaddr_in6 *)&ss)->sin6_port);
	evhttp_set_gencb(http, raw_http_cb, &r);
	struct event *tick = event_new(base, -1, EV_PERSIST, raw_http_tick, base);
	struct timeval tv = { 0, 200000 };
	event_add(tick, &tv);
	if (o->duration > 0) {
		struct timeval d = { (time_t)o->duration, 0 };
		event_base_loopexit(base, &d);
	}
	printf("ready port=%u\n", port);
	fflush(stdout);
	event_base_dispatch(base);
	fprintf(stderr, "raw-http: answered %llu requests (%zu-byte body)\n", r.n, r.len);
	event_free(tick);
	evhttp_free(http);
	event_base_free(base);
	free(r.body);
	return 0;
}
