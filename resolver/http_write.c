/* http_write.c - the write side of the JSON API: PUT/DELETE /api/handles/{h}, home/unhome prefixes, as native requests to the registry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client/admin.h"
#include "proto/json.h"
#include "proto/record.h"
#include "resolver/http_auth.h"
#include "resolver/http_write.h"

/*
 * Each handler builds the native request (client/admin.h builders) and
 * hands it to the registry with http_submit as the request's identity, so
 * permissions, quotas, the change log and the durable commit are those of
 * the native protocol; the callback turns the native answer into CNRI's
 * JSON. Anonymous requests go too: the registry's RC 402 comes after its
 * own checks (RC 301 first), as for TCP.
 */

#define MAX_INDEX 256

/* What a callback needs besides the answer (j->user). */
typedef struct {
	uint32_t opcode;
	bool ovrw;                /* the request asked to overwrite */
	bool retry_ovrw;          /* a PUT: RC 101 -> again with OVRW (then 200) */
	bool replaced;
} write_args_t;

int http_values_from_json(const json_t *arr, uint32_t now, idn_wire_t *w, uint32_t *n,
			  char *err, size_t errlen)
{
	if (json_array_size(arr) > IDN_MAX_VALUES) {
		snprintf(err, errlen, "More than %d values", IDN_MAX_VALUES);
		return IDN_ELIMIT;
	}
	size_t i;
	const json_t *v;
	char e[200];
	json_array_foreach(arr, i, v) {
		int ret = idn_value_from_json(v, now, w, e, sizeof(e));
		if (ret) {
			if (ret == IDN_ESPACE)
				snprintf(err, errlen, "Values too large");
			else
				snprintf(err, errlen, "value %zu: %s", i + 1, e);
			return ret == IDN_ESPACE ? IDN_ELIMIT : ret;
		}
	}
	*n = (uint32_t)json_array_size(arr);
	return IDN_OK;
}

bool http_job_answer(const http_job_t *j, idn_msg_t *m, char *msg, size_t len)
{
	const uint8_t *p = j->job.resp;
	size_t n = p ? j->job.resp_len : 0;
	msg[0] = 0;
	if (!http_answer_next(&p, &n, m))
		return false;
	/* A challenge's body is a nonce, not a message. */
	if (m->hdr.rcode != IDN_RC_SUCCESS && m->hdr.rcode != IDN_RC_AUTHENTICATION_NEEDED)
		http_answer_message(m, msg, len);
	return true;
}

void http_reply_write_error(http_ctx_t *c, uint32_t rc, const char *msg, const char *handle)
{
	bool quiet = rc == IDN_RC_HANDLE_NOT_FOUND || rc == IDN_RC_HANDLE_ALREADY_EXISTS ||
		     rc == IDN_RC_AUTHENTICATION_NEEDED;
	http_reply_rc(c, rc, quiet ? NULL : msg, handle, false);
}

/* The handle a native request names (its body's first ByteString). */
static void request_handle(const http_job_t *j, char *buf, size_t len)
{
	idn_wire_t in;
	idn_wire_init_ro(&in, j->job.msg.body.p, j->job.msg.body.len);
	idn_bytes_t h = idn_wire_get_bstr(&in, IDN_MAX_HANDLE_LEN);
	size_t n = in.err || h.len >= len ? 0 : h.len;
	memcpy(buf, h.p, n);
	buf[n] = 0;
}

static void write_done(http_job_t *j)
{
	http_ctx_t *c = &j->ctx;
	write_args_t *a = (write_args_t *)j->user;
	char handle[HTTP_HANDLE_MAX + 1], msg[256];
	request_handle(j, handle, sizeof(handle));
	idn_msg_t m;
	if (!http_job_answer(j, &m, msg, sizeof(msg))) {
		http_reply_error(c, 500, IDN_RC_ERROR, "Internal server error: no answer");
		return;
	}
	uint32_t rc = m.hdr.rcode;
	if (rc == IDN_RC_HANDLE_ALREADY_EXISTS && a->retry_ovrw) {
		/* PUT replaces by default: it exists, so again with OVRW. The
		 * first try tells a create (201) from a replacement (200). */
		idn_put_be32(j->req + IDN_ENVELOPE_LEN + 8, j->job.msg.hdr.opflag | IDN_OF_OVRW);
		write_args_t again = *a;
		again.retry_ovrw = false;
		again.replaced = true;
		again.ovrw = true;
		http_submit(c, j->req, j->job.req_len, &j->conn.identity, write_done, &again,
			    sizeof(again));
		return;
	}
	if (rc != IDN_RC_SUCCESS) {
		http_reply_write_error(c, rc, msg, handle);
		return;
	}
	int status = 200;
	if (a->opcode == IDN_OC_CREATE_HANDLE) {
		/* The registry answers with the handle created (minted or not). */
		idn_bytes_t body;
		if (idn_resp_body(&m, &body) == IDN_OK) {
			idn_wire_t in;
			idn_wire_init_ro(&in, body.p, body.len);
			idn_bytes_t h = idn_wire_get_bstr(&in, IDN_MAX_HANDLE_LEN);
			if (!in.err && h.len && h.len < sizeof(handle)) {
				memcpy(handle, h.p, h.len);
				handle[h.len] = 0;
			}
		}
		status = a->replaced ? 200 : 201;
	} else if (a->opcode == IDN_OC_ADD_VALUE) {
		status = a->ovrw ? 200 : 201;
	}
	json_t *o = json_object();
	if (o) {
		json_object_set_new(o, "responseCode", json_integer(1));
		if (a->opcode != IDN_OC_HOME_NA && a->opcode != IDN_OC_UNHOME_NA)
			json_object_set_new(o, "handle", json_stringn_nocheck(handle, strlen(handle)));
	}
	http_reply_json(c, status, o);
}

/* The `index` parameters: numbers, or "various". False after a 400. */
static bool index_params(http_ctx_t *c, uint32_t *idx, uint32_t *n, bool *various)
{
	http_qiter_t it;
	char name[32], v[32];
	*n = 0;
	*various = false;
	http_qiter_init(c, &it);
	while (http_qiter_next(&it, name, sizeof(name), v, sizeof(v))) {
		if (strcmp(name, "index") != 0)
			continue;
		if (strcasecmp(v, "various") == 0) {
			*various = true;
			continue;
		}
		char *end;
		unsigned long x = strtoul(v, &end, 10);
		if (!v[0] || *end || x > 0x7fffffff || *n >= MAX_INDEX) {
			http_reply_error(c, 400, IDN_RC_PROTOCOL_ERROR, "Invalid index parameter");
			return false;
		}
		idx[(*n)++] = (uint32_t)x;
	}
	if (it.bad) {
		http_reply_error(c, 400, IDN_RC_PROTOCOL_ERROR, "Bad percent-encoding in the query string");
		return false;
	}
	return true;
}

/* The values of a PUT body: an array, {"values":[...]} (its "handle", if
 * any, must be this one), or one value. False after a 400. */
static bool put_values(http_ctx_t *c, const json_t *body, const char *handle, idn_wire_t *w,
		       uint32_t *n)
{
	const json_t *arr = body;
	json_t *one = NULL;
	if (json_is_object(body) && json_object_get(body, "values")) {
		const json_t *h = json_object_get(body, "handle");
		if (h && (!json_is_string(h) || strcasecmp(json_string_value(h), handle) != 0)) {
			http_reply_error(c, 400, IDN_RC_PROTOCOL_ERROR,
					 "The handle in the body does not match the URL");
			return false;
		}
		arr = json_object_get(body, "values");
	} else if (json_is_object(body)) {
		arr = one = json_array();
		if (one)
			json_array_append(one, (json_t *)body);
	}
	if (!json_is_array(arr)) {
		http_reply_error(c, 400, IDN_RC_PROTOCOL_ERROR,
				 "The body must be an array of values, {\"values\":[...]} or a value");
		return false;
	}
	char err[256];
	int ret = http_values_from_json(arr, c->t->q.now, w, n, err, sizeof(err));
	json_decref(one);
	if (ret) {
		http_reply_error(c, 400, IDN_RC_INVALID_VALUE, err);
		return false;
	}
	return true;
}

/* With index parameters the values must be exactly those indexes. */
static bool same_indexes(idn_bytes_t vals, uint32_t n, const uint32_t *idx, uint32_t ni)
{
	if (n != ni)
		return false;
	idn_wire_t in;
	idn_wire_init_ro(&in, vals.p, vals.len);
	for (uint32_t i = 0; i < n; i++) {
		idn_value_t v;
		if (idn_value_decode(&in, &v) != IDN_OK)
			return false;
		bool found = false;
		for (uint32_t k = 0; k < ni && !found; k++)
			found = idx[k] == v.index;
		if (!found)
			return false;
	}
	return true;
}

static void put_handle(http_ctx_t *c)
{
	char handle[HTTP_HANDLE_MAX + 1];
	if (http_handle_arg(c, c->rest, handle, sizeof(handle)) < 0)
		return;
	const idn_identity_t *who;
	if (!http_auth_request(c, &who))
		return;
	uint32_t idx[MAX_INDEX], ni;
	bool various;
	if (!index_params(c, idx, &ni, &various))
		return;
	bool overwrite = http_param_bool(c, "overwrite", true);
	bool mint = http_param_bool(c, "mintNewSuffix", false);
	json_t *body = http_body_json(c, false);
	if (!body)
		return;
	uint8_t *vbuf = malloc(HTTP_VALUES_MAX), *req = malloc(IDN_MAX_MESSAGE_LEN);
	idn_wire_t vw, w;
	uint32_t n = 0;
	if (!vbuf || !req) {
		http_reply_error(c, 503, IDN_RC_SERVER_TOO_BUSY, "Out of memory");
		goto out;
	}
	idn_wire_init(&vw, vbuf, HTTP_VALUES_MAX);
	if (!put_values(c, body, handle, &vw, &n))
		goto out;
	idn_bytes_t vals = { vbuf, (uint32_t)idn_wire_offset(&vw) };
	write_args_t a = { .opcode = IDN_OC_CREATE_HANDLE };
	idn_req_opts_t ro = { .request_id = 1 };
	if (ni || various) {
		if (!various && !same_indexes(vals, n, idx, ni)) {
			http_reply_error(c, 400, IDN_RC_PROTOCOL_ERROR,
					 "The index parameters must be the indexes of the values");
			goto out;
		}
		a.opcode = IDN_OC_ADD_VALUE;
		a.ovrw = overwrite;
	} else if (mint) {
		ro.opflag = IDN_OF_MINT;
	} else {
		a.retry_ovrw = overwrite;
	}
	if (a.ovrw)
		ro.opflag |= IDN_OF_OVRW;
	idn_wire_init(&w, req, IDN_MAX_MESSAGE_LEN);
	if (idn_build_values_req(&w, a.opcode, handle, n, vals, &ro) != IDN_OK) {
		http_reply_error(c, 413, IDN_RC_PROTOCOL_ERROR, "Request too large");
		goto out;
	}
	http_submit(c, req, idn_wire_offset(&w), who, write_done, &a, sizeof(a));
out:
	json_decref(body);
	free(vbuf);
	free(req);
}

static void delete_handle(http_ctx_t *c)
{
	char handle[HTTP_HANDLE_MAX + 1];
	if (http_handle_arg(c, c->rest, handle, sizeof(handle)) < 0)
		return;
	const idn_identity_t *who;
	if (!http_auth_request(c, &who))
		return;
	uint32_t idx[MAX_INDEX], ni;
	bool various;
	if (!index_params(c, idx, &ni, &various))
		return;
	if (various) {
		http_reply_error(c, 400, IDN_RC_PROTOCOL_ERROR, "index=various is for PUT");
		return;
	}
	idn_wire_t w;
	idn_wire_init(&w, c->t->scratch, HTTP_SCRATCH_REQ);
	idn_req_opts_t ro = { .request_id = 1 };
	write_args_t a = { .opcode = ni ? IDN_OC_REMOVE_VALUE : IDN_OC_DELETE_HANDLE };
	int ret = ni ? idn_build_remove_req(&w, handle, ni, idx, &ro)
		     : idn_build_handle_req(&w, IDN_OC_DELETE_HANDLE, handle, &ro);
	if (ret != IDN_OK) {
		http_reply_error(c, 400, IDN_RC_INVALID_HANDLE, "Handle too long");
		return;
	}
	http_submit(c, c->t->scratch, idn_wire_offset(&w), who, write_done, &a, sizeof(a));
}

/* POST /api/prefixes/{p} (or ?prefix=p): OC 300; DELETE: OC 301. The
 * prefix is "88.100.12" or "0.NA/88.100.12". */
static void prefix_op(http_ctx_t *c, uint32_t opcode)
{
	char p[HTTP_HANDLE_MAX + 1], na[HTTP_HANDLE_MAX + 8];
	if (c->rest[0]) {
		if (http_handle_arg(c, c->rest, p, sizeof(p)) < 0)
			return;
	} else if (!http_param(c, "prefix", p, sizeof(p)) || !p[0]) {
		http_reply_error(c, 400, IDN_RC_INVALID_HANDLE, "Missing prefix");
		return;
	}
	const idn_identity_t *who;
	if (!http_auth_request(c, &who))
		return;
	snprintf(na, sizeof(na), "%s%s", strncasecmp(p, "0.NA/", 5) == 0 ? "" : "0.NA/", p);
	idn_wire_t w;
	idn_wire_init(&w, c->t->scratch, HTTP_SCRATCH_REQ);
	idn_req_opts_t ro = { .request_id = 1 };
	if (idn_build_handle_req(&w, opcode, na, &ro) != IDN_OK) {
		http_reply_error(c, 400, IDN_RC_INVALID_HANDLE, "Prefix too long");
		return;
	}
	write_args_t a = { .opcode = opcode };
	http_submit(c, c->t->scratch, idn_wire_offset(&w), who, write_done, &a, sizeof(a));
}

static void home_prefix(http_ctx_t *c)
{
	prefix_op(c, IDN_OC_HOME_NA);
}

static void unhome_prefix(http_ctx_t *c)
{
	prefix_op(c, IDN_OC_UNHOME_NA);
}

const http_route_t http_write_routes[] = {
	{ EVHTTP_REQ_PUT, "/api/handles/", HTTP_PREFIX, put_handle },
	{ EVHTTP_REQ_DELETE, "/api/handles/", HTTP_PREFIX, delete_handle },
	{ EVHTTP_REQ_POST, "/api/batch", HTTP_EXACT, http_batch },
	{ EVHTTP_REQ_POST, "/api/prefixes/", HTTP_PREFIX, home_prefix },
	{ EVHTTP_REQ_POST, "/api/prefixes", HTTP_EXACT, home_prefix },
	{ EVHTTP_REQ_DELETE, "/api/prefixes/", HTTP_PREFIX, unhome_prefix },
	{ EVHTTP_REQ_POST, "/api/sessions", HTTP_EXACT, http_sessions },
	{ EVHTTP_REQ_GET | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE, "/api/sessions/", HTTP_PREFIX,
	  http_sessions },
	{ EVHTTP_REQ_GET, "/api/verifications/", HTTP_PREFIX, http_verifications },
	{ 0, NULL, 0, NULL },
};
