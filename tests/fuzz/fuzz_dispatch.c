// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the data plane end to end: one frame, read by a port
 * of the memory port I/O (port_read_ready(): parse, dispatch, every kind of
 * handler), then what paird wrote back. The input is
 *
 *   byte 0     the port: 0 a tap, 1 the same strict, 2 a tun, 3 a tun with
 *              packet information (the low 2 bits)
 *   the rest   the frame, as the device would hand it over
 *
 * Each port has bindings of every kind: counts at every level, captures
 * (one with a filter), drop, echo on ICMP, ICMPv6 and UDP ports, ARP and NDP
 * replies, a forward to a port that is not there. Whatever the frame, every
 * frame it read is in one counter (matched, unmatched at a level, or
 * malformed), and every frame paird wrote (a reply: echo, ARP, NDP) parses
 * strictly clean: checksums right, lengths whole. Built and run by `make
 * fuzz`; its crash inputs are replayed by `make unit`
 * (tests/fixtures/crashes/fuzz_dispatch/).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../service/bindcfg.h"
#include "../../service/capture.h"
#include "../../service/log.h"
#include "../../service/parse.h"
#include "../../service/port.h"
#include "../../service/stack.h"
#include "../fakes/portio_mem.h"

#define NPORTS 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[NPORTS] = { "fz0", "fzs0", "fzt0", "fzp0" };

static const char *const bindings[] = {
	"{\"handler\":\"count\"}",
	"{\"handler\":\"capture\",\"options\":{\"snaplen\":96}}",
	"{\"match\":{\"ethertype\":2048},\"handler\":\"count\"}",
	"{\"match\":{\"ethertype\":34525},\"handler\":\"count\"}",
	"{\"match\":{\"ethertype\":2048,\"ip_protocol\":17},\"handler\":\"capture\","
	"\"options\":{\"filter\":\"udp and not port 53\"}}",
	"{\"match\":{\"ethertype\":2048,\"ip_protocol\":6},\"handler\":\"drop\"}",
	"{\"match\":{\"ethertype\":2048,\"ip_protocol\":1},\"handler\":\"echo\"}",
	"{\"match\":{\"ethertype\":34525,\"ip_protocol\":58},\"handler\":\"echo\"}",
	"{\"match\":{\"ethertype\":2048,\"ip_protocol\":17,\"udp_port\":7},\"handler\":\"echo\"}",
	"{\"match\":{\"ethertype\":34525,\"ip_protocol\":17,\"udp_port\":7},\"handler\":\"echo\"}",
	"{\"match\":{\"ethertype\":2048,\"ip_protocol\":17,\"udp_port\":53},\"handler\":\"count\"}",
	"{\"match\":{\"ethertype\":2054},\"handler\":\"arp_reply\",\"options\":"
	"{\"addresses\":[\"198.18.0.1\",\"10.0.0.1\",\"192.168.1.1\"]}}",
	"{\"match\":{\"ethertype\":34525,\"ip_protocol\":58},\"handler\":\"ndp_reply\","
	"\"options\":{\"addresses\":[\"2001:db8::1\",\"fe80::1\"]}}",
	"{\"match\":{\"ethertype\":2048,\"ip_protocol\":17,\"udp_port\":9},"
	"\"handler\":\"forward\",\"options\":{\"port\":\"elsewhere\"}}",
};

static struct memio *mem;
static struct port *ports[NPORTS];
static struct stack *stacks[NPORTS];

static void die(const char *what, const char *why)
{
	fprintf(stderr, "fuzz_dispatch: %s: %s\n", what, why);
	abort();
}

static struct port *lookup(void *arg, const char *name)
{
	(void)arg;
	for (int i = 0; i < NPORTS; i++)
		if (ports[i] && strcmp(port_name(ports[i]), name) == 0)
			return ports[i];
	return NULL;
}

static void setup(void)
{
	static struct port_env penv;
	static struct stack_env senv;

	log_set_level(LOG_ERROR);
	mem = memio_new();
	if (!mem)
		die("memio", "out of memory");
	penv.io = memio_io(mem);
	senv.budget = capture_budget_new(4u << 20);
	senv.ring_bytes = 256u << 10; /* small: records are evicted */
	senv.max_bindings = 64;
	senv.scratch = malloc(PORT_FRAME_MAX);
	senv.lookup = lookup;
	if (!senv.budget || !senv.scratch)
		die("setup", "out of memory");
	for (int i = 0; i < NPORTS; i++) {
		struct port_config c = { .type = i < 2 ? PORT_TAP : PORT_TUN };
		struct fault f = FAULT_INIT;

		snprintf(c.name, sizeof(c.name), "%s", names[i]);
		c.strict = c.has_strict = i == 1;
		c.packet_info = i == 3;
		ports[i] = port_open(&penv, &c, &f);
		if (!ports[i])
			die("port_open", f.detail);
		stacks[i] = stack_new(&senv, ports[i]);
		if (!stacks[i])
			die("stack_new", "out of memory");
		for (size_t b = 0; b < sizeof(bindings) / sizeof(bindings[0]); b++) {
			struct binding_config cfg;
			json_t *doc = json_loads(bindings[b], 0, NULL);

			if (!doc)
				die(bindings[b], "not JSON");
			/* ARP and NDP replies need a link layer: a tun takes the others. */
			if ((bindcfg_from_json(doc, c.type, false, &cfg, &f) < 0 ||
			     stack_bind(stacks[i], &cfg, NULL, &f) < 0) &&
			    c.type != PORT_TUN)
				die(bindings[b], f.detail);
			json_decref(doc);
			f = (struct fault)FAULT_INIT;
		}
	}
}

/* Every frame @i read is in exactly one of the stack's counters. */
static void check_counters(int i)
{
	const struct stack_counters *c = stack_counters(stacks[i]);
	const struct port_counters *pc = port_counters(ports[i]);
	uint64_t sum = c->matched;

	for (int lv = 0; lv < LEVEL_COUNT; lv++)
		sum += c->unmatched[lv];
	for (int m = 0; m < MALFORMED_COUNT; m++)
		sum += c->malformed[m];
	if (sum != pc->rx_frames)
		die(names[i], "matched + unmatched + malformed is not rx_frames");
}

/* What @i wrote (replies only: the forward's port is not there) parses strictly clean. */
static void check_written(int i)
{
	size_t n = memio_written_count(mem, names[i]);

	for (size_t w = 0; w < n; w++) {
		struct frame_info fi;
		size_t len;
		const uint8_t *frame = memio_written(mem, names[i], w, &len);

		frame_parse(frame, len, port_frame_link(ports[i]), PARSE_STRICT, &fi);
		if (fi.malformed != MALFORMED_NONE) {
			fprintf(stderr, "fuzz_dispatch: %s wrote a malformed frame: %s\n", names[i],
				malformed_name(fi.malformed));
			abort();
		}
	}
	memio_written_clear(mem, names[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int i;

	if (!mem)
		setup();
	if (size < 1)
		return 0;
	i = data[0] & 3;
	if (memio_push(mem, names[i], data + 1, size - 1) < 0)
		die(names[i], "cannot queue the frame");
	for (unsigned turn = 0; memio_queued(mem, names[i]) && turn < 16; turn++)
		port_read_ready(ports[i]);
	if (memio_queued(mem, names[i]))
		die(names[i], "the frame was not read");
	check_counters(i);
	check_written(i);
	return 0;
}
