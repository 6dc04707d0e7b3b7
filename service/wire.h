/* SPDX-License-Identifier: MIT */
/*
 * Bounds-checked reads from untrusted bytes (STYLE.md rule 10), in the manner
 * of tcpdump's GET_BE_U_2: a cursor is a (pointer, length) pair, and every
 * getter takes an offset into it, checks that offset + size lies inside
 * without overflowing, converts from network byte order and returns false
 * instead of reading past the end. The frame parser (parse.c) is the caller.
 * Nothing here allocates, keeps state or casts packet bytes to a struct.
 * At the end, the two stores of network byte order into headers a caller
 * has already checked and sized (gso.c and coalesce.c rewrite them).
 */
#ifndef PAIRD_WIRE_H
#define PAIRD_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct cursor {
	const uint8_t *p;
	size_t len;
};

/* A cursor over @len bytes at @p; a NULL @p gives an empty cursor. */
static inline struct cursor cur_init(const uint8_t *p, size_t len)
{
	struct cursor c = { .p = p, .len = p ? len : 0 };

	return c;
}

/* True when the @n bytes at @off lie inside @c. Written so that it cannot overflow. */
static inline bool cur_has(const struct cursor *c, size_t off, size_t n)
{
	return off <= c->len && n <= c->len - off;
}

static inline bool cur_u8(const struct cursor *c, size_t off, uint8_t *v)
{
	if (!cur_has(c, off, 1))
		return false;
	*v = c->p[off];
	return true;
}

static inline bool cur_be16(const struct cursor *c, size_t off, uint16_t *v)
{
	if (!cur_has(c, off, 2))
		return false;
	*v = (uint16_t)((unsigned int)c->p[off] << 8 | c->p[off + 1]);
	return true;
}

static inline bool cur_be32(const struct cursor *c, size_t off, uint32_t *v)
{
	if (!cur_has(c, off, 4))
		return false;
	*v = (uint32_t)c->p[off] << 24 | (uint32_t)c->p[off + 1] << 16 |
	     (uint32_t)c->p[off + 2] << 8 | c->p[off + 3];
	return true;
}

/*
 * A 16-bit field in host byte order. Only for the kernel's own headers that
 * are not wire formats, such as the flags of struct tun_pi (linux/if_tun.h).
 */
static inline bool cur_he16(const struct cursor *c, size_t off, uint16_t *v)
{
	if (!cur_has(c, off, 2))
		return false;
	memcpy(v, c->p + off, 2);
	return true;
}

/* Copies @n bytes at @off to @dst. */
static inline bool cur_bytes(const struct cursor *c, size_t off, void *dst, size_t n)
{
	if (!cur_has(c, off, n))
		return false;
	if (n)
		memcpy(dst, c->p + off, n);
	return true;
}

/* Sets @sub to the @n bytes at @off of @c; @sub may be @c itself. */
static inline bool cur_sub(const struct cursor *c, size_t off, size_t n, struct cursor *sub)
{
	if (!cur_has(c, off, n))
		return false;
	/*
	 * Not even NULL + 0: UBSan reports it in C. A NULL p has len 0, so off
	 * is 0 then; testing off rather than p keeps the analyzer from
	 * supposing a NULL p with bytes behind it.
	 */
	sub->p = off ? c->p + off : c->p;
	sub->len = n;
	return true;
}

/* Sets @sub to everything from @off to the end of @c. */
static inline bool cur_tail(const struct cursor *c, size_t off, struct cursor *sub)
{
	if (off > c->len)
		return false;
	return cur_sub(c, off, c->len - off, sub);
}

/* Stores @v at @p in network byte order; @p's 2 (4) bytes are the caller's to write. */
static inline void wire_put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void wire_put32(uint8_t *p, uint32_t v)
{
	wire_put16(p, v >> 16);
	wire_put16(p + 2, v & 0xffff);
}

#endif
