/* fuzz_admin_vlist.c - libFuzzer target: HS_ADMIN and HS_VLIST records, decoded and re-encoded. */
#include <stdlib.h>
#include <string.h>

#include "proto/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out[4096];
	idn_wire_t w;
	idn_admin_t a;
	if (idn_admin_decode(data, size, &a) == IDN_OK) {
		/* The current form re-encodes exactly; the legacy one loses 2 bytes. */
		idn_wire_init(&w, out, sizeof(out));
		idn_admin_encode(&w, &a);
		size_t n = idn_wire_offset(&w);
		if (w.err || (n != size && n + 2 != size) || memcmp(out, data, n) != 0)
			abort();
	}
	idn_vlist_t v;
	if (idn_vlist_decode(data, size, &v) == IDN_OK) {
		static idn_bytes_t h[1024];
		static uint32_t idx[1024];
		size_t pos = 0;
		uint32_t n = 0;
		while (n < 1024 && idn_vlist_next(&v, &pos, &h[n], &idx[n]))
			n++;
		if (v.count <= 1024 && n != v.count)
			abort();
		if (v.count <= 1024 && size <= sizeof(out)) {
			idn_wire_init(&w, out, sizeof(out));
			idn_vlist_encode(&w, n, h, idx);
			if (w.err || idn_wire_offset(&w) != size || memcmp(out, data, size) != 0)
				abort();
		}
	}
	return 0;
}
