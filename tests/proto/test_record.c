/* test_record.c - value and record encodings against the digest's vectors V3, V4, V6-V9, and key forms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proto/record.h"
#include "tests/util/testutil.h"

static size_t hex(const char *h, uint8_t *out, size_t cap)
{
	long n = tu_hex(h, out, cap);
	assert_true(n >= 0);
	return (size_t)n;
}

#define B(s) ((idn_bytes_t){ (const uint8_t *)(s), (uint32_t)strlen(s) })

static void test_v3_value(void **s)
{
	uint8_t b[64], enc[64];
	size_t n = hex("000000016553f10000000151800e0000000355524c00000012687474703a2f2f6578616d"
		       "706c652e636f6d00000000", b, sizeof(b));
	idn_wire_t w;
	idn_wire_init_ro(&w, b, n);
	idn_value_t v;
	assert_int_equal(idn_value_decode(&w, &v), IDN_OK);
	assert_int_equal(idn_wire_avail(&w), 0);
	assert_int_equal(v.index, 1);
	assert_int_equal(v.timestamp, 1700000000);
	assert_int_equal(v.ttl_type, 0);
	assert_int_equal(v.ttl, 86400);
	assert_int_equal(v.perms, 0x0e);
	assert_true(idn_bytes_eq_str(v.type, "URL"));
	assert_true(idn_bytes_eq_str(v.data, "http://example.com"));
	assert_int_equal(v.n_refs, 0);
	assert_int_equal(idn_value_size(&v), n);
	idn_wire_t o;
	idn_wire_init(&o, enc, sizeof(enc));
	idn_value_encode(&o, &v);
	assert_int_equal(idn_wire_offset(&o), n);
	assert_memory_equal(enc, b, n);
	/* Truncated anywhere: an error, never a read past the end. */
	for (size_t k = 0; k < n; k++) {
		idn_wire_init_ro(&w, b, k);
		assert_int_not_equal(idn_value_decode(&w, &v), IDN_OK);
	}
}

static void test_value_refs_and_limits(void **s)
{
	uint8_t b[256];
	idn_wire_t w;
	idn_wire_init(&w, b, sizeof(b));
	uint8_t refs[64];
	idn_wire_t r;
	idn_wire_init(&r, refs, sizeof(refs));
	idn_wire_put_str(&r, "88.100/x");
	idn_wire_put_u32(&r, 7);
	idn_value_t v = { .index = 5, .type = B("T"), .data = B("d"), .n_refs = 1,
			  .refs = { refs, (uint32_t)idn_wire_offset(&r) } };
	idn_value_encode(&w, &v);
	idn_wire_t in;
	idn_wire_init_ro(&in, b, idn_wire_offset(&w));
	idn_value_t d;
	assert_int_equal(idn_value_decode(&in, &d), IDN_OK);
	size_t pos = 0;
	idn_bytes_t h;
	uint32_t idx;
	assert_true(idn_value_ref_next(&d, &pos, &h, &idx));
	assert_true(idn_bytes_eq_str(h, "88.100/x"));
	assert_int_equal(idx, 7);
	assert_false(idn_value_ref_next(&d, &pos, &h, &idx));
	/* A type longer than the limit, and too many references. */
	idn_put_be32(b + 14, IDN_MAX_TYPE_LEN + 1);
	idn_wire_init_ro(&in, b, idn_wire_offset(&w));
	assert_int_equal(idn_value_decode(&in, &d), IDN_ELIMIT);
	idn_put_be32(b + 14, 1);
	idn_put_be32(b + 14 + 4 + 1 + 4 + 1, IDN_MAX_REFS + 1);
	idn_wire_init_ro(&in, b, idn_wire_offset(&w));
	assert_int_equal(idn_value_decode(&in, &d), IDN_ELIMIT);
}

static void test_type_matching(void **s)
{
	assert_true(idn_type_matches(B("URL"), B("url")));
	assert_false(idn_type_matches(B("URL.X"), B("URL")));
	assert_true(idn_type_matches(B("URL.X"), B("URL.")));
	assert_true(idn_type_matches(B("URL"), B("URL.")));
	assert_false(idn_type_matches(B("URLS"), B("URL.")));
	assert_true(idn_type_is(B("HS_ADMIN"), "HS_ADMIN"));
	assert_true(idn_type_is(B("hs_admin.foo"), "HS_ADMIN"));
	assert_false(idn_type_is(B("HS_ADMINX"), "HS_ADMIN"));
}

static void test_v4_admin(void **s)
{
	uint8_t b[64], enc[64];
	size_t n = hex("0fff0000000b302e4e412f38382e3130300000012c", b, sizeof(b));
	idn_admin_t a;
	assert_int_equal(idn_admin_decode(b, n, &a), IDN_OK);
	assert_int_equal(a.perms, 0x0fff);
	assert_true(idn_bytes_eq_str(a.admin_id, "0.NA/88.100"));
	assert_int_equal(a.admin_index, 300);
	idn_wire_t w;
	idn_wire_init(&w, enc, sizeof(enc));
	idn_admin_encode(&w, &a);
	assert_int_equal(idn_wire_offset(&w), n);
	assert_memory_equal(enc, b, n);
	/* Legacy records carry two more zero bytes; anything else trailing is bad. */
	b[n] = b[n + 1] = 0;
	assert_int_equal(idn_admin_decode(b, n + 2, &a), IDN_OK);
	b[n + 1] = 1;
	assert_int_equal(idn_admin_decode(b, n + 2, &a), IDN_EMALF);
	assert_int_equal(idn_admin_decode(b, n + 1, &a), IDN_EMALF);
	/* As a complete value. */
	n = hex("000000646553f10000000151800e0000000848535f41444d494e000000150fff0000000b30"
		"2e4e412f38382e3130300000012c00000000", b, sizeof(b));
	idn_wire_t in;
	idn_wire_init_ro(&in, b, n);
	idn_value_t v;
	assert_int_equal(idn_value_decode(&in, &v), IDN_OK);
	assert_true(idn_type_is(v.type, "HS_ADMIN"));
	assert_int_equal(idn_admin_decode(v.data.p, v.data.len, &a), IDN_OK);
}

static void test_v6_hash(void **s)
{
	static const struct {
		const char *h;
		uint8_t opt;
		uint32_t mod2, mod3;
	} t[] = {
		{ "88.100/abc", 0, 0, 2 }, { "88.100/abc", 1, 0, 1 }, { "88.100/abc", 2, 0, 1 },
		{ "0.NA/88.100", 0, 1, 2 }, { "0.NA/88.100", 1, 0, 2 }, { "0.NA/88.100", 2, 1, 1 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const uint8_t *h = (const uint8_t *)t[i].h;
		assert_int_equal(idn_site_server_index(t[i].opt, 2, h, strlen(t[i].h)), t[i].mod2);
		assert_int_equal(idn_site_server_index(t[i].opt, 3, h, strlen(t[i].h)), t[i].mod3);
	}
	assert_int_equal(idn_site_server_index(2, 1, (const uint8_t *)"x", 1), 0);
}

static void test_v7_pubkey(void **s)
{
	uint8_t b[64], enc[64];
	size_t n = hex("0000000b5253415f5055425f4b455900000000000301000100000009"
		       "00c3a55a3c1234567900000000", b, sizeof(b));
	idn_pubkey_t k;
	assert_int_equal(idn_pubkey_decode(b, n, &k), IDN_OK);
	assert_int_equal(k.kind, IDN_KEY_RSA);
	assert_int_equal(k.rsa_e.len, 3);
	assert_int_equal(k.rsa_n.len, 9);
	/* Encoding from unsigned magnitudes adds the sign byte and the 4 zeros. */
	const uint8_t e[] = { 1, 0, 1 }, m[] = { 0xc3, 0xa5, 0x5a, 0x3c, 0x12, 0x34, 0x56, 0x79 };
	idn_wire_t w;
	idn_wire_init(&w, enc, sizeof(enc));
	idn_pubkey_encode_rsa(&w, (idn_bytes_t){ e, 3 }, (idn_bytes_t){ m, 8 });
	assert_int_equal(idn_wire_offset(&w), n);
	assert_memory_equal(enc, b, n);
}

static void test_key_forms(void **s)
{
	const char *pem = "-----BEGIN PUBLIC KEY-----\r\nMFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0DQgAE\r\n"
			  "-----END PUBLIC KEY-----\r\n";
	idn_pubkey_t k;
	assert_int_equal(idn_pubkey_decode((const uint8_t *)pem, strlen(pem), &k), IDN_OK);
	assert_int_equal(k.kind, IDN_KEY_PEM);
	uint8_t b[256];
	idn_wire_t w;
	idn_wire_init(&w, b, sizeof(b));
	idn_wire_put_str(&w, "SM2_PUB_KEY");
	idn_wire_put_u16(&w, 0);
	idn_wire_put_str(&w, pem);
	assert_int_equal(idn_pubkey_decode(b, idn_wire_offset(&w), &k), IDN_OK);
	assert_int_equal(k.kind, IDN_KEY_SM2);
	assert_int_equal(k.pem.len, strlen(pem));
	idn_wire_init(&w, b, sizeof(b));
	idn_wire_put_str(&w, "DSA_PUB_KEY");
	idn_wire_put_u16(&w, 0);
	for (int i = 0; i < 4; i++)
		idn_wire_put_str(&w, "\x01\x02");
	assert_int_equal(idn_pubkey_decode(b, idn_wire_offset(&w), &k), IDN_OK);
	assert_int_equal(k.kind, IDN_KEY_DSA);
	assert_int_equal(idn_pubkey_decode(b, idn_wire_offset(&w) - 1, &k), IDN_EFEWDATA);
	idn_wire_init(&w, b, sizeof(b));
	idn_wire_put_str(&w, "ROT13_KEY");
	idn_wire_put_u16(&w, 0);
	assert_int_equal(idn_pubkey_decode(b, idn_wire_offset(&w), &k), IDN_EMALF);
}

static const char V8[] = "000102" "0b" "0001" "80" "02" "00000000" "00000001" "00000004"
			 "64657363" "00000004" "74657374" "00000001" "00000001"
			 "000000000000000000000000c0000201" "00000000" "00000003"
			 "03" "01" "00000a51" "02" "00" "00000a51" "03" "02" "00001f40";

static void test_v8_site(void **s)
{
	uint8_t b[128], enc[128];
	size_t n = hex(V8, b, sizeof(b));
	assert_int_equal(n, 82);
	idn_site_t site;
	assert_int_equal(idn_site_decode(b, n, &site), IDN_OK);
	assert_int_equal(site.data_version, 1);
	assert_int_equal(site.proto_major * 100 + site.proto_minor, 211);
	assert_int_equal(site.serial, 1);
	assert_int_equal(site.primary_mask, 0x80);
	assert_int_equal(site.hash_option, 2);
	assert_int_equal(site.n_attrs, 1);
	assert_true(idn_bytes_eq_str(site.attrs[0].value, "test"));
	assert_int_equal(site.n_servers, 1);
	assert_int_equal(site.servers[0].address[12], 192);
	assert_int_equal(site.servers[0].n_ifs, 3);
	assert_int_equal(site.servers[0].ifs[2].protocol, IDN_PROTO_HTTP);
	assert_int_equal(site.servers[0].ifs[2].port, 8000);
	idn_wire_t w;
	idn_wire_init(&w, enc, sizeof(enc));
	idn_site_encode(&w, &site);
	assert_int_equal(idn_wire_offset(&w), n);
	assert_memory_equal(enc, b, n);
	b[n] = 0;
	assert_int_equal(idn_site_decode(b, n + 1, &site), IDN_EMALF);
	for (size_t k = 0; k < n; k++)
		assert_int_not_equal(idn_site_decode(b, k, &site), IDN_OK);
	/* More servers than the cap. */
	idn_put_be32(b + 32, IDN_SITE_MAX_SERVERS + 1);
	assert_int_equal(idn_site_decode(b, n, &site), IDN_ELIMIT);
}

static void test_v9_vlist(void **s)
{
	uint8_t b[64], enc[64];
	size_t n = hex("000000020000000b302e4e412f38382e3130300000012c0000000c38382e3130302f61"
		       "646d696e0000012d", b, sizeof(b));
	idn_vlist_t v;
	assert_int_equal(idn_vlist_decode(b, n, &v), IDN_OK);
	assert_int_equal(v.count, 2);
	size_t pos = 0;
	idn_bytes_t h[2];
	uint32_t idx[2];
	assert_true(idn_vlist_next(&v, &pos, &h[0], &idx[0]));
	assert_true(idn_vlist_next(&v, &pos, &h[1], &idx[1]));
	assert_false(idn_vlist_next(&v, &pos, &h[0], &idx[0]));
	assert_true(idn_bytes_eq_str(h[1], "88.100/admin"));
	assert_int_equal(idx[1], 301);
	idn_wire_t w;
	idn_wire_init(&w, enc, sizeof(enc));
	idn_vlist_encode(&w, 2, h, idx);
	assert_int_equal(idn_wire_offset(&w), n);
	assert_memory_equal(enc, b, n);
	/* A count that claims more entries than there are bytes. */
	idn_put_be32(b, 1000000);
	assert_int_not_equal(idn_vlist_decode(b, n, &v), IDN_OK);
	idn_put_be32(b, 2);
	assert_int_equal(idn_vlist_decode(b, n - 1, &v), IDN_EFEWDATA);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v3_value),   cmocka_unit_test(test_value_refs_and_limits),
		cmocka_unit_test(test_type_matching), cmocka_unit_test(test_v4_admin),
		cmocka_unit_test(test_v6_hash),    cmocka_unit_test(test_v7_pubkey),
		cmocka_unit_test(test_key_forms),  cmocka_unit_test(test_v8_site),
		cmocka_unit_test(test_v9_vlist),
	};
	return cmocka_run_group_tests_name("proto/record", tests, NULL, NULL);
}
