/*
 * base32.h - RFC 4648 base32, as authenticator apps expect the key:
 * upper case, no padding on output; decoding accepts lower case, spaces
 * and padding (what a person types).
 */
#ifndef VRMS2FA_BASE32_H
#define VRMS2FA_BASE32_H

#include <stddef.h>
#include <stdint.h>

/* Length of the encoding of n bytes, without padding and without NUL. */
size_t base32_encoded_len(size_t n);

/* 0 on success, -1 if out is too small (needs base32_encoded_len(len)+1). */
int base32_encode(uint8_t const *in, size_t len, char *out, size_t outlen);

/* 0 on success, -1 on a bad character or if out is too small. */
int base32_decode(char const *in, size_t len, uint8_t *out, size_t outcap, size_t *outlen);

#endif
