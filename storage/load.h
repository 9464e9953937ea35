/* load.h - bulk loading of identifiers (JSON lines) straight into the store. */
#ifndef IDN_LOAD_H
#define IDN_LOAD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "storage/store.h"

/*
 * Rules of use: for offline loads (demo data, migration, benchmarks) by the
 * node operator; nothing here is acknowledged to a network client. The
 * caller may open the store with `nosync` for speed; records are committed
 * in batches of `batch` lines, and a bad line is never partly stored.
 */

typedef struct {
	unsigned batch;            /* records per write transaction; 0 = 10000 */
	bool home_prefixes;        /* home 0.NA/<prefix> of every loaded handle */
	bool keep_going;           /* report bad lines and continue */
	/* Called every batch with the records loaded so far and bytes read. */
	void (*progress)(void *arg, unsigned long long done, unsigned long long bytes);
	/* Called for each bad line: "NAME:LINE: reason". */
	void (*error)(void *arg, const char *msg);
	void *arg;
} idn_load_opts_t;

typedef struct {
	unsigned long long loaded;
	unsigned long long failed;
	unsigned long long lines;
} idn_load_report_t;

/* Load every line of `in` (`name` is used in messages). Returns IDN_OK, or
 * IDN_EINVAL when a line was bad (and keep_going is off, loading stops
 * there, after committing the good lines before it), or a store error. */
int idn_load_jsonl(idn_store_t *s, FILE *in, const char *name, const idn_load_opts_t *o,
		   idn_load_report_t *rep);

#endif
