/* fuzz_json_value.c - libFuzzer target: JSON-lines records to wire values and back to JSON. */
#include <stdlib.h>

#include "proto/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[1 << 20];
	idn_wire_t w;
	idn_wire_init(&w, out, sizeof(out));
	idn_json_record_t rec;
	char err[256];
	if (idn_record_from_json_line((const char *)data, size, 1700000000, &w, &rec, err,
				      sizeof(err)) != IDN_OK)
		return 0;
	/* What was accepted decodes, and prints back as JSON. */
	idn_wire_t in;
	idn_wire_init_ro(&in, out, idn_wire_offset(&w));
	for (uint32_t i = 0; i < rec.n_values; i++) {
		idn_value_t v;
		if (idn_value_decode(&in, &v) != IDN_OK)
			abort();
		json_t *j = idn_value_to_json(&v);
		char *s = json_dumps(j, 0);
		free(s);
		json_decref(j);
	}
	if (idn_wire_avail(&in) != 0)
		abort();
	json_decref(rec.doc);
	return 0;
}
