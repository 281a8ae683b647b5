/*
 * fuzz_password_hash.c - feeds a password hash string (as it would come
 * from the backend's database row) and a password (as it would come from
 * the network) to password_hash_supported and password_verify.  The input
 * is split at its first NUL byte: the hash is what comes before it, the
 * password everything after it (which may hold more NULs).  Without a NUL
 * the whole input is the hash and the password is empty.
 *
 * Checks: no crash, UB or leak; results are one of the four values; an
 * unsupported format is PASSWORD_UNSUPPORTED; a password with a NUL or
 * longer than PASSWORD_MAX_LEN never matches; argon2id and yescrypt costs
 * above the core's caps are refused before any KDF work; and a match is not also a
 * match for the password one byte shorter (no truncation), except for
 * bcrypt beyond its 72-byte limit.
 *
 * Budget: the fuzzer must not spend its time in legitimate KDF work, so
 * password_verify is only called when the hash's cost parameters are
 * small (bcrypt cost <= 6, sha512-crypt rounds <= 5000, yescrypt
 * memory*p*(t+1) <= 4 MiB, argon2id m*t <= 2 MiB and p <= 4) or when they
 * are above the core's own argon2id and yescrypt caps (then it must refuse
 * them at once).
 * Hashes in between are only given to password_hash_supported.
 */
#include "fuzz_util.h"
#include "password.h"

/* The core's argon2id caps (password.c). */
#define CORE_ARGON2_MAX_M	(1024u * 1024u)
#define CORE_ARGON2_MAX_T	64u
#define CORE_ARGON2_MAX_P	16u

typedef enum { RUN_SKIP, RUN_CHEAP, RUN_OVER_CAP } budget_t;

static int has_prefix(char const *s, char const *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

/* Decimal digits at s, saturating at UINT64_MAX/16; *n gets how many. */
static uint64_t digits_at(char const *s, size_t *n)
{
	uint64_t v = 0;
	size_t i = 0;

	while (s[i] >= '0' && s[i] <= '9') {
		if (v < UINT64_MAX / 16) v = v * 10 + (uint64_t) (s[i] - '0');
		i++;
	}
	*n = i;
	return v;
}

/*
 * argon2id: the core reads "m=", "t=", "p=" in that order after an
 * optional "v=..$"; the first occurrence of each is the one it reads.
 */
static budget_t argon2_budget(char const *hash)
{
	char const *body = hash + strlen("$argon2id$");
	char const *pm = strstr(body, "m="), *pt = strstr(body, "t="), *pp = strstr(body, "p=");
	uint64_t m, t, p;
	size_t nm, nt, np;

	if (!pm || !pt || !pp) return RUN_CHEAP;	/* the core cannot parse it */
	m = digits_at(pm + 2, &nm);
	t = digits_at(pt + 2, &nt);
	p = digits_at(pp + 2, &np);
	if (nm == 0 || nt == 0 || np == 0) return RUN_CHEAP;
	if (m > CORE_ARGON2_MAX_M || t > CORE_ARGON2_MAX_T || p > CORE_ARGON2_MAX_P) return RUN_OVER_CAP;
	if (m * t <= 2048 && p <= 4) return RUN_CHEAP;
	return RUN_SKIP;
}

/* bcrypt: "$2x$NN$", libxcrypt takes exactly two digits. */
static budget_t bcrypt_budget(char const *hash)
{
	if (hash[4] >= '0' && hash[4] <= '9' && hash[5] >= '0' && hash[5] <= '9') {
		if ((hash[4] - '0') * 10 + (hash[5] - '0') > 6) return RUN_SKIP;
	}
	return RUN_CHEAP;
}

/* sha512-crypt: "$6$rounds=N$", default 5000. */
static budget_t sha512_budget(char const *hash)
{
	size_t n;

	if (!has_prefix(hash, "$6$rounds=")) return RUN_CHEAP;
	if (digits_at(hash + strlen("$6$rounds="), &n) > 5000) return RUN_SKIP;
	return RUN_CHEAP;
}

/* yescrypt's variable-length base-64 integers (libxcrypt's decode64_uint32). */
static int atoi64(uint8_t c)
{
	static char const ITOA64[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	char const *p = c ? strchr(ITOA64, c) : NULL;

	return p ? (int) (p - ITOA64) : 64;
}

static char const *decode64_u32(uint32_t *dst, char const *src, uint32_t min)
{
	uint64_t v = min;
	uint32_t start = 0, end = 47, chars = 1, bits = 0;
	int c = atoi64((uint8_t) *src++);

	if (c > 63) return NULL;
	while ((uint32_t) c > end) {
		v += (uint64_t) (end + 1 - start) << bits;
		start = end + 1;
		end = start + (62 - end) / 2;
		chars++;
		bits += 6;
	}
	v += (uint64_t) ((uint32_t) c - start) << bits;
	while (--chars) {
		c = atoi64((uint8_t) *src++);
		if (c > 63) return NULL;
		bits -= 6;
		v += (uint64_t) c << bits;
	}
	if (v > UINT32_MAX) return NULL;
	*dst = (uint32_t) v;
	return src;
}

/*
 * yescrypt: "$y$" flavor N_log2 r [have [p] [t] [g]] "$".  The core caps
 * it like argon2id (128*N*r <= 1 GiB, p <= 16, t <= 64, no upgrades g,
 * no ROM) and refuses what it cannot decode.
 */
static budget_t yescrypt_budget(char const *hash)
{
	char const *s = hash + 3;
	uint32_t flavor, n_log2, r, have = 0, p = 1, t = 0, g = 0;
	uint64_t mem;

	if (!(s = decode64_u32(&flavor, s, 0))) return RUN_OVER_CAP;
	if (!(s = decode64_u32(&n_log2, s, 1))) return RUN_OVER_CAP;
	if (!(s = decode64_u32(&r, s, 1))) return RUN_OVER_CAP;
	if (*s != '$') {
		if (!(s = decode64_u32(&have, s, 1))) return RUN_OVER_CAP;
		if (have & ~7u) return RUN_OVER_CAP;	/* a ROM, or bits we do not know */
		if ((have & 1) && !(s = decode64_u32(&p, s, 2))) return RUN_OVER_CAP;
		if ((have & 2) && !(s = decode64_u32(&t, s, 1))) return RUN_OVER_CAP;
		if ((have & 4) && !(s = decode64_u32(&g, s, 1))) return RUN_OVER_CAP;
	}
	if (n_log2 > 30) return RUN_OVER_CAP;
	if (r > (CORE_ARGON2_MAX_M * 1024ull) >> (7 + n_log2) || p > CORE_ARGON2_MAX_P || t > CORE_ARGON2_MAX_T || g)
		return RUN_OVER_CAP;
	mem = ((uint64_t) 128 << n_log2) * r;
	if (mem * p * (t + 1) <= 4u * 1024 * 1024) return RUN_CHEAP;
	return RUN_SKIP;
}

static budget_t budget(char const *hash)
{
	if (has_prefix(hash, "$argon2id$")) return argon2_budget(hash);
	if (has_prefix(hash, "$2y$") || has_prefix(hash, "$2b$") || has_prefix(hash, "$2a$"))
		return bcrypt_budget(hash);
	if (has_prefix(hash, "$6$")) return sha512_budget(hash);
	if (has_prefix(hash, "$y$")) return yescrypt_budget(hash);
	return RUN_CHEAP;	/* unknown formats are refused without KDF work */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t const *nul = memchr(data, '\0', size);
	size_t hash_len = nul ? (size_t) (nul - data) : size;
	size_t pw_len = nul ? size - hash_len - 1 : 0;
	char *hash = fuzz_strndup(data, hash_len);
	char *pw = (char *) fuzz_memdup(nul ? nul + 1 : data, pw_len);
	bool supported = password_hash_supported(hash);
	password_result_t r;
	budget_t b;

	if (size > 4096) goto done;	/* beyond both limits; keeps runs fast */

	{	/* the memory a check takes and the profile: told for supported hashes only, never a crash */
		char profile[PASSWORD_HASH_MAX + 1];
		uint64_t bytes = 1;
		int m = password_memory_needed(hash, &bytes);
		int p = password_profile(hash, profile, sizeof(profile));

		if (!supported) FUZZ_CHECK(m == -1 && bytes == 0 && p == -1);
		if (m != 0) FUZZ_CHECK(bytes == 0);
		if (p == 0) FUZZ_CHECK(strncmp(profile, hash, strlen(profile)) == 0 && profile[strlen(profile) - 1] == '$');
	}

	b = budget(hash);
	if (b == RUN_SKIP) goto done;

	r = password_verify(hash, pw, pw_len);
	FUZZ_CHECK(r == PASSWORD_MATCH || r == PASSWORD_MISMATCH || r == PASSWORD_UNSUPPORTED || r == PASSWORD_ERROR);
	FUZZ_CHECK(r != PASSWORD_ERROR);	/* no allocation should fail at these costs */
	if (!supported) FUZZ_CHECK(r == PASSWORD_UNSUPPORTED);
	if (supported && (pw_len > PASSWORD_MAX_LEN || memchr(pw, '\0', pw_len))) {
		FUZZ_CHECK(r == PASSWORD_MISMATCH);	/* refused before the hash is looked at */
	} else if (b == RUN_OVER_CAP) {
		FUZZ_CHECK(r == PASSWORD_UNSUPPORTED);
	}
	if (r == PASSWORD_MATCH) {
		bool bcrypt = hash[1] == '2';

		FUZZ_CHECK(pw_len <= PASSWORD_MAX_LEN);
		/* Same answer twice, and no match for a shorter password (bcrypt reads 72 bytes only). */
		FUZZ_CHECK(password_verify(hash, pw, pw_len) == PASSWORD_MATCH);
		if (pw_len > 0 && !(bcrypt && pw_len > 72))
			FUZZ_CHECK(password_verify(hash, pw, pw_len - 1) == PASSWORD_MISMATCH);
	}
	/* A NULL password is the empty one. */
	if (pw_len == 0) FUZZ_CHECK(password_verify(hash, NULL, 0) == r);
done:
	free(hash);
	free(pw);
	return 0;
}
