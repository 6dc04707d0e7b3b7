// SPDX-License-Identifier: MIT
/*
 * The capture handler (DESIGN.md, "The dispatch tree and bindings"): keeps
 * each frame that reaches its node in the port's capture ring, cut to the
 * binding's snaplen, until its limit is reached, optionally only frames
 * that pass a tcpdump-syntax filter compiled by libpcap. bindcfg.c reads
 * its options and has check() compile the filter; the dispatcher (stack.c)
 * calls run() for every frame at the binding's node.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdlib.h>

#include "h_capture.h"

#include "capture.h"
#include "handler.h"

static uint64_t compiles;

uint64_t capture_filter_compiles(void)
{
	return compiles;
}

int capture_filter_compile(const char *filter, enum frame_link link, uint32_t snaplen,
			   struct bpf_program *prog, const char *field, struct fault *f)
{
	/* A tun's frames reach the filter without their packet information header. */
	pcap_t *p = pcap_open_dead(link == LINK_ETHERNET ? DLT_EN10MB : DLT_RAW, (int)snaplen);
	int ret = 0;

	if (!p)
		return fault_errno(f, ENOMEM, field, "cannot compile the filter");
	compiles++;
	if (pcap_compile(p, prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0)
		ret = fault_set(f, FAULT_INVALID, 0, field, "%s", pcap_geterr(p));
	pcap_close(p);
	return ret;
}

/* Compiles @filter for frames of a @ptype port into @prog (released with pcap_freecode()). */
static int filter_compile(const char *filter, enum port_type ptype, uint32_t snaplen,
			  struct bpf_program *prog, struct fault *f)
{
	return capture_filter_compile(filter, ptype == PORT_TAP ? LINK_ETHERNET : LINK_IP, snaplen,
				      prog, "options.filter", f);
}

bool capture_filter_match(const struct bpf_program *prog, enum frame_link link,
			  const uint8_t *frame, size_t len, const struct timespec *ts)
{
	size_t skip = 0;
	struct pcap_pkthdr h;

	if (link == LINK_IP_PI)
		skip = len < PI_HDR_LEN ? len : PI_HDR_LEN;
	h.ts.tv_sec = ts->tv_sec;
	h.ts.tv_usec = ts->tv_nsec / 1000;
	h.caplen = h.len = (bpf_u_int32)(len - skip);
	return pcap_offline_filter(prog, &h, frame + skip) != 0;
}

/* Refuses a bad filter with the request, not later when the binding starts. */
static int capture_check(const struct binding_config *cfg, enum port_type ptype, struct fault *f)
{
	const struct capture_opts *o = &cfg->o.capture;
	struct bpf_program prog;

	if (!o->filter[0])
		return 0;
	if (filter_compile(o->filter, ptype, o->snaplen, &prog, f) < 0)
		return -EINVAL;
	pcap_freecode(&prog);
	return 0;
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
	if (prog && !capture_filter_match(prog, port_frame_link(dc->port), dc->frame, dc->len,
					  dispatch_time(dc))) {
		b->c.extra[1]++;
		return 0;
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
	.options = sizeof(struct capture_opts),
	.check = capture_check,
	.init = capture_init,
	.fini = capture_fini,
	.run = capture_run,
	.main_loop = true,
};
