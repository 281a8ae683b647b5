/*
 * sha512_crypt.h - the "$6$" password hashes (SHA-crypt with SHA-512,
 * Ulrich Drepper's specification, as glibc and libxcrypt write them),
 * computed on OpenSSL's SHA-512.  Only the canonical form backends write
 * is accepted; password.c gives everything else to libxcrypt.
 */
#ifndef VRMS2FA_SHA512_CRYPT_H
#define VRMS2FA_SHA512_CRYPT_H

#include <stddef.h>
#include <stdint.h>

#define SHA512_CRYPT_PREFIX		"$6$"
#define SHA512_CRYPT_SALT_MAX		16
#define SHA512_CRYPT_HASH_LEN		86
#define SHA512_CRYPT_ROUNDS_DEFAULT	5000u		/* when "rounds=" is absent */
#define SHA512_CRYPT_ROUNDS_MIN		1000u
#define SHA512_CRYPT_ROUNDS_MAX		1000000u
#define SHA512_CRYPT_PASSWORD_MAX	511		/* libxcrypt refuses longer ones */

typedef struct {
	uint32_t	rounds;
	size_t		salt_len;				/* 1..SHA512_CRYPT_SALT_MAX */
	char		salt[SHA512_CRYPT_SALT_MAX + 1];
	char		hash[SHA512_CRYPT_HASH_LEN + 1];	/* the stored hash characters */
} sha512_crypt_setting_t;

/*
 * 1 if hash is exactly "$6$" ["rounds=N$"] salt "$" hash with N decimal
 * without a leading zero, SHA512_CRYPT_ROUNDS_MIN <= N <= _MAX, a salt of
 * 1..16 and a hash of exactly 86 characters from "./0-9A-Za-z"; *out is
 * then filled.  0 for anything else (*out is then undefined).
 */
int sha512_crypt_parse(char const *hash, sha512_crypt_setting_t *out);

/*
 * The 86 hash characters of password (password_len bytes, at most
 * SHA512_CRYPT_PASSWORD_MAX, hashed as they are) under setting s, NUL
 * terminated.  0 on success; -1 on bad arguments or an OpenSSL failure
 * (out is then the empty string).
 */
int sha512_crypt_encode(char const *password, size_t password_len, sha512_crypt_setting_t const *s,
			char out[SHA512_CRYPT_HASH_LEN + 1]);

#endif
