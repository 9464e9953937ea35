/* test_cnri_replay.c - integration: requests captured from CNRI's client, replayed byte for byte; our answers match CNRI's server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "client/admin.h"
#include "client/client.h"
#include "proto/admin.h"
#include "proto/auth.h"
#include "proto/msg.h"
#include "tests/util/testutil.h"

/*
 * The daemon is set up like the capture server (vectors/README.md): prefix
 * TEST, 300:0.NA/TEST with the captured admin RSA key, 301:0.NA/TEST with
 * the secret "peer-secret", both server administrators. Each capture's
 * first request is sent exactly as CNRI's client encoded it; the challenge
 * is answered with the identity and algorithm the capture used (the nonce
 * is ours, so the answer is recomputed); the final answer must carry the
 * opcode, response code and flags CNRI's server sent.
 */

static tu_daemon_t D;
static char keyfile[256], secretfile[256];

static const char ADMIN_KEY[] =
	"-----BEGIN PRIVATE KEY-----\n";

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* The admin private key, cut out of the vectors README. */
static int extract_admin_key(const char *path)
{
	char readme[512];
	snprintf(readme, sizeof(readme), "%s/vectors/README.md", tu_shared_dir());
	FILE *f = fopen(readme, "r");
	if (!f)
		return -1;
	FILE *o = fopen(path, "w");
	char line[256];
	int state = 0;
	while (o && fgets(line, sizeof(line), f)) {
		if (state == 0 && strstr(line, "Admin key of 300:0.NA/TEST"))
			state = 1;
		else if (state == 1 && strncmp(line, ADMIN_KEY, strlen(ADMIN_KEY)) == 0)
			state = 2;
		if (state == 2) {
			fputs(line, o);
			if (strncmp(line, "-----END", 8) == 0)
				break;
		}
	}
	fclose(f);
	return o && fclose(o) == 0 && state == 2 ? 0 : -1;
}

static int setup(void **state)
{
	snprintf(keyfile, sizeof(keyfile), "/tmp/idn-replay-key-%d.pem", (int)getpid());
	snprintf(secretfile, sizeof(secretfile), "/tmp/idn-replay-secret-%d", (int)getpid());
	if (extract_admin_key(keyfile) || write_file(secretfile, "peer-secret"))
		return -1;
	char k[300], sf[300];
	snprintf(k, sizeof(k), "--admin-key=%s", keyfile);
	snprintf(sf, sizeof(sf), "--admin-secret-file=%s", secretfile);
	const char *extra[] = { "--node-prefix=TEST", k, sf, NULL };
	if (tu_daemon_start(&D, extra) != 0) {
		fprintf(stderr, "idnoded did not become ready (log in %s)\n", D.dir);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	tu_daemon_cleanup(&D);
	unlink(keyfile);
	unlink(secretfile);
	return 0;
}

static idn_client_t *tcp(void)
{
	idn_client_t *c;
	assert_int_equal(idn_client_open(D.server, IDN_CLIENT_TCP, 5000, &c), IDN_OK);
	return c;
}

/* The secret or key of an identity in the captures. */
static void key_for(const idn_challenge_answer_t *a, const char *file, uint8_t **secret,
		    size_t *slen, idn_pkey_t **key)
{
	*secret = NULL;
	*key = NULL;
	if (idn_bytes_eq_str(a->auth_type, "HS_PUBKEY")) {
		assert_int_equal(idn_pkey_load_pem(keyfile, key), IDN_OK);
		return;
	}
	const char *s = strstr(file, "wrong-secret") ? "wrong-secret"
			: strstr(file, "not-admin")   ? "user-secret"
						      : "peer-secret";
	*secret = (uint8_t *)strdup(s);
	*slen = strlen(s);
}

/* Replay `file`; returns the final answer's header (and *n_msgs answers). */
static void replay(const char *file, idn_header_t *got, int *n_msgs)
{
	tu_line_t *lines;
	char rel[128];
	snprintf(rel, sizeof(rel), "vectors/%s", file);
	int n = tu_load_capture(rel, &lines);
	assert_true(n >= 2);
	idn_client_t *c = tcp();
	const uint8_t *resp;
	size_t rlen;
	assert_int_equal(idn_client_write(c, lines[0].bytes, lines[0].len), IDN_OK);
	assert_int_equal(idn_client_read(c, 5000, &resp, &rlen), IDN_OK);
	idn_msg_t m;
	assert_int_equal(idn_msg_decode(resp, rlen, &m), IDN_OK);
	idn_msg_t cap;
	assert_int_equal(idn_msg_decode(lines[1].bytes, lines[1].len, &cap), IDN_OK);
	/* The challenge (or the refusal) as CNRI sent it. */
	assert_int_equal(m.hdr.opcode, cap.hdr.opcode);
	assert_int_equal(m.hdr.rcode, cap.hdr.rcode);
	assert_int_equal(m.hdr.opflag, cap.hdr.opflag);
	assert_int_equal(m.env.request_id, cap.env.request_id);
	*got = m.hdr;
	*n_msgs = 1;
	if (m.hdr.rcode != IDN_RC_AUTHENTICATION_NEEDED || n < 3) {
		idn_client_close(c);
		tu_lines_free(lines, n);
		return;
	}
	uint32_t session = m.env.session_id;
	assert_true(session != 0);
	uint8_t alg;
	idn_bytes_t digest, nonce;
	assert_int_equal(idn_challenge_decode(m.body.p, m.body.len, &alg, &digest, &nonce), IDN_OK);
	uint8_t dcopy[64], ncopy[64];
	size_t dl = digest.len, nl = nonce.len;
	memcpy(dcopy, digest.p, dl);
	memcpy(ncopy, nonce.p, nl);

	/* The capture's answer tells who answered and how. */
	idn_msg_t ans;
	assert_int_equal(idn_msg_decode(lines[2].bytes, lines[2].len, &ans), IDN_OK);
	assert_int_equal(ans.hdr.opcode, IDN_OC_RESPONSE_TO_CHALLENGE);
	idn_challenge_answer_t ca;
	assert_int_equal(idn_challenge_answer_decode(ans.body.p, ans.body.len, &ca), IDN_OK);
	uint8_t *secret;
	size_t slen = 0;
	idn_pkey_t *key;
	key_for(&ca, file, &secret, &slen, &key);
	uint8_t abuf[1024];
	idn_wire_t aw;
	idn_wire_init(&aw, abuf, sizeof(abuf));
	if (key)
		assert_int_equal(idn_pubkey_answer(key, IDN_SIG_SHA256, ncopy, nl, dcopy, dl, &aw),
				 IDN_OK);
	else
		assert_int_equal(idn_seckey_answer(IDN_SECKEY_PBKDF2_SHA1, secret, slen, ncopy, nl,
						   dcopy, dl, &aw),
				 IDN_OK);
	ca.answer = (idn_bytes_t){ abuf, (uint32_t)idn_wire_offset(&aw) };
	uint8_t req[2048];
	idn_wire_t w;
	idn_wire_init(&w, req, sizeof(req));
	idn_envelope_t env = ans.env;
	env.session_id = session;
	size_t start = idn_msg_begin(&w, &env, &ans.hdr);
	idn_challenge_answer_encode(&w, &ca);
	assert_int_equal(idn_msg_end(&w, start, true), IDN_OK);
	assert_int_equal(idn_client_write(c, req, idn_wire_offset(&w)), IDN_OK);

	/* The final answer(s): compare with the capture's last lines. */
	int k = 3;
	for (;; k++) {
		assert_int_equal(idn_client_read(c, 5000, &resp, &rlen), IDN_OK);
		assert_int_equal(idn_msg_decode(resp, rlen, &m), IDN_OK);
		assert_int_equal(m.env.request_id, ans.env.request_id);
		assert_int_equal(m.env.session_id, 0);
		if (k < n) {
			assert_int_equal(idn_msg_decode(lines[k].bytes, lines[k].len, &cap), IDN_OK);
			assert_int_equal(m.hdr.opcode, cap.hdr.opcode);
			assert_int_equal(m.hdr.rcode, cap.hdr.rcode);
			assert_int_equal(m.hdr.opflag, cap.hdr.opflag);
		}
		if (!(m.hdr.opflag & IDN_OF_CN))
			break;
	}
	*got = m.hdr;
	*n_msgs = k - 2;
	free(secret);
	idn_pkey_free(key);
	idn_client_close(c);
	tu_lines_free(lines, n);
}

static void expect(const char *file, uint32_t rcode)
{
	idn_header_t h;
	int nm;
	replay(file, &h, &nm);
	assert_int_equal(h.rcode, rcode);
}

static void test_native_admin_flows(void **s)
{
	/* In capture order: state carries over from one file to the next. */
	expect("create-seckey.hex", IDN_RC_SUCCESS);
	expect("add-value.hex", IDN_RC_SUCCESS);
	expect("modify-value.hex", IDN_RC_SUCCESS);
	expect("remove-value.hex", IDN_RC_SUCCESS);
	expect("delete-handle.hex", IDN_RC_SUCCESS);
	expect("create-pubkey.hex", IDN_RC_SUCCESS);
	expect("create-wrong-secret.hex", IDN_RC_AUTHENTICATION_FAILED);
	expect("home-na.hex", IDN_RC_SUCCESS);
	expect("unhome-na.hex", IDN_RC_SUCCESS);
	expect("create-unauthenticated.hex", IDN_RC_AUTHENTICATION_NEEDED);
}

static void test_not_admin(void **s)
{
	/* TEST/VEC-USER (HS_SECKEY user-secret at 300) is on the capture
	 * server; make it here with the node administrator's secret. */
	idn_auth_t adm;
	memset(&adm, 0, sizeof(adm));
	assert_int_equal(idn_auth_parse_id(&adm, "301:0.NA/TEST"), IDN_OK);
	assert_int_equal(idn_auth_load_secret(&adm, secretfile), IDN_OK);
	uint8_t vals[512], req[1024];
	idn_wire_t vw, w;
	idn_wire_init(&vw, vals, sizeof(vals));
	idn_put_admin_value(&vw, 100, IDN_ADM_ALL, "TEST/vec-user", 300, 0);
	idn_value_t sk = { .index = 300, .ttl = 86400, .perms = 0x0c,
			   .type = { (const uint8_t *)"HS_SECKEY", 9 },
			   .data = { (const uint8_t *)"user-secret", 11 } };
	idn_value_encode(&vw, &sk);
	idn_client_t *c = tcp();
	idn_wire_init(&w, req, sizeof(req));
	idn_req_opts_t o = { .request_id = idn_client_request_id(c) };
	assert_int_equal(idn_build_values_req(&w, IDN_OC_CREATE_HANDLE, "TEST/VEC-USER", 2,
					      (idn_bytes_t){ vals, (uint32_t)idn_wire_offset(&vw) }, &o),
			 IDN_OK);
	idn_msg_t m;
	assert_int_equal(idn_client_admin(c, &adm, req, idn_wire_offset(&w), &m), IDN_OK);
	assert_int_equal(m.hdr.rcode, IDN_RC_SUCCESS);
	idn_client_close(c);
	idn_auth_free(&adm);
	expect("create-not-admin.hex", IDN_RC_INVALID_ADMIN);
}

static void test_list_handles(void **s)
{
	/* The capture server held TEST/LIST-001..055 (and a few more): seed
	 * them over one logged-in connection, then list as CNRI's client did. */
	idn_auth_t adm;
	memset(&adm, 0, sizeof(adm));
	assert_int_equal(idn_auth_parse_id(&adm, "301:0.NA/TEST"), IDN_OK);
	assert_int_equal(idn_auth_load_secret(&adm, secretfile), IDN_OK);
	idn_client_t *c = tcp();
	assert_int_equal(idn_client_login(c, &adm, 77), IDN_OK);
	for (int i = 1; i <= 55; i++) {
		uint8_t vals[256], req[1024];
		idn_wire_t vw, w;
		char h[32], url[64];
		snprintf(h, sizeof(h), "TEST/LIST-%03d", i);
		snprintf(url, sizeof(url), "https://example.org/list-%03d", i);
		idn_wire_init(&vw, vals, sizeof(vals));
		idn_value_t v = { .index = 1, .ttl = 86400, .perms = IDN_PERM_DEFAULT,
				  .type = { (const uint8_t *)"URL", 3 },
				  .data = { (const uint8_t *)url, (uint32_t)strlen(url) } };
		idn_value_encode(&vw, &v);
		idn_wire_init(&w, req, sizeof(req));
		idn_req_opts_t o = { .request_id = idn_client_request_id(c), .session_id = 77 };
		assert_int_equal(idn_build_values_req(&w, IDN_OC_CREATE_HANDLE, h, 1,
						      (idn_bytes_t){ vals, (uint32_t)idn_wire_offset(&vw) },
						      &o),
				 IDN_OK);
		idn_msg_t m;
		assert_int_equal(idn_client_admin(c, &adm, req, idn_wire_offset(&w), &m), IDN_OK);
		assert_int_equal(m.hdr.rcode, IDN_RC_SUCCESS);
	}
	idn_client_close(c);
	idn_auth_free(&adm);
	idn_header_t h;
	int nm;
	replay("list-handles.hex", &h, &nm);
	assert_int_equal(h.rcode, IDN_RC_SUCCESS);
	assert_int_equal(nm, 2); /* 50 names, then the rest, as CNRI sent them */
}

static void test_admin_over_udp(void **s)
{
	tu_line_t *lines;
	int n = tu_load_capture("vectors/admin-over-udp.hex", &lines);
	assert_int_equal(n, 2);
	idn_client_t *c;
	assert_int_equal(idn_client_open(D.server, IDN_CLIENT_UDP, 3000, &c), IDN_OK);
	const uint8_t *resp;
	size_t rlen;
	assert_int_equal(idn_client_send(c, lines[0].bytes, lines[0].len, &resp, &rlen), IDN_OK);
	idn_msg_t m;
	assert_int_equal(idn_msg_decode(resp, rlen, &m), IDN_OK);
	assert_int_equal(m.hdr.rcode, IDN_RC_PROTOCOL_ERROR);
	idn_client_close(c);
	tu_lines_free(lines, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_native_admin_flows),
		cmocka_unit_test(test_not_admin),
		cmocka_unit_test(test_list_handles),
		cmocka_unit_test(test_admin_over_udp),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
