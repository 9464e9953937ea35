/* fuzz_changelog.c - libFuzzer target: decoding a stored change-log entry, re-encoding it, and the record it carries. */
#include <stdlib.h>
#include <string.h>

#include "proto/record.h"
#include "storage/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	idn_change_t c;
	if (idn_change_decode(data, size, &c) != IDN_OK)
		return 0;
	/* An accepted entry re-encodes to exactly the same bytes. */
	size_t n = idn_change_size(&c);
	if (n != size)
		abort();
	uint8_t *out = malloc(n);
	idn_change_encode(&c, out);
	if (memcmp(out, data, n) != 0)
		abort();
	free(out);
	/* The data is a stored record (format, flags, count, values): walk
	 * its values the way a mirror applying the entry would. */
	if (c.data.len >= 6 && c.data.p[0] == 0x01) {
		uint32_t count = idn_get_be32(c.data.p + 2);
		idn_wire_t w;
		idn_wire_init_ro(&w, c.data.p + 6, c.data.len - 6);
		for (uint32_t i = 0; i < count && i < IDN_MAX_VALUES; i++) {
			idn_value_t v;
			if (idn_value_decode(&w, &v) != IDN_OK)
				break;
		}
	}
	return 0;
}
