/* fuzz_pubkey.c - libFuzzer target: HS_PUBKEY blobs (CNRI binary, SM2/SM9, PEM text); RSA keys re-encoded; SM2 and PEM keys through OpenSSL, SM2 keys re-encoded. */
#include <stdlib.h>
#include <string.h>

#include "proto/pkey.h"
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

static void check_rsa(const idn_pubkey_t *k)
{
	idn_pubkey_t k2;
	size_t cap = 32 + k->rsa_e.len + k->rsa_n.len;
	uint8_t *out = malloc(cap);
	idn_wire_t w;
	idn_wire_init(&w, out, cap);
	idn_pubkey_encode_rsa(&w, k->rsa_e, k->rsa_n);
	if (w.err || idn_pubkey_decode(out, idn_wire_offset(&w), &k2) != IDN_OK ||
	    k2.kind != IDN_KEY_RSA || !same_magnitude(k->rsa_e, k2.rsa_e) ||
	    !same_magnitude(k->rsa_n, k2.rsa_n))
		abort();
	free(out);
}

/*
 * SM2_PUB_KEY payloads (PEM or DER) and PEM values go to OpenSSL's
 * decoders. A key that parses as SM2 re-encodes as the SDK's blob, which
 * must parse back to the very same blob.
 */
static void check_openssl(const uint8_t *data, size_t size)
{
	idn_pkey_t *k = NULL, *k2 = NULL;
	if (idn_pkey_from_hs_pubkey(data, size, &k) != IDN_OK)
		return;
	if (idn_pkey_kind(k) == IDN_KEY_SM2) {
		uint8_t a[1024], b[1024];
		idn_wire_t wa, wb;
		idn_wire_init(&wa, a, sizeof(a));
		idn_wire_init(&wb, b, sizeof(b));
		if (idn_pkey_hs_pubkey(k, &wa) != IDN_OK ||
		    idn_pkey_from_hs_pubkey(a, idn_wire_offset(&wa), &k2) != IDN_OK ||
		    idn_pkey_kind(k2) != IDN_KEY_SM2 || idn_pkey_hs_pubkey(k2, &wb) != IDN_OK ||
		    idn_wire_offset(&wa) != idn_wire_offset(&wb) ||
		    memcmp(a, b, idn_wire_offset(&wa)) != 0)
			abort();
	}
	idn_pkey_free(k2);
	idn_pkey_free(k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	idn_pubkey_t k;
	if (idn_pubkey_decode(data, size, &k) != IDN_OK)
		return 0;
	if (k.kind == IDN_KEY_RSA)
		check_rsa(&k);
	else if (k.kind == IDN_KEY_SM2 || k.kind == IDN_KEY_PEM)
		check_openssl(data, size);
	return 0;
}
