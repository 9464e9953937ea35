/* test_wire.c - the latched cursor: every width, bounds, latching, limits, read-only buffers. */
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
	assert_int_equal(idn_wire_get_u8(&w), 1);
	assert_int_equal(idn_wire_get_u16(&w), 0x0203);
	assert_int_equal(idn_wire_get_u32(&w), 0x04050607);
	assert_int_equal(idn_wire_get_u64(&w), 0x08090a0b0c0d0e0fULL);
	OK(&w);
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
}

static void test_bstr(void **s)
{
	const uint8_t b[] = { 0, 0, 0, 3, 'a', 'b', 'c', 0, 0, 0, 5, 'x' };
	idn_wire_t w;
	idn_wire_init_ro(&w, b, sizeof(b));
	idn_bytes_t x = idn_wire_get_bstr(&w, 16);
	OK(&w);
	assert_true(idn_bytes_eq_str(x, "abc"));
	x = idn_wire_get_bstr(&w, 16); /* claims 5, has 1 */
	NOK(&w, IDN_EFEWDATA);
	assert_null(x.p);
	/* Over the caller's limit, checked before anything is read. */
	idn_wire_init_ro(&w, b, sizeof(b));
	idn_wire_get_bstr(&w, 2);
	NOK(&w, IDN_ELIMIT);
	/* A "negative" Java length. */
	const uint8_t neg[] = { 0xff, 0xff, 0xff, 0xff, 1, 2 };
	idn_wire_init_ro(&w, neg, sizeof(neg));
	idn_wire_get_bstr(&w, UINT32_MAX);
	NOK(&w, IDN_ELIMIT);
}

static void test_writes(void **s)
{
	uint8_t b[16];
	idn_wire_t w;
	idn_wire_init(&w, b, sizeof(b));
	idn_wire_put_u8(&w, 0xaa);
	idn_wire_put_u16(&w, 0x0102);
	idn_wire_put_u32(&w, 0x03040506);
	idn_wire_put_str(&w, "hi");
	OK(&w);
	assert_int_equal(idn_wire_offset(&w), 13);
	const uint8_t want[] = { 0xaa, 1, 2, 3, 4, 5, 6, 0, 0, 0, 2, 'h', 'i' };
	assert_memory_equal(b, want, sizeof(want));
	idn_wire_patch_u32(&w, 3, 0x11223344);
	assert_int_equal(idn_get_be32(b + 3), 0x11223344);
	idn_wire_put_u32(&w, 1); /* 3 bytes left */
	NOK(&w, IDN_ESPACE);
	assert_int_equal(idn_wire_offset(&w), 13);
	idn_wire_put_u8(&w, 1);
	assert_int_equal(idn_wire_offset(&w), 13);
}

static void test_readonly(void **s)
{
	uint8_t b[8] = { 0 };
	idn_wire_t w;
	idn_wire_init_ro(&w, b, sizeof(b));
	idn_wire_put_u8(&w, 1);
	NOK(&w, IDN_EACCES);
	assert_int_equal(b[0], 0);
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
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads),     cmocka_unit_test(test_bstr),
		cmocka_unit_test(test_writes),    cmocka_unit_test(test_readonly),
		cmocka_unit_test(test_skip_raw),
	};
	return cmocka_run_group_tests_name("proto/wire", tests, NULL, NULL);
}
