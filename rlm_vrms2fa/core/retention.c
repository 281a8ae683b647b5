/*
 * retention.c - the cut-off times of the expired rows of each class
 * (retention.h), from the time now and the settings; pure, without
 * overflow, and deleting nothing when the configuration is invalid.
 */
#include <stddef.h>
#include <string.h>

#include "retention.h"

#define SECONDS_PER_DAY 86400

int retention_config_check(retention_config_t const *cfg, char const **reason)
{
	char const *why = NULL;

	if (!cfg) why = "no retention configuration";
	else if (cfg->audit_days > RETENTION_AUDIT_DAYS_MAX) why = "retention.audit_days must be 0..36500";
	if (reason) *reason = why;
	return why ? -1 : 0;
}

/* now - seconds, clamped at INT64_MIN (seconds is at most a few billion). */
static int64_t minus(int64_t now, int64_t seconds)
{
	return now < INT64_MIN + seconds ? INT64_MIN : now - seconds;
}

int retention_cutoffs(retention_config_t const *cfg, int64_t now, retention_cutoffs_t *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < RETENTION_CLASSES; i++) out->before[i] = INT64_MIN;
	if (retention_config_check(cfg, NULL) != 0) return -1;	/* every class disabled */

	out->enabled[RETENTION_CHALLENGES] = true;
	out->before[RETENTION_CHALLENGES] = minus(now, RETENTION_EXPIRED_GRACE);
	out->enabled[RETENTION_EMAIL_CONFIRMATIONS] = true;
	out->before[RETENTION_EMAIL_CONFIRMATIONS] = minus(now, RETENTION_EXPIRED_GRACE);
	out->enabled[RETENTION_EMAIL_SENDS] = true;
	out->before[RETENTION_EMAIL_SENDS] = minus(now, RETENTION_EMAIL_SENDS_SECONDS);
	out->enabled[RETENTION_TRUSTED_ADDRESSES] = true;
	out->before[RETENTION_TRUSTED_ADDRESSES] = minus(now, RETENTION_EXPIRED_GRACE);
	out->enabled[RETENTION_DEVICE_APPROVALS] = true;
	out->before[RETENTION_DEVICE_APPROVALS] = minus(now, RETENTION_EXPIRED_GRACE);
	out->enabled[RETENTION_PENDING_SECRETS] = true;
	out->before[RETENTION_PENDING_SECRETS] = minus(now, RETENTION_CHALLENGE_LIFETIME_MAX + RETENTION_EXPIRED_GRACE);

	/*
	 * lockout_decayed: now - max(updated_at, locked_until) >= reset_after,
	 * that is both <= now - reset_after, that is both < now - reset_after + 1.
	 */
	if (cfg->lockout_reset_after > 0) {
		out->enabled[RETENTION_LOGIN_FAILURES] = true;
		out->before[RETENTION_LOGIN_FAILURES] = minus(now, (int64_t)cfg->lockout_reset_after - 1);
	}
	if (cfg->audit_days > 0) {
		out->enabled[RETENTION_AUDIT_LOG] = true;
		out->before[RETENTION_AUDIT_LOG] = minus(now, (int64_t)cfg->audit_days * SECONDS_PER_DAY);
	}
	return 0;
}

bool retention_failure_expired(retention_cutoffs_t const *c, int64_t updated_at, int64_t locked_until)
{
	int64_t before = c->before[RETENTION_LOGIN_FAILURES];

	return c->enabled[RETENTION_LOGIN_FAILURES] && updated_at < before && locked_until < before;
}

bool retention_pruned_by_module(retention_class_t c)
{
	return (unsigned)c < RETENTION_CLASSES && c != RETENTION_AUDIT_LOG;
}

char const *retention_class_name(retention_class_t c)
{
	switch (c) {
	case RETENTION_CHALLENGES:		return "challenges";
	case RETENTION_EMAIL_CONFIRMATIONS:	return "email_confirmations";
	case RETENTION_EMAIL_SENDS:		return "email_sends";
	case RETENTION_LOGIN_FAILURES:		return "login_failures";
	case RETENTION_TRUSTED_ADDRESSES:	return "trusted_addresses";
	case RETENTION_PENDING_SECRETS:		return "pending_secrets";
	case RETENTION_DEVICE_APPROVALS:	return "device_approvals";
	case RETENTION_AUDIT_LOG:		return "audit_log";
	case RETENTION_CLASSES:			break;
	}
	return "unknown";
}
