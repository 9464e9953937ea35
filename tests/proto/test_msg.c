/* test_msg.c - message codec against the digest's vectors V1, V2, V5, V10, V12, V13, and bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proto/crypto.h"
#include "proto/msg.h"
#include "proto/record.h"
#include "tests/util/testutil.h"

static const char V1[] =
	"020b020b000000000000123400000000000000330000000100000000190000000001"
	"00006553f100000000170000000b302e4e412f38382e31303000000000000000000000"
	"0000";
static const char V2_REQ[] =
	"020b020b000000000000123500000000000000320000000100000000190000000001"
	"00006553f100000000160000000a38382e3130302f616263000000000000000000000000";
static const char V2[] =
	"020b020b0000000000001235000000000000005d00000001000000019900000000010000"
	"655499c0000000410000000a38382e3130302f61626300000001000000016553f1000000"
	"0151800e0000000355524c00000012687474703a2f2f6578616d706c652e636f6d000000"
	"0000000000";
static const char V5[] =
	"020b020b0000000000001235000000000000002000000001000000649900000000010000"
	"655499c0000000040000000000000000";
static const char V10_REQ[] =
	"020b020b0000000000001236000000000000002a00000065000000001900000000010000"
	"6553f1000000000e0000000a38382e3130302f61626300000000";
static const char V10_CHAL[] =
	"020b020b0000000100001236000000000000005100000065000001929980000000010000"
	"655499c00000003503d82c37bd2e6f463020fefafa0d9f5e33f44ebcf84bc057212a93bd"
	"458f8377ab00000010000102030405060708090a0b0c0d0e0f00000000";
static const char V12[] =
	"020b020b00000001000012370000000000000055000000c8000000001900000000010000"
	"6553f100000000390000000948535f5345434b45590000000b302e4e412f38382e313030"
	"0000012c0000001502b2f92cba3bb9aae119bbc2a9a0296d29505319bb00000000";
static const char V13[] =
	"000000010000000019000000000100006553f100000000160000000a38382e3130302f61"
	"626300000000000000000000004d0000000000000000000000010000000648535f4d4143"
	"000000330000000b484d41432d53484132353600000020f5311b35cf8a123cfd213e6ba0"
	"106b413ba742c8644a2c36ecd9b4edf363a073";

static size_t hex(const char *h, uint8_t *out)
{
	long n = tu_hex(h, out, 4096);
	assert_true(n > 0);
	return (size_t)n;
}

static void test_v1_request(void **s)
{
	uint8_t b[256], enc[256];
	size_t n = hex(V1, b);
	idn_msg_t m;
	assert_int_equal(idn_msg_decode(b, n, &m), IDN_OK);
	assert_int_equal(m.env.major, 2);
	assert_int_equal(m.env.minor, 11);
	assert_int_equal(m.env.sugg_major, 2);
	assert_int_equal(m.env.sugg_minor, 11);
	assert_int_equal(m.env.request_id, 0x1234);
	assert_int_equal(m.env.message_len, 51);
	assert_int_equal(m.hdr.opcode, IDN_OC_RESOLUTION);
	assert_int_equal(m.hdr.opflag, 0x19000000);
	assert_int_equal(m.hdr.site_serial, 1);
	assert_int_equal(m.hdr.expiration, 1700000000);
	assert_true(m.has_cred);
	assert_int_equal(m.cred.len, 0);
	idn_resolve_req_t r;
	assert_int_equal(idn_resolve_req_decode(m.body.p, m.body.len, &r), IDN_OK);
	assert_true(idn_bytes_eq_str(r.handle, "0.NA/88.100"));
	assert_int_equal(r.n_index, 0);
	assert_int_equal(r.n_type, 0);
	assert_false(r.has_token);
	/* Re-encode byte for byte. */
	idn_wire_t w;
	idn_wire_init(&w, enc, sizeof(enc));
	size_t st = idn_msg_begin(&w, &m.env, &m.hdr);
	idn_resolve_req_encode(&w, &r);
	assert_int_equal(idn_msg_end(&w, st, true), IDN_OK);
	assert_int_equal(idn_wire_offset(&w), n);
	assert_memory_equal(enc, b, n);
	/* The digest's SHA-256 over Header+Body. */
	uint8_t d[64], want[32];
	size_t dl;
	assert_int_equal(idn_digest(IDN_DIGEST_SHA256, m.hb.p, m.hb.len, d, &dl), IDN_OK);
	hex("7cefbc5848642c28e223d66a34b2b6c6bfd57c9b13938883cd308e0965eda490", want);
	assert_memory_equal(d, want, 32);
}

static void test_v2_response(void **s)
{
	uint8_t b[256], enc[256];
	size_t n = hex(V2, b);
	idn_msg_t m;
	assert_int_equal(idn_msg_decode(b, n, &m), IDN_OK);
	assert_int_equal(m.hdr.rcode, IDN_RC_SUCCESS);
	assert_int_equal(m.hdr.opflag, 0x99000000);
	idn_wire_t in;
	idn_wire_init_ro(&in, m.body.p, m.body.len);
	assert_true(idn_bytes_eq_str(idn_wire_get_bstr(&in, 64), "88.100/abc"));
	assert_int_equal(idn_wire_get_u32(&in), 1);
	idn_value_t v;
	assert_int_equal(idn_value_decode(&in, &v), IDN_OK);
	assert_int_equal(idn_wire_avail(&in), 0);
	assert_true(idn_bytes_eq_str(v.data, "http://example.com"));
	/* Build the same response from parts. */
	idn_wire_t w;
	idn_wire_init(&w, enc, sizeof(enc));
	size_t st = idn_msg_begin(&w, &m.env, &m.hdr);
	idn_wire_put_str(&w, "88.100/abc");
	idn_wire_put_u32(&w, 1);
	idn_value_encode(&w, &v);
	assert_int_equal(idn_msg_end(&w, st, true), IDN_OK);
	assert_int_equal(idn_wire_offset(&w), n);
	assert_memory_equal(enc, b, n);
	/* The request it answers. */
	n = hex(V2_REQ, b);
	assert_int_equal(idn_msg_decode(b, n, &m), IDN_OK);
	assert_int_equal(m.env.request_id, 0x1235);
}

static void test_v5_error(void **s)
{
	uint8_t b[128], enc[128];
	size_t n = hex(V5, b);
	idn_msg_t m;
	assert_int_equal(idn_msg_decode(b, n, &m), IDN_OK);
	assert_int_equal(m.hdr.rcode, IDN_RC_HANDLE_NOT_FOUND);
	idn_bytes_t msg;
	assert_int_equal(idn_error_body_decode(m.body.p, m.body.len, &msg), IDN_OK);
	assert_int_equal(msg.len, 0);
	idn_wire_t w;
	idn_wire_init(&w, enc, sizeof(enc));
	size_t st = idn_msg_begin(&w, &m.env, &m.hdr);
	idn_error_body_encode(&w, "");
	assert_int_equal(idn_msg_end(&w, st, true), IDN_OK);
	assert_int_equal(idn_wire_offset(&w), n);
	assert_memory_equal(enc, b, n);
}

static void test_v10_challenge(void **s)
{
	uint8_t req[128], chal[256], enc[256];
	size_t rn = hex(V10_REQ, req), cn = hex(V10_CHAL, chal);
	idn_msg_t rm, cm;
	assert_int_equal(idn_msg_decode(req, rn, &rm), IDN_OK);
	assert_int_equal(rm.hdr.opcode, IDN_OC_DELETE_HANDLE);
	idn_bytes_t h;
	assert_int_equal(idn_handle_body_decode(rm.body.p, rm.body.len, &h), IDN_OK);
	assert_true(idn_bytes_eq_str(h, "88.100/abc"));
	assert_int_equal(idn_msg_decode(chal, cn, &cm), IDN_OK);
	assert_int_equal(cm.env.session_id, 1);
	assert_int_equal(cm.hdr.rcode, IDN_RC_AUTHENTICATION_NEEDED);
	uint8_t alg;
	idn_bytes_t dg;
	size_t skip;
	assert_int_equal(idn_digest_decode(cm.body.p, cm.body.len, &alg, &dg, &skip), IDN_OK);
	assert_int_equal(alg, IDN_DIGEST_SHA256);
	uint8_t d[64];
	size_t dl;
	assert_int_equal(idn_digest(IDN_DIGEST_SHA256, rm.hb.p, rm.hb.len, d, &dl), IDN_OK);
	assert_memory_equal(d, dg.p, 32);
	/* Rebuild the challenge. */
	idn_wire_t w;
	idn_wire_init(&w, enc, sizeof(enc));
	size_t st = idn_msg_begin(&w, &cm.env, &cm.hdr);
	idn_wire_put_u8(&w, IDN_DIGEST_SHA256);
	idn_wire_put_raw(&w, d, 32);
	uint8_t nonce[16];
	for (int i = 0; i < 16; i++)
		nonce[i] = (uint8_t)i;
	idn_wire_put_bstr(&w, nonce, 16);
	assert_int_equal(idn_msg_end(&w, st, true), IDN_OK);
	assert_int_equal(idn_wire_offset(&w), cn);
	assert_memory_equal(enc, chal, cn);
}

static void test_v12_answer(void **s)
{
	uint8_t b[256];
	size_t n = hex(V12, b);
	idn_msg_t m;
	assert_int_equal(idn_msg_decode(b, n, &m), IDN_OK);
	assert_int_equal(m.hdr.opcode, IDN_OC_RESPONSE_TO_CHALLENGE);
	idn_wire_t w;
	idn_wire_init_ro(&w, m.body.p, m.body.len);
	assert_true(idn_bytes_eq_str(idn_wire_get_bstr(&w, 64), "HS_SECKEY"));
	assert_true(idn_bytes_eq_str(idn_wire_get_bstr(&w, 64), "0.NA/88.100"));
	assert_int_equal(idn_wire_get_u32(&w), 300);
	idn_bytes_t ans = idn_wire_get_bstr(&w, 256);
	assert_int_equal(ans.len, 21);
	assert_int_equal(ans.p[0], 2);
	assert_int_equal(idn_wire_avail(&w), 0);
}

static void test_v13_credential(void **s)
{
	uint8_t b[256], full[300];
	size_t n = hex(V13, b);
	/* V13 is the message alone: give it its envelope. */
	idn_envelope_t env = { 2, 11, 0, 2, 11, 7, 0x1238, 0, (uint32_t)n };
	idn_wire_t w;
	idn_wire_init(&w, full, sizeof(full));
	idn_envelope_encode(&w, &env);
	idn_wire_put_raw(&w, b, n);
	idn_msg_t m;
	assert_int_equal(idn_msg_decode(full, idn_wire_offset(&w), &m), IDN_OK);
	assert_true(m.has_cred);
	assert_int_equal(m.cred.len, 77);
	idn_wire_t c;
	idn_wire_init_ro(&c, m.cred.p, m.cred.len);
	idn_wire_skip(&c, 4);
	assert_int_equal(idn_wire_get_bstr(&c, 64).len, 0);
	assert_int_equal(idn_wire_get_u32(&c), 1);
	assert_true(idn_bytes_eq_str(idn_wire_get_bstr(&c, 64), "HS_MAC"));
}

static void test_no_credential_field(void **s)
{
	/* The IDIS SDK's OC 2001 carries no CredentialLength at all. */
	tu_line_t *l;
	int n = tu_load_capture("vectors/idis/m02-login-rsa-create-mock.hex", &l);
	assert_true(n > 2);
	idn_msg_t m;
	assert_int_equal(idn_msg_decode(l[2].bytes, l[2].len, &m), IDN_OK);
	assert_int_equal(m.hdr.opcode, IDN_OC_LOGIN_ID_SYSTEM);
	assert_false(m.has_cred);
	assert_int_equal(m.env.session_id, 10001);
	tu_lines_free(l, n);
}

static void test_bad_messages(void **s)
{
	uint8_t b[256];
	size_t n = hex(V1, b);
	idn_msg_t m;
	/* Every truncation fails cleanly. */
	for (size_t k = 0; k < n; k++)
		assert_int_not_equal(idn_msg_decode(b, k, &m), IDN_OK);
	/* Trailing garbage after the message. */
	assert_int_equal(idn_msg_decode(b, n + 1, &m), IDN_EMALF);
	/* MessageLength over 262144, and "negative". */
	idn_put_be32(b + 16, IDN_MAX_MESSAGE_LEN + 1);
	assert_int_equal(idn_msg_decode(b, n, &m), IDN_ELIMIT);
	idn_put_be32(b + 16, 0xffffffff);
	assert_int_equal(idn_msg_decode(b, n, &m), IDN_ELIMIT);
	/* BodyLength longer than the message. */
	n = hex(V1, b);
	idn_put_be32(b + 40, 1000);
	assert_int_not_equal(idn_msg_decode(b, n, &m), IDN_OK);
	/* A credential length that overruns. */
	n = hex(V1, b);
	idn_put_be32(b + n - 4, 9);
	assert_int_not_equal(idn_msg_decode(b, n, &m), IDN_OK);
	/* Bodies: counts over the limit, lying lengths, trailing bytes. */
	n = hex(V1, b);
	idn_resolve_req_t r;
	const uint8_t *body = b + 44;
	size_t blen = 23;
	uint8_t tmp[64];
	memcpy(tmp, body, blen);
	idn_put_be32(tmp + 15, IDN_MAX_FILTER + 1);
	assert_int_equal(idn_resolve_req_decode(tmp, blen, &r), IDN_ELIMIT);
	memcpy(tmp, body, blen);
	idn_put_be32(tmp + 19, 3);
	assert_int_equal(idn_resolve_req_decode(tmp, blen, &r), IDN_EFEWDATA);
	memcpy(tmp, body, blen);
	tmp[blen] = 0;
	tmp[blen + 1] = 0;
	assert_int_equal(idn_resolve_req_decode(tmp, blen + 2, &r), IDN_EMALF);
	/* IDIS: one trailing (empty) token is accepted. */
	memset(tmp + blen, 0, 4);
	assert_int_equal(idn_resolve_req_decode(tmp, blen + 4, &r), IDN_OK);
	assert_true(r.has_token);
}

static void test_negotiation(void **s)
{
	uint8_t ma, mi;
	idn_envelope_t e = { .major = 2, .minor = 3, .sugg_major = 2, .sugg_minor = 11 };
	idn_msg_negotiate(&e, &ma, &mi);
	assert_int_equal(ma * 100 + mi, 211);
	e = (idn_envelope_t){ .major = 2, .minor = 10, .sugg_major = 2, .sugg_minor = 12 };
	idn_msg_negotiate(&e, &ma, &mi);
	assert_int_equal(ma * 100 + mi, 211);
	e = (idn_envelope_t){ .major = 2, .minor = 5 };
	idn_msg_negotiate(&e, &ma, &mi);
	assert_int_equal(ma * 100 + mi, 205);
	e = (idn_envelope_t){ .major = 5, .minor = 0 };
	idn_msg_negotiate(&e, &ma, &mi);
	assert_int_equal(ma * 100 + mi, 200);
	assert_true(idn_version_ge(2, 11, 2, 7));
	assert_false(idn_version_ge(2, 6, 2, 7));
	assert_false(idn_version_ge(5, 0, 2, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v1_request),    cmocka_unit_test(test_v2_response),
		cmocka_unit_test(test_v5_error),      cmocka_unit_test(test_v10_challenge),
		cmocka_unit_test(test_v12_answer),    cmocka_unit_test(test_v13_credential),
		cmocka_unit_test(test_no_credential_field), cmocka_unit_test(test_bad_messages),
		cmocka_unit_test(test_negotiation),
	};
	return cmocka_run_group_tests_name("proto/msg", tests, NULL, NULL);
}
