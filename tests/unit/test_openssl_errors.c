/*
 * test_openssl_errors.c - every core function that handles an OpenSSL
 * failure leaves the thread's OpenSSL error queue empty (issue 21, item 2).
 *
 * radiusd's worker threads run other OpenSSL users after the module (EAP-TLS,
 * the MariaDB client's TLS), and some of those read the queue
 * (ERR_get_error/ERR_peek_error) to decide whether their own call failed: an
 * error we left behind would be taken for theirs.
 *
 * The failures are real, not simulated: with the default property query
 * "fips=yes" and no FIPS provider loaded, every algorithm fetch fails
 * (AES-256-GCM, SHA-256, PBKDF2, and the DRBG of a thread that has none
 * yet), and OpenSSL queues "unsupported" errors.  Each test provokes the
 * failure, checks that the function failed and that the queue is empty,
 * then restores the default properties and checks that the next call
 * succeeds with the queue still empty.  (A GCM tag mismatch queues nothing
 * in OpenSSL 3.0, so a tampered box alone would prove nothing here:
 * test_secretbox covers tampering.)
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "challenge_token.h"
#include "email_code.h"
#include "password.h"
#include "recovery.h"
#include "secretbox.h"

#define KEY_FILE_TEXT "1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"

static void break_fetches(void)
{
	assert_int_equal(EVP_set_default_properties(NULL, "fips=yes"), 1);
}

static void restore_fetches(void)
{
	assert_int_equal(EVP_set_default_properties(NULL, ""), 1);
	assert_int_equal(ERR_peek_error(), 0);
}

/* The queue is empty now; print what is in it otherwise. */
static void queue_empty(char const *after)
{
	unsigned long e = ERR_peek_error();

	if (e != 0) {
		char text[256];

		ERR_error_string_n(e, text, sizeof(text));
		ERR_clear_error();
		fail_msg("after %s the OpenSSL error queue still holds: %s", after, text);
	}
}

static void load_ring(secretbox_keyring_t *ring)
{
	char path[] = "/tmp/vrms2fa-errq-keys-XXXXXX", err[256];
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, KEY_FILE_TEXT, strlen(KEY_FILE_TEXT)), (ssize_t) strlen(KEY_FILE_TEXT));
	assert_int_equal(close(fd), 0);
	assert_int_equal(chmod(path, 0600), 0);
	if (secretbox_keyring_load(path, 1, ring, err, sizeof(err)) != 0) fail_msg("load: %s", err);
	assert_int_equal(unlink(path), 0);
}

static void test_secretbox(void **state)
{
	static uint8_t const secret[20] = "12345678901234567890";
	uint8_t box[64], pt[64];
	size_t boxlen = 0, ptlen = 0;
	secretbox_keyring_t ring;

	(void)state;
	load_ring(&ring);
	assert_int_equal(secretbox_seal(&ring, 7, secret, sizeof(secret), box, sizeof(box), &boxlen), 0);

	break_fetches();
	{
		uint8_t box2[64];
		size_t box2len = 0;

		assert_int_equal(secretbox_seal(&ring, 7, secret, sizeof(secret), box2, sizeof(box2), &box2len), -1);
		queue_empty("a failed secretbox_seal");
	}
	assert_int_equal(secretbox_open(&ring, 7, box, boxlen, pt, sizeof(pt), &ptlen), -1);
	queue_empty("a failed secretbox_open");
	restore_fetches();

	assert_int_equal(secretbox_open(&ring, 7, box, boxlen, pt, sizeof(pt), &ptlen), 0);
	assert_int_equal(ptlen, sizeof(secret));
	assert_memory_equal(pt, secret, sizeof(secret));
	queue_empty("a good secretbox_open");
	box[boxlen - 1] ^= 1;				/* and a tampered box: refused, queue empty */
	assert_int_equal(secretbox_open(&ring, 7, box, boxlen, pt, sizeof(pt), &ptlen), -1);
	queue_empty("secretbox_open of a tampered box");
	secretbox_keyring_wipe(&ring);
}

static void test_digests_and_kdfs(void **state)
{
	uint8_t raw[CHALLENGE_TOKEN_RAW_LEN] = { 1, 2, 3 };
	uint8_t digest[CHALLENGE_TOKEN_DIGEST_LEN];
	uint8_t salt[EMAIL_SALT_LEN] = { 9 }, hash[EMAIL_HASH_LEN];
	uint8_t rsalt[RECOVERY_SALT_LEN] = { 9 }, rhash[RECOVERY_HASH_LEN];
	static char const token[] = "0123456789abcdef0123456789abcdef";

	(void)state;
	assert_int_equal(strlen(token), EMAIL_TOKEN_TEXT_LEN);
	break_fetches();
	assert_int_equal(challenge_token_digest(raw, digest), -1);
	queue_empty("a failed challenge_token_digest");
	assert_int_equal(email_code_hash("123456", 6, salt, hash), -1);
	queue_empty("a failed email_code_hash");
	assert_int_equal(email_token_hash(token, EMAIL_TOKEN_TEXT_LEN, hash), -1);
	queue_empty("a failed email_token_hash");
	assert_int_equal(recovery_code_hash("0123456789", rsalt, rhash), -1);
	queue_empty("a failed recovery_code_hash");
	restore_fetches();

	assert_int_equal(challenge_token_digest(raw, digest), 0);
	assert_int_equal(email_code_hash("123456", 6, salt, hash), 0);
	assert_int_equal(email_token_hash(token, EMAIL_TOKEN_TEXT_LEN, hash), 0);
	assert_int_equal(recovery_code_hash("0123456789", rsalt, rhash), 0);
	queue_empty("the same calls, succeeding");
}

/*
 * The random generators fail only in a thread whose DRBG does not exist
 * yet: each runs in a new thread, under "fips=yes", and reports its result
 * and the queue's state when it returned.
 */
typedef struct {
	int		(*call)(void);
	int		rc;
	unsigned long	left;
} rand_case_t;

static int call_token_new(void)
{
	uint8_t raw[CHALLENGE_TOKEN_RAW_LEN];
	char text[CHALLENGE_TOKEN_TEXT_LEN + 1];

	return challenge_token_new(raw, text);
}

static int call_email_code_new(void)
{
	char code[EMAIL_CODE_DIGITS + 1];

	return email_code_new(code);
}

static int call_email_token_new(void)
{
	char token[EMAIL_TOKEN_TEXT_LEN + 1];

	return email_token_new(token);
}

static int call_email_salt_new(void)
{
	uint8_t salt[EMAIL_SALT_LEN];

	return email_salt_new(salt);
}

static int call_recovery_code_new(void)
{
	char code[RECOVERY_CODE_TEXT_LEN + 1];

	return recovery_code_new(code);
}

static int call_recovery_salt_new(void)
{
	uint8_t salt[RECOVERY_SALT_LEN];

	return recovery_salt_new(salt);
}

static int call_password_hash_new(void)
{
	char out[256];

	return password_hash_new("correct horse", 13, out, sizeof(out));
}

static void *rand_thread(void *arg)
{
	rand_case_t *c = arg;

	c->rc = c->call();
	c->left = ERR_peek_error();
	ERR_clear_error();
	return NULL;
}

static void run_in_new_thread(rand_case_t *c)
{
	pthread_t t;

	assert_int_equal(pthread_create(&t, NULL, rand_thread, c), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
}

static void test_random(void **state)
{
	struct { char const *name; int (*call)(void); } const cases[] = {
		{ "challenge_token_new", call_token_new },
		{ "email_code_new", call_email_code_new },
		{ "email_token_new", call_email_token_new },
		{ "email_salt_new", call_email_salt_new },
		{ "recovery_code_new", call_recovery_code_new },
		{ "recovery_salt_new", call_recovery_salt_new },
		{ "password_hash_new", call_password_hash_new },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rand_case_t c = { .call = cases[i].call, .rc = 99, .left = 0 };

		break_fetches();
		run_in_new_thread(&c);
		restore_fetches();
		if (c.rc != -1) fail_msg("%s did not fail without a DRBG (rc %d)", cases[i].name, c.rc);
		if (c.left != 0) {
			char text[256];

			ERR_error_string_n(c.left, text, sizeof(text));
			fail_msg("after a failed %s the OpenSSL error queue still holds: %s", cases[i].name, text);
		}
		c.rc = 99;
		run_in_new_thread(&c);
		if (c.rc != 0 || c.left != 0) fail_msg("%s after the failure: rc %d, queue %lx", cases[i].name, c.rc, c.left);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_secretbox),
		cmocka_unit_test(test_digests_and_kdfs),
		cmocka_unit_test(test_random),
	};
	return cmocka_run_group_tests_name("openssl_errors", tests, NULL, NULL);
}
