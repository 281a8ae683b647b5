/*
 * test_otpauth.c - the otpauth:// URI and the grouped key.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "otpauth.h"

/* HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ, the Key-Uri-Format wiki's example key. */
static uint8_t const WIKI_KEY[20] = {
	0x3d, 0xc6, 0xca, 0xa4, 0x82, 0x4a, 0x6d, 0x28, 0x87, 0x67,
	0xb2, 0x33, 0x1e, 0x20, 0xb4, 0x31, 0x66, 0xcb, 0x85, 0xd9,
};

static void test_exact_uri(void **state)
{
	totp_params_t p = TOTP_DEFAULT_PARAMS;
	char uri[OTPAUTH_URI_MAX];

	(void) state;
	assert_int_equal(otpauth_uri("ACME Co", "john.doe@email.com", &p, WIKI_KEY, sizeof(WIKI_KEY),
				     uri, sizeof(uri)), 0);
	assert_string_equal(uri,
		"otpauth://totp/ACME%20Co:john.doe%40email.com"
		"?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&issuer=ACME%20Co"
		"&algorithm=SHA1&digits=6&period=30");
}

static void test_issuer_label_and_param(void **state)
{
	totp_params_t p = TOTP_DEFAULT_PARAMS;
	char uri[OTPAUTH_URI_MAX];

	(void) state;
	assert_int_equal(otpauth_uri("VRMS", "alice", &p, WIKI_KEY, sizeof(WIKI_KEY), uri, sizeof(uri)), 0);
	assert_non_null(strstr(uri, "otpauth://totp/VRMS:alice?"));
	assert_non_null(strstr(uri, "&issuer=VRMS&"));
}

/* The secret parameter's value holds no '=' (padding). */
static int secret_unpadded(char const *uri)
{
	char const *s = strstr(uri, "?secret=");
	size_t n;

	if (!s) return 0;
	s += strlen("?secret=");
	n = strcspn(s, "&");
	return n > 0 && memchr(s, '=', n) == NULL;
}

static void test_no_padding(void **state)
{
	totp_params_t p = TOTP_DEFAULT_PARAMS;
	char uri[OTPAUTH_URI_MAX];
	uint8_t key10[10] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	uint8_t key32[32] = { 0 };

	(void) state;
	assert_int_equal(otpauth_uri("I", "a", &p, key10, sizeof(key10), uri, sizeof(uri)), 0);
	assert_true(secret_unpadded(uri));
	assert_null(strstr(uri, "%3D"));
	assert_non_null(strstr(uri, "secret=AEBAGBAFAYDQQCIK&"));
	/* 32 bytes -> 52 characters, which RFC 4648 would pad with four '=' */
	assert_int_equal(otpauth_uri("I", "a", &p, key32, sizeof(key32), uri, sizeof(uri)), 0);
	assert_non_null(strstr(uri, "secret=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&issuer"));
	assert_true(secret_unpadded(uri));
}

static void test_sha256_8_60(void **state)
{
	totp_params_t p = { .algo = TOTP_SHA256, .digits = 8, .period = 60 };
	char uri[OTPAUTH_URI_MAX];

	(void) state;
	assert_int_equal(otpauth_uri("ACME Co", "bob", &p, WIKI_KEY, sizeof(WIKI_KEY), uri, sizeof(uri)), 0);
	assert_non_null(strstr(uri, "&algorithm=SHA256&digits=8&period=60"));
	p.algo = TOTP_SHA512;
	assert_int_equal(otpauth_uri("ACME Co", "bob", &p, WIKI_KEY, sizeof(WIKI_KEY), uri, sizeof(uri)), 0);
	assert_non_null(strstr(uri, "&algorithm=SHA512&"));
}

static void test_percent_encoding(void **state)
{
	totp_params_t p = TOTP_DEFAULT_PARAMS;
	char uri[OTPAUTH_URI_MAX];

	(void) state;
	assert_int_equal(otpauth_uri("A&B=C?D/E#F", "x+y_z~w-v.u", &p, WIKI_KEY, sizeof(WIKI_KEY),
				     uri, sizeof(uri)), 0);
	assert_non_null(strstr(uri, "otpauth://totp/A%26B%3DC%3FD%2FE%23F:x%2By_z~w-v.u?"));
	assert_non_null(strstr(uri, "&issuer=A%26B%3DC%3FD%2FE%23F&"));
	/* UTF-8 bytes are encoded one by one */
	assert_int_equal(otpauth_uri("Caf\xc3\xa9", "a", &p, WIKI_KEY, sizeof(WIKI_KEY), uri, sizeof(uri)), 0);
	assert_non_null(strstr(uri, "totp/Caf%C3%A9:a?"));
}

static void test_rejects(void **state)
{
	totp_params_t p = TOTP_DEFAULT_PARAMS;
	totp_params_t bad = { .algo = TOTP_SHA1, .digits = 5, .period = 30 };
	char uri[OTPAUTH_URI_MAX];

	(void) state;
	assert_int_equal(otpauth_uri("AC:ME", "john", &p, WIKI_KEY, 20, uri, sizeof(uri)), -1);
	assert_string_equal(uri, "");
	assert_int_equal(otpauth_uri("ACME", "jo:hn", &p, WIKI_KEY, 20, uri, sizeof(uri)), -1);
	assert_int_equal(otpauth_uri("", "john", &p, WIKI_KEY, 20, uri, sizeof(uri)), -1);
	assert_int_equal(otpauth_uri("ACME", "", &p, WIKI_KEY, 20, uri, sizeof(uri)), -1);
	assert_int_equal(otpauth_uri(NULL, "john", &p, WIKI_KEY, 20, uri, sizeof(uri)), -1);
	assert_int_equal(otpauth_uri("ACME", "john", &bad, WIKI_KEY, 20, uri, sizeof(uri)), -1);
	assert_int_equal(otpauth_uri("ACME", "john", NULL, WIKI_KEY, 20, uri, sizeof(uri)), -1);
	assert_int_equal(otpauth_uri("ACME", "john", &p, NULL, 20, uri, sizeof(uri)), -1);
	assert_int_equal(otpauth_uri("ACME", "john", &p, WIKI_KEY, 0, uri, sizeof(uri)), -1);
	assert_int_equal(otpauth_uri("ACME", "jo\nhn", &p, WIKI_KEY, 20, uri, sizeof(uri)), -1);
	assert_int_equal(otpauth_uri("AC\xff", "john", &p, WIKI_KEY, 20, uri, sizeof(uri)), -1);
}

static void test_too_small(void **state)
{
	totp_params_t p = TOTP_DEFAULT_PARAMS;
	char uri[OTPAUTH_URI_MAX];
	size_t full;

	(void) state;
	assert_int_equal(otpauth_uri("ACME Co", "john", &p, WIKI_KEY, 20, uri, sizeof(uri)), 0);
	full = strlen(uri);
	assert_int_equal(otpauth_uri("ACME Co", "john", &p, WIKI_KEY, 20, uri, full + 1), 0);
	assert_int_equal(strlen(uri), full);
	assert_int_equal(otpauth_uri("ACME Co", "john", &p, WIKI_KEY, 20, uri, full), -1);
	assert_string_equal(uri, "");
	assert_int_equal(otpauth_uri("ACME Co", "john", &p, WIKI_KEY, 20, uri, 10), -1);
}

static void test_key_grouped(void **state)
{
	char out[128];
	uint8_t key10[10] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	uint8_t key32[32] = { 0 };

	(void) state;
	assert_int_equal(otpauth_key_grouped(WIKI_KEY, sizeof(WIKI_KEY), out, sizeof(out)), 0);
	assert_string_equal(out, "HXDM VJEC JJWS RB3H WIZR 4IFU GFTM XBOZ");
	assert_int_equal(otpauth_key_grouped(key10, sizeof(key10), out, sizeof(out)), 0);
	assert_string_equal(out, "AEBA GBAF AYDQ QCIK");
	/* 52 characters: the last group is 4 long, no trailing space */
	assert_int_equal(otpauth_key_grouped(key32, sizeof(key32), out, sizeof(out)), 0);
	assert_int_equal(strlen(out), 52 + 12);
	assert_true(out[strlen(out) - 1] != ' ');
	/* "f" -> "MY": one short group */
	assert_int_equal(otpauth_key_grouped((uint8_t const *) "f", 1, out, sizeof(out)), 0);
	assert_string_equal(out, "MY");
	/* exact size and one too few */
	assert_int_equal(otpauth_key_grouped(WIKI_KEY, sizeof(WIKI_KEY), out, 40), 0);
	assert_int_equal(otpauth_key_grouped(WIKI_KEY, sizeof(WIKI_KEY), out, 39), -1);
	assert_string_equal(out, "");
	assert_int_equal(otpauth_key_grouped(NULL, 20, out, sizeof(out)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_uri),
		cmocka_unit_test(test_issuer_label_and_param),
		cmocka_unit_test(test_no_padding),
		cmocka_unit_test(test_sha256_8_60),
		cmocka_unit_test(test_percent_encoding),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_too_small),
		cmocka_unit_test(test_key_grouped),
	};

	return cmocka_run_group_tests_name("otpauth", tests, NULL, NULL);
}
