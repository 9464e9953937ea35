/* crypto.h - digests and randomness for proto/ (OpenSSL 3 underneath; no OpenSSL types here). */
#ifndef IDN_CRYPTO_H
#define IDN_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

/*
 * Rules of use: stateless functions, safe from any thread. Algorithms are
 * the digest codes of the Handle protocol (proto/msg.h IDN_DIGEST_*).
 * Key operations are in proto/pkey.h.
 */

#define IDN_DIGEST_MAX 64

typedef struct {
	const void *p;
	size_t len;
} idn_piece_t;

/* Digest of one buffer into out (IDN_DIGEST_MAX bytes); *outlen gets its
 * length. IDN_EINVAL for an unknown algorithm, IDN_ECRYPTO on failure. */
int idn_digest(int alg, const void *p, size_t n, uint8_t *out, size_t *outlen);
/* Digest of several pieces, concatenated (same output and errors; IDN_ENOMEM
 * when OpenSSL cannot allocate its context). */
int idn_digestv(int alg, const idn_piece_t *pieces, size_t npieces, uint8_t *out,
		size_t *outlen);
/* Fill buf with n cryptographically strong random bytes (OpenSSL's DRBG).
 * IDN_ECRYPTO when the generator fails (e.g. not seeded). */
int idn_random(void *buf, size_t n);

#endif
