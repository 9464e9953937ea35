/* test_admin.c - unit tests of the admin client: request builders, --auth parsing, value specs, CSV and JSON-lines input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "client/admin.h"
#include "client/reader.h"
#include "proto/admin.h"
#include "proto/record.h"

static uint8_t buf[65536];

/* Decode what a builder wrote: one message with an empty credential. */
static void decode(size_t len, uint32_t opcode, idn_msg_t *m)
{
	assert_int_equal(idn_msg_decode(buf, len, m), IDN_OK);
	assert_int_equal(m->hdr.opcode, opcode);
	assert_int_equal(m->hdr.rcode, 0);
	assert_true(m->has_cred);
	assert_int_equal(m->cred.len, 0);
	assert_int_equal(m->env.major, 2);
	assert_int_equal(m->env.minor, 11);
}

static void test_values_req(void **s)
{
	uint8_t vals[1024];
	idn_wire_t v;
	idn_wire_init(&v, vals, sizeof(vals));
	char err[256];
	assert_int_equal(idn_value_spec_encode("1:URL:https://x.example/a:b", 7, &v, err, sizeof(err)),
			 IDN_OK);
	idn_put_admin_value(&v, 100, IDN_ADM_ALL, "0.NA/88.100.12", 300, 7);
	assert_int_equal(v.err, IDN_OK);
	idn_bytes_t vb = { vals, (uint32_t)idn_wire_offset(&v) };
	assert_true(idn_values_have_type(vb, 2, "HS_ADMIN"));
	assert_false(idn_values_have_type(vb, 1, "HS_ADMIN"));

	idn_wire_t w;
	idn_wire_init(&w, buf, sizeof(buf));
	idn_req_opts_t o = { .request_id = 42, .session_id = 9, .opflag = IDN_OF_OVRW | IDN_OF_MINT };
	assert_int_equal(idn_build_values_req(&w, IDN_OC_CREATE_HANDLE, "88.100.12/X", 2, vb, &o),
			 IDN_OK);
	idn_msg_t m;
	decode(idn_wire_offset(&w), IDN_OC_CREATE_HANDLE, &m);
	assert_int_equal(m.env.request_id, 42);
	assert_int_equal(m.env.session_id, 9);
	assert_true(m.hdr.opflag & IDN_OF_OVRW);
	assert_true(m.hdr.opflag & IDN_OF_MINT);
	idn_values_req_t r;
	assert_int_equal(idn_values_req_decode(m.body.p, m.body.len, &r), IDN_OK);
	assert_true(idn_bytes_eq_str(r.handle, "88.100.12/X"));
	assert_int_equal(r.n_values, 2);
	idn_wire_t rv;
	idn_wire_init_ro(&rv, r.values.p, r.values.len);
	idn_value_t a, b;
	assert_int_equal(idn_value_decode(&rv, &a), IDN_OK);
	assert_int_equal(idn_value_decode(&rv, &b), IDN_OK);
	assert_int_equal(a.index, 1);
	assert_true(idn_bytes_eq_str(a.type, "URL"));
	assert_true(idn_bytes_eq_str(a.data, "https://x.example/a:b"));
	assert_int_equal(a.perms, IDN_PERM_DEFAULT);
	assert_int_equal(b.index, 100);
	idn_admin_t ad;
	assert_int_equal(idn_admin_decode(b.data.p, b.data.len, &ad), IDN_OK);
	assert_int_equal(ad.perms, 0x0fff);
	assert_int_equal(ad.admin_index, 300);
	assert_true(idn_bytes_eq_str(ad.admin_id, "0.NA/88.100.12"));

	/* Add and modify share the body. */
	idn_wire_init(&w, buf, sizeof(buf));
	assert_int_equal(idn_build_values_req(&w, IDN_OC_MODIFY_VALUE, "88.100.12/X", 1, vb,
					      &(idn_req_opts_t){ .request_id = 1 }),
			 IDN_OK);
	decode(idn_wire_offset(&w), IDN_OC_MODIFY_VALUE, &m);
	assert_false(m.hdr.opflag & IDN_OF_OVRW);
}

static void test_remove_and_handle_reqs(void **s)
{
	idn_wire_t w;
	idn_wire_init(&w, buf, sizeof(buf));
	uint32_t idx[] = { 2, 7 };
	idn_req_opts_t o = { .request_id = 5 };
	assert_int_equal(idn_build_remove_req(&w, "88.100.12/X", 2, idx, &o), IDN_OK);
	idn_msg_t m;
	decode(idn_wire_offset(&w), IDN_OC_REMOVE_VALUE, &m);
	idn_remove_req_t r;
	assert_int_equal(idn_remove_req_decode(m.body.p, m.body.len, &r), IDN_OK);
	assert_int_equal(r.n_index, 2);
	assert_int_equal(r.index[0], 2);
	assert_int_equal(r.index[1], 7);

	const uint32_t ops[] = { IDN_OC_DELETE_HANDLE, IDN_OC_LIST_HANDLES, IDN_OC_HOME_NA,
				 IDN_OC_UNHOME_NA, IDN_OC_LIST_HOMED_NAS };
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		idn_wire_init(&w, buf, sizeof(buf));
		assert_int_equal(idn_build_handle_req(&w, ops[i], "0.NA/88.100.12", &o), IDN_OK);
		decode(idn_wire_offset(&w), ops[i], &m);
		idn_bytes_t h;
		assert_int_equal(idn_handle_body_decode(m.body.p, m.body.len, &h), IDN_OK);
		assert_true(idn_bytes_eq_str(h, "0.NA/88.100.12"));
	}
	/* A buffer too small latches IDN_ESPACE instead of writing past it. */
	idn_wire_init(&w, buf, 30);
	assert_int_equal(idn_build_handle_req(&w, IDN_OC_DELETE_HANDLE, "88.100.12/X", &o),
			 IDN_ESPACE);
}

static void test_auth_parse(void **s)
{
	idn_auth_t a = { 0 };
	assert_int_equal(idn_auth_parse_id(&a, "300:0.NA/88.100.12"), IDN_OK);
	assert_string_equal(a.handle, "0.NA/88.100.12");
	assert_int_equal(a.index, 300);
	assert_int_equal(idn_auth_parse_id(&a, "0.NA/88.100.12:301"), IDN_OK);
	assert_string_equal(a.handle, "0.NA/88.100.12");
	assert_int_equal(a.index, 301);
	/* CNRI order wins when both ends are numbers; colons stay in the handle. */
	assert_int_equal(idn_auth_parse_id(&a, "7:88.100/a:b"), IDN_OK);
	assert_string_equal(a.handle, "88.100/a:b");
	assert_int_equal(a.index, 7);
	assert_int_equal(idn_auth_parse_id(&a, "0.NA/88.100"), IDN_EINVAL);
	assert_int_equal(idn_auth_parse_id(&a, "300:"), IDN_EINVAL);
	assert_int_equal(idn_auth_parse_id(&a, ":300"), IDN_EINVAL);
	assert_int_equal(idn_auth_parse_id(&a, "x:0.NA/y"), IDN_EINVAL);
	assert_int_equal(idn_auth_parse_id(&a, "99999999999:0.NA/y"), IDN_EINVAL);
	assert_int_equal(idn_auth_parse_id(&a, "2147483648:0.NA/y"), IDN_EINVAL);
	assert_string_equal(a.handle, "88.100/a:b"); /* unchanged on error */
	idn_auth_free(&a);

	/* A secret file: the final newline is not part of the secret. */
	char path[] = "/tmp/idn-secret-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "s3cret\r\n", 8), 8);
	close(fd);
	assert_int_equal(idn_auth_load_secret(&a, path), IDN_OK);
	assert_int_equal(a.secret_len, 6);
	assert_memory_equal(a.secret, "s3cret", 6);
	idn_auth_free(&a);
	FILE *f = fopen(path, "w");
	fputs("\n", f);
	fclose(f);
	assert_int_equal(idn_auth_load_secret(&a, path), IDN_EINVAL);
	unlink(path);
	assert_true(idn_auth_load_secret(&a, path) < 0);
	idn_auth_free(&a);
}

static void test_value_spec(void **s)
{
	uint8_t vals[256];
	idn_wire_t w;
	char err[256];
	const char *bad[] = { "URL:x", "0:URL:x", "-1:URL:x", "a:URL:x", "1::x", "3000000000:URL:x" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		idn_wire_init(&w, vals, sizeof(vals));
		assert_int_equal(idn_value_spec_encode(bad[i], 0, &w, err, sizeof(err)), IDN_EINVAL);
		assert_true(err[0] != 0);
	}
	idn_wire_init(&w, vals, sizeof(vals));
	assert_int_equal(idn_value_spec_encode("2:EMAIL:", 0, &w, err, sizeof(err)), IDN_OK);
	idn_wire_init(&w, vals, 10);
	assert_int_equal(idn_value_spec_encode("2:EMAIL:a@b", 0, &w, err, sizeof(err)), IDN_ELIMIT);
}

/* Read every record of `text`; results in a string like "H[1-2]n=2;!3:why;". */
static void read_all(const char *text, int format, char *out, size_t cap)
{
	FILE *in = fmemopen((void *)text, strlen(text), "r");
	assert_non_null(in);
	idn_reader_t *r;
	assert_int_equal(idn_reader_open(in, "in.csv", format, 1, &r), IDN_OK);
	out[0] = 0;
	idn_record_t rec;
	char err[512];
	int ret;
	while ((ret = idn_reader_next(r, &rec, err, sizeof(err))) != 0) {
		size_t n = strlen(out);
		if (ret == 1)
			snprintf(out + n, cap - n, "%s[%llu-%llu]n=%u;", rec.handle, rec.first_line,
				 rec.last_line, rec.n_values);
		else if (ret == IDN_EINVAL)
			snprintf(out + n, cap - n, "!%s;", err);
		else {
			snprintf(out + n, cap - n, "E%d:%s", ret, err);
			break;
		}
	}
	idn_reader_close(r);
	fclose(in);
}

static void test_csv(void **s)
{
	char out[2048];
	read_all("handle,index,type,data\n"
		 "88.100.12/A,1,URL,https://a\n"
		 "88.100.12/A,2,DESC,\"a, \"\"quoted\"\"\n two-line text\"\n"
		 "88.100.12/B,1,URL,https://b\r\n"
		 "\n"
		 "88.100.12/C,1,URL,x\n",
		 IDN_INPUT_CSV, out, sizeof(out));
	assert_string_equal(out, "88.100.12/A[2-4]n=2;88.100.12/B[5-5]n=1;88.100.12/C[7-7]n=1;");

	/* The embedded quote, comma and newline decode as data. */
	const char *one = "Type,Data,Handle,Index\nDESC,\"x,\"\"y\"\"\nz\",88.100/Q,3\n";
	FILE *in = fmemopen((void *)one, strlen(one), "r");
	idn_reader_t *r;
	assert_int_equal(idn_reader_open(in, "one.csv", IDN_INPUT_CSV, 1, &r), IDN_OK);
	idn_record_t rec;
	char err[256];
	assert_int_equal(idn_reader_next(r, &rec, err, sizeof(err)), 1);
	assert_string_equal(rec.handle, "88.100/Q");
	idn_wire_t w;
	idn_wire_init_ro(&w, rec.values.p, rec.values.len);
	idn_value_t v;
	assert_int_equal(idn_value_decode(&w, &v), IDN_OK);
	assert_int_equal(v.index, 3);
	assert_true(idn_bytes_eq_str(v.data, "x,\"y\"\nz"));
	assert_string_equal(rec.text, "DESC,\"x,\"\"y\"\"\nz\",88.100/Q,3");
	assert_int_equal(idn_reader_next(r, &rec, err, sizeof(err)), 0);
	idn_reader_close(r);
	fclose(in);

	/* Bad rows are named by line; a bad row spoils its whole identifier. */
	read_all("handle,index,type,data\n"
		 "88.100/A,1,URL,a\n"
		 "88.100/A,x,URL,a\n"
		 "88.100/A,3,URL,a\n"
		 "88.100/B,1,URL,a\"b\n"
		 "88.100/C,1,URL\n"
		 "88.100/D,1,URL,\"a\"b\n"
		 "88.100/E,1,URL,e\n"
		 "88.100/E,1,URL,e2\n"
		 "88.100/F,1,URL,\"never closed\n",
		 IDN_INPUT_CSV, out, sizeof(out));
	assert_string_equal(out,
			    "!in.csv:3: index 'x' must be a positive integer;"
			    "!in.csv:5: field 4: quote inside an unquoted field;"
			    "!in.csv:6: 3 fields, expected 4;"
			    "!in.csv:7: field 4: text after a closing quote;"
			    "!in.csv:8: index 1 appears twice;"
			    "!in.csv:10: quoted field not closed;");

	/* A NUL inside a handle is refused, not cut off (found by fuzz_import). */
	static const char nul[] = "handle,index,type,data\n88.100/A\0B,1,URL,a\n88.100/C,1,URL,c\n";
	FILE *nin = fmemopen((void *)nul, sizeof(nul) - 1, "r");
	assert_int_equal(idn_reader_open(nin, "nul.csv", IDN_INPUT_CSV, 1, &r), IDN_OK);
	assert_int_equal(idn_reader_next(r, &rec, err, sizeof(err)), IDN_EINVAL);
	assert_string_equal(err, "nul.csv:2: handle contains a NUL byte");
	assert_int_equal(idn_reader_next(r, &rec, err, sizeof(err)), 1);
	assert_string_equal(rec.handle, "88.100/C");
	idn_reader_close(r);
	fclose(nin);

	read_all("handle,idx,type,data\n88.100/A,1,URL,a\n", IDN_INPUT_CSV, out, sizeof(out));
	assert_string_equal(out, "E-1002:in.csv:1: the CSV header must name the columns "
				 "handle,index,type,data");
	read_all("", IDN_INPUT_CSV, out, sizeof(out));
	assert_string_equal(out, "E-1002:in.csv:0: empty input (no CSV header)");
}

static void test_jsonl(void **s)
{
	char out[2048];
	read_all("# comment\n"
		 "{\"handle\":\"88.100/A\",\"values\":[{\"index\":1,\"type\":\"URL\",\"data\":\"a\"}]}\n"
		 "\n"
		 "{\"handle\":\"88.100/B\",\"values\":[{\"index\":0,\"type\":\"URL\",\"data\":\"a\"}]}\n"
		 "not json\n"
		 "{\"handle\":\"88.100/C\",\"values\":[{\"index\":1,\"type\":\"URL\",\"data\":\"a\"},"
		 "{\"index\":1,\"type\":\"URL\",\"data\":\"b\"}]}\n"
		 "{\"handle\":\"88.100/D\",\"values\":[]}",
		 IDN_INPUT_JSONL, out, sizeof(out));
	assert_non_null(strstr(out, "88.100/A[2-2]n=1;!in.csv:4: "));
	assert_non_null(strstr(out, ";!in.csv:5: "));
	assert_non_null(strstr(out, ";!in.csv:6: index 1 appears twice;!in.csv:7: "));
}

static void test_rc_names(void **s)
{
	assert_string_equal(idn_rc_name(101), "HANDLE_ALREADY_EXISTS");
	assert_string_equal(idn_rc_name(402), "AUTHENTICATION_NEEDED");
	assert_string_equal(idn_rc_name(604), "REGISTER_COUNT_LIMIT");
	assert_string_equal(idn_rc_name(9999), "UNKNOWN");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values_req),
		cmocka_unit_test(test_remove_and_handle_reqs),
		cmocka_unit_test(test_auth_parse),
		cmocka_unit_test(test_value_spec),
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_jsonl),
		cmocka_unit_test(test_rc_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
