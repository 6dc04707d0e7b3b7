// SPDX-License-Identifier: MIT
/*
 * pairctl's option parser (args.h). getopt_long would do most of it, but
 * its state is global and it prints its own messages; pairctl wants every
 * usage error as one line it words itself, and a parser the unit tests can
 * run again and again. Options may come before, between or after the
 * operands (`pairctl ports --json`), as git and ip allow.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"

static size_t table_size(const struct arg_opt *t)
{
	size_t n = 0;

	while (t && t[n].name)
		n++;
	return n;
}

/* The option called name (length len) in either table: its table and index. */
static int find_opt(const struct args *a, const char *name, size_t len, int *table, size_t *idx)
{
	for (int t = 0; t < 2; t++) {
		for (size_t i = 0; i < a->sizes[t]; i++) {
			const char *n = a->tables[t][i].name;

			if (strlen(n) == len && strncmp(n, name, len) == 0) {
				*table = t;
				*idx = i;
				return 0;
			}
		}
	}
	return -ENOENT;
}

static void add_val(struct arg_val *v, const char *val)
{
	/* vals has room for argc entries, which bounds the occurrences. */
	v->vals[v->n++] = val;
}

int args_parse(struct args *a, const struct arg_opt *cmd, const struct arg_opt *global, int argc,
	       char **argv)
{
	bool only_operands = false;
	int ret = 0;

	memset(a, 0, sizeof(*a));
	a->tables[0] = cmd;
	a->tables[1] = global;
	a->pos = calloc((size_t)argc + 1, sizeof(*a->pos));
	if (!a->pos)
		return -ENOMEM;
	for (int t = 0; t < 2; t++) {
		a->sizes[t] = table_size(a->tables[t]);
		a->vals[t] = calloc(a->sizes[t] + 1, sizeof(*a->vals[t]));
		if (!a->vals[t])
			return -ENOMEM;
		for (size_t i = 0; i < a->sizes[t]; i++) {
			a->vals[t][i].vals = calloc((size_t)argc + 1, sizeof(char *));
			if (!a->vals[t][i].vals)
				return -ENOMEM;
		}
	}

	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i], *name, *eq, *val = NULL;
		size_t len, idx;
		int t;

		if (only_operands || arg[0] != '-' || strcmp(arg, "-") == 0) {
			a->pos[a->npos++] = arg;
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			only_operands = true;
			continue;
		}
		if (strcmp(arg, "-h") == 0) {
			name = "help";
			len = 4;
		} else if (arg[1] != '-') {
			snprintf(a->err, sizeof(a->err), "unknown option '%s'", arg);
			ret = -EINVAL;
			goto out;
		} else {
			name = arg + 2;
			eq = strchr(name, '=');
			len = eq ? (size_t)(eq - name) : strlen(name);
			if (eq)
				val = eq + 1;
		}
		if (find_opt(a, name, len, &t, &idx) < 0) {
			snprintf(a->err, sizeof(a->err), "unknown option '--%.*s'", (int)len, name);
			ret = -EINVAL;
			goto out;
		}
		if (a->tables[t][idx].kind == ARG_FLAG) {
			if (val) {
				snprintf(a->err, sizeof(a->err), "option '--%.*s' takes no value",
					 (int)len, name);
				ret = -EINVAL;
				goto out;
			}
			add_val(&a->vals[t][idx], "");
			continue;
		}
		if (!val) {
			if (i + 1 >= argc) {
				snprintf(a->err, sizeof(a->err), "option '--%.*s' needs a value",
					 (int)len, name);
				ret = -EINVAL;
				goto out;
			}
			val = argv[++i];
		}
		add_val(&a->vals[t][idx], val);
	}
out:
	return ret;
}

void args_fini(struct args *a)
{
	for (int t = 0; t < 2; t++) {
		if (!a->vals[t])
			continue;
		for (size_t i = 0; i < a->sizes[t]; i++)
			free(a->vals[t][i].vals);
		free(a->vals[t]);
		a->vals[t] = NULL;
	}
	free(a->pos);
	a->pos = NULL;
}

static const struct arg_val *get(const struct args *a, const char *name)
{
	size_t idx;
	int t;

	if (find_opt(a, name, strlen(name), &t, &idx) < 0)
		return NULL;
	return &a->vals[t][idx];
}

unsigned args_count(const struct args *a, const char *name)
{
	const struct arg_val *v = get(a, name);

	return v ? v->n : 0;
}

bool args_flag(const struct args *a, const char *name)
{
	return args_count(a, name) > 0;
}

const char *args_value(const struct args *a, const char *name)
{
	const struct arg_val *v = get(a, name);

	return v && v->n ? v->vals[v->n - 1] : NULL;
}

const char *const *args_list(const struct args *a, const char *name, unsigned *n)
{
	const struct arg_val *v = get(a, name);

	*n = v ? v->n : 0;
	return v ? (const char *const *)v->vals : NULL;
}

int args_uint(const char *s, unsigned long long min, unsigned long long max,
	      unsigned long long *out)
{
	unsigned long long v;
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* The value of one `key=value`: JSON if it is JSON, else the text itself. */
static json_t *kv_value(const char *key, const char *text)
{
	json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
	const char *s, *comma;

	if (v)
		return v;
	if (strcmp(key, "addresses") != 0)
		return json_string(text);
	/* addresses=198.18.0.2,198.18.0.3: the one list option, split at commas. */
	v = json_array();
	for (s = text; v; s = comma + 1) {
		comma = strchr(s, ',');
		if (json_array_append_new(
			    v, json_stringn(s, comma ? (size_t)(comma - s) : strlen(s))) < 0) {
			json_decref(v);
			return NULL;
		}
		if (!comma)
			break;
	}
	return v;
}

int args_kv_option(json_t *opts, const char *kv, char *err, size_t errlen)
{
	const char *eq = strchr(kv, '=');
	json_t *val = NULL, *old, *arr = NULL;
	char *key = NULL;
	int ret = 0;

	if (!eq || eq == kv) {
		snprintf(err, errlen, "--opt '%s': expected KEY=VALUE", kv);
		return -EINVAL;
	}
	key = strndup(kv, (size_t)(eq - kv));
	val = key ? kv_value(key, eq + 1) : NULL;
	if (!val) {
		ret = -ENOMEM;
		goto out;
	}
	old = json_object_get(opts, key);
	if (!old) {
		ret = json_object_set(opts, key, val) < 0 ? -ENOMEM : 0;
		goto out;
	}
	/* A key given again: every value, in order, in one array. */
	if (json_is_array(old) && json_array_size(old) > 0 && !json_is_array(val)) {
		ret = json_array_append(old, val) < 0 ? -ENOMEM : 0;
		goto out;
	}
	if (json_is_array(old) && json_is_array(val)) {
		ret = json_array_extend(old, val) < 0 ? -ENOMEM : 0;
		goto out;
	}
	arr = json_array();
	if (!arr || json_array_append(arr, old) < 0 || json_array_append(arr, val) < 0 ||
	    json_object_set(opts, key, arr) < 0)
		ret = -ENOMEM;
out:
	json_decref(arr);
	json_decref(val);
	free(key);
	return ret;
}

int args_path_name(const char *s)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-");

	if (n == 0 || n > 64 || s[n] || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return -EINVAL;
	return 0;
}
