// SPDX-License-Identifier: MIT
/*
 * pairctl: the command-line client of paird. It speaks only the public
 * HTTP API (the same requests as curl), over paird's Unix socket by
 * default or TCP with a bearer token. This file holds main(): the global
 * options, the command table (wg(8)'s subcommands[] shape), help texts and
 * the dispatch; the commands live in cmd_*.c. Exit statuses: 0 ok, 1 the
 * API refused or paird was unreachable, 2 usage, 3 changes pending (diff).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pairctl.h"

#define DEFAULT_SOCKET "/run/paird/paird.sock"

static const struct arg_opt global_opts[] = {
	{ "socket", ARG_VALUE, "PATH",
	  "paird's Unix socket (default " DEFAULT_SOCKET ", or $PAIRD_SOCKET)" },
	{ "url", ARG_VALUE, "URL", "talk TCP to this base URL instead (or $PAIRD_URL)" },
	{ "token-file", ARG_VALUE, "FILE", "the bearer token for --url (or $PAIRD_TOKEN)" },
	{ "json", ARG_FLAG, NULL, "print the API's JSON instead of tables" },
	{ "help", ARG_FLAG, NULL, "show help" },
	{ "version", ARG_FLAG, NULL, "print pairctl's version" },
	{ NULL, 0, NULL, NULL },
};

static const struct command port_command = {
	.name = "port",
	.operands = "show|add|set|del NAME [OPTIONS]",
	.summary = "show, create, change or delete one port",
	.max_ops = -1,
	.run = NULL,
	.sub = port_commands,
};

static const struct command *const commands[] = {
	&ports_command,	   &port_command,     &bind_command,	 &unbind_command,
	&bindings_command, &captures_command, &counters_command, &apply_command,
	&diff_command,	   &config_command,   &login_command,
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void print_opts(FILE *f, const struct arg_opt *o)
{
	char left[64];

	for (; o && o->name; o++) {
		snprintf(left, sizeof(left), "--%s%s%s", o->name, o->metavar ? " " : "",
			 o->metavar ? o->metavar : "");
		fprintf(f, "  %-24s %s\n", left, o->help);
	}
}

/* "NAME --type tun|tap [OPTIONS]" as "NAME": the operands before the options. */
static int short_ops(const char *ops)
{
	const char *b = strstr(ops, " ["), *d = strstr(ops, " --");

	if (!b || (d && d < b))
		b = d;
	return b ? (int)(b - ops) : (int)strlen(ops);
}

static void usage(FILE *f)
{
	char left[96];

	fprintf(f, "usage: pairctl [--socket PATH | --url URL [--token-file FILE]] [--json] "
		   "COMMAND [ARGS]\n\nCommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++) {
		const struct command *c = commands[i];

		if (c->sub) {
			for (const struct command *s = c->sub; s->name; s++) {
				snprintf(left, sizeof(left), "%s %s %.*s", c->name, s->name,
					 short_ops(s->operands), s->operands);
				fprintf(f, "  %-26s %s\n", left, s->summary);
			}
			continue;
		}
		snprintf(left, sizeof(left), "%s %.*s", c->name, short_ops(c->operands),
			 c->operands);
		fprintf(f, "  %-26s %s\n", left, c->summary);
	}
	fprintf(f, "\nGlobal options (anywhere on the line):\n");
	print_opts(f, global_opts);
	fprintf(f, "\n'pairctl COMMAND --help' tells more. Exit status: 0 ok, 1 error (the API "
		   "refused or paird is unreachable),\n2 usage, 3 changes pending (diff).\n");
}

static void command_help(const char *name, const struct command *c)
{
	printf("usage: pairctl %s%s%s\n%s\n", name, c->operands[0] ? " " : "", c->operands,
	       c->summary);
	if (c->help)
		printf("\n%s\n", c->help);
	if (c->sub) {
		printf("\nSub-commands:\n");
		for (const struct command *s = c->sub; s->name; s++)
			printf("  %-8s %s\n", s->name, s->summary);
	}
	if (c->opts) {
		printf("\nOptions:\n");
		print_opts(stdout, c->opts);
	}
	printf("\nGlobal options:\n");
	print_opts(stdout, global_opts);
}

/* The index of the first operand at or after from, skipping global options. */
static int find_word(int argc, char **argv, int from)
{
	for (int i = from; i < argc; i++) {
		const char *arg = argv[i];

		if (strcmp(arg, "--") == 0)
			return i + 1 < argc ? i + 1 : -1;
		if (arg[0] != '-' || strcmp(arg, "-") == 0)
			return i;
		for (const struct arg_opt *o = global_opts; o->name; o++)
			if (o->kind != ARG_FLAG && strncmp(arg, "--", 2) == 0 &&
			    strcmp(arg + 2, o->name) == 0)
				i++;
	}
	return -1;
}

static const struct command *lookup(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

static const struct command *lookup_sub(const struct command *c, const char *name)
{
	for (const struct command *s = c->sub; s->name; s++)
		if (strcmp(s->name, name) == 0)
			return s;
	return NULL;
}

/* The first line of path, the token; NULL (printed) when it cannot be read. */
static char *read_token(const char *path)
{
	char line[1024];
	FILE *f = fopen(path, "r");

	if (!f) {
		fprintf(stderr, "pairctl: cannot read the token file %s: %s\n", path,
			strerror(errno));
		return NULL;
	}
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	return strdup(line);
}

/* pairctl help [COMMAND [SUB]] */
static int help_word(int argc, char **argv, int w)
{
	int w2 = find_word(argc, argv, w + 1);
	const struct command *cmd = w2 > 0 ? lookup(argv[w2]) : NULL;

	if (w2 > 0 && !cmd) {
		fprintf(stderr, "pairctl: unknown command '%s'\n", argv[w2]);
		return EXIT_USAGE;
	}
	if (cmd)
		command_help(cmd->name, cmd);
	else
		usage(stdout);
	return EXIT_OK;
}

/*
 * Finds the command named by the first word (at @w, none when <= 0) and its
 * sub-command, whose word index goes to @sw. Returns 0, or EXIT_USAGE after
 * saying which word is unknown.
 */
static int find_command(int argc, char **argv, int w, const struct command **cmd,
			const struct command **sub, int *sw)
{
	*cmd = NULL;
	*sub = NULL;
	*sw = -1;
	if (w <= 0)
		return 0;
	*cmd = lookup(argv[w]);
	if (!*cmd) {
		fprintf(stderr, "pairctl: unknown command '%s'\n", argv[w]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!(*cmd)->sub)
		return 0;
	*sw = find_word(argc, argv, w + 1);
	*sub = *sw > 0 ? lookup_sub(*cmd, argv[*sw]) : NULL;
	if (*sw > 0 && !*sub) {
		fprintf(stderr, "pairctl: %s: unknown sub-command '%s'\n", (*cmd)->name, argv[*sw]);
		return EXIT_USAGE;
	}
	return 0;
}

/*
 * Where to reach paird: --url, else $PAIRD_URL, else --socket, $PAIRD_SOCKET
 * or the default socket; the token from --token-file or $PAIRD_TOKEN (kept
 * in *@token for the caller to free). Returns 0 or an exit code.
 */
static int connect_paird(struct ctx *ctx, const struct args *a, char **token)
{
	struct client_cfg cfg = { 0 };

	cfg.url = args_value(a, "url");
	cfg.socket = args_value(a, "socket");
	if (!cfg.url && !cfg.socket)
		cfg.url = getenv("PAIRD_URL");
	if (!cfg.socket)
		cfg.socket = getenv("PAIRD_SOCKET");
	if (!cfg.socket || !cfg.socket[0])
		cfg.socket = DEFAULT_SOCKET;
	if (cfg.url && !cfg.url[0])
		cfg.url = NULL;
	if (args_value(a, "token-file")) {
		*token = read_token(args_value(a, "token-file"));
		if (!*token)
			return EXIT_ERROR;
	}
	cfg.token = *token ? *token : getenv("PAIRD_TOKEN");
	/* The URL's path is paird's root: no trailing slash before /api/v1. */
	if (cfg.url && cfg.url[strlen(cfg.url) - 1] == '/')
		return usage_error(ctx, "--url '%s': give the base URL without a trailing '/'",
				   cfg.url);
	ctx->client = client_new(&cfg);
	if (!ctx->client) {
		fprintf(stderr, "pairctl: cannot start libcurl: %s\n", strerror(errno));
		return EXIT_ERROR;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const struct command *cmd = NULL, *sub = NULL;
	const struct arg_opt *opts = NULL;
	struct ctx ctx = { .cmd = "pairctl" };
	struct args a = { 0 };
	char **rest = NULL, cmdname[64];
	char *token = NULL;
	int ret, w, sw, nrest = 0;

	w = find_word(argc, argv, 1);
	if (w > 0 && strcmp(argv[w], "help") == 0)
		return help_word(argc, argv, w);
	ret = find_command(argc, argv, w, &cmd, &sub, &sw);
	if (ret)
		return ret;
	ret = EXIT_USAGE;
	snprintf(cmdname, sizeof(cmdname), "%s%s%s", cmd ? cmd->name : "pairctl", sub ? " " : "",
		 sub ? sub->name : "");
	ctx.cmd = cmdname;

	/* Every word but the command's own, parsed against its options and the global ones. */
	rest = calloc((size_t)argc + 1, sizeof(*rest));
	if (!rest) {
		fprintf(stderr, "pairctl: out of memory\n");
		return EXIT_ERROR;
	}
	for (int i = 1; i < argc; i++)
		if (i != w && i != sw)
			rest[nrest++] = argv[i];
	if (sub)
		opts = sub->opts;
	else if (cmd)
		opts = cmd->opts;
	if (args_parse(&a, opts, global_opts, nrest, rest) < 0) {
		ret = usage_error(&ctx, "%s", a.err[0] ? a.err : "out of memory");
		goto out;
	}
	if (args_flag(&a, "version")) {
		printf("pairctl %s\n", PAIRD_VERSION);
		ret = EXIT_OK;
		goto out;
	}
	if (args_flag(&a, "help")) {
		if (sub)
			command_help(cmdname, sub);
		else if (cmd)
			command_help(cmd->name, cmd);
		else
			usage(stdout);
		ret = EXIT_OK;
		goto out;
	}
	if (!cmd) {
		usage(stderr);
		goto out;
	}
	if (cmd->sub && !sub) {
		ret = usage_error(&ctx, "which one: show, add, set or del?");
		goto out;
	}
	if (!sub)
		sub = cmd;
	if (a.npos < sub->min_ops || (sub->max_ops >= 0 && a.npos > sub->max_ops)) {
		ret = usage_error(&ctx,
				  a.npos < sub->min_ops ? "missing operands: %s %s"
							: "too many operands: %s %s",
				  cmdname, sub->operands);
		goto out;
	}
	ctx.json = args_flag(&a, "json");
	ret = connect_paird(&ctx, &a, &token);
	if (ret == 0)
		ret = sub->run(&ctx, &a);
out:
	client_free(ctx.client);
	free(token);
	args_fini(&a);
	free(rest);
	return ret;
}
