/*
 * password_guard.c - the locks around password checks: the pool of dummy
 * hashes and the gate of memory-hard checks (password_guard.h).
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "password_guard.h"

int memory_gate_init(memory_gate_t *gate, uint64_t budget)
{
	pthread_condattr_t attr;
	int rc;

	memset(gate, 0, sizeof(*gate));
	gate->budget = budget;
	if (pthread_mutex_init(&gate->lock, NULL) != 0) return -1;
	if (pthread_condattr_init(&attr) != 0) goto fail;
	rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (rc == 0) rc = pthread_cond_init(&gate->freed, &attr);
	pthread_condattr_destroy(&attr);
	if (rc == 0) return 0;
fail:
	pthread_mutex_destroy(&gate->lock);
	return -1;
}

void memory_gate_destroy(memory_gate_t *gate)
{
	pthread_cond_destroy(&gate->freed);
	pthread_mutex_destroy(&gate->lock);
}

bool memory_gate_enter(memory_gate_t *gate, uint64_t bytes, uint32_t wait_ms)
{
	struct timespec deadline;
	bool entered = false;

	if (gate->budget == 0) return true;
	if (bytes > gate->budget) return false;	/* could never run: the settings check prevents it */
	if (clock_gettime(CLOCK_MONOTONIC, &deadline) != 0) return false;
	deadline.tv_sec += wait_ms / 1000;
	deadline.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	if (pthread_mutex_lock(&gate->lock) != 0) return false;
	while (gate->used + bytes > gate->budget) {
		int rc = pthread_cond_timedwait(&gate->freed, &gate->lock, &deadline);

		if (rc == ETIMEDOUT || (rc != 0 && rc != EINTR)) break;
	}
	if (gate->used + bytes <= gate->budget) {
		gate->used += bytes;
		entered = true;
	}
	pthread_mutex_unlock(&gate->lock);
	return entered;
}

void memory_gate_leave(memory_gate_t *gate, uint64_t bytes)
{
	if (gate->budget == 0) return;
	if (pthread_mutex_lock(&gate->lock) != 0) return;
	gate->used = gate->used > bytes ? gate->used - bytes : 0;
	pthread_cond_broadcast(&gate->freed);	/* a large release may let several small checks in */
	pthread_mutex_unlock(&gate->lock);
}

int dummy_pool_init(dummy_pool_t *pool, dummy_set_t const *initial)
{
	memset(pool, 0, sizeof(*pool));
	if (pthread_mutex_init(&pool->lock, NULL) != 0) return -1;
	pool->set = *initial;
	return 0;
}

void dummy_pool_destroy(dummy_pool_t *pool)
{
	pthread_mutex_destroy(&pool->lock);
	OPENSSL_cleanse(&pool->set, sizeof(pool->set));
}

void dummy_pool_pick(dummy_pool_t *pool, uint8_t const *login, size_t login_len, char out[PASSWORD_HASH_MAX + 1])
{
	char const *hash;

	out[0] = '\0';
	if (pthread_mutex_lock(&pool->lock) != 0) return;
	hash = dummy_set_pick(&pool->set, login, login_len);
	if (hash) memcpy(out, hash, strnlen(hash, PASSWORD_HASH_MAX) + 1);
	pthread_mutex_unlock(&pool->lock);
}

bool dummy_pool_claim(dummy_pool_t *pool, int64_t now, uint32_t interval, dummy_set_t *fresh, dummy_set_t *current)
{
	bool claimed = false;

	if (pthread_mutex_lock(&pool->lock) != 0) return false;
	if (!pool->building && (pool->built_at == 0 || now - pool->built_at >= (int64_t) interval || now < pool->built_at)) {
		pool->building = true;
		claimed = true;
		*current = pool->set;
		dummy_set_init(fresh, pool->set.key);
	}
	pthread_mutex_unlock(&pool->lock);
	return claimed;
}

void dummy_pool_finish(dummy_pool_t *pool, dummy_set_t const *fresh, int64_t now)
{
	if (pthread_mutex_lock(&pool->lock) != 0) return;
	if (fresh && fresh->count > 0) pool->set = *fresh;
	pool->built_at = now;
	pool->building = false;
	pthread_mutex_unlock(&pool->lock);
}
