/*
 * cmd_db.c - "db migrate": apply the numbered files of sql/ (NNN_name.sql)
 * above the recorded schema version, in order.  Idempotent.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"

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

int cmd_db(admin_t *a, int argc, char **argv)
{
	static char const usage[] = "vrms2fa-admin db migrate";
	char const *pos[1] = { NULL };

	admin_parse(argc, argv, NULL, pos, 1, 0, usage);
	if (strcmp(pos[0], "migrate") != 0) {
		fprintf(stderr, "vrms2fa-admin: unknown db command '%s'\nusage: %s\n", pos[0], usage);
		return EXIT_USAGE;
	}
	return migrate(a);
}
