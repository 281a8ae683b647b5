/*
 * admin.h - what the commands of vrms2fa-admin share: the context (the
 * module's configuration, read with the module's own parser table, and a
 * database connection), option parsing, exit statuses, and a small JSON
 * writer for --json.
 */
#ifndef VRMS2FA_ADMIN_H
#define VRMS2FA_ADMIN_H

#include "../rlm_vrms2fa/settings.h"
#include "../rlm_vrms2fa/account.h"
#include "../rlm_vrms2fa/flow.h"
#include "../rlm_vrms2fa/core/secretbox.h"
#include "../rlm_vrms2fa/store/store.h"
#include "../rlm_vrms2fa/store/store_admin.h"

#define EXIT_REFUSED	1	/* a refused or failed action */
#define EXIT_USAGE	2	/* a usage error */

typedef struct {
	char const		*config_path;
	char const		*sql_dir;
	bool			json;
	int64_t			now;

	TALLOC_CTX		*ctx;
	vrms2fa_settings_t	settings;
	flow_config_t		flow;		/* the settings as the module derives them (vrms2fa_settings_check) */
	store_config_t		store;
	store_conn_t		*conn;
	bool			keyring_loaded;
	secretbox_keyring_t	keyring;
} admin_t;

/* Read the configuration only (no connection); 0 ok, else an exit status (after a message). */
int admin_load_config(admin_t *a);
/* Read the configuration and connect; 0 ok, else an exit status (after a message). */
int admin_connect(admin_t *a);
/*
 * With database { admin_login admin_password_file } set, connect as that
 * account instead of the module's (admin/db_account.c).  0 ok (nothing to
 * do when admin_login is empty), else an exit status after a message.
 */
int admin_use_admin_account(admin_t *a);
/* Load the key file named by the configuration; 0 ok, else an exit status. */
int admin_keyring(admin_t *a);

/*
 * Run body inside one transaction and commit.  A deadlock or a Galera
 * certification conflict (STORE_RETRY, from a statement or from the commit)
 * has rolled the whole transaction back: it is run again from the start, at
 * most ADMIN_TX_ATTEMPTS times in all, so body must be safe to run again
 * (no output, nothing kept from an earlier attempt).  Returns STORE_OK when
 * committed, else what body or the commit returned (then rolled back).
 */
#define ADMIN_TX_ATTEMPTS 5
typedef store_status_t (*admin_tx_fn)(admin_t *a, void *arg);
store_status_t admin_transaction(admin_t *a, admin_tx_fn body, void *arg);

/* One line on stderr, "vrms2fa-admin: ...".  Returns EXIT_REFUSED. */
int admin_fail(char const *fmt, ...) CC_HINT(format(printf, 1, 2));
/* A database error as one line; returns EXIT_REFUSED. */
int admin_db_fail(admin_t *a, char const *what);

/* Options of one command. */
typedef struct {
	char const	*name;		/* "--group" */
	bool		takes_value;
	char const	**value;	/* for options with a value */
	bool		*flag;		/* for flags */
} admin_option_t;

/*
 * Parse argv (after the command words) into options and exactly npos
 * positionals (nopt_pos more may be optional).  Prints usage and exits 0 on
 * --help; prints the problem and usage and exits 2 on a usage error.
 */
void admin_parse(int argc, char **argv, admin_option_t const *opts, char const **pos, int npos, int optional_pos,
		 char const *usage);

/* One word of a command group: "add" of "user add", "begin" of "enroll begin". */
typedef struct {
	char const	*name;
	int		(*run)(admin_t *a, int argc, char **argv);	/* argv after the word */
} admin_subcommand_t;

/*
 * Run the subcommand argv[0] names, of the nsubs in subs.  --help or -h
 * prints "usage: " usage on stdout and returns 0; no word or an unknown one
 * prints it on stderr and returns EXIT_USAGE.
 */
int admin_dispatch(admin_t *a, int argc, char **argv, admin_subcommand_t const *subs, size_t nsubs,
		   char const *usage);

/* Read a password from standard input (one line, newline stripped).  0 ok, else an exit status. */
int admin_read_password(char *out, size_t outlen, size_t *len);

/* Parse a non-negative integer option; exits 2 with a message when it is not one. */
uint32_t admin_parse_uint(char const *option, char const *value, uint32_t max, char const *usage);

/* Write an audit row; failures are reported but do not change the exit status of a done action. */
void admin_audit(admin_t *a, char const *actor, uint64_t user_id, uint64_t company_id, char const *event,
		 char const *detail);

/* Look a user up; prints "no such user" and returns EXIT_REFUSED when missing. */
int admin_user(admin_t *a, char const *login, store_user_t *user);

/* A tiny JSON writer to stdout. */
typedef struct {
	int	depth;
	bool	need_comma[16];
} json_t;

void json_open(json_t *j, char const *key, char open);	/* key NULL inside arrays / at top */
void json_close(json_t *j, char close);
void json_str(json_t *j, char const *key, char const *value);
void json_int(json_t *j, char const *key, int64_t value);
void json_bool(json_t *j, char const *key, bool value);
void json_null(json_t *j, char const *key);
void json_end(json_t *j);	/* newline after the top-level value */

/* "2026-11-27 23:09:29 UTC" */
void admin_format_time(int64_t t, char *out, size_t outlen);

/* The commands. */
int cmd_db(admin_t *a, int argc, char **argv);
int cmd_company(admin_t *a, int argc, char **argv);
int cmd_policy(admin_t *a, int argc, char **argv);
int cmd_user(admin_t *a, int argc, char **argv);
int cmd_enroll(admin_t *a, int argc, char **argv);
int cmd_recovery_codes(admin_t *a, int argc, char **argv);
int cmd_trusted(admin_t *a, int argc, char **argv);
int cmd_lockout(admin_t *a, int argc, char **argv);
int cmd_audit(admin_t *a, int argc, char **argv);
int cmd_email(admin_t *a, int argc, char **argv);
int cmd_key(admin_t *a, int argc, char **argv);
int cmd_check(admin_t *a, int argc, char **argv);
/* The backend's commands (cmd_backend.c): "user list", "user delete", "user sync", "company list", "policy show". */
int cmd_user_list(admin_t *a, int argc, char **argv);
int cmd_user_delete(admin_t *a, int argc, char **argv);
int cmd_user_sync(admin_t *a, int argc, char **argv);
int cmd_company_list(admin_t *a, int argc, char **argv);
int cmd_policy_show(admin_t *a, int argc, char **argv);

#endif
