/* tcp.c - the TCP listener: persistent connections, pipelined requests answered in order, idle timeouts. */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "resolver/tcp_conn.h"

/*
 * CNRI's server answers one request per connection and closes; the IDIS SDK
 * keeps connections open and must never see one closed without a reply. So
 * connections stay open until the peer closes, goes idle for
 * tcp_idle_timeout, or breaks the framing (then it gets an RC 4 answer
 * first). Requests on one connection are answered in order.
 *
 * Why not bufferevents: with pipelined clients the per-request cost is what
 * counts, and a bufferevent adds buffer-chain copies, a timer re-arm on
 * every read and deferred callbacks. Here a connection reads into one flat
 * buffer, parses requests in place, writes answers straight into its output
 * buffer and tries write(2) at once; idle connections are swept by one
 * timer per worker.
 *
 * Operations the query step does not answer (admin, authentication) are
 * jobs for the dispatch table, answered later and possibly from another
 * thread; tcp_jobs.c keeps the answers in order behind them.
 */

#define IN_INITIAL (16 * 1024)
#define IN_MAX (IDN_ENVELOPE_LEN + IDN_MAX_MESSAGE_LEN)

static void on_io(evutil_socket_t fd, short what, void *arg);

void conn_free(conn_t *c)
{
	slots_drop(c);
	if (c->prev)
		c->prev->next = c->next;
	else
		c->w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->w->tcp_conns--;
	if (c->counted)
		idn_connlimit_release(c->w->srv->conns, c->src);
	if (c->ev)
		event_free(c->ev);
	if (c->fd >= 0)
		close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
}

/* A connection with jobs out cannot be freed under them: it is closed now
 * and freed when the last one comes back (it still counts against
 * tcp_max_conns, which bounds the work a client can leave behind). */
void conn_close(conn_t *c)
{
	if (c->outstanding == 0) {
		conn_free(c);
		return;
	}
	slots_drop(c);
	event_free(c->ev);
	c->ev = NULL;
	close(c->fd);
	c->fd = -1;
	free(c->in);
	free(c->out);
	c->in = c->out = NULL;
	c->in_len = c->in_cap = 0;
	c->out_off = c->out_len = c->out_cap = 0;
	c->closing = true;
	c->dead = true;
}

static void set_events(conn_t *c, bool rd, bool wr)
{
	short want = (short)((rd ? EV_READ : 0) | (wr ? EV_WRITE : 0));
	if (event_get_events(c->ev) == (want | EV_PERSIST) && event_pending(c->ev, want, NULL))
		return;
	event_del(c->ev);
	if (!want)
		return;
	event_assign(c->ev, c->w->base, c->fd, (short)(want | EV_PERSIST), on_io, c);
	event_add(c->ev, NULL);
}

/* Make room for `n` more output bytes. */
bool conn_out_reserve(conn_t *c, size_t n)
{
	if (c->out_off > 0 && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->out_cap - c->out_len >= n)
		return true;
	if (c->out_off > 0) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
		if (c->out_cap - c->out_len >= n)
			return true;
	}
	size_t cap = c->out_cap ? c->out_cap : 16 * 1024;
	while (cap - c->out_len < n)
		cap *= 2;
	uint8_t *p = realloc(c->out, cap);
	if (!p)
		return false;
	c->out = p;
	c->out_cap = cap;
	return true;
}

/* Can more requests be taken from this connection? Not while the output,
 * the queued answers or the jobs out are over their bounds. */
static bool can_read(const conn_t *c)
{
	return !c->closing && c->out_len - c->out_off < OUT_HIGH &&
	       c->outstanding < CONN_MAX_JOBS && c->slot_bytes < OUT_HIGH;
}

/* Reading the socket: also not once the server quiesces (shutdown), while
 * requests already in the buffer are still answered. */
static bool can_read_socket(const conn_t *c)
{
	return !c->w->quiescing && can_read(c);
}

/* Over the rate: RC 603 (the IDIS SDK decodes it; CNRI clients report it)
 * and the connection stays open, so a client that slows down goes on. */
static bool answer_limited(conn_t *c)
{
	worker_t *w = c->w;
	idn_resp_ctx_t ctx;
	idn_query_resp_ctx(&w->q, &ctx);
	w->q.stats.rate_limited_answered++;
	size_t n = conn_put_error(c, &w->q.msg, &ctx, IDN_RC_REQUEST_LIMIT_DAILY,
				  "Request rate limit exceeded");
	if (n == 0) {
		c->closing = true;
		return false;
	}
	return slots_hold_tail(c, n, false);
}

/* Answer one complete request held at `msg`; returns false to stop reading. */
static bool answer(conn_t *c, const uint8_t *msg, size_t len)
{
	worker_t *w = c->w;
	idn_query_t *q = &w->q;
	q->transport = IDN_TR_TCP;
	int st = idn_query_consume(q, msg, len);
	/* Decoded requests count against the source's bucket: admin ones
	 * (jobs) against writes, the rest against resolution. A connection
	 * logged in (IDIS OC 2001) is an authenticated enterprise: it is
	 * bounded by its quotas, not by the rate (bulk imports pipeline tens
	 * of thousands of creates a second, and a re-run resolves each one it
	 * finds already there). */
	if (!c->state.identity.valid &&
	    ((st == IDN_Q_PRODUCE && !q->decode_err) || st == IDN_Q_ASYNC)) {
		int kind = st == IDN_Q_ASYNC ? IDN_RL_WRITE : IDN_RL_RESOLVE;
		if (idn_rl_take(w->rl, c->src, kind, w->now_us) != IDN_RL_PASS)
			return answer_limited(c);
	}
	if (st == IDN_Q_ASYNC)
		return job_submit(c, msg, len);
	size_t produced = 0;
	while (st == IDN_Q_PRODUCE) {
		/* Produce straight into the output buffer; on IDN_ESPACE the
		 * query stays ready and is produced again with room for the
		 * largest message. */
		size_t room = 4096;
		for (;;) {
			if (!conn_out_reserve(c, room)) {
				/* Behind pending answers a partial one must not go out. */
				if (c->slot_head)
					c->out_len -= produced;
				c->closing = true;
				return false;
			}
			idn_wire_t o;
			idn_wire_init(&o, c->out + c->out_len, c->out_cap - c->out_len);
			st = idn_query_produce(q, &o);
			if (st == IDN_Q_ASYNC)
				return job_submit(c, msg, len);
			if (o.err == IDN_ESPACE && room < SCRATCH_LEN) {
				room = SCRATCH_LEN;
				continue;
			}
			if (o.err == IDN_OK) {
				c->out_len += idn_wire_offset(&o);
				produced += idn_wire_offset(&o);
			}
			break;
		}
	}
	if (q->why)
		worker_log_bad(w, (struct sockaddr *)&c->peer, q->why);
	/* Behind a pending job the answer waits in a slot (copied); the common
	 * case (nothing pending) leaves it in place at no cost. */
	if (c->slot_head && !slots_hold_tail(c, produced, st == IDN_Q_CLOSE))
		return false;
	if (st == IDN_Q_CLOSE) {
		c->closing = true;
		return false;
	}
	return true;
}

/* RC 4 in the terms of the envelope at `envbytes`, then close: the rest of
 * the stream can no longer be framed (or the peer is too slow to wait for). */
static void refuse_envelope(conn_t *c, const uint8_t *envbytes, const char *text)
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
	if (conn_out_reserve(c, 4096)) {
		idn_wire_t o;
		idn_wire_init(&o, c->out + c->out_len, c->out_cap - c->out_len);
		if (idn_query_error_for_envelope(&w->q, &env, IDN_RC_PROTOCOL_ERROR, text, &o) ==
		    IDN_OK) {
			c->out_len += idn_wire_offset(&o);
			slots_hold_tail(c, idn_wire_offset(&o), true);
		}
	}
	c->closing = true;
}

/* Length of the complete, acceptable message at pos, or 0. */
static size_t frame_at(const conn_t *c, size_t pos)
{
	if (c->in_len - pos < IDN_ENVELOPE_LEN)
		return 0;
	uint32_t mlen = idn_get_be32(c->in + pos + 16);
	if (mlen > (uint32_t)c->w->srv->opts.max_request ||
	    c->in_len - pos < IDN_ENVELOPE_LEN + (size_t)mlen)
		return 0;
	return IDN_ENVELOPE_LEN + (size_t)mlen;
}

/* How far ahead of the request being answered the lookups are hinted
 * (worker_prefetch): cache sets HINT_SET requests ahead, records HINT_REC
 * ahead (their sets hinted HINT_SET - HINT_REC requests before). */
#define HINT_SET 4
#define HINT_REC 2
#define HINT_RING 8 /* > HINT_SET, a power of two */

/* The frames after the one being answered, as far as they are hinted. */
typedef struct {
	size_t pos[HINT_RING], len[HINT_RING];
	size_t scan;        /* offset of frame `next` */
	unsigned next;      /* number of the first frame not yet looked at */
	bool end;           /* no complete frame at `scan` */
} hints_t;

static void hint_ahead(conn_t *c, hints_t *h, unsigned cur)
{
	while (!h->end && h->next <= cur + HINT_SET) {
		size_t n = frame_at(c, h->scan);
		if (!n) {
			h->end = true;
			break;
		}
		h->pos[h->next % HINT_RING] = h->scan;
		h->len[h->next % HINT_RING] = n;
		worker_prefetch(c->w, c->in + h->scan, n, 1);
		h->scan += n;
		h->next++;
	}
	unsigned r = cur + HINT_REC;
	if (r < h->next)
		worker_prefetch(c->w, c->in + h->pos[r % HINT_RING], h->len[r % HINT_RING], 2);
}

/* Answer every complete request in the input buffer, hinting the lookups
 * of those behind each one. */
static void process_input(conn_t *c)
{
	worker_t *w = c->w;
	size_t pos = 0;
	bool began = false;
	hints_t h = { .next = 1 };
	for (unsigned cur = 0; can_read(c) && c->in_len - pos >= IDN_ENVELOPE_LEN; cur++) {
		const uint8_t *m = c->in + pos;
		uint32_t mlen = idn_get_be32(m + 16);
		if (mlen > (uint32_t)w->srv->opts.max_request) {
			w->q.stats.oversized_requests++;
			worker_log_bad(w, (struct sockaddr *)&c->peer, "message length over the limit");
			refuse_envelope(c, m, "Invalid message length");
			break;
		}
		size_t total = frame_at(c, pos);
		if (!total)
			break; /* not all here yet */
		if (!began) {
			w->q.now = (uint32_t)time(NULL);
			w->now_us = worker_clock_us();
			if (idn_reader_begin(w->reader) != IDN_OK)
				break;
			began = true;
			h.scan = total;
		}
		hint_ahead(c, &h, cur);
		bool more = answer(c, m, total);
		pos += total;
		if (!more)
			break;
	}
	if (began)
		idn_reader_end(w->reader);
	if (pos > 0) {
		memmove(c->in, c->in + pos, c->in_len - pos);
		c->in_len -= pos;
		/* What is left began arriving now, as far as the slow-client
		 * timeout is concerned. */
		c->in_since = c->in_len ? w->q.now : 0;
	}
	worker_publish(w);
}

/* Write what is queued; returns false when the connection is gone. */
static bool flush_output(conn_t *c)
{
	while (c->out_off < c->out_len) {
		/* No SIGPIPE from a peer gone while its answers were pending. */
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
		if (n > 0) {
			c->out_off += (size_t)n;
			c->last_active = c->out_since = c->w->q.now;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!c->out_since)
				c->out_since = c->w->q.now;
			return true;
		}
		conn_close(c);
		return false;
	}
	c->out_off = c->out_len = 0;
	c->out_since = 0;
	return true;
}

/* Grow the input buffer up to the largest framed message. */
static bool in_room(conn_t *c)
{
	if (c->in_len < c->in_cap)
		return true;
	if (c->in_cap >= IN_MAX)
		return false;
	size_t cap = c->in_cap * 2 > IN_MAX ? IN_MAX : c->in_cap * 2;
	uint8_t *p = realloc(c->in, cap);
	if (!p)
		return false;
	c->in = p;
	c->in_cap = cap;
	return true;
}

static void update(conn_t *c, bool just_read);

static void on_io(evutil_socket_t fd, short what, void *arg)
{
	conn_t *c = arg;
	worker_t *w = c->w;
	bool eof = false;
	w->q.now = (uint32_t)time(NULL);
	if ((what & EV_READ) && can_read(c)) {
		for (int rounds = 0; rounds < 4 && can_read_socket(c) && in_room(c); rounds++) {
			ssize_t n = read(fd, c->in + c->in_len, c->in_cap - c->in_len);
			if (n == 0) {
				eof = true;
				break;
			}
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno != EAGAIN && errno != EWOULDBLOCK) {
					conn_close(c);
					return;
				}
				break;
			}
			c->in_len += (size_t)n;
			c->last_active = w->q.now;
			if (!c->in_since)
				c->in_since = w->q.now;
			if (c->in_len < c->in_cap)
				break;
			process_input(c); /* a full buffer: make room by answering */
		}
		process_input(c);
		/* The peer is done sending: what it sent is answered, then we close. */
		if (eof)
			c->closing = true;
	}
	update(c, (what & EV_READ) != 0);
}

/* Queue what is ready, write it, then close or re-arm the events. */
static void update(conn_t *c, bool just_read)
{
	slots_drain(c);
	if (!flush_output(c))
		return;
	bool pending = c->out_off < c->out_len;
	if (c->closing && !pending && !c->slot_head) {
		conn_close(c);
		return;
	}
	/* Read while the output and the jobs keep up; write while some is pending. */
	bool rd = can_read(c);
	set_events(c, rd && !c->w->quiescing, pending);
	/* Requests that were left in the buffer while the output was full or
	 * too many jobs were out. */
	if (rd && !pending && !just_read && c->in_len >= IDN_ENVELOPE_LEN)
		on_io(c->fd, EV_READ, c);
}

void conn_update(conn_t *c)
{
	update(c, false);
}

/*
 * Slow clients: a request begun tcp_slow_timeout ago and still not whole
 * (one byte a second keeps a connection from being idle, not from being
 * slow), or answers the peer has not read for that long. The first gets
 * RC 4 "Read timed out" (CNRI's text) when its envelope is in; both close.
 * Connections with jobs out or reading paused by our own backlog are not
 * the peer's fault and are left alone.
 */
static bool is_slow(const conn_t *c, uint32_t now, uint32_t limit)
{
	if (c->dead || c->outstanding)
		return false;
	/* Closing too: a peer that does not read its last answer. */
	if (c->out_off < c->out_len)
		return c->out_since && now - c->out_since >= limit;
	return !c->closing && c->in_len && c->in_since && now - c->in_since >= limit;
}

static void sweep_slow(worker_t *w, uint32_t now)
{
	uint32_t limit = (uint32_t)w->srv->opts.tcp_slow_timeout;
	bool closed = false;
	w->q.now = now;
	conn_t *next;
	for (conn_t *c = w->conns; c; c = next) {
		next = c->next;
		if (!is_slow(c, now, limit))
			continue;
		w->q.stats.tcp_slow_closed++;
		closed = true;
		worker_log_bad(w, (struct sockaddr *)&c->peer, "slow client closed");
		if (c->out_off < c->out_len || c->in_len < IDN_ENVELOPE_LEN) {
			conn_close(c);
			continue;
		}
		refuse_envelope(c, c->in, "Read timed out");
		c->in_len = 0;
		/* The answer goes out now if the peer reads; if it does not, the
		 * next sweeps find its output stalled and close it. */
		c->out_since = now;
		conn_update(c);
	}
	if (closed)
		worker_publish(w);
}

/* Once a second: close connections idle (or stalled) for too long. */
static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
	worker_t *w = arg;
	uint32_t now = (uint32_t)time(NULL);
	uint32_t idle = (uint32_t)w->idle_timeout;
	conn_t *next;
	for (conn_t *c = w->conns; c; c = next) {
		next = c->next;
		/* A connection waiting for its own answers is not idle. */
		if (!c->dead && c->outstanding == 0 && now - c->last_active >= idle)
			conn_free(c);
	}
	sweep_slow(w, now);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	worker_t *w = arg;
	w->q.now = (uint32_t)time(NULL);
	if (w->tcp_conns >= w->srv->opts.tcp_max_conns) {
		w->q.stats.tcp_refused_total++;
		worker_publish(w);
		worker_log_bad(w, sa, "connection refused: too many connections");
		close(fd);
		return;
	}
	/* Shared with the other workers: the kernel spreads one address's
	 * connections over all of them. */
	uint64_t src = idn_rl_key(sa);
	int why = idn_connlimit_acquire(w->srv->conns, src);
	if (why != IDN_CL_OK) {
		if (why == IDN_CL_PER_ADDRESS)
			w->q.stats.tcp_refused_per_address++;
		else
			w->q.stats.tcp_refused_total++;
		worker_publish(w);
		worker_log_bad(w, sa, why == IDN_CL_PER_ADDRESS
				      ? "connection refused: too many from this address"
				      : "connection refused: too many connections");
		close(fd);
		return;
	}
	conn_t *c = calloc(1, sizeof(*c));
	if (!c || !(c->in = malloc(IN_INITIAL))) {
		free(c);
		idn_connlimit_release(w->srv->conns, src);
		close(fd);
		return;
	}
	c->src = src;
	c->w = w;
	c->fd = fd;
	c->in_cap = IN_INITIAL;
	c->last_active = (uint32_t)time(NULL);
	if (salen > 0 && (size_t)salen <= sizeof(c->peer))
		memcpy(&c->peer, sa, (size_t)salen);
	evutil_make_socket_nonblocking(fd);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->ev = event_new(w->base, fd, EV_READ | EV_PERSIST, on_io, c);
	if (!c->ev || event_add(c->ev, NULL) != 0) {
		if (c->ev)
			event_free(c->ev);
		free(c->in);
		free(c);
		idn_connlimit_release(w->srv->conns, src);
		close(fd);
		return;
	}
	c->counted = true;
	w->tcp_conns++;
	c->next = w->conns;
	if (c->next)
		c->next->prev = c;
	w->conns = c;
}

void tcp_quiesce(worker_t *w)
{
	conn_t *next;
	for (conn_t *c = w->conns; c; c = next) {
		next = c->next;
		if (!c->dead)
			update(c, false);
	}
}

bool tcp_quiesce_tick(worker_t *w)
{
	conn_t *next;
	for (conn_t *c = w->conns; c; c = next) {
		next = c->next;
		/* Answered and written: the client sees the close after its last
		 * answer (a request it had not finished sending is not taken). */
		if (!c->dead && c->outstanding == 0 && !c->slot_head && c->out_off == c->out_len &&
		    (c->in_len < IDN_ENVELOPE_LEN ||
		     c->in_len < IDN_ENVELOPE_LEN + (size_t)idn_get_be32(c->in + 16)))
			conn_close(c);
	}
	return w->conns == NULL;
}

int tcp_setup(worker_t *w)
{
	int ret = jobs_setup(w);
	if (ret)
		return ret;
	w->listener = evconnlistener_new(w->base, on_accept, w, LEV_OPT_CLOSE_ON_FREE, -1,
					 w->tcp_fd);
	if (!w->listener)
		return IDN_ENOMEM;
	w->tcp_fd = -1; /* owned by the listener now */
	w->sweep = event_new(w->base, -1, EV_PERSIST, on_sweep, w);
	struct timeval one = { 1, 0 };
	if (!w->sweep || event_add(w->sweep, &one) != 0)
		return IDN_ENOMEM;
	return IDN_OK;
}

void tcp_teardown(worker_t *w)
{
	/* Completions queued after the loop stopped first, then every connection
	 * (with the answers they were waiting behind). */
	jobs_teardown(w);
	while (w->conns)
		conn_free(w->conns);
	if (w->sweep)
		event_free(w->sweep);
	w->sweep = NULL;
	if (w->listener)
		evconnlistener_free(w->listener);
	w->listener = NULL;
	if (w->tcp_fd >= 0)
		close(w->tcp_fd);
	w->tcp_fd = -1;
}
