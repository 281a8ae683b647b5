/*
 * qr.h - the QR code of an otpauth URI (libqrencode), drawn in a terminal
 * with UTF-8 half blocks, or written as PNG (libpng) or SVG.  Image files
 * hold the TOTP key: they are created with mode 0600.
 */
#ifndef VRMS2FA_QR_H
#define VRMS2FA_QR_H

#include <stdio.h>

typedef enum { QR_ANSI, QR_PNG, QR_SVG } qr_format_t;

int qr_format_parse(char const *name, qr_format_t *format);	/* "ansi", "png", "svg"; 0 ok */

/* Draw text to out (a terminal). 0 ok, -1 error. */
int qr_write_ansi(char const *text, FILE *out);
/* Write an image file (mode 0600, replaced if present). 0 ok, -1 error with errno-style reason in err. */
int qr_write_file(char const *text, qr_format_t format, char const *path, char *err, size_t errlen);

#endif
