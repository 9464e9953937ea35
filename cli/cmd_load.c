/* cmd_load.c - `idnode load`: bulk-load identifiers (JSON lines) straight into a store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "storage/load.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: idnode load --db=DIR [--home] [--keep-going] [--progress] [--batch=N] FILE|-\n"
		"\n"
		"Load identifiers into the LMDB store in DIR (created if missing), one JSON\n"
		"object per line in the value shape of CNRI's REST API:\n"
		"  {\"handle\":\"88.100.12/PN-1\",\"values\":[{\"index\":1,\"type\":\"URL\",\n"
		"    \"data\":{\"format\":\"string\",\"value\":\"https://example.com/\"}}]}\n"
		"An existing handle is replaced. Blank lines and lines starting with # are\n"
		"skipped. FILE '-' reads standard input. The store may be in use by a running\n"
		"idnoded: it sees the new identifiers as each batch commits.\n"
		"\n"
		"Options:\n"
		"  --db=DIR       the node's data directory (its data-dir option)\n"
		"  --home         also home the prefix of every handle (0.NA/<prefix>)\n"
		"  --keep-going   report bad lines and go on (default: stop at the first)\n"
		"  --progress     show progress even when stderr is not a terminal\n"
		"  --batch=N      records per transaction (default 10000)\n"
		"\n"
		"Bad lines are reported as FILE:LINE: reason on stderr.\n"
		"Exit status: 0 all loaded, 1 some line or the store failed, 2 usage error.\n");
}

typedef struct {
	cli_progress_t bar;
	unsigned long long total_bytes;
	unsigned long long est_records;
} load_ui_t;

static void on_progress(void *arg, unsigned long long done, unsigned long long bytes)
{
	load_ui_t *ui = arg;
	/* The total is unknown up front: estimate it from the bytes read so far. */
	if (ui->total_bytes && bytes)
		ui->bar.total = (unsigned long long)((double)done * (double)ui->total_bytes / (double)bytes);
	cli_progress_update(&ui->bar, done);
}

static void on_error(void *arg, const char *msg)
{
	load_ui_t *ui = arg;
	if (ui->bar.enabled)
		fputc('\n', stderr);
	fprintf(stderr, "idnode load: %s\n", msg);
}

int cmd_load(int argc, char **argv)
{
	const char *db = NULL, *file = NULL, *v;
	bool progress = false;
	idn_load_opts_t o;
	memset(&o, 0, sizeof(o));
	for (int i = 1; i < argc; i++) {
		if (cli_flag(argv, i, "help") || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if ((v = cli_opt(argc, argv, &i, "db"))) {
			db = v;
		} else if (cli_flag(argv, i, "home")) {
			o.home_prefixes = true;
		} else if (cli_flag(argv, i, "keep-going")) {
			o.keep_going = true;
		} else if (cli_flag(argv, i, "progress")) {
			progress = true;
		} else if ((v = cli_opt(argc, argv, &i, "batch"))) {
			long n = atol(v);
			if (n < 1 || n > 10000000) {
				fprintf(stderr, "idnode load: bad --batch '%s'\n", v);
				return 2;
			}
			o.batch = (unsigned)n;
		} else if (argv[i][0] == '-' && argv[i][1] != 0) {
			fprintf(stderr, "idnode load: unknown option '%s' (see --help)\n", argv[i]);
			return 2;
		} else if (!file) {
			file = argv[i];
		} else {
			fprintf(stderr, "idnode load: one input file at a time\n");
			return 2;
		}
	}
	if (!db || !file) {
		usage(stderr);
		return 2;
	}

	FILE *in = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
	if (!in) {
		fprintf(stderr, "idnode load: %s: %s\n", file, strerror(errno));
		return 1;
	}
	load_ui_t ui;
	memset(&ui, 0, sizeof(ui));
	struct stat st;
	if (in != stdin && fstat(fileno(in), &st) == 0)
		ui.total_bytes = (unsigned long long)st.st_size;
	cli_progress_init(&ui.bar, "loaded", 0, progress);
	o.progress = on_progress;
	o.error = on_error;
	o.arg = &ui;

	/* An offline bulk load: commits skip fsync and the store is synced once
	 * when it is closed. Nothing here was acknowledged to a network client,
	 * and a crash mid-load only means running the (idempotent) load again. */
	idn_store_t *s;
	idn_store_opts_t so = { .nosync = true };
	int ret = idn_store_open(db, &so, &s);
	if (ret) {
		fprintf(stderr, "idnode load: cannot open the store in %s: %s\n", db,
			idn_strerror(ret));
		if (in != stdin)
			fclose(in);
		return 1;
	}
	double t0 = cli_now();
	idn_load_report_t rep;
	ret = idn_load_jsonl(s, in, strcmp(file, "-") == 0 ? "stdin" : file, &o, &rep);
	idn_store_close(s);
	if (in != stdin)
		fclose(in);
	cli_progress_done(&ui.bar, rep.loaded);
	double el = cli_now() - t0;
	fprintf(stderr, "idnode load: loaded %llu identifiers in %.2f s (%.0f/s), %llu failed\n",
		rep.loaded, el, el > 0 ? (double)rep.loaded / el : 0.0, rep.failed);
	if (ret && ret != IDN_EINVAL)
		fprintf(stderr, "idnode load: stopped: %s\n", idn_strerror(ret));
	return ret || rep.failed ? 1 : 0;
}
