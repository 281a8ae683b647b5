/*
 * test_retention.c - the cut-off rule of retention.h: each class's cut-off
 * from now and the settings, the classes a zero setting keeps forever, an
 * invalid configuration deleting nothing, no overflow at the clock's ends,
 * and login_failures expiring exactly when lockout_decayed says a record
 * has decayed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "lockout.h"
#include "retention.h"

#define NOW ((int64_t)1800000000)

static void test_defaults(void **state)
{
	retention_config_t cfg = { .audit_days = 365, .lockout_reset_after = 3600 };
	retention_cutoffs_t c;

	(void) state;
	assert_int_equal(retention_cutoffs(&cfg, NOW, &c), 0);
	for (int i = 0; i < RETENTION_CLASSES; i++) assert_true(c.enabled[i]);
	assert_int_equal(c.before[RETENTION_CHALLENGES], NOW - 3600);
	assert_int_equal(c.before[RETENTION_EMAIL_CONFIRMATIONS], NOW - 3600);
	assert_int_equal(c.before[RETENTION_EMAIL_SENDS], NOW - 86400);
	assert_int_equal(c.before[RETENTION_TRUSTED_ADDRESSES], NOW - 3600);
	assert_int_equal(c.before[RETENTION_PENDING_SECRETS], NOW - 900 - 3600);
	assert_int_equal(c.before[RETENTION_LOGIN_FAILURES], NOW - 3600 + 1);
	assert_int_equal(c.before[RETENTION_AUDIT_LOG], NOW - 365 * (int64_t)86400);
}

static void test_audit_days(void **state)
{
	retention_config_t cfg = { .audit_days = 30, .lockout_reset_after = 3600 };
	retention_cutoffs_t c;

	(void) state;
	assert_int_equal(retention_cutoffs(&cfg, NOW, &c), 0);
	assert_int_equal(c.before[RETENTION_AUDIT_LOG], NOW - 30 * 86400);
	cfg.audit_days = RETENTION_AUDIT_DAYS_MAX;
	assert_int_equal(retention_cutoffs(&cfg, NOW, &c), 0);
	assert_int_equal(c.before[RETENTION_AUDIT_LOG], NOW - (int64_t)RETENTION_AUDIT_DAYS_MAX * 86400);
}

/* 0 keeps the class forever; the other classes are unaffected. */
static void test_zero_keeps_forever(void **state)
{
	retention_config_t cfg = { .audit_days = 0, .lockout_reset_after = 0 };
	retention_cutoffs_t c;

	(void) state;
	assert_int_equal(retention_cutoffs(&cfg, NOW, &c), 0);
	assert_false(c.enabled[RETENTION_AUDIT_LOG]);
	assert_false(c.enabled[RETENTION_LOGIN_FAILURES]);
	assert_false(retention_failure_expired(&c, 0, 0));
	assert_true(c.enabled[RETENTION_CHALLENGES]);
	assert_true(c.enabled[RETENTION_TRUSTED_ADDRESSES]);
	assert_int_equal(c.before[RETENTION_CHALLENGES], NOW - 3600);
}

static void test_invalid_deletes_nothing(void **state)
{
	retention_config_t cfg = { .audit_days = RETENTION_AUDIT_DAYS_MAX + 1, .lockout_reset_after = 3600 };
	retention_cutoffs_t c;
	char const *why = NULL;

	(void) state;
	assert_int_equal(retention_config_check(&cfg, &why), -1);
	assert_non_null(why);
	assert_non_null(strstr(why, "audit_days"));
	assert_int_equal(retention_cutoffs(&cfg, NOW, &c), -1);
	for (int i = 0; i < RETENTION_CLASSES; i++) {
		assert_false(c.enabled[i]);
		assert_true(c.before[i] == INT64_MIN);
	}
	assert_int_equal(retention_config_check(NULL, &why), -1);
	assert_int_equal(retention_cutoffs(NULL, NOW, &c), -1);
}

/* At the bottom of the clock the cut-offs clamp instead of wrapping round to the future. */
static void test_no_overflow(void **state)
{
	retention_config_t cfg = { .audit_days = RETENTION_AUDIT_DAYS_MAX, .lockout_reset_after = UINT32_MAX };
	retention_cutoffs_t c;

	(void) state;
	assert_int_equal(retention_cutoffs(&cfg, INT64_MIN + 5, &c), 0);
	for (int i = 0; i < RETENTION_CLASSES; i++) assert_true(c.before[i] == INT64_MIN);
	assert_int_equal(retention_cutoffs(&cfg, INT64_MAX, &c), 0);
	for (int i = 0; i < RETENTION_CLASSES; i++) assert_true(c.before[i] < INT64_MAX && c.before[i] > 0);
	assert_int_equal(retention_cutoffs(&cfg, 0, &c), 0);
	assert_true(c.before[RETENTION_LOGIN_FAILURES] == -(int64_t)UINT32_MAX + 1);
}

/*
 * A failure record is pruned exactly when lockout_decayed says it decayed
 * (every non-empty record around the boundary, locked or not).
 */
static void test_failures_agree_with_decay(void **state)
{
	uint32_t const resets[] = { 1, 2, 60, 3600 };
	lockout_config_t lc = LOCKOUT_DEFAULT_CONFIG;

	(void) state;
	for (size_t r = 0; r < sizeof(resets) / sizeof(resets[0]); r++) {
		retention_config_t cfg = { .audit_days = 365, .lockout_reset_after = resets[r] };
		retention_cutoffs_t c;

		lc.reset_after_seconds = resets[r];
		assert_int_equal(retention_cutoffs(&cfg, NOW, &c), 0);
		for (int64_t du = -3; du <= (int64_t)resets[r] + 3; du++) {
			for (int64_t dl = -3; dl <= (int64_t)resets[r] + 3; dl++) {
				lockout_record_t rec = { .failures = 1, .lockouts = 1 };

				rec.last_failure_at = NOW - du;
				rec.locked_until = NOW - dl;
				assert_int_equal(retention_failure_expired(&c, rec.last_failure_at, rec.locked_until),
						 lockout_decayed(&lc, &rec, NOW));
			}
		}
		/* a lock still running is never pruned, however old the last failure */
		assert_false(retention_failure_expired(&c, NOW - 100000, NOW + 10));
		/* an unlocked record (locked_until 0) quiet long enough is */
		assert_true(retention_failure_expired(&c, NOW - (int64_t)resets[r], 0));
		assert_false(retention_failure_expired(&c, NOW - (int64_t)resets[r] + 1, 0));
	}
}

static void test_names(void **state)
{
	(void) state;
	assert_string_equal(retention_class_name(RETENTION_CHALLENGES), "challenges");
	assert_string_equal(retention_class_name(RETENTION_EMAIL_CONFIRMATIONS), "email_confirmations");
	assert_string_equal(retention_class_name(RETENTION_EMAIL_SENDS), "email_sends");
	assert_string_equal(retention_class_name(RETENTION_LOGIN_FAILURES), "login_failures");
	assert_string_equal(retention_class_name(RETENTION_TRUSTED_ADDRESSES), "trusted_addresses");
	assert_string_equal(retention_class_name(RETENTION_PENDING_SECRETS), "pending_secrets");
	assert_string_equal(retention_class_name(RETENTION_DEVICE_APPROVALS), "device_approvals");
	/* radiusd prunes every class but the audit log (its account may only add audit rows) */
	for (int i = 0; i < RETENTION_CLASSES; i++) {
		assert_true(retention_pruned_by_module((retention_class_t)i) == (i != RETENTION_AUDIT_LOG));
	}
	assert_false(retention_pruned_by_module(RETENTION_CLASSES));
	assert_string_equal(retention_class_name(RETENTION_AUDIT_LOG), "audit_log");
	assert_string_equal(retention_class_name(RETENTION_CLASSES), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_audit_days),
		cmocka_unit_test(test_zero_keeps_forever),
		cmocka_unit_test(test_invalid_deletes_nothing),
		cmocka_unit_test(test_no_overflow),
		cmocka_unit_test(test_failures_agree_with_decay),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
