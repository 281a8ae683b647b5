/*
 * fake_store.h - the test's side of tests/unit/fake_store.c, an in-memory
 * storage layer linked in place of rlm_vrms2fa/store (a link-time seam) so
 * that flow_login can be unit-tested without MariaDB.
 *
 * fake_store.c implements exactly the store functions flow.c and account.c
 * call (store_login.h, and the two of store_admin.h that account.c uses for
 * email links), with the contract of the real ones in store_login.c and
 * store_email.c (conditional writes answer STORE_CONFLICT when they change
 * nothing, store_login_lookup joins the failure records of the name and of
 * the (name, address) pair, the user, the
 * company, the secret, the trust row of the scope and address unexpired at
 * 'now', and the challenge).  This header
 * is what a test uses around them: put rows in, look at what flow_login
 * wrote, see which store functions it called, and make a chosen call fail
 * with STORE_ERROR to test the fail-closed paths.
 *
 * All state is process-global; fake_store_reset() empties it.  Rows are
 * returned as pointers into the tables: a test may change them, as another
 * server or the admin tool would between two requests.
 */
#ifndef VRMS2FA_FAKE_STORE_H
#define VRMS2FA_FAKE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "store/store_login.h"
#include "store/store_admin.h"

#define FAKE_MAX_ROWS	64	/* per table */
#define FAKE_CALLS_MAX	256	/* calls remembered by the call log */
#define FAKE_SCOPE_MAX	32	/* trusted_addresses.scope, email_confirmations.scope */

typedef struct {
	uint64_t		id;
	char			name[STORE_COMPANY_MAX + 1];
	security_level_t	level;
	unsigned		group_mask;
	uint32_t		grace_days;
} fake_company_t;

typedef struct {
	uint64_t	id;
	char		login[TEXT_LOGIN_MAX + 1];
	uint64_t	company_id;
	user_group_t	group;
	bool		has_email;		/* false: NULL */
	char		email[STORE_EMAIL_MAX + 1];
	bool		has_password_hash;	/* false: NULL */
	char		password_hash[PASSWORD_HASH_MAX + 1];
	bool		disabled;
	bool		has_deadline;		/* false: grace_deadline NULL */
	int64_t		grace_deadline;
} fake_user_t;

typedef struct {
	uint64_t	user_id;		/* 0: free slot */
	totp_status_t	status;
	uint8_t		sealed[STORE_SEALED_MAX];
	size_t		sealed_len;
	uint32_t	key_id;
	totp_params_t	params;
	uint64_t	last_counter;
	int64_t		created_at;
	bool		has_activated_at;
	int64_t		activated_at;
	bool		has_challenge_digest;	/* false: NULL (the admin tool's pending secret, or active) */
	uint8_t		challenge_digest[CHALLENGE_TOKEN_DIGEST_LEN];
} fake_secret_t;

typedef struct {
	uint64_t	user_id;		/* 0: free slot */
	uint8_t		slot;
	uint8_t		salt[RECOVERY_SALT_LEN];
	uint8_t		hash[RECOVERY_HASH_LEN];
	bool		used;
	int64_t		used_at;
} fake_recovery_t;

typedef struct {
	uint64_t	user_id;		/* 0: free slot */
	char		scope[FAKE_SCOPE_MAX + 1];	/* "" the default trust scope */
	char		address[ADDR_TEXT_MAX];
	addr_kind_t	kind;
	char		how[16];		/* enrollment, code, recovery, email, admin (policy_trust_how_name) */
	int64_t		created_at;
	int64_t		proven_at;
	int64_t		last_used_at;
	int64_t		expires_at;		/* 0: NULL, never */
} fake_trust_t;

typedef struct {
	bool			used;
	uint8_t			digest[CHALLENGE_TOKEN_DIGEST_LEN];
	uint64_t		user_id;
	challenge_kind_t	kind;
	char			nas[ADDR_TEXT_MAX];
	char			address[ADDR_TEXT_MAX];
	int64_t			created_at;
	int64_t			expires_at;
	uint32_t		attempts_left;
	bool			spent;
} fake_challenge_t;

typedef struct {
	bool		used;
	char		login[TEXT_LOGIN_MAX + 1];	/* any bytes flow validated; flow passes a NUL-free name */
	size_t		login_len;
	char		address[ADDR_TEXT_MAX];		/* "" the name's record; else the pair's (STORE_NO_ADDRESS "-") */
	uint32_t	failures;
	uint32_t	lockouts;
	int64_t		locked_until;
	int64_t		updated_at;		/* last_failure_at */
} fake_failure_t;

typedef struct {
	uint64_t	id;			/* 0: free slot */
	uint64_t	user_id;
	char		scope[FAKE_SCOPE_MAX + 1];
	char		address[ADDR_TEXT_MAX];
	bool		may_trust;		/* the login that asked for it could earn trust */
	uint8_t		salt[EMAIL_SALT_LEN];
	uint8_t		code_hash[EMAIL_HASH_LEN];
	uint8_t		token_hash[EMAIL_HASH_LEN];
	int64_t		created_at;
	int64_t		expires_at;
	bool		sent;
	int64_t		sent_at;
	uint32_t	send_attempts;
	bool		confirmed;
	int64_t		confirmed_at;
	char		confirmed_by[8];	/* "code", or "link" (account_email_confirm_link) */
} fake_email_t;

typedef struct {
	bool		used;
	uint64_t	user_id;
	int64_t		sent_at;
} fake_email_send_t;

typedef struct {
	int64_t		at;
	char		actor[32];
	uint64_t	user_id;		/* 0: NULL */
	uint64_t	company_id;		/* 0: NULL */
	char		event[64];
	char		detail[256];
	char		source[ADDR_TEXT_MAX];
} fake_audit_t;

/* Empty every table, the call log and any armed failure. */
void fake_store_reset(void);
/* The connection to pass to flow_login (there is only one). */
store_conn_t *fake_store_conn(void);

/*
 * A copy of every table (malloc'd; free() it), and putting one back: a test
 * that runs the same request many times prepares the rows once.  The call
 * log and armed failures are not part of it (restoring clears them).
 */
void *fake_store_save(void);
void fake_store_restore(void const *saved);

/* Rows a test puts in (ids count from 1; every function asserts on overflow by aborting). */
uint64_t fake_company_add(char const *name, security_level_t level, unsigned group_mask, uint32_t grace_days);
/* email, password_hash: NULL for a NULL column. */
uint64_t fake_user_add(uint64_t company_id, char const *login, user_group_t group, char const *email,
		       char const *password_hash);
fake_user_t *fake_user(uint64_t id);
fake_company_t *fake_company(uint64_t id);
/* Put (or replace) the user's TOTP secret row. */
fake_secret_t *fake_secret_put(uint64_t user_id, totp_status_t status, uint8_t const *sealed, size_t sealed_len,
			       uint32_t key_id, totp_params_t params, uint64_t last_counter);
fake_secret_t *fake_secret(uint64_t user_id);	/* NULL when the user has none */
void fake_recovery_put(uint64_t user_id, uint8_t slot, uint8_t const salt[RECOVERY_SALT_LEN],
		       uint8_t const hash[RECOVERY_HASH_LEN]);
fake_recovery_t *fake_recovery(uint64_t user_id, uint8_t slot);
/* Trust rows of the default scope ""; the _scoped forms name the scope. */
fake_trust_t *fake_trust_put(uint64_t user_id, char const *address, addr_kind_t kind, char const *how,
			     int64_t proven_at, int64_t expires_at);
fake_trust_t *fake_trust_put_scoped(uint64_t user_id, char const *scope, char const *address, addr_kind_t kind,
				    char const *how, int64_t proven_at, int64_t expires_at);
fake_trust_t *fake_trust(uint64_t user_id, char const *address);	/* NULL when none (expired or not) */
fake_trust_t *fake_trust_scoped(uint64_t user_id, char const *scope, char const *address);
size_t fake_trust_count(uint64_t user_id);				/* in every scope */
/*
 * Failure records (login_failures).  address NULL: the name's record
 * (address ''); otherwise the pair's, "" keyed STORE_NO_ADDRESS as the store does.
 */
fake_failure_t *fake_failures(char const *login);			/* the name's record; NULL when none */
fake_failure_t *fake_failures_pair(char const *login, char const *address);	/* NULL when none */
size_t fake_failure_rows(void);						/* records of every name */
fake_failure_t *fake_failures_put(char const *login, char const *address, uint32_t failures, uint32_t lockouts,
				  int64_t locked_until, int64_t last_failure_at);
/* The challenge of a State as flow_login returned it ("V1" + 32 hex); NULL when none or malformed. */
fake_challenge_t *fake_challenge(char const *state);
size_t fake_challenge_count(void);
fake_email_t *fake_email_latest(uint64_t user_id);			/* highest id of the user, or NULL */
size_t fake_email_count(void);
size_t fake_email_sends(uint64_t user_id);
void fake_email_send_put(uint64_t user_id, int64_t sent_at);
size_t fake_audit_count(char const *event);				/* NULL: all rows */
fake_audit_t const *fake_audit_last(char const *event);		/* newest row of the event, or NULL */

/*
 * Another server's failure of the same record locks it between this
 * request's store_failure_take and its store_failure_lock (once: the next
 * store_failure_lock first applies that lock to the record it names,
 * lockouts + 1, failures 0, the same locked_until, as the concurrent
 * request's own store_failure_lock would; this one then finds lockouts
 * changed and answers STORE_CONFLICT).
 */
void fake_failure_race_next_lock(void);

/*
 * A concurrent request: fn runs once, at the start of the next call of
 * 'function' (before its armed failure, if any, and before it reads or
 * writes), as another server's request landing just before that statement.
 */
void fake_before_next(char const *function, void (*fn)(void));

/*
 * Transactions (store_transaction_start/_end) as the real store has them:
 * the end commits, or, when a call inside failed, puts every table back as
 * the start found them and answers STORE_ERROR.  fake_transaction_conflicts(n):
 * the next n ends roll back and answer STORE_RETRY (a deadlock or a Galera
 * certification conflict).  Counters: transactions started, rolled back.
 */
void fake_transaction_conflicts(size_t n);
size_t fake_transactions(void);
size_t fake_rollbacks(void);
bool fake_in_transaction(void);

/* The call log: every store function called since the last reset or fake_calls_clear(). */
void fake_calls_clear(void);
size_t fake_calls(void);
char const *fake_call_name(size_t i);					/* 0-based */
size_t fake_call_count(char const *function);
/* The calls that change something (not store_login_lookup, store_email_pending, ...). */
size_t fake_write_calls(void);
bool fake_is_write(char const *function);

/*
 * Armed failures: the call answers STORE_ERROR before it changes anything
 * (store_last_error then names it).  fake_fail_call(n): the n-th store call
 * from now (1-based).  fake_fail_function(name, n): the n-th call of that
 * function from now, or every call when n is 0.  fake_fail_clear() disarms.
 * fake_failed() says whether an armed failure fired.
 */
void fake_fail_call(size_t n);
void fake_fail_function(char const *function, size_t n);
void fake_fail_clear(void);
bool fake_failed(void);

#endif
