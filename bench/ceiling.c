/* ceiling.c - `idnode-bench lmdb-ceiling`: LMDB's own rate of batched durable commits of registration records. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "bench/bench.h"
#include "storage/store.h"

#define ADMIN_ID "0.NA/88.100.12"
#define WHO "300:0.NA/88.100.12"

typedef struct {
	unsigned long long records, batches;
	double seconds, build_s, commit_s;
	double *commit_ms;        /* per batch, for percentiles */
	size_t cap, record_bytes;
} ceil_result_t;

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(ceil_result_t *r, double p)
{
	if (!r->batches)
		return 0;
	size_t k = (size_t)((double)r->batches * p / 100.0);
	return r->commit_ms[k < r->batches ? k : r->batches - 1];
}

/* The counters the registry bumps for a new identifier (registry/ops.c
 * do_create): per enterprise prefix, per prefix and day, per day, total. */
static void bump_counters(idn_txn_t *t, const char *day)
{
	char cn[64];
	idn_txn_counter_add(t, "ids:88.100.12", 13, 1);
	int n = snprintf(cn, sizeof(cn), "reg:88.100.12:%s", day);
	idn_txn_counter_add(t, cn, (size_t)n, 1);
	n = snprintf(cn, sizeof(cn), "regday:%s", day);
	idn_txn_counter_add(t, cn, (size_t)n, 1);
	idn_txn_counter_add(t, "ids", 3, 1);
}

/*
 * Write records in batches of `batch`, one durable commit per batch, into a
 * fresh store at dir. full = what the registry's writer does per record
 * (two reads, put, change-log entry, counters, straight into the batch's
 * transaction as registry/writer.c does); otherwise bare puts. The
 * build phase (everything before the commit) and the commit (page writes +
 * fsyncs) are timed apart: their ratio says whether CPU or the disk limits.
 */
static int run_mode(const bench_opts_t *o, const char *dir, bool full, const char *run,
		    ceil_result_t *r)
{
	idn_store_t *s;
	idn_store_opts_t so = { .nosync = false }; /* durable, as the daemon's */
	int ret = idn_store_open(dir, &so, &s);
	if (ret) {
		fprintf(stderr, "idnode-bench lmdb-ceiling: %s: %s\n", dir, idn_strerror(ret));
		return 1;
	}
	uint32_t now = (uint32_t)time(NULL);
	char day[16];
	time_t tt = (time_t)now + 8 * 3600;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(day, sizeof(day), "%Y%m%d", &tm);
	double t0 = bench_now(), end = t0 + o->duration;
	unsigned long long i = 0;
	while (o->count_set ? i < o->count : bench_now() < end) {
		double b0 = bench_now();
		idn_txn_t *t;
		if ((ret = idn_txn_begin(s, &t)))
			break;
		for (unsigned k = 0; k < o->batch && (!o->count_set || i < o->count); k++, i++) {
			char handle[256];
			uint8_t vals[1024];
			size_t hl = bench_reg_handle(handle, sizeof(handle), o->prefix, run, i);
			size_t vl = bench_reg_values(vals, sizeof(vals), handle, ADMIN_ID, 300, now);
			r->record_bytes = vl;
			if (!full) {
				idn_txn_put(t, (const uint8_t *)handle, hl, vals, vl, BENCH_REG_VALUES);
				continue;
			}
			idn_txn_t *c = t;
			/* The registry reads before it writes: exists? and the prefix record. */
			idn_record_t rec;
			idn_txn_get(c, (const uint8_t *)handle, hl, &rec);
			idn_txn_get(c, (const uint8_t *)ADMIN_ID, strlen(ADMIN_ID), &rec);
			idn_txn_put(c, (const uint8_t *)handle, hl, vals, vl, BENCH_REG_VALUES);
			bump_counters(c, day);
			idn_change_t ch = { .time = now, .op = 100,
					    .who = { (const uint8_t *)WHO, (uint32_t)strlen(WHO) },
					    .handle = { (const uint8_t *)handle, (uint32_t)hl },
					    .data = { vals, (uint32_t)vl } };
			idn_txn_log(c, &ch);
			if ((ret = idn_txn_error(c)))
				break;
		}
		if (ret) {
			idn_txn_abort(t);
			break;
		}
		double b1 = bench_now();
		if ((ret = idn_txn_commit(t)))
			break;
		double b2 = bench_now();
		if (r->batches == r->cap) {
			size_t cap = r->cap ? r->cap * 2 : 4096;
			double *p = realloc(r->commit_ms, cap * sizeof(double));
			if (!p) {
				ret = IDN_ENOMEM;
				break;
			}
			r->commit_ms = p;
			r->cap = cap;
		}
		r->commit_ms[r->batches++] = (b2 - b1) * 1e3;
		r->build_s += b1 - b0;
		r->commit_s += b2 - b1;
	}
	r->records = i;
	r->seconds = bench_now() - t0;
	idn_store_close(s);
	if (ret) {
		fprintf(stderr, "idnode-bench lmdb-ceiling: %s: %s\n", dir, idn_strerror(ret));
		return 1;
	}
	qsort(r->commit_ms, r->batches, sizeof(double), cmp_double);
	return 0;
}

static void print_mode(const char *name, ceil_result_t *r, bool json)
{
	double rate = r->seconds > 0 ? (double)r->records / r->seconds : 0;
	double nb = r->batches ? (double)r->batches : 1;
	if (json) {
		/* Flat keys with the mode as prefix: one level of JSON that
		 * run-register.sh can pick apart with sed. */
		printf(",\"%s_records_per_second\":%.0f,\"%s_records\":%llu,\"%s_batches\":%llu,"
		       "\"%s_seconds\":%.3f,\"%s_build_ms_avg\":%.3f,\"%s_commit_ms_avg\":%.3f,"
		       "\"%s_commit_ms_p50\":%.3f,\"%s_commit_ms_p99\":%.3f,\"%s_commit_share\":%.3f",
		       name, rate, name, r->records, name, r->batches, name, r->seconds, name,
		       r->build_s * 1e3 / nb, name, r->commit_s * 1e3 / nb, name, pct(r, 50), name,
		       pct(r, 99), name, r->seconds > 0 ? r->commit_s / r->seconds : 0);
	} else {
		printf("  %-5s %8.0f records/s (%llu in %llu commits, %.1f s); per batch: build "
		       "%.3f ms, commit %.3f ms avg (p50 %.3f, p99 %.3f); commit share %.0f%%\n",
		       name, rate, r->records, r->batches, r->seconds, r->build_s * 1e3 / nb,
		       r->commit_s * 1e3 / nb, pct(r, 50), pct(r, 99),
		       r->seconds > 0 ? 100 * r->commit_s / r->seconds : 0);
	}
}

int bench_lmdb_ceiling(const bench_opts_t *o)
{
	if (!o->db) {
		fprintf(stderr, "idnode-bench lmdb-ceiling: --db is required\n");
		return 2;
	}
	if (mkdir(o->db, 0700) != 0 && errno != EEXIST) {
		perror("idnode-bench lmdb-ceiling: mkdir");
		return 1;
	}
	char run[16], full_dir[512], bare_dir[512];
	bench_run_id(run);
	snprintf(full_dir, sizeof(full_dir), "%s/full-%s", o->db, run);
	snprintf(bare_dir, sizeof(bare_dir), "%s/bare-%s", o->db, run);
	ceil_result_t full = { 0 }, bare = { 0 };
	int rc = run_mode(o, full_dir, true, run, &full);
	if (!rc && !o->no_bare)
		rc = run_mode(o, bare_dir, false, run, &bare);
	if (!rc) {
		if (o->json) {
			printf("{\"mode\":\"lmdb-ceiling\",\"batch\":%u,\"record_bytes\":%zu",
			       o->batch, full.record_bytes);
			print_mode("full", &full, true);
			if (!o->no_bare)
				print_mode("bare", &bare, true);
			printf("}\n");
		} else {
			printf("lmdb-ceiling: batch %u, %zu-byte records, durable commits\n", o->batch,
			       full.record_bytes);
			print_mode("full", &full, false);
			if (!o->no_bare)
				print_mode("bare", &bare, false);
		}
		fflush(stdout);
	}
	free(full.commit_ms);
	free(bare.commit_ms);
	return rc;
}
