/* test_crypto.c - digests (one-shot and in pieces) against known answers, and randomness. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proto/crypto.h"
#include "proto/msg.h"
#include "tests/util/testutil.h"

static void test_known_answers(void **s)
{
	/* FIPS 180 / RFC 1321 test strings. */
	static const struct {
		int alg;
		const char *in, *hex;
	} t[] = {
		{ IDN_DIGEST_MD5, "abc", "900150983cd24fb0d6963f7d28e17f72" },
		{ IDN_DIGEST_MD5, "", "d41d8cd98f00b204e9800998ecf8427e" },
		{ IDN_DIGEST_SHA1, "abc", "a9993e364706816aba3e25717850c26c9cd0d89d" },
		{ IDN_DIGEST_SHA256, "abc",
		  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ IDN_DIGEST_SHA256, "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint8_t d[IDN_DIGEST_MAX], want[IDN_DIGEST_MAX];
		size_t n = 0;
		long wn = tu_hex(t[i].hex, want, sizeof(want));
		assert_int_equal(idn_digest(t[i].alg, t[i].in, strlen(t[i].in), d, &n), IDN_OK);
		assert_int_equal(n, (size_t)wn);
		assert_int_equal(n, idn_digest_len((uint8_t)t[i].alg));
		assert_memory_equal(d, want, n);
	}
}

static void test_pieces(void **s)
{
	/* "abc" in pieces, with an empty one, is "abc". */
	idn_piece_t p[4] = { { "a", 1 }, { "", 0 }, { "bc", 2 }, { NULL, 0 } };
	uint8_t d1[IDN_DIGEST_MAX], d2[IDN_DIGEST_MAX];
	size_t n1, n2;
	for (int alg = IDN_DIGEST_MD5; alg <= IDN_DIGEST_SHA256; alg++) {
		assert_int_equal(idn_digestv(alg, p, 4, d1, &n1), IDN_OK);
		assert_int_equal(idn_digest(alg, "abc", 3, d2, &n2), IDN_OK);
		assert_int_equal(n1, n2);
		assert_memory_equal(d1, d2, n1);
	}
	/* No pieces at all: the empty digest. */
	assert_int_equal(idn_digestv(IDN_DIGEST_MD5, NULL, 0, d1, &n1), IDN_OK);
	assert_int_equal(idn_digest(IDN_DIGEST_MD5, "", 0, d2, &n2), IDN_OK);
	assert_memory_equal(d1, d2, 16);
	/* Unknown algorithms, including the old-format code 0. */
	assert_int_equal(idn_digest(IDN_DIGEST_OLD_MD5, "abc", 3, d1, &n1), IDN_EINVAL);
	assert_int_equal(idn_digest(4, "abc", 3, d1, &n1), IDN_EINVAL);
	assert_int_equal(idn_digestv(-1, p, 4, d1, &n1), IDN_EINVAL);
}

static void test_random(void **s)
{
	uint8_t a[64], b[64], zero[64] = { 0 };
	assert_int_equal(idn_random(a, sizeof(a)), IDN_OK);
	assert_int_equal(idn_random(b, sizeof(b)), IDN_OK);
	/* 2^-512 chances of a false failure. */
	assert_memory_not_equal(a, b, sizeof(a));
	assert_memory_not_equal(a, zero, sizeof(a));
	assert_int_equal(idn_random(a, 0), IDN_OK);
	assert_int_equal(idn_random(NULL, 0), IDN_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_answers),
		cmocka_unit_test(test_pieces),
		cmocka_unit_test(test_random),
	};
	return cmocka_run_group_tests_name("proto/crypto", tests, NULL, NULL);
}
