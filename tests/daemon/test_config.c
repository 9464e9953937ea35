/* test_config.c - the option table: defaults, file parsing with line numbers, limits, validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/config.h"
#include "proto/errcode.h"

static char path[64];

static void write_file(const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **s)
{
	snprintf(path, sizeof(path), "/tmp/idn-conf-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	return 0;
}

static int teardown(void **s)
{
	unlink(path);
	return 0;
}

static void test_defaults(void **s)
{
	idn_config_t c;
	char err[256];
	idn_config_defaults(&c);
	assert_string_equal(c.listen, "127.0.0.1:2641");
	assert_string_equal(c.node_prefix, "88.100");
	assert_int_equal(c.workers, 0);
	assert_int_equal(c.tcp_idle_timeout, 60);
	assert_int_equal(c.map_size, 64LL << 30);
	assert_false(c.demo);
	assert_int_equal(idn_config_validate(&c, err, sizeof(err)), IDN_OK);
}

static void test_file(void **s)
{
	idn_config_t c;
	char err[256];
	idn_config_defaults(&c);
	write_file("# comment\n\n  workers = 3   # trailing comment\nnode-prefix=\"86.1000\"\n"
		   "map-size = 2G\ndemo = yes\nlisten = [::1]:12641\n");
	assert_int_equal(idn_config_load_file(&c, path, err, sizeof(err)), IDN_OK);
	assert_int_equal(c.workers, 3);
	assert_string_equal(c.node_prefix, "86.1000");
	assert_int_equal(c.map_size, 2LL << 30);
	assert_true(c.demo);
	assert_string_equal(c.listen, "[::1]:12641");
}

static void expect_error(const char *text, const char *needle)
{
	idn_config_t c;
	char err[256];
	idn_config_defaults(&c);
	write_file(text);
	assert_int_equal(idn_config_load_file(&c, path, err, sizeof(err)), IDN_ECONFIG);
	if (!strstr(err, needle))
		fail_msg("error '%s' lacks '%s'", err, needle);
}

static void test_file_errors(void **s)
{
	expect_error("workers = 1\nworkers = 65\n", ":2: workers: '65' is not an integer from 0 to 64");
	expect_error("nonsense\n", ":1: expected 'name = value'");
	expect_error("colour = blue\n", ":1: unknown option 'colour'");
	expect_error("listen = localhost:80\n", "not a numeric HOST:PORT");
	expect_error("demo = maybe\n", "is not yes or no");
	expect_error("map-size = 12Q\n", "map-size");
	expect_error("node-prefix = \"unterminated\n", "unterminated quote");
	expect_error("config = /etc/x\n", "only be given on the command line");
}

static void test_missing_file(void **s)
{
	idn_config_t c;
	char err[256];
	idn_config_defaults(&c);
	assert_int_equal(idn_config_load_file(&c, "/nonexistent/idnode.conf", err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/idnode.conf"));
}

static void test_validate(void **s)
{
	idn_config_t c;
	char err[256];
	idn_config_defaults(&c);
	const char *bad[] = { "", ".88", "88.", "88..1", "88/1", "0.NA", "has space" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(idn_config_set(&c, "node-prefix", bad[i], err, sizeof(err)), IDN_OK);
		assert_int_equal(idn_config_validate(&c, err, sizeof(err)), IDN_ECONFIG);
	}
	assert_int_equal(idn_config_set(&c, "node-prefix", "20.500.12345", err, sizeof(err)), IDN_OK);
	assert_int_equal(idn_config_validate(&c, err, sizeof(err)), IDN_OK);
	assert_int_equal(idn_config_set(&c, "log-level", "loud", err, sizeof(err)), IDN_OK);
	assert_int_equal(idn_config_validate(&c, err, sizeof(err)), IDN_ECONFIG);
}

static void test_print_roundtrip(void **s)
{
	idn_config_t c, d;
	char err[256];
	idn_config_defaults(&c);
	idn_config_set(&c, "workers", "7", err, sizeof(err));
	idn_config_set(&c, "site-description", "a node", err, sizeof(err));
	FILE *f = fopen(path, "w");
	idn_config_print(&c, f, false);
	fclose(f);
	idn_config_defaults(&d);
	assert_int_equal(idn_config_load_file(&d, path, err, sizeof(err)), IDN_OK);
	assert_memory_equal(&c, &d, sizeof(c));
	/* The commented sample parses too (everything in it is a comment). */
	f = fopen(path, "w");
	idn_config_print(&c, f, true);
	fclose(f);
	assert_int_equal(idn_config_load_file(&d, path, err, sizeof(err)), IDN_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_print_roundtrip),
	};
	return cmocka_run_group_tests_name("daemon/config", tests, setup, teardown);
}
