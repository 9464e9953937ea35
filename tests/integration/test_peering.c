/* test_peering.c - integration: a secondary node registering upward at a top-level node (role=top): admission, its site record, enterprise prefixes, the outbox while the top is down, a host name resolved with c-ares. */
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

/* T: the top (88, root); S: secondary 88.100 (upstream by address);
 * L: secondary 88.200 (a dead address first, then "localhost"). */
static tu_daemon_t T, S, L;
static char bin[256], out[65536], top_listen[96], top_up[96];

#define WAIT_S 20

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int start_top(bool again)
{
	const char *a[] = { "--role=top", "--node-prefix=88", "--http-listen=", "--https-listen=",
			    top_listen, NULL };
	if (!again)
		a[4] = NULL;
	return again ? tu_daemon_restart(&T, a) : tu_daemon_start(&T, a);
}

static int setup(void **state)
{
	tu_bin("idnode", bin, sizeof(bin));
	if (start_top(false))
		return -1;
	snprintf(top_listen, sizeof(top_listen), "--listen=%s", T.server);
	snprintf(top_up, sizeof(top_up), "--upstream=%s", T.server);
	/* Retries every second at most, so the test need not wait long. */
	const char *s[] = { top_up, "--upstream-retry-max=1", "--http-listen=", "--https-listen=",
			    NULL };
	return tu_daemon_start(&S, s);
}

static int teardown(void **state)
{
	tu_daemon_cleanup(&S);
	tu_daemon_cleanup(&L);
	tu_daemon_cleanup(&T);
	return 0;
}

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	char args[2048], cmd[2400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "%s %s 2>&1", bin, args);
	return tu_run(cmd, out, sizeof(out));
}

/* The node's site record: its get-site-info answer. */
static size_t site_of(const tu_daemon_t *d, uint8_t *buf, size_t cap)
{
	long n = tu_site_info(d->server, buf, cap);
	assert_true(n >= 0);
	return (size_t)n;
}

/* Resolve `handle` at d: its RC; with `type`, whether a value of that
 * type holds exactly `data` (RC 1 and found -> 1, else 0 / the RC). */
static uint32_t resolve(const tu_daemon_t *d, const char *handle, const char *type,
			const uint8_t *data, size_t dl, bool *match)
{
	idn_client_t *c;
	*match = false;
	if (idn_client_open(d->server, IDN_CLIENT_TCP, 5000, &c) != IDN_OK)
		return 0;
	idn_resolve_opts_t o = { 0 };
	idn_msg_t m;
	uint32_t rc = 0;
	if (idn_client_resolve(c, handle, &o, &m) == IDN_OK) {
		rc = m.hdr.rcode;
		idn_wire_t w;
		idn_wire_init_ro(&w, m.body.p, m.body.len);
		idn_wire_get_bstr(&w, IDN_MAX_BSTR);
		uint32_t n = rc == IDN_RC_SUCCESS ? idn_wire_get_u32(&w) : 0;
		for (uint32_t i = 0; i < n && type; i++) {
			idn_value_t v;
			if (idn_value_decode(&w, &v) != IDN_OK)
				break;
			if (idn_bytes_eq_str(v.type, type) && v.data.len == dl &&
			    memcmp(v.data.p, data, dl) == 0)
				*match = true;
		}
	}
	idn_client_close(c);
	return rc;
}

/* Wait (bounded) until `handle` at the top has `type` = data. */
static bool top_has(const char *handle, const char *type, const uint8_t *data, size_t dl)
{
	double end = now_s() + WAIT_S;
	bool match = false;
	while (now_s() < end) {
		resolve(&T, handle, type, data, dl, &match);
		if (match)
			return true;
		usleep(100000);
	}
	return false;
}

/* The outbox of a running node, read from its store (LMDB: readers in
 * another process are fine). */
static uint64_t outbox_len(const tu_daemon_t *d)
{
	char path[200];
	snprintf(path, sizeof(path), "%s/data", d->dir);
	idn_store_opts_t o = { .read_only = true };
	idn_store_t *s;
	assert_int_equal(idn_store_open(path, &o, &s), IDN_OK);
	uint64_t n;
	uint32_t oldest;
	assert_int_equal(idn_store_outbox_stat(s, &n, &oldest), IDN_OK);
	idn_store_close(s);
	return n;
}

static bool outbox_drains(const tu_daemon_t *d)
{
	double end = now_s() + WAIT_S;
	while (now_s() < end) {
		if (outbox_len(d) == 0)
			return true;
		usleep(100000);
	}
	return false;
}

static void admit(const tu_daemon_t *d, const char *prefix)
{
	assert_int_equal(run("prefix create %s --admin-pubkey=%s/data/admin-key.pem.pub "
			     "--auth=300:0.NA/88 --key=%s/data/admin-key.pem --server=%s",
			     prefix, d->dir, T.dir, T.server),
			 0);
}

/* The top's operator admits 88.100 (it is refused until then and keeps
 * trying); the secondary then publishes its own site record there. */
static void test_admit_and_register(void **state)
{
	uint8_t site[4096];
	size_t sl = site_of(&S, site, sizeof(site));
	admit(&S, "88.100");
	assert_true(top_has("0.NA/88.100", "HS_SITE", site, sl));
	assert_true(top_has("0.NA/88.100", "HS_SITE.PREFIX", site, sl));
	assert_true(outbox_drains(&S));
}

static void test_enterprise_prefix(void **state)
{
	uint8_t site[4096];
	size_t sl = site_of(&S, site, sizeof(site));
	assert_int_equal(run("keygen --out=%s/ent.pem", S.dir), 0);
	assert_int_equal(run("prefix create 88.100.12 --admin-pubkey=%s/ent.pub.pem "
			     "--auth=300:0.NA/88.100 --key=%s/data/admin-key.pem --server=%s",
			     S.dir, S.dir, S.server),
			 0);
	assert_true(top_has("0.NA/88.100.12", "HS_SITE", site, sl));
	assert_true(top_has("0.NA/88.100.12", "HS_SITE.PREFIX", site, sl));
	assert_true(outbox_drains(&S));
}

/* The top goes away: the secondary goes on registering, the outbox holds
 * what the top must learn; when the top is back, it drains in order. */
static void test_top_down(void **state)
{
	uint8_t site[4096];
	size_t sl = site_of(&S, site, sizeof(site));
	assert_int_equal(tu_daemon_stop(&T), 0);
	const char *auth = "--auth=300:0.NA/88.100";
	for (int i = 13; i <= 14; i++)
		assert_int_equal(run("prefix create 88.100.%d --admin-pubkey=%s/ent.pub.pem %s "
				     "--key=%s/data/admin-key.pem --server=%s",
				     i, S.dir, auth, S.dir, S.server),
				 0);
	assert_int_equal(run("delete 0.NA/88.100.12 %s --key=%s/data/admin-key.pem --server=%s",
			     auth, S.dir, S.server),
			 0);
	assert_int_equal(outbox_len(&S), 3);
	sleep(2); /* a few failed attempts: still nothing lost */
	assert_int_equal(outbox_len(&S), 3);

	assert_int_equal(start_top(true), 0);
	assert_true(outbox_drains(&S));
	assert_true(top_has("0.NA/88.100.13", "HS_SITE", site, sl));
	assert_true(top_has("0.NA/88.100.14", "HS_SITE", site, sl));
	bool m;
	uint32_t rc = resolve(&T, "0.NA/88.100.12", NULL, NULL, 0, &m);
	assert_true(rc == IDN_RC_PREFIX_REFERRAL || rc == IDN_RC_HANDLE_NOT_FOUND);

	/* A restart with the same site queues nothing again. */
	char listen[96];
	snprintf(listen, sizeof(listen), "--listen=%s", S.server);
	assert_int_equal(tu_daemon_stop(&S), 0);
	const char *s[] = { top_up, "--upstream-retry-max=1", "--http-listen=", "--https-listen=",
			    listen, NULL };
	assert_int_equal(tu_daemon_restart(&S, s), 0);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "grep -c '; 0 queued now' %s/daemon.log", S.dir);
	assert_int_equal(tu_run(cmd, out, sizeof(out)), 0);
	assert_int_equal(atoi(out), 1);
	/* The stop logged the outbox. */
	snprintf(cmd, sizeof(cmd), "grep -c 'outbox: 0 waiting' %s/daemon.log", S.dir);
	assert_int_equal(tu_run(cmd, out, sizeof(out)), 0);
}

/* A host name (c-ares, /etc/hosts), after an address nobody answers on. */
static void test_localhost(void **state)
{
	char up[96];
	snprintf(up, sizeof(up), "--upstream=127.0.0.1:9,localhost:%u", T.port);
	const char *l[] = { "--node-prefix=88.200", up, "--upstream-retry-max=1", "--http-listen=",
			    "--https-listen=", NULL };
	assert_int_equal(tu_daemon_start(&L, l), 0);
	uint8_t site[4096];
	size_t sl = site_of(&L, site, sizeof(site));
	admit(&L, "88.200");
	assert_true(top_has("0.NA/88.200", "HS_SITE.PREFIX", site, sl));
	assert_true(outbox_drains(&L));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_admit_and_register),
		cmocka_unit_test(test_enterprise_prefix),
		cmocka_unit_test(test_top_down),
		cmocka_unit_test(test_localhost),
	};
	return cmocka_run_group_tests_name("integration/peering", tests, setup, teardown);
}
