/* outbox.c - what must reach the top-level node, queued in the transaction of the local change: enterprise prefixes, the node's own record, others' requests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/crypto.h"
#include "registry/reg_int.h"

/*
 * What the top holds for an enterprise prefix 0.NA/88.100.12 is a copy of
 * its routing values, not the whole record: HS_SITE (and HS_SERV) as the
 * local record has them (our site, or the enterprise node's own when it
 * set one), each HS_SITE again as HS_SITE.PREFIX for the prefixes derived
 * from it, and an HS_ADMIN naming our upstream identity so that we may
 * replace or delete it later. It goes as OC 100 with OVRW: the same request
 * sent twice leaves the same record, so a retry after a lost answer is
 * harmless. Every local change of an enterprise prefix handle (create,
 * add/remove/modify values) sends the whole copy again; a delete is OC 101,
 * and RC 100 from the top counts as done. (OC 102 with OVRW would also be
 * idempotent but could not drop a routing value the enterprise removed.)
 */

#define ADMIN_INDEX 100
#define META_PUSHED "upstream-pushed"
#define META_TARGET "upstream-target"

static void put_value(idn_wire_t *w, uint32_t index, const char *type, idn_bytes_t data,
		      uint32_t now)
{
	idn_value_t v = {
		.index = index, .timestamp = now, .ttl_type = IDN_TTL_RELATIVE, .ttl = 86400,
		.perms = IDN_PERM_DEFAULT, .type = { (const uint8_t *)type, (uint32_t)strlen(type) },
		.data = data,
	};
	idn_value_encode(w, &v);
}

/* 0.NA/<node-prefix>.<more>, any case: a prefix handle derived from ours. */
static bool is_enterprise_na(const idn_registry_t *r, const uint8_t *h, size_t len)
{
	size_t pl = strlen(r->o.node_prefix);
	if (len <= NA_PREFIX_LEN + pl + 1 || h[NA_PREFIX_LEN + pl] != '.')
		return false;
	return idn_handle_has_prefix_ci(h, len, (const uint8_t *)NA_PREFIX, NA_PREFIX_LEN) &&
	       idn_handle_has_prefix_ci(h + NA_PREFIX_LEN, len - NA_PREFIX_LEN,
					(const uint8_t *)r->o.node_prefix, pl);
}

/* The copy for the top (see above) of prefix handle h with record rec
 * (NULL: no routing values of its own) as an OC 100 body; malloc'd. */
static uint8_t *prefix_body(idn_registry_t *r, const uint8_t *h, size_t hl,
			    const idn_record_t *rec, uint32_t now, size_t *len)
{
	size_t cap = 64 + hl + 2 * (r->o.site_len + 64) + (rec ? 2 * rec->values.len : 0) +
		     r->up_id.len;
	uint8_t *vals = malloc(cap), *body = malloc(cap + hl + 16);
	if (!vals || !body)
		goto fail;
	idn_wire_t w, in;
	idn_wire_init(&w, vals, cap);
	uint32_t n = 0, index = 1;
	if (rec) {
		idn_wire_init_ro(&in, rec->values.p, rec->values.len);
		for (uint32_t i = 0; i < rec->count && n + 3 < IDN_MAX_VALUES; i++) {
			idn_value_t v;
			if (idn_value_decode(&in, &v) != IDN_OK)
				break;
			bool site = idn_bytes_eq_str(v.type, "HS_SITE");
			if (!site && !idn_bytes_eq_str(v.type, "HS_SERV"))
				continue;
			put_value(&w, index++, site ? "HS_SITE" : "HS_SERV", v.data, now);
			n++;
			if (site) {
				put_value(&w, index++, "HS_SITE.PREFIX", v.data, now);
				n++;
			}
		}
	}
	if (n == 0 && r->o.site_len) {
		idn_bytes_t s = { r->o.site, (uint32_t)r->o.site_len };
		put_value(&w, index++, "HS_SITE", s, now);
		put_value(&w, index++, "HS_SITE.PREFIX", s, now);
		n += 2;
	}
	uint8_t adm[IDN_ID_MAX_HANDLE + 16];
	idn_wire_t aw;
	idn_wire_init(&aw, adm, sizeof(adm));
	idn_admin_t a = { IDN_ADM_ALL, { r->up_id.handle, r->up_id.len }, r->up_id.index };
	idn_admin_encode(&aw, &a);
	put_value(&w, ADMIN_INDEX, "HS_ADMIN", (idn_bytes_t){ adm, (uint32_t)idn_wire_offset(&aw) },
		  now);
	n++;
	idn_wire_t bw;
	idn_wire_init(&bw, body, cap + hl + 16);
	idn_values_req_encode(&bw, (idn_bytes_t){ h, (uint32_t)hl }, n,
			      (idn_bytes_t){ vals, (uint32_t)idn_wire_offset(&w) });
	if (w.err || aw.err || bw.err)
		goto fail;
	free(vals);
	*len = idn_wire_offset(&bw);
	return body;
fail:
	free(vals);
	free(body);
	return NULL;
}

/* Queue the copy of prefix handle h as it is in t now (or its delete). */
static void queue_prefix(idn_registry_t *r, idn_txn_t *t, const uint8_t *h, size_t hl,
			 bool deleted, uint32_t now)
{
	if (deleted) {
		uint8_t body[IDN_STORE_MAX_KEY + 8];
		idn_wire_t w;
		idn_wire_init(&w, body, sizeof(body));
		idn_wire_put_bstr(&w, h, (uint32_t)hl);
		if (!w.err)
			idn_txn_outbox_add(t, IDN_OC_DELETE_HANDLE, 0, body, idn_wire_offset(&w), now);
		r->outbox_added = true;
		return;
	}
	idn_record_t rec;
	bool have = idn_txn_get(t, h, hl, &rec) == IDN_OK;
	size_t len;
	uint8_t *body = prefix_body(r, h, hl, have ? &rec : NULL, now, &len);
	if (!body) {
		/* Failing the txn refuses the local change: nothing half done. */
		idn_txn_fail(t, IDN_ENOMEM);
		return;
	}
	idn_txn_outbox_add(t, IDN_OC_CREATE_HANDLE, IDN_OF_OVRW, body, len, now);
	free(body);
	r->outbox_added = true;
}

void reg_outbox_hook(idn_registry_t *r, idn_txn_t *t, reg_op_t *op, uint32_t now)
{
	if (!r->up_enabled || (op->job && op->job->existed))
		return;
	uint32_t oc = op->msg.hdr.opcode;
	idn_bytes_t h;
	if (oc == IDN_OC_CREATE_HANDLE) {
		h = (idn_bytes_t){ (const uint8_t *)op->minted, (uint32_t)op->minted_len };
	} else if (oc >= IDN_OC_DELETE_HANDLE && oc <= IDN_OC_MODIFY_VALUE) {
		/* Every one of these bodies starts with the handle. */
		idn_wire_t w;
		idn_wire_init_ro(&w, op->msg.body.p, op->msg.body.len);
		h = idn_wire_get_bstr(&w, IDN_STORE_MAX_KEY);
		if (w.err)
			return;
	} else {
		return;
	}
	if (is_enterprise_na(r, h.p, h.len))
		queue_prefix(r, t, h.p, h.len, oc == IDN_OC_DELETE_HANDLE, now);
}

/* ---- requests of others and of the daemon, through the writer ---- */

typedef struct {
	uint32_t opcode, opflag;
	const uint8_t *body;
	size_t len;
	const char *key;            /* queue only when meta[key] != digest (NULL: always) */
	uint8_t digest[IDN_DIGEST_MAX];
	size_t dlen;
	const char *target;         /* sync: the upstream list pushed to */
} upreq_t;

/* Queue the request unless meta[key] says the same was queued already. */
static void apply_once(idn_registry_t *r, idn_txn_t *t, reg_internal_t *in, uint32_t now)
{
	upreq_t *q = in->arg;
	idn_bytes_t old;
	if (q->key && idn_txn_meta_get(t, q->key, &old) == IDN_OK && old.len == q->dlen &&
	    memcmp(old.p, q->digest, q->dlen) == 0)
		return;
	idn_txn_outbox_add(t, q->opcode, q->opflag, q->body, q->len, now);
	if (q->key)
		idn_txn_meta_put(t, q->key, q->digest, q->dlen);
	in->queued++;
	r->outbox_added = true;
}

/* Run `apply` in the writer's next group commit and wait for its durable
 * commit. */
static int run_internal(idn_registry_t *r, void (*apply)(idn_registry_t *, idn_txn_t *,
							 reg_internal_t *, uint32_t),
			void *arg, uint64_t *queued)
{
	if (queued)
		*queued = 0;
	if (!r->up_enabled)
		return IDN_EINVAL;
	reg_op_t *op = calloc(1, sizeof(*op));
	if (!op)
		return IDN_ENOMEM;
	reg_internal_t in = { .apply = apply, .arg = arg };
	pthread_mutex_init(&in.mu, NULL);
	pthread_cond_init(&in.cond, NULL);
	op->internal = &in;
	pthread_mutex_lock(&r->mu);
	bool running = r->started && !r->stopping;
	pthread_mutex_unlock(&r->mu);
	int ret = IDN_EINVAL;
	if (running) {
		reg_enqueue(r, op);
		pthread_mutex_lock(&in.mu);
		while (!in.done)
			pthread_cond_wait(&in.cond, &in.mu);
		pthread_mutex_unlock(&in.mu);
		ret = op->rcode == IDN_RC_SUCCESS ? IDN_OK : in.err ? in.err : IDN_ESTORE;
		if (queued && ret == IDN_OK)
			*queued = in.queued;
	}
	pthread_mutex_destroy(&in.mu);
	pthread_cond_destroy(&in.cond);
	free(op);
	return ret;
}

void reg_internal_apply(idn_registry_t *r, idn_txn_t *t, reg_op_t *op, uint32_t now)
{
	reg_internal_t *in = op->internal;
	in->queued = 0;
	in->apply(r, t, in, now);
	in->err = idn_txn_error(t);
	op->rcode = in->err ? IDN_RC_ERROR : IDN_RC_SUCCESS;
	op->errmsg = in->err ? "Storage error" : NULL;
}

void reg_internal_done(reg_op_t *op)
{
	reg_internal_t *in = op->internal;
	pthread_mutex_lock(&in->mu);
	in->done = true;
	pthread_cond_signal(&in->cond);
	pthread_mutex_unlock(&in->mu);
}

int idn_registry_upstream(idn_registry_t *r, uint32_t opcode, uint32_t opflag,
			  const uint8_t *body, size_t len)
{
	if (len > IDN_OUTBOX_MAX_BODY)
		return IDN_ELIMIT;
	upreq_t q = { .opcode = opcode, .opflag = opflag, .body = body, .len = len };
	return run_internal(r, apply_once, &q, NULL);
}

int idn_registry_upstream_once(idn_registry_t *r, const char *key, uint32_t opcode,
			       uint32_t opflag, const uint8_t *body, size_t len, bool *queued)
{
	if (len > IDN_OUTBOX_MAX_BODY || !key || !key[0])
		return len > IDN_OUTBOX_MAX_BODY ? IDN_ELIMIT : IDN_EINVAL;
	upreq_t q = { .opcode = opcode, .opflag = opflag, .body = body, .len = len, .key = key };
	/* The digest covers what is sent, so any change is sent again. */
	uint8_t hdr[8];
	idn_put_be32(hdr, opcode);
	idn_put_be32(hdr + 4, opflag);
	idn_piece_t p[2] = { { hdr, sizeof(hdr) }, { body, len } };
	int ret = idn_digestv(IDN_DIGEST_SHA256, p, 2, q.digest, &q.dlen);
	uint64_t n = 0;
	if (!ret)
		ret = run_internal(r, apply_once, &q, &n);
	if (queued)
		*queued = n > 0;
	return ret;
}

/* ---- the start-up sync ---- */

typedef struct {
	idn_registry_t *r;
	uint8_t **keys;
	size_t *lens, n, cap;
	bool nomem;
} keys_t;

static int collect(void *arg, idn_bytes_t key)
{
	keys_t *k = arg;
	if (!is_enterprise_na(k->r, key.p, key.len))
		return 0;
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 256;
		uint8_t **nk = realloc(k->keys, cap * sizeof(*nk));
		if (nk)
			k->keys = nk;
		size_t *nl = nk ? realloc(k->lens, cap * sizeof(*nl)) : NULL;
		if (nl)
			k->lens = nl;
		if (!nk || !nl) {
			k->nomem = true;
			return 1;
		}
		k->cap = cap;
	}
	uint8_t *c = malloc(key.len);
	if (!c) {
		k->nomem = true;
		return 1;
	}
	memcpy(c, key.p, key.len);
	k->keys[k->n] = c;
	k->lens[k->n++] = key.len;
	return 0;
}

/* Every enterprise prefix, once per upstream list: the first connection of
 * a node that has prefixes already, or a move to another top. */
static void apply_backfill(idn_registry_t *r, idn_txn_t *t, reg_internal_t *in, uint32_t now)
{
	upreq_t *q = in->arg;
	idn_bytes_t old;
	size_t tl = strlen(q->target);
	if (idn_txn_meta_get(t, META_TARGET, &old) == IDN_OK && old.len == tl &&
	    memcmp(old.p, q->target, tl) == 0)
		return;
	/* Keys first, writes after: a write may move what a listing borrows. */
	keys_t k = { .r = r };
	int ret = idn_txn_list(t, (const uint8_t *)"0.NA", 4, NULL, 0, collect, &k);
	if (ret == IDN_OK && !k.nomem) {
		for (size_t i = 0; i < k.n; i++)
			queue_prefix(r, t, k.keys[i], k.lens[i], false, now);
		in->queued += k.n;
		idn_txn_meta_put(t, META_TARGET, q->target, tl);
	} else {
		idn_txn_fail(t, ret ? ret : IDN_ENOMEM);
	}
	for (size_t i = 0; i < k.n; i++)
		free(k.keys[i]);
	free(k.keys);
	free(k.lens);
}

int idn_registry_upstream_sync(idn_registry_t *r, const uint8_t *admin_pub, size_t publen,
			       uint64_t *queued)
{
	if (queued)
		*queued = 0;
	if (!r->up_enabled)
		return IDN_EINVAL;
	/* The node's own record: OC 102 with OVRW adds or replaces these and
	 * keeps the HS_ADMIN the top's operator made. Timestamps 0: the top
	 * stamps values itself, and equal bytes keep the digest equal. */
	size_t cap = 2 * r->o.site_len + publen + 256 + strlen(r->o.node_prefix);
	uint8_t *vals = malloc(cap), *body = malloc(cap + 64);
	if (!vals || !body) {
		free(vals);
		free(body);
		return IDN_ENOMEM;
	}
	char na[IDN_STORE_MAX_KEY];
	snprintf(na, sizeof(na), "0.NA/%s", r->o.node_prefix);
	idn_bytes_t site = { r->o.site, (uint32_t)r->o.site_len };
	idn_wire_t w, bw;
	idn_wire_init(&w, vals, cap);
	put_value(&w, 1, "HS_SITE", site, 0);
	put_value(&w, 2, "HS_SITE.PREFIX", site, 0);
	uint32_t n = 2;
	if (publen) {
		put_value(&w, 300, "HS_PUBKEY", (idn_bytes_t){ admin_pub, (uint32_t)publen }, 0);
		n++;
	}
	idn_wire_init(&bw, body, cap + 64);
	idn_values_req_encode(&bw, (idn_bytes_t){ (const uint8_t *)na, (uint32_t)strlen(na) }, n,
			      (idn_bytes_t){ vals, (uint32_t)idn_wire_offset(&w) });
	int ret = w.err ? w.err : bw.err;
	bool q1 = false;
	if (!ret)
		ret = idn_registry_upstream_once(r, META_PUSHED, IDN_OC_ADD_VALUE, IDN_OF_OVRW, body,
						 idn_wire_offset(&bw), &q1);
	free(vals);
	free(body);
	uint64_t q2 = 0;
	if (!ret) {
		upreq_t q = { .target = r->o.upstream };
		ret = run_internal(r, apply_backfill, &q, &q2);
	}
	if (queued)
		*queued = (q1 ? 1 : 0) + q2;
	return ret;
}
