/* test_msg.c - message codec: docs vectors V1, V2, V5, V10, V12, V13 decoded and re-encoded exactly; limits; bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
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

/* The prefetch hint finds the handle of a resolution request (the digest's
 * vector), and nothing in anything else, cut short or not. */
static void test_peek_resolve_handle(void **s)
{
	uint8_t b[256];
	size_t n = hex(V1, b);
	idn_bytes_t h;
	assert_true(idn_msg_peek_resolve_handle(b, n, &h));
	assert_true(idn_bytes_eq_str(h, "0.NA/88.100"));
	assert_true(h.p >= b && h.p + h.len <= b + n);
	for (size_t cut = 0; cut < IDN_MSG_BODY_OFF + 4 + 11; cut++)
		assert_false(idn_msg_peek_resolve_handle(b, cut, &h));
	b[IDN_ENVELOPE_LEN + 3] = 100; /* opcode: create */
	assert_false(idn_msg_peek_resolve_handle(b, n, &h));
	b[IDN_ENVELOPE_LEN + 3] = 1;
	b[IDN_ENVELOPE_LEN + 7] = 1; /* a response, not a request */
	assert_false(idn_msg_peek_resolve_handle(b, n, &h));
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
	uint8_t b[256], enc[256];
	size_t n = hex(V12, b);
	idn_msg_t m;
	assert_int_equal(idn_msg_decode(b, n, &m), IDN_OK);
	assert_int_equal(m.hdr.opcode, IDN_OC_RESPONSE_TO_CHALLENGE);
	assert_int_equal(m.env.session_id, 1);
	assert_int_equal(m.env.request_id, 0x1237);
	assert_int_equal(m.hdr.opflag, 0x19000000);
	idn_wire_t w;
	idn_wire_init_ro(&w, m.body.p, m.body.len);
	idn_bytes_t type = idn_wire_get_bstr(&w, 64);
	idn_bytes_t key = idn_wire_get_bstr(&w, 64);
	assert_true(idn_bytes_eq_str(type, "HS_SECKEY"));
	assert_true(idn_bytes_eq_str(key, "0.NA/88.100"));
	assert_int_equal(idn_wire_get_u32(&w), 300);
	idn_bytes_t ans = idn_wire_get_bstr(&w, 256);
	assert_int_equal(ans.len, 21);
	assert_int_equal(ans.p[0], 2);
	assert_int_equal(idn_wire_avail(&w), 0);
	/* The V11 SHA-1 answer: SHA-1(K || nonce || digest || K), K = "secret". */
	uint8_t req[128], d[IDN_DIGEST_MAX], dreq[IDN_DIGEST_MAX];
	size_t rn = hex(V10_REQ, req), dl;
	idn_msg_t rm;
	assert_int_equal(idn_msg_decode(req, rn, &rm), IDN_OK);
	assert_int_equal(idn_digest(IDN_DIGEST_SHA256, rm.hb.p, rm.hb.len, dreq, &dl), IDN_OK);
	uint8_t nonce[16];
	for (int i = 0; i < 16; i++)
		nonce[i] = (uint8_t)i;
	idn_piece_t p[4] = { { "secret", 6 }, { nonce, 16 }, { dreq, 32 }, { "secret", 6 } };
	assert_int_equal(idn_digestv(IDN_DIGEST_SHA1, p, 4, d, &dl), IDN_OK);
	assert_int_equal(dl, 20);
	assert_memory_equal(d, ans.p + 1, 20);
	/* Re-encoded byte for byte. */
	idn_wire_t o;
	idn_wire_init(&o, enc, sizeof(enc));
	size_t st = idn_msg_begin(&o, &m.env, &m.hdr);
	idn_wire_put_bstr(&o, type.p, type.len);
	idn_wire_put_bstr(&o, key.p, key.len);
	idn_wire_put_u32(&o, 300);
	idn_wire_put_bstr(&o, ans.p, ans.len);
	assert_int_equal(idn_msg_end(&o, st, true), IDN_OK);
	assert_int_equal(idn_wire_offset(&o), n);
	assert_memory_equal(enc, b, n);
}

static void test_v13_credential(void **s)
{
	uint8_t b[256], full[300];
	size_t n = hex(V13, b);
	/* V13 is the message alone, as a TCP reader has it after the envelope. */
	idn_envelope_t env = { 2, 11, 0, 2, 11, 7, 0x1238, 0, (uint32_t)n };
	idn_msg_t m;
	assert_int_equal(idn_msg_decode_message(&env, b, n, &m), IDN_OK);
	assert_int_equal(m.env.session_id, 7);
	assert_int_equal(m.hdr.body_len, 22);
	assert_int_equal(m.hb.len, 46);
	assert_ptr_equal(m.hb.p, b);
	assert_true(m.has_cred);
	assert_int_equal(m.cred.len, 77);
	idn_wire_t c;
	idn_wire_init_ro(&c, m.cred.p, m.cred.len);
	assert_int_equal(idn_wire_get_u8(&c), 0);   /* version */
	assert_int_equal(idn_wire_get_u8(&c), 0);   /* reserved */
	assert_int_equal(idn_wire_get_u16(&c), 0);  /* options */
	assert_int_equal(idn_wire_get_bstr(&c, 64).len, 0);
	assert_int_equal(idn_wire_get_u32(&c), 1);  /* session counter */
	assert_true(idn_bytes_eq_str(idn_wire_get_bstr(&c, 64), "HS_MAC"));
	assert_int_equal(idn_wire_get_u32(&c), 51);
	assert_true(idn_bytes_eq_str(idn_wire_get_bstr(&c, 64), "HMAC-SHA256"));
	idn_bytes_t mac = idn_wire_get_bstr(&c, 64);
	assert_int_equal(mac.len, 32);
	assert_int_equal(idn_wire_avail(&c), 0);
	assert_int_equal(c.err, IDN_OK);
	/* With its envelope, through idn_msg_decode. */
	idn_wire_t w;
	idn_wire_init(&w, full, sizeof(full));
	idn_envelope_encode(&w, &env);
	idn_wire_put_raw(&w, b, n);
	idn_msg_t m2;
	assert_int_equal(idn_msg_decode(full, idn_wire_offset(&w), &m2), IDN_OK);
	assert_int_equal(m2.cred.len, 77);
	assert_memory_equal(m2.cred.p, m.cred.p, 77);
	/* Rebuilt: header + body through begin/end, then the credential and
	 * MessageLength patched by hand (signing code will do the same). */
	uint8_t enc[300];
	idn_wire_t o;
	idn_wire_init(&o, enc, sizeof(enc));
	size_t st = idn_msg_begin(&o, &env, &m.hdr);
	idn_wire_put_raw(&o, m.body.p, m.body.len);
	assert_int_equal(idn_msg_end(&o, st, false), IDN_OK);
	idn_wire_put_bstr(&o, m.cred.p, m.cred.len);
	idn_wire_patch_u32(&o, st + 16, (uint32_t)(idn_wire_offset(&o) - st - IDN_ENVELOPE_LEN));
	assert_int_equal(o.err, IDN_OK);
	assert_int_equal(idn_wire_offset(&o), idn_wire_offset(&w));
	assert_memory_equal(enc, full, idn_wire_offset(&w));
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

/* A message of `body_len` body bytes followed by `tail` bytes (V1's header). */
static size_t build(uint8_t *b, size_t cap, const uint8_t *body, uint32_t body_len,
		    const uint8_t *tail, size_t tail_len)
{
	idn_wire_t w;
	idn_wire_init(&w, b, cap);
	idn_envelope_t env = { .major = 2, .minor = 11, .sugg_major = 2, .sugg_minor = 11,
			       .request_id = 9 };
	idn_header_t hdr = { .opcode = IDN_OC_RESOLUTION, .opflag = 0x19000000 };
	size_t st = idn_msg_begin(&w, &env, &hdr);
	idn_wire_put_raw(&w, body, body_len);
	idn_wire_put_raw(&w, tail, tail_len);
	/* Patch by hand: the tail is not part of the body. */
	idn_wire_patch_u32(&w, st + IDN_MSG_BODY_OFF - 4, body_len);
	idn_wire_patch_u32(&w, st + 16, (uint32_t)(idn_wire_offset(&w) - IDN_ENVELOPE_LEN));
	assert_int_equal(w.err, IDN_OK);
	return idn_wire_offset(&w);
}

static void test_credential_section(void **s)
{
	uint8_t b[256];
	const uint8_t body[] = { 0, 0, 0, 1, '/' };
	const uint8_t zero4[] = { 0, 0, 0, 0 }, cred5[] = { 0, 0, 0, 5, 1, 2, 3, 4 };
	const uint8_t cred_extra[] = { 0, 0, 0, 1, 7, 0 };
	const uint8_t cred_huge[] = { 0x7f, 0xff, 0xff, 0xff };
	idn_msg_t m;
	/* No CredentialLength at all (IDIS OC 2001): accepted, has_cred false. */
	size_t n = build(b, sizeof(b), body, 5, NULL, 0);
	assert_int_equal(idn_msg_decode(b, n, &m), IDN_OK);
	assert_false(m.has_cred);
	assert_int_equal(m.cred.len, 0);
	/* 1-3 stray bytes after the body. */
	for (size_t k = 1; k < 4; k++) {
		n = build(b, sizeof(b), body, 5, zero4, k);
		assert_int_equal(idn_msg_decode(b, n, &m), IDN_EMALF);
	}
	/* An empty credential. */
	n = build(b, sizeof(b), body, 5, zero4, 4);
	assert_int_equal(idn_msg_decode(b, n, &m), IDN_OK);
	assert_true(m.has_cred);
	assert_int_equal(m.cred.len, 0);
	/* A credential that claims more than there is. */
	n = build(b, sizeof(b), body, 5, cred5, sizeof(cred5));
	assert_int_equal(idn_msg_decode(b, n, &m), IDN_EMALF);
	/* Bytes after the credential. */
	n = build(b, sizeof(b), body, 5, cred_extra, sizeof(cred_extra));
	assert_int_equal(idn_msg_decode(b, n, &m), IDN_EMALF);
	n = build(b, sizeof(b), body, 5, cred_extra, 5);
	assert_int_equal(idn_msg_decode(b, n, &m), IDN_OK);
	assert_int_equal(m.cred.len, 1);
	assert_int_equal(m.cred.p[0], 7);
	/* A credential length over any message. */
	n = build(b, sizeof(b), body, 5, cred_huge, 4);
	assert_int_equal(idn_msg_decode(b, n, &m), IDN_ELIMIT);
	/* The body itself: zero length is fine. */
	n = build(b, sizeof(b), NULL, 0, zero4, 4);
	assert_int_equal(idn_msg_decode(b, n, &m), IDN_OK);
	assert_int_equal(m.body.len, 0);
	assert_int_equal(m.hb.len, IDN_HEADER_LEN);
}

static void test_envelope(void **s)
{
	uint8_t b[64];
	idn_envelope_t e;
	/* Byte 2: flags in the high bits, suggested major in the low 2. */
	const uint8_t env[] = { 2, 3, 0xe2, 11, 0, 0, 0, 5, 0, 0, 0, 6, 0, 0, 0, 7, 0, 0, 0, 24 };
	assert_int_equal(idn_envelope_decode(env, sizeof(env), &e), IDN_OK);
	assert_int_equal(e.major, 2);
	assert_int_equal(e.minor, 3);
	assert_int_equal(e.flags, IDN_ENV_CP | IDN_ENV_EC | IDN_ENV_TC);
	assert_int_equal(e.sugg_major, 2);
	assert_int_equal(e.sugg_minor, 11);
	assert_int_equal(e.session_id, 5);
	assert_int_equal(e.request_id, 6);
	assert_int_equal(e.message_id, 7);
	assert_int_equal(e.message_len, 24);
	idn_wire_t w;
	idn_wire_init(&w, b, sizeof(b));
	idn_envelope_encode(&w, &e);
	assert_int_equal(idn_wire_offset(&w), IDN_ENVELOPE_LEN);
	assert_memory_equal(b, env, sizeof(env));
	/* Only TC; the unused bits 0x1c are dropped. */
	memcpy(b, env, sizeof(env));
	b[2] = 0x20 | 0x1c | 0x01;
	assert_int_equal(idn_envelope_decode(b, sizeof(env), &e), IDN_OK);
	assert_int_equal(e.flags, IDN_ENV_TC);
	assert_int_equal(e.sugg_major, 1);
	/* Encoding masks what does not fit. */
	e.flags = 0xff;
	e.sugg_major = 0xff;
	idn_wire_init(&w, b, sizeof(b));
	idn_envelope_encode(&w, &e);
	assert_int_equal(b[2], 0xe3);
	/* Short, and the MessageLength limits. */
	assert_int_equal(idn_envelope_decode(env, 19, &e), IDN_EFEWDATA);
	assert_int_equal(idn_envelope_decode(NULL, 0, &e), IDN_EFEWDATA);
	memcpy(b, env, sizeof(env));
	idn_put_be32(b + 16, IDN_MAX_MESSAGE_LEN);
	assert_int_equal(idn_envelope_decode(b, 20, &e), IDN_OK);
	idn_put_be32(b + 16, IDN_MAX_MESSAGE_LEN + 1);
	assert_int_equal(idn_envelope_decode(b, 20, &e), IDN_ELIMIT);
	idn_put_be32(b + 16, 0x80000000u);
	assert_int_equal(idn_envelope_decode(b, 20, &e), IDN_ELIMIT);
	/* Too small to hold a header. */
	idn_put_be32(b + 16, 23);
	memset(b + 20, 0, 23);
	idn_msg_t m;
	assert_int_equal(idn_msg_decode(b, 43, &m), IDN_EFEWDATA);
}

static void test_body_length(void **s)
{
	uint8_t b[256];
	size_t n = hex(V1, b);
	idn_msg_t m;
	/* BodyLength past the message: short of data, or over any message. */
	idn_put_be32(b + 40, 28);
	assert_int_equal(idn_msg_decode(b, n, &m), IDN_EFEWDATA);
	idn_put_be32(b + 40, 0xffffffff);
	assert_int_equal(idn_msg_decode(b, n, &m), IDN_ELIMIT);
	/* BodyLength that eats the credential: then no credential is left. */
	idn_put_be32(b + 40, 27);
	assert_int_equal(idn_msg_decode(b, n, &m), IDN_OK);
	assert_false(m.has_cred);
	/* idn_msg_decode_message checks only what it is given. */
	n = hex(V1, b);
	idn_envelope_t env;
	assert_int_equal(idn_envelope_decode(b, n, &env), IDN_OK);
	assert_int_equal(idn_msg_decode_message(&env, b + 20, n - 20, &m), IDN_OK);
	assert_int_equal(idn_msg_decode_message(&env, b + 20, 23, &m), IDN_EFEWDATA);
	assert_int_equal(idn_msg_decode_message(&env, b + 20, 0, &m), IDN_EFEWDATA);
}

static void test_resolve_req(void **s)
{
	uint8_t body[8192], enc[8192];
	idn_resolve_req_t r = { .handle = { (const uint8_t *)"88.100/abc", 10 } }, d;
	r.n_index = 2;
	r.index[0] = 1;
	r.index[1] = 0xffffffff;
	r.n_type = 3;
	r.type[0] = (idn_bytes_t){ (const uint8_t *)"URL", 3 };
	r.type[1] = (idn_bytes_t){ (const uint8_t *)"HS_SITE.", 8 };
	r.type[2] = (idn_bytes_t){ (const uint8_t *)"", 0 };
	idn_wire_t w;
	idn_wire_init(&w, body, sizeof(body));
	idn_resolve_req_encode(&w, &r);
	size_t n = idn_wire_offset(&w);
	assert_int_equal(n, 14 + 4 + 8 + 4 + 7 + 12 + 4);
	assert_int_equal(idn_resolve_req_decode(body, n, &d), IDN_OK);
	assert_int_equal(d.n_index, 2);
	assert_int_equal(d.index[1], 0xffffffff);
	assert_int_equal(d.n_type, 3);
	assert_true(idn_bytes_eq_str(d.type[1], "HS_SITE."));
	assert_int_equal(d.type[2].len, 0);
	assert_false(d.has_token);
	/* IDIS: a token after the type list, encoded back the same. */
	r.has_token = true;
	r.token = (idn_bytes_t){ (const uint8_t *)"jwt", 3 };
	idn_wire_init(&w, body, sizeof(body));
	idn_resolve_req_encode(&w, &r);
	n = idn_wire_offset(&w);
	assert_int_equal(idn_resolve_req_decode(body, n, &d), IDN_OK);
	assert_true(d.has_token);
	assert_true(idn_bytes_eq_str(d.token, "jwt"));
	idn_wire_init(&w, enc, sizeof(enc));
	idn_resolve_req_encode(&w, &d);
	assert_int_equal(idn_wire_offset(&w), n);
	assert_memory_equal(enc, body, n);
	/* Anything after the token, or a stub of one. */
	body[n] = 0;
	assert_int_equal(idn_resolve_req_decode(body, n + 1, &d), IDN_EMALF);
	assert_int_equal(idn_resolve_req_decode(body, n - 1, &d), IDN_EMALF);
	assert_int_equal(idn_resolve_req_decode(body, n - 5, &d), IDN_EMALF);
	/* A token over the ByteString limit. */
	size_t tok = n - 7;
	idn_put_be32(body + tok, IDN_MAX_BSTR + 1);
	assert_int_equal(idn_resolve_req_decode(body, n, &d), IDN_ELIMIT);
	/* Every truncation of the mandatory part fails. */
	for (size_t k = 0; k < 14 + 4 + 8 + 4 + 7 + 12 + 4; k++)
		assert_int_not_equal(idn_resolve_req_decode(body, k, &d), IDN_OK);
}

static void test_resolve_req_limits(void **s)
{
	static uint8_t body[4 + IDN_MAX_HANDLE_LEN + 1 + 8 + 4 * (IDN_MAX_FILTER + 1) + 64];
	idn_resolve_req_t d;
	idn_wire_t w;
	/* A handle of exactly IDN_MAX_HANDLE_LEN bytes, and one over. */
	for (int over = 0; over < 2; over++) {
		idn_wire_init(&w, body, sizeof(body));
		idn_wire_put_u32(&w, IDN_MAX_HANDLE_LEN + over);
		for (int i = 0; i < IDN_MAX_HANDLE_LEN + over; i++)
			idn_wire_put_u8(&w, 'a');
		idn_wire_put_u32(&w, 0);
		idn_wire_put_u32(&w, 0);
		assert_int_equal(idn_resolve_req_decode(body, idn_wire_offset(&w), &d),
				 over ? IDN_ELIMIT : IDN_OK);
	}
	/* IDN_MAX_FILTER indexes, then one more, then a "negative" count. */
	static const uint32_t counts[] = { IDN_MAX_FILTER, IDN_MAX_FILTER + 1, 0xffffffff };
	for (int k = 0; k < 3; k++) {
		idn_wire_init(&w, body, sizeof(body));
		idn_wire_put_str(&w, "a/b");
		idn_wire_put_u32(&w, counts[k]);
		for (uint32_t i = 0; i < IDN_MAX_FILTER + 1; i++)
			idn_wire_put_u32(&w, i);
		size_t len = k == 0 ? 7 + 4 + 4 * IDN_MAX_FILTER : idn_wire_offset(&w);
		if (k == 0)
			idn_put_be32(body + len, 0); /* type count */
		assert_int_equal(idn_resolve_req_decode(body, k == 0 ? len + 4 : len, &d),
				 k == 0 ? IDN_OK : IDN_ELIMIT);
		if (k == 0)
			assert_int_equal(d.index[IDN_MAX_FILTER - 1], IDN_MAX_FILTER - 1);
		/* The same for the type list. */
		idn_wire_init(&w, body, sizeof(body));
		idn_wire_put_str(&w, "a/b");
		idn_wire_put_u32(&w, 0);
		idn_wire_put_u32(&w, counts[k]);
		for (uint32_t i = 0; i < IDN_MAX_FILTER + 1; i++)
			idn_wire_put_str(&w, "");
		len = k == 0 ? 7 + 8 + 4 * IDN_MAX_FILTER : idn_wire_offset(&w);
		assert_int_equal(idn_resolve_req_decode(body, len, &d),
				 k == 0 ? IDN_OK : IDN_ELIMIT);
	}
}

static void test_handle_body(void **s)
{
	const uint8_t ok[] = { 0, 0, 0, 1, '/', 0 };
	idn_bytes_t h;
	assert_int_equal(idn_handle_body_decode(ok, 5, &h), IDN_OK);
	assert_true(idn_bytes_eq_str(h, "/"));
	assert_int_equal(idn_handle_body_decode(ok, 6, &h), IDN_EMALF);
	assert_int_equal(idn_handle_body_decode(ok, 4, &h), IDN_EFEWDATA);
	assert_int_equal(idn_handle_body_decode(ok, 0, &h), IDN_EFEWDATA);
	const uint8_t big[] = { 0, 0, 0x08, 0x01 };
	assert_int_equal(idn_handle_body_decode(big, 4, &h), IDN_ELIMIT);
}

static void test_error_body(void **s)
{
	uint8_t b[64];
	idn_wire_t w;
	idn_bytes_t msg;
	idn_wire_init(&w, b, sizeof(b));
	idn_error_body_encode(&w, "Invalid message length");
	assert_int_equal(w.err, IDN_OK);
	assert_int_equal(idn_error_body_decode(b, idn_wire_offset(&w), &msg), IDN_OK);
	assert_true(idn_bytes_eq_str(msg, "Invalid message length"));
	/* Truncated to what fits. */
	idn_wire_init(&w, b, 10);
	idn_error_body_encode(&w, "Invalid message length");
	assert_int_equal(w.err, IDN_OK);
	assert_int_equal(idn_wire_offset(&w), 10);
	assert_int_equal(idn_error_body_decode(b, 10, &msg), IDN_OK);
	assert_true(idn_bytes_eq_str(msg, "Invali"));
	/* Not even the length fits. */
	idn_wire_init(&w, b, 3);
	idn_error_body_encode(&w, "x");
	assert_int_equal(w.err, IDN_ESPACE);
	/* Decoding: empty body, lying length, bytes after the message. */
	assert_int_equal(idn_error_body_decode(b, 0, &msg), IDN_OK);
	assert_int_equal(msg.len, 0);
	const uint8_t lie[] = { 0, 0, 0, 9, 'a' };
	assert_int_equal(idn_error_body_decode(lie, sizeof(lie), &msg), IDN_EFEWDATA);
	const uint8_t extra[] = { 0, 0, 0, 1, 'a', 'b' };
	assert_int_equal(idn_error_body_decode(extra, sizeof(extra), &msg), IDN_OK);
	assert_true(idn_bytes_eq_str(msg, "a"));
	const uint8_t neg[] = { 0xff, 0xff, 0xff, 0xff };
	assert_int_equal(idn_error_body_decode(neg, sizeof(neg), &msg), IDN_ELIMIT);
}

static void test_digest_decode(void **s)
{
	uint8_t b[64];
	uint8_t alg;
	idn_bytes_t dg;
	size_t skip;
	static const uint8_t algs[] = { IDN_DIGEST_MD5, IDN_DIGEST_SHA1, IDN_DIGEST_SHA256 };
	static const size_t lens[] = { 16, 20, 32 };
	for (int i = 0; i < 3; i++) {
		assert_int_equal(idn_digest_len(algs[i]), lens[i]);
		b[0] = algs[i];
		for (size_t k = 0; k < lens[i]; k++)
			b[1 + k] = (uint8_t)k;
		b[1 + lens[i]] = 0xee; /* what follows is not the digest's */
		assert_int_equal(idn_digest_decode(b, 2 + lens[i], &alg, &dg, &skip), IDN_OK);
		assert_int_equal(alg, algs[i]);
		assert_int_equal(dg.len, lens[i]);
		assert_ptr_equal(dg.p, b + 1);
		assert_int_equal(skip, 1 + lens[i]);
		assert_int_equal(idn_digest_decode(b, lens[i], &alg, &dg, &skip), IDN_EFEWDATA);
	}
	assert_int_equal(idn_digest_len(IDN_DIGEST_OLD_MD5), 0);
	assert_int_equal(idn_digest_len(4), 0);
	/* Old format (< 2.1): int4 length 16, then the MD5. */
	memset(b, 0, sizeof(b));
	b[3] = 16;
	assert_int_equal(idn_digest_decode(b, 20, &alg, &dg, &skip), IDN_OK);
	assert_int_equal(alg, IDN_DIGEST_OLD_MD5);
	assert_int_equal(dg.len, 16);
	assert_ptr_equal(dg.p, b + 4);
	assert_int_equal(skip, 20);
	b[3] = 15;
	assert_int_equal(idn_digest_decode(b, 20, &alg, &dg, &skip), IDN_EMALF);
	b[3] = 17;
	assert_int_equal(idn_digest_decode(b, 21, &alg, &dg, &skip), IDN_ELIMIT);
	b[3] = 16;
	assert_int_equal(idn_digest_decode(b, 19, &alg, &dg, &skip), IDN_EFEWDATA);
	/* Unknown codes and an empty body. */
	b[0] = 4;
	assert_int_equal(idn_digest_decode(b, 40, &alg, &dg, &skip), IDN_EMALF);
	b[0] = 0x13;
	assert_int_equal(idn_digest_decode(b, 40, &alg, &dg, &skip), IDN_EMALF);
	assert_int_equal(idn_digest_decode(b, 0, &alg, &dg, &skip), IDN_EFEWDATA);
}

static void test_msg_build(void **s)
{
	/* Two messages back to back in one buffer: begin returns each start. */
	uint8_t b[256];
	idn_wire_t w;
	idn_wire_init(&w, b, sizeof(b));
	idn_envelope_t env = { .major = 2, .minor = 11, .request_id = 1 };
	idn_header_t hdr = { .opcode = IDN_OC_GET_SITE_INFO, .expiration = 5 };
	size_t a = idn_msg_begin(&w, &env, &hdr);
	idn_wire_put_str(&w, "/");
	assert_int_equal(idn_msg_end(&w, a, true), IDN_OK);
	env.request_id = 2;
	size_t c = idn_msg_begin(&w, &env, &hdr);
	assert_int_equal(c, 20 + 24 + 5 + 4);
	assert_int_equal(idn_msg_end(&w, c, false), IDN_OK);
	idn_msg_t m;
	assert_int_equal(idn_msg_decode(b, c, &m), IDN_OK);
	assert_int_equal(m.env.request_id, 1);
	assert_int_equal(m.hdr.body_len, 5);
	assert_true(m.has_cred);
	assert_int_equal(idn_msg_decode(b + c, idn_wire_offset(&w) - c, &m), IDN_OK);
	assert_int_equal(m.env.request_id, 2);
	assert_int_equal(m.hdr.body_len, 0);
	assert_false(m.has_cred);
	assert_int_equal(m.env.message_len, IDN_HEADER_LEN);
	/* No room for the credential length: IDN_ESPACE, returned and latched. */
	idn_wire_init(&w, b, IDN_MSG_BODY_OFF + 2);
	a = idn_msg_begin(&w, &env, &hdr);
	idn_wire_put_u16(&w, 0);
	assert_int_equal(idn_msg_end(&w, a, true), IDN_ESPACE);
	assert_int_equal(w.err, IDN_ESPACE);
	/* An error before end() is returned as is. */
	idn_wire_init(&w, b, 10);
	a = idn_msg_begin(&w, &env, &hdr);
	assert_int_equal(idn_msg_end(&w, a, true), IDN_ESPACE);
	/* A message over IDN_MAX_MESSAGE_LEN is refused. */
	size_t big = IDN_ENVELOPE_LEN + IDN_MAX_MESSAGE_LEN + 8;
	uint8_t *p = malloc(big), *zeros = calloc(1, IDN_MAX_MESSAGE_LEN);
	idn_wire_init(&w, p, big);
	a = idn_msg_begin(&w, &env, &hdr);
	idn_wire_put_raw(&w, zeros, IDN_MAX_MESSAGE_LEN - IDN_HEADER_LEN - 4);
	assert_int_equal(idn_msg_end(&w, a, true), IDN_OK);
	assert_int_equal(idn_msg_decode(p, idn_wire_offset(&w), &m), IDN_OK);
	assert_int_equal(m.env.message_len, IDN_MAX_MESSAGE_LEN);
	idn_wire_init(&w, p, big);
	a = idn_msg_begin(&w, &env, &hdr);
	idn_wire_put_raw(&w, zeros, IDN_MAX_MESSAGE_LEN - IDN_HEADER_LEN - 3);
	assert_int_equal(idn_msg_end(&w, a, true), IDN_ELIMIT);
	free(zeros);
	free(p);
}

static void test_negotiation(void **s)
{
	static const struct {
		uint8_t ma, mi, sma, smi; /* request envelope */
		int want;                 /* answer major * 100 + minor */
	} t[] = {
		{ 2, 3, 2, 11, 211 },  /* CNRI client without site info */
		{ 2, 10, 2, 11, 211 }, /* IDIS SDK */
		{ 2, 10, 2, 12, 211 }, /* newer peer: capped */
		{ 2, 11, 3, 0, 211 },
		{ 2, 11, 2, 5, 205 },  /* older suggestion wins over the envelope */
		{ 2, 5, 0, 0, 205 },   /* no suggestion: its own version */
		{ 2, 0, 0, 0, 200 },
		{ 1, 9, 0, 0, 109 },
		{ 2, 11, 1, 2, 102 },
		{ 5, 0, 0, 0, 500 },   /* CNRI answers an ancient 5.x peer in 5.x */
		{ 5, 7, 0, 0, 507 },
		{ 5, 0, 2, 11, 211 },  /* a suggestion always comes first */
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		idn_envelope_t e = { .major = t[i].ma, .minor = t[i].mi, .sugg_major = t[i].sma,
				     .sugg_minor = t[i].smi };
		uint8_t ma, mi;
		idn_msg_negotiate(&e, &ma, &mi);
		assert_int_equal(ma * 100 + mi, t[i].want);
	}
}

static void test_version_ge(void **s)
{
	assert_true(idn_version_ge(2, 11, 2, 7));
	assert_true(idn_version_ge(2, 7, 2, 7));
	assert_false(idn_version_ge(2, 6, 2, 7));
	assert_true(idn_version_ge(3, 0, 2, 11));
	assert_false(idn_version_ge(1, 99, 2, 0));
	/* CNRI: 5.x is only >= 5.x ... */
	assert_false(idn_version_ge(5, 0, 2, 1));
	assert_false(idn_version_ge(5, 9, 2, 0));
	assert_false(idn_version_ge(5, 9, 1, 0));
	assert_true(idn_version_ge(5, 3, 5, 3));
	assert_false(idn_version_ge(5, 2, 5, 3));
	/* ... and everything else is >= 5.x. */
	assert_true(idn_version_ge(2, 0, 5, 0));
	assert_true(idn_version_ge(1, 0, 5, 9));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v1_request),
		cmocka_unit_test(test_peek_resolve_handle),
		cmocka_unit_test(test_v2_response),
		cmocka_unit_test(test_v5_error),
		cmocka_unit_test(test_v10_challenge),
		cmocka_unit_test(test_v12_answer),
		cmocka_unit_test(test_v13_credential),
		cmocka_unit_test(test_no_credential_field),
		cmocka_unit_test(test_bad_messages),
		cmocka_unit_test(test_credential_section),
		cmocka_unit_test(test_envelope),
		cmocka_unit_test(test_body_length),
		cmocka_unit_test(test_resolve_req),
		cmocka_unit_test(test_resolve_req_limits),
		cmocka_unit_test(test_handle_body),
		cmocka_unit_test(test_error_body),
		cmocka_unit_test(test_digest_decode),
		cmocka_unit_test(test_msg_build),
		cmocka_unit_test(test_negotiation),
		cmocka_unit_test(test_version_ge),
	};
	return cmocka_run_group_tests_name("proto/msg", tests, NULL, NULL);
}
