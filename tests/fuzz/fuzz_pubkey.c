/* fuzz_pubkey.c - libFuzzer target: HS_PUBKEY blobs (CNRI binary, SM2_PUB_KEY, PEM text). */
#include "proto/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	idn_pubkey_t k;
	idn_pubkey_decode(data, size, &k);
	return 0;
}
