/* fuzz_admin_vlist.c - libFuzzer target: HS_ADMIN and HS_VLIST records. */
#include "proto/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	idn_admin_t a;
	idn_admin_decode(data, size, &a);
	idn_vlist_t v;
	if (idn_vlist_decode(data, size, &v) == IDN_OK) {
		size_t pos = 0;
		idn_bytes_t h;
		uint32_t idx, n = 0;
		while (idn_vlist_next(&v, &pos, &h, &idx))
			n++;
		if (n != v.count)
			__builtin_trap();
	}
	return 0;
}
