/*
 * test_challenge_token.c - State tokens: generation, strict parsing, digest.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "challenge_token.h"

#define PARSE(lit, raw) challenge_token_parse((uint8_t const *) (lit), sizeof(lit) - 1, raw)

static void test_new_parses_back(void **state)
{
	uint8_t raw[CHALLENGE_TOKEN_RAW_LEN], back[CHALLENGE_TOKEN_RAW_LEN];
	char text[CHALLENGE_TOKEN_TEXT_LEN + 1];
	size_t i;

	(void) state;
	assert_int_equal(challenge_token_new(raw, text), 0);
	assert_int_equal(strlen(text), 34);
	assert_int_equal(CHALLENGE_TOKEN_TEXT_LEN, 34);
	assert_memory_equal(text, "V1", 2);
	for (i = 2; i < 34; i++) assert_non_null(strchr("0123456789abcdef", text[i]));
	assert_int_equal(challenge_token_parse((uint8_t const *) text, strlen(text), back), 0);
	assert_memory_equal(raw, back, sizeof(raw));
}

static void test_tokens_differ(void **state)
{
	uint8_t raw1[CHALLENGE_TOKEN_RAW_LEN], raw2[CHALLENGE_TOKEN_RAW_LEN];
	char t1[CHALLENGE_TOKEN_TEXT_LEN + 1], t2[CHALLENGE_TOKEN_TEXT_LEN + 1];

	(void) state;
	assert_int_equal(challenge_token_new(raw1, t1), 0);
	assert_int_equal(challenge_token_new(raw2, t2), 0);
	assert_string_not_equal(t1, t2);
	assert_memory_not_equal(raw1, raw2, sizeof(raw1));
}

static void test_parse_known(void **state)
{
	uint8_t raw[CHALLENGE_TOKEN_RAW_LEN];
	uint8_t const expect[CHALLENGE_TOKEN_RAW_LEN] = {
		0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
		0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	};

	(void) state;
	assert_int_equal(PARSE("V1000102030405060708090a0b0c0d0e0f", raw), 0);
	assert_memory_equal(raw, expect, sizeof(raw));
}

static void test_parse_rejects(void **state)
{
	uint8_t raw[CHALLENGE_TOKEN_RAW_LEN];
	uint8_t const good[] = "V1000102030405060708090a0b0c0d0e0f";
	uint8_t buf[64];

	(void) state;
	assert_int_equal(PARSE("V1000102030405060708090A0B0C0D0E0F", raw), -1);	/* upper-case hex */
	assert_int_equal(PARSE("v1000102030405060708090a0b0c0d0e0f", raw), -1);	/* prefix case */
	assert_int_equal(PARSE("V2000102030405060708090a0b0c0d0e0f", raw), -1);
	assert_int_equal(PARSE("XX000102030405060708090a0b0c0d0e0f", raw), -1);
	assert_int_equal(PARSE("V1000102030405060708090a0b0c0d0e0g", raw), -1);
	assert_int_equal(PARSE("V1000102030405060708090a0b0c0d0e0 ", raw), -1);
	assert_int_equal(PARSE("V1-00102030405060708090a0b0c0d0e0f", raw), -1);
	assert_int_equal(PARSE("V1000102030405060708090a0b0c0d0e0", raw), -1);	/* 33 */
	assert_int_equal(PARSE("V1000102030405060708090a0b0c0d0e0f0", raw), -1);	/* 35 */
	assert_int_equal(PARSE("", raw), -1);
	assert_int_equal(PARSE("V1", raw), -1);
	assert_int_equal(challenge_token_parse(NULL, 34, raw), -1);
	assert_int_equal(challenge_token_parse(good, 34, NULL), -1);

	/* NUL bytes anywhere */
	memcpy(buf, good, 34);
	buf[20] = '\0';
	assert_int_equal(challenge_token_parse(buf, 34, raw), -1);
	memcpy(buf, good, 34);
	buf[33] = '\0';
	assert_int_equal(challenge_token_parse(buf, 34, raw), -1);
	/* a trailing NUL added by a NAS makes it 35 bytes: refused */
	memcpy(buf, good, 35);
	assert_int_equal(challenge_token_parse(buf, 35, raw), -1);
	/* high bytes */
	memcpy(buf, good, 34);
	buf[10] = (uint8_t) 0xc3;
	assert_int_equal(challenge_token_parse(buf, 34, raw), -1);
	/* the good one still parses */
	assert_int_equal(challenge_token_parse(good, 34, raw), 0);
}

/* The module's own form is recognised; an EAP session's State (16 random bytes) and near misses are not. */
static void test_recognised(void **state)
{
	uint8_t const eap_state[16] = { 0x8c, 0x41, 0x2f, 0x09, 0x8d, 0x44, 0x3a, 0x1c,
					0x00, 0x10, 0x77, 0xab, 0xcd, 0xef, 0x01, 0x02 };
	uint8_t raw[CHALLENGE_TOKEN_RAW_LEN];
	char text[CHALLENGE_TOKEN_TEXT_LEN + 1];

	(void) state;
	assert_int_equal(challenge_token_new(raw, text), 0);
	assert_true(challenge_token_recognised((uint8_t const *)text, strlen(text)));
	assert_true(challenge_token_recognised((uint8_t const *)"V1000102030405060708090a0b0c0d0e0f", 34));
	assert_false(challenge_token_recognised(eap_state, sizeof(eap_state)));
	assert_false(challenge_token_recognised((uint8_t const *)"V1000102030405060708090A0B0C0D0E0F", 34));
	assert_false(challenge_token_recognised((uint8_t const *)"V1000102030405060708090a0b0c0d0e0f0", 35));
	assert_false(challenge_token_recognised((uint8_t const *)"", 0));
	assert_false(challenge_token_recognised(NULL, 34));
}

/* SHA-256(00 01 .. 0f), computed with: printf '000102...0f' | xxd -r -p | openssl dgst -sha256 */
static void test_digest_known(void **state)
{
	uint8_t raw[CHALLENGE_TOKEN_RAW_LEN];
	uint8_t digest[CHALLENGE_TOKEN_DIGEST_LEN];
	uint8_t const expect[CHALLENGE_TOKEN_DIGEST_LEN] = {
		0xbe, 0x45, 0xcb, 0x26, 0x05, 0xbf, 0x36, 0xbe, 0xbd, 0xe6, 0x84, 0x84, 0x1a, 0x28, 0xf0, 0xfd,
		0x43, 0xc6, 0x98, 0x50, 0xa3, 0xdc, 0xe5, 0xfe, 0xdb, 0xa6, 0x99, 0x28, 0xee, 0x3a, 0x89, 0x91,
	};
	size_t i;

	(void) state;
	for (i = 0; i < sizeof(raw); i++) raw[i] = (uint8_t) i;
	assert_int_equal(challenge_token_digest(raw, digest), 0);
	assert_memory_equal(digest, expect, sizeof(expect));
	assert_int_equal(challenge_token_digest(NULL, digest), -1);
}

static void test_digest_differs(void **state)
{
	uint8_t raw[CHALLENGE_TOKEN_RAW_LEN];
	uint8_t d1[CHALLENGE_TOKEN_DIGEST_LEN], d2[CHALLENGE_TOKEN_DIGEST_LEN];
	char text[CHALLENGE_TOKEN_TEXT_LEN + 1];

	(void) state;
	assert_int_equal(challenge_token_new(raw, text), 0);
	assert_int_equal(challenge_token_digest(raw, d1), 0);
	raw[0] ^= 1;
	assert_int_equal(challenge_token_digest(raw, d2), 0);
	assert_memory_not_equal(d1, d2, sizeof(d1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_parses_back),
		cmocka_unit_test(test_tokens_differ),
		cmocka_unit_test(test_parse_known),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_digest_known),
		cmocka_unit_test(test_digest_differs),
		cmocka_unit_test(test_recognised),
	};

	return cmocka_run_group_tests_name("challenge_token", tests, NULL, NULL);
}
