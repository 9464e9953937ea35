/* test_outbox.c - the outbox to the top-level node: append, peek in order, delete, numbers never reused, stat, reopen, the codec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "storage/store.h"
#include "tests/util/testutil.h"

typedef struct {
	char dir[64];
	idn_store_t *s;
} fx_t;

static int setup(void **state)
{
	fx_t *f = calloc(1, sizeof(*f));
	assert_int_equal(tu_tmpdir("test-outbox", f->dir, sizeof(f->dir)), 0);
	assert_int_equal(idn_store_open(f->dir, NULL, &f->s), IDN_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx_t *f = *state;
	idn_store_close(f->s);
	assert_int_equal(tu_rmrf(f->dir), 0);
	free(f);
	return 0;
}

static void add(idn_store_t *s, uint32_t oc, const char *body, uint32_t now)
{
	idn_txn_t *t;
	assert_int_equal(idn_txn_begin(s, &t), IDN_OK);
	idn_txn_outbox_add(t, oc, 0x00400000u, (const uint8_t *)body, strlen(body), now);
	assert_int_equal(idn_txn_commit(t), IDN_OK);
}

static void del(idn_store_t *s, uint64_t seq)
{
	idn_txn_t *t;
	assert_int_equal(idn_txn_begin(s, &t), IDN_OK);
	idn_txn_outbox_del(t, seq);
	assert_int_equal(idn_txn_commit(t), IDN_OK);
}

static void expect(idn_store_t *s, uint64_t after, uint64_t seq, uint32_t oc, const char *body)
{
	idn_outbox_entry_t e;
	uint8_t buf[256];
	assert_int_equal(idn_store_outbox_peek(s, after, &e, buf, sizeof(buf)), IDN_OK);
	assert_int_equal(e.seq, seq);
	assert_int_equal(e.opcode, oc);
	assert_int_equal(e.opflag, 0x00400000u);
	assert_int_equal(e.body.len, strlen(body));
	assert_ptr_equal(e.body.p, buf);
	assert_memory_equal(e.body.p, body, strlen(body));
}

static void test_order_delete_stat(void **state)
{
	fx_t *f = *state;
	idn_outbox_entry_t e;
	uint8_t buf[16];
	uint64_t n;
	uint32_t oldest;
	assert_int_equal(idn_store_outbox_peek(f->s, 0, &e, buf, sizeof(buf)), IDN_ENOTFOUND);
	assert_int_equal(idn_store_outbox_stat(f->s, &n, &oldest), IDN_OK);
	assert_int_equal(n, 0);
	assert_int_equal(oldest, 0);

	add(f->s, 100, "first", 1000);
	add(f->s, 101, "second", 1001);
	add(f->s, 102, "third", 1002);
	assert_int_equal(idn_store_outbox_stat(f->s, &n, &oldest), IDN_OK);
	assert_int_equal(n, 3);
	assert_int_equal(oldest, 1000);
	expect(f->s, 0, 1, 100, "first");
	expect(f->s, 1, 2, 101, "second");
	expect(f->s, 2, 3, 102, "third");
	assert_int_equal(idn_store_outbox_peek(f->s, 3, &e, buf, sizeof(buf)), IDN_ENOTFOUND);

	/* A body longer than the buffer: its length is told. */
	assert_int_equal(idn_store_outbox_peek(f->s, 0, &e, buf, 2), IDN_ESPACE);
	assert_int_equal(e.body.len, 5);

	/* Delete out of order, twice (sent twice in effect is no error). */
	del(f->s, 2);
	del(f->s, 2);
	expect(f->s, 1, 3, 102, "third");
	del(f->s, 1);
	assert_int_equal(idn_store_outbox_stat(f->s, &n, &oldest), IDN_OK);
	assert_int_equal(n, 1);
	assert_int_equal(oldest, 1002);
	del(f->s, 3);
	assert_int_equal(idn_store_outbox_stat(f->s, &n, &oldest), IDN_OK);
	assert_int_equal(n, 0);

	/* Drained, numbers go on (a sender holding 3 never meets a new 1). */
	add(f->s, 101, "fourth", 1003);
	expect(f->s, 0, 4, 101, "fourth");
}

static void test_abort_and_reopen(void **state)
{
	fx_t *f = *state;
	idn_txn_t *t;
	add(f->s, 100, "kept", 5);
	assert_int_equal(idn_txn_begin(f->s, &t), IDN_OK);
	idn_txn_outbox_add(t, 100, 0, (const uint8_t *)"lost", 4, 6);
	idn_txn_abort(t);
	/* A child that aborts leaves no entry and no gap. */
	idn_txn_t *c;
	assert_int_equal(idn_txn_begin(f->s, &t), IDN_OK);
	assert_int_equal(idn_txn_begin_child(t, &c), IDN_OK);
	idn_txn_outbox_add(c, 100, 0, (const uint8_t *)"child", 5, 7);
	idn_txn_abort(c);
	idn_txn_outbox_add(t, 102, 0x00400000u, (const uint8_t *)"parent", 6, 8);
	assert_int_equal(idn_txn_commit(t), IDN_OK);
	/* Too long a body fails the txn. */
	assert_int_equal(idn_txn_begin(f->s, &t), IDN_OK);
	idn_txn_outbox_add(t, 100, 0, (const uint8_t *)"", IDN_OUTBOX_MAX_BODY + 1, 9);
	assert_int_equal(idn_txn_commit(t), IDN_ELIMIT);

	idn_store_close(f->s);
	assert_int_equal(idn_store_open(f->dir, NULL, &f->s), IDN_OK);
	uint64_t n;
	uint32_t oldest;
	assert_int_equal(idn_store_outbox_stat(f->s, &n, &oldest), IDN_OK);
	assert_int_equal(n, 2);
	assert_int_equal(oldest, 5);
	idn_outbox_entry_t e;
	uint8_t buf[64];
	assert_int_equal(idn_store_outbox_peek(f->s, 0, &e, buf, sizeof(buf)), IDN_OK);
	assert_int_equal(e.seq, 1);
	assert_int_equal(e.opflag, 0x00400000u);
	expect(f->s, 1, 2, 102, "parent");

	/* Read-only: the same view. */
	idn_store_close(f->s);
	idn_store_opts_t ro = { .read_only = true };
	assert_int_equal(idn_store_open(f->dir, &ro, &f->s), IDN_OK);
	assert_int_equal(idn_store_outbox_stat(f->s, &n, &oldest), IDN_OK);
	assert_int_equal(n, 2);
}

/* The layout example at the top of store.c, byte for byte. */
static void test_codec(void **state)
{
	uint8_t want[64], body[32], out[64];
	long wl = tu_hex("01 0000000000000001 66000000 00000065 00000000"
			 "00000012 0000000e 302e4e412f38382e3130302e3132", want, sizeof(want));
	long bl = tu_hex("0000000e 302e4e412f38382e3130302e3132", body, sizeof(body));
	idn_outbox_entry_t e = { .seq = 1, .time = 0x66000000, .opcode = 101,
				 .body = { body, (uint32_t)bl } };
	assert_int_equal(idn_outbox_size(&e), (size_t)wl);
	idn_outbox_encode(&e, out);
	assert_memory_equal(out, want, (size_t)wl);
	idn_outbox_entry_t d;
	assert_int_equal(idn_outbox_decode(want, (size_t)wl, &d), IDN_OK);
	assert_int_equal(d.seq, 1);
	assert_int_equal(d.opcode, 101);
	assert_int_equal(d.body.len, bl);
	assert_int_equal(idn_outbox_decode(want, (size_t)wl - 1, &d), IDN_EFEWDATA);
	out[wl] = 0;
	assert_int_equal(idn_outbox_decode(out, (size_t)wl + 1, &d), IDN_EMALF);
	want[0] = 2;
	assert_int_equal(idn_outbox_decode(want, (size_t)wl, &d), IDN_EVERSION);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_order_delete_stat, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort_and_reopen, setup, teardown),
		cmocka_unit_test(test_codec),
	};
	return cmocka_run_group_tests_name("storage/outbox", tests, NULL, NULL);
}
