/*
 * fuzz_scrv1.c - feeds arbitrary bytes, as a User-Password of a
 * single-pass client, to scrv1_decode (OpenVPN's static challenge text)
 * and to policy_single_pass_split (where the code starts in
 * password+code).  The first byte picks the TOTP digits (0..9) for the
 * split; the rest is the typed text.
 *
 * Checks: no crash or UB, no read past the input.  scrv1_decode: SCRV1_NOT
 * exactly when the text does not start with "SCRV1:"; on SCRV1_OK, the
 * fields fit, hold no NUL, and encoding them again as padded standard
 * base64 gives back exactly the input (one text per value: strict); any
 * other answer leaves the fields empty.  The split: the two parts add up
 * to the text, a code is sent exactly when its length is not 0, there is
 * always at least one byte of password before a code, and the code is
 * either 'digits' ASCII digits or a recovery code as shown (11 bytes, the
 * hyphen sixth).
 */
#include "fuzz_util.h"
#include "policy.h"
#include "recovery.h"
#include "scrv1.h"

static char const B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Padded standard base64 of in[0..len) into out; its length. */
static size_t b64_encode(uint8_t const *in, size_t len, char *out)
{
	size_t i, n = 0;

	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = ((uint32_t) in[i] << 16) | ((uint32_t) in[i + 1] << 8) | in[i + 2];

		out[n++] = B64[v >> 18];
		out[n++] = B64[(v >> 12) & 63];
		out[n++] = B64[(v >> 6) & 63];
		out[n++] = B64[v & 63];
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t) in[i] << 16;

		out[n++] = B64[v >> 18];
		out[n++] = B64[(v >> 12) & 63];
		out[n++] = '=';
		out[n++] = '=';
	} else if (len - i == 2) {
		uint32_t v = ((uint32_t) in[i] << 16) | ((uint32_t) in[i + 1] << 8);

		out[n++] = B64[v >> 18];
		out[n++] = B64[(v >> 12) & 63];
		out[n++] = B64[(v >> 6) & 63];
		out[n++] = '=';
	}
	return n;
}

static void check_scrv1(uint8_t const *text, size_t len)
{
	scrv1_fields_t f;
	scrv1_status_t st;
	static uint8_t const zero[sizeof(scrv1_fields_t)];

	st = scrv1_decode(text, len, &f);
	FUZZ_CHECK((st == SCRV1_NOT) == !(len >= SCRV1_PREFIX_LEN && memcmp(text, SCRV1_PREFIX, SCRV1_PREFIX_LEN) == 0));
	if (st != SCRV1_OK) {
		FUZZ_CHECK(memcmp(&f, zero, sizeof(f)) == 0);
		return;
	}
	{
		char again[SCRV1_PREFIX_LEN + 2 * (SCRV1_FIELD_MAX / 3 + 1) * 4 + 2];
		size_t n = SCRV1_PREFIX_LEN;

		FUZZ_CHECK(f.password_len <= SCRV1_FIELD_MAX && f.response_len <= SCRV1_FIELD_MAX);
		FUZZ_CHECK(!memchr(f.password, 0, f.password_len) && !memchr(f.response, 0, f.response_len));
		memcpy(again, SCRV1_PREFIX, SCRV1_PREFIX_LEN);
		n += b64_encode(f.password, f.password_len, again + n);
		again[n++] = ':';
		n += b64_encode(f.response, f.response_len, again + n);
		FUZZ_CHECK(n == len && memcmp(again, text, len) == 0);
	}
}

static void check_split(uint8_t const *text, size_t len, unsigned digits)
{
	single_pass_split_t s;
	size_t i;

	policy_single_pass_split(text, len, digits, &s);
	FUZZ_CHECK(s.password_len + s.code_len == len);
	FUZZ_CHECK(s.code_sent == (s.code_len > 0));
	if (!s.code_sent) return;
	FUZZ_CHECK(s.password_len >= 1);
	if (s.code_len == RECOVERY_CODE_TEXT_LEN && text[s.password_len + 5] == '-') {
		char norm[RECOVERY_CODE_CHARS + 1];

		FUZZ_CHECK(recovery_code_normalise((char const *) text + s.password_len, s.code_len, norm) == 0);
		return;
	}
	FUZZ_CHECK(s.code_len == digits);
	for (i = s.password_len; i < len; i++) FUZZ_CHECK(text[i] >= '0' && text[i] <= '9');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *text;
	unsigned digits;

	if (size < 1) return 0;
	digits = data[0] % 10;
	text = fuzz_memdup(data + 1, size - 1);
	check_scrv1(text, size - 1);
	check_split(text, size - 1, digits);
	free(text);
	return 0;
}
