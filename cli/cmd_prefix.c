/* cmd_prefix.c - `idnode prefix create|show`: give an enterprise its prefix on the node (the node administrator's job). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli/cli.h"
#include "proto/pkey.h"
#include "proto/record.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: idnode prefix create PREFIX --admin-pubkey=FILE.pem [--quota=N] [--daily-quota=N]\n"
		"                            " CLI_ADMIN_SYNOPSIS "\n"
		"       idnode prefix show PREFIX [--server=HOST:PORT] [--json]\n"
		"\n"
		"create: as the node administrator (--auth/--key), create the prefix handle\n"
		"0.NA/PREFIX (OC 100) of an enterprise with:\n"
		"  index 100 HS_ADMIN  all permissions, admin 300:0.NA/PREFIX (the enterprise)\n"
		"  index 101 HS_ADMIN  all permissions, admin = the --auth identity\n"
		"  index 300 HS_PUBKEY the enterprise's public key (from --admin-pubkey)\n"
		"  index 400 IDNODE_QUOTA \"identifiers=N;daily=M\" (admin read/write only),\n"
		"            when a quota is given\n"
		"The node adds its own HS_SITE value.\n"
		"show: resolve 0.NA/PREFIX and print its public values.\n"
		"\n"
		"Options:\n"
		"  --admin-pubkey=FILE  the enterprise's public key, PEM (idnode keygen writes\n"
		"                       it as *.pub.pem); a private key PEM works too\n"
		"  --quota=N            most identifiers the prefix may hold\n"
		"  --daily-quota=N      most identifiers it may register a day\n");
	cli_admin_usage(out);
	fprintf(out, "\nExit status: 0 success, 1 error answer or no answer, 2 usage error.\n");
}

static bool parse_count(const char *v, unsigned long long *out)
{
	char *end;
	if (*v < '0' || *v > '9')
		return false;
	*out = strtoull(v, &end, 10);
	return *end == 0;
}

/* The HS_PUBKEY blob of a public (or private) key PEM file. */
static int pubkey_blob(const char *path, idn_wire_t *w)
{
	idn_pkey_t *k;
	int ret = idn_pkey_load_public_pem(path, &k);
	if (ret == IDN_ECRYPTO && idn_pkey_load_pem(path, &k) == IDN_OK)
		ret = IDN_OK;
	if (ret)
		return ret;
	ret = idn_pkey_hs_pubkey(k, w);
	idn_pkey_free(k);
	return ret ? ret : w->err;
}

static int prefix_create(int argc, char **argv)
{
	cli_admin_opts_t o;
	cli_admin_init(&o, "prefix create");
	const char *prefix = NULL, *pubkey = NULL, *v;
	unsigned long long quota = 0, daily = 0;
	bool has_quota = false, has_daily = false;
	for (int i = 2; i < argc; i++) {
		int t;
		if (cli_flag(argv, i, "help") || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if ((t = cli_admin_opt(&o, argc, argv, &i))) {
			if (t < 0)
				return 2;
		} else if ((v = cli_opt(argc, argv, &i, "admin-pubkey"))) {
			pubkey = v;
		} else if ((v = cli_opt(argc, argv, &i, "quota"))) {
			if (!(has_quota = parse_count(v, &quota))) {
				fprintf(stderr, "idnode prefix create: bad --quota '%s'\n", v);
				return 2;
			}
		} else if ((v = cli_opt(argc, argv, &i, "daily-quota"))) {
			if (!(has_daily = parse_count(v, &daily))) {
				fprintf(stderr, "idnode prefix create: bad --daily-quota '%s'\n", v);
				return 2;
			}
		} else if (argv[i][0] == '-' && argv[i][1] != 0) {
			fprintf(stderr, "idnode prefix create: unknown option '%s' (see --help)\n",
				argv[i]);
			return 2;
		} else if (!prefix) {
			prefix = argv[i];
		} else {
			fprintf(stderr, "idnode prefix create: one prefix at a time\n");
			return 2;
		}
	}
	if (!prefix || !pubkey) {
		usage(stderr);
		return 2;
	}
	if (strncasecmp(prefix, "0.NA/", 5) == 0)
		prefix += 5;
	if (!*prefix || strchr(prefix, '/') || strlen(prefix) > 200) {
		fprintf(stderr, "idnode prefix create: bad prefix '%s'\n", prefix);
		return 2;
	}
	char na[256];
	snprintf(na, sizeof(na), "0.NA/%s", prefix);

	uint8_t blob[4096], vals[8192];
	idn_wire_t bw, vw;
	idn_wire_init(&bw, blob, sizeof(blob));
	int ret = pubkey_blob(pubkey, &bw);
	if (ret) {
		fprintf(stderr, "idnode prefix create: %s: %s\n", pubkey,
			ret == IDN_ECRYPTO ? "not a PEM public key" : idn_strerror(ret));
		return 2;
	}
	idn_auth_t a;
	int rc = cli_admin_auth(&o, &a);
	if (rc)
		return rc;

	uint32_t now = (uint32_t)time(NULL), n = 0;
	idn_wire_init(&vw, vals, sizeof(vals));
	idn_put_admin_value(&vw, 100, IDN_ADM_ALL, na, 300, now);
	idn_put_admin_value(&vw, 101, IDN_ADM_ALL, a.handle, a.index, now);
	n = 2;
	idn_value_t pk = { .index = 300, .timestamp = now, .ttl = 86400, .perms = IDN_PERM_DEFAULT,
			   .type = { (const uint8_t *)"HS_PUBKEY", 9 },
			   .data = { blob, (uint32_t)idn_wire_offset(&bw) } };
	idn_value_encode(&vw, &pk);
	n++;
	if (has_quota || has_daily) {
		char q[96] = "";
		if (has_quota)
			snprintf(q, sizeof(q), "identifiers=%llu", quota);
		if (has_daily)
			snprintf(q + strlen(q), sizeof(q) - strlen(q), "%sdaily=%llu",
				 has_quota ? ";" : "", daily);
		/* Only administrators read or change the quota. */
		idn_value_t qv = { .index = 400, .timestamp = now, .ttl = 86400,
				   .perms = IDN_PERM_ADMIN_READ | IDN_PERM_ADMIN_WRITE,
				   .type = { (const uint8_t *)"IDNODE_QUOTA", 12 },
				   .data = { (const uint8_t *)q, (uint32_t)strlen(q) } };
		idn_value_encode(&vw, &qv);
		n++;
	}
	idn_client_t *c = NULL;
	uint8_t req[16384];
	idn_wire_t w;
	idn_wire_init(&w, req, sizeof(req));
	if ((rc = cli_admin_connect(&o, &c)))
		goto out;
	rc = 1;
	idn_req_opts_t ro = { .request_id = idn_client_request_id(c) };
	ret = vw.err ? vw.err
		     : idn_build_values_req(&w, IDN_OC_CREATE_HANDLE, na, n,
					    (idn_bytes_t){ vals, (uint32_t)idn_wire_offset(&vw) }, &ro);
	idn_msg_t m;
	if (!ret)
		ret = idn_client_admin(c, &a, req, idn_wire_offset(&w), &m);
	if (ret) {
		cli_admin_error(&o, na, ret);
	} else if (m.hdr.rcode != IDN_RC_SUCCESS) {
		cli_admin_fail(&o, na, &m);
	} else {
		rc = 0;
		if (o.json) {
			json_t *j = json_object();
			json_object_set_new(j, "responseCode", json_integer(1));
			json_object_set_new(j, "handle", json_string(na));
			cli_json_print(j);
		} else {
			printf("created %s (admin 300:%s)\n", na, na);
		}
	}
out:
	idn_client_close(c);
	idn_auth_free(&a);
	return rc;
}

int cmd_prefix(int argc, char **argv)
{
	if (argc < 2 || cli_flag(argv, 1, "help") || strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "create") == 0)
		return prefix_create(argc, argv);
	if (strcmp(argv[1], "show") == 0) {
		/* `resolve` with the prefix handle, over TCP: same options, same output. */
		char **args = calloc((size_t)argc + 2, sizeof(char *));
		char na[300];
		if (!args)
			return 1;
		int n = 0;
		args[n++] = "resolve";
		args[n++] = "--tcp";
		for (int i = 2; i < argc; i++) {
			static const char *valued[] = { "--server", "--type", "--index", "--timeout" };
			bool is_value = false;
			for (size_t k = 0; k < 4 && i > 2; k++)
				is_value |= strcmp(argv[i - 1], valued[k]) == 0;
			if (argv[i][0] != '-' && !is_value && strncasecmp(argv[i], "0.NA/", 5) != 0) {
				snprintf(na, sizeof(na), "0.NA/%s", argv[i]);
				args[n++] = na;
			} else {
				args[n++] = argv[i];
			}
		}
		int rc = cmd_resolve(n, args);
		free(args);
		return rc;
	}
	fprintf(stderr, "idnode prefix: unknown subcommand '%s' (create, show)\n", argv[1]);
	return 2;
}
