// SPDX-License-Identifier: MIT
/*
 * The count handler: does nothing per frame, because the dispatcher
 * (stack.c) counts the packets and bytes of every binding itself; binding
 * it is how a client counts what reaches a node. No options.
 */
#include "h_count.h"

#include "handler.h"

/* The dispatcher has already counted the frame on the binding: that is all. */
static int count_run(struct binding *b, struct dispatch_ctx *dc)
{
	(void)b;
	(void)dc;
	return 0;
}

const struct handler_ops handler_count = {
	.name = "count",
	.levels = LEVELS_ALL,
	.placement = "at any node",
	.run = count_run,
};
