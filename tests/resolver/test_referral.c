/* test_referral.c - RC 303 prefix referrals from the query step, byte for byte against CNRI's top (hop1 of top-level-peering.md). */
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

/* The messages of top-level-peering.md (header + body + credential). */
static const char HOP1_REQ[] =
	"000000010000000019000000FFFF00006B04DAD30000004D0000000E302E4E412F38382E3130302E3132"
	"00000000000000040000000748535F534954450000000948535F534954452E360000000748535F53455256"
	"0000000C48535F4E414D45535041434500000000";
static const char HOP1_RESP[] =
	"000000010000012F99000000000100006B04DAD3000001BE0000000000000001000000026B0431F00000"
	"0151800E0000000E48535F534954452E5052454649580000018E0001020B000180020000000000000001"
	"00000004646573630000001F70656572207374616E64616C6F6E65207369746520286C6F6F706261636B"
	"2900000001000000010000000000000000000000007F000001000001210000000B5253415F5055425F4B"
	"4559000000000003010001000001010092D0132D646DBC4C2BC1DB4D009FF5915ACC75B8452030313330"
	"A376208D559CAC3D2C2CA6DE44D709BC07FE3B32DCC8613F9196216D2546337E46773851FB700C67241E"
	"AAB168B88E90BAAE3837590E59260E954033D52CEE421F24837946641D15D614D61CF31E4D44A039884C"
	"E5F9E761C58983E22F11A58FEC500F31FF15D123C0DF7E13239064EB770CD3374CDE35340D40C674B29C"
	"B9F43187E2AB1CACF17E903D322C4C4AC1F7ECA950947DCB4D228128D312DD371A9ECA13FA0AECA0080D"
	"CEB88B1640CD10C12881C777299DA67B4B99485A5C6D3AB5242A657C3659D21057DDE835606B3CA3C5E8"
	"08F79405F581F7E6B00FF00948A920310046673D0000000000000003030100005C59020000005C590302"
	"00006DC40000000000000000";

typedef struct {
	char dir[64];
	idn_store_t *store;
	idn_reader_t *reader;
	idn_server_info_t info;
	idn_query_t q;
	uint8_t req[1024];
	size_t req_len;
	uint8_t out[8192];
	size_t out_len;
	uint8_t resp[1024];
	size_t resp_len;
} fixture_t;

static void put_value(idn_wire_t *w, uint32_t index, const char *type, const uint8_t *data,
		      size_t len, uint8_t perms, uint32_t ts)
{
	idn_value_t v = { .index = index, .timestamp = ts, .ttl = 86400, .perms = perms,
			  .type = { (const uint8_t *)type, (uint32_t)strlen(type) },
			  .data = { data, (uint32_t)len } };
	idn_value_encode(w, &v);
}

static int setup(void **state)
{
	fixture_t *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/idn-test-referral-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(idn_store_open(f->dir, NULL, &f->store), IDN_OK);

	/* The request with an envelope in front (2.11, request id 7). */
	uint8_t m[1024];
	long n = tu_hex(HOP1_REQ, m, sizeof(m));
	assert_true(n > 0);
	uint8_t env[20] = { 2, 11, 2, 11, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0 };
	idn_put_be32(env + 16, (uint32_t)n);
	memcpy(f->req, env, 20);
	memcpy(f->req + 20, m, (size_t)n);
	f->req_len = 20 + (size_t)n;
	n = tu_hex(HOP1_RESP, f->resp, sizeof(f->resp));
	assert_true(n > 0);
	f->resp_len = (size_t)n;

	/* 0.NA/88.100 at the top as CNRI's held it: HS_SITE (1), HS_SITE.PREFIX
	 * (2, the one referred to), HS_ADMIN (100) and a key without public read. */
	idn_msg_t r;
	uint8_t full[1024];
	memcpy(full, env, 20);
	idn_put_be32(full + 16, (uint32_t)f->resp_len);
	memcpy(full + 20, f->resp, f->resp_len);
	assert_int_equal(idn_msg_decode(full, 20 + f->resp_len, &r), IDN_OK);
	idn_wire_t in;
	idn_wire_init_ro(&in, r.body.p, r.body.len);
	idn_wire_get_bstr(&in, 64);
	assert_int_equal(idn_wire_get_u32(&in), 1);
	idn_value_t pv;
	assert_int_equal(idn_value_decode(&in, &pv), IDN_OK);

	uint8_t vals[4096];
	idn_wire_t w;
	idn_wire_init(&w, vals, sizeof(vals));
	put_value(&w, 1, "HS_SITE", pv.data.p, pv.data.len, 0x0e, 0x6B0431E7);
	idn_value_encode(&w, &pv);
	static const uint8_t adm[] = { 0x0f, 0xff, 0, 0, 0, 11, '0', '.', 'N', 'A', '/', '8', '8',
				       '.', '1', '0', '0', 0, 0, 1, 0x2c };
	put_value(&w, 100, "HS_ADMIN", adm, sizeof(adm), 0x0e, 0x6B0431E7);
	put_value(&w, 301, "HS_SITE.PREFIX", (const uint8_t *)"private", 7, 0x0c, 0x6B0431E7);
	assert_int_equal(w.err, IDN_OK);

	idn_txn_t *t;
	assert_int_equal(idn_txn_begin(f->store, &t), IDN_OK);
	idn_txn_put(t, (const uint8_t *)"0.NA/88.100", 11, vals, idn_wire_offset(&w), 4);
	/* 0.NA/77 is stored without referral values: no referral from it. */
	idn_wire_init(&w, vals, sizeof(vals));
	put_value(&w, 1, "URL", (const uint8_t *)"x", 1, 0x0e, 1);
	idn_txn_put(t, (const uint8_t *)"0.NA/77", 7, vals, idn_wire_offset(&w), 1);
	idn_txn_home(t, (const uint8_t *)"0.NA/0.NA", 9);
	assert_int_equal(idn_txn_commit(t), IDN_OK);

	f->info.site_serial = 1;
	f->info.primary = true;
	assert_int_equal(idn_reader_new(f->store, &f->reader), IDN_OK);
	idn_query_init(&f->q, f->reader, &f->info, IDN_TR_UDP);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture_t *f = *state;
	idn_reader_free(f->reader);
	idn_store_close(f->store);
	tu_rmrf(f->dir);
	free(f);
	return 0;
}

static void run(fixture_t *f, const uint8_t *req, size_t len)
{
	f->q.now = idn_get_be32(req + 36) - 43200;
	assert_int_equal(idn_reader_begin(f->reader), IDN_OK);
	assert_int_equal(idn_query_consume(&f->q, req, len), IDN_Q_PRODUCE);
	idn_wire_t w;
	idn_wire_init(&w, f->out, sizeof(f->out));
	assert_int_equal(idn_query_produce(&f->q, &w), IDN_Q_DONE);
	assert_int_equal(w.err, IDN_OK);
	f->out_len = idn_wire_offset(&w);
	idn_reader_end(f->reader);
}

/* Same handle request with another name and flags. */
static size_t other_request(const fixture_t *f, const char *handle, uint32_t flags, uint8_t *buf)
{
	idn_wire_t w;
	idn_wire_init(&w, buf, 1024);
	idn_envelope_t env = { .major = 2, .minor = 11, .sugg_major = 2, .sugg_minor = 11,
			       .request_id = 9 };
	idn_header_t h = { .opcode = IDN_OC_RESOLUTION, .opflag = flags, .site_serial = 0xffff,
			   .expiration = 0x6B04DAD3 };
	size_t start = idn_msg_begin(&w, &env, &h);
	idn_resolve_req_t r = { .handle = { (const uint8_t *)handle, (uint32_t)strlen(handle) } };
	idn_resolve_req_encode(&w, &r);
	idn_msg_end(&w, start, true);
	assert_int_equal(w.err, IDN_OK);
	return idn_wire_offset(&w);
}

static void test_hop1_bytes(void **s)
{
	fixture_t *f = *s;
	run(f, f->req, f->req_len);
	/* Header + body + credential as CNRI's top sent them. */
	assert_int_equal(f->out_len, 20 + f->resp_len);
	assert_memory_equal(f->out + 20, f->resp, f->resp_len);
	assert_int_equal(idn_get_be32(f->out + 8), 7);
	assert_int_equal(f->q.stats.referrals, 1);
}

static void test_dnrf_not_found(void **s)
{
	fixture_t *f = *s;
	uint8_t req[1024];
	size_t n = other_request(f, "0.NA/88.100.12", 0x19000000u | IDN_OF_DNRF, req);
	run(f, req, n);
	assert_int_equal(idn_get_be32(f->out + 24), IDN_RC_HANDLE_NOT_FOUND);
}

static void test_deeper_and_stored(void **s)
{
	fixture_t *f = *s;
	uint8_t req[1024];
	/* Two levels below the ancestor: still referred, longest stored ancestor. */
	size_t n = other_request(f, "0.NA/88.100.12.5", 0x19000000u, req);
	run(f, req, n);
	assert_int_equal(idn_get_be32(f->out + 24), IDN_RC_PREFIX_REFERRAL);
	/* The ancestor itself is present: answered from the store. */
	n = other_request(f, "0.NA/88.100", 0x19000000u, req);
	run(f, req, n);
	assert_int_equal(idn_get_be32(f->out + 24), IDN_RC_SUCCESS);
	/* An ancestor without referral values, or none at all: 100. */
	n = other_request(f, "0.NA/77.1", 0x19000000u, req);
	run(f, req, n);
	assert_int_equal(idn_get_be32(f->out + 24), IDN_RC_HANDLE_NOT_FOUND);
	n = other_request(f, "0.NA/99.1", 0x19000000u, req);
	run(f, req, n);
	assert_int_equal(idn_get_be32(f->out + 24), IDN_RC_HANDLE_NOT_FOUND);
	/* A plain handle under a foreign prefix is not referred: 301. */
	n = other_request(f, "88.100.12/DEMO-1", 0x19000000u, req);
	run(f, req, n);
	assert_int_equal(idn_get_be32(f->out + 24), IDN_RC_SERVER_NOT_RESP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hop1_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dnrf_not_found, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deeper_and_stored, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
