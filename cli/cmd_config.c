// SPDX-License-Identifier: MIT
/*
 * pairctl's whole-configuration commands over /api/v1/config: `config`
 * (GET: the document, ready to edit and apply), `apply FILE` (PUT: paird
 * makes the running state equal to FILE, all or nothing; --dry-run asks
 * for the plan only) and `diff FILE` (the plan, exit status 3 when
 * something would change). FILE is checked as JSON here so a typo is
 * reported with its line and column, then sent as written.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pairctl.h"

#define FILE_MAX (16u << 20)

/* Reads path ("-": stdin) whole into *buf (NUL-terminated). 0 or -errno (printed). */
static int read_file(const char *path, char **buf, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *b = NULL, *nb;
	size_t n = 0, cap = 0, got;
	int ret = 0;

	if (!f) {
		ret = -errno;
		fprintf(stderr, "pairctl: cannot read %s: %s\n", path, strerror(errno));
		return ret;
	}
	do {
		if (cap - n < 65536) {
			cap = cap ? cap * 2 : 65536;
			nb = cap <= FILE_MAX + 65536 ? realloc(b, cap + 1) : NULL;
			if (!nb) {
				fprintf(stderr, "pairctl: %s is larger than %u bytes\n", path,
					FILE_MAX);
				ret = -EFBIG;
				goto out;
			}
			b = nb;
		}
		got = fread(b + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	if (ferror(f)) {
		ret = -EIO;
		fprintf(stderr, "pairctl: cannot read %s\n", path);
		goto out;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	b = NULL;
out:
	free(b);
	if (f != stdin)
		fclose(f);
	return ret;
}

/* One action of an apply plan, as a line (and its kernel operations). */
static void print_action(const json_t *act)
{
	const char *op = json_string_value(json_object_get(act, "op"));
	const char *port = json_string_value(json_object_get(act, "port"));
	const json_t *binding = json_object_get(act, "binding"), *fields, *kernel, *k;
	char btext[128], ftext[512];
	const char *sign = "~";
	size_t i;

	if (!op)
		op = "?";
	if (strncmp(op, "create_", 7) == 0 || strncmp(op, "add_", 4) == 0)
		sign = "+";
	else if (strncmp(op, "delete_", 7) == 0 || strncmp(op, "remove_", 7) == 0)
		sign = "-";
	jtext(binding, btext, sizeof(btext));
	if (binding)
		printf("%s binding %s/%s (%s)", sign, port ? port : "?", btext, op);
	else
		printf("%s port %s (%s)", sign, port ? port : "?", op);
	fields = json_object_get(act, "fields");
	if (json_array_size(fields)) {
		jtext(fields, ftext, sizeof(ftext));
		printf(": %s", ftext);
	}
	printf("\n");
	kernel = json_object_get(act, "kernel");
	json_array_foreach(kernel, i, k) {
		if (json_is_string(k))
			printf("    %s\n", json_string_value(k));
	}
}

/* PUT the file; diff: dry run, exit 3 when something would change. */
static int put_config(struct ctx *ctx, const struct args *a, bool dry_run, bool diff)
{
	const char *file = a->pos[0];
	const json_t *actions, *act;
	json_t *doc, *res = NULL;
	json_error_t jerr;
	char *text = NULL;
	size_t len = 0, i;
	int ret;

	if (read_file(file, &text, &len) < 0)
		return EXIT_ERROR;
	doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(doc)) {
		if (doc)
			fprintf(stderr, "pairctl: %s: the document is not a JSON object\n", file);
		else
			fprintf(stderr, "pairctl: %s:%d:%d: %s\n", file, jerr.line, jerr.column,
				jerr.text);
		ret = EXIT_ERROR;
		goto out;
	}
	{
		struct request rq = { .body = text,
				      .body_len = len,
				      .if_match = args_value(a, "if-match") };

		ret = api_call(ctx, "PUT",
			       dry_run ? "/api/v1/config?dry_run=true" : "/api/v1/config", &rq,
			       &res, NULL);
	}
	if (ret)
		goto out;
	actions = json_object_get(res, "actions");
	if (ctx->json) {
		print_json(res);
	} else {
		json_array_foreach(actions, i, act) {
			print_action(act);
		}
		if (json_array_size(actions) == 0)
			printf("no changes");
		else if (dry_run)
			printf("%zu change%s pending", json_array_size(actions),
			       json_array_size(actions) == 1 ? "" : "s");
		else
			printf("applied %zu change%s", json_array_size(actions),
			       json_array_size(actions) == 1 ? "" : "s");
		if (json_is_integer(json_object_get(res, "version")))
			printf(" (version %" JSON_INTEGER_FORMAT ")",
			       json_integer_value(json_object_get(res, "version")));
		printf("\n");
	}
	if (diff && (json_array_size(actions) > 0 || json_is_true(json_object_get(res, "changed"))))
		ret = EXIT_PENDING;
out:
	json_decref(res);
	json_decref(doc);
	free(text);
	return ret;
}

static int run_apply(struct ctx *ctx, const struct args *a)
{
	return put_config(ctx, a, args_flag(a, "dry-run"), false);
}

static int run_diff(struct ctx *ctx, const struct args *a)
{
	return put_config(ctx, a, true, true);
}

static int run_config(struct ctx *ctx, const struct args *a)
{
	json_t *doc = NULL;
	int ret = api_call(ctx, "GET", "/api/v1/config", NULL, &doc, NULL);

	(void)a;
	if (!ret)
		print_json(doc);
	json_decref(doc);
	return ret;
}

/* diff takes apply's options but --dry-run (it is one): the table after its first entry. */
static const struct arg_opt apply_opts[] = {
	{ "dry-run", ARG_FLAG, NULL, "show what would change, change nothing" },
	{ "if-match", ARG_VALUE, "ETAG",
	  "only if the configuration's ETag is still this (else 412)" },
	{ NULL, 0, NULL, NULL },
};

const struct command apply_command = {
	.name = "apply",
	.operands = "FILE [--dry-run]",
	.summary = "make paird's configuration equal to FILE (PUT /api/v1/config)",
	.help = "FILE ('-' for stdin) is a configuration document as 'pairctl config' prints it. "
		"paird makes only the differences, all or nothing, and pairctl lists them.",
	.opts = apply_opts,
	.min_ops = 1,
	.max_ops = 1,
	.run = run_apply,
};

const struct command diff_command = {
	.name = "diff",
	.operands = "FILE",
	.summary = "show what 'apply FILE' would change; exit status 3 when anything would",
	.help = "A dry run of apply (PUT /api/v1/config?dry_run=true): exit status 0 when paird "
		"already matches FILE, 3 when changes are pending.",
	.opts = &apply_opts[1],
	.min_ops = 1,
	.max_ops = 1,
	.run = run_diff,
};

const struct command config_command = {
	.name = "config",
	.operands = "",
	.summary = "print paird's whole configuration as JSON (GET /api/v1/config)",
	.max_ops = 0,
	.run = run_config,
};
