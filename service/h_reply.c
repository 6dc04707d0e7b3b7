// SPDX-License-Identifier: MIT
/*
 * Address resolution on behalf of simulated hosts: arp_reply answers ARP
 * requests (RFC 826) and ndp_reply answers neighbour solicitations
 * (RFC 4861) for the addresses listed in the binding's options, with the
 * port's peer MAC or a given one, so the kernel side of a tap reaches those
 * addresses with no static neighbour entry (Twisted Pair issue #6875).
 * Both live on tap ports only: a tun has no link layer to resolve.
 * bindcfg.c reads their options and checks their placement with fits();
 * the dispatcher (stack.c) runs them.
 */
#include <errno.h>
#include <string.h>

#include "h_reply.h"

#include "build.h"
#include "handler.h"
#include "wire.h"

#define NS_MIN_LEN   24 /* type, code, checksum, reserved, target (RFC 4861 4.3) */
#define NDP_OPT_SLLA 1	/* Source Link-Layer Address (RFC 4861 4.6.1) */

/* --- per frame --- */

static bool listed(const struct reply_opts *ro, const uint8_t *addr, size_t alen)
{
	for (unsigned i = 0; i < ro->n_addrs; i++)
		if (memcmp(ro->addrs[i], addr, alen) == 0)
			return true;
	return false;
}

/*
 * The MAC the answers claim: the binding's, or else the port's peer MAC
 * (port_peer_mac: the host on the far side of the tap, the same default the
 * transmit API uses). The tap's own MAC would make the kernel send to
 * itself.
 */
static const uint8_t *reply_mac(const struct binding *b, const struct dispatch_ctx *dc,
				uint8_t buf[6])
{
	if (b->cfg.o.reply.has_mac)
		return b->cfg.o.reply.mac;
	return port_peer_mac(dc->port, buf) ? buf : NULL;
}

/*
 * RFC 826, "Packet Reception": a request (ar$op 1) for Ethernet/IPv4 whose
 * target protocol address is ours is answered with the fields swapped, our
 * hardware address as sender, sent to the requester's hardware address.
 */
static int arp_run(struct binding *b, struct dispatch_ctx *dc)
{
	const struct frame_info *fi = dc->fi;
	const uint8_t *mac;
	uint8_t peer[6];

	if (fi->malformed != MALFORMED_NONE || !fi->has_eth || fi->l3 != L3_ARP ||
	    !fi->arp.ether_ipv4 || fi->arp.op != 1)
		return 0;
	if (!listed(&b->cfg.o.reply, fi->arp.tpa, 4))
		return 0;
	/* A group sender hardware address is no one to unicast a reply to. */
	if (fi->arp.sha[0] & 1)
		return 0;
	/*
	 * RFC 5227 2.3: sender and target protocol address equal is an
	 * announcement; it asks nothing. (A probe, sender 0.0.0.0, is
	 * answered: that is how an address in use is defended, 2.1.1.)
	 */
	if (memcmp(fi->arp.spa, fi->arp.tpa, 4) == 0)
		return 0;
	mac = reply_mac(b, dc, peer);
	if (!mac)
		return -EADDRNOTAVAIL;
	return handler_send(b, dc,
			    build_arp(dc->scratch, PORT_FRAME_MAX, fi->arp.sha, 2, mac, fi->arp.tpa,
				      fi->arp.sha, fi->arp.spa));
}

/*
 * The validity checks of RFC 4861 7.1.1 that the parser does not make: hop
 * limit 255 (so the sender is on the link), code 0, a correct checksum,
 * at least 24 bytes, options of non-zero length within the message, and,
 * from the unspecified address (Duplicate Address Detection), a
 * solicited-node destination and no source link-layer address option.
 */
static bool ns_valid(const struct frame_info *fi, const struct cursor *msg)
{
	static const uint8_t any[16];
	static const uint8_t snm[13] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff };
	bool dad = memcmp(fi->ip6.src, any, 16) == 0;
	size_t off = NS_MIN_LEN;
	uint8_t type, len8;

	if (fi->ip6.hop_limit != 255 || fi->icmp.code != 0 || fi->icmp.checksum_status != CSUM_OK ||
	    msg->len < NS_MIN_LEN)
		return false;
	if (dad && memcmp(fi->ip6.dst, snm, sizeof(snm)) != 0)
		return false;
	while (off < msg->len) {
		if (!cur_u8(msg, off, &type) || !cur_u8(msg, off + 1, &len8) || len8 == 0 ||
		    !cur_has(msg, off, (size_t)len8 * 8))
			return false;
		if (dad && type == NDP_OPT_SLLA)
			return false;
		off += (size_t)len8 * 8;
	}
	return true;
}

/*
 * RFC 4861 7.2.4: a valid solicitation for a listed target gets an
 * advertisement from the target, Override set; solicited and unicast to
 * the soliciting address, or, when that was the unspecified address (DAD),
 * unsolicited to all-nodes ff02::1 (Ethernet 33:33:00:00:00:01, RFC 2464 7).
 */
static int ndp_run(struct binding *b, struct dispatch_ctx *dc)
{
	static const uint8_t any[16];
	static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 0x01 };
	static const uint8_t all_nodes_mac[6] = { 0x33, 0x33, 0, 0, 0, 0x01 };
	const struct frame_info *fi = dc->fi;
	struct cursor frame = cur_init(dc->frame, dc->len), msg;
	struct build_link l = { .link = LINK_ETHERNET };
	uint8_t target[16], peer[6];
	const uint8_t *mac, *dst;
	bool dad;

	/*
	 * RFC 6980 5: an NDP message in a packet with a Fragment header, an
	 * atomic fragment's included, is ignored (the kernel does the same).
	 */
	if (fi->malformed != MALFORMED_NONE || fi->fragment || fi->ip6.frag_header ||
	    !fi->has_eth || fi->l3 != L3_IPV6 || fi->l4 != L4_ICMPV6 || fi->icmp.type != 135)
		return 0;
	if (!cur_sub(&frame, fi->l4_off, fi->l4_len, &msg))
		return -EINVAL; /* the parser's offsets lie outside the frame */
	if (!ns_valid(fi, &msg) || !cur_bytes(&msg, 8, target, 16))
		return 0;
	/* RFC 4861 7.1.1: the target is not multicast (a listed one never is). */
	if (!addr6_is_unicast(target) || !listed(&b->cfg.o.reply, target, 16))
		return 0;
	/* RFC 4291 2.7: a multicast address is never a source. */
	if (fi->ip6.src[0] == 0xff)
		return 0;

	dad = memcmp(fi->ip6.src, any, 16) == 0;
	if (dad) {
		dst = all_nodes;
		memcpy(l.dst, all_nodes_mac, 6);
	} else {
		if (fi->eth_src[0] & 1)
			return 0; /* a group Ethernet source is no one to unicast to */
		dst = fi->ip6.src;
		memcpy(l.dst, fi->eth_src, 6);
	}
	mac = reply_mac(b, dc, peer);
	if (!mac)
		return -EADDRNOTAVAIL;
	memcpy(l.src, mac, 6);
	return handler_send(b, dc,
			    build_ndp_na(dc->scratch, PORT_FRAME_MAX, &l, target, dst, target, !dad,
					 true, mac));
}

/* --- the two vtables --- */

/* RFC 826: ARP has an EtherType of its own; a tun has no link layer to resolve. */
static bool arp_fits(const struct match *m, enum port_type ptype)
{
	return ptype == PORT_TAP && m->depth == LEVEL_ETHERTYPE && m->ethertype == ETHERTYPE_ARP;
}

/* RFC 4861 4.3: neighbour solicitations are ICMPv6 messages. */
static bool ndp_fits(const struct match *m, enum port_type ptype)
{
	return ptype == PORT_TAP && m->depth == LEVEL_IP_PROTOCOL &&
	       m->ethertype == ETHERTYPE_IPV6 && m->ip_protocol == IPPROTO_ICMPV6_;
}

const struct handler_ops handler_arp_reply = {
	.name = "arp_reply",
	.levels = 1u << LEVEL_ETHERTYPE,
	.placement = "at ethertype 2054 of a tap port",
	.extra = { "replies" },
	.options = sizeof(struct reply_opts),
	.fits = arp_fits,
	.run = arp_run,
};

const struct handler_ops handler_ndp_reply = {
	.name = "ndp_reply",
	.levels = 1u << LEVEL_IP_PROTOCOL,
	.placement = "at ip_protocol 58 (ethertype 34525) of a tap port",
	.extra = { "replies" },
	.options = sizeof(struct reply_opts),
	.fits = ndp_fits,
	.run = ndp_run,
};
