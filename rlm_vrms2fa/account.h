/*
 * account.h - what the module and the admin tool both do to an account,
 * written once: make and seal an enrollment secret, check a code against a
 * stored secret, activate two-step verification, trust an address, use a
 * recovery code, confirm an email link.  Over the storage layer and the
 * core; knows nothing of FreeRADIUS.  The rules these apply (when trust
 * expires, what a grace deadline is) are the core's (core/policy.h).
 */
#ifndef VRMS2FA_ACCOUNT_H
#define VRMS2FA_ACCOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/address.h"
#include "core/secretbox.h"
#include "core/totp.h"
#include "store/store.h"
#include "store/store_login.h"
#include "store/store_admin.h"

#define ACCOUNT_SECRET_LEN	20	/* bytes of a new TOTP secret: 160 bits, RFC 4226 R6 */

typedef enum {
	ACCOUNT_OK = 0,
	ACCOUNT_REFUSED,	/* the account's state does not allow it: wrong code, already active, raced */
	ACCOUNT_NOT_FOUND,	/* nothing to act on (no pending secret, unknown token) */
	ACCOUNT_UNDECRYPTABLE,	/* a stored secret does not open with the key file (wrong key or tampered row) */
	ACCOUNT_CRYPTO_FAILED,	/* the random generator, the cipher or the TOTP library failed */
	ACCOUNT_STORE_FAILED,	/* a database error: store_last_error() says which */
	ACCOUNT_RETRY		/* a deadlock or certification conflict inside a transaction: run it again */
} account_status_t;

/* STORE_OK -> ACCOUNT_OK, STORE_CONFLICT -> REFUSED, STORE_NOT_FOUND -> NOT_FOUND, STORE_RETRY -> RETRY, else STORE_FAILED. */
account_status_t account_status_from_store(store_status_t rc);

/*
 * A new random secret for the user, sealed under the keyring's current key
 * and stored as the user's pending secret (replacing any pending one: a
 * pending secret is never shown twice).  challenge_digest binds it to the
 * enrollment challenge that shows it (NULL: the admin tool's).  secret
 * receives the plaintext (for the key text and the otpauth URI; the caller
 * wipes it).  REFUSED when the user already has an active secret.
 */
account_status_t account_enroll_begin(store_conn_t *conn, secretbox_keyring_t const *keyring, uint64_t user_id,
				      totp_params_t const *params, int64_t now, uint8_t const *challenge_digest,
				      uint8_t secret[ACCOUNT_SECRET_LEN]);

/*
 * Check code (code_len bytes) against a stored secret at 'now', within
 * 'window' steps.  OK with *counter the matched time step (the replay guard
 * is the caller's next write); REFUSED for a wrong, malformed or expired
 * code; UNDECRYPTABLE; CRYPTO_FAILED for a library failure.
 */
account_status_t account_code_check(secretbox_keyring_t const *keyring, uint64_t user_id, store_secret_t const *secret,
				    uint8_t const *code, size_t code_len, int64_t now, unsigned window, uint64_t *counter);

/*
 * The pending secret that was checked (and only it: a concurrent enrollment
 * may have replaced it since) -> active at time step counter (replay guard
 * included); clears
 * the grace deadline and voids pending email confirmations (the mailbox no
 * longer proves this user).  REFUSED when raced.
 */
account_status_t account_enroll_activate(store_conn_t *conn, uint64_t user_id, store_secret_t const *checked,
					 uint64_t counter, int64_t now);

/* Void pending email confirmations and a pending secret (store_pending_void). */
account_status_t account_void_pending(store_conn_t *conn, uint64_t user_id);

/*
 * Trust address (normalised, of kind) for the user in a trust scope ("" the
 * default), earned 'how', from 'now' for lifetime_seconds (0: never
 * expires).  A re-proof moves the expiry.  REFUSED for an address that
 * cannot be a trust key (addr_trust_refusal): the caller has checked the
 * request itself (policy_trust_refusal).
 */
account_status_t account_trust(store_conn_t *conn, uint64_t user_id, char const *scope, char const *address,
			       addr_kind_t kind, trust_how_t how, int64_t now, int64_t lifetime_seconds);

/* A recovery code in place of a verification code: OK when one unused code matched and is now used up. */
account_status_t account_recovery_use(store_conn_t *conn, uint64_t user_id, uint8_t const *code, size_t code_len,
				      int64_t now);

/*
 * Confirm the email link whose token hashes to token_hash and, when the
 * login that asked for it could earn trust, trust its address (in that
 * login's trust scope, earned by email).  Run it inside a transaction.
 * NOT_FOUND for an unknown, expired or used token; REFUSED when the user is
 * disabled or has set up 2FA since (policy_email_confirmation_usable).
 * *link receives the confirmation; *trusted whether the address is now
 * trusted.
 */
account_status_t account_email_confirm_link(store_conn_t *conn, uint8_t const token_hash[EMAIL_HASH_LEN], int64_t now,
					    int64_t trust_lifetime, store_email_link_t *link, bool *trusted);

#endif
