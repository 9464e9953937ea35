/* test_store2.c - the store's schema-2 additions: child txns, change log, counters, handle listing, v1 upgrade. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h> /* only to turn a store back into a schema-1 one */

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
	assert_int_equal(tu_tmpdir("test-store2", f->dir, sizeof(f->dir)), 0);
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

#define H(s) (const uint8_t *)(s), strlen(s)
#define B(s) ((idn_bytes_t){ (const uint8_t *)(s), (uint32_t)strlen(s) })

/* One URL value with index 1 and data `data`, in wire form. */
static size_t one_val(uint8_t *buf, size_t cap, const char *data)
{
	idn_wire_t w;
	idn_wire_init(&w, buf, cap);
	idn_value_t v = { .index = 1, .ttl = 86400, .perms = 0x0e,
			  .type = { (const uint8_t *)"URL", 3 },
			  .data = { (const uint8_t *)data, (uint32_t)strlen(data) } };
	idn_value_encode(&w, &v);
	assert_int_equal(w.err, IDN_OK);
	return idn_wire_offset(&w);
}

static void put(idn_txn_t *t, const char *h)
{
	uint8_t b[256];
	size_t n = one_val(b, sizeof(b), h);
	idn_txn_put(t, H(h), b, n, 1);
}

/* IDN_OK when h is stored, per a fresh reader. */
static int stored(idn_store_t *s, const char *h)
{
	idn_reader_t *r;
	idn_record_t rec;
	assert_int_equal(idn_reader_new(s, &r), IDN_OK);
	assert_int_equal(idn_reader_begin(r), IDN_OK);
	int ret = idn_reader_get(r, H(h), &rec);
	idn_reader_end(r);
	idn_reader_free(r);
	return ret;
}

/* ---- child txns ---- */

static void test_child_commit_abort(void **state)
{
	fx_t *f = *state;
	idn_txn_t *p, *c, *g;
	idn_record_t rec;
	assert_int_equal(idn_txn_begin(f->s, &p), IDN_OK);
	put(p, "88.100/parent");

	/* Committed child: merged into the parent, visible to it. */
	assert_int_equal(idn_txn_begin_child(p, &c), IDN_OK);
	assert_int_equal(idn_txn_get(c, H("88.100/PARENT"), &rec), IDN_OK); /* sees the parent */
	put(c, "88.100/kept");
	idn_txn_home(c, H("0.NA/88.100.12"));
	assert_true(idn_txn_is_homed(c, H("0.na/88.100.12")));
	assert_int_equal(idn_txn_begin_child(p, &g), IDN_EINVAL); /* one child at a time */
	assert_int_equal(idn_txn_commit(c), IDN_OK);
	assert_int_equal(idn_txn_get(p, H("88.100/kept"), &rec), IDN_OK);
	assert_true(idn_txn_is_homed(p, H("0.NA/88.100.12")));

	/* Aborted child: only its changes go. */
	assert_int_equal(idn_txn_begin_child(p, &c), IDN_OK);
	put(c, "88.100/aborted");
	idn_txn_del(c, H("88.100/kept"));
	idn_txn_abort(c);
	assert_int_equal(idn_txn_get(p, H("88.100/aborted"), &rec), IDN_ENOTFOUND);
	assert_int_equal(idn_txn_get(p, H("88.100/kept"), &rec), IDN_OK);

	/* A child with a latched error: its commit returns it, changes nothing,
	 * and the parent goes on. */
	assert_int_equal(idn_txn_begin_child(p, &c), IDN_OK);
	put(c, "88.100/failed");
	idn_txn_del(c, H("88.100/absent"));
	assert_int_equal(idn_txn_error(c), IDN_ENOTFOUND);
	assert_int_equal(idn_txn_commit(c), IDN_ENOTFOUND);
	assert_int_equal(idn_txn_error(p), IDN_OK);
	assert_int_equal(idn_txn_get(p, H("88.100/failed"), &rec), IDN_ENOTFOUND);

	/* Grandchild: committed into the child, discarded with it. */
	assert_int_equal(idn_txn_begin_child(p, &c), IDN_OK);
	assert_int_equal(idn_txn_begin_child(c, &g), IDN_OK);
	put(g, "88.100/grandchild");
	assert_int_equal(idn_txn_commit(g), IDN_OK);
	assert_int_equal(idn_txn_get(c, H("88.100/grandchild"), &rec), IDN_OK);
	idn_txn_abort(c);
	assert_int_equal(idn_txn_get(p, H("88.100/grandchild"), &rec), IDN_ENOTFOUND);

	/* Nothing is durable before the top-level commit. */
	assert_int_equal(stored(f->s, "88.100/kept"), IDN_ENOTFOUND);
	assert_int_equal(idn_txn_commit(p), IDN_OK);
	assert_int_equal(stored(f->s, "88.100/parent"), IDN_OK);
	assert_int_equal(stored(f->s, "88.100/kept"), IDN_OK);
	assert_int_equal(stored(f->s, "88.100/aborted"), IDN_ENOTFOUND);
	assert_int_equal(stored(f->s, "88.100/failed"), IDN_ENOTFOUND);
	assert_int_equal(stored(f->s, "88.100/grandchild"), IDN_ENOTFOUND);
}

static void test_child_misuse(void **state)
{
	fx_t *f = *state;
	idn_txn_t *p, *c, *g;
	idn_record_t rec;

	/* Using the parent while a child is open latches IDN_EINVAL in it. */
	assert_int_equal(idn_txn_begin(f->s, &p), IDN_OK);
	put(p, "88.100/p1");
	assert_int_equal(idn_txn_begin_child(p, &c), IDN_OK);
	put(c, "88.100/c1");
	put(p, "88.100/p2");
	assert_int_equal(idn_txn_error(p), IDN_EINVAL);
	assert_int_equal(idn_txn_error(c), IDN_OK);
	assert_int_equal(idn_txn_commit(c), IDN_OK);
	assert_int_equal(idn_txn_get(p, H("88.100/p1"), &rec), IDN_EINVAL);
	assert_int_equal(idn_txn_begin_child(p, &c), IDN_EINVAL); /* failed parent */
	assert_int_equal(idn_txn_commit(p), IDN_EINVAL);
	assert_int_equal(stored(f->s, "88.100/p1"), IDN_ENOTFOUND);
	assert_int_equal(stored(f->s, "88.100/c1"), IDN_ENOTFOUND);

	/* Committing the parent over open descendants aborts them all; their
	 * structs are then dead and only freed by their commit/abort. */
	assert_int_equal(idn_txn_begin(f->s, &p), IDN_OK);
	assert_int_equal(idn_txn_begin_child(p, &c), IDN_OK);
	assert_int_equal(idn_txn_begin_child(c, &g), IDN_OK);
	put(g, "88.100/g1");
	assert_int_equal(idn_txn_commit(p), IDN_EINVAL);
	put(g, "88.100/g2");
	assert_int_equal(idn_txn_commit(g), IDN_EINVAL);
	idn_txn_abort(c);
	assert_int_equal(stored(f->s, "88.100/g1"), IDN_ENOTFOUND);

	/* Aborting the parent over an open child, child freed first. */
	assert_int_equal(idn_txn_begin(f->s, &p), IDN_OK);
	assert_int_equal(idn_txn_begin_child(p, &c), IDN_OK);
	idn_txn_abort(p);
	idn_txn_abort(c);

	/* The store is still writable afterwards. */
	assert_int_equal(idn_txn_begin(f->s, &p), IDN_OK);
	put(p, "88.100/after");
	assert_int_equal(idn_txn_commit(p), IDN_OK);
	assert_int_equal(stored(f->s, "88.100/after"), IDN_OK);
}

/* ---- change log ---- */

typedef struct {
	int n;
	int stop_at;
	uint64_t seq[16];
	uint32_t op[16];
	char handle[16][32];
} chg_acc_t;

static int chg_cb(void *arg, const idn_change_t *c)
{
	chg_acc_t *a = arg;
	assert_true(a->n < 16);
	a->seq[a->n] = c->seq;
	a->op[a->n] = c->op;
	assert_true(c->handle.len < 32);
	memcpy(a->handle[a->n], c->handle.p, c->handle.len);
	a->handle[a->n][c->handle.len] = 0;
	a->n++;
	return a->n == a->stop_at;
}

static void log_one(idn_txn_t *t, uint32_t op, const char *h)
{
	idn_change_t c = { .op = op, .who = B("300:0.NA/88.100.12"), .handle = B(h) };
	idn_record_t rec;
	uint8_t rb[256];
	if (op != 101 && idn_txn_get(t, H(h), &rec) == IDN_OK) {
		/* The stored record bytes: header then values. */
		rb[0] = 0x01;
		rb[1] = rec.flags;
		idn_put_be32(rb + 2, rec.count);
		memcpy(rb + 6, rec.values.p, rec.values.len);
		c.data.p = rb;
		c.data.len = 6 + rec.values.len;
	}
	idn_txn_log(t, &c);
}

static void test_changelog_seq(void **state)
{
	fx_t *f = *state;
	idn_txn_t *t, *c;
	uint64_t seq;
	assert_int_equal(idn_store_last_seq(f->s, &seq), IDN_OK);
	assert_int_equal(seq, 0);

	assert_int_equal(idn_txn_begin(f->s, &t), IDN_OK);
	assert_int_equal(idn_txn_last_seq(t), 0);
	put(t, "88.100.12/a");
	log_one(t, 100, "88.100.12/a");
	put(t, "88.100.12/b");
	log_one(t, 100, "88.100.12/b");
	assert_int_equal(idn_txn_last_seq(t), 2);
	assert_int_equal(idn_txn_commit(t), IDN_OK);

	/* An aborted txn leaves no gap. */
	assert_int_equal(idn_txn_begin(f->s, &t), IDN_OK);
	log_one(t, 101, "88.100.12/gone");
	log_one(t, 101, "88.100.12/gone2");
	assert_int_equal(idn_txn_last_seq(t), 4);
	idn_txn_abort(t);

	/* Nor does an aborted child; a committed one continues the sequence. */
	assert_int_equal(idn_txn_begin(f->s, &t), IDN_OK);
	assert_int_equal(idn_txn_begin_child(t, &c), IDN_OK);
	log_one(c, 104, "88.100.12/child-aborted");
	assert_int_equal(idn_txn_last_seq(c), 3);
	idn_txn_abort(c);
	assert_int_equal(idn_txn_begin_child(t, &c), IDN_OK);
	idn_txn_del(c, H("88.100.12/a"));
	log_one(c, 101, "88.100.12/a");
	assert_int_equal(idn_txn_commit(c), IDN_OK);
	assert_int_equal(idn_txn_last_seq(t), 3);
	log_one(t, 300, "0.NA/88.100.12");
	assert_int_equal(idn_txn_commit(t), IDN_OK);
	assert_int_equal(idn_store_last_seq(f->s, &seq), IDN_OK);
	assert_int_equal(seq, 4);

	/* Survives a reopen and goes on from there. */
	idn_store_close(f->s);
	assert_int_equal(idn_store_open(f->dir, NULL, &f->s), IDN_OK);
	assert_int_equal(idn_txn_begin(f->s, &t), IDN_OK);
	log_one(t, 102, "88.100.12/b");
	assert_int_equal(idn_txn_commit(t), IDN_OK);

	chg_acc_t a = { 0 };
	assert_int_equal(idn_store_changes(f->s, 0, chg_cb, &a), IDN_OK);
	assert_int_equal(a.n, 5);
	const uint32_t ops[] = { 100, 100, 101, 300, 102 };
	const char *hs[] = { "88.100.12/a", "88.100.12/b", "88.100.12/a", "0.NA/88.100.12", "88.100.12/b" };
	for (int i = 0; i < 5; i++) {
		assert_int_equal(a.seq[i], (uint64_t)i + 1);
		assert_int_equal(a.op[i], ops[i]);
		assert_string_equal(a.handle[i], hs[i]);
	}
	/* From a sequence number, inclusive; cb can stop. */
	memset(&a, 0, sizeof(a));
	assert_int_equal(idn_store_changes(f->s, 3, chg_cb, &a), IDN_OK);
	assert_int_equal(a.n, 3);
	assert_int_equal(a.seq[0], 3);
	memset(&a, 0, sizeof(a));
	a.stop_at = 2;
	assert_int_equal(idn_store_changes(f->s, 1, chg_cb, &a), IDN_OK);
	assert_int_equal(a.n, 2);
	memset(&a, 0, sizeof(a));
	assert_int_equal(idn_store_changes(f->s, 6, chg_cb, &a), IDN_OK);
	assert_int_equal(a.n, 0);
}

typedef struct {
	idn_change_t c;
	uint8_t data[256];
	size_t n;
} chg_one_t;

static int chg_first(void *arg, const idn_change_t *c)
{
	chg_one_t *o = arg;
	o->c = *c;
	assert_true(c->data.len <= sizeof(o->data));
	memcpy(o->data, c->data.p, c->data.len);
	o->n = idn_change_size(c);
	return 1;
}

static void test_changelog_fields(void **state)
{
	fx_t *f = *state;
	idn_txn_t *t;
	assert_int_equal(idn_txn_begin(f->s, &t), IDN_OK);
	put(t, "88.100.12/Field");
	log_one(t, 100, "88.100.12/Field");
	idn_change_t c = { .time = 1234, .op = 101, .who = B("300:0.NA/88.100.12"),
			   .handle = B("88.100.12/x") };
	idn_txn_log(t, &c);
	char big[IDN_CHANGE_MAX_NAME + 2];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	idn_txn_t *ch;
	assert_int_equal(idn_txn_begin_child(t, &ch), IDN_OK);
	c.handle = B(big);
	idn_txn_log(ch, &c);
	assert_int_equal(idn_txn_commit(ch), IDN_ELIMIT);
	assert_int_equal(idn_txn_commit(t), IDN_OK);

	chg_one_t o;
	assert_int_equal(idn_store_changes(f->s, 1, chg_first, &o), IDN_OK);
	assert_int_equal(o.c.seq, 1);
	assert_int_equal(o.c.op, 100);
	assert_true(o.c.time > 1700000000u); /* 0 given: now */
	assert_int_equal(o.c.who.len, strlen("300:0.NA/88.100.12"));
	/* data is the stored record: format, flags, count, the value. */
	uint8_t vb[256];
	size_t vn = one_val(vb, sizeof(vb), "88.100.12/Field");
	assert_int_equal(o.c.data.len, 6 + vn);
	assert_int_equal(o.data[0], 0x01);
	assert_int_equal(idn_get_be32(o.data + 2), 1);
	assert_memory_equal(o.data + 6, vb, vn);

	assert_int_equal(idn_store_changes(f->s, 2, chg_first, &o), IDN_OK);
	assert_int_equal(o.c.seq, 2);
	assert_int_equal(o.c.time, 1234);
	assert_int_equal(o.c.data.len, 0);
	uint64_t seq;
	assert_int_equal(idn_store_last_seq(f->s, &seq), IDN_OK);
	assert_int_equal(seq, 2);
}

/* The example entry documented at the top of storage/store.c. */
static const char doc_entry[] =
	"01 0000000000000001 66000000 00000064"
	"0000000f 3330303a302e4e412f38382e313030"
	"00000008 38382e3130302f41"
	"00000024 01 01 00000001  00000001 00000000 00 00015180 0e"
	"         00000003 55524c 00000001 75 00000000";

static void test_change_codec(void **state)
{
	uint8_t buf[256], out[256];
	long n = tu_hex(doc_entry, buf, sizeof(buf));
	assert_true(n > 0);
	idn_change_t c;
	assert_int_equal(idn_change_decode(buf, (size_t)n, &c), IDN_OK);
	assert_int_equal(c.seq, 1);
	assert_int_equal(c.time, 0x66000000);
	assert_int_equal(c.op, 100);
	assert_int_equal(c.who.len, 15);
	assert_memory_equal(c.handle.p, "88.100/A", 8);
	assert_int_equal(c.data.len, 0x24);
	/* The data is a valid stored record of the documented layout. */
	idn_wire_t w;
	idn_value_t v;
	idn_wire_init_ro(&w, c.data.p + 6, c.data.len - 6);
	assert_int_equal(idn_value_decode(&w, &v), IDN_OK);
	assert_int_equal(idn_wire_avail(&w), 0);
	assert_int_equal(v.ttl, 86400);
	assert_int_equal(idn_change_size(&c), (size_t)n);
	idn_change_encode(&c, out);
	assert_memory_equal(out, buf, (size_t)n);

	/* Every truncation fails, a trailing byte and an unknown format too. */
	for (long i = 0; i < n; i++)
		assert_int_not_equal(idn_change_decode(buf, (size_t)i, &c), IDN_OK);
	buf[n] = 0;
	assert_int_equal(idn_change_decode(buf, (size_t)n + 1, &c), IDN_EMALF);
	buf[0] = 0x02;
	assert_int_equal(idn_change_decode(buf, (size_t)n, &c), IDN_EVERSION);
	/* A who length over the limit. */
	buf[0] = 0x01;
	idn_put_be32(buf + 17, IDN_CHANGE_MAX_NAME + 1);
	assert_int_equal(idn_change_decode(buf, (size_t)n, &c), IDN_ELIMIT);
}

/* ---- counters ---- */

typedef struct {
	int n;
	char names[8][32];
	uint64_t vals[8];
} ctr_acc_t;

static int ctr_cb(void *arg, idn_bytes_t name, uint64_t value)
{
	ctr_acc_t *a = arg;
	assert_true(a->n < 8 && name.len < 32);
	memcpy(a->names[a->n], name.p, name.len);
	a->names[a->n][name.len] = 0;
	a->vals[a->n++] = value;
	return 0;
}

static void test_counters(void **state)
{
	fx_t *f = *state;
	idn_txn_t *t, *c;
	assert_int_equal(idn_txn_begin(f->s, &t), IDN_OK);
	idn_txn_counter_add(t, H("ids:88.100.12"), 3);
	idn_txn_counter_add(t, H("ids:88.100.12"), -1);
	assert_int_equal(idn_txn_counter_get(t, H("ids:88.100.12")), 2);
	idn_txn_counter_add(t, H("ids:88.100.13"), 1);
	idn_txn_counter_add(t, H("ids:88.100.13"), -5); /* floor at 0 */
	assert_int_equal(idn_txn_counter_get(t, H("ids:88.100.13")), 0);
	idn_txn_counter_add(t, H("ids:88.100.14"), -1);  /* absent stays absent */
	idn_txn_counter_add(t, H("reg:88.100.12:20261201"), 7);
	idn_txn_counter_add(t, H("max"), INT64_MAX);
	idn_txn_counter_add(t, H("max"), INT64_MAX);
	idn_txn_counter_add(t, H("max"), 10);  /* saturates */
	assert_int_equal(idn_txn_counter_get(t, H("max")), UINT64_MAX);
	idn_txn_counter_add(t, H("min"), 5);
	idn_txn_counter_add(t, H("min"), INT64_MIN);
	assert_int_equal(idn_txn_counter_get(t, H("min")), 0);
	/* Binary names: an embedded NUL is part of the name. */
	idn_txn_counter_add(t, "ids:\0a", 6, 4);
	idn_txn_counter_add(t, "ids:\0b", 6, 5);
	assert_int_equal(idn_txn_counter_get(t, "ids:\0a", 6), 4);
	assert_int_equal(idn_txn_counter_get(t, "ids:", 4), 0);
	/* A child's additions go with it. */
	assert_int_equal(idn_txn_begin_child(t, &c), IDN_OK);
	idn_txn_counter_add(c, H("ids:88.100.12"), 100);
	assert_int_equal(idn_txn_counter_get(c, H("ids:88.100.12")), 102);
	idn_txn_abort(c);
	assert_int_equal(idn_txn_counter_get(t, H("ids:88.100.12")), 2);
	assert_int_equal(idn_txn_commit(t), IDN_OK);

	/* Bad names latch. */
	char longn[IDN_COUNTER_MAX_NAME + 1];
	memset(longn, 'n', sizeof(longn));
	assert_int_equal(idn_txn_begin(f->s, &t), IDN_OK);
	idn_txn_counter_add(t, longn, sizeof(longn) - 1, 1); /* at the limit: fine */
	assert_int_equal(idn_txn_error(t), IDN_OK);
	idn_txn_counter_add(t, longn, sizeof(longn), 1);
	assert_int_equal(idn_txn_error(t), IDN_ELIMIT);
	idn_txn_abort(t);
	assert_int_equal(idn_txn_begin(f->s, &t), IDN_OK);
	idn_txn_counter_add(t, "", 0, 1);
	assert_int_equal(idn_txn_commit(t), IDN_EINVAL);

	idn_reader_t *r;
	uint64_t v = 99;
	assert_int_equal(idn_reader_new(f->s, &r), IDN_OK);
	assert_int_equal(idn_reader_counter_get(r, H("ids:88.100.12"), &v), IDN_EINVAL);
	assert_int_equal(idn_reader_begin(r), IDN_OK);
	assert_int_equal(idn_reader_counter_get(r, H("ids:88.100.12"), &v), IDN_OK);
	assert_int_equal(v, 2);
	assert_int_equal(idn_reader_counter_get(r, H("reg:88.100.12:20261201"), &v), IDN_OK);
	assert_int_equal(v, 7);
	assert_int_equal(idn_reader_counter_get(r, H("nope"), &v), IDN_OK);
	assert_int_equal(v, 0);
	assert_int_equal(idn_reader_counter_get(r, longn, sizeof(longn), &v), IDN_ELIMIT);
	idn_reader_end(r);
	idn_reader_free(r);

	ctr_acc_t a = { 0 };
	assert_int_equal(idn_store_foreach_counter(f->s, H("ids:88"), ctr_cb, &a), IDN_OK);
	assert_int_equal(a.n, 2);
	assert_string_equal(a.names[0], "ids:88.100.12");
	assert_int_equal(a.vals[0], 2);
	assert_string_equal(a.names[1], "ids:88.100.13");
	assert_int_equal(a.vals[1], 0);
	memset(&a, 0, sizeof(a));
	assert_int_equal(idn_store_foreach_counter(f->s, "ids:\0", 5, ctr_cb, &a), IDN_OK);
	assert_int_equal(a.n, 2);
	assert_int_equal(a.vals[1], 5);
	memset(&a, 0, sizeof(a));
	assert_int_equal(idn_store_foreach_counter(f->s, NULL, 0, ctr_cb, &a), IDN_OK);
	assert_int_equal(a.n, 7); /* ids:\0a ids:\0b ids:..12 ids:..13 max min reg: */
	memset(&a, 0, sizeof(a));
	assert_int_equal(idn_store_foreach_counter(f->s, H("zzz"), ctr_cb, &a), IDN_OK);
	assert_int_equal(a.n, 0);
}

/* ---- listing ---- */

typedef struct {
	int n;
	int max;
	char keys[16][40];
} list_acc_t;

static int list_cb(void *arg, idn_bytes_t key)
{
	list_acc_t *a = arg;
	assert_true(a->n < 16 && key.len < 40);
	memcpy(a->keys[a->n], key.p, key.len);
	a->keys[a->n][key.len] = 0;
	a->n++;
	return a->max && a->n == a->max;
}

static void test_list(void **state)
{
	fx_t *f = *state;
	idn_txn_t *t;
	const char *hs[] = { "88.100.12/b", "88.100.12/A", "88.100.12/c-1", "88.100.12/D",
			     "88.100.12", "88.100.120/x", "88.100.12.1/y", "88.100.11/z",
			     "88.100.AB/q" };
	assert_int_equal(idn_txn_begin(f->s, &t), IDN_OK);
	for (size_t i = 0; i < sizeof(hs) / sizeof(hs[0]); i++)
		put(t, hs[i]);
	/* Inside the txn: sees its own writes. */
	list_acc_t a = { 0 };
	assert_int_equal(idn_txn_list(t, H("88.100.12"), NULL, 0, list_cb, &a), IDN_OK);
	assert_int_equal(a.n, 4);
	assert_int_equal(idn_txn_commit(t), IDN_OK);

	idn_reader_t *r;
	assert_int_equal(idn_reader_new(f->s, &r), IDN_OK);
	memset(&a, 0, sizeof(a));
	assert_int_equal(idn_reader_list(r, H("88.100.12"), NULL, 0, list_cb, &a), IDN_EINVAL);
	assert_int_equal(idn_reader_begin(r), IDN_OK);
	assert_int_equal(idn_reader_list(r, H("88.100.12"), NULL, 0, list_cb, &a), IDN_OK);
	assert_int_equal(a.n, 4);
	assert_string_equal(a.keys[0], "88.100.12/A");
	assert_string_equal(a.keys[1], "88.100.12/B");
	assert_string_equal(a.keys[2], "88.100.12/C-1");
	assert_string_equal(a.keys[3], "88.100.12/D");

	/* Pages of two, each starting after the last key of the one before
	 * (given in another case). */
	memset(&a, 0, sizeof(a));
	a.max = 2;
	assert_int_equal(idn_reader_list(r, H("88.100.12"), NULL, 0, list_cb, &a), IDN_OK);
	assert_int_equal(a.n, 2);
	memset(&a, 0, sizeof(a));
	a.max = 2;
	assert_int_equal(idn_reader_list(r, H("88.100.12"), H("88.100.12/b"), list_cb, &a), IDN_OK);
	assert_int_equal(a.n, 2);
	assert_string_equal(a.keys[0], "88.100.12/C-1");
	assert_string_equal(a.keys[1], "88.100.12/D");
	memset(&a, 0, sizeof(a));
	assert_int_equal(idn_reader_list(r, H("88.100.12"), H("88.100.12/D"), list_cb, &a), IDN_OK);
	assert_int_equal(a.n, 0);
	/* `after` need not be stored, and may sort before or after the range. */
	memset(&a, 0, sizeof(a));
	assert_int_equal(idn_reader_list(r, H("88.100.12"), H("88.100.12/BB"), list_cb, &a), IDN_OK);
	assert_int_equal(a.n, 2);
	memset(&a, 0, sizeof(a));
	assert_int_equal(idn_reader_list(r, H("88.100.12"), H("0"), list_cb, &a), IDN_OK);
	assert_int_equal(a.n, 4);
	memset(&a, 0, sizeof(a));
	assert_int_equal(idn_reader_list(r, H("88.100.12"), H("88.100.12"), list_cb, &a), IDN_OK);
	assert_int_equal(a.n, 4);
	memset(&a, 0, sizeof(a));
	assert_int_equal(idn_reader_list(r, H("88.100.12"), H("9"), list_cb, &a), IDN_OK);
	assert_int_equal(a.n, 0);

	/* Case folding of the prefix; other prefixes are not mixed in. */
	memset(&a, 0, sizeof(a));
	assert_int_equal(idn_reader_list(r, H("88.100.ab"), NULL, 0, list_cb, &a), IDN_OK);
	assert_int_equal(a.n, 1);
	assert_string_equal(a.keys[0], "88.100.AB/Q");
	memset(&a, 0, sizeof(a));
	assert_int_equal(idn_reader_list(r, H("88.100.1"), NULL, 0, list_cb, &a), IDN_OK);
	assert_int_equal(a.n, 0);
	assert_int_equal(idn_reader_list(r, NULL, 0, NULL, 0, list_cb, &a), IDN_EINVAL);
	idn_reader_end(r);
	idn_reader_free(r);
}

/* ---- schema ---- */

static uint32_t schema_of(idn_store_t *s)
{
	idn_txn_t *t;
	idn_bytes_t v;
	assert_int_equal(idn_txn_begin(s, &t), IDN_OK);
	assert_int_equal(idn_txn_meta_get(t, "schema", &v), IDN_OK);
	assert_int_equal(v.len, 4);
	uint32_t ver = idn_get_be32(v.p);
	idn_txn_abort(t);
	return ver;
}

/* Rewrite the closed store at dir as schema `ver`; drop the schema-2
 * databases when ver is 1 (what a version-1 node left behind). */
static void set_schema(const char *dir, uint32_t ver)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	assert_int_equal(mdb_env_open(env, dir, MDB_NOTLS, 0640), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	if (ver == 1) {
		assert_int_equal(mdb_dbi_open(txn, "changelog", 0, &dbi), 0);
		assert_int_equal(mdb_drop(txn, dbi, 1), 0);
		assert_int_equal(mdb_dbi_open(txn, "counters", 0, &dbi), 0);
		assert_int_equal(mdb_drop(txn, dbi, 1), 0);
	}
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	uint8_t vb[4];
	idn_put_be32(vb, ver);
	MDB_val k = { 6, "schema" }, v = { 4, vb };
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static int never_cb(void *arg, const idn_change_t *c)
{
	fail();
	return 1;
}

static int never_ctr(void *arg, idn_bytes_t name, uint64_t value)
{
	fail();
	return 1;
}

static void test_upgrade(void **state)
{
	fx_t *f = *state;
	assert_int_equal(schema_of(f->s), 2);
	idn_txn_t *t;
	assert_int_equal(idn_txn_begin(f->s, &t), IDN_OK);
	put(t, "88.100.12/v1");
	assert_int_equal(idn_txn_commit(t), IDN_OK);
	idn_store_close(f->s);
	f->s = NULL;
	set_schema(f->dir, 1);

	/* Read-only: the new databases read as empty. */
	idn_store_opts_t ro = { .read_only = true };
	assert_int_equal(idn_store_open(f->dir, &ro, &f->s), IDN_OK);
	uint64_t seq = 99, v = 99;
	assert_int_equal(idn_store_last_seq(f->s, &seq), IDN_OK);
	assert_int_equal(seq, 0);
	assert_int_equal(idn_store_changes(f->s, 0, never_cb, NULL), IDN_OK);
	assert_int_equal(idn_store_foreach_counter(f->s, NULL, 0, never_ctr, NULL), IDN_OK);
	idn_reader_t *r;
	assert_int_equal(idn_reader_new(f->s, &r), IDN_OK);
	assert_int_equal(idn_reader_begin(r), IDN_OK);
	assert_int_equal(idn_reader_counter_get(r, H("ids:88.100.12"), &v), IDN_OK);
	assert_int_equal(v, 0);
	idn_record_t rec;
	assert_int_equal(idn_reader_get(r, H("88.100.12/V1"), &rec), IDN_OK);
	idn_reader_end(r);
	idn_reader_free(r);
	idn_store_close(f->s);

	/* Read-write: upgraded in place, data kept, the new parts work. */
	assert_int_equal(idn_store_open(f->dir, NULL, &f->s), IDN_OK);
	assert_int_equal(schema_of(f->s), 2);
	assert_int_equal(stored(f->s, "88.100.12/v1"), IDN_OK);
	assert_int_equal(idn_txn_begin(f->s, &t), IDN_OK);
	log_one(t, 100, "88.100.12/v1");
	idn_txn_counter_add(t, H("ids:88.100.12"), 1);
	assert_int_equal(idn_txn_commit(t), IDN_OK);
	assert_int_equal(idn_store_last_seq(f->s, &seq), IDN_OK);
	assert_int_equal(seq, 1);
	idn_store_close(f->s);

	/* A newer schema is refused. */
	set_schema(f->dir, 3);
	f->s = NULL;
	assert_int_equal(idn_store_open(f->dir, NULL, &f->s), IDN_EVERSION);
	assert_null(f->s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_child_commit_abort, setup, teardown),
		cmocka_unit_test_setup_teardown(test_child_misuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changelog_seq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changelog_fields, setup, teardown),
		cmocka_unit_test(test_change_codec),
		cmocka_unit_test_setup_teardown(test_counters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade, setup, teardown),
	};
	return cmocka_run_group_tests_name("storage/store2", tests, NULL, NULL);
}
