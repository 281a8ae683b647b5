/*
 * policy.h - the rules of round 1 (a request without this module's State):
 * the password verdict, the single-pass split, the login decision table
 * (doc/design.md, "Round 1"), the grace and trust arithmetic, company
 * security levels and user groups.  Pure functions over plain facts; the
 * login flow (rlm_vrms2fa/flow.c) gathers the facts from the request and
 * the storage layer and acts on the answers.
 */
#ifndef VRMS2FA_POLICY_H
#define VRMS2FA_POLICY_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <time.h>

#include "address.h"
#include "password.h"

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

/*
 * The password step of round 1.  An unknown user, a disabled one, one
 * without a password hash and a wrong password all end the same way for
 * the client (the same reply, counted as a failure); the verdict says
 * which, for the server's log only.
 */
typedef enum {
	PASSWORD_VERDICT_OK = 0,
	PASSWORD_VERDICT_UNKNOWN_USER,
	PASSWORD_VERDICT_DISABLED,
	PASSWORD_VERDICT_NO_HASH,
	PASSWORD_VERDICT_UNSUPPORTED,		/* a hash format this module cannot check */
	PASSWORD_VERDICT_MALFORMED,		/* single pass: "SCRV1:" text that does not decode */
	PASSWORD_VERDICT_ERROR,
	PASSWORD_VERDICT_WRONG,
	PASSWORD_VERDICT_OVER_MEMORY,		/* the user's hash needs more memory than password.max_memory */
	PASSWORD_VERDICT_BUSY			/* memory-hard checks at their limit: not the user's doing */
} password_verdict_t;

typedef struct {
	bool			user_found;
	bool			disabled;
	bool			has_password_hash;
	bool			external_password;	/* another module checked the password */
	bool			over_memory;		/* the hash to check needs more than password.max_memory */
	bool			gate_full;		/* no room in password.memory_hard_budget for this check in time */
	bool			malformed;		/* single pass: OpenVPN's "SCRV1:" text that does not decode */
	password_result_t	verified;		/* the hash check (internal mode) */
} password_facts_t;

/*
 * The verdict of the facts.  BUSY comes first, for unknown and known users
 * alike (their dummy hash has the profile of a real one, so it waits at
 * the same gate): a full gate must not tell them apart.
 */

password_verdict_t policy_password_verdict(password_facts_t const *facts);
char const *policy_password_verdict_name(password_verdict_t verdict);	/* "wrong password", ... */

/*
 * How a client talks to the module: VRMS2FA-Client-Mode in the control
 * list, set per client or NAS group in unlang (the numbers are the
 * dictionary's VALUEs).  Unset, the module's `single_pass` decides.
 */
typedef enum {
	CLIENT_MODE_CHALLENGE = 1,	/* shows an Access-Challenge and sends the answer back */
	CLIENT_MODE_SINGLE_PASS = 2,	/* sends the code with the password (appended, or OpenVPN's SCRV1) */
	CLIENT_MODE_NO_CHALLENGE = 3,	/* sends the password alone and cannot show a challenge */
	CLIENT_MODE_INVALID = 0		/* a value the dictionary does not name: the login fails closed */
} client_mode_t;

/*
 * The mode of one request: the control attribute's value when set (1, 2
 * or 3; anything else CLIENT_MODE_INVALID), else the module's default.
 */
client_mode_t policy_client_mode(bool set, uint32_t value, bool single_pass_default);
char const *policy_client_mode_name(client_mode_t mode);	/* "challenge", "single-pass", "no-challenge" */

/*
 * Single pass: where the password ends and the code starts in what was
 * typed, decided from the text's shape before anything is checked
 * (doc/design.md, "Single pass"), for a user with active 2FA:
 *   - it ends in a recovery code as shown ("xxxxx-xxxxx": five Crockford
 *     base32 characters, a hyphen, five more) after at least one byte:
 *     that is the code;
 *   - else it ends in exactly 'digits' ASCII digits after at least one
 *     byte: those are the code;
 *   - else it is the password alone (code_len 0, code_sent false).
 * One split, so one password check per request: a guesser never gets two
 * readings of one attempt.  A password that itself ends in such a tail is
 * always read as password + code.
 */
typedef struct {
	size_t	password_len;	/* the first password_len bytes */
	size_t	code_len;	/* the code_len bytes after them (0: none) */
	bool	code_sent;
} single_pass_split_t;

void policy_single_pass_split(uint8_t const *typed, size_t typed_len, unsigned digits, single_pass_split_t *out);

typedef struct {
	bool	twofa_active;		/* an active (confirmed) TOTP secret */
	bool	address_trusted;	/* trusted, unexpired, and the request may use the shortcut */
	bool	mandatory;		/* policy_is_mandatory() for this user */
	bool	has_deadline;		/* a grace deadline is recorded */
	time_t	grace_deadline;
	time_t	now;
	bool	enrollment_requested;	/* the backend asked for enrollment (policy_enrollment_request_honoured) */
	bool	single_pass;		/* the client sends the code with the password (CLIENT_MODE_SINGLE_PASS) */
	bool	code_sent;		/* single pass: a code came with the password (policy_single_pass_split, SCRV1) */
	bool	no_challenge;		/* the client cannot show an Access-Challenge (no-challenge mode, EAP) */
	bool	email_enabled;		/* the operator confirms new addresses by email */
} login_facts_t;

typedef enum {
	DECISION_ACCEPT = 0,			/* 2FA active, trusted address */
	DECISION_CHALLENGE_CODE,		/* 2FA active, new address */
	DECISION_CHALLENGE_ENROLL,		/* no 2FA, trusted address: mandatory past deadline, or enrollment requested */
	DECISION_ACCEPT_WITH_REMINDER,		/* no 2FA, trusted address (or email off), optional or within grace */
	DECISION_EMAIL_CONFIRM,			/* no 2FA, new address: email first (then enrollment when it is due) */
	DECISION_SINGLE_PASS_CODE,		/* 2FA active, single pass, a code came with the password: check it */
	DECISION_REJECT_MUST_ENROLL,		/* enrollment due, and a single-pass gateway cannot show it */
	DECISION_REJECT_ENROLL_UNPROVEN,	/* enrollment due, new address, and email confirmation is off */
	DECISION_REJECT_CODE_REQUIRED,		/* 2FA active, single pass, new address, the password alone: a code is required */
	DECISION_REJECT_DEVICE_APPROVAL		/* 2FA active, new address, no challenge possible: approve out of band */
} decision_t;

char const *policy_decision_name(decision_t decision);

/*
 * The first row of the table that matches (doc/design.md, "Round 1").
 * Mandatory with no recorded deadline is treated as past the deadline
 * (fail closed).  When the result leaves the user in grace,
 * *grace_seconds_left is the time left (0 when not mandatory); otherwise 0.
 */
decision_t policy_decide(login_facts_t const *facts, int64_t *grace_seconds_left);

/*
 * The row of a client that cannot show an Access-Challenge (no_challenge:
 * an EAP inner tunnel, whose methods carry no code): policy_decide applies
 * it after the table, to the challenges the table chose.
 *   CHALLENGE_CODE   -> REJECT_DEVICE_APPROVAL (a pending approval is
 *                       recorded; a code, the backend or the operator
 *                       approves the device out of band)
 *   CHALLENGE_ENROLL -> REJECT_MUST_ENROLL (as single pass)
 *   EMAIL_CONFIRM stays: the flow sends the email and rejects, its link
 *   confirms out of band.  Every other decision stays.
 */
decision_t policy_no_challenge_row(decision_t decision, bool no_challenge);

/*
 * Is a request to approve a pending device (VRMS2FA-Approve-Device) honoured
 * at all?  Only from a client the operator allowed to send it
 * (VRMS2FA-Allow-Approve-Device in the control list) and only in a request
 * with a verified Message-Authenticator; the code it carries is then checked.
 */
bool policy_approval_request_honoured(bool client_allowed, bool has_message_authenticator);

/* Grace left at 'now' for a user without 2FA (0 when not mandatory, no deadline, or past it). */
int64_t policy_grace_left(bool mandatory, bool has_deadline, int64_t deadline, int64_t now);

/* The deadline of a user who becomes bound to set up 2FA at 'now'. */
int64_t policy_grace_deadline(int64_t now, uint32_t grace_days);

/* When a trust proven at 'now' expires; 0 (never) when lifetime_seconds is 0. */
int64_t policy_trust_expires_at(int64_t now, int64_t lifetime_seconds);

/* trust.lifetime (days, as configured) in seconds. */
int64_t policy_days_to_seconds(uint32_t days);

/*
 * The trust model (doc/design.md, "The trust model").  A trust row records
 * how it was earned.  Which requests may use or earn trust, and which rows
 * let which users through, is decided here and nowhere else.
 */
typedef enum {
	TRUST_BY_ENROLLMENT = 0,	/* the first code of a new secret */
	TRUST_BY_CODE,			/* a TOTP code */
	TRUST_BY_RECOVERY,		/* a recovery code */
	TRUST_BY_EMAIL,			/* an emailed code or link (password + mailbox) */
	TRUST_BY_ADMIN,			/* the operator (vrms2fa-admin trusted add) */
	TRUST_HOW_COUNT
} trust_how_t;

char const *policy_trust_how_name(trust_how_t how);		/* "enrollment", "code", ... as stored */
int policy_trust_how_parse(char const *name, trust_how_t *how);	/* 0 ok, -1 unknown */

/*
 * Does a trusted address earned 'how' let this user skip the second step?
 * For a user with active 2FA, trust earned by email alone never does: the
 * mailbox is not the authenticator.  Every row counts for a user without
 * 2FA (what email earned is what such a user can earn).
 */
bool policy_trust_counts(trust_how_t how, bool twofa_active);

/* What a request brings toward trust. */
typedef struct {
	addr_kind_t	kind;				/* of the normalised address (ADDR_INVALID: none) */
	char const	*address;			/* normalised */
	bool		mac_trust;			/* the operator trusts MAC addresses (trust.mac) */
	bool		require_message_authenticator;	/* trust.require_message_authenticator */
	bool		has_message_authenticator;	/* the request carried a verified one */
	bool		scope_usable;			/* the trust scope set for the client fits (32 bytes of clean text) */
	bool		unsigned_trusted;		/* the operator lets this client use and earn trust unsigned (VRMS2FA-Trust-Unsigned) */
} trust_request_t;

/*
 * Why this request may neither use nor earn a trusted address, or NULL when
 * it may: no usable address, a placeholder or non-unicast address
 * (addr_trust_refusal), a MAC when MAC trust is off, no
 * Message-Authenticator when one is required (BlastRADIUS) and the
 * operator has not accepted unsigned requests from this client
 * (unsigned_trusted: a client on loopback or behind RadSec/IPsec), or a
 * trust scope that cannot be stored as it is.
 */
char const *policy_trust_refusal(trust_request_t const *request);

/*
 * Is the backend's request for enrollment (VRMS2FA-Enroll-Request)
 * honoured?  Only from a client the operator allowed to ask
 * (VRMS2FA-Allow-Enroll-Request in the control list) and only in a request
 * with a verified Message-Authenticator.
 */
bool policy_enrollment_request_honoured(bool asked, bool client_allowed, bool has_message_authenticator);

/* Mandatory, and the grace deadline passed (or none recorded: fail closed)? */
bool policy_enrollment_due(bool mandatory, bool has_deadline, int64_t deadline, int64_t now);

/*
 * May an email confirmation (its code or its link) be used now?  Only while
 * the user is enabled and still without active 2FA: a user who set up 2FA
 * since is proven by the authenticator, not the mailbox.
 */
bool policy_email_confirmation_usable(bool user_disabled, bool twofa_active);

/* Whole days left, rounded up ("3 days left" for 2 days and 1 second). */
int64_t policy_days_left(int64_t seconds_left);

#endif
