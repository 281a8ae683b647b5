/*
 * test_text.c - UTF-8 and control-character checks, login names, email
 * masking and constant-time equality.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "text.h"

#define CLEAN(lit) text_is_clean_utf8((uint8_t const *) (lit), sizeof(lit) - 1)
#define LOGIN(lit) text_login_name_valid((uint8_t const *) (lit), sizeof(lit) - 1, TEXT_LOGIN_MAX)

static void test_utf8_valid(void **state)
{
	(void) state;
	assert_true(CLEAN(""));
	assert_true(CLEAN("alice"));
	assert_true(CLEAN("caf\xc3\xa9"));			/* U+00E9 */
	assert_true(CLEAN("\xc2\xa0"));				/* U+00A0, first after C1 */
	assert_true(CLEAN("\xe2\x82\xac"));			/* U+20AC */
	assert_true(CLEAN("\xe0\xa0\x80"));			/* U+0800, smallest 3-byte */
	assert_true(CLEAN("\xed\x9f\xbf"));			/* U+D7FF, just below surrogates */
	assert_true(CLEAN("\xee\x80\x80"));			/* U+E000, just above */
	assert_true(CLEAN("\xef\xbf\xbf"));			/* U+FFFF */
	assert_true(CLEAN("\xf0\x90\x80\x80"));			/* U+10000 */
	assert_true(CLEAN("\xf0\x9f\x98\x80"));			/* emoji */
	assert_true(CLEAN("\xf4\x8f\xbf\xbf"));			/* U+10FFFF, the maximum */
	assert_true(CLEAN("\xe6\x97\xa5\xe6\x9c\xac"));		/* two CJK characters */
}

static void test_utf8_invalid(void **state)
{
	(void) state;
	assert_false(CLEAN("\xc0\x80"));			/* overlong NUL */
	assert_false(CLEAN("\xc1\xbf"));			/* overlong */
	assert_false(CLEAN("\xe0\x80\xaf"));			/* overlong '/' */
	assert_false(CLEAN("\xe0\x9f\xbf"));			/* overlong 3-byte */
	assert_false(CLEAN("\xf0\x8f\xbf\xbf"));		/* overlong 4-byte */
	assert_false(CLEAN("\xed\xa0\x80"));			/* U+D800 surrogate */
	assert_false(CLEAN("\xed\xbf\xbf"));			/* U+DFFF surrogate */
	assert_false(CLEAN("\xf4\x90\x80\x80"));		/* U+110000, above max */
	assert_false(CLEAN("\xf5\x80\x80\x80"));
	assert_false(CLEAN("\xf8\x88\x80\x80\x80"));		/* 5-byte form */
	assert_false(CLEAN("\xff"));
	assert_false(CLEAN("\xfe"));
	assert_false(CLEAN("\x80"));				/* lone continuation */
	assert_false(CLEAN("a\xbf"));
	assert_false(CLEAN("\xc3"));				/* truncated 2-byte */
	assert_false(CLEAN("\xe2\x82"));			/* truncated 3-byte */
	assert_false(CLEAN("\xf0\x9f\x98"));			/* truncated 4-byte */
	assert_false(CLEAN("\xc3" "a"));			/* bad continuation */
	assert_false(CLEAN("\xe2\x28\xa1"));
	/* the length given counts: the euro sign cut short */
	assert_false(text_is_clean_utf8((uint8_t const *) "\xe2\x82\xac", 2));
	assert_false(text_is_clean_utf8(NULL, 1));
	assert_true(text_is_clean_utf8(NULL, 0));
}

static void test_controls(void **state)
{
	(void) state;
	assert_false(CLEAN("a\0b"));
	assert_false(CLEAN("\0"));
	assert_false(CLEAN("a\tb"));
	assert_false(CLEAN("a\nb"));
	assert_false(CLEAN("a\rb"));
	assert_false(CLEAN("\x1b[31m"));
	assert_false(CLEAN("\x1f"));
	assert_false(CLEAN("\x7f"));
	assert_false(CLEAN("\xc2\x80"));			/* U+0080, C1 */
	assert_false(CLEAN("\xc2\x9b"));			/* U+009B, CSI */
	assert_false(CLEAN("\xc2\x9f"));
	assert_true(CLEAN(" "));
	assert_true(CLEAN("~"));
}

static void test_login_names(void **state)
{
	uint8_t name[TEXT_LOGIN_MAX + 1];

	(void) state;
	assert_true(LOGIN("alice"));
	assert_true(LOGIN("a"));
	assert_true(LOGIN("john doe"));
	assert_true(LOGIN("john.doe@example.com"));
	assert_true(LOGIN("j\xc3\xb6rg"));
	assert_false(LOGIN(""));
	assert_false(LOGIN(" alice"));
	assert_false(LOGIN("alice "));
	assert_false(LOGIN(" "));
	assert_false(LOGIN("ali\0ce"));
	assert_false(LOGIN("alice\n"));
	assert_false(LOGIN("al\xffice"));
	assert_false(text_login_name_valid(NULL, 0, TEXT_LOGIN_MAX));

	memset(name, 'a', sizeof(name));
	assert_true(text_login_name_valid(name, TEXT_LOGIN_MAX, TEXT_LOGIN_MAX));
	assert_false(text_login_name_valid(name, TEXT_LOGIN_MAX + 1, TEXT_LOGIN_MAX));
	assert_true(text_login_name_valid(name, 10, 10));
	assert_false(text_login_name_valid(name, 11, 10));
	assert_int_equal(TEXT_LOGIN_MAX, 64);
}

static void test_mask_email(void **state)
{
	char out[128];

	(void) state;
	assert_int_equal(text_mask_email("alice@example.com", out, sizeof(out)), 0);
	assert_string_equal(out, "a\xe2\x80\xa6@example.com");
	assert_int_equal(text_mask_email("a@b.c", out, sizeof(out)), 0);
	assert_string_equal(out, "a\xe2\x80\xa6@b.c");
	/* a multi-byte first character is kept whole */
	assert_int_equal(text_mask_email("\xc3\xa9lise@example.fr", out, sizeof(out)), 0);
	assert_string_equal(out, "\xc3\xa9\xe2\x80\xa6@example.fr");

	assert_int_equal(text_mask_email("alice.example.com", out, sizeof(out)), -1);
	assert_string_equal(out, "");
	assert_int_equal(text_mask_email("@example.com", out, sizeof(out)), -1);
	assert_int_equal(text_mask_email("alice@", out, sizeof(out)), -1);
	assert_int_equal(text_mask_email("a@b@c", out, sizeof(out)), -1);
	assert_int_equal(text_mask_email("", out, sizeof(out)), -1);
	assert_int_equal(text_mask_email(NULL, out, sizeof(out)), -1);
	assert_int_equal(text_mask_email("al\nice@example.com", out, sizeof(out)), -1);
	assert_int_equal(text_mask_email("\xff@example.com", out, sizeof(out)), -1);

	/* "a…@b.c" is 1 + 3 + 1 + 3 = 8 bytes + NUL */
	assert_int_equal(text_mask_email("abc@b.c", out, 9), 0);
	assert_string_equal(out, "a\xe2\x80\xa6@b.c");
	assert_int_equal(text_mask_email("abc@b.c", out, 8), -1);
	assert_int_equal(text_mask_email("abc@b.c", out, 0), -1);
}

static void test_secret_equal(void **state)
{
	(void) state;
	assert_true(text_secret_equal("abc", 3, "abc", 3));
	assert_false(text_secret_equal("abc", 3, "abd", 3));
	assert_false(text_secret_equal("abc", 3, "abcd", 4));
	assert_false(text_secret_equal("abc", 3, "ab", 2));
	assert_true(text_secret_equal("", 0, "", 0));
	assert_true(text_secret_equal(NULL, 0, NULL, 0));
	assert_false(text_secret_equal(NULL, 3, "abc", 3));
	assert_true(text_secret_equal("a\0b", 3, "a\0b", 3));
	assert_false(text_secret_equal("a\0b", 3, "a\0c", 3));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_utf8_invalid),
		cmocka_unit_test(test_controls),
		cmocka_unit_test(test_login_names),
		cmocka_unit_test(test_mask_email),
		cmocka_unit_test(test_secret_equal),
	};

	return cmocka_run_group_tests_name("text", tests, NULL, NULL);
}
