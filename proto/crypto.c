/* crypto.c - digests and randomness on OpenSSL 3's EVP interface. */
#include <limits.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "proto/crypto.h"
#include "proto/errcode.h"
#include "proto/msg.h"

static const EVP_MD *md_for(int alg)
{
	switch (alg) {
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

int idn_digestv(int alg, const idn_piece_t *pieces, size_t npieces, uint8_t *out,
		size_t *outlen)
{
	const EVP_MD *md = md_for(alg);
	if (!md)
		return IDN_EINVAL;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx)
		return IDN_ENOMEM;
	unsigned len = 0;
	int ok = EVP_DigestInit_ex(ctx, md, NULL);
	for (size_t i = 0; ok && i < npieces; i++)
		ok = EVP_DigestUpdate(ctx, pieces[i].p, pieces[i].len);
	if (ok)
		ok = EVP_DigestFinal_ex(ctx, out, &len);
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return IDN_ECRYPTO;
	*outlen = len;
	return IDN_OK;
}

int idn_digest(int alg, const void *p, size_t n, uint8_t *out, size_t *outlen)
{
	idn_piece_t piece = { p, n };
	return idn_digestv(alg, &piece, 1, out, outlen);
}

int idn_random(void *buf, size_t n)
{
	/* RAND_bytes takes an int count. */
	uint8_t *p = buf;
	while (n > 0) {
		int chunk = n > (size_t)INT_MAX ? INT_MAX : (int)n;
		if (RAND_bytes(p, chunk) != 1)
			return IDN_ECRYPTO;
		p += chunk;
		n -= (size_t)chunk;
	}
	return IDN_OK;
}
