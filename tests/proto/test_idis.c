/* test_idis.c - IDIS SDK captures: each line decodes as its comment says, re-encodes exactly, and shows what the README says. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/proto/capture_check.h"

/* ------------------------------------------------------------------ */
/* vectors/idis: the decode in each line's comment.                    */

static void idis_msg_hook(const tu_line_t *l, int k, const idn_msg_t *m, const void *ctx)
{
	/* "conn 1 C> env v2.10 envflags=0x00 suggest=2.11 sess=10001 req=2 msgid=0
	 *  msglen=33 | OC=2 RC=0 opflags=0x19000000 siteSerial=65535 recursion=0
	 *  bodylen=5 after-body=4B" */
	unsigned conn, ma, mi, fl, sma, smi, sess, mid, mlen, op, rc, of, serial, rec, blen, after;
	int req;
	char dir;
	if (!l->note)
		fail_msg("line %d has no decode comment", k);
	int got = sscanf(l->note, "conn %u %c> env v%u.%u envflags=0x%x suggest=%u.%u sess=%u req=%d "
			 "msgid=%u msglen=%u | OC=%u RC=%u opflags=0x%x siteSerial=%u "
			 "recursion=%u bodylen=%u after-body=%uB",
			 &conn, &dir, &ma, &mi, &fl, &sma, &smi, &sess, &req, &mid, &mlen, &op, &rc,
			 &of, &serial, &rec, &blen, &after);
	if (got != 18)
		fail_msg("line %d: unparsed comment (%d fields): %s", k, got, l->note);
	assert_int_equal(dir, l->dir);
	assert_int_equal(m->env.major, ma);
	assert_int_equal(m->env.minor, mi);
	assert_int_equal(m->env.flags, fl);
	assert_int_equal(m->env.sugg_major, sma);
	assert_int_equal(m->env.sugg_minor, smi);
	assert_int_equal(m->env.session_id, sess);
	assert_int_equal(m->env.request_id, (uint32_t)req);
	assert_int_equal(m->env.message_id, mid);
	assert_int_equal(m->env.message_len, mlen);
	assert_int_equal(m->hdr.opcode, op);
	assert_int_equal(m->hdr.rcode, rc);
	assert_int_equal(m->hdr.opflag, of);
	assert_int_equal(m->hdr.site_serial, serial);
	assert_int_equal(m->hdr.recursion, rec);
	assert_int_equal(m->hdr.body_len, blen);
	/* after-body=0B: no credential field at all; 4B: an empty one. */
	assert_true(after == 0 || after == 4);
	assert_int_equal(m->has_cred, after == 4);
	assert_int_equal(m->cred.len, 0);
	/* The IDIS SDK always appends the (empty) auth token to OC 1. */
	if (l->dir == 'C' && op == IDN_OC_RESOLUTION) {
		idn_resolve_req_t r;
		assert_int_equal(idn_resolve_req_decode(m->body.p, m->body.len, &r), IDN_OK);
		assert_true(r.has_token);
		assert_int_equal(r.token.len, 0);
	}
	/* Its requests are all 2.10 suggesting 2.11. */
	if (l->dir == 'C') {
		assert_int_equal(ma * 100 + mi, 210);
		assert_int_equal(sma * 100 + smi, 211);
	}
	stats.notes++;
}

static void test_idis_captures(void **s)
{
	char names[64][256];
	int n = list_hex("vectors/idis", names, 64);
	assert_true(n >= 21);
	memset(&stats, 0, sizeof(stats));
	for (int i = 0; i < n; i++) {
		char rel[320];
		snprintf(rel, sizeof(rel), "vectors/idis/%.255s", names[i]);
		walk_file(rel, idis_msg_hook, NULL, NULL);
	}
	print_message("%d files, %d messages (all with decode comments), %d values checked\n", n,
		      stats.messages, stats.values);
	assert_int_equal(stats.notes, stats.messages);
	assert_true(stats.messages >= 40);
}

/* Facts from vectors/idis/README.md, one file at a time. */
static void load_msg(const char *rel, int line, tu_line_t **l, int *n, idn_msg_t *m)
{
	*n = tu_load_capture(rel, l);
	assert_true(*n >= line);
	assert_int_equal(idn_msg_decode((*l)[line - 1].bytes, (*l)[line - 1].len, m), IDN_OK);
}

static void values_of(const idn_msg_t *m, idn_bytes_t *handle, idn_value_t *v, uint32_t *n)
{
	idn_wire_t in;
	idn_wire_init_ro(&in, m->body.p, m->body.len);
	*handle = idn_wire_get_bstr(&in, IDN_MAX_HANDLE_LEN);
	*n = idn_wire_get_u32(&in);
	assert_true(*n <= 16);
	for (uint32_t i = 0; i < *n; i++)
		assert_int_equal(idn_value_decode(&in, &v[i]), IDN_OK);
	assert_int_equal(idn_wire_avail(&in), 0);
}

static void test_idis_facts(void **s)
{
	tu_line_t *l;
	int n;
	idn_msg_t m;
	idn_value_t v[16];
	idn_bytes_t h;
	uint32_t nv;

	/* 01: one OC 1, sess 0, req 1; RC 1 with 6 values. */
	load_msg("vectors/idis/01-resolve-ok.hex", 1, &l, &n, &m);
	assert_int_equal(m.env.session_id, 0);
	assert_int_equal(m.env.request_id, 1);
	idn_resolve_req_t r;
	assert_int_equal(idn_resolve_req_decode(m.body.p, m.body.len, &r), IDN_OK);
	expect_str(r.handle, "TEST/peer-1", "handle");
	assert_int_equal(idn_msg_decode(l[1].bytes, l[1].len, &m), IDN_OK);
	values_of(&m, &h, v, &nv);
	assert_int_equal(nv, 6);
	tu_lines_free(l, n);

	/* 03: types [URL], indexes [2]; CNRI returns the union, indexes 1 and 2. */
	load_msg("vectors/idis/03-resolve-filter-repeat.hex", 1, &l, &n, &m);
	assert_int_equal(idn_resolve_req_decode(m.body.p, m.body.len, &r), IDN_OK);
	assert_int_equal(r.n_index, 1);
	assert_int_equal(r.index[0], 2);
	assert_int_equal(r.n_type, 1);
	expect_str(r.type[0], "URL", "type filter");
	assert_int_equal(idn_msg_decode(l[1].bytes, l[1].len, &m), IDN_OK);
	values_of(&m, &h, v, &nv);
	assert_int_equal(nv, 2);
	assert_int_equal(v[0].index + v[1].index, 3);
	assert_int_equal(idn_msg_decode(l[2].bytes, l[2].len, &m), IDN_OK);
	assert_int_equal(m.env.request_id, 2);
	tu_lines_free(l, n);

	/* 05: the bare prefix with type filter HS_SITE, echoed as "TEST". */
	load_msg("vectors/idis/05-resolve-global-prefix-lookup.hex", 1, &l, &n, &m);
	assert_int_equal(idn_resolve_req_decode(m.body.p, m.body.len, &r), IDN_OK);
	expect_str(r.handle, "TEST", "bare prefix");
	expect_str(r.type[0], "HS_SITE", "type filter");
	assert_int_equal(idn_msg_decode(l[1].bytes, l[1].len, &m), IDN_OK);
	values_of(&m, &h, v, &nv);
	expect_str(h, "TEST", "echoed handle");
	assert_true(nv >= 1);
	expect_str(v[0].type, "HS_SITE", "value type");
	tu_lines_free(l, n);

	/* 07: CNRI cannot decode OC 2001: RC 2, version 2.3, req -1, OC 0. */
	load_msg("vectors/idis/07-raw-oc2001-cnri.hex", 2, &l, &n, &m);
	assert_int_equal(m.hdr.opcode, 0);
	assert_int_equal(m.hdr.rcode, IDN_RC_ERROR);
	assert_int_equal(m.env.request_id, 0xffffffffu);
	assert_int_equal(m.env.major * 100 + m.env.minor, 203);
	idn_bytes_t msg;
	assert_int_equal(idn_error_body_decode(m.body.p, m.body.len, &msg), IDN_OK);
	expect_str(msg, "Server error processing request, see server logs", "message");
	assert_int_equal(idn_msg_decode(l[0].bytes, l[0].len, &m), IDN_OK);
	assert_int_equal(m.hdr.opcode, IDN_OC_LOGIN_ID_SYSTEM);
	assert_false(m.has_cred);
	tu_lines_free(l, n);

	/* m01: the HS_PUBKEY value is PEM text. */
	load_msg("vectors/idis/m01-resolve-mock.hex", 2, &l, &n, &m);
	values_of(&m, &h, v, &nv);
	int pem = 0;
	for (uint32_t i = 0; i < nv; i++) {
		if (!idn_type_is(v[i].type, "HS_PUBKEY"))
			continue;
		idn_pubkey_t k;
		assert_int_equal(idn_pubkey_decode(v[i].data.p, v[i].data.len, &k), IDN_OK);
		assert_int_equal(k.kind, IDN_KEY_PEM);
		assert_true(k.pem.len == v[i].data.len);
		pem++;
	}
	assert_int_equal(pem, 1);
	tu_lines_free(l, n);

	/* m02: OC 2001 = handle + index, no credential; the 402 digest covers it;
	 * the OC 200 answer carries HS_PUBKEY + SHA-256 signature. */
	load_msg("vectors/idis/m02-login-rsa-create-mock.hex", 3, &l, &n, &m);
	assert_int_equal(m.hdr.opcode, IDN_OC_LOGIN_ID_SYSTEM);
	assert_int_equal(m.hdr.opflag, IDN_OF_REC | IDN_OF_RD);
	assert_int_equal(m.env.message_len, IDN_HEADER_LEN + m.hdr.body_len);
	idn_wire_t in;
	idn_wire_init_ro(&in, m.body.p, m.body.len);
	expect_str(idn_wire_get_bstr(&in, 64), "88.888.1/rsauser", "identity");
	assert_int_equal(idn_wire_get_u32(&in), 300);
	assert_int_equal(idn_wire_avail(&in), 0);
	uint8_t d[IDN_DIGEST_MAX];
	size_t dl;
	assert_int_equal(idn_digest(IDN_DIGEST_SHA256, m.hb.p, m.hb.len, d, &dl), IDN_OK);
	idn_msg_t c;
	assert_int_equal(idn_msg_decode(l[3].bytes, l[3].len, &c), IDN_OK);
	assert_int_equal(c.hdr.rcode, IDN_RC_AUTHENTICATION_NEEDED);
	uint8_t alg;
	idn_bytes_t dg;
	size_t skip;
	assert_int_equal(idn_digest_decode(c.body.p, c.body.len, &alg, &dg, &skip), IDN_OK);
	assert_int_equal(alg, IDN_DIGEST_SHA256);
	assert_memory_equal(dg.p, d, 32);
	assert_int_equal(idn_msg_decode(l[4].bytes, l[4].len, &m), IDN_OK);
	assert_int_equal(m.hdr.opcode, IDN_OC_RESPONSE_TO_CHALLENGE);
	idn_wire_init_ro(&in, m.body.p, m.body.len);
	expect_str(idn_wire_get_bstr(&in, 64), "HS_PUBKEY", "auth type");
	expect_str(idn_wire_get_bstr(&in, 64), "88.888.1/rsauser", "key handle");
	assert_int_equal(idn_wire_get_u32(&in), 300);
	idn_bytes_t blob = idn_wire_get_bstr(&in, 4096);
	assert_int_equal(idn_wire_avail(&in), 0);
	idn_wire_init_ro(&in, blob.p, blob.len);
	expect_str(idn_wire_get_bstr(&in, 64), "SHA-256", "hash");
	assert_int_equal(idn_wire_get_bstr(&in, 4096).len, 256);
	assert_int_equal(idn_wire_avail(&in), 0);
	/* The final OC 100 goes out with req 1, sess 10001, no credential bytes. */
	assert_int_equal(idn_msg_decode(l[6].bytes, l[6].len, &m), IDN_OK);
	assert_int_equal(m.hdr.opcode, IDN_OC_CREATE_HANDLE);
	assert_int_equal(m.env.request_id, 1);
	assert_int_equal(m.env.session_id, 10001);
	tu_lines_free(l, n);

	/* m03: the SM2 answer is ByteString "SM3" + DER signature (70-72 bytes). */
	load_msg("vectors/idis/m03-login-sm2-create-mock.hex", 5, &l, &n, &m);
	assert_int_equal(m.hdr.opcode, IDN_OC_RESPONSE_TO_CHALLENGE);
	idn_wire_init_ro(&in, m.body.p, m.body.len);
	expect_str(idn_wire_get_bstr(&in, 64), "HS_PUBKEY", "auth type");
	idn_wire_get_bstr(&in, 64);
	idn_wire_get_u32(&in);
	blob = idn_wire_get_bstr(&in, 4096);
	idn_wire_init_ro(&in, blob.p, blob.len);
	expect_str(idn_wire_get_bstr(&in, 64), "SM3", "hash");
	idn_bytes_t sig = idn_wire_get_bstr(&in, 4096);
	assert_true(sig.len >= 70 && sig.len <= 72 && sig.p[0] == 0x30);
	tu_lines_free(l, n);

	/* m12: the challenge carries sess 77, and the answer uses it. */
	load_msg("vectors/idis/m12-challenge-session-id-mock.hex", 4, &l, &n, &m);
	assert_int_equal(m.hdr.rcode, IDN_RC_AUTHENTICATION_NEEDED);
	assert_int_equal(m.env.session_id, 77);
	assert_int_equal(idn_msg_decode(l[4].bytes, l[4].len, &m), IDN_OK);
	assert_int_equal(m.hdr.opcode, IDN_OC_RESPONSE_TO_CHALLENGE);
	assert_int_equal(m.env.session_id, 77);
	tu_lines_free(l, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idis_captures),
		cmocka_unit_test(test_idis_facts),
	};
	return cmocka_run_group_tests_name("proto/idis", tests, NULL, NULL);
}
