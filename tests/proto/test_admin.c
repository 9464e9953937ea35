/* test_admin.c - admin bodies: V10/V12 byte for byte, every admin request, challenge, answer and list of the captures decoded and re-encoded, limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/admin.h"
#include "tests/proto/capture_check.h"

/* V10 challenge and V12 answer wire images (handle-protocol.md section 9). */
static const char V10_CHALLENGE[] =
	"020b020b0000000100001236000000000000005100000065000001929980000000010000"
	"655499c00000003503d82c37bd2e6f463020fefafa0d9f5e33f44ebcf84bc057212a93bd"
	"458f8377ab00000010000102030405060708090a0b0c0d0e0f00000000";
static const char V12_ANSWER[] =
	"020b020b00000001000012370000000000000055000000c8000000001900000000010000"
	"6553f100000000390000000948535f5345434b45590000000b302e4e412f38382e313030"
	"0000012c0000001502b2f92cba3bb9aae119bbc2a9a0296d29505319bb00000000";

static void decode_hex_msg(const char *hex, uint8_t *buf, size_t cap, idn_msg_t *m)
{
	long n = tu_hex(hex, buf, cap);
	assert_true(n > 0);
	assert_int_equal(idn_msg_decode(buf, (size_t)n, m), IDN_OK);
}

static void test_v10_challenge(void **s)
{
	uint8_t buf[256];
	idn_msg_t m;
	decode_hex_msg(V10_CHALLENGE, buf, sizeof(buf), &m);
	assert_int_equal(m.hdr.rcode, IDN_RC_AUTHENTICATION_NEEDED);
	uint8_t alg;
	idn_bytes_t dg, nonce;
	assert_int_equal(idn_challenge_decode(m.body.p, m.body.len, &alg, &dg, &nonce), IDN_OK);
	assert_int_equal(alg, IDN_DIGEST_SHA256);
	assert_true(hex_eq(dg, "d82c37bd2e6f463020fefafa0d9f5e33f44ebcf84bc057212a93bd458f8377ab"));
	assert_true(hex_eq(nonce, "000102030405060708090a0b0c0d0e0f"));
	assert_int_equal(nonce.len, IDN_NONCE_LEN);

	/* Old format (code 0): int4 16 + MD5, then the nonce. */
	uint8_t old[4 + 16 + 4 + 16];
	idn_wire_t w;
	idn_wire_init(&w, old, sizeof(old));
	uint8_t md5[16];
	memset(md5, 0xab, sizeof(md5));
	idn_wire_put_bstr(&w, md5, 16);
	idn_wire_put_bstr(&w, "0123456789abcdef", 16);
	assert_int_equal(w.err, IDN_OK);
	assert_int_equal(idn_challenge_decode(old, sizeof(old), &alg, &dg, &nonce), IDN_OK);
	assert_int_equal(alg, IDN_DIGEST_OLD_MD5);
	assert_int_equal(dg.len, 16);
	assert_memory_equal(dg.p, md5, 16);
	assert_true(idn_bytes_eq_str(nonce, "0123456789abcdef"));
	/* An old-format length other than 16 is malformed. */
	old[3] = 15;
	assert_int_not_equal(idn_challenge_decode(old, sizeof(old), &alg, &dg, &nonce), IDN_OK);
}

static void test_challenge_errors(void **s)
{
	uint8_t b[64] = { 3 };
	uint8_t alg;
	idn_bytes_t dg, nonce;
	assert_int_equal(idn_challenge_decode(b, 0, &alg, &dg, &nonce), IDN_EFEWDATA);
	assert_int_equal(idn_challenge_decode(b, 20, &alg, &dg, &nonce), IDN_EFEWDATA);
	/* Unknown digest code. */
	b[0] = 9;
	assert_int_equal(idn_challenge_decode(b, sizeof(b), &alg, &dg, &nonce), IDN_EMALF);
	/* SHA-1 digest then a nonce longer than the body / over the limit. */
	b[0] = 2;
	idn_put_be32(b + 21, 100);
	assert_int_equal(idn_challenge_decode(b, sizeof(b), &alg, &dg, &nonce), IDN_EFEWDATA);
	idn_put_be32(b + 21, 0x7fffffff);
	assert_int_equal(idn_challenge_decode(b, sizeof(b), &alg, &dg, &nonce), IDN_ELIMIT);
	/* Trailing bytes after the nonce are tolerated (CNRI reads sequentially). */
	idn_put_be32(b + 21, 16);
	assert_int_equal(idn_challenge_decode(b, sizeof(b), &alg, &dg, &nonce), IDN_OK);
	assert_int_equal(nonce.len, 16);
}

static void test_v12_answer(void **s)
{
	uint8_t buf[256];
	idn_msg_t m;
	decode_hex_msg(V12_ANSWER, buf, sizeof(buf), &m);
	assert_int_equal(m.hdr.opcode, IDN_OC_RESPONSE_TO_CHALLENGE);
	idn_challenge_answer_t a;
	assert_int_equal(idn_challenge_answer_decode(m.body.p, m.body.len, &a), IDN_OK);
	expect_str(a.auth_type, "HS_SECKEY", "auth type");
	expect_str(a.key_handle, "0.NA/88.100", "key handle");
	assert_int_equal(a.key_index, 300);
	assert_true(hex_eq(a.answer, "02b2f92cba3bb9aae119bbc2a9a0296d29505319bb"));
	uint8_t out[256];
	idn_wire_t w;
	idn_wire_init(&w, out, sizeof(out));
	idn_challenge_answer_encode(&w, &a);
	assert_int_equal(w.err, IDN_OK);
	assert_int_equal(idn_wire_offset(&w), m.body.len);
	assert_memory_equal(out, m.body.p, m.body.len);
	/* A too-small output buffer latches IDN_ESPACE. */
	idn_wire_init(&w, out, m.body.len - 1);
	idn_challenge_answer_encode(&w, &a);
	assert_int_equal(w.err, IDN_ESPACE);
	/* Every truncation fails cleanly. */
	for (size_t n = 0; n < m.body.len; n++)
		assert_int_equal(idn_challenge_answer_decode(m.body.p, n, &a), IDN_EFEWDATA);
}

/* ------------------------------------------------------------------ */
/* Captures.                                                           */

static struct {
	int values_reqs, removes, answers, challenges, lists, list_names;
	uint32_t last_list_count;
	idn_bytes_t last_list_first;
	char first_name[64];
} seen;

static void reencode_values(const idn_values_req_t *r, idn_bytes_t body)
{
	uint8_t *out = malloc(body.len + 1);
	idn_wire_t w;
	idn_wire_init(&w, out, body.len);
	idn_values_req_encode(&w, r->handle, r->n_values, r->values);
	assert_int_equal(w.err, IDN_OK);
	assert_int_equal(idn_wire_offset(&w), body.len);
	assert_memory_equal(out, body.p, body.len);
	free(out);
}

static void admin_hook(const tu_line_t *l, int k, const idn_msg_t *m, const void *ctx)
{
	const uint8_t *b = m->body.p;
	size_t n = m->body.len;
	uint8_t out[4096];
	idn_wire_t w;
	idn_wire_init(&w, out, sizeof(out));
	if (m->hdr.rcode == 0) {
		switch (m->hdr.opcode) {
		case IDN_OC_CREATE_HANDLE:
		case IDN_OC_ADD_VALUE:
		case IDN_OC_MODIFY_VALUE: {
			idn_values_req_t r;
			assert_int_equal(idn_values_req_decode(b, n, &r), IDN_OK);
			assert_true(r.n_values >= 1);
			/* The values walk to exactly the list. */
			idn_wire_t in;
			idn_wire_init_ro(&in, r.values.p, r.values.len);
			for (uint32_t i = 0; i < r.n_values; i++) {
				idn_value_t v;
				assert_int_equal(idn_value_decode(&in, &v), IDN_OK);
			}
			assert_int_equal(idn_wire_avail(&in), 0);
			reencode_values(&r, m->body);
			/* Cut anywhere, the list no longer decodes. */
			for (size_t cut = 0; cut < n; cut++)
				assert_int_not_equal(idn_values_req_decode(b, cut, &r), IDN_OK);
			seen.values_reqs++;
			break;
		}
		case IDN_OC_REMOVE_VALUE: {
			idn_remove_req_t r;
			assert_int_equal(idn_remove_req_decode(b, n, &r), IDN_OK);
			expect_str(r.handle, "TEST/vec-1", "remove handle");
			assert_int_equal(r.n_index, 1);
			assert_int_equal(r.index[0], 2);
			idn_remove_req_encode(&w, r.handle, r.n_index, r.index);
			assert_int_equal(w.err, IDN_OK);
			assert_int_equal(idn_wire_offset(&w), n);
			assert_memory_equal(out, b, n);
			seen.removes++;
			break;
		}
		case IDN_OC_RESPONSE_TO_CHALLENGE: {
			idn_challenge_answer_t a;
			assert_int_equal(idn_challenge_answer_decode(b, n, &a), IDN_OK);
			assert_true(idn_bytes_eq_str(a.auth_type, "HS_SECKEY") ||
				    idn_bytes_eq_str(a.auth_type, "HS_PUBKEY"));
			assert_true(a.key_index == 300 || a.key_index == 301);
			idn_challenge_answer_encode(&w, &a);
			assert_int_equal(w.err, IDN_OK);
			assert_int_equal(idn_wire_offset(&w), n);
			assert_memory_equal(out, b, n);
			seen.answers++;
			break;
		}
		default:
			break;
		}
		return;
	}
	if (m->hdr.rcode == IDN_RC_AUTHENTICATION_NEEDED) {
		uint8_t alg;
		idn_bytes_t dg, nonce;
		assert_int_equal(idn_challenge_decode(b, n, &alg, &dg, &nonce), IDN_OK);
		assert_int_equal(alg, IDN_DIGEST_SHA256);
		assert_int_equal(dg.len, 32);
		assert_int_equal(nonce.len, IDN_NONCE_LEN);
		/* The whole body is the challenge: 1 + 32 + 4 + 16. */
		assert_int_equal(n, 53);
		seen.challenges++;
		return;
	}
	if (m->hdr.rcode == IDN_RC_SUCCESS && m->hdr.opcode == IDN_OC_LIST_HANDLES) {
		idn_list_resp_t lr;
		assert_int_equal(idn_list_resp_decode(b, n, &lr), IDN_OK);
		size_t pos = 0;
		idn_bytes_t name;
		uint32_t count = 0;
		while (idn_list_next(&lr, &pos, &name)) {
			if (count == 0)
				snprintf(seen.first_name, sizeof(seen.first_name), "%.*s",
					 (int)name.len, (const char *)name.p);
			count++;
		}
		assert_int_equal(count, lr.count);
		assert_int_equal(pos, lr.raw.len);
		assert_int_equal(lr.raw.len + 4, n);
		/* A server writes a list as u32 + ByteStrings. */
		idn_wire_put_u32(&w, lr.count);
		pos = 0;
		while (idn_list_next(&lr, &pos, &name))
			idn_wire_put_bstr(&w, name.p, name.len);
		assert_int_equal(w.err, IDN_OK);
		assert_int_equal(idn_wire_offset(&w), n);
		assert_memory_equal(out, b, n);
		seen.lists++;
		seen.list_names += (int)count;
		seen.last_list_count = count;
	}
}

static void test_captures(void **s)
{
	static const char *const files[] = {
		"create-seckey", "create-pubkey", "add-value", "modify-value", "remove-value",
		"delete-handle", "list-handles", "home-na", "unhome-na", "create-wrong-secret",
		"create-not-admin",
	};
	memset(&seen, 0, sizeof(seen));
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char rel[128];
		snprintf(rel, sizeof(rel), "vectors/%s.hex", files[i]);
		walk_file(rel, admin_hook, NULL, NULL);
	}
	/* create x4 (seckey, pubkey, wrong secret, not admin), add, modify. */
	assert_int_equal(seen.values_reqs, 6);
	assert_int_equal(seen.removes, 1);
	assert_int_equal(seen.answers, 11);
	assert_int_equal(seen.challenges, 11);
	/* list-handles: 50 then 9. */
	assert_int_equal(seen.lists, 2);
	assert_int_equal(seen.list_names, 59);
	assert_int_equal(seen.last_list_count, 9);
	assert_string_equal(seen.first_name, "TEST/LIST-051");
}

/* IDIS OC 2001 (login) requests: handle + index, as the SDK sends them. */
static void test_login_idis(void **s)
{
	static const char *const files[] = { "vectors/idis/07-raw-oc2001-cnri.hex",
					     "vectors/idis/m02-login-rsa-create-mock.hex" };
	int logins = 0;
	for (size_t f = 0; f < 2; f++) {
		tu_line_t *l;
		int n = tu_load_capture(files[f], &l);
		if (n <= 0)
			fail_msg("%s: no lines", files[f]);
		for (int i = 0; i < n; i++) {
			idn_msg_t m;
			if (idn_msg_decode(l[i].bytes, l[i].len, &m) != IDN_OK)
				continue;
			if (m.hdr.rcode != 0 || m.hdr.opcode != IDN_OC_LOGIN_ID_SYSTEM)
				continue;
			idn_login_req_t r;
			assert_int_equal(idn_login_req_decode(m.body.p, m.body.len, &r), IDN_OK);
			assert_true(r.handle.len > 0);
			uint8_t out[256];
			idn_wire_t w;
			idn_wire_init(&w, out, sizeof(out));
			idn_login_req_encode(&w, r.handle, r.index);
			assert_int_equal(w.err, IDN_OK);
			assert_int_equal(idn_wire_offset(&w), m.body.len);
			assert_memory_equal(out, m.body.p, m.body.len);
			for (size_t cut = 0; cut < m.body.len; cut++)
				assert_int_equal(idn_login_req_decode(m.body.p, cut, &r),
						 IDN_EFEWDATA);
			logins++;
		}
		tu_lines_free(l, n);
	}
	assert_true(logins >= 2);
}

/* ------------------------------------------------------------------ */
/* Limits and malformed bodies.                                        */

static void test_values_limits(void **s)
{
	uint8_t b[256];
	idn_wire_t w;
	idn_values_req_t r;
	/* A count over IDN_MAX_VALUES. */
	idn_wire_init(&w, b, sizeof(b));
	idn_wire_put_str(&w, "88.100/x");
	idn_wire_put_u32(&w, IDN_MAX_VALUES + 1);
	assert_int_equal(idn_values_req_decode(b, idn_wire_offset(&w), &r), IDN_ELIMIT);
	/* A count the bytes cannot hold. */
	idn_wire_init(&w, b, sizeof(b));
	idn_wire_put_str(&w, "88.100/x");
	idn_wire_put_u32(&w, 1000);
	assert_int_equal(idn_values_req_decode(b, idn_wire_offset(&w), &r), IDN_EFEWDATA);
	/* One value, then a trailing byte: the list must decode exactly. */
	idn_wire_init(&w, b, sizeof(b));
	idn_wire_put_str(&w, "88.100/x");
	idn_wire_put_u32(&w, 1);
	size_t vstart = idn_wire_offset(&w);
	idn_value_t v = { .index = 1, .ttl = 86400, .perms = IDN_PERM_DEFAULT,
			  .type = { (const uint8_t *)"URL", 3 },
			  .data = { (const uint8_t *)"http://x", 8 } };
	idn_value_encode(&w, &v);
	size_t len = idn_wire_offset(&w);
	assert_int_equal(w.err, IDN_OK);
	assert_int_equal(idn_values_req_decode(b, len, &r), IDN_OK);
	assert_int_equal(r.n_values, 1);
	assert_ptr_equal(r.values.p, b + vstart);
	assert_int_equal(r.values.len, len - vstart);
	expect_str(r.handle, "88.100/x", "handle");
	b[len] = 0;
	assert_int_equal(idn_values_req_decode(b, len + 1, &r), IDN_EMALF);
	/* Zero values is a valid encoding (the server answers RC 202). */
	idn_put_be32(b + 12, 0);
	assert_int_equal(idn_values_req_decode(b, 16, &r), IDN_OK);
	assert_int_equal(r.n_values, 0);
	assert_int_equal(r.values.len, 0);
	/* A value type over IDN_MAX_TYPE_LEN. */
	idn_put_be32(b + 12, 1);
	idn_put_be32(b + vstart + 14, IDN_MAX_TYPE_LEN + 1);
	assert_int_equal(idn_values_req_decode(b, len, &r), IDN_ELIMIT);
	/* A handle over IDN_MAX_HANDLE_LEN. */
	idn_put_be32(b, IDN_MAX_HANDLE_LEN + 1);
	assert_int_equal(idn_values_req_decode(b, len, &r), IDN_ELIMIT);
	assert_int_equal(idn_values_req_decode(NULL, 0, &r), IDN_EFEWDATA);
}

static void test_remove_limits(void **s)
{
	uint8_t b[64];
	idn_wire_t w;
	idn_remove_req_t *r = malloc(sizeof(*r));
	idn_wire_init(&w, b, sizeof(b));
	idn_wire_put_str(&w, "a/b");
	idn_wire_put_u32(&w, IDN_MAX_VALUES + 1);
	assert_int_equal(idn_remove_req_decode(b, idn_wire_offset(&w), r), IDN_ELIMIT);
	assert_int_equal(r->n_index, 0);
	idn_wire_init(&w, b, sizeof(b));
	idn_wire_put_str(&w, "a/b");
	idn_wire_put_u32(&w, 3);
	idn_wire_put_u32(&w, 1);
	idn_wire_put_u32(&w, 2);
	assert_int_equal(idn_remove_req_decode(b, idn_wire_offset(&w), r), IDN_EFEWDATA);
	idn_wire_put_u32(&w, 300);
	assert_int_equal(idn_remove_req_decode(b, idn_wire_offset(&w), r), IDN_OK);
	assert_int_equal(r->n_index, 3);
	assert_int_equal(r->index[2], 300);
	/* An empty IntArray. */
	idn_put_be32(b + 7, 0);
	assert_int_equal(idn_remove_req_decode(b, 11, r), IDN_OK);
	assert_int_equal(r->n_index, 0);
	free(r);
}

static void test_list_limits(void **s)
{
	uint8_t b[64];
	idn_list_resp_t l;
	idn_wire_t w;
	idn_wire_init(&w, b, sizeof(b));
	idn_wire_put_u32(&w, 0);
	assert_int_equal(idn_list_resp_decode(b, 4, &l), IDN_OK);
	assert_int_equal(l.count, 0);
	size_t pos = 0;
	idn_bytes_t name;
	assert_false(idn_list_next(&l, &pos, &name));
	assert_int_equal(idn_list_resp_decode(b, 3, &l), IDN_EFEWDATA);
	/* Counts the bytes cannot hold: over the absolute cap, then not. */
	idn_put_be32(b, 0xffffffffu);
	assert_int_equal(idn_list_resp_decode(b, sizeof(b), &l), IDN_ELIMIT);
	idn_put_be32(b, 100);
	assert_int_equal(idn_list_resp_decode(b, sizeof(b), &l), IDN_EFEWDATA);
	/* Two names; a name over IDN_MAX_HANDLE_LEN. */
	idn_wire_init(&w, b, sizeof(b));
	idn_wire_put_u32(&w, 2);
	idn_wire_put_str(&w, "0.NA/88.100");
	idn_wire_put_str(&w, "");
	assert_int_equal(idn_list_resp_decode(b, idn_wire_offset(&w), &l), IDN_OK);
	pos = 0;
	assert_true(idn_list_next(&l, &pos, &name));
	expect_str(name, "0.NA/88.100", "name 1");
	assert_true(idn_list_next(&l, &pos, &name));
	assert_int_equal(name.len, 0);
	assert_false(idn_list_next(&l, &pos, &name));
	idn_put_be32(b + 4, IDN_MAX_HANDLE_LEN + 1);
	assert_int_equal(idn_list_resp_decode(b, sizeof(b), &l), IDN_ELIMIT);
}

static void test_answer_limits(void **s)
{
	uint8_t b[64] = { 0 };
	idn_challenge_answer_t a;
	idn_put_be32(b, 65); /* an AuthType longer than any real one */
	assert_int_equal(idn_challenge_answer_decode(b, sizeof(b), &a), IDN_ELIMIT);
	/* All empty fields, index 7: 16 bytes. */
	idn_put_be32(b, 0);
	idn_put_be32(b + 8, 7);
	assert_int_equal(idn_challenge_answer_decode(b, 16, &a), IDN_OK);
	assert_int_equal(a.key_index, 7);
	assert_int_equal(a.answer.len, 0);
	idn_put_be32(b + 12, 0x10000000);
	assert_int_equal(idn_challenge_answer_decode(b, sizeof(b), &a), IDN_ELIMIT);
	idn_login_req_t lr;
	idn_put_be32(b, IDN_MAX_HANDLE_LEN + 1);
	assert_int_equal(idn_login_req_decode(b, sizeof(b), &lr), IDN_ELIMIT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v10_challenge),
		cmocka_unit_test(test_challenge_errors),
		cmocka_unit_test(test_v12_answer),
		cmocka_unit_test(test_captures),
		cmocka_unit_test(test_login_idis),
		cmocka_unit_test(test_values_limits),
		cmocka_unit_test(test_remove_limits),
		cmocka_unit_test(test_list_limits),
		cmocka_unit_test(test_answer_limits),
	};
	return cmocka_run_group_tests_name("proto/admin", tests, NULL, NULL);
}
