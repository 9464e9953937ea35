/* fuzz_cred.c - libFuzzer target: credential section decoding (bare, and inside a whole message), byte-exact re-encoding and the signed-data layout. */
#include <stdlib.h>
#include <string.h>

#include "proto/cred.h"
#include "proto/msg.h"

/* Every accepted credential re-encodes to exactly its bytes, and its fields
 * lie inside the input. */
static void check(const uint8_t *data, size_t size)
{
	idn_cred_t c;
	if (idn_cred_decode(data, size, &c) != IDN_OK)
		return;
	const idn_bytes_t *f[] = { &c.signer, &c.type, &c.digest_alg, &c.signature };
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (f[i]->len && (f[i]->p < data || f[i]->p + f[i]->len > data + size))
			abort();
	uint8_t *out = malloc(size + 1);
	idn_wire_t w;
	idn_wire_init(&w, out, size);
	idn_cred_encode(&w, &c);
	if (w.err || idn_wire_offset(&w) != size || memcmp(out, data, size) != 0)
		abort();
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check(data, size);
	/* As the credential of a whole message, with the data it covers. */
	idn_msg_t m;
	if (idn_msg_decode(data, size, &m) != IDN_OK || m.cred.len == 0)
		return 0;
	check(m.cred.p, m.cred.len);
	uint8_t pre[IDN_CRED_PRE_MAX];
	idn_piece_t d[2];
	size_t n = idn_cred_signed_data(&m.env, 0, m.hb.p, m.hb.len, pre, d);
	if (n < 1 || n > 2 || d[n - 1].p != m.hb.p || d[n - 1].len != m.hb.len ||
	    (n == 2 && d[0].len != 14 && d[0].len != 16))
		abort();
	return 0;
}
