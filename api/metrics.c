// SPDX-License-Identifier: MIT
/*
 * GET /metrics: the counters of every port and binding in the Prometheus
 * text format (version 0.0.4), read from the same structures the JSON
 * resources read, in the same loop turn, so both views agree. Each family
 * is written once with its HELP and TYPE, then one sample per port (or per
 * port and label value). The port families are those of api/counters.c,
 * which the JSON resources walk too; the per-queue ones are those of
 * status.queues (api/ports.c), a sample for each queue of every port.
 */
#include <errno.h>
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

/* A family of port_counter_table: one sample per port, or per port and slot. */
static void port_family(struct emit *e, const struct port_counter *t)
{
	struct port *p;
	char nb[16];

	family(e, t->metric, t->type, t->help);
	for (size_t i = 0; (p = portset_at(e->ps, i)); i++) {
		const struct stack *s = portset_stack(e->ps, p);
		const uint64_t *slots;

		if (t->shape == COUNTER_VALUE) {
			fprintf(e->out, "%s{port=\"%s\"} %llu\n", t->metric, port_name(p),
				(unsigned long long)t->value(p, s));
			continue;
		}
		slots = t->slots(p, s);
		for (int k = t->first; k < t->count; k++)
			if (port_counter_slot_shown(t, slots, k))
				fprintf(e->out, "%s{port=\"%s\",%s=\"%s\"} %llu\n", t->metric,
					port_name(p), t->label, port_counter_slot_name(t, k, nb),
					(unsigned long long)slots[k]);
	}
}

/*
 * What each device queue did (service/queue.h), as status.queues shows it:
 * every port has queue 0 (a single-queue port only that one), so a
 * dashboard needs no other case, and queue 0's figures stay meaningful
 * when a port goes from one queue to several.
 */
static void queue_families(struct emit *e)
{
	struct port *p;

	family(e, "paird_port_queue_rx_frames_total", "counter",
	       "Frames each device queue read (queue 0: the main loop's); "
	       "they add up to paird_port_rx_frames_total.");
	for (size_t i = 0; (p = portset_at(e->ps, i)); i++)
		for (unsigned q = 0; q < port_queues(p); q++)
			fprintf(e->out,
				"paird_port_queue_rx_frames_total{port=\"%s\",queue=\"%u\"} %llu\n",
				port_name(p), q, (unsigned long long)port_queue_rx_frames(p, q));
	family(e, "paird_port_queue_handoff_dropped_total", "counter",
	       "Frames a queue's thread could not hand to the main loop for a capture, forward "
	       "or stream tap (the main loop was behind); always 0 for queue 0.");
	for (size_t i = 0; (p = portset_at(e->ps, i)); i++) {
		const struct stack *s = portset_stack(e->ps, p);

		for (unsigned q = 0; q < port_queues(p); q++)
			fprintf(e->out,
				"paird_port_queue_handoff_dropped_total{port=\"%s\",queue=\"%u\"} "
				"%llu\n",
				port_name(p), q,
				(unsigned long long)(s ? stack_queue_dropped(s, q) : 0));
	}
}

static void capture_families(struct emit *e)
{
	struct capture_stats st;
	struct port *p;

	for (size_t f = 0; f < capture_counter_count; f++) {
		const struct capture_counter *c = &capture_counter_table[f];

		family(e, c->metric, c->type, c->help);
		for (size_t i = 0; (p = portset_at(e->ps, i)); i++) {
			port_capture_stats(portset_stack(e->ps, p), &st);
			fprintf(e->out, "%s{port=\"%s\"} %llu\n", c->metric, port_name(p),
				(unsigned long long)capture_counter_value(c, &st));
		}
	}
}

/*
 * One family per counter name any binding can have (binding_counter_list():
 * packets, bytes, errors, then the handlers' own in handler order), a
 * sample per binding that has it.
 */
static void binding_families(struct emit *e)
{
	const char *done[HANDLER_KIND_COUNT * BINDING_COUNTERS_MAX];
	struct binding_counter names[BINDING_COUNTERS_MAX], bc[BINDING_COUNTERS_MAX];
	size_t ndone = 0;

	for (int k = 0; k < HANDLER_KIND_COUNT; k++) {
		size_t nn = binding_counter_list(handlers[k], NULL, names);

		for (size_t x = 0; x < nn; x++) {
			const char *name = names[x].name;
			char fam[96];
			struct port *p;
			size_t d;

			for (d = 0; d < ndone; d++)
				if (strcmp(done[d], name) == 0)
					break;
			if (d < ndone)
				continue;
			done[ndone++] = name;
			snprintf(fam, sizeof(fam), "paird_binding_%s_total", name);
			family(e, fam, "counter", names[x].help);
			for (size_t i = 0; (p = portset_at(e->ps, i)); i++) {
				const struct stack *s = portset_stack(e->ps, p);
				struct binding *b;

				for (size_t j = 0; (b = stack_at(s, j)); j++) {
					struct binding_counters c;
					size_t n;

					/* Summed over the port's queues (service/queue.h). */
					binding_counters_sum(b, &c);
					n = binding_counter_list(b->ops, &c, bc);
					for (size_t y = 0; y < n; y++)
						if (strcmp(bc[y].name, name) == 0)
							fprintf(e->out,
								"%s{port=\"%s\",binding=\"%u\","
								"handler=\"%s\"} %llu\n",
								fam, port_name(p), b->cfg.id,
								b->ops->name,
								(unsigned long long)bc[y].value);
				}
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
	family(&e, "paird_http_streams", "gauge",
	       "Long-lived streams open (captures that follow, events; --max-streams).");
	fprintf(e.out, "paird_http_streams %u\n", api->streams);
	family(&e, "paird_http_streams_limit", "gauge", "The --max-streams cap.");
	fprintf(e.out, "paird_http_streams_limit %u\n", api->cfg.max_streams);
	family(&e, "paird_capture_streams", "gauge",
	       "Capture streams that follow (captures.pcap/pcapng?follow=true) open now.");
	fprintf(e.out, "paird_capture_streams %llu\n", (unsigned long long)follow_streams_open());
	family(&e, "paird_capture_stream_missed_total", "counter",
	       "Records followers missed: evicted from the ring before they read them.");
	fprintf(e.out, "paird_capture_stream_missed_total %llu\n",
		(unsigned long long)follow_missed_total());
	family(&e, "paird_capture_stream_tap_frames_total", "counter",
	       "Frames the streams' own captures (?filter=, ?snaplen=) looked at.");
	fprintf(e.out, "paird_capture_stream_tap_frames_total %llu\n",
		(unsigned long long)follow_tap_frames());
	family(&e, "paird_capture_stream_tap_filtered_total", "counter",
	       "Frames the streams' own capture filters turned away.");
	fprintf(e.out, "paird_capture_stream_tap_filtered_total %llu\n",
		(unsigned long long)follow_tap_filtered());
	for (size_t i = 0; i < port_counter_count; i++)
		port_family(&e, &port_counter_table[i]);
	queue_families(&e);
	capture_families(&e);
	binding_families(&e);
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
