/* test_civil.c - report arithmetic: leap years, day numbers, local days at UTC offsets, year boundaries, averages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proto/civil.h"

static void test_leap_years(void **s)
{
	assert_false(idn_is_leap(1900));
	assert_true(idn_is_leap(2000));
	assert_true(idn_is_leap(2024));
	assert_false(idn_is_leap(2025));
	assert_false(idn_is_leap(2100));
	assert_true(idn_is_leap(2400));
	assert_int_equal(idn_days_in_month(2024, 2), 29);
	assert_int_equal(idn_days_in_month(2100, 2), 28);
	assert_int_equal(idn_days_in_month(2000, 2), 29);
	assert_int_equal(idn_days_in_month(1900, 2), 28);
	assert_int_equal(idn_days_in_month(2026, 4), 30);
	assert_int_equal(idn_days_in_month(2026, 13), 0);
	assert_int_equal(idn_days_in_year(2024), 366);
	assert_int_equal(idn_days_in_year(2100), 365);
}

static void test_day_numbers(void **s)
{
	assert_int_equal(idn_days_from_civil(1970, 1, 1), 0);
	assert_int_equal(idn_days_from_civil(1969, 12, 31), -1);
	assert_int_equal(idn_days_from_civil(2000, 3, 1), 11017);
	/* Feb 29 exists in 2024 and is followed by Mar 1. */
	assert_int_equal(idn_days_from_civil(2024, 3, 1) - idn_days_from_civil(2024, 2, 29), 1);
	assert_int_equal(idn_days_from_civil(2023, 3, 1) - idn_days_from_civil(2023, 2, 28), 1);
	assert_int_equal(idn_days_from_civil(2025, 1, 1) - idn_days_from_civil(2024, 1, 1), 366);
	assert_int_equal(idn_days_from_civil(2101, 1, 1) - idn_days_from_civil(2100, 1, 1), 365);
	/* Round trips over four centuries, days before 1970 included. */
	for (int64_t d = -800000; d < 800000; d += 97) {
		int64_t y;
		unsigned m, dd;
		idn_civil_from_days(d, &y, &m, &dd);
		assert_true(m >= 1 && m <= 12 && dd >= 1 && dd <= idn_days_in_month(y, m));
		assert_int_equal(idn_days_from_civil(y, m, dd), d);
	}
	char c[9], iso[11];
	idn_day_compact(idn_days_from_civil(2024, 2, 29), c);
	assert_string_equal(c, "20240229");
	idn_day_iso(idn_days_from_civil(2000, 12, 31), iso);
	assert_string_equal(iso, "2000-12-31");
	assert_int_equal(idn_day_year(idn_days_from_civil(2027, 1, 1)), 2027);
	assert_int_equal(idn_day_year(idn_days_from_civil(2026, 12, 31)), 2026);
}

static void test_parse(void **s)
{
	int64_t d;
	assert_true(idn_day_parse("2024-02-29", &d));
	assert_int_equal(d, idn_days_from_civil(2024, 2, 29));
	assert_true(idn_day_parse("20240229", &d));
	assert_int_equal(d, idn_days_from_civil(2024, 2, 29));
	assert_false(idn_day_parse("2023-02-29", &d));
	assert_false(idn_day_parse("2100-02-29", &d));
	assert_true(idn_day_parse("2000-02-29", &d));
	assert_false(idn_day_parse("2026-13-01", &d));
	assert_false(idn_day_parse("2026-00-10", &d));
	assert_false(idn_day_parse("2026-04-31", &d));
	assert_false(idn_day_parse("2026-4-1", &d));
	assert_false(idn_day_parse("2026/04/01", &d));
	assert_false(idn_day_parse("yesterday", &d));
	assert_false(idn_day_parse("", &d));
	assert_false(idn_day_parse("0000-01-01", &d));
	assert_false(idn_day_parse("2026-04-011", &d));
}

static int64_t utc(int64_t y, unsigned m, unsigned d, int hh, int mm, int ss)
{
	return idn_days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60 + ss;
}

static void test_offsets(void **s)
{
	/* +08:00: 2026-12-31T16:00:00Z is the first second of 2027 there. */
	int64_t t = utc(2026, 12, 31, 16, 0, 0);
	int64_t day = idn_local_day(t, 480);
	assert_int_equal(day, idn_days_from_civil(2027, 1, 1));
	assert_int_equal(idn_day_year(day), 2027);
	assert_int_equal(idn_local_day(t - 1, 480), idn_days_from_civil(2026, 12, 31));
	assert_int_equal(idn_day_year(idn_local_day(t - 1, 480)), 2026);
	assert_int_equal(idn_day_start(day, 480), t);
	/* In UTC the same instant is still the last day of 2026. */
	assert_int_equal(idn_local_day(t, 0), idn_days_from_civil(2026, 12, 31));
	/* Negative offsets: -05:00 is a day behind until 05:00Z. */
	int64_t u = utc(2027, 1, 1, 4, 59, 59);
	assert_int_equal(idn_local_day(u, -300), idn_days_from_civil(2026, 12, 31));
	assert_int_equal(idn_local_day(u + 1, -300), idn_days_from_civil(2027, 1, 1));
	assert_int_equal(idn_day_start(idn_days_from_civil(2027, 1, 1), -300), u + 1);
	/* Half-hour offsets (+05:30) and far ones (+14:00, -12:00). */
	assert_int_equal(idn_local_day(utc(2024, 2, 28, 18, 30, 0), 330),
			 idn_days_from_civil(2024, 2, 29));
	assert_int_equal(idn_local_day(utc(2024, 2, 28, 18, 29, 59), 330),
			 idn_days_from_civil(2024, 2, 28));
	assert_int_equal(idn_local_day(utc(2024, 2, 28, 10, 0, 0), 840),
			 idn_days_from_civil(2024, 2, 29));
	assert_int_equal(idn_local_day(utc(2024, 3, 1, 11, 59, 59), -720),
			 idn_days_from_civil(2024, 2, 29));
	/* Before 1970 (negative Unix times) days still floor. */
	assert_int_equal(idn_local_day(-1, 0), -1);
	assert_int_equal(idn_local_day(-86400, 0), -1);
	assert_int_equal(idn_local_day(-86401, 0), -2);
	/* Every day starts where the previous one ends. */
	for (int off = -720; off <= 840; off += 30)
		for (int64_t d = 20000; d < 20800; d += 13) {
			int64_t st = idn_day_start(d, off);
			assert_int_equal(idn_local_day(st, off), d);
			assert_int_equal(idn_local_day(st - 1, off), d - 1);
		}
}

static void test_averages(void **s)
{
	int64_t a = idn_days_from_civil(2024, 2, 1), b = idn_days_from_civil(2024, 2, 29);
	/* 29 days in February 2024, traffic on only some of them. */
	assert_true(idn_per_day(290, a, b) == 10.0);
	assert_true(idn_per_day(0, a, b) == 0.0);
	assert_true(idn_per_day(7, a, a) == 7.0);
	assert_true(idn_per_day(7, b, a) == 0.0);
	/* A year at exactly 10M a day: 366 days in 2024, 365 in 2100. */
	int64_t y0 = idn_days_from_civil(2024, 1, 1), y1 = idn_days_from_civil(2024, 12, 31);
	assert_true(idn_per_day(3660000000ull, y0, y1) == 10000000.0);
	y0 = idn_days_from_civil(2100, 1, 1);
	y1 = idn_days_from_civil(2100, 12, 31);
	assert_true(idn_per_day(3650000000ull, y0, y1) == 10000000.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_leap_years),
		cmocka_unit_test(test_day_numbers),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_offsets),
		cmocka_unit_test(test_averages),
	};
	return cmocka_run_group_tests_name("proto/civil", tests, NULL, NULL);
}
