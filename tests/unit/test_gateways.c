/*
 * test_gateways.c - the decision core's rules for gateways (doc/design.md,
 * "Clients and gateways"): the client mode (VRMS2FA-Client-Mode), the
 * single-pass split by the typed text's shape, the decision rows of single
 * pass and no-challenge clients, trust for unsigned clients
 * (VRMS2FA-Trust-Unsigned), and OpenVPN's static challenge (SCRV1).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "policy.h"
#include "scrv1.h"

#define NOW ((time_t) 1700000000)

static login_facts_t facts(bool active, bool trusted)
{
	login_facts_t f;

	memset(&f, 0, sizeof(f));
	f.twofa_active = active;
	f.address_trusted = trusted;
	f.now = NOW;
	f.email_enabled = true;
	return f;
}

static void test_client_mode(void **state)
{
	(void) state;
	assert_int_equal(policy_client_mode(false, 0, false), CLIENT_MODE_CHALLENGE);
	assert_int_equal(policy_client_mode(false, 0, true), CLIENT_MODE_SINGLE_PASS);
	/* set: the control attribute wins over the module's default, both ways */
	assert_int_equal(policy_client_mode(true, 1, true), CLIENT_MODE_CHALLENGE);
	assert_int_equal(policy_client_mode(true, 2, false), CLIENT_MODE_SINGLE_PASS);
	assert_int_equal(policy_client_mode(true, 3, true), CLIENT_MODE_NO_CHALLENGE);
	/* anything the dictionary does not name fails closed */
	assert_int_equal(policy_client_mode(true, 0, false), CLIENT_MODE_INVALID);
	assert_int_equal(policy_client_mode(true, 4, true), CLIENT_MODE_INVALID);
	assert_int_equal(policy_client_mode(true, UINT32_MAX, false), CLIENT_MODE_INVALID);
	assert_string_equal(policy_client_mode_name(CLIENT_MODE_CHALLENGE), "challenge");
	assert_string_equal(policy_client_mode_name(CLIENT_MODE_SINGLE_PASS), "single-pass");
	assert_string_equal(policy_client_mode_name(CLIENT_MODE_NO_CHALLENGE), "no-challenge");
	assert_string_equal(policy_client_mode_name(CLIENT_MODE_INVALID), "invalid");
}

static single_pass_split_t split_of(char const *typed, unsigned digits)
{
	single_pass_split_t s;

	memset(&s, 0x5a, sizeof(s));
	policy_single_pass_split((uint8_t const *) typed, strlen(typed), digits, &s);
	assert_int_equal(s.password_len + s.code_len, strlen(typed));
	assert_true(s.code_sent == (s.code_len > 0));
	return s;
}

static void test_split_shapes(void **state)
{
	single_pass_split_t s;

	(void) state;
	/* TOTP digits at the end */
	s = split_of("S3cret!123456", 6);
	assert_int_equal(s.code_len, 6);
	s = split_of("S3cret!12345678", 8);
	assert_int_equal(s.code_len, 8);
	/* fewer digits than the user's code: the password alone */
	s = split_of("S3cret!12345", 6);
	assert_false(s.code_sent);
	s = split_of("S3cret!12345a", 6);
	assert_false(s.code_sent);
	s = split_of("S3cret!", 6);
	assert_false(s.code_sent);
	assert_int_equal(s.password_len, 7);
	/* no byte of password before the code: all of it is the password */
	s = split_of("123456", 6);
	assert_false(s.code_sent);
	/* a recovery code as shown, any case, Crockford's look-alikes */
	s = split_of("S3cret!abcde-fghjk", 6);
	assert_int_equal(s.code_len, 11);
	assert_int_equal(s.password_len, 7);
	s = split_of("S3cret!ABCDE-FGHJK", 6);
	assert_int_equal(s.code_len, 11);
	s = split_of("S3cret!0il0o-12345", 6);
	assert_int_equal(s.code_len, 11);
	/* a recovery code whose tail is digits is read as the recovery code, not as a TOTP code */
	s = split_of("pwabcde-123456", 6);
	assert_false(s.code_len == 11);	/* "bcde-123456": the hyphen is not where it is shown */
	assert_int_equal(s.code_len, 6);
	s = split_of("pwa1234-56789", 6);
	assert_int_equal(s.code_len, 11);
	/* not a recovery code: a character outside the alphabet, the hyphen elsewhere, no hyphen */
	s = split_of("S3cret!abcdu-fghjk", 6);
	assert_false(s.code_sent);
	s = split_of("S3cret!abcd-efghjk", 6);
	assert_false(s.code_sent);
	s = split_of("S3cret!abcde fghjk", 6);
	assert_false(s.code_sent);
	/* exactly a recovery code with nothing before it: the password */
	s = split_of("abcde-fghjk", 6);
	assert_false(s.code_sent);
	/* zero digits configured: only a recovery code can be read */
	s = split_of("pw123456", 0);
	assert_false(s.code_sent);
	/* NULL text */
	memset(&s, 0x5a, sizeof(s));
	policy_single_pass_split(NULL, 5, 6, &s);
	assert_false(s.code_sent);
	assert_int_equal(s.password_len, 0);
	assert_int_equal(s.code_len, 0);
}

/* Single pass and no-challenge rows of the round 1 table, users with 2FA. */
static void test_decide_2fa_rows(void **state)
{
	login_facts_t f;
	int64_t left = 0;

	(void) state;
	/* challenge mode: unchanged */
	f = facts(true, false);
	assert_int_equal(policy_decide(&f, &left), DECISION_CHALLENGE_CODE);
	f.address_trusted = true;
	assert_int_equal(policy_decide(&f, &left), DECISION_ACCEPT);
	/* a code in challenge mode is not a thing: code_sent alone changes nothing */
	f.code_sent = true;
	assert_int_equal(policy_decide(&f, &left), DECISION_ACCEPT);

	/* single pass */
	f = facts(true, false);
	f.single_pass = true;
	assert_int_equal(policy_decide(&f, &left), DECISION_REJECT_CODE_REQUIRED);
	f.code_sent = true;
	assert_int_equal(policy_decide(&f, &left), DECISION_SINGLE_PASS_CODE);
	f.address_trusted = true;
	assert_int_equal(policy_decide(&f, &left), DECISION_SINGLE_PASS_CODE);
	f.code_sent = false;
	assert_int_equal(policy_decide(&f, &left), DECISION_ACCEPT);

	/* no-challenge: trusted passes, a new address cannot be asked: the device waits for approval */
	f = facts(true, false);
	f.no_challenge = true;
	assert_int_equal(policy_decide(&f, &left), DECISION_REJECT_DEVICE_APPROVAL);
	f.address_trusted = true;
	assert_int_equal(policy_decide(&f, &left), DECISION_ACCEPT);
	/* single pass in a client that cannot show a challenge (EAP): a code may still come with the password */
	f = facts(true, false);
	f.no_challenge = true;
	f.single_pass = true;
	assert_int_equal(policy_decide(&f, &left), DECISION_REJECT_CODE_REQUIRED);
	f.code_sent = true;
	assert_int_equal(policy_decide(&f, &left), DECISION_SINGLE_PASS_CODE);
	assert_string_equal(policy_decision_name(DECISION_REJECT_CODE_REQUIRED), "reject-code-required");
	assert_string_equal(policy_decision_name(DECISION_REJECT_DEVICE_APPROVAL), "reject-device-approval");
}

/* Users without 2FA on a no-challenge client: never a challenge. */
static void test_decide_no_challenge_without_2fa(void **state)
{
	login_facts_t f;
	int64_t left = 0;

	(void) state;
	f = facts(false, true);
	f.no_challenge = true;
	f.mandatory = true;
	f.has_deadline = true;
	f.grace_deadline = NOW - 1;
	assert_int_equal(policy_decide(&f, &left), DECISION_REJECT_MUST_ENROLL);
	f.enrollment_requested = true;
	assert_int_equal(policy_decide(&f, &left), DECISION_REJECT_MUST_ENROLL);
	/* new address: the email (the flow sends its link only), or refused with email off */
	f = facts(false, false);
	f.no_challenge = true;
	assert_int_equal(policy_decide(&f, &left), DECISION_EMAIL_CONFIRM);
	f.email_enabled = false;
	assert_int_equal(policy_decide(&f, &left), DECISION_ACCEPT_WITH_REMINDER);
	f = facts(false, true);
	f.no_challenge = true;
	assert_int_equal(policy_decide(&f, &left), DECISION_ACCEPT_WITH_REMINDER);
}

static trust_request_t trust_req(void)
{
	trust_request_t r;

	memset(&r, 0, sizeof(r));
	r.kind = ADDR_IPV4;
	r.address = "192.0.2.10";
	r.mac_trust = true;
	r.require_message_authenticator = true;
	r.has_message_authenticator = false;
	r.scope_usable = true;
	return r;
}

static void test_trust_unsigned(void **state)
{
	trust_request_t r = trust_req();

	(void) state;
	assert_string_equal(policy_trust_refusal(&r), "no Message-Authenticator");
	r.unsigned_trusted = true;
	assert_null(policy_trust_refusal(&r));
	/* it lifts only the signature: a placeholder address, a MAC with MAC trust off, a bad scope stay refused */
	r.address = "0.0.0.0";
	assert_non_null(policy_trust_refusal(&r));
	r = trust_req();
	r.unsigned_trusted = true;
	r.kind = ADDR_MAC;
	r.address = "00-11-22-33-44-55";
	r.mac_trust = false;
	assert_non_null(policy_trust_refusal(&r));
	r = trust_req();
	r.unsigned_trusted = true;
	r.scope_usable = false;
	assert_non_null(policy_trust_refusal(&r));
	r = trust_req();
	r.unsigned_trusted = true;
	r.kind = ADDR_INVALID;
	assert_string_equal(policy_trust_refusal(&r), "no usable address");
}

static scrv1_status_t decode(char const *text, scrv1_fields_t *f)
{
	return scrv1_decode((uint8_t const *) text, strlen(text), f);
}

static void test_scrv1_decode(void **state)
{
	scrv1_fields_t f;

	(void) state;
	/* "S3cret!" and "123456", as OpenVPN 2.6 encodes them */
	assert_int_equal(decode("SCRV1:UzNjcmV0IQ==:MTIzNDU2", &f), SCRV1_OK);
	assert_int_equal(f.password_len, 7);
	assert_memory_equal(f.password, "S3cret!", 7);
	assert_int_equal(f.response_len, 6);
	assert_memory_equal(f.response, "123456", 6);
	/* an empty response: the password alone */
	assert_int_equal(decode("SCRV1:UzNjcmV0IQ==:", &f), SCRV1_OK);
	assert_int_equal(f.response_len, 0);
	/* one and two padding characters, no padding */
	assert_int_equal(decode("SCRV1:YQ==:YWI=", &f), SCRV1_OK);
	assert_int_equal(f.password_len, 1);
	assert_int_equal(f.response_len, 2);
	assert_int_equal(decode("SCRV1:YWJj:", &f), SCRV1_OK);
	assert_int_equal(f.password_len, 3);
	assert_int_equal(decode("SCRV1::", &f), SCRV1_OK);
	assert_int_equal(f.password_len, 0);
	/* not OpenVPN's text at all */
	assert_int_equal(decode("S3cret!123456", &f), SCRV1_NOT);
	assert_int_equal(decode("scrv1:YQ==:YQ==", &f), SCRV1_NOT);
	assert_int_equal(decode("SCRV1", &f), SCRV1_NOT);
	assert_int_equal(scrv1_decode(NULL, 0, &f), SCRV1_NOT);
	/* malformed: no colon, a third field, whitespace, bad padding, non-canonical bits, NUL inside */
	assert_int_equal(decode("SCRV1:", &f), SCRV1_MALFORMED);
	assert_int_equal(decode("SCRV1:YQ==", &f), SCRV1_MALFORMED);
	assert_int_equal(decode("SCRV1:YQ==:YQ==:YQ==", &f), SCRV1_MALFORMED);
	assert_int_equal(decode("SCRV1:YQ==:MTIz NDU2", &f), SCRV1_MALFORMED);
	assert_int_equal(decode("SCRV1:YQ==:MTIzNDU2\n", &f), SCRV1_MALFORMED);
	assert_int_equal(decode("SCRV1:YQ:", &f), SCRV1_MALFORMED);
	assert_int_equal(decode("SCRV1:Y===:", &f), SCRV1_MALFORMED);
	assert_int_equal(decode("SCRV1:YQ=a:", &f), SCRV1_MALFORMED);
	assert_int_equal(decode("SCRV1:YQ==YWJj:", &f), SCRV1_MALFORMED);
	assert_int_equal(decode("SCRV1:YR==:", &f), SCRV1_MALFORMED);
	assert_int_equal(decode("SCRV1:YWJ=:", &f), SCRV1_MALFORMED);
	assert_int_equal(decode("SCRV1:AA==:", &f), SCRV1_MALFORMED);
	assert_int_equal(decode("SCRV1:YQ==:YS1i-A==", &f), SCRV1_MALFORMED);
	assert_int_equal(f.password_len, 0);
	assert_int_equal(f.response_len, 0);
}

/* "SCRV1:" then 'groups' times "YWJj" (3 bytes each) as the password, an empty response. */
static scrv1_status_t decode_groups(size_t groups, scrv1_fields_t *f)
{
	char text[16 + 4 * (SCRV1_FIELD_MAX / 3 + 2)];
	size_t n, i;

	assert_true(groups <= SCRV1_FIELD_MAX / 3 + 1);
	memcpy(text, "SCRV1:", 6);
	n = 6;
	for (i = 0; i < groups; i++, n += 4) memcpy(text + n, "YWJj", 4);
	text[n++] = ':';
	return scrv1_decode((uint8_t const *) text, n, f);
}

/* A field longer than SCRV1_FIELD_MAX decoded bytes is refused, one at the limit is not. */
static void test_scrv1_limits(void **state)
{
	scrv1_fields_t f;

	(void) state;
	assert_int_equal(decode_groups(SCRV1_FIELD_MAX / 3, &f), SCRV1_OK);
	assert_int_equal(f.password_len, SCRV1_FIELD_MAX);
	assert_int_equal(decode_groups(SCRV1_FIELD_MAX / 3 + 1, &f), SCRV1_MALFORMED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_client_mode),
		cmocka_unit_test(test_split_shapes),
		cmocka_unit_test(test_decide_2fa_rows),
		cmocka_unit_test(test_decide_no_challenge_without_2fa),
		cmocka_unit_test(test_trust_unsigned),
		cmocka_unit_test(test_scrv1_decode),
		cmocka_unit_test(test_scrv1_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
