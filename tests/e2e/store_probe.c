/*
 * store_probe.c - a test helper (not installed): opens a connection with
 * the store's own store_open, as the module and the admin tool do, and
 * sends one query text through the store's raw script path
 * (store_exec_script, the path of the schema files).  test_hardening_round2.py
 * uses it to show that a connection opened without multi_statements (every
 * connection of the module) refuses "SELECT 1; SELECT 2", and that the
 * same text passes on a connection opened with it (the migration's).
 *
 *   store-probe [--multi] HOST PORT USER DATABASE SQL
 *   password: $VRMS2FA_PROBE_PASSWORD (not on the command line)
 *
 * Exit 0 and "accepted" when the text ran, 1 and "refused: <error>" when
 * the server refused it, 2 on a usage or connection error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_private.h"	/* store_exec_script: a helper of the store's own tests may use it */

int main(int argc, char **argv)
{
	store_config_t cfg;
	store_conn_t *conn;
	store_status_t rc;
	char err[512];
	int i = 1;

	memset(&cfg, 0, sizeof(cfg));
	if (argc > 1 && strcmp(argv[1], "--multi") == 0) {
		cfg.multi_statements = true;
		i++;
	}
	if (argc - i != 5) {
		fprintf(stderr, "usage: store-probe [--multi] HOST PORT USER DATABASE SQL\n");
		return 2;
	}
	cfg.host = argv[i];
	cfg.port = (uint32_t)strtoul(argv[i + 1], NULL, 10);
	cfg.user = argv[i + 2];
	cfg.database = argv[i + 3];
	cfg.password = getenv("VRMS2FA_PROBE_PASSWORD");
	conn = store_open(&cfg, err, sizeof(err));
	if (!conn) {
		fprintf(stderr, "store-probe: %s\n", err);
		return 2;
	}
	rc = store_exec_script(conn, argv[i + 4]);
	if (rc == STORE_OK) {
		printf("accepted\n");
	} else {
		printf("refused: %s\n", store_last_error(conn));
	}
	store_close(conn);
	return rc == STORE_OK ? 0 : 1;
}
