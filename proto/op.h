/* op.h - a request handed from a listener to an operation handler (the registry), and the answer it gets back. */
#ifndef IDN_OP_H
#define IDN_OP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "proto/msg.h"
#include "proto/respond.h"

/*
 * The listeners (resolver/) answer resolution and site info themselves and
 * hand every other operation to a dispatch table that the daemon's main
 * fills with the registry's entry points. Neither side includes the other:
 * both see only these types.
 *
 * Rules of use:
 * - The listener allocates the job, copies the request into it, and calls
 *   dispatch->submit() on its own thread. The handler owns the job from then
 *   until it calls job->done(job), exactly once, from any thread (possibly
 *   before submit returns). After done() the handler must not touch the job.
 * - `conn` and `reader` are valid only during submit(), on the listener's
 *   thread: a handler that defers work copies what it needs.
 * - The answer (`resp`, one or more complete response messages back to
 *   back) is malloc'ed by the handler and freed by the listener.
 */

enum idn_transport { IDN_TR_UDP = 0, IDN_TR_TCP = 1, IDN_TR_HTTP = 2 };

/* Longest identity handle we keep (LMDB's key limit). */
#define IDN_ID_MAX_HANDLE 511

/* An authenticated identity, index:handle (e.g. 300:0.NA/88.100.12). */
typedef struct {
	bool valid;
	uint32_t index;
	uint16_t len;
	uint8_t handle[IDN_ID_MAX_HANDLE];
} idn_identity_t;

/* What a handler may keep per connection: an identity bound by a login
 * (IDIS OC 2001) and the session id the client labels its requests with. */
typedef struct {
	idn_identity_t identity;
	uint32_t session_id;
	bool login_pending;       /* an OC 2001 challenge awaits its OC 200 answer */
	uint32_t login_challenge; /* the challenge's session id */
} idn_conn_state_t;

struct idn_reader;

typedef struct idn_job idn_job_t;
struct idn_job {
	/* Set by the listener before submit(). */
	uint8_t *req;             /* envelope + message, owned by the job */
	size_t req_len;
	idn_msg_t msg;            /* decoded request, borrows req */
	int transport;            /* enum idn_transport */
	struct sockaddr_storage peer;
	idn_conn_state_t *conn;   /* during submit() only; NULL without a connection */
	struct idn_reader *reader; /* the listener's reader, begun; during submit() only */
	idn_resp_ctx_t ctx;       /* site serial, primary flag, now */
	bool idempotent;          /* a create of a handle that exists with the same
				   * values is a success (batch retries), see `existed` */

	/* Set by the handler before done(). */
	uint8_t *resp;            /* malloc'ed response message(s); freed by the listener */
	size_t resp_len;
	bool close;               /* close the connection after the answer */
	bool existed;             /* idempotent create: it was there already */

	/* Set by the listener. */
	void (*done)(idn_job_t *job);
	void *owner;
};

/*
 * A credential to check against the key values of an identity, for
 * listeners that authenticate outside the native challenge (HTTP Basic and
 * `Authorization: Handle`). The answer is in the native encoding of an OC
 * 200 answer field (HS_SECKEY: code byte + MAC, or the PBKDF2 structure;
 * HS_PUBKEY: ByteString hashAlgId + ByteString signature) over
 * nonce || digest (HTTP: the server nonce and the client's cnonce), or,
 * with `secret`, the plain HS_SECKEY bytes (HTTP Basic).
 */
typedef struct {
	const char *type;         /* "HS_SECKEY" or "HS_PUBKEY" */
	const uint8_t *handle;    /* the identity (key) handle */
	size_t handle_len;
	uint32_t index;           /* key index, 0 = every value of that type */
	const uint8_t *nonce;
	size_t nonce_len;
	const uint8_t *digest;
	size_t digest_len;
	const uint8_t *answer;
	size_t answer_len;
	bool secret;              /* answer is the secret itself (HS_SECKEY only) */
} idn_verify_t;

typedef struct {
	void *ctx;
	void (*submit)(void *ctx, idn_job_t *job);
	/* Check a credential on the caller's thread with its reader (begun):
	 * IDN_OK and *who = the identity (index of the value that verified),
	 * IDN_EACCES when it does not verify, IDN_ENOTFOUND when the handle is
	 * unknown, IDN_EINVAL for an unknown type. NULL = nobody can log in. */
	int (*verify)(void *ctx, struct idn_reader *rd, const idn_verify_t *v,
		      idn_identity_t *who);
} idn_dispatch_t;

#endif
