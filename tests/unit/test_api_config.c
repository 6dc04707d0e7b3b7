// SPDX-License-Identifier: MIT
/*
 * Unit tests of api/config.c through api_handle() on fake requests, the
 * memory port I/O and a state file in a scratch directory: GET's document
 * and ETag, If-None-Match (304), ?dry_run=true (the plan, no change),
 * an apply (changed, Paird-Changed, a new ETag), the same again (no
 * change, same ETag), a stale If-Match (412, before the body is read), an
 * invalid document (422 with every item in errors), a bad dry_run (400)
 * and a refusal halfway (the problem names the item, rolled_back lists
 * the undone steps).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../service/config.h"
#include "../../service/filtercheck.h"
#include "../../service/h_capture.h"
#include "../../service/log.h"
#include "../../service/portset.h"
#include "../fakes/portio_mem.h"
#include "support.h"

struct fx {
	struct api_fx a;
	char etag[32];
};
_Static_assert(offsetof(struct fx, a) == 0, "api_fx_setup() makes the fixture");

static struct api_fx_spec fx_spec = { sizeof(struct fx), 8 };

/* A request over the Unix socket; @if_match and @query (dry_run's value) may be NULL. */
static struct response *call(struct fx *fx, enum http_method m, const char *body,
			     const char *if_match, const char *dry_run)
{
	struct fake_req fr;

	freq_init(&fr, m, "/api/v1/config");
	fr.rq.via = REQ_VIA_UNIX;
	if (body)
		freq_body(&fr, "application/json", body);
	if (if_match)
		freq_header(&fr, m == HTTP_GET ? "If-None-Match" : "If-Match", if_match);
	if (dry_run)
		freq_query(&fr, "dry_run", dry_run);
	return api_fx_run(&fx->a, &fr);
}

static const char doc[] = "{\"ports\":{\"t0\":{\"type\":\"tap\",\"mtu\":1400,"
			  "\"addresses\":[\"198.18.0.1/24\"],\"bindings\":{\"dns\":{\"match\":"
			  "{\"ethertype\":2048,\"ip_protocol\":17,\"udp_port\":53},"
			  "\"handler\":\"capture\"}}},\"u0\":{\"type\":\"tun\"}}}";

static void keep_etag(struct fx *fx)
{
	const char *e = resp_header(&fx->a.rs, "ETag");

	assert_non_null(e);
	snprintf(fx->etag, sizeof(fx->etag), "%s", e);
}

static void test_get_and_304(void **state)
{
	struct fx *fx = *state;
	json_t *j;

	expect_status(call(fx, HTTP_GET, NULL, NULL, NULL), 200);
	keep_etag(fx);
	j = resp_json(&fx->a.rs);
	assert_int_equal(json_object_size(json_object_get(j, "ports")), 0);
	json_decref(j);
	expect_status(call(fx, HTTP_GET, NULL, fx->etag, NULL), 304);
	assert_string_equal(resp_header(&fx->a.rs, "ETag"), fx->etag);
}

static void test_dry_run_apply_again(void **state)
{
	struct fx *fx = *state;
	char first[32];
	json_t *j;

	expect_status(call(fx, HTTP_GET, NULL, NULL, NULL), 200);
	keep_etag(fx);
	snprintf(first, sizeof(first), "%s", fx->etag);

	expect_status(call(fx, HTTP_PUT, doc, NULL, "true"), 200);
	j = resp_json(&fx->a.rs);
	assert_true(json_is_true(json_object_get(j, "dry_run")));
	assert_true(json_is_false(json_object_get(j, "changed")));
	assert_int_equal(json_array_size(json_object_get(j, "actions")), 3);
	json_decref(j);
	assert_string_equal(resp_header(&fx->a.rs, "ETag"), first);
	assert_string_equal(resp_header(&fx->a.rs, "Paird-Changed"), "false");
	assert_false(memio_device_exists(fx->a.m, "t0"));

	expect_status(call(fx, HTTP_PUT, doc, first, NULL), 200);
	j = resp_json(&fx->a.rs);
	assert_true(json_is_true(json_object_get(j, "changed")));
	json_decref(j);
	assert_string_equal(resp_header(&fx->a.rs, "Paird-Changed"), "true");
	keep_etag(fx);
	assert_string_not_equal(fx->etag, first);
	assert_true(memio_device_exists(fx->a.m, "t0"));
	assert_int_equal(memio_link(fx->a.m, "t0")->mtu, 1400);

	expect_status(call(fx, HTTP_PUT, doc, NULL, NULL), 200);
	j = resp_json(&fx->a.rs);
	assert_true(json_is_false(json_object_get(j, "changed")));
	assert_int_equal(json_array_size(json_object_get(j, "actions")), 0);
	json_decref(j);
	assert_string_equal(resp_header(&fx->a.rs, "ETag"), fx->etag);

	/* The ETag the client had before the change is stale now: 412, nothing done. */
	expect_status(call(fx, HTTP_PUT, "{\"ports\":{}}", first, NULL), 412);
	json_decref(assert_problem(&fx->a.rs, 412, NULL));
	assert_true(memio_device_exists(fx->a.m, "t0"));
	/* Checked before the body: even a body that is not JSON gets the 412. */
	expect_status(call(fx, HTTP_PUT, "{", first, NULL), 412);
}

static void test_invalid_lists_every_item(void **state)
{
	struct fx *fx = *state;
	json_t *j, *errors;

	expect_status(call(fx, HTTP_PUT,
			   "{\"ports\":{\"a\":{\"type\":\"tap\",\"mtu\":1},"
			   "\"b\":{\"type\":\"nope\"},\"c\":{\"type\":\"tap\",\"bindings\":"
			   "{\"x\":{\"match\":{},\"handler\":\"forward\",\"options\":"
			   "{\"port\":\"gone\"}}}}}}",
			   NULL, NULL),
		      422);
	j = assert_problem(&fx->a.rs, 422, "ports.a.mtu");
	errors = json_object_get(j, "errors");
	assert_int_equal(json_array_size(errors), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(errors, 1), "field")),
			    "ports.b.type");
	assert_string_equal(json_string_value(json_object_get(json_array_get(errors, 2), "field")),
			    "ports.c.bindings.x.options.port");
	json_decref(j);
	assert_int_equal(portset_count(fx->a.ps), 0);

	expect_status(call(fx, HTTP_PUT, doc, NULL, "perhaps"), 400);
	json_decref(assert_problem(&fx->a.rs, 400, "query.dry_run"));
	assert_int_equal(portset_count(fx->a.ps), 0);
}

static void test_refusal_names_item_and_rolls_back(void **state)
{
	struct fx *fx = *state;
	json_t *j, *rb;

	static const char *const grow =
		"{\"ports\":{\"t0\":{\"type\":\"tap\",\"mtu\":1400,"
		"\"addresses\":[\"198.18.0.1/24\"]},\"u0\":{\"type\":\"tun\"},"
		"\"x0\":{\"type\":\"tap\"},\"x1\":{\"type\":\"tap\"}}}";
	unsigned ops;

	expect_status(call(fx, HTTP_PUT, doc, NULL, NULL), 200);
	/*
	 * x1's name is taken by a device paird did not make: refused before any
	 * step (the plan asks the kernel), the dry run too, nothing to roll back.
	 */
	assert_int_equal(memio_device_add(fx->a.m, "x1", false, true), 0);
	ops = memio_calls(fx->a.m, MEMIO_OPEN);
	expect_status(call(fx, HTTP_PUT, grow, NULL, "true"), 409);
	expect_status(call(fx, HTTP_PUT, grow, NULL, NULL), 409);
	j = assert_problem(&fx->a.rs, 409, "ports.x1.name");
	assert_null(json_object_get(j, "rolled_back"));
	json_decref(j);
	assert_int_equal(memio_calls(fx->a.m, MEMIO_OPEN), ops);
	assert_false(memio_device_exists(fx->a.m, "x0"));
	assert_int_equal(memio_device_delete(fx->a.m, "x1"), 0);
	/* A refusal halfway (x1's open) undoes what was done, in reverse. */
	memio_inject(fx->a.m, MEMIO_OPEN, 0);
	memio_inject(fx->a.m, MEMIO_OPEN, EMFILE);
	expect_status(call(fx, HTTP_PUT, grow, NULL, NULL), 503);
	j = assert_problem(&fx->a.rs, 503, "ports.x1");
	rb = json_object_get(j, "rolled_back");
	assert_int_equal(json_array_size(rb), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(rb, 0), "port")),
			    "x0");
	assert_string_equal(json_string_value(json_object_get(json_array_get(rb, 1), "op")),
			    "remove_binding");
	json_decref(j);
	assert_false(memio_device_exists(fx->a.m, "x0"));
	assert_int_equal(portset_count(fx->a.ps), 2);
}

/* A clock on which every compile takes 100 ms: each read is 100 ms after the last. */
static uint64_t fake_ns;

static uint64_t slow_clock(void)
{
	fake_ns += 100 * 1000000ull;
	return fake_ns;
}

/*
 * A document of one tap port (with @port_extra members) and @n capture
 * bindings c0.., each with the filter @pre, or, when @post is not NULL,
 * @pre, the binding's number and @post (distinct filters); malloc'ed.
 */
static char *capture_doc(unsigned n, const char *pre, const char *post, const char *port_extra)
{
	size_t cap = 256 + (size_t)n * (112 + strlen(pre) + (post ? strlen(post) : 0)), len;
	char *d = malloc(cap), f[600];

	assert_non_null(d);
	len = (size_t)snprintf(d, cap, "{\"ports\":{\"t0\":{\"type\":\"tap\"%s,\"bindings\":{",
			       port_extra);
	for (unsigned i = 0; i < n; i++) {
		if (post)
			snprintf(f, sizeof(f), "%s%u%s", pre, i, post);
		else
			snprintf(f, sizeof(f), "%s", pre);
		len += (size_t)snprintf(d + len, cap - len,
					"%s\"c%u\":{\"match\":{},\"handler\":\"capture\","
					"\"options\":{\"filter\":\"%s\"}}",
					i ? "," : "", i, f);
	}
	snprintf(d + len, cap - len, "}}}}");
	return d;
}

/*
 * Bug: every binding's filter was compiled as it was read, on the loop, at
 * no bound (300 filters of ~28 ms each: the data plane stopped for 7 s).
 * Now a filter used by many bindings is compiled once, and the compile
 * time the bindings add up to is held to FILTER_CHECK_BUDGET_MS: on a
 * clock where each compile takes 100 ms, 10 bindings pass and 11 are a
 * 422 naming the 11th, nothing changed. Before: 10 compiles, then 200.
 */
static void test_filter_budget(void **state)
{
	struct fx *fx = *state;
	uint64_t before;
	json_t *j;
	char *d;

	filter_check_set_clock(slow_clock);
	d = capture_doc(10, "udp", NULL, "");
	before = capture_filter_compiles();
	expect_status(call(fx, HTTP_PUT, d, NULL, "true"), 200);
	assert_int_equal(capture_filter_compiles() - before, 1);
	free(d);

	d = capture_doc(11, "udp", NULL, "");
	before = capture_filter_compiles();
	expect_status(call(fx, HTTP_PUT, d, NULL, NULL), 422);
	assert_int_equal(capture_filter_compiles() - before, 1);
	j = assert_problem_of(&fx->a.rs, 422, "invalid-field",
			      "ports.t0.bindings.c10.options.filter");
	assert_non_null(strstr(json_string_value(json_object_get(j, "detail")),
			       "cost too much to compile"));
	json_decref(j);
	assert_int_equal(portset_count(fx->a.ps), 0);
	free(d);

	/* Distinct filters: each compiled, each charged; the 11th is over. */
	d = capture_doc(20, "udp port ", "", "");
	before = capture_filter_compiles();
	expect_status(call(fx, HTTP_PUT, d, NULL, "true"), 422);
	assert_int_equal(capture_filter_compiles() - before, 11);
	json_decref(assert_problem(&fx->a.rs, 422, "ports.t0.bindings.c10.options.filter"));
	free(d);
	filter_check_set_clock(NULL);

	/* On the real clock a realistic set is far within it, and applies. */
	d = capture_doc(200, "udp port ", " or icmp", "");
	expect_status(call(fx, HTTP_PUT, d, NULL, NULL), 200);
	assert_int_equal(portset_count(fx->a.ps), 1);
	free(d);
}

/*
 * Everything cheap is checked before any filter is compiled: a document
 * with an invalid port, or over --max-ports or --max-bindings, is refused
 * with no compile. Before: each filter compiled first (the invalid
 * document cost as much as the valid one), and the counts were only met
 * halfway through an apply.
 */
static void test_cheap_checks_first(void **state)
{
	struct fx *fx = *state;
	uint64_t before = capture_filter_compiles();
	char *d, *big;
	size_t cap, len;
	json_t *j;

	d = capture_doc(5, "udp port ", "", ",\"mtu\":1");
	expect_status(call(fx, HTTP_PUT, d, NULL, "true"), 422);
	json_decref(assert_problem(&fx->a.rs, 422, "ports.t0.mtu"));
	free(d);
	/* A bad filter among them is not even looked at. */
	d = capture_doc(5, "udp port ", " (", ",\"mtu\":1");
	expect_status(call(fx, HTTP_PUT, d, NULL, "true"), 422);
	j = assert_problem(&fx->a.rs, 422, "ports.t0.mtu");
	assert_int_equal(json_array_size(json_object_get(j, "errors")), 1);
	json_decref(j);
	free(d);
	assert_int_equal(capture_filter_compiles(), before);

	/* More ports than --max-ports (8 here): 409 before a port is read. */
	cap = 64 + 9 * 160;
	big = malloc(cap);
	assert_non_null(big);
	len = (size_t)snprintf(big, cap, "{\"ports\":{");
	for (unsigned i = 0; i < 9; i++)
		len += (size_t)snprintf(big + len, cap - len,
					"%s\"p%u\":{\"type\":\"tap\",\"bindings\":{\"c\":"
					"{\"match\":{},\"handler\":\"capture\",\"options\":"
					"{\"filter\":\"udp port %u\"}}}}",
					i ? "," : "", i, i);
	snprintf(big + len, cap - len, "}}");
	expect_status(call(fx, HTTP_PUT, big, NULL, "true"), 409);
	j = assert_problem_of(&fx->a.rs, 409, "limit-reached", "ports");
	json_decref(j);
	free(big);
	assert_int_equal(capture_filter_compiles(), before);
	assert_int_equal(portset_count(fx->a.ps), 0);
}

/*
 * Bug: a body of values that is no document ([0,0,...], or an object of
 * millions of them) was parsed whole, ~20 times its size, before being
 * refused. Now what does not start with '{' is a 400 unparsed, and a body
 * of more values than the largest document the limits allow is a 413.
 * Before: {"ports":{},"x":[0,...]} was parsed and answered 422 (unknown
 * field x).
 */
static void test_values_bound(void **state)
{
	struct fx *fx = *state;
	size_t n = config_values_max(8, PORTSET_DEFAULT_MAX_BINDINGS) + 1;
	size_t cap = 32 + 2 * n, len;
	char *d = malloc(cap);
	json_t *j;

	assert_non_null(d);
	len = (size_t)snprintf(d, cap, "{\"ports\":{},\"x\":[0");
	for (size_t i = 1; i < n; i++) {
		d[len++] = ',';
		d[len++] = '0';
	}
	snprintf(d + len, cap - len, "]}");
	expect_status(call(fx, HTTP_PUT, d, NULL, "true"), 413);
	j = assert_problem_of(&fx->a.rs, 413, "body-too-large", "");
	json_decref(j);
	/* Commas inside strings are no values. */
	len = (size_t)snprintf(d, cap, "{\"ports\":{},\"x\":\"");
	memset(d + len, ',', n);
	snprintf(d + len + n, cap - len - n, "\"}");
	expect_status(call(fx, HTTP_PUT, d, NULL, "true"), 422);
	json_decref(assert_problem(&fx->a.rs, 422, "x"));
	free(d);

	expect_status(call(fx, HTTP_PUT, " \r\n\t[0,0,0]", NULL, "true"), 400);
	json_decref(assert_problem(&fx->a.rs, 400, ""));
	expect_status(call(fx, HTTP_PUT, "0", NULL, "true"), 400);
	assert_int_equal(portset_count(fx->a.ps), 0);
}

#define T(name) \
	cmocka_unit_test_prestate_setup_teardown(name, api_fx_setup, api_fx_teardown, &fx_spec)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_get_and_304),
		T(test_dry_run_apply_again),
		T(test_invalid_lists_every_item),
		T(test_refusal_names_item_and_rolls_back),
		T(test_filter_budget),
		T(test_cheap_checks_first),
		T(test_values_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
