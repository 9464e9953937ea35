/* civil.h - civil dates and the node's local days: day numbers, leap years, UTC offsets, YYYY-MM-DD text. */
#ifndef IDN_CIVIL_H
#define IDN_CIVIL_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Days are counted from 1970-01-01 (day 0) in the proleptic Gregorian
 * calendar, so day arithmetic is plain integer arithmetic and every
 * counter name (YYYYMMDD) maps to exactly one number. A node's "day" is
 * the civil day at its utc-offset (minutes east of UTC, -1440 < o < 1440):
 * 480 (China Standard Time) puts 2026-12-31T16:00:00Z on 2027-01-01.
 * Pure functions, no time zone database, no locale.
 */

bool idn_is_leap(int64_t year);
/* 28..31; 0 for a month outside 1..12. */
unsigned idn_days_in_month(int64_t year, unsigned month);
unsigned idn_days_in_year(int64_t year);

/* Day number of a civil date (month 1..12, day 1..31, not checked). */
int64_t idn_days_from_civil(int64_t year, unsigned month, unsigned day);
void idn_civil_from_days(int64_t days, int64_t *year, unsigned *month, unsigned *day);

/* The local day of Unix time t, and the Unix time a local day begins. */
int64_t idn_local_day(int64_t t, int offset_min);
int64_t idn_day_start(int64_t day, int offset_min);
/* Year of a day number (the civil year it falls in). */
int64_t idn_day_year(int64_t day);

/* "YYYYMMDD" (counter names) and "YYYY-MM-DD" (reports). Years outside
 * 0..9999 are written modulo 10000 (never reached by Unix times). */
void idn_day_compact(int64_t day, char out[9]);
void idn_day_iso(int64_t day, char out[11]);
/* Parse "YYYY-MM-DD" or "YYYYMMDD" (exactly; a real date of years
 * 1..9999): true and *day set, false otherwise. */
bool idn_day_parse(const char *s, int64_t *day);

/* Average per day of `total` over the days from..to inclusive (days with
 * nothing count as 0); 0 for an empty range. */
double idn_per_day(uint64_t total, int64_t from, int64_t to);
/* n with thousands separators ("10,000,000"), NUL-terminated into out
 * (cut short if cap is too small). For reports and pages. */
void idn_thousands(uint64_t n, char *out, size_t cap);

#endif
