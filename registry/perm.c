/* perm.c - authorization: HS_ADMIN permission bits, HS_VLIST groups (bounded, loop-safe), server administrators. */
#include <stdio.h>
#include <string.h>

#include "registry/reg_int.h"

#define VLIST_MAX_GROUPS 32      /* groups visited per check at most */

int reg_view_get(reg_view_t *v, const uint8_t *h, size_t len, idn_record_t *rec)
{
	if (len == 0 || len > IDN_STORE_MAX_KEY)
		return IDN_ENOTFOUND;
	if (v->txn)
		return idn_txn_get(v->txn, h, len, rec);
	return idn_reader_get(v->reader, h, len, rec);
}

static bool id_matches(const idn_identity_t *who, idn_bytes_t h, uint32_t index)
{
	return who->valid && idn_handle_eq_ci(who->handle, who->len, h.p, h.len) &&
	       (index == 0 || index == who->index);
}

bool reg_is_server_admin(const idn_registry_t *r, const idn_identity_t *who)
{
	for (int i = 0; i < r->n_admins; i++) {
		const idn_identity_t *a = &r->admins[i];
		if (id_matches(who, (idn_bytes_t){ a->handle, a->len }, a->index))
			return true;
	}
	return false;
}

size_t reg_identity_text(const idn_identity_t *who, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%u:%.*s", who->index, (int)who->len,
			 (const char *)who->handle);
	return n < 0 ? 0 : (size_t)n >= cap ? cap - 1 : (size_t)n;
}

/* Breadth-first walk of HS_VLIST groups, each visited once: is `who` a
 * member of group (h, index)? Groups on other servers are not followed. */
static bool in_group(reg_view_t *v, idn_bytes_t gh, uint32_t gidx, const idn_identity_t *who)
{
	struct {
		uint8_t h[IDN_STORE_MAX_KEY];
		uint16_t len;
		uint32_t index;
	} q[VLIST_MAX_GROUPS];
	unsigned qn = 0, qi = 0;
	if (gh.len > IDN_STORE_MAX_KEY || gidx == 0)
		return false;
	memcpy(q[0].h, gh.p, gh.len);
	q[0].len = (uint16_t)gh.len;
	q[0].index = gidx;
	qn = 1;
	while (qi < qn) {
		idn_record_t rec;
		uint8_t h[IDN_STORE_MAX_KEY];
		uint16_t hl = q[qi].len;
		uint32_t want = q[qi].index;
		memcpy(h, q[qi].h, hl);
		qi++;
		if (reg_view_get(v, h, hl, &rec) != IDN_OK)
			continue;
		idn_wire_t in;
		idn_wire_init_ro(&in, rec.values.p, rec.values.len);
		for (uint32_t i = 0; i < rec.count; i++) {
			idn_value_t val;
			if (idn_value_decode(&in, &val) != IDN_OK)
				break;
			if (val.index != want || !idn_type_is(val.type, "HS_VLIST"))
				continue;
			idn_vlist_t vl;
			if (idn_vlist_decode(val.data.p, val.data.len, &vl) != IDN_OK)
				break;
			size_t pos = 0;
			idn_bytes_t mh;
			uint32_t mi;
			while (idn_vlist_next(&vl, &pos, &mh, &mi)) {
				if (id_matches(who, mh, mi) && mi != 0)
					return true;
				/* A member may itself be a group: queue it once. */
				if (mi == 0 || mh.len > IDN_STORE_MAX_KEY || qn >= VLIST_MAX_GROUPS)
					continue;
				bool seen = false;
				for (unsigned k = 0; k < qn && !seen; k++)
					seen = q[k].index == mi && idn_handle_eq_ci(q[k].h, q[k].len, mh.p, mh.len);
				if (seen)
					continue;
				memcpy(q[qn].h, mh.p, mh.len);
				q[qn].len = (uint16_t)mh.len;
				q[qn].index = mi;
				qn++;
			}
		}
	}
	return false;
}

bool reg_allowed(idn_registry_t *r, reg_view_t *v, const idn_record_t *rec,
		 const idn_identity_t *who, uint16_t need)
{
	if (!who->valid)
		return false;
	if (reg_is_server_admin(r, who))
		return true;
	if (!rec)
		return false;
	idn_wire_t in;
	idn_wire_init_ro(&in, rec->values.p, rec->values.len);
	/* Reads of other records (groups) inside the same transaction leave
	 * `rec` valid: LMDB only moves pages on writes. */
	for (uint32_t i = 0; i < rec->count; i++) {
		idn_value_t val;
		if (idn_value_decode(&in, &val) != IDN_OK)
			return false;
		if (!idn_type_is(val.type, "HS_ADMIN"))
			continue;
		idn_admin_t a;
		if (idn_admin_decode(val.data.p, val.data.len, &a) != IDN_OK)
			continue;
		if ((a.perms & need) != need)
			continue;
		if (id_matches(who, a.admin_id, a.admin_index))
			return true;
		if (in_group(v, a.admin_id, a.admin_index, who))
			return true;
	}
	return false;
}

size_t reg_prefix_handle(const uint8_t *h, size_t len, uint8_t *out, size_t cap)
{
	if (idn_handle_has_prefix_ci(h, len, (const uint8_t *)NA_PREFIX, NA_PREFIX_LEN)) {
		/* 0.NA/a.b.c -> 0.NA/a.b; 0.NA/a -> 0.NA/0.NA (the root's). */
		const uint8_t *p = h + NA_PREFIX_LEN;
		size_t pl = len - NA_PREFIX_LEN;
		while (pl > 0 && p[pl - 1] != '.')
			pl--;
		if (pl > 0)
			pl--;
		if (pl == 0) {
			if (cap < 9)
				return 0;
			memcpy(out, "0.NA/0.NA", 9);
			return 9;
		}
		if (NA_PREFIX_LEN + pl > cap)
			return 0;
		memcpy(out, NA_PREFIX, NA_PREFIX_LEN);
		memcpy(out + NA_PREFIX_LEN, p, pl);
		return NA_PREFIX_LEN + pl;
	}
	const uint8_t *slash = memchr(h, '/', len);
	if (!slash || slash == h)
		return 0;
	size_t pl = (size_t)(slash - h);
	if (NA_PREFIX_LEN + pl > cap)
		return 0;
	memcpy(out, NA_PREFIX, NA_PREFIX_LEN);
	memcpy(out + NA_PREFIX_LEN, h, pl);
	return NA_PREFIX_LEN + pl;
}
