/* fuzz_query.c - libFuzzer target: any bytes through query consume/produce over a small store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/record.h"
#include "resolver/query.h"

static idn_store_t *store;
static idn_reader_t *reader;
static idn_server_info_t info;
static idn_query_t q;
static uint8_t out[IDN_ENVELOPE_LEN + IDN_MAX_MESSAGE_LEN + 4096];

static void put(idn_txn_t *t, const char *handle, uint32_t index, const char *type,
		const char *data, uint8_t perms)
{
	uint8_t buf[512];
	idn_wire_t w;
	idn_wire_init(&w, buf, sizeof(buf));
	idn_value_t v = { .index = index, .ttl = 86400, .perms = perms,
			  .type = { (const uint8_t *)type, (uint32_t)strlen(type) },
			  .data = { (const uint8_t *)data, (uint32_t)strlen(data) } };
	idn_value_encode(&w, &v);
	idn_txn_put(t, (const uint8_t *)handle, strlen(handle), buf, idn_wire_offset(&w), 1);
}

static void init(void)
{
	char dir[] = "/tmp/idn-fuzz-query-XXXXXX";
	if (!mkdtemp(dir) || idn_store_open(dir, NULL, &store) != IDN_OK)
		abort();
	idn_txn_t *t;
	if (idn_txn_begin(store, &t) != IDN_OK)
		abort();
	put(t, "88.100/A", 1, "URL", "https://example.com/", 0x0e);
	put(t, "88.100/B", 2, "SECRET", "x", 0x0c);
	put(t, "0.NA/88.100", 1, "HS_SITE", "", 0x0e);
	idn_txn_home(t, (const uint8_t *)"0.NA/88.100", 11);
	if (idn_txn_commit(t) != IDN_OK || idn_reader_new(store, &reader) != IDN_OK)
		abort();
	static const uint8_t site[] = { 0, 1, 2, 11, 0, 1, 0x80, 2, 0, 0, 0, 0, 0, 0, 0, 0,
					0, 0, 0, 0 };
	info.site = site;
	info.site_len = sizeof(site);
	info.site_serial = 1;
	info.primary = true;
	idn_query_init(&q, reader, &info, IDN_TR_UDP);
	/* The store stays for the process; its files go now (LMDB keeps them open). */
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!store)
		init();
	/* The first byte picks the transport; the rest is the message. */
	if (size < 1)
		return 0;
	q.transport = data[0] & 1 ? IDN_TR_TCP : IDN_TR_UDP;
	if (idn_reader_begin(reader) != IDN_OK)
		abort();
	int st = idn_query_consume(&q, data + 1, size - 1);
	while (st == IDN_Q_PRODUCE) {
		idn_wire_t w;
		idn_wire_init(&w, out, sizeof(out));
		st = idn_query_produce(&q, &w);
		if (w.err)
			abort(); /* the scratch buffer always fits any answer */
	}
	idn_reader_end(reader);
	return 0;
}
