/*
 * account.c - the account operations the module and the admin tool share
 * (see account.h).  Each secret that passes through here is wiped before
 * the function returns.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "account.h"
#include "core/policy.h"
#include "core/recovery.h"

account_status_t account_status_from_store(store_status_t rc)
{
	switch (rc) {
	case STORE_OK:		return ACCOUNT_OK;
	case STORE_CONFLICT:	return ACCOUNT_REFUSED;
	case STORE_NOT_FOUND:	return ACCOUNT_NOT_FOUND;
	case STORE_RETRY:	return ACCOUNT_RETRY;
	case STORE_ERROR:	break;
	}
	return ACCOUNT_STORE_FAILED;
}

account_status_t account_enroll_begin(store_conn_t *conn, secretbox_keyring_t const *keyring, uint64_t user_id,
				      totp_params_t const *params, int64_t now, uint8_t const *challenge_digest,
				      uint8_t secret[ACCOUNT_SECRET_LEN])
{
	uint8_t sealed[ACCOUNT_SECRET_LEN + SECRETBOX_OVERHEAD];
	size_t sealed_len = 0;
	store_status_t rc;

	if (RAND_priv_bytes(secret, ACCOUNT_SECRET_LEN) != 1 ||
	    secretbox_seal(keyring, user_id, secret, ACCOUNT_SECRET_LEN, sealed, sizeof(sealed), &sealed_len) != 0) {
		OPENSSL_cleanse(secret, ACCOUNT_SECRET_LEN);
		ERR_clear_error();	/* no stale error for the next check in this thread */
		return ACCOUNT_CRYPTO_FAILED;
	}
	rc = store_secret_put_pending(conn, user_id, sealed, sealed_len, keyring->current_id, params, now,
				      challenge_digest);
	if (rc != STORE_OK) {
		OPENSSL_cleanse(secret, ACCOUNT_SECRET_LEN);
		return account_status_from_store(rc);	/* STORE_CONFLICT: an active secret exists */
	}
	return ACCOUNT_OK;
}

account_status_t account_code_check(secretbox_keyring_t const *keyring, uint64_t user_id, store_secret_t const *secret,
				    uint8_t const *code, size_t code_len, int64_t now, unsigned window, uint64_t *counter)
{
	uint8_t key[SECRETBOX_MAX_PLAINTEXT];
	size_t key_len = 0;
	totp_result_t r;

	if (secretbox_open(keyring, user_id, secret->sealed, secret->sealed_len, key, sizeof(key), &key_len) != 0) {
		return ACCOUNT_UNDECRYPTABLE;
	}
	r = totp_verify(&secret->params, key, key_len, (char const *)code, code_len, now, window, counter);
	OPENSSL_cleanse(key, sizeof(key));
	switch (r) {
	case TOTP_MATCH:	return ACCOUNT_OK;
	case TOTP_NO_MATCH:
	case TOTP_BAD_INPUT:	return ACCOUNT_REFUSED;
	case TOTP_ERROR:	break;
	}
	return ACCOUNT_CRYPTO_FAILED;
}

account_status_t account_enroll_activate(store_conn_t *conn, uint64_t user_id, store_secret_t const *checked,
					 uint64_t counter, int64_t now)
{
	account_status_t status = account_status_from_store(
		store_secret_activate(conn, user_id, checked->sealed, checked->sealed_len, counter, now));

	if (status != ACCOUNT_OK) return status;
	return account_void_pending(conn, user_id);
}

account_status_t account_void_pending(store_conn_t *conn, uint64_t user_id)
{
	return account_status_from_store(store_pending_void(conn, user_id));
}

account_status_t account_trust(store_conn_t *conn, uint64_t user_id, char const *scope, char const *address,
			       addr_kind_t kind, trust_how_t how, int64_t now, int64_t lifetime_seconds)
{
	if (!address || addr_trust_refusal(kind, address) != NULL) return ACCOUNT_REFUSED;
	return account_status_from_store(store_trust_add(conn, user_id, scope ? scope : "", address, kind, how, now,
							 policy_trust_expires_at(now, lifetime_seconds)));
}

account_status_t account_recovery_use(store_conn_t *conn, uint64_t user_id, uint8_t const *code, size_t code_len,
				      int64_t now)
{
	char normalised[RECOVERY_CODE_CHARS + 1];
	uint8_t hash[RECOVERY_HASH_LEN];
	store_recovery_set_t set;
	account_status_t status = ACCOUNT_REFUSED;
	store_status_t rc;
	size_t i;

	if (recovery_code_normalise((char const *)code, code_len, normalised) != 0) return ACCOUNT_REFUSED;
	rc = store_recovery_unused(conn, user_id, &set);
	if (rc != STORE_OK) {
		status = account_status_from_store(rc);
		goto done;
	}
	if (set.count == 0) goto done;
	if (recovery_code_hash(normalised, set.salt, hash) != 0) {
		status = ACCOUNT_CRYPTO_FAILED;
		goto done;
	}
	for (i = 0; i < set.count; i++) {
		if (CRYPTO_memcmp(hash, set.hash[i], RECOVERY_HASH_LEN) == 0) {
			status = account_status_from_store(store_recovery_use(conn, user_id, set.slot[i], now));
			break;
		}
	}
done:
	OPENSSL_cleanse(normalised, sizeof(normalised));
	OPENSSL_cleanse(hash, sizeof(hash));
	OPENSSL_cleanse(&set, sizeof(set));
	return status;
}

account_status_t account_email_confirm_link(store_conn_t *conn, uint8_t const token_hash[EMAIL_HASH_LEN], int64_t now,
					    int64_t trust_lifetime, store_email_link_t *link, bool *trusted)
{
	char address[ADDR_TEXT_MAX];
	account_status_t status;
	addr_kind_t kind;

	*trusted = false;
	status = account_status_from_store(store_email_by_token(conn, token_hash, now, link));
	if (status != ACCOUNT_OK) return status;
	if (!policy_email_confirmation_usable(link->user_disabled, link->twofa_active)) return ACCOUNT_REFUSED;
	status = account_status_from_store(store_email_confirm_link(conn, link->id, now));
	if (status != ACCOUNT_OK) return status;
	if (!link->may_trust) return ACCOUNT_OK;	/* confirms the login only */
	kind = addr_normalise(link->address, strlen(link->address), address);
	if (addr_trust_refusal(kind, address) != NULL) return ACCOUNT_OK;	/* nothing to trust */
	status = account_trust(conn, link->user_id, link->scope, address, kind, TRUST_BY_EMAIL, now, trust_lifetime);
	*trusted = status == ACCOUNT_OK;
	return status;
}
