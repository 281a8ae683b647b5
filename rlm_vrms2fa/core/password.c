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

typedef struct {
	uint32_t	m_kib, t, p;
	char const	*salt;		/* the salt's base-64 text, up to the next '$' */
	size_t		salt_chars;
	size_t		tag_chars;	/* the hash's base-64 text after it */
} argon2_setting_t;

/*
 * "$argon2id$[v=19$]m=M,t=T,p=P$salt$tag" with m at most max_m_kib and t
 * and p within the bounds above.  0 and *out filled, or -1.
 */
static int argon2_setting_read(char const *hash, uint32_t max_m_kib, argon2_setting_t *out)
{
	char const *p = hash + strlen(ARGON2ID_PREFIX);
	char const *end;
	uint32_t v;

	if (has_prefix(p, "v=")) {
		if (read_param(&p, "v", 0x13, &v) != 0 || *p != '$') return -1;
		p++;
	}
	if (read_param(&p, "m", max_m_kib, &out->m_kib) != 0 || *p++ != ',') return -1;
	if (read_param(&p, "t", ARGON2_MAX_T, &out->t) != 0 || *p++ != ',') return -1;
	if (read_param(&p, "p", ARGON2_MAX_P, &out->p) != 0 || *p != '$') return -1;
	if (out->m_kib == 0 || out->t == 0 || out->p == 0) return -1;
	out->salt = p + 1;
	end = strchr(out->salt, '$');
	out->salt_chars = end ? (size_t)(end - out->salt) : 0;
	out->tag_chars = end ? strlen(end + 1) : 0;
	return 0;
}

static int argon2_params_ok(char const *hash)
{
	argon2_setting_t setting;

	return argon2_setting_read(hash, ARGON2_MAX_M_KIB, &setting) == 0;
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
 * 0 and *bytes = that memory (yescrypt's RW mode, libxcrypt's, shares it
 * among the p lanes; UINT64_MAX when it does not fit 64 bits), or -1 when
 * malformed or out of those bounds.  The memory is bounded by the caller.
 */
static int yescrypt_memory(char const *hash, uint64_t *bytes)
{
	char const *s = hash + strlen(YESCRYPT_PREFIX);
	uint32_t flavor, n_log2, r, have = 0, p = 1, t = 0, g = 0;

	if (!(s = yescrypt_decode_u32(s, 0, &flavor))) return -1;
	if (!(s = yescrypt_decode_u32(s, 1, &n_log2))) return -1;
	if (!(s = yescrypt_decode_u32(s, 1, &r))) return -1;
	if (*s != '$') {
		if (!(s = yescrypt_decode_u32(s, 1, &have))) return -1;
		if (have & ~7u) return -1;
		if ((have & 1) && !(s = yescrypt_decode_u32(s, 2, &p))) return -1;
		if ((have & 2) && !(s = yescrypt_decode_u32(s, 1, &t))) return -1;
		if ((have & 4) && !(s = yescrypt_decode_u32(s, 1, &g))) return -1;
	}
	if (*s != '$') return -1;
	if (p > YESCRYPT_MAX_P || t > YESCRYPT_MAX_T || g != 0) return -1;
	*bytes = (n_log2 > 36 || r > (1u << 20)) ? UINT64_MAX : (uint64_t) r << (7 + n_log2);
	return 0;
}

static int yescrypt_params_ok(char const *hash)
{
	uint64_t bytes;

	return yescrypt_memory(hash, &bytes) == 0 && bytes <= YESCRYPT_MAX_BYTES;
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

int password_memory_needed(char const *hash, uint64_t *bytes)
{
	argon2_setting_t argon2;

	if (!bytes) return -1;
	*bytes = 0;
	switch (hash_format(hash)) {
	case FORMAT_ARGON2ID:
		if (argon2_setting_read(hash, UINT32_MAX, &argon2) != 0) return -1;
		*bytes = (uint64_t) argon2.m_kib * 1024u;
		return 0;
	case FORMAT_CRYPT:
		if (has_prefix(hash, YESCRYPT_PREFIX)) return yescrypt_memory(hash, bytes);
		return 0;
	default:
		return -1;
	}
}

/* Length of hash's setting without its salt: the prefix through the '$' that ends the costs. */
static size_t profile_len(char const *hash)
{
	char const *p;
	int dollars, i;

	if (has_prefix(hash, ARGON2ID_PREFIX)) {
		dollars = has_prefix(hash + strlen(ARGON2ID_PREFIX), "v=") ? 4 : 3;
	} else if (has_prefix(hash, "$6$rounds=") || has_prefix(hash, "$2") || has_prefix(hash, YESCRYPT_PREFIX)) {
		dollars = 3;
	} else if (has_prefix(hash, "$6$")) {
		dollars = 2;
	} else {
		return 0;
	}
	for (p = hash, i = 0; *p; p++) {
		if (*p == '$' && ++i == dollars) return (size_t)(p - hash) + 1;
	}
	return 0;
}

int password_profile(char const *hash, char *out, size_t outlen)
{
	size_t len;

	if (!out || outlen == 0) return -1;
	out[0] = '\0';
	if (hash_format(hash) == FORMAT_UNKNOWN) return -1;
	len = profile_len(hash);
	if (len == 0 || len >= outlen) return -1;
	memcpy(out, hash, len);
	out[len] = '\0';
	return 0;
}

/* A random password nobody knows, as 64 hex digits.  0 ok, -1 if the generator fails. */
static int random_password(char out[65])
{
	static char const HEX[] = "0123456789abcdef";
	uint8_t raw[32];
	size_t i;

	if (RAND_bytes(raw, (int) sizeof(raw)) != 1) {
		ERR_clear_error();
		return -1;
	}
	for (i = 0; i < sizeof(raw); i++) {
		out[2 * i] = HEX[raw[i] >> 4];
		out[2 * i + 1] = HEX[raw[i] & 15];
	}
	out[64] = '\0';
	OPENSSL_cleanse(raw, sizeof(raw));
	return 0;
}

/* argon2id with the sample's costs, salt and tag lengths. */
static int dummy_argon2id(char const *sample, char const *password, char *out, size_t outlen)
{
	argon2_setting_t s;
	uint8_t salt[64];
	size_t salt_len, tag_len;
	int rc;

	if (argon2_setting_read(sample, ARGON2_MAX_M_KIB, &s) != 0) return -1;
	salt_len = s.salt_chars * 3 / 4;	/* unpadded base 64 */
	tag_len = s.tag_chars * 3 / 4;
	if (salt_len < ARGON2_MIN_SALT_LENGTH || salt_len > sizeof(salt)) salt_len = NEW_SALT_LEN;
	if (tag_len < ARGON2_MIN_OUTLEN || tag_len > 128) tag_len = NEW_HASH_LEN;
	if (RAND_bytes(salt, (int) salt_len) != 1) {
		ERR_clear_error();
		return -1;
	}
	rc = argon2id_hash_encoded(s.t, s.m_kib, s.p, password, strlen(password), salt, salt_len, tag_len, out, outlen);
	OPENSSL_cleanse(salt, sizeof(salt));
	return rc == ARGON2_OK ? 0 : -1;
}

/*
 * A crypt setting with the sample's costs and a fresh salt: libxcrypt's
 * crypt_gensalt_rn makes the salt (bcrypt's and yescrypt's salts have
 * encoding rules), the sample's costs are spliced in front of it.
 */
static int dummy_crypt(char const *sample, char const *password, char *out, size_t outlen)
{
	char profile[PASSWORD_HASH_MAX + 1];
	char gensalt[CRYPT_GENSALT_OUTPUT_SIZE];
	char setting[PASSWORD_HASH_MAX + 1];
	sha512_crypt_setting_t sha;
	struct crypt_data *data;
	char const *salt, *result;
	unsigned long count = 0;
	int n, ret = -1;

	if (password_profile(sample, profile, sizeof(profile)) != 0) return -1;
	if (has_prefix(sample, "$2")) {
		count = strtoul(sample + 4, NULL, 10);
		if (!crypt_gensalt_rn("$2b$", count, NULL, 0, gensalt, (int) sizeof(gensalt))) return -1;
		salt = gensalt + strlen("$2b$NN$");
		n = snprintf(setting, sizeof(setting), "%s%s", profile, salt);
	} else if (has_prefix(sample, YESCRYPT_PREFIX)) {
		if (!crypt_gensalt_rn(YESCRYPT_PREFIX, 0, NULL, 0, gensalt, (int) sizeof(gensalt))) return -1;
		salt = strrchr(gensalt, '$') + 1;
		n = snprintf(setting, sizeof(setting), "%s%s", profile, salt);
	} else {
		/* sha512-crypt: a salt as long as the sample's (1..16), which keeps a canonical hash canonical */
		size_t salt_len = 16;

		if (sha512_crypt_parse(sample, &sha)) salt_len = sha.salt_len;
		OPENSSL_cleanse(&sha, sizeof(sha));
		if (!crypt_gensalt_rn("$6$", 0, NULL, 0, gensalt, (int) sizeof(gensalt))) return -1;
		salt = gensalt + 3;
		n = snprintf(setting, sizeof(setting), "%s%.*s$", profile, (int) salt_len, salt);
	}
	if (n < 0 || (size_t) n >= sizeof(setting)) return -1;

	data = calloc(1, sizeof(*data));
	if (!data) return -1;
	result = crypt_rn(password, setting, data, (int) sizeof(*data));
	if (result && result[0] != '*' && strlen(result) < outlen) {
		memcpy(out, result, strlen(result) + 1);
		ret = 0;
	}
	OPENSSL_cleanse(data, sizeof(*data));
	free(data);
	return ret;
}

int password_dummy_like(char const *sample, char *out, size_t outlen)
{
	char password[65];
	int rc;

	if (!out || outlen == 0) return -1;
	out[0] = '\0';
	switch (hash_format(sample)) {
	case FORMAT_ARGON2ID:
		if (!argon2_params_ok(sample)) return -1;
		break;
	case FORMAT_CRYPT:
		if (!crypt_cost_ok(sample)) return -1;
		if (has_prefix(sample, YESCRYPT_PREFIX) && !yescrypt_params_ok(sample)) return -1;
		break;
	default:
		return -1;
	}
	if (random_password(password) != 0) return -1;
	rc = hash_format(sample) == FORMAT_ARGON2ID ? dummy_argon2id(sample, password, out, outlen)
						     : dummy_crypt(sample, password, out, outlen);
	OPENSSL_cleanse(password, sizeof(password));
	if (rc != 0 || !password_hash_supported(out)) {
		OPENSSL_cleanse(out, outlen);
		out[0] = '\0';
		return -1;
	}
	return 0;
}
