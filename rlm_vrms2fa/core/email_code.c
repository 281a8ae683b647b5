/*
 * email_code.c - codes and link tokens of email confirmations (see email_code.h).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "email_code.h"

int email_code_new(char code[EMAIL_CODE_DIGITS + 1])
{
	uint32_t n;
	unsigned char raw[4];

	/* Rejection sampling: uniform over 0..999999. */
	do {
		if (RAND_bytes(raw, sizeof(raw)) != 1) {
			ERR_clear_error();	/* handled here: no stale error for the thread's next OpenSSL user */
			return -1;
		}
		n = ((uint32_t)raw[0] << 24 | (uint32_t)raw[1] << 16 | (uint32_t)raw[2] << 8 | raw[3]) & 0x000fffffu;
	} while (n >= 1000000u);
	OPENSSL_cleanse(raw, sizeof(raw));
	if (snprintf(code, EMAIL_CODE_DIGITS + 1, "%06u", n) != EMAIL_CODE_DIGITS) return -1;
	return 0;
}

int email_token_new(char token[EMAIL_TOKEN_TEXT_LEN + 1])
{
	static char const hex[] = "0123456789abcdef";
	uint8_t raw[EMAIL_TOKEN_RAW_LEN];
	size_t i;

	if (RAND_bytes(raw, sizeof(raw)) != 1) {
		ERR_clear_error();
		return -1;
	}
	for (i = 0; i < sizeof(raw); i++) {
		token[2 * i] = hex[raw[i] >> 4];
		token[2 * i + 1] = hex[raw[i] & 0x0f];
	}
	token[EMAIL_TOKEN_TEXT_LEN] = '\0';
	OPENSSL_cleanse(raw, sizeof(raw));
	return 0;
}

int email_salt_new(uint8_t salt[EMAIL_SALT_LEN])
{
	if (RAND_bytes(salt, EMAIL_SALT_LEN) != 1) {
		ERR_clear_error();
		return -1;
	}
	return 0;
}

int email_code_hash(char const *code, size_t len, uint8_t const salt[EMAIL_SALT_LEN], uint8_t out[EMAIL_HASH_LEN])
{
	size_t i;

	if (len != EMAIL_CODE_DIGITS) return -1;
	for (i = 0; i < len; i++) {
		if (code[i] < '0' || code[i] > '9') return -1;
	}
	if (PKCS5_PBKDF2_HMAC(code, (int)len, salt, EMAIL_SALT_LEN, EMAIL_KDF_ITERATIONS, EVP_sha256(),
			      EMAIL_HASH_LEN, out) != 1) {
		ERR_clear_error();
		return -1;
	}
	return 0;
}

int email_token_hash(char const *token, size_t len, uint8_t out[EMAIL_HASH_LEN])
{
	size_t i;

	if (len != EMAIL_TOKEN_TEXT_LEN) return -1;
	for (i = 0; i < len; i++) {
		char c = token[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return -1;
	}
	if (!SHA256((unsigned char const *)token, len, out)) {
		ERR_clear_error();
		return -1;
	}
	return 0;
}

int email_link(char const *url_template, char const *token, char *out, size_t outlen)
{
	char const *at = strstr(url_template, "{token}");
	int n;

	if (!at) return -1;
	n = snprintf(out, outlen, "%.*s%s%s", (int)(at - url_template), url_template, token, at + strlen("{token}"));
	if (n < 0 || (size_t)n >= outlen) return -1;
	return 0;
}
