/*
 * secretbox.c - TOTP secrets at rest: AES-256-GCM through OpenSSL EVP.
 *
 *   sealed = 0x01 | key id (4, BE) | IV (12, fresh from RAND_bytes) | ciphertext | tag (16)
 *   AAD    = "vrms2fa-secret-v1" | user id (8, BE) | key id (4, BE)
 *
 * Binding the user id and key id into the tag means a blob copied to
 * another user's row, or relabelled with another key id, does not open.
 * Keys come from a file outside the database ("KEYID HEX64" per line)
 * that must not be readable by group or others.  Key bytes are wiped
 * (OPENSSL_cleanse) from every buffer they pass through, and no error
 * message ever contains them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "secretbox.h"

#define SECRETBOX_VERSION	0x01
#define SECRETBOX_AAD_LABEL	"vrms2fa-secret-v1"
#define SECRETBOX_AAD_LEN	(sizeof(SECRETBOX_AAD_LABEL) - 1 + 8 + 4)
#define KEYFILE_MAX		65536	/* bytes; a key file is a few lines */

/* ---- the key file ------------------------------------------------------ */

static void set_err(char *err, size_t errlen, char const *path, char const *what, size_t line)
{
	int n;

	if (!err || errlen == 0) return;
	if (line > 0) {
		n = snprintf(err, errlen, "key file %s: line %zu: %s", path, line, what);
	} else {
		n = snprintf(err, errlen, "key file %s: %s", path, what);
	}
	if (n < 0) err[0] = '\0';	/* truncation is acceptable for a message */
}

/* Read the whole file into buf (cap bytes); checks type and permissions. */
static int read_key_file(char const *path, char *buf, size_t cap, size_t *len,
			 char *err, size_t errlen)
{
	struct stat st;
	size_t got = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		set_err(err, errlen, path, strerror(errno), 0);
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		set_err(err, errlen, path, strerror(errno), 0);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		set_err(err, errlen, path, "not a regular file", 0);
		close(fd);
		return -1;
	}
	if ((st.st_mode & 077) != 0) {
		set_err(err, errlen, path, "readable or writable by group or others (chmod 0600 or 0400)", 0);
		close(fd);
		return -1;
	}
	for (;;) {
		ssize_t n;

		if (got == cap) {
			set_err(err, errlen, path, "file too large", 0);
			close(fd);
			return -1;
		}
		n = read(fd, buf + got, cap - got);
		if (n < 0) {
			if (errno == EINTR) continue;
			set_err(err, errlen, path, strerror(errno), 0);
			close(fd);
			return -1;
		}
		if (n == 0) break;
		got += (size_t) n;
	}
	close(fd);
	*len = got;
	return 0;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/*
 * One line (without its '\n').  Returns 1 for a key, 0 for a blank or
 * comment line, -1 if malformed.
 */
static int parse_key_line(char const *s, size_t len, secretbox_key_t *key)
{
	size_t i = 0, digits = 0, k;
	uint64_t id = 0;

	while (i < len && is_blank(s[i])) i++;
	if (i == len || s[i] == '#') return 0;

	while (i < len && s[i] >= '0' && s[i] <= '9') {
		if (++digits > 10) return -1;
		id = id * 10 + (uint64_t) (s[i] - '0');
		i++;
	}
	if (digits == 0 || id == 0 || id > UINT32_MAX) return -1;
	if (i == len || !is_blank(s[i])) return -1;
	while (i < len && is_blank(s[i])) i++;

	if (len - i < 2 * SECRETBOX_KEY_LEN) return -1;
	for (k = 0; k < SECRETBOX_KEY_LEN; k++) {
		int hi = hex_nibble(s[i + 2 * k]);
		int lo = hex_nibble(s[i + 2 * k + 1]);

		if (hi < 0 || lo < 0) return -1;
		key->key[k] = (uint8_t) ((hi << 4) | lo);
	}
	i += 2 * SECRETBOX_KEY_LEN;
	while (i < len && is_blank(s[i])) i++;
	if (i != len) return -1;

	key->id = (uint32_t) id;
	return 1;
}

static int parse_key_file(char const *path, char const *buf, size_t len, secretbox_keyring_t *ring,
			  char *err, size_t errlen)
{
	size_t pos = 0, line = 0, j;

	if (memchr(buf, '\0', len)) {
		set_err(err, errlen, path, "contains a NUL byte", 0);
		return -1;
	}
	while (pos < len) {
		char const *nl = memchr(buf + pos, '\n', len - pos);
		size_t end = nl ? (size_t) (nl - buf) : len;
		secretbox_key_t key;
		int rc;

		line++;
		rc = parse_key_line(buf + pos, end - pos, &key);
		pos = nl ? end + 1 : len;
		if (rc == 0) continue;
		if (rc < 0) {
			OPENSSL_cleanse(&key, sizeof(key));
			set_err(err, errlen, path, "malformed (expected: KEYID HEX64)", line);
			return -1;
		}
		for (j = 0; j < ring->count; j++) {
			if (ring->keys[j].id == key.id) {
				OPENSSL_cleanse(&key, sizeof(key));
				set_err(err, errlen, path, "duplicate key id", line);
				return -1;
			}
		}
		if (ring->count == SECRETBOX_MAX_KEYS) {
			OPENSSL_cleanse(&key, sizeof(key));
			set_err(err, errlen, path, "too many keys", line);
			return -1;
		}
		ring->keys[ring->count++] = key;
		OPENSSL_cleanse(&key, sizeof(key));
	}
	return 0;
}

static secretbox_key_t const *find_key(secretbox_keyring_t const *ring, uint32_t id)
{
	size_t i;

	if (id == 0) return NULL;
	for (i = 0; i < ring->count && i < SECRETBOX_MAX_KEYS; i++) {
		if (ring->keys[i].id == id) return &ring->keys[i];
	}
	return NULL;
}

int secretbox_keyring_load(char const *path, uint32_t current_id, secretbox_keyring_t *ring,
			   char *err, size_t errlen)
{
	char *buf;
	size_t len = 0;
	int rc;

	if (err && errlen > 0) err[0] = '\0';
	if (!ring) return -1;
	memset(ring, 0, sizeof(*ring));
	if (!path || !*path) {
		set_err(err, errlen, "(none)", "no key file configured", 0);
		return -1;
	}

	buf = OPENSSL_malloc(KEYFILE_MAX);
	if (!buf) {
		ERR_clear_error();
		set_err(err, errlen, path, "out of memory", 0);
		return -1;
	}
	rc = read_key_file(path, buf, KEYFILE_MAX, &len, err, errlen);
	if (rc == 0) rc = parse_key_file(path, buf, len, ring, err, errlen);
	OPENSSL_clear_free(buf, KEYFILE_MAX);

	if (rc == 0 && ring->count == 0) {
		set_err(err, errlen, path, "no keys", 0);
		rc = -1;
	}
	if (rc == 0 && !find_key(ring, current_id)) {
		char what[96];
		int n = snprintf(what, sizeof(what), "current key id %u is not in the file", current_id);

		set_err(err, errlen, path, (n > 0 && (size_t) n < sizeof(what)) ? what : "current key id missing", 0);
		rc = -1;
	}
	if (rc != 0) {
		secretbox_keyring_wipe(ring);
		return -1;
	}
	ring->current_id = current_id;
	return 0;
}

void secretbox_keyring_wipe(secretbox_keyring_t *ring)
{
	if (ring) OPENSSL_cleanse(ring, sizeof(*ring));
}

/* ---- sealing ------------------------------------------------------------ */

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) (v >> 24);
	p[1] = (uint8_t) (v >> 16);
	p[2] = (uint8_t) (v >> 8);
	p[3] = (uint8_t) v;
}

static uint32_t get_be32(uint8_t const *p)
{
	return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) | ((uint32_t) p[2] << 8) | p[3];
}

static void build_aad(uint8_t aad[SECRETBOX_AAD_LEN], uint64_t user_id, uint32_t key_id)
{
	size_t label = sizeof(SECRETBOX_AAD_LABEL) - 1;
	int i;

	memcpy(aad, SECRETBOX_AAD_LABEL, label);
	for (i = 0; i < 8; i++) aad[label + (size_t) i] = (uint8_t) (user_id >> (56 - 8 * i));
	put_be32(aad + label + 8, key_id);
}

int secretbox_seal(secretbox_keyring_t const *ring, uint64_t user_id,
		   uint8_t const *pt, size_t ptlen, uint8_t *out, size_t outcap, size_t *outlen)
{
	secretbox_key_t const *key;
	uint8_t aad[SECRETBOX_AAD_LEN];
	uint8_t *iv, *ct;
	EVP_CIPHER_CTX *ctx = NULL;
	int n = 0, fin = 0, ok = 0;

	if (outlen) *outlen = 0;
	if (!ring || !pt || !out || !outlen) return -1;
	if (ptlen == 0 || ptlen > SECRETBOX_MAX_PLAINTEXT) return -1;
	if (outcap < ptlen + SECRETBOX_OVERHEAD) return -1;
	key = find_key(ring, ring->current_id);
	if (!key) return -1;

	out[0] = SECRETBOX_VERSION;
	put_be32(out + 1, key->id);
	iv = out + 5;
	ct = out + SECRETBOX_HEADER_LEN;
	if (RAND_bytes(iv, SECRETBOX_IV_LEN) != 1) goto done;
	build_aad(aad, user_id, key->id);

	ctx = EVP_CIPHER_CTX_new();
	if (!ctx) goto done;
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1) goto done;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SECRETBOX_IV_LEN, NULL) != 1) goto done;
	if (EVP_EncryptInit_ex(ctx, NULL, NULL, key->key, iv) != 1) goto done;
	if (EVP_EncryptUpdate(ctx, NULL, &n, aad, (int) sizeof(aad)) != 1) goto done;
	if (EVP_EncryptUpdate(ctx, ct, &n, pt, (int) ptlen) != 1 || (size_t) n != ptlen) goto done;
	if (EVP_EncryptFinal_ex(ctx, ct + n, &fin) != 1 || fin != 0) goto done;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SECRETBOX_TAG_LEN, ct + ptlen) != 1) goto done;
	ok = 1;

done:
	EVP_CIPHER_CTX_free(ctx);	/* also wipes the expanded key */
	if (!ok) {
		ERR_clear_error();	/* handled here: no stale error for the thread's next OpenSSL user */
		OPENSSL_cleanse(out, outcap < ptlen + SECRETBOX_OVERHEAD ? outcap : ptlen + SECRETBOX_OVERHEAD);
		return -1;
	}
	*outlen = ptlen + SECRETBOX_OVERHEAD;
	return 0;
}

uint32_t secretbox_key_id_of(uint8_t const *in, size_t inlen)
{
	if (!in || inlen < SECRETBOX_OVERHEAD + 1) return 0;
	if (in[0] != SECRETBOX_VERSION) return 0;
	return get_be32(in + 1);
}

int secretbox_open(secretbox_keyring_t const *ring, uint64_t user_id,
		   uint8_t const *in, size_t inlen, uint8_t *pt, size_t ptcap, size_t *ptlen)
{
	secretbox_key_t const *key;
	uint8_t aad[SECRETBOX_AAD_LEN];
	uint8_t tag[SECRETBOX_TAG_LEN];
	uint8_t const *iv, *ct;
	size_t ctlen;
	uint32_t key_id;
	EVP_CIPHER_CTX *ctx = NULL;
	int n = 0, fin = 0, ok = 0;

	if (ptlen) *ptlen = 0;
	if (!ring || !in || !pt || !ptlen) return -1;
	if (inlen <= SECRETBOX_OVERHEAD || inlen > SECRETBOX_OVERHEAD + SECRETBOX_MAX_PLAINTEXT) return -1;
	ctlen = inlen - SECRETBOX_OVERHEAD;
	if (ptcap < ctlen) return -1;

	key_id = secretbox_key_id_of(in, inlen);
	key = find_key(ring, key_id);
	if (!key) return -1;
	iv = in + 5;
	ct = in + SECRETBOX_HEADER_LEN;
	memcpy(tag, ct + ctlen, SECRETBOX_TAG_LEN);	/* EVP wants a writable pointer */
	build_aad(aad, user_id, key_id);

	ctx = EVP_CIPHER_CTX_new();
	if (!ctx) goto done;
	if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1) goto done;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SECRETBOX_IV_LEN, NULL) != 1) goto done;
	if (EVP_DecryptInit_ex(ctx, NULL, NULL, key->key, iv) != 1) goto done;
	if (EVP_DecryptUpdate(ctx, NULL, &n, aad, (int) sizeof(aad)) != 1) goto done;
	if (EVP_DecryptUpdate(ctx, pt, &n, ct, (int) ctlen) != 1 || (size_t) n != ctlen) goto done;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SECRETBOX_TAG_LEN, tag) != 1) goto done;
	if (EVP_DecryptFinal_ex(ctx, pt + n, &fin) != 1 || fin != 0) goto done;	/* tampered */
	ok = 1;

done:
	EVP_CIPHER_CTX_free(ctx);
	if (!ok) {
		ERR_clear_error();	/* handled here: no stale error for the thread's next OpenSSL user */
		OPENSSL_cleanse(pt, ctlen);	/* never hand out unauthenticated plaintext */
		return -1;
	}
	*ptlen = ctlen;
	return 0;
}

int secretbox_derive(secretbox_keyring_t const *ring, char const *label, uint8_t out[32])
{
	unsigned int len = 0;
	size_t i;

	if (!ring || !label) return -1;
	for (i = 0; i < ring->count; i++) {
		if (ring->keys[i].id != ring->current_id) continue;
		if (!HMAC(EVP_sha256(), ring->keys[i].key, SECRETBOX_KEY_LEN, (uint8_t const *)label, strlen(label),
			  out, &len) || len != 32) {
			ERR_clear_error();
			OPENSSL_cleanse(out, 32);
			return -1;
		}
		return 0;
	}
	return -1;
}
