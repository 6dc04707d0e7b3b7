// SPDX-License-Identifier: MIT
/*
 * The handler table of binding.h, indexed by enum handler_kind, and the
 * handlers too small for a file of their own: count and drop, which do
 * nothing per frame because the dispatcher counts packets and bytes of
 * every binding itself, and forward, which writes each frame unchanged to
 * another port of the same framing (two taps become a wire). Also the
 * configure() helpers every handler file shares. bindcfg.c configures
 * bindings through the table; the dispatcher (stack.c) runs them.
 */
#include "handlers.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "port.h"
#include "portcfg.h"

#define LEVELS_ALL ((1u << LEVEL_COUNT) - 1)

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

/* --- shared configure() helpers --- */

int handler_misplaced(const struct handler_ops *ops, struct fault *f)
{
	return fault_set(f, FAULT_INVALID, 0, "handler", "%s lives %s", ops->name, ops->placement);
}

int handler_no_options(const struct handler_ops *ops, const json_t *opts, struct fault *f)
{
	char field[64];
	void *it;

	if (!opts)
		return 0;
	if (!json_is_object(opts))
		return fault_set(f, FAULT_INVALID, 0, "options", "must be an object");
	it = json_object_iter((json_t *)opts);
	if (!it)
		return 0;
	snprintf(field, sizeof(field), "options.%s", json_object_iter_key(it));
	return fault_set(f, FAULT_INVALID, 0, field, "unknown option: %s takes no options",
			 ops->name);
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

/* --- count and drop --- */

static int count_configure(const json_t *opts, enum port_type ptype, struct binding_config *cfg,
			   struct fault *f)
{
	(void)ptype;
	(void)cfg;
	return handler_no_options(&handler_count, opts, f);
}

static int drop_configure(const json_t *opts, enum port_type ptype, struct binding_config *cfg,
			  struct fault *f)
{
	(void)ptype;
	(void)cfg;
	return handler_no_options(&handler_drop, opts, f);
}

/* The dispatcher has already counted the frame on the binding: that is all. */
static int run_nothing(struct binding *b, struct dispatch_ctx *dc)
{
	(void)b;
	(void)dc;
	return 0;
}

const struct handler_ops handler_count = {
	.name = "count",
	.levels = LEVELS_ALL,
	.placement = "at any node",
	.configure = count_configure,
	.run = run_nothing,
};

/*
 * paird never passes frames on by itself, so "drop" does what "count"
 * does; the name says on purpose that the frame ends here.
 */
const struct handler_ops handler_drop = {
	.name = "drop",
	.levels = LEVELS_ALL,
	.placement = "at any node",
	.configure = drop_configure,
	.run = run_nothing,
};

/* --- forward --- */

/*
 * {"port": "NAME"}, required. Whether that port exists is not decided
 * here: it may be created later, and the API checks it separately.
 */
static int forward_configure(const json_t *opts, enum port_type ptype, struct binding_config *cfg,
			     struct fault *f)
{
	struct forward_opts *fo = &cfg->o.forward;
	char field[64];
	const char *key, *s;
	json_t *v;

	(void)ptype;
	memset(fo, 0, sizeof(*fo));
	if (opts && !json_is_object(opts))
		return fault_set(f, FAULT_INVALID, 0, "options", "must be an object");
	if (opts) {
		json_object_foreach((json_t *)opts, key, v) {
			if (strcmp(key, "port") == 0)
				continue;
			snprintf(field, sizeof(field), "options.%s", key);
			return fault_set(f, FAULT_INVALID, 0, field,
					 "unknown option: forward takes \"port\" only");
		}
	}
	v = opts ? json_object_get(opts, "port") : NULL;
	if (!v)
		return fault_set(f, FAULT_INVALID, 0, "options.port",
				 "is required: the name of the port to forward to");
	if (!json_is_string(v))
		return fault_set(f, FAULT_INVALID, 0, "options.port", "must be a string");
	s = json_string_value(v);
	if (strlen(s) != json_string_length(v))
		return fault_set(f, FAULT_INVALID, 0, "options.port", "must not contain NUL bytes");
	if (portcfg_name_check(s, "options.port", f) < 0)
		return -EINVAL;
	memcpy(fo->port, s, strlen(s) + 1);
	return 0;
}

static void forward_options_json(const struct binding_config *cfg, json_t *o)
{
	json_object_set_new(o, "port", json_string(cfg->o.forward.port));
}

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
	.configure = forward_configure,
	.options_json = forward_options_json,
	.run = forward_run,
};

int handler_send(struct binding *b, struct dispatch_ctx *dc, ssize_t n)
{
	int ret;

	if (n <= 0)
		return (int)n;
	ret = port_write(dc->port, dc->scratch, (size_t)n);
	if (ret < 0)
		return ret;
	b->c.extra[0]++;
	return 0;
}
