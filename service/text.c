// SPDX-License-Identifier: MIT
/*
 * UTF-8 validation and escaping of untrusted text for the log and for JSON
 * strings. Table-free: the ranges of RFC 3629 section 4 are spelled out in
 * text_utf8_seq(), which is all the decoding paird needs.
 */
#include "text.h"

static bool cont(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

size_t text_utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	/* 0x80..0xc1: a continuation byte or an overlong two-byte lead. */
	if (c < 0xc2 || c > 0xf4)
		return 0;
	if (c < 0xe0)
		return n >= 2 && cont(s[1]) ? 2 : 0;
	if (c < 0xf0) {
		if (n < 3 || !cont(s[1]) || !cont(s[2]))
			return 0;
		/* E0 A0..BF: no overlongs; ED 80..9F: no UTF-16 surrogates. */
		if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f))
			return 0;
		return 3;
	}
	if (n < 4 || !cont(s[1]) || !cont(s[2]) || !cont(s[3]))
		return 0;
	/* F0 90..BF: no overlongs; F4 80..8F: nothing above U+10FFFF. */
	if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
		return 0;
	return 4;
}

bool text_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	while (n) {
		size_t k = p[0] ? text_utf8_seq(p, n) : 0;

		if (!k)
			return false;
		p += k;
		n -= k;
	}
	return true;
}

/* Appends @k bytes at @from unless that leaves no room for the NUL. */
static bool put(char *dst, size_t size, size_t *at, const void *from, size_t k)
{
	const char *b = from;

	if (*at + k >= size)
		return false;
	for (size_t i = 0; i < k; i++)
		dst[(*at)++] = b[i];
	return true;
}

static bool put_hex(char *dst, size_t size, size_t *at, const unsigned char *s, size_t k)
{
	static const char digits[] = "0123456789abcdef";

	if (*at + 4 * k >= size)
		return false;
	for (size_t i = 0; i < k; i++) {
		char e[4] = { '\\', 'x', digits[s[i] >> 4], digits[s[i] & 15] };

		put(dst, size, at, e, 4);
	}
	return true;
}

size_t text_escape(char *dst, size_t size, const char *src, size_t len, unsigned flags)
{
	const unsigned char *s = (const unsigned char *)src;
	bool ctl = flags & TEXT_ESC_CONTROL;
	size_t at = 0;

	while (len) {
		size_t k = s[0] ? text_utf8_seq(s, len) : 0;
		bool ok;

		if (!k) {
			ok = put_hex(dst, size, &at, s, 1);
			k = 1;
		} else if (ctl && k == 1 && (s[0] < 0x20 || s[0] == 0x7f)) {
			ok = put_hex(dst, size, &at, s, 1);
		} else if (ctl && k == 2 && s[0] == 0xc2 && s[1] < 0xa0) {
			/* C1 controls: a terminal takes U+009B as CSI. */
			ok = put_hex(dst, size, &at, s, 2);
		} else if (ctl && s[0] == '\\') {
			/* So that "\x0a" in the log always means an escaped byte. */
			ok = put(dst, size, &at, "\\\\", 2);
		} else {
			ok = put(dst, size, &at, s, k);
		}
		if (!ok)
			break;
		s += k;
		len -= k;
	}
	dst[at] = '\0';
	return at;
}
