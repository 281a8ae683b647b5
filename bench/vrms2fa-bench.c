/*
 * vrms2fa-bench.c - a RADIUS load generator for benchmarking rlm_vrms2fa
 * against stock FreeRADIUS (issue #7).  radclient burns more CPU than the
 * server it measures; this program is one thread, one epoll loop, and
 * precomputed MD5 states, so that nearly all the CPU goes to radiusd.
 *
 * It keeps --inflight Access-Requests in flight over --sockets UDP sockets
 * (256 ids each), each login drawn from the users of --users FILE:
 *
 *   password, trusted  one round: User-Name, User-Password, the user's own
 *                      Calling-Station-Id; Access-Accept expected.
 *   challenge          round 1 from a NEW address (a fresh IPv6 text in
 *                      2001:db8::/32, never contacted) -> Access-Challenge
 *                      with State -> round 2 with the TOTP code of the current
 *                      time step -> Access-Accept.
 *   single-pass        one round, User-Password = password followed by the code.
 *
 * A code is accepted once per user per time step (rlm_vrms2fa's replay
 * guard), so the code modes pick only users not yet used in the current
 * step (--state FILE carries that across runs against the same database)
 * and report the time they waited for one (starved_ms).
 *
 * Every request carries a Message-Authenticator (RFC 3579); User-Password is
 * hidden as in RFC 2865 section 5.2; every reply's Response Authenticator is
 * verified, and its Message-Authenticator when it has one.  A request not
 * answered within --timeout-ms is sent again, byte for byte, up to --retries
 * times.  Latency is per request, from its first transmission to the reply.
 *
 * Open loop (--rate R, issue #18): instead of a fixed number in flight,
 * logins ARRIVE at R per second, Poisson (exponential gaps drawn from a
 * PRNG seeded with --seed, so a run can be repeated), and each one is sent at
 * its scheduled time whatever is still outstanding.  R counts logins: a
 * challenge login's round 2 is sent as soon as its Access-Challenge arrives
 * and is a request of its own (its scheduled time is the challenge's
 * arrival).  Latency is per request from its SCHEDULED send time (a
 * generator that falls behind does not hide the wait: no coordinated
 * omission), and also from its actual first transmission (latency_sent_ms);
 * lag_ms is how late the generator sent.  --inflight is then only a cap on
 * the requests outstanding (default every id of every socket); an arrival
 * that finds the cap full is not sent and counted as overflow, one that
 * finds no user with a fresh code (code modes) as no_user: either makes the
 * run invalid.
 *
 * Output: one human line on stderr, and with --json one JSON object on stdout.
 * Exit status: 0 the run happened (whatever the answers), 1 error, 2 usage.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/types.h>

#include <liboath/oath.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

/* ---- RADIUS ------------------------------------------------------------ */

#define RAD_ACCESS_REQUEST	1
#define RAD_ACCESS_ACCEPT	2
#define RAD_ACCESS_REJECT	3
#define RAD_ACCESS_CHALLENGE	11

#define ATTR_USER_NAME		1
#define ATTR_USER_PASSWORD	2
#define ATTR_NAS_IP_ADDRESS	4
#define ATTR_STATE		24
#define ATTR_CALLING_STATION_ID	31
#define ATTR_MESSAGE_AUTH	80

#define RAD_HDR_LEN		20
#define RAD_AUTH_LEN		16
#define RAD_MAX_PACKET		4096
#define RAD_MAX_STRING		253
#define RAD_MAX_PASSWORD	128	/* RFC 2865 5.2 */
#define RAD_MAX_STATE		253
#define MD5_LEN			16
#define HMAC_BLOCK		64

#define IDS_PER_SOCKET		256
#define MAX_SOCKETS		64
#define MAX_INFLIGHT		(IDS_PER_SOCKET * MAX_SOCKETS)

#define TOTP_PERIOD		30
#define TOTP_DIGITS		6
#define SECRET_MAX		128
#define ADDRESS_MAX		64

/* ---- users ------------------------------------------------------------- */

typedef struct {
	char		login[RAD_MAX_STRING + 1];
	size_t		login_len;
	char		password[RAD_MAX_PASSWORD + 1];
	size_t		password_len;
	uint8_t		secret[SECRET_MAX];
	size_t		secret_len;		/* 0: no secret */
	char		address[ADDRESS_MAX + 1];
	size_t		address_len;
	int64_t		last_step;		/* last TOTP step a code of this user was sent for */
	bool		busy;			/* a login of this user is in flight */
} user_t;

typedef enum { MODE_PASSWORD, MODE_TRUSTED, MODE_CHALLENGE, MODE_SINGLE_PASS } bench_mode_t;

static char const *mode_name(bench_mode_t m)
{
	switch (m) {
	case MODE_PASSWORD:	return "password";
	case MODE_TRUSTED:	return "trusted";
	case MODE_CHALLENGE:	return "challenge";
	case MODE_SINGLE_PASS:	return "single-pass";
	}
	return "?";
}

static bool mode_uses_code(bench_mode_t m)
{
	return m == MODE_CHALLENGE || m == MODE_SINGLE_PASS;
}

/* ---- options ----------------------------------------------------------- */

typedef struct {
	struct sockaddr_storage	server;
	socklen_t		server_len;
	char			server_text[128];
	char const		*secret;
	size_t			secret_len;
	bench_mode_t		mode;
	char const		*users_file;
	char const		*state_file;
	double			duration;	/* seconds; 0: use count */
	uint64_t		count;		/* logins; 0: use duration */
	unsigned		inflight;
	unsigned		sockets;
	unsigned		timeout_ms;
	unsigned		retries;
	bool			json;
	char const		*label;
	struct in_addr		nas_ip;
	double			rate;		/* logins per second, open loop; 0: closed loop (--inflight) */
	uint64_t		seed;		/* of the arrival times (open loop) */
	bool			inflight_given;
} options_t;

/* ---- in flight --------------------------------------------------------- */

typedef struct {
	bool		used;
	uint32_t	user;		/* index into users */
	int		round;		/* 1 or 2 */
	unsigned	tries;		/* transmissions so far */
	uint64_t	scheduled_us;	/* when it was due: open loop's arrival time, else = first_sent_us */
	uint64_t	first_sent_us;
	uint64_t	deadline_us;
	uint8_t		authenticator[RAD_AUTH_LEN];
	uint8_t		packet[RAD_MAX_PACKET];
	size_t		packet_len;
	char		address[ADDRESS_MAX + 1];	/* the Calling-Station-Id of this login */
	size_t		address_len;
} slot_t;

typedef struct {
	int		fd;
	slot_t		slots[IDS_PER_SOCKET];
	unsigned	used;
	unsigned	next_id;
} sock_t;

/* ---- statistics -------------------------------------------------------- */

typedef struct {
	uint32_t	*us;			/* one sample a request, in microseconds */
	size_t		n, cap;
} samples_t;

typedef struct {
	uint64_t	sent;			/* first transmissions */
	uint64_t	retransmits;
	uint64_t	accepts, challenges, rejects, timeouts;
	uint64_t	bad_replies;		/* wrong authenticator, malformed, bad Message-Authenticator */
	uint64_t	stale_replies;		/* for an id no longer (or never) in flight */
	uint64_t	reply_ma_missing;	/* replies without a Message-Authenticator */
	uint64_t	logins_started, logins_ok, logins_failed;
	uint64_t	unexpected;		/* an answer the mode did not expect (counted as failed) */
	uint64_t	starved_us;		/* time with a free slot and no user whose code is fresh */
	samples_t	lat;			/* per answered request, from its scheduled (= first) transmission */
	/* open loop only */
	samples_t	lat_sent;		/* per answered request, from its actual first transmission */
	samples_t	lag;			/* per request sent: first transmission - scheduled time */
	uint64_t	arrivals;		/* logins scheduled */
	uint64_t	overflow;		/* arrivals not sent: the cap of outstanding requests was full */
	uint64_t	no_user;		/* arrivals not sent: no user with a fresh code (code modes) */
	unsigned	peak_outstanding;
} stats_t;

/* ---- crypto state ------------------------------------------------------ */

typedef struct {
	EVP_MD		*md5;
	EVP_MD_CTX	*work;
	EVP_MD_CTX	*after_secret;	/* MD5 that has absorbed the shared secret (password hiding) */
	EVP_MD_CTX	*hmac_inner;	/* MD5 after (key ^ ipad) */
	EVP_MD_CTX	*hmac_outer;	/* MD5 after (key ^ opad) */
	EVP_MD_CTX	*hmac_work;
	uint8_t		rnd[4096];
	size_t		rnd_left;
} crypto_t;

static crypto_t C;
static options_t O;
static stats_t S;
static user_t *users;
static size_t n_users;
static sock_t *socks;
static uint8_t addr_prefix[6];		/* random per run: the new addresses of challenge mode */
static uint64_t addr_counter;

/* ---- small helpers ----------------------------------------------------- */

static void die(char const *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(char const *fmt, ...)
{
	va_list ap;

	fputs("vrms2fa-bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void usage(char const *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void usage(char const *fmt, ...)
{
	va_list ap;

	fputs("vrms2fa-bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nusage: vrms2fa-bench --server HOST:PORT --secret S --users FILE\n"
	      "         [--mode password|trusted|challenge|single-pass] [--duration SECONDS | --count LOGINS]\n"
	      "         [--inflight N] [--sockets N] [--timeout-ms MS] [--retries N] [--state FILE]\n"
	      "         [--rate LOGINS_PER_S [--seed N]] [--nas-ip A.B.C.D] [--label TEXT] [--json]\n"
	      "--rate: open loop, Poisson arrivals of logins; --inflight is then a cap of outstanding\n"
	      "  requests (default: all ids, 256 per socket); --count counts arrivals\n"
	      "users FILE: one user a line, tab-separated: login, password, secret, address\n"
	      "  (secret: hex, or base32 after \"b32:\", or \"-\" for none; address: the user's\n"
	      "  Calling-Station-Id in the one-round modes)\n", stderr);
	exit(2);
}

static uint64_t now_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) die("clock_gettime: %s", strerror(errno));
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static time_t wall_now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0) die("clock_gettime: %s", strerror(errno));
	return ts.tv_sec;
}

static void *xcalloc(size_t n, size_t size)
{
	void *p;

	if (n == 0) n = 1;
	p = calloc(n, size);
	if (!p) die("out of memory (%zu x %zu bytes)", n, size);
	return p;
}

static bool parse_uint(char const *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end = NULL;
	unsigned long long v;

	if (!s || *s < '0' || *s > '9') return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || !end || *end != '\0' || v < min || v > max) return false;
	*out = v;
	return true;
}

/* A rate in logins per second: a decimal number > 0 and <= 1,000,000. */
static bool parse_rate(char const *s, double *out)
{
	char *end = NULL;
	double v;

	if (!s || !*s) return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || !end || *end != '\0' || !(v > 0.0) || v > 1e6) return false;
	*out = v;
	return true;
}

static bool parse_seconds(char const *s, double *out)
{
	char *end = NULL;
	double v;

	if (!s || !*s) return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || !end || *end != '\0' || !(v > 0.0) || v > 86400.0) return false;
	*out = v;
	return true;
}

/* ---- crypto ------------------------------------------------------------ */

static void md5_init_ctx(EVP_MD_CTX *ctx)
{
	if (EVP_DigestInit_ex(ctx, C.md5, NULL) != 1) die("EVP_DigestInit_ex(MD5) failed");
}

static void md5_update(EVP_MD_CTX *ctx, void const *data, size_t len)
{
	if (len && EVP_DigestUpdate(ctx, data, len) != 1) die("EVP_DigestUpdate failed");
}

static void md5_final(EVP_MD_CTX *ctx, uint8_t out[MD5_LEN])
{
	unsigned int len = 0;

	if (EVP_DigestFinal_ex(ctx, out, &len) != 1 || len != MD5_LEN) die("EVP_DigestFinal_ex failed");
}

static void md5_copy(EVP_MD_CTX *dst, EVP_MD_CTX const *src)
{
	if (EVP_MD_CTX_copy_ex(dst, src) != 1) die("EVP_MD_CTX_copy_ex failed");
}

static void crypto_init(void)
{
	uint8_t key[HMAC_BLOCK], pad[HMAC_BLOCK];
	size_t klen = O.secret_len, i;

	C.md5 = EVP_MD_fetch(NULL, "MD5", NULL);
	if (!C.md5) die("OpenSSL has no MD5");
	C.work = EVP_MD_CTX_new();
	C.after_secret = EVP_MD_CTX_new();
	C.hmac_inner = EVP_MD_CTX_new();
	C.hmac_outer = EVP_MD_CTX_new();
	C.hmac_work = EVP_MD_CTX_new();
	if (!C.work || !C.after_secret || !C.hmac_inner || !C.hmac_outer || !C.hmac_work) die("out of memory");

	md5_init_ctx(C.after_secret);
	md5_update(C.after_secret, O.secret, O.secret_len);

	/* HMAC-MD5 (RFC 2104): a key longer than the block is hashed first. */
	memset(key, 0, sizeof(key));
	if (klen > HMAC_BLOCK) {
		md5_init_ctx(C.work);
		md5_update(C.work, O.secret, klen);
		md5_final(C.work, key);
	} else {
		memcpy(key, O.secret, klen);
	}
	for (i = 0; i < HMAC_BLOCK; i++) pad[i] = key[i] ^ 0x36;
	md5_init_ctx(C.hmac_inner);
	md5_update(C.hmac_inner, pad, HMAC_BLOCK);
	for (i = 0; i < HMAC_BLOCK; i++) pad[i] = key[i] ^ 0x5c;
	md5_init_ctx(C.hmac_outer);
	md5_update(C.hmac_outer, pad, HMAC_BLOCK);
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(pad, sizeof(pad));
}

static void hmac_md5(uint8_t const *data, size_t len, uint8_t out[MD5_LEN])
{
	uint8_t inner[MD5_LEN];

	md5_copy(C.hmac_work, C.hmac_inner);
	md5_update(C.hmac_work, data, len);
	md5_final(C.hmac_work, inner);
	md5_copy(C.hmac_work, C.hmac_outer);
	md5_update(C.hmac_work, inner, MD5_LEN);
	md5_final(C.hmac_work, out);
}

static void random_bytes(uint8_t *out, size_t len)
{
	while (len > 0) {
		size_t take;

		if (C.rnd_left == 0) {
			if (RAND_bytes(C.rnd, (int)sizeof(C.rnd)) != 1) die("RAND_bytes failed");
			C.rnd_left = sizeof(C.rnd);
		}
		take = len < C.rnd_left ? len : C.rnd_left;
		memcpy(out, C.rnd + sizeof(C.rnd) - C.rnd_left, take);
		C.rnd_left -= take;
		out += take;
		len -= take;
	}
}

/* ---- packets ----------------------------------------------------------- */

typedef struct {
	uint8_t	*buf;
	size_t	len, cap;
} packet_t;

static bool put_attr(packet_t *p, uint8_t type, void const *value, size_t len)
{
	if (len > RAD_MAX_STRING || p->cap - p->len < len + 2) return false;
	p->buf[p->len] = type;
	p->buf[p->len + 1] = (uint8_t)(len + 2);
	if (len) memcpy(p->buf + p->len + 2, value, len);
	p->len += len + 2;
	return true;
}

/* User-Password hidden with the shared secret and the Request Authenticator (RFC 2865 5.2). */
static bool put_password(packet_t *p, uint8_t const auth[RAD_AUTH_LEN], char const *pw, size_t pwlen)
{
	uint8_t out[RAD_MAX_PASSWORD], b[MD5_LEN];
	uint8_t const *prev = auth;
	size_t padded = pwlen == 0 ? 16 : (pwlen + 15) & ~(size_t)15, i, j;
	bool ok;

	if (pwlen > RAD_MAX_PASSWORD) return false;
	memset(out, 0, sizeof(out));
	memcpy(out, pw, pwlen);
	for (i = 0; i < padded; i += 16) {
		md5_copy(C.work, C.after_secret);
		md5_update(C.work, prev, 16);
		md5_final(C.work, b);
		for (j = 0; j < 16; j++) out[i + j] ^= b[j];
		prev = out + i;
	}
	ok = put_attr(p, ATTR_USER_PASSWORD, out, padded);
	OPENSSL_cleanse(out, sizeof(out));
	OPENSSL_cleanse(b, sizeof(b));
	return ok;
}

/* Build the Access-Request of a slot (round 1 or 2) into slot->packet. */
static bool build_request(slot_t *slot, uint8_t id, user_t const *u, char const *password, size_t password_len,
			  uint8_t const *state, size_t state_len)
{
	packet_t p = { slot->packet, RAD_HDR_LEN, sizeof(slot->packet) };
	uint8_t zero[MD5_LEN] = { 0 }, mac[MD5_LEN];
	size_t ma_at;

	random_bytes(slot->authenticator, RAD_AUTH_LEN);
	p.buf[0] = RAD_ACCESS_REQUEST;
	p.buf[1] = id;
	memcpy(p.buf + 4, slot->authenticator, RAD_AUTH_LEN);

	ma_at = p.len + 2;	/* first, as BlastRADIUS advice has it */
	if (!put_attr(&p, ATTR_MESSAGE_AUTH, zero, sizeof(zero)) ||
	    !put_attr(&p, ATTR_USER_NAME, u->login, u->login_len) ||
	    !put_password(&p, slot->authenticator, password, password_len) ||
	    !put_attr(&p, ATTR_NAS_IP_ADDRESS, &O.nas_ip.s_addr, 4) ||
	    (slot->address_len && !put_attr(&p, ATTR_CALLING_STATION_ID, slot->address, slot->address_len)) ||
	    (state && !put_attr(&p, ATTR_STATE, state, state_len))) {
		return false;
	}
	p.buf[2] = (uint8_t)(p.len >> 8);
	p.buf[3] = (uint8_t)(p.len & 0xff);
	hmac_md5(p.buf, p.len, mac);
	memcpy(p.buf + ma_at, mac, MD5_LEN);
	slot->packet_len = p.len;
	return true;
}

/*
 * Check a reply against the request it answers: length, Response
 * Authenticator, attribute framing, Message-Authenticator when present.
 * Returns false on any mismatch.  Sets the State (pointer and length) if there is one.
 */
static bool verify_reply(uint8_t *pkt, size_t len, slot_t const *slot, uint8_t const **state, size_t *state_len,
			 bool *has_ma)
{
	uint8_t got[RAD_AUTH_LEN], calc[MD5_LEN];
	size_t plen, off, ma_at = 0;

	*state = NULL;
	*state_len = 0;
	*has_ma = false;
	if (len < RAD_HDR_LEN) return false;
	plen = ((size_t)pkt[2] << 8) | pkt[3];
	if (plen < RAD_HDR_LEN || plen > len) return false;

	/* Response Authenticator = MD5(Code+ID+Length+RequestAuth+Attributes+Secret) */
	memcpy(got, pkt + 4, RAD_AUTH_LEN);
	md5_init_ctx(C.work);
	md5_update(C.work, pkt, 4);
	md5_update(C.work, slot->authenticator, RAD_AUTH_LEN);
	md5_update(C.work, pkt + RAD_HDR_LEN, plen - RAD_HDR_LEN);
	md5_update(C.work, O.secret, O.secret_len);
	md5_final(C.work, calc);
	if (CRYPTO_memcmp(calc, got, RAD_AUTH_LEN) != 0) return false;

	for (off = RAD_HDR_LEN; off < plen;) {
		size_t alen;

		if (plen - off < 2) return false;
		alen = pkt[off + 1];
		if (alen < 2 || alen > plen - off) return false;
		if (pkt[off] == ATTR_STATE && !*state) {
			*state = pkt + off + 2;
			*state_len = alen - 2;
		} else if (pkt[off] == ATTR_MESSAGE_AUTH) {
			if (alen != 2 + MD5_LEN || ma_at) return false;
			ma_at = off + 2;
		}
		off += alen;
	}
	if (ma_at) {
		/* RFC 3579 3.2: over the reply with the Request Authenticator in place and the MA zeroed. */
		uint8_t ma[MD5_LEN];

		memcpy(ma, pkt + ma_at, MD5_LEN);
		memcpy(pkt + 4, slot->authenticator, RAD_AUTH_LEN);
		memset(pkt + ma_at, 0, MD5_LEN);
		hmac_md5(pkt, plen, calc);
		memcpy(pkt + 4, got, RAD_AUTH_LEN);
		memcpy(pkt + ma_at, ma, MD5_LEN);
		if (CRYPTO_memcmp(calc, ma, MD5_LEN) != 0) return false;
		*has_ma = true;
	}
	return true;
}

/* ---- users file and state file ----------------------------------------- */

static bool decode_secret(char const *text, size_t len, uint8_t *out, size_t *outlen)
{
	if (len == 1 && text[0] == '-') {
		*outlen = 0;
		return true;
	}
	if (len > 4 && memcmp(text, "b32:", 4) == 0) {
		char *bin = NULL;
		size_t binlen = 0;

		if (oath_base32_decode(text + 4, len - 4, &bin, &binlen) != OATH_OK || !bin) return false;
		if (binlen == 0 || binlen > SECRET_MAX) {
			free(bin);
			return false;
		}
		memcpy(out, bin, binlen);
		OPENSSL_cleanse(bin, binlen);
		free(bin);
		*outlen = binlen;
		return true;
	}
	{
		char hex[2 * SECRET_MAX + 1];
		size_t binlen = SECRET_MAX;

		if (len == 0 || len % 2 != 0 || len > 2 * SECRET_MAX) return false;
		memcpy(hex, text, len);
		hex[len] = '\0';
		if (oath_hex2bin(hex, (char *)out, &binlen) != OATH_OK || binlen != len / 2) return false;
		*outlen = binlen;
		return true;
	}
}

/* Split a line in place at tabs; returns the number of fields (at most max). */
static size_t split_tabs(char *line, char **fields, size_t *lens, size_t max)
{
	size_t n = 0;
	char *p = line;

	while (n < max) {
		char *tab = strchr(p, '\t');

		fields[n] = p;
		lens[n] = tab ? (size_t)(tab - p) : strlen(p);
		n++;
		if (!tab) break;
		*tab = '\0';
		p = tab + 1;
	}
	return n;
}

static void load_users(char const *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, lineno = 0, alloc = 1024;
	ssize_t got;

	if (!f) die("%s: %s", path, strerror(errno));
	users = xcalloc(alloc, sizeof(*users));
	while ((got = getline(&line, &cap, f)) != -1) {
		char *fields[4];
		size_t lens[4], n;
		user_t *u;

		lineno++;
		while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r')) line[--got] = '\0';
		if (got == 0 || line[0] == '#') continue;
		n = split_tabs(line, fields, lens, 4);
		if (n != 4) die("%s:%zu: want 4 tab-separated fields (login, password, secret, address)", path, lineno);
		if (n_users == alloc) {
			user_t *bigger;

			if (alloc > SIZE_MAX / 2 / sizeof(*users)) die("too many users");
			bigger = realloc(users, 2 * alloc * sizeof(*users));
			if (!bigger) die("out of memory");
			memset(bigger + alloc, 0, alloc * sizeof(*users));
			users = bigger;
			alloc *= 2;
		}
		u = &users[n_users];
		if (lens[0] == 0 || lens[0] > RAD_MAX_STRING) die("%s:%zu: login empty or too long", path, lineno);
		/* room for the code after the password in single-pass mode */
		if (lens[1] > RAD_MAX_PASSWORD - TOTP_DIGITS) die("%s:%zu: password too long", path, lineno);
		if (lens[3] > ADDRESS_MAX) die("%s:%zu: address too long", path, lineno);
		memcpy(u->login, fields[0], lens[0]);
		u->login_len = lens[0];
		memcpy(u->password, fields[1], lens[1]);
		u->password_len = lens[1];
		if (!decode_secret(fields[2], lens[2], u->secret, &u->secret_len)) {
			die("%s:%zu: secret is not hex, b32:BASE32 or -", path, lineno);
		}
		if (!(lens[3] == 1 && fields[3][0] == '-')) {
			memcpy(u->address, fields[3], lens[3]);
			u->address_len = lens[3];
		}
		u->last_step = -1;
		n_users++;
	}
	if (ferror(f)) die("%s: read error", path);
	free(line);
	fclose(f);
	if (n_users == 0) die("%s: no users", path);
	if (n_users > UINT32_MAX) die("%s: too many users", path);
}

/* A hash of logins for the state file (open addressing, FNV-1a). */
static uint32_t *login_index;
static size_t login_index_cap;

static uint64_t fnv1a(char const *s, size_t len)
{
	uint64_t h = 1469598103934665603ull;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (uint8_t)s[i];
		h *= 1099511628211ull;
	}
	return h;
}

static void index_logins(void)
{
	size_t i;

	login_index_cap = 16;
	while (login_index_cap < 2 * n_users) login_index_cap *= 2;
	login_index = xcalloc(login_index_cap, sizeof(*login_index));	/* 0: empty, else index + 1 */
	for (i = 0; i < n_users; i++) {
		size_t h = (size_t)fnv1a(users[i].login, users[i].login_len) & (login_index_cap - 1);

		while (login_index[h]) h = (h + 1) & (login_index_cap - 1);
		login_index[h] = (uint32_t)(i + 1);
	}
}

static user_t *find_login(char const *login, size_t len)
{
	size_t h = (size_t)fnv1a(login, len) & (login_index_cap - 1);

	while (login_index[h]) {
		user_t *u = &users[login_index[h] - 1];

		if (u->login_len == len && memcmp(u->login, login, len) == 0) return u;
		h = (h + 1) & (login_index_cap - 1);
	}
	return NULL;
}

/* State file: "login<TAB>step" per line, the last TOTP step a code of the user was used for. */
static void load_state(char const *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t got;

	if (!f) {
		if (errno == ENOENT) return;
		die("%s: %s", path, strerror(errno));
	}
	index_logins();
	while ((got = getline(&line, &cap, f)) != -1) {
		char *fields[2];
		size_t lens[2];
		uint64_t step;
		user_t *u;

		while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r')) line[--got] = '\0';
		if (got == 0) continue;
		if (split_tabs(line, fields, lens, 2) != 2 || !parse_uint(fields[1], 0, INT64_MAX, &step)) {
			die("%s: malformed line (want login<TAB>step)", path);
		}
		u = find_login(fields[0], lens[0]);
		if (u && (int64_t)step > u->last_step) u->last_step = (int64_t)step;
	}
	if (ferror(f)) die("%s: read error", path);
	free(line);
	fclose(f);
}

static void save_state(char const *path)
{
	char tmp[PATH_MAX];
	FILE *f;
	size_t i;
	int n;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp)) die("%s: path too long", path);
	f = fopen(tmp, "w");
	if (!f) die("%s: %s", tmp, strerror(errno));
	for (i = 0; i < n_users; i++) {
		if (users[i].last_step < 0) continue;
		if (fprintf(f, "%.*s\t%" PRId64 "\n", (int)users[i].login_len, users[i].login, users[i].last_step) < 0) {
			die("%s: write error", tmp);
		}
	}
	if (fclose(f) != 0) die("%s: %s", tmp, strerror(errno));
	if (rename(tmp, path) != 0) die("rename %s: %s", path, strerror(errno));
}

/* ---- options ----------------------------------------------------------- */

static void parse_server(char const *arg)
{
	char host[128];
	char const *colon = strrchr(arg, ':');
	struct addrinfo hints, *res = NULL;
	size_t hlen;
	int rc;

	if (!colon || colon == arg || !colon[1]) usage("--server wants HOST:PORT");
	hlen = (size_t)(colon - arg);
	if (hlen >= sizeof(host)) usage("--server: host too long");
	memcpy(host, arg, hlen);
	host[hlen] = '\0';
	if (hlen > 2 && host[0] == '[' && host[hlen - 1] == ']') {
		memmove(host, host + 1, hlen - 2);
		host[hlen - 2] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICSERV;
	rc = getaddrinfo(host, colon + 1, &hints, &res);
	if (rc != 0 || !res) usage("--server %s: %s", arg, gai_strerror(rc));
	if (res->ai_addrlen > sizeof(O.server)) usage("--server %s: address too long", arg);
	memcpy(&O.server, res->ai_addr, res->ai_addrlen);
	O.server_len = res->ai_addrlen;
	freeaddrinfo(res);
	snprintf(O.server_text, sizeof(O.server_text), "%s", arg);
}

static void parse_options(int argc, char **argv)
{
	int i;
	uint64_t v;
	bool have_server = false;

	memset(&O, 0, sizeof(O));
	O.mode = MODE_PASSWORD;
	O.inflight = 64;
	O.sockets = 4;
	O.timeout_ms = 1000;
	O.retries = 3;
	O.label = "";
	O.nas_ip.s_addr = htonl(INADDR_LOOPBACK);
	O.seed = 1;

	for (i = 1; i < argc; i++) {
		char const *opt = argv[i];
		char const *val = i + 1 < argc ? argv[i + 1] : NULL;

#define NEED_VALUE() do { if (!val) usage("%s needs a value", opt); i++; } while (0)
		if (strcmp(opt, "--server") == 0) {
			NEED_VALUE();
			parse_server(val);
			have_server = true;
		} else if (strcmp(opt, "--secret") == 0) {
			NEED_VALUE();
			O.secret = val;
			O.secret_len = strlen(val);
			if (O.secret_len == 0 || O.secret_len > 255) usage("--secret: 1 to 255 characters");
		} else if (strcmp(opt, "--mode") == 0) {
			NEED_VALUE();
			if (strcmp(val, "password") == 0) O.mode = MODE_PASSWORD;
			else if (strcmp(val, "trusted") == 0) O.mode = MODE_TRUSTED;
			else if (strcmp(val, "challenge") == 0) O.mode = MODE_CHALLENGE;
			else if (strcmp(val, "single-pass") == 0) O.mode = MODE_SINGLE_PASS;
			else usage("--mode: password, trusted, challenge or single-pass");
		} else if (strcmp(opt, "--users") == 0) {
			NEED_VALUE();
			O.users_file = val;
		} else if (strcmp(opt, "--state") == 0) {
			NEED_VALUE();
			O.state_file = val;
		} else if (strcmp(opt, "--duration") == 0) {
			NEED_VALUE();
			if (!parse_seconds(val, &O.duration)) usage("--duration: seconds, > 0");
		} else if (strcmp(opt, "--count") == 0) {
			NEED_VALUE();
			if (!parse_uint(val, 1, UINT64_MAX / 2, &O.count)) usage("--count: a number of logins, >= 1");
		} else if (strcmp(opt, "--inflight") == 0) {
			NEED_VALUE();
			if (!parse_uint(val, 1, MAX_INFLIGHT, &v)) usage("--inflight: 1..%d", MAX_INFLIGHT);
			O.inflight = (unsigned)v;
			O.inflight_given = true;
		} else if (strcmp(opt, "--sockets") == 0) {
			NEED_VALUE();
			if (!parse_uint(val, 1, MAX_SOCKETS, &v)) usage("--sockets: 1..%d", MAX_SOCKETS);
			O.sockets = (unsigned)v;
		} else if (strcmp(opt, "--timeout-ms") == 0) {
			NEED_VALUE();
			if (!parse_uint(val, 1, 600000, &v)) usage("--timeout-ms: 1..600000");
			O.timeout_ms = (unsigned)v;
		} else if (strcmp(opt, "--retries") == 0) {
			NEED_VALUE();
			if (!parse_uint(val, 0, 100, &v)) usage("--retries: 0..100");
			O.retries = (unsigned)v;
		} else if (strcmp(opt, "--nas-ip") == 0) {
			NEED_VALUE();
			if (inet_pton(AF_INET, val, &O.nas_ip) != 1) usage("--nas-ip: an IPv4 address");
		} else if (strcmp(opt, "--label") == 0) {
			NEED_VALUE();
			O.label = val;
		} else if (strcmp(opt, "--rate") == 0) {
			NEED_VALUE();
			if (!parse_rate(val, &O.rate)) usage("--rate: logins per second, > 0 and <= 1000000");
		} else if (strcmp(opt, "--seed") == 0) {
			NEED_VALUE();
			if (!parse_uint(val, 0, UINT64_MAX, &O.seed)) usage("--seed: a number >= 0");
		} else if (strcmp(opt, "--json") == 0) {
			O.json = true;
		} else if (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0) {
			usage("a RADIUS load generator for rlm_vrms2fa benchmarks");
		} else {
			usage("unknown option %s", opt);
		}
#undef NEED_VALUE
	}
	if (!have_server) usage("--server is required");
	if (!O.secret) usage("--secret is required");
	if (!O.users_file) usage("--users is required");
	if ((O.duration > 0) == (O.count > 0)) usage("give one of --duration and --count");
	if (O.rate > 0 && !O.inflight_given) O.inflight = O.sockets * IDS_PER_SOCKET;	/* open loop: a cap only */
	if (O.inflight > O.sockets * IDS_PER_SOCKET) {
		usage("--inflight %u needs at least %u sockets (256 ids each)", O.inflight,
		      (O.inflight + IDS_PER_SOCKET - 1) / IDS_PER_SOCKET);
	}
}

/* ---- the run ----------------------------------------------------------- */

static int epfd;
static unsigned inflight;
static size_t next_user;
static int64_t starved_step = -1;	/* a full scan found no fresh user in this step */
static uint64_t starved_since;		/* 0: not starved */

/* Append one sample (microseconds, saturated at UINT32_MAX) to a growing array; dies when out of memory. */
static void samples_add(samples_t *sm, uint64_t us)
{
	if (sm->n == sm->cap) {
		size_t cap = sm->cap ? 2 * sm->cap : 65536;
		uint32_t *bigger;

		if (cap > SIZE_MAX / sizeof(*sm->us)) die("too many samples");
		bigger = realloc(sm->us, cap * sizeof(*sm->us));
		if (!bigger) die("out of memory");
		sm->us = bigger;
		sm->cap = cap;
	}
	sm->us[sm->n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

/* The arrival times of the open loop: splitmix64 from --seed, exponential gaps of mean 1/--rate. */
static uint64_t prng_state;

static uint64_t prng_next(void)
{
	uint64_t z = (prng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Seconds to the next arrival: -ln(U) / rate, U uniform in (0, 1] (53 bits: never 0, never > 1). */
static double next_gap_s(void)
{
	double u = ((double)(prng_next() >> 11) + 1.0) * 0x1.0p-53;

	return -log(u) / O.rate;
}

static void open_sockets(void)
{
	struct epoll_event ev;
	unsigned i;

	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0) die("epoll_create1: %s", strerror(errno));
	socks = xcalloc(O.sockets, sizeof(*socks));
	for (i = 0; i < O.sockets; i++) {
		int fd = socket(O.server.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		int buf = 4 * 1024 * 1024;

		if (fd < 0) die("socket: %s", strerror(errno));
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));	/* best effort */
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
		if (connect(fd, (struct sockaddr const *)&O.server, O.server_len) != 0) {
			die("connect %s: %s", O.server_text, strerror(errno));
		}
		socks[i].fd = fd;
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.u32 = i;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) die("epoll_ctl: %s", strerror(errno));
	}
}

static void transmit(sock_t *s, slot_t *slot, uint64_t now)
{
	ssize_t n;

	for (;;) {
		n = send(s->fd, slot->packet, slot->packet_len, 0);
		if (n >= 0 || errno != EINTR) break;
	}
	if (n < 0) {
		/* A full send buffer or a refused port is a lost packet: the retransmission timer covers it. */
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS && errno != ECONNREFUSED) {
			die("send to %s: %s", O.server_text, strerror(errno));
		}
	} else if ((size_t)n != slot->packet_len) {
		die("short send (%zd of %zu bytes)", n, slot->packet_len);
	}
	slot->tries++;
	slot->deadline_us = now + (uint64_t)O.timeout_ms * 1000u;
}

/* A socket with a free id (round robin), and the id. */
static bool take_id(unsigned *sock_index, uint8_t *id)
{
	static unsigned rr;
	unsigned k, j;

	for (k = 0; k < O.sockets; k++) {
		sock_t *s = &socks[(rr + k) % O.sockets];

		if (s->used >= IDS_PER_SOCKET) continue;
		for (j = 0; j < IDS_PER_SOCKET; j++) {
			unsigned cand = (s->next_id + j) & 0xff;

			if (!s->slots[cand].used) {
				s->next_id = (cand + 1) & 0xff;
				*sock_index = (rr + k) % O.sockets;
				*id = (uint8_t)cand;
				rr = (rr + k + 1) % O.sockets;
				return true;
			}
		}
	}
	return false;
}

static int64_t current_step(void)
{
	return (int64_t)(wall_now() / TOTP_PERIOD);
}

/* The TOTP code of the user for the current step; records the step as used. */
static void totp_code(user_t *u, char code[TOTP_DIGITS + 1])
{
	time_t t = wall_now();
	int rc;

	if (u->secret_len == 0) die("user %.*s has no secret: mode %s needs one", (int)u->login_len, u->login,
				    mode_name(O.mode));
	rc = oath_totp_generate((char const *)u->secret, u->secret_len, t, TOTP_PERIOD, 0, TOTP_DIGITS, code);
	if (rc != OATH_OK) die("oath_totp_generate: %s", oath_strerror(rc));
	if ((int64_t)(t / TOTP_PERIOD) > u->last_step) u->last_step = (int64_t)(t / TOTP_PERIOD);
}

/*
 * Send round 1 (or the only round), or round 2 with the State, of a login of
 * user index ui.  scheduled_us: when the request was due (open loop; latency
 * counts from it), 0: now (closed loop).  False when no id is free.
 */
static bool send_round(uint32_t ui, int round, uint8_t const *state, size_t state_len, char const *address,
		       size_t address_len, uint64_t scheduled_us)
{
	user_t *u = &users[ui];
	char password[RAD_MAX_PASSWORD + 1], code[TOTP_DIGITS + 1];
	size_t password_len;
	unsigned si;
	uint8_t id;
	slot_t *slot;
	bool ok;

	if (!take_id(&si, &id)) return false;
	slot = &socks[si].slots[id];
	memset(slot, 0, offsetof(slot_t, packet));
	slot->used = true;
	slot->user = ui;
	slot->round = round;
	memcpy(slot->address, address, address_len);
	slot->address[address_len] = '\0';
	slot->address_len = address_len;

	if (round == 2) {
		totp_code(u, code);
		memcpy(password, code, TOTP_DIGITS);
		password_len = TOTP_DIGITS;
	} else if (O.mode == MODE_SINGLE_PASS) {
		totp_code(u, code);
		memcpy(password, u->password, u->password_len);
		memcpy(password + u->password_len, code, TOTP_DIGITS);
		password_len = u->password_len + TOTP_DIGITS;
	} else {
		memcpy(password, u->password, u->password_len);
		password_len = u->password_len;
	}
	ok = build_request(slot, id, u, password, password_len, state, state_len);
	OPENSSL_cleanse(password, sizeof(password));
	OPENSSL_cleanse(code, sizeof(code));
	if (!ok) die("request for %.*s does not fit in a packet", (int)u->login_len, u->login);

	socks[si].used++;
	inflight++;
	{
		uint64_t now = now_us();

		slot->first_sent_us = now;	/* latency is per request, from its own first transmission */
		slot->scheduled_us = scheduled_us && scheduled_us < now ? scheduled_us : now;
		transmit(&socks[si], slot, now);
		if (O.rate > 0) {
			samples_add(&S.lag, now - slot->scheduled_us);
			if (inflight > S.peak_outstanding) S.peak_outstanding = inflight;
		}
	}
	S.sent++;
	return true;
}

/* A user for a new login, or -1: round robin; code modes want a user whose code is fresh. */
static int64_t pick_user(void)
{
	size_t k;
	int64_t step;

	if (!mode_uses_code(O.mode)) {
		size_t ui = next_user;

		next_user = (next_user + 1) % n_users;
		return (int64_t)ui;
	}
	step = current_step();
	if (starved_step == step) return -1;
	for (k = 0; k < n_users; k++) {
		size_t ui = (next_user + k) % n_users;
		user_t *u = &users[ui];

		if (!u->busy && u->last_step < step && u->secret_len > 0) {
			next_user = (ui + 1) % n_users;
			return (int64_t)ui;
		}
	}
	starved_step = step;
	return -1;
}

static void new_address(char *out, size_t cap, size_t *len)
{
	uint64_t c = ++addr_counter;
	int n;

	/* 2001:db8::/32 is for documentation: only a value in a packet, never contacted. */
	n = snprintf(out, cap, "2001:db8:%02x%02x:%02x%02x:%02x%02x:%x:%x:%x",
		     addr_prefix[0], addr_prefix[1], addr_prefix[2], addr_prefix[3], addr_prefix[4], addr_prefix[5],
		     (unsigned)((c >> 32) & 0xffff), (unsigned)((c >> 16) & 0xffff), (unsigned)(c & 0xffff));
	if (n < 0 || (size_t)n >= cap) die("address too long");
	*len = (size_t)n;
}

/*
 * Start a login of the next user (round 1, or the only round), due at
 * scheduled_us (0: now).  False when no user is ready (code modes: none
 * with a fresh code) or no id is free.
 */
static bool start_login(uint64_t scheduled_us)
{
	int64_t pick = pick_user();
	char address[ADDRESS_MAX + 1];
	size_t address_len;
	user_t *u;

	if (pick < 0) return false;
	u = &users[pick];
	if (O.mode == MODE_CHALLENGE) {
		new_address(address, sizeof(address), &address_len);
	} else {
		memcpy(address, u->address, u->address_len);
		address_len = u->address_len;
	}
	if (!send_round((uint32_t)pick, 1, NULL, 0, address, address_len, scheduled_us)) return false;
	u->busy = true;
	if (mode_uses_code(O.mode)) {
		int64_t step = current_step();

		if (step > u->last_step) u->last_step = step;
	}
	S.logins_started++;
	return true;
}

static void release(sock_t *s, slot_t *slot)
{
	slot->used = false;
	s->used--;
	inflight--;
}

static void login_done(uint32_t ui, bool ok)
{
	users[ui].busy = false;
	if (ok) S.logins_ok++;
	else S.logins_failed++;
}

static void handle_reply(sock_t *s, uint8_t *pkt, size_t len, uint64_t now)
{
	uint8_t const *state;
	size_t state_len;
	bool has_ma;
	slot_t *slot;
	uint8_t code;

	if (len < RAD_HDR_LEN) {
		S.bad_replies++;
		return;
	}
	slot = &s->slots[pkt[1]];
	if (!slot->used) {
		S.stale_replies++;
		return;
	}
	if (!verify_reply(pkt, len, slot, &state, &state_len, &has_ma)) {
		/* A late answer to an earlier use of this id, or a forgery: the request stays in flight. */
		S.bad_replies++;
		return;
	}
	/* now was read before this batch of receives: a round 2 sent meanwhile may be younger. */
	if (now < slot->first_sent_us) now = now_us();
	samples_add(&S.lat, now >= slot->scheduled_us ? now - slot->scheduled_us : 0);
	if (O.rate > 0) samples_add(&S.lat_sent, now >= slot->first_sent_us ? now - slot->first_sent_us : 0);
	if (!has_ma) S.reply_ma_missing++;
	code = pkt[0];
	switch (code) {
	case RAD_ACCESS_ACCEPT:
		S.accepts++;
		break;
	case RAD_ACCESS_REJECT:
		S.rejects++;
		break;
	case RAD_ACCESS_CHALLENGE:
		S.challenges++;
		break;
	default:
		S.bad_replies++;
		break;
	}

	{
		uint32_t ui = slot->user;
		int round = slot->round;
		char address[ADDRESS_MAX + 1];
		size_t address_len = slot->address_len;
		uint8_t st[RAD_MAX_STATE];

		memcpy(address, slot->address, address_len + 1);
		if (state && state_len > 0 && state_len <= sizeof(st)) memcpy(st, state, state_len);
		release(s, slot);

		if (O.mode == MODE_CHALLENGE && round == 1 && code == RAD_ACCESS_CHALLENGE) {
			if (!state || state_len == 0 || state_len > sizeof(st)) {
				S.unexpected++;
				login_done(ui, false);
				return;
			}
			/* open loop: round 2 is due when the challenge arrived */
			if (!send_round(ui, 2, st, state_len, address, address_len, O.rate > 0 ? now : 0)) {
				/* cannot happen: we just freed an id */
				die("no free id for round 2");
			}
			return;
		}
		if (code == RAD_ACCESS_ACCEPT) {
			if (O.mode == MODE_CHALLENGE && round == 1) S.unexpected++;	/* the new address was trusted already */
			login_done(ui, true);
			return;
		}
		if (code == RAD_ACCESS_CHALLENGE) S.unexpected++;
		login_done(ui, false);
	}
}

static void drain_socket(sock_t *s, uint64_t now)
{
	uint8_t buf[RAD_MAX_PACKET];

	for (;;) {
		ssize_t n = recv(s->fd, buf, sizeof(buf), 0);

		if (n < 0) {
			if (errno == EINTR) continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) return;
			if (errno == ECONNREFUSED) continue;	/* ICMP port unreachable: the timer retries */
			die("recv: %s", strerror(errno));
		}
		handle_reply(s, buf, (size_t)n, now);
	}
}

static void check_timeouts(uint64_t now)
{
	unsigned i, j;

	for (i = 0; i < O.sockets; i++) {
		sock_t *s = &socks[i];

		if (s->used == 0) continue;
		for (j = 0; j < IDS_PER_SOCKET; j++) {
			slot_t *slot = &s->slots[j];

			if (!slot->used || slot->deadline_us > now) continue;
			if (slot->tries <= O.retries) {
				S.retransmits++;
				transmit(s, slot, now);
				continue;
			}
			S.timeouts++;
			{
				uint32_t ui = slot->user;

				release(s, slot);
				login_done(ui, false);
			}
		}
	}
}

static int cmp_u32(void const *a, void const *b)
{
	uint32_t x = *(uint32_t const *)a, y = *(uint32_t const *)b;

	return x < y ? -1 : x > y;
}

/* The p-quantile (0 < p <= 1) of sorted samples, in ms (nearest rank); 0 when there are none. */
static double percentile_ms(samples_t const *sm, double p)
{
	size_t idx;

	if (sm->n == 0) return 0.0;
	idx = (size_t)(p * (double)sm->n + 0.999999);
	if (idx == 0) idx = 1;
	if (idx > sm->n) idx = sm->n;
	return sm->us[idx - 1] / 1000.0;
}

static void samples_sort(samples_t *sm)
{
	if (sm->n > 1) qsort(sm->us, sm->n, sizeof(*sm->us), cmp_u32);
}

/* {"p50": .., "p90": .., "p99": .., "max": ..} of sorted samples, in ms. */
static void json_quantiles(FILE *f, samples_t const *sm)
{
	fprintf(f, "{\"p50\": %.3f, \"p90\": %.3f, \"p99\": %.3f, \"max\": %.3f}", percentile_ms(sm, 0.50),
		percentile_ms(sm, 0.90), percentile_ms(sm, 0.99), sm->n ? sm->us[sm->n - 1] / 1000.0 : 0.0);
}

static void json_string(FILE *f, char const *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
		else if (c < 0x20) fprintf(f, "\\u%04x", c);
		else fputc(c, f);
	}
	fputc('"', f);
}

/*
 * Closed loop: keep --inflight logins' requests in flight from start until
 * --duration has passed or --count logins were started, then wait for the
 * outstanding ones.
 */
static void run_closed_loop(uint64_t start)
{
	uint64_t end_at = 0, now, last_timeout_check = 0;
	struct epoll_event events[MAX_SOCKETS];
	bool launching = true;

	if (O.duration > 0) end_at = start + (uint64_t)(O.duration * 1e6);

	while (launching || inflight > 0) {
		int n, i, wait_ms;

		now = now_us();
		if (launching && ((end_at && now >= end_at) || (O.count && S.logins_started >= O.count))) {
			launching = false;
			if (starved_since) {
				S.starved_us += now - starved_since;
				starved_since = 0;
			}
		}
		if (launching) {
			while (inflight < O.inflight && (!O.count || S.logins_started < O.count)) {
				if (!start_login(0)) break;
			}
			if (inflight < O.inflight && (!O.count || S.logins_started < O.count)) {
				if (!starved_since) starved_since = now;
			} else if (starved_since) {
				S.starved_us += now - starved_since;
				starved_since = 0;
			}
		}
		if (!launching && inflight == 0) break;

		wait_ms = 5;
		if (inflight == 0) wait_ms = 20;	/* starved: wait for the next step */
		n = epoll_wait(epfd, events, (int)(sizeof(events) / sizeof(events[0])), wait_ms);
		if (n < 0) {
			if (errno == EINTR) continue;
			die("epoll_wait: %s", strerror(errno));
		}
		now = now_us();
		for (i = 0; i < n; i++) drain_socket(&socks[events[i].data.u32], now);
		if (now - last_timeout_check >= 2000) {
			check_timeouts(now);
			last_timeout_check = now;
		}
	}
}

#define TIMER_EVENT	MAX_SOCKETS	/* the epoll tag of the arrival timer (sockets are 0..MAX_SOCKETS-1) */

/* Arm the timerfd to fire at at_us (CLOCK_MONOTONIC microseconds, absolute; a past time fires at once). */
static void arm_timer(int tfd, uint64_t at_us)
{
	struct itimerspec its;

	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = (time_t)(at_us / 1000000u);
	its.it_value.tv_nsec = (long)(at_us % 1000000u) * 1000L;
	if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0) its.it_value.tv_nsec = 1;	/* 0 disarms */
	if (timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL) != 0) die("timerfd_settime: %s", strerror(errno));
}

/*
 * Open loop: logins arrive at --rate per second (Poisson: exponential gaps
 * from the PRNG seeded with --seed) from start until --duration has passed
 * or --count logins were scheduled.  Each is sent at its time whatever is
 * outstanding; an arrival that finds --inflight requests outstanding is
 * counted as overflow, one that finds no user ready as no_user, and neither
 * is sent later.  Then the outstanding requests are waited for.  A timerfd
 * wakes the loop at each arrival: epoll_wait's millisecond timeout alone
 * would send up to 1 ms late, the size of the latencies measured.
 */
static void run_open_loop(uint64_t start)
{
	uint64_t end_at = O.duration > 0 ? start + (uint64_t)(O.duration * 1e6) : 0;
	uint64_t now, next_at, armed_at = 0, last_timeout_check = 0;
	struct epoll_event ev, events[MAX_SOCKETS + 1];
	double next_s;
	bool launching = true;
	int tfd;

	prng_state = O.seed;
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (tfd < 0) die("timerfd_create: %s", strerror(errno));
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u32 = TIMER_EVENT;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &ev) != 0) die("epoll_ctl: %s", strerror(errno));

	next_s = next_gap_s();
	next_at = start + (uint64_t)(next_s * 1e6);
	while (launching || inflight > 0) {
		int n, i;

		now = now_us();
		while (launching && next_at <= now) {
			if ((end_at && next_at >= end_at) || (O.count && S.arrivals >= O.count)) break;
			S.arrivals++;
			if (inflight >= O.inflight) S.overflow++;
			else if (!start_login(next_at)) S.no_user++;	/* below the cap an id is free: no user ready */
			next_s += next_gap_s();
			next_at = start + (uint64_t)(next_s * 1e6);
		}
		if (launching && ((end_at && next_at >= end_at) || (O.count && S.arrivals >= O.count))) {
			launching = false;
		}
		if (!launching && inflight == 0) break;
		if (launching && next_at != armed_at) {
			arm_timer(tfd, next_at);
			armed_at = next_at;
		}

		/* the timer wakes us for the next arrival; 5 ms at most for the retransmission timers */
		n = epoll_wait(epfd, events, (int)(sizeof(events) / sizeof(events[0])), 5);
		if (n < 0) {
			if (errno == EINTR) continue;
			die("epoll_wait: %s", strerror(errno));
		}
		now = now_us();
		for (i = 0; i < n; i++) {
			if (events[i].data.u32 == TIMER_EVENT) {
				uint64_t expirations;
				ssize_t got = read(tfd, &expirations, sizeof(expirations));

				if (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
					die("read timerfd: %s", strerror(errno));
				}
				continue;
			}
			drain_socket(&socks[events[i].data.u32], now);
		}
		if (now - last_timeout_check >= 2000) {
			check_timeouts(now);
			last_timeout_check = now;
		}
	}
	if (epoll_ctl(epfd, EPOLL_CTL_DEL, tfd, NULL) != 0) die("epoll_ctl: %s", strerror(errno));
	if (close(tfd) != 0) die("close timerfd: %s", strerror(errno));
}

int main(int argc, char **argv)
{
	uint64_t start, now;
	double elapsed, cpu_s;
	struct rusage ru;
	int rc;

	parse_options(argc, argv);
	rc = oath_init();
	if (rc != OATH_OK) die("oath_init: %s", oath_strerror(rc));
	crypto_init();
	load_users(O.users_file);
	if (O.state_file) load_state(O.state_file);
	random_bytes(addr_prefix, sizeof(addr_prefix));
	open_sockets();

	start = now_us();
	if (O.rate > 0) run_open_loop(start);
	else run_closed_loop(start);
	now = now_us();
	elapsed = (double)(now - start) / 1e6;
	if (getrusage(RUSAGE_SELF, &ru) != 0) die("getrusage: %s", strerror(errno));
	cpu_s = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
		ru.ru_stime.tv_usec / 1e6;
	if (elapsed <= 0) elapsed = 1e-6;

	if (O.state_file) save_state(O.state_file);
	samples_sort(&S.lat);
	samples_sort(&S.lat_sent);
	samples_sort(&S.lag);

	{
		uint64_t answered = S.accepts + S.challenges + S.rejects;
		double rps = (double)answered / elapsed, lps = (double)S.logins_ok / elapsed;
		double p50 = percentile_ms(&S.lat, 0.50), p90 = percentile_ms(&S.lat, 0.90);
		double p99 = percentile_ms(&S.lat, 0.99);
		double pmax = S.lat.n ? S.lat.us[S.lat.n - 1] / 1000.0 : 0.0;

		if (O.rate > 0) {
			fprintf(stderr,
				"%-24s %-11s offered %8.1f logins/s: %8.1f logins/s %9.1f req/s  p50 %6.2f p90 %6.2f"
				" p99 %6.2f max %7.2f ms from scheduled (p99 %.2f from sent, lag p99 %.2f)"
				"  accept %" PRIu64 " challenge %" PRIu64 " reject %" PRIu64 " timeout %" PRIu64
				" retransmit %" PRIu64 " overflow %" PRIu64 " no-user %" PRIu64 " peak %u outstanding%s\n",
				O.label, mode_name(O.mode), O.rate, lps, rps, p50, p90, p99, pmax,
				percentile_ms(&S.lat_sent, 0.99), percentile_ms(&S.lag, 0.99),
				S.accepts, S.challenges, S.rejects, S.timeouts, S.retransmits, S.overflow, S.no_user,
				S.peak_outstanding,
				S.overflow || S.no_user ? "  (INVALID: arrivals not sent)" : "");
		} else {
			fprintf(stderr,
			"%-24s %-11s %9.1f req/s %9.1f logins/s  p50 %6.2f p90 %6.2f p99 %6.2f max %7.2f ms"
			"  accept %" PRIu64 " challenge %" PRIu64 " reject %" PRIu64 " timeout %" PRIu64
			" retransmit %" PRIu64 "%s\n",
			O.label, mode_name(O.mode), rps, lps, p50, p90, p99, pmax,
			S.accepts, S.challenges, S.rejects, S.timeouts, S.retransmits,
			S.starved_us > 100000 ? "  (starved: not enough users with a fresh code)" : "");
		}
		if (O.json) {
			printf("{\"label\": ");
			json_string(stdout, O.label);
			printf(", \"mode\": \"%s\", \"server\": ", mode_name(O.mode));
			json_string(stdout, O.server_text);
			printf(", \"users\": %zu, \"inflight\": %u, \"sockets\": %u, \"timeout_ms\": %u, \"retries\": %u"
			       ", \"sent\": %" PRIu64 ", \"accepts\": %" PRIu64 ", \"challenges\": %" PRIu64
			       ", \"rejects\": %" PRIu64 ", \"timeouts\": %" PRIu64 ", \"retransmits\": %" PRIu64
			       ", \"bad_replies\": %" PRIu64 ", \"stale_replies\": %" PRIu64
			       ", \"reply_ma_missing\": %" PRIu64 ", \"logins_started\": %" PRIu64
			       ", \"logins_ok\": %" PRIu64 ", \"logins_failed\": %" PRIu64 ", \"unexpected\": %" PRIu64
			       ", \"starved_ms\": %.1f, \"requests_per_s\": %.1f, \"logins_per_s\": %.1f"
			       ", \"latency_ms\": {\"p50\": %.3f, \"p90\": %.3f, \"p99\": %.3f, \"max\": %.3f}"
			       ", \"elapsed\": %.3f, \"cpu_s\": %.3f",
			       n_users, O.inflight, O.sockets, O.timeout_ms, O.retries,
			       S.sent, S.accepts, S.challenges, S.rejects, S.timeouts, S.retransmits,
			       S.bad_replies, S.stale_replies, S.reply_ma_missing, S.logins_started,
			       S.logins_ok, S.logins_failed, S.unexpected, (double)S.starved_us / 1000.0,
			       rps, lps, p50, p90, p99, pmax, elapsed, cpu_s);
			if (O.rate > 0) {
				/* latency_ms above counts from the scheduled time; arrivals_per_s: the Poisson draw,
				 * over --duration (or the whole run with --count) */
				printf(", \"open_loop\": true, \"rate\": %.3f, \"seed\": %" PRIu64 ", \"arrivals\": %" PRIu64
				       ", \"arrivals_per_s\": %.1f, \"overflow\": %" PRIu64 ", \"no_user\": %" PRIu64
				       ", \"peak_outstanding\": %u, \"latency_sent_ms\": ",
				       O.rate, O.seed, S.arrivals, (double)S.arrivals / (O.duration > 0 ? O.duration : elapsed),
				       S.overflow, S.no_user, S.peak_outstanding);
				json_quantiles(stdout, &S.lat_sent);
				printf(", \"lag_ms\": ");
				json_quantiles(stdout, &S.lag);
			}
			printf("}\n");
			if (fflush(stdout) != 0 || ferror(stdout)) die("write error on stdout");
		}
	}

	OPENSSL_cleanse(users, n_users * sizeof(*users));
	free(users);
	free(login_index);
	free(S.lat.us);
	free(S.lat_sent.us);
	free(S.lag.us);
	free(socks);
	EVP_MD_CTX_free(C.work);
	EVP_MD_CTX_free(C.after_secret);
	EVP_MD_CTX_free(C.hmac_inner);
	EVP_MD_CTX_free(C.hmac_outer);
	EVP_MD_CTX_free(C.hmac_work);
	EVP_MD_free(C.md5);
	oath_done();
	return 0;
}
