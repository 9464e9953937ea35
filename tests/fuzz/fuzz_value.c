/* fuzz_value.c - libFuzzer target: a run of handle values (as in answers and stored records), re-encoded. */
#include <stdlib.h>
#include <string.h>

#include "proto/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	idn_wire_t in;
	idn_wire_init_ro(&in, data, size);
	uint8_t *out = malloc(size + 64);
	for (int i = 0; i < IDN_MAX_VALUES && idn_wire_avail(&in) > 0; i++) {
		const uint8_t *start = in.pos;
		idn_value_t v;
		if (idn_value_decode(&in, &v) != IDN_OK)
			break;
		/* Re-encoding reproduces the bytes exactly. */
		idn_wire_t w;
		idn_wire_init(&w, out, size + 64);
		idn_value_encode(&w, &v);
		if (w.err || idn_wire_offset(&w) != (size_t)(in.pos - start) ||
		    memcmp(out, start, idn_wire_offset(&w)) != 0 ||
		    idn_value_size(&v) != idn_wire_offset(&w))
			abort();
		size_t pos = 0;
		idn_bytes_t h;
		uint32_t idx, n = 0;
		while (idn_value_ref_next(&v, &pos, &h, &idx))
			n++;
		if (n != v.n_refs)
			abort();
		/* A (non-empty) type always matches itself as a query. */
		if (v.type.len && !idn_type_matches(v.type, v.type))
			abort();
		idn_type_matches(v.type, v.data);
		idn_type_is(v.type, "HS_ADMIN");
	}
	free(out);
	return 0;
}
