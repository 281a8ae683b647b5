/*
 * fake_store.c - an in-memory storage layer with the contract of
 * rlm_vrms2fa/store (store_login.c, store_email.c), linked into
 * tests/unit/test_flow in place of libvrms2fa_store: the link-time seam
 * that lets flow_login run without MariaDB.  See fake_store.h.
 *
 * It implements exactly the store functions flow.c and account.c call
 * (the linker says which: every one of store_login.h, and
 * store_email_by_token / store_email_confirm_link of store_admin.h).  Each one
 * mirrors the SQL of the real function: the same rows are read or written,
 * a conditional UPDATE that changes no row answers STORE_CONFLICT, a
 * duplicate key answers STORE_CONFLICT (the real store maps ER_DUP_ENTRY so).
 * Differences, none of which flow_login can observe: no housekeeping prune
 * of long-expired challenges, no concurrency, and an injected STORE_ERROR
 * happens before a function changes anything (a real multi-statement
 * function can fail half-way).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_store.h"

struct store_conn {
	char	last_error[160];
};

static struct {
	struct store_conn	conn;
	fake_company_t		companies[FAKE_MAX_ROWS];
	size_t			ncompanies;
	fake_user_t		users[FAKE_MAX_ROWS];
	size_t			nusers;
	fake_secret_t		secrets[FAKE_MAX_ROWS];
	fake_recovery_t		recovery[FAKE_MAX_ROWS];
	fake_trust_t		trust[FAKE_MAX_ROWS];
	fake_challenge_t	challenges[FAKE_MAX_ROWS];
	fake_failure_t		failures[FAKE_MAX_ROWS];
	fake_email_t		emails[FAKE_MAX_ROWS];
	uint64_t		next_email_id;
	fake_email_send_t	sends[FAKE_MAX_ROWS];
	fake_audit_t		audit[FAKE_MAX_ROWS * 4];
	size_t			naudit;

	char const		*calls[FAKE_CALLS_MAX];
	size_t			ncalls;

	size_t			fail_call;	/* 0: none; else the call number (since arming) that fails */
	size_t			calls_since_armed;
	char			fail_function[64];
	size_t			fail_nth;	/* 0: every call of fail_function */
	size_t			function_calls_since_armed;
	bool			failed;
	bool			race_next_lock;	/* fake_failure_race_next_lock() */
	char			before_function[64];	/* fake_before_next() */
	void			(*before_fn)(void);
	bool			in_transaction;		/* between store_transaction_start and _end */
	bool			transaction_failed;	/* a call inside it failed */
	size_t			conflicts_armed;	/* fake_transaction_conflicts() */
	size_t			transactions, rollbacks;
} db;

/* The tables as store_transaction_start found them (malloc'd; NULL outside a transaction). */
static void *transaction_saved;

static char const *const WRITES[] = {
	"store_failure_take", "store_failure_give_back", "store_failure_lock", "store_failure_forget",
	"store_failure_clear", "store_trust_add", "store_trust_touch",
	"store_pending_void", "store_secret_put_pending", "store_secret_advance", "store_secret_activate",
	"store_challenge_create", "store_challenge_take_attempt", "store_challenge_spend",
	"store_recovery_use", "store_email_create", "store_email_renew", "store_email_mark_sent",
	"store_email_record_send", "store_email_confirm_code", "store_email_confirm_link", "store_audit",
};

static void full(char const *table)
{
	fprintf(stderr, "fake_store: table %s is full (FAKE_MAX_ROWS)\n", table);
	abort();
}

/*
 * Every store function starts here: log the call, and say whether an armed
 * failure hits it (then the function returns STORE_ERROR at once).
 */
static bool enter(char const *function)
{
	bool fail = false;

	if (db.before_fn && strcmp(db.before_function, function) == 0) {
		void (*fn)(void) = db.before_fn;

		db.before_fn = NULL;
		fn();
	}
	if (db.ncalls < FAKE_CALLS_MAX) db.calls[db.ncalls] = function;
	db.ncalls++;

	if (db.fail_call) {
		db.calls_since_armed++;
		if (db.calls_since_armed == db.fail_call) fail = true;
	}
	if (db.fail_function[0] && strcmp(db.fail_function, function) == 0) {
		db.function_calls_since_armed++;
		if (db.fail_nth == 0 || db.function_calls_since_armed == db.fail_nth) fail = true;
	}
	if (db.in_transaction && db.transaction_failed) return true;	/* the real store runs nothing more */
	if (fail) {
		if (db.in_transaction) db.transaction_failed = true;
		db.failed = true;
		snprintf(db.conn.last_error, sizeof(db.conn.last_error), "injected failure in %s", function);
	}
	return fail;
}

/* ---- the test's side (fake_store.h) ---- */

void fake_store_reset(void)
{
	memset(&db, 0, sizeof(db));
	db.next_email_id = 1;
	free(transaction_saved);
	transaction_saved = NULL;
}

void *fake_store_save(void)
{
	void *copy = malloc(sizeof(db));

	if (!copy) abort();
	memcpy(copy, &db, sizeof(db));
	return copy;
}

void fake_store_restore(void const *saved)
{
	memcpy(&db, saved, sizeof(db));
	db.ncalls = 0;
	db.fail_call = 0;
	db.calls_since_armed = 0;
	db.fail_function[0] = '\0';
	db.fail_nth = 0;
	db.function_calls_since_armed = 0;
	db.failed = false;
	db.race_next_lock = false;
	db.before_fn = NULL;
	db.conn.last_error[0] = '\0';
}

store_conn_t *fake_store_conn(void)
{
	return &db.conn;
}

uint64_t fake_company_add(char const *name, security_level_t level, unsigned group_mask, uint32_t grace_days)
{
	fake_company_t *c;

	if (db.ncompanies == FAKE_MAX_ROWS) full("companies");
	c = &db.companies[db.ncompanies++];
	c->id = db.ncompanies;
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->level = level;
	c->group_mask = group_mask;
	c->grace_days = grace_days;
	return c->id;
}

uint64_t fake_user_add(uint64_t company_id, char const *login, user_group_t group, char const *email,
		       char const *password_hash)
{
	fake_user_t *u;

	if (db.nusers == FAKE_MAX_ROWS) full("users");
	u = &db.users[db.nusers++];
	u->id = db.nusers;
	snprintf(u->login, sizeof(u->login), "%s", login);
	u->company_id = company_id;
	u->group = group;
	u->has_email = email != NULL;
	snprintf(u->email, sizeof(u->email), "%s", email ? email : "");
	u->has_password_hash = password_hash != NULL;
	snprintf(u->password_hash, sizeof(u->password_hash), "%s", password_hash ? password_hash : "");
	return u->id;
}

fake_user_t *fake_user(uint64_t id)
{
	return id >= 1 && id <= db.nusers ? &db.users[id - 1] : NULL;
}

fake_company_t *fake_company(uint64_t id)
{
	return id >= 1 && id <= db.ncompanies ? &db.companies[id - 1] : NULL;
}

static fake_user_t *user_by_login(char const *login, size_t login_len)
{
	size_t i;

	for (i = 0; i < db.nusers; i++) {
		if (strlen(db.users[i].login) == login_len && memcmp(db.users[i].login, login, login_len) == 0) {
			return &db.users[i];
		}
	}
	return NULL;
}

fake_secret_t *fake_secret(uint64_t user_id)
{
	size_t i;

	for (i = 0; i < FAKE_MAX_ROWS; i++) {
		if (user_id && db.secrets[i].user_id == user_id) return &db.secrets[i];
	}
	return NULL;
}

static fake_secret_t *secret_slot(void)
{
	size_t i;

	for (i = 0; i < FAKE_MAX_ROWS; i++) {
		if (db.secrets[i].user_id == 0) return &db.secrets[i];
	}
	full("totp_secrets");
	return NULL;
}

fake_secret_t *fake_secret_put(uint64_t user_id, totp_status_t status, uint8_t const *sealed, size_t sealed_len,
			       uint32_t key_id, totp_params_t params, uint64_t last_counter)
{
	fake_secret_t *s = fake_secret(user_id);

	if (!s) s = secret_slot();
	if (sealed_len > sizeof(s->sealed)) abort();
	memset(s, 0, sizeof(*s));
	s->user_id = user_id;
	s->status = status;
	memcpy(s->sealed, sealed, sealed_len);
	s->sealed_len = sealed_len;
	s->key_id = key_id;
	s->params = params;
	s->last_counter = last_counter;
	return s;
}

fake_recovery_t *fake_recovery(uint64_t user_id, uint8_t slot)
{
	size_t i;

	for (i = 0; i < FAKE_MAX_ROWS; i++) {
		if (user_id && db.recovery[i].user_id == user_id && db.recovery[i].slot == slot) return &db.recovery[i];
	}
	return NULL;
}

void fake_recovery_put(uint64_t user_id, uint8_t slot, uint8_t const salt[RECOVERY_SALT_LEN],
		       uint8_t const hash[RECOVERY_HASH_LEN])
{
	fake_recovery_t *r = fake_recovery(user_id, slot);
	size_t i;

	for (i = 0; !r && i < FAKE_MAX_ROWS; i++) {
		if (db.recovery[i].user_id == 0) r = &db.recovery[i];
	}
	if (!r) full("recovery_codes");
	memset(r, 0, sizeof(*r));
	r->user_id = user_id;
	r->slot = slot;
	memcpy(r->salt, salt, RECOVERY_SALT_LEN);
	memcpy(r->hash, hash, RECOVERY_HASH_LEN);
}

fake_trust_t *fake_trust_scoped(uint64_t user_id, char const *scope, char const *address)
{
	size_t i;

	for (i = 0; i < FAKE_MAX_ROWS; i++) {
		if (user_id && db.trust[i].user_id == user_id && strcmp(db.trust[i].scope, scope) == 0 &&
		    strcmp(db.trust[i].address, address) == 0) {
			return &db.trust[i];
		}
	}
	return NULL;
}

fake_trust_t *fake_trust(uint64_t user_id, char const *address)
{
	return fake_trust_scoped(user_id, "", address);
}

size_t fake_trust_count(uint64_t user_id)
{
	size_t i, n = 0;

	for (i = 0; i < FAKE_MAX_ROWS; i++) n += user_id && db.trust[i].user_id == user_id;
	return n;
}

fake_trust_t *fake_trust_put_scoped(uint64_t user_id, char const *scope, char const *address, addr_kind_t kind,
				    char const *how, int64_t proven_at, int64_t expires_at)
{
	fake_trust_t *t = fake_trust_scoped(user_id, scope, address);
	size_t i;

	for (i = 0; !t && i < FAKE_MAX_ROWS; i++) {
		if (db.trust[i].user_id == 0) t = &db.trust[i];
	}
	if (!t) full("trusted_addresses");
	memset(t, 0, sizeof(*t));
	t->user_id = user_id;
	snprintf(t->scope, sizeof(t->scope), "%s", scope);
	snprintf(t->address, sizeof(t->address), "%s", address);
	t->kind = kind;
	snprintf(t->how, sizeof(t->how), "%s", how);
	t->created_at = proven_at;
	t->proven_at = proven_at;
	t->last_used_at = proven_at;
	t->expires_at = expires_at;
	return t;
}

fake_trust_t *fake_trust_put(uint64_t user_id, char const *address, addr_kind_t kind, char const *how,
			     int64_t proven_at, int64_t expires_at)
{
	return fake_trust_put_scoped(user_id, "", address, kind, how, proven_at, expires_at);
}

/* The address key of a pair record, as store_login.c's pair_key. */
static char const *pair_key(char const *address)
{
	return address && address[0] ? address : STORE_NO_ADDRESS;
}

/* The address key of a dimension's record, as store_login.c's record_key. */
static char const *record_key(lockout_dimension_t dim, char const *address)
{
	return dim == LOCKOUT_NAME ? "" : pair_key(address);
}

/* The record of (login, key); key "" is the name's. */
static fake_failure_t *failures_of(char const *login, size_t login_len, char const *key)
{
	size_t i;

	for (i = 0; i < FAKE_MAX_ROWS; i++) {
		fake_failure_t *f = &db.failures[i];

		if (f->used && f->login_len == login_len && memcmp(f->login, login, login_len) == 0 &&
		    strcmp(f->address, key) == 0) {
			return f;
		}
	}
	return NULL;
}

fake_failure_t *fake_failures(char const *login)
{
	return failures_of(login, strlen(login), "");
}

fake_failure_t *fake_failures_pair(char const *login, char const *address)
{
	return failures_of(login, strlen(login), pair_key(address));
}

size_t fake_failure_rows(void)
{
	size_t i, n = 0;

	for (i = 0; i < FAKE_MAX_ROWS; i++) n += db.failures[i].used;
	return n;
}

static fake_failure_t *failures_new(char const *login, size_t login_len, char const *key)
{
	size_t i;

	if (login_len > TEXT_LOGIN_MAX || strlen(key) >= ADDR_TEXT_MAX) abort();
	for (i = 0; i < FAKE_MAX_ROWS; i++) {
		fake_failure_t *f = &db.failures[i];

		if (!f->used) {
			memset(f, 0, sizeof(*f));
			f->used = true;
			memcpy(f->login, login, login_len);
			f->login_len = login_len;
			snprintf(f->address, sizeof(f->address), "%s", key);
			return f;
		}
	}
	full("login_failures");
	return NULL;
}

fake_failure_t *fake_failures_put(char const *login, char const *address, uint32_t failures, uint32_t lockouts,
				  int64_t locked_until, int64_t last_failure_at)
{
	char const *key = address ? pair_key(address) : "";
	fake_failure_t *f = failures_of(login, strlen(login), key);

	if (!f) f = failures_new(login, strlen(login), key);
	f->failures = failures;
	f->lockouts = lockouts;
	f->locked_until = locked_until;
	f->updated_at = last_failure_at;
	return f;
}

static void record_of(fake_failure_t const *f, lockout_record_t *rec)
{
	memset(rec, 0, sizeof(*rec));
	if (!f) return;		/* LEFT JOIN: NULL columns read as zero */
	rec->failures = f->failures;
	rec->lockouts = f->lockouts;
	rec->locked_until = f->locked_until;
	rec->last_failure_at = f->updated_at;
}

static fake_challenge_t *challenge_by_digest(uint8_t const digest[CHALLENGE_TOKEN_DIGEST_LEN])
{
	size_t i;

	for (i = 0; i < FAKE_MAX_ROWS; i++) {
		fake_challenge_t *c = &db.challenges[i];

		if (c->used && memcmp(c->digest, digest, CHALLENGE_TOKEN_DIGEST_LEN) == 0) return c;
	}
	return NULL;
}

fake_challenge_t *fake_challenge(char const *state)
{
	uint8_t raw[CHALLENGE_TOKEN_RAW_LEN], digest[CHALLENGE_TOKEN_DIGEST_LEN];

	if (challenge_token_parse((uint8_t const *)state, strlen(state), raw) != 0 ||
	    challenge_token_digest(raw, digest) != 0) {
		return NULL;
	}
	return challenge_by_digest(digest);
}

size_t fake_challenge_count(void)
{
	size_t i, n = 0;

	for (i = 0; i < FAKE_MAX_ROWS; i++) n += db.challenges[i].used;
	return n;
}

fake_email_t *fake_email_latest(uint64_t user_id)
{
	fake_email_t *best = NULL;
	size_t i;

	for (i = 0; i < FAKE_MAX_ROWS; i++) {
		fake_email_t *e = &db.emails[i];

		if (e->id && e->user_id == user_id && (!best || e->id > best->id)) best = e;
	}
	return best;
}

size_t fake_email_count(void)
{
	size_t i, n = 0;

	for (i = 0; i < FAKE_MAX_ROWS; i++) n += db.emails[i].id != 0;
	return n;
}

size_t fake_email_sends(uint64_t user_id)
{
	size_t i, n = 0;

	for (i = 0; i < FAKE_MAX_ROWS; i++) n += db.sends[i].used && db.sends[i].user_id == user_id;
	return n;
}

void fake_email_send_put(uint64_t user_id, int64_t sent_at)
{
	size_t i;

	for (i = 0; i < FAKE_MAX_ROWS; i++) {
		if (!db.sends[i].used) {
			db.sends[i].used = true;
			db.sends[i].user_id = user_id;
			db.sends[i].sent_at = sent_at;
			return;
		}
	}
	full("email_sends");
}

size_t fake_audit_count(char const *event)
{
	size_t i, n = 0;

	for (i = 0; i < db.naudit; i++) n += !event || strcmp(db.audit[i].event, event) == 0;
	return n;
}

fake_audit_t const *fake_audit_last(char const *event)
{
	size_t i;

	for (i = db.naudit; i > 0; i--) {
		if (!event || strcmp(db.audit[i - 1].event, event) == 0) return &db.audit[i - 1];
	}
	return NULL;
}

void fake_before_next(char const *function, void (*fn)(void))
{
	snprintf(db.before_function, sizeof(db.before_function), "%s", function);
	db.before_fn = fn;
}

void fake_failure_race_next_lock(void)
{
	db.race_next_lock = true;
}

void fake_calls_clear(void)
{
	db.ncalls = 0;
}

size_t fake_calls(void)
{
	return db.ncalls;
}

char const *fake_call_name(size_t i)
{
	return i < db.ncalls && i < FAKE_CALLS_MAX ? db.calls[i] : "";
}

size_t fake_call_count(char const *function)
{
	size_t i, n = 0;

	for (i = 0; i < db.ncalls && i < FAKE_CALLS_MAX; i++) n += strcmp(db.calls[i], function) == 0;
	return n;
}

bool fake_is_write(char const *function)
{
	size_t i;

	for (i = 0; i < sizeof(WRITES) / sizeof(WRITES[0]); i++) {
		if (strcmp(WRITES[i], function) == 0) return true;
	}
	return false;
}

size_t fake_write_calls(void)
{
	size_t i, n = 0;

	for (i = 0; i < db.ncalls && i < FAKE_CALLS_MAX; i++) n += fake_is_write(db.calls[i]);
	return n;
}

void fake_fail_call(size_t n)
{
	db.fail_call = n;
	db.calls_since_armed = 0;
	db.failed = false;
}

void fake_fail_function(char const *function, size_t n)
{
	snprintf(db.fail_function, sizeof(db.fail_function), "%s", function);
	db.fail_nth = n;
	db.function_calls_since_armed = 0;
	db.failed = false;
}

void fake_fail_clear(void)
{
	db.fail_call = 0;
	db.fail_function[0] = '\0';
	db.fail_nth = 0;
	db.failed = false;
}

bool fake_failed(void)
{
	return db.failed;
}

/* ---- the store functions flow.c and account.c call ---- */

char const *store_last_error(store_conn_t const *conn)
{
	return conn->last_error;
}

/*
 * SELECT ... FROM (SELECT 1) LEFT JOIN login_failures f ON f.login = ? AND f.address = ''
 * LEFT JOIN login_failures p ON p.login = ? AND p.address = ? ("" keyed STORE_NO_ADDRESS)
 * LEFT JOIN users u ON u.login = ? LEFT JOIN companies c ... LEFT JOIN
 * totp_secrets s ... LEFT JOIN trusted_addresses t ON t.user_id = u.id AND
 * t.scope = ? AND t.address = ? AND (t.expires_at IS NULL OR t.expires_at > now)
 * [LEFT JOIN challenges ch ON ch.token_digest = ?], then lookup_finish().
 */
store_status_t store_login_lookup(store_conn_t *conn, char const *login, size_t login_len,
				  char const *scope, char const *address, int64_t now, uint8_t const *digest,
				  store_login_t *out)
{
	fake_failure_t const *f;
	fake_user_t const *u;
	fake_company_t const *c;
	fake_secret_t const *s;
	fake_trust_t const *t;
	fake_challenge_t const *ch = NULL;

	(void)conn;
	memset(out, 0, sizeof(*out));
	if (enter("store_login_lookup")) return STORE_ERROR;
	out->database_now = now;	/* the fake's clock is the test's (req->now) */

	f = failures_of(login, login_len, "");
	record_of(f, &out->name_record);
	f = failures_of(login, login_len, pair_key(address));
	record_of(f, &out->pair_record);
	u = user_by_login(login, login_len);
	if (digest) ch = challenge_by_digest(digest);
	if (ch) {
		/* the columns are read whether or not the user is found; has_challenge only with a user */
		out->challenge.user_id = ch->user_id;
		out->challenge.kind = ch->kind;
		snprintf(out->challenge.nas, sizeof(out->challenge.nas), "%s", ch->nas);
		snprintf(out->challenge.address, sizeof(out->challenge.address), "%s", ch->address);
		out->challenge.expires_at = ch->expires_at;
		out->challenge.attempts_left = ch->attempts_left;
	}
	if (!u) return STORE_OK;	/* unknown login: only the failure record matters */

	c = fake_company(u->company_id);
	if (!c) return STORE_ERROR;	/* the foreign key makes this impossible in MariaDB */
	out->user_found = true;
	out->user_id = u->id;
	out->company_id = u->company_id;
	snprintf(out->company, sizeof(out->company), "%s", c->name);
	out->group = u->group;
	out->disabled = u->disabled;
	out->has_email = u->has_email && u->email[0] != '\0';
	if (u->has_email) snprintf(out->email, sizeof(out->email), "%s", u->email);
	out->has_password_hash = u->has_password_hash && u->password_hash[0] != '\0';
	if (u->has_password_hash) snprintf(out->password_hash, sizeof(out->password_hash), "%s", u->password_hash);
	out->has_deadline = u->has_deadline;
	if (u->has_deadline) out->grace_deadline = u->grace_deadline;
	out->level = c->level;
	out->group_mask = c->group_mask & GROUP_MASK_ALL;
	out->grace_days = c->grace_days;

	s = fake_secret(u->id);
	out->totp_status = s ? s->status : TOTP_STATUS_NONE;
	if (s) {
		out->secret.status = s->status;
		memcpy(out->secret.sealed, s->sealed, s->sealed_len);
		out->secret.sealed_len = s->sealed_len;
		out->secret.key_id = s->key_id;
		out->secret.params = s->params;
		out->secret.last_counter = s->last_counter;
		if (!totp_params_valid(&out->secret.params)) return STORE_ERROR;
		out->secret.has_challenge_digest = s->has_challenge_digest;
		if (s->has_challenge_digest) {
			memcpy(out->secret.challenge_digest, s->challenge_digest, CHALLENGE_TOKEN_DIGEST_LEN);
		}
	}

	t = fake_trust_scoped(u->id, scope, address);
	if (t && (t->expires_at == 0 || t->expires_at > now)) {
		out->trusted = true;
		out->trusted_last_used = t->last_used_at;
		out->trusted_proven_at = t->proven_at;
		/* an unknown how is refused, as lookup_finish does */
		if (policy_trust_how_parse(t->how, &out->trusted_how) != 0) return STORE_ERROR;
	}
	if (ch) out->has_challenge = true;
	return STORE_OK;
}

/* One row of the take's INSERT: (login, key, 1, 0, 0, now) ON DUPLICATE KEY UPDATE failures + 1, updated_at. */
static fake_failure_t *take_one(char const *login, size_t login_len, char const *key, int64_t now)
{
	fake_failure_t *f = failures_of(login, login_len, key);

	if (!f) {
		f = failures_new(login, login_len, key);
		f->failures = 1;
	} else {
		f->failures++;
	}
	f->updated_at = now;
	return f;
}

/* The name's row then the pair's, one attempt each; then both read back (this attempt included). */
store_status_t store_failure_take(store_conn_t *conn, char const *login, size_t login_len, char const *address,
				  int64_t now, lockout_record_t *pair, lockout_record_t *name)
{
	(void)conn;
	memset(pair, 0, sizeof(*pair));
	memset(name, 0, sizeof(*name));
	if (enter("store_failure_take")) return STORE_ERROR;
	record_of(take_one(login, login_len, "", now), name);
	record_of(take_one(login, login_len, pair_key(address), now), pair);
	return STORE_OK;
}

/*
 * failures = IF(failures > 0, failures - 1, 0) on both rows; then DELETE
 * those with failures = 0 AND lockouts = 0 AND locked_until = 0.
 */
store_status_t store_failure_give_back(store_conn_t *conn, char const *login, size_t login_len, char const *address)
{
	char const *keys[2] = { "", pair_key(address) };
	size_t i;

	(void)conn;
	if (enter("store_failure_give_back")) return STORE_ERROR;
	for (i = 0; i < 2; i++) {
		fake_failure_t *f = failures_of(login, login_len, keys[i]);

		if (!f) continue;
		if (f->failures > 0) f->failures--;
		if (f->failures == 0 && f->lockouts == 0 && f->locked_until == 0) memset(f, 0, sizeof(*f));
	}
	return STORE_OK;
}

/* failures = 0, lockouts + 1, locked_until WHERE login AND address AND lockouts = ?: one row or CONFLICT. */
store_status_t store_failure_lock(store_conn_t *conn, char const *login, size_t login_len, char const *address,
				  lockout_dimension_t dim, uint32_t lockouts, int64_t locked_until)
{
	fake_failure_t *f;

	(void)conn;
	if (enter("store_failure_lock")) return STORE_ERROR;
	f = failures_of(login, login_len, record_key(dim, address));
	if (f && db.race_next_lock) {	/* the concurrent request's own lock lands first */
		f->failures = 0;
		f->lockouts++;
		f->locked_until = locked_until;
	}
	db.race_next_lock = false;
	if (!f || f->lockouts != lockouts) return STORE_CONFLICT;
	f->failures = 0;
	f->lockouts++;
	f->locked_until = locked_until;
	return STORE_OK;
}

/* DELETE WHERE login AND address AND failures, lockouts, locked_until, updated_at as read: one row or CONFLICT. */
store_status_t store_failure_forget(store_conn_t *conn, char const *login, size_t login_len, char const *address,
				    lockout_dimension_t dim, lockout_record_t const *as_read)
{
	fake_failure_t *f;

	(void)conn;
	if (enter("store_failure_forget")) return STORE_ERROR;
	f = failures_of(login, login_len, record_key(dim, address));
	if (!f || f->failures != as_read->failures || f->lockouts != as_read->lockouts ||
	    f->locked_until != as_read->locked_until || f->updated_at != as_read->last_failure_at) {
		return STORE_CONFLICT;
	}
	memset(f, 0, sizeof(*f));
	return STORE_OK;
}

/* DELETE WHERE login AND address AND locked_until <= now (STORE_OK whatever it deleted). */
store_status_t store_failure_clear(store_conn_t *conn, char const *login, size_t login_len, char const *address,
				   lockout_dimension_t dim, int64_t now)
{
	fake_failure_t *f;

	(void)conn;
	if (enter("store_failure_clear")) return STORE_ERROR;
	f = failures_of(login, login_len, record_key(dim, address));
	if (f && f->locked_until <= now) memset(f, 0, sizeof(*f));
	return STORE_OK;
}

/*
 * INSERT ... ON DUPLICATE KEY UPDATE how, proven_at, last_used_at,
 * expires_at (the key: user, scope, address); refused without an address
 * or with a how out of range.
 */
store_status_t store_trust_add(store_conn_t *conn, uint64_t user_id, char const *scope, char const *address,
			       addr_kind_t kind, trust_how_t how, int64_t now, int64_t expires_at)
{
	fake_trust_t *t;

	(void)conn;
	if (enter("store_trust_add")) return STORE_ERROR;
	if (kind == ADDR_INVALID || address[0] == '\0' || (unsigned)how >= TRUST_HOW_COUNT) return STORE_CONFLICT;
	if (strlen(scope) > FAKE_SCOPE_MAX) return STORE_ERROR;	/* VARCHAR(32): strict mode refuses it */
	t = fake_trust_scoped(user_id, scope, address);
	if (!t) {
		fake_trust_put_scoped(user_id, scope, address, kind, policy_trust_how_name(how), now, expires_at);
		return STORE_OK;
	}
	snprintf(t->how, sizeof(t->how), "%s", policy_trust_how_name(how));
	t->proven_at = now;
	t->last_used_at = now;
	t->expires_at = expires_at;
	return STORE_OK;
}

store_status_t store_trust_touch(store_conn_t *conn, uint64_t user_id, char const *scope, char const *address,
				 int64_t now)
{
	fake_trust_t *t;

	(void)conn;
	if (enter("store_trust_touch")) return STORE_ERROR;
	t = fake_trust_scoped(user_id, scope, address);
	if (t) t->last_used_at = now;
	return STORE_OK;
}

/* DELETE unconfirmed email confirmations (expired or not), then DELETE the pending secret. */
store_status_t store_pending_void(store_conn_t *conn, uint64_t user_id)
{
	fake_secret_t *s;
	size_t i;

	(void)conn;
	if (enter("store_pending_void")) return STORE_ERROR;
	for (i = 0; i < FAKE_MAX_ROWS; i++) {
		if (db.emails[i].id && db.emails[i].user_id == user_id && !db.emails[i].confirmed) {
			memset(&db.emails[i], 0, sizeof(db.emails[i]));
		}
	}
	s = fake_secret(user_id);
	if (s && s->status == TOTP_STATUS_PENDING) memset(s, 0, sizeof(*s));
	return STORE_OK;
}

/* DELETE the pending secret, INSERT a new pending one (duplicate key, so CONFLICT, when an active one exists). */
store_status_t store_secret_put_pending(store_conn_t *conn, uint64_t user_id, uint8_t const *sealed, size_t sealed_len,
					uint32_t key_id, totp_params_t const *params, int64_t now,
					uint8_t const *challenge_digest)
{
	fake_secret_t *s;

	(void)conn;
	if (enter("store_secret_put_pending")) return STORE_ERROR;
	s = fake_secret(user_id);
	if (s && s->status == TOTP_STATUS_PENDING) {
		memset(s, 0, sizeof(*s));
		s = NULL;
	}
	if (s) return STORE_CONFLICT;
	if (sealed_len > STORE_SEALED_MAX) return STORE_ERROR;
	s = fake_secret_put(user_id, TOTP_STATUS_PENDING, sealed, sealed_len, key_id, *params, 0);
	s->created_at = now;
	s->has_challenge_digest = challenge_digest != NULL;
	if (challenge_digest) memcpy(s->challenge_digest, challenge_digest, CHALLENGE_TOKEN_DIGEST_LEN);
	return STORE_OK;
}

/* UPDATE ... SET last_counter = ? WHERE user_id = ? AND status = 'active' AND last_counter < ? */
store_status_t store_secret_advance(store_conn_t *conn, uint64_t user_id, uint64_t counter)
{
	fake_secret_t *s;

	(void)conn;
	if (enter("store_secret_advance")) return STORE_ERROR;
	s = fake_secret(user_id);
	if (!s || s->status != TOTP_STATUS_ACTIVE || !(s->last_counter < counter)) return STORE_CONFLICT;
	s->last_counter = counter;
	return STORE_OK;
}

/* Pending -> active where last_counter < counter (else CONFLICT); then the user's grace deadline is cleared. */
store_status_t store_secret_activate(store_conn_t *conn, uint64_t user_id, uint8_t const *sealed, size_t sealed_len,
				     uint64_t counter, int64_t now)
{
	fake_secret_t *s;
	fake_user_t *u;

	(void)conn;
	if (enter("store_secret_activate")) return STORE_ERROR;
	s = fake_secret(user_id);
	if (!s || s->status != TOTP_STATUS_PENDING || !(s->last_counter < counter)) return STORE_CONFLICT;
	if (s->sealed_len != sealed_len || memcmp(s->sealed, sealed, sealed_len) != 0) return STORE_CONFLICT;
	s->status = TOTP_STATUS_ACTIVE;
	s->last_counter = counter;
	s->has_activated_at = true;
	s->activated_at = now;
	u = fake_user(user_id);
	if (u) {
		u->has_deadline = false;
		u->grace_deadline = 0;
	}
	return STORE_OK;
}

store_status_t store_challenge_create(store_conn_t *conn, uint8_t const digest[CHALLENGE_TOKEN_DIGEST_LEN],
				      uint64_t user_id, challenge_kind_t kind, char const *nas, char const *address,
				      int64_t now, int64_t expires_at, uint32_t attempts)
{
	size_t i;

	(void)conn;
	if (enter("store_challenge_create")) return STORE_ERROR;
	if (challenge_by_digest(digest)) return STORE_CONFLICT;	/* duplicate primary key */
	for (i = 0; i < FAKE_MAX_ROWS; i++) {
		fake_challenge_t *c = &db.challenges[i];

		if (c->used) continue;
		memset(c, 0, sizeof(*c));
		c->used = true;
		memcpy(c->digest, digest, CHALLENGE_TOKEN_DIGEST_LEN);
		c->user_id = user_id;
		c->kind = kind;
		snprintf(c->nas, sizeof(c->nas), "%s", nas);
		snprintf(c->address, sizeof(c->address), "%s", address);
		c->created_at = now;
		c->expires_at = expires_at;
		c->attempts_left = attempts > 255 ? 255 : attempts;	/* TINYINT UNSIGNED */
		return STORE_OK;
	}
	full("challenges");
	return STORE_ERROR;
}

/* attempts_left - 1 WHERE digest AND spent = 0 AND attempts_left > 0 AND expires_at > now; NOT_FOUND otherwise. */
store_status_t store_challenge_take_attempt(store_conn_t *conn, uint8_t const digest[CHALLENGE_TOKEN_DIGEST_LEN],
					    int64_t now)
{
	fake_challenge_t *c;

	(void)conn;
	if (enter("store_challenge_take_attempt")) return STORE_ERROR;
	c = challenge_by_digest(digest);
	if (!c || c->spent || c->attempts_left == 0 || !(c->expires_at > now)) return STORE_NOT_FOUND;
	c->attempts_left--;
	return STORE_OK;
}

store_status_t store_challenge_spend(store_conn_t *conn, uint8_t const digest[CHALLENGE_TOKEN_DIGEST_LEN])
{
	fake_challenge_t *c;

	(void)conn;
	if (enter("store_challenge_spend")) return STORE_ERROR;
	c = challenge_by_digest(digest);
	if (!c || c->spent) return STORE_CONFLICT;
	c->spent = true;
	return STORE_OK;
}

/* The unused codes of the user, by slot. */
store_status_t store_recovery_unused(store_conn_t *conn, uint64_t user_id, store_recovery_set_t *out)
{
	unsigned slot;

	(void)conn;
	memset(out, 0, sizeof(*out));
	if (enter("store_recovery_unused")) return STORE_ERROR;
	for (slot = 0; slot < 256; slot++) {
		fake_recovery_t const *r = fake_recovery(user_id, (uint8_t)slot);

		if (!r || r->used) continue;
		if (out->count == RECOVERY_CODE_COUNT) return STORE_ERROR;
		memcpy(out->salt, r->salt, RECOVERY_SALT_LEN);
		out->slot[out->count] = r->slot;
		memcpy(out->hash[out->count], r->hash, RECOVERY_HASH_LEN);
		out->count++;
	}
	return STORE_OK;
}

store_status_t store_recovery_use(store_conn_t *conn, uint64_t user_id, uint8_t slot, int64_t now)
{
	fake_recovery_t *r;

	(void)conn;
	if (enter("store_recovery_use")) return STORE_ERROR;
	r = fake_recovery(user_id, slot);
	if (!r || r->used) return STORE_CONFLICT;
	r->used = true;
	r->used_at = now;
	return STORE_OK;
}

/* The newest unexpired, unconfirmed confirmation of (user, address). */
store_status_t store_email_pending(store_conn_t *conn, uint64_t user_id, char const *address, int64_t now,
				   store_email_t *out)
{
	fake_email_t const *best = NULL;
	size_t i;

	(void)conn;
	memset(out, 0, sizeof(*out));
	if (enter("store_email_pending")) return STORE_ERROR;
	for (i = 0; i < FAKE_MAX_ROWS; i++) {
		fake_email_t const *e = &db.emails[i];

		if (!e->id || e->user_id != user_id || strcmp(e->address, address) != 0) continue;
		if (!(e->expires_at > now) || e->confirmed) continue;
		if (!best || e->id > best->id) best = e;
	}
	if (!best) return STORE_NOT_FOUND;
	out->id = best->id;
	memcpy(out->salt, best->salt, EMAIL_SALT_LEN);
	memcpy(out->code_hash, best->code_hash, EMAIL_HASH_LEN);
	out->expires_at = best->expires_at;
	out->sent = best->sent;
	return STORE_OK;
}

store_status_t store_email_create(store_conn_t *conn, uint64_t user_id, char const *scope, char const *address,
				  bool may_trust, uint8_t const salt[EMAIL_SALT_LEN], uint8_t const code_hash[EMAIL_HASH_LEN],
				  uint8_t const token_hash[EMAIL_HASH_LEN], int64_t now, int64_t expires_at, uint64_t *id)
{
	size_t i;

	(void)conn;
	if (enter("store_email_create")) return STORE_ERROR;
	for (i = 0; i < FAKE_MAX_ROWS; i++) {
		fake_email_t *e = &db.emails[i];

		if (e->id) continue;
		memset(e, 0, sizeof(*e));
		e->id = db.next_email_id++;
		e->user_id = user_id;
		snprintf(e->scope, sizeof(e->scope), "%s", scope);
		snprintf(e->address, sizeof(e->address), "%s", address);
		e->may_trust = may_trust;
		memcpy(e->salt, salt, EMAIL_SALT_LEN);
		memcpy(e->code_hash, code_hash, EMAIL_HASH_LEN);
		memcpy(e->token_hash, token_hash, EMAIL_HASH_LEN);
		e->created_at = now;
		e->expires_at = expires_at;
		*id = e->id;
		return STORE_OK;
	}
	full("email_confirmations");
	return STORE_ERROR;
}

static fake_email_t *email_by_id(uint64_t id)
{
	size_t i;

	for (i = 0; i < FAKE_MAX_ROWS; i++) {
		if (id && db.emails[i].id == id) return &db.emails[i];
	}
	return NULL;
}

/* New secrets WHERE id AND sent_at IS NULL AND confirmed_at IS NULL: exactly one row or CONFLICT. */
store_status_t store_email_renew(store_conn_t *conn, uint64_t id, uint8_t const salt[EMAIL_SALT_LEN],
				 uint8_t const code_hash[EMAIL_HASH_LEN], uint8_t const token_hash[EMAIL_HASH_LEN],
				 int64_t expires_at)
{
	fake_email_t *e;

	(void)conn;
	if (enter("store_email_renew")) return STORE_ERROR;
	e = email_by_id(id);
	if (!e || e->sent || e->confirmed) return STORE_CONFLICT;
	memcpy(e->salt, salt, EMAIL_SALT_LEN);
	memcpy(e->code_hash, code_hash, EMAIL_HASH_LEN);
	memcpy(e->token_hash, token_hash, EMAIL_HASH_LEN);
	e->expires_at = expires_at;
	return STORE_OK;
}

/* sent_at = now, send_attempts + 1 (STORE_OK whatever it changed). */
store_status_t store_email_mark_sent(store_conn_t *conn, uint64_t id, int64_t now)
{
	fake_email_t *e;

	(void)conn;
	if (enter("store_email_mark_sent")) return STORE_ERROR;
	e = email_by_id(id);
	if (e) {
		e->sent = true;
		e->sent_at = now;
		e->send_attempts++;
	}
	return STORE_OK;
}

store_status_t store_email_sends_since(store_conn_t *conn, uint64_t user_id, int64_t since, uint32_t *count)
{
	size_t i;
	uint32_t n = 0;

	(void)conn;
	*count = 0;
	if (enter("store_email_sends_since")) return STORE_ERROR;
	for (i = 0; i < FAKE_MAX_ROWS; i++) {
		n += db.sends[i].used && db.sends[i].user_id == user_id && db.sends[i].sent_at > since;
	}
	*count = n;
	return STORE_OK;
}

/* Prune the user's sends older than a day, record one at now. */
store_status_t store_email_record_send(store_conn_t *conn, uint64_t user_id, int64_t now)
{
	size_t i;

	(void)conn;
	if (enter("store_email_record_send")) return STORE_ERROR;
	for (i = 0; i < FAKE_MAX_ROWS; i++) {
		if (db.sends[i].used && db.sends[i].user_id == user_id && db.sends[i].sent_at < now - 86400) {
			memset(&db.sends[i], 0, sizeof(db.sends[i]));
		}
	}
	fake_email_send_put(user_id, now);
	return STORE_OK;
}

/* confirmed_at = now, by 'code' WHERE id AND confirmed_at IS NULL AND expires_at > now: one row or CONFLICT. */
store_status_t store_email_confirm_code(store_conn_t *conn, uint64_t id, int64_t now)
{
	fake_email_t *e;

	(void)conn;
	if (enter("store_email_confirm_code")) return STORE_ERROR;
	e = email_by_id(id);
	if (!e || e->confirmed || !(e->expires_at > now)) return STORE_CONFLICT;
	e->confirmed = true;
	e->confirmed_at = now;
	snprintf(e->confirmed_by, sizeof(e->confirmed_by), "code");
	return STORE_OK;
}

/*
 * SELECT ... FROM email_confirmations e JOIN users u LEFT JOIN totp_secrets s
 * WHERE e.token_hash = ? AND e.expires_at > now AND e.confirmed_at IS NULL
 * AND e.sent_at IS NOT NULL: the confirmation with its user's state now.
 */
store_status_t store_email_by_token(store_conn_t *conn, uint8_t const token_hash[EMAIL_HASH_LEN], int64_t now,
				    store_email_link_t *out)
{
	size_t i;

	(void)conn;
	memset(out, 0, sizeof(*out));
	if (enter("store_email_by_token")) return STORE_ERROR;
	for (i = 0; i < FAKE_MAX_ROWS; i++) {
		fake_email_t const *e = &db.emails[i];
		fake_user_t const *u;
		fake_secret_t const *s;

		if (!e->id || memcmp(e->token_hash, token_hash, EMAIL_HASH_LEN) != 0) continue;
		if (!(e->expires_at > now) || e->confirmed || !e->sent) continue;
		u = fake_user(e->user_id);
		if (!u) continue;	/* the JOIN */
		s = fake_secret(e->user_id);
		out->id = e->id;
		out->user_id = e->user_id;
		out->company_id = u->company_id;
		snprintf(out->login, sizeof(out->login), "%s", u->login);
		snprintf(out->scope, sizeof(out->scope), "%s", e->scope);
		snprintf(out->address, sizeof(out->address), "%s", e->address);
		out->may_trust = e->may_trust;
		out->user_disabled = u->disabled;
		out->twofa_active = s && s->status == TOTP_STATUS_ACTIVE;
		return STORE_OK;
	}
	return STORE_NOT_FOUND;
}

/* confirmed_at = now, by 'link' WHERE id AND confirmed_at IS NULL AND expires_at > now: one row, else NOT_FOUND. */
store_status_t store_email_confirm_link(store_conn_t *conn, uint64_t id, int64_t now)
{
	fake_email_t *e;

	(void)conn;
	if (enter("store_email_confirm_link")) return STORE_ERROR;
	e = email_by_id(id);
	if (!e || e->confirmed || !(e->expires_at > now)) return STORE_NOT_FOUND;
	e->confirmed = true;
	e->confirmed_at = now;
	snprintf(e->confirmed_by, sizeof(e->confirmed_by), "link");
	return STORE_OK;
}

store_status_t store_audit(store_conn_t *conn, int64_t now, char const *actor, uint64_t user_id,
			   uint64_t company_id, char const *event, char const *detail, char const *source)
{
	fake_audit_t *a;

	(void)conn;
	if (enter("store_audit")) return STORE_ERROR;
	if (db.naudit == sizeof(db.audit) / sizeof(db.audit[0])) full("audit_log");
	a = &db.audit[db.naudit++];
	a->at = now;
	snprintf(a->actor, sizeof(a->actor), "%s", actor);
	a->user_id = user_id;
	a->company_id = company_id;
	snprintf(a->event, sizeof(a->event), "%s", event);
	snprintf(a->detail, sizeof(a->detail), "%s", detail ? detail : "");
	snprintf(a->source, sizeof(a->source), "%s", source ? source : "");
	return STORE_OK;
}

/*
 * store_hash_profiles: the users' hashes grouped by password_profile, the
 * most common first (ties: first seen), one sample each.
 */
store_status_t store_hash_profiles(store_conn_t *conn, store_hash_profile_t *out, size_t max, size_t *count)
{
	char profiles[FAKE_MAX_ROWS][PASSWORD_HASH_MAX + 1];
	uint64_t users[FAKE_MAX_ROWS];
	size_t samples[FAKE_MAX_ROWS];
	size_t n = 0, i, j;
	char p[PASSWORD_HASH_MAX + 1];

	(void)conn;
	*count = 0;
	if (enter("store_hash_profiles")) return STORE_ERROR;
	for (i = 0; i < db.nusers; i++) {
		if (!db.users[i].has_password_hash || password_profile(db.users[i].password_hash, p, sizeof(p)) != 0) continue;
		for (j = 0; j < n && strcmp(profiles[j], p) != 0; j++);
		if (j == n) {
			memcpy(profiles[n], p, sizeof(p));
			users[n] = 0;
			samples[n] = i;
			n++;
		}
		users[j]++;
	}
	while (*count < max && *count < n) {	/* selection by weight, stable */
		size_t best = n;

		for (j = 0; j < n; j++) {
			if (users[j] > 0 && (best == n || users[j] > users[best])) best = j;
		}
		if (best == n) break;
		snprintf(out[*count].sample, sizeof(out[*count].sample), "%s", db.users[samples[best]].password_hash);
		out[*count].users = users[best];
		users[best] = 0;
		(*count)++;
	}
	return STORE_OK;
}

/* ---- transactions ---- */

/*
 * Put the tables back as *saved has them, keeping the call log, the armed
 * failures and the transaction counters (a rollback undoes only data).
 */
static void restore_tables(void const *saved)
{
	char const *calls[FAKE_CALLS_MAX];
	size_t ncalls = db.ncalls, fail_call = db.fail_call, since = db.calls_since_armed, nth = db.fail_nth;
	size_t fsince = db.function_calls_since_armed, conflicts = db.conflicts_armed;
	size_t transactions = db.transactions, rollbacks = db.rollbacks;
	char fail_function[sizeof(db.fail_function)], before_function[sizeof(db.before_function)];
	char last_error[sizeof(db.conn.last_error)];
	void (*before_fn)(void) = db.before_fn;
	bool failed = db.failed, race = db.race_next_lock;

	memcpy(calls, db.calls, sizeof(calls));
	memcpy(fail_function, db.fail_function, sizeof(fail_function));
	memcpy(before_function, db.before_function, sizeof(before_function));
	memcpy(last_error, db.conn.last_error, sizeof(last_error));
	memcpy(&db, saved, sizeof(db));
	memcpy(db.calls, calls, sizeof(calls));
	db.ncalls = ncalls;
	db.fail_call = fail_call;
	db.calls_since_armed = since;
	db.fail_nth = nth;
	db.function_calls_since_armed = fsince;
	db.conflicts_armed = conflicts;
	db.transactions = transactions;
	db.rollbacks = rollbacks;
	memcpy(db.fail_function, fail_function, sizeof(fail_function));
	memcpy(db.before_function, before_function, sizeof(before_function));
	memcpy(db.conn.last_error, last_error, sizeof(last_error));
	db.before_fn = before_fn;
	db.failed = failed;
	db.race_next_lock = race;
}

store_status_t store_transaction_start(store_conn_t *conn)
{
	(void)conn;
	if (enter("store_transaction_start")) return STORE_ERROR;
	if (db.in_transaction) {
		snprintf(db.conn.last_error, sizeof(db.conn.last_error), "a transaction is already open");
		return STORE_ERROR;
	}
	transaction_saved = fake_store_save();
	db.in_transaction = true;
	db.transaction_failed = false;
	db.transactions++;
	return STORE_OK;
}

store_status_t store_transaction_end(store_conn_t *conn)
{
	store_status_t status = STORE_OK;
	void *saved = transaction_saved;

	(void)conn;
	if (!db.in_transaction || !saved) {
		snprintf(db.conn.last_error, sizeof(db.conn.last_error), "no transaction to end");
		return STORE_ERROR;
	}
	if (db.transaction_failed) {
		status = STORE_ERROR;
	} else if (enter("store_transaction_end")) {
		status = STORE_ERROR;	/* the COMMIT failed */
	} else if (db.conflicts_armed) {
		db.conflicts_armed--;
		snprintf(db.conn.last_error, sizeof(db.conn.last_error), "injected certification conflict");
		status = STORE_RETRY;
	}
	db.in_transaction = false;
	db.transaction_failed = false;
	transaction_saved = NULL;
	if (status != STORE_OK) {
		restore_tables(saved);	/* saved before the start: no transaction, none failed */
		db.rollbacks++;
	}
	free(saved);
	return status;
}

void fake_transaction_conflicts(size_t n)
{
	db.conflicts_armed = n;
}

size_t fake_transactions(void)
{
	return db.transactions;
}

size_t fake_rollbacks(void)
{
	return db.rollbacks;
}

bool fake_in_transaction(void)
{
	return db.in_transaction;
}
