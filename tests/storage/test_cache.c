/* test_cache.c - the readers' lookup cache: hits, invalidation by commits, collisions, long keys, cache off, randomized against an uncached reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/record.h"
#include "storage/store.h"
#include "tests/util/testutil.h"

typedef struct {
	char dir[64];
	idn_store_t *s;
} fx_t;

static int setup(void **state)
{
	fx_t *f = calloc(1, sizeof(*f));
	assert_int_equal(tu_tmpdir("test-cache", f->dir, sizeof(f->dir)), 0);
	/* The store's default: 16 entries, so that most tests also collide. */
	idn_store_opts_t so = { .reader_cache_entries = 16 };
	assert_int_equal(idn_store_open(f->dir, &so, &f->s), IDN_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx_t *f = *state;
	idn_store_close(f->s);
	assert_int_equal(tu_rmrf(f->dir), 0);
	free(f);
	return 0;
}

#define H(s) (const uint8_t *)(s), strlen(s)

/* One URL value (index 1) with data `data` and the given perms. */
static size_t one_val(uint8_t *buf, size_t cap, const char *data, uint8_t perms)
{
	idn_wire_t w;
	idn_wire_init(&w, buf, cap);
	idn_value_t v = { .index = 1, .ttl = 86400, .perms = perms,
			  .type = { (const uint8_t *)"URL", 3 },
			  .data = { (const uint8_t *)data, (uint32_t)strlen(data) } };
	idn_value_encode(&w, &v);
	assert_int_equal(w.err, IDN_OK);
	return idn_wire_offset(&w);
}

static void put1(idn_store_t *s, const uint8_t *h, size_t hl, const char *data)
{
	uint8_t b[4096];
	size_t n = one_val(b, sizeof(b), data, 0x0e);
	idn_txn_t *t;
	assert_int_equal(idn_txn_begin(s, &t), IDN_OK);
	idn_txn_put(t, h, hl, b, n, 1);
	assert_int_equal(idn_txn_commit(t), IDN_OK);
}

static void del1(idn_store_t *s, const uint8_t *h, size_t hl)
{
	idn_txn_t *t;
	assert_int_equal(idn_txn_begin(s, &t), IDN_OK);
	idn_txn_del(t, h, hl);
	assert_int_equal(idn_txn_commit(t), IDN_OK);
}

/* The data of value 1 of a record, as a string in buf. */
static const char *data_of(const idn_record_t *rec, char *buf, size_t cap)
{
	idn_wire_t in;
	idn_value_t v;
	idn_wire_init_ro(&in, rec->values.p, rec->values.len);
	assert_int_equal(idn_value_decode(&in, &v), IDN_OK);
	assert_true(v.data.len < cap);
	memcpy(buf, v.data.p, v.data.len);
	buf[v.data.len] = 0;
	return buf;
}

static void assert_data(idn_reader_t *r, const char *h, const char *want)
{
	idn_record_t rec;
	char buf[256];
	assert_int_equal(idn_reader_get(r, H(h), &rec), IDN_OK);
	assert_int_equal(rec.count, 1);
	assert_string_equal(data_of(&rec, buf, sizeof(buf)), want);
}

static idn_reader_cache_stat_t stat_of(idn_reader_t *r)
{
	idn_reader_cache_stat_t st;
	idn_reader_cache_stat(r, &st);
	return st;
}

/* A repeated lookup is a hit and returns the very same record (same map
 * address) as an uncached reader in the same snapshot. */
/* Prefetch hints change no answer and no statistic, wherever they point. */
static void test_prefetch_changes_nothing(void **state)
{
	fx_t *f = *state;
	put1(f->s, H("88.100/Alpha"), "alpha");
	idn_reader_t *r;
	assert_int_equal(idn_reader_new(f->s, &r), IDN_OK);
	idn_reader_prefetch(r, H("88.100/alpha"), 1); /* not begun: ignored */
	assert_int_equal(idn_reader_begin(r), IDN_OK);
	uint8_t big[IDN_STORE_MAX_KEY + 10];
	memset(big, 'A', sizeof(big));
	for (int stage = 1; stage <= 2; stage++) {
		idn_reader_prefetch(r, H("88.100/alpha"), stage);
		idn_reader_prefetch(r, H("88.100/none"), stage);
		idn_reader_prefetch(r, (const uint8_t *)"", 0, stage);
		idn_reader_prefetch(r, big, sizeof(big), stage);
	}
	idn_reader_cache_stat_t st = stat_of(r);
	assert_int_equal(st.hits + st.misses, 0);
	idn_record_t a;
	assert_int_equal(idn_reader_get(r, H("88.100/ALPHA"), &a), IDN_OK);
	idn_reader_prefetch(r, H("88.100/alpha"), 1);
	idn_reader_prefetch(r, H("88.100/alpha"), 2); /* a live entry: its record */
	idn_record_t b;
	assert_int_equal(idn_reader_get(r, H("88.100/alpha"), &b), IDN_OK);
	assert_int_equal(a.values.len, b.values.len);
			assert_memory_equal(a.values.p, b.values.p, b.values.len);
	st = stat_of(r);
	assert_int_equal(st.misses, 1);
	assert_int_equal(st.hits, 1);
	idn_reader_end(r);
	idn_reader_free(r);
}

static void test_hit_identical(void **state)
{
	fx_t *f = *state;
	put1(f->s, H("88.100/Alpha"), "alpha");
	put1(f->s, H("88.100/BETA-1234567890"), "beta");

	idn_reader_t *r, *u;
	assert_int_equal(idn_reader_new(f->s, &r), IDN_OK);
	assert_int_equal(idn_reader_new_cached(f->s, 0, &u), IDN_OK);
	idn_reader_cache_stat_t st = stat_of(r);
	assert_int_equal(st.entries, 16);
	assert_int_equal(st.bytes, 16 * 32 + 65536); /* the table and the smallest arena */
	assert_int_equal(stat_of(u).entries, 0);

	assert_int_equal(idn_reader_begin(r), IDN_OK);
	assert_int_equal(idn_reader_begin(u), IDN_OK);
	const char *names[] = { "88.100/Alpha", "88.100/alpha", "88.100/ALPHA",
				"88.100/beta-1234567890", "88.100/Beta-1234567890" };
	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			idn_record_t a, b;
			assert_int_equal(idn_reader_get(r, H(names[i]), &a), IDN_OK);
			assert_int_equal(idn_reader_get(u, H(names[i]), &b), IDN_OK);
			assert_int_equal(a.values.len, b.values.len);
			assert_memory_equal(a.values.p, b.values.p, b.values.len);
			assert_int_equal(a.values.len, b.values.len);
			assert_int_equal(a.count, b.count);
			assert_int_equal(a.flags, b.flags);
		}
	}
	st = stat_of(r);
	assert_int_equal(st.misses, 2); /* one per handle, whatever the case */
	assert_int_equal(st.hits, 13);
	assert_int_equal(st.drops, 1);  /* the first begin */

	/* Not found: cached too, and still not found. */
	idn_record_t rec;
	assert_int_equal(idn_reader_get(r, H("88.100/nothing"), &rec), IDN_ENOTFOUND);
	assert_int_equal(idn_reader_get(r, H("88.100/NOTHING"), &rec), IDN_ENOTFOUND);
	assert_int_equal(stat_of(r).hits, 14);
	/* Outside the cache, as without it. */
	assert_int_equal(idn_reader_get(r, (const uint8_t *)"", 0, &rec), IDN_EINVAL);
	idn_reader_end(r);
	assert_int_equal(idn_reader_get(r, H("88.100/Alpha"), &rec), IDN_EINVAL);

	/* Batches without a commit in between keep the entries. */
	assert_int_equal(idn_reader_begin(r), IDN_OK);
	assert_data(r, "88.100/alpha", "alpha");
	assert_int_equal(idn_reader_get(r, H("88.100/Nothing"), &rec), IDN_ENOTFOUND);
	idn_reader_end(r);
	st = stat_of(r);
	assert_int_equal(st.hits, 16);
	assert_int_equal(st.drops, 1);

	/* A write txn that changes nothing commits no new snapshot. */
	idn_txn_t *t;
	assert_int_equal(idn_txn_begin(f->s, &t), IDN_OK);
	assert_int_equal(idn_txn_commit(t), IDN_OK);
	assert_int_equal(idn_reader_begin(r), IDN_OK);
	assert_data(r, "88.100/Alpha", "alpha");
	idn_reader_end(r);
	assert_int_equal(stat_of(r).drops, 1);

	idn_reader_end(u);
	idn_reader_free(u);
	idn_reader_free(r);
}

/* A commit between two batches: changed records are seen changed, deleted
 * ones absent, created ones (cached as absent before) present. */
static void test_commit_invalidates(void **state)
{
	fx_t *f = *state;
	put1(f->s, H("88.100/changed"), "v1");
	put1(f->s, H("88.100/deleted"), "here");

	idn_reader_t *r;
	idn_record_t rec;
	assert_int_equal(idn_reader_new(f->s, &r), IDN_OK);
	assert_int_equal(idn_reader_begin(r), IDN_OK);
	for (int i = 0; i < 2; i++) {
		assert_data(r, "88.100/changed", "v1");
		assert_data(r, "88.100/deleted", "here");
		assert_int_equal(idn_reader_get(r, H("88.100/created"), &rec), IDN_ENOTFOUND);
	}
	assert_int_equal(stat_of(r).hits, 3);
	put1(f->s, H("88.100/same"), "kept");
	idn_reader_end(r);
	assert_int_equal(idn_reader_begin(r), IDN_OK);
	assert_data(r, "88.100/same", "kept");
	assert_data(r, "88.100/changed", "v1"); /* unchanged by that commit: a hit */
	assert_int_equal(stat_of(r).hits, 4);

	/* Committed during the batch: the reader keeps its snapshot. */
	put1(f->s, H("88.100/changed"), "v2-a-longer-value-than-before");
	del1(f->s, H("88.100/deleted"));
	put1(f->s, H("88.100/created"), "new");
	assert_data(r, "88.100/changed", "v1");
	assert_data(r, "88.100/deleted", "here");
	assert_int_equal(idn_reader_get(r, H("88.100/created"), &rec), IDN_ENOTFOUND);
	idn_reader_end(r);

	assert_int_equal(idn_reader_begin(r), IDN_OK);
	for (int i = 0; i < 2; i++) {
		assert_data(r, "88.100/changed", "v2-a-longer-value-than-before");
		assert_int_equal(idn_reader_get(r, H("88.100/deleted"), &rec), IDN_ENOTFOUND);
		assert_data(r, "88.100/created", "new");
	}
	idn_reader_end(r);
	/* Only the changed handles' entries went: no drop of everything. */
	assert_int_equal(stat_of(r).drops, 1);

	/* And one more change, with the reader idle in between. */
	put1(f->s, H("88.100/deleted"), "back");
	del1(f->s, H("88.100/created"));
	assert_int_equal(idn_reader_begin(r), IDN_OK);
	assert_data(r, "88.100/deleted", "back");
	assert_int_equal(idn_reader_get(r, H("88.100/created"), &rec), IDN_ENOTFOUND);
	assert_data(r, "88.100/changed", "v2-a-longer-value-than-before");
	assert_data(r, "88.100/same", "kept");
	idn_reader_end(r);
	assert_int_equal(stat_of(r).drops, 1);
	idn_reader_free(r);
}

/* More handles than entries (2 entries: one set, everything collides; 16:
 * collisions and replacements), each looked up many times, in an order that
 * makes both ways and the swap happen. */
static void collide(idn_store_t *s, uint32_t entries, uint64_t rounded)
{
	enum { N = 40 };
	char name[N][48], want[N][32];
	for (int i = 0; i < N; i++) {
		snprintf(name[i], sizeof(name[i]), "88.100/c%d-%s", i, i % 3 ? "x" : "a-longer-suffix");
		snprintf(want[i], sizeof(want[i]), "value %d", i);
		if (i % 4 != 3)
			put1(s, H(name[i]), want[i]);
	}
	idn_reader_t *r;
	assert_int_equal(idn_reader_new_cached(s, entries, &r), IDN_OK);
	assert_int_equal(stat_of(r).entries, rounded);
	assert_int_equal(idn_reader_begin(r), IDN_OK);
	unsigned seed = 7;
	for (int k = 0; k < 4000; k++) {
		seed = seed * 1103515245u + 12345u;
		/* Mostly neighbours of the last one, so entries get reused. */
		int i = (int)((seed >> 16) % (k % 2 ? 3 : N));
		if (k % 2)
			i = (int)((k / 2 + (unsigned)i) % N);
		idn_record_t rec;
		if (i % 4 == 3) {
			assert_int_equal(idn_reader_get(r, H(name[i]), &rec), IDN_ENOTFOUND);
		} else {
			assert_data(r, name[i], want[i]);
		}
	}
	idn_reader_cache_stat_t st = stat_of(r);
	assert_true(st.hits > 0);
	assert_true(st.misses > (uint64_t)N);
	assert_int_equal(st.hits + st.misses, 4000);
	idn_reader_end(r);
	idn_reader_free(r);
}

static void test_collisions(void **state)
{
	fx_t *f = *state;
	collide(f->s, 2, 2);
	collide(f->s, 16, 16);
	collide(f->s, 3, 2);    /* rounded down to a power of two */
	collide(f->s, 1, 2);    /* one set of two at least */
	collide(f->s, 100, 64);
}

/* Keys of every length up to the longest, keys that differ only in their
 * first, middle or last byte, and keys over the limit. */
static void test_long_keys(void **state)
{
	fx_t *f = *state;
	uint8_t k[IDN_STORE_MAX_KEY + 8];
	memset(k, 'q', sizeof(k));
	/* Lengths 1..40 and a few long ones; stored lower case, read upper. */
	size_t lens[50];
	size_t nl = 0;
	for (size_t l = 1; l <= 40; l++)
		lens[nl++] = l;
	const size_t longs[] = { 63, 64, 65, 255, 256, 500, IDN_STORE_MAX_KEY - 1, IDN_STORE_MAX_KEY };
	for (size_t i = 0; i < sizeof(longs) / sizeof(longs[0]); i++)
		lens[nl++] = longs[i];
	for (size_t i = 0; i < nl; i++) {
		char data[16];
		snprintf(data, sizeof(data), "len%zu", lens[i]);
		put1(f->s, k, lens[i], data);
	}
	/* Variants differing in one byte: absent. */
	uint8_t up[sizeof(k)];
	memset(up, 'Q', sizeof(up));

	idn_reader_t *r, *u;
	assert_int_equal(idn_reader_new_cached(f->s, 1024, &r), IDN_OK);
	assert_int_equal(idn_reader_new_cached(f->s, 0, &u), IDN_OK);
	assert_int_equal(idn_reader_begin(r), IDN_OK);
	assert_int_equal(idn_reader_begin(u), IDN_OK);
	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < nl; i++) {
			size_t l = lens[i];
			idn_record_t a, b;
			char buf[32], want[16];
			snprintf(want, sizeof(want), "len%zu", l);
			assert_int_equal(idn_reader_get(r, up, l, &a), IDN_OK);
			assert_int_equal(idn_reader_get(u, up, l, &b), IDN_OK);
			assert_int_equal(a.values.len, b.values.len);
			assert_memory_equal(a.values.p, b.values.p, b.values.len);
			assert_string_equal(data_of(&a, buf, sizeof(buf)), want);
			const size_t at[] = { 0, l / 2, l - 1 };
			for (size_t j = 0; j < 3; j++) {
				uint8_t save = up[at[j]];
				up[at[j]] = 'R';
				assert_int_equal(idn_reader_get(r, up, l, &a), IDN_ENOTFOUND);
				assert_int_equal(idn_reader_get(u, up, l, &b), IDN_ENOTFOUND);
				up[at[j]] = save;
			}
		}
		/* Over the limit: not found, with the cache as without. */
		idn_record_t a;
		assert_int_equal(idn_reader_get(r, up, IDN_STORE_MAX_KEY + 1, &a), IDN_ENOTFOUND);
		assert_int_equal(idn_reader_get(u, up, IDN_STORE_MAX_KEY + 1, &a), IDN_ENOTFOUND);
		/* Absent lengths between stored ones. */
		assert_int_equal(idn_reader_get(r, up, 41, &a), IDN_ENOTFOUND);
		assert_int_equal(idn_reader_get(r, up, 300, &a), IDN_ENOTFOUND);
	}
	assert_true(stat_of(r).hits >= nl);
	idn_reader_end(u);
	idn_reader_end(r);
	idn_reader_free(u);
	idn_reader_free(r);
}

/* One bracket writes at most its share of the arena (a sixteenth):
 * lookups beyond it are answered but not cached, until the next bracket. */
static void test_arena_share(void **state)
{
	fx_t *f = *state;
	idn_reader_t *r;
	/* 4096 entries: a 512 KiB arena, 32 KiB a bracket. */
	assert_int_equal(idn_reader_new_cached(f->s, 4096, &r), IDN_OK);
	assert_int_equal(idn_reader_begin(r), IDN_OK);
	idn_record_t rec;
	char name[64];
	for (int i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "88.100/absent-%04d-xxxxxxxxxx", i); /* 29 bytes */
		assert_int_equal(idn_reader_get(r, H(name), &rec), IDN_ENOTFOUND);
	}
	assert_int_equal(stat_of(r).misses, 2000);
	assert_int_equal(idn_reader_get(r, H("88.100/absent-1999-xxxxxxxxxx"), &rec), IDN_ENOTFOUND);
	assert_int_equal(stat_of(r).misses, 2001); /* beyond the share: not cached */
	assert_int_equal(idn_reader_get(r, H("88.100/absent-0000-xxxxxxxxxx"), &rec), IDN_ENOTFOUND);
	assert_int_equal(stat_of(r).hits, 1);
	idn_reader_end(r);
	assert_int_equal(idn_reader_begin(r), IDN_OK);
	assert_int_equal(idn_reader_get(r, H("88.100/absent-1999-xxxxxxxxxx"), &rec), IDN_ENOTFOUND);
	assert_int_equal(idn_reader_get(r, H("88.100/absent-1999-xxxxxxxxxx"), &rec), IDN_ENOTFOUND);
	assert_int_equal(stat_of(r).misses, 2002);
	assert_int_equal(stat_of(r).hits, 2);
	idn_reader_end(r);
	idn_reader_free(r);
}

/* A txn with too many changes to list drops every entry; the answers stay right. */
static void test_big_txn_drops_all(void **state)
{
	fx_t *f = *state;
	put1(f->s, H("88.100/keep"), "k");
	idn_reader_t *r;
	assert_int_equal(idn_reader_new(f->s, &r), IDN_OK);
	assert_int_equal(idn_reader_begin(r), IDN_OK);
	assert_data(r, "88.100/keep", "k");
	idn_reader_end(r);
	uint8_t b[256];
	size_t n = one_val(b, sizeof(b), "x", 0x0e);
	idn_txn_t *t;
	assert_int_equal(idn_txn_begin(f->s, &t), IDN_OK);
	char name[64];
	for (int i = 0; i < 17000; i++) {
		snprintf(name, sizeof(name), "88.100/bulk-%05d", i);
		idn_txn_put(t, H(name), b, n, 1);
	}
	assert_int_equal(idn_txn_commit(t), IDN_OK);
	assert_int_equal(idn_reader_begin(r), IDN_OK);
	assert_data(r, "88.100/keep", "k");
	assert_data(r, "88.100/bulk-16999", "x");
	idn_reader_end(r);
	assert_int_equal(stat_of(r).drops, 2);
	idn_reader_free(r);
}

/* Cache off (store option 0): the same answers, no entries. */
static void test_off(void **state)
{
	fx_t *f = *state;
	idn_store_close(f->s);
	idn_store_opts_t so = { .reader_cache_entries = 0 };
	assert_int_equal(idn_store_open(f->dir, &so, &f->s), IDN_OK);
	put1(f->s, H("88.100/x"), "x");
	idn_reader_t *r;
	assert_int_equal(idn_reader_new(f->s, &r), IDN_OK);
	idn_reader_cache_stat_t st = stat_of(r);
	assert_int_equal(st.entries, 0);
	assert_int_equal(st.bytes, 0);
	assert_int_equal(idn_reader_begin(r), IDN_OK);
	idn_record_t rec;
	for (int i = 0; i < 2; i++) {
		assert_data(r, "88.100/X", "x");
		assert_int_equal(idn_reader_get(r, H("88.100/y"), &rec), IDN_ENOTFOUND);
	}
	idn_reader_end(r);
	put1(f->s, H("88.100/x"), "x2");
	assert_int_equal(idn_reader_begin(r), IDN_OK);
	assert_data(r, "88.100/x", "x2");
	idn_reader_end(r);
	st = stat_of(r);
	assert_int_equal(st.hits + st.misses, 0);
	idn_reader_free(r);
}

/*
 * Randomized: writes (puts of values of varying size, so that pages split,
 * merge and get reused; deletes) interleaved with batches of lookups by
 * cached readers of two sizes and an uncached one, all begun in the same
 * snapshot; every answer must be the same, down to the map address, and
 * match a model of what was written. Some commits happen during a batch
 * (the readers keep their snapshot).
 */
enum { RK = 300 };

static int model_ver[RK]; /* 0 = absent, else the version last written */

static void rand_name(int i, unsigned salt, char *out, size_t cap)
{
	/* Random case, as clients send it; some long names. */
	char base[96];
	if (i % 7 == 0)
		snprintf(base, sizeof(base), "88.100.%d/long-identifier-with-a-serial-%08d-and-more", i % 5, i);
	else
		snprintf(base, sizeof(base), "88.100.%d/k%d", i % 5, i);
	size_t n = strlen(base);
	for (size_t j = 0; j < n && j + 1 < cap; j++) {
		char c = base[j];
		if (c >= 'a' && c <= 'z' && ((salt >> (j % 16)) & 1))
			c = (char)(c - 32);
		out[j] = c;
	}
	out[n < cap ? n : cap - 1] = 0;
}

static void rand_write(idn_txn_t *t, unsigned *seed, int i)
{
	char name[128];
	rand_name(i, *seed, name, sizeof(name));
	*seed = *seed * 1103515245u + 12345u;
	if (model_ver[i] && (*seed >> 16) % 4 == 0) {
		idn_txn_del(t, H(name));
		model_ver[i] = 0;
		return;
	}
	int ver = model_ver[i] + 1;
	/* Sizes from a few bytes to over a page (overflow pages). */
	size_t size = ((*seed >> 8) % 5 == 0) ? 3000 + (size_t)ver : 16 + (size_t)((*seed >> 12) % 200);
	char *data = malloc(size + 1);
	for (size_t j = 0; j < size; j++)
		data[j] = (char)('a' + (j + (size_t)ver + (size_t)i) % 26);
	snprintf(data, size + 1, "%d:%d:", i, ver);
	data[strlen(data)] = 'z';
	data[size] = 0;
	uint8_t *b = malloc(size + 64);
	size_t n = one_val(b, size + 64, data, 0x0e);
	idn_txn_put(t, H(name), b, n, 1);
	free(b);
	free(data);
	model_ver[i] = ver;
}

static void rand_commit(idn_store_t *s, unsigned *seed, int writes)
{
	idn_txn_t *t;
	assert_int_equal(idn_txn_begin(s, &t), IDN_OK);
	for (int w = 0; w < writes; w++) {
		*seed = *seed * 1103515245u + 12345u;
		rand_write(t, seed, (int)((*seed >> 16) % RK));
	}
	assert_int_equal(idn_txn_commit(t), IDN_OK);
}

static void check_model(const idn_record_t *rec, int i, int ver)
{
	idn_wire_t in;
	idn_value_t v;
	idn_wire_init_ro(&in, rec->values.p, rec->values.len);
	assert_int_equal(idn_value_decode(&in, &v), IDN_OK);
	char pre[32];
	int n = snprintf(pre, sizeof(pre), "%d:%d:", i, ver);
	assert_true(v.data.len >= (uint32_t)n);
	assert_memory_equal(v.data.p, pre, (size_t)n);
}

static void test_randomized(void **state)
{
	fx_t *f = *state;
	memset(model_ver, 0, sizeof(model_ver));
	unsigned seed = 12345;
	rand_commit(f->s, &seed, RK);

	enum { NR = 3 };
	idn_reader_t *rd[NR];
	assert_int_equal(idn_reader_new_cached(f->s, 0, &rd[0]), IDN_OK);
	assert_int_equal(idn_reader_new_cached(f->s, 64, &rd[1]), IDN_OK);
	assert_int_equal(idn_reader_new_cached(f->s, 4096, &rd[2]), IDN_OK);
	int snap_ver[RK];

	for (int round = 0; round < 150; round++) {
		seed = seed * 1103515245u + 12345u;
		/* Some rounds write nothing (entries must survive), some a lot. */
		int writes = (seed >> 16) % 3 == 0 ? 0 : (int)((seed >> 18) % 40) + 1;
		if (writes)
			rand_commit(f->s, &seed, writes);
		memcpy(snap_ver, model_ver, sizeof(snap_ver));
		for (int j = 0; j < NR; j++)
			assert_int_equal(idn_reader_begin(rd[j]), IDN_OK);
		for (int q = 0; q < 400; q++) {
			seed = seed * 1103515245u + 12345u;
			/* Skewed: a hot tenth of the keys gets half the lookups. */
			int i = (seed >> 16) % 2 ? (int)((seed >> 17) % (RK / 10)) : (int)((seed >> 17) % RK);
			char name[128];
			rand_name(i, seed * 2654435761u, name, sizeof(name));
			idn_record_t rec[NR];
			int rc[NR];
			for (int j = 0; j < NR; j++)
				rc[j] = idn_reader_get(rd[j], H(name), &rec[j]);
			assert_int_equal(rc[0], snap_ver[i] ? IDN_OK : IDN_ENOTFOUND);
			for (int j = 1; j < NR; j++) {
				assert_int_equal(rc[j], rc[0]);
				if (rc[0] == IDN_OK) {
					assert_int_equal(rec[j].values.len, rec[0].values.len);
			assert_memory_equal(rec[j].values.p, rec[0].values.p, rec[0].values.len);
					assert_int_equal(rec[j].values.len, rec[0].values.len);
					assert_int_equal(rec[j].count, rec[0].count);
					assert_int_equal(rec[j].flags, rec[0].flags);
				}
			}
			if (rc[0] == IDN_OK)
				check_model(&rec[0], i, snap_ver[i]);
			/* Now and then a commit inside the batch. */
			if (q == 200 && round % 5 == 0)
				rand_commit(f->s, &seed, 10);
		}
		for (int j = 0; j < NR; j++)
			idn_reader_end(rd[j]);
	}
	for (int j = 1; j < NR; j++) {
		idn_reader_cache_stat_t st = stat_of(rd[j]);
		assert_true(st.hits > 0);
		assert_true(st.misses > 0);
		assert_true(st.drops >= 1);
	}
	/* The larger cache answers more from memory. */
	assert_true(stat_of(rd[2]).hits > stat_of(rd[1]).hits);
	for (int j = 0; j < NR; j++)
		idn_reader_free(rd[j]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hit_identical, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefetch_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_invalidates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_collisions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arena_share, setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_txn_drops_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_randomized, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
