/* http_pages.c - the pages a person opens in a browser: the resolve page (GET /), the layout shared with the node page, static assets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto/json.h"
#include "proto/msg.h"
#include "proto/record.h"
#include "proto/respond.h"
#include "resolver/http_pages.h"

/*
 * The resolve form is a plain GET of /?handle=...: the answer is rendered
 * here, on the server, so the page works without JavaScript and a bookmark
 * or a link to an answer is just the URL. Resolution is the same native
 * OC 1 through the thread's query step as the JSON API (anonymous, so only
 * publicly readable values are shown). Everything that came from a client
 * or from the store is HTML-escaped.
 */

#define HTML "text/html;charset=utf-8"
#define EXAMPLE "88.100.12/PN-0001"
#define B64_SHOWN 96      /* base64 characters shown before eliding */
#define JSON_SHOWN 400    /* structured data shown as JSON up to this */

void page_esc(struct evbuffer *b, const char *s, size_t n)
{
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		const char *rep = NULL;
		switch (s[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		}
		if (!rep)
			continue;
		evbuffer_add(b, s + run, i - run);
		evbuffer_add(b, rep, strlen(rep));
		run = i + 1;
	}
	evbuffer_add(b, s + run, n - run);
}

void page_escz(struct evbuffer *b, const char *s)
{
	page_esc(b, s, strlen(s));
}

void page_text_or_link(struct evbuffer *b, const char *s, size_t n)
{
	bool link = !strncasecmp(s, "http://", 7) || !strncasecmp(s, "https://", 8);
	if (link) {
		evbuffer_add_printf(b, "<a href=\"");
		page_esc(b, s, n);
		evbuffer_add_printf(b, "\" rel=\"nofollow noopener\">");
	}
	page_esc(b, s, n);
	if (link)
		evbuffer_add_printf(b, "</a>");
}

/* Percent-encode for a path or query piece of an href ('/' kept: handles
 * keep their shape in links). */
static void page_url(struct evbuffer *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("-._~/", *p))
			evbuffer_add(b, p, 1);
		else
			evbuffer_add_printf(b, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
	}
}

void page_begin(struct evbuffer *b, const char *title, const char *nav, const char *script)
{
	evbuffer_add_printf(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
			       "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n"
			       "<title>");
	page_escz(b, title);
	evbuffer_add_printf(b, " - idnode</title>\n"
			       "<link rel=\"stylesheet\" href=\"/static/idnode.css\">\n");
	if (script)
		evbuffer_add_printf(b, "<script src=\"/static/%s\" defer></script>\n", script);
	evbuffer_add_printf(b,
		"</head>\n<body>\n<a class=\"skip\" href=\"#main\">Skip to content</a>\n"
		"<header class=\"top\"><div class=\"in\">\n"
		"<a class=\"brand\" href=\"/\">idnode<small>identifier resolution secondary node</small></a>\n"
		"<nav aria-label=\"Main\"><ul>\n"
		"<li><a href=\"/\"%s>Resolve</a></li>\n"
		"<li><a href=\"/node\"%s>Node</a></li>\n"
		"<li><a href=\"/api/site\">Site record (JSON)</a></li>\n"
		"</ul></nav>\n</div></header>\n<main id=\"main\">\n",
		strcmp(nav, "resolve") == 0 ? " aria-current=\"page\"" : "",
		strcmp(nav, "node") == 0 ? " aria-current=\"page\"" : "");
}

void page_end(http_ctx_t *c, int status)
{
	evbuffer_add_printf(c->t->out,
		"</main>\n<footer>idnode &middot; Handle protocol (RFC 3651/3652) on TCP/UDP 2641 &middot; "
		"JSON: <code>/api/handles/{identifier}</code></footer>\n</body>\n</html>\n");
	http_header(c, "Cache-Control", "no-store");
	http_reply_raw(c, status, HTML, NULL, 0);
}

/* ---- resolution ---- */

static bool valid_utf8(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char ch = s[i];
		size_t k = ch < 0x80 ? 1 : (ch >> 5) == 6 ? 2 : (ch >> 4) == 14 ? 3 : (ch >> 3) == 30 ? 4 : 0;
		if (!k || i + k > n || (k == 1 && ch < 0x20) || ch == 0x7f)
			return false;
		for (size_t j = 1; j < k; j++)
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
		i += k;
	}
	return true;
}

static int resolve(http_ctx_t *c, const char *handle, size_t hlen, idn_msg_t *m)
{
	idn_wire_t w;
	idn_wire_init(&w, c->t->scratch, HTTP_SCRATCH_REQ);
	idn_envelope_t env = { .major = IDN_PROTO_MAJOR, .minor = IDN_PROTO_MINOR,
			       .sugg_major = IDN_PROTO_MAJOR, .sugg_minor = IDN_PROTO_MINOR,
			       .request_id = 1 };
	idn_header_t hdr = { .opcode = IDN_OC_RESOLUTION, .opflag = IDN_OF_REC | IDN_OF_PO,
			     .expiration = c->t->q.now + IDN_EXPIRATION_SLACK };
	idn_resolve_req_t r = { .handle = { (const uint8_t *)handle, (uint32_t)hlen } };
	size_t start = idn_msg_begin(&w, &env, &hdr);
	idn_resolve_req_encode(&w, &r);
	if (idn_msg_end(&w, start, true) != IDN_OK)
		return w.err;
	return http_query(c, c->t->scratch, idn_wire_offset(&w), m);
}

static void perms_text(uint8_t p, char out[5])
{
	out[0] = p & IDN_PERM_ADMIN_READ ? 'r' : '-';
	out[1] = p & IDN_PERM_ADMIN_WRITE ? 'w' : '-';
	out[2] = p & IDN_PERM_PUBLIC_READ ? 'r' : '-';
	out[3] = p & IDN_PERM_PUBLIC_WRITE ? 'w' : '-';
	out[4] = 0;
}

/* The data cell, from the same JSON form the API sends (so both agree on
 * what is a string, an admin value, base64...). */
static void data_cell(struct evbuffer *b, const idn_value_t *v)
{
	json_t *j = idn_value_to_json(v);
	json_t *d = j ? json_object_get(j, "data") : NULL;
	const char *fmt = d ? json_string_value(json_object_get(d, "format")) : NULL;
	json_t *val = d ? json_object_get(d, "value") : NULL;
	if (!fmt || !val) {
		evbuffer_add_printf(b, "<span class=\"note\">(%u bytes)</span>", v->data.len);
	} else if (!strcmp(fmt, "string") && json_is_string(val)) {
		page_text_or_link(b, json_string_value(val), json_string_length(val));
	} else if (!strcmp(fmt, "admin") && json_is_object(val)) {
		const char *h = json_string_value(json_object_get(val, "handle"));
		const char *pm = json_string_value(json_object_get(val, "permissions"));
		evbuffer_add_printf(b, "<span class=\"tag\">admin</span>");
		page_escz(b, h ? h : "?");
		evbuffer_add_printf(b, " : %lld",
				    (long long)json_integer_value(json_object_get(val, "index")));
		if (pm) {
			evbuffer_add_printf(b, " <span class=\"perm\" title=\"HS_ADMIN permission bits\">");
			page_escz(b, pm);
			evbuffer_add_printf(b, "</span>");
		}
	} else if (!strcmp(fmt, "base64") && json_is_string(val)) {
		size_t n = json_string_length(val);
		evbuffer_add_printf(b, "<span class=\"tag\">base64</span><span class=\"b64\">");
		page_esc(b, json_string_value(val), n > B64_SHOWN ? B64_SHOWN : n);
		evbuffer_add_printf(b, "%s</span> <span class=\"note\">(%u bytes)</span>",
				    n > B64_SHOWN ? "&hellip;" : "", v->data.len);
	} else {
		char *s = json_dumps(val, JSON_COMPACT | JSON_ENCODE_ANY);
		size_t n = s ? strlen(s) : 0;
		evbuffer_add_printf(b, "<span class=\"tag\">");
		page_escz(b, fmt);
		evbuffer_add_printf(b, "</span><code>");
		if (s)
			page_esc(b, s, n > JSON_SHOWN ? JSON_SHOWN : n);
		evbuffer_add_printf(b, "%s</code>", n > JSON_SHOWN ? "&hellip;" : "");
		free(s);
	}
	json_decref(j);
}

static void ttl_cell(struct evbuffer *b, const idn_value_t *v)
{
	if (v->ttl_type == IDN_TTL_ABSOLUTE) {
		char ts[32];
		idn_iso8601(v->ttl, ts, sizeof(ts));
		evbuffer_add_printf(b, "until %s", ts);
		return;
	}
	uint32_t t = v->ttl;
	evbuffer_add_printf(b, "%u s", t);
	if (t >= 86400 && t % 3600 == 0)
		evbuffer_add_printf(b, " <span class=\"note\">(%u h)</span>", t / 3600);
}

static void values_table(struct evbuffer *b, const char *handle, idn_wire_t *in, uint32_t n)
{
	evbuffer_add_printf(b, "<section class=\"card\" aria-labelledby=\"res\">\n"
			       "<h2 id=\"res\">Values of <span class=\"handle\">");
	page_escz(b, handle);
	evbuffer_add_printf(b, "</span></h2>\n<p class=\"meta\">%u public value%s &middot; "
			       "<a href=\"/api/handles/", n, n == 1 ? "" : "s");
	page_url(b, handle);
	evbuffer_add_printf(b, "?pretty\">JSON</a> &middot; <a href=\"/");
	page_url(b, handle);
	evbuffer_add_printf(b, "\">follow the URL</a></p>\n");
	if (n == 0) {
		evbuffer_add_printf(b, "<p>The identifier exists but has no publicly readable "
				       "values.</p>\n</section>\n");
		return;
	}
	evbuffer_add_printf(b, "<div class=\"tablewrap\"><table>\n"
			       "<caption>Publicly readable values, in index order</caption>\n"
			       "<thead><tr><th scope=\"col\">Index</th><th scope=\"col\">Type</th>"
			       "<th scope=\"col\">Data</th><th scope=\"col\">TTL</th>"
			       "<th scope=\"col\">Timestamp (UTC)</th>"
			       "<th scope=\"col\"><abbr title=\"admin read, admin write, public read, "
			       "public write\">Permissions</abbr></th></tr></thead>\n<tbody>\n");
	for (uint32_t i = 0; i < n; i++) {
		idn_value_t v;
		if (idn_value_decode(in, &v) != IDN_OK)
			break;
		char ts[32] = "", pm[5];
		if (v.timestamp)
			idn_iso8601(v.timestamp, ts, sizeof(ts));
		perms_text(v.perms, pm);
		evbuffer_add_printf(b, "<tr><td class=\"num\">%u</td><td class=\"type\">", v.index);
		page_esc(b, (const char *)v.type.p, v.type.len);
		evbuffer_add_printf(b, "</td><td class=\"data\">");
		data_cell(b, &v);
		evbuffer_add_printf(b, "</td><td class=\"num\">");
		ttl_cell(b, &v);
		evbuffer_add_printf(b, "</td><td class=\"ts\">%s</td><td class=\"perm\">%s</td></tr>\n",
				    ts, pm);
	}
	evbuffer_add_printf(b, "</tbody></table></div>\n</section>\n");
}

static void alert(struct evbuffer *b, const char *cls, const char *title, const char *handle,
		  const char *text)
{
	evbuffer_add_printf(b, "<div class=\"alert %s\" role=\"alert\"><strong>", cls);
	page_escz(b, title);
	evbuffer_add_printf(b, "</strong>");
	if (handle) {
		evbuffer_add_printf(b, "<span class=\"handle\">");
		page_escz(b, handle);
		evbuffer_add_printf(b, "</span>: ");
	}
	page_escz(b, text);
	evbuffer_add_printf(b, "</div>\n");
}

static void resolve_form(struct evbuffer *b, const char *value)
{
	evbuffer_add_printf(b,
		"<h1>Resolve an identifier</h1>\n<section class=\"card\" aria-labelledby=\"f\">\n"
		"<h2 id=\"f\" class=\"skip\">Identifier</h2>\n"
		"<p class=\"lead\">An identifier is an enterprise prefix and a suffix, like "
		"<code>" EXAMPLE "</code>. The answer lists its public values.</p>\n"
		"<form class=\"resolve\" method=\"get\" action=\"/\" role=\"search\">\n"
		"<div class=\"field\"><label for=\"handle\">Identifier</label>\n"
		"<input type=\"text\" id=\"handle\" name=\"handle\" value=\"");
	page_escz(b, value);
	evbuffer_add_printf(b, "\" placeholder=\"" EXAMPLE "\" required maxlength=\"%d\" "
			       "autocomplete=\"off\" spellcheck=\"false\" autocapitalize=\"off\" "
			       "aria-describedby=\"hint\"></div>\n"
			       "<button type=\"submit\">Resolve</button>\n</form>\n"
			       "<p class=\"hint\" id=\"hint\">Try <a href=\"/?handle=" EXAMPLE "\">"
			       EXAMPLE "</a>. The same answer as JSON: <code>/api/handles/"
			       "{identifier}</code>.</p>\n</section>\n", HTTP_HANDLE_MAX);
}

/* The `handle` parameter, trimmed; 0 absent, 1 present, -1 bad encoding. */
static int handle_param(http_ctx_t *c, char *out, size_t cap)
{
	http_qiter_t it;
	char name[32];
	http_qiter_init(c, &it);
	while (http_qiter_next(&it, name, sizeof(name), out, cap)) {
		if (strcmp(name, "handle") != 0)
			continue;
		char *s = out, *e;
		while (*s == ' ' || *s == '\t')
			s++;
		e = s + strlen(s);
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		memmove(out, s, (size_t)(e - s));
		out[e - s] = 0;
		return 1;
	}
	return it.bad ? -1 : 0;
}

static void index_page(http_ctx_t *c)
{
	struct evbuffer *b = c->t->out;
	char handle[HTTP_HANDLE_MAX + 2];
	int have = handle_param(c, handle, sizeof(handle));
	page_begin(b, have > 0 && handle[0] ? handle : "Resolve", "resolve", NULL);
	if (have <= 0 || !handle[0]) {
		resolve_form(b, "");
		if (have < 0) {
			http_log_bad(c, "bad percent-encoding in the resolve form");
			alert(b, "bad", "Bad input", NULL,
			      "The identifier is not valid (bad %-encoding or too long).");
		} else if (have > 0) {
			alert(b, "warn", "Nothing to resolve", NULL, "Enter an identifier first.");
		}
		page_end(c, have == 0 ? 200 : 400);
		return;
	}
	size_t hlen = strlen(handle);
	resolve_form(b, handle);
	if (hlen > HTTP_HANDLE_MAX || !valid_utf8((const unsigned char *)handle, hlen)) {
		char text[160];
		snprintf(text, sizeof(text), "An identifier is UTF-8 text without control "
			 "characters, at most %d bytes.", HTTP_HANDLE_MAX);
		alert(b, "bad", "Bad input", NULL, text);
		page_end(c, 400);
		return;
	}
	idn_msg_t m;
	if (resolve(c, handle, hlen, &m) != IDN_OK) {
		alert(b, "bad", "Internal error", handle, "the node could not run the query.");
		page_end(c, 500);
		return;
	}
	uint32_t rc = m.hdr.rcode;
	if (rc == IDN_RC_SUCCESS) {
		idn_wire_t in;
		idn_wire_init_ro(&in, m.body.p, m.body.len);
		idn_wire_get_bstr(&in, IDN_MAX_BSTR);
		uint32_t n = idn_wire_get_u32(&in);
		if (in.err == IDN_OK) {
			values_table(b, handle, &in, n);
			page_end(c, 200);
			return;
		}
		alert(b, "bad", "Internal error", handle, "the answer does not decode.");
		page_end(c, 500);
		return;
	}
	if (rc == IDN_RC_VALUES_NOT_FOUND) {
		idn_wire_t none;
		idn_wire_init_ro(&none, NULL, 0);
		values_table(b, handle, &none, 0);
		page_end(c, 200);
		return;
	}
	char msg[256], text[400];
	http_answer_message(&m, msg, sizeof(msg));
	if (rc == IDN_RC_HANDLE_NOT_FOUND) {
		alert(b, "bad", "Not found", handle, "this node has no such identifier.");
	} else if (rc == IDN_RC_SERVER_NOT_RESP) {
		alert(b, "warn", "Not ours", handle,
		      "its prefix is not served by this node; resolve it at the node "
		      "responsible for it (through the top-level node).");
	} else if (rc == IDN_RC_INVALID_HANDLE) {
		alert(b, "bad", "Bad input", handle, "this is not a valid identifier.");
	} else {
		snprintf(text, sizeof(text), "response code %u%s%s.", rc, msg[0] ? ": " : "", msg);
		alert(b, "bad", "Error", handle, text);
	}
	page_end(c, http_status_for_rc(c, rc, true));
}

static void static_asset(http_ctx_t *c)
{
	const http_asset_t *a = http_asset_find(c->rest);
	if (!a) {
		http_reply_raw(c, 404, "text/plain;charset=utf-8", "not found\n", 10);
		return;
	}
	/* Compiled into the binary: they change only with the daemon. */
	http_header(c, "Cache-Control", "public, max-age=3600");
	http_header(c, "X-Content-Type-Options", "nosniff");
	http_reply_raw(c, 200, a->type, a->body, a->len);
}

const http_route_t http_page_routes[] = {
	{ EVHTTP_REQ_GET, "/", HTTP_EXACT, index_page },
	{ EVHTTP_REQ_GET, "/node", HTTP_EXACT, http_node_page },
	{ EVHTTP_REQ_GET, "/api/node", HTTP_EXACT, http_api_node },
	{ EVHTTP_REQ_GET, "/static/", HTTP_PREFIX, static_asset },
	{ 0, NULL, 0, NULL },
};
