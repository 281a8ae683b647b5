/*
 * round2.c - the rules of round 2 (see round2.h and doc/design.md,
 * "Round 2").  Pure functions over plain facts: no I/O, no clock, no
 * globals; every unknown value fails closed.
 */
#include <stddef.h>
#include <string.h>

#include "round2.h"

static char const *const KIND_NAMES[CHALLENGE_KIND_COUNT] = {
	[CHALLENGE_CODE]	= "code",
	[CHALLENGE_ENROLL]	= "enroll",
	[CHALLENGE_EMAIL]	= "email",
};

char const *challenge_kind_name(challenge_kind_t kind)
{
	if ((unsigned)kind >= CHALLENGE_KIND_COUNT) return "unknown";
	return KIND_NAMES[kind];
}

int challenge_kind_parse(char const *name, challenge_kind_t *kind)
{
	unsigned i;

	if (!name || !kind) return -1;
	for (i = 0; i < CHALLENGE_KIND_COUNT; i++) {
		if (strcmp(name, KIND_NAMES[i]) == 0) {
			*kind = (challenge_kind_t)i;
			return 0;
		}
	}
	return -1;
}

login_round_t round2_round_of(bool has_state, bool state_recognised)
{
	return (has_state && state_recognised) ? ROUND_TWO : ROUND_ONE;
}

round2_gate_t round2_gate(round2_gate_facts_t const *facts)
{
	if (!facts || !facts->state_well_formed) return ROUND2_STOP_MALFORMED;
	if (!facts->attempt_taken) return ROUND2_STOP_NO_CHALLENGE;
	if (!facts->bound_here) return ROUND2_STOP_NOT_BOUND;
	if (facts->user_disabled) return ROUND2_STOP_DISABLED;
	if (facts->locked) return ROUND2_STOP_LOCKED;
	return ROUND2_GO;
}

char const *round2_gate_name(round2_gate_t gate)
{
	switch (gate) {
	case ROUND2_GO:			return "go";
	case ROUND2_STOP_MALFORMED:	return "malformed State";
	case ROUND2_STOP_NO_CHALLENGE:	return "unknown, expired, spent or exhausted State";
	case ROUND2_STOP_NOT_BOUND:	return "State belongs to another user, NAS or address";
	case ROUND2_STOP_DISABLED:	return "user disabled since round 1";
	case ROUND2_STOP_LOCKED:	return "locked out";
	}
	return "unknown";
}

char const *step_outcome_name(step_outcome_t outcome)
{
	switch (outcome) {
	case STEP_PASSED:	return "passed";
	case STEP_WRONG:	return "wrong";
	case STEP_UNDECRYPTABLE:	return "undecryptable";
	case STEP_ERROR:	return "error";
	}
	return "unknown";
}

char const *round2_answer_name(round2_answer_t answer)
{
	switch (answer) {
	case ROUND2_ACCEPT:		return "accept";
	case ROUND2_ACCEPT_WITHOUT_2FA:	return "accept-without-2fa";
	case ROUND2_ENROLL_NEXT:	return "enroll-next";
	case ROUND2_ASK_AGAIN:		return "ask-again";
	case ROUND2_REJECT_STATE:	return "reject-state";
	case ROUND2_REJECT_LOCKED:	return "reject-locked";
	case ROUND2_REJECT_EXHAUSTED:	return "reject-exhausted";
	case ROUND2_FAIL:		return "fail";
	}
	return "unknown";
}

bool round2_counts_as_failure(step_outcome_t outcome)
{
	return outcome == STEP_WRONG;
}

round2_answer_t round2_answer(round2_facts_t const *facts)
{
	if (!facts || (unsigned)facts->kind >= CHALLENGE_KIND_COUNT) return ROUND2_FAIL;

	switch (facts->outcome) {
	case STEP_PASSED:
		if (!facts->spent) return ROUND2_REJECT_STATE;
		if (facts->kind != CHALLENGE_EMAIL) return ROUND2_ACCEPT;
		return facts->enrollment_due ? ROUND2_ENROLL_NEXT : ROUND2_ACCEPT_WITHOUT_2FA;

	case STEP_WRONG:
		if (facts->lock_started) return ROUND2_REJECT_LOCKED;
		if (facts->attempts_left == 0) return ROUND2_REJECT_EXHAUSTED;
		return ROUND2_ASK_AGAIN;

	case STEP_UNDECRYPTABLE:
	case STEP_ERROR:
		break;
	}
	return ROUND2_FAIL;
}
