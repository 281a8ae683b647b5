/*
 * test_policy.c - every row of the DESIGN section 4 decision table, the
 * grace arithmetic, and group/level names and masks.
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
	f.address_trusted = false;
	assert_int_equal(policy_decide(&f, &left), DECISION_CHALLENGE_ENROLL);
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
	f.address_trusted = false;
	assert_int_equal(policy_decide(&f, &left), DECISION_CHALLENGE_ENROLL);
	f.mandatory = true; f.has_deadline = true; f.grace_deadline = NOW + DAY;
	assert_int_equal(policy_decide(&f, &left), DECISION_CHALLENGE_ENROLL);
}

static void test_decide_null(void **state)
{
	login_facts_t f = facts(false, false, false);
	int64_t left = 99;

	(void) state;
	assert_int_equal(policy_decide(NULL, &left), DECISION_CHALLENGE_ENROLL);
	assert_int_equal(left, 0);
	assert_int_equal(policy_decide(&f, NULL), DECISION_EMAIL_CONFIRM);
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
		cmocka_unit_test(test_decide_null),
		cmocka_unit_test(test_days_left),
		cmocka_unit_test(test_decision_names),
		cmocka_unit_test(test_groups_and_levels),
		cmocka_unit_test(test_mask_parse),
		cmocka_unit_test(test_mask_format),
		cmocka_unit_test(test_is_mandatory),
	};

	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
