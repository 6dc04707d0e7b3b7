/* SPDX-License-Identifier: MIT */
/*
 * The handler kinds a binding can name (DESIGN.md, "The dispatch tree and
 * bindings"), one const vtable each, gathered by kind in binding.h's
 * handlers[] table: count and drop (handlers.c) only count, forward
 * (handlers.c) writes frames to another port, capture (h_capture.c) keeps
 * them, echo (h_echo.c) answers UDP and ICMP/ICMPv6 echo, arp_reply and
 * ndp_reply (h_reply.c) resolve listed addresses. bindcfg.c configures
 * bindings through them; the dispatcher (stack.c) runs them. The helpers
 * below are shared by the handler files for their configure() checks.
 */
#ifndef PAIRD_HANDLERS_H
#define PAIRD_HANDLERS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "binding.h"
#include "fault.h"

extern const struct handler_ops handler_count, handler_capture, handler_echo, handler_arp_reply,
	handler_ndp_reply, handler_forward, handler_drop;

/*
 * For handlers without options: accepts @opts absent (NULL) or an empty
 * object. Anything else is a FAULT_INVALID naming "options" (not an
 * object) or "options.<key>" (the first key). Returns 0 or -EINVAL.
 */
int handler_no_options(const struct handler_ops *ops, const json_t *opts, struct fault *f);

/* A FAULT_INVALID on "handler" saying where @ops may live. Returns -EINVAL. */
int handler_misplaced(const struct handler_ops *ops, struct fault *f);

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
