/* http_batch.c - POST /api/batch: up to 10,000 idempotent creates in one call, answered per item once every item is durably committed or refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/admin.h"
#include "proto/json.h"
#include "resolver/http_auth.h"
#include "resolver/http_write.h"

/*
 * Every item is its own native OC 100 job, marked idempotent: a create of
 * a handle that is already there with the same values counts as done
 * ("existing"), so a client that lost the answer retries the whole batch
 * and gets the same outcome per item (created then, existing now: both
 * mean stored). The answer goes out only after the last item's answer,
 * and the registry answers a write only after its durable commit, so a
 * reply never says more than what is on disk. At most WINDOW jobs of a
 * batch are with the registry at a time; each answer lets the next one
 * go, so a big batch cannot flood the writer's queue.
 */

#define BATCH_MAX 10000
#define WINDOW 256

enum { ST_PENDING = 0, ST_CREATED, ST_EXISTING, ST_FAILED };

typedef struct {
	uint32_t rc;
	uint8_t status;
	char *msg;                /* malloc'd, or NULL */
} item_t;

typedef struct {
	http_ctx_t ctx;           /* the request: replied on once, at the end */
	idn_identity_t who;
	json_t *doc;              /* the body; items borrow from it */
	json_t *items;
	bool overwrite;           /* ?overwrite=true: the default of every item */
	size_t n, next, done;
	unsigned inflight;
	uint8_t *vbuf, *req;      /* building area of one item's request */
	item_t it[];
} batch_t;

typedef struct {
	batch_t *b;
	size_t i;
} item_ref_t;

static void item_fail(batch_t *b, size_t i, uint32_t rc, const char *msg)
{
	b->it[i].status = ST_FAILED;
	b->it[i].rc = rc;
	b->it[i].msg = msg && *msg ? strdup(msg) : NULL;
	b->done++;
}

static void batch_free(batch_t *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->it[i].msg);
	json_decref(b->doc);
	free(b->vbuf);
	free(b->req);
	free(b);
}

static void finish(batch_t *b)
{
	json_t *o = json_object(), *res = json_array();
	size_t created = 0, existing = 0, failed = 0;
	for (size_t i = 0; o && res && i < b->n; i++) {
		const item_t *t = &b->it[i];
		json_t *r = json_object();
		if (!r)
			break;
		const json_t *h = json_object_get(json_array_get(b->items, i), "handle");
		json_object_set_new(r, "handle", json_is_string(h) ? json_copy((json_t *)h)
								   : json_null());
		json_object_set_new(r, "responseCode", json_integer(t->status == ST_FAILED ? t->rc : 1));
		if (t->status == ST_FAILED) {
			failed++;
			if (t->msg)
				json_object_set_new(r, "message",
						    json_stringn_nocheck(t->msg, strlen(t->msg)));
		} else {
			t->status == ST_CREATED ? created++ : existing++;
			json_object_set_new(r, "status",
					    json_string(t->status == ST_CREATED ? "created" : "existing"));
		}
		json_array_append_new(res, r);
	}
	if (o && res) {
		json_object_set_new(o, "responseCode", json_integer(1));
		json_object_set_new(o, "results", res);
		json_object_set_new(o, "created", json_integer((json_int_t)created));
		json_object_set_new(o, "existing", json_integer((json_int_t)existing));
		json_object_set_new(o, "failed", json_integer((json_int_t)failed));
	} else {
		json_decref(o);
		json_decref(res);
		o = NULL;
	}
	http_reply_json(&b->ctx, 200, o);
	batch_free(b);
}

static void item_done(http_job_t *j);

/* Build and hand over item i; failures of the item itself are answered
 * in its result, the others go on. */
static void submit_item(batch_t *b, size_t i)
{
	const json_t *item = json_array_get(b->items, i);
	const json_t *h = json_object_get(item, "handle");
	const json_t *vals = json_object_get(item, "values");
	const json_t *ow = json_object_get(item, "overwrite");
	if (!json_is_object(item) || !json_is_string(h) || json_string_length(h) == 0 ||
	    json_string_length(h) > IDN_MAX_HANDLE_LEN ||
	    strlen(json_string_value(h)) != json_string_length(h)) {
		item_fail(b, i, IDN_RC_INVALID_HANDLE, "Each identifier needs a \"handle\" string");
		return;
	}
	if (!json_is_array(vals)) {
		item_fail(b, i, IDN_RC_PROTOCOL_ERROR, "\"values\" must be an array");
		return;
	}
	if (ow && !json_is_boolean(ow)) {
		item_fail(b, i, IDN_RC_PROTOCOL_ERROR, "\"overwrite\" must be true or false");
		return;
	}
	char err[256];
	uint32_t n = 0;
	idn_wire_t vw, w;
	idn_wire_init(&vw, b->vbuf, HTTP_VALUES_MAX);
	if (http_values_from_json(vals, b->ctx.t->q.now, &vw, &n, err, sizeof(err)) != IDN_OK) {
		item_fail(b, i, IDN_RC_INVALID_VALUE, err);
		return;
	}
	idn_req_opts_t ro = { .request_id = 1 };
	if (ow ? json_is_true(ow) : b->overwrite)
		ro.opflag = IDN_OF_OVRW;
	idn_bytes_t vb = { b->vbuf, (uint32_t)idn_wire_offset(&vw) };
	idn_wire_init(&w, b->req, IDN_MAX_MESSAGE_LEN);
	if (idn_build_values_req(&w, IDN_OC_CREATE_HANDLE, json_string_value(h), n, vb, &ro) !=
	    IDN_OK) {
		item_fail(b, i, IDN_RC_PROTOCOL_ERROR, "Identifier too large");
		return;
	}
	/* Errors of the call itself must not reach the request: a copy that
	 * counts as replied takes them. */
	http_ctx_t tc = b->ctx;
	tc.replied = true;
	item_ref_t ref = { b, i };
	if (http_submit_flags(&tc, b->req, idn_wire_offset(&w), &b->who, item_done, &ref,
			      sizeof(ref), HTTP_JOB_IDEMPOTENT | HTTP_JOB_SHARED) != IDN_OK) {
		item_fail(b, i, IDN_RC_SERVER_TOO_BUSY, "Could not hand the item to the registry");
		return;
	}
	b->inflight++;
}

/* Keep up to WINDOW items with the registry. */
static void pump(batch_t *b)
{
	while (b->inflight < WINDOW && b->next < b->n)
		submit_item(b, b->next++);
}

static void item_done(http_job_t *j)
{
	item_ref_t *ref = (item_ref_t *)j->user;
	batch_t *b = ref->b;
	item_t *t = &b->it[ref->i];
	b->inflight--;
	bool stopping = j->ctx.t->jobs_stopped;
	idn_msg_t m;
	char msg[256];
	if (!http_job_answer(j, &m, msg, sizeof(msg))) {
		item_fail(b, ref->i, IDN_RC_ERROR, "No answer from the registry");
	} else if (m.hdr.rcode == IDN_RC_SUCCESS) {
		t->status = j->job.existed ? ST_EXISTING : ST_CREATED;
		t->rc = IDN_RC_SUCCESS;
		b->done++;
	} else {
		item_fail(b, ref->i, m.hdr.rcode, msg);
	}
	if (!stopping)
		pump(b);
	if (b->inflight > 0)
		return;
	if (b->done == b->n) {
		finish(b);
	} else if (stopping) {
		/* Shutting down with items not sent: the client, told 503,
		 * retries the batch, which is safe. */
		http_reply_error(&b->ctx, 503, IDN_RC_SERVER_TOO_BUSY,
				 "Server shutting down: retry the batch");
		batch_free(b);
	}
}

void http_batch(http_ctx_t *c)
{
	const idn_identity_t *who;
	if (!http_auth_request(c, &who))
		return;
	if (!who) {
		/* Every item would be refused: 401 with the challenge (HTTPS) or
		 * 403 (HTTP), as for PUT. */
		http_reply_rc(c, IDN_RC_AUTHENTICATION_NEEDED, NULL, NULL, false);
		return;
	}
	json_t *doc = http_body_json(c, false);
	if (!doc)
		return;
	json_t *items = json_object_get(doc, "identifiers");
	if (!json_is_array(items)) {
		json_decref(doc);
		http_reply_error(c, 400, IDN_RC_PROTOCOL_ERROR,
				 "The body must be {\"identifiers\":[{\"handle\":...,\"values\":[...]},...]}");
		return;
	}
	size_t n = json_array_size(items);
	if (n > BATCH_MAX) {
		char msg[128];
		snprintf(msg, sizeof(msg), "Too many identifiers in one batch: %zu (at most %d)", n,
			 BATCH_MAX);
		json_decref(doc);
		http_reply_error(c, 413, IDN_RC_PROTOCOL_ERROR, msg);
		return;
	}
	batch_t *b = calloc(1, sizeof(*b) + n * sizeof(item_t));
	if (b) {
		b->vbuf = malloc(HTTP_VALUES_MAX);
		b->req = malloc(IDN_MAX_MESSAGE_LEN);
	}
	if (!b || !b->vbuf || !b->req) {
		if (b)
			batch_free(b);
		json_decref(doc);
		http_reply_error(c, 503, IDN_RC_SERVER_TOO_BUSY, "Out of memory");
		return;
	}
	b->ctx = *c;
	b->who = *who;
	b->doc = doc;
	b->items = items;
	b->n = n;
	b->overwrite = http_param_bool(c, "overwrite", false);
	pump(b);
	/* From here on b->ctx answers the request, exactly once. */
	c->replied = true;
	if (b->done == b->n && b->inflight == 0)
		finish(b);
}
