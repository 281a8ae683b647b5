/*
 * store_grants.h - the database accounts of least privilege (vrms2fa-admin
 * db grants): the GRANT statements of each role, written here because this
 * layer is the only one that speaks SQL, and their application over an
 * account that may grant (the database's root).
 *
 *   module   SELECT/INSERT/UPDATE/DELETE on exactly the tables and columns
 *            the module's queries use (store_login.c, store_email.c), no
 *            DDL, of schema_version only SELECT, of the audit trail only
 *            INSERT;
 *   admin    what vrms2fa-admin needs on the whole database: the data
 *            (SELECT, INSERT, UPDATE, DELETE) and the schema for db migrate
 *            (CREATE, ALTER, INDEX, REFERENCES, DROP, CREATE VIEW, SHOW
 *            VIEW, CREATE ROUTINE, ALTER ROUTINE, EXECUTE): the migrations
 *            create tables, views and procedures;
 *   backend  SELECT on the view backend_user_state and EXECUTE on the
 *            procedure backend_email_confirm (sql/007_backend.sql), which
 *            run with their definer's rights: nothing else.
 *
 * Each role's statements begin with REVOKE ALL, so that applying them makes
 * the account hold exactly that.  A table added by a migration that the
 * module uses must be added to the module's list in store_grants.c.
 */
#ifndef VRMS2FA_STORE_GRANTS_H
#define VRMS2FA_STORE_GRANTS_H

#include "store.h"

typedef enum {
	STORE_ROLE_MODULE = 0,
	STORE_ROLE_ADMIN,
	STORE_ROLE_BACKEND,
	STORE_ROLE_COUNT
} store_role_t;

char const *store_role_name(store_role_t role);	/* "module", "admin", "backend" */

/*
 * True when name may be written into a statement quoted: an account name
 * ([A-Za-z0-9_.-], 1..80), a host ([A-Za-z0-9_.%:-], 1..255) or a database
 * name ([A-Za-z0-9_$], 1..64).
 */
bool store_grants_user_valid(char const *user);
bool store_grants_host_valid(char const *host);
bool store_grants_database_valid(char const *database);

/*
 * The statements of role for 'user'@'host' on database, one per line,
 * each ending with ";", into out (outlen bytes).  0 ok, -1 when a name is
 * not valid or out is too small.
 */
int store_grants_render(store_role_t role, char const *database, char const *user, char const *host,
			char *out, size_t outlen);

/*
 * Does the account 'user'@'host' exist (mysql.user)?  The connection must
 * be one that may read mysql.user (the database's root).
 */
store_status_t store_grants_account_exists(store_conn_t *conn, char const *user, char const *host, bool *exists);

/*
 * Does the connection's own account hold every privilege the module needs,
 * whether granted on the server, the database, the tables or the columns
 * (information_schema)?  *complete, and the missing ones as text
 * ("DELETE on challenges, ...") in missing.  For "vrms2fa-admin check"
 * when the database-wide grants fall short.
 */
#define STORE_ACCOUNT_TEXT_MAX 400
store_status_t store_grants_module_check(store_conn_t *conn, bool *complete, char *missing, size_t missing_len);

/*
 * Run statements (of store_grants_render) on conn, which was opened with
 * multi_statements.  Stops at the first that fails (see store_last_error).
 */
store_status_t store_grants_apply(store_conn_t *conn, char const *statements);

#endif
