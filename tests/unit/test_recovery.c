/*
 * test_recovery.c - recovery code generation, normalisation and hashing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "recovery.h"

#define NORM(lit, out) recovery_code_normalise(lit, sizeof(lit) - 1, out)

static char const CROCKFORD[] = "0123456789abcdefghjkmnpqrstvwxyz";

static void test_new_codes(void **state)
{
	char codes[RECOVERY_CODE_COUNT][RECOVERY_CODE_TEXT_LEN + 1];
	size_t i, j;

	(void) state;
	for (i = 0; i < RECOVERY_CODE_COUNT; i++) {
		char norm[RECOVERY_CODE_CHARS + 1];

		assert_int_equal(recovery_code_new(codes[i]), 0);
		assert_int_equal(strlen(codes[i]), 11);
		assert_int_equal(codes[i][5], '-');
		for (j = 0; j < 11; j++) {
			if (j == 5) continue;
			assert_non_null(strchr(CROCKFORD, codes[i][j]));
		}
		/* a new code normalises to itself without the hyphen */
		assert_int_equal(recovery_code_normalise(codes[i], 11, norm), 0);
		assert_memory_equal(norm, codes[i], 5);
		assert_memory_equal(norm + 5, codes[i] + 6, 5);
		for (j = 0; j < i; j++) assert_string_not_equal(codes[i], codes[j]);
	}
}

static void test_normalise_accepts(void **state)
{
	char out[RECOVERY_CODE_CHARS + 1];

	(void) state;
	assert_int_equal(NORM("abcde-12345", out), 0); assert_string_equal(out, "abcde12345");
	assert_int_equal(NORM("ABCDE-12345", out), 0); assert_string_equal(out, "abcde12345");
	assert_int_equal(NORM("abcde12345", out), 0); assert_string_equal(out, "abcde12345");
	assert_int_equal(NORM("abcde 12345", out), 0); assert_string_equal(out, "abcde12345");
	assert_int_equal(NORM(" abc de-123 45 ", out), 0); assert_string_equal(out, "abcde12345");
	assert_int_equal(NORM("ab-cd-e1-23-45", out), 0); assert_string_equal(out, "abcde12345");
	/* Crockford substitutions */
	assert_int_equal(NORM("IiLlO-oabcd", out), 0); assert_string_equal(out, "111100abcd");
	assert_int_equal(NORM("xyz00-ZZZZZ", out), 0); assert_string_equal(out, "xyz00zzzzz");
}

static void test_normalise_rejects(void **state)
{
	char out[RECOVERY_CODE_CHARS + 1];
	char longer[100];

	(void) state;
	assert_int_equal(NORM("123456", out), -1);		/* a TOTP code */
	assert_string_equal(out, "");
	assert_int_equal(NORM("12345678", out), -1);		/* an 8-digit TOTP code */
	assert_int_equal(NORM("abcde-1234", out), -1);		/* 9 */
	assert_int_equal(NORM("abcde-123456", out), -1);	/* 11 */
	assert_int_equal(NORM("abcde-1234u", out), -1);		/* 'u' is not Crockford */
	assert_int_equal(NORM("abcde_12345", out), -1);
	assert_int_equal(NORM("abcde.12345", out), -1);
	assert_int_equal(NORM("abcde\t12345", out), -1);
	assert_int_equal(NORM("abcde\00012345", out), -1);
	assert_int_equal(NORM("abcd\xc3\xa9-12345", out), -1);
	assert_int_equal(NORM("", out), -1);
	assert_int_equal(NORM("----------", out), -1);
	assert_int_equal(NORM("           ", out), -1);
	assert_int_equal(recovery_code_normalise(NULL, 11, out), -1);
	memset(longer, ' ', sizeof(longer));
	memcpy(longer + 80, "abcde12345", 10);
	assert_int_equal(recovery_code_normalise(longer, 90, out), -1);	/* over the input bound */
	assert_int_equal(recovery_code_normalise(longer + 40, 50, out), 0);
}

static void test_hash_deterministic(void **state)
{
	uint8_t salt1[RECOVERY_SALT_LEN], salt2[RECOVERY_SALT_LEN];
	uint8_t h1[RECOVERY_HASH_LEN], h2[RECOVERY_HASH_LEN], h3[RECOVERY_HASH_LEN], h4[RECOVERY_HASH_LEN];

	(void) state;
	assert_int_equal(recovery_salt_new(salt1), 0);
	assert_int_equal(recovery_salt_new(salt2), 0);
	assert_memory_not_equal(salt1, salt2, sizeof(salt1));
	assert_int_equal(recovery_code_hash("abcde12345", salt1, h1), 0);
	assert_int_equal(recovery_code_hash("abcde12345", salt1, h2), 0);
	assert_memory_equal(h1, h2, sizeof(h1));
	assert_int_equal(recovery_code_hash("abcde12345", salt2, h3), 0);
	assert_memory_not_equal(h1, h3, sizeof(h1));
	assert_int_equal(recovery_code_hash("abcde12346", salt1, h4), 0);
	assert_memory_not_equal(h1, h4, sizeof(h1));
}

/*
 * PBKDF2-HMAC-SHA256("abcde12345", 00 01 .. 0f, 10000, 32), from
 *   python3 -c "import hashlib; print(hashlib.pbkdf2_hmac('sha256', b'abcde12345', bytes(range(16)), 10000, 32).hex())"
 * and identical from `openssl kdf -keylen 32 -kdfopt digest:SHA256 -kdfopt pass:abcde12345
 *   -kdfopt hexsalt:000102030405060708090a0b0c0d0e0f -kdfopt iter:10000 PBKDF2`.
 */
static void test_hash_known_vector(void **state)
{
	uint8_t salt[RECOVERY_SALT_LEN];
	uint8_t h[RECOVERY_HASH_LEN];
	uint8_t const expect[RECOVERY_HASH_LEN] = {
		0x9e, 0x00, 0x16, 0xad, 0xe8, 0x25, 0xaa, 0x82, 0xa6, 0xeb, 0x56, 0x9f, 0x24, 0xe7, 0x37, 0x03,
		0x25, 0xda, 0x32, 0x59, 0x83, 0x65, 0x25, 0x85, 0x78, 0xc4, 0xa4, 0x5e, 0x9b, 0x57, 0xd5, 0x4b,
	};
	char norm[RECOVERY_CODE_CHARS + 1];
	size_t i;

	(void) state;
	assert_int_equal(RECOVERY_KDF_ITERATIONS, 10000);
	for (i = 0; i < sizeof(salt); i++) salt[i] = (uint8_t) i;
	assert_int_equal(recovery_code_hash("abcde12345", salt, h), 0);
	assert_memory_equal(h, expect, sizeof(expect));
	/* what the user typed, normalised, gives the same hash */
	assert_int_equal(NORM("ABCDE-I2345", norm), 0);
	assert_int_equal(recovery_code_hash(norm, salt, h), 0);
	assert_memory_equal(h, expect, sizeof(expect));
}

static void test_hash_rejects_unnormalised(void **state)
{
	uint8_t salt[RECOVERY_SALT_LEN] = { 0 };
	uint8_t h[RECOVERY_HASH_LEN];
	char shorter[RECOVERY_CODE_CHARS + 1] = "abcde1234";	/* 9 characters, NUL-padded */

	(void) state;
	assert_int_equal(recovery_code_hash("ABCDE12345", salt, h), -1);
	assert_int_equal(recovery_code_hash(shorter, salt, h), -1);
	assert_int_equal(recovery_code_hash("abcde-1234", salt, h), -1);
	assert_int_equal(recovery_code_hash("abcdeu2345", salt, h), -1);
	assert_int_equal(recovery_code_hash(NULL, salt, h), -1);
	assert_int_equal(recovery_code_hash("abcde12345", NULL, h), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_codes),
		cmocka_unit_test(test_normalise_accepts),
		cmocka_unit_test(test_normalise_rejects),
		cmocka_unit_test(test_hash_deterministic),
		cmocka_unit_test(test_hash_known_vector),
		cmocka_unit_test(test_hash_rejects_unnormalised),
	};

	return cmocka_run_group_tests_name("recovery", tests, NULL, NULL);
}
