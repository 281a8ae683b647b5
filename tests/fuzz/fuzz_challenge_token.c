/*
 * fuzz_challenge_token.c - feeds arbitrary bytes to challenge_token_parse,
 * as a NAS would send them in the State attribute.
 *
 * Checks: no crash or UB; a parse succeeds only on exactly "V1" + 32
 * lower-case hex digits (length 34), and then formatting the raw bytes
 * again gives back the very same text (the round trip); a failed parse
 * leaves the caller's buffer untouched; the digest of the raw bytes works.
 */
#include "fuzz_util.h"
#include "challenge_token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char const HEX[] = "0123456789abcdef";
	uint8_t *in = fuzz_memdup(data, size);
	uint8_t raw[CHALLENGE_TOKEN_RAW_LEN], digest[CHALLENGE_TOKEN_DIGEST_LEN];
	char text[CHALLENGE_TOKEN_TEXT_LEN];
	size_t i;
	int rc;

	memset(raw, 0xa5, sizeof(raw));
	rc = challenge_token_parse(in, size, raw);
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc != 0) {
		for (i = 0; i < sizeof(raw); i++) FUZZ_CHECK(raw[i] == 0xa5);
		free(in);
		return 0;
	}

	FUZZ_CHECK(size == CHALLENGE_TOKEN_TEXT_LEN);
	text[0] = 'V';
	text[1] = '1';
	for (i = 0; i < CHALLENGE_TOKEN_RAW_LEN; i++) {
		text[2 + 2 * i] = HEX[raw[i] >> 4];
		text[2 + 2 * i + 1] = HEX[raw[i] & 0x0f];
	}
	FUZZ_CHECK(memcmp(text, in, CHALLENGE_TOKEN_TEXT_LEN) == 0);
	FUZZ_CHECK(challenge_token_digest(raw, digest) == 0);

	free(in);
	return 0;
}
