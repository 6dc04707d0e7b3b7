// SPDX-License-Identifier: MIT
/*
 * /api/v1/ports: list, create (POST), create-or-replace (PUT), read,
 * merge-patch and delete. Bodies are validated by portcfg (the same rules
 * as the state file); changes go through the port set, which writes the
 * state file before we answer.
 */
#include <linux/if.h>
#include <string.h>

#include "../service/portset.h"
#include "../service/stack.h"
#include "internal.h"

/* A slotted counter as an object: errno or label name to count. */
static json_t *slots_json(const struct port_counter *t, const uint64_t *slots)
{
	json_t *o = json_object();
	char nb[16];

	for (int k = t->first; k < t->count; k++)
		if (port_counter_slot_shown(t, slots, k))
			json_object_set_new(o, port_counter_slot_name(t, k, nb),
					    json_integer((json_int_t)slots[k]));
	return o;
}

/*
 * The port's counters (port_counter_table), where every frame read went,
 * its capture ring and its bindings.
 */
static json_t *counters_json(const struct port *p, const struct stack *s)
{
	json_t *o = json_object(), *m, *arr;
	struct capture_stats st;
	struct binding *b;

	for (size_t i = 0; i < port_counter_count; i++) {
		const struct port_counter *t = &port_counter_table[i];

		if (!t->key)
			continue;
		json_object_set_new(o, t->key,
				    t->shape == COUNTER_VALUE
					    ? json_integer((json_int_t)t->value(p, s))
					    : slots_json(t, t->slots(p, s)));
	}
	port_capture_stats(s, &st);
	m = json_object();
	for (size_t i = 0; i < capture_counter_count; i++)
		json_object_set_new(m, capture_counter_table[i].key,
				    json_integer((json_int_t)capture_counter_value(
					    &capture_counter_table[i], &st)));
	json_object_set_new(o, "capture", m);
	arr = json_array();
	for (size_t i = 0; (b = stack_at(s, i)); i++) {
		m = binding_counters_json(b);
		json_object_set_new(m, "id", json_integer(b->cfg.id));
		json_object_set_new(m, "handler", json_string(b->ops->name));
		json_array_append_new(arr, m);
	}
	json_object_set_new(o, "bindings", arr);
	json_object_set_new(o, "since", json_time(stack_since(s)));
	return o;
}

json_t *last_error_json(const struct port_error *e)
{
	json_t *o;
	char nb[16];

	if (!e->op[0])
		return json_null();
	o = json_object();
	json_object_set_new(o, "operation", json_string(e->op));
	json_object_set_new(o, "errno", json_integer(e->err));
	json_object_set_new(o, "errno_name", json_string(e->err ? errno_name(e->err, nb) : ""));
	json_object_set_new(o, "message", json_text(e->message));
	json_object_set_new(o, "time", json_time(e->when));
	return o;
}

static const struct {
	unsigned bit;
	const char *field;
} drift_fields[] = {
	{ PORT_DRIFT_UP, "up" },
	{ PORT_DRIFT_MTU, "mtu" },
	{ PORT_DRIFT_MAC, "mac" },
	{ PORT_DRIFT_ADDRESSES, "addresses" },
};

/* What the kernel holds, beside the configuration; null when it cannot be asked. */
static json_t *kernel_link_json(const struct port *p)
{
	unsigned n;
	const struct ip_prefix *a = port_kernel_addrs(p, &n);
	char buf[PREFIX_STR_MAX];
	json_t *o, *arr;

	if (!a)
		return json_null();
	o = json_object();
	arr = json_array();
	for (unsigned i = 0; i < n; i++) {
		prefix_format(&a[i], buf);
		json_array_append_new(arr, json_string(buf));
	}
	json_object_set_new(o, "addresses", arr);
	return o;
}

static json_t *drift_json(const struct port *p)
{
	unsigned drift = port_drift(p);
	json_t *arr = json_array();

	for (size_t i = 0; i < sizeof(drift_fields) / sizeof(drift_fields[0]); i++)
		if (drift & drift_fields[i].bit)
			json_array_append_new(arr, json_string(drift_fields[i].field));
	return arr;
}

/*
 * The queues running (service/queue.h): one entry each, queue 0 the main
 * loop's, with the frames it read and, for a worker's, the frames it could
 * not hand to the main loop (a capture, forward or stream tap behind).
 */
static json_t *queues_json(const struct port *p, const struct stack *s)
{
	json_t *arr = json_array();

	for (unsigned q = 0; q < port_queues(p); q++) {
		json_t *o = json_object();

		json_object_set_new(o, "rx_frames",
				    json_integer((json_int_t)port_queue_rx_frames(p, q)));
		json_object_set_new(o, "handoff_dropped",
				    json_integer((json_int_t)(s ? stack_queue_dropped(s, q) : 0)));
		json_array_append_new(arr, o);
	}
	return arr;
}

/* What the port is: the link as the kernel reports it, its state, its errors. */
static json_t *status_json(const struct port *p)
{
	const struct link_state *ls = port_link(p);
	const char *flags[16];
	size_t nflags = port_tun_flag_names(port_tun_flags(p), flags, 16);
	bool open = port_ifindex(p) > 0;
	json_t *o = json_object(), *arr = json_array(), *k;
	char buf[PREFIX_STR_MAX];

	json_object_set_new(o, "state", json_string(port_state_name(port_state(p))));
	json_object_set_new(o, "ifindex", open ? json_integer(port_ifindex(p)) : json_null());
	for (size_t i = 0; i < nflags; i++)
		json_array_append_new(arr, json_string(flags[i]));
	json_object_set_new(o, "flags", arr);
	arr = json_array();
	nflags = port_offload_names(port_offloads(p), flags, 16);
	for (size_t i = 0; i < nflags; i++)
		json_array_append_new(arr, json_string(flags[i]));
	json_object_set_new(o, "offloads", arr);
	json_object_set_new(o, "mtu", open ? json_integer(ls->mtu) : json_null());
	if (open && ls->has_mac) {
		mac_format(ls->mac, buf);
		json_object_set_new(o, "mac", json_string(buf));
	} else {
		json_object_set_new(o, "mac", json_null());
	}
	json_object_set_new(o, "up", json_boolean(open && (ls->flags & IFF_UP)));
	/* The kernel's global addresses; null when it cannot be asked. */
	k = kernel_link_json(p);
	json_object_set(o, "addresses",
			json_is_object(k) ? json_object_get(k, "addresses") : json_null());
	json_decref(k);
	json_object_set_new(o, "drift", drift_json(p));
	json_object_set_new(o, "last_error", last_error_json(port_last_error(p)));
	json_object_set_new(o, "created", json_time(port_created(p)));
	return o;
}

/*
 * A port: {"name", "version", "config", "status", "counters"}. "config" is
 * what a client asked for, in the form a PUT takes back unchanged
 * (portcfg_config_json()); "status" and "counters" are what paird observes.
 */
json_t *port_json(const struct api *api, const struct port *p)
{
	json_t *o = json_object();

	json_object_set_new(o, "name", json_string(port_name(p)));
	json_object_set_new(o, "version",
			    json_integer((json_int_t)portset_port_version(api->cfg.ports, p)));
	json_object_set_new(o, "config", portcfg_config_json(port_config(p)));
	json_object_set_new(o, "status", status_json(p));
	json_object_set_new(json_object_get(o, "status"), "queues",
			    queues_json(p, portset_stack(api->cfg.ports, p)));
	json_object_set_new(o, "counters", counters_json(p, portset_stack(api->cfg.ports, p)));
	return o;
}

struct port *api_find_port(struct api *api, const struct request *rq, struct fault *f)
{
	const char *name = rq->params[0];
	struct fault bad = FAULT_INIT;
	struct port *p;

	/* No port can exist under an invalid name: that is a 404, with the reason. */
	if (portcfg_name_check(name, "name", &bad) < 0) {
		fault_set(f, FAULT_NOT_FOUND, 0, NULL, "no port named %s: %s", name, bad.detail);
		return NULL;
	}
	p = portset_find(api->cfg.ports, name);
	if (!p)
		fault_set(f, FAULT_NOT_FOUND, 0, NULL, "no port named %s", name);
	return p;
}

int h_ports_list(struct api *api, struct request *rq, struct response *rs, struct fault *f)
{
	json_t *arr = json_array(), *o = json_object();
	struct port *p;

	(void)rq;
	(void)f;
	for (size_t i = 0; (p = portset_at(api->cfg.ports, i)); i++)
		json_array_append_new(arr, port_json(api, p));
	json_object_set_new(o, "ports", arr);
	return reply_json(rs, 200, o);
}

static int parse_config(const struct request *rq, enum portcfg_mode mode, const char *path_name,
			struct port_config *cfg, struct fault *f)
{
	json_t *doc;
	int ret = body_json(rq, mode == PORTCFG_PATCH, &doc, f);

	if (ret < 0)
		return ret;
	ret = portcfg_from_json(doc, mode, path_name, cfg, f);
	json_decref(doc);
	return ret;
}

/* A port's answer: its ETag and whether the request changed anything. */
static int reply_port(const struct api *api, struct response *rs, int status, const struct port *p,
		      bool changed)
{
	if (status == 201)
		response_header(rs, "Location", "/api/v1/ports/%s", port_name(p));
	reply_etag(rs, portset_port_version(api->cfg.ports, p));
	reply_changed(rs, changed);
	return reply_json(rs, status, port_json(api, p));
}

int h_ports_create(struct api *api, struct request *rq, struct response *rs, struct fault *f)
{
	struct port_config cfg;
	struct port *p;

	if (parse_config(rq, PORTCFG_CREATE, NULL, &cfg, f) < 0)
		return -1;
	if (portset_create(api->cfg.ports, &cfg, &p, f) < 0)
		return -1;
	return reply_port(api, rs, 201, p, true);
}

int h_port_get(struct api *api, struct request *rq, struct response *rs, struct fault *f)
{
	struct port *p = api_find_port(api, rq, f);
	uint64_t v;

	if (!p)
		return -1;
	v = portset_port_version(api->cfg.ports, p);
	if (precond_check(rq, true, v, rs))
		return 0;
	reply_etag(rs, v);
	return reply_json(rs, 200, port_json(api, p));
}

/*
 * The port a write names, for its preconditions: NULL when absent (no
 * fault: If-Match on an absent port is 412, not 404), with its version.
 */
static struct port *target(struct api *api, const struct request *rq, uint64_t *version)
{
	struct port *p = portset_find(api->cfg.ports, rq->params[0]);

	*version = p ? portset_port_version(api->cfg.ports, p) : 0;
	return p;
}

/*
 * PUT: creates (201), changes (200) or, when the body asks for what the
 * port already is, does nothing at all (200, same ETag, Paird-Changed:
 * false): the port set leaves the version alone exactly then.
 */
int h_port_put(struct api *api, struct request *rq, struct response *rs, struct fault *f)
{
	struct port_config cfg;
	struct port *p;
	bool created;
	uint64_t before;

	if (portcfg_name_check(rq->params[0], "name", f) < 0)
		return -1;
	p = target(api, rq, &before);
	if (precond_check(rq, p != NULL, before, rs))
		return 0;
	if (parse_config(rq, PORTCFG_CREATE, rq->params[0], &cfg, f) < 0)
		return -1;
	if (portset_put(api->cfg.ports, &cfg, &created, &p, f) < 0)
		return -1;
	return reply_port(api, rs, created ? 201 : 200, p,
			  created || portset_port_version(api->cfg.ports, p) != before);
}

int h_port_patch(struct api *api, struct request *rq, struct response *rs, struct fault *f)
{
	struct port_config patch;
	struct port *p;
	uint64_t before;

	p = target(api, rq, &before);
	if (precond_check(rq, p != NULL, before, rs))
		return 0;
	p = api_find_port(api, rq, f);
	if (!p)
		return -1;
	if (parse_config(rq, PORTCFG_PATCH, NULL, &patch, f) < 0)
		return -1;
	if (portset_patch(api->cfg.ports, p, &patch, f) < 0)
		return -1;
	return reply_port(api, rs, 200, p, portset_port_version(api->cfg.ports, p) != before);
}

int h_port_delete(struct api *api, struct request *rq, struct response *rs, struct fault *f)
{
	struct port *p;
	uint64_t before;

	p = target(api, rq, &before);
	if (precond_check(rq, p != NULL, before, rs))
		return 0;
	if (!api_find_port(api, rq, f))
		return -1;
	if (portset_delete(api->cfg.ports, rq->params[0], f) < 0)
		return -1;
	reply_empty(rs, 204);
	reply_changed(rs, true);
	return 0;
}
