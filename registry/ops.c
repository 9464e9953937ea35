/* ops.c - the write operations (create, delete, add, remove, modify, home, unhome) with CNRI's checks, quotas and the change log. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/crypto.h"
#include "registry/reg_int.h"
#include "storage/serves.h"

#define QUOTA_TYPE "IDNODE_QUOTA"

/* ---- small helpers ---- */

static void fail(reg_op_t *op, uint32_t rcode, const char *msg)
{
	op->rcode = rcode;
	op->errmsg = msg;
}

static void failf(reg_op_t *op, uint32_t rcode, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void failf(reg_op_t *op, uint32_t rcode, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(op->errbuf, sizeof(op->errbuf), fmt, ap);
	va_end(ap);
	op->rcode = rcode;
	op->errmsg = op->errbuf;
}

/* 0.NA/..., any case: a prefix handle. */
static bool is_na(const uint8_t *h, size_t len)
{
	return idn_handle_has_prefix_ci(h, len, (const uint8_t *)NA_PREFIX, NA_PREFIX_LEN);
}

/* Strict UTF-8 (no overlongs, no surrogates), as CNRI's decoder demands. */
static bool valid_utf8(const uint8_t *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint8_t c = p[i];
		size_t k;
		uint32_t cp;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			k = 1;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			k = 2;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			k = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		for (size_t j = 1; j <= k; j++) {
			if (i + j >= n || (p[i + j] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + j] & 0x3f);
		}
		if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k + 1;
	}
	return true;
}

/* The handle names of a request: syntax every write demands. */
static uint32_t check_handle(idn_bytes_t h, const char **msg)
{
	if (h.len == 0) {
		*msg = "Empty handle";
		return IDN_RC_INVALID_HANDLE;
	}
	if (h.len > IDN_STORE_MAX_KEY - 64) {
		*msg = "Handle too long";
		return IDN_RC_INVALID_HANDLE;
	}
	if (!valid_utf8(h.p, h.len)) {
		*msg = "Handle is not valid UTF-8";
		return IDN_RC_INVALID_HANDLE;
	}
	for (uint32_t i = 0; i < h.len; i++) {
		if (h.p[i] < 0x20 || h.p[i] == 0x7f) {
			*msg = "Handle contains control characters";
			return IDN_RC_INVALID_HANDLE;
		}
	}
	const uint8_t *slash = memchr(h.p, '/', h.len);
	if (!slash || slash == h.p) {
		*msg = "Handle must be PREFIX/SUFFIX";
		return IDN_RC_INVALID_HANDLE;
	}
	return 0;
}

/* Is handle `h` served here (storage/serves.h)? The registry does not
 * follow CNRI's derived-prefix entries 0.NA/0.NA/P, which the resolver
 * does: a prefix handle homed only that way is answered but not changed here. */
static bool served(reg_view_t *v, const uint8_t *h, size_t len)
{
	return v->txn ? idn_txn_serves(v->txn, h, len, false)
		      : idn_reader_serves(v->reader, h, len, false);
}

uint32_t reg_precheck(idn_registry_t *r, const idn_msg_t *m, idn_reader_t *rd, const char **msg)
{
	idn_bytes_t h = { 0 };
	int ret;
	switch (m->hdr.opcode) {
	case IDN_OC_CREATE_HANDLE:
	case IDN_OC_ADD_VALUE:
	case IDN_OC_MODIFY_VALUE: {
		idn_values_req_t vr;
		ret = idn_values_req_decode(m->body.p, m->body.len, &vr);
		h = vr.handle;
		break;
	}
	case IDN_OC_REMOVE_VALUE: {
		static _Thread_local idn_remove_req_t rr;
		ret = idn_remove_req_decode(m->body.p, m->body.len, &rr);
		h = rr.handle;
		break;
	}
	default:
		ret = idn_handle_body_decode(m->body.p, m->body.len, &h);
		break;
	}
	if (ret) {
		*msg = ret == IDN_ELIMIT ? "Request field over the limit" : "Malformed request body";
		return IDN_RC_PROTOCOL_ERROR;
	}
	uint32_t oc = m->hdr.opcode;
	if (oc == IDN_OC_HOME_NA || oc == IDN_OC_UNHOME_NA || oc == IDN_OC_LIST_HOMED_NAS)
		return 0;
	if (oc == IDN_OC_LIST_HANDLES) {
		if (h.len == 0 || h.len > IDN_STORE_MAX_KEY - NA_PREFIX_LEN) {
			*msg = "Invalid prefix";
			return IDN_RC_INVALID_HANDLE;
		}
		return 0;
	}
	uint32_t rc = is_na(h.p, h.len) && h.len > NA_PREFIX_LEN ? 0 : check_handle(h, msg);
	if (rc)
		return rc;
	reg_view_t v = { NULL, rd };
	if (!served(&v, h.p, h.len)) {
		*msg = "That prefix doesn't live here";
		return IDN_RC_SERVER_NOT_RESP;
	}
	return 0;
}

/* ---- values ---- */

/* Decode the values of a record or request into `out` (IDN_MAX_VALUES). */
static int decode_values(idn_bytes_t raw, uint32_t n, idn_value_t *out)
{
	if (n > IDN_MAX_VALUES)
		return IDN_ELIMIT;
	idn_wire_t in;
	idn_wire_init_ro(&in, raw.p, raw.len);
	for (uint32_t i = 0; i < n; i++)
		if (idn_value_decode(&in, &out[i]) != IDN_OK)
			return IDN_ECORRUPT;
	return IDN_OK;
}

static int find_index(const idn_value_t *v, uint32_t n, uint32_t index)
{
	for (uint32_t i = 0; i < n; i++)
		if (v[i].index == index)
			return (int)i;
	return -1;
}

/* Indexes must be positive Java ints and unique within the request. */
/* The configured write limits (registry.h), defaults filled in. */
static uint32_t reg_max_values(const idn_registry_t *r)
{
	return r->o.max_values && r->o.max_values < IDN_MAX_VALUES ? r->o.max_values
								   : IDN_MAX_VALUES;
}

static uint32_t reg_max_handle_len(const idn_registry_t *r)
{
	return r->o.max_handle_len ? r->o.max_handle_len : 255;
}

static bool check_new_values(reg_op_t *op, const idn_value_t *v, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		if (v[i].index == 0 || v[i].index > 0x7fffffff) {
			fail(op, IDN_RC_INVALID_VALUE, "Value indexes must be positive");
			return false;
		}
		for (uint32_t j = 0; j < i; j++) {
			if (v[j].index == v[i].index) {
				failf(op, IDN_RC_VALUE_ALREADY_EXISTS, "Index conflict for %u",
				      v[i].index);
				return false;
			}
		}
	}
	return true;
}

static bool is_admin_value(const idn_value_t *v)
{
	return idn_type_is(v->type, "HS_ADMIN");
}

static bool is_quota_value(const idn_value_t *v)
{
	return idn_type_is(v->type, QUOTA_TYPE);
}

/* Encode `n` values back to back into r->enc (grown as needed). */
static int encode_values(idn_registry_t *r, const idn_value_t *v, uint32_t n, size_t *len)
{
	size_t need = 0;
	for (uint32_t i = 0; i < n; i++)
		need += idn_value_size(&v[i]);
	if (need > r->enc_cap) {
		size_t cap = need < 65536 ? 65536 : need;
		uint8_t *p = realloc(r->enc, cap);
		if (!p)
			return IDN_ENOMEM;
		r->enc = p;
		r->enc_cap = cap;
	}
	idn_wire_t w;
	idn_wire_init(&w, r->enc, r->enc_cap);
	for (uint32_t i = 0; i < n; i++)
		idn_value_encode(&w, &v[i]);
	*len = idn_wire_offset(&w);
	return w.err;
}

static bool scratch(idn_registry_t *r)
{
	if (!r->vold)
		r->vold = malloc(sizeof(idn_value_t) * IDN_MAX_VALUES);
	if (!r->vnew)
		r->vnew = malloc(sizeof(idn_value_t) * IDN_MAX_VALUES);
	return r->vold && r->vnew;
}

/* ---- quotas and counters ---- */

/* "88.100.12/x" -> "88.100.12" */
static size_t ent_prefix(const uint8_t *h, size_t len)
{
	const uint8_t *slash = memchr(h, '/', len);
	return slash ? (size_t)(slash - h) : 0;
}

static void day_text(idn_registry_t *r, uint32_t now, char out[16])
{
	time_t t = (time_t)now + r->o.utc_offset;
	struct tm tm;
	gmtime_r(&t, &tm);
	snprintf(out, 16, "%04u%02u%02u", (unsigned)(tm.tm_year + 1900) % 10000u,
		 (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u);
}

static size_t counter_name(char *out, size_t cap, const char *kind, const uint8_t *p, size_t pl,
			   const char *day)
{
	/* Counter names fold the prefix like handle keys. */
	int n = snprintf(out, cap, "%s:", kind);
	size_t o = (size_t)n;
	for (size_t i = 0; i < pl && o + 1 < cap; i++) {
		uint8_t c = p[i];
		out[o++] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
	}
	if (day && o + 1 + strlen(day) < cap) {
		out[o++] = ':';
		memcpy(out + o, day, strlen(day));
		o += strlen(day);
	}
	return o;
}

static uint64_t parse_field(idn_bytes_t d, const char *key)
{
	size_t kl = strlen(key);
	for (uint32_t i = 0; i + kl < d.len; i++) {
		if ((i == 0 || d.p[i - 1] == ';' || d.p[i - 1] == ' ') &&
		    memcmp(d.p + i, key, kl) == 0 && d.p[i + kl] == '=') {
			uint64_t v = 0;
			for (uint32_t j = i + (uint32_t)kl + 1; j < d.len && d.p[j] >= '0' && d.p[j] <= '9'; j++)
				v = v * 10 + (uint64_t)(d.p[j] - '0');
			return v;
		}
	}
	return UINT64_MAX;
}

/* The quotas of a prefix: its IDNODE_QUOTA value, else the defaults.
 * `prefixes` limits the prefix handles that may be derived from it. */
static void quotas(idn_registry_t *r, const idn_record_t *prec, uint64_t *ids, uint64_t *daily,
		   uint64_t *prefixes)
{
	*ids = r->o.quota_identifiers;
	*daily = r->o.quota_daily;
	*prefixes = 0;
	if (!prec)
		return;
	idn_wire_t in;
	idn_wire_init_ro(&in, prec->values.p, prec->values.len);
	for (uint32_t i = 0; i < prec->count; i++) {
		idn_value_t v;
		if (idn_value_decode(&in, &v) != IDN_OK)
			return;
		if (!is_quota_value(&v))
			continue;
		uint64_t a = parse_field(v.data, "identifiers");
		uint64_t b = parse_field(v.data, "daily");
		uint64_t c = parse_field(v.data, "prefixes");
		if (a != UINT64_MAX)
			*ids = a;
		if (b != UINT64_MAX)
			*daily = b;
		if (c != UINT64_MAX)
			*prefixes = c;
	}
}

static void log_change(idn_txn_t *t, reg_op_t *op, uint32_t now, const uint8_t *h, size_t hl,
		       const uint8_t *data, size_t dl)
{
	char who[IDN_ID_MAX_HANDLE + 16];
	size_t wl = reg_identity_text(&op->who, who, sizeof(who));
	idn_change_t c = {
		.time = now,
		.op = op->msg.hdr.opcode,
		.who = { (const uint8_t *)who, (uint32_t)wl },
		.handle = { h, (uint32_t)hl },
		.data = { data, (uint32_t)dl },
	};
	idn_txn_log(t, &c);
}

static int by_index(const void *a, const void *b)
{
	const idn_value_t *x = a, *y = b;
	return x->index < y->index ? -1 : x->index > y->index;
}

static bool bytes_eq(idn_bytes_t a, idn_bytes_t b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

/* Same values as stored, timestamps aside (the request's `nv` is sorted
 * by index here; the store keeps index order). */
static bool same_values(idn_registry_t *r, const idn_record_t *old, idn_value_t *nv, uint32_t n)
{
	if (old->count != n || decode_values(old->values, n, r->vold) != IDN_OK)
		return false;
	qsort(nv, n, sizeof(*nv), by_index);
	for (uint32_t i = 0; i < n; i++) {
		const idn_value_t *a = &r->vold[i], *b = &nv[i];
		if (a->index != b->index || a->perms != b->perms || a->ttl_type != b->ttl_type ||
		    a->ttl != b->ttl || !bytes_eq(a->type, b->type) || !bytes_eq(a->data, b->data) ||
		    a->n_refs != b->n_refs || !bytes_eq(a->refs, b->refs))
			return false;
	}
	return true;
}

/* ---- create ---- */

static void do_create(idn_registry_t *r, idn_txn_t *t, reg_op_t *op, uint32_t now)
{
	reg_view_t view = { t, NULL };
	const idn_msg_t *m = &op->msg;
	idn_values_req_t vr;
	if (idn_values_req_decode(m->body.p, m->body.len, &vr) != IDN_OK) {
		fail(op, IDN_RC_PROTOCOL_ERROR, "Malformed request body");
		return;
	}
	/* The handle to create, minted when asked: the text given plus a UUID. */
	size_t hl = vr.handle.len;
	size_t minted = hl + ((m->hdr.opflag & IDN_OF_MINT) ? 36 : 0);
	if (hl + 40 > sizeof(op->minted) || minted > reg_max_handle_len(r)) {
		failf(op, IDN_RC_INVALID_HANDLE, "Handle too long (over %u bytes)",
		      (unsigned)reg_max_handle_len(r));
		return;
	}
	memcpy(op->minted, vr.handle.p, hl);
	if (m->hdr.opflag & IDN_OF_MINT) {
		uint8_t u[16];
		if (idn_random(u, sizeof(u)) != IDN_OK) {
			fail(op, IDN_RC_ERROR, "No randomness to mint a suffix");
			return;
		}
		u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
		u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
		static const char hex[] = "0123456789abcdef";
		for (int i = 0; i < 16; i++) {
			if (i == 4 || i == 6 || i == 8 || i == 10)
				op->minted[hl++] = '-';
			op->minted[hl++] = hex[u[i] >> 4];
			op->minted[hl++] = hex[u[i] & 15];
		}
	}
	op->minted[hl] = 0;
	op->minted_len = hl;
	const uint8_t *h = (const uint8_t *)op->minted;
	bool na = is_na(h, hl);

	idn_value_t *nv = r->vnew;
	uint32_t n = vr.n_values;
	if (decode_values(vr.values, n, nv) != IDN_OK) {
		fail(op, IDN_RC_INVALID_VALUE, "Malformed value");
		return;
	}
	if (!check_new_values(op, nv, n))
		return;
	if (n > reg_max_values(r)) {
		failf(op, IDN_RC_INVALID_VALUE, "Too many values in one handle (over %u)",
		      (unsigned)reg_max_values(r));
		return;
	}

	idn_record_t old;
	int ret = idn_txn_get(t, h, hl, &old);
	bool exists = ret == IDN_OK;
	if (ret != IDN_OK && ret != IDN_ENOTFOUND) {
		fail(op, IDN_RC_ERROR, "Storage error");
		return;
	}
	if (exists && !(m->hdr.opflag & IDN_OF_OVRW)) {
		/* A retried batch item: the same values are there, so it is done
		 * (permission to read them is the same as to have written them). */
		if (op->job->idempotent && same_values(r, &old, nv, n)) {
			uint8_t ph[IDN_STORE_MAX_KEY];
			size_t phl = reg_prefix_handle(h, hl, ph, sizeof(ph));
			idn_record_t prec;
			bool have = phl > 0 && idn_txn_get(t, ph, phl, &prec) == IDN_OK;
			if (reg_allowed(r, &view, have ? &prec : NULL, &op->who,
					na ? IDN_ADM_ADD_DERIVED_PREFIX : IDN_ADM_ADD_HANDLE) ||
			    reg_allowed(r, &view, &old, &op->who, IDN_ADM_READ_VALUE)) {
				op->job->existed = true;
				op->rcode = IDN_RC_SUCCESS;
				return;
			}
		}
		fail(op, IDN_RC_HANDLE_ALREADY_EXISTS, "Handle already exists");
		return;
	}

	uint8_t ph[IDN_STORE_MAX_KEY];
	size_t phl = reg_prefix_handle(h, hl, ph, sizeof(ph));
	idn_record_t prec;
	bool have_prec = phl > 0 && idn_txn_get(t, ph, phl, &prec) == IDN_OK;
	uint16_t need = na ? IDN_ADM_ADD_DERIVED_PREFIX : IDN_ADM_ADD_HANDLE;
	bool ok = reg_allowed(r, &view, have_prec ? &prec : NULL, &op->who, need);
	if (!ok && exists) {
		/* Overwriting: the handle's own administrators may replace it. */
		ok = reg_allowed(r, &view, &old, &op->who,
				 IDN_ADM_ADD_VALUE | IDN_ADM_REMOVE_VALUE | IDN_ADM_MODIFY_VALUE |
					 IDN_ADM_ADD_ADMIN | IDN_ADM_REMOVE_ADMIN |
					 IDN_ADM_MODIFY_ADMIN);
	}
	if (!ok) {
		fail(op, IDN_RC_INVALID_ADMIN, "Not an administrator for this prefix");
		return;
	}
	bool admin = reg_is_server_admin(r, &op->who);
	for (uint32_t i = 0; i < n; i++) {
		if (is_quota_value(&nv[i]) && !admin) {
			fail(op, IDN_RC_INVALID_ADMIN, "Only the node administrator may set quotas");
			return;
		}
		nv[i].timestamp = now;
	}

	/* Quotas of the enterprise prefix (identifiers, registrations today). */
	char day[16], cn[IDN_STORE_MAX_KEY + 32];
	day_text(r, now, day);
	size_t epl = na ? 0 : ent_prefix(h, hl);
	if (!exists && na && have_prec) {
		/* Derived prefixes under their parent (IDIS RC 605). */
		uint64_t qids, qday, qpfx;
		quotas(r, &prec, &qids, &qday, &qpfx);
		size_t cl = counter_name(cn, sizeof(cn), "pfx", ph + NA_PREFIX_LEN,
					 phl - NA_PREFIX_LEN, NULL);
		if (qpfx && idn_txn_counter_get(t, cn, cl) >= qpfx) {
			failf(op, IDN_RC_PREFIX_LIMIT, "Prefix limit reached under %.*s (%llu prefixes)",
			      (int)(phl - NA_PREFIX_LEN), (const char *)ph + NA_PREFIX_LEN,
			      (unsigned long long)qpfx);
			return;
		}
	}
	if (!exists && epl > 0) {
		uint64_t qids, qday, qpfx;
		quotas(r, have_prec ? &prec : NULL, &qids, &qday, &qpfx);
		size_t cl = counter_name(cn, sizeof(cn), "ids", h, epl, NULL);
		if (qids && idn_txn_counter_get(t, cn, cl) >= qids) {
			failf(op, IDN_RC_REGISTER_COUNT_LIMIT,
			      "Registration count limit reached for %.*s (%llu identifiers)",
			      (int)epl, (const char *)h, (unsigned long long)qids);
			return;
		}
		cl = counter_name(cn, sizeof(cn), "reg", h, epl, day);
		if (qday && idn_txn_counter_get(t, cn, cl) >= qday) {
			failf(op, IDN_RC_REQUEST_LIMIT_DAILY,
			      "Daily registration limit reached for %.*s (%llu a day)", (int)epl,
			      (const char *)h, (unsigned long long)qday);
			return;
		}
	}

	/* A new enterprise prefix handle is served here: it publishes our site. */
	if (na && r->o.site_len > 0) {
		bool has_site = false;
		for (uint32_t i = 0; i < n; i++)
			has_site |= idn_type_is(nv[i].type, "HS_SITE");
		if (!has_site && n < IDN_MAX_VALUES) {
			uint32_t idx = 1;
			while (find_index(nv, n, idx) >= 0)
				idx++;
			nv[n++] = (idn_value_t){
				.index = idx, .timestamp = now, .ttl_type = IDN_TTL_RELATIVE,
				.ttl = 86400, .perms = IDN_PERM_DEFAULT,
				.type = { (const uint8_t *)"HS_SITE", 7 },
				.data = { r->o.site, (uint32_t)r->o.site_len },
			};
		}
	}

	size_t len;
	if (encode_values(r, nv, n, &len) != IDN_OK) {
		fail(op, IDN_RC_ERROR, "Out of memory");
		return;
	}
	idn_txn_put(t, h, hl, r->enc, len, n);
	if (!exists && epl > 0) {
		size_t cl = counter_name(cn, sizeof(cn), "ids", h, epl, NULL);
		idn_txn_counter_add(t, cn, cl, 1);
		cl = counter_name(cn, sizeof(cn), "reg", h, epl, day);
		/* The prefix's first registration today marks its year (enterprises served). */
		if (idn_txn_counter_get(t, cn, cl) == 0)
			reg_mark_enterprise_year(t, h, epl, day);
		idn_txn_counter_add(t, cn, cl, 1);
		cl = (size_t)snprintf(cn, sizeof(cn), "regday:%s", day);
		idn_txn_counter_add(t, cn, cl, 1);
		idn_txn_counter_add(t, "ids", 3, 1);
	} else if (!exists && na) {
		idn_txn_counter_add(t, "prefixes", 8, 1);
		if (phl > NA_PREFIX_LEN) {
			size_t cl = counter_name(cn, sizeof(cn), "pfx", ph + NA_PREFIX_LEN,
						 phl - NA_PREFIX_LEN, NULL);
			idn_txn_counter_add(t, cn, cl, 1);
		}
	}
	log_change(t, op, now, h, hl, r->enc, len);
	op->rcode = IDN_RC_SUCCESS;
}

/* A secondary node's enterprise administers every identifier under its
 * prefix: the HS_ADMIN values of the prefix handle grant what the handle's
 * own would (CNRI consults only the handle's own; identifiers registered
 * without an HS_ADMIN would otherwise be frozen). */
static bool prefix_allows(idn_registry_t *r, idn_txn_t *t, idn_bytes_t h,
			  const idn_identity_t *who, uint16_t need)
{
	reg_view_t view = { t, NULL };
	uint8_t ph[IDN_STORE_MAX_KEY];
	size_t phl = reg_prefix_handle(h.p, h.len, ph, sizeof(ph));
	idn_record_t prec;
	if (!phl || idn_txn_get(t, ph, phl, &prec) != IDN_OK)
		return false;
	if (is_na(h.p, h.len)) {
		/* A prefix handle: the parent grants derived-prefix rights only. */
		return reg_allowed(r, &view, &prec, who, IDN_ADM_ADD_DERIVED_PREFIX |
								 IDN_ADM_DELETE_DERIVED_PREFIX);
	}
	return reg_allowed(r, &view, &prec, who, need);
}

/* ---- delete ---- */

static void do_delete(idn_registry_t *r, idn_txn_t *t, reg_op_t *op, uint32_t now)
{
	reg_view_t view = { t, NULL };
	idn_bytes_t h;
	if (idn_handle_body_decode(op->msg.body.p, op->msg.body.len, &h) != IDN_OK) {
		fail(op, IDN_RC_PROTOCOL_ERROR, "Malformed request body");
		return;
	}
	idn_record_t rec;
	if (idn_txn_get(t, h.p, h.len, &rec) != IDN_OK) {
		fail(op, IDN_RC_HANDLE_NOT_FOUND, "Handle not found");
		return;
	}
	bool na = is_na(h.p, h.len);
	if (!reg_allowed(r, &view, &rec, &op->who, IDN_ADM_DELETE_HANDLE) &&
	    !prefix_allows(r, t, h, &op->who, IDN_ADM_DELETE_HANDLE)) {
		fail(op, IDN_RC_INVALID_ADMIN, "Not an administrator for this handle");
		return;
	}
	idn_txn_del(t, h.p, h.len);
	size_t epl = na ? 0 : ent_prefix(h.p, h.len);
	if (epl) {
		char cn[IDN_STORE_MAX_KEY + 32];
		size_t cl = counter_name(cn, sizeof(cn), "ids", h.p, epl, NULL);
		idn_txn_counter_add(t, cn, cl, -1);
		idn_txn_counter_add(t, "ids", 3, -1);
	} else if (na) {
		idn_txn_counter_add(t, "prefixes", 8, -1);
		uint8_t ph[IDN_STORE_MAX_KEY];
		size_t phl = reg_prefix_handle(h.p, h.len, ph, sizeof(ph));
		if (phl > NA_PREFIX_LEN) {
			char cn[IDN_STORE_MAX_KEY + 32];
			size_t cl = counter_name(cn, sizeof(cn), "pfx", ph + NA_PREFIX_LEN,
						 phl - NA_PREFIX_LEN, NULL);
			idn_txn_counter_add(t, cn, cl, -1);
		}
	}
	log_change(t, op, now, h.p, h.len, NULL, 0);
	op->rcode = IDN_RC_SUCCESS;
}

/* ---- add, remove, modify ---- */

/* The bits a change of value `from` into `to` needs (either may be NULL). */
static uint16_t change_perms(const idn_value_t *from, const idn_value_t *to)
{
	if (!from)
		return is_admin_value(to) ? IDN_ADM_ADD_ADMIN : IDN_ADM_ADD_VALUE;
	if (!to)
		return is_admin_value(from) ? IDN_ADM_REMOVE_ADMIN : IDN_ADM_REMOVE_VALUE;
	bool fa = is_admin_value(from), ta = is_admin_value(to);
	if (fa && ta)
		return IDN_ADM_MODIFY_ADMIN;
	if (fa)
		return IDN_ADM_REMOVE_ADMIN | IDN_ADM_MODIFY_VALUE;
	if (ta)
		return IDN_ADM_MODIFY_VALUE | IDN_ADM_ADD_ADMIN;
	return IDN_ADM_MODIFY_VALUE;
}

static void do_values(idn_registry_t *r, idn_txn_t *t, reg_op_t *op, uint32_t now)
{
	reg_view_t view = { t, NULL };
	const idn_msg_t *m = &op->msg;
	uint32_t oc = m->hdr.opcode;
	idn_bytes_t h;
	idn_values_req_t vr = { 0 };
	static _Thread_local idn_remove_req_t rr;
	int ret = oc == IDN_OC_REMOVE_VALUE ? idn_remove_req_decode(m->body.p, m->body.len, &rr)
					    : idn_values_req_decode(m->body.p, m->body.len, &vr);
	if (ret) {
		fail(op, IDN_RC_PROTOCOL_ERROR, "Malformed request body");
		return;
	}
	h = oc == IDN_OC_REMOVE_VALUE ? rr.handle : vr.handle;
	idn_record_t rec;
	if (idn_txn_get(t, h.p, h.len, &rec) != IDN_OK) {
		fail(op, IDN_RC_HANDLE_NOT_FOUND, "Handle not found");
		return;
	}
	idn_value_t *ov = r->vold, *nv = r->vnew;
	uint32_t on = rec.count, nn = vr.n_values;
	if (decode_values(rec.values, on, ov) != IDN_OK) {
		fail(op, IDN_RC_ERROR, "Stored record is corrupt");
		return;
	}
	if (oc != IDN_OC_REMOVE_VALUE) {
		if (nn == 0) {
			fail(op, IDN_RC_INVALID_VALUE, "No values given");
			return;
		}
		if (decode_values(vr.values, nn, nv) != IDN_OK) {
			fail(op, IDN_RC_INVALID_VALUE, "Malformed value");
			return;
		}
		if (!check_new_values(op, nv, nn))
			return;
	}
	bool admin = reg_is_server_admin(r, &op->who);
	uint16_t need = 0;
	if (oc == IDN_OC_REMOVE_VALUE) {
		for (uint32_t i = 0; i < rr.n_index; i++) {
			int k = find_index(ov, on, rr.index[i]);
			if (k < 0) {
				failf(op, IDN_RC_VALUES_NOT_FOUND, "No value at index %u", rr.index[i]);
				return;
			}
			if (is_quota_value(&ov[k]) && !admin) {
				fail(op, IDN_RC_INVALID_ADMIN, "Only the node administrator may change quotas");
				return;
			}
			need |= change_perms(&ov[k], NULL);
		}
	} else {
		bool ovrw = oc == IDN_OC_MODIFY_VALUE || (m->hdr.opflag & IDN_OF_OVRW);
		for (uint32_t i = 0; i < nn; i++) {
			int k = find_index(ov, on, nv[i].index);
			if (oc == IDN_OC_MODIFY_VALUE && k < 0) {
				failf(op, IDN_RC_VALUES_NOT_FOUND, "No value at index %u", nv[i].index);
				return;
			}
			if (k >= 0 && !ovrw) {
				failf(op, IDN_RC_VALUE_ALREADY_EXISTS, "Index conflict for %u",
				      nv[i].index);
				return;
			}
			if (k >= 0 && !(ov[k].perms & IDN_PERM_ADMIN_WRITE)) {
				fail(op, IDN_RC_INSUFFICIENT_PERMISSIONS, "Value is read-only");
				return;
			}
			if ((is_quota_value(&nv[i]) || (k >= 0 && is_quota_value(&ov[k]))) && !admin) {
				fail(op, IDN_RC_INVALID_ADMIN, "Only the node administrator may change quotas");
				return;
			}
			need |= change_perms(k >= 0 ? &ov[k] : NULL, &nv[i]);
			nv[i].timestamp = now;
		}
	}
	if (!reg_allowed(r, &view, &rec, &op->who, need) && !prefix_allows(r, t, h, &op->who, need)) {
		fail(op, IDN_RC_INVALID_ADMIN, "Not an administrator for this handle");
		return;
	}
	/* The new record: old values not touched, then the new ones. */
	uint32_t out = 0;
	for (uint32_t i = 0; i < on; i++) {
		bool drop = oc == IDN_OC_REMOVE_VALUE
				    ? false
				    : find_index(nv, nn, ov[i].index) >= 0;
		if (oc == IDN_OC_REMOVE_VALUE)
			for (uint32_t j = 0; j < rr.n_index && !drop; j++)
				drop = rr.index[j] == ov[i].index;
		if (!drop)
			ov[out++] = ov[i];
	}
	if (out + nn > reg_max_values(r)) {
		fail(op, IDN_RC_INVALID_VALUE, "Too many values in one handle");
		return;
	}
	for (uint32_t i = 0; i < nn; i++)
		ov[out++] = nv[i];
	size_t len;
	if (encode_values(r, ov, out, &len) != IDN_OK) {
		fail(op, IDN_RC_ERROR, "Out of memory");
		return;
	}
	/* The record borrowed from the map is not used past this point. */
	idn_txn_put(t, h.p, h.len, r->enc, len, out);
	log_change(t, op, now, h.p, h.len, r->enc, len);
	op->rcode = IDN_RC_SUCCESS;
}

/* ---- home, unhome ---- */

static void do_home(idn_registry_t *r, idn_txn_t *t, reg_op_t *op, uint32_t now)
{
	idn_bytes_t h;
	if (idn_handle_body_decode(op->msg.body.p, op->msg.body.len, &h) != IDN_OK) {
		fail(op, IDN_RC_PROTOCOL_ERROR, "Malformed request body");
		return;
	}
	uint8_t na[IDN_STORE_MAX_KEY];
	size_t nl;
	if (h.len == 0 || h.len + NA_PREFIX_LEN > sizeof(na)) {
		fail(op, IDN_RC_INVALID_HANDLE, "Invalid prefix");
		return;
	}
	if (memchr(h.p, '/', h.len)) {
		if (!is_na(h.p, h.len) || h.len == NA_PREFIX_LEN) {
			fail(op, IDN_RC_INVALID_HANDLE, "Not a prefix handle (0.NA/...)");
			return;
		}
		memcpy(na, h.p, h.len);
		nl = h.len;
	} else {
		memcpy(na, NA_PREFIX, NA_PREFIX_LEN);
		memcpy(na + NA_PREFIX_LEN, h.p, h.len);
		nl = NA_PREFIX_LEN + h.len;
	}
	if (!reg_is_server_admin(r, &op->who)) {
		fail(op, IDN_RC_INVALID_ADMIN, "Only server administrators may home prefixes");
		return;
	}
	if (op->msg.hdr.opcode == IDN_OC_HOME_NA)
		idn_txn_home(t, na, nl);
	else if (idn_txn_is_homed(t, na, nl))
		idn_txn_unhome(t, na, nl);
	log_change(t, op, now, na, nl, NULL, 0);
	op->rcode = idn_txn_error(t) ? IDN_RC_ERROR : IDN_RC_SUCCESS;
	if (op->rcode != IDN_RC_SUCCESS)
		op->errmsg = "Storage error";
}

void reg_apply(idn_registry_t *r, idn_txn_t *t, reg_op_t *op, uint32_t now)
{
	if (op->internal) {
		reg_internal_apply(r, t, op, now);
		return;
	}
	op->rcode = IDN_RC_ERROR;
	op->errmsg = "Server error processing request";
	if (!scratch(r)) {
		fail(op, IDN_RC_SERVER_TOO_BUSY, "Out of memory");
		return;
	}
	switch (op->msg.hdr.opcode) {
	case IDN_OC_CREATE_HANDLE:
		do_create(r, t, op, now);
		break;
	case IDN_OC_DELETE_HANDLE:
		do_delete(r, t, op, now);
		break;
	case IDN_OC_ADD_VALUE:
	case IDN_OC_REMOVE_VALUE:
	case IDN_OC_MODIFY_VALUE:
		do_values(r, t, op, now);
		break;
	case IDN_OC_HOME_NA:
	case IDN_OC_UNHOME_NA:
		do_home(r, t, op, now);
		break;
	default:
		fail(op, IDN_RC_OPERATION_NOT_SUPPORTED, "Operation not supported by this server");
		break;
	}
	/* What the top-level node must learn goes in the same txn (outbox.c). */
	if (op->rcode == IDN_RC_SUCCESS)
		reg_outbox_hook(r, t, op, now);
	/* A latched store error means the child must not commit. */
	if (op->rcode == IDN_RC_SUCCESS && idn_txn_error(t)) {
		int e = idn_txn_error(t);
		op->rcode = e == IDN_EMAPFULL ? IDN_RC_SERVER_TOO_BUSY : IDN_RC_ERROR;
		op->errmsg = e == IDN_EMAPFULL ? "Storage full: nothing was stored"
					       : "Storage error: nothing was stored";
	}
}
