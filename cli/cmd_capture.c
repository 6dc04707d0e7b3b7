// SPDX-License-Identifier: MIT
/*
 * `pairctl captures`: a port's capture ring as a pcap (or pcapng) stream on
 * stdout, for `| tshark -r -` or `| wireshark -k -i -`, optionally
 * following the ring live (GET .../captures.pcap?follow=true); or, with
 * --json, one JSON page of records. Binary output to a terminal is refused:
 * it would garble the terminal and help nobody.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pairctl.h"

/* Appends "&key=value" (the first one with '?'), the value escaped. */
static int add_query(char *path, size_t len, const char *key, const char *value)
{
	char esc[1600];
	size_t n = strlen(path);

	if (client_escape(value, esc, sizeof(esc)) < 0)
		return -1;
	if ((size_t)snprintf(path + n, len - n, "%c%s=%s", strchr(path, '?') ? '&' : '?', key,
			     esc) >= len - n)
		return -1;
	return 0;
}

/* One record a line, flushed: 0, or -EPIPE when stdout's reader went away. */
static int print_records(const json_t *records)
{
	const json_t *rec;
	size_t i;

	json_array_foreach(records, i, rec) {
		if (json_dumpf(rec, stdout, JSON_COMPACT) < 0 || fputc('\n', stdout) == EOF)
			return -EPIPE;
	}
	return fflush(stdout) == EOF ? -EPIPE : 0;
}

/*
 * captures --json --follow: JSON lines from a long poll of the captures
 * pages (wait=30), each page's next_after the next cursor. Records evicted
 * before they were read are skipped with a note on stderr (410: resume at
 * oldest_seq - 1); a ring made again (409) is read from its start. The
 * port going away ends it (exit 0), as it ends the pcap stream.
 */
static int follow_json(struct ctx *ctx, const struct args *a, const char *base)
{
	const char *binding = args_value(a, "binding"), *after = args_value(a, "after");
	unsigned long long cursor = 0;
	bool first = true;
	int ret = EXIT_OK;

	if (after && args_uint(after, 0, 9223372036854775807ULL, &cursor) < 0)
		return usage_error(ctx, "--after '%s' is not a number", after);
	/* Lines as they come, also into a pipe; a reader that goes is EPIPE, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		struct response r = { 0 };
		json_t *body = NULL;
		char path[4096], num[32];

		snprintf(num, sizeof(num), "%llu", cursor);
		snprintf(path, sizeof(path), "%s", base);
		if (add_query(path, sizeof(path), "after", num) < 0 ||
		    add_query(path, sizeof(path), "wait", "30") < 0 ||
		    add_query(path, sizeof(path), "limit", "1000") < 0 ||
		    (binding && add_query(path, sizeof(path), "binding", binding) < 0))
			return usage_error(ctx, "the options are too long");
		if (client_request(ctx->client, "GET", path, NULL, &r) < 0) {
			response_fini(&r);
			return EXIT_ERROR;
		}
		if (r.status >= 200 && r.status < 300)
			body = response_json(&r);
		else if (r.status == 404 && !first) {
			/* The port went away: the end, as for the pcap stream. */
			response_fini(&r);
			return EXIT_OK;
		}
		if (r.status == 410 || r.status == 409) {
			json_t *p = response_json(&r);
			json_int_t oldest = json_integer_value(json_object_get(p, "oldest_seq"));

			if (r.status == 410 && oldest > 0) {
				fprintf(stderr,
					"pairctl: records %llu..%lld were evicted before they "
					"were read\n",
					cursor + 1, (long long)oldest - 1);
				cursor = (unsigned long long)oldest - 1;
			} else if (r.status == 409) {
				fprintf(stderr,
					"pairctl: the capture ring was made again; reading it "
					"from its start\n");
				cursor = 0;
			} else {
				response_report(&r, false);
				ret = EXIT_ERROR;
			}
			json_decref(p);
			response_fini(&r);
			if (ret)
				return ret;
			first = false;
			continue;
		}
		if (!body) {
			if (r.status < 200 || r.status > 299)
				response_report(&r, false);
			response_fini(&r);
			return EXIT_ERROR;
		}
		first = false;
		if (print_records(json_object_get(body, "records")) < 0)
			ret = -1;
		if (json_is_integer(json_object_get(body, "next_after")))
			cursor = (unsigned long long)json_integer_value(
				json_object_get(body, "next_after"));
		json_decref(body);
		response_fini(&r);
		if (ret)
			return EXIT_OK; /* stdout's reader went away */
	}
}

static int run_captures(struct ctx *ctx, const struct args *a)
{
	static const char *const numeric[] = { "after", "binding", "snaplen", "limit" };
	bool follow = args_flag(a, "follow"), pcapng = args_flag(a, "pcapng");
	struct response r = { 0 };
	unsigned long long n;
	char path[4096];
	int ret;

	for (size_t i = 0; i < sizeof(numeric) / sizeof(numeric[0]); i++) {
		const char *v = args_value(a, numeric[i]);

		if (v && args_uint(v, 0, 9223372036854775807ULL, &n) < 0)
			return usage_error(ctx, "--%s '%s' is not a number", numeric[i], v);
	}
	if (ctx->json && (pcapng || args_value(a, "filter") || args_value(a, "snaplen")))
		return usage_error(ctx,
				   "--json gives JSON records; --pcapng, --filter and --snaplen "
				   "are for the pcap stream");
	if (ctx->json && follow && args_value(a, "limit"))
		return usage_error(ctx, "--limit is for one --json page, not --follow");
	if (!ctx->json && args_value(a, "limit"))
		return usage_error(ctx, "--limit is for --json pages");
	if (!ctx->json && isatty(STDOUT_FILENO))
		return usage_error(ctx,
				   "refusing to write a binary capture file to a terminal: "
				   "pipe it (pairctl captures %s | tshark -r -) or redirect it "
				   "(> file.pcap)",
				   a->pos[0]);

	ret = port_path(ctx, path, sizeof(path), a->pos[0],
			ctx->json ? "/captures"
			: pcapng  ? "/captures.pcapng"
				  : "/captures.pcap");
	if (ret)
		return ret;
	/* The long poll makes its own queries. */
	if (ctx->json && follow)
		return follow_json(ctx, a, path);
	if ((follow && add_query(path, sizeof(path), "follow", "true") < 0) ||
	    (args_value(a, "after") &&
	     add_query(path, sizeof(path), "after", args_value(a, "after"))) ||
	    (args_value(a, "binding") &&
	     add_query(path, sizeof(path), "binding", args_value(a, "binding"))) ||
	    (args_value(a, "filter") &&
	     add_query(path, sizeof(path), "filter", args_value(a, "filter"))) ||
	    (args_value(a, "snaplen") &&
	     add_query(path, sizeof(path), "snaplen", args_value(a, "snaplen"))) ||
	    (args_value(a, "limit") &&
	     add_query(path, sizeof(path), "limit", args_value(a, "limit"))))
		return usage_error(ctx, "the options are too long");

	if (ctx->json) {
		json_t *page = NULL;

		ret = api_call(ctx, "GET", path, NULL, &page, NULL);
		if (!ret)
			print_json(page);
		json_decref(page);
		return ret;
	}
	/* A reader that goes away (tshark -c 1, head) ends the stream: EPIPE, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	if (client_stream(ctx->client, path, STDOUT_FILENO, &r) < 0) {
		ret = EXIT_ERROR;
	} else if (r.status < 200 || r.status > 299) {
		response_report(&r, false);
		ret = EXIT_ERROR;
	}
	response_fini(&r);
	return ret;
}

static const struct arg_opt captures_opts[] = {
	{ "follow", ARG_FLAG, NULL,
	  "go on writing records as they are captured, until interrupted" },
	{ "pcapng", ARG_FLAG, NULL, "pcapng instead of pcap" },
	{ "after", ARG_VALUE, "SEQ", "only the records after this sequence number" },
	{ "binding", ARG_VALUE, "ID", "only the records of this binding" },
	{ "filter", ARG_VALUE, "EXPR", "a tcpdump filter for the stream" },
	{ "snaplen", ARG_VALUE, "N", "bytes kept of each frame in the stream" },
	{ "limit", ARG_VALUE, "N", "with --json (no --follow): the most records in the page" },
	{ NULL, 0, NULL, NULL },
};

const struct command captures_command = {
	.name = "captures",
	.operands = "PORT [--follow] [--pcapng] [--after SEQ]",
	.summary = "write a port's captured frames as pcap to stdout",
	.help = "Writes the capture ring as a pcap file to stdout (never to a terminal):\n"
		"pairctl captures tap0 | tshark -r -. With --follow it goes on as frames are "
		"captured:\n"
		"pairctl captures tap0 --follow | wireshark -k -i -. With --json it\n"
		"prints one JSON page of records instead (--after, --limit, --binding),\n"
		"or with --follow one record a line as they are captured.",
	.opts = captures_opts,
	.min_ops = 1,
	.max_ops = 1,
	.run = run_captures,
};
