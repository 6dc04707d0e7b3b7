// SPDX-License-Identifier: MIT
/*
 * pairctl's binding commands: `bind` (POST .../bindings, or with --name the
 * idempotent PUT .../bindings/{name}), `unbind` (DELETE by id or name) and
 * `bindings` (the table). MATCH is the shorthand of match.h; options are
 * `--opt key=value` (args_kv_option).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "match.h"
#include "pairctl.h"

static int run_bind(struct ctx *ctx, const struct args *a)
{
	const char *port = a->pos[0], *name = args_value(a, "name");
	const struct request rq = { .if_match = args_value(a, "if-match"),
				    .if_none_match = args_flag(a, "create-only") ? "*" : NULL };
	const char *const *kvs;
	json_t *body = NULL, *match = NULL, *opts = NULL, *b = NULL;
	struct response r = { 0 };
	char path[512], esc[128], err[512], mtext[256];
	unsigned nkv;
	int ret;

	ret = port_path(ctx, path, sizeof(path), port, "/bindings");
	if (ret)
		goto out;
	if (match_parse(a->pos[1], &match, err, sizeof(err)) < 0) {
		ret = usage_error(ctx, "%s", err);
		goto out;
	}
	body = json_object();
	opts = json_object();
	kvs = args_list(a, "opt", &nkv);
	for (unsigned i = 0; i < nkv; i++) {
		if (args_kv_option(opts, kvs[i], err, sizeof(err)) < 0) {
			ret = usage_error(ctx, "%s", err);
			goto out;
		}
	}
	json_object_set(body, "match", match);
	json_object_set_new(body, "handler", json_string(a->pos[2]));
	if (json_object_size(opts))
		json_object_set(body, "options", opts);
	if (name) {
		size_t n = strlen(path);

		if (args_path_name(name) < 0 || client_escape(name, esc, sizeof(esc)) < 0) {
			ret = usage_error(ctx, "--name '%s' is not a binding name", name);
			goto out;
		}
		snprintf(path + n, sizeof(path) - n, "/%s", esc);
	}
	ret = api_send_json(ctx, name ? "PUT" : "POST", path, body, &rq, &b, &r);
	if (ret)
		goto out;
	if (ctx->json) {
		print_json(b);
		goto out;
	}
	match_format(match, mtext, sizeof(mtext));
	printf("%s %s at %s on %s: binding %" JSON_INTEGER_FORMAT,
	       r.status == 201	? "bound"
	       : r.changed == 0 ? "unchanged:"
				: "replaced:",
	       a->pos[2], mtext, port, json_integer_value(json_object_get(b, "id")));
	if (name)
		printf(" (name %s)", name);
	printf("\n");
out:
	response_fini(&r);
	json_decref(b);
	json_decref(opts);
	json_decref(match);
	json_decref(body);
	return ret;
}

static int run_unbind(struct ctx *ctx, const struct args *a)
{
	struct request rq = { .if_match = args_value(a, "if-match") };
	char path[512], esc[128];
	size_t n;
	int ret = port_path(ctx, path, sizeof(path), a->pos[0], "/bindings/");

	if (ret)
		return ret;
	n = strlen(path);
	if (args_path_name(a->pos[1]) < 0 || client_escape(a->pos[1], esc, sizeof(esc)) < 0)
		return usage_error(ctx, "'%s' is not a binding id or name", a->pos[1]);
	snprintf(path + n, sizeof(path) - n, "%s", esc);
	ret = api_call(ctx, "DELETE", path, &rq, NULL, NULL);
	if (!ret && !ctx->json)
		printf("removed binding %s from %s\n", a->pos[1], a->pos[0]);
	return ret;
}

/* One row of `bindings`. */
static void binding_row(const json_t *b, char (*cells)[TABLE_CELL_MAX])
{
	const json_t *opts = jget(b, "config", "options");

	jtext(json_object_get(b, "id"), cells[0], TABLE_CELL_MAX);
	jtext(json_object_get(b, "name"), cells[1], TABLE_CELL_MAX);
	match_format(jget(b, "config", "match"), cells[2], TABLE_CELL_MAX);
	jtext(jget(b, "config", "handler"), cells[3], TABLE_CELL_MAX);
	jtext(jget(b, "counters", "packets"), cells[4], TABLE_CELL_MAX);
	jtext(jget(b, "counters", "bytes"), cells[5], TABLE_CELL_MAX);
	jtext(jget(b, "counters", "errors"), cells[6], TABLE_CELL_MAX);
	if (json_object_size(opts))
		jtext(opts, cells[7], TABLE_CELL_MAX);
	else
		snprintf(cells[7], TABLE_CELL_MAX, "-");
}

static int run_bindings(struct ctx *ctx, const struct args *a)
{
	json_t *list = NULL;
	const json_t *arr, *b;
	char path[512];
	size_t i;
	int ret = port_path(ctx, path, sizeof(path), a->pos[0], "/bindings");

	if (!ret)
		ret = api_call(ctx, "GET", path, NULL, &list, NULL);
	if (ret)
		goto out;
	arr = json_object_get(list, "bindings");
	if (ctx->json) {
		print_json(list);
	} else if (args_flag(a, "quiet")) {
		json_array_foreach(arr, i, b) {
			const char *name = json_string_value(json_object_get(b, "name"));

			if (name)
				printf("%s\n", name);
			else
				printf("%" JSON_INTEGER_FORMAT "\n",
				       json_integer_value(json_object_get(b, "id")));
		}
	} else {
		static const char *const head[] = { "ID",      "NAME",	"MATCH",  "HANDLER",
						    "PACKETS", "BYTES", "ERRORS", "OPTIONS" };

		ret = print_table(8, head, arr, binding_row);
	}
out:
	json_decref(list);
	return ret;
}

static const struct arg_opt bind_opts[] = {
	{ "name", ARG_VALUE, "NAME",
	  "a name for the binding: PUT .../bindings/NAME creates or replaces it (idempotent)" },
	{ "opt", ARG_LIST, "KEY=VALUE", "a handler option (repeatable), e.g. snaplen=128" },
	{ "if-match", ARG_VALUE, "ETAG", "with --name: only if the binding's ETag is this" },
	{ "create-only", ARG_FLAG, NULL, "with --name: fail (412) if the binding exists" },
	{ NULL, 0, NULL, NULL },
};

static const struct arg_opt unbind_opts[] = {
	{ "if-match", ARG_VALUE, "ETAG", "only if the binding's ETag is still this (else 412)" },
	{ NULL, 0, NULL, NULL },
};

static const struct arg_opt bindings_opts[] = {
	{ "quiet", ARG_FLAG, NULL, "print the binding names (ids when unnamed) only" },
	{ NULL, 0, NULL, NULL },
};

const struct command bind_command = {
	.name = "bind",
	.operands = "PORT MATCH HANDLER [--name NAME] [--opt KEY=VALUE ...]",
	.summary = "bind a handler to a node of a port's dispatch tree",
	.help = "MATCH: any, arp, ipv4, ipv6, icmp, icmp6, tcp, tcp6, udp, udp6, udp/PORT,\n"
		"       udp6/PORT, ethertype/N, ip/N, ip6/N, or a JSON match object.\n"
		"HANDLER: count, capture, echo, arp_reply, ndp_reply, forward, drop.\n"
		"A --opt value is JSON when it parses as JSON, else a string;\n"
		"addresses=A,B gives a list.",
	.opts = bind_opts,
	.min_ops = 3,
	.max_ops = 3,
	.run = run_bind,
};

const struct command unbind_command = {
	.name = "unbind",
	.operands = "PORT ID|NAME",
	.summary = "remove a binding",
	.opts = unbind_opts,
	.min_ops = 2,
	.max_ops = 2,
	.run = run_unbind,
};

const struct command bindings_command = {
	.name = "bindings",
	.operands = "PORT",
	.summary = "list a port's bindings",
	.opts = bindings_opts,
	.min_ops = 1,
	.max_ops = 1,
	.run = run_bindings,
};
