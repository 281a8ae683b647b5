/*
 * fuzz_text.c - feeds arbitrary bytes to the text checks that stand
 * between the network and the logs/database: text_is_clean_utf8,
 * text_login_name_valid (TEXT_LOGIN_MAX and a fuzzed maximum) and
 * text_mask_email (input up to its first NUL; several output sizes).
 *
 * Checks: no crash or UB, no read or write out of bounds; the UTF-8 check
 * agrees with an independent reference decoder written here (no
 * overlongs, no surrogates, nothing above U+10FFFF, no C0/C1/DEL); the
 * login-name check is exactly "1..max bytes, no space at either end,
 * clean"; a masked email is clean UTF-8, keeps the first character and
 * everything from the '@', and is the same whatever the (sufficient)
 * buffer size; a failure leaves "".
 */
#include "fuzz_util.h"
#include "text.h"

/* Reference: a generic decoder, then the rules checked on the code point. */
static bool ref_clean_utf8(uint8_t const *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint8_t c = s[i];
		size_t n, k;
		uint32_t cp;

		if (c < 0x80) { n = 1; cp = c; }
		else if ((c & 0xe0) == 0xc0) { n = 2; cp = c & 0x1f; }
		else if ((c & 0xf0) == 0xe0) { n = 3; cp = c & 0x0f; }
		else if ((c & 0xf8) == 0xf0) { n = 4; cp = c & 0x07; }
		else return false;
		if (len - i < n) return false;
		for (k = 1; k < n; k++) {
			if ((s[i + k] & 0xc0) != 0x80) return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000)) return false;
		if (cp >= 0xd800 && cp <= 0xdfff) return false;
		if (cp > 0x10ffff) return false;
		if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f)) return false;
		i += n;
	}
	return true;
}

static void check_mask(char const *email)
{
	static size_t const SIZES[] = { 1, 2, 4, 5, 8, 16, 64, 256 };
	char big[8192];
	char const *at;
	size_t len, out_len, first, i;
	int rc;

	memset(big, 'Q', sizeof(big));
	rc = text_mask_email(email, big, sizeof(big));
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc != 0) {
		FUZZ_CHECK(big[0] == '\0');
	} else {
		len = strlen(email);
		out_len = strlen(big);
		FUZZ_CHECK(ref_clean_utf8((uint8_t const *) email, len));
		FUZZ_CHECK(ref_clean_utf8((uint8_t const *) big, out_len));
		at = strchr(email, '@');
		FUZZ_CHECK(at != NULL && at != email && at[1] != '\0' && strchr(at + 1, '@') == NULL);
		/* first character, the ellipsis, then "@domain" */
		first = out_len - strlen(at) - 3;
		FUZZ_CHECK(first >= 1 && first <= 4);
		FUZZ_CHECK(memcmp(big, email, first) == 0);
		FUZZ_CHECK(memcmp(big + first, "\xe2\x80\xa6", 3) == 0);
		FUZZ_CHECK(strcmp(big + first + 3, at) == 0);
	}
	for (i = 0; i < sizeof(SIZES) / sizeof(SIZES[0]); i++) {
		char *out = malloc(SIZES[i]);	/* exact size, for ASan */
		int rc2;

		if (!out) abort();
		rc2 = text_mask_email(email, out, SIZES[i]);
		if (rc2 == 0) {
			FUZZ_CHECK(rc == 0 && strcmp(out, big) == 0);
		} else {
			FUZZ_CHECK(out[0] == '\0');
			if (rc == 0) FUZZ_CHECK(strlen(big) + 1 > SIZES[i]);
		}
		free(out);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *in = fuzz_memdup(data, size);
	char *email = fuzz_strndup(data, size);
	bool clean = text_is_clean_utf8(in, size);
	size_t max;

	FUZZ_CHECK(clean == ref_clean_utf8(in, size));
	FUZZ_CHECK(text_login_name_valid(in, size, TEXT_LOGIN_MAX) ==
		   (size >= 1 && size <= TEXT_LOGIN_MAX && in[0] != ' ' && in[size - 1] != ' ' && clean));
	max = size ? in[0] : 0;
	FUZZ_CHECK(text_login_name_valid(in, size, max) ==
		   (size >= 1 && size <= max && in[0] != ' ' && in[size - 1] != ' ' && clean));
	FUZZ_CHECK(text_secret_equal(in, size, email, size));

	check_mask(email);

	free(email);
	free(in);
	return 0;
}
