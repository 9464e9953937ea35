/* udp.c - the UDP listener: batched recvmmsg/sendmmsg, CNRI multi-packet requests and responses. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proto/respond.h"
#include "resolver/tcp_conn.h"

/*
 * Why batches: one datagram per event costs about twice the work of the
 * kernel path itself (perf-anchors.md). Each read event drains up to
 * UDP_ROUNDS x UDP_BATCH datagrams, answers them into an arena and sends
 * the answers with one sendmmsg per batch. One read transaction covers the
 * whole event so LMDB's reader setup is paid once.
 */

static void tx_flush(worker_t *w)
{
	unsigned sent = 0;
	while (sent < w->ntx) {
		int n = sendmmsg(w->udp_fd, w->tx + sent, w->ntx - sent, MSG_DONTWAIT);
		if (n <= 0) {
			/* A full socket buffer or a peer that went away: UDP answers
			 * are best effort, the client retries. */
			if (n < 0 && errno == EINTR)
				continue;
			break;
		}
		sent += (unsigned)n;
	}
	w->ntx = 0;
	w->arena_used = 0;
}

static void tx_push(worker_t *w, const struct sockaddr_storage *to, socklen_t tolen,
		    const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (w->ntx == UDP_TX_SLOTS || w->arena_used + alen + blen > UDP_ARENA)
		tx_flush(w);
	uint8_t *p = w->arena + w->arena_used;
	memcpy(p, a, alen);
	if (blen)
		memcpy(p + alen, b, blen);
	unsigned i = w->ntx++;
	w->arena_used += alen + blen;
	w->tx_addr[i] = *to;
	w->tx_iov[i].iov_base = p;
	w->tx_iov[i].iov_len = alen + blen;
	memset(&w->tx[i].msg_hdr, 0, sizeof(w->tx[i].msg_hdr));
	w->tx[i].msg_hdr.msg_name = &w->tx_addr[i];
	w->tx[i].msg_hdr.msg_namelen = tolen;
	w->tx[i].msg_hdr.msg_iov = &w->tx_iov[i];
	w->tx[i].msg_hdr.msg_iovlen = 1;
}

/* Queue a response message; over 492 message bytes it goes out as CNRI
 * does: ceil(len/492) datagrams, each with the envelope (MessageId = part
 * number, MessageLength = total, TC clear) and the next 492-byte chunk. */
static void udp_send_msg(worker_t *w, const struct sockaddr_storage *to, socklen_t tolen,
			 const uint8_t *msg, size_t len)
{
	if (len <= IDN_UDP_PACKET_MAX) {
		tx_push(w, to, tolen, msg, len, NULL, 0);
		return;
	}
	size_t body = len - IDN_ENVELOPE_LEN;
	uint8_t env[IDN_ENVELOPE_LEN];
	memcpy(env, msg, IDN_ENVELOPE_LEN);
	env[2] &= (uint8_t)~IDN_ENV_TC;
	for (uint32_t part = 0; (size_t)part * IDN_UDP_CHUNK < body; part++) {
		size_t off = (size_t)part * IDN_UDP_CHUNK;
		size_t n = body - off < IDN_UDP_CHUNK ? body - off : IDN_UDP_CHUNK;
		idn_put_be32(env + 12, part);
		tx_push(w, to, tolen, env, sizeof(env), msg + IDN_ENVELOPE_LEN + off, n);
	}
}

/*
 * The amplification cap: an answer over udp_max_answer message bytes is
 * not sent as multi-packet UDP. The client gets RC 2 "use TCP" instead:
 * CNRI's HandleResolver turns an RC 2 answer into an exception
 * (sendRequestToInterface) and its protocol loop (sendRequestToServer)
 * goes straight on to TCP, one round trip later; silence would cost it its
 * whole UDP retry schedule (0.5 + 1 + 1.5 s) first, and any other code is
 * handed to the application as the answer. The IDIS SDK speaks TCP only.
 */
static bool udp_over_cap(worker_t *w, size_t len)
{
	return len > IDN_ENVELOPE_LEN + (size_t)w->srv->opts.udp_max_answer;
}

static void udp_send_capped(worker_t *w, const struct sockaddr_storage *to, socklen_t tolen,
			    const idn_msg_t *req, const idn_resp_ctx_t *ctx)
{
	uint8_t buf[IDN_UDP_PACKET_MAX * 2];
	idn_wire_t o;
	idn_wire_init(&o, buf, sizeof(buf));
	w->q.stats.udp_answers_capped++;
	if (idn_resp_error(&o, req, ctx, IDN_RC_ERROR, "Answer too large for UDP; use TCP") ==
	    IDN_OK)
		udp_send_msg(w, to, tolen, buf, idn_wire_offset(&o));
}

/* Over the rate: most are dropped (answering a flood feeds a reflection);
 * the first few a second get RC 603 so a real client learns why. */
static void udp_limited(worker_t *w, const struct sockaddr_storage *from, socklen_t fromlen,
			const uint8_t *buf, size_t len, int verdict)
{
	idn_query_t *q = &w->q;
	if (verdict != IDN_RL_ANSWER || (len >= IDN_ENVELOPE_LEN && (buf[2] & IDN_ENV_TC))) {
		q->stats.rate_limited_udp_dropped++;
		return;
	}
	q->transport = IDN_TR_UDP;
	if (idn_query_consume(q, buf, len) == IDN_Q_DROP || q->decode_err) {
		q->stats.rate_limited_udp_dropped++;
		return;
	}
	idn_resp_ctx_t ctx;
	idn_query_resp_ctx(q, &ctx);
	idn_wire_t o;
	idn_wire_init(&o, w->scratch, SCRATCH_LEN);
	q->stats.rate_limited_answered++;
	if (idn_resp_error(&o, &q->msg, &ctx, IDN_RC_REQUEST_LIMIT_DAILY,
			   "Request rate limit exceeded") == IDN_OK)
		udp_send_msg(w, from, fromlen, w->scratch, idn_wire_offset(&o));
}

/* A request answered later (recursion): the job keeps a copy and the
 * peer's address; a client that gets no answer retries, so running out of
 * memory only drops it. */
static void udp_job_submit(worker_t *w, const struct sockaddr_storage *from, socklen_t fromlen,
			   const uint8_t *buf, size_t len)
{
	pending_t *p = job_new(w, buf, len, IDN_TR_UDP);
	if (!p) {
		worker_log_bad(w, (const struct sockaddr *)from, "out of memory for a recursion");
		return;
	}
	memcpy(&p->job.peer, from, fromlen);
	p->peerlen = fromlen;
	job_dispatch(w, p);
}

void udp_job_answer(worker_t *w, pending_t *p)
{
	const uint8_t *m = p->job.resp;
	size_t left = m ? p->job.resp_len : 0;
	/* The answer may be several messages back to back. */
	while (left >= IDN_ENVELOPE_LEN) {
		size_t n = IDN_ENVELOPE_LEN + (size_t)idn_get_be32(m + 16);
		if (n > left)
			break;
		if (udp_over_cap(w, n)) {
			udp_send_capped(w, &p->job.peer, p->peerlen, &p->job.msg, &p->job.ctx);
			break;
		}
		udp_send_msg(w, &p->job.peer, p->peerlen, m, n);
		m += n;
		left -= n;
	}
	tx_flush(w);
}

static void process(worker_t *w, const struct sockaddr_storage *from, socklen_t fromlen,
		    const uint8_t *buf, size_t len)
{
	idn_query_t *q = &w->q;
	q->transport = IDN_TR_UDP;
	int st = idn_query_consume(q, buf, len);
	if (st == IDN_Q_DROP) {
		if (q->why)
			worker_log_bad(w, (const struct sockaddr *)from, q->why);
		return;
	}
	while (st == IDN_Q_PRODUCE) {
		idn_wire_t out;
		idn_wire_init(&out, w->scratch, SCRATCH_LEN);
		st = idn_query_produce(q, &out);
		if (out.err)
			return;
		if (st == IDN_Q_ASYNC) {
			udp_job_submit(w, from, fromlen, buf, len);
			break;
		}
		if (udp_over_cap(w, idn_wire_offset(&out))) {
			idn_resp_ctx_t ctx;
			idn_query_resp_ctx(q, &ctx);
			udp_send_capped(w, from, fromlen, &q->msg, &ctx);
			break;
		}
		udp_send_msg(w, from, fromlen, out.base, idn_wire_offset(&out));
	}
	if (q->why)
		worker_log_bad(w, (const struct sockaddr *)from, q->why);
}

/* ---- multi-packet requests (TC flag): reassembly keyed by (source, RequestId) ---- */

static void reasm_free(worker_t *w, reasm_t *r)
{
	if (r->buf) {
		w->reasm_bytes -= r->total + IDN_ENVELOPE_LEN + r->nparts;
		free(r->buf);
		free(r->seen);
	}
	memset(r, 0, sizeof(*r));
}

static void reasm_expire(worker_t *w, uint32_t now)
{
	for (int i = 0; i < REASM_SLOTS; i++)
		if (w->reasm[i].buf && w->reasm[i].deadline < now) {
			worker_log_bad(w, (struct sockaddr *)&w->reasm[i].from,
				       "incomplete multi-packet request dropped");
			reasm_free(w, &w->reasm[i]);
		}
}

static bool same_addr(const struct sockaddr_storage *a, socklen_t alen,
		      const struct sockaddr_storage *b, socklen_t blen)
{
	return alen == blen && memcmp(a, b, alen) == 0;
}

static void reasm_add(worker_t *w, const struct sockaddr_storage *from, socklen_t fromlen,
		      const uint8_t *pkt, size_t len)
{
	idn_envelope_t env;
	if (idn_envelope_decode(pkt, len, &env) != IDN_OK || env.message_len < IDN_HEADER_LEN) {
		worker_log_bad(w, (const struct sockaddr *)from, "bad multi-packet envelope");
		return;
	}
	if (env.message_len > (uint32_t)w->srv->opts.max_request) {
		w->q.stats.oversized_requests++;
		worker_log_bad(w, (const struct sockaddr *)from, "multi-packet request over max-request");
		return;
	}
	uint32_t nparts = (env.message_len + IDN_UDP_CHUNK - 1) / IDN_UDP_CHUNK;
	size_t chunk = len - IDN_ENVELOPE_LEN;
	size_t off = (size_t)env.message_id * IDN_UDP_CHUNK;
	size_t want = env.message_id + 1 == nparts ? env.message_len - off : IDN_UDP_CHUNK;
	if (env.message_id >= nparts || chunk != want) {
		worker_log_bad(w, (const struct sockaddr *)from, "bad multi-packet part");
		return;
	}

	reasm_t *r = NULL, *free_slot = NULL, *oldest = NULL;
	for (int i = 0; i < REASM_SLOTS; i++) {
		reasm_t *e = &w->reasm[i];
		if (!e->buf) {
			if (!free_slot)
				free_slot = e;
			continue;
		}
		if (e->request_id == env.request_id &&
		    same_addr(&e->from, e->fromlen, from, fromlen)) {
			r = e;
			break;
		}
		if (!oldest || e->deadline < oldest->deadline)
			oldest = e;
	}
	if (r && r->total != env.message_len) {
		worker_log_bad(w, (const struct sockaddr *)from, "inconsistent multi-packet request");
		reasm_free(w, r);
		return;
	}
	if (!r) {
		size_t need = env.message_len + IDN_ENVELOPE_LEN + nparts;
		if (!free_slot || w->reasm_bytes + need > REASM_MAX_BYTES) {
			/* Evict the oldest: a flood of partial requests must not
			 * pin memory or block honest clients for long. */
			if (!oldest)
				return;
			reasm_free(w, oldest);
			free_slot = oldest;
			if (w->reasm_bytes + need > REASM_MAX_BYTES)
				return;
		}
		r = free_slot;
		r->buf = malloc(env.message_len + IDN_ENVELOPE_LEN);
		r->seen = calloc(nparts, 1);
		if (!r->buf || !r->seen) {
			free(r->buf);
			free(r->seen);
			memset(r, 0, sizeof(*r));
			return;
		}
		w->reasm_bytes += need;
		r->from = *from;
		r->fromlen = fromlen;
		r->request_id = env.request_id;
		r->total = env.message_len;
		r->nparts = nparts;
		r->deadline = w->q.now + (uint32_t)w->srv->opts.udp_reassembly_timeout;
		memcpy(r->buf, pkt, IDN_ENVELOPE_LEN);
		r->buf[2] &= (uint8_t)~IDN_ENV_TC;
		idn_put_be32(r->buf + 12, 0);
	}
	if (r->seen[env.message_id])
		return; /* a repeated part */
	r->seen[env.message_id] = 1;
	memcpy(r->buf + IDN_ENVELOPE_LEN + off, pkt + IDN_ENVELOPE_LEN, chunk);
	if (++r->got < r->nparts)
		return;

	struct sockaddr_storage to = r->from;
	socklen_t tolen = r->fromlen;
	uint8_t *msg = r->buf;
	size_t msglen = r->total + IDN_ENVELOPE_LEN;
	r->buf = NULL; /* keep the buffer through processing */
	w->reasm_bytes -= msglen + r->nparts;
	free(r->seen);
	memset(r, 0, sizeof(*r));
	process(w, &to, tolen, msg, msglen);
	free(msg);
}

#define UDP_HINT_SET 4
#define UDP_HINT_REC 2

static inline void rx_prefetch(worker_t *w, int i, int stage)
{
	size_t len = w->rx[i].msg_len;
	if (len <= IDN_UDP_PACKET_MAX)
		worker_prefetch(w, w->rx_buf[i], len, stage);
}

static void on_udp_read(evutil_socket_t fd, short what, void *arg)
{
	worker_t *w = arg;
	w->q.now = (uint32_t)time(NULL);
	w->now_us = worker_clock_us();
	reasm_expire(w, w->q.now);
	if (idn_reader_begin(w->reader) != IDN_OK)
		return;
	for (int round = 0; round < UDP_ROUNDS; round++) {
		for (int i = 0; i < UDP_BATCH; i++) {
			w->rx[i].msg_hdr.msg_namelen = sizeof(w->rx_addr[i]);
			w->rx[i].msg_hdr.msg_flags = 0;
		}
		int n = recvmmsg(fd, w->rx, UDP_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		/* Hints for the lookups ahead (worker_prefetch): cache sets
		 * UDP_HINT_SET datagrams ahead, records UDP_HINT_REC ahead. */
		for (int i = 1; i < n && i < UDP_HINT_SET; i++)
			rx_prefetch(w, i, 1);
		for (int i = 0; i < n; i++) {
			size_t len = w->rx[i].msg_len;
			const uint8_t *pkt = w->rx_buf[i];
			if (i + UDP_HINT_SET < n)
				rx_prefetch(w, i + UDP_HINT_SET, 1);
			if (i + UDP_HINT_REC < n)
				rx_prefetch(w, i + UDP_HINT_REC, 2);
			socklen_t alen = w->rx[i].msg_hdr.msg_namelen;
			if (len > IDN_UDP_PACKET_MAX) {
				worker_log_bad(w, (struct sockaddr *)&w->rx_addr[i],
					       "datagram over 512 bytes");
				continue;
			}
			/* Every UDP request is a resolution-class one (admin ones
			 * are refused here anyway). */
			int rv = idn_rl_take(w->rl, idn_rl_key((struct sockaddr *)&w->rx_addr[i]),
					     IDN_RL_RESOLVE, w->now_us);
			if (rv != IDN_RL_PASS) {
				udp_limited(w, &w->rx_addr[i], alen, pkt, len, rv);
				continue;
			}
			if (len >= IDN_ENVELOPE_LEN && (pkt[2] & IDN_ENV_TC))
				reasm_add(w, &w->rx_addr[i], alen, pkt, len);
			else
				process(w, &w->rx_addr[i], alen, pkt, len);
		}
		tx_flush(w);
		if (n < UDP_BATCH)
			break;
	}
	tx_flush(w);
	idn_reader_end(w->reader);
	worker_publish(w);
}

int udp_setup(worker_t *w)
{
	w->arena = malloc(UDP_ARENA);
	if (!w->arena)
		return IDN_ENOMEM;
	for (int i = 0; i < UDP_BATCH; i++) {
		w->rx_iov[i].iov_base = w->rx_buf[i];
		/* One spare byte tells an oversized datagram from a full one. */
		w->rx_iov[i].iov_len = sizeof(w->rx_buf[i]);
		w->rx[i].msg_hdr.msg_iov = &w->rx_iov[i];
		w->rx[i].msg_hdr.msg_iovlen = 1;
		w->rx[i].msg_hdr.msg_name = &w->rx_addr[i];
	}
	w->udp_ev = event_new(w->base, w->udp_fd, EV_READ | EV_PERSIST, on_udp_read, w);
	if (!w->udp_ev || event_add(w->udp_ev, NULL) != 0)
		return IDN_ENOMEM;
	return IDN_OK;
}

void udp_teardown(worker_t *w)
{
	if (w->udp_ev)
		event_free(w->udp_ev);
	w->udp_ev = NULL;
	for (int i = 0; i < REASM_SLOTS; i++)
		reasm_free(w, &w->reasm[i]);
	free(w->arena);
	w->arena = NULL;
	if (w->udp_fd >= 0)
		close(w->udp_fd);
	w->udp_fd = -1;
}
