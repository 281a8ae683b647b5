/*
 * test_base32.c - RFC 4648 section 10 vectors and what people type.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "base32.h"

typedef struct {
	char const *plain;
	char const *padded;	/* RFC 4648 */
	char const *unpadded;	/* what we write */
} vector_t;

static vector_t const VECTORS[] = {
	{ "",       "",                 "" },
	{ "f",      "MY======",         "MY" },
	{ "fo",     "MZXQ====",         "MZXQ" },
	{ "foo",    "MZXW6===",         "MZXW6" },
	{ "foob",   "MZXW6YQ=",         "MZXW6YQ" },
	{ "fooba",  "MZXW6YTB",         "MZXW6YTB" },
	{ "foobar", "MZXW6YTBOI======", "MZXW6YTBOI" },
};

#define N_VECTORS (sizeof(VECTORS) / sizeof(VECTORS[0]))

static void test_encode_vectors(void **state)
{
	char out[64];
	size_t i;

	(void) state;
	for (i = 0; i < N_VECTORS; i++) {
		size_t n = strlen(VECTORS[i].plain);

		assert_int_equal(base32_encoded_len(n), strlen(VECTORS[i].unpadded));
		assert_int_equal(base32_encode((uint8_t const *) VECTORS[i].plain, n, out, sizeof(out)), 0);
		assert_string_equal(out, VECTORS[i].unpadded);
		assert_null(strchr(out, '='));
	}
}

static void check_decode(char const *in, char const *expect)
{
	uint8_t out[64];
	size_t outlen = 999;

	assert_int_equal(base32_decode(in, strlen(in), out, sizeof(out), &outlen), 0);
	assert_int_equal(outlen, strlen(expect));
	assert_memory_equal(out, expect, outlen);
}

static void test_decode_vectors(void **state)
{
	size_t i;

	(void) state;
	for (i = 0; i < N_VECTORS; i++) {
		check_decode(VECTORS[i].padded, VECTORS[i].plain);
		check_decode(VECTORS[i].unpadded, VECTORS[i].plain);
	}
}

static void test_decode_human(void **state)
{
	(void) state;
	check_decode("mzxw6ytboi", "foobar");
	check_decode("mzxw6ytboi======", "foobar");
	check_decode("MZXW 6YTB OI", "foobar");
	check_decode("  mzxw 6ytb oi==  ====  ", "foobar");
	check_decode("MzXw6YtBoI", "foobar");
	check_decode("GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ", "12345678901234567890");
}

static void test_decode_bad(void **state)
{
	uint8_t out[64];
	size_t outlen;
	static char const *const BAD[] = {
		"MZXW1YTB",		/* '1' not in the alphabet */
		"MZXW0YTB",		/* '0' */
		"MZXW8YTB",		/* '8' */
		"MZXW-YTB",
		"MZXW\tYTB",
		"MZ=XW6YTB",		/* data after padding */
		"MY=",			/* wrong amount of padding */
		"MY=======",
		"M",			/* impossible lengths: 1, 3, 6 chars */
		"MZX",
		"MZXW6Y",
		"MZ",			/* non-canonical: unused bits set ("MY" is 'f') */
		"MZXW6YTB========",	/* padding after a full group */
		"\xc3\xa9",
	};
	size_t i;

	(void) state;
	for (i = 0; i < sizeof(BAD) / sizeof(BAD[0]); i++) {
		outlen = 77;
		assert_int_equal(base32_decode(BAD[i], strlen(BAD[i]), out, sizeof(out), &outlen), -1);
		assert_int_equal(outlen, 0);
	}
	/* an embedded NUL */
	assert_int_equal(base32_decode("MZXW\0YTB", 8, out, sizeof(out), &outlen), -1);
	assert_int_equal(base32_decode(NULL, 4, out, sizeof(out), &outlen), -1);
	assert_int_equal(base32_decode("MZXW6YTB", 8, out, sizeof(out), NULL), -1);
}

static void test_buffers_too_small(void **state)
{
	char out[16];
	uint8_t bin[8];
	size_t outlen;

	(void) state;
	/* encode "foobar" needs 10 + 1 */
	assert_int_equal(base32_encode((uint8_t const *) "foobar", 6, out, 10), -1);
	assert_int_equal(base32_encode((uint8_t const *) "foobar", 6, out, 11), 0);
	assert_string_equal(out, "MZXW6YTBOI");
	assert_int_equal(base32_encode((uint8_t const *) "", 0, out, 1), 0);
	assert_string_equal(out, "");
	assert_int_equal(base32_encode((uint8_t const *) "f", 1, out, 0), -1);
	/* decode "foobar" needs 6 */
	assert_int_equal(base32_decode("MZXW6YTBOI", 10, bin, 5, &outlen), -1);
	assert_int_equal(base32_decode("MZXW6YTBOI", 10, bin, 6, &outlen), 0);
	assert_int_equal(outlen, 6);
}

static void test_round_trip(void **state)
{
	uint8_t in[64], back[64];
	char text[128];
	size_t n, i, outlen;

	(void) state;
	for (i = 0; i < sizeof(in); i++) in[i] = (uint8_t) (i * 37 + 11);
	for (n = 0; n <= sizeof(in); n++) {
		assert_int_equal(base32_encode(in, n, text, sizeof(text)), 0);
		assert_int_equal(strlen(text), base32_encoded_len(n));
		assert_int_equal(base32_decode(text, strlen(text), back, sizeof(back), &outlen), 0);
		assert_int_equal(outlen, n);
		if (n) assert_memory_equal(in, back, n);
	}
	assert_int_equal(base32_encoded_len(20), 32);
	assert_int_equal(base32_encoded_len(32), 52);
	assert_int_equal(base32_encoded_len(64), 103);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_vectors),
		cmocka_unit_test(test_decode_vectors),
		cmocka_unit_test(test_decode_human),
		cmocka_unit_test(test_decode_bad),
		cmocka_unit_test(test_buffers_too_small),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests_name("base32", tests, NULL, NULL);
}
