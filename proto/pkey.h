/* pkey.h - key pairs for the crypto module: load, generate, save, and their HS_PUBKEY encoding. */
#ifndef IDN_PKEY_H
#define IDN_PKEY_H

#include <stddef.h>

#include "proto/wire.h"

/*
 * Rules of use:
 * - idn_pkey_t is an opaque private key (OpenSSL underneath; no OpenSSL type
 *   leaks out of proto/). Create with _generate_rsa or _load_pem, release
 *   with idn_pkey_free (NULL is fine).
 * - A key may be used from several threads for reading and signing.
 */

typedef struct idn_pkey idn_pkey_t;

/* Generate an RSA key of `bits` bits (2048 recommended). */
int idn_pkey_generate_rsa(unsigned bits, idn_pkey_t **out);
/* Load a PEM private key (PKCS#8 or traditional). IDN_ENOENT when the
 * file is missing, IDN_ECRYPTO when it does not parse. */
int idn_pkey_load_pem(const char *path, idn_pkey_t **out);
/* Write the private key as PKCS#8 PEM, mode 0600, atomically (tmp+rename). */
int idn_pkey_save_pem(const idn_pkey_t *k, const char *path);
/* Write the public half as X.509 SubjectPublicKeyInfo PEM to `path`. */
int idn_pkey_save_public_pem(const idn_pkey_t *k, const char *path);
/* Append the public key as an HS_PUBKEY blob (RSA_PUB_KEY) at the cursor.
 * IDN_EINVAL for non-RSA keys. */
int idn_pkey_hs_pubkey(const idn_pkey_t *k, idn_wire_t *out);
void idn_pkey_free(idn_pkey_t *k);

#endif
