/* test_idis.c - integration: IDIS logins with SM2 and RSA identities on a real idnoded (one connection: login, create, resolve, delete), refusals, CNRI challenge-response alongside, the SDK's captured messages replayed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "client/admin.h"
#include "client/client.h"
#include "proto/admin.h"
#include "proto/crypto.h"
#include "proto/msg.h"
#include "proto/pkey.h"
#include "proto/record.h"
#include "tests/util/testutil.h"

static tu_daemon_t D;
/* The node administrator (300:0.NA/88.100, <data-dir>/admin-key.pem). */
static idn_auth_t node_admin;
/* Identities made by setup: SM2 key as SM2_PUB_KEY blob (88.100.14), SM2
 * key as PEM text (88.100.17), RSA key as PEM text (88.100.16), and the demo
 * enterprise (88.100.12, RSA_PUB_KEY blob). */
static idn_auth_t sm2_blob_id, sm2_pem_id, rsa_pem_id, demo_id;

/* The SDK's session ids start at 10001 (idis-wire.md section 2). */
#define SESS 10001

static void auth_file(idn_auth_t *a, const char *id, const char *file)
{
	char path[512];
	memset(a, 0, sizeof(*a));
	assert_int_equal(idn_auth_parse_id(a, id), IDN_OK);
	snprintf(path, sizeof(path), "%s/data/%s", D.dir, file);
	assert_int_equal(idn_auth_load_key(a, path), IDN_OK);
}

static idn_client_t *tcp(void)
{
	idn_client_t *c;
	assert_int_equal(idn_client_open(D.server, IDN_CLIENT_TCP, 5000, &c), IDN_OK);
	return c;
}

static void put_value(idn_wire_t *w, uint32_t index, const char *type, const void *data,
		      size_t len)
{
	idn_value_t v = { .index = index, .ttl = 86400, .perms = IDN_PERM_DEFAULT,
			  .type = { (const uint8_t *)type, (uint32_t)strlen(type) },
			  .data = { data, (uint32_t)len } };
	idn_value_encode(w, &v);
}

/* The PEM text of a key's public half, as the SDK's newIdisPublicKeyValue
 * stores it (CRLF line breaks). */
static size_t pem_text(const idn_pkey_t *k, uint8_t *out, size_t cap)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/pub-%d.pem", D.dir, rand());
	assert_int_equal(idn_pkey_save_public_pem(k, path), IDN_OK);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = 0;
	int ch;
	while ((ch = fgetc(f)) != EOF) {
		assert_true(n + 2 < cap);
		if (ch == '\n')
			out[n++] = '\r';
		out[n++] = (uint8_t)ch;
	}
	fclose(f);
	unlink(path);
	return n;
}

/* The node administrator creates enterprise prefix `prefix` (0.NA/...)
 * whose HS_PUBKEY at 300 is `pk` (CNRI challenge-response on its own
 * connection). */
static void make_prefix(const char *prefix, const uint8_t *pk, size_t pklen)
{
	uint8_t vbuf[4096], req[8192];
	idn_wire_t vw, w;
	idn_wire_init(&vw, vbuf, sizeof(vbuf));
	idn_put_admin_value(&vw, 100, IDN_ADM_ALL, prefix, 300, 0);
	put_value(&vw, 300, "HS_PUBKEY", pk, pklen);
	idn_client_t *c = tcp();
	idn_wire_init(&w, req, sizeof(req));
	idn_req_opts_t o = { .request_id = idn_client_request_id(c) };
	assert_int_equal(idn_build_values_req(&w, IDN_OC_CREATE_HANDLE, prefix, 2,
					      (idn_bytes_t){ vbuf, (uint32_t)idn_wire_offset(&vw) },
					      &o),
			 IDN_OK);
	idn_msg_t m;
	assert_int_equal(idn_client_admin(c, &node_admin, req, idn_wire_offset(&w), &m), IDN_OK);
	assert_int_equal(m.hdr.rcode, IDN_RC_SUCCESS);
	idn_client_close(c);
}

static void new_identity(idn_auth_t *a, const char *id, idn_pkey_t *k)
{
	memset(a, 0, sizeof(*a));
	assert_int_equal(idn_auth_parse_id(a, id), IDN_OK);
	a->key = k;
}

static int setup(void **state)
{
	srand((unsigned)getpid());
	const char *extra[] = { "--demo", NULL };
	if (tu_daemon_start(&D, extra) != 0) {
		fprintf(stderr, "idnoded did not become ready (log in %s)\n", D.dir);
		return -1;
	}
	auth_file(&node_admin, "300:0.NA/88.100", "admin-key.pem");
	auth_file(&demo_id, "300:0.NA/88.100.12", "demo-enterprise-key.pem");

	uint8_t pk[2048];
	idn_pkey_t *k;
	idn_wire_t w;
	/* SM2, HS_PUBKEY as the SDK's newPublicKeyValue writes it. */
	assert_int_equal(idn_pkey_generate_sm2(&k), IDN_OK);
	idn_wire_init(&w, pk, sizeof(pk));
	assert_int_equal(idn_pkey_hs_pubkey(k, &w), IDN_OK);
	make_prefix("0.NA/88.100.14", pk, idn_wire_offset(&w));
	new_identity(&sm2_blob_id, "300:0.NA/88.100.14", k);
	/* SM2 and RSA as PEM text (newIdisPublicKeyValue). */
	assert_int_equal(idn_pkey_generate_sm2(&k), IDN_OK);
	make_prefix("0.NA/88.100.17", pk, pem_text(k, pk, sizeof(pk)));
	new_identity(&sm2_pem_id, "300:0.NA/88.100.17", k);
	assert_int_equal(idn_pkey_generate_rsa(2048, &k), IDN_OK);
	make_prefix("0.NA/88.100.16", pk, pem_text(k, pk, sizeof(pk)));
	new_identity(&rsa_pem_id, "300:0.NA/88.100.16", k);
	return 0;
}

static int teardown(void **state)
{
	idn_auth_free(&node_admin);
	idn_auth_free(&demo_id);
	idn_auth_free(&sm2_blob_id);
	idn_auth_free(&sm2_pem_id);
	idn_auth_free(&rsa_pem_id);
	tu_daemon_cleanup(&D);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Raw IDIS-style messages on the client's connection.                 */

/* Write one request and read its answer on the open connection, without
 * the reconnect idn_client_send() may do: a closed connection fails here. */
static void xchg(idn_client_t *c, const uint8_t *req, size_t len, idn_msg_t *m)
{
	assert_int_equal(idn_client_write(c, req, len), IDN_OK);
	const uint8_t *r;
	size_t rlen;
	assert_int_equal(idn_client_read(c, 5000, &r, &rlen), IDN_OK);
	assert_int_equal(idn_msg_decode(r, rlen, m), IDN_OK);
	assert_int_equal(m->env.request_id, idn_get_be32(req + 8));
}

/* The envelope and header the SDK writes: 2.10 suggesting 2.11, opflags
 * RECU|CACR|PUBL, site serial 0xffff, expiration now + 12 h. */
static size_t idis_begin(idn_wire_t *w, uint32_t opcode, uint32_t session, uint32_t rid)
{
	idn_envelope_t env = { .major = 2, .minor = 10, .sugg_major = 2, .sugg_minor = 11,
			       .session_id = session, .request_id = rid };
	idn_header_t hdr = { .opcode = opcode, .opflag = 0x19000000, .site_serial = 0xffff,
			     .expiration = (uint32_t)time(NULL) + 43200 };
	return idn_msg_begin(w, &env, &hdr);
}

/* OC 1 as the SDK sends it: no filters, the trailing empty auth token.
 * Returns the RC; *nvals gets the value count of a success. */
static uint32_t idis_resolve(idn_client_t *c, uint32_t session, const char *handle,
			     uint32_t *nvals)
{
	uint8_t req[512];
	idn_wire_t w;
	idn_wire_init(&w, req, sizeof(req));
	size_t start = idis_begin(&w, IDN_OC_RESOLUTION, session, idn_client_request_id(c));
	idn_resolve_req_t r = { .handle = { (const uint8_t *)handle, (uint32_t)strlen(handle) },
				.has_token = true };
	idn_resolve_req_encode(&w, &r);
	assert_int_equal(idn_msg_end(&w, start, true), IDN_OK);
	idn_msg_t m;
	xchg(c, req, idn_wire_offset(&w), &m);
	assert_int_equal(m.hdr.opcode, IDN_OC_RESOLUTION);
	assert_int_equal(m.env.session_id, session);
	if (m.hdr.rcode == IDN_RC_SUCCESS) {
		idn_wire_t in;
		idn_wire_init_ro(&in, m.body.p, m.body.len);
		idn_bytes_t h = idn_wire_get_bstr(&in, IDN_MAX_BSTR);
		assert_int_equal(h.len, strlen(handle));
		assert_memory_equal(h.p, handle, h.len);
		uint32_t n = idn_wire_get_u32(&in);
		assert_int_equal(in.err, IDN_OK);
		if (nvals)
			*nvals = n;
	}
	return m.hdr.rcode;
}

/* OC 100 (one URL value) or OC 101 with the session id and no challenge
 * expected: the connection's login authorizes it. */
static uint32_t idis_admin(idn_client_t *c, uint32_t session, uint32_t opcode, const char *handle)
{
	uint8_t vbuf[512], req[1024];
	idn_wire_t vw, w;
	idn_wire_init(&vw, vbuf, sizeof(vbuf));
	const char *url = "https://example.com/idis";
	put_value(&vw, 1, "URL", url, strlen(url));
	idn_wire_init(&w, req, sizeof(req));
	idn_req_opts_t o = { .request_id = idn_client_request_id(c), .session_id = session,
			     .major = 2, .minor = 10 };
	int ret = opcode == IDN_OC_CREATE_HANDLE
			  ? idn_build_values_req(&w, opcode, handle, 1,
						 (idn_bytes_t){ vbuf, (uint32_t)idn_wire_offset(&vw) },
						 &o)
			  : idn_build_handle_req(&w, opcode, handle, &o);
	assert_int_equal(ret, IDN_OK);
	idn_msg_t m;
	xchg(c, req, idn_wire_offset(&w), &m);
	assert_int_equal(m.hdr.opcode, opcode);
	return m.hdr.rcode;
}

/* (a), (b): login, create, resolve twice, delete, all on one connection. */
static void login_cycle(const idn_auth_t *a, const char *handle, uint32_t session)
{
	idn_client_t *c = tcp();
	uint32_t rc = 0;
	char msg[128];
	assert_int_equal(idn_client_login_rc(c, a, session, &rc, msg, sizeof(msg)), IDN_OK);
	assert_int_equal(idis_admin(c, session, IDN_OC_CREATE_HANDLE, handle), IDN_RC_SUCCESS);
	uint32_t n = 0;
	assert_int_equal(idis_resolve(c, session, handle, &n), IDN_RC_SUCCESS);
	assert_int_equal(n, 1);
	n = 0;
	assert_int_equal(idis_resolve(c, session, handle, &n), IDN_RC_SUCCESS);
	assert_int_equal(n, 1);
	assert_int_equal(idis_admin(c, session, IDN_OC_DELETE_HANDLE, handle), IDN_RC_SUCCESS);
	assert_int_equal(idis_resolve(c, session, handle, NULL), IDN_RC_HANDLE_NOT_FOUND);
	/* Session 0 on a logged-in connection (the 2.2.x heartbeat) is harmless. */
	assert_int_equal(idis_resolve(c, 0, "88.100.12/PN-0001", NULL), IDN_RC_SUCCESS);
	idn_client_close(c);
}

static void test_sm2_login(void **s)
{
	login_cycle(&sm2_blob_id, "88.100.14/X-SM2", SESS);
	login_cycle(&sm2_pem_id, "88.100.17/X-SM2-PEM", SESS + 1);
}

static void test_rsa_login(void **s)
{
	login_cycle(&demo_id, "88.100.12/X-RSA", SESS + 2);
	login_cycle(&rsa_pem_id, "88.100.16/X-RSA-PEM", SESS + 3);
}

/* (c) */
static void test_refusals(void **s)
{
	idn_client_t *c = tcp();
	uint32_t rc = 0;
	char msg[128];
	/* The right identity, another SM2 key: 403, and the connection goes on. */
	idn_auth_t wrong;
	idn_pkey_t *k;
	assert_int_equal(idn_pkey_generate_sm2(&k), IDN_OK);
	new_identity(&wrong, "300:0.NA/88.100.14", k);
	assert_int_equal(idn_client_login_rc(c, &wrong, SESS, &rc, msg, sizeof(msg)),
			 IDN_ERESPONSE);
	assert_int_equal(rc, IDN_RC_AUTHENTICATION_FAILED);
	assert_int_equal(idis_resolve(c, SESS, "88.100.12/PN-0001", NULL), IDN_RC_SUCCESS);
	/* Not logged in: an admin request is challenged (CNRI style), not done. */
	assert_int_equal(idis_admin(c, SESS, IDN_OC_CREATE_HANDLE, "88.100.14/NO-LOGIN"),
			 IDN_RC_AUTHENTICATION_NEEDED);
	/* An RSA key for the SM2 identity does not verify either. */
	idn_auth_free(&wrong);
	assert_int_equal(idn_pkey_generate_rsa(1024, &k), IDN_OK);
	new_identity(&wrong, "300:0.NA/88.100.14", k);
	assert_int_equal(idn_client_login_rc(c, &wrong, SESS, &rc, msg, sizeof(msg)),
			 IDN_ERESPONSE);
	assert_int_equal(rc, IDN_RC_AUTHENTICATION_FAILED);
	idn_auth_free(&wrong);
	/* An identity handle the node does not have: 403. */
	assert_int_equal(idn_pkey_generate_sm2(&k), IDN_OK);
	new_identity(&wrong, "300:0.NA/88.100.99", k);
	assert_int_equal(idn_client_login_rc(c, &wrong, SESS, &rc, msg, sizeof(msg)),
			 IDN_ERESPONSE);
	assert_int_equal(rc, IDN_RC_AUTHENTICATION_FAILED);
	idn_auth_free(&wrong);
	assert_int_equal(idis_resolve(c, SESS, "88.100.12/PN-0001", NULL), IDN_RC_SUCCESS);
	/* The right key after all that, on the same connection. */
	assert_int_equal(idn_client_login(c, &sm2_blob_id, SESS), IDN_OK);
	assert_int_equal(idis_admin(c, SESS, IDN_OC_CREATE_HANDLE, "88.100.14/AFTER"),
			 IDN_RC_SUCCESS);
	/* Logged in as 88.100.14: another enterprise's prefix is refused. */
	assert_int_equal(idis_admin(c, SESS, IDN_OC_CREATE_HANDLE, "88.100.12/FOREIGN"),
			 IDN_RC_INVALID_ADMIN);
	assert_int_equal(idis_admin(c, SESS, IDN_OC_DELETE_HANDLE, "88.100.12/PN-0001"),
			 IDN_RC_INVALID_ADMIN);
	assert_int_equal(idis_resolve(c, SESS, "88.100.12/FOREIGN", NULL),
			 IDN_RC_HANDLE_NOT_FOUND);
	assert_int_equal(idis_admin(c, SESS, IDN_OC_DELETE_HANDLE, "88.100.14/AFTER"),
			 IDN_RC_SUCCESS);
	idn_client_close(c);

	/* OC 200 with no challenge pending: 405. */
	c = tcp();
	uint8_t req[512];
	idn_wire_t w;
	idn_wire_init(&w, req, sizeof(req));
	size_t start = idis_begin(&w, IDN_OC_RESPONSE_TO_CHALLENGE, 4242, idn_client_request_id(c));
	idn_challenge_answer_t a = { .auth_type = { (const uint8_t *)"HS_PUBKEY", 9 },
				     .key_handle = { (const uint8_t *)"0.NA/88.100.14", 14 },
				     .key_index = 300,
				     .answer = { (const uint8_t *)"\0\0\0\3SM3\0\0\0\0", 11 } };
	idn_challenge_answer_encode(&w, &a);
	assert_int_equal(idn_msg_end(&w, start, true), IDN_OK);
	idn_msg_t m;
	xchg(c, req, idn_wire_offset(&w), &m);
	assert_int_equal(m.hdr.rcode, IDN_RC_AUTHEN_TIMEOUT);
	assert_int_equal(idis_resolve(c, SESS, "88.100.12/PN-0001", NULL), IDN_RC_SUCCESS);
	idn_client_close(c);
}

/* (d): a CNRI client's challenge-response on another connection while an
 * IDIS connection is logged in; neither disturbs the other. */
static void test_cnri_alongside(void **s)
{
	idn_client_t *idis = tcp();
	assert_int_equal(idn_client_login(idis, &sm2_blob_id, SESS), IDN_OK);
	assert_int_equal(idis_admin(idis, SESS, IDN_OC_CREATE_HANDLE, "88.100.14/MIX-1"),
			 IDN_RC_SUCCESS);

	idn_client_t *cnri = tcp();
	uint8_t vbuf[256], req[1024];
	idn_wire_t vw, w;
	const char *url = "https://example.com/cnri";
	/* The demo enterprise (RSA) and the SM2 identity, each challenged per
	 * request (the SM2 answer: SM3, identity handle as signer id). */
	const struct {
		const idn_auth_t *a;
		const char *handle;
	} reqs[] = { { &demo_id, "88.100.12/CNRI-1" }, { &sm2_blob_id, "88.100.14/CNRI-2" } };
	for (int i = 0; i < 2; i++) {
		idn_wire_init(&vw, vbuf, sizeof(vbuf));
		put_value(&vw, 1, "URL", url, strlen(url));
		idn_wire_init(&w, req, sizeof(req));
		idn_req_opts_t o = { .request_id = idn_client_request_id(cnri) };
		assert_int_equal(idn_build_values_req(&w, IDN_OC_CREATE_HANDLE, reqs[i].handle, 1,
						      (idn_bytes_t){ vbuf,
								     (uint32_t)idn_wire_offset(&vw) },
						      &o),
				 IDN_OK);
		idn_msg_t m;
		assert_int_equal(idn_client_admin(cnri, reqs[i].a, req, idn_wire_offset(&w), &m),
				 IDN_OK);
		assert_int_equal(m.hdr.rcode, IDN_RC_SUCCESS);
		/* The logged-in connection carries on in between. */
		assert_int_equal(idis_resolve(idis, SESS, reqs[i].handle, NULL), IDN_RC_SUCCESS);
		assert_int_equal(idis_resolve(idis, SESS, "88.100.14/MIX-1", NULL), IDN_RC_SUCCESS);
	}
	/* The CNRI connection did not become logged in: still challenged. */
	idn_wire_init(&w, req, sizeof(req));
	idn_req_opts_t o = { .request_id = idn_client_request_id(cnri) };
	assert_int_equal(idn_build_handle_req(&w, IDN_OC_DELETE_HANDLE, "88.100.14/CNRI-2", &o),
			 IDN_OK);
	idn_msg_t m;
	xchg(cnri, req, idn_wire_offset(&w), &m);
	assert_int_equal(m.hdr.rcode, IDN_RC_AUTHENTICATION_NEEDED);
	idn_client_close(cnri);
	assert_int_equal(idis_admin(idis, SESS, IDN_OC_DELETE_HANDLE, "88.100.14/MIX-1"),
			 IDN_RC_SUCCESS);
	assert_int_equal(idis_admin(idis, SESS, IDN_OC_DELETE_HANDLE, "88.100.14/CNRI-2"),
			 IDN_RC_SUCCESS);
	idn_client_close(idis);
}

/* `idnode keygen --sm2`: the key file it writes logs in as the identity
 * whose HS_PUBKEY is the value it prints. */
static void test_keygen_sm2(void **s)
{
	char bin[256], cmd[1024], out[2048], key[300];
	tu_bin("idnode", bin, sizeof(bin));
	snprintf(key, sizeof(key), "%s/kg-sm2.pem", D.dir);
	snprintf(cmd, sizeof(cmd), "%s keygen --sm2 --out=%s 2>/dev/null", bin, key);
	assert_int_equal(tu_run(cmd, out, sizeof(out)), 0);
	uint8_t pk[1024];
	long n = tu_hex(out, pk, sizeof(pk));
	assert_true(n > 17);
	idn_pubkey_t dk;
	assert_int_equal(idn_pubkey_decode(pk, (size_t)n, &dk), IDN_OK);
	assert_int_equal(dk.kind, IDN_KEY_SM2);
	make_prefix("0.NA/88.100.18", pk, (size_t)n);
	idn_auth_t a;
	memset(&a, 0, sizeof(a));
	assert_int_equal(idn_auth_parse_id(&a, "300:0.NA/88.100.18"), IDN_OK);
	assert_int_equal(idn_auth_load_key(&a, key), IDN_OK);
	assert_int_equal(idn_pkey_kind(a.key), IDN_KEY_SM2);
	login_cycle(&a, "88.100.18/KEYGEN", SESS + 4);
	idn_auth_free(&a);
	/* --bits does not go with --sm2. */
	snprintf(cmd, sizeof(cmd), "%s keygen --sm2 --bits=2048 --out=%s.2 2>/dev/null", bin, key);
	assert_int_equal(tu_run(cmd, out, sizeof(out)), 2);
}

/* ------------------------------------------------------------------ */
/* The SDK's own bytes (vectors/idis), replayed.                       */

/* Line k of a capture, which must be a client message with opcode `oc`. */
static const tu_line_t *client_line(const tu_line_t *l, int n, int k, uint32_t oc)
{
	assert_true(k < n);
	assert_int_equal(l[k].dir, 'C');
	idn_msg_t m;
	assert_int_equal(idn_msg_decode(l[k].bytes, l[k].len, &m), IDN_OK);
	assert_int_equal(m.hdr.opcode, oc);
	return &l[k];
}

static void test_sdk_replay(void **s)
{
	/* The captures' identity and handle, here: 88.888.1 homed, the SM2
	 * identity's key stored as the SDK stores it (PEM text, CRLF). */
	static const char SM2_PEM[] =
		"-----BEGIN PUBLIC KEY-----\r\n"
		"MFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0DQgAEhNOzqJXuJ6ha6R6uW61RRasxzy3Q8TsshqvXUeYc\r\n"
		"X283PO8jCGCbx23KBT+ilYQDvX14zOvd25+Sgy27oQUdOQ==\r\n"
		"-----END PUBLIC KEY-----\r\n";
	idn_client_t *c = tcp();
	uint8_t vbuf[1024], req[2048];
	idn_wire_t vw, w;
	idn_msg_t m;
	idn_req_opts_t o = { .request_id = idn_client_request_id(c) };
	idn_wire_init(&w, req, sizeof(req));
	assert_int_equal(idn_build_handle_req(&w, IDN_OC_HOME_NA, "0.NA/88.888.1", &o), IDN_OK);
	assert_int_equal(idn_client_admin(c, &node_admin, req, idn_wire_offset(&w), &m), IDN_OK);
	assert_int_equal(m.hdr.rcode, IDN_RC_SUCCESS);
	const char *const handles[2] = { "88.888.1/sm2user", "88.888.1/idis-sm2" };
	for (int i = 0; i < 2; i++) {
		idn_wire_init(&vw, vbuf, sizeof(vbuf));
		if (i == 0) {
			put_value(&vw, 300, "HS_PUBKEY", SM2_PEM, strlen(SM2_PEM));
		} else {
			const char *url = "https://example.org/sm2";
			put_value(&vw, 1, "URL", url, strlen(url));
		}
		idn_wire_init(&w, req, sizeof(req));
		o.request_id = idn_client_request_id(c);
		assert_int_equal(idn_build_values_req(&w, IDN_OC_CREATE_HANDLE, handles[i], 1,
						      (idn_bytes_t){ vbuf,
								     (uint32_t)idn_wire_offset(&vw) },
						      &o),
				 IDN_OK);
		assert_int_equal(idn_client_admin(c, &node_admin, req, idn_wire_offset(&w), &m),
				 IDN_OK);
		assert_int_equal(m.hdr.rcode, IDN_RC_SUCCESS);
	}
	idn_client_close(c);

	/* m04 on one connection: OC 2, OC 2001, OC 200, OC 1 twice. */
	tu_line_t *l;
	int n = tu_load_capture("vectors/idis/m04-login-sm2-resolve-twice-mock.hex", &l);
	assert_true(n >= 10);
	c = tcp();
	const tu_line_t *q = client_line(l, n, 0, IDN_OC_GET_SITE_INFO);
	xchg(c, q->bytes, q->len, &m);
	/* RC 1 with this site's SiteInfo, session and request id echoed. */
	assert_int_equal(m.hdr.rcode, IDN_RC_SUCCESS);
	assert_int_equal(m.hdr.opcode, IDN_OC_GET_SITE_INFO);
	assert_int_equal(m.env.session_id, SESS);
	assert_int_equal(m.env.request_id, 2);
	idn_site_t *site = malloc(sizeof(*site));
	assert_int_equal(idn_site_decode(m.body.p, m.body.len, site), IDN_OK);
	assert_true(site->n_servers >= 1);
	free(site);

	/* OC 2001: RC 402 with opcode 2001, the client's session id, and the
	 * SHA-256 digest of the 2001 exactly as sent, then a 16-byte nonce. */
	q = client_line(l, n, 2, IDN_OC_LOGIN_ID_SYSTEM);
	idn_msg_t login;
	assert_int_equal(idn_msg_decode(q->bytes, q->len, &login), IDN_OK);
	xchg(c, q->bytes, q->len, &m);
	assert_int_equal(m.hdr.rcode, IDN_RC_AUTHENTICATION_NEEDED);
	assert_int_equal(m.hdr.opcode, IDN_OC_LOGIN_ID_SYSTEM);
	assert_int_equal(m.env.session_id, SESS);
	assert_int_equal(m.env.request_id, 3);
	assert_true(m.hdr.opflag & IDN_OF_RD);
	uint8_t alg;
	idn_bytes_t dg, nonce;
	assert_int_equal(idn_challenge_decode(m.body.p, m.body.len, &alg, &dg, &nonce), IDN_OK);
	assert_int_equal(alg, IDN_DIGEST_SHA256);
	uint8_t want[IDN_DIGEST_MAX];
	size_t wlen;
	assert_int_equal(idn_digest(alg, login.hb.p, login.hb.len, want, &wlen), IDN_OK);
	assert_int_equal(dg.len, wlen);
	assert_memory_equal(dg.p, want, wlen);
	assert_int_equal(nonce.len, 16);

	/* The captured OC 200 signed the mock's nonce, not ours: a replayed
	 * answer is refused. */
	q = client_line(l, n, 4, IDN_OC_RESPONSE_TO_CHALLENGE);
	xchg(c, q->bytes, q->len, &m);
	assert_int_equal(m.hdr.rcode, IDN_RC_AUTHENTICATION_FAILED);

	/* The SDK's resolutions (sess 10001, trailing empty token), twice. */
	for (int k = 6; k <= 8; k += 2) {
		q = client_line(l, n, k, IDN_OC_RESOLUTION);
		xchg(c, q->bytes, q->len, &m);
		assert_int_equal(m.hdr.rcode, IDN_RC_SUCCESS);
		assert_int_equal(m.env.session_id, SESS);
		idn_wire_t in;
		idn_wire_init_ro(&in, m.body.p, m.body.len);
		idn_bytes_t h = idn_wire_get_bstr(&in, 256);
		assert_true(idn_bytes_eq_str(h, "88.888.1/idis-sm2"));
		assert_int_equal(idn_wire_get_u32(&in), 1);
	}
	tu_lines_free(l, n);

	/* m03's create on that connection, which did not log in: challenged,
	 * never RC 1 for work not done. */
	n = tu_load_capture("vectors/idis/m03-login-sm2-create-mock.hex", &l);
	assert_true(n >= 7);
	q = client_line(l, n, 6, IDN_OC_CREATE_HANDLE);
	xchg(c, q->bytes, q->len, &m);
	assert_int_equal(m.hdr.rcode, IDN_RC_AUTHENTICATION_NEEDED);
	assert_int_equal(m.hdr.opcode, IDN_OC_CREATE_HANDLE);
	tu_lines_free(l, n);
	idn_client_close(c);

	/* 07: the raw OC 2001 with session 0, then with 10001, each on a new
	 * connection: RC 402 with opcode 2001 (a session of our choosing for
	 * 0, the client's otherwise). */
	n = tu_load_capture("vectors/idis/07-raw-oc2001-cnri.hex", &l);
	int seen = 0;
	for (int k = 0; k < n; k++) {
		if (l[k].dir != 'C')
			continue;
		idn_msg_t sent;
		assert_int_equal(idn_msg_decode(l[k].bytes, l[k].len, &sent), IDN_OK);
		assert_int_equal(sent.hdr.opcode, IDN_OC_LOGIN_ID_SYSTEM);
		c = tcp();
		xchg(c, l[k].bytes, l[k].len, &m);
		assert_int_equal(m.hdr.rcode, IDN_RC_AUTHENTICATION_NEEDED);
		assert_int_equal(m.hdr.opcode, IDN_OC_LOGIN_ID_SYSTEM);
		if (sent.env.session_id)
			assert_int_equal(m.env.session_id, sent.env.session_id);
		else
			assert_int_not_equal(m.env.session_id, 0);
		assert_int_equal(idis_resolve(c, SESS, "88.100.12/PN-0001", NULL),
				 IDN_RC_SUCCESS);
		idn_client_close(c);
		seen++;
	}
	assert_int_equal(seen, 2);
	tu_lines_free(l, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sm2_login),
		cmocka_unit_test(test_rsa_login),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_cnri_alongside),
		cmocka_unit_test(test_keygen_sm2),
		cmocka_unit_test(test_sdk_replay),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
