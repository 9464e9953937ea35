/* capture_check.h - checks shared by the capture tests: structural round trips of every message, and a walker over capture files. */
#ifndef IDN_TESTS_CAPTURE_CHECK_H
#define IDN_TESTS_CAPTURE_CHECK_H

/*
 * Included by tests/proto/test_captures.c (CNRI captures against
 * vectors/README.md) and tests/proto/test_idis.c (IDIS SDK captures), after
 * <cmocka.h>. Everything is static inline so each test binary keeps its own
 * copy and unused helpers cost nothing.
 */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/crypto.h"
#include "proto/msg.h"
#include "proto/record.h"
#include "tests/util/testutil.h"

static struct {
	int messages, values, sites, admins, pubkeys, readme_lines, facts, notes;
} stats;

/* ------------------------------------------------------------------ */
/* Helpers.                                                            */

static inline bool hex_eq(idn_bytes_t b, const char *hex)
{
	uint8_t tmp[1024];
	long n = tu_hex(hex, tmp, sizeof(tmp));
	return n >= 0 && (size_t)n == b.len && memcmp(tmp, b.p, b.len) == 0;
}

static inline void expect_str(idn_bytes_t b, const char *s, const char *what)
{
	if (!idn_bytes_eq_str(b, s))
		fail_msg("%s: want \"%s\", got \"%.*s\"", what, s, (int)b.len,
			 b.p ? (const char *)b.p : "");
}

static inline bool starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The number after `key` in t (any base prefix: "0x..." is hex). */
static inline unsigned long num_after(const char *t, const char *key)
{
	const char *p = strstr(t, key);
	if (!p)
		fail_msg("no \"%s\" in README line: %s", key, t);
	char *end;
	unsigned long v = strtoul(p + strlen(key), &end, 0);
	if (end == p + strlen(key))
		fail_msg("no number after \"%s\" in: %s", key, t);
	return v;
}

/* Last occurrence of `needle` in `s`. */
static inline const char *rstrstr(const char *s, const char *needle)
{
	const char *last = NULL;
	for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
		last = p;
	return last;
}

/* ------------------------------------------------------------------ */
/* Structured data, whatever the source.                               */

/* Decode HS_SITE data, check it re-encodes exactly; s must be freed. */
static inline idn_site_t *site_roundtrip(idn_bytes_t data)
{
	idn_site_t *s = malloc(sizeof(*s));
	assert_non_null(s);
	assert_int_equal(idn_site_decode(data.p, data.len, s), IDN_OK);
	uint8_t *buf = malloc(data.len + 1);
	idn_wire_t w;
	idn_wire_init(&w, buf, data.len);
	idn_site_encode(&w, s);
	assert_int_equal(w.err, IDN_OK);
	assert_int_equal(idn_wire_offset(&w), data.len);
	assert_memory_equal(buf, data.p, data.len);
	free(buf);
	for (uint32_t i = 0; i < s->n_servers; i++) {
		if (s->servers[i].pubkey.len == 0)
			continue;
		idn_pubkey_t k;
		assert_int_equal(idn_pubkey_decode(s->servers[i].pubkey.p, s->servers[i].pubkey.len,
						   &k), IDN_OK);
		assert_int_not_equal(k.kind, IDN_KEY_UNKNOWN);
	}
	stats.sites++;
	return s;
}

/* An RSA blob written by CNRI re-encodes byte for byte from its magnitudes. */
static inline void rsa_roundtrip(idn_bytes_t blob, const idn_pubkey_t *k)
{
	uint8_t *buf = malloc(blob.len + 8);
	idn_wire_t w;
	idn_wire_init(&w, buf, blob.len + 8);
	idn_pubkey_encode_rsa(&w, k->rsa_e, k->rsa_n);
	assert_int_equal(w.err, IDN_OK);
	assert_int_equal(idn_wire_offset(&w), blob.len);
	assert_memory_equal(buf, blob.p, blob.len);
	free(buf);
}

/* Structured value data decodes (and HS_SITE / RSA keys re-encode). */
static inline void check_value_data(const idn_value_t *v)
{
	if (idn_type_is(v->type, "HS_ADMIN")) {
		idn_admin_t a;
		assert_int_equal(idn_admin_decode(v->data.p, v->data.len, &a), IDN_OK);
		stats.admins++;
	} else if (idn_type_is(v->type, "HS_SITE")) {
		free(site_roundtrip(v->data));
	} else if (idn_type_is(v->type, "HS_PUBKEY")) {
		idn_pubkey_t k;
		assert_int_equal(idn_pubkey_decode(v->data.p, v->data.len, &k), IDN_OK);
		assert_int_not_equal(k.kind, IDN_KEY_UNKNOWN);
		if (k.kind == IDN_KEY_RSA)
			rsa_roundtrip(v->data, &k);
		stats.pubkeys++;
	} else if (idn_type_is(v->type, "HS_VLIST")) {
		idn_vlist_t l;
		assert_int_equal(idn_vlist_decode(v->data.p, v->data.len, &l), IDN_OK);
	}
	stats.values++;
}

/* n values back to back at the cursor: decode, re-encode, compare. Fills
 * out[] (up to max) with the decoded values. */
static inline void walk_values(idn_wire_t *in, uint32_t n, idn_value_t *out, uint32_t max)
{
	assert_true(n <= IDN_MAX_VALUES);
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *start = in->pos;
		idn_value_t v;
		assert_int_equal(idn_value_decode(in, &v), IDN_OK);
		size_t len = (size_t)(in->pos - start);
		assert_int_equal(idn_value_size(&v), len);
		uint8_t *buf = malloc(len);
		idn_wire_t w;
		idn_wire_init(&w, buf, len);
		idn_value_encode(&w, &v);
		assert_int_equal(w.err, IDN_OK);
		assert_memory_equal(buf, start, len);
		free(buf);
		size_t pos = 0;
		idn_bytes_t h;
		uint32_t idx, refs = 0;
		while (idn_value_ref_next(&v, &pos, &h, &idx))
			refs++;
		assert_int_equal(refs, v.n_refs);
		check_value_data(&v);
		if (i < max)
			out[i] = v;
	}
}

/* The message re-encodes byte for byte from its decoded parts. */
static inline void msg_roundtrip(const idn_msg_t *m, const uint8_t *b, size_t len)
{
	if (m->cred.len != 0)
		return; /* signed: idn_msg_end() only writes empty credentials */
	/* Bits the envelope codec does not keep (byte 2 0x1c, header byte 15). */
	if ((b[2] & 0x1c) || b[IDN_ENVELOPE_LEN + 15])
		fail_msg("reserved bits set in a captured message");
	uint8_t *buf = malloc(len);
	idn_wire_t w;
	idn_wire_init(&w, buf, len);
	size_t st = idn_msg_begin(&w, &m->env, &m->hdr);
	idn_wire_put_raw(&w, m->body.p, m->body.len);
	assert_int_equal(idn_msg_end(&w, st, m->has_cred), IDN_OK);
	assert_int_equal(idn_wire_offset(&w), len);
	assert_memory_equal(buf, b, len);
	free(buf);
}

/*
 * The checks every message gets, whatever its source. `last_req` is the
 * Header+Body of the last client message (a response digest covers it).
 */
static inline void check_structure(const idn_msg_t *m, const uint8_t *b, size_t len, idn_bytes_t last_req)
{
	stats.messages++;
	msg_roundtrip(m, b, len);
	idn_wire_t in;
	idn_wire_init_ro(&in, m->body.p, m->body.len);
	bool response = m->hdr.rcode != 0;
	if (response && (m->hdr.opflag & IDN_OF_RD) && m->body.len > 0) {
		uint8_t alg, d[IDN_DIGEST_MAX];
		idn_bytes_t dg;
		size_t skip, dlen;
		assert_int_equal(idn_digest_decode(m->body.p, m->body.len, &alg, &dg, &skip), IDN_OK);
		assert_int_equal(dg.len, idn_digest_len(alg));
		/* Every digest in the captures is of the client message just before. */
		assert_non_null(last_req.p);
		assert_int_equal(idn_digest(alg, last_req.p, last_req.len, d, &dlen), IDN_OK);
		assert_memory_equal(d, dg.p, dlen);
		idn_wire_skip(&in, skip);
	}
	if (!response) {
		switch (m->hdr.opcode) {
		case IDN_OC_RESOLUTION: {
			idn_resolve_req_t r;
			assert_int_equal(idn_resolve_req_decode(m->body.p, m->body.len, &r), IDN_OK);
			uint8_t buf[4096];
			idn_wire_t w;
			idn_wire_init(&w, buf, sizeof(buf));
			idn_resolve_req_encode(&w, &r);
			assert_int_equal(w.err, IDN_OK);
			assert_int_equal(idn_wire_offset(&w), m->body.len);
			assert_memory_equal(buf, m->body.p, m->body.len);
			break;
		}
		case IDN_OC_CREATE_HANDLE:
		case IDN_OC_ADD_VALUE:
		case IDN_OC_MODIFY_VALUE:
			idn_wire_get_bstr(&in, IDN_MAX_HANDLE_LEN);
			walk_values(&in, idn_wire_get_u32(&in), NULL, 0);
			assert_int_equal(in.err, IDN_OK);
			assert_int_equal(idn_wire_avail(&in), 0);
			break;
		case IDN_OC_GET_SITE_INFO:
		case IDN_OC_DELETE_HANDLE:
		case IDN_OC_LIST_HANDLES:
		case IDN_OC_HOME_NA:
		case IDN_OC_UNHOME_NA: {
			idn_bytes_t h;
			assert_int_equal(idn_handle_body_decode(m->body.p, m->body.len, &h), IDN_OK);
			break;
		}
		default:
			break;
		}
		return;
	}
	if (m->hdr.rcode == IDN_RC_SUCCESS && m->hdr.opcode == IDN_OC_RESOLUTION) {
		idn_wire_get_bstr(&in, IDN_MAX_HANDLE_LEN);
		walk_values(&in, idn_wire_get_u32(&in), NULL, 0);
		assert_int_equal(in.err, IDN_OK);
		assert_int_equal(idn_wire_avail(&in), 0);
	} else if (m->hdr.rcode == IDN_RC_SUCCESS && m->hdr.opcode == IDN_OC_GET_SITE_INFO) {
		free(site_roundtrip((idn_bytes_t){ in.pos, (uint32_t)idn_wire_avail(&in) }));
	} else if (m->hdr.rcode != IDN_RC_SUCCESS && m->hdr.rcode != IDN_RC_AUTHENTICATION_NEEDED) {
		idn_bytes_t msg;
		assert_int_equal(idn_error_body_decode(in.pos, idn_wire_avail(&in), &msg), IDN_OK);
	}
}

/* ------------------------------------------------------------------ */
/* A capture file: lines, UDP reassembly, and the checks above.        */

typedef void (*msg_hook)(const tu_line_t *l, int k, const idn_msg_t *m, const void *ctx);

/*
 * Walks the lines of a capture; whole messages (single lines, or UDP
 * datagrams reassembled by MessageId from 492-byte chunks) go through
 * check_structure() and `hook`; `line_hook` (m NULL) sees every line.
 */
static inline int walk_file(const char *rel, msg_hook hook, msg_hook line_hook, const void *ctx)
{
	tu_line_t *l;
	int n = tu_load_capture(rel, &l);
	if (n <= 0)
		fail_msg("%s: no lines", rel);
	uint8_t *msg = NULL, *last_req = NULL;
	size_t total = 0, got = 0, last_req_len = 0;
	uint32_t rid = 0, chunks = 0;
	for (int i = 0; i < n; i++) {
		const uint8_t *b = l[i].bytes;
		size_t len = l[i].len;
		idn_envelope_t env;
		assert_int_equal(idn_envelope_decode(b, len, &env), IDN_OK);
		if (line_hook)
			line_hook(&l[i], i + 1, NULL, ctx);
		const uint8_t *whole = b;
		size_t wlen = len;
		if (env.message_len + IDN_ENVELOPE_LEN != len) {
			/* A datagram of a multi-packet message: chunk i at i * 492. */
			assert_true(len <= IDN_UDP_PACKET_MAX);
			if (!msg) {
				total = env.message_len;
				msg = calloc(1, IDN_ENVELOPE_LEN + total);
				memcpy(msg, b, IDN_ENVELOPE_LEN);
				got = 0;
				chunks = 0;
				rid = env.request_id;
			}
			assert_int_equal(env.request_id, rid);
			assert_int_equal(env.message_len, total);
			size_t off = (size_t)env.message_id * IDN_UDP_CHUNK;
			size_t plen = len - IDN_ENVELOPE_LEN;
			assert_true(off + plen <= total);
			/* Every chunk but the last is full. */
			assert_true(plen == IDN_UDP_CHUNK || off + plen == total);
			memcpy(msg + IDN_ENVELOPE_LEN + off, b + IDN_ENVELOPE_LEN, plen);
			got += plen;
			chunks++;
			if (got < total)
				continue;
			assert_int_equal(chunks, (total + IDN_UDP_CHUNK - 1) / IDN_UDP_CHUNK);
			/* The reassembled message is numbered as a single one. */
			idn_put_be32(msg + 12, 0);
			whole = msg;
			wlen = IDN_ENVELOPE_LEN + total;
		}
		idn_msg_t m;
		int ret = idn_msg_decode(whole, wlen, &m);
		if (ret)
			fail_msg("%s line %d: does not decode: %s", rel, i + 1, idn_strerror(ret));
		idn_bytes_t lr = { last_req, (uint32_t)last_req_len };
		check_structure(&m, whole, wlen, lr);
		if (l[i].dir == 'C') {
			free(last_req);
			last_req_len = m.hb.len;
			last_req = malloc(last_req_len);
			memcpy(last_req, m.hb.p, last_req_len);
		}
		if (hook)
			hook(&l[i], i + 1, &m, ctx);
		free(msg);
		msg = NULL;
	}
	assert_null(msg); /* no partial message left over */
	free(last_req);
	tu_lines_free(l, n);
	return n;
}

/* Names of the .hex files in the shared folder `rel`, up to max. */
static inline int list_hex(const char *rel, char names[][256], int max)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", tu_shared_dir(), rel);
	DIR *d = opendir(path);
	assert_non_null(d);
	struct dirent *e;
	int n = 0;
	while ((e = readdir(d)) && n < max) {
		size_t len = strlen(e->d_name);
		if (len > 4 && strcmp(e->d_name + len - 4, ".hex") == 0)
			snprintf(names[n++], 256, "%s", e->d_name);
	}
	closedir(d);
	return n;
}

#endif
