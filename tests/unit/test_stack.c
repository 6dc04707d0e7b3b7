// SPDX-License-Identifier: MIT
/*
 * Unit tests of service/stack.c, the dispatcher, on the memory port I/O:
 * frames are queued with memio_push() and read by port_read_ready(), so
 * the real read loop feeds the stack's sink. Twisted Pair's own test
 * behaviours come first (dispatch by ethertype, IP protocol and UDP port;
 * two protocols on one key both called, in order; keys nobody bound never
 * seen), then paird's: bindings on every level of one path, a failing
 * handler never stopping the rest, the accounting identity matched +
 * unmatched + malformed == rx_frames with every frame in its bucket and
 * unmatched level, fragments stopping at the IP protocol node, bad
 * checksums delivered unless the port is strict, stack_bind()'s limits and
 * ids, the capture ring's allocation from the budget, every fixture frame
 * of tests/fixtures/frames dispatched along its documented path, and a
 * per-frame path that calls no allocator.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../../service/bindcfg.h"
#include "../../service/build.h"
#include "../../service/capture.h"
#include "../../service/parse.h"
#include "../../service/port.h"
#include "../fakes/portio_mem.h"
#include "../../service/stack.h"
#include "support.h"

/*
 * The per-frame path must not allocate (DESIGN.md, "Performance"; STYLE.md
 * rule 9). glibc lets a program replace malloc; these forward to glibc's
 * own allocator and count calls while `alloc_counting` is set. Under
 * AddressSanitizer, whose allocator owns malloc, the count is not taken.
 */
#if defined(__SANITIZE_ADDRESS__)
#define ALLOC_COUNTING 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ALLOC_COUNTING 0
#endif
#endif
#ifndef ALLOC_COUNTING
#define ALLOC_COUNTING 1
#endif

#if ALLOC_COUNTING
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);

static volatile bool alloc_counting; /* volatile: the compiler takes malloc to touch no globals */
static volatile unsigned long alloc_calls;

void *malloc(size_t size)
{
	if (alloc_counting)
		alloc_calls++;
	return __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
	if (alloc_counting)
		alloc_calls++;
	return __libc_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
	if (alloc_counting)
		alloc_calls++;
	return __libc_realloc(p, size);
}
#endif

#define FRAME_CAP 2048
#define MAX_DUTS  4

/* A port under test and its stack. */
struct dut {
	struct port *p;
	struct stack *s;
	enum port_type type;
};

struct fx {
	struct memio *m;
	struct port_env penv;
	struct stack_env senv;
	struct dut d[MAX_DUTS];
	size_t n;
	uint8_t buf[PORT_FRAME_MAX + 16];
};

static const uint8_t mac_a[6] = { 2, 0, 0, 0, 0, 1 }, mac_b[6] = { 2, 0, 0, 0, 0, 2 };
static const uint8_t v4_a[4] = { 198, 18, 0, 1 }, v4_b[4] = { 198, 18, 0, 2 };
static const uint8_t v6_a[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t v6_b[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

static struct port *fx_lookup(void *arg, const char *name)
{
	struct fx *fx = arg;

	for (size_t i = 0; i < fx->n; i++)
		if (fx->d[i].p && strcmp(port_name(fx->d[i].p), name) == 0)
			return fx->d[i].p;
	return NULL;
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	fx->m = memio_env_new(&fx->penv);
	senv_init(&fx->senv, 4u << 20, 1u << 20, 16);
	fx->senv.lookup = fx_lookup;
	fx->senv.lookup_arg = fx;
	*state = fx;
	return 0;
}

static void dut_close(struct dut *d)
{
	stack_free(d->s);
	port_free(d->p);
	memset(d, 0, sizeof(*d));
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	for (size_t i = 0; i < fx->n; i++)
		dut_close(&fx->d[i]);
	senv_fini(&fx->senv); /* every ring gave its bytes back */
	assert_int_equal(memio_open_fds(fx->m), 0);
	memio_free(fx->m);
	free(fx);
	return 0;
}

/* Opens a port on the memory I/O (up, as paird creates them) with a stack. */
static struct dut *dut_open(struct fx *fx, const char *name, enum port_type type, bool pi,
			    bool strict)
{
	struct fault f = FAULT_INIT;
	struct port_config c;
	struct dut *d;

	assert_true(fx->n < MAX_DUTS);
	d = &fx->d[fx->n++];
	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "%s", name);
	c.type = type;
	c.packet_info = pi;
	c.has_strict = strict;
	c.strict = strict;
	d->p = port_open(&fx->penv, &c, &f);
	if (!d->p)
		fail_msg("port_open %s: %s", name, f.detail);
	d->s = stack_new(&fx->senv, d->p);
	assert_non_null(d->s);
	d->type = type;
	return d;
}

static struct dut *tap_open(struct fx *fx, const char *name)
{
	return dut_open(fx, name, PORT_TAP, false, false);
}

static int bind_try(struct dut *d, const char *spec, struct binding **out, struct fault *f)
{
	struct binding_config cfg;
	json_t *doc = json_sq(spec);
	int ret = bindcfg_from_json(doc, d->type, false, &cfg, f);

	json_decref(doc);
	if (ret < 0)
		fail_msg("%s: refused by bindcfg: %s: %s", spec, f->field, f->detail);
	return stack_bind(d->s, &cfg, out, f);
}

/* Binds the request @spec (JSON with ' for ") to @d; the test fails if it is refused. */
static struct binding *bind_ok(struct dut *d, const char *spec)
{
	struct fault f = FAULT_INIT;
	struct binding *b = NULL;

	if (bind_try(d, spec, &b, &f) < 0)
		fail_msg("%s: %s", spec, f.detail);
	assert_non_null(b);
	return b;
}

/* A count binding at the node @depth levels down the path (et, proto, port). */
static struct binding *bind_raw(struct dut *d, unsigned depth, uint16_t et, uint8_t proto,
				uint16_t port)
{
	struct binding_config cfg = { .kind = HANDLER_COUNT };
	struct fault f = FAULT_INIT;
	struct binding *b = NULL;

	cfg.match.depth = (uint8_t)depth;
	cfg.match.ethertype = depth >= 1 ? et : 0;
	cfg.match.ip_protocol = depth >= 2 ? proto : 0;
	cfg.match.udp_port = depth >= 3 ? port : 0;
	if (stack_bind(d->s, &cfg, &b, &f) < 0)
		fail_msg("stack_bind: %s", f.detail);
	return b;
}

static void feed(struct fx *fx, struct dut *d, const void *frame, size_t len)
{
	frame_feed(fx->m, d->p, frame, len);
}

/* --- frames --- */

static size_t link_len(enum frame_link link)
{
	return link == LINK_ETHERNET ? 14 : link == LINK_IP_PI ? 4 : 0;
}

static struct build_link blink(enum frame_link link)
{
	struct build_link l = { .link = link };

	memcpy(l.dst, mac_b, 6);
	memcpy(l.src, mac_a, 6);
	return l;
}

static struct build_ip bip(int family)
{
	struct build_ip ip = { .family = family };

	memcpy(ip.src, family == AF_INET ? v4_a : v6_a, family == AF_INET ? 4 : 16);
	memcpy(ip.dst, family == AF_INET ? v4_b : v6_b, family == AF_INET ? 4 : 16);
	return ip;
}

static size_t udp_frame(uint8_t *buf, enum frame_link link, int family, uint16_t dport, size_t plen)
{
	struct build_link l = blink(link);
	struct build_ip ip = bip(family);
	uint8_t payload[512];
	ssize_t n;

	assert_true(plen <= sizeof(payload));
	frame_fill(payload, plen, dport);
	n = build_udp(buf, FRAME_CAP, &l, &ip, 40000, dport, payload, plen);
	assert_true(n > 0);
	return (size_t)n;
}

static size_t udp4(uint8_t *buf, uint16_t dport)
{
	return udp_frame(buf, LINK_ETHERNET, AF_INET, dport, 32);
}

static size_t udp6(uint8_t *buf, uint16_t dport)
{
	return udp_frame(buf, LINK_ETHERNET, AF_INET6, dport, 32);
}

static size_t icmp_frame(uint8_t *buf, enum frame_link link, int family)
{
	static const uint8_t data[24] = "paird echo request data";
	struct build_link l = blink(link);
	struct build_ip ip = bip(family);
	ssize_t n = build_icmp_echo(buf, FRAME_CAP, &l, &ip, false, 7, 1, data, sizeof(data));

	assert_true(n > 0);
	return (size_t)n;
}

static size_t arp_frame(uint8_t *buf)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, zero[6];
	ssize_t n = build_arp(buf, FRAME_CAP, bcast, 1, mac_a, v4_a, zero, v4_b);

	assert_true(n > 0);
	return (size_t)n;
}

/* A minimum-size Ethernet frame of another ethertype (LLDP, a VLAN tag, ...). */
static size_t other_frame(uint8_t *buf, uint16_t ethertype)
{
	memset(buf, 0, 60);
	memcpy(buf, mac_b, 6);
	memcpy(buf + 6, mac_a, 6);
	buf[12] = (uint8_t)(ethertype >> 8);
	buf[13] = (uint8_t)ethertype;
	frame_fill(buf + 14, 46, ethertype);
	return 60;
}

/* IPv4 UDP turned into protocol @proto (TCP, ...): the upper layer is not parsed. */
static size_t proto4(uint8_t *buf, uint8_t proto)
{
	size_t n = udp4(buf, 80);

	buf[14 + 9] = proto;
	ipv4_checksum_fix(buf + 14);
	return n;
}

/* An IPv4 UDP datagram to @dport made a fragment: the first (MF) or a later one. */
static size_t frag4(uint8_t *buf, enum frame_link link, uint16_t dport, bool first)
{
	size_t n = udp_frame(buf, link, AF_INET, dport, 32), o = link_len(link);

	buf[o + 6] = first ? 0x20 : 0x00;
	buf[o + 7] = first ? 0x00 : 0xb9; /* offset 185 * 8 */
	ipv4_checksum_fix(buf + o);
	return n;
}

/* An IPv6 UDP datagram to @dport behind a Fragment header (RFC 8200 4.5). */
static size_t frag6(uint8_t *buf, uint16_t dport, bool first)
{
	size_t n = udp6(buf, dport), l4 = 14 + 40;
	uint16_t plen = (uint16_t)(buf[14 + 4] << 8 | buf[14 + 5]);

	memmove(buf + l4 + 8, buf + l4, n - l4);
	buf[l4] = 17;	 /* next header: UDP */
	buf[l4 + 1] = 0; /* reserved */
	buf[l4 + 2] = first ? 0x00 : 0x05;
	buf[l4 + 3] = first ? 0x01 : 0x00; /* offset 160 (<< 3) or 0 with M set */
	memset(buf + l4 + 4, 0xab, 4);	   /* identification */
	buf[14 + 6] = 44;
	plen += 8;
	buf[14 + 4] = (uint8_t)(plen >> 8);
	buf[14 + 5] = (uint8_t)plen;
	return n + 8;
}

static void set16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* --- counters --- */

enum bucket { MATCHED, UNMATCHED, MALFORMED };

static const char *bucket_name(enum bucket k, int which)
{
	static char buf[64];

	if (k == MATCHED)
		return "matched";
	if (k == UNMATCHED)
		snprintf(buf, sizeof(buf), "unmatched[%s]", level_name((enum level)which));
	else
		snprintf(buf, sizeof(buf), "malformed[%s]", malformed_name((enum malformed)which));
	return buf;
}

static uint64_t total(const struct stack_counters *c)
{
	uint64_t t = c->matched;

	for (int lv = 0; lv < LEVEL_COUNT; lv++)
		t += c->unmatched[lv];
	for (int r = 0; r < MALFORMED_COUNT; r++)
		t += c->malformed[r];
	return t;
}

/* The identity of stack.h: every frame read is in exactly one bucket. */
static void assert_identity(const struct dut *d)
{
	const struct stack_counters *c = stack_counters(d->s);
	const struct port_counters *pc = port_counters(d->p);

	if (total(c) != pc->rx_frames)
		fail_msg("%s: matched + unmatched + malformed = %llu, rx_frames = %llu",
			 port_name(d->p), (unsigned long long)total(c),
			 (unsigned long long)pc->rx_frames);
	assert_int_equal(c->unmatched[LEVEL_ROOT], 0);
	assert_int_equal(c->malformed[MALFORMED_NONE], 0);
	assert_int_equal(c->malformed[MAL_truncated], pc->truncated);
}

/* Feeds one frame and asserts it landed in bucket @k (@which: level or reason) alone. */
static void feed_expect(struct fx *fx, struct dut *d, const uint8_t *frame, size_t len,
			enum bucket k, int which, const char *what)
{
	struct stack_counters a = *stack_counters(d->s), e = a;
	const struct stack_counters *b;

	feed(fx, d, frame, len);
	b = stack_counters(d->s);
	if (k == MATCHED)
		e.matched++;
	else if (k == UNMATCHED)
		e.unmatched[which]++;
	else
		e.malformed[which]++;
	if (b->matched != e.matched ||
	    memcmp(b->unmatched, e.unmatched, sizeof(e.unmatched)) != 0 ||
	    memcmp(b->malformed, e.malformed, sizeof(e.malformed)) != 0) {
		int lv, r;

		for (lv = 0; lv < LEVEL_COUNT && b->unmatched[lv] == a.unmatched[lv]; lv++)
			;
		for (r = 0; r < MALFORMED_COUNT && b->malformed[r] == a.malformed[r]; r++)
			;
		fail_msg("%s: expected %s; got matched +%llu, first changed unmatched level %d, "
			 "first changed malformed reason %s",
			 what, bucket_name(k, which), (unsigned long long)(b->matched - a.matched),
			 lv, r < MALFORMED_COUNT ? malformed_name((enum malformed)r) : "-");
	}
	assert_identity(d);
}

/* --- Twisted Pair's behaviours --- */

/* EthernetProtocol/IPProtocol/RawUDPProtocol testDemuxing: each key to its own protocol. */
static void test_dispatch_by_key(void **state)
{
	struct fx *fx = *state;
	struct dut *d = tap_open(fx, "tap0");
	struct binding *arp = bind_ok(d, "{'match':{'ethertype':2054},'handler':'count'}");
	struct binding *v6 = bind_ok(d, "{'match':{'ethertype':34525},'handler':'count'}");
	struct binding *icmp = bind_ok(d, "{'match':{'ethertype':2048,'ip_protocol':1},"
					  "'handler':'count'}");
	struct binding *tcp = bind_ok(d, "{'match':{'ethertype':2048,'ip_protocol':6},"
					 "'handler':'count'}");
	struct binding *u53 = bind_ok(d, "{'match':{'ethertype':2048,'ip_protocol':17,"
					 "'udp_port':53},'handler':'count'}");
	struct binding *u54 = bind_ok(d, "{'match':{'ethertype':2048,'ip_protocol':17,"
					 "'udp_port':54},'handler':'count'}");
	struct binding *v6u53 = bind_ok(d, "{'match':{'ethertype':34525,'ip_protocol':17,"
					   "'udp_port':53},'handler':'count'}");
	uint8_t *buf = fx->buf;
	size_t n;

	n = arp_frame(buf);
	feed(fx, d, buf, n);
	n = icmp_frame(buf, LINK_ETHERNET, AF_INET);
	feed(fx, d, buf, n);
	feed(fx, d, buf, n);
	n = proto4(buf, 6);
	feed(fx, d, buf, n);
	n = udp4(buf, 53);
	feed(fx, d, buf, n);
	feed(fx, d, buf, n);
	feed(fx, d, buf, n);
	n = udp4(buf, 54);
	feed(fx, d, buf, n);
	n = udp6(buf, 53);
	feed(fx, d, buf, n);
	n = udp6(buf, 54);
	feed(fx, d, buf, n);

	assert_int_equal(arp->c.packets, 1);
	assert_int_equal(icmp->c.packets, 2);
	assert_int_equal(tcp->c.packets, 1);
	assert_int_equal(u53->c.packets, 3);
	assert_int_equal(u54->c.packets, 1);
	assert_int_equal(v6->c.packets, 2);
	assert_int_equal(v6u53->c.packets, 1);
	/* Bytes are the whole frame's, as read. */
	assert_int_equal(u54->c.bytes, udp4(buf, 54));
	assert_int_equal(stack_counters(d->s)->matched, 10);
	assert_identity(d);
}

/*
 * testMultipleSameProtos: two protocols on one key are both called, in the
 * order they were added. Captures show the order by their seq; a capture
 * at the root made last runs last, whatever its depth.
 */
static void test_same_key_creation_order(void **state)
{
	struct fx *fx = *state;
	struct dut *d = tap_open(fx, "tap0");
	const char *at53 = "{'match':{'ethertype':2048,'ip_protocol':17,'udp_port':53},";
	char spec[256];
	struct binding *c1, *n2, *c3, *n4, *root;
	struct capture_record rec;
	uint64_t seq = 0;
	size_t n;

	snprintf(spec, sizeof(spec), "%s'handler':'capture'}", at53);
	c1 = bind_ok(d, spec);
	snprintf(spec, sizeof(spec), "%s'handler':'count'}", at53);
	n2 = bind_ok(d, spec);
	snprintf(spec, sizeof(spec), "%s'handler':'capture'}", at53);
	c3 = bind_ok(d, spec);
	snprintf(spec, sizeof(spec), "%s'handler':'drop'}", at53);
	n4 = bind_ok(d, spec);
	root = bind_ok(d, "{'handler':'capture'}");
	assert_int_equal(c1->cfg.id, 1);
	assert_int_equal(c3->cfg.id, 3);
	assert_int_equal(root->cfg.id, 5);

	n = udp4(fx->buf, 53);
	feed(fx, d, fx->buf, n);
	feed(fx, d, fx->buf, n);
	assert_int_equal(n2->c.packets, 2);
	assert_int_equal(n4->c.packets, 2);
	assert_int_equal(c1->c.extra[0], 2);
	assert_int_equal(c3->c.extra[0], 2);
	assert_int_equal(root->c.extra[0], 2);

	/* Per frame: binding 1, then 3, then the root's 5. */
	for (int frame = 0; frame < 2; frame++) {
		static const uint32_t order[] = { 1, 3, 5 };

		for (int i = 0; i < 3; i++) {
			assert_true(capture_ring_next(stack_ring(d->s), seq, 0, &rec));
			assert_int_equal(rec.seq, seq + 1);
			assert_int_equal(rec.binding_id, order[i]);
			assert_int_equal(rec.len, n);
			assert_memory_equal(rec.data, fx->buf, n);
			seq = rec.seq;
		}
	}
	assert_false(capture_ring_next(stack_ring(d->s), seq, 0, &rec));
	assert_int_equal(stack_counters(d->s)->matched, 2);
}

/* testWrongProtoNotSeen: a key nobody bound is never handed to a neighbour. */
static void test_unknown_keys_not_seen(void **state)
{
	struct fx *fx = *state;
	struct dut *d = tap_open(fx, "tap0");
	struct binding *u53 =
		bind_ok(d, "{'match':{'ethertype':2048,'ip_protocol':17,'udp_port':53},"
			   "'handler':'count'}");
	struct binding *arp = bind_ok(d, "{'match':{'ethertype':2054},'handler':'count'}");
	struct binding *icmp6 = bind_ok(d, "{'match':{'ethertype':34525,'ip_protocol':58},"
					   "'handler':'count'}");
	static const uint16_t ports[] = { 54, 52, 53 ^ 0x100, 0, 65535 };
	uint8_t *buf = fx->buf;

	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++)
		feed_expect(fx, d, buf, udp4(buf, ports[i]), UNMATCHED, LEVEL_UDP_PORT,
			    "udp to another port");
	feed_expect(fx, d, buf, udp6(buf, 53), UNMATCHED, LEVEL_IP_PROTOCOL, "udp over IPv6");
	feed_expect(fx, d, buf, icmp_frame(buf, LINK_ETHERNET, AF_INET), UNMATCHED,
		    LEVEL_IP_PROTOCOL, "icmp");
	feed_expect(fx, d, buf, other_frame(buf, 0x0801), UNMATCHED, LEVEL_ETHERTYPE, "0x0801");
	feed_expect(fx, d, buf, other_frame(buf, 0x0805), UNMATCHED, LEVEL_ETHERTYPE, "0x0805");
	assert_int_equal(u53->c.packets, 0);
	assert_int_equal(arp->c.packets, 0);
	assert_int_equal(icmp6->c.packets, 0);

	feed_expect(fx, d, buf, udp4(buf, 53), MATCHED, 0, "udp 53");
	feed_expect(fx, d, buf, arp_frame(buf), MATCHED, 0, "arp");
	assert_int_equal(u53->c.packets, 1);
	assert_int_equal(arp->c.packets, 1);
	assert_int_equal(icmp6->c.packets, 0);
}

/* --- paird's dispatch rules --- */

/* A frame runs the bindings of every node on its path: root, ethertype, protocol, port. */
static void test_every_level_of_a_path(void **state)
{
	struct fx *fx = *state;
	struct dut *d = tap_open(fx, "tap0");
	struct binding *b[4];
	uint8_t *buf = fx->buf;

	b[3] = bind_ok(d, "{'match':{'ethertype':2048,'ip_protocol':17,'udp_port':53},"
			  "'handler':'count'}");
	b[1] = bind_ok(d, "{'match':{'ethertype':2048},'handler':'count'}");
	b[0] = bind_ok(d, "{'handler':'count'}");
	b[2] = bind_ok(d, "{'match':{'ethertype':2048,'ip_protocol':17},'handler':'count'}");

	feed_expect(fx, d, buf, udp4(buf, 53), MATCHED, 0, "udp 53");
	for (int i = 0; i < 4; i++)
		assert_int_equal(b[i]->c.packets, 1);
	feed_expect(fx, d, buf, udp4(buf, 54), MATCHED, 0, "udp 54");
	assert_int_equal(b[0]->c.packets, 2);
	assert_int_equal(b[1]->c.packets, 2);
	assert_int_equal(b[2]->c.packets, 2);
	assert_int_equal(b[3]->c.packets, 1);
	feed_expect(fx, d, buf, icmp_frame(buf, LINK_ETHERNET, AF_INET), MATCHED, 0, "icmp");
	assert_int_equal(b[1]->c.packets, 3);
	assert_int_equal(b[2]->c.packets, 2);
	feed_expect(fx, d, buf, arp_frame(buf), MATCHED, 0, "arp");
	assert_int_equal(b[0]->c.packets, 4);
	assert_int_equal(b[1]->c.packets, 3);
}

/* On a tun the first level is the IP version; packet info carries the ethertype. */
static void test_tun_dispatch(void **state)
{
	struct fx *fx = *state;
	struct dut *tun = dut_open(fx, "tun0", PORT_TUN, false, false);
	struct dut *pi = dut_open(fx, "tun1", PORT_TUN, true, false);
	struct dut *both[] = { tun, pi };
	uint8_t *buf = fx->buf;

	for (int i = 0; i < 2; i++) {
		struct dut *d = both[i];
		enum frame_link link = i ? LINK_IP_PI : LINK_IP;
		struct binding *u4 = bind_ok(d, "{'match':{'ip_protocol':17,'udp_port':53},"
						"'handler':'count'}");
		struct binding *u6 = bind_ok(d, "{'match':{'ethertype':34525,'ip_protocol':17,"
						"'udp_port':53},'handler':'count'}");
		struct binding *icmp = bind_ok(d, "{'match':{'ip_protocol':1},'handler':'count'}");

		assert_int_equal(u4->cfg.match.ethertype, ETHERTYPE_IPV4);
		feed_expect(fx, d, buf, udp_frame(buf, link, AF_INET, 53, 8), MATCHED, 0, "v4");
		feed_expect(fx, d, buf, udp_frame(buf, link, AF_INET6, 53, 8), MATCHED, 0, "v6");
		feed_expect(fx, d, buf, udp_frame(buf, link, AF_INET6, 54, 8), UNMATCHED,
			    LEVEL_UDP_PORT, "v6 port 54");
		feed_expect(fx, d, buf, icmp_frame(buf, link, AF_INET), MATCHED, 0, "icmp");
		feed_expect(fx, d, buf, icmp_frame(buf, link, AF_INET6), UNMATCHED,
			    LEVEL_IP_PROTOCOL, "icmpv6");
		assert_int_equal(u4->c.packets, 1);
		assert_int_equal(u6->c.packets, 1);
		assert_int_equal(icmp->c.packets, 1);
	}
	/* Malformed link layers: no version to go by, or packet info cut short. */
	buf[0] = 0x00;
	feed_expect(fx, tun, buf, 20, MALFORMED, MAL_ip_bad_version, "version 0");
	feed_expect(fx, tun, buf, 0, MALFORMED, MAL_ip_bad_version, "empty");
	feed_expect(fx, pi, buf, 3, MALFORMED, MAL_pi_short, "3-byte packet info");
	/* Packet info naming ARP: an ethertype no tun binding can name. */
	memset(buf, 0, 32);
	set16(buf + 2, ETHERTYPE_ARP);
	feed_expect(fx, pi, buf, 32, UNMATCHED, LEVEL_ETHERTYPE, "packet info ARP");
}

/* A handler's failure is counted on its binding and never stops the ones after it. */
static void test_failure_does_not_stop_others(void **state)
{
	struct fx *fx = *state;
	struct dut *d = tap_open(fx, "tap0");
	struct dut *tap1 = tap_open(fx, "tap1");
	struct dut *tun = dut_open(fx, "tun0", PORT_TUN, false, false);
	struct binding *cap1, *missing, *count, *self, *tunfw, *ok, *cap7;
	struct capture_record rec;
	uint8_t *buf = fx->buf;
	uint64_t seq = 0;
	size_t n;

	(void)tun;
	cap1 = bind_ok(d, "{'handler':'capture'}");
	missing = bind_ok(d, "{'match':{'ethertype':2048,'ip_protocol':17,'udp_port':53},"
			     "'handler':'forward','options':{'port':'nope'}}");
	count = bind_ok(d, "{'match':{'ethertype':2048,'ip_protocol':17,'udp_port':53},"
			   "'handler':'count'}");
	self = bind_ok(
		d, "{'match':{'ethertype':2048},'handler':'forward','options':{'port':'tap0'}}");
	tunfw = bind_ok(
		d, "{'match':{'ethertype':2048},'handler':'forward','options':{'port':'tun0'}}");
	ok = bind_ok(d,
		     "{'match':{'ethertype':2048},'handler':'forward','options':{'port':'tap1'}}");
	cap7 = bind_ok(d, "{'match':{'ethertype':2048,'ip_protocol':17,'udp_port':53},"
			  "'handler':'capture'}");

	n = udp4(buf, 53);
	feed_expect(fx, d, buf, n, MATCHED, 0, "udp 53");
	feed_expect(fx, d, buf, n, MATCHED, 0, "udp 53 again");
	assert_int_equal(missing->c.packets, 2);
	assert_int_equal(missing->c.errors, 2);
	assert_int_equal(self->c.errors, 2);
	assert_int_equal(tunfw->c.errors, 2);
	assert_int_equal(count->c.packets, 2);
	assert_int_equal(count->c.errors, 0);
	assert_int_equal(ok->c.errors, 0);
	assert_int_equal(ok->c.extra[0], 2);
	assert_int_equal(cap7->c.extra[0], 2);
	assert_int_equal(cap1->c.extra[0], 2);
	/* Nothing went to the port itself or to the tun; the good forward wrote both. */
	assert_int_equal(memio_written_count(fx->m, "tap0"), 0);
	assert_int_equal(memio_written_count(fx->m, "tun0"), 0);
	assert_int_equal(memio_written_count(fx->m, "tap1"), 2);
	for (int i = 0; i < 4; i++) {
		assert_true(capture_ring_next(stack_ring(d->s), seq, 0, &rec));
		assert_int_equal(rec.binding_id, i % 2 ? cap7->cfg.id : cap1->cfg.id);
		seq = rec.seq;
	}
	/* The failing writes never reached a device: nothing counted as tx on tap0. */
	assert_int_equal(port_counters(d->p)->tx_frames, 0);
	assert_int_equal(port_counters(tap1->p)->tx_frames, 2);

	/* A write refused by the device is an error of that binding, and the next still runs. */
	memio_inject(fx->m, MEMIO_WRITE, ENOBUFS);
	feed_expect(fx, d, buf, n, MATCHED, 0, "udp 53, write refused");
	assert_int_equal(ok->c.errors, 1);
	assert_int_equal(ok->c.extra[0], 2);
	assert_int_equal(cap7->c.extra[0], 3);
	assert_int_equal(port_counters(tap1->p)->write_errors[ENOBUFS], 1);
}

/*
 * The unmatched level, by stack.c's rule: the frame's path is as deep as it
 * validly goes (ethertype; IP protocol; UDP port unless it is a fragment);
 * the deepest node any binding shares with that path is where dispatch got
 * to, and the frame is unmatched one level below it, unless the frame itself
 * goes no deeper: then at its own deepest level.
 */
static void test_unmatched_levels(void **state)
{
	struct fx *fx = *state;
	struct dut *none = tap_open(fx, "tap0");
	struct dut *deep = tap_open(fx, "tap1");
	struct dut *v6 = tap_open(fx, "tap2");
	struct dut *tcp = tap_open(fx, "tap3");
	uint8_t *buf = fx->buf;

	/* No bindings at all: every well-formed frame stops at the ethertype. */
	feed_expect(fx, none, buf, udp4(buf, 53), UNMATCHED, LEVEL_ETHERTYPE, "none: udp");
	feed_expect(fx, none, buf, arp_frame(buf), UNMATCHED, LEVEL_ETHERTYPE, "none: arp");
	feed_expect(fx, none, buf, frag4(buf, LINK_ETHERNET, 53, true), UNMATCHED, LEVEL_ETHERTYPE,
		    "none: fragment");
	/* ... and a malformed one is malformed, bindings or not. */
	feed_expect(fx, none, buf, 10, MALFORMED, MAL_eth_short, "none: 10 bytes");

	/* Only udp 53 bound: the tree has 2048 → 17 → 53. */
	bind_ok(deep,
		"{'match':{'ethertype':2048,'ip_protocol':17,'udp_port':53},'handler':'count'}");
	feed_expect(fx, deep, buf, udp4(buf, 54), UNMATCHED, LEVEL_UDP_PORT, "deep: udp 54");
	feed_expect(fx, deep, buf, proto4(buf, 6), UNMATCHED, LEVEL_IP_PROTOCOL, "deep: tcp");
	feed_expect(fx, deep, buf, udp6(buf, 53), UNMATCHED, LEVEL_ETHERTYPE, "deep: ipv6");
	feed_expect(fx, deep, buf, arp_frame(buf), UNMATCHED, LEVEL_ETHERTYPE, "deep: arp");
	/*
	 * The edge: a fragment stops at ip_protocol 17, a node that exists only
	 * to lead to udp 53. Dispatch stopped where the frame did, at
	 * ip_protocol (DESIGN.md: fragments stop at the IP protocol node). (The
	 * fragment is also counted in `fragments`.)
	 */
	feed_expect(fx, deep, buf, frag4(buf, LINK_ETHERNET, 53, true), UNMATCHED,
		    LEVEL_IP_PROTOCOL, "deep: first fragment");
	feed_expect(fx, deep, buf, frag4(buf, LINK_ETHERNET, 53, false), UNMATCHED,
		    LEVEL_IP_PROTOCOL, "deep: later fragment");
	assert_int_equal(stack_counters(deep->s)->fragments, 2);
	/* A UDP header cut short is malformed even though its node exists. */
	{
		size_t n = udp4(buf, 53);

		set16(buf + 14 + 2, 20 + 4);
		ipv4_checksum_fix(buf + 14);
		feed_expect(fx, deep, buf, n, MALFORMED, MAL_udp_short, "deep: udp short");
	}

	/* Only IPv6 bound: IPv4 has no node at the ethertype level. */
	bind_ok(v6, "{'match':{'ethertype':34525},'handler':'count'}");
	feed_expect(fx, v6, buf, udp4(buf, 53), UNMATCHED, LEVEL_ETHERTYPE, "v6: udp4");
	feed_expect(fx, v6, buf, udp6(buf, 53), MATCHED, 0, "v6: udp6");

	/* Only TCP bound: UDP has its ethertype node, not its protocol node. */
	bind_ok(tcp, "{'match':{'ethertype':2048,'ip_protocol':6},'handler':'count'}");
	feed_expect(fx, tcp, buf, udp4(buf, 53), UNMATCHED, LEVEL_IP_PROTOCOL, "tcp: udp");
	feed_expect(fx, tcp, buf, frag4(buf, LINK_ETHERNET, 53, true), UNMATCHED, LEVEL_IP_PROTOCOL,
		    "tcp: fragment");
	feed_expect(fx, tcp, buf, proto4(buf, 6), MATCHED, 0, "tcp: tcp");
	/* A shallower binding on the path takes what the deeper ones miss. */
	bind_ok(tcp, "{'match':{'ethertype':2048},'handler':'count'}");
	feed_expect(fx, tcp, buf, udp4(buf, 53), MATCHED, 0, "tcp+ipv4: udp");
	feed_expect(fx, tcp, buf, arp_frame(buf), UNMATCHED, LEVEL_ETHERTYPE, "tcp+ipv4: arp");
}

/* Every frame in exactly one bucket, and the buckets add up to rx_frames. */
static void test_accounting(void **state)
{
	struct fx *fx = *state;
	struct dut *d = tap_open(fx, "tap0");
	struct dut *strict = dut_open(fx, "tap1", PORT_TAP, false, true);
	struct dut *both[] = { d, strict };
	uint8_t *buf = fx->buf;
	size_t n;

	for (int i = 0; i < 2; i++) {
		bind_ok(both[i], "{'match':{'ethertype':2048,'ip_protocol':17,'udp_port':53},"
				 "'handler':'count'}");
		bind_ok(both[i], "{'match':{'ethertype':2054},'handler':'count'}");
		bind_ok(both[i],
			"{'match':{'ethertype':34525,'ip_protocol':58},'handler':'count'}");
	}

	for (int i = 0; i < 2; i++) {
		struct dut *p = both[i];

		feed_expect(fx, p, buf, udp4(buf, 53), MATCHED, 0, "udp4 53");
		feed_expect(fx, p, buf, udp4(buf, 54), UNMATCHED, LEVEL_UDP_PORT, "udp4 54");
		feed_expect(fx, p, buf, proto4(buf, 6), UNMATCHED, LEVEL_IP_PROTOCOL, "tcp");
		feed_expect(fx, p, buf, icmp_frame(buf, LINK_ETHERNET, AF_INET), UNMATCHED,
			    LEVEL_IP_PROTOCOL, "icmp");
		feed_expect(fx, p, buf, udp6(buf, 53), UNMATCHED, LEVEL_IP_PROTOCOL, "udp6");
		feed_expect(fx, p, buf, icmp_frame(buf, LINK_ETHERNET, AF_INET6), MATCHED, 0,
			    "icmpv6");
		feed_expect(fx, p, buf, arp_frame(buf), MATCHED, 0, "arp");
		feed_expect(fx, p, buf, other_frame(buf, 0x88cc), UNMATCHED, LEVEL_ETHERTYPE,
			    "lldp");
		feed_expect(fx, p, buf, other_frame(buf, 0x8100), UNMATCHED, LEVEL_ETHERTYPE,
			    "vlan tag");
		feed_expect(fx, p, buf, frag4(buf, LINK_ETHERNET, 53, true), UNMATCHED,
			    LEVEL_IP_PROTOCOL, "first fragment");
		feed_expect(fx, p, buf, frag4(buf, LINK_ETHERNET, 53, false), UNMATCHED,
			    LEVEL_IP_PROTOCOL, "later fragment");
		feed_expect(fx, p, buf, frag6(buf, 53, true), UNMATCHED, LEVEL_IP_PROTOCOL,
			    "ipv6 first fragment");
		feed_expect(fx, p, buf, frag6(buf, 53, false), UNMATCHED, LEVEL_IP_PROTOCOL,
			    "ipv6 later fragment");
		assert_int_equal(stack_counters(p->s)->fragments, 4);

		/* Malformed, one reason after the other. */
		feed_expect(fx, p, buf, 13, MALFORMED, MAL_eth_short, "13 bytes");
		feed_expect(fx, p, buf, 0, MALFORMED, MAL_eth_short, "empty");
		arp_frame(buf);
		feed_expect(fx, p, buf, 14 + 27, MALFORMED, MAL_arp_short, "arp cut");
		n = udp4(buf, 53);
		feed_expect(fx, p, buf, 14 + 19, MALFORMED, MAL_ipv4_short, "ipv4 cut");
		buf[14] = 0x65;
		feed_expect(fx, p, buf, n, MALFORMED, MAL_ipv4_bad_version, "ipv4 version 6");
		buf[14] = 0x44;
		feed_expect(fx, p, buf, n, MALFORMED, MAL_ipv4_bad_ihl, "ihl 4");
		buf[14] = 0x4f;
		feed_expect(fx, p, buf, 14 + 40, MALFORMED, MAL_ipv4_bad_ihl, "ihl 15 > received");
		n = udp4(buf, 53);
		set16(buf + 14 + 2, 1000);
		feed_expect(fx, p, buf, n, MALFORMED, MAL_ipv4_bad_total_length, "total 1000");
		set16(buf + 14 + 2, 19);
		feed_expect(fx, p, buf, n, MALFORMED, MAL_ipv4_bad_total_length, "total 19");
		n = udp6(buf, 53);
		feed_expect(fx, p, buf, 14 + 39, MALFORMED, MAL_ipv6_short, "ipv6 cut");
		buf[14] = 0x50;
		feed_expect(fx, p, buf, n, MALFORMED, MAL_ipv6_bad_version, "ipv6 version 5");
		n = udp6(buf, 53);
		set16(buf + 14 + 4, 0xffff);
		feed_expect(fx, p, buf, n, MALFORMED, MAL_ipv6_bad_payload_length, "plen 65535");
		/* Payload Length 0, no Jumbo option: empty (RFC 8200 3), too short for UDP. */
		set16(buf + 14 + 4, 0);
		feed_expect(fx, p, buf, n, MALFORMED, MAL_udp_short, "ipv6 empty payload");
		buf[14 + 6] = 59;
		feed_expect(fx, p, buf, n, UNMATCHED, LEVEL_IP_PROTOCOL, "ipv6 lone header");
		n = udp6(buf, 53);
		buf[14 + 6] = 0; /* Hop-by-Hop whose length byte (0x40) runs past the packet */
		feed_expect(fx, p, buf, n, MALFORMED, MAL_ipv6_bad_ext_header, "ext cut");
		n = icmp_frame(buf, LINK_ETHERNET, AF_INET);
		set16(buf + 14 + 2, 20 + 4);
		ipv4_checksum_fix(buf + 14);
		feed_expect(fx, p, buf, n, MALFORMED, MAL_icmp_short, "icmp 4 bytes");
		n = icmp_frame(buf, LINK_ETHERNET, AF_INET6);
		set16(buf + 14 + 4, 4);
		feed_expect(fx, p, buf, n, MALFORMED, MAL_icmpv6_short, "icmpv6 4 bytes");
		n = udp4(buf, 53);
		set16(buf + 14 + 2, 20 + 7);
		ipv4_checksum_fix(buf + 14);
		feed_expect(fx, p, buf, n, MALFORMED, MAL_udp_short, "udp 7 bytes");
		n = udp4(buf, 53);
		set16(buf + 14 + 20 + 4, 7);
		feed_expect(fx, p, buf, n, MALFORMED, MAL_udp_bad_length, "udp length 7");
		set16(buf + 14 + 20 + 4, 8 + 33);
		feed_expect(fx, p, buf, n, MALFORMED, MAL_udp_bad_length, "udp length > ip");

		/* A read longer than the buffer: counted as truncated, nothing runs. */
		memset(buf, 0, PORT_FRAME_MAX + 1);
		udp4(buf, 53);
		feed_expect(fx, p, buf, PORT_FRAME_MAX + 1, MALFORMED, MAL_truncated, "too long");
		assert_int_equal(port_counters(p->p)->truncated, 1);
		/* The largest frame the buffer holds is not truncated: the rest is padding. */
		feed_expect(fx, p, buf, PORT_FRAME_MAX, MATCHED, 0, "PORT_FRAME_MAX bytes");
	}

	/* Bad checksums: delivered and counted, unless the port is strict. */
	n = udp4(buf, 53);
	buf[n - 1] ^= 0xff;
	feed_expect(fx, d, buf, n, MATCHED, 0, "bad udp checksum");
	feed_expect(fx, strict, buf, n, MALFORMED, MAL_udp_bad_checksum, "strict: bad udp");
	n = udp4(buf, 53);
	buf[14 + 10] ^= 0xff;
	feed_expect(fx, d, buf, n, MATCHED, 0, "bad ipv4 checksum");
	feed_expect(fx, strict, buf, n, MALFORMED, MAL_ipv4_bad_checksum, "strict: bad ipv4");
	n = icmp_frame(buf, LINK_ETHERNET, AF_INET6);
	buf[n - 1] ^= 0xff;
	feed_expect(fx, d, buf, n, MATCHED, 0, "bad icmpv6 checksum");
	feed_expect(fx, strict, buf, n, MALFORMED, MAL_icmpv6_bad_checksum, "strict: icmpv6");
	n = icmp_frame(buf, LINK_ETHERNET, AF_INET);
	buf[n - 1] ^= 0xff;
	feed_expect(fx, d, buf, n, UNMATCHED, LEVEL_IP_PROTOCOL, "bad icmp checksum");
	feed_expect(fx, strict, buf, n, MALFORMED, MAL_icmp_bad_checksum, "strict: icmp");

	for (int i = 0; i < 2; i++) {
		const struct stack_counters *c = stack_counters(both[i]->s);

		assert_int_equal(c->bad_checksum[CSUM_IPV4], 1);
		assert_int_equal(c->bad_checksum[CSUM_UDP], 1);
		assert_int_equal(c->bad_checksum[CSUM_ICMP], 1);
		assert_int_equal(c->bad_checksum[CSUM_ICMPV6], 1);
		assert_identity(both[i]);
	}
	/* Both ports saw the same frames, strict ones a few more malformed. */
	assert_int_equal(port_counters(d->p)->rx_frames, port_counters(strict->p)->rx_frames);
	assert_int_equal(stack_counters(d->s)->matched, stack_counters(strict->s)->matched + 3);
}

/*
 * A capture keeps a whole frame's bytes, not its parse: read back, the
 * record is parsed again with the port's link and options and says what
 * dispatch saw, a bad UDP checksum malformed on a strict port and only
 * marked bad on a lax one, and a tun's packet without an Ethernet header.
 */
static void test_capture_parsed_again(void **state)
{
	struct fx *fx = *state;
	struct dut *duts[] = { tap_open(fx, "tap0"), dut_open(fx, "tap1", PORT_TAP, false, true),
			       dut_open(fx, "tun0", PORT_TUN, false, false) };
	const enum frame_link link[] = { LINK_ETHERNET, LINK_ETHERNET, LINK_IP };
	const unsigned opts[] = { 0, PARSE_STRICT, 0 };
	uint8_t *buf = fx->buf;

	for (size_t i = 0; i < 3; i++) {
		struct capture_record rec;
		struct frame_info want, got;
		uint64_t seq = 0;
		size_t n;

		bind_ok(duts[i], "{'match':{},'handler':'capture'}");
		for (int bad = 0; bad < 2; bad++) {
			n = udp_frame(buf, link[i], AF_INET, 53, 32);
			buf[n - 1] ^= (uint8_t)(bad ? 0xff : 0);
			feed(fx, duts[i], buf, n);
			assert_true(capture_ring_next(stack_ring(duts[i]->s), seq, 0, &rec));
			seq = rec.seq;
			assert_null(rec.kept);
			frame_parse(buf, n, link[i], opts[i], &want);
			capture_record_info(&rec, &got);
			assert_memory_equal(&got, &want, sizeof(got));
			assert_int_equal(got.link, link[i]);
			assert_int_equal(got.udp.checksum_status, bad ? CSUM_BAD : CSUM_OK);
			assert_int_equal(got.malformed,
					 bad && opts[i] ? MAL_udp_bad_checksum : MALFORMED_NONE);
		}
	}
}

/* Fragments stop at the IP protocol node: no reassembly, no UDP port. */
static void test_fragments_stop_at_protocol(void **state)
{
	struct fx *fx = *state;
	struct dut *d = tap_open(fx, "tap0");
	struct binding *p4 = bind_ok(d, "{'match':{'ethertype':2048,'ip_protocol':17},"
					"'handler':'count'}");
	struct binding *u4 =
		bind_ok(d, "{'match':{'ethertype':2048,'ip_protocol':17,'udp_port':53},"
			   "'handler':'count'}");
	struct binding *p6 = bind_ok(d, "{'match':{'ethertype':34525,'ip_protocol':17},"
					"'handler':'count'}");
	struct binding *u6 = bind_ok(d, "{'match':{'ethertype':34525,'ip_protocol':17,"
					"'udp_port':53},'handler':'count'}");
	struct binding *cap = bind_ok(d, "{'match':{'ethertype':2048,'ip_protocol':17},"
					 "'handler':'capture'}");
	struct capture_record rec;
	struct frame_info fi;
	uint8_t *buf = fx->buf;

	feed_expect(fx, d, buf, frag4(buf, LINK_ETHERNET, 53, true), MATCHED, 0, "v4 first");
	feed_expect(fx, d, buf, frag4(buf, LINK_ETHERNET, 53, false), MATCHED, 0, "v4 later");
	feed_expect(fx, d, buf, frag6(buf, 53, true), MATCHED, 0, "v6 first");
	feed_expect(fx, d, buf, frag6(buf, 53, false), MATCHED, 0, "v6 later");
	assert_int_equal(p4->c.packets, 2);
	assert_int_equal(u4->c.packets, 0);
	assert_int_equal(p6->c.packets, 2);
	assert_int_equal(u6->c.packets, 0);
	assert_int_equal(stack_counters(d->s)->fragments, 4);
	/* The capture saw the fragment with no UDP layer decoded. */
	assert_true(capture_ring_next(stack_ring(d->s), 0, cap->cfg.id, &rec));
	capture_record_info(&rec, &fi);
	assert_true(fi.fragment);
	assert_int_equal(fi.l4, L4_NONE);
	assert_int_equal(fi.udp.dport, 0);

	/* The whole datagram goes all the way down. */
	feed_expect(fx, d, buf, udp4(buf, 53), MATCHED, 0, "v4 whole");
	feed_expect(fx, d, buf, udp6(buf, 53), MATCHED, 0, "v6 whole");
	assert_int_equal(u4->c.packets, 1);
	assert_int_equal(u6->c.packets, 1);
	assert_int_equal(stack_counters(d->s)->fragments, 4);

	/*
	 * A first fragment whose next header, Destination Options, runs past
	 * the packet: malformed, and not counted as a fragment as well.
	 */
	{
		size_t n = frag6(buf, 53, true);

		buf[14 + 40] = 60;
		buf[14 + 40 + 8 + 1] = 0xff;
		feed_expect(fx, d, buf, n, MALFORMED, MAL_ipv6_bad_ext_header, "v6 first, bad ext");
		assert_int_equal(stack_counters(d->s)->fragments, 4);
	}
}

/*
 * IEEE 802.3: a type/length below 1536 is a length, no ethertype. Such a
 * frame reaches the root only: unmatched at the ethertype level, never a
 * binding at an "ethertype" equal to its length (one bound from before the
 * API refused them, as a state file could hold).
 */
static void test_ieee8023_no_ethertype(void **state)
{
	struct fx *fx = *state;
	struct dut *d = tap_open(fx, "tap0");
	struct dut *all = tap_open(fx, "tap1");
	struct binding *by_len = bind_raw(d, LEVEL_ETHERTYPE, 46, 0, 0);
	struct binding *root;
	uint8_t *buf = fx->buf;

	feed_expect(fx, d, buf, other_frame(buf, 46), UNMATCHED, LEVEL_ETHERTYPE, "802.3, 46");
	feed_expect(fx, d, buf, other_frame(buf, 1535), UNMATCHED, LEVEL_ETHERTYPE, "1535");
	assert_int_equal(by_len->c.packets, 0);
	bind_raw(d, LEVEL_ETHERTYPE, 1536, 0, 0);
	feed_expect(fx, d, buf, other_frame(buf, 1536), MATCHED, 0, "ethertype 1536");

	/* A {} binding sees every frame, 802.3 ones too. */
	root = bind_ok(all, "{'match':{},'handler':'count'}");
	feed_expect(fx, all, buf, other_frame(buf, 46), MATCHED, 0, "{}: 802.3");
	assert_int_equal(root->c.packets, 1);
}

/*
 * Twisted Pair delivers frames with bad checksums; so does paird, unless
 * the port is strict: then the frame is malformed and dispatch stops at the
 * node above the layer whose checksum failed.
 */
static void test_bad_checksums(void **state)
{
	static const char *const specs[] = {
		"{'match':{'ethertype':2048},'handler':'count'}",
		"{'match':{'ethertype':2048,'ip_protocol':17},'handler':'count'}",
		"{'match':{'ethertype':2048,'ip_protocol':17,'udp_port':53},'handler':'count'}",
		"{'match':{'ethertype':34525,'ip_protocol':17,'udp_port':53},'handler':'count'}",
		"{'match':{'ethertype':2048,'ip_protocol':1},'handler':'count'}",
	};
	struct fx *fx = *state;
	struct dut *lax = tap_open(fx, "tap0");
	struct dut *strict = dut_open(fx, "tap1", PORT_TAP, false, true);
	struct binding *b[2][5];
	uint8_t *buf = fx->buf;
	size_t n;

	for (int i = 0; i < 5; i++) {
		b[0][i] = bind_ok(lax, specs[i]);
		b[1][i] = bind_ok(strict, specs[i]);
	}
	/* UDP checksum: the strict port stops at ip_protocol 17. */
	n = udp4(buf, 53);
	buf[14 + 20 + 6] ^= 0x01;
	feed_expect(fx, lax, buf, n, MATCHED, 0, "lax: udp");
	feed_expect(fx, strict, buf, n, MALFORMED, MAL_udp_bad_checksum, "strict: udp");
	assert_int_equal(b[0][2]->c.packets, 1);
	assert_int_equal(b[1][1]->c.packets, 1);
	assert_int_equal(b[1][2]->c.packets, 0);
	/* IPv4 header checksum: the strict port stops at the ethertype. */
	n = udp4(buf, 53);
	buf[14 + 11] ^= 0x01;
	feed_expect(fx, lax, buf, n, MATCHED, 0, "lax: ipv4");
	feed_expect(fx, strict, buf, n, MALFORMED, MAL_ipv4_bad_checksum, "strict: ipv4");
	assert_int_equal(b[0][2]->c.packets, 2);
	assert_int_equal(b[1][0]->c.packets, 2);
	assert_int_equal(b[1][1]->c.packets, 1);
	/* UDP over IPv6 with checksum 0 is bad (RFC 8200 8.1). */
	n = udp6(buf, 53);
	set16(buf + 14 + 40 + 6, 0);
	feed_expect(fx, lax, buf, n, MATCHED, 0, "lax: udp6 zero checksum");
	feed_expect(fx, strict, buf, n, MALFORMED, MAL_udp_bad_checksum, "strict: udp6 zero");
	assert_int_equal(b[0][3]->c.packets, 1);
	assert_int_equal(b[1][3]->c.packets, 0);
	/* Over IPv4, checksum 0 means none was computed: fine even when strict. */
	n = udp4(buf, 53);
	set16(buf + 14 + 20 + 6, 0);
	feed_expect(fx, strict, buf, n, MATCHED, 0, "strict: udp4 no checksum");
	assert_int_equal(b[1][2]->c.packets, 1);
	/* ICMP. */
	n = icmp_frame(buf, LINK_ETHERNET, AF_INET);
	buf[14 + 20 + 2] ^= 0x01;
	feed_expect(fx, lax, buf, n, MATCHED, 0, "lax: icmp");
	feed_expect(fx, strict, buf, n, MALFORMED, MAL_icmp_bad_checksum, "strict: icmp");
	assert_int_equal(b[0][4]->c.packets, 1);
	assert_int_equal(b[1][4]->c.packets, 1); /* the ICMP node was reached, then it stopped */

	for (int i = 0; i < 2; i++) {
		const struct stack_counters *c = stack_counters((i ? strict : lax)->s);

		assert_int_equal(c->bad_checksum[CSUM_UDP], 2);
		assert_int_equal(c->bad_checksum[CSUM_IPV4], 1);
		assert_int_equal(c->bad_checksum[CSUM_ICMP], 1);
	}
	assert_int_equal(stack_counters(strict->s)->malformed[MAL_udp_bad_checksum], 2);
}

/* --- stack_bind() and stack_unbind() --- */

static void test_bind_limit(void **state)
{
	struct fx *fx = *state;
	struct fault f = FAULT_INIT;
	struct binding *b = NULL;
	struct dut *d;

	fx->senv.max_bindings = 3;
	d = tap_open(fx, "tap0");
	for (int i = 0; i < 3; i++)
		bind_ok(d, "{'handler':'count'}");
	assert_int_equal(bind_try(d, "{'handler':'count'}", &b, &f), -ENOSPC);
	assert_int_equal(f.kind, FAULT_LIMIT);
	assert_int_equal(f.err, ENOSPC);
	assert_non_null(strstr(f.detail, "--max-bindings"));
	assert_int_equal(stack_count(d->s), 3);
	/* A capture over the limit takes no ring either. */
	f = (struct fault)FAULT_INIT;
	assert_true(bind_try(d, "{'handler':'capture'}", &b, &f) < 0);
	assert_int_equal(f.kind, FAULT_LIMIT);
	assert_null(stack_ring(d->s));
	assert_int_equal(capture_budget_used(fx->senv.budget), 0);
	/* Room again after an unbind. */
	assert_int_equal(stack_unbind(d->s, 2, &f), 0);
	b = bind_ok(d, "{'handler':'count'}");
	assert_int_equal(b->cfg.id, 4);
	assert_int_equal(stack_count(d->s), 3);
}

static void test_bind_ids(void **state)
{
	struct fx *fx = *state;
	struct dut *d = tap_open(fx, "tap0");
	struct binding_config cfg = { .kind = HANDLER_COUNT };
	struct fault f = FAULT_INIT;
	struct binding *b = NULL;

	for (uint32_t id = 1; id <= 3; id++)
		assert_int_equal(bind_ok(d, "{'handler':'count'}")->cfg.id, id);
	assert_int_equal(stack_unbind(d->s, 2, &f), 0);
	assert_null(stack_find(d->s, 2));
	/* Ids are never reused, and the order of the others stays. */
	assert_int_equal(bind_ok(d, "{'handler':'count'}")->cfg.id, 4);
	assert_int_equal(stack_at(d->s, 0)->cfg.id, 1);
	assert_int_equal(stack_at(d->s, 1)->cfg.id, 3);
	assert_int_equal(stack_at(d->s, 2)->cfg.id, 4);
	assert_null(stack_at(d->s, 3));
	assert_int_equal(stack_count(d->s), 3);

	/* Unknown id: not found, nothing changes. */
	assert_int_equal(stack_unbind(d->s, 2, &f), -ENOENT);
	assert_int_equal(f.kind, FAULT_NOT_FOUND);
	assert_int_equal(stack_count(d->s), 3);

	/* A restored id is kept; the next one comes after the largest. */
	cfg.id = 10;
	f = (struct fault)FAULT_INIT;
	assert_int_equal(stack_bind(d->s, &cfg, &b, &f), 0);
	assert_int_equal(b->cfg.id, 10);
	cfg.id = 7;
	assert_int_equal(stack_bind(d->s, &cfg, &b, &f), 0);
	assert_int_equal(b->cfg.id, 7);
	assert_int_equal(bind_ok(d, "{'handler':'count'}")->cfg.id, 11);
	/* An id in use is a conflict naming "id". */
	cfg.id = 7;
	assert_int_equal(stack_bind(d->s, &cfg, &b, &f), -EEXIST);
	assert_int_equal(f.kind, FAULT_CONFLICT);
	assert_string_equal(f.field, "id");
	assert_int_equal(stack_count(d->s), 6);
	assert_ptr_equal(stack_find(d->s, 7), stack_at(d->s, 4));
}

/*
 * The state file may hold any id up to UINT32_MAX. The next id after it
 * cannot be UINT32_MAX + 1: whatever is assigned must be a valid id (never
 * 0, which no request can name and no state file accepts) and unique.
 */
static void test_bind_ids_after_largest(void **state)
{
	struct fx *fx = *state;
	struct dut *d = tap_open(fx, "tap0");
	struct binding_config cfg = { .kind = HANDLER_COUNT };
	struct fault f = FAULT_INIT;
	struct binding *b = NULL;
	uint32_t seen[4];

	cfg.id = 1;
	assert_int_equal(stack_bind(d->s, &cfg, &b, &f), 0);
	cfg.id = UINT32_MAX;
	assert_int_equal(stack_bind(d->s, &cfg, &b, &f), 0);
	for (int i = 0; i < 4; i++) {
		b = bind_ok(d, "{'handler':'count'}");
		seen[i] = b->cfg.id;
		assert_true(seen[i] != 0);
		assert_true(seen[i] != 1 && seen[i] != UINT32_MAX);
		for (int j = 0; j < i; j++)
			assert_true(seen[j] != seen[i]);
		assert_ptr_equal(stack_find(d->s, seen[i]), b);
	}
	assert_int_equal(stack_count(d->s), 6);
}

static void test_capture_ring_allocation(void **state)
{
	struct fx *fx = *state;
	struct dut *d = tap_open(fx, "tap0");
	struct dut *e = tap_open(fx, "tap1");
	struct fault f = FAULT_INIT;
	struct binding *b = NULL;
	struct capture_ring *ring;

	bind_ok(d, "{'handler':'count'}");
	assert_null(stack_ring(d->s));
	assert_int_equal(capture_budget_used(fx->senv.budget), 0);
	bind_ok(d, "{'match':{'ethertype':2048},'handler':'capture'}");
	ring = stack_ring(d->s);
	assert_non_null(ring);
	assert_int_equal(capture_budget_used(fx->senv.budget), fx->senv.ring_bytes);
	/* The second capture shares the ring. */
	bind_ok(d, "{'handler':'capture','options':{'snaplen':64}}");
	assert_ptr_equal(stack_ring(d->s), ring);
	assert_int_equal(capture_budget_used(fx->senv.budget), fx->senv.ring_bytes);
	/* Another port's ring comes from the same budget. */
	bind_ok(e, "{'handler':'capture'}");
	assert_int_equal(capture_budget_used(fx->senv.budget), 2 * fx->senv.ring_bytes);

	/* A budget too small for a ring: FAULT_LIMIT, nothing bound, nothing reserved. */
	stack_free(e->s);
	stack_free(d->s);
	assert_int_equal(capture_budget_used(fx->senv.budget), 0);
	capture_budget_free(fx->senv.budget);
	fx->senv.budget = capture_budget_new(fx->senv.ring_bytes - 1);
	assert_non_null(fx->senv.budget);
	d->s = stack_new(&fx->senv, d->p);
	e->s = stack_new(&fx->senv, e->p);
	assert_non_null(d->s);
	assert_non_null(e->s);
	assert_int_equal(bind_try(d, "{'handler':'capture'}", &b, &f), -ENOSPC);
	assert_int_equal(f.kind, FAULT_LIMIT);
	assert_string_equal(f.field, ""); /* a server limit, not a request field */
	assert_int_equal(stack_count(d->s), 0);
	assert_null(stack_ring(d->s));
	assert_int_equal(capture_budget_used(fx->senv.budget), 0);
	/* Other handlers are not affected, and the next id was not spent. */
	assert_int_equal(bind_ok(d, "{'handler':'count'}")->cfg.id, 1);
}

/* stack_free() unhooks the sink: frames are then only counted by the port. */
static void test_free_detaches(void **state)
{
	struct fx *fx = *state;
	struct dut *d = tap_open(fx, "tap0");
	struct stack *s2;
	uint8_t *buf = fx->buf;

	bind_ok(d, "{'handler':'count'}");
	feed_expect(fx, d, buf, udp4(buf, 53), MATCHED, 0, "with stack");
	stack_free(d->s);
	d->s = NULL;
	feed(fx, d, buf, udp4(buf, 53));
	assert_int_equal(port_counters(d->p)->rx_frames, 2);
	/* A new stack starts from zero and takes the frames from then on. */
	s2 = stack_new(&fx->senv, d->p);
	assert_non_null(s2);
	d->s = s2;
	feed(fx, d, buf, udp4(buf, 53));
	assert_int_equal(stack_counters(s2)->unmatched[LEVEL_ETHERTYPE], 1);
	assert_int_equal(total(stack_counters(s2)), 1);
	/* stack_attach moves the sink to another port. */
	stack_attach(s2, NULL);
	feed(fx, d, buf, udp4(buf, 53));
	assert_int_equal(total(stack_counters(s2)), 1);
	stack_attach(s2, d->p);
	feed(fx, d, buf, udp4(buf, 53));
	assert_int_equal(total(stack_counters(s2)), 2);
}

/* --- no allocation per frame --- */

static void test_no_allocation_per_frame(void **state)
{
	struct fx *fx = *state;
	struct dut *d = tap_open(fx, "tap0");
	struct dut *tun = dut_open(fx, "tun0", PORT_TUN, true, false);
	uint8_t *buf = fx->buf;
	size_t lens[32], n = 0, reads;

	bind_ok(d, "{'handler':'capture','options':{'filter':'udp or icmp or arp','snaplen':128}}");
	bind_ok(d, "{'handler':'count'}");
	bind_ok(d, "{'match':{'ethertype':2048},'handler':'count'}");
	bind_ok(d, "{'match':{'ethertype':2048,'ip_protocol':17},'handler':'drop'}");
	bind_ok(d, "{'match':{'ethertype':2048,'ip_protocol':17,'udp_port':7},'handler':'echo'}");
	bind_ok(d, "{'match':{'ethertype':2048,'ip_protocol':1},'handler':'echo'}");
	bind_ok(d, "{'match':{'ethertype':34525,'ip_protocol':58},'handler':'echo'}");
	bind_ok(d, "{'match':{'ethertype':2054},'handler':'arp_reply',"
		   "'options':{'addresses':['198.18.0.2']}}");
	bind_ok(d, "{'match':{'ethertype':34525,'ip_protocol':58},'handler':'ndp_reply',"
		   "'options':{'addresses':['2001:db8::2']}}");
	bind_ok(d, "{'handler':'forward','options':{'port':'nope'}}");
	bind_ok(tun, "{'handler':'capture','options':{'filter':'udp'}}");
	bind_ok(tun, "{'match':{'ip_protocol':17,'udp_port':7},'handler':'echo'}");

#if ALLOC_COUNTING
	/* The replacement took: direct calls and libc's own (strdup) are counted. */
	{
		void *volatile p;

		alloc_calls = 0;
		alloc_counting = true;
		p = malloc(16);
		free(p);
		p = strdup("paird");
		free(p);
		alloc_counting = false;
		assert_int_equal(alloc_calls, 2);
	}
#endif
	/* Replies are built, then refused by the device before the fake stores them. */
	memio_set_write_limit(fx->m, 0);
	for (int round = 0; round < 2; round++) {
		unsigned long calls = 0;

		n = 0;
		lens[n++] = udp4(buf, 7);
		assert_int_equal(memio_push(fx->m, "tap0", buf, lens[n - 1]), 0);
		lens[n++] = icmp_frame(buf, LINK_ETHERNET, AF_INET);
		assert_int_equal(memio_push(fx->m, "tap0", buf, lens[n - 1]), 0);
		lens[n++] = icmp_frame(buf, LINK_ETHERNET, AF_INET6);
		assert_int_equal(memio_push(fx->m, "tap0", buf, lens[n - 1]), 0);
		lens[n++] = arp_frame(buf);
		assert_int_equal(memio_push(fx->m, "tap0", buf, lens[n - 1]), 0);
		lens[n++] = frag4(buf, LINK_ETHERNET, 7, true);
		assert_int_equal(memio_push(fx->m, "tap0", buf, lens[n - 1]), 0);
		lens[n++] = 13;
		assert_int_equal(memio_push(fx->m, "tap0", buf, 13), 0);
		memset(buf, 0, PORT_FRAME_MAX + 1);
		assert_int_equal(memio_push(fx->m, "tap0", buf, PORT_FRAME_MAX + 1), 0);
		lens[n++] = udp_frame(buf, LINK_IP_PI, AF_INET, 7, 16);
		assert_int_equal(memio_push(fx->m, "tun0", buf, lens[n - 1]), 0);

		reads = memio_calls(fx->m, MEMIO_READ);
#if ALLOC_COUNTING
		alloc_calls = 0;
		alloc_counting = true;
#endif
		while (memio_queued(fx->m, "tap0"))
			port_read_ready(d->p);
		port_read_ready(tun->p);
#if ALLOC_COUNTING
		alloc_counting = false;
		calls = alloc_calls;
#endif
		assert_true(memio_calls(fx->m, MEMIO_READ) - reads >= 8);
		if (calls)
			fail_msg("round %d: %lu allocator calls while dispatching 8 frames", round,
				 calls);
	}
	/* The replies were built and handed to the device (which refused them). */
	assert_true(port_counters(d->p)->write_errors[ENOBUFS] >= 4);
	assert_true(port_counters(tun->p)->write_errors[ENOBUFS] >= 1);
	assert_identity(d);
	assert_identity(tun);
#if !ALLOC_COUNTING
	print_message("allocator calls not counted under AddressSanitizer\n");
#endif
}

/* --- the fixture frames' documented dispatch --- */

struct fixture {
	char name[256];
	enum frame_link link;
	bool strict;
	enum malformed malformed;
	unsigned depth; /* levels of the dispatch path */
	uint32_t key[LEVEL_COUNT];
	uint8_t bytes[2048];
	size_t len;
};

static const char *fixtures_dir(void)
{
	const char *d = getenv("FIXTURES_DIR");

	return d && *d ? d : "tests/fixtures/frames";
}

static enum malformed malformed_by_name(const char *s)
{
	for (int m = 0; m < MALFORMED_COUNT; m++)
		if (strcmp(malformed_name((enum malformed)m), s) == 0)
			return (enum malformed)m;
	fail_msg("unknown malformed reason %s", s);
	return MALFORMED_NONE;
}

/* "ethertype=2048,ip_protocol=17,udp_port=53" or "-". */
static void parse_dispatch(struct fixture *fxt, const char *s)
{
	static const char *const keys[] = { NULL, "ethertype=", "ip_protocol=", "udp_port=" };

	fxt->depth = 0;
	if (strcmp(s, "-") == 0)
		return;
	while (*s) {
		unsigned lv = fxt->depth + 1;
		char *end;

		assert_true(lv < LEVEL_COUNT);
		if (strncmp(s, keys[lv], strlen(keys[lv])) != 0)
			fail_msg("%s: bad dispatch %s", fxt->name, s);
		s += strlen(keys[lv]);
		fxt->key[lv] = (uint32_t)strtoul(s, &end, 10);
		fxt->depth = lv;
		s = *end == ',' ? end + 1 : end;
		if (end == s && *s)
			fail_msg("%s: bad dispatch", fxt->name);
	}
}

static bool fixture_load(const char *dir, const char *name, struct fixture *fxt)
{
	char *path = path_join(dir, name), *text = file_read(path, NULL), *line, *save = NULL;
	bool has_dispatch = false, has_link = false;

	assert_non_null(text);
	memset(fxt, 0, sizeof(*fxt));
	snprintf(fxt->name, sizeof(fxt->name), "%s", name);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *p = line + strspn(line, " \t");
		char val[200];

		if (*p != '#') {
			fxt->len +=
				hex_decode(p, fxt->bytes + fxt->len, sizeof(fxt->bytes) - fxt->len);
			continue;
		}
		if (sscanf(p, "# link: %199s", val) == 1) {
			has_link = true;
			fxt->link = !strcmp(val, "ethernet") ? LINK_ETHERNET
				    : !strcmp(val, "ip")     ? LINK_IP
							     : LINK_IP_PI;
		} else if (sscanf(p, "# strict: %199s", val) == 1) {
			fxt->strict = strcmp(val, "true") == 0;
		} else if (sscanf(p, "# expect: malformed %199s", val) == 1) {
			fxt->malformed = malformed_by_name(val);
		} else if (sscanf(p, "# expect: dispatch %199s", val) == 1) {
			parse_dispatch(fxt, val);
			has_dispatch = true;
		}
	}
	free(text);
	free(path);
	assert_true(has_link);
	return has_dispatch;
}

static struct dut *fixture_port(struct fx *fx, const struct fixture *fxt, unsigned i)
{
	char name[16];

	snprintf(name, sizeof(name), "fx%u", i);
	return dut_open(fx, name, fxt->link == LINK_ETHERNET ? PORT_TAP : PORT_TUN,
			fxt->link == LINK_IP_PI, fxt->strict);
}

static void fixture_close(struct fx *fx)
{
	while (fx->n)
		dut_close(&fx->d[--fx->n]);
}

/*
 * Every fixture with an `expect: dispatch` path: bindings at each prefix
 * of the path run, a sibling key at each level does not, and the frame is
 * matched (or malformed, by its reason). With siblings only, it is
 * unmatched at the level of the deepest sibling; with nothing bound, at the
 * ethertype; a fragment with a UDP port bound below it, at ip_protocol,
 * where the fragment stopped.
 */
static void test_fixture_dispatch(void **state)
{
	struct fx *fx = *state;
	const char *dir = fixtures_dir();
	DIR *dp = opendir(dir);
	struct fixture *fxt = malloc(sizeof(*fxt));
	unsigned used = 0;
	struct dirent *de;

	if (!dp)
		fail_msg("cannot open %s (run from the repository root or set FIXTURES_DIR)", dir);
	assert_non_null(fxt);
	while ((de = readdir(dp))) {
		size_t nl = strlen(de->d_name);
		struct binding *on[LEVEL_COUNT], *off[LEVEL_COUNT] = { 0 };
		enum bucket k;
		struct dut *d;
		int which;

		if (nl < 5 || strcmp(de->d_name + nl - 4, ".hex") != 0)
			continue;
		if (!fixture_load(dir, de->d_name, fxt))
			continue;
		used++;
		k = fxt->malformed != MALFORMED_NONE ? MALFORMED : MATCHED;
		which = fxt->malformed;

		/* The path's own nodes, and a sibling beside each. */
		d = fixture_port(fx, fxt, 0);
		for (unsigned lv = 0; lv <= fxt->depth; lv++) {
			on[lv] = bind_raw(d, lv, (uint16_t)fxt->key[1], (uint8_t)fxt->key[2],
					  (uint16_t)fxt->key[3]);
			if (lv == 0)
				continue;
			off[lv] = bind_raw(d, lv, (uint16_t)(fxt->key[1] ^ (lv == 1)),
					   (uint8_t)(fxt->key[2] ^ (lv == 2)),
					   (uint16_t)(fxt->key[3] ^ (lv == 3)));
		}
		feed_expect(fx, d, fxt->bytes, fxt->len, k, which, fxt->name);
		for (unsigned lv = 0; lv <= fxt->depth; lv++) {
			if (on[lv]->c.packets != 1)
				fail_msg("%s: the binding at level %u saw %llu frames", fxt->name,
					 lv, (unsigned long long)on[lv]->c.packets);
			if (off[lv] && off[lv]->c.packets != 0)
				fail_msg("%s: the sibling at level %u saw the frame", fxt->name,
					 lv);
		}
		fixture_close(fx);
		if (k == MALFORMED)
			continue;

		/* Nothing bound: unmatched at the ethertype. */
		d = fixture_port(fx, fxt, 1);
		feed_expect(fx, d, fxt->bytes, fxt->len, UNMATCHED, LEVEL_ETHERTYPE, fxt->name);
		fixture_close(fx);

		/* Siblings only: unmatched where the deepest sibling branches off. */
		d = fixture_port(fx, fxt, 2);
		for (unsigned lv = 1; lv <= fxt->depth; lv++)
			bind_raw(d, lv, (uint16_t)(fxt->key[1] ^ (lv == 1)),
				 (uint8_t)(fxt->key[2] ^ (lv == 2)),
				 (uint16_t)(fxt->key[3] ^ (lv == 3)));
		feed_expect(fx, d, fxt->bytes, fxt->len, UNMATCHED,
			    fxt->depth ? (int)fxt->depth : LEVEL_ETHERTYPE, fxt->name);
		fixture_close(fx);

		/* A UDP fragment under a bound UDP port: the edge of the rule. */
		if (fxt->depth == LEVEL_IP_PROTOCOL && fxt->key[2] == IPPROTO_UDP_) {
			d = fixture_port(fx, fxt, 3);
			bind_raw(d, LEVEL_UDP_PORT, (uint16_t)fxt->key[1], IPPROTO_UDP_, 53);
			feed_expect(fx, d, fxt->bytes, fxt->len, UNMATCHED, LEVEL_IP_PROTOCOL,
				    fxt->name);
			fixture_close(fx);
		}
	}
	closedir(dp);
	free(fxt);
	if (used < 30)
		fail_msg("only %u fixtures with a dispatch path in %s", used, dir);
	print_message("%u fixture frames dispatched along their documented paths\n", used);
}

/* --- the dispatch index against the linear walk it replaced (issue 11) --- */

/* The order bindings ran in, by id: a run() put in place of the count handler's none. */
static uint32_t ran_ids[64];
static size_t ran_n;

static int record_run(struct binding *b, struct dispatch_ctx *dc)
{
	(void)dc;
	if (ran_n < sizeof(ran_ids) / sizeof(ran_ids[0]))
		ran_ids[ran_n] = b->cfg.id;
	ran_n++;
	return 0;
}

static const struct handler_ops record_ops = {
	.name = "count",
	.levels = LEVELS_ALL,
	.run = record_run,
};

/* What the model knows of a binding: its id and match, in creation order. */
struct ref_binding {
	uint32_t id;
	struct match m;
};

/* A frame's path: depth and the key at each level, as frame_path() works it out. */
struct ref_path {
	unsigned depth;
	uint32_t key[LEVEL_COUNT];
};

/*
 * The dispatcher before the index, kept here as the reference: every
 * binding in creation order, run when its match is a prefix of the path;
 * the frame unmatched at the level after the deepest agreement.
 */
static void ref_dispatch(const struct ref_binding *rb, size_t n, const struct ref_path *p,
			 uint32_t *ids, size_t *n_ids, unsigned *unmatched_level)
{
	unsigned node = 0;

	*n_ids = 0;
	for (size_t i = 0; i < n; i++) {
		const uint32_t want[LEVEL_COUNT] = { 0, rb[i].m.ethertype, rb[i].m.ip_protocol,
						     rb[i].m.udp_port };
		unsigned a = 0;

		while (a < rb[i].m.depth && a < p->depth && want[a + 1] == p->key[a + 1])
			a++;
		if (a > node)
			node = a;
		if (a == rb[i].m.depth)
			ids[(*n_ids)++] = rb[i].id;
	}
	*unmatched_level = 0;
	if (!*n_ids)
		*unmatched_level = p->depth == LEVEL_ROOT ? LEVEL_ETHERTYPE
				   : node < p->depth	  ? node + 1
							  : p->depth;
}

static uint32_t rnd_next(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

static const uint16_t ref_ets[] = { 0x0800, 0x86dd, 0x0806, 0x88cc };
static const uint8_t ref_protos[] = { 17, 6, 1, 58 };
static const uint16_t ref_ports[] = { 53, 7, 9000, 9001, 5353 };

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* A random match of the forms bindcfg accepts on a tap port. */
static struct match ref_match(uint32_t *x)
{
	struct match m = { .depth = (uint8_t)(rnd_next(x) % 4) };

	if (m.depth >= 1)
		m.ethertype = ref_ets[rnd_next(x) % (m.depth >= 2 ? 2 : N_OF(ref_ets))];
	if (m.depth >= 2)
		m.ip_protocol = m.depth == 3 ? 17 : ref_protos[rnd_next(x) % N_OF(ref_protos)];
	if (m.depth == 3)
		m.udp_port = ref_ports[rnd_next(x) % N_OF(ref_ports)];
	return m;
}

/* A random frame, built, with the path the model gives it. */
static size_t ref_frame(struct fx *fx, uint32_t *x, struct ref_path *p)
{
	unsigned kind = rnd_next(x) % 7;
	uint16_t port = ref_ports[rnd_next(x) % N_OF(ref_ports)];

	memset(p, 0, sizeof(*p));
	if (rnd_next(x) % 8 == 0)
		port = 40000; /* nobody's */
	switch (kind) {
	case 0:
	case 1:
		*p = (struct ref_path){ 3, { 0, 0x0800, 17, port } };
		return udp4(fx->buf, port);
	case 2:
		*p = (struct ref_path){ 3, { 0, 0x86dd, 17, port } };
		return udp6(fx->buf, port);
	case 3:
		*p = (struct ref_path){ 2, { 0, 0x0800, 1 } };
		return icmp_frame(fx->buf, LINK_ETHERNET, AF_INET);
	case 4:
		*p = (struct ref_path){ 2, { 0, 0x0800, 6 } };
		return proto4(fx->buf, 6);
	case 5:
		*p = (struct ref_path){ 1, { 0, 0x0806 } };
		return arp_frame(fx->buf);
	default:
		*p = (struct ref_path){ 1, { 0, 0x88b5 } };
		return other_frame(fx->buf, 0x88b5);
	}
}

static struct binding *bind_match(struct dut *d, const struct match *m)
{
	struct binding *b = bind_raw(d, m->depth, m->ethertype, m->ip_protocol, m->udp_port);

	b->ops = &record_ops;
	return b;
}

/*
 * Random bindings on every level, made, deleted, taken out and put back
 * (stack_detach/stack_reattach, as a failed save undoes a delete), and
 * random frames: every frame runs the bindings the linear walk ran, in
 * its order, and lands in the counter bucket it chose.
 */
static void test_index_same_as_linear_walk(void **state)
{
	struct fx *fx = *state;
	struct ref_binding rb[64];
	uint32_t want[64];
	size_t n = 0;
	uint32_t x = 0x2545f491;
	struct dut *d;

	fx->senv.max_bindings = 64;
	d = tap_open(fx, "tap0");
	for (unsigned round = 0; round < 3000; round++) {
		unsigned op = rnd_next(&x) % 10;

		if (op < 3 && n < N_OF(rb)) {
			struct match m = ref_match(&x);

			rb[n].m = m;
			rb[n].id = bind_match(d, &m)->cfg.id;
			n++;
		} else if (op == 3 && n) {
			size_t i = rnd_next(&x) % n;
			struct fault f = FAULT_INIT;

			assert_int_equal(stack_unbind(d->s, rb[i].id, &f), 0);
			memmove(&rb[i], &rb[i + 1], (n - i - 1) * sizeof(rb[0]));
			n--;
		} else if (op == 4 && n) {
			size_t i = rnd_next(&x) % n, at;
			struct binding *b = stack_detach(d->s, rb[i].id, &at);

			assert_non_null(b);
			assert_int_equal(at, i);
			stack_reattach(d->s, b, at);
		} else {
			struct stack_counters before = *stack_counters(d->s);
			const struct stack_counters *after = stack_counters(d->s);
			struct ref_path p;
			size_t len = ref_frame(fx, &x, &p), n_want;
			unsigned lv;

			ref_dispatch(rb, n, &p, want, &n_want, &lv);
			ran_n = 0;
			feed(fx, d, fx->buf, len);
			assert_int_equal(ran_n, n_want);
			for (size_t i = 0; i < n_want; i++)
				assert_int_equal(ran_ids[i], want[i]);
			assert_int_equal(after->matched, before.matched + (n_want > 0));
			for (unsigned l = 0; l < LEVEL_COUNT; l++)
				assert_int_equal(after->unmatched[l],
						 before.unmatched[l] + (n_want == 0 && l == lv));
		}
		assert_int_equal(stack_count(d->s), n);
	}
	ran_n = 0;
}

/*
 * 4,096 count bindings on distinct UDP ports of one port, plus one at the
 * IPv4 UDP node: a frame runs its port's binding and the UDP node's, and
 * no other; a port nobody bound is unmatched at the UDP port level. Then
 * all are deleted and made again (the index drops its emptied nodes when
 * it grows), with the same results.
 */
static void test_index_4096_bindings(void **state)
{
	struct fx *fx = *state;
	struct binding *udp, *b;
	struct fault f = FAULT_INIT;
	struct dut *d;
	size_t len;

	fx->senv.max_bindings = 4097;
	d = tap_open(fx, "tap0");
	for (int round = 0; round < 2; round++) {
		uint32_t first;

		udp = bind_match(d, &(struct match){ 2, 0x0800, 17, 0 });
		first = bind_match(d, &(struct match){ 3, 0x0800, 17, 1000 })->cfg.id;
		for (uint16_t port = 1001; port < 1000 + 4096; port++)
			bind_match(d, &(struct match){ 3, 0x0800, 17, port });
		assert_int_equal(stack_count(d->s), 4097);
		for (uint16_t port = 1000; port < 1000 + 4096; port += 97) {
			len = udp4(fx->buf, port);
			ran_n = 0;
			feed(fx, d, fx->buf, len);
			/* The UDP node's binding was made first, so it runs first. */
			assert_int_equal(ran_n, 2);
			assert_int_equal(ran_ids[0], udp->cfg.id);
			assert_int_equal(ran_ids[1], first + (port - 1000u));
			b = stack_find(d->s, first + (port - 1000u));
			assert_int_equal(b->c.packets, 1);
		}
		assert_int_equal(stack_find(d->s, first + 1)->c.packets, 0);
		/* Without the UDP node's binding, port 999 stops at the UDP port level. */
		assert_int_equal(stack_unbind(d->s, udp->cfg.id, &f), 0);
		len = udp4(fx->buf, 999);
		ran_n = 0;
		feed(fx, d, fx->buf, len);
		assert_int_equal(ran_n, 0);
		assert_int_equal(stack_counters(d->s)->unmatched[LEVEL_UDP_PORT], round + 1);
		while (stack_count(d->s))
			assert_int_equal(stack_unbind(d->s, stack_at(d->s, 0)->cfg.id, &f), 0);
		/* No node left: the same frame now stops at the ethertype level. */
		feed(fx, d, fx->buf, len);
		assert_int_equal(stack_counters(d->s)->unmatched[LEVEL_ETHERTYPE], round + 1);
	}
	ran_n = 0;
}

/*
 * A binding is allocated only as far as its kind's options reach (binding.h):
 * a count binding carries none of the options union, and every kind holds,
 * byte for byte, the options it was asked for, largest ones included (a
 * filter of almost CAPTURE_FILTER_MAX bytes, REPLY_ADDR_MAX addresses, a
 * port name of PORT_NAME_MAX). Under ASan (make unit-asan) an allocation
 * short of what a kind reads is a heap overflow here.
 */
static void test_binding_sized_by_kind(void **state)
{
	struct fx *fx = *state;
	struct dut *d = tap_open(fx, "p0");
	char filter[CAPTURE_FILTER_MAX], fwd[PORT_NAME_MAX + 1];
	json_t *specs = json_array(), *v4 = json_array(), *v6 = json_array(), *spec;
	size_t i, at = 0;

	memset(fwd, 'f', PORT_NAME_MAX);
	fwd[PORT_NAME_MAX] = '\0';
	tap_open(fx, fwd);
	for (unsigned port = 1; at + 20 < sizeof(filter); port++)
		at += (size_t)snprintf(filter + at, sizeof(filter) - at, "%sudp port %u",
				       port > 1 ? " or " : "", port);
	for (i = 0; i < REPLY_ADDR_MAX; i++) {
		char a[64];

		snprintf(a, sizeof(a), "198.18.1.%zu", i + 1);
		json_array_append_new(v4, json_string(a));
		snprintf(a, sizeof(a), "2001:db8::%zx", i + 1);
		json_array_append_new(v6, json_string(a));
	}
	json_array_append_new(specs, json_pack("{s:{}, s:s}", "match", "handler", "count"));
	json_array_append_new(specs, json_pack("{s:{}, s:s}", "match", "handler", "drop"));
	json_array_append_new(specs,
			      json_pack("{s:{s:i, s:i, s:i}, s:s}", "match", "ethertype", 2048,
					"ip_protocol", 17, "udp_port", 7, "handler", "echo"));
	json_array_append_new(specs, json_pack("{s:{}, s:s, s:{s:s, s:i, s:i}}", "match", "handler",
					       "capture", "options", "filter", filter, "snaplen",
					       100, "limit", 3));
	json_array_append_new(specs, json_pack("{s:{s:i}, s:s, s:{s:o, s:s}}", "match", "ethertype",
					       2054, "handler", "arp_reply", "options", "addresses",
					       v4, "mac", "02:00:00:00:00:09"));
	json_array_append_new(specs,
			      json_pack("{s:{s:i, s:i}, s:s, s:{s:o, s:s}}", "match", "ethertype",
					34525, "ip_protocol", 58, "handler", "ndp_reply", "options",
					"addresses", v6, "mac", "02:00:00:00:00:09"));
	json_array_append_new(specs, json_pack("{s:{}, s:s, s:{s:s}}", "match", "handler",
					       "forward", "options", "port", fwd));
	json_array_foreach(specs, i, spec) {
		struct binding_config want, got;
		struct fault f = FAULT_INIT;
		struct binding *b = NULL;

		if (bindcfg_from_json(spec, PORT_TAP, false, &want, &f) < 0)
			fail_msg("spec %zu: %s: %s", i, f.field, f.detail);
		snprintf(want.name, sizeof(want.name), "b%u", (unsigned)i % 100);
		if (stack_bind(d->s, &want, &b, &f) < 0)
			fail_msg("spec %zu: %s", i, f.detail);
		want.id = b->cfg.id;
		binding_config_get(b, &got);
		/* The whole union: the options asked for, zero past them (bindopts zeroes it too). */
		assert_memory_equal(&got, &want, sizeof(got));
		assert_true(bindcfg_same(&b->cfg, &want));
		assert_true(malloc_usable_size(b) >= binding_alloc_size(want.kind));
		if (!handlers[want.kind]->options)
			assert_true(binding_alloc_size(want.kind) <
				    sizeof(struct binding) - sizeof(want.o) + sizeof(uint64_t));
	}
	/* A count binding is a fraction of the largest kind's, the capture's. */
	assert_int_equal(binding_alloc_size(HANDLER_CAPTURE), sizeof(struct binding));
	assert_true(binding_alloc_size(HANDLER_COUNT) * 4 < sizeof(struct binding));
	json_decref(specs);
}

/*
 * The datagrams of a super-frame (port.h: PORT_RX_LEAD, port_train_fn,
 * PORT_RX_L4_CSUM_OK), handed to the sink as a vnet_hdr port does: the
 * lead is dispatched, the rest counted on its path at once with their own
 * bytes, unless the lead was not clean or a binding reads frames.
 */
static void test_trains(void **state)
{
	struct fx *fx = *state;
	struct dut *d = tap_open(fx, "tap0");
	const unsigned ok = PORT_RX_L4_CSUM_OK;
	struct binding *root = bind_raw(d, 0, 0, 0, 0), *et = bind_raw(d, 1, 0x0800, 0, 0);
	struct binding *b9000 = bind_raw(d, 3, 0x0800, 17, 9000);
	struct binding *b53 = bind_raw(d, 3, 0x0800, 17, 53);
	const struct stack_counters *c = stack_counters(d->s);
	uint8_t *buf = fx->buf, other[FRAME_CAP];
	struct capture_stats st;
	size_t n1, n2;

	n1 = udp_frame(buf, LINK_ETHERNET, AF_INET, 9000, 100);
	stack_input(d->p, buf, n1, ok | PORT_RX_LEAD, d->s);
	assert_true(stack_train(d->p, 40, 5000, d->s));
	assert_int_equal(b9000->c.packets, 41);
	assert_int_equal(b9000->c.bytes, n1 + 5000);
	assert_int_equal(root->c.packets, 41);
	assert_int_equal(et->c.bytes, n1 + 5000);
	assert_int_equal(b53->c.packets, 0);
	assert_int_equal(c->matched, 41);

	/* A train on a path with no binding of its own: unmatched where the lead was. */
	stack_input(d->p, other, udp_frame(other, LINK_ETHERNET, AF_INET, 7777, 10),
		    ok | PORT_RX_LEAD, d->s);
	assert_true(stack_train(d->p, 9, 900, d->s));
	assert_int_equal(c->matched, 51);
	assert_int_equal(root->c.packets, 51);
	assert_int_equal(b9000->c.packets, 41);

	/* The checksum hint: a UDP checksum said good is not summed. */
	buf[14 + 20 + 6] ^= 0x01;
	stack_input(d->p, buf, n1, ok, d->s);
	assert_int_equal(c->bad_checksum[CSUM_UDP], 0);
	stack_input(d->p, buf, n1, 0, d->s);
	assert_int_equal(c->bad_checksum[CSUM_UDP], 1);

	/* A lead that is not clean: the train is refused, nothing counted of it. */
	n1 = udp4(buf, 53);
	buf[14 + 2] = 0xff; /* an IPv4 total length past the frame */
	stack_input(d->p, buf, n1, ok | PORT_RX_LEAD, d->s);
	assert_int_equal(c->malformed[MAL_ipv4_bad_total_length], 1);
	assert_false(stack_train(d->p, 3, 300, d->s));
	assert_int_equal(b53->c.packets, 0);
	assert_int_equal(c->malformed[MAL_ipv4_bad_total_length], 1);
	assert_int_equal(root->c.packets, 54);

	/* A binding that reads frames (a capture): a train is refused even after a clean lead. */
	bind_ok(d, "{'handler':'capture'}");
	n2 = udp4(other, 9000);
	stack_input(d->p, other, n2, ok | PORT_RX_LEAD, d->s);
	assert_false(stack_train(d->p, 5, 500, d->s));
	assert_int_equal(b9000->c.packets, 44);
	capture_ring_stats(stack_ring(d->s), &st);
	assert_int_equal(st.newest_seq, 1);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_dispatch_by_key),
		T(test_same_key_creation_order),
		T(test_unknown_keys_not_seen),
		T(test_every_level_of_a_path),
		T(test_tun_dispatch),
		T(test_failure_does_not_stop_others),
		T(test_unmatched_levels),
		T(test_accounting),
		T(test_fragments_stop_at_protocol),
		T(test_capture_parsed_again),
		T(test_ieee8023_no_ethertype),
		T(test_bad_checksums),
		T(test_trains),
		T(test_bind_limit),
		T(test_bind_ids),
		T(test_bind_ids_after_largest),
		T(test_capture_ring_allocation),
		T(test_free_detaches),
		T(test_no_allocation_per_frame),
		T(test_fixture_dispatch),
		T(test_index_same_as_linear_walk),
		T(test_index_4096_bindings),
		T(test_binding_sized_by_kind),
	};

	return cmocka_run_group_tests_name("stack", tests, NULL, NULL);
}
