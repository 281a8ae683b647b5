/*
 * cmd_prune.c - "prune [--dry-run]": delete every expired row (README,
 * "What is kept, and for how long"; the rule is core/retention.h), for a
 * cron job.  Each class of rows goes in batches of PRUNE_BATCH rows, each
 * batch a statement of its own, so that the tables are never locked for
 * long while radiusd serves logins.  Prints per table what it removed, or
 * with --dry-run what it would remove (the same condition, counted); a
 * prune that removed rows writes one audit row.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin.h"
#include "../rlm_vrms2fa/core/retention.h"
#include "../rlm_vrms2fa/store/store_prune.h"

#define PRUNE_BATCH		1000
#define PRUNE_RETRIES		5	/* a batch that deadlocked with radiusd's own pruning is run again */

/* Why a class is never pruned with these settings (for the output). */
static char const *kept_because(retention_class_t cls)
{
	switch (cls) {
	case RETENTION_LOGIN_FAILURES:	return "kept: lockout.reset_after = 0 (counts never decay)";
	case RETENTION_AUDIT_LOG:	return "kept: retention.audit_days = 0 (forever)";
	default:			return "kept";
	}
}

/* Delete every expired row of one class, batch by batch; *total: how many went. */
static store_status_t prune_class(admin_t *a, retention_class_t cls, retention_cutoffs_t const *cutoffs,
				  uint64_t *total)
{
	unsigned retries = 0;

	*total = 0;
	for (;;) {
		uint64_t deleted = 0;
		store_status_t rc = store_prune_batch(a->conn, cls, cutoffs, PRUNE_BATCH, &deleted);

		if (rc == STORE_RETRY && ++retries < PRUNE_RETRIES) continue;
		if (rc != STORE_OK) return rc;
		*total += deleted;
		if (deleted < PRUNE_BATCH) return STORE_OK;
	}
}

int cmd_prune(admin_t *a, int argc, char **argv)
{
	static char const usage[] = "vrms2fa-admin prune [--dry-run] [--json]";
	bool dry_run = false;
	admin_option_t opts[] = { { "--dry-run", false, NULL, &dry_run }, { NULL, false, NULL, NULL } };
	retention_config_t cfg;
	retention_cutoffs_t cutoffs;
	uint64_t rows[RETENTION_CLASSES] = { 0 };
	uint64_t total = 0;
	char detail[512];
	size_t used = 0;
	struct timespec t0, t1;
	double seconds;
	char const *why = NULL;
	int err;
	size_t i;

	admin_parse(argc, argv, opts, NULL, 0, 0, usage);
	if ((err = admin_connect(a))) return err;
	vrms2fa_settings_retention(&a->settings, &cfg);
	if (retention_config_check(&cfg, &why) != 0) return admin_fail("invalid retention settings: %s", why);
	if (retention_cutoffs(&cfg, a->now, &cutoffs) != 0) return admin_fail("invalid retention settings");

	if (clock_gettime(CLOCK_MONOTONIC, &t0) != 0) return admin_fail("no monotonic clock");
	for (i = 0; i < RETENTION_CLASSES; i++) {
		store_status_t rc = dry_run ? store_prune_count(a->conn, (retention_class_t)i, &cutoffs, &rows[i])
					    : prune_class(a, (retention_class_t)i, &cutoffs, &rows[i]);

		if (rc != STORE_OK) {
			char what[64];

			/* what went before this table is gone: say so, and audit it */
			if (!dry_run && total > 0) {
				snprintf(detail, sizeof(detail), "%llu expired rows removed, then failed at %s",
					 (unsigned long long)total, retention_class_name((retention_class_t)i));
				admin_audit(a, "vrms2fa-admin", 0, 0, "pruned", detail);
			}
			snprintf(what, sizeof(what), "prune %s", retention_class_name((retention_class_t)i));
			return admin_db_fail(a, what);
		}
		total += rows[i];
	}
	if (clock_gettime(CLOCK_MONOTONIC, &t1) != 0) return admin_fail("no monotonic clock");
	seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

	/* "challenges 3, email_confirmations 0, ..." (fits: 7 names and numbers) */
	detail[0] = '\0';
	for (i = 0; i < RETENTION_CLASSES && used < sizeof(detail); i++) {
		if (!cutoffs.enabled[i]) continue;
		int n = snprintf(detail + used, sizeof(detail) - used, "%s%s %llu", used ? ", " : "",
				 retention_class_name((retention_class_t)i), (unsigned long long)rows[i]);
		if (n < 0) break;
		used += (size_t)n;
	}
	if (!dry_run) admin_audit(a, "vrms2fa-admin", 0, 0, "pruned", detail);

	if (a->json) {
		json_t j = { 0 };

		json_open(&j, NULL, '{');
		json_bool(&j, "dry_run", dry_run);
		json_int(&j, "now", a->now);
		json_open(&j, "tables", '[');
		for (i = 0; i < RETENTION_CLASSES; i++) {
			json_open(&j, NULL, '{');
			json_str(&j, "table", retention_class_name((retention_class_t)i));
			json_bool(&j, "enabled", cutoffs.enabled[i]);
			if (cutoffs.enabled[i]) json_int(&j, "before", cutoffs.before[i]);
			else json_null(&j, "before");
			json_int(&j, "rows", (int64_t)rows[i]);
			json_close(&j, '}');
		}
		json_close(&j, ']');
		json_int(&j, "total", (int64_t)total);
		json_int(&j, "milliseconds", (int64_t)(seconds * 1000.0));
		json_close(&j, '}');
		json_end(&j);
		return 0;
	}
	for (i = 0; i < RETENTION_CLASSES; i++) {
		if (!cutoffs.enabled[i]) {
			printf("%-20s %s\n", retention_class_name((retention_class_t)i), kept_because((retention_class_t)i));
		} else {
			printf("%-20s %llu %s\n", retention_class_name((retention_class_t)i), (unsigned long long)rows[i],
			       dry_run ? "would be removed" : "removed");
		}
	}
	printf("%llu expired row%s %s in %.2f s.\n", (unsigned long long)total, total == 1 ? "" : "s",
	       dry_run ? "would be removed (dry run: nothing deleted)" : "removed", seconds);
	return 0;
}
