/*
 * fuzz_recovery.c - feeds arbitrary bytes to recovery_code_normalise, as a
 * user types a recovery code into the password prompt.
 *
 * Checks: no crash or UB, no read past the input; success exactly when an
 * independent reference (drop '-' and ' ', fold case, i/l -> 1, o -> 0,
 * everything else in Crockford's alphabet, exactly 10 characters, input
 * 1..64 bytes) says so, with the same 10 characters; the result is
 * lower-case Crockford base32 and normalising it again gives it back; a
 * failure leaves "".  A 6-digit TOTP code never normalises.
 */
#include <ctype.h>

#include "fuzz_util.h"
#include "recovery.h"

static char const CROCKFORD[] = "0123456789abcdefghjkmnpqrstvwxyz";

static int ref_normalise(uint8_t const *in, size_t len, char out[RECOVERY_CODE_CHARS + 1])
{
	size_t i, n = 0;

	if (len == 0 || len > 64) return -1;
	for (i = 0; i < len; i++) {
		int c = in[i];

		if (c == '-' || c == ' ') continue;
		if (c >= 0x80) return -1;
		c = tolower(c);
		if (c == 'i' || c == 'l') c = '1';
		if (c == 'o') c = '0';
		if (c == 0 || !strchr(CROCKFORD, c)) return -1;
		if (n == RECOVERY_CODE_CHARS) return -1;
		out[n++] = (char) c;
	}
	out[n] = '\0';
	return n == RECOVERY_CODE_CHARS ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = (char *) fuzz_memdup(data, size);
	char out[RECOVERY_CODE_CHARS + 1], ref[RECOVERY_CODE_CHARS + 1], again[RECOVERY_CODE_CHARS + 1];
	int rc, rrc;
	size_t i;

	memset(out, 'Q', sizeof(out));
	rc = recovery_code_normalise(in, size, out);
	rrc = ref_normalise(data, size, ref);
	FUZZ_CHECK(rc == rrc);
	if (rc != 0) {
		FUZZ_CHECK(out[0] == '\0');
	} else {
		FUZZ_CHECK(strcmp(out, ref) == 0);
		FUZZ_CHECK(strlen(out) == RECOVERY_CODE_CHARS);
		for (i = 0; i < RECOVERY_CODE_CHARS; i++) FUZZ_CHECK(strchr(CROCKFORD, out[i]) != NULL);
		FUZZ_CHECK(recovery_code_normalise(out, RECOVERY_CODE_CHARS, again) == 0);
		FUZZ_CHECK(strcmp(again, out) == 0);
		/* a TOTP code is 6..8 digits: never 10 code characters */
		FUZZ_CHECK(size >= RECOVERY_CODE_CHARS);
	}
	free(in);
	return 0;
}
