// SPDX-License-Identifier: MIT
/*
 * GET /api/v1/events: the event ring (service/events.h) as Server-Sent
 * Events. A stream opens with the whole state (event "snapshot": every
 * port with its bindings), then sends each event as it is posted:
 *
 *   event: port_changed
 *   id: RUN-N
 *   data: {"port":"tap0","state":"gone",...}
 *
 * A client that reconnects with Last-Event-ID (or ?last_event_id=, for
 * clients that would rather put it in the URL) gets exactly the events
 * after it while the ring still holds them; otherwise (another paird run,
 * events evicted, an id never handed out) it gets "reset" with the whole
 * state, then the events.
 * With ?captures=PORT/ID,... the stream also summarizes the records those
 * bindings capture ("capture" events), looked at on a 250 ms tick.
 *
 * Every stream is one struct sse_client in the one loop: its reader
 * renders one event at a time into a small buffer the server takes from,
 * and returns RESPONSE_WAIT when it has caught up (the connection is
 * suspended until events_post() wakes it). A heartbeat timer wakes every
 * stream for a ": keepalive" comment line. A client that reads so slowly
 * that the ring evicted an event it was not sent yet is cut off: its
 * stream ends, and its Last-Event-ID then gets it a reset.
 */
#include <errno.h>
#include <event2/event.h>
#include <linux/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "../service/bindcfg.h"
#include "../service/events.h"
#include "../service/log.h"
#include "../service/num.h"
#include "../service/portset.h"
#include "../service/stack.h"
#include "internal.h"

/* At most this many ?captures= subscriptions per stream, and records per tick each. */
#define SSE_CAPTURES_MAX    8
#define SSE_CAPTURE_BURST   64
#define SSE_CAPTURE_TICK_MS 250

/* A binding whose captured records the client asked to see summarized. */
struct sse_capture {
	char port[PORT_NAME_MAX + 1];
	uint32_t binding;
	uint64_t ring_id; /* the ring the cursor belongs to; 0 before the port had one */
	uint64_t after;	  /* the last seq summarized */
	unsigned budget;  /* records it may still send before the next tick */
};

struct sse_client {
	struct events_sub sub; /* first: the wake callback gets it */
	TAILQ_ENTRY(sse_client) entry;
	struct api_events *owner;
	struct response_wake *w; /* NULL until the server attaches it */
	uint64_t next;		 /* the next event id to send */
	const char *state;	 /* "snapshot" or "reset" still to send, else NULL */
	bool heartbeat;		 /* a keepalive comment is due */
	char *out;		 /* the rendered event the server is taking */
	size_t out_len, out_off;
	unsigned n_caps;
	struct sse_capture caps[SSE_CAPTURES_MAX];
};

struct api_events {
	struct events *ring;
	struct api *api;
	struct event *heartbeat;
	struct event *capture_tick; /* wakes the streams that summarize captures */
	unsigned n_capturing;	    /* streams with ?captures=: the tick runs while > 0 */
	unsigned max_clients;
	unsigned n_clients;
	TAILQ_HEAD(client_list, sse_client) clients;
};

static void client_wake(struct sse_client *c)
{
	if (c->w)
		response_wake(c->w);
}

static void on_event_posted(struct events_sub *sub)
{
	client_wake((struct sse_client *)sub);
}

static void on_heartbeat(evutil_socket_t fd, short what, void *arg)
{
	struct api_events *ae = arg;
	struct sse_client *c;

	(void)fd;
	(void)what;
	for (c = TAILQ_FIRST(&ae->clients); c; c = TAILQ_NEXT(c, entry)) {
		c->heartbeat = true;
		client_wake(c);
	}
}

/* New records are not posted as events: streams that summarize captures look at each tick. */
static void on_capture_tick(evutil_socket_t fd, short what, void *arg)
{
	struct api_events *ae = arg;
	struct sse_client *c;

	(void)fd;
	(void)what;
	for (c = TAILQ_FIRST(&ae->clients); c; c = TAILQ_NEXT(c, entry)) {
		if (!c->n_caps)
			continue;
		for (unsigned i = 0; i < c->n_caps; i++)
			c->caps[i].budget = SSE_CAPTURE_BURST;
		client_wake(c);
	}
}

struct api_events *api_events_new(struct api *api, const struct api_config *cfg)
{
	struct api_events *ae;

	if (!cfg->events)
		return NULL;
	ae = calloc(1, sizeof(*ae));
	if (!ae)
		return NULL;
	ae->ring = cfg->events;
	ae->api = api;
	ae->max_clients = cfg->max_event_clients ? cfg->max_event_clients : API_EVENT_CLIENTS;
	TAILQ_INIT(&ae->clients);
	if (cfg->base) {
		struct timeval tv = { .tv_sec = cfg->event_heartbeat_s ? cfg->event_heartbeat_s
								       : API_EVENT_HEARTBEAT };

		ae->heartbeat = event_new(cfg->base, -1, EV_PERSIST, on_heartbeat, ae);
		ae->capture_tick = event_new(cfg->base, -1, EV_PERSIST, on_capture_tick, ae);
		if (!ae->heartbeat || !ae->capture_tick || event_add(ae->heartbeat, &tv) < 0) {
			api_events_free(ae);
			return NULL;
		}
	}
	return ae;
}

void api_events_free(struct api_events *ae)
{
	if (!ae)
		return;
	/* Streams still open end with their connections (httpd_free() runs first). */
	if (ae->heartbeat)
		event_free(ae->heartbeat);
	if (ae->capture_tick)
		event_free(ae->capture_tick);
	free(ae);
}

/* --- rendering --- */

static const struct {
	unsigned bit;
	const char *field;
} drift_names[] = {
	{ PORT_DRIFT_UP, "up" },
	{ PORT_DRIFT_MTU, "mtu" },
	{ PORT_DRIFT_MAC, "mac" },
	{ PORT_DRIFT_ADDRESSES, "addresses" },
};

static json_t *port_event_json(const struct event *e)
{
	const struct event_port *v = &e->u.port;
	json_t *o = json_object(), *arr = json_array();
	char nb[16];

	json_object_set_new(o, "version", json_integer((json_int_t)v->version));
	json_object_set_new(o, "type", json_string(port_type_name(v->type)));
	json_object_set_new(o, "state", json_string(port_state_name(v->state)));
	json_object_set_new(o, "up", json_boolean(v->up));
	json_object_set_new(o, "mtu", v->mtu ? json_integer(v->mtu) : json_null());
	json_object_set_new(o, "ifindex", v->ifindex ? json_integer(v->ifindex) : json_null());
	for (size_t i = 0; i < sizeof(drift_names) / sizeof(drift_names[0]); i++)
		if (v->drift & drift_names[i].bit)
			json_array_append_new(arr, json_string(drift_names[i].field));
	json_object_set_new(o, "drift", arr);
	if (v->op[0]) {
		json_t *err = json_object();

		json_object_set_new(err, "operation", json_string(v->op));
		json_object_set_new(err, "errno", json_integer(v->err));
		json_object_set_new(err, "errno_name",
				    json_string(v->err ? errno_name(v->err, nb) : ""));
		json_object_set_new(o, "last_error", err);
	} else {
		json_object_set_new(o, "last_error", json_null());
	}
	return o;
}

static json_t *counters_event_json(const struct event_counters *c)
{
	json_t *o = json_object();

	json_object_set_new(o, "rx_frames", json_integer((json_int_t)c->rx_frames));
	json_object_set_new(o, "rx_bytes", json_integer((json_int_t)c->rx_bytes));
	json_object_set_new(o, "tx_frames", json_integer((json_int_t)c->tx_frames));
	json_object_set_new(o, "tx_bytes", json_integer((json_int_t)c->tx_bytes));
	json_object_set_new(o, "matched", json_integer((json_int_t)c->matched));
	json_object_set_new(o, "unmatched", json_integer((json_int_t)c->unmatched));
	json_object_set_new(o, "malformed", json_integer((json_int_t)c->malformed));
	json_object_set_new(o, "truncated", json_integer((json_int_t)c->truncated));
	json_object_set_new(o, "read_errors", json_integer((json_int_t)c->read_errors));
	json_object_set_new(o, "write_errors", json_integer((json_int_t)c->write_errors));
	return o;
}

/* The data of event @e: {"port": NAME, "time": ..., and what the kind carries}. */
static json_t *event_json(const struct event *e)
{
	json_t *o = json_object();

	json_object_set_new(o, "port", json_string(e->port));
	json_object_set_new(o, "time", json_time(e->when));
	switch (e->kind) {
	case EVENT_PORT_CREATED:
	case EVENT_PORT_CHANGED:
		json_object_update_new(o, port_event_json(e));
		break;
	case EVENT_BINDING_CREATED:
		json_object_set_new(o, "binding", bindcfg_to_json(&e->u.binding));
		break;
	case EVENT_BINDING_DELETED:
		json_object_set_new(o, "id", json_integer(e->u.binding.id));
		break;
	case EVENT_COUNTERS:
		json_object_set_new(o, "counters", counters_event_json(&e->u.counters));
		break;
	default:
		break;
	}
	return o;
}

/*
 * The whole state: {"run", "ports": [each port as GET shows it], "bindings":
 * {port name: [each binding as GET shows it]}}.
 */
static json_t *state_json(struct api_events *ae, const char *reason)
{
	struct portset *ps = ae->api->cfg.ports;
	json_t *o = json_object(), *arr = json_array(), *by_port = json_object();
	struct port *p;

	json_object_set_new(o, "run", json_string(events_run(ae->ring)));
	if (reason)
		json_object_set_new(o, "reason", json_string(reason));
	for (size_t i = 0; (p = portset_at(ps, i)); i++) {
		json_t *bs = json_array();
		struct binding *b;

		for (size_t j = 0; (b = stack_at(portset_stack(ps, p), j)); j++)
			json_array_append_new(bs, binding_json(b));
		json_object_set_new(by_port, port_name(p), bs);
		json_array_append_new(arr, port_json(ae->api, p));
	}
	json_object_set_new(o, "ports", arr);
	json_object_set_new(o, "bindings", by_port);
	return o;
}

/* "event: NAME\nid: ID\ndata: JSON\n\n" into the client's buffer (@data stolen). */
static int client_render(struct sse_client *c, const char *name, uint64_t id, json_t *data)
{
	char eid[EVENTS_ID_MAX];
	char *text = data ? json_dumps(data, JSON_COMPACT) : NULL;
	int n;

	json_decref(data);
	if (!text)
		return -ENOMEM;
	events_format_id(c->owner->ring, id, eid);
	free(c->out);
	c->out = NULL;
	/* JSON_COMPACT output has no newline: one data line. */
	n = asprintf(&c->out, "event: %s\nid: %s\ndata: %s\n\n", name, eid, text);
	free(text);
	if (n < 0) {
		c->out = NULL;
		return -ENOMEM;
	}
	c->out_len = (size_t)n;
	c->out_off = 0;
	return 0;
}

/*
 * The next record of @cap's binding as a "capture" event: {port, binding,
 * seq, time, len, caplen, headers}. Its id is that of the last ring event
 * sent, so a resume by Last-Event-ID stays exact for the ring's events;
 * records themselves are not resumed (their seq is the cursor for
 * GET .../captures?after=SEQ). RESPONSE_WAIT when there is none, or the
 * binding used its share of this tick.
 */
static int capture_next(struct sse_client *c, struct sse_capture *cap)
{
	struct portset *ps = c->owner->api->cfg.ports;
	struct port *p = portset_find(ps, cap->port);
	struct capture_ring *ring = p ? stack_ring(portset_stack(ps, p)) : NULL;
	struct capture_record rec;
	struct frame_info fi;
	json_t *o, *h;

	if (!ring || !cap->budget)
		return RESPONSE_WAIT;
	if (capture_ring_id(ring) != cap->ring_id) {
		/* A new ring (the port's first capture binding, or a new port): from its start. */
		cap->ring_id = capture_ring_id(ring);
		cap->after = 0;
	}
	if (!capture_ring_next(ring, cap->after, cap->binding, &rec))
		return RESPONSE_WAIT;
	cap->after = rec.seq;
	cap->budget--;
	o = json_object();
	json_object_set_new(o, "port", json_string(cap->port));
	json_object_set_new(o, "binding", json_integer(rec.binding_id));
	json_object_set_new(o, "seq", json_integer((json_int_t)rec.seq));
	json_object_set_new(o, "time", json_time(rec.ts));
	json_object_set_new(o, "len", json_integer(rec.len));
	json_object_set_new(o, "caplen", json_integer(rec.caplen));
	capture_record_info(&rec, &fi);
	h = frame_headers_json(&fi, rec.data, 0);
	json_object_del(h, "payload"); /* a summary: the bytes are on .../captures */
	json_object_set_new(o, "headers", h);
	return client_render(c, "capture", c->next - 1, o);
}

/*
 * ?captures=PORT/BINDING,...: each port must exist and have that binding.
 * A cursor starts at the ring's newest record: only records captured from
 * now on are summarized.
 */
static int parse_captures(struct api *api, const char *list, struct sse_client *c, struct fault *f)
{
	const char *s = list;

	while (*s) {
		size_t n = strcspn(s, ","), slash;
		char item[64], *sl;
		struct sse_capture *cap;
		struct port *p;
		struct capture_ring *ring;
		struct capture_stats st;
		uint64_t id;

		if (n == 0 || n >= sizeof(item))
			goto bad;
		memcpy(item, s, n);
		item[n] = '\0';
		sl = strchr(item, '/');
		if (!sl)
			goto bad;
		slash = (size_t)(sl - item);
		*sl = '\0';
		if (slash == 0 || slash > PORT_NAME_MAX ||
		    num_parse_u64(sl + 1, 1, UINT32_MAX, &id) < 0 || strlen(sl + 1) > 10)
			goto bad;
		if (c->n_caps == SSE_CAPTURES_MAX)
			return fault_set(f, FAULT_QUERY, E2BIG, "captures",
					 "at most %d bindings in captures", SSE_CAPTURES_MAX);
		p = portset_find(api->cfg.ports, item);
		if (!p || !stack_find(portset_stack(api->cfg.ports, p), (uint32_t)id))
			return fault_set(f, FAULT_NOT_FOUND, ENOENT, "captures",
					 "captures: no binding %s/%s", item, sl + 1);
		cap = &c->caps[c->n_caps++];
		memcpy(cap->port, item, slash + 1); /* with its NUL: slash <= PORT_NAME_MAX */
		cap->binding = (uint32_t)id;
		cap->budget = SSE_CAPTURE_BURST;
		ring = stack_ring(portset_stack(api->cfg.ports, p));
		if (ring) {
			capture_ring_stats(ring, &st);
			cap->ring_id = capture_ring_id(ring);
			cap->after = st.newest_seq;
		}
		s += n;
		if (*s == ',')
			s++;
	}
	return 0;
bad:
	return fault_set(f, FAULT_QUERY, EINVAL, "captures",
			 "captures takes PORT/BINDING-ID[,PORT/BINDING-ID...]");
}

/* Fills the client's buffer with what is due next; RESPONSE_WAIT when nothing is. */
static int client_next(struct sse_client *c)
{
	const struct event *e;
	uint64_t newest = events_newest(c->owner->ring);

	if (c->state) {
		const char *name = c->state;
		bool reset = strcmp(name, "reset") == 0;

		c->state = NULL;
		c->next = newest + 1;
		return client_render(c, name, newest,
				     state_json(c->owner, reset ? "last-event-id" : NULL));
	}
	if (c->next <= newest) {
		e = events_get(c->owner->ring, c->next);
		if (!e) {
			/* Evicted before it was sent: no lossless way on from here. */
			log_info("events: a stream fell %llu events behind and was cut off",
				 (unsigned long long)(newest - c->next + 1));
			return -EPIPE;
		}
		c->next++;
		return client_render(c, event_kind_name(e->kind), e->id, event_json(e));
	}
	for (unsigned i = 0; i < c->n_caps; i++) {
		int ret = capture_next(c, &c->caps[i]);

		if (ret != RESPONSE_WAIT)
			return ret;
	}
	if (c->heartbeat) {
		static const char keepalive[] = ": keepalive\n\n";

		c->heartbeat = false;
		free(c->out);
		c->out = strdup(keepalive);
		if (!c->out)
			return -ENOMEM;
		c->out_len = sizeof(keepalive) - 1;
		c->out_off = 0;
		return 0;
	}
	return RESPONSE_WAIT;
}

static ssize_t sse_read(void *ctx, char *buf, size_t max)
{
	struct sse_client *c = ctx;
	size_t n;

	if (c->out_off == c->out_len) {
		int ret = client_next(c);

		if (ret < 0)
			return ret;
	}
	n = c->out_len - c->out_off;
	if (n > max)
		n = max;
	memcpy(buf, c->out + c->out_off, n);
	c->out_off += n;
	return (ssize_t)n;
}

static void sse_attach(void *ctx, struct response_wake *w)
{
	struct sse_client *c = ctx;

	c->w = w;
}

static void sse_free(void *ctx)
{
	struct sse_client *c = ctx;
	struct api_events *ae = c->owner;

	events_unsubscribe(ae->ring, &c->sub);
	TAILQ_REMOVE(&ae->clients, c, entry);
	if (c->n_caps && !--ae->n_capturing && ae->capture_tick)
		event_del(ae->capture_tick);
	ae->n_clients--;
	free(c->out);
	free(c);
}

unsigned api_event_clients(const struct api *api)
{
	return api->events ? api->events->n_clients : 0;
}

int h_events(struct api *api, struct request *rq, struct response *rs, struct fault *f)
{
	struct api_events *ae = api->events;
	const char *last = rq->header ? rq->header(rq->lookup_ctx, "Last-Event-ID") : NULL;
	struct sse_client *c;
	const char *caps;
	char detail[128];

	if (!ae)
		return fault_set(f, FAULT_UNAVAILABLE, ENOTSUP, NULL,
				 "this paird has no event stream");
	if (!last && rq->query)
		last = rq->query(rq->lookup_ctx, "last_event_id");
	if (ae->n_clients >= ae->max_clients) {
		snprintf(detail, sizeof(detail),
			 "%u event streams are open, the most --max-event-clients allows",
			 ae->n_clients);
		reply_problem(rs, 503, "too-many-event-clients", detail, rq->path);
		response_header(rs, "Retry-After", "5");
		return 0;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return fault_set(f, FAULT_UNAVAILABLE, ENOMEM, NULL, "out of memory");
	c->owner = ae;
	c->sub.wake = on_event_posted;
	caps = rq->query ? rq->query(rq->lookup_ctx, "captures") : NULL;
	if (caps && parse_captures(api, caps, c, f) < 0) {
		free(c);
		return -1;
	}
	/* An empty Last-Event-ID is what EventSource sends before any id: a fresh start. */
	if (!last || !last[0])
		c->state = "snapshot";
	else if (events_resume(ae->ring, last, &c->next) < 0)
		c->state = "reset";
	if (c->n_caps && !ae->n_capturing++ && ae->capture_tick) {
		struct timeval tick = { .tv_usec = (suseconds_t)SSE_CAPTURE_TICK_MS * 1000 };

		event_add(ae->capture_tick, &tick);
	}
	events_subscribe(ae->ring, &c->sub);
	TAILQ_INSERT_TAIL(&ae->clients, c, entry);
	ae->n_clients++;
	rs->status = 200;
	rs->content_type = "text/event-stream";
	rs->read = sse_read;
	rs->read_ctx = c;
	rs->read_free = sse_free;
	rs->attach_wake = sse_attach;
	rs->long_lived = true;
	/* For proxies that buffer (nginx): this body must flow as it is written. */
	response_header(rs, "X-Accel-Buffering", "no");
	return 0;
}
