/* test_auth.c - challenge answers: V11/V12/V13 byte for byte, every captured HS_SECKEY and HS_PUBKEY answer verified, make/verify round trips, keys and limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/admin.h"
#include "proto/auth.h"
#include "proto/msg.h"
#include "proto/pkey.h"
#include "proto/record.h"
#include "tests/util/testutil.h"

/* V10: nonce 00..0f and the SHA-256 digest of the delete request. */
static uint8_t v_nonce[16], v_digest[32];

/* HS_PUBKEY of 300:0.NA/TEST (vectors/README.md), binary and PEM. */
static const char ADMIN_BLOB[] =
	"0000000b5253415f5055425f4b45590000000000030100010000010100a44f0d7f5b950fb8f74b4acd16683998dcdf3b"
	"a7357f7250ccf8b3d433ea5bb31250891ef2209edeb3b186cf8951ef786ddecca3fb57c9c45f7bb1ed9e649c1df9b141"
	"4da906a11b433cc05c2eb36e489c3adf9fe0dff568727610f59ca339c2b45143dee4ab20aab1cb687bc9ad5cb9e43e97"
	"06ba054487e03574c327d7409a1cea81c1c031df11d85af2ae23af7d37c5e91eb0022d8a7ef3dabc0f42bab6d3a775b1"
	"c93597c99fed23b6bca934e7441b4a4e558f6895cb7813d02c9f30638b78cb79f8db0c4e05650b8e39b70c8dea05ce09"
	"c5c2c214d857fa849826378a15f5baf37043a39ad7185bab045c2fcb8cc3841e7843916784cb422337605c4475000000"
	"00";
static const char ADMIN_PEM[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEApE8Nf1uVD7j3S0rNFmg5\n"
	"mNzfO6c1f3JQzPiz1DPqW7MSUIke8iCe3rOxhs+JUe94bd7Mo/tXycRfe7HtnmSc\n"
	"HfmxQU2pBqEbQzzAXC6zbkicOt+f4N/1aHJ2EPWcoznCtFFD3uSrIKqxy2h7ya1c\n"
	"ueQ+lwa6BUSH4DV0wyfXQJoc6oHBwDHfEdha8q4jr303xekesAItin7z2rwPQrq2\n"
	"06d1sck1l8mf7SO2vKk050QbSk5Vj2iVy3gT0CyfMGOLeMt5+NsMTgVlC445twyN\n"
	"6gXOCcXCwhTYV/qEmCY3ihX1uvNwQ6Oa1xhbqwRcL8uMw4QeeEORZ4TLQiM3YFxE\n"
	"dQIDAQAB\n"
	"-----END PUBLIC KEY-----\n";

static uint8_t admin_blob[512];
static size_t admin_blob_len;

static int setup(void **s)
{
	for (int i = 0; i < 16; i++)
		v_nonce[i] = (uint8_t)i;
	tu_hex("d82c37bd2e6f463020fefafa0d9f5e33f44ebcf84bc057212a93bd458f8377ab", v_digest, 32);
	long n = tu_hex(ADMIN_BLOB, admin_blob, sizeof(admin_blob));
	if (n != 289)
		return -1;
	admin_blob_len = (size_t)n;
	return 0;
}

static const uint8_t *K(const char *s)
{
	return (const uint8_t *)s;
}

/* Make an answer for `code`, compare with the expected hex. */
static void expect_answer(int code, const char *key, const char *hex)
{
	uint8_t out[128], want[128];
	idn_wire_t w;
	idn_wire_init(&w, out, sizeof(out));
	assert_int_equal(idn_seckey_answer(code, K(key), strlen(key), v_nonce, 16, v_digest, 32, &w),
			 IDN_OK);
	long n = tu_hex(hex, want, sizeof(want));
	assert_int_equal(idn_wire_offset(&w), (size_t)n);
	assert_memory_equal(out, want, (size_t)n);
	assert_int_equal(idn_seckey_verify(K(key), strlen(key), v_nonce, 16, v_digest, 32, out,
					   (size_t)n), IDN_OK);
}

static void test_v11(void **s)
{
	expect_answer(IDN_SECKEY_SHA1, "secret", "02b2f92cba3bb9aae119bbc2a9a0296d29505319bb");
	expect_answer(IDN_SECKEY_MD5, "secret", "019d9ebf700c47a6fba523cdf80db54d68");
	expect_answer(IDN_SECKEY_HMAC_SHA256, "secret",
		      "1388760120fb78c7130ef144df3cb688a5fc025292a42b5da121e94205887be700");
	/* Not in V11; computed with Python's hashlib / hmac. */
	expect_answer(IDN_SECKEY_HMAC_SHA1, "secret", "12913013dbaa1b4db3a6da5b5468aad1e2939d07fe");
	expect_answer(IDN_SECKEY_SHA256, "secret",
		      "0336f079c64b37c0f00c4287b980a5b353c5aff512e20af08f664221968865b19c");
	/* The old format is the code-1 MAC without the code byte. */
	expect_answer(0, "secret", "9d9ebf700c47a6fba523cdf80db54d68");

	/* V11 0x22: salt a0..af, 10000 iterations, 160 bits. */
	uint8_t a[64];
	a[0] = IDN_SECKEY_PBKDF2_SHA1;
	long n = tu_hex("00000010a0a1a2a3a4a5a6a7a8a9aaabacadaeaf00002710000000a000000014"
			"5856cd4f5011f733e1aafac1f35405b1e91d3125", a + 1, sizeof(a) - 1);
	assert_int_equal(n, 52);
	assert_int_equal(idn_seckey_verify(K("secret"), 6, v_nonce, 16, v_digest, 32, a, 53), IDN_OK);
	assert_int_equal(idn_seckey_verify(K("secreT"), 6, v_nonce, 16, v_digest, 32, a, 53),
			 IDN_EACCES);
	/* Changing D breaks it. */
	v_nonce[0] ^= 1;
	assert_int_equal(idn_seckey_verify(K("secret"), 6, v_nonce, 16, v_digest, 32, a, 53),
			 IDN_EACCES);
	v_nonce[0] ^= 1;

	/* A non-ASCII secret: the password is UTF-8(Latin-1(K)), as Java
	 * computes it (expected MAC from Python, same salt as V11). */
	const char *k8 = "caf\xe9-\xff";
	tu_hex("3cecae722a5e98e837162fca0c9b539fa9f076c9", a + 33, 20);
	assert_int_equal(idn_seckey_verify(K(k8), strlen(k8), v_nonce, 16, v_digest, 32, a, 53),
			 IDN_OK);
}

/* V12: the SHA-1 answer decoded from the OC 200 body verifies. */
static void test_v12(void **s)
{
	uint8_t body[57];
	long n = tu_hex("0000000948535f5345434b45590000000b302e4e412f38382e3130300000012c"
			"0000001502b2f92cba3bb9aae119bbc2a9a0296d29505319bb", body, sizeof(body));
	assert_int_equal(n, 57);
	idn_challenge_answer_t a;
	assert_int_equal(idn_challenge_answer_decode(body, 57, &a), IDN_OK);
	assert_int_equal(idn_seckey_verify(K("secret"), 6, v_nonce, 16, v_digest, 32, a.answer.p,
					   a.answer.len), IDN_OK);
	/* And the client side builds the same body. */
	uint8_t ans[64], out[64];
	idn_wire_t w;
	idn_wire_init(&w, ans, sizeof(ans));
	assert_int_equal(idn_seckey_answer(IDN_SECKEY_SHA1, K("secret"), 6, v_nonce, 16, v_digest,
					   32, &w), IDN_OK);
	idn_challenge_answer_t b = { { K("HS_SECKEY"), 9 }, { K("0.NA/88.100"), 11 }, 300,
				     { ans, (uint32_t)idn_wire_offset(&w) } };
	idn_wire_init(&w, out, sizeof(out));
	idn_challenge_answer_encode(&w, &b);
	assert_int_equal(idn_wire_offset(&w), 57);
	assert_memory_equal(out, body, 57);
}

/* V13: HMAC-SHA256 over pieces (prefix, Header+Body) is what code 0x13
 * computes over nonce || digest. */
static void test_v13_pieces(void **s)
{
	uint8_t msg[128], key[16], out[64], want[32];
	long n = tu_hex("000000010000000019000000000100006553f100000000160000000a38382e3130302f61"
			"62630000000000000000", msg, sizeof(msg));
	assert_int_equal(n, 46);
	uint8_t pre[16];
	tu_hex("020b020b000000070000123800000001", pre, sizeof(pre));
	memset(key, 0x11, sizeof(key));
	tu_hex("f5311b35cf8a123cfd213e6ba0106b413ba742c8644a2c36ecd9b4edf363a073", want, 32);
	idn_wire_t w;
	idn_wire_init(&w, out, sizeof(out));
	assert_int_equal(idn_seckey_answer(IDN_SECKEY_HMAC_SHA256, key, 16, pre, 16, msg, 46, &w),
			 IDN_OK);
	assert_int_equal(idn_wire_offset(&w), 33);
	assert_memory_equal(out + 1, want, 32);
}

/* ------------------------------------------------------------------ */
/* Captures.                                                           */

typedef struct {
	const char *file;
	const char *good;   /* secret the answer was made with (NULL: HS_PUBKEY) */
	const char *bad;
} capture_t;

static void check_capture(const capture_t *c)
{
	char rel[128];
	snprintf(rel, sizeof(rel), "vectors/%s.hex", c->file);
	tu_line_t *l;
	int n = tu_load_capture(rel, &l);
	if (n < 3)
		fail_msg("%s: too few lines", rel);
	idn_msg_t chal, ans;
	assert_int_equal(idn_msg_decode(l[1].bytes, l[1].len, &chal), IDN_OK);
	assert_int_equal(idn_msg_decode(l[2].bytes, l[2].len, &ans), IDN_OK);
	assert_int_equal(chal.hdr.rcode, IDN_RC_AUTHENTICATION_NEEDED);
	assert_int_equal(ans.hdr.opcode, IDN_OC_RESPONSE_TO_CHALLENGE);
	uint8_t alg;
	idn_bytes_t dg, nonce;
	assert_int_equal(idn_challenge_decode(chal.body.p, chal.body.len, &alg, &dg, &nonce), IDN_OK);
	idn_challenge_answer_t a;
	assert_int_equal(idn_challenge_answer_decode(ans.body.p, ans.body.len, &a), IDN_OK);
	uint8_t *copy = malloc(a.answer.len);
	memcpy(copy, a.answer.p, a.answer.len);
	if (c->good) {
		assert_true(idn_bytes_eq_str(a.auth_type, "HS_SECKEY"));
		assert_int_equal(copy[0], IDN_SECKEY_PBKDF2_SHA1);
		assert_int_equal(idn_seckey_verify(K(c->good), strlen(c->good), nonce.p, nonce.len,
						   dg.p, dg.len, copy, a.answer.len), IDN_OK);
		assert_int_equal(idn_seckey_verify(K(c->bad), strlen(c->bad), nonce.p, nonce.len,
						   dg.p, dg.len, copy, a.answer.len), IDN_EACCES);
	} else {
		assert_true(idn_bytes_eq_str(a.auth_type, "HS_PUBKEY"));
		assert_int_equal(idn_pubkey_verify(admin_blob, admin_blob_len, nonce.p, nonce.len,
						   dg.p, dg.len, copy, a.answer.len), IDN_OK);
		/* The same key as PEM text (how the IDIS SDK stores it). */
		assert_int_equal(idn_pubkey_verify(K(ADMIN_PEM), strlen(ADMIN_PEM), nonce.p,
						   nonce.len, dg.p, dg.len, copy, a.answer.len),
				 IDN_OK);
		/* The wrong D or signature fails. */
		assert_int_equal(idn_pubkey_verify(admin_blob, admin_blob_len, nonce.p,
						   nonce.len - 1, dg.p, dg.len, copy, a.answer.len),
				 IDN_EACCES);
		copy[a.answer.len - 1] ^= 0x40;
		assert_int_equal(idn_pubkey_verify(admin_blob, admin_blob_len, nonce.p, nonce.len,
						   dg.p, dg.len, copy, a.answer.len), IDN_EACCES);
		copy[a.answer.len - 1] ^= 0x40;
	}
	/* Any single flipped byte is refused, never accepted. */
	for (size_t i = 0; i < a.answer.len; i += 7) {
		copy[i] ^= 0x01;
		int r = c->good ? idn_seckey_verify(K(c->good), strlen(c->good), nonce.p, nonce.len,
						    dg.p, dg.len, copy, a.answer.len)
				: idn_pubkey_verify(admin_blob, admin_blob_len, nonce.p, nonce.len,
						    dg.p, dg.len, copy, a.answer.len);
		assert_int_not_equal(r, IDN_OK);
		copy[i] ^= 0x01;
	}
	free(copy);
	tu_lines_free(l, n);
}

static void test_captured_seckey(void **s)
{
	static const capture_t c[] = {
		{ "create-seckey", "peer-secret", "wrong-secret" },
		{ "add-value", "peer-secret", "wrong-secret" },
		{ "remove-value", "peer-secret", "wrong-secret" },
		{ "delete-handle", "peer-secret", "wrong-secret" },
		{ "list-handles", "peer-secret", "wrong-secret" },
		{ "home-na", "peer-secret", "wrong-secret" },
		{ "unhome-na", "peer-secret", "wrong-secret" },
		{ "create-wrong-secret", "wrong-secret", "peer-secret" },
		{ "create-not-admin", "user-secret", "peer-secret" },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		check_capture(&c[i]);
}

static void test_captured_pubkey(void **s)
{
	static const capture_t c[] = { { "create-pubkey", NULL, NULL },
				       { "modify-value", NULL, NULL } };
	for (size_t i = 0; i < 2; i++)
		check_capture(&c[i]);
	/* The blob re-encodes byte for byte from the OpenSSL key. */
	idn_pkey_t *k = NULL;
	assert_int_equal(idn_pkey_from_hs_pubkey(admin_blob, admin_blob_len, &k), IDN_OK);
	assert_int_equal(idn_pkey_kind(k), IDN_KEY_RSA);
	uint8_t out[512];
	idn_wire_t w;
	idn_wire_init(&w, out, sizeof(out));
	assert_int_equal(idn_pkey_hs_pubkey(k, &w), IDN_OK);
	assert_int_equal(idn_wire_offset(&w), admin_blob_len);
	assert_memory_equal(out, admin_blob, admin_blob_len);
	/* A public-only key does not sign. */
	idn_piece_t p = { "x", 1 };
	idn_wire_init(&w, out, sizeof(out));
	assert_int_equal(idn_pkey_sign(k, IDN_SIG_SHA256, &p, 1, &w), IDN_EINVAL);
	idn_pkey_free(k);
}

/* ------------------------------------------------------------------ */
/* Round trips.                                                        */

static void test_seckey_roundtrip(void **s)
{
	static const int codes[] = { 0, IDN_SECKEY_MD5, IDN_SECKEY_SHA1, IDN_SECKEY_SHA256,
				     IDN_SECKEY_HMAC_SHA1, IDN_SECKEY_HMAC_SHA256,
				     IDN_SECKEY_PBKDF2_SHA1 };
	static const char *const keys[] = { "peer-secret", "", "\x80\xfe non-ascii" };
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		for (size_t j = 0; j < 3; j++) {
			const char *key = keys[j];
			uint8_t out[128];
			idn_wire_t w;
			idn_wire_init(&w, out, sizeof(out));
			assert_int_equal(idn_seckey_answer(codes[i], K(key), strlen(key), v_nonce, 16,
							   v_digest, 32, &w), IDN_OK);
			size_t n = idn_wire_offset(&w);
			if (codes[i] == IDN_SECKEY_PBKDF2_SHA1) {
				/* CNRI's parameters: 16-byte salt, 10000, 160 bits. */
				assert_int_equal(n, 53);
				assert_int_equal(idn_get_be32(out + 1), 16);
				assert_int_equal(idn_get_be32(out + 21), 10000);
				assert_int_equal(idn_get_be32(out + 25), 160);
			} else if (codes[i] != 0) {
				assert_int_equal(out[0], codes[i]);
			}
			assert_int_equal(idn_seckey_verify(K(key), strlen(key), v_nonce, 16, v_digest,
							   32, out, n), IDN_OK);
			assert_int_equal(idn_seckey_verify(K("other"), 5, v_nonce, 16, v_digest, 32,
							   out, n), IDN_EACCES);
			out[n - 1] ^= 0x80;
			assert_int_equal(idn_seckey_verify(K(key), strlen(key), v_nonce, 16, v_digest,
							   32, out, n), IDN_EACCES);
		}
	}
	/* Unknown codes, and a cursor without room. */
	uint8_t small[8];
	idn_wire_t w;
	idn_wire_init(&w, small, sizeof(small));
	assert_int_equal(idn_seckey_answer(0x14, K("k"), 1, v_nonce, 16, v_digest, 32, &w),
			 IDN_EINVAL);
	assert_int_equal(idn_seckey_answer(IDN_SECKEY_SHA1, K("k"), 1, v_nonce, 16, v_digest, 32, &w),
			 IDN_ESPACE);
	idn_wire_init(&w, small, sizeof(small));
	assert_int_equal(idn_seckey_answer(IDN_SECKEY_PBKDF2_SHA1, K("k"), 1, v_nonce, 16, v_digest,
					   32, &w), IDN_ESPACE);
}

/* A 0x22 answer with the given parameters and a MAC of mlen bytes. */
static size_t pbkdf2_answer(uint8_t *b, size_t cap, uint32_t saltlen, uint32_t iter,
			    uint32_t bits, uint32_t mlen)
{
	idn_wire_t w;
	idn_wire_init(&w, b, cap);
	uint8_t zero[128] = { 0 };
	idn_wire_put_u8(&w, IDN_SECKEY_PBKDF2_SHA1);
	idn_wire_put_bstr(&w, zero, saltlen);
	idn_wire_put_u32(&w, iter);
	idn_wire_put_u32(&w, bits);
	idn_wire_put_bstr(&w, zero, mlen);
	assert_int_equal(w.err, IDN_OK);
	return idn_wire_offset(&w);
}

static void test_seckey_malformed(void **s)
{
	uint8_t b[256];
	const uint8_t *k = K("peer-secret");
#define VERIFY(len) idn_seckey_verify(k, 11, v_nonce, 16, v_digest, 32, b, (len))
	assert_int_equal(idn_seckey_verify(k, 11, v_nonce, 16, v_digest, 32, NULL, 0), IDN_EFEWDATA);
	memset(b, 0, sizeof(b));
	b[0] = 0x55;
	assert_int_equal(VERIFY(21), IDN_EINVAL);
	/* Fixed codes: the MAC length is exact. */
	b[0] = IDN_SECKEY_SHA1;
	assert_int_equal(VERIFY(21), IDN_EACCES);
	assert_int_equal(VERIFY(20), IDN_EFEWDATA);
	assert_int_equal(VERIFY(22), IDN_EMALF);
	/* PBKDF2: a well-formed but wrong answer, then bad parameters. */
	assert_int_equal(VERIFY(pbkdf2_answer(b, sizeof(b), 16, 10000, 160, 20)), IDN_EACCES);
	assert_int_equal(VERIFY(pbkdf2_answer(b, sizeof(b), 16, 10000, 160, 19)), IDN_EACCES);
	assert_int_equal(VERIFY(pbkdf2_answer(b, sizeof(b), 0, 1, 8, 20)), IDN_EACCES);
	assert_int_equal(VERIFY(pbkdf2_answer(b, sizeof(b), 16, 0, 160, 20)), IDN_EMALF);
	assert_int_equal(VERIFY(pbkdf2_answer(b, sizeof(b), 16, 10000, 0, 20)), IDN_EMALF);
	assert_int_equal(VERIFY(pbkdf2_answer(b, sizeof(b), 16, 10000, 161, 20)), IDN_EMALF);
	assert_int_equal(VERIFY(pbkdf2_answer(b, sizeof(b), 16, 1000001, 160, 20)), IDN_ELIMIT);
	assert_int_equal(VERIFY(pbkdf2_answer(b, sizeof(b), 16, 10000, 4096, 20)), IDN_ELIMIT);
	/* 4 blocks of derived key x 300000 iterations is over the work bound. */
	assert_int_equal(VERIFY(pbkdf2_answer(b, sizeof(b), 16, 300000, 512, 20)), IDN_ELIMIT);
	assert_int_equal(VERIFY(pbkdf2_answer(b, sizeof(b), 16, 10000, 160, 65)), IDN_ELIMIT);
	size_t n = pbkdf2_answer(b, sizeof(b), 16, 10000, 160, 20);
	for (size_t cut = 1; cut < n; cut++)
		if (cut != 16) /* 16 bytes is the old format */
			assert_int_equal(VERIFY(cut), IDN_EFEWDATA);
	b[n] = 0;
	assert_int_equal(VERIFY(n + 1), IDN_EMALF);
	/* A salt length over its bound. */
	idn_put_be32(b + 1, 0x00100000);
	assert_int_equal(VERIFY(n), IDN_ELIMIT);
#undef VERIFY
}

static void pubkey_roundtrip(idn_pkey_t *k, int kind)
{
	assert_int_equal(idn_pkey_kind(k), kind);
	uint8_t blob[2048];
	idn_wire_t w;
	idn_wire_init(&w, blob, sizeof(blob));
	assert_int_equal(idn_pkey_hs_pubkey(k, &w), IDN_OK);
	size_t blen = idn_wire_offset(&w);
	idn_pubkey_t pk;
	assert_int_equal(idn_pubkey_decode(blob, blen, &pk), IDN_OK);
	assert_int_equal(pk.kind, kind);
	static const int algs[] = { IDN_SIG_SHA256, IDN_SIG_SHA1 };
	for (int i = 0; i < 2; i++) {
		uint8_t ans[1024];
		idn_wire_init(&w, ans, sizeof(ans));
		assert_int_equal(idn_pubkey_answer(k, algs[i], v_nonce, 16, v_digest, 32, &w), IDN_OK);
		size_t alen = idn_wire_offset(&w);
		/* ByteString hashAlgId + ByteString signature, nothing else. */
		idn_wire_t in;
		idn_wire_init_ro(&in, ans, alen);
		idn_bytes_t id = idn_wire_get_bstr(&in, 64);
		idn_bytes_t sig = idn_wire_get_bstr(&in, 4096);
		assert_int_equal(in.err, IDN_OK);
		assert_int_equal(idn_wire_avail(&in), 0);
		assert_true(idn_bytes_eq_str(id, algs[i] == IDN_SIG_SHA256 ? "SHA-256" : "SHA1"));
		if (kind == IDN_KEY_RSA)
			assert_int_equal(sig.len, 256);
		else
			assert_int_equal(sig.p[0], 0x30); /* DER SEQUENCE */
		assert_int_equal(idn_pubkey_verify(blob, blen, v_nonce, 16, v_digest, 32, ans, alen),
				 IDN_OK);
		assert_int_equal(idn_pubkey_verify(blob, blen, v_nonce, 16, v_digest, 31, ans, alen),
				 IDN_EACCES);
		/* Signed with one hash, checked under the other: refused. */
		uint8_t other[1024];
		idn_wire_init(&w, other, sizeof(other));
		idn_wire_put_str(&w, algs[i] == IDN_SIG_SHA256 ? "SHA1" : "SHA-256");
		idn_wire_put_bstr(&w, sig.p, sig.len);
		assert_int_equal(idn_pubkey_verify(blob, blen, v_nonce, 16, v_digest, 32, other,
						   idn_wire_offset(&w)), IDN_EACCES);
		/* The alternative hash names and the 1-byte code are accepted. */
		idn_wire_init(&w, other, sizeof(other));
		idn_wire_put_str(&w, algs[i] == IDN_SIG_SHA256 ? "sha256" : "SHA-1");
		idn_wire_put_bstr(&w, sig.p, sig.len);
		assert_int_equal(idn_pubkey_verify(blob, blen, v_nonce, 16, v_digest, 32, other,
						   idn_wire_offset(&w)), IDN_OK);
		idn_wire_init(&w, other, sizeof(other));
		uint8_t code = (uint8_t)algs[i];
		idn_wire_put_bstr(&w, &code, 1);
		idn_wire_put_bstr(&w, sig.p, sig.len);
		assert_int_equal(idn_pubkey_verify(blob, blen, v_nonce, 16, v_digest, 32, other,
						   idn_wire_offset(&w)), IDN_OK);
	}
	/* Signatures over pieces equal those over the concatenation. */
	idn_piece_t pieces[3] = { { "ab", 2 }, { "", 0 }, { "cdef", 4 } };
	idn_piece_t whole = { "abcdef", 6 };
	uint8_t sig[1024];
	idn_wire_init(&w, sig, sizeof(sig));
	assert_int_equal(idn_sign(k, IDN_SIG_SHA256, pieces, 3, &w), IDN_OK);
	size_t slen = idn_wire_offset(&w);
	assert_int_equal(idn_verify(blob, blen, IDN_SIG_SHA256, &whole, 1, sig, slen), IDN_OK);
	assert_int_equal(idn_verify(blob, blen, IDN_SIG_SHA256, pieces, 2, sig, slen), IDN_EACCES);
	assert_int_equal(idn_verify(blob, blen, IDN_SIG_SHA1, &whole, 1, sig, slen), IDN_EACCES);
	assert_int_equal(idn_verify(blob, blen, 9, &whole, 1, sig, slen), IDN_EINVAL);
	assert_int_equal(idn_verify(blob, blen, IDN_SIG_SHA256, &whole, 1, sig, 0), IDN_EACCES);
	idn_wire_init(&w, sig, sizeof(sig));
	assert_int_equal(idn_sign(k, 7, pieces, 3, &w), IDN_EINVAL);
	/* DSA is defined over SHA only; RSA takes MD5 (legacy peers). */
	idn_wire_init(&w, sig, sizeof(sig));
	int md5 = idn_sign(k, IDN_DIGEST_MD5, &whole, 1, &w);
	if (kind == IDN_KEY_DSA) {
		assert_int_equal(md5, IDN_EINVAL);
	} else {
		assert_int_equal(md5, IDN_OK);
		assert_int_equal(idn_verify(blob, blen, IDN_DIGEST_MD5, &whole, 1, sig,
					    idn_wire_offset(&w)), IDN_OK);
	}
	/* No room for the signature. */
	idn_wire_init(&w, sig, 16);
	assert_int_equal(idn_sign(k, IDN_SIG_SHA256, &whole, 1, &w), IDN_ESPACE);
	uint8_t ans[32];
	idn_wire_init(&w, ans, sizeof(ans));
	assert_int_equal(idn_pubkey_answer(k, IDN_SIG_SHA256, v_nonce, 16, v_digest, 32, &w),
			 IDN_ESPACE);
	assert_int_equal(idn_pubkey_answer(k, 5, v_nonce, 16, v_digest, 32, &w), IDN_EINVAL);
}

static void test_rsa_roundtrip(void **s)
{
	idn_pkey_t *k = NULL;
	assert_int_equal(idn_pkey_generate_rsa(2048, &k), IDN_OK);
	pubkey_roundtrip(k, IDN_KEY_RSA);

	/* Public key PEM file: save, load, verify an answer with it. */
	char dir[128], path[256];
	assert_int_equal(tu_tmpdir("auth", dir, sizeof(dir)), 0);
	snprintf(path, sizeof(path), "%s/pub.pem", dir);
	assert_int_equal(idn_pkey_save_public_pem(k, path), IDN_OK);
	idn_pkey_t *pub = NULL;
	assert_int_equal(idn_pkey_load_public_pem(path, &pub), IDN_OK);
	idn_piece_t whole = { "abcdef", 6 };
	uint8_t sig[512];
	idn_wire_t w;
	idn_wire_init(&w, sig, sizeof(sig));
	assert_int_equal(idn_sign(k, IDN_SIG_SHA1, &whole, 1, &w), IDN_OK);
	assert_int_equal(idn_pkey_verify(pub, IDN_SIG_SHA1, &whole, 1, sig, idn_wire_offset(&w)),
			 IDN_OK);
	/* Its public half is the same HS_PUBKEY blob. */
	uint8_t b1[600], b2[600];
	idn_wire_t w1, w2;
	idn_wire_init(&w1, b1, sizeof(b1));
	idn_wire_init(&w2, b2, sizeof(b2));
	assert_int_equal(idn_pkey_hs_pubkey(k, &w1), IDN_OK);
	assert_int_equal(idn_pkey_hs_pubkey(pub, &w2), IDN_OK);
	assert_int_equal(idn_wire_offset(&w1), idn_wire_offset(&w2));
	assert_memory_equal(b1, b2, idn_wire_offset(&w1));
	/* A public key cannot be saved as a private one. */
	snprintf(path, sizeof(path), "%s/priv.pem", dir);
	assert_int_equal(idn_pkey_save_pem(pub, path), IDN_ECRYPTO);
	snprintf(path, sizeof(path), "%s/missing.pem", dir);
	idn_pkey_t *none = NULL;
	assert_int_equal(idn_pkey_load_public_pem(path, &none), IDN_ENOENT);
	assert_null(none);
	idn_pkey_free(pub);
	idn_pkey_free(k);
	tu_rmrf(dir);
}

static void test_dsa_roundtrip(void **s)
{
	idn_pkey_t *k = NULL;
	assert_int_equal(idn_pkey_generate_dsa(1024, &k), IDN_OK);
	pubkey_roundtrip(k, IDN_KEY_DSA);
	idn_pkey_free(k);
}

/* Keys that do not verify: SM9, DH, SM2 blobs without a key inside, ECDSA
 * curves, unknown, broken (SM2 keys themselves: test_sm2.c). */
static void test_key_errors(void **s)
{
	uint8_t b[512], ans[64];
	idn_wire_t w;
	idn_wire_init(&w, ans, sizeof(ans));
	idn_wire_put_str(&w, "SHA-256");
	idn_wire_put_bstr(&w, "sig", 3);
	size_t alen = idn_wire_offset(&w);
	static const char *const types[] = { "SM2_PUB_KEY", "SM9_PUB_KEY", "DH_PUB_KEY" };
	for (int i = 0; i < 3; i++) {
		idn_wire_init(&w, b, sizeof(b));
		idn_wire_put_str(&w, types[i]);
		idn_wire_put_u16(&w, 0);
		for (int j = 0; j < 3; j++)
			idn_wire_put_bstr(&w, "\x01\x02", 2);
		/* The SM2 blob's payload is no SubjectPublicKeyInfo. */
		assert_int_equal(idn_pubkey_verify(b, idn_wire_offset(&w), v_nonce, 16, v_digest, 32,
						   ans, alen), i == 0 ? IDN_ECRYPTO : IDN_EINVAL);
	}
	idn_pkey_t *k = NULL;
	/* Unknown key type; truncated blob. */
	idn_wire_init(&w, b, sizeof(b));
	idn_wire_put_str(&w, "XYZ_PUB_KEY");
	idn_wire_put_u16(&w, 0);
	assert_int_equal(idn_pkey_from_hs_pubkey(b, idn_wire_offset(&w), &k), IDN_EMALF);
	assert_int_equal(idn_pkey_from_hs_pubkey(admin_blob, 100, &k), IDN_EFEWDATA);
	/* RSA with an empty modulus; with a modulus over 16 kbit. */
	idn_wire_init(&w, b, sizeof(b));
	idn_wire_put_str(&w, "RSA_PUB_KEY");
	idn_wire_put_u16(&w, 0);
	idn_wire_put_bstr(&w, "\x01\x00\x01", 3);
	idn_wire_put_bstr(&w, "", 0);
	assert_int_equal(idn_pkey_from_hs_pubkey(b, idn_wire_offset(&w), &k), IDN_EMALF);
	uint8_t *big = calloc(1, 8300);
	idn_wire_init(&w, big, 8300);
	idn_wire_put_str(&w, "RSA_PUB_KEY");
	idn_wire_put_u16(&w, 0);
	idn_wire_put_bstr(&w, "\x01\x00\x01", 3);
	idn_wire_put_u32(&w, 4096);
	memset(big + idn_wire_offset(&w), 0xff, 4096);
	assert_int_equal(idn_pkey_from_hs_pubkey(big, idn_wire_offset(&w) + 4096, &k), IDN_ELIMIT);
	free(big);
	/* PEM that does not parse; an EC key on P-256 (ECDSA: not supported). */
	const char *junk = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
	assert_int_equal(idn_pkey_from_hs_pubkey(K(junk), strlen(junk), &k), IDN_ECRYPTO);
	const char *ec = "-----BEGIN PUBLIC KEY-----\n"
			 "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEOQUfCj7QW3VpWBYJ+jCNY07SDOeh\n"
			 "CcC5HFyqm8kI3m1rLfjUcNkvMzO2HvjIOuEK7tp+riO/skUAGuHs6/jGUg==\n"
			 "-----END PUBLIC KEY-----\n";
	assert_int_equal(idn_pkey_from_hs_pubkey(K(ec), strlen(ec), &k), IDN_EINVAL);
	assert_null(k);
	/* Answers that do not decode, unknown hash names. */
	assert_int_equal(idn_pubkey_verify(admin_blob, admin_blob_len, v_nonce, 16, v_digest, 32, ans,
					   3), IDN_EFEWDATA);
	idn_wire_init(&w, ans, sizeof(ans));
	idn_wire_put_str(&w, "SHA-512");
	idn_wire_put_bstr(&w, "sig", 3);
	assert_int_equal(idn_pubkey_verify(admin_blob, admin_blob_len, v_nonce, 16, v_digest, 32, ans,
					   idn_wire_offset(&w)), IDN_EINVAL);
	idn_wire_init(&w, ans, sizeof(ans));
	idn_wire_put_str(&w, "SHA1");
	idn_wire_put_u32(&w, 0x100000);
	assert_int_equal(idn_pubkey_verify(admin_blob, admin_blob_len, v_nonce, 16, v_digest, 32, ans,
					   idn_wire_offset(&w)), IDN_ELIMIT);
	/* A signature of the wrong size for the key. */
	idn_wire_init(&w, ans, sizeof(ans));
	idn_wire_put_str(&w, "SHA1");
	idn_wire_put_bstr(&w, "sig", 3);
	assert_int_equal(idn_pubkey_verify(admin_blob, admin_blob_len, v_nonce, 16, v_digest, 32, ans,
					   idn_wire_offset(&w)), IDN_EACCES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v11),
		cmocka_unit_test(test_v12),
		cmocka_unit_test(test_v13_pieces),
		cmocka_unit_test(test_captured_seckey),
		cmocka_unit_test(test_captured_pubkey),
		cmocka_unit_test(test_seckey_roundtrip),
		cmocka_unit_test(test_seckey_malformed),
		cmocka_unit_test(test_rsa_roundtrip),
		cmocka_unit_test(test_dsa_roundtrip),
		cmocka_unit_test(test_key_errors),
	};
	return cmocka_run_group_tests_name("proto/auth", tests, setup, NULL);
}
