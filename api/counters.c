// SPDX-License-Identifier: MIT
/*
 * The counters of a port, described once: the port's "counters" object in
 * the JSON resources (ports.c) and the paird_port_* families of /metrics
 * (metrics.c) are both written by walking these tables, so a counter added
 * here shows in both, under the names given here, in the same order.
 */
#include <stddef.h>
#include <string.h>

#include "../service/capture.h"
#include "../service/stack.h"
#include "internal.h"

#define VALUE(fn, expr)                                                 \
	static uint64_t fn(const struct port *p, const struct stack *s) \
	{                                                               \
		(void)p;                                                \
		(void)s;                                                \
		return (expr);                                          \
	}

VALUE(get_up, port_state(p) == PORT_STATE_UP)
VALUE(get_since, (uint64_t)stack_since(s).tv_sec)
VALUE(get_rx_frames, port_counters(p)->rx_frames)
VALUE(get_rx_bytes, port_counters(p)->rx_bytes)
VALUE(get_tx_frames, port_counters(p)->tx_frames)
VALUE(get_tx_bytes, port_counters(p)->tx_bytes)
VALUE(get_truncated, port_counters(p)->truncated)
VALUE(get_rx_gso_frames, port_counters(p)->rx_gso_frames)
VALUE(get_rx_gso_bad, port_counters(p)->rx_gso_bad)
VALUE(get_tx_gso_frames, port_counters(p)->tx_gso_frames)
VALUE(get_matched, stack_counters(s)->matched)
VALUE(get_fragments, stack_counters(s)->fragments)

#define SLOTS(fn, expr)                                                        \
	static const uint64_t *fn(const struct port *p, const struct stack *s) \
	{                                                                      \
		(void)p;                                                       \
		(void)s;                                                       \
		return (expr);                                                 \
	}

SLOTS(get_read_errors, port_counters(p)->read_errors)
SLOTS(get_write_errors, port_counters(p)->write_errors)
SLOTS(get_unmatched, stack_counters(s)->unmatched)
SLOTS(get_malformed, stack_counters(s)->malformed)
SLOTS(get_bad_checksum, stack_counters(s)->bad_checksum)

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

#define ONE(k, m, t, h, fn)                                                                      \
	{                                                                                        \
		.key = k, .metric = m, .type = t, .help = h, .shape = COUNTER_VALUE, .value = fn \
	}
#define BY_ERRNO(k, m, h, fn)                                                                   \
	{                                                                                       \
		.key = k, .metric = m, .type = "counter", .help = h, .shape = COUNTER_BY_ERRNO, \
		.slots = fn, .label = "errno", .first = 0, .count = PORT_ERRNO_SLOTS            \
	}
#define BY_LABEL(k, m, h, fn, l, lo, hi, name)                                                  \
	{                                                                                       \
		.key = k, .metric = m, .type = "counter", .help = h, .shape = COUNTER_BY_LABEL, \
		.slots = fn, .label = l, .first = lo, .count = hi, .label_of = name             \
	}

const struct port_counter port_counter_table[] = {
	/* /metrics only: the JSON shows the state, and "since" as a time. */
	ONE(NULL, "paird_port_up", "gauge", "1 when the port's link is up.", get_up),
	ONE(NULL, "paird_port_counters_since_seconds", "gauge",
	    "Unix time when the port's counters started.", get_since),
	ONE("rx_frames", "paird_port_rx_frames_total", "counter", "Frames read.", get_rx_frames),
	ONE("rx_bytes", "paird_port_rx_bytes_total", "counter", "Bytes read.", get_rx_bytes),
	ONE("tx_frames", "paird_port_tx_frames_total", "counter", "Frames written.", get_tx_frames),
	ONE("tx_bytes", "paird_port_tx_bytes_total", "counter", "Bytes written.", get_tx_bytes),
	ONE("truncated", "paird_port_truncated_frames_total", "counter",
	    "Frames longer than the read buffer.", get_truncated),
	ONE("rx_gso_frames", "paird_port_rx_gso_frames_total", "counter",
	    "GSO super-frames read (vnet_hdr), each counted in rx_frames as its datagrams.",
	    get_rx_gso_frames),
	ONE("rx_gso_bad", "paird_port_rx_gso_bad_frames_total", "counter",
	    "Frames dropped because their virtio-net header did not hold together (vnet_hdr).",
	    get_rx_gso_bad),
	ONE("tx_gso_frames", "paird_port_tx_gso_frames_total", "counter",
	    "UDP GSO super-frames written (vnet_hdr), each counted in tx_frames as its datagrams.",
	    get_tx_gso_frames),
	BY_ERRNO("read_errors", "paird_port_read_errors_total", "Failed reads, by errno.",
		 get_read_errors),
	BY_ERRNO("write_errors", "paird_port_write_errors_total", "Failed writes, by errno.",
		 get_write_errors),
	ONE("matched", "paird_port_matched_frames_total", "counter",
	    "Frames at least one binding took.", get_matched),
	BY_LABEL("unmatched", "paird_port_unmatched_frames_total",
		 "Frames no binding took, by the level where dispatch stopped.", get_unmatched,
		 "level", LEVEL_ETHERTYPE, LEVEL_COUNT, level_label),
	/* Slot 0 is "not malformed": never counted, never shown. */
	BY_LABEL("malformed", "paird_port_malformed_frames_total",
		 "Frames whose parsing stopped early, by reason.", get_malformed, "reason", 1,
		 MALFORMED_COUNT, malformed_label),
	BY_LABEL("bad_checksum", "paird_port_bad_checksum_frames_total",
		 "Frames with a bad checksum, by protocol (delivered unless the port is strict).",
		 get_bad_checksum, "protocol", 0, CSUM_PROTO_COUNT, csum_label),
	ONE("fragments", "paird_port_fragments_total", "counter",
	    "IP fragments (stopped at the IP protocol node).", get_fragments),
};

const size_t port_counter_count = sizeof(port_counter_table) / sizeof(port_counter_table[0]);

const struct capture_counter capture_counter_table[] = {
	{ "records", "paird_port_capture_records", "gauge", "Captured frames retained in the ring.",
	  offsetof(struct capture_stats, records) },
	{ "bytes", "paird_port_capture_bytes", "gauge", "Bytes of captured frames retained.",
	  offsetof(struct capture_stats, bytes) },
	{ "evictions", "paird_port_capture_evictions_total", "counter",
	  "Captured frames evicted to make room.", offsetof(struct capture_stats, evictions) },
	{ "dropped", "paird_port_capture_dropped_total", "counter",
	  "Frames too large for the capture ring.", offsetof(struct capture_stats, dropped) },
	{ "capacity", "paird_port_capture_capacity_bytes", "gauge",
	  "Bytes reserved for the port's capture ring.", offsetof(struct capture_stats, capacity) },
};

const size_t capture_counter_count =
	sizeof(capture_counter_table) / sizeof(capture_counter_table[0]);

_Static_assert(sizeof(((struct capture_stats *)0)->records) == sizeof(uint64_t) &&
		       sizeof(((struct capture_stats *)0)->bytes) == sizeof(uint64_t) &&
		       sizeof(((struct capture_stats *)0)->evictions) == sizeof(uint64_t) &&
		       sizeof(((struct capture_stats *)0)->dropped) == sizeof(uint64_t) &&
		       sizeof(((struct capture_stats *)0)->capacity) == sizeof(uint64_t),
	       "capture_stats fields are read as uint64_t");

void port_capture_stats(const struct stack *s, struct capture_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (stack_ring(s))
		capture_ring_stats(stack_ring(s), st);
}

uint64_t capture_counter_value(const struct capture_counter *c, const struct capture_stats *st)
{
	uint64_t v;

	memcpy(&v, (const char *)st + c->off, sizeof(v));
	return v;
}

bool port_counter_slot_shown(const struct port_counter *t, const uint64_t *slots, int k)
{
	/* An errno that never happened is left out: there are PORT_ERRNO_SLOTS of them. */
	return t->shape != COUNTER_BY_ERRNO || slots[k];
}

const char *port_counter_slot_name(const struct port_counter *t, int k, char nb[16])
{
	if (t->shape == COUNTER_BY_LABEL)
		return t->label_of(k);
	return k ? errno_name(k, nb) : "other";
}
