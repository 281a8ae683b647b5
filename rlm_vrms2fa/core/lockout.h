/*
 * lockout.h - brute-force protection arithmetic: after max_failures
 * consecutive failures a login name is locked for base_seconds, doubling
 * with each further lockout up to max_seconds.  Success resets both.
 * Defaults (kept well inside NIST SP 800-63B's 100): 5 failures,
 * 60 s, doubling to 3600 s.
 */
#ifndef VRMS2FA_LOCKOUT_H
#define VRMS2FA_LOCKOUT_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
	uint32_t	max_failures;	/* 1..100 */
	uint32_t	base_seconds;	/* >= 1 */
	uint32_t	max_seconds;	/* >= base_seconds */
} lockout_config_t;

#define LOCKOUT_DEFAULT_CONFIG ((lockout_config_t){ .max_failures = 5, .base_seconds = 60, .max_seconds = 3600 })

/* 0 ok, -1 with a reason naming the field. */
int lockout_config_check(lockout_config_t const *cfg, char const **reason);

/* Does this many consecutive failures trigger a lockout? */
bool lockout_should_lock(lockout_config_t const *cfg, uint32_t failures);

/* Is a name whose lock runs until locked_until locked at 'now'? */
bool lockout_is_locked(int64_t locked_until, int64_t now);

/*
 * A failure was just counted and the name's record now reads 'failures'
 * consecutive failures after 'lockouts' earlier lockouts: true when this
 * failure locks it, with *locked_until set (the store applies it with one
 * conditional write on the counts read).
 */
bool lockout_after_failure(lockout_config_t const *cfg, uint32_t failures, uint32_t lockouts, int64_t now,
			   int64_t *locked_until);

/* Seconds of the next lockout, given how many lockouts came before it. */
uint32_t lockout_duration(lockout_config_t const *cfg, uint32_t previous_lockouts);

#endif
