/* test_ratelimit.c - the abuse limits: bucket math on an injected clock, table collisions and eviction, source keys, connection counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "proto/errcode.h"
#include "resolver/ratelimit.h"

#define SEC 1000000ull
#define T0 (5000 * SEC)

static idn_ratelimit_t *make(uint32_t rate, uint32_t burst, uint32_t wrate, uint32_t wburst,
			     uint32_t answers, uint32_t entries)
{
	idn_ratelimit_opts_t o = { .rate = { rate, wrate }, .burst = { burst, wburst },
				   .answers = answers, .entries = entries };
	idn_ratelimit_t *rl = NULL;
	assert_int_equal(idn_ratelimit_new(&o, &rl), IDN_OK);
	return rl;
}

static uint64_t v4(const char *a)
{
	struct sockaddr_in s = { .sin_family = AF_INET };
	inet_pton(AF_INET, a, &s.sin_addr);
	return idn_rl_key((struct sockaddr *)&s);
}

static uint64_t v6(const char *a)
{
	struct sockaddr_in6 s = { .sin6_family = AF_INET6 };
	inet_pton(AF_INET6, a, &s.sin6_addr);
	return idn_rl_key((struct sockaddr *)&s);
}

static int count_pass(idn_ratelimit_t *rl, uint64_t key, int kind, uint64_t now, int n)
{
	int ok = 0;
	for (int i = 0; i < n; i++)
		ok += idn_rl_take(rl, key, kind, now) == IDN_RL_PASS;
	return ok;
}

static void test_off(void **state)
{
	idn_ratelimit_opts_t o = { 0 };
	idn_ratelimit_t *rl = (idn_ratelimit_t *)1;
	assert_int_equal(idn_ratelimit_new(&o, &rl), IDN_OK);
	assert_null(rl);
	assert_int_equal(idn_rl_take(NULL, 1, IDN_RL_RESOLVE, 0), IDN_RL_PASS);
	/* Only writes limited: resolution passes without a lookup. */
	rl = make(0, 0, 10, 10, 0, 0);
	assert_int_equal(count_pass(rl, v4("192.0.2.1"), IDN_RL_RESOLVE, T0, 1000), 1000);
	assert_int_equal(count_pass(rl, v4("192.0.2.1"), IDN_RL_WRITE, T0, 1000), 10);
	idn_ratelimit_free(rl);
}

/* Burst at once, then the rate: 10/s with a bucket of 20. */
static void test_bucket_math(void **state)
{
	idn_ratelimit_t *rl = make(10, 20, 0, 0, 0, 0);
	uint64_t k = v4("198.51.100.7");
	assert_int_equal(count_pass(rl, k, IDN_RL_RESOLVE, T0, 100), 20);
	/* 100 ms refill one request, not two. */
	assert_int_equal(count_pass(rl, k, IDN_RL_RESOLVE, T0 + 100000, 5), 1);
	assert_int_equal(count_pass(rl, k, IDN_RL_RESOLVE, T0 + 150000, 5), 0);
	/* A second later: ten more. */
	assert_int_equal(count_pass(rl, k, IDN_RL_RESOLVE, T0 + 1100000, 100), 10);
	/* Long idle: never more than the burst. */
	assert_int_equal(count_pass(rl, k, IDN_RL_RESOLVE, T0 + 60 * SEC, 100), 20);
	/* Steady at the rate: every request at 100 ms spacing passes. */
	uint64_t t = T0 + 120 * SEC;
	count_pass(rl, k, IDN_RL_RESOLVE, t, 100);
	int ok = 0;
	for (int i = 1; i <= 50; i++)
		ok += idn_rl_take(rl, k, IDN_RL_RESOLVE, t + (uint64_t)i * 100000) == IDN_RL_PASS;
	assert_int_equal(ok, 50);
	idn_ratelimit_free(rl);
}

/* The two buckets of one source are independent; burst 0 = 2 x rate. */
static void test_two_buckets(void **state)
{
	idn_ratelimit_t *rl = make(100, 0, 5, 0, 0, 0);
	uint64_t k = v4("203.0.113.9");
	assert_int_equal(count_pass(rl, k, IDN_RL_WRITE, T0, 100), 10);
	assert_int_equal(count_pass(rl, k, IDN_RL_RESOLVE, T0, 1000), 200);
	assert_int_equal(count_pass(rl, k, IDN_RL_WRITE, T0 + 200000, 100), 1);
	idn_ratelimit_free(rl);
}

/* Over the limit: `answers` a "second" (2^20 us) are ANSWER, the rest DROP. */
static void test_answers(void **state)
{
	idn_ratelimit_t *rl = make(1, 1, 0, 0, 3, 0);
	uint64_t k = v4("192.0.2.44");
	uint64_t t = 7ull << 20 << 10;
	assert_int_equal(idn_rl_take(rl, k, IDN_RL_RESOLVE, t), IDN_RL_PASS);
	int ans = 0, drop = 0;
	for (int i = 0; i < 100; i++) {
		int v = idn_rl_take(rl, k, IDN_RL_RESOLVE, t + 10);
		ans += v == IDN_RL_ANSWER;
		drop += v == IDN_RL_DROP;
	}
	assert_int_equal(ans, 3);
	assert_int_equal(drop, 97);
	/* The next "second": three more answers. */
	ans = 0;
	for (int i = 0; i < 10; i++)
		ans += idn_rl_take(rl, k, IDN_RL_RESOLVE, t + (1u << 20) + 10) == IDN_RL_ANSWER;
	assert_int_equal(ans, 3);
	idn_ratelimit_free(rl);
}

/* IPv6 sources group by /64; IPv4-mapped addresses are IPv4; keys never 0. */
static void test_keys(void **state)
{
	assert_int_equal(v6("2001:db8:1:2::1"), v6("2001:db8:1:2:ffff:ffff:ffff:ffff"));
	assert_int_not_equal(v6("2001:db8:1:2::1"), v6("2001:db8:1:3::1"));
	assert_int_equal(v6("::ffff:192.0.2.1"), v4("192.0.2.1"));
	assert_int_not_equal(v4("192.0.2.1"), v4("192.0.2.2"));
	assert_int_not_equal(v6("::1"), 0);
	assert_int_not_equal(v4("0.0.0.0"), 0);
	assert_int_not_equal(v6("::1"), v4("127.0.0.1"));

	idn_ratelimit_t *rl = make(10, 10, 0, 0, 0, 0);
	assert_int_equal(count_pass(rl, v6("2001:db8:5::1"), IDN_RL_RESOLVE, T0, 6), 6);
	/* Another address of the same /64 shares the bucket. */
	assert_int_equal(count_pass(rl, v6("2001:db8:5::beef"), IDN_RL_RESOLVE, T0, 10), 4);
	assert_int_equal(count_pass(rl, v6("2001:db8:6::1"), IDN_RL_RESOLVE, T0, 10), 10);
	idn_ratelimit_free(rl);
}

/* A tiny table (16 slots): many sources evict each other but each one
 * stays within its own limit while it is tracked; a flooding source seen
 * constantly keeps its slot (it is never the least recently seen). */
static void test_collisions(void **state)
{
	idn_ratelimit_t *rl = make(10, 10, 0, 0, 0, 16);
	uint64_t flood = v4("192.0.2.200");
	uint64_t t = T0;
	int flood_ok = 0;
	for (int round = 0; round < 200; round++) {
		t += 1000; /* 1 ms */
		flood_ok += idn_rl_take(rl, flood, IDN_RL_RESOLVE, t) == IDN_RL_PASS;
		char a[32];
		snprintf(a, sizeof(a), "10.0.%d.%d", round / 200, round % 200);
		/* A new source each time: always a fresh bucket. */
		assert_int_equal(idn_rl_take(rl, v4(a), IDN_RL_RESOLVE, t), IDN_RL_PASS);
	}
	/* 0.2 s of flood: the burst of 10 plus two refills. */
	assert_true(flood_ok >= 10 && flood_ok <= 13);
	assert_true(rl->evictions > 0);
	idn_ratelimit_free(rl);
}

/* Connection counts: per address, total, release, reuse of slots. */
static void test_connlimit(void **state)
{
	idn_connlimit_t *cl;
	assert_int_equal(idn_connlimit_new(3, 5, &cl), IDN_OK);
	uint64_t a = v4("192.0.2.1"), b = v4("192.0.2.2"), c = v6("2001:db8::1");
	for (int i = 0; i < 3; i++)
		assert_int_equal(idn_connlimit_acquire(cl, a), IDN_CL_OK);
	assert_int_equal(idn_connlimit_acquire(cl, a), IDN_CL_PER_ADDRESS);
	assert_int_equal(idn_connlimit_acquire(cl, b), IDN_CL_OK);
	assert_int_equal(idn_connlimit_acquire(cl, c), IDN_CL_OK);
	assert_int_equal(idn_connlimit_acquire(cl, c), IDN_CL_TOTAL);
	assert_int_equal(idn_connlimit_total(cl), 5);
	idn_connlimit_release(cl, a);
	assert_int_equal(idn_connlimit_of(cl, a), 2);
	assert_int_equal(idn_connlimit_acquire(cl, c), IDN_CL_OK);
	idn_connlimit_release(cl, b);
	assert_int_equal(idn_connlimit_of(cl, b), 0);
	assert_int_equal(idn_connlimit_of(cl, c), 2);
	idn_connlimit_free(cl);

	/* Many sources through a small table: backward-shift deletion keeps
	 * every remaining one findable. */
	assert_int_equal(idn_connlimit_new(0, 64, &cl), IDN_OK);
	uint64_t keys[64];
	for (int i = 0; i < 64; i++) {
		char s[32];
		snprintf(s, sizeof(s), "172.16.%d.%d", i / 7, i * 13 % 251);
		keys[i] = v4(s);
		assert_int_equal(idn_connlimit_acquire(cl, keys[i]), IDN_CL_OK);
	}
	assert_int_equal(idn_connlimit_acquire(cl, keys[0]), IDN_CL_TOTAL);
	for (int i = 0; i < 64; i += 2)
		idn_connlimit_release(cl, keys[i]);
	for (int i = 1; i < 64; i += 2)
		assert_int_equal(idn_connlimit_of(cl, keys[i]), 1);
	for (int i = 0; i < 64; i += 2)
		assert_int_equal(idn_connlimit_of(cl, keys[i]), 0);
	assert_int_equal(idn_connlimit_total(cl), 32);
	idn_connlimit_free(cl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_off),
		cmocka_unit_test(test_bucket_math),
		cmocka_unit_test(test_two_buckets),
		cmocka_unit_test(test_answers),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_collisions),
		cmocka_unit_test(test_connlimit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
