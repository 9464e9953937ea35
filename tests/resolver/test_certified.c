/* test_certified.c - certified (CT) requests through the query step: signed answers equal CNRI's and verify with the site key; requests without CT are answered exactly as before. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "proto/cred.h"
#include "proto/msg.h"
#include "proto/pkey.h"
#include "proto/record.h"
#include "resolver/query.h"
#include "storage/store.h"
#include "tests/util/testutil.h"

typedef struct {
	char dir[64];
	idn_store_t *store;
	idn_reader_t *reader;
	idn_server_info_t info;
	uint8_t site[1024];
	idn_site_t si;            /* the decoded site record: its key checks signatures */
	idn_pkey_t *key;          /* the server key of the captures (vectors/README.md) */
	idn_query_t q;
	uint8_t out[IDN_ENVELOPE_LEN + IDN_MAX_MESSAGE_LEN];
	size_t out_len;
	tu_line_t *cap;           /* resolve-tcp-certified.hex */
	int ncap;
} fixture_t;

/* The PEM private key after "### Server (site) key" in vectors/README.md,
 * written to `path`. */
static int server_key_file(const char *path)
{
	char rp[512];
	snprintf(rp, sizeof(rp), "%s/vectors/README.md", tu_shared_dir());
	FILE *f = fopen(rp, "rb");
	if (!f)
		return -1;
	static char text[1 << 17];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = 0;
	char *p = strstr(text, "### Server (site) key of server id 1");
	char *b = p ? strstr(p, "-----BEGIN PRIVATE KEY-----") : NULL;
	char *e = b ? strstr(b, "-----END PRIVATE KEY-----") : NULL;
	if (!e)
		return -1;
	e += strlen("-----END PRIVATE KEY-----");
	FILE *o = fopen(path, "w");
	if (!o)
		return -1;
	fwrite(b, 1, (size_t)(e - b), o);
	fputc('\n', o);
	return fclose(o);
}

static int setup(void **state)
{
	fixture_t *f = calloc(1, sizeof(*f));
	assert_int_equal(tu_tmpdir("certified", f->dir, sizeof(f->dir)), 0);
	assert_int_equal(idn_store_open(f->dir, NULL, &f->store), IDN_OK);

	/* TEST/vec-multi as CNRI stored it (from its unfiltered answer). */
	tu_line_t *l;
	int n = tu_load_capture("vectors/resolve-tcp-multi.hex", &l);
	assert_int_equal(n, 2);
	idn_msg_t m;
	assert_int_equal(idn_msg_decode(l[1].bytes, l[1].len, &m), IDN_OK);
	idn_wire_t w;
	idn_wire_init_ro(&w, m.body.p, m.body.len);
	idn_wire_get_bstr(&w, IDN_MAX_BSTR);
	uint32_t count = idn_wire_get_u32(&w);
	assert_int_equal(w.err, IDN_OK);
	idn_txn_t *t;
	assert_int_equal(idn_txn_begin(f->store, &t), IDN_OK);
	idn_txn_put(t, (const uint8_t *)"TEST/vec-multi", 14, w.pos, idn_wire_avail(&w), count);
	idn_txn_home(t, (const uint8_t *)"0.NA/TEST", 9);
	assert_int_equal(idn_txn_commit(t), IDN_OK);
	tu_lines_free(l, n);

	/* The site record of the same server (its public key is the pair of
	 * the private key below). */
	n = tu_load_capture("vectors/siteinfo-tcp.hex", &l);
	assert_int_equal(n, 2);
	assert_int_equal(idn_msg_decode(l[1].bytes, l[1].len, &m), IDN_OK);
	memcpy(f->site, m.body.p, m.body.len);
	f->info.site = f->site;
	f->info.site_len = m.body.len;
	f->info.site_serial = 1;
	f->info.primary = true;
	tu_lines_free(l, n);
	assert_int_equal(idn_site_decode(f->site, f->info.site_len, &f->si), IDN_OK);
	assert_true(f->si.n_servers >= 1);

	char path[128];
	snprintf(path, sizeof(path), "%s/server.pem", f->dir);
	assert_int_equal(server_key_file(path), 0);
	assert_int_equal(idn_pkey_load_pem(path, &f->key), IDN_OK);
	f->info.sign_key = f->key;

	f->ncap = tu_load_capture("vectors/resolve-tcp-certified.hex", &f->cap);
	assert_int_equal(f->ncap, 2);

	assert_int_equal(idn_reader_new(f->store, &f->reader), IDN_OK);
	idn_query_init(&f->q, f->reader, &f->info, IDN_TR_TCP);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture_t *f = *state;
	tu_lines_free(f->cap, f->ncap);
	idn_reader_free(f->reader);
	idn_store_close(f->store);
	idn_pkey_free(f->key);
	assert_int_equal(tu_rmrf(f->dir), 0);
	free(f);
	return 0;
}

/* One request through consume/produce, answered as of the request's own
 * time (so ExpirationTime, which is signed, matches CNRI's too). */
static int run(fixture_t *f, int transport, const uint8_t *req, size_t len)
{
	f->q.transport = transport;
	f->q.now = idn_get_be32(req + 36) - 43200;
	assert_int_equal(idn_reader_begin(f->reader), IDN_OK);
	int st = idn_query_consume(&f->q, req, len);
	f->out_len = 0;
	if (st == IDN_Q_PRODUCE) {
		idn_wire_t w;
		idn_wire_init(&w, f->out, sizeof(f->out));
		st = idn_query_produce(&f->q, &w);
		assert_int_equal(w.err, IDN_OK);
		f->out_len = idn_wire_offset(&w);
	}
	idn_reader_end(f->reader);
	return st;
}

static int verify(fixture_t *f)
{
	const idn_bytes_t *k = &f->si.servers[0].pubkey;
	return idn_cred_verify(f->out, f->out_len, k->p, k->len);
}

/* CNRI's certified answer, byte for byte, signature included. */
static void test_certified_capture(void **s)
{
	fixture_t *f = *s;
	assert_int_equal(run(f, IDN_TR_TCP, f->cap[0].bytes, f->cap[0].len), IDN_Q_DONE);
	assert_int_equal(f->out_len, f->cap[1].len);
	assert_memory_equal(f->out, f->cap[1].bytes, f->out_len);
	assert_int_equal(verify(f), IDN_OK);
	/* Over UDP too (one datagram's worth here, signed as a whole). */
	assert_int_equal(run(f, IDN_TR_UDP, f->cap[0].bytes, f->cap[0].len), IDN_Q_DONE);
	assert_int_equal(verify(f), IDN_OK);
}

/* Without CT nothing changes: the empty credential, the same bytes as a
 * server without a key. */
static void test_uncertified_unchanged(void **s)
{
	fixture_t *f = *s;
	uint8_t req[128];
	size_t n = f->cap[0].len;
	memcpy(req, f->cap[0].bytes, n);
	req[28] &= (uint8_t)~0x40; /* clear CT */
	assert_int_equal(run(f, IDN_TR_TCP, req, n), IDN_Q_DONE);
	uint8_t *keyed = malloc(f->out_len);
	size_t keyed_len = f->out_len;
	memcpy(keyed, f->out, keyed_len);
	assert_memory_equal(keyed + keyed_len - 4, "\0\0\0\0", 4);
	assert_int_equal(verify(f), IDN_ENOENT);

	f->info.sign_key = NULL;
	assert_int_equal(run(f, IDN_TR_TCP, req, n), IDN_Q_DONE);
	assert_int_equal(f->out_len, keyed_len);
	assert_memory_equal(f->out, keyed, keyed_len);
	/* The answer of CNRI's certified capture, unsigned: same header and body. */
	assert_memory_equal(f->out + 20, f->cap[1].bytes + 20, 8);
	assert_int_equal(idn_get_be32(f->out + 28), 0x99000000);
	assert_memory_equal(f->out + 32, f->cap[1].bytes + 32, 24 - 12 + 80);

	/* CT asked of a server without a key: CT echoed, answered unsigned. */
	assert_int_equal(run(f, IDN_TR_TCP, f->cap[0].bytes, f->cap[0].len), IDN_Q_DONE);
	assert_int_equal(idn_get_be32(f->out + 28), 0xd9000000);
	assert_int_equal(verify(f), IDN_ENOENT);
	f->info.sign_key = f->key;
	free(keyed);
}

/* Errors and site info are signed as well when CT asks (CNRI signs every
 * answer of a certified request). */
static void test_certified_other_answers(void **s)
{
	fixture_t *f = *s;
	uint8_t req[128];
	size_t n = f->cap[0].len;

	/* Handle not found (UDP). */
	memcpy(req, f->cap[0].bytes, n);
	memcpy(req + 48, "TEST/vec-nope!", 14);
	assert_int_equal(run(f, IDN_TR_UDP, req, n), IDN_Q_DONE);
	idn_msg_t m;
	assert_int_equal(idn_msg_decode(f->out, f->out_len, &m), IDN_OK);
	assert_int_equal(m.hdr.rcode, IDN_RC_HANDLE_NOT_FOUND);
	assert_int_equal(verify(f), IDN_OK);

	/* Values not found, after a partly written answer was rolled back. */
	memcpy(req, f->cap[0].bytes, n);
	memcpy(req + n - 7, "XYZ", 3); /* the type filter "URL" */
	assert_int_equal(run(f, IDN_TR_TCP, req, n), IDN_Q_DONE);
	assert_int_equal(idn_msg_decode(f->out, f->out_len, &m), IDN_OK);
	assert_int_equal(m.hdr.rcode, IDN_RC_VALUES_NOT_FOUND);
	assert_int_equal(verify(f), IDN_OK);

	/* Site info with CT and RD, in version 2.7: the site key checks it. */
	uint8_t sreq[128];
	idn_envelope_t env = { .major = 2, .minor = 7, .sugg_major = 2, .sugg_minor = 7,
			       .request_id = 4242 };
	idn_header_t hdr = { .opcode = IDN_OC_GET_SITE_INFO,
			     .opflag = IDN_OF_CT | IDN_OF_RD | IDN_OF_REC,
			     .site_serial = 0xffff, .expiration = 1800000000 };
	idn_wire_t w;
	idn_wire_init(&w, sreq, sizeof(sreq));
	size_t start = idn_msg_begin(&w, &env, &hdr);
	idn_wire_put_str(&w, "/");
	assert_int_equal(idn_msg_end(&w, start, true), IDN_OK);
	assert_int_equal(run(f, IDN_TR_UDP, sreq, idn_wire_offset(&w)), IDN_Q_DONE);
	assert_int_equal(idn_msg_decode(f->out, f->out_len, &m), IDN_OK);
	assert_int_equal(m.hdr.rcode, IDN_RC_SUCCESS);
	assert_int_equal(m.env.minor, 7);
	assert_int_equal(verify(f), IDN_OK);

	/* A message that does not decode, with CT in its header: the RC 4
	 * answer is signed too. */
	memcpy(req, f->cap[0].bytes, n);
	idn_put_be32(req + 44, 1000);
	assert_int_equal(run(f, IDN_TR_TCP, req, n), IDN_Q_DONE);
	assert_int_equal(idn_msg_decode(f->out, f->out_len, &m), IDN_OK);
	assert_int_equal(m.hdr.rcode, IDN_RC_PROTOCOL_ERROR);
	assert_int_equal(verify(f), IDN_OK);
}

/* A buffer too small for the signature: IDN_ESPACE, and produce again
 * with more room succeeds (the TCP writer's retry). */
static void test_certified_retry(void **s)
{
	fixture_t *f = *s;
	f->q.transport = IDN_TR_TCP;
	f->q.now = idn_get_be32(f->cap[0].bytes + 36) - 43200;
	assert_int_equal(idn_reader_begin(f->reader), IDN_OK);
	assert_int_equal(idn_query_consume(&f->q, f->cap[0].bytes, f->cap[0].len), IDN_Q_PRODUCE);
	idn_wire_t w;
	idn_wire_init(&w, f->out, f->cap[1].len - 10);
	idn_query_produce(&f->q, &w);
	assert_int_equal(w.err, IDN_ESPACE);
	idn_wire_init(&w, f->out, sizeof(f->out));
	assert_int_equal(idn_query_produce(&f->q, &w), IDN_Q_DONE);
	assert_int_equal(w.err, IDN_OK);
	idn_reader_end(f->reader);
	assert_int_equal(idn_wire_offset(&w), f->cap[1].len);
	assert_memory_equal(f->out, f->cap[1].bytes, f->cap[1].len);
}

/* The registry's jobs get the key through the query step's context. */
static void test_resp_ctx(void **s)
{
	fixture_t *f = *s;
	idn_resp_ctx_t ctx;
	idn_query_resp_ctx(&f->q, &ctx);
	assert_ptr_equal(ctx.sign_key, f->key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_certified_capture, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uncertified_unchanged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_certified_other_answers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_certified_retry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resp_ctx, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
