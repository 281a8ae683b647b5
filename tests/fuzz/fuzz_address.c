/*
 * fuzz_address.c - feeds arbitrary bytes to addr_normalise, as a NAS would
 * send them in Calling-Station-Id.
 *
 * Checks: no crash or UB; the output is NUL-terminated inside
 * ADDR_TEXT_MAX; it is "" exactly when the kind is ADDR_INVALID; it is
 * printable ASCII of the kind's alphabet (IPv4 digits and dots, IPv6
 * lower-case hex, ':' and '.', MAC "xx:xx:xx:xx:xx:xx" in lower case); and
 * normalising is idempotent: the output normalised again gives the same
 * text and kind (and for IPv6 so does the output in [brackets]); and the
 * output is the same address as the input (the same bits by inet_pton,
 * v4-mapped IPv6 as its IPv4; the MAC's hex digits in the same order).
 */
#include <arpa/inet.h>
#include <ctype.h>

#include "fuzz_util.h"
#include "address.h"

/*
 * Same address as the input: the MAC's hex digits in the same order, or
 * the same bits for IPv4/IPv6 (inet_pton of the trimmed, unbracketed input).
 */
static void check_same_address(addr_kind_t kind, char const *in, size_t size, char const *out)
{
	char buf[ADDR_INPUT_MAX + 1];
	size_t start = 0, end = size, len, i, n = 0;
	unsigned char a[16], b[16];

	while (start < end && in[start] == ' ') start++;
	while (end > start && in[end - 1] == ' ') end--;
	len = end - start;
	FUZZ_CHECK(len > 0 && len <= ADDR_INPUT_MAX);
	memcpy(buf, in + start, len);
	buf[len] = '\0';

	if (kind == ADDR_MAC) {
		for (i = 0; i < len; i++) {
			if (!isxdigit((unsigned char) buf[i])) continue;
			FUZZ_CHECK(n < 17);
			if (n % 3 == 2) n++;	/* the ':' in the output */
			FUZZ_CHECK(tolower((unsigned char) buf[i]) == out[n]);
			n++;
		}
		FUZZ_CHECK(n == 17);
		return;
	}
	if (buf[0] == '[') {
		FUZZ_CHECK(len >= 3 && buf[len - 1] == ']');
		buf[len - 1] = '\0';
		memmove(buf, buf + 1, len - 1);
	}
	if (kind == ADDR_IPV4 && inet_pton(AF_INET, buf, a) == 1) {
		FUZZ_CHECK(inet_pton(AF_INET, out, b) == 1 && memcmp(a, b, 4) == 0);
		return;
	}
	FUZZ_CHECK(inet_pton(AF_INET6, buf, a) == 1);
	if (kind == ADDR_IPV4) {
		/* v4-mapped: ::ffff:a.b.c.d */
		static unsigned char const MAPPED[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

		FUZZ_CHECK(memcmp(a, MAPPED, 12) == 0);
		FUZZ_CHECK(inet_pton(AF_INET, out, b) == 1 && memcmp(a + 12, b, 4) == 0);
	} else {
		FUZZ_CHECK(inet_pton(AF_INET6, out, b) == 1 && memcmp(a, b, 16) == 0);
	}
}

static void check_alphabet(addr_kind_t kind, char const *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		char c = s[i];

		switch (kind) {
		case ADDR_IPV4:
			FUZZ_CHECK((c >= '0' && c <= '9') || c == '.');
			break;
		case ADDR_IPV6:
			FUZZ_CHECK((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == ':' || c == '.');
			break;
		case ADDR_MAC:
			if (i % 3 == 2) {
				FUZZ_CHECK(c == ':');
			} else {
				FUZZ_CHECK((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
			}
			break;
		case ADDR_INVALID:
			FUZZ_CHECK(0);
			break;
		}
	}
	if (kind == ADDR_MAC) FUZZ_CHECK(len == 17);
	if (kind == ADDR_IPV6) FUZZ_CHECK(memchr(s, ':', len) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = (char *) fuzz_memdup(data, size);
	char out[ADDR_TEXT_MAX], again[ADDR_TEXT_MAX], bracketed[ADDR_TEXT_MAX + 2];
	addr_kind_t kind, kind2;
	char const *name;
	size_t len;

	memset(out, 'X', sizeof(out));
	kind = addr_normalise(in, size, out);
	FUZZ_CHECK(kind == ADDR_INVALID || kind == ADDR_IPV4 || kind == ADDR_IPV6 || kind == ADDR_MAC);
	FUZZ_CHECK(memchr(out, '\0', ADDR_TEXT_MAX) != NULL);
	len = strlen(out);
	FUZZ_CHECK(len < ADDR_TEXT_MAX);
	name = addr_kind_name(kind);
	FUZZ_CHECK(name != NULL && *name != '\0');

	if (kind == ADDR_INVALID) {
		FUZZ_CHECK(len == 0);
		free(in);
		return 0;
	}
	FUZZ_CHECK(len > 0);
	check_alphabet(kind, out, len);
	check_same_address(kind, in, size, out);

	memset(again, 'Y', sizeof(again));
	kind2 = addr_normalise(out, len, again);
	FUZZ_CHECK(kind2 == kind);
	FUZZ_CHECK(strcmp(again, out) == 0);

	if (kind == ADDR_IPV6) {
		bracketed[0] = '[';
		memcpy(bracketed + 1, out, len);
		bracketed[len + 1] = ']';
		kind2 = addr_normalise(bracketed, len + 2, again);
		FUZZ_CHECK(kind2 == ADDR_IPV6);
		FUZZ_CHECK(strcmp(again, out) == 0);
	}
	free(in);
	return 0;
}
