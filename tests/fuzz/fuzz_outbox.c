/* fuzz_outbox.c - libFuzzer target: decoding a stored outbox entry, re-encoding it, and the request body it carries. */
#include <stdlib.h>
#include <string.h>

#include "proto/admin.h"
#include "storage/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	idn_outbox_entry_t e;
	if (idn_outbox_decode(data, size, &e) != IDN_OK)
		return 0;
	/* An accepted entry re-encodes to exactly the same bytes. */
	size_t n = idn_outbox_size(&e);
	if (n != size)
		abort();
	uint8_t *out = malloc(n);
	idn_outbox_encode(&e, out);
	if (memcmp(out, data, n) != 0)
		abort();
	free(out);
	/* The body goes on the wire as the sender finds it: decode it the way
	 * the top-level node will. */
	idn_bytes_t h;
	idn_values_req_t vr;
	if (e.opcode == 101)
		(void)idn_handle_body_decode(e.body.p, e.body.len, &h);
	else if (idn_values_req_decode(e.body.p, e.body.len, &vr) == IDN_OK) {
		idn_wire_t w;
		idn_wire_init_ro(&w, vr.values.p, vr.values.len);
		for (uint32_t i = 0; i < vr.n_values; i++) {
			idn_value_t v;
			if (idn_value_decode(&w, &v) != IDN_OK)
				break;
		}
	}
	return 0;
}
