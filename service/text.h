/* SPDX-License-Identifier: MIT */
/*
 * Untrusted text made safe to show: a strict UTF-8 check (RFC 3629) and an
 * escaper that writes every ill-formed byte as "\xNN", optionally control
 * characters too. The log (log.c) escapes every line with it, so a URL
 * with "%0a" cannot forge a log line; the API (api/reply.c) uses it so a
 * JSON string built from a request (a problem's detail, its instance) is
 * always valid UTF-8, which jansson requires.
 */
#ifndef PAIRD_TEXT_H
#define PAIRD_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Escape control characters (C0, DEL, C1) and the backslash as well. */
#define TEXT_ESC_CONTROL 1u

/*
 * Length (1..4) of the well-formed UTF-8 sequence starting at @s, which
 * has @n > 0 bytes; 0 when ill-formed: a stray continuation byte, a
 * truncated sequence, an overlong form, a surrogate, above U+10FFFF.
 */
size_t text_utf8_seq(const unsigned char *s, size_t n);

/* True when the @n bytes at @s are well-formed UTF-8 with no NUL. */
bool text_utf8_valid(const char *s, size_t n);

/*
 * Copies the @len bytes at @src into @dst (@size > 0 bytes, always
 * NUL-terminated), writing each ill-formed UTF-8 byte (and a NUL) as
 * "\xNN"; with TEXT_ESC_CONTROL also bytes < 0x20, 0x7f and the C1 range
 * U+0080..U+009F as "\xNN" per byte and "\" as "\\", so the result is one
 * printable line. What does not fit is cut at a character or escape
 * boundary. Returns the length written, without the NUL.
 */
size_t text_escape(char *dst, size_t size, const char *src, size_t len, unsigned flags);

#endif
