/* query.c - resolution and site-info processing, CNRI semantics, over caller buffers. */
#include <string.h>

#include "proto/record.h"
#include "proto/respond.h"
#include "resolver/query.h"
#include "resolver/rcache.h"
#include "storage/serves.h"

static const char NA_PREFIX[] = "0.NA/";
#define NA_PREFIX_LEN 5

void idn_query_init(idn_query_t *q, idn_reader_t *reader, const idn_server_info_t *info,
		    int transport)
{
	memset(q, 0, sizeof(*q));
	q->reader = reader;
	q->info = info;
	q->transport = transport;
	q->now = (uint32_t)time(NULL);
}

static bool is_admin_opcode(uint32_t oc)
{
	return (oc >= IDN_OC_CREATE_HANDLE && oc <= IDN_OC_LIST_NAS) ||
	       (oc >= IDN_OC_HOME_NA && oc <= IDN_OC_LIST_HOMED_NAS) ||
	       (oc >= IDN_OC_GET_NEXT_TXN_ID && oc <= IDN_OC_BACKUP_SERVER);
}

/* The envelope fields as they are, without any check (for error answers). */
static void raw_envelope(const uint8_t *b, idn_envelope_t *env)
{
	env->major = b[0];
	env->minor = b[1];
	env->flags = b[2] & 0xe0;
	env->sugg_major = b[2] & 0x03;
	env->sugg_minor = b[3];
	env->session_id = idn_get_be32(b + 4);
	env->request_id = idn_get_be32(b + 8);
	env->message_id = idn_get_be32(b + 12);
	env->message_len = idn_get_be32(b + 16);
}

int idn_query_consume(idn_query_t *q, const uint8_t *buf, size_t len)
{
	q->req = buf;
	q->req_len = len;
	q->why = NULL;
	q->stats.requests++;

	if (len < IDN_ENVELOPE_LEN) {
		/* idn_msg_decode() clears q->msg itself; only this path skips it. */
		memset(&q->msg, 0, sizeof(q->msg));
		q->stats.malformed++;
		q->why = "datagram shorter than an envelope";
		return q->state = IDN_Q_DROP;
	}
	q->decode_err = idn_msg_decode(buf, len, &q->msg);
	if (q->decode_err == IDN_OK && q->msg.hdr.rcode != 0) {
		/* A response sent to a server: never answer it (no reflection loops). */
		q->why = "response message sent to the server";
		return q->state = IDN_Q_DROP;
	}
	if (q->decode_err) {
		q->stats.malformed++;
		q->why = "undecodable message";
		/* Answer in the terms of whatever envelope and opcode are readable. */
		raw_envelope(buf, &q->msg.env);
		/* Datagrams that are not Handle messages at all (wrong version) get no
		 * answer: answering garbage only helps reflection attacks. */
		if (q->transport == IDN_TR_UDP && q->msg.env.major != 2 && q->msg.env.major != 5)
			return q->state = IDN_Q_DROP;
		memset(&q->msg.hdr, 0, sizeof(q->msg.hdr));
		q->msg.hb.len = 0;
		if (len >= IDN_ENVELOPE_LEN + 4)
			q->msg.hdr.opcode = idn_get_be32(buf + IDN_ENVELOPE_LEN);
		if (len >= IDN_ENVELOPE_LEN + 12)
			q->msg.hdr.opflag = idn_get_be32(buf + IDN_ENVELOPE_LEN + 8);
		return q->state = IDN_Q_PRODUCE;
	}
	/* Everything but resolution and site info belongs to the registry;
	 * undecodable, compressed or encrypted requests are still answered
	 * here, and UDP never carries admin operations. */
	uint32_t oc = q->msg.hdr.opcode;
	if (q->dispatch && q->transport != IDN_TR_UDP &&
	    !(q->msg.env.flags & (IDN_ENV_CP | IDN_ENV_EC)) && oc != IDN_OC_RESERVED &&
	    oc != IDN_OC_RESOLUTION && oc != IDN_OC_GET_SITE_INFO) {
		q->async_to = q->dispatch;
		return q->state = IDN_Q_ASYNC;
	}
	return q->state = IDN_Q_PRODUCE;
}

/* ---- response writing ---- */

void idn_query_resp_ctx(const idn_query_t *q, idn_resp_ctx_t *ctx)
{
	ctx->site_serial = q->info->site_serial;
	ctx->primary = q->info->primary;
	ctx->now = q->now;
	ctx->sign_key = q->info->sign_key;
}

static size_t resp_begin(idn_query_t *q, idn_wire_t *out, uint32_t opcode, uint32_t rcode,
			 uint32_t extra_flags)
{
	idn_resp_ctx_t ctx;
	idn_query_resp_ctx(q, &ctx);
	idn_resp_opts_t o = { .opcode = opcode, .rcode = rcode, .extra_flags = extra_flags };
	return idn_resp_begin(out, &q->msg, &ctx, &o);
}

/* Every answer of the query step ends here: a request with CT gets a
 * signed answer (an RSA private operation, so only CT pays for the context
 * it needs); everything else keeps the empty credential. */
static inline void resp_end(idn_query_t *q, idn_wire_t *out, size_t start)
{
	if (q->msg.hdr.opflag & IDN_OF_CT) {
		idn_resp_ctx_t ctx;
		idn_query_resp_ctx(q, &ctx);
		idn_resp_end(out, start, &q->msg, &ctx);
		return;
	}
	idn_msg_end(out, start, true);
}

static int resp_error(idn_query_t *q, idn_wire_t *out, uint32_t rcode, const char *message)
{
	size_t start = resp_begin(q, out, q->msg.hdr.opcode, rcode, 0);
	idn_error_body_encode(out, message ? message : "");
	resp_end(q, out, start);
	if (rcode == IDN_RC_HANDLE_NOT_FOUND)
		q->stats.not_found++;
	else if (rcode == IDN_RC_SERVER_NOT_RESP)
		q->stats.not_homed++;
	else
		q->stats.errors++;
	return IDN_Q_DONE;
}

int idn_query_error_for_envelope(idn_query_t *q, const idn_envelope_t *env, uint32_t rcode,
				 const char *message, idn_wire_t *out)
{
	memset(&q->msg, 0, sizeof(q->msg));
	q->msg.env = *env;
	resp_error(q, out, rcode, message);
	return out->err;
}

/* ---- responsibility ---- */

/* 0.NA/..., any case: a prefix handle. */
static bool prefix_eq_na(const uint8_t *h, size_t len)
{
	return idn_handle_has_prefix_ci(h, len, (const uint8_t *)NA_PREFIX, NA_PREFIX_LEN);
}

/* Responsibility: storage/serves.h, with CNRI's derived-prefix entries
 * (0.NA/0.NA/P); the last answer is kept per snapshot and prefix, since a
 * burst of queries mostly shares a few prefixes. */
static bool is_served(idn_query_t *q, const uint8_t *h, size_t len)
{
	/* The decision depends only on the part before the first '/'. */
	const uint8_t *slash = memchr(h, '/', len);
	size_t plen = slash ? (size_t)(slash - h) : len;
	if (prefix_eq_na(h, len))
		plen = len; /* prefix handles: the whole name decides */
	uint64_t snap = idn_reader_snapshot(q->reader);
	if (plen <= sizeof(q->served_prefix) && snap == q->served_snapshot &&
	    plen == q->served_len && memcmp(h, q->served_prefix, plen) == 0)
		return q->served;
	bool ok = idn_reader_serves(q->reader, h, len, true);
	if (plen <= sizeof(q->served_prefix)) {
		q->served_snapshot = snap;
		q->served_len = plen;
		memcpy(q->served_prefix, h, plen);
		q->served = ok;
	}
	return ok;
}

/* ---- resolution ---- */

static bool value_selected(const idn_resolve_req_t *r, const idn_value_t *v)
{
	if (r->n_index == 0 && r->n_type == 0)
		return true;
	for (uint32_t i = 0; i < r->n_index; i++)
		if (r->index[i] == v->index)
			return true;
	for (uint32_t i = 0; i < r->n_type; i++)
		if (idn_type_matches(v->type, r->type[i]))
			return true;
	return false;
}

/* The value types a referral carries (CNRI HandleServer: prefix sites,
 * the old delegation type, prefix services). */
static bool is_referral_type(idn_bytes_t t)
{
	static const char *const types[] = { "HS_SITE.PREFIX", "HS_NA_DELEGATE", "HS_SERV.PREFIX" };
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		idn_bytes_t want = { (const uint8_t *)types[i], (uint32_t)strlen(types[i]) };
		if (idn_type_matches(t, want))
			return true;
	}
	return false;
}

/*
 * RC 303 for an absent prefix handle 0.NA/x.y.z: the nearest stored
 * ancestor 0.NA/x.y, then 0.NA/x, with public referral values answers with
 * an empty handle and those values, as CNRI's top does (hop1 of
 * top-level-peering.md). Returns IDN_Q_DONE when it answered, IDN_Q_PRODUCE
 * when there is nothing to refer to (out untouched).
 */
static int prefix_referral(idn_query_t *q, const uint8_t *key, size_t keylen, idn_wire_t *out)
{
	uint8_t buf[IDN_STORE_MAX_KEY];
	size_t len = keylen;
	if (len > sizeof(buf))
		return IDN_Q_PRODUCE;
	memcpy(buf, key, len);
	for (;;) {
		/* Drop the last dotted component; stop at "0.NA/". */
		while (len > NA_PREFIX_LEN && buf[len - 1] != '.')
			len--;
		if (len <= NA_PREFIX_LEN + 1)
			return IDN_Q_PRODUCE;
		len--;
		idn_record_t rec;
		if (idn_reader_get(q->reader, buf, len, &rec) != IDN_OK)
			continue;
		size_t start = resp_begin(q, out, IDN_OC_RESOLUTION, IDN_RC_PREFIX_REFERRAL, 0);
		idn_wire_put_u32(out, 0); /* the empty referral handle */
		size_t count_off = idn_wire_offset(out);
		idn_wire_put_u32(out, 0);
		idn_wire_t in;
		idn_wire_init_ro(&in, rec.values.p, rec.values.len);
		uint32_t n = 0;
		for (uint32_t i = 0; i < rec.count; i++) {
			idn_value_t v;
			const uint8_t *vstart = in.pos;
			if (idn_value_decode(&in, &v) != IDN_OK)
				break;
			if (!(v.perms & IDN_PERM_PUBLIC_READ) || !is_referral_type(v.type))
				continue;
			idn_wire_put_raw(out, vstart, (size_t)(in.pos - vstart));
			n++;
		}
		if (n == 0) {
			/* Stored without referral values: a shorter ancestor may have them. */
			out->pos = out->base + start;
			continue;
		}
		idn_wire_patch_u32(out, count_off, n);
		resp_end(q, out, start);
		q->stats.referrals++;
		return IDN_Q_DONE;
	}
}

/* ---- recursion: cache hits answered here, misses become jobs ---- */

typedef struct {
	idn_query_t *q;
	idn_wire_t *out;
	idn_bytes_t handle;
} cache_hit_t;

static void answer_cached(void *arg, uint32_t rcode, const uint8_t *data, size_t len,
			  uint32_t expires)
{
	cache_hit_t *h = arg;
	idn_resp_ctx_t ctx;
	idn_query_resp_ctx(h->q, &ctx);
	idn_relay_answer(h->out, &h->q->msg, &ctx, rcode, h->handle, data, len, NULL);
}

/*
 * A foreign handle with REC: RC 6 past the hop limit (loops between
 * recursive servers end here), the cached answer when there is one (AT in
 * the request asks for a fresh one), else a job for the recursor.
 */
static int recurse_or_cached(idn_query_t *q, const idn_resolve_req_t *r, const uint8_t *key,
			     size_t keylen, idn_wire_t *out)
{
	if (q->msg.hdr.recursion >= IDN_MAX_RECURSION)
		return resp_error(q, out, IDN_RC_RECURSION_COUNT_TOO_HIGH,
				  "Recursion count too high");
	if (q->rcache && !(q->msg.hdr.opflag & IDN_OF_AT)) {
		uint8_t k[IDN_RCC_MAX_KEY];
		size_t kl = idn_rcc_key(k, sizeof(k), IDN_RCC_ANSWER, key, keylen, r);
		cache_hit_t h = { q, out, r->handle };
		size_t start = idn_wire_offset(out);
		if (kl && idn_rcc_get(q->rcache, k, kl, q->now, answer_cached, &h)) {
			q->stats.recursed_cached++;
			if (out->err == IDN_OK && idn_get_be32(out->base + start + 24) == IDN_RC_SUCCESS)
				q->stats.resolved_ok++;
			return IDN_Q_DONE;
		}
	}
	q->stats.recursed++;
	q->async_to = q->recurse;
	return IDN_Q_ASYNC;
}

static int do_resolution(idn_query_t *q, idn_wire_t *out)
{
	idn_resolve_req_t r;
	const idn_msg_t *m = &q->msg;
	int ret = idn_resolve_req_decode(m->body.p, m->body.len, &r);
	if (ret) {
		q->stats.malformed++;
		q->why = "bad resolution request body";
		return resp_error(q, out, IDN_RC_PROTOCOL_ERROR,
				  ret == IDN_ELIMIT ? "Request field over the limit"
						    : "Malformed resolution request");
	}
	q->stats.resolutions++;
	if (r.handle.len == 0)
		return resp_error(q, out, IDN_RC_INVALID_HANDLE, "Empty handle");

	/* A bare prefix "88.100.12" means its prefix handle "0.NA/88.100.12";
	 * the answer still echoes what the client asked for. */
	uint8_t keybuf[IDN_STORE_MAX_KEY];
	const uint8_t *key = r.handle.p;
	size_t keylen = r.handle.len;
	if (!memchr(key, '/', keylen)) {
		if (keylen + NA_PREFIX_LEN > sizeof(keybuf))
			return resp_error(q, out, IDN_RC_HANDLE_NOT_FOUND, NULL);
		memcpy(keybuf, NA_PREFIX, NA_PREFIX_LEN);
		memcpy(keybuf + NA_PREFIX_LEN, key, keylen);
		key = keybuf;
		keylen += NA_PREFIX_LEN;
	}

	if (!is_served(q, key, keylen)) {
		if (q->recurse && (m->hdr.opflag & IDN_OF_REC))
			return recurse_or_cached(q, &r, key, keylen, out);
		return resp_error(q, out, IDN_RC_SERVER_NOT_RESP, "That prefix doesn't live here");
	}

	idn_record_t rec;
	ret = idn_reader_get(q->reader, key, keylen, &rec);
	if (ret == IDN_ENOTFOUND) {
		/* An absent derived prefix handle may be referred to where its
		 * ancestor says it lives (CNRI RC 303); DNRF asks for no referral. */
		if (prefix_eq_na(key, keylen) && !(m->hdr.opflag & IDN_OF_DNRF) &&
		    prefix_referral(q, key, keylen, out) == IDN_Q_DONE)
			return IDN_Q_DONE;
		return resp_error(q, out, IDN_RC_HANDLE_NOT_FOUND, NULL);
	}
	if (ret)
		return resp_error(q, out, IDN_RC_ERROR, "Storage error");

	/*
	 * Values without public read are left out of anonymous answers (PO set,
	 * or no authenticated identity: authenticated reads come with the
	 * registry's challenge-response).
	 */
	bool all = r.n_index == 0 && r.n_type == 0 && (rec.flags & IDN_REC_ALL_PUBLIC);
	size_t start = resp_begin(q, out, IDN_OC_RESOLUTION, IDN_RC_SUCCESS, 0);
	if (all) {
		/* The common answer (the handle, then every value as stored) as
		 * one bounds-checked span. */
		size_t hl = r.handle.len, vl = rec.values.len;
		uint8_t *p = idn_wire_put_span(out, 8 + hl + vl);
		if (p) {
			idn_put_be32(p, (uint32_t)hl);
			memcpy(p + 4, r.handle.p, hl);
			idn_put_be32(p + 4 + hl, rec.count);
			if (vl)
				memcpy(p + 8 + hl, rec.values.p, vl);
		}
	} else {
		idn_wire_put_bstr(out, r.handle.p, r.handle.len);
		size_t count_off = idn_wire_offset(out);
		idn_wire_put_u32(out, rec.count);
		idn_wire_t in;
		idn_wire_init_ro(&in, rec.values.p, rec.values.len);
		uint32_t n = 0;
		for (uint32_t i = 0; i < rec.count; i++) {
			idn_value_t v;
			const uint8_t *vstart = in.pos;
			if (idn_value_decode(&in, &v) != IDN_OK) {
				/* Drop the success answer begun above: the error is
				 * the whole answer (found by fuzz_stored). */
				out->pos = out->base + start;
				q->why = "stored record does not decode";
				return resp_error(q, out, IDN_RC_ERROR, "Stored record is corrupt");
			}
			if (!(v.perms & IDN_PERM_PUBLIC_READ) || !value_selected(&r, &v))
				continue;
			idn_wire_put_raw(out, vstart, (size_t)(in.pos - vstart));
			n++;
		}
		if (n == 0) {
			out->pos = out->base + start;
			return resp_error(q, out, IDN_RC_VALUES_NOT_FOUND, NULL);
		}
		idn_wire_patch_u32(out, count_off, n);
	}
	resp_end(q, out, start);
	q->stats.resolved_ok++;
	return IDN_Q_DONE;
}

static int do_site_info(idn_query_t *q, idn_wire_t *out)
{
	q->stats.site_info++;
	if (!q->info->site || q->info->site_len == 0)
		return resp_error(q, out, IDN_RC_ERROR, "No site information configured");
	size_t start = resp_begin(q, out, IDN_OC_GET_SITE_INFO, IDN_RC_SUCCESS, 0);
	idn_wire_put_raw(out, q->info->site, q->info->site_len);
	resp_end(q, out, start);
	return IDN_Q_DONE;
}

static int produce(idn_query_t *q, idn_wire_t *out)
{
	const idn_msg_t *m = &q->msg;

	if (q->decode_err) {
		/* The envelope was readable: answer in its terms, CNRI style. */
		const char *msg = q->decode_err == IDN_ELIMIT ? "Invalid message length"
							      : "Malformed message";
		resp_error(q, out, IDN_RC_PROTOCOL_ERROR, msg);
		/* On a stream the framing can no longer be trusted. */
		return q->transport == IDN_TR_UDP ? IDN_Q_DONE : IDN_Q_CLOSE;
	}
	if (m->env.flags & (IDN_ENV_CP | IDN_ENV_EC)) {
		return resp_error(q, out, IDN_RC_SESSION_FAILED,
				  "Compressed or encrypted messages are not supported");
	}
	if (m->hdr.opcode == IDN_OC_RESERVED)
		return resp_error(q, out, IDN_RC_PROTOCOL_ERROR, "Invalid opcode 0");

	if (q->transport == IDN_TR_UDP && is_admin_opcode(m->hdr.opcode))
		return resp_error(q, out, IDN_RC_PROTOCOL_ERROR,
				  "Received admin request on non-admin interface");

	switch (m->hdr.opcode) {
	case IDN_OC_RESOLUTION:
		return do_resolution(q, out);
	case IDN_OC_GET_SITE_INFO:
		return do_site_info(q, out);
	default:
		return resp_error(q, out, IDN_RC_OPERATION_NOT_SUPPORTED,
				  "Operation not supported by this server");
	}
}

/* Count a resolution answer by the response code it carries (header after
 * the 20-byte envelope: opcode, then rcode), whichever path wrote it. */
static void count_rc(idn_query_t *q, int transport, uint32_t rc)
{
	if ((unsigned)transport >= IDN_QS_TRANSPORTS)
		return;
	int r = rc == IDN_RC_SUCCESS			? IDN_RES_OK
		: rc == IDN_RC_HANDLE_NOT_FOUND		? IDN_RES_NOT_FOUND
		: rc == IDN_RC_VALUES_NOT_FOUND		? IDN_RES_VALUES_NOT_FOUND
		: rc == IDN_RC_SERVER_NOT_RESP		? IDN_RES_NOT_HOMED
		: rc == IDN_RC_PREFIX_REFERRAL || rc == IDN_RC_SERVICE_REFERRAL ? IDN_RES_REFERRAL
							: IDN_RES_ERROR;
	q->stats.res[transport][r]++;
}

static void count_resolution(idn_query_t *q, const idn_wire_t *out, size_t start)
{
	if (out->err || (size_t)(out->pos - out->base) < start + 28)
		return;
	count_rc(q, q->transport, idn_get_be32(out->base + start + 24));
}

void idn_query_count_answer(idn_query_t *q, int transport, const uint8_t *resp, size_t len)
{
	if (resp && len >= 28)
		count_rc(q, transport, idn_get_be32(resp + 24));
}

int idn_query_produce(idn_query_t *q, idn_wire_t *out)
{
	if (q->state != IDN_Q_PRODUCE)
		return IDN_Q_DONE;
	size_t start = (size_t)(out->pos - out->base);
	int st = produce(q, out);
	/* Too small a buffer: stay ready so the caller can retry with more room. */
	q->state = out->err == IDN_ESPACE ? IDN_Q_PRODUCE : IDN_Q_DONE;
	if (q->msg.hdr.opcode == IDN_OC_RESOLUTION)
		count_resolution(q, out, start);
	return st;
}
