/* SPDX-License-Identifier: MIT */
/*
 * Bindings: a handler attached at one node of a port's dispatch tree
 * (DESIGN.md, "The dispatch tree and bindings"). This header holds the
 * binding's configuration (match, handler kind, options) with its rules and
 * JSON form, shared by the API and the state file, and the handler vtable
 * every handler kind implements.
 */
#ifndef PAIRD_BINDING_H
#define PAIRD_BINDING_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "fault.h"
#include "parse.h"
#include "port.h"
#include "portcfg.h"

struct capture_ring;

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

#define REPLY_ADDR_MAX	  16
#define CAPTURE_FILTER_MAX 512
#define CAPTURE_SNAPLEN_MAX PORT_FRAME_MAX

struct capture_opts {
	uint64_t limit;	  /* frames to capture, then stop; 0 = no limit */
	uint32_t snaplen; /* bytes kept per frame (1..CAPTURE_SNAPLEN_MAX) */
	char filter[CAPTURE_FILTER_MAX]; /* tcpdump syntax, "" = none */
};

struct reply_opts {
	unsigned n_addrs;
	uint8_t addrs[REPLY_ADDR_MAX][16]; /* IPv4 (4 bytes used) for arp, IPv6 for ndp */
	bool has_mac;
	uint8_t mac[6]; /* answer with this MAC instead of the port's */
};

struct forward_opts {
	char port[PORT_NAME_MAX + 1];
};

struct binding_config {
	uint32_t id; /* assigned by the port's stack; 0 in a request */
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

struct binding {
	struct binding_config cfg;
	const struct handler_ops *ops;
	void *priv; /* the handler's own state (a compiled filter, ...) */
	struct timespec created;
	struct binding_counters c;
};

/*
 * What a handler sees of one frame. Handlers that answer build their reply
 * in @scratch (PORT_FRAME_MAX bytes, shared, valid for this call only) and
 * write it with port_write(): the per-frame path never allocates.
 */
struct dispatch_ctx {
	struct port *port;
	const uint8_t *frame;
	size_t len;
	const struct frame_info *fi;
	struct timespec ts; /* when the frame was read: use dispatch_time() */
	struct capture_ring *ring; /* the port's capture ring, NULL when it has none */
	uint8_t *scratch;
	/* Finds another port by name (forward); NULL when there is none. */
	struct port *(*lookup)(void *arg, const char *name);
	void *lookup_arg;
};

/*
 * When the frame was read (CLOCK_REALTIME), taken on first use: most
 * frames meet no handler that needs it, so most frames never pay for it.
 */
static inline const struct timespec *dispatch_time(struct dispatch_ctx *dc)
{
	if (!dc->ts.tv_sec && !dc->ts.tv_nsec)
		clock_gettime(CLOCK_REALTIME, &dc->ts);
	return &dc->ts;
}

struct handler_ops {
	const char *name;	 /* "count", "capture", ... as in the API */
	unsigned levels;	 /* bit (1 << enum level) for each level it may live at */
	const char *placement;	 /* words for errors: "at a UDP port or an ICMP node" */
	const char *extra[BINDING_EXTRA_MAX]; /* names of extra counters, NULL if unused */
	/*
	 * Checks the handler's placement beyond @levels (e.g. echo needs ICMP
	 * or ICMPv6 at the IP protocol level) and reads "options" (@opts may
	 * be NULL when absent) into @cfg. Faults name the field, e.g.
	 * "options.addresses[1]". May be NULL when there are no options.
	 */
	int (*configure)(const json_t *opts, enum port_type ptype, struct binding_config *cfg,
			 struct fault *f);
	/* Adds the options with their effective values to @o. May be NULL. */
	void (*options_json)(const struct binding_config *cfg, json_t *o);
	/* Prepares @b->priv (e.g. compiles a filter). May be NULL. */
	int (*init)(struct binding *b, const struct port_config *port, struct fault *f);
	void (*fini)(struct binding *b);
	/* Handles one frame: 0, or a negative errno counted as an error of @b. */
	int (*run)(struct binding *b, struct dispatch_ctx *dc);
};

/* The handler table, indexed by enum handler_kind. */
extern const struct handler_ops *const handlers[HANDLER_KIND_COUNT];

/*
 * Reads a binding request {"match": {...}, "handler": "...", "options":
 * {...}} for a port of type @ptype, checking every rule: key ranges, a
 * udp_port only with ip_protocol 17, keys of a layer the port lacks (no
 * ethertype on tun unless it picks the IP version of an ip_protocol match;
 * then 2048 or 34525, and 2048 when omitted), a handler that cannot live
 * at that node, and the handler's options. With @allow_id (the state file)
 * an "id" member is accepted too.
 */
int bindcfg_from_json(const json_t *obj, enum port_type ptype, bool allow_id,
		      struct binding_config *out, struct fault *f);

/* {"id", "match", "handler", "options"}: the form the state file keeps. New reference. */
json_t *bindcfg_to_json(const struct binding_config *cfg);
json_t *match_to_json(const struct match *m);

#endif
