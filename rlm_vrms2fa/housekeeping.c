/*
 * housekeeping.c - the module's opportunistic pruning (housekeeping.h).
 */
#include <string.h>

#include "housekeeping.h"
#include "store/store_prune.h"

void housekeeping_init(housekeeping_t *h, retention_config_t const *retention, uint32_t interval, uint32_t batch)
{
	h->retention = *retention;
	h->interval = interval;
	h->batch = batch;
	atomic_init(&h->next_at, 0);
	atomic_init(&h->running, false);
}

bool housekeeping_claim(housekeeping_t *h, int64_t now)
{
	int64_t next = atomic_load(&h->next_at);
	bool expected = false;

	if (h->interval == 0) return false;
	/* due, or the clock went back by more than an interval since the claim */
	if (now < next && next - now <= (int64_t)h->interval) return false;
	if (!atomic_compare_exchange_strong(&h->running, &expected, true)) return false;
	if (!atomic_compare_exchange_strong(&h->next_at, &next, now + (int64_t)h->interval)) {
		atomic_store(&h->running, false);	/* another thread took this turn and finished it */
		return false;
	}
	return true;
}

void housekeeping_run(housekeeping_t *h, store_conn_t *conn, int64_t now, housekeeping_result_t *out)
{
	retention_cutoffs_t cutoffs;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->status = STORE_OK;
	if (retention_cutoffs(&h->retention, now, &cutoffs) == 0) {
		for (i = 0; i < RETENTION_CLASSES; i++) {
			store_status_t rc;

			if (!retention_pruned_by_module((retention_class_t)i)) continue;	/* the audit log: cron's */
			rc = store_prune_batch(conn, (retention_class_t)i, &cutoffs, h->batch, &out->deleted[i]);

			if (rc == STORE_RETRY) continue;	/* another server pruned them: the next turn */
			if (rc != STORE_OK) {
				out->status = rc;
				break;
			}
			out->total += out->deleted[i];
			if (out->deleted[i] >= h->batch) out->backlog = true;
		}
	} else {
		out->status = STORE_ERROR;
	}
	if (out->backlog && out->status == STORE_OK) atomic_store(&h->next_at, now);	/* the next login goes on */
	atomic_store(&h->running, false);
}
