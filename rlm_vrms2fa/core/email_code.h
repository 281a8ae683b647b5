/*
 * email_code.h - the secrets of an email confirmation: a 6-digit code the
 * user types back, and a 128-bit token for the link.  Both are stored only
 * as hashes: the code (20 bits) with PBKDF2-HMAC-SHA256 and a per-row salt,
 * the token (128 bits) with plain SHA-256.  Comparisons are constant-time.
 */
#ifndef VRMS2FA_EMAIL_CODE_H
#define VRMS2FA_EMAIL_CODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EMAIL_CODE_DIGITS	6
#define EMAIL_TOKEN_RAW_LEN	16
#define EMAIL_TOKEN_TEXT_LEN	32	/* lower-case hex */
#define EMAIL_SALT_LEN		16
#define EMAIL_HASH_LEN		32
#define EMAIL_KDF_ITERATIONS	10000

/* A fresh code ("042917"), token (hex) and salt.  0 ok, -1 if the random generator fails. */
int email_code_new(char code[EMAIL_CODE_DIGITS + 1]);
int email_token_new(char token[EMAIL_TOKEN_TEXT_LEN + 1]);
int email_salt_new(uint8_t salt[EMAIL_SALT_LEN]);

/* Hash what the user typed (len bytes, anything).  0 ok, -1 if it is not 6 ASCII digits or on error. */
int email_code_hash(char const *code, size_t len, uint8_t const salt[EMAIL_SALT_LEN], uint8_t out[EMAIL_HASH_LEN]);

/* Hash a token as given on the command line or in the link.  0 ok, -1 if it is not 32 hex digits. */
int email_token_hash(char const *token, size_t len, uint8_t out[EMAIL_HASH_LEN]);

/* Fill "{token}" in a URL template.  0 ok, -1 if there is no "{token}" or out is too small. */
int email_link(char const *url_template, char const *token, char *out, size_t outlen);

#endif
