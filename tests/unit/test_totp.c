/*
 * test_totp.c - RFC 4226 Appendix D and RFC 6238 Appendix B vectors,
 * window handling, malformed codes and parameter checks for totp.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <liboath/oath.h>

#include "totp.h"

static uint8_t const SEED20[] = "12345678901234567890";
static uint8_t const SEED32[] = "12345678901234567890123456789012";
static uint8_t const SEED64[] = "1234567890123456789012345678901234567890123456789012345678901234";

static char const *const HOTP_VALUES[10] = {
	"755224", "287082", "359152", "969429", "338314",
	"254676", "287922", "162583", "399871", "520489",
};

typedef struct {
	time_t		t;
	uint64_t	counter;
	char const	*sha1, *sha256, *sha512;
} rfc6238_vector_t;

static rfc6238_vector_t const RFC6238[] = {
	{ 59,          0x0000000000000001ULL, "94287082", "46119246", "90693936" },
	{ 1111111109,  0x00000000023523ECULL, "07081804", "68084774", "25091201" },
	{ 1111111111,  0x00000000023523EDULL, "14050471", "67062674", "99943326" },
	{ 1234567890,  0x000000000273EF07ULL, "89005924", "91819424", "93441116" },
	{ 2000000000,  0x0000000003F940AAULL, "69279037", "90698825", "38618901" },
	{ 20000000000, 0x0000000027BC86AAULL, "65353130", "77737706", "47863826" },
};

#define N_RFC6238 (sizeof(RFC6238) / sizeof(RFC6238[0]))

static void test_hotp_rfc4226_liboath(void **state)
{
	char out[16];
	uint64_t c;

	(void) state;
	for (c = 0; c < 10; c++) {
		assert_int_equal(oath_hotp_generate((char const *) SEED20, 20, c, 6, false,
						    OATH_HOTP_DYNAMIC_TRUNCATION, out), OATH_OK);
		assert_string_equal(out, HOTP_VALUES[c]);
	}
}

/* With a 1-second period, T equals the time, so TOTP(t) is HOTP(t). */
static void test_hotp_rfc4226_via_totp(void **state)
{
	totp_params_t p = { .algo = TOTP_SHA1, .digits = 6, .period = 1 };
	char out[16];
	uint64_t c, matched;

	(void) state;
	for (c = 0; c < 10; c++) {
		assert_int_equal(totp_generate(&p, SEED20, 20, (time_t) c, out, sizeof(out)), 0);
		assert_string_equal(out, HOTP_VALUES[c]);
		assert_int_equal(totp_verify(&p, SEED20, 20, HOTP_VALUES[c], 6, (time_t) c, 0, &matched),
				 TOTP_MATCH);
		assert_int_equal(matched, c);
	}
}

static void check_vector(totp_algo_t algo, uint8_t const *seed, size_t seedlen, time_t t,
			 uint64_t counter, char const *expect)
{
	totp_params_t p = { .algo = algo, .digits = 8, .period = 30 };
	char out[16];
	uint64_t matched = 12345;

	assert_int_equal(totp_generate(&p, seed, seedlen, t, out, sizeof(out)), 0);
	assert_string_equal(out, expect);
	assert_int_equal(totp_counter_at(&p, t), counter);
	assert_int_equal(totp_verify(&p, seed, seedlen, expect, 8, t, 0, &matched), TOTP_MATCH);
	assert_int_equal(matched, counter);
}

static void test_rfc6238_sha1(void **state)
{
	size_t i;

	(void) state;
	for (i = 0; i < N_RFC6238; i++)
		check_vector(TOTP_SHA1, SEED20, 20, RFC6238[i].t, RFC6238[i].counter, RFC6238[i].sha1);
}

static void test_rfc6238_sha256(void **state)
{
	size_t i;

	(void) state;
	for (i = 0; i < N_RFC6238; i++)
		check_vector(TOTP_SHA256, SEED32, 32, RFC6238[i].t, RFC6238[i].counter, RFC6238[i].sha256);
}

static void test_rfc6238_sha512(void **state)
{
	size_t i;

	(void) state;
	for (i = 0; i < N_RFC6238; i++)
		check_vector(TOTP_SHA512, SEED64, 64, RFC6238[i].t, RFC6238[i].counter, RFC6238[i].sha512);
}

/* The erratum: SHA256 with the 20-byte seed is not the RFC's value. */
static void test_rfc6238_wrong_seed_differs(void **state)
{
	totp_params_t p = { .algo = TOTP_SHA256, .digits = 8, .period = 30 };
	char out[16];

	(void) state;
	assert_int_equal(totp_generate(&p, SEED20, 20, 59, out, sizeof(out)), 0);
	assert_string_equal(out, "32247374");
}

static void test_six_digits_is_mod_1e6(void **state)
{
	totp_params_t p = TOTP_DEFAULT_PARAMS;
	char out[16];
	uint64_t matched;

	(void) state;
	assert_int_equal(totp_generate(&p, SEED20, 20, 59, out, sizeof(out)), 0);
	assert_string_equal(out, "287082");
	assert_int_equal(totp_verify(&p, SEED20, 20, "287082", 6, 59, 1, &matched), TOTP_MATCH);
	assert_int_equal(matched, 1);
}

static void test_window(void **state)
{
	totp_params_t p = TOTP_DEFAULT_PARAMS;
	time_t base = 1234567890;	/* step 41152263 */
	uint64_t step = (uint64_t) base / 30;
	char code[16];
	uint64_t matched;
	int d;

	(void) state;
	for (d = -2; d <= 2; d++) {
		time_t at = base + (time_t) d * 30;

		assert_int_equal(totp_generate(&p, SEED20, 20, at, code, sizeof(code)), 0);
		/* window 0: only the current step */
		assert_int_equal(totp_verify(&p, SEED20, 20, code, 6, base, 0, &matched),
				 d == 0 ? TOTP_MATCH : TOTP_NO_MATCH);
		/* window 1: one step either way, never two */
		matched = 0;
		if (d >= -1 && d <= 1) {
			assert_int_equal(totp_verify(&p, SEED20, 20, code, 6, base, 1, &matched), TOTP_MATCH);
			assert_int_equal(matched, step + (uint64_t) (int64_t) d);
		} else {
			assert_int_equal(totp_verify(&p, SEED20, 20, code, 6, base, 1, &matched), TOTP_NO_MATCH);
			assert_int_equal(matched, 0);
		}
		/* window 2 reaches it */
		assert_int_equal(totp_verify(&p, SEED20, 20, code, 6, base, 2, &matched), TOTP_MATCH);
		assert_int_equal(matched, step + (uint64_t) (int64_t) d);
	}
}

/* security.md 5: the t=59 code at t=89 matches step 1 with window 1, not at t=119. */
static void test_window_liboath_reference(void **state)
{
	totp_params_t p = { .algo = TOTP_SHA1, .digits = 8, .period = 30 };
	uint64_t matched;

	(void) state;
	assert_int_equal(totp_verify(&p, SEED20, 20, "94287082", 8, 89, 1, &matched), TOTP_MATCH);
	assert_int_equal(matched, 1);
	assert_int_equal(totp_verify(&p, SEED20, 20, "94287082", 8, 119, 1, &matched), TOTP_NO_MATCH);
}

static void test_wrong_code(void **state)
{
	totp_params_t p = TOTP_DEFAULT_PARAMS;
	uint64_t matched = 99;

	(void) state;
	assert_int_equal(totp_verify(&p, SEED20, 20, "287083", 6, 59, 1, &matched), TOTP_NO_MATCH);
	assert_int_equal(matched, 0);
	assert_int_equal(totp_verify(&p, SEED20, 20, "000000", 6, 59, 1, &matched), TOTP_NO_MATCH);
}

static void test_bad_input(void **state)
{
	totp_params_t p = TOTP_DEFAULT_PARAMS;
	totp_params_t p8 = { .algo = TOTP_SHA1, .digits = 8, .period = 30 };
	uint64_t matched;

	(void) state;
	assert_int_equal(totp_verify(&p, SEED20, 20, "28708", 5, 59, 1, &matched), TOTP_BAD_INPUT);
	assert_int_equal(totp_verify(&p, SEED20, 20, "2870820", 7, 59, 1, &matched), TOTP_BAD_INPUT);
	assert_int_equal(totp_verify(&p, SEED20, 20, "28708a", 6, 59, 1, &matched), TOTP_BAD_INPUT);
	assert_int_equal(totp_verify(&p, SEED20, 20, "abcdef", 6, 59, 1, &matched), TOTP_BAD_INPUT);
	assert_int_equal(totp_verify(&p, SEED20, 20, "287\0" "82", 6, 59, 1, &matched), TOTP_BAD_INPUT);
	assert_int_equal(totp_verify(&p, SEED20, 20, "", 0, 59, 1, &matched), TOTP_BAD_INPUT);
	assert_int_equal(totp_verify(&p, SEED20, 20, NULL, 0, 59, 1, &matched), TOTP_BAD_INPUT);
	assert_int_equal(totp_verify(&p, SEED20, 20, " 287082", 7, 59, 1, &matched), TOTP_BAD_INPUT);
	assert_int_equal(totp_verify(&p, SEED20, 20, "28708 ", 6, 59, 1, &matched), TOTP_BAD_INPUT);
	assert_int_equal(totp_verify(&p, SEED20, 20, "+28708", 6, 59, 1, &matched), TOTP_BAD_INPUT);
	assert_int_equal(totp_verify(&p, SEED20, 20, "-28708", 6, 59, 1, &matched), TOTP_BAD_INPUT);
	/* a right 6-digit code for 8-digit params is malformed, not merely wrong */
	assert_int_equal(totp_verify(&p8, SEED20, 20, "287082", 6, 59, 1, &matched), TOTP_BAD_INPUT);
	/* the length given counts, not the NUL: "287082" with len 5 */
	assert_int_equal(totp_verify(&p, SEED20, 20, "287082", 5, 59, 1, &matched), TOTP_BAD_INPUT);
}

static void test_errors(void **state)
{
	totp_params_t p = TOTP_DEFAULT_PARAMS;
	totp_params_t bad = { .algo = TOTP_SHA1, .digits = 9, .period = 30 };
	char out[16];
	uint64_t matched;

	(void) state;
	assert_int_equal(totp_verify(&p, SEED20, 20, "287082", 6, 59, TOTP_WINDOW_MAX + 1, &matched), TOTP_ERROR);
	assert_int_equal(totp_verify(&p, SEED20, 20, "287082", 6, 59, TOTP_WINDOW_MAX, &matched), TOTP_MATCH);
	assert_int_equal(totp_verify(&bad, SEED20, 20, "287082", 6, 59, 1, &matched), TOTP_ERROR);
	assert_int_equal(totp_verify(NULL, SEED20, 20, "287082", 6, 59, 1, &matched), TOTP_ERROR);
	assert_int_equal(totp_verify(&p, NULL, 0, "287082", 6, 59, 1, &matched), TOTP_ERROR);
	assert_int_equal(totp_verify(&p, SEED20, 0, "287082", 6, 59, 1, &matched), TOTP_ERROR);
	assert_int_equal(totp_verify(&p, SEED20, 20, "287082", 6, -1, 1, &matched), TOTP_ERROR);
	assert_int_equal(totp_verify(&p, SEED20, 20, "287082", 6, 59, 1, NULL), TOTP_MATCH);

	assert_int_equal(totp_generate(&p, SEED20, 20, 59, out, 6), -1);	/* no room for NUL */
	assert_int_equal(totp_generate(&p, SEED20, 20, 59, out, 7), 0);
	assert_int_equal(totp_generate(&bad, SEED20, 20, 59, out, sizeof(out)), -1);
	assert_string_equal(out, "");
	assert_int_equal(totp_generate(&p, NULL, 20, 59, out, sizeof(out)), -1);
	assert_int_equal(totp_generate(&p, SEED20, 0, 59, out, sizeof(out)), -1);
	assert_int_equal(totp_generate(&p, SEED20, 20, -30, out, sizeof(out)), -1);
	assert_int_equal(totp_generate(&p, SEED20, 20, 59, NULL, 0), -1);
}

static void test_seven_digits(void **state)
{
	totp_params_t p = { .algo = TOTP_SHA1, .digits = 7, .period = 30 };
	char out[16];
	uint64_t matched;

	(void) state;
	assert_int_equal(totp_generate(&p, SEED20, 20, 59, out, sizeof(out)), 0);
	assert_string_equal(out, "4287082");
	assert_int_equal(totp_verify(&p, SEED20, 20, "4287082", 7, 59, 0, &matched), TOTP_MATCH);
	assert_int_equal(totp_verify(&p, SEED20, 20, "287082", 6, 59, 0, &matched), TOTP_BAD_INPUT);
}

static void test_params_valid(void **state)
{
	totp_params_t p = TOTP_DEFAULT_PARAMS;

	(void) state;
	assert_true(totp_params_valid(&p));
	assert_false(totp_params_valid(NULL));
	p.digits = 5; assert_false(totp_params_valid(&p));
	p.digits = 6; assert_true(totp_params_valid(&p));
	p.digits = 7; assert_true(totp_params_valid(&p));
	p.digits = 8; assert_true(totp_params_valid(&p));
	p.digits = 9; assert_false(totp_params_valid(&p));
	p.digits = 0; assert_false(totp_params_valid(&p));
	p.digits = 6;
	p.period = 0; assert_false(totp_params_valid(&p));
	p.period = 1; assert_true(totp_params_valid(&p));
	p.period = 300; assert_true(totp_params_valid(&p));
	p.period = 301; assert_false(totp_params_valid(&p));
	p.period = 30;
	p.algo = TOTP_SHA256; assert_true(totp_params_valid(&p));
	p.algo = TOTP_SHA512; assert_true(totp_params_valid(&p));
	p.algo = (totp_algo_t) 3; assert_false(totp_params_valid(&p));
	p.algo = (totp_algo_t) -1; assert_false(totp_params_valid(&p));
}

static void test_algo_names(void **state)
{
	totp_algo_t a;

	(void) state;
	assert_string_equal(totp_algo_name(TOTP_SHA1), "SHA1");
	assert_string_equal(totp_algo_name(TOTP_SHA256), "SHA256");
	assert_string_equal(totp_algo_name(TOTP_SHA512), "SHA512");
	assert_int_equal(totp_algo_parse("sha1", &a), 0); assert_int_equal(a, TOTP_SHA1);
	assert_int_equal(totp_algo_parse("Sha256", &a), 0); assert_int_equal(a, TOTP_SHA256);
	assert_int_equal(totp_algo_parse("SHA512", &a), 0); assert_int_equal(a, TOTP_SHA512);
	assert_int_equal(totp_algo_parse("MD5", &a), -1);
	assert_int_equal(totp_algo_parse("", &a), -1);
	assert_int_equal(totp_algo_parse("SHA1 ", &a), -1);
	assert_int_equal(totp_algo_parse(NULL, &a), -1);
}

static void test_beyond_2038(void **state)
{
	totp_params_t p = TOTP_DEFAULT_PARAMS;
	time_t t = (time_t) 20000000000LL;
	char out[16];
	uint64_t matched;

	(void) state;
	assert_true(sizeof(time_t) >= 8);
	assert_int_equal(totp_counter_at(&p, t), 0x27BC86AAULL);
	assert_int_equal(totp_generate(&p, SEED20, 20, t, out, sizeof(out)), 0);
	assert_string_equal(out, "353130");	/* 65353130 mod 10^6 */
	assert_int_equal(totp_verify(&p, SEED20, 20, out, 6, t + 30, 1, &matched), TOTP_MATCH);
	assert_int_equal(matched, 0x27BC86AAULL);
}

static void test_counter_at(void **state)
{
	totp_params_t p = TOTP_DEFAULT_PARAMS;

	(void) state;
	assert_int_equal(totp_counter_at(&p, 0), 0);
	assert_int_equal(totp_counter_at(&p, 29), 0);
	assert_int_equal(totp_counter_at(&p, 30), 1);
	p.period = 60;
	assert_int_equal(totp_counter_at(&p, 119), 1);
	assert_int_equal(totp_counter_at(&p, 120), 2);
}

static void test_status_names(void **state)
{
	totp_status_t st = TOTP_STATUS_NONE;

	(void) state;
	assert_string_equal(totp_status_name(TOTP_STATUS_NONE), "none");
	assert_string_equal(totp_status_name(TOTP_STATUS_PENDING), "pending");
	assert_string_equal(totp_status_name(TOTP_STATUS_ACTIVE), "active");
	assert_int_equal(totp_status_parse("pending", &st), 0);
	assert_int_equal(st, TOTP_STATUS_PENDING);
	assert_int_equal(totp_status_parse("active", &st), 0);
	assert_int_equal(st, TOTP_STATUS_ACTIVE);
	/* a value the schema does not allow is refused, never read as "pending" or "none" */
	assert_int_equal(totp_status_parse("none", &st), -1);
	assert_int_equal(totp_status_parse("Active", &st), -1);
	assert_int_equal(totp_status_parse("", &st), -1);
	assert_int_equal(totp_status_parse(NULL, &st), -1);
	assert_int_equal(st, TOTP_STATUS_ACTIVE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_names),
		cmocka_unit_test(test_hotp_rfc4226_liboath),
		cmocka_unit_test(test_hotp_rfc4226_via_totp),
		cmocka_unit_test(test_rfc6238_sha1),
		cmocka_unit_test(test_rfc6238_sha256),
		cmocka_unit_test(test_rfc6238_sha512),
		cmocka_unit_test(test_rfc6238_wrong_seed_differs),
		cmocka_unit_test(test_six_digits_is_mod_1e6),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_window_liboath_reference),
		cmocka_unit_test(test_wrong_code),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_seven_digits),
		cmocka_unit_test(test_params_valid),
		cmocka_unit_test(test_algo_names),
		cmocka_unit_test(test_beyond_2038),
		cmocka_unit_test(test_counter_at),
	};
	int rc;

	if (totp_library_init() != 0) return 1;
	rc = cmocka_run_group_tests_name("totp", tests, NULL, NULL);
	totp_library_done();
	return rc;
}
