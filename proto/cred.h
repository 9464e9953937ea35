/* cred.h - the credential section of a message (HS_SIGNED / HS_MAC): codec, the data it covers, signing a response and checking one. */
#ifndef IDN_CRED_H
#define IDN_CRED_H

#include <stddef.h>
#include <stdint.h>

#include "proto/crypto.h"
#include "proto/msg.h"
#include "proto/pkey.h"
#include "proto/wire.h"

/*
 * Rules of use:
 * - Pure functions over caller buffers (signing and verifying go through
 *   proto/pkey.h and proto/auth.h); decoded fields borrow from the input.
 * - Layout (handle-protocol.md 1.4): u8 version, u8 reserved, int2 options,
 *   ByteString signer handle, int4 signer index (CNRI: the session counter,
 *   0 for server signatures), ByteString type, int4 SignedInfo length =
 *   4 + len(DigestAlg) + 4 + len(Signature), ByteString DigestAlg,
 *   ByteString Signature.
 * - What is signed depends on the version of the signed message itself
 *   (5.6): >= 2.8 maj min suggMaj suggMin + SessionId + RequestId + counter
 *   + Header+Body; 2.7 the same without the suggested bytes; older versions
 *   Header+Body only. CNRI's 2.6 prefix was written wrongly (the three ints
 *   on top of each other); no deployed client needs it, so 2.6 is treated
 *   as older.
 * - HS_SIGNED uses SHA-256 from 2.7 and SHA-1 below; a DSA key signs with
 *   SHA-1 unless the version is 2.11 or later (CNRI's SHA256withDSA cut).
 */

/* Limits of the decoder: the credential comes from the peer. A 16 kbit RSA
 * signature is 2 KiB; MACs and DSA signatures are far smaller. */
#define IDN_CRED_MAX_TYPE 64
#define IDN_CRED_MAX_ALG 64
#define IDN_CRED_MAX_SIG 4096
#define IDN_CRED_MAX_LEN (IDN_MAX_HANDLE_LEN + IDN_CRED_MAX_TYPE + IDN_CRED_MAX_ALG + \
			  IDN_CRED_MAX_SIG + 32)

/* The longest prefix put before Header+Body in the signed data. */
#define IDN_CRED_PRE_MAX 16

/* Credential types. */
#define IDN_CRED_SIGNED "HS_SIGNED"
#define IDN_CRED_MAC "HS_MAC"
#define IDN_CRED_DSAPUBKEY "HS_DSAPUBKEY" /* legacy name, treated as HS_SIGNED */

typedef struct {
	uint8_t version;          /* 0 */
	uint8_t reserved;
	uint16_t options;
	idn_bytes_t signer;       /* signer handle; CNRI writes an empty string */
	uint32_t signer_index;    /* session counter (0 outside sessions) */
	idn_bytes_t type;         /* "HS_SIGNED", "HS_MAC", "HS_DSAPUBKEY" */
	idn_bytes_t digest_alg;   /* "SHA-256", "SHA1", "HMAC-SHA256", a 1-byte code */
	idn_bytes_t signature;
} idn_cred_t;

/*
 * Decode the credential bytes (what follows CredentialLength, i.e.
 * idn_msg_t.cred). IDN_EFEWDATA when a field runs past the end, IDN_ELIMIT
 * for a length over the limits above, IDN_EMALF when the SignedInfo length
 * does not match its two fields or bytes follow the signature. An empty
 * credential (len 0) is IDN_EFEWDATA: the caller tests for "unsigned" first.
 */
int idn_cred_decode(const uint8_t *p, size_t len, idn_cred_t *out);

/* Write the credential bytes (without the CredentialLength in front). A
 * decoded credential re-encodes to the same bytes. Errors latch in w->err
 * (IDN_ELIMIT for a field over the limits). */
void idn_cred_encode(idn_wire_t *w, const idn_cred_t *c);

/*
 * The data a credential covers, for a message with envelope `env` whose
 * Header+Body bytes are `hb`: up to two pieces (a prefix written into
 * `pre`, then hb). Returns the number of pieces (1 or 2).
 */
size_t idn_cred_signed_data(const idn_envelope_t *env, uint32_t counter, const uint8_t *hb,
			    size_t hb_len, uint8_t pre[IDN_CRED_PRE_MAX], idn_piece_t out[2]);

/* The signature hash (IDN_SIG_SHA1 / IDN_SIG_SHA256) a key of `key_kind`
 * (IDN_KEY_RSA / IDN_KEY_DSA) uses for a message of version maj.min. */
int idn_cred_sig_alg(int key_kind, uint8_t major, uint8_t minor);

/*
 * Finish the message started at `start` (idn_msg_begin) like idn_msg_end(),
 * but with an HS_SIGNED credential made with `key` over the data of the
 * message's own envelope version (signer index 0): patches BodyLength,
 * signs, writes the credential and patches MessageLength. Returns w->err:
 * IDN_ESPACE when it does not fit (retry with more room), IDN_ELIMIT over
 * IDN_MAX_MESSAGE_LEN, IDN_EINVAL for a key that cannot sign, IDN_ECRYPTO
 * when the signature fails.
 */
int idn_msg_end_signed(idn_wire_t *w, size_t start, const idn_pkey_t *key);

/*
 * Check the HS_SIGNED (or legacy HS_DSAPUBKEY) credential of a whole
 * message (envelope + message, one buffer) against an HS_PUBKEY value
 * (CNRI blob or PEM text). IDN_OK when it verifies; IDN_EACCES when the
 * signature is wrong; IDN_ENOENT when the message is unsigned; IDN_EINVAL
 * for an HS_MAC credential (needs a session key), an unknown type or hash;
 * the decoders' errors for a malformed message or credential.
 */
int idn_cred_verify(const uint8_t *msg, size_t len, const uint8_t *hs_pubkey, size_t klen);

#endif
