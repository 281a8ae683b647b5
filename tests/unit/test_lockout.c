/*
 * test_lockout.c - lockout thresholds, doubling durations and config checks.
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
	assert_int_equal(lockout_config_check(&c, &why), 0);
	c.max_failures = 1;
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
	assert_false(lockout_should_lock(&c, 0));
	assert_false(lockout_should_lock(&c, 4));
	assert_true(lockout_should_lock(&c, 5));
	assert_true(lockout_should_lock(&c, 6));
	assert_true(lockout_should_lock(&c, UINT32_MAX));
	c.max_failures = 1;
	assert_false(lockout_should_lock(&c, 0));
	assert_true(lockout_should_lock(&c, 1));
	/* an invalid configuration fails closed */
	c.max_failures = 0;
	assert_true(lockout_should_lock(&c, 0));
	assert_true(lockout_should_lock(NULL, 0));
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
	lockout_config_t c = { .max_failures = 5, .base_seconds = 1, .max_seconds = UINT32_MAX };
	lockout_config_t same = { .max_failures = 5, .base_seconds = 300, .max_seconds = 300 };

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
	assert_false(lockout_after_failure(&c, 4, 0, 1000, &until));
	assert_int_equal(until, 0);
	/* the fifth failure locks for the base duration, then doubling with earlier lockouts */
	assert_true(lockout_after_failure(&c, 5, 0, 1000, &until));
	assert_int_equal(until, 1060);
	assert_true(lockout_after_failure(&c, 5, 2, 1000, &until));
	assert_int_equal(until, 1240);
	assert_true(lockout_after_failure(&c, 5, 40, 1000, &until));
	assert_int_equal(until, 4600);
	/* a configuration it would refuse: locks (fail closed) for the default maximum */
	c.max_failures = 0;
	assert_true(lockout_after_failure(&c, 1, 0, 1000, &until));
	assert_int_equal(until, 4600);
}

static void test_is_locked(void **state)
{
	(void) state;
	assert_true(lockout_is_locked(1001, 1000));
	assert_false(lockout_is_locked(1000, 1000));	/* the lock ends at locked_until */
	assert_false(lockout_is_locked(0, 1000));
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
	};

	return cmocka_run_group_tests_name("lockout", tests, NULL, NULL);
}
