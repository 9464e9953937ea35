/* util.c - option parsing and the progress line shared by idnode's subcommands. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

const char *cli_opt(int argc, char **argv, int *i, const char *name)
{
	const char *a = argv[*i];
	size_t n = strlen(name);
	if (strncmp(a, "--", 2) != 0 || strncmp(a + 2, name, n) != 0)
		return NULL;
	if (a[2 + n] == '=')
		return a + 3 + n;
	if (a[2 + n] == 0 && *i + 1 < argc) {
		(*i)++;
		return argv[*i];
	}
	return NULL;
}

bool cli_flag(char **argv, int i, const char *name)
{
	const char *a = argv[i];
	return strncmp(a, "--", 2) == 0 && strcmp(a + 2, name) == 0;
}

double cli_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void cli_progress_init(cli_progress_t *p, const char *what, unsigned long long total, bool force)
{
	p->what = what;
	p->total = total;
	p->start = p->last = cli_now();
	p->enabled = force || isatty(STDERR_FILENO);
}

static void draw(cli_progress_t *p, unsigned long long done, bool final)
{
	double el = cli_now() - p->start;
	double rate = el > 0 ? (double)done / el : 0;
	char eta[32] = "";
	if (p->total && rate > 0 && done < p->total) {
		double left = (double)(p->total - done) / rate;
		snprintf(eta, sizeof(eta), ", ETA %dm%02ds", (int)left / 60, (int)left % 60);
	}
	if (p->total) {
		double pct = 100.0 * (double)done / (double)p->total;
		fprintf(stderr, "\r%s: %llu/%llu (%.1f%%), %.0f/s%s   ", p->what, done, p->total,
			pct > 100 ? 100 : pct, rate, eta);
	} else {
		fprintf(stderr, "\r%s: %llu, %.0f/s   ", p->what, done, rate);
	}
	if (final)
		fputc('\n', stderr);
}

void cli_progress_update(cli_progress_t *p, unsigned long long done)
{
	if (!p->enabled)
		return;
	double now = cli_now();
	if (now - p->last < 0.1)
		return;
	p->last = now;
	draw(p, done, false);
}

void cli_progress_done(cli_progress_t *p, unsigned long long done)
{
	if (p->enabled)
		draw(p, done, true);
}
