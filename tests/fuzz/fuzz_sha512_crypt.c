/*
 * fuzz_sha512_crypt.c - feeds a "$6$" hash string and a password to
 * sha512_crypt_parse and sha512_crypt_encode (core/sha512_crypt.c), and
 * compares with libxcrypt's crypt_rn.  The input is split at its first
 * NUL byte: the hash is what comes before it, the password what comes
 * after it, up to a second NUL (crypt_rn takes C strings).  Without a NUL
 * the whole input is the hash and the password is empty.  When the hash
 * is refused (and shorter than 128 bytes), it is tried again with "$" and
 * 86 '.' appended, so that the fuzzer need not write the 86 hash
 * characters to reach the encoder.
 *
 * Checks: no crash, UB or leak; a hash the parser accepts is canonical
 * (it is exactly what its fields print to, "rounds=" only if it was
 * there); and for rounds up to 5000 (the budget: more is legitimate KDF
 * work) libxcrypt accepts it too with the same "$6$...$" prefix, and
 * sha512_crypt_encode gives exactly the 86 characters of crypt_rn's
 * output, or fails exactly when crypt_rn refuses the password (over
 * SHA512_CRYPT_PASSWORD_MAX bytes).
 */
#include <crypt.h>

#include "fuzz_util.h"
#include "sha512_crypt.h"

#define FUZZ_MAX_ROUNDS	5000u
#define PADDED_MAX	128	/* hashes this long or longer are not padded */

/* The hash's fields printed back: with or without "rounds=", it must be one of them. */
static void check_canonical(char const *hash, sha512_crypt_setting_t const *s)
{
	char with[128], without[128];

	FUZZ_CHECK(s->salt_len >= 1 && s->salt_len <= SHA512_CRYPT_SALT_MAX);
	FUZZ_CHECK(strlen(s->salt) == s->salt_len);
	FUZZ_CHECK(strlen(s->hash) == SHA512_CRYPT_HASH_LEN);
	FUZZ_CHECK(s->rounds >= SHA512_CRYPT_ROUNDS_MIN && s->rounds <= SHA512_CRYPT_ROUNDS_MAX);
	snprintf(with, sizeof(with), "$6$rounds=%u$%s$%s", (unsigned) s->rounds, s->salt, s->hash);
	snprintf(without, sizeof(without), "$6$%s$%s", s->salt, s->hash);
	FUZZ_CHECK(strcmp(hash, with) == 0 || (s->rounds == SHA512_CRYPT_ROUNDS_DEFAULT && strcmp(hash, without) == 0));
}

/* Ours against libxcrypt's, for a hash parse accepted. */
static void check_encode(char const *hash, sha512_crypt_setting_t const *s, char const *pw, size_t pw_len)
{
	struct crypt_data *data = calloc(1, sizeof(*data));
	char out[SHA512_CRYPT_HASH_LEN + 1];
	size_t prefix = strlen(hash) - SHA512_CRYPT_HASH_LEN;
	char const *ref;
	int rc;

	if (!data) abort();
	ref = crypt_rn(pw, hash, data, (int) sizeof(*data));
	rc = sha512_crypt_encode(pw, pw_len, s, out);
	if (pw_len > SHA512_CRYPT_PASSWORD_MAX) {
		FUZZ_CHECK(rc == -1 && out[0] == '\0');
		FUZZ_CHECK(!ref || ref[0] == '*');	/* libxcrypt refuses it too */
	} else {
		FUZZ_CHECK(rc == 0);
		FUZZ_CHECK(ref && ref[0] != '*');
		FUZZ_CHECK(strlen(ref) == prefix + SHA512_CRYPT_HASH_LEN);
		FUZZ_CHECK(memcmp(ref, hash, prefix) == 0);
		FUZZ_CHECK(memcmp(ref + prefix, out, SHA512_CRYPT_HASH_LEN + 1) == 0);
	}
	free(data);
}

/* 1 if parse accepted hash (and then it was checked), else 0. */
static int run(char const *hash, char const *pw, size_t pw_len)
{
	sha512_crypt_setting_t s;

	if (!sha512_crypt_parse(hash, &s)) return 0;
	check_canonical(hash, &s);
	if (s.rounds <= FUZZ_MAX_ROUNDS) check_encode(hash, &s, pw, pw_len);
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t const *nul = memchr(data, '\0', size);
	size_t hash_len = nul ? (size_t) (nul - data) : size;
	uint8_t const *pw_start = nul ? nul + 1 : data + size;
	size_t rest = size - (size_t) (pw_start - data);
	uint8_t const *pw_end = memchr(pw_start, '\0', rest);
	size_t pw_len = pw_end ? (size_t) (pw_end - pw_start) : rest;
	char *hash = fuzz_strndup(data, hash_len);
	char *pw = fuzz_strndup(pw_start, pw_len);
	char padded[PADDED_MAX + 1 + SHA512_CRYPT_HASH_LEN + 1];

	if (size > 4096) goto done;	/* keeps runs fast */
	if (!run(hash, pw, pw_len) && hash_len < PADDED_MAX) {
		/* the hash, then "$" and 86 '.' */
		memcpy(padded, hash, hash_len);
		padded[hash_len] = '$';
		memset(padded + hash_len + 1, '.', SHA512_CRYPT_HASH_LEN);
		padded[hash_len + 1 + SHA512_CRYPT_HASH_LEN] = '\0';
		(void) run(padded, pw, pw_len);
	}
done:
	free(hash);
	free(pw);
	return 0;
}
