/* auth.h - challenge answers: secret-key MACs (HS_SECKEY) and public-key signatures (HS_PUBKEY), made and checked. */
#ifndef IDN_AUTH_H
#define IDN_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "proto/crypto.h"
#include "proto/pkey.h"
#include "proto/wire.h"

/*
 * Rules of use: stateless, thread-safe, OpenSSL 3 underneath (no OpenSSL
 * type here). D = nonce || digest: the 16-byte nonce of the challenge
 * followed by the raw request digest it carried (without the algorithm
 * byte). Verification returns IDN_OK when the answer is right,
 * IDN_EACCES when it is well-formed but wrong, IDN_EMALF / IDN_EFEWDATA /
 * IDN_ELIMIT when the answer does not decode, IDN_EINVAL for an unknown
 * algorithm code or key type, IDN_ECRYPTO when OpenSSL fails.
 */

/* HS_SECKEY answer codes (handle-protocol.md 5.4). */
enum {
	IDN_SECKEY_MD5 = 0x01,
	IDN_SECKEY_SHA1 = 0x02,
	IDN_SECKEY_SHA256 = 0x03,
	IDN_SECKEY_HMAC_SHA1 = 0x12,
	IDN_SECKEY_HMAC_SHA256 = 0x13,
	IDN_SECKEY_PBKDF2_SHA1 = 0x22,   /* what CNRI 2.7+ clients send */
};

/* Client side: write the HS_SECKEY answer field for `code` (for 0x22 with a
 * random 16-byte salt, 10000 iterations, 160-bit key, as CNRI). */
int idn_seckey_answer(int code, const uint8_t *key, size_t keylen, const uint8_t *nonce,
		      size_t nlen, const uint8_t *digest, size_t dlen, idn_wire_t *out);
/* Server side: check an HS_SECKEY answer field against secret `key`. The
 * old format (no code byte, MD5(K|D|K), 16 bytes) is accepted too. */
int idn_seckey_verify(const uint8_t *key, size_t keylen, const uint8_t *nonce, size_t nlen,
		      const uint8_t *digest, size_t dlen, const uint8_t *answer, size_t alen);

/* Hash algorithms of signatures. SM3 goes with SM2 keys only, SHA-1 and
 * SHA-256 with RSA and DSA keys only (IDN_EINVAL otherwise). */
enum { IDN_SIG_SHA1 = 2, IDN_SIG_SHA256 = 3, IDN_SIG_SM3 = IDN_PKEY_SM3 };

/*
 * Client side: write the HS_PUBKEY answer field: ByteString hashAlgId
 * ("SHA-256", "SHA1" or "SM3") + ByteString signature over D: RSA PKCS#1
 * v1.5 or DSA DER over D itself; for SM2 (IDIS SDK, idis-wire.md 4) DER
 * SEQUENCE{r,s} with signer id `id` over the 32-byte SM3(D), so that the
 * signed e is SM3(Z_A || SM3(D)). The id is the identity handle's bytes;
 * NULL gives the default id (IDN_SM2_DEFAULT_ID). RSA and DSA ignore it.
 */
int idn_pubkey_answer_id(const idn_pkey_t *k, int sig_alg, const uint8_t *id, size_t idlen,
			 const uint8_t *nonce, size_t nlen, const uint8_t *digest, size_t dlen,
			 idn_wire_t *out);
/* idn_pubkey_answer_id() with no id. */
int idn_pubkey_answer(const idn_pkey_t *k, int sig_alg, const uint8_t *nonce, size_t nlen,
		      const uint8_t *digest, size_t dlen, idn_wire_t *out);
/* Server side: check an HS_PUBKEY answer field against an HS_PUBKEY value
 * (CNRI binary RSA_PUB_KEY / DSA_PUB_KEY blob, IDIS SM2_PUB_KEY blob, or PEM
 * text), made as idn_pubkey_answer_id() does with signer id `id` (the
 * answer's key handle; NULL = the default id). hashAlgId may be "SHA-256",
 * "SHA256", "SHA1", "SHA-1", "MD5", "SM3" or a 1-byte code 1/2/3. */
int idn_pubkey_verify_id(const uint8_t *hs_pubkey, size_t klen, const uint8_t *id, size_t idlen,
			 const uint8_t *nonce, size_t nlen, const uint8_t *digest, size_t dlen,
			 const uint8_t *answer, size_t alen);
/* idn_pubkey_verify_id() with no id. */
int idn_pubkey_verify(const uint8_t *hs_pubkey, size_t klen, const uint8_t *nonce, size_t nlen,
		      const uint8_t *digest, size_t dlen, const uint8_t *answer, size_t alen);

/* The digest code (IDN_SIG_*, or IDN_DIGEST_MD5) a hashAlgId names: "SHA-256",
 * "SHA256", "SHA1", "SHA-1", "MD5", "SM3" (any case) or a 1-byte code 1/2/3;
 * 0 when unknown. Shared by challenge answers and message credentials. */
int idn_sig_alg_parse(idn_bytes_t id);
/* The name CNRI (or, for SM3, the IDIS SDK) writes for a signature hash
 * ("SHA-256", "SHA1", "SM3"); NULL otherwise. */
const char *idn_sig_alg_name(int sig_alg);

/* Signatures over arbitrary data (credentials of signed messages); SM2
 * keys sign the data itself with SM3 and the default id. */
int idn_sign(const idn_pkey_t *k, int sig_alg, const idn_piece_t *data, size_t ndata,
	     idn_wire_t *sig_out);
int idn_verify(const uint8_t *hs_pubkey, size_t klen, int sig_alg, const idn_piece_t *data,
	       size_t ndata, const uint8_t *sig, size_t slen);

#endif
