/*
 * policy.h - the login decision of DESIGN section 4 (round 1, after the
 * password was found right), company security levels and user groups.
 * Pure functions over plain facts; the glue gathers the facts from the
 * request and the storage layer and acts on the decision.
 */
#ifndef VRMS2FA_POLICY_H
#define VRMS2FA_POLICY_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

typedef enum {
	GROUP_ADMINISTRATOR = 0,
	GROUP_COMPANY_USER,
	GROUP_OWNER,
	GROUP_SUPPLIER,
	GROUP_COUNT
} user_group_t;

typedef enum {
	LEVEL_LOW = 0,		/* two-step verification optional */
	LEVEL_HIGH		/* mandatory for the company's chosen groups */
} security_level_t;

#define GROUP_MASK_ALL ((1u << GROUP_COUNT) - 1)

/* Names as the admin tool and the database use them: "administrator", ... */
char const *policy_group_name(user_group_t group);
int policy_group_parse(char const *name, user_group_t *group);			/* 0 ok, -1 unknown */
char const *policy_level_name(security_level_t level);				/* "low", "high" */
int policy_level_parse(char const *name, security_level_t *level);		/* 0 ok, -1 unknown */

/* "owner,supplier" -> mask; empty string -> 0.  0 ok, -1 on an unknown or repeated name. */
int policy_group_mask_parse(char const *list, unsigned *mask);
/* mask -> "administrator,owner" (canonical order).  0 ok, -1 too small. */
int policy_group_mask_format(unsigned mask, char *out, size_t outlen);

/* Is two-step verification mandatory for a user of this group under this level and mask? */
bool policy_is_mandatory(security_level_t level, unsigned group_mask, user_group_t group);

typedef struct {
	bool	twofa_active;		/* an active (confirmed) TOTP secret */
	bool	address_trusted;	/* trusted, unexpired, and the request may use the shortcut */
	bool	mandatory;		/* policy_is_mandatory() for this user */
	bool	has_deadline;		/* a grace deadline is recorded */
	time_t	grace_deadline;
	time_t	now;
	bool	enrollment_requested;	/* the backend asked for enrollment explicitly */
} login_facts_t;

typedef enum {
	DECISION_ACCEPT = 0,			/* 2FA active, trusted address */
	DECISION_CHALLENGE_CODE,		/* 2FA active, new address */
	DECISION_CHALLENGE_ENROLL,		/* no 2FA: mandatory past deadline, or enrollment requested */
	DECISION_ACCEPT_WITH_REMINDER,		/* no 2FA, trusted address, optional or within grace */
	DECISION_EMAIL_CONFIRM			/* no 2FA, new address, optional or within grace */
} decision_t;

char const *policy_decision_name(decision_t decision);

/*
 * The first row of the table that matches.  Mandatory with no recorded
 * deadline is treated as past the deadline (fail closed).  When the result
 * leaves the user in grace, *grace_seconds_left is the time left (0 when
 * not mandatory); otherwise 0.
 */
decision_t policy_decide(login_facts_t const *facts, int64_t *grace_seconds_left);

/* Whole days left, rounded up ("3 days left" for 2 days and 1 second). */
int64_t policy_days_left(int64_t seconds_left);

#endif
