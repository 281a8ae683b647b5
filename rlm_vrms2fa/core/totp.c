/*
 * totp.c - RFC 6238 time-based one-time codes on top of liboath.
 *
 * liboath computes the codes; this file checks every parameter first,
 * refuses any code that is not exactly 'digits' ASCII digits, and does
 * the comparison itself in constant time (liboath's default compare is
 * strcmp).  It knows nothing of users, databases or RADIUS.
 */
#include <string.h>
#include <strings.h>

#include <liboath/oath.h>
#include <openssl/crypto.h>

#include "totp.h"

#define TOTP_PERIOD_MAX 300
#define TOTP_SECRET_MAX 1024	/* far above any real key; guards the casts below */

/* What the comparison callback needs: the candidate code the user sent. */
typedef struct {
	char	code[TOTP_MAX_DIGITS + 1];
	size_t	digits;
} totp_compare_t;

int totp_library_init(void)
{
	return oath_init() == OATH_OK ? 0 : -1;
}

void totp_library_done(void)
{
	(void) oath_done();
}

char const *totp_status_name(totp_status_t status)
{
	switch (status) {
	case TOTP_STATUS_NONE:		return "none";
	case TOTP_STATUS_PENDING:	return "pending";
	case TOTP_STATUS_ACTIVE:	return "active";
	}
	return "unknown";
}

int totp_status_parse(char const *name, totp_status_t *status)
{
	if (!name || !status) return -1;
	if (strcmp(name, "pending") == 0) {
		*status = TOTP_STATUS_PENDING;
	} else if (strcmp(name, "active") == 0) {
		*status = TOTP_STATUS_ACTIVE;
	} else {
		return -1;
	}
	return 0;
}

bool totp_params_valid(totp_params_t const *params)
{
	if (!params) return false;
	switch (params->algo) {
	case TOTP_SHA1:
	case TOTP_SHA256:
	case TOTP_SHA512:
		break;
	default:
		return false;
	}
	if (params->digits < 6 || params->digits > TOTP_MAX_DIGITS) return false;
	if (params->period < 1 || params->period > TOTP_PERIOD_MAX) return false;
	return true;
}

char const *totp_algo_name(totp_algo_t algo)
{
	switch (algo) {
	case TOTP_SHA1: return "SHA1";
	case TOTP_SHA256: return "SHA256";
	case TOTP_SHA512: return "SHA512";
	}
	return "unknown";
}

int totp_algo_parse(char const *name, totp_algo_t *algo)
{
	if (!name || !algo) return -1;
	if (strcasecmp(name, "SHA1") == 0) {
		*algo = TOTP_SHA1;
	} else if (strcasecmp(name, "SHA256") == 0) {
		*algo = TOTP_SHA256;
	} else if (strcasecmp(name, "SHA512") == 0) {
		*algo = TOTP_SHA512;
	} else {
		return -1;
	}
	return 0;
}

uint64_t totp_counter_at(totp_params_t const *params, time_t now)
{
	if (!totp_params_valid(params) || now < 0) return 0;
	return (uint64_t) now / params->period;
}

static int oath_flags(totp_algo_t algo)
{
	switch (algo) {
	case TOTP_SHA256: return OATH_TOTP_HMAC_SHA256;
	case TOTP_SHA512: return OATH_TOTP_HMAC_SHA512;
	case TOTP_SHA1: break;
	}
	return 0;
}

static bool secret_ok(uint8_t const *secret, size_t secret_len)
{
	return secret && secret_len > 0 && secret_len <= TOTP_SECRET_MAX;
}

int totp_generate(totp_params_t const *params, uint8_t const *secret, size_t secret_len,
		  time_t now, char *out, size_t outlen)
{
	int rc;

	if (!out || outlen == 0) return -1;
	out[0] = '\0';
	if (!totp_params_valid(params) || !secret_ok(secret, secret_len) || now < 0) return -1;
	if (outlen < params->digits + 1) return -1;

	rc = oath_totp_generate2((char const *) secret, secret_len, now, params->period, 0,
				 params->digits, oath_flags(params->algo), out);
	if (rc != OATH_OK || strlen(out) != params->digits) {
		OPENSSL_cleanse(out, outlen);
		out[0] = '\0';
		return -1;
	}
	return 0;
}

/* liboath calls this for each step in the window: 0 = match, >0 = no match. */
static int totp_compare(void *handle, char const *test_otp)
{
	totp_compare_t const *cmp = handle;

	if (!cmp || !test_otp) return -1;
	if (strnlen(test_otp, cmp->digits + 1) != cmp->digits) return -1;
	return CRYPTO_memcmp(test_otp, cmp->code, cmp->digits) == 0 ? 0 : 1;
}

static bool code_well_formed(char const *code, size_t code_len, unsigned digits)
{
	size_t i;

	if (!code || code_len != digits) return false;
	for (i = 0; i < code_len; i++) {
		if (code[i] < '0' || code[i] > '9') return false;
	}
	return true;
}

totp_result_t totp_verify(totp_params_t const *params, uint8_t const *secret, size_t secret_len,
			  char const *code, size_t code_len, time_t now, unsigned window,
			  uint64_t *matched_counter)
{
	totp_compare_t cmp;
	uint64_t counter = 0;
	int pos = 0;
	int rc;

	if (matched_counter) *matched_counter = 0;
	if (!totp_params_valid(params) || !secret_ok(secret, secret_len) || now < 0 ||
	    window > TOTP_WINDOW_MAX)
		return TOTP_ERROR;
	if (!code_well_formed(code, code_len, params->digits)) return TOTP_BAD_INPUT;

	memset(&cmp, 0, sizeof(cmp));
	memcpy(cmp.code, code, code_len);
	cmp.digits = params->digits;

	rc = oath_totp_validate4_callback((char const *) secret, secret_len, now, params->period, 0,
					  params->digits, window, &pos, &counter,
					  oath_flags(params->algo), totp_compare, &cmp);
	OPENSSL_cleanse(&cmp, sizeof(cmp));

	if (rc == OATH_INVALID_OTP) return TOTP_NO_MATCH;
	if (rc < 0) return TOTP_ERROR;
	if (matched_counter) *matched_counter = counter;
	return TOTP_MATCH;
}
