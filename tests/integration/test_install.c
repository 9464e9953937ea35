/* test_install.c - make install/uninstall into a DESTDIR with PREFIX=/usr (the built binaries, not rebuilt), the unit's paths, and deploy/idnode.conf == idnoded --print-defaults. */
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

static char out[1 << 17];

/* The whole file into a malloc'd NUL-terminated buffer, or NULL. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	size_t r;
	while (buf && (r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += r;
		if (n + 1 == cap) {
			char *nb = realloc(buf, cap *= 2);
			if (!nb) {
				free(buf);
				buf = NULL;
			}
			buf = nb;
		}
	}
	fclose(f);
	if (buf)
		buf[n] = 0;
	return buf;
}

/* Mode bits of root/rel, or -1 when it is not a regular file. */
static int file_mode(const char *root, const char *rel)
{
	char p[512];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	if (stat(p, &st) != 0 || !S_ISREG(st.st_mode))
		return -1;
	return (int)(st.st_mode & 07777);
}

/* make TARGET into dest with PREFIX=/usr, from the repository root, with the binaries of $IDN_BUILD
 * as they are (-o all: nothing is rebuilt) and without the calling make's flags. */
static int run_make(const char *target, const char *dest)
{
	char bin[256], cmd[1024];
	tu_bin("", bin, sizeof(bin));
	bin[strlen(bin) - 1] = 0; /* "build/" -> "build" */
	snprintf(cmd, sizeof(cmd),
		 "env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -o all %s DESTDIR='%s' PREFIX=/usr "
		 "BUILD='%s' 2>&1",
		 target, dest, bin);
	int rc = tu_run(cmd, out, sizeof(out));
	if (rc != 0)
		fprintf(stderr, "%s: exit %d\n%s\n", cmd, rc, out);
	return rc;
}

static void test_install_uninstall(void **s)
{
	char dest[64], p[512], cmd[1024];
	assert_int_equal(tu_tmpdir("install", dest, sizeof(dest)), 0);
	assert_int_equal(run_make("install", dest), 0);

	assert_int_equal(file_mode(dest, "usr/sbin/idnoded"), 0755);
	assert_int_equal(file_mode(dest, "usr/bin/idnode"), 0755);
	assert_int_equal(file_mode(dest, "usr/share/idnode/idnode.conf"), 0644);
	assert_int_equal(file_mode(dest, "usr/share/doc/idnode/README.md"), 0644);
	assert_int_equal(file_mode(dest, "usr/lib/systemd/system/idnoded.service"), 0644);
	assert_int_equal(file_mode(dest, "usr/lib/sysusers.d/idnode.conf"), 0644);

	/* The unit names PREFIX's paths, and the hardening is there. */
	snprintf(p, sizeof(p), "%s/usr/lib/systemd/system/idnoded.service", dest);
	char *unit = slurp(p);
	assert_non_null(unit);
	assert_null(strstr(unit, "/usr/local/"));
	assert_non_null(strstr(unit, "\nExecStart=/usr/sbin/idnoded --config=/etc/idnode/idnode.conf\n"));
	assert_non_null(strstr(unit, "\nExecReload=/bin/kill -HUP $MAINPID\n"));
	const char *need[] = { "User=idnode", "NoNewPrivileges=yes", "ProtectSystem=strict",
			       "StateDirectory=idnode", "CapabilityBoundingSet=\n",
			       "SystemCallFilter=@system-service", "MemoryDenyWriteExecute=yes" };
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		assert_non_null(strstr(unit, need[i]));
	free(unit);

	/* The installed programs run; the example config is valid as it is. */
	snprintf(cmd, sizeof(cmd), "'%s/usr/sbin/idnoded' --version", dest);
	assert_int_equal(tu_run(cmd, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "idnoded "));
	snprintf(cmd, sizeof(cmd),
		 "'%s/usr/sbin/idnoded' --check-config --config='%s/usr/share/idnode/idnode.conf' 2>&1",
		 dest, dest);
	assert_int_equal(tu_run(cmd, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "configuration OK"));
	snprintf(cmd, sizeof(cmd), "'%s/usr/bin/idnode' resolve --help >/dev/null 2>&1", dest);
	assert_int_equal(tu_run(cmd, out, sizeof(out)), 0);

	/* systemd's own check of the unit, where systemd-analyze exists (pointed at the staged
	 * binaries). */
	if (tu_run("command -v systemd-analyze", out, sizeof(out)) == 0) {
		snprintf(cmd, sizeof(cmd),
			 "sed 's|=/usr/sbin/|=%s/usr/sbin/|' '%s/usr/lib/systemd/system/idnoded.service' "
			 "> '%s/idnoded.service' && systemd-analyze verify '%s/idnoded.service' 2>&1",
			 dest, dest, dest, dest);
		int rc = tu_run(cmd, out, sizeof(out));
		if (rc != 0)
			fprintf(stderr, "systemd-analyze verify: %s\n", out);
		assert_int_equal(rc, 0);
		snprintf(p, sizeof(p), "%s/idnoded.service", dest);
		unlink(p);
	}

	/* uninstall leaves directories only. */
	assert_int_equal(run_make("uninstall", dest), 0);
	snprintf(cmd, sizeof(cmd), "find '%s' ! -type d", dest);
	assert_int_equal(tu_run(cmd, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	tu_rmrf(dest);
}

/* deploy/idnode.conf is what `idnoded --print-defaults` prints: regenerate it with
 * `build/idnoded --print-defaults > deploy/idnode.conf` after adding an option. */
static void test_example_config_is_defaults(void **s)
{
	char bin[256], cmd[512];
	tu_bin("idnoded", bin, sizeof(bin));
	snprintf(cmd, sizeof(cmd), "'%s' --print-defaults", bin);
	assert_int_equal(tu_run(cmd, out, sizeof(out)), 0);
	char *file = slurp("deploy/idnode.conf");
	assert_non_null(file);
	if (strcmp(file, out) != 0)
		fprintf(stderr, "deploy/idnode.conf differs from idnoded --print-defaults; "
				"regenerate it: %s --print-defaults > deploy/idnode.conf\n",
			bin);
	assert_string_equal(file, out);
	free(file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_install_uninstall),
		cmocka_unit_test(test_example_config_is_defaults),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
