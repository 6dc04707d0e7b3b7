// SPDX-License-Identifier: MIT
/*
 * GSO super-frames into logical datagrams, the way the kernel's own
 * software segmentation (tcp_gso_segment(), __udp_gso_segment()) cuts
 * them: the headers copied in front of every gso_size bytes of payload,
 * then per segment the IPv4 total length, identification (+1 each) and
 * header checksum or the IPv6 payload length, the TCP sequence number
 * (FIN and PSH on the last segment only, CWR on the first only) or the
 * UDP length, and the TCP or UDP checksum over the segment. vnet.c calls
 * it for every read of a port with a virtio-net header, on any queue.
 *
 * Segments are built where the super-frame lies: the saved headers are
 * written just in front of each segment's payload, over the end of the
 * segment before, which the caller is done with by then. No payload byte
 * is copied; the one pass over it is the checksum's.
 *
 * Everything is checked in gso_begin(), before any byte is written, so
 * gso_next() cannot fail and a refused super-frame leaves nothing behind
 * (but a completed partial checksum, which is only done once the frame
 * was found to hold it).
 */
#include "gso.h"

#include <errno.h>
#include <string.h>

#include "csum.h"
#include "wire.h"

#define IPPROTO_TCP_   6
#define ETHERTYPE_VLAN 0x8100 /* IEEE 802.1Q */
#define ETHERTYPE_QINQ 0x88a8 /* IEEE 802.1ad: the outer tag */
#define TCP_FIN	       0x01
#define TCP_PSH	       0x08
#define TCP_CWR	       0x80

bool gso_hdr_read(const uint8_t *p, size_t len, struct gso_hdr *h)
{
	struct cursor c = cur_init(p, len);

	/* struct virtio_net_hdr: flags, gso_type, then four 16-bit fields (host order). */
	return cur_u8(&c, 0, &h->flags) && cur_u8(&c, 1, &h->gso_type) &&
	       cur_he16(&c, 2, &h->hdr_len) && cur_he16(&c, 4, &h->gso_size) &&
	       cur_he16(&c, 6, &h->csum_start) && cur_he16(&c, 8, &h->csum_offset);
}

/*
 * Where the IP header starts and, on Ethernet, which ethertype it has
 * (0 on tun: the version nibble tells). One 802.1Q or 802.1ad tag is
 * stepped over (tun puts an offloaded tag back into the frame).
 */
static int link_offset(const struct cursor *c, enum frame_link link, size_t *l3, uint16_t *etype)
{
	*etype = 0;
	if (link == LINK_IP) {
		*l3 = 0;
		return 0;
	}
	if (link == LINK_IP_PI) {
		*l3 = PI_HDR_LEN;
		return cur_has(c, 0, PI_HDR_LEN) ? 0 : -EINVAL;
	}
	if (!cur_be16(c, 12, etype))
		return -EINVAL;
	*l3 = 14;
	if (*etype == ETHERTYPE_VLAN || *etype == ETHERTYPE_QINQ) {
		if (!cur_be16(c, 16, etype))
			return -EINVAL;
		*l3 = 18;
		if (*etype == ETHERTYPE_VLAN || *etype == ETHERTYPE_QINQ)
			return -EPROTONOSUPPORT;
	}
	return 0;
}

/*
 * No segmenting: a partial checksum is completed as the kernel's
 * skb_checksum_help() does (the field holds the pseudo-header's sum; the
 * one's-complement sum from csum_start to the end is folded into it, 0
 * written as 0xffff, RFC 768's "no checksum" never produced).
 */
static int pass_through(struct gso_iter *it, const struct gso_hdr *h, const struct cursor *c,
			size_t base, size_t l3)
{
	size_t cs = base + h->csum_start;
	uint16_t v;

	if (h->gso_type != GSO_TYPE_NONE)
		return -EINVAL;
	it->n = 1;
	if (!(h->flags & GSO_F_NEEDS_CSUM))
		return 0;
	/* Inside the frame, after its link header, the field's 2 bytes included. */
	if (cs < l3 || !cur_has(c, cs, (size_t)h->csum_offset + 2))
		return -EINVAL;
	/* Summed with the field as it is: it holds the pseudo-header's part. */
	v = csum_fold(csum_add(0, it->frame + cs, it->len - cs));
	wire_put16(it->frame + cs + h->csum_offset, v ? v : 0xffff);
	return 0;
}

/* The IPv4 header at it->l3 (RFC 791): sets l4, end and the id; a fragment is refused. */
static int ipv4_header(struct gso_iter *it, const struct cursor *c, uint8_t proto)
{
	uint8_t vihl, p;
	uint16_t total, frag;
	size_t ihl;

	if (!cur_u8(c, it->l3, &vihl) || !cur_be16(c, it->l3 + 2, &total) ||
	    !cur_be16(c, it->l3 + 4, &it->ip_id) || !cur_be16(c, it->l3 + 6, &frag) ||
	    !cur_u8(c, it->l3 + 9, &p))
		return -EINVAL;
	ihl = (size_t)(vihl & 0x0f) * 4;
	if (vihl >> 4 != 4 || ihl < 20 || total < ihl || !cur_has(c, it->l3, total))
		return -EINVAL;
	/* MF or a fragment offset: a fragment is never a GSO super-frame. */
	if (frag & 0x3fff)
		return -EPROTONOSUPPORT;
	if (p != proto)
		return -EINVAL;
	it->l4 = it->l3 + ihl;
	it->end = it->l3 + total;
	return 0;
}

/* The IPv6 header (RFC 8200): the upper layer right after it, no extension header. */
static int ipv6_header(struct gso_iter *it, const struct cursor *c, uint8_t proto)
{
	uint16_t plen;
	uint8_t v, nh;

	if (!cur_u8(c, it->l3, &v) || !cur_be16(c, it->l3 + 4, &plen) ||
	    !cur_u8(c, it->l3 + 6, &nh))
		return -EINVAL;
	/* A payload length of 0 is a jumbogram (RFC 2675): not 64 KiB of GSO. */
	if (v >> 4 != 6 || plen == 0 || !cur_has(c, it->l3, 40 + (size_t)plen))
		return -EINVAL;
	if (nh != proto)
		return nh == IPPROTO_TCP_ || nh == IPPROTO_UDP_ ? -EINVAL : -EPROTONOSUPPORT;
	it->l4 = it->l3 + 40;
	it->end = it->l3 + 40 + plen;
	return 0;
}

/*
 * The sum of the @ihl bytes of an IPv4 header at @ip without the fields
 * each segment sets (total length, id, checksum): a segment adds its own
 * two (RFC 1624's incremental update) instead of summing it all. Folded to
 * 16 bits, so that the two fields (at most 0x1fffe) cannot carry out.
 */
static uint32_t ipv4_sum_but_len_id(const uint8_t *ip, size_t ihl)
{
	uint8_t h[60];

	memcpy(h, ip, ihl);
	memset(h + 2, 0, 4);
	memset(h + 10, 0, 2);
	return (uint16_t)~csum_fold(csum_add(0, h, ihl));
}

/* The IP version the link says: the ethertype on Ethernet, the version nibble on tun. */
static int ip_version(const struct cursor *c, size_t l3, uint16_t etype, enum frame_link link,
		      bool *v6)
{
	uint8_t v;

	if (link == LINK_ETHERNET) {
		if (etype != ETHERTYPE_IPV4 && etype != ETHERTYPE_IPV6)
			return -EINVAL;
		*v6 = etype == ETHERTYPE_IPV6;
		return 0;
	}
	if (!cur_u8(c, l3, &v) || (v >> 4 != 4 && v >> 4 != 6))
		return -EINVAL;
	*v6 = v >> 4 == 6;
	return 0;
}

int gso_begin(struct gso_iter *it, const struct gso_hdr *h, uint8_t *frame, size_t len,
	      enum frame_link link)
{
	struct cursor c = cur_init(frame, len);
	/* csum_start counts from the kernel's frame: after the packet information. */
	size_t base = link == LINK_IP_PI ? PI_HDR_LEN : 0;
	uint8_t type = h->gso_type & (uint8_t)~GSO_ECN, proto, doff;
	size_t payload;
	uint16_t etype;
	int ret;

	memset(it, 0, sizeof(*it));
	it->frame = frame;
	it->len = len;
	it->data_valid = h->flags & GSO_F_DATA_VALID;
	/*
	 * An empty frame is no datagram; tun_get_user()'s own rule for what it
	 * is given: the linear part within the frame.
	 */
	if (len == 0 || len < base || h->hdr_len > len - base)
		return -EINVAL;
	/*
	 * Nothing to cut: the frame goes on as a plain port reads it, however
	 * many tags or few bytes it has (the parser judges it); a partial
	 * checksum, where the kernel's csum_start says, after the link
	 * header's fixed part.
	 */
	if (type == GSO_TYPE_NONE)
		return pass_through(it, h, &c, base, link == LINK_ETHERNET ? 14 : base);
	ret = link_offset(&c, link, &it->l3, &etype);
	if (ret < 0)
		return ret;

	if (type == GSO_TYPE_UDP)
		return -EPROTONOSUPPORT;
	if (type != GSO_TYPE_TCPV4 && type != GSO_TYPE_TCPV6 && type != GSO_TYPE_UDP_L4)
		return -EINVAL;
	if ((h->gso_type & GSO_ECN) && type == GSO_TYPE_UDP_L4)
		return -EINVAL;
	if (h->gso_size == 0)
		return -EINVAL;
	ret = ip_version(&c, it->l3, etype, link, &it->v6);
	if (ret < 0)
		return ret;
	if ((type == GSO_TYPE_TCPV4 && it->v6) || (type == GSO_TYPE_TCPV6 && !it->v6))
		return -EINVAL;
	proto = type == GSO_TYPE_UDP_L4 ? IPPROTO_UDP_ : IPPROTO_TCP_;
	ret = it->v6 ? ipv6_header(it, &c, proto) : ipv4_header(it, &c, proto);
	if (ret < 0)
		return ret;
	/* A checksum to finish elsewhere than in this TCP or UDP header is not ours to cut. */
	if ((h->flags & GSO_F_NEEDS_CSUM) &&
	    (base + h->csum_start != it->l4 || h->csum_offset != (proto == IPPROTO_UDP_ ? 6 : 16)))
		return -EINVAL;
	if (proto == IPPROTO_TCP_) {
		/* RFC 9293 3.1: the data offset, in 32-bit words, 5 at least. */
		if (!cur_u8(&c, it->l4 + 12, &doff) || !cur_u8(&c, it->l4 + 13, &it->tcp_flags) ||
		    !cur_be32(&c, it->l4 + 4, &it->seq))
			return -EINVAL;
		it->hlen = it->l4 + (size_t)(doff >> 4) * 4;
		if (doff >> 4 < 5)
			return -EINVAL;
	} else {
		it->hlen = it->l4 + 8;
	}
	if (it->hlen >= it->end)
		return -EINVAL;
	payload = it->end - it->hlen;
	it->mss = h->gso_size;
	it->n = (unsigned)((payload + it->mss - 1) / it->mss);
	it->kind = proto;
	it->off = it->hlen;
	if (it->n > GSO_SEGS_MAX)
		return -E2BIG;
	/* Cannot be longer by construction (link, IP and TCP headers at their longest). */
	if (it->hlen > GSO_HDR_MAX)
		return -EINVAL;
	memcpy(it->hdr, frame, it->hlen);
	if (!it->v6)
		it->ip_sum = ipv4_sum_but_len_id(it->hdr + it->l3, it->l4 - it->l3);
	return 0;
}

size_t gso_next(struct gso_iter *it, const uint8_t **seg)
{
	size_t chunk, len, l4len;
	uint8_t *out, *l3, *l4;
	uint32_t sum;
	unsigned v, at;
	bool last;

	if (it->i >= it->n)
		return 0;
	if (!it->kind) {
		it->i++;
		*seg = it->frame;
		return it->len;
	}
	chunk = it->end - it->off < it->mss ? it->end - it->off : it->mss;
	last = it->i + 1 == it->n;
	len = it->hlen + chunk;
	/* In front of this segment's payload, over the end of the last one (or where they were). */
	out = it->frame + (it->off - it->hlen);
	memcpy(out, it->hdr, it->hlen);
	l3 = out + it->l3;
	l4 = out + it->l4;
	l4len = len - it->l4;
	if (it->v6) {
		wire_put16(l3 + 4, (unsigned)(len - it->l3 - 40));
	} else {
		unsigned total = (unsigned)(len - it->l3), id = (it->ip_id + it->i) & 0xffff;

		wire_put16(l3 + 2, total);
		wire_put16(l3 + 4, id);
		wire_put16(l3 + 10, csum_fold(it->ip_sum + total + id));
	}
	if (it->kind == IPPROTO_TCP_) {
		uint8_t flags = it->tcp_flags;

		if (it->i > 0)
			flags &= (uint8_t)~TCP_CWR;
		if (!last)
			flags &= (uint8_t) ~(TCP_FIN | TCP_PSH);
		wire_put32(l4 + 4, it->seq + (uint32_t)(it->off - it->hlen));
		l4[13] = flags;
		at = 16;
	} else {
		wire_put16(l4 + 4, (unsigned)l4len);
		at = 6;
	}
	if (!it->leave_l4) {
		sum = it->v6 ? csum_pseudo6(l3 + 8, l3 + 24, it->kind, (uint32_t)l4len)
			     : csum_pseudo4(l3 + 12, l3 + 16, it->kind, (uint32_t)l4len);
		wire_put16(l4 + at, 0);
		v = csum_fold(csum_add(sum, l4, l4len));
		/* RFC 768: a computed 0 is sent as all ones, 0 meaning "no checksum". */
		wire_put16(l4 + at, v || it->kind == IPPROTO_TCP_ ? v : 0xffff);
	}
	it->off += chunk;
	it->i++;
	*seg = out;
	return len;
}
