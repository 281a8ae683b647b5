/*
 * test_address.c - address normalisation: the forms a NAS sends, and the
 * ones that must never be trusted.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "address.h"

typedef struct {
	char const	*in;
	addr_kind_t	kind;
	char const	*out;
} case_t;

static case_t const CASES[] = {
	/* IPv4 */
	{ "192.0.2.1",				ADDR_IPV4, "192.0.2.1" },
	{ "  192.0.2.1  ",			ADDR_IPV4, "192.0.2.1" },
	{ "0.0.0.0",				ADDR_IPV4, "0.0.0.0" },
	{ "255.255.255.255",			ADDR_IPV4, "255.255.255.255" },
	{ "192.000.002.001",			ADDR_INVALID, "" },	/* leading zeros: ambiguous (octal?) */
	{ "01.2.3.4",				ADDR_INVALID, "" },
	{ "256.1.1.1",				ADDR_INVALID, "" },
	{ "1.2.3",				ADDR_INVALID, "" },
	{ "1.2.3.4.5",				ADDR_INVALID, "" },
	{ "1.2.3.4:5678",			ADDR_INVALID, "" },
	{ "1.2.3.4/24",				ADDR_INVALID, "" },
	{ "0x01.2.3.4",				ADDR_INVALID, "" },
	{ "\t1.2.3.4",				ADDR_INVALID, "" },	/* only spaces are trimmed */
	{ "[1.2.3.4]",				ADDR_INVALID, "" },
	/* IPv6 */
	{ "2001:db8::1",			ADDR_IPV6, "2001:db8::1" },
	{ "2001:0DB8:0000:0000:0000:0000:0000:0001", ADDR_IPV6, "2001:db8::1" },
	{ "2001:DB8::A:B",			ADDR_IPV6, "2001:db8::a:b" },
	{ "2001:db8:0:0:1:0:0:1",		ADDR_IPV6, "2001:db8::1:0:0:1" },	/* RFC 5952 4.2.3 */
	{ "2001:db8:0:1:1:1:1:1",		ADDR_IPV6, "2001:db8:0:1:1:1:1:1" },	/* no :: for one group */
	{ "[2001:db8::1]",			ADDR_IPV6, "2001:db8::1" },
	{ " [2001:db8::1] ",			ADDR_IPV6, "2001:db8::1" },
	{ "::",					ADDR_IPV6, "::" },
	{ "::1",				ADDR_IPV6, "::1" },
	{ "fe80::1",				ADDR_IPV6, "fe80::1" },
	{ "::ffff:1.2.3.4",			ADDR_IPV4, "1.2.3.4" },
	{ "::FFFF:102:304",			ADDR_IPV4, "1.2.3.4" },
	{ "[::ffff:192.0.2.1]",			ADDR_IPV4, "192.0.2.1" },
	{ "fe80::1%eth0",			ADDR_INVALID, "" },
	{ "[fe80::1%25eth0]",			ADDR_INVALID, "" },
	{ "2001:db8::1::2",			ADDR_INVALID, "" },
	{ "2001:db8:::1",			ADDR_INVALID, "" },
	{ "12345::1",				ADDR_INVALID, "" },
	{ "[2001:db8::1]:1812",			ADDR_INVALID, "" },
	{ "[2001:db8::1",			ADDR_INVALID, "" },
	{ "2001:db8::1]",			ADDR_INVALID, "" },
	{ "[]",					ADDR_INVALID, "" },
	{ "[ ::1]",				ADDR_INVALID, "" },
	/* MAC */
	{ "aa:bb:cc:dd:ee:ff",			ADDR_MAC, "aa:bb:cc:dd:ee:ff" },
	{ "AA:BB:CC:DD:EE:FF",			ADDR_MAC, "aa:bb:cc:dd:ee:ff" },
	{ "aa-bb-cc-dd-ee-ff",			ADDR_MAC, "aa:bb:cc:dd:ee:ff" },
	{ "00-10-A4-23-19-C0",			ADDR_MAC, "00:10:a4:23:19:c0" },	/* RFC 3580 example */
	{ "aabb.ccdd.eeff",			ADDR_MAC, "aa:bb:cc:dd:ee:ff" },
	{ "AABB.CCDD.EEFF",			ADDR_MAC, "aa:bb:cc:dd:ee:ff" },
	{ "aabbccddeeff",			ADDR_MAC, "aa:bb:cc:dd:ee:ff" },
	{ "001122334455",			ADDR_MAC, "00:11:22:33:44:55" },
	{ " aabbccddeeff ",			ADDR_MAC, "aa:bb:cc:dd:ee:ff" },
	{ "aa:bb-cc:dd:ee:ff",			ADDR_INVALID, "" },
	{ "aa:bb:cc:dd:ee:gg",			ADDR_INVALID, "" },
	{ "aabbccddeef",			ADDR_INVALID, "" },	/* 11 hex digits */
	{ "aabbccddeeff0",			ADDR_INVALID, "" },	/* 13 */
	{ "aa:bb:cc:dd:ee",			ADDR_INVALID, "" },
	{ "aa:bb:cc:dd:ee:ff:00",		ADDR_INVALID, "" },
	{ "a:bb:cc:dd:ee:fff",			ADDR_INVALID, "" },
	{ "aab.bcc.dde.eff",			ADDR_INVALID, "" },
	{ "aabb:ccdd:eeff",			ADDR_INVALID, "" },
	{ "aabb.ccdd-eeff",			ADDR_INVALID, "" },
	{ "aa.bb.cc.dd.ee.ff",			ADDR_INVALID, "" },
	{ "aa::bb:cc:dd:ee:ff",			ADDR_IPV6, "aa::bb:cc:dd:ee:ff" },	/* that is IPv6 */
	{ "aa:bb:cc:dd:ee:ff:SSID",		ADDR_INVALID, "" },
	/* garbage */
	{ "",					ADDR_INVALID, "" },
	{ " ",					ADDR_INVALID, "" },
	{ "      ",				ADDR_INVALID, "" },
	{ "localhost",				ADDR_INVALID, "" },
	{ "1.2.3.4 5.6.7.8",			ADDR_INVALID, "" },
	{ "1.2.3.4'; DROP TABLE x;--",		ADDR_INVALID, "" },
	{ "\xc3\xa9",				ADDR_INVALID, "" },
};

#define N_CASES (sizeof(CASES) / sizeof(CASES[0]))

static void test_table(void **state)
{
	char out[ADDR_TEXT_MAX];
	size_t i;

	(void) state;
	for (i = 0; i < N_CASES; i++) {
		addr_kind_t k;

		memset(out, 'X', sizeof(out));
		k = addr_normalise(CASES[i].in, strlen(CASES[i].in), out);
		if (k != CASES[i].kind || strcmp(out, CASES[i].out) != 0)
			fail_msg("input \"%s\": got %s \"%s\", want %s \"%s\"", CASES[i].in,
				 addr_kind_name(k), out, addr_kind_name(CASES[i].kind), CASES[i].out);
	}
}

static void test_nul_bytes(void **state)
{
	char out[ADDR_TEXT_MAX];

	(void) state;
	assert_int_equal(addr_normalise("1.2.3.4\0", 8, out), ADDR_INVALID);
	assert_string_equal(out, "");
	assert_int_equal(addr_normalise("1.2.3.4\0garbage", 15, out), ADDR_INVALID);
	assert_int_equal(addr_normalise("\0" "1.2.3.4", 8, out), ADDR_INVALID);
	assert_int_equal(addr_normalise("aabbcc\0ddeeff", 13, out), ADDR_INVALID);
	/* the length counts, not the NUL */
	assert_int_equal(addr_normalise("1.2.3.45", 7, out), ADDR_IPV4);
	assert_string_equal(out, "1.2.3.4");
}

static void test_lengths(void **state)
{
	char in[256];
	char out[ADDR_TEXT_MAX];

	(void) state;
	memset(in, 'a', sizeof(in));
	assert_int_equal(addr_normalise(in, 200, out), ADDR_INVALID);
	assert_string_equal(out, "");
	/* a valid address padded with spaces past ADDR_INPUT_MAX is invalid */
	memset(in, ' ', sizeof(in));
	memcpy(in + 10, "1.2.3.4", 7);
	assert_int_equal(addr_normalise(in, ADDR_INPUT_MAX, out), ADDR_IPV4);
	assert_int_equal(addr_normalise(in, ADDR_INPUT_MAX + 1, out), ADDR_INVALID);
	assert_int_equal(addr_normalise(NULL, 0, out), ADDR_INVALID);
	assert_int_equal(addr_normalise(NULL, 7, out), ADDR_INVALID);
	assert_int_equal(addr_normalise("1.2.3.4", 7, NULL), ADDR_INVALID);
}

static void test_longest_canonical_fits(void **state)
{
	char const *in = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
	char out[ADDR_TEXT_MAX];

	(void) state;
	assert_int_equal(addr_normalise(in, strlen(in), out), ADDR_IPV6);
	assert_string_equal(out, in);
}

static void test_kind_names(void **state)
{
	(void) state;
	assert_string_equal(addr_kind_name(ADDR_IPV4), "ipv4");
	assert_string_equal(addr_kind_name(ADDR_IPV6), "ipv6");
	assert_string_equal(addr_kind_name(ADDR_MAC), "mac");
	assert_string_equal(addr_kind_name(ADDR_INVALID), "invalid");
	assert_string_equal(addr_kind_name((addr_kind_t) 42), "invalid");
}

/* Placeholders and addresses of no single device are never trust keys; ordinary unicast ones are. */
static void test_trust_refusal(void **state)
{
	static struct { char const *in; int refused; } const cases[] = {
		{ "192.0.2.10", 0 }, { "10.1.2.3", 0 }, { "203.0.113.255", 0 }, { "1.0.0.0", 0 },
		{ "0.0.0.0", 1 }, { "0.1.2.3", 1 }, { "127.0.0.1", 1 }, { "127.255.255.254", 1 },
		{ "224.0.0.1", 1 }, { "239.255.255.255", 1 }, { "240.0.0.1", 1 }, { "255.255.255.255", 1 },
		{ "2001:db8::1", 0 }, { "fe80::1", 0 }, { "::ffff:192.0.2.1", 0 },
		{ "::", 1 }, { "::1", 1 }, { "ff02::1", 1 }, { "::ffff:127.0.0.1", 1 }, { "::ffff:0.0.0.0", 1 },
		{ "00:11:22:33:44:55", 0 }, { "02:00:00:00:00:01", 0 }, { "aa:bb:cc:dd:ee:ff", 0 },
		{ "00:00:00:00:00:00", 1 }, { "ff:ff:ff:ff:ff:ff", 1 }, { "01:00:5e:00:00:01", 1 },
		{ "33:33:00:00:00:01", 1 }, { "0000.0000.0000", 1 }, { "FF-FF-FF-FF-FF-FF", 1 },
	};
	char out[ADDR_TEXT_MAX];
	size_t i;

	(void) state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		addr_kind_t kind = addr_normalise(cases[i].in, strlen(cases[i].in), out);
		char const *why;

		assert_int_not_equal(kind, ADDR_INVALID);
		why = addr_trust_refusal(kind, out);
		if (cases[i].refused) {
			if (!why) fail_msg("%s should be refused as a trust key", cases[i].in);
		} else if (why) {
			fail_msg("%s refused: %s", cases[i].in, why);
		}
	}
	assert_non_null(addr_trust_refusal(ADDR_INVALID, ""));
	assert_non_null(addr_trust_refusal(ADDR_IPV4, NULL));
	assert_non_null(addr_trust_refusal(ADDR_IPV4, "not an address"));
	assert_non_null(addr_trust_refusal(ADDR_MAC, "zz:00:00:00:00:01"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_nul_bytes),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_longest_canonical_fits),
		cmocka_unit_test(test_kind_names),
		cmocka_unit_test(test_trust_refusal),
	};

	return cmocka_run_group_tests_name("address", tests, NULL, NULL);
}
