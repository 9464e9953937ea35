/* count.c - idnode-bench count-prefix: how many stored handles start with a given text (soak checks). */
#include <stdio.h>
#include <string.h>

#include "bench/bench.h"
#include "storage/store.h"

typedef struct {
	uint8_t want[512];
	size_t want_len;
	unsigned long long n;
} count_t;

static int count_one(void *arg, idn_bytes_t key)
{
	count_t *c = arg;
	if (key.len >= c->want_len && memcmp(key.p, c->want, c->want_len) == 0)
		c->n++;
	return 0;
}

int bench_count_prefix(const bench_opts_t *o)
{
	const char *slash = strchr(o->prefix, '/');
	size_t plen = strlen(o->prefix);
	if (!o->db || !slash || plen >= 512) {
		fprintf(stderr, "idnode-bench count-prefix: needs --db and --prefix=PREFIX/TEXT\n");
		return 2;
	}
	idn_store_t *s;
	idn_store_opts_t so = { .read_only = true };
	int ret = idn_store_open(o->db, &so, &s);
	if (ret) {
		fprintf(stderr, "idnode-bench count-prefix: %s: %s\n", o->db, idn_strerror(ret));
		return 1;
	}
	count_t c = { .want_len = plen };
	idn_handle_fold((const uint8_t *)o->prefix, plen, c.want);
	idn_reader_t *r;
	ret = idn_reader_new(s, &r);
	if (!ret) {
		if (!(ret = idn_reader_begin(r))) {
			ret = idn_reader_list(r, (const uint8_t *)o->prefix,
					      (size_t)(slash - o->prefix), NULL, 0, count_one, &c);
			idn_reader_end(r);
		}
		idn_reader_free(r);
	}
	idn_store_close(s);
	if (ret) {
		fprintf(stderr, "idnode-bench count-prefix: %s\n", idn_strerror(ret));
		return 1;
	}
	printf("%llu\n", c.n);
	return 0;
}
