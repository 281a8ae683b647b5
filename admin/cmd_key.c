/*
 * cmd_key.c - "key status" and "key rotate": re-encrypt every TOTP secret
 * under the current key_id, in batches, each row replaced only if it is
 * still the one read (so it is safe while radiusd serves logins, and a run
 * that stops half way is resumed by running it again).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "admin.h"

#define ROTATE_BATCH 100

typedef struct {
	store_sealed_row_t	rows[ROTATE_BATCH];
	size_t			count;
} batch_t;

static int collect(store_sealed_row_t const *row, void *arg)
{
	batch_t *b = arg;

	if (b->count == ROTATE_BATCH) return -1;
	b->rows[b->count++] = *row;
	return 0;
}

/* Re-encrypt one secret.  1 done, 0 changed meanwhile (try again later), -1 error. */
static int reseal(admin_t *a, store_sealed_row_t const *row)
{
	uint8_t plain[SECRETBOX_MAX_PLAINTEXT], sealed[SECRETBOX_MAX_PLAINTEXT + SECRETBOX_OVERHEAD];
	size_t plain_len = 0, sealed_len = 0;
	store_status_t rc;

	if (secretbox_open(&a->keyring, row->user_id, row->sealed, row->sealed_len, plain, sizeof(plain), &plain_len) != 0) {
		admin_fail("the secret of user id %llu does not open with key %u of the key file",
			   (unsigned long long)row->user_id, row->key_id);
		return -1;
	}
	if (secretbox_seal(&a->keyring, row->user_id, plain, plain_len, sealed, sizeof(sealed), &sealed_len) != 0) {
		OPENSSL_cleanse(plain, sizeof(plain));
		admin_fail("cannot encrypt");
		return -1;
	}
	OPENSSL_cleanse(plain, sizeof(plain));
	rc = store_secret_reseal(a->conn, row->user_id, row->sealed, row->sealed_len, sealed, sealed_len,
				 a->keyring.current_id);
	if (rc == STORE_CONFLICT) return 0;
	if (rc != STORE_OK) {
		admin_db_fail(a, "key rotate");
		return -1;
	}
	return 1;
}

static int rotate(admin_t *a)
{
	unsigned long long done = 0, skipped = 0;
	int err, rounds = 0;

	if ((err = admin_connect(a)) || (err = admin_keyring(a))) return err;
	for (;;) {
		batch_t *b = calloc(1, sizeof(*b));
		size_t i;
		int changed = 0;

		if (!b) return admin_fail("out of memory");
		if (store_secrets_not_under(a->conn, a->keyring.current_id, ROTATE_BATCH, collect, b) != STORE_OK) {
			free(b);
			return admin_db_fail(a, "key rotate");
		}
		for (i = 0; i < b->count; i++) {
			int r = reseal(a, &b->rows[i]);

			if (r < 0) {
				OPENSSL_cleanse(b, sizeof(*b));
				free(b);
				return EXIT_REFUSED;
			}
			if (r == 1) done++, changed++;
			else skipped++;
		}
		OPENSSL_cleanse(b, sizeof(*b));
		free(b);
		if (i == 0) break;
		/* rows that changed under us are read again; give up after many rounds without progress */
		if (changed == 0 && ++rounds > 20) return admin_fail("secrets keep changing; run key rotate again");
	}
	admin_audit(a, "vrms2fa-admin", 0, 0, "key_rotated", "secrets re-encrypted under the current key");
	if (a->json) {
		json_t j = { 0 };
		json_open(&j, NULL, '{');
		json_int(&j, "key_id", a->keyring.current_id);
		json_int(&j, "reencrypted", (int64_t)done);
		json_int(&j, "retried", (int64_t)skipped);
		json_close(&j, '}');
		json_end(&j);
	} else {
		printf("%llu secret%s re-encrypted under key %u.\n", done, done == 1 ? "" : "s", a->keyring.current_id);
	}
	return 0;
}

typedef struct {
	admin_t	*a;
	json_t	j;
} status_t;

static int print_count(uint32_t key_id, uint64_t count, void *arg)
{
	status_t *s = arg;

	if (s->a->json) {
		json_open(&s->j, NULL, '{');
		json_int(&s->j, "key_id", key_id);
		json_int(&s->j, "secrets", (int64_t)count);
		json_close(&s->j, '}');
	} else {
		printf("key %u: %llu secret%s%s\n", key_id, (unsigned long long)count, count == 1 ? "" : "s",
		       key_id == s->a->keyring.current_id ? " (current)" : "");
	}
	return 0;
}

static int status(admin_t *a)
{
	status_t s = { .a = a };
	int err;

	if ((err = admin_connect(a)) || (err = admin_keyring(a))) return err;
	if (a->json) {
		json_open(&s.j, NULL, '{');
		json_int(&s.j, "current_key_id", a->keyring.current_id);
		json_open(&s.j, "keys", '[');
	}
	if (store_secrets_per_key(a->conn, print_count, &s) != STORE_OK) return admin_db_fail(a, "key status");
	if (a->json) {
		json_close(&s.j, ']');
		json_close(&s.j, '}');
		json_end(&s.j);
	}
	return 0;
}

int cmd_key(admin_t *a, int argc, char **argv)
{
	static char const usage[] = "vrms2fa-admin key status | key rotate";
	char const *pos[1] = { NULL };

	admin_parse(argc, argv, NULL, pos, 1, 0, usage);
	if (strcmp(pos[0], "rotate") == 0) return rotate(a);
	if (strcmp(pos[0], "status") == 0) return status(a);
	fprintf(stderr, "vrms2fa-admin: unknown key command '%s'\nusage: %s\n", pos[0], usage);
	return EXIT_USAGE;
}
