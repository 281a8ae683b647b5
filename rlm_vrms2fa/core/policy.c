/*
 * policy.c - the round-1 login decision (DESIGN section 4), company
 * security levels and user groups.
 *
 * Pure functions over plain facts: no I/O, no clock (the caller passes
 * 'now'), no globals.  The decision takes the first matching row of the
 * table, and fails closed: a mandatory user with no recorded deadline is
 * treated as past it.
 */
#include <stdio.h>
#include <string.h>

#include "policy.h"

static char const *const GROUP_NAMES[GROUP_COUNT] = {
	[GROUP_ADMINISTRATOR]	= "administrator",
	[GROUP_COMPANY_USER]	= "company_user",
	[GROUP_OWNER]		= "owner",
	[GROUP_SUPPLIER]	= "supplier",
};

#define SECONDS_PER_DAY 86400

char const *policy_group_name(user_group_t group)
{
	if ((unsigned) group >= GROUP_COUNT) return "unknown";
	return GROUP_NAMES[group];
}

/* Match a name of exactly len bytes (not NUL-terminated). */
static int policy_group_parse_n(char const *name, size_t len, user_group_t *group)
{
	unsigned i;

	for (i = 0; i < GROUP_COUNT; i++) {
		if (strlen(GROUP_NAMES[i]) == len && memcmp(GROUP_NAMES[i], name, len) == 0) {
			*group = (user_group_t) i;
			return 0;
		}
	}
	return -1;
}

int policy_group_parse(char const *name, user_group_t *group)
{
	if (!name || !group) return -1;
	return policy_group_parse_n(name, strlen(name), group);
}

char const *policy_level_name(security_level_t level)
{
	switch (level) {
	case LEVEL_LOW: return "low";
	case LEVEL_HIGH: return "high";
	}
	return "unknown";
}

int policy_level_parse(char const *name, security_level_t *level)
{
	if (!name || !level) return -1;
	if (strcmp(name, "low") == 0) {
		*level = LEVEL_LOW;
	} else if (strcmp(name, "high") == 0) {
		*level = LEVEL_HIGH;
	} else {
		return -1;
	}
	return 0;
}

/* "owner,supplier" (spaces around names allowed) -> mask. */
int policy_group_mask_parse(char const *list, unsigned *mask)
{
	unsigned m = 0;
	char const *p;

	if (!list || !mask) return -1;
	p = list;
	while (*p == ' ') p++;
	if (*p == '\0') {
		*mask = 0;
		return 0;
	}
	for (;;) {
		char const *start, *end;
		user_group_t g;

		while (*p == ' ') p++;
		start = p;
		while (*p && *p != ',') p++;
		end = p;
		while (end > start && end[-1] == ' ') end--;
		if (end == start) return -1;				/* empty element */
		if (policy_group_parse_n(start, (size_t) (end - start), &g) != 0) return -1;
		if (m & (1u << g)) return -1;				/* repeated */
		m |= 1u << g;
		if (*p == '\0') break;
		p++;							/* past ',' */
	}
	*mask = m;
	return 0;
}

int policy_group_mask_format(unsigned mask, char *out, size_t outlen)
{
	size_t len = 0;
	unsigned i;

	if (!out || outlen == 0) return -1;
	out[0] = '\0';
	if (mask & ~GROUP_MASK_ALL) return -1;
	for (i = 0; i < GROUP_COUNT; i++) {
		size_t n;

		if (!(mask & (1u << i))) continue;
		n = strlen(GROUP_NAMES[i]);
		if (len + (len ? 1 : 0) + n + 1 > outlen) {
			out[0] = '\0';
			return -1;
		}
		if (len) out[len++] = ',';
		memcpy(out + len, GROUP_NAMES[i], n);
		len += n;
		out[len] = '\0';
	}
	return 0;
}

bool policy_is_mandatory(security_level_t level, unsigned group_mask, user_group_t group)
{
	if ((unsigned) group >= GROUP_COUNT) return level == LEVEL_HIGH;	/* fail closed */
	return level == LEVEL_HIGH && (group_mask & (1u << group)) != 0;
}

char const *policy_decision_name(decision_t decision)
{
	switch (decision) {
	case DECISION_ACCEPT: return "accept";
	case DECISION_CHALLENGE_CODE: return "challenge-code";
	case DECISION_CHALLENGE_ENROLL: return "challenge-enroll";
	case DECISION_ACCEPT_WITH_REMINDER: return "accept-with-reminder";
	case DECISION_EMAIL_CONFIRM: return "email-confirm";
	}
	return "unknown";
}

decision_t policy_decide(login_facts_t const *facts, int64_t *grace_seconds_left)
{
	int64_t left = 0;

	if (grace_seconds_left) *grace_seconds_left = 0;
	if (!facts) return DECISION_CHALLENGE_ENROLL;	/* fail closed: no access without a code */

	if (facts->twofa_active)
		return facts->address_trusted ? DECISION_ACCEPT : DECISION_CHALLENGE_CODE;

	if (facts->enrollment_requested) return DECISION_CHALLENGE_ENROLL;

	if (facts->mandatory) {
		if (!facts->has_deadline || facts->grace_deadline <= facts->now)
			return DECISION_CHALLENGE_ENROLL;
		left = (int64_t) facts->grace_deadline - (int64_t) facts->now;
	}
	if (grace_seconds_left) *grace_seconds_left = left;
	return facts->address_trusted ? DECISION_ACCEPT_WITH_REMINDER : DECISION_EMAIL_CONFIRM;
}

int64_t policy_days_left(int64_t seconds_left)
{
	if (seconds_left <= 0) return 0;
	return seconds_left / SECONDS_PER_DAY + (seconds_left % SECONDS_PER_DAY != 0);
}
