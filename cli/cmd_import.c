/* cmd_import.c - `idnode import`: bulk registration over the network, pipelined on logged-in connections, resumable. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/import.h"
#include "proto/record.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: idnode import FILE|- --auth=INDEX:HANDLE --key=FILE|--secret-file=FILE\n"
		"                     [--server=HOST:PORT] [--conns=4] [--window=64] [--overwrite]\n"
		"                     [--csv] [--report=FILE|DIR] [--resume] [--progress|--no-progress]\n"
		"                     [--timeout=MS] [--json]\n"
		"\n"
		"Create the identifiers of FILE on a node (OC 100), streamed over --conns TCP\n"
		"connections, each logged in once (IDIS login) with --window requests in flight.\n"
		"Input: JSON lines as for `idnode load`, or CSV when FILE ends in .csv or with\n"
		"--csv: a header naming handle,index,type,data, then one value per row; rows\n"
		"in a row with the same handle form one identifier; RFC 4180 quoting.\n"
		"Each identifier gets an HS_ADMIN value (index 100, all permissions, the --auth\n"
		"identity) unless it has one.\n"
		"\n"
		"Import is idempotent: a handle that exists (RC 101) is resolved and its public\n"
		"values compared with the input; identical counts as done (\"existing\"),\n"
		"different is a failure unless --overwrite (then it is replaced, OVRW).\n"
		"\n"
		"Files: failed lines go to the report (FILE.failed; stderr for -) as\n"
		"  LINE<TAB>RC<TAB>message<TAB>original line   (tab, newline, \\ escaped as \\t \\n \\\\)\n"
		"and FILE.progress holds the line below which every line is finished;\n"
		"--resume skips those lines (and appends to the report). --report=DIR puts\n"
		"both files in DIR, --report=PATH writes PATH and PATH.progress.\n"
		"\n"
		"Options:\n"
		"  --conns=N        TCP connections (1-64, default 4)\n"
		"  --window=N       requests in flight per connection (1-1024, default 64)\n"
		"  --overwrite      replace existing handles whose values differ\n"
		"  --csv            the input is CSV whatever its name\n"
		"  --report=PATH    report file or directory (see above)\n"
		"  --resume         skip the lines the progress file says are finished\n"
		"  --progress       show progress even when stderr is not a terminal\n"
		"  --no-progress    never show progress\n");
	cli_admin_usage(out);
	fprintf(out, "\nExit status: 0 all imported, 1 some identifier failed or the node went away,\n"
		     "2 usage error or unreadable input (named by file and line).\n");
}

/* ------------------------------------------------------------------ */
/* Jobs, outcomes, the sequencer. */

void imp_job_free(imp_job_t *j)
{
	if (!j)
		return;
	free(j->handle);
	free(j->values);
	free(j->text);
	free(j);
}

/* Tab-separated fields stay one line: escape what would break them. */
static void put_escaped(FILE *f, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '\t')
			fputs("\\t", f);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\r')
			fputs("\\r", f);
		else if (c == '\\')
			fputs("\\\\", f);
		else
			fputc(c, f);
	}
}

static void report(imp_t *m, unsigned long long line, uint32_t rc, const char *msg,
		   const char *text, size_t tlen)
{
	fprintf(m->report, "%llu\t%u\t", line, rc);
	put_escaped(m->report, msg, strlen(msg));
	fputc('\t', m->report);
	put_escaped(m->report, text, tlen);
	fputc('\n', m->report);
}

static void mark_done(imp_t *m, unsigned long long seq)
{
	m->done[seq % m->cap] = true;
	bool moved = false;
	while (m->low < m->next_seq && m->done[m->low % m->cap]) {
		m->low++;
		moved = true;
	}
	if (moved)
		pthread_cond_broadcast(&m->cv);
}

unsigned long long imp_progress_line(const imp_t *m)
{
	return m->low < m->next_seq ? m->first[m->low % m->cap] : m->end_line;
}

void imp_stop(imp_t *m, const char *msg)
{
	pthread_mutex_lock(&m->mu);
	if (!m->stop)
		snprintf(m->stop_msg, sizeof(m->stop_msg), "%s", msg);
	m->stop = true;
	pthread_cond_broadcast(&m->cv);
	pthread_mutex_unlock(&m->mu);
}

void imp_finish(imp_t *m, imp_job_t *j, int outcome, uint32_t rc, const char *msg)
{
	pthread_mutex_lock(&m->mu);
	if (outcome == IMP_CREATED)
		m->created++;
	else if (outcome == IMP_EXISTING)
		m->existing++;
	else {
		m->failed++;
		report(m, j->first_line, rc, msg ? msg : "", j->text, j->text_len);
	}
	mark_done(m, j->seq);
	pthread_mutex_unlock(&m->mu);
	imp_job_free(j);
}

static imp_job_t *make_job(const imp_t *m, const idn_record_t *r)
{
	imp_job_t *j = calloc(1, sizeof(*j));
	if (!j)
		return NULL;
	j->first_line = r->first_line;
	j->last_line = r->last_line;
	j->n_values = r->n_values;
	j->added_admin = !idn_values_have_type(r->values, r->n_values, "HS_ADMIN");
	size_t extra = j->added_admin ? IDN_MAX_HANDLE_LEN + 64 : 0;
	j->handle = strndup(r->handle, r->handle_len);
	j->text = malloc(r->text_len + 1);
	j->values = malloc(r->values.len + extra);
	if (!j->handle || !j->text || !j->values) {
		imp_job_free(j);
		return NULL;
	}
	memcpy(j->text, r->text, r->text_len);
	j->text_len = r->text_len;
	memcpy(j->values, r->values.p, r->values.len);
	j->values_len = r->values.len;
	if (j->added_admin) {
		idn_wire_t w;
		idn_wire_init(&w, j->values + j->values_len, extra);
		uint32_t idx = 100;
		/* Index 100 unless the input uses it. */
		for (bool used = true; used; idx += used) {
			used = false;
			idn_wire_t rv;
			idn_wire_init_ro(&rv, j->values, j->values_len);
			for (uint32_t i = 0; i < j->n_values && !used; i++) {
				idn_value_t v;
				idn_value_decode(&rv, &v);
				used = v.index == idx;
			}
		}
		idn_put_admin_value(&w, idx, IDN_ADM_ALL, m->auth->handle, m->auth->index,
				    (uint32_t)time(NULL));
		j->values_len += idn_wire_offset(&w);
		j->n_values++;
	}
	return j;
}

static unsigned bad_shown;
static bool input_fatal;
static bool bar_on;           /* a progress line is on stderr: end it first */

imp_job_t *imp_pull(imp_t *m, bool may_wait, bool *busy)
{
	pthread_mutex_lock(&m->mu);
	imp_job_t *j = NULL;
	*busy = false;
	while (!m->stop && !m->eof) {
		/* Bounded bookkeeping: a slow job holds the low mark. */
		if (m->next_seq - m->low >= m->cap) {
			if (!may_wait) {
				*busy = true;
				break;
			}
			pthread_cond_wait(&m->cv, &m->mu);
			continue;
		}
		idn_record_t rec;
		char err[700];
		int r = idn_reader_next(m->rd, &rec, err, sizeof(err));
		if (r == 0) {
			m->eof = true;
			break;
		}
		if (r < 0 && r != IDN_EINVAL) {
			snprintf(m->stop_msg, sizeof(m->stop_msg), "%s",
				 err[0] ? err : idn_strerror(r));
			m->stop = true;
			input_fatal = true;
			pthread_cond_broadcast(&m->cv);
			break;
		}
		if (rec.last_line < m->skip_below) {
			m->skipped++;
			m->end_line = rec.last_line + 1;
			continue;
		}
		unsigned long long seq = m->next_seq++;
		m->first[seq % m->cap] = rec.first_line;
		m->done[seq % m->cap] = false;
		m->end_line = rec.last_line + 1;
		if (r == IDN_EINVAL) {
			m->bad++;
			m->failed++;
			if (bad_shown++ < 20)
				fprintf(stderr, "%sidnode import: %s\n", bar_on ? "\n" : "", err);
			report(m, rec.first_line, 0, err, rec.text ? rec.text : "", rec.text_len);
			mark_done(m, seq);
			continue;
		}
		j = make_job(m, &rec);
		if (!j) {
			snprintf(m->stop_msg, sizeof(m->stop_msg), "out of memory");
			m->stop = true;
			m->next_seq--; /* never handed out */
			break;
		}
		j->seq = seq;
		break;
	}
	pthread_mutex_unlock(&m->mu);
	return j;
}

/* ------------------------------------------------------------------ */
/* Files. */

/* Where the report and the progress file go (see usage). */
static int file_names(const char *input, const char *report_opt, char **rep, char **prog)
{
	const char *base = strcmp(input, "-") == 0 ? "stdin" : input;
	struct stat st;
	*rep = *prog = NULL;
	int n;
	if (report_opt && stat(report_opt, &st) == 0 && S_ISDIR(st.st_mode)) {
		const char *slash = strrchr(base, '/');
		const char *b = slash ? slash + 1 : base;
		n = asprintf(rep, "%s/%s.failed", report_opt, b);
		if (n >= 0)
			n = asprintf(prog, "%s/%s.progress", report_opt, b);
	} else if (report_opt) {
		n = asprintf(rep, "%s", report_opt);
		if (n >= 0)
			n = asprintf(prog, "%s.progress", report_opt);
	} else if (strcmp(input, "-") == 0) {
		return 0; /* report on stderr, no progress file */
	} else {
		n = asprintf(rep, "%s.failed", input);
		if (n >= 0)
			n = asprintf(prog, "%s.progress", input);
	}
	return n < 0 ? -1 : 0;
}

static void save_progress(imp_t *m, const char *path)
{
	if (!path)
		return;
	pthread_mutex_lock(&m->mu);
	unsigned long long line = imp_progress_line(m);
	fflush(m->report);
	pthread_mutex_unlock(&m->mu);
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return;
	/* The report is flushed first, so a finished line is never lost. */
	fprintf(f, "%llu\n", line);
	bool ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
	fclose(f);
	if (!ok || rename(tmp, path) != 0)
		unlink(tmp);
}

static int load_progress(const char *path, unsigned long long *line)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	int ok = fscanf(f, "%llu", line) == 1;
	fclose(f);
	return ok ? 0 : IDN_EMALF;
}

/* ------------------------------------------------------------------ */
/* The command. */

typedef struct {
	imp_t *m;
	unsigned *running;
} worker_arg_t;

static void *run_worker(void *arg)
{
	worker_arg_t *w = arg;
	imp_worker(w->m);
	pthread_mutex_lock(&w->m->mu);
	(*w->running)--;
	pthread_cond_broadcast(&w->m->cv);
	pthread_mutex_unlock(&w->m->mu);
	return NULL;
}

static bool ends_with_csv(const char *s)
{
	size_t n = strlen(s);
	return n > 4 && strcasecmp(s + n - 4, ".csv") == 0;
}

static bool parse_range(const char *v, long lo, long hi, unsigned *out)
{
	char *end;
	long n = strtol(v, &end, 10);
	if (*v == 0 || *end || n < lo || n > hi)
		return false;
	*out = (unsigned)n;
	return true;
}

int cmd_import(int argc, char **argv)
{
	cli_admin_opts_t o;
	cli_admin_init(&o, "import");
	const char *file = NULL, *report_opt = NULL, *v;
	unsigned conns = 4, window = 64;
	bool overwrite = false, csv = false, resume = false, progress = false, no_progress = false;
	for (int i = 1; i < argc; i++) {
		int t;
		if (cli_flag(argv, i, "help") || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if ((t = cli_admin_opt(&o, argc, argv, &i))) {
			if (t < 0)
				return 2;
		} else if ((v = cli_opt(argc, argv, &i, "conns"))) {
			if (!parse_range(v, 1, 64, &conns)) {
				fprintf(stderr, "idnode import: bad --conns '%s' (1 to 64)\n", v);
				return 2;
			}
		} else if ((v = cli_opt(argc, argv, &i, "window"))) {
			if (!parse_range(v, 1, 1024, &window)) {
				fprintf(stderr, "idnode import: bad --window '%s' (1 to 1024)\n", v);
				return 2;
			}
		} else if ((v = cli_opt(argc, argv, &i, "report"))) {
			report_opt = v;
		} else if (cli_flag(argv, i, "overwrite")) {
			overwrite = true;
		} else if (cli_flag(argv, i, "csv")) {
			csv = true;
		} else if (cli_flag(argv, i, "resume")) {
			resume = true;
		} else if (cli_flag(argv, i, "progress")) {
			progress = true;
		} else if (cli_flag(argv, i, "no-progress")) {
			no_progress = true;
		} else if (argv[i][0] == '-' && argv[i][1] != 0) {
			fprintf(stderr, "idnode import: unknown option '%s' (see --help)\n", argv[i]);
			return 2;
		} else if (!file) {
			file = argv[i];
		} else {
			fprintf(stderr, "idnode import: one input file at a time\n");
			return 2;
		}
	}
	if (!file) {
		usage(stderr);
		return 2;
	}
	bool from_stdin = strcmp(file, "-") == 0;
	if (resume && from_stdin && !report_opt) {
		fprintf(stderr, "idnode import: --resume with standard input needs --report\n");
		return 2;
	}
	idn_auth_t a;
	int rc = cli_admin_auth(&o, &a);
	if (rc)
		return rc;
	idn_client_t *probe;
	if ((rc = cli_admin_connect(&o, &probe))) {
		idn_auth_free(&a);
		return rc;
	}
	idn_client_close(probe);

	char *rep_path, *prog_path;
	imp_t m;
	memset(&m, 0, sizeof(m));
	rc = 2;
	FILE *in = NULL;
	if (file_names(file, report_opt, &rep_path, &prog_path))
		goto out_auth;
	if (resume && prog_path) {
		int r = load_progress(prog_path, &m.skip_below);
		if (r == -ENOENT)
			fprintf(stderr, "idnode import: %s: none yet, starting at the first line\n",
				prog_path);
		else if (r) {
			fprintf(stderr, "idnode import: %s: unreadable progress file\n", prog_path);
			goto out_names;
		}
	}
	in = from_stdin ? stdin : fopen(file, "r");
	if (!in) {
		fprintf(stderr, "idnode import: %s: %s\n", file, strerror(errno));
		goto out_names;
	}
	m.report = rep_path ? fopen(rep_path, resume ? "a" : "w") : stderr;
	if (!m.report) {
		fprintf(stderr, "idnode import: %s: %s\n", rep_path, strerror(errno));
		goto out_in;
	}
	unsigned long long total_bytes = 0;
	struct stat st;
	if (!from_stdin && fstat(fileno(in), &st) == 0 && S_ISREG(st.st_mode))
		total_bytes = (unsigned long long)st.st_size;

	m.server = o.server;
	m.auth = &a;
	m.timeout_ms = o.timeout_ms;
	m.window = window;
	m.overwrite = overwrite;
	m.end_line = 1;
	/* Room for jobs done behind a slow one: when full, workers read
	 * their answers and wait (import.h, imp_pull). */
	m.cap = (size_t)conns * window * 64 + 4096;
	m.done = calloc(m.cap, sizeof(bool));
	m.first = calloc(m.cap, sizeof(unsigned long long));
	pthread_mutex_init(&m.mu, NULL);
	pthread_cond_init(&m.cv, NULL);
	const char *name = from_stdin ? "stdin" : file;
	if (!m.done || !m.first ||
	    idn_reader_open(in, name, csv || ends_with_csv(file) ? IDN_INPUT_CSV : IDN_INPUT_JSONL,
			    (uint32_t)time(NULL), &m.rd)) {
		fprintf(stderr, "idnode import: out of memory\n");
		goto out_report;
	}

	cli_progress_t bar;
	cli_progress_init(&bar, "imported", 0, progress);
	if (no_progress)
		bar.enabled = false;
	bar_on = bar.enabled;
	double t0 = cli_now(), last_save = t0;
	unsigned running = conns;
	pthread_t *th = calloc(conns, sizeof(pthread_t));
	worker_arg_t wa = { &m, &running };
	unsigned started = 0;
	for (; th && started < conns; started++)
		if (pthread_create(&th[started], NULL, run_worker, &wa))
			break;
	pthread_mutex_lock(&m.mu);
	running = started;
	while (running > 0) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 200000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&m.cv, &m.mu, &ts);
		unsigned long long done = m.created + m.existing + m.failed;
		unsigned long long bytes = idn_reader_bytes(m.rd);
		pthread_mutex_unlock(&m.mu);
		/* The total is unknown: estimate it from the bytes read so far. */
		if (total_bytes && bytes && done)
			bar.total = (unsigned long long)((double)done * (double)total_bytes /
							 (double)bytes);
		cli_progress_update(&bar, done);
		if (cli_now() - last_save >= 1.0) {
			save_progress(&m, prog_path);
			last_save = cli_now();
		}
		pthread_mutex_lock(&m.mu);
	}
	pthread_mutex_unlock(&m.mu);
	for (unsigned i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	free(th);
	save_progress(&m, prog_path);
	double el = cli_now() - t0;
	unsigned long long ok = m.created + m.existing;
	cli_progress_done(&bar, ok + m.failed);
	if (m.stop)
		fprintf(stderr, "idnode import: stopped: %s\n", m.stop_msg);
	fprintf(stderr, "idnode import: imported %llu (created %llu, existing %llu, failed %llu) in "
			"%.2f s, %.0f/s\n",
		ok, m.created, m.existing, m.failed, el, el > 0 ? (double)ok / el : 0.0);
	if (m.skipped)
		fprintf(stderr, "idnode import: %llu identifiers skipped (--resume, before line %llu)\n",
			m.skipped, m.skip_below);
	if (m.failed && rep_path)
		fprintf(stderr, "idnode import: failed lines are in %s\n", rep_path);
	if (o.json) {
		json_t *j = json_object();
		json_object_set_new(j, "imported", json_integer((json_int_t)ok));
		json_object_set_new(j, "created", json_integer((json_int_t)m.created));
		json_object_set_new(j, "existing", json_integer((json_int_t)m.existing));
		json_object_set_new(j, "failed", json_integer((json_int_t)m.failed));
		json_object_set_new(j, "unreadable", json_integer((json_int_t)m.bad));
		json_object_set_new(j, "skipped", json_integer((json_int_t)m.skipped));
		json_object_set_new(j, "seconds", json_real(el));
		json_object_set_new(j, "rate", json_real(el > 0 ? (double)ok / el : 0.0));
		if (m.stop)
			json_object_set_new(j, "stopped", json_string(m.stop_msg));
		cli_json_print(j);
	}
	rc = input_fatal || m.bad || started == 0 ? 2 : m.failed || m.stop ? 1 : 0;
	if (started == 0)
		fprintf(stderr, "idnode import: cannot start threads\n");
out_report:
	idn_reader_close(m.rd);
	free(m.done);
	free(m.first);
	if (m.report && m.report != stderr)
		fclose(m.report);
out_in:
	if (in && in != stdin)
		fclose(in);
out_names:
	free(rep_path);
	free(prog_path);
out_auth:
	idn_auth_free(&a);
	return rc;
}
