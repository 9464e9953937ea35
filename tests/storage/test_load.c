/* test_load.c - JSON-lines bulk loading: good files, bad lines with line numbers, keep-going, homing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/util/testutil.h"
#include "storage/load.h"

typedef struct {
	char dir[64];
	idn_store_t *s;
	char errors[2048];
} fx_t;

static int setup(void **state)
{
	fx_t *f = calloc(1, sizeof(*f));
	assert_int_equal(tu_tmpdir("test-load", f->dir, sizeof(f->dir)), 0);
	assert_int_equal(idn_store_open(f->dir, NULL, &f->s), IDN_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx_t *f = *state;
	idn_store_close(f->s);
	assert_int_equal(tu_rmrf(f->dir), 0);
	free(f);
	return 0;
}

static void on_error(void *arg, const char *msg)
{
	fx_t *f = arg;
	strncat(f->errors, msg, sizeof(f->errors) - strlen(f->errors) - 2);
	strcat(f->errors, "\n");
}

static int load(fx_t *f, const char *text, bool keep_going, bool home, idn_load_report_t *rep)
{
	FILE *in = fmemopen((void *)text, strlen(text), "r");
	idn_load_opts_t o = { .batch = 2, .keep_going = keep_going, .home_prefixes = home,
			      .error = on_error, .arg = f };
	int ret = idn_load_jsonl(f->s, in, "t.jsonl", &o, rep);
	fclose(in);
	return ret;
}

static bool exists(fx_t *f, const char *h)
{
	idn_reader_t *r;
	idn_record_t rec;
	assert_int_equal(idn_reader_new(f->s, &r), IDN_OK);
	assert_int_equal(idn_reader_begin(r), IDN_OK);
	bool ok = idn_reader_get(r, (const uint8_t *)h, strlen(h), &rec) == IDN_OK;
	idn_reader_end(r);
	idn_reader_free(r);
	return ok;
}

#define REC(h) "{\"handle\":\"" h "\",\"values\":[{\"index\":1,\"type\":\"URL\",\"data\":\"u\"}]}\n"

static void test_good(void **state)
{
	fx_t *f = *state;
	idn_load_report_t rep;
	assert_int_equal(load(f, REC("88.1/a") "\n# comment\n" REC("88.1/b") REC("88.2/c"), false,
			      true, &rep), IDN_OK);
	assert_int_equal(rep.loaded, 3);
	assert_int_equal(rep.failed, 0);
	assert_true(exists(f, "88.1/A"));
	idn_reader_t *r;
	assert_int_equal(idn_reader_new(f->s, &r), IDN_OK);
	assert_int_equal(idn_reader_begin(r), IDN_OK);
	assert_true(idn_reader_is_homed(r, (const uint8_t *)"0.NA/88.2", 9));
	idn_reader_end(r);
	idn_reader_free(r);
}

static void test_bad_line_stops(void **state)
{
	fx_t *f = *state;
	idn_load_report_t rep;
	assert_int_equal(load(f, REC("88.1/a") "{oops\n" REC("88.1/b"), false, false, &rep),
			 IDN_EINVAL);
	assert_int_equal(rep.loaded, 1);
	assert_int_equal(rep.failed, 1);
	assert_non_null(strstr(f->errors, "t.jsonl:2: invalid JSON"));
	assert_true(exists(f, "88.1/a"));   /* good lines before it are kept */
	assert_false(exists(f, "88.1/b"));  /* nothing after it */
}

static void test_keep_going(void **state)
{
	fx_t *f = *state;
	idn_load_report_t rep;
	const char *dup = "{\"handle\":\"88.1/d\",\"values\":[{\"index\":1,\"type\":\"A\",\"data\":\"x\"},"
			  "{\"index\":1,\"type\":\"B\",\"data\":\"y\"}]}\n";
	char text[1024];
	snprintf(text, sizeof(text), "%s%s%s", REC("88.1/a"), dup, REC("88.1/b"));
	assert_int_equal(load(f, text, true, false, &rep), IDN_OK);
	assert_int_equal(rep.loaded, 2);
	assert_int_equal(rep.failed, 1);
	assert_non_null(strstr(f->errors, "t.jsonl:2: value 1: index appears twice"));
	assert_false(exists(f, "88.1/d"));
	assert_true(exists(f, "88.1/b"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_line_stops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keep_going, setup, teardown),
	};
	return cmocka_run_group_tests_name("storage/load", tests, NULL, NULL);
}
