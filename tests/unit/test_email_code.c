/*
 * test_email_code.c - emailed codes and link tokens: format, uniqueness,
 * hashing (known PBKDF2 and SHA-256 vectors), refusal of malformed input,
 * and the link template.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "email_code.h"

static void test_code_format(void **state)
{
	char a[EMAIL_CODE_DIGITS + 1], b[EMAIL_CODE_DIGITS + 1];
	int same = 0, i, k;

	(void)state;
	for (i = 0; i < 200; i++) {
		assert_int_equal(email_code_new(a), 0);
		assert_int_equal(email_code_new(b), 0);
		assert_int_equal(strlen(a), 6);
		for (k = 0; k < 6; k++) assert_true(a[k] >= '0' && a[k] <= '9');
		if (strcmp(a, b) == 0) same++;
	}
	assert_true(same < 3);	/* 1 in a million per pair */
}

static void test_token_format(void **state)
{
	char a[EMAIL_TOKEN_TEXT_LEN + 1], b[EMAIL_TOKEN_TEXT_LEN + 1];
	uint8_t h[EMAIL_HASH_LEN];

	(void)state;
	assert_int_equal(email_token_new(a), 0);
	assert_int_equal(email_token_new(b), 0);
	assert_int_equal(strlen(a), 32);
	assert_string_not_equal(a, b);
	assert_int_equal(email_token_hash(a, strlen(a), h), 0);
}

static void test_code_hash_vector(void **state)
{
	/* python3 -c "import hashlib;print(hashlib.pbkdf2_hmac('sha256', b'123456', bytes(range(16)), 10000).hex())" */
	static uint8_t const expected[32] = {
		0xa9, 0x66, 0x08, 0x61, 0xd6, 0x11, 0xd4, 0x6a, 0x19, 0x19, 0x71, 0xec, 0xcf, 0x0c, 0xc8, 0x95,
		0xee, 0x7c, 0xd5, 0x80, 0x91, 0xc1, 0x97, 0x3e, 0xe6, 0xd6, 0x0a, 0x5c, 0x4f, 0x30, 0x42, 0x19,
	};
	uint8_t salt[EMAIL_SALT_LEN], out[EMAIL_HASH_LEN];
	int i;

	(void)state;
	for (i = 0; i < EMAIL_SALT_LEN; i++) salt[i] = (uint8_t)i;
	assert_int_equal(email_code_hash("123456", 6, salt, out), 0);
	assert_memory_equal(out, expected, sizeof(expected));
}

static void test_code_hash_refuses(void **state)
{
	uint8_t salt[EMAIL_SALT_LEN] = { 0 }, out[EMAIL_HASH_LEN];

	(void)state;
	assert_int_equal(email_code_hash("12345", 5, salt, out), -1);
	assert_int_equal(email_code_hash("1234567", 7, salt, out), -1);
	assert_int_equal(email_code_hash("12a456", 6, salt, out), -1);
	assert_int_equal(email_code_hash("12\0" "456", 6, salt, out), -1);
	assert_int_equal(email_code_hash("", 0, salt, out), -1);
}

static void test_token_hash(void **state)
{
	/* printf '%s' 000102030405060708090a0b0c0d0e0f | sha256sum */
	static uint8_t const expected[32] = {
		0xd6, 0x5d, 0xf8, 0x9f, 0x70, 0x2e, 0xec, 0x58, 0xca, 0x3c, 0x7b, 0xf2, 0x00, 0x1c, 0x9f, 0xfc,
		0x7c, 0xd8, 0x05, 0x53, 0xae, 0x01, 0xd4, 0x2a, 0x79, 0x9b, 0xa2, 0x67, 0x56, 0x14, 0x2d, 0x96,
	};
	uint8_t out[EMAIL_HASH_LEN];

	(void)state;
	assert_int_equal(email_token_hash("000102030405060708090a0b0c0d0e0f", 32, out), 0);
	assert_memory_equal(out, expected, sizeof(expected));
	assert_int_equal(email_token_hash("000102030405060708090A0B0C0D0E0F", 32, out), -1);	/* upper case */
	assert_int_equal(email_token_hash("000102030405060708090a0b0c0d0e0", 31, out), -1);
	assert_int_equal(email_token_hash("000102030405060708090a0b0c0d0e0f0", 33, out), -1);
	assert_int_equal(email_token_hash("00010203040506070809' OR 1=1 -- ", 32, out), -1);
}

static void test_link(void **state)
{
	char out[128];

	(void)state;
	assert_int_equal(email_link("https://x.example/c?token={token}&a=1", "abc", out, sizeof(out)), 0);
	assert_string_equal(out, "https://x.example/c?token=abc&a=1");
	assert_int_equal(email_link("https://x.example/c", "abc", out, sizeof(out)), -1);
	assert_int_equal(email_link("https://x.example/{token}", "abcdef", out, 20), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_code_format),
		cmocka_unit_test(test_token_format),
		cmocka_unit_test(test_code_hash_vector),
		cmocka_unit_test(test_code_hash_refuses),
		cmocka_unit_test(test_token_hash),
		cmocka_unit_test(test_link),
	};
	return cmocka_run_group_tests_name("email_code", tests, NULL, NULL);
}
