/*
 * cmd_company.c - "company add/show" and "policy set": a company's security
 * level, the groups it applies to, and the grace deadlines that follow.
 * Only an enabled administrator of the company who proves it (--by LOGIN,
 * the password and code on stdin: admin_authorize), or an operator (root or
 * admin.operator_group) without --by, may change its policy.
 */
#include <stdio.h>
#include <string.h>

#include "admin.h"

static void print_company(admin_t *a, store_company_t const *c)
{
	char groups[128];

	if (policy_group_mask_format(c->group_mask, groups, sizeof(groups)) != 0) groups[0] = '\0';
	if (a->json) {
		json_t j = { 0 };
		char const *p = groups;

		json_open(&j, NULL, '{');
		json_str(&j, "name", c->name);
		json_str(&j, "level", policy_level_name(c->level));
		json_open(&j, "groups", '[');
		while (*p) {
			char one[32];
			size_t n = strcspn(p, ",");

			snprintf(one, sizeof(one), "%.*s", (int)n, p);
			json_str(&j, NULL, one);
			p += n;
			if (*p == ',') p++;
		}
		json_close(&j, ']');
		json_int(&j, "grace_days", c->grace_days);
		json_close(&j, '}');
		json_end(&j);
		return;
	}
	printf("company:     %s\n", c->name);
	printf("level:       %s\n", policy_level_name(c->level));
	printf("groups:      %s\n", groups[0] ? groups : "(none)");
	printf("grace days:  %u\n", c->grace_days);
}

static int company_add(admin_t *a, int argc, char **argv)
{
	static char const usage[] = "vrms2fa-admin company add NAME [--grace-days N]";
	char const *grace = NULL, *pos[1] = { NULL };
	admin_option_t opts[] = { { "--grace-days", true, &grace, NULL }, { NULL, false, NULL, NULL } };
	store_company_t c;
	uint64_t id = 0;
	uint32_t days = 5;
	store_status_t rc;
	int err;

	admin_parse(argc, argv, opts, pos, 1, 0, usage);
	if (grace) days = admin_parse_uint("--grace-days", grace, 365, usage);
	if ((err = admin_check_company(pos[0]))) return err;
	if ((err = admin_connect(a))) return err;
	rc = store_company_add(a->conn, pos[0], days, a->now, &id);
	if (rc == STORE_CONFLICT) return admin_fail("company already exists: %s", pos[0]);
	if (rc != STORE_OK) return admin_db_fail(a, "company add");
	admin_audit(a, "vrms2fa-admin", 0, id, "company_added", pos[0]);
	if (store_company_get(a->conn, pos[0], &c) != STORE_OK) return admin_db_fail(a, "company show");
	print_company(a, &c);
	return 0;
}

static int company_show(admin_t *a, int argc, char **argv)
{
	static char const usage[] = "vrms2fa-admin company show NAME";
	char const *pos[1] = { NULL };
	store_company_t c;
	store_status_t rc;
	int err;

	admin_parse(argc, argv, NULL, pos, 1, 0, usage);
	if ((err = admin_check_company(pos[0]))) return err;
	if ((err = admin_connect(a))) return err;
	rc = store_company_get(a->conn, pos[0], &c);
	if (rc == STORE_NOT_FOUND) return admin_fail("no such company: %s", pos[0]);
	if (rc != STORE_OK) return admin_db_fail(a, "company show");
	print_company(a, &c);
	return 0;
}

int cmd_company(admin_t *a, int argc, char **argv)
{
	static admin_subcommand_t const subs[] = { { "add", company_add }, { "show", company_show } };
	static char const usage[] = "vrms2fa-admin company add NAME [--grace-days N]\n"
				    "       vrms2fa-admin company show NAME";

	return admin_dispatch(a, argc, argv, subs, sizeof(subs) / sizeof(subs[0]), usage);
}

typedef struct {
	store_company_t const	*c;
	security_level_t	level;
	unsigned		mask;
} policy_tx_t;

static store_status_t policy_tx(admin_t *a, void *arg)
{
	policy_tx_t const *p = arg;
	store_status_t rc;

	rc = store_company_set_policy(a->conn, p->c->id, p->level, p->mask);
	if (rc != STORE_OK) return rc;
	if (p->level == LEVEL_HIGH) {
		int64_t deadline = policy_grace_deadline(a->now, p->c->grace_days);

		rc = store_grace_start(a->conn, p->c->id, p->mask, deadline);
		if (rc != STORE_OK) return rc;
		return store_grace_lift(a->conn, p->c->id, p->mask);
	}
	return store_grace_lift(a->conn, p->c->id, 0);
}

static int apply_policy(admin_t *a, store_company_t const *c, security_level_t level, unsigned mask)
{
	policy_tx_t p = { .c = c, .level = level, .mask = mask };

	if (admin_transaction(a, policy_tx, &p) != STORE_OK) return admin_db_fail(a, "policy set");
	return 0;
}

int cmd_policy(admin_t *a, int argc, char **argv)
{
	static char const usage[] =
		"vrms2fa-admin policy set COMPANY --level low|high [--groups GROUP[,GROUP...]] [--by LOGIN]\n"
		"  --by LOGIN: an administrator of COMPANY; their password, then (with two-step verification) a code,\n"
		"  on standard input.  Without --by: root or a member of admin.operator_group only.";
	char const *level_arg = NULL, *groups_arg = NULL, *by = NULL, *pos[2] = { NULL, NULL };
	admin_option_t opts[] = {
		{ "--level", true, &level_arg, NULL }, { "--groups", true, &groups_arg, NULL },
		{ "--by", true, &by, NULL }, { NULL, false, NULL, NULL },
	};
	char old_groups[128], new_groups[128], detail[512];
	security_level_t level;
	store_company_t c;
	admin_actor_t who;
	store_status_t rc;
	unsigned mask;
	int err;

	admin_parse(argc, argv, opts, pos, 2, 0, usage);
	if (strcmp(pos[0], "set") != 0) {
		fprintf(stderr, "vrms2fa-admin: unknown policy command '%s'\nusage: %s\n", pos[0], usage);
		return EXIT_USAGE;
	}
	if (!level_arg || policy_level_parse(level_arg, &level) != 0) {
		fprintf(stderr, "vrms2fa-admin: --level must be low or high\nusage: %s\n", usage);
		return EXIT_USAGE;
	}
	if (groups_arg && policy_group_mask_parse(groups_arg, &mask) != 0) {
		fprintf(stderr, "vrms2fa-admin: bad --groups '%s': use administrator, company_user, owner, supplier\n"
			"usage: %s\n", groups_arg, usage);
		return EXIT_USAGE;
	}
	if ((err = admin_check_company(pos[1]))) return err;
	if (by && (err = admin_check_login(by))) return err;
	if ((err = admin_connect(a))) return err;

	rc = store_company_get(a->conn, pos[1], &c);
	if (rc == STORE_NOT_FOUND) return admin_fail("no such company: %s", pos[1]);
	if (rc != STORE_OK) return admin_db_fail(a, "company lookup");

	if ((err = admin_authorize(a, by, &c, 0, "policy set", "policy_change_refused", &who))) return err;

	if (!groups_arg) mask = c.group_mask ? c.group_mask : GROUP_MASK_ALL;
	if ((err = apply_policy(a, &c, level, mask))) return err;

	if (policy_group_mask_format(c.group_mask, old_groups, sizeof(old_groups)) != 0) old_groups[0] = '\0';
	if (policy_group_mask_format(mask, new_groups, sizeof(new_groups)) != 0) new_groups[0] = '\0';
	snprintf(detail, sizeof(detail), "level %s -> %s; groups [%s] -> [%s]",
		 policy_level_name(c.level), policy_level_name(level), old_groups, new_groups);
	admin_audit(a, admin_actor_name(&who), who.by_id, c.id, "policy_changed", detail);

	{
		char name[STORE_COMPANY_MAX + 1];

		/* store_company_get clears its output first: do not pass a name that lives in it */
		snprintf(name, sizeof(name), "%s", c.name);
		if (store_company_get(a->conn, name, &c) != STORE_OK) return admin_db_fail(a, "company show");
	}
	print_company(a, &c);
	return 0;
}
