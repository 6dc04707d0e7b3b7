// SPDX-License-Identifier: MIT
/*
 * Unit tests of service/coalesce.c: runs of UDP datagrams (IPv4 and IPv6,
 * on tap, tun and tun with packet information, built by build.c) are held
 * and taken as one USO super-frame, which gso.c, cutting as the kernel
 * does, gives back as exactly the datagrams that went in, byte for byte.
 * Every datagram the kernel's cut would change is refused and leaves the
 * held run as it was: another flow, an identification out of sequence, a
 * longer payload, anything after a shorter one, a zero or wrong checksum,
 * IP options, a fragment, link padding, another TTL or protocol, the
 * segment and length limits.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../../service/build.h"
#include "../../service/coalesce.h"
#include "../../service/gso.h"

#define FRAME_MAX 2048

struct flow {
	struct build_link l;
	struct build_ip ip;
	uint16_t sport, dport;
};

static struct flow flow(enum frame_link link, int family)
{
	struct flow f = { .l = { .link = link }, .ip = { .family = family }, .sport = 9000 };

	memcpy(f.l.dst, "\x02\x00\x00\x00\x00\x01", 6);
	memcpy(f.l.src, "\x02\x00\x00\x00\x00\x02", 6);
	if (family == AF_INET) {
		memcpy(f.ip.src, "\xc6\x12\x00\x01", 4);
		memcpy(f.ip.dst, "\xc6\x12\x00\x02", 4);
	} else {
		memcpy(f.ip.src, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
		memcpy(f.ip.dst, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02", 16);
	}
	f.dport = 40000;
	return f;
}

/* Datagram @i of @f with @plen bytes of payload (each byte says where it is). */
static size_t dgram(const struct flow *f, unsigned i, size_t plen, uint8_t *out)
{
	uint8_t payload[FRAME_MAX];
	struct build_ip ip = f->ip;
	ssize_t n;

	for (size_t k = 0; k < plen; k++)
		payload[k] = (uint8_t)(i * 31 + k);
	ip.id = (uint16_t)(ip.id + i);
	n = build_udp(out, FRAME_MAX, &f->l, &ip, f->sport, f->dport, payload, plen);
	assert_true(n > 0);
	return (size_t)n;
}

/*
 * What tun hands a reader of the @w bytes written at @p, laid out as vnet.c
 * lays a read out: the header read into *@h, the packet information moved
 * up against the frame, which starts GSO_VNET_HDR_LEN bytes in (freed by
 * the caller).
 */
static uint8_t *as_read(const uint8_t *p, size_t w, enum frame_link link, struct gso_hdr *h)
{
	size_t pi = link == LINK_IP_PI ? PI_HDR_LEN : 0;
	uint8_t *buf = malloc(COALESCE_BUF);

	assert_non_null(buf);
	memcpy(buf, p, w);
	assert_true(gso_hdr_read(buf + pi, w - pi, h));
	memmove(buf + GSO_VNET_HDR_LEN, buf, pi);
	return buf;
}

/* The frame cut as the kernel cuts it, into @segs. */
static unsigned cut_back(const uint8_t *p, size_t w, enum frame_link link,
			 uint8_t segs[][FRAME_MAX], size_t *lens)
{
	const uint8_t *seg;
	struct gso_iter it;
	struct gso_hdr h;
	uint8_t *buf = as_read(p, w, link, &h);
	unsigned n = 0;
	size_t m;

	assert_int_equal(gso_begin(&it, &h, buf + GSO_VNET_HDR_LEN, w - GSO_VNET_HDR_LEN, link), 0);
	while ((m = gso_next(&it, &seg)) > 0) {
		assert_true(n < COALESCE_SEGS_MAX && m <= FRAME_MAX);
		memcpy(segs[n], seg, m);
		lens[n++] = m;
	}
	free(buf);
	return n;
}

static uint8_t frames[COALESCE_SEGS_MAX][FRAME_MAX], segs[COALESCE_SEGS_MAX][FRAME_MAX];
static size_t flens[COALESCE_SEGS_MAX], slens[COALESCE_SEGS_MAX];

/*
 * The super-frame's partial checksum, completed over the whole of it as a
 * device would (gso.c, a header with no GSO type), is a correct UDP
 * checksum of the super-frame: the pseudo-header's sum for its length.
 */
static void partial_checksum_completes(const uint8_t *p, size_t w, enum frame_link link, int family)
{
	size_t pi = link == LINK_IP_PI ? PI_HDR_LEN : 0;
	size_t l3 = link == LINK_ETHERNET ? 14 : 0, l4 = l3 + (family == AF_INET ? 20 : 40);
	struct gso_iter it;
	struct gso_hdr h;
	uint8_t *buf = as_read(p, w, link, &h), *f = buf + GSO_VNET_HDR_LEN;
	uint32_t s = 0;
	size_t ulen;

	assert_int_equal(h.flags, GSO_F_NEEDS_CSUM);
	assert_int_equal(h.gso_type, GSO_TYPE_UDP_L4);
	h.gso_type = GSO_TYPE_NONE;
	assert_int_equal(gso_begin(&it, &h, f, w - GSO_VNET_HDR_LEN, link), 0);
	f += pi;
	ulen = (size_t)(f[l4 + 4] << 8 | f[l4 + 5]);
	assert_int_equal(ulen, w - GSO_VNET_HDR_LEN - pi - l4);
	/* RFC 768 / RFC 8200 8.1, summed here a 16-bit word at a time. */
	if (family == AF_INET)
		for (size_t i = 12; i < 20; i += 2)
			s += (uint32_t)(f[l3 + i] << 8 | f[l3 + i + 1]);
	else
		for (size_t i = 8; i < 40; i += 2)
			s += (uint32_t)(f[l3 + i] << 8 | f[l3 + i + 1]);
	s += 17 + (uint32_t)ulen;
	for (size_t i = 0; i < ulen; i += 2)
		s += (uint32_t)(f[l4 + i] << 8 | (i + 1 < ulen ? f[l4 + i + 1] : 0));
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	assert_int_equal(s, 0xffff);
	free(buf);
}

/* @k datagrams of @mss bytes, the last of @last, held and taken: cut back, the same @k. */
static void run_and_cut(enum frame_link link, int family, uint16_t id0, size_t mss, unsigned k,
			size_t last)
{
	struct flow f = flow(link, family);
	uint8_t *buf = malloc(COALESCE_BUF);
	struct coalesce c;
	const uint8_t *out;
	uint64_t bytes, sum = 0;
	unsigned n;
	size_t w;

	assert_non_null(buf);
	f.ip.id = id0;
	coalesce_init(&c, buf, link);
	for (unsigned i = 0; i < k; i++) {
		flens[i] = dgram(&f, i, i + 1 == k ? last : mss, frames[i]);
		sum += flens[i];
		assert_true(coalesce_add(&c, frames[i], flens[i]));
	}
	w = coalesce_take(&c, &out, &n, &bytes);
	assert_int_equal(n, k);
	assert_int_equal(bytes, sum);
	if (k == 1) {
		/* One datagram goes plain: an empty header, the frame as it was. */
		static const uint8_t zero[GSO_VNET_HDR_LEN];
		size_t pi = link == LINK_IP_PI ? PI_HDR_LEN : 0;

		assert_int_equal(w, flens[0] + GSO_VNET_HDR_LEN);
		assert_memory_equal(out, frames[0], pi);
		assert_memory_equal(out + pi, zero, GSO_VNET_HDR_LEN);
		assert_memory_equal(out + pi + GSO_VNET_HDR_LEN, frames[0] + pi, flens[0] - pi);
	} else {
		partial_checksum_completes(out, w, link, family);
		assert_int_equal(cut_back(out, w, link, segs, slens), k);
		for (unsigned i = 0; i < k; i++) {
			assert_int_equal(slens[i], flens[i]);
			assert_memory_equal(segs[i], frames[i], flens[i]);
		}
	}
	/* Taken, it is empty. */
	assert_int_equal(coalesce_take(&c, &out, &n, &bytes), 0);
	assert_int_equal(n, 0);
	free(buf);
}

static void test_runs_cut_back(void **state)
{
	static const enum frame_link links[] = { LINK_ETHERNET, LINK_IP, LINK_IP_PI };
	static const int families[] = { AF_INET, AF_INET6 };

	(void)state;
	for (size_t li = 0; li < 3; li++)
		for (size_t fi = 0; fi < 2; fi++) {
			run_and_cut(links[li], families[fi], 0, 64, 1, 64);
			run_and_cut(links[li], families[fi], 0, 64, 2, 64);
			run_and_cut(links[li], families[fi], 7, 64, 32, 13);
			run_and_cut(links[li], families[fi], 0, 1, 5, 1);
			run_and_cut(links[li], families[fi], 0, 1400, 20, 1400);
			/* The longest runs: a UDP length of 65,535 (IPv6) or an IPv4 length of 65,535. */
			run_and_cut(links[li], families[fi], 0, 1100, 60,
				    families[fi] == AF_INET6 ? 627 : 607);
			/* The identification wraps as the kernel's does. */
			run_and_cut(links[li], families[fi], 0xfffe, 100, COALESCE_SEGS_MAX, 100);
		}
}

/*
 * Held: @k datagrams of @f; @bad is refused after them, and the run is as
 * it was. When @startable, @bad then starts a run of its own, alone in it.
 */
static void refused_after(struct coalesce *c, const struct flow *f, unsigned k, size_t plen,
			  const uint8_t *bad, size_t bad_len, bool startable)
{
	const uint8_t *out;
	uint64_t bytes;
	unsigned n;
	size_t w;

	for (unsigned i = 0; i < k; i++) {
		flens[i] = dgram(f, i, plen, frames[i]);
		assert_true(coalesce_add(c, frames[i], flens[i]));
	}
	assert_false(coalesce_add(c, bad, bad_len));
	assert_int_equal(c->startable, startable);
	w = coalesce_take(c, &out, &n, &bytes);
	assert_int_equal(n, k);
	if (k > 1) {
		assert_int_equal(cut_back(out, w, c->link, segs, slens), k);
		for (unsigned i = 0; i < k; i++)
			assert_memory_equal(segs[i], frames[i], flens[i]);
	}
	if (!startable)
		return;
	coalesce_start(c, bad, bad_len);
	w = coalesce_take(c, &out, &n, &bytes);
	assert_int_equal(n, 1);
	assert_int_equal(w, bad_len + GSO_VNET_HDR_LEN);
	assert_memory_equal(out + GSO_VNET_HDR_LEN, bad, bad_len);
}

static void ipv4_header_sum(uint8_t *ip)
{
	uint32_t s = 0;

	ip[10] = ip[11] = 0;
	for (int i = 0; i < 20; i += 2)
		s += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	ip[10] = (uint8_t)(~s >> 8);
	ip[11] = (uint8_t)~s;
}

static void test_refused(void **state)
{
	uint8_t *buf = malloc(COALESCE_BUF), bad[FRAME_MAX];
	struct flow f = flow(LINK_ETHERNET, AF_INET), g;
	struct coalesce c;
	size_t n;

	(void)state;
	assert_non_null(buf);
	coalesce_init(&c, buf, LINK_ETHERNET);

	/* Another flow: the destination port, the address, the TTL. */
	g = f;
	g.dport++;
	n = dgram(&g, 3, 64, bad);
	refused_after(&c, &f, 3, 64, bad, n, true);
	g = f;
	g.ip.dst[3]++;
	n = dgram(&g, 3, 64, bad);
	refused_after(&c, &f, 3, 64, bad, n, true);
	g = f;
	g.ip.ttl = 9;
	n = dgram(&g, 3, 64, bad);
	refused_after(&c, &f, 3, 64, bad, n, true);
	/* The identification out of sequence: the kernel numbers up from the first. */
	n = dgram(&f, 4, 64, bad);
	refused_after(&c, &f, 3, 64, bad, n, true);
	n = dgram(&f, 2, 64, bad);
	refused_after(&c, &f, 3, 64, bad, n, true);
	/* A longer payload than the first's. */
	n = dgram(&f, 3, 65, bad);
	refused_after(&c, &f, 3, 64, bad, n, true);
	/* A wrong UDP checksum, and none (zero). */
	n = dgram(&f, 3, 64, bad);
	bad[n - 1] ^= 1;
	refused_after(&c, &f, 3, 64, bad, n, false);
	n = dgram(&f, 3, 64, bad);
	bad[14 + 20 + 6] = bad[14 + 20 + 7] = 0;
	refused_after(&c, &f, 3, 64, bad, n, false);
	/* A wrong IPv4 header checksum. */
	n = dgram(&f, 3, 64, bad);
	bad[14 + 11] ^= 1;
	refused_after(&c, &f, 3, 64, bad, n, false);
	/* A fragment: MF set. */
	n = dgram(&f, 3, 64, bad);
	bad[14 + 6] |= 0x20;
	ipv4_header_sum(bad + 14);
	refused_after(&c, &f, 3, 64, bad, n, false);
	/* Link padding after the datagram. */
	n = dgram(&f, 3, 64, bad);
	bad[n++] = 0;
	refused_after(&c, &f, 3, 64, bad, n, false);
	/* Not UDP: an ICMP echo reply. */
	{
		struct build_ip ip = f.ip;
		ssize_t m;

		ip.id = 3;
		m = build_icmp_echo(bad, FRAME_MAX, &f.l, &ip, true, 1, 1, (const uint8_t *)"x", 1);
		assert_true(m > 0);
		refused_after(&c, &f, 3, 64, bad, (size_t)m, false);
	}
	/* Nothing after a shorter one. */
	{
		const uint8_t *out;
		uint64_t bytes;
		unsigned k;

		flens[0] = dgram(&f, 0, 64, frames[0]);
		flens[1] = dgram(&f, 1, 10, frames[1]);
		assert_true(coalesce_add(&c, frames[0], flens[0]));
		assert_true(coalesce_add(&c, frames[1], flens[1]));
		n = dgram(&f, 2, 10, bad);
		assert_false(coalesce_add(&c, bad, n));
		assert_int_equal(coalesce_take(&c, &out, &k, &bytes) > 0, 1);
		assert_int_equal(k, 2);
	}
	/* No more than COALESCE_SEGS_MAX. */
	n = dgram(&f, COALESCE_SEGS_MAX, 8, bad);
	refused_after(&c, &f, COALESCE_SEGS_MAX, 8, bad, n, true);
	/* No IP datagram over 65,535 bytes: 46 of 1,400 fit, the 47th does not. */
	n = dgram(&f, 46, 1400, bad);
	refused_after(&c, &f, 46, 1400, bad, n, true);
	free(buf);
}

/* What cannot start a run is refused when nothing is held, and nothing is held after. */
static void test_refused_first(void **state)
{
	uint8_t *buf = malloc(COALESCE_BUF), bad[FRAME_MAX];
	struct flow f = flow(LINK_IP_PI, AF_INET6);
	struct coalesce c;
	const uint8_t *out;
	uint64_t bytes;
	unsigned k;
	size_t n;

	(void)state;
	assert_non_null(buf);
	coalesce_init(&c, buf, LINK_IP_PI);
	/* The packet information says IPv4 of an IPv6 packet. */
	n = dgram(&f, 0, 64, bad);
	bad[2] = 0x08;
	bad[3] = 0x00;
	assert_false(coalesce_add(&c, bad, n));
	/* An extension header (hop-by-hop) before UDP. */
	n = dgram(&f, 0, 64, bad);
	bad[4 + 6] = 0;
	assert_false(coalesce_add(&c, bad, n));
	/* Empty UDP payload: nothing to cut. */
	n = dgram(&f, 0, 0, bad);
	assert_false(coalesce_add(&c, bad, n));
	/* Shorter than its headers. */
	assert_false(coalesce_add(&c, bad, 3));
	assert_false(coalesce_add(&c, bad, 0));
	assert_int_equal(coalesce_take(&c, &out, &k, &bytes), 0);

	/* IPv4 options. */
	coalesce_init(&c, buf, LINK_IP);
	f = flow(LINK_IP, AF_INET);
	n = dgram(&f, 0, 64, bad);
	memmove(bad + 24, bad + 20, n - 20);
	memset(bad + 20, 1, 4); /* four NOPs */
	bad[0] = 0x46;
	bad[2] = (uint8_t)((n + 4) >> 8);
	bad[3] = (uint8_t)(n + 4);
	ipv4_header_sum(bad);
	assert_false(coalesce_add(&c, bad, n + 4));
	assert_int_equal(coalesce_take(&c, &out, &k, &bytes), 0);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_runs_cut_back),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_refused_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
