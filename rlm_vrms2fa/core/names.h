/*
 * names.h - the one rule for the names people choose: login names and
 * company names.  The admin tool refuses a name that breaks it, and the
 * module treats a login name that breaks it as an unknown user, so that a
 * name the tool would refuse can never pass for an account.
 *
 * A name is 1 to NAMES_*_MAX bytes of valid UTF-8 with no control
 * character (C0, DEL, C1), no invisible or formatting character (zero-width
 * space and joiners, soft hyphen, BOM, variation selectors, tags, fillers),
 * no bidirectional control (LRM/RLM/ALM, embeddings, overrides, isolates),
 * no space other than U+0020, no noncharacter or private-use character,
 * and no leading or trailing space.  A login name has no ':' either (the
 * otpauth URI of enrollment cannot carry one).  No I/O, no allocation.
 */
#ifndef VRMS2FA_NAMES_H
#define VRMS2FA_NAMES_H

#include <stddef.h>
#include <stdint.h>

#define NAMES_LOGIN_MAX		64	/* bytes; users.login is VARCHAR(64) (characters, so bytes are the tighter bound) */
#define NAMES_COMPANY_MAX	128	/* bytes; companies.name is VARCHAR(128) */

/*
 * Check the login name s (len bytes, not NUL-terminated; may hold any
 * byte).  NULL when it is usable; else a short English reason, static,
 * such as "contains an invisible character", and *cp (when cp is not NULL)
 * the offending code point, or NAMES_NO_CODE_POINT when the reason is not
 * about one character (empty, too long, bad UTF-8, edge space).
 */
#define NAMES_NO_CODE_POINT	UINT32_MAX
char const *names_login_problem(uint8_t const *s, size_t len, uint32_t *cp);

/* The same rule for a company name, with NAMES_COMPANY_MAX and ':' allowed. */
char const *names_company_problem(uint8_t const *s, size_t len, uint32_t *cp);

/*
 * One line for people: "<what> <reason>" and, when cp names a character,
 * " (U+200B)".  what is e.g. "login name".  Writes at most outlen bytes,
 * always NUL-terminated (outlen > 0).  Never copies the name itself (it may
 * hold characters a terminal or a log would act on).
 */
void names_describe(char const *what, char const *reason, uint32_t cp, char *out, size_t outlen);

#endif
