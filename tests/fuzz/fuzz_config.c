/*
 * fuzz_config.c - feeds configuration values (the module's configuration
 * file, the admin tool's command line, the database) to the core's
 * parsers of names and numbers: totp_algo_parse, policy_group_parse, policy_level_parse,
 * policy_group_mask_parse (each on the input up to its first NUL) and, from the
 * first 12 bytes, lockout_config_check and totp_params_valid.
 *
 * Checks: no crash or UB, no read past the string; every parser agrees
 * with a reference written here (case-insensitive algorithm names; exact
 * group and level names; a comma list of distinct group names with spaces
 * around them, or only spaces for the empty mask), its result formats
 * back to the same name or mask, and a failure leaves the output alone;
 * a lockout configuration that passes the check gives durations between
 * base_seconds and max_seconds that never shrink, and one that fails gets
 * the fail-closed answers.
 */
#include <strings.h>

#include "fuzz_util.h"
#include "lockout.h"
#include "policy.h"
#include "totp.h"

static char const *const GROUPS[GROUP_COUNT] = { "administrator", "company_user", "owner", "supplier" };

static int ref_group(char const *s, size_t len)
{
	int i;

	for (i = 0; i < GROUP_COUNT; i++) {
		if (strlen(GROUPS[i]) == len && memcmp(GROUPS[i], s, len) == 0) return i;
	}
	return -1;
}

/* Split at ',' and trim spaces; every element a distinct group name. */
static int ref_mask(char const *s, unsigned *mask)
{
	size_t len = strlen(s), i = 0;
	unsigned m = 0;

	while (i < len && s[i] == ' ') i++;
	if (i == len) {
		*mask = 0;
		return 0;
	}
	i = 0;
	for (;;) {
		size_t start = i, end;
		int g;

		while (i < len && s[i] != ',') i++;
		end = i;
		while (start < end && s[start] == ' ') start++;
		while (end > start && s[end - 1] == ' ') end--;
		g = ref_group(s + start, end - start);
		if (g < 0 || (m & (1u << g))) return -1;
		m |= 1u << g;
		if (i == len) break;
		i++;
	}
	*mask = m;
	return 0;
}

static uint32_t u32(uint8_t const *p)
{
	return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static void check_lockout(uint8_t const *data, size_t size)
{
	lockout_config_t cfg;
	char const *why = "unset";
	uint32_t prev, d, last = 0;
	bool ok;

	if (size < 12) return;
	/* small values are the interesting ones: use the low bits most of the time */
	cfg.max_failures = u32(data) % (data[0] & 0x80 ? 0xffffffffu : 128u);
	cfg.base_seconds = u32(data + 4) % (data[4] & 0x80 ? 0xffffffffu : 4096u);
	cfg.max_seconds = u32(data + 8) % (data[8] & 0x80 ? 0xffffffffu : 1u << 20);
	/* the name's threshold: at or a little above the pair's most of the time, anything now and then */
	cfg.name_max_failures = data[1] & 0x80 ? u32(data + 1) : cfg.max_failures + (uint32_t) (data[3] % 64u);
	cfg.reset_after_seconds = u32(data + 5);
	ok = cfg.max_failures >= 1 && cfg.max_failures <= 100 && cfg.base_seconds >= 1 &&
	     cfg.max_seconds >= cfg.base_seconds &&
	     cfg.name_max_failures >= cfg.max_failures && cfg.name_max_failures <= 100;

	FUZZ_CHECK(lockout_config_check(&cfg, &why) == (ok ? 0 : -1));
	FUZZ_CHECK(ok ? why == NULL : (why != NULL && *why != '\0'));
	if (!ok) {
		FUZZ_CHECK(lockout_should_lock(&cfg, LOCKOUT_PAIR, 0));
		FUZZ_CHECK(lockout_should_lock(&cfg, LOCKOUT_NAME, 0));
		FUZZ_CHECK(lockout_duration(&cfg, 0) == LOCKOUT_DEFAULT_CONFIG.max_seconds);
		return;
	}
	FUZZ_CHECK(!lockout_should_lock(&cfg, LOCKOUT_PAIR, cfg.max_failures - 1));
	FUZZ_CHECK(lockout_should_lock(&cfg, LOCKOUT_PAIR, cfg.max_failures));
	FUZZ_CHECK(lockout_should_lock(&cfg, LOCKOUT_PAIR, UINT32_MAX));
	FUZZ_CHECK(!lockout_should_lock(&cfg, LOCKOUT_NAME, cfg.name_max_failures - 1));
	FUZZ_CHECK(lockout_should_lock(&cfg, LOCKOUT_NAME, cfg.name_max_failures));
	for (prev = 0; prev < 40; prev++) {
		d = lockout_duration(&cfg, prev);
		FUZZ_CHECK(d >= cfg.base_seconds && d <= cfg.max_seconds);
		FUZZ_CHECK(d >= last);
		last = d;
	}
	FUZZ_CHECK(lockout_duration(&cfg, UINT32_MAX) == cfg.max_seconds);
}

static void check_totp_params(uint8_t const *data, size_t size)
{
	totp_params_t p;
	bool ok;

	if (size < 12) return;
	p.algo = (totp_algo_t) (u32(data) % 5);
	p.digits = u32(data + 4) % 12;
	p.period = u32(data + 8) % (data[8] & 0x80 ? 0xffffffffu : 400u);
	ok = p.algo <= TOTP_SHA512 && p.digits >= 6 && p.digits <= 8 && p.period >= 1 && p.period <= 300;
	FUZZ_CHECK(totp_params_valid(&p) == ok);
	if (ok) FUZZ_CHECK(totp_counter_at(&p, (time_t) 1700000000) == 1700000000u / p.period);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_strndup(data, size);
	totp_algo_t algo = (totp_algo_t) 77;
	user_group_t group = (user_group_t) 77;
	security_level_t level = (security_level_t) 77;
	unsigned mask = 77, ref, again = 0;
	char fmt[128];
	int rc, rrc;

	/* Algorithm: case-insensitive names, round trip through the canonical name. */
	rc = totp_algo_parse(s, &algo);
	FUZZ_CHECK(rc == ((strcasecmp(s, "SHA1") == 0 || strcasecmp(s, "SHA256") == 0 ||
			   strcasecmp(s, "SHA512") == 0) ? 0 : -1));
	if (rc == 0) {
		FUZZ_CHECK(strcasecmp(totp_algo_name(algo), s) == 0);
	} else {
		FUZZ_CHECK(algo == (totp_algo_t) 77);
	}

	/* Group and level: exact names. */
	rc = policy_group_parse(s, &group);
	FUZZ_CHECK(rc == (ref_group(s, strlen(s)) >= 0 ? 0 : -1));
	if (rc == 0) {
		FUZZ_CHECK(strcmp(policy_group_name(group), s) == 0);
	} else {
		FUZZ_CHECK(group == (user_group_t) 77);
	}
	rc = policy_level_parse(s, &level);
	FUZZ_CHECK(rc == ((strcmp(s, "low") == 0 || strcmp(s, "high") == 0) ? 0 : -1));
	if (rc == 0) {
		FUZZ_CHECK(strcmp(policy_level_name(level), s) == 0);
	} else {
		FUZZ_CHECK(level == (security_level_t) 77);
	}

	/* Group lists: agree with the reference; format and parse again. */
	rc = policy_group_mask_parse(s, &mask);
	rrc = ref_mask(s, &ref);
	FUZZ_CHECK(rc == rrc);
	if (rc == 0) {
		FUZZ_CHECK(mask == ref && (mask & ~GROUP_MASK_ALL) == 0);
		FUZZ_CHECK(policy_group_mask_format(mask, fmt, sizeof(fmt)) == 0);
		FUZZ_CHECK(policy_group_mask_parse(fmt, &again) == 0 && again == mask);
	} else {
		FUZZ_CHECK(mask == 77);
	}

	check_lockout(data, size);
	check_totp_params(data, size);
	free(s);
	return 0;
}
