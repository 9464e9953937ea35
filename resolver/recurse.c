/* recurse.c - the recursor's steps: prefix record (cache, local store, top, referrals), then the handle at the responsible server, relayed and cached. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proto/record.h"
#include "resolver/recurse_int.h"

static const char *const PREFIX_TYPES[] = { "HS_SITE", "HS_SITE.6", "HS_SERV", "HS_NAMESPACE" };
#define N_PREFIX_TYPES 4

static uint32_t now_s(void)
{
	return (uint32_t)time(NULL);
}

void rx_log(struct idn_recursor *r, int level, const char *fmt, ...)
{
	/* An upstream that lies or dies must not flood the log: 5 lines a second. */
	uint32_t now = now_s();
	if (now != r->log_second) {
		r->log_second = now;
		r->log_count = 0;
	}
	if (!r->o.log || r->log_count++ >= 5)
		return;
	va_list ap;
	va_start(ap, fmt);
	r->o.log(level, fmt, ap);
	va_end(ap);
}

/* ---- answering the client ---- */

void job_answer(idn_job_t *job, uint32_t rcode, idn_bytes_t handle, const uint8_t *vals,
		       size_t vlen, const char *text)
{
	size_t cap = IDN_MSG_BODY_OFF + 4 + handle.len + vlen + 4096;
	job->resp = malloc(cap);
	job->resp_len = 0;
	if (job->resp) {
		idn_wire_t w;
		idn_wire_init(&w, job->resp, cap);
		job->ctx.now = now_s();
		if (idn_relay_answer(&w, &job->msg, &job->ctx, rcode, handle, vals, vlen, text) ==
		    IDN_OK)
			job->resp_len = idn_wire_offset(&w);
	}
	/* No answer (out of memory): the listener answers RC 2 on TCP; a UDP
	 * client retries. */
	if (!job->resp_len) {
		free(job->resp);
		job->resp = NULL;
	}
	job->done(job);
}

static void rjob_free(rjob_t *j)
{
	struct idn_recursor *r = j->r;
	tx_cancel(&j->tx);
	if (j->tx.timer)
		event_free(j->tx.timer);
	if (j->deadline)
		event_free(j->deadline);
	if (j->prev)
		j->prev->next = j->next;
	else
		r->jobs = j->next;
	if (j->next)
		j->next->prev = j->prev;
	free(j);
	atomic_fetch_sub_explicit(&r->inflight, 1, memory_order_relaxed);
}

static void finish(rjob_t *j, uint32_t rcode, const uint8_t *vals, size_t vlen, const char *text)
{
	rx_count(j->r, S_ANSWERED);
	job_answer(j->job, rcode, j->req.handle, vals, vlen, text);
	rjob_free(j);
}

static void fail(rjob_t *j, const char *why)
{
	rx_count(j->r, S_BAD);
	rx_log(j->r, IDN_LOG_NOTICE, "recursion for %.*s: %s", (int)j->keylen, j->key, why);
	finish(j, IDN_RC_ERROR, NULL, 0, "Recursive resolution failed");
}

void rx_failed(rjob_t *j, const char *why)
{
	fail(j, why);
}

static void cache_put(rjob_t *j, int kind, const uint8_t *h, size_t hl, const idn_resolve_req_t *f,
		      uint32_t rcode, const uint8_t *vals, size_t vlen, uint32_t ttl)
{
	uint8_t k[IDN_RCC_MAX_KEY];
	size_t kl = idn_rcc_key(k, sizeof(k), kind, h, hl, f);
	if (kl)
		idn_rcc_put(j->r->o.cache, k, kl, rcode, vals, vlen, now_s(), ttl);
}

/* ---- requests and answers ---- */

/* A resolution request for `handle` (RequestId filled in by tx_start). */
static size_t build_request(rjob_t *j, const uint8_t *handle, size_t hl, bool prefix_types,
			    uint8_t *buf, size_t cap)
{
	idn_wire_t w;
	idn_wire_init(&w, buf, cap);
	idn_envelope_t env = { .major = IDN_PROTO_MAJOR, .minor = IDN_PROTO_MINOR,
			       .sugg_major = IDN_PROTO_MAJOR, .sugg_minor = IDN_PROTO_MINOR };
	/* Public values only (we cannot answer a challenge for the client),
	 * no REC (the servers asked answer for what they hold, so no loops
	 * through recursive servers), one more hop in the count. */
	idn_header_t h = { .opcode = IDN_OC_RESOLUTION, .opflag = IDN_OF_PO, .site_serial = 0xffff,
			   .recursion = (uint8_t)(j->job->msg.hdr.recursion + 1),
			   .expiration = now_s() + IDN_EXPIRATION_SLACK };
	size_t start = idn_msg_begin(&w, &env, &h);
	idn_resolve_req_t r;
	if (prefix_types) {
		memset(&r, 0, sizeof(r));
		r.n_type = N_PREFIX_TYPES;
		for (int i = 0; i < N_PREFIX_TYPES; i++)
			r.type[i] = (idn_bytes_t){ (const uint8_t *)PREFIX_TYPES[i],
						   (uint32_t)strlen(PREFIX_TYPES[i]) };
	} else {
		r = j->req;
		r.has_token = false;
	}
	r.handle = (idn_bytes_t){ handle, (uint32_t)hl };
	idn_resolve_req_encode(&w, &r);
	idn_msg_end(&w, start, true);
	return w.err ? 0 : idn_wire_offset(&w);
}

typedef struct {
	idn_msg_t m;
	idn_bytes_t handle;
	uint32_t count;
	const uint8_t *vals;
	size_t vlen;
	uint32_t min_ttl;
} answer_t;

/* Decode an answer to a resolution; for RC 1 and 303 check every value
 * and take the smallest TTL. false = a lying or broken server. */
static bool decode_answer(rjob_t *j, const uint8_t *msg, size_t len, answer_t *a, const char **why)
{
	*why = "undecodable answer";
	if (idn_msg_decode(msg, len, &a->m) != IDN_OK)
		return false;
	if (a->m.hdr.opcode != IDN_OC_RESOLUTION || a->m.hdr.rcode == 0) {
		*why = "not an answer to a resolution";
		return false;
	}
	if (a->m.hdr.rcode != IDN_RC_SUCCESS && a->m.hdr.rcode != IDN_RC_PREFIX_REFERRAL)
		return true;
	const uint8_t *p = a->m.body.p;
	size_t n = a->m.body.len;
	if (a->m.hdr.opflag & IDN_OF_RD) {
		uint8_t alg;
		idn_bytes_t d;
		size_t skip;
		if (idn_digest_decode(p, n, &alg, &d, &skip) != IDN_OK)
			return false;
		p += skip;
		n -= skip;
	}
	idn_wire_t w;
	idn_wire_init_ro(&w, p, n);
	a->handle = idn_wire_get_bstr(&w, IDN_MAX_HANDLE_LEN);
	a->count = idn_wire_get_u32(&w);
	if (w.err || a->count > IDN_MAX_VALUES) {
		*why = w.err ? "undecodable answer" : "too many values";
		return false;
	}
	a->vals = w.pos;
	uint32_t now = now_s(), ttl = j->r->o.max_ttl;
	for (uint32_t i = 0; i < a->count; i++) {
		idn_value_t v;
		if (idn_value_decode(&w, &v) != IDN_OK) {
			*why = "undecodable values";
			return false;
		}
		uint32_t t = v.ttl_type == IDN_TTL_ABSOLUTE ? (v.ttl > now ? v.ttl - now : 0) : v.ttl;
		if (t < ttl)
			ttl = t;
	}
	a->vlen = (size_t)(w.pos - a->vals);
	a->min_ttl = a->count ? ttl : j->r->o.negative_ttl;
	return true;
}

/* Where to ask about `handle`, from the site values of the given types:
 * the server the handle hashes to (CNRI 7.1), its UDP and TCP query ports. */
static bool pick_site(rjob_t *j, const uint8_t *vals, size_t vlen, uint32_t count,
		      const char *const *types, int ntypes, const uint8_t *handle, size_t hl)
{
	static __thread idn_site_t site; /* ~6.5 KiB: not on the stack */
	idn_wire_t w;
	idn_wire_init_ro(&w, vals, vlen);
	for (uint32_t i = 0; i < count; i++) {
		idn_value_t v;
		if (idn_value_decode(&w, &v) != IDN_OK)
			return false;
		bool want = false;
		for (int k = 0; k < ntypes; k++)
			if (idn_handle_eq_ci(v.type.p, v.type.len, (const uint8_t *)types[k], strlen(types[k])))
				want = true;
		if (!want || idn_site_decode(v.data.p, v.data.len, &site) != IDN_OK ||
		    site.n_servers == 0)
			continue;
		uint32_t si = idn_site_server_index(site.hash_option, site.n_servers, handle, hl);
		const idn_site_server_t *s = &site.servers[si];
		struct sockaddr_storage ss;
		memset(&ss, 0, sizeof(ss));
		socklen_t sl;
		static const uint8_t zero[12], mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		if (!memcmp(s->address, zero, 12) || !memcmp(s->address, mapped, 12)) {
			struct sockaddr_in *in = (struct sockaddr_in *)&ss;
			in->sin_family = AF_INET;
			memcpy(&in->sin_addr, s->address + 12, 4);
			sl = sizeof(*in);
		} else {
			struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
			in6->sin6_family = AF_INET6;
			memcpy(&in6->sin6_addr, s->address, 16);
			sl = sizeof(*in6);
		}
		tx_t *t = &j->tx;
		memset(&t->udp, 0, sizeof(t->udp));
		memset(&t->tcp, 0, sizeof(t->tcp));
		for (uint32_t f = 0; f < s->n_ifs; f++) {
			const idn_site_if_t *it = &s->ifs[f];
			if (!(it->type & IDN_IF_QUERY) || it->port == 0 || it->port > 65535)
				continue;
			struct sockaddr_storage *dst = it->protocol == IDN_PROTO_UDP ? &t->udp
						      : it->protocol == IDN_PROTO_TCP ? &t->tcp
										      : NULL;
			if (!dst || dst->ss_family)
				continue;
			*dst = ss;
			if (ss.ss_family == AF_INET)
				((struct sockaddr_in *)dst)->sin_port = htons((uint16_t)it->port);
			else
				((struct sockaddr_in6 *)dst)->sin6_port = htons((uint16_t)it->port);
			if (it->protocol == IDN_PROTO_UDP)
				t->udp_len = sl;
			else
				t->tcp_len = sl;
		}
		if (t->udp.ss_family || t->tcp.ss_family)
			return true;
	}
	return false;
}

static void ask(rjob_t *j, const uint8_t *handle, size_t hl, bool prefix_types, bool upstream)
{
	uint8_t buf[IDN_MSG_BODY_OFF + IDN_STORE_MAX_KEY + 64 * 2 * 260 + 64];
	size_t n = build_request(j, handle, hl, prefix_types, buf, sizeof(buf));
	if (!n) {
		fail(j, "request does not fit");
		return;
	}
	j->tx.upstream = upstream;
	tx_start(j, buf, n);
}

static void prefix_start(rjob_t *j);

/* The prefix record is known: ask the responsible server for the handle. */
static void have_prefix(rjob_t *j, const uint8_t *vals, size_t vlen, uint32_t count)
{
	static const char *const site_types[] = { "HS_SITE", "HS_SITE.6" };
	if (pick_site(j, vals, vlen, count, site_types, 2, j->req.handle.p, j->req.handle.len)) {
		j->stage = ST_HANDLE;
		ask(j, j->req.handle.p, j->req.handle.len, false, false);
		return;
	}
	/* HS_SERV: the service handle's HS_SITE says where (one more hop). */
	idn_wire_t w;
	idn_wire_init_ro(&w, vals, vlen);
	for (uint32_t i = 0; i < count; i++) {
		idn_value_t v;
		if (idn_value_decode(&w, &v) != IDN_OK)
			break;
		if (!idn_handle_eq_ci(v.type.p, v.type.len, (const uint8_t *)"HS_SERV", 7) || v.data.len == 0 ||
		    v.data.len > sizeof(j->ph))
			continue;
		if (++j->hops > RX_MAX_HOPS) {
			fail(j, "service handles loop");
			return;
		}
		memcpy(j->ph, v.data.p, v.data.len);
		j->phlen = v.data.len;
		j->via_service = true;
		prefix_start(j);
		return;
	}
	fail(j, "prefix record names no usable site");
}

typedef struct {
	uint32_t rcode;
	uint8_t *data;
	size_t len;
	bool ok;
} copy_t;

static void copy_entry(void *arg, uint32_t rcode, const uint8_t *data, size_t len, uint32_t exp)
{
	copy_t *c = arg;
	c->rcode = rcode;
	c->data = malloc(len ? len : 1);
	c->len = len;
	c->ok = c->data != NULL;
	if (c->ok && len)
		memcpy(c->data, data, len);
}

static void prefix_answer(rjob_t *j, const uint8_t *msg, size_t len);

/* The prefix (or service) handle j->ph: cache, then the local store, then the top. */
static void prefix_start(rjob_t *j)
{
	struct idn_recursor *r = j->r;
	j->stage = ST_PREFIX;
	uint8_t k[IDN_RCC_MAX_KEY];
	size_t kl = idn_rcc_key(k, sizeof(k), IDN_RCC_PREFIX, j->ph, j->phlen, NULL);
	copy_t c = { 0 };
	if (kl && !j->direct && idn_rcc_get(r->o.cache, k, kl, now_s(), copy_entry, &c) && c.ok) {
		rx_count(r, S_PREFIX_HITS);
		/* The values were checked when they were cached. */
		uint32_t count = c.len >= 4 ? idn_get_be32(c.data) : 0;
		if (c.rcode == IDN_RC_SUCCESS)
			have_prefix(j, c.data + 4, c.len - 4, count);
		else
			finish(j, IDN_RC_HANDLE_NOT_FOUND, NULL, 0, NULL);
		free(c.data);
		return;
	}
	free(c.data);
	/* A top holds the prefix records itself (and refers from them). */
	uint8_t req[IDN_MSG_BODY_OFF + IDN_STORE_MAX_KEY + 64 * 2 * 260 + 64];
	size_t n = build_request(j, j->ph, j->phlen, !j->direct, req, sizeof(req));
	if (n) {
		idn_put_be32(req + 8, 1);
		r->lq.now = now_s();
		size_t out = 0;
		if (idn_reader_begin(r->reader) == IDN_OK) {
			if (idn_query_consume(&r->lq, req, n) == IDN_Q_PRODUCE) {
				idn_wire_t w;
				idn_wire_init(&w, r->lbuf, IDN_ENVELOPE_LEN + IDN_MAX_MESSAGE_LEN);
				idn_query_produce(&r->lq, &w);
				out = w.err ? 0 : idn_wire_offset(&w);
			}
			idn_reader_end(r->reader);
		}
		if (out >= IDN_MSG_BODY_OFF &&
		    idn_get_be32(r->lbuf + IDN_ENVELOPE_LEN + 4) != IDN_RC_SERVER_NOT_RESP) {
			prefix_answer(j, r->lbuf, out);
			return;
		}
	}
	if (r->n_up == 0) {
		finish(j, IDN_RC_SERVER_NOT_RESP, NULL, 0, "That prefix doesn't live here");
		return;
	}
	/* Names whose TTL ended are resolved again; until then (and if that
	 * fails) the addresses they had are asked. */
	dns_refresh(r);
	rx_ask_upstream(j);
}

void rx_ask_upstream(rjob_t *j)
{
	struct idn_recursor *r = j->r;
	if (!rx_next_upstream(j, &j->tx)) {
		/* Only names never resolved yet: wait for them (the deadline
		 * still holds), unless no query is in flight any more. */
		if (dns_pending(r)) {
			j->wait_dns = true;
			return;
		}
		const char *why = "no upstream address";
		for (int i = 0; i < r->n_up; i++)
			if (r->up[i].error[0]) {
				why = r->up[i].error;
				break;
			}
		fail(j, why);
		return;
	}
	ask(j, j->ph, j->phlen, !j->direct, true);
}

static void handle_answer(rjob_t *j, const uint8_t *msg, size_t len);

static void prefix_answer(rjob_t *j, const uint8_t *msg, size_t len)
{
	answer_t a;
	const char *why;
	if (!decode_answer(j, msg, len, &a, &why)) {
		fail(j, why);
		return;
	}
	uint32_t rc = a.m.hdr.rcode;
	if (rc == IDN_RC_SUCCESS && !j->direct) {
		if (!idn_handle_eq_ci(a.handle.p, a.handle.len, j->ph, j->phlen)) {
			fail(j, "answer for another handle");
			return;
		}
		/* Cached with its count in front, as have_prefix() reads it back. */
		uint8_t *copy = malloc(4 + a.vlen);
		if (copy) {
			idn_put_be32(copy, a.count);
			memcpy(copy + 4, a.vals, a.vlen);
			cache_put(j, IDN_RCC_PREFIX, j->ph, j->phlen, NULL, IDN_RC_SUCCESS, copy,
				  4 + a.vlen, a.min_ttl);
			free(copy);
		}
		have_prefix(j, a.vals, a.vlen, a.count);
		return;
	}
	if (rc == IDN_RC_PREFIX_REFERRAL) {
		static const char *const ref_types[] = { "HS_SITE.PREFIX", "HS_NA_DELEGATE" };
		if (++j->hops > RX_MAX_HOPS) {
			fail(j, "too many prefix referrals (a referral loop?)");
			return;
		}
		if (!pick_site(j, a.vals, a.vlen, a.count, ref_types, 2, j->ph, j->phlen)) {
			fail(j, "prefix referral names no usable site");
			return;
		}
		ask(j, j->ph, j->phlen, !j->direct, false);
		return;
	}
	if (j->direct) {
		/* The client asked for a prefix handle: its answer is the answer. */
		handle_answer(j, msg, len);
		return;
	}
	if (rc == IDN_RC_HANDLE_NOT_FOUND || rc == IDN_RC_VALUES_NOT_FOUND) {
		/* No such prefix: so no such handle, for a while. */
		cache_put(j, IDN_RCC_PREFIX, j->ph, j->phlen, NULL, IDN_RC_HANDLE_NOT_FOUND, NULL, 0,
			  j->r->o.negative_ttl);
		cache_put(j, IDN_RCC_ANSWER, j->key, j->keylen, &j->req, IDN_RC_HANDLE_NOT_FOUND, NULL,
			  0, j->r->o.negative_ttl);
		finish(j, IDN_RC_HANDLE_NOT_FOUND, NULL, 0, NULL);
		return;
	}
	if (rc == IDN_RC_SERVER_NOT_RESP) {
		finish(j, rc, NULL, 0, "That prefix doesn't live here");
		return;
	}
	char why_rc[64];
	snprintf(why_rc, sizeof(why_rc), "prefix resolution answered RC %u", rc);
	fail(j, why_rc);
}

static void handle_answer(rjob_t *j, const uint8_t *msg, size_t len)
{
	answer_t a;
	const char *why;
	if (!decode_answer(j, msg, len, &a, &why)) {
		fail(j, why);
		return;
	}
	uint32_t rc = a.m.hdr.rcode;
	switch (rc) {
	case IDN_RC_SUCCESS:
		/* A bare prefix went out as its prefix handle (direct). */
		if (!(j->direct ? idn_handle_eq_ci(a.handle.p, a.handle.len, j->ph, j->phlen)
				: idn_handle_eq_ci(a.handle.p, a.handle.len, j->req.handle.p, j->req.handle.len))) {
			fail(j, "answer for another handle");
			return;
		}
		cache_put(j, IDN_RCC_ANSWER, j->key, j->keylen, &j->req, rc, a.vals - 4, a.vlen + 4,
			  a.min_ttl);
		finish(j, rc, a.vals - 4, a.vlen + 4, NULL);
		return;
	case IDN_RC_HANDLE_NOT_FOUND:
	case IDN_RC_VALUES_NOT_FOUND:
		cache_put(j, IDN_RCC_ANSWER, j->key, j->keylen, &j->req, rc, NULL, 0,
			  j->r->o.negative_ttl);
		finish(j, rc, NULL, 0, NULL);
		return;
	case IDN_RC_SERVER_TOO_BUSY:
	case IDN_RC_RECURSION_COUNT_TOO_HIGH:
	case IDN_RC_SERVER_NOT_RESP:
		finish(j, rc, NULL, 0, rc == IDN_RC_SERVER_NOT_RESP ? "That prefix doesn't live here"
								    : "Upstream refused");
		return;
	default: {
		char why_rc[64];
		snprintf(why_rc, sizeof(why_rc), "responsible server answered RC %u", rc);
		fail(j, why_rc);
	}
	}
}

void rx_answer(rjob_t *j, const uint8_t *msg, size_t len)
{
	if (j->stage == ST_PREFIX)
		prefix_answer(j, msg, len);
	else
		handle_answer(j, msg, len);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	rjob_t *j = arg;
	rx_count(j->r, S_TIMEOUTS);
	rx_log(j->r, IDN_LOG_NOTICE, "recursion for %.*s: no answer in %d ms", (int)j->keylen,
	       j->key, j->r->o.timeout_ms);
	finish(j, IDN_RC_ERROR, NULL, 0, "Recursive resolution timed out");
}

void rjob_begin(struct idn_recursor *r, idn_job_t *job)
{
	rjob_t *j = calloc(1, sizeof(*j));
	if (!j) {
		atomic_fetch_sub_explicit(&r->inflight, 1, memory_order_relaxed);
		job_answer(job, IDN_RC_SERVER_TOO_BUSY, (idn_bytes_t){ 0 }, NULL, 0, "Out of memory");
		return;
	}
	j->r = r;
	j->job = job;
	j->tx.fd = -1;
	j->tx.j = j;
	j->next = r->jobs;
	if (j->next)
		j->next->prev = j;
	r->jobs = j;
	if (idn_resolve_req_decode(job->msg.body.p, job->msg.body.len, &j->req) != IDN_OK ||
	    j->req.handle.len == 0 || j->req.handle.len + 5 > sizeof(j->key)) {
		finish(j, IDN_RC_PROTOCOL_ERROR, NULL, 0, "Malformed resolution request");
		return;
	}
	const uint8_t *h = j->req.handle.p;
	size_t hl = j->req.handle.len;
	const uint8_t *slash = memchr(h, '/', hl);
	if (!slash) {
		memcpy(j->key, "0.NA/", 5);
		memcpy(j->key + 5, h, hl);
		j->keylen = hl + 5;
	} else {
		memcpy(j->key, h, hl);
		j->keylen = hl;
	}
	/* The prefix handle: 0.NA/<text before the first slash>; a prefix
	 * handle (0.NA/x) is itself resolved where prefix records live. */
	size_t plen = (size_t)((const uint8_t *)memchr(j->key, '/', j->keylen) - j->key);
	if (plen == 4 && idn_handle_eq_ci(j->key, 4, (const uint8_t *)"0.NA", 4)) {
		memcpy(j->ph, j->key, j->keylen);
		j->phlen = j->keylen;
		j->direct = true;
	} else {
		memcpy(j->ph, "0.NA/", 5);
		memcpy(j->ph + 5, j->key, plen);
		j->phlen = plen + 5;
	}
	j->deadline = evtimer_new(r->base, on_deadline, j);
	struct timeval tv = { r->o.timeout_ms / 1000, (r->o.timeout_ms % 1000) * 1000 };
	if (!j->deadline || evtimer_add(j->deadline, &tv) != 0) {
		finish(j, IDN_RC_SERVER_TOO_BUSY, NULL, 0, "Out of memory");
		return;
	}
	prefix_start(j);
}
