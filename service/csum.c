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
	uint64_t acc = 0;
	uint16_t half;
	uint32_t v;

	/*
	 * RFC 1071 2(B): the one's-complement sum does not depend on byte
	 * order. Sum the bytes as native 32-bit words (copied, so nothing is
	 * assumed of alignment), fold to 16 bits, and put that one result in
	 * network order: a few instructions per 8 bytes instead of a load, a
	 * shift and an add per 2 (the per-frame cost of verifying a UDP
	 * checksum over a 1400-byte payload).
	 */
	for (; len >= 8; data += 8, len -= 8) {
		uint64_t w;

		memcpy(&w, data, 8);
		acc += (w & 0xffffffffu) + (w >> 32);
	}
	for (; len >= 2; data += 2, len -= 2) {
		memcpy(&half, data, 2);
		acc += half;
	}
	if (len) {
		/* The odd last byte is the high byte of a zero-padded word (RFC 1071 4.1). */
		uint8_t pad[2] = { data[0], 0 };

		memcpy(&half, pad, 2);
		acc += half;
	}
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	v = ntohs((uint16_t)acc);
	acc = (uint64_t)sum + v;
	while (acc >> 32)
		acc = (acc & 0xffffffffu) + (acc >> 32);
	return (uint32_t)acc;
}

uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint32_t csum_pseudo4(const uint8_t src[4], const uint8_t dst[4], uint8_t proto, uint32_t len)
{
	uint32_t s = csum_add(0, src, 4);

	s = csum_add(s, dst, 4);
	return s + proto + (len & 0xffff);
}

uint32_t csum_pseudo6(const uint8_t src[16], const uint8_t dst[16], uint8_t next_header,
		      uint32_t len)
{
	uint32_t s = csum_add(0, src, 16);

	s = csum_add(s, dst, 16);
	return s + (len >> 16) + (len & 0xffff) + next_header;
}
