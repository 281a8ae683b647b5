/*
 * cmd_misc.c - "trusted list/revoke" ("trusted add": cmd_trusted_add.c),
 * "lockout show/clear", "audit" and "email confirm".  trusted revoke and
 * lockout clear are done by an operator, or by an administrator of the
 * user's company who proves it (--by: admin_authorize); the email token may
 * come from stdin ("-").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "admin.h"
#include "trusted_add.h"
#include "../rlm_vrms2fa/core/address.h"
#include "../rlm_vrms2fa/core/email_code.h"

typedef struct {
	admin_t	*a;
	json_t	j;
	size_t	count;
} lister_t;

static int print_trust(store_trust_row_t const *r, void *arg)
{
	lister_t *l = arg;
	char proven[64], expires[64];

	l->count++;
	if (l->a->json) {
		json_open(&l->j, NULL, '{');
		json_str(&l->j, "address", r->address);
		json_str(&l->j, "scope", r->scope);
		json_str(&l->j, "kind", r->kind);
		json_str(&l->j, "how", r->how);
		json_int(&l->j, "created_at", r->created_at);
		json_int(&l->j, "proven_at", r->proven_at);
		json_int(&l->j, "last_used_at", r->last_used_at);
		if (r->never_expires) json_null(&l->j, "expires_at");
		else json_int(&l->j, "expires_at", r->expires_at);
		json_close(&l->j, '}');
		return 0;
	}
	admin_format_time(r->proven_at, proven, sizeof(proven));
	if (r->never_expires) snprintf(expires, sizeof(expires), "never");
	else admin_format_time(r->expires_at, expires, sizeof(expires));
	printf("%-40s %-5s %-11s proven %s, expires %s%s%s\n", r->address, r->kind, r->how, proven, expires,
	       r->scope[0] ? ", scope " : "", r->scope);
	return 0;
}

int cmd_trusted(admin_t *a, int argc, char **argv)
{
	static char const usage[] = "vrms2fa-admin trusted list LOGIN | trusted revoke LOGIN (ADDR | --all) [--by LOGIN]"
				    " | trusted add LOGIN ADDR [--scope SCOPE]\n"
				    "  --by: an administrator of the user's company; the password and code on stdin";
	char const *by = NULL, *pos[3] = { NULL, NULL, NULL };
	char const *scope = NULL;
	bool all = false;
	admin_option_t opts[] = { { "--all", false, NULL, &all }, { "--by", true, &by, NULL }, { "--scope", true, &scope, NULL },
				  { NULL, false, NULL, NULL } };
	admin_actor_t who;
	store_user_t u;
	int err;

	admin_parse(argc, argv, opts, pos, 2, 1, usage);
	if (scope && strcmp(pos[0], "add") != 0) {
		fprintf(stderr, "vrms2fa-admin: --scope is an option of trusted add\nusage: %s\n", usage);
		return EXIT_USAGE;
	}
	if (strcmp(pos[0], "add") == 0) {
		if (all || !pos[2]) {
			fprintf(stderr, "vrms2fa-admin: trusted add takes LOGIN ADDR\nusage: %s\n", usage);
			return EXIT_USAGE;
		}
		if (by) {
			fprintf(stderr, "vrms2fa-admin: trusted add is an operator's command (root or admin.operator_group), "
				"without --by\nusage: %s\n", usage);
			return EXIT_USAGE;
		}
		return trusted_add(a, pos[1], pos[2], scope);
	}
	if (strcmp(pos[0], "list") == 0) {
		lister_t l = { .a = a };

		if (pos[2] || all || by) {
			fprintf(stderr, "vrms2fa-admin: trusted list takes only LOGIN\nusage: %s\n", usage);
			return EXIT_USAGE;
		}
		if ((err = admin_connect(a)) || (err = admin_user(a, pos[1], &u))) return err;
		if (a->json) {
			json_open(&l.j, NULL, '{');
			json_str(&l.j, "login", u.login);
			json_open(&l.j, "addresses", '[');
		}
		if (store_trust_list(a->conn, u.id, print_trust, &l) != STORE_OK) return admin_db_fail(a, "trusted list");
		if (a->json) json_close(&l.j, ']');
		else if (l.count == 0) printf("%s has no trusted addresses.\n", u.login);
		if ((err = trusted_list_pending(a, u.id, u.login, &l.j))) return err;
		if (a->json) {
			json_close(&l.j, '}');
			json_end(&l.j);
		}
		return 0;
	}
	if (strcmp(pos[0], "revoke") == 0) {
		char address[ADDR_TEXT_MAX], detail[128];
		uint64_t removed = 0;
		store_status_t rc;

		if ((pos[2] == NULL) == (all == false)) {
			fprintf(stderr, "vrms2fa-admin: give one address or --all\nusage: %s\n", usage);
			return EXIT_USAGE;
		}
		if (pos[2] && addr_normalise(pos[2], strlen(pos[2]), address) == ADDR_INVALID) {
			return admin_fail("not an IP or MAC address: %s", pos[2]);
		}
		if ((err = admin_check_login(pos[1])) || (by && (err = admin_check_login(by)))) return err;
		if ((err = admin_connect(a)) || (err = admin_user(a, pos[1], &u))) return err;
		if ((err = admin_authorize(a, by, &u.company, u.id, "trusted revoke", "authorization_refused", &who))) {
			return err;
		}
		rc = all ? store_trust_revoke_all(a->conn, u.id, &removed) : store_trust_revoke(a->conn, u.id, address, &removed);
		/* what was pending (an email link, an enrollment key) would earn back what was just revoked */
		if (rc == STORE_OK) rc = store_pending_void(a->conn, u.id);
		if (rc != STORE_OK) return admin_db_fail(a, "trusted revoke");
		if (!all && removed == 0) return admin_fail("%s is not a trusted address of %s", address, u.login);
		snprintf(detail, sizeof(detail), "%s: %llu address%s revoked", all ? "all" : address,
			 (unsigned long long)removed, removed == 1 ? "" : "es");
		admin_audit(a, admin_actor_name(&who), u.id, u.company.id, "address_revoked", detail);
		if (a->json) {
			json_t j = { 0 };
			json_open(&j, NULL, '{');
			json_str(&j, "login", u.login);
			json_int(&j, "revoked", (int64_t)removed);
			json_close(&j, '}');
			json_end(&j);
		} else {
			printf("%s\n", detail);
		}
		return 0;
	}
	fprintf(stderr, "vrms2fa-admin: unknown trusted command '%s'\nusage: %s\n", pos[0], usage);
	return EXIT_USAGE;
}

/* What "lockout show" gathers over a name's failure records, as the module counts them now. */
typedef struct {
	admin_t		*a;
	char const	*login;
	json_t		j;
	bool		name_seen, addresses_open;
	uint32_t	name_failures, lockouts;
	int64_t		locked_until;
} lockout_show_t;

static void json_record(json_t *j, char const *key, char const *address, lockout_record_t const *r, bool decayed,
			int64_t now)
{
	json_open(j, key, '{');
	if (address) json_str(j, "address", address);
	json_int(j, "failures", r->failures);
	json_int(j, "lockouts", r->lockouts);
	json_int(j, "locked_until", r->locked_until);
	json_bool(j, "locked", lockout_is_locked(r->locked_until, now));
	json_int(j, "last_failure_at", r->last_failure_at);
	json_bool(j, "decayed", decayed);
	json_close(j, '}');
}

static void print_record(lockout_show_t *s, char const *address, lockout_record_t const *r, bool decayed)
{
	char until[64], who[TEXT_LOGIN_MAX + ADDR_TEXT_MAX + 64];

	if (address) {
		snprintf(who, sizeof(who), "%s from %s", s->login,
			 strcmp(address, STORE_NO_ADDRESS) == 0 ? "requests without an address" : address);
	} else {
		snprintf(who, sizeof(who), "%s (the name, every address)", s->login);
	}
	if (lockout_is_locked(r->locked_until, s->a->now)) {
		admin_format_time(r->locked_until, until, sizeof(until));
		printf("%s: locked out until %s (%u lockout%s in a row).\n", who, until, r->lockouts,
		       r->lockouts == 1 ? "" : "s");
	} else {
		printf("%s: not locked out (%u consecutive failure%s)", who, r->failures, r->failures == 1 ? "" : "s");
		if (r->lockouts) printf("; %u earlier lockout%s", r->lockouts, r->lockouts == 1 ? "" : "s");
		printf("%s.\n", decayed ? "; decayed, counts start again" : "");
	}
}

/* One record: the name's first (address ""), then each address's. */
static int show_lockout_row(store_lockout_row_t const *row, void *arg)
{
	lockout_show_t *s = arg;
	lockout_record_t const *raw = &row->record;
	bool decayed = lockout_decayed(&s->a->flow.lockout, raw, s->a->now);
	lockout_record_t r = lockout_effective(&s->a->flow.lockout, raw, s->a->now);
	bool is_name = row->address[0] == '\0';

	if (!is_name && !s->name_seen) {
		lockout_record_t none = { 0, 0, 0, 0 };

		s->name_seen = true;
		if (s->a->json) json_record(&s->j, "name", NULL, &none, false, s->a->now);
		else print_record(s, NULL, &none, false);
	}
	if (is_name) {
		s->name_seen = true;
		s->name_failures = r.failures;
		if (s->a->json) json_record(&s->j, "name", NULL, &r, decayed, s->a->now);
		else print_record(s, NULL, &r, decayed);
	} else {
		if (s->a->json && !s->addresses_open) {
			json_open(&s->j, "addresses", '[');
			s->addresses_open = true;
		}
		if (s->a->json) json_record(&s->j, NULL, row->address, &r, decayed, s->a->now);
		else print_record(s, row->address, &r, decayed);
	}
	if (r.lockouts > s->lockouts) s->lockouts = r.lockouts;
	if (r.locked_until > s->locked_until) s->locked_until = r.locked_until;
	return 0;
}

/*
 * "lockout show|clear LOGIN": both dimensions of the lockout (core/lockout.h),
 * the name's record and one per address, as the module counts them now
 * (decayed records count as empty); clear deletes them all.  The JSON keeps
 * a summary at the top: failures of the name, and locked / locked_until /
 * lockouts over every record.
 */
int cmd_lockout(admin_t *a, int argc, char **argv)
{
	static char const usage[] = "vrms2fa-admin lockout show LOGIN | lockout clear LOGIN [--by LOGIN]\n"
				    "  --by: an administrator of the user's company; the password and code on stdin";
	char const *by = NULL, *pos[2] = { NULL, NULL };
	admin_option_t opts[] = { { "--by", true, &by, NULL }, { NULL, false, NULL, NULL } };
	admin_actor_t who;
	lockout_show_t s;
	store_user_t u;
	uint64_t removed = 0;
	bool known;
	int err;

	admin_parse(argc, argv, opts, pos, 2, 0, usage);
	if (strcmp(pos[0], "show") != 0 && strcmp(pos[0], "clear") != 0) {
		fprintf(stderr, "vrms2fa-admin: unknown lockout command '%s'\nusage: %s\n", pos[0], usage);
		return EXIT_USAGE;
	}
	if (by && strcmp(pos[0], "clear") != 0) {
		fprintf(stderr, "vrms2fa-admin: --by goes with lockout clear\nusage: %s\n", usage);
		return EXIT_USAGE;
	}
	if ((err = admin_check_login(pos[1])) || (by && (err = admin_check_login(by)))) return err;
	if ((err = admin_connect(a))) return err;
	/* Lockouts count per login name, known or not: an unknown name is not an error here. */
	known = store_user_get(a->conn, pos[1], &u) == STORE_OK;

	if (strcmp(pos[0], "clear") == 0) {
		char detail[TEXT_LOGIN_MAX + 64];

		/* an unknown name belongs to no company: only an operator clears it */
		if ((err = admin_authorize(a, by, known ? &u.company : NULL, known ? u.id : 0, "lockout clear",
					   "authorization_refused", &who))) {
			return err;
		}

		if (store_lockout_clear(a->conn, pos[1], &removed) != STORE_OK) return admin_db_fail(a, "lockout clear");
		snprintf(detail, sizeof(detail), "%s (%llu record%s)", pos[1], (unsigned long long)removed,
			 removed == 1 ? "" : "s");
		admin_audit(a, admin_actor_name(&who), known ? u.id : 0, known ? u.company.id : 0, "lockout_released", detail);
	}

	memset(&s, 0, sizeof(s));
	s.a = a;
	s.login = pos[1];
	if (a->json) {
		json_open(&s.j, NULL, '{');
		json_str(&s.j, "login", pos[1]);
	}
	if (store_lockout_list(a->conn, pos[1], show_lockout_row, &s) != STORE_OK) return admin_db_fail(a, "lockout show");
	if (a->json) {
		if (!s.name_seen) {
			lockout_record_t none = { 0, 0, 0, 0 };

			json_record(&s.j, "name", NULL, &none, false, a->now);
		}
		if (!s.addresses_open) json_open(&s.j, "addresses", '[');
		json_close(&s.j, ']');
		json_int(&s.j, "failures", s.name_failures);
		json_int(&s.j, "lockouts", s.lockouts);
		json_int(&s.j, "locked_until", s.locked_until);
		json_bool(&s.j, "locked", lockout_is_locked(s.locked_until, a->now));
		json_close(&s.j, '}');
		json_end(&s.j);
	} else if (!s.name_seen) {
		printf("%s is not locked out (no failures recorded).\n", pos[1]);
	}
	return 0;
}

static int print_audit(store_audit_row_t const *r, void *arg)
{
	lister_t *l = arg;
	char when[64];

	l->count++;
	if (l->a->json) {
		json_open(&l->j, NULL, '{');
		json_int(&l->j, "at", r->at);
		json_str(&l->j, "actor", r->actor);
		json_str(&l->j, "user", r->login);
		json_str(&l->j, "event", r->event);
		json_str(&l->j, "detail", r->detail);
		json_str(&l->j, "source", r->source);
		json_close(&l->j, '}');
		return 0;
	}
	admin_format_time(r->at, when, sizeof(when));
	printf("%s  %-22s user=%s actor=%s source=%s  %s\n", when, r->event, r->login[0] ? r->login : "-",
	       r->actor, r->source[0] ? r->source : "-", r->detail);
	return 0;
}

/* TIME: epoch seconds, "YYYY-MM-DD", "YYYY-MM-DD HH:MM:SS" (UTC), or a duration ago: "90m", "24h", "7d". */
static int parse_since(char const *s, int64_t now, int64_t *out)
{
	struct tm tm;
	char *end = NULL;
	long long n;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%d %H:%M:%S", &tm);
	if (!end || *end) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, "%Y-%m-%d", &tm);
	}
	if (end && *end == '\0') {
		*out = (int64_t)timegm(&tm);
		return 0;
	}
	n = strtoll(s, &end, 10);
	if (end == s || n < 0) return -1;
	if (*end == '\0') *out = n;
	else if (strcmp(end, "s") == 0) *out = now - n;
	else if (strcmp(end, "m") == 0) *out = now - n * 60;
	else if (strcmp(end, "h") == 0) *out = now - n * 3600;
	else if (strcmp(end, "d") == 0) *out = now - n * 86400;
	else return -1;
	return 0;
}

int cmd_audit(admin_t *a, int argc, char **argv)
{
	static char const usage[] = "vrms2fa-admin audit [--user LOGIN] [--since TIME]  (TIME: epoch, YYYY-MM-DD[ HH:MM:SS], or 24h/7d ago)";
	char const *user = NULL, *since_arg = NULL;
	admin_option_t opts[] = { { "--user", true, &user, NULL }, { "--since", true, &since_arg, NULL }, { NULL, false, NULL, NULL } };
	lister_t l = { .a = a };
	int64_t since = 0;
	store_user_t u;
	int err;

	admin_parse(argc, argv, opts, NULL, 0, 0, usage);
	if (since_arg && parse_since(since_arg, a->now, &since) != 0) {
		fprintf(stderr, "vrms2fa-admin: bad --since '%s'\nusage: %s\n", since_arg, usage);
		return EXIT_USAGE;
	}
	if ((err = admin_connect(a))) return err;
	memset(&u, 0, sizeof(u));
	if (user && (err = admin_user(a, user, &u))) return err;
	if (a->json) {
		json_open(&l.j, NULL, '{');
		json_open(&l.j, "events", '[');
	}
	if (store_audit_list(a->conn, u.id, since, print_audit, &l) != STORE_OK) return admin_db_fail(a, "audit");
	if (a->json) {
		json_close(&l.j, ']');
		json_close(&l.j, '}');
		json_end(&l.j);
	} else if (l.count == 0) {
		printf("No audit events.\n");
	}
	return 0;
}

/* The confirmation and the trusted address, in one transaction (admin_transaction). */
typedef struct {
	uint8_t const		*token_hash;
	store_email_link_t	*link;
	bool			trusted;	/* out: the address is now trusted */
} email_confirm_tx_t;

static store_status_t email_confirm_tx(admin_t *a, void *arg)
{
	email_confirm_tx_t *t = arg;

	switch (account_email_confirm_link(a->conn, t->token_hash, a->now, a->flow.trust_lifetime, t->link, &t->trusted)) {
	case ACCOUNT_OK:	return STORE_OK;
	case ACCOUNT_NOT_FOUND:	return STORE_NOT_FOUND;
	case ACCOUNT_RETRY:	return STORE_RETRY;
	case ACCOUNT_REFUSED:	return STORE_CONFLICT;
	default:		return STORE_ERROR;
	}
}

int cmd_email(admin_t *a, int argc, char **argv)
{
	static char const usage[] = "vrms2fa-admin email confirm (TOKEN | - | --stdin)\n"
				    "  - or --stdin: the token on standard input (an argument is visible to local users in /proc)";
	char const *pos[2] = { NULL, NULL };
	bool from_stdin = false;
	admin_option_t opts[] = { { "--stdin", false, NULL, &from_stdin }, { NULL, false, NULL, NULL } };
	char token[128];
	uint8_t token_hash[EMAIL_HASH_LEN];
	store_email_link_t link;
	email_confirm_tx_t t = { .token_hash = token_hash, .link = &link };
	store_status_t rc;
	int err;

	admin_parse(argc, argv, opts, pos, 1, 1, usage);
	if (strcmp(pos[0], "confirm") != 0) {
		fprintf(stderr, "vrms2fa-admin: unknown email command '%s'\nusage: %s\n", pos[0], usage);
		return EXIT_USAGE;
	}
	if ((pos[1] != NULL) == from_stdin) {
		fprintf(stderr, "vrms2fa-admin: give the token, '-' or --stdin\nusage: %s\n", usage);
		return EXIT_USAGE;
	}
	if ((err = admin_secret_arg(from_stdin ? "-" : pos[1], "confirmation token", token, sizeof(token)))) return err;
	rc = email_token_hash(token, strlen(token), token_hash) != 0 ? STORE_ERROR : STORE_OK;
	OPENSSL_cleanse(token, sizeof(token));
	if (rc != STORE_OK) return admin_fail("not a confirmation token (32 hex digits)");
	if ((err = admin_connect(a))) return err;

	rc = admin_transaction(a, email_confirm_tx, &t);
	if (rc == STORE_NOT_FOUND) return admin_fail("unknown, expired or already used confirmation token");
	if (rc == STORE_CONFLICT) {
		return admin_fail("confirmation refused: %s is disabled or has set up two-step verification since",
				  link.login);
	}
	if (rc != STORE_OK) return admin_db_fail(a, "email confirm");
	admin_audit(a, "vrms2fa-admin", link.user_id, link.company_id, "email_confirmed", "by link");
	if (t.trusted) admin_audit(a, "vrms2fa-admin", link.user_id, link.company_id, "address_trusted", "address trusted by email");

	if (a->json) {
		json_t j = { 0 };
		json_open(&j, NULL, '{');
		json_str(&j, "login", link.login);
		json_str(&j, "address", link.address);
		json_bool(&j, "confirmed", true);
		json_bool(&j, "trusted", t.trusted);
		json_close(&j, '}');
		json_end(&j);
	} else {
		printf("Login of %s from %s confirmed%s.\n", link.login, link.address[0] ? link.address : "(no address)",
		       t.trusted ? ": the address is now trusted" : " (the address is not trusted: that login could not earn trust)");
	}
	return 0;
}
