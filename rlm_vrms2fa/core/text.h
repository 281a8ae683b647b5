/*
 * text.h - checks on text that comes from the network or the database:
 * login names (valid UTF-8, no control characters, bounded), masked email
 * addresses for replies, and constant-time comparison of secrets.
 */
#ifndef VRMS2FA_TEXT_H
#define VRMS2FA_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TEXT_LOGIN_MAX	64	/* bytes of a login name; matches users.login VARCHAR(64) */

/* Well-formed UTF-8 (no overlongs, no surrogates), no C0/DEL controls, no NUL. */
bool text_is_clean_utf8(uint8_t const *s, size_t len);

/*
 * Length of the well-formed UTF-8 sequence at s (len bytes available,
 * len >= 1), or 0 when it is malformed, truncated, overlong or a surrogate
 * (Unicode 15, table 3-7); *cp gets the code point.
 */
size_t text_utf8_decode(uint8_t const *s, size_t len, uint32_t *cp);

/* A usable login name: 1..max bytes, text_is_clean_utf8, no leading/trailing space. */
bool text_login_name_valid(uint8_t const *s, size_t len, size_t max);

/* "alice@example.com" -> "a…@example.com" (first character kept).  0 ok, -1 bad/too small. */
int text_mask_email(char const *email, char *out, size_t outlen);

/* Constant-time equality of two byte strings (length is not secret). */
bool text_secret_equal(void const *a, size_t alen, void const *b, size_t blen);

#endif
