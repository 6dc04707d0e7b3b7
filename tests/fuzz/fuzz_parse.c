// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the frame parser (service/parse.c): every input is
 * parsed as a tap frame, a tun packet and a tun packet with packet
 * information, strict and not, and each result must hold together (the
 * same properties tests/unit/test_parse.c checks): offsets and lengths
 * inside the input and nested layer in layer, UDP and ICMP payloads that
 * match their headers, no fragment parsed past its protocol, no bad
 * checksum let through by a strict parse, and a strict parse that agrees
 * with the lenient one whenever no checksum was bad. A violation aborts.
 * Built and run by `make fuzz`, seeded from the fixture frames.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../service/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool region_in(size_t off, size_t len, size_t outer_off, size_t outer_len)
{
	return off >= outer_off && off - outer_off <= outer_len &&
	       len <= outer_len - (off - outer_off);
}

static const char *consistency(const struct frame_info *fi, size_t len, bool strict)
{
	if ((unsigned int)fi->malformed >= MALFORMED_COUNT)
		return "malformed out of range";
	if (fi->malformed == MAL_truncated)
		return "the parser set truncated";
	if (fi->has_eth && (len < 14 || fi->l3_off != 14))
		return "Ethernet header past the frame";
	if (fi->has_pi && (len < 4 || fi->l3_off != 4))
		return "packet information past the frame";
	if (fi->has_ethertype != (fi->l3 != L3_NONE))
		return "ethertype and network layer disagree";
	if (fi->l3 != L3_NONE && !region_in(fi->l3_off, fi->l3_len, 0, len))
		return "network layer past the frame";
	if (fi->has_ip_protocol) {
		if (fi->l3 != L3_IPV4 && fi->l3 != L3_IPV6)
			return "IP protocol without IP";
		if (!region_in(fi->l4_off, fi->l4_len, fi->l3_off, fi->l3_len))
			return "IP payload outside the IP packet";
	} else if (fi->l4 != L4_NONE) {
		return "upper layer without an IP protocol";
	}
	if (fi->fragment && fi->l4 != L4_NONE)
		return "a fragment parsed past the IP protocol";
	if (fi->payload_off > len || fi->payload_len > len - fi->payload_off)
		return "payload past the frame";
	if (fi->payload_len &&
	    (fi->l4 == L4_NONE || fi->l4 == L4_OTHER ||
	     !region_in(fi->payload_off, fi->payload_len, fi->l4_off, fi->l4_len)))
		return "payload outside the upper layer";
	if (fi->malformed == MALFORMED_NONE && fi->l4 == L4_UDP &&
	    (fi->udp.length < 8 || fi->udp.length > fi->l4_len ||
	     fi->payload_off != fi->l4_off + 8 || fi->payload_len != fi->udp.length - 8u))
		return "UDP payload does not match the UDP length";
	if (fi->malformed == MALFORMED_NONE && (fi->l4 == L4_ICMP || fi->l4 == L4_ICMPV6) &&
	    (fi->l4_len < 8 || fi->payload_off != fi->l4_off + 4 ||
	     fi->payload_len != fi->l4_len - 4))
		return "ICMP payload does not match the message";
	if (fi->l3 == L3_IPV4 && fi->has_ip_protocol &&
	    (fi->ip4.version != 4 || fi->ip4.ihl < 20 || fi->ip4.ihl > fi->ip4.total_length ||
	     fi->l3_len != fi->ip4.total_length || fi->l4_off != fi->l3_off + fi->ip4.ihl))
		return "IPv4 lengths inconsistent";
	if (fi->l3 == L3_IPV6 && fi->has_ip_protocol && fi->l3_len != 40u + fi->ip6.payload_length)
		return "IPv6 length inconsistent";
	if (fi->udp.checksum_status == CSUM_NONE && fi->l3 != L3_IPV4)
		return "UDP checksum none outside IPv4";
	if (strict && fi->malformed == MALFORMED_NONE &&
	    (fi->ip4.checksum_status == CSUM_BAD || fi->udp.checksum_status == CSUM_BAD ||
	     fi->icmp.checksum_status == CSUM_BAD))
		return "strict parse passed a bad checksum";
	if (strcmp(malformed_name(fi->malformed), "unknown") == 0)
		return "a reason without a name";
	return NULL;
}

static void check(const struct frame_info *fi, size_t len, bool strict, enum frame_link link)
{
	const char *why = consistency(fi, len, strict);

	if (why) {
		fprintf(stderr, "fuzz_parse: link %d, %zu bytes, %s: %s (malformed %s)\n", link,
			len, strict ? "strict" : "lenient", why, malformed_name(fi->malformed));
		abort();
	}
}

static bool any_bad(const struct frame_info *fi)
{
	return fi->ip4.checksum_status == CSUM_BAD || fi->udp.checksum_status == CSUM_BAD ||
	       fi->icmp.checksum_status == CSUM_BAD;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum frame_link links[] = { LINK_ETHERNET, LINK_IP, LINK_IP_PI };
	struct frame_info lenient, strict;

	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		frame_parse(data, size, links[i], false, &lenient);
		check(&lenient, size, false, links[i]);
		frame_parse(data, size, links[i], true, &strict);
		check(&strict, size, true, links[i]);
		/* Strictness only matters where a checksum is bad. */
		if (!any_bad(&lenient) && memcmp(&lenient, &strict, sizeof(strict)) != 0) {
			fprintf(stderr, "fuzz_parse: link %d: strict and lenient differ\n",
				links[i]);
			abort();
		}
	}
	return 0;
}
