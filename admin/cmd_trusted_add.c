/*
 * cmd_trusted_add.c - "trusted add LOGIN ADDR [--scope SCOPE]": the operator
 * trusts an address (a device waiting for approval, typically a Wi-Fi MAC)
 * for a user, audited; and the pending device approvals that "trusted list"
 * shows (sql/008_device_approval.sql).
 */
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "trusted_add.h"
#include "../rlm_vrms2fa/core/address.h"
#include "../rlm_vrms2fa/core/text.h"
#include "../rlm_vrms2fa/store/store_approval.h"

/* The trust and the approval of a pending device of that address, in one transaction (admin_transaction). */
typedef struct {
	uint64_t	user_id;
	char const	*scope;
	char const	*address;
	addr_kind_t	kind;
	bool		approved;	/* out: a pending approval was marked approved */
} trusted_add_tx_t;

static store_status_t trusted_add_tx(admin_t *a, void *arg)
{
	trusted_add_tx_t *t = arg;
	store_approval_t pending;
	store_status_t rc;

	t->approved = false;
	switch (account_trust(a->conn, t->user_id, t->scope, t->address, t->kind, TRUST_BY_ADMIN, a->now,
			      a->flow.trust_lifetime)) {
	case ACCOUNT_OK:	break;
	case ACCOUNT_RETRY:	return STORE_RETRY;
	default:		return STORE_ERROR;
	}
	rc = store_approval_pending(a->conn, t->user_id, t->scope, t->address, a->now, &pending);
	if (rc == STORE_NOT_FOUND) return STORE_OK;
	if (rc != STORE_OK) return rc;
	rc = store_approval_approve(a->conn, pending.id, a->now, "admin");
	if (rc == STORE_CONFLICT) return STORE_OK;	/* expired this very second: the trust stands */
	if (rc == STORE_OK) t->approved = true;
	return rc;
}

int trusted_add(admin_t *a, char const *login, char const *address_arg, char const *scope_arg)
{
	char address[ADDR_TEXT_MAX], detail[160];
	char const *scope = scope_arg ? scope_arg : "";
	trusted_add_tx_t t;
	admin_actor_t who;
	addr_kind_t kind;
	store_user_t u;
	store_status_t rc;
	int err;

	if (!address_arg) return admin_fail("give the address to trust");
	kind = addr_normalise(address_arg, strlen(address_arg), address);
	if (kind == ADDR_INVALID) return admin_fail("not an IP or MAC address: %s", address_arg);
	if (addr_trust_refusal(kind, address)) {
		return admin_fail("%s cannot be a trusted address: %s", address, addr_trust_refusal(kind, address));
	}
	if (strlen(scope) > STORE_APPROVAL_SCOPE_MAX || !text_is_clean_utf8((uint8_t const *)scope, strlen(scope))) {
		return admin_fail("a trust scope is at most %d bytes of printable text", STORE_APPROVAL_SCOPE_MAX);
	}
	if ((err = admin_check_login(login))) return err;
	if ((err = admin_connect(a)) || (err = admin_user(a, login, &u))) return err;
	/* an address that skips the code: the operator's alone (root or admin.operator_group), never --by */
	if ((err = admin_authorize(a, NULL, &u.company, u.id, "trusted add", "authorization_refused", &who))) return err;

	t = (trusted_add_tx_t){ .user_id = u.id, .scope = scope, .address = address, .kind = kind };
	rc = admin_transaction(a, trusted_add_tx, &t);
	if (rc != STORE_OK) return admin_db_fail(a, "trusted add");
	snprintf(detail, sizeof(detail), "address trusted by the operator%s%s%s", scope[0] ? " in scope " : "", scope,
		 t.approved ? " (a pending device approval)" : "");
	admin_audit(a, admin_actor_name(&who), u.id, u.company.id, "address_trusted", detail);
	if (t.approved) admin_audit(a, admin_actor_name(&who), u.id, u.company.id, "device_approved", "by the operator");
	if (a->json) {
		json_t j = { 0 };

		json_open(&j, NULL, '{');
		json_str(&j, "login", u.login);
		json_str(&j, "address", address);
		json_str(&j, "scope", scope);
		json_bool(&j, "approved_pending_device", t.approved);
		json_close(&j, '}');
		json_end(&j);
	} else {
		printf("%s is now a trusted address of %s%s%s%s\n", address, u.login, scope[0] ? " in scope " : "", scope,
		       t.approved ? " (its pending approval is done)" : "");
	}
	return 0;
}

typedef struct {
	admin_t		*a;
	json_t		*j;
	char const	*login;
	size_t		count;
} pending_lister_t;

static int print_pending(store_approval_t const *r, void *arg)
{
	pending_lister_t *l = arg;
	char created[64], expires[64];

	l->count++;
	if (l->a->json) {
		json_open(l->j, NULL, '{');
		json_str(l->j, "address", r->address);
		json_str(l->j, "scope", r->scope);
		json_str(l->j, "kind", addr_kind_name(r->kind));
		json_str(l->j, "nas", r->nas);
		json_int(l->j, "created_at", r->created_at);
		json_int(l->j, "last_seen_at", r->last_seen_at);
		json_int(l->j, "expires_at", r->expires_at);
		json_close(l->j, '}');
		return 0;
	}
	if (l->count == 1) printf("Devices waiting for approval (vrms2fa-admin trusted add %s ADDR):\n", l->login);
	admin_format_time(r->created_at, created, sizeof(created));
	admin_format_time(r->expires_at, expires, sizeof(expires));
	printf("%-40s %-5s pending since %s via %s, expires %s%s%s\n", r->address, addr_kind_name(r->kind), created,
	       r->nas, expires, r->scope[0] ? ", scope " : "", r->scope);
	return 0;
}

int trusted_list_pending(admin_t *a, uint64_t user_id, char const *login, json_t *j)
{
	pending_lister_t l = { .a = a, .j = j, .login = login };

	if (a->json) json_open(j, "pending_approvals", '[');
	if (store_approval_list(a->conn, user_id, a->now, print_pending, &l) != STORE_OK) {
		return admin_db_fail(a, "trusted list (pending approvals)");
	}
	if (a->json) json_close(j, ']');
	return 0;
}
