/* recurse_net.c - the recursor's exchanges: non-blocking UDP with CNRI resends and multi-packet answers, TCP when UDP will not do. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "resolver/recurse_int.h"

/*
 * One UDP socket per address family serves every exchange; answers are
 * matched by RequestId (unique among the exchanges out) and must come from
 * the address asked, so a third party cannot slip in an answer by guessing
 * ids alone. Resends follow CNRI's client (after 0.5 s and 1 s); after
 * that, or when an answer is too big to reassemble from datagrams, the
 * same request goes over TCP. Every buffer is bounded: reassembly in total
 * (RX_REASM_MAX_BYTES) and per answer (RX_UDP_MAX_ANSWER), TCP answers by
 * IDN_MAX_MESSAGE_LEN, TCP exchanges by RX_MAX_TCP.
 */

static void on_udp(evutil_socket_t fd, short what, void *arg);
static void on_tcp(evutil_socket_t fd, short what, void *arg);

static int udp_socket(struct idn_recursor *r, int family, int *fd, struct event **ev)
{
	*fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (*fd < 0)
		return -errno;
	int sz = 1 << 20;
	setsockopt(*fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	*ev = event_new(r->base, *fd, EV_READ | EV_PERSIST, on_udp, r);
	if (!*ev || event_add(*ev, NULL) != 0)
		return IDN_ENOMEM;
	return IDN_OK;
}

int net_setup(struct idn_recursor *r)
{
	r->udp4 = r->udp6 = -1;
	int ret = udp_socket(r, AF_INET, &r->udp4, &r->udp4_ev);
	if (ret)
		return ret;
	/* Without IPv6 only IPv6 servers are out of reach. */
	if (udp_socket(r, AF_INET6, &r->udp6, &r->udp6_ev) != IDN_OK) {
		if (r->udp6_ev)
			event_free(r->udp6_ev);
		if (r->udp6 >= 0)
			close(r->udp6);
		r->udp6 = -1;
		r->udp6_ev = NULL;
	}
	return IDN_OK;
}

void net_teardown(struct idn_recursor *r)
{
	if (r->udp4_ev)
		event_free(r->udp4_ev);
	if (r->udp6_ev)
		event_free(r->udp6_ev);
	if (r->udp4 >= 0)
		close(r->udp4);
	if (r->udp6 >= 0)
		close(r->udp6);
	r->udp4_ev = r->udp6_ev = NULL;
	r->udp4 = r->udp6 = -1;
}

static tx_t **id_slot(struct idn_recursor *r, uint32_t id)
{
	tx_t **pp = &r->ids[id % RX_ID_BUCKETS];
	while (*pp && (*pp)->id != id)
		pp = &(*pp)->hnext;
	return pp;
}

static uint32_t new_id(struct idn_recursor *r)
{
	for (;;) {
		/* xorshift64*: ids need to be unpredictable enough that blind
		 * spoofing from another address fails (the address check does the rest). */
		r->rng ^= r->rng >> 12;
		r->rng ^= r->rng << 25;
		r->rng ^= r->rng >> 27;
		uint32_t id = (uint32_t)((r->rng * 2685821657736338717ull) >> 33);
		if (id != 0 && !*id_slot(r, id))
			return id;
	}
}

void tx_cancel(tx_t *t)
{
	if (!t->active)
		return;
	struct idn_recursor *r = t->j->r;
	tx_t **pp = id_slot(r, t->id);
	if (*pp == t)
		*pp = t->hnext;
	t->hnext = NULL;
	if (t->timer)
		evtimer_del(t->timer);
	if (t->buf)
		r->reasm_bytes -= t->total + IDN_ENVELOPE_LEN + t->nparts;
	free(t->buf);
	free(t->seen);
	t->buf = t->seen = NULL;
	t->got = t->nparts = 0;
	if (t->ev)
		event_free(t->ev);
	t->ev = NULL;
	if (t->fd >= 0) {
		close(t->fd);
		r->tcp_count--;
	}
	t->fd = -1;
	free(t->rbuf);
	t->rbuf = NULL;
	t->rlen = t->rcap = t->woff = 0;
	free(t->req);
	t->req = NULL;
	t->active = false;
}

/* The exchange is over: hand the answer (or the failure) to the steps. */
static void tx_done(tx_t *t, const uint8_t *msg, size_t len, const char *why)
{
	rjob_t *j = t->j;
	/* Keep a buffer the answer lives in past the cancel. */
	uint8_t *own = NULL;
	if (msg && msg == t->buf) {
		own = t->buf;
		t->buf = NULL;
		j->r->reasm_bytes -= t->total + IDN_ENVELOPE_LEN + t->nparts;
	} else if (msg && msg == t->rbuf) {
		own = t->rbuf;
		t->rbuf = NULL;
	}
	tx_cancel(t);
	if (msg)
		rx_answer(j, msg, len);
	else
		rx_failed(j, why);
	free(own);
}

static void tcp_begin(tx_t *t)
{
	struct idn_recursor *r = t->j->r;
	if (!t->tcp.ss_family) {
		tx_done(t, NULL, 0, "no TCP interface to fall back to");
		return;
	}
	if (r->tcp_count >= RX_MAX_TCP) {
		tx_done(t, NULL, 0, "too many TCP exchanges");
		return;
	}
	if (t->timer)
		evtimer_del(t->timer);
	if (t->buf)
		r->reasm_bytes -= t->total + IDN_ENVELOPE_LEN + t->nparts;
	free(t->buf);
	free(t->seen);
	t->buf = t->seen = NULL;
	t->got = t->nparts = 0;
	t->on_tcp = true;
	t->fd = socket(t->tcp.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->fd < 0) {
		tx_done(t, NULL, 0, "no TCP socket");
		return;
	}
	r->tcp_count++;
	int one = 1;
	setsockopt(t->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(t->fd, (struct sockaddr *)&t->tcp, t->tcp_len) != 0 && errno != EINPROGRESS) {
		tx_done(t, NULL, 0, "TCP connect failed");
		return;
	}
	t->ev = event_new(r->base, t->fd, EV_WRITE | EV_PERSIST, on_tcp, t);
	if (!t->ev || event_add(t->ev, NULL) != 0)
		tx_done(t, NULL, 0, "out of memory");
}

static void on_tcp(evutil_socket_t fd, short what, void *arg)
{
	tx_t *t = arg;
	if (t->woff < t->req_len) {
		ssize_t n = send(fd, t->req + t->woff, t->req_len - t->woff, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			tx_done(t, NULL, 0, "upstream unreachable over TCP");
			return;
		}
		t->woff += (size_t)n;
		if (t->woff == t->req_len) {
			event_del(t->ev);
			event_assign(t->ev, t->j->r->base, fd, EV_READ | EV_PERSIST, on_tcp, t);
			event_add(t->ev, NULL);
		}
		return;
	}
	for (;;) {
		size_t want = t->rlen < IDN_ENVELOPE_LEN
				      ? IDN_ENVELOPE_LEN
				      : IDN_ENVELOPE_LEN + (size_t)idn_get_be32(t->rbuf + 16);
		if (want > t->rcap) {
			uint8_t *p = realloc(t->rbuf, want);
			if (!p) {
				tx_done(t, NULL, 0, "out of memory");
				return;
			}
			t->rbuf = p;
			t->rcap = want;
		}
		ssize_t n = read(fd, t->rbuf + t->rlen, want - t->rlen);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			tx_done(t, NULL, 0, "connection closed before the answer");
			return;
		}
		t->rlen += (size_t)n;
		if (t->rlen == IDN_ENVELOPE_LEN &&
		    idn_get_be32(t->rbuf + 16) > IDN_MAX_MESSAGE_LEN) {
			tx_done(t, NULL, 0, "oversized answer");
			return;
		}
		if (t->rlen >= IDN_ENVELOPE_LEN &&
		    t->rlen == IDN_ENVELOPE_LEN + (size_t)idn_get_be32(t->rbuf + 16)) {
			tx_done(t, t->rbuf, t->rlen, NULL);
			return;
		}
	}
}

static void udp_send(tx_t *t)
{
	struct idn_recursor *r = t->j->r;
	int fd = t->udp.ss_family == AF_INET6 ? r->udp6 : r->udp4;
	if (fd >= 0)
		sendto(fd, t->req, t->req_len, MSG_DONTWAIT, (struct sockaddr *)&t->udp, t->udp_len);
	rx_count(r, S_UPSTREAM);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	tx_t *t = arg;
	struct idn_recursor *r = t->j->r;
	t->tries++;
	/* Part of a multi-packet answer got lost, or nothing came after the
	 * resends: the same request over TCP. */
	if (t->got > 0 || t->tries >= 3) {
		tcp_begin(t);
		return;
	}
	if (t->upstream && rx_upstream_count(r) > 1) {
		/* The next top address (of any top): one dead top, or one dead
		 * address of a name, must not fail the request. */
		rx_next_upstream(t->j, t);
	}
	udp_send(t);
	struct timeval tv = { 1, 0 };
	evtimer_add(t->timer, &tv);
}

void tx_start(rjob_t *j, const uint8_t *req, size_t len)
{
	tx_t *t = &j->tx;
	struct idn_recursor *r = j->r;
	tx_cancel(t);
	t->j = j;
	t->req = malloc(len);
	if (!t->req) {
		rx_failed(j, "out of memory");
		return;
	}
	memcpy(t->req, req, len);
	t->req_len = len;
	t->id = new_id(r);
	idn_put_be32(t->req + 8, t->id);
	t->tries = 0;
	t->on_tcp = false;
	t->fd = -1;
	t->active = true;
	tx_t **pp = id_slot(r, t->id);
	t->hnext = NULL;
	*pp = t;
	if (!t->timer)
		t->timer = evtimer_new(r->base, on_timer, t);
	if (!t->timer) {
		tx_done(t, NULL, 0, "out of memory");
		return;
	}
	if (!t->udp.ss_family || len > IDN_UDP_PACKET_MAX) {
		tcp_begin(t);
		return;
	}
	udp_send(t);
	struct timeval tv = { 0, 500000 };
	evtimer_add(t->timer, &tv);
}

static bool same_peer(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
	return x->sin6_port == y->sin6_port &&
	       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
}

/* One datagram of an answer. */
static void udp_part(struct idn_recursor *r, tx_t *t, const uint8_t *p, size_t len)
{
	uint32_t mlen = idn_get_be32(p + 16), mid = idn_get_be32(p + 12);
	if (mlen > IDN_MAX_MESSAGE_LEN) {
		tx_done(t, NULL, 0, "oversized answer");
		return;
	}
	if (!t->buf && mid == 0 && len == IDN_ENVELOPE_LEN + (size_t)mlen) {
		tx_done(t, p, len, NULL);
		return;
	}
	uint32_t nparts = (mlen + IDN_UDP_CHUNK - 1) / IDN_UDP_CHUNK;
	if (!t->buf) {
		size_t need = IDN_ENVELOPE_LEN + (size_t)mlen + nparts;
		if (mlen > RX_UDP_MAX_ANSWER || r->reasm_bytes + need > RX_REASM_MAX_BYTES) {
			tcp_begin(t);
			return;
		}
		t->buf = malloc(IDN_ENVELOPE_LEN + (size_t)mlen);
		t->seen = calloc(nparts ? nparts : 1, 1);
		if (!t->buf || !t->seen) {
			free(t->buf);
			free(t->seen);
			t->buf = t->seen = NULL;
			tx_done(t, NULL, 0, "out of memory");
			return;
		}
		r->reasm_bytes += need;
		t->total = mlen;
		t->nparts = nparts;
		t->got = 0;
		memcpy(t->buf, p, IDN_ENVELOPE_LEN);
		idn_put_be32(t->buf + 12, 0);
	}
	size_t off = (size_t)mid * IDN_UDP_CHUNK;
	size_t chunk = len - IDN_ENVELOPE_LEN;
	if (mlen != t->total || mid >= t->nparts ||
	    chunk != (mid + 1 == t->nparts ? t->total - off : IDN_UDP_CHUNK)) {
		tx_done(t, NULL, 0, "inconsistent multi-packet answer");
		return;
	}
	if (t->seen[mid])
		return;
	t->seen[mid] = 1;
	memcpy(t->buf + IDN_ENVELOPE_LEN + off, p + IDN_ENVELOPE_LEN, chunk);
	if (++t->got == t->nparts)
		tx_done(t, t->buf, IDN_ENVELOPE_LEN + t->total, NULL);
}

static void on_udp(evutil_socket_t fd, short what, void *arg)
{
	struct idn_recursor *r = arg;
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, r->rbuf, sizeof(r->rbuf), MSG_DONTWAIT,
				     (struct sockaddr *)&from, &fl);
		if (n < 0)
			return;
		if ((size_t)n < IDN_ENVELOPE_LEN || (size_t)n > IDN_UDP_PACKET_MAX)
			continue;
		tx_t *t = *id_slot(r, idn_get_be32(r->rbuf + 8));
		/* Late answers to resends, or answers from elsewhere: dropped. */
		if (!t || t->on_tcp || !same_peer(&from, &t->udp))
			continue;
		udp_part(r, t, r->rbuf, (size_t)n);
	}
}
