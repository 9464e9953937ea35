/* test_captures.c - every message captured from CNRI's server and the IDIS SDK decodes, and re-encodes byte for byte. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/msg.h"
#include "proto/record.h"
#include "tests/util/testutil.h"

static int n_values_checked, n_sites_checked, n_messages;

/* Structured value data decodes, and sites re-encode exactly. */
static void check_value(const idn_value_t *v)
{
	if (idn_type_is(v->type, "HS_ADMIN")) {
		idn_admin_t a;
		assert_int_equal(idn_admin_decode(v->data.p, v->data.len, &a), IDN_OK);
	} else if (idn_type_is(v->type, "HS_SITE")) {
		idn_site_t *s = malloc(sizeof(*s));
		assert_int_equal(idn_site_decode(v->data.p, v->data.len, s), IDN_OK);
		uint8_t *buf = malloc(v->data.len);
		idn_wire_t w;
		idn_wire_init(&w, buf, v->data.len);
		idn_site_encode(&w, s);
		assert_int_equal(w.err, IDN_OK);
		assert_memory_equal(buf, v->data.p, v->data.len);
		free(buf);
		free(s);
		n_sites_checked++;
	} else if (idn_type_is(v->type, "HS_PUBKEY")) {
		idn_pubkey_t k;
		assert_int_equal(idn_pubkey_decode(v->data.p, v->data.len, &k), IDN_OK);
		assert_int_not_equal(k.kind, IDN_KEY_UNKNOWN);
	} else if (idn_type_is(v->type, "HS_VLIST")) {
		idn_vlist_t l;
		assert_int_equal(idn_vlist_decode(v->data.p, v->data.len, &l), IDN_OK);
	}
	n_values_checked++;
}

/* Values back to back: decode each, re-encode, compare. */
static void check_values(idn_wire_t *in, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *start = in->pos;
		idn_value_t v;
		assert_int_equal(idn_value_decode(in, &v), IDN_OK);
		size_t len = (size_t)(in->pos - start);
		uint8_t *buf = malloc(len);
		idn_wire_t w;
		idn_wire_init(&w, buf, len);
		idn_value_encode(&w, &v);
		assert_int_equal(w.err, IDN_OK);
		assert_memory_equal(buf, start, len);
		free(buf);
		check_value(&v);
	}
}

static void check_message(const char *file, const uint8_t *b, size_t len)
{
	idn_msg_t m;
	int ret = idn_msg_decode(b, len, &m);
	if (ret)
		fail_msg("%s: message of %zu bytes does not decode: %s", file, len, idn_strerror(ret));
	n_messages++;
	idn_wire_t in;
	idn_wire_init_ro(&in, m.body.p, m.body.len);
	if (m.hdr.opflag & IDN_OF_RD && m.hdr.rcode != 0) {
		uint8_t alg;
		idn_bytes_t dg;
		size_t skip;
		assert_int_equal(idn_digest_decode(m.body.p, m.body.len, &alg, &dg, &skip), IDN_OK);
		idn_wire_skip(&in, skip);
	}
	if (m.hdr.rcode == 0) {
		switch (m.hdr.opcode) {
		case IDN_OC_RESOLUTION: {
			idn_resolve_req_t r;
			assert_int_equal(idn_resolve_req_decode(m.body.p, m.body.len, &r), IDN_OK);
			break;
		}
		case IDN_OC_CREATE_HANDLE:
		case IDN_OC_ADD_VALUE:
		case IDN_OC_MODIFY_VALUE:
			idn_wire_get_bstr(&in, IDN_MAX_HANDLE_LEN);
			check_values(&in, idn_wire_get_u32(&in));
			assert_int_equal(idn_wire_avail(&in), 0);
			break;
		case IDN_OC_GET_SITE_INFO:
		case IDN_OC_DELETE_HANDLE:
		case IDN_OC_LIST_HANDLES:
		case IDN_OC_HOME_NA:
		case IDN_OC_UNHOME_NA: {
			idn_bytes_t h;
			assert_int_equal(idn_handle_body_decode(m.body.p, m.body.len, &h), IDN_OK);
			break;
		}
		default:
			break;
		}
		return;
	}
	if (m.hdr.rcode == IDN_RC_SUCCESS && m.hdr.opcode == IDN_OC_RESOLUTION) {
		idn_wire_get_bstr(&in, IDN_MAX_HANDLE_LEN);
		check_values(&in, idn_wire_get_u32(&in));
		assert_int_equal(idn_wire_avail(&in), 0);
	} else if (m.hdr.rcode == IDN_RC_SUCCESS && m.hdr.opcode == IDN_OC_GET_SITE_INFO) {
		idn_value_t v = { .type = { (const uint8_t *)"HS_SITE", 7 },
				  .data = { in.pos, (uint32_t)idn_wire_avail(&in) } };
		check_value(&v);
	} else if (m.hdr.rcode != IDN_RC_SUCCESS && m.hdr.rcode != IDN_RC_AUTHENTICATION_NEEDED) {
		idn_bytes_t msg;
		assert_int_equal(idn_error_body_decode(in.pos, idn_wire_avail(&in), &msg), IDN_OK);
	}
}

static void check_file(const char *rel)
{
	tu_line_t *l;
	int n = tu_load_capture(rel, &l);
	assert_true(n > 0);
	uint8_t *msg = NULL;
	size_t total = 0, got = 0;
	for (int i = 0; i < n; i++) {
		const uint8_t *b = l[i].bytes;
		size_t len = l[i].len;
		idn_envelope_t env;
		assert_int_equal(idn_envelope_decode(b, len, &env), IDN_OK);
		if (env.message_len + IDN_ENVELOPE_LEN == len) {
			check_message(rel, b, len);
			continue;
		}
		/* A UDP datagram of a multi-packet message: chunk i at i * 492. */
		if (env.message_id == 0) {
			free(msg);
			total = env.message_len;
			msg = calloc(1, IDN_ENVELOPE_LEN + total);
			memcpy(msg, b, IDN_ENVELOPE_LEN);
			got = 0;
		}
		assert_non_null(msg);
		size_t off = (size_t)env.message_id * IDN_UDP_CHUNK;
		assert_true(off + len - IDN_ENVELOPE_LEN <= total);
		memcpy(msg + IDN_ENVELOPE_LEN + off, b + IDN_ENVELOPE_LEN, len - IDN_ENVELOPE_LEN);
		got += len - IDN_ENVELOPE_LEN;
		if (got == total) {
			msg[12] = msg[13] = msg[14] = msg[15] = 0;
			check_message(rel, msg, IDN_ENVELOPE_LEN + total);
			free(msg);
			msg = NULL;
		}
	}
	assert_null(msg);
	tu_lines_free(l, n);
}

static void check_dir(const char *rel)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", tu_shared_dir(), rel);
	DIR *d = opendir(path);
	assert_non_null(d);
	struct dirent *e;
	int files = 0;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (n < 5 || strcmp(e->d_name + n - 4, ".hex") != 0)
			continue;
		char f[1024];
		snprintf(f, sizeof(f), "%s/%s", rel, e->d_name);
		check_file(f);
		files++;
	}
	closedir(d);
	assert_true(files >= 10);
}

static void test_cnri_captures(void **s)
{
	check_dir("vectors");
	print_message("%d messages, %d values, %d site records checked\n", n_messages,
		      n_values_checked, n_sites_checked);
	assert_true(n_messages >= 80);
	assert_true(n_sites_checked >= 4);
}

static void test_idis_captures(void **s)
{
	n_messages = 0;
	check_dir("vectors/idis");
	assert_true(n_messages >= 40);
}

/* Spot checks of decoded fields against the captures' README. */
static void test_fields(void **s)
{
	tu_line_t *l;
	int n = tu_load_capture("vectors/resolve-tcp-index-filter.hex", &l);
	idn_msg_t m;
	assert_int_equal(idn_msg_decode(l[0].bytes, l[0].len, &m), IDN_OK);
	assert_int_equal(m.env.major * 100 + m.env.minor, 203);
	assert_int_equal(m.hdr.site_serial, 0xffff);
	idn_resolve_req_t r;
	assert_int_equal(idn_resolve_req_decode(m.body.p, m.body.len, &r), IDN_OK);
	assert_int_equal(r.n_index, 2);
	assert_int_equal(r.index[0], 2);
	assert_int_equal(r.index[1], 100);
	tu_lines_free(l, n);
	n = tu_load_capture("vectors/idis/01-resolve-ok.hex", &l);
	assert_int_equal(idn_msg_decode(l[0].bytes, l[0].len, &m), IDN_OK);
	assert_int_equal(m.env.major * 100 + m.env.minor, 210);
	assert_int_equal(idn_resolve_req_decode(m.body.p, m.body.len, &r), IDN_OK);
	assert_true(r.has_token);
	assert_int_equal(r.token.len, 0);
	tu_lines_free(l, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cnri_captures),
		cmocka_unit_test(test_idis_captures),
		cmocka_unit_test(test_fields),
	};
	return cmocka_run_group_tests_name("proto/captures", tests, NULL, NULL);
}
