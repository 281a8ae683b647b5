/*
 * store_approval.h - the queries of device approvals (sql/008_device_approval.sql):
 * a device that connected through a client unable to show a challenge
 * waits here until a code (over RADIUS) or the operator approves it.
 * Times are Unix seconds of the caller's clock; addresses are normalised.
 */
#ifndef VRMS2FA_STORE_APPROVAL_H
#define VRMS2FA_STORE_APPROVAL_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"
#include "../core/address.h"

#define STORE_APPROVAL_SCOPE_MAX 32
#define STORE_APPROVAL_NAS_MAX 64

typedef struct {
	uint64_t	id;
	uint64_t	user_id;
	char		scope[STORE_APPROVAL_SCOPE_MAX + 1];
	char		address[ADDR_TEXT_MAX];
	addr_kind_t	kind;
	char		nas[STORE_APPROVAL_NAS_MAX + 1];
	int64_t		created_at;
	int64_t		last_seen_at;
	int64_t		expires_at;
} store_approval_t;

/*
 * The pending approval (unexpired at now, not approved) of the user's
 * address in scope (NULL: in any scope, the newest).  STORE_NOT_FOUND when
 * there is none.
 */
store_status_t store_approval_pending(store_conn_t *conn, uint64_t user_id, char const *scope, char const *address,
				      int64_t now, store_approval_t *out);

/* The device tried again: last_seen_at moves (the approval's expiry does not). */
store_status_t store_approval_seen(store_conn_t *conn, uint64_t id, int64_t now);

/* How many approvals of the user were requested (created or renewed) since 'since'. */
store_status_t store_approval_count_since(store_conn_t *conn, uint64_t user_id, int64_t since, uint32_t *count);

/*
 * Request approval of the user's address in scope: a new row, or the
 * device's earlier row (expired, or approved and since revoked) renewed as
 * a fresh request.
 */
store_status_t store_approval_request(store_conn_t *conn, uint64_t user_id, char const *scope, char const *address,
				      addr_kind_t kind, char const *nas, int64_t now, int64_t expires_at);

/*
 * Mark a pending approval approved ("code" or "admin"): STORE_OK, or
 * STORE_CONFLICT when it is no longer pending (expired, approved meanwhile).
 */
store_status_t store_approval_approve(store_conn_t *conn, uint64_t id, int64_t now, char const *by);

/* Every pending approval of the user (unexpired at now), oldest first. */
typedef int (*store_approval_fn)(store_approval_t const *row, void *arg);
store_status_t store_approval_list(store_conn_t *conn, uint64_t user_id, int64_t now, store_approval_fn fn, void *arg);

#endif
