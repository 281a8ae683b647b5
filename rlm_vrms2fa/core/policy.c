/*
 * policy.c - the rules of round 1 (see policy.h and doc/design.md,
 * "Round 1"), company security levels and user groups.
 *
 * Pure functions over plain facts: no I/O, no clock (the caller passes
 * 'now'), no globals.  The decision takes the first matching row of the
 * table, and fails closed: a mandatory user with no recorded deadline is
 * treated as past it.
 */
#include <stdio.h>
#include <string.h>

#include "policy.h"
#include "recovery.h"

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
	case DECISION_SINGLE_PASS_CODE: return "single-pass-code";
	case DECISION_REJECT_MUST_ENROLL: return "reject-must-enroll";
	case DECISION_REJECT_ENROLL_UNPROVEN: return "reject-enroll-unproven";
	case DECISION_REJECT_CODE_REQUIRED: return "reject-code-required";
	case DECISION_REJECT_DEVICE_APPROVAL: return "reject-device-approval";
	}
	return "unknown";
}

password_verdict_t policy_password_verdict(password_facts_t const *facts)
{
	if (!facts) return PASSWORD_VERDICT_ERROR;
	if (facts->gate_full) return PASSWORD_VERDICT_BUSY;
	if (!facts->user_found) return PASSWORD_VERDICT_UNKNOWN_USER;
	if (facts->disabled) return PASSWORD_VERDICT_DISABLED;
	if (facts->malformed) return PASSWORD_VERDICT_MALFORMED;
	if (facts->external_password) return PASSWORD_VERDICT_OK;
	if (!facts->has_password_hash) return PASSWORD_VERDICT_NO_HASH;
	if (facts->over_memory) return PASSWORD_VERDICT_OVER_MEMORY;
	switch (facts->verified) {
	case PASSWORD_MATCH:		return PASSWORD_VERDICT_OK;
	case PASSWORD_MISMATCH:		return PASSWORD_VERDICT_WRONG;
	case PASSWORD_UNSUPPORTED:	return PASSWORD_VERDICT_UNSUPPORTED;
	case PASSWORD_ERROR:		break;
	}
	return PASSWORD_VERDICT_ERROR;
}

char const *policy_password_verdict_name(password_verdict_t verdict)
{
	switch (verdict) {
	case PASSWORD_VERDICT_OK:		return "password right";
	case PASSWORD_VERDICT_UNKNOWN_USER:	return "unknown user";
	case PASSWORD_VERDICT_DISABLED:		return "user disabled";
	case PASSWORD_VERDICT_NO_HASH:		return "user has no password hash";
	case PASSWORD_VERDICT_UNSUPPORTED:	return "unsupported password hash format";
	case PASSWORD_VERDICT_MALFORMED:	return "malformed OpenVPN static challenge (SCRV1)";
	case PASSWORD_VERDICT_ERROR:		return "password check failed";
	case PASSWORD_VERDICT_WRONG:		return "wrong password";
	case PASSWORD_VERDICT_OVER_MEMORY:	return "the password hash needs more memory than password.max_memory";
	case PASSWORD_VERDICT_BUSY:		return "memory-hard password checks at their limit (password.memory_hard_budget)";
	}
	return "unknown";
}

client_mode_t policy_client_mode(bool set, uint32_t value, bool single_pass_default)
{
	if (!set) return single_pass_default ? CLIENT_MODE_SINGLE_PASS : CLIENT_MODE_CHALLENGE;
	switch (value) {
	case CLIENT_MODE_CHALLENGE:	return CLIENT_MODE_CHALLENGE;
	case CLIENT_MODE_SINGLE_PASS:	return CLIENT_MODE_SINGLE_PASS;
	case CLIENT_MODE_NO_CHALLENGE:	return CLIENT_MODE_NO_CHALLENGE;
	default:			break;
	}
	return CLIENT_MODE_INVALID;
}

char const *policy_client_mode_name(client_mode_t mode)
{
	switch (mode) {
	case CLIENT_MODE_CHALLENGE:	return "challenge";
	case CLIENT_MODE_SINGLE_PASS:	return "single-pass";
	case CLIENT_MODE_NO_CHALLENGE:	return "no-challenge";
	case CLIENT_MODE_INVALID:	break;
	}
	return "invalid";
}

/* Is this exactly a recovery code as shown to the user, "xxxxx-xxxxx"? */
static bool looks_like_recovery_code(uint8_t const *text, size_t len)
{
	char normalised[RECOVERY_CODE_CHARS + 1];
	bool ok;

	if (len != RECOVERY_CODE_TEXT_LEN || text[5] != '-') return false;
	/* with the hyphen where it is shown, 10 canonical characters must remain: no other separator fits */
	ok = recovery_code_normalise((char const *)text, len, normalised) == 0;
	memset(normalised, 0, sizeof(normalised));
	return ok;
}

/* Are these len bytes all ASCII digits? */
static bool all_digits(uint8_t const *text, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9') return false;
	}
	return true;
}

void policy_single_pass_split(uint8_t const *typed, size_t typed_len, unsigned digits, single_pass_split_t *out)
{
	out->password_len = typed_len;
	out->code_len = 0;
	out->code_sent = false;
	if (!typed) {
		out->password_len = 0;
		return;
	}
	if (typed_len > RECOVERY_CODE_TEXT_LEN &&
	    looks_like_recovery_code(typed + typed_len - RECOVERY_CODE_TEXT_LEN, RECOVERY_CODE_TEXT_LEN)) {
		out->code_len = RECOVERY_CODE_TEXT_LEN;
	} else if (digits > 0 && typed_len > digits && all_digits(typed + typed_len - digits, digits)) {
		out->code_len = digits;
	}
	out->password_len = typed_len - out->code_len;
	out->code_sent = out->code_len > 0;
}

static decision_t decide_table(login_facts_t const *facts, int64_t *grace_seconds_left);

decision_t policy_decide(login_facts_t const *facts, int64_t *grace_seconds_left)
{
	decision_t decision = decide_table(facts, grace_seconds_left);

	return facts ? policy_no_challenge_row(decision, facts->no_challenge) : decision;
}

static decision_t decide_table(login_facts_t const *facts, int64_t *grace_seconds_left)
{
	int64_t left = 0;
	bool due;

	if (grace_seconds_left) *grace_seconds_left = 0;
	if (!facts) return DECISION_REJECT_ENROLL_UNPROVEN;	/* fail closed: no access, nothing shown */

	if (facts->twofa_active) {
		/* a code that came with the password is checked, from a trusted address too */
		if (facts->single_pass && facts->code_sent) return DECISION_SINGLE_PASS_CODE;
		if (facts->address_trusted) return DECISION_ACCEPT;
		if (facts->single_pass) return DECISION_REJECT_CODE_REQUIRED;
		if (facts->no_challenge) return DECISION_REJECT_DEVICE_APPROVAL;	/* approve the device out of band */
		return DECISION_CHALLENGE_CODE;
	}

	/*
	 * No 2FA.  Setting it up binds an authenticator to the account: only
	 * from a trusted address (password + an earlier proof), never on the
	 * password alone.  From a new address the email comes first.
	 */
	due = policy_enrollment_due(facts->mandatory, facts->has_deadline, facts->grace_deadline, facts->now);
	if (facts->address_trusted) {
		/* the backend that asks (an allowed, signed client) shows the key, unless nothing can be shown */
		if (facts->enrollment_requested) {
			return facts->no_challenge ? DECISION_REJECT_MUST_ENROLL : DECISION_CHALLENGE_ENROLL;
		}
		if (due) {
			return facts->single_pass || facts->no_challenge ? DECISION_REJECT_MUST_ENROLL
									 : DECISION_CHALLENGE_ENROLL;
		}
	} else if (due) {
		return facts->email_enabled ? DECISION_EMAIL_CONFIRM : DECISION_REJECT_ENROLL_UNPROVEN;
	}

	if (facts->mandatory) left = (int64_t) facts->grace_deadline - (int64_t) facts->now;
	if (grace_seconds_left) *grace_seconds_left = left;
	if (facts->address_trusted || !facts->email_enabled) return DECISION_ACCEPT_WITH_REMINDER;
	return DECISION_EMAIL_CONFIRM;
}

bool policy_enrollment_due(bool mandatory, bool has_deadline, int64_t deadline, int64_t now)
{
	return mandatory && (!has_deadline || deadline <= now);
}

int64_t policy_grace_left(bool mandatory, bool has_deadline, int64_t deadline, int64_t now)
{
	if (!mandatory || !has_deadline || deadline <= now) return 0;
	return deadline - now;
}

int64_t policy_grace_deadline(int64_t now, uint32_t grace_days)
{
	return now + policy_days_to_seconds(grace_days);
}

int64_t policy_trust_expires_at(int64_t now, int64_t lifetime_seconds)
{
	return lifetime_seconds > 0 ? now + lifetime_seconds : 0;
}

int64_t policy_days_to_seconds(uint32_t days)
{
	return (int64_t)days * SECONDS_PER_DAY;
}

static char const *const TRUST_HOW_NAMES[TRUST_HOW_COUNT] = {
	[TRUST_BY_ENROLLMENT]	= "enrollment",
	[TRUST_BY_CODE]		= "code",
	[TRUST_BY_RECOVERY]	= "recovery",
	[TRUST_BY_EMAIL]	= "email",
	[TRUST_BY_ADMIN]	= "admin",
};

char const *policy_trust_how_name(trust_how_t how)
{
	if ((unsigned) how >= TRUST_HOW_COUNT) return "unknown";
	return TRUST_HOW_NAMES[how];
}

int policy_trust_how_parse(char const *name, trust_how_t *how)
{
	unsigned i;

	if (!name || !how) return -1;
	for (i = 0; i < TRUST_HOW_COUNT; i++) {
		if (strcmp(name, TRUST_HOW_NAMES[i]) == 0) {
			*how = (trust_how_t) i;
			return 0;
		}
	}
	return -1;
}

bool policy_trust_counts(trust_how_t how, bool twofa_active)
{
	if ((unsigned) how >= TRUST_HOW_COUNT) return false;
	if (twofa_active && how == TRUST_BY_EMAIL) return false;
	return true;
}

char const *policy_trust_refusal(trust_request_t const *request)
{
	char const *why;

	if (!request || request->kind == ADDR_INVALID) return "no usable address";
	why = addr_trust_refusal(request->kind, request->address);
	if (why) return why;
	if (request->kind == ADDR_MAC && !request->mac_trust) return "MAC addresses are not trusted here (trust.mac = no)";
	if (request->require_message_authenticator && !request->has_message_authenticator &&
	    !request->unsigned_trusted) {
		return "no Message-Authenticator";
	}
	if (!request->scope_usable) return "the trust scope (VRMS2FA-Trust-Scope) is not 0..32 bytes of clean text";
	return NULL;
}

bool policy_enrollment_request_honoured(bool asked, bool client_allowed, bool has_message_authenticator)
{
	return asked && client_allowed && has_message_authenticator;
}

bool policy_email_confirmation_usable(bool user_disabled, bool twofa_active)
{
	return !user_disabled && !twofa_active;
}

int64_t policy_days_left(int64_t seconds_left)
{
	if (seconds_left <= 0) return 0;
	return seconds_left / SECONDS_PER_DAY + (seconds_left % SECONDS_PER_DAY != 0);
}

decision_t policy_no_challenge_row(decision_t decision, bool no_challenge)
{
	if (!no_challenge) return decision;
	if (decision == DECISION_CHALLENGE_CODE) return DECISION_REJECT_DEVICE_APPROVAL;
	if (decision == DECISION_CHALLENGE_ENROLL) return DECISION_REJECT_MUST_ENROLL;
	return decision;
}

bool policy_approval_request_honoured(bool client_allowed, bool has_message_authenticator)
{
	return client_allowed && has_message_authenticator;
}
