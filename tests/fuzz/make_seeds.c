/*
 * make_seeds.c - writes the hand-made seed inputs (seed-*) of the fuzz
 * corpus: real States, real password hashes of each format at small
 * costs, sealed secrets under fuzz_secretbox's in-memory keyring, TOTP
 * codes that fuzz_totp_code's clock accepts, key files, and the plain
 * text seeds.  Not a fuzz target; run it by hand when a target's input
 * layout changes (see README.md):
 *
 *   clang -D_GNU_SOURCE -I rlm_vrms2fa/core tests/fuzz/make_seeds.c rlm_vrms2fa/core/[a-z]*.c \
 *       -loath -lcrypto -lcrypt -largon2 -o /tmp/make_seeds && /tmp/make_seeds tests/fuzz/corpus
 */
#include <argon2.h>
#include <crypt.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "challenge_token.h"
#include "secretbox.h"
#include "totp.h"

static char const *top;

static void put(char const *target, char const *name, void const *data, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", top, target);
	if (mkdir(path, 0755) != 0 && errno != EEXIST) { perror(path); exit(1); }
	snprintf(path, sizeof(path), "%s/%s/seed-%s", top, target, name);
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) { perror(path); exit(1); }
}

static void puts_(char const *target, char const *name, char const *s)
{
	put(target, name, s, strlen(s));
}

/* "hash NUL password" for fuzz_password_hash. */
static void put_pw(char const *name, char const *hash, char const *pw)
{
	char buf[1024];
	size_t hl = strlen(hash), pl = strlen(pw);

	memcpy(buf, hash, hl);
	buf[hl] = '\0';
	memcpy(buf + hl + 1, pw, pl);
	put("fuzz_password_hash", name, buf, hl + 1 + pl);
}

static void crypt_seed(char const *name, char const *prefix, unsigned long cost)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *d = calloc(1, sizeof(*d));
	char const *h;
	char n[64];

	if (!d || !crypt_gensalt_rn(prefix, cost, NULL, 0, setting, (int) sizeof(setting))) exit(1);
	h = crypt_rn("correct horse", setting, d, (int) sizeof(*d));
	if (!h || h[0] == '*') exit(1);
	put_pw(name, h, "correct horse");
	snprintf(n, sizeof(n), "%s-wrong", name);
	put_pw(n, h, "wrong horse");
	snprintf(n, sizeof(n), "%s-nopw", name);
	puts_("fuzz_password_hash", n, h);
	free(d);
}

static void password_seeds(void)
{
	static uint8_t const salt[16] = "fuzz-seed-salt!";
	char enc[256];

	crypt_seed("bcrypt-2b", "$2b$", 4);
	crypt_seed("bcrypt-2y", "$2y$", 4);
	crypt_seed("bcrypt-2a", "$2a$", 4);
	crypt_seed("sha512", "$6$", 1000);
	crypt_seed("yescrypt", "$y$", 1);
	if (argon2id_hash_encoded(1, 64, 1, "correct horse", 13, salt, sizeof(salt), 32, enc, sizeof(enc)) != ARGON2_OK)
		exit(1);
	put_pw("argon2id", enc, "correct horse");
	put_pw("argon2id-wrong", enc, "wrong horse");
	/* over the core's caps, and malformed parameters */
	put_pw("argon2id-m-over-cap", "$argon2id$v=19$m=2097152,t=1,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", "x");
	put_pw("argon2id-t-over-cap", "$argon2id$v=19$m=64,t=65,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", "x");
	put_pw("argon2id-no-v", "$argon2id$m=64,t=1,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", "x");
	put_pw("yescrypt-default-cost", "$y$j9T$LdJMENpBABJJ3hIHjB1Bi.$HboGM6qPrsK.StKYGt6KErmUYtioHreJd98oIugoNB6", "pleaseletmein");
	put_pw("yescrypt-params", "$y$jD5.7$LdJMENpBABJJ3hIHjB1Bi.$HboGM6qPrsK.StKYGt6KErmUYtioHreJd98oIugoNB6", "pleaseletmein");
	put_pw("bcrypt-cost10", "$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a", "rasmuslerdorf");
	put_pw("sha512-rounds-default", "$6$vrms2fasalt$1EJYvVGY9aHzqLqToIiCOAeM0HK5j5pBWR2AXkza4bHtQT7WHeBk271hPcIRFpVZF834BPXqpKpGnKOfEfT8u.", "correct horse");
	put_pw("md5", "$1$abc$abcdefghijklmnopqrstuv", "x");
	put_pw("des", "abJnggxhB/yWI", "x");
	puts_("fuzz_password_hash", "empty", "");
}

/* "hash NUL password" (len bytes) for fuzz_sha512_crypt. */
static void put_sha(char const *name, char const *hash, char const *pw, size_t len)
{
	char buf[1024];
	size_t hl = strlen(hash);

	if (hl + 1 + len > sizeof(buf)) exit(1);
	memcpy(buf, hash, hl);
	buf[hl] = '\0';
	memcpy(buf + hl + 1, pw, len);
	put("fuzz_sha512_crypt", name, buf, hl + 1 + len);
}

/* As put_sha, with the hash libxcrypt computes for setting and pw. */
static void put_sha_crypt(char const *name, char const *setting, char const *pw, size_t len)
{
	struct crypt_data *d = calloc(1, sizeof(*d));
	char p[600];
	char const *h;

	if (!d || len >= sizeof(p)) exit(1);
	memcpy(p, pw, len);
	p[len] = '\0';
	h = crypt_rn(p, setting, d, (int) sizeof(*d));
	if (!h || h[0] == '*') exit(1);
	put_sha(name, h, pw, len);
	free(d);
}

static void sha512_crypt_seeds(void)
{
	char high[129], a[600];
	size_t i;

	for (i = 0; i < sizeof(high); i++) high[i] = (char) (0x80 + i % 128);
	memset(a, 'a', sizeof(a));
	/* the two canonical SHA-512 vectors of Drepper's specification */
	put_sha("spec-hello-world", "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1",
		"Hello world!", 12);
	put_sha("spec-rounds-10000", "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.",
		"Hello world!", 12);
	put_sha_crypt("rounds-1000", "$6$rounds=1000$abcdefghijklmnop$", "correct horse", 13);
	put_sha_crypt("implicit-5000-high-bytes", "$6$Zz./09$", high, sizeof(high));
	put_sha_crypt("rounds-1001-pw-64", "$6$rounds=1001$s$", a, 64);
	put_sha_crypt("rounds-1000-pw-128", "$6$rounds=1000$salt$", a, 128);
	/* settings alone (the target pads them with 86 hash characters), and refusals */
	put_sha("setting-only", "$6$rounds=1000$abc", "pw", 2);
	put_sha("setting-only-empty-pw", "$6$rounds=4999$0123456789abcdef", "", 0);
	put_sha("pw-511", "$6$rounds=1000$x", a, 511);
	put_sha("pw-512", "$6$rounds=1000$x", a, 512);
	put_sha("refused-leading-zero", "$6$rounds=01000$abc", "pw", 2);
	put_sha("refused-long-salt", "$6$saltstringsaltstring", "pw", 2);
	put_sha("refused-salt-chars", "$6$a-b_c", "pw", 2);
}

static void token_seeds(void)
{
	uint8_t raw[CHALLENGE_TOKEN_RAW_LEN];
	char text[CHALLENGE_TOKEN_TEXT_LEN + 1];
	int i;

	for (i = 0; i < 3; i++) {
		char n[16];

		if (challenge_token_new(raw, text) != 0) exit(1);
		snprintf(n, sizeof(n), "state-%d", i);
		puts_("fuzz_challenge_token", n, text);
	}
	puts_("fuzz_challenge_token", "zeros", "V100000000000000000000000000000000");
	puts_("fuzz_challenge_token", "upper", "V1ABCDEF0123456789ABCDEF0123456789");
	puts_("fuzz_challenge_token", "short", "V10123456789abcdef");
	put("fuzz_challenge_token", "nul", "V1\0" "123456789abcdef0123456789abcdef", 34);
}

/* The keyring of fuzz_secretbox.c. */
static void secretbox_seeds(void)
{
	static char const *const PT[] = { "12345678901234567890", "fuzz-seed secret for key 1", "x" };
	secretbox_keyring_t ring;
	uint8_t box[256];
	size_t i, len;

	memset(&ring, 0, sizeof(ring));
	ring.keys[0].id = 1;
	ring.keys[1].id = 7;
	for (i = 0; i < SECRETBOX_KEY_LEN; i++) {
		ring.keys[0].key[i] = (uint8_t) i;
		ring.keys[1].key[i] = (uint8_t) (0xf0 ^ (i * 7));
	}
	ring.count = 2;
	for (i = 0; i < 3; i++) {
		char n[16];

		ring.current_id = i == 1 ? 1 : 7;
		if (secretbox_seal(&ring, 4242, (uint8_t const *) PT[i], strlen(PT[i]), box, sizeof(box), &len) != 0)
			exit(1);
		snprintf(n, sizeof(n), "sealed-%zu", i);
		put("fuzz_secretbox", n, box, len);
		if (i == 0) {
			box[0] = 0x02;
			put("fuzz_secretbox", "version-2", box, len);
			put("fuzz_secretbox", "truncated", box, SECRETBOX_OVERHEAD);
		}
	}
}

#define NOW ((time_t) 1700000000)

/* Codes fuzz_totp_code's clock accepts: byte 0 params, byte 1 window. */
static void totp_seeds(void)
{
	static uint8_t const SECRET[] = "12345678901234567890123456789012345678901234567890123456789012345";
	static unsigned const PERIODS[] = { 30, 60, 1, 300 };
	static uint8_t const SEL[][2] = { { 0x00, 1 }, { 0x01, 0 }, { 0x06, 10 }, { 0x19, 2 }, { 0x30, 3 } };
	size_t i;

	if (totp_library_init() != 0) exit(1);
	for (i = 0; i < sizeof(SEL) / sizeof(SEL[0]); i++) {
		totp_params_t p;
		char code[16], buf[32], n[32];
		size_t secret_len;

		p.algo = (totp_algo_t) (SEL[i][0] % 3);
		p.digits = 6 + (SEL[i][0] >> 2) % 3;
		p.period = PERIODS[(SEL[i][0] >> 4) & 3];
		secret_len = p.algo == TOTP_SHA1 ? 20 : p.algo == TOTP_SHA256 ? 32 : 64;
		if (totp_generate(&p, SECRET, secret_len, NOW - (time_t) (SEL[i][1] ? p.period : 0), code,
				  sizeof(code)) != 0)
			exit(1);
		buf[0] = (char) SEL[i][0];
		buf[1] = (char) SEL[i][1];
		memcpy(buf + 2, code, strlen(code));
		snprintf(n, sizeof(n), "code-%zu", i);
		put("fuzz_totp_code", n, buf, 2 + strlen(code));
	}
	put("fuzz_totp_code", "letters", "\x00\x01" "12a456", 8);
	put("fuzz_totp_code", "window-11", "\x00\x0b" "123456", 8);
	totp_library_done();
}

static void otpauth_seed(char const *name, uint8_t params, uint8_t size, char const *issuer, char const *account,
			 char const *secret, size_t secret_len)
{
	char buf[1024];
	size_t il = strlen(issuer), al = strlen(account);

	buf[0] = (char) params;
	buf[1] = (char) size;
	memcpy(buf + 2, issuer, il + 1);
	memcpy(buf + 2 + il + 1, account, al + 1);
	memcpy(buf + 2 + il + 1 + al + 1, secret, secret_len);
	put("fuzz_otpauth", name, buf, 2 + il + 1 + al + 1 + secret_len);
}

static void text_seeds(void)
{
	static char const *const ADDR[] = {
		"192.0.2.1", " 10.0.0.1 ", "255.255.255.255", "0.0.0.0", "2001:db8::1", "[2001:DB8::1]",
		"2001:0db8:0000:0000:0000:0000:0000:0001", "::ffff:192.0.2.1", "[::ffff:192.0.2.1]", "::1.2.3.4",
		"::", "fe80::1%eth0", "1:2:3:4:5:6:7:8", "aa:bb:cc:dd:ee:ff", "AA-BB-CC-DD-EE-FF", "aabb.ccdd.eeff",
		"AABBCCDDEEFF", "192.0.2.1:1812", "[192.0.2.1]", "01.2.3.4", "not an address",
	};
	static char const *const B32[] = {
		"JBSWY3DPEHPK3PXP", "jbsw y3dp ehpk 3pxp", "MZXW6===", "MZXW6YQ=", "MZXW6YTB", "MZXW6YTBOI======",
		"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "MZXW7===", "A", "",
	};
	static char const *const TEXT[] = {
		"alice", "alice@example.com", ("\xc3\xbcnic\xc3\xb8" "de@example.com"), "\xf0\x9f\x98\x80@x.y",
		"bad\x01name", "\xc0\xaf", "\xed\xa0\x80", "\xc2\x80", "\xf4\x90\x80\x80", " alice", "a@b@c", "@x",
	};
	static char const *const RECOVERY[] = {
		"abcde-fghjk", "ABCDE FGHJK", "iloio-12345", "0123456789", "123456", "abcde-fghju", " a-b-c-d-e-f-g-h-j-k ",
	};
	static char const *const EMAIL[] = {
		"123456", "0123456789abcdef0123456789abcdef", "0123456789ABCDEF0123456789abcdef",
		"https://example.com/confirm?t={token}", "{token}{token}", "{toke}", "%s%n{token}",
	};
	static char const *const CONFIG[] = {
		"SHA1", "sha256", "Sha512", "administrator", "company_user", "owner", "supplier", "owner, supplier",
		" company_user ,administrator ", "owner,owner", "owner,", "low", "high", "   ",
	};
	static uint8_t const LOCKOUT[12] = { 0, 0, 0, 5, 0, 0, 0, 60, 0, 0, 0x0e, 0x10 };
	size_t i;
	char n[32];

#define EACH(arr, target) \
	for (i = 0; i < sizeof(arr) / sizeof(arr[0]); i++) { \
		snprintf(n, sizeof(n), "%02zu", i); \
		puts_(target, n, arr[i]); \
	}
	EACH(ADDR, "fuzz_address");
	EACH(B32, "fuzz_base32");
	EACH(TEXT, "fuzz_text");
	EACH(RECOVERY, "fuzz_recovery");
	EACH(EMAIL, "fuzz_email_code");
	EACH(CONFIG, "fuzz_config");
	put("fuzz_config", "lockout-default", LOCKOUT, sizeof(LOCKOUT));

	otpauth_seed("plain", 0x00, 250, "Example Corp", "alice@example.com", "12345678901234567890", 20);
	otpauth_seed("utf8", 0x65, 100, "Caf\xc3\xa9 & Co", "\xc3\xbc" "ser name", "\x01\x02\x03", 3);
	otpauth_seed("colon", 0x00, 250, "a:b", "c", "1", 1);
	otpauth_seed("small-buffer", 0x00, 10, "Example", "bob", "12345678901234567890", 20);
}

static void keyfile_seeds(void)
{
#define K1 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define K2 "F0E1D2C3B4A5968778695A4B3C2D1E0FFFEEDDCCBBAA99887766554433221100"
	puts_("fuzz_keyfile", "one", "1 " K1 "\n");
	puts_("fuzz_keyfile", "two-comments", "# vrms2fa keys\n\n1 " K1 "\n2\t" K2 "  \n");
	puts_("fuzz_keyfile", "crlf", "1 " K1 "\r\n2 " K2 "\r\n");
	puts_("fuzz_keyfile", "no-newline", "1 " K1);
	puts_("fuzz_keyfile", "id-0", "0 " K1 "\n");
	puts_("fuzz_keyfile", "id-max", "4294967295 " K2 "\n1 " K1 "\n");
	puts_("fuzz_keyfile", "id-over", "4294967296 " K2 "\n1 " K1 "\n");
	puts_("fuzz_keyfile", "duplicate", "1 " K1 "\n1 " K2 "\n");
	puts_("fuzz_keyfile", "short-key", "1 000102\n");
	puts_("fuzz_keyfile", "no-current", "2 " K2 "\n");
	put("fuzz_keyfile", "nul", "1 " K1 "\n\0", sizeof("1 " K1 "\n"));
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s tests/fuzz/corpus\n", argv[0]);
		return 2;
	}
	top = argv[1];
	if (mkdir(top, 0755) != 0 && errno != EEXIST) { perror(top); return 1; }
	password_seeds();
	sha512_crypt_seeds();
	token_seeds();
	secretbox_seeds();
	totp_seeds();
	text_seeds();
	keyfile_seeds();
	return 0;
}
