/*
 * password.h - verify the password hashes real web backends write:
 * sha512-crypt ($6$: the canonical form through sha512_crypt.c on
 * OpenSSL's SHA-512, any other through libxcrypt), bcrypt ($2y$, $2b$,
 * $2a$) and yescrypt ($y$) through libxcrypt's crypt_rn, and argon2id
 * ($argon2id$) through libargon2.
 * The final comparison is constant-time.  Also hashes new passwords
 * (argon2id by default) for the admin tool.
 */
#ifndef VRMS2FA_PASSWORD_H
#define VRMS2FA_PASSWORD_H

#include <stddef.h>
#include <stdbool.h>

#define PASSWORD_MAX_LEN	256	/* longer passwords are refused, not truncated (bcrypt itself reads only 72 bytes) */
#define PASSWORD_HASH_MAX	512

typedef enum {
	PASSWORD_MATCH = 0,
	PASSWORD_MISMATCH,
	PASSWORD_UNSUPPORTED,	/* hash format we do not know, or malformed */
	PASSWORD_ERROR		/* out of memory, library failure */
} password_result_t;

/* password is password_len bytes and may contain anything; a NUL inside never matches. */
password_result_t password_verify(char const *hash, char const *password, size_t password_len);

/* True if hash is in one of the supported formats (cheap syntactic check). */
bool password_hash_supported(char const *hash);

/* Hash a new password with argon2id (t=2, m=19 MiB, p=1, 16-byte random salt). 0 ok, -1 error. */
int password_hash_new(char const *password, size_t password_len, char *out, size_t outlen);

#endif
