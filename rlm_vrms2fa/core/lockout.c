/*
 * lockout.c - brute-force protection arithmetic.
 *
 * After max_failures consecutive failures a login name is locked for
 * base_seconds, doubling with each further lockout, capped at max_seconds.
 * The storage layer keeps the counts; this file only does the arithmetic,
 * without overflow, and fails closed on a configuration it would refuse.
 */
#include <stddef.h>

#include "lockout.h"

#define LOCKOUT_MAX_FAILURES_LIMIT 100	/* NIST SP 800-63B section 5.2.2 */

int lockout_config_check(lockout_config_t const *cfg, char const **reason)
{
	char const *why = NULL;

	if (!cfg) {
		why = "no lockout configuration";
	} else if (cfg->max_failures < 1 || cfg->max_failures > LOCKOUT_MAX_FAILURES_LIMIT) {
		why = "max_failures must be between 1 and 100";
	} else if (cfg->base_seconds < 1) {
		why = "base_seconds must be at least 1";
	} else if (cfg->max_seconds < cfg->base_seconds) {
		why = "max_seconds must be at least base_seconds";
	}
	if (reason) *reason = why;
	return why ? -1 : 0;
}

bool lockout_should_lock(lockout_config_t const *cfg, uint32_t failures)
{
	if (lockout_config_check(cfg, NULL) != 0) return true;	/* fail closed */
	return failures >= cfg->max_failures;
}

uint32_t lockout_duration(lockout_config_t const *cfg, uint32_t previous_lockouts)
{
	uint64_t d;
	uint32_t i;

	if (lockout_config_check(cfg, NULL) != 0) return LOCKOUT_DEFAULT_CONFIG.max_seconds;
	d = cfg->base_seconds;
	for (i = 0; i < previous_lockouts && d < cfg->max_seconds; i++) d *= 2;
	if (d > cfg->max_seconds) d = cfg->max_seconds;
	return (uint32_t) d;
}

bool lockout_is_locked(int64_t locked_until, int64_t now)
{
	return locked_until > now;
}

bool lockout_after_failure(lockout_config_t const *cfg, uint32_t failures, uint32_t lockouts, int64_t now,
			   int64_t *locked_until)
{
	*locked_until = 0;
	if (!lockout_should_lock(cfg, failures)) return false;
	*locked_until = now + (int64_t)lockout_duration(cfg, lockouts);
	return true;
}
