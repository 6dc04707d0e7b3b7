// SPDX-License-Identifier: MIT
/*
 * The echo handler: bound at a UDP port it sends every datagram back to
 * its sender (the Echo Protocol of RFC 862, on any port); bound at the
 * ICMP node of IPv4 or the ICMPv6 node of IPv6 it answers echo requests
 * (RFC 792, RFC 4443 4.1/4.2). Replies are built in the dispatcher's
 * scratch buffer with the port's own framing and written back to the port
 * the request came from, so the kernel side sees a host that answers.
 * No options; bindcfg.c checks its placement with fits(). The dispatcher
 * (stack.c) runs it.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "h_echo.h"

#include "build.h"
#include "csum.h"
#include "handler.h"
#include "wire.h"

/* At a UDP port, or at the ICMP node of IPv4 or the ICMPv6 node of IPv6. */
static bool echo_fits(const struct match *m, enum port_type ptype)
{
	(void)ptype;
	if (m->depth == LEVEL_UDP_PORT)
		return m->ip_protocol == IPPROTO_UDP_;
	if (m->depth != LEVEL_IP_PROTOCOL)
		return false;
	return (m->ethertype == ETHERTYPE_IPV4 && m->ip_protocol == IPPROTO_ICMP_) ||
	       (m->ethertype == ETHERTYPE_IPV6 && m->ip_protocol == IPPROTO_ICMPV6_);
}

/* The upper layer a binding at @m is handed. */
static enum l4_kind echo_l4(const struct match *m)
{
	if (m->depth == LEVEL_UDP_PORT)
		return L4_UDP;
	return m->ip_protocol == IPPROTO_ICMP_ ? L4_ICMP : L4_ICMPV6;
}

/*
 * Whether @a can be a host's own address on a link: unicast (no group,
 * unspecified or limited broadcast address), and none that RFC 1122
 * 3.2.1.3 has a host discard a datagram from: "this network" 0.0.0.0/8,
 * loopback 127.0.0.0/8, nor reserved 240.0.0.0/4 (RFC 1112 4).
 */
static bool echo_addr4_ok(const uint8_t a[4])
{
	return addr4_is_unicast(a) && a[0] != 0 && a[0] != 127 && a[0] < 240;
}

/*
 * The same for IPv6: no loopback ::1 (RFC 4291 2.5.3: never sent outside
 * a node) nor IPv4-mapped ::ffff:0:0/96 (RFC 4291 2.5.5.2: an IPv4 node's
 * address inside an IPv6 node, never on the wire).
 */
static bool echo_addr6_ok(const uint8_t a[16])
{
	static const uint8_t loopback[16] = { [15] = 1 };
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	return addr6_is_unicast(a) && memcmp(a, loopback, 16) != 0 &&
	       memcmp(a, mapped, sizeof(mapped)) != 0;
}

/*
 * The addresses of the reply, the request's swapped, or false when the
 * request is not to be answered. A group or unspecified source is no one
 * to answer to. A group destination is not answered either: the reply's
 * source must then be a unicast address of the answering host (RFC 1122
 * 3.2.2.6 and 4.1.3.5, RFC 4443 4.2), and this host has none of its own;
 * RFC 1122 3.2.2.6 lets such requests be discarded.
 */
static bool echo_peer(const struct frame_info *fi, struct build_ip *ip)
{
	memset(ip, 0, sizeof(*ip)); /* ttl 0: the builders' default of 64 */
	if (fi->l3 == L3_IPV4) {
		/* RFC 1122 3.2.1.2: a datagram with a bad header checksum is discarded. */
		if (fi->ip4.checksum_status == CSUM_BAD || !echo_addr4_ok(fi->ip4.src) ||
		    !echo_addr4_ok(fi->ip4.dst))
			return false;
		ip->family = AF_INET;
		memcpy(ip->src, fi->ip4.dst, 4);
		memcpy(ip->dst, fi->ip4.src, 4);
		return true;
	}
	if (fi->l3 == L3_IPV6) {
		/*
		 * RFC 8200 4.4: with segments left, dst is a waypoint that
		 * forwards the packet (a type it knows) or discards it (one it
		 * does not); the upper layer is the final destination's.
		 */
		if (fi->ip6.segments_left || !echo_addr6_ok(fi->ip6.src) ||
		    !echo_addr6_ok(fi->ip6.dst))
			return false;
		ip->family = AF_INET6;
		memcpy(ip->src, fi->ip6.dst, 16);
		memcpy(ip->dst, fi->ip6.src, 16);
		return true;
	}
	return false;
}

/*
 * The reply's link header: on a tap, back to the request's Ethernet source
 * from the address it was sent to. 0, or 1 when not to be answered.
 *
 * A request sent to an Ethernet group address (IEEE 802: the I/G bit, the
 * low bit of the first octet) was sent to every host on the link: its IP
 * destination is a broadcast, a subnet's (198.18.0.255, which no prefix
 * known here tells from a unicast) or a multicast one, or else the frame
 * is one RFC 1122 3.3.6 has a host discard. Answering it would send from
 * that broadcast address (RFC 1122 3.2.1.3: never a source) and from no
 * Ethernet address of our own but the kernel side's, and a broadcast UDP
 * echo would be answered by every host at once; RFC 1122 3.2.2.6 lets such
 * requests be discarded.
 */
static int echo_link(const struct dispatch_ctx *dc, struct build_link *l)
{
	const struct frame_info *fi = dc->fi;

	memset(l, 0, sizeof(*l));
	l->link = port_frame_link(dc->port);
	if (l->link != LINK_ETHERNET)
		return 0;
	if (!fi->has_eth || (fi->eth_src[0] & 1) || (fi->eth_dst[0] & 1))
		return 1;
	memcpy(l->dst, fi->eth_src, 6);
	memcpy(l->src, fi->eth_dst, 6);
	return 0;
}

/* The well-known UDP services that answer any datagram with one of their own. */
static bool udp_answering_port(uint16_t port)
{
	static const uint16_t answering[] = { 7, 13, 17, 19, 37 };

	for (size_t i = 0; i < sizeof(answering) / sizeof(answering[0]); i++)
		if (answering[i] == port)
			return true;
	return false;
}

/* RFC 862: the data sent back as received, ports swapped. */
static ssize_t echo_udp(const struct dispatch_ctx *dc, const struct build_link *l,
			struct build_ip *ip)
{
	const struct frame_info *fi = dc->fi;
	struct cursor frame = cur_init(dc->frame, dc->len), data;

	/*
	 * RFC 1122 4.1.3.4: a datagram with a wrong non-zero checksum is
	 * discarded. (Over IPv6 a zero checksum is wrong too, RFC 8200 8.1;
	 * the parser reports that as CSUM_BAD.)
	 */
	if (fi->udp.checksum_status == CSUM_BAD)
		return 0;
	/* RFC 768: source port 0 means the sender expects no reply. */
	if (fi->udp.sport == 0)
		return 0;
	/*
	 * A datagram from a port where a service answers every datagram would
	 * have the answer answered: from this binding's own port (another
	 * simulated host with the same binding), or from echo (RFC 862),
	 * daytime (867), quote (865), chargen (864) or time (868). With a
	 * forwarding kernel on the other side of a tap, one datagram spoofed
	 * from 198.18.0.3:7 to 198.18.0.2:7, both answered here, went round
	 * for good, its TTL new at every turn (inetd's internal services
	 * refuse these ports for the same reason).
	 */
	if (fi->udp.sport == fi->udp.dport || udp_answering_port(fi->udp.sport))
		return 0;
	if (!cur_sub(&frame, fi->payload_off, fi->payload_len, &data))
		return -EINVAL; /* the parser's offsets lie outside the frame */
	/*
	 * The request's words, moved: its verified checksum is the reply's,
	 * unless it covered a Routing header's final destination.
	 */
	if (fi->udp.checksum_status == CSUM_OK && !fi->ip6.routed)
		ip->l4_csum = fi->udp.checksum;
	return build_udp(dc->scratch, PORT_FRAME_MAX, l, ip, fi->udp.dport, fi->udp.sport, data.p,
			 data.len);
}

/*
 * RFC 792 (Echo, type 8 → 0) and RFC 4443 4.1/4.2 (128 → 129): the same
 * identifier, sequence number and data (RFC 1122 3.2.2.6: "entirely
 * included"). Other types are somebody else's. IPv4 options of the request
 * (Record Route, Timestamp: a SHOULD in 3.2.2.6) are not carried over.
 */
static ssize_t echo_icmp(const struct dispatch_ctx *dc, const struct build_link *l,
			 struct build_ip *ip)
{
	const struct frame_info *fi = dc->fi;
	struct cursor frame = cur_init(dc->frame, dc->len), data;
	uint8_t request = fi->l4 == L4_ICMPV6 ? 128 : 8, reply = request == 8 ? 0 : 129;

	if (fi->icmp.type != request || !fi->icmp.echo || fi->icmp.checksum_status == CSUM_BAD)
		return 0;
	/* The payload after type, code and checksum starts with identifier and sequence. */
	if (fi->payload_len < 4 ||
	    !cur_sub(&frame, fi->payload_off + 4, fi->payload_len - 4, &data))
		return -EINVAL;
	/*
	 * The request's words but type and code (0 in the reply): RFC 1624's
	 * update of its checksum (0, an all-zero reply: summed by the builder;
	 * so is one whose request's covered a Routing header's final destination).
	 */
	if (fi->icmp.checksum_status == CSUM_OK && !fi->ip6.routed)
		ip->l4_csum =
			csum_replace16(fi->icmp.checksum, (uint16_t)(request << 8 | fi->icmp.code),
				       (uint16_t)(reply << 8));
	return build_icmp_echo(dc->scratch, PORT_FRAME_MAX, l, ip, true, fi->icmp.id, fi->icmp.seq,
			       data.p, data.len);
}

static int echo_run(struct binding *b, struct dispatch_ctx *dc)
{
	const struct frame_info *fi = dc->fi;
	struct build_link l;
	struct build_ip ip;
	ssize_t n;

	/* Only a whole, well-formed request of the layer this binding serves is answered. */
	if (fi->malformed != MALFORMED_NONE || fi->fragment || fi->l4 != echo_l4(&b->cfg.match))
		return 0;
	if (!echo_peer(fi, &ip))
		return 0;
	if (ip.family == AF_INET)
		ip.id = port_next_ip_id(dc->port, dc->queue);
	if (echo_link(dc, &l) != 0)
		return 0;

	n = fi->l4 == L4_UDP ? echo_udp(dc, &l, &ip) : echo_icmp(dc, &l, &ip);
	return handler_send(b, dc, n);
}

const struct handler_ops handler_echo = {
	.name = "echo",
	.levels = 1u << LEVEL_IP_PROTOCOL | 1u << LEVEL_UDP_PORT,
	.placement = "at a UDP port, or at ip_protocol 1 (ethertype 2048) or 58 (ethertype 34525)",
	.extra = { "replies" },
	.fits = echo_fits,
	.run = echo_run,
};
