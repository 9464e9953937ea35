/* testutil.c - helpers shared by the unit tests: hex decoding and capture files. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "client/admin.h"
#include "client/client.h"
#include "proto/msg.h"
#include "tests/util/testutil.h"

const char *tu_shared_dir(void)
{
	const char *d = getenv("IDN_SHARED");
	return d && *d ? d : "../shared";
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

long tu_hex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;
	for (const char *p = hex; *p; p++) {
		if (isspace((unsigned char)*p))
			continue;
		int v = hexval((unsigned char)*p);
		if (v < 0)
			return -1;
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n >= cap)
			return -1;
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	return hi < 0 ? (long)n : -1;
}

int tu_load_capture(const char *rel, tu_line_t **lines)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", tu_shared_dir(), rel);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	int n = 0, cap = 0;
	tu_line_t *v = NULL;
	char *buf = NULL, *note = NULL;
	size_t bcap = 0;
	ssize_t got;
	while ((got = getline(&buf, &bcap, f)) > 0) {
		if (buf[0] == '#') {
			const char *t = buf + (buf[1] == ' ' ? 2 : 1);
			free(note);
			note = strndup(t, strcspn(t, "\r\n"));
			continue;
		}
		if (buf[0] != 'C' && buf[0] != 'S')
			continue;
		if (got < 3 || buf[1] != '>')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			tu_line_t *nv = realloc(v, (size_t)cap * sizeof(*v));
			if (!nv)
				break;
			v = nv;
		}
		size_t hexlen = strlen(buf + 3);
		v[n].dir = buf[0];
		v[n].bytes = malloc(hexlen / 2 + 1);
		long len = tu_hex(buf + 3, v[n].bytes, hexlen / 2 + 1);
		if (len < 0) {
			free(v[n].bytes);
			continue;
		}
		v[n].len = (size_t)len;
		v[n].note = note;
		note = NULL;
		n++;
	}
	free(note);
	free(buf);
	fclose(f);
	*lines = v;
	return n;
}

void tu_lines_free(tu_line_t *lines, int n)
{
	for (int i = 0; i < n; i++) {
		free(lines[i].bytes);
		free(lines[i].note);
	}
	free(lines);
}

/* ---- integration helpers ---- */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *tu_bin(const char *name, char *buf, size_t len)
{
	const char *b = getenv("IDN_BUILD");
	snprintf(buf, len, "%s/%s", b && *b ? b : "build", name);
	return buf;
}

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int spawn(tu_daemon_t *d, const char *const *extra)
{
	char bin[256], datadir[200], logpath[200];
	tu_bin("idnoded", bin, sizeof(bin));
	snprintf(datadir, sizeof(datadir), "--data-dir=%s/data", d->dir);
	snprintf(logpath, sizeof(logpath), "%s/daemon.log", d->dir);
	const char *argv[32] = { bin, datadir, "--listen=127.0.0.1:0", "--workers=2",
				 "--http-listen=127.0.0.1:0", "--https-listen=127.0.0.1:0" };
	int argc = 6;
	for (int i = 0; extra && extra[i] && argc < 30; i++)
		argv[argc++] = extra[i];
	argv[argc] = NULL;

	off_t start_off = 0;
	struct stat st;
	if (stat(logpath, &st) == 0)
		start_off = st.st_size;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 2);
			close(fd);
		}
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	d->pid = pid;
	/* Wait for "ready: ... on 127.0.0.1:PORT", bounded. */
	double deadline = mono() + 20;
	while (mono() < deadline) {
		FILE *f = fopen(logpath, "r");
		if (f) {
			fseeko(f, start_off, SEEK_SET);
			char line[1024];
			while (fgets(line, sizeof(line), f)) {
				/* "http ready: http HOST:PORT https HOST:PORT" (or "off"),
				 * logged before the main "ready:" line. */
				char *hr = strstr(line, "http ready:");
				if (hr) {
					char *hp = strstr(hr, " http 127.0.0.1:");
					char *sp = strstr(hr, " https 127.0.0.1:");
					d->http_port = hp ? (unsigned)atoi(hp + 16) : 0;
					d->https_port = sp ? (unsigned)atoi(sp + 17) : 0;
					continue;
				}
				char *r = strstr(line, "ready:");
				char *on = r ? strstr(r, " on 127.0.0.1:") : NULL;
				if (on) {
					d->port = (unsigned)atoi(on + 14);
					snprintf(d->server, sizeof(d->server), "127.0.0.1:%u", d->port);
					fclose(f);
					return 0;
				}
			}
			fclose(f);
		}
		int status;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			d->pid = 0;
			return -1;
		}
		usleep(20000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	d->pid = 0;
	return -1;
}

int tu_daemon_start(tu_daemon_t *d, const char *const *extra)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->dir, sizeof(d->dir), "/tmp/idn-it-XXXXXX");
	if (!mkdtemp(d->dir))
		return -1;
	return spawn(d, extra);
}

int tu_daemon_restart(tu_daemon_t *d, const char *const *extra)
{
	return spawn(d, extra);
}

int tu_daemon_alive(tu_daemon_t *d)
{
	return d->pid > 0 && kill(d->pid, 0) == 0 && waitpid(d->pid, NULL, WNOHANG) == 0;
}

int tu_daemon_stop(tu_daemon_t *d)
{
	if (d->pid <= 0)
		return -1;
	kill(d->pid, SIGTERM);
	double deadline = mono() + 20;
	int status = 0;
	while (mono() < deadline) {
		pid_t r = waitpid(d->pid, &status, WNOHANG);
		if (r == d->pid) {
			d->pid = 0;
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		}
		usleep(20000);
	}
	kill(d->pid, SIGKILL);
	waitpid(d->pid, NULL, 0);
	d->pid = 0;
	return -1;
}

void tu_daemon_cleanup(tu_daemon_t *d)
{
	if (d->pid > 0)
		tu_daemon_stop(d);
	if (d->dir[0]) {
		char cmd[256];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", d->dir);
	}
}

int tu_run(const char *cmd, char *out, size_t cap)
{
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	size_t n = fread(out, 1, cap - 1, p);
	out[n] = 0;
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int tu_tmpdir(const char *what, char *buf, size_t len)
{
	snprintf(buf, len, "/tmp/idn-%s-XXXXXX", what);
	return mkdtemp(buf) ? 0 : -1;
}

int tu_rmrf(const char *dir)
{
	char cmd[512];
	if (strncmp(dir, "/tmp/idn-", 9) != 0 || strchr(dir, '\''))
		return -1; /* only ever our own temp dirs */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

long tu_site_info(const char *server, uint8_t *buf, size_t cap)
{
	idn_client_t *c;
	if (idn_client_open(server, IDN_CLIENT_TCP, 5000, &c) != IDN_OK)
		return -1;
	uint8_t req[256];
	idn_wire_t w;
	idn_wire_init(&w, req, sizeof(req));
	idn_req_opts_t o = { .request_id = idn_client_request_id(c) };
	const uint8_t *resp;
	size_t rl;
	idn_msg_t m;
	idn_bytes_t body;
	long n = -1;
	if (idn_build_handle_req(&w, IDN_OC_GET_SITE_INFO, "/", &o) == IDN_OK &&
	    idn_client_send(c, req, idn_wire_offset(&w), &resp, &rl) == IDN_OK &&
	    idn_msg_decode(resp, rl, &m) == IDN_OK && m.hdr.rcode == IDN_RC_SUCCESS &&
	    idn_resp_body(&m, &body) == IDN_OK && body.len <= cap) {
		memcpy(buf, body.p, body.len);
		n = (long)body.len;
	}
	idn_client_close(c);
	return n;
}
