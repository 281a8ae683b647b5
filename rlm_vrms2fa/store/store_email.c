/*
 * store_email.c - the queries of email confirmations (see store.h): the
 * pending confirmation of a user and address, its code and link token
 * (hashes only), the per-user send counter, and confirmation by code or link.
 */
#include <string.h>

#include "store_private.h"
#include "store_login.h"
#include "store_admin.h"

static char const SQL_EMAIL_PENDING[] =
	"SELECT id, salt, code_hash, expires_at, sent_at IS NOT NULL FROM email_confirmations"
	" WHERE user_id = ? AND address = ? AND expires_at > ? AND confirmed_at IS NULL"
	" ORDER BY id DESC LIMIT 1";

store_status_t store_email_pending(store_conn_t *conn, uint64_t user_id, char const *address, int64_t now,
				   store_email_t *out)
{
	size_t salt_len = 0, hash_len = 0;
	int64_t sent = 0;
	store_param_t params[] = { P_U64(user_id), P_TEXT(address), P_I64(now) };
	store_col_t cols[] = {
		C_U64(&out->id, NULL), C_BLOB(out->salt, sizeof(out->salt), &salt_len, NULL),
		C_BLOB(out->code_hash, sizeof(out->code_hash), &hash_len, NULL), C_I64(&out->expires_at, NULL),
		C_I64(&sent, NULL),
	};
	store_status_t rc;
	uint64_t rows;

	memset(out, 0, sizeof(*out));
	rc = store_run(conn, SQL_EMAIL_PENDING, params, NELEMS(params), cols, NELEMS(cols), NULL, NULL, &rows, NULL);
	if (rc != STORE_OK) return rc;
	if (rows == 0) return STORE_NOT_FOUND;
	if (salt_len != EMAIL_SALT_LEN || hash_len != EMAIL_HASH_LEN) return STORE_ERROR;
	out->sent = sent != 0;
	return STORE_OK;
}

static char const SQL_EMAIL_CREATE[] =
	"INSERT INTO email_confirmations (user_id, scope, address, may_trust, salt, code_hash, token_hash, created_at,"
	" expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";

store_status_t store_email_create(store_conn_t *conn, uint64_t user_id, char const *scope, char const *address,
				  bool may_trust,
				  uint8_t const salt[EMAIL_SALT_LEN], uint8_t const code_hash[EMAIL_HASH_LEN],
				  uint8_t const token_hash[EMAIL_HASH_LEN], int64_t now, int64_t expires_at, uint64_t *id)
{
	store_param_t params[] = {
		P_U64(user_id), P_TEXT(scope), P_TEXT(address), P_I64(may_trust ? 1 : 0), P_BLOB(salt, EMAIL_SALT_LEN), P_BLOB(code_hash, EMAIL_HASH_LEN),
		P_BLOB(token_hash, EMAIL_HASH_LEN), P_I64(now), P_I64(expires_at),
	};
	store_status_t rc;

	rc = store_exec(conn, SQL_EMAIL_CREATE, params, NELEMS(params), NULL);
	if (rc == STORE_OK) *id = store_insert_id(conn);
	return rc;
}

static char const SQL_EMAIL_RENEW[] =
	"UPDATE email_confirmations SET salt = ?, code_hash = ?, token_hash = ?, expires_at = ?"
	" WHERE id = ? AND sent_at IS NULL AND confirmed_at IS NULL";

store_status_t store_email_renew(store_conn_t *conn, uint64_t id, uint8_t const salt[EMAIL_SALT_LEN],
				 uint8_t const code_hash[EMAIL_HASH_LEN], uint8_t const token_hash[EMAIL_HASH_LEN],
				 int64_t expires_at)
{
	store_param_t params[] = {
		P_BLOB(salt, EMAIL_SALT_LEN), P_BLOB(code_hash, EMAIL_HASH_LEN), P_BLOB(token_hash, EMAIL_HASH_LEN),
		P_I64(expires_at), P_U64(id),
	};
	return store_exec_one(conn, SQL_EMAIL_RENEW, params, NELEMS(params));
}

static char const SQL_EMAIL_SENT[] =
	"UPDATE email_confirmations SET sent_at = ?, send_attempts = send_attempts + 1 WHERE id = ?";

store_status_t store_email_mark_sent(store_conn_t *conn, uint64_t id, int64_t now)
{
	store_param_t params[] = { P_I64(now), P_U64(id) };

	return store_exec(conn, SQL_EMAIL_SENT, params, NELEMS(params), NULL);
}

static char const SQL_EMAIL_SENDS[] = "SELECT COUNT(*) FROM email_sends WHERE user_id = ? AND sent_at > ?";
static char const SQL_EMAIL_SEND_RECORD[] = "INSERT INTO email_sends (user_id, sent_at) VALUES (?, ?)";
static char const SQL_EMAIL_SEND_PRUNE[] = "DELETE FROM email_sends WHERE user_id = ? AND sent_at < ?";

store_status_t store_email_sends_since(store_conn_t *conn, uint64_t user_id, int64_t since, uint32_t *count)
{
	int64_t n = 0;
	store_param_t params[] = { P_U64(user_id), P_I64(since) };
	store_col_t cols[] = { C_I64(&n, NULL) };
	store_status_t rc;

	rc = store_run(conn, SQL_EMAIL_SENDS, params, NELEMS(params), cols, NELEMS(cols), NULL, NULL, NULL, NULL);
	*count = (uint32_t)n;
	return rc;
}

store_status_t store_email_record_send(store_conn_t *conn, uint64_t user_id, int64_t now)
{
	store_param_t prune[] = { P_U64(user_id), P_I64(now - 86400) };
	store_param_t params[] = { P_U64(user_id), P_I64(now) };
	store_status_t rc;

	rc = store_exec(conn, SQL_EMAIL_SEND_PRUNE, prune, NELEMS(prune), NULL);
	if (rc != STORE_OK) return rc;
	return store_exec(conn, SQL_EMAIL_SEND_RECORD, params, NELEMS(params), NULL);
}

static char const SQL_EMAIL_CONFIRM_CODE[] =
	"UPDATE email_confirmations SET confirmed_at = ?, confirmed_by = 'code'"
	" WHERE id = ? AND confirmed_at IS NULL AND expires_at > ?";

store_status_t store_email_confirm_code(store_conn_t *conn, uint64_t id, int64_t now)
{
	store_param_t params[] = { P_I64(now), P_U64(id), P_I64(now) };
	return store_exec_one(conn, SQL_EMAIL_CONFIRM_CODE, params, NELEMS(params));
}

static char const SQL_EMAIL_BY_TOKEN[] =
	"SELECT e.id, e.user_id, u.company_id, u.login, e.scope, e.address, e.may_trust, u.disabled,"
	" COALESCE(s.status = 'active', 0) FROM email_confirmations e"
	" JOIN users u ON u.id = e.user_id"
	" LEFT JOIN totp_secrets s ON s.user_id = e.user_id"
	" WHERE e.token_hash = ? AND e.expires_at > ? AND e.confirmed_at IS NULL AND e.sent_at IS NOT NULL";
static char const SQL_EMAIL_CONFIRM_LINK[] =
	"UPDATE email_confirmations SET confirmed_at = ?, confirmed_by = 'link'"
	" WHERE id = ? AND confirmed_at IS NULL AND expires_at > ?";

store_status_t store_email_by_token(store_conn_t *conn, uint8_t const token_hash[EMAIL_HASH_LEN], int64_t now,
				    store_email_link_t *out)
{
	int64_t may_trust = 0, disabled = 1, active = 1;
	store_param_t key[] = { P_BLOB(token_hash, EMAIL_HASH_LEN), P_I64(now) };
	store_col_t cols[] = {
		C_U64(&out->id, NULL), C_U64(&out->user_id, NULL), C_U64(&out->company_id, NULL),
		C_TEXT(out->login, sizeof(out->login), NULL), C_TEXT(out->scope, sizeof(out->scope), NULL),
		C_TEXT(out->address, sizeof(out->address), NULL), C_I64(&may_trust, NULL), C_I64(&disabled, NULL), C_I64(&active, NULL),
	};
	store_status_t rc;
	uint64_t rows;

	memset(out, 0, sizeof(*out));
	rc = store_run(conn, SQL_EMAIL_BY_TOKEN, key, NELEMS(key), cols, NELEMS(cols), NULL, NULL, &rows, NULL);
	if (rc != STORE_OK) return rc;
	if (rows == 0) return STORE_NOT_FOUND;
	out->may_trust = may_trust != 0;
	out->user_disabled = disabled != 0;
	out->twofa_active = active != 0;
	return STORE_OK;
}

store_status_t store_email_confirm_link(store_conn_t *conn, uint64_t id, int64_t now)
{
	store_param_t params[] = { P_I64(now), P_U64(id), P_I64(now) };
	store_status_t rc = store_exec_one(conn, SQL_EMAIL_CONFIRM_LINK, params, NELEMS(params));

	return rc == STORE_CONFLICT ? STORE_NOT_FOUND : rc;
}
