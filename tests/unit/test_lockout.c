/*
 * test_lockout.c - lockout rules, one test per rule: thresholds per pair
 * and per name, which lock refuses a request (trusted exemption), the
 * pessimistic take, decay after a quiet period, doubling durations and
 * configuration checks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "lockout.h"

static void test_defaults(void **state)
{
	lockout_config_t c = LOCKOUT_DEFAULT_CONFIG;
	char const *why = "x";

	(void) state;
	assert_int_equal(c.max_failures, 5);
	assert_int_equal(c.name_max_failures, 100);
	assert_int_equal(c.reset_after_seconds, 3600);
	assert_int_equal(c.base_seconds, 60);
	assert_int_equal(c.max_seconds, 3600);
	assert_int_equal(lockout_config_check(&c, &why), 0);
	assert_null(why);
}

static void test_config_check(void **state)
{
	lockout_config_t c;
	char const *why;

	(void) state;
	c = LOCKOUT_DEFAULT_CONFIG; c.max_failures = 0;
	assert_int_equal(lockout_config_check(&c, &why), -1);
	assert_non_null(strstr(why, "max_failures"));
	c.max_failures = 101;
	assert_int_equal(lockout_config_check(&c, &why), -1);
	assert_non_null(strstr(why, "max_failures"));
	c.max_failures = 100;
	c.name_max_failures = 100;
	assert_int_equal(lockout_config_check(&c, &why), 0);
	c.max_failures = 1;
	assert_int_equal(lockout_config_check(&c, &why), 0);

	/* the name's threshold: at least the pair's, at most 100 */
	c = LOCKOUT_DEFAULT_CONFIG; c.name_max_failures = 4;
	assert_int_equal(lockout_config_check(&c, &why), -1);
	assert_non_null(strstr(why, "name_max_failures"));
	c.name_max_failures = 5;
	assert_int_equal(lockout_config_check(&c, &why), 0);
	c.name_max_failures = 101;
	assert_int_equal(lockout_config_check(&c, &why), -1);
	assert_non_null(strstr(why, "name_max_failures"));

	/* no decay is a valid choice */
	c = LOCKOUT_DEFAULT_CONFIG; c.reset_after_seconds = 0;
	assert_int_equal(lockout_config_check(&c, &why), 0);

	c = LOCKOUT_DEFAULT_CONFIG; c.base_seconds = 0;
	assert_int_equal(lockout_config_check(&c, &why), -1);
	assert_non_null(strstr(why, "base_seconds"));

	c = LOCKOUT_DEFAULT_CONFIG; c.max_seconds = 59;
	assert_int_equal(lockout_config_check(&c, &why), -1);
	assert_non_null(strstr(why, "max_seconds"));
	c.max_seconds = 60;
	assert_int_equal(lockout_config_check(&c, &why), 0);

	assert_int_equal(lockout_config_check(NULL, &why), -1);
	assert_non_null(why);
	c = LOCKOUT_DEFAULT_CONFIG;
	assert_int_equal(lockout_config_check(&c, NULL), 0);
}

static void test_should_lock(void **state)
{
	lockout_config_t c = LOCKOUT_DEFAULT_CONFIG;

	(void) state;
	/* the pair locks at max_failures */
	assert_false(lockout_should_lock(&c, LOCKOUT_PAIR, 0));
	assert_false(lockout_should_lock(&c, LOCKOUT_PAIR, 4));
	assert_true(lockout_should_lock(&c, LOCKOUT_PAIR, 5));
	assert_true(lockout_should_lock(&c, LOCKOUT_PAIR, 6));
	assert_true(lockout_should_lock(&c, LOCKOUT_PAIR, UINT32_MAX));
	/* the name alone only at name_max_failures */
	assert_false(lockout_should_lock(&c, LOCKOUT_NAME, 5));
	assert_false(lockout_should_lock(&c, LOCKOUT_NAME, 99));
	assert_true(lockout_should_lock(&c, LOCKOUT_NAME, 100));
	assert_int_equal(lockout_threshold(&c, LOCKOUT_PAIR), 5);
	assert_int_equal(lockout_threshold(&c, LOCKOUT_NAME), 100);
	c.max_failures = 1;
	assert_false(lockout_should_lock(&c, LOCKOUT_PAIR, 0));
	assert_true(lockout_should_lock(&c, LOCKOUT_PAIR, 1));
	/* an invalid configuration fails closed */
	c.max_failures = 0;
	assert_true(lockout_should_lock(&c, LOCKOUT_PAIR, 0));
	assert_true(lockout_should_lock(&c, LOCKOUT_NAME, 0));
	assert_true(lockout_should_lock(NULL, LOCKOUT_PAIR, 0));
	assert_int_equal(lockout_threshold(NULL, LOCKOUT_NAME), 0);
}

static void test_duration_doubling(void **state)
{
	lockout_config_t c = LOCKOUT_DEFAULT_CONFIG;

	(void) state;
	assert_int_equal(lockout_duration(&c, 0), 60);
	assert_int_equal(lockout_duration(&c, 1), 120);
	assert_int_equal(lockout_duration(&c, 2), 240);
	assert_int_equal(lockout_duration(&c, 3), 480);
	assert_int_equal(lockout_duration(&c, 4), 960);
	assert_int_equal(lockout_duration(&c, 5), 1920);
	assert_int_equal(lockout_duration(&c, 6), 3600);	/* 3840 capped */
	assert_int_equal(lockout_duration(&c, 7), 3600);
	assert_int_equal(lockout_duration(&c, 40), 3600);
	assert_int_equal(lockout_duration(&c, UINT32_MAX), 3600);
}

static void test_duration_cap_and_overflow(void **state)
{
	lockout_config_t c = { .max_failures = 5, .name_max_failures = 50, .base_seconds = 1, .max_seconds = UINT32_MAX };
	lockout_config_t same = { .max_failures = 5, .name_max_failures = 50, .base_seconds = 300, .max_seconds = 300 };

	(void) state;
	assert_int_equal(lockout_duration(&c, 31), 1u << 31);
	assert_int_equal(lockout_duration(&c, 32), UINT32_MAX);
	assert_int_equal(lockout_duration(&c, 1000), UINT32_MAX);
	c.base_seconds = UINT32_MAX;
	assert_int_equal(lockout_duration(&c, 0), UINT32_MAX);
	assert_int_equal(lockout_duration(&c, 5), UINT32_MAX);
	assert_int_equal(lockout_duration(&same, 0), 300);
	assert_int_equal(lockout_duration(&same, 9), 300);
	/* invalid configuration: the default maximum */
	c.base_seconds = 0;
	assert_int_equal(lockout_duration(&c, 0), 3600);
	assert_int_equal(lockout_duration(NULL, 0), 3600);
}

static void test_after_failure(void **state)
{
	lockout_config_t c = LOCKOUT_DEFAULT_CONFIG;
	int64_t until = 99;

	(void) state;
	/* below the threshold: no lock, nothing to write */
	assert_false(lockout_after_failure(&c, LOCKOUT_PAIR, 4, 0, 1000, &until));
	assert_int_equal(until, 0);
	/* the fifth failure of a pair locks it for the base duration, then doubling with earlier lockouts */
	assert_true(lockout_after_failure(&c, LOCKOUT_PAIR, 5, 0, 1000, &until));
	assert_int_equal(until, 1060);
	assert_true(lockout_after_failure(&c, LOCKOUT_PAIR, 5, 2, 1000, &until));
	assert_int_equal(until, 1240);
	assert_true(lockout_after_failure(&c, LOCKOUT_PAIR, 5, 40, 1000, &until));
	assert_int_equal(until, 4600);
	/* the name: the same growth, at its own threshold */
	assert_false(lockout_after_failure(&c, LOCKOUT_NAME, 5, 0, 1000, &until));
	assert_int_equal(until, 0);
	assert_false(lockout_after_failure(&c, LOCKOUT_NAME, 99, 0, 1000, &until));
	assert_true(lockout_after_failure(&c, LOCKOUT_NAME, 100, 1, 1000, &until));
	assert_int_equal(until, 1120);
	/* a configuration it would refuse: locks (fail closed) for the default maximum */
	c.max_failures = 0;
	assert_true(lockout_after_failure(&c, LOCKOUT_PAIR, 1, 0, 1000, &until));
	assert_int_equal(until, 4600);
	assert_true(lockout_after_failure(&c, LOCKOUT_NAME, 1, 0, 1000, &until));
}

static void test_is_locked(void **state)
{
	(void) state;
	assert_true(lockout_is_locked(1001, 1000));
	assert_false(lockout_is_locked(1000, 1000));	/* the lock ends at locked_until */
	assert_false(lockout_is_locked(0, 1000));
}

static lockout_facts_t facts(uint32_t pair_failures, int64_t pair_until, uint32_t name_failures, int64_t name_until,
			     bool exempt)
{
	lockout_facts_t f;

	memset(&f, 0, sizeof(f));
	f.pair.failures = pair_failures;
	f.pair.locked_until = pair_until;
	f.name.failures = name_failures;
	f.name.locked_until = name_until;
	f.exempt_from_name = exempt;
	f.now = 1000;
	return f;
}

/* Which lock refuses a request: its own pair's always, the name's unless exempt. */
static void test_which_lock_applies(void **state)
{
	lockout_config_t c = LOCKOUT_DEFAULT_CONFIG;
	lockout_facts_t f;

	(void) state;
	f = facts(0, 0, 0, 0, false);
	assert_int_equal(lockout_before_take(&c, &f), LOCKOUT_GO);
	/* the pair's lock refuses, exempt or not */
	f = facts(0, 1001, 0, 0, false);
	assert_int_equal(lockout_before_take(&c, &f), LOCKOUT_PAIR_LOCKED);
	f = facts(0, 1001, 0, 0, true);
	assert_int_equal(lockout_before_take(&c, &f), LOCKOUT_PAIR_LOCKED);
	/* a lock that ended refuses nothing */
	f = facts(0, 1000, 0, 1000, false);
	assert_int_equal(lockout_before_take(&c, &f), LOCKOUT_GO);
	/* the name's lock (earned from other addresses) refuses a request that is not exempt... */
	f = facts(0, 0, 0, 5000, false);
	assert_int_equal(lockout_before_take(&c, &f), LOCKOUT_NAME_LOCKED);
	/* ...but not one from a trusted address with Message-Authenticator */
	f = facts(0, 0, 0, 5000, true);
	assert_int_equal(lockout_before_take(&c, &f), LOCKOUT_GO);
	/* both locked: the pair is named */
	f = facts(0, 5000, 0, 5000, true);
	assert_int_equal(lockout_before_take(&c, &f), LOCKOUT_PAIR_LOCKED);
	assert_non_null(strstr(lockout_verdict_name(LOCKOUT_NAME_LOCKED), "locked"));
}

/* Exemption from the name's lock: trusted (and the trust counts) and signed, both. */
static void test_exempt_from_name(void **state)
{
	(void) state;
	assert_true(lockout_exempt_from_name(true, true));
	assert_false(lockout_exempt_from_name(true, false));
	assert_false(lockout_exempt_from_name(false, true));
	assert_false(lockout_exempt_from_name(false, false));
}

/* Before the take: a dimension that already has its threshold of attempts taken refuses. */
static void test_before_take_threshold(void **state)
{
	lockout_config_t c = LOCKOUT_DEFAULT_CONFIG;
	lockout_facts_t f;

	(void) state;
	f = facts(4, 0, 4, 0, false);
	assert_int_equal(lockout_before_take(&c, &f), LOCKOUT_GO);
	f = facts(5, 0, 5, 0, false);
	assert_int_equal(lockout_before_take(&c, &f), LOCKOUT_PAIR_FULL);
	f = facts(5, 0, 5, 0, true);
	assert_int_equal(lockout_before_take(&c, &f), LOCKOUT_PAIR_FULL);
	f = facts(0, 0, 99, 0, false);
	assert_int_equal(lockout_before_take(&c, &f), LOCKOUT_GO);
	f = facts(0, 0, 100, 0, false);
	assert_int_equal(lockout_before_take(&c, &f), LOCKOUT_NAME_FULL);
	f = facts(0, 0, 100, 0, true);
	assert_int_equal(lockout_before_take(&c, &f), LOCKOUT_GO);
	/* an invalid configuration refuses everything */
	c.max_failures = 0;
	f = facts(0, 0, 0, 0, true);
	assert_int_equal(lockout_before_take(&c, &f), LOCKOUT_PAIR_FULL);
}

/*
 * After the take (this attempt counted): the attempts up to the threshold
 * run their check, the ones beyond are refused; so N parallel takes run at
 * most threshold checks.
 */
static void test_after_take_threshold(void **state)
{
	lockout_config_t c = LOCKOUT_DEFAULT_CONFIG;
	lockout_facts_t f;
	uint32_t k, ran = 0;

	(void) state;
	f = facts(5, 0, 5, 0, false);
	assert_int_equal(lockout_after_take(&c, &f), LOCKOUT_GO);
	f = facts(6, 0, 6, 0, false);
	assert_int_equal(lockout_after_take(&c, &f), LOCKOUT_PAIR_FULL);
	f = facts(1, 0, 100, 0, false);
	assert_int_equal(lockout_after_take(&c, &f), LOCKOUT_GO);
	f = facts(1, 0, 101, 0, false);
	assert_int_equal(lockout_after_take(&c, &f), LOCKOUT_NAME_FULL);
	f = facts(1, 0, 101, 0, true);
	assert_int_equal(lockout_after_take(&c, &f), LOCKOUT_GO);
	f = facts(1, 1001, 1, 0, true);
	assert_int_equal(lockout_after_take(&c, &f), LOCKOUT_PAIR_LOCKED);
	/* 50 takes in a row, each reading the count after its own increment: 5 pass */
	for (k = 1; k <= 50; k++) {
		f = facts(k, 0, k, 0, false);
		if (lockout_after_take(&c, &f) == LOCKOUT_GO) ran++;
	}
	assert_int_equal(ran, 5);
	/* an invalid configuration refuses everything */
	c.name_max_failures = 0;
	f = facts(1, 0, 1, 0, true);
	assert_int_equal(lockout_after_take(&c, &f), LOCKOUT_PAIR_FULL);
}

/* Decay: a record quiet for reset_after seconds after its last failure and its lock counts as empty. */
static void test_decay(void **state)
{
	lockout_config_t c = LOCKOUT_DEFAULT_CONFIG;
	lockout_record_t r = { .failures = 3, .lockouts = 4, .locked_until = 0, .last_failure_at = 1000 };
	lockout_record_t e;

	(void) state;
	assert_false(lockout_decayed(&c, &r, 1000));
	assert_false(lockout_decayed(&c, &r, 4599));
	assert_true(lockout_decayed(&c, &r, 4600));
	e = lockout_effective(&c, &r, 4600);
	assert_int_equal(e.failures, 0);
	assert_int_equal(e.lockouts, 0);
	assert_int_equal(e.locked_until, 0);
	e = lockout_effective(&c, &r, 4599);
	assert_int_equal(e.failures, 3);
	assert_int_equal(e.lockouts, 4);
	/* the quiet period starts when the lock ends, not at the failure that started it */
	r.locked_until = 3000;
	assert_false(lockout_decayed(&c, &r, 4600));
	assert_false(lockout_decayed(&c, &r, 6599));
	assert_true(lockout_decayed(&c, &r, 6600));
	/* a clock that went back does not decay anything */
	assert_false(lockout_decayed(&c, &r, 10));
	/* reset_after = 0: never */
	c.reset_after_seconds = 0;
	assert_false(lockout_decayed(&c, &r, INT64_MAX));
	/* an empty record has nothing to forget */
	c = LOCKOUT_DEFAULT_CONFIG;
	memset(&r, 0, sizeof(r));
	assert_false(lockout_decayed(&c, &r, 100000));
	/* an invalid configuration forgets nothing */
	r.failures = 1;
	c.base_seconds = 0;
	assert_false(lockout_decayed(&c, &r, 100000));
}

/* A success clears the name's record unless a lock of the name runs. */
static void test_success_clears_name(void **state)
{
	lockout_record_t r = { .failures = 40, .lockouts = 1, .locked_until = 0, .last_failure_at = 900 };

	(void) state;
	assert_true(lockout_success_clears_name(&r, 1000));
	r.locked_until = 1000;
	assert_true(lockout_success_clears_name(&r, 1000));
	r.locked_until = 1001;
	assert_false(lockout_success_clears_name(&r, 1000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_config_check),
		cmocka_unit_test(test_should_lock),
		cmocka_unit_test(test_duration_doubling),
		cmocka_unit_test(test_duration_cap_and_overflow),
		cmocka_unit_test(test_after_failure),
		cmocka_unit_test(test_is_locked),
		cmocka_unit_test(test_which_lock_applies),
		cmocka_unit_test(test_exempt_from_name),
		cmocka_unit_test(test_before_take_threshold),
		cmocka_unit_test(test_after_take_threshold),
		cmocka_unit_test(test_decay),
		cmocka_unit_test(test_success_clears_name),
	};

	return cmocka_run_group_tests_name("lockout", tests, NULL, NULL);
}
