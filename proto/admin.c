/* admin.c - bodies of the administration and authentication operations: values, remove, login, challenge, answer, lists. */
#include <string.h>

#include "proto/admin.h"

/* Smallest wire form of a value: 14 fixed bytes + empty type, data and
 * reference count (4 bytes each). */
#define VALUE_MIN_LEN 26
/* An AuthType is a short name ("HS_SECKEY"); a challenge answer holds a MAC
 * or a signature (16 kbit RSA = 2 KiB) and room for larger schemes; a nonce
 * is 16 bytes from CNRI, bounded generously for other servers. */
#define AUTH_TYPE_MAX 64
#define ANSWER_MAX 16384
#define NONCE_MAX 1024

int idn_values_req_decode(const uint8_t *body, size_t len, idn_values_req_t *out)
{
	memset(out, 0, sizeof(*out));
	idn_wire_t w;
	idn_wire_init_ro(&w, body, len);
	out->handle = idn_wire_get_bstr(&w, IDN_MAX_HANDLE_LEN);
	out->n_values = idn_wire_get_u32(&w);
	if (w.err)
		return w.err;
	if (out->n_values > IDN_MAX_VALUES)
		return IDN_ELIMIT;
	/* A count that cannot fit in what is left fails before any walking. */
	if (out->n_values > idn_wire_avail(&w) / VALUE_MIN_LEN)
		return IDN_EFEWDATA;
	const uint8_t *start = w.pos;
	for (uint32_t i = 0; i < out->n_values; i++) {
		idn_value_t v;
		int ret = idn_value_decode(&w, &v);
		if (ret)
			return ret;
	}
	/* The list is the end of the body: any byte after it means the count
	 * and the values disagree. */
	if (idn_wire_avail(&w) != 0)
		return IDN_EMALF;
	out->values = (idn_bytes_t){ start, (uint32_t)(w.pos - start) };
	return IDN_OK;
}

void idn_values_req_encode(idn_wire_t *w, idn_bytes_t handle, uint32_t n, idn_bytes_t values)
{
	idn_wire_put_bstr(w, handle.p, handle.len);
	idn_wire_put_u32(w, n);
	idn_wire_put_raw(w, values.p, values.len);
}

int idn_remove_req_decode(const uint8_t *body, size_t len, idn_remove_req_t *out)
{
	idn_wire_t w;
	idn_wire_init_ro(&w, body, len);
	out->handle = idn_wire_get_bstr(&w, IDN_MAX_HANDLE_LEN);
	out->n_index = idn_wire_get_u32(&w);
	if (w.err)
		return w.err;
	if (out->n_index > IDN_MAX_VALUES) {
		out->n_index = 0;
		return IDN_ELIMIT;
	}
	for (uint32_t i = 0; i < out->n_index; i++)
		out->index[i] = idn_wire_get_u32(&w);
	if (w.err)
		out->n_index = 0;
	return w.err;
}

void idn_remove_req_encode(idn_wire_t *w, idn_bytes_t handle, uint32_t n, const uint32_t *index)
{
	idn_wire_put_bstr(w, handle.p, handle.len);
	idn_wire_put_u32(w, n);
	for (uint32_t i = 0; i < n; i++)
		idn_wire_put_u32(w, index[i]);
}

int idn_login_req_decode(const uint8_t *body, size_t len, idn_login_req_t *out)
{
	idn_wire_t w;
	idn_wire_init_ro(&w, body, len);
	out->handle = idn_wire_get_bstr(&w, IDN_MAX_HANDLE_LEN);
	out->index = idn_wire_get_u32(&w);
	return w.err;
}

void idn_login_req_encode(idn_wire_t *w, idn_bytes_t handle, uint32_t index)
{
	idn_wire_put_bstr(w, handle.p, handle.len);
	idn_wire_put_u32(w, index);
}

int idn_challenge_answer_decode(const uint8_t *body, size_t len, idn_challenge_answer_t *out)
{
	idn_wire_t w;
	idn_wire_init_ro(&w, body, len);
	out->auth_type = idn_wire_get_bstr(&w, AUTH_TYPE_MAX);
	out->key_handle = idn_wire_get_bstr(&w, IDN_MAX_HANDLE_LEN);
	out->key_index = idn_wire_get_u32(&w);
	out->answer = idn_wire_get_bstr(&w, ANSWER_MAX);
	return w.err;
}

void idn_challenge_answer_encode(idn_wire_t *w, const idn_challenge_answer_t *a)
{
	idn_wire_put_bstr(w, a->auth_type.p, a->auth_type.len);
	idn_wire_put_bstr(w, a->key_handle.p, a->key_handle.len);
	idn_wire_put_u32(w, a->key_index);
	idn_wire_put_bstr(w, a->answer.p, a->answer.len);
}

int idn_challenge_decode(const uint8_t *body, size_t len, uint8_t *digest_alg,
			 idn_bytes_t *digest, idn_bytes_t *nonce)
{
	size_t skip = 0;
	/* The digest part has the layout of any response's request digest,
	 * old MD5 format (code 0) included. */
	int ret = idn_digest_decode(body, len, digest_alg, digest, &skip);
	if (ret)
		return ret;
	idn_wire_t w;
	idn_wire_init_ro(&w, body + skip, len - skip);
	*nonce = idn_wire_get_bstr(&w, NONCE_MAX);
	return w.err;
}

int idn_list_resp_decode(const uint8_t *body, size_t len, idn_list_resp_t *out)
{
	idn_wire_t w;
	idn_wire_init_ro(&w, body, len);
	out->count = idn_wire_get_u32(&w);
	out->raw = (idn_bytes_t){ NULL, 0 };
	if (w.err)
		return w.err;
	/* Each entry takes at least its 4-byte length. */
	if (out->count > idn_wire_avail(&w) / 4)
		return out->count > IDN_MAX_BSTR ? IDN_ELIMIT : IDN_EFEWDATA;
	const uint8_t *start = w.pos;
	for (uint32_t i = 0; i < out->count; i++)
		idn_wire_get_bstr(&w, IDN_MAX_HANDLE_LEN);
	if (w.err)
		return w.err;
	out->raw = (idn_bytes_t){ start, (uint32_t)(w.pos - start) };
	return IDN_OK;
}

bool idn_list_next(const idn_list_resp_t *l, size_t *pos, idn_bytes_t *name)
{
	if (*pos >= l->raw.len)
		return false;
	idn_wire_t w;
	idn_wire_init_ro(&w, l->raw.p + *pos, l->raw.len - *pos);
	*name = idn_wire_get_bstr(&w, IDN_MAX_HANDLE_LEN);
	if (w.err)
		return false;
	*pos += idn_wire_offset(&w);
	return true;
}
