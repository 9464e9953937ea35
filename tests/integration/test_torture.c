/* test_torture.c - integration: hostile native-protocol input over UDP and TCP to a real idnoded; every case asserts the exact answer (or silence, or the close) and that good queries still work. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "proto/msg.h"
#include "tests/util/testutil.h"

/*
 * Short timeouts keep the suite quick: a silent TCP client is closed after
 * 2 s, one that trickles after 3 s (so the two can be told apart), an
 * incomplete UDP request is dropped after 1 s. The rate limit is off:
 * these tests send bursts from one address.
 */
static tu_daemon_t D;
static const char *const OPTS[] = { "--demo", "--rate-limit=0", "--write-rate-limit=0",
				    "--tcp-idle-timeout=2", "--tcp-slow-timeout=3",
				    "--udp-reassembly-timeout=1", "--http-listen=", "--https-listen=",
				    NULL };

#define GOOD "88.100.12/PN-0001"
#define NO_ANSWER (-1)
#define CLOSED 0

static int setup(void **state)
{
	if (tu_daemon_start(&D, OPTS) != 0) {
		fprintf(stderr, "idnoded did not become ready (log in %s)\n", D.dir);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	/* A clean exit: no sanitizer report, every buffer freed. */
	int st = tu_daemon_stop(&D);
	if (st == 0)
		tu_daemon_cleanup(&D);
	else
		fprintf(stderr, "idnoded exited with %d (log in %s)\n", st, D.dir);
	return st == 0 ? 0 : -1;
}

static int sock(int type)
{
	int fd = socket(AF_INET, type, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)D.port) };
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* A message with any opcode and body (an empty credential after it). */
static size_t make_msg(uint8_t *buf, size_t cap, uint32_t opcode, const uint8_t *body, size_t blen,
		       uint32_t rid)
{
	idn_envelope_t env = { 2, 10, 0, 2, 11, 0, rid, 0, 0 };
	idn_header_t hdr = { .opcode = opcode, .opflag = 0x19000000, .site_serial = 0xffff,
			     .expiration = (uint32_t)time(NULL) + 600 };
	idn_wire_t w;
	idn_wire_init(&w, buf, cap);
	size_t st = idn_msg_begin(&w, &env, &hdr);
	idn_wire_put_raw(&w, body, blen);
	assert_int_equal(idn_msg_end(&w, st, true), IDN_OK);
	return idn_wire_offset(&w);
}

static size_t make_resolve(uint8_t *buf, size_t cap, const char *handle, uint32_t rid)
{
	uint8_t body[300];
	idn_wire_t w;
	idn_wire_init(&w, body, sizeof(body));
	idn_resolve_req_t r = { .handle = { (const uint8_t *)handle, (uint32_t)strlen(handle) } };
	idn_resolve_req_encode(&w, &r);
	return make_msg(buf, cap, IDN_OC_RESOLUTION, body, idn_wire_offset(&w), rid);
}

/* Send one datagram, wait up to ms for one back: its length or NO_ANSWER. */
static long udp_ask(const void *req, size_t len, uint8_t *resp, size_t cap, int ms)
{
	int fd = sock(SOCK_DGRAM);
	assert_int_equal(send(fd, req, len, 0), (ssize_t)len);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	long n = NO_ANSWER;
	if (poll(&p, 1, ms) == 1)
		n = recv(fd, resp, cap, 0);
	close(fd);
	return n;
}

/* An answer is exactly: request id echoed, this opcode and this RC (and
 * this error text when given). */
static void check_answer(const uint8_t *resp, long n, uint32_t rid, uint32_t opcode, uint32_t rc,
			 const char *text)
{
	assert_true(n >= IDN_ENVELOPE_LEN + IDN_HEADER_LEN);
	idn_msg_t m;
	assert_int_equal(idn_msg_decode(resp, (size_t)n, &m), IDN_OK);
	assert_int_equal(m.env.request_id, rid);
	assert_int_equal(m.hdr.opcode, opcode);
	assert_int_equal(m.hdr.rcode, rc);
	if (text) {
		idn_bytes_t msg;
		assert_int_equal(idn_error_body_decode(m.body.p, m.body.len, &msg), IDN_OK);
		assert_int_equal(msg.len, strlen(text));
		assert_memory_equal(msg.p, text, msg.len);
	}
}

static void expect_udp(const void *req, size_t len, uint32_t rid, uint32_t opcode, uint32_t rc,
		       const char *text)
{
	uint8_t resp[600];
	long n = udp_ask(req, len, resp, sizeof(resp), 3000);
	check_answer(resp, n, rid, opcode, rc, text);
}

static void expect_udp_silence(const void *req, size_t len)
{
	uint8_t resp[600];
	assert_int_equal(udp_ask(req, len, resp, sizeof(resp), 300), NO_ANSWER);
}

/* Read one framed message (bounded wait): its length, CLOSED, or NO_ANSWER. */
static long tcp_read_msg(int fd, uint8_t *buf, size_t cap, int ms)
{
	size_t got = 0, want = IDN_ENVELOPE_LEN;
	while (got < want) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, ms) != 1)
			return NO_ANSWER;
		ssize_t n = recv(fd, buf + got, want - got, 0);
		if (n <= 0)
			return got ? NO_ANSWER : CLOSED;
		got += (size_t)n;
		if (got == IDN_ENVELOPE_LEN) {
			want += idn_get_be32(buf + 16);
			assert_true(want <= cap);
		}
	}
	return (long)got;
}

/* Over a new connection: the answer must be exactly this, then (when
 * `closes`) the server closes the connection. */
static void expect_tcp(const void *req, size_t len, uint32_t rid, uint32_t opcode, uint32_t rc,
		       const char *text, bool closes)
{
	int fd = sock(SOCK_STREAM);
	assert_int_equal(send(fd, req, len, MSG_NOSIGNAL), (ssize_t)len);
	static uint8_t resp[65536];
	long n = tcp_read_msg(fd, resp, sizeof(resp), 3000);
	check_answer(resp, n, rid, opcode, rc, text);
	if (closes)
		assert_int_equal(tcp_read_msg(fd, resp, sizeof(resp), 3000), CLOSED);
	close(fd);
}

/* After every case: the daemon runs and resolves over both transports. */
static void good_queries(void)
{
	assert_true(tu_daemon_alive(&D));
	uint8_t req[128];
	size_t n = make_resolve(req, sizeof(req), GOOD, 777);
	expect_udp(req, n, 777, IDN_OC_RESOLUTION, IDN_RC_SUCCESS, NULL);
	expect_tcp(req, n, 777, IDN_OC_RESOLUTION, IDN_RC_SUCCESS, NULL, false);
}

/* ---- UDP ---- */

static void test_udp_message_length(void **s)
{
	uint8_t req[128];
	size_t n = make_resolve(req, sizeof(req), GOOD, 101);
	uint32_t ml = (uint32_t)(n - IDN_ENVELOPE_LEN);
	const struct {
		uint32_t len;
		const char *text;
	} cases[] = {
		{ 0x80000000u, "Invalid message length" },  /* negative as a Java int */
		{ 0xffffffffu, "Invalid message length" },  /* -1 */
		{ IDN_MAX_MESSAGE_LEN + 1, "Invalid message length" },
		{ IDN_MAX_MESSAGE_LEN, "Malformed message" }, /* allowed, but not in the datagram */
		{ 0, "Malformed message" },
		{ ml - 1, "Malformed message" },             /* shorter than the datagram */
		{ ml + 1, "Malformed message" },             /* longer than the datagram */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		idn_put_be32(req + 16, cases[i].len);
		expect_udp(req, n, 101, IDN_OC_RESOLUTION, IDN_RC_PROTOCOL_ERROR, cases[i].text);
	}
	good_queries();
}

static void test_udp_truncated(void **s)
{
	uint8_t req[128];
	size_t n = make_resolve(req, sizeof(req), GOOD, 102);
	/* Less than an envelope: not a Handle message, no answer. */
	size_t shorts[] = { 0, 1, 10, 19 };
	for (size_t i = 0; i < sizeof(shorts) / sizeof(shorts[0]); i++)
		expect_udp_silence(req, shorts[i]);
	/* An envelope and part of a header, MessageLength matching: RC 4,
	 * with the opcode once its 4 bytes are there. */
	size_t parts[] = { 0, 3, 4, 12, 23 };
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		idn_put_be32(req + 16, (uint32_t)parts[i]);
		expect_udp(req, IDN_ENVELOPE_LEN + parts[i], 102,
			   parts[i] >= 4 ? IDN_OC_RESOLUTION : 0, IDN_RC_PROTOCOL_ERROR,
			   "Malformed message");
	}
	/* Not even an envelope of this protocol (major 71 = "GET "): silence. */
	expect_udp_silence("GET / HTTP/1.0\r\nHost: x\r\n\r\n", 27);
	(void)n;
	good_queries();
}

static void test_udp_body_length(void **s)
{
	uint8_t req[128];
	size_t n = make_resolve(req, sizeof(req), GOOD, 103);
	uint32_t bl = idn_get_be32(req + 40);
	const struct {
		uint32_t len;
		const char *text;
	} cases[] = {
		{ bl + 5, "Malformed message" },   /* past the credential length too */
		{ 5000, "Malformed message" },
		{ 0x7fffffffu, "Invalid message length" },
		{ 0xffffffffu, "Invalid message length" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		idn_put_be32(req + 40, cases[i].len);
		expect_udp(req, n, 103, IDN_OC_RESOLUTION, IDN_RC_PROTOCOL_ERROR, cases[i].text);
	}
	good_queries();
}

/* Resolution bodies whose counts claim more than they carry. */
static void test_udp_resolution_counts(void **s)
{
	const struct {
		uint8_t body[32];
		size_t len;
		const char *text;
	} cases[] = {
		/* handle "A/B", 5 indexes, none there */
		{ { 0, 0, 0, 3, 'A', '/', 'B', 0, 0, 0, 5 }, 11, "Malformed resolution request" },
		/* 1000 indexes: over the filter limit before anything else */
		{ { 0, 0, 0, 3, 'A', '/', 'B', 0, 0, 3, 0xe8 }, 11, "Request field over the limit" },
		/* no indexes, 2 types, one half there */
		{ { 0, 0, 0, 3, 'A', '/', 'B', 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 1, 'X' },
		  20, "Malformed resolution request" },
		/* a handle of 100 bytes in a 7-byte body */
		{ { 0, 0, 0, 100, 'A', '/', 'B' }, 7, "Malformed resolution request" },
		/* a handle of 2^31 bytes: over the handle limit */
		{ { 0x80, 0, 0, 0, 'A' }, 5, "Request field over the limit" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t req[128];
		size_t n = make_msg(req, sizeof(req), IDN_OC_RESOLUTION, cases[i].body, cases[i].len,
				    104);
		expect_udp(req, n, 104, IDN_OC_RESOLUTION, IDN_RC_PROTOCOL_ERROR, cases[i].text);
	}
	good_queries();
}

static void test_opcodes(void **s)
{
	uint8_t req[128];
	const uint8_t h[] = { 0, 0, 0, 3, 'A', '/', 'B' };
	size_t n = make_msg(req, sizeof(req), 999, h, sizeof(h), 105);
	expect_udp(req, n, 105, 999, IDN_RC_OPERATION_NOT_SUPPORTED,
		   "Operation not supported by this server");
	expect_tcp(req, n, 105, 999, IDN_RC_OPERATION_NOT_SUPPORTED, NULL, false);
	n = make_msg(req, sizeof(req), 0, h, sizeof(h), 106);
	expect_udp(req, n, 106, 0, IDN_RC_PROTOCOL_ERROR, "Invalid opcode 0");
	expect_tcp(req, n, 106, 0, IDN_RC_PROTOCOL_ERROR, "Invalid opcode 0", false);
	/* An admin opcode over UDP. */
	n = make_msg(req, sizeof(req), IDN_OC_DELETE_HANDLE, h, sizeof(h), 107);
	expect_udp(req, n, 107, IDN_OC_DELETE_HANDLE, IDN_RC_PROTOCOL_ERROR,
		   "Received admin request on non-admin interface");
	good_queries();
}

/* Versions other than 2.x: decodable requests are answered in the
 * negotiated version; undecodable ones only when they claim 2.x or 5.x. */
static void test_versions(void **s)
{
	const struct {
		uint8_t major, minor, sugg; /* sugg: byte 2's low bits */
		uint8_t ans_major, ans_minor;
	} cases[] = {
		{ 3, 0, 0, 2, 11 },   /* newer than ours: capped at 2.11 */
		{ 0, 0, 0, 0, 0 },    /* suggests nothing: taken at its own version */
		{ 5, 0, 0, 5, 0 },    /* an ancient client's 2.0 mislabelled as 5.0 */
		{ 5, 7, 0, 5, 7 },
		{ 2, 1, 0, 2, 1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t req[128], resp[600];
		size_t n = make_resolve(req, sizeof(req), GOOD, 108);
		req[0] = cases[i].major;
		req[1] = cases[i].minor;
		req[2] = cases[i].sugg;
		req[3] = 0;
		long got = udp_ask(req, n, resp, sizeof(resp), 3000);
		check_answer(resp, got, 108, IDN_OC_RESOLUTION, IDN_RC_SUCCESS, NULL);
		assert_int_equal(resp[0], cases[i].ans_major);
		assert_int_equal(resp[1], cases[i].ans_minor);
		/* The same with a lying MessageLength. */
		idn_put_be32(req + 16, 7);
		if (cases[i].major == 2 || cases[i].major == 5)
			expect_udp(req, n, 108, IDN_OC_RESOLUTION, IDN_RC_PROTOCOL_ERROR,
				   "Malformed message");
		else
			expect_udp_silence(req, n);
	}
	good_queries();
}

/* A request of n datagrams: part i with MessageId i (TC set, the same
 * envelope otherwise); `total` overrides MessageLength in part `bad`. */
static size_t multipacket(uint8_t pkt[][512], size_t *plen, uint32_t rid)
{
	idn_envelope_t env = { 2, 11, IDN_ENV_TC, 2, 11, 0, rid, 0, 0 };
	idn_header_t hdr = { .opcode = IDN_OC_RESOLUTION, .opflag = 0x19000000,
			     .site_serial = 0xffff, .expiration = (uint32_t)time(NULL) + 600 };
	idn_resolve_req_t r = { .handle = { (const uint8_t *)GOOD, (uint32_t)strlen(GOOD) } };
	static char types[60][24];
	r.n_type = 60;
	for (int i = 0; i < 60; i++) {
		snprintf(types[i], sizeof(types[i]), "NO.SUCH.TYPE.%02d", i);
		r.type[i] = (idn_bytes_t){ (const uint8_t *)types[i], (uint32_t)strlen(types[i]) };
	}
	r.type[59] = (idn_bytes_t){ (const uint8_t *)"URL", 3 };
	uint8_t msg[4096];
	idn_wire_t w;
	idn_wire_init(&w, msg, sizeof(msg));
	size_t st = idn_msg_begin(&w, &env, &hdr);
	idn_resolve_req_encode(&w, &r);
	assert_int_equal(idn_msg_end(&w, st, true), IDN_OK);
	size_t mlen = idn_wire_offset(&w) - IDN_ENVELOPE_LEN;
	msg[2] |= IDN_ENV_TC;
	size_t parts = (mlen + IDN_UDP_CHUNK - 1) / IDN_UDP_CHUNK;
	assert_int_equal(parts, 3);
	for (size_t i = 0; i < parts; i++) {
		size_t off = i * IDN_UDP_CHUNK;
		size_t n = mlen - off < IDN_UDP_CHUNK ? mlen - off : IDN_UDP_CHUNK;
		memcpy(pkt[i], msg, IDN_ENVELOPE_LEN);
		idn_put_be32(pkt[i] + 12, (uint32_t)i);
		memcpy(pkt[i] + IDN_ENVELOPE_LEN, msg + IDN_ENVELOPE_LEN + off, n);
		plen[i] = IDN_ENVELOPE_LEN + n;
	}
	return parts;
}

/* Send parts in `order` (-1 ends) on one socket; count the answers that
 * come within ms, checking each. */
static int send_parts(uint8_t pkt[][512], const size_t *plen, const int *order, uint32_t rid,
		      int ms)
{
	int fd = sock(SOCK_DGRAM);
	for (int i = 0; order[i] >= 0; i++)
		assert_int_equal(send(fd, pkt[order[i]], plen[order[i]], 0),
				 (ssize_t)plen[order[i]]);
	int answers = 0;
	uint8_t resp[600];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	while (poll(&p, 1, ms) == 1) {
		long n = recv(fd, resp, sizeof(resp), 0);
		check_answer(resp, n, rid, IDN_OC_RESOLUTION, IDN_RC_SUCCESS, NULL);
		answers++;
	}
	close(fd);
	return answers;
}

static void test_udp_multipacket(void **s)
{
	uint8_t pkt[3][512];
	size_t plen[3];
	/* In order, out of order, and with parts repeated: answered once. */
	multipacket(pkt, plen, 201);
	assert_int_equal(send_parts(pkt, plen, (const int[]){ 0, 1, 2, -1 }, 201, 500), 1);
	multipacket(pkt, plen, 202);
	assert_int_equal(send_parts(pkt, plen, (const int[]){ 2, 0, 1, -1 }, 202, 500), 1);
	multipacket(pkt, plen, 203);
	assert_int_equal(send_parts(pkt, plen, (const int[]){ 1, 1, 2, 0, 2, 0, -1 }, 203, 500), 1);

	/* A part missing: silence. After the reassembly timeout (1 s) the
	 * partial request is gone: the last part alone does not complete it. */
	multipacket(pkt, plen, 204);
	assert_int_equal(send_parts(pkt, plen, (const int[]){ 0, 2, -1 }, 204, 500), 0);
	good_queries();
	sleep(2);
	good_queries(); /* a read event runs the expiry */
	assert_int_equal(send_parts(pkt, plen, (const int[]){ 1, -1 }, 204, 500), 0);

	/* Parts that disagree on the total: the request is dropped. */
	multipacket(pkt, plen, 205);
	idn_put_be32(pkt[1] + 16, idn_get_be32(pkt[1] + 16) + 1);
	assert_int_equal(send_parts(pkt, plen, (const int[]){ 0, 1, 2, -1 }, 205, 500), 0);
	/* A MessageId past the parts, a short middle part, TC on a lone
	 * envelope, a total over max-request: dropped. */
	multipacket(pkt, plen, 206);
	idn_put_be32(pkt[2] + 12, 3);
	assert_int_equal(send_parts(pkt, plen, (const int[]){ 0, 1, 2, -1 }, 206, 500), 0);
	multipacket(pkt, plen, 207);
	plen[1] -= 1;
	assert_int_equal(send_parts(pkt, plen, (const int[]){ 0, 1, 2, -1 }, 207, 500), 0);
	multipacket(pkt, plen, 208);
	plen[0] = IDN_ENVELOPE_LEN;
	idn_put_be32(pkt[0] + 16, 0);
	assert_int_equal(send_parts(pkt, plen, (const int[]){ 0, -1 }, 208, 300), 0);
	multipacket(pkt, plen, 209);
	idn_put_be32(pkt[0] + 16, IDN_MAX_MESSAGE_LEN + 1);
	assert_int_equal(send_parts(pkt, plen, (const int[]){ 0, -1 }, 209, 300), 0);
	good_queries();
}

/* ---- TCP ---- */

/* Seconds until the server closes fd (reading and dropping what comes),
 * -1 when it does not within max_s. */
static double until_closed(int fd, int max_s, uint8_t *first, size_t cap, long *first_len)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	*first_len = NO_ANSWER;
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		double el = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		if (el > max_s)
			return -1;
		long n = tcp_read_msg(fd, first, cap, 200);
		if (n == CLOSED)
			return el;
		if (n > 0 && *first_len == NO_ANSWER)
			*first_len = n;
	}
}

static void test_tcp_silent(void **s)
{
	/* Connected and silent: closed after tcp-idle-timeout (2 s, the sweep
	 * runs once a second), with nothing sent. */
	int fd = sock(SOCK_STREAM);
	uint8_t resp[1024];
	long n;
	double t = until_closed(fd, 6, resp, sizeof(resp), &n);
	assert_true(t >= 1.0 && t < 4.5);
	assert_int_equal(n, NO_ANSWER);
	close(fd);
	good_queries();
}

static void test_tcp_trickle(void **s)
{
	uint8_t req[128], resp[1024];
	size_t len = make_resolve(req, sizeof(req), GOOD, 301);
	/* One byte a second keeps it from being idle, not from being slow:
	 * closed after tcp-slow-timeout (3 s) without an answer while its
	 * envelope is incomplete... */
	int fd = sock(SOCK_STREAM);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	long n = NO_ANSWER;
	for (size_t i = 0; i < 10; i++) {
		if (send(fd, req + i, 1, MSG_NOSIGNAL) != 1)
			break;
		n = tcp_read_msg(fd, resp, sizeof(resp), 1000);
		if (n != NO_ANSWER)
			break;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(n, CLOSED);
	long el = (long)(t1.tv_sec - t0.tv_sec);
	assert_true(el >= 2 && el <= 5);
	close(fd);

	/* ...and with RC 4 "Read timed out" once the envelope is in. */
	fd = sock(SOCK_STREAM);
	assert_int_equal(send(fd, req, IDN_ENVELOPE_LEN, MSG_NOSIGNAL), IDN_ENVELOPE_LEN);
	n = NO_ANSWER;
	for (size_t i = IDN_ENVELOPE_LEN; i < len && n == NO_ANSWER; i++) {
		if (send(fd, req + i, 1, MSG_NOSIGNAL) != 1)
			break;
		n = tcp_read_msg(fd, resp, sizeof(resp), 1000);
	}
	check_answer(resp, n, 301, 0, IDN_RC_PROTOCOL_ERROR, "Read timed out");
	assert_int_equal(tcp_read_msg(fd, resp, sizeof(resp), 3000), CLOSED);
	close(fd);
	good_queries();
}

static void test_tcp_over_limit(void **s)
{
	uint8_t req[128];
	size_t n = make_resolve(req, sizeof(req), GOOD, 302);
	uint32_t lens[] = { IDN_MAX_MESSAGE_LEN + 1, 0x80000000u, 0xffffffffu };
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		idn_put_be32(req + 16, lens[i]);
		expect_tcp(req, n, 302, 0, IDN_RC_PROTOCOL_ERROR, "Invalid message length", true);
	}
	/* One byte short of the real length: the next message's first byte
	 * is taken for the credential, so the rest cannot be framed. */
	uint8_t two[256];
	size_t a = make_resolve(two, sizeof(two), GOOD, 303);
	size_t b = make_resolve(two + a, sizeof(two) - a, GOOD, 304);
	idn_put_be32(two + 16, (uint32_t)(a - IDN_ENVELOPE_LEN - 1));
	expect_tcp(two, a + b, 303, IDN_OC_RESOLUTION, IDN_RC_PROTOCOL_ERROR, "Malformed message",
		   true);
	good_queries();
}

static void test_tcp_garbage(void **s)
{
	/* 0xff bytes: MessageLength -1. Zero bytes: MessageLength 0, no header. */
	uint8_t junk[100];
	memset(junk, 0xff, sizeof(junk));
	expect_tcp(junk, sizeof(junk), 0xffffffffu, 0, IDN_RC_PROTOCOL_ERROR,
		   "Invalid message length", true);
	memset(junk, 0, sizeof(junk));
	expect_tcp(junk, sizeof(junk), 0, 0, IDN_RC_PROTOCOL_ERROR, "Malformed message", true);
	/* An HTTP request on the native port: "GET " is major 71; bytes 16-19
	 * ("TP/1") are a length over the limit. */
	const char *http = "GET /api/site HTTP/1.1\r\nHost: x\r\n\r\n";
	expect_tcp(http, strlen(http), 0x2f736974u, 0, IDN_RC_PROTOCOL_ERROR,
		   "Invalid message length", true);
	good_queries();
}

/* A create whose value count claims more values than its body holds. */
static void test_tcp_create_counts(void **s)
{
	uint8_t body[64] = { 0, 0, 0, 11, '8', '8', '.', '1', '0', '0', '.', '1', '2', '/', 'Z' };
	size_t blen = 15;
	idn_put_be32(body + blen, 1000);
	blen += 4;
	uint8_t req[256];
	size_t n = make_msg(req, sizeof(req), IDN_OC_CREATE_HANDLE, body, blen, 305);
	expect_tcp(req, n, 305, IDN_OC_CREATE_HANDLE, IDN_RC_PROTOCOL_ERROR, NULL, false);
	/* 3 values claimed, one value's first bytes there. */
	idn_put_be32(body + 15, 3);
	memcpy(body + 19, "\0\0\0\1\0\0\0", 7);
	n = make_msg(req, sizeof(req), IDN_OC_CREATE_HANDLE, body, 26, 306);
	expect_tcp(req, n, 306, IDN_OC_CREATE_HANDLE, IDN_RC_PROTOCOL_ERROR, NULL, false);
	good_queries();
}

/* A client that sends its request and shuts down its side gets the answer,
 * then the close. */
static void test_tcp_half_close(void **s)
{
	uint8_t req[128], resp[2048];
	size_t n = make_resolve(req, sizeof(req), GOOD, 307);
	int fd = sock(SOCK_STREAM);
	assert_int_equal(send(fd, req, n, MSG_NOSIGNAL), (ssize_t)n);
	shutdown(fd, SHUT_WR);
	long got = tcp_read_msg(fd, resp, sizeof(resp), 3000);
	check_answer(resp, got, 307, IDN_OC_RESOLUTION, IDN_RC_SUCCESS, NULL);
	assert_int_equal(tcp_read_msg(fd, resp, sizeof(resp), 3000), CLOSED);
	close(fd);
	good_queries();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp_message_length),
		cmocka_unit_test(test_udp_truncated),
		cmocka_unit_test(test_udp_body_length),
		cmocka_unit_test(test_udp_resolution_counts),
		cmocka_unit_test(test_opcodes),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_udp_multipacket),
		cmocka_unit_test(test_tcp_silent),
		cmocka_unit_test(test_tcp_trickle),
		cmocka_unit_test(test_tcp_over_limit),
		cmocka_unit_test(test_tcp_garbage),
		cmocka_unit_test(test_tcp_create_counts),
		cmocka_unit_test(test_tcp_half_close),
	};
	return cmocka_run_group_tests_name("integration/torture", tests, setup, teardown);
}
