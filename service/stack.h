/* SPDX-License-Identifier: MIT */
/*
 * A port's protocol stack: its bindings in creation order, the dispatcher
 * that walks every frame down the tree (Ethernet type → IP protocol → UDP
 * port) running the bindings on its path, the port's data-plane counters
 * and its capture ring. Twisted Pair's addProto tree, made observable:
 * every frame read lands in exactly one of matched, unmatched (at the level
 * where dispatch stopped) or malformed (by reason), so they add up to the
 * frames read.
 */
#ifndef PAIRD_STACK_H
#define PAIRD_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "handler.h"
#include "capture.h"
#include "fault.h"
#include "parse.h"

struct port;
struct stack;

enum csum_proto { CSUM_IPV4, CSUM_UDP, CSUM_ICMP, CSUM_ICMPV6, CSUM_PROTO_COUNT };

struct stack_counters {
	uint64_t matched;
	uint64_t unmatched[LEVEL_COUNT]; /* ETHERTYPE, IP_PROTOCOL, UDP_PORT are used */
	uint64_t malformed[MALFORMED_COUNT];
	uint64_t bad_checksum[CSUM_PROTO_COUNT]; /* delivered anyway unless strict */
	uint64_t fragments;			 /* stopped at the IP protocol node */
};

/* Shared by every stack of a port set. */
struct stack_env {
	struct capture_budget *budget;
	size_t ring_bytes;     /* each port's capture ring */
	unsigned max_bindings; /* per port */
	uint8_t *scratch;      /* PORT_FRAME_MAX bytes for handlers' replies */
	struct port *(*lookup)(void *arg, const char *name);
	void *lookup_arg;
};

/* A stack for @port; it becomes the port's frame sink. NULL on ENOMEM. */
struct stack *stack_new(const struct stack_env *env, struct port *port);
/* Frees the bindings and the capture ring. NULL is a no-op. */
void stack_free(struct stack *s);
/*
 * Moves the stack to another port (a port replaced by PUT keeps its
 * bindings). Like every function here that changes the stack, it pauses
 * the port's queue workers meanwhile (queue.h, rule 2).
 */
void stack_attach(struct stack *s, struct port *port);

/*
 * Adds a binding (its id assigned unless @cfg has one, as from the state
 * file). The first capture binding allocates the port's capture ring.
 * Faults: FAULT_LIMIT (bindings, capture memory), FAULT_CONFLICT (an id, or
 * a non-empty name, in use on this port: field "id" or "name"),
 * FAULT_INVALID (the handler refused, e.g. a bad capture filter).
 */
int stack_bind(struct stack *s, const struct binding_config *cfg, struct binding **out,
	       struct fault *f);
/* Removes binding @id; FAULT_NOT_FOUND when there is none. */
int stack_unbind(struct stack *s, uint32_t id, struct fault *f);
/*
 * Takes binding @id out without freeing it, saying where it stood, so a
 * caller can put it back unchanged (stack_reattach) or free it
 * (stack_binding_free). NULL when there is none.
 */
struct binding *stack_detach(struct stack *s, uint32_t id, size_t *index);
void stack_reattach(struct stack *s, struct binding *b, size_t index);
void stack_binding_free(struct binding *b);

/* The id the next binding gets, and raising it (ids are never handed out twice). */
uint32_t stack_next_id(const struct stack *s);
void stack_set_next_id(struct stack *s, uint32_t id);

/*
 * Starts the counters again, the stack's and its bindings', with a new
 * since: for a port whose device was replaced, whose own counters restart.
 */
void stack_restart(struct stack *s);

size_t stack_count(const struct stack *s);
/* Bindings in creation order; NULL past the end. */
struct binding *stack_at(const struct stack *s, size_t i);
struct binding *stack_find(const struct stack *s, uint32_t id);
/* The binding named @name on this stack; NULL when none (always for ""). */
struct binding *stack_find_name(const struct stack *s, const char *name);

const struct stack_counters *stack_counters(const struct stack *s);
/*
 * A stream tap: a capture stream's private capture (issue 8, follow with
 * ?filter= or ?snaplen=), called for every frame the port reads, parsed,
 * before the bindings run; it must do O(1) work and no I/O. It lives until
 * stack_tap_remove() or the stack's end, which removes it and calls gone()
 * (the port was deleted). Nothing of it is in the state file.
 */
struct dispatch_ctx;
struct stack_tap {
	void (*frame)(struct stack_tap *t, struct dispatch_ctx *dc);
	void (*gone)(struct stack_tap *t);
	struct stack *s; /* set while added */
	struct stack_tap *next, *prev;
};
void stack_tap_add(struct stack *s, struct stack_tap *t);
/* A no-op when @t is not added. */
void stack_tap_remove(struct stack_tap *t);
/* The capture memory budget the stack's rings come from (a tap's ring too). */
struct capture_budget *stack_budget(const struct stack *s);

/* The capture ring, NULL until a capture binding was made. */
struct capture_ring *stack_ring(const struct stack *s);
/*
 * Frees the capture ring and gives its memory back to the budget, when no
 * capture binding uses it: the undo of a binding whose ring was new.
 */
void stack_ring_release(struct stack *s);
/* When these counters started. */
struct timespec stack_since(const struct stack *s);

/* The port's frame sink: parses and dispatches one frame. */
void stack_input(struct port *port, const uint8_t *frame, size_t len, unsigned rx, void *arg);
/* Its train sink (port_train_fn): the rest of a super-frame after its lead. */
bool stack_train(struct port *port, uint64_t n, uint64_t bytes, void *arg);

/*
 * Multi-queue ports (queue.h): the sink of queues 1..N-1, on a worker
 * with the port paused for the main thread (true: it handed frames to the
 * main loop), and the main loop's run of what was handed off.
 */
bool stack_queue_input(void *arg, unsigned q, const uint8_t *frame, size_t len, unsigned rx);
void stack_queue_drain(void *arg, unsigned q);
/*
 * Gets the stack ready for a port of @queues queues (its lanes, every
 * binding's queue counters) before it is attached to one: 0 or -ENOMEM,
 * nothing changed then. stack_attach() does it too, but cannot fail.
 */
int stack_reserve_queues(struct stack *s, unsigned queues);
/* Hand-offs queue @q (1..N-1) lost to a full ring (binding errors count them too). */
uint64_t stack_queue_dropped(const struct stack *s, unsigned q);
/* @b's counters summed over its port's queues (b->c alone on a single-queue port). */
void binding_counters_sum(const struct binding *b, struct binding_counters *out);

/* The level names of the API and /metrics: "ethertype", "ip_protocol", "udp_port". */
const char *level_name(enum level lv);
const char *csum_proto_name(enum csum_proto p);

#endif
