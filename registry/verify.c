/* verify.c - checking a credential against the key values (HS_SECKEY, HS_PUBKEY) of an identity handle: one path for native answers and HTTP. */
#include <string.h>

#include "proto/auth.h"
#include "registry/reg_int.h"

/* Secrets are compared without an early exit: how long the comparison took
 * says nothing about how much of a guess was right. */
static bool same_secret(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	volatile uint8_t diff = (uint8_t)(alen != blen);
	size_t n = alen < blen ? alen : blen;
	for (size_t i = 0; i < n; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}

int reg_verify_key(idn_reader_t *rd, const idn_verify_t *v, idn_identity_t *who,
		   const char **msg)
{
	bool seckey = v->type && strcmp(v->type, "HS_SECKEY") == 0;
	bool pubkey = v->type && strcmp(v->type, "HS_PUBKEY") == 0;
	if (!seckey && !pubkey) {
		*msg = "Unknown authentication type";
		return IDN_EINVAL;
	}
	if (v->handle_len == 0 || v->handle_len > IDN_ID_MAX_HANDLE) {
		*msg = "Invalid identity handle";
		return IDN_ENOTFOUND;
	}
	idn_record_t rec;
	if (idn_reader_get(rd, v->handle, v->handle_len, &rec) != IDN_OK) {
		*msg = "Identity handle not found on this server";
		return IDN_ENOTFOUND;
	}
	idn_wire_t in;
	idn_wire_init_ro(&in, rec.values.p, rec.values.len);
	for (uint32_t i = 0; i < rec.count; i++) {
		idn_value_t kv;
		if (idn_value_decode(&in, &kv) != IDN_OK)
			break;
		if (v->index != 0 && kv.index != v->index)
			continue;
		int ret;
		if (seckey && idn_type_is(kv.type, "HS_SECKEY")) {
			if (v->secret)
				ret = same_secret(kv.data.p, kv.data.len, v->answer, v->answer_len)
					      ? IDN_OK
					      : IDN_EACCES;
			else
				ret = idn_seckey_verify(kv.data.p, kv.data.len, v->nonce, v->nonce_len,
							v->digest, v->digest_len, v->answer,
							v->answer_len);
		} else if (pubkey && !v->secret && idn_type_is(kv.type, "HS_PUBKEY")) {
			/* SM2 answers are signed with the key handle as signer id
			 * (IDIS SDK); RSA and DSA ignore it. */
			ret = idn_pubkey_verify_id(kv.data.p, kv.data.len, v->handle, v->handle_len,
						   v->nonce, v->nonce_len, v->digest, v->digest_len,
						   v->answer, v->answer_len);
		} else {
			continue;
		}
		if (ret == IDN_OK) {
			memset(who, 0, sizeof(*who));
			who->valid = true;
			who->index = kv.index;
			who->len = (uint16_t)v->handle_len;
			memcpy(who->handle, v->handle, v->handle_len);
			return IDN_OK;
		}
	}
	*msg = "Authentication failed";
	return IDN_EACCES;
}

int idn_registry_verify(void *registry, struct idn_reader *rd, const idn_verify_t *v,
			idn_identity_t *who)
{
	idn_registry_t *r = registry;
	const char *msg = NULL;
	int ret = reg_verify_key(rd, v, who, &msg);
	atomic_fetch_add(ret == IDN_OK ? &r->st_auth_ok : &r->st_auth_fail, 1);
	return ret;
}
