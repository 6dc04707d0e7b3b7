// SPDX-License-Identifier: MIT
/*
 * The handler table of handler.h, indexed by enum handler_kind, and what
 * the handler files share per frame: the unicast address tests and
 * sending a reply built in the dispatcher's scratch buffer. bindcfg.c
 * configures bindings through the table; the dispatcher (stack.c) runs
 * them.
 */
#include "handler.h"

#include <stddef.h>
#include <string.h>

#include "h_capture.h"
#include "h_count.h"
#include "h_drop.h"
#include "h_echo.h"
#include "h_forward.h"
#include "h_reply.h"
#include "queue.h"

/* clang-format off */
const struct handler_ops *const handlers[HANDLER_KIND_COUNT] = {
	[HANDLER_COUNT] = &handler_count,
	[HANDLER_CAPTURE] = &handler_capture,
	[HANDLER_ECHO] = &handler_echo,
	[HANDLER_ARP_REPLY] = &handler_arp_reply,
	[HANDLER_NDP_REPLY] = &handler_ndp_reply,
	[HANDLER_FORWARD] = &handler_forward,
	[HANDLER_DROP] = &handler_drop,
};
/* clang-format on */

/* Where a binding's own options start: binding_config.o within struct binding. */
#define OPTIONS_AT (offsetof(struct binding, cfg) + offsetof(struct binding_config, o))

size_t binding_alloc_size(enum handler_kind kind)
{
	size_t n = OPTIONS_AT + handlers[kind]->options;

	/* Whole words, as struct binding is aligned to them (malloc rounds so anyway). */
	return (n + sizeof(uint64_t) - 1) & ~(sizeof(uint64_t) - 1);
}

void binding_config_get(const struct binding *b, struct binding_config *out)
{
	size_t n = offsetof(struct binding_config, o) + handlers[b->cfg.kind]->options;

	memset(out, 0, sizeof(*out));
	memcpy(out, &b->cfg, n);
}

bool addr4_is_unicast(const uint8_t a[4])
{
	static const uint8_t any[4], bcast[4] = { 255, 255, 255, 255 };

	return memcmp(a, any, 4) != 0 && memcmp(a, bcast, 4) != 0 && (a[0] & 0xf0) != 0xe0;
}

bool addr6_is_unicast(const uint8_t a[16])
{
	static const uint8_t any[16];

	return memcmp(a, any, 16) != 0 && a[0] != 0xff;
}

int handler_send(struct binding *b, struct dispatch_ctx *dc, ssize_t n)
{
	int ret;

	if (n <= 0)
		return (int)n;
	/* A queue worker answers on its own queue, counting on its own counters (queue.h). */
	if (dc->queue) {
		ret = port_queue_write(dc->port, dc->queue, dc->scratch, (size_t)n);
		if (ret < 0)
			return ret;
		QUEUE_CTR_ADD(b->qc[dc->queue].c.extra[0], 1);
		return 0;
	}
	ret = port_write(dc->port, dc->scratch, (size_t)n);
	if (ret < 0)
		return ret;
	b->c.extra[0]++;
	return 0;
}
