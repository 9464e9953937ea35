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

typedef struct {
	void *ctx;
	void (*submit)(void *ctx, idn_job_t *job);
} idn_dispatch_t;

#endif
