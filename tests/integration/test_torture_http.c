/* test_torture_http.c - integration: hostile HTTP input (over-long request lines, header floods, large bodies, bad encodings, slow clients, bad JSON) to a real idnoded; every case asserts the exact status and that a good GET still works. */
#include <arpa/inet.h>
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "tests/util/testutil.h"

/* Small limits keep it quick: 1 KiB bodies, 2 s to send a request. */
static tu_daemon_t D;
static const char *const OPTS[] = { "--demo", "--rate-limit=0", "--write-rate-limit=0",
				    "--http-max-body=1K", "--http-timeout=2", "--https-listen=",
				    NULL };

#define CLOSED_ONLY (-2)

static int setup(void **state)
{
	if (tu_daemon_start(&D, OPTS) != 0 || D.http_port == 0) {
		fprintf(stderr, "idnoded did not become ready with HTTP (log in %s)\n", D.dir);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	int st = tu_daemon_stop(&D);
	if (st == 0)
		tu_daemon_cleanup(&D);
	else
		fprintf(stderr, "idnoded exited with %d (log in %s)\n", st, D.dir);
	return st == 0 ? 0 : -1;
}

static int http_sock(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)D.http_port) };
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Everything the server sends until it closes (bounded: ms in all), NUL
 * terminated; the byte count, or -1 when it did not close in time. */
static long read_to_close(int fd, char *buf, size_t cap, int ms)
{
	size_t got = 0;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		long el = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (el >= ms || poll(&p, 1, (int)(ms - el)) != 1)
			break;
		ssize_t n = recv(fd, buf + got, cap - 1 - got, 0);
		if (n <= 0) {
			buf[got] = 0;
			return (long)got;
		}
		got += (size_t)n;
		if (got == cap - 1)
			got = 0; /* keep reading; only the close matters then */
	}
	buf[got] = 0;
	return -1;
}

static char resp[65536];

/* Send `req` (len bytes) on a new connection, asking for the close: the
 * status of the answer (CLOSED_ONLY when the server closed without one).
 * The body is left in resp. */
static int http_raw(const char *req, size_t len)
{
	int fd = http_sock();
	size_t off = 0;
	/* The server may answer and close before it read everything. */
	while (off < len) {
		ssize_t n = send(fd, req + off, len - off, MSG_NOSIGNAL);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	long n = read_to_close(fd, resp, sizeof(resp), 8000);
	close(fd);
	assert_true(n >= 0); /* closed, within the bound */
	int status = CLOSED_ONLY;
	if (n > 0)
		assert_int_equal(sscanf(resp, "HTTP/1.%*d %d", &status), 1);
	return status;
}

static int http_req(const char *method, const char *path, const char *ctype, const char *body)
{
	static char req[8192];
	int n = snprintf(req, sizeof(req),
			 "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s%s%s"
			 "Content-Length: %zu\r\n\r\n%s",
			 method, path, ctype ? "Content-Type: " : "", ctype ? ctype : "",
			 ctype ? "\r\n" : "", body ? strlen(body) : 0, body ? body : "");
	return http_raw(req, (size_t)n);
}

/* The JSON body of the last answer has this responseCode. */
static void expect_rc(long rc)
{
	char *b = strstr(resp, "\r\n\r\n");
	assert_non_null(b);
	json_error_t e;
	json_t *j = json_loads(b + 4, 0, &e);
	if (!j)
		fprintf(stderr, "not JSON (%s): %s\n", e.text, b + 4);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "responseCode")), rc);
	json_decref(j);
}

static void good_get(void)
{
	assert_true(tu_daemon_alive(&D));
	assert_int_equal(http_req("GET", "/api/handles/88.100.12/PN-0001?type=URL", NULL, NULL), 200);
	expect_rc(1);
}

static void test_request_line_over_limit(void **s)
{
	/* A 70 KB path: over the 64 KiB header limit before the line ends
	 * (evhttp answers 400, not 414, and closes). */
	static char req[80000];
	size_t n = (size_t)snprintf(req, sizeof(req), "GET /api/handles/88.100.12/");
	memset(req + n, 'A', 70000);
	n += 70000;
	n += (size_t)snprintf(req + n, sizeof(req) - n, " HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(http_raw(req, n), 400);
	/* A request line that is not one. */
	assert_int_equal(http_raw("GARBAGE\r\n\r\n", 11), 400);
	assert_int_equal(http_raw("GET /api/site HTTP/9.9\r\n\r\n", 26), 400);
	good_get();
}

static void test_header_flood(void **s)
{
	/* About 80 KB of headers. */
	static char req[90000];
	size_t n = (size_t)snprintf(req, sizeof(req), "GET /api/site HTTP/1.1\r\nHost: x\r\n");
	for (int i = 0; n < 80000; i++)
		n += (size_t)snprintf(req + n, sizeof(req) - n, "X-Flood-%05d: %080d\r\n", i, 0);
	n += (size_t)snprintf(req + n, sizeof(req) - n, "\r\n");
	assert_int_equal(http_raw(req, n), 400);
	/* A header line without a colon. */
	const char *bad = "GET /api/site HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n";
	assert_int_equal(http_raw(bad, strlen(bad)), 400);
	good_get();
}

static void test_body_over_limit(void **s)
{
	static char body[2048];
	memset(body, ' ', sizeof(body) - 1);
	body[0] = '[';
	body[sizeof(body) - 2] = ']';
	assert_int_equal(http_req("PUT", "/api/handles/88.100.12/BIG", "application/json", body), 413);
	/* Lengths that are no lengths: 400, then the close. (No body bytes
	 * follow: unread ones would turn the close into a reset that can
	 * discard the answer.) */
	const char *neg = "PUT /api/handles/88.100.12/X HTTP/1.1\r\nHost: x\r\n"
			  "Content-Type: application/json\r\nContent-Length: -1\r\n\r\n";
	assert_int_equal(http_raw(neg, strlen(neg)), 400);
	const char *huge = "PUT /api/handles/88.100.12/X HTTP/1.1\r\nHost: x\r\n"
			   "Content-Type: application/json\r\n"
			   "Content-Length: 99999999999999999999\r\n\r\n";
	/* A length that does not fit 64 bits: evhttp closes without an
	 * answer (as observed with libevent 2.1.12). */
	assert_int_equal(http_raw(huge, strlen(huge)), CLOSED_ONLY);
	good_get();
}

static void test_bad_encoding(void **s)
{
	const char *paths[] = { "/api/handles/88.100.12/PN%zz", "/api/handles/88.100.12/PN%4",
				"/api/handles/88.100.12/PN%", "/api/handles/88.100.12/PN%00X" };
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		assert_int_equal(http_req("GET", paths[i], NULL, NULL), 400);
		expect_rc(4);
	}
	/* Invalid UTF-8 in a handle: a lone continuation byte, an overlong
	 * "/", a surrogate, a truncated sequence. */
	const char *utf8[] = { "/api/handles/88.100.12/%80", "/api/handles/88.100.12%C0%AFx",
			       "/api/handles/88.100.12/%ED%A0%80", "/api/handles/88.100.12/%E4%B8" };
	for (size_t i = 0; i < sizeof(utf8) / sizeof(utf8[0]); i++) {
		assert_int_equal(http_req("GET", utf8[i], NULL, NULL), 400);
		expect_rc(102);
	}
	/* Bad %xx in the query string. */
	assert_int_equal(http_req("GET", "/api/handles/88.100.12/PN-0001?type=%zz", NULL, NULL),
			 400);
	good_get();
}

/* Seconds until the server closes fd after `first` was sent, one more
 * byte every gap_ms (0: none); -1 when still open after max_ms. */
static double closed_after(const char *first, int gap_ms, int max_ms)
{
	int fd = http_sock();
	assert_int_equal(send(fd, first, strlen(first), MSG_NOSIGNAL), (ssize_t)strlen(first));
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	double el = -1;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int step = gap_ms ? gap_ms : 100;
		if (poll(&p, 1, step) == 1 && read_to_close(fd, resp, sizeof(resp), 3000) >= 0) {
			clock_gettime(CLOCK_MONOTONIC, &t1);
			el = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 > max_ms)
			break;
		if (gap_ms && send(fd, "X", 1, MSG_NOSIGNAL) != 1)
			break;
	}
	close(fd);
	return el;
}

static void test_slow_header(void **s)
{
	/* Half a header, then silence: closed after http-timeout (2 s), with
	 * no answer owed. */
	double t = closed_after("GET /api/site HTTP/1.1\r\nHost: x\r\nX-Slow: ", 0, 6000);
	assert_true(t >= 1.5 && t < 4.5);
	/* Half a body too. */
	t = closed_after("PUT /api/handles/88.100.12/S HTTP/1.1\r\nHost: x\r\n"
			 "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{", 0,
			 6000);
	assert_true(t >= 1.5 && t < 4.5);
	/*
	 * Slowloris: a header trickling in one byte every 300 ms. evhttp's
	 * own timeout is reset by every byte, so only the head deadline
	 * (resolver/http_guard.c: http-timeout from the first byte to the
	 * blank line) closes it: about 2 s, checked as each byte arrives.
	 */
	t = closed_after("GET /api/site HTTP/1.1\r\nHost: x\r\nX-Slow: ", 300, 8000);
	assert_true(t >= 1.5 && t < 3.5);
	/* The same with nothing of the request line yet but its first byte. */
	t = closed_after("G", 300, 8000);
	assert_true(t >= 1.5 && t < 3.5);
	good_get();
}

static void test_bad_json(void **s)
{
	const char *path = "/api/handles/88.100.12/TORTURE";
	/* Malformed JSON, wrong content type, JSON of the wrong shape: 400
	 * with a JSON body, before any permission check. */
	assert_int_equal(http_req("PUT", path, "application/json", "{\"values\": [1, 2"), 400);
	expect_rc(4);
	assert_int_equal(http_req("PUT", path, "text/plain", "{\"values\": []}"), 400);
	expect_rc(4);
	assert_int_equal(http_req("PUT", path, NULL, "{\"values\": []}"), 400);
	expect_rc(4);
	assert_int_equal(http_req("PUT", path, "application/json", "\xff\xfe{}"), 400);
	expect_rc(4);
	good_get();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_line_over_limit),
		cmocka_unit_test(test_header_flood),
		cmocka_unit_test(test_body_over_limit),
		cmocka_unit_test(test_bad_encoding),
		cmocka_unit_test(test_slow_header),
		cmocka_unit_test(test_bad_json),
	};
	return cmocka_run_group_tests_name("integration/torture_http", tests, setup, teardown);
}
