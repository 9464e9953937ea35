/* load.c - bulk loading of identifiers (JSON lines) into the store. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto/json.h"
#include "proto/msg.h"
#include "storage/load.h"

#define VALUES_CAP (IDN_MAX_MESSAGE_LEN * 4)

static void report(const idn_load_opts_t *o, const char *name, unsigned long long line,
		   const char *why)
{
	if (!o->error)
		return;
	char msg[1024];
	snprintf(msg, sizeof(msg), "%s:%llu: %s", name, line, why);
	o->error(o->arg, msg);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Duplicate indexes are refused before anything reaches the transaction, so
 * a bad line never poisons the batch it would have joined. */
static int check_indexes(const uint8_t *vals, size_t len, uint32_t n, char *err, size_t errlen)
{
	uint32_t *idx = malloc(n * sizeof(*idx));
	if (!idx)
		return IDN_ENOMEM;
	idn_wire_t w;
	idn_wire_init_ro(&w, vals, len);
	for (uint32_t i = 0; i < n; i++) {
		idn_value_t v;
		idn_value_decode(&w, &v);
		idx[i] = v.index;
	}
	int ret = w.err;
	qsort(idx, n, sizeof(*idx), cmp_u32);
	for (uint32_t i = 1; i < n && !ret; i++)
		if (idx[i] == idx[i - 1]) {
			snprintf(err, errlen, "value %u: index appears twice", idx[i]);
			ret = IDN_EINVAL;
		}
	free(idx);
	return ret;
}

/* Prefix part of a handle ("88.100.12" of "88.100.12/x"); 0 when none. */
static size_t prefix_len(const char *h, size_t n)
{
	const char *slash = memchr(h, '/', n);
	return slash ? (size_t)(slash - h) : 0;
}

int idn_load_jsonl(idn_store_t *s, FILE *in, const char *name, const idn_load_opts_t *o,
		   idn_load_report_t *rep)
{
	unsigned batch = o->batch ? o->batch : 10000;
	uint8_t *vals = malloc(VALUES_CAP);
	char *line = NULL;
	size_t cap = 0;
	idn_txn_t *t = NULL;
	int ret = vals ? IDN_OK : IDN_ENOMEM;
	unsigned in_txn = 0;
	unsigned long long bytes = 0;
	memset(rep, 0, sizeof(*rep));
	char err[512];
	ssize_t got;

	while (!ret && (got = getline(&line, &cap, in)) >= 0) {
		rep->lines++;
		bytes += (unsigned long long)got;
		size_t len = (size_t)got;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			len--;
		size_t k = 0;
		while (k < len && (line[k] == ' ' || line[k] == '\t'))
			k++;
		if (k == len || line[k] == '#')
			continue; /* blank lines and comments */

		idn_wire_t w;
		idn_wire_init(&w, vals, VALUES_CAP);
		idn_json_record_t rec;
		int r = idn_record_from_json_line(line, len, (uint32_t)time(NULL), &w, &rec, err,
						  sizeof(err));
		if (!r && rec.handle_len > IDN_STORE_MAX_KEY) {
			snprintf(err, sizeof(err), "handle longer than %d bytes", IDN_STORE_MAX_KEY);
			r = IDN_ELIMIT;
		}
		if (!r)
			r = check_indexes(vals, idn_wire_offset(&w), rec.n_values, err, sizeof(err));
		if (r) {
			if (rec.doc)
				json_decref(rec.doc);
			rep->failed++;
			report(o, name, rep->lines, err);
			if (!o->keep_going)
				ret = IDN_EINVAL;
			continue;
		}
		if (!t && (ret = idn_txn_begin(s, &t))) {
			json_decref(rec.doc);
			break;
		}
		idn_txn_put(t, (const uint8_t *)rec.handle, rec.handle_len, vals, idn_wire_offset(&w),
			    rec.n_values);
		size_t pl = prefix_len(rec.handle, rec.handle_len);
		if (o->home_prefixes && pl > 0 && pl + 5 <= IDN_STORE_MAX_KEY) {
			char na[IDN_STORE_MAX_KEY + 1];
			memcpy(na, "0.NA/", 5);
			memcpy(na + 5, rec.handle, pl);
			idn_txn_home(t, (const uint8_t *)na, pl + 5);
		}
		json_decref(rec.doc);
		if ((ret = idn_txn_error(t)))
			break; /* the store itself failed (full disk, ...) */
		rep->loaded++;
		if (++in_txn >= batch) {
			ret = idn_txn_commit(t);
			t = NULL;
			if (ret)
				rep->loaded -= in_txn;
			in_txn = 0;
			if (o->progress)
				o->progress(o->arg, rep->loaded, bytes);
		}
	}
	if (t) {
		/* Good lines before a bad one are kept; a store failure keeps nothing
		 * of the open batch. */
		if (ret == IDN_OK || ret == IDN_EINVAL) {
			int r = idn_txn_commit(t);
			if (r) {
				rep->loaded -= in_txn;
				ret = r;
			}
		} else {
			idn_txn_abort(t);
			rep->loaded -= in_txn;
		}
	}
	if (o->progress)
		o->progress(o->arg, rep->loaded, bytes);
	free(line);
	free(vals);
	return ret;
}
