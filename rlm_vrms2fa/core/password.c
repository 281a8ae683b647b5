/*
 * password.c - verify the password hashes real web backends write.
 *
 *   $6$ (sha512-crypt) in the canonical form backends write through
 *       sha512_crypt.c (the same algorithm on OpenSSL's faster SHA-512),
 *       then a constant-time comparison of the 86 hash characters;
 *   $2y$ $2b$ $2a$ (bcrypt), $y$ (yescrypt) and any other $6$ hash
 *       through libxcrypt's crypt_rn, then a constant-time comparison;
 *   $argon2id$ through libargon2's argon2id_verify (constant-time itself).
 *
 * The hash comes from the database, the password from the network: the
 * password is bounded (PASSWORD_MAX_LEN, refused beyond, never truncated),
 * one with a NUL byte never matches, argon2 and yescrypt cost parameters
 * are bounded so a hostile row cannot make us allocate gigabytes, the CPU
 * cost of bcrypt and sha512-crypt is bounded so one cannot burn minutes, and
 * every copy of the password is wiped.  New hashes are argon2id (OWASP's
 * minimum profile).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <argon2.h>
#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "password.h"
#include "sha512_crypt.h"

#define ARGON2ID_PREFIX		"$argon2id$"
#define ARGON2_MAX_M_KIB	(1024u * 1024u)	/* 1 GiB */
#define ARGON2_MAX_T		64u
#define ARGON2_MAX_P		16u

/* yescrypt gets the same bounds: 128 * N * r bytes <= 1 GiB, p <= 16, t <= 64. */
#define YESCRYPT_PREFIX		"$y$"
#define YESCRYPT_MAX_BYTES	((uint64_t) ARGON2_MAX_M_KIB * 1024u)
#define YESCRYPT_MAX_T		ARGON2_MAX_T
#define YESCRYPT_MAX_P		ARGON2_MAX_P

/* CPU cost bounds: far above what backends write (PHP bcrypt 10, passlib sha512 656000). */
#define BCRYPT_MAX_COST		15u
#define SHA512_MAX_ROUNDS	1000000u

#define NEW_T_COST		2
#define NEW_M_COST_KIB		19456
#define NEW_PARALLELISM		1
#define NEW_SALT_LEN		16
#define NEW_HASH_LEN		32

typedef enum {
	FORMAT_UNKNOWN = 0,
	FORMAT_CRYPT,
	FORMAT_ARGON2ID
} hash_format_t;

static int has_prefix(char const *s, char const *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Characters any of our formats may contain: printable ASCII, no space. */
static int hash_chars_ok(char const *hash, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (hash[i] <= ' ' || hash[i] > '~') return 0;
	}
	return 1;
}

static hash_format_t hash_format(char const *hash)
{
	size_t len;

	if (!hash) return FORMAT_UNKNOWN;
	len = strnlen(hash, PASSWORD_HASH_MAX);
	if (len == 0 || len >= PASSWORD_HASH_MAX || !hash_chars_ok(hash, len)) return FORMAT_UNKNOWN;

	if (has_prefix(hash, ARGON2ID_PREFIX)) return FORMAT_ARGON2ID;
	if (has_prefix(hash, "$2y$") || has_prefix(hash, "$2b$") || has_prefix(hash, "$2a$") ||
	    has_prefix(hash, "$6$") || has_prefix(hash, "$y$"))
		return FORMAT_CRYPT;
	return FORMAT_UNKNOWN;
}

bool password_hash_supported(char const *hash)
{
	return hash_format(hash) != FORMAT_UNKNOWN;
}

/* Read "NAME=digits" at *p, advance past it.  0 ok, -1 malformed or > max. */
static int read_param(char const **p, char const *name, uint32_t max, uint32_t *value)
{
	size_t nlen = strlen(name);
	char const *s = *p;
	uint64_t v = 0;
	size_t digits = 0;

	if (strncmp(s, name, nlen) != 0 || s[nlen] != '=') return -1;
	s += nlen + 1;
	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (uint64_t) (*s - '0');
		if (v > max || ++digits > 10) return -1;
		s++;
	}
	if (digits == 0) return -1;
	*value = (uint32_t) v;
	*p = s;
	return 0;
}

/* "$argon2id$[v=19$]m=M,t=T,p=P$..." with costs we are willing to pay. */
static int argon2_params_ok(char const *hash)
{
	char const *p = hash + strlen(ARGON2ID_PREFIX);
	uint32_t v, m, t, par;

	if (has_prefix(p, "v=")) {
		if (read_param(&p, "v", 0x13, &v) != 0 || *p != '$') return 0;
		p++;
	}
	if (read_param(&p, "m", ARGON2_MAX_M_KIB, &m) != 0 || *p++ != ',') return 0;
	if (read_param(&p, "t", ARGON2_MAX_T, &t) != 0 || *p++ != ',') return 0;
	if (read_param(&p, "p", ARGON2_MAX_P, &par) != 0 || *p != '$') return 0;
	return m > 0 && t > 0 && par > 0;
}

/*
 * yescrypt's parameters are variable-length base-64 integers (the
 * decoding of libxcrypt's decode64_uint32, but refusing values that do not
 * fit 32 bits instead of letting them wrap).  Returns the position after
 * the value, or NULL.
 */
static char const *yescrypt_decode_u32(char const *s, uint32_t min, uint32_t *value)
{
	static char const ITOA64[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	uint32_t start = 0, end = 47, chars = 1, bits = 0;
	uint64_t v = min;
	char const *p;
	uint32_t c;

	if (*s == '\0' || !(p = strchr(ITOA64, *s))) return NULL;
	c = (uint32_t) (p - ITOA64);
	s++;
	while (c > end) {
		v += (uint64_t) (end + 1 - start) << bits;
		start = end + 1;
		end = start + (62 - end) / 2;
		chars++;
		bits += 6;
	}
	v += (uint64_t) (c - start) << bits;
	while (--chars) {
		if (*s == '\0' || !(p = strchr(ITOA64, *s))) return NULL;
		bits -= 6;
		v += (uint64_t) (p - ITOA64) << bits;
		s++;
	}
	if (v > UINT32_MAX) return NULL;
	*value = (uint32_t) v;
	return s;
}

/*
 * "$y$" flavor N_log2 r [have [p] [t] [g]] "$..." with costs we are
 * willing to pay: memory 128 * 2^N_log2 * r, p and t bounded as for
 * argon2id; no hash upgrades (g) and no ROM, which libxcrypt never writes.
 */
static int yescrypt_params_ok(char const *hash)
{
	char const *s = hash + strlen(YESCRYPT_PREFIX);
	uint32_t flavor, n_log2, r, have = 0, p = 1, t = 0, g = 0;

	if (!(s = yescrypt_decode_u32(s, 0, &flavor))) return 0;
	if (!(s = yescrypt_decode_u32(s, 1, &n_log2))) return 0;
	if (!(s = yescrypt_decode_u32(s, 1, &r))) return 0;
	if (*s != '$') {
		if (!(s = yescrypt_decode_u32(s, 1, &have))) return 0;
		if (have & ~7u) return 0;
		if ((have & 1) && !(s = yescrypt_decode_u32(s, 2, &p))) return 0;
		if ((have & 2) && !(s = yescrypt_decode_u32(s, 1, &t))) return 0;
		if ((have & 4) && !(s = yescrypt_decode_u32(s, 1, &g))) return 0;
	}
	if (*s != '$') return 0;
	if (n_log2 > 30) return 0;	/* 2^31 blocks of 128 bytes are over the cap already */
	if ((uint64_t) r > YESCRYPT_MAX_BYTES >> (7 + n_log2)) return 0;
	return p <= YESCRYPT_MAX_P && t <= YESCRYPT_MAX_T && g == 0;
}

static password_result_t verify_argon2id(char const *hash, char const *password, size_t len)
{
	int rc;

	if (!argon2_params_ok(hash)) return PASSWORD_UNSUPPORTED;
	rc = argon2id_verify(hash, password, len);
	switch (rc) {
	case ARGON2_OK:
		return PASSWORD_MATCH;
	case ARGON2_VERIFY_MISMATCH:
		return PASSWORD_MISMATCH;
	case ARGON2_MEMORY_ALLOCATION_ERROR:
	case ARGON2_THREAD_FAIL:
		return PASSWORD_ERROR;
	default:
		return PASSWORD_UNSUPPORTED;	/* could not decode the hash */
	}
}

/* bcrypt "$2y$NN$...": NN at most BCRYPT_MAX_COST; sha512-crypt "$6$rounds=N$...": N at most SHA512_MAX_ROUNDS. */
static int crypt_cost_ok(char const *hash)
{
	if (hash[0] == '$' && hash[1] == '2') {
		char const *c = hash + 4;

		if (c[0] < '0' || c[0] > '9' || c[1] < '0' || c[1] > '9' || c[2] != '$') return 0;
		return (unsigned)((c[0] - '0') * 10 + (c[1] - '0')) <= BCRYPT_MAX_COST;
	}
	if (has_prefix(hash, "$6$rounds=")) {
		char const *p = hash + strlen("$6$rounds=");
		uint64_t rounds = 0;
		int digits = 0;

		while (*p >= '0' && *p <= '9') {
			rounds = rounds * 10 + (uint64_t)(*p++ - '0');
			if (++digits > 10) return 0;
		}
		return digits > 0 && *p == '$' && rounds <= SHA512_MAX_ROUNDS;
	}
	return 1;
}

/* A canonical "$6$" hash (sha512_crypt_parse said yes): recompute its 86 characters and compare. */
static password_result_t verify_sha512_crypt(sha512_crypt_setting_t const *setting, char const *password,
					     size_t len)
{
	char out[SHA512_CRYPT_HASH_LEN + 1];
	password_result_t ret;

	if (sha512_crypt_encode(password, len, setting, out) != 0) {
		ret = PASSWORD_ERROR;
	} else if (CRYPTO_memcmp(out, setting->hash, SHA512_CRYPT_HASH_LEN) == 0) {
		ret = PASSWORD_MATCH;
	} else {
		ret = PASSWORD_MISMATCH;
	}
	OPENSSL_cleanse(out, sizeof(out));
	return ret;
}

static password_result_t verify_crypt(char const *hash, char const *password, size_t len)
{
	char buf[PASSWORD_MAX_LEN + 1];
	sha512_crypt_setting_t setting;
	struct crypt_data *data;
	char const *result;
	password_result_t ret;
	size_t hlen, rlen;

	if (has_prefix(hash, YESCRYPT_PREFIX) && !yescrypt_params_ok(hash)) return PASSWORD_UNSUPPORTED;
	if (!crypt_cost_ok(hash)) return PASSWORD_UNSUPPORTED;
	if (sha512_crypt_parse(hash, &setting)) {
		ret = verify_sha512_crypt(&setting, password, len);
		OPENSSL_cleanse(&setting, sizeof(setting));
		return ret;
	}
	data = calloc(1, sizeof(*data));
	if (!data) return PASSWORD_ERROR;

	memcpy(buf, password, len);
	buf[len] = '\0';
	result = crypt_rn(buf, hash, data, (int) sizeof(*data));

	if (!result || result[0] == '*') {
		ret = PASSWORD_UNSUPPORTED;	/* libxcrypt could not use this setting */
	} else {
		/*
		 * The output's length depends on the setting alone, never on
		 * the password: a different length means the stored hash is
		 * malformed (a bare salt, say), not that the password is wrong.
		 */
		hlen = strlen(hash);
		rlen = strnlen(result, CRYPT_OUTPUT_SIZE);
		if (rlen != hlen) {
			ret = PASSWORD_UNSUPPORTED;
		} else if (CRYPTO_memcmp(result, hash, hlen) == 0) {
			ret = PASSWORD_MATCH;
		} else {
			ret = PASSWORD_MISMATCH;
		}
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	OPENSSL_cleanse(data, sizeof(*data));
	free(data);
	return ret;
}

password_result_t password_verify(char const *hash, char const *password, size_t password_len)
{
	hash_format_t format = hash_format(hash);

	if (format == FORMAT_UNKNOWN) return PASSWORD_UNSUPPORTED;
	if (!password && password_len > 0) return PASSWORD_MISMATCH;
	if (password_len > PASSWORD_MAX_LEN) return PASSWORD_MISMATCH;
	if (password_len > 0 && memchr(password, '\0', password_len)) return PASSWORD_MISMATCH;
	if (!password) password = "";

	if (format == FORMAT_ARGON2ID) return verify_argon2id(hash, password, password_len);
	return verify_crypt(hash, password, password_len);
}

int password_hash_new(char const *password, size_t password_len, char *out, size_t outlen)
{
	uint8_t salt[NEW_SALT_LEN];
	size_t need;
	int rc;

	if (!out || outlen == 0) return -1;
	out[0] = '\0';
	if (!password || password_len == 0 || password_len > PASSWORD_MAX_LEN) return -1;
	if (memchr(password, '\0', password_len)) return -1;

	need = argon2_encodedlen(NEW_T_COST, NEW_M_COST_KIB, NEW_PARALLELISM, NEW_SALT_LEN,
				 NEW_HASH_LEN, Argon2_id);
	if (need == 0 || need > outlen) return -1;
	if (RAND_bytes(salt, (int) sizeof(salt)) != 1) {
		ERR_clear_error();	/* handled here: no stale error for the thread's next OpenSSL user */
		return -1;
	}

	rc = argon2id_hash_encoded(NEW_T_COST, NEW_M_COST_KIB, NEW_PARALLELISM, password, password_len,
				   salt, sizeof(salt), NEW_HASH_LEN, out, outlen);
	OPENSSL_cleanse(salt, sizeof(salt));
	if (rc != ARGON2_OK) {
		OPENSSL_cleanse(out, outlen);
		out[0] = '\0';
		return -1;
	}
	return 0;
}
