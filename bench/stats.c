/* stats.c - latency histogram, percentiles, request building shared by the generators. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench.h"
#include "proto/msg.h"

volatile int bench_stop;

double bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

uint64_t bench_rand(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

int bench_stats_init(bench_stats_t *s)
{
	memset(s, 0, sizeof(*s));
	s->hist = calloc(BENCH_HIST + 1, sizeof(uint64_t));
	return s->hist ? 0 : -1;
}

void bench_stats_free(bench_stats_t *s)
{
	free(s->hist);
	s->hist = NULL;
}

void bench_stats_reset(bench_stats_t *s)
{
	uint64_t *h = s->hist;
	memset(h, 0, (BENCH_HIST + 1) * sizeof(uint64_t));
	memset(s, 0, sizeof(*s));
	s->hist = h;
}

void bench_stats_add(bench_stats_t *s, double usec, uint32_t rcode)
{
	size_t b = usec < 0 ? 0 : usec >= BENCH_HIST ? BENCH_HIST : (size_t)usec;
	s->hist[b]++;
	s->replies++;
	if (rcode == IDN_RC_SUCCESS)
		s->ok++;
	else if (rcode == IDN_RC_HANDLE_NOT_FOUND)
		s->not_found++;
	else
		s->other++;
}

double bench_stats_pct(const bench_stats_t *s, double pct)
{
	if (!s->replies)
		return 0;
	uint64_t want = (uint64_t)((double)s->replies * pct / 100.0);
	uint64_t seen = 0;
	for (size_t b = 0; b <= BENCH_HIST; b++) {
		seen += s->hist[b];
		if (seen > want)
			return (double)b + 0.5;
	}
	return BENCH_HIST;
}

void bench_stats_print(const bench_stats_t *s, const char *mode, bool json)
{
	double rate = s->seconds > 0 ? (double)s->replies / s->seconds : 0;
	double p50 = bench_stats_pct(s, 50), p99 = bench_stats_pct(s, 99),
	       p999 = bench_stats_pct(s, 99.9);
	if (json) {
		printf("{\"mode\":\"%s\",\"requests_per_second\":%.0f,\"replies\":%llu,"
		       "\"seconds\":%.3f,\"p50_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,"
		       "\"success\":%llu,\"not_found\":%llu,\"other\":%llu,\"timeouts\":%llu,"
		       "\"reply_bytes_avg\":%.0f}\n",
		       mode, rate, (unsigned long long)s->replies, s->seconds, p50, p99, p999,
		       (unsigned long long)s->ok, (unsigned long long)s->not_found,
		       (unsigned long long)s->other, (unsigned long long)s->timeouts,
		       s->replies ? (double)s->reply_bytes / (double)s->replies : 0.0);
	} else {
		printf("%s: %.0f requests/s over %.1f s; latency p50 %.0f us, p99 %.0f us, "
		       "p99.9 %.0f us; %llu success, %llu not found, %llu other, %llu timeouts\n",
		       mode, rate, s->seconds, p50, p99, p999, (unsigned long long)s->ok,
		       (unsigned long long)s->not_found, (unsigned long long)s->other,
		       (unsigned long long)s->timeouts);
	}
	fflush(stdout);
}

/* Decimal digits of i into p; returns the count. */
static size_t utoa(unsigned long long i, char *p)
{
	char tmp[24];
	size_t n = 0;
	do {
		tmp[n++] = (char)('0' + i % 10);
		i /= 10;
	} while (i);
	for (size_t k = 0; k < n; k++)
		p[k] = tmp[n - 1 - k];
	return n;
}

/* Built by hand rather than through the codec: the generator shares nothing
 * with the server's core, and every nanosecond it spends per request is a
 * request it does not send. The layout is the one proto/msg.c encodes. */
size_t bench_make_request(uint8_t *buf, size_t cap, const char *prefix, unsigned long long i,
			  uint32_t rid)
{
	size_t pl = strlen(prefix);
	if (pl + 24 + IDN_ENVELOPE_LEN + IDN_HEADER_LEN + 16 > cap)
		return 0;
	uint8_t *h = buf + IDN_ENVELOPE_LEN + IDN_HEADER_LEN + 4;
	memcpy(h, prefix, pl);
	size_t hl = pl + utoa(i, (char *)h + pl);
	size_t body = 4 + hl + 8, msg = IDN_HEADER_LEN + body + 4;
	static const uint8_t head[IDN_ENVELOPE_LEN + IDN_HEADER_LEN] = {
		2, 11, 2, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 1, 0, 0, 0, 0, 0x19, 0, 0, 0, 0xff, 0xff, 0, 0, 0x77, 0x35, 0x94, 0,
		0, 0, 0, 0,
	};
	memcpy(buf, head, sizeof(head));
	idn_put_be32(buf + 8, rid);
	idn_put_be32(buf + 16, (uint32_t)msg);
	idn_put_be32(buf + 40, (uint32_t)body);
	idn_put_be32(buf + 44, (uint32_t)hl);
	memset(h + hl, 0, 12); /* no indexes, no types, no credential */
	return IDN_ENVELOPE_LEN + msg;
}
