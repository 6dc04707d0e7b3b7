// SPDX-License-Identifier: MIT
/*
 * The frame builders of build.h: the echo, ARP and NDP handlers build their
 * replies with them in the dispatcher's scratch buffer, and the transmit API
 * builds datagrams. Every builder first works out the whole frame's length
 * and refuses with -EMSGSIZE when it exceeds the caller's capacity, so
 * nothing is written at all then; the bytes themselves go out through
 * bounds-checked writers (the mirror of wire.h's getters), never through a
 * host struct laid over the buffer. Checksums are computed over the bytes as
 * written, with the pseudo-headers of csum.h.
 */
#include "build.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "csum.h"

#define ETH_HDR_LEN	 14
#define ETH_MIN_LEN	 60 /* IEEE 802.3: 64 bytes on the wire, the FCS included */
#define IPV4_HDR_LEN	 20
#define IPV6_HDR_LEN	 40
#define IP_LEN_MAX	 0xffff /* 16-bit length fields; no IPv6 jumbograms (RFC 2675) */
#define UDP_HDR_LEN	 8
#define ICMP_ECHO_LEN	 8 /* type, code, checksum, identifier, sequence number */
#define ARP_ETH_IPV4_LEN 28
#define NDP_NA_LEN	 32 /* header, target, one Target Link-Layer Address option */
#define TTL_DEFAULT	 64

/*
 * A caller's buffer being written. A put that would leave it writes nothing
 * and marks the buffer overrun; builders check the whole length up front,
 * so an overrun means a builder bug, reported as -EMSGSIZE all the same.
 */
struct wbuf {
	uint8_t *p;
	size_t cap;
	bool overrun;
};

static bool wbuf_has(struct wbuf *w, size_t off, size_t n)
{
	if (off <= w->cap && n <= w->cap - off)
		return true;
	w->overrun = true;
	return false;
}

static void put_u8(struct wbuf *w, size_t off, uint8_t v)
{
	if (wbuf_has(w, off, 1))
		w->p[off] = v;
}

static void put_be16(struct wbuf *w, size_t off, uint16_t v)
{
	if (!wbuf_has(w, off, 2))
		return;
	w->p[off] = (uint8_t)(v >> 8);
	w->p[off + 1] = (uint8_t)v;
}

static void put_be32(struct wbuf *w, size_t off, uint32_t v)
{
	if (!wbuf_has(w, off, 4))
		return;
	w->p[off] = (uint8_t)(v >> 24);
	w->p[off + 1] = (uint8_t)(v >> 16);
	w->p[off + 2] = (uint8_t)(v >> 8);
	w->p[off + 3] = (uint8_t)v;
}

static void put_bytes(struct wbuf *w, size_t off, const void *src, size_t n)
{
	if (wbuf_has(w, off, n) && n)
		memcpy(w->p + off, src, n);
}

static void put_zero(struct wbuf *w, size_t off, size_t n)
{
	if (wbuf_has(w, off, n) && n)
		memset(w->p + off, 0, n);
}

/* The sum of @n bytes already written at @off. */
static uint32_t wbuf_sum(struct wbuf *w, uint32_t sum, size_t off, size_t n)
{
	if (!wbuf_has(w, off, n))
		return sum;
	return csum_add(sum, w->p + off, n);
}

static ssize_t wbuf_done(const struct wbuf *w, size_t len)
{
	return w->overrun ? -EMSGSIZE : (ssize_t)len;
}

/* --- link layer --- */

static int link_hdr_len(enum frame_link link, size_t *len)
{
	switch (link) {
	case LINK_ETHERNET:
		*len = ETH_HDR_LEN;
		return 0;
	case LINK_IP:
		*len = 0;
		return 0;
	case LINK_IP_PI:
		*len = PI_HDR_LEN;
		return 0;
	}
	return -EINVAL;
}

static void put_eth(struct wbuf *w, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
	put_bytes(w, 0, dst, 6);
	put_bytes(w, 6, src, 6);
	put_be16(w, 12, type);
}

static void put_link(struct wbuf *w, const struct build_link *l, uint16_t ethertype)
{
	switch (l->link) {
	case LINK_ETHERNET:
		put_eth(w, l->dst, l->src, ethertype);
		break;
	case LINK_IP_PI:
		/*
		 * struct tun_pi (linux/if_tun.h): flags (host order, none set)
		 * then the protocol as an ethertype in network order.
		 */
		put_zero(w, 0, 2);
		put_be16(w, 2, ethertype);
		break;
	case LINK_IP:
		break;
	}
}

/* --- network layer --- */

struct ip_plan {
	size_t ip_off, l4_off, len; /* the IP header, the upper layer, the whole frame */
};

/*
 * Lays out link + IP + @l4_len bytes of upper layer and checks it against
 * @cap and the IP length fields before anything is written.
 */
static int ip_plan(const struct build_link *l, const struct build_ip *ip, size_t l4_len, size_t cap,
		   struct ip_plan *pl)
{
	size_t ll, hl;

	if (!l || !ip || link_hdr_len(l->link, &ll) < 0)
		return -EINVAL;
	if (ip->family == AF_INET)
		hl = IPV4_HDR_LEN;
	else if (ip->family == AF_INET6)
		hl = IPV6_HDR_LEN;
	else
		return -EAFNOSUPPORT;
	/*
	 * RFC 791 3.1: Total Length counts the header; RFC 8200 3: Payload
	 * Length does not. Both are 16 bits.
	 */
	if (l4_len > IP_LEN_MAX || (ip->family == AF_INET && l4_len > IP_LEN_MAX - hl))
		return -EMSGSIZE;
	pl->ip_off = ll;
	pl->l4_off = ll + hl;
	pl->len = ll + hl + l4_len;
	return pl->len > cap ? -EMSGSIZE : 0;
}

static void put_ipv4(struct wbuf *w, size_t off, const struct build_ip *ip, uint8_t proto,
		     size_t l4_len)
{
	/* RFC 791 3.1: version 4, IHL 5 (no options), TOS 0. */
	put_u8(w, off, 0x45);
	put_u8(w, off + 1, 0);
	put_be16(w, off + 2, (uint16_t)(IPV4_HDR_LEN + l4_len));
	/*
	 * The caller's identification with DF set: RFC 6864 4.1 lets an atomic
	 * datagram (DF=1, MF=0, offset 0) carry any ID, since it is never
	 * reassembled. Replies number theirs (port_next_ip_id()), so that a
	 * run of them can be written as one USO super-frame (coalesce.h).
	 */
	put_be16(w, off + 4, ip->id);
	put_be16(w, off + 6, 0x4000);
	put_u8(w, off + 8, ip->ttl ? ip->ttl : TTL_DEFAULT);
	put_u8(w, off + 9, proto);
	put_be16(w, off + 10, 0);
	put_bytes(w, off + 12, ip->src, 4);
	put_bytes(w, off + 16, ip->dst, 4);
	/* RFC 791 3.1: the checksum of the header alone, its own field taken as zero. */
	put_be16(w, off + 10, csum_fold(wbuf_sum(w, 0, off, IPV4_HDR_LEN)));
}

static void put_ipv6(struct wbuf *w, size_t off, const struct build_ip *ip, uint8_t next_header,
		     size_t l4_len)
{
	/* RFC 8200 3: version 6, traffic class 0, flow label 0 (RFC 6437: none chosen). */
	put_be32(w, off, 6u << 28);
	put_be16(w, off + 4, (uint16_t)l4_len);
	put_u8(w, off + 6, next_header);
	put_u8(w, off + 7, ip->ttl ? ip->ttl : TTL_DEFAULT);
	put_bytes(w, off + 8, ip->src, 16);
	put_bytes(w, off + 24, ip->dst, 16);
}

/* Writes the link and IP headers of a frame planned by ip_plan(). */
static void put_link_ip(struct wbuf *w, const struct build_link *l, const struct build_ip *ip,
			uint8_t proto, const struct ip_plan *pl)
{
	size_t l4_len = pl->len - pl->l4_off;

	if (ip->family == AF_INET) {
		put_link(w, l, ETHERTYPE_IPV4);
		put_ipv4(w, pl->ip_off, ip, proto, l4_len);
	} else {
		put_link(w, l, ETHERTYPE_IPV6);
		put_ipv6(w, pl->ip_off, ip, proto, l4_len);
	}
}

/* The pseudo-header sum: RFC 768 over IPv4, RFC 8200 8.1 over IPv6. */
static uint32_t pseudo_sum(const struct build_ip *ip, uint8_t proto, size_t l4_len)
{
	if (ip->family == AF_INET)
		return csum_pseudo4(ip->src, ip->dst, proto, (uint32_t)l4_len);
	return csum_pseudo6(ip->src, ip->dst, proto, (uint32_t)l4_len);
}

/* --- upper layers --- */

/* @payload must not overlap @buf. */
ssize_t build_udp(uint8_t *buf, size_t cap, const struct build_link *l, const struct build_ip *ip,
		  uint16_t sport, uint16_t dport, const uint8_t *payload, size_t plen)
{
	struct wbuf w = { .p = buf, .cap = cap };
	struct ip_plan pl;
	uint16_t sum;
	size_t ulen;
	int ret;

	if (plen && !payload)
		return -EINVAL;
	if (plen > IP_LEN_MAX)
		return -EMSGSIZE;
	ulen = UDP_HDR_LEN + plen;
	ret = ip_plan(l, ip, ulen, cap, &pl);
	if (ret < 0)
		return ret;

	put_link_ip(&w, l, ip, IPPROTO_UDP_, &pl);
	/* RFC 768: ports, length (header and data), checksum (zero while summing). */
	put_be16(&w, pl.l4_off, sport);
	put_be16(&w, pl.l4_off + 2, dport);
	put_be16(&w, pl.l4_off + 4, (uint16_t)ulen);
	put_be16(&w, pl.l4_off + 6, 0);
	put_bytes(&w, pl.l4_off + UDP_HDR_LEN, payload, plen);
	if (ip->l4_csum) {
		put_be16(&w, pl.l4_off + 6, ip->l4_csum);
		return wbuf_done(&w, pl.len);
	}
	sum = csum_fold(wbuf_sum(&w, pseudo_sum(ip, IPPROTO_UDP_, ulen), pl.l4_off, ulen));
	/*
	 * RFC 768: a computed zero is sent as all ones, zero meaning "no
	 * checksum"; RFC 8200 8.1 makes the checksum mandatory over IPv6 and
	 * asks for the same substitution.
	 */
	put_be16(&w, pl.l4_off + 6, sum ? sum : 0xffff);
	return wbuf_done(&w, pl.len);
}

/* @data must not overlap @buf. */
ssize_t build_icmp_echo(uint8_t *buf, size_t cap, const struct build_link *l,
			const struct build_ip *ip, bool reply, uint16_t id, uint16_t seq,
			const uint8_t *data, size_t dlen)
{
	struct wbuf w = { .p = buf, .cap = cap };
	struct ip_plan pl;
	uint32_t sum = 0;
	size_t mlen;
	uint8_t proto, type;
	int ret;

	if (dlen && !data)
		return -EINVAL;
	if (dlen > IP_LEN_MAX)
		return -EMSGSIZE;
	if (ip && ip->family == AF_INET6) {
		/* RFC 4443 4.1 and 4.2: Echo Request 128, Echo Reply 129. */
		proto = IPPROTO_ICMPV6_;
		type = reply ? 129 : 128;
	} else {
		/* RFC 792: Echo Message 8, Echo Reply Message 0. */
		proto = IPPROTO_ICMP_;
		type = reply ? 0 : 8;
	}
	mlen = ICMP_ECHO_LEN + dlen;
	ret = ip_plan(l, ip, mlen, cap, &pl);
	if (ret < 0)
		return ret;

	put_link_ip(&w, l, ip, proto, &pl);
	put_u8(&w, pl.l4_off, type);
	put_u8(&w, pl.l4_off + 1, 0); /* code 0 for both, in both RFCs */
	put_be16(&w, pl.l4_off + 2, 0);
	put_be16(&w, pl.l4_off + 4, id);
	put_be16(&w, pl.l4_off + 6, seq);
	put_bytes(&w, pl.l4_off + ICMP_ECHO_LEN, data, dlen);
	if (ip->l4_csum) { /* ip_plan() refused a NULL @ip */
		put_be16(&w, pl.l4_off + 2, ip->l4_csum);
		return wbuf_done(&w, pl.len);
	}
	/*
	 * RFC 792: the checksum covers the ICMP message only. RFC 4443 2.3:
	 * ICMPv6 prefixes the IPv6 pseudo-header.
	 */
	if (proto == IPPROTO_ICMPV6_)
		sum = pseudo_sum(ip, proto, mlen);
	put_be16(&w, pl.l4_off + 2, csum_fold(wbuf_sum(&w, sum, pl.l4_off, mlen)));
	return wbuf_done(&w, pl.len);
}

ssize_t build_arp(uint8_t *buf, size_t cap, const uint8_t eth_dst[6], uint16_t op,
		  const uint8_t sha[6], const uint8_t spa[4], const uint8_t tha[6],
		  const uint8_t tpa[4])
{
	struct wbuf w = { .p = buf, .cap = cap };
	const size_t a = ETH_HDR_LEN;

	if (op != 1 && op != 2)
		return -EINVAL;
	if (cap < ETH_MIN_LEN)
		return -EMSGSIZE;

	put_eth(&w, eth_dst, sha, ETHERTYPE_ARP);
	/* RFC 826: ar$hrd 1 (Ethernet), ar$pro 0x0800, ar$hln 6, ar$pln 4, ar$op. */
	put_be16(&w, a, 1);
	put_be16(&w, a + 2, ETHERTYPE_IPV4);
	put_u8(&w, a + 4, 6);
	put_u8(&w, a + 5, 4);
	put_be16(&w, a + 6, op);
	put_bytes(&w, a + 8, sha, 6);
	put_bytes(&w, a + 14, spa, 4);
	put_bytes(&w, a + 18, tha, 6);
	put_bytes(&w, a + 24, tpa, 4);
	/* Padded with zeros to the Ethernet minimum (RFC 894). */
	put_zero(&w, a + ARP_ETH_IPV4_LEN, ETH_MIN_LEN - a - ARP_ETH_IPV4_LEN);
	return wbuf_done(&w, ETH_MIN_LEN);
}

ssize_t build_ndp_na(uint8_t *buf, size_t cap, const struct build_link *l, const uint8_t src[16],
		     const uint8_t dst[16], const uint8_t target[16], bool solicited, bool override,
		     const uint8_t tlla[6])
{
	struct wbuf w = { .p = buf, .cap = cap };
	/* RFC 4861 7.1.2: hop limit 255, so the receiver knows it came from the link. */
	struct build_ip ip = { .family = AF_INET6, .ttl = 255 };
	struct ip_plan pl;
	uint8_t flags;
	size_t o;
	int ret;

	/* The Target Link-Layer Address option makes sense on Ethernet only. */
	if (!l || l->link != LINK_ETHERNET)
		return -EINVAL;
	memcpy(ip.src, src, 16);
	memcpy(ip.dst, dst, 16);
	ret = ip_plan(l, &ip, NDP_NA_LEN, cap, &pl);
	if (ret < 0)
		return ret;

	put_link_ip(&w, l, &ip, IPPROTO_ICMPV6_, &pl);
	o = pl.l4_off;
	/* RFC 4861 4.4: type 136, code 0, R S O flags then 29 reserved bits, target. */
	put_u8(&w, o, 136);
	put_u8(&w, o + 1, 0);
	put_be16(&w, o + 2, 0);
	flags = (uint8_t)((solicited ? 0x40 : 0) | (override ? 0x20 : 0)); /* R = 0: a host */
	put_u8(&w, o + 4, flags);
	put_zero(&w, o + 5, 3);
	put_bytes(&w, o + 8, target, 16);
	/* RFC 4861 4.6.1: option type 2, length 1 (in units of 8 bytes), the address. */
	put_u8(&w, o + 24, 2);
	put_u8(&w, o + 25, 1);
	put_bytes(&w, o + 26, tlla, 6);
	put_be16(&w, o + 2,
		 csum_fold(wbuf_sum(&w, pseudo_sum(&ip, IPPROTO_ICMPV6_, NDP_NA_LEN), o,
				    NDP_NA_LEN)));
	return wbuf_done(&w, pl.len);
}
