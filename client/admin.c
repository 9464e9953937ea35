/* admin.c - the authenticated admin client: identities, challenge answers, IDIS login, admin request builders. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/admin.h"
#include "proto/admin.h"
#include "proto/auth.h"
#include "proto/crypto.h"
#include "proto/record.h"

/* ------------------------------------------------------------------ */
/* Identities. */

static bool all_digits(const char *p, size_t n)
{
	if (n == 0 || n > 10)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)p[i]))
			return false;
	return true;
}

int idn_auth_parse_id(idn_auth_t *a, const char *spec)
{
	const char *first = strchr(spec, ':'), *last = strrchr(spec, ':');
	if (!first)
		return IDN_EINVAL;
	const char *num, *h;
	size_t nlen, hlen;
	if (all_digits(spec, (size_t)(first - spec))) {
		num = spec, nlen = (size_t)(first - spec);
		h = first + 1, hlen = strlen(h);
	} else if (all_digits(last + 1, strlen(last + 1))) {
		num = last + 1, nlen = strlen(num);
		h = spec, hlen = (size_t)(last - spec);
	} else {
		return IDN_EINVAL;
	}
	unsigned long long idx = strtoull(num, NULL, 10);
	if (hlen == 0 || hlen > IDN_MAX_HANDLE_LEN || idx > 0x7fffffffULL || nlen == 0)
		return IDN_EINVAL;
	char *copy = malloc(hlen + 1);
	if (!copy)
		return IDN_ENOMEM;
	memcpy(copy, h, hlen);
	copy[hlen] = 0;
	free(a->handle);
	a->handle = copy;
	a->index = (uint32_t)idx;
	return IDN_OK;
}

int idn_auth_load_secret(idn_auth_t *a, const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -errno;
	uint8_t buf[4096];
	size_t n = fread(buf, 1, sizeof(buf), f);
	int bad = ferror(f) || !feof(f); /* a secret over 4 KiB is not a secret file */
	fclose(f);
	if (bad)
		return IDN_EINVAL;
	/* Editors add a final newline; the secret itself never ends in one. */
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	if (n == 0)
		return IDN_EINVAL;
	uint8_t *s = malloc(n);
	if (!s)
		return IDN_ENOMEM;
	memcpy(s, buf, n);
	free(a->secret);
	a->secret = s;
	a->secret_len = n;
	return IDN_OK;
}

int idn_auth_load_key(idn_auth_t *a, const char *path)
{
	idn_pkey_t *k;
	int ret = idn_pkey_load_pem(path, &k);
	if (ret)
		return ret;
	idn_pkey_free(a->key);
	a->key = k;
	return IDN_OK;
}

void idn_auth_free(idn_auth_t *a)
{
	if (!a)
		return;
	free(a->handle);
	if (a->secret)
		memset(a->secret, 0, a->secret_len);
	free(a->secret);
	idn_pkey_free(a->key);
	memset(a, 0, sizeof(*a));
}

/* ------------------------------------------------------------------ */
/* Request builders. */

static size_t begin(idn_wire_t *w, uint32_t opcode, uint32_t opflag, const idn_req_opts_t *o)
{
	idn_envelope_t env = {
		.major = o->major ? o->major : IDN_PROTO_MAJOR,
		.minor = o->major ? o->minor : IDN_PROTO_MINOR,
		.sugg_major = IDN_PROTO_MAJOR,
		.sugg_minor = IDN_PROTO_MINOR,
		.session_id = o->session_id,
		.request_id = o->request_id,
	};
	idn_header_t hdr = {
		.opcode = opcode,
		.opflag = opflag,
		.site_serial = 0xffff,
		.expiration = (uint32_t)time(NULL) + 43200,
	};
	return idn_msg_begin(w, &env, &hdr);
}

/* What CNRI's tools send on admin requests (V10). */
#define ADMIN_FLAGS (IDN_OF_REC | IDN_OF_CA | IDN_OF_PO)

static idn_bytes_t str_bytes(const char *s)
{
	return (idn_bytes_t){ (const uint8_t *)s, (uint32_t)strlen(s) };
}

int idn_build_values_req(idn_wire_t *w, uint32_t opcode, const char *handle, uint32_t n,
			 idn_bytes_t values, const idn_req_opts_t *o)
{
	size_t start = begin(w, opcode, ADMIN_FLAGS | o->opflag, o);
	idn_values_req_encode(w, str_bytes(handle), n, values);
	return idn_msg_end(w, start, true);
}

int idn_build_remove_req(idn_wire_t *w, const char *handle, uint32_t n, const uint32_t *index,
			 const idn_req_opts_t *o)
{
	size_t start = begin(w, IDN_OC_REMOVE_VALUE, ADMIN_FLAGS | o->opflag, o);
	idn_remove_req_encode(w, str_bytes(handle), n, index);
	return idn_msg_end(w, start, true);
}

int idn_build_handle_req(idn_wire_t *w, uint32_t opcode, const char *handle,
			 const idn_req_opts_t *o)
{
	size_t start = begin(w, opcode, ADMIN_FLAGS | o->opflag, o);
	idn_wire_put_str(w, handle);
	return idn_msg_end(w, start, true);
}

void idn_put_admin_value(idn_wire_t *w, uint32_t index, uint16_t adm_perms, const char *admin,
			 uint32_t admin_index, uint32_t now)
{
	uint8_t data[IDN_MAX_HANDLE_LEN + 16];
	idn_wire_t d;
	idn_wire_init(&d, data, sizeof(data));
	idn_admin_t rec = { .perms = adm_perms, .admin_id = str_bytes(admin),
			    .admin_index = admin_index };
	idn_admin_encode(&d, &rec);
	if (d.err) {
		idn_wire_fail(w, d.err);
		return;
	}
	idn_value_t v = {
		.index = index,
		.timestamp = now,
		.ttl_type = IDN_TTL_RELATIVE,
		.ttl = 86400,
		.perms = IDN_PERM_DEFAULT,
		.type = str_bytes("HS_ADMIN"),
		.data = { data, (uint32_t)idn_wire_offset(&d) },
	};
	idn_value_encode(w, &v);
}

bool idn_values_have_type(idn_bytes_t values, uint32_t n, const char *type)
{
	idn_wire_t w;
	idn_wire_init_ro(&w, values.p, values.len);
	for (uint32_t i = 0; i < n; i++) {
		idn_value_t v;
		if (idn_value_decode(&w, &v) != IDN_OK)
			return false;
		if (idn_bytes_eq_str(v.type, type))
			return true;
	}
	return false;
}

/* ------------------------------------------------------------------ */
/* Answers. */

int idn_resp_body(const idn_msg_t *m, idn_bytes_t *body)
{
	*body = m->body;
	if (!(m->hdr.opflag & IDN_OF_RD))
		return IDN_OK;
	uint8_t alg;
	idn_bytes_t dg;
	size_t skip;
	if (idn_digest_decode(m->body.p, m->body.len, &alg, &dg, &skip) != IDN_OK)
		return IDN_EPROTO;
	body->p += skip;
	body->len -= (uint32_t)skip;
	return IDN_OK;
}

idn_bytes_t idn_resp_message(const idn_msg_t *m)
{
	idn_bytes_t body, msg = { NULL, 0 };
	if (idn_resp_body(m, &body) == IDN_OK)
		idn_error_body_decode(body.p, body.len, &msg);
	return msg;
}

const char *idn_rc_name(uint32_t rc)
{
	static const struct {
		uint32_t rc;
		const char *name;
	} names[] = {
		{ 1, "SUCCESS" }, { 2, "ERROR" }, { 3, "SERVER_TOO_BUSY" },
		{ 4, "PROTOCOL_ERROR" }, { 5, "OPERATION_NOT_SUPPORTED" },
		{ 6, "RECURSION_COUNT_TOO_HIGH" }, { 7, "SERVER_BACKUP" },
		{ 100, "HANDLE_NOT_FOUND" }, { 101, "HANDLE_ALREADY_EXISTS" },
		{ 102, "INVALID_HANDLE" }, { 200, "VALUES_NOT_FOUND" },
		{ 201, "VALUE_ALREADY_EXISTS" }, { 202, "INVALID_VALUE" },
		{ 300, "OUT_OF_DATE_SITE_INFO" }, { 301, "SERVER_NOT_RESP" },
		{ 302, "SERVICE_REFERRAL" }, { 303, "PREFIX_REFERRAL" },
		{ 400, "INVALID_ADMIN" }, { 401, "INSUFFICIENT_PERMISSIONS" },
		{ 402, "AUTHENTICATION_NEEDED" }, { 403, "AUTHENTICATION_FAILED" },
		{ 404, "INVALID_CREDENTIAL" }, { 405, "AUTHEN_TIMEOUT" },
		{ 406, "AUTHEN_ERROR" }, { 500, "SESSION_TIMEOUT" },
		{ 501, "SESSION_FAILED" }, { 502, "INVALID_SESSION_KEY" },
		{ 503, "NEED_RSAKEY_FOR_SESSIONEXCHANGE" },
		{ 504, "INVALID_SESSIONSETUP_REQUEST" }, { 505, "SESSION_MESSAGE_REJECTED" },
		{ 601, "CLIENT_CHANNEL_ERROR" }, { 602, "CLIENT_TIME_OUT" },
		{ 603, "REQUEST_LIMIT_DAILY" }, { 604, "REGISTER_COUNT_LIMIT" },
		{ 605, "PREFIX_LIMIT" },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].rc == rc)
			return names[i].name;
	return "UNKNOWN";
}

/* ------------------------------------------------------------------ */
/* Challenges. */

static int send_decode(idn_client_t *c, const uint8_t *req, size_t len, idn_msg_t *resp)
{
	const uint8_t *r;
	size_t rlen;
	int ret = idn_client_send(c, req, len, &r, &rlen);
	if (ret)
		return ret;
	return idn_msg_decode(r, rlen, resp) == IDN_OK ? IDN_OK : IDN_EPROTO;
}

/*
 * Answer the challenge `chal` to our request `req` (whole message as sent):
 * check its digest, build and send OC 200, decode the final answer.
 */
static int answer_challenge(idn_client_t *c, const idn_auth_t *a, const uint8_t *req, size_t len,
			    const idn_msg_t *chal, idn_msg_t *resp)
{
	if (!a || !a->handle || (!a->key && !a->secret))
		return IDN_EINVAL;
	uint8_t alg;
	idn_bytes_t dg, nonce;
	if (idn_challenge_decode(chal->body.p, chal->body.len, &alg, &dg, &nonce) != IDN_OK ||
	    len < IDN_MSG_BODY_OFF)
		return IDN_EPROTO;
	/* Never sign for a request other than ours: the digest must be that of
	 * the header + body we sent (the credential is not covered). */
	size_t hb = IDN_HEADER_LEN + idn_get_be32(req + IDN_ENVELOPE_LEN + 20);
	if (hb > len - IDN_ENVELOPE_LEN)
		return IDN_EPROTO;
	uint8_t mine[IDN_DIGEST_MAX];
	size_t mlen;
	if (idn_digest(alg, req + IDN_ENVELOPE_LEN, hb, mine, &mlen) != IDN_OK || mlen != dg.len ||
	    memcmp(mine, dg.p, mlen) != 0)
		return IDN_EPROTO;
	uint8_t n[256];
	if (nonce.len > sizeof(n))
		return IDN_EPROTO;
	memcpy(n, nonce.p, nonce.len);
	size_t nlen = nonce.len;

	uint8_t ans[2048];
	idn_wire_t aw;
	idn_wire_init(&aw, ans, sizeof(ans));
	int ret;
	const char *type;
	if (a->key) {
		type = "HS_PUBKEY";
		/* The hash follows the challenge's version as CNRI clients pick
		 * it (SHA-256 from 2.7 on, for DSA from 2.11 on); SM2 keys sign
		 * with SM3 and the identity handle as signer id, as the IDIS
		 * SDK does (idis-wire.md section 4). */
		int kind = idn_pkey_kind(a->key);
		int sig = IDN_SIG_SM3;
		if (kind != IDN_KEY_SM2) {
			bool new = kind == IDN_KEY_DSA
					   ? idn_version_ge(chal->env.major, chal->env.minor, 2, 11)
					   : idn_version_ge(chal->env.major, chal->env.minor, 2, 7);
			sig = new ? IDN_SIG_SHA256 : IDN_SIG_SHA1;
		}
		ret = idn_pubkey_answer_id(a->key, sig, (const uint8_t *)a->handle,
					   strlen(a->handle), n, nlen, mine, mlen, &aw);
	} else {
		type = "HS_SECKEY";
		ret = idn_seckey_answer(IDN_SECKEY_PBKDF2_SHA1, a->secret, a->secret_len, n, nlen,
					mine, mlen, &aw);
	}
	if (!ret)
		ret = aw.err;
	if (ret)
		return ret;

	idn_challenge_answer_t ca = {
		.auth_type = str_bytes(type),
		.key_handle = str_bytes(a->handle),
		.key_index = a->index,
		.answer = { ans, (uint32_t)idn_wire_offset(&aw) },
	};
	size_t cap = IDN_REQ_OVERHEAD + 64 + strlen(a->handle) + sizeof(ans);
	uint8_t *msg = malloc(cap);
	if (!msg)
		return IDN_ENOMEM;
	idn_wire_t w;
	idn_wire_init(&w, msg, cap);
	/* Same version as the request; CNRI clients copy its flags too. */
	idn_req_opts_t o = {
		.request_id = idn_client_request_id(c),
		.session_id = chal->env.session_id,
		.major = req[0],
		.minor = req[1],
	};
	size_t start = begin(&w, IDN_OC_RESPONSE_TO_CHALLENGE,
			     idn_get_be32(req + IDN_ENVELOPE_LEN + 8), &o);
	idn_challenge_answer_encode(&w, &ca);
	ret = idn_msg_end(&w, start, true);
	if (!ret)
		ret = send_decode(c, msg, idn_wire_offset(&w), resp);
	free(msg);
	return ret;
}

int idn_client_admin(idn_client_t *c, const idn_auth_t *a, const uint8_t *req, size_t len,
		     idn_msg_t *resp)
{
	int ret = send_decode(c, req, len, resp);
	if (ret || resp->hdr.rcode != IDN_RC_AUTHENTICATION_NEEDED)
		return ret;
	idn_msg_t chal = *resp;
	return answer_challenge(c, a, req, len, &chal, resp);
}

static void copy_msg(const idn_msg_t *m, char *out, size_t cap)
{
	if (!out || cap == 0)
		return;
	idn_bytes_t t = idn_resp_message(m);
	size_t n = t.len < cap - 1 ? t.len : cap - 1;
	if (n)
		memcpy(out, t.p, n);
	out[n] = 0;
}

int idn_client_login_rc(idn_client_t *c, const idn_auth_t *a, uint32_t session_id,
			uint32_t *rcode, char *msg, size_t msglen)
{
	if (rcode)
		*rcode = 0;
	if (msg && msglen)
		msg[0] = 0;
	if (!a || !a->handle)
		return IDN_EINVAL;
	size_t cap = IDN_REQ_OVERHEAD + 16 + strlen(a->handle);
	uint8_t *req = malloc(cap);
	if (!req)
		return IDN_ENOMEM;
	idn_req_opts_t o = { .request_id = idn_client_request_id(c), .session_id = session_id };
	idn_wire_t w;
	idn_msg_t m;
	/* Step 1: the IDIS SDK sends OC 2 first and ignores what comes back. */
	idn_wire_init(&w, req, cap);
	int ret = idn_build_handle_req(&w, IDN_OC_GET_SITE_INFO, "/", &o);
	if (!ret)
		ret = send_decode(c, req, idn_wire_offset(&w), &m);
	if (ret)
		goto out;

	/* Step 2: OC 2001 with the identity and no credential field at all. */
	o.request_id = idn_client_request_id(c);
	idn_wire_init(&w, req, cap);
	size_t start = begin(&w, IDN_OC_LOGIN_ID_SYSTEM, IDN_OF_REC | IDN_OF_RD, &o);
	idn_login_req_encode(&w, str_bytes(a->handle), a->index);
	ret = idn_msg_end(&w, start, false);
	size_t len = idn_wire_offset(&w);
	if (!ret)
		ret = send_decode(c, req, len, &m);
	if (ret)
		goto out;
	if (m.hdr.rcode != IDN_RC_AUTHENTICATION_NEEDED ||
	    m.hdr.opcode != IDN_OC_LOGIN_ID_SYSTEM) {
		ret = IDN_ERESPONSE;
		goto refused;
	}
	/* Step 3: the answer, with the 402's session id; RC 1 for OC 2001. */
	idn_msg_t chal = m;
	ret = answer_challenge(c, a, req, len, &chal, &m);
	if (ret)
		goto out;
	if (m.hdr.rcode != IDN_RC_SUCCESS || m.hdr.opcode != IDN_OC_LOGIN_ID_SYSTEM)
		ret = IDN_ERESPONSE;
refused:
	if (ret) {
		if (rcode)
			*rcode = m.hdr.rcode;
		copy_msg(&m, msg, msglen);
	}
out:
	free(req);
	return ret;
}

int idn_client_login(idn_client_t *c, const idn_auth_t *a, uint32_t session_id)
{
	return idn_client_login_rc(c, a, session_id, NULL, NULL, 0);
}

/* ------------------------------------------------------------------ */
/* Lists. */

static int list_names(const idn_msg_t *m, void (*fn)(void *, idn_bytes_t), void *arg)
{
	idn_bytes_t body, name;
	idn_list_resp_t l;
	if (idn_resp_body(m, &body) || idn_list_resp_decode(body.p, body.len, &l))
		return IDN_EPROTO;
	size_t pos = 0;
	while (idn_list_next(&l, &pos, &name))
		fn(arg, name);
	return IDN_OK;
}

int idn_client_list(idn_client_t *c, const idn_auth_t *a, uint32_t opcode, const char *name,
		    void (*fn)(void *arg, idn_bytes_t name), void *arg, idn_msg_t *resp)
{
	if (opcode == IDN_OC_LIST_HOMED_NAS || !name)
		name = "/";
	size_t cap = IDN_REQ_OVERHEAD + strlen(name);
	uint8_t *req = malloc(cap);
	if (!req)
		return IDN_ENOMEM;
	idn_wire_t w;
	idn_wire_init(&w, req, cap);
	idn_req_opts_t o = { .request_id = idn_client_request_id(c) };
	int ret = idn_build_handle_req(&w, opcode, name, &o);
	if (!ret)
		ret = idn_client_admin(c, a, req, idn_wire_offset(&w), resp);
	free(req);
	if (ret || resp->hdr.rcode != IDN_RC_SUCCESS)
		return ret;
	/* The rest of the list comes in further messages with the same id
	 * (that of the answer: the OC 200's when a challenge came). */
	uint32_t rid = resp->env.request_id;
	for (;;) {
		if ((ret = list_names(resp, fn, arg)))
			return ret;
		if (!(resp->hdr.opflag & IDN_OF_CN))
			return IDN_OK;
		const uint8_t *r;
		size_t rlen;
		do {
			if ((ret = idn_client_read(c, -1, &r, &rlen)))
				return ret;
			if (idn_msg_decode(r, rlen, resp) != IDN_OK)
				return IDN_EPROTO;
		} while (resp->env.request_id != rid);
		if (resp->hdr.rcode != IDN_RC_SUCCESS)
			return IDN_OK;
	}
}
