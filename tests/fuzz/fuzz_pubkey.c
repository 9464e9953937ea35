/* fuzz_pubkey.c - libFuzzer target: HS_PUBKEY blobs (CNRI binary, SM2/SM9, PEM text); RSA keys re-encoded. */
#include <stdlib.h>
#include <string.h>

#include "proto/record.h"

/* The same unsigned magnitude, leading zeros aside. */
static int same_magnitude(idn_bytes_t a, idn_bytes_t b)
{
	while (a.len && !a.p[0])
		a.p++, a.len--;
	while (b.len && !b.p[0])
		b.p++, b.len--;
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	idn_pubkey_t k, k2;
	if (idn_pubkey_decode(data, size, &k) != IDN_OK || k.kind != IDN_KEY_RSA)
		return 0;
	size_t cap = 32 + k.rsa_e.len + k.rsa_n.len;
	uint8_t *out = malloc(cap);
	idn_wire_t w;
	idn_wire_init(&w, out, cap);
	idn_pubkey_encode_rsa(&w, k.rsa_e, k.rsa_n);
	if (w.err || idn_pubkey_decode(out, idn_wire_offset(&w), &k2) != IDN_OK ||
	    k2.kind != IDN_KEY_RSA || !same_magnitude(k.rsa_e, k2.rsa_e) ||
	    !same_magnitude(k.rsa_n, k2.rsa_n))
		abort();
	free(out);
	return 0;
}
