/* SPDX-License-Identifier: MIT */
/*
 * The Internet checksum (RFC 1071) and the pseudo-headers of UDP over IPv4
 * (RFC 768) and of upper layers over IPv6 (RFC 8200, section 8.1), used to
 * verify received frames and to fill in the frames paird builds.
 */
#ifndef PAIRD_CSUM_H
#define PAIRD_CSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Adds @len bytes at @data to the running one's-complement sum @sum. */
uint32_t csum_add(uint32_t sum, const uint8_t *data, size_t len);

/*
 * Set, csum_add() sums with the portable loop alone, never with the vector
 * unit: for tests of that loop on a CPU that has one. Not set by paird.
 */
extern bool csum_portable;

/*
 * Folds and complements: the value to store in a checksum field. Inline,
 * as csum_pseudo4() below: both run twice for every UDP frame received
 * (issue 11). Two end-around folds always do: the first leaves at most
 * 0xffff + 0xffff = 0x1fffe, the second at most 0xffff.
 */
static inline uint16_t csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * RFC 1624 (eqn. 3): the checksum @check once a 16-bit word it covers has
 * gone from @old to @new (values as read in network byte order), without
 * summing the rest again; what summing it all again gives, but for words
 * that are now all zero: their checksum is all ones, and this says 0. So 0
 * means "sum it again" (RFC 1624 section 3's -0/+0 case).
 */
static inline uint16_t csum_replace16(uint16_t check, uint16_t old, uint16_t new)
{
	return csum_fold((uint32_t)(uint16_t)~check + (uint16_t)~old + new);
}

/*
 * True when the @len bytes at @data, a multiple of 4 from 20 on (an IPv4
 * header: 20 to 60), sum to all ones: a correct IPv4 header checksum (RFC
 * 791 3.1). What csum_fold(csum_add(0, data, len)) == 0 says, for less, as
 * every frame pays it (issue 11): native 32-bit words summed in 64 bits
 * lose no carry, and all ones is all ones in either byte order (RFC 1071
 * 2(B)), so neither carry bookkeeping nor a byte swap is needed.
 */
static inline bool csum_ipv4_header_ok(const uint8_t *data, size_t len)
{
	uint64_t a, b, sum;
	uint32_t w;

	/* The fixed 20 bytes in three loads, then the options a word at a time. */
	memcpy(&a, data, 8);
	memcpy(&b, data + 8, 8);
	memcpy(&w, data + 16, 4);
	sum = (a & 0xffffffffu) + (a >> 32) + (b & 0xffffffffu) + (b >> 32) + w;
	for (size_t i = 20; i < len; i += 4) {
		memcpy(&w, data + i, 4);
		sum += w;
	}
	sum = (sum & 0xffffffffu) + (sum >> 32);
	return csum_fold((uint32_t)sum + (uint32_t)(sum >> 32)) == 0;
}

/* The pseudo-header sums for an upper-layer message of @len bytes. */
static inline uint32_t csum_pseudo4(const uint8_t src[4], const uint8_t dst[4], uint8_t proto,
				    uint32_t len)
{
	/* The four 16-bit words of the addresses, as csum_add() would read them. */
	uint32_t s = (uint32_t)(src[0] << 8 | src[1]) + (uint32_t)(src[2] << 8 | src[3]) +
		     (uint32_t)(dst[0] << 8 | dst[1]) + (uint32_t)(dst[2] << 8 | dst[3]);

	return s + proto + (len & 0xffff);
}

uint32_t csum_pseudo6(const uint8_t src[16], const uint8_t dst[16], uint8_t next_header,
		      uint32_t len);

#endif
