/* report.c - `idnode report`'s figures: one scan each of the res:, regday: and entyear: counters of a store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/report.h"
#include "proto/civil.h"

uint64_t rpt_day_total(const rpt_day_t *d)
{
	uint64_t n = 0;
	for (int t = 0; t < IDN_QS_TRANSPORTS; t++)
		for (int r = 0; r < IDN_RES_COUNT; r++)
			n += d->res[t][r];
	return n;
}

/* "YYYYMMDD" at p -> day number; false when it is not a date. */
static bool day_at(const uint8_t *p, size_t len, int64_t *day)
{
	char d[9];
	if (len < 8)
		return false;
	memcpy(d, p, 8);
	d[8] = 0;
	return idn_day_parse(d, day);
}

static rpt_year_t *year_of(rpt_t *r, int64_t y)
{
	for (int i = 0; i < r->nyears; i++)
		if (r->years[i].year == y)
			return &r->years[i];
	return NULL;
}

static bool parse_tr_res(const uint8_t *p, size_t len, int *t, int *res)
{
	for (int i = 0; i < IDN_QS_TRANSPORTS; i++) {
		const char *tn = idn_transport_name(i);
		size_t tl = strlen(tn);
		if (len <= tl || memcmp(p, tn, tl) != 0 || p[tl] != ':')
			continue;
		for (int j = 0; j < IDN_RES_COUNT; j++) {
			const char *rn = idn_res_result_name(j);
			if (len - tl - 1 == strlen(rn) && memcmp(p + tl + 1, rn, strlen(rn)) == 0) {
				*t = i;
				*res = j;
				return true;
			}
		}
	}
	return false;
}

/* res:<YYYYMMDD>:<transport>:<result> */
static int on_res(void *arg, idn_bytes_t name, uint64_t v)
{
	rpt_t *r = arg;
	int64_t day;
	int t, res;
	if (name.len < 14 || !day_at(name.p + 4, name.len - 4, &day) || name.p[12] != ':' ||
	    !parse_tr_res(name.p + 13, name.len - 13, &t, &res))
		return 0;
	rpt_year_t *y = year_of(r, idn_day_year(day));
	if (y)
		y->resolutions += v;
	if (day >= r->from && day <= r->to) {
		r->days[day - r->from].res[t][res] += v;
		r->resolutions += v;
	}
	return 0;
}

/* regday:<YYYYMMDD> */
static int on_regday(void *arg, idn_bytes_t name, uint64_t v)
{
	rpt_t *r = arg;
	int64_t day;
	if (name.len != 15 || !day_at(name.p + 7, 8, &day))
		return 0;
	rpt_year_t *y = year_of(r, idn_day_year(day));
	if (y)
		y->new_identifiers += v;
	if (day >= r->from && day <= r->to) {
		r->days[day - r->from].registrations += v;
		r->registrations += v;
	}
	return 0;
}

static int on_entyear(void *arg, idn_bytes_t name, uint64_t v)
{
	rpt_year_t *y = arg;
	if (v)
		y->enterprises++;
	return 0;
}

int rpt_collect(idn_store_t *s, rpt_t *r)
{
	size_t n = (size_t)(r->to - r->from + 1);
	r->days = calloc(n, sizeof(*r->days));
	if (!r->days)
		return IDN_ENOMEM;
	r->nyears = 0;
	int64_t y0 = idn_day_year(r->from), y1 = idn_day_year(r->to);
	for (int64_t y = y0; y <= y1 && r->nyears < RPT_MAX_YEARS; y++) {
		rpt_year_t *yr = &r->years[r->nyears++];
		memset(yr, 0, sizeof(*yr));
		yr->year = y;
		int64_t first = idn_days_from_civil(y, 1, 1);
		int64_t last = first + idn_days_in_year(y) - 1;
		if (r->today < first)
			yr->days_counted = 0;
		else
			yr->days_counted = (unsigned)((r->today < last ? r->today : last) - first + 1);
	}
	int ret = idn_store_foreach_counter(s, "res:", 4, on_res, r);
	if (ret == IDN_OK)
		ret = idn_store_foreach_counter(s, "regday:", 7, on_regday, r);
	for (int i = 0; i < r->nyears && ret == IDN_OK; i++) {
		char p[32];
		int pl = snprintf(p, sizeof(p), "entyear:%04lld:", (long long)r->years[i].year);
		ret = idn_store_foreach_counter(s, p, (size_t)pl, on_entyear, &r->years[i]);
	}
	return ret;
}

void rpt_free(rpt_t *r)
{
	free(r->days);
	r->days = NULL;
}
