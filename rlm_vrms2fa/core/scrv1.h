/*
 * scrv1.h - OpenVPN's static challenge: with `static-challenge` in its
 * configuration the OpenVPN client asks for the code next to the password
 * and sends both in one User-Password as
 *     SCRV1:<base64 of the password>:<base64 of the response>
 * (OpenVPN's management-notes.txt, "static challenge").  This decodes that
 * text; pure, no allocation, no I/O.
 */
#ifndef VRMS2FA_SCRV1_H
#define VRMS2FA_SCRV1_H

#include <stddef.h>
#include <stdint.h>

#define SCRV1_PREFIX		"SCRV1:"
#define SCRV1_PREFIX_LEN	6
#define SCRV1_FIELD_MAX		192	/* decoded bytes of one field (User-Password holds at most 253) */

typedef enum {
	SCRV1_NOT = 0,		/* does not start with "SCRV1:": not OpenVPN's format */
	SCRV1_OK,		/* decoded */
	SCRV1_MALFORMED		/* starts with "SCRV1:" but is not two strict base64 fields */
} scrv1_status_t;

typedef struct {
	uint8_t	password[SCRV1_FIELD_MAX];
	size_t	password_len;
	uint8_t	response[SCRV1_FIELD_MAX];	/* the code typed at the static challenge ("" none) */
	size_t	response_len;
} scrv1_fields_t;

/*
 * Decode len bytes of in.  SCRV1_OK fills *out; any other answer leaves it
 * zeroed.  Strict: the standard base64 alphabet with '=' padding and no
 * other byte (no whitespace, no line breaks), the unused bits of the last
 * character zero, exactly one ':' between the fields, and no NUL byte in a
 * decoded field (no one types it, and C strings would cut there).
 */
scrv1_status_t scrv1_decode(uint8_t const *in, size_t len, scrv1_fields_t *out);

#endif
