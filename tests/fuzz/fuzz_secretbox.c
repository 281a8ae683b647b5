/*
 * fuzz_secretbox.c - feeds arbitrary bytes to secretbox_open, as they
 * would come from the totp_secret column of a tampered database, with a
 * fixed keyring built in memory (key ids 1 and 7, current 7; user 4242).
 *
 * Checks: no crash or UB, no read past the blob; opening fails on
 * anything but a genuine seal: a success must give one of the plaintexts
 * the seed blobs were sealed with (corpus/fuzz_secretbox/ holds such
 * seals), and the same blob must then fail for another user, with its
 * last byte flipped, and with one byte less of output room; a failure
 * reports length 0; secretbox_key_id_of agrees with the header.  The input
 * is also sealed as a plaintext (when 1..128 bytes) and must open again.
 */
#include "fuzz_util.h"
#include "secretbox.h"

#define USER 4242u

/* The plaintexts of the seed seals (see README.md). */
static char const *const SEED_PLAINTEXTS[] = {
	"12345678901234567890",
	"fuzz-seed secret for key 1",
	"x",
};

static secretbox_keyring_t ring;

static void init_ring(void)
{
	size_t i;

	if (ring.count) return;
	ring.keys[0].id = 1;
	ring.keys[1].id = 7;
	for (i = 0; i < SECRETBOX_KEY_LEN; i++) {
		ring.keys[0].key[i] = (uint8_t) i;
		ring.keys[1].key[i] = (uint8_t) (0xf0 ^ (i * 7));
	}
	ring.count = 2;
	ring.current_id = 7;
}

static int known_plaintext(uint8_t const *pt, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(SEED_PLAINTEXTS) / sizeof(SEED_PLAINTEXTS[0]); i++) {
		if (strlen(SEED_PLAINTEXTS[i]) == len && memcmp(SEED_PLAINTEXTS[i], pt, len) == 0) return 1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *in = fuzz_memdup(data, size);
	uint8_t pt[SECRETBOX_MAX_PLAINTEXT + 1], box[SECRETBOX_MAX_PLAINTEXT + SECRETBOX_OVERHEAD];
	size_t ptlen = 999, boxlen = 0, len2 = 999;
	uint32_t key_id;
	int rc;

	init_ring();

	key_id = secretbox_key_id_of(in, size);
	if (size > SECRETBOX_OVERHEAD && in[0] == 0x01) {
		FUZZ_CHECK(key_id == ((uint32_t) in[1] << 24 | (uint32_t) in[2] << 16 | (uint32_t) in[3] << 8 | in[4]));
	} else {
		FUZZ_CHECK(key_id == 0);
	}

	rc = secretbox_open(&ring, USER, in, size, pt, sizeof(pt), &ptlen);
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc != 0) {
		FUZZ_CHECK(ptlen == 0);
	} else {
		FUZZ_CHECK(size > SECRETBOX_OVERHEAD && ptlen == size - SECRETBOX_OVERHEAD);
		FUZZ_CHECK(known_plaintext(pt, ptlen));
		FUZZ_CHECK(key_id == 1 || key_id == 7);
		FUZZ_CHECK(secretbox_open(&ring, USER + 1, in, size, pt, sizeof(pt), &len2) == -1 && len2 == 0);
		FUZZ_CHECK(secretbox_open(&ring, USER, in, size, pt, ptlen - 1, &len2) == -1 && len2 == 0);
		in[size - 1] ^= 0x01;
		FUZZ_CHECK(secretbox_open(&ring, USER, in, size, pt, sizeof(pt), &len2) == -1 && len2 == 0);
		in[size - 1] ^= 0x01;
	}

	/* The input as a plaintext: seal, open, same bytes. */
	if (size >= 1 && size <= SECRETBOX_MAX_PLAINTEXT) {
		FUZZ_CHECK(secretbox_seal(&ring, USER, in, size, box, sizeof(box), &boxlen) == 0);
		FUZZ_CHECK(boxlen == size + SECRETBOX_OVERHEAD);
		FUZZ_CHECK(secretbox_key_id_of(box, boxlen) == 7);
		FUZZ_CHECK(secretbox_open(&ring, USER, box, boxlen, pt, sizeof(pt), &ptlen) == 0);
		FUZZ_CHECK(ptlen == size && memcmp(pt, in, size) == 0);
	} else {
		FUZZ_CHECK(secretbox_seal(&ring, USER, in, size, box, sizeof(box), &boxlen) == -1);
	}

	free(in);
	return 0;
}
