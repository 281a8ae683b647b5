/*
 * store_prune.c - the SQL of store_prune.h: per class of expired rows, one
 * DELETE with a LIMIT and one COUNT(*) with the same condition, so that a
 * dry run counts exactly what a prune would delete.
 */
#include "store_private.h"
#include "store_prune.h"

/* The condition of each class, with one parameter: the class's cut-off time. */
#define WHERE_CHALLENGES		"challenges WHERE expires_at < ?"
#define WHERE_EMAIL_CONFIRMATIONS	"email_confirmations WHERE expires_at < ?"
#define WHERE_EMAIL_SENDS		"email_sends WHERE sent_at < ?"
/* the one parameter twice: decayed, and no lock running (retention_failure_expired) */
#define WHERE_LOGIN_FAILURES		"login_failures WHERE updated_at < ? AND locked_until < ?"
#define WHERE_TRUSTED_ADDRESSES		"trusted_addresses WHERE expires_at < ?"
/* made for an enrollment challenge (an admin's "enroll begin" has none): that challenge is long gone */
#define WHERE_PENDING_SECRETS		"totp_secrets WHERE status = 'pending' AND created_at < ?" \
					" AND challenge_digest IS NOT NULL"
#define WHERE_DEVICE_APPROVALS		"device_approvals WHERE expires_at < ?"
#define WHERE_AUDIT_LOG			"audit_log WHERE at < ?"

typedef struct {
	char const	*delete_sql;
	char const	*count_sql;
	unsigned	cutoff_params;	/* how many times the cut-off is bound */
} prune_sql_t;

static char const DEL_CHALLENGES[] = "DELETE FROM " WHERE_CHALLENGES " LIMIT ?";
static char const CNT_CHALLENGES[] = "SELECT COUNT(*) FROM " WHERE_CHALLENGES;
static char const DEL_EMAIL_CONFIRMATIONS[] = "DELETE FROM " WHERE_EMAIL_CONFIRMATIONS " LIMIT ?";
static char const CNT_EMAIL_CONFIRMATIONS[] = "SELECT COUNT(*) FROM " WHERE_EMAIL_CONFIRMATIONS;
static char const DEL_EMAIL_SENDS[] = "DELETE FROM " WHERE_EMAIL_SENDS " LIMIT ?";
static char const CNT_EMAIL_SENDS[] = "SELECT COUNT(*) FROM " WHERE_EMAIL_SENDS;
static char const DEL_LOGIN_FAILURES[] = "DELETE FROM " WHERE_LOGIN_FAILURES " LIMIT ?";
static char const CNT_LOGIN_FAILURES[] = "SELECT COUNT(*) FROM " WHERE_LOGIN_FAILURES;
static char const DEL_TRUSTED_ADDRESSES[] = "DELETE FROM " WHERE_TRUSTED_ADDRESSES " LIMIT ?";
static char const CNT_TRUSTED_ADDRESSES[] = "SELECT COUNT(*) FROM " WHERE_TRUSTED_ADDRESSES;
static char const DEL_PENDING_SECRETS[] = "DELETE FROM " WHERE_PENDING_SECRETS " LIMIT ?";
static char const CNT_PENDING_SECRETS[] = "SELECT COUNT(*) FROM " WHERE_PENDING_SECRETS;
static char const DEL_DEVICE_APPROVALS[] = "DELETE FROM " WHERE_DEVICE_APPROVALS " LIMIT ?";
static char const CNT_DEVICE_APPROVALS[] = "SELECT COUNT(*) FROM " WHERE_DEVICE_APPROVALS;
static char const DEL_AUDIT_LOG[] = "DELETE FROM " WHERE_AUDIT_LOG " LIMIT ?";
static char const CNT_AUDIT_LOG[] = "SELECT COUNT(*) FROM " WHERE_AUDIT_LOG;

static prune_sql_t const prune_sql[RETENTION_CLASSES] = {
	[RETENTION_CHALLENGES]		= { DEL_CHALLENGES, CNT_CHALLENGES, 1 },
	[RETENTION_EMAIL_CONFIRMATIONS]	= { DEL_EMAIL_CONFIRMATIONS, CNT_EMAIL_CONFIRMATIONS, 1 },
	[RETENTION_EMAIL_SENDS]		= { DEL_EMAIL_SENDS, CNT_EMAIL_SENDS, 1 },
	[RETENTION_LOGIN_FAILURES]	= { DEL_LOGIN_FAILURES, CNT_LOGIN_FAILURES, 2 },
	[RETENTION_TRUSTED_ADDRESSES]	= { DEL_TRUSTED_ADDRESSES, CNT_TRUSTED_ADDRESSES, 1 },
	[RETENTION_PENDING_SECRETS]	= { DEL_PENDING_SECRETS, CNT_PENDING_SECRETS, 1 },
	[RETENTION_DEVICE_APPROVALS]	= { DEL_DEVICE_APPROVALS, CNT_DEVICE_APPROVALS, 1 },
	[RETENTION_AUDIT_LOG]		= { DEL_AUDIT_LOG, CNT_AUDIT_LOG, 1 },
};

/* The class's statements when it may be pruned; NULL (nothing to do) when disabled or unknown. */
static prune_sql_t const *class_sql(retention_class_t cls, retention_cutoffs_t const *cutoffs)
{
	if ((unsigned)cls >= RETENTION_CLASSES || !cutoffs->enabled[cls]) return NULL;
	return &prune_sql[cls];
}

store_status_t store_prune_batch(store_conn_t *conn, retention_class_t cls, retention_cutoffs_t const *cutoffs,
				 uint32_t limit, uint64_t *deleted)
{
	prune_sql_t const *q = class_sql(cls, cutoffs);
	int64_t before;

	*deleted = 0;
	if (!q) return STORE_OK;
	if (limit < 1 || limit > STORE_PRUNE_BATCH_MAX) return STORE_ERROR;
	before = cutoffs->before[cls];
	{
		store_param_t one[] = { P_I64(before), P_U64(limit) };
		store_param_t two[] = { P_I64(before), P_I64(before), P_U64(limit) };

		if (q->cutoff_params == 2) return store_exec(conn, q->delete_sql, two, NELEMS(two), deleted);
		return store_exec(conn, q->delete_sql, one, NELEMS(one), deleted);
	}
}

store_status_t store_prune_count(store_conn_t *conn, retention_class_t cls, retention_cutoffs_t const *cutoffs,
				 uint64_t *count)
{
	prune_sql_t const *q = class_sql(cls, cutoffs);
	int64_t n = 0, before;
	store_status_t rc;

	*count = 0;
	if (!q) return STORE_OK;
	before = cutoffs->before[cls];
	{
		store_param_t params[] = { P_I64(before), P_I64(before) };
		store_col_t cols[] = { C_I64(&n, NULL) };

		rc = store_run(conn, q->count_sql, params, q->cutoff_params, cols, NELEMS(cols), NULL, NULL, NULL, NULL);
	}
	if (rc != STORE_OK) return rc;
	if (n < 0) return STORE_ERROR;
	*count = (uint64_t)n;
	return STORE_OK;
}
