/* cmd_resolve.c - `idnode resolve`: resolve a handle over UDP or TCP and print its values. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli/cli.h"
#include "client/client.h"
#include "proto/cred.h"
#include "proto/json.h"
#include "proto/record.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: idnode resolve HANDLE [--server=HOST:PORT] [--udp|--tcp] [--type=T ...]\n"
		"                     [--index=I ...] [--json] [--timeout=MS] [--auth] [--all]\n"
		"                     [--certify]\n"
		"\n"
		"Resolve HANDLE with a Handle protocol resolution request (OC 1) and print\n"
		"its values one per line, as CNRI's hdl-qresolve does:\n"
		"   index=1 type=URL rwr- \"https://example.com/\"\n"
		"A bare prefix (88.100.12) resolves its prefix handle 0.NA/88.100.12.\n"
		"\n"
		"Options:\n"
		"  --server=HOST:PORT  server to ask (default 127.0.0.1:2641)\n"
		"  --udp, --tcp        transport (default UDP, with CNRI's retries, then TCP when\n"
		"                      the answer is RC 2, e.g. too large for UDP; --udp: no TCP)\n"
		"  --type=T            only values of type T (repeatable; 'URL.' = URL and subtypes)\n"
		"  --index=I           only the value at index I (repeatable)\n"
		"  --json              print the answer as CNRI's REST API JSON\n"
		"  --timeout=MS        give up after MS milliseconds (default 5000)\n"
		"  --auth              set the AT flag (authoritative answer wanted)\n"
		"  --all               clear the public-only flag\n"
		"  --certify           ask for a signed answer (CT) and check its signature\n"
		"                      with the site key from the server's get-site-info\n"
		"\n"
		"Exit status: 0 values printed, 1 error answer or no answer, 2 usage error.\n");
}

static const char *rc_text(uint32_t rc)
{
	switch (rc) {
	case IDN_RC_SUCCESS: return "success";
	case IDN_RC_ERROR: return "server error";
	case IDN_RC_SERVER_TOO_BUSY: return "server too busy";
	case IDN_RC_PROTOCOL_ERROR: return "protocol error";
	case IDN_RC_OPERATION_NOT_SUPPORTED: return "operation not supported";
	case IDN_RC_HANDLE_NOT_FOUND: return "handle not found";
	case IDN_RC_INVALID_HANDLE: return "invalid handle";
	case IDN_RC_VALUES_NOT_FOUND: return "values not found";
	case IDN_RC_SERVER_NOT_RESP: return "server not responsible for this handle";
	case IDN_RC_SERVICE_REFERRAL: return "service referral";
	case IDN_RC_PREFIX_REFERRAL: return "prefix referral";
	case IDN_RC_AUTHENTICATION_NEEDED: return "authentication needed";
	case IDN_RC_REQUEST_LIMIT_DAILY: return "daily request limit reached";
	default: return "error";
	}
}

/* CNRI prints data as text unless it "looks like binary", then as hex. */
static bool looks_binary(idn_bytes_t d)
{
	for (uint32_t i = 0; i < d.len; i++) {
		uint8_t c = d.p[i];
		if (c <= 0x08 || (c >= 0x14 && c <= 0x1f) || c == 0x7f)
			return true;
	}
	return false;
}

static void print_value(const idn_value_t *v)
{
	printf(" index=%u type=%.*s %c%c%c%c \"", v->index, (int)v->type.len,
	       (const char *)v->type.p, v->perms & IDN_PERM_ADMIN_READ ? 'r' : '-',
	       v->perms & IDN_PERM_ADMIN_WRITE ? 'w' : '-',
	       v->perms & IDN_PERM_PUBLIC_READ ? 'r' : '-',
	       v->perms & IDN_PERM_PUBLIC_WRITE ? 'w' : '-');
	if (looks_binary(v->data)) {
		for (uint32_t i = 0; i < v->data.len; i++)
			printf("%02X", v->data.p[i]);
	} else {
		fwrite(v->data.p, 1, v->data.len, stdout);
	}
	printf("\"\n");
}

/* The server's site record (get-site-info), copied out of the client's
 * buffer: its servers' public keys check a certified answer. */
static int fetch_site(idn_client_t *c, uint8_t **site, size_t *site_len)
{
	idn_envelope_t env = { .major = IDN_PROTO_MAJOR, .minor = IDN_PROTO_MINOR,
			       .sugg_major = IDN_PROTO_MAJOR, .sugg_minor = IDN_PROTO_MINOR,
			       .request_id = idn_client_request_id(c) };
	idn_header_t hdr = { .opcode = IDN_OC_GET_SITE_INFO,
			     .opflag = IDN_OF_REC | IDN_OF_CA | IDN_OF_PO, .site_serial = 0xffff,
			     .expiration = (uint32_t)time(NULL) + 43200 };
	uint8_t req[64];
	idn_wire_t w;
	idn_wire_init(&w, req, sizeof(req));
	size_t start = idn_msg_begin(&w, &env, &hdr);
	idn_wire_put_str(&w, "/");
	int ret = idn_msg_end(&w, start, true);
	const uint8_t *resp;
	size_t rlen;
	if (!ret)
		ret = idn_client_send(c, req, idn_wire_offset(&w), &resp, &rlen);
	if (ret)
		return ret;
	idn_msg_t m;
	if (idn_msg_decode(resp, rlen, &m) != IDN_OK)
		return IDN_EPROTO;
	if (m.hdr.rcode != IDN_RC_SUCCESS)
		return IDN_ERESPONSE;
	size_t skip = 0;
	if (m.hdr.opflag & IDN_OF_RD) {
		uint8_t alg;
		idn_bytes_t dg;
		if (idn_digest_decode(m.body.p, m.body.len, &alg, &dg, &skip) != IDN_OK)
			return IDN_EPROTO;
	}
	*site_len = m.body.len - skip;
	*site = malloc(*site_len ? *site_len : 1);
	if (!*site)
		return IDN_ENOMEM;
	memcpy(*site, m.body.p + skip, *site_len);
	return IDN_OK;
}

/* Does the answer carry a signature of one of the site's servers? (Any
 * server of the site speaks for it.) IDN_OK, or why not. */
static int check_certified(const idn_msg_t *m, const uint8_t *site, size_t site_len)
{
	idn_site_t *si = malloc(sizeof(*si));
	if (!si)
		return IDN_ENOMEM;
	int ret = idn_site_decode(site, site_len, si);
	/* The message as received: idn_msg_decode() borrowed it whole. */
	const uint8_t *raw = m->hb.p - IDN_ENVELOPE_LEN;
	size_t len = IDN_ENVELOPE_LEN + m->env.message_len;
	if (ret == IDN_OK) {
		ret = si->n_servers ? IDN_EACCES : IDN_ENOENT;
		/* A wrong signature may be another server's: try the next key. */
		for (uint32_t i = 0; i < si->n_servers && ret == IDN_EACCES; i++) {
			const idn_bytes_t *k = &si->servers[i].pubkey;
			ret = idn_cred_verify(raw, len, k->p, k->len);
		}
	}
	free(si);
	return ret;
}

int cmd_resolve(int argc, char **argv)
{
	const char *server = "127.0.0.1:2641", *handle = NULL, *v;
	int transport = IDN_CLIENT_UDP, timeout = 5000;
	bool udp_only = false;
	bool json = false, certify = false;
	idn_resolve_opts_t o;
	memset(&o, 0, sizeof(o));
	o.opflag = IDN_OF_REC | IDN_OF_CA | IDN_OF_PO;

	for (int i = 1; i < argc; i++) {
		if (cli_flag(argv, i, "help") || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if ((v = cli_opt(argc, argv, &i, "server"))) {
			server = v;
		} else if (cli_flag(argv, i, "udp")) {
			transport = IDN_CLIENT_UDP;
			udp_only = true; /* --udp: UDP only, no fallback */
		} else if (cli_flag(argv, i, "tcp")) {
			transport = IDN_CLIENT_TCP;
		} else if (cli_flag(argv, i, "json")) {
			json = true;
		} else if (cli_flag(argv, i, "auth")) {
			o.opflag |= IDN_OF_AT;
		} else if (cli_flag(argv, i, "all")) {
			o.opflag &= ~IDN_OF_PO;
		} else if (cli_flag(argv, i, "certify")) {
			certify = true;
			o.opflag |= IDN_OF_CT;
		} else if ((v = cli_opt(argc, argv, &i, "type"))) {
			if (o.n_types == IDN_MAX_FILTER) {
				fprintf(stderr, "idnode resolve: at most %d --type options\n",
					IDN_MAX_FILTER);
				return 2;
			}
			o.types[o.n_types++] = v;
		} else if ((v = cli_opt(argc, argv, &i, "index"))) {
			char *end;
			long n = strtol(v, &end, 10);
			if (*v == 0 || *end || n < 0 || n > 0x7fffffffL ||
			    o.n_indexes == IDN_MAX_FILTER) {
				fprintf(stderr, "idnode resolve: bad --index '%s'\n", v);
				return 2;
			}
			o.indexes[o.n_indexes++] = (uint32_t)n;
		} else if ((v = cli_opt(argc, argv, &i, "timeout"))) {
			timeout = atoi(v);
			if (timeout <= 0) {
				fprintf(stderr, "idnode resolve: bad --timeout '%s'\n", v);
				return 2;
			}
		} else if (argv[i][0] == '-' && argv[i][1] != 0) {
			fprintf(stderr, "idnode resolve: unknown option '%s' (see --help)\n", argv[i]);
			return 2;
		} else if (!handle) {
			handle = argv[i];
		} else {
			fprintf(stderr, "idnode resolve: one handle at a time\n");
			return 2;
		}
	}
	if (!handle) {
		usage(stderr);
		return 2;
	}

	idn_client_t *c;
	int ret = idn_client_open(server, transport, timeout, &c);
	if (ret) {
		fprintf(stderr, "idnode resolve: bad server address '%s'\n", server);
		return 2;
	}
	uint8_t *site = NULL;
	size_t site_len = 0;
	if (certify && (ret = fetch_site(c, &site, &site_len)) != IDN_OK) {
		fprintf(stderr, "idnode resolve: no site information from %s to check with: %s\n",
			server, idn_strerror(ret));
		idn_client_close(c);
		return 1;
	}
	idn_msg_t m;
	ret = idn_client_resolve(c, handle, &o, &m);
	/* As CNRI's resolver does: RC 2 over UDP (e.g. "Answer too large for
	 * UDP") means try the next protocol, TCP. */
	if (ret == IDN_OK && m.hdr.rcode == IDN_RC_ERROR && transport == IDN_CLIENT_UDP &&
	    !udp_only) {
		idn_client_t *t;
		if (idn_client_open(server, IDN_CLIENT_TCP, timeout, &t) == IDN_OK) {
			idn_client_close(c);
			c = t;
			ret = idn_client_resolve(c, handle, &o, &m);
		}
	}
	if (ret) {
		fprintf(stderr, "idnode resolve: %s: no answer from %s: %s\n", handle, server,
			idn_strerror(ret));
		free(site);
		idn_client_close(c);
		return 1;
	}
	if (certify) {
		ret = check_certified(&m, site, site_len);
		free(site);
		if (ret) {
			fprintf(stderr, "idnode resolve: %s: the answer is not certified by %s: %s\n",
				handle, server,
				ret == IDN_ENOENT ? "it is unsigned"
				: ret == IDN_EACCES ? "bad signature" : idn_strerror(ret));
			idn_client_close(c);
			return 1;
		}
		if (!json)
			fprintf(stderr, "idnode resolve: signature verified with the site key\n");
	}

	/* The values follow the optional request digest, the echoed handle and a count. */
	idn_bytes_t body = m.body, echoed = { 0 };
	size_t skip = 0;
	if (m.hdr.opflag & IDN_OF_RD) {
		uint8_t alg;
		idn_bytes_t dg;
		if (idn_digest_decode(body.p, body.len, &alg, &dg, &skip) != IDN_OK) {
			fprintf(stderr, "idnode resolve: bad request digest in the answer\n");
			idn_client_close(c);
			return 1;
		}
	}
	idn_wire_t w;
	idn_wire_init_ro(&w, body.p + skip, body.len - skip);
	int rc = 1;
	json_t *out = json ? json_object() : NULL;
	if (out)
		json_object_set_new(out, "responseCode", json_integer(m.hdr.rcode));
	if (m.hdr.rcode != IDN_RC_SUCCESS) {
		idn_bytes_t msg = { 0 };
		idn_error_body_decode(w.pos, idn_wire_avail(&w), &msg);
		if (out) {
			json_object_set_new(out, "handle", json_string(handle));
			if (msg.len)
				json_object_set_new(out, "message",
						    json_stringn((const char *)msg.p, msg.len));
		} else {
			fprintf(stderr, "idnode resolve: %s: %s (RC %u)%s%.*s\n", handle,
				rc_text(m.hdr.rcode), m.hdr.rcode, msg.len ? ": " : "", (int)msg.len,
				(const char *)msg.p);
		}
		goto done;
	}
	echoed = idn_wire_get_bstr(&w, IDN_MAX_BSTR);
	uint32_t n = idn_wire_get_u32(&w);
	if (w.err || n > IDN_MAX_VALUES) {
		fprintf(stderr, "idnode resolve: malformed answer\n");
		goto done;
	}
	json_t *vals = out ? json_array() : NULL;
	if (out) {
		json_object_set_new(out, "handle", json_stringn((const char *)echoed.p, echoed.len));
		json_object_set_new(out, "values", vals);
	} else {
		printf("%.*s: %u value%s\n", (int)echoed.len, (const char *)echoed.p, n,
		       n == 1 ? "" : "s");
	}
	for (uint32_t i = 0; i < n; i++) {
		idn_value_t val;
		if (idn_value_decode(&w, &val) != IDN_OK) {
			fprintf(stderr, "idnode resolve: malformed value %u in the answer\n", i + 1);
			goto done;
		}
		if (vals)
			json_array_append_new(vals, idn_value_to_json(&val));
		else
			print_value(&val);
	}
	rc = 0;
done:
	if (out) {
		json_dumpf(out, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(out);
	}
	idn_client_close(c);
	return rc;
}
