/*
 * cmd_check.c - "vrms2fa-admin check": what an operator runs after
 * "freeradius -XC", which parses the configuration but neither reaches the
 * database nor the mail server.  It reads the module's configuration as
 * the module does and checks, one line each, "ok" or the problem and the
 * command that fixes it:
 *
 *   config file     mode and owner (it holds the database password)
 *   database        a connection with the module's settings
 *   database tls    whether that connection is encrypted (TLS version,
 *                   cipher, certificate verified), and a clear connection
 *                   that leaves the machine named as a problem
 *   schema          the applied migrations against the shipped ones
 *   grants          SHOW GRANTS of the account against what the module needs
 *   key file        mode and owner as the module demands, every key id in use
 *                   present, and each opening one of the secrets it sealed
 *   email hook      the shipped hook in its --check mode, as radiusd's user
 *   module enabled  a mods-enabled entry for the configuration
 *   dictionary      the raddb dictionary includes dictionary.vrms2fa
 *   virtual server  an enabled site calls vrms2fa in authorize and in
 *                   authenticate (Auth-Type vrms2fa)
 *
 * Exit status 0 only when every check holds, 1 otherwise, 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "admin.h"
#include "../rlm_vrms2fa/store/store_check.h"
#include "../rlm_vrms2fa/core/db_tls.h"
#include "../rlm_vrms2fa/store/store_grants.h"

#define CHECK_MAX	16
#define TEXT_MAX	600
#define HOOK_CHECK_SECONDS 60	/* the hook bounds its own exchange by 3 x its [smtp] timeout (10 s by default) */

typedef struct {
	char const	*name;
	bool		ok;
	char		detail[TEXT_MAX];
	char		fix[TEXT_MAX];
} check_line_t;

typedef struct {
	admin_t		*a;
	check_line_t	lines[CHECK_MAX];
	size_t		count;

	char		raddb[PATH_MAX];
	char		share[PATH_MAX];	/* the package's data folder: sql/.., raddb files, the email example */
	char		run_user[64];		/* the user radiusd runs as (radiusd.conf security { user }) */
	char		run_group[64];
	CONF_SECTION	*cs;			/* the vrms2fa section, NULL when the file did not parse */
	bool		db_ok;
} check_t;

/* Record one line of the report; fix is NULL when ok. */
static void CC_HINT(format(printf, 4, 5)) add(check_t *c, char const *name, char const *fix, char const *fmt, ...)
{
	check_line_t *l;
	va_list ap;

	if (c->count == CHECK_MAX) return;
	l = &c->lines[c->count++];
	l->name = name;
	l->ok = (fix == NULL);
	va_start(ap, fmt);
	vsnprintf(l->detail, sizeof(l->detail), fmt, ap);
	va_end(ap);
	snprintf(l->fix, sizeof(l->fix), "%s", fix ? fix : "");
}

/* Format into a buffer and return it (for the fix argument of add()). */
static char const * CC_HINT(format(printf, 3, 4)) fmt(char *buf, size_t len, char const *f, ...)
{
	va_list ap;

	va_start(ap, f);
	vsnprintf(buf, len, f, ap);
	va_end(ap);
	return buf;
}

static void owner_text(struct stat const *st, char *out, size_t len)
{
	struct passwd *pw = getpwuid(st->st_uid);
	struct group *gr = getgrgid(st->st_gid);
	char u[32], g[32];

	if (pw) snprintf(u, sizeof(u), "%s", pw->pw_name);
	else snprintf(u, sizeof(u), "%u", (unsigned)st->st_uid);
	if (gr) snprintf(g, sizeof(g), "%s", gr->gr_name);
	else snprintf(g, sizeof(g), "%u", (unsigned)st->st_gid);
	snprintf(out, len, "%04o %s:%s", (unsigned)(st->st_mode & 07777), u, g);
}

/*
 * The user and group radiusd switches to: the first uncommented "user =" and
 * "group =" of radiusd.conf (Debian: freerad); root when there is none.
 */
static void read_run_user(check_t *c)
{
	char path[PATH_MAX + 32], line[512];
	bool user_seen = false, group_seen = false;
	FILE *f;

	snprintf(c->run_user, sizeof(c->run_user), "root");
	snprintf(c->run_group, sizeof(c->run_group), "root");
	snprintf(path, sizeof(path), "%s/radiusd.conf", c->raddb);
	f = fopen(path, "r");
	if (!f) return;
	while (fgets(line, sizeof(line), f)) {
		char key[16], value[64];

		if (sscanf(line, " %15[a-z] = %63[A-Za-z0-9_.-]", key, value) != 2) continue;
		if (strcmp(key, "user") == 0 && !user_seen) {
			snprintf(c->run_user, sizeof(c->run_user), "%s", value);
			user_seen = true;
		} else if (strcmp(key, "group") == 0 && !group_seen) {
			snprintf(c->run_group, sizeof(c->run_group), "%s", value);
			group_seen = true;
		}
	}
	fclose(f);
}

/* The configuration file: not readable by others, not writable by its group. */
static void check_config_file(check_t *c)
{
	char const *path = c->a->config_path;
	char own[128], fix[TEXT_MAX];
	struct stat st;

	if (stat(path, &st) != 0) {
		add(c, "config file", fmt(fix, sizeof(fix), "install -m 0640 -o root -g %s %s/raddb/mods-available/vrms2fa %s",
					  c->run_group, c->share, path),
		    "%s: %s", path, strerror(errno));
		return;
	}
	owner_text(&st, own, sizeof(own));
	if ((st.st_mode & 007) != 0 || (st.st_mode & 020) != 0) {
		add(c, "config file", fmt(fix, sizeof(fix), "chown root:%s %s && chmod 0640 %s", c->run_group, path, path),
		    "%s is %s: %s, and it holds the database password", path, own,
		    (st.st_mode & 007) ? "others may read it" : "its group may change it");
		return;
	}
	add(c, "config file", NULL, "%s (%s)", path, own);
}

/*
 * Read the vrms2fa section with the module's parser table, as admin_connect()
 * does, but without leaving: the FreeRADIUS checks run whatever happens here.
 */
static bool read_settings(check_t *c)
{
	admin_t *a = c->a;
	CONF_SECTION *root;
	char fix[TEXT_MAX];

	snprintf(fix, sizeof(fix), "correct %s (freeradius -XC names the bad option)", a->config_path);
	if (access(a->config_path, R_OK) != 0) {
		add(c, "settings", fix, "cannot read %s: %s", a->config_path, strerror(errno));
		return false;
	}
	root = cf_section_alloc(NULL, "main", NULL);
	if (!root) {
		add(c, "settings", fix, "out of memory");
		return false;
	}
	(void)talloc_steal(a->ctx, root);
	if (cf_file_read(root, a->config_path) < 0) {
		add(c, "settings", fix, "cannot parse %s", a->config_path);
		return false;
	}
	c->cs = cf_section_sub_find(root, "vrms2fa");
	if (!c->cs) {
		add(c, "settings", fix, "no 'vrms2fa { }' section in %s", a->config_path);
		return false;
	}
	if (cf_section_parse(c->cs, &a->settings, vrms2fa_settings_parser) < 0 ||
	    vrms2fa_settings_check(&a->settings, c->cs, &a->flow, &a->store) != 0) {
		c->cs = NULL;
		add(c, "settings", fix, "invalid 'vrms2fa' section in %s", a->config_path);
		return false;
	}
	return true;
}

static void check_database(check_t *c)
{
	admin_t *a = c->a;
	char err[512], fix[TEXT_MAX];

	a->conn = store_open(&a->store, err, sizeof(err));
	if (!a->conn) {
		add(c, "database", fmt(fix, sizeof(fix),
				       "correct database { server port socket login password name } in %s, or start the "
				       "database (systemctl start mariadb)", a->config_path),
		    "%s", err);
		return;
	}
	c->db_ok = true;
	add(c, "database", NULL, "connected to %s as %s", a->store.database,
	    a->store.user ? a->store.user : "(default user)");
}

/*
 * The TLS row: what the connection check_database opened is (encrypted or
 * not, verified or not).  A clear connection is a problem only when the
 * server is not on this machine (then database.tls.required = no let it).
 */
static void check_database_tls(check_t *c)
{
	admin_t *a = c->a;
	char const *cipher, *version;
	char const *where = (a->store.host && a->store.host[0]) ? a->store.host : "localhost";
	char fix[TEXT_MAX];

	if (!c->db_ok) return;
	cipher = store_tls_cipher(a->conn);
	if (cipher) {
		version = store_tls_version(a->conn);
		add(c, "database tls", NULL, "%s %s to %s, server certificate %s", version ? version : "TLS", cipher,
		    where, a->store.tls_verify ? "verified against database.tls.ca_file" : "NOT verified");
		return;
	}
	if ((a->store.socket && a->store.socket[0] && !(a->store.host && a->store.host[0]))
	    || db_tls_host_is_loopback(a->store.host)) {
		add(c, "database tls", NULL, "not encrypted (%s is on this machine)", where);
		return;
	}
	add(c, "database tls", fmt(fix, sizeof(fix), "set database { tls { ca_file } } in %s and enable TLS on the "
				   "server (ssl_cert, ssl_key), then remove required = no", a->config_path),
	    "not encrypted to %s, which is not on this machine: hashes and trust rows cross the network in clear",
	    where);
}

/* The highest NNN of the sql folder's NNN_name.sql files; 0 when none. */
static uint32_t shipped_schema(char const *dir)
{
	struct dirent *de;
	uint32_t max = 0;
	DIR *d = opendir(dir);

	if (!d) return 0;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);

		if (n > 8 && de->d_name[0] >= '0' && de->d_name[0] <= '9' && strcmp(de->d_name + n - 4, ".sql") == 0) {
			uint32_t v = (uint32_t)strtoul(de->d_name, NULL, 10);

			if (v > max) max = v;
		}
	}
	closedir(d);
	return max;
}

static void check_schema(check_t *c)
{
	admin_t *a = c->a;
	uint32_t version = 0, shipped = shipped_schema(a->sql_dir);
	bool found = false;

	if (!c->db_ok) return;
	if (store_check_schema_version(a->conn, &version, &found) != STORE_OK) {
		add(c, "schema", "vrms2fa-admin db migrate", "cannot read the schema version: %s", store_last_error(a->conn));
		return;
	}
	if (shipped == 0) {
		add(c, "schema", "make install (the schema files are missing)", "no migrations in %s", a->sql_dir);
		return;
	}
	if (!found || version < shipped) {
		add(c, "schema", "vrms2fa-admin db migrate", "at version %u, the installed migrations reach %u", version, shipped);
		return;
	}
	if (version > shipped) {
		add(c, "schema", "install the release that made this database",
		    "at version %u, newer than this release's %u", version, shipped);
		return;
	}
	add(c, "schema", NULL, "version %u", version);
}

/* "SELECT, INSERT" of the bits in mask. */
static void priv_list(unsigned mask, char *out, size_t len)
{
	unsigned i;
	size_t used = 0;

	out[0] = '\0';
	for (i = 0; i < STORE_PRIV_COUNT; i++) {
		if (!(mask & (1u << i))) continue;
		used += (size_t)snprintf(out + used, used < len ? len - used : 0, "%s%s", used ? ", " : "",
					 store_priv_name(1u << i));
		if (used >= len) break;
	}
}

static void check_grants(check_t *c)
{
	admin_t *a = c->a;
	store_grants_t g;
	char missing[200], extra[200], fix[TEXT_MAX], user[STORE_ACCOUNT_MAX + 1];
	char const *host = "%";
	char *at;

	if (!c->db_ok) return;
	if (store_check_grants(a->conn, &g) != STORE_OK) {
		add(c, "grants", "check that the account may run SHOW GRANTS", "cannot read the grants: %s",
		    store_last_error(a->conn));
		return;
	}
	snprintf(user, sizeof(user), "%s", g.account);
	at = strrchr(user, '@');
	if (at) {
		*at = '\0';
		host = at + 1;
	}
	priv_list(STORE_PRIV_MODULE & ~g.held, missing, sizeof(missing));
	priv_list(g.held & ~STORE_PRIV_MODULE, extra, sizeof(extra));
	if (missing[0]) {
		/* not on the whole database: maybe table by table, as "db grants" gives them */
		bool complete = false;
		char table_missing[TEXT_MAX];

		if (store_grants_module_check(a->conn, &complete, table_missing, sizeof(table_missing)) == STORE_OK &&
		    complete) {
			add(c, "grants", NULL, "'%s'@'%s' has the module's privileges on the tables of %s "
			    "(as vrms2fa-admin db grants gives them)", user, host, g.database);
			return;
		}
		add(c, "grants", fmt(fix, sizeof(fix), "GRANT SELECT, INSERT, UPDATE, DELETE ON `%s`.* TO '%s'@'%s';",
				     g.database, user, host),
		    "'%s'@'%s' lacks %s on %s: the module needs SELECT, INSERT, UPDATE, DELETE", user, host, missing,
		    g.database);
		return;
	}
	if (extra[0]) {
		add(c, "grants", NULL, "'%s'@'%s' has SELECT, INSERT, UPDATE, DELETE on %s (also %s: %s)", user, host,
		    g.database, extra, (g.held & ~(STORE_PRIV_MODULE | STORE_PRIV_MIGRATE)) ?
		    "more than the module and db migrate need" : "for db migrate");
	} else {
		add(c, "grants", NULL, "'%s'@'%s' has SELECT, INSERT, UPDATE, DELETE on %s", user, host, g.database);
	}
}

typedef struct {
	secretbox_keyring_t const	*ring;
	char				missing[200];
	size_t				used;
	char				wrong[200];	/* keys present that do not open their secrets */
	size_t				wrong_used;
	uint64_t			secrets;
	unsigned			ids;
} key_scan_t;

/* One key id in use: present in the key file, and opening a secret it sealed. */
static int key_in_use(uint32_t key_id, uint64_t count, uint64_t user_id, uint8_t const *sealed, size_t sealed_len,
		      void *arg)
{
	key_scan_t *k = arg;
	uint8_t plain[SECRETBOX_MAX_PLAINTEXT];
	size_t plain_len = 0, i;

	k->ids++;
	k->secrets += count;
	for (i = 0; i < k->ring->count; i++) {
		if (k->ring->keys[i].id == key_id) break;
	}
	if (i == k->ring->count) {
		if (k->used < sizeof(k->missing)) {
			k->used += (size_t)snprintf(k->missing + k->used, sizeof(k->missing) - k->used, "%s%u (%llu secret%s)",
						    k->used ? ", " : "", key_id, (unsigned long long)count, count == 1 ? "" : "s");
		}
		return 0;
	}
	if (secretbox_open(k->ring, user_id, sealed, sealed_len, plain, sizeof(plain), &plain_len) != 0) {
		if (k->wrong_used < sizeof(k->wrong)) {
			k->wrong_used += (size_t)snprintf(k->wrong + k->wrong_used, sizeof(k->wrong) - k->wrong_used,
							  "%s%u (the secret of user id %llu)", k->wrong_used ? ", " : "",
							  key_id, (unsigned long long)user_id);
		}
	}
	OPENSSL_cleanse(plain, sizeof(plain));
	return 0;
}

/*
 * The key file as the module checks it (secretbox_keyring_load: a regular
 * file, no access for group or others, well-formed, key_id present), owned
 * by radiusd's user so that radiusd can read it after dropping root, and
 * every key id the stored secrets name present.
 */
static void check_key_file(check_t *c)
{
	admin_t *a = c->a;
	char const *path = a->settings.key_file;
	struct passwd *pw = getpwnam(c->run_user);
	char own[128], fix[TEXT_MAX], err[512];
	key_scan_t k;
	struct stat st;

	if (stat(path, &st) != 0) {
		add(c, "key file", fmt(fix, sizeof(fix), "(umask 077; printf '1 %%s\\n' \"$(openssl rand -hex 32)\" > %s) && "
				       "chown %s:%s %s (only for a new installation: existing secrets need the old key)",
				       path, c->run_user, c->run_group, path),
		    "%s: %s", path, strerror(errno));
		return;
	}
	owner_text(&st, own, sizeof(own));
	if (S_ISREG(st.st_mode) && (st.st_mode & 077) != 0) {
		add(c, "key file", fmt(fix, sizeof(fix), "chmod 0600 %s", path),
		    "%s is %s: group or others may read or change it (the module refuses to start)", path, own);
		return;
	}
	if (pw && pw->pw_uid != 0 && st.st_uid != pw->pw_uid) {
		add(c, "key file", fmt(fix, sizeof(fix), "chown %s:%s %s", c->run_user, c->run_group, path),
		    "%s is %s: radiusd runs as %s and cannot read it", path, own, c->run_user);
		return;
	}
	if (secretbox_keyring_load(path, a->settings.key_id, &a->keyring, err, sizeof(err)) != 0) {
		add(c, "key file", fmt(fix, sizeof(fix), "correct %s: lines 'ID HEX64', key_id %u among them",
				       path, a->settings.key_id), "%s", err);
		return;
	}
	a->keyring_loaded = true;	/* wiped on the way out */
	if (!c->db_ok) {
		add(c, "key file", NULL, "%s (%s), %zu key%s, key_id %u present (key ids in use not checked: no database)",
		    path, own, a->keyring.count, a->keyring.count == 1 ? "" : "s", a->settings.key_id);
		return;
	}
	memset(&k, 0, sizeof(k));
	k.ring = &a->keyring;
	if (store_check_key_ids(a->conn, key_in_use, &k) != STORE_OK) {
		add(c, "key file", "vrms2fa-admin db migrate", "cannot read the key ids in use: %s", store_last_error(a->conn));
		return;
	}
	if (k.used) {
		add(c, "key file", fmt(fix, sizeof(fix), "restore the missing key lines ('ID HEX64') in %s from its backup",
				       path),
		    "%s lacks key %s: those users cannot log in", path, k.missing);
		return;
	}
	if (k.wrong_used) {
		add(c, "key file", fmt(fix, sizeof(fix), "restore %s from its backup: the key lines that sealed these "
				       "secrets", path),
		    "key %s of %s does not open what it sealed: not the key of this database", k.wrong, path);
		return;
	}
	add(c, "key file", NULL, "%s (%s), %zu key%s, key_id %u present; %llu secret%s under %u key id%s, all present",
	    path, own, a->keyring.count, a->keyring.count == 1 ? "" : "s", a->settings.key_id,
	    (unsigned long long)k.secrets, k.secrets == 1 ? "" : "s", k.ids, k.ids == 1 ? "" : "s");
}

/* Switch to radiusd's user in the child, so the hook sees the files as radiusd's hook will. */
static int drop_to(char const *user)
{
	struct passwd *pw;

	if (geteuid() != 0) return 0;
	pw = getpwnam(user);
	if (!pw || pw->pw_uid == 0) return 0;
	if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) return -1;
	return 0;
}

/*
 * Run argv (the hook with --check) as radiusd's user, without a shell, its
 * output collected into out (one or more lines), for at most
 * HOOK_CHECK_SECONDS.  Returns its exit status, 126 when it could not run,
 * 124 on the deadline.
 */
static int run_hook_check(check_t *c, char const *const argv[], char *out, size_t outlen)
{
	static char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", NULL };
	int pipefd[2], status = 0;
	size_t got = 0;
	time_t deadline = time(NULL) + HOOK_CHECK_SECONDS;
	pid_t pid;

	out[0] = '\0';
	if (pipe2(pipefd, O_CLOEXEC) != 0) {
		snprintf(out, outlen, "pipe: %s", strerror(errno));
		return 126;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		snprintf(out, outlen, "fork: %s", strerror(errno));
		close(pipefd[0]);
		close(pipefd[1]);
		return 126;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(pipefd[1], 1) < 0 || dup2(pipefd[1], 2) < 0) _exit(126);
		if (drop_to(c->run_user) != 0) {
			static char const msg[] = "cannot switch to radiusd's user\n";
			(void)!write(2, msg, sizeof(msg) - 1);
			_exit(126);
		}
		execve(argv[0], (char *const *)(uintptr_t)argv, envp);
		{
			static char const msg[] = "cannot execute the hook\n";
			(void)!write(2, msg, sizeof(msg) - 1);
		}
		_exit(126);
	}
	close(pipefd[1]);
	for (;;) {
		struct pollfd pfd = { .fd = pipefd[0], .events = POLLIN };
		time_t left = deadline - time(NULL);
		ssize_t n;
		char sink[256];

		if (left <= 0) {
			kill(pid, SIGKILL);
			snprintf(out, outlen, "no answer within %d s", HOOK_CHECK_SECONDS);
			close(pipefd[0]);
			(void)waitpid(pid, &status, 0);
			return 124;
		}
		if (poll(&pfd, 1, (int)left * 1000) < 0) {
			if (errno == EINTR) continue;
			break;
		}
		if (!(pfd.revents & (POLLIN | POLLHUP))) continue;
		if (got + 1 < outlen) n = read(pipefd[0], out + got, outlen - 1 - got);
		else n = read(pipefd[0], sink, sizeof(sink));
		if (n < 0 && errno == EINTR) continue;
		if (n <= 0) break;
		if (got + 1 < outlen) got += (size_t)n;
	}
	out[got] = '\0';
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR);
	while (got && (out[got - 1] == '\n' || out[got - 1] == ' ')) out[--got] = '\0';
	for (char *p = out; *p; p++) if (*p == '\n') *p = ' ';	/* one line */
	if (WIFEXITED(status)) return WEXITSTATUS(status);
	return 126;
}

static void check_email_hook(check_t *c)
{
	admin_t *a = c->a;
	char const *argv[HOOK_ARGS_MAX + 1], *run[HOOK_ARGS_MAX + 2];
	char out[TEXT_MAX - 100], fix[TEXT_MAX], *base, prog[PATH_MAX];
	char const *conf;
	struct stat st;
	size_t n;
	int status;

	if (!a->settings.email_enabled) {
		add(c, "email hook", NULL, "email.enabled = no: users without two-step verification log in from a new "
		    "address with the reminder only, no email");
		return;
	}
	if (vrms2fa_hook_argv(a->ctx, c->cs, a->settings.email_hook, argv) != 0) {
		add(c, "email hook", fmt(fix, sizeof(fix), "correct email.hook in %s", a->config_path),
		    "email.hook is not an absolute path and arguments");
		return;
	}
	if (stat(argv[0], &st) != 0 || !S_ISREG(st.st_mode) || access(argv[0], X_OK) != 0) {
		add(c, "email hook", fmt(fix, sizeof(fix), "make install, or correct email.hook in %s", a->config_path),
		    "%s is not an executable file", argv[0]);
		return;
	}
	snprintf(prog, sizeof(prog), "%s", argv[0]);
	base = basename(prog);
	if (strcmp(base, "vrms2fa-email-hook") != 0) {
		add(c, "email hook", NULL, "%s is executable (a hook of your own: not run, only the shipped hook has "
		    "a check mode)", argv[0]);
		return;
	}
	run[0] = argv[0];
	run[1] = "--check";
	for (n = 1; argv[n]; n++) run[n + 1] = argv[n];
	run[n + 1] = NULL;
	conf = n > 1 ? argv[1] : "";
	status = run_hook_check(c, run, out, sizeof(out));
	if (status == 0) {
		add(c, "email hook", NULL, "%s", out[0] ? out : "the hook's check passed");
		return;
	}
	if (status == 2 && conf[0] && stat(conf, &st) != 0) {
		add(c, "email hook", fmt(fix, sizeof(fix), "install -m 0640 -o root -g %s %s/vrms2fa-email.conf.example %s, "
				       "then set [smtp] host, port, from in it (or email.enabled = no in %s)",
				       c->run_group, c->share, conf, a->config_path),
		    "%s", out);
		return;
	}
	if (status == 2) {
		add(c, "email hook", fmt(fix, sizeof(fix), "correct %s (see %s/vrms2fa-email.conf.example); it must be "
				       "readable by %s: chown root:%s %s && chmod 0640 %s",
				       conf, c->share, c->run_user, c->run_group, conf, conf),
		    "%s", out);
		return;
	}
	add(c, "email hook", fmt(fix, sizeof(fix), "make the mail server reachable from this host, or correct [smtp] "
			       "host, port, starttls, ssl, username, password_file in %s", conf[0] ? conf : "its configuration"),
	    "%s (exit %d)", out[0] ? out : "the check failed", status);
}

/* Is the entry of mods-enabled the configuration file, or does it define a vrms2fa section? */
static bool module_file_defines(char const *path, char const *config_real)
{
	char real[PATH_MAX], line[512];
	bool found = false;
	FILE *f;

	if (realpath(path, real) && strcmp(real, config_real) == 0) return true;
	f = fopen(path, "r");
	if (!f) return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char word[16], brace[2];

		if (sscanf(line, " %15[A-Za-z0-9_] %1[{]", word, brace) == 2 && strcmp(word, "vrms2fa") == 0) found = true;
	}
	fclose(f);
	return found;
}

static void check_module_enabled(check_t *c)
{
	char dir[PATH_MAX + 16], path[PATH_MAX * 2], config_real[PATH_MAX], fix[TEXT_MAX];
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/mods-enabled", c->raddb);
	if (!realpath(c->a->config_path, config_real)) snprintf(config_real, sizeof(config_real), "%s", c->a->config_path);
	d = opendir(dir);
	if (d) {
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.') continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			if (module_file_defines(path, config_real)) {
				closedir(d);
				add(c, "module enabled", NULL, "%s", path);
				return;
			}
		}
		closedir(d);
	}
	add(c, "module enabled", fmt(fix, sizeof(fix), "ln -s ../mods-available/vrms2fa %s/vrms2fa", dir),
	    "nothing in %s loads the vrms2fa module", dir);
}

static void check_dictionary(check_t *c)
{
	char path[PATH_MAX + 16], line[1024], fix[TEXT_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/dictionary", c->raddb);
	f = fopen(path, "r");
	if (f) {
		while (fgets(line, sizeof(line), f)) {
			char inc[1024], full[PATH_MAX * 2];
			char *b;

			if (sscanf(line, " $INCLUDE %1023s", inc) != 1 && sscanf(line, " $INCLUDE- %1023s", inc) != 1) continue;
			if (inc[0] == '/') snprintf(full, sizeof(full), "%s", inc);
			else snprintf(full, sizeof(full), "%s/%s", c->raddb, inc);
			b = strrchr(full, '/');
			if (!b || strcmp(b + 1, "dictionary.vrms2fa") != 0) continue;
			fclose(f);
			if (access(full, R_OK) != 0) {
				add(c, "dictionary", "make install", "%s includes %s: %s", path, full, strerror(errno));
			} else {
				add(c, "dictionary", NULL, "%s includes %s", path, full);
			}
			return;
		}
		fclose(f);
	}
	add(c, "dictionary", fmt(fix, sizeof(fix), "echo '$INCLUDE %s/raddb/dictionary.vrms2fa' >> %s", c->share, path),
	    "%s does not include dictionary.vrms2fa", path);
}

/* What one site file does with the module. */
typedef struct {
	bool	authorize;	/* "vrms2fa" called inside authorize { } */
	bool	authenticate;	/* inside authenticate { Auth-Type vrms2fa { } } */
} site_use_t;

/*
 * A light reading of unlang: comments dropped, sections tracked by their
 * braces, a line whose first word is vrms2fa (or -vrms2fa) is a call.
 */
static void scan_site(char const *path, site_use_t *use)
{
	char line[1024], stack[32][64];
	int depth = 0;
	FILE *f = fopen(path, "r");

	if (!f) return;
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *hash, *end;
		bool in_authorize = false, in_auth_type = false;
		int i;

		hash = strchr(p, '#');
		if (hash) *hash = '\0';
		while (*p == ' ' || *p == '\t') p++;
		end = p + strlen(p);
		while (end > p && (end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r')) *--end = '\0';
		if (!*p) continue;
		while (*p == '}') {
			if (depth > 0) depth--;
			p++;
			while (*p == ' ' || *p == '\t') p++;
		}
		for (i = 0; i < depth; i++) {
			if (strcmp(stack[i], "authorize") == 0) in_authorize = true;
			if (i > 0 && strcmp(stack[i - 1], "authenticate") == 0 && strcmp(stack[i], "Auth-Type vrms2fa") == 0) {
				in_auth_type = true;
			}
		}
		{
			char const *w = (*p == '-') ? p + 1 : p;
			size_t n = strcspn(w, " \t{");

			if (n == 7 && strncmp(w, "vrms2fa", 7) == 0) {
				if (in_authorize) use->authorize = true;
				if (in_auth_type) use->authenticate = true;
			}
		}
		end = p + strlen(p);
		if (end > p && end[-1] == '{') {
			char name[64];
			size_t n = (size_t)(end - 1 - p);
			char *q;

			while (n && (p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
			if (n >= sizeof(name)) n = sizeof(name) - 1;
			memcpy(name, p, n);
			name[n] = '\0';
			for (q = name; *q; q++) if (*q == '\t') *q = ' ';
			/* "Auth-Type  vrms2fa" with several blanks reads as one */
			while ((q = strstr(name, "  "))) memmove(q, q + 1, strlen(q));
			if (depth < 32) snprintf(stack[depth], sizeof(stack[depth]), "%s", name);
			depth++;
		}
	}
	fclose(f);
}

static void check_site(check_t *c)
{
	char dir[PATH_MAX + 16], path[PATH_MAX * 2], fix[TEXT_MAX];
	char authorize_in[PATH_MAX * 2] = "", authenticate_in[PATH_MAX * 2] = "";
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/sites-enabled", c->raddb);
	d = opendir(dir);
	if (d) {
		while ((de = readdir(d))) {
			site_use_t use = { false, false };

			if (de->d_name[0] == '.') continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			scan_site(path, &use);
			if (use.authorize && !authorize_in[0]) snprintf(authorize_in, sizeof(authorize_in), "%s", path);
			if (use.authenticate && !authenticate_in[0]) snprintf(authenticate_in, sizeof(authenticate_in), "%s", path);
		}
		closedir(d);
	}
	if (!authorize_in[0]) {
		add(c, "virtual server", fmt(fix, sizeof(fix), "add a line 'vrms2fa' to authorize { } of %s/default, "
				       "before pap", dir),
		    "no site in %s calls vrms2fa in authorize: it never sees a login", dir);
		return;
	}
	if (!authenticate_in[0]) {
		add(c, "virtual server", fmt(fix, sizeof(fix), "add 'Auth-Type vrms2fa { vrms2fa }' to authenticate { } of %s",
				       authorize_in),
		    "%s calls vrms2fa in authorize, but no site has Auth-Type vrms2fa { vrms2fa } in authenticate",
		    authorize_in);
		return;
	}
	add(c, "virtual server", NULL, "%s calls vrms2fa in authorize and in authenticate (Auth-Type vrms2fa)%s%s",
	    authorize_in, strcmp(authorize_in, authenticate_in) ? ", the latter in " : "",
	    strcmp(authorize_in, authenticate_in) ? authenticate_in : "");
}

static void print_report(check_t *c)
{
	size_t i, failed = 0;

	for (i = 0; i < c->count; i++) if (!c->lines[i].ok) failed++;
	if (c->a->json) {
		json_t j = { 0 };

		json_open(&j, NULL, '{');
		json_bool(&j, "ok", failed == 0);
		json_open(&j, "checks", '[');
		for (i = 0; i < c->count; i++) {
			json_open(&j, NULL, '{');
			json_str(&j, "check", c->lines[i].name);
			json_bool(&j, "ok", c->lines[i].ok);
			json_str(&j, "detail", c->lines[i].detail);
			if (c->lines[i].ok) json_null(&j, "fix");
			else json_str(&j, "fix", c->lines[i].fix);
			json_close(&j, '}');
		}
		json_close(&j, ']');
		json_close(&j, '}');
		json_end(&j);
		return;
	}
	for (i = 0; i < c->count; i++) {
		check_line_t const *l = &c->lines[i];

		printf("%-4s  %-15s %s\n", l->ok ? "ok" : "FAIL", l->name, l->detail);
		if (!l->ok) printf("      %-15s fix: %s\n", "", l->fix);
	}
	printf("%zu of %zu checks ok\n", c->count - failed, c->count);
}

int cmd_check(admin_t *a, int argc, char **argv)
{
	static char const usage[] = "vrms2fa-admin check [--raddb DIR]\n"
		"  DIR: FreeRADIUS's configuration folder; by default the one above the module file's folder";
	char const *raddb = NULL;
	admin_option_t const opts[] = {
		{ "--raddb", true, &raddb, NULL },
		{ NULL, false, NULL, NULL }
	};
	check_t *c;
	size_t i;

	admin_parse(argc, argv, opts, NULL, 0, 0, usage);
	c = talloc_zero(a->ctx, check_t);
	if (!c) return admin_fail("out of memory");
	c->a = a;
	if (raddb) {
		size_t n;

		snprintf(c->raddb, sizeof(c->raddb), "%s", raddb);
		n = strlen(c->raddb);
		while (n > 1 && c->raddb[n - 1] == '/') c->raddb[--n] = '\0';
	} else {
		char tmp[PATH_MAX];

		if (!realpath(a->config_path, tmp)) snprintf(tmp, sizeof(tmp), "%s", a->config_path);
		snprintf(c->raddb, sizeof(c->raddb), "%s", dirname(dirname(tmp)));
	}
	snprintf(c->share, sizeof(c->share), "%s", a->sql_dir);
	{
		size_t n = strlen(c->share);

		while (n && c->share[n - 1] == '/') c->share[--n] = '\0';
		if (n > 4 && strcmp(c->share + n - 4, "/sql") == 0) c->share[n - 4] = '\0';
	}
	read_run_user(c);

	check_config_file(c);
	if (read_settings(c)) {
		check_database(c);
		check_database_tls(c);
		check_schema(c);
		check_grants(c);
		check_key_file(c);
		check_email_hook(c);
	}
	check_module_enabled(c);
	check_dictionary(c);
	check_site(c);
	print_report(c);
	for (i = 0; i < c->count; i++) {
		if (!c->lines[i].ok) return EXIT_REFUSED;
	}
	return 0;
}
