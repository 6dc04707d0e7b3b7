// SPDX-License-Identifier: MIT
/*
 * Helpers every pairctl command uses (pairctl.h): the API call with its
 * error reporting in one place, paths with escaped names, and JSON values
 * turned into text for tables (a body's config/status/counters sections
 * read through jget).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pairctl.h"
#include "table.h"

int usage_error(const struct ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "pairctl: %s: ", ctx->cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'pairctl %s --help'.\n", ctx->cmd);
	return EXIT_USAGE;
}

int api_call(struct ctx *ctx, const char *method, const char *path, const struct request *rq,
	     json_t **out, struct response *r)
{
	struct response local = { 0 };
	struct response *resp = r ? r : &local;
	int ret = EXIT_OK;

	if (out)
		*out = NULL;
	if (client_request(ctx->client, method, path, rq, resp) < 0) {
		response_fini(resp);
		return EXIT_ERROR;
	}
	if (resp->status < 200 || resp->status > 299) {
		response_report(resp, ctx->json);
		ret = EXIT_ERROR;
		goto out;
	}
	if (out && resp->len > 0) {
		*out = response_json(resp);
		if (!*out)
			ret = EXIT_ERROR;
	}
out:
	if (!r)
		response_fini(resp);
	return ret;
}

int api_send_json(struct ctx *ctx, const char *method, const char *path, const json_t *body,
		  const struct request *rq, json_t **out, struct response *r)
{
	char *text = json_dumps(body, JSON_COMPACT);
	struct request send = rq ? *rq : (struct request){ 0 };
	int ret;

	if (!text) {
		fprintf(stderr, "pairctl: out of memory\n");
		return EXIT_ERROR;
	}
	send.body = text;
	send.body_len = strlen(text);
	ret = api_call(ctx, method, path, &send, out, r);
	free(text);
	return ret;
}

int port_path(const struct ctx *ctx, char *buf, size_t len, const char *port, const char *suffix)
{
	char esc[256];

	if (args_path_name(port) < 0)
		return usage_error(ctx, "'%s' is not a port name (A-Z a-z 0-9 _ . -)", port);
	if (client_escape(port, esc, sizeof(esc)) < 0 ||
	    (size_t)snprintf(buf, len, "/api/v1/ports/%s%s", esc, suffix) >= len)
		return usage_error(ctx, "the port name is too long");
	return EXIT_OK;
}

const json_t *jget(const json_t *obj, const char *section, const char *key)
{
	return json_object_get(json_object_get(obj, section), key);
}

static size_t put(char *buf, size_t len, size_t o, const char *s)
{
	int n = snprintf(buf + o, o < len ? len - o : 0, "%s", s);

	return n < 0 ? o : o + (size_t)n;
}

void jtext(const json_t *v, char *buf, size_t len)
{
	char num[32];
	size_t o = 0, i;
	const json_t *e;
	char *dump;

	buf[0] = '\0';
	if (!v) {
		snprintf(buf, len, "-");
		return;
	}
	switch (json_typeof(v)) {
	case JSON_STRING:
		snprintf(buf, len, "%s", json_string_value(v));
		break;
	case JSON_INTEGER:
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		snprintf(buf, len, "%g", json_real_value(v));
		break;
	case JSON_TRUE:
		snprintf(buf, len, "true");
		break;
	case JSON_FALSE:
		snprintf(buf, len, "false");
		break;
	case JSON_ARRAY:
		if (json_array_size(v) == 0) {
			snprintf(buf, len, "-");
			break;
		}
		json_array_foreach(v, i, e) {
			if (i)
				o = put(buf, len, o, ",");
			if (json_is_string(e)) {
				o = put(buf, len, o, json_string_value(e));
			} else if (json_is_integer(e)) {
				snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
					 json_integer_value(e));
				o = put(buf, len, o, num);
			} else {
				dump = json_dumps(e, JSON_COMPACT | JSON_ENCODE_ANY);
				o = put(buf, len, o, dump ? dump : "?");
				free(dump);
			}
		}
		break;
	case JSON_OBJECT:
		dump = json_dumps(v, JSON_COMPACT);
		snprintf(buf, len, "%s", dump ? dump : "?");
		free(dump);
		break;
	case JSON_NULL:
	default:
		snprintf(buf, len, "-");
		break;
	}
}

int print_table(unsigned ncols, const char *const *head, const json_t *list, table_fill_fn fill)
{
	char cells[TABLE_COLS_MAX][TABLE_CELL_MAX];
	const char *row[TABLE_COLS_MAX];
	struct table *t = ncols <= TABLE_COLS_MAX ? table_new(ncols, head) : NULL;
	const json_t *item;
	size_t i;
	int ret = EXIT_ERROR;

	if (!t)
		goto out;
	for (unsigned c = 0; c < ncols; c++)
		row[c] = cells[c];
	json_array_foreach(list, i, item) {
		fill(item, cells);
		if (table_add(t, row) < 0)
			goto out;
	}
	table_print(t, stdout);
	ret = EXIT_OK;
out:
	if (ret)
		fprintf(stderr, "pairctl: out of memory\n");
	table_free(t);
	return ret;
}

void print_json(const json_t *v)
{
	json_dumpf(v, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
}
