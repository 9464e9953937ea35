/* pkey.c - keys on OpenSSL 3: generation, PEM files, HS_PUBKEY encoding and decoding, signatures. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "proto/msg.h"
#include "proto/pkey.h"
#include "proto/record.h"

struct idn_pkey {
	EVP_PKEY *pk;
	bool priv;        /* false for keys built from a public half */
};

/* Sizes OpenSSL still verifies (OPENSSL_RSA_MAX_MODULUS_BITS 16384,
 * OPENSSL_DSA_MAX_MODULUS_BITS 10000, rounded down), checked first so that
 * no oversized number reaches a modular exponentiation. */
#define RSA_N_MAX 2048
#define DSA_P_MAX 1024
#define DSA_Q_MAX 64
#define PEM_MAX 65536
/* An SM2 public key's SubjectPublicKeyInfo is 91 bytes of DER, some 180 of
 * PEM; anything much longer inside an SM2_PUB_KEY blob is not one. */
#define SM2_SPKI_MAX 4096

static bool is_sm2(const EVP_PKEY *pk)
{
	/* Provider keys have no legacy base id: ask by name. */
	return EVP_PKEY_is_a(pk, "SM2");
}

static int wrap(EVP_PKEY *pk, bool priv, idn_pkey_t **out)
{
	idn_pkey_t *k = calloc(1, sizeof(*k));
	if (!k) {
		EVP_PKEY_free(pk);
		return IDN_ENOMEM;
	}
	k->pk = pk;
	k->priv = priv;
	*out = k;
	return IDN_OK;
}

int idn_pkey_generate_rsa(unsigned bits, idn_pkey_t **out)
{
	EVP_PKEY *pk = EVP_RSA_gen(bits);
	if (!pk)
		return IDN_ECRYPTO;
	return wrap(pk, true, out);
}

int idn_pkey_generate_dsa(unsigned bits, idn_pkey_t **out)
{
	EVP_PKEY *params = NULL, *pk = NULL;
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "DSA", NULL);
	int ok = pc && EVP_PKEY_paramgen_init(pc) == 1 &&
		 EVP_PKEY_CTX_set_dsa_paramgen_bits(pc, (int)bits) == 1 &&
		 /* FIPS 186 pairs: 1024/160 (CNRI's keys), larger groups 256. */
		 EVP_PKEY_CTX_set_dsa_paramgen_q_bits(pc, bits <= 1024 ? 160 : 256) == 1 &&
		 EVP_PKEY_paramgen(pc, &params) == 1;
	EVP_PKEY_CTX_free(pc);
	EVP_PKEY_CTX *kc = ok ? EVP_PKEY_CTX_new_from_pkey(NULL, params, NULL) : NULL;
	ok = kc && EVP_PKEY_keygen_init(kc) == 1 && EVP_PKEY_keygen(kc, &pk) == 1;
	EVP_PKEY_CTX_free(kc);
	EVP_PKEY_free(params);
	if (!ok) {
		ERR_clear_error();
		return IDN_ECRYPTO;
	}
	return wrap(pk, true, out);
}

int idn_pkey_generate_sm2(idn_pkey_t **out)
{
	EVP_PKEY *pk = NULL;
	EVP_PKEY_CTX *kc = EVP_PKEY_CTX_new_from_name(NULL, "SM2", NULL);
	int ok = kc && EVP_PKEY_keygen_init(kc) == 1 && EVP_PKEY_keygen(kc, &pk) == 1;
	EVP_PKEY_CTX_free(kc);
	if (!ok) {
		EVP_PKEY_free(pk);
		ERR_clear_error();
		return IDN_ECRYPTO;
	}
	return wrap(pk, true, out);
}

int idn_pkey_load_pem(const char *path, idn_pkey_t **out)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	EVP_PKEY *pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!pk) {
		ERR_clear_error();
		return IDN_ECRYPTO;
	}
	return wrap(pk, true, out);
}

static int write_pem(const idn_pkey_t *k, const char *path, bool private_part)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return IDN_ELIMIT;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, private_part ? 0600 : 0644);
	if (fd < 0)
		return -errno;
	FILE *f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return -errno;
	}
	int ok = private_part ? PEM_write_PrivateKey(f, k->pk, NULL, NULL, 0, NULL, NULL)
			      : PEM_write_PUBKEY(f, k->pk);
	/* The key must be on disk before it is published under its name. */
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		ok = 0;
	fclose(f);
	if (!ok || rename(tmp, path) != 0) {
		unlink(tmp);
		return ok ? -errno : IDN_ECRYPTO;
	}
	return IDN_OK;
}

int idn_pkey_save_pem(const idn_pkey_t *k, const char *path)
{
	return write_pem(k, path, true);
}

int idn_pkey_save_public_pem(const idn_pkey_t *k, const char *path)
{
	return write_pem(k, path, false);
}

static int bn_param(const EVP_PKEY *pk, const char *name, uint8_t *buf, size_t cap, size_t *len)
{
	BIGNUM *bn = NULL;
	if (!EVP_PKEY_get_bn_param(pk, name, &bn))
		return IDN_ECRYPTO;
	int n = BN_num_bytes(bn);
	if (n < 0 || (size_t)n > cap) {
		BN_free(bn);
		return IDN_ELIMIT;
	}
	BN_bn2bin(bn, buf);
	*len = (size_t)n;
	BN_free(bn);
	return IDN_OK;
}

/* Append a big integer as Java's BigInteger.toByteArray() writes it in a
 * ByteString: minimal two's complement of an unsigned magnitude. */
static void put_bigint(idn_wire_t *w, const uint8_t *p, size_t n)
{
	while (n > 0 && p[0] == 0) {
		p++;
		n--;
	}
	bool pad = n == 0 || (p[0] & 0x80);
	idn_wire_put_u32(w, (uint32_t)(n + (pad ? 1 : 0)));
	if (pad)
		idn_wire_put_u8(w, 0);
	idn_wire_put_raw(w, p, n);
}

static int hs_pubkey_dsa(const EVP_PKEY *pk, idn_wire_t *out)
{
	/* CNRI DSA_PUB_KEY: q, p, g, y. */
	static const char *const names[4] = { OSSL_PKEY_PARAM_FFC_Q, OSSL_PKEY_PARAM_FFC_P,
					      OSSL_PKEY_PARAM_FFC_G, OSSL_PKEY_PARAM_PUB_KEY };
	uint8_t buf[4][DSA_P_MAX];
	size_t len[4];
	for (int i = 0; i < 4; i++) {
		int ret = bn_param(pk, names[i], buf[i], sizeof(buf[i]), &len[i]);
		if (ret)
			return ret;
	}
	idn_wire_put_str(out, "DSA_PUB_KEY");
	idn_wire_put_u16(out, 0);
	for (int i = 0; i < 4; i++)
		put_bigint(out, buf[i], len[i]);
	return out->err;
}

/* The IDIS SDK's newPublicKeyValue for SM2: the PEM text inside a
 * ByteString, with the CRLF line breaks its PEM writer uses. */
static int hs_pubkey_sm2(EVP_PKEY *pk, idn_wire_t *out)
{
	BIO *bio = BIO_new(BIO_s_mem());
	if (!bio)
		return IDN_ENOMEM;
	char *pem = NULL;
	long n = 0;
	if (PEM_write_bio_PUBKEY(bio, pk) != 1 || (n = BIO_get_mem_data(bio, &pem)) <= 0) {
		BIO_free(bio);
		ERR_clear_error();
		return IDN_ECRYPTO;
	}
	size_t lines = 0;
	for (long i = 0; i < n; i++)
		lines += pem[i] == '\n';
	idn_wire_put_str(out, "SM2_PUB_KEY");
	idn_wire_put_u16(out, 0);
	idn_wire_put_u32(out, (uint32_t)((size_t)n + lines));
	size_t from = 0;
	for (size_t i = 0; i < (size_t)n; i++) {
		if (pem[i] != '\n')
			continue;
		idn_wire_put_raw(out, pem + from, i - from);
		idn_wire_put_raw(out, "\r\n", 2);
		from = i + 1;
	}
	idn_wire_put_raw(out, pem + from, (size_t)n - from);
	BIO_free(bio);
	return out->err;
}

int idn_pkey_hs_pubkey(const idn_pkey_t *k, idn_wire_t *out)
{
	if (is_sm2(k->pk))
		return hs_pubkey_sm2(k->pk, out);
	if (EVP_PKEY_get_base_id(k->pk) == EVP_PKEY_DSA)
		return hs_pubkey_dsa(k->pk, out);
	if (EVP_PKEY_get_base_id(k->pk) != EVP_PKEY_RSA)
		return IDN_EINVAL;
	uint8_t n[RSA_N_MAX], e[RSA_N_MAX];
	size_t nl, el;
	int ret = bn_param(k->pk, OSSL_PKEY_PARAM_RSA_N, n, sizeof(n), &nl);
	if (!ret)
		ret = bn_param(k->pk, OSSL_PKEY_PARAM_RSA_E, e, sizeof(e), &el);
	if (ret)
		return ret;
	idn_bytes_t eb = { e, (uint32_t)el }, nb = { n, (uint32_t)nl };
	idn_pubkey_encode_rsa(out, eb, nb);
	return out->err;
}

int idn_pkey_kind(const idn_pkey_t *k)
{
	if (is_sm2(k->pk))
		return IDN_KEY_SM2;
	switch (EVP_PKEY_get_base_id(k->pk)) {
	case EVP_PKEY_RSA:
		return IDN_KEY_RSA;
	case EVP_PKEY_DSA:
		return IDN_KEY_DSA;
	default:
		return IDN_KEY_UNKNOWN;
	}
}

/* ---- public keys from HS_PUBKEY values ---- */

static idn_bytes_t strip_zeros(idn_bytes_t b)
{
	while (b.len > 0 && b.p[0] == 0) {
		b.p++;
		b.len--;
	}
	return b;
}

/* Build a public key of `type` ("RSA", "DSA") from named big integers. */
static int from_bignums(const char *type, const char *const *names, const idn_bytes_t *nums,
			int n, EVP_PKEY **out)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	BIGNUM *bn[4] = { NULL, NULL, NULL, NULL };
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	int ret = IDN_ECRYPTO;
	if (!bld)
		return IDN_ENOMEM;
	for (int i = 0; i < n; i++) {
		/* Zero-length magnitudes (a value of 0) make BN_bin2bn read nothing. */
		bn[i] = BN_bin2bn(nums[i].len ? nums[i].p : (const uint8_t *)"", (int)nums[i].len,
				  NULL);
		if (!bn[i] || !OSSL_PARAM_BLD_push_BN(bld, names[i], bn[i]))
			goto out;
	}
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	if (params && ctx && EVP_PKEY_fromdata_init(ctx) == 1 &&
	    EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) == 1)
		ret = IDN_OK;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	for (int i = 0; i < 4; i++)
		BN_free(bn[i]);
	OSSL_PARAM_BLD_free(bld);
	return ret;
}

static int rsa_from_blob(const idn_pubkey_t *k, EVP_PKEY **out)
{
	idn_bytes_t nums[2] = { strip_zeros(k->rsa_n), strip_zeros(k->rsa_e) };
	if (nums[0].len == 0 || nums[1].len == 0)
		return IDN_EMALF;
	if (nums[0].len > RSA_N_MAX || nums[1].len > nums[0].len)
		return IDN_ELIMIT;
	static const char *const names[2] = { OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E };
	return from_bignums("RSA", names, nums, 2, out);
}

static int dsa_from_blob(const idn_pubkey_t *k, EVP_PKEY **out)
{
	idn_bytes_t nums[4] = { strip_zeros(k->dsa_p), strip_zeros(k->dsa_q),
				strip_zeros(k->dsa_g), strip_zeros(k->dsa_y) };
	for (int i = 0; i < 4; i++)
		if (nums[i].len == 0)
			return IDN_EMALF;
	if (nums[0].len > DSA_P_MAX || nums[1].len > DSA_Q_MAX || nums[2].len > nums[0].len ||
	    nums[3].len > nums[0].len)
		return IDN_ELIMIT;
	static const char *const names[4] = { OSSL_PKEY_PARAM_FFC_P, OSSL_PKEY_PARAM_FFC_Q,
					      OSSL_PKEY_PARAM_FFC_G, OSSL_PKEY_PARAM_PUB_KEY };
	return from_bignums("DSA", names, nums, 4, out);
}

/* PEM text: a public key (SubjectPublicKeyInfo, PKCS#1) or a certificate. */
static int from_pem(const uint8_t *p, size_t len, EVP_PKEY **out)
{
	if (len > PEM_MAX)
		return IDN_ELIMIT;
	BIO *bio = BIO_new_mem_buf(p, (int)len);
	if (!bio)
		return IDN_ENOMEM;
	EVP_PKEY *pk = NULL;
	if (memmem(p, len, "-----BEGIN CERTIFICATE-----", 27)) {
		X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		if (x)
			pk = X509_get_pubkey(x);
		X509_free(x);
	} else {
		OSSL_DECODER_CTX *dc = OSSL_DECODER_CTX_new_for_pkey(
			&pk, "PEM", NULL, NULL, EVP_PKEY_PUBLIC_KEY, NULL, NULL);
		if (dc && OSSL_DECODER_from_bio(dc, bio) != 1) {
			EVP_PKEY_free(pk);
			pk = NULL;
		}
		OSSL_DECODER_CTX_free(dc);
	}
	BIO_free(bio);
	if (!pk)
		return IDN_ECRYPTO;
	*out = pk;
	return IDN_OK;
}

/* The SubjectPublicKeyInfo inside an SM2_PUB_KEY blob: PEM text as the
 * IDIS docs and the SDK's newPublicKeyValue have it, or DER as one SDK test
 * writes. OpenSSL 3 decodes an EC key on the SM2 curve as type "SM2". */
static int from_spki(const uint8_t *p, size_t len, EVP_PKEY **out)
{
	if (len > SM2_SPKI_MAX)
		return IDN_ELIMIT;
	if (len >= 10 && memcmp(p, "-----BEGIN", 10) == 0)
		return from_pem(p, len, out);
	const unsigned char *q = p;
	EVP_PKEY *pk = d2i_PUBKEY(NULL, &q, (long)len);
	if (!pk)
		return IDN_ECRYPTO;
	/* One DER structure, nothing after it. */
	if (q != p + len) {
		EVP_PKEY_free(pk);
		return IDN_EMALF;
	}
	*out = pk;
	return IDN_OK;
}

/* Only the key types we can verify with pass: RSA, DSA, and EC keys on the
 * SM2 curve (which OpenSSL 3 names "SM2"). Other curves (ECDSA) are not
 * used by CNRI or IDIS clients and stay refused. */
static int check_type(EVP_PKEY *pk)
{
	if (is_sm2(pk))
		return IDN_OK;
	if (EVP_PKEY_is_a(pk, "RSA")) {
		if (EVP_PKEY_get_bits(pk) > RSA_N_MAX * 8)
			return IDN_ELIMIT;
		return IDN_OK;
	}
	if (EVP_PKEY_is_a(pk, "DSA")) {
		if (EVP_PKEY_get_bits(pk) > DSA_P_MAX * 8)
			return IDN_ELIMIT;
		return IDN_OK;
	}
	return IDN_EINVAL;
}

int idn_pkey_from_hs_pubkey(const uint8_t *p, size_t len, idn_pkey_t **out)
{
	idn_pubkey_t k;
	int ret = idn_pubkey_decode(p, len, &k);
	if (ret)
		return ret;
	EVP_PKEY *pk = NULL;
	switch (k.kind) {
	case IDN_KEY_RSA:
		ret = rsa_from_blob(&k, &pk);
		break;
	case IDN_KEY_DSA:
		ret = dsa_from_blob(&k, &pk);
		break;
	case IDN_KEY_PEM:
		ret = from_pem(k.pem.p, k.pem.len, &pk);
		break;
	case IDN_KEY_SM2:
		ret = from_spki(k.pem.p, k.pem.len, &pk);
		/* The blob names the key type: hold it to that. */
		if (!ret && !is_sm2(pk))
			ret = IDN_EINVAL;
		break;
	case IDN_KEY_SM9:
	case IDN_KEY_DH:  /* session key exchange only, never a signer */
	default:
		return IDN_EINVAL;
	}
	if (!ret)
		ret = check_type(pk);
	if (ret) {
		EVP_PKEY_free(pk);
		ERR_clear_error();
		return ret;
	}
	return wrap(pk, false, out);
}

int idn_pkey_load_public_pem(const char *path, idn_pkey_t **out)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	uint8_t *buf = malloc(PEM_MAX);
	if (!buf) {
		fclose(f);
		return IDN_ENOMEM;
	}
	size_t n = fread(buf, 1, PEM_MAX, f);
	int err = ferror(f) ? IDN_EIO : IDN_OK;
	fclose(f);
	EVP_PKEY *pk = NULL;
	int ret = err ? err : n == PEM_MAX ? IDN_ELIMIT : from_pem(buf, n, &pk);
	free(buf);
	if (!ret)
		ret = check_type(pk);
	if (ret) {
		EVP_PKEY_free(pk);
		ERR_clear_error();
		return ret;
	}
	return wrap(pk, false, out);
}

/* ---- signatures ---- */

/* Digest of a signature by protocol code, or IDN_PKEY_SM3. */
static const EVP_MD *sig_md(int alg)
{
	switch (alg) {
	case IDN_PKEY_SM3:
		return EVP_sm3();
	case IDN_DIGEST_MD5:
		return EVP_md5();
	case IDN_DIGEST_SHA1:
		return EVP_sha1();
	case IDN_DIGEST_SHA256:
		return EVP_sha256();
	default:
		return NULL;
	}
}

/* The digest for `alg` if the key takes it: DSA is defined over SHA only,
 * SM2 over SM3 only, and SM3 serves no other key type here. */
static const EVP_MD *md_for_key(const idn_pkey_t *k, int alg)
{
	const EVP_MD *md = sig_md(alg);
	if (md && alg == IDN_DIGEST_MD5 && idn_pkey_kind(k) == IDN_KEY_DSA)
		return NULL;
	if (md && is_sm2(k->pk) != (alg == IDN_PKEY_SM3))
		return NULL;
	return md;
}

/*
 * Start a digest-sign or digest-verify. SM2 needs its signer id on a key
 * context before the init, which computes Z_A from it; *pcp then holds that
 * context, which the caller frees after the digest context (the digest
 * context does not own a context given with EVP_MD_CTX_set_pkey_ctx).
 */
static bool digest_init(EVP_MD_CTX *mc, EVP_PKEY_CTX **pcp, const idn_pkey_t *k,
			const EVP_MD *md, const uint8_t *id, size_t idlen, bool sign)
{
	*pcp = NULL;
	if (is_sm2(k->pk)) {
		if (!id) {
			id = (const uint8_t *)IDN_SM2_DEFAULT_ID;
			idlen = sizeof(IDN_SM2_DEFAULT_ID) - 1;
		}
		EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(k->pk, NULL);
		if (!pc)
			return false;
		*pcp = pc;
		/* An empty id is legal (ENTL 0) but needs a valid pointer. */
		if (idlen > INT_MAX ||
		    EVP_PKEY_CTX_set1_id(pc, idlen ? id : (const uint8_t *)"", (int)idlen) != 1)
			return false;
		EVP_MD_CTX_set_pkey_ctx(mc, pc);
	}
	return sign ? EVP_DigestSignInit(mc, NULL, md, NULL, k->pk) == 1
		    : EVP_DigestVerifyInit(mc, NULL, md, NULL, k->pk) == 1;
}

int idn_pkey_sign_id(const idn_pkey_t *k, int digest_alg, const uint8_t *id, size_t idlen,
		     const idn_piece_t *data, size_t ndata, idn_wire_t *out)
{
	const EVP_MD *md = md_for_key(k, digest_alg);
	if (!md || !k->priv)
		return IDN_EINVAL;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx)
		return IDN_ENOMEM;
	EVP_PKEY_CTX *pc = NULL;
	uint8_t *sig = NULL;
	size_t slen = 0;
	int ret = IDN_ECRYPTO;
	/* RSA keys sign with PKCS#1 v1.5 padding by default. */
	int ok = digest_init(ctx, &pc, k, md, id, idlen, true);
	for (size_t i = 0; ok && i < ndata; i++)
		ok = EVP_DigestSignUpdate(ctx, data[i].p, data[i].len) == 1;
	if (ok)
		ok = EVP_DigestSignFinal(ctx, NULL, &slen) == 1;
	if (ok) {
		/* slen is the maximum (DSA and SM2 DER vary): sign aside, then copy. */
		sig = malloc(slen);
		if (!sig)
			ret = IDN_ENOMEM;
		else if (EVP_DigestSignFinal(ctx, sig, &slen) == 1) {
			idn_wire_put_raw(out, sig, slen);
			ret = out->err;
		}
	}
	free(sig);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_CTX_free(pc);
	if (ret == IDN_ECRYPTO)
		ERR_clear_error();
	return ret;
}

int idn_pkey_sign(const idn_pkey_t *k, int digest_alg, const idn_piece_t *data, size_t ndata,
		  idn_wire_t *out)
{
	return idn_pkey_sign_id(k, digest_alg, NULL, 0, data, ndata, out);
}

int idn_pkey_verify_id(const idn_pkey_t *k, int digest_alg, const uint8_t *id, size_t idlen,
		       const idn_piece_t *data, size_t ndata, const uint8_t *sig, size_t slen)
{
	const EVP_MD *md = md_for_key(k, digest_alg);
	if (!md)
		return IDN_EINVAL;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx)
		return IDN_ENOMEM;
	EVP_PKEY_CTX *pc = NULL;
	int ret = IDN_ECRYPTO;
	int ok = digest_init(ctx, &pc, k, md, id, idlen, false);
	for (size_t i = 0; ok && i < ndata; i++)
		ok = EVP_DigestVerifyUpdate(ctx, data[i].p, data[i].len) == 1;
	if (ok) {
		/* 0 is a wrong signature, < 0 one that does not parse (bad DER,
		 * wrong length): both are a failed check to the caller. */
		ret = EVP_DigestVerifyFinal(ctx, slen ? sig : (const uint8_t *)"", slen) == 1
			      ? IDN_OK
			      : IDN_EACCES;
	}
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_CTX_free(pc);
	if (ret != IDN_OK)
		ERR_clear_error();
	return ret;
}

int idn_pkey_verify(const idn_pkey_t *k, int digest_alg, const idn_piece_t *data, size_t ndata,
		    const uint8_t *sig, size_t slen)
{
	return idn_pkey_verify_id(k, digest_alg, NULL, 0, data, ndata, sig, slen);
}

void idn_pkey_free(idn_pkey_t *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pk);
	free(k);
}

/* ---- self-signed TLS certificate for the node's HTTPS listener ---- */

#include <openssl/x509v3.h>

static int cert_fingerprint(X509 *x, char *fp, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	if (X509_digest(x, EVP_sha256(), md, &n) != 1 || len < (size_t)n * 3)
		return IDN_ECRYPTO;
	for (unsigned i = 0; i < n; i++)
		snprintf(fp + 3 * i, len - 3 * i, "%02X%s", md[i], i + 1 < n ? ":" : "");
	return IDN_OK;
}

static int cert_add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX v3;
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (!e)
		return IDN_ECRYPTO;
	int ok = X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok == 1 ? IDN_OK : IDN_ECRYPTO;
}

/* Write PEM through `write` into path.tmp with `mode`, then rename. */
static int cert_write_file(const char *path, int mode, int (*write)(FILE *f, void *obj),
			   void *obj)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return IDN_EINVAL;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	FILE *f = fdopen(fd, "w");
	if (!f) {
		int e = errno;
		close(fd);
		unlink(tmp);
		return -e;
	}
	int ok = write(f, obj);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		ok = 0;
	if (fclose(f) != 0)
		ok = 0;
	if (!ok || rename(tmp, path) != 0) {
		unlink(tmp);
		return ok ? -errno : IDN_ECRYPTO;
	}
	return IDN_OK;
}

static int write_key_pem(FILE *f, void *obj)
{
	return PEM_write_PrivateKey(f, obj, NULL, NULL, 0, NULL, NULL);
}

static int write_cert_pem(FILE *f, void *obj)
{
	return PEM_write_X509(f, obj);
}

int idn_cert_self_signed(const char *cert_path, const char *key_path, const char *cn,
			 char *fp, size_t len)
{
	int ret = IDN_ECRYPTO;
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	BIGNUM *serial = BN_new();
	if (!pk || !x || !serial)
		goto out;
	/* A random positive 63-bit serial (RFC 5280: unique per issuer). */
	if (BN_rand(serial, 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
	    !BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)))
		goto out;
	X509_NAME *name = X509_get_subject_name(x);
	if (X509_set_version(x, 2) != 1 || !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), 3650, 0, NULL) ||
	    X509_set_pubkey(x, pk) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
				       -1, 0) != 1 ||
	    X509_set_issuer_name(x, name) != 1)
		goto out;
	/* Names a local client checks: the loopback address and localhost. */
	if (cert_add_ext(x, NID_basic_constraints, "critical,CA:FALSE") ||
	    cert_add_ext(x, NID_key_usage, "critical,digitalSignature") ||
	    cert_add_ext(x, NID_ext_key_usage, "serverAuth") ||
	    cert_add_ext(x, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1") ||
	    X509_sign(x, pk, EVP_sha256()) == 0)
		goto out;
	if ((ret = cert_write_file(key_path, 0600, write_key_pem, pk)) ||
	    (ret = cert_write_file(cert_path, 0644, write_cert_pem, x)))
		goto out;
	ret = fp ? cert_fingerprint(x, fp, len) : IDN_OK;
out:
	BN_free(serial);
	X509_free(x);
	EVP_PKEY_free(pk);
	ERR_clear_error();
	return ret;
}

int idn_cert_fingerprint(const char *cert_path, char *fp, size_t len)
{
	FILE *f = fopen(cert_path, "r");
	if (!f)
		return errno == ENOENT ? IDN_ENOENT : -errno;
	X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	int ret = x ? cert_fingerprint(x, fp, len) : IDN_ECRYPTO;
	X509_free(x);
	ERR_clear_error();
	return ret;
}
