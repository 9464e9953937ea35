/* test_signals.c - integration: SIGTERM answers and stores the writes it read before exiting 0; SIGHUP reloads the config without dropping a query. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "client/admin.h"
#include "client/client.h"
#include "proto/msg.h"
#include "proto/record.h"
#include "storage/store.h"
#include "tests/util/testutil.h"

static tu_daemon_t D;
static char CONF[256];

static int teardown(void **state)
{
	tu_daemon_cleanup(&D);
	memset(&D, 0, sizeof(D));
	if (CONF[0])
		unlink(CONF);
	CONF[0] = 0;
	return 0;
}

static int count_lines(const char *path, const char *what)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char line[2048];
	int n = 0;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, what) != NULL;
	fclose(f);
	return n;
}

/* ---- SIGTERM ---- */

static void test_sigterm_drains(void **s)
{
	assert_int_equal(tu_daemon_start(&D, NULL), 0);
	char path[512];
	idn_auth_t a;
	memset(&a, 0, sizeof(a));
	assert_int_equal(idn_auth_parse_id(&a, "300:0.NA/88.100"), IDN_OK);
	snprintf(path, sizeof(path), "%s/data/admin-key.pem", D.dir);
	assert_int_equal(idn_auth_load_key(&a, path), IDN_OK);
	idn_client_t *c;
	assert_int_equal(idn_client_open(D.server, IDN_CLIENT_TCP, 10000, &c), IDN_OK);
	assert_int_equal(idn_client_login(c, &a, 5150), IDN_OK);

	enum { N = 200 };
	uint32_t ids[N];
	char names[N][40];
	for (int i = 0; i < N; i++) {
		uint8_t vbuf[256], req[1024];
		idn_wire_t vw, w;
		idn_wire_init(&vw, vbuf, sizeof(vbuf));
		idn_value_t v = { .index = 1, .ttl = 86400, .perms = IDN_PERM_DEFAULT,
				  .type = { (const uint8_t *)"URL", 3 },
				  .data = { (const uint8_t *)"https://example.com/term", 24 } };
		idn_value_encode(&vw, &v);
		snprintf(names[i], sizeof(names[i]), "88.100/TERM-%03d", i);
		idn_wire_init(&w, req, sizeof(req));
		idn_req_opts_t o = { .request_id = ids[i] = idn_client_request_id(c),
				     .session_id = 5150 };
		assert_int_equal(idn_build_values_req(&w, IDN_OC_CREATE_HANDLE, names[i], 1,
						      (idn_bytes_t){ vbuf, (uint32_t)idn_wire_offset(&vw) },
						      &o),
				 IDN_OK);
		assert_int_equal(idn_client_write(c, req, idn_wire_offset(&w)), IDN_OK);
	}
	assert_int_equal(kill(D.pid, SIGTERM), 0);
	/* Every answer that arrives, until the node closes the connection. */
	bool acked[N] = { false };
	int answered = 0, ok = 0;
	for (int i = 0; i < N; i++) {
		const uint8_t *resp;
		size_t len;
		if (idn_client_read(c, 15000, &resp, &len) != IDN_OK)
			break;
		idn_msg_t m;
		assert_int_equal(idn_msg_decode(resp, len, &m), IDN_OK);
		assert_int_equal(m.env.request_id, ids[i]);
		answered++;
		if (m.hdr.rcode == IDN_RC_SUCCESS) {
			acked[i] = true;
			ok++;
		}
	}
	fprintf(stderr, "SIGTERM after %d pipelined creates: %d answered, %d RC 1\n", N, answered,
		ok);
	idn_client_close(c);
	idn_auth_free(&a);
	/* The status waitpid saw: a clean stop. */
	int st = -1;
	for (int i = 0; i < 1000 && D.pid > 0; i++) {
		int ws;
		if (waitpid(D.pid, &ws, WNOHANG) == D.pid) {
			st = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
			D.pid = 0;
			break;
		}
		usleep(20000);
	}
	assert_int_equal(st, 0);

	/* Every acknowledged create is in the store. */
	char dir[256];
	snprintf(dir, sizeof(dir), "%s/data", D.dir);
	idn_store_t *store;
	idn_store_opts_t so = { .read_only = true };
	assert_int_equal(idn_store_open(dir, &so, &store), IDN_OK);
	idn_reader_t *r;
	assert_int_equal(idn_reader_new(store, &r), IDN_OK);
	assert_int_equal(idn_reader_begin(r), IDN_OK);
	for (int i = 0; i < N; i++) {
		idn_record_t rec;
		if (acked[i])
			assert_int_equal(idn_reader_get(r, (const uint8_t *)names[i],
							strlen(names[i]), &rec),
					 IDN_OK);
	}
	idn_reader_end(r);
	idn_reader_free(r);
	idn_store_close(store);
	char log[256];
	snprintf(log, sizeof(log), "%s/daemon.log", D.dir);
	assert_int_equal(count_lines(log, "AddressSanitizer"), 0);
	assert_true(count_lines(log, "stopped:") == 1);
}

/* ---- SIGHUP ---- */

static void write_conf(const char *desc, const char *extra)
{
	FILE *f = fopen(CONF, "w");
	assert_non_null(f);
	fprintf(f, "# test_signals\nsite-description = \"%s\"\nlog-level = info\n%s", desc,
		extra ? extra : "");
	fclose(f);
}

static _Atomic int stop_loop;
static _Atomic long sent, answered, failed;

/* Resolve as fast as possible, UDP and TCP in turn, on fresh clients so a
 * lost datagram is a failure (no resend hides it). */
static void *resolver(void *arg)
{
	idn_client_t *tcp;
	if (idn_client_open(D.server, IDN_CLIENT_TCP, 5000, &tcp) != IDN_OK)
		return NULL;
	while (!atomic_load(&stop_loop)) {
		/* Under the node's per-source rate limit (2000/s by default):
		 * a refusal there would not be the reload's doing. */
		usleep(500);
		idn_client_t *udp;
		idn_msg_t m;
		if (idn_client_open(D.server, IDN_CLIENT_UDP, 2000, &udp) == IDN_OK) {
			atomic_fetch_add(&sent, 1);
			int ret = idn_client_resolve(udp, "0.NA/88.100", NULL, &m);
			if (ret == IDN_OK && m.hdr.rcode == IDN_RC_SUCCESS) {
				atomic_fetch_add(&answered, 1);
			} else {
				fprintf(stderr, "UDP resolve: %s RC %u\n", idn_strerror(ret), ret ? 0 : m.hdr.rcode);
				atomic_fetch_add(&failed, 1);
			}
			idn_client_close(udp);
		}
		atomic_fetch_add(&sent, 1);
		int ret = idn_client_resolve(tcp, "0.NA/88.100", NULL, &m);
		if (ret == IDN_OK && m.hdr.rcode == IDN_RC_SUCCESS) {
			atomic_fetch_add(&answered, 1);
		} else {
			fprintf(stderr, "TCP resolve: %s RC %u\n", idn_strerror(ret), ret ? 0 : m.hdr.rcode);
			atomic_fetch_add(&failed, 1);
		}
	}
	idn_client_close(tcp);
	return NULL;
}

/* The `desc` attribute of the node's site record (get-site-info). */
static void site_desc(char *out, size_t cap, uint16_t *serial)
{
	idn_client_t *c;
	assert_int_equal(idn_client_open(D.server, IDN_CLIENT_TCP, 5000, &c), IDN_OK);
	uint8_t req[256];
	idn_wire_t w;
	idn_wire_init(&w, req, sizeof(req));
	idn_req_opts_t o = { .request_id = idn_client_request_id(c) };
	assert_int_equal(idn_build_handle_req(&w, IDN_OC_GET_SITE_INFO, "/", &o), IDN_OK);
	const uint8_t *resp;
	size_t rl;
	assert_int_equal(idn_client_send(c, req, idn_wire_offset(&w), &resp, &rl), IDN_OK);
	idn_msg_t m;
	idn_bytes_t body;
	assert_int_equal(idn_msg_decode(resp, rl, &m), IDN_OK);
	assert_int_equal(m.hdr.rcode, IDN_RC_SUCCESS);
	assert_int_equal(idn_resp_body(&m, &body), IDN_OK);
	idn_site_t site;
	assert_int_equal(idn_site_decode(body.p, body.len, &site), IDN_OK);
	out[0] = 0;
	for (uint32_t i = 0; i < site.n_attrs; i++)
		if (site.attrs[i].name.len == 4 && memcmp(site.attrs[i].name.p, "desc", 4) == 0)
			snprintf(out, cap, "%.*s", (int)site.attrs[i].value.len,
				 (const char *)site.attrs[i].value.p);
	*serial = site.serial;
	idn_client_close(c);
}

static void wait_log(const char *log, const char *what, int n)
{
	for (int i = 0; i < 500 && count_lines(log, what) < n; i++)
		usleep(10000);
	if (count_lines(log, what) < n) {
		char cmd[400];
		snprintf(cmd, sizeof(cmd), "grep -i reload '%s' >&2", log);
		if (system(cmd) != 0)
			fprintf(stderr, "no reload lines in %s\n", log);
	}
	assert_true(count_lines(log, what) >= n);
}

static void test_sighup_reload(void **s)
{
	snprintf(CONF, sizeof(CONF), "/tmp/idn-hup-%d.conf", (int)getpid());
	write_conf("first description", NULL);
	char opt[300];
	snprintf(opt, sizeof(opt), "--config=%s", CONF);
	const char *extra[] = { opt, NULL };
	assert_int_equal(tu_daemon_start(&D, extra), 0);
	char log[256], desc[300];
	uint16_t serial;
	snprintf(log, sizeof(log), "%s/daemon.log", D.dir);
	site_desc(desc, sizeof(desc), &serial);
	assert_string_equal(desc, "first description");

	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, resolver, NULL), 0);
	for (int i = 0; i < 10; i++) {
		char d[64], ser[64];
		snprintf(d, sizeof(d), "description %d", i);
		snprintf(ser, sizeof(ser), "site-serial = %d\n", 10 + i);
		write_conf(d, ser);
		assert_int_equal(kill(D.pid, SIGHUP), 0);
		wait_log(log, "reload: applied", i + 1);
		usleep(50000);
	}
	atomic_store(&stop_loop, 1);
	pthread_join(th, NULL);
	fprintf(stderr, "10 reloads under load: %ld requests, %ld answered, %ld failed\n",
		atomic_load(&sent), atomic_load(&answered), atomic_load(&failed));
	assert_true(atomic_load(&sent) > 20);
	assert_int_equal(atomic_load(&failed), 0);
	assert_int_equal(atomic_load(&answered), atomic_load(&sent));
	site_desc(desc, sizeof(desc), &serial);
	assert_string_equal(desc, "description 9");
	assert_int_equal(serial, 19);

	/* A bad file changes nothing; the node goes on. */
	FILE *f = fopen(CONF, "w");
	assert_non_null(f);
	fputs("site-description = \"broken\"\nworkers = many\n", f);
	fclose(f);
	assert_int_equal(kill(D.pid, SIGHUP), 0);
	wait_log(log, "the running configuration is kept", 1);
	site_desc(desc, sizeof(desc), &serial);
	assert_string_equal(desc, "description 9");

	/* What cannot change live is reported and kept. */
	write_conf("description 9", "site-serial = 19\nmap-size = 128M\ntcp-idle-timeout = 30\n");
	assert_int_equal(kill(D.pid, SIGHUP), 0);
	wait_log(log, "map-size changed: needs a restart", 1);
	assert_true(count_lines(log, "reload: applied tcp-idle-timeout") == 1);
	assert_true(tu_daemon_alive(&D));
	assert_int_equal(tu_daemon_stop(&D), 0);
	assert_int_equal(count_lines(log, "AddressSanitizer"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_sigterm_drains, teardown),
		cmocka_unit_test_teardown(test_sighup_reload, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
