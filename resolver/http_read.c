/* http_read.c - the read side of the JSON API (GET /api/handles/{h}, listings, /api/site) and the handle proxy (GET /{handle}). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client/admin.h"
#include "proto/json.h"
#include "proto/record.h"
#include "resolver/http_int.h"
#include "resolver/http_pages.h" /* page_esc: the pages' HTML escaping */

/*
 * Every read is a native request run through the thread's query step
 * (http_query), so HTTP answers what UDP and TCP answer: same
 * responsibility check, same filters, same public-read rule. Listings are
 * registry operations (they need authentication) and go through the
 * dispatch table as jobs.
 */

#define TYPE_BUF 4096

typedef struct {
	idn_resolve_req_t r;
	uint32_t flags;
	char types[TYPE_BUF];
	size_t types_len;
} resolve_args_t;

static bool parse_u32(const char *s, uint32_t *out)
{
	if (!*s || strlen(s) > 10)
		return false;
	unsigned long long v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (v > 0xffffffffu)
		return false;
	*out = (uint32_t)v;
	return true;
}

static bool parse_int(const char *s, int *out)
{
	uint32_t v;
	if (!parse_u32(s, &v) || v > 0x7fffffff)
		return false;
	*out = (int)v;
	return true;
}

/* index (repeatable), type (repeatable), auth -> AT, doNotRefer -> DNRF.
 * Answers 400 itself and returns false on bad parameters. */
static bool resolve_params(http_ctx_t *c, resolve_args_t *a)
{
	http_qiter_t it;
	char name[64], value[1024];
	a->flags = IDN_OF_REC | IDN_OF_PO;
	http_qiter_init(c, &it);
	while (http_qiter_next(&it, name, sizeof(name), value, sizeof(value))) {
		if (strcmp(name, "index") == 0) {
			if (a->r.n_index >= IDN_MAX_FILTER) {
				http_reply_error(c, 400, IDN_RC_PROTOCOL_ERROR, "Too many index parameters");
				return false;
			}
			if (!parse_u32(value, &a->r.index[a->r.n_index])) {
				http_reply_error(c, 400, IDN_RC_PROTOCOL_ERROR, "Invalid index");
				return false;
			}
			a->r.n_index++;
		} else if (strcmp(name, "type") == 0) {
			size_t n = strlen(value);
			if (a->r.n_type >= IDN_MAX_FILTER || a->types_len + n > sizeof(a->types)) {
				http_reply_error(c, 400, IDN_RC_PROTOCOL_ERROR, "Too many type parameters");
				return false;
			}
			memcpy(a->types + a->types_len, value, n);
			a->r.type[a->r.n_type].p = (const uint8_t *)a->types + a->types_len;
			a->r.type[a->r.n_type].len = (uint32_t)n;
			a->types_len += n;
			a->r.n_type++;
		} else if (strcmp(name, "auth") == 0) {
			if (value[0] == 0 || !strcasecmp(value, "true") || !strcasecmp(value, "yes"))
				a->flags |= IDN_OF_AT;
		} else if (strcmp(name, "doNotRefer") == 0) {
			if (value[0] == 0 || !strcasecmp(value, "true") || !strcasecmp(value, "yes"))
				a->flags |= IDN_OF_DNRF;
		}
		/* publicOnly: anonymous answers are public-only whatever it says;
		 * authenticated reads of private values belong to the registry. */
	}
	if (it.bad) {
		http_log_bad(c, "bad percent-encoding in the query string");
		http_reply_error(c, 400, IDN_RC_PROTOCOL_ERROR,
				 "Bad percent-encoding in the query string");
		return false;
	}
	return true;
}

/* Build the OC 1 request in the thread's scratch and run it. */
static int resolve(http_ctx_t *c, resolve_args_t *a, const char *handle, size_t hlen,
		   idn_msg_t *m)
{
	idn_wire_t w;
	idn_wire_init(&w, c->t->scratch, HTTP_SCRATCH_REQ);
	idn_envelope_t env = { .major = IDN_PROTO_MAJOR, .minor = IDN_PROTO_MINOR,
			       .sugg_major = IDN_PROTO_MAJOR, .sugg_minor = IDN_PROTO_MINOR,
			       .request_id = 1 };
	idn_header_t hdr = { .opcode = IDN_OC_RESOLUTION, .opflag = a->flags,
			     .expiration = c->t->q.now + IDN_EXPIRATION_SLACK };
	a->r.handle.p = (const uint8_t *)handle;
	a->r.handle.len = (uint32_t)hlen;
	size_t start = idn_msg_begin(&w, &env, &hdr);
	idn_resolve_req_encode(&w, &a->r);
	if (idn_msg_end(&w, start, true) != IDN_OK)
		return w.err;
	return http_query(c, c->t->scratch, idn_wire_offset(&w), m);
}

/* The values of an RC 1 resolution answer: a cursor at the first one. */
static bool answer_values(const idn_msg_t *m, idn_wire_t *in, uint32_t *count)
{
	idn_wire_init_ro(in, m->body.p, m->body.len);
	idn_wire_get_bstr(in, IDN_MAX_BSTR);
	*count = idn_wire_get_u32(in);
	return in->err == IDN_OK;
}

static void get_handle(http_ctx_t *c)
{
	char handle[HTTP_HANDLE_MAX + 1];
	long hlen = http_handle_arg(c, c->rest, handle, sizeof(handle));
	if (hlen < 0)
		return;
	resolve_args_t a;
	a.r.n_index = a.r.n_type = 0;
	a.r.has_token = false;
	a.types_len = 0;
	if (!resolve_params(c, &a))
		return;
	idn_msg_t m;
	if (resolve(c, &a, handle, (size_t)hlen, &m) != IDN_OK) {
		http_reply_error(c, 500, IDN_RC_ERROR, "Internal server error");
		return;
	}
	uint32_t rc = m.hdr.rcode;
	if (rc == IDN_RC_VALUES_NOT_FOUND) {
		/* CNRI's member order for this one: values before handle. */
		json_t *o = json_object();
		if (o) {
			json_object_set_new(o, "responseCode", json_integer(rc));
			json_object_set_new(o, "values", json_array());
			json_object_set_new(o, "handle", json_string(handle));
		}
		http_reply_json(c, 200, o);
		return;
	}
	if (rc != IDN_RC_SUCCESS) {
		char msg[256];
		http_answer_message(&m, msg, sizeof(msg));
		http_reply_rc(c, rc, msg, handle, true);
		return;
	}
	idn_wire_t in;
	uint32_t n;
	json_t *o = json_object(), *vals = json_array();
	if (!o || !vals || !answer_values(&m, &in, &n)) {
		json_decref(o);
		json_decref(vals);
		http_reply_error(c, 500, IDN_RC_ERROR, "Internal server error");
		return;
	}
	json_object_set_new(o, "responseCode", json_integer(1));
	json_object_set_new(o, "handle", json_string(handle));
	for (uint32_t i = 0; i < n; i++) {
		idn_value_t v;
		if (idn_value_decode(&in, &v) != IDN_OK)
			break;
		json_array_append_new(vals, idn_value_to_json(&v));
	}
	json_object_set_new(o, "values", vals);
	http_reply_json(c, 200, o);
}

static void get_site(http_ctx_t *c)
{
	uint8_t *req = c->t->scratch;
	idn_wire_t w;
	idn_wire_init(&w, req, HTTP_SCRATCH_REQ);
	idn_req_opts_t ro = { .request_id = 1 };
	idn_msg_t m;
	if (idn_build_handle_req(&w, IDN_OC_GET_SITE_INFO, "/", &ro) != IDN_OK ||
	    http_query(c, req, idn_wire_offset(&w), &m) != IDN_OK) {
		http_reply_error(c, 500, IDN_RC_ERROR, "Internal server error");
		return;
	}
	if (m.hdr.rcode != IDN_RC_SUCCESS) {
		char msg[256];
		http_answer_message(&m, msg, sizeof(msg));
		http_reply_rc(c, m.hdr.rcode, msg, NULL, false);
		return;
	}
	static _Thread_local idn_site_t site; /* ~6.5 KiB: off the stack */
	if (idn_site_decode(m.body.p, m.body.len, &site) != IDN_OK) {
		http_reply_error(c, 500, IDN_RC_ERROR, "Site record does not decode");
		return;
	}
	json_t *o = json_object();
	if (o) {
		json_object_set_new(o, "responseCode", json_integer(1));
		json_object_set_new(o, "site", idn_site_to_json(&site));
	}
	http_reply_json(c, 200, o);
}

/* ---- listings: OC 105 (handles under a prefix) and OC 302 (homed prefixes) ---- */

#define LIST_PREFIX_MAX 256

typedef struct {
	bool prefixes;            /* OC 302, else OC 105 */
	bool has_page, has_size;
	int page, size;
	char prefix[LIST_PREFIX_MAX + 1];
} list_args_t;

/* The names of every message of a list answer (CN set on all but the
 * last); only the requested page becomes JSON. */
static void list_done(http_job_t *j)
{
	http_ctx_t *c = &j->ctx;
	const list_args_t *a = (const list_args_t *)j->user;
	const uint8_t *p = j->job.resp;
	size_t len = j->job.resp ? j->job.resp_len : 0;
	long first = a->has_size ? (long)a->page * a->size : 0;
	long last = a->has_size ? first + a->size : -1; /* exclusive; -1 = all */
	long total = 0;
	json_t *names = json_array();
	idn_msg_t m;
	bool any = false;
	while (http_answer_next(&p, &len, &m)) {
		any = true;
		if (m.hdr.rcode != IDN_RC_SUCCESS) {
			char msg[256] = "";
			/* A challenge's body is a nonce, not a message. */
			if (m.hdr.rcode != IDN_RC_AUTHENTICATION_NEEDED)
				http_answer_message(&m, msg, sizeof(msg));
			json_decref(names);
			http_reply_rc(c, m.hdr.rcode, msg, NULL, false);
			return;
		}
		idn_wire_t in;
		idn_wire_init_ro(&in, m.body.p, m.body.len);
		if (m.hdr.opflag & IDN_OF_RD) {
			uint8_t alg;
			idn_bytes_t d;
			size_t skip;
			if (idn_digest_decode(m.body.p, m.body.len, &alg, &d, &skip) == IDN_OK)
				idn_wire_skip(&in, skip);
		}
		uint32_t k = idn_wire_get_u32(&in);
		for (uint32_t i = 0; i < k && in.err == IDN_OK; i++) {
			idn_bytes_t name = idn_wire_get_bstr(&in, IDN_MAX_BSTR);
			if (in.err)
				break;
			if (total >= first && (last < 0 || total < last) && names) {
				json_t *s = json_stringn((const char *)name.p, name.len);
				if (s)
					json_array_append_new(names, s);
			}
			total++;
		}
		if (!(m.hdr.opflag & IDN_OF_CN))
			break;
	}
	if (!any) {
		json_decref(names);
		http_reply_error(c, 500, IDN_RC_ERROR, "Internal server error: no answer");
		return;
	}
	json_t *o = json_object();
	if (o) {
		char tc[32];
		snprintf(tc, sizeof(tc), "%ld", total);
		json_object_set_new(o, "responseCode", json_integer(1));
		if (!a->prefixes)
			json_object_set_new(o, "prefix", json_string(a->prefix));
		/* CNRI sends totalCount as a string. */
		json_object_set_new(o, "totalCount", json_string(tc));
		if (a->has_page)
			json_object_set_new(o, "page", json_integer(a->page));
		if (a->has_size)
			json_object_set_new(o, "pageSize", json_integer(a->size));
		json_object_set_new(o, a->prefixes ? "prefixes" : "handles",
				    names ? names : json_array());
	} else {
		json_decref(names);
	}
	http_reply_json(c, 200, o);
}

static bool list_params(http_ctx_t *c, list_args_t *a)
{
	char v[32];
	if (http_param(c, "page", v, sizeof(v))) {
		if (!parse_int(v, &a->page)) {
			http_reply_error(c, 400, IDN_RC_PROTOCOL_ERROR, "Invalid page");
			return false;
		}
		a->has_page = true;
	}
	if (http_param(c, "pageSize", v, sizeof(v))) {
		if (!parse_int(v, &a->size)) {
			http_reply_error(c, 400, IDN_RC_PROTOCOL_ERROR, "Invalid pageSize");
			return false;
		}
		a->has_size = true;
	}
	return true;
}

static void list_submit(http_ctx_t *c, list_args_t *a, uint32_t opcode, const char *target)
{
	uint8_t *req = c->t->scratch;
	idn_wire_t w;
	idn_wire_init(&w, req, HTTP_SCRATCH_REQ);
	idn_req_opts_t ro = { .request_id = 1 };
	if (idn_build_handle_req(&w, opcode, target, &ro) != IDN_OK) {
		http_reply_error(c, 400, IDN_RC_INVALID_HANDLE, "Prefix too long");
		return;
	}
	http_submit(c, req, idn_wire_offset(&w), http_identity(c), list_done, a, sizeof(*a));
}

static void list_handles(http_ctx_t *c)
{
	list_args_t a = { .prefixes = false };
	char raw[LIST_PREFIX_MAX + 8];
	if (!http_param(c, "prefix", a.prefix, sizeof(a.prefix)) || !a.prefix[0]) {
		http_reply_error(c, 400, IDN_RC_INVALID_HANDLE, "Missing prefix parameter");
		return;
	}
	if (!list_params(c, &a))
		return;
	/* CNRI takes "88.100.12" and "0.NA/88.100.12" alike. */
	bool na = strncasecmp(a.prefix, "0.NA/", 5) == 0;
	snprintf(raw, sizeof(raw), "%s%s", na ? "" : "0.NA/", a.prefix);
	list_submit(c, &a, IDN_OC_LIST_HANDLES, raw);
}

static void list_prefixes(http_ctx_t *c)
{
	list_args_t a = { .prefixes = true };
	if (!list_params(c, &a))
		return;
	list_submit(c, &a, IDN_OC_LIST_HOMED_NAS, "/");
}

const http_route_t http_read_routes[] = {
	{ EVHTTP_REQ_GET, "/api/handles/", HTTP_PREFIX, get_handle },
	{ EVHTTP_REQ_GET, "/api/handles", HTTP_EXACT, list_handles },
	{ EVHTTP_REQ_GET, "/api/prefixes", HTTP_EXACT, list_prefixes },
	{ EVHTTP_REQ_GET, "/api/site", HTTP_EXACT, get_site },
	{ 0, NULL, 0, NULL },
};

/* ---- the handle proxy ---- */

static void html_head(struct evbuffer *b, const char *title)
{
	evbuffer_add_printf(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
			       "<title>");
	page_esc(b, title, strlen(title));
	evbuffer_add_printf(b, "</title></head>\n<body>\n<h1>");
	page_esc(b, title, strlen(title));
	evbuffer_add_printf(b, "</h1>\n");
}

static void html_message(http_ctx_t *c, int status, const char *handle, const char *text)
{
	struct evbuffer *b = c->t->out;
	html_head(b, handle);
	evbuffer_add_printf(b, "<p>");
	page_esc(b, text, strlen(text));
	evbuffer_add_printf(b, "</p>\n</body></html>\n");
	http_reply_raw(c, status, "text/html;charset=utf-8", NULL, 0);
}

static void html_value_data(struct evbuffer *b, const idn_value_t *v)
{
	json_t *j = idn_value_to_json(v);
	json_t *d = j ? json_object_get(j, "data") : NULL;
	const char *fmt = d ? json_string_value(json_object_get(d, "format")) : NULL;
	json_t *val = d ? json_object_get(d, "value") : NULL;
	if (fmt && strcmp(fmt, "string") == 0 && json_is_string(val)) {
		page_text_or_link(b, json_string_value(val), json_string_length(val));
	} else if (val) {
		char *s = json_dumps(val, JSON_COMPACT | JSON_ENCODE_ANY);
		evbuffer_add_printf(b, "<code>%s:</code> ", fmt ? fmt : "?");
		if (s)
			page_esc(b, s, strlen(s));
		free(s);
	}
	json_decref(j);
}

static void html_values(http_ctx_t *c, const char *handle, idn_wire_t *in, uint32_t n)
{
	struct evbuffer *b = c->t->out;
	html_head(b, handle);
	evbuffer_add_printf(b, "<table border=\"1\">\n<tr><th>Index</th><th>Type</th>"
			       "<th>Timestamp</th><th>Data</th></tr>\n");
	for (uint32_t i = 0; i < n; i++) {
		idn_value_t v;
		if (idn_value_decode(in, &v) != IDN_OK)
			break;
		char ts[32];
		idn_iso8601(v.timestamp, ts, sizeof(ts));
		evbuffer_add_printf(b, "<tr><td>%u</td><td>", v.index);
		page_esc(b, (const char *)v.type.p, v.type.len);
		evbuffer_add_printf(b, "</td><td>%s</td><td>", v.timestamp ? ts : "");
		html_value_data(b, &v);
		evbuffer_add_printf(b, "</td></tr>\n");
	}
	evbuffer_add_printf(b, "</table>\n</body></html>\n");
	http_reply_raw(c, 200, "text/html;charset=utf-8", NULL, 0);
}

/* The first URL value as a Location, when it can be one. */
static bool redirect(http_ctx_t *c, idn_wire_t in, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		idn_value_t v;
		if (idn_value_decode(&in, &v) != IDN_OK)
			return false;
		if (!idn_type_is(v.type, "URL"))
			continue;
		char loc[4096];
		if (v.data.len == 0 || v.data.len >= sizeof(loc) || memchr(v.data.p, 0, v.data.len))
			return false;
		memcpy(loc, v.data.p, v.data.len);
		loc[v.data.len] = 0;
		/* evhttp refuses CR/LF in header values (no header injection). */
		if (!http_header(c, "Location", loc))
			return false;
		struct evbuffer *b = c->t->out;
		evbuffer_add_printf(b, "<!DOCTYPE html>\n<html><body><a href=\"");
		page_esc(b, loc, v.data.len);
		evbuffer_add_printf(b, "\">Redirecting</a></body></html>\n");
		http_reply_raw(c, 302, "text/html;charset=utf-8", NULL, 0);
		return true;
	}
	return false;
}

void http_proxy(http_ctx_t *c)
{
	char handle[HTTP_HANDLE_MAX + 1];
	long hlen = http_handle_arg(c, c->rest, handle, sizeof(handle));
	if (hlen < 0)
		return;
	resolve_args_t a;
	a.r.n_index = a.r.n_type = 0;
	a.r.has_token = false;
	a.types_len = 0;
	a.flags = IDN_OF_REC | IDN_OF_PO;
	idn_msg_t m;
	if (resolve(c, &a, handle, (size_t)hlen, &m) != IDN_OK) {
		html_message(c, 500, handle, "Internal server error");
		return;
	}
	uint32_t rc = m.hdr.rcode;
	if (rc == IDN_RC_HANDLE_NOT_FOUND) {
		html_message(c, 404, handle, "Handle not found.");
		return;
	}
	if (rc != IDN_RC_SUCCESS) {
		char msg[256], text[320];
		http_answer_message(&m, msg, sizeof(msg));
		snprintf(text, sizeof(text), "Error %u%s%s", rc, msg[0] ? ": " : "", msg);
		html_message(c, http_status_for_rc(c, rc, true), handle, text);
		return;
	}
	idn_wire_t in;
	uint32_t n;
	if (!answer_values(&m, &in, &n)) {
		html_message(c, 500, handle, "Internal server error");
		return;
	}
	if (!http_param_bool(c, "noredirect", false) && redirect(c, in, n))
		return;
	html_values(c, handle, &in, n);
}
