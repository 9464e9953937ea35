/* http_auth.h - HTTP authentication (Basic, Authorization: Handle, REST sessions) for the handler files. */
#ifndef IDN_HTTP_AUTH_H
#define IDN_HTTP_AUTH_H

#include "resolver/http_int.h"

/*
 * Credentials count over HTTPS only (CNRI): over plain HTTP they are
 * ignored, so the registry answers RC 402 and the client gets 403.
 * Checking a credential reads the identity's key values through the
 * dispatch table's verify entry (the registry's code, with this thread's
 * reader), so HTTP and the native protocol accept the same keys.
 */

/* The identity of the request. True with *who NULL for an anonymous one
 * (no credentials, or plain HTTP), true with *who set (thread-local: valid
 * until the next call on this thread) when they verified; false after a
 * 401 with `WWW-Authenticate: ... error="..."` (credentials that do not
 * verify, an unknown session), as CNRI answers before doing anything. */
bool http_auth_request(http_ctx_t *c, const idn_identity_t **who);

/* "INDEX:HANDLE" of an identity into buf. */
void http_identity_text(const idn_identity_t *who, char *buf, size_t len);

/* The sessions API: POST /api/sessions, GET/PUT/DELETE /api/sessions/this. */
void http_sessions(http_ctx_t *c);
/* GET /api/verifications/{index}:{handle}?nonce=&cnonce=&alg=&signature=
 * (HS_SECKEY, OC 201's question over HTTP). */
void http_verifications(http_ctx_t *c);

/* ---- shared by http_auth.c and http_sessions.c ---- */

#define HTTP_SESS_ID 16           /* random bytes of a session id (a bearer secret) */
#define HTTP_NONCE 16

/* A REST session (docs 8.4), kept by the HTTP layer: a table shared by
 * every HTTP thread, bounded, idle ones expire. */
typedef struct {
	uint8_t id[HTTP_SESS_ID];
	uint8_t nonce[HTTP_NONCE];
	bool authed;
	idn_identity_t who;
} http_sess_t;

/* A new unauthenticated session (fresh id and nonce); IDN_ECRYPTO without
 * randomness, IDN_ENOMEM. */
int http_sess_new(http_sess_t *out);
/* Copy of a live session (and it counts as used now); false when unknown
 * or expired. */
bool http_sess_get(const uint8_t *id, http_sess_t *out);
/* Bind a verified identity to a live session; false when it is gone. */
bool http_sess_bind(const uint8_t *id, const idn_identity_t *who);
void http_sess_del(const uint8_t *id);
/* The id as sent ("base64"), NUL-terminated into buf (>= 32 bytes). */
void http_sess_id_text(const uint8_t *id, char *buf, size_t len);
/* A session id as sent; false when it is not one. */
bool http_sess_id_parse(const char *s, uint8_t *id);

/* The parameters of `Authorization: Handle k="v", ...` (or of a JSON body). */
typedef struct {
	char session[64], id[1100], type[16], cnonce[64], alg[32];
	char signature[2048], salt[256], iterations[16], length[16];
} http_hauth_t;

/* Parse the parameters after "Handle"; false when malformed. */
bool http_hauth_parse(const char *params, http_hauth_t *h);
/* Check the answer of h (id, type, cnonce, alg, signature...) to `nonce`:
 * IDN_OK and *who, else an error with *err for the error="..." parameter. */
int http_hauth_verify(http_ctx_t *c, const http_hauth_t *h, const uint8_t *nonce,
		      idn_identity_t *who, const char **err);
/* The error="..." the next 401 on this thread carries (NULL = none). */
void http_auth_set_error(const char *err);

#endif
