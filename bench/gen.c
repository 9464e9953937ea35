/* gen.c - closed-loop load generators: UDP (batched) and pipelined persistent TCP. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench/bench.h"
#include "proto/msg.h"

#define BATCH 64
#define REQ_MAX 600

static int connect_to(const char *server, int type)
{
	struct sockaddr_storage ss;
	unsigned sl;
	if (idn_parse_hostport(server, 2641, &ss, &sl)) {
		fprintf(stderr, "idnode-bench: bad --server '%s'\n", server);
		return -1;
	}
	int fd = socket(ss.ss_family, type, 0);
	int sz = 4 << 20, one = 1;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	if (type == SOCK_STREAM)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&ss, sl) != 0) {
		perror("idnode-bench: connect");
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * UDP: `window` slots, each with one request in flight. RequestId = slot
 * number in the low 16 bits and a per-slot sequence above it, so a late
 * answer to a re-sent request is recognised and ignored. Multi-packet
 * answers are counted on their first datagram (MessageId 0); the rest are
 * skipped.
 */
typedef struct {
	double sent;
	uint32_t rid;
} slot_t;

int bench_gen_udp(const bench_opts_t *o)
{
	unsigned win = o->window ? o->window : 256;
	if (win > 65535)
		win = 65535;
	int fd = connect_to(o->server, SOCK_DGRAM);
	if (fd < 0)
		return 1;
	slot_t *slots = calloc(win, sizeof(*slots));
	bench_stats_t st;
	if (!slots || bench_stats_init(&st)) {
		close(fd);
		return 1;
	}
	uint64_t rnd = 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid();
	static uint8_t txb[BATCH][REQ_MAX], rxb[BATCH][600];
	struct mmsghdr tm[BATCH], rm[BATCH];
	struct iovec ti[BATCH], ri[BATCH];
	unsigned ntx = 0;

#define QUEUE(s)                                                                           \
	do {                                                                               \
		slot_t *sl_ = &slots[s];                                                   \
		sl_->rid = ((sl_->rid >> 16) + 1) << 16 | (s);                             \
		sl_->rid &= 0x7fffffff;                                                    \
		size_t n_ = bench_make_request(txb[ntx], REQ_MAX, o->prefix,               \
					       bench_rand(&rnd) % o->count, sl_->rid);     \
		ti[ntx] = (struct iovec){ txb[ntx], n_ };                                  \
		memset(&tm[ntx].msg_hdr, 0, sizeof(tm[ntx].msg_hdr));                      \
		tm[ntx].msg_hdr.msg_iov = &ti[ntx];                                        \
		tm[ntx].msg_hdr.msg_iovlen = 1;                                            \
		sl_->sent = now;                                                           \
		if (++ntx == BATCH) {                                                      \
			sendmmsg(fd, tm, ntx, 0);                                          \
			ntx = 0;                                                           \
		}                                                                          \
	} while (0)

	double now = bench_now();
	double start = now, measure = now + o->warmup, end = measure + o->duration;
	double next_scan = now + 0.1;
	bool measuring = false;
	for (unsigned s = 0; s < win; s++)
		QUEUE(s);
	if (ntx) {
		sendmmsg(fd, tm, ntx, 0);
		ntx = 0;
	}
	for (int i = 0; i < BATCH; i++) {
		ri[i] = (struct iovec){ rxb[i], sizeof(rxb[i]) };
		memset(&rm[i], 0, sizeof(rm[i]));
		rm[i].msg_hdr.msg_iov = &ri[i];
		rm[i].msg_hdr.msg_iovlen = 1;
	}
	/* Blocking receive with a short timeout: one syscall per batch. */
	struct timeval tv = { 0, 100000 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (now < end) {
		int k = recvmmsg(fd, rm, BATCH, MSG_WAITFORONE, NULL);
		now = bench_now();
		if (!measuring && now >= measure) {
			measuring = true;
			bench_stats_reset(&st); /* the warm-up does not count */
			start = now;
		}
		for (int i = 0; i < k; i++) {
			if (rm[i].msg_len < 28)
				continue;
			uint32_t rid = idn_get_be32(rxb[i] + 8), s = rid & 0xffff;
			if (s >= win || slots[s].rid != rid || idn_get_be32(rxb[i] + 12) != 0)
				continue;
			bench_stats_add(&st, (now - slots[s].sent) * 1e6, idn_get_be32(rxb[i] + 24));
			st.reply_bytes += rm[i].msg_len;
			QUEUE(s);
		}
		if (now >= next_scan) {
			/* Requests lost for over a second are counted and re-sent. */
			next_scan = now + 0.1;
			for (unsigned s = 0; s < win; s++)
				if (now - slots[s].sent > 1.0) {
					st.timeouts++;
					QUEUE(s);
				}
		}
		if (ntx) {
			sendmmsg(fd, tm, ntx, 0);
			ntx = 0;
		}
	}
#undef QUEUE
	st.seconds = now - start;
	bench_stats_print(&st, "udp", o->json);
	bench_stats_free(&st);
	free(slots);
	close(fd);
	return st.replies ? 0 : 1;
}

/* TCP: answers come back in order per connection, so each connection keeps a
 * ring of send times. */
typedef struct {
	int fd;
	double *sent;             /* ring of `pipeline` send times */
	unsigned head, inflight;
	uint8_t in[1 << 16];
	size_t inlen;
	uint32_t next_rid;
} tcp_conn_t;

int bench_gen_tcp(const bench_opts_t *o)
{
	unsigned nc = o->conns ? o->conns : 4, pl = o->pipeline ? o->pipeline : 64;
	tcp_conn_t *cs = calloc(nc, sizeof(*cs));
	bench_stats_t st;
	if (!cs || bench_stats_init(&st))
		return 1;
	uint8_t *out = malloc((size_t)pl * REQ_MAX);
	uint64_t rnd = 0x2545f4914f6cdd1dULL ^ (uint64_t)getpid();
	int ep = epoll_create1(0);
	double now = bench_now();
	for (unsigned c = 0; c < nc; c++) {
		cs[c].fd = connect_to(o->server, SOCK_STREAM);
		if (cs[c].fd < 0)
			return 1;
		cs[c].sent = calloc(pl, sizeof(double));
		struct epoll_event e = { .events = EPOLLIN, .data.ptr = &cs[c] };
		epoll_ctl(ep, EPOLL_CTL_ADD, cs[c].fd, &e);
	}
	double start = now, measure = now + o->warmup, end = measure + o->duration;
	bool measuring = false;
	int rc = 0;

	/* Fill every pipeline, then refill as answers arrive. */
	for (unsigned c = 0; c < nc; c++) {
		size_t olen = 0;
		for (unsigned k = 0; k < pl; k++) {
			olen += bench_make_request(out + olen, REQ_MAX, o->prefix,
						   bench_rand(&rnd) % o->count, ++cs[c].next_rid);
			cs[c].sent[(cs[c].head + cs[c].inflight++) % pl] = now;
		}
		if (write(cs[c].fd, out, olen) != (ssize_t)olen)
			rc = 1;
	}
	while (!rc && now < end) {
		struct epoll_event evs[64];
		int k = epoll_wait(ep, evs, 64, 1000);
		now = bench_now();
		if (!measuring && now >= measure) {
			measuring = true;
			bench_stats_reset(&st); /* the warm-up does not count */
			start = now;
		}
		if (k == 0) {
			st.timeouts++;
			continue;
		}
		for (int i = 0; i < k; i++) {
			tcp_conn_t *c = evs[i].data.ptr;
			ssize_t got = read(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen);
			if (got <= 0) {
				fprintf(stderr, "idnode-bench: connection closed by the server\n");
				rc = 1;
				break;
			}
			c->inlen += (size_t)got;
			size_t pos = 0, olen = 0;
			while (c->inlen - pos >= IDN_ENVELOPE_LEN) {
				size_t m = IDN_ENVELOPE_LEN + idn_get_be32(c->in + pos + 16);
				if (m > sizeof(c->in)) {
					rc = 1;
					break;
				}
				if (c->inlen - pos < m)
					break;
				bench_stats_add(&st, (now - c->sent[c->head]) * 1e6,
						idn_get_be32(c->in + pos + 24));
				st.reply_bytes += m;
				c->head = (c->head + 1) % pl;
				c->inflight--;
				pos += m;
				olen += bench_make_request(out + olen, REQ_MAX, o->prefix,
							   bench_rand(&rnd) % o->count, ++c->next_rid);
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
	bench_stats_print(&st, "tcp", o->json);
	for (unsigned c = 0; c < nc; c++) {
		close(cs[c].fd);
		free(cs[c].sent);
	}
	close(ep);
	bench_stats_free(&st);
	free(cs);
	free(out);
	return rc || !st.replies;
}
