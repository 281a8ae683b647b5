/*
 * test_secretbox.c - sealing TOTP secrets: round trips, every tampering
 * case, key rotation, and the key file's checks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secretbox.h"

#define KEY1_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define KEY2_HEX "F0E1D2C3B4A5968778695A4B3C2D1E0FFFEEDDCCBBAA99887766554433221100"
#define FILE_1   "1 " KEY1_HEX "\n"
#define FILE_2   "2 " KEY2_HEX "\n"
#define FILE_12  "# vrms2fa keys\n\n1 " KEY1_HEX "\n2 " KEY2_HEX "\n"
#define USER 4242ULL
#define BOX_MAX (SECRETBOX_MAX_PLAINTEXT + SECRETBOX_OVERHEAD)

static uint8_t const SECRET[20] = "12345678901234567890";

static void write_key_file(char path[64], char const *content, size_t len, mode_t mode)
{
	int fd;

	strcpy(path, "/tmp/vrms2fa-keys-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, len), (ssize_t) len);
	assert_int_equal(close(fd), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* Error messages must never carry key material. */
static void no_key_material(char const *err)
{
	assert_null(strstr(err, "0001020304"));
	assert_null(strstr(err, "0a0b0c0d"));
	assert_null(strstr(err, "F0E1D2C3"));
	assert_null(strstr(err, "f0e1d2c3"));
	assert_null(strstr(err, "DDCCBBAA"));
}

static int load_n(char const *content, size_t len, mode_t mode, uint32_t current,
		  secretbox_keyring_t *ring, char *err, size_t errlen)
{
	char path[64];
	int rc;

	write_key_file(path, content, len, mode);
	rc = secretbox_keyring_load(path, current, ring, err, errlen);
	if (rc != 0) {
		assert_non_null(strstr(err, path));	/* the reason names the file */
		no_key_material(err);
	}
	assert_int_equal(unlink(path), 0);
	return rc;
}

static int load(char const *content, mode_t mode, uint32_t current, secretbox_keyring_t *ring,
		char *err, size_t errlen)
{
	return load_n(content, strlen(content), mode, current, ring, err, errlen);
}

static void load_ok(char const *content, uint32_t current, secretbox_keyring_t *ring)
{
	char err[256];

	if (load(content, 0600, current, ring, err, sizeof(err)) != 0) fail_msg("load: %s", err);
}

static void load_refused(char const *content, mode_t mode, uint32_t current, char const *why)
{
	secretbox_keyring_t ring;
	char err[256];
	size_t i;

	assert_int_equal(load(content, mode, current, &ring, err, sizeof(err)), -1);
	if (why && !strstr(err, why)) fail_msg("error \"%s\" lacks \"%s\"", err, why);
	/* a failed load leaves no key material behind */
	for (i = 0; i < sizeof(ring); i++) assert_int_equal(((uint8_t const *) &ring)[i], 0);
}

static size_t seal(secretbox_keyring_t const *ring, uint64_t user, uint8_t const *pt, size_t ptlen,
		   uint8_t box[BOX_MAX])
{
	size_t boxlen = 0;

	assert_int_equal(secretbox_seal(ring, user, pt, ptlen, box, BOX_MAX, &boxlen), 0);
	assert_int_equal(boxlen, ptlen + SECRETBOX_OVERHEAD);
	return boxlen;
}

static int open_box(secretbox_keyring_t const *ring, uint64_t user, uint8_t const *box, size_t boxlen)
{
	uint8_t pt[SECRETBOX_MAX_PLAINTEXT];
	size_t ptlen = 99;
	int rc = secretbox_open(ring, user, box, boxlen, pt, sizeof(pt), &ptlen);

	if (rc != 0) assert_int_equal(ptlen, 0);
	return rc;
}

static void test_round_trip(void **state)
{
	secretbox_keyring_t ring;
	uint8_t box[BOX_MAX], pt[SECRETBOX_MAX_PLAINTEXT], big[SECRETBOX_MAX_PLAINTEXT];
	size_t boxlen, ptlen = 0, n;
	static size_t const SIZES[] = { 1, 10, 20, 32, 64, SECRETBOX_MAX_PLAINTEXT };

	(void) state;
	load_ok(FILE_1, 1, &ring);
	assert_int_equal(ring.count, 1);
	assert_int_equal(ring.current_id, 1);

	boxlen = seal(&ring, USER, SECRET, sizeof(SECRET), box);
	assert_int_equal(box[0], 0x01);
	assert_memory_equal(box + 1, "\x00\x00\x00\x01", 4);
	assert_int_equal(secretbox_key_id_of(box, boxlen), 1);
	assert_memory_not_equal(box + SECRETBOX_HEADER_LEN, SECRET, sizeof(SECRET));
	assert_int_equal(secretbox_open(&ring, USER, box, boxlen, pt, sizeof(pt), &ptlen), 0);
	assert_int_equal(ptlen, sizeof(SECRET));
	assert_memory_equal(pt, SECRET, sizeof(SECRET));

	for (n = 0; n < sizeof(big); n++) big[n] = (uint8_t) (n * 7);
	for (n = 0; n < sizeof(SIZES) / sizeof(SIZES[0]); n++) {
		boxlen = seal(&ring, USER, big, SIZES[n], box);
		assert_int_equal(secretbox_open(&ring, USER, box, boxlen, pt, SIZES[n], &ptlen), 0);
		assert_int_equal(ptlen, SIZES[n]);
		assert_memory_equal(pt, big, SIZES[n]);
	}
	secretbox_keyring_wipe(&ring);
}

static void test_fresh_iv(void **state)
{
	secretbox_keyring_t ring;
	uint8_t a[BOX_MAX], b[BOX_MAX];
	size_t alen, blen;

	(void) state;
	load_ok(FILE_1, 1, &ring);
	alen = seal(&ring, USER, SECRET, sizeof(SECRET), a);
	blen = seal(&ring, USER, SECRET, sizeof(SECRET), b);
	assert_int_equal(alen, blen);
	assert_memory_not_equal(a + 5, b + 5, SECRETBOX_IV_LEN);
	assert_memory_not_equal(a + SECRETBOX_HEADER_LEN, b + SECRETBOX_HEADER_LEN, alen - SECRETBOX_HEADER_LEN);
	assert_int_equal(open_box(&ring, USER, a, alen), 0);
	assert_int_equal(open_box(&ring, USER, b, blen), 0);
	secretbox_keyring_wipe(&ring);
}

static void test_tamper_every_bit(void **state)
{
	secretbox_keyring_t ring;
	uint8_t box[BOX_MAX], bad[BOX_MAX];
	size_t boxlen, i;
	int bit;

	(void) state;
	load_ok(FILE_12, 1, &ring);
	boxlen = seal(&ring, USER, SECRET, sizeof(SECRET), box);
	for (i = 0; i < boxlen; i++) {
		for (bit = 0; bit < 8; bit++) {
			memcpy(bad, box, boxlen);
			bad[i] ^= (uint8_t) (1u << bit);
			if (open_box(&ring, USER, bad, boxlen) != -1)
				fail_msg("flipping bit %d of byte %zu was not detected", bit, i);
		}
	}
	assert_int_equal(open_box(&ring, USER, box, boxlen), 0);
	secretbox_keyring_wipe(&ring);
}

static void test_tamper_regions(void **state)
{
	secretbox_keyring_t ring;
	uint8_t box[BOX_MAX], bad[BOX_MAX];
	size_t boxlen;

	(void) state;
	load_ok(FILE_12, 1, &ring);
	boxlen = seal(&ring, USER, SECRET, sizeof(SECRET), box);

	memcpy(bad, box, boxlen); bad[0] = 0x02;					/* version */
	assert_int_equal(open_box(&ring, USER, bad, boxlen), -1);
	memcpy(bad, box, boxlen); bad[4] = 0x02;					/* key id 1 -> 2 */
	assert_int_equal(open_box(&ring, USER, bad, boxlen), -1);
	memcpy(bad, box, boxlen); bad[5] ^= 0x80;					/* IV */
	assert_int_equal(open_box(&ring, USER, bad, boxlen), -1);
	memcpy(bad, box, boxlen); bad[SECRETBOX_HEADER_LEN + 3] ^= 0x01;		/* ciphertext */
	assert_int_equal(open_box(&ring, USER, bad, boxlen), -1);
	memcpy(bad, box, boxlen); bad[boxlen - 1] ^= 0x01;				/* tag */
	assert_int_equal(open_box(&ring, USER, bad, boxlen), -1);
	memcpy(bad, box, boxlen); bad[boxlen - SECRETBOX_TAG_LEN] ^= 0x40;		/* tag, first byte */
	assert_int_equal(open_box(&ring, USER, bad, boxlen), -1);
	secretbox_keyring_wipe(&ring);
}

/* The key id is bound in: relabelling works on no key, even the same key bytes under another id. */
static void test_key_id_bound_in_aad(void **state)
{
	secretbox_keyring_t ring;
	uint8_t box[BOX_MAX];
	size_t boxlen;

	(void) state;
	load_ok("1 " KEY1_HEX "\n7 " KEY1_HEX "\n", 1, &ring);
	boxlen = seal(&ring, USER, SECRET, sizeof(SECRET), box);
	assert_int_equal(open_box(&ring, USER, box, boxlen), 0);
	box[4] = 7;
	assert_int_equal(secretbox_key_id_of(box, boxlen), 7);
	assert_int_equal(open_box(&ring, USER, box, boxlen), -1);
	secretbox_keyring_wipe(&ring);
}

static void test_wrong_user(void **state)
{
	secretbox_keyring_t ring;
	uint8_t box[BOX_MAX];
	size_t boxlen;

	(void) state;
	load_ok(FILE_1, 1, &ring);
	boxlen = seal(&ring, USER, SECRET, sizeof(SECRET), box);
	assert_int_equal(open_box(&ring, USER + 1, box, boxlen), -1);
	assert_int_equal(open_box(&ring, 0, box, boxlen), -1);
	assert_int_equal(open_box(&ring, USER | (1ULL << 63), box, boxlen), -1);
	assert_int_equal(open_box(&ring, USER, box, boxlen), 0);
	secretbox_keyring_wipe(&ring);
}

static void test_unknown_key_id(void **state)
{
	secretbox_keyring_t ring1, ring2;
	uint8_t box[BOX_MAX];
	size_t boxlen;

	(void) state;
	load_ok(FILE_1, 1, &ring1);
	load_ok(FILE_2, 2, &ring2);
	boxlen = seal(&ring1, USER, SECRET, sizeof(SECRET), box);
	assert_int_equal(open_box(&ring2, USER, box, boxlen), -1);
	box[1] = 0xff;	/* key id 0xff000001 */
	assert_int_equal(open_box(&ring1, USER, box, boxlen), -1);
	memset(box + 1, 0, 4);	/* key id 0 is never valid */
	assert_int_equal(open_box(&ring1, USER, box, boxlen), -1);
	secretbox_keyring_wipe(&ring1);
	secretbox_keyring_wipe(&ring2);
}

static void test_truncated_and_extended(void **state)
{
	secretbox_keyring_t ring;
	uint8_t box[BOX_MAX + 1], pt[SECRETBOX_MAX_PLAINTEXT];
	size_t boxlen, n, ptlen;

	(void) state;
	load_ok(FILE_1, 1, &ring);
	boxlen = seal(&ring, USER, SECRET, sizeof(SECRET), box);
	for (n = 0; n < boxlen; n++) assert_int_equal(open_box(&ring, USER, box, n), -1);
	box[boxlen] = 0;
	assert_int_equal(open_box(&ring, USER, box, boxlen + 1), -1);
	assert_int_equal(open_box(&ring, USER, NULL, boxlen), -1);
	/* a plaintext buffer too small is refused, not overrun */
	assert_int_equal(secretbox_open(&ring, USER, box, boxlen, pt, sizeof(SECRET) - 1, &ptlen), -1);
	assert_int_equal(secretbox_open(&ring, USER, box, boxlen, pt, sizeof(SECRET), &ptlen), 0);
	secretbox_keyring_wipe(&ring);
}

static void test_rotation(void **state)
{
	secretbox_keyring_t old_ring, new_ring;
	uint8_t old_box[BOX_MAX], new_box[BOX_MAX], pt[SECRETBOX_MAX_PLAINTEXT];
	size_t old_len, new_len, ptlen;

	(void) state;
	load_ok(FILE_1, 1, &old_ring);
	old_len = seal(&old_ring, USER, SECRET, sizeof(SECRET), old_box);
	assert_int_equal(secretbox_key_id_of(old_box, old_len), 1);

	load_ok(FILE_12, 2, &new_ring);
	assert_int_equal(new_ring.count, 2);
	assert_int_equal(new_ring.current_id, 2);
	assert_int_equal(secretbox_open(&new_ring, USER, old_box, old_len, pt, sizeof(pt), &ptlen), 0);
	assert_memory_equal(pt, SECRET, sizeof(SECRET));

	new_len = seal(&new_ring, USER, pt, ptlen, new_box);
	assert_int_equal(secretbox_key_id_of(new_box, new_len), 2);
	assert_memory_equal(new_box + 1, "\x00\x00\x00\x02", 4);
	assert_int_equal(open_box(&new_ring, USER, new_box, new_len), 0);
	assert_int_equal(open_box(&old_ring, USER, new_box, new_len), -1);	/* old ring lacks key 2 */
	secretbox_keyring_wipe(&old_ring);
	secretbox_keyring_wipe(&new_ring);
}

static void test_key_file_permissions(void **state)
{
	secretbox_keyring_t ring;
	char err[256];

	(void) state;
	load_refused(FILE_1, 0644, 1, "group or others");
	load_refused(FILE_1, 0640, 1, "group or others");
	load_refused(FILE_1, 0604, 1, "group or others");
	load_refused(FILE_1, 0620, 1, "group or others");
	assert_int_equal(load(FILE_1, 0400, 1, &ring, err, sizeof(err)), 0);
	assert_int_equal(load(FILE_1, 0600, 1, &ring, err, sizeof(err)), 0);
	secretbox_keyring_wipe(&ring);
}

static void test_key_file_missing(void **state)
{
	secretbox_keyring_t ring;
	char err[256];
	char dir[] = "/tmp/vrms2fa-dir-XXXXXX";

	(void) state;
	assert_int_equal(secretbox_keyring_load("/nonexistent/vrms2fa.keys", 1, &ring, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/vrms2fa.keys"));
	assert_int_equal(secretbox_keyring_load("", 1, &ring, err, sizeof(err)), -1);
	assert_int_equal(secretbox_keyring_load(NULL, 1, &ring, err, sizeof(err)), -1);
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0700), 0);
	assert_int_equal(secretbox_keyring_load(dir, 1, &ring, err, sizeof(err)), -1);
	assert_int_equal(rmdir(dir), 0);
	/* a tiny error buffer is fine */
	assert_int_equal(secretbox_keyring_load("/nonexistent/x", 1, &ring, err, 5), -1);
	assert_int_equal(strlen(err), 4);
	assert_int_equal(secretbox_keyring_load("/nonexistent/x", 1, &ring, NULL, 0), -1);
}

static void test_key_file_malformed(void **state)
{
	char buf[2048];
	size_t i;
	int n;

	(void) state;
	load_refused("1 " KEY1_HEX "00\n", 0600, 1, "line 1");			/* 66 hex digits */
	load_refused("1 0001020304050607\n", 0600, 1, "line 1");		/* short key */
	load_refused("1 " KEY1_HEX " extra\n", 0600, 1, "line 1");
	load_refused("# c\n1" KEY1_HEX "\n", 0600, 1, "line 2");		/* no separator */
	load_refused("0 " KEY1_HEX "\n", 0600, 1, "line 1");			/* id 0 */
	load_refused("4294967296 " KEY1_HEX "\n", 0600, 1, "line 1");		/* > 2^32-1 */
	load_refused("99999999999 " KEY1_HEX "\n", 0600, 1, "line 1");
	load_refused("-1 " KEY1_HEX "\n", 0600, 1, "line 1");
	load_refused("x " KEY1_HEX "\n", 0600, 1, "line 1");
	load_refused("1 " KEY1_HEX "\n1 " KEY2_HEX "\n", 0600, 1, "duplicate");
	load_refused("1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g\n", 0600, 1, "line 1");
	load_refused("1 " KEY1_HEX "\n", 0600, 2, "current key id 2");		/* current not in file */
	load_refused("", 0600, 1, "no keys");
	load_refused("# only a comment\n\n", 0600, 1, "no keys");
	load_refused(" # indented comment\nkey\n", 0600, 1, "line 2");

	/* 17 keys: one too many */
	buf[0] = '\0';
	for (i = 1; i <= SECRETBOX_MAX_KEYS + 1; i++) {
		size_t len = strlen(buf);

		n = snprintf(buf + len, sizeof(buf) - len, "%zu %s\n", i, KEY1_HEX);
		assert_true(n > 0 && (size_t) n < sizeof(buf) - len);
	}
	load_refused(buf, 0600, 1, "too many");

	/* a NUL byte */
	{
		secretbox_keyring_t ring;
		char err[256];
		char content[] = "1 " KEY1_HEX "\n\0\n";

		assert_int_equal(load_n(content, sizeof(content) - 1, 0600, 1, &ring, err, sizeof(err)), -1);
	}
}

static void test_key_file_lenient_whitespace(void **state)
{
	secretbox_keyring_t ring;

	(void) state;
	load_ok("\t 1\t" KEY1_HEX " \r\n\r\n  # comment\r\n2   " KEY2_HEX, 2, &ring);	/* CRLF, no final newline */
	assert_int_equal(ring.count, 2);
	assert_int_equal(ring.keys[0].id, 1);
	assert_int_equal(ring.keys[1].id, 2);
	assert_int_equal(ring.keys[0].key[31], 0x1f);
	assert_int_equal(ring.keys[1].key[0], 0xf0);	/* upper-case hex */
	load_ok("4294967295 " KEY1_HEX "\n", 4294967295u, &ring);
	assert_int_equal(ring.keys[0].id, 4294967295u);
	secretbox_keyring_wipe(&ring);
}

static void test_seal_refuses(void **state)
{
	secretbox_keyring_t ring;
	uint8_t box[BOX_MAX + 16], big[SECRETBOX_MAX_PLAINTEXT + 1] = { 0 };
	size_t boxlen = 99;

	(void) state;
	load_ok(FILE_1, 1, &ring);
	assert_int_equal(secretbox_seal(&ring, USER, SECRET, 0, box, sizeof(box), &boxlen), -1);
	assert_int_equal(boxlen, 0);
	assert_int_equal(secretbox_seal(&ring, USER, NULL, 20, box, sizeof(box), &boxlen), -1);
	assert_int_equal(secretbox_seal(&ring, USER, big, sizeof(big), box, sizeof(box), &boxlen), -1);
	assert_int_equal(secretbox_seal(&ring, USER, SECRET, 20, box, 20 + SECRETBOX_OVERHEAD - 1, &boxlen), -1);
	assert_int_equal(secretbox_seal(&ring, USER, SECRET, 20, box, 20 + SECRETBOX_OVERHEAD, &boxlen), 0);
	assert_int_equal(secretbox_seal(NULL, USER, SECRET, 20, box, sizeof(box), &boxlen), -1);
	/* a wiped ring seals nothing and opens nothing */
	secretbox_keyring_wipe(&ring);
	assert_int_equal(ring.count, 0);
	assert_int_equal(ring.current_id, 0);
	assert_int_equal(secretbox_seal(&ring, USER, SECRET, 20, box, sizeof(box), &boxlen), -1);
}

static void test_key_id_of(void **state)
{
	uint8_t blob[SECRETBOX_OVERHEAD + 1] = { 0x01, 0x12, 0x34, 0x56, 0x78 };

	(void) state;
	assert_int_equal(secretbox_key_id_of(blob, sizeof(blob)), 0x12345678u);
	assert_int_equal(secretbox_key_id_of(blob, SECRETBOX_OVERHEAD), 0);	/* no ciphertext */
	assert_int_equal(secretbox_key_id_of(blob, 3), 0);
	assert_int_equal(secretbox_key_id_of(NULL, sizeof(blob)), 0);
	blob[0] = 0x02;
	assert_int_equal(secretbox_key_id_of(blob, sizeof(blob)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_fresh_iv),
		cmocka_unit_test(test_tamper_every_bit),
		cmocka_unit_test(test_tamper_regions),
		cmocka_unit_test(test_key_id_bound_in_aad),
		cmocka_unit_test(test_wrong_user),
		cmocka_unit_test(test_unknown_key_id),
		cmocka_unit_test(test_truncated_and_extended),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_key_file_permissions),
		cmocka_unit_test(test_key_file_missing),
		cmocka_unit_test(test_key_file_malformed),
		cmocka_unit_test(test_key_file_lenient_whitespace),
		cmocka_unit_test(test_seal_refuses),
		cmocka_unit_test(test_key_id_of),
	};

	return cmocka_run_group_tests_name("secretbox", tests, NULL, NULL);
}
