/* cmd_admin.c - `idnode create|add|modify|remove|delete|list|home|unhome|list-homed`: authenticated admin operations on a node. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "client/reader.h"
#include "proto/record.h"

typedef struct {
	const char *name;
	uint32_t opcode;
	const char *args;         /* synopsis after the name */
	const char *what;         /* description */
	const char *done;         /* past tense for the success line */
} op_t;

static const op_t ops[] = {
	{ "create", IDN_OC_CREATE_HANDLE,
	  "HANDLE --value=INDEX:TYPE:DATA ... [--values-json=FILE] [--overwrite] [--mint] [--no-admin]",
	  "Create HANDLE with the given values (OC 100). An HS_ADMIN value at index 100\n"
	  "naming the --auth identity with all permissions is added unless the values\n"
	  "hold an HS_ADMIN already or --no-admin is given (as CNRI's tools do).\n"
	  "With --mint the node appends a random suffix and the new handle is printed.",
	  "created" },
	{ "add", IDN_OC_ADD_VALUE, "HANDLE --value=INDEX:TYPE:DATA ... [--values-json=FILE] [--overwrite]",
	  "Add values to HANDLE (OC 102); --overwrite replaces values at the same index.",
	  "values added to" },
	{ "modify", IDN_OC_MODIFY_VALUE, "HANDLE --value=INDEX:TYPE:DATA ... [--values-json=FILE]",
	  "Replace the values of HANDLE at the given indexes (OC 104).", "modified" },
	{ "remove", IDN_OC_REMOVE_VALUE, "HANDLE --index=I ...",
	  "Remove the values of HANDLE at the given indexes (OC 103).", "values removed from" },
	{ "delete", IDN_OC_DELETE_HANDLE, "HANDLE", "Delete HANDLE and all its values (OC 101).",
	  "deleted" },
	{ "list", IDN_OC_LIST_HANDLES, "PREFIX",
	  "List the handles under PREFIX (OC 105; 88.100.12 or 0.NA/88.100.12),\n"
	  "one per line.", NULL },
	{ "home", IDN_OC_HOME_NA, "PREFIX",
	  "Make the node responsible for PREFIX (OC 300; node administrators).", "homed" },
	{ "unhome", IDN_OC_UNHOME_NA, "PREFIX",
	  "Stop the node answering for PREFIX (OC 301; node administrators).", "unhomed" },
	{ "list-homed", IDN_OC_LIST_HOMED_NAS, "",
	  "List the prefixes the node is responsible for (OC 302), one per line.", NULL },
};

static void usage(FILE *out, const op_t *op)
{
	fprintf(out, "Usage: idnode %s %s\n         %s\n\n%s\n\nOptions:\n", op->name, op->args,
		CLI_ADMIN_SYNOPSIS, op->what);
	switch (op->opcode) {
	case IDN_OC_CREATE_HANDLE:
	case IDN_OC_ADD_VALUE:
	case IDN_OC_MODIFY_VALUE:
		fprintf(out,
			"  --value=INDEX:TYPE:DATA  a value with text DATA (repeatable; DATA may\n"
			"                       contain ':'); permissions 1110, TTL 86400\n"
			"  --values-json=FILE   more values from a JSON array of values in CNRI's\n"
			"                       REST shape (or {\"values\": [...]}), for binary or\n"
			"                       structured data (HS_ADMIN, HS_VLIST, ...)\n");
		break;
	case IDN_OC_REMOVE_VALUE:
		fprintf(out, "  --index=I            index of a value to remove (repeatable)\n");
		break;
	}
	if (op->opcode == IDN_OC_CREATE_HANDLE || op->opcode == IDN_OC_ADD_VALUE)
		fprintf(out, "  --overwrite          set OVRW: replace what exists\n");
	if (op->opcode == IDN_OC_CREATE_HANDLE)
		fprintf(out, "  --mint               set MINT: the node appends a random suffix\n"
			     "  --no-admin           do not add the HS_ADMIN value\n");
	cli_admin_usage(out);
	fprintf(out, "\nExit status: 0 success, 1 error answer or no answer, 2 usage error.\n");
}

typedef struct {
	bool json;
	json_t *arr;
} list_out_t;

static void print_name(void *arg, idn_bytes_t name)
{
	list_out_t *l = arg;
	if (l->arr)
		json_array_append_new(l->arr, json_stringn((const char *)name.p, name.len));
	else
		printf("%.*s\n", (int)name.len, (const char *)name.p);
}

/* First index from 100 up that no value uses (CNRI's tools put HS_ADMIN at 100). */
static uint32_t free_index(idn_bytes_t vals, uint32_t n)
{
	for (uint32_t want = 100;; want++) {
		idn_wire_t w;
		idn_wire_init_ro(&w, vals.p, vals.len);
		bool used = false;
		for (uint32_t i = 0; i < n && !used; i++) {
			idn_value_t v;
			idn_value_decode(&w, &v);
			used = v.index == want;
		}
		if (!used)
			return want;
	}
}

int cmd_admin(int argc, char **argv)
{
	const op_t *op = NULL;
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strcmp(argv[0], ops[i].name) == 0)
			op = &ops[i];
	if (!op)
		return 2;
	bool takes_values = op->opcode == IDN_OC_CREATE_HANDLE || op->opcode == IDN_OC_ADD_VALUE ||
			    op->opcode == IDN_OC_MODIFY_VALUE;
	cli_admin_opts_t o;
	cli_admin_init(&o, op->name);
	const char *target = NULL, *v;
	uint32_t flags = 0, n_vals = 0, n_idx = 0, now = (uint32_t)time(NULL);
	bool no_admin = false;
	uint32_t *idx = calloc(IDN_MAX_VALUES, sizeof(uint32_t));
	uint8_t *vals = malloc(IDN_MAX_MESSAGE_LEN);
	int rc = 2;
	char err[512];
	idn_wire_t vw;
	if (!idx || !vals)
		goto out;
	idn_wire_init(&vw, vals, IDN_MAX_MESSAGE_LEN - IDN_MAX_HANDLE_LEN - 256);
	for (int i = 1; i < argc; i++) {
		int t;
		if (cli_flag(argv, i, "help") || strcmp(argv[i], "-h") == 0) {
			usage(stdout, op);
			rc = 0;
			goto out;
		} else if ((t = cli_admin_opt(&o, argc, argv, &i))) {
			if (t < 0)
				goto out;
		} else if (takes_values && (v = cli_opt(argc, argv, &i, "value"))) {
			if (idn_value_spec_encode(v, now, &vw, err, sizeof(err))) {
				fprintf(stderr, "idnode %s: --value: %s\n", op->name, err);
				goto out;
			}
			n_vals++;
		} else if (takes_values && (v = cli_opt(argc, argv, &i, "values-json"))) {
			if (idn_values_json_file(v, now, &vw, &n_vals, err, sizeof(err))) {
				fprintf(stderr, "idnode %s: %s\n", op->name, err);
				goto out;
			}
		} else if (op->opcode == IDN_OC_REMOVE_VALUE && (v = cli_opt(argc, argv, &i, "index"))) {
			char *end;
			long n = strtol(v, &end, 10);
			if (*v == 0 || *end || n <= 0 || n > 0x7fffffffL || n_idx == IDN_MAX_VALUES) {
				fprintf(stderr, "idnode %s: bad --index '%s'\n", op->name, v);
				goto out;
			}
			idx[n_idx++] = (uint32_t)n;
		} else if ((op->opcode == IDN_OC_CREATE_HANDLE || op->opcode == IDN_OC_ADD_VALUE) &&
			   cli_flag(argv, i, "overwrite")) {
			flags |= IDN_OF_OVRW;
		} else if (op->opcode == IDN_OC_CREATE_HANDLE && cli_flag(argv, i, "mint")) {
			flags |= IDN_OF_MINT;
		} else if (op->opcode == IDN_OC_CREATE_HANDLE && cli_flag(argv, i, "no-admin")) {
			no_admin = true;
		} else if (argv[i][0] == '-' && argv[i][1] != 0) {
			fprintf(stderr, "idnode %s: unknown option '%s' (see --help)\n", op->name, argv[i]);
			goto out;
		} else if (!target && op->opcode != IDN_OC_LIST_HOMED_NAS) {
			target = argv[i];
		} else {
			fprintf(stderr, "idnode %s: unexpected argument '%s'\n", op->name, argv[i]);
			goto out;
		}
	}
	if (!target && op->opcode != IDN_OC_LIST_HOMED_NAS) {
		usage(stderr, op);
		goto out;
	}
	if (target && (strlen(target) == 0 || strlen(target) > IDN_MAX_HANDLE_LEN)) {
		fprintf(stderr, "idnode %s: bad handle '%s'\n", op->name, target);
		goto out;
	}
	if ((op->opcode == IDN_OC_ADD_VALUE || op->opcode == IDN_OC_MODIFY_VALUE) && n_vals == 0) {
		fprintf(stderr, "idnode %s: give at least one --value or --values-json\n", op->name);
		goto out;
	}
	if (op->opcode == IDN_OC_REMOVE_VALUE && n_idx == 0) {
		fprintf(stderr, "idnode %s: give at least one --index\n", op->name);
		goto out;
	}

	idn_auth_t a;
	if ((rc = cli_admin_auth(&o, &a)))
		goto out;
	idn_bytes_t vb = { vals, (uint32_t)idn_wire_offset(&vw) };
	if (op->opcode == IDN_OC_CREATE_HANDLE && !no_admin &&
	    !idn_values_have_type(vb, n_vals, "HS_ADMIN")) {
		idn_put_admin_value(&vw, free_index(vb, n_vals), IDN_ADM_ALL, a.handle, a.index, now);
		n_vals++;
		vb.len = (uint32_t)idn_wire_offset(&vw);
	}
	rc = 2;
	if (vw.err) {
		fprintf(stderr, "idnode %s: the values do not fit in one request\n", op->name);
		goto out_auth;
	}
	if (takes_values && idn_values_check_indexes(vb, n_vals, err, sizeof(err))) {
		fprintf(stderr, "idnode %s: %s\n", op->name, err);
		goto out_auth;
	}
	idn_client_t *c;
	if ((rc = cli_admin_connect(&o, &c)))
		goto out_auth;

	const char *what = target ? target : "/";
	idn_msg_t m;
	int ret;
	rc = 1;
	if (op->opcode == IDN_OC_LIST_HANDLES || op->opcode == IDN_OC_LIST_HOMED_NAS) {
		list_out_t l = { .json = o.json, .arr = o.json ? json_array() : NULL };
		ret = idn_client_list(c, &a, op->opcode, what, print_name, &l, &m);
		if (ret)
			cli_admin_error(&o, what, ret);
		else if (m.hdr.rcode != IDN_RC_SUCCESS)
			cli_admin_fail(&o, what, &m);
		else
			rc = 0;
		if (l.arr && rc == 0) {
			json_t *j = json_object();
			json_object_set_new(j, "responseCode", json_integer(1));
			json_object_set_new(j, op->opcode == IDN_OC_LIST_HANDLES ? "handles" : "prefixes",
					    l.arr);
			cli_json_print(j);
		} else if (l.arr) {
			json_decref(l.arr);
		}
		goto out_client;
	}

	size_t cap = IDN_REQ_OVERHEAD + strlen(what) + vb.len + 4 * n_idx + 16;
	uint8_t *req = malloc(cap);
	if (!req)
		goto out_client;
	idn_wire_t w;
	idn_wire_init(&w, req, cap);
	idn_req_opts_t ro = { .request_id = idn_client_request_id(c), .opflag = flags };
	if (takes_values)
		ret = idn_build_values_req(&w, op->opcode, what, n_vals, vb, &ro);
	else if (op->opcode == IDN_OC_REMOVE_VALUE)
		ret = idn_build_remove_req(&w, what, n_idx, idx, &ro);
	else
		ret = idn_build_handle_req(&w, op->opcode, what, &ro);
	if (!ret)
		ret = idn_client_admin(c, &a, req, idn_wire_offset(&w), &m);
	free(req);
	if (ret) {
		if (ret == IDN_EPROTO)
			fprintf(stderr, "idnode: %s %s: the node's challenge does not match our request "
					"or its answer does not decode\n", op->name, what);
		else
			cli_admin_error(&o, what, ret);
		goto out_client;
	}
	if (m.hdr.rcode != IDN_RC_SUCCESS) {
		cli_admin_fail(&o, what, &m);
		goto out_client;
	}
	/* CNRI 9 answers a create with the handle created (the minted one). */
	idn_bytes_t body, created = { (const uint8_t *)what, (uint32_t)strlen(what) };
	if (op->opcode == IDN_OC_CREATE_HANDLE && idn_resp_body(&m, &body) == IDN_OK &&
	    body.len >= 4) {
		idn_wire_t bw;
		idn_wire_init_ro(&bw, body.p, body.len);
		idn_bytes_t h = idn_wire_get_bstr(&bw, IDN_MAX_HANDLE_LEN);
		if (!bw.err && h.len)
			created = h;
	}
	if (o.json) {
		json_t *j = json_object();
		json_object_set_new(j, "responseCode", json_integer(1));
		json_object_set_new(j, "handle", json_stringn((const char *)created.p, created.len));
		cli_json_print(j);
	} else {
		printf("%s %.*s\n", op->done, (int)created.len, (const char *)created.p);
	}
	rc = 0;
out_client:
	idn_client_close(c);
out_auth:
	idn_auth_free(&a);
out:
	free(idx);
	free(vals);
	return rc;
}
