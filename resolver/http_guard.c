/* http_guard.c - a deadline for HTTP request heads (slowloris): a callback on each connection's input buffer times every head from its first byte to its blank line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>

#include "resolver/http_int.h"

/*
 * Why: evhttp's timeout is an inactivity timeout that every byte read
 * resets, and libevent 2.1 has no hook before the headers are parsed, so a
 * client dripping one header byte a second holds a connection until the
 * header size limit. The bytes still pass through the bufferevent's input
 * buffer before evhttp parses them; an evbuffer callback there sees each
 * chunk as it is added (socket read, or TLS records decrypted).
 *
 * Why not a bufferevent_filter (the obvious tool): in libevent 2.1.12 a
 * filter never moves output queued while EV_WRITE was disabled once it is
 * enabled again, which is what evhttp does for every answer (header added,
 * then EV_WRITE enabled): answers stall. A filter also tells evhttp an
 * answer is written when it reached the socket bufferevent, not the socket,
 * so a "Connection: close" answer would be cut off.
 *
 * Cost: while a head is in progress, a memchr for '\n' over the new bytes
 * only; nothing while a body or an answer is (AWAIT); no allocation per
 * request (the state is allocated at a connection's first byte, so
 * connections that never send anything cost nothing); the clock is read
 * only when a head spans reads, so a head arriving in one read (the normal
 * case) costs no system call.
 *
 * Lifetime: the state is freed by the connection's close callback
 * (evhttp_connection_set_closecb), which evhttp calls whenever it frees a
 * connection it accepted. The evhttp_connection is found as the
 * bufferevent's callback argument, which is how evhttp binds the two.
 */

enum { G_IDLE = 0, G_HEAD = 1, G_AWAIT = 2 };

typedef struct {
	struct bufferevent *bev;
	struct timespec start; /* when the head in progress began (once timed) */
	int timeout;           /* seconds */
	unsigned char state;
	bool timed;            /* start is set: the head spans reads */
	bool nl;               /* last significant byte was '\n' (CRs ignored) */
	bool dead;             /* deadline passed, the close is on its way */
} guard_t;

/* The timeout for connections this thread accepts: the accept callback
 * (make_plain / make_bev) sets it, the connection's first byte reads it on
 * the same loop thread. Saves a per-connection allocation before the first
 * byte (many connections send nothing at all). */
static _Thread_local int guard_timeout = 30;

/* Scan p[0..len) of a head in progress; returns the offset just past its
 * end, or len (not ended: g->nl carries the one bit needed across chunks).
 * Ends are "\n\n" with any CRs in between, which covers "\r\n\r\n" and the
 * bare-LF lines evhttp also accepts (evbuffer_readln EOL_CRLF). */
static size_t scan_head(guard_t *g, const char *p, size_t len, bool *ended)
{
	size_t i = 0;
	while (i < len) {
		if (g->nl) {
			char c = p[i++];
			if (c == '\n') {
				*ended = true;
				g->nl = false;
				return i;
			}
			if (c != '\r')
				g->nl = false;
			continue;
		}
		const char *q = memchr(p + i, '\n', len - i);
		if (!q)
			return len;
		i = (size_t)(q - p) + 1;
		g->nl = true;
	}
	return len;
}

static long elapsed_ms(const struct timespec *a, const struct timespec *b)
{
	return (long)(b->tv_sec - a->tv_sec) * 1000 + (b->tv_nsec - a->tv_nsec) / 1000000;
}

/* Walk bytes [from, from+n) of buf through the state machine. False when
 * the head in progress is past its deadline. */
static bool track(guard_t *g, struct evbuffer *buf, size_t from, size_t n)
{
	struct evbuffer_ptr pos;
	if (evbuffer_ptr_set(buf, &pos, from, EVBUFFER_PTR_SET) < 0)
		return true;
	size_t left = n;
	while (left > 0 && g->state != G_AWAIT) {
		struct evbuffer_iovec v[8];
		int cnt = evbuffer_peek(buf, (ev_ssize_t)left, &pos, v, 8);
		if (cnt <= 0)
			break;
		if (cnt > 8)
			cnt = 8;
		size_t used = 0;
		for (int k = 0; k < cnt && left > 0 && g->state != G_AWAIT; k++) {
			const char *p = v[k].iov_base;
			size_t len = v[k].iov_len < left ? v[k].iov_len : left;
			size_t off = 0;
			if (g->state == G_IDLE) {
				/* Blank lines between requests (a CRLF after a
				 * body) are not a head: an idle keep-alive
				 * connection must not start a clock. */
				while (off < len && (p[off] == '\r' || p[off] == '\n'))
					off++;
				if (off < len) {
					g->state = G_HEAD;
					g->timed = false;
					g->nl = false;
				}
			}
			if (g->state == G_HEAD && off < len) {
				bool ended = false;
				scan_head(g, p + off, len - off, &ended);
				/* The rest (body, pipelined bytes) is not timed
				 * until the answer goes out. */
				if (ended)
					g->state = G_AWAIT;
			}
			used += len;
			left -= len;
		}
		if (left > 0 && g->state != G_AWAIT &&
		    evbuffer_ptr_set(buf, &pos, used, EVBUFFER_PTR_ADD) < 0)
			break;
	}
	if (g->state != G_HEAD)
		return true;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!g->timed) {
		/* The head began in this read and goes on: its clock starts
		 * now, about when its first byte came. */
		g->timed = true;
		g->start = now;
		return true;
	}
	return elapsed_ms(&g->start, &now) <= (long)g->timeout * 1000;
}

/* Input changes: reads add at the end, evhttp's parsing drains the front. */
static void guard_in(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	guard_t *g = arg;
	if (info->n_added == 0 || g->dead || g->state == G_AWAIT)
		return;
	size_t len = evbuffer_get_length(buf);
	size_t n = info->n_added < len ? info->n_added : len;
	if (track(g, buf, len - n, n))
		return;
	/* Report what evhttp's own timeout would: evhttp then frees the
	 * connection the same way. Deferred, because this runs inside the
	 * bufferevent's read; evhttp only ever sees an unfinished head. */
	g->dead = true;
	bufferevent_disable(g->bev, EV_READ);
	bufferevent_trigger_event(g->bev, BEV_EVENT_READING | BEV_EVENT_TIMEOUT,
				  BEV_TRIG_DEFER_CALLBACKS);
}

/* Output changes: an answer going out ends the request, the next byte
 * read starts the next head. Also from HEAD: after a "100 Continue" the
 * body is read as if it were a head, and must not leave a running clock
 * to a later request (an early error answer closes the connection, so
 * this gives a dripping client nothing). */
static void guard_out(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	(void)buf;
	guard_t *g = arg;
	if (info->n_added > 0)
		g->state = G_IDLE;
}

static void guard_closed(struct evhttp_connection *evcon, void *arg)
{
	(void)evcon;
	guard_t *g = arg;
	/* The bufferevent outlives this call (evhttp frees it next): take
	 * the callbacks off before their argument goes. */
	evbuffer_remove_cb(bufferevent_get_input(g->bev), guard_in, g);
	evbuffer_remove_cb(bufferevent_get_output(g->bev), guard_out, g);
	free(g);
}

/* A connection's first change of input: evhttp has taken the bufferevent
 * by now (its callback argument is the evhttp_connection), so the state
 * can be tied to the connection's lifetime. */
static void guard_first(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct bufferevent *bev = arg;
	if (info->n_added == 0)
		return;
	void *evcon = NULL;
	bufferevent_getcb(bev, NULL, NULL, NULL, &evcon);
	/* Whatever happens below, this stage is over (removing the running
	 * callback is safe: evbuffer keeps its next). */
	evbuffer_remove_cb(buf, guard_first, bev);
	if (!evcon)
		return;
	guard_t *g = calloc(1, sizeof(*g));
	if (!g)
		return; /* unguarded, as before: evhttp's timeout still holds */
	g->bev = bev;
	g->timeout = guard_timeout;
	if (!evbuffer_add_cb(buf, guard_in, g)) {
		free(g);
		return;
	}
	if (!evbuffer_add_cb(bufferevent_get_output(bev), guard_out, g)) {
		evbuffer_remove_cb(buf, guard_in, g);
		free(g);
		return;
	}
	evhttp_connection_set_closecb(evcon, guard_closed, g);
	guard_in(buf, info, g);
}

struct bufferevent *http_guard_add(struct bufferevent *bev, int timeout)
{
	if (!bev)
		return NULL;
	guard_timeout = timeout > 0 ? timeout : 30;
	/* No allocation here; on failure the connection is just unguarded. */
	evbuffer_add_cb(bufferevent_get_input(bev), guard_first, bev);
	return bev;
}

static struct bufferevent *make_plain(struct event_base *base, void *arg)
{
	const struct idn_http *h = arg;
	return http_guard_add(bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE),
			      h->opts.timeout);
}

void http_guard_attach(struct evhttp *e, struct idn_http *h)
{
	evhttp_set_bevcb(e, make_plain, h);
}
