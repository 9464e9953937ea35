/* connlimit.c - TCP connections counted per source address and in total, shared by every listener worker. */
#include <pthread.h>
#include <stdlib.h>

#include "proto/errcode.h"
#include "resolver/ratelimit.h"

/*
 * Why shared and not per worker: with SO_REUSEPORT the kernel picks a
 * worker by hashing the whole 4-tuple, so one address's connections land
 * on every worker. A mutex per accept and per close is cheap next to the
 * accept itself, and nothing on the request path touches it.
 *
 * The table is open addressing with linear probing and backward-shift
 * deletion (no tombstones). It never fills: a source is only added with a
 * connection, and it has room for twice the total limit (or 64k sources
 * when there is none, beyond which new sources are refused as "total").
 */

typedef struct {
	uint64_t key;             /* 0 = free */
	uint32_t count;
} cl_slot_t;

struct idn_connlimit {
	pthread_mutex_t mu;
	uint32_t per_address, total;
	uint32_t open;            /* connections counted */
	uint32_t used, cap_used;  /* slots in use, most allowed */
	uint32_t mask;
	cl_slot_t *tab;
};

int idn_connlimit_new(uint32_t per_address, uint32_t total, idn_connlimit_t **out)
{
	idn_connlimit_t *cl = calloc(1, sizeof(*cl));
	if (!cl)
		return IDN_ENOMEM;
	uint64_t want = total ? 2ull * total : 131072;
	uint32_t n = 16;
	while (n < want && n < (1u << 26))
		n <<= 1;
	cl->mask = n - 1;
	cl->cap_used = n / 2;
	cl->per_address = per_address;
	cl->total = total;
	cl->tab = calloc(n, sizeof(cl_slot_t));
	if (!cl->tab || pthread_mutex_init(&cl->mu, NULL) != 0) {
		free(cl->tab);
		free(cl);
		return IDN_ENOMEM;
	}
	*out = cl;
	return IDN_OK;
}

void idn_connlimit_free(idn_connlimit_t *cl)
{
	if (!cl)
		return;
	pthread_mutex_destroy(&cl->mu);
	free(cl->tab);
	free(cl);
}

static uint32_t home(const idn_connlimit_t *cl, uint64_t key)
{
	return (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & cl->mask;
}

/* The slot of key, or the free slot where it would go. */
static cl_slot_t *find(idn_connlimit_t *cl, uint64_t key)
{
	for (uint32_t i = home(cl, key);; i = (i + 1) & cl->mask) {
		cl_slot_t *s = &cl->tab[i];
		if (s->key == key || s->key == 0)
			return s;
	}
}

int idn_connlimit_acquire(idn_connlimit_t *cl, uint64_t key)
{
	int ret = IDN_CL_OK;
	pthread_mutex_lock(&cl->mu);
	cl_slot_t *s = find(cl, key);
	if (cl->total && cl->open >= cl->total)
		ret = IDN_CL_TOTAL;
	else if (s->key && cl->per_address && s->count >= cl->per_address)
		ret = IDN_CL_PER_ADDRESS;
	else if (!s->key && cl->used >= cl->cap_used)
		ret = IDN_CL_TOTAL;
	if (ret == IDN_CL_OK) {
		if (!s->key) {
			s->key = key;
			s->count = 0;
			cl->used++;
		}
		s->count++;
		cl->open++;
	}
	pthread_mutex_unlock(&cl->mu);
	return ret;
}

void idn_connlimit_release(idn_connlimit_t *cl, uint64_t key)
{
	pthread_mutex_lock(&cl->mu);
	cl_slot_t *s = find(cl, key);
	if (s->key && s->count > 0) {
		cl->open--;
		if (--s->count == 0) {
			/* Backward-shift deletion: pull later entries of the run into
			 * the hole when their home slot allows it. */
			uint32_t hole = (uint32_t)(s - cl->tab);
			for (uint32_t j = (hole + 1) & cl->mask; cl->tab[j].key; j = (j + 1) & cl->mask) {
				uint32_t h = home(cl, cl->tab[j].key);
				/* Movable when its home is not cyclically in (hole, j]. */
				bool in = hole <= j ? (h > hole && h <= j) : (h > hole || h <= j);
				if (!in) {
					cl->tab[hole] = cl->tab[j];
					hole = j;
				}
			}
			cl->tab[hole].key = 0;
			cl->tab[hole].count = 0;
			cl->used--;
		}
	}
	pthread_mutex_unlock(&cl->mu);
}

uint32_t idn_connlimit_total(idn_connlimit_t *cl)
{
	pthread_mutex_lock(&cl->mu);
	uint32_t n = cl->open;
	pthread_mutex_unlock(&cl->mu);
	return n;
}

uint32_t idn_connlimit_of(idn_connlimit_t *cl, uint64_t key)
{
	pthread_mutex_lock(&cl->mu);
	cl_slot_t *s = find(cl, key);
	uint32_t n = s->key ? s->count : 0;
	pthread_mutex_unlock(&cl->mu);
	return n;
}
