/*
 * test_password.c - password hashes from real web backends: bcrypt,
 * sha512-crypt, yescrypt (libxcrypt) and argon2id (libargon2).  Hashes
 * are both made here and taken from other tools and upstream test suites,
 * so that interoperability is tested, not just self-consistency.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <crypt.h>

#include "password.h"
#include "sha512_crypt.h"

#define PW "correct horse"
#define VERIFY(hash, lit) password_verify(hash, lit, sizeof(lit) - 1)

/* Fixed hashes made by other tools, with their passwords. */
typedef struct {
	char const *hash;
	char const *password;
	char const *source;
} known_t;

static known_t const KNOWN[] = {
	/* PHP manual, password_verify() example */
	{ "$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a", "rasmuslerdorf", "php" },
	/* Openwall crypt_blowfish test vectors */
	{ "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "U*U", "crypt_blowfish" },
	{ "$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "U*U", "crypt_blowfish" },
	/* openssl passwd -6 -salt vrms2fasalt 'correct horse' (OpenSSL's own SHA-crypt code) */
	{ "$6$vrms2fasalt$1EJYvVGY9aHzqLqToIiCOAeM0HK5j5pBWR2AXkza4bHtQT7WHeBk271hPcIRFpVZF834BPXqpKpGnKOfEfT8u.",
	  "correct horse", "openssl" },
	/* openssl passwd -6 -salt 'rounds=5000$abc' x */
	{ "$6$rounds=5000$abc$K4v3HcZ8yAmpRfxML6S46NCcqy9r4/KdbQpFvqSWsBf4dgySOEOo1DHJTrmn2BsJK2aNmPN8Tfb826D2o9.z51",
	  "x", "openssl" },
	/* yescrypt reference implementation, TESTS-OK */
	{ "$y$jD5.7$LdJMENpBABJJ3hIHjB1Bi.$HboGM6qPrsK.StKYGt6KErmUYtioHreJd98oIugoNB6", "pleaseletmein", "yescrypt" },
	/* phc-winner-argon2 src/test.c, Argon2id v=0x13 */
	{ "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", "password", "argon2" },
};

#define N_KNOWN (sizeof(KNOWN) / sizeof(KNOWN[0]))

/* A hash of PW made here with libxcrypt, for the given prefix and cost. */
static char *make_crypt_hash(char const *prefix, unsigned long cost, char const *password)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *data = calloc(1, sizeof(*data));
	char const *out;
	char *copy;

	assert_non_null(data);
	assert_non_null(crypt_gensalt_rn(prefix, cost, NULL, 0, setting, (int) sizeof(setting)));
	out = crypt_rn(password, setting, data, (int) sizeof(*data));
	assert_non_null(out);
	assert_true(out[0] != '*');
	copy = strdup(out);
	assert_non_null(copy);
	free(data);
	return copy;
}

/* The checks every format must pass, for a hash of PW. */
static void check_hash_of_pw(char const *hash)
{
	char longpw[PASSWORD_MAX_LEN + 2];

	assert_true(password_hash_supported(hash));
	assert_int_equal(VERIFY(hash, PW), PASSWORD_MATCH);
	assert_int_equal(VERIFY(hash, "correct horsf"), PASSWORD_MISMATCH);
	assert_int_equal(VERIFY(hash, "Correct horse"), PASSWORD_MISMATCH);
	assert_int_equal(VERIFY(hash, "correct hors"), PASSWORD_MISMATCH);
	assert_int_equal(VERIFY(hash, ""), PASSWORD_MISMATCH);
	/* a NUL never matches: not inside, not after the right password */
	assert_int_equal(VERIFY(hash, "correct horse\0"), PASSWORD_MISMATCH);
	assert_int_equal(VERIFY(hash, "correct horse\0junk"), PASSWORD_MISMATCH);
	assert_int_equal(VERIFY(hash, "correct\0horse"), PASSWORD_MISMATCH);
	/* the length given counts, not the NUL */
	assert_int_equal(password_verify(hash, PW "xyz", strlen(PW)), PASSWORD_MATCH);
	/* over-long: refused, never truncated */
	memset(longpw, 'a', sizeof(longpw));
	memcpy(longpw, PW, strlen(PW));
	assert_int_equal(password_verify(hash, longpw, PASSWORD_MAX_LEN + 1), PASSWORD_MISMATCH);
	assert_int_equal(password_verify(hash, longpw, sizeof(longpw)), PASSWORD_MISMATCH);
	assert_int_equal(password_verify(hash, NULL, 5), PASSWORD_MISMATCH);
}

static void test_bcrypt_2b(void **state)
{
	char *h = make_crypt_hash("$2b$", 4, PW);

	(void) state;
	assert_memory_equal(h, "$2b$04$", 7);
	check_hash_of_pw(h);
	free(h);
}

static void test_bcrypt_2y(void **state)
{
	char *h = make_crypt_hash("$2y$", 4, PW);

	(void) state;
	assert_memory_equal(h, "$2y$04$", 7);
	check_hash_of_pw(h);
	free(h);
}

static void test_bcrypt_2a(void **state)
{
	char *h = make_crypt_hash("$2a$", 4, PW);

	(void) state;
	assert_memory_equal(h, "$2a$04$", 7);
	check_hash_of_pw(h);
	free(h);
}

static void test_sha512_crypt(void **state)
{
	char *h = make_crypt_hash("$6$", 1000, PW);

	(void) state;
	assert_memory_equal(h, "$6$rounds=1000$", 15);
	check_hash_of_pw(h);
	free(h);
}

static void test_yescrypt(void **state)
{
	char *h = make_crypt_hash("$y$", 0, PW);

	(void) state;
	assert_memory_equal(h, "$y$", 3);
	check_hash_of_pw(h);
	free(h);
}

static void test_argon2id_new(void **state)
{
	char h1[PASSWORD_HASH_MAX], h2[PASSWORD_HASH_MAX];

	(void) state;
	assert_int_equal(password_hash_new(PW, strlen(PW), h1, sizeof(h1)), 0);
	assert_non_null(strstr(h1, "$argon2id$v=19$m=19456,t=2,p=1$"));
	assert_int_equal(strncmp(h1, "$argon2id$v=19$m=19456,t=2,p=1$", 31), 0);
	check_hash_of_pw(h1);
	/* a fresh salt each time */
	assert_int_equal(password_hash_new(PW, strlen(PW), h2, sizeof(h2)), 0);
	assert_string_not_equal(h1, h2);
	assert_int_equal(VERIFY(h2, PW), PASSWORD_MATCH);
}

static void test_hash_new_refuses(void **state)
{
	char h[PASSWORD_HASH_MAX];
	char longpw[PASSWORD_MAX_LEN + 1];

	(void) state;
	memset(longpw, 'p', sizeof(longpw));
	assert_int_equal(password_hash_new("a\0b", 3, h, sizeof(h)), -1);
	assert_string_equal(h, "");
	assert_int_equal(password_hash_new("", 0, h, sizeof(h)), -1);
	assert_int_equal(password_hash_new(NULL, 3, h, sizeof(h)), -1);
	assert_int_equal(password_hash_new(longpw, PASSWORD_MAX_LEN + 1, h, sizeof(h)), -1);
	assert_int_equal(password_hash_new(PW, strlen(PW), h, 40), -1);
	assert_int_equal(password_hash_new(PW, strlen(PW), NULL, 0), -1);
	/* the longest allowed password works and round-trips */
	assert_int_equal(password_hash_new(longpw, PASSWORD_MAX_LEN, h, sizeof(h)), 0);
	assert_int_equal(password_verify(h, longpw, PASSWORD_MAX_LEN), PASSWORD_MATCH);
	assert_int_equal(password_verify(h, longpw, PASSWORD_MAX_LEN - 1), PASSWORD_MISMATCH);
}

static void test_known_hashes(void **state)
{
	size_t i;

	(void) state;
	for (i = 0; i < N_KNOWN; i++) {
		char wrong[64];
		password_result_t r;

		assert_true(password_hash_supported(KNOWN[i].hash));
		r = password_verify(KNOWN[i].hash, KNOWN[i].password, strlen(KNOWN[i].password));
		if (r != PASSWORD_MATCH) fail_msg("%s hash %s: got %d", KNOWN[i].source, KNOWN[i].hash, (int) r);
		assert_true(strlen(KNOWN[i].password) + 2 < sizeof(wrong));
		strcpy(wrong, KNOWN[i].password);
		strcat(wrong, "!");
		assert_int_equal(password_verify(KNOWN[i].hash, wrong, strlen(wrong)), PASSWORD_MISMATCH);
		/* the right password with a NUL appended */
		assert_int_equal(password_verify(KNOWN[i].hash, KNOWN[i].password, strlen(KNOWN[i].password) + 1),
				 PASSWORD_MISMATCH);
	}
}

static void test_unsupported(void **state)
{
	static char const *const BAD[] = {
		"",
		"garbage",
		"*",
		"!",
		"x",
		"$1$saltsalt$qjXMvbEw8oaL.CzflDugX/",			/* md5crypt */
		"$5$saltsalt$Gcm6FsVtF/Qa77ZKD.iwsJlCVPY0XSMgLJL0Hnww/c1",	/* sha256crypt */
		"$argon2i$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
		"$argon2d$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$AAAA",
		"$2x$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
		"$2y$10$short",
		"$2b$04$",
		"$6$",								/* a bare setting */
		"$y$j9T$",
		"$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1",	/* truncated */
		"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$!!!",
		"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ",
		"$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",	/* 4 GiB */
		"$argon2id$v=19$m=65536,t=1000,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
		"$argon2id$v=19$m=65536,t=2,p=255$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
		"$argon2id$v=99$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
		"$argon2id$m=,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
		" $6$vrms2fasalt$1EJYvVGY9aHzqLqToIiCOAeM0HK5j5pBWR2AXkza4bHtQT7WHeBk271hPcIRFpVZF834BPXqpKpGnKOfEfT8u.",
		"$6$vrms2fasalt$1EJYvVGY9aHzqLqToIiCOAeM0HK5j5pBWR2AXkza4bHtQT7WHeBk271hPcIRFpVZF834BPXqpKpGnKOfEfT8u.\n",
	};
	char huge[PASSWORD_HASH_MAX + 10];
	size_t i;

	(void) state;
	for (i = 0; i < sizeof(BAD) / sizeof(BAD[0]); i++) {
		password_result_t r = VERIFY(BAD[i], "password");

		if (r != PASSWORD_UNSUPPORTED) fail_msg("hash \"%s\": got %d", BAD[i], (int) r);
	}
	assert_int_equal(VERIFY(NULL, "password"), PASSWORD_UNSUPPORTED);
	assert_false(password_hash_supported(NULL));
	assert_false(password_hash_supported(""));
	assert_false(password_hash_supported("garbage"));
	assert_false(password_hash_supported("$1$abc$def"));

	memset(huge, 'a', sizeof(huge));
	memcpy(huge, "$6$", 3);
	huge[sizeof(huge) - 1] = '\0';
	assert_false(password_hash_supported(huge));
	assert_int_equal(VERIFY(huge, "password"), PASSWORD_UNSUPPORTED);
}

/*
 * Fuzzing found (fuzz_password_hash, corpus regress-yescrypt-2GiB-oom): a
 * hostile $y$ row could make password_verify allocate any amount of memory
 * (2 GiB for jGT, more beyond), while argon2id was capped at 1 GiB.  Now
 * yescrypt has the same caps, checked before libxcrypt runs.
 */
/* A hostile row must not burn minutes of CPU: over-cost bcrypt and sha512-crypt are refused at once. */
static void test_cpu_cost_caps(void **state)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE], hashbuf[CRYPT_OUTPUT_SIZE];
	struct crypt_data *data = calloc(1, sizeof(*data));
	char const *h;
	struct timespec t0, t1;

	(void)state;
	assert_non_null(data);
	/* cost 16 and 31: valid bcrypt strings (the salt of a cost-4 hash with the cost digits changed) */
	assert_non_null(crypt_gensalt_rn("$2b$", 4, NULL, 0, setting, sizeof(setting)));
	h = crypt_rn("pw", setting, data, (int)sizeof(*data));
	assert_non_null(h);
	snprintf(hashbuf, sizeof(hashbuf), "%s", h);
	hashbuf[4] = '1'; hashbuf[5] = '6';
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(password_verify(hashbuf, "pw", 2), PASSWORD_UNSUPPORTED);
	hashbuf[4] = '3'; hashbuf[5] = '1';
	assert_int_equal(password_verify(hashbuf, "pw", 2), PASSWORD_UNSUPPORTED);
	assert_int_equal(password_verify("$6$rounds=999999999$saltsalt$" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "pw", 2),
			 PASSWORD_UNSUPPORTED);
	assert_int_equal(password_verify("$6$rounds=12345678901234$salt$xx", "pw", 2), PASSWORD_UNSUPPORTED);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 2);	/* refused without doing the work */
	/* the bounds themselves still work: cost 15 is accepted as a format */
	hashbuf[4] = '1'; hashbuf[5] = '5';
	assert_true(password_hash_supported(hashbuf));
	free(data);
}

static void test_yescrypt_cost_caps(void **state)
{
#define Y_SALT_HASH "$LdJMENpBABJJ3hIHjB1Bi.$HboGM6qPrsK.StKYGt6KErmUYtioHreJd98oIugoNB6"
	static char const *const OVER[] = {
		"$y$jGT" Y_SALT_HASH,		/* N = 2^19, r = 32: 2 GiB */
		"$y$jJT" Y_SALT_HASH,		/* 16 GiB */
		"$y$jS5" Y_SALT_HASH,		/* N = 2^31: over the cap whatever r */
		"$y$j7zzzzzz" Y_SALT_HASH,	/* r does not fit 32 bits */
		"$y$j75.D" Y_SALT_HASH,		/* p = 17 */
		"$y$j751." Y_SALT_HASH,		/* g = 1: an upgraded hash */
		"$y$j755." Y_SALT_HASH,		/* a ROM */
		"$y$j75",			/* no '$' after the parameters */
		"$y$j7",
		"$y$",
	};
	size_t i;

	(void) state;
	for (i = 0; i < sizeof(OVER) / sizeof(OVER[0]); i++) {
		password_result_t r = VERIFY(OVER[i], "pleaseletmein");

		if (r != PASSWORD_UNSUPPORTED) fail_msg("hash \"%s\": got %d", OVER[i], (int) r);
	}
	/* Within the caps: still verified (1 MiB; and p = 11, 64 MiB, in KNOWN). */
	assert_int_equal(VERIFY("$y$j75" Y_SALT_HASH, "pleaseletmein"), PASSWORD_MISMATCH);
#undef Y_SALT_HASH
}

/* The memory a check takes: argon2id's m, yescrypt's 128 * N * r; 0 for the others; beyond the caps too. */
static void test_memory_needed(void **state)
{
	uint64_t bytes = 1;

	(void) state;
	assert_int_equal(password_memory_needed(KNOWN[0].hash, &bytes), 0);
	assert_true(bytes == 0);	/* bcrypt */
	assert_int_equal(password_memory_needed(KNOWN[3].hash, &bytes), 0);
	assert_true(bytes == 0);	/* sha512-crypt */
	assert_int_equal(password_memory_needed(KNOWN[6].hash, &bytes), 0);
	assert_true(bytes == 65536ull * 1024);	/* argon2id m=65536 */
	/* "$y$j9T$": N = 2^12, r = 32 (libxcrypt's default): 16 MiB */
	assert_int_equal(password_memory_needed("$y$j9T$LdJMENpBABJJ3hIHjB1Bi.$HboGM6qPrsK.StKYGt6KErmUYtioHreJd98oIugoNB6", &bytes), 0);
	assert_true(bytes == 16ull << 20);
	/* 2 GiB: over the absolute cap, so password_verify refuses it, but its size is told */
	assert_int_equal(password_memory_needed("$argon2id$v=19$m=2097152,t=1,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
						&bytes), 0);
	assert_true(bytes == 2ull << 30);
	assert_int_equal(VERIFY("$argon2id$v=19$m=2097152,t=1,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
				"password"), PASSWORD_UNSUPPORTED);
	assert_int_equal(password_memory_needed("garbage", &bytes), -1);
	assert_true(bytes == 0);
	assert_int_equal(password_memory_needed(NULL, &bytes), -1);
	assert_int_equal(password_memory_needed("$argon2id$v=19$m=x,t=1,p=1$c29tZXNhbHQ$CTFh", &bytes), -1);
}

static void test_profile(void **state)
{
	static struct { char const *hash, *profile; } const CASES[] = {
		{ "$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a", "$2y$10$" },
		{ "$6$vrms2fasalt$1EJYvVGY9aHzqLqToIiCOAeM0HK5j5pBWR2AXkza4bHtQT7WHeBk271hPcIRFpVZF834BPXqpKpGnKOfEfT8u.", "$6$" },
		{ "$6$rounds=5000$abc$K4v3HcZ8yAmpRfxML6S46NCcqy9r4/KdbQpFvqSWsBf4dgySOEOo1DHJTrmn2BsJK2aNmPN8Tfb826D2o9.z51",
		  "$6$rounds=5000$" },
		{ "$y$jD5.7$LdJMENpBABJJ3hIHjB1Bi.$HboGM6qPrsK.StKYGt6KErmUYtioHreJd98oIugoNB6", "$y$jD5.7$" },
		{ "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
		  "$argon2id$v=19$m=65536,t=2,p=1$" },
	};
	char out[PASSWORD_HASH_MAX + 1];
	size_t i;

	(void) state;
	for (i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
		assert_int_equal(password_profile(CASES[i].hash, out, sizeof(out)), 0);
		assert_string_equal(out, CASES[i].profile);
	}
	assert_int_equal(password_profile("$1$abc$def", out, sizeof(out)), -1);
	assert_string_equal(out, "");
	assert_int_equal(password_profile(CASES[0].hash, out, 7), -1);	/* no room for "$2y$10$" and its NUL */
}

/*
 * A dummy like each known hash: supported, the same profile, a new salt (a
 * different hash), a canonical sha512-crypt one stays canonical with a salt
 * as long, and the sample's password does not match it.
 */
static void test_dummy_like(void **state)
{
	char dummy[PASSWORD_HASH_MAX + 1], again[PASSWORD_HASH_MAX + 1];
	char want[PASSWORD_HASH_MAX + 1], got[PASSWORD_HASH_MAX + 1];
	size_t i;

	(void) state;
	for (i = 0; i < N_KNOWN; i++) {
		char const *sample = KNOWN[i].hash;

		assert_int_equal(password_dummy_like(sample, dummy, sizeof(dummy)), 0);
		assert_int_equal(password_dummy_like(sample, again, sizeof(again)), 0);
		assert_true(password_hash_supported(dummy));
		assert_int_equal(password_profile(sample, want, sizeof(want)), 0);
		assert_int_equal(password_profile(dummy, got, sizeof(got)), 0);
		if (strcmp(want, got) != 0) fail_msg("%s: dummy %s has profile %s", sample, dummy, got);
		assert_string_not_equal(dummy, sample);
		assert_string_not_equal(dummy, again);
		assert_int_equal(strlen(dummy), strlen(sample));
		assert_int_equal(password_verify(dummy, KNOWN[i].password, strlen(KNOWN[i].password)), PASSWORD_MISMATCH);
	}
	{	/* canonical sha512-crypt: the dummy takes the same (OpenSSL) path, with a salt as long */
		sha512_crypt_setting_t a, b;

		assert_true(sha512_crypt_parse(KNOWN[3].hash, &a));
		assert_int_equal(password_dummy_like(KNOWN[3].hash, dummy, sizeof(dummy)), 0);
		assert_true(sha512_crypt_parse(dummy, &b));
		assert_int_equal(a.salt_len, b.salt_len);
		assert_int_equal(a.rounds, b.rounds);
	}
	assert_int_equal(password_dummy_like("$1$abc$def", dummy, sizeof(dummy)), -1);
	assert_string_equal(dummy, "");
	assert_int_equal(password_dummy_like("$argon2id$v=19$m=2097152,t=1,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
					     dummy, sizeof(dummy)), -1);	/* over the absolute cap: never a dummy */
	assert_int_equal(password_dummy_like(KNOWN[0].hash, dummy, 20), -1);	/* no room */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bcrypt_2b),
		cmocka_unit_test(test_bcrypt_2y),
		cmocka_unit_test(test_bcrypt_2a),
		cmocka_unit_test(test_sha512_crypt),
		cmocka_unit_test(test_yescrypt),
		cmocka_unit_test(test_argon2id_new),
		cmocka_unit_test(test_hash_new_refuses),
		cmocka_unit_test(test_known_hashes),
		cmocka_unit_test(test_unsupported),
		cmocka_unit_test(test_yescrypt_cost_caps),
		cmocka_unit_test(test_cpu_cost_caps),
		cmocka_unit_test(test_memory_needed),
		cmocka_unit_test(test_profile),
		cmocka_unit_test(test_dummy_like),
	};

	return cmocka_run_group_tests_name("password", tests, NULL, NULL);
}
