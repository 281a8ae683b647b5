/*
 * base32.c - RFC 4648 base32 for TOTP keys.
 *
 * Encoding writes what authenticator apps expect: upper case, no padding.
 * Decoding accepts what a person types: lower case, spaces anywhere, and
 * '=' padding at the end (in the right amount).  Only canonical encodings
 * are accepted: the unused low bits of the last character must be zero.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "base32.h"

static char const ALPHABET[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

size_t base32_encoded_len(size_t n)
{
	/* 8 characters per 5 bytes, the last group partial, no padding. */
	return (n / 5) * 8 + ((n % 5) * 8 + 4) / 5;
}

int base32_encode(uint8_t const *in, size_t len, char *out, size_t outlen)
{
	size_t need, i, o = 0;
	uint32_t acc = 0;
	unsigned bits = 0;

	if (!out) return -1;
	if (!in && len > 0) return -1;
	if (len > (SIZE_MAX / 8) - 1) return -1;
	need = base32_encoded_len(len) + 1;
	if (outlen < need) {
		if (outlen > 0) out[0] = '\0';
		return -1;
	}

	for (i = 0; i < len; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = ALPHABET[(acc >> bits) & 0x1f];
		}
		acc &= (1u << bits) - 1;
	}
	if (bits > 0) out[o++] = ALPHABET[(acc << (5 - bits)) & 0x1f];
	out[o] = '\0';
	OPENSSL_cleanse(&acc, sizeof(acc));
	return 0;
}

/* The 5-bit value of c, or -1. */
static int base32_value(char c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a';
	if (c >= '2' && c <= '7') return c - '2' + 26;
	return -1;
}

/* A valid number of data characters in the last group: 0, 2, 4, 5 or 7. */
static int tail_length_ok(size_t chars)
{
	switch (chars % 8) {
	case 0: case 2: case 4: case 5: case 7:
		return 1;
	default:
		return 0;
	}
}

static int decode_fail(uint8_t *out, size_t written, uint32_t *acc)
{
	if (out && written > 0) OPENSSL_cleanse(out, written);
	OPENSSL_cleanse(acc, sizeof(*acc));
	return -1;
}

int base32_decode(char const *in, size_t len, uint8_t *out, size_t outcap, size_t *outlen)
{
	size_t i, o = 0, chars = 0, pads = 0;
	uint32_t acc = 0;
	unsigned bits = 0;

	if (outlen) *outlen = 0;
	if (!outlen || (!in && len > 0) || (!out && outcap > 0)) return -1;

	for (i = 0; i < len; i++) {
		char c = in[i];
		int v;

		if (c == ' ') continue;
		if (c == '=') {
			pads++;
			continue;
		}
		if (pads > 0) return decode_fail(out, o, &acc);	/* data after padding */
		v = base32_value(c);
		if (v < 0) return decode_fail(out, o, &acc);
		chars++;
		acc = (acc << 5) | (uint32_t) v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (o >= outcap) return decode_fail(out, o, &acc);
			out[o++] = (uint8_t) (acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}

	if (!tail_length_ok(chars)) return decode_fail(out, o, &acc);
	if (acc != 0) return decode_fail(out, o, &acc);		/* non-canonical tail */
	if (pads > 0 && (chars % 8 == 0 || (chars + pads) % 8 != 0 || pads >= 8))
		return decode_fail(out, o, &acc);

	*outlen = o;
	return 0;
}
