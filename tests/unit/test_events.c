// SPDX-License-Identifier: MIT
/*
 * Unit tests for service/events.c and api/events.c: event ids only grow
 * and carry the run; a full ring evicts the oldest; the resume decision
 * (resume exactly, or reset: another run, evicted, never handed out,
 * garbage); the counter-snapshot rate limit; and the SSE stream through
 * api_handle() over a port set on the memory I/O: the snapshot, events in
 * order as the API makes changes, resume by Last-Event-ID and
 * ?last_event_id=, reset, a client cut off when the ring evicted what it
 * was not sent yet, and 503 beyond --max-event-clients; and the port set's
 * posts of what happens outside requests (link down, read error, gone).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../service/events.h"
#include "../../service/log.h"
#include "../fakes/portio_mem.h"
#include "../../service/portset.h"
#include "support.h"

static uint64_t post(struct events *ev, enum event_kind k, const char *port)
{
	struct event e = { .kind = k };

	snprintf(e.port, sizeof(e.port), "%s", port);
	return events_post(ev, &e);
}

static void test_ids_and_overflow(void **state)
{
	struct events *ev = events_new(4);
	char id[EVENTS_ID_MAX];

	(void)state;
	assert_non_null(ev);
	assert_int_equal(strlen(events_run(ev)), EVENTS_RUN_HEX);
	assert_int_equal(events_newest(ev), 0);
	assert_int_equal(events_oldest(ev), 1);
	assert_null(events_get(ev, 0));
	assert_null(events_get(ev, 1));
	for (uint64_t i = 1; i <= 6; i++)
		assert_int_equal(post(ev, EVENT_PORT_CREATED, "p"), i);
	assert_int_equal(events_newest(ev), 6);
	assert_int_equal(events_oldest(ev), 3);
	assert_null(events_get(ev, 2)); /* evicted */
	assert_null(events_get(ev, 7)); /* not yet */
	assert_int_equal(events_get(ev, 3)->id, 3);
	assert_int_equal(events_get(ev, 6)->id, 6);
	assert_true(events_get(ev, 6)->when.tv_sec > 0);
	events_format_id(ev, 6, id);
	assert_int_equal(strncmp(id, events_run(ev), EVENTS_RUN_HEX), 0);
	assert_string_equal(id + EVENTS_RUN_HEX, "-6");
	events_free(ev);
	/* Two runs never share a run id. */
	{
		struct events *a = events_new(4), *b = events_new(4);

		assert_string_not_equal(events_run(a), events_run(b));
		events_free(a);
		events_free(b);
	}
	assert_null(events_new(EVENTS_RING_MIN - 1));
	assert_null(events_new(EVENTS_RING_MAX + 1));
}

static void test_resume(void **state)
{
	struct events *ev = events_new(4);
	char id[EVENTS_ID_MAX], other[EVENTS_ID_MAX];
	uint64_t next = 0;

	(void)state;
	events_format_id(ev, 0, id);
	assert_int_equal(events_resume(ev, id, &next), 0); /* nothing posted, nothing missed */
	assert_int_equal(next, 1);
	for (int i = 0; i < 6; i++)
		post(ev, EVENT_COUNTERS, "p");
	/* Held: 3..6. After 2 every event is still there; after 1, 2 is lost. */
	events_format_id(ev, 2, id);
	assert_int_equal(events_resume(ev, id, &next), 0);
	assert_int_equal(next, 3);
	events_format_id(ev, 6, id);
	assert_int_equal(events_resume(ev, id, &next), 0);
	assert_int_equal(next, 7);
	events_format_id(ev, 1, id);
	assert_int_equal(events_resume(ev, id, &next), -ESTALE);
	events_format_id(ev, 7, id); /* never handed out */
	assert_int_equal(events_resume(ev, id, &next), -ESTALE);
	/* Another run's id, even one in range. */
	snprintf(other, sizeof(other), "%s", id);
	other[0] = other[0] == '0' ? '1' : '0';
	other[EVENTS_RUN_HEX + 1] = '5';
	other[EVENTS_RUN_HEX + 2] = '\0';
	assert_int_equal(events_resume(ev, other, &next), -ESTALE);
	assert_int_equal(events_resume(ev, "5", &next), -EINVAL);
	assert_int_equal(events_resume(ev, "abc-", &next), -EINVAL);
	assert_int_equal(events_resume(ev, "abc-x", &next), -EINVAL);
	assert_int_equal(events_resume(ev, "abc-5", &next), -ESTALE);
	assert_int_equal(events_resume(ev, NULL, &next), -EINVAL);
	events_free(ev);
}

static void test_rate(void **state)
{
	struct events_rate r = { 0 };
	struct event_counters c = { 0 };
	uint64_t d0, d1;

	(void)state;
	d0 = events_counters_digest(&c);
	c.rx_frames = 1;
	d1 = events_counters_digest(&c);
	assert_true(d0 != d1);
	/* Nothing sent yet: due. */
	assert_true(events_rate_due(&r, d0, 1000, 500));
	/* Unchanged: never due, however long. */
	assert_false(events_rate_due(&r, d0, 1100, 500));
	assert_false(events_rate_due(&r, d0, 100000, 500));
	/* Changed, but within the interval of the last one sent: not yet. */
	assert_false(events_rate_due(&r, d1, 1499, 500));
	assert_true(events_rate_due(&r, d1, 1500, 500));
	/* A counter that moves every millisecond is sent at most once per interval. */
	{
		unsigned sent = 0;

		for (uint64_t t = 2000; t < 4000; t++) {
			c.rx_frames = t;
			sent += events_rate_due(&r, events_counters_digest(&c), t, 500);
		}
		assert_int_equal(sent, 4);
	}
}

/* --- the stream through the API --- */

struct fx {
	struct memio *m;
	struct portset *ps;
	struct events *ev;
	struct api *api;
	struct api_config cfg;
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	log_set_level(LOG_ERROR);
	fx->m = memio_new();
	fx->ps = portset_new(NULL, memio_io(fx->m), NULL, 8);
	fx->ev = events_new(8);
	assert_non_null(fx->ps);
	assert_non_null(fx->ev);
	assert_int_equal(portset_set_events(fx->ps, fx->ev, 0), 0);
	fx->cfg.ports = fx->ps;
	fx->cfg.events = fx->ev;
	fx->cfg.max_event_clients = 2;
	fx->api = api_new(&fx->cfg);
	assert_non_null(fx->api);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	api_free(fx->api);
	portset_free(fx->ps);
	events_free(fx->ev);
	memio_free(fx->m);
	free(fx);
	return 0;
}

static void call(struct fx *fx, enum http_method m, const char *path, const char *body, int status)
{
	struct fake_req fr;
	struct response rs;

	freq_init(&fr, m, path);
	fr.rq.via = REQ_VIA_UNIX;
	if (body)
		freq_body(&fr, "application/json", body);
	api_handle(fx->api, &fr.rq, &rs);
	assert_int_equal(response_drain(&rs), 0);
	assert_int_equal(rs.status, status);
	response_fini(&rs);
}

/* Opens a stream (with Last-Event-ID @last unless NULL) into @rs, drained to its first wait. */
static void open_stream(struct fx *fx, struct response *rs, const char *last, bool by_query)
{
	struct fake_req fr;

	freq_init(&fr, HTTP_GET, "/api/v1/events");
	fr.rq.via = REQ_VIA_UNIX;
	if (last && by_query)
		freq_query(&fr, "last_event_id", last);
	else if (last)
		freq_header(&fr, "Last-Event-ID", last);
	api_handle(fx->api, &fr.rq, rs);
	assert_int_equal(rs->status, 200);
	assert_string_equal(rs->content_type, "text/event-stream");
	assert_int_equal(response_drain(rs), RESPONSE_WAIT);
}

/* The "event:" names in @text, space-separated, into @out. */
static void event_names(const char *text, char *out, size_t size)
{
	size_t n = 0;

	out[0] = '\0';
	for (const char *p = text; (p = strstr(p, "event: ")); p += 7) {
		size_t len = strcspn(p + 7, "\n");

		n += (size_t)snprintf(out + n, size - n, "%s%.*s", n ? " " : "", (int)len, p + 7);
	}
}

/* The id of the last event in @text. */
static void last_id(const char *text, char *out)
{
	const char *p = NULL;

	for (const char *q = text; (q = strstr(q, "\nid: ")); q++)
		p = q + 5;
	assert_non_null(p);
	snprintf(out, EVENTS_ID_MAX, "%.*s", (int)strcspn(p, "\n"), p);
}

static void test_stream(void **state)
{
	struct fx *fx = *state;
	struct response rs = { 0 }, again = { 0 };
	char names[256], id[EVENTS_ID_MAX];

	call(fx, HTTP_POST, "/api/v1/ports", "{\"name\":\"a0\",\"type\":\"tap\"}", 201);
	open_stream(fx, &rs, NULL, false);
	event_names(resp_text(&rs), names, sizeof(names));
	assert_string_equal(names, "snapshot");
	assert_non_null(strstr(resp_text(&rs), "\"name\":\"a0\""));
	assert_non_null(strstr(resp_text(&rs), "\"bindings\":{\"a0\":[]}"));

	call(fx, HTTP_POST, "/api/v1/ports/a0/bindings", "{\"match\":{},\"handler\":\"count\"}",
	     201);
	call(fx, HTTP_POST, "/api/v1/ports", "{\"name\":\"b0\",\"type\":\"tun\"}", 201);
	call(fx, HTTP_PATCH, "/api/v1/ports/b0", "{\"mtu\":1400}", 200);
	call(fx, HTTP_DELETE, "/api/v1/ports/a0/bindings/1", NULL, 204);
	call(fx, HTTP_DELETE, "/api/v1/ports/b0", NULL, 204);
	/* A refused change posts nothing. */
	call(fx, HTTP_DELETE, "/api/v1/ports/b0", NULL, 404);
	assert_int_equal(response_drain(&rs), RESPONSE_WAIT);
	event_names(resp_text(&rs), names, sizeof(names));
	assert_string_equal(names, "snapshot binding_created port_created port_changed "
				   "binding_deleted port_deleted");
	assert_non_null(strstr(resp_text(&rs), "\"mtu\":1400"));
	assert_non_null(strstr(resp_text(&rs), "\"handler\":\"count\""));

	/* Resume after the binding_created event: exactly the four after it. */
	{
		const char *t = resp_text(&rs);
		const char *p = strstr(t, "event: binding_created\nid: ") + 27;

		snprintf(id, sizeof(id), "%.*s", (int)strcspn(p, "\n"), p);
	}
	open_stream(fx, &again, id, false);
	event_names(resp_text(&again), names, sizeof(names));
	assert_string_equal(names, "port_created port_changed binding_deleted port_deleted");
	response_fini(&again);
	/* The same through the query, for clients that cannot set headers. */
	open_stream(fx, &again, id, true);
	event_names(resp_text(&again), names, sizeof(names));
	assert_string_equal(names, "port_created port_changed binding_deleted port_deleted");
	/* A third client is one too many (max_event_clients 2). */
	{
		struct fake_req fr;
		struct response busy;

		freq_init(&fr, HTTP_GET, "/api/v1/events");
		fr.rq.via = REQ_VIA_UNIX;
		api_handle(fx->api, &fr.rq, &busy);
		json_decref(assert_problem(&busy, 503, NULL));
		assert_non_null(resp_header(&busy, "Retry-After"));
		response_fini(&busy);
	}
	response_fini(&again);

	/* Up to date: a resume from the last id sends nothing until something happens. */
	last_id(resp_text(&rs), id);
	open_stream(fx, &again, id, false);
	assert_string_equal(resp_text(&again), "");
	response_fini(&again);
	response_fini(&rs);
}

static void test_reset(void **state)
{
	struct fx *fx = *state;
	struct response rs = { 0 }, again = { 0 };
	char names[256], id[EVENTS_ID_MAX], name[16];

	open_stream(fx, &rs, NULL, false);
	last_id(resp_text(&rs), id);
	response_fini(&rs);
	/* More changes than the ring holds (8) while nobody listens. */
	for (int i = 0; i < 5; i++) {
		char body[64], path[64];

		snprintf(name, sizeof(name), "r%d", i);
		snprintf(body, sizeof(body), "{\"name\":\"%s\",\"type\":\"tap\"}", name);
		snprintf(path, sizeof(path), "/api/v1/ports/%s", name);
		call(fx, HTTP_POST, "/api/v1/ports", body, 201);
		call(fx, HTTP_DELETE, path, NULL, 204);
	}
	open_stream(fx, &again, id, false);
	event_names(resp_text(&again), names, sizeof(names));
	assert_string_equal(names, "reset");
	assert_non_null(strstr(resp_text(&again), "\"reason\":\"last-event-id\""));
	response_fini(&again);
	/* From another run (or garbage): reset too. */
	open_stream(fx, &again, "0000000000000000-1", false);
	event_names(resp_text(&again), names, sizeof(names));
	assert_string_equal(names, "reset");
	response_fini(&again);
}

/* A client that does not take its events while the ring evicts them is cut off. */
static void test_cut_off(void **state)
{
	struct fx *fx = *state;
	struct response rs = { 0 };

	open_stream(fx, &rs, NULL, false);
	for (int i = 0; i < 5; i++) {
		call(fx, HTTP_POST, "/api/v1/ports", "{\"name\":\"c0\",\"type\":\"tap\"}", 201);
		call(fx, HTTP_DELETE, "/api/v1/ports/c0", NULL, 204);
	}
	assert_int_equal(response_drain(&rs), -EPIPE);
	/* The stream is over: its slot is free again. */
	assert_int_equal(api_event_clients(fx->api), 0);
	response_fini(&rs);
}

/*
 * What happens to a port outside any request is posted too, once: a read
 * error (state error), a link going down (drift up), the interface deleted
 * (gone); a link notification that changes nothing posts nothing.
 */
static void test_port_state_events(void **state)
{
	struct fx *fx = *state;
	struct port *p;
	struct link_state ls;
	const struct event *e;
	uint64_t before, version;
	uint8_t frame[60] = { 0 };

	call(fx, HTTP_POST, "/api/v1/ports", "{\"name\":\"s0\",\"type\":\"tap\"}", 201);
	p = portset_find(fx->ps, "s0");
	assert_non_null(p);
	ls = *port_link(p);

	before = events_newest(fx->ev);
	portset_link_event(fx->ps, &ls, false); /* the same link again */
	assert_int_equal(events_newest(fx->ev), before);

	ls.flags &= ~(unsigned)IFF_UP;
	portset_link_event(fx->ps, &ls, false);
	assert_int_equal(events_newest(fx->ev), before + 1);
	e = events_get(fx->ev, before + 1);
	assert_int_equal(e->kind, EVENT_PORT_CHANGED);
	assert_string_equal(e->port, "s0");
	assert_int_equal(e->u.port.state, PORT_STATE_DOWN);
	assert_true(e->u.port.drift & PORT_DRIFT_UP);
	/* A state change keeps the configuration's version: the port's ETag. */
	assert_true(portset_port_version(fx->ps, p) > 0);
	assert_true(e->u.port.version == portset_port_version(fx->ps, p));
	version = e->u.port.version;

	ls.flags |= IFF_UP;
	portset_link_event(fx->ps, &ls, false);
	e = events_get(fx->ev, events_newest(fx->ev));
	assert_int_equal(e->u.port.state, PORT_STATE_UP);
	assert_int_equal(e->u.port.drift, 0);

	/* A PATCH's event carries the new version, the one its answer's ETag names. */
	call(fx, HTTP_PATCH, "/api/v1/ports/s0", "{\"mtu\":1400}", 200);
	e = events_get(fx->ev, events_newest(fx->ev));
	assert_int_equal(e->kind, EVENT_PORT_CHANGED);
	assert_true(e->u.port.version > version);
	assert_true(e->u.port.version == portset_port_version(fx->ps, p));
	ls = *port_link(p);

	memio_inject(fx->m, MEMIO_READ, EIO);
	assert_int_equal(memio_push(fx->m, "s0", frame, sizeof(frame)), 0);
	before = events_newest(fx->ev);
	port_read_ready(p);
	assert_int_equal(events_newest(fx->ev), before + 1);
	e = events_get(fx->ev, before + 1);
	assert_int_equal(e->kind, EVENT_PORT_CHANGED);
	assert_int_equal(e->u.port.state, PORT_STATE_ERROR);
	assert_int_equal(e->u.port.err, EIO);
	assert_string_equal(e->u.port.op, "read");

	portset_link_event(fx->ps, &ls, true);
	e = events_get(fx->ev, events_newest(fx->ev));
	assert_int_equal(e->u.port.state, PORT_STATE_GONE);
	assert_int_equal(e->u.port.ifindex, 0);
	assert_int_equal(e->u.port.err, ENODEV);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids_and_overflow),
		cmocka_unit_test(test_resume),
		cmocka_unit_test(test_rate),
		cmocka_unit_test_setup_teardown(test_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_port_state_events, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
