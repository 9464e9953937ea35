/* test_store.c - the LMDB store: schema, case-insensitive keys, record layout, txn latching, homing, backup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "proto/record.h"
#include "tests/util/testutil.h"
#include "storage/store.h"

typedef struct {
	char dir[64];
	idn_store_t *s;
} fx_t;

static int setup(void **state)
{
	fx_t *f = calloc(1, sizeof(*f));
	assert_int_equal(tu_tmpdir("test-store", f->dir, sizeof(f->dir)), 0);
	assert_int_equal(idn_store_open(f->dir, NULL, &f->s), IDN_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx_t *f = *state;
	idn_store_close(f->s);
	char backup[96];
	snprintf(backup, sizeof(backup), "%s-backup", f->dir);
	tu_rmrf(backup);
	assert_int_equal(tu_rmrf(f->dir), 0);
	free(f);
	return 0;
}

/* Encode values (index, type, data, perms) back to back. */
static size_t vals(uint8_t *buf, size_t cap, const uint32_t *idx, const uint8_t *perms, int n)
{
	idn_wire_t w;
	idn_wire_init(&w, buf, cap);
	for (int i = 0; i < n; i++) {
		char data[16];
		snprintf(data, sizeof(data), "v%u", idx[i]);
		idn_value_t v = { .index = idx[i], .ttl = 86400, .perms = perms[i],
				  .type = { (const uint8_t *)"URL", 3 },
				  .data = { (const uint8_t *)data, (uint32_t)strlen(data) } };
		idn_value_encode(&w, &v);
	}
	assert_int_equal(w.err, IDN_OK);
	return idn_wire_offset(&w);
}

#define H(s) (const uint8_t *)(s), strlen(s)

static void test_put_get(void **state)
{
	fx_t *f = *state;
	uint8_t b[512];
	const uint32_t idx[] = { 3, 1, 2 };
	const uint8_t perms[] = { 0x0e, 0x0e, 0x0e };
	size_t n = vals(b, sizeof(b), idx, perms, 3);
	idn_txn_t *t;
	assert_int_equal(idn_txn_begin(f->s, &t), IDN_OK);
	idn_txn_put(t, H("88.100/Mixed-Case"), b, n, 3);
	assert_int_equal(idn_txn_commit(t), IDN_OK);

	idn_reader_t *r;
	assert_int_equal(idn_reader_new(f->s, &r), IDN_OK);
	idn_record_t rec;
	assert_int_equal(idn_reader_get(r, H("88.100/x"), &rec), IDN_EINVAL); /* not begun */
	assert_int_equal(idn_reader_begin(r), IDN_OK);
	assert_int_equal(idn_reader_get(r, H("88.100/MIXED-case"), &rec), IDN_OK);
	assert_int_equal(rec.count, 3);
	assert_true(rec.flags & IDN_REC_ALL_PUBLIC);
	/* Stored in index order. */
	idn_wire_t in;
	idn_wire_init_ro(&in, rec.values.p, rec.values.len);
	for (uint32_t i = 1; i <= 3; i++) {
		idn_value_t v;
		assert_int_equal(idn_value_decode(&in, &v), IDN_OK);
		assert_int_equal(v.index, i);
	}
	assert_int_equal(idn_wire_avail(&in), 0);
	assert_int_equal(idn_reader_get(r, H("88.100/other"), &rec), IDN_ENOTFOUND);
	uint64_t snap = idn_reader_snapshot(r);
	idn_reader_end(r);
	assert_int_equal(idn_reader_begin(r), IDN_OK);
	assert_true(idn_reader_snapshot(r) != snap);
	idn_reader_end(r);
	idn_reader_free(r);
}

static void test_private_flag(void **state)
{
	fx_t *f = *state;
	uint8_t b[512];
	const uint32_t idx[] = { 1, 2 };
	const uint8_t perms[] = { 0x0e, 0x0c };
	size_t n = vals(b, sizeof(b), idx, perms, 2);
	idn_txn_t *t;
	assert_int_equal(idn_txn_begin(f->s, &t), IDN_OK);
	idn_txn_put(t, H("88.100/p"), b, n, 2);
	idn_record_t rec;
	assert_int_equal(idn_txn_get(t, H("88.100/P"), &rec), IDN_OK); /* sees its own write */
	assert_false(rec.flags & IDN_REC_ALL_PUBLIC);
	assert_int_equal(idn_txn_commit(t), IDN_OK);
}

static void test_bad_records(void **state)
{
	fx_t *f = *state;
	uint8_t b[512];
	const uint32_t idx[] = { 2, 2 };
	const uint8_t perms[] = { 0x0e, 0x0e };
	size_t n = vals(b, sizeof(b), idx, perms, 2);
	idn_txn_t *t;
	/* Duplicate index: latched, and the commit stores nothing. */
	assert_int_equal(idn_txn_begin(f->s, &t), IDN_OK);
	idn_txn_put(t, H("88.100/ok-before"), b, n / 2, 1);
	idn_txn_put(t, H("88.100/dup"), b, n, 2);
	assert_int_equal(idn_txn_error(t), IDN_EEXIST);
	assert_int_equal(idn_txn_commit(t), IDN_EEXIST);
	/* Wrong count, garbage, over-long key. */
	assert_int_equal(idn_txn_begin(f->s, &t), IDN_OK);
	idn_txn_put(t, H("88.100/count"), b, n, 3);
	assert_int_equal(idn_txn_error(t), IDN_EMALF);
	idn_txn_abort(t);
	assert_int_equal(idn_txn_begin(f->s, &t), IDN_OK);
	idn_txn_put(t, H("88.100/junk"), (const uint8_t *)"junk", 4, 1);
	assert_int_equal(idn_txn_error(t), IDN_EMALF);
	idn_txn_abort(t);
	char longh[IDN_STORE_MAX_KEY + 2];
	memset(longh, 'a', sizeof(longh) - 1);
	longh[sizeof(longh) - 1] = 0;
	assert_int_equal(idn_txn_begin(f->s, &t), IDN_OK);
	idn_txn_put(t, H(longh), b, n / 2, 1);
	assert_int_equal(idn_txn_error(t), IDN_ELIMIT);
	idn_txn_abort(t);
	idn_reader_t *r;
	idn_record_t rec;
	assert_int_equal(idn_reader_new(f->s, &r), IDN_OK);
	assert_int_equal(idn_reader_begin(r), IDN_OK);
	assert_int_equal(idn_reader_get(r, H("88.100/ok-before"), &rec), IDN_ENOTFOUND);
	assert_int_equal(idn_reader_get(r, H(longh), &rec), IDN_ENOTFOUND);
	idn_reader_end(r);
	idn_reader_free(r);
}

static int count_cb(void *arg, idn_bytes_t na)
{
	(*(int *)arg)++;
	return 0;
}

static void test_home_meta_delete(void **state)
{
	fx_t *f = *state;
	idn_txn_t *t;
	assert_int_equal(idn_txn_begin(f->s, &t), IDN_OK);
	idn_txn_home(t, H("0.NA/88.100"));
	idn_txn_home(t, H("0.na/88.200"));
	idn_txn_meta_put(t, "serial", "\x00\x07", 2);
	idn_bytes_t m;
	assert_int_equal(idn_txn_meta_get(t, "serial", &m), IDN_OK);
	assert_int_equal(m.len, 2);
	assert_int_equal(idn_txn_meta_get(t, "nope", &m), IDN_ENOTFOUND);
	assert_int_equal(idn_txn_commit(t), IDN_OK);
	idn_reader_t *r;
	assert_int_equal(idn_reader_new(f->s, &r), IDN_OK);
	assert_int_equal(idn_reader_begin(r), IDN_OK);
	assert_true(idn_reader_is_homed(r, H("0.na/88.100")));
	assert_true(idn_reader_is_homed(r, H("0.NA/88.200")));
	assert_false(idn_reader_is_homed(r, H("0.NA/88.300")));
	idn_reader_end(r);
	int count = 0;
	assert_int_equal(idn_store_foreach_homed(f->s, count_cb, &count), IDN_OK);
	assert_int_equal(count, 2);
	assert_int_equal(idn_txn_begin(f->s, &t), IDN_OK);
	idn_txn_unhome(t, H("0.NA/88.200"));
	idn_txn_del(t, H("88.100/none"));
	assert_int_equal(idn_txn_commit(t), IDN_ENOTFOUND);
	assert_int_equal(idn_reader_begin(r), IDN_OK);
	assert_true(idn_reader_is_homed(r, H("0.NA/88.200"))); /* the failed txn changed nothing */
	idn_reader_end(r);
	idn_reader_free(r);
	idn_store_stat_t st;
	assert_int_equal(idn_store_stat(f->s, &st), IDN_OK);
	assert_int_equal(st.homed, 2);
}

static void test_backup_reopen(void **state)
{
	fx_t *f = *state;
	uint8_t b[512];
	const uint32_t idx[] = { 1 };
	const uint8_t perms[] = { 0x0e };
	size_t n = vals(b, sizeof(b), idx, perms, 1);
	idn_txn_t *t;
	assert_int_equal(idn_txn_begin(f->s, &t), IDN_OK);
	idn_txn_put(t, H("88.100/b"), b, n, 1);
	assert_int_equal(idn_txn_commit(t), IDN_OK);
	char bdir[96];
	snprintf(bdir, sizeof(bdir), "%s-backup", f->dir);
	assert_int_equal(idn_store_backup(f->s, bdir), IDN_OK);
	idn_store_t *c;
	idn_store_opts_t ro = { .read_only = true };
	assert_int_equal(idn_store_open(bdir, &ro, &c), IDN_OK);
	idn_reader_t *r;
	idn_record_t rec;
	assert_int_equal(idn_reader_new(c, &r), IDN_OK);
	assert_int_equal(idn_reader_begin(r), IDN_OK);
	assert_int_equal(idn_reader_get(r, H("88.100/B"), &rec), IDN_OK);
	idn_reader_end(r);
	idn_reader_free(r);
	assert_int_equal(idn_txn_begin(c, &t), IDN_EACCES);
	idn_store_close(c);
}

static void test_not_a_store(void **state)
{
	char dir[] = "/tmp/idn-test-bad-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128];
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	FILE *fp = fopen(path, "w");
	for (int i = 0; i < 10000; i++)
		fputs("garbage!", fp);
	fclose(fp);
	idn_store_t *s;
	int ret = idn_store_open(dir, NULL, &s);
	assert_int_not_equal(ret, IDN_OK);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* The word-at-a-time fold equals the byte rule for every byte value, at
 * every length and alignment (a-z up, everything else, UTF-8 included, kept). */
static void test_fold(void **state)
{
	uint8_t in[300], out[300];
	for (int i = 0; i < 300; i++)
		in[i] = (uint8_t)(i * 7 + (i >> 8));
	for (size_t off = 0; off < 9; off++)
		for (size_t len = 0; len + off <= 256 + 16; len++) {
			memset(out, 0xee, sizeof(out));
			idn_handle_fold(in + off, len, out + 1);
			for (size_t i = 0; i < len; i++) {
				uint8_t c = in[off + i];
				uint8_t want = (c >= 'a' && c <= 'z') ? (uint8_t)(c - 32) : c;
				assert_int_equal(out[1 + i], want);
			}
			assert_int_equal(out[0], 0xee);
			assert_int_equal(out[1 + len], 0xee);
			/* In place, as the byte loop allowed. */
			uint8_t same[300];
			memcpy(same, in + off, len);
			idn_handle_fold(same, len, same);
			assert_memory_equal(same, out + 1, len);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_put_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_private_flag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_home_meta_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_reopen, setup, teardown),
		cmocka_unit_test(test_not_a_store),
		cmocka_unit_test(test_fold),
	};
	return cmocka_run_group_tests_name("storage/store", tests, NULL, NULL);
}
