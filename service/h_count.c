// SPDX-License-Identifier: MIT
/*
 * The count handler: no options and no run(), because the dispatcher
 * (stack.c) counts the packets and bytes of every binding itself; binding
 * it is how a client counts what reaches a node.
 */
#include "h_count.h"

#include "handler.h"

const struct handler_ops handler_count = {
	.name = "count",
	.levels = LEVELS_ALL,
	.placement = "at any node",
};
