// SPDX-License-Identifier: MIT
/*
 * pairctl's port commands: `ports` (the table), `port show|add|set|del`
 * and `counters`. Each is one API request: GET /api/v1/ports, POST it,
 * GET/PATCH/DELETE /api/v1/ports/{name}. The request bodies are built here
 * from options; the server does every check of the values, so the CLI
 * never disagrees with it about what is valid.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pairctl.h"
#include "table.h"

#define TEXT_MAX 512

/* One row of `ports`. */
static void port_row(const json_t *p, char (*cells)[TABLE_CELL_MAX])
{
	const json_t *drift = jget(p, "status", "drift");
	const json_t *binds = json_object_get(json_object_get(p, "counters"), "bindings");

	jtext(json_object_get(p, "name"), cells[0], TABLE_CELL_MAX);
	jtext(jget(p, "config", "type"), cells[1], TABLE_CELL_MAX);
	jtext(jget(p, "status", "state"), cells[2], TABLE_CELL_MAX);
	if (json_array_size(drift) > 0) {
		char d[TABLE_CELL_MAX];
		size_t n = strlen(cells[2]);

		jtext(drift, d, sizeof(d));
		snprintf(cells[2] + n, TABLE_CELL_MAX - n, " (drift: %s)", d);
	}
	jtext(jget(p, "status", "mtu"), cells[3], TABLE_CELL_MAX);
	jtext(jget(p, "status", "mac"), cells[4], TABLE_CELL_MAX);
	jtext(jget(p, "config", "addresses"), cells[5], TABLE_CELL_MAX);
	jtext(jget(p, "counters", "rx_frames"), cells[6], TABLE_CELL_MAX);
	jtext(jget(p, "counters", "tx_frames"), cells[7], TABLE_CELL_MAX);
	snprintf(cells[8], TABLE_CELL_MAX, "%zu", json_array_size(binds));
}

static int run_ports(struct ctx *ctx, const struct args *a)
{
	const json_t *ports, *p;
	json_t *list = NULL;
	size_t i;
	int ret;

	ret = api_call(ctx, "GET", "/api/v1/ports", NULL, &list, NULL);
	if (ret)
		goto out;
	ports = json_object_get(list, "ports");
	if (ctx->json) {
		print_json(list);
	} else if (args_flag(a, "quiet")) {
		json_array_foreach(ports, i, p) {
			printf("%s\n", json_string_value(json_object_get(p, "name")));
		}
	} else {
		static const char *const head[] = { "NAME",	 "TYPE", "STATE", "MTU",     "MAC",
						    "ADDRESSES", "RX",	 "TX",	  "BINDINGS" };

		ret = print_table(9, head, ports, port_row);
	}
out:
	json_decref(list);
	return ret;
}

/* Prints the members of obj as "  key  value" lines (nested objects compact). */
static void print_members(const char *title, const json_t *obj, const char *skip)
{
	const char *key;
	const json_t *v;
	char text[2048];

	printf("%s:\n", title);
	json_object_foreach((json_t *)obj, key, v) {
		if (skip && strcmp(key, skip) == 0)
			continue;
		jtext(v, text, sizeof(text));
		printf("  %-14s %s\n", key, text);
	}
}

/* The counters of a port, zero malformation reasons left out. */
static void print_counters(const json_t *c)
{
	static const char *const head[] = { "ID", "HANDLER", "PACKETS", "BYTES", "ERRORS", "MORE" };
	const char *key, *k2;
	const json_t *v, *v2, *b;
	char text[TEXT_MAX];
	size_t i;

	printf("counters:\n");
	json_object_foreach((json_t *)c, key, v) {
		if (strcmp(key, "bindings") == 0)
			continue;
		if (!json_is_object(v)) {
			jtext(v, text, sizeof(text));
			printf("  %-26s %s\n", key, text);
			continue;
		}
		json_object_foreach((json_t *)v, k2, v2) {
			char name[128];

			if (strcmp(key, "malformed") == 0 && json_integer_value(v2) == 0)
				continue;
			snprintf(name, sizeof(name), "%s.%s", key, k2);
			jtext(v2, text, sizeof(text));
			printf("  %-26s %s\n", name, text);
		}
	}
	b = json_object_get(c, "bindings");
	if (json_array_size(b) > 0) {
		struct table *t = table_new(6, head);
		const json_t *e;

		if (!t)
			return;
		printf("bindings:\n");
		json_array_foreach(b, i, e) {
			char cells[6][TEXT_MAX];
			const char *row[6];
			size_t o = 0;

			jtext(json_object_get(e, "id"), cells[0], TEXT_MAX);
			jtext(json_object_get(e, "handler"), cells[1], TEXT_MAX);
			jtext(json_object_get(e, "packets"), cells[2], TEXT_MAX);
			jtext(json_object_get(e, "bytes"), cells[3], TEXT_MAX);
			jtext(json_object_get(e, "errors"), cells[4], TEXT_MAX);
			cells[5][0] = '\0';
			json_object_foreach((json_t *)e, k2, v2) {
				static const char *const shown[] = { "id",	"name",	 "handler",
								     "packets", "bytes", "errors" };
				bool skip = false;

				for (size_t s = 0; s < sizeof(shown) / sizeof(shown[0]); s++)
					skip |= strcmp(k2, shown[s]) == 0;
				if (skip || o >= TEXT_MAX)
					continue;
				jtext(v2, text, sizeof(text));
				o += (size_t)snprintf(cells[5] + o, TEXT_MAX - o, "%s%s=%s",
						      o ? " " : "", k2, text);
			}
			for (int k = 0; k < 6; k++)
				row[k] = cells[k][0] ? cells[k] : NULL;
			if (table_add(t, row) < 0)
				break;
		}
		table_print(t, stdout);
		table_free(t);
	}
}

static int get_port(struct ctx *ctx, const char *name, json_t **port)
{
	char path[512];
	int ret = port_path(ctx, path, sizeof(path), name, "");

	return ret ? ret : api_call(ctx, "GET", path, NULL, port, NULL);
}

static int run_port_show(struct ctx *ctx, const struct args *a)
{
	json_t *port = NULL;
	const json_t *v;
	int ret = get_port(ctx, a->pos[0], &port);

	if (ret)
		goto out;
	if (ctx->json) {
		print_json(port);
		goto out;
	}
	printf("port %s", json_string_value(json_object_get(port, "name")));
	v = json_object_get(port, "version");
	if (json_is_integer(v))
		printf(" (version %" JSON_INTEGER_FORMAT ")", json_integer_value(v));
	printf("\n");
	if (json_is_object(json_object_get(port, "config"))) {
		print_members("config", json_object_get(port, "config"), NULL);
		print_members("status", json_object_get(port, "status"), NULL);
	} else {
		print_members("port", port, "counters");
	}
	print_counters(json_object_get(port, "counters"));
out:
	json_decref(port);
	return ret;
}

static int run_counters(struct ctx *ctx, const struct args *a)
{
	json_t *port = NULL;
	int ret = get_port(ctx, a->pos[0], &port);

	if (ret)
		goto out;
	if (ctx->json)
		print_json(json_object_get(port, "counters"));
	else
		print_counters(json_object_get(port, "counters"));
out:
	json_decref(port);
	return ret;
}

/* The link options port add and port set share, into body. */
static int link_options(struct ctx *ctx, const struct args *a, json_t *body)
{
	const char *const *addrs;
	const char *v;
	unsigned long long n;
	unsigned naddrs;
	json_t *arr;

	if (args_flag(a, "up") && args_flag(a, "down"))
		return usage_error(ctx, "--up and --down contradict each other");
	if (args_flag(a, "up") || args_flag(a, "down"))
		json_object_set_new(body, "up", json_boolean(args_flag(a, "up")));
	v = args_value(a, "mtu");
	if (v) {
		if (args_uint(v, 0, 65535, &n) < 0)
			return usage_error(ctx, "--mtu '%s' is not a number 0..65535", v);
		json_object_set_new(body, "mtu", json_integer((json_int_t)n));
	}
	v = args_value(a, "mac");
	if (v)
		json_object_set_new(body, "mac", json_string(v));
	addrs = args_list(a, "addr", &naddrs);
	if (naddrs) {
		arr = json_array();
		for (unsigned i = 0; i < naddrs; i++)
			json_array_append_new(arr, json_string(addrs[i]));
		json_object_set_new(body, "addresses", arr);
	}
	if (args_flag(a, "strict"))
		json_object_set_new(body, "strict", json_true());
	return EXIT_OK;
}

static int run_port_add(struct ctx *ctx, const struct args *a)
{
	const char *type = args_value(a, "type");
	json_t *body = json_object(), *port = NULL;
	int ret;

	if (!type) {
		ret = usage_error(ctx, "--type tun|tap is required");
		goto out;
	}
	json_object_set_new(body, "name", json_string(a->pos[0]));
	json_object_set_new(body, "type", json_string(type));
	ret = link_options(ctx, a, body);
	if (ret)
		goto out;
	if (args_flag(a, "attach"))
		json_object_set_new(body, "attach", json_true());
	if (args_flag(a, "packet-info"))
		json_object_set_new(body, "packet_info", json_true());
	if (args_flag(a, "vnet-hdr"))
		json_object_set_new(body, "vnet_hdr", json_true());
	if (args_value(a, "queues")) {
		unsigned long long n;

		/* paird checks the range (1..8); here only that it is a number. */
		if (args_uint(args_value(a, "queues"), 0, 255, &n) < 0) {
			ret = usage_error(ctx, "--queues '%s' is not a number",
					  args_value(a, "queues"));
			goto out;
		}
		json_object_set_new(body, "queues", json_integer((json_int_t)n));
	}
	ret = api_send_json(ctx, "POST", "/api/v1/ports", body, NULL, &port, NULL);
	if (ret)
		goto out;
	if (ctx->json)
		print_json(port);
	else
		printf("created port %s (%s)\n", a->pos[0], type);
out:
	json_decref(port);
	json_decref(body);
	return ret;
}

static void say_changed(const char *what, const struct response *r)
{
	if (r->changed == 0)
		printf("%s: unchanged\n", what);
	else
		printf("%s: changed\n", what);
}

static int run_port_set(struct ctx *ctx, const struct args *a)
{
	const struct request rq = { .content_type = "application/merge-patch+json",
				    .if_match = args_value(a, "if-match") };
	json_t *body = json_object(), *port = NULL;
	struct response r = { 0 };
	char path[512], what[64];
	int ret;

	ret = port_path(ctx, path, sizeof(path), a->pos[0], "");
	if (!ret)
		ret = link_options(ctx, a, body);
	if (ret)
		goto out;
	if (args_flag(a, "no-addresses")) {
		if (json_object_get(body, "addresses")) {
			ret = usage_error(ctx, "--addr and --no-addresses contradict each other");
			goto out;
		}
		json_object_set_new(body, "addresses", json_null());
	}
	if (args_flag(a, "no-strict")) {
		if (args_flag(a, "strict")) {
			ret = usage_error(ctx, "--strict and --no-strict contradict each other");
			goto out;
		}
		json_object_set_new(body, "strict", json_false());
	}
	if (json_object_size(body) == 0) {
		ret = usage_error(ctx, "nothing to change (give --addr, --mtu, --mac, --up, ...)");
		goto out;
	}
	ret = api_send_json(ctx, "PATCH", path, body, &rq, &port, &r);
	if (ret)
		goto out;
	if (ctx->json) {
		print_json(port);
	} else {
		snprintf(what, sizeof(what), "port %s", a->pos[0]);
		say_changed(what, &r);
	}
out:
	response_fini(&r);
	json_decref(port);
	json_decref(body);
	return ret;
}

static int run_port_del(struct ctx *ctx, const struct args *a)
{
	struct request rq = { .if_match = args_value(a, "if-match") };
	char path[512];
	int ret = port_path(ctx, path, sizeof(path), a->pos[0], "");

	if (!ret)
		ret = api_call(ctx, "DELETE", path, &rq, NULL, NULL);
	if (!ret && !ctx->json)
		printf("deleted port %s\n", a->pos[0]);
	return ret;
}

/* What link_options reads, for both port add and port set. */
/* clang-format off */
#define LINK_OPTS \
	{ "addr", ARG_LIST, "PREFIX", "an address with its prefix length (repeatable)" }, \
	{ "mtu", ARG_VALUE, "N", "the link MTU" }, \
	{ "mac", ARG_VALUE, "MAC", "the link's MAC address (tap)" }, \
	{ "up", ARG_FLAG, NULL, "bring the link up" }, \
	{ "down", ARG_FLAG, NULL, "take the link down" }, \
	{ "strict", ARG_FLAG, NULL, "a bad checksum makes a frame malformed" }
/* clang-format on */

static const struct arg_opt ports_opts[] = {
	{ "quiet", ARG_FLAG, NULL, "print the port names only, one a line" },
	{ NULL, 0, NULL, NULL },
};

static const struct arg_opt add_opts[] = {
	{ "type", ARG_VALUE, "tun|tap", "the device kind (required)" },
	LINK_OPTS,
	{ "attach", ARG_FLAG, NULL, "attach to an existing persistent device" },
	{ "packet-info", ARG_FLAG, NULL, "frames carry the 4-byte packet information header" },
	{ "vnet-hdr", ARG_FLAG, NULL, "a virtio-net header: GSO super-frames, segmented by paird" },
	{ "queues", ARG_VALUE, "N",
	  "device queues, 1..8 (IFF_MULTI_QUEUE, a thread per extra queue)" },
	{ NULL, 0, NULL, NULL },
};

static const struct arg_opt set_opts[] = {
	LINK_OPTS,
	{ "no-addresses", ARG_FLAG, NULL, "remove every address paird configured" },
	{ "no-strict", ARG_FLAG, NULL, "only count bad checksums" },
	{ "if-match", ARG_VALUE, "ETAG", "only if the port's ETag is still this (else 412)" },
	{ NULL, 0, NULL, NULL },
};

static const struct arg_opt del_opts[] = {
	{ "if-match", ARG_VALUE, "ETAG", "only if the port's ETag is still this (else 412)" },
	{ NULL, 0, NULL, NULL },
};

const struct command ports_command = {
	.name = "ports",
	.operands = "",
	.summary = "list the ports",
	.help = "A table of every port: its type, state, link and counters.",
	.opts = ports_opts,
	.max_ops = 0,
	.run = run_ports,
};

const struct command counters_command = {
	.name = "counters",
	.operands = "PORT",
	.summary = "show a port's counters",
	.min_ops = 1,
	.max_ops = 1,
	.run = run_counters,
};

const struct command port_commands[] = {
	{ "show", "NAME", "show one port: its configuration, status and counters", NULL, NULL, 1, 1,
	  run_port_show, NULL },
	{ "add", "NAME --type tun|tap [OPTIONS]", "create a port (POST /api/v1/ports)",
	  "Creates the tun or tap device NAME and configures its link.", add_opts, 1, 1,
	  run_port_add, NULL },
	{ "set", "NAME [OPTIONS]", "change a port's link (a merge patch)",
	  "Changes only what the options name; --addr replaces the whole address list.", set_opts,
	  1, 1, run_port_set, NULL },
	{ "del", "NAME", "delete a port", NULL, del_opts, 1, 1, run_port_del, NULL },
	{ NULL, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL },
};
