/* tcp.c - the TCP listener: persistent connections, pipelined requests, idle timeouts. */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "resolver/worker.h"

/*
 * CNRI's server answers one request per connection and closes; the IDIS SDK
 * keeps connections open and must never see one closed without a reply.
 * So connections stay open until the peer closes, goes idle for
 * tcp_idle_timeout, or breaks the framing (then it gets an RC 4 answer
 * first). Requests on one connection are answered in order.
 */

#define OUT_HIGH (4u << 20)   /* stop reading while this much output is queued */

typedef struct conn {
	struct conn *prev, *next;  /* the worker's open connections */
	worker_t *w;
	struct bufferevent *bev;
	struct sockaddr_storage peer;
	bool closing;             /* close once the output is flushed */
} conn_t;

static void conn_free(conn_t *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		c->w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->w->tcp_conns--;
	bufferevent_free(c->bev);
	free(c);
}

/* Answer one complete request held at `msg`. Returns false to stop reading. */
static bool answer(conn_t *c, const uint8_t *msg, size_t len)
{
	worker_t *w = c->w;
	idn_query_t *q = &w->q;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	q->transport = IDN_TR_TCP;
	int st = idn_query_consume(q, msg, len);
	while (st == IDN_Q_PRODUCE || st == IDN_Q_CLOSE) {
		if (st == IDN_Q_CLOSE)
			break;
		idn_wire_t o;
		idn_wire_init(&o, w->scratch, SCRATCH_LEN);
		st = idn_query_produce(q, &o);
		if (o.err)
			break;
		evbuffer_add(out, o.base, idn_wire_offset(&o));
	}
	if (q->why)
		worker_log_bad(w, (struct sockaddr *)&c->peer, q->why);
	if (st == IDN_Q_CLOSE) {
		c->closing = true;
		return false;
	}
	return true;
}

/* The envelope said the message is longer than we accept: answer RC 4 and
 * close, since the rest of the stream can no longer be framed. */
static void refuse_length(conn_t *c, const uint8_t *envbytes)
{
	worker_t *w = c->w;
	idn_envelope_t env;
	memset(&env, 0, sizeof(env));
	env.major = envbytes[0];
	env.minor = envbytes[1];
	env.sugg_major = envbytes[2] & 3;
	env.sugg_minor = envbytes[3];
	env.session_id = idn_get_be32(envbytes + 4);
	env.request_id = idn_get_be32(envbytes + 8);
	idn_wire_t o;
	idn_wire_init(&o, w->scratch, SCRATCH_LEN);
	if (idn_query_error_for_envelope(&w->q, &env, IDN_RC_PROTOCOL_ERROR,
					 "Invalid message length", &o) == IDN_OK)
		evbuffer_add(bufferevent_get_output(c->bev), o.base, idn_wire_offset(&o));
	worker_log_bad(w, (struct sockaddr *)&c->peer, "message length over the limit");
	c->closing = true;
}

static void on_read(struct bufferevent *bev, void *arg)
{
	conn_t *c = arg;
	worker_t *w = c->w;
	struct evbuffer *in = bufferevent_get_input(bev);
	bool began = false;

	while (!c->closing) {
		size_t avail = evbuffer_get_length(in);
		uint8_t envb[IDN_ENVELOPE_LEN];
		if (avail < IDN_ENVELOPE_LEN)
			break;
		evbuffer_copyout(in, envb, sizeof(envb));
		uint32_t mlen = idn_get_be32(envb + 16);
		if (mlen > IDN_MAX_MESSAGE_LEN) {
			refuse_length(c, envb);
			break;
		}
		size_t total = IDN_ENVELOPE_LEN + (size_t)mlen;
		if (avail < total)
			break;
		if (!began) {
			w->q.now = (uint32_t)time(NULL);
			if (idn_reader_begin(w->reader) != IDN_OK)
				break;
			began = true;
		}
		const uint8_t *msg = evbuffer_pullup(in, (ssize_t)total);
		if (!msg)
			break;
		bool more = answer(c, msg, total);
		evbuffer_drain(in, total);
		if (!more)
			break;
		if (evbuffer_get_length(bufferevent_get_output(bev)) > OUT_HIGH) {
			/* A client that sends faster than it reads: pause until
			 * the output drains (on_write re-enables reading). */
			bufferevent_disable(bev, EV_READ);
			break;
		}
	}
	if (began)
		idn_reader_end(w->reader);
	worker_publish(w);
	if (c->closing) {
		bufferevent_disable(bev, EV_READ);
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			conn_free(c);
	}
}

static void on_write(struct bufferevent *bev, void *arg)
{
	conn_t *c = arg;
	if (c->closing) {
		conn_free(c);
		return;
	}
	if (!(bufferevent_get_enabled(bev) & EV_READ)) {
		bufferevent_enable(bev, EV_READ);
		/* Requests may already be waiting in the input buffer. */
		on_read(bev, c);
	}
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	conn_t *c = arg;
	if (what & BEV_EVENT_TIMEOUT) {
		/* Idle (or too slow to send a whole message): let it go. */
		conn_free(c);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		conn_free(c);
		return;
	}
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	worker_t *w = arg;
	if (w->tcp_conns >= w->srv->opts.tcp_max_conns) {
		worker_log_bad(w, sa, "connection refused: too many connections");
		close(fd);
		return;
	}
	conn_t *c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->w = w;
	if (salen > 0 && (size_t)salen <= sizeof(c->peer))
		memcpy(&c->peer, sa, (size_t)salen);
	c->bev = bufferevent_socket_new(w->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!c->bev) {
		close(fd);
		free(c);
		return;
	}
	w->tcp_conns++;
	c->next = w->conns;
	if (c->next)
		c->next->prev = c;
	w->conns = c;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct timeval idle = { w->srv->opts.tcp_idle_timeout, 0 };
	bufferevent_set_timeouts(c->bev, &idle, &idle);
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	/* Bound what one connection can make us buffer: a message plus a bit. */
	bufferevent_setwatermark(c->bev, EV_READ, 0, IDN_MAX_MESSAGE_LEN + 64 * 1024);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

int tcp_setup(worker_t *w)
{
	w->listener = evconnlistener_new(w->base, on_accept, w, LEV_OPT_CLOSE_ON_FREE, -1,
					 w->tcp_fd);
	if (!w->listener)
		return IDN_ENOMEM;
	w->tcp_fd = -1; /* owned by the listener now */
	return IDN_OK;
}

void tcp_teardown(worker_t *w)
{
	while (w->conns)
		conn_free(w->conns);
	if (w->listener)
		evconnlistener_free(w->listener);
	w->listener = NULL;
	if (w->tcp_fd >= 0)
		close(w->tcp_fd);
	w->tcp_fd = -1;
}
