// SPDX-License-Identifier: MIT
/*
 * Unit tests of cli/args.c (pairctl's option parser and `--opt key=value`
 * typing) and of client_escape (names in URL paths): options anywhere
 * among the operands, both value spellings, repeated and list options, the
 * global table next to a command's, every usage error worded, and values
 * typed the way the man page says.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../cli/args.h"
#include "../../cli/client.h"

static const struct arg_opt cmd_opts[] = {
	{ "type", ARG_VALUE, "T", "" }, { "addr", ARG_LIST, "A", "" }, { "up", ARG_FLAG, NULL, "" },
	{ "mtu", ARG_VALUE, "N", "" },	{ NULL, 0, NULL, NULL },
};

static const struct arg_opt global_opts[] = {
	{ "socket", ARG_VALUE, "P", "" },
	{ "json", ARG_FLAG, NULL, "" },
	{ "help", ARG_FLAG, NULL, "" },
	{ NULL, 0, NULL, NULL },
};

/* Parses the words of line (split at spaces) into a; returns args_parse's result. */
static int parse(struct args *a, char *line, char **argv, int max)
{
	int argc = 0;

	for (char *w = strtok(line, " "); w && argc < max; w = strtok(NULL, " "))
		argv[argc++] = w;
	return args_parse(a, cmd_opts, global_opts, argc, argv);
}

static void test_options_and_operands(void **state)
{
	char line[] = "tap0 --type tap --addr 198.18.0.1/24 --json --addr=2001:db8::1/64 "
		      "--up --mtu=1400 --socket /s extra";
	char *argv[32];
	const char *const *l;
	unsigned n;
	struct args a;

	(void)state;
	assert_int_equal(parse(&a, line, argv, 32), 0);
	assert_int_equal(a.npos, 2);
	assert_string_equal(a.pos[0], "tap0");
	assert_string_equal(a.pos[1], "extra");
	assert_string_equal(args_value(&a, "type"), "tap");
	assert_string_equal(args_value(&a, "mtu"), "1400");
	assert_string_equal(args_value(&a, "socket"), "/s");
	assert_true(args_flag(&a, "up"));
	assert_true(args_flag(&a, "json"));
	assert_false(args_flag(&a, "help"));
	l = args_list(&a, "addr", &n);
	assert_int_equal(n, 2);
	assert_string_equal(l[0], "198.18.0.1/24");
	assert_string_equal(l[1], "2001:db8::1/64");
	/* Not given, and not an option at all. */
	assert_null(args_value(&a, "nope"));
	assert_int_equal(args_count(&a, "nope"), 0);
	args_fini(&a);
}

static void test_last_value_wins_and_dashes(void **state)
{
	char line[] = "--mtu 1 --mtu=2 -h -- --up - x";
	char *argv[16];
	struct args a;

	(void)state;
	assert_int_equal(parse(&a, line, argv, 16), 0);
	assert_string_equal(args_value(&a, "mtu"), "2");
	assert_int_equal(args_count(&a, "mtu"), 2);
	assert_true(args_flag(&a, "help"));
	/* After "--" everything is an operand; "-" (stdin) always is. */
	assert_false(args_flag(&a, "up"));
	assert_int_equal(a.npos, 3);
	assert_string_equal(a.pos[0], "--up");
	assert_string_equal(a.pos[1], "-");
	assert_string_equal(a.pos[2], "x");
	args_fini(&a);
}

static void expect_usage(const char *text, const char *needle)
{
	char line[256], *argv[16];
	struct args a;

	snprintf(line, sizeof(line), "%s", text);
	assert_int_equal(parse(&a, line, argv, 16), -EINVAL);
	if (!strstr(a.err, needle))
		fail_msg("'%s': message '%s' does not say '%s'", text, a.err, needle);
	args_fini(&a);
}

static void test_usage_errors(void **state)
{
	(void)state;
	expect_usage("--bogus", "unknown option '--bogus'");
	expect_usage("x --bogus=1", "unknown option '--bogus'");
	expect_usage("-x", "unknown option '-x'");
	expect_usage("--type", "option '--type' needs a value");
	expect_usage("tap0 --mtu", "option '--mtu' needs a value");
	expect_usage("--up=yes", "option '--up' takes no value");
	expect_usage("--json=1", "option '--json' takes no value");
	/* A prefix is not an abbreviation. */
	expect_usage("--ty tap", "unknown option '--ty'");
	expect_usage("--typex tap", "unknown option '--typex'");
}

static void test_no_command_table(void **state)
{
	char *argv[] = { "--json", "ports", "--type", "tap" };
	struct args a;

	(void)state;
	assert_int_equal(args_parse(&a, NULL, global_opts, 2, argv), 0);
	assert_true(args_flag(&a, "json"));
	assert_int_equal(a.npos, 1);
	args_fini(&a);
	assert_int_equal(args_parse(&a, NULL, global_opts, 4, argv), -EINVAL);
	assert_string_equal(a.err, "unknown option '--type'");
	args_fini(&a);
}

static void expect_kv(const char *const *kvs, const char *want)
{
	json_t *opts = json_object(), *exp = json_loads(want, 0, NULL);
	char err[256];

	assert_non_null(exp);
	for (; *kvs; kvs++)
		if (args_kv_option(opts, *kvs, err, sizeof(err)) != 0)
			fail_msg("'%s' refused: %s", *kvs, err);
	if (!json_equal(opts, exp)) {
		char *s = json_dumps(opts, JSON_COMPACT | JSON_SORT_KEYS);

		fail_msg("gave %s, expected %s", s, want);
	}
	json_decref(opts);
	json_decref(exp);
}

static void test_kv_options(void **state)
{
	(void)state;
	expect_kv((const char *[]){ "limit=100", "snaplen=128", NULL },
		  "{\"limit\":100,\"snaplen\":128}");
	expect_kv((const char *[]){ "filter=udp dst port 53", NULL },
		  "{\"filter\":\"udp dst port 53\"}");
	/* '=' in the value stays in the value. */
	expect_kv((const char *[]){ "filter=len = 60", NULL }, "{\"filter\":\"len = 60\"}");
	expect_kv((const char *[]){ "filter=", NULL }, "{\"filter\":\"\"}");
	expect_kv((const char *[]){ "mac=02:00:00:00:00:22", "port=tap1", NULL },
		  "{\"mac\":\"02:00:00:00:00:22\",\"port\":\"tap1\"}");
	/* JSON when it is JSON: a quoted string keeps digits a string. */
	expect_kv((const char *[]){ "port=\"7\"", "x=true", "y=null", NULL },
		  "{\"port\":\"7\",\"x\":true,\"y\":null}");
	/* addresses: split at commas, repeatable, or a JSON array. */
	expect_kv((const char *[]){ "addresses=198.18.0.2", NULL },
		  "{\"addresses\":[\"198.18.0.2\"]}");
	expect_kv((const char *[]){ "addresses=198.18.0.2,198.18.0.3", NULL },
		  "{\"addresses\":[\"198.18.0.2\",\"198.18.0.3\"]}");
	expect_kv((const char *[]){ "addresses=2001:db8::2", "addresses=2001:db8::3", NULL },
		  "{\"addresses\":[\"2001:db8::2\",\"2001:db8::3\"]}");
	expect_kv((const char *[]){ "addresses=[\"198.18.0.9\"]", NULL },
		  "{\"addresses\":[\"198.18.0.9\"]}");
	/* Any other key given twice: an array of both, for the server to judge. */
	expect_kv((const char *[]){ "limit=1", "limit=2", NULL }, "{\"limit\":[1,2]}");
}

static void test_kv_refused(void **state)
{
	json_t *opts = json_object();
	char err[256];

	(void)state;
	assert_int_equal(args_kv_option(opts, "limit", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "expected KEY=VALUE"));
	assert_int_equal(args_kv_option(opts, "=5", err, sizeof(err)), -EINVAL);
	assert_int_equal(json_object_size(opts), 0);
	json_decref(opts);
}

static void test_uint(void **state)
{
	unsigned long long v = 7;

	(void)state;
	assert_int_equal(args_uint("1400", 0, 65535, &v), 0);
	assert_int_equal(v, 1400);
	assert_int_equal(args_uint("0", 0, 65535, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(args_uint("65536", 0, 65535, &v), -EINVAL);
	assert_int_equal(args_uint("-1", 0, 65535, &v), -EINVAL);
	assert_int_equal(args_uint("+1", 0, 65535, &v), -EINVAL);
	assert_int_equal(args_uint(" 1", 0, 65535, &v), -EINVAL);
	assert_int_equal(args_uint("1x", 0, 65535, &v), -EINVAL);
	assert_int_equal(args_uint("", 0, 65535, &v), -EINVAL);
	assert_int_equal(args_uint(NULL, 0, 65535, &v), -EINVAL);
	assert_int_equal(args_uint("99999999999999999999999", 0, ~0ULL, &v), -EINVAL);
	assert_int_equal(v, 0);
}

static void test_escape(void **state)
{
	char buf[32];

	(void)state;
	assert_int_equal(client_escape("tap0", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "tap0");
	assert_int_equal(client_escape("a_b-c.d~", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "a_b-c.d~");
	/* Nothing that could change the path or the query passes unescaped. */
	assert_int_equal(client_escape("a/b?c#d%e f&g=h", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "a%2Fb%3Fc%23d%25e%20f%26g%3Dh");
	assert_int_equal(client_escape("\n\xff", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "%0A%FF");
	assert_int_equal(client_escape("", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	/* Too long for the buffer: said, and the buffer not overrun. */
	assert_int_equal(client_escape("abcd", buf, 4), -ENOSPC);
	assert_int_equal(client_escape("abc", buf, 4), 0);
	assert_int_equal(client_escape("a/", buf, 4), -ENOSPC);
}

static void test_path_name(void **state)
{
	(void)state;
	assert_int_equal(args_path_name("tap0"), 0);
	assert_int_equal(args_path_name("a_b-c.d"), 0);
	assert_int_equal(args_path_name("7"), 0);
	assert_int_equal(args_path_name("..."), 0);
	assert_int_equal(
		args_path_name("0123456789012345678901234567890123456789012345678901234567890123"),
		0);
	/* Whatever could name another resource once the path is decoded or resolved. */
	assert_int_equal(args_path_name(""), -EINVAL);
	assert_int_equal(args_path_name("."), -EINVAL);
	assert_int_equal(args_path_name(".."), -EINVAL);
	assert_int_equal(args_path_name("tap0/bindings/1"), -EINVAL);
	assert_int_equal(args_path_name("tap0%2Fx"), -EINVAL);
	assert_int_equal(args_path_name("a?b"), -EINVAL);
	assert_int_equal(args_path_name("a b"), -EINVAL);
	assert_int_equal(args_path_name("a\nb"), -EINVAL);
	assert_int_equal(
		args_path_name("01234567890123456789012345678901234567890123456789012345678901234"),
		-EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options_and_operands),
		cmocka_unit_test(test_last_value_wins_and_dashes),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_no_command_table),
		cmocka_unit_test(test_kv_options),
		cmocka_unit_test(test_kv_refused),
		cmocka_unit_test(test_uint),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_path_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
