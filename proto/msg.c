/* msg.c - Handle protocol message codec: envelope, header, credential, operation bodies. */
#include <string.h>

#include "proto/msg.h"

/* Every request passes here: one bounds check for the 20 bytes. */
int idn_envelope_decode(const uint8_t *buf, size_t len, idn_envelope_t *env)
{
	idn_wire_t w;
	idn_wire_init_ro(&w, buf, len);
	const uint8_t *p = idn_wire_get_span(&w, IDN_ENVELOPE_LEN);
	if (!p) {
		memset(env, 0, sizeof(*env));
		return w.err;
	}
	env->major = p[0];
	env->minor = p[1];
	env->flags = p[2] & (IDN_ENV_CP | IDN_ENV_EC | IDN_ENV_TC);
	env->sugg_major = p[2] & 0x03;
	env->sugg_minor = p[3];
	env->session_id = idn_get_be32(p + 4);
	env->request_id = idn_get_be32(p + 8);
	env->message_id = idn_get_be32(p + 12);
	env->message_len = idn_get_be32(p + 16);
	/* MessageLength is a Java int: "negative" values are over the limit too. */
	if (env->message_len > IDN_MAX_MESSAGE_LEN)
		return IDN_ELIMIT;
	return IDN_OK;
}

void idn_envelope_encode(idn_wire_t *w, const idn_envelope_t *env)
{
	uint8_t *p = idn_wire_put_span(w, IDN_ENVELOPE_LEN);
	if (!p)
		return;
	p[0] = env->major;
	p[1] = env->minor;
	p[2] = (uint8_t)((env->flags & (IDN_ENV_CP | IDN_ENV_EC | IDN_ENV_TC)) |
			 (env->sugg_major & 0x03));
	p[3] = env->sugg_minor;
	idn_put_be32(p + 4, env->session_id);
	idn_put_be32(p + 8, env->request_id);
	idn_put_be32(p + 12, env->message_id);
	idn_put_be32(p + 16, env->message_len);
}

int idn_msg_decode_message(const idn_envelope_t *env, const uint8_t *buf, size_t len,
			   idn_msg_t *out)
{
	idn_wire_t w;
	idn_wire_init_ro(&w, buf, len);
	out->env = *env;
	idn_header_t *h = &out->hdr;
	const uint8_t *p = idn_wire_get_span(&w, IDN_HEADER_LEN);
	if (!p) {
		memset(h, 0, sizeof(*h));
		return w.err;
	}
	h->opcode = idn_get_be32(p);
	h->rcode = idn_get_be32(p + 4);
	h->opflag = idn_get_be32(p + 8);
	h->site_serial = (uint16_t)((p[12] << 8) | p[13]);
	h->recursion = p[14];
	/* p[15] is reserved */
	h->expiration = idn_get_be32(p + 16);
	h->body_len = idn_get_be32(p + 20);
	if (h->body_len > idn_wire_avail(&w))
		return h->body_len > IDN_MAX_MESSAGE_LEN ? IDN_ELIMIT : IDN_EFEWDATA;
	out->body = idn_wire_get_raw(&w, h->body_len);
	out->hb.p = buf;
	out->hb.len = (uint32_t)(IDN_HEADER_LEN + h->body_len);

	/* The IDIS SDK sends some messages without a credential section. */
	out->has_cred = false;
	out->cred = (idn_bytes_t){ NULL, 0 };
	if (idn_wire_avail(&w) >= 4) {
		out->has_cred = true;
		out->cred = idn_wire_get_bstr(&w, IDN_MAX_MESSAGE_LEN);
		if (w.err)
			return w.err == IDN_ELIMIT ? IDN_ELIMIT : IDN_EMALF;
	}
	if (idn_wire_avail(&w) != 0)
		return IDN_EMALF;
	return IDN_OK;
}

int idn_msg_decode(const uint8_t *buf, size_t len, idn_msg_t *out)
{
	memset(out, 0, sizeof(*out));
	int ret = idn_envelope_decode(buf, len, &out->env);
	if (ret)
		return ret;
	size_t mlen = out->env.message_len;
	if (len - IDN_ENVELOPE_LEN < mlen)
		return IDN_EFEWDATA;
	if (len - IDN_ENVELOPE_LEN > mlen)
		return IDN_EMALF;
	if (mlen < IDN_HEADER_LEN)
		return IDN_EFEWDATA;
	return idn_msg_decode_message(&out->env, buf + IDN_ENVELOPE_LEN, mlen, out);
}

bool idn_version_ge(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	/* CNRI AbstractMessage.hasEqualOrGreaterVersion: an ancient client sent
	 * major 5 by mistake. A 5.x message is only >= another 5.x, and every
	 * other version counts as >= 5.x; so a 5.x peer gets no 2.1+ feature. */
	if (a == 5)
		return c == 5 && b >= d;
	if (c == 5)
		return true;
	return a > c || (a == c && b >= d);
}

void idn_msg_negotiate(const idn_envelope_t *req, uint8_t *major, uint8_t *minor)
{
	/* CNRI setSupportedProtocolVersion: take the peer's suggested version
	 * (its own version when it suggests none), capped at ours. A 5.x peer is
	 * answered in 5.x, as CNRI does: the cap never applies to it. */
	uint8_t ma = req->sugg_major, mi = req->sugg_minor;
	if (ma == 0) {
		ma = req->major;
		mi = req->minor;
	}
	if (idn_version_ge(ma, mi, IDN_PROTO_MAJOR, IDN_PROTO_MINOR)) {
		ma = IDN_PROTO_MAJOR;
		mi = IDN_PROTO_MINOR;
	}
	*major = ma;
	*minor = mi;
}

size_t idn_msg_begin(idn_wire_t *w, const idn_envelope_t *env, const idn_header_t *hdr)
{
	size_t start = idn_wire_offset(w);
	idn_envelope_t e = *env;
	e.message_len = 0;
	idn_envelope_encode(w, &e);
	uint8_t *p = idn_wire_put_span(w, IDN_HEADER_LEN);
	if (!p)
		return start;
	idn_put_be32(p, hdr->opcode);
	idn_put_be32(p + 4, hdr->rcode);
	idn_put_be32(p + 8, hdr->opflag);
	p[12] = (uint8_t)(hdr->site_serial >> 8);
	p[13] = (uint8_t)hdr->site_serial;
	p[14] = hdr->recursion;
	p[15] = 0;
	idn_put_be32(p + 16, hdr->expiration);
	idn_put_be32(p + 20, 0); /* BodyLength, patched by idn_msg_end() */
	return start;
}

int idn_msg_end(idn_wire_t *w, size_t start, bool with_cred)
{
	if (w->err)
		return w->err;
	size_t body_off = start + IDN_MSG_BODY_OFF;
	size_t body_len = idn_wire_offset(w) - body_off;
	if (with_cred)
		idn_wire_put_u32(w, 0);
	if (w->err)
		return w->err;
	size_t msg_len = idn_wire_offset(w) - start - IDN_ENVELOPE_LEN;
	if (msg_len > IDN_MAX_MESSAGE_LEN) {
		idn_wire_fail(w, IDN_ELIMIT);
		return w->err;
	}
	idn_wire_patch_u32(w, start + 16, (uint32_t)msg_len);
	idn_wire_patch_u32(w, body_off - 4, (uint32_t)body_len);
	return IDN_OK;
}

int idn_resolve_req_decode(const uint8_t *body, size_t len, idn_resolve_req_t *r)
{
	idn_wire_t w;
	idn_wire_init_ro(&w, body, len);
	r->handle = idn_wire_get_bstr(&w, IDN_MAX_HANDLE_LEN);
	r->n_index = idn_wire_get_u32(&w);
	if (!w.err && r->n_index > IDN_MAX_FILTER)
		return IDN_ELIMIT;
	for (uint32_t i = 0; i < r->n_index && !w.err; i++)
		r->index[i] = idn_wire_get_u32(&w);
	r->n_type = idn_wire_get_u32(&w);
	if (!w.err && r->n_type > IDN_MAX_FILTER)
		return IDN_ELIMIT;
	for (uint32_t i = 0; i < r->n_type && !w.err; i++)
		r->type[i] = idn_wire_get_bstr(&w, IDN_MAX_HANDLE_LEN);
	if (w.err)
		return w.err;
	/* IDIS dialect: one more ByteString, the (normally empty) auth token. */
	r->has_token = false;
	r->token = (idn_bytes_t){ NULL, 0 };
	if (idn_wire_avail(&w) > 0) {
		r->token = idn_wire_get_bstr(&w, IDN_MAX_BSTR);
		if (w.err)
			return w.err == IDN_ELIMIT ? IDN_ELIMIT : IDN_EMALF;
		r->has_token = true;
	}
	return idn_wire_avail(&w) == 0 ? IDN_OK : IDN_EMALF;
}

void idn_resolve_req_encode(idn_wire_t *w, const idn_resolve_req_t *r)
{
	idn_wire_put_bstr(w, r->handle.p, r->handle.len);
	idn_wire_put_u32(w, r->n_index);
	for (uint32_t i = 0; i < r->n_index; i++)
		idn_wire_put_u32(w, r->index[i]);
	idn_wire_put_u32(w, r->n_type);
	for (uint32_t i = 0; i < r->n_type; i++)
		idn_wire_put_bstr(w, r->type[i].p, r->type[i].len);
	if (r->has_token)
		idn_wire_put_bstr(w, r->token.p, r->token.len);
}

bool idn_msg_peek_resolve_handle(const uint8_t *msg, size_t len, idn_bytes_t *handle)
{
	idn_wire_t w;
	idn_wire_init_ro(&w, msg, len);
	idn_wire_skip(&w, IDN_ENVELOPE_LEN);
	uint32_t opcode = idn_wire_get_u32(&w);
	uint32_t rcode = idn_wire_get_u32(&w);
	idn_wire_skip(&w, IDN_HEADER_LEN - 8);
	*handle = idn_wire_get_bstr(&w, IDN_MAX_HANDLE_LEN);
	return !w.err && opcode == IDN_OC_RESOLUTION && rcode == 0 && handle->len > 0;
}

int idn_handle_body_decode(const uint8_t *body, size_t len, idn_bytes_t *handle)
{
	idn_wire_t w;
	idn_wire_init_ro(&w, body, len);
	*handle = idn_wire_get_bstr(&w, IDN_MAX_HANDLE_LEN);
	if (w.err)
		return w.err;
	return idn_wire_avail(&w) == 0 ? IDN_OK : IDN_EMALF;
}

void idn_error_body_encode(idn_wire_t *w, const char *message)
{
	size_t n = strlen(message);
	size_t room = idn_wire_avail(w);
	if (room >= 4 && n > room - 4)
		n = room - 4;
	idn_wire_put_bstr(w, message, n);
}

int idn_error_body_decode(const uint8_t *body, size_t len, idn_bytes_t *message)
{
	*message = (idn_bytes_t){ NULL, 0 };
	if (len == 0)
		return IDN_OK;
	idn_wire_t w;
	idn_wire_init_ro(&w, body, len);
	*message = idn_wire_get_bstr(&w, IDN_MAX_BSTR);
	return w.err;
}

size_t idn_digest_len(uint8_t alg)
{
	switch (alg) {
	case IDN_DIGEST_MD5:
		return 16;
	case IDN_DIGEST_SHA1:
		return 20;
	case IDN_DIGEST_SHA256:
		return 32;
	default:
		return 0;
	}
}

int idn_digest_decode(const uint8_t *body, size_t len, uint8_t *alg, idn_bytes_t *digest,
		      size_t *skip)
{
	idn_wire_t w;
	idn_wire_init_ro(&w, body, len);
	*alg = idn_wire_get_u8(&w);
	if (w.err)
		return w.err;
	if (*alg == IDN_DIGEST_OLD_MD5) {
		/* Old format: the code byte is the top byte of an int4 length (16). */
		w.pos = w.base;
		*digest = idn_wire_get_bstr(&w, 16);
		if (!w.err && digest->len != 16)
			return IDN_EMALF;
	} else {
		size_t n = idn_digest_len(*alg);
		if (n == 0)
			return IDN_EMALF;
		*digest = idn_wire_get_raw(&w, n);
	}
	if (w.err)
		return w.err;
	*skip = idn_wire_offset(&w);
	return IDN_OK;
}
