/*
 * test_policy.c - the rules of round 1 (doc/design.md, "Round 1"): every
 * row of the decision table, the password verdict, the single-pass split,
 * the grace and trust arithmetic, and group/level names and masks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "policy.h"

#define NOW ((time_t) 1700000000)
#define DAY 86400

static login_facts_t facts(bool active, bool trusted, bool mandatory)
{
	login_facts_t f;

	memset(&f, 0, sizeof(f));
	f.twofa_active = active;
	f.address_trusted = trusted;
	f.mandatory = mandatory;
	f.now = NOW;
	f.email_enabled = true;
	return f;
}

static void test_active_trusted_accept(void **state)
{
	login_facts_t f = facts(true, true, true);
	int64_t left = 99;

	(void) state;
	assert_int_equal(policy_decide(&f, &left), DECISION_ACCEPT);
	assert_int_equal(left, 0);
	f.mandatory = false;
	assert_int_equal(policy_decide(&f, &left), DECISION_ACCEPT);
	/* a past deadline does not matter once enrolled */
	f.mandatory = true; f.has_deadline = true; f.grace_deadline = NOW - DAY;
	assert_int_equal(policy_decide(&f, &left), DECISION_ACCEPT);
	/* nor an enrollment request */
	f.enrollment_requested = true;
	assert_int_equal(policy_decide(&f, &left), DECISION_ACCEPT);
}

static void test_active_new_code(void **state)
{
	login_facts_t f = facts(true, false, false);
	int64_t left = 99;

	(void) state;
	assert_int_equal(policy_decide(&f, &left), DECISION_CHALLENGE_CODE);
	assert_int_equal(left, 0);
	f.mandatory = true;
	assert_int_equal(policy_decide(&f, &left), DECISION_CHALLENGE_CODE);
}

static void test_mandatory_past_deadline_enroll(void **state)
{
	login_facts_t f = facts(false, true, true);
	int64_t left = 99;

	(void) state;
	f.has_deadline = true;
	f.grace_deadline = NOW - 1;
	assert_int_equal(policy_decide(&f, &left), DECISION_CHALLENGE_ENROLL);
	assert_int_equal(left, 0);
	/* hole: the password alone never binds an authenticator: from a new address, the email first */
	f.address_trusted = false;
	assert_int_equal(policy_decide(&f, &left), DECISION_EMAIL_CONFIRM);
	assert_int_equal(left, 0);
	/* and with email confirmation off, no enrollment from a new address at all */
	f.email_enabled = false;
	assert_int_equal(policy_decide(&f, &left), DECISION_REJECT_ENROLL_UNPROVEN);
}

static void test_deadline_equal_now_is_passed(void **state)
{
	login_facts_t f = facts(false, true, true);
	int64_t left = 99;

	(void) state;
	f.has_deadline = true;
	f.grace_deadline = NOW;
	assert_int_equal(policy_decide(&f, &left), DECISION_CHALLENGE_ENROLL);
	assert_int_equal(left, 0);
	f.grace_deadline = NOW + 1;
	assert_int_equal(policy_decide(&f, &left), DECISION_ACCEPT_WITH_REMINDER);
	assert_int_equal(left, 1);
}

static void test_mandatory_no_deadline_enroll(void **state)
{
	login_facts_t f = facts(false, true, true);
	int64_t left = 99;

	(void) state;
	f.has_deadline = false;
	f.grace_deadline = NOW + 5 * DAY;	/* ignored without has_deadline */
	assert_int_equal(policy_decide(&f, &left), DECISION_CHALLENGE_ENROLL);
	assert_int_equal(left, 0);
	f.address_trusted = false;
	assert_int_equal(policy_decide(&f, &left), DECISION_EMAIL_CONFIRM);
}

static void test_optional_trusted_reminder(void **state)
{
	login_facts_t f = facts(false, true, false);
	int64_t left = 99;

	(void) state;
	assert_int_equal(policy_decide(&f, &left), DECISION_ACCEPT_WITH_REMINDER);
	assert_int_equal(left, 0);
	/* a stale deadline on an optional user is ignored */
	f.has_deadline = true;
	f.grace_deadline = NOW - DAY;
	assert_int_equal(policy_decide(&f, &left), DECISION_ACCEPT_WITH_REMINDER);
	assert_int_equal(left, 0);
}

static void test_grace_trusted_reminder(void **state)
{
	login_facts_t f = facts(false, true, true);
	int64_t left = 0;

	(void) state;
	f.has_deadline = true;
	f.grace_deadline = NOW + 2 * DAY + 1;
	assert_int_equal(policy_decide(&f, &left), DECISION_ACCEPT_WITH_REMINDER);
	assert_int_equal(left, 2 * DAY + 1);
	assert_int_equal(policy_days_left(left), 3);
}

static void test_optional_new_email(void **state)
{
	login_facts_t f = facts(false, false, false);
	int64_t left = 99;

	(void) state;
	assert_int_equal(policy_decide(&f, &left), DECISION_EMAIL_CONFIRM);
	assert_int_equal(left, 0);
}

static void test_grace_new_email(void **state)
{
	login_facts_t f = facts(false, false, true);
	int64_t left = 0;

	(void) state;
	f.has_deadline = true;
	f.grace_deadline = NOW + 5 * DAY;
	assert_int_equal(policy_decide(&f, &left), DECISION_EMAIL_CONFIRM);
	assert_int_equal(left, 5 * DAY);
	assert_int_equal(policy_days_left(left), 5);
}

static void test_enrollment_requested(void **state)
{
	login_facts_t f = facts(false, true, false);
	int64_t left = 99;

	(void) state;
	f.enrollment_requested = true;
	assert_int_equal(policy_decide(&f, &left), DECISION_CHALLENGE_ENROLL);
	assert_int_equal(left, 0);
	f.mandatory = true; f.has_deadline = true; f.grace_deadline = NOW + DAY;
	assert_int_equal(policy_decide(&f, &left), DECISION_CHALLENGE_ENROLL);
	/* hole: a request for enrollment never skips the email from a new address */
	f.address_trusted = false;
	assert_int_equal(policy_decide(&f, &left), DECISION_EMAIL_CONFIRM);
	assert_int_equal(left, DAY);
	f.mandatory = false;
	assert_int_equal(policy_decide(&f, &left), DECISION_EMAIL_CONFIRM);
	/* email off: the request is ignored from a new address, the user is let in with the reminder */
	f.email_enabled = false;
	assert_int_equal(policy_decide(&f, &left), DECISION_ACCEPT_WITH_REMINDER);
}

static void test_email_off_reminder(void **state)
{
	login_facts_t f = facts(false, false, false);
	int64_t left = 99;

	(void) state;
	f.email_enabled = false;
	assert_int_equal(policy_decide(&f, &left), DECISION_ACCEPT_WITH_REMINDER);
	assert_int_equal(left, 0);
	f.mandatory = true; f.has_deadline = true; f.grace_deadline = NOW + DAY;
	assert_int_equal(policy_decide(&f, &left), DECISION_ACCEPT_WITH_REMINDER);
	assert_int_equal(left, DAY);
	/* email off never skips enrollment that is due: from a trusted address it is offered, from a new one refused */
	f.grace_deadline = NOW;
	assert_int_equal(policy_decide(&f, &left), DECISION_REJECT_ENROLL_UNPROVEN);
	f.address_trusted = true;
	assert_int_equal(policy_decide(&f, &left), DECISION_CHALLENGE_ENROLL);
}

static void test_single_pass_rows(void **state)
{
	login_facts_t f = facts(true, true, false);
	int64_t left = 99;

	(void) state;
	/* 2FA: a code that came with the password is checked, from a trusted address too */
	f.single_pass = true;
	f.code_sent = true;
	assert_int_equal(policy_decide(&f, &left), DECISION_SINGLE_PASS_CODE);
	f.address_trusted = false;
	assert_int_equal(policy_decide(&f, &left), DECISION_SINGLE_PASS_CODE);
	/* the password alone: accepted from a trusted address, "a code is required" from a new one */
	f.code_sent = false;
	assert_int_equal(policy_decide(&f, &left), DECISION_REJECT_CODE_REQUIRED);
	f.address_trusted = true;
	assert_int_equal(policy_decide(&f, &left), DECISION_ACCEPT);
	/* no 2FA, enrollment due, trusted address: a single-pass gateway cannot show the key */
	f = facts(false, true, true);
	f.single_pass = true;
	assert_int_equal(policy_decide(&f, &left), DECISION_REJECT_MUST_ENROLL);
	/* unless the backend asked for enrollment itself */
	f.enrollment_requested = true;
	assert_int_equal(policy_decide(&f, &left), DECISION_CHALLENGE_ENROLL);
	/* from a new address: the email first (its link, for a gateway without challenges) */
	f.address_trusted = false;
	assert_int_equal(policy_decide(&f, &left), DECISION_EMAIL_CONFIRM);
	/* within grace: as without single pass */
	f = facts(false, false, true);
	f.single_pass = true; f.has_deadline = true; f.grace_deadline = NOW + 10;
	assert_int_equal(policy_decide(&f, &left), DECISION_EMAIL_CONFIRM);
	assert_int_equal(left, 10);
}

static password_facts_t pw_facts(password_result_t verified)
{
	password_facts_t p;

	memset(&p, 0, sizeof(p));
	p.user_found = true;
	p.has_password_hash = true;
	p.verified = verified;
	return p;
}

static void test_password_verdict(void **state)
{
	password_facts_t p = pw_facts(PASSWORD_MATCH);

	(void) state;
	assert_int_equal(policy_password_verdict(&p), PASSWORD_VERDICT_OK);
	p.verified = PASSWORD_MISMATCH;
	assert_int_equal(policy_password_verdict(&p), PASSWORD_VERDICT_WRONG);
	p.verified = PASSWORD_UNSUPPORTED;
	assert_int_equal(policy_password_verdict(&p), PASSWORD_VERDICT_UNSUPPORTED);
	p.verified = PASSWORD_ERROR;
	assert_int_equal(policy_password_verdict(&p), PASSWORD_VERDICT_ERROR);

	/* a matching hash never lets an unknown, disabled or hashless account in */
	p = pw_facts(PASSWORD_MATCH);
	p.user_found = false;
	assert_int_equal(policy_password_verdict(&p), PASSWORD_VERDICT_UNKNOWN_USER);
	p = pw_facts(PASSWORD_MATCH);
	p.disabled = true;
	assert_int_equal(policy_password_verdict(&p), PASSWORD_VERDICT_DISABLED);
	p = pw_facts(PASSWORD_MATCH);
	p.has_password_hash = false;
	assert_int_equal(policy_password_verdict(&p), PASSWORD_VERDICT_NO_HASH);
	/* single pass: "SCRV1:" text that does not decode never passes, even with the hash matching */
	p = pw_facts(PASSWORD_MATCH);
	p.malformed = true;
	assert_int_equal(policy_password_verdict(&p), PASSWORD_VERDICT_MALFORMED);
	p.external_password = true;
	assert_int_equal(policy_password_verdict(&p), PASSWORD_VERDICT_MALFORMED);

	/* external: another module checked the password; the account must still exist and be enabled */
	p = pw_facts(PASSWORD_ERROR);
	p.external_password = true;
	p.has_password_hash = false;
	assert_int_equal(policy_password_verdict(&p), PASSWORD_VERDICT_OK);
	p.disabled = true;
	assert_int_equal(policy_password_verdict(&p), PASSWORD_VERDICT_DISABLED);
	p.disabled = false; p.user_found = false;
	assert_int_equal(policy_password_verdict(&p), PASSWORD_VERDICT_UNKNOWN_USER);

	/* a hash over password.max_memory is refused unchecked, after the account facts */
	p = pw_facts(PASSWORD_MATCH);
	p.over_memory = true;
	assert_int_equal(policy_password_verdict(&p), PASSWORD_VERDICT_OVER_MEMORY);
	p.user_found = false;
	assert_int_equal(policy_password_verdict(&p), PASSWORD_VERDICT_UNKNOWN_USER);

	/* a full gate of memory-hard checks: BUSY for known and unknown users alike, before anything else */
	p = pw_facts(PASSWORD_MATCH);
	p.gate_full = true;
	assert_int_equal(policy_password_verdict(&p), PASSWORD_VERDICT_BUSY);
	p.user_found = false;
	assert_int_equal(policy_password_verdict(&p), PASSWORD_VERDICT_BUSY);
	p.user_found = true;
	p.disabled = true;
	assert_int_equal(policy_password_verdict(&p), PASSWORD_VERDICT_BUSY);

	assert_int_equal(policy_password_verdict(NULL), PASSWORD_VERDICT_ERROR);
	assert_string_equal(policy_password_verdict_name(PASSWORD_VERDICT_WRONG), "wrong password");
	assert_string_equal(policy_password_verdict_name(PASSWORD_VERDICT_UNKNOWN_USER), "unknown user");
	assert_string_equal(policy_password_verdict_name((password_verdict_t) 99), "unknown");
}

static void test_single_pass_split(void **state)
{
	single_pass_split_t s;

	(void) state;
	/* the last 'digits' bytes, when they are digits, after at least one byte of password */
	policy_single_pass_split((uint8_t const *)"S3cret!!123456", 14, 6, &s);
	assert_true(s.code_sent);
	assert_int_equal(s.password_len, 8);
	assert_int_equal(s.code_len, 6);
	policy_single_pass_split((uint8_t const *)"x123456", 7, 6, &s);
	assert_true(s.code_sent);
	assert_int_equal(s.password_len, 1);
	/* no room for a password: all of it is the password */
	policy_single_pass_split((uint8_t const *)"123456", 6, 6, &s);
	assert_false(s.code_sent);
	assert_int_equal(s.password_len, 6);
	assert_int_equal(s.code_len, 0);
	policy_single_pass_split((uint8_t const *)"", 0, 8, &s);
	assert_false(s.code_sent);
	assert_int_equal(s.password_len, 0);
}

static void test_grace_and_trust_arithmetic(void **state)
{
	(void) state;
	assert_int_equal(policy_grace_deadline(NOW, 5), NOW + 5 * DAY);
	assert_int_equal(policy_grace_deadline(NOW, 0), NOW);
	assert_int_equal(policy_grace_deadline(NOW, UINT32_MAX), NOW + (int64_t) UINT32_MAX * DAY);
	assert_int_equal(policy_trust_expires_at(NOW, 30 * DAY), NOW + 30 * DAY);
	assert_int_equal(policy_trust_expires_at(NOW, 0), 0);
	assert_int_equal(policy_trust_expires_at(NOW, -1), 0);
	assert_int_equal(policy_days_to_seconds(30), 30 * DAY);
	assert_int_equal(policy_grace_left(true, true, NOW + 10, NOW), 10);
	assert_int_equal(policy_grace_left(true, true, NOW, NOW), 0);
	assert_int_equal(policy_grace_left(true, true, NOW - 10, NOW), 0);
	assert_int_equal(policy_grace_left(false, true, NOW + 10, NOW), 0);
	assert_int_equal(policy_grace_left(true, false, NOW + 10, NOW), 0);
}

static trust_request_t trust_req(addr_kind_t kind, char const *address)
{
	trust_request_t r;

	memset(&r, 0, sizeof(r));
	r.kind = kind;
	r.address = address;
	r.mac_trust = true;
	r.require_message_authenticator = true;
	r.has_message_authenticator = true;
	r.scope_usable = true;
	return r;
}

static void test_trust_refusal(void **state)
{
	trust_request_t r = trust_req(ADDR_IPV4, "192.0.2.10");

	(void) state;
	assert_null(policy_trust_refusal(&r));
	/* attacker on the NAS path, BlastRADIUS: an unsigned request never uses or earns trust */
	r.has_message_authenticator = false;
	assert_string_equal(policy_trust_refusal(&r), "no Message-Authenticator");
	r.require_message_authenticator = false;
	assert_null(policy_trust_refusal(&r));
	/* placeholders are never trust keys */
	r = trust_req(ADDR_IPV4, "0.0.0.0");
	assert_non_null(policy_trust_refusal(&r));
	r = trust_req(ADDR_IPV6, "::");
	assert_non_null(policy_trust_refusal(&r));
	r = trust_req(ADDR_MAC, "ff:ff:ff:ff:ff:ff");
	assert_non_null(policy_trust_refusal(&r));
	/* MAC trust switched off by the operator */
	r = trust_req(ADDR_MAC, "00:11:22:33:44:55");
	assert_null(policy_trust_refusal(&r));
	r.mac_trust = false;
	assert_non_null(policy_trust_refusal(&r));
	/* no address, or an unusable scope */
	r = trust_req(ADDR_INVALID, "");
	assert_string_equal(policy_trust_refusal(&r), "no usable address");
	r = trust_req(ADDR_IPV4, "192.0.2.10");
	r.scope_usable = false;
	assert_non_null(policy_trust_refusal(&r));
	assert_non_null(policy_trust_refusal(NULL));
}

static void test_trust_counts(void **state)
{
	trust_how_t how;
	unsigned i;

	(void) state;
	/* the mailbox is not the authenticator: email-earned trust never skips a code for a 2FA user */
	assert_false(policy_trust_counts(TRUST_BY_EMAIL, true));
	assert_true(policy_trust_counts(TRUST_BY_EMAIL, false));
	for (i = 0; i < TRUST_HOW_COUNT; i++) {
		assert_true(policy_trust_counts((trust_how_t) i, false));
		if (i != TRUST_BY_EMAIL) assert_true(policy_trust_counts((trust_how_t) i, true));
		assert_int_equal(policy_trust_how_parse(policy_trust_how_name((trust_how_t) i), &how), 0);
		assert_int_equal(how, i);
	}
	assert_false(policy_trust_counts(TRUST_HOW_COUNT, false));
	assert_string_equal(policy_trust_how_name(TRUST_BY_ADMIN), "admin");
	assert_int_equal(policy_trust_how_parse("Email", &how), -1);
	assert_int_equal(policy_trust_how_parse(NULL, &how), -1);
}

static void test_enrollment_request_honoured(void **state)
{
	(void) state;
	assert_true(policy_enrollment_request_honoured(true, true, true));
	/* any client, or unsigned: the attribute is ignored */
	assert_false(policy_enrollment_request_honoured(true, false, true));
	assert_false(policy_enrollment_request_honoured(true, true, false));
	assert_false(policy_enrollment_request_honoured(false, true, true));
}

static void test_enrollment_due_and_email_usable(void **state)
{
	(void) state;
	assert_true(policy_enrollment_due(true, true, NOW, NOW));
	assert_true(policy_enrollment_due(true, false, 0, NOW));	/* no deadline: fail closed */
	assert_false(policy_enrollment_due(true, true, NOW + 1, NOW));
	assert_false(policy_enrollment_due(false, true, NOW - 1, NOW));
	assert_true(policy_email_confirmation_usable(false, false));
	assert_false(policy_email_confirmation_usable(true, false));
	assert_false(policy_email_confirmation_usable(false, true));
}

static void test_decide_null(void **state)
{
	login_facts_t f = facts(false, false, false);
	int64_t left = 99;

	(void) state;
	assert_int_equal(policy_decide(NULL, &left), DECISION_REJECT_ENROLL_UNPROVEN);
	assert_int_equal(left, 0);
	assert_int_equal(policy_decide(&f, NULL), DECISION_EMAIL_CONFIRM);
}

/*
 * A client that cannot show a challenge (EAP inner tunnel): a 2FA user from
 * a new address is rejected for out-of-band approval, never challenged;
 * enrollment that is due is refused as in single pass; the rest is the
 * table's answer.
 */
static void test_decide_no_challenge(void **state)
{
	login_facts_t f;

	(void) state;
	f = facts(true, false, false);
	f.no_challenge = true;
	assert_int_equal(policy_decide(&f, NULL), DECISION_REJECT_DEVICE_APPROVAL);
	f.no_challenge = false;
	assert_int_equal(policy_decide(&f, NULL), DECISION_CHALLENGE_CODE);

	f = facts(true, true, false);
	f.no_challenge = true;
	assert_int_equal(policy_decide(&f, NULL), DECISION_ACCEPT);	/* a trusted (approved) device */

	f = facts(true, false, false);
	f.no_challenge = true;
	f.single_pass = true;
	assert_int_equal(policy_decide(&f, NULL), DECISION_REJECT_CODE_REQUIRED);	/* single pass: the code may come */
	f.code_sent = true;
	assert_int_equal(policy_decide(&f, NULL), DECISION_SINGLE_PASS_CODE);	/* the code came with the password */

	f = facts(false, true, true);		/* mandatory, no deadline recorded: due */
	f.no_challenge = true;
	assert_int_equal(policy_decide(&f, NULL), DECISION_REJECT_MUST_ENROLL);
	f.no_challenge = false;
	assert_int_equal(policy_decide(&f, NULL), DECISION_CHALLENGE_ENROLL);

	f = facts(false, false, false);		/* no 2FA, new address: the email (its link) */
	f.no_challenge = true;
	assert_int_equal(policy_decide(&f, NULL), DECISION_EMAIL_CONFIRM);
	f = facts(false, true, false);
	f.no_challenge = true;
	assert_int_equal(policy_decide(&f, NULL), DECISION_ACCEPT_WITH_REMINDER);

	assert_int_equal(policy_no_challenge_row(DECISION_CHALLENGE_CODE, false), DECISION_CHALLENGE_CODE);
	assert_int_equal(policy_no_challenge_row(DECISION_ACCEPT, true), DECISION_ACCEPT);
}

/* A device approval is honoured only from an allowed client, in a signed request. */
static void test_approval_request_honoured(void **state)
{
	(void) state;
	assert_true(policy_approval_request_honoured(true, true));
	assert_false(policy_approval_request_honoured(true, false));
	assert_false(policy_approval_request_honoured(false, true));
	assert_false(policy_approval_request_honoured(false, false));
}

static void test_days_left(void **state)
{
	(void) state;
	assert_int_equal(policy_days_left(0), 0);
	assert_int_equal(policy_days_left(-5), 0);
	assert_int_equal(policy_days_left(1), 1);
	assert_int_equal(policy_days_left(DAY - 1), 1);
	assert_int_equal(policy_days_left(DAY), 1);
	assert_int_equal(policy_days_left(DAY + 1), 2);
	assert_int_equal(policy_days_left(2 * DAY + 1), 3);
	assert_int_equal(policy_days_left(5 * DAY), 5);
	assert_int_equal(policy_days_left(INT64_MAX), INT64_MAX / DAY + 1);
}

static void test_decision_names(void **state)
{
	(void) state;
	assert_string_equal(policy_decision_name(DECISION_ACCEPT), "accept");
	assert_string_equal(policy_decision_name(DECISION_CHALLENGE_CODE), "challenge-code");
	assert_string_equal(policy_decision_name(DECISION_CHALLENGE_ENROLL), "challenge-enroll");
	assert_string_equal(policy_decision_name(DECISION_ACCEPT_WITH_REMINDER), "accept-with-reminder");
	assert_string_equal(policy_decision_name(DECISION_EMAIL_CONFIRM), "email-confirm");
	assert_string_equal(policy_decision_name(DECISION_SINGLE_PASS_CODE), "single-pass-code");
	assert_string_equal(policy_decision_name(DECISION_REJECT_MUST_ENROLL), "reject-must-enroll");
	assert_string_equal(policy_decision_name(DECISION_REJECT_ENROLL_UNPROVEN), "reject-enroll-unproven");
	assert_string_equal(policy_decision_name(DECISION_REJECT_DEVICE_APPROVAL), "reject-device-approval");
	assert_string_equal(policy_decision_name((decision_t) 99), "unknown");
}

static void test_groups_and_levels(void **state)
{
	user_group_t g;
	security_level_t l;
	unsigned i;

	(void) state;
	assert_string_equal(policy_group_name(GROUP_ADMINISTRATOR), "administrator");
	assert_string_equal(policy_group_name(GROUP_COMPANY_USER), "company_user");
	assert_string_equal(policy_group_name(GROUP_OWNER), "owner");
	assert_string_equal(policy_group_name(GROUP_SUPPLIER), "supplier");
	assert_string_equal(policy_group_name(GROUP_COUNT), "unknown");
	for (i = 0; i < GROUP_COUNT; i++) {
		assert_int_equal(policy_group_parse(policy_group_name((user_group_t) i), &g), 0);
		assert_int_equal(g, i);
	}
	assert_int_equal(policy_group_parse("Owner", &g), -1);
	assert_int_equal(policy_group_parse("owners", &g), -1);
	assert_int_equal(policy_group_parse("", &g), -1);
	assert_int_equal(policy_group_parse("unknown", &g), -1);
	assert_int_equal(policy_group_parse(NULL, &g), -1);

	assert_string_equal(policy_level_name(LEVEL_LOW), "low");
	assert_string_equal(policy_level_name(LEVEL_HIGH), "high");
	assert_int_equal(policy_level_parse("low", &l), 0); assert_int_equal(l, LEVEL_LOW);
	assert_int_equal(policy_level_parse("high", &l), 0); assert_int_equal(l, LEVEL_HIGH);
	assert_int_equal(policy_level_parse("HIGH", &l), -1);
	assert_int_equal(policy_level_parse("medium", &l), -1);
	assert_int_equal(policy_level_parse("", &l), -1);
}

static void test_mask_parse(void **state)
{
	unsigned m = 77;

	(void) state;
	assert_int_equal(policy_group_mask_parse("", &m), 0); assert_int_equal(m, 0);
	assert_int_equal(policy_group_mask_parse("owner", &m), 0);
	assert_int_equal(m, 1u << GROUP_OWNER);
	assert_int_equal(policy_group_mask_parse("owner,supplier", &m), 0);
	assert_int_equal(m, (1u << GROUP_OWNER) | (1u << GROUP_SUPPLIER));
	assert_int_equal(policy_group_mask_parse("supplier, owner", &m), 0);
	assert_int_equal(m, (1u << GROUP_OWNER) | (1u << GROUP_SUPPLIER));
	assert_int_equal(policy_group_mask_parse("administrator,company_user,owner,supplier", &m), 0);
	assert_int_equal(m, GROUP_MASK_ALL);

	m = 77;
	assert_int_equal(policy_group_mask_parse("owner,owner", &m), -1);
	assert_int_equal(m, 77);
	assert_int_equal(policy_group_mask_parse("owner,guest", &m), -1);
	assert_int_equal(policy_group_mask_parse("guest", &m), -1);
	assert_int_equal(policy_group_mask_parse("owner,", &m), -1);
	assert_int_equal(policy_group_mask_parse(",owner", &m), -1);
	assert_int_equal(policy_group_mask_parse("owner,,supplier", &m), -1);
	assert_int_equal(policy_group_mask_parse("Owner", &m), -1);
	assert_int_equal(policy_group_mask_parse(NULL, &m), -1);
}

static void test_mask_format(void **state)
{
	char out[128];
	unsigned m;

	(void) state;
	assert_int_equal(policy_group_mask_format(0, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(policy_group_mask_format((1u << GROUP_SUPPLIER) | (1u << GROUP_ADMINISTRATOR), out, sizeof(out)), 0);
	assert_string_equal(out, "administrator,supplier");
	assert_int_equal(policy_group_mask_format(GROUP_MASK_ALL, out, sizeof(out)), 0);
	assert_string_equal(out, "administrator,company_user,owner,supplier");
	assert_int_equal(policy_group_mask_parse(out, &m), 0);
	assert_int_equal(m, GROUP_MASK_ALL);
	/* "administrator,supplier" is 22 bytes */
	assert_int_equal(policy_group_mask_format(0x9, out, 23), 0);
	assert_int_equal(policy_group_mask_format(0x9, out, 22), -1);
	assert_string_equal(out, "");
	assert_int_equal(policy_group_mask_format(1u << GROUP_COUNT, out, sizeof(out)), -1);
	assert_int_equal(policy_group_mask_format(1, NULL, 0), -1);
}

static void test_is_mandatory(void **state)
{
	unsigned owners = 1u << GROUP_OWNER;
	unsigned i;

	(void) state;
	for (i = 0; i < GROUP_COUNT; i++) {
		assert_false(policy_is_mandatory(LEVEL_LOW, GROUP_MASK_ALL, (user_group_t) i));
		assert_false(policy_is_mandatory(LEVEL_LOW, 0, (user_group_t) i));
		assert_true(policy_is_mandatory(LEVEL_HIGH, GROUP_MASK_ALL, (user_group_t) i));
		assert_false(policy_is_mandatory(LEVEL_HIGH, 0, (user_group_t) i));
		assert_int_equal(policy_is_mandatory(LEVEL_HIGH, owners, (user_group_t) i), i == GROUP_OWNER);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_active_trusted_accept),
		cmocka_unit_test(test_active_new_code),
		cmocka_unit_test(test_mandatory_past_deadline_enroll),
		cmocka_unit_test(test_deadline_equal_now_is_passed),
		cmocka_unit_test(test_mandatory_no_deadline_enroll),
		cmocka_unit_test(test_optional_trusted_reminder),
		cmocka_unit_test(test_grace_trusted_reminder),
		cmocka_unit_test(test_optional_new_email),
		cmocka_unit_test(test_grace_new_email),
		cmocka_unit_test(test_enrollment_requested),
		cmocka_unit_test(test_email_off_reminder),
		cmocka_unit_test(test_single_pass_rows),
		cmocka_unit_test(test_password_verdict),
		cmocka_unit_test(test_single_pass_split),
		cmocka_unit_test(test_grace_and_trust_arithmetic),
		cmocka_unit_test(test_trust_refusal),
		cmocka_unit_test(test_trust_counts),
		cmocka_unit_test(test_enrollment_request_honoured),
		cmocka_unit_test(test_enrollment_due_and_email_usable),
		cmocka_unit_test(test_decide_null),
		cmocka_unit_test(test_decide_no_challenge),
		cmocka_unit_test(test_approval_request_honoured),
		cmocka_unit_test(test_days_left),
		cmocka_unit_test(test_decision_names),
		cmocka_unit_test(test_groups_and_levels),
		cmocka_unit_test(test_mask_parse),
		cmocka_unit_test(test_mask_format),
		cmocka_unit_test(test_is_mandatory),
	};

	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
