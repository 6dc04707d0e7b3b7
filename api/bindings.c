// SPDX-License-Identifier: MIT
/*
 * /api/v1/ports/{name}/bindings: list, create (POST, server-assigned id),
 * read and delete the handlers bound to a port's dispatch tree. The rules
 * live in service/bindcfg.c and bindopts.c; the port set checks what needs other ports
 * (a forward's target) and writes the state file before we answer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../service/bindcfg.h"
#include "../service/num.h"
#include "../service/portset.h"
#include "../service/stack.h"
#include "internal.h"

json_t *binding_counters_json(const struct binding *b)
{
	json_t *o = json_object();

	json_object_set_new(o, "packets", json_integer((json_int_t)b->c.packets));
	json_object_set_new(o, "bytes", json_integer((json_int_t)b->c.bytes));
	json_object_set_new(o, "errors", json_integer((json_int_t)b->c.errors));
	for (int i = 0; i < BINDING_EXTRA_MAX; i++)
		if (b->ops->extra[i])
			json_object_set_new(o, b->ops->extra[i],
					    json_integer((json_int_t)b->c.extra[i]));
	return o;
}

json_t *binding_json(const struct binding *b)
{
	json_t *o = bindcfg_to_json(&b->cfg);

	json_object_set_new(o, "created", json_time(b->created));
	json_object_set_new(o, "counters", binding_counters_json(b));
	return o;
}

/* A binding id from the path: 1..UINT32_MAX in at most 10 decimal digits, else 404. */
static int parse_id(const char *s, uint32_t *out)
{
	uint64_t v;

	if (strlen(s) > 10 || num_parse_u64(s, 1, UINT32_MAX, &v) < 0)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static struct binding *find_binding(struct api *api, const struct request *rq, struct port **pp,
				    struct fault *f)
{
	struct port *p = api_find_port(api, rq, f);
	struct binding *b;
	uint32_t id;

	if (!p)
		return NULL;
	if (parse_id(rq->params[1], &id) < 0) {
		fault_set(f, FAULT_NOT_FOUND, 0, NULL, "no binding %s on port %s (ids are 1..%u)",
			  rq->params[1], port_name(p), UINT32_MAX);
		return NULL;
	}
	b = stack_find(portset_stack(api->cfg.ports, p), id);
	if (!b)
		fault_set(f, FAULT_NOT_FOUND, 0, NULL, "port %s has no binding %u", port_name(p),
			  id);
	if (pp)
		*pp = p;
	return b;
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

int h_bindings_create(struct api *api, struct request *rq, struct response *rs, struct fault *f)
{
	struct port *p = api_find_port(api, rq, f);
	struct binding_config cfg;
	struct binding *b;
	json_t *doc;
	int ret;

	if (!p)
		return -1;
	if (body_json(rq, false, &doc, f) < 0)
		return -1;
	ret = bindcfg_from_json(doc, port_config(p)->type, false, &cfg, f);
	json_decref(doc);
	if (ret < 0)
		return -1;
	if (portset_bind(api->cfg.ports, p, &cfg, &b, f) < 0)
		return -1;
	response_header(rs, "Location", "/api/v1/ports/%s/bindings/%u", port_name(p), b->cfg.id);
	return reply_json(rs, 201, binding_json(b));
}

int h_binding_get(struct api *api, struct request *rq, struct response *rs, struct fault *f)
{
	struct binding *b = find_binding(api, rq, NULL, f);

	if (!b)
		return -1;
	return reply_json(rs, 200, binding_json(b));
}

int h_binding_delete(struct api *api, struct request *rq, struct response *rs, struct fault *f)
{
	struct port *p;
	struct binding *b = find_binding(api, rq, &p, f);

	if (!b)
		return -1;
	if (portset_unbind(api->cfg.ports, p, b->cfg.id, f) < 0)
		return -1;
	reply_empty(rs, 204);
	return 0;
}
