/* gen_jsonl.c - `idnode-bench gen-jsonl`: N identifiers as JSON lines (CNRI REST value shape) for `idnode import`. */
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"

/* Same record as `register` sends, minus the HS_ADMIN (the importer adds
 * one for the identity it logs in as). Written with one big stdio buffer:
 * a million lines take well under a second, so the import is what is timed. */
int bench_gen_jsonl(const bench_opts_t *o)
{
	char run[16];
	if (o->run_id)
		snprintf(run, sizeof(run), "%.15s", o->run_id);
	else
		bench_run_id(run);
	static char buf[1 << 20];
	setvbuf(stdout, buf, _IOFBF, sizeof(buf));
	for (unsigned long long i = 0; i < o->count; i++) {
		char handle[512];
		if (!bench_reg_handle(handle, sizeof(handle), o->prefix, run, i))
			return 2;
		const char *sfx = strchr(handle, '/');
		if (printf("{\"handle\":\"%s\",\"values\":[{\"index\":1,\"type\":\"URL\","
			   "\"data\":{\"format\":\"string\",\"value\":"
			   "\"https://products.example.com/item/%s?v=1\"}}]}\n",
			   handle, sfx ? sfx + 1 : handle) < 0) {
			perror("idnode-bench gen-jsonl");
			return 1;
		}
	}
	if (fflush(stdout) != 0) {
		perror("idnode-bench gen-jsonl");
		return 1;
	}
	fprintf(stderr, "gen-jsonl: %llu identifiers, run %s\n", o->count, run);
	return 0;
}
