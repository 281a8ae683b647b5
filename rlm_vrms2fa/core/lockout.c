/*
 * lockout.c - brute-force protection rules (lockout.h): thresholds per
 * (name, address) and per name, which lock refuses a request, decay after
 * a quiet period, doubling durations.  The store keeps the records and
 * applies conditional writes; this file only decides, without overflow,
 * and fails closed on a configuration it would refuse.
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
	} else if (cfg->name_max_failures < cfg->max_failures || cfg->name_max_failures > LOCKOUT_MAX_FAILURES_LIMIT) {
		why = "name_max_failures must be between max_failures and 100";
	} else if (cfg->base_seconds < 1) {
		why = "base_seconds must be at least 1";
	} else if (cfg->max_seconds < cfg->base_seconds) {
		why = "max_seconds must be at least base_seconds";
	}
	if (reason) *reason = why;
	return why ? -1 : 0;
}

uint32_t lockout_threshold(lockout_config_t const *cfg, lockout_dimension_t dim)
{
	if (lockout_config_check(cfg, NULL) != 0) return 0;	/* fail closed */
	return dim == LOCKOUT_PAIR ? cfg->max_failures : cfg->name_max_failures;
}

bool lockout_should_lock(lockout_config_t const *cfg, lockout_dimension_t dim, uint32_t failures)
{
	return failures >= lockout_threshold(cfg, dim);
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

bool lockout_decayed(lockout_config_t const *cfg, lockout_record_t const *rec, int64_t now)
{
	int64_t quiet_since;

	if (lockout_config_check(cfg, NULL) != 0 || cfg->reset_after_seconds == 0) return false;
	if (rec->failures == 0 && rec->lockouts == 0 && rec->locked_until == 0) return false;	/* nothing to forget */
	quiet_since = rec->last_failure_at > rec->locked_until ? rec->last_failure_at : rec->locked_until;
	if (now < quiet_since) return false;	/* a clock step back: keep counting */
	return now - quiet_since >= (int64_t)cfg->reset_after_seconds;
}

lockout_record_t lockout_effective(lockout_config_t const *cfg, lockout_record_t const *rec, int64_t now)
{
	lockout_record_t empty = { 0, 0, 0, 0 };

	return lockout_decayed(cfg, rec, now) ? empty : *rec;
}

bool lockout_exempt_from_name(bool address_trusted, bool has_message_authenticator)
{
	return address_trusted && has_message_authenticator;
}

/*
 * The verdict with 'taken' attempts of this request already in the counts
 * (0 before the take, 1 after): a dimension is full when the attempts
 * taken by others reach its threshold.  An invalid configuration has a
 * threshold of 0: always full (fail closed).
 */
static lockout_verdict_t verdict(lockout_config_t const *cfg, lockout_facts_t const *f, uint32_t taken)
{
	uint32_t pair_max = lockout_threshold(cfg, LOCKOUT_PAIR), name_max = lockout_threshold(cfg, LOCKOUT_NAME);

	if (lockout_is_locked(f->pair.locked_until, f->now)) return LOCKOUT_PAIR_LOCKED;
	if (f->pair.failures >= (uint64_t)pair_max + taken) return LOCKOUT_PAIR_FULL;
	if (f->exempt_from_name) return LOCKOUT_GO;
	if (lockout_is_locked(f->name.locked_until, f->now)) return LOCKOUT_NAME_LOCKED;
	if (f->name.failures >= (uint64_t)name_max + taken) return LOCKOUT_NAME_FULL;
	return LOCKOUT_GO;
}

lockout_verdict_t lockout_before_take(lockout_config_t const *cfg, lockout_facts_t const *f)
{
	return verdict(cfg, f, 0);
}

lockout_verdict_t lockout_after_take(lockout_config_t const *cfg, lockout_facts_t const *f)
{
	return verdict(cfg, f, 1);
}

char const *lockout_verdict_name(lockout_verdict_t v)
{
	switch (v) {
	case LOCKOUT_GO:		return "not locked";
	case LOCKOUT_PAIR_LOCKED:	return "locked out: this name from this address";
	case LOCKOUT_NAME_LOCKED:	return "locked out: this name from every address but its trusted ones";
	case LOCKOUT_PAIR_FULL:		return "too many attempts of this name from this address failed or running";
	case LOCKOUT_NAME_FULL:		return "too many attempts of this name failed or running";
	}
	return "locked out";
}

bool lockout_after_failure(lockout_config_t const *cfg, lockout_dimension_t dim, uint32_t failures,
			   uint32_t lockouts, int64_t now, int64_t *locked_until)
{
	*locked_until = 0;
	if (!lockout_should_lock(cfg, dim, failures)) return false;
	*locked_until = now + (int64_t)lockout_duration(cfg, lockouts);
	return true;
}

bool lockout_success_clears_name(lockout_record_t const *name, int64_t now)
{
	return !lockout_is_locked(name->locked_until, now);
}
