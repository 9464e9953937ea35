/* test_crash.c - integration: idnode import of 200,000 identifiers while idnoded is SIGKILLed and restarted; nothing acknowledged is lost. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "storage/store.h"
#include "tests/util/testutil.h"

/*
 * The import runs against the node; whenever the node has committed a
 * sixth of the identifiers more, it is killed with SIGKILL (no chance to flush
 * anything) and restarted. After each kill, every line the import counted
 * as finished (acknowledged by the node) must be in the store. In the end
 * the import completes, a second full run creates nothing (no duplicates),
 * every identifier is there and the change log has exactly one create per
 * identifier, numbered without gaps.
 */

#define COUNT 200000
#define KILLS 4

static tu_daemon_t D;
static char input[256], report[256], progress[256], keypath[256];

static int setup(void **state)
{
	const char *extra[] = { "--demo", NULL };
	if (tu_daemon_start(&D, extra) != 0)
		return -1;
	snprintf(input, sizeof(input), "%s/in.jsonl", D.dir);
	snprintf(report, sizeof(report), "%s/report", D.dir);
	snprintf(progress, sizeof(progress), "%s/report.progress", D.dir);
	snprintf(keypath, sizeof(keypath), "%s/data/demo-enterprise-key.pem", D.dir);
	FILE *f = fopen(input, "w");
	if (!f)
		return -1;
	for (int i = 0; i < COUNT; i++)
		fprintf(f,
			"{\"handle\":\"88.100.12/CRASH-%06d\",\"values\":[{\"index\":1,\"type\":\"URL\","
			"\"data\":{\"format\":\"string\",\"value\":\"https://example.com/c/%06d\"}}]}\n",
			i, i);
	return fclose(f);
}

static int teardown(void **state)
{
	tu_daemon_cleanup(&D);
	return 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned long long read_progress(void)
{
	unsigned long long line = 0;
	FILE *f = fopen(progress, "r");
	if (f) {
		if (fscanf(f, "%llu", &line) != 1)
			line = 0;
		fclose(f);
	}
	return line;
}

/* Changes the node has committed (its change log's last number); read
 * from the store while the node runs, as LMDB allows. The import's own
 * progress file is saved once a second, too coarse to kill by: an
 * unsanitized build imports all 200,000 in about two seconds. */
static uint64_t stored_changes(void)
{
	char dir[256];
	snprintf(dir, sizeof(dir), "%s/data", D.dir);
	idn_store_t *st;
	idn_store_opts_t so = { .read_only = true };
	uint64_t seq = 0;
	if (idn_store_open(dir, &so, &st) == IDN_OK) {
		if (idn_store_last_seq(st, &seq) != IDN_OK)
			seq = 0;
		idn_store_close(st);
	}
	return seq;
}

/* Start `idnode import` in the background; returns its pid. */
static pid_t start_import(bool resume)
{
	char bin[256], server[80], auth[] = "--auth=300:0.NA/88.100.12", key[300], rep[300];
	tu_bin("idnode", bin, sizeof(bin));
	snprintf(server, sizeof(server), "--server=%s", D.server);
	snprintf(key, sizeof(key), "--key=%s", keypath);
	snprintf(rep, sizeof(rep), "--report=%s", report);
	pid_t pid = fork();
	if (pid == 0) {
		char log[300];
		snprintf(log, sizeof(log), "%s/import.log", D.dir);
		if (!freopen(log, "a", stderr) || !freopen("/dev/null", "w", stdout))
			_exit(126);
		execl(bin, bin, "import", input, server, auth, key, rep, "--no-progress",
		      resume ? "--resume" : "--json", (char *)NULL);
		_exit(127);
	}
	return pid;
}

static int wait_exit(pid_t pid, double secs)
{
	double end = now_s() + secs;
	int st;
	while (now_s() < end) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		if (r < 0)
			return -2; /* not our child (reaped already): a test bug */
		usleep(20000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

/* Every line before `below` (1-based) is in the store. */
static void check_finished(unsigned long long below)
{
	char dir[256];
	snprintf(dir, sizeof(dir), "%s/data", D.dir);
	idn_store_t *st;
	idn_store_opts_t so = { .read_only = true };
	assert_int_equal(idn_store_open(dir, &so, &st), IDN_OK);
	idn_reader_t *rd;
	assert_int_equal(idn_reader_new(st, &rd), IDN_OK);
	assert_int_equal(idn_reader_begin(rd), IDN_OK);
	for (unsigned long long line = 1; line < below && line <= COUNT; line++) {
		char h[64];
		int n = snprintf(h, sizeof(h), "88.100.12/CRASH-%06llu", line - 1);
		idn_record_t rec;
		if (idn_reader_get(rd, (const uint8_t *)h, (size_t)n, &rec) != IDN_OK)
			fail_msg("acknowledged %s (line %llu < %llu) is missing after a crash", h, line,
				 below);
	}
	idn_reader_end(rd);
	idn_reader_free(rd);
	idn_store_close(st);
}

typedef struct {
	uint64_t next, creates;
} log_check_t;

static int check_change(void *arg, const idn_change_t *c)
{
	log_check_t *l = arg;
	assert_int_equal(c->seq, l->next);
	l->next++;
	if (c->op == 100 && c->handle.len > 16 && memcmp(c->handle.p, "88.100.12/CRASH-", 16) == 0)
		l->creates++;
	return 0;
}

/* On failure, what the import and the node said. */
static void show_logs(void)
{
	char cmd[600], out[8192];
	snprintf(cmd, sizeof(cmd), "tail -n 8 %s/import.log %s/daemon.log 2>&1", D.dir, D.dir);
	if (tu_run(cmd, out, sizeof(out)) >= 0)
		fprintf(stderr, "%s\n", out);
}

static void test_kill_during_import(void **s)
{
	unsigned long long last = 0;
	uint64_t changes = stored_changes();
	int kills = 0;
	pid_t imp = start_import(true);
	int done = -1; /* the import's exit status once it was reaped */
	while (kills < KILLS) {
		/* Let it get further (bounded), then pull the plug. */
		double end = now_s() + 120;
		int st;
		while (now_s() < end && stored_changes() < changes + COUNT / (KILLS + 2)) {
			if (waitpid(imp, &st, WNOHANG) == imp) {
				done = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
				break;
			}
			usleep(20000);
		}
		if (done >= 0)
			break; /* finished before the kill */
		kill(D.pid, SIGKILL);
		waitpid(D.pid, NULL, 0);
		D.pid = 0;
		kills++;
		/* The import notices the node is gone and stops (or, if it sent its
		 * last line just before the kill, finishes: either is fine). */
		assert_true(wait_exit(imp, 120) >= 0);
		last = read_progress();
		check_finished(last);
		changes = stored_changes();
		assert_int_equal(tu_daemon_restart(&D, NULL), 0);
		imp = start_import(true);
	}
	assert_true(kills >= 2);
	if (done < 0)
		done = wait_exit(imp, 700);
	if (done != 0)
		show_logs();
	assert_int_equal(done, 0);
	/* A second full run finds everything there: created 0. */
	char bin[256], cmd[2048], out[4096];
	tu_bin("idnode", bin, sizeof(bin));
	snprintf(cmd, sizeof(cmd),
		 "%s import %s --server=%s --auth=300:0.NA/88.100.12 --key=%s --report=%s.again "
		 "--no-progress --json 2>/dev/null",
		 bin, input, D.server, keypath, report);
	assert_int_equal(tu_run(cmd, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "\"created\": 0"));
	assert_non_null(strstr(out, "\"existing\": 200000"));

	assert_int_equal(tu_daemon_stop(&D), 0);
	check_finished(COUNT + 1);
	char dir[256];
	snprintf(dir, sizeof(dir), "%s/data", D.dir);
	idn_store_t *st;
	idn_store_opts_t so = { .read_only = true };
	assert_int_equal(idn_store_open(dir, &so, &st), IDN_OK);
	log_check_t l = { 1, 0 };
	assert_int_equal(idn_store_changes(st, 1, check_change, &l), IDN_OK);
	uint64_t lastseq = 0;
	assert_int_equal(idn_store_last_seq(st, &lastseq), IDN_OK);
	assert_int_equal(l.next, lastseq + 1);
	assert_int_equal(l.creates, COUNT);
	idn_store_close(st);
	printf("crash test: %d kills, %llu changes logged\n", kills, (unsigned long long)lastseq);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kill_during_import),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
