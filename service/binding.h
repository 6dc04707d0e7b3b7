/* SPDX-License-Identifier: MIT */
/*
 * Bindings: a handler attached at one node of a port's dispatch tree
 * (DESIGN.md, "The dispatch tree and bindings"). This header holds what a
 * binding is: its match (which node), its handler kind with that kind's
 * options as plain structs, and its counters. The handler vtable and what a
 * handler sees of a frame are in handler.h; the JSON form of a binding,
 * for the API and the state file, in bindcfg.h.
 */
#ifndef PAIRD_BINDING_H
#define PAIRD_BINDING_H

#include <stdint.h>
#include <time.h>

#include "h_capture.h"
#include "h_forward.h"
#include "h_reply.h"

/* The levels of the tree, root first. A match names a path of depth 0..3. */
enum level { LEVEL_ROOT, LEVEL_ETHERTYPE, LEVEL_IP_PROTOCOL, LEVEL_UDP_PORT, LEVEL_COUNT };

struct match {
	uint8_t depth; /* keys given: 0 {}, 1 ethertype, 2 + ip_protocol, 3 + udp_port */
	uint16_t ethertype;
	uint8_t ip_protocol;
	uint16_t udp_port;
};

enum handler_kind {
	HANDLER_COUNT,
	HANDLER_CAPTURE,
	HANDLER_ECHO,
	HANDLER_ARP_REPLY,
	HANDLER_NDP_REPLY,
	HANDLER_FORWARD,
	HANDLER_DROP,
	HANDLER_KIND_COUNT
};

/* A binding's name: the port-name rule, not all digits (an all-digit path segment is an id). */
#define BINDING_NAME_MAX 15

struct binding_config {
	uint32_t id; /* assigned by the port's stack; 0 in a request */
	/*
	 * The client's name for it, NUL-terminated, unique on its port; ""
	 * for an unnamed binding. Checked by bindcfg_name_check() (bindcfg.h).
	 */
	char name[BINDING_NAME_MAX + 1];
	struct match match;
	enum handler_kind kind;
	union {
		struct capture_opts capture;
		struct reply_opts reply;
		struct forward_opts forward;
	} o;
};

/* Handler-specific counters besides packets, bytes and errors. */
#define BINDING_EXTRA_MAX 2

struct binding_counters {
	uint64_t packets, bytes, errors;
	uint64_t extra[BINDING_EXTRA_MAX];
};

/* One queue's counters of a binding, alone on its cache line. */
struct binding_qcounters {
	struct binding_counters c;
} __attribute__((aligned(64)));

struct binding {
	const struct handler_ops *ops;
	void *priv; /* the handler's own state (a compiled filter, ...) */
	struct timespec created;
	/*
	 * The configuration version (portset.h) of its last acknowledged
	 * change: the binding's ETag. Set by the port set, 0 until then.
	 */
	uint64_t version;
	struct binding_counters c;
	/*
	 * On a multi-queue port, each queue's counters (queue.h): one block
	 * per queue, PORTCFG_QUEUES_MAX of them, each on a cache line of its
	 * own and written by its queue's thread only (queue 0's by the main
	 * loop, which then leaves @c to the handlers it runs itself); NULL on
	 * a single-queue port. binding_counters_sum() adds them to @c.
	 */
	struct binding_qcounters *qc;
	/* Creation order within its stack: the order bindings on one path run in. */
	uint64_t seq;
	/*
	 * Last, and allocated only as far as its own kind's options reach
	 * (binding_alloc_size(), handler.h): the options union is sized for
	 * the largest kind (a capture filter's 512 bytes), which a count
	 * binding would carry for nothing, a thousand times on a busy port
	 * (issue 11). So it is never copied whole: binding_config_get()
	 * copies what there is. Pointers to it are full configurations to
	 * whatever reads only what its kind has (bindcfg, the handlers).
	 */
	struct binding_config cfg;
};

#endif
