/* client.h - a blocking Handle protocol client over UDP or TCP (CLI, tests, later the outbox and recursion). */
#ifndef IDN_CLIENT_H
#define IDN_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/msg.h"

/*
 * Rules of use:
 * - One idn_client_t talks to one server address; not thread-safe.
 * - TCP connections are persistent and reopened when the server closes
 *   them (CNRI closes after every answer).
 * - UDP follows CNRI's retry schedule (resend after 0.5 s, 1 s, 1.5 s) and
 *   reassembles multi-packet answers (492-byte chunks).
 * - Responses are returned in a buffer owned by the client, valid until the
 *   next request on it.
 */

enum { IDN_CLIENT_UDP = 0, IDN_CLIENT_TCP = 1 };

typedef struct idn_client idn_client_t;

/* `server` is "HOST:PORT" (numeric address; port defaults to 2641).
 * Errors: IDN_EINVAL for a bad address, IDN_ENOMEM. */
int idn_client_open(const char *server, int transport, int timeout_ms, idn_client_t **out);
void idn_client_close(idn_client_t *c);

/*
 * Send one encoded request (envelope + message) and wait for the response
 * with the same RequestId. On success *resp and *resp_len are the whole
 * response (envelope + message, reassembled). Errors: IDN_ETIMEDOUT,
 * IDN_ECONNREFUSED and other -errno, IDN_EPROTO for an undecodable answer.
 */
int idn_client_send(idn_client_t *c, const uint8_t *req, size_t len, const uint8_t **resp,
		    size_t *resp_len);

/*
 * Pipelining (TCP only): write requests without waiting and read answers as
 * they come, on one connection. The caller matches answers to requests by
 * RequestId (a server answers a connection's requests in order; a list
 * answer is several messages with the same RequestId). Unlike
 * idn_client_send(), these never reconnect on their own: a connection may
 * carry a login (idn_client_login) that a new one would not have.
 *
 * idn_client_write: the whole request is written (blocking up to the
 * timeout). Opens the connection when there is none. Errors: -errno
 * (IDN_ECONNREFUSED, -EPIPE when the server closed), IDN_ETIMEDOUT,
 * IDN_EINVAL (UDP client or a short request).
 *
 * idn_client_read: the next whole message (envelope + message) into the
 * client's buffer, valid until the next read or request. timeout_ms < 0 =
 * the client's timeout; 0 = only if one is already arriving (IDN_EAGAIN
 * when nothing is readable). IDN_EPROTO when the server closed the
 * connection or sent an oversized frame (the connection is then closed).
 */
int idn_client_write(idn_client_t *c, const uint8_t *req, size_t len);
int idn_client_read(idn_client_t *c, int timeout_ms, const uint8_t **resp, size_t *resp_len);

/* Close the connection (TCP) now; the next request opens a new one. */
void idn_client_disconnect(idn_client_t *c);

/* Options of a resolution request. */
typedef struct {
	const char *types[IDN_MAX_FILTER];
	uint32_t n_types;
	uint32_t indexes[IDN_MAX_FILTER];
	uint32_t n_indexes;
	uint32_t opflag;          /* 0 = CNRI default REC|CA|PO */
	uint8_t major, minor;     /* 0 = 2.11 */
	uint32_t session_id;
} idn_resolve_opts_t;

/* Resolve `handle`; *msg is the decoded response (borrowing the client's
 * buffer). A non-success ResponseCode is not an error here: check
 * msg->hdr.rcode. */
int idn_client_resolve(idn_client_t *c, const char *handle, const idn_resolve_opts_t *o,
		       idn_msg_t *msg);

/* A fresh random positive request id. */
uint32_t idn_client_request_id(idn_client_t *c);

#endif
