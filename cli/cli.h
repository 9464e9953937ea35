/* cli.h - the idnode command-line tool: subcommand entry points and shared helpers. */
#ifndef IDN_CLI_H
#define IDN_CLI_H

#include <stdbool.h>
#include <stdio.h>

/*
 * Each subcommand is `int cmd_NAME(int argc, char **argv)` with argv[0] the
 * subcommand name; it returns the process exit code: 0 success, 1 failure
 * (some work failed), 2 usage error. Messages go to stderr prefixed
 * "idnode NAME: "; results go to stdout.
 */
int cmd_resolve(int argc, char **argv);
int cmd_load(int argc, char **argv);

/* Option parsing shared by subcommands: accepts --name=value and
 * --name value. Returns the value for `name` at argv[*i] and advances *i,
 * or NULL when argv[*i] is not that option. Bare flags: cli_flag(). */
const char *cli_opt(int argc, char **argv, int *i, const char *name);
bool cli_flag(char **argv, int i, const char *name);

/* A progress line on stderr (count, rate, ETA) when stderr is a tty or
 * `force`; throttled to 10 updates a second. total 0 = unknown. */
typedef struct {
	const char *what;
	unsigned long long total;
	double start;
	double last;
	bool enabled;
} cli_progress_t;

void cli_progress_init(cli_progress_t *p, const char *what, unsigned long long total, bool force);
void cli_progress_update(cli_progress_t *p, unsigned long long done);
void cli_progress_done(cli_progress_t *p, unsigned long long done);

double cli_now(void);

#endif
