/*
 * admin_util.c - the shared pieces of vrms2fa-admin (see admin.h): reading
 * the module's configuration with libfreeradius-server's parser, the
 * database connection, option parsing, JSON output.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"

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

int admin_read_password(char *out, size_t outlen, size_t *len)
{
	size_t n;

	if (!fgets(out, (int)outlen, stdin)) return admin_fail("no password on standard input");
	n = strlen(out);
	if (n && out[n - 1] == '\n') out[--n] = '\0';
	else if (n == outlen - 1) return admin_fail("password too long (at most %d bytes)", PASSWORD_MAX_LEN);
	if (n && out[n - 1] == '\r') out[--n] = '\0';
	if (n == 0) return admin_fail("empty password on standard input");
	*len = n;
	return 0;
}

void admin_audit(admin_t *a, char const *actor, uint64_t user_id, uint64_t company_id, char const *event,
		 char const *detail)
{
	char host[128] = "";
	char source[160];

	if (gethostname(host, sizeof(host) - 1) != 0) snprintf(host, sizeof(host), "unknown");
	snprintf(source, sizeof(source), "vrms2fa-admin@%s", host);
	if (store_audit(a->conn, a->now, actor, user_id, company_id, event, detail, source) != STORE_OK) {
		fprintf(stderr, "vrms2fa-admin: warning: audit row not written: %s\n", store_last_error(a->conn));
	}
}

int admin_user(admin_t *a, char const *login, store_user_t *user)
{
	store_status_t rc = store_user_get(a->conn, login, user);

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
