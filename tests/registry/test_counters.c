/* test_counters.c - volume counters: resolution deltas to day counters through the registry, the day split at midnight, flush on stop, restarts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/acct.h"
#include "proto/civil.h"
#include "proto/record.h"
#include "registry/registry.h"
#include "storage/store.h"
#include "tests/util/testutil.h"

static char dir[128];
static idn_store_t *store;
static idn_registry_t *reg;

static int setup(void **state)
{
	if (tu_tmpdir("counters", dir, sizeof(dir)))
		return -1;
	idn_store_opts_t so = { 0 };
	if (idn_store_open(dir, &so, &store))
		return -1;
	idn_registry_opts_t o = { .store = store, .node_prefix = "88.100", .utc_offset = 480 * 60 };
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

static uint64_t ctr(const char *name)
{
	idn_reader_t *r;
	uint64_t v = 0;
	assert_int_equal(idn_reader_new(store, &r), IDN_OK);
	assert_int_equal(idn_reader_begin(r), IDN_OK);
	assert_int_equal(idn_reader_counter_get(r, name, strlen(name), &v), IDN_OK);
	idn_reader_end(r);
	idn_reader_free(r);
	return v;
}

/* Stop (commits what is pending) and start again. */
static void commit(void)
{
	idn_registry_stop(reg);
	assert_int_equal(idn_registry_start(reg), IDN_OK);
}

/* Unix time of a local time at +08:00. */
static int64_t cst(int64_t y, unsigned m, unsigned d, int hh, int mm, int ss)
{
	return idn_day_start(idn_days_from_civil(y, m, d), 480) + hh * 3600 + mm * 60 + ss;
}

static void test_deltas(void **s)
{
	idn_acct_t a;
	int64_t t0 = cst(2026, 12, 1, 10, 0, 0);
	assert_int_equal(idn_acct_init(&a, store, reg, NULL, "88.100", 480, t0), IDN_OK);
	idn_acct_counts_t cur = { { 0 } };
	cur[IDN_TR_UDP][IDN_RES_OK] = 5;
	cur[IDN_TR_TCP][IDN_RES_NOT_FOUND] = 2;
	cur[IDN_TR_HTTP][IDN_RES_VALUES_NOT_FOUND] = 1;
	assert_int_equal(idn_acct_flush_at(&a, cur, t0 + 1), IDN_OK);
	/* Only what changed goes the next time. */
	cur[IDN_TR_UDP][IDN_RES_OK] = 8;
	cur[IDN_TR_UDP][IDN_RES_NOT_HOMED] = 1;
	assert_int_equal(idn_acct_flush_at(&a, cur, t0 + 2), IDN_OK);
	/* Nothing new: nothing queued. */
	assert_int_equal(idn_acct_flush_at(&a, cur, t0 + 3), IDN_OK);
	commit();
	assert_int_equal(ctr("res:20261201:udp:ok"), 8);
	assert_int_equal(ctr("res:20261201:udp:not_homed"), 1);
	assert_int_equal(ctr("res:20261201:tcp:not_found"), 2);
	assert_int_equal(ctr("res:20261201:http:values_not_found"), 1);
	assert_int_equal(ctr("res:20261201:tcp:ok"), 0);
	assert_int_equal(ctr("restotal:udp:ok"), 8);
	assert_int_equal(idn_acct_today(&a), 0); /* no listeners attached: nothing live */

	/* A restart the same day carries on from what was stored. */
	idn_acct_t b;
	assert_int_equal(idn_acct_init(&b, store, reg, NULL, "88.100", 480, t0 + 60), IDN_OK);
	idn_metrics_t m;
	idn_acct_metrics(&b, &m);
	assert_int_equal(m.resolutions[IDN_TR_UDP][IDN_RES_OK], 8);
	assert_int_equal(b.day_base[IDN_TR_TCP][IDN_RES_NOT_FOUND], 2);
	assert_int_equal(idn_acct_today(&b), 12);
	idn_acct_deinit(&a);
	idn_acct_deinit(&b);
}

static void test_day_split(void **s)
{
	/* The last second of 2026 at +08:00 is 2026-12-31T15:59:59Z. */
	int64_t last = cst(2026, 12, 31, 23, 59, 59);
	idn_acct_t a;
	assert_int_equal(idn_acct_init(&a, store, reg, NULL, "88.100", 480, last - 10), IDN_OK);
	idn_acct_counts_t cur = { { 0 } };
	cur[IDN_TR_UDP][IDN_RES_OK] = 3;
	assert_int_equal(idn_acct_flush_at(&a, cur, last), IDN_OK);
	/* The flush at midnight carries the old day's last second. */
	cur[IDN_TR_UDP][IDN_RES_OK] = 10;
	assert_int_equal(idn_acct_flush_at(&a, cur, last + 1), IDN_OK);
	assert_int_equal(a.report_day, idn_days_from_civil(2026, 12, 31));
	cur[IDN_TR_UDP][IDN_RES_OK] = 15;
	cur[IDN_TR_TCP][IDN_RES_OK] = 1;
	assert_int_equal(idn_acct_flush_at(&a, cur, last + 2), IDN_OK);
	commit();
	assert_int_equal(ctr("res:20261231:udp:ok"), 10);
	assert_int_equal(ctr("res:20270101:udp:ok"), 5);
	assert_int_equal(ctr("res:20270101:tcp:ok"), 1);
	/* The new day's live figure starts at the boundary flush. */
	assert_int_equal(a.day, idn_days_from_civil(2027, 1, 1));

	/* The report of the old day reads the stored counters. */
	idn_volreport_t v;
	assert_int_equal(idn_acct_report_of(&a, idn_days_from_civil(2026, 12, 31), &v), IDN_OK);
	assert_string_equal(v.date, "2026-12-31");
	assert_string_equal(v.node, "88.100");
	assert_int_equal(v.resolutions, 10);
	idn_acct_deinit(&a);
}

static void test_stop_commits(void **s)
{
	idn_counter_delta_t d[] = { { "res:20240229:udp:ok", 4 }, { "res:20240229:udp:ok", 3 },
				    { "restotal:udp:error", 1 } };
	assert_int_equal(idn_registry_add_counters(reg, d, 3), IDN_OK);
	/* No commit waits for anything else: stop commits it. */
	idn_registry_stop(reg);
	assert_int_equal(ctr("res:20240229:udp:ok"), 7);
	/* Added while stopped: kept and committed after the next start. */
	idn_counter_delta_t e = { "res:20240229:udp:ok", 1 };
	assert_int_equal(idn_registry_add_counters(reg, &e, 1), IDN_OK);
	assert_int_equal(idn_registry_start(reg), IDN_OK);
	idn_registry_stop(reg);
	assert_int_equal(ctr("res:20240229:udp:ok"), 8);
	assert_int_equal(idn_registry_start(reg), IDN_OK);
	idn_registry_stats_t st;
	idn_registry_stats(reg, &st);
	assert_true(st.commits >= 2);
}

static void test_bad_names(void **s)
{
	char longname[IDN_COUNTER_MAX_NAME + 2];
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	idn_counter_delta_t d[] = { { "ok:name", 1 }, { "", 1 } };
	assert_int_equal(idn_registry_add_counters(reg, d, 2), IDN_EINVAL);
	idn_counter_delta_t e[] = { { longname, 1 } };
	assert_int_equal(idn_registry_add_counters(reg, e, 1), IDN_ELIMIT);
	commit();
	/* Nothing of a refused call was taken. */
	assert_int_equal(ctr("ok:name"), 0);
}

static void test_volreport_signed(void **s)
{
	idn_pkey_t *k;
	assert_int_equal(idn_pkey_generate_rsa(1024, &k), IDN_OK);
	idn_volreport_t v = { .node = "88.100", .date = "2026-11-30", .resolutions = 12345,
			      .registrations = 7, .identifiers = 99, .enterprises = 2 };
	char *data;
	size_t len;
	assert_int_equal(idn_volreport_build(&v, k, &data, &len), IDN_OK);
	assert_non_null(strstr(data, "\"report\":\"{\\\"node\\\":\\\"88.100\\\""));
	/* A site record carrying the key verifies it. */
	uint8_t pk[1024], site[2048];
	idn_wire_t pw, sw;
	idn_wire_init(&pw, pk, sizeof(pk));
	assert_int_equal(idn_pkey_hs_pubkey(k, &pw), IDN_OK);
	idn_site_t *st = calloc(1, sizeof(*st));
	st->data_version = 1;
	st->proto_major = 2;
	st->proto_minor = 10;
	st->n_servers = 1;
	st->servers[0].pubkey = (idn_bytes_t){ pk, (uint32_t)idn_wire_offset(&pw) };
	idn_wire_init(&sw, site, sizeof(site));
	idn_site_encode(&sw, st);
	assert_int_equal(sw.err, IDN_OK);
	idn_volreport_t back;
	bool ok;
	assert_int_equal(idn_volreport_parse((uint8_t *)data, len, site, idn_wire_offset(&sw), &back,
					     &ok),
			 IDN_OK);
	assert_true(ok);
	assert_int_equal(back.resolutions, 12345);
	assert_string_equal(back.date, "2026-11-30");
	/* A changed figure no longer verifies. */
	char *p = strstr(data, "12345");
	p[0] = '9';
	assert_int_equal(idn_volreport_parse((uint8_t *)data, len, site, idn_wire_offset(&sw), &back,
					     &ok),
			 IDN_OK);
	assert_false(ok);
	assert_int_equal(idn_volreport_parse((const uint8_t *)"{}", 2, NULL, 0, &back, &ok),
			 IDN_EMALF);
	free(st);
	free(data);
	idn_pkey_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deltas),
		cmocka_unit_test(test_day_split),
		cmocka_unit_test(test_stop_commits),
		cmocka_unit_test(test_bad_names),
		cmocka_unit_test(test_volreport_signed),
	};
	return cmocka_run_group_tests_name("registry/counters", tests, setup, teardown);
}
