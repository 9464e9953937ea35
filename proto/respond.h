/* respond.h - building response messages to a decoded request: version, echoed flags, request digest, error bodies. */
#ifndef IDN_RESPOND_H
#define IDN_RESPOND_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/cred.h"
#include "proto/msg.h"
#include "proto/pkey.h"

/*
 * Rules of use:
 * - Pure functions over caller buffers; the request (idn_msg_t) is only
 *   read. Shared by the resolver's query step and the registry, so every
 *   answer of the node follows the same CNRI rules:
 *   version = min(client's suggested, 2.11), the request's AT/CT/CA/ENC/PO/
 *   DNRF/RD flags echoed, REC set, AT set on a primary, and a request digest
 *   (SHA-1 below 2.7, SHA-256 from 2.7) when RD was asked (or forced, as a
 *   challenge always carries one); the response signed with the server's
 *   key when the request set CT (CNRI's "certified" answers).
 */

#define IDN_EXPIRATION_SLACK 43200 /* CNRI: now + 12 h on every message */

/* What a response needs to know about the server answering. */
typedef struct {
	uint16_t site_serial;
	bool primary;
	uint32_t now;             /* Unix seconds */
	/* The server's private key: answers to requests with CT are signed
	 * with it (HS_SIGNED). NULL = never sign. Borrowed, outlives the ctx. */
	const idn_pkey_t *sign_key;
} idn_resp_ctx_t;

/* Envelope overrides: a challenge answers with its own session id, and the
 * answer to a challenge-response carries the id of the OC 200 message. */
typedef struct {
	uint32_t opcode;
	uint32_t rcode;
	uint32_t extra_flags;     /* e.g. IDN_OF_CN for continued list answers */
	bool force_digest;        /* RC 402: digest even without RD */
	bool set_session;         /* use session_id instead of the request's */
	uint32_t session_id;
} idn_resp_opts_t;

/* Write envelope + header (lengths patched later by idn_msg_end()) and the
 * request digest when due. Returns the start offset for idn_msg_end().
 * Errors latch in out->err (IDN_ECRYPTO when the digest fails). */
size_t idn_resp_begin(idn_wire_t *out, const idn_msg_t *req, const idn_resp_ctx_t *ctx,
		      const idn_resp_opts_t *o);

/*
 * Finish a response started with idn_resp_begin(): with an HS_SIGNED
 * credential when the request set CT and the server has a key
 * (idn_msg_end_signed), else with the empty credential (idn_msg_end). Every
 * response of the node ends here. Inline because the unsigned case is the
 * resolution hot path: one flag test is all it adds. Returns out->err.
 */
static inline int idn_resp_end(idn_wire_t *out, size_t start, const idn_msg_t *req,
			       const idn_resp_ctx_t *ctx)
{
	if ((req->hdr.opflag & IDN_OF_CT) && ctx->sign_key)
		return idn_msg_end_signed(out, start, ctx->sign_key);
	return idn_msg_end(out, start, true);
}

/* A whole error response (opcode of the request, body = message text).
 * Returns out->err. */
int idn_resp_error(idn_wire_t *out, const idn_msg_t *req, const idn_resp_ctx_t *ctx,
		   uint32_t rcode, const char *message);

/* A whole success response with an empty body (delete, add, remove, modify,
 * home, unhome). Returns out->err. */
int idn_resp_empty(idn_wire_t *out, const idn_msg_t *req, const idn_resp_ctx_t *ctx);

#endif
