/*
 * store_admin.c - the admin tool's queries (see store_admin.h).
 */
#include <stdio.h>
#include <string.h>

#include "store_private.h"
#include "store_admin.h"

static char const SQL_SCHEMA_TABLE[] =
	"CREATE TABLE IF NOT EXISTS schema_version ("
	" version INT UNSIGNED NOT NULL, applied_at BIGINT NOT NULL, PRIMARY KEY (version)"
	") ENGINE=InnoDB";
static char const SQL_SCHEMA_MAX[] = "SELECT COALESCE(MAX(version), 0) FROM schema_version";
static char const SQL_SCHEMA_RECORD[] = "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)";

store_status_t store_schema_version(store_conn_t *conn, uint32_t *version)
{
	int64_t v = 0;
	store_col_t cols[] = { C_I64(&v, NULL) };
	store_status_t rc;

	rc = store_exec_script(conn, SQL_SCHEMA_TABLE);
	if (rc != STORE_OK) return rc;
	rc = store_run(conn, SQL_SCHEMA_MAX, NULL, 0, cols, NELEMS(cols), NULL, NULL, NULL, NULL);
	*version = (uint32_t)v;
	return rc;
}

store_status_t store_schema_apply(store_conn_t *conn, uint32_t version, char const *script, int64_t now)
{
	store_param_t params[] = { P_I64(version), P_I64(now) };
	store_status_t rc;

	rc = store_exec_script(conn, script);
	if (rc != STORE_OK) return rc;
	return store_exec(conn, SQL_SCHEMA_RECORD, params, NELEMS(params), NULL);
}

static char const SQL_COMPANY_ADD[] =
	"INSERT INTO companies (name, security_level, group_mask, grace_days, created_at) VALUES (?, 'low', 0, ?, ?)";

store_status_t store_company_add(store_conn_t *conn, char const *name, uint32_t grace_days, int64_t now, uint64_t *id)
{
	store_param_t params[] = { P_TEXT(name), P_I64(grace_days), P_I64(now) };
	store_status_t rc;

	rc = store_exec(conn, SQL_COMPANY_ADD, params, NELEMS(params), NULL);
	if (rc == STORE_OK) *id = store_insert_id(conn);
	return rc;
}

static char const SQL_COMPANY_GET[] =
	"SELECT id, name, security_level, group_mask, grace_days FROM companies WHERE name = ?";

store_status_t store_company_get(store_conn_t *conn, char const *name, store_company_t *out)
{
	char level[16];
	int64_t mask = 0, grace = 0;
	store_param_t params[] = { P_TEXT(name) };
	store_col_t cols[] = {
		C_U64(&out->id, NULL), C_TEXT(out->name, sizeof(out->name), NULL), C_TEXT(level, sizeof(level), NULL),
		C_I64(&mask, NULL), C_I64(&grace, NULL),
	};
	store_status_t rc;
	uint64_t rows;

	memset(out, 0, sizeof(*out));
	rc = store_run(conn, SQL_COMPANY_GET, params, NELEMS(params), cols, NELEMS(cols), NULL, NULL, &rows, NULL);
	if (rc != STORE_OK) return rc;
	if (rows == 0) return STORE_NOT_FOUND;
	if (policy_level_parse(level, &out->level) != 0) return STORE_ERROR;
	out->group_mask = (unsigned)mask & GROUP_MASK_ALL;
	out->grace_days = (uint32_t)grace;
	return STORE_OK;
}

static char const SQL_COMPANY_POLICY[] =
	"UPDATE companies SET security_level = ?, group_mask = ? WHERE id = ?";

store_status_t store_company_set_policy(store_conn_t *conn, uint64_t company_id, security_level_t level, unsigned mask)
{
	store_param_t params[] = { P_TEXT(policy_level_name(level)), P_I64(mask), P_U64(company_id) };

	return store_exec(conn, SQL_COMPANY_POLICY, params, NELEMS(params), NULL);
}

/* A user's group as a bit of the mask: ENUM values are numbered from 1 in declaration order. */
static char const SQL_GRACE_START[] =
	"UPDATE users u LEFT JOIN totp_secrets s ON s.user_id = u.id AND s.status = 'active'"
	" SET u.grace_deadline = ?"
	" WHERE u.company_id = ? AND ((? >> (u.user_group + 0 - 1)) & 1) = 1"
	" AND u.grace_deadline IS NULL AND s.user_id IS NULL";
static char const SQL_GRACE_LIFT[] =
	"UPDATE users SET grace_deadline = NULL"
	" WHERE company_id = ? AND ((? >> (user_group + 0 - 1)) & 1) = 0";

store_status_t store_grace_start(store_conn_t *conn, uint64_t company_id, unsigned mask, int64_t deadline)
{
	store_param_t params[] = { P_I64(deadline), P_U64(company_id), P_I64(mask) };

	return store_exec(conn, SQL_GRACE_START, params, NELEMS(params), NULL);
}

store_status_t store_grace_lift(store_conn_t *conn, uint64_t company_id, unsigned mask)
{
	store_param_t params[] = { P_U64(company_id), P_I64(mask) };

	return store_exec(conn, SQL_GRACE_LIFT, params, NELEMS(params), NULL);
}

static char const SQL_USER_ADD[] =
	"INSERT INTO users (login, company_id, user_group, email, password_hash, disabled, grace_deadline, created_at)"
	" VALUES (?, ?, ?, ?, ?, 0, ?, ?)";

store_status_t store_user_add(store_conn_t *conn, char const *login, uint64_t company_id, user_group_t group,
			      char const *email, char const *password_hash, int64_t deadline, int64_t now, uint64_t *id)
{
	store_param_t params[] = {
		P_TEXT(login), P_U64(company_id), P_TEXT(policy_group_name(group)),
		email ? P_TEXT(email) : P_NULL(), password_hash ? P_TEXT(password_hash) : P_NULL(),
		deadline ? P_I64(deadline) : P_NULL(), P_I64(now),
	};
	store_status_t rc;

	rc = store_exec(conn, SQL_USER_ADD, params, NELEMS(params), NULL);
	if (rc == STORE_OK) *id = store_insert_id(conn);
	return rc;
}

static char const SQL_USER_GET[] =
	"SELECT u.id, u.login, c.id, c.name, c.security_level, c.group_mask, c.grace_days,"
	" u.user_group, u.email, u.password_hash IS NOT NULL, u.disabled, u.grace_deadline, s.status,"
	" (SELECT COUNT(*) FROM recovery_codes r WHERE r.user_id = u.id AND r.used_at IS NULL),"
	" (SELECT COUNT(*) FROM trusted_addresses t WHERE t.user_id = u.id)"
	" FROM users u JOIN companies c ON c.id = u.company_id"
	" LEFT JOIN totp_secrets s ON s.user_id = u.id WHERE u.login = ?";

store_status_t store_user_get(store_conn_t *conn, char const *login, store_user_t *out)
{
	char level[16], group[32], status[16];
	int64_t mask = 0, grace = 0, has_hash = 0, disabled = 0, recovery = 0, trusted = 0;
	bool email_null = true, deadline_null = true, status_null = true;
	store_param_t params[] = { P_TEXT(login) };
	store_col_t cols[] = {
		C_U64(&out->id, NULL), C_TEXT(out->login, sizeof(out->login), NULL),
		C_U64(&out->company.id, NULL), C_TEXT(out->company.name, sizeof(out->company.name), NULL),
		C_TEXT(level, sizeof(level), NULL), C_I64(&mask, NULL), C_I64(&grace, NULL),
		C_TEXT(group, sizeof(group), NULL), C_TEXT(out->email, sizeof(out->email), &email_null),
		C_I64(&has_hash, NULL), C_I64(&disabled, NULL), C_I64(&out->grace_deadline, &deadline_null),
		C_TEXT(status, sizeof(status), &status_null), C_I64(&recovery, NULL), C_I64(&trusted, NULL),
	};
	store_status_t rc;
	uint64_t rows;

	memset(out, 0, sizeof(*out));
	rc = store_run(conn, SQL_USER_GET, params, NELEMS(params), cols, NELEMS(cols), NULL, NULL, &rows, NULL);
	if (rc != STORE_OK) return rc;
	if (rows == 0) return STORE_NOT_FOUND;
	if (policy_level_parse(level, &out->company.level) != 0 || policy_group_parse(group, &out->group) != 0) return STORE_ERROR;
	out->company.group_mask = (unsigned)mask & GROUP_MASK_ALL;
	out->company.grace_days = (uint32_t)grace;
	out->has_email = !email_null && out->email[0];
	out->has_password_hash = has_hash != 0;
	out->disabled = disabled != 0;
	out->has_deadline = !deadline_null;
	if (status_null) {
		out->totp_status = TOTP_STATUS_NONE;
	} else if (totp_status_parse(status, &out->totp_status) != 0) {
		return STORE_ERROR;
	}
	out->recovery_codes_left = (uint32_t)recovery;
	out->trusted_addresses = (uint32_t)trusted;
	return STORE_OK;
}

static char const SQL_USER_SET_GROUP[] = "UPDATE users SET user_group = ? WHERE id = ?";
static char const SQL_USER_SET_EMAIL[] = "UPDATE users SET email = ? WHERE id = ?";
static char const SQL_USER_SET_HASH[] = "UPDATE users SET password_hash = ? WHERE id = ?";
static char const SQL_USER_SET_DISABLED[] = "UPDATE users SET disabled = ? WHERE id = ?";
static char const SQL_USER_SET_DEADLINE[] = "UPDATE users SET grace_deadline = ? WHERE id = ?";

store_status_t store_user_set_group(store_conn_t *conn, uint64_t user_id, user_group_t group)
{
	store_param_t params[] = { P_TEXT(policy_group_name(group)), P_U64(user_id) };
	return store_exec(conn, SQL_USER_SET_GROUP, params, NELEMS(params), NULL);
}

store_status_t store_user_set_email(store_conn_t *conn, uint64_t user_id, char const *email)
{
	store_param_t params[] = { email && email[0] ? P_TEXT(email) : P_NULL(), P_U64(user_id) };
	return store_exec(conn, SQL_USER_SET_EMAIL, params, NELEMS(params), NULL);
}

store_status_t store_user_set_password_hash(store_conn_t *conn, uint64_t user_id, char const *hash)
{
	store_param_t params[] = { P_TEXT(hash), P_U64(user_id) };
	return store_exec(conn, SQL_USER_SET_HASH, params, NELEMS(params), NULL);
}

store_status_t store_user_set_disabled(store_conn_t *conn, uint64_t user_id, bool disabled)
{
	store_param_t params[] = { P_I64(disabled ? 1 : 0), P_U64(user_id) };
	return store_exec(conn, SQL_USER_SET_DISABLED, params, NELEMS(params), NULL);
}

store_status_t store_user_set_deadline(store_conn_t *conn, uint64_t user_id, int64_t deadline)
{
	store_param_t params[] = { deadline ? P_I64(deadline) : P_NULL(), P_U64(user_id) };
	return store_exec(conn, SQL_USER_SET_DEADLINE, params, NELEMS(params), NULL);
}

static char const SQL_TRUST_LIST[] =
	"SELECT scope, address, kind, how, created_at, proven_at, last_used_at, expires_at"
	" FROM trusted_addresses WHERE user_id = ? ORDER BY proven_at, scope, address";

typedef struct {
	store_trust_row_t	row;
	store_trust_fn		fn;
	void			*arg;
} trust_rows_t;

static int trust_row(void *arg)
{
	trust_rows_t *t = arg;
	return t->fn(&t->row, t->arg);
}

store_status_t store_trust_list(store_conn_t *conn, uint64_t user_id, store_trust_fn fn, void *arg)
{
	trust_rows_t t = { .fn = fn, .arg = arg };
	store_param_t params[] = { P_U64(user_id) };
	store_col_t cols[] = {
		C_TEXT(t.row.scope, sizeof(t.row.scope), NULL),
		C_TEXT(t.row.address, sizeof(t.row.address), NULL), C_TEXT(t.row.kind, sizeof(t.row.kind), NULL),
		C_TEXT(t.row.how, sizeof(t.row.how), NULL), C_I64(&t.row.created_at, NULL),
		C_I64(&t.row.proven_at, NULL), C_I64(&t.row.last_used_at, NULL),
		C_I64(&t.row.expires_at, &t.row.never_expires),
	};

	return store_run(conn, SQL_TRUST_LIST, params, NELEMS(params), cols, NELEMS(cols), trust_row, &t, NULL, NULL);
}

static char const SQL_TRUST_REVOKE[] = "DELETE FROM trusted_addresses WHERE user_id = ? AND address = ?";
static char const SQL_TRUST_REVOKE_ALL[] = "DELETE FROM trusted_addresses WHERE user_id = ?";

store_status_t store_trust_revoke(store_conn_t *conn, uint64_t user_id, char const *address, uint64_t *removed)
{
	store_param_t params[] = { P_U64(user_id), P_TEXT(address) };
	return store_exec(conn, SQL_TRUST_REVOKE, params, NELEMS(params), removed);
}

store_status_t store_trust_revoke_all(store_conn_t *conn, uint64_t user_id, uint64_t *removed)
{
	store_param_t params[] = { P_U64(user_id) };
	return store_exec(conn, SQL_TRUST_REVOKE_ALL, params, NELEMS(params), removed);
}

static char const SQL_LOCKOUT_LIST[] =
	"SELECT address, failures, lockouts, locked_until, updated_at FROM login_failures WHERE login = ?"
	" ORDER BY address";
static char const SQL_LOCKOUT_CLEAR[] = "DELETE FROM login_failures WHERE login = ?";

typedef struct {
	store_lockout_row_t	row;
	int64_t			failures, lockouts;
	store_lockout_fn	fn;
	void			*arg;
} lockout_rows_t;

static int lockout_row(void *arg)
{
	lockout_rows_t *t = arg;

	t->row.record.failures = t->failures < 0 ? 0 : t->failures > UINT32_MAX ? UINT32_MAX : (uint32_t)t->failures;
	t->row.record.lockouts = t->lockouts < 0 ? 0 : t->lockouts > UINT32_MAX ? UINT32_MAX : (uint32_t)t->lockouts;
	return t->fn(&t->row, t->arg);
}

store_status_t store_lockout_list(store_conn_t *conn, char const *login, store_lockout_fn fn, void *arg)
{
	lockout_rows_t t;
	store_param_t params[] = { P_TEXT(login) };
	store_col_t cols[] = {
		C_TEXT(t.row.address, sizeof(t.row.address), NULL), C_I64(&t.failures, NULL), C_I64(&t.lockouts, NULL),
		C_I64(&t.row.record.locked_until, NULL), C_I64(&t.row.record.last_failure_at, NULL),
	};

	memset(&t, 0, sizeof(t));
	t.fn = fn;
	t.arg = arg;
	return store_run(conn, SQL_LOCKOUT_LIST, params, NELEMS(params), cols, NELEMS(cols), lockout_row, &t, NULL, NULL);
}

store_status_t store_lockout_clear(store_conn_t *conn, char const *login, uint64_t *removed)
{
	store_param_t params[] = { P_TEXT(login) };
	return store_exec(conn, SQL_LOCKOUT_CLEAR, params, NELEMS(params), removed);
}

static char const SQL_AUDIT_LIST[] =
	"SELECT a.at, a.actor, COALESCE(u.login, ''), a.event, a.detail, a.source"
	" FROM audit_log a LEFT JOIN users u ON u.id = a.user_id"
	" WHERE (? = 0 OR a.user_id = ?) AND a.at >= ? ORDER BY a.id";

typedef struct {
	store_audit_row_t	row;
	store_audit_fn		fn;
	void			*arg;
} audit_rows_t;

static int audit_row(void *arg)
{
	audit_rows_t *a = arg;
	return a->fn(&a->row, a->arg);
}

store_status_t store_audit_list(store_conn_t *conn, uint64_t user_id, int64_t since, store_audit_fn fn, void *arg)
{
	audit_rows_t a = { .fn = fn, .arg = arg };
	store_param_t params[] = { P_U64(user_id), P_U64(user_id), P_I64(since) };
	store_col_t cols[] = {
		C_I64(&a.row.at, NULL), C_TEXT(a.row.actor, sizeof(a.row.actor), NULL),
		C_TEXT(a.row.login, sizeof(a.row.login), NULL), C_TEXT(a.row.event, sizeof(a.row.event), NULL),
		C_TEXT(a.row.detail, sizeof(a.row.detail), NULL), C_TEXT(a.row.source, sizeof(a.row.source), NULL),
	};

	return store_run(conn, SQL_AUDIT_LIST, params, NELEMS(params), cols, NELEMS(cols), audit_row, &a, NULL, NULL);
}

static char const SQL_SECRETS_NOT_UNDER[] =
	"SELECT user_id, key_id, sealed FROM totp_secrets WHERE key_id <> ? ORDER BY user_id LIMIT ?";

typedef struct {
	store_sealed_row_t	row;
	int64_t			key_id;
	store_sealed_fn		fn;
	void			*arg;
} sealed_rows_t;

static int sealed_row(void *arg)
{
	sealed_rows_t *r = arg;

	r->row.key_id = (uint32_t)r->key_id;
	return r->fn(&r->row, r->arg);
}

store_status_t store_secrets_not_under(store_conn_t *conn, uint32_t current, uint32_t limit, store_sealed_fn fn, void *arg)
{
	sealed_rows_t r = { .fn = fn, .arg = arg };
	store_param_t params[] = { P_I64(current), P_I64(limit) };
	store_col_t cols[] = {
		C_U64(&r.row.user_id, NULL), C_I64(&r.key_id, NULL),
		C_BLOB(r.row.sealed, sizeof(r.row.sealed), &r.row.sealed_len, NULL),
	};

	return store_run(conn, SQL_SECRETS_NOT_UNDER, params, NELEMS(params), cols, NELEMS(cols), sealed_row, &r, NULL, NULL);
}

static char const SQL_SECRET_RESEAL[] =
	"UPDATE totp_secrets SET sealed = ?, key_id = ? WHERE user_id = ? AND sealed = ?";

store_status_t store_secret_reseal(store_conn_t *conn, uint64_t user_id, uint8_t const *old_sealed, size_t old_len,
				   uint8_t const *sealed, size_t sealed_len, uint32_t key_id)
{
	store_param_t params[] = { P_BLOB(sealed, sealed_len), P_I64(key_id), P_U64(user_id), P_BLOB(old_sealed, old_len) };
	return store_exec_one(conn, SQL_SECRET_RESEAL, params, NELEMS(params));
}

static char const SQL_SECRETS_PER_KEY[] = "SELECT key_id, COUNT(*) FROM totp_secrets GROUP BY key_id ORDER BY key_id";

typedef struct {
	int64_t			key_id, count;
	store_key_count_fn	fn;
	void			*arg;
} key_counts_t;

static int key_count_row(void *arg)
{
	key_counts_t *k = arg;
	return k->fn((uint32_t)k->key_id, (uint64_t)k->count, k->arg);
}

store_status_t store_secrets_per_key(store_conn_t *conn, store_key_count_fn fn, void *arg)
{
	key_counts_t k = { .fn = fn, .arg = arg };
	store_col_t cols[] = { C_I64(&k.key_id, NULL), C_I64(&k.count, NULL) };

	return store_run(conn, SQL_SECRETS_PER_KEY, NULL, 0, cols, NELEMS(cols), key_count_row, &k, NULL, NULL);
}

static char const SQL_SECRET_GET[] =
	"SELECT status, sealed, key_id, algorithm, digits, period, last_counter FROM totp_secrets WHERE user_id = ?";

store_status_t store_secret_get(store_conn_t *conn, uint64_t user_id, store_secret_t *out)
{
	char status[16], algo[16];
	int64_t key_id = 0, digits = 0, period = 0;
	store_param_t params[] = { P_U64(user_id) };
	store_col_t cols[] = {
		C_TEXT(status, sizeof(status), NULL), C_BLOB(out->sealed, sizeof(out->sealed), &out->sealed_len, NULL),
		C_I64(&key_id, NULL), C_TEXT(algo, sizeof(algo), NULL), C_I64(&digits, NULL), C_I64(&period, NULL),
		C_U64(&out->last_counter, NULL),
	};
	store_status_t rc;
	uint64_t rows;

	memset(out, 0, sizeof(*out));
	rc = store_run(conn, SQL_SECRET_GET, params, NELEMS(params), cols, NELEMS(cols), NULL, NULL, &rows, NULL);
	if (rc != STORE_OK) return rc;
	if (rows == 0) return STORE_NOT_FOUND;
	if (store_secret_fill(out, status, algo, key_id, digits, period) != STORE_OK) return STORE_ERROR;
	return STORE_OK;
}

static char const SQL_RECOVERY_DELETE[] = "DELETE FROM recovery_codes WHERE user_id = ?";
static char const SQL_SECRET_DELETE[] = "DELETE FROM totp_secrets WHERE user_id = ?";
static char const SQL_TRUST_DELETE_ALL[] = "DELETE FROM trusted_addresses WHERE user_id = ?";

store_status_t store_secret_reset(store_conn_t *conn, uint64_t user_id)
{
	store_param_t params[] = { P_U64(user_id) };
	store_status_t rc;

	rc = store_exec(conn, SQL_SECRET_DELETE, params, NELEMS(params), NULL);
	if (rc == STORE_OK) rc = store_exec(conn, SQL_RECOVERY_DELETE, params, NELEMS(params), NULL);
	if (rc == STORE_OK) rc = store_exec(conn, SQL_TRUST_DELETE_ALL, params, NELEMS(params), NULL);
	return rc;
}

static char const SQL_RECOVERY_INSERT[] =
	"INSERT INTO recovery_codes (user_id, slot, salt, code_hash, used_at) VALUES (?, ?, ?, ?, NULL)";

store_status_t store_recovery_replace(store_conn_t *conn, uint64_t user_id, uint8_t const salt[RECOVERY_SALT_LEN],
				      uint8_t const hashes[RECOVERY_CODE_COUNT][RECOVERY_HASH_LEN])
{
	store_param_t del[] = { P_U64(user_id) };
	store_status_t rc;
	size_t i;

	rc = store_exec(conn, SQL_RECOVERY_DELETE, del, NELEMS(del), NULL);
	for (i = 0; rc == STORE_OK && i < RECOVERY_CODE_COUNT; i++) {
		store_param_t ins[] = {
			P_U64(user_id), P_I64(i), P_BLOB(salt, RECOVERY_SALT_LEN), P_BLOB(hashes[i], RECOVERY_HASH_LEN),
		};
		rc = store_exec(conn, SQL_RECOVERY_INSERT, ins, NELEMS(ins), NULL);
	}
	return rc;
}
