// SPDX-License-Identifier: MIT
/*
 * Unit tests of service/jsonobj.c, the one strict-object walker: unknown
 * keys named under the table's prefix with the table's words, the type
 * words of every "must be ..." fault, null only where allowed, readers
 * called in the object's order with the member's full name, the first
 * fault being the problem's field and every later invalid member listed
 * after it (fault_add()), required members after the walk, an absent object read
 * as {}, a key handed to on_unknown; and the string getter that refuses
 * embedded NUL bytes.
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

#include "../../service/jsonobj.h"
#include "support.h"

/* What the readers saw, in order: "field=value;..." */
struct seen {
	char log[256];
	size_t n;
};

static int read_log(const json_t *v, const char *field, void *out, struct fault *f)
{
	struct seen *s = out;
	char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

	(void)f;
	s->n += (size_t)snprintf(s->log + s->n, sizeof(s->log) - s->n, "%s=%s;", field, text);
	free(text);
	return 0;
}

static int read_small(const json_t *v, const char *field, void *out, struct fault *f)
{
	if (json_integer_value(v) > 9)
		return fault_set(f, FAULT_INVALID, 0, field, "must be 0..9");
	return read_log(v, field, out, f);
}

static const struct jfield fields[] = {
	{ "s", JT_STRING, .read = read_log },
	{ "i", JT_INTEGER, .read = read_small },
	{ "b", JT_BOOLEAN, .read = read_log },
	{ "a", JT_ARRAY, .nullable = true, .read = read_log },
	{ "o", JT_OBJECT, .read = read_log },
	{ "any", JT_ANY, .read = read_log },
	{ "r", JT_ANY, .required = "is required: a test's own words" },
};

static const struct jobj spec = { "opts", JOBJ_FIELDS(fields), "unknown option (test)", NULL };
static const struct jobj top = { NULL, JOBJ_FIELDS(fields), "unknown field", NULL };

/* Reads @text under @sp; returns the result, the fault in @f and the log in @s. */
static int read_text(const struct jobj *sp, const char *text, struct seen *s, struct fault *f)
{
	json_t *o = text ? json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL) : NULL;
	int ret;

	if (text)
		assert_non_null(o);
	memset(s, 0, sizeof(*s));
	*f = (struct fault)FAULT_INIT;
	ret = jsonobj_read(o, sp, s, f);
	json_decref(o);
	return ret;
}

static void fails(const struct jobj *sp, const char *text, const char *field, const char *detail)
{
	struct fault f;
	struct seen s;

	if (read_text(sp, text, &s, &f) != -EINVAL)
		fail_msg("%s: accepted", text);
	assert_int_equal(f.kind, FAULT_INVALID);
	assert_string_equal(f.field, field);
	assert_string_equal(f.detail, detail);
}

static void test_reads_in_order(void **state)
{
	struct fault f;
	struct seen s;

	(void)state;
	assert_int_equal(read_text(&spec,
				   "{\"r\": 0, \"i\": 3, \"s\": \"x\", \"a\": null, \"b\": true,"
				   " \"o\": {}, \"any\": [1]}",
				   &s, &f),
			 0);
	assert_int_equal(f.kind, FAULT_NONE);
	assert_string_equal(s.log, "opts.i=3;opts.s=\"x\";opts.a=null;opts.b=true;opts.o={};"
				   "opts.any=[1];");
	assert_int_equal(read_text(&top, "{\"r\": 0, \"i\": 1}", &s, &f), 0);
	assert_string_equal(s.log, "i=1;");
}

static void test_refusals(void **state)
{
	(void)state;
	fails(&spec, "{\"r\": 0, \"zz\": 1}", "opts.zz", "unknown option (test)");
	fails(&top, "{\"zz\": 1}", "zz", "unknown field");
	fails(&spec, "{\"r\": 0, \"s\": 1}", "opts.s", "must be a string");
	fails(&spec, "{\"r\": 0, \"s\": null}", "opts.s", "must be a string");
	fails(&spec, "{\"r\": 0, \"i\": 1.5}", "opts.i", "must be an integer");
	fails(&spec, "{\"r\": 0, \"b\": 0}", "opts.b", "must be a boolean");
	fails(&spec, "{\"r\": 0, \"a\": {}}", "opts.a", "must be an array");
	fails(&spec, "{\"r\": 0, \"o\": []}", "opts.o", "must be an object");
	fails(&spec, "{\"r\": 0, \"i\": 10}", "opts.i", "must be 0..9");
	fails(&spec, "{\"i\": 1}", "opts.r", "is required: a test's own words");
	fails(&spec, "[]", "opts", "must be an object");
	/* The first fault in the object's order wins; required members come last. */
	fails(&spec, "{\"i\": 10, \"zz\": 1}", "opts.i", "must be 0..9");
	fails(&spec, "{\"zz\": 1, \"i\": 10}", "opts.zz", "unknown option (test)");
	fails(&spec, "{\"s\": 1}", "opts.s", "must be a string");
}

static void test_absent_object(void **state)
{
	static const struct jobj optional = { "opts", fields, 6, "unknown", NULL };
	struct fault f;
	struct seen s;

	(void)state;
	assert_int_equal(read_text(&optional, NULL, &s, &f), 0);
	assert_string_equal(s.log, "");
	fails(&spec, NULL, "opts.r", "is required: a test's own words");
}

static int unknown_hook(const char *key, void *out, struct fault *f)
{
	(void)out;
	if (strcmp(key, "extra") == 0)
		return 0;
	return fault_set(f, FAULT_INVALID, EINVAL, key, "file: unexpected field \"%s\"", key);
}

static void test_on_unknown(void **state)
{
	static const struct jobj hooked = { NULL, fields, 1, "unused", unknown_hook };
	struct fault f;
	struct seen s;

	(void)state;
	assert_int_equal(read_text(&hooked, "{\"extra\": 1, \"s\": \"y\"}", &s, &f), 0);
	assert_string_equal(s.log, "s=\"y\";");
	assert_int_equal(read_text(&hooked, "{\"other\": 1}", &s, &f), -EINVAL);
	assert_int_equal(f.err, EINVAL);
	assert_string_equal(f.field, "other");
	assert_string_equal(f.detail, "file: unexpected field \"other\"");
}

static void test_string(void **state)
{
	json_t *ok = json_string("abc"), *nul = json_stringn("a\0b", 3), *num = json_integer(1);
	struct fault f = FAULT_INIT;
	const char *s = NULL;

	(void)state;
	assert_int_equal(jsonobj_string(ok, "x", &s, &f), 0);
	assert_string_equal(s, "abc");
	assert_int_equal(jsonobj_string(nul, "x.y", &s, &f), -EINVAL);
	assert_string_equal(f.field, "x.y");
	assert_string_equal(f.detail, "must not contain NUL bytes");
	f = (struct fault)FAULT_INIT;
	assert_int_equal(jsonobj_string(num, "x", &s, &f), -EINVAL);
	assert_string_equal(f.detail, "must be a string");
	json_decref(ok);
	json_decref(nul);
	json_decref(num);
}

/* Every invalid member is listed, in the object's order, the required ones last. */
static void test_every_invalid_member(void **state)
{
	static const char *const want[] = { "opts.i", "opts.zz", "opts.s", "opts.r" };
	struct fault f, inner = FAULT_INIT, outer = FAULT_INIT;
	struct seen s;

	(void)state;
	assert_int_equal(read_text(&spec, "{\"i\":10,\"b\":true,\"zz\":1,\"s\":3}", &s, &f),
			 -EINVAL);
	assert_int_equal(fault_count(&f), 4);
	assert_string_equal(f.field, want[0]);
	assert_string_equal(f.detail, "must be 0..9");
	for (unsigned i = 0; i < f.n_extra; i++)
		assert_string_equal(f.extra[i].field, want[i + 1]);
	assert_string_equal(f.extra[0].detail, "unknown option (test)");
	assert_string_equal(f.extra[1].detail, "must be a string");
	/* The valid member between them was still read. */
	assert_string_equal(s.log, "opts.b=true;");
	/* A field listed twice keeps its first reason; another kind is never mixed in. */
	assert_int_equal(fault_add(&f, "opts.i", "again"), -EINVAL);
	assert_int_equal(fault_count(&f), 4);
	fault_set(&inner, FAULT_INVALID, 0, "x", "bad x");
	fault_add(&inner, "y", "bad y");
	fault_merge(&outer, &inner);
	assert_int_equal(fault_count(&outer), 2);
	fault_merge(&f, &inner);
	assert_int_equal(fault_count(&f), 6);
	assert_string_equal(f.extra[4].detail, "bad y");
	outer = (struct fault)FAULT_INIT;
	fault_set(&outer, FAULT_UNAVAILABLE, ENOMEM, NULL, "out of memory");
	fault_merge(&outer, &inner);
	assert_int_equal(fault_add(&outer, "z", "bad z"), -EINVAL);
	assert_int_equal(fault_count(&outer), 1);
	/* Beyond the room, a count of the rest. */
	for (int i = 0; i < FAULT_ERRORS_MAX + 3; i++) {
		char name[16];

		snprintf(name, sizeof(name), "f%d", i);
		fault_add(&f, name, "bad");
	}
	assert_int_equal(fault_count(&f), FAULT_ERRORS_MAX);
	assert_int_equal(f.n_more, 6 + 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_in_order), cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_absent_object),  cmocka_unit_test(test_on_unknown),
		cmocka_unit_test(test_string),	       cmocka_unit_test(test_every_invalid_member),
	};

	return cmocka_run_group_tests_name("jsonobj", tests, NULL, NULL);
}
