/* test_dispatch.c - the listeners' dispatch table: jobs answered out of order and from other threads come back in request order. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "client/client.h"
#include "proto/msg.h"
#include "proto/op.h"
#include "proto/record.h"
#include "proto/respond.h"
#include "resolver/server.h"
#include "storage/store.h"
#include "tests/util/testutil.h"

#define FAKE_RC IDN_RC_INSUFFICIENT_PERMISSIONS
#define CLOSE_OC IDN_OC_LIST_HANDLES   /* the fake closes after answering this one */

/* ---- a fake dispatch handler: answers with RC 401 "fake:<RequestId>" ---- */

typedef struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	bool stop;
	bool hold;                /* keep async jobs until released */
	idn_job_t **q;
	size_t nq, capq;
	unsigned seed;
	_Atomic unsigned submitted, answered, bad_submit;
} fake_t;

static void fake_answer(idn_job_t *j)
{
	char text[64];
	snprintf(text, sizeof(text), "fake:%u", j->msg.env.request_id);
	uint8_t *buf = malloc(4096);
	idn_wire_t w;
	idn_wire_init(&w, buf, 4096);
	if (idn_resp_error(&w, &j->msg, &j->ctx, FAKE_RC, text) == IDN_OK) {
		j->resp = buf;
		j->resp_len = idn_wire_offset(&w);
	} else {
		free(buf);
	}
	j->close = j->msg.hdr.opcode == CLOSE_OC;
}

static void fake_submit(void *ctx, idn_job_t *j)
{
	fake_t *f = ctx;
	/* What the listener promises during submit(). */
	if (j->transport != IDN_TR_TCP || !j->conn || !j->reader || !j->done ||
	    j->msg.hdr.opcode == IDN_OC_RESOLUTION || j->req_len < IDN_ENVELOPE_LEN ||
	    idn_get_be32(j->req + 8) != j->msg.env.request_id)
		f->bad_submit++;
	f->submitted++;
	/* Every third job is answered at once, inside submit(). */
	pthread_mutex_lock(&f->mu);
	bool hold = f->hold;
	pthread_mutex_unlock(&f->mu);
	if (j->msg.env.request_id % 3 == 0 && !hold) {
		fake_answer(j);
		f->answered++;
		j->done(j);
		return;
	}
	pthread_mutex_lock(&f->mu);
	if (f->nq == f->capq) {
		f->capq = f->capq ? f->capq * 2 : 64;
		f->q = realloc(f->q, f->capq * sizeof(*f->q));
	}
	f->q[f->nq++] = j;
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

/* The "writer thread": answers queued jobs in random order after small delays. */
static void *fake_main(void *arg)
{
	fake_t *f = arg;
	pthread_mutex_lock(&f->mu);
	for (;;) {
		while (!f->stop && (f->nq == 0 || f->hold))
			pthread_cond_wait(&f->cv, &f->mu);
		if (f->stop)
			break;
		size_t i = (size_t)rand_r(&f->seed) % f->nq;
		idn_job_t *j = f->q[i];
		f->q[i] = f->q[--f->nq];
		pthread_mutex_unlock(&f->mu);
		if (rand_r(&f->seed) % 4 == 0)
			usleep((useconds_t)(rand_r(&f->seed) % 2000));
		fake_answer(j);
		f->answered++;
		j->done(j);
		pthread_mutex_lock(&f->mu);
	}
	/* Stopping: every job still held is answered (as the registry does). */
	while (f->nq) {
		idn_job_t *j = f->q[--f->nq];
		fake_answer(j);
		f->answered++;
		j->done(j);
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

static void fake_hold(fake_t *f, bool hold)
{
	pthread_mutex_lock(&f->mu);
	f->hold = hold;
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

static void fake_stop(fake_t *f)
{
	pthread_mutex_lock(&f->mu);
	f->stop = true;
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
	pthread_join(f->thread, NULL);
	free(f->q);
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->cv);
}

/* ---- fixture: a store with TEST/a, a server on 127.0.0.1:0 ---- */

typedef struct {
	char dir[64];
	idn_store_t *store;
	idn_server_info_t info;
	fake_t fake;
	idn_dispatch_t dispatch;
	idn_server_t *srv;
	char server[64];
	bool stopped;
} fixture_t;

static int setup_with(void **state, int workers, int max_conns)
{
	fixture_t *f = calloc(1, sizeof(*f));
	assert_int_equal(tu_tmpdir("dispatch", f->dir, sizeof(f->dir)), 0);
	assert_int_equal(idn_store_open(f->dir, NULL, &f->store), IDN_OK);
	idn_txn_t *t;
	assert_int_equal(idn_txn_begin(f->store, &t), IDN_OK);
	uint8_t vals[256];
	idn_wire_t w;
	idn_wire_init(&w, vals, sizeof(vals));
	idn_value_t v = { .index = 1, .ttl = 86400, .perms = IDN_PERM_PUBLIC_READ | 0x0c,
			  .type = { (const uint8_t *)"URL", 3 },
			  .data = { (const uint8_t *)"https://example.com/a", 21 } };
	idn_value_encode(&w, &v);
	idn_txn_put(t, (const uint8_t *)"TEST/a", 6, vals, idn_wire_offset(&w), 1);
	idn_txn_home(t, (const uint8_t *)"0.NA/TEST", 9);
	assert_int_equal(idn_txn_commit(t), IDN_OK);

	f->info.site_serial = 1;
	pthread_mutex_init(&f->fake.mu, NULL);
	pthread_cond_init(&f->fake.cv, NULL);
	f->fake.seed = (unsigned)time(NULL);
	assert_int_equal(pthread_create(&f->fake.thread, NULL, fake_main, &f->fake), 0);
	f->dispatch.ctx = &f->fake;
	f->dispatch.submit = fake_submit;

	idn_server_opts_t o = { .listen = "127.0.0.1:0", .workers = workers, .tcp_idle_timeout = 30,
				.tcp_max_conns = max_conns, .store = f->store, .info = &f->info,
				.dispatch = &f->dispatch };
	assert_int_equal(idn_server_new(&o, &f->srv), IDN_OK);
	assert_int_equal(idn_server_start(f->srv), IDN_OK);
	snprintf(f->server, sizeof(f->server), "127.0.0.1:%u", idn_server_port(f->srv));
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, 2, 64);
}

static int setup_few_conns(void **state)
{
	/* One worker, so every connection counts against the same limit. */
	return setup_with(state, 1, 2);
}

static int teardown(void **state)
{
	fixture_t *f = *state;
	/* The documented order: server, then handler, then free. */
	idn_server_stop(f->srv);
	fake_stop(&f->fake);
	assert_int_equal(f->fake.bad_submit, 0);
	assert_int_equal(f->fake.answered, f->fake.submitted);
	idn_server_free(f->srv);
	idn_store_close(f->store);
	tu_rmrf(f->dir);
	free(f);
	return 0;
}

/* ---- client side ---- */

static int tcp_connect(fixture_t *f)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(idn_server_port(f->srv)) };
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static size_t make_req(uint8_t *buf, size_t cap, uint32_t opcode, const char *handle,
		       uint32_t rid)
{
	idn_envelope_t env = { 2, 10, 0, 2, 11, 77, rid, 0, 0 };
	idn_header_t hdr = { .opcode = opcode, .opflag = opcode == IDN_OC_RESOLUTION ? IDN_OF_REC : 0,
			     .site_serial = 0xffff, .expiration = (uint32_t)time(NULL) + 600 };
	idn_wire_t w;
	idn_wire_init(&w, buf, cap);
	size_t st = idn_msg_begin(&w, &env, &hdr);
	if (opcode == IDN_OC_RESOLUTION) {
		idn_resolve_req_t r = { .handle = { (const uint8_t *)handle,
						    (uint32_t)strlen(handle) } };
		idn_resolve_req_encode(&w, &r);
	} else {
		idn_wire_put_bstr(&w, handle, strlen(handle));
	}
	assert_int_equal(idn_msg_end(&w, st, true), IDN_OK);
	return idn_wire_offset(&w);
}

/* Read one framed message (bounded wait); its length, 0 on close. */
static size_t read_msg(int fd, uint8_t *buf, size_t cap)
{
	size_t got = 0, want = IDN_ENVELOPE_LEN;
	while (got < want) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		assert_int_equal(poll(&p, 1, 10000), 1);
		ssize_t n = recv(fd, buf + got, want - got, 0);
		if (n <= 0)
			return 0;
		got += (size_t)n;
		if (got == IDN_ENVELOPE_LEN) {
			want += idn_get_be32(buf + 16);
			assert_true(want <= cap);
		}
	}
	return got;
}

/* The expected answer to request i of a mixed pipeline. */
static uint32_t mixed_opcode(int i)
{
	static const uint32_t admin[] = { IDN_OC_CREATE_HANDLE, IDN_OC_DELETE_HANDLE,
					  IDN_OC_ADD_VALUE, IDN_OC_HOME_NA,
					  IDN_OC_LOGIN_ID_SYSTEM, IDN_OC_RESPONSE_TO_CHALLENGE,
					  IDN_OC_SESSION_SETUP, 9999 };
	if (i % 3 == 1)
		return IDN_OC_RESOLUTION;
	return admin[(i / 3) % 8];
}

static void check_answer(const uint8_t *resp, size_t n, uint32_t opcode, uint32_t rid, int i)
{
	idn_msg_t m;
	assert_int_equal(idn_msg_decode(resp, n, &m), IDN_OK);
	assert_int_equal(m.env.request_id, rid);
	assert_int_equal(m.env.session_id, 77);
	if (opcode == IDN_OC_RESOLUTION) {
		assert_int_equal(m.hdr.rcode, i % 2 ? IDN_RC_SUCCESS : IDN_RC_HANDLE_NOT_FOUND);
		return;
	}
	assert_int_equal(m.hdr.rcode, FAKE_RC);
	assert_int_equal(m.hdr.opcode, opcode);
	idn_bytes_t text;
	assert_int_equal(idn_error_body_decode(m.body.p, m.body.len, &text), IDN_OK);
	char want[64];
	snprintf(want, sizeof(want), "fake:%u", rid);
	assert_int_equal(text.len, strlen(want));
	assert_memory_equal(text.p, want, text.len);
}

/* Many requests on one connection, admin ones answered out of order by
 * another thread or inside submit(): every answer comes back in order. */
static void test_pipelined_in_order(void **state)
{
	fixture_t *f = *state;
	enum { N = 900 };          /* 600 jobs: over the per-connection limit */
	uint8_t *all = malloc((size_t)N * 128);
	size_t total = 0;
	for (int i = 0; i < N; i++) {
		uint32_t oc = mixed_opcode(i);
		const char *h = oc == IDN_OC_RESOLUTION ? (i % 2 ? "TEST/a" : "TEST/missing")
							: "TEST/admin";
		total += make_req(all + total, 128, oc, h, (uint32_t)(1000 + i));
	}
	int fd = tcp_connect(f);
	/* Send and read at once: the server stops reading while 256 jobs are
	 * out, so a client that only wrote could fill both socket buffers. */
	size_t sent = 0;
	uint8_t resp[4096];
	size_t rgot = 0, want = IDN_ENVELOPE_LEN;
	int answered = 0;
	while (answered < N) {
		struct pollfd p = { .fd = fd, .events = POLLIN | (sent < total ? POLLOUT : 0) };
		assert_int_equal(poll(&p, 1, 10000), 1);
		if ((p.revents & POLLOUT) && sent < total) {
			ssize_t n = send(fd, all + sent, total - sent < 4000 ? total - sent : 4000,
					 MSG_DONTWAIT);
			assert_true(n > 0);
			sent += (size_t)n;
		}
		if (p.revents & POLLIN) {
			ssize_t n = recv(fd, resp + rgot, want - rgot, MSG_DONTWAIT);
			assert_true(n > 0);
			rgot += (size_t)n;
			if (rgot == IDN_ENVELOPE_LEN) {
				want += idn_get_be32(resp + 16);
				assert_true(want <= sizeof(resp));
			}
			if (rgot == want) {
				check_answer(resp, rgot, mixed_opcode(answered),
					     (uint32_t)(1000 + answered), answered);
				answered++;
				rgot = 0;
				want = IDN_ENVELOPE_LEN;
			}
		}
	}
	assert_int_equal(f->fake.submitted, N / 3 * 2);
	/* Half-close: still answered, then closed. */
	size_t n = make_req(all, 128, IDN_OC_DELETE_HANDLE, "TEST/x", 5);
	assert_int_equal(send(fd, all, n, 0), (ssize_t)n);
	shutdown(fd, SHUT_WR);
	n = read_msg(fd, resp, sizeof(resp));
	check_answer(resp, n, IDN_OC_DELETE_HANDLE, 5, 0);
	assert_int_equal(read_msg(fd, resp, sizeof(resp)), 0);
	close(fd);
	free(all);
}

/* Wait (bounded) until the fake has seen `n` jobs and answered them all. */
static void wait_jobs(fixture_t *f, unsigned submitted, bool answered)
{
	for (int i = 0; i < 5000; i++) {
		if (f->fake.submitted >= submitted && (!answered || f->fake.answered == f->fake.submitted))
			return;
		usleep(1000);
	}
	fail_msg("jobs: %u submitted, %u answered, want %u", f->fake.submitted,
		 f->fake.answered, submitted);
}

/* A connection reset while its jobs are out is kept until they come back,
 * then freed: with only 2 connections allowed, leaked ones would lock us out. */
static void test_reset_with_jobs_out(void **state)
{
	fixture_t *f = *state;
	unsigned expect = 0;
	for (int round = 0; round < 6; round++) {
		fake_hold(&f->fake, true);
		int fd = tcp_connect(f);
		uint8_t all[40 * 128];
		size_t total = 0;
		for (int i = 0; i < 40; i++)
			total += make_req(all + total, 128,
					  i % 4 == 3 ? IDN_OC_RESOLUTION : IDN_OC_ADD_VALUE, "TEST/a",
					  (uint32_t)(i + 1));
		assert_int_equal(send(fd, all, total, 0), (ssize_t)total);
		expect += 30;
		wait_jobs(f, expect, false);
		/* RST, so the server sees an error rather than an end of input. */
		struct linger lg = { 1, 0 };
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(fd);
		usleep(2000);
		fake_hold(&f->fake, false);
		wait_jobs(f, expect, true);
	}
	/* The worker may need a moment to handle the last completions. */
	for (int i = 0; i < 1000; i++) {
		idn_client_t *c;
		assert_int_equal(idn_client_open(f->server, IDN_CLIENT_TCP, 3000, &c), IDN_OK);
		idn_msg_t m;
		int rc = idn_client_resolve(c, "TEST/a", NULL, &m);
		uint32_t code = rc == IDN_OK ? m.hdr.rcode : 0;
		idn_client_close(c);
		if (code == IDN_RC_SUCCESS)
			return;
		usleep(1000);
	}
	fail_msg("no connection accepted after resets");
}

/* job->close: the answer, then the close; nothing after it is answered. */
static void test_job_close(void **state)
{
	fixture_t *f = *state;
	int fd = tcp_connect(f);
	uint8_t all[4 * 128], resp[4096];
	size_t total = 0;
	total += make_req(all + total, 128, IDN_OC_RESOLUTION, "TEST/a", 1);
	total += make_req(all + total, 128, IDN_OC_DELETE_HANDLE, "TEST/a", 2);
	total += make_req(all + total, 128, CLOSE_OC, "TEST", 4);
	total += make_req(all + total, 128, IDN_OC_RESOLUTION, "TEST/a", 5);
	assert_int_equal(send(fd, all, total, 0), (ssize_t)total);
	size_t n = read_msg(fd, resp, sizeof(resp));
	check_answer(resp, n, IDN_OC_RESOLUTION, 1, 1);
	n = read_msg(fd, resp, sizeof(resp));
	check_answer(resp, n, IDN_OC_DELETE_HANDLE, 2, 0);
	n = read_msg(fd, resp, sizeof(resp));
	check_answer(resp, n, CLOSE_OC, 4, 0);
	assert_int_equal(read_msg(fd, resp, sizeof(resp)), 0);
	close(fd);
}

/* UDP never carries admin operations: RC 4, and the handler sees nothing. */
static void test_udp_admin_refused(void **state)
{
	fixture_t *f = *state;
	idn_client_t *c;
	assert_int_equal(idn_client_open(f->server, IDN_CLIENT_UDP, 3000, &c), IDN_OK);
	uint8_t req[128];
	size_t n = make_req(req, sizeof(req), IDN_OC_DELETE_HANDLE, "TEST/a", 42);
	const uint8_t *resp;
	size_t rlen;
	assert_int_equal(idn_client_send(c, req, n, &resp, &rlen), IDN_OK);
	idn_msg_t m;
	assert_int_equal(idn_msg_decode(resp, rlen, &m), IDN_OK);
	assert_int_equal(m.hdr.rcode, IDN_RC_PROTOCOL_ERROR);
	idn_bytes_t text;
	assert_int_equal(idn_error_body_decode(m.body.p, m.body.len, &text), IDN_OK);
	assert_memory_equal(text.p, "Received admin request on non-admin interface", text.len);
	idn_client_close(c);
	/* Compressed requests over TCP are still answered by the query step. */
	assert_int_equal(idn_client_open(f->server, IDN_CLIENT_TCP, 3000, &c), IDN_OK);
	n = make_req(req, sizeof(req), IDN_OC_DELETE_HANDLE, "TEST/a", 43);
	req[2] |= IDN_ENV_CP;
	assert_int_equal(idn_client_send(c, req, n, &resp, &rlen), IDN_OK);
	assert_int_equal(idn_get_be32(resp + 24), IDN_RC_SESSION_FAILED);
	idn_client_close(c);
	assert_int_equal(f->fake.submitted, 0);
}

/* Jobs held by the handler across idn_server_stop(): answered after it,
 * queued and freed by idn_server_free() (LSan checks nothing leaks). */
static void test_stop_with_jobs_out(void **state)
{
	fixture_t *f = *state;
	fake_hold(&f->fake, true);
	int fd = tcp_connect(f);
	uint8_t all[20 * 128];
	size_t total = 0;
	for (int i = 0; i < 20; i++)
		total += make_req(all + total, 128, IDN_OC_MODIFY_VALUE, "TEST/a", (uint32_t)(i + 1));
	assert_int_equal(send(fd, all, total, 0), (ssize_t)total);
	wait_jobs(f, 20, false);
	/* teardown stops the server, then the handler (which answers all 20
	 * jobs into the stopped server), then frees the server. */
	close(fd);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pipelined_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_with_jobs_out, setup_few_conns, teardown),
		cmocka_unit_test_setup_teardown(test_job_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udp_admin_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_with_jobs_out, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
