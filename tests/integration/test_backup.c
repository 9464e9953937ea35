/* test_backup.c - integration: idnode backup while registrations run, idnode restore into a new directory, a node started there has every handle acknowledged before the backup. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "client/admin.h"
#include "client/client.h"
#include "proto/msg.h"
#include "proto/record.h"
#include "storage/store.h"
#include "tests/util/testutil.h"

static tu_daemon_t D, R;
static char BK[128];

static int teardown(void **state)
{
	tu_daemon_cleanup(&D);
	tu_daemon_cleanup(&R);
	if (BK[0])
		tu_rmrf(BK);
	return 0;
}

/* The load: pipelined creates in rounds of 100 on one logged-in
 * connection; `acked` counts the handles answered RC 1 (L-0 .. L-acked-1,
 * in order, as the rounds are answered in order). */
static _Atomic int stop_load, acked, load_failed;

static void *load(void *arg)
{
	idn_auth_t a;
	memset(&a, 0, sizeof(a));
	char path[512];
	idn_auth_parse_id(&a, "300:0.NA/88.100");
	snprintf(path, sizeof(path), "%s/data/admin-key.pem", D.dir);
	idn_client_t *c;
	if (idn_auth_load_key(&a, path) != IDN_OK ||
	    idn_client_open(D.server, IDN_CLIENT_TCP, 10000, &c) != IDN_OK) {
		atomic_store(&load_failed, 1);
		return NULL;
	}
	if (idn_client_login(c, &a, 31) != IDN_OK) {
		atomic_store(&load_failed, 1);
		goto out;
	}
	for (int next = 0; !atomic_load(&stop_load) && next < 200000; next += 100) {
		uint32_t ids[100];
		for (int i = 0; i < 100; i++) {
			uint8_t vbuf[256], req[1024];
			idn_wire_t vw, w;
			idn_wire_init(&vw, vbuf, sizeof(vbuf));
			idn_value_t v = { .index = 1, .ttl = 86400, .perms = IDN_PERM_DEFAULT,
					  .type = { (const uint8_t *)"URL", 3 },
					  .data = { (const uint8_t *)"https://example.com/bk", 22 } };
			idn_value_encode(&vw, &v);
			char h[40];
			snprintf(h, sizeof(h), "88.100/L-%d", next + i);
			idn_wire_init(&w, req, sizeof(req));
			idn_req_opts_t o = { .request_id = ids[i] = idn_client_request_id(c),
					     .session_id = 31 };
			idn_build_values_req(&w, IDN_OC_CREATE_HANDLE, h, 1,
					     (idn_bytes_t){ vbuf, (uint32_t)idn_wire_offset(&vw) }, &o);
			if (idn_client_write(c, req, idn_wire_offset(&w)) != IDN_OK) {
				atomic_store(&load_failed, 1);
				goto out;
			}
		}
		for (int i = 0; i < 100; i++) {
			const uint8_t *resp;
			size_t len;
			idn_msg_t m;
			if (idn_client_read(c, 20000, &resp, &len) != IDN_OK ||
			    idn_msg_decode(resp, len, &m) != IDN_OK || m.env.request_id != ids[i] ||
			    m.hdr.rcode != IDN_RC_SUCCESS) {
				atomic_store(&load_failed, 1);
				goto out;
			}
			atomic_store(&acked, next + i + 1);
		}
	}
out:
	idn_client_close(c);
	idn_auth_free(&a);
	return NULL;
}

static void test_backup_restore(void **s)
{
	assert_int_equal(tu_daemon_start(&D, NULL), 0);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, load, NULL), 0);
	while (atomic_load(&acked) < 2000 && !atomic_load(&load_failed))
		usleep(10000);
	assert_false(atomic_load(&load_failed));

	/* Backup while the load goes on. */
	int before = atomic_load(&acked);
	assert_int_equal(tu_tmpdir("bk", BK, sizeof(BK)), 0);
	char bin[256], cmd[1024], out[1024], dest[200];
	snprintf(dest, sizeof(dest), "%s/copy", BK);
	tu_bin("idnode", bin, sizeof(bin));
	snprintf(cmd, sizeof(cmd), "%s backup --db=%s/data %s", bin, D.dir, dest);
	assert_int_equal(tu_run(cmd, out, sizeof(out)), 0);
	fprintf(stderr, "%s", out);
	assert_non_null(strstr(out, "handles"));
	int during = atomic_load(&acked);
	atomic_store(&stop_load, 1);
	pthread_join(th, NULL);
	assert_false(atomic_load(&load_failed));
	fprintf(stderr, "acknowledged: %d before the backup, %d when it ended, %d in all\n", before,
		during, atomic_load(&acked));
	assert_true(during > before); /* it ran while the node took writes */

	/* A second backup into the same place is refused. */
	snprintf(cmd, sizeof(cmd), "%s backup --db=%s/data %s 2>&1", bin, D.dir, dest);
	assert_int_equal(tu_run(cmd, out, sizeof(out)), 1);
	/* Restore onto the running node's directory is refused. */
	snprintf(cmd, sizeof(cmd), "%s restore %s --db=%s/data --force 2>&1", bin, dest, D.dir);
	assert_int_equal(tu_run(cmd, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "in use"));

	/* Restore into a new directory and start a node there. */
	memset(&R, 0, sizeof(R));
	snprintf(R.dir, sizeof(R.dir), "/tmp/idn-it-XXXXXX");
	assert_non_null(mkdtemp(R.dir));
	snprintf(cmd, sizeof(cmd), "%s restore %s --db=%s/data", bin, dest, R.dir);
	assert_int_equal(tu_run(cmd, out, sizeof(out)), 0);
	fprintf(stderr, "%s", out);
	char path[300];
	snprintf(path, sizeof(path), "%s/data/server-key.pem", R.dir);
	assert_int_equal(access(path, R_OK), 0);
	snprintf(path, sizeof(path), "%s/data/admin-key.pem", R.dir);
	assert_int_equal(access(path, R_OK), 0);

	/* The store verifies: it opens and holds at least what was acknowledged. */
	snprintf(path, sizeof(path), "%s/data", R.dir);
	idn_store_t *st;
	idn_store_opts_t so = { .read_only = true };
	assert_int_equal(idn_store_open(path, &so, &st), IDN_OK);
	idn_store_stat_t ss;
	assert_int_equal(idn_store_stat(st, &ss), IDN_OK);
	assert_true(ss.handles >= (uint64_t)before + 1);
	idn_reader_t *r;
	assert_int_equal(idn_reader_new(st, &r), IDN_OK);
	assert_int_equal(idn_reader_begin(r), IDN_OK);
	for (int i = 0; i < before; i++) {
		char h[40];
		idn_record_t rec;
		snprintf(h, sizeof(h), "88.100/L-%d", i);
		assert_int_equal(idn_reader_get(r, (const uint8_t *)h, strlen(h), &rec), IDN_OK);
	}
	idn_reader_end(r);
	idn_reader_free(r);
	idn_store_close(st);

	assert_int_equal(tu_daemon_restart(&R, NULL), 0);
	idn_client_t *c;
	assert_int_equal(idn_client_open(R.server, IDN_CLIENT_UDP, 3000, &c), IDN_OK);
	idn_msg_t m;
	assert_int_equal(idn_client_resolve(c, "88.100/L-0", NULL, &m), IDN_OK);
	assert_int_equal(m.hdr.rcode, IDN_RC_SUCCESS);
	char last[40];
	snprintf(last, sizeof(last), "88.100/L-%d", before - 1);
	assert_int_equal(idn_client_resolve(c, last, NULL, &m), IDN_OK);
	assert_int_equal(m.hdr.rcode, IDN_RC_SUCCESS);
	idn_client_close(c);
	assert_int_equal(tu_daemon_stop(&R), 0);
	assert_int_equal(tu_daemon_stop(&D), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_backup_restore, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
