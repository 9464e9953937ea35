/* gen_store.c - fill a store with N synthetic identifiers fast, for benchmarks. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench.h"
#include "proto/record.h"
#include "storage/store.h"

#define TXN_RECORDS 100000

int bench_gen_store(const bench_opts_t *o)
{
	const char *slash = strchr(o->prefix, '/');
	if (!slash || slash == o->prefix) {
		fprintf(stderr, "idnode-bench gen-store: --prefix must look like 88.100.12/BENCH-\n");
		return 2;
	}
	char na[256];
	int nalen = snprintf(na, sizeof(na), "0.NA/%.*s", (int)(slash - o->prefix), o->prefix);
	idn_store_t *s;
	/* Offline fill for a benchmark: commits are synced once, at close. */
	idn_store_opts_t so = { .nosync = true };
	int ret = idn_store_open(o->db, &so, &s);
	if (ret) {
		fprintf(stderr, "idnode-bench gen-store: %s: %s\n", o->db, idn_strerror(ret));
		return 1;
	}
	uint8_t adm[300], vals[1024];
	idn_wire_t aw;
	idn_wire_init(&aw, adm, sizeof(adm));
	idn_admin_t a = { 0x0fff, { (const uint8_t *)na, (uint32_t)nalen }, 300 };
	idn_admin_encode(&aw, &a);
	uint32_t now = (uint32_t)time(NULL);
	double t0 = bench_now(), last = t0;
	idn_txn_t *t = NULL;
	for (unsigned long long i = 0; i < o->count && !ret; i++) {
		if (!t && (ret = idn_txn_begin(s, &t)))
			break;
		char handle[300], url[64];
		int hl = snprintf(handle, sizeof(handle), "%s%llu", o->prefix, i);
		int ul = snprintf(url, sizeof(url), "https://example.com/item/%llu", i);
		idn_wire_t w;
		idn_wire_init(&w, vals, sizeof(vals));
		idn_value_t v = { .index = 1, .timestamp = now, .ttl = 86400, .perms = 0x0e,
				  .type = { (const uint8_t *)"URL", 3 },
				  .data = { (const uint8_t *)url, (uint32_t)ul } };
		idn_value_encode(&w, &v);
		uint32_t n = 1;
		if (o->values > 1) {
			v.index = 100;
			v.type = (idn_bytes_t){ (const uint8_t *)"HS_ADMIN", 8 };
			v.data = (idn_bytes_t){ adm, (uint32_t)idn_wire_offset(&aw) };
			idn_value_encode(&w, &v);
			n++;
		}
		idn_txn_put(t, (const uint8_t *)handle, (size_t)hl, vals, idn_wire_offset(&w), n);
		if ((i + 1) % TXN_RECORDS == 0 || i + 1 == o->count) {
			ret = idn_txn_commit(t);
			t = NULL;
			double now_s = bench_now();
			if (o->progress && now_s - last > 0.5) {
				last = now_s;
				double rate = (double)(i + 1) / (now_s - t0);
				fprintf(stderr, "\rgen-store: %llu/%llu, %.0f/s, ETA %.0f s   ", i + 1,
					o->count, rate, (double)(o->count - i - 1) / rate);
			}
		}
	}
	if (!ret) {
		ret = idn_txn_begin(s, &t);
		if (!ret) {
			idn_txn_home(t, (const uint8_t *)na, (size_t)nalen);
			ret = idn_txn_commit(t);
		}
	} else if (t) {
		idn_txn_abort(t);
	}
	idn_store_close(s);
	if (ret) {
		fprintf(stderr, "\nidnode-bench gen-store: %s\n", idn_strerror(ret));
		return 1;
	}
	fprintf(stderr, "%sgen-store: %llu identifiers in %.1f s\n", o->progress ? "\n" : "",
		o->count, bench_now() - t0);
	return 0;
}
