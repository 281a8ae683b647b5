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
#include <stdint.h>

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

/*
 * Bytes of memory checking a password against hash takes: argon2id's m,
 * yescrypt's 128 * 2^N_log2 * r, and 0 for bcrypt and sha512-crypt (not
 * memory-hard).  0 ok, -1 if the hash is not one password_verify checks
 * (*bytes is then 0).  The module refuses hashes over its password.max_memory.
 */
int password_memory_needed(char const *hash, uint64_t *bytes);

/*
 * The profile of a hash: its setting without the salt, which fixes what a
 * check costs ("$6$", "$6$rounds=1000$", "$2y$10$", "$y$j9T$",
 * "$argon2id$v=19$m=19456,t=2,p=1$").  0 ok, -1 unsupported or too long.
 */
int password_profile(char const *hash, char *out, size_t outlen);

/*
 * A hash of a random password nobody knows with the profile of sample (and
 * a salt and tag as long as its): checking a password against it costs
 * what checking against sample does.  The dummy hashes unknown users are
 * checked against.  0 ok, -1 if sample is unsupported or a library fails.
 */
int password_dummy_like(char const *sample, char *out, size_t outlen);

/* Hash a new password with argon2id (t=2, m=19 MiB, p=1, 16-byte random salt). 0 ok, -1 error. */
int password_hash_new(char const *password, size_t password_len, char *out, size_t outlen);

#endif
