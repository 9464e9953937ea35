/* test_query.c - query processing driven with captured requests, no sockets: our answers equal CNRI's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "proto/msg.h"
#include "proto/record.h"
#include "resolver/query.h"
#include "storage/store.h"
#include "tests/util/testutil.h"

typedef struct {
	char dir[64];
	idn_store_t *store;
	idn_reader_t *reader;
	idn_server_info_t info;
	uint8_t site[1024];
	idn_query_t q;
	uint8_t out[IDN_ENVELOPE_LEN + IDN_MAX_MESSAGE_LEN];
	size_t out_len;
} fixture_t;

/* Store the values of a captured success response under `handle`. */
static void store_from_response(idn_txn_t *t, const char *handle, const uint8_t *resp, size_t len,
				const uint8_t *extra, size_t extra_len)
{
	idn_msg_t m;
	assert_int_equal(idn_msg_decode(resp, len, &m), IDN_OK);
	idn_wire_t w;
	idn_wire_init_ro(&w, m.body.p, m.body.len);
	idn_wire_get_bstr(&w, IDN_MAX_BSTR);
	uint32_t n = idn_wire_get_u32(&w);
	assert_int_equal(w.err, IDN_OK);
	size_t vlen = idn_wire_avail(&w);
	uint8_t *vals = malloc(vlen + extra_len);
	memcpy(vals, w.pos, vlen);
	if (extra_len)
		memcpy(vals + vlen, extra, extra_len);
	idn_txn_put(t, (const uint8_t *)handle, strlen(handle), vals, vlen + extra_len,
		    n + (extra_len ? 1 : 0));
	free(vals);
}

static void store_capture(idn_txn_t *t, const char *file, const char *handle, int line,
			  const uint8_t *extra, size_t extra_len)
{
	tu_line_t *l;
	int n = tu_load_capture(file, &l);
	assert_true(n > line);
	store_from_response(t, handle, l[line].bytes, l[line].len, extra, extra_len);
	tu_lines_free(l, n);
}

static int setup(void **state)
{
	fixture_t *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/idn-test-query-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(idn_store_open(f->dir, NULL, &f->store), IDN_OK);

	idn_txn_t *t;
	assert_int_equal(idn_txn_begin(f->store, &t), IDN_OK);
	store_capture(t, "vectors/resolve-tcp-multi.hex", "TEST/vec-multi", 1, NULL, 0);
	/* 0.NA/TEST also holds a secret key without public read (perms 0x0c):
	 * anonymous answers must leave it out, as CNRI's did. */
	uint8_t sec[64];
	idn_wire_t sw;
	idn_wire_init(&sw, sec, sizeof(sec));
	idn_value_t v = { .index = 301, .timestamp = 1795433058, .ttl = 86400, .perms = 0x0c,
			  .type = { (const uint8_t *)"HS_SECKEY", 9 },
			  .data = { (const uint8_t *)"peer-secret", 11 } };
	idn_value_encode(&sw, &v);
	store_capture(t, "vectors/resolve-tcp-prefix.hex", "0.NA/TEST", 1, sec,
		      idn_wire_offset(&sw));
	store_capture(t, "vectors/resolve-tcp-large.hex", "TEST/vec-large", 1, NULL, 0);
	store_capture(t, "vectors/idis/01-resolve-ok.hex", "TEST/peer-1", 1, NULL, 0);
	idn_txn_home(t, (const uint8_t *)"0.NA/TEST", 9);
	assert_int_equal(idn_txn_commit(t), IDN_OK);

	/* The site record is the body of the captured site-info answer. */
	tu_line_t *l;
	int n = tu_load_capture("vectors/siteinfo-tcp.hex", &l);
	assert_int_equal(n, 2);
	idn_msg_t m;
	assert_int_equal(idn_msg_decode(l[1].bytes, l[1].len, &m), IDN_OK);
	memcpy(f->site, m.body.p, m.body.len);
	f->info.site = f->site;
	f->info.site_len = m.body.len;
	f->info.site_serial = 1;
	f->info.primary = true;
	tu_lines_free(l, n);

	assert_int_equal(idn_reader_new(f->store, &f->reader), IDN_OK);
	idn_query_init(&f->q, f->reader, &f->info, IDN_TR_TCP);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture_t *f = *state;
	idn_reader_free(f->reader);
	idn_store_close(f->store);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Run one request through consume/produce; returns the final state. */
static int run(fixture_t *f, int transport, const uint8_t *req, size_t len)
{
	f->q.transport = transport;
	/* Answer as of the request's own time, so ExpirationTime matches too. */
	f->q.now = len >= 40 && idn_get_be32(req + 36) > 43200 ? idn_get_be32(req + 36) - 43200 : 0;
	assert_int_equal(idn_reader_begin(f->reader), IDN_OK);
	int st = idn_query_consume(&f->q, req, len);
	f->out_len = 0;
	if (st == IDN_Q_PRODUCE) {
		idn_wire_t w;
		idn_wire_init(&w, f->out, sizeof(f->out));
		st = idn_query_produce(&f->q, &w);
		assert_int_equal(w.err, IDN_OK);
		f->out_len = idn_wire_offset(&w);
	}
	idn_reader_end(f->reader);
	return st;
}

/* Compare with the captured answer, ExpirationTime (bytes 36-39) masked. */
static void assert_same_answer(fixture_t *f, const uint8_t *want, size_t want_len)
{
	assert_int_equal(f->out_len, want_len);
	assert_memory_equal(f->out, want, 36);
	assert_memory_equal(f->out + 40, want + 40, want_len - 40);
}

/* Replay every request of a capture file and compare every answer. */
static void replay(void **state, const char *file, int transport)
{
	fixture_t *f = *state;
	tu_line_t *l;
	int n = tu_load_capture(file, &l);
	assert_true(n >= 2);
	for (int i = 0; i + 1 < n; i++) {
		if (l[i].dir != 'C' || l[i + 1].dir != 'S')
			continue;
		int st = run(f, transport, l[i].bytes, l[i].len);
		assert_int_equal(st, IDN_Q_DONE);
		assert_same_answer(f, l[i + 1].bytes, l[i + 1].len);
	}
	tu_lines_free(l, n);
}

static void test_resolve_multi(void **s) { replay(s, "vectors/resolve-tcp-multi.hex", IDN_TR_TCP); }
static void test_resolve_multi_udp(void **s) { replay(s, "vectors/resolve-udp-multi.hex", IDN_TR_UDP); }
static void test_type_filter(void **s) { replay(s, "vectors/resolve-tcp-type-filter.hex", IDN_TR_TCP); }
static void test_type_filter_udp(void **s) { replay(s, "vectors/resolve-udp-type-filter.hex", IDN_TR_UDP); }
static void test_index_filter(void **s) { replay(s, "vectors/resolve-tcp-index-filter.hex", IDN_TR_TCP); }
static void test_not_found(void **s) { replay(s, "vectors/resolve-tcp-not-found.hex", IDN_TR_TCP); }
static void test_not_found_udp(void **s) { replay(s, "vectors/resolve-udp-not-found.hex", IDN_TR_UDP); }
static void test_values_not_found(void **s) { replay(s, "vectors/resolve-tcp-values-not-found.hex", IDN_TR_TCP); }
static void test_prefix(void **s) { replay(s, "vectors/resolve-tcp-prefix.hex", IDN_TR_TCP); }
static void test_large(void **s) { replay(s, "vectors/resolve-tcp-large.hex", IDN_TR_TCP); }
static void test_site_info(void **s) { replay(s, "vectors/siteinfo-tcp.hex", IDN_TR_TCP); }
static void test_site_info_udp(void **s) { replay(s, "vectors/siteinfo-udp.hex", IDN_TR_UDP); }
static void test_idis_resolve(void **s) { replay(s, "vectors/idis/01-resolve-ok.hex", IDN_TR_TCP); }
static void test_idis_resolve_v3(void **s) { replay(s, "vectors/idis/04-resolve-v3-client.hex", IDN_TR_TCP); }

/* The IDIS default resolver asks for the bare prefix "TEST" with type HS_SITE;
 * the answer comes from 0.NA/TEST and echoes "TEST", as CNRI's did. (That
 * capture came from another CNRI instance with its own site key, so the
 * HS_SITE bytes differ; everything else is compared.) */
static void test_idis_bare_prefix(void **s)
{
	fixture_t *f = *s;
	tu_line_t *l;
	int n = tu_load_capture("vectors/idis/05-resolve-global-prefix-lookup.hex", &l);
	assert_int_equal(n, 2);
	assert_int_equal(run(f, IDN_TR_TCP, l[0].bytes, l[0].len), IDN_Q_DONE);
	idn_msg_t ours, theirs;
	assert_int_equal(idn_msg_decode(f->out, f->out_len, &ours), IDN_OK);
	assert_int_equal(idn_msg_decode(l[1].bytes, l[1].len, &theirs), IDN_OK);
	assert_memory_equal(f->out, l[1].bytes, 16);
	assert_int_equal(ours.hdr.rcode, theirs.hdr.rcode);
	assert_int_equal(ours.hdr.opflag, theirs.hdr.opflag);
	idn_wire_t a, b;
	idn_wire_init_ro(&a, ours.body.p, ours.body.len);
	idn_wire_init_ro(&b, theirs.body.p, theirs.body.len);
	idn_bytes_t ha = idn_wire_get_bstr(&a, 64), hb = idn_wire_get_bstr(&b, 64);
	assert_true(idn_bytes_eq_str(ha, "TEST") && idn_bytes_eq_str(hb, "TEST"));
	assert_int_equal(idn_wire_get_u32(&a), 1);
	assert_int_equal(idn_wire_get_u32(&b), 1);
	idn_value_t va, vb;
	assert_int_equal(idn_value_decode(&a, &va), IDN_OK);
	assert_int_equal(idn_value_decode(&b, &vb), IDN_OK);
	assert_int_equal(va.index, vb.index);
	assert_true(idn_bytes_eq_str(va.type, "HS_SITE"));
	tu_lines_free(l, n);
}

/* The resolution requests of an IDIS session (client-chosen session id
 * 10001, request ids going backwards) are answered with the id echoed. */
static void test_idis_session_id(void **s)
{
	fixture_t *f = *s;
	tu_line_t *l;
	int n = tu_load_capture("vectors/idis/m04-login-sm2-resolve-twice-mock.hex", &l);
	assert_true(n >= 10);
	for (int i = 6; i < 10; i += 2) {
		assert_int_equal(run(f, IDN_TR_TCP, l[i].bytes, l[i].len), IDN_Q_DONE);
		idn_msg_t m;
		assert_int_equal(idn_msg_decode(f->out, f->out_len, &m), IDN_OK);
		assert_int_equal(m.env.session_id, 10001);
		assert_int_equal(m.env.request_id, idn_get_be32(l[i].bytes + 8));
		/* 88.888.1 is not homed here. */
		assert_int_equal(m.hdr.rcode, IDN_RC_SERVER_NOT_RESP);
	}
	tu_lines_free(l, n);
}

static void test_admin_over_udp(void **s)
{
	fixture_t *f = *s;
	tu_line_t *l;
	int n = tu_load_capture("vectors/admin-over-udp.hex", &l);
	assert_int_equal(run(f, IDN_TR_UDP, l[0].bytes, l[0].len), IDN_Q_DONE);
	idn_msg_t m;
	assert_int_equal(idn_msg_decode(f->out, f->out_len, &m), IDN_OK);
	assert_int_equal(m.hdr.rcode, IDN_RC_PROTOCOL_ERROR);
	assert_int_equal(m.hdr.opcode, IDN_OC_CREATE_HANDLE);
	/* Unlike CNRI (RequestId -1) we echo the id so the client can match it. */
	assert_int_equal(m.env.request_id, idn_get_be32(l[0].bytes + 8));
	idn_bytes_t msg;
	assert_int_equal(idn_error_body_decode(m.body.p, m.body.len, &msg), IDN_OK);
	assert_true(idn_bytes_eq_str(msg, "Received admin request on non-admin interface"));
	tu_lines_free(l, n);
}

/* Build a resolution request for tests of our own. */
static size_t make_req(uint8_t *buf, size_t cap, const char *handle, uint32_t opflag,
		       uint32_t opcode)
{
	idn_envelope_t env = { .major = 2, .minor = 11, .sugg_major = 2, .sugg_minor = 11,
			       .request_id = 77 };
	idn_header_t hdr = { .opcode = opcode, .opflag = opflag, .site_serial = 0xffff,
			     .expiration = 1800000000 };
	idn_resolve_req_t r = { .handle = { (const uint8_t *)handle, (uint32_t)strlen(handle) } };
	idn_wire_t w;
	idn_wire_init(&w, buf, cap);
	size_t start = idn_msg_begin(&w, &env, &hdr);
	idn_resolve_req_encode(&w, &r);
	assert_int_equal(idn_msg_end(&w, start, true), IDN_OK);
	return idn_wire_offset(&w);
}

static uint32_t answer_rc(fixture_t *f, idn_msg_t *m)
{
	assert_int_equal(idn_msg_decode(f->out, f->out_len, m), IDN_OK);
	return m->hdr.rcode;
}

static void test_not_homed(void **s)
{
	fixture_t *f = *s;
	uint8_t req[256];
	idn_msg_t m;
	size_t n = make_req(req, sizeof(req), "99.999/x", 0x19000000, IDN_OC_RESOLUTION);
	assert_int_equal(run(f, IDN_TR_UDP, req, n), IDN_Q_DONE);
	assert_int_equal(answer_rc(f, &m), IDN_RC_SERVER_NOT_RESP);
	/* Derived prefixes of a homed prefix are ours: TEST.1/x is simply absent. */
	n = make_req(req, sizeof(req), "TEST.1/x", 0x19000000, IDN_OC_RESOLUTION);
	assert_int_equal(run(f, IDN_TR_UDP, req, n), IDN_Q_DONE);
	assert_int_equal(answer_rc(f, &m), IDN_RC_HANDLE_NOT_FOUND);
}

static void test_request_digest(void **s)
{
	fixture_t *f = *s;
	uint8_t req[256];
	idn_msg_t m;
	size_t n = make_req(req, sizeof(req), "TEST/VEC-MULTI", 0x19800000, IDN_OC_RESOLUTION);
	assert_int_equal(run(f, IDN_TR_TCP, req, n), IDN_Q_DONE);
	assert_int_equal(answer_rc(f, &m), IDN_RC_SUCCESS);
	assert_true(m.hdr.opflag & IDN_OF_RD);
	uint8_t alg;
	idn_bytes_t dg;
	size_t skip;
	assert_int_equal(idn_digest_decode(m.body.p, m.body.len, &alg, &dg, &skip), IDN_OK);
	assert_int_equal(alg, IDN_DIGEST_SHA256);
	assert_int_equal(dg.len, 32);
	assert_int_equal(skip, 33);
}

static void test_bad_input(void **s)
{
	fixture_t *f = *s;
	uint8_t req[256] = { 2, 11 };
	idn_msg_t m;
	/* Shorter than an envelope: nobody to answer. */
	assert_int_equal(run(f, IDN_TR_UDP, req, 10), IDN_Q_DROP);
	/* Unknown opcode: RC 5, the connection stays usable. */
	size_t n = make_req(req, sizeof(req), "TEST/x", 0x19000000, 4242);
	assert_int_equal(run(f, IDN_TR_TCP, req, n), IDN_Q_DONE);
	assert_int_equal(answer_rc(f, &m), IDN_RC_OPERATION_NOT_SUPPORTED);
	/* A body that claims more bytes than it has: RC 4. */
	n = make_req(req, sizeof(req), "TEST/x", 0x19000000, IDN_OC_RESOLUTION);
	idn_put_be32(req + 44, 1000); /* handle length */
	assert_int_equal(run(f, IDN_TR_UDP, req, n), IDN_Q_DONE);
	assert_int_equal(answer_rc(f, &m), IDN_RC_PROTOCOL_ERROR);
	/* Message length over the limit: RC 4, and on TCP the connection closes. */
	n = make_req(req, sizeof(req), "TEST/x", 0x19000000, IDN_OC_RESOLUTION);
	idn_put_be32(req + 16, IDN_MAX_MESSAGE_LEN + 1);
	assert_int_equal(run(f, IDN_TR_TCP, req, n), IDN_Q_CLOSE);
	assert_int_equal(answer_rc(f, &m), IDN_RC_PROTOCOL_ERROR);
	/* A response sent to the server is never answered. */
	n = make_req(req, sizeof(req), "TEST/x", 0x19000000, IDN_OC_RESOLUTION);
	idn_put_be32(req + 24, 1);
	assert_int_equal(run(f, IDN_TR_UDP, req, n), IDN_Q_DROP);
	/* Truncated header: RC 4 with the envelope's request id. */
	n = make_req(req, sizeof(req), "TEST/x", 0x19000000, IDN_OC_RESOLUTION);
	idn_put_be32(req + 16, 10);
	assert_int_equal(run(f, IDN_TR_UDP, req, 30), IDN_Q_DONE);
	assert_int_equal(idn_get_be32(f->out + 8), 77);
	assert_int_equal(idn_get_be32(f->out + 24), IDN_RC_PROTOCOL_ERROR);
	/* And a good query still works. */
	n = make_req(req, sizeof(req), "test/vec-multi", 0x19000000, IDN_OC_RESOLUTION);
	assert_int_equal(run(f, IDN_TR_UDP, req, n), IDN_Q_DONE);
	assert_int_equal(answer_rc(f, &m), IDN_RC_SUCCESS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve_multi),
		cmocka_unit_test(test_resolve_multi_udp),
		cmocka_unit_test(test_type_filter),
		cmocka_unit_test(test_type_filter_udp),
		cmocka_unit_test(test_index_filter),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_not_found_udp),
		cmocka_unit_test(test_values_not_found),
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_large),
		cmocka_unit_test(test_site_info),
		cmocka_unit_test(test_site_info_udp),
		cmocka_unit_test(test_idis_resolve),
		cmocka_unit_test(test_idis_resolve_v3),
		cmocka_unit_test(test_idis_bare_prefix),
		cmocka_unit_test(test_idis_session_id),
		cmocka_unit_test(test_admin_over_udp),
		cmocka_unit_test(test_not_homed),
		cmocka_unit_test(test_request_digest),
		cmocka_unit_test(test_bad_input),
	};
	return cmocka_run_group_tests_name("resolver/query", tests, setup, teardown);
}
