// SPDX-License-Identifier: MIT
/*
 * The frame parser: decodes a tap's Ethernet frame or a tun's IP packet into
 * a struct frame_info for the dispatch tree, the counters and the captures.
 * Each layer is a function that reads its header through the bounds-checked
 * cursor getters of wire.h, checks every length field against the bytes
 * received, and hands the next layer exactly its own bytes (trimmed, so that
 * Ethernet padding never reaches an upper layer). Layers are chosen through
 * static tables keyed by ethertype, IPv6 next header and IP protocol. A layer
 * returns the malformation that stopped parsing, or MALFORMED_NONE.
 */
#include "parse.h"

#include <string.h>

#include "csum.h"
#include "wire.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define ETH_HDR_LEN	   14
#define ARP_HDR_LEN	   8
#define IPV4_HDR_MIN	   20
#define IPV6_HDR_LEN	   40
#define UDP_HDR_LEN	   8
#define ICMP_HDR_LEN	   4 /* type, code, checksum: the payload starts after it */
#define ICMP_MIN_LEN	   8 /* and every message has 4 more bytes (RFC 792, RFC 4443) */
#define IPV6_NH_HOP_BY_HOP 0
#define IPV6_NH_ROUTING	   43
#define IPV6_OPT_PAD1	   0
#define IPV6_OPT_JUMBO	   0xc2 /* RFC 2675 2 */

struct parser {
	struct cursor frame;
	struct frame_info *fi;
	unsigned opts;		  /* enum parse_opt */
	const uint8_t *final_dst; /* IPv6: a Routing header's final destination (fi->ip6.routed) */
};

/* Parses the @len bytes at @off of the frame, all known to be inside it. */
typedef enum malformed (*layer_parse_fn)(struct parser *ps, size_t off, size_t len);

/* clang-format off */
static const char *const malformed_names[MALFORMED_COUNT] = {
	[MALFORMED_NONE] = "none",
#define X(name) [MAL_##name] = #name,
	MALFORMED_REASONS(X)
#undef X
};
/* clang-format on */

const char *malformed_name(enum malformed m)
{
	if ((unsigned int)m >= MALFORMED_COUNT)
		return "unknown";
	return malformed_names[m];
}

static enum csum_status csum_verdict(uint32_t sum)
{
	/* A correct message sums, checksum field included, to all ones (RFC 1071). */
	return csum_fold(sum) == 0 ? CSUM_OK : CSUM_BAD;
}

/* The pseudo-header sum of the IP layer below: RFC 768 for IPv4, RFC 8200 8.1 for IPv6. */
static inline uint32_t pseudo_sum(const struct parser *ps, uint8_t proto, uint32_t len)
{
	const struct frame_info *fi = ps->fi;

	/*
	 * RFC 8200 8.1 uses the final destination when there is a Routing
	 * header: at the recipient the Destination Address of the header, on
	 * the way there (segments left) the one the Routing header names.
	 */
	if (fi->l3 == L3_IPV6)
		return csum_pseudo6(fi->ip6.src, ps->final_dst ? ps->final_dst : fi->ip6.dst, proto,
				    len);
	return csum_pseudo4(fi->ip4.src, fi->ip4.dst, proto, len);
}

/* --- upper layers --- */

static enum malformed parse_udp(struct parser *ps, size_t off, size_t len)
{
	struct frame_info *fi = ps->fi;
	enum csum_status st;
	struct cursor c;
	uint32_t sum;

	if (!cur_sub(&ps->frame, off, len, &c) || !cur_be16(&c, 0, &fi->udp.sport) ||
	    !cur_be16(&c, 2, &fi->udp.dport) || !cur_be16(&c, 4, &fi->udp.length) ||
	    !cur_be16(&c, 6, &fi->udp.checksum))
		return MAL_udp_short;
	/* RFC 768: the length covers header and data; it is a claim, checked. */
	if (fi->udp.length < UDP_HDR_LEN || fi->udp.length > len)
		return MAL_udp_bad_length;
	cur_sub(&c, 0, fi->udp.length, &c);

	if (fi->udp.checksum == 0) {
		/*
		 * RFC 768: zero means the IPv4 sender computed none. RFC 8200
		 * 8.1: over IPv6 the checksum is mandatory and a zero one is
		 * discarded (the tunnel exception of RFC 6935 is opt-in).
		 */
		st = fi->l3 == L3_IPV4 ? CSUM_NONE : CSUM_BAD;
	} else if (ps->opts & PARSE_L4_CSUM_OK) {
		/* Summed by paird a moment ago (gso.c): a second pass would find what it wrote. */
		st = CSUM_OK;
	} else {
		sum = pseudo_sum(ps, IPPROTO_UDP_, fi->udp.length);
		st = csum_verdict(csum_add(sum, c.p, c.len));
	}
	fi->udp.checksum_status = st;
	if (st == CSUM_BAD && (ps->opts & PARSE_STRICT))
		return MAL_udp_bad_checksum;

	fi->payload_off = off + UDP_HDR_LEN;
	fi->payload_len = (size_t)fi->udp.length - UDP_HDR_LEN;
	return MALFORMED_NONE;
}

/* ICMP (RFC 792) over IPv4 and ICMPv6 (RFC 4443) over IPv6: fi->l4 says which. */
static enum malformed parse_icmp(struct parser *ps, size_t off, size_t len)
{
	struct frame_info *fi = ps->fi;
	bool v6 = fi->l4 == L4_ICMPV6;
	uint32_t sum = 0;
	struct cursor c;

	if (!cur_sub(&ps->frame, off, len, &c) || len < ICMP_MIN_LEN ||
	    !cur_u8(&c, 0, &fi->icmp.type) || !cur_u8(&c, 1, &fi->icmp.code) ||
	    !cur_be16(&c, 2, &fi->icmp.checksum))
		return v6 ? MAL_icmpv6_short : MAL_icmp_short;

	/* Echo (RFC 792 types 8 and 0, RFC 4443 4.1/4.2 types 128 and 129): id and seq. */
	if (v6 ? fi->icmp.type == 128 || fi->icmp.type == 129
	       : fi->icmp.type == 8 || fi->icmp.type == 0) {
		fi->icmp.echo = cur_be16(&c, 4, &fi->icmp.id) && cur_be16(&c, 6, &fi->icmp.seq);
	}

	/*
	 * RFC 792: the checksum covers the ICMP message. RFC 4443 2.3: ICMPv6
	 * adds the IPv6 pseudo-header, with the message length.
	 */
	if (v6)
		sum = pseudo_sum(ps, IPPROTO_ICMPV6_, (uint32_t)len);
	fi->icmp.checksum_status = csum_verdict(csum_add(sum, c.p, c.len));
	if (fi->icmp.checksum_status == CSUM_BAD && (ps->opts & PARSE_STRICT))
		return v6 ? MAL_icmpv6_bad_checksum : MAL_icmp_bad_checksum;

	fi->payload_off = off + ICMP_HDR_LEN;
	fi->payload_len = len - ICMP_HDR_LEN;
	return MALFORMED_NONE;
}

static const struct {
	enum l3_kind l3;
	uint8_t protocol;
	enum l4_kind l4;
	layer_parse_fn parse;
} l4_protos[] = {
	{ L3_IPV4, IPPROTO_UDP_, L4_UDP, parse_udp },
	{ L3_IPV6, IPPROTO_UDP_, L4_UDP, parse_udp },
	{ L3_IPV4, IPPROTO_ICMP_, L4_ICMP, parse_icmp },
	{ L3_IPV6, IPPROTO_ICMPV6_, L4_ICMPV6, parse_icmp },
};

/* The IP protocol node, reached with the upper-layer bytes at @off, @len. */
static enum malformed parse_upper(struct parser *ps, uint8_t proto, size_t off, size_t len)
{
	struct frame_info *fi = ps->fi;

	fi->has_ip_protocol = true;
	fi->ip_protocol = proto;
	fi->l4_off = off;
	fi->l4_len = len;
	/* No reassembly: a fragment stops at the protocol node (DESIGN.md). */
	if (fi->fragment)
		return MALFORMED_NONE;

	for (size_t i = 0; i < ARRAY_SIZE(l4_protos); i++) {
		if (l4_protos[i].l3 == fi->l3 && l4_protos[i].protocol == proto) {
			fi->l4 = l4_protos[i].l4;
			return l4_protos[i].parse(ps, off, len);
		}
	}
	fi->l4 = L4_OTHER;
	return MALFORMED_NONE;
}

/* --- network layers --- */

/* RFC 826. The addresses are decoded only for Ethernet/IPv4, the one case paird answers. */
static enum malformed parse_arp(struct parser *ps, size_t off, size_t len)
{
	struct frame_info *fi = ps->fi;
	size_t msg_len;
	struct cursor c;

	if (!cur_sub(&ps->frame, off, len, &c) || !cur_be16(&c, 0, &fi->arp.htype) ||
	    !cur_be16(&c, 2, &fi->arp.ptype) || !cur_u8(&c, 4, &fi->arp.hlen) ||
	    !cur_u8(&c, 5, &fi->arp.plen) || !cur_be16(&c, 6, &fi->arp.op))
		return MAL_arp_short;
	fi->arp.fixed = true;

	/* Sender and target, hardware and protocol address each: hlen and plen say how long. */
	msg_len = ARP_HDR_LEN + 2 * ((size_t)fi->arp.hlen + fi->arp.plen);
	if (!cur_has(&c, 0, msg_len))
		return MAL_arp_short;
	fi->l3_len = msg_len;

	fi->arp.ether_ipv4 = fi->arp.htype == 1 && fi->arp.ptype == ETHERTYPE_IPV4 &&
			     fi->arp.hlen == 6 && fi->arp.plen == 4;
	if (fi->arp.ether_ipv4) {
		cur_bytes(&c, 8, fi->arp.sha, 6);
		cur_bytes(&c, 14, fi->arp.spa, 4);
		cur_bytes(&c, 18, fi->arp.tha, 6);
		cur_bytes(&c, 24, fi->arp.tpa, 4);
	}
	return MALFORMED_NONE;
}

/* RFC 791, section 3.1. */
static enum malformed parse_ipv4(struct parser *ps, size_t off, size_t len)
{
	struct frame_info *fi = ps->fi;
	uint8_t vihl, ihl_words;
	uint16_t frag;
	size_t hlen;
	struct cursor c;

	/* The fixed header is decoded whole before it is judged, for the captures. */
	if (len < IPV4_HDR_MIN || !cur_sub(&ps->frame, off, len, &c) || !cur_u8(&c, 0, &vihl) ||
	    !cur_u8(&c, 1, &fi->ip4.tos) || !cur_be16(&c, 2, &fi->ip4.total_length) ||
	    !cur_be16(&c, 4, &fi->ip4.id) || !cur_be16(&c, 6, &frag) ||
	    !cur_u8(&c, 8, &fi->ip4.ttl) || !cur_u8(&c, 9, &fi->ip4.protocol) ||
	    !cur_be16(&c, 10, &fi->ip4.checksum) || !cur_bytes(&c, 12, fi->ip4.src, 4) ||
	    !cur_bytes(&c, 16, fi->ip4.dst, 4))
		return MAL_ipv4_short;

	/* Version is the high nibble, IHL the low one (Twisted Pair #9037 swapped them). */
	fi->ip4.version = vihl >> 4;
	ihl_words = vihl & 0x0f;
	hlen = (size_t)ihl_words * 4;
	fi->ip4.ihl = (uint8_t)hlen;
	fi->ip4.df = frag & 0x4000;
	fi->ip4.mf = frag & 0x2000;
	fi->ip4.fragment_offset = frag & 0x1fff;

	if (fi->ip4.version != 4)
		return MAL_ipv4_bad_version;
	if (ihl_words < 5 || hlen > len)
		return MAL_ipv4_bad_ihl;
	if (fi->ip4.total_length < hlen || fi->ip4.total_length > len)
		return MAL_ipv4_bad_total_length;
	/* Whatever follows the total length is link padding, not ours. */
	fi->l3_len = fi->ip4.total_length;

	/* The header checksum covers the header only, options included (IHL words). */
	fi->ip4.checksum_status = csum_ipv4_header_ok(c.p, hlen) ? CSUM_OK : CSUM_BAD;
	if (fi->ip4.checksum_status == CSUM_BAD && (ps->opts & PARSE_STRICT))
		return MAL_ipv4_bad_checksum;

	/* RFC 791: MF set or a non-zero offset is a fragment; only the first has the L4 header. */
	fi->fragment = fi->ip4.mf || fi->ip4.fragment_offset != 0;
	return parse_upper(ps, fi->ip4.protocol, off + hlen, fi->ip4.total_length - hlen);
}

enum ext_len_rule {
	EXT_LEN_8OCTETS, /* (Hdr Ext Len + 1) * 8: RFC 8200 4.3-4.6, RFC 6275, 7401, 5533 */
	EXT_LEN_AH,	 /* (Payload Len + 2) * 4: RFC 4302 2.2 */
	EXT_LEN_FRAG,	 /* always 8: RFC 8200 4.5 */
};

/*
 * The extension headers walked to reach the upper layer (RFC 8200 4, and the
 * IANA list of RFC 7045). ESP (50) and No Next Header (59) end the walk: what
 * follows them is encrypted or nothing, and counts as the upper layer.
 */
static const struct {
	uint8_t next_header;
	enum ext_len_rule rule;
} ipv6_ext_hdrs[] = {
	{ 0, EXT_LEN_8OCTETS },	  /* Hop-by-Hop Options */
	{ 43, EXT_LEN_8OCTETS },  /* Routing */
	{ 44, EXT_LEN_FRAG },	  /* Fragment */
	{ 51, EXT_LEN_AH },	  /* Authentication Header */
	{ 60, EXT_LEN_8OCTETS },  /* Destination Options */
	{ 135, EXT_LEN_8OCTETS }, /* Mobility */
	{ 139, EXT_LEN_8OCTETS }, /* HIP */
	{ 140, EXT_LEN_8OCTETS }, /* Shim6 */
};

static bool ipv6_ext_rule(uint8_t nh, enum ext_len_rule *rule)
{
	for (size_t i = 0; i < ARRAY_SIZE(ipv6_ext_hdrs); i++) {
		if (ipv6_ext_hdrs[i].next_header == nh) {
			*rule = ipv6_ext_hdrs[i].rule;
			return true;
		}
	}
	return false;
}

/*
 * Whether the Hop-by-Hop Options header @hbh (@hlen bytes, known to be in
 * @pkt) carries a Jumbo Payload option. Options are TLVs (RFC 8200 4.2)
 * after the 2-byte header; Pad1 alone has no length byte. An option that
 * runs past the header ends the scan: what it would have been is unknown.
 */
static bool ipv6_has_jumbo(const struct cursor *pkt, size_t hbh, size_t hlen)
{
	size_t pos = 2;
	uint8_t type, olen;

	while (pos < hlen && cur_u8(pkt, hbh + pos, &type)) {
		if (type == IPV6_OPT_JUMBO)
			return true;
		if (type == IPV6_OPT_PAD1) {
			pos++;
			continue;
		}
		if (pos + 1 >= hlen || !cur_u8(pkt, hbh + pos + 1, &olen))
			break;
		pos += 2 + (size_t)olen;
	}
	return false;
}

/*
 * The final destination a Routing header at @pos (@hlen bytes, checked)
 * names while segments are left: RFC 5095's type 0 and RFC 6275's type 2
 * carry it last in their list of addresses after 4 reserved bytes, RFC
 * 8754's segment routing header first in its segment list (Segment
 * List[0]). NULL when none is left to visit or the type is another (RFC
 * 6554's compressed addresses): the header's Destination Address is final.
 */
static const uint8_t *routing_final_dst(const struct cursor *pkt, size_t pos, size_t hlen)
{
	uint8_t type, left;
	size_t at;

	if (!cur_u8(pkt, pos + 2, &type) || !cur_u8(pkt, pos + 3, &left) || left == 0 ||
	    hlen < 8 + 16)
		return NULL;
	if (type == 0 || type == 2)
		at = pos + 8 + (hlen - 8) / 16 * 16 - 16;
	else if (type == 4)
		at = pos + 8;
	else
		return NULL;
	return cur_has(pkt, at, 16) ? pkt->p + at : NULL;
}

/*
 * Walks the extension headers in @pkt (the IPv6 packet, trimmed) from @pos,
 * leaving @nh and @pos at the upper layer. RFC 8200 4.1 has nodes accept
 * extension headers "in any order and occurring any number of times", so
 * there is no cap on their number: each is at least 8 bytes and inside
 * @pkt, which bounds the walk (at most 8192 steps in a 65535-byte payload).
 * The fragment mark is set only when the whole chain parsed, so a packet is
 * counted as malformed or as a fragment, never both.
 */
static enum malformed ipv6_walk(struct parser *ps, const struct cursor *pkt, uint8_t *nh,
				size_t *pos)
{
	struct frame_info *fi = ps->fi;
	const uint8_t *final;
	enum ext_len_rule rule;
	bool fragment = false;
	uint8_t next, elen, left;
	uint16_t frag = 0;
	size_t hlen;

	while (ipv6_ext_rule(*nh, &rule)) {
		if (!cur_u8(pkt, *pos, &next) || !cur_u8(pkt, *pos + 1, &elen))
			return MAL_ipv6_bad_ext_header;
		switch (rule) {
		case EXT_LEN_AH:
			hlen = ((size_t)elen + 2) * 4;
			/* Next header, length, reserved, SPI and sequence number at least. */
			if (hlen < 12)
				return MAL_ipv6_bad_ext_header;
			break;
		case EXT_LEN_FRAG:
			hlen = 8;
			break;
		default:
			hlen = ((size_t)elen + 1) * 8;
			break;
		}
		if (!cur_has(pkt, *pos, hlen))
			return MAL_ipv6_bad_ext_header;
		/*
		 * RFC 2675 3: a Jumbo Payload option in a packet whose Payload
		 * Length is not 0 is a format error. Hop-by-Hop is always the
		 * first header here (the check on next below sees to that).
		 */
		if (*nh == IPV6_NH_HOP_BY_HOP && ipv6_has_jumbo(pkt, *pos, hlen))
			return MAL_ipv6_bad_jumbo;
		/* RFC 8200 4.3: Hop-by-Hop may only follow the IPv6 header itself. */
		if (next == IPV6_NH_HOP_BY_HOP)
			return MAL_ipv6_hbh_not_first;

		if (*nh == IPV6_NH_ROUTING && cur_u8(pkt, *pos + 3, &left) && left)
			fi->ip6.segments_left = true;
		/* The last Routing header with segments left names it, as scapy reads it. */
		final = *nh == IPV6_NH_ROUTING ? routing_final_dst(pkt, *pos, hlen) : NULL;
		if (final) {
			ps->final_dst = final;
			fi->ip6.routed = true;
		}
		if (rule == EXT_LEN_FRAG) {
			fi->ip6.frag_header = true;
			cur_be16(pkt, *pos + 2, &frag);
			fi->ip6.fragment_offset = frag >> 3;
			fi->ip6.mf = frag & 1;
			/* RFC 6946: offset 0 without M is an atomic fragment, a whole packet. */
			if (fi->ip6.fragment_offset || fi->ip6.mf)
				fragment = true;
		}
		*nh = next;
		*pos += hlen;
		/*
		 * Past a non-first fragment's header is the middle of the original
		 * packet; the first fragment holds the whole chain (RFC 8200 4.5,
		 * RFC 7112), so that one is walked on to find the upper layer.
		 */
		if (rule == EXT_LEN_FRAG && fi->ip6.fragment_offset)
			break;
	}
	fi->fragment = fragment;
	return MALFORMED_NONE;
}

/*
 * Payload Length 0 (RFC 2675 3): a jumbogram when the first header is a
 * Hop-by-Hop header (in the bytes received, as the length does not cover
 * it) with a Jumbo Payload option, else an empty payload (RFC 8200 3).
 */
static bool ipv6_is_jumbogram(const struct frame_info *fi, const struct cursor *c)
{
	uint8_t elen;

	return fi->ip6.next_header == IPV6_NH_HOP_BY_HOP && cur_u8(c, IPV6_HDR_LEN + 1, &elen) &&
	       cur_has(c, IPV6_HDR_LEN, ((size_t)elen + 1) * 8) &&
	       ipv6_has_jumbo(c, IPV6_HDR_LEN, ((size_t)elen + 1) * 8);
}

/* RFC 8200, section 3. */
static enum malformed parse_ipv6(struct parser *ps, size_t off, size_t len)
{
	struct frame_info *fi = ps->fi;
	enum malformed m;
	struct cursor c;
	uint32_t vtcfl;
	size_t pos = IPV6_HDR_LEN;
	uint8_t nh;

	if (len < IPV6_HDR_LEN || !cur_sub(&ps->frame, off, len, &c) || !cur_be32(&c, 0, &vtcfl) ||
	    !cur_be16(&c, 4, &fi->ip6.payload_length) || !cur_u8(&c, 6, &fi->ip6.next_header) ||
	    !cur_u8(&c, 7, &fi->ip6.hop_limit) || !cur_bytes(&c, 8, fi->ip6.src, 16) ||
	    !cur_bytes(&c, 24, fi->ip6.dst, 16))
		return MAL_ipv6_short;
	fi->ip6.traffic_class = (uint8_t)(vtcfl >> 20);
	fi->ip6.flow_label = vtcfl & 0xfffff;

	if (vtcfl >> 28 != 6)
		return MAL_ipv6_bad_version;
	/*
	 * A jumbogram's payload is over 65535 bytes (RFC 2675 3), more than
	 * any frame paird reads can hold: its length claim is beyond the
	 * bytes received, like any other too long payload length.
	 */
	if (fi->ip6.payload_length > len - IPV6_HDR_LEN ||
	    (fi->ip6.payload_length == 0 && ipv6_is_jumbogram(fi, &c)))
		return MAL_ipv6_bad_payload_length;
	fi->l3_len = IPV6_HDR_LEN + (size_t)fi->ip6.payload_length;
	cur_sub(&c, 0, fi->l3_len, &c);

	nh = fi->ip6.next_header;
	m = ipv6_walk(ps, &c, &nh, &pos);
	if (m != MALFORMED_NONE)
		return m;
	return parse_upper(ps, nh, off + pos, fi->l3_len - pos);
}

static const struct {
	uint16_t ethertype;
	enum l3_kind l3;
	layer_parse_fn parse;
} l3_protos[] = {
	{ ETHERTYPE_IPV4, L3_IPV4, parse_ipv4 },
	{ ETHERTYPE_IPV6, L3_IPV6, parse_ipv6 },
	{ ETHERTYPE_ARP, L3_ARP, parse_arp },
};

/* The ethertype node, reached with the network layer at @off to the end of the frame. */
static enum malformed parse_l3(struct parser *ps, uint16_t ethertype, size_t off)
{
	struct frame_info *fi = ps->fi;

	fi->has_ethertype = true;
	fi->ethertype = ethertype;
	fi->l3_off = off;
	fi->l3_len = ps->frame.len - off;
	for (size_t i = 0; i < ARRAY_SIZE(l3_protos); i++) {
		if (l3_protos[i].ethertype == ethertype) {
			fi->l3 = l3_protos[i].l3;
			return l3_protos[i].parse(ps, off, fi->l3_len);
		}
	}
	fi->l3 = L3_OTHER;
	return MALFORMED_NONE;
}

/* --- links --- */

/*
 * Ethernet II. 0x8100 (802.1Q) is one more ethertype: tags are not looked
 * into. A type/length below 0x0600 is an IEEE 802.3 length (0..1500; up to
 * 1535 undefined, taken the same way): the frame names no ethertype, so it
 * reaches only the root of the dispatch tree and no ethertype binding can
 * fire on a length. What 802.2 LLC header follows is not decoded.
 */
static enum malformed parse_ethernet(struct parser *ps)
{
	struct frame_info *fi = ps->fi;
	const struct cursor *c = &ps->frame;

	if (!cur_has(c, 0, ETH_HDR_LEN))
		return MAL_eth_short;
	cur_bytes(c, 0, fi->eth_dst, 6);
	cur_bytes(c, 6, fi->eth_src, 6);
	cur_be16(c, 12, &fi->eth_type);
	fi->has_eth = true;
	if (fi->eth_type < ETHERTYPE_MIN) {
		fi->ieee8023 = true;
		fi->l3_off = ETH_HDR_LEN; /* where the 802.2 LLC header starts */
		return MALFORMED_NONE;
	}
	return parse_l3(ps, fi->eth_type, ETH_HDR_LEN);
}

/* A bare IP packet: the version nibble is all there is to go by. */
static enum malformed parse_tun(struct parser *ps)
{
	uint8_t v;

	if (!cur_u8(&ps->frame, 0, &v))
		return MAL_ip_bad_version; /* an empty packet has no version at all */
	switch (v >> 4) {
	case 4:
		return parse_l3(ps, ETHERTYPE_IPV4, 0);
	case 6:
		return parse_l3(ps, ETHERTYPE_IPV6, 0);
	default:
		return MAL_ip_bad_version;
	}
}

/*
 * struct tun_pi (linux/if_tun.h): flags in host byte order (TUN_PKT_STRIP),
 * then the ethertype in network order, which picks the parser like
 * Ethernet's does.
 */
static enum malformed parse_tun_pi(struct parser *ps)
{
	struct frame_info *fi = ps->fi;

	if (!cur_he16(&ps->frame, 0, &fi->pi_flags) || !cur_be16(&ps->frame, 2, &fi->pi_proto)) {
		fi->pi_flags = 0;
		return MAL_pi_short;
	}
	fi->has_pi = true;
	return parse_l3(ps, fi->pi_proto, PI_HDR_LEN);
}

static enum malformed (*const link_parsers[])(struct parser *ps) = {
	[LINK_ETHERNET] = parse_ethernet,
	[LINK_IP] = parse_tun,
	[LINK_IP_PI] = parse_tun_pi,
};

void frame_parse(const uint8_t *frame, size_t len, enum frame_link link, unsigned opts,
		 struct frame_info *fi)
{
	struct parser ps = { .frame = cur_init(frame, len), .fi = fi, .opts = opts };

	memset(fi, 0, sizeof(*fi));
	fi->link = link;
	fi->opts = (uint8_t)opts;
	/* An unknown link kind decodes nothing: the frame reaches only the root node. */
	if ((unsigned int)link < ARRAY_SIZE(link_parsers) && link_parsers[link])
		fi->malformed = link_parsers[link](&ps);
}
