// SPDX-License-Identifier: MIT
/*
 * The forward handler: writes each frame unchanged to another port of the
 * same framing, named in its options, so two taps become a wire and many
 * a switch. Whether that port exists is decided when the binding is made
 * (portset.c) and again per frame: it may be deleted later.
 */
#include "h_forward.h"

#include <errno.h>

#include "handler.h"

/*
 * The frame goes out unchanged, so both ports must frame it alike: an
 * Ethernet frame is no IP packet, and a tun with packet info expects the
 * 4-byte header a plain tun would take for the start of the packet.
 */
static int forward_run(struct binding *b, struct dispatch_ctx *dc)
{
	struct port *to = NULL;
	int ret;

	if (dc->lookup)
		to = dc->lookup(dc->lookup_arg, b->cfg.o.forward.port);
	if (!to)
		return -ENODEV;
	/* Written back to its own device the frame would go to the kernel side, not on. */
	if (to == dc->port)
		return -ELOOP;
	if (port_frame_link(to) != port_frame_link(dc->port))
		return -EPROTOTYPE;
	ret = port_write(to, dc->frame, dc->len);
	if (ret < 0)
		return ret;
	b->c.extra[0]++;
	return 0;
}

const struct handler_ops handler_forward = {
	.name = "forward",
	.levels = LEVELS_ALL,
	.placement = "at any node",
	.extra = { "forwarded" },
	.options = sizeof(struct forward_opts),
	.run = forward_run,
	.main_loop = true,
};
