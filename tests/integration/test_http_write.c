/* test_http_write.c - integration: writes over the JSON API (PUT/DELETE, batch, prefixes) and HTTP authentication (Basic, Handle challenge-response, sessions) on a real idnoded, with curl. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "proto/crypto.h"
#include "proto/json.h"
#include "proto/msg.h"
#include "proto/pkey.h"
#include "proto/wire.h"
#include "tests/util/testutil.h"

static tu_daemon_t D;
static char secret_path[256], body_path[256];

/* Basic credentials of 301:0.NA/88.100 (secret "node-secret") and a wrong one. */
#define ADMIN_BASIC "Authorization: Basic MzAxJTNBMC5OQS84OC4xMDA6bm9kZS1zZWNyZXQ="
#define WRONG_BASIC "Authorization: Basic MzAxJTNBMC5OQS84OC4xMDA6d3Jvbmc="
#define JSON_CT "Content-Type: application/json"

#define OUT_CAP (1024 * 1024)

typedef struct {
	int status;
	char *head;
	char *body;
	char buf[OUT_CAP];
} resp_t;

static int setup(void **state)
{
	snprintf(secret_path, sizeof(secret_path), "/tmp/idn-hw-secret-%d", (int)getpid());
	snprintf(body_path, sizeof(body_path), "/tmp/idn-hw-body-%d", (int)getpid());
	FILE *f = fopen(secret_path, "w");
	if (!f)
		return -1;
	fputs("node-secret\n", f);
	fclose(f);
	char opt[300];
	snprintf(opt, sizeof(opt), "--admin-secret-file=%s", secret_path);
	const char *extra[] = { "--demo", opt, NULL };
	if (tu_daemon_start(&D, extra) != 0 || D.http_port == 0 || D.https_port == 0) {
		fprintf(stderr, "idnoded did not become ready with HTTP (log in %s)\n", D.dir);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	int st = tu_daemon_stop(&D);
	if (st != 0)
		fprintf(stderr, "idnoded exited with %d (log in %s)\n", st, D.dir);
	else
		tu_daemon_cleanup(&D);
	unlink(secret_path);
	unlink(body_path);
	return st == 0 ? 0 : -1;
}

/* curl -X METHOD with up to two headers and a body (NULL = none). */
static resp_t *req(bool tls, const char *method, const char *h1, const char *h2,
		   const char *body, const char *path)
{
	resp_t *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	char data[300] = "";
	if (body) {
		FILE *f = fopen(body_path, "w");
		assert_non_null(f);
		fputs(body, f);
		fclose(f);
		snprintf(data, sizeof(data), "--data-binary @%s", body_path);
	}
	static char cmd[16384];
	snprintf(cmd, sizeof(cmd),
		 "curl -s -i --max-time 20 %s -X %s %s%s%s %s%s%s %s '%s://127.0.0.1:%u%s'",
		 tls ? "-k" : "", method, h1 ? "-H '" : "", h1 ? h1 : "", h1 ? "'" : "",
		 h2 ? "-H '" : "", h2 ? h2 : "", h2 ? "'" : "", data, tls ? "https" : "http",
		 tls ? D.https_port : D.http_port, path);
	tu_run(cmd, r->buf, sizeof(r->buf));
	r->status = -1;
	char *sep = strstr(r->buf, "\r\n\r\n");
	if (strncmp(r->buf, "HTTP/", 5) == 0 && sep) {
		*sep = 0;
		r->head = r->buf;
		r->body = sep + 4;
		sscanf(r->buf, "HTTP/%*s %d", &r->status);
	} else {
		r->head = r->body = r->buf + strlen(r->buf);
	}
	return r;
}

static json_t *body_json(const resp_t *r)
{
	json_error_t e;
	json_t *j = json_loads(r->body, 0, &e);
	if (!j)
		fprintf(stderr, "not JSON (%s): %s\n", e.text, r->body);
	assert_non_null(j);
	return j;
}

static long rc_of(const resp_t *r)
{
	json_t *j = body_json(r);
	long rc = (long)json_integer_value(json_object_get(j, "responseCode"));
	json_decref(j);
	return rc;
}

/* The body of rest-put-https-basic.http, for another handle. */
static const char CAPTURE_BODY[] =
	"{\"values\":[{\"index\":1,\"type\":\"URL\",\"data\":{\"format\":\"string\",\"value\":"
	"\"https://example.org/vec-rest\"}},{\"index\":100,\"type\":\"HS_ADMIN\",\"data\":{"
	"\"format\":\"admin\",\"value\":{\"handle\":\"0.NA/88.100.12\",\"index\":300,"
	"\"permissions\":\"111111111111\"}}}]}";

static void test_basic_put_get_delete(void **s)
{
	resp_t *r = req(true, "PUT", ADMIN_BASIC, JSON_CT, CAPTURE_BODY, "/api/handles/88.100.12/rest1");
	assert_int_equal(r->status, 201);
	assert_string_equal(r->body, "{\"responseCode\":1,\"handle\":\"88.100.12/rest1\"}");
	free(r);

	r = req(true, "GET", NULL, NULL, NULL, "/api/handles/88.100.12/rest1");
	assert_int_equal(r->status, 200);
	json_t *j = body_json(r);
	json_t *vals = json_object_get(j, "values");
	assert_int_equal(json_array_size(vals), 2);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(json_array_get(vals, 0), "data"), "value")),
			    "https://example.org/vec-rest");
	json_decref(j);
	free(r);

	/* overwrite=false on an existing handle: 409 as CNRI (no message). */
	r = req(true, "PUT", ADMIN_BASIC, JSON_CT, CAPTURE_BODY,
		"/api/handles/88.100.12/rest1?overwrite=false");
	assert_int_equal(r->status, 409);
	assert_string_equal(r->body, "{\"responseCode\":101,\"handle\":\"88.100.12/rest1\"}");
	free(r);

	/* PUT replaces by default: 200, not 201. */
	r = req(true, "PUT", ADMIN_BASIC, JSON_CT,
		"[{\"index\":1,\"type\":\"URL\",\"data\":\"https://example.org/v2\"}]",
		"/api/handles/88.100.12/rest1");
	assert_int_equal(r->status, 200);
	free(r);
	r = req(true, "GET", NULL, NULL, NULL, "/api/handles/88.100.12/rest1");
	j = body_json(r);
	assert_int_equal(json_array_size(json_object_get(j, "values")), 1);
	json_decref(j);
	free(r);

	r = req(true, "DELETE", ADMIN_BASIC, NULL, NULL, "/api/handles/88.100.12/rest1");
	assert_int_equal(r->status, 200);
	assert_string_equal(r->body, "{\"responseCode\":1,\"handle\":\"88.100.12/rest1\"}");
	free(r);
	r = req(true, "GET", NULL, NULL, NULL, "/api/handles/88.100.12/rest1");
	assert_int_equal(r->status, 404);
	free(r);
	r = req(true, "DELETE", ADMIN_BASIC, NULL, NULL, "/api/handles/88.100.12/rest1");
	assert_int_equal(r->status, 404);
	assert_string_equal(r->body, "{\"responseCode\":100,\"handle\":\"88.100.12/rest1\"}");
	free(r);
}

static void test_refusals(void **s)
{
	/* Plain HTTP: the credential is ignored, the registry's 402 is 403
	 * (rest-put-http-refused.http). */
	resp_t *r = req(false, "PUT", ADMIN_BASIC, JSON_CT, CAPTURE_BODY, "/api/handles/88.100.12/rest2");
	assert_int_equal(r->status, 403);
	assert_string_equal(r->body, "{\"responseCode\":402,\"handle\":\"88.100.12/rest2\"}");
	free(r);

	/* A wrong secret over HTTPS: 401 with both challenges and the error
	 * (rest-put-https-wrong-secret.http), nothing stored. */
	r = req(true, "PUT", WRONG_BASIC, JSON_CT, CAPTURE_BODY, "/api/handles/88.100.12/rest2");
	assert_int_equal(r->status, 401);
	assert_non_null(strstr(r->head, "WWW-Authenticate: Basic realm=\"handle\""));
	assert_non_null(strstr(r->head, "WWW-Authenticate: Handle sessionId=\""));
	assert_non_null(strstr(r->head, "error=\"Identity not verified\""));
	free(r);

	/* No credential over HTTPS: 401 with the challenge, RC 402 echoed. */
	r = req(true, "PUT", JSON_CT, NULL, CAPTURE_BODY, "/api/handles/88.100.12/rest2");
	assert_int_equal(r->status, 401);
	assert_non_null(strstr(r->head, "nonce=\""));
	assert_string_equal(r->body, "{\"responseCode\":402,\"handle\":\"88.100.12/rest2\"}");
	free(r);
	r = req(true, "GET", NULL, NULL, NULL, "/api/handles/88.100.12/rest2");
	assert_int_equal(r->status, 404);
	free(r);

	/* Not our prefix: RC 301 -> 400. */
	r = req(true, "PUT", ADMIN_BASIC, JSON_CT, CAPTURE_BODY, "/api/handles/99.1/x");
	assert_int_equal(r->status, 400);
	assert_int_equal(rc_of(r), 301);
	free(r);

	/* Bodies: no JSON content type, malformed JSON, a handle that does not match. */
	r = req(true, "PUT", ADMIN_BASIC, "Content-Type: text/plain", "[]",
		"/api/handles/88.100.12/rest2");
	assert_int_equal(r->status, 400);
	assert_int_equal(rc_of(r), 4);
	free(r);
	r = req(true, "PUT", ADMIN_BASIC, JSON_CT, "[{\"index\":", "/api/handles/88.100.12/rest2");
	assert_int_equal(r->status, 400);
	assert_int_equal(rc_of(r), 4);
	free(r);
	r = req(true, "PUT", ADMIN_BASIC, JSON_CT, "{\"handle\":\"88.100.12/other\",\"values\":[]}",
		"/api/handles/88.100.12/rest2");
	assert_int_equal(r->status, 400);
	free(r);
	r = req(true, "PUT", ADMIN_BASIC, JSON_CT, "[{\"index\":-1,\"type\":\"URL\",\"data\":\"x\"}]",
		"/api/handles/88.100.12/rest2");
	assert_int_equal(r->status, 400);
	free(r);
}

static void test_mint_and_index(void **s)
{
	resp_t *r = req(true, "PUT", ADMIN_BASIC, JSON_CT,
			"{\"index\":1,\"type\":\"URL\",\"data\":\"https://m\"}",
			"/api/handles/88.100.12/M-?mintNewSuffix=true");
	assert_int_equal(r->status, 201);
	json_t *j = body_json(r);
	const char *h = json_string_value(json_object_get(j, "handle"));
	assert_non_null(h);
	assert_int_equal(strncmp(h, "88.100.12/M-", 12), 0);
	assert_int_equal(strlen(h), 12 + 36);
	json_decref(j);
	free(r);

	r = req(true, "PUT", ADMIN_BASIC, JSON_CT,
		"[{\"index\":1,\"type\":\"URL\",\"data\":\"https://i\"},"
		"{\"index\":2,\"type\":\"EMAIL\",\"data\":\"a@example.com\"}]",
		"/api/handles/88.100.12/idx");
	assert_int_equal(r->status, 201);
	free(r);
	/* Add index 3 (no overwrite: 201), replace index 2 (200). */
	r = req(true, "PUT", ADMIN_BASIC, JSON_CT,
		"[{\"index\":3,\"type\":\"EMAIL\",\"data\":\"c@example.com\"}]",
		"/api/handles/88.100.12/idx?index=3&overwrite=false");
	assert_int_equal(r->status, 201);
	free(r);
	r = req(true, "PUT", ADMIN_BASIC, JSON_CT,
		"{\"index\":2,\"type\":\"EMAIL\",\"data\":\"b@example.com\"}",
		"/api/handles/88.100.12/idx?index=2");
	assert_int_equal(r->status, 200);
	free(r);
	/* Adding an index that exists without overwrite is refused. */
	r = req(true, "PUT", ADMIN_BASIC, JSON_CT, "[{\"index\":3,\"type\":\"EMAIL\",\"data\":\"x\"}]",
		"/api/handles/88.100.12/idx?index=3&overwrite=false");
	assert_int_equal(r->status, 409);
	free(r);
	/* The index parameters must be the values' indexes. */
	r = req(true, "PUT", ADMIN_BASIC, JSON_CT, "[{\"index\":4,\"type\":\"EMAIL\",\"data\":\"x\"}]",
		"/api/handles/88.100.12/idx?index=5");
	assert_int_equal(r->status, 400);
	free(r);
	r = req(true, "PUT", ADMIN_BASIC, JSON_CT, "[{\"index\":4,\"type\":\"EMAIL\",\"data\":\"d\"}]",
		"/api/handles/88.100.12/idx?index=various");
	assert_int_equal(r->status, 200);
	free(r);
	r = req(true, "DELETE", ADMIN_BASIC, NULL, NULL, "/api/handles/88.100.12/idx?index=3&index=4");
	assert_int_equal(r->status, 200);
	free(r);

	r = req(true, "GET", NULL, NULL, NULL, "/api/handles/88.100.12/idx");
	j = body_json(r);
	json_t *vals = json_object_get(j, "values");
	assert_int_equal(json_array_size(vals), 2);
	json_t *v2 = json_array_get(vals, 1);
	assert_int_equal(json_integer_value(json_object_get(v2, "index")), 2);
	assert_string_equal(json_string_value(json_object_get(json_object_get(v2, "data"), "value")),
			    "b@example.com");
	json_decref(j);
	free(r);
}

/* The parameter `name` of the Handle challenge in the headers. */
static void challenge_param(const resp_t *r, const char *name, char *out, size_t len)
{
	const char *h = strstr(r->head, "WWW-Authenticate: Handle ");
	assert_non_null(h);
	char key[64];
	snprintf(key, sizeof(key), "%s=\"", name);
	const char *p = strstr(h, key);
	assert_non_null(p);
	p += strlen(key);
	const char *e = strchr(p, '"');
	assert_non_null(e);
	assert_true((size_t)(e - p) < len);
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = 0;
}

/* Answer the challenge of session `sid` with nonce `nonce_b64` as the demo
 * enterprise (HS_PUBKEY 300:0.NA/88.100.12): the Authorization header. */
static void pubkey_answer(const char *sid, const char *nonce_b64, bool spoil, char *hdr,
			  size_t len)
{
	uint8_t *nonce = NULL;
	long nl = idn_base64_decode(nonce_b64, strlen(nonce_b64), &nonce);
	assert_int_equal(nl, 16);
	uint8_t cnonce[16];
	assert_int_equal(idn_random(cnonce, sizeof(cnonce)), IDN_OK);
	char path[512];
	snprintf(path, sizeof(path), "%s/data/demo-enterprise-key.pem", D.dir);
	idn_pkey_t *k = NULL;
	assert_int_equal(idn_pkey_load_pem(path, &k), IDN_OK);
	uint8_t sig[2048];
	idn_wire_t w;
	idn_wire_init(&w, sig, sizeof(sig));
	idn_piece_t data[2] = { { nonce, 16 }, { cnonce, 16 } };
	assert_int_equal(idn_pkey_sign(k, IDN_DIGEST_SHA256, data, 2, &w), IDN_OK);
	if (spoil)
		sig[10] ^= 1;
	char *cb = idn_base64_encode(cnonce, sizeof(cnonce));
	char *sb = idn_base64_encode(sig, idn_wire_offset(&w));
	snprintf(hdr, len,
		 "Authorization: Handle sessionId=\"%s\", id=\"300%%3A0.NA/88.100.12\", "
		 "type=\"HS_PUBKEY\", cnonce=\"%s\", alg=\"SHA256\", signature=\"%s\"",
		 sid, cb, sb);
	free(cb);
	free(sb);
	free(nonce);
	idn_pkey_free(k);
}

static void test_handle_challenge_response(void **s)
{
	/* 1: the 401 gives a session and a nonce. */
	resp_t *r = req(true, "PUT", JSON_CT, NULL, "[]", "/api/handles/88.100.12/chal");
	assert_int_equal(r->status, 401);
	char sid[64], nonce[64], hdr[4096];
	challenge_param(r, "sessionId", sid, sizeof(sid));
	challenge_param(r, "nonce", nonce, sizeof(nonce));
	free(r);

	/* A wrong signature: 401 again, the same session offered. */
	pubkey_answer(sid, nonce, true, hdr, sizeof(hdr));
	r = req(true, "PUT", hdr, JSON_CT, "[{\"index\":1,\"type\":\"URL\",\"data\":\"https://c\"}]",
		"/api/handles/88.100.12/chal");
	assert_int_equal(r->status, 401);
	assert_non_null(strstr(r->head, sid));
	assert_non_null(strstr(r->head, "error=\"Identity not verified\""));
	free(r);

	/* 2: the answer signed with the enterprise key: the PUT goes through. */
	pubkey_answer(sid, nonce, false, hdr, sizeof(hdr));
	r = req(true, "PUT", hdr, JSON_CT, "[{\"index\":1,\"type\":\"URL\",\"data\":\"https://c\"}]",
		"/api/handles/88.100.12/chal");
	assert_int_equal(r->status, 201);
	free(r);

	/* 3: later requests carry only the session id. */
	char bearer[128];
	snprintf(bearer, sizeof(bearer), "Authorization: Handle sessionId=\"%s\"", sid);
	r = req(true, "GET", bearer, NULL, NULL, "/api/sessions/this");
	assert_int_equal(r->status, 200);
	json_t *j = body_json(r);
	assert_true(json_is_true(json_object_get(j, "authenticated")));
	assert_string_equal(json_string_value(json_object_get(j, "id")), "300:0.NA/88.100.12");
	json_decref(j);
	free(r);

	/* The enterprise may not write under another prefix of the node. */
	r = req(true, "PUT", bearer, JSON_CT, "[{\"index\":1,\"type\":\"URL\",\"data\":\"https://c\"}]",
		"/api/handles/88.100/not-yours");
	assert_int_equal(r->status, 403);
	free(r);

	r = req(true, "DELETE", bearer, NULL, NULL, "/api/handles/88.100.12/chal");
	assert_int_equal(r->status, 200);
	free(r);

	/* The same session id over plain HTTP counts for nothing. */
	r = req(false, "DELETE", bearer, NULL, NULL, "/api/handles/88.100.12/PN-0002");
	assert_int_equal(r->status, 403);
	free(r);

	/* Logged out: the id is refused. */
	r = req(true, "DELETE", bearer, NULL, NULL, "/api/sessions/this");
	assert_int_equal(r->status, 204);
	free(r);
	r = req(true, "DELETE", bearer, NULL, NULL, "/api/handles/88.100.12/PN-0002");
	assert_int_equal(r->status, 401);
	assert_non_null(strstr(r->head, "error=\"Unknown or expired session\""));
	free(r);
}

static void test_sessions_api(void **s)
{
	/* POST with Basic: a session logged in at once. */
	resp_t *r = req(true, "POST", ADMIN_BASIC, NULL, NULL, "/api/sessions");
	assert_int_equal(r->status, 201);
	json_t *j = body_json(r);
	assert_true(json_is_true(json_object_get(j, "authenticated")));
	assert_string_equal(json_string_value(json_object_get(j, "id")), "301:0.NA/88.100");
	json_decref(j);
	free(r);

	/* POST without: a session to answer with PUT /api/sessions/this (JSON body). */
	r = req(true, "POST", NULL, NULL, NULL, "/api/sessions");
	assert_int_equal(r->status, 201);
	j = body_json(r);
	char sid[64], nonce[64], hdr[4096], body[4096];
	snprintf(sid, sizeof(sid), "%s", json_string_value(json_object_get(j, "sessionId")));
	snprintf(nonce, sizeof(nonce), "%s", json_string_value(json_object_get(j, "nonce")));
	json_decref(j);
	free(r);
	pubkey_answer(sid, nonce, false, hdr, sizeof(hdr));
	/* The same parameters as JSON: {"sessionId":..,"id":..,...}. */
	char cnonce[64], sig[2048];
	const char *c0 = strstr(hdr, "cnonce=\"") + 8, *s0 = strstr(hdr, "signature=\"") + 11;
	snprintf(cnonce, sizeof(cnonce), "%.*s", (int)(strchr(c0, '"') - c0), c0);
	snprintf(sig, sizeof(sig), "%.*s", (int)(strchr(s0, '"') - s0), s0);
	snprintf(body, sizeof(body),
		 "{\"sessionId\":\"%s\",\"id\":\"300:0.NA/88.100.12\",\"type\":\"HS_PUBKEY\","
		 "\"cnonce\":\"%s\",\"alg\":\"SHA256\",\"signature\":\"%s\"}",
		 sid, cnonce, sig);
	r = req(true, "PUT", JSON_CT, NULL, body, "/api/sessions/this");
	assert_int_equal(r->status, 200);
	j = body_json(r);
	assert_true(json_is_true(json_object_get(j, "authenticated")));
	json_decref(j);
	free(r);

	/* Sessions need HTTPS. */
	r = req(false, "POST", NULL, NULL, NULL, "/api/sessions");
	assert_int_equal(r->status, 403);
	free(r);
}

/* {"identifiers":[...]} of n items BATCH-<tag>-<i> (item `bad`, when not
 * negative, has an invalid value). */
static char *batch_body(const char *tag, int n, int bad)
{
	size_t cap = (size_t)n * 160 + 64, off = 0;
	char *b = malloc(cap);
	assert_non_null(b);
	off += (size_t)snprintf(b + off, cap - off, "{\"identifiers\":[");
	for (int i = 0; i < n; i++)
		off += (size_t)snprintf(b + off, cap - off,
					"%s{\"handle\":\"88.100.12/B-%s-%d\",\"values\":[{\"index\":%d,"
					"\"type\":\"URL\",\"data\":\"https://example.com/%d\"}]}",
					i ? "," : "", tag, i, i == bad ? -5 : 1, i);
	snprintf(b + off, cap - off, "]}");
	return b;
}

static void test_batch(void **s)
{
	/* 600 items (more than are in flight at a time), item 7 bad. */
	char *body = batch_body("a", 600, 7);
	resp_t *r = req(true, "POST", ADMIN_BASIC, JSON_CT, body, "/api/batch");
	assert_int_equal(r->status, 200);
	json_t *j = body_json(r);
	assert_int_equal(json_integer_value(json_object_get(j, "created")), 599);
	assert_int_equal(json_integer_value(json_object_get(j, "existing")), 0);
	assert_int_equal(json_integer_value(json_object_get(j, "failed")), 1);
	json_t *res = json_object_get(j, "results");
	assert_int_equal(json_array_size(res), 600);
	json_t *r7 = json_array_get(res, 7), *r8 = json_array_get(res, 8);
	assert_string_equal(json_string_value(json_object_get(r7, "handle")), "88.100.12/B-a-7");
	assert_int_not_equal(json_integer_value(json_object_get(r7, "responseCode")), 1);
	assert_non_null(json_string_value(json_object_get(r7, "message")));
	assert_string_equal(json_string_value(json_object_get(r8, "status")), "created");
	json_decref(j);
	free(r);

	/* The retry: the same outcome per item, stored ones now "existing". */
	r = req(true, "POST", ADMIN_BASIC, JSON_CT, body, "/api/batch");
	assert_int_equal(r->status, 200);
	j = body_json(r);
	assert_int_equal(json_integer_value(json_object_get(j, "created")), 0);
	assert_int_equal(json_integer_value(json_object_get(j, "existing")), 599);
	assert_int_equal(json_integer_value(json_object_get(j, "failed")), 1);
	r8 = json_array_get(json_object_get(j, "results"), 8);
	assert_string_equal(json_string_value(json_object_get(r8, "status")), "existing");
	json_decref(j);
	free(r);
	free(body);

	r = req(true, "GET", NULL, NULL, NULL, "/api/handles/88.100.12/B-a-599");
	assert_int_equal(r->status, 200);
	free(r);
	r = req(true, "GET", NULL, NULL, NULL, "/api/handles/88.100.12/B-a-7");
	assert_int_equal(r->status, 404);
	free(r);

	/* Same handle, other values: a conflict, not "existing". */
	r = req(true, "POST", ADMIN_BASIC, JSON_CT,
		"{\"identifiers\":[{\"handle\":\"88.100.12/B-a-1\",\"values\":[{\"index\":1,"
		"\"type\":\"URL\",\"data\":\"https://other\"}]},{\"handle\":\"99.1/x\",\"values\":[]}]}",
		"/api/batch");
	assert_int_equal(r->status, 200);
	j = body_json(r);
	res = json_object_get(j, "results");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(res, 0), "responseCode")),
			 101);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(res, 1), "responseCode")),
			 301);
	assert_int_equal(json_integer_value(json_object_get(j, "failed")), 2);
	json_decref(j);
	free(r);

	/* Over 10,000 items: refused whole, nothing stored. */
	body = batch_body("big", 10001, -1);
	r = req(true, "POST", ADMIN_BASIC, JSON_CT, body, "/api/batch");
	assert_int_equal(r->status, 413);
	assert_int_equal(rc_of(r), 4);
	free(r);
	free(body);
	r = req(true, "GET", NULL, NULL, NULL, "/api/handles/88.100.12/B-big-0");
	assert_int_equal(r->status, 404);
	free(r);

	/* Anonymous or over plain HTTP: refused whole; bad shapes: 400. */
	r = req(true, "POST", JSON_CT, NULL, "{\"identifiers\":[]}", "/api/batch");
	assert_int_equal(r->status, 401);
	free(r);
	r = req(false, "POST", ADMIN_BASIC, JSON_CT, "{\"identifiers\":[]}", "/api/batch");
	assert_int_equal(r->status, 403);
	free(r);
	r = req(true, "POST", ADMIN_BASIC, JSON_CT, "[1,2]", "/api/batch");
	assert_int_equal(r->status, 400);
	free(r);
}

static void test_prefixes(void **s)
{
	resp_t *r = req(true, "POST", ADMIN_BASIC, NULL, NULL, "/api/prefixes/88.300");
	assert_int_equal(r->status, 200);
	free(r);
	r = req(true, "GET", ADMIN_BASIC, NULL, NULL, "/api/prefixes");
	assert_non_null(strstr(r->body, "\"0.NA/88.300\""));
	free(r);
	r = req(true, "DELETE", ADMIN_BASIC, NULL, NULL, "/api/prefixes/88.300");
	assert_int_equal(r->status, 200);
	free(r);
	r = req(true, "GET", ADMIN_BASIC, NULL, NULL, "/api/prefixes");
	assert_null(strstr(r->body, "\"0.NA/88.300\""));
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_put_get_delete),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_mint_and_index),
		cmocka_unit_test(test_handle_challenge_response),
		cmocka_unit_test(test_sessions_api),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_prefixes),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
