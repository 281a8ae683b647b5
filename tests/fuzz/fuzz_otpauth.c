/*
 * fuzz_otpauth.c - feeds otpauth_uri (and otpauth_key_grouped) an issuer
 * and an account name that come from the database or the admin's command
 * line, with fuzzed TOTP parameters and secret.  Input layout: byte 0
 * picks the parameters (algorithm, digits, period; some invalid), byte 1
 * the output buffer size, then "issuer NUL account NUL secret".
 *
 * Checks: no crash or UB, no write past the buffer; on failure the output
 * is ""; on success the URI is printable ASCII without spaces or raw
 * control characters, starts with "otpauth://totp/", its label decodes
 * back to "issuer:account", its issuer= parameter to the issuer and its
 * secret= (base32) to the secret; the same call with a large buffer gives
 * the same text; the grouped key is groups of four base32 characters.
 */
#include "fuzz_util.h"
#include "base32.h"
#include "otpauth.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* Percent-decode s[0..len) into out (room for len+1); -1 on a bad escape. */
static int pct_decode(char const *s, size_t len, char *out)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '%') {
			int hi, lo;

			if (i + 2 >= len) return -1;
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0) return -1;
			out[o++] = (char) (hi << 4 | lo);
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return 0;
}

static void check_uri(char const *uri, char const *issuer, char const *account,
		      uint8_t const *secret, size_t secret_len)
{
	static char const PREFIX[] = "otpauth://totp/";
	size_t len = strlen(uri), i;
	char const *label = uri + sizeof(PREFIX) - 1, *q, *sec, *iss, *end;
	char *buf = malloc(len + 1);
	uint8_t *key = malloc(secret_len + 8);
	size_t keylen = 0;

	if (!buf || !key) abort();
	for (i = 0; i < len; i++) FUZZ_CHECK(uri[i] > ' ' && uri[i] < 0x7f);
	FUZZ_CHECK(strncmp(uri, PREFIX, sizeof(PREFIX) - 1) == 0);

	q = strchr(label, '?');
	FUZZ_CHECK(q != NULL);
	FUZZ_CHECK(pct_decode(label, (size_t) (q - label), buf) == 0);
	FUZZ_CHECK(strncmp(buf, issuer, strlen(issuer)) == 0);
	FUZZ_CHECK(buf[strlen(issuer)] == ':');
	FUZZ_CHECK(strcmp(buf + strlen(issuer) + 1, account) == 0);

	sec = strstr(q, "?secret=");
	FUZZ_CHECK(sec == q);
	sec += strlen("?secret=");
	end = strchr(sec, '&');
	FUZZ_CHECK(end != NULL);
	FUZZ_CHECK(base32_decode(sec, (size_t) (end - sec), key, secret_len + 8, &keylen) == 0);
	FUZZ_CHECK(keylen == secret_len && memcmp(key, secret, secret_len) == 0);

	iss = strstr(end, "&issuer=");
	FUZZ_CHECK(iss == end);
	iss += strlen("&issuer=");
	end = strchr(iss, '&');
	FUZZ_CHECK(end != NULL);
	FUZZ_CHECK(pct_decode(iss, (size_t) (end - iss), buf) == 0);
	FUZZ_CHECK(strcmp(buf, issuer) == 0);
	FUZZ_CHECK(strncmp(end, "&algorithm=", strlen("&algorithm=")) == 0);

	free(key);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned const DIGITS[] = { 6, 7, 8, 5, 9, 0 };
	static unsigned const PERIODS[] = { 30, 60, 1, 300, 0, 301, 15, 90 };
	char big[OTPAUTH_URI_MAX], grouped[OTPAUTH_URI_MAX * 2];
	totp_params_t params;
	char *rest, *issuer, *account, *out;
	uint8_t const *secret;
	size_t rest_len, issuer_len, account_len, secret_len, outlen;
	int rc, rc_big;

	if (size < 2 || size > 4096) return 0;
	params.algo = (totp_algo_t) (data[0] & 3);	/* 3 is invalid */
	params.digits = DIGITS[(data[0] >> 2) % 6];
	params.period = PERIODS[(data[0] >> 5) & 7];
	outlen = data[1] == 255 ? 0 : (size_t) data[1] * 4;	/* 0..1016 */

	rest_len = size - 2;
	rest = fuzz_strndup(data + 2, rest_len);
	issuer = rest;
	issuer_len = strlen(issuer);
	account = issuer_len < rest_len ? issuer + issuer_len + 1 : rest + rest_len;
	account_len = strlen(account);
	secret = (uint8_t const *) account + account_len + (account + account_len < rest + rest_len ? 1 : 0);
	secret_len = (size_t) ((uint8_t const *) rest + rest_len - secret);

	out = malloc(outlen ? outlen : 1);
	if (!out) abort();
	if (outlen) memset(out, 'Z', outlen);
	rc = otpauth_uri(issuer, account, &params, secret, secret_len, outlen ? out : NULL, outlen);
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (outlen > 0) {
		FUZZ_CHECK(memchr(out, '\0', outlen) != NULL);
		if (rc != 0) FUZZ_CHECK(out[0] == '\0');
	}
	memset(big, 'Z', sizeof(big));
	rc_big = otpauth_uri(issuer, account, &params, secret, secret_len, big, sizeof(big));
	FUZZ_CHECK(rc_big == 0 || rc_big == -1);
	if (rc_big != 0) FUZZ_CHECK(big[0] == '\0');
	if (rc == 0) {
		FUZZ_CHECK(rc_big == 0);
		FUZZ_CHECK(strcmp(out, big) == 0);
	}
	if (rc_big == 0) {
		FUZZ_CHECK(strlen(big) < sizeof(big));
		check_uri(big, issuer, account, secret, secret_len);
	}

	/* The key for typing by hand: groups of four, single spaces. */
	if (otpauth_key_grouped(secret, secret_len, grouped, sizeof(grouped)) == 0) {
		size_t i, n = strlen(grouped);

		FUZZ_CHECK(secret_len > 0);
		for (i = 0; i < n; i++) {
			if (i % 5 == 4) {
				FUZZ_CHECK(grouped[i] == ' ');
			} else {
				FUZZ_CHECK((grouped[i] >= 'A' && grouped[i] <= 'Z') ||
					   (grouped[i] >= '2' && grouped[i] <= '7'));
			}
		}
		FUZZ_CHECK(n > 0 && grouped[n - 1] != ' ');
	} else {
		FUZZ_CHECK(grouped[0] == '\0');
	}

	free(out);
	free(rest);
	return 0;
}
