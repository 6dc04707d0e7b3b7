/* SPDX-License-Identifier: MIT */
/*
 * What pairctl's commands share: the run context, the command table entry,
 * exit statuses, and helpers (util.c) that call the API and print its
 * JSON. Each cmd_*.c file holds a group of commands and exports its
 * table; pairctl.c dispatches over them.
 */
#ifndef PAIRCTL_H
#define PAIRCTL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "args.h"
#include "client.h"

/* Exit statuses, the CLI's contract with scripts. */
enum {
	EXIT_OK = 0,
	EXIT_ERROR = 1,	  /* the API refused, or paird could not be reached */
	EXIT_USAGE = 2,	  /* the command line is wrong */
	EXIT_PENDING = 3, /* diff: changes are pending */
};

struct ctx {
	struct client *client;
	bool json;
	const char *cmd; /* "bind", "port add": for messages */
};

struct command {
	const char *name;
	const char *operands; /* usage text after the name */
	const char *summary;
	const char *help; /* a paragraph, or NULL */
	const struct arg_opt *opts;
	int min_ops, max_ops; /* operand counts (max -1: any) */
	/* Returns an exit status (EXIT_*), having printed what went wrong. */
	int (*run)(struct ctx *ctx, const struct args *a);
	const struct command *sub; /* sub-commands (port show|add|...), NULL-ended */
};

extern const struct command port_commands[]; /* cmd_port.c */
extern const struct command ports_command, counters_command;
extern const struct command bind_command, unbind_command, bindings_command; /* cmd_binding.c */
extern const struct command captures_command;				    /* cmd_capture.c */
extern const struct command apply_command, diff_command, config_command;    /* cmd_config.c */
extern const struct command login_command;				    /* cmd_login.c */

/* Prints "pairctl: CMD: MESSAGE" and the help hint; returns EXIT_USAGE. */
int usage_error(const struct ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Calls the API; on a 2xx answer with a JSON body *out (if not NULL) gets
 * it (the caller decrefs; NULL for an empty body). r, if not NULL, keeps
 * the response (the caller calls response_fini). Returns EXIT_OK, or
 * EXIT_ERROR having printed the problem.
 */
int api_call(struct ctx *ctx, const char *method, const char *path, const struct request *rq,
	     json_t **out, struct response *r);

/*
 * api_call with body as the request's JSON text; rq (may be NULL) gives
 * the content type and conditions. EXIT_ERROR, printed, when body cannot
 * be serialised.
 */
int api_send_json(struct ctx *ctx, const char *method, const char *path, const json_t *body,
		  const struct request *rq, json_t **out, struct response *r);

/* "/api/v1/ports/NAME" + suffix into buf; EXIT_OK or a usage error. */
int port_path(const struct ctx *ctx, char *buf, size_t len, const char *port, const char *suffix);

/* obj.section.key (e.g. a port's "status"."mtu"); NULL when absent. */
const json_t *jget(const json_t *obj, const char *section, const char *key);

/* A JSON value as table text: scalars as they are, arrays joined by ",". */
void jtext(const json_t *v, char *buf, size_t len);

#define TABLE_CELL_MAX 512 /* bytes of one table cell, its NUL included */
#define TABLE_COLS_MAX 16

/* Fills the ncols cells of one table row from item. */
typedef void (*table_fill_fn)(const json_t *item, char (*cells)[TABLE_CELL_MAX]);

/*
 * Prints a table of ncols columns named by head, a row per element of list
 * filled by fill (at most TABLE_COLS_MAX columns). EXIT_OK, or EXIT_ERROR
 * having printed that memory ran out.
 */
int print_table(unsigned ncols, const char *const *head, const json_t *list, table_fill_fn fill);

/* Pretty JSON on stdout. */
void print_json(const json_t *v);

#endif
