// SPDX-License-Identifier: MIT
/*
 * The drop handler. paird never passes frames on by itself, so "drop"
 * does what "count" does (the dispatcher counts the binding's packets and
 * bytes); the name says on purpose that the frame ends here. No options.
 */
#include "h_drop.h"

#include "handler.h"

static int drop_run(struct binding *b, struct dispatch_ctx *dc)
{
	(void)b;
	(void)dc;
	return 0;
}

const struct handler_ops handler_drop = {
	.name = "drop",
	.levels = LEVELS_ALL,
	.placement = "at any node",
	.run = drop_run,
};
