/* SPDX-License-Identifier: MIT */
/*
 * The event ring: what changed in paird, in order, for the API's event
 * stream (GET /api/v1/events). A bounded ring of plain structs (no HTTP,
 * no JSON: the API renders them) with ids that only grow, and a run id that
 * is new for every paird start, so a client's Last-Event-ID either resumes
 * exactly (the events after it are all still held) or is known not to
 * (from another run, too old, or never handed out), and the client is then
 * sent the whole state again.
 *
 * The port set posts the events (portset.c, where changes are
 * acknowledged); the API's stream clients subscribe to be woken when one
 * is posted. Everything runs in the one loop thread.
 */
#ifndef PAIRD_EVENTS_H
#define PAIRD_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <time.h>

#include "binding.h"
#include "port.h"
#include "portcfg.h"

#define EVENTS_RING_DEFAULT 1024
#define EVENTS_RING_MIN	    4
#define EVENTS_RING_MAX	    65536
/* The run id as hex, and an event id "RUN-N" as text (with the NUL). */
#define EVENTS_RUN_HEX 16
#define EVENTS_ID_MAX  (EVENTS_RUN_HEX + 1 + 20 + 1)

enum event_kind {
	EVENT_PORT_CREATED,
	EVENT_PORT_CHANGED, /* state (up/down/error/gone), link (up, MTU), drift, configuration */
	EVENT_PORT_DELETED,
	EVENT_BINDING_CREATED,
	EVENT_BINDING_DELETED,
	EVENT_COUNTERS,
	EVENT_KIND_COUNT
};

/* A port as an event shows it: what a watcher needs to redraw its row. */
struct event_port {
	enum port_type type;
	enum port_state state;
	bool up;
	uint32_t mtu;	  /* 0 when the port has no open device */
	int ifindex;	  /* 0 when it has none */
	unsigned drift;	  /* PORT_DRIFT_* */
	int err;	  /* the last error's errno, 0 when none */
	char op[16];	  /* the last error's operation, "" when none */
	uint64_t version; /* the port's configuration version (its ETag) when posted */
};

/* A port's counters, summed the way a dashboard shows them. */
struct event_counters {
	uint64_t rx_frames, rx_bytes, tx_frames, tx_bytes;
	uint64_t matched, unmatched, malformed, truncated;
	uint64_t read_errors, write_errors;
};

struct event {
	uint64_t id;
	enum event_kind kind;
	struct timespec when; /* CLOCK_REALTIME */
	char port[PORT_NAME_MAX + 1];
	union {
		struct event_port port;		/* PORT_CREATED, PORT_CHANGED */
		struct binding_config binding;	/* BINDING_CREATED; only .id for DELETED */
		struct event_counters counters; /* COUNTERS */
	} u;
};

/*
 * A stream client's hook: woken after every post (it may be woken for
 * events it has already seen). Held in the ring's list while subscribed.
 */
struct events_sub {
	TAILQ_ENTRY(events_sub) entry;
	void (*wake)(struct events_sub *sub);
};

struct events;

/* A ring of @capacity events (EVENTS_RING_MIN..MAX) with a new run id. NULL with errno. */
struct events *events_new(size_t capacity);
void events_free(struct events *ev);

/* Fills in @e's id and time, appends it (evicting the oldest) and wakes subscribers. */
uint64_t events_post(struct events *ev, struct event *e);

/* The run id: EVENTS_RUN_HEX hex digits, new at every start. */
const char *events_run(const struct events *ev);
/* The last id handed out (0 before the first event). */
uint64_t events_newest(const struct events *ev);
/* The oldest id still held (newest + 1 when the ring is empty). */
uint64_t events_oldest(const struct events *ev);
/* The event @id, or NULL when it is not held (evicted or not posted yet). */
const struct event *events_get(const struct events *ev, uint64_t id);

/* Formats "RUN-N" into @out (EVENTS_ID_MAX bytes). */
void events_format_id(const struct events *ev, uint64_t id, char *out);

/*
 * Where a client that last saw @last_id ("RUN-N", as a Last-Event-ID)
 * resumes: 0 with *@next the first id to send when every event after it is
 * still held; -ESTALE when it cannot be resumed without loss (another
 * run, evicted events, an id never handed out); -EINVAL when it is not an
 * event id at all. Both refusals mean: send the whole state again.
 */
int events_resume(const struct events *ev, const char *last_id, uint64_t *next);

void events_subscribe(struct events *ev, struct events_sub *sub);
void events_unsubscribe(struct events *ev, struct events_sub *sub);
size_t events_subscribers(const struct events *ev);

/*
 * The counter-snapshot rate limit of one port: a snapshot is due when the
 * counters' digest differs from the last one sent and at least
 * @interval_ms passed since then. Updates @r when it says true.
 */
struct events_rate {
	uint64_t digest;
	uint64_t last_ms;
	bool sent; /* a snapshot was sent: digest and last_ms mean something */
};
bool events_rate_due(struct events_rate *r, uint64_t digest, uint64_t now_ms, uint64_t interval_ms);
/* A cheap digest of @c (FNV-1a over its fields). */
uint64_t events_counters_digest(const struct event_counters *c);

const char *event_kind_name(enum event_kind k);

#endif
