/* config.h - idnoded's configuration: one table of options, a file parser and command-line overrides. */
#ifndef IDN_CONFIG_H
#define IDN_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>

/*
 * Rules of use:
 * - Every option is one row of the table in config.c: name, type, limits,
 *   default, help. The file parser, the command line (--name=value), the
 *   --check-config mode and `idnoded --print-config` (the commented sample in
 *   deploy/) all come from that table.
 * - A loaded idn_config_t is a plain value: copy it, never edit a live one
 *   in place (a reload builds a new one and swaps it).
 * - The file format: `name = value` lines, `#` starts a comment, values may
 *   be quoted with "...". Later lines override earlier ones; the command line
 *   overrides the file.
 */

#define IDN_CFG_STR 256

typedef struct {
	char config_path[PATH_MAX];
	char data_dir[PATH_MAX];
	char listen[IDN_CFG_STR];
	int workers;
	char node_prefix[IDN_CFG_STR];
	char public_address[IDN_CFG_STR];
	int server_id;
	int site_serial;
	char site_description[IDN_CFG_STR];
	char server_key[PATH_MAX];
	int tcp_idle_timeout;
	int tcp_max_connections;
	int udp_reassembly_timeout;
	int rate_limit, rate_burst, write_rate_limit, write_rate_burst, rate_limit_answers;
	int udp_max_answer, max_request, tcp_max_per_address, max_connections, tcp_slow_timeout;
	int max_values, max_handle_length;
	long long map_size;
	int reader_cache;
	char log_level[IDN_CFG_STR];
	bool demo;
	char admin_key[PATH_MAX];
	char admin_secret_file[PATH_MAX];
	char server_admins[1024];
	int quota_identifiers;
	int quota_daily;
	int auth_timeout;
	int write_batch;
	int utc_offset;
	char role[16];                 /* "secondary" or "top" */
	char upstream[1024];           /* "HOST:PORT,..." of the top-level node; "" = none */
	char upstream_key[PATH_MAX];
	char upstream_identity[IDN_CFG_STR];
	int upstream_retry_max;
	char http_listen[IDN_CFG_STR];
	char https_listen[IDN_CFG_STR];
	char https_cert[PATH_MAX];
	char https_key[PATH_MAX];
	int http_threads;
	long long http_max_body;
	int http_timeout;
	bool recursion;
	long long cache_size;
	int recursion_timeout;
	int negative_ttl;
} idn_config_t;

/* Fill *c with the built-in defaults (the "embedded default config"). */
void idn_config_defaults(idn_config_t *c);

/* Read a config file over *c. Errors are written as "FILE:LINE: message"
 * into err. Returns IDN_OK, IDN_ECONFIG, or -errno when the file can't be read. */
int idn_config_load_file(idn_config_t *c, const char *path, char *err, size_t errlen);

/* Apply one option by name ("workers", "4"); IDN_ECONFIG with a message. */
int idn_config_set(idn_config_t *c, const char *name, const char *value, char *err,
		   size_t errlen);

/* True when `name` is a known boolean option (so `--name` alone means yes). */
bool idn_config_is_bool(const char *name);
bool idn_config_known(const char *name);

/* Check cross-option rules (prefix syntax, address, ...). */
int idn_config_validate(const idn_config_t *c, char *err, size_t errlen);

/* Print the effective configuration (or, with `commented`, the sample file
 * with every option's help and default). */
void idn_config_print(const idn_config_t *c, FILE *out, bool commented);

/* The option list for --help. */
void idn_config_usage(FILE *out);

/* "info" -> 6 (syslog levels); -1 if unknown. */
int idn_log_level_parse(const char *s);

#endif
