/*
 * address.h - normalise the client address a NAS reports (Calling-Station-Id
 * or another attribute) into one canonical text form, so that the same
 * device or host always maps to the same trusted-address row.
 *
 *   IPv4                  "192.0.2.1"
 *   IPv6                  canonical RFC 5952 text ("2001:db8::1"), lower case
 *   IPv4-mapped IPv6      becomes IPv4 ("::ffff:192.0.2.1" -> "192.0.2.1")
 *   MAC (Wi-Fi)           "aa:bb:cc:dd:ee:ff" whatever the input separators
 *                         (':' '-' '.' or none; Cisco "aabb.ccdd.eeff")
 *
 * Anything else (empty, overlong, NUL bytes, zone ids, garbage) is
 * ADDR_INVALID and must never be trusted.  No FreeRADIUS or MySQL here.
 */
#ifndef VRMS2FA_ADDRESS_H
#define VRMS2FA_ADDRESS_H

#include <stddef.h>

#define ADDR_TEXT_MAX 64	/* room for any canonical form plus NUL */
#define ADDR_INPUT_MAX 128	/* longer inputs are invalid */

typedef enum {
	ADDR_INVALID = 0,
	ADDR_IPV4,
	ADDR_IPV6,
	ADDR_MAC
} addr_kind_t;

/*
 * Normalise 'in' (inlen bytes, not NUL-terminated, may contain anything).
 * Leading and trailing ASCII spaces are ignored; IPv6 may be in [brackets].
 * On success writes the canonical text to 'out' and returns its kind; on
 * failure writes "" to 'out' and returns ADDR_INVALID.
 */
addr_kind_t addr_normalise(char const *in, size_t inlen, char out[ADDR_TEXT_MAX]);

char const *addr_kind_name(addr_kind_t kind);	/* "ipv4", "ipv6", "mac", "invalid" */

/*
 * Why a normalised address cannot be a trust key, or NULL when it can.
 * Placeholders and addresses that name no single device are refused: a NAS
 * or backend that sends one would make one proof count for every later
 * login that sends the same placeholder.
 *   IPv4: 0.0.0.0/8, 127.0.0.0/8, 224.0.0.0/4 (multicast), 240.0.0.0/4
 *         (reserved, broadcast included)
 *   IPv6: ::, ::1, ff00::/8 (multicast)
 *   MAC:  00:00:00:00:00:00, group addresses (first octet's low bit set,
 *         broadcast ff:ff:ff:ff:ff:ff included)
 * kind and text as addr_normalise() returned them; ADDR_INVALID is refused.
 */
char const *addr_trust_refusal(addr_kind_t kind, char const *normalised);

#endif
