/* cli.h - the idnode command-line tool: subcommand entry points and shared helpers. */
#ifndef IDN_CLI_H
#define IDN_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "client/admin.h"
#include "client/client.h"

/*
 * Each subcommand is `int cmd_NAME(int argc, char **argv)` with argv[0] the
 * subcommand name; it returns the process exit code: 0 success, 1 failure
 * (some work failed), 2 usage error. Messages go to stderr prefixed
 * "idnode NAME: "; results go to stdout.
 */
int cmd_resolve(int argc, char **argv);
int cmd_load(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
/* create, add, modify, remove, delete, list, home, unhome, list-homed (argv[0]). */
int cmd_admin(int argc, char **argv);
int cmd_prefix(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_backup(int argc, char **argv);
int cmd_restore(int argc, char **argv);

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

/* ---- options shared by the commands that talk to a node as an admin ---- */

typedef struct {
	const char *cmd;          /* "create", for messages */
	const char *server;       /* default 127.0.0.1:2641 */
	const char *auth_spec;    /* --auth */
	const char *key_file;     /* --key */
	const char *secret_file;  /* --secret-file */
	int timeout_ms;           /* --timeout, default 10000 */
	bool json;
} cli_admin_opts_t;

#define CLI_ADMIN_SYNOPSIS \
	"[--server=HOST:PORT] --auth=INDEX:HANDLE --key=FILE|--secret-file=FILE [--json]"

void cli_admin_init(cli_admin_opts_t *o, const char *cmd);
/* Consume argv[*i] when it is a common option: 1 = taken, 0 = not ours,
 * -1 = bad value (message printed; exit 2). */
int cli_admin_opt(cli_admin_opts_t *o, int argc, char **argv, int *i);
/* The lines of --help describing the common options. */
void cli_admin_usage(FILE *out);
/* The identity and key of --auth/--key/--secret-file: 0, or 2 (message
 * printed) when missing or unreadable. */
int cli_admin_auth(const cli_admin_opts_t *o, idn_auth_t *a);
/* A TCP client for --server: 0, or 2 for a bad address. */
int cli_admin_connect(const cli_admin_opts_t *o, idn_client_t **c);
/* Report an error answer: "idnode: create H: 101 HANDLE_ALREADY_EXISTS:
 * msg" on stderr, or with --json {"responseCode", "handle", "message"} on
 * stdout. */
void cli_admin_fail(const cli_admin_opts_t *o, const char *what, const idn_msg_t *m);
/* Report a transport or protocol failure (no usable answer). */
void cli_admin_error(const cli_admin_opts_t *o, const char *what, int err);
/* Print a JSON document (and a newline) on stdout; takes the reference. */
void cli_json_print(json_t *j);

#endif
