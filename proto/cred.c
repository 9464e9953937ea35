/* cred.c - the credential section: codec, the data it covers, HS_SIGNED responses and their verification. */
#include <string.h>

#include "proto/auth.h"
#include "proto/cred.h"
#include "proto/record.h"

int idn_cred_decode(const uint8_t *p, size_t len, idn_cred_t *c)
{
	memset(c, 0, sizeof(*c));
	if (len > IDN_CRED_MAX_LEN)
		return IDN_ELIMIT;
	idn_wire_t w;
	idn_wire_init_ro(&w, p, len);
	c->version = idn_wire_get_u8(&w);
	c->reserved = idn_wire_get_u8(&w);
	c->options = idn_wire_get_u16(&w);
	c->signer = idn_wire_get_bstr(&w, IDN_MAX_HANDLE_LEN);
	c->signer_index = idn_wire_get_u32(&w);
	c->type = idn_wire_get_bstr(&w, IDN_CRED_MAX_TYPE);
	uint32_t si_len = idn_wire_get_u32(&w);
	if (w.err)
		return w.err;
	if (si_len > idn_wire_avail(&w))
		return si_len > IDN_CRED_MAX_LEN ? IDN_ELIMIT : IDN_EFEWDATA;
	/* The two SignedInfo fields are read within the length it announces, so
	 * a wrong SignedInfo length cannot shift the fields of a reader that
	 * skips by it. */
	idn_wire_t si;
	idn_wire_init_ro(&si, w.pos, si_len);
	c->digest_alg = idn_wire_get_bstr(&si, IDN_CRED_MAX_ALG);
	c->signature = idn_wire_get_bstr(&si, IDN_CRED_MAX_SIG);
	if (si.err)
		return si.err;
	if (idn_wire_avail(&si) != 0)
		return IDN_EMALF;
	idn_wire_skip(&w, si_len);
	return idn_wire_avail(&w) == 0 ? IDN_OK : IDN_EMALF;
}

void idn_cred_encode(idn_wire_t *w, const idn_cred_t *c)
{
	if (c->signer.len > IDN_MAX_HANDLE_LEN || c->type.len > IDN_CRED_MAX_TYPE ||
	    c->digest_alg.len > IDN_CRED_MAX_ALG || c->signature.len > IDN_CRED_MAX_SIG) {
		idn_wire_fail(w, IDN_ELIMIT);
		return;
	}
	idn_wire_put_u8(w, c->version);
	idn_wire_put_u8(w, c->reserved);
	idn_wire_put_u16(w, c->options);
	idn_wire_put_bstr(w, c->signer.p, c->signer.len);
	idn_wire_put_u32(w, c->signer_index);
	idn_wire_put_bstr(w, c->type.p, c->type.len);
	idn_wire_put_u32(w, 8 + c->digest_alg.len + c->signature.len);
	idn_wire_put_bstr(w, c->digest_alg.p, c->digest_alg.len);
	idn_wire_put_bstr(w, c->signature.p, c->signature.len);
}

size_t idn_cred_signed_data(const idn_envelope_t *env, uint32_t counter, const uint8_t *hb,
			    size_t hb_len, uint8_t pre[IDN_CRED_PRE_MAX], idn_piece_t out[2])
{
	size_t n = 0;
	/* From 2.7 the envelope's identity goes in too, so that a signed answer
	 * cannot be replayed for another request or session. */
	if (idn_version_ge(env->major, env->minor, 2, 7)) {
		uint8_t *q = pre;
		*q++ = env->major;
		*q++ = env->minor;
		if (idn_version_ge(env->major, env->minor, 2, 8)) {
			*q++ = env->sugg_major;
			*q++ = env->sugg_minor;
		}
		idn_put_be32(q, env->session_id);
		idn_put_be32(q + 4, env->request_id);
		idn_put_be32(q + 8, counter);
		q += 12;
		out[n++] = (idn_piece_t){ pre, (size_t)(q - pre) };
	}
	out[n++] = (idn_piece_t){ hb, hb_len };
	return n;
}

int idn_cred_sig_alg(int key_kind, uint8_t major, uint8_t minor)
{
	if (key_kind == IDN_KEY_DSA)
		return idn_version_ge(major, minor, 2, 11) ? IDN_SIG_SHA256 : IDN_SIG_SHA1;
	return idn_version_ge(major, minor, 2, 7) ? IDN_SIG_SHA256 : IDN_SIG_SHA1;
}

int idn_msg_end_signed(idn_wire_t *w, size_t start, const idn_pkey_t *key)
{
	if (w->err)
		return w->err;
	size_t body_off = start + IDN_MSG_BODY_OFF;
	size_t hb_end = idn_wire_offset(w);
	if (!key || hb_end < body_off) {
		idn_wire_fail(w, IDN_EINVAL);
		return w->err;
	}
	/* BodyLength is part of the signed Header+Body: patch it first. */
	idn_wire_patch_u32(w, body_off - 4, (uint32_t)(hb_end - body_off));

	idn_envelope_t env;
	int ret = idn_envelope_decode(w->base + start, IDN_ENVELOPE_LEN, &env);
	if (ret) {
		idn_wire_fail(w, ret);
		return w->err;
	}
	int alg = idn_cred_sig_alg(idn_pkey_kind(key), env.major, env.minor);
	uint8_t pre[IDN_CRED_PRE_MAX];
	idn_piece_t data[2];
	size_t nd = idn_cred_signed_data(&env, 0, w->base + start + IDN_ENVELOPE_LEN,
					 hb_end - start - IDN_ENVELOPE_LEN, pre, data);

	/* CNRI's layout: no signer handle, counter 0; the three lengths are
	 * patched once the signature's size is known. */
	size_t cred_off = idn_wire_offset(w);
	idn_wire_put_u32(w, 0);
	idn_wire_put_u8(w, 0);
	idn_wire_put_u8(w, 0);
	idn_wire_put_u16(w, 0);
	idn_wire_put_u32(w, 0);
	idn_wire_put_u32(w, 0);
	idn_wire_put_str(w, IDN_CRED_SIGNED);
	size_t si_off = idn_wire_offset(w);
	idn_wire_put_u32(w, 0);
	idn_wire_put_str(w, idn_sig_alg_name(alg));
	size_t sig_off = idn_wire_offset(w);
	idn_wire_put_u32(w, 0);
	if (w->err)
		return w->err;
	/* The data pieces lie before the cursor, the signature goes after it. */
	ret = idn_pkey_sign(key, alg, data, nd, w);
	if (ret) {
		idn_wire_fail(w, ret);
		return w->err;
	}
	size_t end = idn_wire_offset(w);
	size_t msg_len = end - start - IDN_ENVELOPE_LEN;
	if (msg_len > IDN_MAX_MESSAGE_LEN) {
		idn_wire_fail(w, IDN_ELIMIT);
		return w->err;
	}
	idn_wire_patch_u32(w, sig_off, (uint32_t)(end - sig_off - 4));
	idn_wire_patch_u32(w, si_off, (uint32_t)(end - si_off - 4));
	idn_wire_patch_u32(w, cred_off, (uint32_t)(end - cred_off - 4));
	idn_wire_patch_u32(w, start + 16, (uint32_t)msg_len);
	return w->err;
}

int idn_cred_verify(const uint8_t *msg, size_t len, const uint8_t *hs_pubkey, size_t klen)
{
	idn_msg_t m;
	int ret = idn_msg_decode(msg, len, &m);
	if (ret)
		return ret;
	if (!m.has_cred || m.cred.len == 0)
		return IDN_ENOENT;
	idn_cred_t c;
	ret = idn_cred_decode(m.cred.p, m.cred.len, &c);
	if (ret)
		return ret;
	if (!idn_bytes_eq_str(c.type, IDN_CRED_SIGNED) &&
	    !idn_bytes_eq_str(c.type, IDN_CRED_DSAPUBKEY))
		return IDN_EINVAL;
	int alg = idn_sig_alg_parse(c.digest_alg);
	if (!alg)
		return IDN_EINVAL;
	uint8_t pre[IDN_CRED_PRE_MAX];
	idn_piece_t data[2];
	size_t nd = idn_cred_signed_data(&m.env, c.signer_index, m.hb.p, m.hb.len, pre, data);
	return idn_verify(hs_pubkey, klen, alg, data, nd, c.signature.p, c.signature.len);
}
