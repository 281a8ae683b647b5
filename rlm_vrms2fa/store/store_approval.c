/*
 * store_approval.c - the queries of device approvals (see store_approval.h
 * and sql/008_device_approval.sql).  Prepared statements only.
 */
#include <string.h>

#include "store_private.h"
#include "store_approval.h"

#define APPROVAL_COLUMNS "id, user_id, scope, address, kind, nas, created_at, last_seen_at, expires_at"

typedef struct {
	store_approval_t	row;
	char			kind[16];
	store_approval_fn	fn;
	void			*arg;
} approval_read_t;

/* The columns of APPROVAL_COLUMNS into r. */
static void approval_cols(approval_read_t *r, store_col_t cols[9])
{
	cols[0] = C_U64(&r->row.id, NULL);
	cols[1] = C_U64(&r->row.user_id, NULL);
	cols[2] = C_TEXT(r->row.scope, sizeof(r->row.scope), NULL);
	cols[3] = C_TEXT(r->row.address, sizeof(r->row.address), NULL);
	cols[4] = C_TEXT(r->kind, sizeof(r->kind), NULL);
	cols[5] = C_TEXT(r->row.nas, sizeof(r->row.nas), NULL);
	cols[6] = C_I64(&r->row.created_at, NULL);
	cols[7] = C_I64(&r->row.last_seen_at, NULL);
	cols[8] = C_I64(&r->row.expires_at, NULL);
}

/* The kind column as read; -1 for a value the schema does not allow (fail closed). */
static int approval_kind(approval_read_t *r)
{
	if (strcmp(r->kind, "ipv4") == 0) r->row.kind = ADDR_IPV4;
	else if (strcmp(r->kind, "ipv6") == 0) r->row.kind = ADDR_IPV6;
	else if (strcmp(r->kind, "mac") == 0) r->row.kind = ADDR_MAC;
	else return -1;
	return 0;
}

static char const SQL_APPROVAL_PENDING_SCOPE[] =
	"SELECT " APPROVAL_COLUMNS " FROM device_approvals"
	" WHERE user_id = ? AND scope = ? AND address = ? AND expires_at > ? AND approved_at IS NULL";
static char const SQL_APPROVAL_PENDING_ANY[] =
	"SELECT " APPROVAL_COLUMNS " FROM device_approvals"
	" WHERE user_id = ? AND address = ? AND expires_at > ? AND approved_at IS NULL"
	" ORDER BY created_at DESC, id DESC LIMIT 1";

store_status_t store_approval_pending(store_conn_t *conn, uint64_t user_id, char const *scope, char const *address,
				      int64_t now, store_approval_t *out)
{
	approval_read_t r;
	store_col_t cols[9];
	store_status_t rc;
	uint64_t rows = 0;

	memset(&r, 0, sizeof(r));
	memset(out, 0, sizeof(*out));
	approval_cols(&r, cols);
	if (scope) {
		store_param_t params[] = { P_U64(user_id), P_TEXT(scope), P_TEXT(address), P_I64(now) };

		rc = store_run(conn, SQL_APPROVAL_PENDING_SCOPE, params, NELEMS(params), cols, NELEMS(cols), NULL, NULL,
			       &rows, NULL);
	} else {
		store_param_t params[] = { P_U64(user_id), P_TEXT(address), P_I64(now) };

		rc = store_run(conn, SQL_APPROVAL_PENDING_ANY, params, NELEMS(params), cols, NELEMS(cols), NULL, NULL,
			       &rows, NULL);
	}
	if (rc != STORE_OK) return rc;
	if (rows == 0) return STORE_NOT_FOUND;
	if (approval_kind(&r) != 0) return STORE_ERROR;
	*out = r.row;
	return STORE_OK;
}

static char const SQL_APPROVAL_SEEN[] = "UPDATE device_approvals SET last_seen_at = ? WHERE id = ?";

store_status_t store_approval_seen(store_conn_t *conn, uint64_t id, int64_t now)
{
	store_param_t params[] = { P_I64(now), P_U64(id) };

	return store_exec(conn, SQL_APPROVAL_SEEN, params, NELEMS(params), NULL);
}

static char const SQL_APPROVAL_COUNT[] =
	"SELECT COUNT(*) FROM device_approvals WHERE user_id = ? AND created_at > ?";

store_status_t store_approval_count_since(store_conn_t *conn, uint64_t user_id, int64_t since, uint32_t *count)
{
	store_param_t params[] = { P_U64(user_id), P_I64(since) };
	uint64_t n = 0;
	store_col_t cols[] = { C_U64(&n, NULL) };
	store_status_t rc;

	*count = 0;
	rc = store_run(conn, SQL_APPROVAL_COUNT, params, NELEMS(params), cols, NELEMS(cols), NULL, NULL, NULL, NULL);
	if (rc != STORE_OK) return rc;
	*count = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
	return STORE_OK;
}

static char const SQL_APPROVAL_REQUEST[] =
	"INSERT INTO device_approvals (user_id, scope, address, kind, nas, created_at, last_seen_at, expires_at)"
	" VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
	" ON DUPLICATE KEY UPDATE kind = VALUES(kind), nas = VALUES(nas), created_at = VALUES(created_at),"
	" last_seen_at = VALUES(last_seen_at), expires_at = VALUES(expires_at), approved_at = NULL, approved_by = NULL";

store_status_t store_approval_request(store_conn_t *conn, uint64_t user_id, char const *scope, char const *address,
				      addr_kind_t kind, char const *nas, int64_t now, int64_t expires_at)
{
	store_param_t params[] = {
		P_U64(user_id), P_TEXT(scope), P_TEXT(address), P_TEXT(addr_kind_name(kind)), P_TEXT(nas),
		P_I64(now), P_I64(now), P_I64(expires_at),
	};

	if (kind != ADDR_IPV4 && kind != ADDR_IPV6 && kind != ADDR_MAC) return STORE_ERROR;
	return store_exec(conn, SQL_APPROVAL_REQUEST, params, NELEMS(params), NULL);
}

static char const SQL_APPROVAL_APPROVE[] =
	"UPDATE device_approvals SET approved_at = ?, approved_by = ?"
	" WHERE id = ? AND approved_at IS NULL AND expires_at > ?";

store_status_t store_approval_approve(store_conn_t *conn, uint64_t id, int64_t now, char const *by)
{
	store_param_t params[] = { P_I64(now), P_TEXT(by), P_U64(id), P_I64(now) };

	return store_exec_one(conn, SQL_APPROVAL_APPROVE, params, NELEMS(params));
}

static int approval_list_row(void *arg)
{
	approval_read_t *r = arg;

	if (approval_kind(r) != 0) return -1;
	return r->fn(&r->row, r->arg);
}

static char const SQL_APPROVAL_LIST[] =
	"SELECT " APPROVAL_COLUMNS " FROM device_approvals"
	" WHERE user_id = ? AND expires_at > ? AND approved_at IS NULL ORDER BY created_at, id";

store_status_t store_approval_list(store_conn_t *conn, uint64_t user_id, int64_t now, store_approval_fn fn, void *arg)
{
	store_param_t params[] = { P_U64(user_id), P_I64(now) };
	approval_read_t r;
	store_col_t cols[9];

	memset(&r, 0, sizeof(r));
	r.fn = fn;
	r.arg = arg;
	approval_cols(&r, cols);
	return store_run(conn, SQL_APPROVAL_LIST, params, NELEMS(params), cols, NELEMS(cols), approval_list_row, &r,
			 NULL, NULL);
}
