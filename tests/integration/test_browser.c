/* test_browser.c - integration: the node's pages in headless Chromium (resolve form, node page, screenshots) and their HTML over curl (errors, escaping, volumes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "tests/util/testutil.h"

/*
 * The browser is Debian's chromium, installed by the project's own script
 * (deploy/install-deps.sh --browser) when missing, so a plain `make` never
 * pulls it in. Only when apt itself cannot install it (no network, no
 * rights) are the browser steps skipped, with the reason printed; the
 * curl checks run either way.
 */

#define OUT_CAP (512 * 1024)

static tu_daemon_t D;
static char out[OUT_CAP], cmd[4096], profile[sizeof(D.dir) + 16];
static bool have_browser;

static const char *build_dir(void)
{
	const char *b = getenv("IDN_BUILD");
	return b && *b ? b : "build";
}

static bool ensure_browser(void)
{
	char why[4096];
	if (tu_run("command -v chromium >/dev/null 2>&1", why, sizeof(why)) == 0)
		return true;
	int rc = tu_run("deploy/install-deps.sh --browser 2>&1", why, sizeof(why));
	if (rc == 0 && tu_run("command -v chromium >/dev/null 2>&1", out, sizeof(out)) == 0)
		return true;
	fprintf(stderr, "SKIP browser steps: deploy/install-deps.sh --browser could not install "
			"chromium (exit %d): %s\n", rc, why);
	return false;
}

static int setup(void **state)
{
	have_browser = ensure_browser();
	const char *extra[] = { "--demo", "--https-listen=", NULL };
	if (tu_daemon_start(&D, extra) != 0 || D.http_port == 0) {
		fprintf(stderr, "idnoded did not become ready with HTTP (log in %s)\n", D.dir);
		return -1;
	}
	/* Chromium's profile inside the daemon's temp dir: nothing in $HOME. */
	snprintf(profile, sizeof(profile), "%s/chromium", D.dir);
	return 0;
}

static int teardown(void **state)
{
	int st = tu_daemon_stop(&D);
	if (st != 0)
		fprintf(stderr, "idnoded exited with %d (log in %s)\n", st, D.dir);
	else
		tu_daemon_cleanup(&D);
	return st == 0 ? 0 : -1;
}

/* chromium ARGS URL-PATH, bounded at 60 s; stdout into `out`. */
static int chromium(const char *args, const char *path)
{
	snprintf(cmd, sizeof(cmd),
		 "timeout 60 chromium --headless=new --no-sandbox --disable-gpu "
		 "--no-first-run --user-data-dir='%s' %s 'http://127.0.0.1:%u%s' 2>/dev/null",
		 profile, args, D.http_port, path);
	return tu_run(cmd, out, sizeof(out));
}

/* curl the path; the body in `out`, the status returned. */
static int curl(const char *path)
{
	snprintf(cmd, sizeof(cmd), "curl -s --max-time 10 -w '\\n%%{http_code}' 'http://127.0.0.1:%u%s'",
		 D.http_port, path);
	if (tu_run(cmd, out, sizeof(out)) != 0)
		return -1;
	char *nl = strrchr(out, '\n');
	if (!nl)
		return -1;
	*nl = 0;
	return atoi(nl + 1);
}

static bool is_png(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char sig[8] = { 0 };
	size_t n = f ? fread(sig, 1, sizeof(sig), f) : 0;
	if (f)
		fclose(f);
	return n == 8 && memcmp(sig, "\x89PNG\r\n\x1a\n", 8) == 0;
}

/* A fresh $IDN_BUILD/NAME of the page at 1200x900. */
static void screenshot(const char *name, const char *path)
{
	char png[512], args[700];
	snprintf(png, sizeof(png), "%s/%s", build_dir(), name);
	unlink(png);
	snprintf(args, sizeof(args), "--screenshot='%s' --window-size=1200,900", png);
	assert_int_equal(chromium(args, path), 0);
	assert_true(is_png(png));
}

/* The form is a GET of /?handle=...: loading that URL is what submitting
 * the form does without JavaScript. */
static void test_resolve_in_browser(void **s)
{
	if (!have_browser)
		skip();
	assert_int_equal(chromium("--dump-dom", "/?handle=88.100.12/PN-0001"), 0);
	assert_non_null(strstr(out, "<form class=\"resolve\" method=\"get\" action=\"/\""));
	assert_non_null(strstr(out, "value=\"88.100.12/PN-0001\""));
	assert_non_null(strstr(out, ">https://example.com/products/PN-0001</a>"));
	assert_non_null(strstr(out, "<td class=\"type\">EMAIL</td><td class=\"data\">service@example.com</td>"));
	assert_non_null(strstr(out, "Centrifugal pump CP-40"));
	assert_non_null(strstr(out, "<td class=\"type\">HS_ADMIN</td>"));
	assert_non_null(strstr(out, "0.NA/88.100.12"));
	assert_non_null(strstr(out, "rwr-"));
	/* Index 50 is admin-read only: never on an anonymous page. */
	assert_null(strstr(out, "confidential"));

	screenshot("browser-resolve.png", "/?handle=88.100.12/PN-0001");
}

static void test_node_page_in_browser(void **s)
{
	if (!have_browser)
		skip();
	assert_int_equal(chromium("--dump-dom", "/node"), 0);
	assert_non_null(strstr(out, "Resolutions today"));
	assert_non_null(strstr(out, "of 10,000,000 a day"));
	assert_non_null(strstr(out, "of 30,000,000 a year"));
	assert_non_null(strstr(out, "of 82,192 a day"));
	assert_non_null(strstr(out, "of 3,500"));
	assert_non_null(strstr(out, "role=\"progressbar\""));
	screenshot("browser-node.png", "/node");
}

static void test_errors_and_escaping(void **s)
{
	assert_int_equal(curl("/"), 200);
	assert_non_null(strstr(out, "name=\"handle\""));
	assert_null(strstr(out, "role=\"alert\""));

	assert_int_equal(curl("/?handle=88.100.12/NO-SUCH"), 404);
	assert_non_null(strstr(out, "<strong>Not found</strong>"));
	assert_non_null(strstr(out, "88.100.12/NO-SUCH"));

	assert_int_equal(curl("/?handle=99.7/x"), 400);
	assert_non_null(strstr(out, "<strong>Not ours</strong>"));

	assert_int_equal(curl("/?handle=%E0%A4"), 400);
	assert_non_null(strstr(out, "<strong>Bad input</strong>"));
	assert_int_equal(curl("/?handle=%zz"), 400);
	assert_non_null(strstr(out, "<strong>Bad input</strong>"));
	assert_int_equal(curl("/?handle=+"), 400);
	assert_non_null(strstr(out, "Nothing to resolve"));

	/* What the client sent comes back escaped, in the field and the alert. */
	assert_int_equal(curl("/?handle=88.100.12/%3Cscript%3Ealert(1)%3C/script%3E%22%27"), 404);
	assert_null(strstr(out, "<script>"));
	assert_non_null(strstr(out, "88.100.12/&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;"));

	assert_int_equal(curl("/static/idnode.css"), 200);
	assert_non_null(strstr(out, "--accent"));
	assert_int_equal(curl("/static/node.js"), 200);
	assert_int_equal(curl("/static/nope.css"), 404);
	/* The page loads nothing from elsewhere (no CDN). */
	assert_int_equal(curl("/node"), 200);
	assert_null(strstr(out, "src=\"http"));
	assert_null(strstr(out, "href=\"//"));
}

static uint64_t metric(json_t *j, const char *id)
{
	json_t *m;
	size_t i;
	json_array_foreach(json_object_get(j, "metrics"), i, m)
		if (!strcmp(json_string_value(json_object_get(m, "id")), id))
			return (uint64_t)json_integer_value(json_object_get(m, "value"));
	fail_msg("no metric %s", id);
	return 0;
}

static json_t *api_node(void)
{
	assert_int_equal(curl("/api/node"), 200);
	json_error_t e;
	json_t *j = json_loads(out, 0, &e);
	assert_non_null(j);
	return j;
}

/* A registration shows in today's and this year's figures, the new
 * identifier in the count; resolutions over HTTP and the native protocol
 * both count. */
static void test_volumes(void **s)
{
	json_t *a = api_node();
	assert_string_equal(json_string_value(json_object_get(a, "nodePrefix")), "88.100");
	assert_string_equal(json_string_value(json_object_get(a, "siteAddress")), D.server);
	assert_int_equal(json_integer_value(json_object_get(a, "utcOffsetMinutes")), 480);
	assert_int_equal(metric(a, "enterprises"), 1);

	char bin[256];
	tu_bin("idnode", bin, sizeof(bin));
	snprintf(cmd, sizeof(cmd), "%s create 88.100.12/PAGE-1 --value=1:URL:https://example.com/p "
		 "--auth=300:0.NA/88.100.12 --key=%s/data/demo-enterprise-key.pem --server=%s 2>&1",
		 bin, D.dir, D.server);
	assert_int_equal(tu_run(cmd, out, sizeof(out)), 0);
	snprintf(cmd, sizeof(cmd), "%s resolve 88.100.12/PN-0001 --server=%s 2>&1", bin, D.server);
	assert_int_equal(tu_run(cmd, out, sizeof(out)), 0);
	assert_int_equal(curl("/api/handles/88.100.12/PN-0002"), 200);

	json_t *b = api_node();
	assert_int_equal(metric(b, "registrationsToday"), metric(a, "registrationsToday") + 1);
	assert_int_equal(metric(b, "registrationsYear"), metric(a, "registrationsYear") + 1);
	assert_int_equal(metric(b, "identifiers"), metric(a, "identifiers") + 1);
	/* + the native one, the HTTP one, and the browser-less /api/node calls do not count. */
	assert_true(metric(b, "resolutionsToday") >= metric(a, "resolutionsToday") + 2);
	assert_true(metric(b, "resolutionsSinceStart") >= metric(b, "resolutionsToday"));
	json_decref(a);
	json_decref(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve_in_browser),
		cmocka_unit_test(test_node_page_in_browser),
		cmocka_unit_test(test_errors_and_escaping),
		cmocka_unit_test(test_volumes),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
