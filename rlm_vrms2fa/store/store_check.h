/*
 * store_check.h - the read-only queries of "vrms2fa-admin check": the schema
 * version without creating anything, the privileges the module's account
 * holds on its database (from SHOW GRANTS), and the key ids the stored TOTP
 * secrets are sealed with.  Nothing here writes.
 */
#ifndef VRMS2FA_STORE_CHECK_H
#define VRMS2FA_STORE_CHECK_H

#include "store.h"

/*
 * The highest applied migration; *found false (and *version 0) when the
 * schema_version table does not exist yet (no "db migrate" so far).
 */
store_status_t store_check_schema_version(store_conn_t *conn, uint32_t *version, bool *found);

/* Privileges, as bits of store_grants_t.held. */
#define STORE_PRIV_SELECT	(1u << 0)
#define STORE_PRIV_INSERT	(1u << 1)
#define STORE_PRIV_UPDATE	(1u << 2)
#define STORE_PRIV_DELETE	(1u << 3)
#define STORE_PRIV_CREATE	(1u << 4)
#define STORE_PRIV_ALTER	(1u << 5)
#define STORE_PRIV_INDEX	(1u << 6)
#define STORE_PRIV_REFERENCES	(1u << 7)
#define STORE_PRIV_DROP		(1u << 8)
#define STORE_PRIV_OTHER	(1u << 9)	/* anything else on the database (GRANT OPTION excluded) */
#define STORE_PRIV_COUNT	10

/* What the module needs at run time, and what "db migrate" needs on top. */
#define STORE_PRIV_MODULE	(STORE_PRIV_SELECT | STORE_PRIV_INSERT | STORE_PRIV_UPDATE | STORE_PRIV_DELETE)
#define STORE_PRIV_MIGRATE	(STORE_PRIV_CREATE | STORE_PRIV_ALTER | STORE_PRIV_INDEX | STORE_PRIV_REFERENCES)

/* The SQL name of one privilege bit ("SELECT"), or NULL. */
char const *store_priv_name(unsigned bit);

#define STORE_ACCOUNT_MAX	200

typedef struct {
	char		account[STORE_ACCOUNT_MAX + 1];	/* CURRENT_USER(): 'user@host' */
	char		database[65];			/* DATABASE() */
	unsigned	held;				/* privileges on that database, global ones included */
} store_grants_t;

/*
 * Read SHOW GRANTS of the connection's own account and keep the privileges
 * that apply to the connection's database: ON *.* and ON `db`.* (a
 * database name pattern with % and _ included).  Table and column grants
 * and roles are not counted.
 */
store_status_t store_check_grants(store_conn_t *conn, store_grants_t *out);

/*
 * Called once per key id in use, with the number of secrets it sealed and
 * one of them (the lowest user id's), to try the key on; return 0 to go on.
 */
typedef int (*store_check_key_fn)(uint32_t key_id, uint64_t count, uint64_t user_id,
				  uint8_t const *sealed, size_t sealed_len, void *arg);

/* The key ids of the stored TOTP secrets, pending ones included. */
store_status_t store_check_key_ids(store_conn_t *conn, store_check_key_fn fn, void *arg);

#endif
