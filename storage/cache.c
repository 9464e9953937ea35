/* cache.c - the per-reader lookup cache: folded handle -> record pointer in the LMDB map, valid for one snapshot. */
#include <string.h>
#include <sys/mman.h>

#include "storage/store_int.h"

/*
 * Why a cached map pointer may outlive the read txn that produced it.
 *
 * mdb_get() documents its result as valid "until a subsequent update
 * operation, or the end of the transaction"; idn_reader_end() ends (resets)
 * the txn after every batch, so keeping the pointer across batches rests on
 * how LMDB (0.9, as built and configured here) manages pages, not on that
 * sentence. The argument:
 *
 * 1. Pages are copy-on-write: a write txn never changes a page reachable
 *    from the newest committed meta page; it writes modified copies to pages
 *    that are free or past the end of the file (also when it spills dirty
 *    pages before its commit, and with MDB_WRITEMAP). This is LMDB's crash
 *    safety: after a crash the environment opens at that newest snapshot,
 *    which must therefore be intact on disk until a later commit replaces
 *    it.
 * 2. A page leaves the tree only with a commit, which records it in the
 *    free DB under that commit's txn id F; mdb_page_alloc() reuses it only
 *    when F < oldest, where mdb_find_oldest() = min(writer's txn id - 1,
 *    every live reader's snapshot). So a page dropped by commit T+1 can be
 *    rewritten by txn T+3 at the earliest, and never while a reader holds T.
 * 3. Txn ids grow by one with every commit that changes anything (a commit
 *    without changes changes no page either), and a renewed read txn takes
 *    the newest id (mdb_txn_renew(); mdb_txn_id() returns it).
 *
 * So an entry read in snapshot T and used in a later batch whose renewed
 * txn is T again was read in a snapshot that stayed the newest the whole
 * time in between (no commit happened: by 3), so its pages were never
 * rewritten (1); and from the renew on, our reader slot holds T (2). On
 * every other id the generation changes and all entries die at once. The
 * map itself never moves: it is mapped once at its full size when the store
 * opens. Preconditions, all true of store.c today: no mdb_env_set_mapsize()
 * on an open environment (it may move the map: it would have to drop every
 * cache), no MDB_NOLOCK (writers would not see readers), and 64-bit txn ids
 * and map addressing (LMDB's 32-bit MDB_VL32 maps chunks per txn; the cache
 * is off on 32-bit builds). Readers that are not begun cannot look up, so
 * entries are only ever used inside a bracket that holds the snapshot.
 *
 * Not-found answers are cached too, with the folded key copied into an
 * arena that is emptied with each generation (it is not in the map).
 *
 * Layout: sets of two 32-byte entries (one cache line), selected by the low
 * bits of a 64-bit hash of the folded key; a 32-bit tag from the high bits
 * rejects most non-matching entries before the key comparison. A miss
 * replaces the older entry of its set; a hit on the second entry swaps it
 * to the front. Everything lives in one anonymous mapping, so pages are
 * resident only once touched.
 */

#define ARENA_PER_ENTRY 4   /* bytes of negative keys per entry */

/*
 * Every lookup probes a random set, so with 4 KiB pages nearly every probe
 * also misses the TLB (the table is megabytes), and in a VM a page walk is
 * itself several memory reads. The mapping is aligned to 2 MiB and asked
 * for transparent huge pages: a handful of TLB entries then cover it. On a
 * kernel without THP (or with it off) the advice is ignored.
 */
#define HUGE_2M ((size_t)2 << 20)

static void *map_huge(size_t len)
{
	size_t want = len + HUGE_2M;
	uint8_t *p = mmap(NULL, want, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	uint8_t *a = (uint8_t *)(((uintptr_t)p + HUGE_2M - 1) & ~(uintptr_t)(HUGE_2M - 1));
	if (a > p)
		munmap(p, (size_t)(a - p));
	size_t tail = (size_t)(p + want - (a + len));
	if (tail)
		munmap(a + len, tail);
#ifdef MADV_HUGEPAGE
	(void)madvise(a, len, MADV_HUGEPAGE);
#endif
	return a;
}

int idn_lkcache_init(idn_lkcache_t *c, size_t entries)
{
	memset(c, 0, sizeof(*c));
	if (entries == 0 || SIZE_MAX < UINT64_MAX)
		return IDN_OK;
	if (entries > IDN_READER_CACHE_MAX)
		entries = IDN_READER_CACHE_MAX;
	size_t n = 2;
	while (n * 2 <= entries)
		n *= 2;
	size_t table = n * sizeof(idn_lkcache_ent_t);
	size_t arena = n * ARENA_PER_ENTRY;
	void *p = map_huge(table + arena);
	if (!p)
		return IDN_ENOMEM;
	c->ents = p;
	c->mask = n / 2 - 1;
	c->map_len = table + arena;
	c->arena = (uint8_t *)p + table;
	c->arena_len = arena;
	return IDN_OK;
}

void idn_lkcache_free(idn_lkcache_t *c)
{
	if (c->ents)
		munmap(c->ents, c->map_len);
	c->ents = NULL;
}

void idn_lkcache_begin(idn_lkcache_t *c, size_t txnid)
{
	if (c->gen != 0 && txnid == c->txnid)
		return;
	c->txnid = txnid;
	c->arena_used = 0;
	if (++c->gen == 0) {
		/* 2^32 snapshots later: old entries could carry this number. */
		memset(c->ents, 0, (c->mask + 1) * 2 * sizeof(idn_lkcache_ent_t));
		c->gen = 1;
	}
	c->drops++;
}

/* Equal keys of length n, eight bytes at a time (the last word overlaps
 * the one before it); a call to memcmp() cost more than the probe. */
static inline bool key_eq(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint64_t x, y;
	if (n < 8)
		return memcmp(a, b, n) == 0;
	for (size_t i = 0; i < n - 8; i += 8) {
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		if (x != y)
			return false;
	}
	memcpy(&x, a + n - 8, 8);
	memcpy(&y, b + n - 8, 8);
	return x == y;
}

static inline bool ent_is(const idn_lkcache_ent_t *e, uint32_t gen, uint32_t tag,
			  const uint8_t *key, size_t klen)
{
	return e->gen == gen && e->tag == tag && e->klen == klen && key_eq(e->key, key, klen);
}

const idn_lkcache_ent_t *idn_lkcache_find(idn_lkcache_t *c, const uint8_t *key, size_t klen,
					uint64_t hash)
{
	idn_lkcache_ent_t *s = &c->ents[(hash & c->mask) * 2];
	uint32_t tag = (uint32_t)(hash >> 32);
	if (ent_is(&s[0], c->gen, tag, key, klen)) {
		c->hits++;
		return &s[0];
	}
	if (ent_is(&s[1], c->gen, tag, key, klen)) {
		idn_lkcache_ent_t e = s[1];
		s[1] = s[0];
		s[0] = e;
		c->hits++;
		return &s[0];
	}
	c->misses++;
	return NULL;
}

void idn_lkcache_prefetch(const idn_lkcache_t *c, uint64_t hash, int stage)
{
	const idn_lkcache_ent_t *s = &c->ents[(hash & c->mask) * 2];
	if (stage == 1) {
		__builtin_prefetch(s);
		return;
	}
	/* The tag is enough here: a wrong guess costs a wasted fetch. */
	uint32_t tag = (uint32_t)(hash >> 32);
	for (int i = 0; i < 2; i++) {
		if (s[i].gen == c->gen && s[i].tag == tag && s[i].val) {
			/* The key sits just before the record in LMDB's node;
			 * the answer copies the record's first few lines. */
			__builtin_prefetch(s[i].key);
			uint32_t n = s[i].vlen < 320 ? s[i].vlen : 320;
			for (uint32_t off = 0; off < n; off += 64)
				__builtin_prefetch(s[i].val + off);
			return;
		}
	}
}

void idn_lkcache_put(idn_lkcache_t *c, uint64_t hash, const uint8_t *key, size_t klen,
		    const uint8_t *val, size_t vlen)
{
	if (klen > UINT16_MAX || vlen > UINT32_MAX)
		return;
	if (!val) {
		/* Not found: the key is only in the caller's buffer. */
		if (c->arena_len - c->arena_used < klen)
			return;
		uint8_t *k = c->arena + c->arena_used;
		memcpy(k, key, klen);
		c->arena_used += klen;
		key = k;
	}
	idn_lkcache_ent_t *s = &c->ents[(hash & c->mask) * 2];
	if (s[0].gen == c->gen)
		s[1] = s[0];
	s[0] = (idn_lkcache_ent_t){ .key = key, .val = val, .vlen = (uint32_t)vlen,
				   .tag = (uint32_t)(hash >> 32), .gen = c->gen,
				   .klen = (uint16_t)klen };
}
