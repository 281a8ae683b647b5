/*
 * store_login.c - the queries the module makes while it answers a login
 * (store_login.h): round 1's single lookup, lockout bookkeeping, trusted
 * addresses, TOTP replay counters, challenges (State) and recovery codes,
 * and the audit rows.
 * Writes that guard against replay or races are one conditional UPDATE each,
 * judged by the number of rows it changed.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "store_private.h"
#include "store_login.h"

/* The status column of totp_secrets; NULL (no row) is NONE, an unknown value is refused. */
static int secret_status_parse(char const *s, bool is_null, totp_status_t *status)
{
	if (is_null) {
		*status = TOTP_STATUS_NONE;
		return 0;
	}
	return totp_status_parse(s, status);
}

#define LOOKUP_COLUMNS \
	"SELECT f.failures, f.lockouts, f.locked_until, f.updated_at," \
	" p.failures, p.lockouts, p.locked_until, p.updated_at," \
	" u.id, u.company_id, c.name, u.user_group, u.disabled, u.email, u.password_hash, u.grace_deadline," \
	" c.security_level, c.group_mask, c.grace_days," \
	" s.status, s.sealed, s.key_id, s.algorithm, s.digits, s.period, s.last_counter, s.challenge_digest," \
	" t.last_used_at, t.proven_at, t.how, UNIX_TIMESTAMP()"
#define LOOKUP_JOINS \
	" FROM (SELECT 1 AS one) q" \
	" LEFT JOIN login_failures f ON f.login = ? AND f.address = ''" \
	" LEFT JOIN login_failures p ON p.login = ? AND p.address = ?" \
	" LEFT JOIN users u ON u.login = ?" \
	" LEFT JOIN companies c ON c.id = u.company_id" \
	" LEFT JOIN totp_secrets s ON s.user_id = u.id" \
	" LEFT JOIN trusted_addresses t ON t.user_id = u.id AND t.scope = ? AND t.address = ?" \
	"   AND (t.expires_at IS NULL OR t.expires_at > UNIX_TIMESTAMP())"

/* The address key of a pair record: a request without a usable address has one of its own. */
static char const *pair_key(char const *address)
{
	return address && address[0] ? address : STORE_NO_ADDRESS;
}

/* The address key of a dimension's record. */
static char const *record_key(lockout_dimension_t dim, char const *address)
{
	return dim == LOCKOUT_NAME ? "" : pair_key(address);
}

static char const SQL_LOGIN_LOOKUP[] = LOOKUP_COLUMNS LOOKUP_JOINS;
static char const SQL_LOGIN_LOOKUP_CHALLENGE[] =
	LOOKUP_COLUMNS ", ch.user_id, ch.kind, ch.nas, ch.address, ch.expires_at, ch.attempts_left"
	LOOKUP_JOINS " LEFT JOIN challenges ch ON ch.token_digest = ?";

/* The values of the columns that need parsing, and their NULL flags. */
typedef struct {
	int64_t	failures, lockouts, pair_failures, pair_lockouts, disabled, group_mask, grace_days, user_id, company_id;
	int64_t	key_id, digits, period, ch_attempts;
	bool	id_null, email_null, hash_null, deadline_null, status_null, trusted_null, ch_null, digest_null;
	size_t	digest_len;
	char	group[32], level[16], status[16], algo[16], ch_kind[16], how[16];
} lookup_raw_t;

static store_status_t lookup_finish(lookup_raw_t const *r, store_login_t *out)
{
	out->name_record.failures = (uint32_t)r->failures;
	out->name_record.lockouts = (uint32_t)r->lockouts;
	out->pair_record.failures = (uint32_t)r->pair_failures;
	out->pair_record.lockouts = (uint32_t)r->pair_lockouts;
	if (r->id_null) return STORE_OK;		/* unknown login: only the failure record matters */

	out->user_found = true;
	out->user_id = (uint64_t)r->user_id;
	out->company_id = (uint64_t)r->company_id;
	if (policy_group_parse(r->group, &out->group) != 0) return STORE_ERROR;
	out->disabled = r->disabled != 0;
	out->has_email = !r->email_null && out->email[0] != '\0';
	out->has_password_hash = !r->hash_null && out->password_hash[0] != '\0';
	out->has_deadline = !r->deadline_null;
	if (policy_level_parse(r->level, &out->level) != 0) return STORE_ERROR;
	out->group_mask = (unsigned)r->group_mask & GROUP_MASK_ALL;
	out->grace_days = (uint32_t)r->grace_days;
	if (secret_status_parse(r->status, r->status_null, &out->totp_status) != 0) return STORE_ERROR;
	out->trusted = !r->trusted_null;
	if (out->trusted && policy_trust_how_parse(r->how, &out->trusted_how) != 0) return STORE_ERROR;

	if (out->totp_status != TOTP_STATUS_NONE) {
		if (store_secret_fill(&out->secret, r->status, r->algo, r->key_id, r->digits, r->period) != STORE_OK) {
			return STORE_ERROR;
		}
		if (!r->digest_null) {
			if (r->digest_len != sizeof(out->secret.challenge_digest)) return STORE_ERROR;
			out->secret.has_challenge_digest = true;
		}
	}
	if (!r->ch_null) {
		out->has_challenge = true;
		if (challenge_kind_parse(r->ch_kind, &out->challenge.kind) != 0) return STORE_ERROR;
		out->challenge.attempts_left = (uint32_t)r->ch_attempts;
	}
	return STORE_OK;
}

store_status_t store_login_lookup(store_conn_t *conn, char const *login, size_t login_len,
				  char const *scope, char const *address, int64_t host_now, uint8_t const *digest,
				  store_login_t *out)
{
	lookup_raw_t r;
	store_param_t params[] = {
		P_TEXTN(login, login_len), P_TEXTN(login, login_len), P_TEXT(pair_key(address)),
		P_TEXTN(login, login_len), P_TEXT(scope), P_TEXT(address),
		P_BLOB(digest, CHALLENGE_TOKEN_DIGEST_LEN),
	};
	store_col_t cols[] = {
		C_I64(&r.failures, NULL), C_I64(&r.lockouts, NULL), C_I64(&out->name_record.locked_until, NULL),
		C_I64(&out->name_record.last_failure_at, NULL),
		C_I64(&r.pair_failures, NULL), C_I64(&r.pair_lockouts, NULL), C_I64(&out->pair_record.locked_until, NULL),
		C_I64(&out->pair_record.last_failure_at, NULL),
		C_I64(&r.user_id, &r.id_null), C_I64(&r.company_id, NULL), C_TEXT(out->company, sizeof(out->company), NULL),
		C_TEXT(r.group, sizeof(r.group), NULL), C_I64(&r.disabled, NULL),
		C_TEXT(out->email, sizeof(out->email), &r.email_null),
		C_TEXT(out->password_hash, sizeof(out->password_hash), &r.hash_null),
		C_I64(&out->grace_deadline, &r.deadline_null),
		C_TEXT(r.level, sizeof(r.level), NULL), C_I64(&r.group_mask, NULL), C_I64(&r.grace_days, NULL),
		C_TEXT(r.status, sizeof(r.status), &r.status_null),
		C_BLOB(out->secret.sealed, sizeof(out->secret.sealed), &out->secret.sealed_len, NULL),
		C_I64(&r.key_id, NULL), C_TEXT(r.algo, sizeof(r.algo), NULL), C_I64(&r.digits, NULL),
		C_I64(&r.period, NULL), C_U64(&out->secret.last_counter, NULL),
		C_BLOB(out->secret.challenge_digest, sizeof(out->secret.challenge_digest), &r.digest_len, &r.digest_null),
		C_I64(&out->trusted_last_used, &r.trusted_null), C_I64(&out->trusted_proven_at, NULL),
		C_TEXT(r.how, sizeof(r.how), NULL), C_I64(&out->database_now, NULL),
		/* round 2 only */
		C_U64(&out->challenge.user_id, &r.ch_null), C_TEXT(r.ch_kind, sizeof(r.ch_kind), NULL),
		C_TEXT(out->challenge.nas, sizeof(out->challenge.nas), NULL),
		C_TEXT(out->challenge.address, sizeof(out->challenge.address), NULL),
		C_I64(&out->challenge.expires_at, NULL), C_I64(&r.ch_attempts, NULL),
	};
	size_t nparams = NELEMS(params) - (digest ? 0 : 1);
	size_t ncols = NELEMS(cols) - (digest ? 0 : 6);
	store_status_t rc;
	uint64_t rows;

	(void)host_now;	/* the database's clock decides, and is returned in database_now */
	memset(out, 0, sizeof(*out));
	memset(&r, 0, sizeof(r));
	r.ch_null = true;
	rc = store_run(conn, digest ? SQL_LOGIN_LOOKUP_CHALLENGE : SQL_LOGIN_LOOKUP, params, nparams, cols, ncols,
		       NULL, NULL, &rows, NULL);
	if (rc != STORE_OK) return rc;
	if (rows != 1) return STORE_ERROR;
	return lookup_finish(&r, out);
}

/*
 * The name's row first, then the pair's, in every statement that writes
 * both: the same lock order everywhere ('' sorts first in the key too).
 */
static char const SQL_FAILURE_TAKE[] =
	"INSERT INTO login_failures (login, address, failures, lockouts, locked_until, updated_at)"
	" VALUES (?, '', 1, 0, 0, ?), (?, ?, 1, 0, 0, ?)"
	" ON DUPLICATE KEY UPDATE failures = failures + 1, updated_at = VALUES(updated_at)"
	" RETURNING address = '', failures, lockouts, locked_until, updated_at";
/*
 * A give back in one statement when each record held only this attempt
 * (the common case: a user's password right the first time): both go.
 */
static char const SQL_FAILURE_GIVE_BACK_LAST[] =
	"DELETE FROM login_failures WHERE login = ? AND address IN ('', ?)"
	" AND failures = 1 AND lockouts = 0 AND locked_until = 0";
/*
 * Otherwise the records the statement above left: one attempt fewer.  Not
 * one it deleted and a concurrent take made again in between (failures 1,
 * nothing else): that one is another request's attempt.  A record that
 * another give back brought to that state in between keeps this attempt,
 * which errs on the side of counting.
 */
static char const SQL_FAILURE_GIVE_BACK[] =
	"UPDATE login_failures SET failures = IF(failures > 0, failures - 1, 0)"
	" WHERE login = ? AND address IN ('', ?)"
	" AND NOT (failures = 1 AND lockouts = 0 AND locked_until = 0)";
/* After a give back: records with nothing left to remember go (a take recreates them). */
static char const SQL_FAILURE_DROP_EMPTY[] =
	"DELETE FROM login_failures WHERE login = ? AND address IN ('', ?)"
	" AND failures = 0 AND lockouts = 0 AND locked_until = 0";
static char const SQL_FAILURE_LOCK[] =
	"UPDATE login_failures SET failures = 0, lockouts = lockouts + 1, locked_until = ?"
	" WHERE login = ? AND address = ? AND lockouts = ?";
static char const SQL_FAILURE_FORGET[] =
	"DELETE FROM login_failures WHERE login = ? AND address = ?"
	" AND failures = ? AND lockouts = ? AND locked_until = ? AND updated_at = ?";
static char const SQL_FAILURE_CLEAR[] =
	"DELETE FROM login_failures WHERE login = ? AND address = ? AND locked_until <= ?";

typedef struct {
	int64_t			is_name, failures, lockouts, locked_until, updated_at;
	lockout_record_t	*pair, *name;
} take_read_t;

static uint32_t clamp_u32(int64_t v)
{
	if (v < 0) return 0;
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static int take_row(void *arg)
{
	take_read_t *t = arg;
	lockout_record_t *rec = t->is_name ? t->name : t->pair;

	rec->failures = clamp_u32(t->failures);
	rec->lockouts = clamp_u32(t->lockouts);
	rec->locked_until = t->locked_until;
	rec->last_failure_at = t->updated_at;
	return 0;
}

/*
 * One statement: the attempt taken on both records (created when missing)
 * and both read back as written, this attempt included (RETURNING), so
 * that concurrent takes each see their own count.
 */
store_status_t store_failure_take(store_conn_t *conn, char const *login, size_t login_len, char const *address,
				  int64_t now, lockout_record_t *pair, lockout_record_t *name)
{
	char const *key = pair_key(address);
	store_param_t take[] = { P_TEXTN(login, login_len), P_I64(now), P_TEXTN(login, login_len), P_TEXT(key), P_I64(now) };
	take_read_t t;
	store_col_t cols[] = { C_I64(&t.is_name, NULL), C_I64(&t.failures, NULL), C_I64(&t.lockouts, NULL),
			       C_I64(&t.locked_until, NULL), C_I64(&t.updated_at, NULL) };
	uint64_t rows = 0;
	store_status_t rc;

	memset(pair, 0, sizeof(*pair));
	memset(name, 0, sizeof(*name));
	memset(&t, 0, sizeof(t));
	t.pair = pair;
	t.name = name;
	rc = store_write(conn, SQL_FAILURE_TAKE, take, NELEMS(take), cols, NELEMS(cols), take_row, &t, &rows, NULL);
	if (rc != STORE_OK) return rc;
	return rows == 2 ? STORE_OK : STORE_ERROR;	/* both records, whatever happened */
}

store_status_t store_failure_give_back(store_conn_t *conn, char const *login, size_t login_len, char const *address)
{
	store_param_t params[] = { P_TEXTN(login, login_len), P_TEXT(pair_key(address)) };
	uint64_t gone = 0;
	store_status_t rc;

	rc = store_exec(conn, SQL_FAILURE_GIVE_BACK_LAST, params, NELEMS(params), &gone);
	if (rc != STORE_OK || gone == 2) return rc;
	rc = store_exec(conn, SQL_FAILURE_GIVE_BACK, params, NELEMS(params), NULL);
	if (rc != STORE_OK) return rc;
	return store_exec(conn, SQL_FAILURE_DROP_EMPTY, params, NELEMS(params), NULL);
}

store_status_t store_failure_lock(store_conn_t *conn, char const *login, size_t login_len, char const *address,
				  lockout_dimension_t dim, uint32_t lockouts, int64_t locked_until)
{
	store_param_t lock[] = { P_I64(locked_until), P_TEXTN(login, login_len), P_TEXT(record_key(dim, address)),
				 P_I64(lockouts) };

	return store_exec_one(conn, SQL_FAILURE_LOCK, lock, NELEMS(lock));
}

store_status_t store_failure_forget(store_conn_t *conn, char const *login, size_t login_len, char const *address,
				    lockout_dimension_t dim, lockout_record_t const *as_read)
{
	store_param_t params[] = { P_TEXTN(login, login_len), P_TEXT(record_key(dim, address)),
				   P_I64(as_read->failures), P_I64(as_read->lockouts), P_I64(as_read->locked_until),
				   P_I64(as_read->last_failure_at) };

	return store_exec_one(conn, SQL_FAILURE_FORGET, params, NELEMS(params));
}

store_status_t store_failure_clear(store_conn_t *conn, char const *login, size_t login_len, char const *address,
				   lockout_dimension_t dim, int64_t now)
{
	store_param_t params[] = { P_TEXTN(login, login_len), P_TEXT(record_key(dim, address)), P_I64(now) };

	return store_exec(conn, SQL_FAILURE_CLEAR, params, NELEMS(params), NULL);
}

static char const SQL_TRUST_ADD[] =
	"INSERT INTO trusted_addresses (user_id, scope, address, kind, how, created_at, proven_at, last_used_at, expires_at)"
	" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
	" ON DUPLICATE KEY UPDATE how = VALUES(how), proven_at = VALUES(proven_at),"
	" last_used_at = VALUES(last_used_at), expires_at = VALUES(expires_at)";
/* The caller refreshes last_used_at at most once an hour, so the trusted path rarely writes. */
static char const SQL_TRUST_TOUCH[] =
	"UPDATE trusted_addresses SET last_used_at = ? WHERE user_id = ? AND scope = ? AND address = ?";

store_status_t store_trust_add(store_conn_t *conn, uint64_t user_id, char const *scope, char const *address,
			       addr_kind_t kind, trust_how_t how, int64_t now, int64_t expires_at)
{
	store_param_t params[] = {
		P_U64(user_id), P_TEXT(scope), P_TEXT(address), P_TEXT(addr_kind_name(kind)), P_TEXT(policy_trust_how_name(how)),
		P_I64(now), P_I64(now), P_I64(now), expires_at ? P_I64(expires_at) : P_NULL(),
	};

	if (kind == ADDR_INVALID || address[0] == '\0' || (unsigned)how >= TRUST_HOW_COUNT) return STORE_CONFLICT;
	return store_exec(conn, SQL_TRUST_ADD, params, NELEMS(params), NULL);
}

store_status_t store_trust_touch(store_conn_t *conn, uint64_t user_id, char const *scope, char const *address,
				 int64_t now)
{
	store_param_t params[] = { P_I64(now), P_U64(user_id), P_TEXT(scope), P_TEXT(address) };

	return store_exec(conn, SQL_TRUST_TOUCH, params, NELEMS(params), NULL);
}

static char const SQL_SECRET_DELETE_PENDING[] =
	"DELETE FROM totp_secrets WHERE user_id = ? AND status = 'pending'";
static char const SQL_SECRET_INSERT[] =
	"INSERT INTO totp_secrets (user_id, status, sealed, key_id, algorithm, digits, period, last_counter,"
	" challenge_digest, created_at) VALUES (?, 'pending', ?, ?, ?, ?, ?, 0, ?, ?)";

store_status_t store_secret_put_pending(store_conn_t *conn, uint64_t user_id, uint8_t const *sealed, size_t sealed_len,
					uint32_t key_id, totp_params_t const *params, int64_t now,
					uint8_t const *challenge_digest)
{
	store_param_t del[] = { P_U64(user_id) };
	store_param_t ins[] = {
		P_U64(user_id), P_BLOB(sealed, sealed_len), P_I64(key_id), P_TEXT(totp_algo_name(params->algo)),
		P_I64(params->digits), P_I64(params->period),
		challenge_digest ? P_BLOB(challenge_digest, CHALLENGE_TOKEN_DIGEST_LEN) : P_NULL(), P_I64(now),
	};
	store_status_t rc;

	rc = store_exec(conn, SQL_SECRET_DELETE_PENDING, del, NELEMS(del), NULL);
	if (rc != STORE_OK) return rc;
	return store_exec(conn, SQL_SECRET_INSERT, ins, NELEMS(ins), NULL);	/* duplicate: active exists */
}

static char const SQL_SECRET_ADVANCE[] =
	"UPDATE totp_secrets SET last_counter = ? WHERE user_id = ? AND status = 'active' AND last_counter < ?";

store_status_t store_secret_advance(store_conn_t *conn, uint64_t user_id, uint64_t counter)
{
	store_param_t params[] = { P_U64(counter), P_U64(user_id), P_U64(counter) };
	return store_exec_one(conn, SQL_SECRET_ADVANCE, params, NELEMS(params));
}

static char const SQL_SECRET_ACTIVATE[] =
	"UPDATE totp_secrets SET status = 'active', last_counter = ?, activated_at = ?"
	" WHERE user_id = ? AND status = 'pending' AND last_counter < ? AND sealed = ?";
static char const SQL_USER_CLEAR_DEADLINE[] =
	"UPDATE users SET grace_deadline = NULL WHERE id = ?";

store_status_t store_secret_activate(store_conn_t *conn, uint64_t user_id, uint8_t const *sealed, size_t sealed_len,
				     uint64_t counter, int64_t now)
{
	store_param_t params[] = {
		P_U64(counter), P_I64(now), P_U64(user_id), P_U64(counter), P_BLOB(sealed, sealed_len),
	};
	store_param_t user[] = { P_U64(user_id) };
	store_status_t rc;
	uint64_t affected;

	rc = store_exec(conn, SQL_SECRET_ACTIVATE, params, NELEMS(params), &affected);
	if (rc != STORE_OK) return rc;
	if (affected != 1) return STORE_CONFLICT;
	return store_exec(conn, SQL_USER_CLEAR_DEADLINE, user, NELEMS(user), NULL);
}

static char const SQL_PENDING_EMAILS_VOID[] =
	"DELETE FROM email_confirmations WHERE user_id = ? AND confirmed_at IS NULL";

store_status_t store_pending_void(store_conn_t *conn, uint64_t user_id)
{
	store_param_t params[] = { P_U64(user_id) };
	store_status_t rc;

	rc = store_exec(conn, SQL_PENDING_EMAILS_VOID, params, NELEMS(params), NULL);
	if (rc != STORE_OK) return rc;
	return store_exec(conn, SQL_SECRET_DELETE_PENDING, params, NELEMS(params), NULL);
}

static char const SQL_CHALLENGE_PRUNE[] =
	"DELETE FROM challenges WHERE expires_at < ? LIMIT 100";
static char const SQL_CHALLENGE_CREATE[] =
	"INSERT INTO challenges (token_digest, user_id, kind, nas, address, created_at, expires_at, attempts_left, spent)"
	" VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)";

store_status_t store_challenge_create(store_conn_t *conn, uint8_t const digest[CHALLENGE_TOKEN_DIGEST_LEN],
				      uint64_t user_id, challenge_kind_t kind, char const *nas, char const *address,
				      int64_t now, int64_t expires_at, uint32_t attempts)
{
	store_param_t prune[] = { P_I64(now - 3600) };
	store_param_t params[] = {
		P_BLOB(digest, CHALLENGE_TOKEN_DIGEST_LEN), P_U64(user_id), P_TEXT(challenge_kind_name(kind)),
		P_TEXT(nas), P_TEXT(address), P_I64(now), P_I64(expires_at), P_I64(attempts),
	};
	store_status_t rc;

	/*
	 * Housekeeping, best effort, and only on about one challenge in 64
	 * (the digest's first byte is uniformly random): it removes up to 100
	 * long-expired rows, far more than 64 challenges leave behind.
	 * Servers pruning the same rows at once conflict (an InnoDB deadlock,
	 * a Galera certification failure): the loser leaves them to the next.
	 */
	if (digest[0] < 4) {
		rc = store_exec(conn, SQL_CHALLENGE_PRUNE, prune, NELEMS(prune), NULL);
		if (rc != STORE_OK && rc != STORE_RETRY) return rc;
	}
	return store_exec(conn, SQL_CHALLENGE_CREATE, params, NELEMS(params), NULL);
}

static char const SQL_CHALLENGE_TAKE[] =
	"UPDATE challenges SET attempts_left = attempts_left - 1"
	" WHERE token_digest = ? AND spent = 0 AND attempts_left > 0 AND expires_at > UNIX_TIMESTAMP()";

store_status_t store_challenge_take_attempt(store_conn_t *conn, uint8_t const digest[CHALLENGE_TOKEN_DIGEST_LEN],
					    int64_t host_now)
{
	(void)host_now;	/* the database's clock decides */
	store_param_t take[] = { P_BLOB(digest, CHALLENGE_TOKEN_DIGEST_LEN) };
	store_status_t rc;
	uint64_t affected;

	rc = store_exec(conn, SQL_CHALLENGE_TAKE, take, NELEMS(take), &affected);
	if (rc != STORE_OK) return rc;
	return affected == 1 ? STORE_OK : STORE_NOT_FOUND;
}

static char const SQL_CHALLENGE_SPEND[] =
	"UPDATE challenges SET spent = 1 WHERE token_digest = ? AND spent = 0";

store_status_t store_challenge_spend(store_conn_t *conn, uint8_t const digest[CHALLENGE_TOKEN_DIGEST_LEN])
{
	store_param_t key[] = { P_BLOB(digest, CHALLENGE_TOKEN_DIGEST_LEN) };
	return store_exec_one(conn, SQL_CHALLENGE_SPEND, key, NELEMS(key));
}

static char const SQL_RECOVERY_UNUSED[] =
	"SELECT slot, salt, code_hash FROM recovery_codes WHERE user_id = ? AND used_at IS NULL ORDER BY slot";

typedef struct {
	store_recovery_set_t	*set;
	int64_t			slot;
	uint8_t			salt[RECOVERY_SALT_LEN];
	uint8_t			hash[RECOVERY_HASH_LEN];
	size_t			salt_len, hash_len;
} recovery_rows_t;

static int recovery_row(void *arg)
{
	recovery_rows_t *r = arg;
	store_recovery_set_t *set = r->set;

	if (set->count == RECOVERY_CODE_COUNT || r->salt_len != RECOVERY_SALT_LEN || r->hash_len != RECOVERY_HASH_LEN) {
		return -1;
	}
	memcpy(set->salt, r->salt, RECOVERY_SALT_LEN);
	set->slot[set->count] = (uint8_t)r->slot;
	memcpy(set->hash[set->count], r->hash, RECOVERY_HASH_LEN);
	set->count++;
	return 0;
}

store_status_t store_recovery_unused(store_conn_t *conn, uint64_t user_id, store_recovery_set_t *out)
{
	recovery_rows_t r = { .set = out };
	store_param_t params[] = { P_U64(user_id) };
	store_col_t cols[] = {
		C_I64(&r.slot, NULL), C_BLOB(r.salt, sizeof(r.salt), &r.salt_len, NULL),
		C_BLOB(r.hash, sizeof(r.hash), &r.hash_len, NULL),
	};

	memset(out, 0, sizeof(*out));
	return store_run(conn, SQL_RECOVERY_UNUSED, params, NELEMS(params), cols, NELEMS(cols),
			 recovery_row, &r, NULL, NULL);
}

static char const SQL_RECOVERY_USE[] =
	"UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND slot = ? AND used_at IS NULL";

store_status_t store_recovery_use(store_conn_t *conn, uint64_t user_id, uint8_t slot, int64_t now)
{
	store_param_t params[] = { P_I64(now), P_U64(user_id), P_I64(slot) };
	return store_exec_one(conn, SQL_RECOVERY_USE, params, NELEMS(params));
}

static char const SQL_AUDIT[] =
	"INSERT INTO audit_log (at, actor, user_id, company_id, event, detail, source) VALUES (?, ?, ?, ?, ?, ?, ?)";

store_status_t store_audit(store_conn_t *conn, int64_t now, char const *actor, uint64_t user_id,
			   uint64_t company_id, char const *event, char const *detail, char const *source)
{
	store_param_t params[] = {
		P_I64(now), P_TEXTN(actor, strnlen(actor, 128)),
		user_id ? P_U64(user_id) : P_NULL(), company_id ? P_U64(company_id) : P_NULL(),
		P_TEXT(event), P_TEXTN(detail ? detail : "", detail ? strnlen(detail, 1024) : 0),
		P_TEXTN(source ? source : "", source ? strnlen(source, 128) : 0),
	};

	return store_exec(conn, SQL_AUDIT, params, NELEMS(params), NULL);
}

/*
 * The profiles of the users' password hashes (password_profile: the
 * setting without the salt), most common first, each with one of its
 * hashes as a sample.  A full scan of users: the module runs it at its
 * first login and then every password.dummy_refresh seconds.
 */
static char const SQL_HASH_PROFILES[] =
	"SELECT MIN(password_hash), COUNT(*) FROM users WHERE password_hash IS NOT NULL"
	" GROUP BY CASE"
	"  WHEN password_hash LIKE '$argon2id$v=%' THEN SUBSTRING_INDEX(password_hash, '$', 4)"
	"  WHEN password_hash LIKE '$6$rounds=%' THEN SUBSTRING_INDEX(password_hash, '$', 3)"
	"  WHEN password_hash LIKE '$6$%' THEN '$6'"
	"  ELSE SUBSTRING_INDEX(password_hash, '$', 3) END"
	" ORDER BY COUNT(*) DESC LIMIT ?";

typedef struct {
	store_hash_profile_t	*out;
	size_t			max, count;
	char			sample[PASSWORD_HASH_MAX + 1];
	int64_t			users;
} profile_rows_t;

static int profile_row(void *arg)
{
	profile_rows_t *r = arg;

	if (r->count >= r->max || r->users <= 0) return 0;
	memcpy(r->out[r->count].sample, r->sample, sizeof(r->sample));
	r->out[r->count].users = (uint64_t) r->users;
	r->count++;
	return 0;
}

store_status_t store_hash_profiles(store_conn_t *conn, store_hash_profile_t *out, size_t max, size_t *count)
{
	profile_rows_t r = { .out = out, .max = max };
	store_param_t params[] = { P_I64(max) };
	store_col_t cols[] = { C_TEXT(r.sample, sizeof(r.sample), NULL), C_I64(&r.users, NULL) };
	store_status_t rc;

	*count = 0;
	rc = store_run(conn, SQL_HASH_PROFILES, params, NELEMS(params), cols, NELEMS(cols), profile_row, &r, NULL, NULL);
	OPENSSL_cleanse(r.sample, sizeof(r.sample));
	if (rc == STORE_OK) *count = r.count;
	return rc;
}
