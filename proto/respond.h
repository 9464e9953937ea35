/* respond.h - building response messages to a decoded request: version, echoed flags, request digest, error bodies. */
#ifndef IDN_RESPOND_H
#define IDN_RESPOND_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/msg.h"

/*
 * Rules of use:
 * - Pure functions over caller buffers; the request (idn_msg_t) is only
 *   read. Shared by the resolver's query step and the registry, so every
 *   answer of the node follows the same CNRI rules:
 *   version = min(client's suggested, 2.11), the request's AT/CT/CA/ENC/PO/
 *   DNRF/RD flags echoed, REC set, AT set on a primary, and a request digest
 *   (SHA-1 below 2.7, SHA-256 from 2.7) when RD was asked (or forced, as a
 *   challenge always carries one).
 */

#define IDN_EXPIRATION_SLACK 43200 /* CNRI: now + 12 h on every message */

/* What a response needs to know about the server answering. */
typedef struct {
	uint16_t site_serial;
	bool primary;
	uint32_t now;             /* Unix seconds */
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

/* A whole error response (opcode of the request, body = message text).
 * Returns out->err. */
int idn_resp_error(idn_wire_t *out, const idn_msg_t *req, const idn_resp_ctx_t *ctx,
		   uint32_t rcode, const char *message);

/* A whole success response with an empty body (delete, add, remove, modify,
 * home, unhome). Returns out->err. */
int idn_resp_empty(idn_wire_t *out, const idn_msg_t *req, const idn_resp_ctx_t *ctx);

#endif
