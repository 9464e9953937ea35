/* pkey.h - keys for the crypto module: load, generate, save, HS_PUBKEY encoding and decoding, sign and verify. */
#ifndef IDN_PKEY_H
#define IDN_PKEY_H

#include <stddef.h>

#include "proto/crypto.h"
#include "proto/wire.h"

/*
 * Rules of use:
 * - idn_pkey_t is an opaque key pair or public key (OpenSSL underneath; no
 *   OpenSSL type leaks out of proto/). Create with _generate_*, _load_* or
 *   _from_hs_pubkey, release with idn_pkey_free (NULL is fine).
 * - A key may be used from several threads for reading and signing.
 * - A key built from a public half only (_load_public_pem, _from_hs_pubkey)
 *   verifies but does not sign (IDN_EINVAL) and cannot be saved as private.
 * - Digest codes are those of proto/msg.h (IDN_DIGEST_MD5/SHA1/SHA256),
 *   which auth.h's IDN_SIG_* equal, plus IDN_PKEY_SM3 below.
 * - SM2 keys (GB/T 32918) sign and verify with SM3 only, and RSA/DSA keys
 *   never with SM3 (IDN_EINVAL otherwise). An SM2 signature covers the
 *   signer's distinguishing id (through Z_A); the _id functions take it,
 *   the others use the standard default id "1234567812345678" (GM/T 0009).
 *   RSA and DSA ignore the id.
 */

typedef struct idn_pkey idn_pkey_t;

/* Digest code of SM3, for SM2 signatures. Not a Handle-protocol digest
 * code (no message digest uses SM3), so it lies outside their range. */
#define IDN_PKEY_SM3 0x10
/* The SM2 signer id used when none is given (GM/T 0009-2012). */
#define IDN_SM2_DEFAULT_ID "1234567812345678"

/* Generate an RSA key of `bits` bits (2048 recommended). */
int idn_pkey_generate_rsa(unsigned bits, idn_pkey_t **out);
/* Generate a DSA key with a new `bits`-bit group (1024: what CNRI uses; slow). */
int idn_pkey_generate_dsa(unsigned bits, idn_pkey_t **out);
/* Generate an SM2 key (curve sm2p256v1). */
int idn_pkey_generate_sm2(idn_pkey_t **out);
/* Load a PEM private key (PKCS#8 or traditional; RSA, DSA or SM2).
 * IDN_ENOENT when the file is missing, IDN_ECRYPTO when it does not parse. */
int idn_pkey_load_pem(const char *path, idn_pkey_t **out);
/* Write the private key as PKCS#8 PEM, mode 0600, atomically (tmp+rename). */
int idn_pkey_save_pem(const idn_pkey_t *k, const char *path);
/* Write the public half as X.509 SubjectPublicKeyInfo PEM to `path`. */
int idn_pkey_save_public_pem(const idn_pkey_t *k, const char *path);
/* Load a PEM public key (SubjectPublicKeyInfo or PKCS#1 "RSA PUBLIC KEY")
 * as a verify-only key. IDN_ENOENT / -errno when the file cannot be read,
 * IDN_ECRYPTO when it does not parse, IDN_EINVAL for a key type other than
 * RSA, DSA or SM2. */
int idn_pkey_load_public_pem(const char *path, idn_pkey_t **out);
/* Build a verify-only key from an HS_PUBKEY value: CNRI RSA_PUB_KEY /
 * DSA_PUB_KEY blob, IDIS SM2_PUB_KEY blob (SubjectPublicKeyInfo of an SM2
 * key inside, as PEM text or DER), or PEM text (public key or X.509
 * certificate; RSA, DSA, or EC on the SM2 curve). Errors of
 * idn_pubkey_decode(); IDN_EINVAL for key types not supported (DH, SM9, EC
 * on other curves, an SM2_PUB_KEY blob holding another key type);
 * IDN_ELIMIT for numbers over the sizes OpenSSL verifies (RSA 16384 bits,
 * DSA p 8192 bits); IDN_ECRYPTO when OpenSSL refuses the key. */
int idn_pkey_from_hs_pubkey(const uint8_t *p, size_t len, idn_pkey_t **out);
/* The key's kind: IDN_KEY_RSA, IDN_KEY_DSA or IDN_KEY_SM2 (proto/record.h). */
int idn_pkey_kind(const idn_pkey_t *k);
/* Append the public key as an HS_PUBKEY blob at the cursor: RSA_PUB_KEY or
 * DSA_PUB_KEY (CNRI encoding), or for SM2 keys what the IDIS SDK's
 * newPublicKeyValue writes: ByteString "SM2_PUB_KEY", int2 0, ByteString
 * PEM text of the SubjectPublicKeyInfo (CRLF line breaks). IDN_EINVAL for
 * other key types. */
int idn_pkey_hs_pubkey(const idn_pkey_t *k, idn_wire_t *out);
/* Sign the concatenation of the pieces, hashed with `digest_alg`: RSA
 * PKCS#1 v1.5, DSA DER SEQUENCE{r,s}, or SM2 DER SEQUENCE{r,s} with the
 * default id. Appends the raw signature at the
 * cursor. IDN_EINVAL for an unknown digest or a verify-only key, IDN_ESPACE
 * (latched) when it does not fit, IDN_ECRYPTO when OpenSSL fails. */
int idn_pkey_sign(const idn_pkey_t *k, int digest_alg, const idn_piece_t *data, size_t ndata,
		  idn_wire_t *out);
/* Check a signature made as idn_pkey_sign() does: IDN_OK when it verifies,
 * IDN_EACCES when it does not (or does not parse), IDN_EINVAL for an unknown
 * digest or one the key type does not take (DSA with MD5). */
int idn_pkey_verify(const idn_pkey_t *k, int digest_alg, const idn_piece_t *data, size_t ndata,
		    const uint8_t *sig, size_t slen);
/* The same with the SM2 signer id `id` (idlen bytes; NULL = the default
 * id): for SM2 keys the signed e is SM3(Z_A(id) || data). */
int idn_pkey_sign_id(const idn_pkey_t *k, int digest_alg, const uint8_t *id, size_t idlen,
		     const idn_piece_t *data, size_t ndata, idn_wire_t *out);
int idn_pkey_verify_id(const idn_pkey_t *k, int digest_alg, const uint8_t *id, size_t idlen,
		       const idn_piece_t *data, size_t ndata, const uint8_t *sig, size_t slen);
void idn_pkey_free(idn_pkey_t *k);

/* ---- self-signed TLS certificate for the node's HTTPS listener ---- */

/* Write a new self-signed X.509 certificate (EC P-256 key, SHA-256, valid
 * 10 years, subject CN = cn, names localhost/127.0.0.1/::1) to cert_path and
 * its private key to key_path (PEM, key mode 0600, each written atomically),
 * and put the certificate's SHA-256 fingerprint in fp as "AB:CD:..." (fp may
 * be NULL; len >= 96). IDN_ECRYPTO when OpenSSL fails, -errno on I/O. */
int idn_cert_self_signed(const char *cert_path, const char *key_path, const char *cn,
			 char *fp, size_t len);
/* The SHA-256 fingerprint of the PEM certificate in cert_path, as above.
 * IDN_ENOENT when the file is missing, IDN_ECRYPTO when it does not parse. */
int idn_cert_fingerprint(const char *cert_path, char *fp, size_t len);

#endif
