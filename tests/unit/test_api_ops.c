// SPDX-License-Identifier: MIT
/*
 * Unit tests of what api/ offers orchestration tools (issue 10, "ops"),
 * through api_handle() with fake requests over a port set on the memory
 * port I/O: a validation problem lists every invalid field in "errors"
 * (ports, bindings, a bounded list with a count of the rest), and query
 * parameters a route does not take, or repeat, are refused with a 400 that
 * names each of them, before the handler changes anything.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../api/internal.h"
#include "../../service/log.h"
#include "../../service/portset.h"
#include "../fakes/portio_mem.h"
#include "support.h"

static struct api_fx_spec fx_spec = { sizeof(struct api_fx), 4 };

/* Runs @fr (over the Unix socket: no token); the response is fx->rs until the next call. */
static struct response *run(struct api_fx *fx, struct fake_req *fr)
{
	fr->rq.via = REQ_VIA_UNIX;
	return api_fx_run(fx, fr);
}

static struct response *post(struct api_fx *fx, const char *path, const char *body)
{
	struct fake_req fr;

	freq_init(&fr, HTTP_POST, path);
	freq_body(&fr, "application/json", body);
	return run(fx, &fr);
}

/*
 * Asserts a problem of @status and slug @slug whose "errors" lists exactly
 * the NULL-terminated @fields in order, the first also as "field", each
 * with a detail. Returns the body.
 */
static json_t *expect_errors(const struct response *rs, int status, const char *slug,
			     const char *const *fields)
{
	json_t *doc = assert_problem(rs, status, fields[0]);
	json_t *errs = json_object_get(doc, "errors"), *e;
	char type[96];
	size_t n = 0;

	snprintf(type, sizeof(type), "urn:paird:problem:%s", slug);
	assert_string_equal(json_string_value(json_object_get(doc, "type")), type);
	while (fields[n])
		n++;
	if (json_array_size(errs) != n)
		fail_msg("%zu errors, expected %zu: %.*s", json_array_size(errs), n, (int)rs->len,
			 resp_text(rs));
	for (size_t i = 0; i < n; i++) {
		e = json_array_get(errs, i);
		assert_string_equal(json_string_value(json_object_get(e, "field")), fields[i]);
		assert_true(json_string_length(json_object_get(e, "detail")) > 0);
	}
	/* The first is also the problem's own field and detail, for older clients. */
	assert_string_equal(json_string_value(json_object_get(doc, "detail")),
			    json_string_value(json_object_get(json_array_get(errs, 0), "detail")));
	return doc;
}

/* --- every invalid field at once --- */

static void test_port_three_bad_fields(void **state)
{
	static const char *const fields[] = { "name", "type", "mtu", NULL };
	struct api_fx *fx = *state;

	json_decref(expect_errors(
		post(fx, "/api/v1/ports", "{\"name\":\"a b\",\"type\":\"tuntap\",\"mtu\":5}"), 422,
		"invalid-field", fields));
	assert_int_equal(portset_count(fx->ps), 0);
	assert_int_equal(memio_calls(fx->m, MEMIO_OPEN), 0);
}

static void test_port_missing_and_bad(void **state)
{
	static const char *const fields[] = {
		"colour", "addresses[0]", "addresses[2]", "addresses[3]", "name", "type", NULL
	};
	struct api_fx *fx = *state;

	/* Unknown member, bad items of a list (and a duplicate), then the required ones. */
	json_decref(expect_errors(post(fx, "/api/v1/ports",
				       "{\"colour\":\"red\",\"addresses\":[\"x\",\"198.18.0.1/24\","
				       "\"198.18.0.1/24\",7]}"),
				  422, "invalid-field", fields));
	assert_int_equal(portset_count(fx->ps), 0);
}

static void test_one_bad_field_one_error(void **state)
{
	static const char *const fields[] = { "mtu", NULL };
	struct api_fx *fx = *state;

	json_decref(expect_errors(
		post(fx, "/api/v1/ports", "{\"name\":\"p0\",\"type\":\"tap\",\"mtu\":\"1500\"}"),
		422, "invalid-field", fields));
}

static void test_errors_bounded(void **state)
{
	struct api_fx *fx = *state;
	char body[1024];
	size_t n = 0;
	json_t *doc;

	n += (size_t)snprintf(body + n, sizeof(body) - n, "{\"name\":\"p0\",\"type\":\"tap\"");
	for (int i = 0; i < FAULT_ERRORS_MAX + 4; i++)
		n += (size_t)snprintf(body + n, sizeof(body) - n, ",\"x%d\":1", i);
	snprintf(body + n, sizeof(body) - n, "}");
	doc = assert_problem(post(fx, "/api/v1/ports", body), 422, "x0");
	assert_int_equal(json_array_size(json_object_get(doc, "errors")), FAULT_ERRORS_MAX);
	assert_int_equal(json_integer_value(json_object_get(doc, "errors_omitted")), 4);
	assert_string_equal(
		json_string_value(json_object_get(
			json_array_get(json_object_get(doc, "errors"), FAULT_ERRORS_MAX - 1),
			"field")),
		"x15");
	json_decref(doc);
}

static void test_binding_bad_fields(void **state)
{
	static const char *const match_fields[] = { "colour", "match.ethertype", "match.udp_port",
						    NULL };
	static const char *const opt_fields[] = { "options.limit", "options.snaplen", NULL };
	static const char *const handler_fields[] = { "colour", "handler", NULL };
	static const char *const type_fields[] = { "handler", "colour", NULL };
	struct api_fx *fx = *state;

	assert_int_equal(post(fx, "/api/v1/ports", "{\"name\":\"p0\",\"type\":\"tap\"}")->status,
			 201);
	json_decref(expect_errors(post(fx, "/api/v1/ports/p0/bindings",
				       "{\"match\":{\"ethertype\":\"ip\",\"udp_port\":70000},"
				       "\"handler\":\"capture\",\"colour\":1}"),
				  422, "invalid-field", match_fields));
	json_decref(expect_errors(post(fx, "/api/v1/ports/p0/bindings",
				       "{\"match\":{},\"handler\":\"capture\","
				       "\"options\":{\"limit\":-1,\"snaplen\":0}}"),
				  422, "invalid-field", opt_fields));
	json_decref(expect_errors(post(fx, "/api/v1/ports/p0/bindings",
				       "{\"match\":{},\"handler\":\"nope\",\"colour\":1}"),
				  422, "invalid-field", handler_fields));
	json_decref(expect_errors(
		post(fx, "/api/v1/ports/p0/bindings", "{\"match\":{},\"handler\":7,\"colour\":1}"),
		422, "invalid-field", type_fields));
}

static void test_reply_addresses_listed(void **state)
{
	static const char *const fields[] = { "options.addresses[0]", "options.addresses[2]",
					      "options.addresses[3]", "options.mac", NULL };
	struct api_fx *fx = *state;

	assert_int_equal(post(fx, "/api/v1/ports", "{\"name\":\"p0\",\"type\":\"tap\"}")->status,
			 201);
	json_decref(expect_errors(
		post(fx, "/api/v1/ports/p0/bindings",
		     "{\"match\":{\"ethertype\":2054},\"handler\":\"arp_reply\","
		     "\"options\":{\"addresses\":[\"2001:db8::1\",\"198.18.0.1\",\"198.18.0.1\","
		     "\"198.18.0.0/24\"],\"mac\":\"nope\"}}"),
		422, "invalid-field", fields));
}

/* A fault with no field (a 404) carries no "errors". */
static void test_no_field_no_errors(void **state)
{
	struct api_fx *fx = *state;
	struct fake_req fr;
	json_t *doc;

	freq_init(&fr, HTTP_GET, "/api/v1/ports/nosuch");
	doc = assert_problem(run(fx, &fr), 404, "");
	assert_null(json_object_get(doc, "errors"));
	json_decref(doc);
}

/* --- query parameters --- */

static void test_unknown_query_refused(void **state)
{
	static const char *const fields[] = { "query.foo", "query.bar", NULL };
	static const char *const paths[] = {
		"/api/v1/ports",
		"/api/v1/ports/p0",
		"/api/v1/ports/p0/bindings",
		"/api/v1/ports/p0/captures",
		"/api/v1/captures.pcapng",
		"/api/v1/events",
		"/metrics",
		"/healthz",
		"/login",
		"/",
		"/index.html",
		"/openapi.yaml",
	};
	struct api_fx *fx = *state;
	struct fake_req fr;

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		freq_init(&fr, HTTP_GET, paths[i]);
		freq_query(&fr, "foo", "1");
		freq_query(&fr, "bar", NULL);
		json_decref(expect_errors(run(fx, &fr), 400, "unknown-query-parameter", fields));
	}
}

/* The case: ?dry_run=true on a POST created the port. */
static void test_unknown_query_changes_nothing(void **state)
{
	static const char *const fields[] = { "query.dry_run", NULL };
	struct api_fx *fx = *state;
	struct fake_req fr;

	freq_init(&fr, HTTP_POST, "/api/v1/ports");
	freq_query(&fr, "dry_run", "true");
	freq_body(&fr, "application/json", "{\"name\":\"p0\",\"type\":\"tap\"}");
	json_decref(expect_errors(run(fx, &fr), 400, "unknown-query-parameter", fields));
	assert_int_equal(portset_count(fx->ps), 0);
	assert_int_equal(memio_calls(fx->m, MEMIO_OPEN), 0);
}

static void test_repeated_query_refused(void **state)
{
	static const char *const fields[] = { "query.after", NULL };
	static const char *const both[] = { "query.colour", "query.after", NULL };
	struct api_fx *fx = *state;
	struct fake_req fr;

	freq_init(&fr, HTTP_GET, "/api/v1/ports/p0/captures");
	freq_query(&fr, "after", "1");
	freq_query(&fr, "limit", "5");
	freq_query(&fr, "after", "2");
	json_decref(expect_errors(run(fx, &fr), 400, "repeated-query-parameter", fields));
	/* Unknown and repeated together: the type says unknown, errors lists both. */
	freq_query(&fr, "colour", "red");
	json_decref(expect_errors(run(fx, &fr), 400, "unknown-query-parameter", both));
}

/* A route's own parameters pass the check and reach the handler. */
static void test_known_query_passes(void **state)
{
	struct api_fx *fx = *state;
	struct fake_req fr;

	assert_int_equal(post(fx, "/api/v1/ports", "{\"name\":\"p0\",\"type\":\"tap\"}")->status,
			 201);
	freq_init(&fr, HTTP_GET, "/api/v1/ports/p0/captures");
	freq_query(&fr, "after", "0");
	freq_query(&fr, "limit", "5");
	freq_query(&fr, "binding", "1");
	assert_int_equal(run(fx, &fr)->status, 200);
	/* ...and the handler still checks their values. */
	freq_init(&fr, HTTP_GET, "/api/v1/ports/p0/captures");
	freq_query(&fr, "limit", "0");
	json_decref(assert_problem(run(fx, &fr), 400, "limit"));
	/* A parameter of another method of the same route is not this one's. */
	freq_init(&fr, HTTP_DELETE, "/api/v1/ports/p0/captures");
	freq_query(&fr, "after", "0");
	json_decref(assert_problem(run(fx, &fr), 400, "query.after"));
}

/* 404 and 405 come first; OPTIONS answers whatever the query. */
static void test_query_check_order(void **state)
{
	struct api_fx *fx = *state;
	struct fake_req fr;

	freq_init(&fr, HTTP_GET, "/nosuch");
	freq_query(&fr, "foo", "1");
	assert_int_equal(run(fx, &fr)->status, 404);
	freq_init(&fr, HTTP_DELETE, "/healthz");
	freq_query(&fr, "foo", "1");
	assert_int_equal(run(fx, &fr)->status, 405);
	freq_init(&fr, HTTP_OPTIONS, "/api/v1/ports");
	freq_query(&fr, "foo", "1");
	assert_int_equal(run(fx, &fr)->status, 204);
}

static void test_query_table(void **state)
{
	(void)state;
	assert_int_equal(api_query_table_check(), 0);
}

#define T(name) \
	cmocka_unit_test_prestate_setup_teardown(name, api_fx_setup, api_fx_teardown, &fx_spec)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_port_three_bad_fields),
		T(test_port_missing_and_bad),
		T(test_one_bad_field_one_error),
		T(test_errors_bounded),
		T(test_binding_bad_fields),
		T(test_reply_addresses_listed),
		T(test_no_field_no_errors),
		T(test_unknown_query_refused),
		T(test_unknown_query_changes_nothing),
		T(test_repeated_query_refused),
		T(test_known_query_passes),
		T(test_query_check_order),
		T(test_query_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
