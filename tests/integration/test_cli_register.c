/* test_cli_register.c - integration: the idnode registration commands (keygen, prefix, create/add/remove/delete, list, import) against a real idnoded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/util/testutil.h"

static tu_daemon_t D;
static char bin[256], out[65536], cmd[4096];
static char node_auth[512], ent_auth[512];

static int setup(void **state)
{
	const char *extra[] = { "--demo", NULL };
	if (tu_daemon_start(&D, extra) != 0) {
		fprintf(stderr, "idnoded did not become ready (log in %s)\n", D.dir);
		return -1;
	}
	tu_bin("idnode", bin, sizeof(bin));
	snprintf(node_auth, sizeof(node_auth), "--auth=300:0.NA/88.100 --key=%s/data/admin-key.pem "
		 "--server=%s", D.dir, D.server);
	return 0;
}

static int teardown(void **state)
{
	tu_daemon_cleanup(&D);
	return 0;
}

/* Run `idnode ARGS` (stderr into the output too); returns the exit status. */
static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	char args[3500];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "%s %s 2>&1", bin, args);
	return tu_run(cmd, out, sizeof(out));
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* The node administrator gives an enterprise its prefix with a new key;
 * the enterprise then registers under it. */
static void test_keygen_prefix_create_delete(void **s)
{
	assert_int_equal(run("keygen --out=%s/ent.pem", D.dir), 0);
	struct stat st;
	char path[300];
	snprintf(path, sizeof(path), "%s/ent.pem", D.dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_non_null(strstr(out, "0000000B5253415F5055425F4B4559")); /* "RSA_PUB_KEY" */
	assert_int_equal(run("keygen --out=%s/ent.pem", D.dir), 1); /* never replaced silently */

	assert_int_equal(run("prefix create 88.100.55 --admin-pubkey=%s/ent.pub.pem --quota=1000 --daily-quota=5000 %s",
			     D.dir, node_auth),
			 0);
	assert_int_equal(run("prefix show 88.100.55 --server=%s", D.server), 0);
	assert_non_null(strstr(out, "index=300 type=HS_PUBKEY"));
	assert_non_null(strstr(out, "index=101 type=HS_ADMIN"));
	assert_null(strstr(out, "IDNODE_QUOTA")); /* admin read only */

	snprintf(ent_auth, sizeof(ent_auth), "--auth=0.NA/88.100.55:300 --key=%s/ent.pem --server=%s",
		 D.dir, D.server);
	assert_int_equal(run("create 88.100.55/A --value=1:URL:https://a.example --value=2:EMAIL:x@y %s",
			     ent_auth),
			 0);
	assert_string_equal(out, "created 88.100.55/A\n");
	assert_int_equal(run("create 88.100.55/A --value=1:URL:https://a.example %s", ent_auth), 1);
	assert_non_null(strstr(out, "idnode: create 88.100.55/A: 101 HANDLE_ALREADY_EXISTS"));
	assert_int_equal(run("resolve 88.100.55/A --server=%s", D.server), 0);
	assert_non_null(strstr(out, "index=100 type=HS_ADMIN"));
	assert_int_equal(run("remove 88.100.55/A --index=2 %s", ent_auth), 0);
	assert_int_equal(run("add 88.100.55/A --value=3:DESC:three %s --json", ent_auth), 0);
	assert_non_null(strstr(out, "\"responseCode\": 1"));
	assert_int_equal(run("list 88.100.55 %s", ent_auth), 0);
	assert_string_equal(out, "88.100.55/A\n");
	assert_int_equal(run("delete 88.100.55/A %s", ent_auth), 0);
	assert_int_equal(run("resolve 88.100.55/A --server=%s", D.server), 1);

	/* An enterprise is not a node administrator; usage errors exit 2. */
	assert_int_equal(run("home 88.900 %s", ent_auth), 1);
	assert_int_equal(run("create 88.100.55/B --value=1:URL:x --server=%s", D.server), 2);
	assert_int_equal(run("create 88.100.55/B --value=x %s", ent_auth), 2);
	assert_int_equal(run("list-homed %s", node_auth), 0);
	assert_non_null(strstr(out, "0.NA/88.100\n"));
}

static void test_import_jsonl_csv_resume(void **s)
{
	char in[300], csv[300], rep[320];
	snprintf(in, sizeof(in), "%s/in.jsonl", D.dir);
	FILE *f = fopen(in, "w");
	assert_non_null(f);
	for (int i = 0; i < 300; i++)
		fprintf(f, "{\"handle\":\"88.100.55/J%d\",\"values\":[{\"index\":1,\"type\":\"URL\","
			   "\"data\":\"https://j/%d\"}]}\n", i, i);
	fputs("not json\n", f);
	fclose(f);
	assert_int_equal(run("import %s %s --conns=2 --window=16 --no-progress", in, ent_auth), 2);
	assert_non_null(strstr(out, "in.jsonl:301:"));
	assert_non_null(strstr(out, "imported 300 (created 300, existing 0, failed 1)"));
	snprintf(rep, sizeof(rep), "%s.failed", in);
	f = fopen(rep, "r");
	assert_non_null(f);
	char line[512];
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_int_equal(strncmp(line, "301\t0\t", 6), 0);
	snprintf(rep, sizeof(rep), "%s.progress", in);
	f = fopen(rep, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_string_equal(line, "302\n");

	/* Again: everything exists with the same values. */
	assert_int_equal(run("import %s %s --json", in, ent_auth), 2);
	assert_non_null(strstr(out, "\"existing\": 300"));
	assert_int_equal(run("import %s %s --resume", in, ent_auth), 0);
	assert_non_null(strstr(out, "301 identifiers skipped"));

	snprintf(csv, sizeof(csv), "%s/in.csv", D.dir);
	write_file(csv, "handle,index,type,data\n"
			"88.100.55/C1,1,URL,https://c1\n"
			"88.100.55/C1,2,DESC,\"two, \"\"quoted\"\"\nlines\"\n"
			"88.100.55/J7,1,URL,https://other\n");
	assert_int_equal(run("import %s %s", csv, ent_auth), 1);
	assert_non_null(strstr(out, "imported 1 (created 1, existing 0, failed 1)"));
	assert_int_equal(run("import %s %s --overwrite", csv, ent_auth), 0);
	assert_non_null(strstr(out, "(created 1, existing 1, failed 0)"));
	assert_int_equal(run("resolve 88.100.55/J7 --server=%s", D.server), 0);
	assert_non_null(strstr(out, "https://other"));
	assert_int_equal(run("resolve 88.100.55/C1 --server=%s --index=2", D.server), 0);
	assert_non_null(strstr(out, "two, \"quoted\"\nlines"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keygen_prefix_create_delete),
		cmocka_unit_test(test_import_jsonl_csv_resume),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
