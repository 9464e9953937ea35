/* record.c - handle values and the records inside them: HS_ADMIN, HS_VLIST, HS_SITE, HS_PUBKEY. */
#include <string.h>

#include "proto/crypto.h"
#include "proto/msg.h"
#include "proto/record.h"

int idn_value_decode(idn_wire_t *w, idn_value_t *v)
{
	v->index = idn_wire_get_u32(w);
	v->timestamp = idn_wire_get_u32(w);
	v->ttl_type = idn_wire_get_u8(w);
	v->ttl = idn_wire_get_u32(w);
	v->perms = idn_wire_get_u8(w);
	v->type = idn_wire_get_bstr(w, IDN_MAX_TYPE_LEN);
	v->data = idn_wire_get_bstr(w, IDN_MAX_VALUE_DATA);
	v->n_refs = idn_wire_get_u32(w);
	if (w->err)
		return w->err;
	if (v->n_refs > IDN_MAX_REFS) {
		idn_wire_fail(w, IDN_ELIMIT);
		return w->err;
	}
	const uint8_t *start = w->pos;
	for (uint32_t i = 0; i < v->n_refs; i++) {
		idn_wire_get_bstr(w, IDN_MAX_HANDLE_LEN);
		idn_wire_get_u32(w);
	}
	if (w->err)
		return w->err;
	v->refs = (idn_bytes_t){ start, (uint32_t)(w->pos - start) };
	return IDN_OK;
}

void idn_value_encode(idn_wire_t *w, const idn_value_t *v)
{
	idn_wire_put_u32(w, v->index);
	idn_wire_put_u32(w, v->timestamp);
	idn_wire_put_u8(w, v->ttl_type);
	idn_wire_put_u32(w, v->ttl);
	idn_wire_put_u8(w, v->perms);
	idn_wire_put_bstr(w, v->type.p, v->type.len);
	idn_wire_put_bstr(w, v->data.p, v->data.len);
	idn_wire_put_u32(w, v->n_refs);
	idn_wire_put_raw(w, v->refs.p, v->refs.len);
}

size_t idn_value_size(const idn_value_t *v)
{
	return 14 + 4 + v->type.len + 4 + v->data.len + 4 + v->refs.len;
}

/* Next (ByteString handle, int4 index) pair of a validated run: the shape of
 * value references and of HS_VLIST entries alike. */
static bool pair_next(idn_bytes_t raw, size_t *pos, idn_bytes_t *handle, uint32_t *index)
{
	if (*pos >= raw.len)
		return false;
	idn_wire_t w;
	idn_wire_init_ro(&w, raw.p + *pos, raw.len - *pos);
	*handle = idn_wire_get_bstr(&w, IDN_MAX_HANDLE_LEN);
	*index = idn_wire_get_u32(&w);
	if (w.err)
		return false;
	*pos += idn_wire_offset(&w);
	return true;
}

bool idn_value_ref_next(const idn_value_t *v, size_t *pos, idn_bytes_t *handle, uint32_t *index)
{
	return pair_next(v->refs, pos, handle, index);
}

static uint8_t upper(uint8_t c)
{
	return c >= 'a' && c <= 'z' ? (uint8_t)(c - 32) : c;
}

static bool eq_ci(const uint8_t *a, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (upper(a[i]) != upper(b[i]))
			return false;
	return true;
}

bool idn_handle_eq_ci(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	return al == bl && eq_ci(a, b, al);
}

bool idn_handle_has_prefix_ci(const uint8_t *h, size_t len, const uint8_t *prefix, size_t plen)
{
	return len >= plen && eq_ci(h, prefix, plen);
}

bool idn_type_matches(idn_bytes_t type, idn_bytes_t query)
{
	/* CNRI Util.isParentTypeInArray: a value without a type never matches. */
	if (type.len == 0)
		return false;
	if (query.len > 0 && query.p[query.len - 1] == '.') {
		/* "URL." matches "URL" and "URL.anything". */
		size_t base = query.len - 1;
		if (type.len == base)
			return eq_ci(type.p, query.p, base);
		return type.len > base && eq_ci(type.p, query.p, query.len);
	}
	return type.len == query.len && eq_ci(type.p, query.p, type.len);
}

bool idn_type_is(idn_bytes_t type, const char *base)
{
	size_t n = strlen(base);
	if (type.len < n || !eq_ci(type.p, (const uint8_t *)base, n))
		return false;
	return type.len == n || type.p[n] == '.';
}

/* ---- HS_ADMIN ---- */

int idn_admin_decode(const uint8_t *p, size_t len, idn_admin_t *a)
{
	idn_wire_t w;
	idn_wire_init_ro(&w, p, len);
	a->perms = idn_wire_get_u16(&w);
	a->admin_id = idn_wire_get_bstr(&w, IDN_MAX_HANDLE_LEN);
	a->admin_index = idn_wire_get_u32(&w);
	if (w.err)
		return w.err;
	size_t left = idn_wire_avail(&w);
	/* Records written by HS <= 7.3 carry two extra zero bytes. */
	if (left == 0 || (left == 2 && w.pos[0] == 0 && w.pos[1] == 0))
		return IDN_OK;
	return IDN_EMALF;
}

void idn_admin_encode(idn_wire_t *w, const idn_admin_t *a)
{
	idn_wire_put_u16(w, a->perms);
	idn_wire_put_bstr(w, a->admin_id.p, a->admin_id.len);
	idn_wire_put_u32(w, a->admin_index);
}

/* ---- HS_VLIST ---- */

int idn_vlist_decode(const uint8_t *p, size_t len, idn_vlist_t *v)
{
	idn_wire_t w;
	idn_wire_init_ro(&w, p, len);
	v->count = idn_wire_get_u32(&w);
	if (w.err)
		return w.err;
	/* Each entry takes at least 8 bytes: no count can exceed what is there. */
	if (v->count > idn_wire_avail(&w) / 8)
		return v->count > IDN_MAX_BSTR ? IDN_ELIMIT : IDN_EFEWDATA;
	const uint8_t *start = w.pos;
	for (uint32_t i = 0; i < v->count; i++) {
		idn_wire_get_bstr(&w, IDN_MAX_HANDLE_LEN);
		idn_wire_get_u32(&w);
	}
	if (w.err)
		return w.err;
	if (idn_wire_avail(&w) != 0)
		return IDN_EMALF;
	v->raw = (idn_bytes_t){ start, (uint32_t)(w.pos - start) };
	return IDN_OK;
}

bool idn_vlist_next(const idn_vlist_t *v, size_t *pos, idn_bytes_t *handle, uint32_t *index)
{
	return pair_next(v->raw, pos, handle, index);
}

void idn_vlist_encode(idn_wire_t *w, uint32_t n, const idn_bytes_t *handles,
		      const uint32_t *indexes)
{
	idn_wire_put_u32(w, n);
	for (uint32_t i = 0; i < n; i++) {
		idn_wire_put_bstr(w, handles[i].p, handles[i].len);
		idn_wire_put_u32(w, indexes[i]);
	}
}

/* ---- HS_SITE ---- */

int idn_site_decode(const uint8_t *p, size_t len, idn_site_t *s)
{
	idn_wire_t w;
	idn_wire_init_ro(&w, p, len);
	s->data_version = idn_wire_get_u16(&w);
	s->proto_major = idn_wire_get_u8(&w);
	s->proto_minor = idn_wire_get_u8(&w);
	s->serial = idn_wire_get_u16(&w);
	s->primary_mask = idn_wire_get_u8(&w);
	s->hash_option = idn_wire_get_u8(&w);
	s->hash_filter = idn_wire_get_bstr(&w, IDN_MAX_HANDLE_LEN);
	s->n_attrs = idn_wire_get_u32(&w);
	if (w.err)
		return w.err;
	if (s->n_attrs > IDN_SITE_MAX_ATTRS)
		return IDN_ELIMIT;
	for (uint32_t i = 0; i < s->n_attrs; i++) {
		s->attrs[i].name = idn_wire_get_bstr(&w, IDN_MAX_HANDLE_LEN);
		s->attrs[i].value = idn_wire_get_bstr(&w, IDN_MAX_BSTR);
	}
	s->n_servers = idn_wire_get_u32(&w);
	if (w.err)
		return w.err;
	if (s->n_servers > IDN_SITE_MAX_SERVERS)
		return IDN_ELIMIT;
	for (uint32_t i = 0; i < s->n_servers; i++) {
		idn_site_server_t *sv = &s->servers[i];
		sv->server_id = idn_wire_get_u32(&w);
		idn_bytes_t a = idn_wire_get_raw(&w, 16);
		if (w.err)
			return w.err;
		memcpy(sv->address, a.p, 16);
		sv->pubkey = idn_wire_get_bstr(&w, IDN_MAX_BSTR);
		sv->n_ifs = idn_wire_get_u32(&w);
		if (w.err)
			return w.err;
		if (sv->n_ifs > IDN_SITE_MAX_IFS)
			return IDN_ELIMIT;
		for (uint32_t j = 0; j < sv->n_ifs; j++) {
			sv->ifs[j].type = idn_wire_get_u8(&w);
			sv->ifs[j].protocol = idn_wire_get_u8(&w);
			sv->ifs[j].port = idn_wire_get_u32(&w);
		}
	}
	if (w.err)
		return w.err;
	return idn_wire_avail(&w) == 0 ? IDN_OK : IDN_EMALF;
}

void idn_site_encode(idn_wire_t *w, const idn_site_t *s)
{
	if (s->n_attrs > IDN_SITE_MAX_ATTRS || s->n_servers > IDN_SITE_MAX_SERVERS) {
		idn_wire_fail(w, IDN_ELIMIT);
		return;
	}
	idn_wire_put_u16(w, s->data_version);
	idn_wire_put_u8(w, s->proto_major);
	idn_wire_put_u8(w, s->proto_minor);
	idn_wire_put_u16(w, s->serial);
	idn_wire_put_u8(w, s->primary_mask);
	idn_wire_put_u8(w, s->hash_option);
	idn_wire_put_bstr(w, s->hash_filter.p, s->hash_filter.len);
	idn_wire_put_u32(w, s->n_attrs);
	for (uint32_t i = 0; i < s->n_attrs; i++) {
		idn_wire_put_bstr(w, s->attrs[i].name.p, s->attrs[i].name.len);
		idn_wire_put_bstr(w, s->attrs[i].value.p, s->attrs[i].value.len);
	}
	idn_wire_put_u32(w, s->n_servers);
	for (uint32_t i = 0; i < s->n_servers; i++) {
		const idn_site_server_t *sv = &s->servers[i];
		if (sv->n_ifs > IDN_SITE_MAX_IFS) {
			idn_wire_fail(w, IDN_ELIMIT);
			return;
		}
		idn_wire_put_u32(w, sv->server_id);
		idn_wire_put_raw(w, sv->address, 16);
		idn_wire_put_bstr(w, sv->pubkey.p, sv->pubkey.len);
		idn_wire_put_u32(w, sv->n_ifs);
		for (uint32_t j = 0; j < sv->n_ifs; j++) {
			idn_wire_put_u8(w, sv->ifs[j].type);
			idn_wire_put_u8(w, sv->ifs[j].protocol);
			idn_wire_put_u32(w, sv->ifs[j].port);
		}
	}
}

uint32_t idn_site_server_index(uint8_t hash_option, uint32_t n_servers, const uint8_t *handle,
			       size_t len)
{
	if (n_servers <= 1)
		return 0;
	const uint8_t *slash = len ? memchr(handle, '/', len) : NULL;
	const uint8_t *part = handle;
	size_t plen = len;
	if (hash_option == 0) {
		/* CNRI Util.getPrefixPart: a handle without "/" hashes as "0.NA". */
		if (slash) {
			plen = (size_t)(slash - handle);
		} else {
			part = (const uint8_t *)"0.NA";
			plen = 4;
		}
	} else if (hash_option == 1 && slash) {
		part = slash + 1;
		plen = len - (size_t)(part - handle);
	}
	/* No request can carry a longer handle (IDN_MAX_HANDLE_LEN), so a stack
	 * copy suffices; anything longer goes to server 0. */
	uint8_t buf[IDN_MAX_HANDLE_LEN];
	if (plen > sizeof(buf))
		return 0;
	for (size_t i = 0; i < plen; i++)
		buf[i] = upper(part[i]);
	uint8_t md[IDN_DIGEST_MAX];
	size_t mdlen = 0;
	if (idn_digest(IDN_DIGEST_MD5, buf, plen, md, &mdlen) != IDN_OK || mdlen != 16)
		return 0;
	int32_t v = (int32_t)idn_get_be32(md + 12);
	/* CNRI's Math.abs(INT_MIN) stays negative and fails; pick server 0. */
	if (v == INT32_MIN)
		return 0;
	return (uint32_t)(v < 0 ? -v : v) % n_servers;
}

/* ---- HS_PUBKEY ---- */

static bool starts_with(const uint8_t *p, size_t len, const char *s)
{
	size_t n = strlen(s);
	return len >= n && memcmp(p, s, n) == 0;
}

int idn_pubkey_decode(const uint8_t *p, size_t len, idn_pubkey_t *k)
{
	memset(k, 0, sizeof(*k));
	/* The IDIS SDK may store the key as bare PEM text. */
	if (starts_with(p, len, "-----BEGIN")) {
		k->kind = IDN_KEY_PEM;
		k->pem = (idn_bytes_t){ p, (uint32_t)len };
		return len > UINT32_MAX ? IDN_ELIMIT : IDN_OK;
	}
	idn_wire_t w;
	idn_wire_init_ro(&w, p, len);
	k->type = idn_wire_get_bstr(&w, 64);
	idn_wire_get_u16(&w); /* reserved flags */
	if (w.err)
		return w.err;
	/* Big integers stay within 8 KiB (64 kbit keys). Trailing bytes are
	 * ignored, as CNRI's reader does: its RSA encoder always appends 4 zero
	 * bytes (it sizes the blob for one ByteString more than it writes). */
	if (idn_bytes_eq_str(k->type, "RSA_PUB_KEY")) {
		k->kind = IDN_KEY_RSA;
		k->rsa_e = idn_wire_get_bstr(&w, 8192);
		k->rsa_n = idn_wire_get_bstr(&w, 8192);
	} else if (idn_bytes_eq_str(k->type, "DSA_PUB_KEY")) {
		k->kind = IDN_KEY_DSA;
		k->dsa_q = idn_wire_get_bstr(&w, 8192);
		k->dsa_p = idn_wire_get_bstr(&w, 8192);
		k->dsa_g = idn_wire_get_bstr(&w, 8192);
		k->dsa_y = idn_wire_get_bstr(&w, 8192);
	} else if (idn_bytes_eq_str(k->type, "DH_PUB_KEY")) {
		k->kind = IDN_KEY_DH;
		k->dsa_y = idn_wire_get_bstr(&w, 8192);
		k->dsa_p = idn_wire_get_bstr(&w, 8192);
		k->dsa_g = idn_wire_get_bstr(&w, 8192);
	} else if (idn_bytes_eq_str(k->type, "SM2_PUB_KEY")) {
		k->kind = IDN_KEY_SM2;
		k->pem = idn_wire_get_bstr(&w, 8192);
	} else if (idn_bytes_eq_str(k->type, "SM9_PUB_KEY")) {
		k->kind = IDN_KEY_SM9;
		k->pem = idn_wire_get_bstr(&w, 8192);
	} else {
		return IDN_EMALF;
	}
	if (w.err) {
		k->kind = IDN_KEY_UNKNOWN;
		return w.err;
	}
	return IDN_OK;
}

void idn_pubkey_encode_rsa(idn_wire_t *w, idn_bytes_t e, idn_bytes_t n)
{
	/* Java BigInteger.toByteArray(): minimal two's complement, so a leading
	 * 0x00 when the top bit is set, and one 0x00 byte for zero. Leading zeros
	 * of the input are dropped. */
	idn_bytes_t parts[2] = { e, n };
	idn_wire_put_str(w, "RSA_PUB_KEY");
	idn_wire_put_u16(w, 0);
	for (int i = 0; i < 2; i++) {
		idn_bytes_t b = parts[i];
		while (b.len > 0 && b.p[0] == 0) {
			b.p++;
			b.len--;
		}
		bool pad = b.len == 0 || (b.p[0] & 0x80);
		idn_wire_put_u32(w, b.len + (pad ? 1 : 0));
		if (pad)
			idn_wire_put_u8(w, 0);
		idn_wire_put_raw(w, b.p, b.len);
	}
	/* CNRI's 4 trailing zero bytes, for byte-identical blobs. */
	idn_wire_put_u32(w, 0);
}
