/* test_http.c - integration: the JSON API, the handle proxy and HTTPS on a real idnoded --demo (curl), shapes compared with CNRI's captures, hostile input. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "tests/util/testutil.h"

static tu_daemon_t D;

#define OUT_CAP (256 * 1024)

typedef struct {
	int status;
	char *head;               /* status line + headers (points into buf) */
	char *body;
	char buf[OUT_CAP];
} resp_t;

static int setup(void **state)
{
	/* Small limits so the hostile-input tests are quick. */
	const char *extra[] = { "--demo", "--http-max-body=1K", "--http-timeout=2", NULL };
	if (tu_daemon_start(&D, extra) != 0 || D.http_port == 0 || D.https_port == 0) {
		fprintf(stderr, "idnoded did not become ready with HTTP (log in %s)\n", D.dir);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	/* A clean exit: no sanitizer report, every job and connection freed. */
	int st = tu_daemon_stop(&D);
	if (st != 0)
		fprintf(stderr, "idnoded exited with %d (log in %s)\n", st, D.dir);
	else
		tu_daemon_cleanup(&D);
	return st == 0 ? 0 : -1;
}

/* curl ARGS 'URL': status, headers and body (the last response if several). */
static resp_t *curl(bool tls, const char *args, const char *path)
{
	resp_t *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	char cmd[4096];
	snprintf(cmd, sizeof(cmd), "curl -s -i --max-time 10 %s %s '%s://127.0.0.1:%u%s'",
		 tls ? "-k" : "", args ? args : "", tls ? "https" : "http",
		 tls ? D.https_port : D.http_port, path);
	int rc = tu_run(cmd, r->buf, sizeof(r->buf));
	r->status = -rc - 1000; /* curl's failure when no response came */
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

/* The JSON body of the response in a CNRI capture (vectors/NAME.http). */
static json_t *capture_json(const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/vectors/%s", tu_shared_dir(), name);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	static char text[65536];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = 0;
	char *resp = strstr(text, "### S> response");
	assert_non_null(resp);
	char *body = strstr(resp, "\r\n\r\n");
	assert_non_null(body);
	json_error_t e;
	json_t *j = json_loads(body + 4, JSON_DISABLE_EOF_CHECK, &e);
	assert_non_null(j);
	return j;
}

/* Same members in the same order, recursively into objects and the first
 * element of arrays (the values themselves differ). */
static void same_shape(json_t *a, json_t *b)
{
	if (json_is_object(a) && json_is_object(b)) {
		void *ia = json_object_iter(a), *ib = json_object_iter(b);
		while (ia && ib) {
			assert_string_equal(json_object_iter_key(ia), json_object_iter_key(ib));
			same_shape(json_object_iter_value(ia), json_object_iter_value(ib));
			ia = json_object_iter_next(a, ia);
			ib = json_object_iter_next(b, ib);
		}
		assert_true(ia == NULL && ib == NULL);
		return;
	}
	assert_int_equal(json_typeof(a), json_typeof(b));
	if (json_is_array(a) && json_array_size(a) && json_array_size(b))
		same_shape(json_array_get(a, 0), json_array_get(b, 0));
}

static void test_get_handle_http_and_https(void **s)
{
	for (int tls = 0; tls < 2; tls++) {
		resp_t *r = curl(tls, NULL, "/api/handles/88.100.12/PN-0001");
		assert_int_equal(r->status, 200);
		assert_non_null(strcasestr(r->head, "Content-Type: application/json"));
		json_t *j = body_json(r);
		assert_int_equal(json_integer_value(json_object_get(j, "responseCode")), 1);
		assert_string_equal(json_string_value(json_object_get(j, "handle")),
				    "88.100.12/PN-0001");
		json_t *vals = json_object_get(j, "values");
		assert_int_equal(json_array_size(vals), 5);
		json_t *v0 = json_array_get(vals, 0);
		assert_int_equal(json_integer_value(json_object_get(v0, "index")), 1);
		assert_string_equal(json_string_value(json_object_get(v0, "type")), "URL");
		/* Member order and types as CNRI sends them. */
		json_t *cap = capture_json("rest-get.http");
		same_shape(j, cap);
		json_decref(cap);
		json_decref(j);
		free(r);
	}
}

static void test_tls_versions(void **s)
{
	/* TLS 1.1 and older are refused; 1.2 and 1.3 are taken. */
	resp_t *r = curl(true, "--tls-max 1.1", "/api/site");
	assert_true(r->status < 0);
	free(r);
	r = curl(true, "--tlsv1.2 --tls-max 1.2", "/api/site");
	assert_int_equal(r->status, 200);
	free(r);
	r = curl(true, "--tlsv1.3", "/api/site");
	assert_int_equal(r->status, 200);
	free(r);
}

static void test_filters(void **s)
{
	resp_t *r = curl(false, NULL, "/api/handles/88.100.12/PN-0001?type=URL");
	assert_int_equal(r->status, 200);
	json_t *j = body_json(r);
	assert_int_equal(json_array_size(json_object_get(j, "values")), 1);
	json_t *cap = capture_json("rest-get-type.http");
	same_shape(j, cap);
	json_decref(cap);
	json_decref(j);
	free(r);

	r = curl(false, NULL, "/api/handles/88.100.12/PN-0001?index=2&index=100");
	j = body_json(r);
	json_t *vals = json_object_get(j, "values");
	assert_int_equal(json_array_size(vals), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(vals, 1), "index")), 100);
	cap = capture_json("rest-get-index.http");
	same_shape(j, cap);
	json_decref(cap);
	json_decref(j);
	free(r);

	/* Subtypes: PRODUCT. matches PRODUCT.NAME and PRODUCT.MODEL. */
	r = curl(false, NULL, "/api/handles/88.100.12/PN-0001?type=PRODUCT.");
	j = body_json(r);
	assert_int_equal(json_array_size(json_object_get(j, "values")), 2);
	json_decref(j);
	free(r);

	r = curl(false, NULL, "/api/handles/88.100.12/PN-0001?index=x");
	assert_int_equal(r->status, 400);
	free(r);
}

static void test_not_found_and_values_not_found(void **s)
{
	resp_t *r = curl(false, NULL, "/api/handles/88.100.12/NOPE");
	assert_int_equal(r->status, 404);
	assert_string_equal(r->body, "{\"responseCode\":100,\"handle\":\"88.100.12/NOPE\"}");
	free(r);

	r = curl(false, NULL, "/api/handles/88.100.12/PN-0001?type=HS_ALIAS");
	assert_int_equal(r->status, 200);
	assert_string_equal(r->body,
			    "{\"responseCode\":200,\"values\":[],\"handle\":\"88.100.12/PN-0001\"}");
	json_t *j = body_json(r), *cap = capture_json("rest-get-values-not-found.http");
	same_shape(j, cap);
	json_decref(cap);
	json_decref(j);
	free(r);

	/* Not our prefix: RC 301, HTTP 400. */
	r = curl(false, NULL, "/api/handles/99.1/x");
	assert_int_equal(r->status, 400);
	j = body_json(r);
	assert_int_equal(json_integer_value(json_object_get(j, "responseCode")), 301);
	json_decref(j);
	free(r);
}

static void test_bad_requests(void **s)
{
	resp_t *r = curl(false, NULL, "/api/handles/88.100.12/%zz");
	assert_int_equal(r->status, 400);
	json_t *j = body_json(r);
	assert_int_equal(json_integer_value(json_object_get(j, "responseCode")), 4);
	assert_non_null(json_string_value(json_object_get(j, "message")));
	json_decref(j);
	free(r);

	r = curl(false, NULL, "/api/handles/");
	assert_int_equal(r->status, 400);
	j = body_json(r);
	assert_int_equal(json_integer_value(json_object_get(j, "responseCode")), 102);
	json_decref(j);
	free(r);

	/* "+" is not a space in the path: 88.100.12/A+B does not exist. */
	r = curl(false, NULL, "/api/handles/88.100.12/A+B");
	assert_int_equal(r->status, 404);
	assert_non_null(strstr(r->body, "\"88.100.12/A+B\""));
	free(r);

	r = curl(false, NULL, "/api/xyz");
	assert_int_equal(r->status, 404);
	assert_string_equal(r->body,
			    "{\"responseCode\":4,\"message\":\"Unknown HTTP API endpoint GET /api/xyz\"}");
	free(r);

	r = curl(false, "-X DELETE", "/api/site");
	assert_int_equal(r->status, 405);
	free(r);

	/* A body over http-max-body (1K here). */
	char path[256], args[400];
	snprintf(path, sizeof(path), "%s/big.json", D.dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputc('[', f);
	for (int i = 0; i < 400; i++)
		fputs("\"xxxxxxxxxx\",", f);
	fputs("1]", f);
	fclose(f);
	snprintf(args, sizeof(args),
		 "-X PUT -H 'Content-Type: application/json' --data-binary @%s", path);
	r = curl(false, args, "/api/handles/88.100.12/BIG");
	assert_int_equal(r->status, 413);
	free(r);
	assert_true(tu_daemon_alive(&D));
}

static void test_site(void **s)
{
	resp_t *r = curl(false, NULL, "/api/site");
	assert_int_equal(r->status, 200);
	json_t *j = body_json(r);
	assert_int_equal(json_integer_value(json_object_get(j, "responseCode")), 1);
	json_t *site = json_object_get(j, "site");
	assert_string_equal(json_string_value(json_object_get(site, "protocolVersion")), "2.11");
	json_t *srv = json_array_get(json_object_get(site, "servers"), 0);
	assert_non_null(json_object_get(srv, "publicKey"));
	json_t *if0 = json_array_get(json_object_get(srv, "interfaces"), 0);
	assert_string_equal(json_string_value(json_object_get(if0, "protocol")), "TCP");
	assert_int_equal(json_integer_value(json_object_get(if0, "port")), D.port);
	json_decref(j);
	free(r);
}

static void test_listings_need_authentication(void **s)
{
	/* Over HTTP the registry's challenge becomes 403, over HTTPS 401. */
	resp_t *r = curl(false, NULL, "/api/handles?prefix=88.100.12");
	assert_int_equal(r->status, 403);
	json_t *j = body_json(r);
	assert_int_equal(json_integer_value(json_object_get(j, "responseCode")), 402);
	json_decref(j);
	free(r);
	r = curl(true, NULL, "/api/prefixes");
	assert_int_equal(r->status, 401);
	free(r);
	r = curl(false, NULL, "/api/handles");
	assert_int_equal(r->status, 400);
	free(r);
}

static void test_proxy(void **s)
{
	resp_t *r = curl(false, NULL, "/88.100.12/PN-0001");
	assert_int_equal(r->status, 302);
	assert_non_null(strstr(r->head, "\r\nLocation: https://example.com/products/PN-0001"));
	free(r);

	/* A handle made over the native protocol, with markup in its data. */
	char cmd[2048], out[4096], bin[256];
	snprintf(cmd, sizeof(cmd),
		 "%s create 88.100.12/HTML-1 '--value=1:DESC:<b>bold</b> & \"q\"' "
		 "'--value=2:URL:javascript:alert(1)' --auth=300:0.NA/88.100.12 "
		 "--key=%s/data/demo-enterprise-key.pem --server %s",
		 tu_bin("idnode", bin, sizeof(bin)), D.dir, D.server);
	assert_int_equal(tu_run(cmd, out, sizeof(out)), 0);

	r = curl(false, NULL, "/88.100.12/HTML-1?noredirect");
	assert_int_equal(r->status, 200);
	assert_non_null(strcasestr(r->head, "Content-Type: text/html"));
	assert_non_null(strstr(r->body, "&lt;b&gt;bold&lt;/b&gt; &amp; &quot;q&quot;"));
	assert_null(strstr(r->body, "<b>"));
	assert_null(strstr(r->body, "href=\"javascript"));
	free(r);

	r = curl(false, NULL, "/88.100.12/PN-0001?noredirect");
	assert_int_equal(r->status, 200);
	assert_non_null(strstr(r->body, "<td>PRODUCT.NAME</td>"));
	free(r);

	r = curl(false, NULL, "/88.100.12/NOPE");
	assert_int_equal(r->status, 404);
	free(r);

	/* The same handle as JSON: what the native write stored. */
	r = curl(false, NULL, "/api/handles/88.100.12/HTML-1?index=1");
	json_t *j = body_json(r);
	json_t *d = json_object_get(json_array_get(json_object_get(j, "values"), 0), "data");
	assert_string_equal(json_string_value(json_object_get(d, "value")),
			    "<b>bold</b> & \"q\"");
	json_decref(j);
	free(r);
}

static void test_cors_and_jsonp(void **s)
{
	resp_t *r = curl(false, "-H 'Origin: http://example.org'", "/api/site");
	assert_non_null(strstr(r->head, "Access-Control-Allow-Origin: *"));
	free(r);
	r = curl(false, "-X OPTIONS -H 'Origin: http://example.org'", "/api/handles/x/y");
	assert_int_equal(r->status, 200);
	assert_non_null(strstr(r->head, "Access-Control-Allow-Methods:"));
	free(r);
	r = curl(false, NULL, "/api/handles/88.100.12/NOPE?callback=cb.x");
	assert_string_equal(r->body, "cb_x({\"responseCode\":100,\"handle\":\"88.100.12/NOPE\"});");
	free(r);
}

static int connect_http(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)D.http_port) };
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* Read until the peer closes or `ms` pass; returns the bytes read. */
static ssize_t read_all(int fd, char *buf, size_t cap, int ms)
{
	size_t n = 0;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, ms) <= 0)
			return -1; /* still open */
		ssize_t k = recv(fd, buf + n, cap - 1 - n, 0);
		if (k <= 0)
			break;
		n += (size_t)k;
		if (n + 1 >= cap)
			break;
	}
	buf[n] = 0;
	return (ssize_t)n;
}

static void test_header_flood_and_slow_client(void **s)
{
	/* About 80 KB of headers (the limit is 64 KiB): evhttp answers 400. */
	static char req[90000];
	size_t n = (size_t)snprintf(req, sizeof(req), "GET /api/site HTTP/1.1\r\nHost: x\r\n");
	for (int i = 0; n < 80000; i++)
		n += (size_t)snprintf(req + n, sizeof(req) - n, "X-Flood-%05d: %080d\r\n", i, 0);
	n += (size_t)snprintf(req + n, sizeof(req) - n, "\r\n");
	int fd = connect_http();
	assert_int_equal(send(fd, req, n, MSG_NOSIGNAL), (ssize_t)n);
	char buf[4096];
	assert_true(read_all(fd, buf, sizeof(buf), 5000) > 0);
	assert_true(strncmp(buf, "HTTP/1.1 4", 10) == 0);
	close(fd);

	/* A client that sends half a request is closed after http-timeout (2 s). */
	fd = connect_http();
	const char *half = "GET /api/site HTTP/1.1\r\nHost: x\r\n";
	assert_int_equal(send(fd, half, strlen(half), MSG_NOSIGNAL), (ssize_t)strlen(half));
	assert_true(read_all(fd, buf, sizeof(buf), 6000) >= 0);
	close(fd);

	/* And the daemon still answers. */
	assert_true(tu_daemon_alive(&D));
	resp_t *r = curl(false, NULL, "/api/handles/88.100.12/PN-0001?type=URL");
	assert_int_equal(r->status, 200);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_handle_http_and_https),
		cmocka_unit_test(test_tls_versions),
		cmocka_unit_test(test_filters),
		cmocka_unit_test(test_not_found_and_values_not_found),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_site),
		cmocka_unit_test(test_listings_need_authentication),
		cmocka_unit_test(test_proxy),
		cmocka_unit_test(test_cors_and_jsonp),
		cmocka_unit_test(test_header_flood_and_slow_client),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
