/*
 * store_admin.h - the queries of the admin tool: schema migrations,
 * companies and their policy, users, trusted addresses, lockouts, audit.
 */
#ifndef VRMS2FA_STORE_ADMIN_H
#define VRMS2FA_STORE_ADMIN_H

#include "store.h"

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

typedef struct {
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
store_status_t store_trust_revoke(store_conn_t *conn, uint64_t user_id, char const *address, uint64_t *removed);
store_status_t store_trust_revoke_all(store_conn_t *conn, uint64_t user_id, uint64_t *removed);

typedef struct {
	uint32_t	failures;
	uint32_t	lockouts;
	int64_t		locked_until;
} store_lockout_t;

store_status_t store_lockout_get(store_conn_t *conn, char const *login, store_lockout_t *out);
store_status_t store_lockout_clear(store_conn_t *conn, char const *login);

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
