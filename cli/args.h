/* SPDX-License-Identifier: MIT */
/*
 * pairctl's command-line parsing: long options described by a table per
 * command (plus the global table every command also takes), `--name VALUE`
 * or `--name=VALUE`, `-h` for `--help`, `--` ending the options, options
 * and operands in any order. Also the typed `--opt key=value` binding
 * options. Nothing here talks to paird, so tests/unit/test_cli_args.c runs
 * it as is.
 */
#ifndef PAIRCTL_ARGS_H
#define PAIRCTL_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

enum arg_kind {
	ARG_FLAG,  /* --name */
	ARG_VALUE, /* --name VALUE; repeated, the last one counts */
	ARG_LIST,  /* --name VALUE, repeatable; every value kept in order */
};

struct arg_opt {
	const char *name; /* without the leading "--" */
	enum arg_kind kind;
	const char *metavar; /* VALUE in the help text */
	const char *help;
};

/* One option's occurrences; vals point into argv. */
struct arg_val {
	unsigned n;
	const char **vals;
};

struct args {
	const struct arg_opt *tables[2];
	size_t sizes[2];
	struct arg_val *vals[2];
	const char **pos; /* the operands, in order; point into argv */
	int npos;
	char err[256]; /* why args_parse failed */
};

/*
 * Parses argv[0..argc) against cmd (may be NULL) and global, both ended by
 * an entry whose name is NULL. Returns 0, or -EINVAL with a->err set (an
 * unknown option, a missing value, a value given to a flag), or -ENOMEM.
 * args_fini releases what it allocated, also after a failure.
 */
int args_parse(struct args *a, const struct arg_opt *cmd, const struct arg_opt *global, int argc,
	       char **argv);
void args_fini(struct args *a);

/* Occurrences of option name in either table (0 when it was not given). */
unsigned args_count(const struct args *a, const char *name);
bool args_flag(const struct args *a, const char *name);
/* The last value of a value option, or NULL. */
const char *args_value(const struct args *a, const char *name);
/* Every value of a list option; *n is their number. */
const char *const *args_list(const struct args *a, const char *name, unsigned *n);

/*
 * Adds one `key=value` binding option to the object opts. The value is
 * JSON when it parses as JSON (100, true, null, "text", [..], {..}) and a
 * string otherwise (udp dst port 53, 02:00:00:00:00:02, tap1); for the
 * list option `addresses` a plain value is split at commas. A key given
 * again turns the member into an array of every value. Returns 0, or
 * -EINVAL with err (errlen bytes) saying why, or -ENOMEM.
 */
int args_kv_option(json_t *opts, const char *kv, char *err, size_t errlen);

/* Parses a decimal integer in [min, max] (no sign, no junk). 0 or -EINVAL. */
int args_uint(const char *s, unsigned long long min, unsigned long long max,
	      unsigned long long *out);

/*
 * Whether s may stand as one segment of an API path (a port or binding name,
 * a binding id): 1 to 64 of A-Z a-z 0-9 _ . - and not "." or "..". Anything
 * else could name another resource once the server decodes and resolves
 * the path ("tap0/bindings/1", ".."), so pairctl refuses it as a usage
 * error; the server still judges the exact rules. 0 or -EINVAL.
 */
int args_path_name(const char *s);

#endif
