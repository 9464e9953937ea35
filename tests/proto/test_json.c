/* test_json.c - handle values to and from CNRI's REST JSON: every data format, errors with their text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/json.h"

/* Parse one JSON value object, encode it, decode it back. */
static int from_json(const char *text, uint8_t *buf, size_t cap, idn_value_t *v, char *err)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	assert_non_null(j);
	idn_wire_t w;
	idn_wire_init(&w, buf, cap);
	int ret = idn_value_from_json(j, 1700000000, &w, err, 256);
	json_decref(j);
	if (ret)
		return ret;
	idn_wire_t in;
	idn_wire_init_ro(&in, buf, idn_wire_offset(&w));
	assert_int_equal(idn_value_decode(&in, v), IDN_OK);
	assert_int_equal(idn_wire_avail(&in), 0);
	return IDN_OK;
}

static char *to_json(const idn_value_t *v)
{
	json_t *j = idn_value_to_json(v);
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	return s;
}

static void roundtrip(const char *in, const char *want)
{
	uint8_t buf[4096];
	idn_value_t v;
	char err[256] = "";
	if (from_json(in, buf, sizeof(buf), &v, err) != IDN_OK)
		fail_msg("%s: %s", in, err);
	char *s = to_json(&v);
	if (strcmp(s, want) != 0)
		fail_msg("got  %s\nwant %s", s, want);
	free(s);
}

static void test_string_forms(void **st)
{
	roundtrip("{\"index\":1,\"type\":\"URL\",\"data\":{\"format\":\"string\",\"value\":\"http://example.com\"}}",
		  "{\"index\":1,\"type\":\"URL\",\"data\":{\"format\":\"string\",\"value\":\"http://example.com\"},"
		  "\"ttl\":86400,\"timestamp\":\"2023-11-14T22:13:20Z\"}");
	/* A bare string is text; permissions and TTL carried through. */
	roundtrip("{\"index\":2,\"type\":\"EMAIL\",\"data\":\"a@b\",\"permissions\":\"1100\",\"ttl\":60}",
		  "{\"index\":2,\"type\":\"EMAIL\",\"data\":{\"format\":\"string\",\"value\":\"a@b\"},"
		  "\"permissions\":\"1100\",\"ttl\":60,\"timestamp\":\"2023-11-14T22:13:20Z\"}");
	/* Binary data comes back as base64; hex input works too. */
	roundtrip("{\"index\":3,\"type\":\"BIN\",\"data\":{\"format\":\"hex\",\"value\":\"00ff10\"}}",
		  "{\"index\":3,\"type\":\"BIN\",\"data\":{\"format\":\"base64\",\"value\":\"AP8Q\"},"
		  "\"ttl\":86400,\"timestamp\":\"2023-11-14T22:13:20Z\"}");
	roundtrip("{\"index\":4,\"type\":\"T\",\"data\":\"x\",\"ttl\":\"2030-01-01T00:00:00Z\","
		  "\"references\":[{\"handle\":\"88.100/r\",\"index\":2}]}",
		  "{\"index\":4,\"type\":\"T\",\"data\":{\"format\":\"string\",\"value\":\"x\"},"
		  "\"ttl\":\"2030-01-01T00:00:00Z\",\"timestamp\":\"2023-11-14T22:13:20Z\","
		  "\"references\":[{\"handle\":\"88.100/r\",\"index\":2}]}");
}

static void test_structured(void **st)
{
	roundtrip("{\"index\":100,\"type\":\"HS_ADMIN\",\"data\":{\"format\":\"admin\",\"value\":"
		  "{\"handle\":\"0.NA/88.100\",\"index\":300,\"permissions\":\"011111111111\"}}}",
		  "{\"index\":100,\"type\":\"HS_ADMIN\",\"data\":{\"format\":\"admin\",\"value\":"
		  "{\"handle\":\"0.NA/88.100\",\"index\":300,\"permissions\":\"011111111111\"}},"
		  "\"ttl\":86400,\"timestamp\":\"2023-11-14T22:13:20Z\"}");
	roundtrip("{\"index\":200,\"type\":\"HS_VLIST\",\"data\":{\"format\":\"vlist\",\"value\":"
		  "[{\"handle\":\"0.NA/88.100\",\"index\":300}]}}",
		  "{\"index\":200,\"type\":\"HS_VLIST\",\"data\":{\"format\":\"vlist\",\"value\":"
		  "[{\"handle\":\"0.NA/88.100\",\"index\":300}]},\"ttl\":86400,"
		  "\"timestamp\":\"2023-11-14T22:13:20Z\"}");
	roundtrip("{\"index\":300,\"type\":\"HS_PUBKEY\",\"data\":{\"format\":\"key\",\"value\":"
		  "{\"kty\":\"RSA\",\"n\":\"w6VaPBI0Vnk\",\"e\":\"AQAB\"}}}",
		  "{\"index\":300,\"type\":\"HS_PUBKEY\",\"data\":{\"format\":\"key\",\"value\":"
		  "{\"kty\":\"RSA\",\"n\":\"w6VaPBI0Vnk\",\"e\":\"AQAB\"}},\"ttl\":86400,"
		  "\"timestamp\":\"2023-11-14T22:13:20Z\"}");
	roundtrip("{\"index\":1,\"type\":\"HS_SITE\",\"data\":{\"format\":\"site\",\"value\":"
		  "{\"version\":1,\"protocolVersion\":\"2.11\",\"serialNumber\":1,\"primarySite\":true,"
		  "\"multiPrimary\":false,\"attributes\":[{\"name\":\"desc\",\"value\":\"test\"}],"
		  "\"servers\":[{\"serverId\":1,\"address\":\"192.0.2.1\",\"interfaces\":["
		  "{\"query\":true,\"admin\":true,\"protocol\":\"TCP\",\"port\":2641}]}]}}}",
		  "{\"index\":1,\"type\":\"HS_SITE\",\"data\":{\"format\":\"site\",\"value\":"
		  "{\"version\":1,\"protocolVersion\":\"2.11\",\"serialNumber\":1,\"primarySite\":true,"
		  "\"multiPrimary\":false,\"attributes\":[{\"name\":\"desc\",\"value\":\"test\"}],"
		  "\"servers\":[{\"serverId\":1,\"address\":\"192.0.2.1\",\"interfaces\":["
		  "{\"query\":true,\"admin\":true,\"protocol\":\"TCP\",\"port\":2641}]}]}},"
		  "\"ttl\":86400,\"timestamp\":\"2023-11-14T22:13:20Z\"}");
}

static void expect_err(const char *in, const char *needle)
{
	uint8_t buf[4096];
	idn_value_t v;
	char err[256] = "";
	assert_int_not_equal(from_json(in, buf, sizeof(buf), &v, err), IDN_OK);
	if (!strstr(err, needle))
		fail_msg("error '%s' lacks '%s'", err, needle);
}

static void test_errors(void **st)
{
	expect_err("{\"type\":\"URL\",\"data\":\"x\"}", "\"index\" must be a positive integer");
	expect_err("{\"index\":-1,\"type\":\"URL\",\"data\":\"x\"}", "positive integer");
	expect_err("{\"index\":0,\"type\":\"URL\",\"data\":\"x\"}", "positive integer");
	expect_err("{\"index\":1,\"data\":\"x\"}", "value 1: \"type\"");
	expect_err("{\"index\":1,\"type\":\"URL\"}", "\"data\" is missing");
	expect_err("{\"index\":1,\"type\":\"U\",\"data\":{\"format\":\"base64\",\"value\":\"!!\"}}",
		   "not valid base64");
	expect_err("{\"index\":1,\"type\":\"U\",\"data\":{\"format\":\"xyz\",\"value\":\"a\"}}",
		   "unknown data format 'xyz'");
	expect_err("{\"index\":1,\"type\":\"U\",\"data\":7}", "must be a string or an object");
	expect_err("{\"index\":1,\"type\":\"U\",\"data\":\"x\",\"permissions\":\"12\"}", "0s and 1s");
	expect_err("{\"index\":9,\"type\":\"HS_ADMIN\",\"data\":{\"format\":\"admin\",\"value\":{}}}",
		   "value 9: admin value needs a \"handle\"");
	char big[400];
	memset(big, 'T', sizeof(big));
	big[sizeof(big) - 1] = 0;
	char in[600];
	snprintf(in, sizeof(in), "{\"index\":1,\"type\":\"%s\",\"data\":\"x\"}", big);
	expect_err(in, "longer than 256");
}

static void test_lines(void **st)
{
	uint8_t buf[4096];
	idn_wire_t w;
	idn_json_record_t rec;
	char err[256];
	const char *ok = "{\"handle\":\"88.100/A\",\"values\":[{\"index\":1,\"type\":\"URL\",\"data\":\"u\"}]}";
	idn_wire_init(&w, buf, sizeof(buf));
	assert_int_equal(idn_record_from_json_line(ok, strlen(ok), 1, &w, &rec, err, sizeof(err)), IDN_OK);
	assert_int_equal(rec.n_values, 1);
	assert_int_equal(rec.handle_len, 8);
	json_decref(rec.doc);
	const char *bad[] = { "{", "[]", "{\"handle\":\"\",\"values\":[{}]}",
			      "{\"handle\":\"a/b\",\"values\":[]}", "{\"handle\":\"a/b\"}" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		idn_wire_init(&w, buf, sizeof(buf));
		assert_int_not_equal(idn_record_from_json_line(bad[i], strlen(bad[i]), 1, &w, &rec,
							       err, sizeof(err)), IDN_OK);
		assert_true(strlen(err) > 0);
	}
	/* Output space: a value that does not fit is refused, not truncated. */
	idn_wire_init(&w, buf, 20);
	assert_int_not_equal(idn_record_from_json_line(ok, strlen(ok), 1, &w, &rec, err, sizeof(err)),
			     IDN_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_string_forms), cmocka_unit_test(test_structured),
		cmocka_unit_test(test_errors),       cmocka_unit_test(test_lines),
	};
	return cmocka_run_group_tests_name("proto/json", tests, NULL, NULL);
}
