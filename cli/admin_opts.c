/* admin_opts.c - options and error reporting shared by the commands that talk to a node as an admin. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

void cli_admin_init(cli_admin_opts_t *o, const char *cmd)
{
	memset(o, 0, sizeof(*o));
	o->cmd = cmd;
	o->server = "127.0.0.1:2641";
	o->timeout_ms = 10000;
}

int cli_admin_opt(cli_admin_opts_t *o, int argc, char **argv, int *i)
{
	const char *v;
	if ((v = cli_opt(argc, argv, i, "server"))) {
		o->server = v;
	} else if ((v = cli_opt(argc, argv, i, "auth"))) {
		o->auth_spec = v;
	} else if ((v = cli_opt(argc, argv, i, "key"))) {
		o->key_file = v;
	} else if ((v = cli_opt(argc, argv, i, "secret-file"))) {
		o->secret_file = v;
	} else if ((v = cli_opt(argc, argv, i, "timeout"))) {
		char *end;
		long n = strtol(v, &end, 10);
		if (*v == 0 || *end || n <= 0 || n > 3600000) {
			fprintf(stderr, "idnode %s: bad --timeout '%s'\n", o->cmd, v);
			return -1;
		}
		o->timeout_ms = (int)n;
	} else if (cli_flag(argv, *i, "json")) {
		o->json = true;
	} else {
		return 0;
	}
	return 1;
}

void cli_admin_usage(FILE *out)
{
	fprintf(out,
		"  --server=HOST:PORT   node to talk to over TCP (default 127.0.0.1:2641)\n"
		"  --auth=INDEX:HANDLE  identity to authenticate as, CNRI order\n"
		"                       (300:0.NA/88.100.12; HANDLE:INDEX is accepted too)\n"
		"  --key=FILE           PEM private key of the identity's HS_PUBKEY value\n"
		"  --secret-file=FILE   the identity's HS_SECKEY secret (final newline ignored)\n"
		"  --timeout=MS         give up on an answer after MS milliseconds (default 10000)\n"
		"  --json               print results as JSON (CNRI REST API shapes)\n");
}

int cli_admin_auth(const cli_admin_opts_t *o, idn_auth_t *a)
{
	memset(a, 0, sizeof(*a));
	if (!o->auth_spec) {
		fprintf(stderr, "idnode %s: --auth=INDEX:HANDLE is required (see --help)\n", o->cmd);
		return 2;
	}
	if (idn_auth_parse_id(a, o->auth_spec)) {
		fprintf(stderr,
			"idnode %s: bad --auth '%s': expected INDEX:HANDLE, e.g. 300:0.NA/88.100.12\n",
			o->cmd, o->auth_spec);
		return 2;
	}
	if (!o->key_file == !o->secret_file) {
		fprintf(stderr, "idnode %s: give exactly one of --key=FILE and --secret-file=FILE\n",
			o->cmd);
		idn_auth_free(a);
		return 2;
	}
	int ret = o->key_file ? idn_auth_load_key(a, o->key_file)
			      : idn_auth_load_secret(a, o->secret_file);
	if (ret) {
		const char *f = o->key_file ? o->key_file : o->secret_file;
		const char *why = ret == IDN_ECRYPTO ? "not a PEM private key"
				  : ret == IDN_EINVAL ? "empty or over 4 KiB"
						      : idn_strerror(ret);
		fprintf(stderr, "idnode %s: %s: %s\n", o->cmd, f, why);
		idn_auth_free(a);
		return 2;
	}
	return 0;
}

int cli_admin_connect(const cli_admin_opts_t *o, idn_client_t **c)
{
	if (idn_client_open(o->server, IDN_CLIENT_TCP, o->timeout_ms, c)) {
		fprintf(stderr, "idnode %s: bad --server address '%s'\n", o->cmd, o->server);
		return 2;
	}
	return 0;
}

void cli_json_print(json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(j);
}

void cli_admin_fail(const cli_admin_opts_t *o, const char *what, const idn_msg_t *m)
{
	idn_bytes_t msg = idn_resp_message(m);
	if (o->json) {
		json_t *j = json_object();
		json_object_set_new(j, "responseCode", json_integer(m->hdr.rcode));
		json_object_set_new(j, "handle", json_string(what));
		if (msg.len)
			json_object_set_new(j, "message", json_stringn((const char *)msg.p, msg.len));
		cli_json_print(j);
		return;
	}
	fprintf(stderr, "idnode: %s %s: %u %s%s%.*s\n", o->cmd, what, m->hdr.rcode,
		idn_rc_name(m->hdr.rcode), msg.len ? ": " : "", (int)msg.len, (const char *)msg.p);
}

void cli_admin_error(const cli_admin_opts_t *o, const char *what, int err)
{
	const char *why = err == IDN_EPROTO ? "bad answer (or the connection was closed)"
					    : idn_strerror(err);
	fprintf(stderr, "idnode: %s %s: no answer from %s: %s\n", o->cmd, what, o->server, why);
}
