/*
 * fake_store_approval.c - the device approval queries (store/store_approval.h)
 * over an in-memory table, for flow_login in tests/unit/test_flow.c (linked
 * in place of libvrms2fa_store, like fake_store.c).
 */
#include <stdio.h>
#include <string.h>

#include "store/store_approval.h"

#define FAKE_APPROVALS_MAX 32

typedef struct {
	bool			used;
	store_approval_t	row;
	bool			approved;
	char			by[8];
} fake_approval_t;

static fake_approval_t approvals[FAKE_APPROVALS_MAX];
static uint64_t next_id = 1;

void fake_approval_reset(void);
size_t fake_approval_pending_count(uint64_t user_id, int64_t now);

void fake_approval_reset(void)
{
	memset(approvals, 0, sizeof(approvals));
	next_id = 1;
}

size_t fake_approval_pending_count(uint64_t user_id, int64_t now)
{
	size_t i, n = 0;

	for (i = 0; i < FAKE_APPROVALS_MAX; i++) {
		if (approvals[i].used && approvals[i].row.user_id == user_id && !approvals[i].approved &&
		    approvals[i].row.expires_at > now) {
			n++;
		}
	}
	return n;
}

static fake_approval_t *find(uint64_t user_id, char const *scope, char const *address)
{
	size_t i;

	for (i = 0; i < FAKE_APPROVALS_MAX; i++) {
		fake_approval_t *a = &approvals[i];

		if (a->used && a->row.user_id == user_id && strcmp(a->row.address, address) == 0 &&
		    (!scope || strcmp(a->row.scope, scope) == 0)) {
			return a;
		}
	}
	return NULL;
}

store_status_t store_approval_pending(store_conn_t *conn, uint64_t user_id, char const *scope, char const *address,
				      int64_t now, store_approval_t *out)
{
	fake_approval_t *a = find(user_id, scope, address);

	(void)conn;
	memset(out, 0, sizeof(*out));
	if (!a || a->approved || a->row.expires_at <= now) return STORE_NOT_FOUND;
	*out = a->row;
	return STORE_OK;
}

store_status_t store_approval_seen(store_conn_t *conn, uint64_t id, int64_t now)
{
	size_t i;

	(void)conn;
	for (i = 0; i < FAKE_APPROVALS_MAX; i++) {
		if (approvals[i].used && approvals[i].row.id == id) approvals[i].row.last_seen_at = now;
	}
	return STORE_OK;
}

store_status_t store_approval_count_since(store_conn_t *conn, uint64_t user_id, int64_t since, uint32_t *count)
{
	size_t i;

	(void)conn;
	*count = 0;
	for (i = 0; i < FAKE_APPROVALS_MAX; i++) {
		if (approvals[i].used && approvals[i].row.user_id == user_id && approvals[i].row.created_at > since) {
			(*count)++;
		}
	}
	return STORE_OK;
}

store_status_t store_approval_request(store_conn_t *conn, uint64_t user_id, char const *scope, char const *address,
				      addr_kind_t kind, char const *nas, int64_t now, int64_t expires_at)
{
	fake_approval_t *a = find(user_id, scope, address);
	size_t i;

	(void)conn;
	for (i = 0; !a && i < FAKE_APPROVALS_MAX; i++) {
		if (!approvals[i].used) {
			a = &approvals[i];
			memset(a, 0, sizeof(*a));
			a->used = true;
			a->row.id = next_id++;
		}
	}
	if (!a) return STORE_ERROR;
	a->row.user_id = user_id;
	snprintf(a->row.scope, sizeof(a->row.scope), "%s", scope);
	snprintf(a->row.address, sizeof(a->row.address), "%s", address);
	snprintf(a->row.nas, sizeof(a->row.nas), "%s", nas);
	a->row.kind = kind;
	a->row.created_at = now;
	a->row.last_seen_at = now;
	a->row.expires_at = expires_at;
	a->approved = false;
	return STORE_OK;
}

store_status_t store_approval_approve(store_conn_t *conn, uint64_t id, int64_t now, char const *by)
{
	size_t i;

	(void)conn;
	for (i = 0; i < FAKE_APPROVALS_MAX; i++) {
		fake_approval_t *a = &approvals[i];

		if (a->used && a->row.id == id) {
			if (a->approved || a->row.expires_at <= now) return STORE_CONFLICT;
			a->approved = true;
			snprintf(a->by, sizeof(a->by), "%s", by);
			return STORE_OK;
		}
	}
	return STORE_CONFLICT;
}

store_status_t store_approval_list(store_conn_t *conn, uint64_t user_id, int64_t now, store_approval_fn fn, void *arg)
{
	size_t i;

	(void)conn;
	for (i = 0; i < FAKE_APPROVALS_MAX; i++) {
		fake_approval_t const *a = &approvals[i];

		if (a->used && a->row.user_id == user_id && !a->approved && a->row.expires_at > now && fn(&a->row, arg) != 0) {
			return STORE_ERROR;
		}
	}
	return STORE_OK;
}
