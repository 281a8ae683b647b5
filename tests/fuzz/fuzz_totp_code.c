/*
 * fuzz_totp_code.c - feeds the code a user types (any bytes) to
 * totp_verify with a fixed secret and a fixed clock.  Byte 0 picks the
 * parameters (algorithm, digits 6..8, period), byte 1 the window (0..10,
 * and now and then an invalid 11+); the rest is the code.
 *
 * Checks: no crash or UB, no read past the code; TOTP_BAD_INPUT exactly
 * when the code is not 'digits' ASCII digits; otherwise the answer agrees
 * with a reference made here from totp_generate over every step of the
 * window: TOTP_MATCH (with the matching step as *matched_counter) exactly
 * when one of those codes equals the input; an out-of-range window is
 * TOTP_ERROR.
 */
#include "fuzz_util.h"
#include "totp.h"

#define NOW ((time_t) 1700000000)

static uint8_t const SECRET[] = "12345678901234567890123456789012345678901234567890123456789012345";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int inited;
	static unsigned const PERIODS[] = { 30, 60, 1, 300 };
	totp_params_t params;
	unsigned window;
	char const *code;
	size_t code_len, i, secret_len;
	bool well_formed;
	uint64_t matched = 12345, counter;
	bool want_match = false;
	totp_result_t r;
	char *copy;

	if (!inited) {
		if (totp_library_init() != 0) abort();
		inited = 1;
	}
	if (size < 2) return 0;
	params.algo = (totp_algo_t) (data[0] % 3);
	params.digits = 6 + (data[0] >> 2) % 3;
	params.period = PERIODS[(data[0] >> 4) & 3];
	secret_len = params.algo == TOTP_SHA1 ? 20 : params.algo == TOTP_SHA256 ? 32 : 64;
	window = data[1] % 16;
	copy = (char *) fuzz_memdup(data + 2, size - 2);
	code = copy;
	code_len = size - 2;

	well_formed = code_len == params.digits;
	for (i = 0; i < code_len; i++) {
		if (code[i] < '0' || code[i] > '9') well_formed = false;
	}

	r = totp_verify(&params, SECRET, secret_len, code, code_len, NOW, window, &matched);
	if (window > TOTP_WINDOW_MAX) {
		FUZZ_CHECK(r == TOTP_ERROR && matched == 0);
		free(copy);
		return 0;
	}
	if (!well_formed) {
		FUZZ_CHECK(r == TOTP_BAD_INPUT && matched == 0);
		free(copy);
		return 0;
	}

	counter = totp_counter_at(&params, NOW);
	FUZZ_CHECK(counter == (uint64_t) NOW / params.period);
	for (i = 0; i <= 2 * window; i++) {
		uint64_t step = counter - window + i;
		char want[TOTP_MAX_DIGITS + 1];

		FUZZ_CHECK(totp_generate(&params, SECRET, secret_len, (time_t) (step * params.period), want,
					 sizeof(want)) == 0);
		FUZZ_CHECK(strlen(want) == params.digits);
		if (memcmp(want, code, code_len) == 0) want_match = true;
	}
	if (want_match) {
		FUZZ_CHECK(r == TOTP_MATCH);
		/* liboath searches outwards from now: the step it reports must produce this code */
		{
			char got[TOTP_MAX_DIGITS + 1];

			FUZZ_CHECK(matched + window >= counter && matched <= counter + window);
			FUZZ_CHECK(totp_generate(&params, SECRET, secret_len, (time_t) (matched * params.period),
						 got, sizeof(got)) == 0);
			FUZZ_CHECK(memcmp(got, code, code_len) == 0);
		}
	} else {
		FUZZ_CHECK(r == TOTP_NO_MATCH && matched == 0);
	}
	free(copy);
	return 0;
}
