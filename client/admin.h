/* admin.h - the authenticated admin client: identities, challenge answers, IDIS login, admin request builders. */
#ifndef IDN_CLIENT_ADMIN_H
#define IDN_CLIENT_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/client.h"
#include "proto/msg.h"
#include "proto/pkey.h"
#include "proto/wire.h"

/*
 * Rules of use:
 * - Works on a TCP idn_client_t (admin operations are refused on UDP by
 *   CNRI servers and by ours).
 * - An answer (idn_msg_t) borrows the client's buffer: valid until the next
 *   request on that client.
 * - A non-success ResponseCode is not an error of these functions: callers
 *   check resp->hdr.rcode. Errors are transport and protocol failures.
 */

/* Who we are: an identity (handle, index) and the key that proves it. */
typedef struct {
	char *handle;             /* malloc'd */
	uint32_t index;
	uint8_t *secret;          /* HS_SECKEY bytes (malloc'd), or NULL */
	size_t secret_len;
	idn_pkey_t *key;          /* private key (RSA, DSA, SM2) of an HS_PUBKEY value, or NULL */
} idn_auth_t;

/* Parse "INDEX:HANDLE" (CNRI's order, "300:0.NA/88.100.12") or
 * "HANDLE:INDEX" (accepted when the part after the last ':' is all digits
 * and the part before the first ':' is not). Replaces a->handle.
 * IDN_EINVAL for anything else (empty handle, index over 2^31-1). */
int idn_auth_parse_id(idn_auth_t *a, const char *spec);
/* Read an HS_SECKEY secret from a file; one trailing newline (LF or CRLF) is
 * stripped. IDN_EINVAL for an empty secret, -errno when unreadable. */
int idn_auth_load_secret(idn_auth_t *a, const char *path);
/* Load a PEM private key (proto/pkey.h errors). */
int idn_auth_load_key(idn_auth_t *a, const char *path);
void idn_auth_free(idn_auth_t *a);

/*
 * Send an admin request (envelope + message built below) and answer a
 * challenge: when the server answers RC 402, check that the challenge's
 * digest is the digest of our request's header+body (IDN_EPROTO if not),
 * sign or MAC it (HS_PUBKEY: RSA SHA-256 from version 2.7 on, DSA from
 * 2.11 on, else SHA-1; SM2 keys SM3 with the identity handle as signer id;
 * HS_SECKEY: PBKDF2 code 0x22 as CNRI 2.7+), send OC 200 with the 402's
 * session id and a new RequestId, and return the final answer in *resp.
 * IDN_EINVAL when a challenge comes and `a` has no key.
 */
int idn_client_admin(idn_client_t *c, const idn_auth_t *a, const uint8_t *req, size_t len,
		     idn_msg_t *resp);

/*
 * The IDIS login (idis-wire.md section 4): OC 2 then OC 2001 with session
 * `session_id`, answer the 402, expect RC 1 with opcode 2001. Afterwards
 * requests carrying `session_id` on this connection are authorized as the
 * identity. IDN_ERESPONSE when the server refuses (RC in *rcode when not
 * NULL, its message copied to msg when not NULL), IDN_EPROTO for a bad or
 * mismatched challenge.
 */
int idn_client_login(idn_client_t *c, const idn_auth_t *a, uint32_t session_id);
int idn_client_login_rc(idn_client_t *c, const idn_auth_t *a, uint32_t session_id,
			uint32_t *rcode, char *msg, size_t msglen);

/* ------------------------------------------------------------------ */
/* Request builders: envelope + header + body + empty credential at the
 * cursor; return w->err. Version 2.11 unless o->major is set. */

typedef struct {
	uint32_t request_id;      /* required (idn_client_request_id) */
	uint32_t session_id;
	uint32_t opflag;          /* added to the default REC|CA|PO, e.g. IDN_OF_OVRW */
	uint8_t major, minor;     /* 0 = 2.11 */
} idn_req_opts_t;

/* OC 100 create, 102 add, 104 modify: `values` = n values in wire form. */
int idn_build_values_req(idn_wire_t *w, uint32_t opcode, const char *handle, uint32_t n,
			 idn_bytes_t values, const idn_req_opts_t *o);
/* OC 103 remove. */
int idn_build_remove_req(idn_wire_t *w, const char *handle, uint32_t n, const uint32_t *index,
			 const idn_req_opts_t *o);
/* Bodies that are one handle: OC 101 delete, 105 list handles, 300 home,
 * 301 unhome, 302 list homed ("/"), 2 get site info ("/"). */
int idn_build_handle_req(idn_wire_t *w, uint32_t opcode, const char *handle,
			 const idn_req_opts_t *o);
/* Bytes enough for any of the above with this much handle and values. */
#define IDN_REQ_OVERHEAD (IDN_ENVELOPE_LEN + IDN_HEADER_LEN + 16)

/* Append one HS_ADMIN value (perms admin read/write + public read) naming
 * (admin, admin_index) with permission mask `adm_perms` at the cursor. */
void idn_put_admin_value(idn_wire_t *w, uint32_t index, uint16_t adm_perms, const char *admin,
			 uint32_t admin_index, uint32_t now);
/* True when one of the n values in wire form has type HS_ADMIN. */
bool idn_values_have_type(idn_bytes_t values, uint32_t n, const char *type);

/* ------------------------------------------------------------------ */
/* Answers. */

/* The body of an answer after its request digest (RD flag). IDN_EPROTO when
 * the digest does not decode. */
int idn_resp_body(const idn_msg_t *m, idn_bytes_t *body);
/* The message of an error answer (possibly empty). */
idn_bytes_t idn_resp_message(const idn_msg_t *m);
/* CNRI's name of a response code ("HANDLE_ALREADY_EXISTS"), IDIS codes
 * included; "UNKNOWN" for others. Static. */
const char *idn_rc_name(uint32_t rc);

/*
 * List handles (OC 105, name = prefix handle) or homed prefixes (OC 302,
 * name ignored, "/" sent): authenticated as for idn_client_admin, then every
 * name of every continued message (CN flag) goes to `fn`. *resp is the last
 * answer: on a non-success code no names come and resp->hdr.rcode says why.
 */
int idn_client_list(idn_client_t *c, const idn_auth_t *a, uint32_t opcode, const char *name,
		    void (*fn)(void *arg, idn_bytes_t name), void *arg, idn_msg_t *resp);

#endif
