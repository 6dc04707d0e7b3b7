// SPDX-License-Identifier: MIT
/*
 * RFC 1071 checksum over byte strings, summed as native words and turned
 * to network order once (no host struct or alignment is ever assumed),
 * with the odd final byte padded with zero.
 */
#include "csum.h"

#include <arpa/inet.h>
#include <string.h>

uint32_t csum_add(uint32_t sum, const uint8_t *data, size_t len)
{
	uint64_t acc = 0, carries = 0, w;
	uint32_t v;

	/*
	 * RFC 1071 2(B): the one's-complement sum does not depend on byte
	 * order. Sum the bytes as native 64-bit words (copied, so nothing is
	 * assumed of alignment), keeping the carries out of the top apart,
	 * fold to 16 bits, and put that one result in network order: about
	 * two instructions per 8 bytes, four words per turn (the per-frame
	 * cost of verifying a UDP checksum, issue 11). An odd last byte is
	 * the high byte of a zero-padded 16-bit word (RFC 1071 4.1).
	 */
	for (; len >= 32; data += 32, len -= 32) {
		/* Four copies, not one of 32 bytes: that one goes through the stack. */
		uint64_t x0, x1, x2, x3;

		memcpy(&x0, data, 8);
		memcpy(&x1, data + 8, 8);
		memcpy(&x2, data + 16, 8);
		memcpy(&x3, data + 24, 8);
		acc += x0;
		carries += acc < x0;
		acc += x1;
		carries += acc < x1;
		acc += x2;
		carries += acc < x2;
		acc += x3;
		carries += acc < x3;
	}
	for (; len >= 8; data += 8, len -= 8) {
		memcpy(&w, data, 8);
		acc += w;
		carries += acc < w;
	}
	/* Native 32- and 16-bit words: the same byte positions as in a 64-bit one. */
	w = 0;
	if (len & 4) {
		uint32_t v4;

		memcpy(&v4, data, 4);
		w += v4;
		data += 4;
	}
	if (len & 2) {
		uint16_t v2;

		memcpy(&v2, data, 2);
		w += v2;
		data += 2;
	}
	if (len & 1) {
		uint8_t pad[2] = { data[0], 0 };
		uint16_t v2;

		memcpy(&v2, pad, 2);
		w += v2;
	}
	acc += w;
	carries += acc < w;
	/*
	 * 2^64 and 2^32 are 1 modulo 0xffff: fold to 32 bits with end-around
	 * carries. Swapping the bytes of the 32-bit result swaps those of both
	 * its 16-bit halves (and the halves, which does not change their sum):
	 * network order without folding to 16 bits first; csum_fold() ends it.
	 */
	acc += carries;
	carries = acc < carries;
	acc += carries;
	acc = (acc & 0xffffffffu) + (acc >> 32);
	v = ntohl((uint32_t)acc + (uint32_t)(acc >> 32));
	acc = (uint64_t)sum + v;
	return (uint32_t)((acc & 0xffffffffu) + (acc >> 32));
}

uint32_t csum_pseudo6(const uint8_t src[16], const uint8_t dst[16], uint8_t next_header,
		      uint32_t len)
{
	uint32_t s = csum_add(0, src, 16);

	s = csum_add(s, dst, 16);
	return s + (len >> 16) + (len & 0xffff) + next_header;
}
