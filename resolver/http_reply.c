/* http_reply.c - helpers of the HTTP handlers: JSON replies with CNRI's statuses, percent-decoding, query parameters, request bodies, the query step. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "resolver/http_int.h"

int http_status_for_rc(const http_ctx_t *c, uint32_t rc, bool resolution)
{
	switch (rc) {
	case IDN_RC_SUCCESS: return 200;
	case IDN_RC_SERVER_TOO_BUSY: return 503;
	case IDN_RC_PROTOCOL_ERROR: return 400;
	case IDN_RC_OPERATION_NOT_SUPPORTED: return 501;
	case IDN_RC_SERVER_BACKUP: return 503;
	case IDN_RC_HANDLE_NOT_FOUND: return 404;
	case IDN_RC_HANDLE_ALREADY_EXISTS: return 409;
	case IDN_RC_INVALID_HANDLE: return 400;
	case IDN_RC_VALUES_NOT_FOUND: return resolution ? 200 : 400;
	case IDN_RC_VALUE_ALREADY_EXISTS: return 409;
	case IDN_RC_INVALID_VALUE: return 400;
	case IDN_RC_SERVER_NOT_RESP: return 400;
	case IDN_RC_SERVICE_REFERRAL:
	case IDN_RC_PREFIX_REFERRAL: return 300;
	case IDN_RC_INVALID_ADMIN:
	case IDN_RC_INSUFFICIENT_PERMISSIONS:
	case IDN_RC_AUTHENTICATION_FAILED:
	case IDN_RC_INVALID_CREDENTIAL: return 403;
	/* CNRI: authentication needs HTTPS; over HTTP a 401 becomes 403. */
	case IDN_RC_AUTHENTICATION_NEEDED: return c->tls ? 401 : 403;
	/* IDIS quota codes: the request was understood and refused. */
	case IDN_RC_REQUEST_LIMIT_DAILY:
	case IDN_RC_REGISTER_COUNT_LIMIT:
	case IDN_RC_PREFIX_LIMIT: return 403;
	default: return 500;
	}
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 300: return "Multiple Choices";
	case 302: return "Found";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	}
	return NULL;
}

bool http_header(http_ctx_t *c, const char *name, const char *value)
{
	return evhttp_add_header(evhttp_request_get_output_headers(c->req), name, value) == 0;
}

const char *http_req_header(const http_ctx_t *c, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(c->req), name);
}

/* Every reply goes out here: CORS for browsers on other origins (CNRI
 * allows any origin, without credentials). */
static void send_reply(http_ctx_t *c, int status, struct evbuffer *body)
{
	if (c->replied) {
		evbuffer_drain(body, evbuffer_get_length(body));
		return;
	}
	c->replied = true;
	if (http_req_header(c, "Origin"))
		http_header(c, "Access-Control-Allow-Origin", "*");
	if (status == 401)
		http_auth_challenge(c);
	evhttp_send_reply(c->req, status, reason(status), body);
	/* evhttp moved the bytes out; the buffer is reused for the next reply. */
}

void http_reply_raw(http_ctx_t *c, int status, const char *content_type, const void *body,
		    size_t len)
{
	struct evbuffer *b = c->t->out;
	if (content_type)
		http_header(c, "Content-Type", content_type);
	if (len)
		evbuffer_add(b, body, len);
	send_reply(c, status, b);
}

static int dump_cb(const char *buf, size_t size, void *data)
{
	return evbuffer_add(data, buf, size);
}

void http_reply_json(http_ctx_t *c, int status, json_t *body)
{
	if (!body) {
		static const char oom[] = "{\"responseCode\":2,\"message\":\"Out of memory\"}";
		http_reply_raw(c, 500, NULL, oom, sizeof(oom) - 1);
		return;
	}
	struct evbuffer *b = c->t->out;
	size_t flags = c->pretty ? JSON_INDENT(2) : JSON_COMPACT;
	if (c->callback[0]) {
		http_header(c, "Content-Type", "application/javascript;charset=utf-8");
		evbuffer_add_printf(b, "%s(", c->callback);
		json_dump_callback(body, dump_cb, b, flags);
		evbuffer_add(b, ");", 2);
	} else {
		/* One dump into the thread's scratch and one evbuffer_add: the
		 * callback form costs an evbuffer_add per JSON token (the body
		 * owns copies of its strings, so the scratch is free by now). */
		size_t n = json_dumpb(body, (char *)c->t->scratch, HTTP_SCRATCH_LEN, flags);
		if (n > 0 && n <= HTTP_SCRATCH_LEN)
			evbuffer_add(b, c->t->scratch, n);
		else
			json_dump_callback(body, dump_cb, b, flags);
	}
	json_decref(body);
	send_reply(c, status, b);
}

void http_reply_error(http_ctx_t *c, int status, uint32_t rc, const char *message)
{
	json_t *o = json_object();
	if (o) {
		json_object_set_new(o, "responseCode", json_integer(rc));
		if (message && *message)
			json_object_set_new(o, "message", json_string(message));
	}
	http_reply_json(c, status, o);
}

void http_reply_rc(http_ctx_t *c, uint32_t rc, const char *message, const char *handle,
		   bool resolution)
{
	json_t *o = json_object();
	if (o) {
		json_object_set_new(o, "responseCode", json_integer(rc));
		/* json_string refuses invalid UTF-8: a message from elsewhere may be. */
		if (message && *message)
			json_object_set_new(o, "message", json_stringn_nocheck(message, strlen(message)));
		if (handle && *handle)
			json_object_set_new(o, "handle", json_string(handle));
	}
	http_reply_json(c, http_status_for_rc(c, rc, resolution), o);
}

/* ---- input ---- */

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

long http_pct_decode(const char *in, size_t len, char *out, size_t cap, bool plus_space)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		int ch = (unsigned char)in[i];
		if (ch == '%') {
			int hi = i + 2 < len ? hexval((unsigned char)in[i + 1]) : -1;
			int lo = i + 2 < len ? hexval((unsigned char)in[i + 2]) : -1;
			if (hi < 0 || lo < 0)
				return -1;
			ch = hi << 4 | lo;
			i += 2;
		} else if (ch == '+' && plus_space) {
			ch = ' ';
		}
		if (ch == 0)
			return -1;
		if (n + 1 >= cap)
			return -2;
		out[n++] = (char)ch;
	}
	if (cap == 0)
		return -2;
	out[n] = 0;
	return (long)n;
}

/* Strict UTF-8 (no overlongs, no surrogates): handles are UTF-8 text. */
static bool utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned char b = s[i];
		size_t k;
		uint32_t cp;
		if (b < 0x80) {
			i++;
			continue;
		} else if ((b & 0xe0) == 0xc0) {
			k = 1;
			cp = b & 0x1f;
		} else if ((b & 0xf0) == 0xe0) {
			k = 2;
			cp = b & 0x0f;
		} else if ((b & 0xf8) == 0xf0) {
			k = 3;
			cp = b & 0x07;
		} else {
			return false;
		}
		if (i + k >= n)
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k + 1;
	}
	return true;
}

long http_handle_arg(http_ctx_t *c, const char *raw, char *out, size_t cap)
{
	long n = http_pct_decode(raw, strlen(raw), out, cap, false);
	if (n == -1) {
		http_log_bad(c, "bad percent-encoding in the path");
		http_reply_error(c, 400, IDN_RC_PROTOCOL_ERROR, "Bad percent-encoding in the path");
		return -1;
	}
	if (n == -2) {
		http_reply_error(c, 400, IDN_RC_INVALID_HANDLE, "Handle too long");
		return -1;
	}
	if (n == 0) {
		http_reply_error(c, 400, IDN_RC_INVALID_HANDLE, "Empty handle");
		return -1;
	}
	if (!utf8_ok((const unsigned char *)out, (size_t)n)) {
		http_reply_error(c, 400, IDN_RC_INVALID_HANDLE, "Handle is not valid UTF-8");
		return -1;
	}
	return n;
}

void http_qiter_init(const http_ctx_t *c, http_qiter_t *it)
{
	it->p = c->query;
	it->bad = false;
}

bool http_qiter_next(http_qiter_t *it, char *name, size_t nlen, char *value, size_t vlen)
{
	while (it->p && *it->p) {
		const char *s = it->p;
		const char *amp = strchr(s, '&');
		size_t len = amp ? (size_t)(amp - s) : strlen(s);
		it->p = amp ? amp + 1 : NULL;
		if (len == 0)
			continue;
		const char *eq = memchr(s, '=', len);
		size_t kl = eq ? (size_t)(eq - s) : len;
		if (http_pct_decode(s, kl, name, nlen, true) < 0) {
			it->bad = true;
			return false;
		}
		if (eq) {
			if (http_pct_decode(eq + 1, len - kl - 1, value, vlen, true) < 0) {
				it->bad = true;
				return false;
			}
		} else if (vlen) {
			value[0] = 0;
		}
		return true;
	}
	return false;
}

bool http_param(const http_ctx_t *c, const char *name, char *buf, size_t len)
{
	http_qiter_t it;
	char n[64];
	http_qiter_init(c, &it);
	while (http_qiter_next(&it, n, sizeof(n), buf, len))
		if (strcmp(n, name) == 0)
			return true;
	/* A pair that did not decode may be this one: treat it as absent. */
	return false;
}

bool http_param_bool(const http_ctx_t *c, const char *name, bool def)
{
	char v[16];
	if (!http_param(c, name, v, sizeof(v)))
		return def;
	return v[0] == 0 || strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0;
}

json_t *http_body_json(http_ctx_t *c, bool empty_ok)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(c->req);
	size_t len = evbuffer_get_length(in);
	if (len == 0 && empty_ok)
		return NULL;
	const char *ct = http_req_header(c, "Content-Type");
	size_t tl = strlen("application/json");
	if (!ct || strncasecmp(ct, "application/json", tl) != 0 ||
	    (ct[tl] != 0 && ct[tl] != ';' && ct[tl] != ' ')) {
		http_log_bad(c, "body without Content-Type application/json");
		http_reply_error(c, 400, IDN_RC_PROTOCOL_ERROR,
				 "Content-Type must be application/json");
		return NULL;
	}
	const char *p = (const char *)evbuffer_pullup(in, -1);
	json_error_t e;
	json_t *j = p ? json_loadb(p, len, 0, &e) : NULL;
	if (!j) {
		char msg[256];
		snprintf(msg, sizeof(msg), "Malformed JSON: %s (line %d, column %d)",
			 p ? e.text : "empty body", p ? e.line : 0, p ? e.column : 0);
		http_log_bad(c, "malformed JSON body");
		http_reply_error(c, 400, IDN_RC_PROTOCOL_ERROR, msg);
	}
	return j;
}

/* ---- the store and the query step ---- */

int http_reader_begin(http_ctx_t *c)
{
	return idn_reader_begin(c->t->reader);
}

void http_reader_end(http_ctx_t *c)
{
	idn_reader_end(c->t->reader);
}

int http_query(http_ctx_t *c, const uint8_t *msg, size_t len, idn_msg_t *m)
{
	http_thread_t *t = c->t;
	int ret = http_reader_begin(c);
	if (ret)
		return ret;
	int st = idn_query_consume(&t->q, msg, len);
	idn_wire_t out;
	idn_wire_init(&out, t->scratch + HTTP_SCRATCH_REQ, HTTP_SCRATCH_LEN - HTTP_SCRATCH_REQ);
	if (st == IDN_Q_PRODUCE)
		idn_query_produce(&t->q, &out);
	http_reader_end(c);
	if (st != IDN_Q_PRODUCE)
		return IDN_EPROTO;
	if (out.err)
		return out.err;
	return idn_msg_decode(t->scratch + HTTP_SCRATCH_REQ, idn_wire_offset(&out), m);
}

bool http_answer_next(const uint8_t **p, size_t *len, idn_msg_t *m)
{
	if (*len < IDN_ENVELOPE_LEN)
		return false;
	size_t n = IDN_ENVELOPE_LEN + idn_get_be32(*p + 16);
	if (n > *len || idn_msg_decode(*p, n, m) != IDN_OK)
		return false;
	*p += n;
	*len -= n;
	return true;
}

void http_answer_message(const idn_msg_t *m, char *buf, size_t len)
{
	buf[0] = 0;
	const uint8_t *b = m->body.p;
	size_t bl = m->body.len;
	if (m->hdr.opflag & IDN_OF_RD) {
		uint8_t alg;
		idn_bytes_t d;
		size_t skip;
		if (idn_digest_decode(b, bl, &alg, &d, &skip) != IDN_OK)
			return;
		b += skip;
		bl -= skip;
	}
	idn_bytes_t msg;
	if (idn_error_body_decode(b, bl, &msg) != IDN_OK)
		return;
	size_t n = msg.len < len - 1 ? msg.len : len - 1;
	memcpy(buf, msg.p, n);
	buf[n] = 0;
}
