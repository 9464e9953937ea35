/* test_daemon.c - integration: a real idnoded on 127.0.0.1, resolved over UDP and TCP, fed bad input. */
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

#include "client/client.h"
#include "proto/msg.h"
#include "proto/record.h"
#include "tests/util/testutil.h"

static tu_daemon_t D;

static int setup(void **state)
{
	/* test_udp_large_answer wants multi-packet UDP answers of ~2.6 KB:
	 * over udp-max-answer's default (test_limits checks the cap). */
	const char *extra[] = { "--demo", "--udp-max-answer=262144", NULL };
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

/* Resolve and return the rcode; *nvals gets the value count on success. */
static uint32_t resolve(int transport, const char *handle, const idn_resolve_opts_t *o,
			uint32_t *nvals)
{
	idn_client_t *c;
	assert_int_equal(idn_client_open(D.server, transport, 3000, &c), IDN_OK);
	idn_msg_t m;
	assert_int_equal(idn_client_resolve(c, handle, o, &m), IDN_OK);
	uint32_t rc = m.hdr.rcode;
	if (rc == IDN_RC_SUCCESS && nvals) {
		idn_wire_t w;
		idn_wire_init_ro(&w, m.body.p, m.body.len);
		idn_wire_get_bstr(&w, IDN_MAX_BSTR);
		*nvals = idn_wire_get_u32(&w);
		assert_int_equal(w.err, IDN_OK);
	}
	idn_client_close(c);
	return rc;
}

static void test_resolve_both_transports(void **s)
{
	uint32_t n = 0;
	for (int tr = 0; tr < 2; tr++) {
		/* Index 50 has no public read: 5 of the 6 values come back. */
		assert_int_equal(resolve(tr, "88.100.12/PN-0001", NULL, &n), IDN_RC_SUCCESS);
		assert_int_equal(n, 5);
		assert_int_equal(resolve(tr, "88.100.12/pn-0001", NULL, &n), IDN_RC_SUCCESS);
		idn_resolve_opts_t o = { .types = { "PRODUCT." }, .n_types = 1 };
		assert_int_equal(resolve(tr, "88.100.12/PN-0001", &o, &n), IDN_RC_SUCCESS);
		assert_int_equal(n, 2);
		idn_resolve_opts_t oi = { .indexes = { 1, 100 }, .n_indexes = 2 };
		assert_int_equal(resolve(tr, "88.100.12/PN-0001", &oi, &n), IDN_RC_SUCCESS);
		assert_int_equal(n, 2);
		idn_resolve_opts_t ox = { .types = { "HS_ALIAS" }, .n_types = 1 };
		assert_int_equal(resolve(tr, "88.100.12/PN-0001", &ox, NULL), IDN_RC_VALUES_NOT_FOUND);
		assert_int_equal(resolve(tr, "88.100.12/NOPE", NULL, NULL), IDN_RC_HANDLE_NOT_FOUND);
		assert_int_equal(resolve(tr, "99.999/x", NULL, NULL), IDN_RC_SERVER_NOT_RESP);
		/* A bare prefix is its prefix handle. */
		assert_int_equal(resolve(tr, "88.100.12", NULL, &n), IDN_RC_SUCCESS);
		assert_int_equal(resolve(tr, "0.NA/88.100", NULL, &n), IDN_RC_SUCCESS);
	}
}

static void test_site_info(void **s)
{
	idn_client_t *c;
	assert_int_equal(idn_client_open(D.server, IDN_CLIENT_UDP, 3000, &c), IDN_OK);
	uint8_t req[128];
	idn_envelope_t env = { 2, 11, 0, 2, 11, 0, 4242, 0, 0 };
	idn_header_t hdr = { .opcode = IDN_OC_GET_SITE_INFO, .opflag = 0x19000000,
			     .site_serial = 0xffff, .expiration = (uint32_t)time(NULL) + 600 };
	idn_wire_t w;
	idn_wire_init(&w, req, sizeof(req));
	size_t st = idn_msg_begin(&w, &env, &hdr);
	idn_wire_put_str(&w, "/");
	assert_int_equal(idn_msg_end(&w, st, true), IDN_OK);
	const uint8_t *resp;
	size_t rlen;
	assert_int_equal(idn_client_send(c, req, idn_wire_offset(&w), &resp, &rlen), IDN_OK);
	idn_msg_t m;
	assert_int_equal(idn_msg_decode(resp, rlen, &m), IDN_OK);
	assert_int_equal(m.hdr.rcode, IDN_RC_SUCCESS);
	idn_site_t site;
	assert_int_equal(idn_site_decode(m.body.p, m.body.len, &site), IDN_OK);
	assert_int_equal(site.n_servers, 1);
	/* The first interface is TCP (the IDIS SDK connects there), on our port. */
	assert_int_equal(site.servers[0].ifs[0].protocol, IDN_PROTO_TCP);
	assert_int_equal(site.servers[0].ifs[0].port, D.port);
	assert_true(site.servers[0].pubkey.len > 200);
	idn_client_close(c);
}

static int udp_socket(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)D.port) };
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static int tcp_socket(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)D.port) };
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Read one framed message from a TCP socket (bounded wait); returns its length, 0 on close. */
static size_t tcp_read_msg(int fd, uint8_t *buf, size_t cap)
{
	size_t got = 0, want = IDN_ENVELOPE_LEN;
	while (got < want) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		assert_true(poll(&p, 1, 5000) == 1);
		ssize_t n = recv(fd, buf + got, want - got, 0);
		if (n == 0)
			return 0;
		assert_true(n > 0);
		got += (size_t)n;
		if (got == IDN_ENVELOPE_LEN) {
			want += idn_get_be32(buf + 16);
			assert_true(want <= cap);
		}
	}
	return got;
}

static size_t make_resolve(uint8_t *buf, size_t cap, const char *handle, uint32_t rid)
{
	idn_envelope_t env = { 2, 10, 0, 2, 11, 10001, rid, 0, 0 };
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

/* IDIS clients keep one connection and pipeline; answers come in order. */
static void test_tcp_persistent_pipelined(void **s)
{
	int fd = tcp_socket();
	uint8_t req[16][128], resp[4096];
	size_t total = 0;
	uint8_t all[16 * 128];
	for (int i = 0; i < 16; i++) {
		size_t n = make_resolve(req[i], sizeof(req[i]),
					i % 2 ? "88.100.12/PN-0002" : "88.100.12/missing",
					(uint32_t)(100 - i));
		memcpy(all + total, req[i], n);
		total += n;
	}
	assert_int_equal(send(fd, all, total, 0), (ssize_t)total);
	for (int i = 0; i < 16; i++) {
		size_t n = tcp_read_msg(fd, resp, sizeof(resp));
		assert_true(n > 0);
		assert_int_equal(idn_get_be32(resp + 8), 100 - i);  /* request id, in order */
		assert_int_equal(idn_get_be32(resp + 4), 10001);    /* session id echoed */
		assert_int_equal(idn_get_be32(resp + 24),
				 i % 2 ? IDN_RC_SUCCESS : IDN_RC_HANDLE_NOT_FOUND);
	}
	/* The connection is still open for more. */
	size_t n = make_resolve(req[0], sizeof(req[0]), "88.100.12/PN-0001", 7);
	assert_int_equal(send(fd, req[0], n, 0), (ssize_t)n);
	assert_true(tcp_read_msg(fd, resp, sizeof(resp)) > 0);
	assert_int_equal(idn_get_be32(resp + 24), IDN_RC_SUCCESS);
	close(fd);
}

static void test_tcp_bad_length(void **s)
{
	int fd = tcp_socket();
	uint8_t req[128], resp[1024];
	size_t n = make_resolve(req, sizeof(req), "88.100.12/PN-0001", 9);
	idn_put_be32(req + 16, 0x7fffffff);
	assert_int_equal(send(fd, req, n, 0), (ssize_t)n);
	size_t got = tcp_read_msg(fd, resp, sizeof(resp));
	assert_true(got > 0);
	assert_int_equal(idn_get_be32(resp + 24), IDN_RC_PROTOCOL_ERROR);
	assert_int_equal(idn_get_be32(resp + 8), 9);
	/* Then the server closes: the stream can no longer be framed. */
	assert_int_equal(tcp_read_msg(fd, resp, sizeof(resp)), 0);
	close(fd);
	uint32_t nv;
	assert_int_equal(resolve(IDN_CLIENT_TCP, "88.100.12/PN-0001", NULL, &nv), IDN_RC_SUCCESS);
}

static void test_udp_garbage(void **s)
{
	int fd = udp_socket();
	uint8_t junk[600];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 7 + 3);
	size_t sizes[] = { 1, 19, 20, 21, 44, 100, 512, 513, 600 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		send(fd, junk, sizes[i], 0);
	/* Valid envelope, lying body length. */
	uint8_t req[128];
	size_t n = make_resolve(req, sizeof(req), "88.100.12/PN-0001", 11);
	idn_put_be32(req + 40, 5000);
	send(fd, req, n, 0);
	uint8_t resp[600];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	assert_int_equal(poll(&p, 1, 3000), 1);
	ssize_t got = recv(fd, resp, sizeof(resp), 0);
	assert_true(got >= 44);
	assert_int_equal(idn_get_be32(resp + 8), 11);
	assert_int_equal(idn_get_be32(resp + 24), IDN_RC_PROTOCOL_ERROR);
	close(fd);
	uint32_t nv;
	assert_int_equal(resolve(IDN_CLIENT_UDP, "88.100.12/PN-0001", NULL, &nv), IDN_RC_SUCCESS);
}

/* A request over 492 bytes goes out in several datagrams with TC set; the
 * parts may arrive out of order and repeated. */
static void test_udp_multipacket_request(void **s)
{
	idn_envelope_t env = { 2, 11, IDN_ENV_TC, 2, 11, 0, 555, 0, 0 };
	idn_header_t hdr = { .opcode = IDN_OC_RESOLUTION, .opflag = 0x19000000,
			     .site_serial = 0xffff, .expiration = (uint32_t)time(NULL) + 600 };
	idn_resolve_req_t r = { .handle = { (const uint8_t *)"88.100.12/PN-0001", 17 } };
	char types[40][24];
	r.n_type = 40;
	for (int i = 0; i < 40; i++) {
		snprintf(types[i], sizeof(types[i]), "NO.SUCH.TYPE.%02d", i);
		r.type[i] = (idn_bytes_t){ (const uint8_t *)types[i], (uint32_t)strlen(types[i]) };
	}
	r.type[39] = (idn_bytes_t){ (const uint8_t *)"URL", 3 };
	uint8_t msg[2048];
	idn_wire_t w;
	idn_wire_init(&w, msg, sizeof(msg));
	size_t st = idn_msg_begin(&w, &env, &hdr);
	idn_resolve_req_encode(&w, &r);
	assert_int_equal(idn_msg_end(&w, st, true), IDN_OK);
	size_t mlen = idn_wire_offset(&w) - IDN_ENVELOPE_LEN;
	assert_true(mlen > IDN_UDP_CHUNK && mlen <= 2 * IDN_UDP_CHUNK);
	msg[2] |= IDN_ENV_TC;

	int fd = udp_socket();
	uint8_t pkt[2][512];
	size_t plen[2];
	for (uint32_t part = 0; part < 2; part++) {
		size_t off = part * IDN_UDP_CHUNK;
		size_t n = mlen - off < IDN_UDP_CHUNK ? mlen - off : IDN_UDP_CHUNK;
		memcpy(pkt[part], msg, IDN_ENVELOPE_LEN);
		idn_put_be32(pkt[part] + 12, part);
		memcpy(pkt[part] + IDN_ENVELOPE_LEN, msg + IDN_ENVELOPE_LEN + off, n);
		plen[part] = IDN_ENVELOPE_LEN + n;
	}
	send(fd, pkt[1], plen[1], 0);
	send(fd, pkt[1], plen[1], 0);
	send(fd, pkt[0], plen[0], 0);
	uint8_t resp[600];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	assert_int_equal(poll(&p, 1, 3000), 1);
	ssize_t got = recv(fd, resp, sizeof(resp), 0);
	assert_true(got > 44);
	assert_int_equal(idn_get_be32(resp + 8), 555);
	assert_int_equal(idn_get_be32(resp + 24), IDN_RC_SUCCESS);
	close(fd);
}

/* A handle whose answer needs several datagrams, loaded while the node runs. */
static void test_udp_large_answer(void **s)
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
	uint32_t n = 0;
	assert_int_equal(resolve(IDN_CLIENT_UDP, "88.100.12/LARGE", NULL, &n), IDN_RC_SUCCESS);
	assert_int_equal(n, 20);
	assert_int_equal(resolve(IDN_CLIENT_TCP, "88.100.12/LARGE", NULL, &n), IDN_RC_SUCCESS);
	assert_int_equal(n, 20);
}

static void test_cli_resolve(void **s)
{
	char cmd[512], out[8192], bin[256];
	tu_bin("idnode", bin, sizeof(bin));
	snprintf(cmd, sizeof(cmd), "%s resolve 88.100.12/PN-0001 --server %s", bin, D.server);
	assert_int_equal(tu_run(cmd, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "index=1 type=URL rwr- \"https://example.com/products/PN-0001\""));
	assert_null(strstr(out, "confidential"));
	snprintf(cmd, sizeof(cmd), "%s resolve 88.100.12/PN-0001 --tcp --type URL --json --server=%s",
		 bin, D.server);
	assert_int_equal(tu_run(cmd, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "\"responseCode\": 1"));
	assert_non_null(strstr(out, "https://example.com/products/PN-0001"));
	snprintf(cmd, sizeof(cmd), "%s resolve 88.100.12/NOPE --server %s 2>&1", bin, D.server);
	assert_int_equal(tu_run(cmd, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "handle not found (RC 100)"));
	snprintf(cmd, sizeof(cmd), "%s resolve --bogus 2>&1", bin);
	assert_int_equal(tu_run(cmd, out, sizeof(out)), 2);
}

static void test_config_errors(void **s)
{
	char path[256], cmd[1024], out[4096], bin[256];
	tu_bin("idnoded", bin, sizeof(bin));
	snprintf(path, sizeof(path), "%s/bad.conf", D.dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "# a config\nlisten = 127.0.0.1:2641\nworkers = many\n");
	fclose(f);
	snprintf(cmd, sizeof(cmd), "%s --config=%s --check-config 2>&1", bin, path);
	assert_int_equal(tu_run(cmd, out, sizeof(out)), 2);
	assert_non_null(strstr(out, "bad.conf:3: workers"));
	snprintf(cmd, sizeof(cmd), "%s --no-such-option=1 2>&1", bin);
	assert_int_equal(tu_run(cmd, out, sizeof(out)), 2);
	snprintf(cmd, sizeof(cmd), "%s --check-config --workers=3 --node-prefix=77.1 2>/dev/null", bin);
	assert_int_equal(tu_run(cmd, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "workers = 3"));
	assert_non_null(strstr(out, "node-prefix = \"77.1\""));
}

/* A client that sends its request and shuts down its side still gets the answer. */
static void test_tcp_half_close(void **s)
{
	int fd = tcp_socket();
	uint8_t req[128], resp[2048];
	size_t n = make_resolve(req, sizeof(req), "88.100.12/PN-0001", 21);
	assert_int_equal(send(fd, req, n, 0), (ssize_t)n);
	shutdown(fd, SHUT_WR);
	assert_true(tcp_read_msg(fd, resp, sizeof(resp)) > 0);
	assert_int_equal(idn_get_be32(resp + 24), IDN_RC_SUCCESS);
	assert_int_equal(tcp_read_msg(fd, resp, sizeof(resp)), 0);
	close(fd);
}

/* A connection that stays silent is closed after tcp-idle-timeout; one that
 * sent half a message too. */
static void test_tcp_idle_timeout(void **s)
{
	tu_daemon_t d2;
	const char *extra[] = { "--tcp-idle-timeout=1", NULL };
	assert_int_equal(tu_daemon_start(&d2, extra), 0);
	int fds[2];
	for (int i = 0; i < 2; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)d2.port) };
		inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
		assert_int_equal(connect(fds[i], (struct sockaddr *)&sa, sizeof(sa)), 0);
	}
	assert_int_equal(send(fds[1], "\x02\x0b\x02", 3, 0), 3);
	for (int i = 0; i < 2; i++) {
		struct pollfd p = { .fd = fds[i], .events = POLLIN };
		assert_int_equal(poll(&p, 1, 5000), 1); /* closed within a bounded time */
		char c;
		assert_int_equal(recv(fds[i], &c, 1, 0), 0);
		close(fds[i]);
	}
	assert_int_equal(tu_daemon_stop(&d2), 0);
	tu_daemon_cleanup(&d2);
}

/* Last: SIGTERM stops the node cleanly, and it starts again on its store. */
static void test_stop_restart(void **s)
{
	assert_int_equal(tu_daemon_stop(&D), 0);
	assert_int_equal(tu_daemon_restart(&D, NULL), 0);
	uint32_t n = 0;
	assert_int_equal(resolve(IDN_CLIENT_UDP, "88.100.12/PN-0001", NULL, &n), IDN_RC_SUCCESS);
	assert_int_equal(n, 5);
	assert_int_equal(tu_daemon_stop(&D), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve_both_transports),
		cmocka_unit_test(test_site_info),
		cmocka_unit_test(test_tcp_persistent_pipelined),
		cmocka_unit_test(test_tcp_bad_length),
		cmocka_unit_test(test_tcp_half_close),
		cmocka_unit_test(test_tcp_idle_timeout),
		cmocka_unit_test(test_udp_garbage),
		cmocka_unit_test(test_udp_multipacket_request),
		cmocka_unit_test(test_udp_large_answer),
		cmocka_unit_test(test_cli_resolve),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_stop_restart),
	};
	return cmocka_run_group_tests_name("integration/daemon", tests, setup, teardown);
}
