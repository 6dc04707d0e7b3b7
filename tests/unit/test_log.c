// SPDX-License-Identifier: MIT
/*
 * Unit tests of service/log.c with stderr sent to a scratch file: one line
 * per call whatever the message holds (a "%0a" in a URL once forged a log
 * line), control characters and ill-formed UTF-8 escaped, long messages cut
 * but still ended by a newline, and the level filter; with structured
 * fields, the text format's key=value and the JSON format's one object per
 * line, which parses whatever the message and fields hold.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../../service/log.h"
#include "support.h"

static const struct log_field *cur_fields;
static size_t cur_n;

static void log_one(void *msg)
{
	if (cur_n)
		log_fields(LOG_INFO, cur_fields, cur_n, "%s", (const char *)msg);
	else
		log_info("%s", (const char *)msg);
}

/* Logs @msg at info with stderr in a file; returns what was written. */
static char *logged(const char *msg)
{
	return stderr_of(log_one, (void *)(uintptr_t)msg);
}

static size_t lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_one_line(void **state)
{
	char *t = logged("PATCH /api/v1/ports/x\nFAKE 2026-01-01T00:00:00.000Z info  forged\r"
			 "\x1b[1A -> 404");

	(void)state;
	assert_int_equal(lines(t), 1);
	assert_int_equal(t[strlen(t) - 1], '\n');
	assert_null(strchr(t, '\r'));
	assert_null(strchr(t, '\x1b'));
	assert_non_null(strstr(t, " info  PATCH /api/v1/ports/x\\x0aFAKE 2026-"));
	assert_non_null(strstr(t, "forged\\x0d\\x1b[1A -> 404\n"));
	free(t);
}

static void test_not_utf8(void **state)
{
	char *t = logged("GET /api/v1/ports/\xff\xc3");

	(void)state;
	assert_non_null(strstr(t, "GET /api/v1/ports/\\xff\\xc3\n"));
	free(t);
}

static void test_long(void **state)
{
	char big[3000];
	char *t;

	(void)state;
	/* Every byte becomes a 4-byte escape: far more than a line holds. */
	memset(big, '\n', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	t = logged(big);
	assert_int_equal(lines(t), 1);
	assert_int_equal(t[strlen(t) - 1], '\n');
	/* Cut between escapes, never inside one. */
	assert_non_null(strstr(t, "\\x0a\n"));
	free(t);
}

static void test_level(void **state)
{
	char *t;

	(void)state;
	log_set_level(LOG_WARN);
	t = logged("hidden");
	assert_string_equal(t, "");
	free(t);
	log_set_level(LOG_INFO);
}

static char *logged_fields(const char *msg, const struct log_field *fields, size_t n)
{
	char *t;

	cur_fields = fields;
	cur_n = n;
	t = logged(msg);
	cur_n = 0;
	return t;
}

static const char nasty[] = "/api/v1/ports/\"x\\\n{\xff\xc3\x1b[1A";

static void test_text_fields(void **state)
{
	const struct log_field f[] = {
		LOG_STR("client", "unix"),   LOG_STR("route", "/api/v1/ports/{}"),
		LOG_STR("path", nasty),	     LOG_STR("empty", ""),
		LOG_STR("none", NULL),	     LOG_INT("status", 404),
		LOG_NUM("duration_ms", 1.5),
	};
	char *t = logged_fields("GET x -> 404", f, sizeof(f) / sizeof(f[0]));

	(void)state;
	assert_int_equal(lines(t), 1);
	assert_non_null(strstr(t, " info  GET x -> 404 client=unix route=/api/v1/ports/{} "
				  "path=\"/api/v1/ports/\\\"x\\\\\\x0a{\\xff\\xc3\\x1b[1A\" "
				  "empty=\"\" none=- status=404 duration_ms=1.500\n"));
	free(t);
}

static void test_json(void **state)
{
	const struct log_field f[] = {
		LOG_STR("client", "198.18.0.9"), LOG_STR("path", nasty),
		LOG_STR("none", NULL),		 LOG_INT("status", 201),
		LOG_NUM("duration_ms", 0.25),
	};
	json_error_t err;
	json_t *doc;
	char *t;

	(void)state;
	log_set_format(LOG_FORMAT_JSON);
	t = logged_fields(nasty, f, sizeof(f) / sizeof(f[0]));
	assert_int_equal(lines(t), 1);
	doc = json_loads(t, 0, &err);
	if (!doc)
		fail_msg("not JSON (%s): %s", err.text, t);
	assert_string_equal(json_string_value(json_object_get(doc, "level")), "info");
	assert_true(json_string_length(json_object_get(doc, "ts")) == 24);
	/* Decoded, a string reads as the text format shows it: escaped, one line. */
	assert_string_equal(json_string_value(json_object_get(doc, "msg")),
			    "/api/v1/ports/\"x\\\\\\x0a{\\xff\\xc3\\x1b[1A");
	assert_string_equal(json_string_value(json_object_get(doc, "path")),
			    json_string_value(json_object_get(doc, "msg")));
	assert_string_equal(json_string_value(json_object_get(doc, "client")), "198.18.0.9");
	assert_true(json_is_null(json_object_get(doc, "none")));
	assert_int_equal(json_integer_value(json_object_get(doc, "status")), 201);
	assert_true(json_real_value(json_object_get(doc, "duration_ms")) == 0.25);
	json_decref(doc);
	free(t);
	/* A plain message, and one far longer than a line: still one object. */
	t = logged("plain");
	doc = json_loads(t, 0, &err);
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "msg")), "plain");
	assert_int_equal(json_object_size(doc), 3);
	json_decref(doc);
	free(t);
	{
		char big[3000];

		memset(big, '"', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		t = logged_fields(big, f, sizeof(f) / sizeof(f[0]));
		assert_int_equal(lines(t), 1);
		doc = json_loads(t, 0, &err);
		if (!doc)
			fail_msg("long line not JSON (%s)", err.text);
		json_decref(doc);
		free(t);
	}
	log_set_format(LOG_FORMAT_TEXT);
}

static void test_format_parse(void **state)
{
	(void)state;
	assert_int_equal(log_format_parse("text"), LOG_FORMAT_TEXT);
	assert_int_equal(log_format_parse("json"), LOG_FORMAT_JSON);
	assert_int_equal(log_format_parse("JSON"), -1);
	assert_int_equal(log_format_parse(""), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_line),     cmocka_unit_test(test_not_utf8),
		cmocka_unit_test(test_long),	     cmocka_unit_test(test_level),
		cmocka_unit_test(test_text_fields),  cmocka_unit_test(test_json),
		cmocka_unit_test(test_format_parse),
	};

	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
