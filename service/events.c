// SPDX-License-Identifier: MIT
/*
 * The event ring (events.h): a fixed array of struct event indexed by id
 * modulo its capacity, so finding the event after a client's cursor is
 * O(1) and posting never allocates. The run id comes from the kernel's
 * CSPRNG at start; ids start at 1 and never repeat within a run.
 */
#include "events.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "num.h"
#include "secret.h"

TAILQ_HEAD(sub_list, events_sub);

struct events {
	size_t capacity;
	uint64_t newest; /* the last id handed out */
	struct event *ring;
	struct sub_list subs;
	size_t n_subs;
	char run[EVENTS_RUN_HEX + 1];
};

struct events *events_new(size_t capacity)
{
	struct events *ev;
	int ret;

	if (capacity < EVENTS_RING_MIN || capacity > EVENTS_RING_MAX) {
		errno = EINVAL;
		return NULL;
	}
	ev = calloc(1, sizeof(*ev));
	if (!ev)
		return NULL;
	ev->capacity = capacity;
	ev->ring = calloc(capacity, sizeof(*ev->ring));
	TAILQ_INIT(&ev->subs);
	ret = secret_hex(ev->run, EVENTS_RUN_HEX / 2);
	if (!ev->ring || ret < 0) {
		free(ev->ring);
		free(ev);
		errno = ret < 0 ? -ret : ENOMEM;
		return NULL;
	}
	return ev;
}

void events_free(struct events *ev)
{
	if (!ev)
		return;
	free(ev->ring);
	free(ev);
}

uint64_t events_post(struct events *ev, struct event *e)
{
	struct events_sub *s, *next;

	e->id = ++ev->newest;
	clock_gettime(CLOCK_REALTIME, &e->when);
	ev->ring[e->id % ev->capacity] = *e;
	/* A woken client may unsubscribe (it was cut off): take the next one first. */
	for (s = TAILQ_FIRST(&ev->subs); s; s = next) {
		next = TAILQ_NEXT(s, entry);
		s->wake(s);
	}
	return e->id;
}

const char *events_run(const struct events *ev)
{
	return ev->run;
}

uint64_t events_newest(const struct events *ev)
{
	return ev->newest;
}

uint64_t events_oldest(const struct events *ev)
{
	return ev->newest >= ev->capacity ? ev->newest - ev->capacity + 1 : 1;
}

const struct event *events_get(const struct events *ev, uint64_t id)
{
	if (id == 0 || id > ev->newest || id < events_oldest(ev))
		return NULL;
	return &ev->ring[id % ev->capacity];
}

void events_format_id(const struct events *ev, uint64_t id, char *out)
{
	snprintf(out, EVENTS_ID_MAX, "%s-%" PRIu64, ev->run, id);
}

int events_resume(const struct events *ev, const char *last_id, uint64_t *next)
{
	const char *dash = last_id ? strchr(last_id, '-') : NULL;
	uint64_t n;

	if (!dash || strlen(dash + 1) > 20 || num_parse_u64(dash + 1, 0, UINT64_MAX, &n) < 0)
		return -EINVAL;
	if ((size_t)(dash - last_id) != EVENTS_RUN_HEX ||
	    strncmp(last_id, ev->run, EVENTS_RUN_HEX) != 0)
		return -ESTALE; /* another run of paird: its ids mean nothing here */
	/* Beyond the newest: never handed out; before the oldest - 1: some were evicted. */
	if (n > ev->newest || n + 1 < events_oldest(ev))
		return -ESTALE;
	*next = n + 1;
	return 0;
}

void events_subscribe(struct events *ev, struct events_sub *sub)
{
	TAILQ_INSERT_TAIL(&ev->subs, sub, entry);
	ev->n_subs++;
}

void events_unsubscribe(struct events *ev, struct events_sub *sub)
{
	TAILQ_REMOVE(&ev->subs, sub, entry);
	ev->n_subs--;
}

size_t events_subscribers(const struct events *ev)
{
	return ev->n_subs;
}

bool events_rate_due(struct events_rate *r, uint64_t digest, uint64_t now_ms, uint64_t interval_ms)
{
	if (r->sent && (digest == r->digest || now_ms - r->last_ms < interval_ms))
		return false;
	r->digest = digest;
	r->last_ms = now_ms;
	r->sent = true;
	return true;
}

uint64_t events_counters_digest(const struct event_counters *c)
{
	const uint64_t v[] = { c->rx_frames,   c->rx_bytes,    c->tx_frames, c->tx_bytes,
			       c->matched,     c->unmatched,   c->malformed, c->truncated,
			       c->read_errors, c->write_errors };
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		h ^= v[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

const char *event_kind_name(enum event_kind k)
{
	static const char *const names[EVENT_KIND_COUNT] = {
		[EVENT_PORT_CREATED] = "port_created",
		[EVENT_PORT_CHANGED] = "port_changed",
		[EVENT_PORT_DELETED] = "port_deleted",
		[EVENT_BINDING_CREATED] = "binding_created",
		[EVENT_BINDING_DELETED] = "binding_deleted",
		[EVENT_COUNTERS] = "counters",
	};

	return (unsigned)k < EVENT_KIND_COUNT ? names[k] : "unknown";
}
