/*
 * challenge_token.c - the module's own RADIUS State value.
 *
 * "V1" + 32 lower-case hex digits encoding 16 bytes from RAND_bytes.  The
 * text is printable so a NAS that truncates State at a NUL cannot damage
 * it.  Parsing accepts exactly the form we generate and nothing else.
 * The database stores SHA-256 of the raw bytes, never the token itself.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "challenge_token.h"

static char const PREFIX[] = "V1";
#define PREFIX_LEN (sizeof(PREFIX) - 1)

static int lower_hex_value(uint8_t c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	return -1;
}

int challenge_token_new(uint8_t raw[CHALLENGE_TOKEN_RAW_LEN], char text[CHALLENGE_TOKEN_TEXT_LEN + 1])
{
	static char const HEX[] = "0123456789abcdef";
	size_t i;

	if (!raw || !text) return -1;
	text[0] = '\0';
	if (RAND_bytes(raw, CHALLENGE_TOKEN_RAW_LEN) != 1) {
		ERR_clear_error();	/* handled here: no stale error for the thread's next OpenSSL user */
		OPENSSL_cleanse(raw, CHALLENGE_TOKEN_RAW_LEN);
		return -1;
	}
	memcpy(text, PREFIX, PREFIX_LEN);
	for (i = 0; i < CHALLENGE_TOKEN_RAW_LEN; i++) {
		text[PREFIX_LEN + 2 * i] = HEX[raw[i] >> 4];
		text[PREFIX_LEN + 2 * i + 1] = HEX[raw[i] & 0x0f];
	}
	text[CHALLENGE_TOKEN_TEXT_LEN] = '\0';
	return 0;
}

int challenge_token_parse(uint8_t const *state, size_t len, uint8_t raw[CHALLENGE_TOKEN_RAW_LEN])
{
	uint8_t tmp[CHALLENGE_TOKEN_RAW_LEN];
	size_t i;

	if (!state || !raw || len != CHALLENGE_TOKEN_TEXT_LEN) return -1;
	if (memcmp(state, PREFIX, PREFIX_LEN) != 0) return -1;

	for (i = 0; i < CHALLENGE_TOKEN_RAW_LEN; i++) {
		int hi = lower_hex_value(state[PREFIX_LEN + 2 * i]);
		int lo = lower_hex_value(state[PREFIX_LEN + 2 * i + 1]);

		if (hi < 0 || lo < 0) {
			OPENSSL_cleanse(tmp, sizeof(tmp));
			return -1;
		}
		tmp[i] = (uint8_t) ((hi << 4) | lo);
	}
	memcpy(raw, tmp, sizeof(tmp));
	OPENSSL_cleanse(tmp, sizeof(tmp));
	return 0;
}

bool challenge_token_recognised(uint8_t const *state, size_t len)
{
	uint8_t raw[CHALLENGE_TOKEN_RAW_LEN];
	bool ours = challenge_token_parse(state, len, raw) == 0;

	OPENSSL_cleanse(raw, sizeof(raw));
	return ours;
}

int challenge_token_digest(uint8_t const raw[CHALLENGE_TOKEN_RAW_LEN], uint8_t digest[CHALLENGE_TOKEN_DIGEST_LEN])
{
	unsigned int n = 0;

	if (!raw || !digest) return -1;
	if (EVP_Digest(raw, CHALLENGE_TOKEN_RAW_LEN, digest, &n, EVP_sha256(), NULL) != 1 ||
	    n != CHALLENGE_TOKEN_DIGEST_LEN) {
		ERR_clear_error();
		OPENSSL_cleanse(digest, CHALLENGE_TOKEN_DIGEST_LEN);
		return -1;
	}
	return 0;
}
