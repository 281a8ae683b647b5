/*
 * address.c - normalise the client address a NAS reports into one
 * canonical text form (IPv4 dotted quad, RFC 5952 IPv6, or a lower-case
 * colon-separated MAC), so the same host always maps to the same
 * trusted-address row.  Anything that is not clearly one of these is
 * ADDR_INVALID.  The input comes from the network: every byte is checked,
 * lengths are explicit, nothing is assumed NUL-terminated.
 */
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "address.h"

static int hex_value(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

static addr_kind_t try_ipv4(char const *s, char out[ADDR_TEXT_MAX])
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1) return ADDR_INVALID;
	if (!inet_ntop(AF_INET, &a, out, ADDR_TEXT_MAX)) return ADDR_INVALID;
	return ADDR_IPV4;
}

static addr_kind_t try_ipv6(char const *s, char out[ADDR_TEXT_MAX])
{
	struct in6_addr a6;

	if (strchr(s, '%')) return ADDR_INVALID;	/* zone ids are local to a host */
	if (inet_pton(AF_INET6, s, &a6) != 1) return ADDR_INVALID;

	if (IN6_IS_ADDR_V4MAPPED(&a6)) {
		struct in_addr a;

		memcpy(&a.s_addr, &a6.s6_addr[12], 4);
		if (!inet_ntop(AF_INET, &a, out, ADDR_TEXT_MAX)) return ADDR_INVALID;
		return ADDR_IPV4;
	}
	/* glibc's inet_ntop writes RFC 5952 text, in lower case. */
	if (!inet_ntop(AF_INET6, &a6, out, ADDR_TEXT_MAX)) return ADDR_INVALID;
	return ADDR_IPV6;
}

/*
 * A MAC address as 'groups' groups of 'width' hex digits joined by 'sep'
 * (sep 0: no separator).  Fills the 12 nibbles in order.
 */
static int parse_mac_groups(char const *s, size_t len, size_t groups, size_t width, char sep,
			    int nibble[12])
{
	size_t expect = groups * width + (sep ? groups - 1 : 0);
	size_t i, n = 0;

	if (len != expect) return -1;
	for (i = 0; i < len; i++) {
		size_t pos_in_group = sep ? i % (width + 1) : 0;

		if (sep && pos_in_group == width) {
			if (s[i] != sep) return -1;
			continue;
		}
		nibble[n] = hex_value(s[i]);
		if (nibble[n] < 0) return -1;
		n++;
	}
	return n == 12 ? 0 : -1;
}

static addr_kind_t try_mac(char const *s, size_t len, char out[ADDR_TEXT_MAX])
{
	static char const HEX[] = "0123456789abcdef";
	int nibble[12];
	size_t i, o = 0;

	if (parse_mac_groups(s, len, 6, 2, ':', nibble) != 0 &&
	    parse_mac_groups(s, len, 6, 2, '-', nibble) != 0 &&
	    parse_mac_groups(s, len, 3, 4, '.', nibble) != 0 &&
	    parse_mac_groups(s, len, 1, 12, 0, nibble) != 0)
		return ADDR_INVALID;

	for (i = 0; i < 6; i++) {
		if (i > 0) out[o++] = ':';
		out[o++] = HEX[nibble[2 * i]];
		out[o++] = HEX[nibble[2 * i + 1]];
	}
	out[o] = '\0';
	return ADDR_MAC;
}

addr_kind_t addr_normalise(char const *in, size_t inlen, char out[ADDR_TEXT_MAX])
{
	char buf[ADDR_INPUT_MAX + 1];
	size_t start = 0, end = inlen, len;
	addr_kind_t kind;

	if (!out) return ADDR_INVALID;
	out[0] = '\0';
	if (!in || inlen == 0 || inlen > ADDR_INPUT_MAX) return ADDR_INVALID;
	if (memchr(in, '\0', inlen)) return ADDR_INVALID;

	while (start < end && in[start] == ' ') start++;
	while (end > start && in[end - 1] == ' ') end--;
	len = end - start;
	if (len == 0) return ADDR_INVALID;

	memcpy(buf, in + start, len);
	buf[len] = '\0';

	if (buf[0] == '[') {
		/* "[v6]" only: the brackets may not hold plain IPv4, a MAC or a port. */
		if (len < 3 || buf[len - 1] != ']') return ADDR_INVALID;
		buf[len - 1] = '\0';
		kind = try_ipv6(buf + 1, out);	/* IPv6, or IPv4 if v4-mapped */
		if (kind == ADDR_INVALID) goto invalid;
		return kind;
	}

	kind = try_ipv4(buf, out);
	if (kind != ADDR_INVALID) return kind;
	kind = try_ipv6(buf, out);
	if (kind != ADDR_INVALID) return kind;
	kind = try_mac(buf, len, out);
	if (kind != ADDR_INVALID) return kind;

invalid:
	out[0] = '\0';
	return ADDR_INVALID;
}

char const *addr_kind_name(addr_kind_t kind)
{
	switch (kind) {
	case ADDR_IPV4: return "ipv4";
	case ADDR_IPV6: return "ipv6";
	case ADDR_MAC: return "mac";
	case ADDR_INVALID: break;
	}
	return "invalid";
}

char const *addr_trust_refusal(addr_kind_t kind, char const *normalised)
{
	struct in_addr a;
	struct in6_addr a6;
	uint32_t v4;
	int first;

	if (!normalised) return "no address";
	switch (kind) {
	case ADDR_IPV4:
		if (inet_pton(AF_INET, normalised, &a) != 1) return "not an address";
		v4 = ntohl(a.s_addr);
		if ((v4 >> 24) == 0) return "unspecified (0.0.0.0/8)";
		if ((v4 >> 24) == 127) return "loopback";
		if ((v4 >> 28) == 0xe) return "multicast";
		if ((v4 >> 28) == 0xf) return "reserved or broadcast";
		return NULL;

	case ADDR_IPV6:
		if (inet_pton(AF_INET6, normalised, &a6) != 1) return "not an address";
		if (IN6_IS_ADDR_UNSPECIFIED(&a6)) return "unspecified (::)";
		if (IN6_IS_ADDR_LOOPBACK(&a6)) return "loopback";
		if (IN6_IS_ADDR_MULTICAST(&a6)) return "multicast";
		return NULL;

	case ADDR_MAC:
		if (strcmp(normalised, "00:00:00:00:00:00") == 0) return "all-zero MAC";
		if (hex_value(normalised[0]) < 0 || hex_value(normalised[1]) < 0) return "not an address";
		first = hex_value(normalised[0]) * 16 + hex_value(normalised[1]);
		if (first & 1) return "group (multicast or broadcast) MAC";
		return NULL;

	case ADDR_INVALID:
		break;
	}
	return "not an address";
}
