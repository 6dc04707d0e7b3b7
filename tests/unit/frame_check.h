/* SPDX-License-Identifier: MIT */
/*
 * What every struct frame_info must satisfy, whatever the bytes were: the
 * one consistency check shared by the parser's unit tests (fixtures and
 * every truncation), the corpus replay and the libFuzzer target. Regions
 * lie inside the frame and nest layer in layer, payloads match their
 * headers, fragments stop at the IP protocol, a strict parse passes no bad
 * checksum. Header-only so the fuzzer, built apart, includes it too.
 */
#ifndef PAIRD_TEST_FRAME_CHECK_H
#define PAIRD_TEST_FRAME_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "../../service/parse.h"

static inline bool frame_region_in(size_t off, size_t len, size_t outer_off, size_t outer_len)
{
	return off >= outer_off && off - outer_off <= outer_len &&
	       len <= outer_len - (off - outer_off);
}

/* NULL when @fi is consistent with a @len-byte frame, else what is wrong. */
static inline const char *frame_check(const struct frame_info *fi, size_t len, bool strict)
{
	bool parsed = fi->malformed == MALFORMED_NONE;

	if ((unsigned int)fi->malformed >= MALFORMED_COUNT)
		return "malformed out of range";
	if (fi->malformed == MAL_truncated)
		return "the parser set truncated, which is the read loop's";
	if (strcmp(malformed_name(fi->malformed), "unknown") == 0)
		return "a reason without a name";
	if (fi->has_eth && (len < 14 || fi->l3_off != 14))
		return "Ethernet header past the frame";
	if (fi->ieee8023 && (!fi->has_eth || fi->eth_type >= ETHERTYPE_MIN || fi->has_ethertype))
		return "an 802.3 frame with an ethertype";
	if (fi->has_eth && fi->eth_type < ETHERTYPE_MIN && !fi->ieee8023)
		return "an 802.3 length taken as an ethertype";
	if (fi->has_eth && fi->has_ethertype && fi->ethertype != fi->eth_type)
		return "ethertype differs from the Ethernet header's";
	if (fi->has_pi && (len < 4 || fi->l3_off != 4))
		return "packet information past the frame";
	if (fi->has_ethertype != (fi->l3 != L3_NONE))
		return "ethertype known without a network layer, or the reverse";
	if (fi->l3 != L3_NONE && !frame_region_in(fi->l3_off, fi->l3_len, 0, len))
		return "network layer past the frame";
	if (fi->has_ip_protocol) {
		if (fi->l3 != L3_IPV4 && fi->l3 != L3_IPV6)
			return "IP protocol without IP";
		if (!frame_region_in(fi->l4_off, fi->l4_len, fi->l3_off, fi->l3_len))
			return "IP payload outside the IP packet";
	} else if (fi->l4 != L4_NONE || fi->fragment) {
		return "upper layer without an IP protocol";
	}
	if (fi->fragment && (fi->l4 != L4_NONE || fi->udp.sport || fi->udp.dport ||
			     fi->udp.length || fi->udp.checksum_status != CSUM_UNCHECKED ||
			     fi->payload_len || fi->icmp.checksum_status != CSUM_UNCHECKED))
		return "a fragment parsed past the IP protocol";
	if (fi->l3 == L3_IPV4 && fi->has_ip_protocol &&
	    fi->fragment != (fi->ip4.mf || fi->ip4.fragment_offset))
		return "IPv4 fragment flags and the fragment mark disagree";
	if (fi->payload_off > len || fi->payload_len > len - fi->payload_off)
		return "payload past the frame";
	if (fi->payload_len &&
	    (fi->l4 == L4_NONE || fi->l4 == L4_OTHER ||
	     !frame_region_in(fi->payload_off, fi->payload_len, fi->l4_off, fi->l4_len)))
		return "payload outside the upper layer";
	if (parsed && fi->l4 == L4_UDP &&
	    (fi->udp.length < 8 || fi->udp.length > fi->l4_len ||
	     fi->payload_off != fi->l4_off + 8 || fi->payload_len != fi->udp.length - 8u))
		return "UDP payload does not match the UDP length";
	if (parsed && fi->l4 == L4_UDP && fi->udp.checksum_status == CSUM_UNCHECKED)
		return "a UDP checksum not judged";
	if (parsed && (fi->l4 == L4_ICMP || fi->l4 == L4_ICMPV6) &&
	    (fi->l4_len < 8 || fi->payload_off != fi->l4_off + 4 ||
	     fi->payload_len != fi->l4_len - 4))
		return "ICMP payload does not match the message";
	if (fi->l3 == L3_IPV4 && fi->has_ip_protocol &&
	    (fi->ip4.version != 4 || fi->ip4.ihl < 20 || fi->ip4.ihl > fi->ip4.total_length ||
	     fi->l3_len != fi->ip4.total_length || fi->l4_off != fi->l3_off + fi->ip4.ihl ||
	     fi->ip_protocol != fi->ip4.protocol))
		return "IPv4 lengths inconsistent";
	if (fi->l3 == L3_IPV6 && fi->has_ip_protocol &&
	    (fi->l3_len != 40u + fi->ip6.payload_length || fi->l4_off < fi->l3_off + 40))
		return "IPv6 length inconsistent";
	if (fi->udp.checksum_status == CSUM_NONE && fi->l3 != L3_IPV4)
		return "UDP checksum none outside IPv4";
	if (strict && parsed &&
	    (fi->ip4.checksum_status == CSUM_BAD || fi->udp.checksum_status == CSUM_BAD ||
	     fi->icmp.checksum_status == CSUM_BAD))
		return "strict parse passed a bad checksum";
	return NULL;
}

#endif
