/* regrec.c - the synthetic registration record shared by `register`, `lmdb-ceiling` and `gen-jsonl`. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"
#include "client/admin.h"
#include "proto/record.h"

/* A short base-36 id from the clock and the pid: two runs against the same
 * store (or two generators at once) never mint the same handle. */
void bench_run_id(char out[16])
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t x = ((uint64_t)ts.tv_sec * 1000003u) ^ ((uint64_t)ts.tv_nsec >> 10) ^
		     ((uint64_t)getpid() << 20);
	static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	for (int i = 0; i < 7; i++) {
		out[i] = digits[x % 36];
		x /= 36;
	}
	out[7] = 0;
}

size_t bench_reg_handle(char *out, size_t cap, const char *prefix, const char *run,
			unsigned long long i)
{
	int n = snprintf(out, cap, "%s%s-%llu", prefix, run, i);
	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

/* The suffix of a handle, for the URL (the part after the first '/'). */
static const char *suffix_of(const char *handle)
{
	const char *s = strchr(handle, '/');
	return s ? s + 1 : handle;
}

/*
 * Two values, as an enterprise registering a product would send them: a URL
 * pointing at the product page (index 1) and an HS_ADMIN naming the
 * registering identity (index 100). About 150 bytes in wire form, the size
 * of a typical IDIS product record. Returns the bytes written (0 on
 * overflow); the record always has BENCH_REG_VALUES values.
 */
size_t bench_reg_values(uint8_t *out, size_t cap, const char *handle, const char *admin,
			uint32_t admin_index, uint32_t now)
{
	char url[256];
	int ul = snprintf(url, sizeof(url), "https://products.example.com/item/%s?v=1",
			  suffix_of(handle));
	if (ul < 0 || (size_t)ul >= sizeof(url))
		return 0;
	idn_wire_t w;
	idn_wire_init(&w, out, cap);
	idn_value_t v = { .index = 1, .timestamp = now, .ttl_type = IDN_TTL_RELATIVE,
			  .ttl = 86400, .perms = IDN_PERM_DEFAULT,
			  .type = { (const uint8_t *)"URL", 3 },
			  .data = { (const uint8_t *)url, (uint32_t)ul } };
	idn_value_encode(&w, &v);
	idn_put_admin_value(&w, 100, IDN_ADM_ALL, admin, admin_index, now);
	return w.err ? 0 : idn_wire_offset(&w);
}
