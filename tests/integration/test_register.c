/* test_register.c - integration: registration on a real idnoded: challenge-response with both key kinds, permissions, quotas, login, lists. */
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
#include "proto/msg.h"
#include "proto/record.h"
#include "storage/store.h"
#include "tests/util/testutil.h"

static tu_daemon_t D;
static char secret_path[256];

static int setup(void **state)
{
	/* The node administrator gets a secret key too (301:0.NA/88.100). */
	snprintf(secret_path, sizeof(secret_path), "/tmp/idn-reg-secret-%d", (int)getpid());
	FILE *f = fopen(secret_path, "w");
	if (!f)
		return -1;
	fputs("node-secret\n", f);
	fclose(f);
	char opt[300];
	snprintf(opt, sizeof(opt), "--admin-secret-file=%s", secret_path);
	const char *extra[] = { "--demo", opt, NULL };
	if (tu_daemon_start(&D, extra) != 0) {
		fprintf(stderr, "idnoded did not become ready (log in %s)\n", D.dir);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	tu_daemon_cleanup(&D);
	unlink(secret_path);
	return 0;
}

/* An identity with the key file in the daemon's data dir. */
static void auth_key(idn_auth_t *a, const char *id, const char *file)
{
	char path[512];
	memset(a, 0, sizeof(*a));
	assert_int_equal(idn_auth_parse_id(a, id), IDN_OK);
	snprintf(path, sizeof(path), "%s/data/%s", D.dir, file);
	assert_int_equal(idn_auth_load_key(a, path), IDN_OK);
}

static void value_p(idn_wire_t *w, uint32_t index, const char *type, const char *data,
		    uint8_t perms)
{
	idn_value_t v = { .index = index, .ttl = 86400, .perms = perms,
			  .type = { (const uint8_t *)type, (uint32_t)strlen(type) },
			  .data = { (const uint8_t *)data, (uint32_t)strlen(data) } };
	idn_value_encode(w, &v);
}

static void value(idn_wire_t *w, uint32_t index, const char *type, const char *data)
{
	value_p(w, index, type, data, IDN_PERM_DEFAULT);
}

/* Send one admin request (values given as "INDEX:TYPE:DATA" strings, or an
 * index list for remove) and return the answer's RC. */
static uint32_t admin(idn_client_t *c, const idn_auth_t *a, uint32_t opcode, const char *handle,
		      uint32_t flags, const char *const *vals)
{
	uint8_t vbuf[4096], req[8192];
	idn_wire_t vw, w;
	idn_wire_init(&vw, vbuf, sizeof(vbuf));
	uint32_t n = 0, idx[16];
	for (; vals && vals[n]; n++) {
		char type[64], data[256];
		unsigned i;
		if (opcode == IDN_OC_REMOVE_VALUE) {
			idx[n] = (uint32_t)atoi(vals[n]);
			continue;
		}
		assert_int_equal(sscanf(vals[n], "%u:%63[^:]:%255[^\n]", &i, type, data), 3);
		value(&vw, i, type, data);
	}
	idn_wire_init(&w, req, sizeof(req));
	idn_req_opts_t o = { .request_id = idn_client_request_id(c), .opflag = flags };
	int ret;
	if (opcode == IDN_OC_REMOVE_VALUE)
		ret = idn_build_remove_req(&w, handle, n, idx, &o);
	else if (opcode == IDN_OC_CREATE_HANDLE || opcode == IDN_OC_ADD_VALUE ||
		 opcode == IDN_OC_MODIFY_VALUE)
		ret = idn_build_values_req(&w, opcode, handle, n,
					   (idn_bytes_t){ vbuf, (uint32_t)idn_wire_offset(&vw) }, &o);
	else
		ret = idn_build_handle_req(&w, opcode, handle, &o);
	assert_int_equal(ret, IDN_OK);
	idn_msg_t m;
	assert_int_equal(idn_client_admin(c, a, req, idn_wire_offset(&w), &m), IDN_OK);
	return m.hdr.rcode;
}

static uint32_t resolve(const char *handle, uint32_t *nvals)
{
	idn_client_t *c;
	assert_int_equal(idn_client_open(D.server, IDN_CLIENT_UDP, 3000, &c), IDN_OK);
	idn_msg_t m;
	assert_int_equal(idn_client_resolve(c, handle, NULL, &m), IDN_OK);
	uint32_t rc = m.hdr.rcode;
	if (rc == IDN_RC_SUCCESS && nvals) {
		idn_wire_t w;
		idn_wire_init_ro(&w, m.body.p, m.body.len);
		idn_wire_get_bstr(&w, IDN_MAX_BSTR);
		*nvals = idn_wire_get_u32(&w);
	}
	idn_client_close(c);
	return rc;
}

static idn_client_t *tcp(void)
{
	idn_client_t *c;
	assert_int_equal(idn_client_open(D.server, IDN_CLIENT_TCP, 5000, &c), IDN_OK);
	return c;
}

static void test_create_modify_delete_pubkey(void **s)
{
	idn_auth_t a;
	auth_key(&a, "300:0.NA/88.100.12", "demo-enterprise-key.pem");
	idn_client_t *c = tcp();
	const char *v1[] = { "1:URL:https://example.com/t-1", "2:EMAIL:t1@example.com", NULL };
	assert_int_equal(admin(c, &a, IDN_OC_CREATE_HANDLE, "88.100.12/T-1", 0, v1), IDN_RC_SUCCESS);
	uint32_t n = 0;
	assert_int_equal(resolve("88.100.12/t-1", &n), IDN_RC_SUCCESS);
	assert_int_equal(n, 2);
	/* No HS_ADMIN on the handle: its prefix's administrators manage it. */
	assert_int_equal(admin(c, &a, IDN_OC_CREATE_HANDLE, "88.100.12/T-1", 0, v1),
			 IDN_RC_HANDLE_ALREADY_EXISTS);
	const char *add[] = { "3:DESC:a pump", NULL };
	assert_int_equal(admin(c, &a, IDN_OC_ADD_VALUE, "88.100.12/T-1", 0, add), IDN_RC_SUCCESS);
	assert_int_equal(admin(c, &a, IDN_OC_ADD_VALUE, "88.100.12/T-1", 0, add),
			 IDN_RC_VALUE_ALREADY_EXISTS);
	const char *mod[] = { "3:DESC:a bigger pump", NULL };
	assert_int_equal(admin(c, &a, IDN_OC_MODIFY_VALUE, "88.100.12/T-1", 0, mod), IDN_RC_SUCCESS);
	const char *mod9[] = { "9:DESC:nothing there", NULL };
	assert_int_equal(admin(c, &a, IDN_OC_MODIFY_VALUE, "88.100.12/T-1", 0, mod9),
			 IDN_RC_VALUES_NOT_FOUND);
	const char *rm[] = { "2", NULL };
	assert_int_equal(admin(c, &a, IDN_OC_REMOVE_VALUE, "88.100.12/T-1", 0, rm), IDN_RC_SUCCESS);
	assert_int_equal(admin(c, &a, IDN_OC_REMOVE_VALUE, "88.100.12/T-1", 0, rm),
			 IDN_RC_VALUES_NOT_FOUND);
	assert_int_equal(resolve("88.100.12/T-1", &n), IDN_RC_SUCCESS);
	assert_int_equal(n, 2);
	/* Bad values: index 0, duplicates. */
	const char *bad0[] = { "0:URL:x", NULL };
	assert_int_equal(admin(c, &a, IDN_OC_CREATE_HANDLE, "88.100.12/T-BAD", 0, bad0),
			 IDN_RC_INVALID_VALUE);
	const char *dup[] = { "1:URL:x", "1:URL:y", NULL };
	assert_int_equal(admin(c, &a, IDN_OC_CREATE_HANDLE, "88.100.12/T-BAD", 0, dup),
			 IDN_RC_VALUE_ALREADY_EXISTS);
	assert_int_equal(resolve("88.100.12/T-BAD", NULL), IDN_RC_HANDLE_NOT_FOUND);
	assert_int_equal(admin(c, &a, IDN_OC_DELETE_HANDLE, "88.100.12/T-1", 0, NULL), IDN_RC_SUCCESS);
	assert_int_equal(resolve("88.100.12/T-1", NULL), IDN_RC_HANDLE_NOT_FOUND);
	assert_int_equal(admin(c, &a, IDN_OC_DELETE_HANDLE, "88.100.12/T-1", 0, NULL),
			 IDN_RC_HANDLE_NOT_FOUND);
	idn_client_close(c);
	idn_auth_free(&a);
}

static void test_refusals(void **s)
{
	idn_auth_t a, wrong;
	auth_key(&a, "300:0.NA/88.100.12", "demo-enterprise-key.pem");
	/* The right identity with another key: the answer does not verify. */
	memset(&wrong, 0, sizeof(wrong));
	assert_int_equal(idn_auth_parse_id(&wrong, "300:0.NA/88.100.12"), IDN_OK);
	assert_int_equal(idn_pkey_generate_rsa(1024, &wrong.key), IDN_OK);
	idn_client_t *c = tcp();
	const char *v[] = { "1:URL:https://example.com/x", NULL };
	assert_int_equal(admin(c, &wrong, IDN_OC_CREATE_HANDLE, "88.100.12/W-1", 0, v),
			 IDN_RC_AUTHENTICATION_FAILED);
	/* A foreign enterprise prefix on this node: not its administrator. */
	assert_int_equal(admin(c, &a, IDN_OC_CREATE_HANDLE, "88.100.13/X-1", 0, v),
			 IDN_RC_INVALID_ADMIN);
	/* A prefix this node is not home for. */
	assert_int_equal(admin(c, &a, IDN_OC_CREATE_HANDLE, "99.1/X-1", 0, v),
			 IDN_RC_SERVER_NOT_RESP);
	/* Bad handle syntax. */
	assert_int_equal(admin(c, &a, IDN_OC_CREATE_HANDLE, "no-slash", 0, v), IDN_RC_INVALID_HANDLE);
	/* Only server administrators home prefixes. */
	assert_int_equal(admin(c, &a, IDN_OC_HOME_NA, "0.NA/77.1", 0, NULL), IDN_RC_INVALID_ADMIN);
	/* An enterprise cannot give itself a quota. */
	const char *q[] = { "400:IDNODE_QUOTA:identifiers=1000000000", NULL };
	assert_int_equal(admin(c, &a, IDN_OC_ADD_VALUE, "0.NA/88.100.12", 0, q), IDN_RC_INVALID_ADMIN);
	idn_client_close(c);
	idn_auth_free(&a);
	idn_auth_free(&wrong);
}

static void test_prefix_quota_seckey(void **s)
{
	/* The node administrator, by secret key, creates enterprise 88.100.13
	 * with its own key and a quota of 2 identifiers. */
	idn_auth_t adm, ent;
	memset(&adm, 0, sizeof(adm));
	assert_int_equal(idn_auth_parse_id(&adm, "301:0.NA/88.100"), IDN_OK);
	assert_int_equal(idn_auth_load_secret(&adm, secret_path), IDN_OK);
	memset(&ent, 0, sizeof(ent));
	assert_int_equal(idn_auth_parse_id(&ent, "300:0.NA/88.100.13"), IDN_OK);
	assert_int_equal(idn_pkey_generate_rsa(2048, &ent.key), IDN_OK);
	uint8_t blob[1024], vbuf[4096], req[8192];
	idn_wire_t bw, vw, w;
	idn_wire_init(&bw, blob, sizeof(blob));
	assert_int_equal(idn_pkey_hs_pubkey(ent.key, &bw), IDN_OK);
	idn_wire_init(&vw, vbuf, sizeof(vbuf));
	idn_put_admin_value(&vw, 100, IDN_ADM_ALL, "0.NA/88.100.13", 300, 0);
	idn_value_t pk = { .index = 300, .ttl = 86400, .perms = IDN_PERM_DEFAULT,
			   .type = { (const uint8_t *)"HS_PUBKEY", 9 },
			   .data = { blob, (uint32_t)idn_wire_offset(&bw) } };
	idn_value_encode(&vw, &pk);
	value_p(&vw, 400, "IDNODE_QUOTA", "identifiers=2;daily=100",
		IDN_PERM_ADMIN_READ | IDN_PERM_ADMIN_WRITE);
	idn_client_t *c = tcp();
	idn_wire_init(&w, req, sizeof(req));
	idn_req_opts_t o = { .request_id = idn_client_request_id(c) };
	assert_int_equal(idn_build_values_req(&w, IDN_OC_CREATE_HANDLE, "0.NA/88.100.13", 3,
					      (idn_bytes_t){ vbuf, (uint32_t)idn_wire_offset(&vw) },
					      &o),
			 IDN_OK);
	idn_msg_t m;
	assert_int_equal(idn_client_admin(c, &adm, req, idn_wire_offset(&w), &m), IDN_OK);
	assert_int_equal(m.hdr.rcode, IDN_RC_SUCCESS);
	/* The new prefix resolves, bare, with the node's site added. */
	uint32_t n = 0;
	assert_int_equal(resolve("88.100.13", &n), IDN_RC_SUCCESS);
	assert_int_equal(n, 3); /* HS_ADMIN, HS_PUBKEY, HS_SITE (the quota is not public) */

	const char *v[] = { "1:URL:https://example.com/q", NULL };
	assert_int_equal(admin(c, &ent, IDN_OC_CREATE_HANDLE, "88.100.13/Q-1", 0, v), IDN_RC_SUCCESS);
	assert_int_equal(admin(c, &ent, IDN_OC_CREATE_HANDLE, "88.100.13/Q-2", 0, v), IDN_RC_SUCCESS);
	assert_int_equal(admin(c, &ent, IDN_OC_CREATE_HANDLE, "88.100.13/Q-3", 0, v),
			 IDN_RC_REGISTER_COUNT_LIMIT);
	/* Deleting one makes room again. */
	assert_int_equal(admin(c, &ent, IDN_OC_DELETE_HANDLE, "88.100.13/Q-2", 0, NULL), IDN_RC_SUCCESS);
	assert_int_equal(admin(c, &ent, IDN_OC_CREATE_HANDLE, "88.100.13/Q-3", 0, v), IDN_RC_SUCCESS);
	/* ...but not under the other enterprise. */
	assert_int_equal(admin(c, &ent, IDN_OC_CREATE_HANDLE, "88.100.12/Q-9", 0, v),
			 IDN_RC_INVALID_ADMIN);
	/* The wrong secret. */
	idn_auth_t bad;
	memset(&bad, 0, sizeof(bad));
	assert_int_equal(idn_auth_parse_id(&bad, "301:0.NA/88.100"), IDN_OK);
	bad.secret = (uint8_t *)strdup("not-the-secret");
	bad.secret_len = strlen("not-the-secret");
	assert_int_equal(admin(c, &bad, IDN_OC_HOME_NA, "0.NA/77.1", 0, NULL),
			 IDN_RC_AUTHENTICATION_FAILED);
	/* At most one derived prefix under the node's: 88.100.13 was it (RC 605). */
	const char *pq[] = { "400:IDNODE_QUOTA:prefixes=1", NULL };
	assert_int_equal(admin(c, &adm, IDN_OC_ADD_VALUE, "0.NA/88.100", 0, pq), IDN_RC_SUCCESS);
	const char *pv[] = { "100:URL:https://example.com/p", NULL };
	assert_int_equal(admin(c, &adm, IDN_OC_CREATE_HANDLE, "0.NA/88.100.15", 0, pv),
			 IDN_RC_PREFIX_LIMIT);
	const char *rmq[] = { "400", NULL };
	assert_int_equal(admin(c, &adm, IDN_OC_REMOVE_VALUE, "0.NA/88.100", 0, rmq), IDN_RC_SUCCESS);
	assert_int_equal(admin(c, &adm, IDN_OC_HOME_NA, "77.1", 0, NULL), IDN_RC_SUCCESS);
	assert_int_equal(admin(c, &adm, IDN_OC_UNHOME_NA, "0.NA/77.1", 0, NULL), IDN_RC_SUCCESS);
	idn_client_close(c);
	idn_auth_free(&adm);
	idn_auth_free(&ent);
	idn_auth_free(&bad);
}

static int count_name(void *arg, idn_bytes_t name)
{
	(*(int *)arg)++;
	return 0;
}

static void list_cb(void *arg, idn_bytes_t name)
{
	(*(int *)arg)++;
}

static void test_login_pipelined_and_list(void **s)
{
	idn_auth_t a;
	auth_key(&a, "300:0.NA/88.100.12", "demo-enterprise-key.pem");
	idn_client_t *c = tcp();
	assert_int_equal(idn_client_login(c, &a, 10001), IDN_OK);
	/* After the login, requests on this connection need no challenge:
	 * pipeline 120 creates and read the answers in order. */
	enum { N = 120 };
	uint32_t ids[N];
	for (int i = 0; i < N; i++) {
		uint8_t vbuf[256], req[1024];
		idn_wire_t vw, w;
		idn_wire_init(&vw, vbuf, sizeof(vbuf));
		value(&vw, 1, "URL", "https://example.com/bulk");
		char h[64];
		snprintf(h, sizeof(h), "88.100.12/BULK-%03d", i);
		idn_wire_init(&w, req, sizeof(req));
		idn_req_opts_t o = { .request_id = ids[i] = idn_client_request_id(c),
				     .session_id = 10001 };
		assert_int_equal(idn_build_values_req(&w, IDN_OC_CREATE_HANDLE, h, 1,
						      (idn_bytes_t){ vbuf, (uint32_t)idn_wire_offset(&vw) },
						      &o),
				 IDN_OK);
		assert_int_equal(idn_client_write(c, req, idn_wire_offset(&w)), IDN_OK);
	}
	for (int i = 0; i < N; i++) {
		const uint8_t *resp;
		size_t len;
		assert_int_equal(idn_client_read(c, 5000, &resp, &len), IDN_OK);
		idn_msg_t m;
		assert_int_equal(idn_msg_decode(resp, len, &m), IDN_OK);
		assert_int_equal(m.env.request_id, ids[i]);
		assert_int_equal(m.hdr.rcode, IDN_RC_SUCCESS);
	}
	assert_int_equal(resolve("88.100.12/BULK-077", NULL), IDN_RC_SUCCESS);
	idn_client_close(c);

	/* List the enterprise's handles (CNRI style, challenged): demo
	 * identifiers lack LIST_HANDLES, the prefix handle grants it. */
	c = tcp();
	int count = 0;
	idn_msg_t m;
	assert_int_equal(idn_client_list(c, &a, IDN_OC_LIST_HANDLES, "0.NA/88.100.12", list_cb,
					 &count, &m),
			 IDN_OK);
	assert_int_equal(m.hdr.rcode, IDN_RC_SUCCESS);
	assert_true(count >= N + 3);
	idn_client_close(c);
	idn_auth_free(&a);
	(void)count_name;
}

static int check_seq(void *arg, const idn_change_t *ch)
{
	uint64_t *expect = arg;
	assert_int_equal(ch->seq, *expect);
	(*expect)++;
	return 0;
}

static void test_restart_keeps_writes_and_log(void **s)
{
	assert_int_equal(tu_daemon_stop(&D), 0);
	char dir[256];
	snprintf(dir, sizeof(dir), "%s/data", D.dir);
	idn_store_t *st;
	idn_store_opts_t so = { .read_only = true };
	assert_int_equal(idn_store_open(dir, &so, &st), IDN_OK);
	uint64_t last = 0, expect = 1;
	assert_int_equal(idn_store_last_seq(st, &last), IDN_OK);
	assert_true(last >= 120);
	assert_int_equal(idn_store_changes(st, 1, check_seq, &expect), IDN_OK);
	assert_int_equal(expect, last + 1);
	idn_store_close(st);
	assert_int_equal(tu_daemon_restart(&D, NULL), 0);
	assert_int_equal(resolve("88.100.12/BULK-119", NULL), IDN_RC_SUCCESS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_modify_delete_pubkey),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_prefix_quota_seckey),
		cmocka_unit_test(test_login_pipelined_and_list),
		cmocka_unit_test(test_restart_keeps_writes_and_log),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
