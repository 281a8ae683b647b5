/*
 * lockout.h - brute-force protection rules, in two dimensions:
 *
 *  - the pair (login name, address): after max_failures failures from one
 *    address the pair is locked for base_seconds, doubling with each
 *    further lockout of that pair up to max_seconds;
 *  - the name alone (every address together): locked the same way, but
 *    only after name_max_failures failures.
 *
 * A lock earned from other addresses does not refuse a request that comes
 * from a trusted address of the user (trust that counts) carrying
 * Message-Authenticator; its own pair's lock still does.  Counts decay:
 * after reset_after_seconds without a failure (and after the lock ended)
 * a record starts again from zero.  Failures are counted pessimistically:
 * an attempt is taken before the check and given back on success, so
 * parallel requests cannot run more checks than the thresholds allow.
 *
 * Defaults (kept well inside NIST SP 800-63B's 100 per account): 5 per
 * pair, 100 per name, 60 s doubling to 3600 s, decay after 3600 s.
 * Pure functions: the store keeps the records, the flow applies.
 */
#ifndef VRMS2FA_LOCKOUT_H
#define VRMS2FA_LOCKOUT_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
	uint32_t	max_failures;		/* per (name, address): 1..100 */
	uint32_t	name_max_failures;	/* per name: max_failures..100 */
	uint32_t	base_seconds;		/* >= 1 */
	uint32_t	max_seconds;		/* >= base_seconds */
	uint32_t	reset_after_seconds;	/* quiet period after which a record decays; 0: never */
} lockout_config_t;

#define LOCKOUT_DEFAULT_CONFIG ((lockout_config_t){ .max_failures = 5, .name_max_failures = 100, \
	.base_seconds = 60, .max_seconds = 3600, .reset_after_seconds = 3600 })

/* One failure record (a row of login_failures), as read. */
typedef struct {
	uint32_t	failures;	/* attempts taken and not given back: failed checks and checks running now */
	uint32_t	lockouts;	/* locks so far (the next one is longer) */
	int64_t		locked_until;	/* 0: never locked */
	int64_t		last_failure_at;	/* when the last attempt was taken; 0: no record */
} lockout_record_t;

typedef enum {
	LOCKOUT_PAIR = 0,	/* (login name, address) */
	LOCKOUT_NAME		/* the login name from every address */
} lockout_dimension_t;

/* What a request finds, and whether a lock of the name alone may refuse it. */
typedef struct {
	lockout_record_t	pair;
	lockout_record_t	name;
	bool			exempt_from_name;	/* lockout_exempt_from_name */
	int64_t			now;
} lockout_facts_t;

typedef enum {
	LOCKOUT_GO = 0,
	LOCKOUT_PAIR_LOCKED,	/* this pair's lock runs */
	LOCKOUT_NAME_LOCKED,	/* the name's lock runs (earned from any address) */
	LOCKOUT_PAIR_FULL,	/* as many attempts of this pair as allowed are failed or running */
	LOCKOUT_NAME_FULL	/* same for the name */
} lockout_verdict_t;

/* 0 ok, -1 with a reason naming the field. */
int lockout_config_check(lockout_config_t const *cfg, char const **reason);

/* The threshold of a dimension (an invalid configuration: 0, so that everything is refused). */
uint32_t lockout_threshold(lockout_config_t const *cfg, lockout_dimension_t dim);

/* Does this many failures of a dimension trigger a lockout? */
bool lockout_should_lock(lockout_config_t const *cfg, lockout_dimension_t dim, uint32_t failures);

/* Is a record whose lock runs until locked_until locked at 'now'? */
bool lockout_is_locked(int64_t locked_until, int64_t now);

/*
 * Has the record decayed at 'now': no attempt taken for reset_after_seconds
 * since the later of its last failure and the end of its lock?  A decayed
 * record counts as empty (the flow then deletes it).  An empty record, or
 * reset_after_seconds = 0, never decays.
 */
bool lockout_decayed(lockout_config_t const *cfg, lockout_record_t const *rec, int64_t now);

/* The record as it counts at 'now': empty when it decayed, else as read. */
lockout_record_t lockout_effective(lockout_config_t const *cfg, lockout_record_t const *rec, int64_t now);

/*
 * May a lock of the name alone refuse this request?  Not when it comes
 * from an unexpired trusted address of the user whose trust counts
 * (policy_trust_counts, and the request may use trust) and carries
 * Message-Authenticator.
 */
bool lockout_exempt_from_name(bool address_trusted, bool has_message_authenticator);

/*
 * Before taking an attempt (effective records, as looked up): refused when
 * the pair's lock runs, when the name's lock runs and the request is not
 * exempt, or when a dimension already has its threshold of attempts
 * taken.  The pair is judged first.
 */
lockout_verdict_t lockout_before_take(lockout_config_t const *cfg, lockout_facts_t const *f);

/*
 * After taking an attempt (the records as the take read them back, this
 * attempt included): refused, without running the check, when a lock runs
 * or when this attempt went over a threshold (the attempt is then given
 * back).  At most the threshold of attempts pass for each dimension.
 */
lockout_verdict_t lockout_after_take(lockout_config_t const *cfg, lockout_facts_t const *f);

/* For the log: "pair locked" and so on. */
char const *lockout_verdict_name(lockout_verdict_t v);

/*
 * A check failed and the dimension's record read 'failures' (this failure
 * included) after 'lockouts' earlier lockouts: true when this failure locks
 * it, with *locked_until set (the store applies it with one conditional
 * write on the lockouts read).
 */
bool lockout_after_failure(lockout_config_t const *cfg, lockout_dimension_t dim, uint32_t failures,
			   uint32_t lockouts, int64_t now, int64_t *locked_until);

/*
 * A login succeeded: the pair's record is always cleared; the name's record
 * only when no lock of the name runs (a lock earned by others from other
 * addresses stays until it ends, whoever logs in meanwhile).
 */
bool lockout_success_clears_name(lockout_record_t const *name, int64_t now);

/* Seconds of the next lockout, given how many lockouts came before it. */
uint32_t lockout_duration(lockout_config_t const *cfg, uint32_t previous_lockouts);

#endif
