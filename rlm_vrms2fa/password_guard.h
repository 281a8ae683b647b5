/*
 * password_guard.h - the shared, mutable side of password checks, owned by
 * the module instance and used by every login thread:
 *
 *   - the dummy pool: the dummy hashes unknown users (and users without a
 *     hash) are checked against, following the profiles of the site's own
 *     hashes (core/dummy_set.h), rebuilt from the database now and then;
 *   - the memory gate: the argon2id and yescrypt checks running at once hold
 *     at most password.memory_hard_budget bytes together (each what its hash
 *     asks for); the others wait a little, then give up.
 *
 * The rules (which dummy, which hash is too costly) are in the core; this
 * file only holds the locks.
 */
#ifndef VRMS2FA_PASSWORD_GUARD_H
#define VRMS2FA_PASSWORD_GUARD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/dummy_set.h"

typedef struct {
	pthread_mutex_t	lock;
	pthread_cond_t	freed;
	uint64_t	budget;		/* bytes the running checks may hold together; 0 = no limit */
	uint64_t	used;
} memory_gate_t;

/* 0 ok, -1 if the lock or condition cannot be made. */
int memory_gate_init(memory_gate_t *gate, uint64_t budget);
void memory_gate_destroy(memory_gate_t *gate);

/*
 * Take bytes of the budget, waiting at most wait_ms for them.  true: taken
 * (call memory_gate_leave with the same bytes after the check); false: the
 * budget is still spent (or bytes alone exceed it).
 */
bool memory_gate_enter(memory_gate_t *gate, uint64_t bytes, uint32_t wait_ms);
void memory_gate_leave(memory_gate_t *gate, uint64_t bytes);

typedef struct {
	pthread_mutex_t	lock;
	dummy_set_t	set;		/* what logins pick from */
	int64_t		built_at;	/* when set was last rebuilt from the database; 0 never */
	bool		building;	/* a login is rebuilding it now */
} dummy_pool_t;

/* A pool holding the dummies of initial (its key keys every later set too).  0 ok, -1. */
int dummy_pool_init(dummy_pool_t *pool, dummy_set_t const *initial);
void dummy_pool_destroy(dummy_pool_t *pool);

/* Copy the dummy hash for login into out ("" if the pool is empty). */
void dummy_pool_pick(dummy_pool_t *pool, uint8_t const *login, size_t login_len, char out[PASSWORD_HASH_MAX + 1]);

/*
 * true when the set is due for a rebuild (never built, or built interval
 * seconds before now) and no other login is rebuilding it: the caller
 * rebuilds it, starting from *fresh (empty, with the pool's key) and
 * *current (a copy of today's set, whose dummies it may reuse), and must
 * call dummy_pool_finish.
 */
bool dummy_pool_claim(dummy_pool_t *pool, int64_t now, uint32_t interval, dummy_set_t *fresh, dummy_set_t *current);

/* End a claimed rebuild: fresh replaces the set when it holds any dummy (else the old one stays). */
void dummy_pool_finish(dummy_pool_t *pool, dummy_set_t const *fresh, int64_t now);

#endif
