/* ratelimit.c - per-source request rate limits: a fixed table of GCRA buckets keyed by IPv4 address or IPv6 /64. */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "proto/errcode.h"
#include "resolver/ratelimit.h"

/*
 * GCRA: a bucket is its "theoretical arrival time" (tat). A request at t
 * moves tat to max(tat, t) + interval and is allowed while tat - t stays
 * within burst x interval: the same decisions as a token bucket of `burst`
 * tokens refilled at `rate` a second, with one 32-bit word per bucket and no
 * division on the request path.
 *
 * Times are microseconds modulo 2^32 (71 minutes); comparisons are on
 * signed differences, valid while tat stays within 35 minutes of now (the
 * limit is capped below that). A source idle for longer than STALE
 * starts over with full buckets, so wrapped timestamps never matter.
 */

#define PROBE 4               /* slots looked at per source */
#define STALE (1u << 20)      /* ticks (2^10 us) idle after which an entry is reset: 18 min */
#define MAX_LIMIT 1800000000u /* burst x interval at most: 30 minutes */

struct rl_entry {
	uint64_t key;             /* 0 = free */
	uint32_t seen;            /* tick (now_us >> 10) of the last request: LRU order */
	uint32_t tat[2];
	uint16_t ans_sec;         /* the "second" (2^20 us) ans_n counts in */
	uint16_t ans_n;
};

int idn_ratelimit_new(const idn_ratelimit_opts_t *o, idn_ratelimit_t **out)
{
	*out = NULL;
	if (!o->rate[0] && !o->rate[1])
		return IDN_OK;
	idn_ratelimit_t *rl = calloc(1, sizeof(*rl));
	if (!rl)
		return IDN_ENOMEM;
	uint32_t n = o->entries ? o->entries : 65536;
	unsigned bits = 4;
	while ((1u << bits) < n && bits < 24)
		bits++;
	rl->mask = (1u << bits) - 1;
	rl->shift = 64 - bits;
	for (int k = 0; k < 2; k++) {
		if (!o->rate[k])
			continue;
		uint32_t rate = o->rate[k] > 1000000 ? 1000000 : o->rate[k];
		uint64_t burst = o->burst[k] ? o->burst[k] : 2ull * rate;
		rl->interval[k] = 1000000u / rate;
		uint64_t lim = burst * rl->interval[k];
		rl->limit[k] = lim > MAX_LIMIT ? MAX_LIMIT : (uint32_t)lim;
	}
	rl->answers = o->answers;
	rl->tab = calloc((size_t)rl->mask + 1, sizeof(rl_entry_t));
	if (!rl->tab) {
		free(rl);
		return IDN_ENOMEM;
	}
	*out = rl;
	return IDN_OK;
}

void idn_ratelimit_free(idn_ratelimit_t *rl)
{
	if (!rl)
		return;
	free(rl->tab);
	free(rl);
}

/*
 * IPv4 a.b.c.d -> 0x1_aabbccdd; IPv6 -> its first 64 bits. The IPv4 keys
 * are the /64s 0:1::/32 stands for, and ::/64 (::1) becomes 2: both in
 * reserved space no real source comes from, so the two families never
 * share a bucket and no key is 0.
 */
uint64_t idn_rl_key(const struct sockaddr *sa)
{
	const uint8_t *a;
	if (sa->sa_family == AF_INET) {
		a = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
	} else if (sa->sa_family == AF_INET6) {
		const uint8_t *b = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		if (memcmp(b, mapped, 12) != 0) {
			uint64_t k = 0;
			for (int i = 0; i < 8; i++)
				k = k << 8 | b[i];
			return k ? k : 2;
		}
		a = b + 12;
	} else {
		return 3; /* other families share one bucket */
	}
	return 1ull << 32 | (uint64_t)a[0] << 24 | (uint64_t)a[1] << 16 | (uint64_t)a[2] << 8 | a[3];
}

/* The entry of `key`: found among its PROBE slots, else a free or stale
 * one, else the least recently seen of them (evicted). */
static rl_entry_t *lookup(idn_ratelimit_t *rl, uint64_t key, uint32_t tick, uint32_t t)
{
	uint32_t h = (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> rl->shift);
	rl_entry_t *victim = NULL;
	uint32_t victim_age = 0;
	for (uint32_t i = 0; i < PROBE; i++) {
		rl_entry_t *e = &rl->tab[(h + i) & rl->mask];
		if (e->key == key)
			return e;
		uint32_t age = e->key ? tick - e->seen : UINT32_MAX;
		if (!victim || age > victim_age) {
			victim = e;
			victim_age = age;
		}
	}
	if (victim->key && victim_age < STALE)
		rl->evictions++;
	victim->key = key;
	victim->seen = tick;
	victim->tat[0] = victim->tat[1] = t;
	victim->ans_sec = 0; /* with ans_n 0: a fresh count whatever the second */
	victim->ans_n = 0;
	return victim;
}

int idn_ratelimit_check(idn_ratelimit_t *rl, uint64_t key, int kind, uint64_t now_us)
{
	uint32_t t = (uint32_t)now_us;
	uint32_t tick = (uint32_t)(now_us >> 10);
	uint16_t sec = (uint16_t)(now_us >> 20);
	rl_entry_t *e = lookup(rl, key, tick, t);
	if (tick - e->seen > STALE)
		e->tat[0] = e->tat[1] = t;
	e->seen = tick;
	uint32_t tat = e->tat[kind];
	if ((int32_t)(tat - t) < 0)
		tat = t;
	uint32_t next = tat + rl->interval[kind];
	if (next - t <= rl->limit[kind]) {
		e->tat[kind] = next;
		return IDN_RL_PASS;
	}
	/* Over the limit: a few answers a second tell a real client why; the
	 * rest are dropped (on UDP answering a flood would feed a reflection). */
	if (e->ans_sec != sec) {
		e->ans_sec = sec;
		e->ans_n = 0;
	}
	if (e->ans_n < rl->answers) {
		e->ans_n++;
		return IDN_RL_ANSWER;
	}
	return IDN_RL_DROP;
}
