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

/*
 * glibc's <limits.h> (with _GNU_SOURCE) defines POSIX LOGIN_NAME_MAX as 256.
 * Pull it in first, so that its include guard stops a later inclusion from
 * redefining ours, and replace it: in files that include this header,
 * LOGIN_NAME_MAX is our 64.
 */
#include <limits.h>
#undef LOGIN_NAME_MAX
#define LOGIN_NAME_MAX	64	/* bytes; matches users.login VARCHAR(64) */

/* Well-formed UTF-8 (no overlongs, no surrogates), no C0/DEL controls, no NUL. */
bool text_is_clean_utf8(uint8_t const *s, size_t len);

/* A usable login name: 1..max bytes, text_is_clean_utf8, no leading/trailing space. */
bool text_login_name_valid(uint8_t const *s, size_t len, size_t max);

/* "alice@example.com" -> "a…@example.com" (first character kept).  0 ok, -1 bad/too small. */
int text_mask_email(char const *email, char *out, size_t outlen);

/* Constant-time equality of two byte strings (length is not secret). */
bool text_secret_equal(void const *a, size_t alen, void const *b, size_t blen);

#endif
