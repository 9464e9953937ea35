/* json.c - handle values to and from the JSON of CNRI's REST API. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "proto/json.h"
#include "proto/msg.h"

#define DEFAULT_TTL 86400

/* ---- small codecs ---- */

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Base64 of p (padded unless url), malloc'd NUL-terminated; NULL on ENOMEM. */
static char *b64_encode(const uint8_t *p, size_t n, bool url)
{
	const char *alpha = url ? B64URL : B64;
	char *out = malloc(4 * ((n + 2) / 3) + 1), *o = out;
	if (!out)
		return NULL;
	size_t i = 0;
	for (; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		*o++ = alpha[v >> 18];
		*o++ = alpha[(v >> 12) & 63];
		*o++ = alpha[(v >> 6) & 63];
		*o++ = alpha[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
		*o++ = alpha[v >> 18];
		*o++ = alpha[(v >> 12) & 63];
		if (i + 1 < n)
			*o++ = alpha[(v >> 6) & 63];
		else if (!url)
			*o++ = '=';
		if (!url)
			*o++ = '=';
	}
	*o = 0;
	return out;
}

static int b64_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* Decode standard or url-safe base64 (padding optional, whitespace not
 * allowed) into a malloc'd buffer. Returns the length or -1. */
static long b64_decode(const char *s, size_t n, uint8_t **out)
{
	while (n > 0 && s[n - 1] == '=')
		n--;
	if (n % 4 == 1)
		return -1;
	uint8_t *buf = malloc(n * 3 / 4 + 3), *o = buf;
	if (!buf)
		return -1;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		int v = b64_val(s[i]);
		if (v < 0) {
			free(buf);
			return -1;
		}
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			*o++ = (uint8_t)(acc >> bits);
		}
	}
	*out = buf;
	return o - buf;
}

static long hex_decode(const char *s, size_t n, uint8_t **out)
{
	if (n % 2)
		return -1;
	uint8_t *buf = malloc(n / 2 + 1);
	if (!buf)
		return -1;
	for (size_t i = 0; i < n; i += 2) {
		int v = 0;
		for (int k = 0; k < 2; k++) {
			char c = s[i + (size_t)k];
			int d = c >= '0' && c <= '9' ? c - '0' :
				c >= 'a' && c <= 'f' ? c - 'a' + 10 :
				c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
			if (d < 0) {
				free(buf);
				return -1;
			}
			v = v << 4 | d;
		}
		buf[i / 2] = (uint8_t)v;
	}
	*out = buf;
	return (long)(n / 2);
}

void idn_iso8601(uint32_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* CNRI Util.looksLikeBinary is false: lenient UTF-8 and no control bytes
 * other than 0x09-0x13. */
static bool looks_like_text(idn_bytes_t d)
{
	for (uint32_t i = 0; i < d.len;) {
		uint8_t c = d.p[i];
		if (c <= 0x08 || (c >= 0x14 && c <= 0x1f) || c == 0x7f)
			return false;
		int extra = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 :
			    (c & 0xf8) == 0xf0 ? 3 : (c & 0xfc) == 0xf8 ? 4 : (c & 0xfe) == 0xfc ? 5 : -1;
		if (extra < 0 || i + (uint32_t)extra >= d.len + (extra ? 0u : 1u))
			return false;
		if (extra == 1 && (c & 0x1e) == 0)
			return false; /* overlong */
		for (int k = 1; k <= extra; k++)
			if ((d.p[i + (uint32_t)k] & 0xc0) != 0x80)
				return false;
		i += 1 + (uint32_t)extra;
	}
	return true;
}

static json_t *jstr(idn_bytes_t b)
{
	return json_stringn((const char *)b.p, b.len);
}

/* ---- to JSON ---- */

static json_t *perm_string12(uint16_t perms)
{
	char s[13];
	for (int i = 0; i < 12; i++)
		s[i] = perms & (1u << (11 - i)) ? '1' : '0';
	s[12] = 0;
	return json_string(s);
}

static json_t *b64_json(idn_bytes_t b, bool url)
{
	char *s = b64_encode(b.p, b.len, url);
	json_t *j = s ? json_string(s) : NULL;
	free(s);
	return j;
}

/* Strip the sign byte of a Java BigInteger for JWK. */
static json_t *bigint_json(idn_bytes_t b)
{
	while (b.len > 1 && b.p[0] == 0) {
		b.p++;
		b.len--;
	}
	return b64_json(b, true);
}

static json_t *key_to_json(idn_bytes_t data)
{
	idn_pubkey_t k;
	if (idn_pubkey_decode(data.p, data.len, &k) != IDN_OK)
		return NULL;
	json_t *o = json_object();
	if (k.kind == IDN_KEY_RSA) {
		json_object_set_new(o, "kty", json_string("RSA"));
		json_object_set_new(o, "n", bigint_json(k.rsa_n));
		json_object_set_new(o, "e", bigint_json(k.rsa_e));
	} else if (k.kind == IDN_KEY_DSA) {
		json_object_set_new(o, "kty", json_string("DSA"));
		json_object_set_new(o, "y", bigint_json(k.dsa_y));
		json_object_set_new(o, "p", bigint_json(k.dsa_p));
		json_object_set_new(o, "q", bigint_json(k.dsa_q));
		json_object_set_new(o, "g", bigint_json(k.dsa_g));
	} else {
		json_decref(o);
		return NULL;
	}
	return o;
}

static const char *proto_name(uint8_t p)
{
	static const char *names[] = { "UDP", "TCP", "HTTP", "HTTPS" };
	return p < 4 ? names[p] : "UNKNOWN";
}

json_t *idn_site_to_json(const idn_site_t *s)
{
	char ver[16];
	snprintf(ver, sizeof(ver), "%u.%u", s->proto_major, s->proto_minor);
	json_t *o = json_object();
	json_object_set_new(o, "version", json_integer(s->data_version));
	json_object_set_new(o, "protocolVersion", json_string(ver));
	json_object_set_new(o, "serialNumber", json_integer(s->serial));
	json_object_set_new(o, "primarySite", json_boolean(s->primary_mask & IDN_SITE_PRIMARY));
	json_object_set_new(o, "multiPrimary",
			    json_boolean(s->primary_mask & IDN_SITE_MULTI_PRIMARY));
	if (s->hash_option != 2)
		json_object_set_new(o, "hashOption", json_integer(s->hash_option));
	if (s->hash_filter.len)
		json_object_set_new(o, "hashFilter", jstr(s->hash_filter));
	json_t *attrs = json_array();
	for (uint32_t i = 0; i < s->n_attrs; i++) {
		json_t *a = json_object();
		json_object_set_new(a, "name", jstr(s->attrs[i].name));
		json_object_set_new(a, "value", jstr(s->attrs[i].value));
		json_array_append_new(attrs, a);
	}
	json_object_set_new(o, "attributes", attrs);
	json_t *servers = json_array();
	for (uint32_t i = 0; i < s->n_servers; i++) {
		const idn_site_server_t *sv = &s->servers[i];
		json_t *j = json_object();
		char addr[INET6_ADDRSTRLEN];
		static const uint8_t zero12[12];
		if (memcmp(sv->address, zero12, 12) == 0)
			inet_ntop(AF_INET, sv->address + 12, addr, sizeof(addr));
		else
			inet_ntop(AF_INET6, sv->address, addr, sizeof(addr));
		json_object_set_new(j, "serverId", json_integer(sv->server_id));
		json_object_set_new(j, "address", json_string(addr));
		if (sv->pubkey.len) {
			json_t *pk = json_object(), *jwk = key_to_json(sv->pubkey);
			json_object_set_new(pk, "format", json_string(jwk ? "key" : "base64"));
			json_object_set_new(pk, "value", jwk ? jwk : b64_json(sv->pubkey, false));
			json_object_set_new(j, "publicKey", pk);
		}
		json_t *ifs = json_array();
		for (uint32_t k = 0; k < sv->n_ifs; k++) {
			json_t *f = json_object();
			json_object_set_new(f, "query", json_boolean(sv->ifs[k].type & IDN_IF_QUERY));
			json_object_set_new(f, "admin", json_boolean(sv->ifs[k].type & IDN_IF_ADMIN));
			json_object_set_new(f, "protocol", json_string(proto_name(sv->ifs[k].protocol)));
			json_object_set_new(f, "port", json_integer(sv->ifs[k].port));
			json_array_append_new(ifs, f);
		}
		json_object_set_new(j, "interfaces", ifs);
		json_array_append_new(servers, j);
	}
	json_object_set_new(o, "servers", servers);
	return o;
}

static json_t *data_to_json(const idn_value_t *v)
{
	json_t *d = json_object(), *val = NULL;
	const char *fmt = NULL;
	if (idn_type_is(v->type, "HS_ADMIN")) {
		idn_admin_t a;
		if (idn_admin_decode(v->data.p, v->data.len, &a) == IDN_OK) {
			fmt = "admin";
			val = json_object();
			json_object_set_new(val, "handle", jstr(a.admin_id));
			json_object_set_new(val, "index", json_integer(a.admin_index));
			json_object_set_new(val, "permissions", perm_string12(a.perms));
		}
	} else if (idn_type_is(v->type, "HS_VLIST")) {
		idn_vlist_t l;
		if (idn_vlist_decode(v->data.p, v->data.len, &l) == IDN_OK) {
			fmt = "vlist";
			val = json_array();
			size_t pos = 0;
			idn_bytes_t h;
			uint32_t idx;
			while (idn_vlist_next(&l, &pos, &h, &idx)) {
				json_t *e = json_object();
				json_object_set_new(e, "handle", jstr(h));
				json_object_set_new(e, "index", json_integer(idx));
				json_array_append_new(val, e);
			}
		}
	} else if (idn_type_is(v->type, "HS_SITE") || idn_type_is(v->type, "HS_NA_DELEGATE")) {
		idn_site_t *s = malloc(sizeof(*s));
		if (s && idn_site_decode(v->data.p, v->data.len, s) == IDN_OK) {
			fmt = "site";
			val = idn_site_to_json(s);
		}
		free(s);
	} else if (idn_type_is(v->type, "HS_PUBKEY")) {
		if ((val = key_to_json(v->data)))
			fmt = "key";
	}
	if (!fmt) {
		bool text = looks_like_text(v->data);
		fmt = text ? "string" : "base64";
		val = text ? jstr(v->data) : b64_json(v->data, false);
	}
	json_object_set_new(d, "format", json_string(fmt));
	json_object_set_new(d, "value", val);
	return d;
}

json_t *idn_value_to_json(const idn_value_t *v)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	json_object_set_new(o, "index", json_integer(v->index));
	json_object_set_new(o, "type", jstr(v->type));
	json_object_set_new(o, "data", data_to_json(v));
	if ((v->perms & 0x0f) != IDN_PERM_DEFAULT) {
		char p[5];
		for (int i = 0; i < 4; i++)
			p[i] = v->perms & (8 >> i) ? '1' : '0';
		p[4] = 0;
		json_object_set_new(o, "permissions", json_string(p));
	}
	if (v->ttl_type == IDN_TTL_ABSOLUTE) {
		char t[32];
		idn_iso8601(v->ttl, t, sizeof(t));
		json_object_set_new(o, "ttl", json_string(t));
	} else {
		json_object_set_new(o, "ttl", json_integer((int32_t)v->ttl));
	}
	if (v->timestamp) {
		char t[32];
		idn_iso8601(v->timestamp, t, sizeof(t));
		json_object_set_new(o, "timestamp", json_string(t));
	}
	if (v->n_refs) {
		json_t *refs = json_array();
		size_t pos = 0;
		idn_bytes_t h;
		uint32_t idx;
		while (idn_value_ref_next(v, &pos, &h, &idx)) {
			json_t *r = json_object();
			json_object_set_new(r, "handle", jstr(h));
			json_object_set_new(r, "index", json_integer(idx));
			json_array_append_new(refs, r);
		}
		json_object_set_new(o, "references", refs);
	}
	return o;
}

/* ---- from JSON ---- */

typedef struct {
	char *err;
	size_t errlen;
	const char *where;        /* "value 2" */
} ctx_t;

static int fail(ctx_t *c, int ret, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(ctx_t *c, int ret, const char *fmt, ...)
{
	int n = snprintf(c->err, c->errlen, "%s: ", c->where);
	if (n < 0 || (size_t)n >= c->errlen)
		return ret;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return ret;
}

static bool get_uint(const json_t *j, long long max, uint32_t *out)
{
	if (json_is_integer(j)) {
		long long v = json_integer_value(j);
		if (v < 0 || v > max)
			return false;
		*out = (uint32_t)v;
		return true;
	}
	if (json_is_string(j)) {
		char *e;
		const char *s = json_string_value(j);
		long long v = strtoll(s, &e, 10);
		if (*s == 0 || *e || v < 0 || v > max)
			return false;
		*out = (uint32_t)v;
		return true;
	}
	return false;
}

static int admin_from_json(ctx_t *c, const json_t *v, idn_wire_t *out)
{
	const json_t *h = json_object_get(v, "handle"), *i = json_object_get(v, "index"),
		     *p = json_object_get(v, "permissions");
	uint32_t idx = 0, perms = IDN_ADM_ALL;
	if (!json_is_string(h) || json_string_length(h) == 0 ||
	    json_string_length(h) > IDN_MAX_HANDLE_LEN)
		return fail(c, IDN_EINVAL, "admin value needs a \"handle\"");
	if (i && !get_uint(i, 0x7fffffff, &idx))
		return fail(c, IDN_EINVAL, "admin \"index\" must be a non-negative integer");
	if (json_is_string(p)) {
		const char *s = json_string_value(p);
		size_t n = strlen(s);
		if (n == 0 || n > 12)
			return fail(c, IDN_EINVAL, "admin permissions must be up to 12 bits like \"011111111111\"");
		perms = 0;
		for (size_t k = 0; k < n; k++) {
			if (s[k] != '0' && s[k] != '1')
				return fail(c, IDN_EINVAL, "admin permissions must be 0s and 1s");
			perms = perms << 1 | (uint32_t)(s[k] == '1');
		}
	} else if (json_is_integer(p)) {
		if (!get_uint(p, 0xffff, &perms))
			return fail(c, IDN_EINVAL, "admin permissions out of range");
	} else if (json_is_boolean(p)) {
		perms = json_is_true(p) ? IDN_ADM_ALL : 0;
	} else if (p) {
		return fail(c, IDN_EINVAL, "admin permissions must be a string or an integer");
	}
	idn_admin_t a = { (uint16_t)perms,
			  { (const uint8_t *)json_string_value(h), (uint32_t)json_string_length(h) },
			  idx };
	idn_admin_encode(out, &a);
	return IDN_OK;
}

static int refs_list(ctx_t *c, const json_t *arr, idn_wire_t *out, const char *what)
{
	if (!json_is_array(arr))
		return fail(c, IDN_EINVAL, "%s must be an array", what);
	if (json_array_size(arr) > IDN_MAX_VALUES)
		return fail(c, IDN_ELIMIT, "%s has too many entries", what);
	idn_wire_put_u32(out, (uint32_t)json_array_size(arr));
	size_t k;
	const json_t *e;
	json_array_foreach(arr, k, e) {
		const json_t *h = json_object_get(e, "handle");
		uint32_t idx;
		if (!json_is_string(h) || json_string_length(h) > IDN_MAX_HANDLE_LEN ||
		    !get_uint(json_object_get(e, "index"), 0x7fffffff, &idx))
			return fail(c, IDN_EINVAL, "%s entry %zu needs \"handle\" and \"index\"", what,
				    k + 1);
		idn_wire_put_bstr(out, json_string_value(h), json_string_length(h));
		idn_wire_put_u32(out, idx);
	}
	return IDN_OK;
}

static int bigint_from_b64(ctx_t *c, const json_t *j, const char *name, uint8_t **buf, long *len)
{
	if (!json_is_string(j) ||
	    (*len = b64_decode(json_string_value(j), json_string_length(j), buf)) < 0)
		return fail(c, IDN_EINVAL, "key \"%s\" must be base64url", name);
	return IDN_OK;
}

static int key_from_json(ctx_t *c, const json_t *v, idn_wire_t *out)
{
	const json_t *kty = json_object_get(v, "kty");
	if (!json_is_string(kty) || strcmp(json_string_value(kty), "RSA") != 0)
		return fail(c, IDN_EINVAL, "only RSA keys ({\"kty\":\"RSA\",\"n\",\"e\"}) are accepted here");
	uint8_t *n = NULL, *e = NULL;
	long nl = 0, el = 0;
	int ret = bigint_from_b64(c, json_object_get(v, "n"), "n", &n, &nl);
	if (!ret)
		ret = bigint_from_b64(c, json_object_get(v, "e"), "e", &e, &el);
	if (!ret)
		idn_pubkey_encode_rsa(out, (idn_bytes_t){ e, (uint32_t)el },
				      (idn_bytes_t){ n, (uint32_t)nl });
	free(n);
	free(e);
	return ret;
}

static int site_from_json(ctx_t *c, const json_t *v, idn_wire_t *out)
{
	idn_site_t *s = calloc(1, sizeof(*s));
	uint8_t *keys[IDN_SITE_MAX_SERVERS] = { 0 };
	int ret = IDN_OK;
	if (!s)
		return IDN_ENOMEM;
	uint32_t u;
	s->data_version = 1;
	s->proto_major = 2;
	s->proto_minor = 11;
	s->hash_option = 2;
	s->primary_mask = IDN_SITE_PRIMARY;
	const json_t *j;
	if ((j = json_object_get(v, "protocolVersion"))) {
		unsigned ma, mi;
		if (!json_is_string(j) || sscanf(json_string_value(j), "%u.%u", &ma, &mi) != 2 ||
		    ma > 255 || mi > 255) {
			ret = fail(c, IDN_EINVAL, "site protocolVersion must look like \"2.11\"");
			goto done;
		}
		s->proto_major = (uint8_t)ma;
		s->proto_minor = (uint8_t)mi;
	}
	if ((j = json_object_get(v, "serialNumber")) && get_uint(j, 0xffff, &u))
		s->serial = (uint16_t)u;
	if ((j = json_object_get(v, "hashOption")) && get_uint(j, 2, &u))
		s->hash_option = (uint8_t)u;
	if ((j = json_object_get(v, "primarySite")) && json_is_false(j))
		s->primary_mask = 0;
	if ((j = json_object_get(v, "multiPrimary")) && json_is_true(j))
		s->primary_mask |= IDN_SITE_MULTI_PRIMARY;
	const json_t *attrs = json_object_get(v, "attributes");
	if (json_is_array(attrs)) {
		size_t k;
		const json_t *a;
		json_array_foreach(attrs, k, a) {
			const json_t *nm = json_object_get(a, "name"), *vl = json_object_get(a, "value");
			if (k >= IDN_SITE_MAX_ATTRS || !json_is_string(nm) || !json_is_string(vl)) {
				ret = fail(c, IDN_EINVAL, "site attribute %zu needs string name and value", k + 1);
				goto done;
			}
			s->attrs[k].name = (idn_bytes_t){ (const uint8_t *)json_string_value(nm),
							  (uint32_t)json_string_length(nm) };
			s->attrs[k].value = (idn_bytes_t){ (const uint8_t *)json_string_value(vl),
							   (uint32_t)json_string_length(vl) };
			s->n_attrs++;
		}
	}
	const json_t *servers = json_object_get(v, "servers");
	if (!json_is_array(servers) || json_array_size(servers) > IDN_SITE_MAX_SERVERS) {
		ret = fail(c, IDN_EINVAL, "site needs a \"servers\" array (at most %d)",
			   IDN_SITE_MAX_SERVERS);
		goto done;
	}
	size_t k;
	const json_t *sv;
	json_array_foreach(servers, k, sv) {
		idn_site_server_t *d = &s->servers[k];
		const json_t *addr = json_object_get(sv, "address");
		if (!get_uint(json_object_get(sv, "serverId"), 0x7fffffff, &d->server_id) ||
		    !json_is_string(addr)) {
			ret = fail(c, IDN_EINVAL, "site server %zu needs serverId and address", k + 1);
			goto done;
		}
		if (inet_pton(AF_INET, json_string_value(addr), d->address + 12) != 1 &&
		    inet_pton(AF_INET6, json_string_value(addr), d->address) != 1) {
			ret = fail(c, IDN_EINVAL, "site server %zu: bad address", k + 1);
			goto done;
		}
		const json_t *pk = json_object_get(sv, "publicKey");
		if (pk) {
			uint8_t kb[2048];
			idn_wire_t kw;
			idn_wire_init(&kw, kb, sizeof(kb));
			const json_t *fmt = json_object_get(pk, "format"), *pv = json_object_get(pk, "value");
			long kl = 0;
			if (json_is_string(fmt) && strcmp(json_string_value(fmt), "base64") == 0 &&
			    json_is_string(pv)) {
				kl = b64_decode(json_string_value(pv), json_string_length(pv), &keys[k]);
				if (kl < 0) {
					ret = fail(c, IDN_EINVAL, "site server %zu: bad base64 key", k + 1);
					goto done;
				}
			} else {
				if ((ret = key_from_json(c, pv, &kw)) || (ret = kw.err))
					goto done;
				kl = (long)idn_wire_offset(&kw);
				keys[k] = malloc((size_t)kl);
				if (!keys[k]) {
					ret = IDN_ENOMEM;
					goto done;
				}
				memcpy(keys[k], kb, (size_t)kl);
			}
			d->pubkey = (idn_bytes_t){ keys[k], (uint32_t)kl };
		}
		const json_t *ifs = json_object_get(sv, "interfaces");
		size_t m;
		const json_t *f;
		json_array_foreach(ifs, m, f) {
			const json_t *pr = json_object_get(f, "protocol");
			uint32_t port;
			int proto = -1;
			for (int q = 0; q < 4 && json_is_string(pr); q++)
				if (strcasecmp(json_string_value(pr), proto_name((uint8_t)q)) == 0)
					proto = q;
			if (m >= IDN_SITE_MAX_IFS || proto < 0 ||
			    !get_uint(json_object_get(f, "port"), 65535, &port)) {
				ret = fail(c, IDN_EINVAL, "site server %zu interface %zu needs protocol and port", k + 1, m + 1);
				goto done;
			}
			d->ifs[m].protocol = (uint8_t)proto;
			d->ifs[m].port = port;
			d->ifs[m].type = (uint8_t)((json_is_true(json_object_get(f, "query")) ? IDN_IF_QUERY : 0) |
						   (json_is_true(json_object_get(f, "admin")) ? IDN_IF_ADMIN : 0));
			d->n_ifs++;
		}
		s->n_servers++;
	}
	idn_site_encode(out, s);
done:
	for (int i = 0; i < IDN_SITE_MAX_SERVERS; i++)
		free(keys[i]);
	free(s);
	return ret;
}

/* Encode the data of a value (its ByteString contents) at the cursor. */
static int data_from_json(ctx_t *c, const json_t *d, idn_wire_t *out)
{
	if (json_is_string(d)) {
		idn_wire_put_raw(out, json_string_value(d), json_string_length(d));
		return IDN_OK;
	}
	if (!json_is_object(d))
		return fail(c, IDN_EINVAL, "\"data\" must be a string or an object");
	const json_t *f = json_object_get(d, "format"), *v = json_object_get(d, "value");
	const char *fmt = json_is_string(f) ? json_string_value(f) : "string";
	if (!v)
		return fail(c, IDN_EINVAL, "\"data\" needs a \"value\"");
	if (!strcmp(fmt, "string")) {
		if (!json_is_string(v))
			return fail(c, IDN_EINVAL, "string data must be a JSON string");
		idn_wire_put_raw(out, json_string_value(v), json_string_length(v));
		return IDN_OK;
	}
	if (!strcmp(fmt, "base64") || !strcmp(fmt, "hex")) {
		uint8_t *buf = NULL;
		long n = -1;
		if (json_is_string(v))
			n = fmt[0] == 'b' ? b64_decode(json_string_value(v), json_string_length(v), &buf)
					  : hex_decode(json_string_value(v), json_string_length(v), &buf);
		if (n < 0)
			return fail(c, IDN_EINVAL, "data is not valid %s", fmt);
		idn_wire_put_raw(out, buf, (size_t)n);
		free(buf);
		return IDN_OK;
	}
	if (!strcmp(fmt, "admin"))
		return admin_from_json(c, v, out);
	if (!strcmp(fmt, "vlist"))
		return refs_list(c, v, out, "vlist");
	if (!strcmp(fmt, "site"))
		return site_from_json(c, v, out);
	if (!strcmp(fmt, "key"))
		return key_from_json(c, v, out);
	return fail(c, IDN_EINVAL, "unknown data format '%s'", fmt);
}

static int perms_from_json(ctx_t *c, const json_t *p, uint8_t *perms)
{
	if (!p)
		return IDN_OK;
	if (!json_is_string(p))
		return fail(c, IDN_EINVAL, "\"permissions\" must be a string like \"1110\"");
	const char *s = json_string_value(p);
	size_t n = strlen(s);
	if (n == 0 || n > 4)
		return fail(c, IDN_EINVAL, "\"permissions\" must be 1 to 4 of 0/1 like \"1110\"");
	uint8_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '0' && s[i] != '1')
			return fail(c, IDN_EINVAL, "\"permissions\" must be 0s and 1s");
		v = (uint8_t)(v << 1 | (s[i] == '1'));
	}
	*perms = v; /* read right-aligned, as CNRI does */
	return IDN_OK;
}

int idn_value_from_json(const json_t *j, uint32_t now, idn_wire_t *out, char *err, size_t errlen)
{
	ctx_t cx = { err, errlen, "value" }, *c = &cx;
	char where[32];
	if (!json_is_object(j))
		return fail(c, IDN_EINVAL, "must be a JSON object");
	uint32_t index;
	if (!get_uint(json_object_get(j, "index"), 0x7fffffff, &index) || index == 0)
		return fail(c, IDN_EINVAL, "\"index\" must be a positive integer");
	snprintf(where, sizeof(where), "value %u", index);
	cx.where = where;
	const json_t *type = json_object_get(j, "type");
	if (!json_is_string(type) || json_string_length(type) == 0)
		return fail(c, IDN_EINVAL, "\"type\" must be a non-empty string");
	if (json_string_length(type) > IDN_MAX_TYPE_LEN)
		return fail(c, IDN_ELIMIT, "\"type\" is longer than %d bytes", IDN_MAX_TYPE_LEN);
	const json_t *data = json_object_get(j, "data");
	if (!data)
		return fail(c, IDN_EINVAL, "\"data\" is missing");
	uint8_t perms = IDN_PERM_DEFAULT, ttl_type = IDN_TTL_RELATIVE;
	uint32_t ttl = DEFAULT_TTL;
	int ret = perms_from_json(c, json_object_get(j, "permissions"), &perms);
	if (ret)
		return ret;
	const json_t *t = json_object_get(j, "ttl");
	if (t && !get_uint(t, 0x7fffffff, &ttl)) {
		struct tm tm;
		memset(&tm, 0, sizeof(tm));
		const char *e = json_is_string(t) ? strptime(json_string_value(t), "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;
		if (!e || *e)
			return fail(c, IDN_EINVAL, "\"ttl\" must be seconds or an ISO-8601 UTC time");
		ttl_type = IDN_TTL_ABSOLUTE;
		ttl = (uint32_t)timegm(&tm);
	}

	/* Fixed part, type, then the data as a ByteString whose length is
	 * patched once the data is written. */
	idn_wire_put_u32(out, index);
	idn_wire_put_u32(out, now);
	idn_wire_put_u8(out, ttl_type);
	idn_wire_put_u32(out, ttl);
	idn_wire_put_u8(out, perms);
	idn_wire_put_bstr(out, json_string_value(type), json_string_length(type));
	size_t len_off = idn_wire_offset(out);
	idn_wire_put_u32(out, 0);
	if ((ret = data_from_json(c, data, out)))
		return ret;
	if (out->err)
		return out->err == IDN_ESPACE ? fail(c, IDN_ELIMIT, "value too large") : out->err;
	size_t dlen = idn_wire_offset(out) - len_off - 4;
	if (dlen > IDN_MAX_VALUE_DATA)
		return fail(c, IDN_ELIMIT, "data is larger than %d bytes", IDN_MAX_VALUE_DATA);
	idn_wire_patch_u32(out, len_off, (uint32_t)dlen);
	const json_t *refs = json_object_get(j, "references");
	if (refs) {
		if (json_array_size(refs) > IDN_MAX_REFS)
			return fail(c, IDN_ELIMIT, "more than %d references", IDN_MAX_REFS);
		if ((ret = refs_list(c, refs, out, "references")))
			return ret;
	} else {
		idn_wire_put_u32(out, 0);
	}
	return out->err;
}

int idn_record_from_json_line(const char *line, size_t len, uint32_t now, idn_wire_t *out,
			      idn_json_record_t *rec, char *err, size_t errlen)
{
	json_error_t je;
	memset(rec, 0, sizeof(*rec));
	json_t *doc = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	if (!doc) {
		snprintf(err, errlen, "invalid JSON at column %d: %s", je.column, je.text);
		return IDN_EINVAL;
	}
	const json_t *h = json_object_get(doc, "handle"), *vals = json_object_get(doc, "values");
	int ret = IDN_EINVAL;
	if (!json_is_string(h) || json_string_length(h) == 0) {
		snprintf(err, errlen, "\"handle\" must be a non-empty string");
		goto fail;
	}
	if (json_string_length(h) > IDN_MAX_HANDLE_LEN) {
		snprintf(err, errlen, "handle longer than %d bytes", IDN_MAX_HANDLE_LEN);
		ret = IDN_ELIMIT;
		goto fail;
	}
	if (!json_is_array(vals) || json_array_size(vals) == 0) {
		snprintf(err, errlen, "\"values\" must be a non-empty array");
		goto fail;
	}
	if (json_array_size(vals) > IDN_MAX_VALUES) {
		snprintf(err, errlen, "more than %d values", IDN_MAX_VALUES);
		ret = IDN_ELIMIT;
		goto fail;
	}
	size_t i;
	const json_t *v;
	json_array_foreach(vals, i, v) {
		if ((ret = idn_value_from_json(v, now, out, err, errlen)))
			goto fail;
	}
	rec->doc = doc;
	rec->handle = json_string_value(h);
	rec->handle_len = json_string_length(h);
	rec->n_values = (uint32_t)json_array_size(vals);
	return IDN_OK;
fail:
	json_decref(doc);
	return ret;
}

/* ---- base64 for other modules (HTTP authentication headers) ---- */

char *idn_base64_encode(const uint8_t *p, size_t n)
{
	return b64_encode(p, n, false);
}

long idn_base64_decode(const char *s, size_t n, uint8_t **out)
{
	return b64_decode(s, n, out);
}
