/* test_limits.c - integration: the abuse limits on a real idnoded (rates, the UDP answer cap, connections per address, slow clients, request size). */
#include <arpa/inet.h>
#include <fcntl.h>
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

/* Small limits so a test can cross them quickly; one worker so the
 * rates are those of one bucket. */
static tu_daemon_t D;

static int setup(void **state)
{
	const char *extra[] = { "--demo", "--workers=1", "--rate-limit=50", "--rate-burst=50",
				"--rate-limit-answers=3", "--tcp-max-per-address=4",
				"--tcp-slow-timeout=2", "--max-request=4096", NULL };
	if (tu_daemon_start(&D, extra) != 0) {
		fprintf(stderr, "idnoded did not become ready (log in %s)\n", D.dir);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	tu_daemon_cleanup(&D);
	return 0;
}

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A full bucket again (50/s, burst 50). */
static void refill(void)
{
	usleep(1200000);
}

static int sock(int type)
{
	int fd = socket(AF_INET, type, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)D.port) };
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static size_t make_resolve(uint8_t *buf, size_t cap, const char *handle, uint32_t rid)
{
	idn_envelope_t env = { 2, 10, 0, 2, 11, 0, rid, 0, 0 };
	idn_header_t hdr = { .opcode = IDN_OC_RESOLUTION, .opflag = 0x19000000,
			     .site_serial = 0xffff, .expiration = (uint32_t)time(NULL) + 600 };
	idn_resolve_req_t r = { .handle = { (const uint8_t *)handle, (uint32_t)strlen(handle) } };
	idn_wire_t w;
	idn_wire_init(&w, buf, cap);
	size_t st = idn_msg_begin(&w, &env, &hdr);
	idn_resolve_req_encode(&w, &r);
	assert_int_equal(idn_msg_end(&w, st, true), IDN_OK);
	return idn_wire_offset(&w);
}

/* One framed message (bounded wait); its length, 0 on close or reset. */
static size_t tcp_read_msg(int fd, uint8_t *buf, size_t cap, int timeout_ms)
{
	size_t got = 0, want = IDN_ENVELOPE_LEN;
	while (got < want) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, timeout_ms) != 1)
			return 0;
		ssize_t n = recv(fd, buf + got, want - got, 0);
		if (n <= 0)
			return 0;
		got += (size_t)n;
		if (got == IDN_ENVELOPE_LEN) {
			want += idn_get_be32(buf + 16);
			assert_true(want <= cap);
		}
	}
	return got;
}

static uint32_t rcode(const uint8_t *m)
{
	return idn_get_be32(m + IDN_ENVELOPE_LEN + 4);
}

/* One resolution on a TCP connection; its rcode (0: no answer). */
static uint32_t tcp_resolve(int fd, const char *handle, uint32_t rid)
{
	uint8_t req[256], resp[65536];
	size_t n = make_resolve(req, sizeof(req), handle, rid);
	if (send(fd, req, n, MSG_NOSIGNAL) != (ssize_t)n)
		return 0;
	return tcp_read_msg(fd, resp, sizeof(resp), 5000) ? rcode(resp) : 0;
}

/* A UDP flood from one socket: beyond the burst most are dropped, a few
 * get RC 603; after a second the bucket is full again. */
static void test_udp_flood(void **s)
{
	refill();
	int fd = sock(SOCK_DGRAM);
	uint8_t req[256], resp[2048];
	size_t n = make_resolve(req, sizeof(req), "88.100.12/NOPE", 1);
	for (int i = 0; i < 400; i++) {
		idn_put_be32(req + 8, (uint32_t)(1000 + i));
		assert_int_equal(send(fd, req, n, 0), (ssize_t)n);
	}
	int answered = 0, limited = 0, other = 0;
	double end = mono() + 1.0;
	while (mono() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 200) != 1)
			continue;
		ssize_t r = recv(fd, resp, sizeof(resp), 0);
		if (r < IDN_ENVELOPE_LEN + 8)
			continue;
		uint32_t rc = rcode(resp);
		if (rc == IDN_RC_HANDLE_NOT_FOUND)
			answered++;
		else if (rc == IDN_RC_REQUEST_LIMIT_DAILY)
			limited++;
		else
			other++;
	}
	/* The burst (50) and what refilled while the flood was read. */
	assert_true(answered >= 45 && answered <= 80);
	/* 3 a "second" (2^20 us): the flood lasts well under two. */
	assert_true(limited >= 1 && limited <= 9);
	assert_int_equal(other, 0);
	refill();
	idn_put_be32(req + 8, 77);
	assert_int_equal(send(fd, req, n, 0), (ssize_t)n);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	assert_int_equal(poll(&p, 1, 3000), 1);
	assert_true(recv(fd, resp, sizeof(resp), 0) > IDN_ENVELOPE_LEN + 8);
	assert_int_equal(rcode(resp), IDN_RC_HANDLE_NOT_FOUND);
	close(fd);
}

/* TCP over the rate: RC 603 for every request over it, in order, and the
 * connection stays usable; a second later it resolves again. */
static void test_tcp_rate(void **s)
{
	refill();
	int fd = sock(SOCK_STREAM);
	uint8_t req[256], resp[4096];
	enum { N = 90 };
	size_t n = make_resolve(req, sizeof(req), "88.100.12/NOPE", 1);
	for (int i = 0; i < N; i++) {
		idn_put_be32(req + 8, (uint32_t)(500 + i));
		assert_int_equal(send(fd, req, n, 0), (ssize_t)n);
	}
	int ok = 0, limited = 0;
	for (int i = 0; i < N; i++) {
		assert_true(tcp_read_msg(fd, resp, sizeof(resp), 5000) > 0);
		assert_int_equal(idn_get_be32(resp + 8), (uint32_t)(500 + i));
		uint32_t rc = rcode(resp);
		ok += rc == IDN_RC_HANDLE_NOT_FOUND;
		limited += rc == IDN_RC_REQUEST_LIMIT_DAILY;
	}
	assert_int_equal(ok + limited, N);
	assert_true(ok >= 50 && ok <= 70);
	assert_true(limited >= 20);
	refill();
	assert_int_equal(tcp_resolve(fd, "88.100.12/PN-0001", 9), IDN_RC_SUCCESS);
	close(fd);
}

/* An answer over udp-max-answer (1968 bytes) comes back over UDP as RC 2
 * "use TCP"; over TCP it is whole. */
static void test_udp_cap(void **s)
{
	char path[256], cmd[1024], out[4096], bin[256];
	snprintf(path, sizeof(path), "%s/large.jsonl", D.dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "{\"handle\":\"88.100.12/LARGE\",\"values\":[");
	for (int i = 1; i <= 20; i++)
		fprintf(f, "%s{\"index\":%d,\"type\":\"DESC\",\"data\":\"value-%02d:%090d\"}",
			i > 1 ? "," : "", i, i, 0);
	fprintf(f, "]}\n");
	fclose(f);
	snprintf(cmd, sizeof(cmd), "%s load --db %s/data %s 2>&1", tu_bin("idnode", bin, sizeof(bin)),
		 D.dir, path);
	assert_int_equal(tu_run(cmd, out, sizeof(out)), 0);
	refill();

	int fd = sock(SOCK_DGRAM);
	uint8_t req[256], resp[4096];
	size_t n = make_resolve(req, sizeof(req), "88.100.12/LARGE", 4321);
	assert_int_equal(send(fd, req, n, 0), (ssize_t)n);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	assert_int_equal(poll(&p, 1, 3000), 1);
	ssize_t r = recv(fd, resp, sizeof(resp), 0);
	assert_true(r > IDN_ENVELOPE_LEN + 8 && r <= IDN_UDP_PACKET_MAX);
	assert_int_equal(idn_get_be32(resp + 8), 4321);
	assert_int_equal(rcode(resp), IDN_RC_ERROR);
	assert_non_null(memmem(resp, (size_t)r, "use TCP", 7));
	/* Exactly one datagram: nothing else follows. */
	assert_int_equal(poll(&p, 1, 300), 0);
	close(fd);

	/* A small answer still goes over UDP. */
	fd = sock(SOCK_DGRAM);
	n = make_resolve(req, sizeof(req), "88.100.12/PN-0001", 4322);
	assert_int_equal(send(fd, req, n, 0), (ssize_t)n);
	assert_int_equal(poll(&(struct pollfd){ .fd = fd, .events = POLLIN }, 1, 3000), 1);
	assert_true(recv(fd, resp, sizeof(resp), 0) > 0);
	assert_int_equal(rcode(resp), IDN_RC_SUCCESS);
	close(fd);

	fd = sock(SOCK_STREAM);
	n = make_resolve(req, sizeof(req), "88.100.12/LARGE", 4323);
	assert_int_equal(send(fd, req, n, 0), (ssize_t)n);
	size_t got = tcp_read_msg(fd, resp, sizeof(resp), 5000);
	assert_true(got > 4 * IDN_UDP_CHUNK);
	assert_int_equal(rcode(resp), IDN_RC_SUCCESS);
	close(fd);
}

/* tcp-max-per-address=4: the fifth connection is closed at once, the four
 * go on; once one closes another is admitted. */
static void test_per_address(void **s)
{
	refill();
	int fds[4];
	for (int i = 0; i < 4; i++) {
		fds[i] = sock(SOCK_STREAM);
		assert_int_equal(tcp_resolve(fds[i], "88.100.12/PN-0001", (uint32_t)(10 + i)),
				 IDN_RC_SUCCESS);
	}
	int extra = sock(SOCK_STREAM);
	uint8_t buf[64];
	struct pollfd p = { .fd = extra, .events = POLLIN };
	assert_int_equal(poll(&p, 1, 3000), 1);
	assert_true(recv(extra, buf, sizeof(buf), 0) <= 0); /* closed (EOF or reset) */
	close(extra);
	for (int i = 0; i < 4; i++)
		assert_int_equal(tcp_resolve(fds[i], "88.100.12/PN-0001", (uint32_t)(20 + i)),
				 IDN_RC_SUCCESS);
	close(fds[0]);
	/* The close is seen by the server a little later: bounded retries. */
	bool admitted = false;
	for (int tries = 0; tries < 40 && !admitted; tries++) {
		usleep(50000);
		int fd = sock(SOCK_STREAM);
		admitted = tcp_resolve(fd, "88.100.12/PN-0001", 30) == IDN_RC_SUCCESS;
		if (admitted)
			fds[0] = fd;
		else
			close(fd);
	}
	assert_true(admitted);
	for (int i = 0; i < 4; i++)
		close(fds[i]);
}

/* One byte every 0.4 s never completes a request: closed after
 * tcp-slow-timeout (2 s) though never idle. With the envelope in and the
 * rest missing, RC 4 "Read timed out" comes first. */
static void test_slow_client(void **s)
{
	uint8_t req[256], resp[1024];
	size_t n = make_resolve(req, sizeof(req), "88.100.12/PN-0001", 55);
	int fd = sock(SOCK_STREAM);
	double start = mono();
	bool closed = false;
	for (size_t i = 0; i < n && !closed; i++) {
		if (send(fd, req + i, 1, MSG_NOSIGNAL) != 1)
			break;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 400) == 1)
			closed = recv(fd, resp, sizeof(resp), 0) <= 0;
	}
	assert_true(closed);
	double took = mono() - start;
	/* Seconds granularity: between tcp-slow-timeout - 1 and + 1 (sweep). */
	assert_true(took >= 0.9 && took < 6);
	close(fd);

	fd = sock(SOCK_STREAM);
	assert_int_equal(send(fd, req, IDN_ENVELOPE_LEN + 3, 0), IDN_ENVELOPE_LEN + 3);
	start = mono();
	size_t got = tcp_read_msg(fd, resp, sizeof(resp), 6000);
	assert_true(got > 0);
	assert_int_equal(idn_get_be32(resp + 8), 55);
	assert_int_equal(rcode(resp), IDN_RC_PROTOCOL_ERROR);
	assert_non_null(memmem(resp, got, "Read timed out", 14));
	assert_int_equal(tcp_read_msg(fd, resp, sizeof(resp), 3000), 0);
	assert_true(mono() - start < 6);
	close(fd);
}

/* max-request=4096: an envelope announcing more gets RC 4 and the close. */
static void test_max_request(void **s)
{
	refill();
	uint8_t req[256], resp[1024];
	size_t n = make_resolve(req, sizeof(req), "88.100.12/PN-0001", 66);
	int fd = sock(SOCK_STREAM);
	assert_int_equal(tcp_resolve(fd, "88.100.12/PN-0001", 65), IDN_RC_SUCCESS);
	idn_put_be32(req + 16, 5000);
	assert_int_equal(send(fd, req, n, 0), (ssize_t)n);
	assert_true(tcp_read_msg(fd, resp, sizeof(resp), 5000) > 0);
	assert_int_equal(idn_get_be32(resp + 8), 66);
	assert_int_equal(rcode(resp), IDN_RC_PROTOCOL_ERROR);
	assert_int_equal(tcp_read_msg(fd, resp, sizeof(resp), 3000), 0);
	close(fd);
	/* Other connections are not affected. */
	fd = sock(SOCK_STREAM);
	assert_int_equal(tcp_resolve(fd, "88.100.12/PN-0001", 67), IDN_RC_SUCCESS);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp_flood),
		cmocka_unit_test(test_tcp_rate),
		cmocka_unit_test(test_udp_cap),
		cmocka_unit_test(test_per_address),
		cmocka_unit_test(test_slow_client),
		cmocka_unit_test(test_max_request),
	};
	return cmocka_run_group_tests_name("integration/limits", tests, setup, teardown);
}
