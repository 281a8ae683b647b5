/*
 * housekeeping.h - the module's opportunistic pruning of expired rows
 * (README, "What is kept, and for how long"): after a login, at most once
 * per retention.prune_interval per module instance, the thread that
 * claims the turn deletes at most retention.prune_batch expired rows of
 * each class (core/retention.h) on the connection it already holds.
 * When a batch came back full (rows are expiring faster than one batch per
 * interval: a flood of unknown login names), the next login prunes again
 * at once, so the tables stay bounded under load.  Only one thread prunes
 * at a time.  The state is the instance's (no globals): a claim time in an
 * atomic.  Knows nothing of FreeRADIUS; best effort: a failed prune is
 * left to the next turn and never changes the login's answer.
 */
#ifndef VRMS2FA_HOUSEKEEPING_H
#define VRMS2FA_HOUSEKEEPING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/retention.h"
#include "store/store.h"

typedef struct {
	retention_config_t	retention;
	uint32_t		interval;	/* seconds between turns; 0: the module never prunes */
	uint32_t		batch;		/* rows per class and turn */
	_Atomic int64_t		next_at;	/* the earliest time of the next turn (mutable, shared) */
	atomic_bool		running;	/* a thread is pruning now */
} housekeeping_t;

typedef struct {
	uint64_t	deleted[RETENTION_CLASSES];
	uint64_t	total;
	bool		backlog;	/* a batch came back full: more to do */
	store_status_t	status;		/* STORE_OK, or the first failure (the rest of the turn skipped) */
} housekeeping_result_t;

void housekeeping_init(housekeeping_t *h, retention_config_t const *retention, uint32_t interval, uint32_t batch);

/*
 * Is it this caller's turn at 'now'?  True for exactly one caller per
 * turn (compare-and-swap of next_at); a clock stepped back by more than an
 * interval does not stop pruning.  The caller that got true must call
 * housekeeping_run.
 */
bool housekeeping_claim(housekeeping_t *h, int64_t now);

/*
 * One turn: a batch of each enabled class, in the order of
 * retention_class_t, on conn.  Then the next turn is due after the
 * interval, or at once when a batch came back full.
 */
void housekeeping_run(housekeeping_t *h, store_conn_t *conn, int64_t now, housekeeping_result_t *out);

#endif
