/* fuzz_stored.c - libFuzzer target: arbitrary bytes as a handle record in LMDB, read back by the reader (cached and not) and resolved through the query step. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "proto/json.h"
#include "proto/record.h"
#include "resolver/query.h"
#include "storage/store_int.h"

/*
 * A store is only written through idn_txn_put(), which validates, so bytes
 * that do not decode get there only by corruption, an older or newer
 * format, or a bug elsewhere: the target writes the input into the handles
 * database below the API (store_int.h) and checks that every reader of it
 * degrades to an error answer instead of reading out of bounds.
 */

static idn_store_t *store;
static idn_reader_t *plain, *cached;
static idn_server_info_t info;
static idn_query_t qp, qc;
static uint8_t out[IDN_ENVELOPE_LEN + IDN_MAX_MESSAGE_LEN + 4096];

/* The keys the input is stored under: a handle, and the prefix handle an
 * absent derived prefix is referred through (CNRI RC 303). */
static const char *const keys[] = { "88.100/F", "0.NA/88.100.5" };

enum { N_REQ = 5 };
static uint8_t reqs[N_REQ][256];
static size_t req_len[N_REQ];

static void build_req(int i, const char *handle, uint32_t index, const char *type, uint32_t flags)
{
	idn_envelope_t env = { .major = 2, .minor = 10, .request_id = (uint32_t)i + 1 };
	idn_header_t hdr = { .opcode = IDN_OC_RESOLUTION, .opflag = flags, .expiration = 0 };
	idn_resolve_req_t r = { .handle = { (const uint8_t *)handle, (uint32_t)strlen(handle) } };
	if (index)
		r.index[r.n_index++] = index;
	if (type) {
		r.type[r.n_type].p = (const uint8_t *)type;
		r.type[r.n_type++].len = (uint32_t)strlen(type);
	}
	idn_wire_t w;
	idn_wire_init(&w, reqs[i], sizeof(reqs[i]));
	size_t st = idn_msg_begin(&w, &env, &hdr);
	idn_resolve_req_encode(&w, &r);
	if (idn_msg_end(&w, st, true))
		abort();
	req_len[i] = idn_wire_offset(&w);
}

static void init(void)
{
	char dir[] = "/tmp/idn-fuzz-stored-XXXXXX";
	idn_store_opts_t o = { .map_size = 64 << 20, .nosync = true, .reader_cache_entries = 64 };
	if (!mkdtemp(dir) || idn_store_open(dir, &o, &store) != IDN_OK)
		abort();
	idn_txn_t *t;
	if (idn_txn_begin(store, &t) != IDN_OK)
		abort();
	idn_txn_home(t, (const uint8_t *)"0.NA/88.100", 11);
	if (idn_txn_commit(t) != IDN_OK || idn_reader_new_cached(store, 0, &plain) != IDN_OK ||
	    idn_reader_new_cached(store, 64, &cached) != IDN_OK)
		abort();
	static const uint8_t site[] = { 0, 1, 2, 11, 0, 1, 0x80, 2, 0, 0, 0, 0, 0, 0, 0, 0,
					0, 0, 0, 0 };
	info.site = site;
	info.site_len = sizeof(site);
	info.site_serial = 1;
	info.primary = true;
	idn_query_init(&qp, plain, &info, IDN_TR_UDP);
	idn_query_init(&qc, cached, &info, IDN_TR_TCP);
	build_req(0, "88.100/F", 0, NULL, 0);             /* every value, as stored */
	build_req(1, "88.100/F", 1, NULL, 0);             /* filtered: values decoded */
	build_req(2, "88.100/f", 0, "URL", IDN_OF_PO);    /* by type, public only */
	build_req(3, "0.NA/88.100.5.7", 0, NULL, 0);      /* referral values */
	build_req(4, "0.NA/88.100.5", 0, "HS_SITE", 0);
	/* LMDB keeps the files open; the directory can go now. */
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		abort();
}

/* Store the input under both keys, bypassing idn_txn_put()'s checks. */
static void store_raw(const uint8_t *data, size_t size)
{
	idn_txn_t *t;
	if (idn_txn_begin(store, &t) != IDN_OK)
		abort();
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		MDB_val k = { strlen(keys[i]), (void *)keys[i] };
		/* Folded keys are upper case: "0.NA/88.100.5" and "88.100/F" are. */
		MDB_val v = { size, (void *)data };
		if (size == 0)
			mdb_del(t->txn, store->handles, &k, NULL);
		else if (mdb_put(t->txn, store->handles, &k, &v, 0) != MDB_SUCCESS)
			abort();
	}
	if (idn_txn_commit(t) != IDN_OK)
		abort();
}

/* What the HTTP API does with a record: each value to JSON. */
static void render(const idn_record_t *rec)
{
	idn_wire_t in;
	idn_wire_init_ro(&in, rec->values.p, rec->values.len);
	for (uint32_t i = 0; i < rec->count; i++) {
		idn_value_t v;
		if (idn_value_decode(&in, &v) != IDN_OK)
			break;
		json_t *j = idn_value_to_json(&v);
		char *s = json_dumps(j, 0);
		free(s);
		json_decref(j);
	}
}

static void resolve(idn_query_t *q, idn_reader_t *rd)
{
	if (idn_reader_begin(rd) != IDN_OK)
		abort();
	idn_record_t rec;
	/* Twice: the cached reader answers the second from its cache. */
	for (int k = 0; k < 2; k++)
		if (idn_reader_get(rd, (const uint8_t *)keys[0], strlen(keys[0]), &rec) == IDN_OK) {
			if (rec.count > IDN_MAX_VALUES)
				abort();
			render(&rec);
		}
	for (int i = 0; i < N_REQ; i++) {
		int st = idn_query_consume(q, reqs[i], req_len[i]);
		while (st == IDN_Q_PRODUCE) {
			idn_wire_t w;
			idn_wire_init(&w, out, sizeof(out));
			st = idn_query_produce(q, &w);
			if (w.err)
				abort();
			/* Whatever the store held, the answer is one message
			 * (or one packet of a multi-packet UDP answer). */
			idn_envelope_t env;
			idn_msg_t m;
			size_t n = idn_wire_offset(&w);
			if (n && (idn_envelope_decode(out, n, &env) != IDN_OK ||
				  (!(env.flags & IDN_ENV_TC) && idn_msg_decode(out, n, &m) != IDN_OK)))
				abort();
		}
	}
	idn_reader_end(rd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!store)
		init();
	if (size > IDN_MAX_MESSAGE_LEN)
		return 0;
	store_raw(data, size);
	resolve(&qp, plain);
	resolve(&qc, cached);
	return 0;
}
