/* http_auth.c - HTTP authentication as CNRI does it: Basic with an HS_SECKEY, Authorization: Handle challenge-response and sessions, the 401 challenge headers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto/json.h"
#include "proto/wire.h"
#include "resolver/http_auth.h"

/*
 * Every check ends in the dispatch table's verify entry (the registry's
 * key lookup, the same as for native OC 200 answers): this file only
 * turns HTTP's forms into the native ones. HS_PUBKEY answers become
 * ByteString alg + ByteString signature, HS_SECKEY answers the code byte
 * and MAC (or the PBKDF2 structure) of the native answer field, over
 * nonce || cnonce; a Basic password is the secret itself.
 */

enum { AUTH_NONE = 0, AUTH_OK = 1, AUTH_FAILED = 2 };

#define ANSWER_MAX 4096

static _Thread_local const char *next_error;

void http_auth_set_error(const char *err)
{
	next_error = err;
}

void http_identity_text(const idn_identity_t *who, char *buf, size_t len)
{
	snprintf(buf, len, "%u:%.*s", who->index, (int)who->len, (const char *)who->handle);
}

/* "INDEX:HANDLE" (CNRI's order) into v's handle and index. */
static bool parse_id(const char *s, uint32_t *index, const char **handle, size_t *hlen)
{
	const char *colon = strchr(s, ':');
	if (!colon || colon == s || colon - s > 10)
		return false;
	unsigned long long idx = 0;
	for (const char *p = s; p < colon; p++) {
		if (*p < '0' || *p > '9')
			return false;
		idx = idx * 10 + (unsigned)(*p - '0');
	}
	if (idx > 0x7fffffff || !colon[1] || strlen(colon + 1) > IDN_ID_MAX_HANDLE)
		return false;
	*index = (uint32_t)idx;
	*handle = colon + 1;
	*hlen = strlen(colon + 1);
	return true;
}

/* The verify entry with this thread's reader. */
static int verify(http_ctx_t *c, const idn_verify_t *v, idn_identity_t *who)
{
	const idn_dispatch_t *d = c->t->srv->opts.dispatch;
	if (!d || !d->verify)
		return IDN_EINVAL;
	int ret = http_reader_begin(c);
	if (ret)
		return ret;
	ret = d->verify(d->ctx, (struct idn_reader *)c->t->reader, v, who);
	http_reader_end(c);
	return ret;
}

/* Authorization: Basic base64(INDEX%3AHANDLE:secret). */
static int basic(http_ctx_t *c, const char *b64, idn_identity_t *who, const char **err)
{
	while (*b64 == ' ')
		b64++;
	size_t n = strlen(b64);
	while (n && b64[n - 1] == ' ')
		n--;
	uint8_t *dec = NULL;
	long dl = n <= 8192 ? idn_base64_decode(b64, n, &dec) : -1;
	*err = "Identity not verified";
	if (dl < 0)
		return AUTH_FAILED;
	/* The user part never holds a raw ':' (CNRI percent-encodes it), the
	 * secret may. */
	uint8_t *colon = memchr(dec, ':', (size_t)dl);
	char id[IDN_ID_MAX_HANDLE + 32];
	long il = colon ? http_pct_decode((const char *)dec, (size_t)(colon - dec), id,
					  sizeof(id), false)
			: -1;
	uint32_t index;
	const char *h;
	size_t hl;
	int st = AUTH_FAILED;
	if (il > 0 && parse_id(id, &index, &h, &hl)) {
		idn_verify_t v = { .type = "HS_SECKEY", .handle = (const uint8_t *)h,
				   .handle_len = hl, .index = index, .answer = colon + 1,
				   .answer_len = (size_t)(dec + dl - (colon + 1)), .secret = true };
		if (verify(c, &v, who) == IDN_OK)
			st = AUTH_OK;
	}
	free(dec);
	return st;
}

/* ---- Authorization: Handle k="v", ... ---- */

static bool put_param(http_hauth_t *h, const char *k, size_t kl, const char *v, size_t vl)
{
	static const struct {
		const char *name;
		size_t off, cap;
	} keys[] = {
#define K(n, f) { n, offsetof(http_hauth_t, f), sizeof(((http_hauth_t *)0)->f) }
		K("sessionId", session), K("id", id), K("type", type), K("cnonce", cnonce),
		K("alg", alg), K("signature", signature), K("salt", salt),
		K("iterations", iterations), K("length", length),
#undef K
	};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strlen(keys[i].name) != kl || strncasecmp(keys[i].name, k, kl) != 0)
			continue;
		if (vl >= keys[i].cap)
			return false;
		char *dst = (char *)h + keys[i].off;
		memcpy(dst, v, vl);
		dst[vl] = 0;
		return true;
	}
	return true; /* clientCert, renegotiate and the like: not ours */
}

bool http_hauth_parse(const char *s, http_hauth_t *h)
{
	memset(h, 0, sizeof(*h));
	char val[2048];
	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == ',')
			s++;
		if (!*s)
			return true;
		const char *k = s;
		while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))
			s++;
		size_t kl = (size_t)(s - k);
		while (*s == ' ')
			s++;
		if (kl == 0 || *s != '=')
			return false;
		s++;
		while (*s == ' ')
			s++;
		size_t vl = 0;
		if (*s == '"') {
			for (s++; *s && *s != '"'; s++) {
				if (*s == '\\' && s[1])
					s++;
				if (vl + 1 >= sizeof(val))
					return false;
				val[vl++] = *s;
			}
			if (*s != '"')
				return false;
			s++;
		} else {
			while (*s && *s != ',' && *s != ' ') {
				if (vl + 1 >= sizeof(val))
					return false;
				val[vl++] = *s++;
			}
		}
		if (!put_param(h, k, kl, val, vl))
			return false;
	}
}

static bool parse_u32(const char *s, uint32_t *out)
{
	char *end;
	if (!*s || strlen(s) > 10)
		return false;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end || v > 0xffffffffu)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* HTTP's HS_SECKEY alg names to the native answer's code byte. */
static int seckey_code(const char *alg)
{
	static const struct {
		const char *name;
		int code;
	} m[] = {
		{ "MD5", 0x01 }, { "SHA1", 0x02 }, { "SHA-1", 0x02 }, { "SHA256", 0x03 },
		{ "SHA-256", 0x03 }, { "HMAC-SHA1", 0x12 }, { "HMAC-SHA256", 0x13 },
		{ "PBKDF2-HMAC-SHA1", 0x22 },
	};
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (strcasecmp(alg, m[i].name) == 0)
			return m[i].code;
	return 0;
}

static long b64_field(const char *s, uint8_t **out)
{
	return *s ? idn_base64_decode(s, strlen(s), out) : -1;
}

/* The native answer field for h into w. */
static const char *native_answer(const http_hauth_t *h, bool pubkey, const uint8_t *sig,
				 size_t slen, idn_wire_t *w)
{
	if (pubkey) {
		idn_wire_put_bstr(w, h->alg, strlen(h->alg));
		idn_wire_put_bstr(w, sig, slen);
		return NULL;
	}
	int code = seckey_code(h->alg);
	if (!code)
		return "Unknown alg";
	idn_wire_put_u8(w, (uint8_t)code);
	if (code != 0x22) {
		idn_wire_put_raw(w, sig, slen);
		return NULL;
	}
	uint32_t iter, bits;
	uint8_t *salt = NULL;
	long sl = b64_field(h->salt, &salt);
	if (sl < 0 || !parse_u32(h->iterations, &iter) || !parse_u32(h->length, &bits)) {
		free(salt);
		return "PBKDF2-HMAC-SHA1 needs salt, iterations and length";
	}
	idn_wire_put_bstr(w, salt, (size_t)sl);
	idn_wire_put_u32(w, iter);
	idn_wire_put_u32(w, bits);
	idn_wire_put_bstr(w, sig, slen);
	free(salt);
	return NULL;
}

int http_hauth_verify(http_ctx_t *c, const http_hauth_t *h, const uint8_t *nonce,
		      idn_identity_t *who, const char **err)
{
	bool pubkey = strcasecmp(h->type, "HS_PUBKEY") == 0;
	if (!pubkey && strcasecmp(h->type, "HS_SECKEY") != 0) {
		*err = "Unknown type";
		return IDN_EINVAL;
	}
	char id[IDN_ID_MAX_HANDLE + 32];
	uint32_t index;
	const char *hd;
	size_t hl;
	if (http_pct_decode(h->id, strlen(h->id), id, sizeof(id), false) <= 0 ||
	    !parse_id(id, &index, &hd, &hl)) {
		*err = "Bad id";
		return IDN_EINVAL;
	}
	uint8_t *cn = NULL, *sig = NULL;
	long cl = b64_field(h->cnonce, &cn), sl = b64_field(h->signature, &sig);
	int ret = IDN_EINVAL;
	*err = "Missing or malformed cnonce or signature";
	if (cl > 0 && sl > 0 && sl < 1024) {
		uint8_t ans[ANSWER_MAX];
		idn_wire_t w;
		idn_wire_init(&w, ans, sizeof(ans));
		const char *e = native_answer(h, pubkey, sig, (size_t)sl, &w);
		if (e) {
			*err = e;
		} else if (w.err == IDN_OK) {
			idn_verify_t v = { .type = pubkey ? "HS_PUBKEY" : "HS_SECKEY",
					   .handle = (const uint8_t *)hd, .handle_len = hl,
					   .index = index, .nonce = nonce, .nonce_len = HTTP_NONCE,
					   .digest = cn, .digest_len = (size_t)cl, .answer = ans,
					   .answer_len = idn_wire_offset(&w) };
			ret = verify(c, &v, who);
			*err = "Identity not verified";
		}
	}
	free(cn);
	free(sig);
	return ret;
}

/* Authorization: Handle sessionId=.. [id, type, cnonce, alg, signature]. */
static int handle_auth(http_ctx_t *c, const char *params, idn_identity_t *who, const char **err)
{
	http_hauth_t *h = malloc(sizeof(*h));
	if (!h) {
		*err = "Out of memory";
		return AUTH_FAILED;
	}
	int st = AUTH_NONE;
	uint8_t id[HTTP_SESS_ID];
	http_sess_t s;
	if (!http_hauth_parse(params, h)) {
		*err = "Malformed Authorization header";
		st = AUTH_FAILED;
	} else if (!h->session[0]) {
		/* clientCert="true" alone and the like: no credential of ours. */
		if (h->signature[0]) {
			*err = "Missing sessionId";
			st = AUTH_FAILED;
		}
	} else if (!http_sess_id_parse(h->session, id) || !http_sess_get(id, &s)) {
		*err = "Unknown or expired session";
		st = AUTH_FAILED;
	} else if (h->signature[0]) {
		if (http_hauth_verify(c, h, s.nonce, who, err) == IDN_OK) {
			http_sess_bind(id, who);
			st = AUTH_OK;
		} else {
			st = AUTH_FAILED;
		}
	} else if (s.authed) {
		*who = s.who;
		st = AUTH_OK;
	}
	free(h);
	return st;
}

static int authenticate(http_ctx_t *c, idn_identity_t *who, const char **err)
{
	/* CNRI: over plain HTTP credentials are ignored (a would-be 401 is 403). */
	if (!c->tls)
		return AUTH_NONE;
	const char *a = http_req_header(c, "Authorization");
	if (!a)
		return AUTH_NONE;
	if (strncasecmp(a, "Basic ", 6) == 0)
		return basic(c, a + 6, who, err);
	if (strncasecmp(a, "Handle", 6) == 0 && (a[6] == ' ' || a[6] == 0))
		return handle_auth(c, a + 6, who, err);
	return AUTH_NONE;
}

bool http_auth_request(http_ctx_t *c, const idn_identity_t **out)
{
	static _Thread_local idn_identity_t who;
	const char *err = NULL;
	*out = NULL;
	switch (authenticate(c, &who, &err)) {
	case AUTH_OK:
		*out = &who;
		return true;
	case AUTH_FAILED:
		/* As CNRI: 401 with the reason in the challenge, no body. */
		http_auth_set_error(err);
		http_reply_raw(c, 401, NULL, NULL, 0);
		return false;
	default:
		return true;
	}
}

const idn_identity_t *http_identity(http_ctx_t *c)
{
	static _Thread_local idn_identity_t who;
	const char *err;
	return authenticate(c, &who, &err) == AUTH_OK ? &who : NULL;
}

/* CNRI's challenge: Basic realm (unless an XMLHttpRequest or another kind
 * of Authorization), then Handle with a session and its nonce; the session
 * the request named is offered again while it is waiting. */
void http_auth_challenge(http_ctx_t *c)
{
	const char *err = next_error;
	next_error = NULL;
	const char *xrw = http_req_header(c, "X-Requested-With");
	const char *a = http_req_header(c, "Authorization");
	if (!(xrw && strcasecmp(xrw, "XMLHttpRequest") == 0) &&
	    !(a && strncasecmp(a, "Basic", 5) != 0))
		http_header(c, "WWW-Authenticate", "Basic realm=\"handle\"");
	http_sess_t s;
	bool have = false;
	if (a && strncasecmp(a, "Handle", 6) == 0) {
		http_hauth_t *h = malloc(sizeof(*h));
		uint8_t id[HTTP_SESS_ID];
		have = h && http_hauth_parse(a + 6, h) && http_sess_id_parse(h->session, id) &&
		       http_sess_get(id, &s) && !s.authed;
		free(h);
	}
	if (!have && http_sess_new(&s) != IDN_OK)
		return;
	char sid[64], hdr[256];
	char *nonce = idn_base64_encode(s.nonce, sizeof(s.nonce));
	if (!nonce)
		return;
	http_sess_id_text(s.id, sid, sizeof(sid));
	snprintf(hdr, sizeof(hdr), "Handle sessionId=\"%s\", nonce=\"%s\"%s%s%s", sid, nonce,
		 err ? ", error=\"" : "", err ? err : "", err ? "\"" : "");
	free(nonce);
	http_header(c, "WWW-Authenticate", hdr);
}

/* ---- GET /api/verifications/{index}:{handle} ---- */

void http_verifications(http_ctx_t *c)
{
	char idbuf[IDN_ID_MAX_HANDLE + 32];
	if (http_handle_arg(c, c->rest, idbuf, sizeof(idbuf)) < 0)
		return;
	http_hauth_t *h = calloc(1, sizeof(*h));
	if (!h) {
		http_reply_error(c, 503, IDN_RC_SERVER_TOO_BUSY, "Out of memory");
		return;
	}
	char nonce_b64[64] = "";
	snprintf(h->id, sizeof(h->id), "%s", idbuf);
	snprintf(h->type, sizeof(h->type), "HS_SECKEY");
	http_param(c, "nonce", nonce_b64, sizeof(nonce_b64));
	http_param(c, "cnonce", h->cnonce, sizeof(h->cnonce));
	http_param(c, "alg", h->alg, sizeof(h->alg));
	http_param(c, "signature", h->signature, sizeof(h->signature));
	http_param(c, "salt", h->salt, sizeof(h->salt));
	http_param(c, "iterations", h->iterations, sizeof(h->iterations));
	http_param(c, "length", h->length, sizeof(h->length));
	uint8_t *nonce = NULL;
	long nl = b64_field(nonce_b64, &nonce);
	if (nl != HTTP_NONCE) {
		free(nonce);
		free(h);
		http_reply_error(c, 400, IDN_RC_PROTOCOL_ERROR, "nonce must be 16 bytes in base64");
		return;
	}
	idn_identity_t who;
	const char *err = NULL;
	int ret = http_hauth_verify(c, h, nonce, &who, &err);
	free(nonce);
	free(h);
	if (ret == IDN_ENOTFOUND) {
		http_reply_rc(c, IDN_RC_HANDLE_NOT_FOUND, NULL, NULL, false);
	} else if (ret == IDN_OK || ret == IDN_EACCES) {
		json_t *o = json_object();
		if (o) {
			json_object_set_new(o, "responseCode", json_integer(1));
			json_object_set_new(o, "isValid", json_boolean(ret == IDN_OK));
		}
		http_reply_json(c, 200, o);
	} else {
		http_reply_error(c, 400, IDN_RC_PROTOCOL_ERROR, err ? err : "Cannot verify");
	}
}
