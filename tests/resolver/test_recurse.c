/* test_recurse.c - the recursor against a lying upstream on loopback: wrong handle, oversized, undecodable, silent; each ends in RC 2 and nothing is cached. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
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

#include "proto/msg.h"
#include "resolver/recurse.h"
#include "tests/util/testutil.h"

enum { M_WRONG_HANDLE, M_OVERSIZED, M_GARBAGE, M_SILENT, M_GOOD };

static atomic_int mode;
static atomic_int stop_fake;
static int fake_fd;

/* The fake top: answers every request by `mode`. */
static void *fake_top(void *arg)
{
	uint8_t in[600], out[1024];
	while (!atomic_load(&stop_fake)) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fake_fd, in, sizeof(in), 0, (struct sockaddr *)&from, &fl);
		if (n < IDN_ENVELOPE_LEN)
			continue;
		int m = atomic_load(&mode);
		if (m == M_SILENT)
			continue;
		idn_wire_t w;
		idn_wire_init(&w, out, sizeof(out));
		idn_envelope_t env = { .major = 2, .minor = 11, .request_id = idn_get_be32(in + 8) };
		idn_header_t h = { .opcode = 1, .rcode = 1, .opflag = IDN_OF_REC,
				   .expiration = (uint32_t)time(NULL) + 600 };
		size_t st = idn_msg_begin(&w, &env, &h);
		const char *handle = m == M_GOOD ? "0.NA/55.1" : "0.NA/OTHER";
		idn_wire_put_bstr(&w, (const uint8_t *)handle, strlen(handle));
		idn_wire_put_u32(&w, 0);
		idn_msg_end(&w, st, true);
		size_t len = idn_wire_offset(&w);
		if (m == M_OVERSIZED)
			idn_put_be32(out + 16, 0x7fffffff);
		if (m == M_GARBAGE)
			memset(out + IDN_ENVELOPE_LEN, 0xee, len - IDN_ENVELOPE_LEN);
		sendto(fake_fd, out, len, 0, (struct sockaddr *)&from, fl);
	}
	return NULL;
}

typedef struct {
	idn_job_t job;
	uint8_t req[512];
	atomic_int done;
} tjob_t;

static void on_done(idn_job_t *j)
{
	atomic_store(&((tjob_t *)j)->done, 1);
}

static uint32_t run_job(idn_dispatch_t *d, const char *handle)
{
	tjob_t *t = calloc(1, sizeof(*t));
	idn_wire_t w;
	idn_wire_init(&w, t->req, sizeof(t->req));
	idn_envelope_t env = { .major = 2, .minor = 11, .sugg_major = 2, .sugg_minor = 11,
			       .request_id = 4242 };
	idn_header_t h = { .opcode = 1, .opflag = 0x19000000u, .site_serial = 0xffff,
			   .expiration = (uint32_t)time(NULL) + 600 };
	size_t st = idn_msg_begin(&w, &env, &h);
	idn_resolve_req_t r = { .handle = { (const uint8_t *)handle, (uint32_t)strlen(handle) } };
	idn_resolve_req_encode(&w, &r);
	idn_msg_end(&w, st, true);
	t->job.req = t->req;
	t->job.req_len = idn_wire_offset(&w);
	assert_int_equal(idn_msg_decode(t->req, t->job.req_len, &t->job.msg), IDN_OK);
	t->job.transport = IDN_TR_UDP;
	t->job.ctx.now = (uint32_t)time(NULL);
	t->job.done = on_done;
	d->submit(d->ctx, &t->job);
	for (int i = 0; i < 500 && !atomic_load(&t->done); i++)
		usleep(10000);
	assert_true(atomic_load(&t->done));
	uint32_t rc = 0;
	if (t->job.resp && t->job.resp_len >= IDN_MSG_BODY_OFF) {
		rc = idn_get_be32(t->job.resp + 24);
		/* The client's request id, one more hop, AT clear. */
		assert_int_equal(idn_get_be32(t->job.resp + 8), 4242);
		assert_int_equal(t->job.resp[IDN_ENVELOPE_LEN + 14], 1);
		assert_false(idn_get_be32(t->job.resp + 28) & IDN_OF_AT);
	}
	free(t->job.resp);
	free(t);
	return rc;
}

static void test_lying_upstream(void **s)
{
	char dir[64];
	assert_int_equal(tu_tmpdir("recurse", dir, sizeof(dir)), 0);
	idn_store_t *store;
	assert_int_equal(idn_store_open(dir, NULL, &store), IDN_OK);
	fake_fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_int_equal(bind(fake_fd, (struct sockaddr *)&a, sizeof(a)), 0);
	socklen_t al = sizeof(a);
	getsockname(fake_fd, (struct sockaddr *)&a, &al);
	struct timeval tv = { 0, 100000 };
	setsockopt(fake_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	pthread_t th;
	pthread_create(&th, NULL, fake_top, NULL);

	char up[64];
	snprintf(up, sizeof(up), "127.0.0.1:%u", ntohs(a.sin_port));
	idn_rcc_t *cache;
	assert_int_equal(idn_rcc_new(1 << 20, &cache), IDN_OK);
	idn_server_info_t info = { .site_serial = 1 };
	idn_recursor_opts_t o = { .store = store, .info = &info, .upstream = up, .cache = cache,
				  .timeout_ms = 400, .negative_ttl = 60 };
	idn_recursor_t *r;
	assert_int_equal(idn_recursor_new(&o, &r), IDN_OK);
	idn_dispatch_t d;
	idn_recursor_dispatch(r, &d);
	assert_int_equal(idn_recursor_start(r), IDN_OK);

	static const int modes[] = { M_WRONG_HANDLE, M_OVERSIZED, M_GARBAGE, M_SILENT };
	for (size_t i = 0; i < 4; i++) {
		atomic_store(&mode, modes[i]);
		assert_int_equal(run_job(&d, "55.1/x"), IDN_RC_ERROR);
	}
	/* A good prefix record without a site: still an error, not a hang. */
	atomic_store(&mode, M_GOOD);
	assert_int_equal(run_job(&d, "55.1/x"), IDN_RC_ERROR);
	idn_recursor_stats_t st;
	idn_recursor_stats(r, &st);
	assert_int_equal(st.jobs, 5);
	assert_int_equal(st.answered, 5);
	assert_true(st.timeouts >= 1);
	idn_rcc_stats_t cs;
	idn_rcc_stats(cache, &cs);
	/* Only the (empty, good) prefix record may have been kept. */
	assert_true(cs.entries <= 1);

	idn_recursor_stop(r);
	idn_recursor_free(r);
	idn_rcc_free(cache);
	atomic_store(&stop_fake, 1);
	pthread_join(th, NULL);
	close(fake_fd);
	idn_store_close(store);
	tu_rmrf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lying_upstream),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
