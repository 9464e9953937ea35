/* fuzz_msg.c - libFuzzer target: message decoding, the bodies a server and a client read (by opcode), and re-encoding. */
#include <stdlib.h>
#include <string.h>

#include "proto/msg.h"

/* A decoded message with an empty credential re-encodes to the same bytes
 * (the envelope and header bits the codec drops aside). */
static void roundtrip(const idn_msg_t *m, const uint8_t *data, size_t size)
{
	if (m->cred.len || (data[2] & 0x1c) || data[IDN_ENVELOPE_LEN + 15])
		return;
	uint8_t *out = malloc(size);
	idn_wire_t w;
	idn_wire_init(&w, out, size);
	size_t st = idn_msg_begin(&w, &m->env, &m->hdr);
	idn_wire_put_raw(&w, m->body.p, m->body.len);
	if (idn_msg_end(&w, st, m->has_cred) || idn_wire_offset(&w) != size ||
	    memcmp(out, data, size) != 0)
		abort();
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	idn_envelope_t env;
	idn_msg_t m;
	idn_bytes_t peek;
	if (idn_msg_peek_resolve_handle(data, size, &peek) &&
	    (peek.p < data || peek.p + peek.len > data + size))
		abort();
	/* As a TCP reader: envelope first, then the rest as the message. */
	if (idn_envelope_decode(data, size, &env) == IDN_OK)
		idn_msg_decode_message(&env, data + IDN_ENVELOPE_LEN, size - IDN_ENVELOPE_LEN, &m);
	if (idn_msg_decode(data, size, &m) != IDN_OK)
		return 0;
	roundtrip(&m, data, size);
	const uint8_t *b = m.body.p;
	size_t n = m.body.len, skip = 0;
	idn_bytes_t h;
	if (m.hdr.rcode == 0 && m.hdr.opcode == IDN_OC_RESOLUTION) {
		idn_resolve_req_t r;
		if (idn_resolve_req_decode(b, n, &r) == IDN_OK) {
			/* Accepted requests re-encode exactly. */
			uint8_t *out = malloc(n + 1);
			idn_wire_t w;
			idn_wire_init(&w, out, n);
			idn_resolve_req_encode(&w, &r);
			if (w.err || idn_wire_offset(&w) != n || memcmp(out, b, n) != 0)
				abort();
			free(out);
		}
	} else if (m.hdr.rcode == 0) {
		idn_handle_body_decode(b, n, &h);
	} else {
		uint8_t alg;
		if ((m.hdr.opflag & IDN_OF_RD) && idn_digest_decode(b, n, &alg, &h, &skip) == IDN_OK &&
		    (skip > n || h.len > skip))
			abort();
		idn_error_body_decode(b + skip, n - skip, &h);
	}
	return 0;
}
