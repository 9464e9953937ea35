/* test_rcache.c - the recursion cache: TTL expiry on a driven clock, the byte bound with CLOCK eviction, negative entries, keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "resolver/rcache.h"

typedef struct {
	uint32_t rcode;
	uint8_t data[256];
	size_t len;
	uint32_t expires;
} got_t;

static void take(void *arg, uint32_t rcode, const uint8_t *data, size_t len, uint32_t expires)
{
	got_t *g = arg;
	g->rcode = rcode;
	g->len = len < sizeof(g->data) ? len : sizeof(g->data);
	memcpy(g->data, data, g->len);
	g->expires = expires;
}

static size_t key_of(uint8_t *buf, const char *h)
{
	return idn_rcc_key(buf, IDN_RCC_MAX_KEY, IDN_RCC_ANSWER, (const uint8_t *)h,
			      strlen(h), NULL);
}

static void test_ttl_expiry(void **s)
{
	idn_rcc_t *c;
	assert_int_equal(idn_rcc_new(1 << 20, &c), IDN_OK);
	uint8_t k[IDN_RCC_MAX_KEY];
	size_t kl = key_of(k, "88.200.1/x");
	assert_int_equal(idn_rcc_put(c, k, kl, 1, (const uint8_t *)"vals", 4, 1000, 60), IDN_OK);
	got_t g = { 0 };
	assert_true(idn_rcc_get(c, k, kl, 1000, take, &g));
	assert_int_equal(g.rcode, 1);
	assert_int_equal(g.len, 4);
	assert_memory_equal(g.data, "vals", 4);
	assert_int_equal(g.expires, 1060);
	assert_true(idn_rcc_get(c, k, kl, 1059, take, &g));
	/* At the expiry second it is gone. */
	assert_false(idn_rcc_get(c, k, kl, 1060, take, &g));
	/* ttl 0 stores nothing. */
	kl = key_of(k, "88.200.1/y");
	assert_int_equal(idn_rcc_put(c, k, kl, 1, (const uint8_t *)"v", 1, 1000, 0), IDN_OK);
	assert_false(idn_rcc_get(c, k, kl, 1000, take, &g));
	/* A replacement takes the new value and time. */
	assert_int_equal(idn_rcc_put(c, k, kl, 1, (const uint8_t *)"a", 1, 1000, 10), IDN_OK);
	assert_int_equal(idn_rcc_put(c, k, kl, 1, (const uint8_t *)"bb", 2, 1005, 10), IDN_OK);
	assert_true(idn_rcc_get(c, k, kl, 1012, take, &g));
	assert_int_equal(g.len, 2);
	idn_rcc_stats_t st;
	idn_rcc_stats(c, &st);
	assert_int_equal(st.entries, 2);
	idn_rcc_free(c);
}

static void test_negative(void **s)
{
	idn_rcc_t *c;
	assert_int_equal(idn_rcc_new(1 << 20, &c), IDN_OK);
	uint8_t k[IDN_RCC_MAX_KEY];
	size_t kl = key_of(k, "88.200.1/missing");
	assert_int_equal(idn_rcc_put(c, k, kl, 100, NULL, 0, 50, 60), IDN_OK);
	got_t g = { 0 };
	assert_true(idn_rcc_get(c, k, kl, 100, take, &g));
	assert_int_equal(g.rcode, 100);
	assert_int_equal(g.len, 0);
	assert_false(idn_rcc_get(c, k, kl, 110, take, &g));
	idn_rcc_free(c);
}

static void test_size_bound(void **s)
{
	const size_t max = 64 * 1024;
	idn_rcc_t *c;
	assert_int_equal(idn_rcc_new(max, &c), IDN_OK);
	uint8_t k[IDN_RCC_MAX_KEY], data[200];
	memset(data, 'x', sizeof(data));
	char h[64];
	/* A hot key read between every insert survives the flood (CLOCK). */
	size_t hkl = key_of(k, "hot/1");
	uint8_t hot[IDN_RCC_MAX_KEY];
	memcpy(hot, k, hkl);
	assert_int_equal(idn_rcc_put(c, hot, hkl, 1, data, 10, 0, 3600), IDN_OK);
	got_t g;
	for (int i = 0; i < 5000; i++) {
		snprintf(h, sizeof(h), "88.200.1/item-%d", i);
		size_t kl = key_of(k, h);
		assert_int_equal(idn_rcc_put(c, k, kl, 1, data, sizeof(data), 0, 3600), IDN_OK);
		assert_true(idn_rcc_get(c, hot, hkl, 1, take, &g));
		idn_rcc_stats_t st;
		idn_rcc_stats(c, &st);
		assert_true(st.bytes <= max);
	}
	idn_rcc_stats_t st;
	idn_rcc_stats(c, &st);
	assert_true(st.evictions > 4000);
	assert_true(st.entries > 50 && st.entries < 400);
	/* The newest entries are there, the oldest gone. */
	assert_true(idn_rcc_get(c, k, key_of(k, "88.200.1/item-4999"), 1, take, &g));
	assert_false(idn_rcc_get(c, k, key_of(k, "88.200.1/item-0"), 1, take, &g));
	/* Larger than the whole cache: refused, nothing evicted for it. */
	static uint8_t big[128 * 1024];
	assert_int_equal(idn_rcc_put(c, k, key_of(k, "big/1"), 1, big, sizeof(big), 0, 60),
			 IDN_ELIMIT);
	/* Expired entries go before live ones. */
	idn_rcc_free(c);
	assert_int_equal(idn_rcc_new(1000, &c), IDN_EINVAL);
}

static void test_keys(void **s)
{
	uint8_t a[IDN_RCC_MAX_KEY], b[IDN_RCC_MAX_KEY];
	idn_resolve_req_t f1 = { .n_type = 1, .type = { { (const uint8_t *)"url", 3 } } };
	idn_resolve_req_t f2 = { .n_type = 1, .type = { { (const uint8_t *)"URL", 3 } } };
	idn_resolve_req_t f3 = { .n_index = 1, .index = { 1 } };
	size_t la = idn_rcc_key(a, sizeof(a), 'A', (const uint8_t *)"88.200.1/Ab", 11, &f1);
	size_t lb = idn_rcc_key(b, sizeof(b), 'A', (const uint8_t *)"88.200.1/aB", 11, &f2);
	assert_true(la > 0);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
	lb = idn_rcc_key(b, sizeof(b), 'A', (const uint8_t *)"88.200.1/aB", 11, &f3);
	assert_false(la == lb && memcmp(a, b, la) == 0);
	lb = idn_rcc_key(b, sizeof(b), 'P', (const uint8_t *)"88.200.1/aB", 11, &f1);
	assert_false(memcmp(a, b, la) == 0);
	assert_int_equal(idn_rcc_key(a, 8, 'A', (const uint8_t *)"88.200.1/aB", 11, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ttl_expiry),
		cmocka_unit_test(test_negative),
		cmocka_unit_test(test_size_bound),
		cmocka_unit_test(test_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
