/*
 * fuzz_email_code.c - feeds the email-confirmation parsers what comes from
 * outside: email_token_hash (the token in a link or on the admin's command
 * line), email_code_hash (the code a user types; PBKDF2 runs only for six
 * digits) and email_link (a URL template from the configuration, filled
 * with a fixed token; input up to its first NUL, several output sizes).
 *
 * Checks: no crash or UB, no read past the input or write past the output;
 * the token hashes exactly when it is 32 lower-case hex digits, and then
 * to SHA-256 of the text; the code hashes exactly when it is 6 ASCII
 * digits; the link succeeds exactly when the template
 * has "{token}" and the result fits, and it is the template with its
 * first "{token}" replaced.
 */
#include <openssl/sha.h>

#include "fuzz_util.h"
#include "email_code.h"

#define TOKEN "0123456789abcdef0123456789abcdef"

static void check_link(char const *tmpl)
{
	static size_t const SIZES[] = { 1, 8, 33, 64, 256, 4096 };
	char const *at = strstr(tmpl, "{token}");
	size_t i, want_len = 0;
	char *want = NULL;

	if (at) {
		size_t pre = (size_t) (at - tmpl);

		want_len = strlen(tmpl) - strlen("{token}") + strlen(TOKEN);
		want = malloc(want_len + 1);
		if (!want) abort();
		memcpy(want, tmpl, pre);
		memcpy(want + pre, TOKEN, strlen(TOKEN));
		strcpy(want + pre + strlen(TOKEN), at + strlen("{token}"));
	}
	for (i = 0; i < sizeof(SIZES) / sizeof(SIZES[0]); i++) {
		char *out = malloc(SIZES[i]);	/* exact size, for ASan */
		int rc;

		if (!out) abort();
		rc = email_link(tmpl, TOKEN, out, SIZES[i]);
		FUZZ_CHECK(rc == 0 || rc == -1);
		FUZZ_CHECK(rc == ((at && want_len < SIZES[i]) ? 0 : -1));
		if (rc == 0) FUZZ_CHECK(strcmp(out, want) == 0);
		free(out);
	}
	free(want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t const SALT[EMAIL_SALT_LEN] = "fuzz-email-salt";
	char *in = (char *) fuzz_memdup(data, size);
	char *tmpl = fuzz_strndup(data, size);
	uint8_t h[EMAIL_HASH_LEN], want[SHA256_DIGEST_LENGTH];
	bool is_token = size == EMAIL_TOKEN_TEXT_LEN, is_code = size == EMAIL_CODE_DIGITS;
	size_t i;
	int rc;

	for (i = 0; i < size; i++) {
		if (!((in[i] >= '0' && in[i] <= '9') || (in[i] >= 'a' && in[i] <= 'f'))) is_token = false;
		if (!(in[i] >= '0' && in[i] <= '9')) is_code = false;
	}

	rc = email_token_hash(in, size, h);
	FUZZ_CHECK(rc == (is_token ? 0 : -1));
	if (rc == 0) {
		SHA256(data, size, want);
		FUZZ_CHECK(memcmp(h, want, sizeof(want)) == 0);
	}

	rc = email_code_hash(in, size, SALT, h);
	FUZZ_CHECK(rc == (is_code ? 0 : -1));

	check_link(tmpl);

	free(tmpl);
	free(in);
	return 0;
}
