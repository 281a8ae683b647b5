/*
 * text.c - checks on text that comes from the network or the database.
 *
 * Login names must be well-formed UTF-8 without control characters, so
 * that they are safe to log, to store and to show.  Email addresses are
 * masked before they go into a reply.  Secrets are compared in constant
 * time.  Every function takes an explicit length and trusts no byte.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "text.h"

static char const ELLIPSIS[] = "\xe2\x80\xa6";	/* U+2026 in UTF-8 */

/*
 * Length of the well-formed UTF-8 sequence at s (Unicode 15, table 3-7),
 * or 0 if it is malformed, truncated, overlong or a surrogate.  *cp gets
 * the code point.
 */
size_t text_utf8_decode(uint8_t const *s, size_t len, uint32_t *cp)
{
	uint8_t c = s[0];
	uint8_t lo = 0x80, hi = 0xbf;
	size_t n, i;
	uint32_t v;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		v = c & 0x0f;
		if (c == 0xe0) lo = 0xa0;	/* no overlongs */
		if (c == 0xed) hi = 0x9f;	/* no surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		v = c & 0x07;
		if (c == 0xf0) lo = 0x90;	/* no overlongs */
		if (c == 0xf4) hi = 0x8f;	/* nothing above U+10FFFF */
	} else {
		return 0;			/* continuation byte, C0, C1, F5..FF */
	}
	if (len < n) return 0;
	for (i = 1; i < n; i++) {
		uint8_t b = s[i];

		if (i == 1) {
			if (b < lo || b > hi) return 0;
		} else if (b < 0x80 || b > 0xbf) {
			return 0;
		}
		v = (v << 6) | (b & 0x3f);
	}
	*cp = v;
	return n;
}

static int is_control(uint32_t cp)
{
	if (cp < 0x20 || cp == 0x7f) return 1;		/* C0, NUL and DEL */
	if (cp >= 0x80 && cp <= 0x9f) return 1;		/* C1 (terminal escapes in logs) */
	return 0;
}

bool text_is_clean_utf8(uint8_t const *s, size_t len)
{
	size_t i = 0;

	if (!s && len > 0) return false;
	while (i < len) {
		uint32_t cp;
		size_t n = text_utf8_decode(s + i, len - i, &cp);

		if (n == 0) return false;
		if (is_control(cp)) return false;
		i += n;
	}
	return true;
}

bool text_login_name_valid(uint8_t const *s, size_t len, size_t max)
{
	if (!s || len == 0 || len > max) return false;
	if (s[0] == ' ' || s[len - 1] == ' ') return false;
	return text_is_clean_utf8(s, len);
}

int text_mask_email(char const *email, char *out, size_t outlen)
{
	char const *at;
	size_t len, first, domain_len, need;
	uint32_t cp;

	if (!out || outlen == 0) return -1;
	out[0] = '\0';
	if (!email) return -1;

	len = strlen(email);
	if (!text_is_clean_utf8((uint8_t const *) email, len)) return -1;

	at = memchr(email, '@', len);
	if (!at || at == email) return -1;			/* no '@' or empty local part */
	if (memchr(at + 1, '@', len - (size_t)(at + 1 - email))) return -1;	/* two '@' */
	domain_len = len - (size_t)(at + 1 - email);
	if (domain_len == 0) return -1;

	/* The whole first character, even if it takes several bytes. */
	first = text_utf8_decode((uint8_t const *) email, (size_t)(at - email), &cp);
	if (first == 0) return -1;

	need = first + (sizeof(ELLIPSIS) - 1) + 1 + domain_len + 1;
	if (need > outlen) return -1;

	memcpy(out, email, first);
	memcpy(out + first, ELLIPSIS, sizeof(ELLIPSIS) - 1);
	out[first + sizeof(ELLIPSIS) - 1] = '@';
	memcpy(out + first + sizeof(ELLIPSIS), at + 1, domain_len);
	out[need - 1] = '\0';
	return 0;
}

bool text_secret_equal(void const *a, size_t alen, void const *b, size_t blen)
{
	if (alen != blen) return false;
	if (alen == 0) return true;
	if (!a || !b) return false;
	return CRYPTO_memcmp(a, b, alen) == 0;
}
