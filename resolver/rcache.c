/* rcache.c - sharded, byte-bounded TTL cache with CLOCK eviction for the recursor and the workers. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "resolver/rcache.h"

/*
 * Why shards with read-write locks: warm answers are read by every worker
 * on the resolution path, so a read must not serialise the workers; one
 * lock per shard keeps a read to one uncontended lock for different keys,
 * and the recursor's writes (misses only) are rare next to the reads.
 * Why CLOCK rather than LRU: a hit only sets a bit (no list move, so no
 * write lock on the read path).
 */

#define NSHARDS_BIG 32
#define ALLOC_SLACK 16        /* allocator overhead counted per entry */
#define BYTES_PER_BUCKET 256  /* one bucket per this many bytes of budget */

typedef struct entry {
	struct entry *hnext;      /* bucket chain */
	struct entry *prev, *next; /* the CLOCK ring */
	uint64_t hash;
	uint32_t expires;
	uint32_t rcode;
	uint32_t klen, dlen;
	size_t cost;
	atomic_uchar ref;
	uint8_t bytes[];          /* key, then data */
} entry_t;

typedef struct {
	pthread_rwlock_t lock;
	entry_t **buckets;
	size_t nbuckets;          /* power of two */
	entry_t *hand;            /* the CLOCK hand; NULL when empty */
	size_t bytes, budget, entries;
	atomic_uint_fast64_t hits, misses;
	uint64_t inserts, evictions;
} shard_t;

struct idn_rcc {
	size_t max_bytes;
	unsigned nshards;
	shard_t shards[];
};

static uint64_t hash_key(const uint8_t *k, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) {
		h ^= k[i];
		h *= 1099511628211ull;
	}
	return h ^ (h >> 29);
}

int idn_rcc_new(size_t max_bytes, idn_rcc_t **out)
{
	if (max_bytes < 4096)
		return IDN_EINVAL;
	unsigned ns = max_bytes >= (1u << 20) ? NSHARDS_BIG : 1;
	idn_rcc_t *c = calloc(1, sizeof(*c) + ns * sizeof(shard_t));
	if (!c)
		return IDN_ENOMEM;
	c->max_bytes = max_bytes;
	c->nshards = ns;
	size_t share = max_bytes / ns;
	for (unsigned i = 0; i < ns; i++) {
		shard_t *s = &c->shards[i];
		size_t nb = 16;
		while (nb * BYTES_PER_BUCKET < share && nb < (1u << 24))
			nb <<= 1;
		s->nbuckets = nb;
		s->buckets = calloc(nb, sizeof(*s->buckets));
		/* The buckets are part of the bound too. */
		size_t bb = nb * sizeof(*s->buckets);
		s->budget = share > bb ? share - bb : 0;
		if (!s->buckets || pthread_rwlock_init(&s->lock, NULL) != 0) {
			free(s->buckets);
			s->buckets = NULL;
			c->nshards = i;
			idn_rcc_free(c);
			return IDN_ENOMEM;
		}
	}
	*out = c;
	return IDN_OK;
}

void idn_rcc_free(idn_rcc_t *c)
{
	if (!c)
		return;
	for (unsigned i = 0; i < c->nshards; i++) {
		shard_t *s = &c->shards[i];
		for (size_t b = 0; b < s->nbuckets; b++) {
			entry_t *next;
			for (entry_t *e = s->buckets[b]; e; e = next) {
				next = e->hnext;
				free(e);
			}
		}
		free(s->buckets);
		pthread_rwlock_destroy(&s->lock);
	}
	free(c);
}

static shard_t *shard_of(idn_rcc_t *c, uint64_t h)
{
	return &c->shards[(h >> 56) % c->nshards];
}

static entry_t **find(shard_t *s, uint64_t h, const uint8_t *key, size_t klen)
{
	entry_t **pp = &s->buckets[h & (s->nbuckets - 1)];
	for (; *pp; pp = &(*pp)->hnext) {
		entry_t *e = *pp;
		if (e->hash == h && e->klen == klen && memcmp(e->bytes, key, klen) == 0)
			return pp;
	}
	return pp;
}

bool idn_rcc_get(idn_rcc_t *c, const uint8_t *key, size_t klen, uint32_t now,
		    idn_rcc_fn fn, void *arg)
{
	uint64_t h = hash_key(key, klen);
	shard_t *s = shard_of(c, h);
	pthread_rwlock_rdlock(&s->lock);
	entry_t *e = *find(s, h, key, klen);
	bool hit = e && e->expires > now;
	if (hit) {
		/* Only write the line when the bit changes. */
		if (!atomic_load_explicit(&e->ref, memory_order_relaxed))
			atomic_store_explicit(&e->ref, 1, memory_order_relaxed);
		fn(arg, e->rcode, e->bytes + e->klen, e->dlen, e->expires);
	}
	pthread_rwlock_unlock(&s->lock);
	atomic_fetch_add_explicit(hit ? &s->hits : &s->misses, 1, memory_order_relaxed);
	return hit;
}

/* Unlink e from its bucket (pp points at it) and the ring; caller frees. */
static void unlink_entry(shard_t *s, entry_t **pp, entry_t *e)
{
	*pp = e->hnext;
	if (e->next == e) {
		s->hand = NULL;
	} else {
		e->prev->next = e->next;
		e->next->prev = e->prev;
		if (s->hand == e)
			s->hand = e->next;
	}
	s->bytes -= e->cost;
	s->entries--;
}

static void remove_entry(shard_t *s, entry_t *e)
{
	entry_t **pp = find(s, e->hash, e->bytes, e->klen);
	unlink_entry(s, pp, e);
	free(e);
}

/* Advance the hand until one entry is evicted: expired or unreferenced
 * ones go, referenced ones lose their bit (so at most two turns). */
static void evict_one(shard_t *s, uint32_t now)
{
	while (s->hand) {
		entry_t *e = s->hand;
		if (e->expires <= now || !atomic_load_explicit(&e->ref, memory_order_relaxed)) {
			remove_entry(s, e);
			s->evictions++;
			return;
		}
		atomic_store_explicit(&e->ref, 0, memory_order_relaxed);
		s->hand = e->next;
	}
}

int idn_rcc_put(idn_rcc_t *c, const uint8_t *key, size_t klen, uint32_t rcode,
		   const uint8_t *data, size_t len, uint32_t now, uint32_t ttl)
{
	if (ttl == 0)
		return IDN_OK;
	uint64_t h = hash_key(key, klen);
	shard_t *s = shard_of(c, h);
	size_t cost = sizeof(entry_t) + klen + len + ALLOC_SLACK;
	if (cost > s->budget || klen > IDN_RCC_MAX_KEY)
		return IDN_ELIMIT;
	entry_t *n = malloc(sizeof(entry_t) + klen + len);
	if (!n)
		return IDN_ENOMEM;
	n->hash = h;
	n->expires = now + ttl < now ? UINT32_MAX : now + ttl;
	n->rcode = rcode;
	n->klen = (uint32_t)klen;
	n->dlen = (uint32_t)len;
	n->cost = cost;
	atomic_init(&n->ref, 0);
	memcpy(n->bytes, key, klen);
	if (len)
		memcpy(n->bytes + klen, data, len);

	pthread_rwlock_wrlock(&s->lock);
	entry_t **pp = find(s, h, key, klen);
	if (*pp) {
		entry_t *old = *pp;
		unlink_entry(s, pp, old);
		free(old);
	}
	while (s->bytes + cost > s->budget && s->hand)
		evict_one(s, now);
	pp = &s->buckets[h & (s->nbuckets - 1)];
	n->hnext = *pp;
	*pp = n;
	/* Behind the hand: the newest entry is the last the hand reaches. */
	if (!s->hand) {
		n->prev = n->next = n;
		s->hand = n;
	} else {
		n->next = s->hand;
		n->prev = s->hand->prev;
		n->prev->next = n;
		s->hand->prev = n;
	}
	s->bytes += cost;
	s->entries++;
	s->inserts++;
	pthread_rwlock_unlock(&s->lock);
	return IDN_OK;
}

void idn_rcc_stats(idn_rcc_t *c, idn_rcc_stats_t *st)
{
	memset(st, 0, sizeof(*st));
	st->max_bytes = c->max_bytes;
	for (unsigned i = 0; i < c->nshards; i++) {
		shard_t *s = &c->shards[i];
		pthread_rwlock_rdlock(&s->lock);
		st->entries += s->entries;
		st->bytes += s->bytes + s->nbuckets * sizeof(*s->buckets);
		st->inserts += s->inserts;
		st->evictions += s->evictions;
		pthread_rwlock_unlock(&s->lock);
		st->hits += atomic_load_explicit(&s->hits, memory_order_relaxed);
		st->misses += atomic_load_explicit(&s->misses, memory_order_relaxed);
	}
}

static uint8_t fold(uint8_t ch)
{
	return ch >= 'a' && ch <= 'z' ? (uint8_t)(ch - 32) : ch;
}

size_t idn_rcc_key(uint8_t *buf, size_t cap, int kind, const uint8_t *handle, size_t hlen,
		      const idn_resolve_req_t *f)
{
	size_t need = 1 + 4 + hlen;
	if (f) {
		need += 8 + 4 * (size_t)f->n_index;
		for (uint32_t i = 0; i < f->n_type; i++)
			need += 4 + f->type[i].len;
	}
	if (need > cap || need > IDN_RCC_MAX_KEY)
		return 0;
	uint8_t *p = buf;
	*p++ = (uint8_t)kind;
	/* Lengths keep "a" + filters apart from a handle that looks like them. */
	idn_put_be32(p, (uint32_t)hlen);
	p += 4;
	for (size_t i = 0; i < hlen; i++)
		*p++ = fold(handle[i]);
	if (f) {
		idn_put_be32(p, f->n_index);
		p += 4;
		for (uint32_t i = 0; i < f->n_index; i++, p += 4)
			idn_put_be32(p, f->index[i]);
		idn_put_be32(p, f->n_type);
		p += 4;
		for (uint32_t i = 0; i < f->n_type; i++) {
			idn_put_be32(p, f->type[i].len);
			p += 4;
			for (uint32_t j = 0; j < f->type[i].len; j++)
				*p++ = fold(f->type[i].p[j]);
		}
	}
	return (size_t)(p - buf);
}

int idn_relay_answer(idn_wire_t *out, const idn_msg_t *req, const idn_resp_ctx_t *ctx,
		     uint32_t rcode, idn_bytes_t handle, const uint8_t *values, size_t vlen,
		     const char *message)
{
	idn_resp_ctx_t rc = *ctx;
	rc.primary = false;
	idn_resp_opts_t o = { .opcode = req->hdr.opcode, .rcode = rcode };
	size_t start = idn_resp_begin(out, req, &rc, &o);
	if (out->err == IDN_OK) {
		/* Header: OpFlag at 8, RecursionCount at 14 (after the envelope). */
		uint8_t *h = out->base + start + IDN_ENVELOPE_LEN;
		idn_put_be32(h + 8, idn_get_be32(h + 8) & ~IDN_OF_AT);
		h[14] = (uint8_t)(req->hdr.recursion + 1);
	}
	if (rcode == IDN_RC_SUCCESS) {
		uint8_t *p = idn_wire_put_span(out, 4 + handle.len + vlen);
		if (p) {
			idn_put_be32(p, handle.len);
			memcpy(p + 4, handle.p, handle.len);
			if (vlen)
				memcpy(p + 4 + handle.len, values, vlen);
		}
	} else {
		idn_error_body_encode(out, message ? message : "");
	}
	return idn_resp_end(out, start, req, &rc);
}
