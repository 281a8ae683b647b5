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
#include "../rlm_vrms2fa/core/text.h"

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

/*
 * Read one secret line from standard input: what names it in messages and
 * in the prompt ("password of alice").  When standard input is a terminal,
 * prompts on stderr and does not echo.  The newline (and a CR before it) is
 * stripped; an empty line, a line longer than outlen - 2 bytes, end of
 * input and a NUL byte are refused with a message naming what.  out gets a
 * NUL-terminated copy, *len its length.  0 ok, else an exit status.
 */
int admin_read_secret(char const *what, char *out, size_t outlen, size_t *len);

/* Read a password from standard input (admin_read_secret, at most PASSWORD_MAX_LEN bytes). */
int admin_read_password(char *out, size_t outlen, size_t *len);

/*
 * A secret given as an argument, or "-" to read it from standard input
 * (admin_read_secret): arg is the argument, what names it.  0 ok with the
 * secret in out, else an exit status.
 */
int admin_secret_arg(char const *arg, char const *what, char *out, size_t outlen);

/*
 * The name rule (core/names.h) for a login or a company name a command was
 * given: 0 when usable, else EXIT_REFUSED after one line saying what is
 * wrong (never echoing the name).
 */
int admin_check_login(char const *login);
int admin_check_company(char const *name);

/*
 * Who runs this command.  os_user: SUDO_USER when root runs it through
 * sudo, else the name of the real uid.  by: the administrator who proved
 * themselves with --by ("" when none); by_id their user id.
 */
typedef struct {
	char		os_user[64];
	char		by[TEXT_LOGIN_MAX + 1];
	uint64_t	by_id;
} admin_actor_t;

/*
 * Authorize a command a company administrator may perform for company
 * (NULL: a user or name of no company, which only operators may act on).
 * With by (--by LOGIN): LOGIN must be an enabled Administrator of that
 * company and prove it on standard input: the password (one line), then,
 * when its two-step verification is active, a current code (the next
 * line), checked as the module checks them (password_verify, then
 * account_code_check and the replay counter).  Without by: the OS user
 * must be root or a member of admin.operator_group.  A refusal writes an
 * audit row (refused_event, with the user and company it was about) and
 * returns EXIT_REFUSED after one line on stderr; 0 with *who filled.
 * Needs the connection (admin_connect).
 */
int admin_authorize(admin_t *a, char const *by, store_company_t const *company, uint64_t user_id,
		    char const *action, char const *refused_event, admin_actor_t *who);

/* The audit actor of an authorized command: the administrator, else "vrms2fa-admin". */
char const *admin_actor_name(admin_actor_t const *who);

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
int cmd_prune(admin_t *a, int argc, char **argv);
/* The backend's commands (cmd_backend.c): "user list", "user delete", "user sync", "company list", "policy show". */
int cmd_user_list(admin_t *a, int argc, char **argv);
int cmd_user_delete(admin_t *a, int argc, char **argv);
int cmd_user_sync(admin_t *a, int argc, char **argv);
int cmd_company_list(admin_t *a, int argc, char **argv);
int cmd_policy_show(admin_t *a, int argc, char **argv);

/* An email address the tool stores: local@domain, one '@', both sides non-empty, clean UTF-8 without
 * spaces, commas or angle brackets, at most STORE_EMAIL_MAX bytes (user add/set, user sync). */
bool admin_email_valid(char const *email);

#endif
