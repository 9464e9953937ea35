/* test_recursion.c - integration: resolution through the top: a secondary (A) follows the top's referral to another node (B) over UDP and TCP, caches, survives the top going away, ends referral loops, and keeps local answers fast. */
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
#include "tests/util/testutil.h"

/* T and T2: tops (home 0.NA/0.NA); B: node 88.200; A: node 88.100 with
 * upstream T; D: upstream nobody answers; N: upstream a dead address, then
 * T by name (localhost, from /etc/hosts through c-ares). */
static tu_daemon_t T, T2, B, A, D, N;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void auth_admin(idn_auth_t *a, const tu_daemon_t *d, const char *prefix)
{
	char id[64], path[256];
	memset(a, 0, sizeof(*a));
	snprintf(id, sizeof(id), "300:0.NA/%s", prefix);
	assert_int_equal(idn_auth_parse_id(a, id), IDN_OK);
	snprintf(path, sizeof(path), "%s/data/admin-key.pem", d->dir);
	assert_int_equal(idn_auth_load_key(a, path), IDN_OK);
}

/* One admin request with `n` values already encoded; returns the RC. */
static uint32_t admin(const tu_daemon_t *d, const char *prefix, uint32_t oc, const char *handle,
		      const uint8_t *vals, size_t vlen, uint32_t n)
{
	idn_client_t *c;
	assert_int_equal(idn_client_open(d->server, IDN_CLIENT_TCP, 5000, &c), IDN_OK);
	idn_auth_t a;
	auth_admin(&a, d, prefix);
	uint8_t req[16384];
	idn_wire_t w;
	idn_wire_init(&w, req, sizeof(req));
	idn_req_opts_t o = { .request_id = idn_client_request_id(c), .opflag = IDN_OF_OVRW };
	if (oc == IDN_OC_CREATE_HANDLE)
		assert_int_equal(idn_build_values_req(&w, oc, handle, n,
						      (idn_bytes_t){ vals, (uint32_t)vlen }, &o),
				 IDN_OK);
	else
		assert_int_equal(idn_build_handle_req(&w, oc, handle, &o), IDN_OK);
	idn_msg_t m;
	assert_int_equal(idn_client_admin(c, &a, req, idn_wire_offset(&w), &m), IDN_OK);
	uint32_t rc = m.hdr.rcode;
	idn_auth_free(&a);
	idn_client_close(c);
	return rc;
}

/* The node's site record (its get-site-info body). */
static size_t site_of(const tu_daemon_t *d, uint8_t *buf, size_t cap)
{
	long n = tu_site_info(d->server, buf, cap);
	assert_true(n >= 0);
	return (size_t)n;
}

static void put(idn_wire_t *w, uint32_t index, const char *type, const uint8_t *data, size_t len)
{
	idn_value_t v = { .index = index, .ttl = 86400, .perms = IDN_PERM_DEFAULT,
			  .type = { (const uint8_t *)type, (uint32_t)strlen(type) },
			  .data = { data, (uint32_t)len } };
	idn_value_encode(w, &v);
}

/* Create `handle` at d with HS_SITE and HS_SITE.PREFIX values = `site`. */
static void publish_site(const tu_daemon_t *d, const char *prefix, const char *handle,
			 const uint8_t *site, size_t sl, bool with_prefix)
{
	uint8_t vals[8192];
	idn_wire_t w;
	idn_wire_init(&w, vals, sizeof(vals));
	put(&w, 1, "HS_SITE", site, sl);
	if (with_prefix)
		put(&w, 2, "HS_SITE.PREFIX", site, sl);
	assert_int_equal(admin(d, prefix, IDN_OC_CREATE_HANDLE, handle, vals, idn_wire_offset(&w),
			       with_prefix ? 2 : 1),
			 IDN_RC_SUCCESS);
}

static void publish_url(const tu_daemon_t *d, const char *prefix, const char *handle,
			const char *url)
{
	uint8_t vals[1024];
	idn_wire_t w;
	idn_wire_init(&w, vals, sizeof(vals));
	put(&w, 1, "URL", (const uint8_t *)url, strlen(url));
	assert_int_equal(admin(d, prefix, IDN_OC_CREATE_HANDLE, handle, vals, idn_wire_offset(&w),
			       1),
			 IDN_RC_SUCCESS);
}

static int setup(void **state)
{
	const char *top[] = { "--node-prefix=88.1", "--http-listen=", "--https-listen=", NULL };
	const char *top2[] = { "--node-prefix=88.2", "--http-listen=", "--https-listen=", NULL };
	const char *b[] = { "--node-prefix=88.200", "--http-listen=", "--https-listen=", NULL };
	if (tu_daemon_start(&T, top) || tu_daemon_start(&T2, top2) || tu_daemon_start(&B, b))
		return -1;
	char up[96], dead[96];
	snprintf(up, sizeof(up), "--upstream=%s", T.server);
	/* A port nobody answers on: the stopped T2's would do, but keep it simple. */
	snprintf(dead, sizeof(dead), "--upstream=127.0.0.1:9");
	const char *a[] = { "--demo", up, "--http-listen=", "--https-listen=",
			    "--negative-ttl=60", NULL };
	const char *dd[] = { "--demo", dead, "--http-listen=", "--https-listen=",
			     "--recursion-timeout=1000", NULL };
	/* The dead address first: the request must rotate on to the name's
	 * addresses (localhost may be ::1 too, where T does not listen). */
	char named[128];
	snprintf(named, sizeof(named), "--upstream=127.0.0.1:9,localhost:%s",
		 strrchr(T.server, ':') + 1);
	const char *nn[] = { "--demo", named, "--http-listen=", "--https-listen=",
			     "--recursion-timeout=6000", NULL };
	if (tu_daemon_start(&A, a) || tu_daemon_start(&D, dd) || tu_daemon_start(&N, nn))
		return -1;
	/* The tops are roots; T refers 88.200.x to B, T and T2 refer 77.x to each other. */
	assert_int_equal(admin(&T, "88.1", IDN_OC_HOME_NA, "0.NA/0.NA", NULL, 0, 0), IDN_RC_SUCCESS);
	assert_int_equal(admin(&T2, "88.2", IDN_OC_HOME_NA, "0.NA/0.NA", NULL, 0, 0),
			 IDN_RC_SUCCESS);
	uint8_t sb[4096], st[4096], st2[4096];
	size_t nb = site_of(&B, sb, sizeof(sb)), nt = site_of(&T, st, sizeof(st)),
	       nt2 = site_of(&T2, st2, sizeof(st2));
	publish_site(&T, "88.1", "0.NA/88.200", sb, nb, true);
	publish_site(&T, "88.1", "0.NA/77", st2, nt2, true);
	publish_site(&T2, "88.2", "0.NA/77", st, nt, true);
	/* B: the enterprise prefix 88.200.1 with B's site, and its identifiers. */
	publish_site(&B, "88.200", "0.NA/88.200.1", sb, nb, false);
	publish_url(&B, "88.200", "88.200.1/X", "https://example.com/x");
	publish_url(&B, "88.200", "88.200.1/Z", "https://example.com/z");
	publish_url(&B, "88.200", "88.200/DIRECT", "https://example.com/d");
	return 0;
}

static int teardown(void **state)
{
	/* IDN_TEST_LOGS=1: show what the recursing node logged. */
	if (getenv("IDN_TEST_LOGS")) {
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "cat %s/daemon.log >&2", A.dir);
		if (system(cmd) != 0)
			fprintf(stderr, "no log in %s\n", A.dir);
	}
	tu_daemon_cleanup(&A);
	tu_daemon_cleanup(&D);
	tu_daemon_cleanup(&N);
	tu_daemon_cleanup(&B);
	tu_daemon_cleanup(&T);
	tu_daemon_cleanup(&T2);
	return 0;
}

typedef struct {
	uint32_t rc, flags, nvals;
	uint8_t recursion;
	char first[128];
} res_t;

static res_t resolve(const tu_daemon_t *d, int tr, const char *handle, uint32_t opflag)
{
	idn_client_t *c;
	assert_int_equal(idn_client_open(d->server, tr, 5000, &c), IDN_OK);
	idn_resolve_opts_t o = { .opflag = opflag };
	idn_msg_t m;
	assert_int_equal(idn_client_resolve(c, handle, &o, &m), IDN_OK);
	res_t r = { .rc = m.hdr.rcode, .flags = m.hdr.opflag, .recursion = m.hdr.recursion };
	if (r.rc == IDN_RC_SUCCESS) {
		idn_wire_t w;
		idn_wire_init_ro(&w, m.body.p, m.body.len);
		idn_bytes_t h = idn_wire_get_bstr(&w, IDN_MAX_BSTR);
		assert_true(idn_bytes_eq_str(h, handle));
		r.nvals = idn_wire_get_u32(&w);
		idn_value_t v;
		assert_int_equal(idn_value_decode(&w, &v), IDN_OK);
		snprintf(r.first, sizeof(r.first), "%.*s", (int)v.data.len, v.data.p);
	}
	idn_client_close(c);
	return r;
}

static void test_through_the_top(void **s)
{
	for (int tr = IDN_CLIENT_UDP; tr <= IDN_CLIENT_TCP; tr++) {
		/* Derived prefix: T refers (303) to B, B has the prefix and the handle. */
		res_t r = resolve(&A, tr, tr ? "88.200.1/Z" : "88.200.1/X", 0);
		assert_int_equal(r.rc, IDN_RC_SUCCESS);
		assert_int_equal(r.nvals, 1);
		assert_string_equal(r.first, tr ? "https://example.com/z" : "https://example.com/x");
		assert_int_equal(r.recursion, 1);
		assert_false(r.flags & IDN_OF_AT);
		/* Under the node prefix: T has 0.NA/88.200 itself. */
		r = resolve(&A, tr, "88.200/DIRECT", 0);
		assert_int_equal(r.rc, IDN_RC_SUCCESS);
		assert_string_equal(r.first, "https://example.com/d");
	}
	/* A prefix handle, bare and in full: asked at the top, referred to B. */
	res_t p = resolve(&A, IDN_CLIENT_UDP, "88.200.1", 0);
	assert_int_equal(p.rc, IDN_RC_SUCCESS);
	assert_int_equal(p.recursion, 1);
	assert_int_equal(resolve(&A, IDN_CLIENT_TCP, "0.NA/88.200.1", 0).rc, IDN_RC_SUCCESS);
	/* Absent at B: RC 100 relayed. */
	assert_int_equal(resolve(&A, IDN_CLIENT_UDP, "88.200.1/NONE", 0).rc, IDN_RC_HANDLE_NOT_FOUND);
	/* Without REC: the referral answer, as CNRI's. */
	assert_int_equal(resolve(&A, IDN_CLIENT_UDP, "88.200.1/X", IDN_OF_PO).rc,
			 IDN_RC_SERVER_NOT_RESP);
	/* The top itself recurses too (it holds 0.NA/88.200). */
	res_t r = resolve(&T, IDN_CLIENT_TCP, "88.200.1/X", 0);
	assert_int_equal(r.rc, IDN_RC_SUCCESS);
	assert_int_equal(r.recursion, 1);
	/* The top refers for the absent derived prefix handle. */
	assert_int_equal(resolve(&T, IDN_CLIENT_UDP, "0.NA/88.200.1", 0).rc, IDN_RC_PREFIX_REFERRAL);
	/* Too many hops already: RC 6. */
	idn_client_t *c;
	assert_int_equal(idn_client_open(A.server, IDN_CLIENT_UDP, 5000, &c), IDN_OK);
	uint8_t req[512];
	idn_wire_t w;
	idn_wire_init(&w, req, sizeof(req));
	idn_envelope_t env = { .major = 2, .minor = 11, .sugg_major = 2, .sugg_minor = 11,
			       .request_id = idn_client_request_id(c) };
	idn_header_t h = { .opcode = 1, .opflag = 0x19000000u, .site_serial = 0xffff,
			   .recursion = 4, .expiration = (uint32_t)time(NULL) + 600 };
	size_t st = idn_msg_begin(&w, &env, &h);
	idn_resolve_req_t rq = { .handle = { (const uint8_t *)"88.200.1/Q", 10 } };
	idn_resolve_req_encode(&w, &rq);
	idn_msg_end(&w, st, true);
	const uint8_t *resp;
	size_t rl;
	assert_int_equal(idn_client_send(c, req, idn_wire_offset(&w), &resp, &rl), IDN_OK);
	assert_int_equal(idn_get_be32(resp + 24), IDN_RC_RECURSION_COUNT_TOO_HIGH);
	idn_client_close(c);
}

/* An upstream given by host name: resolved on the recursor's loop, and
 * every address of every upstream tried in turn. */
static void test_upstream_by_name(void **s)
{
	res_t r = resolve(&N, IDN_CLIENT_UDP, "88.200.1/X", 0);
	assert_int_equal(r.rc, IDN_RC_SUCCESS);
	assert_string_equal(r.first, "https://example.com/x");
	assert_int_equal(r.recursion, 1);
	/* Another prefix record, over TCP: asked at the top again. */
	r = resolve(&N, IDN_CLIENT_TCP, "88.200/DIRECT", 0);
	assert_int_equal(r.rc, IDN_RC_SUCCESS);
	assert_string_equal(r.first, "https://example.com/d");
	assert_true(tu_daemon_alive(&N));
}

static void test_referral_loop(void **s)
{
	double t0 = now_ms();
	res_t r = resolve(&A, IDN_CLIENT_UDP, "77.5/x", 0);
	assert_int_equal(r.rc, IDN_RC_ERROR);
	assert_true(now_ms() - t0 < 2500);
}

static void test_dead_upstream(void **s)
{
	/* A foreign request waits for its deadline in the recursor ... */
	idn_client_t *c;
	assert_int_equal(idn_client_open(D.server, IDN_CLIENT_TCP, 5000, &c), IDN_OK);
	uint8_t req[512];
	idn_wire_t w;
	idn_wire_init(&w, req, sizeof(req));
	idn_envelope_t env = { .major = 2, .minor = 11, .sugg_major = 2, .sugg_minor = 11,
			       .request_id = 77 };
	idn_header_t h = { .opcode = 1, .opflag = 0x19000000u, .site_serial = 0xffff,
			   .expiration = (uint32_t)time(NULL) + 600 };
	size_t st = idn_msg_begin(&w, &env, &h);
	idn_resolve_req_t rq = { .handle = { (const uint8_t *)"88.200.1/X", 10 } };
	idn_resolve_req_encode(&w, &rq);
	idn_msg_end(&w, st, true);
	double t0 = now_ms();
	assert_int_equal(idn_client_write(c, req, idn_wire_offset(&w)), IDN_OK);
	/* ... while local answers come at once, over UDP and on other connections. */
	for (int i = 0; i < 20; i++) {
		double t1 = now_ms();
		res_t r = resolve(&D, i % 2, "88.100.12/PN-0001", 0);
		assert_int_equal(r.rc, IDN_RC_SUCCESS);
		assert_true(now_ms() - t1 < 200);
	}
	const uint8_t *resp;
	size_t rl;
	assert_int_equal(idn_client_read(c, 5000, &resp, &rl), IDN_OK);
	assert_int_equal(idn_get_be32(resp + 24), IDN_RC_ERROR);
	double took = now_ms() - t0;
	assert_true(took >= 900 && took < 3000);
	idn_client_close(c);
}

/* Last: stops the top. */
static void test_cache_outlives_top(void **s)
{
	assert_int_equal(resolve(&A, IDN_CLIENT_UDP, "88.200.1/X", 0).rc, IDN_RC_SUCCESS);
	assert_int_equal(tu_daemon_stop(&T), 0);
	/* The cached answer, and a new handle through the cached prefix record. */
	res_t r = resolve(&A, IDN_CLIENT_UDP, "88.200.1/X", 0);
	assert_int_equal(r.rc, IDN_RC_SUCCESS);
	assert_string_equal(r.first, "https://example.com/x");
	publish_url(&B, "88.200", "88.200.1/NEW", "https://example.com/new");
	r = resolve(&A, IDN_CLIENT_TCP, "88.200.1/NEW", 0);
	assert_int_equal(r.rc, IDN_RC_SUCCESS);
	assert_string_equal(r.first, "https://example.com/new");
	/* A negative answer is cached too: still 100 though it now exists. */
	publish_url(&B, "88.200", "88.200.1/NONE", "https://example.com/late");
	assert_int_equal(resolve(&A, IDN_CLIENT_UDP, "88.200.1/NONE", 0).rc, IDN_RC_HANDLE_NOT_FOUND);
	/* A prefix never seen needs the top: an error, not a hang. */
	double t0 = now_ms();
	assert_int_equal(resolve(&A, IDN_CLIENT_UDP, "88.300.1/X", 0).rc, IDN_RC_ERROR);
	assert_true(now_ms() - t0 < 4500);
	assert_true(tu_daemon_alive(&A));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_through_the_top),
		cmocka_unit_test(test_upstream_by_name),
		cmocka_unit_test(test_referral_loop),
		cmocka_unit_test(test_dead_upstream),
		cmocka_unit_test(test_cache_outlives_top),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
