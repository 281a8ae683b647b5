/*
 * otpauth.h - the otpauth:// URI that authenticator apps scan as a QR code
 * (Google's Key-Uri-Format): otpauth://totp/ISSUER:ACCOUNT?secret=...&issuer=...
 * &algorithm=...&digits=...&period=...  with label and issuer percent-encoded.
 */
#ifndef VRMS2FA_OTPAUTH_H
#define VRMS2FA_OTPAUTH_H

#include <stddef.h>
#include <stdint.h>
#include "totp.h"

#define OTPAUTH_URI_MAX 1024

/*
 * 0 on success, -1 on bad input (empty issuer/account, a ':' in either,
 * invalid params) or if out is too small.
 */
int otpauth_uri(char const *issuer, char const *account, totp_params_t const *params,
		uint8_t const *secret, size_t secret_len, char *out, size_t outlen);

/* The key in groups of four for manual entry ("ABCD EFGH ..."). 0 ok, -1 too small. */
int otpauth_key_grouped(uint8_t const *secret, size_t secret_len, char *out, size_t outlen);

#endif
