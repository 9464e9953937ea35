/* test_captures.c - every CNRI capture line decodes to what vectors/README.md says, field by field, and re-encodes byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/proto/capture_check.h"

/*
 * vectors/README.md decodes every line of every CNRI capture (envelope,
 * header, body, values, credential) with an independent decoder; we parse
 * those lines and compare them with ours, field by field. Independently of
 * the README, every message goes through check_structure() (capture_check.h):
 * it must re-encode byte for byte through idn_msg_begin()/idn_msg_end(),
 * every value through idn_value_encode(), every site through
 * idn_site_encode() and every resolution request through
 * idn_resolve_req_encode().
 */

/* ------------------------------------------------------------------ */
/* vectors/README.md: the independent decode of every CNRI line.      */

#define MAX_TEXTS 64

typedef struct {
	int line;                  /* 1-based line number in the .hex file */
	int n;
	char *text[MAX_TEXTS];     /* "- line ...", then its indented lines */
} rd_line_t;

typedef struct {
	char name[96];
	int n_lines;               /* "(N lines)" */
	int n;
	rd_line_t *lines;
} rd_file_t;

typedef struct {
	int n;
	rd_file_t *files;
} readme_t;

static void readme_load(readme_t *r)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/vectors/README.md", tu_shared_dir());
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	memset(r, 0, sizeof(*r));
	char *buf = NULL;
	size_t cap = 0;
	rd_file_t *file = NULL;
	rd_line_t *cur = NULL;
	while (getline(&buf, &cap, f) > 0) {
		buf[strcspn(buf, "\r\n")] = 0;
		char name[96];
		int n;
		if (sscanf(buf, "#### `%95[^`]` (%d lines)", name, &n) == 2) {
			r->files = realloc(r->files, (size_t)(r->n + 1) * sizeof(*r->files));
			file = &r->files[r->n++];
			memset(file, 0, sizeof(*file));
			snprintf(file->name, sizeof(file->name), "%s", name);
			file->n_lines = n;
			cur = NULL;
			continue;
		}
		if (buf[0] == '#' || buf[0] == 0) {
			cur = NULL;
			if (buf[0] == '#' && !starts(buf, "####"))
				file = NULL;
			continue;
		}
		int k;
		if (file && sscanf(buf, "- line %d `", &k) == 1) {
			file->lines = realloc(file->lines, (size_t)(file->n + 1) * sizeof(*file->lines));
			cur = &file->lines[file->n++];
			memset(cur, 0, sizeof(*cur));
			cur->line = k;
			cur->text[cur->n++] = strdup(buf);
			continue;
		}
		if (cur && starts(buf, "  ")) {
			assert_true(cur->n < MAX_TEXTS);
			cur->text[cur->n++] = strdup(buf);
			continue;
		}
		cur = NULL;
	}
	free(buf);
	fclose(f);
}

static void readme_free(readme_t *r)
{
	for (int i = 0; i < r->n; i++) {
		for (int j = 0; j < r->files[i].n; j++)
			for (int t = 0; t < r->files[i].lines[j].n; t++)
				free(r->files[i].lines[j].text[t]);
		free(r->files[i].lines);
	}
	free(r->files);
}

static const rd_file_t *readme_file(const readme_t *r, const char *name)
{
	for (int i = 0; i < r->n; i++)
		if (strcmp(r->files[i].name, name) == 0)
			return &r->files[i];
	return NULL;
}

static const rd_line_t *readme_line(const rd_file_t *f, int k)
{
	for (int i = 0; i < f->n; i++)
		if (f->lines[i].line == k)
			return &f->lines[i];
	return NULL;
}

/* "- line K `D>` TCP conn C, B bytes. Envelope: ..." against one datagram/record. */
static void fact_envelope(const char *t, char dir, const uint8_t *b, size_t len)
{
	int k;
	char d;
	if (sscanf(t, "- line %d `%c> ", &k, &d) != 2 || !strstr(t, " Envelope: version "))
		fail_msg("unparsed README line: %s", t);
	assert_int_equal(d, dir);
	const char *c = strstr(t, " conn ");
	assert_non_null(c);
	assert_int_equal(num_after(c + 6, ", "), len);
	idn_envelope_t e;
	assert_int_equal(idn_envelope_decode(b, len, &e), IDN_OK);
	unsigned ma, mi, sma, smi;
	assert_int_equal(sscanf(strstr(t, "version "), "version %u.%u", &ma, &mi), 2);
	assert_int_equal(sscanf(strstr(t, "suggested "), "suggested %u.%u", &sma, &smi), 2);
	assert_int_equal(e.major, ma);
	assert_int_equal(e.minor, mi);
	assert_int_equal(e.sugg_major, sma);
	assert_int_equal(e.sugg_minor, smi);
	assert_non_null(strstr(t, "flags none,")); /* in every CNRI capture */
	assert_int_equal(e.flags, 0);
	assert_int_equal(e.session_id, num_after(t, "SessionId "));
	assert_int_equal(e.request_id, num_after(t, "RequestId "));
	assert_int_equal(e.message_id, num_after(t, "MessageId "));
	assert_int_equal(e.message_len, num_after(t, "MessageLength "));
	stats.facts++;
}

/* "  - OpCode N NAME, ResponseCode R ..., OpFlag 0x..., ..." */
static void fact_header(const char *t, const idn_msg_t *m)
{
	assert_int_equal(m->hdr.opcode, num_after(t, "OpCode "));
	assert_int_equal(m->hdr.rcode, num_after(t, "ResponseCode "));
	assert_int_equal(m->hdr.opflag, num_after(t, "OpFlag "));
	assert_int_equal(m->hdr.site_serial, num_after(t, "SiteInfoSerial "));
	assert_int_equal(m->hdr.recursion, num_after(t, "RecursionCount "));
	assert_int_equal(m->hdr.expiration, num_after(t, "Expiration "));
	assert_int_equal(m->hdr.body_len, num_after(t, "BodyLength "));
	stats.facts++;
}

/* "[('desc', 'x')], 1 server(s): server id 1 address ... interfaces a/TCP:1, ..." */
static void fact_site(const char *t, idn_bytes_t data)
{
	unsigned dv, pma, pmi, serial, mask, hopt, hflen, nsrv, sid, e, nlen;
	char aname[64], aval[128], addr[40];
	int got = sscanf(t, "SiteInfo: dataVersion %u, protocol %u.%u, serial %u, primaryMask 0x%x, "
			 "hashOption %u, hashFilter %u bytes, attributes [('%63[^']', '%127[^']')], "
			 "%u server(s): server id %u address %*s (16 bytes %32[0-9a-f]) key "
			 "[RSA_PUB_KEY, e=%u, n %u bytes",
			 &dv, &pma, &pmi, &serial, &mask, &hopt, &hflen, aname, aval, &nsrv, &sid,
			 addr, &e, &nlen);
	if (got != 14)
		fail_msg("unparsed README site (%d fields): %s", got, t);
	idn_site_t *s = site_roundtrip(data);
	assert_int_equal(s->data_version, dv);
	assert_int_equal(s->proto_major, pma);
	assert_int_equal(s->proto_minor, pmi);
	assert_int_equal(s->serial, serial);
	assert_int_equal(s->primary_mask, mask);
	assert_int_equal(s->hash_option, hopt);
	assert_int_equal(s->hash_filter.len, hflen);
	assert_int_equal(s->n_attrs, 1);
	expect_str(s->attrs[0].name, aname, "site attribute");
	expect_str(s->attrs[0].value, aval, "site attribute value");
	assert_int_equal(s->n_servers, nsrv);
	assert_int_equal(s->n_servers, 1);
	const idn_site_server_t *sv = &s->servers[0];
	assert_int_equal(sv->server_id, sid);
	assert_true(hex_eq((idn_bytes_t){ sv->address, 16 }, addr));
	idn_pubkey_t k;
	assert_int_equal(idn_pubkey_decode(sv->pubkey.p, sv->pubkey.len, &k), IDN_OK);
	assert_int_equal(k.kind, IDN_KEY_RSA);
	assert_int_equal(k.rsa_n.len, nlen);
	assert_true(k.rsa_e.len <= 4);
	uint32_t ev = 0;
	for (uint32_t i = 0; i < k.rsa_e.len; i++)
		ev = ev << 8 | k.rsa_e.p[i];
	assert_int_equal(ev, e);
	rsa_roundtrip(sv->pubkey, &k);
	/* "interfaces admin+query/TCP:12641, query/UDP:12641, ..." */
	const char *p = strstr(t, "interfaces ");
	assert_non_null(p);
	p += strlen("interfaces ");
	uint32_t n = 0;
	while (*p) {
		char kind[16], proto[8];
		unsigned port;
		int used = 0;
		if (sscanf(p, "%15[a-z+]/%7[A-Z]:%u%n", kind, proto, &port, &used) != 3)
			fail_msg("unparsed interface list: %s", p);
		assert_true(n < sv->n_ifs);
		const idn_site_if_t *f = &sv->ifs[n++];
		int type = strcmp(kind, "admin+query") == 0 ? IDN_IF_BOTH :
			   strcmp(kind, "query") == 0	    ? IDN_IF_QUERY :
			   strcmp(kind, "admin") == 0	    ? IDN_IF_ADMIN : IDN_IF_OUT;
		int prot = strcmp(proto, "UDP") == 0  ? IDN_PROTO_UDP :
			   strcmp(proto, "TCP") == 0  ? IDN_PROTO_TCP :
			   strcmp(proto, "HTTP") == 0 ? IDN_PROTO_HTTP : IDN_PROTO_HTTPS;
		assert_int_equal(f->type, type);
		assert_int_equal(f->protocol, prot);
		assert_int_equal(f->port, port);
		p += used;
		if (starts(p, ", "))
			p += 2;
		else
			break;
	}
	assert_int_equal(n, sv->n_ifs);
	free(s);
	stats.facts++;
}

/* "      - index I type T timestamp S...; data N bytes: DESC; TTL rel X; perms 0xP; R refs [L bytes]" */
static void fact_value(const char *t, const idn_value_t *vals, uint32_t n)
{
	unsigned idx, ts, dlen;
	char type[64];
	if (sscanf(t, "      - index %u type %63s timestamp %u", &idx, type, &ts) != 3)
		fail_msg("unparsed README value: %s", t);
	const idn_value_t *v = NULL;
	for (uint32_t i = 0; i < n; i++)
		if (vals[i].index == idx)
			v = &vals[i];
	if (!v)
		fail_msg("README value %u not in the message", idx);
	expect_str(v->type, type, "value type");
	assert_int_equal(v->timestamp, ts);
	const char *d = strstr(t, "; data ");
	const char *tail = rstrstr(t, "; TTL ");
	assert_non_null(d);
	assert_non_null(tail);
	int used = 0;
	assert_int_equal(sscanf(d, "; data %u bytes: %n", &dlen, &used), 1);
	assert_int_equal(v->data.len, dlen);
	const char *desc = d + used;
	size_t dsz = (size_t)(tail - desc);
	char ttlkind[8];
	unsigned ttl, perms, nrefs, total;
	if (sscanf(tail, "; TTL %7s %u; perms 0x%x; %u refs [%u bytes]", ttlkind, &ttl, &perms,
		   &nrefs, &total) != 5)
		fail_msg("unparsed README value tail: %s", tail);
	assert_int_equal(v->ttl_type, strcmp(ttlkind, "rel") == 0 ? IDN_TTL_RELATIVE : IDN_TTL_ABSOLUTE);
	assert_int_equal(v->ttl, ttl);
	assert_int_equal(v->perms, perms);
	assert_int_equal(v->n_refs, nrefs);
	assert_int_equal(idn_value_size(v), total);
	/* The data, as described. */
	char *ds = strndup(desc, dsz);
	if (ds[0] == '"') {
		assert_true(dsz >= 2 && ds[dsz - 1] == '"');
		ds[dsz - 1] = 0;
		expect_str(v->data, ds + 1, "value data");
	} else if (starts(ds, "admin ")) {
		unsigned aidx, aperms;
		char ahdl[128];
		assert_int_equal(sscanf(ds, "admin %u:%127s perms 0x%x", &aidx, ahdl, &aperms), 3);
		idn_admin_t a;
		assert_int_equal(idn_admin_decode(v->data.p, v->data.len, &a), IDN_OK);
		assert_int_equal(a.admin_index, aidx);
		assert_int_equal(a.perms, aperms);
		expect_str(a.admin_id, ahdl, "admin id");
	} else if (starts(ds, "RSA_PUB_KEY")) {
		unsigned e, nlen;
		assert_int_equal(sscanf(ds, "RSA_PUB_KEY, e=%u, n %u bytes", &e, &nlen), 2);
		idn_pubkey_t k;
		assert_int_equal(idn_pubkey_decode(v->data.p, v->data.len, &k), IDN_OK);
		assert_int_equal(k.kind, IDN_KEY_RSA);
		assert_int_equal(k.rsa_n.len, nlen);
		assert_true(hex_eq(k.rsa_e, "010001") && e == 65537);
		rsa_roundtrip(v->data, &k);
	} else if (starts(ds, "SiteInfo:")) {
		fact_site(ds, v->data);
	} else {
		fail_msg("unknown README value data: %s", ds);
	}
	free(ds);
	stats.facts++;
}

/* A ['A', 'B'] or [1, 2] list: entries of a type or index filter. */
static int parse_list(const char *s, char items[][64], int max)
{
	int n = 0;
	while (*s && *s != ']' && n < max) {
		while (*s == ' ' || *s == ',' || *s == '\'')
			s++;
		if (*s == ']' || !*s)
			break;
		size_t l = strcspn(s, "',]");
		snprintf(items[n++], 64, "%.*s", (int)l, s);
		s += l;
		if (*s == '\'')
			s++;
	}
	return n;
}

/* "  - body: ..." (with the value lines after it); returns texts consumed. */
static int fact_body(const rd_line_t *rl, int i, const idn_msg_t *m, idn_bytes_t body)
{
	const char *t = rl->text[i] + strlen("  - body: ");
	char h[256], l1[512], items[64][64];
	unsigned n, k;
	int used = 0;
	idn_wire_t in;
	idn_wire_init_ro(&in, body.p, body.len);
	stats.facts++;

	if (sscanf(t, "handle \"%255[^\"]\", IndexList [", h) == 1 && strstr(t, "IndexList [")) {
		idn_resolve_req_t r;
		assert_int_equal(idn_resolve_req_decode(body.p, body.len, &r), IDN_OK);
		expect_str(r.handle, h, "resolution handle");
		assert_false(r.has_token); /* CNRI's client sends none */
		int ni = parse_list(strstr(t, "IndexList [") + 11, items, 64);
		assert_int_equal(r.n_index, ni);
		for (int j = 0; j < ni; j++)
			assert_int_equal(r.index[j], strtoul(items[j], NULL, 10));
		const char *tl = strstr(t, "TypeList [");
		assert_non_null(tl);
		int nt = parse_list(tl + 10, items, 64);
		assert_int_equal(r.n_type, nt);
		for (int j = 0; j < nt; j++)
			expect_str(r.type[j], items[j], "type filter");
		return 1;
	}
	if (sscanf(t, "handle \"%255[^\"]\", %u value(s):", h, &n) == 2) {
		expect_str(idn_wire_get_bstr(&in, IDN_MAX_HANDLE_LEN), h, "handle");
		assert_int_equal(idn_wire_get_u32(&in), n);
		idn_value_t *vals = calloc(n ? n : 1, sizeof(*vals));
		walk_values(&in, n, vals, n);
		assert_int_equal(in.err, IDN_OK);
		assert_int_equal(idn_wire_avail(&in), 0);
		int j = i + 1, listed = 0;
		for (; j < rl->n && starts(rl->text[j], "      - "); j++) {
			if (starts(rl->text[j], "      - ..."))
				continue; /* "values 3 to 19 have the same layout" */
			fact_value(rl->text[j], vals, n);
			listed++;
		}
		assert_true(listed > 0 || n == 0);
		free(vals);
		return j - i;
	}
	if (sscanf(t, "handle \"%255[^\"]\", indexes [", h) == 1 && strstr(t, "indexes [")) {
		expect_str(idn_wire_get_bstr(&in, IDN_MAX_HANDLE_LEN), h, "handle");
		int ni = parse_list(strstr(t, "indexes [") + 9, items, 64);
		assert_int_equal(idn_wire_get_u32(&in), ni);
		for (int j = 0; j < ni; j++)
			assert_int_equal(idn_wire_get_u32(&in), strtoul(items[j], NULL, 10));
		assert_int_equal(in.err, IDN_OK);
		assert_int_equal(idn_wire_avail(&in), 0);
		return 1;
	}
	if (sscanf(t, "handle \"%255[^\"]\"%n", h, &used) == 1 && t[used] == 0) {
		idn_bytes_t hb;
		assert_int_equal(idn_handle_body_decode(body.p, body.len, &hb), IDN_OK);
		expect_str(hb, h, "handle");
		return 1;
	}
	if (sscanf(t, "created handle \"%255[^\"]\"", h) == 1) {
		idn_bytes_t hb;
		assert_int_equal(idn_handle_body_decode(body.p, body.len, &hb), IDN_OK);
		expect_str(hb, h, "created handle");
		return 1;
	}
	if (starts(t, "error message ")) {
		idn_bytes_t msg;
		assert_int_equal(idn_error_body_decode(body.p, body.len, &msg), IDN_OK);
		if (strcmp(t, "error message (empty, length 0)") == 0) {
			assert_int_equal(body.len, 4);
			assert_int_equal(msg.len, 0);
		} else {
			assert_int_equal(sscanf(t, "error message \"%255[^\"]\"", h), 1);
			expect_str(msg, h, "error message");
			assert_int_equal(body.len, 4 + msg.len);
		}
		return 1;
	}
	if (sscanf(t, "nonce %32[0-9a-f] (%u bytes)", l1, &n) == 2) {
		idn_bytes_t nonce = idn_wire_get_bstr(&in, 64);
		assert_int_equal(in.err, IDN_OK);
		assert_int_equal(nonce.len, n);
		assert_true(hex_eq(nonce, l1));
		assert_int_equal(idn_wire_avail(&in), 0);
		return 1;
	}
	if (sscanf(t, "AuthType \"%255[^\"]\", KeyHandle \"%511[^\"]\", KeyIndex %u, "
		   "ChallengeResponse %u bytes", h, l1, &k, &n) == 4) {
		expect_str(idn_wire_get_bstr(&in, 64), h, "auth type");
		expect_str(idn_wire_get_bstr(&in, IDN_MAX_HANDLE_LEN), l1, "key handle");
		assert_int_equal(idn_wire_get_u32(&in), k);
		idn_bytes_t ans = idn_wire_get_bstr(&in, 4096);
		assert_int_equal(in.err, IDN_OK);
		assert_int_equal(ans.len, n);
		assert_int_equal(idn_wire_avail(&in), 0);
		/* The next line describes the answer field. */
		assert_true(i + 1 < rl->n);
		const char *a = rl->text[i + 1];
		idn_wire_t aw;
		idn_wire_init_ro(&aw, ans.p, ans.len);
		char salt[40], mac[48], sig[600], hash[16];
		unsigned iter, bits;
		if (sscanf(a, "      answer code 0x22 (PBKDF2-HMAC-SHA1 then HMAC-SHA1): salt %39[0-9a-f], "
			   "iterations %u, keyBits %u, MAC %47[0-9a-f]", salt, &iter, &bits, mac) == 4) {
			assert_int_equal(idn_wire_get_u8(&aw), 0x22);
			assert_true(hex_eq(idn_wire_get_bstr(&aw, 64), salt));
			assert_int_equal(idn_wire_get_u32(&aw), iter);
			assert_int_equal(idn_wire_get_u32(&aw), bits);
			assert_true(hex_eq(idn_wire_get_bstr(&aw, 64), mac));
		} else if (sscanf(a, "      answer: hash \"%15[^\"]\", signature %u bytes %599[0-9a-f]",
				  hash, &n, sig) == 3) {
			expect_str(idn_wire_get_bstr(&aw, 64), hash, "answer hash");
			idn_bytes_t s = idn_wire_get_bstr(&aw, 4096);
			assert_int_equal(s.len, n);
			assert_true(hex_eq(s, sig));
		} else {
			fail_msg("unparsed README answer: %s", a);
		}
		assert_int_equal(aw.err, IDN_OK);
		assert_int_equal(idn_wire_avail(&aw), 0);
		return 2;
	}
	if (starts(t, "SiteInfo:")) {
		fact_site(t, body);
		return 1;
	}
	if (sscanf(t, "%u handle(s): %n", &n, &used) == 1) {
		assert_int_equal(idn_wire_get_u32(&in), n);
		const char *p = t + used;
		for (unsigned j = 0; j < n; j++) {
			size_t l = strcspn(p, ",");
			char *name = strndup(p, l);
			expect_str(idn_wire_get_bstr(&in, IDN_MAX_HANDLE_LEN), name, "listed handle");
			free(name);
			p += l;
			if (*p == ',')
				p += 2;
		}
		assert_int_equal(*p, 0);
		assert_int_equal(in.err, IDN_OK);
		assert_int_equal(idn_wire_avail(&in), 0);
		return 1;
	}
	fail_msg("unknown README body form: %s", t);
	return 1;
}

/* "  - credential: length N[: version 0, ... signature S bytes]" */
static void fact_credential(const char *t, const idn_msg_t *m)
{
	unsigned n;
	assert_int_equal(sscanf(t, "  - credential: length %u", &n), 1);
	assert_true(m->has_cred);
	assert_int_equal(m->cred.len, n);
	stats.facts++;
	if (n == 0)
		return;
	unsigned ver, res, opt, sidx, silen, slen;
	char type[32], alg[32];
	int got = sscanf(t, "  - credential: length %*u: version %u, reserved %u, options %u, "
			 "signer handle (empty), signer index/session counter %u, type \"%31[^\"]\", "
			 "signedInfo length %u, digest alg \"%31[^\"]\", signature %u bytes",
			 &ver, &res, &opt, &sidx, type, &silen, alg, &slen);
	if (got != 8)
		fail_msg("unparsed README credential (%d): %s", got, t);
	idn_wire_t c;
	idn_wire_init_ro(&c, m->cred.p, m->cred.len);
	assert_int_equal(idn_wire_get_u8(&c), ver);
	assert_int_equal(idn_wire_get_u8(&c), res);
	assert_int_equal(idn_wire_get_u16(&c), opt);
	assert_int_equal(idn_wire_get_bstr(&c, 64).len, 0);
	assert_int_equal(idn_wire_get_u32(&c), sidx);
	expect_str(idn_wire_get_bstr(&c, 64), type, "credential type");
	assert_int_equal(idn_wire_get_u32(&c), silen);
	expect_str(idn_wire_get_bstr(&c, 64), alg, "credential digest alg");
	assert_int_equal(idn_wire_get_bstr(&c, 4096).len, slen);
	assert_int_equal(c.err, IDN_OK);
	assert_int_equal(idn_wire_avail(&c), 0);
}

/* Every README fact about one whole message. */
static void readme_check_message(const rd_line_t *rl, const idn_msg_t *m)
{
	idn_bytes_t body = m->body;
	bool saw_header = false, saw_cred = false;
	for (int i = 1; i < rl->n;) {
		const char *t = rl->text[i];
		if (starts(t, "  - OpCode ")) {
			fact_header(t, m);
			saw_header = true;
			i++;
		} else if (starts(t, "  - request digest: ")) {
			unsigned alg;
			char hex[80];
			assert_int_equal(sscanf(t, "  - request digest: alg %u (%*[^)]) %79[0-9a-f]", &alg,
						hex), 2);
			uint8_t a;
			idn_bytes_t dg;
			size_t skip;
			assert_int_equal(idn_digest_decode(body.p, body.len, &a, &dg, &skip), IDN_OK);
			assert_int_equal(a, alg);
			assert_true(hex_eq(dg, hex));
			body.p += skip;
			body.len -= (uint32_t)skip;
			stats.facts++;
			i++;
		} else if (starts(t, "  - body: ")) {
			i += fact_body(rl, i, m, body);
		} else if (starts(t, "  - credential: ")) {
			fact_credential(t, m);
			saw_cred = true;
			i++;
		} else if (starts(t, "      check: ")) {
			/* The README's own crypto recomputations all passed. */
			assert_true(strstr(t, "-> OK") || strstr(t, "-> MATCH"));
			i++;
		} else if (starts(t, "  - reassembled ")) {
			i++;
		} else {
			fail_msg("unknown README line: %s", t);
		}
	}
	assert_true(saw_header);
	assert_true(saw_cred);
	if (m->hdr.body_len == 0)
		assert_int_equal(body.len, 0);
}

static void readme_line_hook(const tu_line_t *l, int k, const idn_msg_t *m, const void *ctx)
{
	const rd_line_t *rl = readme_line(ctx, k);
	if (!rl)
		fail_msg("line %d is not in the README", k);
	fact_envelope(rl->text[0], l->dir, l->bytes, l->len);
	stats.readme_lines++;
}

static void readme_msg_hook(const tu_line_t *l, int k, const idn_msg_t *m, const void *ctx)
{
	readme_check_message(readme_line(ctx, k), m);
}

static void test_cnri_captures(void **s)
{
	readme_t r;
	readme_load(&r);
	char names[64][256];
	int n = list_hex("vectors", names, 64);
	assert_true(n >= 29);
	int lines = 0;
	memset(&stats, 0, sizeof(stats));
	for (int i = 0; i < n; i++) {
		const rd_file_t *f = readme_file(&r, names[i]);
		if (!f)
			fail_msg("%s is not described in vectors/README.md", names[i]);
		char rel[320];
		snprintf(rel, sizeof(rel), "vectors/%.255s", names[i]);
		int got = walk_file(rel, readme_msg_hook, readme_line_hook, f);
		/* The README decodes every line, no more, no less. */
		assert_int_equal(got, f->n_lines);
		assert_int_equal(f->n, f->n_lines);
		lines += got;
	}
	assert_int_equal(r.n, n);
	print_message("%d files, %d lines, %d messages, %d values (%d HS_SITE, %d HS_ADMIN, "
		      "%d HS_PUBKEY), %d README facts checked\n",
		      n, lines, stats.messages, stats.values, stats.sites, stats.admins,
		      stats.pubkeys, stats.facts);
	assert_int_equal(stats.readme_lines, lines);
	assert_true(stats.messages >= 80);
	assert_true(stats.sites >= 4);
	readme_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cnri_captures),
	};
	return cmocka_run_group_tests_name("proto/captures", tests, NULL, NULL);
}
