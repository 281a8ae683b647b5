/*
 * test_round2.c - the rules of round 2 (doc/design.md, "Round 2"): the
 * gate before an answer is checked, row by row and in order, and the answer
 * after it, for every kind of challenge and every outcome.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "round2.h"

static round2_gate_facts_t all_clear(void)
{
	round2_gate_facts_t g;

	memset(&g, 0, sizeof(g));
	g.state_well_formed = true;
	g.attempt_taken = true;
	g.bound_here = true;
	return g;
}

/* A State of another form (an EAP session's) is round 1; the module's form is round 2. */
static void test_round_of(void **state)
{
	(void) state;
	assert_int_equal(round2_round_of(false, false), ROUND_ONE);
	assert_int_equal(round2_round_of(true, false), ROUND_ONE);	/* foreign State: not an error */
	assert_int_equal(round2_round_of(true, true), ROUND_TWO);	/* ours (known or forged: the gate decides) */
	assert_int_equal(round2_round_of(false, true), ROUND_ONE);
}

static void test_gate_rows(void **state)
{
	round2_gate_facts_t g = all_clear();

	(void) state;
	assert_int_equal(round2_gate(&g), ROUND2_GO);
	g.locked = true;
	assert_int_equal(round2_gate(&g), ROUND2_STOP_LOCKED);
	g.user_disabled = true;
	assert_int_equal(round2_gate(&g), ROUND2_STOP_DISABLED);	/* disabled before locked */
	g.bound_here = false;
	assert_int_equal(round2_gate(&g), ROUND2_STOP_NOT_BOUND);
	g.attempt_taken = false;
	assert_int_equal(round2_gate(&g), ROUND2_STOP_NO_CHALLENGE);
	g.state_well_formed = false;
	assert_int_equal(round2_gate(&g), ROUND2_STOP_MALFORMED);
	assert_int_equal(round2_gate(NULL), ROUND2_STOP_MALFORMED);
}

static void test_gate_each_alone(void **state)
{
	round2_gate_facts_t g;

	(void) state;
	g = all_clear(); g.state_well_formed = false;
	assert_int_equal(round2_gate(&g), ROUND2_STOP_MALFORMED);
	g = all_clear(); g.attempt_taken = false;
	assert_int_equal(round2_gate(&g), ROUND2_STOP_NO_CHALLENGE);
	g = all_clear(); g.bound_here = false;
	assert_int_equal(round2_gate(&g), ROUND2_STOP_NOT_BOUND);
	g = all_clear(); g.user_disabled = true;
	assert_int_equal(round2_gate(&g), ROUND2_STOP_DISABLED);
	assert_string_equal(round2_gate_name(ROUND2_STOP_NOT_BOUND), "State belongs to another user, NAS or address");
	assert_string_equal(round2_gate_name((round2_gate_t) 99), "unknown");
}

static round2_answer_t answer_of(challenge_kind_t kind, step_outcome_t outcome, bool spent, bool lock_started,
				 uint32_t attempts_left)
{
	round2_facts_t f;

	memset(&f, 0, sizeof(f));
	f.kind = kind;
	f.outcome = outcome;
	f.spent = spent;
	f.lock_started = lock_started;
	f.attempts_left = attempts_left;
	return round2_answer(&f);
}

static void test_passed(void **state)
{
	(void) state;
	assert_int_equal(answer_of(CHALLENGE_CODE, STEP_PASSED, true, false, 2), ROUND2_ACCEPT);
	assert_int_equal(answer_of(CHALLENGE_ENROLL, STEP_PASSED, true, false, 0), ROUND2_ACCEPT);
	assert_int_equal(answer_of(CHALLENGE_EMAIL, STEP_PASSED, true, false, 2), ROUND2_ACCEPT_WITHOUT_2FA);
	{
		/* past the grace deadline: the emailed code leads to enrollment, never to an Accept without 2FA */
		round2_facts_t f;

		memset(&f, 0, sizeof(f));
		f.kind = CHALLENGE_EMAIL;
		f.outcome = STEP_PASSED;
		f.spent = true;
		f.enrollment_due = true;
		assert_int_equal(round2_answer(&f), ROUND2_ENROLL_NEXT);
		f.kind = CHALLENGE_CODE;
		assert_int_equal(round2_answer(&f), ROUND2_ACCEPT);
		f.kind = CHALLENGE_EMAIL;
		f.spent = false;
		assert_int_equal(round2_answer(&f), ROUND2_REJECT_STATE);
	}
	/* a concurrent request spent the State first: one Accept per State */
	assert_int_equal(answer_of(CHALLENGE_CODE, STEP_PASSED, false, false, 2), ROUND2_REJECT_STATE);
	assert_int_equal(answer_of(CHALLENGE_EMAIL, STEP_PASSED, false, false, 2), ROUND2_REJECT_STATE);
}

static void test_wrong(void **state)
{
	challenge_kind_t k;

	(void) state;
	for (k = CHALLENGE_CODE; k < CHALLENGE_KIND_COUNT; k++) {
		assert_int_equal(answer_of(k, STEP_WRONG, false, false, 2), ROUND2_ASK_AGAIN);
		assert_int_equal(answer_of(k, STEP_WRONG, false, false, 1), ROUND2_ASK_AGAIN);
		assert_int_equal(answer_of(k, STEP_WRONG, false, false, 0), ROUND2_REJECT_EXHAUSTED);
		/* the lock wins over attempts left */
		assert_int_equal(answer_of(k, STEP_WRONG, false, true, 2), ROUND2_REJECT_LOCKED);
		assert_int_equal(answer_of(k, STEP_WRONG, false, true, 0), ROUND2_REJECT_LOCKED);
	}
}

static void test_failures_fail_closed(void **state)
{
	challenge_kind_t k;

	(void) state;
	for (k = CHALLENGE_CODE; k < CHALLENGE_KIND_COUNT; k++) {
		assert_int_equal(answer_of(k, STEP_ERROR, true, false, 2), ROUND2_FAIL);
		assert_int_equal(answer_of(k, STEP_UNDECRYPTABLE, true, false, 2), ROUND2_FAIL);
	}
	assert_int_equal(answer_of(CHALLENGE_KIND_COUNT, STEP_PASSED, true, false, 2), ROUND2_FAIL);
	assert_int_equal(answer_of(CHALLENGE_CODE, (step_outcome_t) 99, true, false, 2), ROUND2_FAIL);
	assert_int_equal(round2_answer(NULL), ROUND2_FAIL);
}

static void test_counts_as_failure(void **state)
{
	(void) state;
	assert_true(round2_counts_as_failure(STEP_WRONG));
	assert_false(round2_counts_as_failure(STEP_PASSED));
	assert_false(round2_counts_as_failure(STEP_ERROR));		/* our fault, not the user's */
	assert_false(round2_counts_as_failure(STEP_UNDECRYPTABLE));
}

static void test_kind_names(void **state)
{
	challenge_kind_t k;
	unsigned i;

	(void) state;
	for (i = 0; i < CHALLENGE_KIND_COUNT; i++) {
		assert_int_equal(challenge_kind_parse(challenge_kind_name((challenge_kind_t) i), &k), 0);
		assert_int_equal(k, i);
	}
	assert_string_equal(challenge_kind_name(CHALLENGE_ENROLL), "enroll");
	assert_string_equal(challenge_kind_name(CHALLENGE_KIND_COUNT), "unknown");
	assert_int_equal(challenge_kind_parse("unknown", &k), -1);
	assert_int_equal(challenge_kind_parse("Code", &k), -1);
	assert_int_equal(challenge_kind_parse("", &k), -1);
	assert_int_equal(challenge_kind_parse(NULL, &k), -1);
	assert_string_equal(step_outcome_name(STEP_UNDECRYPTABLE), "undecryptable");
	assert_string_equal(round2_answer_name(ROUND2_ASK_AGAIN), "ask-again");
	assert_string_equal(round2_answer_name((round2_answer_t) 99), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gate_rows),
		cmocka_unit_test(test_gate_each_alone),
		cmocka_unit_test(test_passed),
		cmocka_unit_test(test_wrong),
		cmocka_unit_test(test_failures_fail_closed),
		cmocka_unit_test(test_counts_as_failure),
		cmocka_unit_test(test_kind_names),
		cmocka_unit_test(test_round_of),
	};

	return cmocka_run_group_tests_name("round2", tests, NULL, NULL);
}
