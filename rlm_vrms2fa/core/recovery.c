/*
 * recovery.c - single-use recovery codes.
 *
 * A code is 10 characters of Crockford base32 (50 bits from RAND_bytes),
 * shown as "xxxxx-xxxxx".  What a person types back is normalised
 * (case, hyphens, spaces, i/l -> 1, o -> 0) and must come to exactly 10
 * characters, so a 6-digit TOTP code is never taken for one.  Codes are
 * stored as PBKDF2-HMAC-SHA256 with a per-user salt; the comparison of
 * hashes (in the caller) is constant-time.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "recovery.h"

static char const CROCKFORD[] = "0123456789abcdefghjkmnpqrstvwxyz";
#define RECOVERY_INPUT_MAX 64	/* longer input cannot be a code */

int recovery_code_new(char out[RECOVERY_CODE_TEXT_LEN + 1])
{
	uint8_t rnd[RECOVERY_CODE_CHARS];
	size_t i, o = 0;

	if (!out) return -1;
	out[0] = '\0';
	if (RAND_bytes(rnd, (int) sizeof(rnd)) != 1) {
		ERR_clear_error();	/* handled here: no stale error for the thread's next OpenSSL user */
		OPENSSL_cleanse(rnd, sizeof(rnd));
		return -1;
	}
	for (i = 0; i < RECOVERY_CODE_CHARS; i++) {
		if (i == RECOVERY_CODE_CHARS / 2) out[o++] = '-';
		out[o++] = CROCKFORD[rnd[i] & 0x1f];	/* 256 is a multiple of 32: uniform */
	}
	out[o] = '\0';
	OPENSSL_cleanse(rnd, sizeof(rnd));
	return 0;
}

int recovery_salt_new(uint8_t salt[RECOVERY_SALT_LEN])
{
	if (!salt) return -1;
	if (RAND_bytes(salt, RECOVERY_SALT_LEN) != 1) {
		ERR_clear_error();
		return -1;
	}
	return 0;
}

/* The canonical character for c, or 0 if c is not in the alphabet. */
static char canonical_char(char c)
{
	if (c >= 'A' && c <= 'Z') c = (char) (c - 'A' + 'a');
	if (c == 'i' || c == 'l') return '1';
	if (c == 'o') return '0';
	if (c != '\0' && strchr(CROCKFORD, c)) return c;
	return 0;
}

int recovery_code_normalise(char const *in, size_t len, char out[RECOVERY_CODE_CHARS + 1])
{
	char tmp[RECOVERY_CODE_CHARS + 1];
	size_t i, n = 0;

	if (!out) return -1;
	out[0] = '\0';
	if (!in || len == 0 || len > RECOVERY_INPUT_MAX) return -1;

	for (i = 0; i < len; i++) {
		char c;

		if (in[i] == '-' || in[i] == ' ') continue;
		c = canonical_char(in[i]);
		if (c == 0 || n == RECOVERY_CODE_CHARS) {
			OPENSSL_cleanse(tmp, sizeof(tmp));
			return -1;
		}
		tmp[n++] = c;
	}
	if (n != RECOVERY_CODE_CHARS) {
		OPENSSL_cleanse(tmp, sizeof(tmp));
		return -1;
	}
	tmp[n] = '\0';
	memcpy(out, tmp, sizeof(tmp));
	OPENSSL_cleanse(tmp, sizeof(tmp));
	return 0;
}

int recovery_code_hash(char const normalised[RECOVERY_CODE_CHARS + 1], uint8_t const salt[RECOVERY_SALT_LEN],
		       uint8_t out[RECOVERY_HASH_LEN])
{
	size_t i;

	if (!normalised || !salt || !out) return -1;
	for (i = 0; i < RECOVERY_CODE_CHARS; i++) {
		if (normalised[i] == '\0' || !strchr(CROCKFORD, normalised[i])) return -1;
	}
	if (normalised[RECOVERY_CODE_CHARS] != '\0') return -1;

	if (PKCS5_PBKDF2_HMAC(normalised, RECOVERY_CODE_CHARS, salt, RECOVERY_SALT_LEN,
			      RECOVERY_KDF_ITERATIONS, EVP_sha256(), RECOVERY_HASH_LEN, out) != 1) {
		ERR_clear_error();
		OPENSSL_cleanse(out, RECOVERY_HASH_LEN);
		return -1;
	}
	return 0;
}
