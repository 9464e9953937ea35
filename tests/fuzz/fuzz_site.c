/* fuzz_site.c - libFuzzer target: HS_SITE records, decoded and re-encoded byte for byte. */
#include <stdlib.h>
#include <string.h>

#include "proto/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	idn_site_t *s = malloc(sizeof(*s));
	if (idn_site_decode(data, size, s) == IDN_OK) {
		uint8_t *out = malloc(size + 16);
		idn_wire_t w;
		idn_wire_init(&w, out, size + 16);
		idn_site_encode(&w, s);
		if (w.err || idn_wire_offset(&w) != size || memcmp(out, data, size) != 0)
			abort();
		for (uint32_t i = 0; i < s->n_servers; i++) {
			idn_pubkey_t k;
			idn_pubkey_decode(s->servers[i].pubkey.p, s->servers[i].pubkey.len, &k);
		}
		idn_site_server_index(s->hash_option, s->n_servers, data, size);
		free(out);
	}
	free(s);
	return 0;
}
