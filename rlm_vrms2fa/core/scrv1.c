/*
 * scrv1.c - OpenVPN's static challenge text, "SCRV1:b64(password):b64(code)"
 * (see scrv1.h).  A strict base64 decoder of its own: OpenSSL's
 * EVP_DecodeBlock skips whitespace and cannot tell padding from data, and
 * this text comes from the network.
 */
#include <string.h>

#include "scrv1.h"

/* The value of one character of the standard base64 alphabet, or -1. */
static int b64_value(uint8_t c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+') return 62;
	if (c == '/') return 63;
	return -1;
}

/*
 * Decode len bytes of padded base64 into at most outmax bytes.  0 with
 * *outlen set, -1 when it is not strict base64 or does not fit.  An empty
 * input decodes to nothing.
 */
static int b64_decode(uint8_t const *in, size_t len, uint8_t *out, size_t outmax, size_t *outlen)
{
	size_t i, n = 0;

	*outlen = 0;
	if (len % 4 != 0) return -1;
	for (i = 0; i < len; i += 4) {
		int v[4];
		size_t pad = 0, j;
		uint32_t group;

		for (j = 0; j < 4; j++) {
			if (in[i + j] == '=') {
				/* padding only in the last group, only in its last one or two places, and to the end */
				if (i + 4 != len || j < 2) return -1;
				pad++;
				v[j] = 0;
				continue;
			}
			if (pad) return -1;
			v[j] = b64_value(in[i + j]);
			if (v[j] < 0) return -1;
		}
		group = ((uint32_t)v[0] << 18) | ((uint32_t)v[1] << 12) | ((uint32_t)v[2] << 6) | (uint32_t)v[3];
		if (pad == 2 && (group & 0xffff) != 0) return -1;	/* unused bits must be zero: one text per value */
		if (pad == 1 && (group & 0xff) != 0) return -1;
		if (n + 3 - pad > outmax) return -1;
		out[n++] = (uint8_t)(group >> 16);
		if (pad < 2) out[n++] = (uint8_t)(group >> 8);
		if (pad < 1) out[n++] = (uint8_t)group;
	}
	*outlen = n;
	return 0;
}

scrv1_status_t scrv1_decode(uint8_t const *in, size_t len, scrv1_fields_t *out)
{
	uint8_t const *fields, *colon;
	size_t rest;

	memset(out, 0, sizeof(*out));
	if (!in || len < SCRV1_PREFIX_LEN || memcmp(in, SCRV1_PREFIX, SCRV1_PREFIX_LEN) != 0) return SCRV1_NOT;
	fields = in + SCRV1_PREFIX_LEN;
	rest = len - SCRV1_PREFIX_LEN;
	colon = memchr(fields, ':', rest);
	if (!colon) return SCRV1_MALFORMED;
	if (memchr(colon + 1, ':', rest - (size_t)(colon + 1 - fields))) goto malformed;
	if (b64_decode(fields, (size_t)(colon - fields), out->password, sizeof(out->password), &out->password_len) != 0 ||
	    b64_decode(colon + 1, rest - (size_t)(colon + 1 - fields), out->response, sizeof(out->response),
		       &out->response_len) != 0) {
		goto malformed;
	}
	if (memchr(out->password, '\0', out->password_len) || memchr(out->response, '\0', out->response_len)) {
		goto malformed;
	}
	return SCRV1_OK;

malformed:
	memset(out, 0, sizeof(*out));
	return SCRV1_MALFORMED;
}
