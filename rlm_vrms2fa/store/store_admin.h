/*
 * store_admin.h - the queries only the admin tool makes (store_admin.c,
 * store_email.c): transactions, schema migrations, companies and their
 * policy, users, secrets, recovery codes, trusted addresses, lockouts,
 * email links, the audit trail and key rotation.
 */
#ifndef VRMS2FA_STORE_ADMIN_H
#define VRMS2FA_STORE_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "store_login.h"

/*
 * One transaction on the connection.  A deadlock or a cluster
 * certification conflict rolls it back whole (STORE_RETRY from a statement
 * or from the commit): run it again from the start.  store_commit rolls
 * back by itself when it fails.
 */
store_status_t store_begin(store_conn_t *conn);
store_status_t store_commit(store_conn_t *conn);
void store_rollback(store_conn_t *conn);

/* Schema: the highest applied migration (0 when none); creates schema_version if missing. */
store_status_t store_schema_version(store_conn_t *conn, uint32_t *version);
store_status_t store_schema_apply(store_conn_t *conn, uint32_t version, char const *script, int64_t now);

typedef struct {
	uint64_t		id;
	char			name[STORE_COMPANY_MAX + 1];
	security_level_t	level;
	unsigned		group_mask;
	uint32_t		grace_days;
} store_company_t;

store_status_t store_company_add(store_conn_t *conn, char const *name, uint32_t grace_days, int64_t now, uint64_t *id);
store_status_t store_company_get(store_conn_t *conn, char const *name, store_company_t *out);
store_status_t store_company_set_policy(store_conn_t *conn, uint64_t company_id, security_level_t level, unsigned mask);

/*
 * Grace deadlines.  start: users of the company whose group is in 'mask',
 * without active 2FA and without a deadline, get 'deadline'.  lift: users of
 * the company whose group is NOT in 'mask' lose their deadline (mask 0: all).
 */
store_status_t store_grace_start(store_conn_t *conn, uint64_t company_id, unsigned mask, int64_t deadline);
store_status_t store_grace_lift(store_conn_t *conn, uint64_t company_id, unsigned mask);

typedef struct {
	uint64_t		id;
	char			login[TEXT_LOGIN_MAX + 1];
	store_company_t		company;
	user_group_t		group;
	bool			has_email;
	char			email[STORE_EMAIL_MAX + 1];
	bool			has_password_hash;
	bool			disabled;
	bool			has_deadline;
	int64_t			grace_deadline;
	totp_status_t		totp_status;
	uint32_t		recovery_codes_left;
	uint32_t		trusted_addresses;
} store_user_t;

store_status_t store_user_add(store_conn_t *conn, char const *login, uint64_t company_id, user_group_t group,
			      char const *email, char const *password_hash, int64_t deadline, int64_t now, uint64_t *id);
store_status_t store_user_get(store_conn_t *conn, char const *login, store_user_t *out);
store_status_t store_user_set_group(store_conn_t *conn, uint64_t user_id, user_group_t group);
store_status_t store_user_set_email(store_conn_t *conn, uint64_t user_id, char const *email);
store_status_t store_user_set_password_hash(store_conn_t *conn, uint64_t user_id, char const *hash);
store_status_t store_user_set_disabled(store_conn_t *conn, uint64_t user_id, bool disabled);
store_status_t store_user_set_deadline(store_conn_t *conn, uint64_t user_id, int64_t deadline /* 0: none */);

store_status_t store_secret_get(store_conn_t *conn, uint64_t user_id, store_secret_t *out);
/* Remove the secret, the recovery codes and all trusted addresses of the user. */
store_status_t store_secret_reset(store_conn_t *conn, uint64_t user_id);

/* Recovery codes: replace the user's set with RECOVERY_CODE_COUNT new ones. */
store_status_t store_recovery_replace(store_conn_t *conn, uint64_t user_id, uint8_t const salt[RECOVERY_SALT_LEN],
				      uint8_t const hashes[RECOVERY_CODE_COUNT][RECOVERY_HASH_LEN]);

/* Email confirmation by link (the backend's page runs "email confirm TOKEN"). */
typedef struct {
	uint64_t	id;
	uint64_t	user_id;
	uint64_t	company_id;
	char		login[TEXT_LOGIN_MAX + 1];
	char		scope[33];		/* the trust scope of the login that asked for it */
	char		address[ADDR_TEXT_MAX];
	bool		may_trust;		/* the login that asked for it could earn trust */
	bool		user_disabled;		/* the user's state now */
	bool		twofa_active;
} store_email_link_t;
/* The unexpired, unconfirmed, sent confirmation of a link token, with its user's state; STORE_NOT_FOUND when none. */
store_status_t store_email_by_token(store_conn_t *conn, uint8_t const token_hash[EMAIL_HASH_LEN], int64_t now,
				    store_email_link_t *out);
/* Confirm it by link (a conditional update: STORE_NOT_FOUND when confirmed or expired meanwhile). */
store_status_t store_email_confirm_link(store_conn_t *conn, uint64_t id, int64_t now);


typedef struct {
	char		scope[33];
	char		address[ADDR_TEXT_MAX];
	char		kind[8];
	char		how[16];
	int64_t		created_at;
	int64_t		proven_at;
	int64_t		last_used_at;
	bool		never_expires;
	int64_t		expires_at;
} store_trust_row_t;

typedef int (*store_trust_fn)(store_trust_row_t const *row, void *arg);
store_status_t store_trust_list(store_conn_t *conn, uint64_t user_id, store_trust_fn fn, void *arg);
/* Revoke an address in every trust scope. */
store_status_t store_trust_revoke(store_conn_t *conn, uint64_t user_id, char const *address, uint64_t *removed);
store_status_t store_trust_revoke_all(store_conn_t *conn, uint64_t user_id, uint64_t *removed);

/*
 * The failure records of a login name (known or not): the name's own
 * (address "") first, then one per address (STORE_NO_ADDRESS for requests
 * without one), in address order; nothing when there is none.
 */
typedef struct {
	char			address[ADDR_TEXT_MAX];
	lockout_record_t	record;
} store_lockout_row_t;

typedef int (*store_lockout_fn)(store_lockout_row_t const *row, void *arg);
store_status_t store_lockout_list(store_conn_t *conn, char const *login, store_lockout_fn fn, void *arg);
/* Delete every failure record of the name: the name's own and every address's. */
store_status_t store_lockout_clear(store_conn_t *conn, char const *login, uint64_t *removed);

typedef struct {
	int64_t		at;
	char		actor[129];
	char		login[TEXT_LOGIN_MAX + 1];
	char		event[65];
	char		detail[1025];
	char		source[129];
} store_audit_row_t;

typedef int (*store_audit_fn)(store_audit_row_t const *row, void *arg);
/* user_id 0: all users. */
store_status_t store_audit_list(store_conn_t *conn, uint64_t user_id, int64_t since, store_audit_fn fn, void *arg);

/* Key rotation: secrets sealed under another key than 'current', at most 'limit' of them. */
typedef struct {
	uint64_t	user_id;
	uint32_t	key_id;
	uint8_t		sealed[STORE_SEALED_MAX];
	size_t		sealed_len;
} store_sealed_row_t;

typedef int (*store_sealed_fn)(store_sealed_row_t const *row, void *arg);
store_status_t store_secrets_not_under(store_conn_t *conn, uint32_t current, uint32_t limit, store_sealed_fn fn, void *arg);
/* Replace a sealed secret if it is still the one read (STORE_CONFLICT otherwise). */
store_status_t store_secret_reseal(store_conn_t *conn, uint64_t user_id, uint8_t const *old_sealed, size_t old_len,
				   uint8_t const *sealed, size_t sealed_len, uint32_t key_id);
typedef int (*store_key_count_fn)(uint32_t key_id, uint64_t count, void *arg);
store_status_t store_secrets_per_key(store_conn_t *conn, store_key_count_fn fn, void *arg);

#endif
