/* bench.h - internal interfaces of idnode-bench: options, statistics, subcommands. */
#ifndef IDN_BENCH_H
#define IDN_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "client/addr.h"

/* Common options of the subcommands (each uses what it needs). */
typedef struct {
	const char *server;       /* HOST:PORT to load */
	const char *listen;       /* HOST:PORT for responders */
	const char *prefix;       /* handles are <prefix><i> */
	const char *db;
	unsigned long long count; /* identifiers: i in [0, count) */
	unsigned window;          /* requests in flight (UDP) */
	unsigned conns;           /* TCP connections */
	unsigned pipeline;        /* requests in flight per TCP connection */
	double duration;          /* seconds of measurement */
	double warmup;            /* seconds before measuring */
	unsigned reply_size;      /* raw responders */
	unsigned values;          /* gen-store */
	const char *auth;         /* register: INDEX:HANDLE identity */
	const char *key;          /* register: its PEM private key */
	const char *run_id;       /* register, gen-jsonl: handle tag (default: generated) */
	unsigned batch;           /* lmdb-ceiling: records per durable commit */
	bool count_set, duration_set; /* given on the command line (register: which bound) */
	bool no_bare;             /* lmdb-ceiling: skip the bare-put reference */
	bool challenge;           /* register: CNRI challenge-response per request, no login */
	bool json;
	bool progress;
} bench_opts_t;

/* Latency histogram: 1 µs buckets up to 100 ms, then one overflow bucket. */
#define BENCH_HIST 100000

typedef struct {
	uint64_t *hist;           /* BENCH_HIST + 1 counters */
	uint64_t replies;
	uint64_t ok, not_found, other, timeouts, errors;
	uint64_t reply_bytes;     /* sum of first-datagram / message sizes */
	double seconds;
} bench_stats_t;

int bench_stats_init(bench_stats_t *s);
void bench_stats_free(bench_stats_t *s);
void bench_stats_reset(bench_stats_t *s);
void bench_stats_add(bench_stats_t *s, double usec, uint32_t rcode);
double bench_stats_pct(const bench_stats_t *s, double pct);
void bench_stats_print(const bench_stats_t *s, const char *mode, bool json);

double bench_now(void);
/* Write a resolution request for `<prefix><i>` with RequestId `rid`. Returns its length. */
size_t bench_make_request(uint8_t *buf, size_t cap, const char *prefix, unsigned long long i,
			  uint32_t rid);
/* A decent fast PRNG (xorshift64*). */
uint64_t bench_rand(uint64_t *state);

int bench_raw_udp(const bench_opts_t *o);
int bench_raw_tcp(const bench_opts_t *o);
int bench_gen_udp(const bench_opts_t *o);
int bench_gen_tcp(const bench_opts_t *o);
int bench_gen_store(const bench_opts_t *o);
int bench_register(const bench_opts_t *o);
int bench_lmdb_ceiling(const bench_opts_t *o);
int bench_gen_jsonl(const bench_opts_t *o);
/* count.c: stored handles starting with --prefix (soak checks). */
int bench_count_prefix(const bench_opts_t *o);
/* http.c: keep-alive GET load on /api/handles, and the evhttp reference responder. */
int bench_gen_http(const bench_opts_t *o);
int bench_raw_http(const bench_opts_t *o);

/* regrec.c: the synthetic registration record (URL + HS_ADMIN, ~150 bytes). */
#define BENCH_REG_VALUES 2
void bench_run_id(char out[16]);
/* "<prefix><run>-<i>" into out; returns its length, 0 when it does not fit. */
size_t bench_reg_handle(char *out, size_t cap, const char *prefix, const char *run,
			unsigned long long i);
/* The BENCH_REG_VALUES values in wire form; returns the length, 0 on overflow. */
size_t bench_reg_values(uint8_t *out, size_t cap, const char *handle, const char *admin,
			uint32_t admin_index, uint32_t now);

/* Set by SIGINT/SIGTERM in the responders. */
extern volatile int bench_stop;

#endif
