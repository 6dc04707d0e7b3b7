// SPDX-License-Identifier: MIT
/*
 * Unit tests of service/build.c. Every builder's output is compared byte
 * for byte with a frame made independently by scapy (the hex literals
 * below, generated once with the commands in each comment), re-parsed by
 * frame_parse() in strict mode (no malformation, every checksum CSUM_OK),
 * and built again at every capacity below its length: each must return
 * -EMSGSIZE and leave the buffer untouched. Then the length limits of the
 * IP fields and the argument checks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../../service/build.h"
#include "../../service/csum.h"
#include "../../service/parse.h"
#include "support.h"

#define FRAME_MAX 512
#define SENTINEL  0xa5

/*
 * Generated with scapy 2.5 from these definitions:
 *   D='02:00:00:00:00:01'; S='02:00:00:00:00:02'
 *   a4='198.18.0.1'; b4='198.18.0.2'; a6='2001:db8::1'; b6='2001:db8::2'
 *   ip4 = IP(src=a4, dst=b4, id=0, flags='DF', ttl=T)   (T = 64 unless given)
 *   ip6 = IPv6(src=a6, dst=b6, hlim=T)
 */

/* Ether(dst=D, src=S)/ip4/UDP(sport=1234, dport=7)/b'hello' */
static const char udp4_eth[] = "020000000001020000000002080045000021000040004011aea4c6120001c612"
			       "000204d20007000d2b0168656c6c6f";
/* Ether(dst=D, src=S)/ip6/UDP(sport=1234, dport=7)/b'hello' */
static const char udp6_eth[] = "02000000000102000000000286dd60000000000d114020010db8000000000000"
			       "00000000000120010db800000000000000000000000204d20007000d5bb46865"
			       "6c6c6f";
/* b'\x00\x00\x08\x00' + ip4(T=1)/UDP(sport=53, dport=5353) */
static const char udp4_pi[] = "000008004500001c000040000111eda9c6120001c6120002003514e900085e98";
/* ip6(T=255)/UDP(sport=40000, dport=9)/bytes(range(7)) */
static const char udp6_ip[] = "60000000000f11ff20010db800000000000000000000000120010db800000000"
			      "00000000000000029c400009000ffc0800010203040506";
/*
 * ip4/UDP(sport=1, dport=2)/b'\x73\xaf': the payload is the checksum of the
 * same datagram with a zero payload, so the sum comes out as zero and is
 * sent as 0xffff (RFC 768).
 */
static const char udp4_zero[] = "4500001e000040004011aea7c6120001c612000200010002000affff73af";
/* ip6/UDP(sport=1, dport=2)/b'\xa4\x62', the same over IPv6 (RFC 8200 8.1) */
static const char udp6_zero[] = "60000000000a114020010db800000000000000000000000120010db800000000"
				"000000000000000200010002000affffa462";
/* Ether(dst=D, src=S)/ip4(T=32)/ICMP(type=8, id=0x1234, seq=1)/b'abcdefgh' */
static const char icmp4_req_eth[] =
	"020000000001020000000002080045000024000040002001ceb1c6120001c612"
	"000208005435123400016162636465666768";
/* ip4/ICMP(type=0, id=0x1234, seq=1)/b'abcdefgh' */
static const char icmp4_rep_ip[] =
	"45000024000040004001aeb1c6120001c612000200005c351234000161626364"
	"65666768";
/* Ether(dst=D, src=S)/ip6/ICMPv6EchoRequest(id=0x1234, seq=1, data=b'abcdefgh') */
static const char icmp6_req_eth[] =
	"02000000000102000000000286dd6000000000103a4020010db8000000000000"
	"00000000000120010db800000000000000000000000280008075123400016162"
	"636465666768";
/* b'\x00\x00\x86\xdd' + ip6/ICMPv6EchoReply(id=0x1234, seq=1, data=b'abcdefgh') */
static const char icmp6_rep_pi[] =
	"000086dd6000000000103a4020010db800000000000000000000000120010db8"
	"00000000000000000000000281007f75123400016162636465666768";
/*
 * Ether(dst='ff:ff:ff:ff:ff:ff', src=S, type=0x806)/ARP(op=1, hwsrc=S,
 * psrc=a4, hwdst='00:00:00:00:00:00', pdst=b4)/Padding(b'\0' * 18)
 */
static const char arp_req[] = "ffffffffffff02000000000208060001080006040001020000000002c6120001"
			      "000000000000c6120002000000000000000000000000000000000000";
/* Ether(dst=D, src=S, type=0x806)/ARP(op=2, hwsrc=S, psrc=b4, hwdst=D, pdst=a4)/Padding */
static const char arp_rep[] = "02000000000102000000000208060001080006040002020000000002c6120002"
			      "020000000001c6120001000000000000000000000000000000000000";
/*
 * Ether(dst=D, src=S)/IPv6(src=a6, dst=b6, hlim=255)/ICMPv6ND_NA(R=0, S=1,
 * O=1, tgt=a6)/ICMPv6NDOptDstLLAddr(lladdr=S)
 */
static const char ndp_na[] = "02000000000102000000000286dd6000000000203aff20010db8000000000000"
			     "00000000000120010db800000000000000000000000288008a72600000002001"
			     "0db80000000000000000000000010201020000000002";
/* the same to dst='ff02::1', Ethernet 33:33:00:00:00:01, with S=0 (DAD answered) */
static const char ndp_na_dad[] = "33330000000102000000000286dd6000000000203aff20010db8000000000000"
				 "000000000001ff0200000000000000000000000000018800f929200000002001"
				 "0db80000000000000000000000010201020000000002";

static const uint8_t mac_d[6] = { 2, 0, 0, 0, 0, 1 };
static const uint8_t mac_s[6] = { 2, 0, 0, 0, 0, 2 };

/* Everything a builder call needs, so that one checker drives them all. */
struct args {
	struct build_link l;
	struct build_ip ip;
	uint16_t sport, dport;
	bool reply;
	uint16_t id, seq;
	const uint8_t *data;
	size_t dlen;
	/* ARP */
	uint16_t op;
	uint8_t eth_dst[6], sha[6], spa[4], tha[6], tpa[4];
	/* NDP */
	uint8_t src[16], dst[16], target[16];
	bool solicited, override;
	uint8_t tlla[6];
};

typedef ssize_t (*build_fn)(uint8_t *buf, size_t cap, const struct args *a);

static ssize_t call_udp(uint8_t *buf, size_t cap, const struct args *a)
{
	return build_udp(buf, cap, &a->l, &a->ip, a->sport, a->dport, a->data, a->dlen);
}

static ssize_t call_icmp(uint8_t *buf, size_t cap, const struct args *a)
{
	return build_icmp_echo(buf, cap, &a->l, &a->ip, a->reply, a->id, a->seq, a->data, a->dlen);
}

static ssize_t call_arp(uint8_t *buf, size_t cap, const struct args *a)
{
	return build_arp(buf, cap, a->eth_dst, a->op, a->sha, a->spa, a->tha, a->tpa);
}

static ssize_t call_ndp(uint8_t *buf, size_t cap, const struct args *a)
{
	return build_ndp_na(buf, cap, &a->l, a->src, a->dst, a->target, a->solicited, a->override,
			    a->tlla);
}

static void addr(int family, const char *s, uint8_t *out)
{
	assert_int_equal(inet_pton(family, s, out), 1);
}

/* IPv4 198.18.0.1 → 198.18.0.2 or IPv6 2001:db8::1 → 2001:db8::2, framed by @link. */
static struct args args_ip(enum frame_link link, int family, uint8_t ttl)
{
	struct args a;

	memset(&a, 0, sizeof(a));
	a.l.link = link;
	memcpy(a.l.dst, mac_d, 6);
	memcpy(a.l.src, mac_s, 6);
	a.ip.family = family;
	a.ip.ttl = ttl;
	if (family == AF_INET) {
		addr(AF_INET, "198.18.0.1", a.ip.src);
		addr(AF_INET, "198.18.0.2", a.ip.dst);
	} else {
		addr(AF_INET6, "2001:db8::1", a.ip.src);
		addr(AF_INET6, "2001:db8::2", a.ip.dst);
	}
	return a;
}

static bool all_sentinel(const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != SENTINEL)
			return false;
	return true;
}

/*
 * Builds with @fn and @a: the result must be @hex exactly, must parse
 * cleanly as a @link frame, and must not fit in any smaller capacity.
 * Returns the parse for the caller's field checks.
 */
static void check_build(build_fn fn, const struct args *a, const char *hex, enum frame_link link,
			struct frame_info *fi)
{
	uint8_t want[FRAME_MAX], got[FRAME_MAX];
	size_t wlen = hex_decode(hex, want, sizeof(want));
	ssize_t n;

	memset(got, SENTINEL, sizeof(got));
	n = fn(got, sizeof(got), a);
	assert_int_equal(n, (ssize_t)wlen);
	assert_memory_equal(got, want, wlen);
	assert_true(all_sentinel(got + wlen, sizeof(got) - wlen));

	/* The exact size fits too. */
	memset(got, SENTINEL, sizeof(got));
	assert_int_equal(fn(got, wlen, a), (ssize_t)wlen);
	assert_memory_equal(got, want, wlen);

	/* One byte short, and every shorter capacity: refused, nothing written. */
	for (size_t cap = 0; cap < wlen; cap++) {
		memset(got, SENTINEL, sizeof(got));
		assert_int_equal(fn(got, cap, a), -EMSGSIZE);
		assert_true(all_sentinel(got, sizeof(got)));
	}

	frame_parse(want, wlen, link, PARSE_STRICT, fi);
	assert_int_equal(fi->malformed, MALFORMED_NONE);
	assert_int_equal(fi->link, link);
}

/* The sum over pseudo-header and message that RFC 1071 verification expects. */
static void assert_l4_sum_ok(const uint8_t *frame, const struct frame_info *fi)
{
	uint32_t s = 0;

	if (fi->l3 == L3_IPV6)
		s = csum_pseudo6(fi->ip6.src, fi->ip6.dst, fi->ip_protocol, (uint32_t)fi->l4_len);
	else if (fi->l4 == L4_UDP)
		s = csum_pseudo4(fi->ip4.src, fi->ip4.dst, fi->ip_protocol, (uint32_t)fi->l4_len);
	assert_int_equal(csum_fold(csum_add(s, frame + fi->l4_off, fi->l4_len)), 0);
}

/* --- UDP --- */

static void test_udp4_ethernet(void **state)
{
	struct args a = args_ip(LINK_ETHERNET, AF_INET, 0);
	struct frame_info fi;

	(void)state;
	a.sport = 1234;
	a.dport = 7;
	a.data = (const uint8_t *)"hello";
	a.dlen = 5;
	check_build(call_udp, &a, udp4_eth, LINK_ETHERNET, &fi);
	assert_true(fi.has_eth);
	assert_memory_equal(fi.eth_dst, mac_d, 6);
	assert_memory_equal(fi.eth_src, mac_s, 6);
	assert_int_equal(fi.ethertype, ETHERTYPE_IPV4);
	assert_int_equal(fi.ip4.ihl, 20);
	assert_true(fi.ip4.df);
	assert_int_equal(fi.ip4.ttl, 64);
	assert_int_equal(fi.ip4.checksum_status, CSUM_OK);
	assert_int_equal(fi.l4, L4_UDP);
	assert_int_equal(fi.udp.sport, 1234);
	assert_int_equal(fi.udp.dport, 7);
	assert_int_equal(fi.udp.checksum_status, CSUM_OK);
	assert_int_equal(fi.payload_len, 5);
}

static void test_udp6_ethernet(void **state)
{
	struct args a = args_ip(LINK_ETHERNET, AF_INET6, 0);
	struct frame_info fi;
	uint8_t frame[FRAME_MAX];

	(void)state;
	a.sport = 1234;
	a.dport = 7;
	a.data = (const uint8_t *)"hello";
	a.dlen = 5;
	check_build(call_udp, &a, udp6_eth, LINK_ETHERNET, &fi);
	assert_int_equal(fi.ethertype, ETHERTYPE_IPV6);
	assert_int_equal(fi.ip6.hop_limit, 64);
	assert_int_equal(fi.ip6.traffic_class, 0);
	assert_int_equal(fi.ip6.flow_label, 0);
	assert_int_equal(fi.udp.checksum_status, CSUM_OK);
	hex_decode(udp6_eth, frame, sizeof(frame));
	assert_l4_sum_ok(frame, &fi);
}

static void test_udp4_packet_info(void **state)
{
	struct args a = args_ip(LINK_IP_PI, AF_INET, 1);
	struct frame_info fi;

	(void)state;
	a.sport = 53;
	a.dport = 5353;
	check_build(call_udp, &a, udp4_pi, LINK_IP_PI, &fi);
	assert_true(fi.has_pi);
	assert_int_equal(fi.pi_flags, 0);
	assert_int_equal(fi.pi_proto, ETHERTYPE_IPV4);
	assert_int_equal(fi.ip4.ttl, 1);
	assert_int_equal(fi.payload_len, 0);
	assert_int_equal(fi.udp.checksum_status, CSUM_OK);
}

static void test_udp6_bare_ip(void **state)
{
	static const uint8_t seven[7] = { 0, 1, 2, 3, 4, 5, 6 };
	struct args a = args_ip(LINK_IP, AF_INET6, 255);
	struct frame_info fi;

	(void)state;
	a.sport = 40000;
	a.dport = 9;
	a.data = seven;
	a.dlen = sizeof(seven);
	check_build(call_udp, &a, udp6_ip, LINK_IP, &fi);
	assert_false(fi.has_eth);
	assert_false(fi.has_pi);
	assert_int_equal(fi.l3_off, 0);
	assert_int_equal(fi.ip6.hop_limit, 255);
	assert_int_equal(fi.udp.checksum_status, CSUM_OK);
}

/* A computed zero goes out as 0xffff, over IPv4 (RFC 768) and IPv6 (RFC 8200 8.1). */
static void test_udp_zero_checksum(void **state)
{
	static const uint8_t p4[2] = { 0x73, 0xaf }, p6[2] = { 0xa4, 0x62 };
	struct args a = args_ip(LINK_IP, AF_INET, 0);
	struct frame_info fi;

	(void)state;
	a.sport = 1;
	a.dport = 2;
	a.data = p4;
	a.dlen = 2;
	check_build(call_udp, &a, udp4_zero, LINK_IP, &fi);
	assert_int_equal(fi.udp.checksum, 0xffff);
	assert_int_equal(fi.udp.checksum_status, CSUM_OK);

	a = args_ip(LINK_IP, AF_INET6, 0);
	a.sport = 1;
	a.dport = 2;
	a.data = p6;
	a.dlen = 2;
	check_build(call_udp, &a, udp6_zero, LINK_IP, &fi);
	assert_int_equal(fi.udp.checksum, 0xffff);
	assert_int_equal(fi.udp.checksum_status, CSUM_OK);
}

/* --- ICMP and ICMPv6 echo --- */

static void test_icmp4_echo(void **state)
{
	struct args a = args_ip(LINK_ETHERNET, AF_INET, 32);
	struct frame_info fi;

	(void)state;
	a.id = 0x1234;
	a.seq = 1;
	a.data = (const uint8_t *)"abcdefgh";
	a.dlen = 8;
	check_build(call_icmp, &a, icmp4_req_eth, LINK_ETHERNET, &fi);
	assert_int_equal(fi.l4, L4_ICMP);
	assert_int_equal(fi.icmp.type, 8);
	assert_int_equal(fi.icmp.code, 0);
	assert_true(fi.icmp.echo);
	assert_int_equal(fi.icmp.id, 0x1234);
	assert_int_equal(fi.icmp.seq, 1);
	assert_int_equal(fi.icmp.checksum_status, CSUM_OK);
	assert_int_equal(fi.ip4.ttl, 32);

	a = args_ip(LINK_IP, AF_INET, 0);
	a.reply = true;
	a.id = 0x1234;
	a.seq = 1;
	a.data = (const uint8_t *)"abcdefgh";
	a.dlen = 8;
	check_build(call_icmp, &a, icmp4_rep_ip, LINK_IP, &fi);
	assert_int_equal(fi.icmp.type, 0);
	assert_int_equal(fi.icmp.checksum_status, CSUM_OK);
	assert_int_equal(fi.ip4.checksum_status, CSUM_OK);
}

static void test_icmp6_echo(void **state)
{
	struct args a = args_ip(LINK_ETHERNET, AF_INET6, 0);
	struct frame_info fi;
	uint8_t frame[FRAME_MAX];

	(void)state;
	a.id = 0x1234;
	a.seq = 1;
	a.data = (const uint8_t *)"abcdefgh";
	a.dlen = 8;
	check_build(call_icmp, &a, icmp6_req_eth, LINK_ETHERNET, &fi);
	assert_int_equal(fi.l4, L4_ICMPV6);
	assert_int_equal(fi.icmp.type, 128);
	assert_true(fi.icmp.echo);
	assert_int_equal(fi.icmp.checksum_status, CSUM_OK);
	hex_decode(icmp6_req_eth, frame, sizeof(frame));
	assert_l4_sum_ok(frame, &fi);

	a = args_ip(LINK_IP_PI, AF_INET6, 0);
	a.reply = true;
	a.id = 0x1234;
	a.seq = 1;
	a.data = (const uint8_t *)"abcdefgh";
	a.dlen = 8;
	check_build(call_icmp, &a, icmp6_rep_pi, LINK_IP_PI, &fi);
	assert_int_equal(fi.pi_proto, ETHERTYPE_IPV6);
	assert_int_equal(fi.icmp.type, 129);
	assert_int_equal(fi.icmp.id, 0x1234);
	assert_int_equal(fi.icmp.seq, 1);
	assert_int_equal(fi.icmp.checksum_status, CSUM_OK);
}

/* --- ARP --- */

static void test_arp(void **state)
{
	struct args a;
	struct frame_info fi;

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(a.eth_dst, 0xff, 6);
	a.op = 1;
	memcpy(a.sha, mac_s, 6);
	addr(AF_INET, "198.18.0.1", a.spa);
	addr(AF_INET, "198.18.0.2", a.tpa);
	check_build(call_arp, &a, arp_req, LINK_ETHERNET, &fi);
	assert_int_equal(fi.ethertype, ETHERTYPE_ARP);
	assert_int_equal(fi.l3, L3_ARP);
	assert_true(fi.arp.ether_ipv4);
	assert_int_equal(fi.arp.op, 1);
	assert_int_equal(fi.l3_len, 28);

	memcpy(a.eth_dst, mac_d, 6);
	a.op = 2;
	addr(AF_INET, "198.18.0.2", a.spa);
	memcpy(a.tha, mac_d, 6);
	addr(AF_INET, "198.18.0.1", a.tpa);
	check_build(call_arp, &a, arp_rep, LINK_ETHERNET, &fi);
	assert_int_equal(fi.arp.op, 2);
	assert_memory_equal(fi.arp.sha, mac_s, 6);
	assert_memory_equal(fi.arp.tha, mac_d, 6);
}

/* --- NDP --- */

static void test_ndp_na(void **state)
{
	struct args a;
	struct frame_info fi;
	uint8_t frame[FRAME_MAX];

	(void)state;
	memset(&a, 0, sizeof(a));
	a.l.link = LINK_ETHERNET;
	memcpy(a.l.dst, mac_d, 6);
	memcpy(a.l.src, mac_s, 6);
	addr(AF_INET6, "2001:db8::1", a.src);
	addr(AF_INET6, "2001:db8::2", a.dst);
	addr(AF_INET6, "2001:db8::1", a.target);
	a.solicited = true;
	a.override = true;
	memcpy(a.tlla, mac_s, 6);
	check_build(call_ndp, &a, ndp_na, LINK_ETHERNET, &fi);
	assert_int_equal(fi.l4, L4_ICMPV6);
	assert_int_equal(fi.icmp.type, 136);
	assert_int_equal(fi.ip6.hop_limit, 255);
	assert_int_equal(fi.icmp.checksum_status, CSUM_OK);
	assert_int_equal(fi.l4_len, 32);
	hex_decode(ndp_na, frame, sizeof(frame));
	assert_l4_sum_ok(frame, &fi);

	memcpy(a.l.dst, (const uint8_t[6]){ 0x33, 0x33, 0, 0, 0, 1 }, 6);
	addr(AF_INET6, "ff02::1", a.dst);
	a.solicited = false;
	check_build(call_ndp, &a, ndp_na_dad, LINK_ETHERNET, &fi);
	assert_int_equal(fi.icmp.checksum_status, CSUM_OK);
}

/* --- limits and arguments --- */

/* The IP length fields are 16 bits: the largest payloads fit, one byte more does not. */
static void test_ip_length_limits(void **state)
{
	size_t cap = 70000;
	uint8_t *buf = malloc(cap), *data = calloc(1, 65536);
	struct args a4 = args_ip(LINK_IP, AF_INET, 0), a6 = args_ip(LINK_IP, AF_INET6, 0);
	struct frame_info fi;

	(void)state;
	assert_non_null(buf);
	assert_non_null(data);
	frame_fill(data, 65536, 3);
	/* IPv4: total length = 20 + 8 + payload <= 65535. */
	assert_int_equal(build_udp(buf, cap, &a4.l, &a4.ip, 1, 2, data, 65507), 65535);
	frame_parse(buf, 65535, LINK_IP, PARSE_STRICT, &fi);
	assert_int_equal(fi.malformed, MALFORMED_NONE);
	assert_int_equal(fi.udp.checksum_status, CSUM_OK);
	assert_int_equal(build_udp(buf, cap, &a4.l, &a4.ip, 1, 2, data, 65508), -EMSGSIZE);
	assert_int_equal(build_icmp_echo(buf, cap, &a4.l, &a4.ip, true, 1, 2, data, 65507), 65535);
	assert_int_equal(build_icmp_echo(buf, cap, &a4.l, &a4.ip, true, 1, 2, data, 65508),
			 -EMSGSIZE);
	/* IPv6: payload length = 8 + payload <= 65535; no jumbograms. */
	assert_int_equal(build_udp(buf, cap, &a6.l, &a6.ip, 1, 2, data, 65527), 40 + 65535);
	frame_parse(buf, 40 + 65535, LINK_IP, PARSE_STRICT, &fi);
	assert_int_equal(fi.malformed, MALFORMED_NONE);
	assert_int_equal(fi.udp.checksum_status, CSUM_OK);
	assert_int_equal(build_udp(buf, cap, &a6.l, &a6.ip, 1, 2, data, 65528), -EMSGSIZE);
	assert_int_equal(build_icmp_echo(buf, cap, &a6.l, &a6.ip, false, 1, 2, data, 65528),
			 -EMSGSIZE);
	assert_int_equal(build_udp(buf, cap, &a6.l, &a6.ip, 1, 2, data, SIZE_MAX), -EMSGSIZE);
	free(data);
	free(buf);
}

static void test_bad_arguments(void **state)
{
	struct args a = args_ip(LINK_ETHERNET, AF_INET, 0);
	uint8_t buf[FRAME_MAX], z[16] = { 0 };

	(void)state;
	memset(buf, SENTINEL, sizeof(buf));
	a.ip.family = AF_UNIX;
	assert_int_equal(build_udp(buf, sizeof(buf), &a.l, &a.ip, 1, 2, NULL, 0), -EAFNOSUPPORT);
	assert_int_equal(build_icmp_echo(buf, sizeof(buf), &a.l, &a.ip, false, 1, 2, NULL, 0),
			 -EAFNOSUPPORT);
	a.ip.family = AF_INET;
	a.l.link = (enum frame_link)7;
	assert_int_equal(build_udp(buf, sizeof(buf), &a.l, &a.ip, 1, 2, NULL, 0), -EINVAL);
	a.l.link = LINK_ETHERNET;
	assert_int_equal(build_udp(buf, sizeof(buf), &a.l, &a.ip, 1, 2, NULL, 3), -EINVAL);
	assert_int_equal(build_udp(buf, sizeof(buf), NULL, &a.ip, 1, 2, NULL, 0), -EINVAL);
	assert_int_equal(build_icmp_echo(buf, sizeof(buf), &a.l, NULL, false, 1, 2, NULL, 0),
			 -EINVAL);
	assert_int_equal(build_arp(buf, sizeof(buf), mac_d, 3, mac_s, z, z, z), -EINVAL);
	a.l.link = LINK_IP;
	assert_int_equal(build_ndp_na(buf, sizeof(buf), &a.l, z, z, z, true, true, mac_s), -EINVAL);
	assert_true(all_sentinel(buf, sizeof(buf)));

	/* An empty payload needs no pointer. */
	a.l.link = LINK_IP;
	assert_int_equal(build_udp(buf, sizeof(buf), &a.l, &a.ip, 1, 2, NULL, 0), 28);
	assert_int_equal(build_icmp_echo(buf, sizeof(buf), &a.l, &a.ip, false, 1, 2, NULL, 0), 28);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp4_ethernet),
		cmocka_unit_test(test_udp6_ethernet),
		cmocka_unit_test(test_udp4_packet_info),
		cmocka_unit_test(test_udp6_bare_ip),
		cmocka_unit_test(test_udp_zero_checksum),
		cmocka_unit_test(test_icmp4_echo),
		cmocka_unit_test(test_icmp6_echo),
		cmocka_unit_test(test_arp),
		cmocka_unit_test(test_ndp_na),
		cmocka_unit_test(test_ip_length_limits),
		cmocka_unit_test(test_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
