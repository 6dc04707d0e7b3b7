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

	expect_status(call(fx, HTTP_PUT, doc, NULL, NULL), 200);
	/* x1's name is taken by a device paird did not make. */
	assert_int_equal(memio_device_add(fx->a.m, "x1", false, true), 0);
	expect_status(call(fx, HTTP_PUT,
			   "{\"ports\":{\"t0\":{\"type\":\"tap\",\"mtu\":1400,"
			   "\"addresses\":[\"198.18.0.1/24\"]},\"u0\":{\"type\":\"tun\"},"
			   "\"x0\":{\"type\":\"tap\"},\"x1\":{\"type\":\"tap\"}}}",
			   NULL, NULL),
		      409);
	j = assert_problem(&fx->a.rs, 409, "ports.x1.name");
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

#define T(name) \
	cmocka_unit_test_prestate_setup_teardown(name, api_fx_setup, api_fx_teardown, &fx_spec)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_get_and_304),
		T(test_dry_run_apply_again),
		T(test_invalid_lists_every_item),
		T(test_refusal_names_item_and_rolls_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
