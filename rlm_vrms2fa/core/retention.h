/*
 * retention.h - what is kept, and for how long: the classes of rows that
 * expire (README, "What is kept, and for how long"), and the rule that
 * turns the time now and the settings into a cut-off time per class.
 * A row of a class is expired, and may be deleted, when its time column
 * is before the class's cut-off:
 *
 *   challenges           expires_at < now - 1 h           (kept an hour past expiry, for the log)
 *   email_confirmations  expires_at < now - 1 h
 *   email_sends          sent_at    < now - 1 day         (the hourly limit reads the last hour)
 *   login_failures       updated_at and locked_until both <= now - lockout.reset_after
 *                        (the record has decayed, lockout_decayed; never when reset_after = 0)
 *   trusted_addresses    expires_at < now - 1 h           (NULL: never expires)
 *   pending_secrets      created_at < now - 900 s - 1 h   (a pending secret made for an
 *                        enrollment challenge, whose challenge has expired an hour ago at least;
 *                        one made by "enroll begin" waits for "enroll confirm" and is kept)
 *   device_approvals     expires_at < now - 1 h           (a device's request for approval, pending
 *                        or done: the trusted address it led to is its own row)
 *   audit_log            at < now - retention.audit_days  (never when audit_days = 0)
 *
 * Pure: no clock, no SQL.  The store deletes (store_prune.h), the module
 * and "vrms2fa-admin prune" call it.
 */
#ifndef VRMS2FA_RETENTION_H
#define VRMS2FA_RETENTION_H

#include <stdbool.h>
#include <stdint.h>

typedef enum {
	RETENTION_CHALLENGES = 0,
	RETENTION_EMAIL_CONFIRMATIONS,
	RETENTION_EMAIL_SENDS,
	RETENTION_LOGIN_FAILURES,
	RETENTION_TRUSTED_ADDRESSES,
	RETENTION_PENDING_SECRETS,
	RETENTION_DEVICE_APPROVALS,
	RETENTION_AUDIT_LOG,
	RETENTION_CLASSES		/* how many */
} retention_class_t;

#define RETENTION_EXPIRED_GRACE		3600	/* seconds an expired challenge, email or trust row is kept */
#define RETENTION_EMAIL_SENDS_SECONDS	86400	/* seconds a send is kept (the limit reads the last hour) */
#define RETENTION_CHALLENGE_LIFETIME_MAX 900	/* the longest challenge.lifetime settings.c allows */
#define RETENTION_AUDIT_DAYS_MAX	36500

typedef struct {
	uint32_t	audit_days;		/* retention.audit_days: 0 = the audit log is kept forever */
	uint32_t	lockout_reset_after;	/* lockout.reset_after (seconds): 0 = counts never decay, rows kept */
} retention_config_t;

typedef struct {
	bool	enabled[RETENTION_CLASSES];	/* false: the class is never pruned (its setting says so) */
	int64_t	before[RETENTION_CLASSES];	/* rows whose time is before this are expired */
} retention_cutoffs_t;

/* 0 ok, -1 with a reason naming the setting. */
int retention_config_check(retention_config_t const *cfg, char const **reason);

/*
 * The cut-off time of each class at 'now' (Unix seconds).  -1 for an
 * invalid configuration (then every class is disabled: nothing is
 * deleted).  Never overflows: a cut-off before the epoch is clamped to
 * INT64_MIN's side of it (nothing that old exists, so nothing expires).
 */
int retention_cutoffs(retention_config_t const *cfg, int64_t now, retention_cutoffs_t *out);

/*
 * Is a login_failures record with this last attempt and lock end expired
 * under these cut-offs?  The same rule as lockout_decayed (a record quiet
 * for reset_after seconds since the later of the two), as the store's
 * query applies it; for the tests that prove the two agree.
 */
bool retention_failure_expired(retention_cutoffs_t const *c, int64_t updated_at, int64_t locked_until);

/*
 * May radiusd itself prune this class?  Every class but the audit log: the
 * module's database account may only add audit rows (vrms2fa-admin db
 * grants), so that a compromised radiusd cannot erase the trail; the audit
 * log is pruned by "vrms2fa-admin prune" (cron).
 */
bool retention_pruned_by_module(retention_class_t c);

/* The table of a class ("pending_secrets" is rows of totp_secrets), for output and the audit detail. */
char const *retention_class_name(retention_class_t c);

#endif
