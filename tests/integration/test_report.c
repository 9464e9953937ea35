/* test_report.c - integration: resolutions over UDP/TCP/HTTP and registrations on idnoded --demo show up in /metrics, the store's day counters and `idnode report`. */
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
#include <jansson.h>

#include "client/client.h"
#include "proto/civil.h"
#include "proto/pkey.h"
#include "proto/record.h"
#include "proto/volreport.h"
#include "storage/store.h"
#include "tests/util/testutil.h"

static tu_daemon_t D;
static char out[1 << 16];

static int setup(void **state)
{
	const char *extra[] = { "--demo", "--utc-offset=480", NULL };
	if (tu_daemon_start(&D, extra) != 0) {
		fprintf(stderr, "idnoded did not become ready (log in %s)\n", D.dir);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	tu_daemon_cleanup(&D);
	return 0;
}

static uint32_t resolve(int transport, const char *handle)
{
	idn_client_t *c;
	assert_int_equal(idn_client_open(D.server, transport, 3000, &c), IDN_OK);
	idn_msg_t m;
	assert_int_equal(idn_client_resolve(c, handle, NULL, &m), IDN_OK);
	uint32_t rc = m.hdr.rcode;
	idn_client_close(c);
	return rc;
}

static int sum_cb(void *arg, idn_bytes_t name, uint64_t v)
{
	*(uint64_t *)arg += v;
	return 0;
}

/* Sum of the store's counters under a prefix, read next to the node. */
static uint64_t stored(const char *prefix)
{
	char dir[256];
	snprintf(dir, sizeof(dir), "%s/data", D.dir);
	idn_store_t *s;
	idn_store_opts_t so = { .read_only = true };
	assert_int_equal(idn_store_open(dir, &so, &s), IDN_OK);
	uint64_t n = 0;
	assert_int_equal(idn_store_foreach_counter(s, prefix, strlen(prefix), sum_cb, &n), IDN_OK);
	idn_store_close(s);
	return n;
}

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return tu_run(cmd, out, sizeof(out));
}

/* A top's view: 0.NA/<node> records holding a node's HS_SITE (its key) and
 * its signed IDNODE_VOLUME value (tampered when asked). */
static void put_report(idn_store_t *st, const char *node, const idn_pkey_t *k, bool tamper)
{
	uint8_t pk[1024], site[2048], vals[8192];
	idn_wire_t pw, sw, vw;
	idn_wire_init(&pw, pk, sizeof(pk));
	assert_int_equal(idn_pkey_hs_pubkey(k, &pw), IDN_OK);
	idn_site_t *si = calloc(1, sizeof(*si));
	si->data_version = 1;
	si->proto_major = 2;
	si->proto_minor = 10;
	si->n_servers = 1;
	si->servers[0].pubkey = (idn_bytes_t){ pk, (uint32_t)idn_wire_offset(&pw) };
	idn_wire_init(&sw, site, sizeof(site));
	idn_site_encode(&sw, si);
	free(si);
	idn_volreport_t v = { .resolutions = 1234, .registrations = 56, .identifiers = 789,
			      .enterprises = 3 };
	snprintf(v.node, sizeof(v.node), "%s", node);
	snprintf(v.date, sizeof(v.date), "2026-11-30");
	char *data;
	size_t dl;
	assert_int_equal(idn_volreport_build(&v, k, &data, &dl), IDN_OK);
	if (tamper)
		strstr(data, "1234")[0] = '9';
	idn_wire_init(&vw, vals, sizeof(vals));
	idn_value_t a = { .index = 1, .ttl = 86400, .perms = IDN_PERM_DEFAULT,
			  .type = { (const uint8_t *)"HS_SITE", 7 },
			  .data = { site, (uint32_t)idn_wire_offset(&sw) } };
	idn_value_t b = { .index = IDN_VOLUME_INDEX, .ttl = 86400,
			  .perms = IDN_PERM_ADMIN_READ | IDN_PERM_ADMIN_WRITE,
			  .type = { (const uint8_t *)IDN_VOLUME_TYPE, 13 },
			  .data = { (const uint8_t *)data, (uint32_t)dl } };
	idn_value_encode(&vw, &a);
	idn_value_encode(&vw, &b);
	assert_int_equal(vw.err, IDN_OK);
	char h[64];
	snprintf(h, sizeof(h), "0.NA/%s", node);
	idn_txn_t *t;
	assert_int_equal(idn_txn_begin(st, &t), IDN_OK);
	idn_txn_put(t, (const uint8_t *)h, strlen(h), vals, idn_wire_offset(&vw), 2);
	assert_int_equal(idn_txn_commit(t), IDN_OK);
	free(data);
}

static void test_volumes(void **s)
{
	char idnode[256];
	tu_bin("idnode", idnode, sizeof(idnode));
	/* 4 UDP (3 found, 1 not), 2 TCP, 2 HTTP (1 found, 1 not). */
	for (int i = 0; i < 3; i++)
		assert_int_equal(resolve(IDN_CLIENT_UDP, "88.100.12/PN-0001"), IDN_RC_SUCCESS);
	assert_int_equal(resolve(IDN_CLIENT_UDP, "88.100.12/NO-SUCH"), IDN_RC_HANDLE_NOT_FOUND);
	for (int i = 0; i < 2; i++)
		assert_int_equal(resolve(IDN_CLIENT_TCP, "88.100.12/PN-0001"), IDN_RC_SUCCESS);
	assert_int_equal(run("curl -s -o /dev/null -w '%%{http_code}' "
			     "http://127.0.0.1:%u/api/handles/88.100.12/PN-0001",
			     D.http_port),
			 0);
	assert_string_equal(out, "200");
	assert_int_equal(run("curl -s -o /dev/null -w '%%{http_code}' "
			     "http://127.0.0.1:%u/api/handles/88.100.12/NO-SUCH",
			     D.http_port),
			 0);
	assert_string_equal(out, "404");

	/* 3 registrations by the demo enterprise. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(run("%s create 88.100.12/VOL-%d --value=1:URL:https://example.com/%d "
				     "--auth=300:0.NA/88.100.12 --key=%s/data/demo-enterprise-key.pem "
				     "--server %s >/dev/null 2>&1",
				     idnode, i, i, D.dir, D.server),
				 0);

	/* Counted once a second: poll the store (bounded). */
	uint64_t n = 0;
	for (int i = 0; i < 100 && (n = stored("res:")) < 8; i++)
		usleep(50000);
	assert_int_equal(n, 8);
	assert_int_equal(stored("restotal:udp:ok"), 3);
	assert_int_equal(stored("restotal:udp:not_found"), 1);
	assert_int_equal(stored("restotal:tcp:ok"), 2);
	assert_int_equal(stored("restotal:http:ok"), 1);
	assert_int_equal(stored("restotal:http:not_found"), 1);
	char p[64], d[9];
	idn_day_compact(idn_local_day((int64_t)time(NULL), 480), d);
	snprintf(p, sizeof(p), "entyear:%.4s:", d);
	assert_int_equal(stored(p), 1); /* one day of registrations by 88.100.12 */

	/* GET /metrics while running. */
	assert_int_equal(run("curl -s -i http://127.0.0.1:%u/metrics", D.http_port), 0);
	assert_non_null(strstr(out, "Content-Type: text/plain; version=0.0.4"));
	assert_non_null(strstr(out, "# TYPE idnode_resolutions_total counter\n"));
	assert_non_null(strstr(out, "idnode_resolutions_total{transport=\"udp\",result=\"ok\"} 3\n"));
	assert_non_null(
		strstr(out, "idnode_resolutions_total{transport=\"http\",result=\"not_found\"} 1\n"));
	assert_non_null(strstr(out, "idnode_resolutions_today 8\n"));
	assert_non_null(strstr(out, "idnode_registrations_today 3\n"));
	assert_non_null(strstr(out, "idnode_registrations_year 3\n"));
	assert_non_null(strstr(out, "idnode_enterprises_year 1\n"));
	assert_non_null(strstr(out, "idnode_identifiers 3\n"));
	assert_non_null(strstr(out, "idnode_info{node=\"88.100\",version=\""));

	/* The last second's counts are stored at shutdown. */
	assert_int_equal(resolve(IDN_CLIENT_TCP, "88.100.12/PN-0002"), IDN_RC_SUCCESS);
	assert_int_equal(tu_daemon_stop(&D), 0);
	assert_int_equal(stored("res:"), 9);

	assert_int_equal(run("%s report --db %s/data --json", idnode, D.dir), 0);
	json_error_t je;
	json_t *j = json_loads(out, 0, &je);
	assert_non_null(j);
	json_t *sum = json_object_get(j, "summary");
	assert_int_equal(json_integer_value(json_object_get(sum, "days")), 30);
	assert_int_equal(json_integer_value(json_object_get(sum, "resolutions")), 9);
	assert_int_equal(json_integer_value(json_object_get(sum, "registrations")), 3);
	assert_true(json_real_value(json_object_get(sum, "average_daily_resolutions")) == 9.0 / 30);
	assert_false(json_is_true(json_object_get(sum, "resolutions_pass")));
	json_t *days = json_object_get(j, "days");
	assert_int_equal(json_array_size(days), 30);
	json_t *today = json_array_get(days, 29);
	char iso[11];
	idn_day_iso(idn_local_day((int64_t)time(NULL), 480), iso);
	assert_string_equal(json_string_value(json_object_get(today, "date")), iso);
	json_t *bt = json_object_get(today, "by_transport");
	assert_int_equal(json_integer_value(json_object_get(bt, "udp")), 4);
	assert_int_equal(json_integer_value(json_object_get(bt, "tcp")), 3);
	assert_int_equal(json_integer_value(json_object_get(bt, "http")), 2);
	json_t *br = json_object_get(today, "by_result");
	assert_int_equal(json_integer_value(json_object_get(br, "not_found")), 2);
	json_t *years = json_object_get(j, "years");
	json_t *y = json_array_get(years, json_array_size(years) - 1);
	assert_int_equal(json_integer_value(json_object_get(y, "new_identifiers")), 3);
	assert_int_equal(json_integer_value(json_object_get(y, "enterprises")), 1);
	assert_false(json_is_true(json_object_get(y, "identifiers_pass")));
	json_decref(j);

	/* Text and CSV; bad dates are usage errors. */
	assert_int_equal(run("%s report --db %s/data --from 2024-02-29 --to 2024-03-01", idnode,
			     D.dir),
			 0);
	assert_non_null(strstr(out, "2024-02-29"));
	assert_non_null(strstr(out, "range: 2 days"));
	assert_int_equal(run("%s report --db %s/data --csv", idnode, D.dir), 0);
	assert_true(strncmp(out, "date,resolutions,udp,tcp,http,", 30) == 0);
	assert_int_equal(run("%s report --db %s/data --from 2023-02-29 2>&1", idnode, D.dir), 2);
	assert_non_null(strstr(out, "not a date"));
	assert_int_equal(run("%s report --db %s/data --from 2026-12-02 --to 2026-12-01 2>&1",
			     idnode, D.dir),
			 2);

	/* On a top: the stored reports of its secondaries, signatures checked. */
	{
		char dir[256];
		snprintf(dir, sizeof(dir), "%s/data", D.dir);
		idn_store_t *st;
		idn_store_opts_t so = { 0 };
		assert_int_equal(idn_store_open(dir, &so, &st), IDN_OK);
		idn_pkey_t *k;
		assert_int_equal(idn_pkey_generate_rsa(1024, &k), IDN_OK);
		put_report(st, "88.200", k, false);
		put_report(st, "88.201", k, true);
		idn_pkey_free(k);
		idn_store_close(st);
	}
	assert_int_equal(run("%s report --nodes --db %s/data --json", idnode, D.dir), 0);
	j = json_loads(out, 0, &je);
	assert_non_null(j);
	json_t *nodes = json_object_get(j, "nodes");
	assert_int_equal(json_array_size(nodes), 2);
	json_t *n0 = json_array_get(nodes, 0), *n1 = json_array_get(nodes, 1);
	assert_string_equal(json_string_value(json_object_get(n0, "node")), "88.200");
	assert_string_equal(json_string_value(json_object_get(n0, "date")), "2026-11-30");
	assert_int_equal(json_integer_value(json_object_get(n0, "resolutions")), 1234);
	assert_true(json_is_true(json_object_get(n0, "signature_ok")));
	assert_false(json_is_true(json_object_get(n1, "signature_ok")));
	json_decref(j);
	assert_int_equal(run("%s report --nodes --db %s/data", idnode, D.dir), 0);
	assert_non_null(strstr(out, "verified (HS_SITE key)"));
	assert_non_null(strstr(out, "NOT VERIFIED"));

	/* A restart carries the totals on. */
	const char *extra[] = { "--demo", "--utc-offset=480", NULL };
	assert_int_equal(tu_daemon_restart(&D, extra), 0);
	assert_int_equal(run("curl -s http://127.0.0.1:%u/metrics", D.http_port), 0);
	assert_non_null(strstr(out, "idnode_resolutions_total{transport=\"tcp\",result=\"ok\"} 3\n"));
	assert_non_null(strstr(out, "idnode_resolutions_today 9\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_volumes),
	};
	return cmocka_run_group_tests_name("integration/report", tests, setup, teardown);
}
