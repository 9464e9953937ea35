/* testutil.h - helpers shared by the unit tests: hex decoding and capture files. */
#ifndef IDN_TESTUTIL_H
#define IDN_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Folder of the shared background material (vectors/, docs/): $IDN_SHARED or ../shared. */
const char *tu_shared_dir(void);

/* Decode hex (whitespace ignored) into out; returns the byte count or -1. */
long tu_hex(const char *hex, uint8_t *out, size_t cap);

/* One line of a capture file: direction 'C' or 'S' and its bytes (malloc'd). */
typedef struct {
	char dir;
	uint8_t *bytes;
	size_t len;
	char *note;     /* the '#' comment line just before it, without "# " and
			 * the newline (malloc'd), or NULL */
} tu_line_t;

/* Load a capture file (relative to tu_shared_dir(), e.g. "vectors/siteinfo-tcp.hex").
 * Comment lines ('#') are not lines of their own: the last one before a data
 * line becomes its `note`. Returns the number of lines, -1 on error;
 * *lines is malloc'd, free with tu_lines_free(). */
int tu_load_capture(const char *rel, tu_line_t **lines);
void tu_lines_free(tu_line_t *lines, int n);

#endif

/* ---- integration helpers ---- */

#include <sys/types.h>

/* A running idnoded started by a test. */
typedef struct {
	pid_t pid;
	unsigned port;
	char dir[128];            /* temp dir: data/, daemon.log */
	char server[64];          /* "127.0.0.1:PORT" */
	unsigned http_port;       /* HTTP listener (0 = off), from "http ready:" */
	unsigned https_port;      /* HTTPS listener (0 = off) */
} tu_daemon_t;

/* Path of a built program ("idnoded", "idnode") under $IDN_BUILD (default build). */
const char *tu_bin(const char *name, char *buf, size_t len);

/* Start idnoded on 127.0.0.1 with ephemeral ports (native, HTTP, HTTPS), a new temp data dir and
 * the given extra arguments (NULL-terminated); wait (bounded, 20 s) for its
 * "ready" line. Returns 0 or -1. */
int tu_daemon_start(tu_daemon_t *d, const char *const *extra);
/* Start again on the same data dir (after a stop). */
int tu_daemon_restart(tu_daemon_t *d, const char *const *extra);
/* SIGTERM, wait (bounded), return the exit status (or -1); keeps the dir. */
int tu_daemon_stop(tu_daemon_t *d);
/* Stop if running and remove the temp dir. */
void tu_daemon_cleanup(tu_daemon_t *d);
/* True while the process runs. */
int tu_daemon_alive(tu_daemon_t *d);

/* The node's site record at server ("HOST:PORT"): the body of its get-site-info
 * answer (over TCP), copied into buf. Its length, or -1 on any failure. */
long tu_site_info(const char *server, uint8_t *buf, size_t cap);

/* Run a shell command, capture up to cap-1 bytes of stdout in out; returns exit status. */
int tu_run(const char *cmd, char *out, size_t cap);

/* A new empty directory /tmp/idn-<what>-XXXXXX in buf (>= 64 bytes); 0 or -1. */
int tu_tmpdir(const char *what, char *buf, size_t len);
/* Remove a directory tree made by tu_tmpdir; 0 or -1. */
int tu_rmrf(const char *dir);
