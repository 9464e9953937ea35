/* cmd_report.c - `idnode report`: daily resolutions, yearly new identifiers and enterprises against the policy thresholds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/report.h"
#include "proto/civil.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: idnode report --db=DIR [--from=YYYY-MM-DD] [--to=YYYY-MM-DD]\n"
		"                    [--utc-offset=MIN] [--json|--csv]\n"
		"       idnode report --nodes --db=DIR [--json]\n"
		"\n"
		"Print the node's volumes from the counters of its store (read-only; fine\n"
		"next to a running idnoded, whose counts are stored every second):\n"
		"  per day   resolutions (all, by transport), new identifiers, against\n"
		"            10,000,000 resolutions a day (Kunshan measure 12)\n"
		"  per year  new identifiers against 30,000,000 a year (Kunshan), enterprises\n"
		"            that registered identifiers (Yancheng's 3,500, informational)\n"
		"  range     average daily resolutions (days without traffic count as 0)\n"
		"            and pass/fail\n"
		"\n"
		"Options:\n"
		"  --db=DIR          the node's data directory (its data-dir option)\n"
		"  --from, --to      first and last day, YYYY-MM-DD (default: the 30 days\n"
		"                    ending today)\n"
		"  --utc-offset=MIN  minutes east of UTC of the node's days (default 480,\n"
		"                    as the node's utc-offset default)\n"
		"  --json, --csv     machine-readable output\n"
		"  --nodes           on a top-level node: the signed daily reports its\n"
		"                    secondaries stored (IDNODE_VOLUME at 0.NA/PREFIX) and\n"
		"                    whether each signature verifies with the HS_SITE key\n"
		"\n"
		"Exit status: 0 report printed (pass or fail), 1 store unreadable, 2 usage error.\n");
}

static const char *pf(bool ok)
{
	return ok ? "PASS" : "FAIL";
}

static uint64_t by_transport(const rpt_day_t *d, int t)
{
	uint64_t n = 0;
	for (int r = 0; r < IDN_RES_COUNT; r++)
		n += d->res[t][r];
	return n;
}

static void print_text(const rpt_t *r, double avg)
{
	char a[16], b[16], c[40], d[40];
	idn_day_iso(r->from, a);
	idn_day_iso(r->to, b);
	int off = r->utc_offset < 0 ? -r->utc_offset : r->utc_offset;
	printf("Volumes %s .. %s (days at UTC%c%02d:%02d)\n\n", a, b, r->utc_offset < 0 ? '-' : '+',
	       off / 60, off % 60);
	printf("%-10s %14s %12s %12s %12s %13s  %s\n", "date", "resolutions", "udp", "tcp", "http",
	       "registrations", "vs 10M/day");
	for (int64_t day = r->from; day <= r->to; day++) {
		const rpt_day_t *x = &r->days[day - r->from];
		uint64_t tot = rpt_day_total(x);
		idn_day_iso(day, a);
		printf("%-10s %14llu %12llu %12llu %12llu %13llu  %s\n", a, (unsigned long long)tot,
		       (unsigned long long)by_transport(x, 0), (unsigned long long)by_transport(x, 1),
		       (unsigned long long)by_transport(x, 2), (unsigned long long)x->registrations,
		       pf(tot >= RPT_RES_PER_DAY));
	}
	idn_thousands(r->resolutions, c, sizeof(c));
	idn_thousands(RPT_RES_PER_DAY, d, sizeof(d));
	printf("\nrange: %lld days, %s resolutions, average %.1f a day: %s (threshold %s a day on "
	       "average)\n",
	       (long long)(r->to - r->from + 1), c, avg, pf(avg >= (double)RPT_RES_PER_DAY), d);
	idn_thousands(r->registrations, c, sizeof(c));
	printf("new identifiers in the range: %s\n\n", c);
	printf("%-6s %16s %12s %6s %12s %22s\n", "year", "new identifiers", "vs 30M/year", "",
	       "enterprises", "(target 3,500, info)");
	for (int i = 0; i < r->nyears; i++) {
		const rpt_year_t *y = &r->years[i];
		printf("%-6lld %16llu %12s %6s %12llu %22s\n", (long long)y->year,
		       (unsigned long long)y->new_identifiers, pf(y->new_identifiers >= RPT_IDS_PER_YEAR),
		       "", (unsigned long long)y->enterprises,
		       y->enterprises >= RPT_ENTERPRISES ? "reached" : "not reached");
	}
}

static json_t *counts_json(const rpt_day_t *x, const char *date)
{
	uint64_t tot = rpt_day_total(x);
	json_t *o = json_pack("{s:s,s:I,s:I,s:b}", "date", date, "resolutions", (json_int_t)tot,
			      "registrations", (json_int_t)x->registrations, "resolutions_pass",
			      tot >= RPT_RES_PER_DAY);
	json_t *t = json_object(), *res = json_object();
	for (int i = 0; i < IDN_QS_TRANSPORTS; i++)
		json_object_set_new(t, idn_transport_name(i), json_integer((json_int_t)by_transport(x, i)));
	for (int j = 0; j < IDN_RES_COUNT; j++) {
		uint64_t n = 0;
		for (int i = 0; i < IDN_QS_TRANSPORTS; i++)
			n += x->res[i][j];
		json_object_set_new(res, idn_res_result_name(j), json_integer((json_int_t)n));
	}
	json_object_set_new(o, "by_transport", t);
	json_object_set_new(o, "by_result", res);
	return o;
}

static void print_json(const rpt_t *r, double avg)
{
	char a[16];
	json_t *days = json_array(), *years = json_array();
	for (int64_t day = r->from; day <= r->to; day++) {
		const rpt_day_t *x = &r->days[day - r->from];
		idn_day_iso(day, a);
		json_array_append_new(days, counts_json(x, a));
	}
	for (int i = 0; i < r->nyears; i++) {
		const rpt_year_t *y = &r->years[i];
		json_array_append_new(
			years, json_pack("{s:I,s:I,s:b,s:I,s:b,s:I,s:i,s:f}", "year", (json_int_t)y->year,
					 "new_identifiers", (json_int_t)y->new_identifiers,
					 "identifiers_pass", y->new_identifiers >= RPT_IDS_PER_YEAR,
					 "enterprises", (json_int_t)y->enterprises, "enterprises_reached",
					 y->enterprises >= RPT_ENTERPRISES, "resolutions",
					 (json_int_t)y->resolutions, "days_counted", (int)y->days_counted,
					 "average_daily_resolutions",
					 y->days_counted ? (double)y->resolutions / y->days_counted : 0.0));
	}
	char f[16], t[16];
	idn_day_iso(r->from, f);
	idn_day_iso(r->to, t);
	json_t *doc = json_pack(
		"{s:s,s:s,s:i,s:{s:I,s:I,s:I},s:o,s:o,s:{s:I,s:I,s:I,s:f,s:b}}", "from", f, "to", t,
		"utc_offset", r->utc_offset, "thresholds", "resolutions_per_day",
		(json_int_t)RPT_RES_PER_DAY, "identifiers_per_year", (json_int_t)RPT_IDS_PER_YEAR,
		"enterprises", (json_int_t)RPT_ENTERPRISES, "days", days, "years", years, "summary",
		"days", (json_int_t)(r->to - r->from + 1), "resolutions", (json_int_t)r->resolutions,
		"registrations", (json_int_t)r->registrations, "average_daily_resolutions", avg,
		"resolutions_pass", avg >= (double)RPT_RES_PER_DAY);
	cli_json_print(doc);
}

static void print_csv(const rpt_t *r)
{
	char a[16];
	printf("date,resolutions");
	for (int i = 0; i < IDN_QS_TRANSPORTS; i++)
		printf(",%s", idn_transport_name(i));
	for (int j = 0; j < IDN_RES_COUNT; j++)
		printf(",%s", idn_res_result_name(j));
	printf(",registrations,resolutions_pass\n");
	for (int64_t day = r->from; day <= r->to; day++) {
		const rpt_day_t *x = &r->days[day - r->from];
		idn_day_iso(day, a);
		uint64_t tot = rpt_day_total(x);
		printf("%s,%llu", a, (unsigned long long)tot);
		for (int i = 0; i < IDN_QS_TRANSPORTS; i++)
			printf(",%llu", (unsigned long long)by_transport(x, i));
		for (int j = 0; j < IDN_RES_COUNT; j++) {
			uint64_t n = 0;
			for (int i = 0; i < IDN_QS_TRANSPORTS; i++)
				n += x->res[i][j];
			printf(",%llu", (unsigned long long)n);
		}
		printf(",%llu,%s\n", (unsigned long long)x->registrations,
		       tot >= RPT_RES_PER_DAY ? "true" : "false");
	}
	printf("\nyear,new_identifiers,identifiers_pass,enterprises,resolutions,days_counted\n");
	for (int i = 0; i < r->nyears; i++) {
		const rpt_year_t *y = &r->years[i];
		printf("%lld,%llu,%s,%llu,%llu,%u\n", (long long)y->year,
		       (unsigned long long)y->new_identifiers,
		       y->new_identifiers >= RPT_IDS_PER_YEAR ? "true" : "false",
		       (unsigned long long)y->enterprises, (unsigned long long)y->resolutions,
		       y->days_counted);
	}
}

int cmd_report(int argc, char **argv)
{
	const char *db = NULL, *from = NULL, *to = NULL, *v;
	bool json = false, csv = false, nodes = false;
	int offset = 480;
	for (int i = 1; i < argc; i++) {
		if (cli_flag(argv, i, "help") || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if ((v = cli_opt(argc, argv, &i, "db"))) {
			db = v;
		} else if ((v = cli_opt(argc, argv, &i, "from"))) {
			from = v;
		} else if ((v = cli_opt(argc, argv, &i, "to"))) {
			to = v;
		} else if ((v = cli_opt(argc, argv, &i, "utc-offset"))) {
			char *end;
			long o = strtol(v, &end, 10);
			if (!*v || *end || o <= -1440 || o >= 1440) {
				fprintf(stderr, "idnode report: --utc-offset: '%s' is not minutes "
						"from -1439 to 1439\n", v);
				return 2;
			}
			offset = (int)o;
		} else if (cli_flag(argv, i, "json")) {
			json = true;
		} else if (cli_flag(argv, i, "csv")) {
			csv = true;
		} else if (cli_flag(argv, i, "nodes")) {
			nodes = true;
		} else {
			fprintf(stderr, "idnode report: unknown option '%s' (see --help)\n", argv[i]);
			return 2;
		}
	}
	if (!db) {
		fprintf(stderr, "idnode report: --db=DIR is needed (see --help)\n");
		return 2;
	}
	if (json && csv) {
		fprintf(stderr, "idnode report: --json or --csv, not both\n");
		return 2;
	}
	rpt_t r;
	memset(&r, 0, sizeof(r));
	r.utc_offset = offset;
	r.today = idn_local_day((int64_t)time(NULL), offset);
	r.to = r.today;
	if (to && !idn_day_parse(to, &r.to)) {
		fprintf(stderr, "idnode report: --to: '%s' is not a date YYYY-MM-DD\n", to);
		return 2;
	}
	r.from = r.to - 29;
	if (from && !idn_day_parse(from, &r.from)) {
		fprintf(stderr, "idnode report: --from: '%s' is not a date YYYY-MM-DD\n", from);
		return 2;
	}
	if (r.from > r.to) {
		fprintf(stderr, "idnode report: --from is after --to\n");
		return 2;
	}
	if (r.to - r.from + 1 > RPT_MAX_DAYS) {
		fprintf(stderr, "idnode report: a range of at most %d days\n", RPT_MAX_DAYS);
		return 2;
	}

	idn_store_t *s;
	idn_store_opts_t so = { .read_only = true };
	int ret = idn_store_open(db, &so, &s);
	if (ret) {
		fprintf(stderr, "idnode report: cannot open the store in %s: %s\n", db,
			idn_strerror(ret));
		return 1;
	}
	if (nodes) {
		ret = rpt_nodes(s, json);
		idn_store_close(s);
		if (ret)
			fprintf(stderr, "idnode report: %s\n", idn_strerror(ret));
		return ret ? 1 : 0;
	}
	ret = rpt_collect(s, &r);
	idn_store_close(s);
	if (ret) {
		fprintf(stderr, "idnode report: %s\n", idn_strerror(ret));
		rpt_free(&r);
		return 1;
	}
	double avg = idn_per_day(r.resolutions, r.from, r.to);
	if (json)
		print_json(&r, avg);
	else if (csv)
		print_csv(&r);
	else
		print_text(&r, avg);
	rpt_free(&r);
	return 0;
}
