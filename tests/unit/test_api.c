// SPDX-License-Identifier: MIT
/*
 * Unit tests of api/ through api_handle() and api_precheck() with fake
 * requests (support.h) over a port set on the memory port I/O: routing
 * (404, 405 + Allow, OPTIONS, HEAD), bodies (413, 415, 400, 422 naming the
 * field), the port resource (POST, GET, PUT, PATCH, DELETE and their
 * statuses), kernel and state-file faults as problems, that a refused
 * request changes nothing, and the security checks (Host allow-list,
 * Origin, Sec-Fetch-Site, bearer token). Every response body is parsed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../service/log.h"
#include "../../service/port.h"
#include "../fakes/portio_mem.h"
#include "../../service/portset.h"
#include "../../service/secret.h"
#include "../../service/stack.h"
#include "support.h"

#define TOKEN "0123456789abcdef-secret"

struct fx {
	struct api_fx a;
	char *tmp; /* the state file's temporary name */
	const char *allow[4];
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	api_fx_init(&fx->a, 4);
	fx->tmp = path_join(fx->a.dir, "state.json.tmp");
	fx->a.cfg.allow_hosts = fx->allow;
	api_fx_start(&fx->a);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	api_fx_fini(&fx->a);
	free(fx->tmp);
	free(fx);
	api_set_clock(NULL); /* a test that injected a clock and failed midway */
	return 0;
}

/* A request with the Host a local client sends. */
static void req(struct fake_req *fr, enum http_method m, const char *path)
{
	freq_init(fr, m, path);
	freq_header(fr, "Host", "127.0.0.1:8080");
}

/* Runs @fr; the response is fx->a.rs until the next call. */
static struct response *run(struct fx *fx, struct fake_req *fr)
{
	struct response *rs = api_fx_run(&fx->a, fr);

	/* The router's captures must not outlive the call. */
	assert_null(fr->rq.params[0]);
	return rs;
}

static struct response *call(struct fx *fx, enum http_method m, const char *path, const char *ct,
			     const char *body)
{
	struct fake_req fr;

	req(&fr, m, path);
	freq_body(&fr, ct, body);
	return run(fx, &fr);
}

static struct response *get(struct fx *fx, const char *path)
{
	return call(fx, HTTP_GET, path, NULL, NULL);
}

/* Asserts a problem of @status whose type ends in @slug; @field as in assert_problem(). */
static void expect_problem(const struct response *rs, int status, const char *slug,
			   const char *field)
{
	json_decref(assert_problem_of(rs, status, slug, field));
}

static json_t *create(struct fx *fx, const char *body)
{
	struct response *rs = call(fx, HTTP_POST, "/api/v1/ports", "application/json", body);

	expect_status(rs, 201);
	return resp_json(rs);
}

/* Everything a refused request must leave alone. */
struct snapshot {
	char *list, *state;
	unsigned opens, link_sets, addr_sets;
};

static void snap(struct fx *fx, struct snapshot *s)
{
	struct response *rs = get(fx, "/api/v1/ports");

	expect_status(rs, 200);
	s->list = strdup(resp_text(rs));
	s->state = file_read(fx->a.path, NULL);
	assert_non_null(s->state);
	s->opens = memio_calls(fx->a.m, MEMIO_OPEN);
	s->link_sets = memio_calls(fx->a.m, MEMIO_LINK_SET);
	s->addr_sets = memio_calls(fx->a.m, MEMIO_ADDR_SET);
}

static void snap_same(struct fx *fx, struct snapshot *before)
{
	struct snapshot after;

	snap(fx, &after);
	assert_string_equal(before->list, after.list);
	assert_string_equal(before->state, after.state);
	assert_int_equal(before->opens, after.opens);
	free(after.list);
	free(after.state);
}

static void snap_free(struct snapshot *s)
{
	free(s->list);
	free(s->state);
}

/* --- routing --- */

static void test_not_found(void **state)
{
	static const char *const paths[] = {
		"/nope",	  "/api/v1/nope",
		"/api/v1/ports/", "/api/v1/ports/p0/x",
		"/api/v1",	  "/api/v1/ports//",
		"/healthz/x",	  "/index.htmlx",
		"/api/v2/ports",  "",
	};
	struct fx *fx = *state;

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct response *rs = get(fx, paths[i]);
		json_t *doc;

		expect_problem(rs, 404, "not-found", "");
		doc = resp_json(rs);
		assert_string_equal(json_string_value(json_object_get(doc, "instance")), paths[i]);
		json_decref(doc);
	}
	/* A port that does not exist, and a name no port can have. */
	expect_problem(get(fx, "/api/v1/ports/p0"), 404, "not-found", NULL);
	expect_problem(get(fx, "/api/v1/ports/a%25b"), 404, "not-found", NULL);
	expect_problem(get(fx, "/api/v1/ports/.."), 404, "not-found", NULL);
	expect_problem(call(fx, HTTP_DELETE, "/api/v1/ports/p0", NULL, NULL), 404, "not-found",
		       NULL);
}

/*
 * MHD hands over the path percent-decoded: "%ff" arrives as the byte 0xff.
 * Problems stay valid JSON with every member; bad bytes are shown as "\xNN".
 */
static void test_not_utf8(void **state)
{
	static const struct {
		const char *path, *detail, *instance;
	} cases[] = {
		/* "%ff" in the URL, which once lost the whole detail member. */
		{ "/api/v1/ports/\xff", "no port named \\xff", "/api/v1/ports/\\xff" },
		{ "/api/v1/ports/caf\xc3\xa9\xc3", "no port named caf\xc3\xa9\\xc3",
		  "/api/v1/ports/caf\xc3\xa9\\xc3" },
		{ "/api/v1/ports/\xed\xa0\x80/bindings", "no port named \\xed\\xa0\\x80",
		  "/api/v1/ports/\\xed\\xa0\\x80/bindings" },
		{ "/\xc0\xaf", "no resource at this path", "/\\xc0\\xaf" },
	};
	struct fx *fx = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct response *rs = get(fx, cases[i].path);
		json_t *doc;

		/* assert_problem() parses the body and insists on a detail. */
		expect_problem(rs, 404, "not-found", NULL);
		doc = resp_json(rs);
		/* A prefix: the detail goes on to say why the name is not one. */
		if (strncmp(json_string_value(json_object_get(doc, "detail")), cases[i].detail,
			    strlen(cases[i].detail)) != 0)
			fail_msg("detail %s, expected it to start with %s",
				 json_string_value(json_object_get(doc, "detail")),
				 cases[i].detail);
		assert_string_equal(json_string_value(json_object_get(doc, "instance")),
				    cases[i].instance);
		json_decref(doc);
	}
}

static void test_method_not_allowed(void **state)
{
	struct fx *fx = *state;
	struct response *rs;
	const char *allow;

	rs = call(fx, HTTP_DELETE, "/api/v1/ports", NULL, NULL);
	expect_problem(rs, 405, "method-not-allowed", "");
	allow = resp_header(rs, "Allow");
	assert_non_null(allow);
	assert_true(list_has(allow, "GET") && list_has(allow, "HEAD") && list_has(allow, "POST"));
	assert_false(list_has(allow, "DELETE") || list_has(allow, "PUT"));

	rs = call(fx, HTTP_POST, "/api/v1/ports/p0", "application/json", "{\"type\":\"tap\"}");
	expect_problem(rs, 405, "method-not-allowed", "");
	allow = resp_header(rs, "Allow");
	assert_non_null(allow);
	assert_true(list_has(allow, "GET") && list_has(allow, "HEAD") && list_has(allow, "PUT") &&
		    list_has(allow, "PATCH") && list_has(allow, "DELETE"));
	assert_false(list_has(allow, "POST"));
	assert_int_equal(portset_count(fx->a.ps), 0);

	rs = call(fx, HTTP_OTHER, "/api/v1/ports", NULL, NULL);
	expect_problem(rs, 405, "method-not-allowed", "");
	assert_non_null(resp_header(rs, "Allow"));

	rs = call(fx, HTTP_POST, "/healthz", "application/json", "{}");
	expect_problem(rs, 405, "method-not-allowed", "");
	allow = resp_header(rs, "Allow");
	assert_true(list_has(allow, "GET") && list_has(allow, "HEAD"));
	assert_false(list_has(allow, "POST"));

	rs = call(fx, HTTP_PUT, "/index.html", "application/json", "{}");
	expect_problem(rs, 405, "method-not-allowed", "");
	assert_string_equal(resp_header(rs, "Allow"), "GET, HEAD");
}

static void test_options(void **state)
{
	struct fx *fx = *state;
	struct response *rs;
	const char *allow;

	rs = call(fx, HTTP_OPTIONS, "/api/v1/ports", NULL, NULL);
	expect_status(rs, 204);
	assert_int_equal(rs->len, 0);
	allow = resp_header(rs, "Allow");
	assert_non_null(allow);
	assert_true(list_has(allow, "GET") && list_has(allow, "HEAD") && list_has(allow, "POST") &&
		    list_has(allow, "OPTIONS"));
	assert_false(list_has(allow, "DELETE"));

	rs = call(fx, HTTP_OPTIONS, "/api/v1/ports/p0", NULL, NULL);
	expect_status(rs, 204);
	allow = resp_header(rs, "Allow");
	assert_true(list_has(allow, "PUT") && list_has(allow, "PATCH") &&
		    list_has(allow, "DELETE") && list_has(allow, "OPTIONS"));

	rs = call(fx, HTTP_OPTIONS, "/nope", NULL, NULL);
	expect_problem(rs, 404, "not-found", "");
}

static void test_head(void **state)
{
	struct fx *fx = *state;
	struct response *rs;

	rs = call(fx, HTTP_HEAD, "/healthz", NULL, NULL);
	expect_status(rs, 200);
	rs = call(fx, HTTP_HEAD, "/api/v1/ports", NULL, NULL);
	expect_status(rs, 200);
	rs = call(fx, HTTP_HEAD, "/api/v1/ports/p0", NULL, NULL);
	expect_problem(rs, 404, "not-found", NULL);
}

static void test_healthz_and_assets(void **state)
{
	static const struct {
		const char *path, *type;
	} assets[] = {
		{ "/", "text/html; charset=utf-8" },
		{ "/index.html", "text/html; charset=utf-8" },
		{ "/app.js", "text/javascript; charset=utf-8" },
		{ "/style.css", "text/css; charset=utf-8" },
		{ "/openapi.yaml", "application/yaml" },
	};
	struct fx *fx = *state;
	struct response *rs = get(fx, "/healthz");
	json_t *doc;

	expect_status(rs, 200);
	assert_string_equal(rs->content_type, "application/json");
	doc = resp_json(rs);
	assert_string_equal(json_string_value(json_object_get(doc, "status")), "ok");
	assert_true(json_is_string(json_object_get(doc, "version")));
	assert_true(json_is_string(json_object_get(doc, "started")));
	assert_true(json_integer_value(json_object_get(doc, "uptime_seconds")) >= 0);
	assert_int_equal(json_integer_value(json_object_get(doc, "ports")), 0);
	json_decref(doc);

	for (size_t i = 0; i < sizeof(assets) / sizeof(assets[0]); i++) {
		rs = get(fx, assets[i].path);
		expect_status(rs, 200);
		assert_string_equal(rs->content_type, assets[i].type);
		assert_true(rs->len > 0);
		assert_non_null(rs->static_body);
	}
	rs = get(fx, "/");
	assert_non_null(memmem(rs->static_body, rs->len, "<html", 5));
}

static json_t *health(struct fx *fx)
{
	struct response *rs = get(fx, "/healthz");

	/* 200 all the same: a liveness probe must not restart paird for a port. */
	expect_status(rs, 200);
	return resp_json(rs);
}

/* Ports in state error or gone make /healthz say "degraded" and name them. */
static void test_healthz_degraded(void **state)
{
	struct fx *fx = *state;
	struct link_state ls;
	json_t *doc, *failed, *e;
	struct port *p;

	json_decref(create(fx, "{\"name\":\"p0\",\"type\":\"tap\"}"));
	json_decref(create(fx, "{\"name\":\"p1\",\"type\":\"tap\"}"));
	json_decref(create(fx, "{\"name\":\"p2\",\"type\":\"tap\",\"up\":false}"));
	doc = health(fx);
	assert_string_equal(json_string_value(json_object_get(doc, "status")), "ok");
	assert_int_equal(json_array_size(json_object_get(doc, "failed_ports")), 0);
	json_decref(doc);

	/* p0's reads fail: state error. */
	p = portset_find(fx->a.ps, "p0");
	memio_inject(fx->a.m, MEMIO_READ, EIO);
	port_read_ready(p);
	assert_int_equal(port_state(p), PORT_STATE_ERROR);
	doc = health(fx);
	assert_string_equal(json_string_value(json_object_get(doc, "status")), "degraded");
	assert_int_equal(json_integer_value(json_object_get(doc, "ports")), 3);
	failed = json_object_get(doc, "failed_ports");
	assert_int_equal(json_array_size(failed), 1);
	e = json_array_get(failed, 0);
	assert_string_equal(json_string_value(json_object_get(e, "name")), "p0");
	assert_string_equal(json_string_value(json_object_get(e, "state")), "error");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(e, "last_error"), "errno_name")),
		"EIO");
	json_decref(doc);

	/* p1's interface is deleted behind paird's back: gone. A down port is fine. */
	ls = *port_link(portset_find(fx->a.ps, "p1"));
	portset_link_event(fx->a.ps, &ls, true);
	doc = health(fx);
	failed = json_object_get(doc, "failed_ports");
	assert_int_equal(json_array_size(failed), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(failed, 1), "name")),
			    "p1");
	assert_string_equal(json_string_value(json_object_get(json_array_get(failed, 1), "state")),
			    "gone");
	json_decref(doc);

	/* Deleting the broken ports makes paird healthy again. */
	expect_status(call(fx, HTTP_DELETE, "/api/v1/ports/p0", NULL, NULL), 204);
	expect_status(call(fx, HTTP_DELETE, "/api/v1/ports/p1", NULL, NULL), 204);
	doc = health(fx);
	assert_string_equal(json_string_value(json_object_get(doc, "status")), "ok");
	json_decref(doc);
}

/* Every JSON body, problems included, ends with one newline (curl users' prompts). */
static void test_json_newline(void **state)
{
	struct fx *fx = *state;
	struct response *rs;
	const struct {
		enum http_method m;
		const char *path, *body;
		int status;
	} cases[] = {
		{ HTTP_GET, "/healthz", NULL, 200 },
		{ HTTP_POST, "/api/v1/ports", "{\"name\":\"p0\",\"type\":\"tap\"}", 201 },
		{ HTTP_GET, "/api/v1/ports", NULL, 200 },
		{ HTTP_GET, "/api/v1/ports/p0", NULL, 200 },
		{ HTTP_GET, "/api/v1/ports/p1", NULL, 404 },
		{ HTTP_DELETE, "/healthz", NULL, 405 },
		{ HTTP_POST, "/api/v1/ports", "{", 400 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *text;

		rs = call(fx, cases[i].m, cases[i].path, cases[i].body ? "application/json" : NULL,
			  cases[i].body);
		expect_status(rs, cases[i].status);
		assert_true(strcmp(rs->content_type, "application/json") == 0 ||
			    strcmp(rs->content_type, "application/problem+json") == 0);
		text = resp_text(rs);
		assert_int_equal(rs->len, strlen(text));
		if (rs->len < 2 || text[rs->len - 1] != '\n' || text[rs->len - 2] == '\n')
			fail_msg("%s: body does not end in one newline: %s", cases[i].path, text);
		json_decref(resp_json(rs));
	}
}

/* --- bodies --- */

static void test_too_large(void **state)
{
	struct fx *fx = *state;
	struct fake_req fr;
	struct response rs;

	req(&fr, HTTP_POST, "/api/v1/ports");
	freq_body(&fr, "application/json", "{\"name\":\"p0\",\"type\":\"tap\"}");
	fr.rq.body_too_large = true;
	expect_problem(run(fx, &fr), 413, "body-too-large", "");
	assert_int_equal(portset_count(fx->a.ps), 0);

	/* Refused on the headers alone, before a byte of the body is read. */
	req(&fr, HTTP_POST, "/api/v1/ports");
	freq_header(&fr, "Content-Length", "65537");
	memset(&rs, 0, sizeof(rs));
	assert_true(api_precheck(fx->a.api, &fr.rq, &rs));
	expect_problem(&rs, 413, "body-too-large", "");
	response_fini(&rs);
	expect_problem(run(fx, &fr), 413, "body-too-large", "");

	freq_header(&fr, "Content-Length", "99999999999999999999999999");
	memset(&rs, 0, sizeof(rs));
	assert_true(api_precheck(fx->a.api, &fr.rq, &rs));
	expect_problem(&rs, 413, "body-too-large", "");
	response_fini(&rs);

	freq_header(&fr, "Content-Length", "65536");
	memset(&rs, 0, sizeof(rs));
	assert_false(api_precheck(fx->a.api, &fr.rq, &rs));
	assert_int_equal(rs.status, 0);
	response_fini(&rs);
}

/*
 * The 413's words name the limit on both paths that refuse: API_BODY_MAX,
 * and API_CONFIG_BODY_MAX for the whole-config document, which must take
 * whatever GET /api/v1/config answers.
 */
static void test_too_large_detail(void **state)
{
	struct fx *fx = *state;
	struct response rs;
	struct fake_req fr;
	char big[24];
	json_t *doc;

	req(&fr, HTTP_POST, "/api/v1/ports");
	fr.rq.body_too_large = true;
	doc = resp_json(run(fx, &fr));
	assert_string_equal(json_string_value(json_object_get(doc, "detail")),
			    "request bodies to this resource are limited to 65536 bytes");
	json_decref(doc);
	req(&fr, HTTP_POST, "/api/v1/ports");
	freq_header(&fr, "Content-Length", "65537");
	doc = resp_json(run(fx, &fr));
	assert_string_equal(json_string_value(json_object_get(doc, "detail")),
			    "request bodies to this resource are limited to 65536 bytes");
	json_decref(doc);

	/* The config document may be larger, up to its own limit. */
	assert_int_equal(api_body_max("/api/v1/config"), API_CONFIG_BODY_MAX);
	assert_int_equal(api_body_max("/api/v1/config/"), API_BODY_MAX);
	req(&fr, HTTP_PUT, "/api/v1/config");
	freq_header(&fr, "Content-Length", "65537");
	memset(&rs, 0, sizeof(rs));
	assert_false(api_precheck(fx->a.api, &fr.rq, &rs));
	response_fini(&rs);
	snprintf(big, sizeof(big), "%d", API_CONFIG_BODY_MAX + 1);
	req(&fr, HTTP_PUT, "/api/v1/config");
	freq_header(&fr, "Content-Length", big);
	doc = resp_json(run(fx, &fr));
	assert_string_equal(json_string_value(json_object_get(doc, "detail")),
			    "request bodies to this resource are limited to 16777216 bytes");
	json_decref(doc);
}

/*
 * The HTTP layer runs api_precheck() when the headers arrive and says so:
 * api_handle() does not run it again. A caller that did not (a test, a
 * fuzzer) gets it from api_handle().
 */
static void test_precheck_once(void **state)
{
	struct fx *fx = *state;
	struct fake_req fr;

	req(&fr, HTTP_GET, "/api/v1/ports");
	freq_header(&fr, "Host", "evil.example");
	expect_problem(run(fx, &fr), 403, "host-not-allowed", "");
	req(&fr, HTTP_GET, "/api/v1/ports");
	freq_header(&fr, "Host", "evil.example");
	fr.rq.prechecked = true;
	expect_status(run(fx, &fr), 200);
}

static void test_media_type(void **state)
{
	static const char *const bad[] = {
		"text/plain",
		"application/x-www-form-urlencoded",
		"multipart/form-data",
		"application/jsonx",
		"application/json-seq",
		"application/merge-patch+json",
		"json",
		"",
	};
	struct fx *fx = *state;
	const char *body = "{\"name\":\"p0\",\"type\":\"tap\"}";

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_problem(call(fx, HTTP_POST, "/api/v1/ports", bad[i], body), 415,
			       "unsupported-media-type", "");
	/* No Content-Type at all. */
	expect_problem(call(fx, HTTP_POST, "/api/v1/ports", NULL, body), 415,
		       "unsupported-media-type", "");
	expect_problem(call(fx, HTTP_PUT, "/api/v1/ports/p0", "text/plain", body), 415,
		       "unsupported-media-type", "");
	assert_int_equal(portset_count(fx->a.ps), 0);

	/* Parameters and case do not matter. */
	expect_status(call(fx, HTTP_POST, "/api/v1/ports", "Application/JSON; charset=utf-8", body),
		      201);

	/* PATCH takes merge-patch+json and plain JSON, nothing else. */
	expect_status(call(fx, HTTP_PATCH, "/api/v1/ports/p0", "application/merge-patch+json",
			   "{\"mtu\":1400}"),
		      200);
	expect_status(
		call(fx, HTTP_PATCH, "/api/v1/ports/p0", "application/json", "{\"mtu\":1300}"),
		200);
	expect_problem(call(fx, HTTP_PATCH, "/api/v1/ports/p0", "text/plain", "{\"mtu\":1200}"),
		       415, "unsupported-media-type", "");
	expect_problem(call(fx, HTTP_PATCH, "/api/v1/ports/p0", NULL, "{\"mtu\":1200}"), 415,
		       "unsupported-media-type", "");
	assert_int_equal(memio_link(fx->a.m, "p0")->mtu, 1300);
}

static void test_bad_json(void **state)
{
	static const char *const bad[] = {
		"{",
		"{\"name\":\"p0\",\"name\":\"p1\",\"type\":\"tap\"}",
		"[]",
		"[{\"name\":\"p0\",\"type\":\"tap\"}]",
		"\"p0\"",
		"42",
		"null",
		"",
		"{} x",
		"{\"name\":\"p\\u0000\",\"type\":\"tap\"}",
		"{'name':'p0'}",
		"{\"name\":\"p0\",\"type\":\"tap\",}",
	};
	struct fx *fx = *state;
	struct fake_req fr;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		expect_problem(call(fx, HTTP_POST, "/api/v1/ports", "application/json", bad[i]),
			       400, "malformed-body", NULL);
		expect_problem(call(fx, HTTP_PUT, "/api/v1/ports/p0", "application/json", bad[i]),
			       400, "malformed-body", NULL);
	}
	/* No body at all. */
	req(&fr, HTTP_POST, "/api/v1/ports");
	freq_header(&fr, "Content-Type", "application/json");
	expect_problem(run(fx, &fr), 400, "malformed-body", "");
	assert_int_equal(portset_count(fx->a.ps), 0);
	assert_int_equal(memio_calls(fx->a.m, MEMIO_OPEN), 0);
}

static void test_unprocessable(void **state)
{
	static const struct {
		const char *body, *field;
	} bad[] = {
		{ "{\"name\":\"p0\",\"type\":\"tap\",\"bogus\":1}", "bogus" },
		{ "{\"name\":\"p0\",\"type\":\"tap\",\"mtu\":\"1500\"}", "mtu" },
		{ "{\"name\":\"p0\",\"type\":\"tap\",\"mtu\":1500.0}", "mtu" },
		{ "{\"name\":\"p0\",\"type\":\"tap\",\"mtu\":67}", "mtu" },
		{ "{\"name\":\"p0\",\"type\":\"tap\",\"mtu\":65536}", "mtu" },
		{ "{\"name\":\"p0\",\"type\":\"tun\",\"mac\":\"02:00:00:00:00:01\"}", "mac" },
		{ "{\"name\":\"p0\",\"type\":\"tap\",\"mac\":\"01:00:00:00:00:01\"}", "mac" },
		{ "{\"name\":\"p0\",\"type\":\"tap\",\"addresses\":[\"198.18.0.1/33\"]}",
		  "addresses[0]" },
		{ "{\"name\":\"p0\",\"type\":\"tap\",\"addresses\":\"198.18.0.1/24\"}",
		  "addresses" },
		{ "{\"name\":\"p0\",\"type\":\"tap\",\"up\":1}", "up" },
		{ "{\"name\":\"a%b\",\"type\":\"tap\"}", "name" },
		{ "{\"name\":\"abcdefghijklmnop\",\"type\":\"tap\"}", "name" },
		{ "{\"name\":\"..\",\"type\":\"tap\"}", "name" },
		{ "{\"name\":\"p0\"}", "type" },
		{ "{\"name\":\"p0\",\"type\":\"bridge\"}", "type" },
		{ "{\"type\":\"tap\"}", "name" },
	};
	struct fx *fx = *state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_problem(
			call(fx, HTTP_POST, "/api/v1/ports", "application/json", bad[i].body), 422,
			"invalid-field", bad[i].field);
	assert_int_equal(portset_count(fx->a.ps), 0);
	assert_int_equal(memio_calls(fx->a.m, MEMIO_OPEN), 0);
}

/* --- the port resource --- */

static void test_create_get_list(void **state)
{
	struct fx *fx = *state;
	struct response *rs;
	json_t *doc, *one, *list, *c;
	char *created;

	rs = call(fx, HTTP_POST, "/api/v1/ports", "application/json",
		  "{\"name\":\"p0\",\"type\":\"tap\",\"mtu\":9000,"
		  "\"addresses\":[\"198.18.0.1/24\",\"2001:db8::1/64\"]}");
	expect_status(rs, 201);
	assert_string_equal(rs->content_type, "application/json");
	assert_string_equal(resp_header(rs, "Location"), "/api/v1/ports/p0");
	doc = resp_json(rs);
	assert_string_equal(json_string_value(json_object_get(doc, "name")), "p0");
	assert_true(json_integer_value(json_object_get(doc, "version")) > 0);
	/* What was asked for, every field present: what a PUT takes back. */
	c = json_object_get(doc, "config");
	assert_int_equal(json_object_size(c), 10);
	assert_string_equal(json_string_value(json_object_get(c, "type")), "tap");
	assert_int_equal(json_integer_value(json_object_get(c, "queues")), 1);
	/* One queue read, the main loop's (service/queue.h). */
	assert_int_equal(json_array_size(json_object_get(json_object_get(doc, "status"), "queues")),
			 1);
	assert_true(json_is_false(json_object_get(c, "packet_info")));
	assert_true(json_is_false(json_object_get(c, "vnet_hdr")));
	assert_true(json_is_false(json_object_get(c, "attach")));
	assert_true(json_is_false(json_object_get(c, "strict")));
	assert_int_equal(json_integer_value(json_object_get(c, "mtu")), 9000);
	assert_true(json_is_true(json_object_get(c, "up")));
	assert_true(json_is_null(json_object_get(c, "mac")));
	assert_int_equal(json_array_size(json_object_get(c, "addresses")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(c, "addresses"), 1)),
			    "2001:db8::1/64");
	/* What paird observes. */
	c = json_object_get(doc, "status");
	assert_int_equal(json_integer_value(json_object_get(c, "mtu")), 9000);
	assert_true(json_is_true(json_object_get(c, "up")));
	assert_string_equal(json_string_value(json_object_get(c, "state")), "up");
	assert_true(json_integer_value(json_object_get(c, "ifindex")) > 0);
	assert_true(json_is_string(json_object_get(c, "mac")));
	assert_true(json_is_null(json_object_get(c, "last_error")));
	assert_true(json_is_string(json_object_get(c, "created")));
	assert_int_equal(json_array_size(json_object_get(c, "drift")), 0);
	list = json_object_get(c, "flags");
	assert_true(json_is_array(list));
	assert_string_equal(json_string_value(json_array_get(list, 0)), "IFF_TAP");
	assert_string_equal(json_string_value(json_array_get(list, 1)), "IFF_NO_PI");
	c = json_object_get(doc, "counters");
	assert_int_equal(json_integer_value(json_object_get(c, "rx_frames")), 0);
	assert_int_equal(json_object_size(json_object_get(c, "read_errors")), 0);
	created = strdup(resp_text(rs));

	/* GET answers with the same representation. */
	rs = get(fx, "/api/v1/ports/p0");
	expect_status(rs, 200);
	assert_null(resp_header(rs, "Location"));
	one = resp_json(rs);
	assert_true(json_equal(doc, one));
	json_decref(one);
	json_decref(doc);
	free(created);

	json_decref(create(fx, "{\"name\":\"p1\",\"type\":\"tun\",\"up\":false}"));
	rs = get(fx, "/api/v1/ports");
	expect_status(rs, 200);
	doc = resp_json(rs);
	list = json_object_get(doc, "ports");
	assert_int_equal(json_array_size(list), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "name")),
			    "p0");
	one = json_array_get(list, 1);
	assert_string_equal(json_string_value(json_object_get(one, "name")), "p1");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(one, "status"), "state")),
		"down");
	assert_true(json_is_null(json_object_get(json_object_get(one, "status"), "mac")));
	assert_true(json_is_false(json_object_get(json_object_get(one, "config"), "up")));
	json_decref(doc);

	doc = resp_json(get(fx, "/healthz"));
	assert_int_equal(json_integer_value(json_object_get(doc, "ports")), 2);
	json_decref(doc);
}

static void test_create_conflicts(void **state)
{
	struct fx *fx = *state;
	int i;
	char body[64];

	json_decref(create(fx, "{\"name\":\"p0\",\"type\":\"tap\"}"));
	expect_problem(call(fx, HTTP_POST, "/api/v1/ports", "application/json",
			    "{\"name\":\"p0\",\"type\":\"tun\"}"),
		       409, "conflict", "name");
	/* An interface paird did not create: 409 unless attach is asked for. */
	assert_int_equal(memio_device_add(fx->a.m, "pre0", true, false), 0);
	expect_problem(call(fx, HTTP_POST, "/api/v1/ports", "application/json",
			    "{\"name\":\"pre0\",\"type\":\"tap\"}"),
		       409, "conflict", "name");
	/* Attach to nothing: 404 naming the field, with the errno. */
	expect_problem(call(fx, HTTP_POST, "/api/v1/ports", "application/json",
			    "{\"name\":\"nope0\",\"type\":\"tap\",\"attach\":true}"),
		       404, "not-found", "name");
	/* The limit (4 in this fixture). */
	for (i = 1; i < 4; i++) {
		snprintf(body, sizeof(body), "{\"name\":\"p%d\",\"type\":\"tun\"}", i);
		json_decref(create(fx, body));
	}
	expect_problem(call(fx, HTTP_POST, "/api/v1/ports", "application/json",
			    "{\"name\":\"p9\",\"type\":\"tun\"}"),
		       409, "limit-reached", NULL);
	assert_false(memio_device_exists(fx->a.m, "p9"));
}

static void test_kernel_faults(void **state)
{
	struct fx *fx = *state;
	struct response *rs;
	json_t *doc;

	memio_set_privileged(fx->a.m, false);
	rs = call(fx, HTTP_POST, "/api/v1/ports", "application/json",
		  "{\"name\":\"p0\",\"type\":\"tap\"}");
	expect_problem(rs, 403, "forbidden", NULL);
	doc = resp_json(rs);
	assert_string_equal(json_string_value(json_object_get(doc, "errno_name")), "EPERM");
	assert_int_equal(json_integer_value(json_object_get(doc, "errno")), EPERM);
	json_decref(doc);
	memio_set_privileged(fx->a.m, true);

	/* No /dev/net/tun is a server problem, never a 404 on a collection. */
	memio_inject(fx->a.m, MEMIO_OPEN, ENOENT);
	rs = call(fx, HTTP_POST, "/api/v1/ports", "application/json",
		  "{\"name\":\"p0\",\"type\":\"tap\"}");
	expect_problem(rs, 500, "kernel-error", NULL);

	memio_inject(fx->a.m, MEMIO_ADDR_SET, ENOSPC);
	rs = call(fx, HTTP_POST, "/api/v1/ports", "application/json",
		  "{\"name\":\"p0\",\"type\":\"tap\",\"addresses\":[\"198.18.0.1/24\"]}");
	expect_problem(rs, 500, "kernel-error", "addresses");
	doc = resp_json(rs);
	assert_string_equal(json_string_value(json_object_get(doc, "errno_name")), "ENOSPC");
	json_decref(doc);
	assert_int_equal(portset_count(fx->a.ps), 0);
	assert_false(memio_device_exists(fx->a.m, "p0"));

	/* The state file cannot be written: 500, and the port is not kept. */
	assert_int_equal(mkdir(fx->tmp, 0700), 0);
	rs = call(fx, HTTP_POST, "/api/v1/ports", "application/json",
		  "{\"name\":\"p0\",\"type\":\"tap\"}");
	expect_problem(rs, 500, "internal-error", NULL);
	assert_int_equal(portset_count(fx->a.ps), 0);
	assert_false(memio_device_exists(fx->a.m, "p0"));
	assert_int_equal(rmdir(fx->tmp), 0);
}

static void test_port_error_shown(void **state)
{
	struct fx *fx = *state;
	struct port *p;
	json_t *doc, *e;

	json_decref(create(fx, "{\"name\":\"p0\",\"type\":\"tap\"}"));
	p = portset_find(fx->a.ps, "p0");
	assert_int_equal(memio_push(fx->a.m, "p0", "0123456789abcdef", 16), 0);
	port_read_ready(p);
	memio_inject(fx->a.m, MEMIO_READ, EIO);
	port_read_ready(p);
	doc = resp_json(get(fx, "/api/v1/ports/p0"));
	e = json_object_get(doc, "status");
	assert_string_equal(json_string_value(json_object_get(e, "state")), "error");
	e = json_object_get(e, "last_error");
	assert_string_equal(json_string_value(json_object_get(e, "operation")), "read");
	assert_int_equal(json_integer_value(json_object_get(e, "errno")), EIO);
	assert_string_equal(json_string_value(json_object_get(e, "errno_name")), "EIO");
	assert_true(json_is_string(json_object_get(e, "time")));
	e = json_object_get(doc, "counters");
	assert_int_equal(json_integer_value(json_object_get(e, "rx_frames")), 1);
	assert_int_equal(json_integer_value(json_object_get(e, "rx_bytes")), 16);
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(e, "read_errors"), "EIO")), 1);
	json_decref(doc);
}

static void test_put(void **state)
{
	struct fx *fx = *state;
	struct response *rs;
	json_t *doc;

	rs = call(fx, HTTP_PUT, "/api/v1/ports/p0", "application/json", "{\"type\":\"tap\"}");
	expect_status(rs, 201);
	assert_string_equal(resp_header(rs, "Location"), "/api/v1/ports/p0");
	doc = resp_json(rs);
	assert_string_equal(json_string_value(json_object_get(doc, "name")), "p0");
	json_decref(doc);

	rs = call(fx, HTTP_PUT, "/api/v1/ports/p0", "application/json",
		  "{\"name\":\"p0\",\"type\":\"tap\",\"mtu\":1400}");
	expect_status(rs, 200);
	assert_null(resp_header(rs, "Location"));
	doc = resp_json(rs);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "config"), "mtu")),
			 1400);
	json_decref(doc);
	/* Idempotent. */
	expect_status(call(fx, HTTP_PUT, "/api/v1/ports/p0", "application/json",
			   "{\"name\":\"p0\",\"type\":\"tap\",\"mtu\":1400}"),
		      200);
	assert_int_equal(portset_count(fx->a.ps), 1);

	expect_problem(call(fx, HTTP_PUT, "/api/v1/ports/p0", "application/json",
			    "{\"name\":\"p1\",\"type\":\"tap\"}"),
		       422, "invalid-field", "name");
	expect_problem(
		call(fx, HTTP_PUT, "/api/v1/ports/a%b", "application/json", "{\"type\":\"tap\"}"),
		422, "invalid-field", "name");
	expect_problem(
		call(fx, HTTP_PUT, "/api/v1/ports/..", "application/json", "{\"type\":\"tap\"}"),
		422, "invalid-field", "name");
	expect_problem(call(fx, HTTP_PUT, "/api/v1/ports/abcdefghijklmnop", "application/json",
			    "{\"type\":\"tap\"}"),
		       422, "invalid-field", "name");
	expect_problem(call(fx, HTTP_PUT, "/api/v1/ports/p1", "application/json", "{}"), 422,
		       "invalid-field", "type");
	assert_int_equal(portset_count(fx->a.ps), 1);
}

static void test_patch(void **state)
{
	struct fx *fx = *state;
	const char *mp = "application/merge-patch+json";
	struct response *rs;
	json_t *doc;

	json_decref(create(fx, "{\"name\":\"p0\",\"type\":\"tap\","
			       "\"addresses\":[\"198.18.0.1/24\"]}"));
	rs = call(fx, HTTP_PATCH, "/api/v1/ports/p0", mp, "{\"mtu\":9000}");
	expect_status(rs, 200);
	doc = resp_json(rs);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "config"), "mtu")),
			 9000);
	assert_int_equal(
		json_array_size(json_object_get(json_object_get(doc, "config"), "addresses")), 1);
	json_decref(doc);
	assert_int_equal(memio_link(fx->a.m, "p0")->mtu, 9000);

	/* RFC 7396: null removes the member; for addresses that is none. */
	rs = call(fx, HTTP_PATCH, "/api/v1/ports/p0", mp, "{\"addresses\":null,\"up\":false}");
	expect_status(rs, 200);
	doc = resp_json(rs);
	assert_int_equal(
		json_array_size(json_object_get(json_object_get(doc, "config"), "addresses")), 0);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(doc, "status"), "state")),
		"down");
	json_decref(doc);
	assert_int_equal(memio_addr_count(fx->a.m, "p0"), 0);

	expect_status(call(fx, HTTP_PATCH, "/api/v1/ports/p0", mp, "{}"), 200);
	expect_problem(call(fx, HTTP_PATCH, "/api/v1/ports/p0", mp, "{\"name\":\"p1\"}"), 422,
		       "invalid-field", "name");
	expect_problem(call(fx, HTTP_PATCH, "/api/v1/ports/p0", mp, "{\"type\":\"tun\"}"), 422,
		       "invalid-field", "type");
	expect_problem(call(fx, HTTP_PATCH, "/api/v1/ports/p0", mp, "{\"mtu\":null}"), 422,
		       "invalid-field", "mtu");
	expect_problem(call(fx, HTTP_PATCH, "/api/v1/ports/p0", mp, "{\"bogus\":1}"), 422,
		       "invalid-field", "bogus");
	expect_problem(call(fx, HTTP_PATCH, "/api/v1/ports/p0", mp, "[]"), 400, "malformed-body",
		       NULL);
	expect_problem(call(fx, HTTP_PATCH, "/api/v1/ports/p9", mp, "{\"mtu\":1400}"), 404,
		       "not-found", NULL);
}

static void test_delete(void **state)
{
	struct fx *fx = *state;
	struct response *rs;
	char *text;

	json_decref(create(fx, "{\"name\":\"p0\",\"type\":\"tap\"}"));
	json_decref(create(fx, "{\"name\":\"p1\",\"type\":\"tap\"}"));
	rs = call(fx, HTTP_DELETE, "/api/v1/ports/p0", NULL, NULL);
	expect_status(rs, 204);
	assert_int_equal(rs->len, 0);
	assert_false(memio_device_exists(fx->a.m, "p0"));
	text = file_read(fx->a.path, NULL);
	assert_null(strstr(text, "\"p0\""));
	assert_non_null(strstr(text, "\"p1\""));
	free(text);
	expect_problem(call(fx, HTTP_DELETE, "/api/v1/ports/p0", NULL, NULL), 404, "not-found",
		       NULL);
	expect_problem(get(fx, "/api/v1/ports/p0"), 404, "not-found", NULL);
	assert_int_equal(portset_count(fx->a.ps), 1);
}

static void test_rejections_change_nothing(void **state)
{
	static const struct {
		enum http_method m;
		const char *path, *ct, *body;
		int status;
	} bad[] = {
		{ HTTP_POST, "/api/v1/ports", "application/json",
		  "{\"name\":\"p0\",\"type\":\"tun\"}", 409 },
		{ HTTP_POST, "/api/v1/ports", "application/json", "{\"name\":\"p2\"", 400 },
		{ HTTP_POST, "/api/v1/ports", "text/plain", "{\"name\":\"p2\",\"type\":\"tap\"}",
		  415 },
		{ HTTP_POST, "/api/v1/ports", "application/json",
		  "{\"name\":\"p2\",\"type\":\"tap\",\"mtu\":70000}", 422 },
		{ HTTP_PUT, "/api/v1/ports/p0", "application/json",
		  "{\"type\":\"tun\",\"mac\":\"02:00:00:00:00:01\"}", 422 },
		{ HTTP_PUT, "/api/v1/ports/p0", "application/json",
		  "{\"name\":\"p1\",\"type\":\"tap\"}", 422 },
		{ HTTP_PUT, "/api/v1/ports/p0", "application/json",
		  "{\"type\":\"tap\",\"mtu\":9000,\"bogus\":true}", 422 },
		{ HTTP_PATCH, "/api/v1/ports/p0", "application/merge-patch+json",
		  "{\"mtu\":9000,\"type\":\"tun\"}", 422 },
		{ HTTP_PATCH, "/api/v1/ports/p0", "application/merge-patch+json",
		  "{\"mtu\":9000,\"addresses\":[\"198.18.0.9/24\",\"x\"]}", 422 },
		{ HTTP_PATCH, "/api/v1/ports/p1", "application/merge-patch+json",
		  "{\"mac\":\"02:00:00:00:00:01\"}", 422 },
		{ HTTP_PATCH, "/api/v1/ports/p0", "application/merge-patch+json",
		  "{\"mtu\":9000,\"mtu\":1400}", 400 },
		{ HTTP_DELETE, "/api/v1/ports/p9", NULL, NULL, 404 },
		{ HTTP_DELETE, "/api/v1/ports", NULL, NULL, 405 },
		{ HTTP_POST, "/api/v1/ports/p0", "application/json", "{}", 405 },
	};
	struct fx *fx = *state;
	struct snapshot s;
	struct fake_req fr;

	json_decref(create(fx, "{\"name\":\"p0\",\"type\":\"tap\",\"mtu\":1500,"
			       "\"addresses\":[\"198.18.0.1/24\"]}"));
	json_decref(create(fx, "{\"name\":\"p1\",\"type\":\"tun\"}"));
	snap(fx, &s);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct response *rs = call(fx, bad[i].m, bad[i].path, bad[i].ct, bad[i].body);

		expect_problem(rs, bad[i].status, NULL, NULL);
		snap_same(fx, &s);
	}

	/* Refused by the kernel half-way: the link is put back. */
	memio_inject(fx->a.m, MEMIO_ADDR_SET, 0);
	memio_inject(fx->a.m, MEMIO_ADDR_SET, EACCES);
	expect_problem(call(fx, HTTP_PATCH, "/api/v1/ports/p0", "application/merge-patch+json",
			    "{\"mtu\":9000,\"addresses\":[\"198.18.0.1/24\",\"198.18.1.1/24\","
			    "\"198.18.2.1/24\"]}"),
		       403, "forbidden", "addresses");
	snap_same(fx, &s);
	assert_int_equal(memio_link(fx->a.m, "p0")->mtu, 1500);
	assert_int_equal(memio_addr_count(fx->a.m, "p0"), 1);

	/* Refused by the state file: undone as well. */
	assert_int_equal(mkdir(fx->tmp, 0700), 0);
	expect_problem(call(fx, HTTP_PATCH, "/api/v1/ports/p0", "application/merge-patch+json",
			    "{\"mtu\":9000,\"addresses\":null}"),
		       500, "internal-error", NULL);
	expect_problem(call(fx, HTTP_PUT, "/api/v1/ports/p1", "application/json",
			    "{\"type\":\"tun\",\"mtu\":1280,\"up\":false}"),
		       500, "internal-error", NULL);
	expect_problem(call(fx, HTTP_DELETE, "/api/v1/ports/p1", NULL, NULL), 500, "internal-error",
		       NULL);
	expect_problem(call(fx, HTTP_POST, "/api/v1/ports", "application/json",
			    "{\"name\":\"p2\",\"type\":\"tap\"}"),
		       500, "internal-error", NULL);
	assert_int_equal(rmdir(fx->tmp), 0);
	s.opens++; /* the POST opened p2's device before the state file refused it */
	snap_same(fx, &s);
	assert_int_equal(memio_link(fx->a.m, "p0")->mtu, 1500);
	assert_int_equal(memio_link(fx->a.m, "p1")->mtu, 1500);
	assert_int_equal(memio_addr_count(fx->a.m, "p0"), 1);
	assert_false(memio_device_exists(fx->a.m, "p2"));

	/* Refused by the security checks. */
	req(&fr, HTTP_DELETE, "/api/v1/ports/p0");
	freq_header(&fr, "Host", "evil.example");
	expect_problem(run(fx, &fr), 403, "host-not-allowed", "");
	req(&fr, HTTP_DELETE, "/api/v1/ports/p0");
	freq_header(&fr, "Origin", "http://evil.example");
	expect_problem(run(fx, &fr), 403, "cross-site", "");
	req(&fr, HTTP_DELETE, "/api/v1/ports/p0");
	freq_header(&fr, "Sec-Fetch-Site", "cross-site");
	expect_problem(run(fx, &fr), 403, "cross-site", "");
	req(&fr, HTTP_DELETE, "/api/v1/ports/p0");
	fr.rq.body_too_large = true;
	expect_problem(run(fx, &fr), 413, "body-too-large", "");
	snap_same(fx, &s);
	assert_true(memio_device_exists(fx->a.m, "p0"));
	snap_free(&s);
}

/* --- security --- */

static int status_with_host(struct fx *fx, const char *path, const char *host)
{
	struct fake_req fr;
	struct response *rs;

	freq_init(&fr, HTTP_GET, path);
	freq_header(&fr, "Host", host);
	rs = run(fx, &fr);
	if (rs->status == 403)
		expect_problem(rs, 403, "host-not-allowed", "");
	return rs->status;
}

static void test_host(void **state)
{
	static const char *const refused[] = {
		"evil.example",
		"evil.example:8080",
		"127.0.0.1.evil.example",
		"localhost.evil",
		"[::2]:8080",
		"::1",
		"[::1",
		"[::1]x",
		"",
		":8080",
		"127.0.0.2",
		"0.0.0.0",
		"localhost:8080:1",
	};
	static const char *const allowed[] = {
		"localhost",	  "localhost:8080", "LOCALHOST:8080", "127.0.0.1",
		"127.0.0.1:8080", "[::1]:8080",	    "[::1]",	      "127.0.0.1:1",
	};
	static const char *const paths[] = { "/api/v1/ports", "/healthz", "/", "/nope" };
	struct fx *fx = *state;
	struct fake_req fr;

	for (size_t p = 0; p < sizeof(paths) / sizeof(paths[0]); p++) {
		int ok = strcmp(paths[p], "/nope") == 0 ? 404 : 200;

		for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
			if (status_with_host(fx, paths[p], refused[i]) != 403)
				fail_msg("Host \"%s\" on %s not refused", refused[i], paths[p]);
		for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
			if (status_with_host(fx, paths[p], allowed[i]) != ok)
				fail_msg("Host \"%s\" on %s refused", allowed[i], paths[p]);
	}
	/* HTTP/1.0 without Host. */
	freq_init(&fr, HTTP_GET, "/api/v1/ports");
	expect_status(run(fx, &fr), 200);

	/* The address paird listens on, and --allow-host names. */
	fx->a.cfg.listen_host = "198.18.0.5";
	fx->allow[0] = "paird.example";
	fx->a.cfg.n_allow_hosts = 1;
	api_fx_restart(&fx->a);
	assert_int_equal(status_with_host(fx, "/api/v1/ports", "198.18.0.5:8080"), 200);
	assert_int_equal(status_with_host(fx, "/api/v1/ports", "198.18.0.5"), 200);
	assert_int_equal(status_with_host(fx, "/api/v1/ports", "paird.example:8080"), 200);
	assert_int_equal(status_with_host(fx, "/api/v1/ports", "PAIRD.example"), 200);
	assert_int_equal(status_with_host(fx, "/api/v1/ports", "other.example"), 403);
	assert_int_equal(status_with_host(fx, "/api/v1/ports", "198.18.0.6:8080"), 403);
	assert_int_equal(status_with_host(fx, "/api/v1/ports", "localhost:8080"), 200);

	/* '*' switches the Host check off. */
	fx->allow[1] = "*";
	fx->a.cfg.n_allow_hosts = 2;
	api_fx_restart(&fx->a);
	assert_int_equal(status_with_host(fx, "/api/v1/ports", "anything.example:80"), 200);
}

static int status_with(struct fx *fx, const char *name, const char *value)
{
	struct fake_req fr;
	struct response *rs;

	req(&fr, HTTP_GET, "/api/v1/ports");
	freq_header(&fr, name, value);
	rs = run(fx, &fr);
	if (rs->status != 200)
		expect_problem(rs, rs->status, NULL, "");
	return rs->status;
}

static void test_origin(void **state)
{
	static const char *const refused[] = {
		"http://evil.example",
		"http://evil.example:8080",
		"null",
		"http://127.0.0.1:9999",
		"https://127.0.0.1:8080",
		"http://127.0.0.1",
		"http://127.0.0.1:8080/",
		"http://127.0.0.1:8080x",
		"file://",
		"http://127.0.0.1.evil:8080",
		"",
		"http://:8080",
	};
	static const char *const allowed[] = {
		"http://127.0.0.1:8080",
		"http://localhost:8080",
		"http://[::1]:8080",
		"HTTP://LOCALHOST:8080",
	};
	struct fx *fx = *state;
	struct fake_req fr;

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (status_with(fx, "Origin", refused[i]) != 403)
			fail_msg("Origin \"%s\" not refused", refused[i]);
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (status_with(fx, "Origin", allowed[i]) != 200)
			fail_msg("Origin \"%s\" refused", allowed[i]);
	/* The dashboard's static files and /healthz are not guarded by Origin. */
	freq_init(&fr, HTTP_GET, "/healthz");
	freq_header(&fr, "Origin", "http://evil.example");
	expect_status(run(fx, &fr), 200);
	/* /metrics is guarded like /api/. */
	freq_init(&fr, HTTP_GET, "/metrics");
	freq_header(&fr, "Origin", "http://evil.example");
	expect_problem(run(fx, &fr), 403, "cross-site", "");
}

static void test_sec_fetch_site(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(status_with(fx, "Sec-Fetch-Site", "cross-site"), 403);
	assert_int_equal(status_with(fx, "Sec-Fetch-Site", "same-site"), 403);
	assert_int_equal(status_with(fx, "Sec-Fetch-Site", "bogus"), 403);
	assert_int_equal(status_with(fx, "Sec-Fetch-Site", "same-origin"), 200);
	assert_int_equal(status_with(fx, "Sec-Fetch-Site", "none"), 200);
}

static struct response *with_auth(struct fx *fx, const char *path, const char *auth)
{
	struct fake_req fr;

	req(&fr, HTTP_GET, path);
	if (auth)
		freq_header(&fr, "Authorization", auth);
	return run(fx, &fr);
}

/*
 * Anyone who reaches the listener may read /healthz: without the token it
 * says how many ports fail, never which ones or their kernel errors.
 */
static void test_healthz_hides_ports(void **state)
{
	struct fx *fx = *state;
	struct response *rs;
	json_t *doc;

	fx->a.cfg.token = TOKEN;
	api_fx_restart(&fx->a);
	{
		struct fake_req fr;

		freq_init(&fr, HTTP_POST, "/api/v1/ports");
		fr.rq.via = REQ_VIA_UNIX;
		freq_body(&fr, "application/json", "{\"name\":\"secret0\",\"type\":\"tap\"}");
		expect_status(run(fx, &fr), 201);
	}
	memio_inject(fx->a.m, MEMIO_READ, EIO);
	port_read_ready(portset_find(fx->a.ps, "secret0"));

	rs = with_auth(fx, "/healthz", NULL);
	doc = resp_json(rs);
	assert_string_equal(json_string_value(json_object_get(doc, "status")), "degraded");
	assert_int_equal(json_integer_value(json_object_get(doc, "failed")), 1);
	assert_null(json_object_get(doc, "failed_ports"));
	json_decref(doc);
	assert_null(memmem(rs->body, rs->len, "secret0", 7));
	assert_null(memmem(rs->body, rs->len, "EIO", 3));

	doc = resp_json(with_auth(fx, "/healthz", "Bearer " TOKEN));
	assert_int_equal(json_integer_value(json_object_get(doc, "failed")), 1);
	assert_int_equal(json_array_size(json_object_get(doc, "failed_ports")), 1);
	json_decref(doc);
}

static void test_token(void **state)
{
	static const char *const refused[] = {
		NULL,
		"",
		"Bearer",
		"Bearer ",
		"Bearer wrong",
		"Bearer 0123456789abcdef",	   /* a prefix of the token */
		"Bearer 0123456789abcdef-secre",   /* one short */
		"Bearer 0123456789abcdef-secretX", /* one long */
		"Bearer 0123456789abcdef-secret extra",
		"Bearer 0123456789ABCDEF-SECRET",
		"Basic 0123456789abcdef-secret",
		"0123456789abcdef-secret",
		"Bearer0123456789abcdef-secret",
		"Bearer \t0123456789abcdef-secret",
	};
	static const char *const accepted[] = {
		"Bearer " TOKEN,
		"bearer " TOKEN,
		"Bearer  " TOKEN,
	};
	struct fx *fx = *state;
	struct response *rs;
	const char *www;

	fx->a.cfg.token = TOKEN;
	api_fx_restart(&fx->a);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		rs = with_auth(fx, "/api/v1/ports", refused[i]);
		if (rs->status != 401)
			fail_msg("Authorization \"%s\" not refused", refused[i]);
		expect_problem(rs, 401, "unauthorized", "");
		www = resp_header(rs, "WWW-Authenticate");
		assert_non_null(www);
		assert_true(strncmp(www, "Bearer", 6) == 0);
		assert_null(memmem(rs->body, rs->len, TOKEN, strlen(TOKEN)));
	}
	for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++)
		expect_status(with_auth(fx, "/api/v1/ports", accepted[i]), 200);

	/* Everything under /api/ and /metrics, whatever the path or method. */
	expect_problem(with_auth(fx, "/api/v1/nope", NULL), 401, "unauthorized", "");
	expect_problem(with_auth(fx, "/api", NULL), 401, "unauthorized", "");
	expect_problem(with_auth(fx, "/metrics", NULL), 401, "unauthorized", "");
	rs = call(fx, HTTP_POST, "/api/v1/ports", "application/json",
		  "{\"name\":\"p0\",\"type\":\"tap\"}");
	expect_problem(rs, 401, "unauthorized", "");
	assert_int_equal(portset_count(fx->a.ps), 0);
	rs = call(fx, HTTP_OPTIONS, "/api/v1/ports", NULL, NULL);
	expect_problem(rs, 401, "unauthorized", "");

	/* The health check and the dashboard need none. */
	expect_status(with_auth(fx, "/healthz", NULL), 200);
	expect_status(with_auth(fx, "/", NULL), 200);
	expect_status(with_auth(fx, "/app.js", NULL), 200);
	expect_status(with_auth(fx, "/openapi.yaml", NULL), 200);
	expect_status(with_auth(fx, "/healthz", "Bearer wrong"), 200);

	/* A bad Host is refused before the token is even looked at. */
	{
		struct fake_req fr;

		freq_init(&fr, HTTP_GET, "/api/v1/ports");
		freq_header(&fr, "Host", "evil.example");
		freq_header(&fr, "Authorization", "Bearer " TOKEN);
		expect_problem(run(fx, &fr), 403, "host-not-allowed", "");
	}
}

/* A GET of @path over TCP with a Cookie header (unless NULL) and an optional Origin. */
/* GET @path with header @name: @value (none when NULL) and Origin @origin (none when NULL). */
static struct response *with_header(struct fx *fx, const char *path, const char *name,
				    const char *value, const char *origin)
{
	struct fake_req fr;

	req(&fr, HTTP_GET, path);
	if (value)
		freq_header(&fr, name, value);
	if (origin)
		freq_header(&fr, "Origin", origin);
	return run(fx, &fr);
}

/* GET or HEAD /login?code=@code. */
static struct response *login(struct fx *fx, enum http_method m, const char *code)
{
	struct fake_req fr;

	req(&fr, m, "/login");
	if (code)
		freq_query(&fr, "code", code);
	return run(fx, &fr);
}

static void test_unix_socket(void **state)
{
	struct fx *fx = *state;
	struct fake_req fr;

	fx->a.cfg.token = TOKEN;
	api_fx_restart(&fx->a);
	/* The socket's permissions admitted the client: no token, no Host check. */
	freq_init(&fr, HTTP_POST, "/api/v1/ports");
	fr.rq.via = REQ_VIA_UNIX;
	freq_header(&fr, "Host", "anything.example");
	freq_body(&fr, "application/json", "{\"name\":\"u0\",\"type\":\"tap\"}");
	expect_status(run(fx, &fr), 201);
	freq_init(&fr, HTTP_GET, "/metrics");
	fr.rq.via = REQ_VIA_UNIX;
	expect_status(run(fx, &fr), 200);
	/* The body limit still holds there. */
	freq_init(&fr, HTTP_POST, "/api/v1/ports");
	fr.rq.via = REQ_VIA_UNIX;
	freq_header(&fr, "Content-Length", "70000");
	expect_problem(run(fx, &fr), 413, "body-too-large", "");
	/* The same requests over TCP (the zero value of via) need the token. */
	expect_problem(with_auth(fx, "/metrics", NULL), 401, "unauthorized", "");
	assert_int_equal(portset_count(fx->a.ps), 1);
}

static void test_login_session(void **state)
{
	struct fx *fx = *state;
	char code[API_LOGIN_CODE_SIZE], code2[API_LOGIN_CODE_SIZE], bearer[128], cookie[128];
	const char *loc, *id;
	struct response *rs;

	/* No auth on TCP, nothing to log in to. */
	assert_int_equal(api_login_code(fx->a.api, code, sizeof(code)), -EPERM);
	expect_problem(login(fx, HTTP_GET, ""), 403, "login-refused", "");

	fx->a.cfg.token = TOKEN;
	api_fx_restart(&fx->a);
	expect_problem(login(fx, HTTP_GET, NULL), 403, "login-refused", "");
	expect_problem(login(fx, HTTP_GET, "0"), 403, "login-refused", "");
	assert_int_equal(api_login_code(fx->a.api, code, sizeof(code)), 0);
	assert_int_equal(strlen(code), API_LOGIN_CODE_SIZE - 1);
	assert_int_equal(api_login_code(fx->a.api, code2, sizeof(code2)), 0);
	assert_string_not_equal(code, code2);
	/* A new code replaces the old one. */
	expect_problem(login(fx, HTTP_GET, code), 403, "login-refused", "");
	code2[10] ^= 1;
	expect_problem(login(fx, HTTP_GET, code2), 403, "login-refused", "");
	code2[10] ^= 1;
	/* HEAD answers but leaves the code unused and opens nothing. */
	rs = login(fx, HTTP_HEAD, code2);
	expect_status(rs, 303);
	assert_string_equal(resp_header(rs, "Location"), "/");

	/*
	 * The session id goes in the Location's fragment, for the dashboard
	 * to keep in its origin's storage: never a cookie, which a browser
	 * sends to every port of the host.
	 */
	rs = login(fx, HTTP_GET, code2);
	expect_status(rs, 303);
	assert_null(resp_header(rs, "Set-Cookie"));
	loc = resp_header(rs, "Location");
	assert_non_null(loc);
	assert_true(strncmp(loc, "/#session=", 10) == 0);
	id = loc + 10;
	assert_int_equal(strlen(id), SECRET_HEX_LEN);
	assert_int_equal(strspn(id, "0123456789abcdef"), SECRET_HEX_LEN);
	assert_null(strstr(id, TOKEN));
	snprintf(bearer, sizeof(bearer), "Bearer %s", id);
	snprintf(cookie, sizeof(cookie), "paird_session=%s", id);
	/* Used once. */
	rs = login(fx, HTTP_GET, code2);
	expect_problem(rs, 403, "login-refused", "");
	assert_null(resp_header(rs, "Location"));
	/* A browser that followed the link is told what to do on a page, still 403. */
	{
		struct fake_req fr;

		req(&fr, HTTP_GET, "/login");
		freq_query(&fr, "code", code2);
		freq_header(&fr, "Accept", "text/html,application/xhtml+xml,*/*;q=0.8");
		rs = run(fx, &fr);
		expect_status(rs, 403);
		assert_string_equal(rs->content_type, "text/html; charset=utf-8");
		assert_null(resp_header(rs, "Location"));
	}

	/* The id authenticates as a bearer secret, on every guarded path, and still meets the Origin check. */
	expect_status(with_header(fx, "/api/v1/ports", "Authorization", bearer, NULL), 200);
	expect_status(with_header(fx, "/metrics", "Authorization", bearer, NULL), 200);
	expect_status(
		with_header(fx, "/api/v1/ports", "Authorization", bearer, "http://127.0.0.1:8080"),
		200);
	expect_problem(
		with_header(fx, "/api/v1/ports", "Authorization", bearer, "http://evil.example"),
		403, "cross-site", "");
	/* Not as a cookie; a forged or altered id, or an empty one, is no session. */
	expect_problem(with_header(fx, "/api/v1/ports", "Cookie", cookie, NULL), 401,
		       "unauthorized", "");
	bearer[20] = bearer[20] == '0' ? '1' : '0';
	expect_problem(with_header(fx, "/api/v1/ports", "Authorization", bearer, NULL), 401,
		       "unauthorized", "");
	bearer[20] = bearer[20] == '0' ? '1' : '0';
	expect_problem(with_header(fx, "/api/v1/ports", "Authorization", "Bearer ", NULL), 401,
		       "unauthorized", "");

	/* A new token (SIGHUP) ends the sessions; the new token works, the old does not. */
	assert_int_equal(api_set_token(fx->a.api, "another-token-0123456789"), 0);
	expect_problem(with_header(fx, "/api/v1/ports", "Authorization", bearer, NULL), 401,
		       "unauthorized", "");
	expect_problem(with_auth(fx, "/api/v1/ports", "Bearer " TOKEN), 401, "unauthorized", "");
	expect_status(with_auth(fx, "/api/v1/ports", "Bearer another-token-0123456789"), 200);
}

static double fake_now;

static double fake_clock(void)
{
	return fake_now;
}

/* A login code opens a session within 15 minutes, not after. */
static void test_login_code_expires(void **state)
{
	struct fx *fx = *state;
	char code[API_LOGIN_CODE_SIZE];
	struct response *rs;
	json_t *doc;

	fx->a.cfg.token = TOKEN;
	api_fx_restart(&fx->a);
	api_set_clock(fake_clock);
	fake_now = 1000;
	assert_int_equal(api_login_code(fx->a.api, code, sizeof(code)), 0);
	fake_now += API_LOGIN_CODE_SECONDS + 1;
	rs = login(fx, HTTP_GET, code);
	expect_problem(rs, 403, "login-refused", "");
	doc = resp_json(rs);
	assert_non_null(strstr(json_string_value(json_object_get(doc, "detail")), "expired"));
	json_decref(doc);
	/* ...and stays refused once the clock is back inside (it is forgotten). */
	fake_now -= 2;
	expect_problem(login(fx, HTTP_GET, code), 403, "login-refused", "");
	assert_int_equal(api_login_code(fx->a.api, code, sizeof(code)), 0);
	fake_now += API_LOGIN_CODE_SECONDS - 1;
	expect_status(login(fx, HTTP_GET, code), 303);
}

/* POST /api/v1/login-codes: a fresh login URL, on the control socket only. */
static void test_login_codes_route(void **state)
{
	struct fx *fx = *state;
	char want[128];
	struct fake_req fr;
	struct response *rs;
	const char *code, *url;
	json_t *doc;

	fx->a.cfg.token = TOKEN;
	fx->a.cfg.url_base = "http://127.0.0.1:8080";
	api_fx_restart(&fx->a);
	freq_init(&fr, HTTP_POST, "/api/v1/login-codes");
	fr.rq.via = REQ_VIA_UNIX;
	rs = run(fx, &fr);
	expect_status(rs, 200);
	doc = resp_json(rs);
	code = json_string_value(json_object_get(doc, "code"));
	url = json_string_value(json_object_get(doc, "url"));
	assert_non_null(code);
	assert_int_equal(strlen(code), SECRET_HEX_LEN);
	snprintf(want, sizeof(want), "http://127.0.0.1:8080/login?code=%s", code);
	assert_string_equal(url, want);
	assert_int_equal(json_integer_value(json_object_get(doc, "expires_in")),
			 API_LOGIN_CODE_SECONDS);
	snprintf(want, sizeof(want), "%s", code);
	json_decref(doc);
	expect_status(login(fx, HTTP_GET, want), 303);

	/* Over TCP, even with the token: a session must not renew itself. */
	freq_init(&fr, HTTP_POST, "/api/v1/login-codes");
	freq_header(&fr, "Authorization", "Bearer " TOKEN);
	expect_problem(run(fx, &fr), 403, "unix-socket-only", "");
	/* No TCP listener, or no authentication on it: nothing to log in to. */
	fx->a.cfg.url_base = NULL;
	api_fx_restart(&fx->a);
	freq_init(&fr, HTTP_POST, "/api/v1/login-codes");
	fr.rq.via = REQ_VIA_UNIX;
	expect_problem(run(fx, &fr), 409, "conflict", "");
	fx->a.cfg.url_base = "http://127.0.0.1:8080";
	fx->a.cfg.token = NULL;
	api_fx_restart(&fx->a);
	freq_init(&fr, HTTP_POST, "/api/v1/login-codes");
	fr.rq.via = REQ_VIA_UNIX;
	expect_problem(run(fx, &fr), 409, "conflict", "");
}

static void test_own_host_names(void **state)
{
	struct fx *fx = *state;

	fx->a.cfg.listen_host = "2001:db8::5";
	fx->a.cfg.listen_name = "paird-listen.example";
	fx->a.cfg.hostname = "paird-host";
	api_fx_restart(&fx->a);
	assert_int_equal(status_with_host(fx, "/api/v1/ports", "[2001:db8::5]:8080"), 200);
	assert_int_equal(status_with_host(fx, "/api/v1/ports", "[2001:db8:0:0::5]"), 200);
	assert_int_equal(status_with_host(fx, "/api/v1/ports", "paird-listen.example:8080"), 200);
	assert_int_equal(status_with_host(fx, "/api/v1/ports", "paird-host:8080"), 200);
	assert_int_equal(status_with_host(fx, "/api/v1/ports", "PAIRD-HOST"), 200);
	assert_int_equal(status_with_host(fx, "/api/v1/ports", "[2001:db8::6]:8080"), 403);
	assert_int_equal(status_with_host(fx, "/api/v1/ports", "paird-host.evil.example"), 403);
	/* A wildcard listen serves the machine's addresses, and only those. */
	fx->a.cfg.listen_host = "::";
	fx->a.cfg.hostname = NULL;
	fx->a.cfg.listen_any = true;
	api_fx_restart(&fx->a);
	assert_int_equal(status_with_host(fx, "/api/v1/ports", "[::1]:8080"), 200);
	assert_int_equal(status_with_host(fx, "/api/v1/ports", "127.0.0.2:8080"), 403);
	assert_int_equal(status_with_host(fx, "/api/v1/ports", "[2001:db8::6]:8080"), 403);
	assert_int_equal(status_with_host(fx, "/api/v1/ports", "paird-host"), 403);
}

/*
 * A stream reader as a follower is: it has what its owner queued, waits
 * (RESPONSE_WAIT) when that is sent, ends when the owner says so.
 */
struct waiter {
	char queued[64];
	size_t len, off;
	bool done;
	int freed;
	struct response_wake *wake;
	unsigned wakes;
};

static ssize_t waiter_read(void *ctx, char *buf, size_t max)
{
	struct waiter *w = ctx;
	size_t n = w->len - w->off;

	if (!n)
		return w->done ? 0 : RESPONSE_WAIT;
	if (n > max)
		n = max;
	memcpy(buf, w->queued + w->off, n);
	w->off += n;
	return (ssize_t)n;
}

static void waiter_free(void *ctx)
{
	struct waiter *w = ctx;

	w->freed++;
	w->wake = NULL; /* the handle's life ends here (api.h) */
}

static void waiter_attach(void *ctx, struct response_wake *wk)
{
	((struct waiter *)ctx)->wake = wk;
}

static void noop_wake(struct response_wake *wk)
{
	(void)wk;
}

static void waiter_queue(struct waiter *w, const char *s)
{
	memcpy(w->queued + w->len, s, strlen(s));
	w->len += strlen(s);
	if (w->wake)
		response_wake(w->wake);
}

/*
 * response_drain() stops at RESPONSE_WAIT with the stream still open and
 * appends what comes after the owner's next wake; the end frees the reader
 * once. Before: a RESPONSE_WAIT aborted the drain and freed the reader.
 */
static void test_stream_wait_drain(void **state)
{
	struct waiter w = { 0 };
	struct response_wake wk = { .wake = noop_wake };
	struct response rs = { .status = 200,
			       .read = waiter_read,
			       .read_ctx = &w,
			       .read_free = waiter_free,
			       .attach_wake = waiter_attach };

	(void)state;
	rs.attach_wake(rs.read_ctx, &wk);
	assert_ptr_equal(w.wake, &wk);
	assert_int_equal(response_drain(&rs), RESPONSE_WAIT);
	assert_int_equal(rs.len, 0);
	assert_non_null(rs.read);
	waiter_queue(&w, "first ");
	assert_int_equal(response_drain(&rs), RESPONSE_WAIT);
	assert_int_equal(rs.len, 6);
	assert_string_equal(rs.body, "first ");
	waiter_queue(&w, "second");
	w.done = true;
	assert_int_equal(response_drain(&rs), 0);
	assert_string_equal(rs.body, "first second");
	assert_null(rs.read);
	assert_int_equal(w.freed, 1);
	assert_null(w.wake);
	/* An open stream given up (the client went) is freed by response_fini(). */
	response_fini(&rs);
	assert_int_equal(w.freed, 1);
	memset(&w, 0, sizeof(w));
	rs = (struct response){
		.status = 200, .read = waiter_read, .read_ctx = &w, .read_free = waiter_free
	};
	assert_int_equal(response_drain(&rs), RESPONSE_WAIT);
	response_fini(&rs);
	assert_int_equal(w.freed, 1);
}

/* A long-lived stream's slot is given back exactly once, however it ends. */
static void test_stream_slot_release(void **state)
{
	struct fx *fx = *state;
	struct waiter w = { .done = true };
	unsigned count = 2;
	struct response rs = { .status = 200,
			       .read = waiter_read,
			       .read_ctx = &w,
			       .read_free = waiter_free,
			       .long_lived = true,
			       .stream_slot = &count };

	assert_int_equal(api_streams(fx->a.api), 0);
	assert_int_equal(response_drain(&rs), 0);
	assert_int_equal(count, 1);
	response_stream_release(&rs);
	assert_int_equal(count, 1);
	response_fini(&rs); /* the drained body; the slot is not given back twice */
	assert_int_equal(count, 1);
	rs = (struct response){
		.read = waiter_read, .read_ctx = &w, .read_free = waiter_free, .stream_slot = &count
	};
	response_fini(&rs);
	assert_int_equal(count, 0);
	assert_int_equal(w.freed, 2);
}

/* --- versions, conditional requests, no-op writes, named bindings (issue 10) --- */

/* @m @path with @body (JSON) and one more header @h: @v (NULL: none). */
static struct response *call_h(struct fx *fx, enum http_method m, const char *path,
			       const char *body, const char *h, const char *v)
{
	struct fake_req fr;

	req(&fr, m, path);
	if (h)
		freq_header(&fr, h, v);
	freq_body(&fr,
		  body ? (m == HTTP_PATCH ? "application/merge-patch+json" : "application/json")
		       : NULL,
		  body);
	return run(fx, &fr);
}

/* The ETag of @rs, copied to @buf. */
static const char *etag(const struct response *rs, char buf[32])
{
	const char *e = resp_header(rs, "ETag");

	assert_non_null(e);
	snprintf(buf, 32, "%s", e);
	return buf;
}

static void expect_changed(const struct response *rs, bool changed)
{
	const char *h = resp_header(rs, "Paird-Changed");

	if (!h || strcmp(h, changed ? "true" : "false") != 0)
		fail_msg("Paird-Changed: %s, expected %s", h ? h : "(none)",
			 changed ? "true" : "false");
}

static void test_port_etag_and_noop(void **state)
{
	struct fx *fx = *state;
	const char *body = "{\"type\":\"tap\",\"mtu\":1400,\"addresses\":[\"198.18.0.1/24\"]}";
	char e1[32], e2[32], other[48];
	struct snapshot before;
	struct response *rs;
	json_t *doc, *cfg;
	char *text;

	rs = call_h(fx, HTTP_PUT, "/api/v1/ports/p0", body, NULL, NULL);
	expect_status(rs, 201);
	expect_changed(rs, true);
	etag(rs, e1);
	doc = resp_json(rs);
	snprintf(other, sizeof(other), "\"%lld\"",
		 (long long)json_integer_value(json_object_get(doc, "version")));
	assert_string_equal(other, e1);
	json_decref(doc);

	/* The same PUT: 200, unchanged, same ETag, and nothing touched at all. */
	snap(fx, &before);
	rs = call_h(fx, HTTP_PUT, "/api/v1/ports/p0", body, NULL, NULL);
	expect_status(rs, 200);
	expect_changed(rs, false);
	assert_string_equal(etag(rs, e2), e1);
	snap_same(fx, &before);
	/* GET's "config" PUT back is the same request. */
	doc = resp_json(get(fx, "/api/v1/ports/p0"));
	assert_string_equal(etag(&fx->a.rs, e2), e1);
	cfg = json_object_get(doc, "config");
	text = json_dumps(cfg, JSON_COMPACT);
	rs = call_h(fx, HTTP_PUT, "/api/v1/ports/p0", text, NULL, NULL);
	expect_status(rs, 200);
	expect_changed(rs, false);
	free(text);
	json_decref(doc);
	rs = call_h(fx, HTTP_PATCH, "/api/v1/ports/p0", "{\"mtu\":1400}", NULL, NULL);
	expect_status(rs, 200);
	expect_changed(rs, false);
	assert_string_equal(etag(rs, e2), e1);
	snap_same(fx, &before);

	/* GET with the ETag: 304; another one or a weak form of it: see below. */
	rs = call_h(fx, HTTP_GET, "/api/v1/ports/p0", NULL, "If-None-Match", e1);
	expect_status(rs, 304);
	assert_int_equal(rs->len, 0);
	assert_string_equal(etag(rs, e2), e1);
	snprintf(other, sizeof(other), "\"1\", W/%s", e1);
	expect_status(call_h(fx, HTTP_GET, "/api/v1/ports/p0", NULL, "If-None-Match", other), 304);
	expect_status(call_h(fx, HTTP_GET, "/api/v1/ports/p0", NULL, "If-None-Match", "\"1\""),
		      200);

	/* If-Match with the current ETag: the change is made. */
	rs = call_h(fx, HTTP_PATCH, "/api/v1/ports/p0", "{\"mtu\":1300}", "If-Match", e1);
	expect_status(rs, 200);
	expect_changed(rs, true);
	assert_string_not_equal(etag(rs, e2), e1);
	assert_int_equal(memio_link(fx->a.m, "p0")->mtu, 1300);

	/* The old one is stale now: 412 on every write, and nothing changes. */
	snap_free(&before);
	snap(fx, &before);
	expect_problem(call_h(fx, HTTP_PATCH, "/api/v1/ports/p0", "{\"mtu\":1200}", "If-Match", e1),
		       412, "precondition-failed", NULL);
	assert_string_equal(resp_header(&fx->a.rs, "ETag"), e2);
	expect_problem(call_h(fx, HTTP_PUT, "/api/v1/ports/p0", body, "If-Match", e1), 412,
		       "precondition-failed", NULL);
	expect_problem(call_h(fx, HTTP_DELETE, "/api/v1/ports/p0", NULL, "If-Match", e1), 412,
		       "precondition-failed", NULL);
	/* A weak tag never matches If-Match (strong comparison, RFC 9110 13.1.1). */
	snprintf(other, sizeof(other), "W/%s", e2);
	expect_problem(call_h(fx, HTTP_DELETE, "/api/v1/ports/p0", NULL, "If-Match", other), 412,
		       "precondition-failed", NULL);
	/* Create-only: If-None-Match: * on an existing port. */
	expect_problem(call_h(fx, HTTP_PUT, "/api/v1/ports/p0", body, "If-None-Match", "*"), 412,
		       "precondition-failed", NULL);
	/* If-Match on a port that does not exist: 412, not a create. */
	expect_problem(call_h(fx, HTTP_PUT, "/api/v1/ports/p1", body, "If-Match", "*"), 412,
		       "precondition-failed", NULL);
	expect_problem(call_h(fx, HTTP_PATCH, "/api/v1/ports/p1", "{}", "If-Match", "\"5\""), 412,
		       "precondition-failed", NULL);
	snap_same(fx, &before);
	assert_int_equal(memio_link(fx->a.m, "p0")->mtu, 1300);

	/* If-None-Match: * creates; a list with the right ETag deletes. */
	rs = call_h(fx, HTTP_PUT, "/api/v1/ports/p1", body, "If-None-Match", "*");
	expect_status(rs, 201);
	snprintf(other, sizeof(other), "\"7\", %s", e2);
	rs = call_h(fx, HTTP_DELETE, "/api/v1/ports/p0", NULL, "If-Match", other);
	expect_status(rs, 204);
	expect_changed(rs, true);
	assert_null(portset_find(fx->a.ps, "p0"));
	snap_free(&before);
}

static void test_named_bindings(void **state)
{
	struct fx *fx = *state;
	const char *dns = "{\"match\":{\"ethertype\":2048,\"ip_protocol\":17,\"udp_port\":53},"
			  "\"handler\":\"capture\"}";
	char e1[32], e2[32];
	struct snapshot before;
	struct response *rs;
	json_t *doc, *c;

	json_decref(create(fx, "{\"name\":\"p0\",\"type\":\"tap\"}"));
	/* An unnamed one first, so that ids and names differ. */
	rs = call_h(fx, HTTP_POST, "/api/v1/ports/p0/bindings", "{\"handler\":\"count\"}", NULL,
		    NULL);
	expect_status(rs, 201);
	expect_changed(rs, true);
	doc = resp_json(rs);
	assert_true(json_is_null(json_object_get(doc, "name")));
	json_decref(doc);

	rs = call_h(fx, HTTP_PUT, "/api/v1/ports/p0/bindings/dns", dns, NULL, NULL);
	expect_status(rs, 201);
	expect_changed(rs, true);
	assert_string_equal(resp_header(rs, "Location"), "/api/v1/ports/p0/bindings/dns");
	etag(rs, e1);
	doc = resp_json(rs);
	assert_int_equal(json_integer_value(json_object_get(doc, "id")), 2);
	assert_string_equal(json_string_value(json_object_get(doc, "name")), "dns");
	assert_true(json_integer_value(json_object_get(doc, "version")) > 0);
	c = json_object_get(doc, "config");
	assert_int_equal(json_object_size(c), 3);
	assert_string_equal(json_string_value(json_object_get(c, "handler")), "capture");
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(c, "match"), "udp_port")), 53);
	assert_true(json_is_string(json_object_get(json_object_get(doc, "status"), "created")));
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(doc, "counters"), "packets")),
		0);
	json_decref(doc);

	/* Twice: one binding, unchanged, same ETag, nothing written. */
	snap(fx, &before);
	rs = call_h(fx, HTTP_PUT, "/api/v1/ports/p0/bindings/dns", dns, NULL, NULL);
	expect_status(rs, 200);
	expect_changed(rs, false);
	assert_string_equal(etag(rs, e2), e1);
	snap_same(fx, &before);
	assert_int_equal(stack_count(portset_stack(fx->a.ps, portset_find(fx->a.ps, "p0"))), 2);
	/* With "name" in the body, the same; a name other than the path's is refused. */
	rs = call_h(fx, HTTP_PUT, "/api/v1/ports/p0/bindings/dns",
		    "{\"name\":\"dns\",\"match\":{\"ethertype\":2048,\"ip_protocol\":17,"
		    "\"udp_port\":53},\"handler\":\"capture\",\"options\":{\"limit\":0}}",
		    NULL, NULL);
	expect_status(rs, 200);
	expect_changed(rs, false);
	expect_problem(call_h(fx, HTTP_PUT, "/api/v1/ports/p0/bindings/dns",
			      "{\"name\":\"dnz\",\"handler\":\"count\"}", NULL, NULL),
		       422, "invalid-field", "name");
	/* POST of a name in use: 409. */
	expect_problem(call_h(fx, HTTP_POST, "/api/v1/ports/p0/bindings",
			      "{\"name\":\"dns\",\"handler\":\"count\"}", NULL, NULL),
		       409, "conflict", "name");
	/* Names follow the port-name rule and are never all digits. */
	expect_problem(call_h(fx, HTTP_PUT, "/api/v1/ports/p0/bindings/a%b",
			      "{\"handler\":\"count\"}", NULL, NULL),
		       422, "invalid-field", "name");
	expect_problem(call_h(fx, HTTP_POST, "/api/v1/ports/p0/bindings",
			      "{\"name\":\"53\",\"handler\":\"count\"}", NULL, NULL),
		       422, "invalid-field", "name");
	/* An all-digit path is an id: PUT replaces that one, never creates. */
	expect_problem(call_h(fx, HTTP_PUT, "/api/v1/ports/p0/bindings/9",
			      "{\"handler\":\"count\"}", NULL, NULL),
		       404, "not-found", NULL);
	snap_same(fx, &before);

	/* GET by name and by id: the same binding, with its ETag; 304 when unchanged. */
	rs = get(fx, "/api/v1/ports/p0/bindings/dns");
	expect_status(rs, 200);
	assert_string_equal(etag(rs, e2), e1);
	doc = resp_json(rs);
	rs = get(fx, "/api/v1/ports/p0/bindings/2");
	c = resp_json(rs);
	assert_true(json_equal(doc, c));
	json_decref(c);
	json_decref(doc);
	expect_status(
		call_h(fx, HTTP_GET, "/api/v1/ports/p0/bindings/dns", NULL, "If-None-Match", e1),
		304);
	expect_problem(get(fx, "/api/v1/ports/p0/bindings/dnx"), 404, "not-found", NULL);

	/* Create-only PUT of an existing name, stale If-Match: 412. */
	expect_problem(
		call_h(fx, HTTP_PUT, "/api/v1/ports/p0/bindings/dns", dns, "If-None-Match", "*"),
		412, "precondition-failed", NULL);
	expect_problem(call_h(fx, HTTP_PUT, "/api/v1/ports/p0/bindings/dns",
			      "{\"handler\":\"count\"}", "If-Match", "\"1\""),
		       412, "precondition-failed", NULL);
	snap_same(fx, &before);

	/* A different body replaces it: same id and name, new ETag. */
	rs = call_h(fx, HTTP_PUT, "/api/v1/ports/p0/bindings/dns", "{\"handler\":\"count\"}",
		    "If-Match", e1);
	expect_status(rs, 200);
	expect_changed(rs, true);
	assert_string_not_equal(etag(rs, e2), e1);
	doc = resp_json(rs);
	assert_int_equal(json_integer_value(json_object_get(doc, "id")), 2);
	json_decref(doc);
	assert_int_equal(stack_count(portset_stack(fx->a.ps, portset_find(fx->a.ps, "p0"))), 2);

	/* DELETE by name, with a stale ETag first. */
	expect_problem(
		call_h(fx, HTTP_DELETE, "/api/v1/ports/p0/bindings/dns", NULL, "If-Match", e1), 412,
		"precondition-failed", NULL);
	rs = call_h(fx, HTTP_DELETE, "/api/v1/ports/p0/bindings/dns", NULL, "If-Match", e2);
	expect_status(rs, 204);
	expect_changed(rs, true);
	expect_problem(call_h(fx, HTTP_DELETE, "/api/v1/ports/p0/bindings/dns", NULL, NULL, NULL),
		       404, "not-found", NULL);
	assert_int_equal(stack_count(portset_stack(fx->a.ps, portset_find(fx->a.ps, "p0"))), 1);
	snap_free(&before);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

/* /api/v1/info names the machine; /healthz, which needs no token, does not. */
static void test_info(void **state)
{
	struct fx *fx = *state;
	char host[HOST_NAME_MAX + 1] = "";
	struct response *rs;
	json_t *doc;

	assert_int_equal(gethostname(host, sizeof(host) - 1), 0);
	rs = get(fx, "/api/v1/info");
	expect_status(rs, 200);
	assert_string_equal(rs->content_type, "application/json");
	doc = resp_json(rs);
	assert_string_equal(json_string_value(json_object_get(doc, "hostname")), host);
	assert_true(json_is_string(json_object_get(doc, "version")));
	assert_int_equal(json_object_size(doc), 2);
	json_decref(doc);
	doc = health(fx);
	assert_null(json_object_get(doc, "hostname"));
	json_decref(doc);
	expect_problem(call(fx, HTTP_POST, "/api/v1/info", "application/json", "{}"), 405,
		       "method-not-allowed", "");

	fx->a.cfg.token = TOKEN;
	api_fx_restart(&fx->a);
	expect_problem(with_auth(fx, "/api/v1/info", NULL), 401, "unauthorized", "");
	expect_status(with_auth(fx, "/api/v1/info", "Bearer " TOKEN), 200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_not_found),
		T(test_not_utf8),
		T(test_method_not_allowed),
		T(test_options),
		T(test_head),
		T(test_healthz_and_assets),
		T(test_info),
		T(test_json_newline),
		T(test_healthz_degraded),
		T(test_healthz_hides_ports),
		T(test_too_large),
		T(test_too_large_detail),
		T(test_precheck_once),
		T(test_media_type),
		T(test_bad_json),
		T(test_unprocessable),
		T(test_create_get_list),
		T(test_create_conflicts),
		T(test_kernel_faults),
		T(test_port_error_shown),
		T(test_put),
		T(test_patch),
		T(test_delete),
		T(test_rejections_change_nothing),
		T(test_host),
		T(test_origin),
		T(test_sec_fetch_site),
		T(test_token),
		T(test_unix_socket),
		T(test_login_session),
		T(test_login_code_expires),
		T(test_login_codes_route),
		T(test_own_host_names),
		T(test_stream_wait_drain),
		T(test_stream_slot_release),
		T(test_port_etag_and_noop),
		T(test_named_bindings),
	};

	return cmocka_run_group_tests_name("api", tests, NULL, NULL);
}
