/* respond.c - response envelopes and headers to a decoded request, CNRI rules. */
#include "proto/crypto.h"
#include "proto/respond.h"

size_t idn_resp_begin(idn_wire_t *out, const idn_msg_t *req, const idn_resp_ctx_t *ctx,
		      const idn_resp_opts_t *o)
{
	idn_envelope_t env = {
		.flags = 0,
		.sugg_major = IDN_PROTO_MAJOR,
		.sugg_minor = IDN_PROTO_MINOR,
		.session_id = o->set_session ? o->session_id : req->env.session_id,
		.request_id = req->env.request_id,
	};
	idn_msg_negotiate(&req->env, &env.major, &env.minor);

	uint32_t flags = (req->hdr.opflag & IDN_OF_ECHO_MASK) | IDN_OF_REC | o->extra_flags;
	if (ctx->primary)
		flags |= IDN_OF_AT;
	if (o->force_digest)
		flags |= IDN_OF_RD;
	/* A digest is only defined from 2.1 on, and needs the request bytes. */
	bool digest = (flags & IDN_OF_RD) && req->hb.len > 0 &&
		      idn_version_ge(env.major, env.minor, 2, 1);
	if (!digest)
		flags &= ~IDN_OF_RD;

	idn_header_t hdr = {
		.opcode = o->opcode,
		.rcode = o->rcode,
		.opflag = flags,
		.site_serial = ctx->site_serial,
		.recursion = req->hdr.recursion,
		.expiration = ctx->now + IDN_EXPIRATION_SLACK,
	};
	size_t start = idn_msg_begin(out, &env, &hdr);
	if (digest) {
		int alg = idn_version_ge(env.major, env.minor, 2, 7) ? IDN_DIGEST_SHA256
								       : IDN_DIGEST_SHA1;
		uint8_t d[IDN_DIGEST_MAX];
		size_t dlen = 0;
		if (idn_digest(alg, req->hb.p, req->hb.len, d, &dlen) != IDN_OK) {
			idn_wire_fail(out, IDN_ECRYPTO);
			return start;
		}
		idn_wire_put_u8(out, (uint8_t)alg);
		idn_wire_put_raw(out, d, dlen);
	}
	return start;
}

int idn_resp_error(idn_wire_t *out, const idn_msg_t *req, const idn_resp_ctx_t *ctx,
		   uint32_t rcode, const char *message)
{
	idn_resp_opts_t o = { .opcode = req->hdr.opcode, .rcode = rcode };
	size_t start = idn_resp_begin(out, req, ctx, &o);
	idn_error_body_encode(out, message ? message : "");
	return idn_resp_end(out, start, req, ctx);
}

int idn_resp_empty(idn_wire_t *out, const idn_msg_t *req, const idn_resp_ctx_t *ctx)
{
	idn_resp_opts_t o = { .opcode = req->hdr.opcode, .rcode = IDN_RC_SUCCESS };
	size_t start = idn_resp_begin(out, req, ctx, &o);
	return idn_resp_end(out, start, req, ctx);
}
