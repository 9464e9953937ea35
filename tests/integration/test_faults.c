/* test_faults.c - integration: a full store (small LMDB map, full tmpfs) refuses writes clearly and keeps what it acknowledged; bad stores at start exit 1 with one line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "client/admin.h"
#include "client/client.h"
#include "proto/msg.h"
#include "proto/record.h"
#include "proto/wire.h"
#include "storage/store.h"
#include "tests/util/testutil.h"

/* Handles answered RC 1, in order. */
typedef struct {
	char (*h)[48];
	size_t n, cap;
	size_t refused_full;     /* RC 3 / RC 2 with "Storage full: nothing was stored" */
	size_t refused_other;
} acks_t;

static void acks_add(acks_t *a, const char *h)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 1024;
		a->h = realloc(a->h, a->cap * sizeof(*a->h));
		assert_non_null(a->h);
	}
	size_t l = strnlen(h, sizeof(a->h[0]) - 1);
	memcpy(a->h[a->n], h, l);
	a->h[a->n++][l] = 0;
}

static idn_client_t *admin_conn(const tu_daemon_t *d, idn_auth_t *a, uint32_t session)
{
	char path[512];
	memset(a, 0, sizeof(*a));
	assert_int_equal(idn_auth_parse_id(a, "300:0.NA/88.100"), IDN_OK);
	snprintf(path, sizeof(path), "%s/admin-key.pem", d->dir);
	/* The data dir is <dir>/data unless the test put it elsewhere. */
	if (access(path, R_OK) != 0)
		snprintf(path, sizeof(path), "%s/data/admin-key.pem", d->dir);
	assert_int_equal(idn_auth_load_key(a, path), IDN_OK);
	idn_client_t *c;
	assert_int_equal(idn_client_open(d->server, IDN_CLIENT_TCP, 10000, &c), IDN_OK);
	assert_int_equal(idn_client_login(c, a, session), IDN_OK);
	return c;
}

/* Pipeline n creates of <tag>-<i> (a 300-byte URL each) and read the
 * answers; returns how many were refused as storage-full. */
static size_t create_batch(idn_client_t *c, uint32_t session, const char *tag, int first, int n,
			   acks_t *acks)
{
	static char data[301];
	memset(data, 'x', 300);
	memcpy(data, "https://example.com/", 20);
	uint32_t ids[512];
	char names[512][48];
	assert_true(n <= 512);
	for (int i = 0; i < n; i++) {
		uint8_t vbuf[512], req[1024];
		idn_wire_t vw, w;
		idn_wire_init(&vw, vbuf, sizeof(vbuf));
		idn_value_t v = { .index = 1, .ttl = 86400, .perms = IDN_PERM_DEFAULT,
				  .type = { (const uint8_t *)"URL", 3 },
				  .data = { (const uint8_t *)data, 300 } };
		idn_value_encode(&vw, &v);
		snprintf(names[i], sizeof(names[i]), "88.100/%s-%06d", tag, first + i);
		idn_wire_init(&w, req, sizeof(req));
		idn_req_opts_t o = { .request_id = ids[i] = idn_client_request_id(c),
				     .session_id = session };
		assert_int_equal(idn_build_values_req(&w, IDN_OC_CREATE_HANDLE, names[i], 1,
						      (idn_bytes_t){ vbuf, (uint32_t)idn_wire_offset(&vw) },
						      &o),
				 IDN_OK);
		assert_int_equal(idn_client_write(c, req, idn_wire_offset(&w)), IDN_OK);
	}
	size_t full = 0;
	for (int i = 0; i < n; i++) {
		const uint8_t *resp;
		size_t len;
		assert_int_equal(idn_client_read(c, 20000, &resp, &len), IDN_OK);
		idn_msg_t m;
		assert_int_equal(idn_msg_decode(resp, len, &m), IDN_OK);
		assert_int_equal(m.env.request_id, ids[i]);
		if (m.hdr.rcode == IDN_RC_SUCCESS) {
			acks_add(acks, names[i]);
			continue;
		}
		if ((m.hdr.rcode == IDN_RC_SERVER_TOO_BUSY || m.hdr.rcode == IDN_RC_ERROR) &&
		    memmem(resp, len, "Storage full: nothing was stored", 32)) {
			full++;
			acks->refused_full++;
			continue;
		}
		fprintf(stderr, "create %s: unexpected RC %u\n", names[i], m.hdr.rcode);
		acks->refused_other++;
	}
	return full;
}

static uint32_t resolve(const tu_daemon_t *d, int transport, const char *handle)
{
	idn_client_t *c;
	assert_int_equal(idn_client_open(d->server, transport, 5000, &c), IDN_OK);
	idn_msg_t m;
	int ret = idn_client_resolve(c, handle, NULL, &m);
	uint32_t rc = ret == IDN_OK ? m.hdr.rcode : 0;
	idn_client_close(c);
	return rc;
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

/* Every acknowledged handle is in the store at `dir` (opened read-only). */
static void check_stored(const char *dir, const acks_t *acks)
{
	idn_store_t *st;
	idn_store_opts_t so = { .read_only = true };
	assert_int_equal(idn_store_open(dir, &so, &st), IDN_OK);
	idn_reader_t *r;
	assert_int_equal(idn_reader_new(st, &r), IDN_OK);
	assert_int_equal(idn_reader_begin(r), IDN_OK);
	for (size_t i = 0; i < acks->n; i++) {
		idn_record_t rec;
		int ret = idn_reader_get(r, (const uint8_t *)acks->h[i], strlen(acks->h[i]), &rec);
		if (ret != IDN_OK)
			fprintf(stderr, "acknowledged %s missing: %s\n", acks->h[i], idn_strerror(ret));
		assert_int_equal(ret, IDN_OK);
		assert_int_equal(rec.count, 1);
	}
	idn_reader_end(r);
	idn_reader_free(r);
	idn_store_close(st);
}

/* Register until refusals come, and a little past them; check the node goes
 * on resolving and logs the condition a bounded number of times. */
static void fill(tu_daemon_t *d, const char *log, acks_t *acks)
{
	idn_auth_t a;
	idn_client_t *c = admin_conn(d, &a, 4242);
	int next = 0, full_rounds = 0;
	for (int round = 0; round < 400 && full_rounds < 6; round++) {
		size_t full = create_batch(c, 4242, "F", next, 200, acks);
		next += 200;
		if (full)
			full_rounds++;
	}
	assert_true(acks->n > 100);
	assert_true(acks->refused_full > 0);
	assert_int_equal(acks->refused_other, 0);
	fprintf(stderr, "store full after %zu acknowledged creates (%zu refused)\n", acks->n,
		acks->refused_full);
	/* Resolution goes on, over both transports. */
	assert_int_equal(resolve(d, IDN_CLIENT_UDP, acks->h[0]), IDN_RC_SUCCESS);
	assert_int_equal(resolve(d, IDN_CLIENT_TCP, acks->h[acks->n - 1]), IDN_RC_SUCCESS);
	assert_int_equal(resolve(d, IDN_CLIENT_UDP, "0.NA/88.100"), IDN_RC_SUCCESS);
	/* Refused writes leave the connection usable: one more refusal. */
	size_t before = acks->n;
	create_batch(c, 4242, "G", 0, 1, acks);
	assert_true(acks->n <= before + 1);
	idn_client_close(c);
	idn_auth_free(&a);
	/* Thousands of refusals, a handful of lines (one at the start, then
	 * at most one every 10 s). */
	int lines = count_lines(log, "writes refused");
	fprintf(stderr, "'writes refused' logged %d times\n", lines);
	assert_true(lines >= 1 && lines <= 4);
}

/* The test's daemon and tmpfs, for the teardown (an assertion that fails
 * leaves the test body). */
static tu_daemon_t D;
static char MNT[256];

static int teardown(void **state)
{
	if (D.pid > 0)
		tu_daemon_stop(&D);
	if (MNT[0]) {
		if (umount2(MNT, 0) != 0)
			umount2(MNT, MNT_DETACH);
		MNT[0] = 0;
	}
	tu_daemon_cleanup(&D);
	memset(&D, 0, sizeof(D));
	return 0;
}

static void test_map_full(void **s)
{
	tu_daemon_t *dp = &D;
#define d (*dp)
	const char *extra[] = { "--map-size=1M", NULL };
	assert_int_equal(tu_daemon_start(&d, extra), 0);
	char log[256], dir[256];
	snprintf(log, sizeof(log), "%s/daemon.log", d.dir);
	snprintf(dir, sizeof(dir), "%s/data", d.dir);
	acks_t acks = { 0 };
	fill(&d, log, &acks);
	assert_int_equal(tu_daemon_stop(&d), 0);
	check_stored(dir, &acks);
	assert_int_equal(count_lines(log, "AddressSanitizer"), 0);
	assert_int_equal(count_lines(log, "runtime error"), 0);

	/* A restart with a bigger map takes writes again. */
	const char *bigger[] = { "--map-size=8M", NULL };
	assert_int_equal(tu_daemon_restart(&d, bigger), 0);
	idn_auth_t a;
	idn_client_t *c = admin_conn(&d, &a, 777);
	size_t n0 = acks.n;
	assert_int_equal(create_batch(c, 777, "AFTER", 0, 20, &acks), 0);
	assert_int_equal(acks.n, n0 + 20);
	idn_client_close(c);
	idn_auth_free(&a);
	assert_int_equal(resolve(&d, IDN_CLIENT_UDP, acks.h[0]), IDN_RC_SUCCESS);
	assert_int_equal(tu_daemon_stop(&d), 0);
	check_stored(dir, &acks);
	free(acks.h);
#undef d
}

/* A real ENOSPC: the data dir on a 2 MiB tmpfs, a map far bigger, so LMDB's
 * page writes fail; then the filesystem grows and the same node takes
 * writes again. Needs mount(2) (root); skipped otherwise. */
static void test_enospc_tmpfs(void **s)
{
	tu_daemon_t *dp = &D;
#define d (*dp)
	memset(&d, 0, sizeof(d));
	snprintf(d.dir, sizeof(d.dir), "/tmp/idn-it-XXXXXX");
	assert_non_null(mkdtemp(d.dir));
	char mnt[256], datadir[300], log[256], opt[320];
	snprintf(mnt, sizeof(mnt), "%s/data", d.dir);
	assert_int_equal(mkdir(mnt, 0750), 0);
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=2m") != 0) {
		fprintf(stderr, "cannot mount a tmpfs here (%s): ENOSPC case skipped\n",
			strerror(errno));
		skip();
	}
	snprintf(MNT, sizeof(MNT), "%s", mnt);
	snprintf(datadir, sizeof(datadir), "%s", mnt);
	snprintf(log, sizeof(log), "%s/daemon.log", d.dir);
	snprintf(opt, sizeof(opt), "--map-size=256M");
	const char *extra[] = { opt, NULL };
	assert_int_equal(tu_daemon_restart(&d, extra), 0);
	acks_t acks = { 0 };
	fill(&d, log, &acks);
	assert_true(count_lines(log, "No space left on device") >= 1);

	/* Space comes back: the running node commits again. */
	assert_int_equal(mount("tmpfs", mnt, "tmpfs", MS_REMOUNT, "size=16m"), 0);
	idn_auth_t a;
	idn_client_t *c = admin_conn(&d, &a, 99);
	size_t n0 = acks.n;
	assert_int_equal(create_batch(c, 99, "BACK", 0, 20, &acks), 0);
	assert_int_equal(acks.n, n0 + 20);
	idn_client_close(c);
	idn_auth_free(&a);
	assert_true(count_lines(log, "writes are committed again") >= 1);
	assert_int_equal(tu_daemon_stop(&d), 0);
	check_stored(datadir, &acks);
	assert_int_equal(count_lines(log, "AddressSanitizer"), 0);
	free(acks.h);
#undef d
}

/* ---- stores that cannot be opened ---- */

/* Run idnoded on `datadir`; its exit status, the log in `log`. */
static int run_on(const char *datadir, const char *log)
{
	char bin[256], cmd[1024], out[64];
	tu_bin("idnoded", bin, sizeof(bin));
	snprintf(cmd, sizeof(cmd),
		 "timeout 30 %s --data-dir='%s' --listen=127.0.0.1:0 --http-listen= "
		 "--https-listen= 2>'%s'; echo $?",
		 bin, datadir, log);
	assert_int_equal(tu_run(cmd, out, sizeof(out)), 0);
	return atoi(out);
}

static void expect_refusal(const char *datadir, const char *what)
{
	char log[300];
	snprintf(log, sizeof(log), "%s.log", datadir);
	int st = run_on(datadir, log);
	fprintf(stderr, "%s: exit %d\n", what, st);
	assert_int_equal(st, 1);
	assert_int_equal(count_lines(log, "cannot open the store in"), 1);
	FILE *f = fopen(log, "r");
	assert_non_null(f);
	char line[2048] = "";
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "cannot open the store in"))
			break;
	fclose(f);
	fprintf(stderr, "  %s", line);
	assert_non_null(strstr(line, datadir));
	assert_int_equal(count_lines(log, "AddressSanitizer"), 0);
	assert_int_equal(count_lines(log, "runtime error"), 0);
}

static void make_store(const char *dir)
{
	idn_store_t *st;
	assert_int_equal(idn_store_open(dir, NULL, &st), IDN_OK);
	idn_txn_t *t;
	assert_int_equal(idn_txn_begin(st, &t), IDN_OK);
	for (int i = 0; i < 2000; i++) {
		char h[32];
		uint8_t v[128];
		idn_wire_t w;
		idn_wire_init(&w, v, sizeof(v));
		idn_value_t val = { .index = 1, .ttl = 86400, .perms = IDN_PERM_DEFAULT,
				    .type = { (const uint8_t *)"URL", 3 },
				    .data = { (const uint8_t *)"https://example.com/", 20 } };
		idn_value_encode(&w, &val);
		snprintf(h, sizeof(h), "88.100/T-%d", i);
		idn_txn_put(t, (const uint8_t *)h, strlen(h), v, idn_wire_offset(&w), 1);
	}
	assert_int_equal(idn_txn_commit(t), IDN_OK);
	idn_store_close(st);
}

static void test_bad_stores(void **s)
{
	char root[128], p[256], f[300];
	assert_int_equal(tu_tmpdir("bad", root, sizeof(root)), 0);

	/* (a) data.mdb overwritten with garbage */
	snprintf(p, sizeof(p), "%s/garbage", root);
	make_store(p);
	snprintf(f, sizeof(f), "%s/data.mdb", p);
	FILE *fp = fopen(f, "r+");
	assert_non_null(fp);
	srand(7);
	for (int i = 0; i < 65536; i++)
		fputc(rand() & 0xff, fp);
	fclose(fp);
	expect_refusal(p, "garbage data.mdb");

	/* (b) truncated: the meta pages are intact, the tree is cut */
	snprintf(p, sizeof(p), "%s/truncated", root);
	make_store(p);
	snprintf(f, sizeof(f), "%s/data.mdb", p);
	struct stat stt;
	assert_int_equal(stat(f, &stt), 0);
	assert_int_equal(truncate(f, stt.st_size / 3), 0);
	expect_refusal(p, "truncated data.mdb");

	/* (c) unreadable: a file where the directory should be, and a
	 * directory where data.mdb should be (root ignores chmod) */
	snprintf(p, sizeof(p), "%s/notadir", root);
	fp = fopen(p, "w");
	assert_non_null(fp);
	fclose(fp);
	expect_refusal(p, "data dir is a file");
	snprintf(p, sizeof(p), "%s/mdbdir", root);
	assert_int_equal(mkdir(p, 0750), 0);
	snprintf(f, sizeof(f), "%s/data.mdb", p);
	assert_int_equal(mkdir(f, 0750), 0);
	expect_refusal(p, "data.mdb is a directory");

	/* (d) a newer schema */
	snprintf(p, sizeof(p), "%s/newer", root);
	make_store(p);
	idn_store_t *st;
	assert_int_equal(idn_store_open(p, NULL, &st), IDN_OK);
	idn_txn_t *t;
	assert_int_equal(idn_txn_begin(st, &t), IDN_OK);
	uint8_t ver[4] = { 0, 0, 0, 99 };
	idn_txn_meta_put(t, "schema", ver, 4);
	assert_int_equal(idn_txn_commit(t), IDN_OK);
	idn_store_close(st);
	expect_refusal(p, "schema 99");
	snprintf(f, sizeof(f), "%s.log", p);
	assert_int_equal(count_lines(f, "newer idnode"), 1);

	/* The library says the same without the daemon. */
	snprintf(p, sizeof(p), "%s/truncated", root);
	assert_int_equal(idn_store_open(p, NULL, &st), IDN_ECORRUPT);
	snprintf(p, sizeof(p), "%s/garbage", root);
	assert_int_equal(idn_store_open(p, NULL, &st), IDN_ECORRUPT);
	tu_rmrf(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_stores),
		cmocka_unit_test_teardown(test_map_full, teardown),
		cmocka_unit_test_teardown(test_enospc_tmpfs, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
