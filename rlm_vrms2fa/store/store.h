/*
 * store.h - the storage layer: the only code in the project that speaks
 * SQL.  Every statement is a server-side prepared statement, prepared once
 * per connection and reused; values from the network are only ever bound
 * as parameters.  The types here are plain C: callers (the FreeRADIUS glue
 * and the admin tool) never see a MYSQL handle.
 *
 * Functions return STORE_OK, or one of the other store_status_t values.
 * STORE_ERROR means the query failed; store_conn_broken() then says whether
 * the connection is unusable (the caller should drop it and take another).
 */
#ifndef VRMS2FA_STORE_H
#define VRMS2FA_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/policy.h"
#include "../core/totp.h"
#include "../core/address.h"
#include "../core/password.h"
#include "../core/challenge_token.h"
#include "../core/recovery.h"
#include "../core/lockout.h"
#include "../core/text.h"

typedef enum {
	STORE_OK = 0,
	STORE_NOT_FOUND,	/* no such row */
	STORE_CONFLICT,		/* a conditional write changed nothing (already used, raced, refused) */
	STORE_RETRY,		/* deadlock or cluster certification conflict, after store_exec's own retries
				   of a statement on its own; in a transaction: run it again from the start */
	STORE_ERROR		/* the query failed; see store_last_error() */
} store_status_t;

typedef struct {
	char const	*host;		/* NULL or "" with socket: local socket */
	uint32_t	port;
	char const	*socket;
	char const	*user;
	char const	*password;
	char const	*database;
	uint32_t	connect_timeout;	/* seconds */
	uint32_t	read_timeout;
	uint32_t	write_timeout;
	uint32_t	wsrep_sync_wait;	/* Galera: SET SESSION wsrep_sync_wait (0: leave the server's) */
	bool		multi_statements;	/* CLIENT_MULTI_STATEMENTS: only the admin tool's migration
						   connection (a schema file is several statements); off for
						   the module, so that no text can ever carry a second statement */
} store_config_t;

typedef struct store_conn store_conn_t;

/*
 * Connect with cfg (utf8mb4, the timeouts, wsrep_sync_wait).  One statement
 * per query unless cfg->multi_statements.  NULL on failure, with the reason
 * in err (never the password).
 */
store_conn_t *store_open(store_config_t const *cfg, char *err, size_t errlen);
void store_close(store_conn_t *conn);
bool store_conn_broken(store_conn_t const *conn);
char const *store_last_error(store_conn_t const *conn);	/* never contains bound values */
char const *store_status_name(store_status_t status);

store_status_t store_begin(store_conn_t *conn);
store_status_t store_commit(store_conn_t *conn);
void store_rollback(store_conn_t *conn);

#define STORE_COMPANY_MAX	128
#define STORE_EMAIL_MAX		254

typedef enum {
	TOTP_STATUS_NONE = 0,
	TOTP_STATUS_PENDING,
	TOTP_STATUS_ACTIVE
} totp_status_t;

/* A TOTP secret as stored. */
#define STORE_SEALED_MAX 255
typedef struct {
	totp_status_t	status;
	uint8_t		sealed[STORE_SEALED_MAX];
	size_t		sealed_len;
	uint32_t	key_id;
	totp_params_t	params;
	uint64_t	last_counter;
} store_secret_t;

/* Challenges (the module's State). */
typedef enum { CHALLENGE_CODE = 0, CHALLENGE_ENROLL, CHALLENGE_EMAIL } challenge_kind_t;
char const *challenge_kind_name(challenge_kind_t kind);

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
	/* the login name's failure record (present whether the user exists or not) */
	uint32_t	failures;
	uint32_t	lockouts;
	int64_t		locked_until;

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

	bool		trusted;		/* a trust row for this address, unexpired at 'now' */
	int64_t		trusted_last_used;
	int64_t		trusted_proven_at;

	bool		has_challenge;		/* round 2: the challenge row of the State, if any */
	store_challenge_t challenge;
} store_login_t;

/*
 * Everything a login needs in one round trip: the failure record of the
 * name (known or not), the user, the company's policy, the TOTP secret,
 * whether this address is trusted for this user now, and (when digest is
 * not NULL, in round 2) the challenge of the State.
 */
store_status_t store_login_lookup(store_conn_t *conn, char const *login, size_t login_len,
				  char const *address, int64_t now,
				  uint8_t const *digest /* CHALLENGE_TOKEN_DIGEST_LEN or NULL */, store_login_t *out);

/* Lockout bookkeeping (login_failures). *locked_now is true when this failure started a lockout. */
store_status_t store_failure_record(store_conn_t *conn, char const *login, size_t login_len,
				    lockout_config_t const *cfg, int64_t now, bool *locked_now);
store_status_t store_failure_reset(store_conn_t *conn, char const *login, size_t login_len);

/* Trusted addresses. */
store_status_t store_trust_add(store_conn_t *conn, uint64_t user_id, char const *address, addr_kind_t kind,
			       char const *how, int64_t now, int64_t expires_at /* 0: never */);
store_status_t store_trust_touch(store_conn_t *conn, uint64_t user_id, char const *address, int64_t now);

store_status_t store_secret_get(store_conn_t *conn, uint64_t user_id, store_secret_t *out);
/* Replace any pending secret; STORE_CONFLICT if an active one exists. */
store_status_t store_secret_put_pending(store_conn_t *conn, uint64_t user_id, uint8_t const *sealed, size_t sealed_len,
					uint32_t key_id, totp_params_t const *params, int64_t now);
/* Accept time step 'counter': one conditional UPDATE, STORE_CONFLICT unless exactly one row changed. */
store_status_t store_secret_advance(store_conn_t *conn, uint64_t user_id, uint64_t counter);
/* Pending -> active at time step 'counter' (same replay guard); clears the user's grace deadline. */
store_status_t store_secret_activate(store_conn_t *conn, uint64_t user_id, uint64_t counter, int64_t now);
/* Remove the secret, the recovery codes and all trusted addresses of the user. */
store_status_t store_secret_reset(store_conn_t *conn, uint64_t user_id);

store_status_t store_challenge_create(store_conn_t *conn, uint8_t const digest[CHALLENGE_TOKEN_DIGEST_LEN],
				      uint64_t user_id, challenge_kind_t kind, char const *nas, char const *address,
				      int64_t now, int64_t expires_at, uint32_t attempts);
/*
 * Take one attempt of an open, unexpired, unspent challenge (a conditional
 * decrement; store_login_lookup reads it).  STORE_NOT_FOUND when there is
 * none left to take.
 */
store_status_t store_challenge_take_attempt(store_conn_t *conn, uint8_t const digest[CHALLENGE_TOKEN_DIGEST_LEN],
					    int64_t now);
/* Mark spent; STORE_CONFLICT when it already was. */
store_status_t store_challenge_spend(store_conn_t *conn, uint8_t const digest[CHALLENGE_TOKEN_DIGEST_LEN]);

/* Recovery codes. */
store_status_t store_recovery_replace(store_conn_t *conn, uint64_t user_id, uint8_t const salt[RECOVERY_SALT_LEN],
				      uint8_t const hashes[RECOVERY_CODE_COUNT][RECOVERY_HASH_LEN]);
typedef struct {
	size_t		count;
	uint8_t		salt[RECOVERY_SALT_LEN];
	uint8_t		slot[RECOVERY_CODE_COUNT];
	uint8_t		hash[RECOVERY_CODE_COUNT][RECOVERY_HASH_LEN];
} store_recovery_set_t;
store_status_t store_recovery_unused(store_conn_t *conn, uint64_t user_id, store_recovery_set_t *out);
store_status_t store_recovery_use(store_conn_t *conn, uint64_t user_id, uint8_t slot, int64_t now);

/* Email confirmations of new addresses (users without 2FA). */
#include "../core/email_code.h"

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
store_status_t store_email_create(store_conn_t *conn, uint64_t user_id, char const *address,
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

typedef struct {
	uint64_t	id;
	uint64_t	user_id;
	uint64_t	company_id;
	char		login[LOGIN_NAME_MAX + 1];
	char		address[ADDR_TEXT_MAX];
} store_email_link_t;
/* Confirm by link token: STORE_NOT_FOUND when unknown, expired or already confirmed. */
store_status_t store_email_confirm_token(store_conn_t *conn, uint8_t const token_hash[EMAIL_HASH_LEN], int64_t now,
					 store_email_link_t *out);

/* Audit trail.  detail and source must never hold a secret or a code. */
store_status_t store_audit(store_conn_t *conn, int64_t now, char const *actor, uint64_t user_id,
			   uint64_t company_id, char const *event, char const *detail, char const *source);

#endif
