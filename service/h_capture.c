// SPDX-License-Identifier: MIT
/*
 * The capture handler (DESIGN.md, "The dispatch tree and bindings"): keeps
 * each frame that reaches its node in the port's capture ring, cut to the
 * binding's snaplen, until its limit is reached, optionally only frames
 * that pass a tcpdump-syntax filter compiled by libpcap. bindcfg.c reaches
 * it through the handler table (handlers.c); the dispatcher (stack.c) calls
 * run() for every frame at the binding's node.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binding.h"
#include "capture.h"
#include "handlers.h"

#define CAPTURE_LIMIT_MAX (1ull << 53) /* exact in every JSON reader's doubles */

struct option {
	const char *name;
	const char *field; /* as faults name it */
	json_type type;
	int (*parse)(const json_t *v, struct capture_opts *o, struct fault *f);
};

static int parse_limit(const json_t *v, struct capture_opts *o, struct fault *f)
{
	json_int_t n = json_integer_value(v);

	if (n < 0 || (unsigned long long)n > CAPTURE_LIMIT_MAX)
		return fault_set(f, FAULT_INVALID, 0, "options.limit",
				 "must be 0 (no limit) to %llu (got %lld)", CAPTURE_LIMIT_MAX,
				 (long long)n);
	o->limit = (uint64_t)n;
	return 0;
}

static int parse_snaplen(const json_t *v, struct capture_opts *o, struct fault *f)
{
	json_int_t n = json_integer_value(v);

	if (n < 1 || n > CAPTURE_SNAPLEN_MAX)
		return fault_set(f, FAULT_INVALID, 0, "options.snaplen", "must be 1..%d (got %lld)",
				 CAPTURE_SNAPLEN_MAX, (long long)n);
	o->snaplen = (uint32_t)n;
	return 0;
}

static int parse_filter(const json_t *v, struct capture_opts *o, struct fault *f)
{
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);

	if (len >= CAPTURE_FILTER_MAX)
		return fault_set(f, FAULT_INVALID, 0, "options.filter",
				 "a filter is at most %d bytes long (got %zu)",
				 CAPTURE_FILTER_MAX - 1, len);
	if (strlen(s) != len)
		return fault_set(f, FAULT_INVALID, 0, "options.filter",
				 "must not contain a NUL character");
	memcpy(o->filter, s, len + 1);
	return 0;
}

static const struct option options[] = {
	{ "limit", "options.limit", JSON_INTEGER, parse_limit },
	{ "snaplen", "options.snaplen", JSON_INTEGER, parse_snaplen },
	{ "filter", "options.filter", JSON_STRING, parse_filter },
};

static const struct option *option_find(const char *key)
{
	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++)
		if (strcmp(options[i].name, key) == 0)
			return &options[i];
	return NULL;
}

/*
 * Compiles @filter for frames of a @ptype port into @prog (released with
 * pcap_freecode()). An invalid filter is a fault carrying libpcap's words.
 */
static int filter_compile(const char *filter, enum port_type ptype, uint32_t snaplen,
			  struct bpf_program *prog, struct fault *f)
{
	/* A tun's frames reach the filter without their packet information header. */
	pcap_t *p = pcap_open_dead(ptype == PORT_TAP ? DLT_EN10MB : DLT_RAW, (int)snaplen);
	int ret = 0;

	if (!p)
		return fault_errno(f, ENOMEM, "options.filter", "cannot compile the filter");
	if (pcap_compile(p, prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0)
		ret = fault_set(f, FAULT_INVALID, 0, "options.filter", "%s", pcap_geterr(p));
	pcap_close(p);
	return ret;
}

static int capture_configure(const json_t *opts, enum port_type ptype, struct binding_config *cfg,
			     struct fault *f)
{
	struct capture_opts *o = &cfg->o.capture;
	struct bpf_program prog;
	const char *key;
	char field[64];
	json_t *v;

	memset(o, 0, sizeof(*o));
	o->snaplen = CAPTURE_SNAPLEN_MAX;
	if (!opts)
		return 0;
	if (!json_is_object(opts))
		return fault_set(f, FAULT_INVALID, 0, "options", "must be an object");
	json_object_foreach((json_t *)opts, key, v) {
		const struct option *op = option_find(key);

		if (!op) {
			snprintf(field, sizeof(field), "options.%s", key);
			return fault_set(f, FAULT_INVALID, 0, field,
					 "unknown option of a capture (limit, snaplen, filter)");
		}
		if (json_typeof(v) != op->type)
			return fault_set(f, FAULT_INVALID, 0, op->field, "must be %s",
					 op->type == JSON_STRING ? "a string" : "an integer");
		if (op->parse(v, o, f) < 0)
			return -EINVAL;
	}
	/* Refuse a bad filter here, with the request, not later when the binding starts. */
	if (o->filter[0]) {
		if (filter_compile(o->filter, ptype, o->snaplen, &prog, f) < 0)
			return -EINVAL;
		pcap_freecode(&prog);
	}
	return 0;
}

static void capture_options_json(const struct binding_config *cfg, json_t *o)
{
	const struct capture_opts *c = &cfg->o.capture;

	json_object_set_new(o, "limit", json_integer((json_int_t)c->limit));
	json_object_set_new(o, "snaplen", json_integer(c->snaplen));
	json_object_set_new(o, "filter", json_string(c->filter));
}

static int capture_init(struct binding *b, const struct port_config *port, struct fault *f)
{
	const struct capture_opts *o = &b->cfg.o.capture;
	struct bpf_program *prog = NULL;
	int ret = 0;

	b->priv = NULL;
	if (!o->filter[0])
		goto out;
	prog = malloc(sizeof(*prog));
	if (!prog) {
		ret = fault_errno(f, ENOMEM, NULL, "cannot allocate a capture filter");
		goto out;
	}
	ret = filter_compile(o->filter, port->type, o->snaplen, prog, f);
	if (ret < 0)
		goto out;
	b->priv = prog;
	prog = NULL;
out:
	free(prog);
	return ret;
}

static void capture_fini(struct binding *b)
{
	struct bpf_program *prog = b->priv;

	if (!prog)
		return;
	pcap_freecode(prog);
	free(prog);
	b->priv = NULL;
}

static int capture_run(struct binding *b, struct dispatch_ctx *dc)
{
	const struct capture_opts *o = &b->cfg.o.capture;
	const struct bpf_program *prog = b->priv;
	uint32_t len = (uint32_t)dc->len;

	if (o->limit && b->c.extra[0] >= o->limit)
		return 0;
	if (prog) {
		size_t skip = 0;
		struct pcap_pkthdr h;

		if (port_frame_link(dc->port) == LINK_IP_PI)
			skip = dc->len < PI_HDR_LEN ? dc->len : PI_HDR_LEN;
		h.ts.tv_sec = dispatch_time(dc)->tv_sec;
		h.ts.tv_usec = dispatch_time(dc)->tv_nsec / 1000;
		h.caplen = h.len = (bpf_u_int32)(dc->len - skip);
		if (pcap_offline_filter(prog, &h, dc->frame + skip) == 0) {
			b->c.extra[1]++;
			return 0;
		}
	}
	if (!dc->ring)
		return -ENOSPC;
	if (!capture_ring_add(dc->ring, dispatch_time(dc), b->cfg.id, dc->frame, len,
			      len < o->snaplen ? len : o->snaplen, dc->fi))
		return -EMSGSIZE; /* the ring is smaller than this one record */
	b->c.extra[0]++;
	return 0;
}

const struct handler_ops handler_capture = {
	.name = "capture",
	.levels = (1u << LEVEL_ROOT) | (1u << LEVEL_ETHERTYPE) | (1u << LEVEL_IP_PROTOCOL) |
		  (1u << LEVEL_UDP_PORT),
	.placement = "at any node",
	.extra = { "captured", "filtered_out" },
	.configure = capture_configure,
	.options_json = capture_options_json,
	.init = capture_init,
	.fini = capture_fini,
	.run = capture_run,
};
