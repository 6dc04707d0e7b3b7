/* SPDX-License-Identifier: MIT */
/*
 * The Internet checksum (RFC 1071) and the pseudo-headers of UDP over IPv4
 * (RFC 768) and of upper layers over IPv6 (RFC 8200, section 8.1), used to
 * verify received frames and to fill in the frames paird builds.
 */
#ifndef PAIRD_CSUM_H
#define PAIRD_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* Adds @len bytes at @data to the running one's-complement sum @sum. */
uint32_t csum_add(uint32_t sum, const uint8_t *data, size_t len);
/* Folds and complements: the value to store in a checksum field. */
uint16_t csum_fold(uint32_t sum);

/* The pseudo-header sums for an upper-layer message of @len bytes. */
uint32_t csum_pseudo4(const uint8_t src[4], const uint8_t dst[4], uint8_t proto, uint32_t len);
uint32_t csum_pseudo6(const uint8_t src[16], const uint8_t dst[16], uint8_t next_header,
		      uint32_t len);

#endif
