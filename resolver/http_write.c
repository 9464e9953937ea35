/* http_write.c - the write side of the JSON API (PUT/DELETE /api/handles, batch, prefixes, sessions) and HTTP authentication: stubs to build on. */
#include "resolver/http_int.h"

/*
 * Each handler builds the native request (client/admin.h builders) and
 * hands it to the registry with http_submit(c, msg, len, http_identity(c),
 * callback, ...); the callback turns the native answer into CNRI's JSON
 * (http_answer_next, http_reply_rc with http_status_for_rc: 201 for a
 * create that did not overwrite). Until then each answers 501 RC 5.
 */

static void not_yet(http_ctx_t *c)
{
	http_reply_error(c, 501, IDN_RC_OPERATION_NOT_SUPPORTED, "not implemented yet");
}

static void put_handle(http_ctx_t *c)
{
	not_yet(c);
}

static void delete_handle(http_ctx_t *c)
{
	not_yet(c);
}

static void batch(http_ctx_t *c)
{
	not_yet(c);
}

static void home_prefix(http_ctx_t *c)
{
	not_yet(c);
}

static void unhome_prefix(http_ctx_t *c)
{
	not_yet(c);
}

static void sessions(http_ctx_t *c)
{
	not_yet(c);
}

static void verifications(http_ctx_t *c)
{
	not_yet(c);
}

const http_route_t http_write_routes[] = {
	{ EVHTTP_REQ_PUT, "/api/handles/", HTTP_PREFIX, put_handle },
	{ EVHTTP_REQ_DELETE, "/api/handles/", HTTP_PREFIX, delete_handle },
	{ EVHTTP_REQ_POST, "/api/batch", HTTP_EXACT, batch },
	{ EVHTTP_REQ_POST, "/api/prefixes/", HTTP_PREFIX, home_prefix },
	{ EVHTTP_REQ_POST, "/api/prefixes", HTTP_EXACT, home_prefix },
	{ EVHTTP_REQ_DELETE, "/api/prefixes/", HTTP_PREFIX, unhome_prefix },
	{ EVHTTP_REQ_POST, "/api/sessions", HTTP_EXACT, sessions },
	{ EVHTTP_REQ_GET | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE, "/api/sessions/", HTTP_PREFIX,
	  sessions },
	{ EVHTTP_REQ_GET, "/api/verifications/", HTTP_PREFIX, verifications },
	{ 0, NULL, 0, NULL },
};

/* ---- authentication: to move into http_auth.c ---- */

const idn_identity_t *http_identity(http_ctx_t *c)
{
	return NULL;
}

void http_auth_challenge(http_ctx_t *c)
{
}
