/* auth.c - challenge answers: HS_SECKEY MACs (hash, HMAC, PBKDF2) and HS_PUBKEY signatures (RSA, DSA, SM2 with SM3), made and checked on OpenSSL 3. */
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "proto/auth.h"
#include "proto/msg.h"
#include "proto/record.h"

/* The old answer format (peers < 2.1): MD5(K|D|K) without a code byte. No
 * coded answer is 16 bytes long, so the length tells them apart. */
#define OLD_ANSWER_LEN 16

/* PBKDF2 parameters come from the answer, i.e. from an unauthenticated
 * peer: bound the work one answer can cost (CNRI sends 10000 x 160 bits). */
#define PBKDF2_MAX_ITER 1000000u
#define PBKDF2_MAX_KEYBITS 512u
#define PBKDF2_MAX_SALT 1024
#define PBKDF2_SALT_LEN 16
#define PBKDF2_ITER 10000u
#define PBKDF2_KEYBITS 160u

/* A signature in an HS_PUBKEY answer: 16 kbit RSA is 2 KiB. */
#define SIG_MAX 4096
#define HASH_ID_MAX 64

/* ------------------------------------------------------------------ */
/* MAC primitives over the pieces K, D = nonce || digest.              */

/* HMAC(key, pieces) with OpenSSL's EVP_MAC; md "SHA1" or "SHA256". */
static int hmac(const char *md, const uint8_t *key, size_t klen, const idn_piece_t *pieces,
		size_t n, uint8_t *out, size_t *outlen)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[2] = { OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
								  (char *)md, 0),
				 OSSL_PARAM_construct_end() };
	/* An empty key still needs a valid pointer. */
	static const uint8_t none[1];
	int ok = ctx && EVP_MAC_init(ctx, klen ? key : none, klen, params) == 1;
	for (size_t i = 0; ok && i < n; i++)
		ok = EVP_MAC_update(ctx, pieces[i].p, pieces[i].len) == 1;
	if (ok)
		ok = EVP_MAC_final(ctx, out, outlen, IDN_DIGEST_MAX) == 1;
	int ret = ok ? IDN_OK : ctx ? IDN_ECRYPTO : IDN_ENOMEM;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	if (ret)
		ERR_clear_error();
	return ret;
}

/* H(K | D | K) for the hash codes 1-3 (and the old format, MD5). */
static int hash_kdk(int alg, const uint8_t *key, size_t klen, const uint8_t *nonce, size_t nlen,
		    const uint8_t *digest, size_t dlen, uint8_t *out, size_t *outlen)
{
	idn_piece_t p[4] = { { key, klen }, { nonce, nlen }, { digest, dlen }, { key, klen } };
	return idn_digestv(alg, p, 4, out, outlen);
}

/*
 * PBKDF2-HMAC-SHA1 of the secret as CNRI computes it: Java widens every key
 * byte to a char and PBKDF2 UTF-8-encodes the chars, so the password is
 * UTF-8(Latin-1 decode(K)); bytes >= 0x80 become two bytes.
 */
static int pbkdf2(const uint8_t *key, size_t klen, const uint8_t *salt, size_t slen,
		  uint32_t iter, uint8_t *dk, size_t dklen)
{
	uint8_t *pw = malloc(2 * klen + 1);
	if (!pw)
		return IDN_ENOMEM;
	size_t n = 0;
	for (size_t i = 0; i < klen; i++) {
		if (key[i] < 0x80) {
			pw[n++] = key[i];
		} else {
			pw[n++] = (uint8_t)(0xc0 | (key[i] >> 6));
			pw[n++] = (uint8_t)(0x80 | (key[i] & 0x3f));
		}
	}
	int ok = n <= INT_MAX && slen <= INT_MAX && iter <= INT_MAX &&
		 PKCS5_PBKDF2_HMAC((const char *)pw, (int)n, slen ? salt : pw, (int)slen,
				   (int)iter, EVP_sha1(), (int)dklen, dk) == 1;
	OPENSSL_cleanse(pw, 2 * klen + 1);
	free(pw);
	if (!ok) {
		ERR_clear_error();
		return IDN_ECRYPTO;
	}
	return IDN_OK;
}

/* The MAC of a fixed-shape code (everything but 0x22) into out. */
static int fixed_mac(int code, const uint8_t *key, size_t keylen, const uint8_t *nonce,
		     size_t nlen, const uint8_t *digest, size_t dlen, uint8_t *out, size_t *outlen)
{
	idn_piece_t d[2] = { { nonce, nlen }, { digest, dlen } };
	switch (code) {
	case IDN_SECKEY_MD5:
		return hash_kdk(IDN_DIGEST_MD5, key, keylen, nonce, nlen, digest, dlen, out, outlen);
	case IDN_SECKEY_SHA1:
		return hash_kdk(IDN_DIGEST_SHA1, key, keylen, nonce, nlen, digest, dlen, out, outlen);
	case IDN_SECKEY_SHA256:
		return hash_kdk(IDN_DIGEST_SHA256, key, keylen, nonce, nlen, digest, dlen, out,
				outlen);
	case IDN_SECKEY_HMAC_SHA1:
		return hmac("SHA1", key, keylen, d, 2, out, outlen);
	case IDN_SECKEY_HMAC_SHA256:
		return hmac("SHA256", key, keylen, d, 2, out, outlen);
	default:
		return IDN_EINVAL;
	}
}

/* The 0x22 MAC: HMAC-SHA1(PBKDF2(K, salt, iter, keybits / 8), D). */
static int pbkdf2_mac(const uint8_t *key, size_t keylen, const uint8_t *salt, size_t slen,
		      uint32_t iter, uint32_t keybits, const uint8_t *nonce, size_t nlen,
		      const uint8_t *digest, size_t dlen, uint8_t *out, size_t *outlen)
{
	uint8_t dk[PBKDF2_MAX_KEYBITS / 8];
	size_t dklen = keybits / 8;
	int ret = pbkdf2(key, keylen, salt, slen, iter, dk, dklen);
	if (!ret) {
		idn_piece_t d[2] = { { nonce, nlen }, { digest, dlen } };
		ret = hmac("SHA1", dk, dklen, d, 2, out, outlen);
	}
	OPENSSL_cleanse(dk, sizeof(dk));
	return ret;
}

/* ------------------------------------------------------------------ */
/* HS_SECKEY.                                                          */

/*
 * Besides the codes of auth.h, code 0 writes the old format (no code byte,
 * MD5(K|D|K)) that peers < 2.1 send: a client talking to such a server, and
 * tests of the server's acceptance of it, need it.
 */
int idn_seckey_answer(int code, const uint8_t *key, size_t keylen, const uint8_t *nonce,
		      size_t nlen, const uint8_t *digest, size_t dlen, idn_wire_t *out)
{
	uint8_t mac[IDN_DIGEST_MAX];
	size_t mlen = 0;
	int ret;
	if (code == 0) {
		ret = hash_kdk(IDN_DIGEST_MD5, key, keylen, nonce, nlen, digest, dlen, mac, &mlen);
		if (!ret)
			idn_wire_put_raw(out, mac, mlen);
		return ret ? ret : out->err;
	}
	if (code == IDN_SECKEY_PBKDF2_SHA1) {
		uint8_t salt[PBKDF2_SALT_LEN];
		ret = idn_random(salt, sizeof(salt));
		if (!ret)
			ret = pbkdf2_mac(key, keylen, salt, sizeof(salt), PBKDF2_ITER,
					 PBKDF2_KEYBITS, nonce, nlen, digest, dlen, mac, &mlen);
		if (ret)
			return ret;
		idn_wire_put_u8(out, (uint8_t)code);
		idn_wire_put_bstr(out, salt, sizeof(salt));
		idn_wire_put_u32(out, PBKDF2_ITER);
		idn_wire_put_u32(out, PBKDF2_KEYBITS);
		idn_wire_put_bstr(out, mac, mlen);
		return out->err;
	}
	ret = fixed_mac(code, key, keylen, nonce, nlen, digest, dlen, mac, &mlen);
	if (ret)
		return ret;
	idn_wire_put_u8(out, (uint8_t)code);
	idn_wire_put_raw(out, mac, mlen);
	return out->err;
}

/* Constant-time comparison of a computed MAC with the one received. */
static int mac_check(const uint8_t *want, size_t wlen, const uint8_t *got, size_t glen)
{
	if (wlen != glen)
		return IDN_EACCES;
	return CRYPTO_memcmp(want, got, wlen) == 0 ? IDN_OK : IDN_EACCES;
}

int idn_seckey_verify(const uint8_t *key, size_t keylen, const uint8_t *nonce, size_t nlen,
		      const uint8_t *digest, size_t dlen, const uint8_t *answer, size_t alen)
{
	uint8_t mac[IDN_DIGEST_MAX];
	size_t mlen = 0;
	int ret;
	if (alen == 0)
		return IDN_EFEWDATA;
	if (alen == OLD_ANSWER_LEN) {
		ret = hash_kdk(IDN_DIGEST_MD5, key, keylen, nonce, nlen, digest, dlen, mac, &mlen);
		return ret ? ret : mac_check(mac, mlen, answer, alen);
	}
	int code = answer[0];
	if (code == IDN_SECKEY_PBKDF2_SHA1) {
		idn_wire_t w;
		idn_wire_init_ro(&w, answer + 1, alen - 1);
		idn_bytes_t salt = idn_wire_get_bstr(&w, PBKDF2_MAX_SALT);
		uint32_t iter = idn_wire_get_u32(&w);
		uint32_t keybits = idn_wire_get_u32(&w);
		idn_bytes_t got = idn_wire_get_bstr(&w, IDN_DIGEST_MAX);
		if (w.err)
			return w.err;
		if (idn_wire_avail(&w) != 0)
			return IDN_EMALF;
		/* Java's PBEKeySpec refuses zero iterations and key lengths;
		 * a length in partial bytes would derive the same key as the
		 * whole bytes below it, so only whole bytes are canonical. */
		if (iter == 0 || keybits == 0 || keybits % 8 != 0)
			return IDN_EMALF;
		/* The cost is iterations x SHA-1 blocks of the derived key. */
		uint64_t blocks = (keybits / 8 + 19) / 20;
		if (keybits > PBKDF2_MAX_KEYBITS || (uint64_t)iter * blocks > PBKDF2_MAX_ITER)
			return IDN_ELIMIT;
		ret = pbkdf2_mac(key, keylen, salt.p, salt.len, iter, keybits, nonce, nlen, digest,
				 dlen, mac, &mlen);
		return ret ? ret : mac_check(mac, mlen, got.p, got.len);
	}
	ret = fixed_mac(code, key, keylen, nonce, nlen, digest, dlen, mac, &mlen);
	if (ret)
		return ret;
	/* A fixed-shape answer is the code byte and exactly one MAC. */
	if (alen - 1 != mlen)
		return alen - 1 < mlen ? IDN_EFEWDATA : IDN_EMALF;
	return mac_check(mac, mlen, answer + 1, alen - 1);
}

/* ------------------------------------------------------------------ */
/* HS_PUBKEY.                                                          */

/* s is upper case, so folding both sides is the same as folding b. */
static bool eq_ci(idn_bytes_t b, const char *s)
{
	return idn_handle_eq_ci(b.p, b.len, (const uint8_t *)s, strlen(s));
}

/* hashAlgId of an answer or credential to a digest code; 0 when unknown. */
static int hash_id(idn_bytes_t id)
{
	if (id.len == 1 && id.p[0] >= IDN_DIGEST_MD5 && id.p[0] <= IDN_DIGEST_SHA256)
		return id.p[0];
	if (eq_ci(id, "SHA-256") || eq_ci(id, "SHA256"))
		return IDN_DIGEST_SHA256;
	if (eq_ci(id, "SHA1") || eq_ci(id, "SHA-1"))
		return IDN_DIGEST_SHA1;
	if (eq_ci(id, "MD5"))
		return IDN_DIGEST_MD5;
	if (eq_ci(id, "SM3"))
		return IDN_SIG_SM3;
	return 0;
}

/* The name CNRI clients write for a signature hash. */
static const char *hash_name(int sig_alg)
{
	switch (sig_alg) {
	case IDN_SIG_SHA256:
		return "SHA-256";
	case IDN_SIG_SHA1:
		return "SHA1";
	case IDN_SIG_SM3:
		return "SM3"; /* what the IDIS SDK writes */
	default:
		return NULL;
	}
}

int idn_sig_alg_parse(idn_bytes_t id)
{
	return hash_id(id);
}

const char *idn_sig_alg_name(int sig_alg)
{
	return hash_name(sig_alg);
}

int idn_sign(const idn_pkey_t *k, int sig_alg, const idn_piece_t *data, size_t ndata,
	     idn_wire_t *sig_out)
{
	return idn_pkey_sign(k, sig_alg, data, ndata, sig_out);
}

int idn_verify(const uint8_t *hs_pubkey, size_t klen, int sig_alg, const idn_piece_t *data,
	       size_t ndata, const uint8_t *sig, size_t slen)
{
	idn_pkey_t *k = NULL;
	int ret = idn_pkey_from_hs_pubkey(hs_pubkey, klen, &k);
	if (ret)
		return ret;
	ret = idn_pkey_verify(k, sig_alg, data, ndata, sig, slen);
	idn_pkey_free(k);
	return ret;
}

/* SM3(nonce || digest): what the IDIS SDK hands to its SM2 signer as the
 * message (it signs the hash of D, not D; idis-wire.md section 4). */
static int sm3_of_d(const uint8_t *nonce, size_t nlen, const uint8_t *digest, size_t dlen,
		    uint8_t out[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx)
		return IDN_ENOMEM;
	unsigned len = 0;
	int ok = EVP_DigestInit_ex(ctx, EVP_sm3(), NULL) == 1 &&
		 EVP_DigestUpdate(ctx, nonce, nlen) == 1 &&
		 EVP_DigestUpdate(ctx, digest, dlen) == 1 &&
		 EVP_DigestFinal_ex(ctx, out, &len) == 1 && len == 32;
	EVP_MD_CTX_free(ctx);
	if (!ok) {
		ERR_clear_error();
		return IDN_ECRYPTO;
	}
	return IDN_OK;
}

int idn_pubkey_answer_id(const idn_pkey_t *k, int sig_alg, const uint8_t *id, size_t idlen,
			 const uint8_t *nonce, size_t nlen, const uint8_t *digest, size_t dlen,
			 idn_wire_t *out)
{
	const char *name = hash_name(sig_alg);
	if (!name)
		return IDN_EINVAL;
	uint8_t h[32];
	idn_piece_t d[2] = { { nonce, nlen }, { digest, dlen } };
	size_t nd = 2;
	if (sig_alg == IDN_SIG_SM3) {
		int ret = sm3_of_d(nonce, nlen, digest, dlen, h);
		if (ret)
			return ret;
		d[0] = (idn_piece_t){ h, sizeof(h) };
		nd = 1;
	}
	idn_wire_put_str(out, name);
	/* The signature's ByteString length is patched once it is known. */
	size_t len_off = idn_wire_offset(out);
	idn_wire_put_u32(out, 0);
	if (out->err)
		return out->err;
	int ret = idn_pkey_sign_id(k, sig_alg, id, idlen, d, nd, out);
	if (ret)
		return ret;
	idn_wire_patch_u32(out, len_off, (uint32_t)(idn_wire_offset(out) - len_off - 4));
	return out->err;
}

int idn_pubkey_answer(const idn_pkey_t *k, int sig_alg, const uint8_t *nonce, size_t nlen,
		      const uint8_t *digest, size_t dlen, idn_wire_t *out)
{
	return idn_pubkey_answer_id(k, sig_alg, NULL, 0, nonce, nlen, digest, dlen, out);
}

int idn_pubkey_verify_id(const uint8_t *hs_pubkey, size_t klen, const uint8_t *id, size_t idlen,
			 const uint8_t *nonce, size_t nlen, const uint8_t *digest, size_t dlen,
			 const uint8_t *answer, size_t alen)
{
	idn_wire_t w;
	idn_wire_init_ro(&w, answer, alen);
	idn_bytes_t hid = idn_wire_get_bstr(&w, HASH_ID_MAX);
	idn_bytes_t sig = idn_wire_get_bstr(&w, SIG_MAX);
	/* Bytes after the signature are ignored, as CNRI's sequential reader does. */
	if (w.err)
		return w.err;
	int alg = hash_id(hid);
	if (!alg)
		return IDN_EINVAL;
	uint8_t h[32];
	idn_piece_t d[2] = { { nonce, nlen }, { digest, dlen } };
	size_t nd = 2;
	if (alg == IDN_SIG_SM3) {
		int ret = sm3_of_d(nonce, nlen, digest, dlen, h);
		if (ret)
			return ret;
		d[0] = (idn_piece_t){ h, sizeof(h) };
		nd = 1;
	}
	idn_pkey_t *k = NULL;
	int ret = idn_pkey_from_hs_pubkey(hs_pubkey, klen, &k);
	if (ret)
		return ret;
	ret = idn_pkey_verify_id(k, alg, id, idlen, d, nd, sig.p, sig.len);
	idn_pkey_free(k);
	return ret;
}

int idn_pubkey_verify(const uint8_t *hs_pubkey, size_t klen, const uint8_t *nonce, size_t nlen,
		      const uint8_t *digest, size_t dlen, const uint8_t *answer, size_t alen)
{
	return idn_pubkey_verify_id(hs_pubkey, klen, NULL, 0, nonce, nlen, digest, dlen, answer,
				    alen);
}
