/* admin.h - bodies of the administration and authentication operations (OC 100-105, 200, 300-302, 2001; RC 402). */
#ifndef IDN_ADMIN_H
#define IDN_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/msg.h"
#include "proto/record.h"
#include "proto/wire.h"

/*
 * Rules of use: as proto/msg.h. Pure functions; decoded structs borrow from
 * the body buffer; every count and length from the wire is checked against
 * the limits of proto/msg.h and proto/record.h (IDN_ELIMIT); a body that
 * ends early is IDN_EFEWDATA; bytes left after a body are tolerated where
 * CNRI's decoder tolerates them (it reads sequentially), except inside the
 * value list, which must decode exactly.
 */

/* OC 100 create, 102 add, 104 modify: Handle, int4 n, n x HandleValue. */
typedef struct {
	idn_bytes_t handle;
	uint32_t n_values;        /* at most IDN_MAX_VALUES */
	idn_bytes_t values;       /* the n values in wire form, back to back, each decoded once */
} idn_values_req_t;

int idn_values_req_decode(const uint8_t *body, size_t len, idn_values_req_t *out);
/* `values` holds n values in wire form back to back. */
void idn_values_req_encode(idn_wire_t *w, idn_bytes_t handle, uint32_t n, idn_bytes_t values);

/* OC 103 remove value: Handle, IntArray indexes. */
typedef struct {
	idn_bytes_t handle;
	uint32_t n_index;         /* at most IDN_MAX_VALUES */
	uint32_t index[IDN_MAX_VALUES];
} idn_remove_req_t;

int idn_remove_req_decode(const uint8_t *body, size_t len, idn_remove_req_t *out);
void idn_remove_req_encode(idn_wire_t *w, idn_bytes_t handle, uint32_t n, const uint32_t *index);

/* OC 2001 (IDIS login): Handle, int4 index. */
typedef struct {
	idn_bytes_t handle;
	uint32_t index;
} idn_login_req_t;

int idn_login_req_decode(const uint8_t *body, size_t len, idn_login_req_t *out);
void idn_login_req_encode(idn_wire_t *w, idn_bytes_t handle, uint32_t index);

/* OC 200 response to challenge: ByteString AuthType ("HS_SECKEY" or
 * "HS_PUBKEY"), ByteString KeyHandle, int4 KeyIndex, ByteString answer. */
typedef struct {
	idn_bytes_t auth_type;
	idn_bytes_t key_handle;
	uint32_t key_index;
	idn_bytes_t answer;
} idn_challenge_answer_t;

int idn_challenge_answer_decode(const uint8_t *body, size_t len, idn_challenge_answer_t *out);
void idn_challenge_answer_encode(idn_wire_t *w, const idn_challenge_answer_t *a);

/* RC 402 challenge body: [u8 alg + digest of the request] + ByteString nonce.
 * The digest is written by idn_resp_begin() (force_digest); the server then
 * writes the nonce with idn_wire_put_bstr(). Decoding (client side) returns
 * the digest algorithm, the digest and the nonce. */
#define IDN_NONCE_LEN 16
int idn_challenge_decode(const uint8_t *body, size_t len, uint8_t *digest_alg,
			 idn_bytes_t *digest, idn_bytes_t *nonce);

/* OC 100 success body (CNRI 9): ByteString handle (the minted one with MINT). */
/* OC 105 / 302 response bodies: int4 n, n x ByteString. A server writes
 * idn_wire_put_u32(count) then idn_wire_put_bstr() per name and patches the
 * count; clients iterate with idn_list_next(). */
typedef struct {
	uint32_t count;
	idn_bytes_t raw;          /* the entries, validated */
} idn_list_resp_t;

int idn_list_resp_decode(const uint8_t *body, size_t len, idn_list_resp_t *out);
bool idn_list_next(const idn_list_resp_t *l, size_t *pos, idn_bytes_t *name);

#endif
