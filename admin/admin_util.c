/*
 * admin_util.c - the shared pieces of vrms2fa-admin (see admin.h): reading
 * the module's configuration with libfreeradius-server's parser, the
 * database connection, option parsing, JSON output.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "admin.h"
#include "../rlm_vrms2fa/config_file.h"
#include "../rlm_vrms2fa/core/lockout.h"
#include "../rlm_vrms2fa/core/names.h"
#include "../rlm_vrms2fa/core/password.h"

/*
 * libfreeradius-server refers to these two, which live in the server
 * binary.  This program runs no external programs through the library.
 */
pid_t rad_fork(void);
pid_t rad_waitpid(pid_t pid, int *status);
pid_t rad_fork(void) { return fork(); }
pid_t rad_waitpid(pid_t pid, int *status) { return waitpid(pid, status, 0); }

int admin_fail(char const *fmt, ...)
{
	va_list ap;

	fputs("vrms2fa-admin: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_REFUSED;
}

int admin_db_fail(admin_t *a, char const *what)
{
	return admin_fail("%s: database error: %s", what, store_last_error(a->conn));
}

store_status_t admin_transaction(admin_t *a, admin_tx_fn body, void *arg)
{
	store_status_t rc;
	unsigned attempt;

	for (attempt = 1; ; attempt++) {
		rc = store_begin(a->conn);
		if (rc == STORE_OK) {
			rc = body(a, arg);
			if (rc == STORE_OK) rc = store_commit(a->conn);	/* rolls back itself when it fails */
			else store_rollback(a->conn);
		}
		if (rc != STORE_RETRY || attempt == ADMIN_TX_ATTEMPTS) return rc;
		{
			struct timespec pause = { 0, (long)attempt * 20000000L };	/* 20, 40, 60, 80 ms */

			nanosleep(&pause, NULL);
		}
	}
}

static int read_config(admin_t *a)
{
	CONF_SECTION *root, *cs;

	if (access(a->config_path, R_OK) != 0) {
		return admin_fail("cannot read configuration %s: %s", a->config_path, strerror(errno));
	}
	root = cf_section_alloc(NULL, "main", NULL);	/* the parent argument is a section, not a talloc context */
	if (!root) return admin_fail("out of memory");
	(void)talloc_steal(a->ctx, root);
	if (cf_file_read(root, a->config_path) < 0) {
		return admin_fail("cannot parse configuration %s", a->config_path);
	}
	cs = cf_section_sub_find(root, "vrms2fa");
	if (!cs) return admin_fail("no 'vrms2fa { }' section in %s", a->config_path);
	if (cf_section_parse(cs, &a->settings, vrms2fa_settings_parser) < 0) {
		return admin_fail("invalid 'vrms2fa' section in %s", a->config_path);
	}
	if (vrms2fa_settings_check(&a->settings, cs, &a->flow, &a->store) != 0) {
		return admin_fail("invalid 'vrms2fa' section in %s", a->config_path);
	}
	{
		char err[PATH_MAX + 256], fix[2 * PATH_MAX + 64];

		if (vrms2fa_config_file_check(cs, err, sizeof(err), fix, sizeof(fix)) != 0) {
			return admin_fail("refusing to run: %s; run: %s", err, fix);
		}
	}
	return admin_use_admin_account(a);	/* database { admin_login }: the tool's own account */
}

int admin_load_config(admin_t *a)
{
	return read_config(a);
}

int admin_connect(admin_t *a)
{
	char err[512];
	int rc;

	rc = read_config(a);
	if (rc) return rc;
	a->conn = store_open(&a->store, err, sizeof(err));
	if (!a->conn) return admin_fail("%s", err);
	return 0;
}

int admin_keyring(admin_t *a)
{
	char err[512];

	if (a->keyring_loaded) return 0;
	if (secretbox_keyring_load(a->settings.key_file, a->settings.key_id, &a->keyring, err, sizeof(err)) != 0) {
		return admin_fail("%s", err);
	}
	a->keyring_loaded = true;
	return 0;
}

int admin_dispatch(admin_t *a, int argc, char **argv, admin_subcommand_t const *subs, size_t nsubs,
		   char const *usage)
{
	size_t i;

	if (argc >= 1) {
		for (i = 0; i < nsubs; i++) {
			if (strcmp(argv[0], subs[i].name) == 0) return subs[i].run(a, argc - 1, argv + 1);
		}
		if (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
			printf("usage: %s\n", usage);
			return 0;
		}
	}
	fprintf(stderr, "usage: %s\n", usage);
	return EXIT_USAGE;
}

void admin_parse(int argc, char **argv, admin_option_t const *opts, char const **pos, int npos, int optional_pos,
		 char const *usage)
{
	int i, got = 0;

	for (i = 0; i < argc; i++) {
		char const *arg = argv[i];
		admin_option_t const *o;

		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
			printf("usage: %s\n", usage);
			exit(0);
		}
		if (strncmp(arg, "--", 2) == 0 && arg[2] != '\0') {
			for (o = opts; o && o->name; o++) {
				if (strcmp(o->name, arg) == 0) break;
			}
			if (!o || !o->name) {
				fprintf(stderr, "vrms2fa-admin: unknown option %s\nusage: %s\n", arg, usage);
				exit(EXIT_USAGE);
			}
			if (o->takes_value) {
				if (i + 1 >= argc) {
					fprintf(stderr, "vrms2fa-admin: %s needs a value\nusage: %s\n", arg, usage);
					exit(EXIT_USAGE);
				}
				*o->value = argv[++i];
			} else {
				*o->flag = true;
			}
			continue;
		}
		if (got == npos + optional_pos) {
			fprintf(stderr, "vrms2fa-admin: unexpected argument '%s'\nusage: %s\n", arg, usage);
			exit(EXIT_USAGE);
		}
		pos[got++] = arg;
	}
	if (got < npos) {
		fprintf(stderr, "vrms2fa-admin: missing argument\nusage: %s\n", usage);
		exit(EXIT_USAGE);
	}
}

uint32_t admin_parse_uint(char const *option, char const *value, uint32_t max, char const *usage)
{
	char *end = NULL;
	unsigned long v;

	errno = 0;
	v = strtoul(value, &end, 10);
	if (errno || !end || *end != '\0' || value[0] == '\0' || value[0] == '-' || v > max) {
		fprintf(stderr, "vrms2fa-admin: %s must be a number from 0 to %u\nusage: %s\n", option, max, usage);
		exit(EXIT_USAGE);
	}
	return (uint32_t)v;
}

int admin_read_secret(char const *what, char *out, size_t outlen, size_t *len)
{
	struct termios saved, quiet;
	bool tty = isatty(STDIN_FILENO) == 1, echo_off = false;
	size_t n = 0;
	int c, rc = 0;

	if (outlen < 3) return admin_fail("no room for the %s", what);
	if (tty) {
		fprintf(stderr, "%s: ", what);
		fflush(stderr);
		if (tcgetattr(STDIN_FILENO, &saved) == 0) {
			quiet = saved;
			quiet.c_lflag &= ~(tcflag_t)ECHO;
			echo_off = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
		}
	}
	for (;;) {
		c = getc(stdin);
		if (c == EOF || c == '\n') break;
		if (c == '\0') {
			rc = admin_fail("the %s on standard input holds a NUL byte: refused", what);
			break;
		}
		if (n >= outlen - 2) {	/* at most outlen - 2 bytes: the buffer is sized one byte larger than the limit */
			rc = admin_fail("the %s on standard input is too long (at most %zu bytes)", what, outlen - 2);
			break;
		}
		out[n++] = (char)c;
	}
	if (echo_off) {
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
		fputc('\n', stderr);
	}
	if (rc == 0 && c == EOF && n == 0) rc = admin_fail("no %s on standard input", what);
	if (rc == 0 && n && out[n - 1] == '\r') n--;
	if (rc == 0 && n == 0) rc = admin_fail("empty %s on standard input", what);
	if (rc != 0) {
		OPENSSL_cleanse(out, outlen);
		return rc;
	}
	out[n] = '\0';
	*len = n;
	return 0;
}

int admin_read_password(char *out, size_t outlen, size_t *len)
{
	/* at most PASSWORD_MAX_LEN bytes: the buffer decides, one byte for the NUL and one to see "too long" */
	return admin_read_secret("password", out, outlen < PASSWORD_MAX_LEN + 2 ? outlen : PASSWORD_MAX_LEN + 2, len);
}

int admin_secret_arg(char const *arg, char const *what, char *out, size_t outlen)
{
	size_t len = 0;

	if (arg && strcmp(arg, "-") != 0) {
		if (strlen(arg) >= outlen) return admin_fail("the %s is too long", what);
		snprintf(out, outlen, "%s", arg);
		return 0;
	}
	return admin_read_secret(what, out, outlen, &len);
}

static int name_refused(char const *what, char const *reason, uint32_t cp)
{
	char line[160];

	names_describe(what, reason, cp, line, sizeof(line));
	return admin_fail("%s", line);
}

int admin_check_login(char const *login)
{
	uint32_t cp = NAMES_NO_CODE_POINT;
	char const *why = names_login_problem((uint8_t const *)login, login ? strlen(login) : 0, &cp);

	return why ? name_refused("bad login name: it", why, cp) : 0;
}

int admin_check_company(char const *name)
{
	uint32_t cp = NAMES_NO_CODE_POINT;
	char const *why = names_company_problem((uint8_t const *)name, name ? strlen(name) : 0, &cp);

	return why ? name_refused("bad company name: it", why, cp) : 0;
}

/* A user name as sudo sets it: 1..32 of [A-Za-z0-9._-], not starting with '-'. */
static bool plain_user_name(char const *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 32 || s[0] == '-') return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
		      c == '_' || c == '-')) return false;
	}
	return true;
}

/* The OS user of admin_actor_t: SUDO_USER only when the real uid is root (sudo sets it; anyone else could too). */
static void os_user_name(char *out, size_t outlen)
{
	char const *sudo = getenv("SUDO_USER");
	struct passwd *pw;
	uid_t uid = getuid();

	if (uid == 0 && sudo && plain_user_name(sudo)) {
		snprintf(out, outlen, "%s", sudo);
		return;
	}
	pw = getpwuid(uid);
	if (pw && plain_user_name(pw->pw_name)) snprintf(out, outlen, "%s", pw->pw_name);
	else snprintf(out, outlen, "uid %u", (unsigned)uid);
}

/* Root, or a member (primary or supplementary) of a non-empty admin.operator_group. */
static bool is_operator(admin_t const *a)
{
	char const *name = a->settings.admin_operator_group;
	struct group *gr;
	gid_t groups[256];
	int n, i;

	if (getuid() == 0) return true;
	if (!name || name[0] == '\0') return false;
	gr = getgrnam(name);
	if (!gr) return false;
	if (getgid() == gr->gr_gid || getegid() == gr->gr_gid) return true;
	n = getgroups((int)(sizeof(groups) / sizeof(groups[0])), groups);
	for (i = 0; i < n; i++) {
		if (groups[i] == gr->gr_gid) return true;
	}
	return false;
}

char const *admin_actor_name(admin_actor_t const *who)
{
	return who && who->by[0] ? who->by : "vrms2fa-admin";
}

/* The administrator's password and, with 2FA active, code: checked as the module checks them. */
static bool proof_holds(admin_t *a, store_login_t const *row, char const *by, char const **why, int *err)
{
	char password[PASSWORD_MAX_LEN + 2], code[64];
	size_t len = 0;
	int64_t now = row->database_now > 0 ? row->database_now : a->now;
	uint64_t counter = 0;
	account_status_t status;
	store_status_t rc;
	bool ok;

	*err = 0;
	{
		char what[TEXT_LOGIN_MAX + 32];

		snprintf(what, sizeof(what), "password of %s", by);
		if ((*err = admin_read_secret(what, password, sizeof(password), &len)) != 0) return false;
	}
	ok = row->has_password_hash && password_verify(row->password_hash, password, len) == PASSWORD_MATCH;
	OPENSSL_cleanse(password, sizeof(password));
	if (!ok) {
		*why = "wrong password";
		return false;
	}
	if (row->totp_status != TOTP_STATUS_ACTIVE) return true;

	{
		char what[TEXT_LOGIN_MAX + 48];

		snprintf(what, sizeof(what), "verification code of %s", by);
		if ((*err = admin_read_secret(what, code, sizeof(code), &len)) != 0) return false;
	}
	if ((*err = admin_keyring(a)) != 0) return false;
	status = account_code_check(&a->keyring, row->user_id, &row->secret, (uint8_t const *)code, len, now,
				    a->flow.totp_window, &counter);
	OPENSSL_cleanse(code, sizeof(code));
	if (status == ACCOUNT_UNDECRYPTABLE) {
		*err = admin_fail("the secret of %s does not decrypt with the key file", by);
		return false;
	}
	if (status != ACCOUNT_OK) {
		*why = "wrong or expired code";
		return false;
	}
	rc = store_secret_advance(a->conn, row->user_id, counter);	/* the replay guard, as a login's */
	if (rc == STORE_CONFLICT) {
		*why = "code of an already used time step";
		return false;
	}
	if (rc != STORE_OK) {
		*err = admin_db_fail(a, "verification code");
		return false;
	}
	return true;
}

/*
 * The module's lockout around a proof, as for a login without an address
 * (the pair keyed STORE_NO_ADDRESS, and the name): before it, decayed
 * records are forgotten and a lock or a full dimension refuses; an attempt
 * is then taken (*taken true) and refused when it goes over.  Returns NULL
 * to go on, else why it is refused; *err set on a database error.
 */
static char const *proof_lockout_take(admin_t *a, char const *by, store_login_t const *row, int64_t now,
				      lockout_record_t *pair, lockout_record_t *name, bool *taken, int *err)
{
	lockout_config_t const *cfg = &a->flow.lockout;
	size_t len = strlen(by);
	lockout_facts_t f;

	*taken = false;
	if (lockout_decayed(cfg, &row->pair_record, now)) {
		(void)store_failure_forget(a->conn, by, len, "", LOCKOUT_PAIR, &row->pair_record);
	}
	if (lockout_decayed(cfg, &row->name_record, now)) {
		(void)store_failure_forget(a->conn, by, len, "", LOCKOUT_NAME, &row->name_record);
	}
	memset(&f, 0, sizeof(f));
	f.pair = lockout_effective(cfg, &row->pair_record, now);
	f.name = lockout_effective(cfg, &row->name_record, now);
	f.now = now;
	if (lockout_before_take(cfg, &f) != LOCKOUT_GO) return "locked out";
	if (store_failure_take(a->conn, by, len, "", now, pair, name) != STORE_OK) {
		*err = admin_db_fail(a, "lockout count");
		return NULL;
	}
	f.pair = *pair;
	f.name = *name;
	if (lockout_after_take(cfg, &f) != LOCKOUT_GO) {
		(void)store_failure_give_back(a->conn, by, len, "");
		return "locked out";
	}
	*taken = true;
	return NULL;
}

/* A failed proof stays counted; lock the pair or the name when the core says this failure reaches it. */
static void proof_failure_counted(admin_t *a, char const *by, lockout_record_t const *pair,
				  lockout_record_t const *name, int64_t now)
{
	int64_t until = 0;

	if (lockout_after_failure(&a->flow.lockout, LOCKOUT_PAIR, pair->failures, pair->lockouts, now, &until)) {
		(void)store_failure_lock(a->conn, by, strlen(by), "", LOCKOUT_PAIR, pair->lockouts, until);
	}
	if (lockout_after_failure(&a->flow.lockout, LOCKOUT_NAME, name->failures, name->lockouts, now, &until)) {
		(void)store_failure_lock(a->conn, by, strlen(by), "", LOCKOUT_NAME, name->lockouts, until);
	}
}

int admin_authorize(admin_t *a, char const *by, store_company_t const *company, uint64_t user_id,
		    char const *action, char const *refused_event, admin_actor_t *who)
{
	char detail[512];
	char const *why = NULL;
	store_login_t row;
	int err = 0;

	memset(who, 0, sizeof(*who));
	os_user_name(who->os_user, sizeof(who->os_user));
	if (!by) {
		if (is_operator(a)) return 0;
		snprintf(detail, sizeof(detail), "refused: %s: OS user %s is not root or of admin.operator_group; "
			 "give --by LOGIN", action, who->os_user);
		admin_audit(a, "vrms2fa-admin", user_id, company ? company->id : 0, refused_event, detail);
		return admin_fail("refused: %s without --by needs root or a member of admin.operator_group (you are %s)",
				  action, who->os_user);
	}
	if ((err = admin_check_login(by)) != 0) return err;

	memset(&row, 0, sizeof(row));
	if (store_login_lookup(a->conn, by, strlen(by), "", "", a->now, NULL, &row) != STORE_OK) {
		return admin_db_fail(a, "administrator lookup");
	}
	if (!row.user_found || !company || row.company_id != company->id || row.group != GROUP_ADMINISTRATOR ||
	    row.disabled) {
		why = "not an enabled administrator of this company";
	} else {
		int64_t now = row.database_now > 0 ? row.database_now : a->now;
		lockout_record_t pair, name;
		bool taken = false, proved;

		why = proof_lockout_take(a, by, &row, now, &pair, &name, &taken, &err);
		if (err) {
			OPENSSL_cleanse(&row, sizeof(row));
			return err;
		}
		if (!why) {
			proved = proof_holds(a, &row, by, &why, &err);
			if (!proved && !err) proof_failure_counted(a, by, &pair, &name, now);	/* a wrong proof counts */
			else if (taken) (void)store_failure_give_back(a->conn, by, strlen(by), "");
			if (err) {
				OPENSSL_cleanse(&row, sizeof(row));
				return err;
			}
		}
	}
	if (why) {
		snprintf(detail, sizeof(detail), "refused: %s by %s (OS user %s): %s", action, by, who->os_user, why);
		admin_audit(a, by, row.user_found ? row.user_id : 0, company ? company->id : 0, refused_event, detail);
		OPENSSL_cleanse(&row, sizeof(row));
		if (company) return admin_fail("refused: %s is not an enabled administrator of company %s, or did not prove it (%s)",
					       by, company->name, why);
		return admin_fail("refused: %s: only an operator may do this (%s)", action, why);
	}
	snprintf(who->by, sizeof(who->by), "%s", by);
	who->by_id = row.user_id;
	OPENSSL_cleanse(&row, sizeof(row));
	return 0;
}

void admin_audit(admin_t *a, char const *actor, uint64_t user_id, uint64_t company_id, char const *event,
		 char const *detail)
{
	char host[128] = "";
	char source[200];

	char os_user[64];

	if (gethostname(host, sizeof(host) - 1) != 0) snprintf(host, sizeof(host), "unknown");
	os_user_name(os_user, sizeof(os_user));
	/* the OS user who ran the command: SUDO_USER through sudo, else the uid's name */
	snprintf(source, sizeof(source), "vrms2fa-admin@%.64s os-user=%s", host, os_user);
	if (store_audit(a->conn, a->now, actor, user_id, company_id, event, detail, source) != STORE_OK) {
		fprintf(stderr, "vrms2fa-admin: warning: audit row not written: %s\n", store_last_error(a->conn));
	}
}

int admin_user(admin_t *a, char const *login, store_user_t *user)
{
	store_status_t rc;
	int err;

	if ((err = admin_check_login(login)) != 0) return err;
	rc = store_user_get(a->conn, login, user);
	if (rc == STORE_NOT_FOUND) return admin_fail("no such user: %s", login);
	if (rc != STORE_OK) return admin_db_fail(a, "user lookup");
	return 0;
}

void admin_format_time(int64_t t, char *out, size_t outlen)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || strftime(out, outlen, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0) {
		snprintf(out, outlen, "%lld", (long long)t);
	}
}

/* JSON */

static void json_comma(json_t *j)
{
	if (j->need_comma[j->depth]) putchar(',');
	j->need_comma[j->depth] = true;
}

static void json_quote(char const *s)
{
	unsigned char const *p = (unsigned char const *)s;

	putchar('"');
	for (; *p; p++) {
		switch (*p) {
		case '"':  fputs("\\\"", stdout); break;
		case '\\': fputs("\\\\", stdout); break;
		case '\n': fputs("\\n", stdout); break;
		case '\r': fputs("\\r", stdout); break;
		case '\t': fputs("\\t", stdout); break;
		default:
			if (*p < 0x20) printf("\\u%04x", *p);
			else putchar(*p);
		}
	}
	putchar('"');
}

static void json_key(json_t *j, char const *key)
{
	json_comma(j);
	if (key) {
		json_quote(key);
		putchar(':');
	}
}

void json_open(json_t *j, char const *key, char open)
{
	if (j->depth > 0 || key) json_key(j, key);
	putchar(open);
	if (j->depth < 15) j->depth++;
	j->need_comma[j->depth] = false;
}

void json_close(json_t *j, char close)
{
	putchar(close);
	if (j->depth > 0) j->depth--;
}

void json_str(json_t *j, char const *key, char const *value)
{
	json_key(j, key);
	json_quote(value);
}

void json_int(json_t *j, char const *key, int64_t value)
{
	json_key(j, key);
	printf("%lld", (long long)value);
}

void json_bool(json_t *j, char const *key, bool value)
{
	json_key(j, key);
	fputs(value ? "true" : "false", stdout);
}

void json_null(json_t *j, char const *key)
{
	json_key(j, key);
	fputs("null", stdout);
}

void json_end(json_t *j)
{
	(void)j;
	putchar('\n');
}

/* local@domain: one '@', both sides non-empty, clean UTF-8 without spaces, at most 254 bytes. */
bool admin_email_valid(char const *email)
{
	char const *at = strchr(email, '@');
	size_t len = strlen(email), i;

	if (!at || at == email || at[1] == '\0' || strchr(at + 1, '@') || len > STORE_EMAIL_MAX) return false;
	if (!text_is_clean_utf8((uint8_t const *)email, len)) return false;
	for (i = 0; i < len; i++) {
		if (email[i] == ' ' || email[i] == ',' || email[i] == '<' || email[i] == '>') return false;
	}
	return true;
}

