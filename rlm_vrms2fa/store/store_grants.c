/*
 * store_grants.c - the GRANT statements of the module's, the admin tool's
 * and the backend's database accounts (see store_grants.h).  Account,
 * host and database names cannot be bound as parameters of GRANT: they are
 * checked against a strict character set first and then quoted.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "store_grants.h"
#include "store_private.h"

/*
 * The module's privileges, table by table: what its queries do
 * (store_login.c, store_email.c, store.c's store_audit), and the schema
 * version that "vrms2fa-admin check" reads as the module.  UPDATE of users
 * is limited to the grace deadline: the module never changes a hash, a
 * group or a company.
 */
typedef struct {
	char const	*table;
	char const	*privilege;
	char const	*column;	/* NULL: the whole table */
} module_privilege_t;

static module_privilege_t const module_privileges[] = {
	{ "companies", "SELECT", NULL },
	{ "users", "SELECT", NULL },
	{ "users", "UPDATE", "grace_deadline" },
	{ "totp_secrets", "SELECT", NULL },
	{ "totp_secrets", "INSERT", NULL },
	{ "totp_secrets", "UPDATE", NULL },
	{ "totp_secrets", "DELETE", NULL },
	{ "recovery_codes", "SELECT", NULL },
	{ "recovery_codes", "UPDATE", "used_at" },
	{ "trusted_addresses", "SELECT", NULL },
	{ "trusted_addresses", "INSERT", NULL },
	{ "trusted_addresses", "UPDATE", NULL },
	{ "trusted_addresses", "DELETE", NULL },	/* expired rows (retention) */
	{ "challenges", "SELECT", NULL },
	{ "challenges", "INSERT", NULL },
	{ "challenges", "UPDATE", NULL },
	{ "challenges", "DELETE", NULL },
	{ "login_failures", "SELECT", NULL },
	{ "login_failures", "INSERT", NULL },
	{ "login_failures", "UPDATE", NULL },
	{ "login_failures", "DELETE", NULL },
	{ "email_confirmations", "SELECT", NULL },
	{ "email_confirmations", "INSERT", NULL },
	{ "email_confirmations", "UPDATE", NULL },
	{ "email_confirmations", "DELETE", NULL },
	{ "email_sends", "SELECT", NULL },
	{ "email_sends", "INSERT", NULL },
	{ "email_sends", "DELETE", NULL },
	{ "device_approvals", "SELECT", NULL },
	{ "device_approvals", "INSERT", NULL },
	{ "device_approvals", "UPDATE", NULL },
	{ "device_approvals", "DELETE", NULL },
	{ "audit_log", "INSERT", NULL },	/* only: the audit trail is pruned by vrms2fa-admin prune, never by radiusd */
	{ "schema_version", "SELECT", NULL },	/* for vrms2fa-admin check, which connects as the module */
};

static char const admin_privileges[] =
	"SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, REFERENCES, DROP, CREATE VIEW, SHOW VIEW,"
	" CREATE ROUTINE, ALTER ROUTINE, EXECUTE";

char const *store_role_name(store_role_t role)
{
	switch (role) {
	case STORE_ROLE_MODULE:		return "module";
	case STORE_ROLE_ADMIN:		return "admin";
	case STORE_ROLE_BACKEND:	return "backend";
	case STORE_ROLE_COUNT:		break;
	}
	return "unknown";
}

static bool all_in(char const *s, size_t max, char const *extra)
{
	size_t n;

	if (!s) return false;
	n = strlen(s);
	if (n == 0 || n > max) return false;
	for (; *s; s++) {
		char c = *s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_') continue;
		if (!strchr(extra, c)) return false;
	}
	return true;
}

bool store_grants_user_valid(char const *user)
{
	return all_in(user, 80, ".-");
}

bool store_grants_host_valid(char const *host)
{
	return all_in(host, 255, ".%:-");
}

bool store_grants_database_valid(char const *database)
{
	return all_in(database, 64, "$");
}

/* Append to out at *used; -1 when it does not fit. */
static int __attribute__((format(printf, 4, 5))) put(char *out, size_t outlen, size_t *used, char const *fmt, ...)
{
	va_list ap;
	int n;

	if (*used >= outlen) return -1;
	va_start(ap, fmt);
	n = vsnprintf(out + *used, outlen - *used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= outlen - *used) return -1;
	*used += (size_t)n;
	return 0;
}

int store_grants_render(store_role_t role, char const *database, char const *user, char const *host,
			char *out, size_t outlen)
{
	size_t used = 0, i;

	if (outlen) out[0] = '\0';
	if (!store_grants_database_valid(database) || !store_grants_user_valid(user) || !store_grants_host_valid(host)) {
		return -1;
	}
	if (put(out, outlen, &used, "REVOKE ALL PRIVILEGES, GRANT OPTION FROM '%s'@'%s';\n", user, host) != 0) return -1;
	switch (role) {
	case STORE_ROLE_MODULE:
		/* one GRANT per table: "GRANT SELECT, UPDATE (grace_deadline) ON `db`.`users` TO ..." */
		for (i = 0; i < NELEMS(module_privileges); i++) {
			module_privilege_t const *p = &module_privileges[i];
			bool first = i == 0 || strcmp(module_privileges[i - 1].table, p->table) != 0;
			bool last = i + 1 == NELEMS(module_privileges) || strcmp(module_privileges[i + 1].table, p->table) != 0;

			if (put(out, outlen, &used, "%s%s", first ? "GRANT " : ", ", p->privilege) != 0) return -1;
			if (p->column && put(out, outlen, &used, " (%s)", p->column) != 0) return -1;
			if (last && put(out, outlen, &used, " ON `%s`.`%s` TO '%s'@'%s';\n", database, p->table, user, host) != 0) {
				return -1;
			}
		}
		return 0;
	case STORE_ROLE_ADMIN:
		return put(out, outlen, &used, "GRANT %s ON `%s`.* TO '%s'@'%s';\n", admin_privileges, database, user, host);
	case STORE_ROLE_BACKEND:
		if (put(out, outlen, &used, "GRANT SELECT ON `%s`.`backend_user_state` TO '%s'@'%s';\n",
			database, user, host) != 0) return -1;
		return put(out, outlen, &used, "GRANT EXECUTE ON PROCEDURE `%s`.`backend_email_confirm` TO '%s'@'%s';\n",
			   database, user, host);
	case STORE_ROLE_COUNT:
		break;
	}
	return -1;
}

static char const SQL_ACCOUNT_EXISTS[] = "SELECT COUNT(*) FROM mysql.user WHERE User = ? AND Host = ?";

store_status_t store_grants_account_exists(store_conn_t *conn, char const *user, char const *host, bool *exists)
{
	int64_t count = 0;
	store_param_t params[] = { P_TEXT(user), P_TEXT(host) };
	store_col_t cols[] = { C_I64(&count, NULL) };
	store_status_t rc;

	*exists = false;
	rc = store_run(conn, SQL_ACCOUNT_EXISTS, params, NELEMS(params), cols, NELEMS(cols), NULL, NULL, NULL, NULL);
	if (rc != STORE_OK) return rc;
	*exists = count > 0;
	return STORE_OK;
}

store_status_t store_grants_apply(store_conn_t *conn, char const *statements)
{
	return store_exec_script(conn, statements);
}

static char const SQL_WHO_AM_I[] = "SELECT CURRENT_USER()";
static char const SQL_HAS_PRIVILEGE[] =
	"SELECT (SELECT COUNT(*) FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ? AND PRIVILEGE_TYPE = ?)"
	" + (SELECT COUNT(*) FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = ?"
	"    AND TABLE_SCHEMA = DATABASE() AND PRIVILEGE_TYPE = ?)"
	" + (SELECT COUNT(*) FROM information_schema.TABLE_PRIVILEGES WHERE GRANTEE = ?"
	"    AND TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND PRIVILEGE_TYPE = ?)"
	" + (SELECT COUNT(*) FROM information_schema.COLUMN_PRIVILEGES WHERE GRANTEE = ?"
	"    AND TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = ? AND PRIVILEGE_TYPE = ?)";

store_status_t store_grants_module_check(store_conn_t *conn, bool *complete, char *missing, size_t missing_len)
{
	char who[STORE_ACCOUNT_TEXT_MAX], grantee[STORE_ACCOUNT_TEXT_MAX + 8];
	store_col_t who_col[] = { C_TEXT(who, sizeof(who), NULL) };
	size_t used = 0, i;
	store_status_t rc;
	char *at;

	*complete = false;
	if (missing_len) missing[0] = '\0';
	rc = store_run(conn, SQL_WHO_AM_I, NULL, 0, who_col, NELEMS(who_col), NULL, NULL, NULL, NULL);
	if (rc != STORE_OK) return rc;
	at = strrchr(who, '@');
	if (!at) return STORE_ERROR;
	*at = '\0';
	snprintf(grantee, sizeof(grantee), "'%s'@'%s'", who, at + 1);
	*complete = true;
	for (i = 0; i < NELEMS(module_privileges); i++) {
		module_privilege_t const *p = &module_privileges[i];
		int64_t count = 0;
		store_param_t params[] = {
			P_TEXT(grantee), P_TEXT(p->privilege),
			P_TEXT(grantee), P_TEXT(p->privilege),
			P_TEXT(grantee), P_TEXT(p->table), P_TEXT(p->privilege),
			P_TEXT(grantee), P_TEXT(p->table), p->column ? P_TEXT(p->column) : P_NULL(), P_TEXT(p->privilege),
		};
		store_col_t cols[] = { C_I64(&count, NULL) };

		rc = store_run(conn, SQL_HAS_PRIVILEGE, params, NELEMS(params), cols, NELEMS(cols), NULL, NULL, NULL, NULL);
		if (rc != STORE_OK) return rc;
		if (count > 0) continue;
		*complete = false;
		if (used < missing_len) {
			int n = snprintf(missing + used, missing_len - used, "%s%s%s%s%s on %s", used ? ", " : "", p->privilege,
					 p->column ? " (" : "", p->column ? p->column : "", p->column ? ")" : "", p->table);

			if (n > 0) used += (size_t)n;
		}
	}
	return STORE_OK;
}
