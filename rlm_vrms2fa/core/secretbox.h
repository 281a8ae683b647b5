/*
 * secretbox.h - TOTP secrets at rest: AES-256-GCM (OpenSSL EVP) with a
 * fresh 96-bit IV per seal, the owner's user id and the key id bound in as
 * associated data, so that a sealed secret copied to another user's row,
 * or relabelled with another key id, fails to open.
 *
 * Sealed layout (all stored in one VARBINARY column):
 *   version (1 byte, 0x01) | key id (4 bytes, big endian) | IV (12) | ciphertext | tag (16)
 * Associated data: "vrms2fa-secret-v1" | user id (8 bytes BE) | key id (4 bytes BE)
 *
 * Keys live in a file outside the database, one per line:  KEYID HEX64
 * (KEYID a decimal number 1..4294967295, HEX64 the 32-byte key in hex;
 * blank lines and lines starting with '#' ignored).  The file must be a
 * regular file not readable or writable by group or others (mode & 077 == 0).
 * The keyring is immutable once loaded.
 */
#ifndef VRMS2FA_SECRETBOX_H
#define VRMS2FA_SECRETBOX_H

#include <stddef.h>
#include <stdint.h>

#define SECRETBOX_KEY_LEN	32
#define SECRETBOX_IV_LEN	12
#define SECRETBOX_TAG_LEN	16
#define SECRETBOX_HEADER_LEN	(1 + 4 + SECRETBOX_IV_LEN)
#define SECRETBOX_OVERHEAD	(SECRETBOX_HEADER_LEN + SECRETBOX_TAG_LEN)
#define SECRETBOX_MAX_KEYS	16
#define SECRETBOX_MAX_PLAINTEXT	128

typedef struct {
	uint32_t	id;
	uint8_t		key[SECRETBOX_KEY_LEN];
} secretbox_key_t;

typedef struct {
	secretbox_key_t	keys[SECRETBOX_MAX_KEYS];
	size_t		count;
	uint32_t	current_id;	/* the key new seals use */
} secretbox_keyring_t;

/*
 * Load the key file.  current_id must be one of its keys.  On failure returns
 * -1 and writes a one-line reason naming the file (never key material) into err.
 */
int secretbox_keyring_load(char const *path, uint32_t current_id, secretbox_keyring_t *ring,
			   char *err, size_t errlen);

/* Overwrite all key material (OPENSSL_cleanse). */
void secretbox_keyring_wipe(secretbox_keyring_t *ring);

/* Seal with the current key. out needs ptlen + SECRETBOX_OVERHEAD bytes. 0 ok, -1 error. */
int secretbox_seal(secretbox_keyring_t const *ring, uint64_t user_id,
		   uint8_t const *pt, size_t ptlen, uint8_t *out, size_t outcap, size_t *outlen);

/* Open.  -1 on any tampering, an unknown key id, a wrong user id or a short buffer. */
int secretbox_open(secretbox_keyring_t const *ring, uint64_t user_id,
		   uint8_t const *in, size_t inlen, uint8_t *pt, size_t ptcap, size_t *ptlen);

/* The key id a sealed blob names, or 0 if it is malformed. */
uint32_t secretbox_key_id_of(uint8_t const *in, size_t inlen);

/*
 * 32 bytes derived from the current key for one purpose named by label
 * (HMAC-SHA256 of the label under the key): servers sharing a key file
 * derive the same bytes, and they reveal nothing of the key.  0 ok, -1.
 */
int secretbox_derive(secretbox_keyring_t const *ring, char const *label, uint8_t out[32]);

#endif
