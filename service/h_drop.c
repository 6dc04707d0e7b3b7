// SPDX-License-Identifier: MIT
/*
 * The drop handler. paird never passes frames on by itself, so "drop"
 * does what "count" does: no options and no run(), the dispatcher counts
 * the binding's packets and bytes. The name says on purpose that the
 * frame ends here.
 */
#include "h_drop.h"

#include "handler.h"

const struct handler_ops handler_drop = {
	.name = "drop",
	.levels = LEVELS_ALL,
	.placement = "at any node",
};
