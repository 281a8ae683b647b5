/*
 * fuzz_base32.c - feeds arbitrary text to base32_decode, as a person types
 * a TOTP key or as it comes back from a configuration or the database.
 *
 * Checks: no crash or UB, no write past the output capacity; a successful
 * decode gives at most len*5/8 bytes, and its input is canonical: dropping
 * spaces and '=' padding and upper-casing it gives exactly what
 * base32_encode makes of the bytes (encode -> decode round trip too); the
 * same input with one byte less of output room fails; a failed decode
 * reports length 0.
 */
#include <ctype.h>

#include "fuzz_util.h"
#include "base32.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = (char *) fuzz_memdup(data, size);
	size_t cap = size * 5 / 8 + 1, outlen = 12345, len2 = 0, i, n = 0;
	uint8_t *out = malloc(cap), *back;
	char *canon, *enc;
	int rc;

	if (!out) abort();
	rc = base32_decode(in, size, out, cap, &outlen);
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc != 0) {
		FUZZ_CHECK(outlen == 0);
		goto done;
	}
	FUZZ_CHECK(outlen <= size * 5 / 8);

	/* The canonical form of the input. */
	canon = malloc(size + 1);
	if (!canon) abort();
	for (i = 0; i < size; i++) {
		if (in[i] == ' ' || in[i] == '=') continue;
		canon[n++] = (char) toupper((unsigned char) in[i]);
	}
	canon[n] = '\0';

	FUZZ_CHECK(base32_encoded_len(outlen) == n);
	enc = malloc(n + 1);
	if (!enc) abort();
	FUZZ_CHECK(base32_encode(out, outlen, enc, n + 1) == 0);
	FUZZ_CHECK(strcmp(enc, canon) == 0);
	/* Too small by one: refused, and the buffer stays a string. */
	if (n > 0) {
		enc[0] = 'x';
		FUZZ_CHECK(base32_encode(out, outlen, enc, n) == -1);
		FUZZ_CHECK(enc[0] == '\0');
	}
	FUZZ_CHECK(base32_encode(out, outlen, enc, n + 1) == 0);

	back = malloc(outlen + 1);
	if (!back) abort();
	FUZZ_CHECK(base32_decode(enc, n, back, outlen, &len2) == 0);
	FUZZ_CHECK(len2 == outlen && memcmp(back, out, outlen) == 0);
	if (outlen > 0) FUZZ_CHECK(base32_decode(in, size, back, outlen - 1, &len2) == -1 && len2 == 0);

	free(back);
	free(enc);
	free(canon);
done:
	free(out);
	free(in);
	return 0;
}
