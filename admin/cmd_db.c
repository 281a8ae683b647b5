/*
 * cmd_db.c - "db migrate": apply the numbered files of sql/ (NNN_name.sql)
 * above the recorded schema version, in order.  Idempotent.
 * "db grants": print, or apply as the database's root, the grants of the
 * three accounts of least privilege (module, admin tool, backend: see
 * rlm_vrms2fa/store/store_grants.h).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "admin.h"
#include "../rlm_vrms2fa/core/db_tls.h"
#include "../rlm_vrms2fa/store/store_grants.h"

#define MAX_MIGRATIONS 256

static int by_name(void const *x, void const *y)
{
	return strcmp(*(char * const *)x, *(char * const *)y);
}

static char *read_file(char const *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	long size;

	if (!f) return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && size < (1 << 20) && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)size + 1);
		if (buf && fread(buf, 1, (size_t)size, f) == (size_t)size) {
			buf[size] = '\0';
		} else {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

static int migrate(admin_t *a)
{
	char *names[MAX_MIGRATIONS];
	size_t count = 0, i, applied = 0;
	uint32_t version = 0;
	struct dirent *de;
	char err[512];
	DIR *dir;
	int rc = 0;

	rc = admin_connect(a);
	if (rc) return rc;
	/*
	 * A schema file is several statements in one query: this connection,
	 * and no other of the tool's or the module's, accepts that.  It is
	 * opened again with the flag (admin_connect reads the configuration,
	 * which resets it).
	 */
	store_close(a->conn);
	a->store.multi_statements = true;
	a->conn = store_open(&a->store, err, sizeof(err));
	if (!a->conn) return admin_fail("%s", err);
	if (store_schema_version(a->conn, &version) != STORE_OK) return admin_db_fail(a, "schema version");

	dir = opendir(a->sql_dir);
	if (!dir) return admin_fail("cannot open the schema folder %s", a->sql_dir);
	while ((de = readdir(dir)) && count < MAX_MIGRATIONS) {
		size_t n = strlen(de->d_name);

		if (n > 8 && de->d_name[0] >= '0' && de->d_name[0] <= '9' && strcmp(de->d_name + n - 4, ".sql") == 0) {
			names[count] = strdup(de->d_name);
			if (names[count]) count++;
		}
	}
	closedir(dir);
	qsort(names, count, sizeof(names[0]), by_name);

	for (i = 0; i < count && rc == 0; i++) {
		uint32_t number = (uint32_t)strtoul(names[i], NULL, 10);
		char path[4096];
		char *script;

		if (number <= version) continue;
		snprintf(path, sizeof(path), "%s/%s", a->sql_dir, names[i]);
		script = read_file(path);
		if (!script) {
			rc = admin_fail("cannot read %s", path);
			break;
		}
		if (store_schema_apply(a->conn, number, script, a->now) != STORE_OK) {
			rc = admin_fail("migration %s failed: %s", names[i], store_last_error(a->conn));
		} else {
			version = number;
			applied++;
		}
		free(script);
	}
	for (i = 0; i < count; i++) free(names[i]);
	if (rc) return rc;

	if (a->json) {
		json_t j = { 0 };
		json_open(&j, NULL, '{');
		json_int(&j, "version", version);
		json_int(&j, "applied", (int64_t)applied);
		json_close(&j, '}');
		json_end(&j);
	} else {
		printf("schema at version %u (%zu migration%s applied)\n", version, applied, applied == 1 ? "" : "s");
	}
	return 0;
}

#define GRANTS_TEXT_MAX	4096
#define DEBIAN_SOCKET	"/run/mysqld/mysqld.sock"

typedef struct {
	store_role_t	role;
	char const	*user;
	char		sql[GRANTS_TEXT_MAX];
} role_grants_t;

/*
 * The connection that applies the grants: the configured server, as
 * `as` (default root) with the password given on stdin (default none: root
 * by unix_socket over the local socket).  A loopback server is reached over
 * its socket (--socket, database.socket, or Debian's); any other over TCP
 * with the configured TLS.  Multi-statement: the grants are one script.
 */
static int open_root(admin_t *a, char const *as, char const *socket, char const *password)
{
	store_config_t cfg = a->store;
	char err[512];

	cfg.user = as;
	cfg.password = password;
	cfg.multi_statements = true;
	if (socket || (a->store.socket && a->store.socket[0]) || db_tls_host_is_loopback(a->store.host)) {
		cfg.host = "";
		cfg.socket = socket ? socket : (a->store.socket && a->store.socket[0]) ? a->store.socket : DEBIAN_SOCKET;
		cfg.tls = cfg.tls_verify = cfg.tls_enforce = false;	/* a local socket: nothing leaves the machine */
	}
	a->conn = store_open(&cfg, err, sizeof(err));
	if (!a->conn) return admin_fail("%s (db grants --apply connects as %s: --as USER, --socket PATH, --password-stdin)",
					err, as);
	return 0;
}

static int grants(admin_t *a, int argc, char **argv)
{
	static char const usage[] =
		"vrms2fa-admin db grants [--apply [--as USER] [--socket PATH] [--password-stdin]]\n"
		"        [--module-user U] [--admin-user U] [--backend-user U] [--host H]\n"
		"  prints (or applies, as the database's root) the grants of the module's, the admin tool's and the\n"
		"  backend's accounts; the accounts must exist (CREATE USER) and the schema be migrated";
	char const *as = "root", *socket = NULL, *host = "localhost";
	char const *module_user = NULL, *admin_user = NULL, *backend_user = NULL;
	bool apply = false, password_stdin = false;
	admin_option_t const opts[] = {
		{ "--apply", false, NULL, &apply },
		{ "--as", true, &as, NULL },
		{ "--socket", true, &socket, NULL },
		{ "--password-stdin", false, NULL, &password_stdin },
		{ "--module-user", true, &module_user, NULL },
		{ "--admin-user", true, &admin_user, NULL },
		{ "--backend-user", true, &backend_user, NULL },
		{ "--host", true, &host, NULL },
		{ NULL, false, NULL, NULL }
	};
	role_grants_t *roles;
	char password[PASSWORD_MAX_LEN + 2] = "";
	size_t i, len = 0;
	int rc;

	admin_parse(argc, argv, opts, NULL, 0, 0, usage);
	rc = admin_load_config(a);
	if (rc) return rc;
	if (!module_user) module_user = a->settings.db_login;
	if (!admin_user) {
		admin_user = (a->settings.db_admin_login && a->settings.db_admin_login[0]) ? a->settings.db_admin_login
											     : "vrms2fa_admin";
	}
	if (!backend_user) backend_user = "vrms2fa_backend";
	if (strcmp(module_user, admin_user) == 0 || strcmp(module_user, backend_user) == 0 ||
	    strcmp(admin_user, backend_user) == 0) {
		return admin_fail("the module's, the admin tool's and the backend's accounts must be three different "
				  "accounts (%s, %s, %s)", module_user, admin_user, backend_user);
	}
	if (!store_grants_host_valid(host)) {
		return admin_fail("--host '%s': only letters, digits and . %% : - _ may be used", host);
	}
	if (!store_grants_database_valid(a->store.database)) {
		return admin_fail("database.name '%s': only letters, digits, _ and $ may be used with db grants",
				  a->store.database);
	}

	roles = talloc_zero_array(a->ctx, role_grants_t, STORE_ROLE_COUNT);
	if (!roles) return admin_fail("out of memory");
	/* applied in this order: the admin tool's account first (it owns the schema) */
	roles[0].role = STORE_ROLE_ADMIN;
	roles[0].user = admin_user;
	roles[1].role = STORE_ROLE_MODULE;
	roles[1].user = module_user;
	roles[2].role = STORE_ROLE_BACKEND;
	roles[2].user = backend_user;
	for (i = 0; i < STORE_ROLE_COUNT; i++) {
		if (!store_grants_user_valid(roles[i].user)) {
			return admin_fail("%s account '%s': only letters, digits and . - _ may be used (at most 80)",
					  store_role_name(roles[i].role), roles[i].user);
		}
		if (store_grants_render(roles[i].role, a->store.database, roles[i].user, host, roles[i].sql,
					sizeof(roles[i].sql)) != 0) {
			return admin_fail("cannot write the grants of the %s account", store_role_name(roles[i].role));
		}
	}

	if (apply) {
		if (password_stdin && (rc = admin_read_password(password, sizeof(password), &len))) return rc;
		rc = open_root(a, as, socket, password);
		OPENSSL_cleanse(password, sizeof(password));
		if (rc) return rc;
		for (i = 0; i < STORE_ROLE_COUNT; i++) {
			bool exists = false;

			if (store_grants_account_exists(a->conn, roles[i].user, host, &exists) != STORE_OK) {
				return admin_db_fail(a, "db grants (reading mysql.user)");
			}
			if (!exists) {
				return admin_fail("the %s account '%s'@'%s' does not exist: CREATE USER '%s'@'%s' IDENTIFIED BY "
						  "'...' first (as root)", store_role_name(roles[i].role), roles[i].user,
						  host, roles[i].user, host);
			}
		}
		for (i = 0; i < STORE_ROLE_COUNT; i++) {
			if (store_grants_apply(a->conn, roles[i].sql) != STORE_OK) {
				return admin_fail("the grants of the %s account '%s'@'%s' failed: %s (has vrms2fa-admin db "
						  "migrate run? the grants name its tables and procedures)",
						  store_role_name(roles[i].role), roles[i].user, host,
						  store_last_error(a->conn));
			}
		}
	}

	if (a->json) {
		json_t j = { 0 };

		json_open(&j, NULL, '{');
		json_bool(&j, "applied", apply);
		json_str(&j, "database", a->store.database);
		json_open(&j, "accounts", '[');
		for (i = 0; i < STORE_ROLE_COUNT; i++) {
			char *line, *save = NULL, *text = talloc_strdup(a->ctx, roles[i].sql);

			if (!text) return admin_fail("out of memory");
			json_open(&j, NULL, '{');
			json_str(&j, "role", store_role_name(roles[i].role));
			json_str(&j, "user", roles[i].user);
			json_str(&j, "host", host);
			json_open(&j, "statements", '[');
			for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
				json_str(&j, NULL, line);
			}
			json_close(&j, ']');
			json_close(&j, '}');
		}
		json_close(&j, ']');
		json_close(&j, '}');
		json_end(&j);
		return 0;
	}
	for (i = 0; i < STORE_ROLE_COUNT; i++) {
		if (apply) {
			printf("granted: %s account '%s'@'%s'\n", store_role_name(roles[i].role), roles[i].user, host);
		} else {
			printf("-- the %s account\n%s", store_role_name(roles[i].role), roles[i].sql);
		}
	}
	return 0;
}

static int migrate_command(admin_t *a, int argc, char **argv)
{
	admin_parse(argc, argv, NULL, NULL, 0, 0, "vrms2fa-admin db migrate");
	return migrate(a);
}

int cmd_db(admin_t *a, int argc, char **argv)
{
	static admin_subcommand_t const subs[] = {
		{ "migrate", migrate_command },
		{ "grants", grants },
	};

	return admin_dispatch(a, argc, argv, subs, sizeof(subs) / sizeof(subs[0]),
			      "vrms2fa-admin db migrate | db grants [--apply] [--module-user U --admin-user U "
			      "--backend-user U --host H]");
}
