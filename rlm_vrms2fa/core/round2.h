/*
 * round2.h - the rules of round 2: the answer to a challenge (the
 * module's State back, with what the user typed in User-Password).
 *
 * A challenge is one of three kinds: a code from the authenticator app
 * (or a recovery code), the first code of a new secret (enrollment), or a
 * code sent by email (users without two-step verification).  Checking the
 * answer needs the database and the keys, and is done by the login flow
 * (rlm_vrms2fa/flow.c, one row of its table per kind); what round 2 then
 * answers is decided here, from plain facts, without I/O:
 *
 *   round2_gate()    may the answer be checked at all (State, user, lock)?
 *   round2_answer()  what follows from the check (accept, ask again, reject)?
 *
 * doc/design.md ("Round 2") has the table these functions implement.
 */
#ifndef VRMS2FA_ROUND2_H
#define VRMS2FA_ROUND2_H

#include <stdbool.h>
#include <stdint.h>

typedef enum {
	CHALLENGE_CODE = 0,	/* 2FA active, new address: a TOTP code or a recovery code */
	CHALLENGE_ENROLL,	/* the first code of a pending secret activates it */
	CHALLENGE_EMAIL,	/* no 2FA, new address: the code sent by email */
	CHALLENGE_KIND_COUNT
} challenge_kind_t;

/* "code", "enroll", "email" (as stored in challenges.kind); "unknown" for anything else. */
char const *challenge_kind_name(challenge_kind_t kind);
/* 0 ok, -1 for a name that is not one of the above. */
int challenge_kind_parse(char const *name, challenge_kind_t *kind);

/*
 * Which round a request is: round 2 only when it carries a State of this
 * module's form (challenge_token_recognised).  A State of any other form
 * is not an error: it is someone else's (the EAP session's State in an
 * inner tunnel, a proxy's) and the request is a round 1, which asks for
 * the password again.  A State of the module's form that the module never
 * issued, or that expired, stays a round 2 and is refused by the gate
 * (ROUND2_STOP_NO_CHALLENGE): a forged State gains nothing either way.
 */
typedef enum {
	ROUND_ONE = 1,
	ROUND_TWO = 2
} login_round_t;

login_round_t round2_round_of(bool has_state, bool state_recognised);

/* The facts known before the answer is checked. */
typedef struct {
	bool	state_well_formed;	/* the State has this module's format */
	bool	attempt_taken;		/* one attempt of a live challenge (unexpired, unspent, attempts left) was taken */
	bool	bound_here;		/* the challenge belongs to this user, this NAS and this address */
	bool	user_disabled;
	bool	locked;			/* the login name is locked out now */
} round2_gate_facts_t;

typedef enum {
	ROUND2_GO = 0,			/* check the answer */
	ROUND2_STOP_MALFORMED,		/* reject (State invalid): not this module's format */
	ROUND2_STOP_NO_CHALLENGE,	/* reject (State invalid): unknown, expired, spent or out of attempts */
	ROUND2_STOP_NOT_BOUND,		/* reject (State invalid): another user's, NAS's or address's challenge */
	ROUND2_STOP_DISABLED,		/* reject (State invalid): the user was disabled since round 1 */
	ROUND2_STOP_LOCKED		/* reject (too many attempts): the login name is locked out */
} round2_gate_t;

/*
 * The first row that matches, in the order of round2_gate_t; ROUND2_GO when
 * none does.  NULL facts: ROUND2_STOP_MALFORMED (fail closed).
 */
round2_gate_t round2_gate(round2_gate_facts_t const *facts);
char const *round2_gate_name(round2_gate_t gate);	/* for the server's log */

/* What checking the answer found (one row of the flow's table per kind). */
typedef enum {
	STEP_PASSED = 0,	/* right, and its single use recorded (replay counter moved, code used up) */
	STEP_WRONG,		/* wrong, expired, replayed, or nothing left to confirm */
	STEP_UNDECRYPTABLE,	/* the stored TOTP secret does not open with the key file */
	STEP_ERROR		/* database or internal error */
} step_outcome_t;

char const *step_outcome_name(step_outcome_t outcome);

typedef struct {
	challenge_kind_t	kind;
	step_outcome_t		outcome;
	bool			spent;		/* PASSED: this request spent the State (false: a concurrent one did) */
	bool			lock_started;	/* WRONG: the failure just counted locked the login name */
	uint32_t		attempts_left;	/* WRONG: attempts of the State left after this one */
	bool			enrollment_due;	/* no 2FA, mandatory, grace deadline passed (policy_enrollment_due) */
} round2_facts_t;

typedef enum {
	ROUND2_ACCEPT = 0,		/* code, recovery code or enrollment: accept, trust the address */
	ROUND2_ACCEPT_WITHOUT_2FA,	/* emailed code: accept with the set-up reminder, trust the address */
	ROUND2_ENROLL_NEXT,		/* emailed code, enrollment due: trust the address, then the enrollment challenge */
	ROUND2_ASK_AGAIN,		/* challenge again under the same State */
	ROUND2_REJECT_STATE,		/* the State was spent by a concurrent request */
	ROUND2_REJECT_LOCKED,		/* this failure locked the login name */
	ROUND2_REJECT_EXHAUSTED,	/* no attempt left on this State */
	ROUND2_FAIL			/* error or undecryptable secret: the service is unavailable */
} round2_answer_t;

char const *round2_answer_name(round2_answer_t answer);

/*
 * The answer, once the outcome's effects are known:
 *   ERROR, UNDECRYPTABLE             -> FAIL
 *   PASSED and spent                 -> ACCEPT (for an emailed code: ENROLL_NEXT when
 *                                       enrollment is due, else ACCEPT_WITHOUT_2FA)
 *   PASSED, spent by another request -> REJECT_STATE
 *   WRONG and the lock started       -> REJECT_LOCKED
 *   WRONG, no attempt left           -> REJECT_EXHAUSTED
 *   WRONG                            -> ASK_AGAIN
 * NULL facts or an unknown kind: FAIL.
 */
round2_answer_t round2_answer(round2_facts_t const *facts);

/* Does this outcome count as a failure toward the lockout? (WRONG only.) */
bool round2_counts_as_failure(step_outcome_t outcome);

#endif
