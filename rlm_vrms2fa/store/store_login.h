/*
 * store_login.h - the queries the module makes while it answers a login
 * (store_login.c, store_email.c): round 1's single lookup, lockout
 * bookkeeping, trusted addresses, TOTP replay counters, challenges (the
 * State), recovery codes and email confirmations.  The account layer
 * (rlm_vrms2fa/account.c) uses them too.
 */
#ifndef VRMS2FA_STORE_LOGIN_H
#define VRMS2FA_STORE_LOGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "../core/address.h"
#include "../core/challenge_token.h"
#include "../core/email_code.h"
#include "../core/lockout.h"
#include "../core/password.h"
#include "../core/policy.h"
#include "../core/recovery.h"
#include "../core/round2.h"
#include "../core/text.h"
#include "../core/totp.h"

/*
 * A transaction around several of the calls below (round 2 writes its
 * outcome so: one commit).  store_transaction_start opens it;
 * store_transaction_end commits it, or rolls it back when one of its
 * statements failed: after a failure the statements that follow are not
 * run (they return that failure), and the end returns it, STORE_RETRY when
 * a deadlock or a Galera certification conflict rolled the whole
 * transaction back (run it all again), STORE_ERROR otherwise.  A failed
 * COMMIT (a certification conflict on Galera) is rolled back and returned
 * so too.  Not nested; store_begin's transactions are the admin tool's.
 */
store_status_t store_transaction_start(store_conn_t *conn);
store_status_t store_transaction_end(store_conn_t *conn);

/* Challenges (the module's State). */

typedef struct {
	uint64_t		user_id;
	challenge_kind_t	kind;
	char			nas[ADDR_TEXT_MAX];
	char			address[ADDR_TEXT_MAX];
	int64_t			expires_at;
	uint32_t		attempts_left;	/* after the attempt just taken */
} store_challenge_t;

/* What a login needs, in one query. */
typedef struct {
	/* the failure records (present whether the user exists or not; all zero when there is none) */
	lockout_record_t name_record;		/* the login name from every address */
	lockout_record_t pair_record;		/* the login name from this address */

	bool		user_found;
	uint64_t	user_id;
	uint64_t	company_id;
	char		company[STORE_COMPANY_MAX + 1];
	user_group_t	group;
	bool		disabled;
	bool		has_email;
	char		email[STORE_EMAIL_MAX + 1];
	bool		has_password_hash;
	char		password_hash[PASSWORD_HASH_MAX + 1];
	bool		has_deadline;
	int64_t		grace_deadline;
	security_level_t level;
	unsigned	group_mask;
	uint32_t	grace_days;
	totp_status_t	totp_status;

	store_secret_t	secret;			/* valid when totp_status != TOTP_STATUS_NONE */

	bool		trusted;		/* a trust row for this address and scope, unexpired at 'now' */
	trust_how_t	trusted_how;		/* how that trust was earned */
	int64_t		trusted_last_used;
	int64_t		trusted_proven_at;

	int64_t		database_now;		/* the database's clock (UNIX_TIMESTAMP()) when it answered */

	bool		has_challenge;		/* round 2: the challenge row of the State, if any */
	store_challenge_t challenge;
} store_login_t;

/*
 * Everything a login needs in one round trip: the failure records of the
 * name and of (name, address) (known or not), the user, the company's policy, the TOTP secret,
 * whether this address is trusted for this user in this trust scope now
 * (and how that trust was earned), and (when digest is
 * not NULL, in round 2) the challenge of the State.  Trust expiry is judged
 * by the database's clock, which the lookup also returns (database_now):
 * host_now is for a store without a clock of its own (the unit tests' fake)
 * and is not used by this one.
 */
store_status_t store_login_lookup(store_conn_t *conn, char const *login, size_t login_len,
				  char const *scope, char const *address, int64_t host_now,
				  uint8_t const *digest /* CHALLENGE_TOKEN_DIGEST_LEN or NULL */, store_login_t *out);

/*
 * Lockout bookkeeping (login_failures): per login name a record of the name
 * (address '') and one per address (the pair; address "" from the caller,
 * a request without a usable address, is keyed STORE_NO_ADDRESS).  The
 * store counts and applies conditional writes; the core decides
 * (core/lockout.h).
 *
 * store_failure_take: one attempt taken on both records (created when
 * missing, last_failure_at = now), then both read back, this attempt
 * included.  store_failure_give_back: the attempt given back (a success),
 * never below zero; a record left with nothing to remember is deleted.
 * store_failure_lock: lock a record for its next lockout, only if its
 * lockouts still read what the take read (a concurrent failure that locked
 * it first wins: STORE_CONFLICT); its failures start again at zero.  store_failure_forget: delete a decayed
 * record, only if unchanged since it was read (STORE_CONFLICT otherwise).
 * store_failure_clear: after a success, delete a record unless a lock of
 * it runs at 'now'.
 */
#define STORE_NO_ADDRESS "-"
store_status_t store_failure_take(store_conn_t *conn, char const *login, size_t login_len, char const *address,
				  int64_t now, lockout_record_t *pair, lockout_record_t *name);
store_status_t store_failure_give_back(store_conn_t *conn, char const *login, size_t login_len, char const *address);
store_status_t store_failure_lock(store_conn_t *conn, char const *login, size_t login_len, char const *address,
				  lockout_dimension_t dim, uint32_t lockouts, int64_t locked_until);
store_status_t store_failure_forget(store_conn_t *conn, char const *login, size_t login_len, char const *address,
				    lockout_dimension_t dim, lockout_record_t const *as_read);
store_status_t store_failure_clear(store_conn_t *conn, char const *login, size_t login_len, char const *address,
				   lockout_dimension_t dim, int64_t now);

/* Trusted addresses. */
store_status_t store_trust_add(store_conn_t *conn, uint64_t user_id, char const *scope, char const *address,
			       addr_kind_t kind, trust_how_t how, int64_t now, int64_t expires_at /* 0: never */);
store_status_t store_trust_touch(store_conn_t *conn, uint64_t user_id, char const *scope, char const *address,
				 int64_t now);

/*
 * Void what is pending for the user: unconfirmed email confirmations and a
 * pending (unconfirmed) TOTP secret.  After 2FA is activated or reset, an
 * address is revoked, the password changes or the user is disabled.
 */
store_status_t store_pending_void(store_conn_t *conn, uint64_t user_id);

/*
 * Replace any pending secret; STORE_CONFLICT if an active one exists.
 * challenge_digest: the enrollment challenge that shows it (only that one
 * may confirm it), or NULL for a secret made by the admin tool.
 */
store_status_t store_secret_put_pending(store_conn_t *conn, uint64_t user_id, uint8_t const *sealed, size_t sealed_len,
					uint32_t key_id, totp_params_t const *params, int64_t now,
					uint8_t const *challenge_digest /* CHALLENGE_TOKEN_DIGEST_LEN or NULL */);
/* Accept time step 'counter': one conditional UPDATE, STORE_CONFLICT unless exactly one row changed. */
store_status_t store_secret_advance(store_conn_t *conn, uint64_t user_id, uint64_t counter);
/*
 * Pending -> active at time step 'counter' (same replay guard), only if the
 * pending secret is still the one checked (its sealed bytes: a concurrent
 * enrollment challenge may have replaced it); clears the user's grace
 * deadline.  STORE_CONFLICT when it is not.
 */
store_status_t store_secret_activate(store_conn_t *conn, uint64_t user_id, uint8_t const *sealed, size_t sealed_len,
				     uint64_t counter, int64_t now);
store_status_t store_challenge_create(store_conn_t *conn, uint8_t const digest[CHALLENGE_TOKEN_DIGEST_LEN],
				      uint64_t user_id, challenge_kind_t kind, char const *nas, char const *address,
				      int64_t now, int64_t expires_at, uint32_t attempts);
/*
 * Take one attempt of an open, unexpired, unspent challenge (a conditional
 * decrement; store_login_lookup reads it).  Unexpired by the database's
 * clock (host_now: as for store_login_lookup).  STORE_NOT_FOUND when there
 * is none left to take.
 */
store_status_t store_challenge_take_attempt(store_conn_t *conn, uint8_t const digest[CHALLENGE_TOKEN_DIGEST_LEN],
					    int64_t host_now);
/* Mark spent; STORE_CONFLICT when it already was. */
store_status_t store_challenge_spend(store_conn_t *conn, uint8_t const digest[CHALLENGE_TOKEN_DIGEST_LEN]);

/* Recovery codes. */
typedef struct {
	size_t		count;
	uint8_t		salt[RECOVERY_SALT_LEN];
	uint8_t		slot[RECOVERY_CODE_COUNT];
	uint8_t		hash[RECOVERY_CODE_COUNT][RECOVERY_HASH_LEN];
} store_recovery_set_t;
store_status_t store_recovery_unused(store_conn_t *conn, uint64_t user_id, store_recovery_set_t *out);
store_status_t store_recovery_use(store_conn_t *conn, uint64_t user_id, uint8_t slot, int64_t now);

/* Email confirmations of new addresses (users without 2FA). */

typedef struct {
	uint64_t	id;
	uint8_t		salt[EMAIL_SALT_LEN];
	uint8_t		code_hash[EMAIL_HASH_LEN];
	int64_t		expires_at;
	bool		sent;
} store_email_t;

/* The newest unexpired, unconfirmed confirmation of (user, address); STORE_NOT_FOUND when none. */
store_status_t store_email_pending(store_conn_t *conn, uint64_t user_id, char const *address, int64_t now,
				   store_email_t *out);
/* may_trust: false when the request could not earn trust (its code or link then confirms the login only). */
store_status_t store_email_create(store_conn_t *conn, uint64_t user_id, char const *scope, char const *address,
				  bool may_trust,
				  uint8_t const salt[EMAIL_SALT_LEN], uint8_t const code_hash[EMAIL_HASH_LEN],
				  uint8_t const token_hash[EMAIL_HASH_LEN], int64_t now, int64_t expires_at, uint64_t *id);
/* New code and token for a confirmation whose email was never sent. */
store_status_t store_email_renew(store_conn_t *conn, uint64_t id, uint8_t const salt[EMAIL_SALT_LEN],
				 uint8_t const code_hash[EMAIL_HASH_LEN], uint8_t const token_hash[EMAIL_HASH_LEN],
				 int64_t expires_at);
store_status_t store_email_mark_sent(store_conn_t *conn, uint64_t id, int64_t now);
/* Rate limit: count the sends of the user since 'since', and record one more. */
store_status_t store_email_sends_since(store_conn_t *conn, uint64_t user_id, int64_t since, uint32_t *count);
store_status_t store_email_record_send(store_conn_t *conn, uint64_t user_id, int64_t now);
/* Confirm by code (a conditional update: STORE_CONFLICT when already confirmed or expired). */
store_status_t store_email_confirm_code(store_conn_t *conn, uint64_t id, int64_t now);

/* One profile of the users' password hashes (store_hash_profiles). */
typedef struct {
	char		sample[PASSWORD_HASH_MAX + 1];	/* one user's hash with this profile */
	uint64_t	users;				/* users whose hash has it */
} store_hash_profile_t;

/*
 * The profiles (password_profile) of the users' password hashes, the most
 * common first, at most max of them, into out[0..*count).  A full scan of
 * users: for the dummy hashes of unknown users, not for every login.
 */
store_status_t store_hash_profiles(store_conn_t *conn, store_hash_profile_t *out, size_t max, size_t *count);

#endif
