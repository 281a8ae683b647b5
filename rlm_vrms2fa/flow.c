/*
 * flow.c - one login (see flow.h): round 1 and round 2 as orchestration.
 * The rules are the core's (core/policy.h for round 1, core/round2.h for
 * round 2, core/lockout.h); the writes that the module and the admin tool
 * share are the account layer's (account.h); the queries are the store's.
 * This file gathers the facts, asks the rules, and carries out the answer.
 * Every path that is not a proven success ends in a reject: a database
 * error, a malformed State, a secret that does not decrypt.
 *
 * Why the State is a database row (a random 128-bit handle whose SHA-256
 * keys a row of `challenges`) and not a sealed token: the attempt counter
 * and the "spent" mark must live in the database anyway, so that any
 * radiusd sharing it, or one restarted between the rounds, sees the same
 * count; with that row in place a sealed token would add a second key to
 * distribute and rotate and buy nothing.  The handle is bound to the user,
 * the NAS and the address in the row, expires, and is spent on success.
 * doc/design.md has the tables of both rounds.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "flow.h"
#include "account.h"
#include "hook.h"
#include "core/email_code.h"
#include "core/lockout.h"
#include "core/names.h"
#include "core/policy.h"
#include "core/round2.h"
#include "core/scrv1.h"
#include "core/text.h"
#include "store/store_approval.h"

#define ACTOR "radiusd"
#define TRUST_TOUCH_INTERVAL 3600	/* seconds between updates of a trusted address's last_used_at */
#define EMAIL_RATE_WINDOW 3600		/* email.max_per_hour counts the sends of this many seconds */

typedef struct {
	flow_config_t const	*cfg;
	store_conn_t		*conn;
	flow_request_t const	*req;
	flow_result_t		*res;
	char			login[TEXT_LOGIN_MAX + 1];	/* validated, NUL-terminated */
	size_t			login_len;
	bool			name_refused;			/* breaks the name rule (core/names.h): an unknown user */
	addr_kind_t		addr_kind;
	char			address[ADDR_TEXT_MAX];		/* "" when missing or unparsable */
	char const		*trust_refusal;			/* why this request may not use or earn trust; NULL: it may */
	char const		*scope;				/* the trust scope ("" default) */
	bool			enrollment_requested;		/* asked, and honoured (policy_enrollment_request_honoured) */
	client_mode_t		mode;				/* the client's mode (policy_client_mode) */
	bool			no_challenge;			/* the client cannot show an Access-Challenge */
	scrv1_status_t		scrv1_status;			/* single pass: the password as OpenVPN's static challenge */
	scrv1_fields_t		scrv1;				/* its fields when decoded (wiped at the end) */
	uint8_t			digest[CHALLENGE_TOKEN_DIGEST_LEN];	/* round 2: the State's digest */
	int64_t			now;				/* the database's clock once the lookup read it (else the host's) */
	bool			attempt_taken;			/* an attempt is counted against the lockout until given back */
	lockout_record_t	taken_pair, taken_name;		/* the records as that take read them back */
} login_t;

/* ---- the clock -------------------------------------------------------- */

/*
 * From the login lookup on, the login runs on the database's clock (the
 * lookup reads it): servers sharing a database whose own clocks disagree
 * still give the same answer for the same row (State and trust expiry,
 * lockout, grace deadlines, TOTP time steps).  Before it, the host's.
 */
static void use_database_clock(login_t *l, store_login_t const *row)
{
	if (row->database_now > 0) l->now = row->database_now;
}

/*
 * A login name that breaks the name rule (core/names.h) names nobody: the
 * row of the lookup keeps what every name has (its failure records, the
 * clock, a State's challenge) and loses the user, so that the login goes
 * on exactly as for an unknown user (same queries, same dummy hash check).
 */
static void forget_refused_name(login_t const *l, store_login_t *row)
{
	store_login_t kept;

	if (!l->name_refused) return;
	memset(&kept, 0, sizeof(kept));
	kept.name_record = row->name_record;
	kept.pair_record = row->pair_record;
	kept.database_now = row->database_now;
	kept.has_challenge = row->has_challenge;
	kept.challenge = row->challenge;
	OPENSSL_cleanse(row, sizeof(*row));
	*row = kept;
}

/* ---- results --------------------------------------------------------- */

/* Set the answer: its code and its Reply-Message (NULL or "" for none). */
static void answer(flow_result_t *res, flow_code_t code, char const *message)
{
	res->code = code;
	snprintf(res->message, sizeof(res->message), "%s", message ? message : "");
}

/* Set why, for the server's log (never a secret). */
static void explain(flow_result_t *res, char const *fmt, ...) __attribute__((format(printf, 2, 3)));
static void explain(flow_result_t *res, char const *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->log, sizeof(res->log), fmt, ap);
	va_end(ap);
}

/* A database error: the service is unavailable, and the log says which query. */
static void fail_database(login_t *l, char const *what)
{
	answer(l->res, FLOW_FAIL, MSG_SERVICE);
	explain(l->res, "database error: %s: %s", what, store_last_error(l->conn));
}

/* Anything else that stops the login without being the user's doing. */
static void fail_internal(login_t *l, char const *why)
{
	answer(l->res, FLOW_FAIL, MSG_SERVICE);
	explain(l->res, "%s", why);
}

/* An account operation that did not succeed for a reason other than the user's answer. */
static void fail_account(login_t *l, account_status_t status, char const *what)
{
	if (status == ACCOUNT_UNDECRYPTABLE) {
		fail_internal(l, "the TOTP secret does not decrypt (wrong key file or tampered row)");
	} else if (status == ACCOUNT_CRYPTO_FAILED) {
		answer(l->res, FLOW_FAIL, MSG_SERVICE);
		explain(l->res, "cryptographic failure: %s", what);
	} else {
		fail_database(l, what);
	}
}

static void audit(login_t *l, uint64_t user_id, uint64_t company_id, char const *event, char const *detail)
{
	/* An audit row that cannot be written does not change the answer. */
	(void)store_audit(l->conn, l->now, ACTOR, user_id, company_id, event, detail, l->address);
}

/* ---- lockout ---------------------------------------------------------- */

/*
 * The lockout (core/lockout.h) in the order of a check:
 *   lockout_check  before the check: decayed records forgotten, then
 *                  refused when a lock applies or a dimension is full;
 *   take_attempt   the attempt counted on the pair and the name before the
 *                  check runs, refused (and given back) when it goes over;
 *   count_failure  the check failed: the attempt stays, the core says
 *                  whether it locks the pair or the name;
 *   give_back      the check passed (or could not run): the attempt given back;
 *   reset_failures the login succeeded: the records cleared.
 */

static bool trust_allowed(login_t const *l);

/* The request's address is trusted for the user, and that trust counts (policy_trust_counts). */
static bool address_trust_counts(login_t const *l, store_login_t const *row)
{
	return row->trusted && trust_allowed(l) &&
	       policy_trust_counts(row->trusted_how, row->totp_status == TOTP_STATUS_ACTIVE);
}

static void lockout_facts(login_t const *l, store_login_t const *row, lockout_record_t const *pair,
			  lockout_record_t const *name, lockout_facts_t *f)
{
	memset(f, 0, sizeof(*f));
	f->pair = *pair;
	f->name = *name;
	f->exempt_from_name = lockout_exempt_from_name(address_trust_counts(l, row), l->req->message_authenticator);
	f->now = l->now;
}

/* Before the check, on the records looked up: LOCKOUT_GO, or why the request is refused. */
static lockout_verdict_t lockout_check(login_t *l, store_login_t const *row)
{
	lockout_config_t const *cfg = &l->cfg->lockout;
	lockout_record_t pair = lockout_effective(cfg, &row->pair_record, l->now);
	lockout_record_t name = lockout_effective(cfg, &row->name_record, l->now);
	lockout_facts_t f;

	/* a decayed record starts again; a concurrent change keeps it (STORE_CONFLICT) */
	if (lockout_decayed(cfg, &row->pair_record, l->now)) {
		(void)store_failure_forget(l->conn, l->login, l->login_len, l->address, LOCKOUT_PAIR, &row->pair_record);
	}
	if (lockout_decayed(cfg, &row->name_record, l->now)) {
		(void)store_failure_forget(l->conn, l->login, l->login_len, l->address, LOCKOUT_NAME, &row->name_record);
	}
	lockout_facts(l, row, &pair, &name, &f);
	return lockout_before_take(cfg, &f);
}

/* Refused by the lockout: "too many attempts", and which rule in the log. */
static void reject_locked(login_t *l, lockout_verdict_t verdict)
{
	answer(l->res, FLOW_REJECT, MSG_LOCKED);
	explain(l->res, "%s", lockout_verdict_name(verdict));
}

/*
 * Take an attempt before running a check (password or code): true when the
 * check may run, the attempt then counted until given back.  Otherwise the
 * result is set: refused (the attempt given back) or a database error.
 */
static bool take_attempt(login_t *l, store_login_t const *row)
{
	lockout_facts_t f;
	lockout_verdict_t verdict;

	if (store_failure_take(l->conn, l->login, l->login_len, l->address, l->now, &l->taken_pair,
			       &l->taken_name) != STORE_OK) {
		fail_database(l, "lockout count");
		return false;
	}
	lockout_facts(l, row, &l->taken_pair, &l->taken_name, &f);
	verdict = lockout_after_take(&l->cfg->lockout, &f);
	if (verdict != LOCKOUT_GO) {
		(void)store_failure_give_back(l->conn, l->login, l->login_len, l->address);
		reject_locked(l, verdict);
		return false;
	}
	l->attempt_taken = true;
	return true;
}

/* The check passed, or did not run to a verdict: the attempt is given back. */
static void give_back(login_t *l)
{
	if (!l->attempt_taken) return;
	l->attempt_taken = false;
	(void)store_failure_give_back(l->conn, l->login, l->login_len, l->address);
}

/* Lock one dimension if this failure reaches its threshold; true when this request locked it. */
static bool lock_if_due(login_t *l, lockout_dimension_t dim, lockout_record_t const *taken, uint64_t user_id,
			uint64_t company_id)
{
	int64_t until = 0;

	if (!lockout_after_failure(&l->cfg->lockout, dim, taken->failures, taken->lockouts, l->now, &until)) {
		return false;
	}
	if (store_failure_lock(l->conn, l->login, l->login_len, l->address, dim, taken->lockouts, until) != STORE_OK) {
		return false;	/* a concurrent failure locked it first, or the database failed */
	}
	audit(l, user_id, company_id, "lockout",
	      dim == LOCKOUT_PAIR ? "too many failures of this name from this address" : "too many failures of this name");
	return true;
}

/*
 * The check failed: the attempt taken before it stays counted; true when
 * this failure locked the pair or the name.  The store counts, the core
 * decides, the store applies each lock with one conditional write (a
 * concurrent failure that locked it first wins).
 */
static bool count_failure(login_t *l, uint64_t user_id, uint64_t company_id)
{
	bool pair_locked, name_locked;

	if (!l->attempt_taken) return false;
	l->attempt_taken = false;
	pair_locked = lock_if_due(l, LOCKOUT_PAIR, &l->taken_pair, user_id, company_id);
	name_locked = lock_if_due(l, LOCKOUT_NAME, &l->taken_name, user_id, company_id);
	return pair_locked || name_locked;
}

/*
 * The login succeeded: the pair's record is cleared, and the name's unless
 * a lock of the name (earned from elsewhere) runs (lockout_success_clears_name).
 */
static void reset_failures(login_t *l, store_login_t const *row)
{
	bool taken = l->taken_name.last_failure_at != 0;	/* this request took an attempt (and gave it back) */
	lockout_record_t const *pair = taken ? &l->taken_pair : &row->pair_record;
	lockout_record_t const *name = taken ? &l->taken_name : &row->name_record;
	uint32_t own = taken ? 1 : 0;

	give_back(l);
	/* the common case writes nothing more: the give back deleted the records that held only this attempt */
	if (pair->failures > own || pair->lockouts || pair->locked_until) {
		(void)store_failure_clear(l->conn, l->login, l->login_len, l->address, LOCKOUT_PAIR, l->now);
	}
	if ((name->failures > own || name->lockouts || name->locked_until) &&
	    lockout_success_clears_name(name, l->now)) {
		(void)store_failure_clear(l->conn, l->login, l->login_len, l->address, LOCKOUT_NAME, l->now);
	}
}

/* Reject a failed step: counted, and "too many attempts" when this failure locked the pair or the name. */
static void reject_counted(login_t *l, store_login_t const *row, char const *message)
{
	answer(l->res, FLOW_REJECT, count_failure(l, row->user_id, row->company_id) ? MSG_LOCKED : message);
}

/* ---- trusted addresses ------------------------------------------------ */

static bool trust_allowed(login_t const *l)
{
	return l->trust_refusal == NULL;
}

/*
 * Trust the request's address for the user (or prove it again, which moves
 * its expiry).  An address proven less than TRUST_TOUCH_INTERVAL ago and
 * proven again by a code is left as it is: a gateway in single-pass mode
 * proves it at every login.  Enrollment, email and recovery always write.
 */
static void trust_address(login_t *l, store_login_t const *row, trust_how_t how)
{
	char detail[64];

	if (!trust_allowed(l)) return;
	if (how == TRUST_BY_CODE && row->trusted && row->trusted_how == TRUST_BY_CODE &&
	    row->trusted_proven_at >= l->now - TRUST_TOUCH_INTERVAL) {
		return;
	}
	if (account_trust(l->conn, row->user_id, l->scope, l->address, l->addr_kind, how, l->now,
			  l->cfg->trust_lifetime) != ACCOUNT_OK) {
		return;
	}
	snprintf(detail, sizeof(detail), "address trusted by %s", policy_trust_how_name(how));
	audit(l, row->user_id, row->company_id, "address_trusted", detail);
}

/* ---- answers of round 1 ----------------------------------------------- */

/* A new State in the result, and its digest (the challenge row's key).  false after setting the result. */
static bool new_state(login_t *l, uint8_t digest[CHALLENGE_TOKEN_DIGEST_LEN])
{
	uint8_t raw[CHALLENGE_TOKEN_RAW_LEN];
	bool made;

	made = challenge_token_new(raw, l->res->state) == 0 && challenge_token_digest(raw, digest) == 0;
	OPENSSL_cleanse(raw, sizeof(raw));
	if (!made) fail_internal(l, "cannot make a State");
	return made;
}

/* Record the challenge of the State just made, and answer with it. */
static bool store_challenge(login_t *l, uint8_t const digest[CHALLENGE_TOKEN_DIGEST_LEN], uint64_t user_id,
			    challenge_kind_t kind, char const *message)
{
	if (store_challenge_create(l->conn, digest, user_id, kind, l->req->nas, l->address, l->now,
				   l->now + l->cfg->challenge_lifetime, l->cfg->challenge_attempts) != STORE_OK) {
		fail_database(l, "challenge");
		return false;
	}
	answer(l->res, FLOW_CHALLENGE, message);
	return true;
}

static bool open_challenge(login_t *l, uint64_t user_id, challenge_kind_t kind, char const *message)
{
	uint8_t digest[CHALLENGE_TOKEN_DIGEST_LEN];

	return new_state(l, digest) && store_challenge(l, digest, user_id, kind, message);
}

/* Accepted without two-step verification: the reminder, and the days left when it is mandatory. */
static void accept_with_reminder(login_t *l, store_login_t const *row, bool mandatory, int64_t grace_left)
{
	char message[FLOW_MESSAGE_MAX];

	if (mandatory) {
		int64_t days = policy_days_left(grace_left);

		snprintf(message, sizeof(message),
			 "Protect your account: set up two-step verification. %lld day%s left.",
			 (long long)days, days == 1 ? "" : "s");
		l->res->has_grace = true;
		l->res->grace_seconds = grace_left;
	} else {
		snprintf(message, sizeof(message), "Protect your account: set up two-step verification.");
	}
	reset_failures(l, row);
	l->res->enrolled = 0;
	answer(l->res, FLOW_ACCEPT, message);
}

/*
 * No 2FA, and setting it up is due or asked for, from a proven address: a
 * fresh secret, bound to this challenge (never a pending one shown before:
 * whoever saw that one could otherwise wait for its owner to confirm it),
 * its key in Reply-Message (unless the operator keeps it to the URI) and
 * its otpauth URI in VRMS2FA-OTPAuth-URI (encrypted on the wire).
 */
static void challenge_enrollment(login_t *l, store_login_t const *row)
{
	uint8_t digest[CHALLENGE_TOKEN_DIGEST_LEN], secret[ACCOUNT_SECRET_LEN];
	char grouped[ACCOUNT_SECRET_LEN * 2 + 64], message[FLOW_MESSAGE_MAX];
	totp_params_t params = l->cfg->totp;
	account_status_t status;
	bool formatted, uri_fits;

	if (!new_state(l, digest)) return;
	status = account_enroll_begin(l->conn, l->cfg->keyring, row->user_id, &params, l->now, digest, secret);
	if (status != ACCOUNT_OK) {
		fail_account(l, status, "enrollment secret");
		return;
	}
	audit(l, row->user_id, row->company_id, "enrollment_started", "over RADIUS");
	formatted = otpauth_uri(l->cfg->issuer, l->login, &params, secret, sizeof(secret), l->res->uri,
				sizeof(l->res->uri)) == 0 &&
		    otpauth_key_grouped(secret, sizeof(secret), grouped, sizeof(grouped)) == 0;
	OPENSSL_cleanse(secret, sizeof(secret));
	if (!formatted) {
		OPENSSL_cleanse(l->res->uri, sizeof(l->res->uri));
		OPENSSL_cleanse(grouped, sizeof(grouped));
		fail_internal(l, "cannot format the enrollment key");
		return;
	}
	uri_fits = strlen(l->res->uri) <= FLOW_URI_WIRE_MAX;
	if (l->cfg->key_in_message || !uri_fits) {
		snprintf(message, sizeof(message), MSG_ENROLL_KEY, grouped);
	} else {
		snprintf(message, sizeof(message), "%s", MSG_ENROLL_NO_KEY);
	}
	OPENSSL_cleanse(grouped, sizeof(grouped));
	if (store_challenge(l, digest, row->user_id, CHALLENGE_ENROLL, message) && uri_fits) {
		l->res->has_uri = true;
		explain(l->res, "enrollment challenge");
	} else {
		if (l->res->code == FLOW_CHALLENGE) {
			explain(l->res, "enrollment challenge; the otpauth URI (%zu bytes) is longer than the %d bytes"
				" VRMS2FA-OTPAuth-URI can carry: the key is in Reply-Message only",
				strlen(l->res->uri), FLOW_URI_WIRE_MAX);
		}
		OPENSSL_cleanse(l->res->uri, sizeof(l->res->uri));
	}
	OPENSSL_cleanse(message, sizeof(message));
}

/* The facts the email hook gets, in its environment (and nothing else but PATH). */
static int run_email_hook(login_t *l, store_login_t const *row, char const *code, char const *token,
			  char const *link, int64_t expires, hook_result_t *hr)
{
	enum { NENV = 11 };
	char env[NENV][1200];
	char const *envp[NENV + 1];
	char when[64];
	time_t t = (time_t)expires;
	struct tm tm;
	int i, rc;

	if (!gmtime_r(&t, &tm) || strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm) == 0) when[0] = '\0';
	snprintf(env[0], sizeof(env[0]), "PATH=/usr/local/bin:/usr/bin:/bin");
	snprintf(env[1], sizeof(env[1]), "VRMS2FA_LOGIN=%s", l->login);
	snprintf(env[2], sizeof(env[2]), "VRMS2FA_EMAIL=%s", row->email);
	snprintf(env[3], sizeof(env[3]), "VRMS2FA_COMPANY=%s", row->company);
	snprintf(env[4], sizeof(env[4]), "VRMS2FA_ADDRESS=%s", l->address);
	snprintf(env[5], sizeof(env[5]), "VRMS2FA_NAS=%s", l->req->nas);
	snprintf(env[6], sizeof(env[6]), "VRMS2FA_CODE=%s", code);
	snprintf(env[7], sizeof(env[7]), "VRMS2FA_TOKEN=%s", token);
	snprintf(env[8], sizeof(env[8]), "VRMS2FA_LINK=%s", link);
	snprintf(env[9], sizeof(env[9]), "VRMS2FA_EXPIRES=%lld", (long long)expires);
	snprintf(env[10], sizeof(env[10]), "VRMS2FA_EXPIRES_UTC=%s", when);
	for (i = 0; i < NENV; i++) envp[i] = env[i];
	envp[NENV] = NULL;

	rc = hook_run(l->cfg->email_hook_argv, envp, l->cfg->email_hook_timeout_ms, hr);
	OPENSSL_cleanse(env, sizeof(env));
	return rc;
}

/*
 * A new confirmation (or new secrets for one whose email never went out),
 * sent through the hook.  True when the email went out; otherwise the
 * result is set.
 */
static bool send_confirmation(login_t *l, store_login_t const *row, uint64_t pending_id)
{
	flow_config_t const *cfg = l->cfg;
	char code[EMAIL_CODE_DIGITS + 1], token[EMAIL_TOKEN_TEXT_LEN + 1], link[1024];
	uint8_t salt[EMAIL_SALT_LEN], code_hash[EMAIL_HASH_LEN], token_hash[EMAIL_HASH_LEN];
	int64_t expires = l->now + cfg->email_code_lifetime;
	uint64_t id = pending_id;
	uint32_t sends = 0;
	hook_result_t hr;
	store_status_t rc;
	bool sent = false;

	if (store_email_sends_since(l->conn, row->user_id, l->now - EMAIL_RATE_WINDOW, &sends) != STORE_OK) {
		fail_database(l, "email rate");
		return false;
	}
	if (sends >= cfg->email_max_per_hour) {
		answer(l->res, FLOW_REJECT, MSG_EMAIL_LIMIT);
		explain(l->res, "confirmation emails per hour limit reached");
		return false;
	}
	if (!hook_gate_enter(cfg->email_gate)) {
		answer(l->res, FLOW_REJECT, MSG_EMAIL_FAILED);
		explain(l->res, "email not sent: email.max_running_hooks hooks are running already (mail server slow?)");
		return false;
	}
	if (email_code_new(code) != 0 || email_token_new(token) != 0 || email_salt_new(salt) != 0 ||
	    email_code_hash(code, EMAIL_CODE_DIGITS, salt, code_hash) != 0 ||
	    email_token_hash(token, EMAIL_TOKEN_TEXT_LEN, token_hash) != 0 ||
	    email_link(cfg->email_link_url, token, link, sizeof(link)) != 0) {
		fail_internal(l, "cannot make an email confirmation");
		goto done;
	}
	rc = id ? store_email_renew(l->conn, id, salt, code_hash, token_hash, expires)
		: store_email_create(l->conn, row->user_id, l->scope, l->address, trust_allowed(l), salt, code_hash,
				     token_hash, l->now, expires, &id);
	if (rc == STORE_OK) rc = store_email_record_send(l->conn, row->user_id, l->now);
	if (rc != STORE_OK) {
		fail_database(l, "email confirmation");
		goto done;
	}
	if (run_email_hook(l, row, code, token, link, expires, &hr) != 0) {
		answer(l->res, FLOW_REJECT, MSG_EMAIL_FAILED);
		explain(l->res, "email hook failed (%s%d): %.200s", hr.timed_out ? "timed out, " : "exit ", hr.exit_status,
			hr.message);
		audit(l, row->user_id, row->company_id, "email_failed", hr.timed_out ? "hook timed out" : "hook failed");
		goto done;
	}
	if (store_email_mark_sent(l->conn, id, l->now) != STORE_OK) {
		fail_database(l, "email sent");
		goto done;
	}
	audit(l, row->user_id, row->company_id, "email_sent", "login confirmation");
	sent = true;
done:
	hook_gate_leave(cfg->email_gate);
	OPENSSL_cleanse(code, sizeof(code));
	OPENSSL_cleanse(token, sizeof(token));
	OPENSSL_cleanse(link, sizeof(link));
	return sent;
}

/* No 2FA, new address: confirm by email (a code to type back, or the link). */
static void confirm_by_email(login_t *l, store_login_t const *row)
{
	char masked[STORE_EMAIL_MAX + 8], message[FLOW_MESSAGE_MAX];
	store_email_t pending;
	store_status_t rc;

	if (!row->has_email) {
		answer(l->res, FLOW_REJECT, MSG_NO_EMAIL);
		explain(l->res, "new address and no email address to confirm it");
		return;
	}
	if (text_mask_email(row->email, masked, sizeof(masked)) != 0) snprintf(masked, sizeof(masked), "your email address");
	snprintf(message, sizeof(message), MSG_EMAIL_SENT, masked);

	rc = store_email_pending(l->conn, row->user_id, l->address, l->now, &pending);
	if (rc != STORE_OK && rc != STORE_NOT_FOUND) {
		fail_database(l, "email confirmation");
		return;
	}
	if (rc == STORE_OK && pending.sent) {
		explain(l->res, "pending email confirmation reused, no new email");
	} else if (!send_confirmation(l, row, rc == STORE_OK ? pending.id : 0)) {
		return;
	} else {
		explain(l->res, "confirmation email sent");
	}

	if (l->mode != CLIENT_MODE_CHALLENGE || l->no_challenge) {
		/* A gateway that cannot show a challenge: the link in the email confirms out of band. */
		answer(l->res, FLOW_REJECT, MSG_EMAIL_LINK_ONLY);
		return;
	}
	(void)open_challenge(l, row->user_id, CHALLENGE_EMAIL, message);
}

/* ---- second steps: one row per challenge kind -------------------------- */

/*
 * The second factor of a user with active 2FA: a TOTP code (its time step
 * recorded, so that it is accepted once) or an unused recovery code.
 */
static step_outcome_t verify_code(login_t *l, store_login_t const *row, uint8_t const *typed, size_t typed_len,
				  trust_how_t *how)
{
	uint64_t counter = 0;
	account_status_t status;
	store_status_t rc;

	if (row->totp_status != TOTP_STATUS_ACTIVE) {
		explain(l->res, "no active TOTP secret");
		return STEP_WRONG;
	}
	status = account_code_check(l->cfg->keyring, row->user_id, &row->secret, typed, typed_len, l->now,
				    l->cfg->totp_window, &counter);
	if (status == ACCOUNT_UNDECRYPTABLE) return STEP_UNDECRYPTABLE;
	if (status == ACCOUNT_OK) {
		rc = store_secret_advance(l->conn, row->user_id, counter);
		if (rc == STORE_OK) {
			*how = TRUST_BY_CODE;
			return STEP_PASSED;
		}
		if (rc != STORE_CONFLICT) return STEP_ERROR;
		explain(l->res, "code of an already used time step refused (replay)");
		return STEP_WRONG;
	}
	if (status != ACCOUNT_REFUSED) return STEP_ERROR;

	status = account_recovery_use(l->conn, row->user_id, typed, typed_len, l->now);
	if (status == ACCOUNT_OK) {
		*how = TRUST_BY_RECOVERY;
		audit(l, row->user_id, row->company_id, "recovery_code_used", "");
		return STEP_PASSED;
	}
	if (status != ACCOUNT_REFUSED) return STEP_ERROR;
	explain(l->res, "wrong or expired code");
	return STEP_WRONG;
}

/* The first code of a pending secret activates it. */
static step_outcome_t verify_enrollment(login_t *l, store_login_t const *row, uint8_t const *typed, size_t typed_len,
					trust_how_t *how)
{
	uint64_t counter = 0;
	account_status_t status;

	*how = TRUST_BY_ENROLLMENT;
	if (row->totp_status != TOTP_STATUS_PENDING) {
		explain(l->res, "no pending secret to confirm");
		return STEP_WRONG;
	}
	/* only the challenge that showed the secret confirms it (a later challenge made a new one) */
	if (!row->secret.has_challenge_digest ||
	    CRYPTO_memcmp(row->secret.challenge_digest, l->digest, CHALLENGE_TOKEN_DIGEST_LEN) != 0) {
		explain(l->res, "the pending secret was not made for this challenge");
		return STEP_WRONG;
	}
	status = account_code_check(l->cfg->keyring, row->user_id, &row->secret, typed, typed_len, l->now,
				    l->cfg->totp_window, &counter);
	if (status == ACCOUNT_UNDECRYPTABLE) return STEP_UNDECRYPTABLE;
	if (status == ACCOUNT_REFUSED) {
		explain(l->res, "wrong or expired enrollment code");
		return STEP_WRONG;
	}
	if (status != ACCOUNT_OK) return STEP_ERROR;

	status = account_enroll_activate(l->conn, row->user_id, &row->secret, counter, l->now);
	if (status == ACCOUNT_REFUSED) return STEP_WRONG;	/* confirmed or reset meanwhile */
	if (status != ACCOUNT_OK) return STEP_ERROR;
	audit(l, row->user_id, row->company_id, "enrollment_confirmed", "over RADIUS");
	return STEP_PASSED;
}

/* The code sent by email for this address. */
static step_outcome_t verify_email(login_t *l, store_login_t const *row, uint8_t const *typed, size_t typed_len,
				   trust_how_t *how)
{
	store_email_t pending;
	uint8_t hash[EMAIL_HASH_LEN];
	step_outcome_t outcome = STEP_WRONG;
	store_status_t rc;

	*how = TRUST_BY_EMAIL;
	if (!policy_email_confirmation_usable(row->disabled, row->totp_status == TOTP_STATUS_ACTIVE)) {
		explain(l->res, "emailed code refused: the user has set up two-step verification since");
		return STEP_WRONG;
	}
	rc = store_email_pending(l->conn, row->user_id, row->challenge.address, l->now, &pending);
	if (rc != STORE_OK && rc != STORE_NOT_FOUND) return STEP_ERROR;
	if (rc == STORE_NOT_FOUND || !pending.sent) {
		explain(l->res, "no pending email confirmation");
		return STEP_WRONG;
	}
	if (email_code_hash((char const *)typed, typed_len, pending.salt, hash) == 0 &&
	    CRYPTO_memcmp(hash, pending.code_hash, EMAIL_HASH_LEN) == 0) {
		rc = store_email_confirm_code(l->conn, pending.id, l->now);
		if (rc == STORE_OK) {
			outcome = STEP_PASSED;
			audit(l, row->user_id, row->company_id, "email_confirmed", "by code");
		} else if (rc != STORE_CONFLICT) {
			outcome = STEP_ERROR;
		}
	} else {
		explain(l->res, "wrong emailed code");
	}
	OPENSSL_cleanse(hash, sizeof(hash));
	return outcome;
}

/*
 * The table between round 2 and the checks behind it, in the spirit of
 * OpenSSH's KbdintDevice: a new kind of challenge is a row.  verify checks
 * what the user typed and records its single use; it sets *how to the way
 * the address is then trusted.
 */
typedef struct {
	challenge_kind_t	kind;
	step_outcome_t		(*verify)(login_t *l, store_login_t const *row, uint8_t const *typed, size_t typed_len,
					  trust_how_t *how);
	char const		*accept_message;	/* Reply-Message of the Accept ("" none; email: the reminder) */
} second_step_t;

static second_step_t const SECOND_STEPS[CHALLENGE_KIND_COUNT] = {
	[CHALLENGE_CODE]	= { CHALLENGE_CODE, verify_code, "" },
	[CHALLENGE_ENROLL]	= { CHALLENGE_ENROLL, verify_enrollment, MSG_ENROLLED },
	[CHALLENGE_EMAIL]	= { CHALLENGE_EMAIL, verify_email, NULL },
};

/* ---- round 1 ----------------------------------------------------------- */

/* 2FA active and a single-pass gateway: the code came with the password. */
static void single_pass_second_factor(login_t *l, store_login_t const *row, uint8_t const *code, size_t code_len)
{
	trust_how_t how = TRUST_BY_CODE;

	switch (verify_code(l, row, code, code_len, &how)) {
	case STEP_PASSED:
		reset_failures(l, row);
		trust_address(l, row, how);
		l->res->enrolled = 1;
		answer(l->res, FLOW_ACCEPT, "");
		explain(l->res, "password and code accepted (single pass)");
		return;
	case STEP_WRONG:
		reject_counted(l, row, MSG_LOGIN_FAILED);
		return;
	case STEP_UNDECRYPTABLE:
		give_back(l);
		fail_account(l, ACCOUNT_UNDECRYPTABLE, "second factor");
		return;
	case STEP_ERROR:
		give_back(l);
		fail_database(l, "second factor");
		return;
	}
	give_back(l);
}

/* ---- device approval --------------------------------------------------- */

/*
 * 2FA active, a new device, and a client that cannot show a challenge (EAP):
 * rejected, and the device waits for approval (sql/008_device_approval.sql)
 * in this request's trust scope, unless its address could never be trusted.
 * A device that tries again finds its pending approval (no new one); a user
 * may request at most APPROVAL_MAX_PER_HOUR approvals an hour.
 */
static void ask_device_approval(login_t *l, store_login_t const *row)
{
	store_approval_t pending;
	store_status_t rc;
	uint32_t recent = 0;

	if (!trust_allowed(l)) {
		answer(l->res, FLOW_REJECT, MSG_DEVICE_UNAPPROVABLE);
		explain(l->res, "new device, no challenge possible, and its address cannot be trusted: %s", l->trust_refusal);
		return;
	}
	rc = store_approval_pending(l->conn, row->user_id, l->scope, l->address, l->now, &pending);
	if (rc == STORE_OK) {
		(void)store_approval_seen(l->conn, pending.id, l->now);
		answer(l->res, FLOW_REJECT, MSG_DEVICE_APPROVAL);
		explain(l->res, "new device, no challenge possible: approval already pending");
		return;
	}
	if (rc != STORE_NOT_FOUND) {
		fail_database(l, "device approval");
		return;
	}
	if (store_approval_count_since(l->conn, row->user_id, l->now - 3600, &recent) != STORE_OK) {
		fail_database(l, "device approval rate");
		return;
	}
	if (recent >= APPROVAL_MAX_PER_HOUR) {
		answer(l->res, FLOW_REJECT, MSG_DEVICE_APPROVAL_LIMIT);
		explain(l->res, "new device, no challenge possible: approvals per hour limit reached");
		return;
	}
	if (store_approval_request(l->conn, row->user_id, l->scope, l->address, l->addr_kind, l->req->nas, l->now,
				   l->now + APPROVAL_LIFETIME) != STORE_OK) {
		fail_database(l, "device approval");
		return;
	}
	audit(l, row->user_id, row->company_id, "device_approval_requested", "new device, no challenge possible");
	answer(l->res, FLOW_REJECT, MSG_DEVICE_APPROVAL);
	explain(l->res, "new device, no challenge possible: approval requested");
}

/*
 * A request from the web backend to approve a pending device
 * (VRMS2FA-Approve-Device = the device's address, User-Password = a
 * current code of the user's authenticator).  Honoured only from a client
 * the operator allowed, signed (policy_approval_request_honoured); the
 * code is checked like round 2's (replay counter, recovery codes, the
 * lockout), and only when a device is pending, so that a request naming
 * none uses up no code.  The device then becomes a trusted address of the
 * user in the scope it was seen in.
 */
static void approve_device(login_t *l)
{
	flow_request_t const *req = l->req;
	char device[ADDR_TEXT_MAX];
	addr_kind_t kind;
	store_approval_t pending;
	store_login_t row;
	store_status_t rc;
	trust_how_t how = TRUST_BY_CODE;
	lockout_verdict_t lock;

	if (!policy_approval_request_honoured(req->approval_client, req->message_authenticator)) {
		answer(l->res, FLOW_REJECT, MSG_APPROVAL_REFUSED);
		explain(l->res, "device approval refused: %s", req->approval_client ? "the request is not signed"
				: "this client may not approve devices (VRMS2FA-Allow-Approve-Device)");
		return;
	}
	kind = addr_normalise(req->approve_device, req->approve_device_len, device);
	if (kind == ADDR_INVALID) {
		answer(l->res, FLOW_REJECT, MSG_APPROVAL_NONE);
		explain(l->res, "device approval: not an address");
		return;
	}
	if (store_login_lookup(l->conn, l->login, l->login_len, "", device, req->now, NULL, &row) != STORE_OK) {
		fail_database(l, "login lookup");
		return;
	}
	use_database_clock(l, &row);
	lock = lockout_check(l, &row);
	if (lock != LOCKOUT_GO) {
		reject_locked(l, lock);
		return;
	}
	if (!row.user_found || row.disabled || row.totp_status != TOTP_STATUS_ACTIVE) {
		answer(l->res, FLOW_REJECT, MSG_APPROVAL_NONE);
		explain(l->res, "device approval: unknown or disabled user, or no active 2FA");
		return;
	}
	rc = store_approval_pending(l->conn, row.user_id, NULL, device, l->now, &pending);
	if (rc == STORE_NOT_FOUND) {
		answer(l->res, FLOW_REJECT, MSG_APPROVAL_NONE);
		explain(l->res, "device approval: no pending approval of %s", device);
		return;
	}
	if (rc != STORE_OK) {
		fail_database(l, "device approval");
		return;
	}
	if (!take_attempt(l, &row)) return;	/* counted before the code is checked */
	switch (req->has_password ? verify_code(l, &row, req->password, req->password_len, &how) : STEP_WRONG) {
	case STEP_PASSED:
		give_back(l);
		break;
	case STEP_WRONG:
		reject_counted(l, &row, MSG_CODE_FAILED);
		if (l->res->log[0] == '\0') explain(l->res, "device approval: wrong code");
		return;
	case STEP_UNDECRYPTABLE:
		give_back(l);
		fail_account(l, ACCOUNT_UNDECRYPTABLE, "device approval");
		return;
	case STEP_ERROR:
	default:
		give_back(l);
		fail_database(l, "device approval");
		return;
	}
	rc = store_approval_approve(l->conn, pending.id, l->now, "code");
	if (rc == STORE_CONFLICT) {
		answer(l->res, FLOW_REJECT, MSG_APPROVAL_NONE);
		explain(l->res, "device approval: approved or expired meanwhile");
		return;
	}
	if (rc != STORE_OK ||
	    account_trust(l->conn, row.user_id, pending.scope, pending.address, pending.kind, how, l->now,
			  l->cfg->trust_lifetime) != ACCOUNT_OK) {
		fail_database(l, "device approval");
		return;
	}
	audit(l, row.user_id, row.company_id, "device_approved", how == TRUST_BY_RECOVERY ? "by recovery code over RADIUS"
	      : "by code over RADIUS");
	audit(l, row.user_id, row.company_id, "address_trusted", "address trusted by device approval");
	answer(l->res, FLOW_ACCEPT, MSG_DEVICE_APPROVED);
	explain(l->res, "device %s approved", pending.address);
}

/* Carry out the decision of the round 1 table (policy_decide). */
static void act_on_decision(login_t *l, store_login_t const *row, decision_t decision, bool mandatory,
			    int64_t grace_left, uint8_t const *code, size_t code_len)
{
	switch (decision) {
	case DECISION_ACCEPT:
		reset_failures(l, row);
		/* last_used_at moves at most once an hour: the trusted path normally writes nothing */
		if (row->trusted_last_used < l->now - TRUST_TOUCH_INTERVAL) {
			(void)store_trust_touch(l->conn, row->user_id, l->scope, l->address, l->now);
		}
		answer(l->res, FLOW_ACCEPT, "");
		explain(l->res, "trusted address, code not asked");
		return;

	case DECISION_CHALLENGE_CODE:
		if (open_challenge(l, row->user_id, CHALLENGE_CODE, MSG_ENTER_CODE)) explain(l->res, "verification code asked");
		return;

	case DECISION_CHALLENGE_ENROLL:
		challenge_enrollment(l, row);
		return;

	case DECISION_EMAIL_CONFIRM:
		confirm_by_email(l, row);
		return;

	case DECISION_ACCEPT_WITH_REMINDER:
		accept_with_reminder(l, row, mandatory, grace_left);
		explain(l->res, "accepted without two-step verification (%s)", policy_decision_name(decision));
		return;

	case DECISION_SINGLE_PASS_CODE:
		single_pass_second_factor(l, row, code, code_len);
		return;

	case DECISION_REJECT_MUST_ENROLL:
		answer(l->res, FLOW_REJECT, MSG_MUST_ENROLL_HERE);
		explain(l->res, "enrollment required; single-pass gateways cannot show it");
		return;

	case DECISION_REJECT_ENROLL_UNPROVEN:
		answer(l->res, FLOW_REJECT, MSG_ENROLL_UNPROVEN);
		explain(l->res, "enrollment required, from a new address, and email confirmation is off");
		return;

	case DECISION_REJECT_CODE_REQUIRED:
		/* the password was right: its attempt was given back, as a challenge's is */
		answer(l->res, FLOW_REJECT, MSG_CODE_REQUIRED);
		explain(l->res, "single pass: the password alone from an address not trusted; a code is required");
		return;

	case DECISION_REJECT_DEVICE_APPROVAL:
		ask_device_approval(l, row);
		return;
	}
	answer(l->res, FLOW_REJECT, MSG_LOGIN_FAILED);
}

/* What was typed in round 1: the password, and in single pass the code that came with it. */
typedef struct {
	uint8_t const	*password;
	size_t		password_len;
	uint8_t const	*code;
	size_t		code_len;
	bool		code_sent;
} typed_t;

/*
 * The facts of round 1's password step, before the check: the account,
 * and what was typed (*typed).  In single pass, OpenVPN's "SCRV1:" text
 * gives the password and the code as its two fields; otherwise, for a user
 * with active 2FA, policy_single_pass_split finds where the code starts.
 * A code is only read for a user with active 2FA: anyone else's whole
 * password field is the password.
 */
static void password_facts_of(login_t const *l, store_login_t const *row, typed_t *typed, password_facts_t *pw)
{
	flow_config_t const *cfg = l->cfg;
	bool twofa = row->user_found && row->totp_status == TOTP_STATUS_ACTIVE;

	memset(pw, 0, sizeof(*pw));
	memset(typed, 0, sizeof(*typed));
	typed->password = l->req->password;
	typed->password_len = l->req->password_len;
	pw->user_found = row->user_found;
	pw->disabled = row->disabled;
	pw->has_password_hash = row->has_password_hash;
	pw->external_password = cfg->external_password;
	if (l->mode != CLIENT_MODE_SINGLE_PASS) return;

	if (l->scrv1_status == SCRV1_MALFORMED) {
		pw->malformed = true;
	} else if (l->scrv1_status == SCRV1_OK) {
		typed->password = l->scrv1.password;
		typed->password_len = l->scrv1.password_len;
		if (twofa && l->scrv1.response_len > 0) {
			typed->code = l->scrv1.response;
			typed->code_len = l->scrv1.response_len;
			typed->code_sent = true;
		}
	} else if (twofa && l->req->password) {
		single_pass_split_t split;

		policy_single_pass_split(l->req->password, l->req->password_len, row->secret.params.digits, &split);
		typed->password_len = split.password_len;
		if (split.code_sent) {
			typed->code = l->req->password + split.password_len;
			typed->code_len = split.code_len;
			typed->code_sent = true;
		}
	}
}

/*
 * Rebuild the dummy hashes from the profiles of the users' hashes when
 * they are due (password.dummy_refresh): one login does it, the others go
 * on with the current set.  A profile whose dummy exists already keeps it;
 * a new one costs one hash of its kind.  On a database error the set stays
 * and the rebuild is tried again a minute later.
 */
static void refresh_dummies(login_t const *l)
{
	flow_config_t const *cfg = l->cfg;
	store_hash_profile_t profiles[DUMMY_SET_MAX];
	char profile[PASSWORD_HASH_MAX + 1], have[PASSWORD_HASH_MAX + 1];
	char dummy[PASSWORD_HASH_MAX + 1];
	dummy_set_t fresh, current;
	size_t count = 0, i, j;
	uint64_t need;

	if (!cfg->dummies || !dummy_pool_claim(cfg->dummies, l->now, cfg->dummy_refresh, &fresh, &current)) return;
	if (store_hash_profiles(l->conn, profiles, DUMMY_SET_MAX, &count) != STORE_OK) {
		dummy_pool_finish(cfg->dummies, NULL, l->now - (int64_t) cfg->dummy_refresh + 60);
		return;
	}
	for (i = 0; i < count; i++) {
		char const *hash = NULL;

		/* a hash over the memory cap is refused, not checked: no dummy stands for it */
		if (password_memory_needed(profiles[i].sample, &need) != 0 || need > cfg->max_memory) continue;
		if (password_profile(profiles[i].sample, profile, sizeof(profile)) != 0) continue;
		for (j = 0; j < current.count && !hash; j++) {
			if (password_profile(current.entry[j].hash, have, sizeof(have)) == 0 && strcmp(have, profile) == 0) {
				hash = current.entry[j].hash;
			}
		}
		if (!hash && password_dummy_like(profiles[i].sample, dummy, sizeof(dummy)) == 0) hash = dummy;
		if (hash) (void)dummy_set_add(&fresh, hash, profiles[i].users);
	}
	OPENSSL_cleanse(profiles, sizeof(profiles));
	dummy_pool_finish(cfg->dummies, &fresh, l->now);
}

/*
 * The password check: every unknown or unusable account costs a hash
 * check like a known one (a dummy with the profile of the site's hashes,
 * chosen by the login name), and so does a malformed SCRV1 text.
 * Memory-hard checks pass the gate and the memory cap first.  The verdict
 * of the facts.
 */
static password_verdict_t check_password(login_t const *l, store_login_t const *row, typed_t const *typed,
					 password_facts_t *pw)
{
	flow_config_t const *cfg = l->cfg;
	char dummy[PASSWORD_HASH_MAX + 1];
	char const *hash;
	uint64_t need = 0;
	bool gated = false;

	if (cfg->external_password) return policy_password_verdict(pw);
	if (row->user_found && row->has_password_hash) {
		hash = row->password_hash;
	} else {
		hash = cfg->dummy_hash;
		if (cfg->dummies) {
			dummy_pool_pick(cfg->dummies, (uint8_t const *)l->login, l->login_len, dummy);
			if (dummy[0] != '\0') hash = dummy;
		}
	}
	if (password_memory_needed(hash, &need) == 0 && need > 0) {
		if (need > cfg->max_memory) {
			pw->over_memory = true;
			explain(l->res, "the password hash of this user needs %llu MiB, over password.max_memory (%llu MiB):"
				" refused unchecked", (unsigned long long)(need >> 20), (unsigned long long)(cfg->max_memory >> 20));
			return policy_password_verdict(pw);
		}
		if (cfg->memory_gate) {
			gated = memory_gate_enter(cfg->memory_gate, need, cfg->memory_wait_ms);
			if (!gated) {
				pw->gate_full = true;
				return policy_password_verdict(pw);
			}
		}
	}
	pw->verified = password_verify(hash, (char const *)typed->password, typed->password_len);
	if (gated) memory_gate_leave(cfg->memory_gate, need);
	return policy_password_verdict(pw);
}

/* The facts of the round 1 table (policy_decide) for this request and this user. */
static void round1_facts(login_t const *l, store_login_t const *row, typed_t const *typed, login_facts_t *facts)
{
	memset(facts, 0, sizeof(*facts));
	facts->twofa_active = row->totp_status == TOTP_STATUS_ACTIVE;
	facts->address_trusted = address_trust_counts(l, row);
	facts->mandatory = policy_is_mandatory(row->level, row->group_mask, row->group);
	facts->has_deadline = row->has_deadline;
	facts->grace_deadline = row->grace_deadline;
	facts->now = l->now;
	facts->enrollment_requested = l->enrollment_requested;
	facts->single_pass = l->mode == CLIENT_MODE_SINGLE_PASS;
	facts->no_challenge = l->no_challenge;
	facts->code_sent = typed->code_sent;
	facts->email_enabled = l->cfg->email_enabled;
}

/* Round 1: the lock, the password, then the decision table. */
static void round1(login_t *l)
{
	flow_request_t const *req = l->req;
	typed_t typed;
	password_verdict_t verdict;
	login_facts_t facts;
	store_login_t row;
	int64_t grace_left = 0;
	decision_t decision;
	lockout_verdict_t lock;
	password_facts_t pw;

	if (!req->has_password && !l->cfg->external_password) {
		answer(l->res, FLOW_REJECT, MSG_LOGIN_FAILED);
		explain(l->res, "no User-Password");
		return;
	}
	if (store_login_lookup(l->conn, l->login, l->login_len, l->scope, l->address, req->now, NULL, &row) != STORE_OK) {
		fail_database(l, "login lookup");
		return;
	}
	forget_refused_name(l, &row);
	use_database_clock(l, &row);
	lock = lockout_check(l, &row);
	if (lock != LOCKOUT_GO) {
		reject_locked(l, lock);
		return;
	}
	refresh_dummies(l);
	password_facts_of(l, &row, &typed, &pw);
	if (!take_attempt(l, &row)) return;	/* counted before the check: parallel requests cannot outrun the threshold */
	verdict = check_password(l, &row, &typed, &pw);
	if (verdict == PASSWORD_VERDICT_BUSY) {
		give_back(l);
		fail_internal(l, policy_password_verdict_name(verdict));
		return;
	}
	if (verdict != PASSWORD_VERDICT_OK) {
		if (verdict != PASSWORD_VERDICT_OVER_MEMORY) explain(l->res, "%s", policy_password_verdict_name(verdict));
		reject_counted(l, &row, MSG_LOGIN_FAILED);
		return;
	}

	l->res->enrolled = row.totp_status == TOTP_STATUS_ACTIVE;
	round1_facts(l, &row, &typed, &facts);
	decision = policy_decide(&facts, &grace_left);
	/* the password passed; in single pass the same attempt covers the code checked next */
	if (decision != DECISION_SINGLE_PASS_CODE) give_back(l);
	act_on_decision(l, &row, decision, facts.mandatory, grace_left, typed.code, typed.code_len);
}

/* ---- round 2 ----------------------------------------------------------- */

/* Carry out the answer of round 2 (round2_answer). */
static void act_on_answer(login_t *l, store_login_t const *row, second_step_t const *step, round2_answer_t verdict)
{
	switch (verdict) {
	case ROUND2_ACCEPT:
		reset_failures(l, row);
		l->res->enrolled = 1;
		answer(l->res, FLOW_ACCEPT, step->accept_message);
		if (l->res->log[0] == '\0') explain(l->res, "second step passed");
		return;

	case ROUND2_ACCEPT_WITHOUT_2FA: {
		bool mandatory = policy_is_mandatory(row->level, row->group_mask, row->group);

		accept_with_reminder(l, row, mandatory,
				     policy_grace_left(mandatory, row->has_deadline, row->grace_deadline, l->now));
		explain(l->res, "login confirmed with the emailed code");
		return;
	}

	case ROUND2_ENROLL_NEXT:
		/* password and mailbox proven in this login, the address trusted: set up 2FA now */
		challenge_enrollment(l, row);
		l->res->enrolled = 0;
		if (l->res->code == FLOW_CHALLENGE) explain(l->res, "login confirmed with the emailed code; enrollment challenge");
		return;

	case ROUND2_ASK_AGAIN:
		/* the same State: its row counts the attempts */
		memcpy(l->res->state, l->req->state, CHALLENGE_TOKEN_TEXT_LEN);
		l->res->state[CHALLENGE_TOKEN_TEXT_LEN] = '\0';
		answer(l->res, FLOW_CHALLENGE, MSG_CODE_WRONG);
		return;

	case ROUND2_REJECT_STATE:
		answer(l->res, FLOW_REJECT, MSG_STATE_INVALID);
		explain(l->res, "State spent by a concurrent request");
		return;

	case ROUND2_REJECT_LOCKED:
		answer(l->res, FLOW_REJECT, MSG_LOCKED);
		return;

	case ROUND2_REJECT_EXHAUSTED:
		answer(l->res, FLOW_REJECT, MSG_CODE_FAILED);
		return;

	case ROUND2_FAIL:
		break;
	}
	fail_database(l, "second factor");
}

/*
 * The facts of round 2's gate past the State's format (state_well_formed,
 * l->digest set): one attempt of its live challenge taken, the challenge
 * bound to this user, NAS and address, the user's state and the locks that
 * apply (*lock).  *row receives the login lookup with the challenge.  -1
 * after setting the result on a database error; 0 otherwise.
 */
static int round2_gate_facts(login_t *l, store_login_t *row, round2_gate_facts_t *gate, lockout_verdict_t *lock)
{
	flow_request_t const *req = l->req;
	store_status_t rc;

	rc = store_challenge_take_attempt(l->conn, l->digest, req->now);
	if (rc != STORE_OK && rc != STORE_NOT_FOUND) {
		fail_database(l, "challenge");
		return -1;
	}
	gate->attempt_taken = rc == STORE_OK;
	if (!gate->attempt_taken) return 0;

	if (store_login_lookup(l->conn, l->login, l->login_len, l->scope, l->address, req->now, l->digest,
			       row) != STORE_OK) {
		fail_database(l, "login lookup");
		return -1;
	}
	forget_refused_name(l, row);
	use_database_clock(l, row);
	gate->bound_here = row->has_challenge && row->user_found && row->challenge.user_id == row->user_id &&
			   (unsigned)row->challenge.kind < CHALLENGE_KIND_COUNT &&
			   strcmp(row->challenge.nas, req->nas) == 0 && strcmp(row->challenge.address, l->address) == 0;
	gate->user_disabled = row->disabled;
	*lock = lockout_check(l, row);
	gate->locked = *lock != LOCKOUT_GO;
	return 0;
}

/* Reject at the gate, and say why in the log. */
static void reject_at_gate(login_t *l, round2_gate_t stop, lockout_verdict_t lock)
{
	answer(l->res, FLOW_REJECT, stop == ROUND2_STOP_LOCKED ? MSG_LOCKED : MSG_STATE_INVALID);
	explain(l->res, "%s", stop == ROUND2_STOP_LOCKED ? lockout_verdict_name(lock) : round2_gate_name(stop));
}

/*
 * Round 2's reads and writes up to its answer, run inside one transaction
 * (round2): the gate, the attempt taken against the lockout, the
 * challenge's row of SECOND_STEPS checking the answer, and its effects (the
 * State spent and the address trusted, or the failure counted).  true with
 * *facts and *step set when round2_answer is to say what to reply; false
 * when the result is already set (a reject at the gate, a lock, a failure).
 */
static bool round2_settle(login_t *l, store_login_t *row, round2_facts_t *facts, second_step_t const **step)
{
	flow_request_t const *req = l->req;
	round2_gate_facts_t gate;
	trust_how_t how = TRUST_BY_CODE;
	round2_gate_t stop;
	lockout_verdict_t lock = LOCKOUT_GO;

	memset(&gate, 0, sizeof(gate));
	gate.state_well_formed = true;
	if (round2_gate_facts(l, row, &gate, &lock) != 0) return false;
	stop = round2_gate(&gate);
	if (stop != ROUND2_GO) {
		reject_at_gate(l, stop, lock);
		return false;
	}
	if (!take_attempt(l, row)) return false;	/* counted before the code is checked */

	*step = &SECOND_STEPS[row->challenge.kind];
	memset(facts, 0, sizeof(*facts));
	facts->kind = (*step)->kind;
	facts->attempts_left = row->challenge.attempts_left;
	facts->enrollment_due = row->totp_status != TOTP_STATUS_ACTIVE &&
				policy_enrollment_due(policy_is_mandatory(row->level, row->group_mask, row->group),
						      row->has_deadline, row->grace_deadline, l->now);
	facts->outcome = req->has_password ? (*step)->verify(l, row, req->password, req->password_len, &how)
					   : STEP_WRONG;
	if (facts->outcome == STEP_PASSED) {
		give_back(l);
		facts->spent = store_challenge_spend(l->conn, l->digest) == STORE_OK;
		if (facts->spent) trust_address(l, row, how);
	} else if (round2_counts_as_failure(facts->outcome)) {
		facts->lock_started = count_failure(l, row->user_id, row->company_id);
	} else if (facts->outcome == STEP_UNDECRYPTABLE) {
		give_back(l);
		fail_account(l, ACCOUNT_UNDECRYPTABLE, "second factor");
		return false;
	}
	give_back(l);	/* an outcome that is not the user's failure (a database error) */
	return true;
}

/*
 * Round 2: the State's format, then round2_settle in one transaction (one
 * commit for the attempt taken, the code's time step, the State spent,
 * the address trusted and the audit row, instead of one each), then
 * round2_answer says what to reply and act_on_answer does it (what it
 * writes, such as an enrollment challenge, and any email, come after the
 * commit).  A transaction rolled back by a deadlock or a Galera
 * certification conflict is run again from the start, with the login's
 * state and result as they were (the database's are: rolled back); any
 * other failure, of a statement or of the commit, answers "service
 * unavailable", never an Accept.
 */
#define ROUND2_TRANSACTION_ATTEMPTS	3
static void round2(login_t *l)
{
	flow_request_t const *req = l->req;
	round2_gate_facts_t gate;
	round2_facts_t facts;
	second_step_t const *step = NULL;
	store_login_t row;
	login_t start;
	flow_result_t blank;
	uint8_t raw[CHALLENGE_TOKEN_RAW_LEN];
	store_status_t rc;
	unsigned attempt;
	bool settled = false;

	memset(&gate, 0, sizeof(gate));
	gate.state_well_formed = challenge_token_parse(req->state, req->state_len, raw) == 0 &&
				 challenge_token_digest(raw, l->digest) == 0;
	OPENSSL_cleanse(raw, sizeof(raw));
	if (!gate.state_well_formed) {
		reject_at_gate(l, round2_gate(&gate), LOCKOUT_GO);
		return;
	}

	start = *l;
	blank = *l->res;
	memset(&row, 0, sizeof(row));
	for (attempt = 1; ; attempt++) {
		rc = store_transaction_start(l->conn);
		if (rc != STORE_OK) {
			fail_database(l, "transaction");
			break;
		}
		memset(&facts, 0, sizeof(facts));
		settled = round2_settle(l, &row, &facts, &step);
		rc = store_transaction_end(l->conn);
		if (rc == STORE_OK) break;
		settled = false;
		if (rc == STORE_RETRY && attempt < ROUND2_TRANSACTION_ATTEMPTS) {
			struct timespec pause = { 0, (long)attempt * 2000000L };	/* 2 ms, 4 ms */

			OPENSSL_cleanse(&row, sizeof(row));
			*l = start;
			*l->res = blank;
			nanosleep(&pause, NULL);
			continue;
		}
		if (l->res->code != FLOW_FAIL) {	/* a failure the steps did not see: the commit's */
			*l = start;
			*l->res = blank;
			fail_database(l, "second factor");
		}
		break;
	}
	if (settled) act_on_answer(l, &row, step, round2_answer(&facts));
	OPENSSL_cleanse(&row, sizeof(row));
	OPENSSL_cleanse(&start, sizeof(start));
}

void flow_login(flow_config_t const *cfg, store_conn_t *conn, flow_request_t const *req, flow_result_t *res)
{
	bool scope_ok = true;
	login_t l;

	memset(res, 0, sizeof(*res));
	res->code = FLOW_REJECT;
	res->enrolled = -1;

	memset(&l, 0, sizeof(l));
	l.cfg = cfg;
	l.conn = conn;
	l.req = req;
	l.res = res;
	l.now = req->now;

	if (!req->has_login || !text_login_name_valid(req->login, req->login_len, TEXT_LOGIN_MAX)) {
		answer(res, FLOW_REJECT, MSG_LOGIN_FAILED);
		explain(res, "missing or malformed User-Name");
		return;
	}
	memcpy(l.login, req->login, req->login_len);
	l.login[req->login_len] = '\0';
	l.login_len = req->login_len;
	l.name_refused = names_login_problem(req->login, req->login_len, NULL) != NULL;

	l.addr_kind = req->has_address ? addr_normalise(req->address, req->address_len, l.address) : ADDR_INVALID;
	if (l.addr_kind == ADDR_INVALID) l.address[0] = '\0';
	l.scope = "";
	if (req->trust_scope) {
		scope_ok = req->trust_scope_len <= FLOW_SCOPE_MAX &&
			   text_is_clean_utf8((uint8_t const *)req->trust_scope, req->trust_scope_len) &&
			   strnlen(req->trust_scope, FLOW_SCOPE_MAX + 1) == req->trust_scope_len;
		if (scope_ok) l.scope = req->trust_scope;
	}
	{
		trust_request_t tr = {
			.kind = l.addr_kind, .address = l.address, .mac_trust = cfg->mac_trust,
			.require_message_authenticator = cfg->require_message_authenticator,
			.has_message_authenticator = req->message_authenticator,
			.scope_usable = scope_ok, .unsigned_trusted = req->trust_unsigned,
		};

		l.trust_refusal = policy_trust_refusal(&tr);
	}
	if (l.trust_refusal && l.addr_kind != ADDR_INVALID) {
		snprintf(res->trust_refused, sizeof(res->trust_refused), "address %s cannot earn or use trust: %s",
			 l.address, l.trust_refusal);
	}
	l.enrollment_requested = policy_enrollment_request_honoured(req->enrollment_requested, req->enrollment_client,
								    req->message_authenticator);

	l.mode = policy_client_mode(req->has_client_mode, req->client_mode, cfg->single_pass);
	if (l.mode == CLIENT_MODE_INVALID) {
		answer(res, FLOW_FAIL, MSG_SERVICE);
		explain(res, "VRMS2FA-Client-Mode %u is not a mode (1 challenge, 2 single-pass, 3 no-challenge)",
			(unsigned)req->client_mode);
		return;
	}
	l.no_challenge = req->no_challenge || l.mode == CLIENT_MODE_NO_CHALLENGE;
	if (req->approve_device) {
		approve_device(&l);
		return;
	}
	/* a State of another form (an EAP session's) is not ours: round 1 (round2_round_of) */
	if (round2_round_of(req->has_state, challenge_token_recognised(req->state, req->state_len)) == ROUND_TWO) {
		round2(&l);
	} else {
		if (l.mode == CLIENT_MODE_SINGLE_PASS && req->has_password) {
			l.scrv1_status = scrv1_decode(req->password, req->password_len, &l.scrv1);
		}
		round1(&l);
	}
	OPENSSL_cleanse(&l.scrv1, sizeof(l.scrv1));
}
