/* test_registry.c - the registry without sockets: HS_ADMIN and HS_VLIST checks, group commit of good and bad writes, the change log. */
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
#include "proto/record.h"
#include "registry/reg_int.h"
#include "tests/util/testutil.h"

static char dir[128];
static idn_store_t *store;

static void put_value(idn_wire_t *w, uint32_t index, const char *type, const void *data,
		      size_t len)
{
	idn_value_t v = { .index = index, .ttl = 86400, .perms = IDN_PERM_DEFAULT,
			  .type = { (const uint8_t *)type, (uint32_t)strlen(type) },
			  .data = { data, (uint32_t)len } };
	idn_value_encode(w, &v);
}

static void put_admin(idn_wire_t *w, uint32_t index, uint16_t perms, const char *id, uint32_t idx)
{
	uint8_t a[600];
	idn_wire_t aw;
	idn_wire_init(&aw, a, sizeof(a));
	idn_admin_t ad = { perms, { (const uint8_t *)id, (uint32_t)strlen(id) }, idx };
	idn_admin_encode(&aw, &ad);
	put_value(w, index, "HS_ADMIN", a, idn_wire_offset(&aw));
}

static void put_vlist(idn_wire_t *w, uint32_t index, int n, const char **h, const uint32_t *i)
{
	uint8_t b[2048];
	idn_wire_t bw;
	idn_bytes_t hb[8];
	for (int k = 0; k < n; k++)
		hb[k] = (idn_bytes_t){ (const uint8_t *)h[k], (uint32_t)strlen(h[k]) };
	idn_wire_init(&bw, b, sizeof(b));
	idn_vlist_encode(&bw, (uint32_t)n, hb, i);
	put_value(w, index, "HS_VLIST", b, idn_wire_offset(&bw));
}

static void put_record(idn_txn_t *t, const char *h, const uint8_t *vals, size_t len, uint32_t n)
{
	idn_txn_put(t, (const uint8_t *)h, strlen(h), vals, len, n);
}

/*
 * 0.NA/88.100.12: HS_ADMIN (all) for group 200:0.NA/88.100.12.
 * Group 200:0.NA/88.100.12 = { 201:88.100.12/GROUPS }.
 * Group 201:88.100.12/GROUPS = { 200:0.NA/88.100.12 (a loop), 300:88.100.12/ALICE }.
 * So ALICE administers the prefix through two groups; BOB does not.
 */
static int setup(void **state)
{
	if (tu_tmpdir("registry", dir, sizeof(dir)))
		return -1;
	idn_store_opts_t so = { 0 };
	if (idn_store_open(dir, &so, &store))
		return -1;
	idn_txn_t *t;
	if (idn_txn_begin(store, &t))
		return -1;
	uint8_t v[4096];
	idn_wire_t w;
	idn_txn_home(t, (const uint8_t *)"0.NA/88.100", 11);
	idn_wire_init(&w, v, sizeof(v));
	put_admin(&w, 100, IDN_ADM_ALL, "0.NA/88.100.12", 200);
	const char *g1h[] = { "88.100.12/GROUPS" };
	const uint32_t g1i[] = { 201 };
	put_vlist(&w, 200, 1, g1h, g1i);
	put_record(t, "0.NA/88.100.12", v, idn_wire_offset(&w), 2);
	idn_wire_init(&w, v, sizeof(v));
	const char *g2h[] = { "0.NA/88.100.12", "88.100.12/alice" };
	const uint32_t g2i[] = { 200, 300 };
	put_vlist(&w, 201, 2, g2h, g2i);
	put_record(t, "88.100.12/GROUPS", v, idn_wire_offset(&w), 1);
	return idn_txn_commit(t) ? -1 : 0;
}

static int teardown(void **state)
{
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

static void test_identity_parse(void **s)
{
	idn_identity_t id;
	assert_int_equal(idn_identity_parse("300:0.NA/88.100", &id), IDN_OK);
	assert_int_equal(id.index, 300);
	assert_int_equal(id.len, 11);
	assert_int_equal(idn_identity_parse("0.NA/88.100", &id), IDN_EINVAL);
	assert_int_equal(idn_identity_parse(":0.NA/x", &id), IDN_EINVAL);
	assert_int_equal(idn_identity_parse("30x:0.NA/x", &id), IDN_EINVAL);
	assert_int_equal(idn_identity_parse("300:", &id), IDN_EINVAL);
	assert_int_equal(idn_identity_parse("99999999999:0.NA/x", &id), IDN_EINVAL);
}

static void test_groups_and_loops(void **s)
{
	idn_registry_opts_t o = { .store = store, .node_prefix = "88.100",
				  .server_admins = { "300:0.NA/88.100" }, .n_server_admins = 1 };
	idn_registry_t *r;
	assert_int_equal(idn_registry_new(&o, &r), IDN_OK);
	idn_reader_t *rd;
	assert_int_equal(idn_reader_new(store, &rd), IDN_OK);
	assert_int_equal(idn_reader_begin(rd), IDN_OK);
	reg_view_t v = { NULL, rd };
	idn_record_t rec;
	assert_int_equal(idn_reader_get(rd, (const uint8_t *)"0.NA/88.100.12", 14, &rec), IDN_OK);
	idn_identity_t alice = ident("300:88.100.12/ALICE"), bob = ident("300:88.100.12/BOB");
	idn_identity_t alice2 = ident("301:88.100.12/ALICE"), root = ident("300:0.NA/88.100");
	assert_true(reg_allowed(r, &v, &rec, &alice, IDN_ADM_ADD_HANDLE));
	assert_true(reg_allowed(r, &v, &rec, &alice, IDN_ADM_ALL));
	assert_false(reg_allowed(r, &v, &rec, &bob, IDN_ADM_ADD_HANDLE));     /* loop ends */
	assert_false(reg_allowed(r, &v, &rec, &alice2, IDN_ADM_ADD_HANDLE));  /* wrong index */
	assert_true(reg_allowed(r, &v, &rec, &root, IDN_ADM_ADD_HANDLE));     /* server admin */
	assert_true(reg_allowed(r, &v, NULL, &root, IDN_ADM_ADD_HANDLE));
	assert_false(reg_allowed(r, &v, NULL, &alice, IDN_ADM_ADD_HANDLE));
	idn_identity_t none = { 0 };
	assert_false(reg_allowed(r, &v, &rec, &none, IDN_ADM_ADD_HANDLE));

	uint8_t ph[600];
	assert_int_equal(reg_prefix_handle((const uint8_t *)"88.100.12/X", 11, ph, sizeof(ph)), 14);
	assert_memory_equal(ph, "0.NA/88.100.12", 14);
	assert_int_equal(reg_prefix_handle((const uint8_t *)"0.NA/88.100.12", 14, ph, sizeof(ph)), 11);
	assert_memory_equal(ph, "0.NA/88.100", 11);
	assert_int_equal(reg_prefix_handle((const uint8_t *)"0.NA/88", 7, ph, sizeof(ph)), 9);
	assert_int_equal(reg_prefix_handle((const uint8_t *)"noslash", 7, ph, sizeof(ph)), 0);
	idn_reader_end(rd);
	idn_reader_free(rd);
	idn_registry_free(r);
}

/* ---- jobs through the writer ---- */

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

static uint32_t job_rcode(const idn_job_t *job)
{
	idn_msg_t m;
	if (!job->resp || idn_msg_decode(job->resp, job->resp_len, &m) != IDN_OK)
		return 0xffffffff;
	return m.hdr.rcode;
}

static idn_job_t *create_job(const char *handle, const uint32_t *indexes, int n, uint32_t flags)
{
	uint8_t vals[2048];
	idn_wire_t vw;
	idn_wire_init(&vw, vals, sizeof(vals));
	for (int i = 0; i < n; i++)
		put_value(&vw, indexes[i], "URL", "https://example.com", 19);
	idn_job_t *job = calloc(1, sizeof(*job));
	job->req = malloc(4096);
	idn_wire_t w;
	idn_wire_init(&w, job->req, 4096);
	idn_req_opts_t o = { .request_id = 7, .opflag = flags };
	assert_int_equal(idn_build_values_req(&w, IDN_OC_CREATE_HANDLE, handle, (uint32_t)n,
					      (idn_bytes_t){ vals, (uint32_t)idn_wire_offset(&vw) }, &o),
			 IDN_OK);
	job->req_len = idn_wire_offset(&w);
	assert_int_equal(idn_msg_decode(job->req, job->req_len, &job->msg), IDN_OK);
	job->transport = IDN_TR_TCP;
	job->ctx = (idn_resp_ctx_t){ .site_serial = 1, .primary = true, .now = (uint32_t)time(NULL) };
	job->done = on_done;
	return job;
}

static void job_free(idn_job_t *job)
{
	free(job->resp);
	free(job->req);
	free(job);
}

static void submit_all(idn_registry_t *r, idn_job_t **jobs, int n, idn_conn_state_t *cs)
{
	idn_reader_t *rd;
	assert_int_equal(idn_reader_new(store, &rd), IDN_OK);
	assert_int_equal(idn_reader_begin(rd), IDN_OK);
	pthread_mutex_lock(&mu);
	done_count = 0;
	pthread_mutex_unlock(&mu);
	for (int i = 0; i < n; i++) {
		jobs[i]->conn = cs;
		jobs[i]->reader = (struct idn_reader *)rd;
		idn_registry_submit(r, jobs[i]);
	}
	idn_reader_end(rd);
	idn_reader_free(rd);
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 10;
	pthread_mutex_lock(&mu);
	while (done_count < n)
		if (pthread_cond_timedwait(&cv, &mu, &dl) != 0)
			break;
	int got = done_count;
	pthread_mutex_unlock(&mu);
	assert_int_equal(got, n);
}

static int count_changes(void *arg, const idn_change_t *c)
{
	uint64_t *n = arg;
	assert_int_equal(c->seq, *n + 1);
	(*n)++;
	return 0;
}

static void test_batch_good_and_bad(void **s)
{
	idn_registry_opts_t o = { .store = store, .node_prefix = "88.100" };
	idn_registry_t *r;
	assert_int_equal(idn_registry_new(&o, &r), IDN_OK);
	/* Queue first, start the writer after: all of them land in one batch. */
	idn_conn_state_t alice = { .identity = ident("300:88.100.12/ALICE") };
	idn_conn_state_t bob = { .identity = ident("300:88.100.12/BOB") };
	uint32_t one[] = { 1 }, dup[] = { 1, 1 }, zero[] = { 0 };
	idn_job_t *jobs[6] = {
		create_job("88.100.12/A", one, 1, 0),
		create_job("88.100.12/B", dup, 2, 0),
		create_job("88.100.12/C", zero, 1, 0),
		create_job("88.100.12/A", one, 1, 0),      /* exists by now */
		create_job("88.100.12/D", one, 1, 0),
		create_job("88.100.12/A", one, 1, IDN_OF_OVRW),
	};
	submit_all(r, jobs, 0, &alice);
	idn_reader_t *rd;
	assert_int_equal(idn_reader_new(store, &rd), IDN_OK);
	assert_int_equal(idn_reader_begin(rd), IDN_OK);
	for (int i = 0; i < 6; i++) {
		jobs[i]->conn = &alice;
		jobs[i]->reader = (struct idn_reader *)rd;
		idn_registry_submit(r, jobs[i]);
	}
	idn_reader_end(rd);
	idn_reader_free(rd);
	assert_int_equal(idn_registry_start(r), IDN_OK);
	idn_registry_stop(r); /* drains: everything queued is answered */
	assert_int_equal(done_count, 6);
	assert_int_equal(job_rcode(jobs[0]), IDN_RC_SUCCESS);
	assert_int_equal(job_rcode(jobs[1]), IDN_RC_VALUE_ALREADY_EXISTS);
	assert_int_equal(job_rcode(jobs[2]), IDN_RC_INVALID_VALUE);
	assert_int_equal(job_rcode(jobs[3]), IDN_RC_HANDLE_ALREADY_EXISTS);
	assert_int_equal(job_rcode(jobs[4]), IDN_RC_SUCCESS);
	assert_int_equal(job_rcode(jobs[5]), IDN_RC_SUCCESS);
	idn_registry_stats_t st;
	idn_registry_stats(r, &st);
	assert_int_equal(st.commits, 1);
	assert_int_equal(st.writes_ok, 3);
	assert_int_equal(st.writes_refused, 3);
	for (int i = 0; i < 6; i++)
		job_free(jobs[i]);

	/* BOB is nobody's administrator: refused, nothing stored. */
	assert_int_equal(idn_registry_start(r), IDN_OK);
	/* A retried batch item: same values -> success, marked existed; other
	 * values -> 101 as usual. */
	idn_job_t *again = create_job("88.100.12/A", one, 1, 0);
	again->idempotent = true;
	submit_all(r, &again, 1, &alice);
	assert_int_equal(job_rcode(again), IDN_RC_SUCCESS);
	assert_true(again->existed);
	job_free(again);
	uint32_t two[] = { 1, 2 };
	again = create_job("88.100.12/A", two, 2, 0);
	again->idempotent = true;
	submit_all(r, &again, 1, &alice);
	assert_int_equal(job_rcode(again), IDN_RC_HANDLE_ALREADY_EXISTS);
	assert_false(again->existed);
	job_free(again);
	idn_job_t *b = create_job("88.100.12/E", one, 1, 0);
	submit_all(r, &b, 1, &bob);
	assert_int_equal(job_rcode(b), IDN_RC_INVALID_ADMIN);
	job_free(b);
	idn_registry_stop(r);
	idn_registry_free(r);

	assert_int_equal(idn_reader_new(store, &rd), IDN_OK);
	assert_int_equal(idn_reader_begin(rd), IDN_OK);
	idn_record_t rec;
	assert_int_equal(idn_reader_get(rd, (const uint8_t *)"88.100.12/a", 11, &rec), IDN_OK);
	assert_int_equal(idn_reader_get(rd, (const uint8_t *)"88.100.12/D", 11, &rec), IDN_OK);
	assert_int_equal(idn_reader_get(rd, (const uint8_t *)"88.100.12/B", 11, &rec), IDN_ENOTFOUND);
	assert_int_equal(idn_reader_get(rd, (const uint8_t *)"88.100.12/E", 11, &rec), IDN_ENOTFOUND);
	uint64_t ids = 0;
	assert_int_equal(idn_reader_counter_get(rd, "ids:88.100.12", 13, &ids), IDN_OK);
	assert_int_equal(ids, 2);
	idn_reader_end(rd);
	idn_reader_free(rd);
	/* Three changes (A, D, A overwritten), numbered without gaps. */
	uint64_t n = 0;
	assert_int_equal(idn_store_changes(store, 1, count_changes, &n), IDN_OK);
	assert_int_equal(n, 3);
}

static void test_unauthenticated_gets_challenge(void **s)
{
	idn_registry_opts_t o = { .store = store, .node_prefix = "88.100" };
	idn_registry_t *r;
	assert_int_equal(idn_registry_new(&o, &r), IDN_OK);
	assert_int_equal(idn_registry_start(r), IDN_OK);
	idn_conn_state_t anon = { 0 };
	uint32_t one[] = { 1 };
	idn_job_t *j = create_job("88.100.12/F", one, 1, 0);
	submit_all(r, &j, 1, &anon);
	assert_int_equal(job_rcode(j), IDN_RC_AUTHENTICATION_NEEDED);
	idn_msg_t m;
	assert_int_equal(idn_msg_decode(j->resp, j->resp_len, &m), IDN_OK);
	assert_true(m.env.session_id != 0);
	assert_true(m.hdr.opflag & IDN_OF_RD);
	job_free(j);
	/* Not our prefix: refused before any challenge. */
	j = create_job("99.1/F", one, 1, 0);
	submit_all(r, &j, 1, &anon);
	assert_int_equal(job_rcode(j), IDN_RC_SERVER_NOT_RESP);
	job_free(j);
	idn_registry_free(r);
}

/* A store that is nearly full: a large write fails, small ones around it
 * in the same batch are still stored (the batch is redone with child
 * transactions). */
static void test_full_store_isolates(void **s)
{
	char d2[128];
	assert_int_equal(tu_tmpdir("registry-full", d2, sizeof(d2)), 0);
	idn_store_t *st;
	idn_store_opts_t so = { .map_size = 2u << 20 };
	assert_int_equal(idn_store_open(d2, &so, &st), IDN_OK);
	static uint8_t big[60000];
	memset(big, 'x', sizeof(big));
	uint8_t v[70000];
	idn_wire_t w;
	/* Fill with 60 KB records until a commit no longer fits. */
	for (int i = 0; i < 100; i++) {
		idn_txn_t *t;
		assert_int_equal(idn_txn_begin(st, &t), IDN_OK);
		if (i == 0) {
			idn_txn_home(t, (const uint8_t *)"0.NA/88.100", 11);
			idn_wire_init(&w, v, sizeof(v));
			put_admin(&w, 100, IDN_ADM_ALL, "0.NA/88.100.12", 300);
			put_record(t, "0.NA/88.100.12", v, idn_wire_offset(&w), 1);
		}
		char h[32];
		snprintf(h, sizeof(h), "88.100.12/FILL-%d", i);
		idn_wire_init(&w, v, sizeof(v));
		put_value(&w, 1, "DATA", big, sizeof(big));
		put_record(t, h, v, idn_wire_offset(&w), 1);
		if (idn_txn_commit(t) != IDN_OK)
			break;
	}
	idn_registry_opts_t o = { .store = st, .node_prefix = "88.100" };
	idn_registry_t *r;
	assert_int_equal(idn_registry_new(&o, &r), IDN_OK);
	idn_conn_state_t cs = { .identity = ident("300:0.NA/88.100.12") };
	uint32_t one[] = { 1 };
	idn_job_t *jobs[3] = { create_job("88.100.12/S1", one, 1, 0), NULL,
			       create_job("88.100.12/S2", one, 1, 0) };
	/* The big one: 200 KB of values in one request. */
	uint8_t *vals = malloc(240000);
	idn_wire_t vw;
	idn_wire_init(&vw, vals, 240000);
	for (uint32_t i = 1; i <= 3; i++)
		put_value(&vw, i, "DATA", big, sizeof(big));
	idn_job_t *j = calloc(1, sizeof(*j));
	j->req = malloc(250000);
	idn_wire_init(&w, j->req, 250000);
	idn_req_opts_t ro = { .request_id = 9 };
	assert_int_equal(idn_build_values_req(&w, IDN_OC_CREATE_HANDLE, "88.100.12/BIG", 3,
					      (idn_bytes_t){ vals, (uint32_t)idn_wire_offset(&vw) }, &ro),
			 IDN_OK);
	free(vals);
	j->req_len = idn_wire_offset(&w);
	assert_int_equal(idn_msg_decode(j->req, j->req_len, &j->msg), IDN_OK);
	j->transport = IDN_TR_TCP;
	j->ctx = jobs[0]->ctx;
	j->done = on_done;
	jobs[1] = j;
	idn_reader_t *rd;
	assert_int_equal(idn_reader_new(st, &rd), IDN_OK);
	assert_int_equal(idn_reader_begin(rd), IDN_OK);
	pthread_mutex_lock(&mu);
	done_count = 0;
	pthread_mutex_unlock(&mu);
	for (int i = 0; i < 3; i++) {
		jobs[i]->conn = &cs;
		jobs[i]->reader = (struct idn_reader *)rd;
		idn_registry_submit(r, jobs[i]);
	}
	idn_reader_end(rd);
	assert_int_equal(idn_registry_start(r), IDN_OK);
	idn_registry_stop(r);
	assert_int_equal(done_count, 3);
	assert_int_equal(job_rcode(jobs[0]), IDN_RC_SUCCESS);
	assert_int_not_equal(job_rcode(jobs[1]), IDN_RC_SUCCESS);
	assert_int_equal(job_rcode(jobs[2]), IDN_RC_SUCCESS);
	assert_int_equal(idn_reader_begin(rd), IDN_OK);
	idn_record_t rec;
	assert_int_equal(idn_reader_get(rd, (const uint8_t *)"88.100.12/S2", 12, &rec), IDN_OK);
	assert_int_equal(idn_reader_get(rd, (const uint8_t *)"88.100.12/BIG", 13, &rec),
			 IDN_ENOTFOUND);
	idn_reader_end(rd);
	idn_reader_free(rd);
	for (int i = 0; i < 3; i++)
		job_free(jobs[i]);
	idn_registry_free(r);
	idn_store_close(st);
	tu_rmrf(d2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity_parse),
		cmocka_unit_test(test_groups_and_loops),
		cmocka_unit_test(test_batch_good_and_bad),
		cmocka_unit_test(test_unauthenticated_gets_challenge),
		cmocka_unit_test(test_full_store_isolates),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
