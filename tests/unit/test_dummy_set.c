/*
 * test_dummy_set.c - the choice of the dummy hash an unknown login name is
 * checked against (core/dummy_set.c): the same name always gets the same
 * dummy, names spread over the dummies as the users' weights say, another
 * key chooses differently, and bad input is refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "dummy_set.h"

static uint8_t const KEY_A[DUMMY_SET_KEY_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8 };
static uint8_t const KEY_B[DUMMY_SET_KEY_LEN] = { 8, 7, 6, 5, 4, 3, 2, 1 };

static void name_of(unsigned i, char *out, size_t len)
{
	snprintf(out, len, "ghost%u@example.com", i);
}

static void test_empty_and_single(void **state)
{
	dummy_set_t set;

	(void) state;
	dummy_set_init(&set, KEY_A);
	assert_null(dummy_set_pick(&set, (uint8_t const *)"alice", 5));
	assert_int_equal(dummy_set_add(&set, "$6$abc$def", 3), 0);
	assert_string_equal(dummy_set_pick(&set, (uint8_t const *)"alice", 5), "$6$abc$def");
	assert_string_equal(dummy_set_pick(&set, NULL, 0), "$6$abc$def");
	assert_null(dummy_set_pick(NULL, (uint8_t const *)"alice", 5));
}

static void test_refuses(void **state)
{
	dummy_set_t set;
	char huge[PASSWORD_HASH_MAX + 2];
	int i;

	(void) state;
	dummy_set_init(&set, KEY_A);
	assert_int_equal(dummy_set_add(&set, "$6$abc$def", 0), -1);	/* a profile nobody has */
	assert_int_equal(dummy_set_add(&set, "", 1), -1);
	assert_int_equal(dummy_set_add(&set, NULL, 1), -1);
	memset(huge, 'a', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	assert_int_equal(dummy_set_add(&set, huge, 1), -1);
	for (i = 0; i < DUMMY_SET_MAX; i++) assert_int_equal(dummy_set_add(&set, "$6$abc$def", 1), 0);
	assert_int_equal(dummy_set_add(&set, "$6$abc$def", 1), -1);	/* full */
	dummy_set_init(&set, KEY_A);
	assert_int_equal(dummy_set_add(&set, "$6$a$b", UINT64_MAX), 0);
	assert_int_equal(dummy_set_add(&set, "$6$a$c", 1), -1);	/* the total would wrap */
}

/* 20,000 names over weights 6:3:1: the shares within 2 points of 60/30/10 %; each name always the same. */
static void test_spread_and_stable(void **state)
{
	static char const *const HASH[] = { "$6$one$x", "$2y$10$two", "$argon2id$three" };
	unsigned counts[3] = { 0, 0, 0 };
	dummy_set_t set;
	char name[64];
	unsigned i, j;

	(void) state;
	dummy_set_init(&set, KEY_A);
	assert_int_equal(dummy_set_add(&set, HASH[0], 600), 0);
	assert_int_equal(dummy_set_add(&set, HASH[1], 300), 0);
	assert_int_equal(dummy_set_add(&set, HASH[2], 100), 0);
	for (i = 0; i < 20000; i++) {
		char const *pick;

		name_of(i, name, sizeof(name));
		pick = dummy_set_pick(&set, (uint8_t const *)name, strlen(name));
		assert_non_null(pick);
		assert_ptr_equal(pick, dummy_set_pick(&set, (uint8_t const *)name, strlen(name)));
		for (j = 0; j < 3; j++) {
			if (strcmp(pick, HASH[j]) == 0) counts[j]++;
		}
	}
	assert_int_equal(counts[0] + counts[1] + counts[2], 20000);
	assert_in_range(counts[0], 11600, 12400);
	assert_in_range(counts[1], 5600, 6400);
	assert_in_range(counts[2], 1600, 2400);
}

/* Another key: about half of the names change their dummy (two equal weights). */
static void test_key_matters(void **state)
{
	dummy_set_t a, b;
	char name[64];
	unsigned i, differ = 0;

	(void) state;
	dummy_set_init(&a, KEY_A);
	dummy_set_init(&b, KEY_B);
	assert_int_equal(dummy_set_add(&a, "$6$one$x", 1), 0);
	assert_int_equal(dummy_set_add(&a, "$6$two$x", 1), 0);
	assert_int_equal(dummy_set_add(&b, "$6$one$x", 1), 0);
	assert_int_equal(dummy_set_add(&b, "$6$two$x", 1), 0);
	for (i = 0; i < 2000; i++) {
		name_of(i, name, sizeof(name));
		if (strcmp(dummy_set_pick(&a, (uint8_t const *)name, strlen(name)),
			   dummy_set_pick(&b, (uint8_t const *)name, strlen(name))) != 0) differ++;
	}
	assert_in_range(differ, 850, 1150);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_and_single),
		cmocka_unit_test(test_refuses),
		cmocka_unit_test(test_spread_and_stable),
		cmocka_unit_test(test_key_matters),
	};

	return cmocka_run_group_tests_name("dummy_set", tests, NULL, NULL);
}
