// SPDX-License-Identifier: MIT
/*
 * GET /metrics: the counters of every port and binding in the Prometheus
 * text format (version 0.0.4), read from the same structures the JSON
 * resources read, in the same loop turn, so both views agree. Each family
 * is written once with its HELP and TYPE, then one sample per port (or per
 * port and label value).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../service/capture.h"
#include "../service/portset.h"
#include "../service/stack.h"
#include "internal.h"

struct emit {
	FILE *out;
	struct portset *ps;
};

static void family(struct emit *e, const char *name, const char *type, const char *help)
{
	fprintf(e->out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One sample per port of a counter read by @get. */
static void per_port(struct emit *e, const char *name, const char *type, const char *help,
		     uint64_t (*get)(const struct port *p, const struct stack *s))
{
	struct port *p;

	family(e, name, type, help);
	for (size_t i = 0; (p = portset_at(e->ps, i)); i++)
		fprintf(e->out, "%s{port=\"%s\"} %llu\n", name, port_name(p),
			(unsigned long long)get(p, portset_stack(e->ps, p)));
}

#define PORT_GETTER(fn, expr)                                                \
	static uint64_t fn(const struct port *p, const struct stack *s)      \
	{                                                                    \
		(void)p;                                                     \
		(void)s;                                                     \
		return (expr);                                               \
	}

PORT_GETTER(get_rx_frames, port_counters(p)->rx_frames)
PORT_GETTER(get_rx_bytes, port_counters(p)->rx_bytes)
PORT_GETTER(get_tx_frames, port_counters(p)->tx_frames)
PORT_GETTER(get_tx_bytes, port_counters(p)->tx_bytes)
PORT_GETTER(get_truncated, port_counters(p)->truncated)
PORT_GETTER(get_matched, stack_counters(s)->matched)
PORT_GETTER(get_fragments, stack_counters(s)->fragments)
PORT_GETTER(get_up, port_state(p) == PORT_STATE_UP)
PORT_GETTER(get_since, (uint64_t)stack_since(s).tv_sec)

static void capture_stats(const struct stack *s, struct capture_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (stack_ring(s))
		capture_ring_stats(stack_ring(s), st);
}


static void errno_family(struct emit *e, const char *name, const char *help, bool writes)
{
	struct port *p;
	char nb[16];

	family(e, name, "counter", help);
	for (size_t i = 0; (p = portset_at(e->ps, i)); i++) {
		const uint64_t *slots = writes ? port_counters(p)->write_errors
					       : port_counters(p)->read_errors;

		for (int err = 0; err < PORT_ERRNO_SLOTS; err++)
			if (slots[err])
				fprintf(e->out, "%s{port=\"%s\",errno=\"%s\"} %llu\n", name,
					port_name(p), err ? errno_name(err, nb) : "other",
					(unsigned long long)slots[err]);
	}
}

static const char *level_label(int i)
{
	return level_name((enum level)i);
}

static const char *malformed_label(int i)
{
	return malformed_name((enum malformed)i);
}

static const char *csum_label(int i)
{
	return csum_proto_name((enum csum_proto)i);
}

/* The per-port counter arrays of the stack, one labelled sample per slot. */
static void stack_families(struct emit *e)
{
	static const struct {
		const char *name, *help, *label;
		size_t off; /* of the uint64_t array in struct stack_counters */
		int first, count;
		const char *(*label_of)(int i);
	} fams[] = {
		{ "paird_port_unmatched_frames_total",
		  "Frames no binding took, by the level where dispatch stopped.", "level",
		  offsetof(struct stack_counters, unmatched), LEVEL_ETHERTYPE, LEVEL_COUNT,
		  level_label },
		{ "paird_port_malformed_frames_total", "Frames whose parsing stopped early, by reason.",
		  "reason", offsetof(struct stack_counters, malformed), 1, MALFORMED_COUNT,
		  malformed_label },
		{ "paird_port_bad_checksum_frames_total",
		  "Frames with a bad checksum, by protocol (delivered unless the port is strict).",
		  "protocol", offsetof(struct stack_counters, bad_checksum), 0, CSUM_PROTO_COUNT,
		  csum_label },
	};
	struct port *p;

	for (size_t f = 0; f < sizeof(fams) / sizeof(fams[0]); f++) {
		family(e, fams[f].name, "counter", fams[f].help);
		for (size_t i = 0; (p = portset_at(e->ps, i)); i++) {
			const uint64_t *v = (const uint64_t *)((const char *)stack_counters(
								       portset_stack(e->ps, p)) +
							       fams[f].off);

			for (int k = fams[f].first; k < fams[f].count; k++)
				fprintf(e->out, "%s{port=\"%s\",%s=\"%s\"} %llu\n", fams[f].name,
					port_name(p), fams[f].label, fams[f].label_of(k),
					(unsigned long long)v[k]);
		}
	}
}

static void capture_families(struct emit *e)
{
	static const struct {
		const char *name, *type, *help;
		size_t off;
	} fams[] = {
		{ "paird_port_capture_records", "gauge", "Captured frames retained in the ring.",
		  offsetof(struct capture_stats, records) },
		{ "paird_port_capture_bytes", "gauge", "Bytes of captured frames retained.",
		  offsetof(struct capture_stats, bytes) },
		{ "paird_port_capture_evictions_total", "counter",
		  "Captured frames evicted to make room.", offsetof(struct capture_stats, evictions) },
		{ "paird_port_capture_dropped_total", "counter",
		  "Frames too large for the capture ring.", offsetof(struct capture_stats, dropped) },
		{ "paird_port_capture_capacity_bytes", "gauge",
		  "Bytes reserved for the port's capture ring.",
		  offsetof(struct capture_stats, capacity) },
	};
	struct capture_stats st;
	struct port *p;

	for (size_t f = 0; f < sizeof(fams) / sizeof(fams[0]); f++) {
		family(e, fams[f].name, fams[f].type, fams[f].help);
		for (size_t i = 0; (p = portset_at(e->ps, i)); i++) {
			capture_stats(portset_stack(e->ps, p), &st);
			fprintf(e->out, "%s{port=\"%s\"} %llu\n", fams[f].name, port_name(p),
				(unsigned long long)*(const uint64_t *)((const char *)&st +
									 fams[f].off));
			_Static_assert(sizeof(st.capacity) == sizeof(uint64_t),
				       "capture_stats fields are read as uint64_t");
		}
	}
}

static void binding_families(struct emit *e)
{
	static const char *const names[] = { "paird_binding_packets_total",
					     "paird_binding_bytes_total",
					     "paird_binding_errors_total" };
	static const char *const helps[] = { "Frames that reached the binding.",
					     "Bytes of the frames that reached the binding.",
					     "Frames the binding's handler failed on." };
	struct binding *b;
	struct port *p;

	for (int k = 0; k < 3; k++) {
		family(e, names[k], "counter", helps[k]);
		for (size_t i = 0; (p = portset_at(e->ps, i)); i++) {
			const struct stack *s = portset_stack(e->ps, p);

			for (size_t j = 0; (b = stack_at(s, j)); j++) {
				uint64_t v = k == 0 ? b->c.packets : k == 1 ? b->c.bytes : b->c.errors;

				fprintf(e->out, "%s{port=\"%s\",binding=\"%u\",handler=\"%s\"} %llu\n",
					names[k], port_name(p), b->cfg.id, b->ops->name,
					(unsigned long long)v);
			}
		}
	}
}

/*
 * The handlers' own counters (captured, filtered_out, replies, forwarded):
 * one family per name, a sample per binding whose handler has it.
 */
static void extra_families(struct emit *e)
{
	const char *done[HANDLER_KIND_COUNT * BINDING_EXTRA_MAX];
	size_t ndone = 0;

	for (int k = 0; k < HANDLER_KIND_COUNT; k++) {
		for (int x = 0; x < BINDING_EXTRA_MAX; x++) {
			const char *name = handlers[k]->extra[x];
			char fam[96];
			struct port *p;
			size_t d;

			for (d = 0; name && d < ndone; d++)
				if (strcmp(done[d], name) == 0)
					break;
			if (!name || d < ndone)
				continue;
			done[ndone++] = name;
			snprintf(fam, sizeof(fam), "paird_binding_%s_total", name);
			family(e, fam, "counter", "A handler's own counter (see the binding's JSON).");
			for (size_t i = 0; (p = portset_at(e->ps, i)); i++) {
				const struct stack *s = portset_stack(e->ps, p);
				struct binding *b;

				for (size_t j = 0; (b = stack_at(s, j)); j++)
					for (int y = 0; y < BINDING_EXTRA_MAX; y++)
						if (b->ops->extra[y] &&
						    strcmp(b->ops->extra[y], name) == 0)
							fprintf(e->out,
								"%s{port=\"%s\",binding=\"%u\","
								"handler=\"%s\"} %llu\n",
								fam, port_name(p), b->cfg.id,
								b->ops->name,
								(unsigned long long)b->c.extra[y]);
			}
		}
	}
}

int h_metrics(struct api *api, struct request *rq, struct response *rs, struct fault *f)
{
	struct emit e = { .ps = api->cfg.ports };
	char *text = NULL;
	size_t len = 0;

	(void)rq;
	e.out = open_memstream(&text, &len);
	if (!e.out)
		return fault_set(f, FAULT_UNAVAILABLE, ENOMEM, NULL, "out of memory");
	family(&e, "paird_ports", "gauge", "Ports paird holds.");
	fprintf(e.out, "paird_ports %zu\n", portset_count(e.ps));
	family(&e, "paird_capture_memory_used_bytes", "gauge",
	       "Capture ring memory reserved by all ports.");
	fprintf(e.out, "paird_capture_memory_used_bytes %zu\n",
		capture_budget_used(portset_budget(e.ps)));
	family(&e, "paird_capture_memory_limit_bytes", "gauge",
	       "The capture memory cap (--capture-memory).");
	fprintf(e.out, "paird_capture_memory_limit_bytes %zu\n",
		capture_budget_limit(portset_budget(e.ps)));
	per_port(&e, "paird_port_up", "gauge", "1 when the port's link is up.", get_up);
	per_port(&e, "paird_port_counters_since_seconds", "gauge",
		 "Unix time when the port's counters started.", get_since);
	per_port(&e, "paird_port_rx_frames_total", "counter", "Frames read.", get_rx_frames);
	per_port(&e, "paird_port_rx_bytes_total", "counter", "Bytes read.", get_rx_bytes);
	per_port(&e, "paird_port_tx_frames_total", "counter", "Frames written.", get_tx_frames);
	per_port(&e, "paird_port_tx_bytes_total", "counter", "Bytes written.", get_tx_bytes);
	per_port(&e, "paird_port_truncated_frames_total", "counter",
		 "Frames longer than the read buffer.", get_truncated);
	errno_family(&e, "paird_port_read_errors_total", "Failed reads, by errno.", false);
	errno_family(&e, "paird_port_write_errors_total", "Failed writes, by errno.", true);
	per_port(&e, "paird_port_matched_frames_total", "counter",
		 "Frames at least one binding took.", get_matched);
	stack_families(&e);
	per_port(&e, "paird_port_fragments_total", "counter",
		 "IP fragments (stopped at the IP protocol node).", get_fragments);
	capture_families(&e);
	binding_families(&e);
	extra_families(&e);
	if (fclose(e.out) != 0) {
		free(text);
		return fault_set(f, FAULT_UNAVAILABLE, ENOMEM, NULL, "out of memory");
	}
	rs->status = 200;
	rs->content_type = "text/plain; version=0.0.4; charset=utf-8";
	rs->body = text;
	rs->len = len;
	return 0;
}
