// SPDX-License-Identifier: MIT
/*
 * Unit tests of service/gso.c and of the vnet_hdr ports that use it
 * (port.c on the memory port I/O, through the API): hand-built TCP (IPv4,
 * IPv6 with options, ECN) and UDP (IPv4, IPv6) super-frames on tun, tun
 * with packet information and tap are cut into exactly the segments
 * written out here field by field, whose checksums are verified by a
 * byte-wise RFC 1071 sum of this file's own (not csum.c); a partial
 * checksum is completed so the parser finds it good; hostile headers and
 * every truncation are refused without a byte written. Then the plain path
 * on the same traffic: one super-frame read by a vnet_hdr port and its
 * segments read by a plain port give the same counters, binding counters
 * and captures; echo and forward write through a vnet_hdr port with the
 * header in its place; the offloads asked for and the fallback without
 * USO (kernels before 6.2), logged once wherever the refusal comes;
 * vnet_hdr in the configuration.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../service/gso.h"
#include "../../service/log.h"
#include "../../service/parse.h"
#include "../../service/port.h"
#include "../../service/portset.h"
#include "../fakes/portio_mem.h"
#include "support.h"

#define BUF_MAX	 (70 * 1024)
#define SEGS_MAX 64

/* --- an independent checksum: 16-bit big-endian words, one at a time (RFC 1071) --- */

static uint32_t ref_sum(uint32_t acc, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		acc += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		acc += (uint32_t)p[n - 1] << 8;
	return acc;
}

static uint16_t ref_fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

/* The pseudo-header (RFC 768, RFC 8200 8.1) of the IP header at @ip, for @l4len bytes. */
static uint32_t ref_pseudo(const uint8_t *ip, bool v6, uint8_t proto, size_t l4len)
{
	uint32_t acc = v6 ? ref_sum(0, ip + 8, 32) : ref_sum(0, ip + 12, 8);

	return acc + proto + (uint32_t)(l4len >> 16) + (uint32_t)(l4len & 0xffff);
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* --- frames written out field by field --- */

struct spec {
	enum frame_link link;
	bool v6;
	uint8_t proto;	/* 6 or 17 */
	size_t tcp_opt; /* TCP option bytes, a multiple of 4 */
	uint32_t seq;
	uint16_t id;
	uint8_t flags; /* TCP */
	uint16_t dport;
};

/* Offsets of the IP and transport headers for @s. */
static size_t l3_of(const struct spec *s)
{
	return s->link == LINK_ETHERNET ? 14 : s->link == LINK_IP_PI ? 4 : 0;
}

static size_t l4_of(const struct spec *s)
{
	return l3_of(s) + (s->v6 ? 40 : 20);
}

static size_t hlen_of(const struct spec *s)
{
	return l4_of(s) + (s->proto == 6 ? 20 + s->tcp_opt : 8);
}

/*
 * [link][IP][TCP or UDP][payload] into @buf. @partial: the transport
 * checksum field holds the pseudo-header's sum, as the kernel leaves it
 * for CHECKSUM_PARTIAL; otherwise every checksum is complete.
 */
static size_t build(uint8_t *buf, const struct spec *s, const uint8_t *payload, size_t plen,
		    bool partial)
{
	size_t l3 = l3_of(s), l4 = l4_of(s), h = hlen_of(s), len = h + plen, l4len = len - l4;
	uint8_t *ip = buf + l3, *t = buf + l4;
	uint16_t c;

	memset(buf, 0, h);
	if (s->link == LINK_ETHERNET) {
		memcpy(buf, (const uint8_t[]){ 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1 }, 12);
		wr16(buf + 12, s->v6 ? 0x86dd : 0x0800);
	} else if (s->link == LINK_IP_PI) {
		wr16(buf + 2, s->v6 ? 0x86dd : 0x0800);
	}
	if (s->v6) {
		ip[0] = 0x60;
		wr16(ip + 4, (unsigned)(len - l3 - 40));
		ip[6] = s->proto;
		ip[7] = 64;
		memcpy(ip + 8, (const uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8, [15] = 1 }, 16);
		memcpy(ip + 24, (const uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8, [15] = 2 }, 16);
	} else {
		ip[0] = 0x45;
		wr16(ip + 2, (unsigned)(len - l3));
		wr16(ip + 4, s->id);
		ip[6] = 0x40; /* DF */
		ip[8] = 64;
		ip[9] = s->proto;
		memcpy(ip + 12, (const uint8_t[]){ 198, 18, 0, 1 }, 4);
		memcpy(ip + 16, (const uint8_t[]){ 198, 18, 0, 2 }, 4);
		wr16(ip + 10, (uint16_t)~ref_fold(ref_sum(0, ip, 20)));
	}
	wr16(t, 40000);
	wr16(t + 2, s->dport);
	if (s->proto == 6) {
		t[4] = (uint8_t)(s->seq >> 24);
		t[5] = (uint8_t)(s->seq >> 16);
		t[6] = (uint8_t)(s->seq >> 8);
		t[7] = (uint8_t)s->seq;
		t[11] = 7; /* ack */
		t[12] = (uint8_t)(((20 + s->tcp_opt) / 4) << 4);
		t[13] = s->flags;
		wr16(t + 14, 65535);
		/* NOP padding then a timestamp option, when asked for. */
		for (size_t i = 0; i < s->tcp_opt; i++)
			t[20 + i] = i < s->tcp_opt - 10 ? 1 : (uint8_t)(i + 3);
		if (s->tcp_opt >= 10) {
			t[20 + s->tcp_opt - 10] = 8;
			t[20 + s->tcp_opt - 9] = 10;
		}
	} else {
		wr16(t + 4, (unsigned)l4len);
	}
	memcpy(buf + h, payload, plen);
	if (partial) {
		c = ref_fold(ref_pseudo(ip, s->v6, s->proto, l4len));
	} else {
		c = (uint16_t)~ref_fold(ref_sum(ref_pseudo(ip, s->v6, s->proto, l4len), t, l4len));
		if (c == 0 && s->proto == 17)
			c = 0xffff;
	}
	wr16(t + (s->proto == 6 ? 16 : 6), c);
	return len;
}

/* Every checksum of a frame of @s verified by the reference sum. */
static void verify(const struct spec *s, const uint8_t *f, size_t len)
{
	const uint8_t *ip = f + l3_of(s), *t = f + l4_of(s);
	size_t l4len = len - l4_of(s);

	if (!s->v6)
		assert_int_equal(ref_fold(ref_sum(0, ip, 20)), 0xffff);
	assert_int_equal(ref_fold(ref_sum(ref_pseudo(ip, s->v6, s->proto, l4len), t, l4len)),
			 0xffff);
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7 + seed + (i >> 8));
}

/* struct virtio_net_hdr in the host's byte order. */
static void vhdr(uint8_t out[GSO_VNET_HDR_LEN], uint8_t flags, uint8_t type, uint16_t hdr_len,
		 uint16_t gso_size, uint16_t cs_start, uint16_t cs_off)
{
	out[0] = flags;
	out[1] = type;
	memcpy(out + 2, &hdr_len, 2);
	memcpy(out + 4, &gso_size, 2);
	memcpy(out + 6, &cs_start, 2);
	memcpy(out + 8, &cs_off, 2);
}

/* The header the kernel gives a super-frame of @s: GSO, partial checksum at the transport. */
static struct gso_hdr hdr_for(const struct spec *s, uint8_t type, uint16_t mss)
{
	size_t base = s->link == LINK_IP_PI ? 4 : 0;
	struct gso_hdr h = {
		.flags = GSO_F_NEEDS_CSUM,
		.gso_type = type,
		.hdr_len = (uint16_t)(hlen_of(s) - base),
		.gso_size = mss,
		.csum_start = (uint16_t)(l4_of(s) - base),
		.csum_offset = s->proto == 6 ? 16 : 6,
	};

	return h;
}

struct fx {
	uint8_t super[BUF_MAX];
	uint8_t want[BUF_MAX];
	uint8_t payload[BUF_MAX];
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	log_set_level(LOG_ERROR);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

/*
 * Segments a super-frame of @s carrying @plen payload bytes by @mss and
 * compares every segment with the one written out by hand: seq and id
 * advanced, lengths, flags, checksums. Returns the number of segments.
 */
static unsigned check_segments(struct fx *fx, const struct spec *s, uint8_t type, size_t plen,
			       uint16_t mss)
{
	struct gso_hdr h = hdr_for(s, type, mss);
	size_t len, m, off = 0;
	struct gso_iter it;
	const uint8_t *seg;
	unsigned i = 0;

	fill(fx->payload, plen, (unsigned)plen);
	len = build(fx->super, s, fx->payload, plen, true);
	assert_int_equal(gso_begin(&it, &h, fx->super, len, s->link), 0);
	assert_int_equal(gso_count(&it), (plen + mss - 1) / mss);
	while ((m = gso_next(&it, &seg)) > 0) {
		struct spec e = *s;
		size_t chunk = plen - off < mss ? plen - off : mss;
		bool last = off + chunk == plen;
		size_t wl;

		/* Built in the super-frame's bytes, in front of its payload. */
		assert_ptr_equal(seg, fx->super + off);
		e.seq = s->seq + (uint32_t)off;
		e.id = (uint16_t)(s->id + i);
		if (i > 0)
			e.flags &= (uint8_t)~0x80; /* CWR on the first segment only */
		if (!last)
			e.flags &= (uint8_t)~0x09; /* FIN and PSH on the last only */
		wl = build(fx->want, &e, fx->payload + off, chunk, false);
		assert_int_equal(m, wl);
		assert_memory_equal(seg, fx->want, wl);
		verify(s, seg, m);
		off += chunk;
		i++;
		assert_true(i <= SEGS_MAX);
	}
	assert_int_equal(off, plen);
	assert_int_equal(i, gso_count(&it));
	assert_int_equal(gso_next(&it, &seg), 0);
	return i;
}

static void test_tcp4(void **state)
{
	struct spec s = { .link = LINK_IP,
			  .proto = 6,
			  .seq = 0xfffff000u,
			  .id = 0xfffe,
			  .flags = 0x80 | 0x10 | 0x08 | 0x01,
			  .dport = 80 };

	/* The sequence number and the id wrap; CWR, PSH and FIN where they belong. */
	assert_int_equal(check_segments(*state, &s, GSO_TYPE_TCPV4 | GSO_ECN, 5000, 1448), 4);
	s.link = LINK_IP_PI;
	assert_int_equal(check_segments(*state, &s, GSO_TYPE_TCPV4, 1448 * 3, 1448), 3);
	s.link = LINK_ETHERNET;
	s.tcp_opt = 12;
	assert_int_equal(check_segments(*state, &s, GSO_TYPE_TCPV4, 65000, 1448), 45);
}

static void test_tcp6(void **state)
{
	struct spec s = { .link = LINK_ETHERNET,
			  .v6 = true,
			  .proto = 6,
			  .tcp_opt = 12,
			  .seq = 1000,
			  .flags = 0x18,
			  .dport = 443 };

	assert_int_equal(check_segments(*state, &s, GSO_TYPE_TCPV6 | GSO_ECN, 10000, 1428), 8);
	s.link = LINK_IP;
	assert_int_equal(check_segments(*state, &s, GSO_TYPE_TCPV6, 60000, 8960), 7);
	s.link = LINK_IP_PI;
	assert_int_equal(check_segments(*state, &s, GSO_TYPE_TCPV6, 1, 1448), 1);
}

static void test_udp(void **state)
{
	struct spec s = { .link = LINK_IP, .proto = 17, .id = 77, .dport = 9000 };

	assert_int_equal(check_segments(*state, &s, GSO_TYPE_UDP_L4, 46 * 1400, 1400), 46);
	s.link = LINK_IP_PI;
	assert_int_equal(check_segments(*state, &s, GSO_TYPE_UDP_L4, 10 * 1400 + 300, 1400), 11);
	s.link = LINK_ETHERNET;
	assert_int_equal(check_segments(*state, &s, GSO_TYPE_UDP_L4, 64 * 64, 64), 64);
	s.v6 = true;
	assert_int_equal(check_segments(*state, &s, GSO_TYPE_UDP_L4, 5 * 1232 + 1, 1232), 6);
	s.link = LINK_IP;
	assert_int_equal(check_segments(*state, &s, GSO_TYPE_UDP_L4, 3 * 1400, 1400), 3);
	s.link = LINK_IP_PI;
	assert_int_equal(check_segments(*state, &s, GSO_TYPE_UDP_L4, 100, 1400), 1);
	/* Segments shorter than their headers: each is written over the whole last one. */
	s.link = LINK_ETHERNET;
	assert_int_equal(check_segments(*state, &s, GSO_TYPE_UDP_L4, 50 * 16 + 3, 16), 51);
}

/* A checksum of 0 goes out as 0xffff for UDP (RFC 768), as the kernel sends it. */
/*
 * gso_leave_l4_csum(): the segments as check_segments() wants them but for
 * the TCP or UDP checksum, which keeps the super-frame's partial sum.
 */
static void test_leave_l4_csum(void **state)
{
	struct fx *fx = *state;
	const struct spec specs[] = {
		{ .link = LINK_IP, .proto = 17, .id = 9, .dport = 9000 },
		{ .link = LINK_ETHERNET, .v6 = true, .proto = 6, .seq = 7, .flags = 0x18 },
	};
	const uint8_t types[] = { GSO_TYPE_UDP_L4, GSO_TYPE_TCPV6 };

	for (size_t k = 0; k < 2; k++) {
		const struct spec *s = &specs[k];
		struct gso_hdr h = hdr_for(s, types[k], 1000);
		size_t at = l4_of(s) + (s->proto == 6 ? 16 : 6), len, m, off = 0;
		struct gso_iter it;
		const uint8_t *seg;
		uint8_t partial[2];
		unsigned i = 0;

		fill(fx->payload, 3500, 3);
		len = build(fx->super, s, fx->payload, 3500, true);
		memcpy(partial, fx->super + at, 2);
		assert_int_equal(gso_begin(&it, &h, fx->super, len, s->link), 0);
		gso_leave_l4_csum(&it);
		while ((m = gso_next(&it, &seg)) > 0) {
			struct spec e = *s;
			size_t chunk = 3500 - off < 1000 ? 3500 - off : 1000;

			e.seq = s->seq + (uint32_t)off;
			e.id = (uint16_t)(s->id + i);
			if (off + chunk < 3500)
				e.flags &= (uint8_t)~0x09;
			assert_int_equal(m, build(fx->want, &e, fx->payload + off, chunk, false));
			assert_memory_equal(seg + at, partial, 2);
			memcpy(fx->want + at, partial, 2);
			assert_memory_equal(seg, fx->want, m);
			off += chunk;
			i++;
		}
		assert_int_equal(i, 4);
	}
}

static void test_udp_zero_checksum(void **state)
{
	struct fx *fx = *state;
	struct spec s = { .link = LINK_IP, .proto = 17, .dport = 9000 };
	struct gso_hdr h = hdr_for(&s, GSO_TYPE_UDP_L4, 2);
	const uint8_t *seg;
	struct gso_iter it;
	size_t len, m;
	uint8_t w[2];
	uint16_t c;

	/* Two payload bytes chosen so that the segment's sum comes to 0xffff. */
	len = build(fx->super, &s, (const uint8_t[]){ 0, 0 }, 2, false);
	c = rd16(fx->super + 26);
	c = c == 0xffff ? 0 : c;
	w[0] = (uint8_t)(c >> 8);
	w[1] = (uint8_t)c;
	build(fx->super, &s, w, 2, true);
	assert_int_equal(gso_begin(&it, &h, fx->super, len, LINK_IP), 0);
	m = gso_next(&it, &seg);
	assert_int_equal(m, len);
	assert_int_equal(rd16(seg + 26), 0xffff);
	verify(&s, seg, m);
}

/* No GSO, checksum partial: completed in place, and the parser finds it good. */
static void test_needs_csum(void **state)
{
	struct fx *fx = *state;
	static const enum frame_link links[] = { LINK_IP, LINK_IP_PI, LINK_ETHERNET };

	for (size_t k = 0; k < 3; k++) {
		for (int v6 = 0; v6 < 2; v6++) {
			for (int tcp = 0; tcp < 2; tcp++) {
				struct spec s = { .link = links[k],
						  .v6 = v6,
						  .proto = tcp ? 6 : 17,
						  .dport = 9000,
						  .flags = 0x18 };
				struct gso_hdr h = hdr_for(&s, GSO_TYPE_NONE, 0);
				struct frame_info fi;
				const uint8_t *seg;
				struct gso_iter it;
				size_t len, m;

				fill(fx->payload, 333, (unsigned)k);
				len = build(fx->super, &s, fx->payload, 333, true);
				build(fx->want, &s, fx->payload, 333, false);
				assert_int_equal(gso_begin(&it, &h, fx->super, len, s.link), 0);
				m = gso_next(&it, &seg);
				assert_ptr_equal(seg, fx->super); /* in place, not copied */
				assert_int_equal(m, len);
				assert_memory_equal(seg, fx->want, len);
				verify(&s, seg, m);
				if (!tcp) {
					frame_parse(seg, m, s.link, PARSE_STRICT, &fi);
					assert_int_equal(fi.malformed, MALFORMED_NONE);
					assert_int_equal(fi.udp.checksum_status, CSUM_OK);
				}
				assert_int_equal(gso_next(&it, &seg), 0);
			}
		}
	}
}

/* Nothing asked: the frame passes as it is (an ARP frame on a tap, say), DATA_VALID noted. */
static void test_pass_through(void **state)
{
	struct fx *fx = *state;
	struct gso_hdr h = { .flags = GSO_F_DATA_VALID };
	const uint8_t *seg;
	struct gso_iter it;

	memset(fx->super, 0xab, 60);
	assert_int_equal(gso_begin(&it, &h, fx->super, 60, LINK_ETHERNET), 0);
	assert_true(it.data_valid);
	assert_int_equal(gso_next(&it, &seg), 60);
	assert_ptr_equal(seg, fx->super);
	assert_int_equal(gso_next(&it, &seg), 0);
	/*
	 * Whatever a plain port would read passes as it is, for the parser to
	 * judge: two VLAN tags (802.1ad + 802.1Q), a frame shorter than an
	 * Ethernet header. With a partial checksum to complete behind two
	 * tags, the kernel's csum_start says where.
	 */
	memset(fx->super, 0, 60);
	wr16(fx->super + 12, 0x88a8);
	wr16(fx->super + 16, 0x8100);
	wr16(fx->super + 20, 0x0800);
	assert_int_equal(gso_begin(&it, &h, fx->super, 60, LINK_ETHERNET), 0);
	assert_int_equal(gso_next(&it, &seg), 60);
	assert_int_equal(gso_begin(&it, &h, fx->super, 13, LINK_ETHERNET), 0);
	assert_int_equal(gso_next(&it, &seg), 13);
	h.flags = GSO_F_NEEDS_CSUM;
	h.csum_start = 22 + 20; /* past both tags and a 20-byte IPv4 header */
	h.csum_offset = 6;
	assert_int_equal(gso_begin(&it, &h, fx->super, 60, LINK_ETHERNET), 0);
	assert_int_equal(rd16(fx->super + 42 + 6), 0xffff); /* all zeros: +0 written as -0 */
	/* Not inside the link header's fixed part, nor past the frame. */
	h.csum_start = 13;
	assert_int_equal(gso_begin(&it, &h, fx->super, 60, LINK_ETHERNET), -EINVAL);
	h.csum_start = 59;
	assert_int_equal(gso_begin(&it, &h, fx->super, 60, LINK_ETHERNET), -EINVAL);
	/* An empty frame is no datagram. */
	h.flags = 0;
	assert_int_equal(gso_begin(&it, &h, fx->super, 0, LINK_IP), -EINVAL);
}

static void test_hdr_read(void **state)
{
	uint8_t b[GSO_VNET_HDR_LEN];
	struct gso_hdr h;

	(void)state;
	vhdr(b, 1, 0x85, 54, 1400, 34, 6);
	assert_true(gso_hdr_read(b, sizeof(b), &h));
	assert_int_equal(h.flags, 1);
	assert_int_equal(h.gso_type, 0x85);
	assert_int_equal(h.hdr_len, 54);
	assert_int_equal(h.gso_size, 1400);
	assert_int_equal(h.csum_start, 34);
	assert_int_equal(h.csum_offset, 6);
	for (size_t n = 0; n < sizeof(b); n++)
		assert_false(gso_hdr_read(b, n, &h));
}

/* Applies a mutation to a good TCPv4 (or, @v6, IPv6 UDP) super-frame on tun and expects @err. */
typedef void (*mutate_fn)(uint8_t *f, size_t *len, struct gso_hdr *h);

static void m_mss0(uint8_t *f, size_t *len, struct gso_hdr *h)
{
	(void)f, (void)len;
	h->gso_size = 0;
}

static void m_mss1(uint8_t *f, size_t *len, struct gso_hdr *h)
{
	(void)f, (void)len;
	h->gso_size = 1; /* thousands of segments */
}

static void m_hdr_len(uint8_t *f, size_t *len, struct gso_hdr *h)
{
	(void)f;
	h->hdr_len = (uint16_t)(*len + 1);
}

static void m_cs_start(uint8_t *f, size_t *len, struct gso_hdr *h)
{
	(void)f, (void)len;
	h->csum_start = 20 + 4;
}

static void m_cs_offset(uint8_t *f, size_t *len, struct gso_hdr *h)
{
	(void)f, (void)len;
	h->csum_offset = 6;
}

static void m_none_cs_beyond(uint8_t *f, size_t *len, struct gso_hdr *h)
{
	(void)f;
	h->gso_type = GSO_TYPE_NONE;
	h->csum_start = (uint16_t)(*len - 1);
	h->csum_offset = 0;
}

static void m_none_cs_offset(uint8_t *f, size_t *len, struct gso_hdr *h)
{
	(void)f;
	h->gso_type = GSO_TYPE_NONE;
	h->csum_start = 20;
	h->csum_offset = (uint16_t)(*len - 21);
}

static void m_none_ecn(uint8_t *f, size_t *len, struct gso_hdr *h)
{
	(void)f, (void)len;
	h->gso_type = GSO_ECN;
}

static void m_ufo(uint8_t *f, size_t *len, struct gso_hdr *h)
{
	(void)f, (void)len;
	h->gso_type = GSO_TYPE_UDP;
}

static void m_type2(uint8_t *f, size_t *len, struct gso_hdr *h)
{
	(void)f, (void)len;
	h->gso_type = 2;
}

static void m_type_v6(uint8_t *f, size_t *len, struct gso_hdr *h)
{
	(void)f, (void)len;
	h->gso_type = GSO_TYPE_TCPV6;
}

static void m_uso_on_tcp(uint8_t *f, size_t *len, struct gso_hdr *h)
{
	(void)f, (void)len;
	h->gso_type = GSO_TYPE_UDP_L4;
}

static void m_uso_ecn(uint8_t *f, size_t *len, struct gso_hdr *h)
{
	(void)f, (void)len;
	h->gso_type = GSO_TYPE_UDP_L4 | GSO_ECN;
}

static void m_total_len(uint8_t *f, size_t *len, struct gso_hdr *h)
{
	(void)h;
	wr16(f + 2, (unsigned)(*len + 1));
}

static void m_total_short(uint8_t *f, size_t *len, struct gso_hdr *h)
{
	(void)len, (void)h;
	wr16(f + 2, 19);
}

static void m_headers_only(uint8_t *f, size_t *len, struct gso_hdr *h)
{
	(void)h;
	wr16(f + 2, 40);
	*len = 40;
}

static void m_ihl(uint8_t *f, size_t *len, struct gso_hdr *h)
{
	(void)len, (void)h;
	f[0] = 0x44;
}

static void m_version(uint8_t *f, size_t *len, struct gso_hdr *h)
{
	(void)len, (void)h;
	f[0] = 0x55;
}

static void m_fragment(uint8_t *f, size_t *len, struct gso_hdr *h)
{
	(void)len, (void)h;
	f[6] = 0x20; /* MF */
}

static void m_protocol(uint8_t *f, size_t *len, struct gso_hdr *h)
{
	(void)len, (void)h;
	f[9] = 17;
}

static void m_doff_small(uint8_t *f, size_t *len, struct gso_hdr *h)
{
	(void)len, (void)h;
	f[20 + 12] = 4 << 4;
}

static void m_doff_beyond(uint8_t *f, size_t *len, struct gso_hdr *h)
{
	(void)h;
	f[20 + 12] = 15 << 4;
	wr16(f + 2, 60);
	*len = 60;
}

static const struct {
	const char *name;
	mutate_fn fn;
	int err;
} hostile[] = {
	{ "gso_size 0", m_mss0, -EINVAL },
	{ "gso_size 1: too many segments", m_mss1, -E2BIG },
	{ "hdr_len beyond the frame", m_hdr_len, -EINVAL },
	{ "csum_start not at TCP", m_cs_start, -EINVAL },
	{ "csum_offset not TCP's", m_cs_offset, -EINVAL },
	{ "no GSO, csum_start at the last byte", m_none_cs_beyond, -EINVAL },
	{ "no GSO, csum_offset past the end", m_none_cs_offset, -EINVAL },
	{ "ECN without GSO", m_none_ecn, -EINVAL },
	{ "UFO", m_ufo, -EPROTONOSUPPORT },
	{ "unknown GSO type", m_type2, -EINVAL },
	{ "TCPV6 on IPv4", m_type_v6, -EINVAL },
	{ "UDP_L4 on TCP", m_uso_on_tcp, -EINVAL },
	{ "UDP_L4 with ECN", m_uso_ecn, -EINVAL },
	{ "IPv4 total length beyond the frame", m_total_len, -EINVAL },
	{ "IPv4 total length below its header", m_total_short, -EINVAL },
	{ "headers without payload", m_headers_only, -EINVAL },
	{ "IHL 4", m_ihl, -EINVAL },
	{ "version 5", m_version, -EINVAL },
	{ "an IPv4 fragment", m_fragment, -EPROTONOSUPPORT },
	{ "IP protocol not TCP", m_protocol, -EINVAL },
	{ "TCP data offset 4", m_doff_small, -EINVAL },
	{ "TCP data offset beyond the datagram", m_doff_beyond, -EINVAL },
};

static void test_hostile(void **state)
{
	struct fx *fx = *state;
	struct spec s = { .link = LINK_IP, .proto = 6, .flags = 0x10, .dport = 80 };

	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		struct gso_hdr h = hdr_for(&s, GSO_TYPE_TCPV4, 1448);
		struct gso_iter it;
		size_t len;
		int ret;

		fill(fx->payload, 5000, 1);
		len = build(fx->super, &s, fx->payload, 5000, true);
		hostile[i].fn(fx->super, &len, &h);
		memcpy(fx->want, fx->super, len);
		ret = gso_begin(&it, &h, fx->super, len, LINK_IP);
		if (ret != hostile[i].err)
			fail_msg("%s: gso_begin gave %d, expected %d", hostile[i].name, ret,
				 hostile[i].err);
		/* Refused: not a byte of the frame was changed. */
		assert_memory_equal(fx->super, fx->want, len);
	}
}

static void test_hostile_v6_and_links(void **state)
{
	struct fx *fx = *state;
	struct spec s = { .link = LINK_IP, .v6 = true, .proto = 17, .dport = 9000 };
	struct gso_hdr h = hdr_for(&s, GSO_TYPE_UDP_L4, 1400);
	struct gso_iter it;
	size_t len;

	fill(fx->payload, 4000, 2);
	len = build(fx->super, &s, fx->payload, 4000, true);
	/* An extension header (Hop-by-Hop) before UDP: refused, not walked. */
	fx->super[6] = 0;
	assert_int_equal(gso_begin(&it, &h, fx->super, len, LINK_IP), -EPROTONOSUPPORT);
	fx->super[6] = 44; /* a Fragment header */
	assert_int_equal(gso_begin(&it, &h, fx->super, len, LINK_IP), -EPROTONOSUPPORT);
	fx->super[6] = 17;
	/* A jumbogram's zero payload length. */
	wr16(fx->super + 4, 0);
	assert_int_equal(gso_begin(&it, &h, fx->super, len, LINK_IP), -EINVAL);
	wr16(fx->super + 4, (unsigned)(len - 40));
	assert_int_equal(gso_begin(&it, &h, fx->super, len, LINK_IP), 0);
	/* TCPV4 on an IPv6 frame. */
	h.gso_type = GSO_TYPE_TCPV4;
	assert_int_equal(gso_begin(&it, &h, fx->super, len, LINK_IP), -EINVAL);

	/* Tap: one VLAN tag is stepped over, two are refused; ARP is no GSO frame. */
	s.link = LINK_ETHERNET;
	s.v6 = false;
	len = build(fx->super + 4, &s, fx->payload, 4000, true);
	memmove(fx->super, fx->super + 4, 12);
	wr16(fx->super + 12, 0x8100);
	wr16(fx->super + 14, 5);
	len += 4;
	h = hdr_for(&s, GSO_TYPE_UDP_L4, 1400);
	h.csum_start += 4;
	assert_int_equal(gso_begin(&it, &h, fx->super, len, LINK_ETHERNET), 0);
	assert_int_equal(gso_count(&it), 3);
	wr16(fx->super + 16, 0x8100);
	assert_int_equal(gso_begin(&it, &h, fx->super, len, LINK_ETHERNET), -EPROTONOSUPPORT);
	wr16(fx->super + 16, 0x0806);
	assert_int_equal(gso_begin(&it, &h, fx->super, len, LINK_ETHERNET), -EINVAL);
}

/* Every truncation of a good super-frame is refused, on each link, before a byte is read past. */
static void test_truncated(void **state)
{
	struct fx *fx = *state;
	static const enum frame_link links[] = { LINK_IP, LINK_IP_PI, LINK_ETHERNET };

	for (size_t k = 0; k < 3; k++) {
		struct spec s = { .link = links[k], .proto = 6, .tcp_opt = 8, .dport = 80 };
		struct gso_hdr h = hdr_for(&s, GSO_TYPE_TCPV4, 500);
		struct gso_iter it;
		size_t len;

		fill(fx->payload, 1500, 3);
		len = build(fx->super, &s, fx->payload, 1500, true);
		for (size_t n = 0; n < len; n++) {
			/* A copy of exactly n bytes on the heap, so ASan sees any read past it. */
			uint8_t *cut = malloc(n ? n : 1);

			assert_non_null(cut);
			memcpy(cut, fx->super, n);
			h.hdr_len = 0;
			assert_true(gso_begin(&it, &h, cut, n, s.link) < 0);
			free(cut);
		}
		assert_int_equal(gso_begin(&it, &h, fx->super, len, s.link), 0);
	}
}

/* --- ports: the plain path on the same traffic --- */

struct afx {
	struct api_fx a;
	uint8_t buf[BUF_MAX];
	uint8_t seg[BUF_MAX];
	uint8_t payload[BUF_MAX];
};

static int asetup(void **state)
{
	struct afx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	api_fx_init(&fx->a, 8);
	api_fx_start(&fx->a);
	*state = fx;
	return 0;
}

static int ateardown(void **state)
{
	struct afx *fx = *state;

	api_fx_fini(&fx->a);
	free(fx);
	return 0;
}

/* @body with ' for ". */
static struct response *call(struct afx *fx, enum http_method m, const char *path, const char *body)
{
	char text[1024];
	struct fake_req fr;
	size_t i;

	freq_init(&fr, m, path);
	freq_header(&fr, "Host", "127.0.0.1:8080");
	if (body) {
		for (i = 0; body[i] && i < sizeof(text) - 1; i++)
			text[i] = body[i] == '\'' ? '"' : body[i];
		text[i] = '\0';
		freq_body(&fr, "application/json", text);
	}
	return api_fx_run(&fx->a, &fr);
}

/* GET /api/v1/ports/@name@tail. */
static json_t *get_json(struct afx *fx, const char *name, const char *tail)
{
	char path[128];
	struct response *rs;

	snprintf(path, sizeof(path), "/api/v1/ports/%s%s", name, tail);
	rs = call(fx, HTTP_GET, path, NULL);
	expect_status(rs, 200);
	return resp_json(rs);
}

static void post(struct afx *fx, const char *path, const char *body, int status)
{
	expect_status(call(fx, HTTP_POST, path, body), status);
}

/* Feeds @len bytes as one read of @port. */
static void feed(struct afx *fx, const char *port, const uint8_t *bytes, size_t len)
{
	struct port *p = portset_find(fx->a.ps, port);

	assert_non_null(p);
	frame_feed(fx->a.m, p, bytes, len);
}

/* A super-frame as tun hands it over: [packet info][virtio-net header][frame]. */
static void feed_vnet(struct afx *fx, const char *port, const struct spec *s,
		      const struct gso_hdr *h, const uint8_t *frame, size_t len)
{
	static uint8_t wire[BUF_MAX + 16];
	size_t pi = s->link == LINK_IP_PI ? 4 : 0;

	memcpy(wire, frame, pi);
	vhdr(wire + pi, h->flags, h->gso_type, h->hdr_len, h->gso_size, h->csum_start,
	     h->csum_offset);
	memcpy(wire + pi + GSO_VNET_HDR_LEN, frame + pi, len - pi);
	feed(fx, port, wire, len + GSO_VNET_HDR_LEN);
}

/* The same members but the ones that must differ (the super-frames' count). */
static void same_counters(json_t *a, json_t *b)
{
	json_object_del(a, "rx_gso_frames");
	json_object_del(b, "rx_gso_frames");
	json_object_del(a, "since");
	json_object_del(b, "since");
	if (!json_equal(a, b)) {
		char *ta = json_dumps(a, JSON_SORT_KEYS), *tb = json_dumps(b, JSON_SORT_KEYS);

		fail_msg("counters differ:\n%s\n%s", ta, tb);
	}
}

/* Capture records without their time: the same bytes, decoded alike. */
static json_t *records(struct afx *fx, const char *port)
{
	json_t *doc = get_json(fx, port, "/captures"), *recs, *r;
	size_t i;

	recs = json_incref(json_object_get(doc, "records"));
	json_decref(doc);
	json_array_foreach(recs, i, r)
		json_object_del(r, "time");
	return recs;
}

static json_t *bcounters(json_t *doc, size_t i)
{
	return json_object_get(json_array_get(json_object_get(doc, "bindings"), i), "counters");
}

static const char *kind_json(enum frame_link link)
{
	return link == LINK_ETHERNET ? "'type':'tap'"
	       : link == LINK_IP_PI  ? "'type':'tun','packet_info':true"
				     : "'type':'tun'";
}

/*
 * Feeds port g0 (vnet_hdr) four super-frames (UDP and TCP, IPv4 and IPv6)
 * and port p0 (plain) their segments, written out independently; then
 * both a frame with a partial checksum and one asking nothing.
 */
static void feed_both(struct afx *fx, enum frame_link link)
{
	struct spec s[] = {
		{ .link = link, .proto = 17, .id = 1, .dport = 9000 },
		{ .link = link, .v6 = true, .proto = 17, .dport = 9000 },
		{ .link = link, .proto = 6, .seq = 5, .flags = 0x99, .dport = 9000 },
		{ .link = link, .v6 = true, .proto = 6, .tcp_opt = 12, .flags = 0x18 },
	};
	uint8_t type[] = { GSO_TYPE_UDP_L4, GSO_TYPE_UDP_L4, GSO_TYPE_TCPV4 | GSO_ECN,
			   GSO_TYPE_TCPV6 };
	size_t plen[] = { 10 * 1400 + 17, 3 * 1232, 4000, 9000 };
	uint16_t mss[] = { 1400, 1232, 1448, 1428 };

	for (size_t k = 0; k < sizeof(s) / sizeof(s[0]); k++) {
		struct gso_hdr h = hdr_for(&s[k], type[k], mss[k]);
		size_t len, m;

		fill(fx->payload, plen[k], (unsigned)k);
		len = build(fx->buf, &s[k], fx->payload, plen[k], true);
		feed_vnet(fx, "g0", &s[k], &h, fx->buf, len);
		/* The plain port reads the segments, written out independently. */
		for (size_t off = 0; off < plen[k]; off += mss[k]) {
			struct spec e = s[k];
			size_t chunk = plen[k] - off < mss[k] ? plen[k] - off : mss[k];

			e.seq = s[k].seq + (uint32_t)off;
			e.id = (uint16_t)(s[k].id + off / mss[k]);
			if (off)
				e.flags &= (uint8_t)~0x80;
			if (off + chunk < plen[k])
				e.flags &= (uint8_t)~0x09;
			m = build(fx->seg, &e, fx->payload + off, chunk, false);
			feed(fx, "p0", fx->seg, m);
		}
	}
	/* And a frame with a partial checksum, and one asking nothing. */
	{
		struct spec u = { .link = link, .proto = 17, .dport = 9000 };
		struct gso_hdr h = hdr_for(&u, GSO_TYPE_NONE, 0), none = { 0 };
		size_t len;

		len = build(fx->buf, &u, fx->payload, 100, true);
		feed_vnet(fx, "g0", &u, &h, fx->buf, len);
		len = build(fx->buf, &u, fx->payload, 100, false);
		feed(fx, "p0", fx->buf, len);
		feed_vnet(fx, "g0", &u, &none, fx->buf, len);
		feed(fx, "p0", fx->buf, len);
	}
}

/* Datagrams read by each port after feed_both() @rounds times. */
#define FED (11 + 3 + 3 + 7 + 2)

/* g0 and p0 have the same counters, of the port and of its first @n bindings. */
static void same_ports(struct afx *fx, size_t n, unsigned rounds)
{
	json_t *ca = get_json(fx, "g0", ""), *cb = get_json(fx, "p0", ""), *ba, *bb;
	json_t *a = json_object_get(ca, "counters");

	assert_int_equal(json_integer_value(json_object_get(a, "rx_gso_frames")), 4 * rounds);
	assert_int_equal(json_integer_value(json_object_get(a, "rx_frames")), FED * rounds);
	assert_int_equal(json_integer_value(json_object_get(a, "rx_gso_bad")), 0);
	same_counters(a, json_object_get(cb, "counters"));
	json_decref(ca);
	json_decref(cb);
	ba = get_json(fx, "g0", "/bindings");
	bb = get_json(fx, "p0", "/bindings");
	assert_int_equal(json_array_size(json_object_get(ba, "bindings")), n);
	for (size_t i = 0; i < n; i++)
		assert_true(json_equal(bcounters(ba, i), bcounters(bb, i)));
	json_decref(ba);
	json_decref(bb);
}

/* Ports g0 (vnet_hdr) and p0 (plain) of @link's kind, each with the bindings @specs. */
static void two_ports(struct afx *fx, enum frame_link link, const char *const *specs, size_t n)
{
	const char *names[] = { "g0", "p0" };
	char body[256];

	for (int i = 0; i < 2; i++) {
		snprintf(body, sizeof(body), "{'name':'%s',%s%s}", names[i], kind_json(link),
			 i ? "" : ",'vnet_hdr':true");
		post(fx, "/api/v1/ports", body, 201);
		snprintf(body, sizeof(body), "/api/v1/ports/%s/bindings", names[i]);
		for (size_t k = 0; k < n; k++)
			post(fx, body, specs[k], 201);
	}
}

/* The packets g0's bindings counted, @n of them, as @want lists them. */
static void packets_are(struct afx *fx, const json_int_t *want, size_t n)
{
	json_t *ba = get_json(fx, "g0", "/bindings");

	for (size_t i = 0; i < n; i++)
		assert_int_equal(json_integer_value(json_object_get(bcounters(ba, i), "packets")),
				 want[i]);
	json_decref(ba);
}

/* g0 and p0 captured the same @n frames, decoded alike. */
static void same_records(struct afx *fx, size_t n)
{
	json_t *ba = records(fx, "g0"), *bb = records(fx, "p0");

	assert_int_equal(json_array_size(ba), n);
	assert_true(json_equal(ba, bb));
	json_decref(ba);
	json_decref(bb);
}

static const char *const udp9000[] = {
	"{'match':{'ethertype':2048,'ip_protocol':17,'udp_port':9000},'handler':'count'}",
	"{'match':{'ethertype':34525,'ip_protocol':17,'udp_port':9000},'handler':'count'}",
};

/*
 * A count binding at UDP port 9000 over IPv4 and IPv6, and a capture of
 * everything, on each port: every counter but rx_gso_frames, the
 * bindings' counters and the captures are the same.
 */
static void equivalence(struct afx *fx, enum frame_link link)
{
	const char *const specs[] = { udp9000[0], udp9000[1],
				      "{'handler':'capture','options':{'limit':1000}}" };
	/* 11 + 1 + 1 at UDP port 9000 over IPv4, 3 over IPv6, 26 captured. */
	const json_int_t want[] = { 13, 3, FED };

	two_ports(fx, link, specs, 3);
	feed_both(fx, link);
	same_ports(fx, 3, 1);
	packets_are(fx, want, 3);
	same_records(fx, FED);
}

/*
 * Count bindings only, at every level, where g0 counts a super-frame's
 * segments from its first one and leaves their TCP and UDP checksums
 * unsummed (port.h): the same counters as p0's. Then a capture joins:
 * from then on g0 sums them, and captures the same frames as p0.
 */
static void counting_only(struct afx *fx, enum frame_link link)
{
	const char *const specs[] = {
		udp9000[0],
		udp9000[1],
		"{'handler':'count'}",
		"{'match':{'ethertype':2048,'ip_protocol':6},'handler':'count'}",
		"{'match':{'ethertype':34525,'ip_protocol':6},'handler':'count'}",
	};
	const json_int_t want[] = { 13, 3, FED, 3, 7 };

	two_ports(fx, link, specs, 5);
	feed_both(fx, link);
	same_ports(fx, 5, 1);
	packets_are(fx, want, 5);

	post(fx, "/api/v1/ports/g0/bindings", "{'handler':'capture','options':{'limit':1000}}",
	     201);
	post(fx, "/api/v1/ports/p0/bindings", "{'handler':'capture','options':{'limit':1000}}",
	     201);
	feed_both(fx, link);
	same_ports(fx, 6, 2);
	same_records(fx, FED);
}

static void test_equivalence_tun(void **state)
{
	equivalence(*state, LINK_IP);
}

static void test_equivalence_tun_pi(void **state)
{
	equivalence(*state, LINK_IP_PI);
}

static void test_equivalence_tap(void **state)
{
	equivalence(*state, LINK_ETHERNET);
}

static void test_counting_only_tun(void **state)
{
	counting_only(*state, LINK_IP);
}

static void test_counting_only_tap(void **state)
{
	counting_only(*state, LINK_ETHERNET);
}

/* A refused super-frame is counted and dropped: no datagram, no capture. */
static void test_port_bad_counted(void **state)
{
	struct afx *fx = *state;
	struct spec s = { .link = LINK_IP, .proto = 17, .dport = 9000 };
	struct gso_hdr h = hdr_for(&s, GSO_TYPE_UDP_L4, 0);
	json_t *doc, *c;
	size_t len;

	post(fx, "/api/v1/ports", "{'name':'g0','type':'tun','vnet_hdr':true}", 201);
	post(fx, "/api/v1/ports/g0/bindings", "{'handler':'capture'}", 201);
	len = build(fx->buf, &s, fx->payload, 3000, true);
	feed_vnet(fx, "g0", &s, &h, fx->buf, len);
	/* Shorter than a virtio-net header. */
	feed(fx, "g0", fx->buf, 9);
	doc = get_json(fx, "g0", "");
	c = json_object_get(doc, "counters");
	assert_int_equal(json_integer_value(json_object_get(c, "rx_gso_bad")), 2);
	assert_int_equal(json_integer_value(json_object_get(c, "rx_gso_frames")), 1);
	assert_int_equal(json_integer_value(json_object_get(c, "rx_frames")), 0);
	assert_int_equal(json_integer_value(json_object_get(c, "rx_bytes")), 0);
	json_decref(doc);
	doc = records(fx, "g0");
	assert_int_equal(json_array_size(doc), 0);
	json_decref(doc);
}

/*
 * The largest IPv6 datagram (65,575 bytes) is longer than a plain port
 * reads: asking nothing it is cut and counted truncated as there; as one
 * segment it is refused; cut in 1,400-byte segments it is read whole.
 */
static void test_port_longest(void **state)
{
	struct afx *fx = *state;
	struct spec s = { .link = LINK_IP, .v6 = true, .proto = 17, .dport = 9000 };
	struct gso_hdr none = { 0 }, one = hdr_for(&s, GSO_TYPE_UDP_L4, 65535),
		       cut = hdr_for(&s, GSO_TYPE_UDP_L4, 1400);
	json_t *doc, *c;
	size_t len;

	post(fx, "/api/v1/ports", "{'name':'g0','type':'tun','vnet_hdr':true}", 201);
	fill(fx->payload, 65527, 9);
	len = build(fx->buf, &s, fx->payload, 65527, false);
	assert_int_equal(len, 65575);
	feed_vnet(fx, "g0", &s, &none, fx->buf, len);
	len = build(fx->buf, &s, fx->payload, 65527, true);
	feed_vnet(fx, "g0", &s, &one, fx->buf, len);
	len = build(fx->buf, &s, fx->payload, 65527, true);
	feed_vnet(fx, "g0", &s, &cut, fx->buf, len);
	doc = get_json(fx, "g0", "");
	c = json_object_get(doc, "counters");
	assert_int_equal(json_integer_value(json_object_get(c, "truncated")), 1);
	assert_int_equal(json_integer_value(json_object_get(c, "rx_gso_bad")), 1);
	assert_int_equal(json_integer_value(json_object_get(c, "rx_gso_frames")), 2);
	assert_int_equal(json_integer_value(json_object_get(c, "rx_frames")), 1 + 47);
	assert_int_equal(json_integer_value(json_object_get(c, "rx_bytes")),
			 65575 + 65527 + 47 * 48);
	json_decref(doc);
}

/* [packet info][virtio-net header][IP] as a plain tun with packet info reads it, parsed. */
static void parse_written(struct afx *fx, const uint8_t *w, size_t wlen, struct frame_info *fi)
{
	memcpy(fx->seg, w, 4);
	memcpy(fx->seg + 4, w + 4 + GSO_VNET_HDR_LEN, wlen - 4 - GSO_VNET_HDR_LEN);
	frame_parse(fx->seg, wlen - GSO_VNET_HDR_LEN, LINK_IP_PI, PARSE_STRICT, fi);
	assert_int_equal(fi->malformed, MALFORMED_NONE);
	assert_int_equal(fi->l4, L4_UDP);
}

/*
 * The @i-th write to @port is a UDP GSO super-frame of 500-byte segments
 * that cuts back into three datagrams of 500, 500 and 200 bytes, with valid
 * checksums, IPv4 ids numbered on from @id0, from (@from) or to UDP port
 * 9000.
 */
static void written_run(struct afx *fx, const char *port, size_t i, unsigned id0, bool from)
{
	struct frame_info fi;
	struct gso_iter it;
	struct gso_hdr wh;
	const uint8_t *w, *seg;
	size_t wlen, m, k;

	w = memio_written(fx->a.m, port, i, &wlen);
	assert_non_null(w);
	assert_true(gso_hdr_read(w + 4, wlen - 4, &wh));
	assert_int_equal(wh.gso_type, GSO_TYPE_UDP_L4);
	assert_int_equal(wh.gso_size, 500);
	memcpy(fx->seg, w, 4);
	memcpy(fx->seg + 4, w + 4 + GSO_VNET_HDR_LEN, wlen - 4 - GSO_VNET_HDR_LEN);
	assert_int_equal(gso_begin(&it, &wh, fx->seg, wlen - GSO_VNET_HDR_LEN, LINK_IP_PI), 0);
	for (k = 0; (m = gso_next(&it, &seg)) > 0; k++) {
		assert_true(k < 3);
		frame_parse(seg, m, LINK_IP_PI, PARSE_STRICT, &fi);
		assert_int_equal(fi.malformed, MALFORMED_NONE);
		assert_int_equal(fi.udp.checksum_status, CSUM_OK);
		assert_int_equal(fi.payload_len, k < 2 ? 500 : 200);
		assert_int_equal(from ? fi.udp.sport : fi.udp.dport, 9000);
		assert_int_equal(rd16(seg + 4 + 4), id0 + k);
	}
	assert_int_equal(k, 3);
}

/*
 * Echo and forward write through a vnet_hdr port. The echoes of a
 * super-frame's datagrams, written in one read turn, go out as one UDP GSO
 * super-frame that cuts back into the three replies (numbered 0, 1, 2);
 * so do the three datagrams forwarded to another vnet_hdr port in that
 * turn (the super-frame's own ids). A lone frame forwarded goes behind a
 * zero header after the packet information.
 */
static void test_port_writers(void **state)
{
	struct afx *fx = *state;
	struct spec s = { .link = LINK_IP_PI, .proto = 17, .dport = 9000 };
	struct gso_hdr h = hdr_for(&s, GSO_TYPE_UDP_L4, 500);
	static const uint8_t zero[GSO_VNET_HDR_LEN];
	const uint8_t *w;
	size_t len, wlen;
	json_t *doc;

	post(fx, "/api/v1/ports", "{'name':'g0','type':'tun','packet_info':true,'vnet_hdr':true}",
	     201);
	post(fx, "/api/v1/ports", "{'name':'g1','type':'tun','packet_info':true,'vnet_hdr':true}",
	     201);
	post(fx, "/api/v1/ports", "{'name':'p1','type':'tun','packet_info':true}", 201);
	post(fx, "/api/v1/ports/g0/bindings",
	     "{'match':{'ethertype':2048,'ip_protocol':17,'udp_port':9000},'handler':'echo'}", 201);
	post(fx, "/api/v1/ports/g0/bindings", "{'handler':'forward','options':{'port':'g1'}}", 201);
	post(fx, "/api/v1/ports/p1/bindings", "{'handler':'forward','options':{'port':'g0'}}", 201);

	/* A super-frame of 3 datagrams: 3 echoes on g0 in one write, 3 forwarded to g1 in one. */
	len = build(fx->buf, &s, fx->payload, 1200, true);
	feed_vnet(fx, "g0", &s, &h, fx->buf, len);
	assert_int_equal(memio_written_count(fx->a.m, "g0"), 1);
	assert_int_equal(memio_written_count(fx->a.m, "g1"), 1);
	written_run(fx, "g0", 0, 0, true);
	written_run(fx, "g1", 0, rd16(fx->buf + 4 + 4), false);
	doc = get_json(fx, "g0", "");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "counters"),
							    "tx_gso_frames")),
			 1);
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(doc, "counters"), "tx_frames")),
		3);
	json_decref(doc);
	/* A plain port forwards into a vnet_hdr one: the header goes in front. */
	len = build(fx->buf, &s, fx->payload, 64, false);
	feed(fx, "p1", fx->buf, len);
	assert_int_equal(memio_written_count(fx->a.m, "g0"), 2);
	w = memio_written(fx->a.m, "g0", 1, &wlen);
	assert_int_equal(wlen, len + GSO_VNET_HDR_LEN);
	assert_memory_equal(w, fx->buf, 4);
	assert_memory_equal(w + 4, zero, GSO_VNET_HDR_LEN);
	assert_memory_equal(w + 4 + GSO_VNET_HDR_LEN, fx->buf + 4, len - 4);
	/* tx_bytes count the frames, not the headers. */
	doc = get_json(fx, "g1", "");
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(doc, "counters"), "tx_frames")),
		3);
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(doc, "counters"), "tx_bytes")),
		3 * (4 + 28) + 1200);
	json_decref(doc);
}

struct feed_args {
	struct afx *fx;
	const struct spec *s;
	const struct gso_hdr *h;
	const uint8_t *frame;
	size_t len;
};

static void feed_g0_at_warn(void *arg)
{
	const struct feed_args *a = arg;

	log_set_level(LOG_WARN);
	feed_vnet(a->fx, "g0", a->s, a->h, a->frame, a->len);
	log_set_level(LOG_ERROR);
}

/* Feeds @frame to g0 with the log at warn; returns what was logged. */
static char *feed_g0_logged(struct afx *fx, const struct spec *s, const struct gso_hdr *h,
			    const uint8_t *frame, size_t len)
{
	struct feed_args a = { fx, s, h, frame, len };

	return stderr_of(feed_g0_at_warn, &a);
}

/* g0, a tun with packet information on vnet_hdr, echoing UDP port 9000; its next write refused. */
static void g0_echo_refusing(struct afx *fx)
{
	post(fx, "/api/v1/ports", "{'name':'g0','type':'tun','packet_info':true,'vnet_hdr':true}",
	     201);
	post(fx, "/api/v1/ports/g0/bindings",
	     "{'match':{'ethertype':2048,'ip_protocol':17,'udp_port':9000},'handler':'echo'}", 201);
	memio_inject(fx->a.m, MEMIO_WRITE, EINVAL);
}

/*
 * A kernel whose tun takes no UDP GSO on writes (before 6.2) answers the
 * super-frame with EINVAL: its replies are written one by one, nothing is
 * lost or counted as an error, and every later reply goes one by one.
 */
static void test_port_writers_without_uso(void **state)
{
	struct afx *fx = *state;
	struct spec s = { .link = LINK_IP_PI, .proto = 17, .dport = 9000 };
	struct gso_hdr h = hdr_for(&s, GSO_TYPE_UDP_L4, 500);
	static const uint8_t zero[GSO_VNET_HDR_LEN];
	struct frame_info fi;
	const uint8_t *w;
	size_t len, wlen;
	json_t *doc, *c;

	g0_echo_refusing(fx);
	len = build(fx->buf, &s, fx->payload, 1200, true);
	feed_vnet(fx, "g0", &s, &h, fx->buf, len);
	len = build(fx->buf, &s, fx->payload, 1200, true);
	feed_vnet(fx, "g0", &s, &h, fx->buf, len);
	/* One refused write, then six replies, each behind an empty header. */
	assert_int_equal(memio_calls(fx->a.m, MEMIO_WRITE), 7);
	assert_int_equal(memio_written_count(fx->a.m, "g0"), 6);
	for (size_t i = 0; i < 6; i++) {
		w = memio_written(fx->a.m, "g0", i, &wlen);
		assert_memory_equal(w + 4, zero, GSO_VNET_HDR_LEN);
		parse_written(fx, w, wlen, &fi);
		assert_int_equal(fi.udp.checksum_status, CSUM_OK);
		assert_int_equal(fi.ip4.checksum_status, CSUM_OK);
		assert_int_equal(fi.payload_len, i % 3 < 2 ? 500 : 200);
		assert_int_equal(rd16(w + 4 + GSO_VNET_HDR_LEN + 4), i);
	}
	doc = get_json(fx, "g0", "");
	c = json_object_get(doc, "counters");
	assert_int_equal(json_integer_value(json_object_get(c, "tx_frames")), 6);
	assert_int_equal(json_integer_value(json_object_get(c, "tx_bytes")),
			 2 * (3 * (4 + 28) + 1200));
	assert_int_equal(json_integer_value(json_object_get(c, "tx_gso_frames")), 0);
	assert_int_equal(json_object_size(json_object_get(c, "write_errors")), 0);
	json_decref(doc);
}

/*
 * The refusal met inside a turn, when the 65th reply ends a run of 64: the
 * run is written one by one, so is every reply after it, and the log says
 * so once (it had said nothing: the turn's end found nothing held).
 */
static void test_port_writers_refused_mid_turn(void **state)
{
	struct afx *fx = *state;
	struct spec s = { .link = LINK_IP_PI, .proto = 17, .dport = 9000 };
	struct gso_hdr h = hdr_for(&s, GSO_TYPE_UDP_L4, 10);
	size_t len;
	char *log;
	json_t *doc, *c;

	g0_echo_refusing(fx);
	len = build(fx->buf, &s, fx->payload, 700, true);
	log = feed_g0_logged(fx, &s, &h, fx->buf, len);
	/* 70 replies: the refused run of 64, then each of the 70 on its own. */
	assert_int_equal(memio_calls(fx->a.m, MEMIO_WRITE), 71);
	assert_int_equal(memio_written_count(fx->a.m, "g0"), 70);
	assert_non_null(strstr(log, "port g0: the kernel refused a UDP GSO super-frame"));
	assert_null(strstr(strstr(log, "refused") + 1, "refused"));
	free(log);
	/* Said once: the next turn's replies go one by one without a word. */
	len = build(fx->buf, &s, fx->payload, 700, true);
	log = feed_g0_logged(fx, &s, &h, fx->buf, len);
	assert_string_equal(log, "");
	free(log);
	assert_int_equal(memio_written_count(fx->a.m, "g0"), 140);
	doc = get_json(fx, "g0", "");
	c = json_object_get(doc, "counters");
	assert_int_equal(json_integer_value(json_object_get(c, "tx_frames")), 140);
	assert_int_equal(json_integer_value(json_object_get(c, "tx_gso_frames")), 0);
	assert_int_equal(json_object_size(json_object_get(c, "write_errors")), 0);
	json_decref(doc);
}

static bool has_string(const json_t *arr, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
		if (strcmp(json_string_value(v), s) == 0)
			return true;
	return false;
}

/* The device gets IFF_VNET_HDR, a 10-byte header and the offloads; the status says which. */
static void test_port_offloads(void **state)
{
	struct afx *fx = *state;
	json_t *doc, *st;

	post(fx, "/api/v1/ports", "{'name':'g0','type':'tap','vnet_hdr':true}", 201);
	post(fx, "/api/v1/ports", "{'name':'p0','type':'tap'}", 201);
	assert_true(memio_vnet_hdr(fx->a.m, "g0"));
	assert_false(memio_vnet_hdr(fx->a.m, "p0"));
	assert_int_equal(memio_offloads(fx->a.m, "g0"), 0x7f & ~0x10); /* all but UFO */
	assert_int_equal(memio_offloads(fx->a.m, "p0"), 0);
	doc = get_json(fx, "g0", "");
	st = json_object_get(doc, "status");
	assert_true(has_string(json_object_get(st, "flags"), "IFF_VNET_HDR"));
	assert_int_equal(json_array_size(json_object_get(st, "offloads")), 6);
	assert_true(has_string(json_object_get(st, "offloads"), "TUN_F_USO6"));
	assert_true(json_is_true(json_object_get(json_object_get(doc, "config"), "vnet_hdr")));
	json_decref(doc);
	doc = get_json(fx, "p0", "");
	st = json_object_get(doc, "status");
	assert_false(has_string(json_object_get(st, "flags"), "IFF_VNET_HDR"));
	assert_int_equal(json_array_size(json_object_get(st, "offloads")), 0);
	assert_true(json_is_false(json_object_get(json_object_get(doc, "config"), "vnet_hdr")));
	json_decref(doc);

	/* A kernel before 6.2: USO refused (EINVAL), asked again without it. */
	memio_set_offload_mask(fx->a.m, 0x1f);
	post(fx, "/api/v1/ports", "{'name':'g1','type':'tun','vnet_hdr':true}", 201);
	assert_int_equal(memio_offloads(fx->a.m, "g1"), 0x0f);
	doc = get_json(fx, "g1", "");
	st = json_object_get(doc, "status");
	assert_int_equal(json_array_size(json_object_get(st, "offloads")), 4);
	assert_false(has_string(json_object_get(st, "offloads"), "TUN_F_USO4"));
	assert_true(has_string(json_object_get(st, "offloads"), "TUN_F_TSO6"));
	json_decref(doc);
}

/* vnet_hdr is create-only, like packet_info: PATCH refuses it, PUT replaces the device. */
static void test_port_config(void **state)
{
	struct afx *fx = *state;
	struct response *rs;
	json_t *doc;

	post(fx, "/api/v1/ports", "{'name':'g0','type':'tun'}", 201);
	rs = call(fx, HTTP_PATCH, "/api/v1/ports/g0", "{'vnet_hdr':true}");
	json_decref(assert_problem(rs, 422, "vnet_hdr"));
	rs = call(fx, HTTP_POST, "/api/v1/ports", "{'name':'g1','type':'tun','vnet_hdr':1}");
	json_decref(assert_problem(rs, 422, "vnet_hdr"));
	expect_status(call(fx, HTTP_PUT, "/api/v1/ports/g0", "{'type':'tun','vnet_hdr':true}"),
		      200);
	assert_true(memio_vnet_hdr(fx->a.m, "g0"));
	/* Kept in the state file, and back after a restart. */
	api_fx_stop(&fx->a);
	api_fx_start(&fx->a);
	assert_true(memio_vnet_hdr(fx->a.m, "g0"));
	doc = get_json(fx, "g0", "");
	assert_true(json_is_true(json_object_get(json_object_get(doc, "config"), "vnet_hdr")));
	json_decref(doc);
	expect_status(call(fx, HTTP_PUT, "/api/v1/ports/g0", "{'type':'tun'}"), 200);
	assert_false(memio_vnet_hdr(fx->a.m, "g0"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hdr_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp4, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udp_zero_checksum, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leave_l4_csum, setup, teardown),
		cmocka_unit_test_setup_teardown(test_needs_csum, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pass_through, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_v6_and_links, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_equivalence_tun, asetup, ateardown),
		cmocka_unit_test_setup_teardown(test_equivalence_tun_pi, asetup, ateardown),
		cmocka_unit_test_setup_teardown(test_equivalence_tap, asetup, ateardown),
		cmocka_unit_test_setup_teardown(test_counting_only_tun, asetup, ateardown),
		cmocka_unit_test_setup_teardown(test_counting_only_tap, asetup, ateardown),
		cmocka_unit_test_setup_teardown(test_port_bad_counted, asetup, ateardown),
		cmocka_unit_test_setup_teardown(test_port_longest, asetup, ateardown),
		cmocka_unit_test_setup_teardown(test_port_writers, asetup, ateardown),
		cmocka_unit_test_setup_teardown(test_port_writers_without_uso, asetup, ateardown),
		cmocka_unit_test_setup_teardown(test_port_writers_refused_mid_turn, asetup,
						ateardown),
		cmocka_unit_test_setup_teardown(test_port_offloads, asetup, ateardown),
		cmocka_unit_test_setup_teardown(test_port_config, asetup, ateardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
