// SPDX-License-Identifier: MIT
/*
 * Unit tests of the handler kinds (service/handler.c, h_count.c,
 * h_drop.c, h_forward.c, h_echo.c, h_reply.c): the handlers[] table, each
 * kind's placement and option rules (read by bindopts.c) with the field
 * every fault names, the bindopts_to_json() round trip, and run() on real
 * ports of the memory port I/O (portio_mem.h) — a tap, a second tap, a
 * plain tun and a tun with packet info — reading the replies back from the
 * frames the ports wrote. Requests come from the builders of build.c
 * (tested on their own in test_build.c) or, for NDP and ARP, from
 * scapy-made hex; replies are parsed strictly, so every checksum in them
 * is verified, and the ARP and NDP ones are compared byte for byte with
 * scapy's.
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
#include <time.h>

#include "../../service/bindopts.h"
#include "../../service/build.h"
#include "../../service/csum.h"
#include "../../service/h_capture.h"
#include "../../service/h_echo.h"
#include "../../service/h_forward.h"
#include "../../service/h_reply.h"
#include "../../service/handler.h"
#include "../../service/parse.h"
#include "../../service/port.h"
#include "../fakes/portio_mem.h"
#include "support.h"

#define FRAME_MAX 1600

/*
 * NDP and ARP frames made with scapy 2.5:
 *   K='02:00:00:00:00:aa' (the kernel side), H='02:00:00:00:00:01' (the host
 *   paird plays), a4='198.18.0.1', b4='198.18.0.2', a6='2001:db8::1',
 *   b6='2001:db8::2', E=Ether(dst='33:33:ff:00:00:01', src=K)
 */
/* E/IPv6(src=b6, dst='ff02::1:ff00:1', hlim=255)/ICMPv6ND_NS(tgt=a6)/ICMPv6NDOptSrcLLAddr(K) */
static const char ns[] = "3333ff0000010200000000aa86dd6000000000203aff20010db8000000000000"
			 "000000000002ff0200000000000000000001ff00000187001b7f000000002001"
			 "0db800000000000000000000000101010200000000aa";
/* Ether(dst=H, src=K)/IPv6(src=b6, dst=a6, hlim=255)/ICMPv6ND_NS(tgt=a6) */
static const char ns_nud[] = "0200000000010200000000aa86dd6000000000183aff20010db8000000000000"
			     "00000000000220010db80000000000000000000000018700ef7d000000002001"
			     "0db8000000000000000000000001";
/* E/IPv6(src='::', dst='ff02::1:ff00:1', hlim=255)/ICMPv6ND_NS(tgt=a6) */
static const char ns_dad[] = "3333ff0000010200000000aa86dd6000000000183aff00000000000000000000"
			     "000000000000ff0200000000000000000001ff00000187004ced000000002001"
			     "0db8000000000000000000000001";
/* ns with tgt='2001:db8::99' (not listed), dst='ff02::1:ff00:99' */
static const char ns_other[] = "3333ff0000990200000000aa86dd6000000000203aff20010db8000000000000"
			       "000000000002ff0200000000000000000001ff00009987001a4f000000002001"
			       "0db800000000000000000000009901010200000000aa";
/* ns with hlim=64 (RFC 4861 7.1.1 wants 255) */
static const char ns_hop64[] = "3333ff0000010200000000aa86dd6000000000203a4020010db8000000000000"
			       "000000000002ff0200000000000000000001ff00000187001b7f000000002001"
			       "0db800000000000000000000000101010200000000aa";
/* ns with the option's len=0 */
static const char ns_optlen0[] = "3333ff0000010200000000aa86dd6000000000203aff20010db8000000000000"
				 "000000000002ff0200000000000000000001ff00000187001b80000000002001"
				 "0db800000000000000000000000101000200000000aa";
/* ns_dad with a Source Link-Layer Address option */
static const char ns_dad_slla[] = "3333ff0000010200000000aa86dd6000000000203aff00000000000000000000"
				  "000000000000ff0200000000000000000001ff0000018700493a000000002001"
				  "0db800000000000000000000000101010200000000aa";
/* Ether(dst=H, src=K)/IPv6(src='::', dst=a6, hlim=255)/ICMPv6ND_NS(tgt=a6) */
static const char ns_dad_unicast[] =
	"0200000000010200000000aa86dd6000000000183aff00000000000000000000"
	"00000000000020010db800000000000000000000000187001d39000000002001"
	"0db8000000000000000000000001";
/*
 * Ether(dst=K, src=H)/IPv6(src=a6, dst=b6, hlim=255)/ICMPv6ND_NA(R=0, S=1,
 * O=1, tgt=a6)/ICMPv6NDOptDstLLAddr(lladdr=H)
 */
static const char na_want[] = "0200000000aa02000000000186dd6000000000203aff20010db8000000000000"
			      "00000000000120010db800000000000000000000000288008a73600000002001"
			      "0db80000000000000000000000010201020000000001";
/*
 * Ether(dst='33:33:00:00:00:01', src=H)/IPv6(src=a6, dst='ff02::1',
 * hlim=255)/ICMPv6ND_NA(R=0, S=0, O=1, tgt=a6)/ICMPv6NDOptDstLLAddr(lladdr=H)
 */
static const char na_dad_want[] = "33330000000102000000000186dd6000000000203aff20010db8000000000000"
				  "000000000001ff0200000000000000000000000000018800f92a200000002001"
				  "0db80000000000000000000000010201020000000001";
/*
 * Ether(dst='ff:ff:ff:ff:ff:ff', src=K)/ARP(op=1, hwsrc=K, psrc=b4,
 * hwdst='00:00:00:00:00:00', pdst=a4)
 */
static const char arp_request[] = "ffffffffffff0200000000aa080600010800060400010200000000aac6120002"
				  "000000000000c6120001";
/* Ether(dst=K, src=H)/ARP(op=2, hwsrc=H, psrc=a4, hwdst=K, pdst=b4)/Padding(b'\0' * 18) */
static const char arp_reply_want[] =
	"0200000000aa02000000000108060001080006040002020000000001c6120001"
	"0200000000aac6120002000000000000000000000000000000000000";

static const uint8_t mac_k[6] = { 2, 0, 0, 0, 0, 0xaa };
static const uint8_t mac_h[6] = { 2, 0, 0, 0, 0, 0x01 };
static const uint8_t mac_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

struct fx {
	struct memio *m;
	struct port_env env;
	struct port *tap0, *tap1, *tun0, *tunpi;
	uint8_t *scratch;
	struct frame_info fi;
};

static struct port *lookup(void *arg, const char *name)
{
	struct fx *fx = arg;
	struct port *all[] = { fx->tap0, fx->tap1, fx->tun0, fx->tunpi };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(port_name(all[i]), name) == 0)
			return all[i];
	return NULL;
}

static struct port *open_port(struct fx *fx, const char *name, enum port_type type, bool pi)
{
	struct port_config c;
	struct fault f = FAULT_INIT;
	struct port *p;

	memset(&c, 0, sizeof(c));
	strcpy(c.name, name);
	c.type = type;
	c.packet_info = pi;
	p = port_open(&fx->env, &c, &f);
	if (!p)
		fail_msg("port_open(%s): %s", name, f.detail);
	return p;
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	fx->m = memio_env_new(&fx->env);
	fx->tap0 = open_port(fx, "tap0", PORT_TAP, false);
	fx->tap1 = open_port(fx, "tap1", PORT_TAP, false);
	fx->tun0 = open_port(fx, "tun0", PORT_TUN, false);
	fx->tunpi = open_port(fx, "tunpi", PORT_TUN, true);
	fx->scratch = malloc(PORT_FRAME_MAX);
	assert_non_null(fx->scratch);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	port_free(fx->tap0);
	port_free(fx->tap1);
	port_free(fx->tun0);
	port_free(fx->tunpi);
	memio_free(fx->m);
	free(fx->scratch);
	free(fx);
	return 0;
}

/* --- matches and configuration --- */

static struct match m_root(void)
{
	return (struct match){ .depth = 0 };
}

static struct match m_eth(uint16_t ethertype)
{
	return (struct match){ .depth = 1, .ethertype = ethertype };
}

static struct match m_proto(uint16_t ethertype, uint8_t proto)
{
	return (struct match){ .depth = 2, .ethertype = ethertype, .ip_protocol = proto };
}

static struct match m_udp(uint16_t ethertype, uint16_t port)
{
	return (struct match){
		.depth = 3, .ethertype = ethertype, .ip_protocol = 17, .udp_port = port
	};
}

static json_t *opts_of(const char *text)
{
	json_error_t e;
	json_t *o;

	if (!text)
		return NULL;
	o = json_loads(text, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
	if (!o)
		fail_msg("bad test JSON %s: %s", text, e.text);
	return o;
}

static int configure(enum handler_kind kind, struct match m, enum port_type ptype, const char *opts,
		     struct binding *b, struct fault *f)
{
	json_t *o = opts_of(opts);
	int ret = 0;

	memset(b, 0, sizeof(*b));
	b->cfg.match = m;
	b->cfg.kind = kind;
	b->ops = handlers[kind];
	ret = bindopts_from_json(o, ptype, &b->cfg, f);
	json_decref(o);
	return ret;
}

static void bind_ok(enum handler_kind kind, struct match m, enum port_type ptype, const char *opts,
		    struct binding *b)
{
	struct fault f = FAULT_INIT;

	if (configure(kind, m, ptype, opts, b, &f) != 0)
		fail_msg("%s %s: refused: %s: %s", handlers[kind]->name, opts ? opts : "(none)",
			 f.field, f.detail);
	assert_int_equal(f.kind, FAULT_NONE);
}

/* Asserts a FAULT_INVALID on @field whose detail holds @words (when not NULL). */
static void bind_fails(enum handler_kind kind, struct match m, enum port_type ptype,
		       const char *opts, const char *field, const char *words)
{
	struct fault f = FAULT_INIT;
	struct binding b;
	int ret = configure(kind, m, ptype, opts, &b, &f);

	if (ret != -EINVAL || f.kind != FAULT_INVALID || strcmp(f.field, field) != 0)
		fail_msg("%s %s: got %d, kind %d, field \"%s\" (%s); want -EINVAL on \"%s\"",
			 handlers[kind]->name, opts ? opts : "(none)", ret, f.kind, f.field,
			 f.detail, field);
	assert_true(strlen(f.detail) > 0);
	if (words && !strstr(f.detail, words))
		fail_msg("detail \"%s\" lacks \"%s\"", f.detail, words);
}

/* --- running --- */

static int run(struct fx *fx, struct binding *b, struct port *p, const uint8_t *frame, size_t len)
{
	struct dispatch_ctx dc = {
		.port = p,
		.frame = frame,
		.len = len,
		.fi = &fx->fi,
		.scratch = fx->scratch,
		.lookup = lookup,
		.lookup_arg = fx,
	};

	clock_gettime(CLOCK_REALTIME, &dc.ts);
	/* Not strict: a bad checksum is delivered, as on a port by default. */
	frame_parse(frame, len, port_frame_link(p), 0, &fx->fi);
	return b->ops->run ? b->ops->run(b, &dc) : 0;
}

static size_t written(struct fx *fx, struct port *p)
{
	return memio_written_count(fx->m, port_name(p));
}

/* @b answers nothing to @frame on @p: no error, no frame written, no reply counted. */
static void expect_silent(struct fx *fx, struct binding *b, struct port *p, const uint8_t *frame,
			  size_t len)
{
	size_t before = written(fx, p);
	uint64_t replies = b->c.extra[0];

	assert_int_equal(run(fx, b, p, frame, len), 0);
	assert_int_equal(written(fx, p), before);
	assert_true(b->c.extra[0] == replies);
}

/* The @i-th frame @p wrote, parsed strictly: it must be whole and every checksum right. */
static const uint8_t *reply_at(struct fx *fx, struct port *p, size_t i, size_t *len,
			       struct frame_info *fi)
{
	const uint8_t *r = memio_written(fx->m, port_name(p), i, len);

	assert_non_null(r);
	frame_parse(r, *len, port_frame_link(p), PARSE_STRICT, fi);
	if (fi->malformed != MALFORMED_NONE)
		fail_msg("reply %zu on %s: %s", i, port_name(p), malformed_name(fi->malformed));
	return r;
}

static void addr(int family, const char *s, uint8_t *out)
{
	assert_int_equal(inet_pton(family, s, out), 1);
}

/* An IP header @src → @dst; on Ethernet from the kernel's MAC to the host's. */
static void req_addrs(struct port *p, int family, const char *src, const char *dst,
		      struct build_link *l, struct build_ip *ip)
{
	memset(l, 0, sizeof(*l));
	memset(ip, 0, sizeof(*ip));
	l->link = port_frame_link(p);
	memcpy(l->src, mac_k, 6);
	memcpy(l->dst, mac_h, 6);
	ip->family = family;
	addr(family, src, ip->src);
	addr(family, dst, ip->dst);
}

/* A UDP datagram @src:@sport → @dst:7 carrying @payload. */
static size_t udp_req_from(struct port *p, int family, const char *src, const char *dst,
			   uint16_t sport, const char *payload, uint8_t *buf)
{
	struct build_link l;
	struct build_ip ip;
	ssize_t n;

	req_addrs(p, family, src, dst, &l, &ip);
	n = build_udp(buf, FRAME_MAX, &l, &ip, sport, 7, (const uint8_t *)payload, strlen(payload));
	assert_true(n > 0);
	return (size_t)n;
}

static size_t udp_req(struct port *p, int family, const char *src, const char *dst,
		      const char *payload, uint8_t *buf)
{
	return udp_req_from(p, family, src, dst, 5000, payload, buf);
}

static size_t echo_req(struct port *p, int family, const char *src, const char *dst, uint8_t *buf)
{
	uint8_t data[56];
	struct build_link l;
	struct build_ip ip;
	ssize_t n;

	frame_fill(data, sizeof(data), 9);
	req_addrs(p, family, src, dst, &l, &ip);
	n = build_icmp_echo(buf, FRAME_MAX, &l, &ip, false, 0x4242, 7, data, sizeof(data));
	assert_true(n > 0);
	return (size_t)n;
}

/* ------------------------------------------------------------------ */

static void test_table(void **state)
{
	static const char *const names[HANDLER_KIND_COUNT] = {
		[HANDLER_COUNT] = "count",	   [HANDLER_CAPTURE] = "capture",
		[HANDLER_ECHO] = "echo",	   [HANDLER_ARP_REPLY] = "arp_reply",
		[HANDLER_NDP_REPLY] = "ndp_reply", [HANDLER_FORWARD] = "forward",
		[HANDLER_DROP] = "drop",
	};

	(void)state;
	for (int k = 0; k < HANDLER_KIND_COUNT; k++) {
		assert_non_null(handlers[k]);
		assert_string_equal(handlers[k]->name, names[k]);
		/* Only count and drop leave a frame to the dispatcher's counting alone. */
		assert_true(!handlers[k]->run == (k == HANDLER_COUNT || k == HANDLER_DROP));
		assert_non_null(handlers[k]->placement);
		assert_int_not_equal(handlers[k]->levels, 0);
		assert_int_equal(handlers[k]->levels & ~((1u << LEVEL_COUNT) - 1), 0);
	}
	assert_ptr_equal(handlers[HANDLER_CAPTURE], &handler_capture);
	assert_string_equal(handler_echo.extra[0], "replies");
	assert_string_equal(handler_arp_reply.extra[0], "replies");
	assert_string_equal(handler_ndp_reply.extra[0], "replies");
	assert_string_equal(handler_forward.extra[0], "forwarded");
	assert_int_equal(handler_echo.levels, 1u << LEVEL_IP_PROTOCOL | 1u << LEVEL_UDP_PORT);
	assert_int_equal(handler_arp_reply.levels, 1u << LEVEL_ETHERTYPE);
	assert_int_equal(handler_ndp_reply.levels, 1u << LEVEL_IP_PROTOCOL);
}

/* --- configure --- */

static void test_configure_count_drop(void **state)
{
	static const enum handler_kind kinds[] = { HANDLER_COUNT, HANDLER_DROP };
	struct binding b;

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		enum handler_kind k = kinds[i];

		bind_ok(k, m_root(), PORT_TAP, NULL, &b);
		bind_ok(k, m_eth(2054), PORT_TAP, "{}", &b);
		bind_ok(k, m_proto(2048, 6), PORT_TUN, NULL, &b);
		bind_ok(k, m_udp(34525, 53), PORT_TAP, "{}", &b);
		bind_fails(k, m_root(), PORT_TAP, "{\"limit\": 1}", "options.limit", "no options");
		bind_fails(k, m_root(), PORT_TAP, "[1]", "options", "object");
	}
}

static void test_configure_forward(void **state)
{
	struct binding b;
	json_t *o;

	(void)state;
	bind_ok(HANDLER_FORWARD, m_root(), PORT_TAP, "{\"port\": \"tap1\"}", &b);
	assert_string_equal(b.cfg.o.forward.port, "tap1");
	bind_ok(HANDLER_FORWARD, m_udp(2048, 53), PORT_TUN, "{\"port\": \"a-b_c.9\"}", &b);
	assert_string_equal(b.cfg.o.forward.port, "a-b_c.9");
	/* A port that does not exist yet is fine here: the API decides that. */
	bind_ok(HANDLER_FORWARD, m_eth(2054), PORT_TAP, "{\"port\": \"nosuchport\"}", &b);

	o = json_object();
	bindopts_to_json(&b.cfg, o);
	assert_string_equal(json_string_value(json_object_get(o, "port")), "nosuchport");
	assert_int_equal(json_object_size(o), 1);
	json_decref(o);

	bind_fails(HANDLER_FORWARD, m_root(), PORT_TAP, NULL, "options.port", "required");
	bind_fails(HANDLER_FORWARD, m_root(), PORT_TAP, "{}", "options.port", "required");
	bind_fails(HANDLER_FORWARD, m_root(), PORT_TAP, "{\"port\": 3}", "options.port", "string");
	bind_fails(HANDLER_FORWARD, m_root(), PORT_TAP, "{\"port\": \"\"}", "options.port", NULL);
	bind_fails(HANDLER_FORWARD, m_root(), PORT_TAP, "{\"port\": \"a/b\"}", "options.port",
		   NULL);
	bind_fails(HANDLER_FORWARD, m_root(), PORT_TAP, "{\"port\": \"..\"}", "options.port", NULL);
	bind_fails(HANDLER_FORWARD, m_root(), PORT_TAP, "{\"port\": \"sixteen-chars-xx\"}",
		   "options.port", NULL);
	bind_fails(HANDLER_FORWARD, m_root(), PORT_TAP, "{\"port\": \"a\\u0000b\"}", "options.port",
		   "NUL");
	bind_fails(HANDLER_FORWARD, m_root(), PORT_TAP, "{\"port\": \"tap1\", \"to\": 1}",
		   "options.to", "unknown");
	bind_fails(HANDLER_FORWARD, m_root(), PORT_TAP, "\"tap1\"", "options", "object");
}

static void test_configure_echo(void **state)
{
	const char *why = "echo lives at a UDP port, or at ip_protocol 1 (ethertype 2048) or 58 "
			  "(ethertype 34525)";
	struct binding b;

	(void)state;
	bind_ok(HANDLER_ECHO, m_udp(2048, 7), PORT_TAP, NULL, &b);
	bind_ok(HANDLER_ECHO, m_udp(34525, 7), PORT_TUN, "{}", &b);
	bind_ok(HANDLER_ECHO, m_udp(2048, 0), PORT_TUN, NULL, &b);
	bind_ok(HANDLER_ECHO, m_proto(2048, 1), PORT_TAP, NULL, &b);
	bind_ok(HANDLER_ECHO, m_proto(34525, 58), PORT_TAP, NULL, &b);
	bind_ok(HANDLER_ECHO, m_proto(2048, 1), PORT_TUN, NULL, &b);
	bind_ok(HANDLER_ECHO, m_proto(34525, 58), PORT_TUN, NULL, &b);

	bind_fails(HANDLER_ECHO, m_proto(2048, 58), PORT_TAP, NULL, "handler", why);
	bind_fails(HANDLER_ECHO, m_proto(34525, 1), PORT_TAP, NULL, "handler", why);
	bind_fails(HANDLER_ECHO, m_proto(2048, 17), PORT_TAP, NULL, "handler", why);
	bind_fails(HANDLER_ECHO, m_proto(2054, 1), PORT_TAP, NULL, "handler", why);
	bind_fails(HANDLER_ECHO, m_eth(2048), PORT_TAP, NULL, "handler", why);
	bind_fails(HANDLER_ECHO, m_root(), PORT_TUN, NULL, "handler", why);
	bind_fails(HANDLER_ECHO, m_udp(2048, 7), PORT_TAP, "{\"ttl\": 3}", "options.ttl", NULL);
	bind_fails(HANDLER_ECHO, m_proto(2048, 1), PORT_TAP, "7", "options", NULL);
}

static void test_configure_arp_reply(void **state)
{
	struct binding b;
	json_t *o, *o2;
	struct binding b2;
	char *text;

	(void)state;
	bind_ok(HANDLER_ARP_REPLY, m_eth(2054), PORT_TAP,
		"{\"addresses\": [\"198.18.0.1\", \"198.18.0.9\"]}", &b);
	assert_int_equal(b.cfg.o.reply.n_addrs, 2);
	assert_memory_equal(b.cfg.o.reply.addrs[1], ((uint8_t[4]){ 198, 18, 0, 9 }), 4);
	assert_false(b.cfg.o.reply.has_mac);

	bind_ok(HANDLER_ARP_REPLY, m_eth(2054), PORT_TAP,
		"{\"mac\": \"02:00:00:00:00:01\", \"addresses\": [\"198.18.0.1\"]}", &b);
	assert_true(b.cfg.o.reply.has_mac);
	assert_memory_equal(b.cfg.o.reply.mac, mac_h, 6);

	/* bindopts_to_json() gives back what bindopts_from_json() takes, to the same result. */
	o = json_object();
	bindopts_to_json(&b.cfg, o);
	text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(text, "{\"addresses\":[\"198.18.0.1\"],\"mac\":\"02:00:00:00:00:01\"}");
	bind_ok(HANDLER_ARP_REPLY, m_eth(2054), PORT_TAP, text, &b2);
	assert_memory_equal(&b.cfg.o.reply, &b2.cfg.o.reply, sizeof(b.cfg.o.reply));
	free(text);
	json_decref(o);
	bind_ok(HANDLER_ARP_REPLY, m_eth(2054), PORT_TAP, "{\"addresses\": [\"198.18.0.1\"]}", &b);
	o2 = json_object();
	bindopts_to_json(&b.cfg, o2);
	assert_null(json_object_get(o2, "mac"));
	json_decref(o2);

	/* Placement: ethertype 2054 of a tap, nothing else. */
	bind_fails(HANDLER_ARP_REPLY, m_eth(2054), PORT_TUN, "{\"addresses\": [\"198.18.0.1\"]}",
		   "handler", "tap");
	bind_fails(HANDLER_ARP_REPLY, m_eth(2048), PORT_TAP, "{\"addresses\": [\"198.18.0.1\"]}",
		   "handler", "2054");
	bind_fails(HANDLER_ARP_REPLY, m_root(), PORT_TAP, "{\"addresses\": [\"198.18.0.1\"]}",
		   "handler", NULL);
	bind_fails(HANDLER_ARP_REPLY, m_proto(2054, 1), PORT_TAP,
		   "{\"addresses\": [\"198.18.0.1\"]}", "handler", NULL);

	/* Options. */
	bind_fails(HANDLER_ARP_REPLY, m_eth(2054), PORT_TAP, NULL, "options.addresses", "required");
	bind_fails(HANDLER_ARP_REPLY, m_eth(2054), PORT_TAP, "{}", "options.addresses", "required");
	bind_fails(HANDLER_ARP_REPLY, m_eth(2054), PORT_TAP, "{\"mac\": \"02:00:00:00:00:01\"}",
		   "options.addresses", "required");
	bind_fails(HANDLER_ARP_REPLY, m_eth(2054), PORT_TAP, "{\"addresses\": []}",
		   "options.addresses", "1 to 16");
	bind_fails(HANDLER_ARP_REPLY, m_eth(2054), PORT_TAP, "{\"addresses\": \"198.18.0.1\"}",
		   "options.addresses", "array");
	bind_fails(HANDLER_ARP_REPLY, m_eth(2054), PORT_TAP, "{\"addresses\": [\"198.18.0.1\", 5]}",
		   "options.addresses[1]", "string");
	bind_fails(HANDLER_ARP_REPLY, m_eth(2054), PORT_TAP, "{\"addresses\": [\"198.18.0.1/24\"]}",
		   "options.addresses[0]", "prefix");
	bind_fails(HANDLER_ARP_REPLY, m_eth(2054), PORT_TAP, "{\"addresses\": [\"2001:db8::1\"]}",
		   "options.addresses[0]", "IPv4");
	bind_fails(HANDLER_ARP_REPLY, m_eth(2054), PORT_TAP, "{\"addresses\": [\"198.18.0\"]}",
		   "options.addresses[0]", "IPv4");
	bind_fails(HANDLER_ARP_REPLY, m_eth(2054), PORT_TAP, "{\"addresses\": [\"224.0.0.1\"]}",
		   "options.addresses[0]", "unicast");
	bind_fails(HANDLER_ARP_REPLY, m_eth(2054), PORT_TAP,
		   "{\"addresses\": [\"255.255.255.255\"]}", "options.addresses[0]", "unicast");
	bind_fails(HANDLER_ARP_REPLY, m_eth(2054), PORT_TAP, "{\"addresses\": [\"0.0.0.0\"]}",
		   "options.addresses[0]", "unicast");
	bind_fails(HANDLER_ARP_REPLY, m_eth(2054), PORT_TAP,
		   "{\"addresses\": [\"198.18.0.1\", \"198.18.0.2\", \"198.18.0.1\"]}",
		   "options.addresses[2]", "twice");
	bind_fails(HANDLER_ARP_REPLY, m_eth(2054), PORT_TAP,
		   "{\"addresses\": [\"198.18.0.1\"], \"mac\": \"zz\"}", "options.mac", NULL);
	bind_fails(HANDLER_ARP_REPLY, m_eth(2054), PORT_TAP,
		   "{\"addresses\": [\"198.18.0.1\"], \"mac\": \"01:00:5e:00:00:01\"}",
		   "options.mac", "unicast");
	bind_fails(HANDLER_ARP_REPLY, m_eth(2054), PORT_TAP,
		   "{\"addresses\": [\"198.18.0.1\"], \"mac\": 1}", "options.mac", "string");
	bind_fails(HANDLER_ARP_REPLY, m_eth(2054), PORT_TAP,
		   "{\"addresses\": [\"198.18.0.1\"], \"ttl\": 1}", "options.ttl", "unknown");
	bind_fails(HANDLER_ARP_REPLY, m_eth(2054), PORT_TAP, "[]", "options", "object");
}

static void test_configure_arp_reply_max(void **state)
{
	char text[1024];
	size_t n = 0;
	struct binding b;

	(void)state;
	n += (size_t)snprintf(text + n, sizeof(text) - n, "{\"addresses\": [");
	for (int i = 1; i <= REPLY_ADDR_MAX; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s\"198.18.1.%d\"",
				      i > 1 ? ", " : "", i);
	snprintf(text + n, sizeof(text) - n, "]}");
	bind_ok(HANDLER_ARP_REPLY, m_eth(2054), PORT_TAP, text, &b);
	assert_int_equal(b.cfg.o.reply.n_addrs, REPLY_ADDR_MAX);

	snprintf(text + n, sizeof(text) - n, ", \"198.18.2.1\"]}");
	bind_fails(HANDLER_ARP_REPLY, m_eth(2054), PORT_TAP, text, "options.addresses", "1 to 16");
}

static void test_configure_ndp_reply(void **state)
{
	struct binding b, b2;
	json_t *o;
	char *text;

	(void)state;
	bind_ok(HANDLER_NDP_REPLY, m_proto(34525, 58), PORT_TAP,
		"{\"addresses\": [\"2001:db8::1\", \"fe80::1\"], \"mac\": \"02:00:00:00:00:01\"}",
		&b);
	assert_int_equal(b.cfg.o.reply.n_addrs, 2);
	assert_true(b.cfg.o.reply.has_mac);

	o = json_object();
	bindopts_to_json(&b.cfg, o);
	text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(text, "{\"addresses\":[\"2001:db8::1\",\"fe80::1\"],"
				  "\"mac\":\"02:00:00:00:00:01\"}");
	bind_ok(HANDLER_NDP_REPLY, m_proto(34525, 58), PORT_TAP, text, &b2);
	assert_memory_equal(&b.cfg.o.reply, &b2.cfg.o.reply, sizeof(b.cfg.o.reply));
	free(text);
	json_decref(o);

	bind_fails(HANDLER_NDP_REPLY, m_proto(34525, 58), PORT_TUN,
		   "{\"addresses\": [\"2001:db8::1\"]}", "handler", "tap");
	bind_fails(HANDLER_NDP_REPLY, m_proto(2048, 1), PORT_TAP,
		   "{\"addresses\": [\"2001:db8::1\"]}", "handler", "58");
	bind_fails(HANDLER_NDP_REPLY, m_eth(34525), PORT_TAP, "{\"addresses\": [\"2001:db8::1\"]}",
		   "handler", NULL);
	bind_fails(HANDLER_NDP_REPLY, m_udp(34525, 547), PORT_TAP,
		   "{\"addresses\": [\"2001:db8::1\"]}", "handler", NULL);

	bind_fails(HANDLER_NDP_REPLY, m_proto(34525, 58), PORT_TAP, NULL, "options.addresses",
		   "required");
	bind_fails(HANDLER_NDP_REPLY, m_proto(34525, 58), PORT_TAP,
		   "{\"addresses\": [\"198.18.0.1\"]}", "options.addresses[0]", "IPv6");
	bind_fails(HANDLER_NDP_REPLY, m_proto(34525, 58), PORT_TAP,
		   "{\"addresses\": [\"2001:db8::1/64\"]}", "options.addresses[0]", "prefix");
	bind_fails(HANDLER_NDP_REPLY, m_proto(34525, 58), PORT_TAP,
		   "{\"addresses\": [\"2001:db8::1\", \"ff02::1\"]}", "options.addresses[1]",
		   "unicast");
	bind_fails(HANDLER_NDP_REPLY, m_proto(34525, 58), PORT_TAP, "{\"addresses\": [\"::\"]}",
		   "options.addresses[0]", "unicast");
	bind_fails(HANDLER_NDP_REPLY, m_proto(34525, 58), PORT_TAP,
		   "{\"addresses\": [\"2001:db8::1\", \"2001:DB8:0::1\"]}", "options.addresses[1]",
		   "twice");
	bind_fails(HANDLER_NDP_REPLY, m_proto(34525, 58), PORT_TAP,
		   "{\"addresses\": [\"2001:db8::1\"], \"mac\": \"00:00:00:00:00:00\"}",
		   "options.mac", NULL);
	bind_fails(HANDLER_NDP_REPLY, m_proto(34525, 58), PORT_TAP,
		   "{\"addresses\": [\"2001:db8::1\"], \"router\": true}", "options.router", NULL);
}

/* --- echo --- */

static void test_udp_echo_tap(void **state)
{
	struct fx *fx = *state;
	uint8_t req[FRAME_MAX];
	const uint8_t *r;
	struct frame_info fi;
	struct binding b;
	size_t n, len;

	bind_ok(HANDLER_ECHO, m_udp(2048, 7), PORT_TAP, NULL, &b);
	n = udp_req(fx->tap0, AF_INET, "198.18.0.2", "198.18.0.1", "ping", req);
	/* Ethernet padding to 60 bytes must not be echoed. */
	memset(req + n, 0xee, 60 - n);
	assert_int_equal(run(fx, &b, fx->tap0, req, 60), 0);
	assert_int_equal(written(fx, fx->tap0), 1);
	assert_int_equal(b.c.extra[0], 1);

	r = reply_at(fx, fx->tap0, 0, &len, &fi);
	assert_int_equal(len, 14 + 20 + 8 + 4);
	assert_memory_equal(fi.eth_dst, mac_k, 6);
	assert_memory_equal(fi.eth_src, mac_h, 6);
	assert_int_equal(fi.ethertype, ETHERTYPE_IPV4);
	assert_memory_equal(fi.ip4.src, ((uint8_t[4]){ 198, 18, 0, 1 }), 4);
	assert_memory_equal(fi.ip4.dst, ((uint8_t[4]){ 198, 18, 0, 2 }), 4);
	assert_int_equal(fi.ip4.ttl, 64);
	assert_int_equal(fi.ip4.checksum_status, CSUM_OK);
	assert_int_equal(fi.udp.sport, 7);
	assert_int_equal(fi.udp.dport, 5000);
	assert_int_equal(fi.udp.checksum_status, CSUM_OK);
	assert_int_equal(fi.payload_len, 4);
	assert_memory_equal(r + fi.payload_off, "ping", 4);
	assert_int_equal(port_counters(fx->tap0)->tx_frames, 1);

	/* An Ethernet broadcast is not answered (test_echo_no_reply_to_groups). */
	n = udp_req(fx->tap0, AF_INET, "198.18.0.2", "198.18.0.1", "again", req);
	memcpy(req, mac_bcast, 6);
	assert_int_equal(run(fx, &b, fx->tap0, req, n), 0);
	assert_int_equal(written(fx, fx->tap0), 1);
	assert_int_equal(b.c.extra[0], 1);
}

static void test_udp_echo_tun(void **state)
{
	struct fx *fx = *state;
	uint8_t req[FRAME_MAX], a6[16], b6[16];
	const uint8_t *r;
	struct frame_info fi;
	struct binding b;
	size_t n, len;

	addr(AF_INET6, "2001:db8::1", a6);
	addr(AF_INET6, "2001:db8::2", b6);
	bind_ok(HANDLER_ECHO, m_udp(34525, 7), PORT_TUN, NULL, &b);
	n = udp_req(fx->tun0, AF_INET6, "2001:db8::2", "2001:db8::1", "over tun", req);
	assert_int_equal(run(fx, &b, fx->tun0, req, n), 0);
	assert_int_equal(written(fx, fx->tun0), 1);
	r = reply_at(fx, fx->tun0, 0, &len, &fi);
	assert_int_equal(len, n);
	assert_false(fi.has_eth);
	assert_int_equal(fi.l3, L3_IPV6);
	assert_memory_equal(fi.ip6.src, a6, 16);
	assert_memory_equal(fi.ip6.dst, b6, 16);
	assert_int_equal(fi.ip6.hop_limit, 64);
	assert_int_equal(fi.udp.sport, 7);
	assert_int_equal(fi.udp.dport, 5000);
	assert_int_equal(fi.udp.checksum_status, CSUM_OK);
	assert_memory_equal(r + fi.payload_off, "over tun", 8);

	/* With packet information, the reply carries it too. */
	bind_ok(HANDLER_ECHO, m_udp(2048, 7), PORT_TUN, NULL, &b);
	n = udp_req(fx->tunpi, AF_INET, "198.18.0.2", "198.18.0.1", "pi", req);
	assert_int_equal(run(fx, &b, fx->tunpi, req, n), 0);
	r = reply_at(fx, fx->tunpi, 0, &len, &fi);
	assert_true(fi.has_pi);
	assert_int_equal(fi.pi_flags, 0);
	assert_int_equal(fi.pi_proto, ETHERTYPE_IPV4);
	assert_int_equal(fi.udp.sport, 7);
	assert_memory_equal(r + fi.payload_off, "pi", 2);
	assert_int_equal(b.c.extra[0], 1);
}

static void test_icmp_echo(void **state)
{
	struct fx *fx = *state;
	uint8_t req[FRAME_MAX], data[56];
	const uint8_t *r;
	struct frame_info fi;
	struct binding b;
	size_t n, len;

	frame_fill(data, sizeof(data), 9);
	bind_ok(HANDLER_ECHO, m_proto(2048, 1), PORT_TAP, NULL, &b);
	n = echo_req(fx->tap0, AF_INET, "198.18.0.2", "198.18.0.1", req);
	assert_int_equal(run(fx, &b, fx->tap0, req, n), 0);
	assert_int_equal(written(fx, fx->tap0), 1);
	r = reply_at(fx, fx->tap0, 0, &len, &fi);
	assert_int_equal(len, n);
	assert_memory_equal(fi.eth_dst, mac_k, 6);
	assert_memory_equal(fi.eth_src, mac_h, 6);
	assert_memory_equal(fi.ip4.src, ((uint8_t[4]){ 198, 18, 0, 1 }), 4);
	assert_memory_equal(fi.ip4.dst, ((uint8_t[4]){ 198, 18, 0, 2 }), 4);
	assert_int_equal(fi.l4, L4_ICMP);
	assert_int_equal(fi.icmp.type, 0);
	assert_int_equal(fi.icmp.code, 0);
	assert_true(fi.icmp.echo);
	assert_int_equal(fi.icmp.id, 0x4242);
	assert_int_equal(fi.icmp.seq, 7);
	assert_int_equal(fi.icmp.checksum_status, CSUM_OK);
	assert_int_equal(fi.payload_len, 4 + sizeof(data));
	assert_memory_equal(r + fi.payload_off + 4, data, sizeof(data));
	assert_int_equal(b.c.extra[0], 1);

	/* A reply (type 0) or any other type is not answered. */
	expect_silent(fx, &b, fx->tap0, r, len);
	req[14 + 20] = 13; /* Timestamp; the checksum no longer matters: nothing answers */
	expect_silent(fx, &b, fx->tap0, req, n);
}

/*
 * A reply's checksum is its request's, moved (UDP) or updated for the new
 * type and code (ICMP, RFC 1624), where the request's was verified; summed
 * otherwise. Every reply verifies: an odd-length UDP payload, an IPv4 UDP
 * request without a checksum (the reply gets one: the same value), an ICMP
 * request with a nonzero code, and an all-zero ICMP reply, where the update
 * says 0 and the builder sums it (0xffff).
 */
static void test_echo_reply_checksums(void **state)
{
	struct fx *fx = *state;
	uint8_t req[FRAME_MAX], zero[32] = { 0 };
	struct build_link l;
	struct build_ip ip;
	struct frame_info fi, rq;
	struct binding bu, bi;
	size_t n, len, i = 0;
	uint16_t c;

	bind_ok(HANDLER_ECHO, m_udp(2048, 7), PORT_TUN, NULL, &bu);
	bind_ok(HANDLER_ECHO, m_proto(2048, 1), PORT_TUN, NULL, &bi);

	n = udp_req(fx->tun0, AF_INET, "198.18.0.2", "198.18.0.1", "odd", req);
	frame_parse(req, n, port_frame_link(fx->tun0), 0, &rq);
	assert_int_equal(rq.udp.checksum_status, CSUM_OK);
	assert_int_equal(run(fx, &bu, fx->tun0, req, n), 0);
	reply_at(fx, fx->tun0, i++, &len, &fi);
	assert_int_equal(fi.udp.checksum_status, CSUM_OK);
	assert_int_equal(fi.udp.checksum, rq.udp.checksum);

	req[rq.l4_off + 6] = req[rq.l4_off + 7] = 0;
	assert_int_equal(run(fx, &bu, fx->tun0, req, n), 0);
	reply_at(fx, fx->tun0, i++, &len, &fi);
	assert_int_equal(fi.udp.checksum_status, CSUM_OK);
	assert_int_equal(fi.udp.checksum, rq.udp.checksum);

	req_addrs(fx->tun0, AF_INET, "198.18.0.2", "198.18.0.1", &l, &ip);
	n = (size_t)build_icmp_echo(req, FRAME_MAX, &l, &ip, false, 0x0101, 9, zero, 3);
	frame_parse(req, n, port_frame_link(fx->tun0), 0, &rq);
	req[rq.l4_off + 1] = 5; /* code 5, the checksum summed again for it */
	req[rq.l4_off + 2] = req[rq.l4_off + 3] = 0;
	c = csum_fold(csum_add(0, req + rq.l4_off, rq.l4_len));
	req[rq.l4_off + 2] = (uint8_t)(c >> 8);
	req[rq.l4_off + 3] = (uint8_t)c;
	assert_int_equal(run(fx, &bi, fx->tun0, req, n), 0);
	reply_at(fx, fx->tun0, i++, &len, &fi);
	assert_int_equal(fi.icmp.code, 0);
	assert_int_equal(fi.icmp.checksum_status, CSUM_OK);

	n = (size_t)build_icmp_echo(req, FRAME_MAX, &l, &ip, false, 0, 0, zero, sizeof(zero));
	assert_int_equal(run(fx, &bi, fx->tun0, req, n), 0);
	reply_at(fx, fx->tun0, i++, &len, &fi);
	assert_int_equal(fi.icmp.checksum_status, CSUM_OK);
	assert_int_equal(fi.icmp.checksum, 0xffff);
	assert_int_equal(written(fx, fx->tun0), i);
}

/*
 * An IPv6 UDP datagram to port 7 as a tun reads it, through a type 0
 * Routing header with one segment left to @final: its checksum covers
 * @final (RFC 8200 8.1), not the header's Destination Address.
 */
/* Sums the UDP checksum of routed_udp6()'s datagram @b (@n bytes) over @dst. */
static void fix_udp6_checksum(uint8_t *b, size_t n, const uint8_t dst[16])
{
	uint8_t *u = b + 40 + 24;
	size_t ulen = n - 40 - 24;
	uint16_t c;

	u[6] = u[7] = 0;
	c = csum_fold(csum_add(csum_pseudo6(b + 8, dst, 17, (uint32_t)ulen), u, ulen));
	u[6] = (uint8_t)(c >> 8);
	u[7] = (uint8_t)c;
}

static size_t routed_udp6(uint8_t *b, const uint8_t src[16], const uint8_t dst[16],
			  const uint8_t final[16], const char *text)
{
	size_t plen = strlen(text), ulen = 8 + plen;
	uint8_t *r = b + 40, *u = r + 24;
	uint16_t c;

	memset(b, 0, 40 + 24 + ulen);
	b[0] = 0x60;
	b[4] = (uint8_t)((24 + ulen) >> 8);
	b[5] = (uint8_t)(24 + ulen);
	b[6] = 43; /* Routing */
	b[7] = 64;
	memcpy(b + 8, src, 16);
	memcpy(b + 24, dst, 16);
	r[0] = 17;
	r[1] = 2; /* (2 + 1) * 8 bytes: one address */
	r[3] = 1; /* segments left */
	memcpy(r + 8, final, 16);
	u[0] = 1001 >> 8;
	u[1] = 1001 & 0xff;
	u[3] = 7;
	u[4] = (uint8_t)(ulen >> 8);
	u[5] = (uint8_t)ulen;
	memcpy(u + 8, text, plen);
	c = csum_fold(csum_add(csum_pseudo6(src, final, 17, (uint32_t)ulen), u, ulen));
	u[6] = (uint8_t)(c >> 8);
	u[7] = (uint8_t)c;
	return 40 + 24 + ulen;
}

/*
 * A request through a Routing header with segments left: its checksum,
 * over the final destination, is good, and the reply's (from the header's
 * Destination back to the source, no Routing header) is summed anew.
 */
static void test_echo_routed_ipv6(void **state)
{
	struct fx *fx = *state;
	uint8_t req[FRAME_MAX], a6[16], b6[16], c6[16];
	struct frame_info fi, rq;
	struct binding b;
	size_t n, len;

	addr(AF_INET6, "2001:db8::1", a6);
	addr(AF_INET6, "2001:db8::2", b6);
	addr(AF_INET6, "2001:db8:0:1::3", c6);
	bind_ok(HANDLER_ECHO, m_udp(0x86dd, 7), PORT_TUN, NULL, &b);
	n = routed_udp6(req, a6, b6, c6, "through a routing header");
	frame_parse(req, n, port_frame_link(fx->tun0), PARSE_STRICT, &rq);
	assert_int_equal(rq.malformed, MALFORMED_NONE);
	assert_int_equal(rq.udp.checksum_status, CSUM_OK);
	assert_true(rq.ip6.routed);
	/*
	 * Segments left: 2001:db8::2 is a waypoint, not the destination the
	 * datagram is for (RFC 8200 4.4); it was answered from 2001:db8::2.
	 */
	expect_silent(fx, &b, fx->tun0, req, n);
	/* So with a type paird knows no final destination of (RPL, 3), checksum right. */
	req[40 + 2] = 3;
	fix_udp6_checksum(req, n, b6);
	frame_parse(req, n, port_frame_link(fx->tun0), PARSE_STRICT, &rq);
	assert_int_equal(rq.malformed, MALFORMED_NONE);
	assert_false(rq.ip6.routed);
	expect_silent(fx, &b, fx->tun0, req, n);
	assert_int_equal(fx->fi.udp.checksum_status, CSUM_OK);

	/* None left: the datagram is at its final destination, and answered. */
	n = routed_udp6(req, a6, b6, c6, "through a routing header");
	req[40 + 3] = 0;
	fix_udp6_checksum(req, n, b6);
	assert_int_equal(run(fx, &b, fx->tun0, req, n), 0);
	reply_at(fx, fx->tun0, 0, &len, &fi);
	assert_int_equal(fi.udp.checksum_status, CSUM_OK);
	assert_false(fi.ip6.routed);
	assert_memory_equal(fi.ip6.src, b6, 16);
	assert_memory_equal(fi.ip6.dst, a6, 16);
}

static void test_icmpv6_echo(void **state)
{
	struct fx *fx = *state;
	uint8_t req[FRAME_MAX], data[56], a6[16], b6[16];
	const uint8_t *r;
	struct frame_info fi;
	struct binding b;
	size_t n, len;

	frame_fill(data, sizeof(data), 9);
	addr(AF_INET6, "2001:db8::1", a6);
	addr(AF_INET6, "2001:db8::2", b6);
	bind_ok(HANDLER_ECHO, m_proto(34525, 58), PORT_TAP, NULL, &b);
	n = echo_req(fx->tap0, AF_INET6, "2001:db8::2", "2001:db8::1", req);
	assert_int_equal(run(fx, &b, fx->tap0, req, n), 0);
	assert_int_equal(written(fx, fx->tap0), 1);
	r = reply_at(fx, fx->tap0, 0, &len, &fi);
	assert_memory_equal(fi.eth_dst, mac_k, 6);
	assert_memory_equal(fi.eth_src, mac_h, 6);
	assert_memory_equal(fi.ip6.src, a6, 16);
	assert_memory_equal(fi.ip6.dst, b6, 16);
	assert_int_equal(fi.l4, L4_ICMPV6);
	assert_int_equal(fi.icmp.type, 129);
	assert_int_equal(fi.icmp.id, 0x4242);
	assert_int_equal(fi.icmp.seq, 7);
	assert_int_equal(fi.icmp.checksum_status, CSUM_OK);
	assert_memory_equal(r + fi.payload_off + 4, data, sizeof(data));

	/* A reply is not answered; an NS reaching the same node is not echo's either. */
	expect_silent(fx, &b, fx->tap0, r, len);
	n = hex_decode(ns, req, sizeof(req));
	expect_silent(fx, &b, fx->tap0, req, n);

	/* Over a tun with packet information. */
	n = echo_req(fx->tunpi, AF_INET6, "2001:db8::2", "2001:db8::1", req);
	assert_int_equal(run(fx, &b, fx->tunpi, req, n), 0);
	r = reply_at(fx, fx->tunpi, 0, &len, &fi);
	assert_int_equal(fi.pi_proto, ETHERTYPE_IPV6);
	assert_int_equal(fi.icmp.type, 129);
	assert_memory_equal(fi.ip6.dst, b6, 16);
	assert_int_equal(fi.icmp.checksum_status, CSUM_OK);
	assert_int_equal(b.c.extra[0], 2);
}

/*
 * Group, unspecified, loopback, reserved or IPv4-mapped sources, and group
 * destinations (IP or Ethernet), get no answer.
 */
static void test_echo_no_reply_to_groups(void **state)
{
	static const struct {
		int family;
		const char *src, *dst;
	} bad[] = {
		{ AF_INET, "255.255.255.255", "198.18.0.1" },
		{ AF_INET, "224.0.0.5", "198.18.0.1" },
		{ AF_INET, "239.1.2.3", "198.18.0.1" },
		{ AF_INET, "0.0.0.0", "198.18.0.1" },
		{ AF_INET, "198.18.0.2", "255.255.255.255" },
		{ AF_INET, "198.18.0.2", "224.0.0.1" },
		{ AF_INET6, "ff02::1", "2001:db8::1" },
		{ AF_INET6, "::", "2001:db8::1" },
		{ AF_INET6, "2001:db8::2", "ff02::1" },
		/* Addresses no datagram on a link comes from (RFC 1122 3.2.1.3, RFC 4291). */
		{ AF_INET, "127.0.0.1", "198.18.0.1" },
		{ AF_INET, "198.18.0.2", "127.0.0.1" },
		{ AF_INET, "0.1.2.3", "198.18.0.1" },
		{ AF_INET, "240.0.0.1", "198.18.0.1" },
		{ AF_INET6, "::1", "2001:db8::1" },
		{ AF_INET6, "2001:db8::2", "::1" },
		{ AF_INET6, "::ffff:198.18.0.2", "2001:db8::1" },
	};
	struct fx *fx = *state;
	uint8_t req[FRAME_MAX];
	struct binding u4, u6, i4, i6;
	size_t n;

	bind_ok(HANDLER_ECHO, m_udp(2048, 7), PORT_TAP, NULL, &u4);
	bind_ok(HANDLER_ECHO, m_udp(34525, 7), PORT_TAP, NULL, &u6);
	bind_ok(HANDLER_ECHO, m_proto(2048, 1), PORT_TAP, NULL, &i4);
	bind_ok(HANDLER_ECHO, m_proto(34525, 58), PORT_TAP, NULL, &i6);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		bool v4 = bad[i].family == AF_INET;

		n = udp_req(fx->tap0, bad[i].family, bad[i].src, bad[i].dst, "x", req);
		assert_int_equal(run(fx, v4 ? &u4 : &u6, fx->tap0, req, n), 0);
		n = echo_req(fx->tap0, bad[i].family, bad[i].src, bad[i].dst, req);
		assert_int_equal(run(fx, v4 ? &i4 : &i6, fx->tap0, req, n), 0);
		if (written(fx, fx->tap0) != 0)
			fail_msg("answered %s -> %s", bad[i].src, bad[i].dst);
	}

	/* A unicast IP source behind a group Ethernet source. */
	n = udp_req(fx->tap0, AF_INET, "198.18.0.2", "198.18.0.1", "x", req);
	req[6] = 0x01;
	assert_int_equal(run(fx, &u4, fx->tap0, req, n), 0);
	n = echo_req(fx->tap0, AF_INET6, "2001:db8::2", "2001:db8::1", req);
	req[6] = 0x33;
	assert_int_equal(run(fx, &i6, fx->tap0, req, n), 0);
	assert_int_equal(written(fx, fx->tap0), 0);

	/*
	 * An IP destination behind a group Ethernet destination: a subnet's
	 * broadcast (ping -b 198.18.0.255) looks unicast here, and was
	 * answered from 198.18.0.255 and from the kernel side's own MAC.
	 */
	for (int g = 0; g < 2; g++) {
		static const uint8_t mac_mcast4[6] = { 0x01, 0x00, 0x5e, 0, 0, 0x01 };
		static const uint8_t mac_mcast6[6] = { 0x33, 0x33, 0, 0, 0, 0x01 };

		n = udp_req(fx->tap0, AF_INET, "198.18.0.2", "198.18.0.255", "x", req);
		memcpy(req, g ? mac_mcast4 : mac_bcast, 6);
		assert_int_equal(run(fx, &u4, fx->tap0, req, n), 0);
		n = echo_req(fx->tap0, AF_INET, "198.18.0.2", "198.18.0.255", req);
		memcpy(req, g ? mac_mcast4 : mac_bcast, 6);
		assert_int_equal(run(fx, &i4, fx->tap0, req, n), 0);
		n = udp_req(fx->tap0, AF_INET6, "2001:db8::2", "2001:db8::1", "x", req);
		memcpy(req, g ? mac_mcast6 : mac_bcast, 6);
		assert_int_equal(run(fx, &u6, fx->tap0, req, n), 0);
		n = echo_req(fx->tap0, AF_INET6, "2001:db8::2", "2001:db8::1", req);
		memcpy(req, g ? mac_mcast6 : mac_bcast, 6);
		assert_int_equal(run(fx, &i6, fx->tap0, req, n), 0);
		if (written(fx, fx->tap0) != 0)
			fail_msg("answered a request to the Ethernet group address %d", g);
	}
	assert_int_equal(u4.c.extra[0] + u6.c.extra[0] + i4.c.extra[0] + i6.c.extra[0], 0);
}

static void fix_ipv4_checksum(uint8_t *ip)
{
	uint16_t c;

	ip[10] = ip[11] = 0;
	c = csum_fold(csum_add(0, ip, 20));
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
}

/* Only whole, well-formed requests of the binding's own layer are answered. */
static void test_echo_ignores_bad_frames(void **state)
{
	struct fx *fx = *state;
	uint8_t req[FRAME_MAX];
	struct binding u4, i4;
	size_t n;

	bind_ok(HANDLER_ECHO, m_udp(2048, 7), PORT_TAP, NULL, &u4);
	bind_ok(HANDLER_ECHO, m_proto(2048, 1), PORT_TAP, NULL, &i4);

	/* A wrong UDP checksum (RFC 1122 4.1.3.4). */
	n = udp_req(fx->tap0, AF_INET, "198.18.0.2", "198.18.0.1", "ping", req);
	req[n - 1] ^= 0xff;
	assert_int_equal(run(fx, &u4, fx->tap0, req, n), 0);
	assert_int_equal(fx->fi.udp.checksum_status, CSUM_BAD);

	/* Source port 0: no reply expected (RFC 768). */
	n = udp_req_from(fx->tap0, AF_INET, "198.18.0.2", "198.18.0.1", 0, "ping", req);
	assert_int_equal(run(fx, &u4, fx->tap0, req, n), 0);
	assert_int_equal(fx->fi.udp.sport, 0);

	/*
	 * From a port whose service answers every datagram (echo, daytime,
	 * quote, chargen, time): the two would answer each other for good.
	 */
	for (size_t i = 0; i < 5; i++) {
		static const uint16_t loops[] = { 7, 13, 17, 19, 37 };

		n = udp_req_from(fx->tap0, AF_INET, "198.18.0.3", "198.18.0.1", loops[i], "ping",
				 req);
		assert_int_equal(run(fx, &u4, fx->tap0, req, n), 0);
		assert_int_equal(fx->fi.udp.checksum_status, CSUM_OK);
	}

	/* A wrong IPv4 header checksum (RFC 1122 3.2.1.2). */
	n = udp_req(fx->tap0, AF_INET, "198.18.0.2", "198.18.0.1", "ping", req);
	req[14 + 8] = 3; /* TTL */
	assert_int_equal(run(fx, &u4, fx->tap0, req, n), 0);
	assert_int_equal(fx->fi.ip4.checksum_status, CSUM_BAD);

	/* A wrong ICMP checksum. */
	n = echo_req(fx->tap0, AF_INET, "198.18.0.2", "198.18.0.1", req);
	req[n - 1] ^= 0xff;
	assert_int_equal(run(fx, &i4, fx->tap0, req, n), 0);
	assert_int_equal(fx->fi.icmp.checksum_status, CSUM_BAD);

	/* A first fragment (MF set), header checksum right. */
	n = udp_req(fx->tap0, AF_INET, "198.18.0.2", "198.18.0.1", "ping", req);
	req[14 + 6] |= 0x20;
	fix_ipv4_checksum(req + 14);
	assert_int_equal(run(fx, &u4, fx->tap0, req, n), 0);
	assert_true(fx->fi.fragment);

	/* Cut short: the IP total length claims more than was received. */
	n = udp_req(fx->tap0, AF_INET, "198.18.0.2", "198.18.0.1", "ping", req);
	assert_int_equal(run(fx, &u4, fx->tap0, req, n - 2), 0);
	assert_int_not_equal(fx->fi.malformed, MALFORMED_NONE);

	/* A UDP datagram handed to the ICMP binding, an ICMP one to the UDP binding. */
	n = udp_req(fx->tap0, AF_INET, "198.18.0.2", "198.18.0.1", "ping", req);
	assert_int_equal(run(fx, &i4, fx->tap0, req, n), 0);
	n = echo_req(fx->tap0, AF_INET, "198.18.0.2", "198.18.0.1", req);
	assert_int_equal(run(fx, &u4, fx->tap0, req, n), 0);

	assert_int_equal(written(fx, fx->tap0), 0);
	assert_int_equal(u4.c.extra[0] + i4.c.extra[0], 0);

	/* From the binding's own port: another host with the same echo would answer. */
	{
		struct binding u9;
		struct build_link l;
		struct build_ip ip;
		ssize_t m;

		bind_ok(HANDLER_ECHO, m_udp(2048, 9000), PORT_TAP, NULL, &u9);
		req_addrs(fx->tap0, AF_INET, "198.18.0.3", "198.18.0.1", &l, &ip);
		m = build_udp(req, FRAME_MAX, &l, &ip, 9000, 9000, (const uint8_t *)"x", 1);
		assert_true(m > 0);
		assert_int_equal(run(fx, &u9, fx->tap0, req, (size_t)m), 0);
		assert_int_equal(fx->fi.udp.checksum_status, CSUM_OK);
		assert_int_equal(written(fx, fx->tap0), 0);
		/* From another port it is answered: the test tests what it says. */
		m = build_udp(req, FRAME_MAX, &l, &ip, 9001, 9000, (const uint8_t *)"x", 1);
		assert_int_equal(run(fx, &u9, fx->tap0, req, (size_t)m), 0);
		assert_int_equal(written(fx, fx->tap0), 1);
	}
}

static void test_echo_write_error(void **state)
{
	struct fx *fx = *state;
	uint8_t req[FRAME_MAX];
	struct binding b;
	size_t n;

	bind_ok(HANDLER_ECHO, m_udp(2048, 7), PORT_TAP, NULL, &b);
	n = udp_req(fx->tap0, AF_INET, "198.18.0.2", "198.18.0.1", "ping", req);
	memio_inject(fx->m, MEMIO_WRITE, EIO);
	assert_int_equal(run(fx, &b, fx->tap0, req, n), -EIO);
	assert_int_equal(b.c.extra[0], 0);
	assert_int_equal(written(fx, fx->tap0), 0);
	/* The next one goes out. */
	assert_int_equal(run(fx, &b, fx->tap0, req, n), 0);
	assert_int_equal(b.c.extra[0], 1);
}

/* --- ARP --- */

static void test_arp_reply(void **state)
{
	struct fx *fx = *state;
	uint8_t req[FRAME_MAX], want[FRAME_MAX];
	const uint8_t *r;
	struct frame_info fi;
	struct binding b;
	size_t n, len, wlen;

	bind_ok(HANDLER_ARP_REPLY, m_eth(2054), PORT_TAP,
		"{\"addresses\": [\"198.18.0.9\", \"198.18.0.1\"], \"mac\": \"02:00:00:00:00:01\"}",
		&b);
	n = hex_decode(arp_request, req, sizeof(req));
	assert_int_equal(run(fx, &b, fx->tap0, req, n), 0);
	assert_int_equal(written(fx, fx->tap0), 1);
	assert_int_equal(b.c.extra[0], 1);
	r = reply_at(fx, fx->tap0, 0, &len, &fi);
	wlen = hex_decode(arp_reply_want, want, sizeof(want));
	assert_int_equal(len, wlen);
	assert_memory_equal(r, want, wlen);

	/* Not listed: no answer. */
	req[14 + 27] = 7; /* tpa 198.18.0.7 */
	expect_silent(fx, &b, fx->tap0, req, n);
	/* A reply (op 2) asks nothing. */
	n = hex_decode(arp_request, req, sizeof(req));
	req[14 + 7] = 2;
	expect_silent(fx, &b, fx->tap0, req, n);
	/* An announcement (RFC 5227: sender = target) asks nothing either. */
	n = hex_decode(arp_request, req, sizeof(req));
	req[14 + 17] = 1; /* spa 198.18.0.1 */
	expect_silent(fx, &b, fx->tap0, req, n);
	/* Not Ethernet/IPv4 (hlen 8). */
	n = hex_decode(arp_request, req, sizeof(req));
	req[14 + 4] = 8;
	expect_silent(fx, &b, fx->tap0, req, n);
	/* Cut short. */
	n = hex_decode(arp_request, req, sizeof(req));
	expect_silent(fx, &b, fx->tap0, req, n - 1);

	/* A probe (sender 0.0.0.0, RFC 5227 2.1.1) is answered, to 0.0.0.0 at its sender. */
	n = hex_decode(arp_request, req, sizeof(req));
	memset(req + 14 + 14, 0, 4);
	assert_int_equal(run(fx, &b, fx->tap0, req, n), 0);
	assert_int_equal(written(fx, fx->tap0), 2);
	reply_at(fx, fx->tap0, 1, &len, &fi);
	assert_int_equal(fi.arp.op, 2);
	assert_memory_equal(fi.arp.tpa, ((uint8_t[4]){ 0, 0, 0, 0 }), 4);
	assert_memory_equal(fi.arp.tha, mac_k, 6);
	assert_memory_equal(fi.eth_dst, mac_k, 6);
}

static void test_arp_reply_port_mac(void **state)
{
	struct fx *fx = *state;
	uint8_t req[FRAME_MAX], mac[6];
	struct frame_info fi;
	struct binding b;
	size_t n, len;

	/* Without "mac", the answer claims the port's peer MAC, never the tap's own. */
	assert_true(port_peer_mac(fx->tap0, mac));
	assert_memory_not_equal(mac, port_link(fx->tap0)->mac, 6);
	assert_int_equal(mac[0] & 3, 2); /* unicast, locally administered */
	bind_ok(HANDLER_ARP_REPLY, m_eth(2054), PORT_TAP, "{\"addresses\": [\"198.18.0.1\"]}", &b);
	n = hex_decode(arp_request, req, sizeof(req));
	assert_int_equal(run(fx, &b, fx->tap0, req, n), 0);
	reply_at(fx, fx->tap0, 0, &len, &fi);
	assert_int_equal(len, 60);
	assert_memory_equal(fi.eth_src, mac, 6);
	assert_memory_equal(fi.eth_dst, mac_k, 6);
	assert_memory_equal(fi.arp.sha, mac, 6);
	assert_memory_equal(fi.arp.spa, ((uint8_t[4]){ 198, 18, 0, 1 }), 4);
	assert_memory_equal(fi.arp.tha, mac_k, 6);
	assert_memory_equal(fi.arp.tpa, ((uint8_t[4]){ 198, 18, 0, 2 }), 4);

	memio_inject(fx->m, MEMIO_WRITE, EIO);
	assert_int_equal(run(fx, &b, fx->tap0, req, n), -EIO);
	assert_int_equal(b.c.extra[0], 1);
}

/* --- NDP --- */

static void test_ndp_reply(void **state)
{
	struct fx *fx = *state;
	uint8_t req[FRAME_MAX], want[FRAME_MAX];
	const uint8_t *r;
	struct frame_info fi;
	struct binding b;
	size_t n, len, wlen;

	bind_ok(HANDLER_NDP_REPLY, m_proto(34525, 58), PORT_TAP,
		"{\"addresses\": [\"2001:db8::1\"], \"mac\": \"02:00:00:00:00:01\"}", &b);

	/* A multicast solicitation, then a unicast one (NUD): the same answer. */
	wlen = hex_decode(na_want, want, sizeof(want));
	n = hex_decode(ns, req, sizeof(req));
	assert_int_equal(run(fx, &b, fx->tap0, req, n), 0);
	n = hex_decode(ns_nud, req, sizeof(req));
	assert_int_equal(run(fx, &b, fx->tap0, req, n), 0);
	assert_int_equal(written(fx, fx->tap0), 2);
	for (size_t i = 0; i < 2; i++) {
		r = reply_at(fx, fx->tap0, i, &len, &fi);
		assert_int_equal(len, wlen);
		assert_memory_equal(r, want, wlen);
		assert_int_equal(fi.icmp.checksum_status, CSUM_OK);
	}

	/* DAD: from ::, answered to all-nodes with S=0. */
	n = hex_decode(ns_dad, req, sizeof(req));
	assert_int_equal(run(fx, &b, fx->tap0, req, n), 0);
	assert_int_equal(written(fx, fx->tap0), 3);
	r = reply_at(fx, fx->tap0, 2, &len, &fi);
	wlen = hex_decode(na_dad_want, want, sizeof(want));
	assert_int_equal(len, wlen);
	assert_memory_equal(r, want, wlen);
	assert_int_equal(b.c.extra[0], 3);
}

/* Recomputes the ICMPv6 checksum of a @len-byte Ethernet/IPv6 frame without extension headers. */
static void fix_icmpv6_checksum(uint8_t *frame, size_t len)
{
	uint8_t *ip = frame + 14, *icmp = ip + 40;
	size_t mlen = len - 14 - 40;
	uint16_t c;

	icmp[2] = icmp[3] = 0;
	c = csum_fold(csum_add(csum_pseudo6(ip + 8, ip + 24, 58, (uint32_t)mlen), icmp, mlen));
	icmp[2] = (uint8_t)(c >> 8);
	icmp[3] = (uint8_t)c;
}

static void test_ndp_reply_ignores(void **state)
{
	static const char *const frames[] = { ns_other, ns_hop64, ns_optlen0, ns_dad_slla,
					      ns_dad_unicast };
	struct fx *fx = *state;
	uint8_t req[FRAME_MAX];
	struct binding b;
	size_t n;

	bind_ok(HANDLER_NDP_REPLY, m_proto(34525, 58), PORT_TAP,
		"{\"addresses\": [\"2001:db8::1\"]}", &b);
	for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); i++) {
		n = hex_decode(frames[i], req, sizeof(req));
		assert_int_equal(run(fx, &b, fx->tap0, req, n), 0);
		if (written(fx, fx->tap0) != 0)
			fail_msg("answered frame %zu", i);
	}
	/* A bad checksum. */
	n = hex_decode(ns, req, sizeof(req));
	req[n - 1] ^= 1;
	expect_silent(fx, &b, fx->tap0, req, n);
	assert_int_equal(fx->fi.icmp.checksum_status, CSUM_BAD);
	/* A non-zero code, checksum right. */
	n = hex_decode(ns, req, sizeof(req));
	req[14 + 40 + 1] = 1;
	fix_icmpv6_checksum(req, n);
	expect_silent(fx, &b, fx->tap0, req, n);
	assert_int_equal(fx->fi.icmp.checksum_status, CSUM_OK);
	/* A message of 20 bytes, under the 24 of RFC 4861 7.1.1, checksum right. */
	n = hex_decode(ns_nud, req, sizeof(req));
	req[14 + 5] = 20; /* payload length */
	n -= 4;
	fix_icmpv6_checksum(req, n);
	expect_silent(fx, &b, fx->tap0, req, n);
	assert_int_equal(fx->fi.malformed, MALFORMED_NONE);
	assert_int_equal(fx->fi.icmp.checksum_status, CSUM_OK);
	assert_int_equal(fx->fi.l4_len, 20);
	/*
	 * An atomic fragment (a Fragment header, offset 0, M clear: RFC 6946
	 * makes it a whole packet), checksum right (the pseudo-header is the
	 * same): RFC 6980 5 has NDP messages with a Fragment header ignored.
	 */
	n = hex_decode(ns, req, sizeof(req));
	memmove(req + 14 + 40 + 8, req + 14 + 40, n - 14 - 40);
	memcpy(req + 14 + 40, ((uint8_t[8]){ 58, 0, 0, 0, 0, 0, 0, 1 }), 8);
	req[14 + 5] += 8; /* payload length */
	req[14 + 6] = 44; /* next header: Fragment */
	n += 8;
	expect_silent(fx, &b, fx->tap0, req, n);
	assert_int_equal(fx->fi.malformed, MALFORMED_NONE);
	assert_false(fx->fi.fragment);
	assert_int_equal(fx->fi.icmp.type, 135);
	assert_int_equal(fx->fi.icmp.checksum_status, CSUM_OK);
	/* The same frames with the changes undone are answered: the tests test what they say. */
	n = hex_decode(ns_nud, req, sizeof(req));
	fix_icmpv6_checksum(req, n);
	assert_int_equal(run(fx, &b, fx->tap0, req, n), 0);
	assert_int_equal(written(fx, fx->tap0), 1);
	assert_int_equal(b.c.extra[0], 1);
	/* An echo request at the same node is not ndp_reply's. */
	n = echo_req(fx->tap0, AF_INET6, "2001:db8::2", "2001:db8::1", req);
	expect_silent(fx, &b, fx->tap0, req, n);
}

static void test_ndp_reply_port_mac(void **state)
{
	struct fx *fx = *state;
	uint8_t req[FRAME_MAX], a6[16], b6[16], mac[6];
	const uint8_t *r;
	struct frame_info fi;
	struct binding b;
	size_t n, len;

	assert_true(port_peer_mac(fx->tap0, mac));

	addr(AF_INET6, "2001:db8::1", a6);
	addr(AF_INET6, "2001:db8::2", b6);
	bind_ok(HANDLER_NDP_REPLY, m_proto(34525, 58), PORT_TAP,
		"{\"addresses\": [\"2001:db8::7\", \"2001:db8::1\"]}", &b);
	n = hex_decode(ns, req, sizeof(req));
	assert_int_equal(run(fx, &b, fx->tap0, req, n), 0);
	r = reply_at(fx, fx->tap0, 0, &len, &fi);
	assert_memory_equal(fi.eth_src, mac, 6);
	assert_memory_equal(fi.eth_dst, mac_k, 6);
	assert_memory_equal(fi.ip6.src, a6, 16);
	assert_memory_equal(fi.ip6.dst, b6, 16);
	assert_int_equal(fi.ip6.hop_limit, 255);
	assert_int_equal(fi.icmp.type, 136);
	assert_int_equal(r[fi.l4_off + 4], 0x60); /* S and O */
	assert_memory_equal(r + fi.l4_off + 8, a6, 16);
	assert_int_equal(r[fi.l4_off + 24], 2);
	assert_int_equal(r[fi.l4_off + 25], 1);
	assert_memory_equal(r + fi.l4_off + 26, mac, 6);

	memio_inject(fx->m, MEMIO_WRITE, EIO);
	assert_int_equal(run(fx, &b, fx->tap0, req, n), -EIO);
	assert_int_equal(b.c.extra[0], 1);
}

/* --- forward, count, drop --- */

static void test_forward(void **state)
{
	struct fx *fx = *state;
	uint8_t frame[FRAME_MAX];
	const uint8_t *w;
	struct binding b;
	size_t n, len;

	n = udp_req(fx->tap0, AF_INET, "198.18.0.2", "198.18.0.1", "through", frame);
	bind_ok(HANDLER_FORWARD, m_root(), PORT_TAP, "{\"port\": \"tap1\"}", &b);
	assert_int_equal(run(fx, &b, fx->tap0, frame, n), 0);
	assert_int_equal(written(fx, fx->tap1), 1);
	assert_int_equal(written(fx, fx->tap0), 0);
	w = memio_written(fx->m, "tap1", 0, &len);
	assert_int_equal(len, n);
	assert_memory_equal(w, frame, n);
	assert_int_equal(b.c.extra[0], 1);
	assert_int_equal(port_counters(fx->tap1)->tx_frames, 1);

	/* Malformed frames go through unchanged as well: forward is a wire. */
	assert_int_equal(run(fx, &b, fx->tap0, frame, 5), 0);
	w = memio_written(fx->m, "tap1", 1, &len);
	assert_int_equal(len, 5);
	assert_memory_equal(w, frame, 5);
	assert_int_equal(b.c.extra[0], 2);

	/* The target's write error comes back. */
	memio_inject(fx->m, MEMIO_WRITE, EIO);
	assert_int_equal(run(fx, &b, fx->tap0, frame, n), -EIO);
	assert_int_equal(b.c.extra[0], 2);

	/* Missing, differently framed, or itself. */
	bind_ok(HANDLER_FORWARD, m_root(), PORT_TAP, "{\"port\": \"nosuch\"}", &b);
	assert_int_equal(run(fx, &b, fx->tap0, frame, n), -ENODEV);
	bind_ok(HANDLER_FORWARD, m_root(), PORT_TAP, "{\"port\": \"tun0\"}", &b);
	assert_int_equal(run(fx, &b, fx->tap0, frame, n), -EPROTOTYPE);
	bind_ok(HANDLER_FORWARD, m_root(), PORT_TAP, "{\"port\": \"tap0\"}", &b);
	assert_int_equal(run(fx, &b, fx->tap0, frame, n), -ELOOP);
	assert_int_equal(written(fx, fx->tap0), 0);
	assert_int_equal(written(fx, fx->tun0), 0);

	/* A tun with packet information frames differently from a plain one. */
	n = udp_req(fx->tun0, AF_INET, "198.18.0.2", "198.18.0.1", "tun", frame);
	bind_ok(HANDLER_FORWARD, m_root(), PORT_TUN, "{\"port\": \"tunpi\"}", &b);
	assert_int_equal(run(fx, &b, fx->tun0, frame, n), -EPROTOTYPE);
	assert_int_equal(written(fx, fx->tunpi), 0);
	assert_int_equal(b.c.extra[0], 0);
}

static void test_forward_without_lookup(void **state)
{
	struct fx *fx = *state;
	uint8_t frame[64] = { 0 };
	struct frame_info fi;
	struct dispatch_ctx dc = { .port = fx->tap0,
				   .frame = frame,
				   .len = sizeof(frame),
				   .fi = &fi,
				   .scratch = fx->scratch };
	struct binding b;

	frame_parse(frame, sizeof(frame), LINK_ETHERNET, 0, &fi);
	bind_ok(HANDLER_FORWARD, m_root(), PORT_TAP, "{\"port\": \"tap1\"}", &b);
	assert_int_equal(b.ops->run(&b, &dc), -ENODEV);
}

static void test_count_drop_run(void **state)
{
	struct fx *fx = *state;
	uint8_t frame[FRAME_MAX];
	struct binding c, d;
	size_t n;

	bind_ok(HANDLER_COUNT, m_root(), PORT_TAP, NULL, &c);
	bind_ok(HANDLER_DROP, m_root(), PORT_TAP, NULL, &d);
	n = udp_req(fx->tap0, AF_INET, "198.18.0.2", "198.18.0.1", "x", frame);
	assert_int_equal(run(fx, &c, fx->tap0, frame, n), 0);
	assert_int_equal(run(fx, &d, fx->tap0, frame, n), 0);
	assert_int_equal(run(fx, &d, fx->tap0, frame, 3), 0);
	assert_int_equal(written(fx, fx->tap0), 0);
	/* The dispatcher counts packets and bytes; the handlers add nothing. */
	assert_int_equal(c.c.packets + c.c.bytes + c.c.errors + c.c.extra[0], 0);
	assert_int_equal(d.c.packets + d.c.bytes + d.c.errors + d.c.extra[0], 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_configure_count_drop),
		cmocka_unit_test(test_configure_forward),
		cmocka_unit_test(test_configure_echo),
		cmocka_unit_test(test_configure_arp_reply),
		cmocka_unit_test(test_configure_arp_reply_max),
		cmocka_unit_test(test_configure_ndp_reply),
		T(test_udp_echo_tap),
		T(test_udp_echo_tun),
		T(test_icmp_echo),
		T(test_echo_reply_checksums),
		T(test_echo_routed_ipv6),
		T(test_icmpv6_echo),
		T(test_echo_no_reply_to_groups),
		T(test_echo_ignores_bad_frames),
		T(test_echo_write_error),
		T(test_arp_reply),
		T(test_arp_reply_port_mac),
		T(test_ndp_reply),
		T(test_ndp_reply_ignores),
		T(test_ndp_reply_port_mac),
		T(test_forward),
		T(test_forward_without_lookup),
		T(test_count_drop_run),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
