/* test_wire.c - the latched cursor: every width, bounds, latching, zero-fill, limits, read-only buffers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "proto/wire.h"

#define OK(w) assert_int_equal((w)->err, IDN_OK)
#define NOK(w, code) assert_int_equal((w)->err, code)

static void test_reads(void **s)
{
	const uint8_t b[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
	idn_wire_t w;
	idn_wire_init_ro(&w, b, sizeof(b));
	assert_int_equal(idn_wire_avail(&w), 15);
	assert_int_equal(idn_wire_get_u8(&w), 1);
	assert_int_equal(idn_wire_get_u16(&w), 0x0203);
	assert_int_equal(idn_wire_get_u32(&w), 0x04050607);
	assert_int_equal(idn_wire_get_u64(&w), 0x08090a0b0c0d0e0fULL);
	OK(&w);
	assert_int_equal(idn_wire_offset(&w), 15);
	assert_int_equal(idn_wire_avail(&w), 0);
	/* Past the end: zero, and the error latches. */
	assert_int_equal(idn_wire_get_u8(&w), 0);
	NOK(&w, IDN_EFEWDATA);
	idn_wire_init_ro(&w, b, 3);
	assert_int_equal(idn_wire_get_u32(&w), 0);
	NOK(&w, IDN_EFEWDATA);
	/* Every later call is a no-op, even one that would fit. */
	assert_int_equal(idn_wire_get_u8(&w), 0);
	assert_int_equal(idn_wire_offset(&w), 0);
	assert_int_equal(idn_wire_avail(&w), 0);
}

static void test_high_bits(void **s)
{
	/* No sign extension anywhere: 0xff.. stays unsigned. */
	const uint8_t b[] = { 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa, 0xf9, 0xf8, 0xf7, 0xf6, 0xf5,
			      0xf4, 0xf3, 0xf2, 0xf1 };
	idn_wire_t w;
	idn_wire_init_ro(&w, b, sizeof(b));
	assert_int_equal(idn_wire_get_u8(&w), 0xff);
	assert_int_equal(idn_wire_get_u16(&w), 0xfefd);
	assert_int_equal(idn_wire_get_u32(&w), 0xfcfbfaf9u);
	assert_true(idn_wire_get_u64(&w) == 0xf8f7f6f5f4f3f2f1ULL);
	OK(&w);
	assert_int_equal(idn_get_be32(b), 0xfffefdfcu);
}

static void test_partial_widths(void **s)
{
	/* Each width one byte short of what it needs: zero, EFEWDATA, and the
	 * cursor does not move. */
	const uint8_t b[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	idn_wire_t w;
	idn_wire_init_ro(&w, b, 1);
	assert_int_equal(idn_wire_get_u16(&w), 0);
	NOK(&w, IDN_EFEWDATA);
	assert_int_equal(idn_wire_offset(&w), 0);
	idn_wire_init_ro(&w, b, 0);
	assert_int_equal(idn_wire_get_u8(&w), 0);
	NOK(&w, IDN_EFEWDATA);
	/* u64 too: no half value from a 7-byte buffer. */
	idn_wire_init_ro(&w, b, 7);
	assert_true(idn_wire_get_u64(&w) == 0);
	NOK(&w, IDN_EFEWDATA);
	idn_wire_init_ro(&w, b, 2);
	idn_bytes_t r = idn_wire_get_raw(&w, 3);
	NOK(&w, IDN_EFEWDATA);
	assert_null(r.p);
	assert_int_equal(r.len, 0);
}

static void test_zero_fill_after_error(void **s)
{
	const uint8_t b[] = { 0, 0, 0, 1, 'x', 9, 9, 9, 9, 9, 9, 9, 9 };
	idn_wire_t w;
	idn_wire_init_ro(&w, b, sizeof(b));
	idn_wire_fail(&w, IDN_EMALF);
	/* Everything reads as zero/empty; the first error stays. */
	assert_int_equal(idn_wire_get_u8(&w), 0);
	assert_int_equal(idn_wire_get_u16(&w), 0);
	assert_int_equal(idn_wire_get_u32(&w), 0);
	assert_true(idn_wire_get_u64(&w) == 0);
	idn_bytes_t x = idn_wire_get_bstr(&w, 16);
	assert_null(x.p);
	assert_int_equal(x.len, 0);
	x = idn_wire_get_raw(&w, 1);
	assert_null(x.p);
	idn_wire_skip(&w, 1);
	assert_int_equal(idn_wire_offset(&w), 0);
	idn_wire_fail(&w, IDN_ELIMIT);
	NOK(&w, IDN_EMALF);
}

static void test_bstr(void **s)
{
	const uint8_t b[] = { 0, 0, 0, 3, 'a', 'b', 'c', 0, 0, 0, 5, 'x' };
	idn_wire_t w;
	idn_wire_init_ro(&w, b, sizeof(b));
	idn_bytes_t x = idn_wire_get_bstr(&w, 16);
	OK(&w);
	assert_true(idn_bytes_eq_str(x, "abc"));
	assert_ptr_equal(x.p, b + 4); /* borrowed, not copied */
	x = idn_wire_get_bstr(&w, 16); /* claims 5, has 1 */
	NOK(&w, IDN_EFEWDATA);
	assert_null(x.p);
	/* Exactly at the limit is fine; one over is not, checked before the
	 * bytes are looked at. */
	idn_wire_init_ro(&w, b, sizeof(b));
	x = idn_wire_get_bstr(&w, 3);
	OK(&w);
	idn_wire_init_ro(&w, b, sizeof(b));
	idn_wire_get_bstr(&w, 2);
	NOK(&w, IDN_ELIMIT);
	assert_int_equal(idn_wire_offset(&w), 4);
	/* A "negative" Java length, even with no limit. */
	const uint8_t neg[] = { 0xff, 0xff, 0xff, 0xff, 1, 2 };
	idn_wire_init_ro(&w, neg, sizeof(neg));
	idn_wire_get_bstr(&w, UINT32_MAX);
	NOK(&w, IDN_ELIMIT);
	const uint8_t big[] = { 0x80, 0, 0, 0 };
	idn_wire_init_ro(&w, big, sizeof(big));
	idn_wire_get_bstr(&w, UINT32_MAX);
	NOK(&w, IDN_ELIMIT);
	/* The empty string. */
	const uint8_t empty[] = { 0, 0, 0, 0 };
	idn_wire_init_ro(&w, empty, sizeof(empty));
	x = idn_wire_get_bstr(&w, 0);
	OK(&w);
	assert_int_equal(x.len, 0);
	assert_true(idn_bytes_eq_str(x, ""));
	assert_false(idn_bytes_eq_str(x, "a"));
	/* A length prefix cut short. */
	idn_wire_init_ro(&w, b, 3);
	idn_wire_get_bstr(&w, 16);
	NOK(&w, IDN_EFEWDATA);
}

static void test_raw_limit(void **s)
{
	const uint8_t b[4] = { 0 };
	idn_wire_t w;
	idn_wire_init_ro(&w, b, sizeof(b));
	/* Byte ranges are 32-bit: a larger request is a limit, not a read. */
	if (sizeof(size_t) > 4) {
		idn_wire_get_raw(&w, (size_t)UINT32_MAX + 1);
		NOK(&w, IDN_ELIMIT);
	}
	idn_wire_init_ro(&w, b, sizeof(b));
	idn_bytes_t r = idn_wire_get_raw(&w, 0);
	OK(&w);
	assert_int_equal(r.len, 0);
	idn_wire_skip(&w, 4);
	OK(&w);
	idn_wire_skip(&w, 1);
	NOK(&w, IDN_EFEWDATA);
	/* (NULL, 0) is an empty buffer, not undefined pointer arithmetic. */
	idn_wire_init_ro(&w, NULL, 0);
	r = idn_wire_get_raw(&w, 0);
	OK(&w);
	assert_int_equal(r.len, 0);
	assert_int_equal(idn_wire_avail(&w), 0);
	idn_wire_get_u8(&w);
	NOK(&w, IDN_EFEWDATA);
	idn_wire_init(&w, NULL, 0);
	idn_wire_put_raw(&w, NULL, 0);
	OK(&w);
	idn_wire_put_u8(&w, 1);
	NOK(&w, IDN_ESPACE);
}

static void test_writes(void **s)
{
	uint8_t b[32];
	idn_wire_t w;
	idn_wire_init(&w, b, sizeof(b));
	idn_wire_put_u8(&w, 0xaa);
	idn_wire_put_u16(&w, 0x0102);
	idn_wire_put_u32(&w, 0x03040506);
	idn_wire_put_u64(&w, 0x0708090a0b0c0d0eULL);
	idn_wire_put_str(&w, "hi");
	idn_wire_put_bstr(&w, "xyz", 0);
	idn_wire_put_raw(&w, NULL, 0);
	idn_wire_put_raw(&w, "!", 1);
	OK(&w);
	const uint8_t want[] = { 0xaa, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
				 0, 0, 0, 2, 'h', 'i', 0, 0, 0, 0, '!' };
	assert_int_equal(idn_wire_offset(&w), sizeof(want));
	assert_memory_equal(b, want, sizeof(want));
	/* What was written reads back. */
	idn_wire_t r;
	idn_wire_init_ro(&r, b, idn_wire_offset(&w));
	assert_int_equal(idn_wire_get_u8(&r), 0xaa);
	assert_int_equal(idn_wire_get_u16(&r), 0x0102);
	assert_int_equal(idn_wire_get_u32(&r), 0x03040506);
	assert_true(idn_wire_get_u64(&r) == 0x0708090a0b0c0d0eULL);
	assert_true(idn_bytes_eq_str(idn_wire_get_bstr(&r, 8), "hi"));
	assert_int_equal(idn_wire_get_bstr(&r, 8).len, 0);
	assert_int_equal(idn_wire_get_u8(&r), '!');
	assert_int_equal(idn_wire_avail(&r), 0);
	OK(&r);
	/* Patching lengths already written. */
	idn_wire_patch_u32(&w, 3, 0x11223344);
	assert_int_equal(idn_get_be32(b + 3), 0x11223344);
	uint8_t p4[4];
	idn_put_be32(p4, 0xdeadbeef);
	assert_int_equal(idn_get_be32(p4), 0xdeadbeefu);
}

static void test_write_overflow(void **s)
{
	uint8_t b[16];
	idn_wire_t w;
	/* Each width one byte short: ESPACE, nothing written, cursor stays. */
	static const size_t need[] = { 1, 2, 4, 8 };
	for (int k = 0; k < 4; k++) {
		memset(b, 0x5a, sizeof(b));
		idn_wire_init(&w, b, need[k] - 1);
		switch (k) {
		case 0: idn_wire_put_u8(&w, 0xff); break;
		case 1: idn_wire_put_u16(&w, 0xffff); break;
		case 2: idn_wire_put_u32(&w, 0xffffffff); break;
		default: idn_wire_put_u64(&w, UINT64_MAX); break;
		}
		NOK(&w, IDN_ESPACE);
		assert_int_equal(idn_wire_offset(&w), 0);
		assert_int_equal(b[0], 0x5a);
	}
	/* A ByteString goes in whole or not at all (no dangling length). */
	memset(b, 0x5a, sizeof(b));
	idn_wire_init(&w, b, 8);
	idn_wire_put_str(&w, "hello");
	NOK(&w, IDN_ESPACE);
	assert_int_equal(idn_wire_offset(&w), 0);
	assert_int_equal(b[0], 0x5a);
	/* After the first failure nothing more is written, even what would fit. */
	idn_wire_put_u8(&w, 1);
	assert_int_equal(idn_wire_offset(&w), 0);
	/* Raw bytes that do not fit. */
	idn_wire_init(&w, b, 2);
	idn_wire_put_raw(&w, "abc", 3);
	NOK(&w, IDN_ESPACE);
	/* A ByteString over 2^31-1 bytes is a limit (nothing is read from p). */
	idn_wire_init(&w, b, sizeof(b));
	idn_wire_put_bstr(&w, b, (size_t)0x80000000u);
	NOK(&w, IDN_ELIMIT);
	assert_int_equal(idn_wire_offset(&w), 0);
}

static void test_patch_bounds(void **s)
{
	uint8_t b[16] = { 0 };
	idn_wire_t w;
	idn_wire_init(&w, b, sizeof(b));
	idn_wire_put_u32(&w, 1);
	idn_wire_put_u16(&w, 2);
	/* Only bytes already written can be patched. */
	idn_wire_patch_u32(&w, 3, 0xffffffff);
	assert_int_equal(b[6], 0);
	assert_int_equal(idn_get_be32(b), 1);
	idn_wire_patch_u32(&w, 2, 0xabcdef01);
	assert_int_equal(idn_get_be32(b + 2), 0xabcdef01u);
	idn_wire_patch_u32(&w, SIZE_MAX - 2, 7); /* no wrap-around */
	OK(&w);
	/* Not after an error. */
	idn_wire_fail(&w, IDN_ESPACE);
	idn_wire_patch_u32(&w, 0, 0x99999999);
	assert_int_equal(idn_get_be32(b), 0x0000abcd);
}

static void test_readonly(void **s)
{
	uint8_t b[8] = { 0, 0, 0, 4, 1, 2, 3, 4 };
	idn_wire_t w;
	idn_wire_init_ro(&w, b, sizeof(b));
	idn_wire_put_u8(&w, 1);
	NOK(&w, IDN_EACCES);
	assert_int_equal(b[0], 0);
	/* Every write kind is refused, and reads still see the data. */
	static const int kinds = 6;
	for (int k = 0; k < kinds; k++) {
		idn_wire_init_ro(&w, b, sizeof(b));
		switch (k) {
		case 0: idn_wire_put_u16(&w, 1); break;
		case 1: idn_wire_put_u32(&w, 1); break;
		case 2: idn_wire_put_u64(&w, 1); break;
		case 3: idn_wire_put_raw(&w, "a", 1); break;
		case 4: idn_wire_put_bstr(&w, "a", 1); break;
		default: idn_wire_put_str(&w, ""); break;
		}
		NOK(&w, IDN_EACCES);
		assert_int_equal(idn_wire_offset(&w), 0);
	}
	idn_wire_init_ro(&w, b, sizeof(b));
	assert_int_equal(idn_wire_get_bstr(&w, 8).len, 4);
	idn_wire_patch_u32(&w, 0, 0xffffffff);
	assert_int_equal(idn_get_be32(b), 4);
	OK(&w);
}

static void test_skip_raw(void **s)
{
	const uint8_t b[] = { 1, 2, 3, 4 };
	idn_wire_t w;
	idn_wire_init_ro(&w, b, sizeof(b));
	idn_wire_skip(&w, 1);
	idn_bytes_t r = idn_wire_get_raw(&w, 2);
	OK(&w);
	assert_int_equal(r.len, 2);
	assert_int_equal(r.p[0], 2);
	idn_wire_skip(&w, 2);
	NOK(&w, IDN_EFEWDATA);
	assert_int_equal(idn_wire_offset(&w), 3);
}

/* Spans: one check for a run of fields; a short one latches, takes nothing. */
static void test_spans(void **s)
{
	uint8_t b[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	idn_wire_t w;
	idn_wire_init_ro(&w, b, sizeof(b));
	const uint8_t *p = idn_wire_get_span(&w, 3);
	assert_ptr_equal(p, b);
	OK(&w);
	assert_null(idn_wire_get_span(&w, 6));
	NOK(&w, IDN_EFEWDATA);
	assert_int_equal(idn_wire_offset(&w), 3);
	assert_null(idn_wire_get_span(&w, 1)); /* latched */
	assert_null(idn_wire_put_span(&w, 1));
	NOK(&w, IDN_EFEWDATA);

	idn_wire_init_ro(&w, b, sizeof(b));
	assert_null(idn_wire_put_span(&w, 1));
	NOK(&w, IDN_EACCES);

	uint8_t o[8];
	idn_wire_init(&w, o, sizeof(o));
	uint8_t *q = idn_wire_put_span(&w, 8);
	assert_ptr_equal(q, o);
	OK(&w);
	assert_null(idn_wire_put_span(&w, 1));
	NOK(&w, IDN_ESPACE);
	assert_int_equal(idn_wire_offset(&w), 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads),
		cmocka_unit_test(test_high_bits),
		cmocka_unit_test(test_partial_widths),
		cmocka_unit_test(test_zero_fill_after_error),
		cmocka_unit_test(test_bstr),
		cmocka_unit_test(test_raw_limit),
		cmocka_unit_test(test_writes),
		cmocka_unit_test(test_write_overflow),
		cmocka_unit_test(test_patch_bounds),
		cmocka_unit_test(test_readonly),
		cmocka_unit_test(test_skip_raw),
		cmocka_unit_test(test_spans),
	};
	return cmocka_run_group_tests_name("proto/wire", tests, NULL, NULL);
}
