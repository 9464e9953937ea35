/* test_sm2.c - SM2/SM3 answers and keys: every captured IDIS SDK login answer (SM2 and RSA) verified, round trips with the signer id, SM2_PUB_KEY blobs and PEM text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "proto/admin.h"
#include "proto/auth.h"
#include "proto/msg.h"
#include "proto/pkey.h"
#include "proto/record.h"
#include "tests/util/testutil.h"

/* The public halves of the test identities (vectors/idis/README.md), with
 * the CRLF line breaks the SDK's PEM writer uses. */
static const char RSA_PEM[] =
	"-----BEGIN PUBLIC KEY-----\r\n"
	"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAmsgEfwBSdqZLKsv3S73xCpiridlfl9TX\r\n"
	"Lnc+1gsxXoqJnAfY3w/Q+cNoKTvL2w2DhuU3WEoGeYF4FqMiBfaQMukl/UJBpW6VV3/9jzLiZeND\r\n"
	"iwCZTjx5q3fiyRgfT3c3KfCGGb0FsPBjCMpvErsOF9TgkjgD/KUlr5Z7StH/lcEBhSmFBykS0uwM\r\n"
	"dYV46HTp6IUbQSIuwuXKpw2DEvwTrfwknucaAntSbIy25rJ1BRiTeQqTnHHyZCbTfh+91LfTNYNJ\r\n"
	"UEpV763ucR00tfafQ3mBKL09Z9EYTnKdtEhlzNehSaOdiLEApj5i5i/EFCV/FbRBpvsytZwsPBM5\r\n"
	"jEvUeQIDAQAB\r\n"
	"-----END PUBLIC KEY-----\r\n";
static const char OTHER_PEM[] =
	"-----BEGIN PUBLIC KEY-----\r\n"
	"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAjzaUQ41dHrDVg3jmQ/YJZfObHbIq5QhD\r\n"
	"Awr7PrkiVt4ahwyuAOZ3Ps4W9JM+XyYXlSIstHObtOebpYbaQACa+bPx4ZDXBNiz+00Ef43P7ftp\r\n"
	"JjC+Ii0kSesAhHD0se9GVWFf4swHRnlqy1Hv6+d5/d2eLrqCGd5UY9arzUaOPJc0Bk8AOLzkxWDv\r\n"
	"sJoN+gweziNQ/U/qA/H0W+pldDN33APIbn4iP43l/f+yup2SfbUKWoPUb08JzGMb0N+gtxGaa6NQ\r\n"
	"7ys+iuJsCEZe38DGbnykV7Xgt9eYpU2bC4KpZcy728IndTWzWpFKZ6L2oEqP2wHV6QHCwfef2pLA\r\n"
	"gWCz2wIDAQAB\r\n"
	"-----END PUBLIC KEY-----\r\n";
static const char SM2_PEM[] =
	"-----BEGIN PUBLIC KEY-----\r\n"
	"MFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0DQgAEhNOzqJXuJ6ha6R6uW61RRasxzy3Q8TsshqvXUeYc\r\n"
	"X283PO8jCGCbx23KBT+ilYQDvX14zOvd25+Sgy27oQUdOQ==\r\n"
	"-----END PUBLIC KEY-----\r\n";
/* The same SM2 key with LF line breaks (OpenSSL's and most tools' form). */
static const char SM2_PEM_LF[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0DQgAEhNOzqJXuJ6ha6R6uW61RRasxzy3Q8TsshqvXUeYc\n"
	"X283PO8jCGCbx23KBT+ilYQDvX14zOvd25+Sgy27oQUdOQ==\n"
	"-----END PUBLIC KEY-----\n";
/* ...and as DER (the payload an SDK test writes into SM2_PUB_KEY). */
static const char SM2_DER_HEX[] =
	"3059301306072a8648ce3d020106082a811ccf5501822d0342000484d3b3a895ee27a85ae91eae5bad5145ab"
	"31cf2dd0f13b2c86abd751e61c5f6f373cef2308609bc76dca053fa2958403bd7d78ccebdddb9f92832dbba1"
	"051d39";
/* An EC key on P-256: ECDSA, not SM2. */
static const char P256_PEM[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEOQUfCj7QW3VpWBYJ+jCNY07SDOeh\n"
	"CcC5HFyqm8kI3m1rLfjUcNkvMzO2HvjIOuEK7tp+riO/skUAGuHs6/jGUg==\n"
	"-----END PUBLIC KEY-----\n";

static const uint8_t *K(const char *s)
{
	return (const uint8_t *)s;
}

/* An SM2_PUB_KEY blob around `payload` into buf; returns its length. */
static size_t sm2_blob(uint8_t *buf, size_t cap, const void *payload, size_t plen)
{
	idn_wire_t w;
	idn_wire_init(&w, buf, cap);
	idn_wire_put_str(&w, "SM2_PUB_KEY");
	idn_wire_put_u16(&w, 0);
	idn_wire_put_bstr(&w, payload, plen);
	assert_int_equal(w.err, IDN_OK);
	return idn_wire_offset(&w);
}

/* ------------------------------------------------------------------ */
/* The captured logins (vectors/idis).                                 */

typedef struct {
	const char *file;
	bool wrong_key;     /* m06: signed with the key of other-pub.pem */
} login_capture_t;

typedef struct {
	int sm2, rsa;       /* answers checked, by kind */
} counts_t;

/* Every form an SM2 key's HS_PUBKEY value may take: PEM (CRLF, LF), the
 * SDK's SM2_PUB_KEY blob with PEM inside, with DER inside. */
static void sm2_forms(uint8_t forms[4][512], size_t len[4])
{
	memcpy(forms[0], SM2_PEM, strlen(SM2_PEM));
	len[0] = strlen(SM2_PEM);
	memcpy(forms[1], SM2_PEM_LF, strlen(SM2_PEM_LF));
	len[1] = strlen(SM2_PEM_LF);
	len[2] = sm2_blob(forms[2], 512, SM2_PEM, strlen(SM2_PEM));
	uint8_t der[128];
	long n = tu_hex(SM2_DER_HEX, der, sizeof(der));
	assert_int_equal(n, 91);
	len[3] = sm2_blob(forms[3], 512, der, (size_t)n);
}

/* One OC 200 answering the 402 before it: verify it against the key its
 * handle names, with the handle as the SM2 signer id. */
static void check_answer(const login_capture_t *c, const idn_msg_t *login, const idn_msg_t *chal,
			 const idn_msg_t *ans, counts_t *cnt)
{
	uint8_t alg;
	idn_bytes_t dg, nonce;
	assert_int_equal(idn_challenge_decode(chal->body.p, chal->body.len, &alg, &dg, &nonce),
			 IDN_OK);
	assert_int_equal(alg, IDN_DIGEST_SHA256);
	/* The challenge's digest is that of the 2001's header + body as sent. */
	uint8_t want[IDN_DIGEST_MAX];
	size_t wlen;
	assert_int_equal(idn_digest(IDN_DIGEST_SHA256, login->hb.p, login->hb.len, want, &wlen),
			 IDN_OK);
	assert_int_equal(wlen, dg.len);
	assert_memory_equal(want, dg.p, wlen);

	idn_challenge_answer_t a;
	assert_int_equal(idn_challenge_answer_decode(ans->body.p, ans->body.len, &a), IDN_OK);
	assert_true(idn_bytes_eq_str(a.auth_type, "HS_PUBKEY"));
	assert_int_equal(a.key_index, 300);
	uint8_t *copy = malloc(a.answer.len);
	memcpy(copy, a.answer.p, a.answer.len);
	const uint8_t *id = a.key_handle.p;
	size_t idlen = a.key_handle.len;
	idn_wire_t w;
	idn_wire_init_ro(&w, copy, a.answer.len);
	idn_bytes_t hash = idn_wire_get_bstr(&w, 64);
	assert_int_equal(w.err, IDN_OK);

	if (idn_bytes_eq_str(a.key_handle, "88.888.1/sm2user")) {
		assert_true(idn_bytes_eq_str(hash, "SM3"));
		cnt->sm2++;
		uint8_t forms[4][512];
		size_t flen[4];
		sm2_forms(forms, flen);
		for (int f = 0; f < 4; f++)
			assert_int_equal(idn_pubkey_verify_id(forms[f], flen[f], id, idlen, nonce.p,
							      nonce.len, dg.p, dg.len, copy,
							      a.answer.len),
					 IDN_OK);
		/* The id is part of what is signed: another one, or none (the
		 * default id), does not verify. */
		const char *other = "88.888.1/SM2USER";
		assert_int_equal(idn_pubkey_verify_id(forms[0], flen[0], K(other), strlen(other),
						      nonce.p, nonce.len, dg.p, dg.len, copy,
						      a.answer.len),
				 IDN_EACCES);
		assert_int_equal(idn_pubkey_verify(forms[0], flen[0], nonce.p, nonce.len, dg.p,
						   dg.len, copy, a.answer.len),
				 IDN_EACCES);
		/* Not the RSA key; a changed nonce or digest fails. */
		assert_int_not_equal(idn_pubkey_verify_id(K(RSA_PEM), strlen(RSA_PEM), id, idlen,
							  nonce.p, nonce.len, dg.p, dg.len, copy,
							  a.answer.len),
				     IDN_OK);
		uint8_t d2[64];
		memcpy(d2, dg.p, dg.len);
		d2[5] ^= 1;
		assert_int_equal(idn_pubkey_verify_id(forms[2], flen[2], id, idlen, nonce.p,
						      nonce.len, d2, dg.len, copy, a.answer.len),
				 IDN_EACCES);
		/* What the SDK signs is the 32-byte SM3(nonce || digest), not
		 * nonce || digest itself. */
		idn_pkey_t *k;
		assert_int_equal(idn_pkey_from_hs_pubkey(forms[2], flen[2], &k), IDN_OK);
		idn_bytes_t sig = idn_wire_get_bstr(&w, 4096);
		idn_piece_t raw[2] = { { nonce.p, nonce.len }, { dg.p, dg.len } };
		assert_int_equal(idn_pkey_verify_id(k, IDN_SIG_SM3, id, idlen, raw, 2, sig.p,
						    sig.len),
				 IDN_EACCES);
		idn_pkey_free(k);
		/* Any changed byte of the answer fails. */
		for (size_t i = 0; i < a.answer.len; i++) {
			copy[i] ^= 0x01;
			assert_int_not_equal(idn_pubkey_verify_id(forms[0], flen[0], id, idlen,
								  nonce.p, nonce.len, dg.p, dg.len,
								  copy, a.answer.len),
					     IDN_OK);
			copy[i] ^= 0x01;
		}
	} else {
		assert_true(idn_bytes_eq_str(a.key_handle, "88.888.1/rsauser"));
		/* The challenges are 2.11: SHA-256. */
		assert_true(idn_bytes_eq_str(hash, "SHA-256"));
		cnt->rsa++;
		const char *right = c->wrong_key ? OTHER_PEM : RSA_PEM;
		const char *wrong = c->wrong_key ? RSA_PEM : OTHER_PEM;
		/* RSA ignores the id: with it, without it. */
		assert_int_equal(idn_pubkey_verify_id(K(right), strlen(right), id, idlen, nonce.p,
						      nonce.len, dg.p, dg.len, copy, a.answer.len),
				 IDN_OK);
		assert_int_equal(idn_pubkey_verify(K(right), strlen(right), nonce.p, nonce.len, dg.p,
						   dg.len, copy, a.answer.len),
				 IDN_OK);
		assert_int_equal(idn_pubkey_verify_id(K(wrong), strlen(wrong), id, idlen, nonce.p,
						      nonce.len, dg.p, dg.len, copy, a.answer.len),
				 IDN_EACCES);
		/* The same key as a CNRI RSA_PUB_KEY blob. */
		idn_pkey_t *k;
		assert_int_equal(idn_pkey_from_hs_pubkey(K(right), strlen(right), &k), IDN_OK);
		assert_int_equal(idn_pkey_kind(k), IDN_KEY_RSA);
		uint8_t blob[600];
		idn_wire_t bw;
		idn_wire_init(&bw, blob, sizeof(blob));
		assert_int_equal(idn_pkey_hs_pubkey(k, &bw), IDN_OK);
		idn_pkey_free(k);
		assert_int_equal(idn_pubkey_verify_id(blob, idn_wire_offset(&bw), id, idlen, nonce.p,
						      nonce.len, dg.p, dg.len, copy, a.answer.len),
				 IDN_OK);
		/* An RSA answer checked against an SM2 key fails. */
		assert_int_not_equal(idn_pubkey_verify_id(K(SM2_PEM), strlen(SM2_PEM), id, idlen,
							  nonce.p, nonce.len, dg.p, dg.len, copy,
							  a.answer.len),
				     IDN_OK);
		for (size_t i = 0; i < a.answer.len; i += 5) {
			copy[i] ^= 0x01;
			assert_int_not_equal(idn_pubkey_verify_id(K(right), strlen(right), id, idlen,
								  nonce.p, nonce.len, dg.p, dg.len,
								  copy, a.answer.len),
					     IDN_OK);
			copy[i] ^= 0x01;
		}
	}
	free(copy);
}

static void check_login_capture(const login_capture_t *c, counts_t *cnt)
{
	char rel[128];
	snprintf(rel, sizeof(rel), "vectors/idis/%s.hex", c->file);
	tu_line_t *l;
	int n = tu_load_capture(rel, &l);
	if (n < 0)
		fail_msg("%s: cannot load", rel);
	idn_msg_t login, chal, m;
	memset(&login, 0, sizeof(login));
	memset(&chal, 0, sizeof(chal));
	bool have_login = false, have_chal = false;
	int answers = 0;
	for (int i = 0; i < n; i++) {
		assert_int_equal(idn_msg_decode(l[i].bytes, l[i].len, &m), IDN_OK);
		if (l[i].dir == 'C' && m.hdr.opcode == IDN_OC_LOGIN_ID_SYSTEM) {
			login = m;
			have_login = true;
		} else if (l[i].dir == 'S' && m.hdr.rcode == IDN_RC_AUTHENTICATION_NEEDED &&
			   m.hdr.opcode == IDN_OC_LOGIN_ID_SYSTEM) {
			chal = m;
			have_chal = true;
		} else if (l[i].dir == 'C' && m.hdr.opcode == IDN_OC_RESPONSE_TO_CHALLENGE) {
			assert_true(have_login && have_chal);
			check_answer(c, &login, &chal, &m, cnt);
			answers++;
		}
	}
	if (answers != 1)
		fail_msg("%s: %d answers, expected 1", rel, answers);
	tu_lines_free(l, n);
}

static void test_captured_logins(void **s)
{
	static const login_capture_t c[] = {
		{ "m02-login-rsa-create-mock", false },
		{ "m03-login-sm2-create-mock", false },
		{ "m04-login-sm2-resolve-twice-mock", false },
		{ "m06-login-wrong-key-mock", true },
		{ "m09-final-opcode-200-mock", false },
		{ "m11-site-info-error-mock", false },
		{ "m12-challenge-session-id-mock", false },
	};
	counts_t cnt = { 0, 0 };
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		check_login_capture(&c[i], &cnt);
	assert_int_equal(cnt.sm2, 2);
	assert_int_equal(cnt.rsa, 5);
}

/* ------------------------------------------------------------------ */
/* Round trips.                                                        */

static uint8_t nonce[16], digest[32];

static int setup(void **s)
{
	for (int i = 0; i < 16; i++)
		nonce[i] = (uint8_t)(0xa0 + i);
	for (int i = 0; i < 32; i++)
		digest[i] = (uint8_t)(i * 7);
	return 0;
}

static size_t answer(const idn_pkey_t *k, int alg, const char *id, uint8_t *buf, size_t cap)
{
	idn_wire_t w;
	idn_wire_init(&w, buf, cap);
	int ret = idn_pubkey_answer_id(k, alg, K(id), id ? strlen(id) : 0, nonce, 16, digest, 32,
				       &w);
	assert_int_equal(ret, IDN_OK);
	return idn_wire_offset(&w);
}

static void test_sm2_roundtrip(void **s)
{
	const char *id = "0.NA/88.100.14";
	idn_pkey_t *k;
	assert_int_equal(idn_pkey_generate_sm2(&k), IDN_OK);
	assert_int_equal(idn_pkey_kind(k), IDN_KEY_SM2);
	uint8_t blob[512];
	idn_wire_t w;
	idn_wire_init(&w, blob, sizeof(blob));
	assert_int_equal(idn_pkey_hs_pubkey(k, &w), IDN_OK);
	size_t blen = idn_wire_offset(&w);

	uint8_t ans[256];
	for (int round = 0; round < 8; round++) {
		size_t alen = answer(k, IDN_SIG_SM3, id, ans, sizeof(ans));
		/* ByteString "SM3" + ByteString DER SEQUENCE{r,s} (70-72 bytes). */
		idn_wire_t r;
		idn_wire_init_ro(&r, ans, alen);
		assert_true(idn_bytes_eq_str(idn_wire_get_bstr(&r, 64), "SM3"));
		idn_bytes_t sig = idn_wire_get_bstr(&r, 256);
		assert_int_equal(r.err, IDN_OK);
		assert_int_equal(idn_wire_avail(&r), 0);
		assert_true(sig.len >= 68 && sig.len <= 72 && sig.p[0] == 0x30);
		assert_int_equal(idn_pubkey_verify_id(blob, blen, K(id), strlen(id), nonce, 16,
						      digest, 32, ans, alen),
				 IDN_OK);
		assert_int_equal(idn_pubkey_verify_id(blob, blen, K("0.NA/88.100.15"), 14, nonce, 16,
						      digest, 32, ans, alen),
				 IDN_EACCES);
		assert_int_equal(idn_pubkey_verify(blob, blen, nonce, 16, digest, 32, ans, alen),
				 IDN_EACCES);
		assert_int_equal(idn_pubkey_verify_id(blob, blen, K(id), strlen(id), nonce, 15,
						      digest, 32, ans, alen),
				 IDN_EACCES);
	}
	/* No id: the default one, on both sides, also given explicitly. */
	size_t alen = answer(k, IDN_SIG_SM3, NULL, ans, sizeof(ans));
	assert_int_equal(idn_pubkey_verify(blob, blen, nonce, 16, digest, 32, ans, alen), IDN_OK);
	assert_int_equal(idn_pubkey_verify_id(blob, blen, K(IDN_SM2_DEFAULT_ID), 16, nonce, 16,
					      digest, 32, ans, alen),
			 IDN_OK);
	/* SM2 takes SM3 only, and SM3 serves SM2 only. */
	idn_wire_init(&w, ans, sizeof(ans));
	assert_int_equal(idn_pubkey_answer_id(k, IDN_SIG_SHA256, K(id), strlen(id), nonce, 16,
					      digest, 32, &w),
			 IDN_EINVAL);
	idn_pkey_t *rsa;
	assert_int_equal(idn_pkey_generate_rsa(1024, &rsa), IDN_OK);
	idn_wire_init(&w, ans, sizeof(ans));
	assert_int_equal(idn_pubkey_answer_id(rsa, IDN_SIG_SM3, K(id), strlen(id), nonce, 16,
					      digest, 32, &w),
			 IDN_EINVAL);
	/* An "SM3" answer against an RSA key; a "SHA-256" one against SM2. */
	alen = answer(k, IDN_SIG_SM3, id, ans, sizeof(ans));
	uint8_t rblob[512];
	idn_wire_init(&w, rblob, sizeof(rblob));
	assert_int_equal(idn_pkey_hs_pubkey(rsa, &w), IDN_OK);
	assert_int_equal(idn_pubkey_verify_id(rblob, idn_wire_offset(&w), K(id), strlen(id), nonce,
					      16, digest, 32, ans, alen),
			 IDN_EINVAL);
	alen = answer(rsa, IDN_SIG_SHA256, id, ans, sizeof(ans));
	assert_int_equal(idn_pubkey_verify_id(blob, blen, K(id), strlen(id), nonce, 16, digest, 32,
					      ans, alen),
			 IDN_EINVAL);
	idn_pkey_free(rsa);

	/* Signatures over data (credentials): SM3 with the default id. */
	idn_piece_t p[2] = { { "hello ", 6 }, { "world", 5 } };
	uint8_t sig[128];
	idn_wire_init(&w, sig, sizeof(sig));
	assert_int_equal(idn_sign(k, IDN_SIG_SM3, p, 2, &w), IDN_OK);
	size_t slen = idn_wire_offset(&w);
	assert_int_equal(idn_verify(blob, blen, IDN_SIG_SM3, p, 2, sig, slen), IDN_OK);
	assert_int_equal(idn_verify(blob, blen, IDN_SIG_SHA256, p, 2, sig, slen), IDN_EINVAL);
	assert_int_equal(idn_verify(blob, blen, IDN_SIG_SM3, p, 1, sig, slen), IDN_EACCES);
	/* With an id, through the key API; an empty id is a valid id too. */
	idn_wire_init(&w, sig, sizeof(sig));
	assert_int_equal(idn_pkey_sign_id(k, IDN_SIG_SM3, K(""), 0, p, 2, &w), IDN_OK);
	slen = idn_wire_offset(&w);
	assert_int_equal(idn_pkey_verify_id(k, IDN_SIG_SM3, K(""), 0, p, 2, sig, slen), IDN_OK);
	assert_int_equal(idn_pkey_verify_id(k, IDN_SIG_SM3, NULL, 0, p, 2, sig, slen), IDN_EACCES);
	idn_pkey_free(k);
}

static void test_sm2_pem_files(void **s)
{
	char dir[128], priv[256], pub[256];
	assert_int_equal(tu_tmpdir("sm2", dir, sizeof(dir)), 0);
	snprintf(priv, sizeof(priv), "%s/k.pem", dir);
	snprintf(pub, sizeof(pub), "%s/k.pub.pem", dir);
	idn_pkey_t *k, *k2, *kp;
	assert_int_equal(idn_pkey_generate_sm2(&k), IDN_OK);
	assert_int_equal(idn_pkey_save_pem(k, priv), IDN_OK);
	assert_int_equal(idn_pkey_save_public_pem(k, pub), IDN_OK);
	/* PKCS#8, the form Hutool/BouncyCastle read (idis-wire.md 4, m05). */
	char buf[1024];
	FILE *f = fopen(priv, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	assert_non_null(strstr(buf, "-----BEGIN PRIVATE KEY-----"));
	assert_int_equal(idn_pkey_load_pem(priv, &k2), IDN_OK);
	assert_int_equal(idn_pkey_kind(k2), IDN_KEY_SM2);
	assert_int_equal(idn_pkey_load_public_pem(pub, &kp), IDN_OK);
	assert_int_equal(idn_pkey_kind(kp), IDN_KEY_SM2);
	/* The loaded key answers; the original's blob and the public file's
	 * blob both verify it. */
	const char *id = "88.100.14/someone";
	uint8_t ans[256], b1[512], b2[512];
	size_t alen = answer(k2, IDN_SIG_SM3, id, ans, sizeof(ans));
	idn_wire_t w1, w2;
	idn_wire_init(&w1, b1, sizeof(b1));
	idn_wire_init(&w2, b2, sizeof(b2));
	assert_int_equal(idn_pkey_hs_pubkey(k, &w1), IDN_OK);
	assert_int_equal(idn_pkey_hs_pubkey(kp, &w2), IDN_OK);
	assert_int_equal(idn_wire_offset(&w1), idn_wire_offset(&w2));
	assert_memory_equal(b1, b2, idn_wire_offset(&w1));
	assert_int_equal(idn_pubkey_verify_id(b1, idn_wire_offset(&w1), K(id), strlen(id), nonce, 16,
					      digest, 32, ans, alen),
			 IDN_OK);
	/* A verify-only key does not sign. */
	idn_wire_t w;
	idn_wire_init(&w, ans, sizeof(ans));
	assert_int_equal(idn_pubkey_answer_id(kp, IDN_SIG_SM3, K(id), strlen(id), nonce, 16, digest,
					      32, &w),
			 IDN_EINVAL);
	idn_pkey_free(k);
	idn_pkey_free(k2);
	idn_pkey_free(kp);
	assert_int_equal(tu_rmrf(dir), 0);
}

/* ------------------------------------------------------------------ */
/* HS_PUBKEY values.                                                   */

static void test_hs_pubkey_sm2_blob(void **s)
{
	idn_pkey_t *k, *k2;
	assert_int_equal(idn_pkey_generate_sm2(&k), IDN_OK);
	uint8_t blob[512];
	idn_wire_t w;
	idn_wire_init(&w, blob, sizeof(blob));
	assert_int_equal(idn_pkey_hs_pubkey(k, &w), IDN_OK);
	size_t blen = idn_wire_offset(&w);
	/* ByteString "SM2_PUB_KEY", int2 0, ByteString PEM text with CRLF. */
	idn_pubkey_t pk;
	assert_int_equal(idn_pubkey_decode(blob, blen, &pk), IDN_OK);
	assert_int_equal(pk.kind, IDN_KEY_SM2);
	assert_true(idn_bytes_eq_str(pk.type, "SM2_PUB_KEY"));
	assert_int_equal(blob[15], 0);
	assert_int_equal(blob[16], 0);
	assert_int_equal(blen, 4 + 11 + 2 + 4 + pk.pem.len);
	char *pem = calloc(1, pk.pem.len + 1);
	memcpy(pem, pk.pem.p, pk.pem.len);
	assert_int_equal(strncmp(pem, "-----BEGIN PUBLIC KEY-----\r\n", 28), 0);
	assert_non_null(strstr(pem, "-----END PUBLIC KEY-----\r\n"));
	for (size_t i = 0; i < pk.pem.len; i++)
		if (pem[i] == '\n')
			assert_true(i > 0 && pem[i - 1] == '\r');
	/* It reads back as the same key, and its PEM alone too. */
	assert_int_equal(idn_pkey_from_hs_pubkey(blob, blen, &k2), IDN_OK);
	assert_int_equal(idn_pkey_kind(k2), IDN_KEY_SM2);
	uint8_t again[512];
	idn_wire_init(&w, again, sizeof(again));
	assert_int_equal(idn_pkey_hs_pubkey(k2, &w), IDN_OK);
	assert_int_equal(idn_wire_offset(&w), blen);
	assert_memory_equal(again, blob, blen);
	idn_pkey_free(k2);
	assert_int_equal(idn_pkey_from_hs_pubkey(K(pem), strlen(pem), &k2), IDN_OK);
	assert_int_equal(idn_pkey_kind(k2), IDN_KEY_SM2);
	idn_pkey_free(k2);
	free(pem);
	idn_pkey_free(k);
}

static void test_hs_pubkey_forms(void **s)
{
	uint8_t forms[4][512];
	size_t flen[4];
	sm2_forms(forms, flen);
	idn_pkey_t *k;
	uint8_t ref[512], out[512];
	size_t rlen = 0;
	for (int f = 0; f < 4; f++) {
		assert_int_equal(idn_pkey_from_hs_pubkey(forms[f], flen[f], &k), IDN_OK);
		assert_int_equal(idn_pkey_kind(k), IDN_KEY_SM2);
		/* Every form is the same key: the same blob comes out. */
		idn_wire_t w;
		idn_wire_init(&w, f ? out : ref, 512);
		assert_int_equal(idn_pkey_hs_pubkey(k, &w), IDN_OK);
		if (f == 0)
			rlen = idn_wire_offset(&w);
		else {
			assert_int_equal(idn_wire_offset(&w), rlen);
			assert_memory_equal(out, ref, rlen);
		}
		idn_pkey_free(k);
	}
	/* RSA PEM with CRLF and 76-column lines, as the SDK writes it. */
	assert_int_equal(idn_pkey_from_hs_pubkey(K(RSA_PEM), strlen(RSA_PEM), &k), IDN_OK);
	assert_int_equal(idn_pkey_kind(k), IDN_KEY_RSA);
	idn_pkey_free(k);

	k = NULL;
	uint8_t b[1024];
	size_t n;
	/* An SM2_PUB_KEY blob must hold an SM2 key. */
	n = sm2_blob(b, sizeof(b), RSA_PEM, strlen(RSA_PEM));
	assert_int_equal(idn_pkey_from_hs_pubkey(b, n, &k), IDN_EINVAL);
	n = sm2_blob(b, sizeof(b), P256_PEM, strlen(P256_PEM));
	assert_int_equal(idn_pkey_from_hs_pubkey(b, n, &k), IDN_EINVAL);
	/* ECDSA keys as PEM values are not taken either. */
	assert_int_equal(idn_pkey_from_hs_pubkey(K(P256_PEM), strlen(P256_PEM), &k), IDN_EINVAL);
	/* DER with bytes after it; DER cut short; empty; PEM garbage. */
	uint8_t der[100];
	long dl = tu_hex(SM2_DER_HEX, der, sizeof(der));
	der[dl] = 0;
	n = sm2_blob(b, sizeof(b), der, (size_t)dl + 1);
	assert_int_equal(idn_pkey_from_hs_pubkey(b, n, &k), IDN_EMALF);
	n = sm2_blob(b, sizeof(b), der, (size_t)dl - 1);
	assert_int_equal(idn_pkey_from_hs_pubkey(b, n, &k), IDN_ECRYPTO);
	n = sm2_blob(b, sizeof(b), "", 0);
	assert_int_equal(idn_pkey_from_hs_pubkey(b, n, &k), IDN_ECRYPTO);
	const char *junk = "-----BEGIN PUBLIC KEY-----\r\nAAAA\r\n-----END PUBLIC KEY-----\r\n";
	n = sm2_blob(b, sizeof(b), junk, strlen(junk));
	assert_int_equal(idn_pkey_from_hs_pubkey(b, n, &k), IDN_ECRYPTO);
	/* A blob cut inside its payload; a payload over the SPKI bound. */
	n = sm2_blob(b, sizeof(b), SM2_PEM, strlen(SM2_PEM));
	assert_int_equal(idn_pkey_from_hs_pubkey(b, n - 10, &k), IDN_EFEWDATA);
	uint8_t *big = calloc(1, 6000);
	memset(big, 'A', 5000);
	memcpy(big, "-----BEGIN", 10);
	uint8_t *bb = malloc(6100);
	n = sm2_blob(bb, 6100, big, 5000);
	assert_int_equal(idn_pkey_from_hs_pubkey(bb, n, &k), IDN_ELIMIT);
	free(bb);
	free(big);
	assert_null(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_captured_logins),
		cmocka_unit_test(test_sm2_roundtrip),
		cmocka_unit_test(test_sm2_pem_files),
		cmocka_unit_test(test_hs_pubkey_sm2_blob),
		cmocka_unit_test(test_hs_pubkey_forms),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
