/* report.h - the figures of `idnode report`, read from a store's counters: days, years, the policy thresholds. */
#ifndef IDN_CLI_REPORT_H
#define IDN_CLI_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "resolver/metrics.h"
#include "storage/store.h"

/* Kunshan measure 12 (30M new identifiers a year, 10M resolutions a day on
 * average); Yancheng's 3,500 enterprises registering identifiers. */
#define RPT_RES_PER_DAY 10000000ull
#define RPT_IDS_PER_YEAR 30000000ull
#define RPT_ENTERPRISES 3500ull
#define RPT_MAX_DAYS 36600       /* a century */
#define RPT_MAX_YEARS 101

typedef struct {
	uint64_t res[IDN_QS_TRANSPORTS][IDN_RES_COUNT];
	uint64_t registrations;
} rpt_day_t;

typedef struct {
	int64_t year;
	uint64_t new_identifiers;    /* the whole civil year (regday:YYYY*) */
	uint64_t enterprises;        /* entyear:YYYY:* entries */
	uint64_t resolutions;        /* the whole year */
	unsigned days_counted;       /* days of the year up to today (all when past) */
} rpt_year_t;

typedef struct {
	int64_t from, to, today;     /* day numbers */
	int utc_offset;
	rpt_day_t *days;             /* to - from + 1 */
	rpt_year_t years[RPT_MAX_YEARS];
	int nyears;
	uint64_t resolutions, registrations; /* over the range */
} rpt_t;

/* Fill r (from, to, today and utc_offset set by the caller) from the store.
 * IDN_ENOMEM, or the store's error. */
int rpt_collect(idn_store_t *s, rpt_t *r);
void rpt_free(rpt_t *r);
uint64_t rpt_day_total(const rpt_day_t *d);

/* `idnode report --nodes`: the IDNODE_VOLUME values of the 0.NA/<prefix> handles. */
int rpt_nodes(idn_store_t *s, bool json);

#endif
