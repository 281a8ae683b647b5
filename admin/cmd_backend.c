/*
 * cmd_backend.c - the commands the VRMS web backend runs to keep the users
 * of its companies in step and to read their state:
 *
 *   user list [--company NAME] [--group G] [--status S]
 *   user delete LOGIN
 *   user sync [--dry-run] [--batch N]      JSON lines on standard input
 *   company list
 *   policy show COMPANY
 *
 * all with --json (doc/vrms2fa-admin.8).  The SQL is in
 * rlm_vrms2fa/store/store_backend.c; JSON lines are read with json-c
 * (sync_json.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "admin.h"
#include "sync_json.h"
#include "../rlm_vrms2fa/core/password.h"
#include "../rlm_vrms2fa/core/text.h"
#include "../rlm_vrms2fa/store/store_backend.h"

#define SYNC_LINE_MAX		65536
#define SYNC_BATCH_DEFAULT	1000
#define SYNC_BATCH_MAX		100000

/* ---------------------------------------------------------------- user list */

typedef struct {
	admin_t		*a;
	json_t		j;
	uint64_t	count;
} list_out_t;

static int print_list_user(store_backend_user_t const *u, void *arg)
{
	list_out_t *o = arg;

	o->count++;
	if (o->a->json) {
		json_t *j = &o->j;

		json_open(j, NULL, '{');
		json_str(j, "login", u->login);
		json_str(j, "company", u->company);
		json_str(j, "group", policy_group_name(u->group));
		if (u->has_email) json_str(j, "email", u->email);
		else json_null(j, "email");
		json_bool(j, "disabled", u->disabled);
		json_str(j, "totp_status", totp_status_name(u->totp_status));
		json_bool(j, "has_password", u->has_password_hash);
		if (u->has_deadline) json_int(j, "grace_deadline", u->grace_deadline);
		else json_null(j, "grace_deadline");
		json_close(j, '}');
		return 0;
	}
	printf("%s\t%s\t%s\t%s\t%s\t%s\n", u->login, u->company, policy_group_name(u->group),
	       u->disabled ? "disabled" : "enabled", totp_status_name(u->totp_status), u->has_email ? u->email : "-");
	return 0;
}

int cmd_user_list(admin_t *a, int argc, char **argv)
{
	static char const usage[] =
		"vrms2fa-admin user list [--company NAME] [--group GROUP] [--status enabled|disabled|active|pending|none]\n"
		"  one user a line: login, company, group, enabled/disabled, 2FA status (active, pending, none), email";
	char const *company = NULL, *group = NULL, *status = NULL;
	admin_option_t const opts[] = {
		{ "--company", true, &company, NULL }, { "--group", true, &group, NULL },
		{ "--status", true, &status, NULL }, { NULL, false, NULL, NULL },
	};
	store_backend_filter_t f;
	list_out_t o;
	int rc;

	admin_parse(argc, argv, opts, NULL, 0, 0, usage);
	memset(&f, 0, sizeof(f));
	f.company = company;
	if (group) {
		if (policy_group_parse(group, &f.group) != 0) {
			fprintf(stderr, "vrms2fa-admin: bad group '%s': use administrator, company_user, owner or supplier\n"
				"usage: %s\n", group, usage);
			return EXIT_USAGE;
		}
		f.by_group = true;
	}
	if (status) {
		if (strcmp(status, "enabled") == 0 || strcmp(status, "disabled") == 0) {
			f.by_disabled = true;
			f.disabled = strcmp(status, "disabled") == 0;
		} else if (strcmp(status, "active") == 0 || strcmp(status, "pending") == 0 || strcmp(status, "none") == 0) {
			f.totp = status;
		} else {
			fprintf(stderr, "vrms2fa-admin: bad status '%s'\nusage: %s\n", status, usage);
			return EXIT_USAGE;
		}
	}
	if ((rc = admin_connect(a))) return rc;
	if (company) {
		store_company_t c;
		store_status_t s = store_company_get(a->conn, company, &c);

		if (s == STORE_NOT_FOUND) return admin_fail("no such company: %s", company);
		if (s != STORE_OK) return admin_db_fail(a, "company lookup");
	}
	memset(&o, 0, sizeof(o));
	o.a = a;
	if (a->json) {
		json_open(&o.j, NULL, '{');
		json_open(&o.j, "users", '[');
	}
	if (store_backend_users(a->conn, &f, false, print_list_user, &o) != STORE_OK) {
		if (a->json) printf("\n");
		return admin_db_fail(a, "user list");
	}
	if (a->json) {
		json_close(&o.j, ']');
		json_int(&o.j, "count", (int64_t)o.count);
		json_close(&o.j, '}');
		json_end(&o.j);
	}
	return 0;
}

/* -------------------------------------------------------------- user delete */

typedef struct {
	char const		*login;
	store_user_t		u;
	store_backend_deleted_t	deleted;
} delete_tx_t;

static store_status_t delete_tx(admin_t *a, void *arg)
{
	delete_tx_t *t = arg;
	store_backend_deleted_t *d = &t->deleted;
	char detail[512];
	store_status_t rc;

	rc = store_user_get(a->conn, t->login, &t->u);
	if (rc != STORE_OK) return rc;
	rc = store_backend_user_delete(a->conn, t->u.id, t->u.login, d);
	if (rc != STORE_OK) return rc;
	snprintf(detail, sizeof(detail), "%s (%s, %s): %llu trusted addresses, %llu secret, %llu recovery codes, "
		 "%llu challenges, %llu email confirmations, %llu failure records", t->u.login, t->u.company.name,
		 policy_group_name(t->u.group), (unsigned long long)d->trusted_addresses,
		 (unsigned long long)d->totp_secrets, (unsigned long long)d->recovery_codes,
		 (unsigned long long)d->challenges, (unsigned long long)d->email_confirmations,
		 (unsigned long long)d->login_failures);
	/* in the transaction: the deletion and its audit row are one */
	return store_audit(a->conn, a->now, "vrms2fa-admin", t->u.id, t->u.company.id, "user_deleted", detail,
			   "vrms2fa-admin");
}

int cmd_user_delete(admin_t *a, int argc, char **argv)
{
	static char const usage[] = "vrms2fa-admin user delete LOGIN\n"
		"  removes the user with its trusted addresses, secret, recovery codes, challenges, email\n"
		"  confirmations and failure records, in one transaction; audited";
	char const *pos[1] = { NULL };
	delete_tx_t t;
	store_status_t s;
	int rc;

	admin_parse(argc, argv, NULL, pos, 1, 0, usage);
	if ((rc = admin_connect(a))) return rc;
	memset(&t, 0, sizeof(t));
	t.login = pos[0];
	s = admin_transaction(a, delete_tx, &t);
	if (s == STORE_NOT_FOUND) return admin_fail("no such user: %s", pos[0]);
	if (s != STORE_OK) return admin_db_fail(a, "user delete");
	if (a->json) {
		json_t j = { 0 };

		json_open(&j, NULL, '{');
		json_str(&j, "deleted", t.u.login);
		json_str(&j, "company", t.u.company.name);
		json_open(&j, "removed", '{');
		json_int(&j, "trusted_addresses", (int64_t)t.deleted.trusted_addresses);
		json_int(&j, "totp_secrets", (int64_t)t.deleted.totp_secrets);
		json_int(&j, "recovery_codes", (int64_t)t.deleted.recovery_codes);
		json_int(&j, "challenges", (int64_t)t.deleted.challenges);
		json_int(&j, "email_confirmations", (int64_t)t.deleted.email_confirmations);
		json_int(&j, "email_sends", (int64_t)t.deleted.email_sends);
		json_int(&j, "login_failures", (int64_t)t.deleted.login_failures);
		json_close(&j, '}');
		json_close(&j, '}');
		json_end(&j);
	} else {
		printf("deleted %s (%s): %llu trusted addresses, %llu secret, %llu recovery codes, %llu challenges, "
		       "%llu email confirmations, %llu failure records\n", t.u.login, t.u.company.name,
		       (unsigned long long)t.deleted.trusted_addresses, (unsigned long long)t.deleted.totp_secrets,
		       (unsigned long long)t.deleted.recovery_codes, (unsigned long long)t.deleted.challenges,
		       (unsigned long long)t.deleted.email_confirmations, (unsigned long long)t.deleted.login_failures);
	}
	return 0;
}

/* ------------------------------------------------------------- company list */

typedef struct {
	admin_t	*a;
	json_t	j;
} company_out_t;

static int print_company(store_backend_company_t const *c, void *arg)
{
	company_out_t *o = arg;
	char groups[128];

	if (policy_group_mask_format(c->company.group_mask, groups, sizeof(groups)) != 0) groups[0] = '\0';
	if (o->a->json) {
		json_t *j = &o->j;

		json_open(j, NULL, '{');
		json_str(j, "name", c->company.name);
		json_str(j, "level", policy_level_name(c->company.level));
		json_open(j, "groups", '[');
		for (unsigned g = 0; g < GROUP_COUNT; g++) {
			if (c->company.group_mask & (1u << g)) json_str(j, NULL, policy_group_name((user_group_t)g));
		}
		json_close(j, ']');
		json_int(j, "grace_days", c->company.grace_days);
		json_int(j, "users", (int64_t)c->users);
		json_int(j, "disabled", (int64_t)c->disabled);
		json_int(j, "enrolled", (int64_t)c->enrolled);
		json_close(j, '}');
		return 0;
	}
	printf("%s\t%s\t%s\t%u days\t%llu users\t%llu enrolled\t%llu disabled\n", c->company.name,
	       policy_level_name(c->company.level), groups[0] ? groups : "-", c->company.grace_days,
	       (unsigned long long)c->users, (unsigned long long)c->enrolled, (unsigned long long)c->disabled);
	return 0;
}

int cmd_company_list(admin_t *a, int argc, char **argv)
{
	static char const usage[] = "vrms2fa-admin company list\n"
		"  one company a line: name, level, groups, grace days, users, enrolled (2FA active), disabled";
	company_out_t o;
	int rc;

	admin_parse(argc, argv, NULL, NULL, 0, 0, usage);
	if ((rc = admin_connect(a))) return rc;
	memset(&o, 0, sizeof(o));
	o.a = a;
	if (a->json) {
		json_open(&o.j, NULL, '{');
		json_open(&o.j, "companies", '[');
	}
	if (store_backend_companies(a->conn, print_company, &o) != STORE_OK) {
		if (a->json) printf("\n");
		return admin_db_fail(a, "company list");
	}
	if (a->json) {
		json_close(&o.j, ']');
		json_close(&o.j, '}');
		json_end(&o.j);
	}
	return 0;
}

/* -------------------------------------------------------------- policy show */

int cmd_policy_show(admin_t *a, int argc, char **argv)
{
	static char const usage[] = "vrms2fa-admin policy show COMPANY\n"
		"  the level, the groups it makes 2FA mandatory for, the grace days, and where the enabled users\n"
		"  those groups cover stand: enrolled, in their grace period, past their deadline";
	char const *pos[1] = { NULL };
	store_backend_policy_counts_t n;
	store_company_t c;
	store_status_t s;
	unsigned mask;
	char groups[128];
	int rc;

	admin_parse(argc, argv, NULL, pos, 1, 0, usage);
	if ((rc = admin_connect(a))) return rc;
	s = store_company_get(a->conn, pos[0], &c);
	if (s == STORE_NOT_FOUND) return admin_fail("no such company: %s", pos[0]);
	if (s != STORE_OK) return admin_db_fail(a, "policy show");
	mask = c.level == LEVEL_HIGH ? c.group_mask : 0;	/* the low level makes nothing mandatory */
	if (store_backend_policy_counts(a->conn, c.id, mask, a->now, &n) != STORE_OK) return admin_db_fail(a, "policy show");
	if (policy_group_mask_format(c.group_mask, groups, sizeof(groups)) != 0) groups[0] = '\0';
	if (a->json) {
		json_t j = { 0 };

		json_open(&j, NULL, '{');
		json_str(&j, "company", c.name);
		json_str(&j, "level", policy_level_name(c.level));
		json_open(&j, "groups", '[');
		for (unsigned g = 0; g < GROUP_COUNT; g++) {
			if (c.group_mask & (1u << g)) json_str(&j, NULL, policy_group_name((user_group_t)g));
		}
		json_close(&j, ']');
		json_int(&j, "grace_days", c.grace_days);
		json_int(&j, "users", (int64_t)n.users);
		json_int(&j, "mandatory", (int64_t)n.covered);
		json_int(&j, "enrolled", (int64_t)n.enrolled);
		json_int(&j, "in_grace", (int64_t)n.in_grace);
		json_int(&j, "past_deadline", (int64_t)n.past_deadline);
		json_close(&j, '}');
		json_end(&j);
		return 0;
	}
	printf("company:        %s\n", c.name);
	printf("level:          %s\n", policy_level_name(c.level));
	printf("groups:         %s\n", groups[0] ? groups : "(none)");
	printf("grace days:     %u\n", c.grace_days);
	printf("enabled users:  %llu\n", (unsigned long long)n.users);
	printf("2FA mandatory:  %llu (enrolled %llu, in grace %llu, past deadline %llu)\n",
	       (unsigned long long)n.covered, (unsigned long long)n.enrolled, (unsigned long long)n.in_grace,
	       (unsigned long long)n.past_deadline);
	return 0;
}

/* ---------------------------------------------------------------- user sync */

/* One line of the input. */
typedef struct {
	size_t		line;
	char		*login;
	char		*company;
	user_group_t	group;
	char		*email;		/* NULL: none */
	bool		hash_given;	/* the key was there (a string or null) */
	char		*hash;		/* NULL: none here */
	bool		disabled;
} sync_in_t;

/* One user of the database, as read before the sync. */
typedef struct {
	uint64_t	id;
	uint64_t	company_id;
	char		*login;
	char		*email;		/* NULL: none */
	char		*hash;		/* NULL: none */
	user_group_t	group;
	bool		disabled;
	bool		has_deadline;
	bool		active;		/* 2FA active */
	bool		seen;		/* named by the input */
} sync_db_t;

typedef struct {
	store_company_t	c;
	bool		named;		/* a line of the input names it: its absent users are disabled */
} sync_company_t;

enum {
	CHANGE_COMPANY	= 1 << 0,
	CHANGE_GROUP	= 1 << 1,
	CHANGE_EMAIL	= 1 << 2,
	CHANGE_PASSWORD	= 1 << 3,
	CHANGE_DISABLED	= 1 << 4,
};

typedef enum { OP_ADD, OP_CHANGE, OP_DISABLE } sync_op_kind_t;

typedef struct {
	sync_op_kind_t	kind;
	sync_in_t	*in;		/* OP_ADD, OP_CHANGE */
	sync_db_t	*db;		/* OP_CHANGE, OP_DISABLE */
	sync_company_t	*company;	/* the user's company after the op */
	unsigned	changes;
} sync_op_t;

typedef struct {
	admin_t		*a;
	sync_in_t	*in;
	size_t		nin;
	sync_db_t	*db;
	size_t		ndb, capdb;
	sync_db_t	**db_by_login;
	sync_company_t	*companies;
	size_t		ncompanies, capcompanies;
	sync_op_t	*ops;
	size_t		nops;
	size_t		batch_start, batch_end;	/* the ops of the running transaction */
} sync_t;

static int by_db_login(void const *x, void const *y)
{
	return strcmp((*(sync_db_t * const *)x)->login, (*(sync_db_t * const *)y)->login);
}

static int by_in_login(void const *x, void const *y)
{
	return strcmp(((sync_in_t const *)x)->login, ((sync_in_t const *)y)->login);
}

static sync_db_t *find_db(sync_t *s, char const *login)
{
	sync_db_t key = { .login = (char *)(uintptr_t)login }, *pkey = &key, **found;

	found = bsearch(&pkey, s->db_by_login, s->ndb, sizeof(s->db_by_login[0]), by_db_login);
	return found ? *found : NULL;
}

static sync_company_t *find_company_by_name(sync_t *s, char const *name)
{
	for (size_t i = 0; i < s->ncompanies; i++) {
		if (strcmp(s->companies[i].c.name, name) == 0) return &s->companies[i];
	}
	return NULL;
}

static sync_company_t *find_company_by_id(sync_t *s, uint64_t id)
{
	for (size_t i = 0; i < s->ncompanies; i++) {
		if (s->companies[i].c.id == id) return &s->companies[i];
	}
	return NULL;
}

/* Keep a malloc'd string of json in the command's talloc context (NULL stays NULL). */
static int keep(sync_t *s, char const *from, char **to)
{
	*to = NULL;
	if (!from) return 0;
	*to = talloc_strdup(s->a->ctx, from);
	return *to ? 0 : -1;
}

/* Parse and check one line into *u.  0 ok, -1 after a message naming the line. */
static int parse_line(sync_t *s, char const *text, size_t line, sync_in_t *u)
{
	sync_json_user_t j;
	char err[160];
	int rc = -1;

	memset(u, 0, sizeof(*u));
	u->line = line;
	if (sync_json_parse(text, &j, err, sizeof(err)) != 0) {
		admin_fail("user sync: line %zu: %s", line, err);
		return -1;
	}
	if (keep(s, j.login, &u->login) || keep(s, j.company, &u->company) || keep(s, j.email, &u->email) ||
	    keep(s, j.password_hash, &u->hash)) {
		admin_fail("out of memory");
		goto done;
	}
	u->hash_given = j.hash_given;
	u->disabled = j.disabled;
	if (!text_login_name_valid((uint8_t const *)u->login, strlen(u->login), TEXT_LOGIN_MAX)) {
		admin_fail("user sync: line %zu: bad login name: 1 to %d bytes of UTF-8, no control characters", line,
			   TEXT_LOGIN_MAX);
		goto done;
	}
	if (policy_group_parse(j.group, &u->group) != 0) {
		admin_fail("user sync: line %zu: bad group: use administrator, company_user, owner or supplier", line);
		goto done;
	}
	if (u->email && !admin_email_valid(u->email)) {
		admin_fail("user sync: line %zu: bad email address: %s", line, u->email);
		goto done;
	}
	if (u->hash && !password_hash_supported(u->hash)) {
		admin_fail("user sync: line %zu: unsupported password hash: use bcrypt ($2y$/$2b$), sha512-crypt ($6$), "
			   "yescrypt ($y$) or argon2id ($argon2id$)", line);
		goto done;
	}
	rc = 0;
done:
	sync_json_free(&j);
	return rc;
}

/* Read and check every line of standard input.  0 ok, else an exit status. */
static int read_input(sync_t *s)
{
	char *line = NULL;
	size_t cap = 0, nline = 0, capin = 0;
	ssize_t n;

	while ((n = getline(&line, &cap, stdin)) >= 0) {
		size_t len = (size_t)n;
		char const *p;

		nline++;
		if ((size_t)n > SYNC_LINE_MAX) {
			free(line);
			return admin_fail("user sync: line %zu: longer than %d bytes", nline, SYNC_LINE_MAX);
		}
		if (memchr(line, '\0', len)) {
			free(line);
			return admin_fail("user sync: line %zu: holds a NUL byte", nline);
		}
		for (p = line; *p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'; p++);
		if (*p == '\0') continue;	/* blank */
		if (s->nin == capin) {
			sync_in_t *grown;

			capin = capin ? capin * 2 : 1024;
			grown = talloc_realloc(s->a->ctx, s->in, sync_in_t, capin);
			if (!grown) {
				free(line);
				return admin_fail("out of memory");
			}
			s->in = grown;
		}
		if (parse_line(s, line, nline, &s->in[s->nin]) != 0) {
			free(line);
			return EXIT_REFUSED;
		}
		s->nin++;
	}
	free(line);
	if (ferror(stdin)) return admin_fail("user sync: cannot read standard input: %s", strerror(errno));
	return 0;
}

static int collect_company(store_backend_company_t const *c, void *arg)
{
	sync_t *s = arg;

	if (s->ncompanies == s->capcompanies) {
		sync_company_t *grown;

		s->capcompanies = s->capcompanies ? s->capcompanies * 2 : 64;
		grown = talloc_realloc(s->a->ctx, s->companies, sync_company_t, s->capcompanies);
		if (!grown) return -1;
		s->companies = grown;
	}
	memset(&s->companies[s->ncompanies], 0, sizeof(s->companies[0]));
	s->companies[s->ncompanies++].c = c->company;
	return 0;
}

static int collect_user(store_backend_user_t const *u, void *arg)
{
	sync_t *s = arg;
	sync_db_t *d;

	if (s->ndb == s->capdb) {
		sync_db_t *grown;

		s->capdb = s->capdb ? s->capdb * 2 : 1024;
		grown = talloc_realloc(s->a->ctx, s->db, sync_db_t, s->capdb);
		if (!grown) return -1;
		s->db = grown;
	}
	d = &s->db[s->ndb];
	memset(d, 0, sizeof(*d));
	d->id = u->id;
	d->company_id = u->company_id;
	d->login = talloc_strdup(s->a->ctx, u->login);
	d->email = u->has_email ? talloc_strdup(s->a->ctx, u->email) : NULL;
	d->hash = u->has_password_hash ? talloc_strdup(s->a->ctx, u->password_hash) : NULL;
	if (!d->login || (u->has_email && !d->email) || (u->has_password_hash && !d->hash)) return -1;
	d->group = u->group;
	d->disabled = u->disabled;
	d->has_deadline = u->has_deadline;
	d->active = u->totp_status == TOTP_STATUS_ACTIVE;
	s->ndb++;
	return 0;
}

static bool same_text(char const *x, char const *y)
{
	if (!x || !y) return x == y;
	return strcmp(x, y) == 0;
}

/* Compare the input with the database and list the operations.  0 ok, else an exit status. */
static int plan(sync_t *s)
{
	size_t i;

	s->ops = talloc_zero_array(s->a->ctx, sync_op_t, s->nin + s->ndb + 1);
	if (!s->ops) return admin_fail("out of memory");
	for (i = 0; i < s->nin; i++) {
		sync_in_t *in = &s->in[i];
		sync_company_t *c = find_company_by_name(s, in->company);
		sync_db_t *d;
		unsigned changes = 0;

		if (!c) return admin_fail("user sync: line %zu: no such company: %s (company add first)", in->line, in->company);
		c->named = true;
		d = find_db(s, in->login);
		if (!d) {
			s->ops[s->nops++] = (sync_op_t){ .kind = OP_ADD, .in = in, .company = c };
			continue;
		}
		d->seen = true;
		if (d->company_id != c->c.id) changes |= CHANGE_COMPANY;
		if (d->group != in->group) changes |= CHANGE_GROUP;
		if (!same_text(d->email, in->email)) changes |= CHANGE_EMAIL;
		if (in->hash_given && !same_text(d->hash, in->hash)) changes |= CHANGE_PASSWORD;
		if (d->disabled != in->disabled) changes |= CHANGE_DISABLED;
		if (changes) s->ops[s->nops++] = (sync_op_t){ .kind = OP_CHANGE, .in = in, .db = d, .company = c,
							      .changes = changes };
	}
	for (i = 0; i < s->ndb; i++) {
		sync_db_t *d = &s->db[i];
		sync_company_t *c = find_company_by_id(s, d->company_id);

		if (d->seen || d->disabled || !c || !c->named) continue;
		s->ops[s->nops++] = (sync_op_t){ .kind = OP_DISABLE, .db = d, .company = c };
	}
	return 0;
}

static void change_text(unsigned changes, char *out, size_t outlen)
{
	static struct { unsigned bit; char const *name; } const names[] = {
		{ CHANGE_COMPANY, "company" }, { CHANGE_GROUP, "group" }, { CHANGE_EMAIL, "email" },
		{ CHANGE_PASSWORD, "password" }, { CHANGE_DISABLED, "disabled" },
	};
	size_t used = 0;

	out[0] = '\0';
	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		if (!(changes & names[k].bit)) continue;
		used += (size_t)snprintf(out + used, used < outlen ? outlen - used : 0, "%s%s", used ? "," : "", names[k].name);
		if (used >= outlen) return;
	}
}

/* One operation, inside the batch's transaction. */
static store_status_t apply_op(admin_t *a, sync_op_t const *op)
{
	store_company_t const *c = &op->company->c;
	store_status_t rc = STORE_OK;
	char detail[256];

	switch (op->kind) {
	case OP_ADD: {
		sync_in_t const *in = op->in;
		int64_t deadline = policy_is_mandatory(c->level, c->group_mask, in->group)
				   ? policy_grace_deadline(a->now, c->grace_days) : 0;
		uint64_t id = 0;

		rc = store_user_add(a->conn, in->login, c->id, in->group, in->email, in->hash, deadline, a->now, &id);
		if (rc != STORE_OK) return rc;
		if (in->disabled && (rc = store_user_set_disabled(a->conn, id, true)) != STORE_OK) return rc;
		snprintf(detail, sizeof(detail), "%s%s; by user sync", policy_group_name(in->group),
			 in->disabled ? ", disabled" : "");
		return store_audit(a->conn, a->now, "vrms2fa-admin", id, c->id, "user_added", detail, "user sync");
	}
	case OP_CHANGE: {
		sync_in_t const *in = op->in;
		sync_db_t const *d = op->db;
		char what[64];

		if (op->changes & CHANGE_COMPANY) {
			if ((rc = store_backend_user_set_company(a->conn, d->id, c->id)) != STORE_OK) return rc;
		}
		if (op->changes & CHANGE_GROUP) {
			if ((rc = store_user_set_group(a->conn, d->id, in->group)) != STORE_OK) return rc;
		}
		if (op->changes & (CHANGE_COMPANY | CHANGE_GROUP)) {
			/* the grace deadline follows the policy that now covers the user, as user set does */
			bool covered = policy_is_mandatory(c->level, c->group_mask, in->group);

			if (covered && !d->has_deadline && !d->active) {
				rc = store_user_set_deadline(a->conn, d->id, policy_grace_deadline(a->now, c->grace_days));
			} else if (!covered && d->has_deadline) {
				rc = store_user_set_deadline(a->conn, d->id, 0);
			}
			if (rc != STORE_OK) return rc;
		}
		if (op->changes & CHANGE_EMAIL) {
			if ((rc = store_user_set_email(a->conn, d->id, in->email)) != STORE_OK) return rc;
		}
		if (op->changes & CHANGE_PASSWORD) {
			if ((rc = store_backend_user_set_hash(a->conn, d->id, in->hash)) != STORE_OK) return rc;
			/* a link or key asked for with the old password must not outlive it */
			if ((rc = store_pending_void(a->conn, d->id)) != STORE_OK) return rc;
		}
		if (op->changes & CHANGE_DISABLED) {
			if ((rc = store_user_set_disabled(a->conn, d->id, in->disabled)) != STORE_OK) return rc;
			if (in->disabled && (rc = store_pending_void(a->conn, d->id)) != STORE_OK) return rc;
		}
		change_text(op->changes, what, sizeof(what));
		snprintf(detail, sizeof(detail), "%s; by user sync", what);
		return store_audit(a->conn, a->now, "vrms2fa-admin", d->id, c->id, "user_changed", detail, "user sync");
	}
	case OP_DISABLE:
		if ((rc = store_user_set_disabled(a->conn, op->db->id, true)) != STORE_OK) return rc;
		if ((rc = store_pending_void(a->conn, op->db->id)) != STORE_OK) return rc;
		return store_audit(a->conn, a->now, "vrms2fa-admin", op->db->id, c->id, "user_disabled",
				   "absent from user sync", "user sync");
	}
	return STORE_ERROR;
}

static store_status_t batch_tx(admin_t *a, void *arg)
{
	sync_t *s = arg;
	store_status_t rc;

	for (size_t i = s->batch_start; i < s->batch_end; i++) {
		rc = apply_op(a, &s->ops[i]);
		if (rc != STORE_OK) return rc;
	}
	return STORE_OK;
}

static char const *op_login(sync_op_t const *op)
{
	return op->in ? op->in->login : op->db->login;
}

static void print_sync(sync_t *s, bool dry_run, size_t applied_ops)
{
	size_t added = 0, changed = 0, disabled = 0, i;
	char what[64];

	for (i = 0; i < s->nops; i++) {
		if (s->ops[i].kind == OP_ADD) added++;
		else if (s->ops[i].kind == OP_CHANGE) changed++;
		else disabled++;
	}
	if (s->a->json) {
		json_t j = { 0 };

		json_open(&j, NULL, '{');
		json_bool(&j, "dry_run", dry_run);
		json_int(&j, "input", (int64_t)s->nin);
		json_open(&j, "added", '[');
		for (i = 0; i < s->nops; i++) if (s->ops[i].kind == OP_ADD) json_str(&j, NULL, op_login(&s->ops[i]));
		json_close(&j, ']');
		json_open(&j, "changed", '[');
		for (i = 0; i < s->nops; i++) {
			if (s->ops[i].kind != OP_CHANGE) continue;
			json_open(&j, NULL, '{');
			json_str(&j, "login", op_login(&s->ops[i]));
			change_text(s->ops[i].changes, what, sizeof(what));
			json_str(&j, "changes", what);
			json_close(&j, '}');
		}
		json_close(&j, ']');
		json_open(&j, "disabled", '[');
		for (i = 0; i < s->nops; i++) if (s->ops[i].kind == OP_DISABLE) json_str(&j, NULL, op_login(&s->ops[i]));
		json_close(&j, ']');
		json_int(&j, "unchanged", (int64_t)(s->nin - added - changed));
		json_int(&j, "written", (int64_t)applied_ops);
		json_close(&j, '}');
		json_end(&j);
		return;
	}
	for (i = 0; i < s->nops; i++) {
		sync_op_t const *op = &s->ops[i];

		if (op->kind == OP_ADD) {
			printf("added %s (%s, %s)\n", op->in->login, op->company->c.name, policy_group_name(op->in->group));
		} else if (op->kind == OP_CHANGE) {
			change_text(op->changes, what, sizeof(what));
			printf("changed %s: %s\n", op->in->login, what);
		} else {
			printf("disabled %s (%s): absent from the input\n", op->db->login, op->company->c.name);
		}
	}
	printf("user sync: %zu added, %zu changed, %zu disabled, %zu unchanged%s\n", added, changed, disabled,
	       s->nin - added - changed, dry_run ? " (dry run: nothing written)" : "");
}

int cmd_user_sync(admin_t *a, int argc, char **argv)
{
	static char const usage[] =
		"vrms2fa-admin user sync [--dry-run] [--batch N]  < users.jsonl\n"
		"  one JSON object a line: {\"login\": ..., \"company\": ..., \"group\": ..., \"email\": ... or null,\n"
		"  \"password_hash\": ... or null, \"disabled\": true|false}; adds, changes and (absent users of the\n"
		"  companies named) disables users so that the database matches, N operations a transaction (1000)";
	char const *batch_arg = NULL;
	bool dry_run = false;
	admin_option_t const opts[] = {
		{ "--dry-run", false, NULL, &dry_run }, { "--batch", true, &batch_arg, NULL }, { NULL, false, NULL, NULL },
	};
	store_backend_filter_t all;
	uint32_t batch = SYNC_BATCH_DEFAULT;
	size_t applied = 0, i;
	sync_t *s;
	int rc;

	admin_parse(argc, argv, opts, NULL, 0, 0, usage);
	if (batch_arg) batch = admin_parse_uint("--batch", batch_arg, SYNC_BATCH_MAX, usage);
	if (batch == 0) {
		fprintf(stderr, "vrms2fa-admin: --batch must be 1 or more\nusage: %s\n", usage);
		return EXIT_USAGE;
	}
	s = talloc_zero(a->ctx, sync_t);
	if (!s) return admin_fail("out of memory");
	s->a = a;
	if ((rc = read_input(s))) return rc;
	if (s->nin > 1) {
		qsort(s->in, s->nin, sizeof(s->in[0]), by_in_login);
		for (i = 1; i < s->nin; i++) {
			if (strcmp(s->in[i - 1].login, s->in[i].login) == 0) {
				return admin_fail("user sync: lines %zu and %zu name the same login %s", s->in[i - 1].line,
						  s->in[i].line, s->in[i].login);
			}
		}
	}
	if ((rc = admin_connect(a))) return rc;
	if (store_backend_companies(a->conn, collect_company, s) != STORE_OK) return admin_db_fail(a, "user sync (companies)");
	memset(&all, 0, sizeof(all));
	if (store_backend_users(a->conn, &all, true, collect_user, s) != STORE_OK) return admin_db_fail(a, "user sync (users)");
	s->db_by_login = talloc_array(a->ctx, sync_db_t *, s->ndb + 1);
	if (!s->db_by_login) return admin_fail("out of memory");
	for (i = 0; i < s->ndb; i++) s->db_by_login[i] = &s->db[i];
	qsort(s->db_by_login, s->ndb, sizeof(s->db_by_login[0]), by_db_login);
	if ((rc = plan(s))) return rc;

	if (!dry_run) {
		for (s->batch_start = 0; s->batch_start < s->nops; s->batch_start = s->batch_end) {
			store_status_t st;

			s->batch_end = s->batch_start + batch < s->nops ? s->batch_start + batch : s->nops;
			st = admin_transaction(a, batch_tx, s);
			if (st != STORE_OK) {
				fprintf(stderr, "vrms2fa-admin: user sync: %zu of %zu operations written before the failure; "
					"run it again to finish\n", applied, s->nops);
				return admin_db_fail(a, "user sync");
			}
			applied = s->batch_end;
		}
	}
	print_sync(s, dry_run, applied);
	for (i = 0; i < s->ndb; i++) {
		if (s->db[i].hash) OPENSSL_cleanse(s->db[i].hash, strlen(s->db[i].hash));
	}
	return 0;
}
