/* civil.c - civil date <-> day number (Howard Hinnant's algorithms), local days at a UTC offset, date text. */
#include <stdio.h>
#include <string.h>

#include "proto/civil.h"

bool idn_is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned idn_days_in_month(int64_t y, unsigned m)
{
	static const unsigned char dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m < 1 || m > 12)
		return 0;
	return m == 2 && idn_is_leap(y) ? 29 : dim[m - 1];
}

unsigned idn_days_in_year(int64_t y)
{
	return idn_is_leap(y) ? 366 : 365;
}

/* Floor division: day numbers and times before 1970 are negative. */
static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Eras of 400 years (146097 days) starting on March 1st, so the leap day
 * is the last day of a year and needs no special case. */
int64_t idn_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = floor_div(y, 400);
	int64_t yoe = y - era * 400;
	int64_t mp = (m + 9) % 12;
	int64_t doy = (153 * mp + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void idn_civil_from_days(int64_t z, int64_t *year, unsigned *month, unsigned *day)
{
	z += 719468;
	int64_t era = floor_div(z, 146097);
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	unsigned d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	unsigned m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*year = yoe + era * 400 + (m <= 2);
	*month = m;
	*day = d;
}

int64_t idn_local_day(int64_t t, int offset_min)
{
	return floor_div(t + (int64_t)offset_min * 60, 86400);
}

int64_t idn_day_start(int64_t day, int offset_min)
{
	return day * 86400 - (int64_t)offset_min * 60;
}

int64_t idn_day_year(int64_t day)
{
	int64_t y;
	unsigned m, d;
	idn_civil_from_days(day, &y, &m, &d);
	return y;
}

static unsigned year4(int64_t y)
{
	int64_t r = y % 10000;
	return (unsigned)(r < 0 ? r + 10000 : r);
}

void idn_day_compact(int64_t day, char out[9])
{
	int64_t y;
	unsigned m, d;
	idn_civil_from_days(day, &y, &m, &d);
	snprintf(out, 9, "%04u%02u%02u", year4(y), m % 100u, d % 100u);
}

void idn_day_iso(int64_t day, char out[11])
{
	int64_t y;
	unsigned m, d;
	idn_civil_from_days(day, &y, &m, &d);
	snprintf(out, 11, "%04u-%02u-%02u", year4(y), m % 100u, d % 100u);
}

static bool digits(const char *s, size_t n, unsigned *v)
{
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (unsigned)(s[i] - '0');
	}
	return true;
}

bool idn_day_parse(const char *s, int64_t *day)
{
	size_t n = strlen(s);
	unsigned y, m, d;
	if (n == 10 && s[4] == '-' && s[7] == '-') {
		if (!digits(s, 4, &y) || !digits(s + 5, 2, &m) || !digits(s + 8, 2, &d))
			return false;
	} else if (n == 8) {
		if (!digits(s, 4, &y) || !digits(s + 4, 2, &m) || !digits(s + 6, 2, &d))
			return false;
	} else {
		return false;
	}
	if (y < 1 || d < 1 || d > idn_days_in_month(y, m))
		return false;
	*day = idn_days_from_civil(y, m, d);
	return true;
}

double idn_per_day(uint64_t total, int64_t from, int64_t to)
{
	if (to < from)
		return 0;
	return (double)total / (double)(to - from + 1);
}

void idn_thousands(uint64_t n, char *out, size_t cap)
{
	char d[32];
	int len = snprintf(d, sizeof(d), "%llu", (unsigned long long)n);
	size_t o = 0;
	for (int i = 0; i < len && o + 2 < cap; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = d[i];
	}
	if (cap)
		out[o] = 0;
}
