/* cache.c - the per-reader lookup cache: folded handle -> a copy of its record, kept across snapshots that did not change it. */
#include <string.h>
#include <sys/mman.h>

#include "storage/store_int.h"

/*
 * What an entry holds, and why it is valid.
 *
 * An entry holds a copy of the folded key and of the stored record (or
 * only the key, for a handle that is absent), in the cache's arena, not a
 * pointer into the LMDB map: a page of the map may be rewritten once a
 * commit has freed it and no reader holds the snapshot that used it, and
 * entries are meant to outlive snapshots. (A first version kept map
 * pointers and so had to drop every entry at every commit; under a bulk
 * import, a commit every few milliseconds, the cache then never hit.)
 *
 * An entry read in snapshot T is still right in a later snapshot U when no
 * commit in (T, U] changed that handle. The store's change records
 * (store_int.h, idn_chglog_t) list, for each txn id this process
 * committed, the hashes of the handles it changed; idn_lkcache_begin()
 * drops the entries with those hashes (by set and tag: a colliding
 * neighbour is dropped too, which only costs a miss). Whenever it cannot
 * be sure, it drops everything: a txn id with no record (another process
 * wrote, or a txn failed half-way), records already overwritten, a txn
 * with more than IDN_CHG_TXN_MAX changes, or more changes pending than
 * dropping one by one is worth. The writer records a txn before it calls
 * mdb_txn_commit(), under the records' mutex, so a reader that renews into
 * the new snapshot finds it; a txn that then fails to commit leaves a
 * record for an id the next txn reuses, which only drops more. Every write
 * to the "handles" DB goes through idn_txn_put/idn_txn_del, which record.
 *
 * The arena is written round. A copy at position p (bytes ever written) is
 * intact until the head passes p + arena_len. Lookups return pointers into
 * it that callers keep until the reader's end, so one bracket (begin to
 * end) may write at most BRACKET_SHARE of the arena, and a hit counts only
 * if the copy survives that: p + arena_len - BRACKET_SHARE >= the head at
 * the bracket's begin. Anything beyond the share is simply not cached.
 *
 * Layout: sets of two 32-byte entries (one cache line), selected by the low
 * bits of a 64-bit hash of the folded key; a 32-bit tag from the high bits
 * rejects most non-matching entries before the key comparison. A miss
 * replaces the older entry of its set; a hit on the second entry swaps it
 * to the front. Everything lives in one anonymous mapping, so pages are
 * resident only once touched.
 */

#define ARENA_PER_ENTRY 128      /* bytes of copies per entry */
#define ARENA_MIN (64u << 10)
#define BRACKET_SHARE(c) ((c)->arena_len / 16)
#define DROP_ONE_BY_ONE_MAX 8192 /* more pending changes: drop everything */

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
	size_t arena = ARENA_MIN;
	while (arena < n * ARENA_PER_ENTRY)
		arena *= 2;
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

static void drop_all(idn_lkcache_t *c)
{
	if (++c->gen == 0) {
		/* 2^32 drops later: old entries could carry this number. */
		memset(c->ents, 0, (c->mask + 1) * 2 * sizeof(idn_lkcache_ent_t));
		c->gen = 1;
	}
	c->drops++;
}

static void drop_hash(idn_lkcache_t *c, uint64_t hash)
{
	idn_lkcache_ent_t *s = &c->ents[(hash & c->mask) * 2];
	uint32_t tag = (uint32_t)(hash >> 32);
	for (int i = 0; i < 2; i++)
		if (s[i].tag == tag)
			s[i].gen = 0;
}

/* Drop the entries changed by the txns (from, to]; false when the records
 * cannot say (see the comment at the top). Under chg->mu. */
static bool drop_changed(idn_lkcache_t *c, const idn_chglog_t *chg, uint64_t from, uint64_t to)
{
	uint64_t lo = chg->chead > IDN_CHG_COMMITS ? chg->chead - IDN_CHG_COMMITS : 0;
	uint64_t hi = chg->chead;
	/* Records are in txn id order: find the first one after `from`. */
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (chg->commits[mid % IDN_CHG_COMMITS].txnid <= from)
			lo = mid + 1;
		else
			hi = mid;
	}
	uint64_t want = from + 1, total = 0;
	uint64_t first = lo;
	/* First pass: every id in (from, to] recorded, hashes still there. */
	for (uint64_t i = first; i < chg->chead; i++) {
		const idn_chg_commit_t *r = &chg->commits[i % IDN_CHG_COMMITS];
		if (r->txnid > to)
			break;
		if (r->txnid == want)
			want++;
		else if (r->txnid != want - 1)
			return false; /* a gap */
		if (r->n == UINT32_MAX || chg->hhead - r->start > IDN_CHG_HASHES)
			return false;
		total += r->n;
	}
	if (want != to + 1 || total > DROP_ONE_BY_ONE_MAX)
		return false;
	for (uint64_t i = first; i < chg->chead; i++) {
		const idn_chg_commit_t *r = &chg->commits[i % IDN_CHG_COMMITS];
		if (r->txnid > to)
			break;
		for (uint32_t k = 0; k < r->n; k++)
			drop_hash(c, chg->hashes[(r->start + k) % IDN_CHG_HASHES]);
	}
	return true;
}

void idn_lkcache_begin(idn_lkcache_t *c, idn_chglog_t *chg, size_t txnid)
{
	c->bracket_head = c->head;
	if (c->gen != 0 && txnid == c->txnid)
		return;
	bool kept = false;
	if (c->gen != 0 && chg && txnid > c->txnid) {
		pthread_mutex_lock(&chg->mu);
		kept = drop_changed(c, chg, c->txnid, txnid);
		pthread_mutex_unlock(&chg->mu);
	}
	if (!kept)
		drop_all(c);
	c->txnid = txnid;
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

/* A copy that this bracket's writes cannot reach. */
static inline bool copy_safe(const idn_lkcache_t *c, const idn_lkcache_ent_t *e)
{
	return e->pos + c->arena_len - BRACKET_SHARE(c) >= c->bracket_head;
}

static inline bool ent_is(const idn_lkcache_t *c, const idn_lkcache_ent_t *e, uint32_t tag,
			  const uint8_t *key, size_t klen)
{
	return e->gen == c->gen && e->tag == tag && e->klen == klen && copy_safe(c, e) &&
	       key_eq(c->arena + (e->pos & (c->arena_len - 1)), key, klen);
}

const idn_lkcache_ent_t *idn_lkcache_find(idn_lkcache_t *c, const uint8_t *key, size_t klen,
					uint64_t hash)
{
	idn_lkcache_ent_t *s = &c->ents[(hash & c->mask) * 2];
	uint32_t tag = (uint32_t)(hash >> 32);
	if (ent_is(c, &s[0], tag, key, klen)) {
		c->hits++;
		return &s[0];
	}
	if (ent_is(c, &s[1], tag, key, klen)) {
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
		if (s[i].gen == c->gen && s[i].tag == tag) {
			/* The key and the first lines of the record the answer
			 * copies (they are contiguous in the arena). */
			const uint8_t *p = c->arena + (s[i].pos & (c->arena_len - 1));
			uint32_t n = s[i].klen + (s[i].vlen < 320 ? s[i].vlen : 320);
			for (uint32_t off = 0; off < n; off += 64)
				__builtin_prefetch(p + off);
			return;
		}
	}
}

void idn_lkcache_put(idn_lkcache_t *c, uint64_t hash, const uint8_t *key, size_t klen,
		    const uint8_t *val, size_t vlen)
{
	size_t len = klen + (val ? vlen : 0);
	if (klen > UINT16_MAX || vlen > UINT32_MAX || len > BRACKET_SHARE(c))
		return;
	uint64_t at = c->head;
	size_t off = at & (c->arena_len - 1);
	if (off + len > c->arena_len)
		at += c->arena_len - off; /* no copy wraps: start over at 0 */
	if (at + len - c->bracket_head > BRACKET_SHARE(c))
		return;
	uint8_t *p = c->arena + (at & (c->arena_len - 1));
	memcpy(p, key, klen);
	if (val)
		memcpy(p + klen, val, vlen);
	c->head = at + len;
	idn_lkcache_ent_t *s = &c->ents[(hash & c->mask) * 2];
	if (s[0].gen == c->gen)
		s[1] = s[0];
	s[0] = (idn_lkcache_ent_t){ .pos = at, .vlen = val ? (uint32_t)vlen : 0,
				   .tag = (uint32_t)(hash >> 32), .gen = c->gen,
				   .klen = (uint16_t)klen, .found = val != NULL };
}
