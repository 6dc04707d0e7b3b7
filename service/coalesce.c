// SPDX-License-Identifier: MIT
/*
 * UDP datagrams of one flow into a USO super-frame (coalesce.h). The held
 * run is kept as the kernel will take it: the first datagram whole, behind
 * the room for its virtio-net header, then each later one's payload; the
 * lengths, the checksums and the header are written when it is taken.
 */
#include "coalesce.h"

#include <string.h>

#include "csum.h"
#include "gso.h"
#include "wire.h"

#define IPV4_HDR 20
#define IPV6_HDR 40
#define UDP_HDR	 8
#define IP_MAX	 65535

/*
 * Where the IP header of @f (the frame after the packet information, @all
 * the frame with it) starts, and its version: wire.h's checked getters.
 */
static bool ip_at(enum frame_link link, const struct cursor *all, const struct cursor *f,
		  size_t *l3, bool *v6)
{
	uint16_t type = 0, pi_type;
	uint8_t v;

	*l3 = link == LINK_ETHERNET ? 14 : 0;
	if (link == LINK_ETHERNET) {
		if (!cur_be16(f, 12, &type))
			return false;
	} else {
		if (!cur_u8(f, 0, &v))
			return false;
		type = v >> 4 == 4 ? ETHERTYPE_IPV4 : v >> 4 == 6 ? ETHERTYPE_IPV6 : 0;
		/* tun takes the protocol from the packet information: it must say the same. */
		if (link == LINK_IP_PI && (!cur_be16(all, 2, &pi_type) || pi_type != type))
			return false;
	}
	if (type != ETHERTYPE_IPV4 && type != ETHERTYPE_IPV6)
		return false;
	*v6 = type == ETHERTYPE_IPV6;
	return cur_u8(f, *l3, &v) && v >> 4 == (*v6 ? 6 : 4);
}

/*
 * A UDP datagram the kernel's cut gives back byte for byte: no IP options,
 * extension headers or fragment, lengths that fill the frame (no link
 * padding), a correct IPv4 header checksum and a correct, non-zero UDP
 * checksum (the kernel computes both again for every segment).
 */
static bool dgram_parse(const struct coalesce *c, const uint8_t *frame, size_t len,
			struct coalesce_dgram *d)
{
	struct cursor all = cur_init(frame, len), f;
	uint16_t ip_len, ulen, check, frag = 0;
	uint8_t first = 0, proto;
	const uint8_t *ip;
	uint32_t sum;
	size_t flen;

	if (len < c->pi)
		return false;
	flen = len - c->pi;
	f = cur_init(frame + c->pi, flen);
	if (!ip_at(c->link, &all, &f, &d->l3, &d->v6))
		return false;
	d->l4 = d->l3 + (d->v6 ? IPV6_HDR : IPV4_HDR);
	d->id = 0;
	/* The UDP header read last: the IP header before it is then inside the frame too. */
	if (!cur_u8(&f, d->l3 + (d->v6 ? 6 : 9), &proto) ||
	    !cur_be16(&f, d->l3 + (d->v6 ? 4 : 2), &ip_len) ||
	    (!d->v6 && (!cur_u8(&f, d->l3, &first) || !cur_be16(&f, d->l3 + 4, &d->id) ||
			!cur_be16(&f, d->l3 + 6, &frag))) ||
	    !cur_be16(&f, d->l4 + 4, &ulen) || !cur_be16(&f, d->l4 + 6, &check))
		return false;
	ip = f.p + d->l3;
	if (d->v6) {
		/* RFC 8200: the payload length is all after the fixed header; UDP directly. */
		if (ip_len != flen - d->l4 || proto != IPPROTO_UDP_)
			return false;
		sum = csum_pseudo6(ip + 8, ip + 24, IPPROTO_UDP_, ulen);
	} else {
		/* RFC 791: IHL 5; MF clear and offset 0 (DF may be either). */
		if (first != 0x45 || ip_len != flen - d->l3 || (frag & 0x3fff) != 0 ||
		    proto != IPPROTO_UDP_ || !csum_ipv4_header_ok(ip, IPV4_HDR))
			return false;
		sum = csum_pseudo4(ip + 12, ip + 16, IPPROTO_UDP_, ulen);
	}
	/* RFC 768: a zero checksum is none, which the kernel's cut would fill in. */
	if (ulen != flen - d->l4 || ulen <= UDP_HDR || check == 0 ||
	    csum_fold(csum_add(sum, f.p + d->l4, ulen)) != 0)
		return false;
	d->payload = (size_t)ulen - UDP_HDR;
	return true;
}

/* The held run's first frame, after its packet information and header. */
static uint8_t *held(const struct coalesce *c)
{
	return c->buf + c->pi + GSO_VNET_HDR_LEN;
}

/* @f (after the packet information) repeats the held run's headers, but for lengths, ids and checksums. */
static bool same_flow(const struct coalesce *c, const uint8_t *frame,
		      const struct coalesce_dgram *d)
{
	const uint8_t *f = frame + c->pi, *h = held(c);
	size_t l3 = c->l3;

	if (d->v6 != c->v6 || d->l3 != l3 || memcmp(frame, c->buf, c->pi) != 0 ||
	    memcmp(f, h, l3) != 0 || memcmp(f + c->l4, h + c->l4, 4) != 0)
		return false;
	if (d->v6)
		return memcmp(f + l3, h + l3, 4) == 0 && memcmp(f + l3 + 6, h + l3 + 6, 34) == 0;
	/* The kernel numbers the segments up from the first's identification. */
	return memcmp(f + l3, h + l3, 2) == 0 && memcmp(f + l3 + 6, h + l3 + 6, 4) == 0 &&
	       memcmp(f + l3 + 12, h + l3 + 12, 8) == 0 && d->id == (uint16_t)(c->id + c->n);
}

void coalesce_init(struct coalesce *c, uint8_t *buf, enum frame_link link)
{
	memset(c, 0, sizeof(*c));
	c->buf = buf;
	c->link = link;
	c->pi = link == LINK_IP_PI ? PI_HDR_LEN : 0;
}

/* @frame, found to be @d, as the first of a run. */
static void start(struct coalesce *c, const uint8_t *frame, size_t len,
		  const struct coalesce_dgram *d)
{
	memcpy(c->buf, frame, c->pi);
	memset(c->buf + c->pi, 0, GSO_VNET_HDR_LEN);
	memcpy(held(c), frame + c->pi, len - c->pi);
	c->len = len + GSO_VNET_HDR_LEN;
	c->l3 = d->l3;
	c->l4 = d->l4;
	c->v6 = d->v6;
	c->id = d->id;
	c->mss = c->payload = d->payload;
	c->bytes = len;
	c->n = 1;
	c->closed = false;
}

bool coalesce_add(struct coalesce *c, const uint8_t *frame, size_t len)
{
	struct coalesce_dgram d;
	size_t ip_len;

	c->startable = false;
	if (!dgram_parse(c, frame, len, &d))
		return false;
	if (c->n == 0) {
		start(c, frame, len, &d);
		return true;
	}
	/* The IP datagram the run becomes: its length field holds at most IP_MAX. */
	ip_len = (c->v6 ? 0 : IPV4_HDR) + UDP_HDR + c->payload + d.payload;
	if (c->closed || c->n >= COALESCE_SEGS_MAX || d.payload > c->mss || ip_len > IP_MAX ||
	    !same_flow(c, frame, &d)) {
		c->next = d;
		c->startable = true;
		return false;
	}
	memcpy(c->buf + c->len, frame + c->pi + d.l4 + UDP_HDR, d.payload);
	c->len += d.payload;
	c->payload += d.payload;
	c->bytes += len;
	c->n++;
	/* Only the last segment may be shorter than the rest (the kernel cuts gso_size each). */
	c->closed = d.payload < c->mss;
	return true;
}

void coalesce_start(struct coalesce *c, const uint8_t *frame, size_t len)
{
	c->startable = false;
	start(c, frame, len, &c->next);
}

/* struct virtio_net_hdr in the host's byte order (tun's legacy layout). */
static void put_vnet_hdr(uint8_t *p, const struct gso_hdr *h)
{
	p[0] = h->flags;
	p[1] = h->gso_type;
	memcpy(p + 2, &h->hdr_len, 2);
	memcpy(p + 4, &h->gso_size, 2);
	memcpy(p + 6, &h->csum_start, 2);
	memcpy(p + 8, &h->csum_offset, 2);
}

size_t coalesce_take(struct coalesce *c, const uint8_t **out, unsigned *n, uint64_t *bytes)
{
	uint8_t *f = held(c), *ip = f + c->l3, *udp = f + c->l4;
	size_t len = c->len, ulen = UDP_HDR + c->payload;
	uint32_t pseudo;

	*n = c->n;
	*bytes = c->bytes;
	*out = c->buf;
	c->len = 0;
	c->n = 0;
	if (*n < 2)
		return *n ? len : 0;
	if (c->v6) {
		wire_put16(ip + 4, (unsigned)ulen);
		pseudo = csum_pseudo6(ip + 8, ip + 24, IPPROTO_UDP_, (uint32_t)ulen);
	} else {
		wire_put16(ip + 2, (unsigned)(IPV4_HDR + ulen));
		wire_put16(ip + 10, 0);
		wire_put16(ip + 10, csum_fold(csum_add(0, ip, IPV4_HDR)));
		pseudo = csum_pseudo4(ip + 12, ip + 16, IPPROTO_UDP_, (uint32_t)ulen);
	}
	wire_put16(udp + 4, (unsigned)ulen);
	/* A partial checksum: the pseudo-header's sum, folded, not complemented. */
	wire_put16(udp + 6, (uint16_t)~csum_fold(pseudo));
	put_vnet_hdr(c->buf + c->pi, &(struct gso_hdr){
					     .flags = GSO_F_NEEDS_CSUM,
					     .gso_type = GSO_TYPE_UDP_L4,
					     .hdr_len = (uint16_t)(c->l4 + UDP_HDR),
					     .gso_size = (uint16_t)c->mss,
					     .csum_start = (uint16_t)c->l4,
					     .csum_offset = 6,
				     });
	return len;
}
