/*
 * store_check.c - the read-only queries of "vrms2fa-admin check" (see
 * store_check.h): schema version, the account's privileges, key ids in use.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "store_private.h"
#include "store_check.h"

static char const SQL_SCHEMA_TABLE_EXISTS[] =
	"SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'schema_version'";
static char const SQL_SCHEMA_MAX[] = "SELECT COALESCE(MAX(version), 0) FROM schema_version";

store_status_t store_check_schema_version(store_conn_t *conn, uint32_t *version, bool *found)
{
	int64_t tables = 0, v = 0;
	store_col_t count_cols[] = { C_I64(&tables, NULL) };
	store_col_t max_cols[] = { C_I64(&v, NULL) };
	store_status_t rc;

	*version = 0;
	*found = false;
	rc = store_run(conn, SQL_SCHEMA_TABLE_EXISTS, NULL, 0, count_cols, NELEMS(count_cols), NULL, NULL, NULL, NULL);
	if (rc != STORE_OK || tables == 0) return rc;
	rc = store_run(conn, SQL_SCHEMA_MAX, NULL, 0, max_cols, NELEMS(max_cols), NULL, NULL, NULL, NULL);
	if (rc != STORE_OK) return rc;
	*found = true;
	*version = (uint32_t)v;
	return STORE_OK;
}

static char const *const priv_names[STORE_PRIV_COUNT] = {
	"SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "ALTER", "INDEX", "REFERENCES", "DROP", "other privileges"
};

char const *store_priv_name(unsigned bit)
{
	unsigned i;

	for (i = 0; i < STORE_PRIV_COUNT; i++) {
		if (bit == (1u << i)) return priv_names[i];
	}
	return NULL;
}

/* The bit of one privilege word of a GRANT line ("SELECT", "ALL PRIVILEGES"), 0 for USAGE. */
static unsigned priv_bit(char const *word, size_t len)
{
	unsigned i;

	if ((len == 3 && strncasecmp(word, "ALL", 3) == 0) || (len == 14 && strncasecmp(word, "ALL PRIVILEGES", 14) == 0)) {
		return (1u << STORE_PRIV_COUNT) - 1;
	}
	if (len == 5 && strncasecmp(word, "USAGE", 5) == 0) return 0;
	for (i = 0; i + 1 < STORE_PRIV_COUNT; i++) {
		if (strlen(priv_names[i]) == len && strncasecmp(word, priv_names[i], len) == 0) return 1u << i;
	}
	return STORE_PRIV_OTHER;
}

/*
 * SQL LIKE with the grant tables' rules: % any run, _ one character, \
 * escapes the next; case-sensitive (database names are, on Linux).
 */
static bool like_match(char const *p, char const *s)
{
	for (; *p; p++, s++) {
		if (*p == '%') {
			for (;;) {
				if (like_match(p + 1, s)) return true;
				if (!*s) return false;
				s++;
			}
		}
		if (!*s) return false;
		if (*p == '\\' && p[1]) {
			p++;
			if (*p != *s) return false;
		} else if (*p != '_' && *p != *s) {
			return false;
		}
	}
	return *s == '\0';
}

/*
 * Does the object of a GRANT line ("*.*", "`db`.*") cover database db?
 * Table, routine and proxy grants do not.
 */
static bool object_covers(char const *obj, size_t len, char const *db)
{
	char name[130];
	size_t i = 1, n = 0;

	if (len == 3 && memcmp(obj, "*.*", 3) == 0) return true;
	if (len < 5 || obj[0] != '`') return false;
	while (i < len) {
		if (obj[i] == '`') {
			if (i + 1 < len && obj[i + 1] == '`') {	/* a doubled backquote is one */
				i++;
			} else {
				break;
			}
		}
		if (n + 1 >= sizeof(name)) return false;
		name[n++] = obj[i++];
	}
	name[n] = '\0';
	if (i >= len || len - i != 3 || memcmp(obj + i, "`.*", 3) != 0) return false;
	return like_match(name, db);
}

/* Add the privileges of one SHOW GRANTS line that apply to db. */
static unsigned grant_line_privileges(char const *line, char const *db)
{
	char const *on, *to, *p, *end;
	unsigned held = 0;

	if (strncmp(line, "GRANT ", 6) != 0) return 0;
	on = strstr(line, " ON ");
	if (!on) return 0;		/* a role grant */
	to = strstr(on + 4, " TO ");
	if (!to) return 0;
	if (!object_covers(on + 4, (size_t)(to - (on + 4)), db)) return 0;
	for (p = line + 6; p < on; p = end + 1) {
		size_t len;

		end = memchr(p, ',', (size_t)(on - p));
		if (!end) end = on;
		while (p < end && *p == ' ') p++;
		len = (size_t)(end - p);
		while (len && p[len - 1] == ' ') len--;
		if (len) held |= priv_bit(p, len);
		if (end == on) break;
	}
	return held;
}

static char const SQL_WHO[] = "SELECT CURRENT_USER(), COALESCE(DATABASE(), '')";
static char const SQL_SHOW_GRANTS[] = "SHOW GRANTS";

typedef struct {
	char		line[8192];
	char const	*db;
	unsigned	held;
} grant_rows_t;

static int grant_row(void *arg)
{
	grant_rows_t *g = arg;

	g->held |= grant_line_privileges(g->line, g->db);
	return 0;
}

store_status_t store_check_grants(store_conn_t *conn, store_grants_t *out)
{
	static grant_rows_t g;	/* large buffer; the admin tool is single-threaded */
	store_col_t who_cols[] = { C_TEXT(out->account, sizeof(out->account), NULL),
				   C_TEXT(out->database, sizeof(out->database), NULL) };
	store_col_t grant_cols[] = { C_TEXT(g.line, sizeof(g.line), NULL) };
	store_status_t rc;

	memset(out, 0, sizeof(*out));
	rc = store_run(conn, SQL_WHO, NULL, 0, who_cols, NELEMS(who_cols), NULL, NULL, NULL, NULL);
	if (rc != STORE_OK) return rc;
	memset(&g, 0, sizeof(g));
	g.db = out->database;
	rc = store_run(conn, SQL_SHOW_GRANTS, NULL, 0, grant_cols, NELEMS(grant_cols), grant_row, &g, NULL, NULL);
	out->held = g.held;
	memset(g.line, 0, sizeof(g.line));	/* a line may carry the account's password hash */
	return rc;
}

static char const SQL_KEY_IDS[] =
	"SELECT t.key_id, k.n, t.user_id, t.sealed FROM totp_secrets t"
	" JOIN (SELECT key_id, COUNT(*) AS n, MIN(user_id) AS first_user FROM totp_secrets GROUP BY key_id) k"
	" ON t.key_id = k.key_id AND t.user_id = k.first_user ORDER BY t.key_id";

typedef struct {
	int64_t			key_id;
	int64_t			count;
	uint64_t		user_id;
	uint8_t			sealed[STORE_SEALED_MAX];
	size_t			sealed_len;
	store_check_key_fn	fn;
	void			*arg;
} key_rows_t;

static int key_row(void *arg)
{
	key_rows_t *k = arg;

	return k->fn((uint32_t)k->key_id, (uint64_t)k->count, k->user_id, k->sealed, k->sealed_len, k->arg) == 0 ? 0 : -1;
}

store_status_t store_check_key_ids(store_conn_t *conn, store_check_key_fn fn, void *arg)
{
	key_rows_t k = { .fn = fn, .arg = arg };
	store_col_t cols[] = { C_I64(&k.key_id, NULL), C_I64(&k.count, NULL), C_U64(&k.user_id, NULL),
			       C_BLOB(k.sealed, sizeof(k.sealed), &k.sealed_len, NULL) };

	return store_run(conn, SQL_KEY_IDS, NULL, 0, cols, NELEMS(cols), key_row, &k, NULL, NULL);
}
