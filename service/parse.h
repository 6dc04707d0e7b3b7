/* SPDX-License-Identifier: MIT */
/*
 * The frame parser (DESIGN.md, "Parsing"): Ethernet II (a type/length
 * field below 0x0600 is an IEEE 802.3 length: the frame has no ethertype),
 * ARP (RFC 826), IPv4 (RFC 791), ICMP (RFC 792), UDP (RFC 768), IPv6 (RFC
 * 8200 and 2675, extension headers walked to the upper layer) and ICMPv6
 * (RFC 4443), from a tap's Ethernet frame or a tun's IP packet (with or
 * without the 4-byte packet information header).
 *
 * Bytes are read only through bounds-checked cursor getters; every length
 * field is checked against what was received. Parsing stops at the first
 * malformation and names it; everything decoded before that point stays
 * valid in the result. The parser never allocates and never fails any
 * other way: every input of every length yields a struct frame_info.
 */
#ifndef PAIRD_PARSE_H
#define PAIRD_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP  0x0806
#define ETHERTYPE_IPV6 0x86dd
/*
 * IEEE 802.3 clause 3.2.6: a type/length field of 1536 (0x0600) or more is
 * an EtherType; 1500 (0x05dc) or less is the length of an 802.3 frame's
 * data; 1501..1535 is undefined. Below 0x0600 there is no EtherType.
 */
#define ETHERTYPE_MIN	0x0600
#define IPPROTO_ICMP_	1
#define IPPROTO_UDP_	17
#define IPPROTO_ICMPV6_ 58

enum frame_link {
	LINK_ETHERNET, /* tap: Ethernet II frames */
	LINK_IP,       /* tun with IFF_NO_PI: bare IPv4/IPv6 packets */
	LINK_IP_PI,    /* tun with packet info: 2 bytes flags, 2 bytes ethertype, packet */
};

/* The packet information header before each LINK_IP_PI packet: struct tun_pi. */
#define PI_HDR_LEN 4

/*
 * Why parsing stopped early. The names are the counter names of the API
 * and /metrics; keep them stable. X(name) order is the enum order.
 */
#define MALFORMED_REASONS(X)                                                                  \
	X(truncated)		   /* the read was longer than the buffer */                  \
	X(eth_short)		   /* fewer than 14 bytes */                                  \
	X(pi_short)		   /* tun packet info: fewer than 4 bytes */                  \
	X(ip_bad_version)	   /* tun: version nibble neither 4 nor 6 */                  \
	X(arp_short)		   /* ARP header or its addresses cut short */                \
	X(ipv4_short)		   /* fewer than 20 bytes */                                  \
	X(ipv4_bad_version)	   /* ethertype 0x0800 but version != 4 */                    \
	X(ipv4_bad_ihl)		   /* IHL < 5 or IHL*4 > bytes received */                    \
	X(ipv4_bad_total_length)   /* total length < IHL*4 or > bytes received */             \
	X(ipv4_bad_checksum)	   /* only when strict */                                     \
	X(ipv6_short)		   /* fewer than 40 bytes */                                  \
	X(ipv6_bad_version)	   /* ethertype 0x86dd but version != 6 */                    \
	X(ipv6_bad_payload_length) /* 40 + payload length > bytes received, or a jumbogram */ \
	X(ipv6_bad_ext_header)	   /* an extension header cut short */                        \
	X(ipv6_hbh_not_first)	   /* next header 0 (Hop-by-Hop) not in the IPv6 header */    \
	X(ipv6_bad_jumbo)	   /* a Jumbo Payload option, payload length != 0 */          \
	X(icmp_short)		   /* fewer than 8 bytes of ICMP */                           \
	X(icmp_bad_checksum)	   /* only when strict */                                     \
	X(icmpv6_short)		   /* fewer than 8 bytes of ICMPv6 */                         \
	X(icmpv6_bad_checksum)	   /* only when strict */                                     \
	X(udp_short)		   /* fewer than 8 bytes of UDP */                            \
	X(udp_bad_length)	   /* UDP length < 8 or > the IP payload */                   \
	X(udp_bad_checksum)	   /* only when strict */

/* clang-format reads MALFORMED_REASONS(X) as an expression going on to the next line. */
/* clang-format off */
enum malformed {
	MALFORMED_NONE = 0,
#define X(name) MAL_##name,
	MALFORMED_REASONS(X)
#undef X
	MALFORMED_COUNT
};
/* clang-format on */

/* "ipv4_bad_ihl", ...; "none" for MALFORMED_NONE. */
const char *malformed_name(enum malformed m);

enum csum_status {
	CSUM_UNCHECKED = 0, /* not verified (e.g. the header was not reached) */
	CSUM_OK,
	CSUM_BAD,
	CSUM_NONE, /* UDP over IPv4 with checksum 0: the sender computed none */
};

enum l3_kind { L3_NONE = 0, L3_ARP, L3_IPV4, L3_IPV6, L3_OTHER };
enum l4_kind { L4_NONE = 0, L4_UDP, L4_ICMP, L4_ICMPV6, L4_OTHER };

struct frame_info {
	enum frame_link link;
	enum malformed malformed;
	/* The enum parse_opt it was parsed with: the same bytes parse the same again. */
	uint8_t opts;

	/* Packet information header (LINK_IP_PI). */
	bool has_pi;
	uint16_t pi_flags, pi_proto;

	/* Ethernet (LINK_ETHERNET); on tun, ethertype is implied by the IP version. */
	bool has_eth;
	uint8_t eth_dst[6], eth_src[6];
	uint16_t eth_type; /* bytes 12-13 as on the wire: an ethertype or an 802.3 length */
	bool ieee8023;	   /* eth_type < 0x0600: a length, so has_ethertype is false */
	bool has_ethertype;
	uint16_t ethertype;

	enum l3_kind l3;
	size_t l3_off; /* offset of the network header in the frame */
	size_t l3_len; /* network header + payload, trimmed to the IP total length */

	struct {
		uint16_t htype, ptype, op;
		uint8_t hlen, plen;
		bool fixed; /* the 8-byte fixed part was read, even if the addresses were cut */
		bool ether_ipv4; /* htype 1, ptype 0x0800, hlen 6, plen 4: the fields below hold */
		uint8_t sha[6], spa[4], tha[6], tpa[4];
	} arp;

	struct {
		uint8_t version;
		uint8_t ihl; /* header length in bytes (IHL * 4), as Twisted Pair reports it */
		uint8_t tos;
		uint16_t total_length, id;
		uint16_t fragment_offset; /* in 8-byte units, as on the wire */
		bool df, mf;
		uint8_t ttl, protocol;
		uint16_t checksum;
		enum csum_status checksum_status;
		uint8_t src[4], dst[4];
	} ip4;

	struct {
		uint8_t traffic_class;
		/* A Fragment header was walked, an atomic fragment's too (RFC 6946). */
		bool frag_header;
		/* A Routing header with Segments Left > 0: dst is not where it ends. */
		bool segments_left;
		uint32_t flow_label;
		uint16_t payload_length;
		uint8_t next_header; /* of the fixed header */
		uint8_t hop_limit;
		uint8_t src[16], dst[16];
		uint16_t fragment_offset; /* from a Fragment header, 8-byte units */
		bool mf;
		/*
		 * A Routing header with segments left names another final
		 * destination than dst: the upper layer's checksum covers that
		 * one (RFC 8200 8.1), and a reply to src from dst cannot reuse it.
		 */
		bool routed;
	} ip6;

	/* The upper layer, common to IPv4 and IPv6 (after extension headers). */
	bool has_ip_protocol;
	uint8_t ip_protocol;
	bool fragment;	       /* MF set or offset != 0: the frame stops at the IP protocol node */
	size_t l4_off, l4_len; /* the IP payload, trimmed (padding excluded) */

	enum l4_kind l4;
	struct {
		uint16_t sport, dport, length, checksum;
		enum csum_status checksum_status;
	} udp;
	struct {
		uint8_t type, code;
		uint16_t checksum;
		enum csum_status checksum_status;
		bool echo; /* echo request or reply: id and seq hold */
		uint16_t id, seq;
	} icmp; /* ICMP or ICMPv6, by l4 */

	/* UDP payload, or the ICMP/ICMPv6 message after its 4-byte header. */
	size_t payload_off, payload_len;
};

/* How frame_parse() reads a frame: 0 or more of these. */
enum parse_opt {
	/*
	 * A bad IPv4, UDP, ICMP or ICMPv6 checksum is a malformation that
	 * stops parsing; without it the status is recorded and parsing goes
	 * on (Twisted Pair delivers such frames too).
	 */
	PARSE_STRICT = 1 << 0,
	/*
	 * The UDP checksum is known good without summing the datagram: paird
	 * cut it from a super-frame whose sender left the checksum to the
	 * device (service/gso.h). A non-zero one is CSUM_OK unread.
	 */
	PARSE_L4_CSUM_OK = 1 << 1,
};

/* Parses @len bytes at @frame as @opts (enum parse_opt) say. Always fills @fi completely. */
void frame_parse(const uint8_t *frame, size_t len, enum frame_link link, unsigned opts,
		 struct frame_info *fi);

#endif
