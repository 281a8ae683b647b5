/*
 * sha512_crypt.c - the "$6$" password hashes (SHA-crypt with SHA-512),
 * computed on OpenSSL's SHA-512 for password.c.
 *
 * Why: a "$6$" verification is thousands of SHA-512 digests, and
 * libxcrypt's SHA-512 is portable C while OpenSSL's is assembler; with
 * libxcrypt, sha512-crypt was most of the module's CPU per login.
 *
 * What: Ulrich Drepper's published specification "Unix crypt using
 * SHA-256 and SHA-512" (the algorithm glibc and libxcrypt implement),
 * written here from that text, for the canonical hashes backends write
 * only: "$6$" ["rounds=N$"] salt "$" hash, N decimal without a leading
 * zero in 1000..1000000 (no "rounds=" means 5000), a salt of 1 to 16
 * characters and a hash of 86, both from "./0-9A-Za-z".  Anything else
 * (rounds out of range, long salts the specification truncates, odd
 * characters) is refused by sha512_crypt_parse and left to libxcrypt.
 *
 * Every buffer holding password-derived data lives in one work_t, wiped
 * with OPENSSL_cleanse before sha512_crypt_encode returns.
 *
 * SHA512_Init/Update/Final are deprecated in OpenSSL 3, but on this
 * algorithm they take about 20% less time than EVP: 181 us against 222 us
 * for a rounds=1000 hash of a 12-byte password (OpenSSL 3.0, x86-64), EVP
 * with one EVP_MD_CTX reused for every digest and the EVP_MD fetched once
 * per hash (221 us fetched once per process).  With short passwords each
 * round is a single-block digest, so EVP's per-call dispatch is a large
 * share of the work.  Hence OPENSSL_SUPPRESS_DEPRECATED, in this file only.
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/sha.h>

#include "sha512_crypt.h"

#define DIGEST_LEN	SHA512_DIGEST_LENGTH	/* 64 */
#define ROUNDS_PREFIX	"rounds="
#define S_REPEAT_BASE	16u			/* DS repeats the salt 16 + A[0] times */
#define ROUND_MSG_MAX	(2 * SHA512_CRYPT_PASSWORD_MAX + SHA512_CRYPT_SALT_MAX + DIGEST_LEN)
#define B64_GROUPS	21			/* 21 groups of 3 bytes, then the last byte */

static char const B64[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* Everything derived from the password, in one place to wipe. */
typedef struct {
	SHA512_CTX	ctx;
	uint8_t		a[DIGEST_LEN];				/* digest A, then C of each round */
	uint8_t		b[DIGEST_LEN];				/* digest B, then DP, then DS */
	uint8_t		p_seq[SHA512_CRYPT_PASSWORD_MAX];	/* sequence P */
	uint8_t		s_seq[SHA512_CRYPT_SALT_MAX];		/* sequence S */
	uint8_t		msg[ROUND_MSG_MAX];			/* the input of one round */
} work_t;

/* ---- parsing -------------------------------------------------------------- */

static int is_b64(char c)
{
	return (c >= '.' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* How many characters of the alphabet start s, stopping at max. */
static size_t b64_span(char const *s, size_t max)
{
	size_t n = 0;

	while (n < max && is_b64(s[n])) n++;
	return n;
}

/* "rounds=N$" at *p, canonical and in range: 1 and *p past it, else 0. */
static int parse_rounds(char const **p, uint32_t *rounds)
{
	char const *s = *p + strlen(ROUNDS_PREFIX);
	uint32_t n = 0;
	size_t digits = 0;

	if (*s == '0') return 0;	/* a leading zero, or zero */
	while (*s >= '0' && *s <= '9') {
		n = n * 10u + (uint32_t) (*s - '0');	/* n <= ROUNDS_MAX before: no overflow */
		if (n > SHA512_CRYPT_ROUNDS_MAX) return 0;
		digits++;
		s++;
	}
	if (digits == 0 || *s != '$' || n < SHA512_CRYPT_ROUNDS_MIN) return 0;
	*rounds = n;
	*p = s + 1;
	return 1;
}

int sha512_crypt_parse(char const *hash, sha512_crypt_setting_t *out)
{
	char const *p;
	size_t salt_len, hash_len;

	if (!hash || !out) return 0;
	if (strncmp(hash, SHA512_CRYPT_PREFIX, strlen(SHA512_CRYPT_PREFIX)) != 0) return 0;
	p = hash + strlen(SHA512_CRYPT_PREFIX);

	out->rounds = SHA512_CRYPT_ROUNDS_DEFAULT;
	if (strncmp(p, ROUNDS_PREFIX, strlen(ROUNDS_PREFIX)) == 0 && !parse_rounds(&p, &out->rounds)) return 0;

	salt_len = b64_span(p, SHA512_CRYPT_SALT_MAX + 1);
	if (salt_len == 0 || salt_len > SHA512_CRYPT_SALT_MAX || p[salt_len] != '$') return 0;
	memcpy(out->salt, p, salt_len);
	out->salt[salt_len] = '\0';
	out->salt_len = salt_len;
	p += salt_len + 1;

	hash_len = b64_span(p, SHA512_CRYPT_HASH_LEN + 1);
	if (hash_len != SHA512_CRYPT_HASH_LEN || p[hash_len] != '\0') return 0;
	memcpy(out->hash, p, hash_len);
	out->hash[hash_len] = '\0';
	return 1;
}

/* ---- SHA-512 (OpenSSL), 0 or -1 ------------------------------------------ */

static int sha_begin(SHA512_CTX *ctx)
{
	return SHA512_Init(ctx) == 1 ? 0 : -1;
}

static int sha_add(SHA512_CTX *ctx, void const *data, size_t len)
{
	return SHA512_Update(ctx, data, len) == 1 ? 0 : -1;
}

static int sha_end(SHA512_CTX *ctx, uint8_t md[DIGEST_LEN])
{
	return SHA512_Final(md, ctx) == 1 ? 0 : -1;
}

/* ---- the steps of the specification --------------------------------------- */

/* Digest B = SHA512(password salt password). */
static int digest_b(work_t *w, uint8_t const *pw, size_t pw_len, uint8_t const *salt, size_t salt_len)
{
	if (sha_begin(&w->ctx) != 0) return -1;
	if (sha_add(&w->ctx, pw, pw_len) != 0) return -1;
	if (sha_add(&w->ctx, salt, salt_len) != 0) return -1;
	if (sha_add(&w->ctx, pw, pw_len) != 0) return -1;
	return sha_end(&w->ctx, w->b);
}

/*
 * Digest A: password, salt, then as many bytes of B as the password has
 * (B repeated), then for each bit of the password's length from the
 * lowest up to the highest set one, B for a 1 and the password for a 0.
 */
static int digest_a(work_t *w, uint8_t const *pw, size_t pw_len, uint8_t const *salt, size_t salt_len)
{
	size_t n;

	if (sha_begin(&w->ctx) != 0) return -1;
	if (sha_add(&w->ctx, pw, pw_len) != 0) return -1;
	if (sha_add(&w->ctx, salt, salt_len) != 0) return -1;
	for (n = pw_len; n > DIGEST_LEN; n -= DIGEST_LEN) {
		if (sha_add(&w->ctx, w->b, DIGEST_LEN) != 0) return -1;
	}
	if (sha_add(&w->ctx, w->b, n) != 0) return -1;
	for (n = pw_len; n > 0; n >>= 1) {
		if ((n & 1) != 0) {
			if (sha_add(&w->ctx, w->b, DIGEST_LEN) != 0) return -1;
		} else {
			if (sha_add(&w->ctx, pw, pw_len) != 0) return -1;
		}
	}
	return sha_end(&w->ctx, w->a);
}

/* md = SHA512(data repeated times times): DP (the password, once per byte) and DS. */
static int digest_repeated(SHA512_CTX *ctx, uint8_t const *data, size_t len, size_t times, uint8_t md[DIGEST_LEN])
{
	size_t i;

	if (sha_begin(ctx) != 0) return -1;
	for (i = 0; i < times; i++) {
		if (sha_add(ctx, data, len) != 0) return -1;
	}
	return sha_end(ctx, md);
}

/* seq = the first len bytes of md repeated (sequences P and S). */
static void stretch(uint8_t const md[DIGEST_LEN], uint8_t *seq, size_t len)
{
	size_t off = 0;

	for (; len - off >= DIGEST_LEN; off += DIGEST_LEN) memcpy(seq + off, md, DIGEST_LEN);
	memcpy(seq + off, md, len - off);
}

/*
 * The input of round i into w->msg, its length returned: C (w->a) or P,
 * then S unless i is a multiple of 3, then P unless i is a multiple of 7,
 * then P or C.  Odd rounds start with P and end with C, even ones the
 * other way round.  At most ROUND_MSG_MAX bytes.
 */
static size_t round_message(work_t *w, uint32_t i, size_t pw_len, size_t salt_len)
{
	int odd = (i & 1u) != 0;
	size_t n = 0;

	if (odd) {
		memcpy(w->msg, w->p_seq, pw_len);
		n = pw_len;
	} else {
		memcpy(w->msg, w->a, DIGEST_LEN);
		n = DIGEST_LEN;
	}
	if (i % 3u != 0) {
		memcpy(w->msg + n, w->s_seq, salt_len);
		n += salt_len;
	}
	if (i % 7u != 0) {
		memcpy(w->msg + n, w->p_seq, pw_len);
		n += pw_len;
	}
	if (odd) {
		memcpy(w->msg + n, w->a, DIGEST_LEN);
		n += DIGEST_LEN;
	} else {
		memcpy(w->msg + n, w->p_seq, pw_len);
		n += pw_len;
	}
	return n;
}

/* The rounds: C = SHA512(round_message(i)), starting from C = A; C ends in w->a. */
static int run_rounds(work_t *w, size_t pw_len, size_t salt_len, uint32_t rounds)
{
	uint32_t i;
	size_t n;

	for (i = 0; i < rounds; i++) {
		n = round_message(w, i, pw_len, salt_len);
		if (sha_begin(&w->ctx) != 0) return -1;
		if (sha_add(&w->ctx, w->msg, n) != 0) return -1;
		if (sha_end(&w->ctx, w->a) != 0) return -1;
	}
	return 0;
}

/* All the digests of the specification; the final C in w->a. */
static int compute(work_t *w, uint8_t const *pw, size_t pw_len, sha512_crypt_setting_t const *s)
{
	uint8_t const *salt = (uint8_t const *) s->salt;
	size_t salt_len = s->salt_len;

	if (digest_b(w, pw, pw_len, salt, salt_len) != 0) return -1;
	if (digest_a(w, pw, pw_len, salt, salt_len) != 0) return -1;
	if (digest_repeated(&w->ctx, pw, pw_len, pw_len, w->b) != 0) return -1;
	stretch(w->b, w->p_seq, pw_len);
	if (digest_repeated(&w->ctx, salt, salt_len, S_REPEAT_BASE + w->a[0], w->b) != 0) return -1;
	stretch(w->b, w->s_seq, salt_len);
	return run_rounds(w, pw_len, salt_len, s->rounds);
}

/* Four characters, least significant 6 bits first, of the 24 bits b2 b1 b0. */
static void b64_group(uint8_t b2, uint8_t b1, uint8_t b0, char *out)
{
	uint32_t v = ((uint32_t) b2 << 16) | ((uint32_t) b1 << 8) | b0;
	size_t k;

	for (k = 0; k < 4; k++) {
		out[k] = B64[v & 0x3fu];
		v >>= 6;
	}
}

/*
 * The specification's order for SHA-512: group g takes bytes x, x + 21 and
 * x + 42 (mod 63) with x = 22 g mod 63, i.e. (0 21 42) (22 43 1) (44 2 23)
 * ...; then byte 63 alone gives two characters.  86 characters and a NUL.
 */
static void encode_digest(uint8_t const md[DIGEST_LEN], char out[SHA512_CRYPT_HASH_LEN + 1])
{
	size_t g, x;

	for (g = 0; g < B64_GROUPS; g++) {
		x = (g * 22) % 63;
		b64_group(md[x], md[(x + 21) % 63], md[(x + 42) % 63], out + 4 * g);
	}
	out[4 * B64_GROUPS] = B64[md[63] & 0x3fu];
	out[4 * B64_GROUPS + 1] = B64[md[63] >> 6];
	out[SHA512_CRYPT_HASH_LEN] = '\0';
}

static int setting_ok(sha512_crypt_setting_t const *s)
{
	return s->salt_len >= 1 && s->salt_len <= SHA512_CRYPT_SALT_MAX &&
	       s->rounds >= SHA512_CRYPT_ROUNDS_MIN && s->rounds <= SHA512_CRYPT_ROUNDS_MAX;
}

int sha512_crypt_encode(char const *password, size_t password_len, sha512_crypt_setting_t const *s,
			char out[SHA512_CRYPT_HASH_LEN + 1])
{
	work_t w;
	int rc;

	if (!out) return -1;
	out[0] = '\0';
	if (!s || !setting_ok(s)) return -1;
	if (!password && password_len > 0) return -1;
	if (password_len > SHA512_CRYPT_PASSWORD_MAX) return -1;
	if (!password) password = "";

	rc = compute(&w, (uint8_t const *) password, password_len, s);
	if (rc == 0) encode_digest(w.a, out);
	else ERR_clear_error();		/* handled here: no stale error for the thread's next OpenSSL user */
	OPENSSL_cleanse(&w, sizeof(w));
	return rc;
}
