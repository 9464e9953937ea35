/* test_record.c - values and records: the docs' vectors V3, V4, V6-V9, the capture server's site and keys, key forms, limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
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
	/* A hand-made value whose references do not parse: iteration stops. */
	idn_value_t bad = { .n_refs = 1, .refs = { (const uint8_t *)"\0\0\0\5ab", 6 } };
	pos = 0;
	assert_false(idn_value_ref_next(&bad, &pos, &h, &idx));
	assert_int_equal(pos, 0);
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

/* The HS_PUBKEY value of 0.NA/TEST index 300 (vectors/README.md). */
static const char ADMIN_KEY[] =
	"0000000b5253415f5055425f4b45590000000000030100010000010100a44f0d7f5b950fb8f74b4acd16683998dcdf3b"
	"a7357f7250ccf8b3d433ea5bb31250891ef2209edeb3b186cf8951ef786ddecca3fb57c9c45f7bb1ed9e649c1df9b141"
	"4da906a11b433cc05c2eb36e489c3adf9fe0dff568727610f59ca339c2b45143dee4ab20aab1cb687bc9ad5cb9e43e97"
	"06ba054487e03574c327d7409a1cea81c1c031df11d85af2ae23af7d37c5e91eb0022d8a7ef3dabc0f42bab6d3a775b1"
	"c93597c99fed23b6bca934e7441b4a4e558f6895cb7813d02c9f30638b78cb79f8db0c4e05650b8e39b70c8dea05ce09"
	"c5c2c214d857fa849826378a15f5baf37043a39ad7185bab045c2fcb8cc3841e7843916784cb422337605c4475000000"
	"00";

static void test_capture_keys(void **s)
{
	uint8_t b[512], enc[512];
	size_t n = hex(ADMIN_KEY, b, sizeof(b));
	assert_int_equal(n, 289);
	idn_pubkey_t k;
	assert_int_equal(idn_pubkey_decode(b, n, &k), IDN_OK);
	assert_int_equal(k.kind, IDN_KEY_RSA);
	assert_true(idn_bytes_eq_str(k.type, "RSA_PUB_KEY"));
	assert_int_equal(k.rsa_e.len, 3);
	assert_int_equal(k.rsa_n.len, 257);
	assert_int_equal(k.rsa_n.p[0], 0);    /* sign byte */
	assert_int_equal(k.rsa_n.p[1], 0xa4); /* top bit set */
	/* From the bare 256-byte modulus, CNRI's exact blob. */
	idn_wire_t w;
	idn_wire_init(&w, enc, sizeof(enc));
	idn_pubkey_encode_rsa(&w, k.rsa_e, (idn_bytes_t){ k.rsa_n.p + 1, 256 });
	assert_int_equal(idn_wire_offset(&w), n);
	assert_memory_equal(enc, b, n);
	/* Without the 4 trailing bytes, or with others: still the same key. */
	assert_int_equal(idn_pubkey_decode(b, n - 4, &k), IDN_OK);
	assert_int_equal(k.rsa_n.len, 257);
	b[n] = 0x55;
	assert_int_equal(idn_pubkey_decode(b, n + 1, &k), IDN_OK);
	/* Cut inside the modulus. */
	assert_int_equal(idn_pubkey_decode(b, n - 5, &k), IDN_EFEWDATA);
	assert_int_equal(k.kind, IDN_KEY_UNKNOWN);
}

/* The site record of the capture server (siteinfo-tcp.hex, the response body). */
static void test_capture_site(void **s)
{
	tu_line_t *l;
	int n = tu_load_capture("vectors/siteinfo-tcp.hex", &l);
	assert_int_equal(n, 2);
	const uint8_t *body = l[1].bytes + 44;
	size_t len = l[1].len - 44 - 4;
	assert_int_equal(len, 398);
	idn_site_t *site = malloc(sizeof(*site));
	assert_int_equal(idn_site_decode(body, len, site), IDN_OK);
	assert_int_equal(site->data_version, 1);
	assert_int_equal(site->proto_major * 100 + site->proto_minor, 211);
	assert_int_equal(site->serial, 1);
	assert_int_equal(site->primary_mask, IDN_SITE_PRIMARY);
	assert_int_equal(site->hash_option, 2);
	assert_int_equal(site->hash_filter.len, 0);
	assert_int_equal(site->n_attrs, 1);
	assert_true(idn_bytes_eq_str(site->attrs[0].name, "desc"));
	assert_true(idn_bytes_eq_str(site->attrs[0].value, "peer standalone site (loopback)"));
	assert_int_equal(site->n_servers, 1);
	const idn_site_server_t *sv = &site->servers[0];
	assert_int_equal(sv->server_id, 1);
	static const uint8_t lo[16] = { [12] = 127, [15] = 1 };
	assert_memory_equal(sv->address, lo, 16);
	assert_int_equal(sv->pubkey.len, 289);
	idn_pubkey_t k;
	assert_int_equal(idn_pubkey_decode(sv->pubkey.p, sv->pubkey.len, &k), IDN_OK);
	assert_int_equal(k.kind, IDN_KEY_RSA);
	assert_int_equal(k.rsa_n.len, 257);
	assert_int_equal(sv->n_ifs, 3);
	static const idn_site_if_t ifs[3] = { { IDN_IF_BOTH, IDN_PROTO_TCP, 12641 },
					      { IDN_IF_QUERY, IDN_PROTO_UDP, 12641 },
					      { IDN_IF_BOTH, IDN_PROTO_HTTP, 18000 } };
	for (int i = 0; i < 3; i++) {
		assert_int_equal(sv->ifs[i].type, ifs[i].type);
		assert_int_equal(sv->ifs[i].protocol, ifs[i].protocol);
		assert_int_equal(sv->ifs[i].port, ifs[i].port);
	}
	uint8_t enc[512];
	idn_wire_t w;
	idn_wire_init(&w, enc, sizeof(enc));
	idn_site_encode(&w, site);
	assert_int_equal(idn_wire_offset(&w), len);
	assert_memory_equal(enc, body, len);
	/* Too small an output buffer. */
	idn_wire_init(&w, enc, len - 1);
	idn_site_encode(&w, site);
	assert_int_equal(w.err, IDN_ESPACE);
	/* The same bytes are the HS_SITE value of 0.NA/TEST in the prefix answer. */
	tu_line_t *p;
	int pn = tu_load_capture("vectors/resolve-tcp-prefix.hex", &p);
	assert_int_equal(pn, 2);
	idn_wire_t in;
	idn_wire_init_ro(&in, p[1].bytes + 44, p[1].len - 48);
	assert_true(idn_bytes_eq_str(idn_wire_get_bstr(&in, 64), "0.NA/TEST"));
	assert_int_equal(idn_wire_get_u32(&in), 4);
	idn_value_t v;
	assert_int_equal(idn_value_decode(&in, &v), IDN_OK);
	assert_true(idn_type_is(v.type, "HS_SITE"));
	assert_int_equal(v.data.len, len);
	assert_memory_equal(v.data.p, body, len);
	tu_lines_free(p, pn);
	free(site);
	tu_lines_free(l, n);
}

static void test_site_limits(void **s)
{
	uint8_t b[2048];
	idn_site_t *site = calloc(1, sizeof(*site));
	idn_wire_t w;
	/* IDN_SITE_MAX_ATTRS attributes pass, one more does not. */
	for (int over = 0; over < 2; over++) {
		idn_wire_init(&w, b, sizeof(b));
		idn_wire_put_raw(&w, "\x00\x01\x02\x0b\x00\x01\x80\x02", 8);
		idn_wire_put_u32(&w, 0);
		idn_wire_put_u32(&w, IDN_SITE_MAX_ATTRS + over);
		for (int i = 0; i < IDN_SITE_MAX_ATTRS + over; i++) {
			idn_wire_put_str(&w, "a");
			idn_wire_put_str(&w, "");
		}
		idn_wire_put_u32(&w, 0);
		assert_int_equal(idn_site_decode(b, idn_wire_offset(&w), site),
				 over ? IDN_ELIMIT : IDN_OK);
	}
	/* IDN_SITE_MAX_IFS interfaces pass, one more does not. */
	for (int over = 0; over < 2; over++) {
		idn_wire_init(&w, b, sizeof(b));
		idn_wire_put_raw(&w, "\x00\x01\x02\x0b\x00\x01\x80\x02", 8);
		idn_wire_put_u32(&w, 0);
		idn_wire_put_u32(&w, 0);
		idn_wire_put_u32(&w, 1);
		idn_wire_put_u32(&w, 7);
		idn_wire_put_raw(&w, "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x02\x03\x04", 16);
		idn_wire_put_u32(&w, 0);
		idn_wire_put_u32(&w, IDN_SITE_MAX_IFS + over);
		for (int i = 0; i < IDN_SITE_MAX_IFS + over; i++) {
			idn_wire_put_u8(&w, IDN_IF_QUERY);
			idn_wire_put_u8(&w, IDN_PROTO_UDP);
			idn_wire_put_u32(&w, (uint32_t)(2641 + i));
		}
		assert_int_equal(idn_site_decode(b, idn_wire_offset(&w), site),
				 over ? IDN_ELIMIT : IDN_OK);
		if (!over)
			assert_int_equal(site->servers[0].ifs[IDN_SITE_MAX_IFS - 1].port,
					 2641 + IDN_SITE_MAX_IFS - 1);
	}
	/* A "negative" server count. */
	idn_wire_init(&w, b, sizeof(b));
	idn_wire_put_raw(&w, "\x00\x01\x02\x0b\x00\x01\x80\x02", 8);
	idn_wire_put_u32(&w, 0);
	idn_wire_put_u32(&w, 0);
	idn_wire_put_u32(&w, 0xffffffff);
	assert_int_equal(idn_site_decode(b, idn_wire_offset(&w), site), IDN_ELIMIT);
	/* Encoding refuses counts over the caps. */
	memset(site, 0, sizeof(*site));
	site->n_servers = 1;
	site->servers[0].n_ifs = IDN_SITE_MAX_IFS + 1;
	idn_wire_init(&w, b, sizeof(b));
	idn_site_encode(&w, site);
	assert_int_equal(w.err, IDN_ELIMIT);
	site->servers[0].n_ifs = 0;
	site->n_attrs = IDN_SITE_MAX_ATTRS + 1;
	idn_wire_init(&w, b, sizeof(b));
	idn_site_encode(&w, site);
	assert_int_equal(w.err, IDN_ELIMIT);
	free(site);
}

static void test_hash_rules(void **s)
{
	const uint8_t *h = (const uint8_t *)"88.100/abc";
	/* Upper-casing (a-z only) before hashing. */
	for (uint8_t opt = 0; opt < 3; opt++)
		for (uint32_t n = 2; n < 9; n++)
			assert_int_equal(idn_site_server_index(opt, n, h, 10),
					 idn_site_server_index(opt, n, (const uint8_t *)"88.100/ABC", 10));
	/* Option 0 without "/" hashes "0.NA" (CNRI getPrefixPart), as every
	 * 0.NA/... handle does. */
	for (uint32_t n = 2; n < 9; n++)
		assert_int_equal(idn_site_server_index(0, n, (const uint8_t *)"88.100", 6),
				 idn_site_server_index(0, n, (const uint8_t *)"0.NA/88.100", 11));
	assert_int_equal(idn_site_server_index(0, 3, (const uint8_t *)"88.100", 6), 2);
	/* Option 1 without "/" hashes the whole handle, like option 2. */
	for (uint32_t n = 2; n < 9; n++)
		assert_int_equal(idn_site_server_index(1, n, (const uint8_t *)"88.100", 6),
				 idn_site_server_index(2, n, (const uint8_t *)"88.100", 6));
	/* V6: "88.100" hashes to 1248849512 (mod 3 = 2). */
	assert_int_equal(idn_site_server_index(2, 3, (const uint8_t *)"88.100", 6), 2);
	assert_int_equal(idn_site_server_index(2, 1248849513u, (const uint8_t *)"88.100", 6),
			 1248849512u);
	/* Unknown options hash the whole handle. */
	assert_int_equal(idn_site_server_index(7, 1000003, h, 10),
			 idn_site_server_index(2, 1000003, h, 10));
	/* One server, no servers, empty and over-long handles. */
	assert_int_equal(idn_site_server_index(2, 0, h, 10), 0);
	assert_int_equal(idn_site_server_index(2, 1, h, 10), 0);
	assert_true(idn_site_server_index(2, 5, NULL, 0) < 5);
	uint8_t *longh = malloc(IDN_MAX_HANDLE_LEN + 1);
	memset(longh, 'a', IDN_MAX_HANDLE_LEN + 1);
	assert_true(idn_site_server_index(2, 5, longh, IDN_MAX_HANDLE_LEN) < 5);
	assert_int_equal(idn_site_server_index(2, 5, longh, IDN_MAX_HANDLE_LEN + 1), 0);
	free(longh);
}

static void test_type_edges(void **s)
{
	/* A value without a type matches nothing (CNRI). */
	assert_false(idn_type_matches(B(""), B("")));
	assert_false(idn_type_matches(B(""), B(".")));
	assert_false(idn_type_matches(B("URL"), B("")));
	/* "." matches every type starting with "." only. */
	assert_true(idn_type_matches(B(".x"), B(".")));
	assert_false(idn_type_matches(B("x"), B(".")));
	/* Only ASCII letters fold; other bytes compare exactly. */
	assert_true(idn_type_matches(B("hs_site.6"), B("HS_SITE.6")));
	assert_false(idn_type_matches(B("\xe9"), B("\xc9")));
	assert_false(idn_type_matches(B("["), B("{")));
	/* A trailing-dot type is matched by itself. */
	assert_true(idn_type_matches(B("URL."), B("URL.")));
	assert_false(idn_type_matches(B("URL"), B("URL.X")));
	assert_false(idn_type_is(B("HS_ADMI"), "HS_ADMIN"));
	assert_true(idn_type_is(B("HS_ADMIN."), "HS_ADMIN"));
}

static void test_value_limits(void **s)
{
	uint8_t *b = malloc(IDN_MAX_VALUE_DATA + 64);
	idn_wire_t w, in;
	idn_value_t v;
	/* Data at the limit passes, one byte over does not. */
	for (int over = 0; over < 2; over++) {
		idn_wire_init(&w, b, IDN_MAX_VALUE_DATA + 64);
		idn_wire_put_raw(&w, "\0\0\0\1\0\0\0\0\0\0\0\0\0\x0e", 14);
		idn_wire_put_str(&w, "T");
		idn_wire_put_u32(&w, IDN_MAX_VALUE_DATA + over);
		memset(w.pos, 'd', IDN_MAX_VALUE_DATA + over);
		w.pos += IDN_MAX_VALUE_DATA + over;
		idn_wire_put_u32(&w, 0);
		idn_wire_init_ro(&in, b, idn_wire_offset(&w));
		assert_int_equal(idn_value_decode(&in, &v), over ? IDN_ELIMIT : IDN_OK);
	}
	/* References: two iterate; a handle over the limit or a short entry fail. */
	idn_wire_init(&w, b, 4096);
	idn_wire_put_raw(&w, "\0\0\0\1\0\0\0\0\0\0\0\0\0\x0e", 14);
	idn_wire_put_str(&w, "T");
	idn_wire_put_str(&w, "");
	idn_wire_put_u32(&w, 2);
	idn_wire_put_str(&w, "a/1");
	idn_wire_put_u32(&w, 1);
	idn_wire_put_str(&w, "b/2");
	idn_wire_put_u32(&w, 2);
	size_t n = idn_wire_offset(&w);
	idn_wire_init_ro(&in, b, n);
	assert_int_equal(idn_value_decode(&in, &v), IDN_OK);
	assert_int_equal(v.n_refs, 2);
	assert_int_equal(idn_value_size(&v), n);
	size_t pos = 0;
	idn_bytes_t h;
	uint32_t idx;
	assert_true(idn_value_ref_next(&v, &pos, &h, &idx));
	assert_true(idn_bytes_eq_str(h, "a/1") && idx == 1);
	assert_true(idn_value_ref_next(&v, &pos, &h, &idx));
	assert_true(idn_bytes_eq_str(h, "b/2") && idx == 2);
	assert_false(idn_value_ref_next(&v, &pos, &h, &idx));
	idn_wire_init_ro(&in, b, n - 1);
	assert_int_equal(idn_value_decode(&in, &v), IDN_EFEWDATA);
	idn_put_be32(b + 14 + 5 + 4 + 4, IDN_MAX_HANDLE_LEN + 1);
	idn_wire_init_ro(&in, b, n);
	assert_int_equal(idn_value_decode(&in, &v), IDN_ELIMIT);
	/* A "negative" reference count. */
	idn_put_be32(b + 14 + 5 + 4, 0xffffffff);
	idn_wire_init_ro(&in, b, n);
	assert_int_equal(idn_value_decode(&in, &v), IDN_ELIMIT);
	/* The error latches in the caller's cursor. */
	assert_int_equal(in.err, IDN_ELIMIT);
	/* Encoding into too small a buffer. */
	idn_value_t small = { .type = B("URL"), .data = B("x") };
	idn_wire_init(&w, b, idn_value_size(&small) - 1);
	idn_value_encode(&w, &small);
	assert_int_equal(w.err, IDN_ESPACE);
	free(b);
}

static void test_admin_vlist_edges(void **s)
{
	uint8_t b[64];
	size_t n = hex("0fff0000000b302e4e412f38382e3130300000012c", b, sizeof(b));
	idn_admin_t a;
	/* Legacy form: exactly 2 zero bytes; 3 trailing bytes are not legacy. */
	memset(b + n, 0, 3);
	assert_int_equal(idn_admin_decode(b, n + 3, &a), IDN_EMALF);
	b[n] = 1;
	assert_int_equal(idn_admin_decode(b, n + 2, &a), IDN_EMALF);
	for (size_t k = 0; k < n; k++)
		assert_int_not_equal(idn_admin_decode(b, k, &a), IDN_OK);
	idn_put_be32(b + 2, IDN_MAX_HANDLE_LEN + 1);
	assert_int_equal(idn_admin_decode(b, n, &a), IDN_ELIMIT);
	/* VLIST: empty list, trailing bytes, a "negative" count, a long handle. */
	idn_vlist_t v;
	const uint8_t empty[] = { 0, 0, 0, 0, 0 };
	assert_int_equal(idn_vlist_decode(empty, 4, &v), IDN_OK);
	assert_int_equal(v.count, 0);
	size_t pos = 0;
	idn_bytes_t h;
	uint32_t idx;
	assert_false(idn_vlist_next(&v, &pos, &h, &idx));
	assert_int_equal(idn_vlist_decode(empty, 5, &v), IDN_EMALF);
	assert_int_equal(idn_vlist_decode(empty, 3, &v), IDN_EFEWDATA);
	const uint8_t neg[] = { 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	assert_int_equal(idn_vlist_decode(neg, sizeof(neg), &v), IDN_ELIMIT);
	const uint8_t longh[] = { 0, 0, 0, 1, 0, 0, 0x08, 0x01, 0, 0, 0, 0 };
	assert_int_equal(idn_vlist_decode(longh, sizeof(longh), &v), IDN_ELIMIT);
	/* Encoding nothing. */
	idn_wire_t w;
	idn_wire_init(&w, b, sizeof(b));
	idn_vlist_encode(&w, 0, NULL, NULL);
	assert_int_equal(idn_wire_offset(&w), 4);
	assert_int_equal(idn_get_be32(b), 0);
}

static void test_more_key_forms(void **s)
{
	uint8_t b[256];
	idn_wire_t w;
	idn_pubkey_t k;
	/* DH_PUB_KEY: y, p, g. */
	idn_wire_init(&w, b, sizeof(b));
	idn_wire_put_str(&w, "DH_PUB_KEY");
	idn_wire_put_u16(&w, 0);
	idn_wire_put_str(&w, "\x05");
	idn_wire_put_str(&w, "\x17");
	idn_wire_put_str(&w, "\x02");
	assert_int_equal(idn_pubkey_decode(b, idn_wire_offset(&w), &k), IDN_OK);
	assert_int_equal(k.kind, IDN_KEY_DH);
	assert_int_equal(k.dsa_y.p[0], 5);
	assert_int_equal(k.dsa_p.p[0], 0x17);
	assert_int_equal(k.dsa_g.p[0], 2);
	/* SM9_PUB_KEY: same shape as SM2. */
	idn_wire_init(&w, b, sizeof(b));
	idn_wire_put_str(&w, "SM9_PUB_KEY");
	idn_wire_put_u16(&w, 0);
	idn_wire_put_str(&w, "id");
	assert_int_equal(idn_pubkey_decode(b, idn_wire_offset(&w), &k), IDN_OK);
	assert_int_equal(k.kind, IDN_KEY_SM9);
	assert_true(idn_bytes_eq_str(k.pem, "id"));
	/* SM2 with a DER payload (what an SDK test writes) decodes the same way. */
	const uint8_t der[] = { 0x30, 0x59, 0x30, 0x13 };
	idn_wire_init(&w, b, sizeof(b));
	idn_wire_put_str(&w, "SM2_PUB_KEY");
	idn_wire_put_u16(&w, 0);
	idn_wire_put_bstr(&w, der, sizeof(der));
	assert_int_equal(idn_pubkey_decode(b, idn_wire_offset(&w), &k), IDN_OK);
	assert_int_equal(k.kind, IDN_KEY_SM2);
	assert_int_equal(k.pem.len, 4);
	/* Key type names are exact (case-sensitive, as CNRI compares them). */
	idn_wire_init(&w, b, sizeof(b));
	idn_wire_put_str(&w, "rsa_pub_key");
	idn_wire_put_u16(&w, 0);
	assert_int_equal(idn_pubkey_decode(b, idn_wire_offset(&w), &k), IDN_EMALF);
	/* A type name longer than any key type; an empty blob; no flags. */
	idn_put_be32(b, 65);
	assert_int_equal(idn_pubkey_decode(b, 80, &k), IDN_ELIMIT);
	assert_int_equal(idn_pubkey_decode(b, 0, &k), IDN_EFEWDATA);
	assert_int_equal(idn_pubkey_decode(NULL, 0, &k), IDN_EFEWDATA);
	idn_wire_init(&w, b, sizeof(b));
	idn_wire_put_str(&w, "RSA_PUB_KEY");
	assert_int_equal(idn_pubkey_decode(b, idn_wire_offset(&w), &k), IDN_EFEWDATA);
	/* Big integers: leading zeros dropped, sign byte only when needed, zero
	 * as one 00 byte (Java BigInteger.toByteArray). */
	const uint8_t e[] = { 0, 0, 1, 0, 1 }, zero[] = { 0, 0 };
	idn_wire_init(&w, b, sizeof(b));
	idn_pubkey_encode_rsa(&w, (idn_bytes_t){ e, 5 }, (idn_bytes_t){ zero, 2 });
	assert_int_equal(w.err, IDN_OK);
	assert_int_equal(idn_pubkey_decode(b, idn_wire_offset(&w), &k), IDN_OK);
	assert_true(k.rsa_e.len == 3 && k.rsa_e.p[0] == 1);
	assert_true(k.rsa_n.len == 1 && k.rsa_n.p[0] == 0);
	idn_wire_init(&w, b, sizeof(b));
	idn_pubkey_encode_rsa(&w, (idn_bytes_t){ NULL, 0 }, (idn_bytes_t){ e + 2, 1 });
	assert_int_equal(idn_pubkey_decode(b, idn_wire_offset(&w), &k), IDN_OK);
	assert_true(k.rsa_e.len == 1 && k.rsa_e.p[0] == 0);
	assert_true(k.rsa_n.len == 1 && k.rsa_n.p[0] == 1);
	/* Too small an output buffer latches IDN_ESPACE. */
	idn_wire_init(&w, b, 20);
	idn_pubkey_encode_rsa(&w, (idn_bytes_t){ e, 5 }, (idn_bytes_t){ e, 5 });
	assert_int_equal(w.err, IDN_ESPACE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v3_value),
		cmocka_unit_test(test_value_refs_and_limits),
		cmocka_unit_test(test_value_limits),
		cmocka_unit_test(test_type_matching),
		cmocka_unit_test(test_type_edges),
		cmocka_unit_test(test_v4_admin),
		cmocka_unit_test(test_admin_vlist_edges),
		cmocka_unit_test(test_v6_hash),
		cmocka_unit_test(test_hash_rules),
		cmocka_unit_test(test_v7_pubkey),
		cmocka_unit_test(test_key_forms),
		cmocka_unit_test(test_more_key_forms),
		cmocka_unit_test(test_capture_keys),
		cmocka_unit_test(test_v8_site),
		cmocka_unit_test(test_capture_site),
		cmocka_unit_test(test_site_limits),
		cmocka_unit_test(test_v9_vlist),
	};
	return cmocka_run_group_tests_name("proto/record", tests, NULL, NULL);
}
