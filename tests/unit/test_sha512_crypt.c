/*
 * test_sha512_crypt.c - the "$6$" hashes computed on OpenSSL's SHA-512
 * (core/sha512_crypt.c): the SHA-512 test vectors of Drepper's
 * specification, a differential test against libxcrypt's crypt_rn on
 * random passwords, salts and round counts, which settings the parser
 * refuses (they go to libxcrypt), and password_verify on both paths.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <crypt.h>

#include "password.h"
#include "sha512_crypt.h"

#define ALPHABET	"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
#define HASH_86		"svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"
#define DIFF_CASES	512	/* ~1 s; the fuzz target fuzz_sha512_crypt goes on from here */
#define DIFF_PW_MAX	200

/*
 * The SHA-512 vectors of "Unix crypt using SHA-256 and SHA-512": the
 * setting given, the password, the hash the specification gives.  The
 * hash is canonical each time (long salts come out truncated to 16, low
 * round counts raised to 1000); the setting is not always.
 */
typedef struct {
	char const *setting;
	char const *password;
	char const *hash;
} vector_t;

static vector_t const SPEC[] = {
	{ "$6$saltstring", "Hello world!",
	  "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1" },
	{ "$6$rounds=10000$saltstringsaltstring", "Hello world!",
	  "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/"
	  "YTBmSK6H9qs/y3RnOaw5v." },
	{ "$6$rounds=5000$toolongsaltstring", "This is just a test",
	  "$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/"
	  "e1JSbq3y6JMxxl8audkUEm0" },
	{ "$6$rounds=1400$anotherlongsaltstring",
	  "a very much longer text to encrypt.  This one even stretches over morethan one line.",
	  "$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7U"
	  "mJEiDwGqd8p4ur1" },
	{ "$6$rounds=77777$short", "we have a short salt string but not a short password",
	  "$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5CxtgfiAc0" },
	{ "$6$rounds=123456$asaltof16chars..", "a short string",
	  "$6$rounds=123456$asaltof16chars..$BtCwjqMJGx5hrJhZywWvt0RLE8uZ4oPwcelCjmw2kSYu.Ec6ycULevoBK25fs2xXgMNrCzIMV"
	  "cgEJAstJeonj1" },
	{ "$6$rounds=10$roundstoolow", "the minimum number is still observed",
	  "$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX." },
};

#define N_SPEC (sizeof(SPEC) / sizeof(SPEC[0]))

/* The 86 characters after the last '$'. */
static char const *hash_part(char const *hash)
{
	char const *p = strrchr(hash, '$');

	assert_non_null(p);
	assert_int_equal(strlen(p + 1), SHA512_CRYPT_HASH_LEN);
	return p + 1;
}

/* crypt_rn(password, setting) into out (CRYPT_OUTPUT_SIZE); 0, or -1 if libxcrypt refuses. */
static int xcrypt(char const *password, char const *setting, char *out)
{
	struct crypt_data *data = calloc(1, sizeof(*data));
	char const *r;
	int rc = -1;

	assert_non_null(data);
	r = crypt_rn(password, setting, data, (int) sizeof(*data));
	if (r && r[0] != '*') {
		snprintf(out, CRYPT_OUTPUT_SIZE, "%s", r);
		rc = 0;
	}
	free(data);
	return rc;
}

/* parse(hash) accepts it and encode(password) gives its 86 characters. */
static void check_encodes(char const *hash, char const *password, size_t len)
{
	sha512_crypt_setting_t s;
	char out[SHA512_CRYPT_HASH_LEN + 1];

	if (!sha512_crypt_parse(hash, &s)) fail_msg("parse refused \"%s\"", hash);
	assert_int_equal(sha512_crypt_encode(password, len, &s, out), 0);
	if (strcmp(out, hash_part(hash)) != 0) fail_msg("\"%s\" (password length %zu): got %s", hash, len, out);
}

static void test_spec_vectors(void **state)
{
	char stored[CRYPT_OUTPUT_SIZE], wrong[128];
	sha512_crypt_setting_t s;
	size_t i;

	(void) state;
	for (i = 0; i < N_SPEC; i++) {
		char const *pw = SPEC[i].password;

		check_encodes(SPEC[i].hash, pw, strlen(pw));
		assert_int_equal(password_verify(SPEC[i].hash, pw, strlen(pw)), PASSWORD_MATCH);
		snprintf(wrong, sizeof(wrong), "%s.", pw);
		assert_int_equal(password_verify(SPEC[i].hash, wrong, strlen(wrong)), PASSWORD_MISMATCH);
		assert_int_equal(password_verify(SPEC[i].hash, pw, strlen(pw) - 1), PASSWORD_MISMATCH);

		/* The setting as given, with the hash: canonical or refused. */
		snprintf(stored, sizeof(stored), "%s$%s", SPEC[i].setting, hash_part(SPEC[i].hash));
		if (strcmp(stored, SPEC[i].hash) == 0) continue;
		if (sha512_crypt_parse(stored, &s)) fail_msg("parse accepted \"%s\"", stored);
		/*
		 * libxcrypt cannot reproduce such a string (it writes the salt
		 * truncated, and refuses rounds below 1000): as before, the
		 * stored hash is malformed, not the password wrong.
		 */
		assert_int_equal(password_verify(stored, pw, strlen(pw)), PASSWORD_UNSUPPORTED);
	}
}

/* libxcrypt agrees with the specification, for the settings it accepts. */
static void test_spec_vectors_libxcrypt(void **state)
{
	char out[CRYPT_OUTPUT_SIZE];
	size_t i;

	(void) state;
	for (i = 0; i < N_SPEC; i++) {
		if (xcrypt(SPEC[i].password, SPEC[i].setting, out) != 0) {
			/* libxcrypt refuses rounds below 1000 where the specification raises them */
			assert_non_null(strstr(SPEC[i].setting, "rounds=10$"));
			continue;
		}
		assert_string_equal(out, SPEC[i].hash);
	}
}

/* xorshift64*: reproducible random numbers. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t) ((rng_state * 0x2545f4914f6cdd1dull) >> 32) % n;
}

/* Password of case i: lengths around the 64- and 128-byte edges every 7th case, bytes 1..255. */
static size_t random_password(size_t i, char pw[DIFF_PW_MAX + 1])
{
	static size_t const EDGES[] = { 0, 1, 63, 64, 65, 127, 128, 129, 200 };
	size_t len, k;

	len = (i % 7 == 0) ? EDGES[(i / 7) % (sizeof(EDGES) / sizeof(EDGES[0]))] : rnd(DIFF_PW_MAX + 1);
	for (k = 0; k < len; k++) {
		/* every 5th password has only bytes 0x80..0xff */
		pw[k] = (char) (i % 5 == 0 ? 0x80 + rnd(0x80) : 1 + rnd(255));
	}
	pw[len] = '\0';
	return len;
}

/*
 * Setting of case i: a salt of 1..16 random characters; 28 cases in 32 at
 * 1000 or 1001 rounds (to keep the test quick), one each at 4999, 5000
 * implicit, 5000 explicit and 12345.
 */
static void random_setting(size_t i, char *setting, size_t size)
{
	char salt[SHA512_CRYPT_SALT_MAX + 1];
	size_t len = 1 + rnd(SHA512_CRYPT_SALT_MAX), k;
	unsigned rounds;

	for (k = 0; k < len; k++) salt[k] = ALPHABET[rnd(64)];
	salt[len] = '\0';
	switch (i % 32) {
	case 28: rounds = 4999; break;
	case 29: rounds = 0; break;	/* implicit 5000 */
	case 30: rounds = 5000; break;
	case 31: rounds = 12345; break;
	default: rounds = 1000 + (unsigned) (i & 1); break;
	}
	if (rounds == 0) snprintf(setting, size, "$6$%s$", salt);
	else snprintf(setting, size, "$6$rounds=%u$%s$", rounds, salt);
}

static void test_differential_libxcrypt(void **state)
{
	char pw[DIFF_PW_MAX + 1], setting[64], hash[CRYPT_OUTPUT_SIZE];
	size_t i, len, verified = 0;

	(void) state;
	for (i = 0; i < DIFF_CASES; i++) {
		len = random_password(i, pw);
		random_setting(i, setting, sizeof(setting));
		assert_int_equal(xcrypt(pw, setting, hash), 0);
		check_encodes(hash, pw, len);
		if (i % 9 != 1) continue;	/* 9 and 32 are coprime: every kind of setting */
		/* and through password_verify, with the right password and one byte off */
		assert_int_equal(password_verify(hash, pw, len), PASSWORD_MATCH);
		if (len == 0) continue;
		pw[len - 1] = (char) (pw[len - 1] == 'x' ? 'y' : 'x');
		assert_int_equal(password_verify(hash, pw, len), PASSWORD_MISMATCH);
		verified++;
	}
	assert_true(verified > DIFF_CASES / 10);
}

static void test_parse_fields(void **state)
{
	sha512_crypt_setting_t s;

	(void) state;
	assert_true(sha512_crypt_parse("$6$saltstring$" HASH_86, &s));
	assert_int_equal(s.rounds, 5000);
	assert_int_equal(s.salt_len, 10);
	assert_string_equal(s.salt, "saltstring");
	assert_string_equal(s.hash, HASH_86);

	assert_true(sha512_crypt_parse("$6$rounds=1000$a$" HASH_86, &s));
	assert_int_equal(s.rounds, 1000);
	assert_int_equal(s.salt_len, 1);
	assert_string_equal(s.salt, "a");

	assert_true(sha512_crypt_parse("$6$rounds=1000000$./0123456789AZaz$" HASH_86, &s));
	assert_int_equal(s.rounds, 1000000);
	assert_int_equal(s.salt_len, 16);
	assert_string_equal(s.salt, "./0123456789AZaz");

	assert_true(sha512_crypt_parse("$6$rounds=5000$x$" HASH_86, &s));
	assert_int_equal(s.rounds, 5000);
}

static void test_parse_refusals(void **state)
{
	static char const *const BAD[] = {
		"",
		"$6$",
		"$6$saltstring",
		"$6$saltstring$",
		"$6" "saltstring$" HASH_86,
		"$5$saltstring$" HASH_86,
		"$6$saltstring" HASH_86,			/* no '$' between salt and hash */
		"$6$rounds=1000" "saltstring$" HASH_86,		/* no '$' after rounds */
		"$6$rounds=01000$saltstring$" HASH_86,		/* leading zero */
		"$6$rounds=0$saltstring$" HASH_86,
		"$6$rounds=999$saltstring$" HASH_86,
		"$6$rounds=10$saltstring$" HASH_86,
		"$6$rounds=1000001$saltstring$" HASH_86,
		"$6$rounds=4294967297$saltstring$" HASH_86,	/* 2^32 + 1 */
		"$6$rounds=99999999999999999999$saltstring$" HASH_86,
		"$6$rounds=$saltstring$" HASH_86,
		"$6$rounds=+1000$saltstring$" HASH_86,
		"$6$rounds=-1000$saltstring$" HASH_86,
		"$6$rounds= 1000$saltstring$" HASH_86,
		"$6$rounds=1e3$saltstring$" HASH_86,
		"$6$ROUNDS=1000$saltstring$" HASH_86,		/* '=' is not a salt character */
		"$6$rounds=1000$rounds=1000$saltstring$" HASH_86,
		"$6$$" HASH_86,					/* empty salt */
		"$6$rounds=1000$$" HASH_86,
		"$6$saltstringsaltst1$" HASH_86,		/* 17 characters */
		"$6$rounds=10000$saltstringsaltstring$" HASH_86,
		"$6$salt-string$" HASH_86,
		"$6$salt_string$" HASH_86,
		"$6$salt*string$" HASH_86,
		"$6$salt:string$" HASH_86,
		"$6$salt string$" HASH_86,
		"$6$salt\xc3\xa9$" HASH_86,
		"$6$saltstring$" "svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz",   /* 85 */
		"$6$saltstring$" HASH_86 "1",			/* 87 */
		"$6$saltstring$" HASH_86 "$",
		"$6$saltstring$" HASH_86 "\n",
		"$6$saltstring$" "svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35in-1", /* bad character */
		"$6$saltstring$$" HASH_86,
		" $6$saltstring$" HASH_86,
	};
	sha512_crypt_setting_t s;
	size_t i;

	(void) state;
	for (i = 0; i < sizeof(BAD) / sizeof(BAD[0]); i++) {
		if (sha512_crypt_parse(BAD[i], &s)) fail_msg("parse accepted \"%s\"", BAD[i]);
	}
	assert_false(sha512_crypt_parse(NULL, &s));
	assert_false(sha512_crypt_parse("$6$saltstring$" HASH_86, NULL));
	assert_true(sha512_crypt_parse("$6$saltstring$" HASH_86, &s));
}

static void test_encode_arguments(void **state)
{
	static char const *const HASH = "$6$rounds=1000$abc$" HASH_86;
	char big[SHA512_CRYPT_PASSWORD_MAX + 2];
	char out[SHA512_CRYPT_HASH_LEN + 1], expect[CRYPT_OUTPUT_SIZE];
	sha512_crypt_setting_t s, bad;

	(void) state;
	assert_true(sha512_crypt_parse(HASH, &s));
	assert_int_equal(sha512_crypt_encode("pw", 2, &s, NULL), -1);
	assert_int_equal(sha512_crypt_encode("pw", 2, NULL, out), -1);
	assert_string_equal(out, "");
	assert_int_equal(sha512_crypt_encode(NULL, 2, &s, out), -1);
	assert_string_equal(out, "");

	bad = s;
	bad.rounds = 999;
	assert_int_equal(sha512_crypt_encode("pw", 2, &bad, out), -1);
	bad = s;
	bad.rounds = 1000001;
	assert_int_equal(sha512_crypt_encode("pw", 2, &bad, out), -1);
	bad = s;
	bad.salt_len = 0;
	assert_int_equal(sha512_crypt_encode("pw", 2, &bad, out), -1);
	bad = s;
	bad.salt_len = SHA512_CRYPT_SALT_MAX + 1;
	assert_int_equal(sha512_crypt_encode("pw", 2, &bad, out), -1);

	/* NULL is the empty password */
	assert_int_equal(xcrypt("", "$6$rounds=1000$abc$", expect), 0);
	assert_int_equal(sha512_crypt_encode(NULL, 0, &s, out), 0);
	assert_string_equal(out, hash_part(expect));

	/* the longest password libxcrypt takes, and one byte more (which it refuses too) */
	memset(big, 'p', sizeof(big));
	big[SHA512_CRYPT_PASSWORD_MAX] = '\0';
	assert_int_equal(xcrypt(big, "$6$rounds=1000$abc$", expect), 0);
	assert_int_equal(sha512_crypt_encode(big, SHA512_CRYPT_PASSWORD_MAX, &s, out), 0);
	assert_string_equal(out, hash_part(expect));
	big[SHA512_CRYPT_PASSWORD_MAX] = 'p';
	big[SHA512_CRYPT_PASSWORD_MAX + 1] = '\0';
	assert_int_equal(xcrypt(big, "$6$rounds=1000$abc$", expect), -1);
	assert_int_equal(sha512_crypt_encode(big, SHA512_CRYPT_PASSWORD_MAX + 1, &s, out), -1);
	assert_string_equal(out, "");
}

/* Hash of password made by libxcrypt for setting, into out; must (or must not) be canonical. */
static void make_hash(char const *setting, char const *password, int canonical, char *out)
{
	sha512_crypt_setting_t s;

	assert_int_equal(xcrypt(password, setting, out), 0);
	if (sha512_crypt_parse(out, &s) != canonical) fail_msg("\"%s\": parse gave %d", out, !canonical);
}

static void test_verify_both_paths(void **state)
{
	/* canonical: OpenSSL's SHA-512; the others: libxcrypt, which reproduces them exactly */
	static struct { char const *setting; int canonical; } const CASES[] = {
		{ "$6$rounds=1000$abcdefghijklmnop$", 1 },
		{ "$6$abc$", 1 },
		{ "$6$rounds=5000$abc$", 1 },
		{ "$6$$", 0 },				/* empty salt */
		{ "$6$rounds=1000$$", 0 },
		{ "$6$a-b_c$", 0 },			/* characters outside the alphabet */
		{ "$6$rounds=1000$x-y$", 0 },
	};
	char hash[CRYPT_OUTPUT_SIZE];
	size_t i;

	(void) state;
	for (i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
		make_hash(CASES[i].setting, "correct horse", CASES[i].canonical, hash);
		assert_int_equal(password_verify(hash, "correct horse", 13), PASSWORD_MATCH);
		assert_int_equal(password_verify(hash, "correct horsf", 13), PASSWORD_MISMATCH);
		assert_int_equal(password_verify(hash, "correct hors", 12), PASSWORD_MISMATCH);
		assert_int_equal(password_verify(hash, "", 0), PASSWORD_MISMATCH);
		assert_int_equal(password_verify(hash, NULL, 0), PASSWORD_MISMATCH);
		assert_int_equal(password_verify(hash, "correct horse\0", 14), PASSWORD_MISMATCH);
		/* one hash character changed: a mismatch, not an error */
		hash[strlen(hash) - 5] = hash[strlen(hash) - 5] == 'a' ? 'b' : 'a';
		assert_int_equal(password_verify(hash, "correct horse", 13), PASSWORD_MISMATCH);
	}

	/* the empty password, on both paths */
	make_hash("$6$rounds=1000$abc$", "", 1, hash);
	assert_int_equal(password_verify(hash, "", 0), PASSWORD_MATCH);
	assert_int_equal(password_verify(hash, NULL, 0), PASSWORD_MATCH);
	assert_int_equal(password_verify(hash, "x", 1), PASSWORD_MISMATCH);
	make_hash("$6$rounds=1000$$", "", 0, hash);
	assert_int_equal(password_verify(hash, "", 0), PASSWORD_MATCH);
	assert_int_equal(password_verify(hash, "x", 1), PASSWORD_MISMATCH);

	/* rounds above the cap are refused before either path */
	assert_int_equal(password_verify("$6$rounds=1000001$abc$" HASH_86, "pw", 2), PASSWORD_UNSUPPORTED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_vectors),
		cmocka_unit_test(test_spec_vectors_libxcrypt),
		cmocka_unit_test(test_parse_fields),
		cmocka_unit_test(test_parse_refusals),
		cmocka_unit_test(test_encode_arguments),
		cmocka_unit_test(test_verify_both_paths),
		cmocka_unit_test(test_differential_libxcrypt),
	};

	return cmocka_run_group_tests_name("sha512_crypt", tests, NULL, NULL);
}
