/* test_outbox.c - the registry's outbox hook: an enterprise prefix created, changed or deleted locally queues one upstream request in the same commit; refusals and identifiers queue none; the start-up sync and queue-once. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "client/admin.h"
#include "proto/admin.h"
#include "proto/record.h"
#include "registry/reg_int.h"
#include "tests/util/testutil.h"

static char dir[128], keypath[200];
static idn_store_t *store;
static idn_registry_t *reg;
static const uint8_t site[] = "SITE-RECORD-BYTES";

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int done_count;

static void on_done(idn_job_t *job)
{
	pthread_mutex_lock(&mu);
	done_count++;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

static int setup(void **state)
{
	if (tu_tmpdir("reg-outbox", dir, sizeof(dir)) || idn_store_open(dir, NULL, &store))
		return -1;
	/* The sender needs a key; its top (port 1) never answers. */
	idn_pkey_t *k;
	snprintf(keypath, sizeof(keypath), "%s/key.pem", dir);
	if (idn_pkey_generate_rsa(2048, &k) || idn_pkey_save_pem(k, keypath))
		return -1;
	idn_pkey_free(k);
	idn_txn_t *t;
	if (idn_txn_begin(store, &t))
		return -1;
	idn_txn_home(t, (const uint8_t *)"0.NA/88.100", 11);
	/* An enterprise prefix from before the node was connected. */
	uint8_t v[256];
	idn_wire_t w;
	idn_wire_init(&w, v, sizeof(v));
	idn_put_admin_value(&w, 100, IDN_ADM_ALL, "0.NA/88.100.7", 300, 0);
	idn_txn_put(t, (const uint8_t *)"0.NA/88.100.7", 13, v, idn_wire_offset(&w), 1);
	if (idn_txn_commit(t))
		return -1;
	idn_registry_opts_t o = { .store = store, .node_prefix = "88.100",
				  .server_admins = { "300:0.NA/88.100" }, .n_server_admins = 1,
				  .site = site, .site_len = sizeof(site) - 1,
				  .upstream = "127.0.0.1:1", .upstream_key = keypath,
				  .upstream_retry_max = 60 };
	if (idn_registry_new(&o, &reg) || idn_registry_start(reg))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	idn_registry_free(reg);
	idn_store_close(store);
	tu_rmrf(dir);
	return 0;
}

static idn_identity_t ident(const char *s)
{
	idn_identity_t id;
	assert_int_equal(idn_identity_parse(s, &id), IDN_OK);
	return id;
}

/* Run one request as `who` through the registry; its response code. */
static uint32_t run(const char *who, uint32_t oc, const char *handle, uint32_t flags)
{
	uint8_t vals[512];
	idn_wire_t vw;
	idn_wire_init(&vw, vals, sizeof(vals));
	idn_put_admin_value(&vw, 100, IDN_ADM_ALL, "0.NA/88.100.12", 300, 0);
	idn_job_t *job = calloc(1, sizeof(*job));
	job->req = malloc(4096);
	idn_wire_t w;
	idn_wire_init(&w, job->req, 4096);
	idn_req_opts_t o = { .request_id = 9, .opflag = flags };
	if (oc == IDN_OC_DELETE_HANDLE)
		assert_int_equal(idn_build_handle_req(&w, oc, handle, &o), IDN_OK);
	else
		assert_int_equal(idn_build_values_req(&w, oc, handle, 1,
						      (idn_bytes_t){ vals, (uint32_t)idn_wire_offset(&vw) },
						      &o),
				 IDN_OK);
	job->req_len = idn_wire_offset(&w);
	assert_int_equal(idn_msg_decode(job->req, job->req_len, &job->msg), IDN_OK);
	job->transport = IDN_TR_TCP;
	job->ctx = (idn_resp_ctx_t){ .site_serial = 1, .primary = true, .now = (uint32_t)time(NULL) };
	job->done = on_done;
	idn_conn_state_t cs = { .identity = ident(who) };
	job->conn = &cs;
	idn_reader_t *rd;
	assert_int_equal(idn_reader_new(store, &rd), IDN_OK);
	assert_int_equal(idn_reader_begin(rd), IDN_OK);
	job->reader = (struct idn_reader *)rd;
	pthread_mutex_lock(&mu);
	done_count = 0;
	pthread_mutex_unlock(&mu);
	idn_registry_submit(reg, job);
	idn_reader_end(rd);
	idn_reader_free(rd);
	pthread_mutex_lock(&mu);
	while (done_count == 0)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	idn_msg_t m;
	uint32_t rc = 0xffffffff;
	if (job->resp && idn_msg_decode(job->resp, job->resp_len, &m) == IDN_OK)
		rc = m.hdr.rcode;
	free(job->resp);
	free(job->req);
	free(job);
	return rc;
}

static uint64_t outbox_len(void)
{
	uint64_t n;
	uint32_t oldest;
	assert_int_equal(idn_store_outbox_stat(store, &n, &oldest), IDN_OK);
	return n;
}

/* The newest entry (after `after`): its seq, checked opcode and flags. */
static uint64_t last_entry(uint64_t after, uint32_t oc, uint32_t flags, uint8_t *buf,
			   idn_outbox_entry_t *e)
{
	uint64_t seq = 0;
	while (idn_store_outbox_peek(store, after, e, buf, IDN_OUTBOX_MAX_BODY) == IDN_OK)
		seq = after = e->seq;
	assert_true(seq > 0);
	assert_int_equal(idn_store_outbox_peek(store, seq - 1, e, buf, IDN_OUTBOX_MAX_BODY), IDN_OK);
	assert_int_equal(e->opcode, oc);
	assert_int_equal(e->opflag, flags);
	return seq;
}

static void test_enterprise_prefix(void **s)
{
	uint8_t *buf = malloc(IDN_OUTBOX_MAX_BODY);
	idn_outbox_entry_t e;
	idn_registry_stats_t st0, st1;
	idn_registry_stats(reg, &st0);
	assert_int_equal(outbox_len(), 0);
	uint64_t last0;
	assert_int_equal(idn_store_last_seq(store, &last0), IDN_OK);

	/* The node administrator creates an enterprise prefix: one commit
	 * holds the record, its change-log entry and one outbox entry. */
	assert_int_equal(run("300:0.NA/88.100", IDN_OC_CREATE_HANDLE, "0.NA/88.100.12", 0), 1);
	idn_registry_stats(reg, &st1);
	assert_int_equal(st1.commits, st0.commits + 1);
	assert_int_equal(outbox_len(), 1);
	uint64_t last1;
	assert_int_equal(idn_store_last_seq(store, &last1), IDN_OK);
	assert_int_equal(last1, last0 + 1);
	last_entry(0, IDN_OC_CREATE_HANDLE, IDN_OF_OVRW, buf, &e);
	idn_values_req_t vr;
	assert_int_equal(idn_values_req_decode(e.body.p, e.body.len, &vr), IDN_OK);
	assert_true(idn_bytes_eq_str(vr.handle, "0.NA/88.100.12"));
	assert_int_equal(vr.n_values, 3);
	idn_wire_t w;
	idn_wire_init_ro(&w, vr.values.p, vr.values.len);
	idn_value_t v[3];
	for (int i = 0; i < 3; i++)
		assert_int_equal(idn_value_decode(&w, &v[i]), IDN_OK);
	/* Our site (the record got it on create), again for derived prefixes,
	 * and our upstream identity as its administrator. */
	assert_true(idn_bytes_eq_str(v[0].type, "HS_SITE"));
	assert_memory_equal(v[0].data.p, site, sizeof(site) - 1);
	assert_true(idn_bytes_eq_str(v[1].type, "HS_SITE.PREFIX"));
	assert_memory_equal(v[1].data.p, site, sizeof(site) - 1);
	assert_true(idn_bytes_eq_str(v[2].type, "HS_ADMIN"));
	assert_int_equal(v[2].index, 100);
	idn_admin_t a;
	assert_int_equal(idn_admin_decode(v[2].data.p, v[2].data.len, &a), IDN_OK);
	assert_true(idn_bytes_eq_str(a.admin_id, "0.NA/88.100"));
	assert_int_equal(a.admin_index, 300);

	/* Refused (not an administrator, exists): nothing queued. */
	assert_int_equal(run("300:88.100.12/BOB", IDN_OC_CREATE_HANDLE, "0.NA/88.100.13", 0), 400);
	assert_int_equal(run("300:0.NA/88.100", IDN_OC_CREATE_HANDLE, "0.NA/88.100.12", 0), 101);
	assert_int_equal(outbox_len(), 1);
	/* An identifier, and a prefix that is not below ours: nothing either. */
	assert_int_equal(run("300:0.NA/88.100.12", IDN_OC_CREATE_HANDLE, "88.100.12/PN-1", 0), 1);
	assert_int_equal(outbox_len(), 1);

	/* A change of values sends the copy again; a delete is OC 101. */
	assert_int_equal(run("300:0.NA/88.100", IDN_OC_ADD_VALUE, "0.NA/88.100.12", IDN_OF_OVRW), 1);
	assert_int_equal(outbox_len(), 2);
	last_entry(0, IDN_OC_CREATE_HANDLE, IDN_OF_OVRW, buf, &e);
	assert_int_equal(run("300:0.NA/88.100", IDN_OC_DELETE_HANDLE, "0.NA/88.100.12", 0), 1);
	assert_int_equal(outbox_len(), 3);
	last_entry(0, IDN_OC_DELETE_HANDLE, 0, buf, &e);
	idn_bytes_t h;
	assert_int_equal(idn_handle_body_decode(e.body.p, e.body.len, &h), IDN_OK);
	assert_true(idn_bytes_eq_str(h, "0.NA/88.100.12"));

	/* Visible to the operator; the top never answered. */
	idn_outbox_stats_t os;
	idn_registry_outbox_stats(reg, &os);
	assert_int_equal(os.length, 3);
	assert_int_equal(os.sent, 0);
	free(buf);
}

static void test_sync_and_once(void **s)
{
	uint64_t q;
	/* First start: the node's record, and 0.NA/88.100.7 from before. */
	uint8_t pub[] = "PUBKEY";
	assert_int_equal(idn_registry_upstream_sync(reg, pub, 6, &q), IDN_OK);
	assert_int_equal(q, 2);
	assert_int_equal(outbox_len(), 2);
	uint8_t *buf = malloc(IDN_OUTBOX_MAX_BODY);
	idn_outbox_entry_t e;
	assert_int_equal(idn_store_outbox_peek(store, 0, &e, buf, IDN_OUTBOX_MAX_BODY), IDN_OK);
	assert_int_equal(e.opcode, IDN_OC_ADD_VALUE);
	assert_int_equal(e.opflag, IDN_OF_OVRW);
	idn_values_req_t vr;
	assert_int_equal(idn_values_req_decode(e.body.p, e.body.len, &vr), IDN_OK);
	assert_true(idn_bytes_eq_str(vr.handle, "0.NA/88.100"));
	assert_int_equal(vr.n_values, 3);
	assert_int_equal(idn_store_outbox_peek(store, e.seq, &e, buf, IDN_OUTBOX_MAX_BODY), IDN_OK);
	assert_int_equal(idn_values_req_decode(e.body.p, e.body.len, &vr), IDN_OK);
	assert_true(idn_bytes_eq_str(vr.handle, "0.NA/88.100.7"));
	/* A restart with nothing changed queues nothing; a new key does. */
	assert_int_equal(idn_registry_upstream_sync(reg, pub, 6, &q), IDN_OK);
	assert_int_equal(q, 0);
	assert_int_equal(idn_registry_upstream_sync(reg, (const uint8_t *)"NEWKEY", 6, &q), IDN_OK);
	assert_int_equal(q, 1);

	/* Others' requests: always, or once per content. */
	bool queued;
	assert_int_equal(idn_registry_upstream(reg, IDN_OC_ADD_VALUE, IDN_OF_OVRW,
					       (const uint8_t *)"x", 1), IDN_OK);
	assert_int_equal(idn_registry_upstream_once(reg, "report:1", IDN_OC_ADD_VALUE, IDN_OF_OVRW,
						    (const uint8_t *)"r1", 2, &queued), IDN_OK);
	assert_true(queued);
	assert_int_equal(idn_registry_upstream_once(reg, "report:1", IDN_OC_ADD_VALUE, IDN_OF_OVRW,
						    (const uint8_t *)"r1", 2, &queued), IDN_OK);
	assert_false(queued);
	assert_int_equal(outbox_len(), 5);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_enterprise_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_and_once, setup, teardown),
	};
	return cmocka_run_group_tests_name("registry/outbox", tests, NULL, NULL);
}
