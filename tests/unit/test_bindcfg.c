// SPDX-License-Identifier: MIT
/*
 * Unit tests of service/bindcfg.c: binding requests as the API and the
 * state file give them to bindcfg_from_json(), every rule with the field
 * its fault names (match key ranges and types, unknown keys, udp_port only
 * under ip_protocol 17, ip_protocol only under an IP ethertype, a tun's
 * missing Ethernet layer, handlers that cannot live at a node, unknown
 * handlers, each handler's options, the id of the state file, names), the
 * normalized form bindcfg_to_json() writes back, and the round trip
 * to_json → from_json that a restart goes through.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../service/bindcfg.h"
#include "../../service/log.h"
#include "support.h"

static const char *type_name(enum port_type t)
{
	return t == PORT_TAP ? "tap" : "tun";
}

/* Reads @spec for a @t port; 0 and @out filled, or fails the test. */
static void accept_ok(enum port_type t, bool allow_id, const char *spec, struct binding_config *out)
{
	struct fault f = FAULT_INIT;
	json_t *doc = json_sq(spec);
	int ret = bindcfg_from_json(doc, t, allow_id, out, &f);

	json_decref(doc);
	if (ret != 0)
		fail_msg("%s on %s: refused (%d), field %s: %s", spec, type_name(t), ret, f.field,
			 f.detail);
	assert_int_equal(f.kind, FAULT_NONE);
}

/*
 * Asserts that @spec is refused for a @t port with a fault of @kind on
 * @field ("" for none); returns the fault for more checks.
 */
static struct fault refuse_kind(enum port_type t, bool allow_id, const char *spec,
				enum fault_kind kind, const char *field)
{
	struct binding_config out;
	struct fault f = FAULT_INIT;
	json_t *doc = json_sq(spec);
	int ret = bindcfg_from_json(doc, t, allow_id, &out, &f);

	json_decref(doc);
	if (ret >= 0)
		fail_msg("%s on %s: accepted, expected a fault on %s", spec, type_name(t), field);
	if (f.kind != kind || strcmp(f.field, field) != 0)
		fail_msg("%s on %s: fault kind %d on \"%s\" (%s), expected kind %d on \"%s\"", spec,
			 type_name(t), f.kind, f.field, f.detail, kind, field);
	assert_true(f.detail[0] != '\0');
	return f;
}

static struct fault refuse(enum port_type t, const char *spec, const char *field)
{
	return refuse_kind(t, false, spec, FAULT_INVALID, field);
}

struct refusal {
	enum port_type type;
	const char *spec;
	const char *field;
};

static void refuse_all(const struct refusal *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		refuse(r[i].type, r[i].spec, r[i].field);
}

/* --- the match --- */

static void test_match_ranges_and_types(void **state)
{
	static const struct refusal r[] = {
		{ PORT_TAP, "{'match':{'ethertype':-1},'handler':'count'}", "match.ethertype" },
		{ PORT_TAP, "{'match':{'ethertype':65536},'handler':'count'}", "match.ethertype" },
		{ PORT_TAP, "{'match':{'ethertype':'2048'},'handler':'count'}", "match.ethertype" },
		{ PORT_TAP, "{'match':{'ethertype':2048.0},'handler':'count'}", "match.ethertype" },
		{ PORT_TAP, "{'match':{'ethertype':true},'handler':'count'}", "match.ethertype" },
		{ PORT_TAP, "{'match':{'ethertype':null},'handler':'count'}", "match.ethertype" },
		{ PORT_TAP, "{'match':{'ethertype':[2048]},'handler':'count'}", "match.ethertype" },
		{ PORT_TAP, "{'match':{'ethertype':2048,'ip_protocol':-1},'handler':'count'}",
		  "match.ip_protocol" },
		{ PORT_TAP, "{'match':{'ethertype':2048,'ip_protocol':256},'handler':'count'}",
		  "match.ip_protocol" },
		{ PORT_TAP, "{'match':{'ethertype':2048,'ip_protocol':'udp'},'handler':'count'}",
		  "match.ip_protocol" },
		{ PORT_TAP, "{'match':{'ethertype':2048,'ip_protocol':17.5},'handler':'count'}",
		  "match.ip_protocol" },
		{ PORT_TAP,
		  "{'match':{'ethertype':2048,'ip_protocol':17,'udp_port':-1},'handler':'count'}",
		  "match.udp_port" },
		{ PORT_TAP,
		  "{'match':{'ethertype':2048,'ip_protocol':17,'udp_port':65536},"
		  "'handler':'count'}",
		  "match.udp_port" },
		{ PORT_TAP,
		  "{'match':{'ethertype':2048,'ip_protocol':17,'udp_port':'53'},'handler':'count'}",
		  "match.udp_port" },
		{ PORT_TUN, "{'match':{'ip_protocol':300},'handler':'count'}",
		  "match.ip_protocol" },
		{ PORT_TUN, "{'match':{'ip_protocol':17,'udp_port':70000},'handler':'count'}",
		  "match.udp_port" },
		{ PORT_TAP, "{'match':[],'handler':'count'}", "match" },
		{ PORT_TAP, "{'match':'ethertype=2048','handler':'count'}", "match" },
		{ PORT_TAP, "{'match':null,'handler':'count'}", "match" },
		{ PORT_TAP, "{'match':{'tcp_port':80},'handler':'count'}", "match.tcp_port" },
		{ PORT_TAP, "{'match':{'ethertype':2048,'protocol':17},'handler':'count'}",
		  "match.protocol" },
		{ PORT_TUN, "{'match':{'ip_protocol':17,'port':53},'handler':'count'}",
		  "match.port" },
		{ PORT_TAP, "{'match':{'Ethertype':2048},'handler':'count'}", "match.Ethertype" },
	};
	struct binding_config c;

	(void)state;
	refuse_all(r, sizeof(r) / sizeof(r[0]));
	/* The bounds themselves are keys like any other. */
	accept_ok(PORT_TAP, false, "{'match':{'ethertype':1536},'handler':'count'}", &c);
	assert_int_equal(c.match.depth, 1);
	assert_int_equal(c.match.ethertype, 1536);
	accept_ok(PORT_TAP, false, "{'match':{'ethertype':65535},'handler':'count'}", &c);
	assert_int_equal(c.match.ethertype, 65535);
	accept_ok(PORT_TAP, false, "{'match':{'ethertype':2048,'ip_protocol':0},'handler':'count'}",
		  &c);
	assert_int_equal(c.match.depth, 2);
	accept_ok(PORT_TAP, false,
		  "{'match':{'ethertype':34525,'ip_protocol':255},'handler':'count'}", &c);
	assert_int_equal(c.match.ip_protocol, 255);
	accept_ok(PORT_TAP, false,
		  "{'match':{'ethertype':2048,'ip_protocol':17,'udp_port':0},'handler':'count'}",
		  &c);
	assert_int_equal(c.match.depth, 3);
	assert_int_equal(c.match.udp_port, 0);
	accept_ok(
		PORT_TAP, false,
		"{'match':{'ethertype':2048,'ip_protocol':17,'udp_port':65535},'handler':'count'}",
		&c);
	assert_int_equal(c.match.udp_port, 65535);
	/* No match, or an empty one, is the root. */
	accept_ok(PORT_TAP, false, "{'handler':'count'}", &c);
	assert_int_equal(c.match.depth, 0);
	accept_ok(PORT_TUN, false, "{'match':{},'handler':'count'}", &c);
	assert_int_equal(c.match.depth, 0);
}

/*
 * IEEE 802.3 3.2.6: below 1536 the type/length field is a frame length
 * (1501..1535 undefined), never an EtherType: a binding there would match
 * frame sizes. Refused, naming the field and saying why, whatever the port.
 */
static void test_match_ethertype_not_a_length(void **state)
{
	static const unsigned int lens[] = { 0, 1, 46, 0x05dc, 0x05dd, 0x05ff };
	char spec[128];
	struct fault f;

	(void)state;
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		snprintf(spec, sizeof(spec), "{'match':{'ethertype':%u},'handler':'count'}",
			 lens[i]);
		f = refuse(PORT_TAP, spec, "match.ethertype");
		assert_non_null(strstr(f.detail, "802.3"));
		assert_non_null(strstr(f.detail, "1536"));
		snprintf(spec, sizeof(spec),
			 "{'match':{'ethertype':%u,'ip_protocol':17},'handler':'count'}", lens[i]);
		refuse(PORT_TAP, spec, "match.ethertype");
		refuse(PORT_TUN, spec, "match.ethertype");
		/* The state file is read by the same function, with ids. */
		snprintf(spec, sizeof(spec),
			 "{'id':3,'match':{'ethertype':%u},'handler':'capture'}", lens[i]);
		refuse_kind(PORT_TAP, true, spec, FAULT_INVALID, "match.ethertype");
	}
}

/* RFC 768 ports exist only under UDP; IP protocols only under an IP ethertype. */
static void test_match_layers(void **state)
{
	static const struct refusal r[] = {
		{ PORT_TAP, "{'match':{'udp_port':53},'handler':'count'}", "match.udp_port" },
		{ PORT_TAP, "{'match':{'ethertype':2048,'udp_port':53},'handler':'count'}",
		  "match.udp_port" },
		{ PORT_TAP,
		  "{'match':{'ethertype':2048,'ip_protocol':6,'udp_port':80},"
		  "'handler':'count'}",
		  "match.udp_port" },
		{ PORT_TUN, "{'match':{'ip_protocol':6,'udp_port':80},'handler':'count'}",
		  "match.udp_port" },
		{ PORT_TUN, "{'match':{'udp_port':53},'handler':'count'}", "match.udp_port" },
		/* ip_protocol without an IP ethertype, on a tap */
		{ PORT_TAP, "{'match':{'ip_protocol':1},'handler':'count'}", "match.ethertype" },
		{ PORT_TAP, "{'match':{'ethertype':2054,'ip_protocol':1},'handler':'count'}",
		  "match.ethertype" },
		{ PORT_TAP, "{'match':{'ethertype':34526,'ip_protocol':58},'handler':'count'}",
		  "match.ethertype" },
		{ PORT_TAP, "{'match':{'ip_protocol':17,'udp_port':53},'handler':'count'}",
		  "match.ethertype" },
		/* a tun has no Ethernet layer of its own */
		{ PORT_TUN, "{'match':{'ethertype':2048},'handler':'count'}", "match.ethertype" },
		{ PORT_TUN, "{'match':{'ethertype':2054},'handler':'count'}", "match.ethertype" },
		{ PORT_TUN, "{'match':{'ethertype':34525},'handler':'count'}", "match.ethertype" },
		{ PORT_TUN, "{'match':{'ethertype':2054,'ip_protocol':1},'handler':'count'}",
		  "match.ethertype" },
	};
	struct binding_config c;
	json_t *j;

	(void)state;
	refuse_all(r, sizeof(r) / sizeof(r[0]));

	/* On a tun, ip_protocol alone implies IPv4, and the normalized form says so. */
	accept_ok(PORT_TUN, false, "{'match':{'ip_protocol':1},'handler':'count'}", &c);
	assert_int_equal(c.match.depth, 2);
	assert_int_equal(c.match.ethertype, 2048);
	assert_int_equal(c.match.ip_protocol, 1);
	j = match_to_json(&c.match);
	assert_int_equal(json_integer_value(json_object_get(j, "ethertype")), 2048);
	assert_int_equal(json_integer_value(json_object_get(j, "ip_protocol")), 1);
	assert_null(json_object_get(j, "udp_port"));
	json_decref(j);
	accept_ok(PORT_TUN, false, "{'match':{'ip_protocol':17,'udp_port':53},'handler':'count'}",
		  &c);
	assert_int_equal(c.match.depth, 3);
	assert_int_equal(c.match.ethertype, 2048);
	assert_int_equal(c.match.udp_port, 53);
	/* ... and the IP version may be given, either one. */
	accept_ok(PORT_TUN, false,
		  "{'match':{'ethertype':34525,'ip_protocol':58},'handler':'count'}", &c);
	assert_int_equal(c.match.depth, 2);
	assert_int_equal(c.match.ethertype, 34525);
	assert_int_equal(c.match.ip_protocol, 58);
	accept_ok(PORT_TUN, false,
		  "{'match':{'ethertype':2048,'ip_protocol':17,'udp_port':7},'handler':'count'}",
		  &c);
	assert_int_equal(c.match.ethertype, 2048);
	/* A tap names every level. */
	accept_ok(PORT_TAP, false, "{'match':{'ethertype':2054},'handler':'count'}", &c);
	assert_int_equal(c.match.depth, 1);
	accept_ok(PORT_TAP, false,
		  "{'match':{'ethertype':34525,'ip_protocol':17,'udp_port':547},'handler':'count'}",
		  &c);
	assert_int_equal(c.match.depth, 3);
	/* The match writes back only the keys of its depth. */
	j = match_to_json(&c.match);
	assert_int_equal(json_object_size(j), 3);
	json_decref(j);
}

/* --- the handler --- */

static void test_handler_placement(void **state)
{
	static const struct refusal r[] = {
		/* echo: a UDP port, ICMP under IPv4, ICMPv6 under IPv6 */
		{ PORT_TAP, "{'handler':'echo'}", "handler" },
		{ PORT_TUN, "{'match':{},'handler':'echo'}", "handler" },
		{ PORT_TAP, "{'match':{'ethertype':2048},'handler':'echo'}", "handler" },
		{ PORT_TAP, "{'match':{'ethertype':2048,'ip_protocol':17},'handler':'echo'}",
		  "handler" },
		{ PORT_TAP, "{'match':{'ethertype':2048,'ip_protocol':58},'handler':'echo'}",
		  "handler" },
		{ PORT_TAP, "{'match':{'ethertype':34525,'ip_protocol':1},'handler':'echo'}",
		  "handler" },
		{ PORT_TUN, "{'match':{'ip_protocol':6},'handler':'echo'}", "handler" },
		/* arp_reply: ethertype 2054 of a tap */
		{ PORT_TAP,
		  "{'match':{'ethertype':2048},'handler':'arp_reply',"
		  "'options':{'addresses':['198.18.0.1']}}",
		  "handler" },
		{ PORT_TAP, "{'handler':'arp_reply','options':{'addresses':['198.18.0.1']}}",
		  "handler" },
		{ PORT_TAP,
		  "{'match':{'ethertype':2048,'ip_protocol':1},'handler':'arp_reply',"
		  "'options':{'addresses':['198.18.0.1']}}",
		  "handler" },
		{ PORT_TUN,
		  "{'match':{'ip_protocol':1},'handler':'arp_reply',"
		  "'options':{'addresses':['198.18.0.1']}}",
		  "handler" },
		/* ndp_reply: ip_protocol 58 under 34525 of a tap */
		{ PORT_TUN,
		  "{'match':{'ethertype':34525,'ip_protocol':58},'handler':'ndp_reply',"
		  "'options':{'addresses':['2001:db8::1']}}",
		  "handler" },
		{ PORT_TAP,
		  "{'match':{'ethertype':34525},'handler':'ndp_reply',"
		  "'options':{'addresses':['2001:db8::1']}}",
		  "handler" },
		{ PORT_TAP,
		  "{'match':{'ethertype':2048,'ip_protocol':1},'handler':'ndp_reply',"
		  "'options':{'addresses':['2001:db8::1']}}",
		  "handler" },
		{ PORT_TAP,
		  "{'match':{'ethertype':34525,'ip_protocol':17,'udp_port':547},"
		  "'handler':'ndp_reply','options':{'addresses':['2001:db8::1']}}",
		  "handler" },
	};
	static const char *const anywhere[] = { "count", "drop", "capture" };
	struct binding_config c;
	struct fault f;

	(void)state;
	refuse_all(r, sizeof(r) / sizeof(r[0]));
	/* The detail says where the handler lives. */
	f = refuse(PORT_TAP, "{'handler':'echo'}", "handler");
	assert_non_null(strstr(f.detail, "echo"));
	assert_non_null(strstr(f.detail, "UDP port"));
	f = refuse(PORT_TAP,
		   "{'match':{'ethertype':2048},'handler':'arp_reply',"
		   "'options':{'addresses':['198.18.0.1']}}",
		   "handler");
	assert_non_null(strstr(f.detail, "2054"));

	accept_ok(PORT_TAP, false, "{'match':{'ethertype':2048,'ip_protocol':1},'handler':'echo'}",
		  &c);
	assert_int_equal(c.kind, HANDLER_ECHO);
	accept_ok(PORT_TAP, false,
		  "{'match':{'ethertype':34525,'ip_protocol':58},'handler':'echo'}", &c);
	accept_ok(PORT_TUN, false, "{'match':{'ip_protocol':1},'handler':'echo'}", &c);
	accept_ok(PORT_TUN, false, "{'match':{'ip_protocol':17,'udp_port':7},'handler':'echo'}",
		  &c);
	accept_ok(PORT_TAP, false,
		  "{'match':{'ethertype':34525,'ip_protocol':17,'udp_port':7},'handler':'echo'}",
		  &c);
	accept_ok(PORT_TAP, false,
		  "{'match':{'ethertype':2054},'handler':'arp_reply',"
		  "'options':{'addresses':['198.18.0.1']}}",
		  &c);
	assert_int_equal(c.kind, HANDLER_ARP_REPLY);
	accept_ok(PORT_TAP, false,
		  "{'match':{'ethertype':34525,'ip_protocol':58},"
		  "'handler':'ndp_reply','options':{'addresses':['2001:db8::1']}}",
		  &c);
	assert_int_equal(c.kind, HANDLER_NDP_REPLY);
	/* count, drop and capture live anywhere, on both kinds of port. */
	for (size_t i = 0; i < sizeof(anywhere) / sizeof(anywhere[0]); i++) {
		static const char *const matches[] = {
			"{}",
			"{'ethertype':2054}",
			"{'ethertype':2048,'ip_protocol':6}",
			"{'ethertype':34525,'ip_protocol':17,'udp_port':53}",
		};
		char spec[256];

		for (size_t m = 0; m < 4; m++) {
			snprintf(spec, sizeof(spec), "{'match':%s,'handler':'%s'}", matches[m],
				 anywhere[i]);
			accept_ok(PORT_TAP, false, spec, &c);
			assert_int_equal(c.match.depth, m);
		}
		snprintf(spec, sizeof(spec), "{'match':{'ip_protocol':1},'handler':'%s'}",
			 anywhere[i]);
		accept_ok(PORT_TUN, false, spec, &c);
	}
	accept_ok(PORT_TUN, false, "{'handler':'forward','options':{'port':'tun1'}}", &c);
	assert_int_equal(c.kind, HANDLER_FORWARD);
}

static void test_handler_name(void **state)
{
	static const char *const names[] = { "count",	  "capture", "echo", "arp_reply",
					     "ndp_reply", "forward", "drop" };
	struct fault f;

	(void)state;
	f = refuse(PORT_TAP, "{'handler':'mirror'}", "handler");
	/* The detail lists every handler there is. */
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strstr(f.detail, names[i]))
			fail_msg("detail \"%s\" does not list %s", f.detail, names[i]);
	refuse(PORT_TAP, "{'handler':'Count'}", "handler");
	refuse(PORT_TAP, "{'handler':''}", "handler");
	refuse(PORT_TAP, "{'handler':1}", "handler");
	refuse(PORT_TAP, "{'handler':null}", "handler");
	refuse(PORT_TAP, "{'handler':['count']}", "handler");
	refuse(PORT_TAP, "{'match':{'ethertype':2048}}", "handler");
	refuse(PORT_TAP, "{}", "handler");
	/* The body: an object, known fields only. */
	refuse_kind(PORT_TAP, false, "[]", FAULT_SYNTAX, "");
	refuse_kind(PORT_TAP, false, "'count'", FAULT_SYNTAX, "");
	refuse(PORT_TAP, "{'handler':'count','priority':1}", "priority");
	refuse(PORT_TAP, "{'handler':'count','options':{},'opts':{}}", "opts");
	refuse(PORT_TAP, "{'handler':'count','counters':{}}", "counters");
}

/* --- options, per handler --- */

static void test_options(void **state)
{
	static const struct refusal r[] = {
		/* options must be an object, whatever the handler */
		{ PORT_TAP, "{'handler':'count','options':[]}", "options" },
		{ PORT_TAP, "{'handler':'capture','options':'all'}", "options" },
		{ PORT_TAP, "{'handler':'forward','options':'tap1'}", "options" },
		{ PORT_TAP, "{'match':{'ethertype':2054},'handler':'arp_reply','options':1}",
		  "options" },
		/* count, drop and echo take none */
		{ PORT_TAP, "{'handler':'count','options':{'limit':1}}", "options.limit" },
		{ PORT_TAP, "{'handler':'drop','options':{'x':null}}", "options.x" },
		{ PORT_TAP,
		  "{'match':{'ethertype':2048,'ip_protocol':1},'handler':'echo',"
		  "'options':{'reply':true}}",
		  "options.reply" },
		/* capture: limit, snaplen, filter */
		{ PORT_TAP, "{'handler':'capture','options':{'limit':'10'}}", "options.limit" },
		{ PORT_TAP, "{'handler':'capture','options':{'limit':-1}}", "options.limit" },
		{ PORT_TAP, "{'handler':'capture','options':{'limit':1.5}}", "options.limit" },
		{ PORT_TAP, "{'handler':'capture','options':{'limit':9007199254740993}}",
		  "options.limit" },
		{ PORT_TAP, "{'handler':'capture','options':{'snaplen':0}}", "options.snaplen" },
		{ PORT_TAP, "{'handler':'capture','options':{'snaplen':65558}}",
		  "options.snaplen" },
		{ PORT_TAP, "{'handler':'capture','options':{'snaplen':true}}", "options.snaplen" },
		{ PORT_TAP, "{'handler':'capture','options':{'filter':1}}", "options.filter" },
		{ PORT_TAP, "{'handler':'capture','options':{'filter':'udp port'}}",
		  "options.filter" },
		{ PORT_TAP, "{'handler':'capture','options':{'filter':'nonsense (('}}",
		  "options.filter" },
		{ PORT_TUN, "{'handler':'capture','options':{'filter':'ether host 1:2:3:4:5:6'}}",
		  "options.filter" },
		{ PORT_TAP, "{'handler':'capture','options':{'count':5}}", "options.count" },
		/* arp_reply and ndp_reply: addresses (required) and mac */
		{ PORT_TAP, "{'match':{'ethertype':2054},'handler':'arp_reply'}",
		  "options.addresses" },
		{ PORT_TAP, "{'match':{'ethertype':2054},'handler':'arp_reply','options':{}}",
		  "options.addresses" },
		{ PORT_TAP,
		  "{'match':{'ethertype':2054},'handler':'arp_reply',"
		  "'options':{'addresses':'198.18.0.1'}}",
		  "options.addresses" },
		{ PORT_TAP,
		  "{'match':{'ethertype':2054},'handler':'arp_reply',"
		  "'options':{'addresses':[]}}",
		  "options.addresses" },
		{ PORT_TAP,
		  "{'match':{'ethertype':2054},'handler':'arp_reply',"
		  "'options':{'addresses':['198.18.0.1','198.18.0.300']}}",
		  "options.addresses[1]" },
		{ PORT_TAP,
		  "{'match':{'ethertype':2054},'handler':'arp_reply',"
		  "'options':{'addresses':['2001:db8::1']}}",
		  "options.addresses[0]" },
		{ PORT_TAP,
		  "{'match':{'ethertype':2054},'handler':'arp_reply',"
		  "'options':{'addresses':['198.18.0.0/24']}}",
		  "options.addresses[0]" },
		{ PORT_TAP,
		  "{'match':{'ethertype':2054},'handler':'arp_reply',"
		  "'options':{'addresses':['224.0.0.1']}}",
		  "options.addresses[0]" },
		{ PORT_TAP,
		  "{'match':{'ethertype':2054},'handler':'arp_reply',"
		  "'options':{'addresses':[19]}}",
		  "options.addresses[0]" },
		{ PORT_TAP,
		  "{'match':{'ethertype':2054},'handler':'arp_reply',"
		  "'options':{'addresses':['198.18.0.1','198.18.0.1']}}",
		  "options.addresses[1]" },
		{ PORT_TAP,
		  "{'match':{'ethertype':2054},'handler':'arp_reply',"
		  "'options':{'addresses':['198.18.0.1'],'mac':5}}",
		  "options.mac" },
		{ PORT_TAP,
		  "{'match':{'ethertype':2054},'handler':'arp_reply',"
		  "'options':{'addresses':['198.18.0.1'],'mac':'02:00:00:00:00'}}",
		  "options.mac" },
		{ PORT_TAP,
		  "{'match':{'ethertype':2054},'handler':'arp_reply',"
		  "'options':{'addresses':['198.18.0.1'],'ttl':5}}",
		  "options.ttl" },
		{ PORT_TAP,
		  "{'match':{'ethertype':34525,'ip_protocol':58},'handler':'ndp_reply',"
		  "'options':{'addresses':['198.18.0.1']}}",
		  "options.addresses[0]" },
		{ PORT_TAP,
		  "{'match':{'ethertype':34525,'ip_protocol':58},'handler':'ndp_reply',"
		  "'options':{'addresses':['ff02::1']}}",
		  "options.addresses[0]" },
		{ PORT_TAP, "{'match':{'ethertype':34525,'ip_protocol':58},'handler':'ndp_reply'}",
		  "options.addresses" },
		/* forward: port (required, a port name) */
		{ PORT_TAP, "{'handler':'forward'}", "options.port" },
		{ PORT_TAP, "{'handler':'forward','options':{}}", "options.port" },
		{ PORT_TAP, "{'handler':'forward','options':{'port':5}}", "options.port" },
		{ PORT_TAP, "{'handler':'forward','options':{'port':''}}", "options.port" },
		{ PORT_TAP, "{'handler':'forward','options':{'port':'a/b'}}", "options.port" },
		{ PORT_TAP, "{'handler':'forward','options':{'port':'..'}}", "options.port" },
		{ PORT_TAP, "{'handler':'forward','options':{'port':'sixteen-chars-xx'}}",
		  "options.port" },
		{ PORT_TAP, "{'handler':'forward','options':{'port':'tap1','via':'x'}}",
		  "options.via" },
	};
	struct binding_config c;

	(void)state;
	refuse_all(r, sizeof(r) / sizeof(r[0]));
	/* Empty options are no options. */
	accept_ok(PORT_TAP, false, "{'handler':'count','options':{}}", &c);
	accept_ok(PORT_TAP, false, "{'handler':'drop','options':{}}", &c);
	/* Capture defaults, bounds and a filter for each framing. */
	accept_ok(PORT_TAP, false, "{'handler':'capture'}", &c);
	assert_int_equal(c.o.capture.limit, 0);
	assert_int_equal(c.o.capture.snaplen, CAPTURE_SNAPLEN_MAX);
	assert_string_equal(c.o.capture.filter, "");
	accept_ok(PORT_TAP, false,
		  "{'handler':'capture','options':{'limit':9007199254740992,'snaplen':1,"
		  "'filter':'ether proto 0x0806'}}",
		  &c);
	assert_int_equal(c.o.capture.limit, 9007199254740992ull);
	assert_int_equal(c.o.capture.snaplen, 1);
	assert_string_equal(c.o.capture.filter, "ether proto 0x0806");
	accept_ok(PORT_TUN, false, "{'handler':'capture','options':{'filter':'udp port 53'}}", &c);
	accept_ok(PORT_TAP, false, "{'handler':'capture','options':{'snaplen':65557}}", &c);
	assert_int_equal(c.o.capture.snaplen, CAPTURE_SNAPLEN_MAX);
	/* Reply handlers: several addresses, a MAC of their own. */
	accept_ok(PORT_TAP, false,
		  "{'match':{'ethertype':2054},'handler':'arp_reply',"
		  "'options':{'addresses':['198.18.0.1','198.18.0.2'],"
		  "'mac':'02:00:00:00:00:99'}}",
		  &c);
	assert_int_equal(c.o.reply.n_addrs, 2);
	assert_true(c.o.reply.has_mac);
	assert_int_equal(c.o.reply.mac[5], 0x99);
	accept_ok(PORT_TAP, false,
		  "{'match':{'ethertype':34525,'ip_protocol':58},"
		  "'handler':'ndp_reply','options':{'addresses':['2001:db8::1']}}",
		  &c);
	assert_int_equal(c.o.reply.n_addrs, 1);
	assert_false(c.o.reply.has_mac);
	accept_ok(PORT_TAP, false, "{'handler':'forward','options':{'port':'tap1'}}", &c);
	assert_string_equal(c.o.forward.port, "tap1");
}

/* --- the id of the state file --- */

static void test_id(void **state)
{
	static const char *const bad[] = { "0",	  "-1",	  "4294967296", "'1'",
					   "1.0", "true", "null",	"[1]" };
	struct binding_config c;
	char spec[128];

	(void)state;
	/* A request cannot choose its id. */
	refuse(PORT_TAP, "{'id':1,'handler':'count'}", "id");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(spec, sizeof(spec), "{'id':%s,'handler':'count'}", bad[i]);
		refuse_kind(PORT_TAP, true, spec, FAULT_INVALID, "id");
	}
	accept_ok(PORT_TAP, true, "{'id':1,'handler':'count'}", &c);
	assert_int_equal(c.id, 1);
	accept_ok(PORT_TAP, true, "{'id':4294967295,'handler':'count'}", &c);
	assert_int_equal(c.id, UINT32_MAX);
	/* Optional even then (the port set requires it on restore). */
	accept_ok(PORT_TAP, true, "{'handler':'count'}", &c);
	assert_int_equal(c.id, 0);
	/* The id's own rules come before the rest. */
	refuse_kind(PORT_TAP, true, "{'id':0,'handler':'mirror'}", FAULT_INVALID, "id");
}

/* --- the normalized form and the round trip --- */

static void test_to_json(void **state)
{
	struct binding_config c;
	json_t *j, *o;

	(void)state;
	accept_ok(PORT_TUN, false, "{'match':{'ip_protocol':17,'udp_port':53},'handler':'capture'}",
		  &c);
	c.id = 42;
	j = bindcfg_to_json(&c);
	assert_int_equal(json_object_size(j), 4);
	assert_int_equal(json_integer_value(json_object_get(j, "id")), 42);
	assert_string_equal(json_string_value(json_object_get(j, "handler")), "capture");
	o = json_object_get(j, "match");
	assert_int_equal(json_integer_value(json_object_get(o, "ethertype")), 2048);
	assert_int_equal(json_integer_value(json_object_get(o, "ip_protocol")), 17);
	assert_int_equal(json_integer_value(json_object_get(o, "udp_port")), 53);
	/* Options with their effective values. */
	o = json_object_get(j, "options");
	assert_int_equal(json_integer_value(json_object_get(o, "limit")), 0);
	assert_int_equal(json_integer_value(json_object_get(o, "snaplen")), CAPTURE_SNAPLEN_MAX);
	assert_string_equal(json_string_value(json_object_get(o, "filter")), "");
	json_decref(j);

	accept_ok(PORT_TAP, false, "{'handler':'count'}", &c);
	c.id = 1;
	j = bindcfg_to_json(&c);
	assert_int_equal(json_object_size(json_object_get(j, "match")), 0);
	assert_int_equal(json_object_size(json_object_get(j, "options")), 0);
	json_decref(j);

	accept_ok(PORT_TAP, false,
		  "{'match':{'ethertype':2054},'handler':'arp_reply',"
		  "'options':{'addresses':['198.18.0.1'],'mac':'02:00:00:00:00:99'}}",
		  &c);
	c.id = 2;
	j = bindcfg_to_json(&c);
	o = json_object_get(j, "options");
	assert_string_equal(json_string_value(json_array_get(json_object_get(o, "addresses"), 0)),
			    "198.18.0.1");
	assert_string_equal(json_string_value(json_object_get(o, "mac")), "02:00:00:00:00:99");
	json_decref(j);
}

static void test_round_trip(void **state)
{
	static const struct {
		enum port_type type;
		const char *spec;
	} cases[] = {
		{ PORT_TAP, "{'handler':'count'}" },
		{ PORT_TAP, "{'match':{'ethertype':2054},'handler':'drop'}" },
		{ PORT_TAP, "{'match':{'ethertype':2048,'ip_protocol':17,'udp_port':53},"
			    "'handler':'capture','options':{'limit':5,'snaplen':96,"
			    "'filter':'udp and src host 198.18.0.1'}}" },
		{ PORT_TAP, "{'match':{'ethertype':34525},'handler':'capture'}" },
		{ PORT_TAP, "{'match':{'ethertype':2048,'ip_protocol':1},'handler':'echo'}" },
		{ PORT_TAP, "{'match':{'ethertype':34525,'ip_protocol':17,'udp_port':7},"
			    "'handler':'echo'}" },
		{ PORT_TAP, "{'match':{'ethertype':2054},'handler':'arp_reply',"
			    "'options':{'addresses':['198.18.0.1','198.18.0.9']}}" },
		{ PORT_TAP, "{'match':{'ethertype':2054},'handler':'arp_reply',"
			    "'options':{'addresses':['198.18.0.1'],'mac':'02:00:00:00:00:99'}}" },
		{ PORT_TAP, "{'match':{'ethertype':34525,'ip_protocol':58},'handler':'ndp_reply',"
			    "'options':{'addresses':['2001:db8::1','2001:DB8:0::0:2']}}" },
		{ PORT_TAP, "{'match':{'ethertype':2048},'handler':'forward',"
			    "'options':{'port':'tap1'}}" },
		{ PORT_TUN, "{'match':{'ip_protocol':1},'handler':'echo'}" },
		{ PORT_TUN, "{'match':{'ethertype':34525,'ip_protocol':58},'handler':'count'}" },
		{ PORT_TUN, "{'match':{'ip_protocol':17,'udp_port':53},'handler':'capture',"
			    "'options':{'filter':'udp'}}" },
		{ PORT_TUN, "{'handler':'forward','options':{'port':'tun.1'}}" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct binding_config a, b;
		struct fault f = FAULT_INIT;
		json_t *ja, *jb;
		char *text;

		accept_ok(cases[i].type, false, cases[i].spec, &a);
		a.id = (uint32_t)(i + 1) * 1000003u;
		ja = bindcfg_to_json(&a);
		/* Through text, as the state file keeps it. */
		text = json_dumps(ja, JSON_COMPACT);
		json_decref(ja);
		ja = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
		assert_non_null(ja);
		if (bindcfg_from_json(ja, cases[i].type, true, &b, &f) != 0)
			fail_msg("%s: its own JSON %s is refused: %s: %s", cases[i].spec, text,
				 f.field, f.detail);
		if (memcmp(&a, &b, sizeof(a)) != 0)
			fail_msg("%s: round trip through %s changed the binding", cases[i].spec,
				 text);
		jb = bindcfg_to_json(&b);
		assert_true(json_equal(ja, jb));
		json_decref(ja);
		json_decref(jb);
		free(text);
	}
}

/* --- names (issue 10) --- */

static void test_name(void **state)
{
	static const char *const bad[] = { "''",     "'123'",  "'0'",
					   "'.'",    "'..'",   "'a/b'",
					   "'a b'",  "'dns%'", "'abcdefghijklmnop'",
					   "42",     "null",   "true",
					   "['dns']" };
	static const char *const good[] = { "dns", "a.b-c_1", "1a", "007x", "abcdefghijklmno",
					    "...", "_" };
	struct binding_config c;
	struct fault f = FAULT_INIT;
	char spec[128];
	json_t *j;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(spec, sizeof(spec), "{'name':%s,'handler':'count'}", bad[i]);
		refuse(PORT_TAP, spec, "name");
		refuse_kind(PORT_TAP, true, spec, FAULT_INVALID, "name");
	}
	/* An embedded NUL would cut the name short in C. */
	j = json_object();
	json_object_set_new(j, "name", json_stringn("dns\0x", 5));
	json_object_set_new(j, "handler", json_string("count"));
	assert_true(bindcfg_from_json(j, PORT_TAP, false, &c, &f) < 0);
	assert_string_equal(f.field, "name");
	json_decref(j);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(spec, sizeof(spec), "{'name':'%s','handler':'count'}", good[i]);
		accept_ok(PORT_TAP, false, spec, &c);
		assert_string_equal(c.name, good[i]);
		f = (struct fault)FAULT_INIT;
		assert_int_equal(bindcfg_name_check(good[i], "x", &f), 0);
	}
	/* The all-digit refusal says why. */
	f = (struct fault)FAULT_INIT;
	assert_true(bindcfg_name_check("53", "name", &f) < 0);
	assert_non_null(strstr(f.detail, "digits"));
	/* Absent: unnamed. */
	accept_ok(PORT_TAP, false, "{'handler':'count'}", &c);
	assert_string_equal(c.name, "");

	/* Written back only when set, so unnamed bindings read as before. */
	c.id = 3;
	j = bindcfg_to_json(&c);
	assert_null(json_object_get(j, "name"));
	json_decref(j);
	accept_ok(PORT_TAP, true, "{'id':4,'name':'dns','handler':'count'}", &c);
	j = bindcfg_to_json(&c);
	assert_string_equal(json_string_value(json_object_get(j, "name")), "dns");
	assert_int_equal(json_integer_value(json_object_get(j, "id")), 4);
	json_decref(j);
	/* The spec form has neither. */
	j = bindcfg_spec_json(&c);
	assert_int_equal(json_object_size(j), 3);
	assert_null(json_object_get(j, "name"));
	assert_null(json_object_get(j, "id"));
	json_decref(j);
}

static void test_same(void **state)
{
	struct binding_config a, b;

	(void)state;
	accept_ok(PORT_TAP, false,
		  "{'match':{'ethertype':2048,'ip_protocol':17,'udp_port':53},"
		  "'handler':'capture','options':{'limit':5}}",
		  &a);
	accept_ok(PORT_TAP, true,
		  "{'id':9,'name':'dns','match':{'ethertype':2048,"
		  "'ip_protocol':17,'udp_port':53},'handler':'capture','options':{'limit':5,"
		  "'filter':''}}",
		  &b);
	/* Ids, names and spelled-out defaults do not make a difference. */
	assert_true(bindcfg_same(&a, &b));
	accept_ok(PORT_TAP, false,
		  "{'match':{'ethertype':2048,'ip_protocol':17,'udp_port':53},"
		  "'handler':'capture','options':{'limit':6}}",
		  &b);
	assert_false(bindcfg_same(&a, &b));
	accept_ok(PORT_TAP, false,
		  "{'match':{'ethertype':2048,'ip_protocol':17,'udp_port':54},"
		  "'handler':'capture','options':{'limit':5}}",
		  &b);
	assert_false(bindcfg_same(&a, &b));
	accept_ok(PORT_TAP, false,
		  "{'match':{'ethertype':2048,'ip_protocol':17,'udp_port':53},"
		  "'handler':'count'}",
		  &b);
	assert_false(bindcfg_same(&a, &b));
	accept_ok(PORT_TAP, false,
		  "{'match':{'ethertype':2054},'handler':'arp_reply',"
		  "'options':{'addresses':['198.18.0.1','198.18.0.2']}}",
		  &a);
	accept_ok(PORT_TAP, false,
		  "{'match':{'ethertype':2054},'handler':'arp_reply',"
		  "'options':{'addresses':['198.18.0.1','198.18.0.3']}}",
		  &b);
	assert_false(bindcfg_same(&a, &b));
	assert_true(bindcfg_same(&a, &a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match_ranges_and_types),
		cmocka_unit_test(test_match_ethertype_not_a_length),
		cmocka_unit_test(test_match_layers),
		cmocka_unit_test(test_handler_placement),
		cmocka_unit_test(test_handler_name),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_id),
		cmocka_unit_test(test_to_json),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_same),
	};

	log_set_level(LOG_ERROR);
	return cmocka_run_group_tests_name("bindcfg", tests, NULL, NULL);
}
