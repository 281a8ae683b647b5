/*
 * store_backend.h - the queries of the admin tool's commands for the VRMS
 * backend (admin/cmd_backend.c): users listed with filters, companies with
 * their counts, a company's policy with its counts, a user deleted with
 * every row about them, and the reads and writes of "user sync".
 */
#ifndef VRMS2FA_STORE_BACKEND_H
#define VRMS2FA_STORE_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "store_admin.h"
#include "../core/password.h"
#include "../core/policy.h"
#include "../core/text.h"

/* A user as the backend sees it.  password_hash is read only for user sync, never printed. */
typedef struct {
	uint64_t	id;
	char		login[TEXT_LOGIN_MAX + 1];
	uint64_t	company_id;
	char		company[STORE_COMPANY_MAX + 1];
	user_group_t	group;
	bool		has_email;
	char		email[STORE_EMAIL_MAX + 1];
	bool		has_password_hash;
	char		password_hash[PASSWORD_HASH_MAX + 1];
	bool		disabled;
	bool		has_deadline;
	int64_t		grace_deadline;
	totp_status_t	totp_status;
} store_backend_user_t;

/* Filters of a user list: NULL / false for "any". */
typedef struct {
	char const	*company;
	bool		by_group;
	user_group_t	group;
	bool		by_disabled;
	bool		disabled;
	char const	*totp;		/* "none", "pending", "active" or NULL */
} store_backend_filter_t;

typedef int (*store_backend_user_fn)(store_backend_user_t const *user, void *arg);

/* Users matching filter, by login; with_hash also reads the password hash (user sync). */
store_status_t store_backend_users(store_conn_t *conn, store_backend_filter_t const *filter, bool with_hash,
				   store_backend_user_fn fn, void *arg);

typedef struct {
	store_company_t	company;
	uint64_t	users;
	uint64_t	disabled;
	uint64_t	enrolled;	/* 2FA active */
} store_backend_company_t;

typedef int (*store_backend_company_fn)(store_backend_company_t const *company, void *arg);
store_status_t store_backend_companies(store_conn_t *conn, store_backend_company_fn fn, void *arg);

/* A company's enabled users that its policy covers (group in mask), and where they stand at now. */
typedef struct {
	uint64_t	users;		/* enabled users of the company */
	uint64_t	covered;	/* of them, in a group the mask names */
	uint64_t	enrolled;	/* covered, 2FA active */
	uint64_t	in_grace;	/* covered, not active, deadline in the future */
	uint64_t	past_deadline;	/* covered, not active, deadline passed */
} store_backend_policy_counts_t;

store_status_t store_backend_policy_counts(store_conn_t *conn, uint64_t company_id, unsigned mask, int64_t now,
					   store_backend_policy_counts_t *out);

/* Rows removed by store_backend_user_delete, table by table. */
typedef struct {
	uint64_t	trusted_addresses;
	uint64_t	totp_secrets;
	uint64_t	recovery_codes;
	uint64_t	challenges;
	uint64_t	email_confirmations;
	uint64_t	email_sends;
	uint64_t	login_failures;
} store_backend_deleted_t;

/*
 * Delete the user and every row about them (trust, secret, recovery codes,
 * challenges, email confirmations and sends, the failure records of the
 * login name).  Inside the caller's transaction.  STORE_NOT_FOUND when the
 * user row was gone.
 */
store_status_t store_backend_user_delete(store_conn_t *conn, uint64_t user_id, char const *login,
					 store_backend_deleted_t *out);

/* user sync's writes beside store_admin.h's: the company, and a hash that may be NULL (none here). */
store_status_t store_backend_user_set_company(store_conn_t *conn, uint64_t user_id, uint64_t company_id);
store_status_t store_backend_user_set_hash(store_conn_t *conn, uint64_t user_id, char const *hash /* NULL: none */);

#endif
