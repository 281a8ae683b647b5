/*
 * test_names.c - every rule of core/names.h: valid names pass; empty,
 * too long, bad UTF-8, control, bidirectional, invisible, other spaces,
 * noncharacters, private use, edge spaces and ':' (logins only) are
 * refused with their reason and, where it applies, the code point.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "names.h"
#include "text.h"

#define LOGIN(lit, cp) names_login_problem((uint8_t const *)(lit), sizeof(lit) - 1, cp)
#define COMPANY(lit, cp) names_company_problem((uint8_t const *)(lit), sizeof(lit) - 1, cp)

/* The login name is refused with a reason containing 'words' and code point 'want'. */
static void refused(char const *name, size_t len, char const *words, uint32_t want)
{
	uint32_t cp = 0;
	char const *why = names_login_problem((uint8_t const *)name, len, &cp);

	assert_non_null(why);
	assert_non_null(strstr(why, words));
	assert_int_equal(cp, want);
	/* a company name breaks the same rule, except for ':' */
	if (strcmp(words, "':'") != 0 && len <= NAMES_LOGIN_MAX) {
		cp = 0;
		why = names_company_problem((uint8_t const *)name, len, &cp);
		assert_non_null(why);
		assert_non_null(strstr(why, words));
		assert_int_equal(cp, want);
	}
}
#define REFUSED(lit, words, want) refused(lit, sizeof(lit) - 1, words, want)

static void test_valid_names(void **state)
{
	(void)state;
	assert_null(LOGIN("alice", NULL));
	assert_null(LOGIN("a", NULL));
	assert_null(LOGIN("alice.smith@example.com", NULL));
	assert_null(LOGIN("Anna Maria", NULL));			/* an inner space is a character like any */
	assert_null(LOGIN("caf\xc3\xa9", NULL));			/* U+00E9 */
	assert_null(LOGIN("\xe6\x97\xa5\xe6\x9c\xac", NULL));	/* CJK */
	assert_null(LOGIN("\xd8\xb9\xd9\x84\xd9\x8a", NULL));	/* Arabic letters: right-to-left text is fine */
	assert_null(LOGIN("\xf0\x9f\x98\x80", NULL));		/* an emoji */
	assert_null(LOGIN("o'brien-\\x", NULL));
	assert_null(COMPANY("Acme Rentals: North", NULL));	/* ':' is fine in a company */
	assert_null(COMPANY("B\xc3\xa4" "ckerei M\xc3\xbc" "ller GmbH & Co. KG", NULL));
}

static void test_length(void **state)
{
	char name[NAMES_COMPANY_MAX + 2];
	uint32_t cp = 0;

	(void)state;
	assert_int_equal(NAMES_LOGIN_MAX, TEXT_LOGIN_MAX);
	memset(name, 'a', sizeof(name));
	assert_null(names_login_problem((uint8_t const *)name, NAMES_LOGIN_MAX, NULL));
	assert_non_null(strstr(names_login_problem((uint8_t const *)name, NAMES_LOGIN_MAX + 1, &cp), "longer than 64"));
	assert_int_equal(cp, NAMES_NO_CODE_POINT);
	assert_null(names_company_problem((uint8_t const *)name, NAMES_COMPANY_MAX, NULL));
	assert_non_null(strstr(names_company_problem((uint8_t const *)name, NAMES_COMPANY_MAX + 1, NULL), "longer than 128"));
	/* bytes count, not characters: 32 two-byte characters fit, 33 do not */
	for (size_t i = 0; i + 1 < sizeof(name); i += 2) {
		name[i] = '\xc3';
		name[i + 1] = '\xa9';
	}
	assert_null(names_login_problem((uint8_t const *)name, 64, NULL));
	assert_non_null(names_login_problem((uint8_t const *)name, 66, NULL));
	assert_non_null(strstr(LOGIN("", &cp), "empty"));
	assert_int_equal(cp, NAMES_NO_CODE_POINT);
	assert_non_null(names_login_problem(NULL, 0, NULL));
	assert_non_null(names_login_problem(NULL, 5, NULL));
	assert_non_null(names_company_problem(NULL, 0, NULL));
}

static void test_utf8(void **state)
{
	(void)state;
	REFUSED("\xc0\x80", "UTF-8", NAMES_NO_CODE_POINT);		/* overlong NUL */
	REFUSED("a\xe0\x80\xaf", "UTF-8", NAMES_NO_CODE_POINT);	/* overlong '/' */
	REFUSED("\xed\xa0\x80", "UTF-8", NAMES_NO_CODE_POINT);	/* surrogate */
	REFUSED("\xf4\x90\x80\x80", "UTF-8", NAMES_NO_CODE_POINT);	/* above U+10FFFF */
	REFUSED("ab\xff", "UTF-8", NAMES_NO_CODE_POINT);
	REFUSED("\x80", "UTF-8", NAMES_NO_CODE_POINT);
	REFUSED("caf\xc3", "UTF-8", NAMES_NO_CODE_POINT);		/* truncated */
	REFUSED("\xe2\x82", "UTF-8", NAMES_NO_CODE_POINT);
	/* the length given counts: a euro sign cut short */
	assert_non_null(names_login_problem((uint8_t const *)"\xe2\x82\xac", 2, NULL));
}

static void test_control(void **state)
{
	(void)state;
	REFUSED("a\nb", "control", 0x0a);
	REFUSED("acme\r", "control", 0x0d);
	REFUSED("a\tb", "control", 0x09);
	REFUSED("a\x1b[31m", "control", 0x1b);
	REFUSED("a\x7f", "control", 0x7f);
	REFUSED("a\xc2\x85", "control", 0x85);			/* NEL, C1 */
	REFUSED("a\xc2\x9b" "31m", "control", 0x9b);		/* CSI, C1 */
	refused("a\0b", 3, "control", 0);			/* NUL inside */
}

static void test_bidi(void **state)
{
	(void)state;
	REFUSED("admin\xe2\x80\xae" "nimda", "bidirectional", 0x202e);	/* RLO */
	REFUSED("a\xe2\x80\xaa" "b", "bidirectional", 0x202a);		/* LRE */
	REFUSED("a\xe2\x80\x8e", "bidirectional", 0x200e);			/* LRM */
	REFUSED("a\xe2\x80\x8f" "b", "bidirectional", 0x200f);		/* RLM */
	REFUSED("a\xd8\x9c" "b", "bidirectional", 0x061c);			/* ALM */
	REFUSED("a\xe2\x81\xa6" "b", "bidirectional", 0x2066);		/* LRI */
	REFUSED("a\xe2\x81\xa9" "b", "bidirectional", 0x2069);		/* PDI */
}

static void test_invisible(void **state)
{
	(void)state;
	REFUSED("al\xe2\x80\x8bice", "invisible", 0x200b);		/* ZERO WIDTH SPACE */
	REFUSED("al\xe2\x80\x8cice", "invisible", 0x200c);		/* ZWNJ */
	REFUSED("al\xe2\x80\x8dice", "invisible", 0x200d);		/* ZWJ */
	REFUSED("al\xc2\xad" "ice", "invisible", 0x00ad);		/* SOFT HYPHEN */
	REFUSED("\xef\xbb\xbf" "alice", "invisible", 0xfeff);		/* BOM */
	REFUSED("alice\xe2\x81\xa0", "invisible", 0x2060);		/* WORD JOINER */
	REFUSED("a\xcd\x8f" "b", "invisible", 0x034f);			/* COMBINING GRAPHEME JOINER */
	REFUSED("a\xef\xb8\x8f", "invisible", 0xfe0f);			/* VARIATION SELECTOR-16 */
	REFUSED("a\xe3\x85\xa4" "b", "invisible", 0x3164);		/* HANGUL FILLER */
	REFUSED("a\xe1\xa0\x8e" "b", "invisible", 0x180e);		/* MONGOLIAN VOWEL SEPARATOR */
	REFUSED("a\xe2\x80\xa8" "b", "invisible", 0x2028);		/* LINE SEPARATOR */
	REFUSED("a\xf3\xa0\x80\x81", "invisible", 0xe0001);		/* LANGUAGE TAG */
	REFUSED("a\xf3\xa0\x84\x80", "invisible", 0xe0100);		/* VARIATION SELECTOR-17 */
}

static void test_other_spaces(void **state)
{
	(void)state;
	REFUSED("a\xc2\xa0" "b", "space other", 0x00a0);		/* NO-BREAK SPACE */
	REFUSED("a\xe2\x80\x82" "b", "space other", 0x2002);		/* EN SPACE */
	REFUSED("a\xe2\x80\xaf" "b", "space other", 0x202f);		/* NARROW NO-BREAK SPACE */
	REFUSED("a\xe3\x80\x80" "b", "space other", 0x3000);		/* IDEOGRAPHIC SPACE */
	REFUSED("alice\xc2\xa0", "space other", 0x00a0);		/* a trailing one too */
}

static void test_nonchar_private(void **state)
{
	(void)state;
	REFUSED("a\xef\xbf\xbe", "noncharacter", 0xfffe);
	REFUSED("a\xef\xbf\xbf", "noncharacter", 0xffff);
	REFUSED("a\xef\xb7\x90", "noncharacter", 0xfdd0);
	REFUSED("a\xf0\x9f\xbf\xbf", "noncharacter", 0x1ffff);
	REFUSED("a\xee\x80\x80", "private-use", 0xe000);
	REFUSED("a\xf3\xb0\x80\x80", "private-use", 0xf0000);
	REFUSED("a\xf4\x8f\xbf\xbd", "private-use", 0x10fffd);
}

static void test_edge_spaces(void **state)
{
	uint32_t cp = 0;

	(void)state;
	REFUSED(" alice", "starts with a space", NAMES_NO_CODE_POINT);
	REFUSED("alice ", "ends with a space", NAMES_NO_CODE_POINT);
	REFUSED(" ", "space", NAMES_NO_CODE_POINT);
	REFUSED("   ", "space", NAMES_NO_CODE_POINT);
	assert_non_null(strstr(COMPANY("Acme ", &cp), "ends with a space"));
	assert_int_equal(cp, NAMES_NO_CODE_POINT);
}

static void test_colon(void **state)
{
	uint32_t cp = 0;

	(void)state;
	REFUSED("alice:x", "':'", ':');
	REFUSED(":", "':'", ':');
	REFUSED("alice:", "':'", ':');
	assert_null(COMPANY("a:b", &cp));
}

static void test_describe(void **state)
{
	char out[128];
	uint32_t cp = 0;
	char const *why = LOGIN("al\xe2\x80\x8bice", &cp);

	(void)state;
	names_describe("login name", why, cp, out, sizeof(out));
	assert_string_equal(out, "login name contains an invisible character (U+200B)");
	why = LOGIN("alice ", &cp);
	names_describe("login name", why, cp, out, sizeof(out));
	assert_string_equal(out, "login name ends with a space");
	why = LOGIN("a\xf3\xa0\x80\x81", &cp);
	names_describe("login name", why, cp, out, sizeof(out));
	assert_string_equal(out, "login name contains an invisible character (U+E0001)");
	names_describe("login name", why, cp, out, 6);	/* cut short, still terminated */
	assert_string_equal(out, "login");
	names_describe("x", NULL, NAMES_NO_CODE_POINT, out, sizeof(out));
	assert_string_equal(out, "x is usable");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_names),
		cmocka_unit_test(test_length),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_control),
		cmocka_unit_test(test_bidi),
		cmocka_unit_test(test_invisible),
		cmocka_unit_test(test_other_spaces),
		cmocka_unit_test(test_nonchar_private),
		cmocka_unit_test(test_edge_spaces),
		cmocka_unit_test(test_colon),
		cmocka_unit_test(test_describe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
