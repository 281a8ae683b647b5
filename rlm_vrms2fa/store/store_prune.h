/*
 * store_prune.h - the deletion of expired rows (README, "What is kept, and
 * for how long"), used by the module's opportunistic pruning
 * (rlm_vrms2fa/housekeeping.c) and by "vrms2fa-admin prune".  What is
 * expired is the core's rule (core/retention.h: a cut-off time per class);
 * these functions only apply it, in batches, each batch one statement of
 * its own (autocommit), so that no prune holds locks for long.  Every
 * query is a range scan of an index (sql/005_retention.sql).
 */
#ifndef VRMS2FA_STORE_PRUNE_H
#define VRMS2FA_STORE_PRUNE_H

#include <stdint.h>

#include "store.h"
#include "../core/retention.h"

#define STORE_PRUNE_BATCH_MAX 100000

/*
 * Delete at most 'limit' (1..STORE_PRUNE_BATCH_MAX) expired rows of one
 * class; *deleted receives how many went.  A class the cut-offs disable
 * deletes nothing (STORE_OK, 0).  STORE_RETRY: another server pruned the
 * same rows at once (deadlock, certification conflict): nothing lost,
 * leave them to the next batch.
 */
store_status_t store_prune_batch(store_conn_t *conn, retention_class_t cls, retention_cutoffs_t const *cutoffs,
				 uint32_t limit, uint64_t *deleted);

/* How many rows of one class are expired now (0 for a disabled class): what --dry-run reports. */
store_status_t store_prune_count(store_conn_t *conn, retention_class_t cls, retention_cutoffs_t const *cutoffs,
				 uint64_t *count);

#endif
