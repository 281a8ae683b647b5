/*
 * otpauth.c - the otpauth:// URI that authenticator apps read from a QR
 * code (Google's Key-Uri-Format), and the key grouped for typing by hand.
 *
 *   otpauth://totp/ISSUER:ACCOUNT?secret=B32&issuer=ISSUER&algorithm=SHA1&digits=6&period=30
 *
 * Label parts and the issuer parameter are percent-encoded: only RFC 3986
 * unreserved characters pass through (so '@' becomes %40, ' ' %20).  The
 * colon between issuer and account is literal.  The secret is base32
 * without padding.  Every write is bounded by the caller's buffer.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "base32.h"
#include "otpauth.h"
#include "text.h"

#define OTPAUTH_NAME_MAX 256	/* bytes, for issuer and account each */

/* A bounded string being built into the caller's buffer. */
typedef struct {
	char	*buf;
	size_t	cap;
	size_t	len;
	int	overflow;
} strbuf_t;

static void sb_putc(strbuf_t *sb, char c)
{
	if (sb->overflow || sb->len + 1 >= sb->cap) {
		sb->overflow = 1;
		return;
	}
	sb->buf[sb->len++] = c;
	sb->buf[sb->len] = '\0';
}

static void sb_puts(strbuf_t *sb, char const *s)
{
	while (*s) sb_putc(sb, *s++);
}

static int is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

static void sb_put_encoded(strbuf_t *sb, char const *s)
{
	static char const HEX[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char) *s;

		if (is_unreserved(c)) {
			sb_putc(sb, (char) c);
		} else {
			sb_putc(sb, '%');
			sb_putc(sb, HEX[c >> 4]);
			sb_putc(sb, HEX[c & 0x0f]);
		}
	}
}

/* Issuer and account: non-empty clean UTF-8 without ':' (it splits the label). */
static int name_ok(char const *s)
{
	size_t len;

	if (!s) return 0;
	len = strnlen(s, OTPAUTH_NAME_MAX + 1);
	if (len == 0 || len > OTPAUTH_NAME_MAX) return 0;
	if (memchr(s, ':', len)) return 0;
	return text_is_clean_utf8((uint8_t const *) s, len);
}

static int fail(char *out, size_t outlen)
{
	if (out && outlen > 0) {
		OPENSSL_cleanse(out, outlen);
		out[0] = '\0';
	}
	return -1;
}

int otpauth_uri(char const *issuer, char const *account, totp_params_t const *params,
		uint8_t const *secret, size_t secret_len, char *out, size_t outlen)
{
	char b32[OTPAUTH_URI_MAX];
	char num[32];
	strbuf_t sb;
	int n;

	if (!out || outlen == 0) return -1;
	out[0] = '\0';
	if (!name_ok(issuer) || !name_ok(account) || !totp_params_valid(params)) return -1;
	if (!secret || secret_len == 0) return -1;
	if (base32_encode(secret, secret_len, b32, sizeof(b32)) != 0) return -1;

	sb = (strbuf_t){ .buf = out, .cap = outlen, .len = 0, .overflow = 0 };
	sb_puts(&sb, "otpauth://totp/");
	sb_put_encoded(&sb, issuer);
	sb_putc(&sb, ':');
	sb_put_encoded(&sb, account);
	sb_puts(&sb, "?secret=");
	sb_puts(&sb, b32);
	OPENSSL_cleanse(b32, sizeof(b32));
	sb_puts(&sb, "&issuer=");
	sb_put_encoded(&sb, issuer);
	sb_puts(&sb, "&algorithm=");
	sb_puts(&sb, totp_algo_name(params->algo));

	n = snprintf(num, sizeof(num), "&digits=%u&period=%u", params->digits, params->period);
	if (n < 0 || (size_t) n >= sizeof(num)) return fail(out, outlen);
	sb_puts(&sb, num);

	if (sb.overflow) return fail(out, outlen);
	return 0;
}

int otpauth_key_grouped(uint8_t const *secret, size_t secret_len, char *out, size_t outlen)
{
	char b32[OTPAUTH_URI_MAX];
	size_t i, n;
	strbuf_t sb;

	if (!out || outlen == 0) return -1;
	out[0] = '\0';
	if (!secret || secret_len == 0) return -1;
	if (base32_encode(secret, secret_len, b32, sizeof(b32)) != 0) return -1;

	sb = (strbuf_t){ .buf = out, .cap = outlen, .len = 0, .overflow = 0 };
	n = strlen(b32);
	for (i = 0; i < n; i++) {
		if (i > 0 && i % 4 == 0) sb_putc(&sb, ' ');
		sb_putc(&sb, b32[i]);
	}
	OPENSSL_cleanse(b32, sizeof(b32));
	if (sb.overflow) return fail(out, outlen);
	return 0;
}
