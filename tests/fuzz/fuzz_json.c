// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the JSON bodies of the API: the input's first byte
 * picks a route (create/replace/patch a port, create a binding, transmit),
 * the rest is the request body, handed to api_handle() as a fake request
 * over a port set on the memory port I/O (no root, no devices). Whatever
 * the body, the answer must be a well-formed response: a status in
 * 200..599, and for errors an RFC 9457 problem whose status matches.
 * Ports and bindings a body manages to create are removed again, so every
 * input starts from the same state. Built and run by `make fuzz`.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../api/api.h"
#include "../../service/log.h"
#include "../fakes/portio_mem.h"
#include "../../service/portset.h"
#include "../../service/stack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct memio *mem;
static struct portset *ports;
static struct api *api;

static const struct {
	enum http_method method;
	const char *path;
	const char *ctype;
} routes[] = {
	{ HTTP_POST, "/api/v1/ports", "application/json" },
	{ HTTP_PUT, "/api/v1/ports/fz1", "application/json" },
	{ HTTP_PATCH, "/api/v1/ports/fz0", "application/merge-patch+json" },
	{ HTTP_POST, "/api/v1/ports/fz0/bindings", "application/json" },
	{ HTTP_POST, "/api/v1/ports/fz0/transmit", "application/json" },
	{ HTTP_POST, "/api/v1/ports/fzun/bindings", "application/json" },
};

static const char *header(void *ctx, const char *name)
{
	return strcasecmp(name, "Content-Type") == 0 ? ctx : NULL;
}

static const char *no_query(void *ctx, const char *name)
{
	(void)ctx;
	(void)name;
	return NULL;
}

static void call(enum http_method m, const char *path, const char *ctype, const char *body,
		 size_t len, struct response *rs)
{
	struct request rq = {
		.method = m,
		.path = path,
		.header = header,
		.query = no_query,
		.lookup_ctx = (void *)ctype,
		.body = body,
		.body_len = len,
	};

	api_handle(api, &rq, rs);
}

static void setup(void)
{
	struct api_config ac = { 0 };
	struct port_config pc = { .name = "fz0", .type = PORT_TAP };
	struct fault f = FAULT_INIT;

	log_set_level(LOG_ERROR);
	mem = memio_new();
	ports = portset_new(NULL, memio_io(mem), NULL, 8);
	if (!mem || !ports || portset_create(ports, &pc, NULL, &f) < 0)
		abort();
	memio_device_add(mem, "fzun", true, true);
	ac.ports = ports;
	api = api_new(&ac);
	if (!api)
		abort();
}

/* Back to one port fz0 with no bindings and its original link. */
static void reset(void)
{
	struct fault f = FAULT_INIT;
	struct port *p;

	for (size_t i = portset_count(ports); i-- > 0;) {
		p = portset_at(ports, i);
		if (strcmp(port_name(p), "fz0") != 0)
			portset_delete(ports, port_name(p), &f);
	}
	p = portset_find(ports, "fz0");
	if (!p) {
		struct port_config pc = { .name = "fz0", .type = PORT_TAP };

		if (portset_create(ports, &pc, NULL, &f) < 0)
			abort();
		return;
	}
	{
		struct stack *s = portset_stack(ports, p);
		struct binding *b;

		while ((b = stack_at(s, 0)))
			portset_unbind(ports, p, b->cfg.id, &f);
	}
}

static void check(const struct response *rs)
{
	json_t *doc;

	if (rs->status < 200 || rs->status > 599)
		abort();
	if (rs->status < 400)
		return;
	if (!rs->content_type || strcmp(rs->content_type, "application/problem+json") != 0)
		abort();
	doc = json_loadb(rs->body ? rs->body : rs->static_body, rs->len, 0, NULL);
	if (!doc || json_integer_value(json_object_get(doc, "status")) != rs->status ||
	    !json_is_string(json_object_get(doc, "type")) ||
	    !json_is_string(json_object_get(doc, "detail")))
		abort();
	json_decref(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct response rs;

	if (!api)
		setup();
	if (size < 1)
		return 0;
	{
		unsigned r = data[0] % (sizeof(routes) / sizeof(routes[0]));

		call(routes[r].method, routes[r].path, routes[r].ctype, (const char *)data + 1,
		     size - 1, &rs);
	}
	check(&rs);
	response_fini(&rs);
	reset();
	return 0;
}
