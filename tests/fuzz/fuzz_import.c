/* fuzz_import.c - libFuzzer target: `idnode import` input (JSON lines and CSV records, value specs) to wire values. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/reader.h"
#include "proto/msg.h"
#include "proto/record.h"

/* Every record the reader accepts carries exactly its n values. */
static void check_record(const idn_record_t *rec)
{
	if (rec->handle_len == 0 || rec->first_line > rec->last_line)
		abort();
	idn_wire_t w;
	idn_wire_init_ro(&w, rec->values.p, rec->values.len);
	for (uint32_t i = 0; i < rec->n_values; i++) {
		idn_value_t v;
		if (idn_value_decode(&w, &v) != IDN_OK)
			abort();
	}
	if (idn_wire_avail(&w) != 0)
		abort();
	char err[256];
	idn_values_check_indexes(rec->values, rec->n_values, err, sizeof(err));
}

/* The whole input as a file in one format: read records to the end. Bad
 * records are skipped (the reader goes on after them), as import does. */
static void read_all(const uint8_t *data, size_t size, int format)
{
	FILE *f = fmemopen((void *)data, size, "r");
	if (!f)
		return;
	idn_reader_t *r;
	if (idn_reader_open(f, "fuzz", format, 1700000000, &r) != IDN_OK) {
		fclose(f);
		return;
	}
	idn_record_t rec;
	char err[512];
	for (int i = 0; i < 100000; i++) {
		int st = idn_reader_next(r, &rec, err, sizeof(err));
		if (st == 1)
			check_record(&rec);
		else if (st != IDN_EINVAL)
			break;
	}
	if (idn_reader_bytes(r) > size)
		abort();
	idn_reader_close(r);
	fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The first byte picks the format; fmemopen needs a non-empty buffer. */
	if (size < 2)
		return 0;
	read_all(data + 1, size - 1, data[0] & 1 ? IDN_INPUT_CSV : IDN_INPUT_JSONL);
	/* As a --value=INDEX:TYPE:DATA spec (a C string). */
	char *spec = malloc(size);
	memcpy(spec, data + 1, size - 1);
	spec[size - 1] = 0;
	static uint8_t out[IDN_MAX_MESSAGE_LEN];
	idn_wire_t w;
	idn_wire_init(&w, out, sizeof(out));
	char err[512];
	if (idn_value_spec_encode(spec, 1700000000, &w, err, sizeof(err)) == IDN_OK) {
		idn_wire_t in;
		idn_value_t v;
		idn_wire_init_ro(&in, out, idn_wire_offset(&w));
		if (idn_value_decode(&in, &v) != IDN_OK || idn_wire_avail(&in) != 0)
			abort();
	}
	free(spec);
	return 0;
}
