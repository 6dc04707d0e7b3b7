// SPDX-License-Identifier: MIT
/*
 * /api/v1/ports/{name}/bindings: list, create (POST, server-assigned id,
 * optional client name), create-or-replace by name (PUT, idempotent: the
 * same body again changes nothing), read and delete by id or name, the
 * handlers bound to a port's dispatch tree. The rules
 * live in service/bindcfg.c and bindopts.c; the port set checks what needs other ports
 * (a forward's target) and writes the state file before we answer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../service/bindcfg.h"
#include "../service/portset.h"
#include "../service/stack.h"
#include "internal.h"

_Static_assert(BINDING_COUNTERS_MAX == 3 + BINDING_EXTRA_MAX, "the counters of a binding");

size_t binding_counter_list(const struct handler_ops *ops, const struct binding_counters *c,
			    struct binding_counter out[BINDING_COUNTERS_MAX])
{
	static const struct binding_counters none;
	size_t n = 0;

	if (!c)
		c = &none;
	out[n++] = (struct binding_counter){ "packets", "Frames that reached the binding.",
					     c->packets };
	out[n++] =
		(struct binding_counter){ "bytes", "Bytes of the frames that reached the binding.",
					  c->bytes };
	out[n++] = (struct binding_counter){ "errors", "Frames the binding's handler failed on.",
					     c->errors };
	for (int i = 0; i < BINDING_EXTRA_MAX; i++)
		if (ops->extra[i])
			out[n++] = (struct binding_counter){
				ops->extra[i], "A handler's own counter (see the binding's JSON).",
				c->extra[i]
			};
	return n;
}

json_t *binding_counters_json(const struct binding *b)
{
	struct binding_counter bc[BINDING_COUNTERS_MAX];
	struct binding_counters c;
	json_t *o = json_object();
	size_t n;

	/* Summed over the port's queues (service/queue.h). */
	binding_counters_sum(b, &c);
	n = binding_counter_list(b->ops, &c, bc);

	for (size_t i = 0; i < n; i++)
		json_object_set_new(o, bc[i].name, json_integer((json_int_t)bc[i].value));
	return o;
}

json_t *binding_json(const struct binding *b)
{
	json_t *o = json_object(), *st = json_object();

	json_object_set_new(o, "id", json_integer(b->cfg.id));
	json_object_set_new(o, "name", b->cfg.name[0] ? json_string(b->cfg.name) : json_null());
	json_object_set_new(o, "version", json_integer((json_int_t)b->version));
	json_object_set_new(o, "config", bindcfg_spec_json(&b->cfg));
	json_object_set_new(st, "created", json_time(b->created));
	json_object_set_new(o, "status", st);
	json_object_set_new(o, "counters", binding_counters_json(b));
	return o;
}

/* True when @key is all digits: /bindings/{key} names an id, never a name. */
static bool is_id(const char *key)
{
	return key[0] && !key[strspn(key, "0123456789")];
}

/*
 * The binding /bindings/{key} names on port @p: an id (all digits,
 * 1..UINT32_MAX) or a name. NULL with a 404 fault.
 */
static struct binding *find_binding(struct api *api, struct port *p, const char *key,
				    struct fault *f)
{
	struct binding *b = portset_find_binding(api->cfg.ports, p, key);

	if (b)
		return b;
	if (is_id(key))
		fault_set(f, FAULT_NOT_FOUND, 0, NULL, "port %s has no binding %s (ids are 1..%u)",
			  port_name(p), key, UINT32_MAX);
	else
		fault_set(f, FAULT_NOT_FOUND, 0, NULL, "port %s has no binding named %s",
			  port_name(p), key);
	return NULL;
}

int h_bindings_list(struct api *api, struct request *rq, struct response *rs, struct fault *f)
{
	struct port *p = api_find_port(api, rq, f);
	const struct stack *s;
	json_t *arr, *o;
	struct binding *b;

	if (!p)
		return -1;
	s = portset_stack(api->cfg.ports, p);
	arr = json_array();
	for (size_t i = 0; (b = stack_at(s, i)); i++)
		json_array_append_new(arr, binding_json(b));
	o = json_object();
	json_object_set_new(o, "bindings", arr);
	return reply_json(rs, 200, o);
}

/* The binding's answer: its ETag, whether the request changed anything, where it lives. */
static int reply_binding(struct response *rs, int status, const struct port *p,
			 const struct binding *b, bool changed)
{
	if (status == 201 && b->cfg.name[0])
		response_header(rs, "Location", "/api/v1/ports/%s/bindings/%s", port_name(p),
				b->cfg.name);
	else if (status == 201)
		response_header(rs, "Location", "/api/v1/ports/%s/bindings/%u", port_name(p),
				b->cfg.id);
	reply_etag(rs, b->version);
	reply_changed(rs, changed);
	return reply_json(rs, status, binding_json(b));
}

/* The request body as a binding of port p's type into *cfg. 0, or -1 with f set. */
static int binding_body(struct request *rq, const struct port *p, struct binding_config *cfg,
			struct fault *f)
{
	json_t *doc;
	int ret;

	if (body_json(rq, false, &doc, f) < 0)
		return -1;
	ret = bindcfg_from_json(doc, port_config(p)->type, false, cfg, f);
	json_decref(doc);
	return ret < 0 ? -1 : 0;
}

int h_bindings_create(struct api *api, struct request *rq, struct response *rs, struct fault *f)
{
	struct port *p = api_find_port(api, rq, f);
	struct binding_config cfg;
	struct binding *b;

	if (!p)
		return -1;
	if (binding_body(rq, p, &cfg, f) < 0)
		return -1;
	if (portset_bind(api->cfg.ports, p, &cfg, &b, f) < 0)
		return -1;
	return reply_binding(rs, 201, p, b, true);
}

int h_binding_get(struct api *api, struct request *rq, struct response *rs, struct fault *f)
{
	struct port *p = api_find_port(api, rq, f);
	struct binding *b = p ? find_binding(api, p, rq->params[1], f) : NULL;

	if (!b)
		return -1;
	if (precond_check(rq, true, b->version, rs))
		return 0;
	reply_etag(rs, b->version);
	return reply_json(rs, 200, binding_json(b));
}

/*
 * PUT /bindings/{name}: creates, replaces or leaves alone the binding of
 * that name (portset_bind_put()). A name in the body must be the path's.
 * PUT /bindings/{id} replaces an existing binding by its id (ids are the
 * server's to hand out, so an absent one is 404), keeping its name.
 */
int h_binding_put(struct api *api, struct request *rq, struct response *rs, struct fault *f)
{
	struct port *p = api_find_port(api, rq, f);
	const char *key = rq->params[1];
	struct binding_config cfg;
	struct binding *b, *old;
	bool created, changed;

	if (!p)
		return -1;
	if (!is_id(key) && bindcfg_name_check(key, "name", f) < 0)
		return -1;
	old = portset_find_binding(api->cfg.ports, p, key);
	if (is_id(key) && !old)
		return fault_set(f, FAULT_NOT_FOUND, 0, NULL,
				 "port %s has no binding %s; ids are handed out by POST, so PUT "
				 "creates bindings by name (/bindings/NAME)",
				 port_name(p), key);
	if (precond_check(rq, old != NULL, old ? old->version : 0, rs))
		return 0;
	if (binding_body(rq, p, &cfg, f) < 0)
		return -1;
	if (is_id(key)) {
		if (cfg.name[0] && strcmp(cfg.name, old->cfg.name) != 0)
			return fault_set(f, FAULT_INVALID, 0, "name",
					 "\"%s\" is not the name of binding %s; a binding's name "
					 "stays what it was created with",
					 cfg.name, key);
		cfg.id = old->cfg.id;
	} else if (cfg.name[0] && strcmp(cfg.name, key) != 0) {
		return fault_set(f, FAULT_INVALID, 0, "name",
				 "\"%s\" differs from the name in the path, \"%s\"", cfg.name, key);
	} else {
		memcpy(cfg.name, key, strlen(key) + 1);
	}
	if (portset_bind_put(api->cfg.ports, p, &cfg, &created, &changed, &b, f) < 0)
		return -1;
	return reply_binding(rs, created ? 201 : 200, p, b, changed);
}

int h_binding_delete(struct api *api, struct request *rq, struct response *rs, struct fault *f)
{
	struct port *p = api_find_port(api, rq, f);
	struct binding *b;

	if (!p)
		return -1;
	b = portset_find_binding(api->cfg.ports, p, rq->params[1]);
	if (precond_check(rq, b != NULL, b ? b->version : 0, rs))
		return 0;
	/* Absent: find_binding() words the 404 (an id or a name). */
	if (!b) {
		find_binding(api, p, rq->params[1], f);
		return -1;
	}
	if (portset_unbind(api->cfg.ports, p, b->cfg.id, f) < 0)
		return -1;
	reply_empty(rs, 204);
	reply_changed(rs, true);
	return 0;
}
