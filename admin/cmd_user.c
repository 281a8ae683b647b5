/*
 * cmd_user.c - "user add/set/show".  A user created in, or moved into, a
 * group that its company's high level covers gets a grace deadline.  Login
 * and company names follow the name rule (core/names.h); add and set are
 * done by an operator, or by an administrator of the company who proves it
 * (--by: admin_authorize); secrets come from stdin ("-") or the argument.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "admin.h"
#include "../rlm_vrms2fa/core/password.h"
#include "../rlm_vrms2fa/core/text.h"

static void print_user(admin_t *a, store_user_t const *u)
{
	char when[64];

	if (a->json) {
		json_t j = { 0 };

		json_open(&j, NULL, '{');
		json_str(&j, "login", u->login);
		json_str(&j, "company", u->company.name);
		json_str(&j, "group", policy_group_name(u->group));
		if (u->has_email) json_str(&j, "email", u->email);
		else json_null(&j, "email");
		json_bool(&j, "disabled", u->disabled);
		json_bool(&j, "enrolled", u->totp_status == TOTP_STATUS_ACTIVE);
		json_str(&j, "totp_status", totp_status_name(u->totp_status));
		json_bool(&j, "mandatory", policy_is_mandatory(u->company.level, u->company.group_mask, u->group));
		if (u->has_deadline) json_int(&j, "grace_deadline", u->grace_deadline);
		else json_null(&j, "grace_deadline");
		json_int(&j, "recovery_codes_left", u->recovery_codes_left);
		json_int(&j, "trusted_addresses", u->trusted_addresses);
		json_close(&j, '}');
		json_end(&j);
		return;
	}
	printf("login:            %s\n", u->login);
	printf("company:          %s\n", u->company.name);
	printf("group:            %s\n", policy_group_name(u->group));
	printf("email:            %s\n", u->has_email ? u->email : "(none)");
	printf("disabled:         %s\n", u->disabled ? "yes" : "no");
	printf("two-step:         %s\n", u->totp_status == TOTP_STATUS_ACTIVE ? "active" :
	       u->totp_status == TOTP_STATUS_PENDING ? "pending confirmation" : "not set up");
	printf("mandatory:        %s\n", policy_is_mandatory(u->company.level, u->company.group_mask, u->group) ? "yes" : "no");
	if (u->has_deadline) {
		admin_format_time(u->grace_deadline, when, sizeof(when));
		printf("grace deadline:   %s\n", when);
	} else {
		printf("grace deadline:   (none)\n");
	}
	printf("recovery codes:   %u left\n", u->recovery_codes_left);
	printf("trusted addresses: %u\n", u->trusted_addresses);
}

/* --password-stdin and --password-hash are exclusive: EXIT_USAGE (after the usage) when both are given. */
static int password_options_exclusive(bool from_stdin, char const *given, char const *usage)
{
	if (from_stdin && given) {
		fprintf(stderr, "vrms2fa-admin: give --password-stdin or --password-hash, not both\nusage: %s\n", usage);
		return EXIT_USAGE;
	}
	return 0;
}

/*
 * The hash to store, from --password-stdin (a password on stdin, hashed
 * here) or --password-hash HASH ("-": the hash on stdin).  0 ok, else an
 * exit status.
 */
static int password_option(bool from_stdin, char const *given, char *hash, size_t hashlen, char const *usage)
{
	char password[PASSWORD_MAX_LEN + 2], read_hash[PASSWORD_HASH_MAX + 2];
	size_t len = 0;
	int err;

	if ((err = password_options_exclusive(from_stdin, given, usage))) return err;
	if (given && strcmp(given, "-") == 0) {
		if ((err = admin_read_secret("password hash", read_hash, sizeof(read_hash), &len))) return err;
		given = read_hash;
	}
	if (given) {
		if (!password_hash_supported(given)) {
			return admin_fail("unsupported password hash: use bcrypt ($2y$/$2b$), sha512-crypt ($6$), "
					  "yescrypt ($y$) or argon2id ($argon2id$)");
		}
		len = strlen(given);
		if (len >= hashlen) return admin_fail("password hash too long (at most %zu bytes)", hashlen - 1);
		memcpy(hash, given, len + 1);
		OPENSSL_cleanse(read_hash, sizeof(read_hash));
		return 0;
	}
	if ((err = admin_read_password(password, sizeof(password), &len))) return err;
	err = password_hash_new(password, len, hash, hashlen) != 0 ? admin_fail("cannot hash the password") : 0;
	OPENSSL_cleanse(password, sizeof(password));
	return err;
}

static int user_add(admin_t *a, int argc, char **argv)
{
	static char const usage[] =
		"vrms2fa-admin user add LOGIN --company NAME --group GROUP --email ADDR (--password-stdin | --password-hash HASH|-)\n"
		"       [--by LOGIN]   (stdin: --by's password and code first, then the new password or hash)";
	char const *company = NULL, *group_arg = NULL, *email = NULL, *hash_arg = NULL, *by = NULL, *pos[1] = { NULL };
	bool from_stdin = false;
	admin_option_t opts[] = {
		{ "--company", true, &company, NULL }, { "--group", true, &group_arg, NULL },
		{ "--email", true, &email, NULL }, { "--password-hash", true, &hash_arg, NULL },
		{ "--password-stdin", false, NULL, &from_stdin }, { "--by", true, &by, NULL }, { NULL, false, NULL, NULL },
	};
	admin_actor_t who;
	char hash[PASSWORD_HASH_MAX + 1];
	store_company_t c;
	store_user_t u;
	user_group_t group;
	uint64_t id = 0;
	int64_t deadline = 0;
	store_status_t rc;
	int err;

	admin_parse(argc, argv, opts, pos, 1, 0, usage);
	if (!company || !group_arg || !email || (!from_stdin && !hash_arg)) {
		fprintf(stderr, "vrms2fa-admin: --company, --group, --email and a password are required\nusage: %s\n", usage);
		return EXIT_USAGE;
	}
	if (policy_group_parse(group_arg, &group) != 0) {
		fprintf(stderr, "vrms2fa-admin: bad group '%s': use administrator, company_user, owner or supplier\n"
			"usage: %s\n", group_arg, usage);
		return EXIT_USAGE;
	}
	if ((err = password_options_exclusive(from_stdin, hash_arg, usage))) return err;
	if ((err = admin_check_login(pos[0])) || (err = admin_check_company(company))) return err;
	if (by && (err = admin_check_login(by))) return err;
	if (!admin_email_valid(email)) return admin_fail("bad email address: %s", email);
	if (hash_arg && strcmp(hash_arg, "-") != 0 && !password_hash_supported(hash_arg)) {
		return password_option(false, hash_arg, hash, sizeof(hash), usage);	/* says why */
	}
	if ((err = admin_connect(a))) return err;

	rc = store_company_get(a->conn, company, &c);
	if (rc == STORE_NOT_FOUND) return admin_fail("no such company: %s", company);
	if (rc != STORE_OK) return admin_db_fail(a, "company lookup");
	if ((err = admin_authorize(a, by, &c, 0, "user add", "authorization_refused", &who))) return err;
	if ((err = password_option(from_stdin, hash_arg, hash, sizeof(hash), usage))) return err;
	if (policy_is_mandatory(c.level, c.group_mask, group)) deadline = policy_grace_deadline(a->now, c.grace_days);

	rc = store_user_add(a->conn, pos[0], c.id, group, email, hash, deadline, a->now, &id);
	if (rc == STORE_CONFLICT) return admin_fail("user already exists: %s", pos[0]);
	if (rc != STORE_OK) return admin_db_fail(a, "user add");
	admin_audit(a, admin_actor_name(&who), id, c.id, "user_added", policy_group_name(group));
	if ((err = admin_user(a, pos[0], &u))) return err;
	print_user(a, &u);
	return 0;
}

static int parse_yes_no(char const *value, bool *out)
{
	if (strcmp(value, "yes") == 0) *out = true;
	else if (strcmp(value, "no") == 0) *out = false;
	else return -1;
	return 0;
}

/* What "user set" changes, run (and on a conflict run again) inside one transaction. */
typedef struct {
	char const	*login;
	store_user_t	*u;		/* read again at the start of each attempt */
	bool		set_group, set_email, set_password, set_disabled;
	user_group_t	group;
	char const	*email;
	char const	*hash;
	bool		disabled;
	char		detail[256];
} user_set_tx_t;

static store_status_t user_set_tx(admin_t *a, void *arg)
{
	user_set_tx_t *t = arg;
	store_user_t *u = t->u;
	char *detail = t->detail;
	size_t size = sizeof(t->detail);
	store_status_t rc;

	detail[0] = '\0';
	rc = store_user_get(a->conn, t->login, u);
	if (rc != STORE_OK) return rc;
	if (t->set_group) {
		bool covered = policy_is_mandatory(u->company.level, u->company.group_mask, t->group);

		if ((rc = store_user_set_group(a->conn, u->id, t->group)) != STORE_OK) return rc;
		if (covered && !u->has_deadline && u->totp_status != TOTP_STATUS_ACTIVE) {
			rc = store_user_set_deadline(a->conn, u->id, policy_grace_deadline(a->now, u->company.grace_days));
		} else if (!covered && u->has_deadline) {
			rc = store_user_set_deadline(a->conn, u->id, 0);
		}
		if (rc != STORE_OK) return rc;
		snprintf(detail + strlen(detail), size - strlen(detail), "group %s -> %s; ",
			 policy_group_name(u->group), policy_group_name(t->group));
	}
	if (t->set_email) {
		if ((rc = store_user_set_email(a->conn, u->id, t->email)) != STORE_OK) return rc;
		snprintf(detail + strlen(detail), size - strlen(detail), "email changed; ");
	}
	if (t->set_password) {
		if ((rc = store_user_set_password_hash(a->conn, u->id, t->hash)) != STORE_OK) return rc;
		/* a link or key asked for with the old password must not outlive it */
		if ((rc = store_pending_void(a->conn, u->id)) != STORE_OK) return rc;
		snprintf(detail + strlen(detail), size - strlen(detail), "password changed; ");
	}
	if (t->set_disabled) {
		if ((rc = store_user_set_disabled(a->conn, u->id, t->disabled)) != STORE_OK) return rc;
		if (t->disabled && (rc = store_pending_void(a->conn, u->id)) != STORE_OK) return rc;
		snprintf(detail + strlen(detail), size - strlen(detail), "disabled %s; ", t->disabled ? "yes" : "no");
	}
	return STORE_OK;
}

static int user_set(admin_t *a, int argc, char **argv)
{
	static char const usage[] = "vrms2fa-admin user set LOGIN [--group GROUP] [--email ADDR] "
				    "[--password-stdin | --password-hash HASH|-] [--disabled yes|no] [--by LOGIN]\n"
				    "       (stdin: --by's password and code first, then the new password or hash)";
	char const *group_arg = NULL, *email = NULL, *hash_arg = NULL, *disabled_arg = NULL, *by = NULL;
	char const *pos[1] = { NULL };
	bool from_stdin = false, disabled = false;
	admin_option_t opts[] = {
		{ "--group", true, &group_arg, NULL }, { "--email", true, &email, NULL },
		{ "--password-hash", true, &hash_arg, NULL }, { "--password-stdin", false, NULL, &from_stdin },
		{ "--disabled", true, &disabled_arg, NULL }, { "--by", true, &by, NULL }, { NULL, false, NULL, NULL },
	};
	admin_actor_t who;
	char hash[PASSWORD_HASH_MAX + 1];
	user_group_t group = GROUP_ADMINISTRATOR;
	user_set_tx_t t;
	store_status_t rc;
	store_user_t u;
	int err;

	admin_parse(argc, argv, opts, pos, 1, 0, usage);
	if (group_arg && policy_group_parse(group_arg, &group) != 0) {
		fprintf(stderr, "vrms2fa-admin: bad group '%s'\nusage: %s\n", group_arg, usage);
		return EXIT_USAGE;
	}
	if (disabled_arg && parse_yes_no(disabled_arg, &disabled) != 0) {
		fprintf(stderr, "vrms2fa-admin: --disabled takes yes or no\nusage: %s\n", usage);
		return EXIT_USAGE;
	}
	if (email && email[0] && !admin_email_valid(email)) {
		return admin_fail("bad email address: %s", email);
	}
	if ((err = password_options_exclusive(from_stdin, hash_arg, usage))) return err;
	if ((err = admin_check_login(pos[0]))) return err;
	if (by && (err = admin_check_login(by))) return err;
	if (hash_arg && strcmp(hash_arg, "-") != 0 && !password_hash_supported(hash_arg)) {
		return password_option(false, hash_arg, hash, sizeof(hash), usage);	/* says why */
	}
	if ((err = admin_connect(a))) return err;
	if ((err = admin_user(a, pos[0], &u))) return err;
	if ((err = admin_authorize(a, by, &u.company, u.id, "user set", "authorization_refused", &who))) return err;
	if ((from_stdin || hash_arg) && (err = password_option(from_stdin, hash_arg, hash, sizeof(hash), usage))) return err;

	memset(&t, 0, sizeof(t));
	t.login = pos[0];
	t.u = &u;
	t.set_group = group_arg != NULL;
	t.group = group;
	t.set_email = email != NULL;
	t.email = email;
	t.set_password = from_stdin || hash_arg;
	t.hash = hash;
	t.set_disabled = disabled_arg != NULL;
	t.disabled = disabled;
	rc = admin_transaction(a, user_set_tx, &t);
	OPENSSL_cleanse(hash, sizeof(hash));
	if (rc == STORE_NOT_FOUND) return admin_fail("no such user: %s", pos[0]);
	if (rc != STORE_OK) return admin_db_fail(a, "user set");
	if (t.detail[0]) admin_audit(a, admin_actor_name(&who), u.id, u.company.id, "user_changed", t.detail);
	if ((err = admin_user(a, pos[0], &u))) return err;
	print_user(a, &u);
	return 0;
}

static int user_show(admin_t *a, int argc, char **argv)
{
	static char const usage[] = "vrms2fa-admin user show LOGIN";
	char const *pos[1] = { NULL };
	store_user_t u;
	int err;

	admin_parse(argc, argv, NULL, pos, 1, 0, usage);
	if ((err = admin_connect(a))) return err;
	if ((err = admin_user(a, pos[0], &u))) return err;
	print_user(a, &u);
	return 0;
}

int cmd_user(admin_t *a, int argc, char **argv)
{
	static admin_subcommand_t const subs[] = { { "add", user_add }, { "set", user_set }, { "show", user_show } };
	static char const usage[] = "vrms2fa-admin user add|set|show LOGIN ...  (--help on each)";

	return admin_dispatch(a, argc, argv, subs, sizeof(subs) / sizeof(subs[0]), usage);
}
