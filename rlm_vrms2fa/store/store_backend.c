/*
 * store_backend.c - the queries of the backend's commands of the admin tool
 * (see store_backend.h).  Prepared statements only; a filter that is not
 * given is bound as NULL ("? IS NULL OR ...").
 */
#include <stdio.h>
#include <string.h>

#include "store_private.h"
#include "store_backend.h"

static char const SQL_USERS[] =
	"SELECT u.id, u.login, c.id, c.name, u.user_group, u.email, u.password_hash IS NOT NULL, ''," \
	" u.disabled, u.grace_deadline, COALESCE(s.status, 'none')" \
	" FROM users u JOIN companies c ON c.id = u.company_id LEFT JOIN totp_secrets s ON s.user_id = u.id" \
	" WHERE (? IS NULL OR c.name = ?) AND (? IS NULL OR u.user_group = ?) AND (? IS NULL OR u.disabled = ?)" \
	" AND (? IS NULL OR COALESCE(s.status, 'none') = ?) ORDER BY u.login";
static char const SQL_USERS_WITH_HASH[] =
	"SELECT u.id, u.login, c.id, c.name, u.user_group, u.email, u.password_hash IS NOT NULL," \
	" COALESCE(u.password_hash, ''), u.disabled, u.grace_deadline, COALESCE(s.status, 'none')" \
	" FROM users u JOIN companies c ON c.id = u.company_id LEFT JOIN totp_secrets s ON s.user_id = u.id" \
	" WHERE (? IS NULL OR c.name = ?) AND (? IS NULL OR u.user_group = ?) AND (? IS NULL OR u.disabled = ?)" \
	" AND (? IS NULL OR COALESCE(s.status, 'none') = ?) ORDER BY u.login";

typedef struct {
	store_backend_user_t	user;
	char			group[24];
	char			totp[16];
	int64_t			has_hash;
	int64_t			disabled;
	bool		email_null;
	bool		deadline_null;
	store_backend_user_fn	fn;
	void			*arg;
} user_rows_t;

static int user_row(void *arg)
{
	user_rows_t *r = arg;
	store_backend_user_t *u = &r->user;

	if (policy_group_parse(r->group, &u->group) != 0) return -1;
	if (totp_status_parse(r->totp, &u->totp_status) != 0) u->totp_status = TOTP_STATUS_NONE;
	u->has_email = !r->email_null;
	u->has_password_hash = r->has_hash != 0;
	u->disabled = r->disabled != 0;
	u->has_deadline = !r->deadline_null;
	return r->fn(u, r->arg);
}

store_status_t store_backend_users(store_conn_t *conn, store_backend_filter_t const *f, bool with_hash,
				   store_backend_user_fn fn, void *arg)
{
	user_rows_t r;
	char const *group = f->by_group ? policy_group_name(f->group) : NULL;
	store_param_t params[] = {
		f->company ? P_TEXT(f->company) : P_NULL(), f->company ? P_TEXT(f->company) : P_NULL(),
		group ? P_TEXT(group) : P_NULL(), group ? P_TEXT(group) : P_NULL(),
		f->by_disabled ? P_I64(f->disabled) : P_NULL(), f->by_disabled ? P_I64(f->disabled) : P_NULL(),
		f->totp ? P_TEXT(f->totp) : P_NULL(), f->totp ? P_TEXT(f->totp) : P_NULL(),
	};
	store_col_t cols[11];
	store_status_t rc;

	memset(&r, 0, sizeof(r));
	r.fn = fn;
	r.arg = arg;
	cols[0] = C_U64(&r.user.id, NULL);
	cols[1] = C_TEXT(r.user.login, sizeof(r.user.login), NULL);
	cols[2] = C_U64(&r.user.company_id, NULL);
	cols[3] = C_TEXT(r.user.company, sizeof(r.user.company), NULL);
	cols[4] = C_TEXT(r.group, sizeof(r.group), NULL);
	cols[5] = C_TEXT(r.user.email, sizeof(r.user.email), &r.email_null);
	cols[6] = C_I64(&r.has_hash, NULL);
	cols[7] = C_TEXT(r.user.password_hash, sizeof(r.user.password_hash), NULL);
	cols[8] = C_I64(&r.disabled, NULL);
	cols[9] = C_I64(&r.user.grace_deadline, &r.deadline_null);
	cols[10] = C_TEXT(r.totp, sizeof(r.totp), NULL);
	rc = store_run(conn, with_hash ? SQL_USERS_WITH_HASH : SQL_USERS, params, NELEMS(params), cols, NELEMS(cols),
		       user_row, &r, NULL, NULL);
	memset(r.user.password_hash, 0, sizeof(r.user.password_hash));
	return rc;
}

static char const SQL_COMPANIES[] =
	"SELECT c.id, c.name, c.security_level, c.group_mask, c.grace_days, COUNT(u.id),"
	" COALESCE(SUM(u.disabled), 0), COALESCE(SUM(s.status = 'active'), 0)"
	" FROM companies c LEFT JOIN users u ON u.company_id = c.id LEFT JOIN totp_secrets s ON s.user_id = u.id"
	" GROUP BY c.id, c.name, c.security_level, c.group_mask, c.grace_days ORDER BY c.name";

typedef struct {
	store_backend_company_t		c;
	char				level[8];
	int64_t				mask, grace, users, disabled, enrolled;
	store_backend_company_fn	fn;
	void				*arg;
} company_rows_t;

static int company_row(void *arg)
{
	company_rows_t *r = arg;

	if (policy_level_parse(r->level, &r->c.company.level) != 0) return -1;
	r->c.company.group_mask = (unsigned)r->mask & GROUP_MASK_ALL;
	r->c.company.grace_days = (uint32_t)r->grace;
	r->c.users = (uint64_t)r->users;
	r->c.disabled = (uint64_t)r->disabled;
	r->c.enrolled = (uint64_t)r->enrolled;
	return r->fn(&r->c, r->arg);
}

store_status_t store_backend_companies(store_conn_t *conn, store_backend_company_fn fn, void *arg)
{
	company_rows_t r;
	store_col_t cols[8];

	memset(&r, 0, sizeof(r));
	r.fn = fn;
	r.arg = arg;
	cols[0] = C_U64(&r.c.company.id, NULL);
	cols[1] = C_TEXT(r.c.company.name, sizeof(r.c.company.name), NULL);
	cols[2] = C_TEXT(r.level, sizeof(r.level), NULL);
	cols[3] = C_I64(&r.mask, NULL);
	cols[4] = C_I64(&r.grace, NULL);
	cols[5] = C_I64(&r.users, NULL);
	cols[6] = C_I64(&r.disabled, NULL);
	cols[7] = C_I64(&r.enrolled, NULL);
	return store_run(conn, SQL_COMPANIES, NULL, 0, cols, NELEMS(cols), company_row, &r, NULL, NULL);
}

/* user_group + 0 is the ENUM's index, 1 for administrator: bit (index - 1) of the mask, as policy.h numbers groups. */
static char const SQL_POLICY_COUNTS[] =
	"SELECT COUNT(*),"
	" COALESCE(SUM(((1 << (u.user_group + 0 - 1)) & ?) <> 0), 0),"
	" COALESCE(SUM(((1 << (u.user_group + 0 - 1)) & ?) <> 0 AND s.status = 'active'), 0),"
	" COALESCE(SUM(((1 << (u.user_group + 0 - 1)) & ?) <> 0 AND COALESCE(s.status, '') <> 'active'"
	"   AND u.grace_deadline IS NOT NULL AND u.grace_deadline > ?), 0),"
	" COALESCE(SUM(((1 << (u.user_group + 0 - 1)) & ?) <> 0 AND COALESCE(s.status, '') <> 'active'"
	"   AND u.grace_deadline IS NOT NULL AND u.grace_deadline <= ?), 0)"
	" FROM users u LEFT JOIN totp_secrets s ON s.user_id = u.id WHERE u.company_id = ? AND u.disabled = 0";

store_status_t store_backend_policy_counts(store_conn_t *conn, uint64_t company_id, unsigned mask, int64_t now,
					   store_backend_policy_counts_t *out)
{
	int64_t v[5] = { 0 };
	store_param_t params[] = { P_I64(mask), P_I64(mask), P_I64(mask), P_I64(now), P_I64(mask), P_I64(now),
				   P_U64(company_id) };
	store_col_t cols[] = { C_I64(&v[0], NULL), C_I64(&v[1], NULL), C_I64(&v[2], NULL), C_I64(&v[3], NULL),
			       C_I64(&v[4], NULL) };
	store_status_t rc;

	memset(out, 0, sizeof(*out));
	rc = store_run(conn, SQL_POLICY_COUNTS, params, NELEMS(params), cols, NELEMS(cols), NULL, NULL, NULL, NULL);
	if (rc != STORE_OK) return rc;
	out->users = (uint64_t)v[0];
	out->covered = (uint64_t)v[1];
	out->enrolled = (uint64_t)v[2];
	out->in_grace = (uint64_t)v[3];
	out->past_deadline = (uint64_t)v[4];
	return STORE_OK;
}

static char const SQL_DEL_TRUST[] = "DELETE FROM trusted_addresses WHERE user_id = ?";
static char const SQL_DEL_SECRET[] = "DELETE FROM totp_secrets WHERE user_id = ?";
static char const SQL_DEL_RECOVERY[] = "DELETE FROM recovery_codes WHERE user_id = ?";
static char const SQL_DEL_CHALLENGES[] = "DELETE FROM challenges WHERE user_id = ?";
static char const SQL_DEL_EMAILS[] = "DELETE FROM email_confirmations WHERE user_id = ?";
static char const SQL_DEL_SENDS[] = "DELETE FROM email_sends WHERE user_id = ?";
static char const SQL_DEL_FAILURES[] = "DELETE FROM login_failures WHERE login = ?";
static char const SQL_DEL_USER[] = "DELETE FROM users WHERE id = ?";

store_status_t store_backend_user_delete(store_conn_t *conn, uint64_t user_id, char const *login,
					 store_backend_deleted_t *out)
{
	store_param_t id[] = { P_U64(user_id) };
	store_param_t name[] = { P_BLOB(login, strlen(login)) };
	struct {
		char const	*sql;
		uint64_t	*count;
	} const steps[] = {
		{ SQL_DEL_TRUST, &out->trusted_addresses },
		{ SQL_DEL_SECRET, &out->totp_secrets },
		{ SQL_DEL_RECOVERY, &out->recovery_codes },
		{ SQL_DEL_CHALLENGES, &out->challenges },
		{ SQL_DEL_EMAILS, &out->email_confirmations },
		{ SQL_DEL_SENDS, &out->email_sends },
	};
	store_status_t rc;
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < NELEMS(steps); i++) {
		rc = store_exec(conn, steps[i].sql, id, NELEMS(id), steps[i].count);
		if (rc != STORE_OK) return rc;
	}
	rc = store_exec(conn, SQL_DEL_FAILURES, name, NELEMS(name), &out->login_failures);
	if (rc != STORE_OK) return rc;
	rc = store_exec_one(conn, SQL_DEL_USER, id, NELEMS(id));
	return rc == STORE_CONFLICT ? STORE_NOT_FOUND : rc;
}

static char const SQL_SET_COMPANY[] = "UPDATE users SET company_id = ? WHERE id = ?";
static char const SQL_SET_HASH[] = "UPDATE users SET password_hash = ? WHERE id = ?";

store_status_t store_backend_user_set_company(store_conn_t *conn, uint64_t user_id, uint64_t company_id)
{
	store_param_t params[] = { P_U64(company_id), P_U64(user_id) };

	return store_exec(conn, SQL_SET_COMPANY, params, NELEMS(params), NULL);
}

store_status_t store_backend_user_set_hash(store_conn_t *conn, uint64_t user_id, char const *hash)
{
	store_param_t params[] = { hash ? P_TEXT(hash) : P_NULL(), P_U64(user_id) };

	return store_exec(conn, SQL_SET_HASH, params, NELEMS(params), NULL);
}
