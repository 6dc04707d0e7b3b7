// SPDX-License-Identifier: MIT
/*
 * RFC 1071 checksum over byte strings, 16 bits at a time in network order
 * (so no host struct or alignment is ever assumed), with the odd final
 * byte padded with zero.
 */
#include "csum.h"

uint32_t csum_add(uint32_t sum, const uint8_t *data, size_t len)
{
	uint64_t s = sum;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)data[i] << 8 | data[i + 1];
	if (i < len)
		s += (uint32_t)data[i] << 8;
	while (s >> 32)
		s = (s & 0xffffffffu) + (s >> 32);
	return (uint32_t)s;
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
