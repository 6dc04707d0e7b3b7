/* SPDX-License-Identifier: MIT */
/*
 * The handler kinds a binding can name (DESIGN.md, "The dispatch tree and
 * bindings"): the const vtable every kind implements, what a handler sees
 * of one frame, and the table of kinds. One file each: count (h_count.c),
 * drop (h_drop.c), forward (h_forward.c), capture (h_capture.c), echo
 * (h_echo.c), arp_reply and ndp_reply (h_reply.c). Handlers see plain
 * structs only; their options come from JSON in bindcfg.c, the config
 * layer, which checks placement and options through this table. The
 * dispatcher (stack.c) runs them.
 */
#ifndef PAIRD_HANDLER_H
#define PAIRD_HANDLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "binding.h"
#include "fault.h"
#include "parse.h"
#include "port.h"

struct capture_ring;

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
	struct timespec ts;	   /* when the frame was read: use dispatch_time() */
	struct capture_ring *ring; /* the port's capture ring, NULL when it has none */
	uint8_t *scratch;
	/* Finds another port by name (forward); NULL when there is none. */
	struct port *(*lookup)(void *arg, const char *name);
	void *lookup_arg;
	/* The queue the frame came from: 0 in the main loop, 1..N-1 on a queue's worker. */
	unsigned queue;
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

#define LEVELS_ALL ((1u << LEVEL_COUNT) - 1)

struct handler_ops {
	const char *name;      /* "count", "capture", ... as in the API */
	unsigned levels;       /* bit (1 << enum level) for each level it may live at */
	const char *placement; /* words for errors: "at a UDP port or an ICMP node" */
	const char *extra[BINDING_EXTRA_MAX]; /* names of extra counters, NULL if unused */
	/* Bytes of binding_config.o its options take, 0 for none: what its bindings allocate. */
	size_t options;
	/*
	 * Whether the handler may live at @m of a @ptype port beyond @levels
	 * (e.g. echo needs ICMP or ICMPv6 at the IP protocol level). NULL:
	 * anywhere @levels allows.
	 */
	bool (*fits)(const struct match *m, enum port_type ptype);
	/*
	 * Checks options that are well-formed but may still be refused (a
	 * filter that does not compile), with the request, before the binding
	 * exists. Faults name the field, e.g. "options.filter". May be NULL.
	 */
	int (*check)(const struct binding_config *cfg, enum port_type ptype, struct fault *f);
	/* Prepares @b->priv (e.g. compiles a filter). May be NULL. */
	int (*init)(struct binding *b, const struct port_config *port, struct fault *f);
	void (*fini)(struct binding *b);
	/*
	 * Handles one frame: 0, or a negative errno counted as an error of @b.
	 * NULL when the dispatcher's counting of the binding is all (count, drop).
	 */
	int (*run)(struct binding *b, struct dispatch_ctx *dc);
	/*
	 * run() touches the main loop's state (the capture ring and its
	 * followers, other ports): on a multi-queue port a queue worker hands
	 * the frame to the main loop, which runs it there (queue.h, rule 3).
	 */
	bool main_loop;
};

/* The handler table, indexed by enum handler_kind. */
extern const struct handler_ops *const handlers[HANDLER_KIND_COUNT];

/* Bytes of a binding of @kind: struct binding up to the end of its kind's options. */
size_t binding_alloc_size(enum handler_kind kind);
/* Copies @b's configuration into @out whole: the options past its kind's zeroed. */
void binding_config_get(const struct binding *b, struct binding_config *out);

/*
 * True when @a can be a peer's own address: not unspecified (0.0.0.0, ::),
 * not the limited broadcast 255.255.255.255 (RFC 919), not multicast
 * (224.0.0.0/4, RFC 1112 4; ff00::/8, RFC 4291 2.7).
 */
bool addr4_is_unicast(const uint8_t a[4]);
bool addr6_is_unicast(const uint8_t a[16]);

/*
 * Writes the @n-byte reply a handler built in dc->scratch back to its port
 * and counts it in extra[0] ("replies"). @n <= 0 is passed through: 0 is
 * "no reply", a negative errno the builder's failure.
 */
int handler_send(struct binding *b, struct dispatch_ctx *dc, ssize_t n);

#endif
