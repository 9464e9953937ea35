/* fuzz_msg.c - libFuzzer target: message decoding and the bodies a server reads. */
#include "proto/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	idn_msg_t m;
	idn_envelope_t env;
	idn_envelope_decode(data, size, &env);
	if (idn_msg_decode(data, size, &m) != IDN_OK)
		return 0;
	idn_resolve_req_t r;
	idn_bytes_t h;
	uint8_t alg;
	size_t skip;
	idn_resolve_req_decode(m.body.p, m.body.len, &r);
	idn_handle_body_decode(m.body.p, m.body.len, &h);
	idn_error_body_decode(m.body.p, m.body.len, &h);
	idn_digest_decode(m.body.p, m.body.len, &alg, &h, &skip);
	return 0;
}
