/* SPDX-License-Identifier: MIT */
/*
 * Frame construction for replies (echo, ARP, NDP) and for the transmit API:
 * the link header a port needs (Ethernet on tap, the 4-byte packet
 * information header on a tun with packet info, nothing on a plain tun),
 * IPv4 (RFC 791) or IPv6 (RFC 8200), UDP (RFC 768), ICMP echo (RFC 792),
 * ICMPv6 echo (RFC 4443), ARP (RFC 826) and NDP neighbour advertisements
 * (RFC 4861), every checksum filled in. Builders write into a caller's
 * buffer and never allocate; they return the frame length, or -EMSGSIZE
 * when it would not fit in @cap.
 */
#ifndef PAIRD_BUILD_H
#define PAIRD_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "parse.h"

/* Link-layer framing of a port. */
struct build_link {
	enum frame_link link;
	uint8_t dst[6], src[6]; /* Ethernet only */
};

/* The IP layer: AF_INET uses 4 bytes of src/dst. */
struct build_ip {
	int family;
	uint8_t src[16], dst[16];
	uint8_t ttl; /* hop limit for IPv6; 0 means 64 */
	uint16_t id; /* IPv4 identification (the datagram is atomic: DF set) */
	/*
	 * Nonzero: the UDP or ICMP checksum, which the caller knows, written as
	 * it is instead of summing the payload again. An echo reply's, from
	 * its verified request: swapping addresses and ports moves 16-bit
	 * words without changing their sum.
	 */
	uint16_t l4_csum;
};

ssize_t build_udp(uint8_t *buf, size_t cap, const struct build_link *l, const struct build_ip *ip,
		  uint16_t sport, uint16_t dport, const uint8_t *payload, size_t plen);

/* ICMP (IPv4) or ICMPv6 (IPv6) echo request, or reply when @reply. */
ssize_t build_icmp_echo(uint8_t *buf, size_t cap, const struct build_link *l,
			const struct build_ip *ip, bool reply, uint16_t id, uint16_t seq,
			const uint8_t *data, size_t dlen);

/* An ARP packet for Ethernet/IPv4 (tap only), op 1 request or 2 reply. */
ssize_t build_arp(uint8_t *buf, size_t cap, const uint8_t eth_dst[6], uint16_t op,
		  const uint8_t sha[6], const uint8_t spa[4], const uint8_t tha[6],
		  const uint8_t tpa[4]);

/*
 * A neighbour advertisement (tap only) for @target with the Target
 * Link-Layer Address option @tlla, hop limit 255 as RFC 4861 requires.
 */
ssize_t build_ndp_na(uint8_t *buf, size_t cap, const struct build_link *l, const uint8_t src[16],
		     const uint8_t dst[16], const uint8_t target[16], bool solicited, bool override,
		     const uint8_t tlla[6]);

#endif
