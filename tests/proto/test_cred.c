/* test_cred.c - credential section: CNRI's HS_SIGNED capture decoded, verified and re-made byte for byte; sign/verify round trips by version; malformed credentials; signed responses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/auth.h"
#include "proto/cred.h"
#include "proto/msg.h"
#include "proto/pkey.h"
#include "proto/record.h"
#include "proto/respond.h"
#include "tests/util/testutil.h"

#define SERVER_KEY_HEADING "### Server (site) key of server id 1"

static struct {
	tu_line_t *cap;           /* resolve-tcp-certified.hex: request, signed answer */
	int ncap;
	char *server_pem_pub;     /* the server's public key, PEM text */
	uint8_t server_blob[512]; /* and as HS_PUBKEY blob */
	size_t server_blob_len;
	idn_pkey_t *server;       /* the server's private key */
	idn_pkey_t *gen;          /* a generated RSA key */
	uint8_t gen_pub[512];
	size_t gen_pub_len;
} g;

/* The n-th fenced block (```) after `heading` in vectors/README.md, malloc'd. */
static char *readme_block(const char *heading, int nth)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/vectors/README.md", tu_shared_dir());
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	static char text[1 << 17];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = 0;
	char *p = strstr(text, heading), *end = NULL;
	for (int i = 0; p && i <= nth; i++) {
		/* Opening fence (rest of its line is the language), then the closing one. */
		p = strstr(p, "```");
		p = p ? strchr(p, '\n') : NULL;
		end = p ? strstr(p + 1, "```") : NULL;
		if (!end)
			return NULL;
		if (i < nth)
			p = end + 3;
	}
	if (!p)
		return NULL;
	p++;
	size_t len = (size_t)(end - p);
	char *out = malloc(len + 1);
	memcpy(out, p, len);
	out[len] = 0;
	return out;
}

static int setup(void **s)
{
	g.ncap = tu_load_capture("vectors/resolve-tcp-certified.hex", &g.cap);
	if (g.ncap != 2)
		return -1;
	char *priv = readme_block(SERVER_KEY_HEADING, 0);
	g.server_pem_pub = readme_block(SERVER_KEY_HEADING, 1);
	char *blob = readme_block(SERVER_KEY_HEADING, 2);
	if (!priv || !g.server_pem_pub || !blob || !strstr(priv, "PRIVATE KEY") ||
	    !strstr(g.server_pem_pub, "PUBLIC KEY"))
		return -1;
	long bl = tu_hex(blob, g.server_blob, sizeof(g.server_blob));
	free(blob);
	if (bl != 289)
		return -1;
	g.server_blob_len = (size_t)bl;

	/* idn_pkey loads private keys from files only. */
	char dir[64], file[128];
	if (tu_tmpdir("cred", dir, sizeof(dir)) != 0)
		return -1;
	snprintf(file, sizeof(file), "%s/server.pem", dir);
	FILE *f = fopen(file, "w");
	fputs(priv, f);
	fclose(f);
	free(priv);
	int ret = idn_pkey_load_pem(file, &g.server);
	tu_rmrf(dir);
	if (ret)
		return -1;

	if (idn_pkey_generate_rsa(2048, &g.gen))
		return -1;
	idn_wire_t w;
	idn_wire_init(&w, g.gen_pub, sizeof(g.gen_pub));
	if (idn_pkey_hs_pubkey(g.gen, &w))
		return -1;
	g.gen_pub_len = idn_wire_offset(&w);
	return 0;
}

static int teardown(void **s)
{
	tu_lines_free(g.cap, g.ncap);
	free(g.server_pem_pub);
	idn_pkey_free(g.server);
	idn_pkey_free(g.gen);
	return 0;
}

static const uint8_t *U(const char *s)
{
	return (const uint8_t *)s;
}

/* ---- CNRI's certified answer ---- */

static void test_capture_decodes(void **s)
{
	const tu_line_t *r = &g.cap[1];
	idn_msg_t m;
	assert_int_equal(idn_msg_decode(r->bytes, r->len, &m), IDN_OK);
	assert_true(m.hdr.opflag & IDN_OF_CT);
	assert_int_equal(m.cred.len, 300);
	idn_cred_t c;
	assert_int_equal(idn_cred_decode(m.cred.p, m.cred.len, &c), IDN_OK);
	assert_int_equal(c.version, 0);
	assert_int_equal(c.options, 0);
	assert_int_equal(c.signer.len, 0);
	assert_int_equal(c.signer_index, 0);
	assert_true(idn_bytes_eq_str(c.type, "HS_SIGNED"));
	assert_true(idn_bytes_eq_str(c.digest_alg, "SHA-256"));
	assert_int_equal(c.signature.len, 256);

	/* It re-encodes to the same bytes. */
	uint8_t out[512];
	idn_wire_t w;
	idn_wire_init(&w, out, sizeof(out));
	idn_cred_encode(&w, &c);
	assert_int_equal(w.err, IDN_OK);
	assert_int_equal(idn_wire_offset(&w), m.cred.len);
	assert_memory_equal(out, m.cred.p, m.cred.len);

	/* The signed data of a 2.11 message: 02 0b 02 0b, session, request, counter, HB. */
	uint8_t pre[IDN_CRED_PRE_MAX];
	idn_piece_t d[2];
	assert_int_equal(idn_cred_signed_data(&m.env, 0, m.hb.p, m.hb.len, pre, d), 2);
	uint8_t want[16];
	tu_hex("020b020b" "00000000" "07f242aa" "00000000", want, sizeof(want));
	assert_int_equal(d[0].len, 16);
	assert_memory_equal(d[0].p, want, 16);
	assert_int_equal(d[1].len, 24 + 80);
}

static void test_capture_verifies(void **s)
{
	const tu_line_t *r = &g.cap[1];
	/* With the public key as PEM (README) and as the HS_SITE blob. */
	assert_int_equal(idn_cred_verify(r->bytes, r->len, U(g.server_pem_pub),
					 strlen(g.server_pem_pub)), IDN_OK);
	assert_int_equal(idn_cred_verify(r->bytes, r->len, g.server_blob, g.server_blob_len), IDN_OK);
	/* Another key does not verify it. */
	assert_int_equal(idn_cred_verify(r->bytes, r->len, g.gen_pub, g.gen_pub_len), IDN_EACCES);

	/* Any change to what is signed breaks it: a body byte, the request id,
	 * the suggested version (2.8+), the expiration time. */
	uint8_t *b = malloc(r->len);
	static const size_t offs[] = { 50, 11, 3, 39 };
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		memcpy(b, r->bytes, r->len);
		b[offs[i]] ^= 1;
		assert_int_equal(idn_cred_verify(b, r->len, g.server_blob, g.server_blob_len),
				 IDN_EACCES);
	}
	/* The request (unsigned): nothing to verify. */
	assert_int_equal(idn_cred_verify(g.cap[0].bytes, g.cap[0].len, g.server_blob,
					 g.server_blob_len), IDN_ENOENT);
	free(b);
}

/* Signing CNRI's answer again with the server key gives CNRI's bytes (RSA
 * PKCS#1 v1.5 is deterministic). */
static void test_capture_resigned(void **s)
{
	const tu_line_t *r = &g.cap[1];
	idn_msg_t m;
	assert_int_equal(idn_msg_decode(r->bytes, r->len, &m), IDN_OK);
	uint8_t out[1024];
	idn_wire_t w;
	idn_wire_init(&w, out, sizeof(out));
	/* Envelope + header + body as they were, lengths zeroed for the patcher. */
	idn_wire_put_raw(&w, r->bytes, IDN_ENVELOPE_LEN + m.hb.len);
	memset(out + 16, 0, 4);
	memset(out + 40, 0, 4);
	assert_int_equal(idn_msg_end_signed(&w, 0, g.server), IDN_OK);
	assert_int_equal(idn_wire_offset(&w), r->len);
	assert_memory_equal(out, r->bytes, r->len);

	/* Too small a buffer: IDN_ESPACE, so the caller can grow it. */
	idn_wire_init(&w, out, r->len - 1);
	idn_wire_put_raw(&w, r->bytes, IDN_ENVELOPE_LEN + m.hb.len);
	assert_int_equal(idn_msg_end_signed(&w, 0, g.server), IDN_ESPACE);
	/* No key, or no message at the start offset: IDN_EINVAL. */
	idn_wire_init(&w, out, sizeof(out));
	idn_wire_put_raw(&w, r->bytes, IDN_ENVELOPE_LEN + m.hb.len);
	assert_int_equal(idn_msg_end_signed(&w, 0, NULL), IDN_EINVAL);
	idn_wire_init(&w, out, sizeof(out));
	idn_wire_put_raw(&w, r->bytes, 10);
	assert_int_equal(idn_msg_end_signed(&w, 0, g.server), IDN_EINVAL);
	/* A public-only key cannot sign. */
	idn_pkey_t *pub = NULL;
	assert_int_equal(idn_pkey_from_hs_pubkey(g.server_blob, g.server_blob_len, &pub), IDN_OK);
	idn_wire_init(&w, out, sizeof(out));
	idn_wire_put_raw(&w, r->bytes, IDN_ENVELOPE_LEN + m.hb.len);
	assert_int_not_equal(idn_msg_end_signed(&w, 0, pub), IDN_OK);
	idn_pkey_free(pub);
}

/* ---- round trips by version ---- */

/* A signed resolution answer of version maj.min, at offset `at` of buf. */
static size_t signed_msg(uint8_t *buf, size_t cap, size_t at, uint8_t maj, uint8_t min,
			 const idn_pkey_t *k)
{
	idn_envelope_t env = { .major = maj, .minor = min, .sugg_major = 2, .sugg_minor = 11,
			       .session_id = 5, .request_id = 0x1234 };
	idn_header_t hdr = { .opcode = IDN_OC_RESOLUTION, .rcode = IDN_RC_SUCCESS,
			     .opflag = IDN_OF_CT | IDN_OF_REC, .site_serial = 1,
			     .expiration = 1800000000 };
	idn_wire_t w;
	idn_wire_init(&w, buf, cap);
	idn_wire_put_raw(&w, "junk before", at);
	size_t start = idn_msg_begin(&w, &env, &hdr);
	idn_wire_put_str(&w, "88.100/abc");
	idn_wire_put_u32(&w, 0);
	assert_int_equal(idn_msg_end_signed(&w, start, k), IDN_OK);
	return idn_wire_offset(&w) - at;
}

static void check_version(uint8_t maj, uint8_t min, const char *alg, bool sugg_signed,
			  bool ids_signed)
{
	uint8_t buf[1024];
	size_t n = signed_msg(buf, sizeof(buf), 7, maj, min, g.gen);
	uint8_t *m = buf + 7;
	assert_int_equal(idn_cred_verify(m, n, g.gen_pub, g.gen_pub_len), IDN_OK);
	assert_int_equal(idn_cred_verify(m, n, g.server_blob, g.server_blob_len), IDN_EACCES);
	idn_msg_t d;
	assert_int_equal(idn_msg_decode(m, n, &d), IDN_OK);
	idn_cred_t c;
	assert_int_equal(idn_cred_decode(d.cred.p, d.cred.len, &c), IDN_OK);
	assert_true(idn_bytes_eq_str(c.type, "HS_SIGNED"));
	assert_true(idn_bytes_eq_str(c.digest_alg, alg));
	assert_int_equal(c.signature.len, 256);

	/* Which envelope fields the signature covers. */
	m[3] ^= 1; /* suggested minor */
	assert_int_equal(idn_cred_verify(m, n, g.gen_pub, g.gen_pub_len),
			 sugg_signed ? IDN_EACCES : IDN_OK);
	m[3] ^= 1;
	m[11] ^= 1; /* request id */
	assert_int_equal(idn_cred_verify(m, n, g.gen_pub, g.gen_pub_len),
			 ids_signed ? IDN_EACCES : IDN_OK);
	m[11] ^= 1;
	m[7] ^= 1; /* session id */
	assert_int_equal(idn_cred_verify(m, n, g.gen_pub, g.gen_pub_len),
			 ids_signed ? IDN_EACCES : IDN_OK);
	m[7] ^= 1;
	m[13] ^= 1; /* message id: never signed */
	assert_int_equal(idn_cred_verify(m, n, g.gen_pub, g.gen_pub_len), IDN_OK);
	m[13] ^= 1;
	m[IDN_MSG_BODY_OFF + 5] ^= 1; /* the body: always */
	assert_int_equal(idn_cred_verify(m, n, g.gen_pub, g.gen_pub_len), IDN_EACCES);
	m[IDN_MSG_BODY_OFF + 5] ^= 1;
	assert_int_equal(idn_cred_verify(m, n, g.gen_pub, g.gen_pub_len), IDN_OK);
}

static void test_roundtrip_2_11(void **s) { check_version(2, 11, "SHA-256", true, true); }
static void test_roundtrip_2_8(void **s) { check_version(2, 8, "SHA-256", true, true); }
static void test_roundtrip_2_7(void **s) { check_version(2, 7, "SHA-256", false, true); }
static void test_roundtrip_2_6(void **s) { check_version(2, 6, "SHA1", false, false); }
static void test_roundtrip_2_5(void **s) { check_version(2, 5, "SHA1", false, false); }
/* An ancient 5.x peer counts as 2.0: Header+Body only. */
static void test_roundtrip_5_0(void **s) { check_version(5, 0, "SHA1", false, false); }

static void test_sig_alg(void **s)
{
	assert_int_equal(idn_cred_sig_alg(IDN_KEY_RSA, 2, 11), IDN_SIG_SHA256);
	assert_int_equal(idn_cred_sig_alg(IDN_KEY_RSA, 2, 7), IDN_SIG_SHA256);
	assert_int_equal(idn_cred_sig_alg(IDN_KEY_RSA, 2, 6), IDN_SIG_SHA1);
	assert_int_equal(idn_cred_sig_alg(IDN_KEY_DSA, 2, 10), IDN_SIG_SHA1);
	assert_int_equal(idn_cred_sig_alg(IDN_KEY_DSA, 2, 11), IDN_SIG_SHA256);
	assert_int_equal(idn_cred_sig_alg(IDN_KEY_DSA, 5, 9), IDN_SIG_SHA1);
}

/* ---- malformed credentials ---- */

static const uint8_t *cap_cred(size_t *len)
{
	idn_msg_t m;
	assert_int_equal(idn_msg_decode(g.cap[1].bytes, g.cap[1].len, &m), IDN_OK);
	*len = m.cred.len;
	return m.cred.p;
}

static void test_truncated(void **s)
{
	size_t len;
	const uint8_t *c = cap_cred(&len);
	idn_cred_t d;
	for (size_t n = 0; n < len; n++) {
		uint8_t *b = malloc(n ? n : 1); /* exact size: ASan sees overreads */
		memcpy(b, c, n);
		assert_int_not_equal(idn_cred_decode(b, n, &d), IDN_OK);
		free(b);
	}
	/* One byte more is not a credential either. */
	uint8_t *b = malloc(len + 1);
	memcpy(b, c, len);
	b[len] = 0;
	assert_int_equal(idn_cred_decode(b, len + 1, &d), IDN_EMALF);
	free(b);
}

/* Credential with the given field lengths (filled with 'x'), SignedInfo length si. */
static size_t craft(uint8_t *buf, size_t cap, uint32_t signer, uint32_t type, uint32_t si,
		    uint32_t alg, uint32_t sig, size_t fill)
{
	idn_wire_t w;
	idn_wire_init(&w, buf, cap);
	idn_wire_put_u32(&w, 0);
	idn_wire_put_u32(&w, signer);
	for (uint32_t i = 0; i < signer && i < fill; i++)
		idn_wire_put_u8(&w, 'x');
	idn_wire_put_u32(&w, 0);
	idn_wire_put_u32(&w, type);
	for (uint32_t i = 0; i < type && i < fill; i++)
		idn_wire_put_u8(&w, 'x');
	idn_wire_put_u32(&w, si);
	idn_wire_put_u32(&w, alg);
	for (uint32_t i = 0; i < alg && i < fill; i++)
		idn_wire_put_u8(&w, 'x');
	idn_wire_put_u32(&w, sig);
	for (uint32_t i = 0; i < sig && i < fill; i++)
		idn_wire_put_u8(&w, 'x');
	assert_int_equal(w.err, IDN_OK);
	return idn_wire_offset(&w);
}

static void test_limits(void **s)
{
	static uint8_t b[16384];
	idn_cred_t c;
	size_t n = craft(b, sizeof(b), 0, 9, 8 + 7 + 256, 7, 256, 9999);
	assert_int_equal(idn_cred_decode(b, n, &c), IDN_OK);
	/* Each length one over its limit, with all its bytes present. */
	n = craft(b, sizeof(b), IDN_MAX_HANDLE_LEN + 1, 9, 8 + 7 + 256, 7, 256, 9999);
	assert_int_equal(idn_cred_decode(b, n, &c), IDN_ELIMIT);
	n = craft(b, sizeof(b), 0, IDN_CRED_MAX_TYPE + 1, 8 + 7 + 256, 7, 256, 9999);
	assert_int_equal(idn_cred_decode(b, n, &c), IDN_ELIMIT);
	n = craft(b, sizeof(b), 0, 9, 8 + IDN_CRED_MAX_ALG + 1 + 256, IDN_CRED_MAX_ALG + 1, 256,
		  9999);
	assert_int_equal(idn_cred_decode(b, n, &c), IDN_ELIMIT);
	n = craft(b, sizeof(b), 0, 9, 8 + 7 + IDN_CRED_MAX_SIG + 1, 7, IDN_CRED_MAX_SIG + 1, 9999);
	assert_int_equal(idn_cred_decode(b, n, &c), IDN_ELIMIT);
	/* Huge lengths without their bytes: limits first, nothing read. */
	n = craft(b, sizeof(b), 0x7fffffff, 0, 0, 0, 0, 0);
	assert_int_equal(idn_cred_decode(b, n, &c), IDN_ELIMIT);
	n = craft(b, sizeof(b), 0xffffffff, 0, 0, 0, 0, 0);
	assert_int_equal(idn_cred_decode(b, n, &c), IDN_ELIMIT);
	n = craft(b, sizeof(b), 0, 9, 0xffffffff, 7, 256, 9999);
	assert_int_equal(idn_cred_decode(b, n, &c), IDN_ELIMIT);
	n = craft(b, sizeof(b), 0, 9, 8 + 7 + 256, 7, 0x80000000, 0);
	assert_int_not_equal(idn_cred_decode(b, n, &c), IDN_OK);
	/* A SignedInfo length that does not match its fields. */
	n = craft(b, sizeof(b), 0, 9, 8 + 7 + 256 - 1, 7, 256, 9999);
	assert_int_equal(idn_cred_decode(b, n, &c), IDN_EFEWDATA);
	n = craft(b, sizeof(b), 0, 9, 8 + 7 + 256 + 1, 7, 256, 9999);
	b[n++] = 0;
	assert_int_equal(idn_cred_decode(b, n, &c), IDN_EMALF);
	/* The whole credential over its limit. */
	assert_int_equal(idn_cred_decode(b, IDN_CRED_MAX_LEN + 1, &c), IDN_ELIMIT);

	/* The encoder refuses what the decoder would. */
	n = craft(b, sizeof(b), 0, 9, 8 + 7 + 256, 7, 256, 9999);
	assert_int_equal(idn_cred_decode(b, n, &c), IDN_OK);
	c.signature.len = IDN_CRED_MAX_SIG + 1;
	uint8_t out[8192];
	idn_wire_t w;
	idn_wire_init(&w, out, sizeof(out));
	idn_cred_encode(&w, &c);
	assert_int_equal(w.err, IDN_ELIMIT);
}

/* Replace the capture's credential with `cred` and check the verdict. */
static int verify_with_cred(const uint8_t *cred, size_t clen)
{
	idn_msg_t m;
	const tu_line_t *r = &g.cap[1];
	assert_int_equal(idn_msg_decode(r->bytes, r->len, &m), IDN_OK);
	size_t head = IDN_ENVELOPE_LEN + m.hb.len;
	uint8_t *b = malloc(head + 4 + clen);
	memcpy(b, r->bytes, head);
	idn_put_be32(b + 16, (uint32_t)(m.hb.len + 4 + clen));
	idn_put_be32(b + head, (uint32_t)clen);
	memcpy(b + head + 4, cred, clen);
	int ret = idn_cred_verify(b, head + 4 + clen, g.server_blob, g.server_blob_len);
	free(b);
	return ret;
}

static void test_verify_refusals(void **s)
{
	size_t len;
	const uint8_t *c = cap_cred(&len);
	uint8_t b[512];
	memcpy(b, c, len);
	assert_int_equal(verify_with_cred(b, len), IDN_OK);
	/* The legacy type name is a signature too. */
	{
		idn_cred_t d;
		assert_int_equal(idn_cred_decode(c, len, &d), IDN_OK);
		d.type = (idn_bytes_t){ U("HS_DSAPUBKEY"), 12 };
		uint8_t e[512];
		idn_wire_t w;
		idn_wire_init(&w, e, sizeof(e));
		idn_cred_encode(&w, &d);
		assert_int_equal(verify_with_cred(e, idn_wire_offset(&w)), IDN_OK);
		/* A session MAC needs a session key; other types are unknown. */
		d.type = (idn_bytes_t){ U("HS_MAC"), 6 };
		idn_wire_init(&w, e, sizeof(e));
		idn_cred_encode(&w, &d);
		assert_int_equal(verify_with_cred(e, idn_wire_offset(&w)), IDN_EINVAL);
		d.type = (idn_bytes_t){ U("HS_WHAT"), 7 };
		idn_wire_init(&w, e, sizeof(e));
		idn_cred_encode(&w, &d);
		assert_int_equal(verify_with_cred(e, idn_wire_offset(&w)), IDN_EINVAL);
		/* The hash by its 1-byte code; an unknown hash name. */
		d.type = (idn_bytes_t){ U("HS_SIGNED"), 9 };
		uint8_t code = IDN_DIGEST_SHA256;
		d.digest_alg = (idn_bytes_t){ &code, 1 };
		idn_wire_init(&w, e, sizeof(e));
		idn_cred_encode(&w, &d);
		assert_int_equal(verify_with_cred(e, idn_wire_offset(&w)), IDN_OK);
		d.digest_alg = (idn_bytes_t){ U("SHA-999"), 7 };
		idn_wire_init(&w, e, sizeof(e));
		idn_cred_encode(&w, &d);
		assert_int_equal(verify_with_cred(e, idn_wire_offset(&w)), IDN_EINVAL);
		/* The signer index is the counter in the signed data. */
		d.digest_alg = (idn_bytes_t){ U("SHA-256"), 7 };
		d.signer_index = 1;
		idn_wire_init(&w, e, sizeof(e));
		idn_cred_encode(&w, &d);
		assert_int_equal(verify_with_cred(e, idn_wire_offset(&w)), IDN_EACCES);
	}
	/* A cut credential does not decode. */
	assert_int_equal(verify_with_cred(b, len - 1), IDN_EFEWDATA);
	assert_int_equal(verify_with_cred(b, 20), IDN_EFEWDATA);
	/* A bad signature: wrong, not malformed. */
	b[len - 1] ^= 1;
	assert_int_equal(verify_with_cred(b, len), IDN_EACCES);

	/* V13's HS_MAC request (behind an envelope): not ours to check. */
	uint8_t v13[20 + 127];
	tu_hex("020b020b0000000700001238000000000000007f", v13, 20);
	assert_int_equal(tu_hex("000000010000000019000000000100006553f100000000160000000a38382e3130302f61"
				"626300000000000000000000004d0000000000000000000000010000000648535f4d4143"
				"000000330000000b484d41432d53484132353600000020f5311b35cf8a123cfd213e6ba0"
				"106b413ba742c8644a2c36ecd9b4edf363a073", v13 + 20, 127), 127);
	assert_int_equal(idn_cred_verify(v13, sizeof(v13), g.server_blob, g.server_blob_len),
			 IDN_EINVAL);
	/* And it decodes as V13 says. */
	idn_msg_t m;
	assert_int_equal(idn_msg_decode(v13, sizeof(v13), &m), IDN_OK);
	idn_cred_t d;
	assert_int_equal(idn_cred_decode(m.cred.p, m.cred.len, &d), IDN_OK);
	assert_int_equal(d.signer_index, 1);
	assert_true(idn_bytes_eq_str(d.digest_alg, "HMAC-SHA256"));
	assert_int_equal(d.signature.len, 32);
	/* A message that does not decode. */
	assert_int_equal(idn_cred_verify(v13, 30, g.server_blob, g.server_blob_len), IDN_EFEWDATA);
}

/* ---- signed responses ---- */

static size_t request(uint8_t *buf, size_t cap, uint32_t opflag)
{
	idn_envelope_t env = { .major = 2, .minor = 11, .sugg_major = 2, .sugg_minor = 11,
			       .request_id = 99 };
	idn_header_t hdr = { .opcode = IDN_OC_DELETE_HANDLE, .opflag = opflag,
			     .site_serial = 0xffff, .expiration = 1800000000 };
	idn_wire_t w;
	idn_wire_init(&w, buf, cap);
	size_t start = idn_msg_begin(&w, &env, &hdr);
	idn_wire_put_str(&w, "88.100/abc");
	assert_int_equal(idn_msg_end(&w, start, true), IDN_OK);
	return idn_wire_offset(&w);
}

static void test_responses(void **s)
{
	uint8_t req[128], a[1024], b[1024];
	idn_msg_t m;
	idn_resp_ctx_t ctx = { .site_serial = 1, .primary = true, .now = 1790000000 };
	idn_resp_ctx_t keyed = ctx;
	keyed.sign_key = g.gen;
	idn_wire_t wa, wb;

	/* Without CT: the key changes nothing. */
	size_t n = request(req, sizeof(req), IDN_OF_REC);
	assert_int_equal(idn_msg_decode(req, n, &m), IDN_OK);
	idn_wire_init(&wa, a, sizeof(a));
	idn_wire_init(&wb, b, sizeof(b));
	assert_int_equal(idn_resp_error(&wa, &m, &ctx, IDN_RC_HANDLE_NOT_FOUND, "x"), IDN_OK);
	assert_int_equal(idn_resp_error(&wb, &m, &keyed, IDN_RC_HANDLE_NOT_FOUND, "x"), IDN_OK);
	assert_int_equal(idn_wire_offset(&wa), idn_wire_offset(&wb));
	assert_memory_equal(a, b, idn_wire_offset(&wa));
	assert_memory_equal(a + idn_wire_offset(&wa) - 4, "\0\0\0\0", 4);

	/* With CT and RD: signed, CT echoed, the digest inside what is signed. */
	n = request(req, sizeof(req), IDN_OF_REC | IDN_OF_CT | IDN_OF_RD);
	assert_int_equal(idn_msg_decode(req, n, &m), IDN_OK);
	idn_wire_init(&wa, a, sizeof(a));
	assert_int_equal(idn_resp_error(&wa, &m, &keyed, IDN_RC_HANDLE_NOT_FOUND, "x"), IDN_OK);
	idn_msg_t r;
	assert_int_equal(idn_msg_decode(a, idn_wire_offset(&wa), &r), IDN_OK);
	assert_true(r.hdr.opflag & IDN_OF_CT);
	assert_true(r.hdr.opflag & IDN_OF_RD);
	assert_int_equal(idn_cred_verify(a, idn_wire_offset(&wa), g.gen_pub, g.gen_pub_len), IDN_OK);
	idn_wire_init(&wa, a, sizeof(a));
	assert_int_equal(idn_resp_empty(&wa, &m, &keyed), IDN_OK);
	assert_int_equal(idn_cred_verify(a, idn_wire_offset(&wa), g.gen_pub, g.gen_pub_len), IDN_OK);

	/* With CT but no key: answered unsigned, as before. */
	idn_wire_init(&wb, b, sizeof(b));
	assert_int_equal(idn_resp_empty(&wb, &m, &ctx), IDN_OK);
	assert_int_equal(idn_cred_verify(b, idn_wire_offset(&wb), g.gen_pub, g.gen_pub_len),
			 IDN_ENOENT);

	/* Through idn_resp_begin/idn_resp_end, at an offset (several messages
	 * in one buffer, as list answers are). */
	idn_wire_init(&wa, a, sizeof(a));
	idn_resp_opts_t o = { .opcode = IDN_OC_LIST_HANDLES, .rcode = IDN_RC_SUCCESS,
			      .extra_flags = IDN_OF_CN };
	size_t s1 = idn_resp_begin(&wa, &m, &keyed, &o);
	idn_wire_put_u32(&wa, 0);
	assert_int_equal(idn_resp_end(&wa, s1, &m, &keyed), IDN_OK);
	size_t s2 = idn_resp_begin(&wa, &m, &keyed, &o);
	idn_wire_put_u32(&wa, 0);
	assert_int_equal(idn_resp_end(&wa, s2, &m, &keyed), IDN_OK);
	assert_int_equal(idn_cred_verify(a, s2, g.gen_pub, g.gen_pub_len), IDN_OK);
	assert_int_equal(idn_cred_verify(a + s2, idn_wire_offset(&wa) - s2, g.gen_pub,
					 g.gen_pub_len), IDN_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capture_decodes),
		cmocka_unit_test(test_capture_verifies),
		cmocka_unit_test(test_capture_resigned),
		cmocka_unit_test(test_roundtrip_2_11),
		cmocka_unit_test(test_roundtrip_2_8),
		cmocka_unit_test(test_roundtrip_2_7),
		cmocka_unit_test(test_roundtrip_2_6),
		cmocka_unit_test(test_roundtrip_2_5),
		cmocka_unit_test(test_roundtrip_5_0),
		cmocka_unit_test(test_sig_alg),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_verify_refusals),
		cmocka_unit_test(test_responses),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
