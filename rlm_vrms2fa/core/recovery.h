/*
 * recovery.h - recovery codes: ten single-use codes shown once at
 * enrollment, accepted in place of a verification code.  Each code is 10
 * characters of Crockford base32 (50 bits from RAND_bytes), shown as
 * "xxxxx-xxxxx".  Stored as PBKDF2-HMAC-SHA256(code, per-user 16-byte salt,
 * RECOVERY_KDF_ITERATIONS), compared in constant time.
 */
#ifndef VRMS2FA_RECOVERY_H
#define VRMS2FA_RECOVERY_H

#include <stddef.h>
#include <stdint.h>

#define RECOVERY_CODE_COUNT	10
#define RECOVERY_CODE_CHARS	10
#define RECOVERY_CODE_TEXT_LEN	11	/* with the hyphen */
#define RECOVERY_SALT_LEN	16
#define RECOVERY_HASH_LEN	32
#define RECOVERY_KDF_ITERATIONS	10000

/* A new code, "xxxxx-xxxxx" + NUL.  0 ok, -1 RNG failure. */
int recovery_code_new(char out[RECOVERY_CODE_TEXT_LEN + 1]);

/* A fresh salt.  0 ok, -1 RNG failure. */
int recovery_salt_new(uint8_t salt[RECOVERY_SALT_LEN]);

/*
 * What the user typed -> the 10 canonical characters (lower case; hyphens
 * and spaces dropped; Crockford's i/l -> 1, o -> 0).  0 ok, -1 if it cannot
 * be a recovery code (so a 6-digit TOTP code is never mistaken for one).
 */
int recovery_code_normalise(char const *in, size_t len, char out[RECOVERY_CODE_CHARS + 1]);

/* Hash a normalised code.  0 ok, -1 error. */
int recovery_code_hash(char const normalised[RECOVERY_CODE_CHARS + 1], uint8_t const salt[RECOVERY_SALT_LEN],
		       uint8_t out[RECOVERY_HASH_LEN]);

#endif
