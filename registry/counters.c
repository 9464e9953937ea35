/* counters.c - volume counters handed to the registry (resolutions), merged until the writer's next group commit. */
#include <stdlib.h>
#include <string.h>

#include "registry/reg_int.h"

struct reg_ctr {
	uint16_t len;
	char name[IDN_COUNTER_MAX_NAME];
	int64_t delta;
};

/* Merge one delta into a set; false when it cannot grow. Linear search: a
 * flush carries a few dozen names (transports x results x day). */
static int ctrs_add(reg_ctrs_t *s, const char *name, size_t len, int64_t delta)
{
	for (size_t i = 0; i < s->n; i++) {
		if (s->v[i].len == len && memcmp(s->v[i].name, name, len) == 0) {
			s->v[i].delta += delta;
			return IDN_OK;
		}
	}
	if (s->n == s->cap) {
		if (s->cap >= IDN_REG_MAX_PENDING_COUNTERS)
			return IDN_ELIMIT;
		size_t cap = s->cap ? s->cap * 2 : 32;
		struct reg_ctr *v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return IDN_ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	struct reg_ctr *c = &s->v[s->n++];
	c->len = (uint16_t)len;
	memcpy(c->name, name, len);
	c->delta = delta;
	return IDN_OK;
}

int idn_registry_add_counters(idn_registry_t *r, const idn_counter_delta_t *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t len = d[i].name ? strlen(d[i].name) : 0;
		if (len == 0)
			return IDN_EINVAL;
		if (len > IDN_COUNTER_MAX_NAME)
			return IDN_ELIMIT;
	}
	int ret = IDN_OK;
	pthread_mutex_lock(&r->mu);
	for (size_t i = 0; i < n && ret == IDN_OK; i++)
		if (d[i].delta != 0)
			ret = ctrs_add(&r->ctr_pending, d[i].name, strlen(d[i].name), d[i].delta);
	/* A failed commit is retried with the next deltas, not in a loop. */
	r->ctr_hold = false;
	if (r->ctr_pending.n)
		pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->mu);
	return ret;
}

bool reg_counters_waiting(const idn_registry_t *r)
{
	return r->ctr_pending.n > 0 && !r->ctr_hold;
}

void reg_counters_take(idn_registry_t *r)
{
	if (r->ctr_taken.n || !reg_counters_waiting(r))
		return;
	reg_ctrs_t t = r->ctr_taken;
	r->ctr_taken = r->ctr_pending;
	r->ctr_pending = t;
}

static void apply_all(idn_registry_t *r, idn_txn_t *t)
{
	for (size_t i = 0; i < r->ctr_taken.n; i++) {
		struct reg_ctr *c = &r->ctr_taken.v[i];
		idn_txn_counter_add(t, c->name, c->len, c->delta);
	}
}

bool reg_counters_apply(idn_registry_t *r, idn_txn_t *t, bool child)
{
	if (!r->ctr_taken.n)
		return false;
	if (!child) {
		apply_all(r, t);
		return true;
	}
	idn_txn_t *c;
	int err = idn_txn_begin_child(t, &c);
	if (err == IDN_OK) {
		apply_all(r, c);
		err = idn_txn_commit(c);
	}
	if (err) {
		/* The retry after a storage error: the writes get their chance;
		 * these deltas are lost (a full map keeps failing anyway). */
		reg_log(r, 3, "registry: %zu volume counters not stored: %s", r->ctr_taken.n,
			idn_strerror(err));
		r->ctr_taken.n = 0;
		return false;
	}
	return true;
}

void reg_counters_done(idn_registry_t *r, bool ok)
{
	if (!r->ctr_taken.n)
		return;
	if (!ok) {
		pthread_mutex_lock(&r->mu);
		bool lost = false;
		for (size_t i = 0; i < r->ctr_taken.n; i++) {
			struct reg_ctr *c = &r->ctr_taken.v[i];
			lost |= ctrs_add(&r->ctr_pending, c->name, c->len, c->delta) != IDN_OK;
		}
		/* Stopping: no next flush will come to retry; the writer leaves. */
		r->ctr_hold = true;
		pthread_mutex_unlock(&r->mu);
		if (lost)
			reg_log(r, 3, "registry: volume counters lost (too many pending)");
	}
	r->ctr_taken.n = 0;
}

void reg_counters_free(idn_registry_t *r)
{
	free(r->ctr_pending.v);
	free(r->ctr_taken.v);
	memset(&r->ctr_pending, 0, sizeof(r->ctr_pending));
	memset(&r->ctr_taken, 0, sizeof(r->ctr_taken));
}

void reg_mark_enterprise_year(idn_txn_t *t, const uint8_t *prefix, size_t len, const char *day)
{
	/* Folded like every prefix counter; a prefix scan of "entyear:YYYY:"
	 * counts the enterprises that registered that year. */
	char name[IDN_COUNTER_MAX_NAME];
	size_t o = 13;
	if (len + o > sizeof(name) || strlen(day) < 4)
		return;
	memcpy(name, "entyear:", 8);
	memcpy(name + 8, day, 4);
	name[12] = ':';
	for (size_t i = 0; i < len; i++) {
		uint8_t c = prefix[i];
		name[o++] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
	}
	idn_txn_counter_add(t, name, o, 1);
}
