/*
 * vrms2fa-admin.c - the command-line tool for operators and for the VRMS
 * backend's scripts: global options, then one command (doc/vrms2fa-admin.8).
 * Exit status: 0 done, 1 refused or failed (one line on stderr), 2 usage.
 * The argument parser of the commands exits by itself (--help, usage
 * errors): the command's resources are released on that way out too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin.h"

#ifndef VRMS2FA_DEFAULT_CONFIG
#define VRMS2FA_DEFAULT_CONFIG "/etc/freeradius/3.0/mods-available/vrms2fa"
#endif
#ifndef VRMS2FA_SQLDIR
#define VRMS2FA_SQLDIR "/usr/share/rlm_vrms2fa/sql"
#endif

static char const usage_text[] =
	"usage: vrms2fa-admin [--config FILE] [--json] [--sql-dir DIR] COMMAND ...\n"
	"\n"
	"  db migrate                                  create or upgrade the schema\n"
	"  company add NAME [--grace-days N]\n"
	"  company show NAME\n"
	"  policy set COMPANY --level low|high [--groups GROUP[,GROUP...]] [--by LOGIN]\n"
	"  user add LOGIN --company NAME --group GROUP --email ADDR (--password-stdin | --password-hash HASH|-) [--by LOGIN]\n"
	"  user set LOGIN [--group GROUP] [--email ADDR] [--password-stdin | --password-hash HASH|-] [--disabled yes|no] [--by LOGIN]\n"
	"  user show LOGIN\n"
	"  user list [--company NAME] [--group GROUP] [--status S]\n"
	"  user delete LOGIN                           with its trust, secret, codes, challenges, failures\n"
	"  user sync [--dry-run] [--batch N]           JSON lines on stdin: make the database match\n"
	"  company list\n"
	"  policy show COMPANY\n"
	"  db grants [--apply]                         the grants of the module, admin and backend accounts\n"
	"  enroll begin LOGIN [--qr ansi|png|svg] [--out FILE]   prints the key and the otpauth URI\n"
	"  enroll confirm LOGIN (CODE | - | --stdin) [--address ADDR]\n"
	"  enroll reset LOGIN [--by LOGIN]\n"
	"  recovery-codes LOGIN                        a new set, shown once\n"
	"  trusted list LOGIN\n"
	"  trusted revoke LOGIN (ADDR | --all) [--by LOGIN]\n"
	"  trusted add LOGIN ADDR [--scope SCOPE]\n"
	"  lockout show LOGIN\n"
	"  lockout clear LOGIN [--by LOGIN]\n"
	"  email confirm (TOKEN | - | --stdin)         confirm a login by its emailed link\n"
	"  audit [--user LOGIN] [--since TIME]\n"
	"  key status                                  secrets per encryption key\n"
	"  key rotate                                  re-encrypt every secret under the current key_id\n"
	"  check [--raddb DIR]                         after freeradius -XC: database, grants, key file, email hook, raddb\n"
	"  prune [--dry-run]                           delete expired rows (for cron), or count them\n"
	"\n"
	"GROUP is administrator, company_user, owner or supplier.  Every command takes --help.\n"
	"'-' or --stdin: the secret on standard input (an argument is visible to local users in /proc).\n"
	"--by LOGIN: an administrator of the company acts; their password, then (with two-step verification)\n"
	"a code, come first on standard input.  Without --by: root or a member of admin.operator_group.\n"
	"The configuration is the module's: the vrms2fa section of " VRMS2FA_DEFAULT_CONFIG " by default.\n";

typedef struct {
	char const	*name;
	int		(*run)(admin_t *a, int argc, char **argv);
} command_t;

/* The running command's state, released by release() on every way out. */
static admin_t *running;

/* Close the database, wipe the keys, free the memory of the running command. */
static void release(void)
{
	admin_t *a = running;

	if (!a) return;
	running = NULL;
	if (a->conn) store_close(a->conn);
	a->conn = NULL;
	if (a->keyring_loaded) secretbox_keyring_wipe(&a->keyring);
	a->keyring_loaded = false;
	talloc_free(a->ctx);
	a->ctx = NULL;
}

/* Two-word commands of cmd_backend.c, looked up before the one-word table. */
static struct {
	char const	*name;
	char const	*word;
	int		(*run)(admin_t *a, int argc, char **argv);
} const backend_commands[] = {
	{ "user", "list", cmd_user_list },
	{ "user", "delete", cmd_user_delete },
	{ "user", "sync", cmd_user_sync },
	{ "company", "list", cmd_company_list },
	{ "policy", "show", cmd_policy_show },
};

static command_t const commands[] = {
	{ "db", cmd_db },
	{ "company", cmd_company },
	{ "policy", cmd_policy },
	{ "user", cmd_user },
	{ "enroll", cmd_enroll },
	{ "recovery-codes", cmd_recovery_codes },
	{ "trusted", cmd_trusted },
	{ "lockout", cmd_lockout },
	{ "audit", cmd_audit },
	{ "email", cmd_email },
	{ "key", cmd_key },
	{ "check", cmd_check },
	{ "prune", cmd_prune },
	{ NULL, NULL }
};

int main(int argc, char **argv)
{
	admin_t a;
	command_t const *c;
	int i, rc;

	memset(&a, 0, sizeof(a));
	a.config_path = VRMS2FA_DEFAULT_CONFIG;
	a.sql_dir = getenv("VRMS2FA_SQLDIR") ? getenv("VRMS2FA_SQLDIR") : VRMS2FA_SQLDIR;
	a.now = (int64_t)time(NULL);

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) a.config_path = argv[++i];
		else if (strcmp(argv[i], "--sql-dir") == 0 && i + 1 < argc) a.sql_dir = argv[++i];
		else if (strcmp(argv[i], "--json") == 0) a.json = true;
		else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage_text, stdout);
			return 0;
		} else if (strncmp(argv[i], "--", 2) == 0) {
			fprintf(stderr, "vrms2fa-admin: unknown option %s\n%s", argv[i], usage_text);
			return EXIT_USAGE;
		} else break;
	}
	if (i == argc) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	for (c = commands; c->name; c++) {
		if (strcmp(c->name, argv[i]) == 0) break;
	}
	if (!c->name) {
		fprintf(stderr, "vrms2fa-admin: unknown command '%s'\n%s", argv[i], usage_text);
		return EXIT_USAGE;
	}

	/* --json may also follow the command words */
	for (int k = i + 1; k < argc; k++) {
		if (strcmp(argv[k], "--json") == 0) {
			a.json = true;
			memmove(&argv[k], &argv[k + 1], (size_t)(argc - k - 1) * sizeof(argv[0]));
			argc--;
			k--;
		}
	}

	a.ctx = talloc_new(NULL);
	if (!a.ctx) return admin_fail("out of memory");
	running = &a;
	if (atexit(release) != 0) {	/* exit() in admin_parse() while a is alive */
		release();
		return admin_fail("cannot register the exit handler");
	}
	rc = -1;
	for (size_t b = 0; i + 1 < argc && b < sizeof(backend_commands) / sizeof(backend_commands[0]); b++) {
		if (strcmp(backend_commands[b].name, argv[i]) == 0 && strcmp(backend_commands[b].word, argv[i + 1]) == 0) {
			rc = backend_commands[b].run(&a, argc - i - 2, argv + i + 2);
			break;
		}
	}
	if (rc < 0) rc = c->run(&a, argc - i - 1, argv + i + 1);
	release();	/* before a goes out of scope: the exit handler then has nothing left to do */
	return rc;
}
