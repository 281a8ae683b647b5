/*
 * names.c - the rule for login and company names (see names.h): one pass
 * over the bytes, decoding UTF-8 strictly (Unicode 15, table 3-7: no
 * overlongs, no surrogates, nothing above U+10FFFF) and judging each code
 * point against the tables below.
 */
#include <stdbool.h>
#include <stdio.h>

#include "names.h"
#include "text.h"

_Static_assert(NAMES_LOGIN_MAX == 64 && NAMES_COMPANY_MAX == 128, "the reasons below name these limits");

typedef struct {
	uint32_t	first, last;
} range_t;

/* Bidirectional controls: they reorder what is shown (look-alike names). */
static range_t const BIDI[] = {
	{ 0x061c, 0x061c },	/* ARABIC LETTER MARK */
	{ 0x200e, 0x200f },	/* LRM, RLM */
	{ 0x202a, 0x202e },	/* LRE, RLE, PDF, LRO, RLO */
	{ 0x2066, 0x2069 },	/* LRI, RLI, FSI, PDI */
};

/* Characters that show nothing, or join or shape their neighbours unseen. */
static range_t const INVISIBLE[] = {
	{ 0x00ad, 0x00ad },	/* SOFT HYPHEN */
	{ 0x034f, 0x034f },	/* COMBINING GRAPHEME JOINER */
	{ 0x115f, 0x1160 },	/* HANGUL CHOSEONG / JUNGSEONG FILLER */
	{ 0x17b4, 0x17b5 },	/* KHMER VOWEL INHERENT AQ, AA */
	{ 0x180b, 0x180f },	/* MONGOLIAN FREE VARIATION SELECTORS, VOWEL SEPARATOR */
	{ 0x200b, 0x200d },	/* ZERO WIDTH SPACE, NON-JOINER, JOINER */
	{ 0x2028, 0x2029 },	/* LINE, PARAGRAPH SEPARATOR */
	{ 0x2060, 0x2064 },	/* WORD JOINER, invisible operators */
	{ 0x206a, 0x206f },	/* deprecated format characters */
	{ 0x3164, 0x3164 },	/* HANGUL FILLER */
	{ 0xfe00, 0xfe0f },	/* VARIATION SELECTORS */
	{ 0xfeff, 0xfeff },	/* ZERO WIDTH NO-BREAK SPACE (BOM) */
	{ 0xffa0, 0xffa0 },	/* HALFWIDTH HANGUL FILLER */
	{ 0xfff9, 0xfffb },	/* interlinear annotation */
	{ 0x1bca0, 0x1bca3 },	/* shorthand format controls */
	{ 0x1d173, 0x1d17a },	/* musical symbol format controls */
	{ 0xe0000, 0xe007f },	/* TAG characters */
	{ 0xe0100, 0xe01ef },	/* VARIATION SELECTORS SUPPLEMENT */
};

/* Spaces other than U+0020: they look like it and are not it. */
static range_t const OTHER_SPACES[] = {
	{ 0x00a0, 0x00a0 },	/* NO-BREAK SPACE */
	{ 0x1680, 0x1680 },	/* OGHAM SPACE MARK */
	{ 0x2000, 0x200a },	/* EN QUAD .. HAIR SPACE */
	{ 0x202f, 0x202f },	/* NARROW NO-BREAK SPACE */
	{ 0x205f, 0x205f },	/* MEDIUM MATHEMATICAL SPACE */
	{ 0x3000, 0x3000 },	/* IDEOGRAPHIC SPACE */
};

static bool in(range_t const *r, size_t n, uint32_t cp)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (cp >= r[i].first && cp <= r[i].last) return true;
	}
	return false;
}

#define IN(table, cp) in(table, sizeof(table) / sizeof(table[0]), cp)

/* U+FDD0..U+FDEF and the last two code points of every plane. */
static bool noncharacter(uint32_t cp)
{
	return (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) == 0xfffe;
}

static bool private_use(uint32_t cp)
{
	return (cp >= 0xe000 && cp <= 0xf8ff) || cp >= 0xf0000;
}

/* The reason one code point is refused, or NULL. */
static char const *character_problem(uint32_t cp, bool login)
{
	if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f)) return "contains a control character";
	if (login && cp == ':') return "contains ':' (an enrollment link cannot carry it)";
	if (IN(BIDI, cp)) return "contains a bidirectional control character";
	if (IN(INVISIBLE, cp)) return "contains an invisible character";
	if (IN(OTHER_SPACES, cp)) return "contains a space other than the plain space";
	if (noncharacter(cp)) return "contains a Unicode noncharacter";
	if (private_use(cp)) return "contains a private-use character";
	return NULL;
}

static char const *problem(uint8_t const *s, size_t len, size_t max, bool login, uint32_t *cp)
{
	uint32_t dummy;
	size_t i = 0;

	if (!cp) cp = &dummy;
	*cp = NAMES_NO_CODE_POINT;
	if (!s || len == 0) return "is empty";
	if (len > max) return login ? "is longer than 64 bytes" : "is longer than 128 bytes";
	while (i < len) {
		uint32_t c = 0;
		size_t n = text_utf8_decode(s + i, len - i, &c);
		char const *why;

		if (n == 0) return "is not valid UTF-8";
		why = character_problem(c, login);
		if (why) {
			*cp = c;
			return why;
		}
		i += n;
	}
	if (s[0] == ' ') return "starts with a space";
	if (s[len - 1] == ' ') return "ends with a space";
	return NULL;
}

char const *names_login_problem(uint8_t const *s, size_t len, uint32_t *cp)
{
	return problem(s, len, NAMES_LOGIN_MAX, true, cp);
}

char const *names_company_problem(uint8_t const *s, size_t len, uint32_t *cp)
{
	return problem(s, len, NAMES_COMPANY_MAX, false, cp);
}

void names_describe(char const *what, char const *reason, uint32_t cp, char *out, size_t outlen)
{
	if (!out || outlen == 0) return;
	if (!reason) reason = "is usable";
	if (cp != NAMES_NO_CODE_POINT) snprintf(out, outlen, "%s %s (U+%04X)", what, reason, (unsigned)cp);
	else snprintf(out, outlen, "%s %s", what, reason);
}
