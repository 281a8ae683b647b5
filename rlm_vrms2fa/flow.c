/*
 * flow.c - one login through the decision table of DESIGN section 4
 * (see flow.h).  Every path that is not a proven success ends in a reject:
 * a database error, a malformed State, a secret that does not decrypt.
 *
 * Why the State is a database row (a random 128-bit handle whose SHA-256
 * keys a row of `challenges`) and not a sealed token: the attempt counter
 * and the "spent" mark must live in the database anyway, so that any
 * radiusd sharing it, or one restarted between the rounds, sees the same
 * count; with that row in place a sealed token would add a second key to
 * distribute and rotate and buy nothing.  The handle is bound to the user,
 * the NAS and the address in the row, expires, and is spent on success.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "flow.h"
#include "hook.h"
#include "core/email_code.h"
#include "core/policy.h"
#include "core/recovery.h"
#include "core/text.h"

#define ACTOR "radiusd"
#define NEW_SECRET_LEN 20	/* 160 bits, RFC 4226 R6 recommendation */
#define TRUST_TOUCH_INTERVAL 3600	/* seconds between updates of a trusted address's last_used_at */

typedef struct {
	flow_config_t const	*cfg;
	store_conn_t		*conn;
	flow_request_t const	*req;
	flow_result_t		*res;
	char			login[TEXT_LOGIN_MAX + 1];	/* validated, NUL-terminated */
	size_t			login_len;
	addr_kind_t		addr_kind;
	char			address[ADDR_TEXT_MAX];		/* "" when missing or unparsable */
} login_t;

static void say(flow_result_t *res, flow_code_t code, char const *message)
{
	res->code = code;
	snprintf(res->message, sizeof(res->message), "%s", message ? message : "");
}

static void note(flow_result_t *res, char const *fmt, char const *detail)
{
	snprintf(res->log, sizeof(res->log), fmt, detail ? detail : "");
}

static void database_failed(login_t *l, char const *what)
{
	say(l->res, FLOW_FAIL, MSG_SERVICE);
	snprintf(l->res->log, sizeof(l->res->log), "database error: %s: %s", what, store_last_error(l->conn));
}

static void audit(login_t *l, uint64_t user_id, uint64_t company_id, char const *event, char const *detail)
{
	/* An audit row that cannot be written does not change the answer; it is logged by the caller's error. */
	(void)store_audit(l->conn, l->req->now, ACTOR, user_id, company_id, event, detail, l->address);
}

/* Count a failure against the login name; true when the name is now locked out. */
static bool count_failure(login_t *l, uint64_t user_id, uint64_t company_id)
{
	bool locked = false;

	if (store_failure_record(l->conn, l->login, l->login_len, &l->cfg->lockout, l->req->now, &locked) != STORE_OK) {
		return false;
	}
	if (locked) audit(l, user_id, company_id, "lockout", "too many consecutive failures");
	return locked;
}

static void reset_failures(login_t *l, store_login_t const *row)
{
	if (row->failures == 0 && row->lockouts == 0) return;	/* the common case writes nothing */
	(void)store_failure_reset(l->conn, l->login, l->login_len);
}

static bool trust_allowed(login_t const *l)
{
	if (l->addr_kind == ADDR_INVALID) return false;
	if (l->cfg->require_message_authenticator && !l->req->message_authenticator) return false;
	return true;
}

/*
 * Trust the request's address for the user (or prove it again, which moves
 * its expiry).  An address proven less than TRUST_TOUCH_INTERVAL ago and
 * proven again by a code is left as it is: a gateway in single-pass mode
 * proves it at every login.  Enrollment, email and recovery always write.
 */
static void trust_address(login_t *l, store_login_t const *row, char const *how)
{
	uint64_t user_id = row->user_id, company_id = row->company_id;
	int64_t expires = l->cfg->trust_lifetime ? l->req->now + l->cfg->trust_lifetime : 0;
	char detail[64];

	if (!trust_allowed(l)) return;
	if (strcmp(how, "code") == 0 && row->trusted && row->trusted_proven_at >= l->req->now - TRUST_TOUCH_INTERVAL) {
		return;
	}
	if (store_trust_add(l->conn, user_id, l->address, l->addr_kind, how, l->req->now, expires) != STORE_OK) return;
	snprintf(detail, sizeof(detail), "address trusted by %s", how);
	audit(l, user_id, company_id, "address_trusted", detail);
}

static bool open_challenge(login_t *l, uint64_t user_id, challenge_kind_t kind, char const *message)
{
	uint8_t raw[CHALLENGE_TOKEN_RAW_LEN], digest[CHALLENGE_TOKEN_DIGEST_LEN];
	store_status_t rc;

	if (challenge_token_new(raw, l->res->state) != 0 || challenge_token_digest(raw, digest) != 0) {
		OPENSSL_cleanse(raw, sizeof(raw));
		say(l->res, FLOW_FAIL, MSG_SERVICE);
		note(l->res, "cannot make a State%s", "");
		return false;
	}
	OPENSSL_cleanse(raw, sizeof(raw));
	rc = store_challenge_create(l->conn, digest, user_id, kind, l->req->nas, l->address, l->req->now,
				    l->req->now + l->cfg->challenge_lifetime, l->cfg->challenge_attempts);
	if (rc != STORE_OK) {
		database_failed(l, "challenge");
		return false;
	}
	say(l->res, FLOW_CHALLENGE, message);
	return true;
}

/*
 * The pending secret to show: the one already pending (made by "enroll
 * begin" or an earlier challenge, so a key the user has scanned keeps
 * working and two challenges at once show the same key), else a new one.
 * 0 ok, -1 after setting the result.
 */
static int enrollment_secret(login_t *l, store_login_t const *row, uint8_t *secret, size_t cap, size_t *len,
			     totp_params_t *params)
{
	uint8_t sealed[NEW_SECRET_LEN + SECRETBOX_OVERHEAD];
	size_t sealed_len = 0;
	store_status_t rc;

	if (row->totp_status == TOTP_STATUS_PENDING &&
	    secretbox_open(l->cfg->keyring, row->user_id, row->secret.sealed, row->secret.sealed_len, secret, cap, len) == 0) {
		*params = row->secret.params;
		return 0;
	}

	if (cap < NEW_SECRET_LEN || RAND_priv_bytes(secret, NEW_SECRET_LEN) != 1 ||
	    secretbox_seal(l->cfg->keyring, row->user_id, secret, NEW_SECRET_LEN, sealed, sizeof(sealed), &sealed_len) != 0) {
		OPENSSL_cleanse(secret, cap);
		say(l->res, FLOW_FAIL, MSG_SERVICE);
		note(l->res, "cannot make an enrollment secret%s", "");
		return -1;
	}
	*len = NEW_SECRET_LEN;
	*params = l->cfg->totp;
	rc = store_secret_put_pending(l->conn, row->user_id, sealed, sealed_len, l->cfg->keyring->current_id,
				      params, l->req->now);
	if (rc != STORE_OK) {
		OPENSSL_cleanse(secret, cap);
		database_failed(l, "enrollment secret");
		return -1;
	}
	audit(l, row->user_id, row->company_id, "enrollment_started", "over RADIUS");
	return 0;
}

/* No 2FA and it is due (or asked for): the key and the URI go into the challenge. */
static void challenge_enrollment(login_t *l, store_login_t const *row)
{
	uint8_t secret[SECRETBOX_MAX_PLAINTEXT];
	char grouped[SECRETBOX_MAX_PLAINTEXT * 2 + 64], message[FLOW_MESSAGE_MAX];
	size_t secret_len = 0;
	totp_params_t params;

	if (enrollment_secret(l, row, secret, sizeof(secret), &secret_len, &params) != 0) return;
	if (otpauth_uri(l->cfg->issuer, l->login, &params, secret, secret_len, l->res->uri, sizeof(l->res->uri)) != 0 ||
	    otpauth_key_grouped(secret, secret_len, grouped, sizeof(grouped)) != 0) {
		OPENSSL_cleanse(secret, sizeof(secret));
		say(l->res, FLOW_FAIL, MSG_SERVICE);
		note(l->res, "cannot format the enrollment key%s", "");
		return;
	}
	OPENSSL_cleanse(secret, sizeof(secret));
	snprintf(message, sizeof(message),
		 "Two-step verification must be set up. Add this key to your authentication app: %s"
		 " - then enter the code the app shows.", grouped);
	OPENSSL_cleanse(grouped, sizeof(grouped));
	if (open_challenge(l, row->user_id, CHALLENGE_ENROLL, message)) {
		l->res->has_uri = true;
		note(l->res, "enrollment challenge%s", "");
	}
	OPENSSL_cleanse(message, sizeof(message));
}

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
	say(l->res, FLOW_ACCEPT, message);
}

/* Check a code against the user's secret (active or pending).  TOTP_MATCH fills *counter. */
static totp_result_t check_code(login_t *l, uint64_t user_id, store_secret_t const *secret,
				uint8_t const *code, size_t code_len, uint64_t *counter)
{
	uint8_t key[SECRETBOX_MAX_PLAINTEXT];
	size_t key_len = 0;
	totp_result_t r;

	if (secretbox_open(l->cfg->keyring, user_id, secret->sealed, secret->sealed_len, key, sizeof(key), &key_len) != 0) {
		note(l->res, "the TOTP secret does not decrypt (wrong key file or tampered row)%s", "");
		return TOTP_ERROR;
	}
	r = totp_verify(&secret->params, key, key_len, (char const *)code, code_len, l->req->now,
			l->cfg->totp_window, counter);
	OPENSSL_cleanse(key, sizeof(key));
	return r;
}

/* A recovery code in place of a verification code: true when one was used up. */
static bool use_recovery_code(login_t *l, uint64_t user_id, uint8_t const *code, size_t code_len)
{
	char normalised[RECOVERY_CODE_CHARS + 1];
	uint8_t hash[RECOVERY_HASH_LEN];
	store_recovery_set_t set;
	bool used = false;
	size_t i;

	if (recovery_code_normalise((char const *)code, code_len, normalised) != 0) return false;
	if (store_recovery_unused(l->conn, user_id, &set) != STORE_OK || set.count == 0) goto done;
	if (recovery_code_hash(normalised, set.salt, hash) != 0) goto done;
	for (i = 0; i < set.count; i++) {
		if (CRYPTO_memcmp(hash, set.hash[i], RECOVERY_HASH_LEN) == 0) {
			used = store_recovery_use(l->conn, user_id, set.slot[i], l->req->now) == STORE_OK;
			break;
		}
	}
done:
	OPENSSL_cleanse(normalised, sizeof(normalised));
	OPENSSL_cleanse(hash, sizeof(hash));
	return used;
}

typedef enum { CODE_OK, CODE_WRONG, CODE_ERROR } code_outcome_t;

/* The second factor for a user with active 2FA: TOTP (with the replay guard) or a recovery code. */
static code_outcome_t verify_second_factor(login_t *l, store_login_t const *row,
					   uint8_t const *code, size_t code_len, char const **how)
{
	uint64_t counter = 0;
	store_status_t rc;
	totp_result_t r;

	if (row->totp_status != TOTP_STATUS_ACTIVE) {
		note(l->res, "no active TOTP secret%s", "");
		return CODE_WRONG;
	}
	r = check_code(l, row->user_id, &row->secret, code, code_len, &counter);
	if (r == TOTP_ERROR) return CODE_ERROR;
	if (r == TOTP_MATCH) {
		rc = store_secret_advance(l->conn, row->user_id, counter);
		if (rc == STORE_OK) {
			*how = "code";
			return CODE_OK;
		}
		if (rc != STORE_CONFLICT) return CODE_ERROR;
		note(l->res, "code of an already used time step refused (replay)%s", "");
		return CODE_WRONG;
	}
	if (use_recovery_code(l, row->user_id, code, code_len)) {
		*how = "recovery";
		audit(l, row->user_id, row->company_id, "recovery_code_used", "");
		return CODE_OK;
	}
	note(l->res, "wrong or expired code%s", "");
	return CODE_WRONG;
}

/* Single pass: the last digits of User-Password are the code. */
static void single_pass_second_factor(login_t *l, store_login_t const *row, uint8_t const *code, size_t code_len)
{
	char const *how = "code";

	switch (verify_second_factor(l, row, code, code_len, &how)) {
	case CODE_OK:
		reset_failures(l, row);
		trust_address(l, row, how);
		l->res->enrolled = 1;
		say(l->res, FLOW_ACCEPT, "");
		note(l->res, "password and code accepted (single pass)%s", "");
		return;
	case CODE_WRONG:
		say(l->res, FLOW_REJECT, count_failure(l, row->user_id, row->company_id) ? MSG_LOCKED : MSG_LOGIN_FAILED);
		return;
	case CODE_ERROR:
		database_failed(l, "second factor");
		return;
	}
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
 * sent through the hook.  True when the email went out.
 */
static bool send_confirmation(login_t *l, store_login_t const *row, uint64_t pending_id)
{
	flow_config_t const *cfg = l->cfg;
	char code[EMAIL_CODE_DIGITS + 1], token[EMAIL_TOKEN_TEXT_LEN + 1], link[1024];
	uint8_t salt[EMAIL_SALT_LEN], code_hash[EMAIL_HASH_LEN], token_hash[EMAIL_HASH_LEN];
	int64_t expires = l->req->now + cfg->email_code_lifetime;
	uint64_t id = pending_id;
	uint32_t sends = 0;
	hook_result_t hr;
	store_status_t rc;
	bool sent = false;

	if (store_email_sends_since(l->conn, row->user_id, l->req->now - 3600, &sends) != STORE_OK) {
		database_failed(l, "email rate");
		return false;
	}
	if (sends >= cfg->email_max_per_hour) {
		say(l->res, FLOW_REJECT, MSG_EMAIL_LIMIT);
		note(l->res, "confirmation emails per hour limit reached%s", "");
		return false;
	}
	if (!hook_gate_enter(cfg->email_gate)) {
		say(l->res, FLOW_REJECT, MSG_EMAIL_FAILED);
		note(l->res, "email not sent: email.max_running_hooks hooks are running already (mail server slow?)%s", "");
		return false;
	}
	if (email_code_new(code) != 0 || email_token_new(token) != 0 || email_salt_new(salt) != 0 ||
	    email_code_hash(code, EMAIL_CODE_DIGITS, salt, code_hash) != 0 ||
	    email_token_hash(token, EMAIL_TOKEN_TEXT_LEN, token_hash) != 0 ||
	    email_link(cfg->email_link_url, token, link, sizeof(link)) != 0) {
		say(l->res, FLOW_FAIL, MSG_SERVICE);
		note(l->res, "cannot make an email confirmation%s", "");
		goto done;
	}
	rc = id ? store_email_renew(l->conn, id, salt, code_hash, token_hash, expires)
		: store_email_create(l->conn, row->user_id, l->address, salt, code_hash, token_hash, l->req->now, expires, &id);
	if (rc == STORE_OK) rc = store_email_record_send(l->conn, row->user_id, l->req->now);
	if (rc != STORE_OK) {
		database_failed(l, "email confirmation");
		goto done;
	}
	if (run_email_hook(l, row, code, token, link, expires, &hr) != 0) {
		say(l->res, FLOW_REJECT, MSG_EMAIL_FAILED);
		snprintf(l->res->log, sizeof(l->res->log), "email hook failed (%s%d): %.200s",
			 hr.timed_out ? "timed out, " : "exit ", hr.exit_status, hr.message);
		audit(l, row->user_id, row->company_id, "email_failed", hr.timed_out ? "hook timed out" : "hook failed");
		goto done;
	}
	if (store_email_mark_sent(l->conn, id, l->req->now) != STORE_OK) {
		database_failed(l, "email sent");
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
		say(l->res, FLOW_REJECT, MSG_NO_EMAIL);
		note(l->res, "new address and no email address to confirm it%s", "");
		return;
	}
	if (text_mask_email(row->email, masked, sizeof(masked)) != 0) snprintf(masked, sizeof(masked), "your email address");
	snprintf(message, sizeof(message), MSG_EMAIL_SENT, masked);

	rc = store_email_pending(l->conn, row->user_id, l->address, l->req->now, &pending);
	if (rc != STORE_OK && rc != STORE_NOT_FOUND) {
		database_failed(l, "email confirmation");
		return;
	}
	if (rc == STORE_OK && pending.sent) {
		note(l->res, "pending email confirmation reused, no new email%s", "");
	} else if (!send_confirmation(l, row, rc == STORE_OK ? pending.id : 0)) {
		return;
	} else {
		note(l->res, "confirmation email sent%s", "");
	}

	if (l->cfg->single_pass) {
		/* A gateway that cannot show a challenge: the link in the email confirms out of band. */
		say(l->res, FLOW_REJECT, "We sent you an email. Confirm this login with its link, then log in again.");
		return;
	}
	(void)open_challenge(l, row->user_id, CHALLENGE_EMAIL, message);
}

static void round1(login_t *l)
{
	flow_config_t const *cfg = l->cfg;
	flow_request_t const *req = l->req;
	uint8_t const *password = req->password;
	size_t password_len = req->password_len;
	uint8_t const *code = NULL;
	size_t code_len = 0;
	store_login_t row;
	login_facts_t facts;
	bool mandatory, password_ok;
	int64_t grace_left = 0;
	decision_t decision;

	if (!req->has_password && !cfg->external_password) {
		say(l->res, FLOW_REJECT, MSG_LOGIN_FAILED);
		note(l->res, "no User-Password%s", "");
		return;
	}
	if (store_login_lookup(l->conn, l->login, l->login_len, l->address, req->now, NULL, &row) != STORE_OK) {
		database_failed(l, "login lookup");
		return;
	}
	if (row.locked_until > req->now) {
		say(l->res, FLOW_REJECT, MSG_LOCKED);
		note(l->res, "locked out%s", "");
		return;
	}

	if (cfg->single_pass && row.user_found && row.totp_status == TOTP_STATUS_ACTIVE) {
		if (password_len > row.secret.params.digits) {
			code_len = row.secret.params.digits;
			password_len -= code_len;
			code = password + password_len;
		} else {
			password_len = 0;	/* too short to hold a code: never matches */
		}
	}

	if (cfg->external_password) {
		password_ok = row.user_found && !row.disabled;
	} else {
		char const *hash = (row.user_found && row.has_password_hash) ? row.password_hash : cfg->dummy_hash;
		password_result_t pr = password_verify(hash, (char const *)password, password_len);

		password_ok = pr == PASSWORD_MATCH && row.user_found && row.has_password_hash && !row.disabled;
		if (!password_ok) {
			note(l->res, "%s", !row.user_found ? "unknown user" : row.disabled ? "user disabled" :
			     !row.has_password_hash ? "user has no password hash" :
			     pr == PASSWORD_UNSUPPORTED ? "unsupported password hash format" :
			     pr == PASSWORD_ERROR ? "password check failed" : "wrong password");
		}
	}
	if (!password_ok) {
		if (cfg->external_password) note(l->res, "%s", row.user_found ? "user disabled" : "unknown user");
		say(l->res, FLOW_REJECT, count_failure(l, row.user_id, row.company_id) ? MSG_LOCKED : MSG_LOGIN_FAILED);
		return;
	}

	l->res->enrolled = row.totp_status == TOTP_STATUS_ACTIVE;
	mandatory = policy_is_mandatory(row.level, row.group_mask, row.group);
	memset(&facts, 0, sizeof(facts));
	facts.twofa_active = row.totp_status == TOTP_STATUS_ACTIVE;
	facts.address_trusted = row.trusted && trust_allowed(l);
	facts.mandatory = mandatory;
	facts.has_deadline = row.has_deadline;
	facts.grace_deadline = row.grace_deadline;
	facts.now = req->now;
	facts.enrollment_requested = req->enrollment_requested;
	decision = policy_decide(&facts, &grace_left);

	if (code) {
		single_pass_second_factor(l, &row, code, code_len);
		return;
	}

	switch (decision) {
	case DECISION_ACCEPT:
		reset_failures(l, &row);
		/* last_used_at moves at most once an hour: the trusted path normally writes nothing */
		if (row.trusted_last_used < req->now - TRUST_TOUCH_INTERVAL) {
			(void)store_trust_touch(l->conn, row.user_id, l->address, req->now);
		}
		say(l->res, FLOW_ACCEPT, "");
		note(l->res, "trusted address, code not asked%s", "");
		return;

	case DECISION_CHALLENGE_CODE:
		if (open_challenge(l, row.user_id, CHALLENGE_CODE, MSG_ENTER_CODE)) {
			note(l->res, "verification code asked%s", "");
		}
		return;

	case DECISION_CHALLENGE_ENROLL:
		if (cfg->single_pass && !req->enrollment_requested) {
			say(l->res, FLOW_REJECT, "Two-step verification must be set up before you can log in here.");
			note(l->res, "enrollment required; single-pass gateways cannot show it%s", "");
			return;
		}
		challenge_enrollment(l, &row);
		return;

	case DECISION_EMAIL_CONFIRM:
		if (cfg->email_enabled) {
			confirm_by_email(l, &row);
			return;
		}
		/* email confirmation switched off by the operator: the reminder row applies */
		/* fall through */
	case DECISION_ACCEPT_WITH_REMINDER:
		accept_with_reminder(l, &row, mandatory, grace_left);
		note(l->res, "accepted without two-step verification (%s)", policy_decision_name(decision));
		return;
	}
	say(l->res, FLOW_REJECT, MSG_LOGIN_FAILED);
}

static void round2(login_t *l)
{
	flow_request_t const *req = l->req;
	uint8_t raw[CHALLENGE_TOKEN_RAW_LEN], digest[CHALLENGE_TOKEN_DIGEST_LEN];
	store_challenge_t ch;
	store_login_t row;
	store_status_t rc;
	code_outcome_t outcome = CODE_WRONG;
	char const *how = "code";

	if (challenge_token_parse(req->state, req->state_len, raw) != 0 || challenge_token_digest(raw, digest) != 0) {
		OPENSSL_cleanse(raw, sizeof(raw));
		say(l->res, FLOW_REJECT, MSG_STATE_INVALID);
		note(l->res, "malformed State%s", "");
		return;
	}
	OPENSSL_cleanse(raw, sizeof(raw));

	rc = store_challenge_take_attempt(l->conn, digest, req->now);
	if (rc == STORE_NOT_FOUND) {
		say(l->res, FLOW_REJECT, MSG_STATE_INVALID);
		note(l->res, "unknown, expired, spent or exhausted State%s", "");
		return;
	}
	if (rc != STORE_OK) {
		database_failed(l, "challenge");
		return;
	}
	if (store_login_lookup(l->conn, l->login, l->login_len, l->address, req->now, digest, &row) != STORE_OK) {
		database_failed(l, "login lookup");
		return;
	}
	ch = row.challenge;
	if (!row.has_challenge || !row.user_found || ch.user_id != row.user_id ||
	    strcmp(ch.nas, req->nas) != 0 || strcmp(ch.address, l->address) != 0) {
		say(l->res, FLOW_REJECT, MSG_STATE_INVALID);
		note(l->res, "State belongs to another user, NAS or address%s", "");
		return;
	}
	if (row.disabled) {
		say(l->res, FLOW_REJECT, MSG_STATE_INVALID);
		note(l->res, "user disabled since round 1%s", "");
		return;
	}
	if (row.locked_until > req->now) {
		say(l->res, FLOW_REJECT, MSG_LOCKED);
		note(l->res, "locked out%s", "");
		return;
	}

	switch (ch.kind) {
	case CHALLENGE_CODE:
		if (req->has_password) {
			outcome = verify_second_factor(l, &row, req->password, req->password_len, &how);
		}
		break;

	case CHALLENGE_ENROLL: {
		uint64_t counter = 0;

		how = "enrollment";
		if (row.totp_status != TOTP_STATUS_PENDING || !req->has_password) {
			note(l->res, "no pending secret to confirm%s", "");
			break;
		}
		switch (check_code(l, row.user_id, &row.secret, req->password, req->password_len, &counter)) {
		case TOTP_MATCH:
			rc = store_secret_activate(l->conn, row.user_id, counter, req->now);
			if (rc == STORE_OK) {
				outcome = CODE_OK;
				audit(l, row.user_id, row.company_id, "enrollment_confirmed", "over RADIUS");
			} else if (rc != STORE_CONFLICT) {
				outcome = CODE_ERROR;
			}
			break;
		case TOTP_ERROR:
			outcome = CODE_ERROR;
			break;
		default:
			note(l->res, "wrong or expired enrollment code%s", "");
			break;
		}
		break;
	}

	case CHALLENGE_EMAIL: {
		store_email_t pending;
		uint8_t hash[EMAIL_HASH_LEN];

		how = "email";
		rc = store_email_pending(l->conn, row.user_id, ch.address, req->now, &pending);
		if (rc != STORE_OK && rc != STORE_NOT_FOUND) {
			outcome = CODE_ERROR;
			break;
		}
		if (rc == STORE_NOT_FOUND || !pending.sent || !req->has_password) {
			note(l->res, "no pending email confirmation%s", "");
			break;
		}
		if (email_code_hash((char const *)req->password, req->password_len, pending.salt, hash) == 0 &&
		    CRYPTO_memcmp(hash, pending.code_hash, EMAIL_HASH_LEN) == 0) {
			rc = store_email_confirm_code(l->conn, pending.id, req->now);
			if (rc == STORE_OK) {
				outcome = CODE_OK;
				audit(l, row.user_id, row.company_id, "email_confirmed", "by code");
			} else if (rc != STORE_CONFLICT) {
				outcome = CODE_ERROR;
			}
		} else {
			note(l->res, "wrong emailed code%s", "");
		}
		OPENSSL_cleanse(hash, sizeof(hash));
		break;
	}
	}

	if (outcome == CODE_ERROR) {
		database_failed(l, "second factor");
		return;
	}
	if (outcome == CODE_OK) {
		if (store_challenge_spend(l->conn, digest) != STORE_OK) {
			say(l->res, FLOW_REJECT, MSG_STATE_INVALID);
			note(l->res, "State spent by a concurrent request%s", "");
			return;
		}
		trust_address(l, &row, how);
		if (ch.kind == CHALLENGE_EMAIL) {
			bool mandatory = policy_is_mandatory(row.level, row.group_mask, row.group);
			int64_t left = mandatory && row.has_deadline ? row.grace_deadline - req->now : 0;

			accept_with_reminder(l, &row, mandatory, left > 0 ? left : 0);
			l->res->enrolled = 0;
			note(l->res, "login confirmed with the emailed code%s", "");
			return;
		}
		reset_failures(l, &row);
		l->res->enrolled = 1;
		say(l->res, FLOW_ACCEPT, ch.kind == CHALLENGE_ENROLL ?
		    "Two-step verification is now active on your account." : "");
		if (l->res->log[0] == '\0') note(l->res, "second step passed%s", "");
		return;
	}

	if (count_failure(l, row.user_id, row.company_id)) {
		say(l->res, FLOW_REJECT, MSG_LOCKED);
		return;
	}
	if (ch.attempts_left == 0) {
		say(l->res, FLOW_REJECT, MSG_CODE_FAILED);
		return;
	}
	/* Ask again under the same State: its row counts the attempts. */
	{
		uint8_t const *state = req->state;

		memcpy(l->res->state, state, CHALLENGE_TOKEN_TEXT_LEN);
		l->res->state[CHALLENGE_TOKEN_TEXT_LEN] = '\0';
	}
	say(l->res, FLOW_CHALLENGE, MSG_CODE_WRONG);
}

void flow_login(flow_config_t const *cfg, store_conn_t *conn, flow_request_t const *req, flow_result_t *res)
{
	login_t l;

	memset(res, 0, sizeof(*res));
	res->code = FLOW_REJECT;
	res->enrolled = -1;

	memset(&l, 0, sizeof(l));
	l.cfg = cfg;
	l.conn = conn;
	l.req = req;
	l.res = res;

	if (!req->has_login || !text_login_name_valid(req->login, req->login_len, TEXT_LOGIN_MAX)) {
		say(res, FLOW_REJECT, MSG_LOGIN_FAILED);
		note(res, "missing or malformed User-Name%s", "");
		return;
	}
	memcpy(l.login, req->login, req->login_len);
	l.login[req->login_len] = '\0';
	l.login_len = req->login_len;

	l.addr_kind = req->has_address ? addr_normalise(req->address, req->address_len, l.address) : ADDR_INVALID;
	if (l.addr_kind == ADDR_INVALID) l.address[0] = '\0';

	if (req->has_state) round2(&l);
	else round1(&l);
}
