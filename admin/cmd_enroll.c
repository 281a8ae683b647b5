/*
 * cmd_enroll.c - "enroll begin/confirm/reset" and "recovery-codes": a new
 * TOTP secret (160 bits, sealed with the current key, pending until a code
 * confirms it), its activation, its removal, and single-use recovery codes.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "admin.h"
#include "../rlm_vrms2fa/core/address.h"
#include "../rlm_vrms2fa/core/otpauth.h"
#include "../rlm_vrms2fa/core/base32.h"
#include "../rlm_vrms2fa/core/recovery.h"
#include "qr.h"

static int enroll_begin(admin_t *a, int argc, char **argv)
{
	static char const usage[] = "vrms2fa-admin enroll begin LOGIN [--qr ansi|png|svg] [--out FILE]";
	char const *qr_arg = NULL, *out_path = NULL, *pos[1] = { NULL };
	admin_option_t opts[] = { { "--qr", true, &qr_arg, NULL }, { "--out", true, &out_path, NULL }, { NULL, false, NULL, NULL } };
	qr_format_t qr_format = QR_ANSI;
	char qr_err[256];
	uint8_t secret[ACCOUNT_SECRET_LEN];
	char key[64], grouped[96], uri[OTPAUTH_URI_MAX];
	account_status_t status;
	store_user_t u;
	int err, formatted;

	admin_parse(argc, argv, opts, pos, 1, 0, usage);
	if (qr_arg && qr_format_parse(qr_arg, &qr_format) != 0) {
		fprintf(stderr, "vrms2fa-admin: --qr takes ansi, png or svg\nusage: %s\n", usage);
		return EXIT_USAGE;
	}
	if (out_path && !qr_arg) {
		fprintf(stderr, "vrms2fa-admin: --out goes with --qr\nusage: %s\n", usage);
		return EXIT_USAGE;
	}
	if (qr_arg && qr_format != QR_ANSI && !out_path) {
		fprintf(stderr, "vrms2fa-admin: --qr %s needs --out FILE\nusage: %s\n", qr_arg, usage);
		return EXIT_USAGE;
	}
	if ((err = admin_connect(a)) || (err = admin_keyring(a))) return err;
	if ((err = admin_user(a, pos[0], &u))) return err;
	if (u.totp_status == TOTP_STATUS_ACTIVE) {
		return admin_fail("%s already has two-step verification active; run 'enroll reset %s' first", u.login, u.login);
	}
	status = account_enroll_begin(a->conn, &a->keyring, u.id, &a->flow.totp, a->now, NULL, secret);
	if (status == ACCOUNT_REFUSED) return admin_fail("%s already has two-step verification active", u.login);
	if (status == ACCOUNT_CRYPTO_FAILED) return admin_fail("cannot make a secret");
	if (status != ACCOUNT_OK) return admin_db_fail(a, "enroll begin");
	formatted = base32_encode(secret, sizeof(secret), key, sizeof(key)) == 0 &&
		    otpauth_key_grouped(secret, sizeof(secret), grouped, sizeof(grouped)) == 0 &&
		    otpauth_uri(a->flow.issuer, u.login, &a->flow.totp, secret, sizeof(secret), uri, sizeof(uri)) == 0;
	OPENSSL_cleanse(secret, sizeof(secret));
	if (!formatted) return admin_fail("cannot format the secret");
	admin_audit(a, "vrms2fa-admin", u.id, u.company.id, "enrollment_started", "by the admin tool");

	if (qr_arg && out_path && qr_write_file(uri, qr_format, out_path, qr_err, sizeof(qr_err)) != 0) {
		OPENSSL_cleanse(uri, sizeof(uri));
		return admin_fail("%s", qr_err);
	}
	if (a->json) {
		json_t j = { 0 };

		json_open(&j, NULL, '{');
		json_str(&j, "login", u.login);
		json_str(&j, "secret", key);
		json_str(&j, "uri", uri);
		json_str(&j, "algorithm", totp_algo_name(a->flow.totp.algo));
		json_int(&j, "digits", a->flow.totp.digits);
		json_int(&j, "period", a->flow.totp.period);
		json_str(&j, "key_grouped", grouped);
		if (out_path) json_str(&j, "qr_file", out_path);
		json_close(&j, '}');
		json_end(&j);
	} else {
		if (qr_arg && qr_format == QR_ANSI && !out_path) {
			printf("Scan this QR code with the authentication app of %s:\n\n", u.login);
			if (qr_write_ansi(uri, stdout) != 0) return admin_fail("cannot draw the QR code");
			printf("\n");
		} else if (out_path) {
			printf("QR code written to %s (mode 0600: it holds the key).\n\n", out_path);
		}
		printf("Key for manual entry (%s, %u digits, %u s):\n\n    %s\n\n", totp_algo_name(a->flow.totp.algo),
		       a->flow.totp.digits, a->flow.totp.period, grouped);
		printf("otpauth URI:\n\n    %s\n\n", uri);
		printf("Then confirm with: vrms2fa-admin enroll confirm %s --stdin   (and type the code)\n", u.login);
	}
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(grouped, sizeof(grouped));
	OPENSSL_cleanse(uri, sizeof(uri));
	return 0;
}

/* Activation and the trusted address, in one transaction (admin_transaction). */
typedef struct {
	uint64_t		user_id;
	store_secret_t const	*secret;	/* the pending secret the code was checked against */
	uint64_t		counter;
	char const		*address;
	addr_kind_t		kind;
} enroll_confirm_tx_t;

static store_status_t enroll_confirm_tx(admin_t *a, void *arg)
{
	enroll_confirm_tx_t const *t = arg;
	account_status_t status;

	status = account_enroll_activate(a->conn, t->user_id, t->secret, t->counter, a->now);
	if (status == ACCOUNT_OK && t->kind != ADDR_INVALID) {
		status = account_trust(a->conn, t->user_id, "", t->address, t->kind, TRUST_BY_ENROLLMENT, a->now,
				       a->flow.trust_lifetime);
	}
	switch (status) {
	case ACCOUNT_OK:	return STORE_OK;
	case ACCOUNT_REFUSED:	return STORE_CONFLICT;
	case ACCOUNT_RETRY:	return STORE_RETRY;
	default:		return STORE_ERROR;
	}
}

static int enroll_confirm(admin_t *a, int argc, char **argv)
{
	static char const usage[] =
		"vrms2fa-admin enroll confirm LOGIN (CODE | - | --stdin) [--address ADDR]\n"
		"  - or --stdin: the code on standard input (an argument is visible to local users in /proc)";
	char const *address_arg = NULL, *pos[2] = { NULL, NULL };
	bool from_stdin = false;
	admin_option_t opts[] = {
		{ "--address", true, &address_arg, NULL }, { "--stdin", false, NULL, &from_stdin }, { NULL, false, NULL, NULL },
	};
	char address[ADDR_TEXT_MAX] = "", code[64];
	addr_kind_t kind = ADDR_INVALID;
	store_secret_t secret;
	store_user_t u;
	uint64_t counter = 0;
	enroll_confirm_tx_t t;
	account_status_t status;
	store_status_t rc;
	int err;

	admin_parse(argc, argv, opts, pos, 1, 1, usage);
	if ((pos[1] != NULL) == from_stdin) {
		fprintf(stderr, "vrms2fa-admin: give the code, '-' or --stdin\nusage: %s\n", usage);
		return EXIT_USAGE;
	}
	if ((err = admin_check_login(pos[0]))) return err;
	if (address_arg) {
		kind = addr_normalise(address_arg, strlen(address_arg), address);
		if (kind == ADDR_INVALID) return admin_fail("not an IP or MAC address: %s", address_arg);
		if (addr_trust_refusal(kind, address)) {
			return admin_fail("%s cannot be a trusted address: %s", address, addr_trust_refusal(kind, address));
		}
	}
	if ((err = admin_connect(a)) || (err = admin_keyring(a))) return err;
	if ((err = admin_user(a, pos[0], &u))) return err;

	rc = store_secret_get(a->conn, u.id, &secret);
	if (rc == STORE_NOT_FOUND || (rc == STORE_OK && secret.status != TOTP_STATUS_PENDING)) {
		return admin_fail("%s has no pending enrollment; run 'enroll begin %s'", u.login, u.login);
	}
	if (rc != STORE_OK) return admin_db_fail(a, "enroll confirm");
	if ((err = admin_secret_arg(from_stdin ? "-" : pos[1], "verification code", code, sizeof(code)))) return err;
	status = account_code_check(&a->keyring, u.id, &secret, (uint8_t const *)code, strlen(code), a->now,
				    a->flow.totp_window, &counter);
	OPENSSL_cleanse(code, sizeof(code));
	if (status == ACCOUNT_UNDECRYPTABLE) {
		return admin_fail("the secret of %s does not decrypt with the key file (key id %u)", u.login, secret.key_id);
	}
	if (status != ACCOUNT_OK) return admin_fail("the code is incorrect or has expired");

	t = (enroll_confirm_tx_t){ .user_id = u.id, .secret = &secret, .counter = counter, .address = address, .kind = kind };
	rc = admin_transaction(a, enroll_confirm_tx, &t);
	if (rc == STORE_CONFLICT) return admin_fail("the enrollment was confirmed or reset meanwhile");
	if (rc != STORE_OK) return admin_db_fail(a, "enroll confirm");
	admin_audit(a, "vrms2fa-admin", u.id, u.company.id, "enrollment_confirmed", "by the admin tool");
	if (kind != ADDR_INVALID) admin_audit(a, "vrms2fa-admin", u.id, u.company.id, "address_trusted", "address trusted by enrollment");

	if (a->json) {
		json_t j = { 0 };

		json_open(&j, NULL, '{');
		json_str(&j, "login", u.login);
		json_bool(&j, "enrolled", true);
		if (kind != ADDR_INVALID) json_str(&j, "trusted_address", address);
		json_close(&j, '}');
		json_end(&j);
	} else {
		printf("Two-step verification is active for %s.\n", u.login);
		if (kind != ADDR_INVALID) printf("Trusted address: %s\n", address);
	}
	return 0;
}

static store_status_t enroll_reset_tx(admin_t *a, void *arg)
{
	store_user_t const *u = arg;
	store_status_t rc;

	rc = store_secret_reset(a->conn, u->id);
	if (rc == STORE_OK) rc = store_pending_void(a->conn, u->id);
	if (rc == STORE_OK && policy_is_mandatory(u->company.level, u->company.group_mask, u->group)) {
		rc = store_user_set_deadline(a->conn, u->id, policy_grace_deadline(a->now, u->company.grace_days));
	}
	return rc;
}

static int enroll_reset(admin_t *a, int argc, char **argv)
{
	static char const usage[] = "vrms2fa-admin enroll reset LOGIN [--by LOGIN]   (--by: the password and code on stdin)";
	char const *by = NULL, *pos[1] = { NULL };
	admin_option_t opts[] = { { "--by", true, &by, NULL }, { NULL, false, NULL, NULL } };
	admin_actor_t who;
	store_user_t u;
	int err;

	admin_parse(argc, argv, opts, pos, 1, 0, usage);
	if ((err = admin_check_login(pos[0]))) return err;
	if (by && (err = admin_check_login(by))) return err;
	if ((err = admin_connect(a))) return err;
	if ((err = admin_user(a, pos[0], &u))) return err;
	if ((err = admin_authorize(a, by, &u.company, u.id, "enroll reset", "authorization_refused", &who))) return err;

	if (admin_transaction(a, enroll_reset_tx, &u) != STORE_OK) return admin_db_fail(a, "enroll reset");
	admin_audit(a, admin_actor_name(&who), u.id, u.company.id, "enrollment_reset",
		    "secret, recovery codes and trusted addresses removed");
	if (a->json) {
		json_t j = { 0 };

		json_open(&j, NULL, '{');
		json_str(&j, "login", u.login);
		json_bool(&j, "enrolled", false);
		json_close(&j, '}');
		json_end(&j);
	} else {
		printf("Two-step verification removed for %s (with its recovery codes and trusted addresses).\n", u.login);
	}
	return 0;
}

int cmd_enroll(admin_t *a, int argc, char **argv)
{
	static admin_subcommand_t const subs[] = {
		{ "begin", enroll_begin }, { "confirm", enroll_confirm }, { "reset", enroll_reset },
	};
	static char const usage[] = "vrms2fa-admin enroll begin|confirm|reset LOGIN ...  (--help on each)";

	return admin_dispatch(a, argc, argv, subs, sizeof(subs) / sizeof(subs[0]), usage);
}

typedef struct {
	uint64_t	user_id;
	uint8_t const	*salt;
	uint8_t const	(*hashes)[RECOVERY_HASH_LEN];
} recovery_tx_t;

static store_status_t recovery_tx(admin_t *a, void *arg)
{
	recovery_tx_t const *t = arg;

	return store_recovery_replace(a->conn, t->user_id, t->salt, t->hashes);
}

int cmd_recovery_codes(admin_t *a, int argc, char **argv)
{
	static char const usage[] = "vrms2fa-admin recovery-codes LOGIN";
	char const *pos[1] = { NULL };
	char codes[RECOVERY_CODE_COUNT][RECOVERY_CODE_TEXT_LEN + 1];
	uint8_t hashes[RECOVERY_CODE_COUNT][RECOVERY_HASH_LEN], salt[RECOVERY_SALT_LEN];
	char normalised[RECOVERY_CODE_CHARS + 1];
	recovery_tx_t t;
	store_user_t u;
	size_t i;
	int err;

	admin_parse(argc, argv, NULL, pos, 1, 0, usage);
	if ((err = admin_connect(a))) return err;
	if ((err = admin_user(a, pos[0], &u))) return err;
	if (u.totp_status == TOTP_STATUS_NONE) {
		return admin_fail("%s has no two-step verification; run 'enroll begin %s' first", u.login, u.login);
	}
	if (recovery_salt_new(salt) != 0) return admin_fail("random generator failed");
	for (i = 0; i < RECOVERY_CODE_COUNT; i++) {
		if (recovery_code_new(codes[i]) != 0 ||
		    recovery_code_normalise(codes[i], strlen(codes[i]), normalised) != 0 ||
		    recovery_code_hash(normalised, salt, hashes[i]) != 0) {
			OPENSSL_cleanse(codes, sizeof(codes));
			return admin_fail("cannot make recovery codes");
		}
	}
	OPENSSL_cleanse(normalised, sizeof(normalised));

	t = (recovery_tx_t){ .user_id = u.id, .salt = salt, .hashes = (uint8_t const (*)[RECOVERY_HASH_LEN])hashes };
	if (admin_transaction(a, recovery_tx, &t) != STORE_OK) {
		OPENSSL_cleanse(codes, sizeof(codes));
		return admin_db_fail(a, "recovery-codes");
	}
	admin_audit(a, "vrms2fa-admin", u.id, u.company.id, "recovery_codes_issued", "10 new codes; old ones void");

	if (a->json) {
		json_t j = { 0 };

		json_open(&j, NULL, '{');
		json_str(&j, "login", u.login);
		json_open(&j, "codes", '[');
		for (i = 0; i < RECOVERY_CODE_COUNT; i++) json_str(&j, NULL, codes[i]);
		json_close(&j, ']');
		json_close(&j, '}');
		json_end(&j);
	} else {
		printf("Recovery codes for %s (each works once; they are shown only now):\n\n", u.login);
		for (i = 0; i < RECOVERY_CODE_COUNT; i++) printf("    %s\n", codes[i]);
	}
	OPENSSL_cleanse(codes, sizeof(codes));
	return 0;
}
