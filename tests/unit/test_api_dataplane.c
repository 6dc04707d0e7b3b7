// SPDX-License-Identifier: MIT
/*
 * Unit tests of the data-plane resources of api/ (bindings.c, captures.c,
 * transmit.c, metrics.c and the counters of ports.c) through api_handle()
 * with fake requests (support.h) over a port set on the memory port I/O,
 * frames arriving through the ports' real read loop: bindings created,
 * listed, read, deleted, refused with the field named, persisted in the
 * state file and restored with their ids; capture pages, their cursors and
 * 410s, the decoded headers of a UDP datagram, the pcap download of each
 * framing; transmit of raw, UDP and ICMP echo frames with valid checksums
 * and its refusals; and /metrics as well-formed Prometheus text agreeing
 * with the JSON counters (checked by promtool too when it is installed).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../service/build.h"
#include "../../service/capture.h"
#include "../../service/h_capture.h"
#include "../../service/log.h"
#include "../../service/parse.h"
#include "../../service/port.h"
#include "../fakes/portio_mem.h"
#include "../../service/portset.h"
#include "../../service/stack.h"
#include "support.h"

#define PROMTOOL "/usr/bin/promtool"

struct fx {
	struct api_fx a;
	uint8_t buf[PORT_FRAME_MAX + 16];
};
_Static_assert(offsetof(struct fx, a) == 0, "api_fx_setup() makes the fixture");

static struct api_fx_spec fx_spec = { sizeof(struct fx), 8 };

/* --- requests --- */

/* @body is JSON with ' for ", or NULL; @query holds name, value pairs, NULL-terminated. */
static struct response *callq(struct fx *fx, enum http_method m, const char *path, const char *body,
			      const char *const *query)
{
	char *text = body ? text_dq(body) : NULL;
	struct response *rs;
	struct fake_req fr;

	freq_init(&fr, m, path);
	freq_header(&fr, "Host", "127.0.0.1:8080");
	if (text)
		freq_body(&fr, "application/json", text);
	for (size_t i = 0; query && query[i]; i += 2)
		freq_query(&fr, query[i], query[i + 1]);
	rs = api_fx_run(&fx->a, &fr);
	free(text);
	return rs;
}

static struct response *call(struct fx *fx, enum http_method m, const char *path, const char *body)
{
	return callq(fx, m, path, body, NULL);
}

static struct response *get(struct fx *fx, const char *path)
{
	return call(fx, HTTP_GET, path, NULL);
}

static void expect_problem(const struct response *rs, int status, const char *slug,
			   const char *field)
{
	json_decref(assert_problem_of(rs, status, slug, field));
}

/* The body of a 2xx JSON response. */
static json_t *ok_json(const struct response *rs, int status)
{
	expect_status(rs, status);
	assert_string_equal(rs->content_type, "application/json");
	return resp_json(rs);
}

static void port_create(struct fx *fx, const char *body)
{
	expect_status(call(fx, HTTP_POST, "/api/v1/ports", body), 201);
}

/* POSTs a binding to @port; returns its id. */
static unsigned bind_post(struct fx *fx, const char *port, const char *body)
{
	char path[96];
	json_t *doc;
	unsigned id;

	snprintf(path, sizeof(path), "/api/v1/ports/%s/bindings", port);
	doc = ok_json(call(fx, HTTP_POST, path, body), 201);
	id = (unsigned)json_integer_value(json_object_get(doc, "id"));
	json_decref(doc);
	return id;
}

static json_t *port_counters_json(struct fx *fx, const char *port)
{
	char path[96];
	json_t *doc, *c;

	snprintf(path, sizeof(path), "/api/v1/ports/%s", port);
	doc = ok_json(get(fx, path), 200);
	c = json_incref(json_object_get(doc, "counters"));
	json_decref(doc);
	assert_non_null(c);
	return c;
}

static json_int_t jint(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		fail_msg("member %s is not an integer", key);
	return json_integer_value(v);
}

static const char *jstr(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_string(v))
		fail_msg("member %s is not a string", key);
	return json_string_value(v);
}

/* --- frames --- */

static const uint8_t mac_a[6] = { 2, 0, 0, 0, 0, 1 }, mac_b[6] = { 2, 0, 0, 0, 0, 2 };

static size_t udp_frame(uint8_t *buf, enum frame_link link, int family, uint16_t dport,
			const uint8_t *payload, size_t plen)
{
	struct build_link l = { .link = link };
	struct build_ip ip = { .family = family };
	ssize_t n;

	memcpy(l.dst, mac_b, 6);
	memcpy(l.src, mac_a, 6);
	if (family == AF_INET) {
		memcpy(ip.src, (const uint8_t[]){ 198, 18, 0, 1 }, 4);
		memcpy(ip.dst, (const uint8_t[]){ 198, 18, 0, 2 }, 4);
	} else {
		memcpy(ip.src, (const uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8, [15] = 1 }, 16);
		memcpy(ip.dst, (const uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8, [15] = 2 }, 16);
	}
	n = build_udp(buf, 2048, &l, &ip, 40000, dport, payload, plen);
	assert_true(n > 0);
	return (size_t)n;
}

static size_t udp4(uint8_t *buf, uint16_t dport)
{
	static const uint8_t payload[16] = "0123456789abcdef";

	return udp_frame(buf, LINK_ETHERNET, AF_INET, dport, payload, sizeof(payload));
}

static size_t arp_frame(uint8_t *buf)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, zero[6];
	ssize_t n = build_arp(buf, 2048, bcast, 1, mac_a, (const uint8_t[]){ 198, 18, 0, 1 }, zero,
			      (const uint8_t[]){ 198, 18, 0, 2 });

	assert_true(n > 0);
	return (size_t)n;
}

static void push(struct fx *fx, const char *port, const void *frame, size_t len)
{
	struct port *p = portset_find(fx->a.ps, port);

	assert_non_null(p);
	frame_feed(fx->a.m, p, frame, len);
}

static void hex_of(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * n] = '\0';
}

/* --- bindings --- */

static void test_bindings_crud(void **state)
{
	struct fx *fx = *state;
	struct response *rs;
	json_t *doc, *arr, *one, *c;

	port_create(fx, "{'name':'p0','type':'tap'}");
	rs = call(fx, HTTP_POST, "/api/v1/ports/p0/bindings",
		  "{'match':{'ethertype':2048,'ip_protocol':17,'udp_port':53},'handler':'count'}");
	doc = ok_json(rs, 201);
	assert_string_equal(resp_header(rs, "Location"), "/api/v1/ports/p0/bindings/1");
	assert_int_equal(jint(doc, "id"), 1);
	assert_true(json_is_null(json_object_get(doc, "name")));
	assert_true(jint(doc, "version") > 0);
	c = json_object_get(doc, "config");
	assert_int_equal(json_object_size(c), 3);
	assert_string_equal(jstr(c, "handler"), "count");
	assert_int_equal(jint(json_object_get(c, "match"), "udp_port"), 53);
	assert_int_equal(json_object_size(json_object_get(c, "options")), 0);
	assert_true(json_is_string(json_object_get(json_object_get(doc, "status"), "created")));
	c = json_object_get(doc, "counters");
	assert_int_equal(jint(c, "packets"), 0);
	assert_int_equal(jint(c, "bytes"), 0);
	assert_int_equal(jint(c, "errors"), 0);
	json_decref(doc);

	rs = call(fx, HTTP_POST, "/api/v1/ports/p0/bindings",
		  "{'handler':'capture','options':{'snaplen':64}}");
	doc = ok_json(rs, 201);
	assert_string_equal(resp_header(rs, "Location"), "/api/v1/ports/p0/bindings/2");
	assert_int_equal(
		jint(json_object_get(json_object_get(doc, "config"), "options"), "snaplen"), 64);
	c = json_object_get(doc, "counters");
	assert_int_equal(jint(c, "captured"), 0);
	assert_int_equal(jint(c, "filtered_out"), 0);
	json_decref(doc);

	/* The list, in creation order, and each one by its id. */
	doc = ok_json(get(fx, "/api/v1/ports/p0/bindings"), 200);
	arr = json_object_get(doc, "bindings");
	assert_int_equal(json_array_size(arr), 2);
	assert_int_equal(jint(json_array_get(arr, 0), "id"), 1);
	assert_int_equal(jint(json_array_get(arr, 1), "id"), 2);
	one = ok_json(get(fx, "/api/v1/ports/p0/bindings/2"), 200);
	assert_true(json_equal(one, json_array_get(arr, 1)));
	json_decref(one);
	json_decref(doc);

	/* Counters move with traffic. */
	push(fx, "p0", fx->buf, udp4(fx->buf, 53));
	one = ok_json(get(fx, "/api/v1/ports/p0/bindings/1"), 200);
	assert_int_equal(jint(json_object_get(one, "counters"), "packets"), 1);
	assert_int_equal(jint(json_object_get(one, "counters"), "bytes"), udp4(fx->buf, 53));
	json_decref(one);

	/* DELETE: 204, then gone. */
	rs = call(fx, HTTP_DELETE, "/api/v1/ports/p0/bindings/1", NULL);
	expect_status(rs, 204);
	assert_int_equal(rs->len, 0);
	expect_problem(get(fx, "/api/v1/ports/p0/bindings/1"), 404, "not-found", NULL);
	expect_problem(call(fx, HTTP_DELETE, "/api/v1/ports/p0/bindings/1", NULL), 404, "not-found",
		       NULL);
	doc = ok_json(get(fx, "/api/v1/ports/p0/bindings"), 200);
	assert_int_equal(json_array_size(json_object_get(doc, "bindings")), 1);
	json_decref(doc);

	/* Unknown ports and ids that cannot be. */
	expect_problem(get(fx, "/api/v1/ports/nope/bindings"), 404, "not-found", NULL);
	expect_problem(call(fx, HTTP_POST, "/api/v1/ports/nope/bindings", "{'handler':'count'}"),
		       404, "not-found", NULL);
	expect_problem(get(fx, "/api/v1/ports/nope/bindings/2"), 404, "not-found", NULL);
	expect_problem(get(fx, "/api/v1/ports/a%25b/bindings"), 404, "not-found", NULL);
	{
		static const char *const ids[] = { "0",	 "abc", "99999999999", "4294967296",
						   "-1", "2x",	"1e3",	       "0x2" };

		for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
			char path[96];

			snprintf(path, sizeof(path), "/api/v1/ports/p0/bindings/%s", ids[i]);
			expect_problem(get(fx, path), 404, "not-found", NULL);
			expect_problem(call(fx, HTTP_DELETE, path, NULL), 404, "not-found", NULL);
		}
	}
	/* The routes' methods. */
	rs = call(fx, HTTP_PATCH, "/api/v1/ports/p0/bindings/2", "{'handler':'count'}");
	expect_problem(rs, 405, "method-not-allowed", "");
	assert_true(list_has(resp_header(rs, "Allow"), "DELETE"));
	assert_true(list_has(resp_header(rs, "Allow"), "PUT"));
	assert_false(list_has(resp_header(rs, "Allow"), "PATCH"));
	expect_problem(call(fx, HTTP_DELETE, "/api/v1/ports/p0/bindings", NULL), 405,
		       "method-not-allowed", "");
	doc = ok_json(get(fx, "/api/v1/ports/p0/bindings"), 200);
	assert_int_equal(json_array_size(json_object_get(doc, "bindings")), 1);
	json_decref(doc);
}

static void test_bindings_invalid(void **state)
{
	static const struct {
		const char *body, *field;
	} bad[] = {
		{ "{'match':{'ethertype':2048,'udp_port':53},'handler':'count'}",
		  "match.udp_port" },
		{ "{'match':{'ethertype':70000},'handler':'count'}", "match.ethertype" },
		{ "{'match':{'ip_protocol':17},'handler':'count'}", "match.ethertype" },
		{ "{'match':{'vlan':1},'handler':'count'}", "match.vlan" },
		{ "{'handler':'mirror'}", "handler" },
		{ "{'match':{}}", "handler" },
		{ "{'handler':'echo'}", "handler" },
		{ "{'match':{'ethertype':2048},'handler':'arp_reply',"
		  "'options':{'addresses':['198.18.0.1']}}",
		  "handler" },
		{ "{'handler':'capture','options':{'limit':'all'}}", "options.limit" },
		{ "{'handler':'capture','options':{'filter':'not a filter ('}}", "options.filter" },
		{ "{'handler':'count','options':{'x':1}}", "options.x" },
		{ "{'handler':'count','extra':1}", "extra" },
		{ "{'id':5,'handler':'count'}", "id" },
	};
	struct fx *fx = *state;
	char *before, *after;
	json_t *doc;
	struct fake_req fr;

	port_create(fx, "{'name':'p0','type':'tap'}");
	port_create(fx, "{'name':'t0','type':'tun'}");
	before = file_read(fx->a.path, NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_problem(call(fx, HTTP_POST, "/api/v1/ports/p0/bindings", bad[i].body), 422,
			       "invalid-field", bad[i].field);
	/* A tun has no Ethernet layer. */
	expect_problem(call(fx, HTTP_POST, "/api/v1/ports/t0/bindings",
			    "{'match':{'ethertype':2054},'handler':'count'}"),
		       422, "invalid-field", "match.ethertype");
	expect_problem(call(fx, HTTP_POST, "/api/v1/ports/t0/bindings",
			    "{'match':{'ethertype':34525,'ip_protocol':58},'handler':'ndp_reply',"
			    "'options':{'addresses':['2001:db8::1']}}"),
		       422, "invalid-field", "handler");
	/* Bodies that are not a JSON object of the right media type. */
	expect_problem(call(fx, HTTP_POST, "/api/v1/ports/p0/bindings", "[]"), 400, NULL, NULL);
	expect_problem(call(fx, HTTP_POST, "/api/v1/ports/p0/bindings", "{'handler':"), 400, NULL,
		       NULL);
	expect_problem(call(fx, HTTP_POST, "/api/v1/ports/p0/bindings",
			    "{'handler':'count','handler':'drop'}"),
		       400, NULL, "handler");
	freq_init(&fr, HTTP_POST, "/api/v1/ports/p0/bindings");
	freq_header(&fr, "Host", "127.0.0.1:8080");
	freq_body(&fr, "text/plain", "{\"handler\":\"count\"}");
	expect_problem(api_fx_run(&fx->a, &fr), 415, "unsupported-media-type", "");

	/* Nothing changed. */
	after = file_read(fx->a.path, NULL);
	assert_string_equal(before, after);
	free(before);
	free(after);
	doc = ok_json(get(fx, "/api/v1/ports/p0/bindings"), 200);
	assert_int_equal(json_array_size(json_object_get(doc, "bindings")), 0);
	json_decref(doc);
	/* The first id is still 1. */
	assert_int_equal(bind_post(fx, "p0", "{'handler':'count'}"), 1);
}

/* forward needs a port that exists, is another and frames alike. */
static void test_bindings_forward(void **state)
{
	struct fx *fx = *state;
	const uint8_t *w;
	size_t n, wlen;
	json_t *doc;

	port_create(fx, "{'name':'p0','type':'tap'}");
	port_create(fx, "{'name':'p1','type':'tap'}");
	port_create(fx, "{'name':'t0','type':'tun'}");
	port_create(fx, "{'name':'t1','type':'tun','packet_info':true}");
	expect_problem(call(fx, HTTP_POST, "/api/v1/ports/p0/bindings",
			    "{'handler':'forward','options':{'port':'nope'}}"),
		       422, "invalid-field", "options.port");
	expect_problem(call(fx, HTTP_POST, "/api/v1/ports/p0/bindings",
			    "{'handler':'forward','options':{'port':'p0'}}"),
		       422, "invalid-field", "options.port");
	expect_problem(call(fx, HTTP_POST, "/api/v1/ports/p0/bindings",
			    "{'handler':'forward','options':{'port':'t0'}}"),
		       422, "invalid-field", "options.port");
	expect_problem(call(fx, HTTP_POST, "/api/v1/ports/t0/bindings",
			    "{'handler':'forward','options':{'port':'t1'}}"),
		       422, "invalid-field", "options.port");
	expect_problem(call(fx, HTTP_POST, "/api/v1/ports/t1/bindings",
			    "{'handler':'forward','options':{'port':'p0'}}"),
		       422, "invalid-field", "options.port");
	doc = ok_json(get(fx, "/api/v1/ports/p0/bindings"), 200);
	assert_int_equal(json_array_size(json_object_get(doc, "bindings")), 0);
	json_decref(doc);

	assert_int_equal(bind_post(fx, "p0",
				   "{'match':{'ethertype':2048},'handler':'forward',"
				   "'options':{'port':'p1'}}"),
			 1);
	n = udp4(fx->buf, 53);
	push(fx, "p0", fx->buf, n);
	push(fx, "p0", fx->buf, arp_frame(fx->buf)); /* not under 2048 */
	assert_int_equal(memio_written_count(fx->a.m, "p1"), 1);
	w = memio_written(fx->a.m, "p1", 0, &wlen);
	assert_int_equal(wlen, n);
	udp4(fx->buf, 53);
	assert_memory_equal(w, fx->buf, n);
	doc = ok_json(get(fx, "/api/v1/ports/p0/bindings/1"), 200);
	assert_int_equal(jint(json_object_get(doc, "counters"), "forwarded"), 1);
	assert_string_equal(
		jstr(json_object_get(json_object_get(doc, "config"), "options"), "port"), "p1");
	json_decref(doc);
}

static json_t *state_bindings(const struct fx *fx, const char *port)
{
	json_error_t jerr;
	json_t *doc = json_load_file(fx->a.path, JSON_REJECT_DUPLICATES, &jerr), *p, *b = NULL;
	size_t i;

	if (!doc)
		fail_msg("state file: %s", jerr.text);
	json_array_foreach(json_object_get(doc, "ports"), i, p)
		if (strcmp(jstr(p, "name"), port) == 0)
			b = json_incref(json_object_get(p, "bindings"));
	json_decref(doc);
	return b;
}

static void test_bindings_persisted(void **state)
{
	struct fx *fx = *state;
	json_t *sb, *before, *after, *arr;
	size_t i;
	json_t *b;

	port_create(fx, "{'name':'p0','type':'tap'}");
	port_create(fx, "{'name':'t0','type':'tun'}");
	port_create(fx, "{'name':'p1','type':'tap'}");
	assert_int_equal(bind_post(fx, "p0", "{'handler':'count'}"), 1);
	assert_int_equal(bind_post(fx, "p0",
				   "{'match':{'ethertype':2054},'handler':'arp_reply',"
				   "'options':{'addresses':['198.18.0.2'],"
				   "'mac':'02:00:00:00:00:99'}}"),
			 2);
	assert_int_equal(bind_post(fx, "p0",
				   "{'match':{'ethertype':2048,'ip_protocol':17,"
				   "'udp_port':53},'handler':'capture',"
				   "'options':{'limit':10,'snaplen':100,'filter':'udp'}}"),
			 3);
	assert_int_equal(bind_post(fx, "p0", "{'handler':'forward','options':{'port':'p1'}}"), 4);
	expect_status(call(fx, HTTP_DELETE, "/api/v1/ports/p0/bindings/2", NULL), 204);
	assert_int_equal(bind_post(fx, "t0", "{'match':{'ip_protocol':1},'handler':'echo'}"), 1);
	assert_int_equal(bind_post(fx, "t0",
				   "{'match':{'ip_protocol':17,'udp_port':7},"
				   "'handler':'echo'}"),
			 2);
	push(fx, "p0", fx->buf, udp4(fx->buf, 53));

	/* In the state file, as acknowledged: ids, the tun's implied ethertype. */
	sb = state_bindings(fx, "p0");
	assert_int_equal(json_array_size(sb), 3);
	assert_int_equal(jint(json_array_get(sb, 0), "id"), 1);
	assert_int_equal(jint(json_array_get(sb, 1), "id"), 3);
	assert_int_equal(jint(json_array_get(sb, 2), "id"), 4);
	json_decref(sb);
	sb = state_bindings(fx, "t0");
	assert_int_equal(jint(json_object_get(json_array_get(sb, 0), "match"), "ethertype"), 2048);
	json_decref(sb);
	assert_null(state_bindings(fx, "p1"));

	before = ok_json(get(fx, "/api/v1/ports/p0/bindings"), 200);
	assert_int_equal(
		jint(json_object_get(json_array_get(json_object_get(before, "bindings"), 0),
				     "counters"),
		     "packets"),
		1);

	/* A restart: a new port set from the same file. */
	api_fx_stop(&fx->a);
	api_fx_start(&fx->a);
	after = ok_json(get(fx, "/api/v1/ports/p0/bindings"), 200);
	arr = json_object_get(after, "bindings");
	assert_int_equal(json_array_size(arr), 3);
	json_array_foreach(arr, i, b) {
		json_t *old = json_array_get(json_object_get(before, "bindings"), i);
		const char *key;
		json_t *v;

		assert_int_equal(jint(b, "id"), jint(old, "id"));
		assert_true(json_equal(json_object_get(b, "name"), json_object_get(old, "name")));
		assert_true(
			json_equal(json_object_get(b, "config"), json_object_get(old, "config")));
		/* Counters start again at zero. */
		json_object_foreach(json_object_get(b, "counters"), key, v)
			assert_int_equal(json_integer_value(v), 0);
	}
	json_decref(before);
	json_decref(after);
	after = ok_json(get(fx, "/api/v1/ports/t0/bindings"), 200);
	arr = json_object_get(after, "bindings");
	assert_int_equal(json_array_size(arr), 2);
	assert_int_equal(
		jint(json_object_get(json_object_get(json_array_get(arr, 1), "config"), "match"),
		     "udp_port"),
		7);
	json_decref(after);
	/* Ids go on after the largest restored one, never reusing 2. */
	assert_int_equal(bind_post(fx, "p0", "{'handler':'drop'}"), 5);
	assert_int_equal(bind_post(fx, "t0", "{'handler':'drop'}"), 3);
	/* And the restored bindings work. */
	push(fx, "p0", fx->buf, udp4(fx->buf, 53));
	after = ok_json(get(fx, "/api/v1/ports/p0/bindings/3"), 200);
	assert_int_equal(jint(json_object_get(after, "counters"), "captured"), 1);
	json_decref(after);
	assert_int_equal(memio_written_count(fx->a.m, "p1"), 1);

	/* Deleting the newest before a restart does not give its id out again. */
	expect_status(call(fx, HTTP_DELETE, "/api/v1/ports/p0/bindings/5", NULL), 204);
	api_fx_stop(&fx->a);
	api_fx_start(&fx->a);
	assert_int_equal(bind_post(fx, "p0", "{'handler':'drop'}"), 6);
}

/* A refused DELETE of a binding changes nothing: order, counters, creation time. */
static void test_binding_delete_undone(void **state)
{
	struct fx *fx = *state;
	char *tmp = path_join(fx->a.dir, "state.json.tmp");
	json_t *before, *after;

	port_create(fx, "{'name':'p0','type':'tap'}");
	assert_int_equal(bind_post(fx, "p0", "{'handler':'count'}"), 1);
	assert_int_equal(bind_post(fx, "p0", "{'handler':'drop'}"), 2);
	assert_int_equal(bind_post(fx, "p0", "{'match':{'ethertype':2054},'handler':'count'}"), 3);
	push(fx, "p0", fx->buf, udp4(fx->buf, 53));
	before = ok_json(get(fx, "/api/v1/ports/p0/bindings"), 200);
	/* The state file cannot be written: its temp file is a directory. */
	assert_int_equal(mkdir(tmp, 0700), 0);
	expect_problem(call(fx, HTTP_DELETE, "/api/v1/ports/p0/bindings/1", NULL), 500,
		       "internal-error", NULL);
	after = ok_json(get(fx, "/api/v1/ports/p0/bindings"), 200);
	assert_true(json_equal(before, after));
	json_decref(before);
	json_decref(after);
	assert_int_equal(rmdir(tmp), 0);
	free(tmp);
}

/*
 * A PUT that opens the device again (packet info changed) keeps the
 * bindings and starts every counter again with a new since, so the
 * buckets still add up to the new device's rx_frames.
 */
static void test_replace_restarts_counters(void **state)
{
	struct fx *fx = *state;
	json_t *c, *b;

	port_create(fx, "{'name':'t0','type':'tun'}");
	assert_int_equal(bind_post(fx, "t0", "{'handler':'count'}"), 1);
	push(fx, "t0", fx->buf + 14, udp4(fx->buf, 53) - 14);
	c = port_counters_json(fx, "t0");
	assert_int_equal(jint(c, "rx_frames"), 1);
	assert_int_equal(jint(c, "matched"), 1);
	json_decref(c);
	expect_status(call(fx, HTTP_PUT, "/api/v1/ports/t0", "{'type':'tun','packet_info':true}"),
		      200);
	c = port_counters_json(fx, "t0");
	assert_int_equal(jint(c, "rx_frames"), 0);
	assert_int_equal(jint(c, "matched"), 0);
	json_decref(c);
	b = ok_json(get(fx, "/api/v1/ports/t0/bindings/1"), 200);
	assert_int_equal(jint(json_object_get(b, "counters"), "packets"), 0);
	json_decref(b);
}

static void test_bindings_limits(void **state)
{
	struct fx *fx = *state;
	char *before, *after;

	/* --max-bindings 2, and capture memory for one ring of 64 KiB only. */
	assert_int_equal(portset_set_dataplane(fx->a.ps, 100 << 10, 64 << 10, 2), 0);
	port_create(fx, "{'name':'p0','type':'tap'}");
	port_create(fx, "{'name':'p1','type':'tap'}");
	assert_int_equal(portset_set_dataplane(fx->a.ps, 1 << 20, 1 << 20, 8), -EBUSY);
	assert_int_equal(bind_post(fx, "p0", "{'handler':'count'}"), 1);
	assert_int_equal(bind_post(fx, "p0", "{'handler':'capture'}"), 2);
	before = file_read(fx->a.path, NULL);
	expect_problem(call(fx, HTTP_POST, "/api/v1/ports/p0/bindings", "{'handler':'count'}"), 409,
		       "limit-reached", NULL);
	/* The capture ring of p1 would pass --capture-memory. */
	expect_problem(call(fx, HTTP_POST, "/api/v1/ports/p1/bindings", "{'handler':'capture'}"),
		       409, "limit-reached", NULL);
	after = file_read(fx->a.path, NULL);
	assert_string_equal(before, after);
	free(before);
	free(after);
	/* A binding freed is room again; p1 may bind what needs no ring. */
	expect_status(call(fx, HTTP_DELETE, "/api/v1/ports/p0/bindings/1", NULL), 204);
	assert_int_equal(bind_post(fx, "p0", "{'handler':'count'}"), 3);
	assert_int_equal(bind_post(fx, "p1", "{'handler':'count'}"), 1);
}

/* --- captures --- */

static json_t *captures(struct fx *fx, const char *port, const char *const *query)
{
	char path[96];

	snprintf(path, sizeof(path), "/api/v1/ports/%s/captures", port);
	return ok_json(callq(fx, HTTP_GET, path, NULL, query), 200);
}

static void test_captures_pages(void **state)
{
	struct fx *fx = *state;
	uint64_t want_binding[14];
	json_t *doc, *recs;
	size_t n, i;
	uint64_t after = 0, seen = 0;
	json_t *r;

	port_create(fx, "{'name':'p0','type':'tap'}");
	/* No capture binding yet: an empty page, not an error. */
	doc = captures(fx, "p0", NULL);
	assert_int_equal(json_array_size(json_object_get(doc, "records")), 0);
	assert_int_equal(jint(doc, "next_after"), 0);
	assert_int_equal(jint(doc, "oldest_seq"), 0);
	assert_int_equal(jint(doc, "newest_seq"), 0);
	json_decref(doc);

	assert_int_equal(bind_post(fx, "p0",
				   "{'match':{'ethertype':2048,'ip_protocol':17},"
				   "'handler':'capture'}"),
			 1);
	assert_int_equal(bind_post(fx, "p0", "{'handler':'capture','options':{'filter':'arp'}}"),
			 2);
	/* udp ×5, arp, udp ×5, arp, arp: seq 1..13. */
	for (i = 0; i < 13; i++) {
		bool arp = i == 5 || i == 11 || i == 12;

		n = arp ? arp_frame(fx->buf) : udp4(fx->buf, (uint16_t)(1000 + i));
		push(fx, "p0", fx->buf, n);
		want_binding[i + 1] = arp ? 2 : 1;
	}

	doc = captures(fx, "p0", NULL);
	recs = json_object_get(doc, "records");
	assert_int_equal(json_array_size(recs), 13);
	assert_int_equal(jint(doc, "next_after"), 13);
	assert_int_equal(jint(doc, "oldest_seq"), 1);
	assert_int_equal(jint(doc, "newest_seq"), 13);
	json_array_foreach(recs, i, r) {
		assert_int_equal(jint(r, "seq"), i + 1);
		assert_int_equal(jint(r, "binding"), want_binding[i + 1]);
		assert_int_equal(jint(r, "len"), jint(r, "caplen"));
		assert_int_equal(strlen(jstr(r, "data")), 2 * (size_t)jint(r, "caplen"));
		assert_true(json_is_string(json_object_get(r, "time")));
		/* Taken when the frame was read: this year, not the epoch. */
		{
			char year[16];
			time_t now = time(NULL);
			struct tm tm;

			gmtime_r(&now, &tm);
			snprintf(year, sizeof(year), "%04d-", tm.tm_year + 1900);
			assert_memory_equal(jstr(r, "time"), year, 5);
		}
		assert_true(json_is_object(json_object_get(r, "headers")));
	}
	json_decref(doc);

	/* Pages of 4 chained by next_after until an empty one. */
	for (int page = 0;; page++) {
		char a[24];
		const char *q[] = { "after", a, "limit", "4", NULL };

		snprintf(a, sizeof(a), "%llu", (unsigned long long)after);
		doc = captures(fx, "p0", q);
		recs = json_object_get(doc, "records");
		assert_true(json_array_size(recs) <= 4);
		json_array_foreach(recs, i, r)
			assert_int_equal(jint(r, "seq"), ++seen);
		if (json_array_size(recs) == 0) {
			assert_int_equal(jint(doc, "next_after"), after);
			json_decref(doc);
			assert_int_equal(page, 4);
			break;
		}
		after = (uint64_t)jint(doc, "next_after");
		assert_int_equal(after, seen);
		json_decref(doc);
	}
	assert_int_equal(seen, 13);

	/* One binding's records, paged too. */
	{
		const char *q[] = { "binding", "2", NULL };
		const char *q2[] = { "binding", "2", "after", "6", "limit", "1", NULL };
		const char *q3[] = { "binding", "7", NULL };

		doc = captures(fx, "p0", q);
		recs = json_object_get(doc, "records");
		assert_int_equal(json_array_size(recs), 3);
		assert_int_equal(jint(json_array_get(recs, 0), "seq"), 6);
		assert_int_equal(jint(json_array_get(recs, 1), "seq"), 12);
		assert_int_equal(jint(json_array_get(recs, 2), "seq"), 13);
		json_array_foreach(recs, i, r) {
			assert_int_equal(jint(r, "binding"), 2);
			assert_non_null(json_object_get(json_object_get(r, "headers"), "arp"));
		}
		json_decref(doc);
		doc = captures(fx, "p0", q2);
		recs = json_object_get(doc, "records");
		assert_int_equal(json_array_size(recs), 1);
		assert_int_equal(jint(json_array_get(recs, 0), "seq"), 12);
		assert_int_equal(jint(doc, "next_after"), 12);
		json_decref(doc);
		doc = captures(fx, "p0", q3);
		assert_int_equal(json_array_size(json_object_get(doc, "records")), 0);
		json_decref(doc);
	}
	/* The largest page. */
	{
		const char *q[] = { "limit", "1000", "after", "12", NULL };

		doc = captures(fx, "p0", q);
		assert_int_equal(json_array_size(json_object_get(doc, "records")), 1);
		json_decref(doc);
	}
	/* Filter counters: the ARP capture refused the 10 UDP frames. */
	doc = ok_json(get(fx, "/api/v1/ports/p0/bindings/2"), 200);
	assert_int_equal(jint(json_object_get(doc, "counters"), "captured"), 3);
	assert_int_equal(jint(json_object_get(doc, "counters"), "filtered_out"), 10);
	json_decref(doc);

	/* Bad query values: 400 naming the parameter. */
	{
		static const char *const bad[][2] = {
			{ "after", "abc" },
			{ "after", "-1" },
			{ "after", "" },
			{ "after", "1.5" },
			{ "after", "99999999999999999999999" },
			{ "after", "18446744073709551615" },
			{ "limit", "0" },
			{ "limit", "1001" },
			{ "limit", "ten" },
			{ "limit", "" },
			{ "binding", "0" },
			{ "binding", "4294967296" },
			{ "binding", "x" },
			{ "after", " 1" },
		};

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			const char *q[] = { bad[i][0], bad[i][1], NULL };

			expect_problem(callq(fx, HTTP_GET, "/api/v1/ports/p0/captures", NULL, q),
				       400, NULL, bad[i][0]);
		}
	}
	expect_problem(get(fx, "/api/v1/ports/nope/captures"), 404, "not-found", NULL);
}

/* A small ring: eviction past a cursor is a 410 naming the oldest record left. */
static void test_captures_gone_and_clear(void **state)
{
	struct fx *fx = *state;
	uint64_t oldest, newest;
	json_t *doc, *recs;
	char a[24];

	/* 4 KiB hold about 35 of these records: 60 evict some. */
	assert_int_equal(portset_set_dataplane(fx->a.ps, 1 << 20, 4096, 16), 0);
	port_create(fx, "{'name':'p0','type':'tap'}");
	assert_int_equal(bind_post(fx, "p0", "{'handler':'capture'}"), 1);
	for (int i = 0; i < 60; i++)
		push(fx, "p0", fx->buf, udp4(fx->buf, (uint16_t)i));

	doc = ok_json(get(fx, "/api/v1/ports/p0"), 200);
	assert_true(jint(json_object_get(json_object_get(doc, "counters"), "capture"),
			 "evictions") > 0);
	json_decref(doc);
	/* Without a cursor: the oldest records retained. */
	doc = captures(fx, "p0", NULL);
	recs = json_object_get(doc, "records");
	oldest = (uint64_t)jint(doc, "oldest_seq");
	newest = (uint64_t)jint(doc, "newest_seq");
	assert_true(oldest > 1);
	assert_int_equal(newest, 60);
	assert_int_equal(json_array_size(recs), newest - oldest + 1);
	assert_int_equal(jint(json_array_get(recs, 0), "seq"), oldest);
	json_decref(doc);

	/* A cursor before the oldest retained record: 410 with oldest_seq. */
	{
		const char *q[] = { "after", "0", NULL };
		const char *q1[] = { "after", a, NULL };
		json_t *p;

		p = assert_problem_of(callq(fx, HTTP_GET, "/api/v1/ports/p0/captures", NULL, q),
				      410, "gone", NULL);
		assert_int_equal(jint(p, "oldest_seq"), oldest);
		json_decref(p);
		snprintf(a, sizeof(a), "%llu", (unsigned long long)(oldest - 2));
		p = assert_problem_of(callq(fx, HTTP_GET, "/api/v1/ports/p0/captures", NULL, q1),
				      410, "gone", NULL);
		assert_int_equal(jint(p, "oldest_seq"), oldest);
		json_decref(p);
		/* Right before the oldest: nothing was lost after it. */
		snprintf(a, sizeof(a), "%llu", (unsigned long long)(oldest - 1));
		doc = captures(fx, "p0", q1);
		assert_int_equal(jint(json_array_get(json_object_get(doc, "records"), 0), "seq"),
				 oldest);
		json_decref(doc);
	}

	/* DELETE clears; sequence numbers go on. */
	expect_status(call(fx, HTTP_DELETE, "/api/v1/ports/p0/captures", NULL), 204);
	doc = captures(fx, "p0", NULL);
	assert_int_equal(json_array_size(json_object_get(doc, "records")), 0);
	assert_int_equal(jint(doc, "oldest_seq"), 0);
	assert_int_equal(jint(doc, "newest_seq"), 60);
	json_decref(doc);
	/* A stale cursor after a clear: the 410 names the next record to come. */
	{
		const char *q[] = { "after", "3", NULL };
		json_t *p =
			assert_problem_of(callq(fx, HTTP_GET, "/api/v1/ports/p0/captures", NULL, q),
					  410, "gone", NULL);

		assert_int_equal(jint(p, "oldest_seq"), 61);
		json_decref(p);
	}
	push(fx, "p0", fx->buf, udp4(fx->buf, 7));
	{
		const char *q[] = { "after", "60", NULL };

		doc = captures(fx, "p0", q);
		recs = json_object_get(doc, "records");
		assert_int_equal(json_array_size(recs), 1);
		assert_int_equal(jint(json_array_get(recs, 0), "seq"), 61);
		assert_int_equal(jint(doc, "oldest_seq"), 61);
		json_decref(doc);
	}
	/* Clearing a port with no ring is fine too. */
	port_create(fx, "{'name':'p1','type':'tap'}");
	expect_status(call(fx, HTTP_DELETE, "/api/v1/ports/p1/captures", NULL), 204);
	expect_problem(call(fx, HTTP_DELETE, "/api/v1/ports/nope/captures", NULL), 404, "not-found",
		       NULL);
}

/* Every field Twisted Pair's protocols get, decoded from one UDP datagram. */
static void test_capture_headers(void **state)
{
	static const uint8_t payload[4] = { 0xde, 0xad, 0xbe, 0xef };
	struct fx *fx = *state;
	uint8_t *f = fx->buf, first[64];
	json_t *doc, *recs, *h, *o;
	char hex[256];
	size_t n;

	port_create(fx, "{'name':'p0','type':'tap'}");
	assert_int_equal(bind_post(fx, "p0", "{'handler':'capture'}"), 1);

	/* 14 + 20 + 8 + 4 = 46 bytes, padded to Ethernet's 60 as a NIC would, with junk. */
	n = udp_frame(first, LINK_ETHERNET, AF_INET, 53, payload, sizeof(payload));
	assert_int_equal(n, 46);
	memset(first + n, 0xee, 60 - n);
	n = 60;
	first[14 + 1] = 0xb8; /* TOS */
	first[14 + 4] = 0xbe; /* identification */
	first[14 + 5] = 0xef;
	first[14 + 8] = 17; /* TTL */
	ipv4_checksum_fix(first + 14);
	push(fx, "p0", first, n);
	/* A later fragment, and a datagram with a bad header checksum and no UDP checksum. */
	memcpy(f, first, n);
	f[14 + 6] = 0x20 | 0x01; /* MF, offset 0x100 */
	f[14 + 7] = 0x00;
	ipv4_checksum_fix(f + 14);
	push(fx, "p0", f, n);
	udp_frame(f, LINK_ETHERNET, AF_INET, 53, payload, sizeof(payload));
	memset(f + 46, 0xee, 60 - 46);
	f[14 + 20 + 6] = f[14 + 20 + 7] = 0;
	f[14 + 10] ^= 0xff;
	push(fx, "p0", f, n);

	doc = captures(fx, "p0", NULL);
	recs = json_object_get(doc, "records");
	assert_int_equal(json_array_size(recs), 3);

	h = json_object_get(json_array_get(recs, 0), "headers");
	assert_string_equal(jstr(h, "malformed"), "none");
	o = json_object_get(h, "ethernet");
	assert_string_equal(jstr(o, "src"), "02:00:00:00:00:01");
	assert_string_equal(jstr(o, "dst"), "02:00:00:00:00:02");
	assert_int_equal(jint(o, "type"), 2048);
	o = json_object_get(h, "ipv4");
	assert_int_equal(jint(o, "version"), 4);
	assert_int_equal(jint(o, "ihl"), 20);
	assert_int_equal(jint(o, "tos"), 0xb8);
	assert_int_equal(jint(o, "total_length"), 32);
	assert_int_equal(jint(o, "id"), 0xbeef);
	assert_int_equal(jint(o, "fragment_offset"), 0);
	assert_true(json_is_true(json_object_get(o, "df")));
	assert_true(json_is_false(json_object_get(o, "mf")));
	assert_int_equal(jint(o, "ttl"), 17);
	assert_int_equal(jint(o, "protocol"), 17);
	assert_string_equal(jstr(o, "src"), "198.18.0.1");
	assert_string_equal(jstr(o, "dst"), "198.18.0.2");
	assert_int_equal(jint(o, "checksum"), first[14 + 10] << 8 | first[14 + 11]);
	assert_string_equal(jstr(o, "checksum_status"), "ok");
	assert_int_equal(jint(h, "ip_protocol"), 17);
	assert_true(json_is_false(json_object_get(h, "fragment")));
	o = json_object_get(h, "udp");
	assert_int_equal(jint(o, "src_port"), 40000);
	assert_int_equal(jint(o, "dst_port"), 53);
	assert_int_equal(jint(o, "length"), 12);
	assert_int_equal(jint(o, "checksum"), first[14 + 26] << 8 | first[14 + 27]);
	assert_string_equal(jstr(o, "checksum_status"), "ok");
	/* The UDP payload, without the 14 bytes of Ethernet padding. */
	assert_string_equal(jstr(h, "payload"), "deadbeef");
	assert_int_equal(jint(h, "payload_length"), 4);
	/* The record holds the whole frame, padding included. */
	assert_int_equal(jint(json_array_get(recs, 0), "len"), 60);
	assert_int_equal(jint(json_array_get(recs, 0), "caplen"), 60);
	hex_of(first, 60, hex);
	assert_string_equal(jstr(json_array_get(recs, 0), "data"), hex);

	/* The fragment: offset and MF, no UDP layer. */
	h = json_object_get(json_array_get(recs, 1), "headers");
	o = json_object_get(h, "ipv4");
	assert_int_equal(jint(o, "fragment_offset"), 0x100);
	assert_true(json_is_true(json_object_get(o, "mf")));
	assert_true(json_is_false(json_object_get(o, "df")));
	assert_true(json_is_true(json_object_get(h, "fragment")));
	assert_null(json_object_get(h, "udp"));
	assert_null(json_object_get(h, "payload"));

	/* Bad header checksum (delivered: the port is not strict), no UDP checksum. */
	h = json_object_get(json_array_get(recs, 2), "headers");
	assert_string_equal(jstr(json_object_get(h, "ipv4"), "checksum_status"), "bad");
	assert_string_equal(jstr(json_object_get(h, "udp"), "checksum_status"), "none");
	assert_string_equal(jstr(h, "payload"), "deadbeef");
	json_decref(doc);
}

/*
 * A layer whose header was cut short has no object in the decoded headers
 * (its zeros would read as values); `malformed` names it, and the layers
 * below it are shown. ARP shows its fixed part when only addresses are cut.
 */
static void test_capture_headers_cut_short(void **state)
{
	static const uint8_t payload[4] = { 0xde, 0xad, 0xbe, 0xef };
	struct fx *fx = *state;
	uint8_t *f = fx->buf;
	json_t *doc, *recs, *h;
	size_t n;

	port_create(fx, "{'name':'p0','type':'tap'}");
	assert_int_equal(bind_post(fx, "p0", "{'handler':'capture'}"), 1);
	n = udp_frame(f, LINK_ETHERNET, AF_INET, 53, payload, sizeof(payload));
	push(fx, "p0", f, 14 + 19); /* 19 bytes of an IPv4 header */
	f[14 + 2] = 0;
	f[14 + 3] = 26; /* the IPv4 total length: 6 bytes of UDP */
	ipv4_checksum_fix(f + 14);
	push(fx, "p0", f, 14 + 26);
	n = udp_frame(f, LINK_ETHERNET, AF_INET6, 53, payload, sizeof(payload));
	push(fx, "p0", f, 14 + 39); /* 39 bytes of an IPv6 header */
	(void)n;
	/* An ARP request cut inside its fixed part, then among its addresses. */
	memset(f, 0, 14 + 28);
	memset(f, 0xff, 6);
	f[6] = 0x02;
	f[12] = 0x08;
	f[13] = 0x06;
	f[15] = 1;    /* htype 1 */
	f[16] = 0x08; /* ptype IPv4 */
	f[18] = 6;
	f[19] = 4;
	f[21] = 1; /* op: request */
	push(fx, "p0", f, 14 + 7);
	push(fx, "p0", f, 14 + 20);

	doc = captures(fx, "p0", NULL);
	recs = json_object_get(doc, "records");
	assert_int_equal(json_array_size(recs), 5);
	h = json_object_get(json_array_get(recs, 0), "headers");
	assert_string_equal(jstr(h, "malformed"), "ipv4_short");
	assert_non_null(json_object_get(h, "ethernet"));
	assert_null(json_object_get(h, "ipv4"));
	h = json_object_get(json_array_get(recs, 1), "headers");
	assert_string_equal(jstr(h, "malformed"), "udp_short");
	assert_string_equal(jstr(json_object_get(h, "ipv4"), "src"), "198.18.0.1");
	assert_null(json_object_get(h, "udp"));
	h = json_object_get(json_array_get(recs, 2), "headers");
	assert_string_equal(jstr(h, "malformed"), "ipv6_short");
	assert_null(json_object_get(h, "ipv6"));
	h = json_object_get(json_array_get(recs, 3), "headers");
	assert_string_equal(jstr(h, "malformed"), "arp_short");
	assert_null(json_object_get(h, "arp"));
	h = json_object_get(json_array_get(recs, 4), "headers");
	assert_string_equal(jstr(h, "malformed"), "arp_short");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(h, "arp"), "op")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(h, "arp"), "ptype")),
			 0x0800);
	assert_null(json_object_get(json_object_get(h, "arp"), "spa"));
	json_decref(doc);
}

/* --- streamed capture responses --- */

/* What a client received so far of a streamed response it reads piece by piece. */
struct rx {
	struct response rs;
	char *buf;
	size_t len, cap;
};

/* Starts GET @path (with @query) into @rx without reading its body. */
static void rx_start(struct fx *fx, struct rx *rx, const char *path, const char *const *query)
{
	struct fake_req fr;

	memset(rx, 0, sizeof(*rx));
	freq_init(&fr, HTTP_GET, path);
	freq_header(&fr, "Host", "127.0.0.1:8080");
	for (size_t i = 0; query && query[i]; i += 2)
		freq_query(&fr, query[i], query[i + 1]);
	api_handle(fx->a.api, &fr.rq, &rx->rs);
	expect_status(&rx->rs, 200);
	assert_non_null(rx->rs.read); /* streamed, not built in memory */
	assert_null(rx->rs.body);
}

/* One read of at most @max bytes, as the HTTP server does when the socket has room. */
static ssize_t rx_read(struct rx *rx, size_t max)
{
	ssize_t n;

	if (rx->cap - rx->len < max + 1) {
		rx->cap = rx->len + max + 1;
		rx->buf = realloc(rx->buf, rx->cap);
		assert_non_null(rx->buf);
	}
	n = rx->rs.read(rx->rs.read_ctx, rx->buf + rx->len, max);
	assert_true(n == -EAGAIN || (n >= 0 && (size_t)n <= max));
	if (n > 0)
		rx->len += (size_t)n;
	rx->buf[rx->len] = '\0';
	return n;
}

/* Reads to the end, in pieces of @max bytes. */
static void rx_drain(struct rx *rx, size_t max)
{
	ssize_t n;

	for (unsigned i = 0; i < 1000000; i++) {
		n = rx_read(rx, max);
		if (n == 0)
			return;
	}
	fail_msg("the stream did not end");
}

static json_t *rx_json(const struct rx *rx)
{
	json_error_t jerr;
	json_t *doc = json_loadb(rx->buf, rx->len, JSON_REJECT_DUPLICATES, &jerr);

	if (!doc)
		fail_msg("streamed page is not JSON (%s): %.200s", jerr.text, rx->buf);
	return doc;
}

static void rx_end(struct rx *rx)
{
	response_fini(&rx->rs);
	free(rx->buf);
}

/* A UDP frame of @plen payload bytes filled from @seed. */
static size_t big_udp(uint8_t *buf, size_t plen, unsigned seed)
{
	uint8_t payload[9000];

	assert_true(plen <= sizeof(payload));
	frame_fill(payload, plen, seed);
	return udp_frame(buf, LINK_ETHERNET, AF_INET, 9, payload, plen);
}

static void hex_expect(const char *hex, const uint8_t *p, size_t n)
{
	char want[2 * 1600 + 1];

	assert_true(n <= 1600);
	hex_of(p, n, want);
	assert_string_equal(hex, want);
}

/*
 * A page of large records stops at the byte budget (1 MiB) before `limit`,
 * says so, and its next_after continues exactly where it stopped.
 */
static void test_captures_page_budget(void **state)
{
	const char *q[] = { "limit", "1000", "after", NULL, NULL };
	struct fx *fx = *state;
	uint64_t after = 0, seq = 0;
	unsigned pages = 0;
	char a[24];

	port_create(fx, "{'name':'p0','type':'tap'}");
	assert_int_equal(bind_post(fx, "p0", "{'handler':'capture'}"), 1);
	for (unsigned i = 0; i < 1200; i++)
		push(fx, "p0", fx->buf, big_udp(fx->buf, 1400, i));

	/* The default limit (100) ends a page before the budget does. */
	{
		json_t *doc = captures(fx, "p0", NULL);

		assert_string_equal(jstr(doc, "stop"), "limit");
		assert_int_equal(json_array_size(json_object_get(doc, "records")), 100);
		json_decref(doc);
	}
	do {
		json_t *doc, *recs;
		size_t n;

		snprintf(a, sizeof(a), "%llu", (unsigned long long)after);
		q[3] = a;
		doc = captures(fx, "p0", q);
		recs = json_object_get(doc, "records");
		n = json_array_size(recs);
		assert_true(n > 0 && n < 1000);
		/* No record is started past 1 MiB: the page ends within one record of it. */
		assert_true(fx->a.rs.len < (1u << 20) + 8 * 1024);
		for (size_t i = 0; i < n; i++)
			assert_int_equal(jint(json_array_get(recs, i), "seq"), ++seq);
		assert_int_equal(jint(doc, "next_after"), seq);
		after = seq;
		pages++;
		if (seq < 1200) {
			assert_true(fx->a.rs.len >= 1u << 20);
			assert_string_equal(jstr(doc, "stop"), "bytes");
		} else {
			assert_string_equal(jstr(doc, "stop"), "newest");
		}
		json_decref(doc);
	} while (seq < 1200);
	assert_true(pages >= 7); /* 1200 records of ~5.8 KB of JSON each */
}

/*
 * Clients that do not read cost a bounded amount each, whatever the page or
 * the ring holds: 32 streams of full pages and pcap files, each read once,
 * hold well under 64 KiB apiece (building the bodies would take ~6 MB each).
 */
static void test_captures_stream_memory(void **state)
{
	const char *q[] = { "limit", "1000", NULL };
	struct fx *fx = *state;
	struct rx rx[32];
	struct mallinfo2 before, after;

	port_create(fx, "{'name':'p0','type':'tap'}");
	assert_int_equal(bind_post(fx, "p0", "{'handler':'capture'}"), 1);
	for (unsigned i = 0; i < 1200; i++)
		push(fx, "p0", fx->buf, big_udp(fx->buf, 1400, i));
	before = mallinfo2();
	for (unsigned i = 0; i < 32; i++) {
		if (i % 2)
			rx_start(fx, &rx[i], "/api/v1/ports/p0/captures.pcap", NULL);
		else
			rx_start(fx, &rx[i], "/api/v1/ports/p0/captures", q);
		/* What the server reads while the client's socket buffer fills, once. */
		assert_true(rx_read(&rx[i], 16384) > 0);
	}
	after = mallinfo2();
	{
		size_t used = (after.uordblks + after.hblkhd) - (before.uordblks + before.hblkhd);

		print_message("32 stalled capture streams hold %zu bytes\n", used);
		assert_true(used < 32 * 64 * 1024);
	}
	for (unsigned i = 0; i < 32; i++)
		rx_end(&rx[i]);
}

/*
 * Memory per binding (issue 11): a count binding holds none of the other
 * kinds' options (binding.h): 128 bytes, not 656 with the options union
 * of every kind. In use per binding, with its lists and its share of the
 * index (a 2048-slot table for these 500 nodes), about 0.3 KB; it was 0.8.
 * (The state file's share, written a binding at a time, is test_state's.)
 */
static void test_binding_memory(void **state)
{
	struct fx *fx = *state;
	struct mallinfo2 before, after;
	char body[160];
	size_t used;
	const unsigned n = 500;

	port_create(fx, "{'name':'p0','type':'tap'}");
	bind_post(fx, "p0",
		  "{'match':{'ethertype':2048,'ip_protocol':17,'udp_port':999},"
		  "'handler':'count'}");
	before = mallinfo2();
	for (unsigned i = 0; i < n; i++) {
		snprintf(body, sizeof(body),
			 "{'match':{'ethertype':2048,'ip_protocol':17,'udp_port':%u},"
			 "'handler':'count'}",
			 1000 + i);
		bind_post(fx, "p0", body);
	}
	after = mallinfo2();
	used = (after.uordblks + after.hblkhd) - (before.uordblks + before.hblkhd);
	print_message("%u count bindings: %zu bytes in use each\n", n, used / n);
	assert_true(used < n * 512);
}

/*
 * Records evicted while a client is reading: the record being sent is sent
 * whole and unchanged (it was copied), the stream stops at the first one
 * that is gone, the page says so, and its next_after then answers 410. A
 * pcap file ends after its last whole record.
 */
static void test_captures_stream_evicted(void **state)
{
	const char *q[] = { "limit", "1000", NULL };
	struct fx *fx = *state;
	uint8_t first[1600];
	size_t first_len;
	struct rx page, pcap;
	json_t *doc, *recs;
	char a[24];

	assert_int_equal(portset_set_dataplane(fx->a.ps, 1 << 20, 64 * 1024, 16), 0);
	port_create(fx, "{'name':'p0','type':'tap'}");
	assert_int_equal(bind_post(fx, "p0", "{'handler':'capture'}"), 1);
	first_len = big_udp(first, 1000, 1);
	push(fx, "p0", first, first_len);
	for (unsigned i = 2; i <= 20; i++)
		push(fx, "p0", fx->buf, big_udp(fx->buf, 1000, i));

	rx_start(fx, &page, "/api/v1/ports/p0/captures", q);
	rx_start(fx, &pcap, "/api/v1/ports/p0/captures.pcap", NULL);
	/* Into the first record's hex data (JSON), into its bytes (pcap). */
	assert_true(rx_read(&page, 700) > 0);
	assert_true(rx_read(&pcap, 24 + 16 + 100) > 0);
	/* Enough new records to evict every one the streams have not sent. */
	for (unsigned i = 0; i < 200; i++)
		push(fx, "p0", fx->buf, big_udp(fx->buf, 1000, 1000 + i));
	rx_drain(&page, 333);
	rx_drain(&pcap, 333);

	doc = rx_json(&page);
	recs = json_object_get(doc, "records");
	assert_int_equal(json_array_size(recs), 1);
	assert_int_equal(jint(json_array_get(recs, 0), "seq"), 1);
	hex_expect(jstr(json_array_get(recs, 0), "data"), first, first_len);
	assert_string_equal(jstr(doc, "stop"), "evicted");
	assert_int_equal(jint(doc, "next_after"), 1);
	json_decref(doc);
	snprintf(a, sizeof(a), "%d", 1);
	{
		const char *q2[] = { "after", a, NULL };

		expect_problem(callq(fx, HTTP_GET, "/api/v1/ports/p0/captures", NULL, q2), 410,
			       "gone", NULL);
	}
	/* The pcap: the header and exactly the first record, whole. */
	assert_int_equal(pcap.len, 24 + 16 + first_len);
	assert_memory_equal(pcap.buf + 40, first, first_len);
	rx_end(&page);
	rx_end(&pcap);
}

/*
 * A port deleted while clients read its captures: the streams end cleanly
 * (the page says "removed"), never touching the freed ring, also when a
 * port of the same name and a new ring take its place.
 */
static void test_captures_stream_port_deleted(void **state)
{
	const char *q[] = { "limit", "1000", NULL };
	struct fx *fx = *state;
	struct rx page, pcap, idle;
	json_t *doc;

	port_create(fx, "{'name':'p0','type':'tap'}");
	assert_int_equal(bind_post(fx, "p0", "{'handler':'capture'}"), 1);
	for (unsigned i = 0; i < 50; i++)
		push(fx, "p0", fx->buf, big_udp(fx->buf, 1000, i));
	rx_start(fx, &page, "/api/v1/ports/p0/captures", q);
	rx_start(fx, &pcap, "/api/v1/ports/p0/captures.pcap", NULL);
	rx_start(fx, &idle, "/api/v1/ports/p0/captures", q);
	assert_true(rx_read(&page, 5000) > 0);
	assert_true(rx_read(&pcap, 5000) > 0);

	expect_status(call(fx, HTTP_DELETE, "/api/v1/ports/p0", NULL), 204);
	port_create(fx, "{'name':'p0','type':'tap'}");
	assert_int_equal(bind_post(fx, "p0", "{'handler':'capture'}"), 1);
	for (unsigned i = 0; i < 50; i++)
		push(fx, "p0", fx->buf, big_udp(fx->buf, 1000, 100 + i));

	rx_drain(&page, 4096);
	rx_drain(&pcap, 4096);
	doc = rx_json(&page);
	assert_string_equal(jstr(doc, "stop"), "removed");
	/* Only records of the old ring, and only those started before the delete. */
	assert_true(json_array_size(json_object_get(doc, "records")) <= 2);
	json_decref(doc);
	assert_true(pcap.len >= 24);
	rx_end(&page);
	rx_end(&pcap);
	rx_end(&idle); /* a stream never read is freed all the same */
}

/*
 * Each read does a bounded amount of work: records of other bindings are
 * skipped a few thousand at a time, and the reader asks to be called again
 * rather than walking the whole ring in one go.
 */
static void test_captures_stream_yields(void **state)
{
	const char *q[] = { "binding", "2", "limit", "1000", NULL };
	struct fx *fx = *state;
	struct rx rx;
	json_t *doc;

	port_create(fx, "{'name':'p0','type':'tap'}");
	assert_int_equal(bind_post(fx, "p0", "{'handler':'capture'}"), 1);
	for (unsigned i = 0; i < 10000; i++)
		push(fx, "p0", fx->buf, udp4(fx->buf, (uint16_t)i));
	rx_start(fx, &rx, "/api/v1/ports/p0/captures", q);
	assert_int_equal(rx_read(&rx, 65536), (ssize_t)strlen("{\"records\":["));
	assert_int_equal(rx_read(&rx, 65536), -EAGAIN);
	rx_drain(&rx, 65536);
	doc = rx_json(&rx);
	assert_int_equal(json_array_size(json_object_get(doc, "records")), 0);
	assert_string_equal(jstr(doc, "stop"), "newest");
	json_decref(doc);
	rx_end(&rx);
}

/* --- the pcap download --- */

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4); /* the writer's (our) byte order: magic a1b2c3d4 as read */
	return v;
}

/* Checks a pcap file's header; returns the number of records, each checked by @want. */
static size_t pcap_check(const struct response *rs, uint32_t linktype, const uint8_t *const *want,
			 const size_t *want_len, size_t n_want)
{
	const uint8_t *p = (const uint8_t *)resp_text(rs);
	size_t off = 24, n = 0;

	expect_status(rs, 200);
	assert_string_equal(rs->content_type, "application/vnd.tcpdump.pcap");
	assert_non_null(resp_header(rs, "Content-Disposition"));
	assert_true(rs->len >= 24);
	assert_int_equal(rd32(p), 0xa1b2c3d4);
	assert_int_equal(p[4] | p[5] << 8, 2);
	assert_int_equal(p[6] | p[7] << 8, 4);
	assert_int_equal(rd32(p + 16), 262144);
	assert_int_equal(rd32(p + 20), linktype);
	while (off < rs->len) {
		uint32_t incl, orig;

		assert_true(off + 16 <= rs->len);
		incl = rd32(p + off + 8);
		orig = rd32(p + off + 12);
		assert_true(off + 16 + incl <= rs->len);
		assert_true(n < n_want);
		assert_int_equal(orig, want_len[n]);
		assert_true(incl <= orig);
		assert_memory_equal(p + off + 16, want[n], incl);
		/* a timestamp of this century, microseconds below a second */
		assert_true(rd32(p + off) > 1600000000u);
		assert_true(rd32(p + off + 4) < 1000000u);
		off += 16 + incl;
		n++;
	}
	assert_int_equal(off, rs->len);
	return n;
}

/* --- captures that follow (issue 8) --- */

struct twake {
	struct response_wake w;
	unsigned n;
};

static void twake_fn(struct response_wake *w)
{
	((struct twake *)w)->n++;
}

/* Starts a GET into @rs (not drained), with @query pairs; attaches @tw when it waits. */
static void stream_start(struct fx *fx, struct response *rs, const char *path,
			 const char *const *query, struct twake *tw)
{
	struct fake_req fr;

	freq_init(&fr, HTTP_GET, path);
	freq_header(&fr, "Host", "127.0.0.1:8080");
	for (size_t i = 0; query && query[i]; i += 2)
		freq_query(&fr, query[i], query[i + 1]);
	memset(rs, 0, sizeof(*rs));
	api_handle(fx->a.api, &fr.rq, rs);
	tw->w.wake = twake_fn;
	tw->n = 0;
	if (rs->attach_wake)
		rs->attach_wake(rs->read_ctx, &tw->w);
}

/*
 * captures.pcap?follow=true: the header and the records there are, then a
 * wait (no busy loop: RESPONSE_WAIT), one wake per arm when frames arrive,
 * the new records, and the end when the port goes. At --max-streams a
 * further follower gets 503. Before: follow was ignored and the file ended.
 */
static void test_follow_pcap(void **state)
{
	static const char *const q[] = { "follow", "true", NULL };
	struct fx *fx = *state;
	struct response f1, f2;
	struct twake w1, w2;
	uint8_t fr[128];
	size_t len = udp4(fr, 53), rec = 16 + len;

	api_fx_stop(&fx->a);
	fx->a.cfg.max_streams = 1;
	api_fx_start(&fx->a);
	port_create(fx, "{'name':'p0','type':'tap'}");
	/* Nothing to follow without a capture binding. */
	expect_problem(callq(fx, HTTP_GET, "/api/v1/ports/p0/captures.pcap", NULL, q), 409,
		       "conflict", NULL);
	bind_post(fx, "p0", "{'handler':'capture'}");
	push(fx, "p0", fr, len);
	push(fx, "p0", fr, len);
	stream_start(fx, &f1, "/api/v1/ports/p0/captures.pcap", q, &w1);
	expect_status(&f1, 200);
	assert_true(f1.long_lived);
	assert_int_equal(api_streams(fx->a.api), 1);
	assert_int_equal(response_drain(&f1), RESPONSE_WAIT);
	assert_int_equal(f1.len, 24 + 2 * rec);
	assert_int_equal(w1.n, 0);

	/* The cap: one stream here. */
	stream_start(fx, &f2, "/api/v1/ports/p0/captures.pcap", q, &w2);
	expect_problem(&f2, 503, "too-many-streams", NULL);
	assert_non_null(resp_header(&f2, "Retry-After"));
	response_fini(&f2);
	/*
	 * The slot is taken before a filter is compiled: a refused follower
	 * costs none (a bad filter shows it: before, 400 for the filter).
	 */
	{
		static const char *const qf[] = { "follow", "true", "filter", "udp port x", NULL };
		uint64_t compiles = capture_filter_compiles();

		stream_start(fx, &f2, "/api/v1/ports/p0/captures.pcap", qf, &w2);
		expect_problem(&f2, 503, "too-many-streams", NULL);
		assert_null(resp_header(&f2, "Content-Disposition"));
		response_fini(&f2);
		assert_int_equal(capture_filter_compiles(), compiles);
		assert_int_equal(api_streams(fx->a.api), 1);
	}

	/* Two frames, one wake: the watcher is disarmed until the reader waits again. */
	push(fx, "p0", fr, len);
	push(fx, "p0", fr, len);
	assert_int_equal(w1.n, 1);
	assert_int_equal(response_drain(&f1), RESPONSE_WAIT);
	assert_int_equal(f1.len, 24 + 4 * rec);
	push(fx, "p0", fr, len);
	assert_int_equal(w1.n, 2);
	assert_int_equal(response_drain(&f1), RESPONSE_WAIT);
	/* The port goes: the waiting stream is woken, and ends whole. */
	expect_status(call(fx, HTTP_DELETE, "/api/v1/ports/p0", NULL), 204);
	assert_int_equal(w1.n, 3);
	assert_int_equal(response_drain(&f1), 0);
	assert_int_equal(f1.len, 24 + 5 * rec);
	assert_int_equal(api_streams(fx->a.api), 0);
	response_fini(&f1);
}

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

struct ng_summary {
	unsigned idbs, epbs, drops;
	char if_names[2][16];
	uint16_t linktypes[2];
	char last_comment[128];
	uint32_t last_ifid;
	uint64_t dropcount;
};

/* Walks a pcapng file block by block, checking every length. */
static void ng_parse(const uint8_t *p, size_t len, struct ng_summary *out)
{
	size_t off = 0;

	memset(out, 0, sizeof(*out));
	assert_true(len >= 28);
	assert_int_equal(rd32(p), 0x0A0D0D0A);
	assert_int_equal(rd32(p + 8), 0x1A2B3C4D);
	while (off < len) {
		uint32_t type = rd32(p + off), blen = rd32(p + off + 4);
		size_t o;

		assert_true(blen >= 12 && blen % 4 == 0 && off + blen <= len);
		assert_int_equal(rd32(p + off + blen - 4), blen);
		if (type == 1) {
			assert_true(out->idbs < 2);
			out->linktypes[out->idbs] = rd16(p + off + 8);
			for (o = off + 16; rd16(p + o) != 0;
			     o += 4 + ((rd16(p + o + 2) + 3u) & ~3u))
				if (rd16(p + o) == 2)
					memcpy(out->if_names[out->idbs], p + o + 4,
					       rd16(p + o + 2) < 15 ? rd16(p + o + 2) : 15);
			out->idbs++;
		} else if (type == 6) {
			uint32_t incl = rd32(p + off + 20);

			out->epbs++;
			out->last_ifid = rd32(p + off + 8);
			for (o = off + 28 + ((incl + 3u) & ~3u); rd16(p + o) != 0;
			     o += 4 + ((rd16(p + o + 2) + 3u) & ~3u)) {
				if (rd16(p + o) == 1 &&
				    rd16(p + o + 2) < sizeof(out->last_comment)) {
					memcpy(out->last_comment, p + o + 4, rd16(p + o + 2));
					out->last_comment[rd16(p + o + 2)] = '\0';
				}
				if (rd16(p + o) == 4) {
					out->drops++;
					memcpy(&out->dropcount, p + o + 4, 8);
				}
			}
		}
		off += blen;
	}
}

/*
 * pcapng: a section header, an interface per port with its name and link
 * type, records with the binding in a comment; across two ports, each
 * record on its port's interface; a follower that fell behind the ring gets
 * the records it missed counted (epb_dropcount) and reported. Before: no
 * such routes (404).
 */
static void test_pcapng(void **state)
{
	static const char *const two[] = { "ports", "p0,t0", NULL };
	static const char *const twof[] = { "ports", "p0,t0", "follow", "true", NULL };
	static const char *const follow[] = { "follow", "true", NULL };
	struct fx *fx = *state;
	struct ng_summary ng;
	struct response f1;
	struct twake w1;
	uint8_t fr[2048];
	size_t len = udp4(fr, 53);
	struct response *rs;
	struct fake_req freq;

	port_create(fx, "{'name':'p0','type':'tap'}");
	port_create(fx, "{'name':'t0','type':'tun'}");
	bind_post(fx, "p0", "{'handler':'capture'}");
	bind_post(fx, "p0", "{'handler':'count'}");
	assert_int_equal(bind_post(fx, "p0", "{'handler':'capture'}"), 3);
	bind_post(fx, "t0", "{'handler':'capture'}");
	push(fx, "p0", fr, len);
	rs = get(fx, "/api/v1/ports/p0/captures.pcapng");
	expect_status(rs, 200);
	assert_string_equal(rs->content_type, "application/x-pcapng");
	ng_parse((const uint8_t *)rs->body, rs->len, &ng);
	assert_int_equal(ng.idbs, 1);
	assert_string_equal(ng.if_names[0], "p0");
	assert_int_equal(ng.linktypes[0], 1);
	assert_int_equal(ng.epbs, 2); /* two capture bindings, one record each */
	assert_string_equal(ng.last_comment, "binding 3");

	/* Accept: application/x-pcapng on captures.pcap. */
	freq_init(&freq, HTTP_GET, "/api/v1/ports/p0/captures.pcap");
	freq_header(&freq, "Host", "127.0.0.1:8080");
	freq_header(&freq, "Accept", "application/x-pcapng");
	rs = api_fx_run(&fx->a, &freq);
	assert_string_equal(rs->content_type, "application/x-pcapng");

	/* Two ports, one interface each, in order; a tun's packets are LINKTYPE_RAW. */
	len = udp_frame(fr, LINK_IP, AF_INET, 7, (const uint8_t *)"x", 1);
	push(fx, "t0", fr, len);
	rs = callq(fx, HTTP_GET, "/api/v1/captures.pcapng", NULL, two);
	ng_parse((const uint8_t *)rs->body, rs->len, &ng);
	assert_int_equal(ng.idbs, 2);
	assert_string_equal(ng.if_names[1], "t0");
	assert_int_equal(ng.linktypes[1], 101);
	assert_int_equal(ng.epbs, 3);
	assert_int_equal(ng.last_ifid, 1); /* the tun's record came last */
	expect_problem(callq(fx, HTTP_GET, "/api/v1/captures.pcapng", NULL,
			     (const char *const[]){ "ports", "p0,nope", NULL }),
		       404, "not-found", "ports");
	expect_problem(callq(fx, HTTP_GET, "/api/v1/captures.pcapng", NULL,
			     (const char *const[]){ "ports", "p0,p0", NULL }),
		       400, NULL, "ports");
	expect_problem(get(fx, "/api/v1/captures.pcapng"), 400, NULL, "ports");

	/* Following both: a record on either wakes it. */
	stream_start(fx, &f1, "/api/v1/captures.pcapng", twof, &w1);
	assert_int_equal(response_drain(&f1), RESPONSE_WAIT);
	push(fx, "t0", fr, len);
	assert_int_equal(w1.n, 1);
	assert_int_equal(response_drain(&f1), RESPONSE_WAIT);
	ng_parse((const uint8_t *)f1.body, f1.len, &ng);
	assert_int_equal(ng.epbs, 4);
	response_fini(&f1);

	/* A follower behind the ring: what it missed is counted, never buffered. */
	len = udp4(fr, 53);
	stream_start(fx, &f1, "/api/v1/ports/p0/captures.pcapng", follow, &w1);
	assert_int_equal(response_drain(&f1), RESPONSE_WAIT);
	{
		struct capture_stats st;
		uint64_t before;

		capture_ring_stats(
			stack_ring(portset_stack(fx->a.ps, portset_find(fx->a.ps, "p0"))), &st);
		before = st.evictions;
		/* 8 MiB ring, ~170-byte records: about 50000 records fill it. */
		for (int i = 0; i < 40000; i++)
			push(fx, "p0", fr, len);
		capture_ring_stats(
			stack_ring(portset_stack(fx->a.ps, portset_find(fx->a.ps, "p0"))), &st);
		assert_true(st.evictions > before);
	}
	assert_int_equal(w1.n, 1);
	assert_int_equal(response_drain(&f1), RESPONSE_WAIT);
	ng_parse((const uint8_t *)f1.body, f1.len, &ng);
	assert_int_equal(ng.drops, 1);
	assert_true(ng.dropcount > 0);
	assert_int_equal(ng.epbs + ng.dropcount, 2 + 80000);
	response_fini(&f1);
	rs = get(fx, "/metrics");
	assert_non_null(strstr(resp_text(rs), "paird_capture_stream_missed_total "));
	/* Process-wide: the other tests' streams are all closed by now. */
	assert_non_null(strstr(resp_text(rs), "paird_capture_streams 0\n"));
}

/*
 * Cursors: a page gives the ring's generation; a cursor beyond the newest
 * record or of another generation is a 409 saying so (before: an empty
 * page); a clear makes a new generation. A long poll (?wait=) waits for the
 * first record after the cursor and answers with it.
 */
static void test_cursors_and_wait(void **state)
{
	struct fx *fx = *state;
	char gen[32], newest[32];
	json_t *doc;
	struct response lp;
	struct twake w;
	uint8_t fr[128];
	size_t len = udp4(fr, 53);
	json_int_t g1;

	port_create(fx, "{'name':'p0','type':'tap'}");
	bind_post(fx, "p0", "{'handler':'capture'}");
	push(fx, "p0", fr, len);
	doc = ok_json(get(fx, "/api/v1/ports/p0/captures"), 200);
	g1 = jint(doc, "generation");
	assert_true(g1 > 0);
	json_decref(doc);
	snprintf(gen, sizeof(gen), "%lld", (long long)g1);
	expect_problem(callq(fx, HTTP_GET, "/api/v1/ports/p0/captures", NULL,
			     (const char *const[]){ "after", "999999", NULL }),
		       409, "cursor-ahead", NULL);
	expect_problem(callq(fx, HTTP_GET, "/api/v1/ports/p0/captures.pcap", NULL,
			     (const char *const[]){ "after", "2", NULL }),
		       409, "cursor-ahead", NULL);
	expect_status(callq(fx, HTTP_GET, "/api/v1/ports/p0/captures", NULL,
			    (const char *const[]){ "after", "1", "generation", gen, NULL }),
		      200);
	expect_status(call(fx, HTTP_DELETE, "/api/v1/ports/p0/captures", NULL), 204);
	doc = assert_problem_of(
		callq(fx, HTTP_GET, "/api/v1/ports/p0/captures", NULL,
		      (const char *const[]){ "after", "1", "generation", gen, NULL }),
		409, "cursor-generation", NULL);
	assert_true(jint(doc, "generation") != g1);
	json_decref(doc);

	/* A long poll: nothing after seq 1 yet, so it waits; a record ends the wait. */
	stream_start(fx, &lp, "/api/v1/ports/p0/captures",
		     (const char *const[]){ "after", "1", "wait", "30", NULL }, &w);
	expect_status(&lp, 200);
	assert_int_equal(response_drain(&lp), RESPONSE_WAIT);
	push(fx, "p0", fr, len);
	assert_int_equal(w.n, 1);
	assert_int_equal(response_drain(&lp), 0);
	doc = resp_json(&lp);
	assert_int_equal(json_array_size(json_object_get(doc, "records")), 1);
	assert_int_equal(jint(doc, "next_after"), 2);
	json_decref(doc);
	response_fini(&lp);
	snprintf(newest, sizeof(newest), "%d", 2);
	/* A record there already: no wait at all. */
	doc = ok_json(callq(fx, HTTP_GET, "/api/v1/ports/p0/captures", NULL,
			    (const char *const[]){ "after", "1", "wait", "30", NULL }),
		      200);
	assert_int_equal(json_array_size(json_object_get(doc, "records")), 1);
	json_decref(doc);
	expect_problem(callq(fx, HTTP_GET, "/api/v1/ports/p0/captures", NULL,
			     (const char *const[]){ "wait", "61", NULL }),
		       400, NULL, "wait");
}

/*
 * ?filter=&snaplen= on a stream that follows: no binding needed; only what
 * passes the filter, cut to snaplen, from the stream's own ring; nothing
 * of it stays (bindings, capture memory) once the client goes; the port's
 * deletion ends it. Before: the parameters were ignored (and follow was).
 */
static void test_follow_own_capture(void **state)
{
	static const char *const q[] = { "follow",  "true", "filter", "udp dst port 53",
					 "snaplen", "20",   NULL };
	struct fx *fx = *state;
	struct response f1;
	struct twake w1;
	uint8_t fr[128];
	size_t len, used0 = capture_budget_used(portset_budget(fx->a.ps));
	const uint8_t *p;

	port_create(fx, "{'name':'p0','type':'tap'}");
	expect_problem(callq(fx, HTTP_GET, "/api/v1/ports/p0/captures.pcap", NULL,
			     (const char *const[]){ "filter", "udp", NULL }),
		       400, NULL, "filter");
	expect_problem(
		callq(fx, HTTP_GET, "/api/v1/ports/p0/captures.pcap", NULL,
		      (const char *const[]){ "follow", "true", "filter", "udp port x", NULL }),
		400, NULL, "filter");
	stream_start(fx, &f1, "/api/v1/ports/p0/captures.pcap", q, &w1);
	expect_status(&f1, 200);
	assert_true(capture_budget_used(portset_budget(fx->a.ps)) > used0);
	assert_int_equal(response_drain(&f1), RESPONSE_WAIT);
	assert_int_equal(f1.len, 24);
	len = udp4(fr, 54);
	push(fx, "p0", fr, len); /* filtered out: no wake */
	assert_int_equal(w1.n, 0);
	len = udp4(fr, 53);
	push(fx, "p0", fr, len);
	assert_int_equal(w1.n, 1);
	assert_int_equal(response_drain(&f1), RESPONSE_WAIT);
	assert_int_equal(f1.len, 24 + 16 + 20);
	p = (const uint8_t *)f1.body + 24;
	assert_int_equal(rd32(p + 8), 20);   /* incl_len: snaplen */
	assert_int_equal(rd32(p + 12), len); /* orig_len */
	/* No binding, no port ring: the stream's capture is its own. */
	assert_int_equal(stack_count(portset_stack(fx->a.ps, portset_find(fx->a.ps, "p0"))), 0);
	assert_null(stack_ring(portset_stack(fx->a.ps, portset_find(fx->a.ps, "p0"))));
	response_fini(&f1); /* the client goes */
	assert_int_equal(capture_budget_used(portset_budget(fx->a.ps)), used0);
	push(fx, "p0", fr, len); /* the tap is gone with it */

	/* The port deleted under a stream: the stream ends with what it had. */
	stream_start(fx, &f1, "/api/v1/ports/p0/captures.pcapng", q, &w1);
	assert_int_equal(response_drain(&f1), RESPONSE_WAIT);
	push(fx, "p0", fr, len);
	expect_status(call(fx, HTTP_DELETE, "/api/v1/ports/p0", NULL), 204);
	assert_int_equal(response_drain(&f1), 0);
	{
		struct ng_summary ng;

		ng_parse((const uint8_t *)f1.body, f1.len, &ng);
		assert_int_equal(ng.epbs, 1);
		assert_string_equal(ng.last_comment, "stream capture");
	}
	response_fini(&f1);
	assert_int_equal(capture_budget_used(portset_budget(fx->a.ps)), used0);
}

static void test_captures_pcap(void **state)
{
	struct fx *fx = *state;
	uint8_t frames[3][128];
	const uint8_t *want[3];
	size_t len[3], wlen[3];
	struct response *rs;
	static const uint8_t pl[8] = "pcap-pl";

	port_create(fx, "{'name':'p0','type':'tap'}");
	port_create(fx, "{'name':'t0','type':'tun'}");
	port_create(fx, "{'name':'t1','type':'tun','packet_info':true}");

	/* No ring yet: a valid file with no records. */
	rs = get(fx, "/api/v1/ports/p0/captures.pcap");
	assert_int_equal(pcap_check(rs, 1, NULL, NULL, 0), 0);
	assert_int_equal(rs->len, 24);

	assert_int_equal(bind_post(fx, "p0", "{'handler':'capture'}"), 1);
	assert_int_equal(bind_post(fx, "p0",
				   "{'match':{'ethertype':2054},'handler':'capture',"
				   "'options':{'snaplen':20}}"),
			 2);
	len[0] = udp4(frames[0], 53);
	len[1] = arp_frame(frames[1]);
	for (int i = 0; i < 2; i++)
		push(fx, "p0", frames[i], len[i]);
	/* seq 1: udp (binding 1); seq 2: arp (1); seq 3: arp cut to 20 bytes (2). */
	want[0] = frames[0];
	want[1] = want[2] = frames[1];
	wlen[0] = len[0];
	wlen[1] = wlen[2] = len[1];
	rs = get(fx, "/api/v1/ports/p0/captures.pcap");
	assert_int_equal(pcap_check(rs, 1, want, wlen, 3), 3);
	assert_string_equal(resp_header(rs, "Content-Disposition"),
			    "attachment; filename=\"p0.pcap\"");
	{
		const uint8_t *p = (const uint8_t *)resp_text(rs);
		size_t last = rs->len - 16 - 20;

		assert_int_equal(rd32(p + last + 8), 20);
	}
	{
		const char *q[] = { "binding", "2", NULL };
		const char *bad[] = { "binding", "0", NULL };

		rs = callq(fx, HTTP_GET, "/api/v1/ports/p0/captures.pcap", NULL, q);
		assert_int_equal(pcap_check(rs, 1, want + 2, wlen + 2, 1), 1);
		expect_problem(callq(fx, HTTP_GET, "/api/v1/ports/p0/captures.pcap", NULL, bad),
			       400, NULL, "binding");
	}

	/* A tun: raw IP, LINKTYPE_RAW. */
	assert_int_equal(bind_post(fx, "t0", "{'handler':'capture'}"), 1);
	len[0] = udp_frame(frames[0], LINK_IP, AF_INET, 53, pl, sizeof(pl));
	len[1] = udp_frame(frames[1], LINK_IP, AF_INET6, 53, pl, sizeof(pl));
	push(fx, "t0", frames[0], len[0]);
	push(fx, "t0", frames[1], len[1]);
	want[0] = frames[0];
	want[1] = frames[1];
	rs = get(fx, "/api/v1/ports/t0/captures.pcap");
	assert_int_equal(pcap_check(rs, 101, want, len, 2), 2);

	/* A tun with packet info: LINKTYPE_RAW with the 4-byte header left out. */
	assert_int_equal(bind_post(fx, "t1", "{'handler':'capture'}"), 1);
	len[2] = udp_frame(frames[2], LINK_IP_PI, AF_INET, 53, pl, sizeof(pl));
	push(fx, "t1", frames[2], len[2]);
	want[0] = frames[2] + 4;
	wlen[0] = len[2] - 4;
	rs = get(fx, "/api/v1/ports/t1/captures.pcap");
	assert_int_equal(pcap_check(rs, 101, want, wlen, 1), 1);
	/* The same frame in JSON keeps the packet information and decodes it. */
	{
		json_t *doc = captures(fx, "t1", NULL);
		json_t *r = json_array_get(json_object_get(doc, "records"), 0);
		json_t *h = json_object_get(r, "headers");
		char hex[256];

		assert_int_equal(jint(r, "len"), len[2]);
		hex_of(frames[2], len[2], hex);
		assert_string_equal(jstr(r, "data"), hex);
		assert_int_equal(jint(json_object_get(h, "packet_info"), "proto"), 2048);
		assert_null(json_object_get(h, "ethernet"));
		assert_int_equal(jint(json_object_get(h, "udp"), "dst_port"), 53);
		json_decref(doc);
	}
	expect_problem(get(fx, "/api/v1/ports/nope/captures.pcap"), 404, "not-found", NULL);
}

/* --- transmit --- */

/* The @i-th frame @port wrote, parsed strictly: every checksum must verify. */
static void written_parse(struct fx *fx, const char *port, size_t i, enum frame_link link,
			  struct frame_info *fi, const uint8_t **frame, size_t *len)
{
	*frame = memio_written(fx->a.m, port, i, len);
	assert_non_null(*frame);
	frame_parse(*frame, *len, link, PARSE_STRICT, fi);
	if (fi->malformed != MALFORMED_NONE)
		fail_msg("%s wrote frame %zu that is malformed: %s", port, i,
			 malformed_name(fi->malformed));
}

static void test_transmit(void **state)
{
	struct fx *fx = *state;
	const uint8_t *w;
	struct frame_info fi;
	json_t *doc, *c;
	size_t wlen, n, tx_bytes = 0;
	char body[512], hex[256];
	const struct link_state *ls;

	port_create(fx, "{'name':'p0','type':'tap'}");
	port_create(fx, "{'name':'t0','type':'tun'}");
	port_create(fx, "{'name':'t1','type':'tun','packet_info':true}");
	ls = port_link(portset_find(fx->a.ps, "p0"));

	/* Raw bytes, written as given. */
	n = udp4(fx->buf, 9);
	hex_of(fx->buf, n, hex);
	snprintf(body, sizeof(body), "{'hex':'%s'}", hex);
	doc = ok_json(call(fx, HTTP_POST, "/api/v1/ports/p0/transmit", body), 200);
	assert_int_equal(jint(doc, "length"), n);
	assert_string_equal(jstr(doc, "data"), hex);
	json_decref(doc);
	w = memio_written(fx->a.m, "p0", 0, &wlen);
	assert_int_equal(wlen, n);
	assert_memory_equal(w, fx->buf, n);
	tx_bytes += n;

	/* A UDP datagram over IPv4, built with the port's framing. */
	doc = ok_json(call(fx, HTTP_POST, "/api/v1/ports/p0/transmit",
			   "{'udp':{'src':'198.18.0.9','dst':'198.18.0.1','src_port':1234,"
			   "'dst_port':53,'payload':'hello','ttl':9}}"),
		      200);
	json_decref(doc);
	written_parse(fx, "p0", 1, LINK_ETHERNET, &fi, &w, &wlen);
	tx_bytes += wlen;
	assert_int_equal(fi.ip4.checksum_status, CSUM_OK);
	assert_int_equal(fi.udp.checksum_status, CSUM_OK);
	assert_int_equal(fi.ip4.ttl, 9);
	assert_int_equal(fi.udp.sport, 1234);
	assert_int_equal(fi.udp.dport, 53);
	assert_int_equal(fi.payload_len, 5);
	assert_memory_equal(w + fi.payload_off, "hello", 5);
	/* To the tap's own MAC, from another one. */
	assert_memory_equal(fi.eth_dst, ls->mac, 6);
	assert_memory_not_equal(fi.eth_src, ls->mac, 6);
	assert_int_equal(fi.eth_src[0] & 1, 0);

	/* Over IPv6, with MACs given. */
	doc = ok_json(call(fx, HTTP_POST, "/api/v1/ports/p0/transmit",
			   "{'udp':{'src':'2001:db8::9','dst':'2001:db8::1','src_port':5,"
			   "'dst_port':6,'payload_hex':'00ff','src_mac':'02:00:00:00:00:77',"
			   "'dst_mac':'02:00:00:00:00:88'}}"),
		      200);
	json_decref(doc);
	written_parse(fx, "p0", 2, LINK_ETHERNET, &fi, &w, &wlen);
	tx_bytes += wlen;
	assert_int_equal(fi.l3, L3_IPV6);
	assert_int_equal(fi.udp.checksum_status, CSUM_OK);
	assert_int_equal(fi.payload_len, 2);
	assert_int_equal(fi.eth_src[5], 0x77);
	assert_int_equal(fi.eth_dst[5], 0x88);

	/* ICMP echo request and ICMPv6 echo reply. */
	doc = ok_json(call(fx, HTTP_POST, "/api/v1/ports/p0/transmit",
			   "{'icmp_echo':{'src':'198.18.0.9','dst':'198.18.0.1','id':7,'seq':9,"
			   "'payload_hex':'0102030405'}}"),
		      200);
	json_decref(doc);
	written_parse(fx, "p0", 3, LINK_ETHERNET, &fi, &w, &wlen);
	tx_bytes += wlen;
	assert_int_equal(fi.l4, L4_ICMP);
	assert_int_equal(fi.icmp.checksum_status, CSUM_OK);
	assert_int_equal(fi.ip4.checksum_status, CSUM_OK);
	assert_int_equal(fi.icmp.type, 8);
	assert_int_equal(fi.icmp.id, 7);
	assert_int_equal(fi.icmp.seq, 9);
	doc = ok_json(call(fx, HTTP_POST, "/api/v1/ports/p0/transmit",
			   "{'icmp_echo':{'src':'2001:db8::9','dst':'2001:db8::1','reply':true}}"),
		      200);
	json_decref(doc);
	written_parse(fx, "p0", 4, LINK_ETHERNET, &fi, &w, &wlen);
	tx_bytes += wlen;
	assert_int_equal(fi.l4, L4_ICMPV6);
	assert_int_equal(fi.icmp.type, 129);
	assert_int_equal(fi.icmp.checksum_status, CSUM_OK);

	/* Tuns: bare IP, and packet information first. */
	doc = ok_json(call(fx, HTTP_POST, "/api/v1/ports/t0/transmit",
			   "{'udp':{'src':'198.18.0.9','dst':'198.18.0.1','src_port':1,"
			   "'dst_port':2}}"),
		      200);
	json_decref(doc);
	written_parse(fx, "t0", 0, LINK_IP, &fi, &w, &wlen);
	assert_int_equal(fi.udp.checksum_status, CSUM_OK);
	assert_int_equal(fi.l3_off, 0);
	doc = ok_json(call(fx, HTTP_POST, "/api/v1/ports/t1/transmit",
			   "{'icmp_echo':{'src':'2001:db8::9','dst':'2001:db8::1'}}"),
		      200);
	json_decref(doc);
	written_parse(fx, "t1", 0, LINK_IP_PI, &fi, &w, &wlen);
	assert_true(fi.has_pi);
	assert_int_equal(fi.pi_proto, ETHERTYPE_IPV6);
	assert_int_equal(fi.icmp.checksum_status, CSUM_OK);

	/* Counted as tx. */
	c = port_counters_json(fx, "p0");
	assert_int_equal(jint(c, "tx_frames"), 5);
	assert_int_equal(jint(c, "tx_bytes"), tx_bytes);
	json_decref(c);

	/* The link down: the kernel refuses with EIO, a 409 naming it. */
	expect_status(call(fx, HTTP_PATCH, "/api/v1/ports/p0", "{'up':false}"), 200);
	{
		json_t *p =
			assert_problem_of(call(fx, HTTP_POST, "/api/v1/ports/p0/transmit", body),
					  409, "conflict", NULL);

		assert_int_equal(jint(p, "errno"), EIO);
		assert_string_equal(jstr(p, "errno_name"), "EIO");
		json_decref(p);
	}
	c = port_counters_json(fx, "p0");
	assert_int_equal(jint(c, "tx_frames"), 5);
	assert_int_equal(jint(json_object_get(c, "write_errors"), "EIO"), 1);
	json_decref(c);
	assert_int_equal(memio_written_count(fx->a.m, "p0"), 5);
	expect_status(call(fx, HTTP_PATCH, "/api/v1/ports/p0", "{'up':true}"), 200);
	expect_status(call(fx, HTTP_POST, "/api/v1/ports/p0/transmit", body), 200);
	assert_int_equal(memio_written_count(fx->a.m, "p0"), 6);
}

static void test_transmit_refused(void **state)
{
	static const struct {
		const char *port, *body, *field;
	} bad[] = {
		{ "p0",
		  "{'udp':{'src':'198.18.0.1','dst':'2001:db8::1','src_port':1,'dst_port':2}}",
		  "udp.dst" },
		{ "p0", "{'icmp_echo':{'src':'2001:db8::1','dst':'198.18.0.1'}}", "icmp_echo.dst" },
		{ "p0", "{'hex':'00','color':1}", "color" },
		{ "p0", "{'frame':'00'}", "frame" },
		{ "p0",
		  "{'udp':{'src':'198.18.0.1','dst':'198.18.0.2','src_port':1,"
		  "'dst_port':2,'tos':1}}",
		  "udp.tos" },
		{ "p0", "{'icmp_echo':{'src':'198.18.0.1','dst':'198.18.0.2','code':1}}",
		  "icmp_echo.code" },
		{ "p0",
		  "{'hex':'00','udp':{'src':'198.18.0.1','dst':'198.18.0.2','src_port':1,"
		  "'dst_port':2}}",
		  "" },
		{ "p0",
		  "{'udp':{'src':'198.18.0.1','dst':'198.18.0.2','src_port':1,'dst_port':2},"
		  "'icmp_echo':{'src':'198.18.0.1','dst':'198.18.0.2'}}",
		  "" },
		{ "p0", "{}", "" },
		{ "t0",
		  "{'udp':{'src':'198.18.0.1','dst':'198.18.0.2','src_port':1,'dst_port':2,"
		  "'src_mac':'02:00:00:00:00:01'}}",
		  "udp.src_mac" },
		{ "t0",
		  "{'icmp_echo':{'src':'198.18.0.1','dst':'198.18.0.2',"
		  "'dst_mac':'02:00:00:00:00:01'}}",
		  "icmp_echo.dst_mac" },
		{ "p0", "{'hex':'abc'}", "hex" },
		{ "p0", "{'hex':'zz'}", "hex" },
		{ "p0", "{'hex':''}", "hex" },
		{ "p0", "{'hex':5}", "hex" },
		{ "p0", "{'udp':{'src':'198.18.0.1','dst':'198.18.0.2','src_port':1}}",
		  "udp.dst_port" },
		{ "p0",
		  "{'udp':{'src':'198.18.0.1','dst':'198.18.0.2','src_port':1,"
		  "'dst_port':65536}}",
		  "udp.dst_port" },
		{ "p0",
		  "{'udp':{'src':'198.18.0.1','dst':'198.18.0.2','src_port':1,'dst_port':2,"
		  "'ttl':0}}",
		  "udp.ttl" },
		{ "p0",
		  "{'udp':{'src':'198.18.0.1','dst':'198.18.0.2','src_port':1,'dst_port':2,"
		  "'payload':'a','payload_hex':'61'}}",
		  "udp.payload" },
		{ "p0", "{'udp':{'dst':'198.18.0.2','src_port':1,'dst_port':2}}", "udp.src" },
		{ "p0",
		  "{'udp':{'src':'198.18.0.300','dst':'198.18.0.2','src_port':1,"
		  "'dst_port':2}}",
		  "udp.src" },
		{ "p0",
		  "{'udp':{'src':'198.18.0.1','dst':'198.18.0.2','src_port':1,'dst_port':2,"
		  "'src_mac':'nope'}}",
		  "udp.src_mac" },
		{ "p0", "{'udp':'datagram'}", "udp" },
		{ "p0", "{'icmp_echo':{'src':'198.18.0.1','dst':'198.18.0.2','reply':1}}",
		  "icmp_echo.reply" },
	};
	struct fx *fx = *state;
	json_t *c;

	port_create(fx, "{'name':'p0','type':'tap'}");
	port_create(fx, "{'name':'t0','type':'tun'}");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char path[96];

		snprintf(path, sizeof(path), "/api/v1/ports/%s/transmit", bad[i].port);
		expect_problem(call(fx, HTTP_POST, path, bad[i].body), 422, "invalid-field",
			       bad[i].field);
	}
	expect_problem(call(fx, HTTP_POST, "/api/v1/ports/p0/transmit", "[1]"), 400, NULL, NULL);
	expect_problem(call(fx, HTTP_POST, "/api/v1/ports/nope/transmit", "{'hex':'00'}"), 404,
		       "not-found", NULL);
	expect_problem(call(fx, HTTP_GET, "/api/v1/ports/p0/transmit", NULL), 405,
		       "method-not-allowed", "");
	assert_int_equal(memio_written_count(fx->a.m, "p0"), 0);
	assert_int_equal(memio_written_count(fx->a.m, "t0"), 0);
	c = port_counters_json(fx, "p0");
	assert_int_equal(jint(c, "tx_frames"), 0);
	json_decref(c);
}

/* --- /metrics --- */

struct sample {
	char name[96];
	char labels[192];
	unsigned long long value;
};

struct metrics {
	struct sample *s;
	size_t n;
};

/* Parses `name{labels} value` (labels optional); false if the line is not that. */
static bool sample_parse(const char *line, struct sample *out)
{
	const char *p = line;
	size_t n = 0;
	char *end;

	memset(out, 0, sizeof(*out));
	if (!(isalpha((unsigned char)*p) || *p == '_' || *p == ':'))
		return false;
	while (isalnum((unsigned char)*p) || *p == '_' || *p == ':') {
		if (n + 1 >= sizeof(out->name))
			return false;
		out->name[n++] = *p++;
	}
	if (*p == '{') {
		const char *q = p + 1;

		/* name="value" pairs, comma-separated; values here have no quotes or braces. */
		for (;;) {
			if (!(isalpha((unsigned char)*q) || *q == '_'))
				return false;
			while (isalnum((unsigned char)*q) || *q == '_')
				q++;
			if (q[0] != '=' || q[1] != '"')
				return false;
			q = strchr(q + 2, '"');
			if (!q)
				return false;
			q++;
			if (*q == ',') {
				q++;
				continue;
			}
			if (*q == '}')
				break;
			return false;
		}
		if ((size_t)(q - p + 1) >= sizeof(out->labels))
			return false;
		memcpy(out->labels, p, (size_t)(q - p + 1));
		p = q + 1;
	}
	if (*p != ' ' || !isdigit((unsigned char)p[1]))
		return false;
	out->value = strtoull(p + 1, &end, 10);
	return *end == '\0';
}

/*
 * Checks the exposition format's structure and collects the samples: each
 * family's HELP then TYPE, once, before its samples; every sample in the
 * family last announced; counters ending in _total.
 */
static void metrics_parse(const char *text, struct metrics *m)
{
	char *copy = strdup(text), *line, *save = NULL;
	char family[96] = "", type[16] = "", names[64][96];
	size_t n_families = 0;
	bool help_pending = false;

	assert_non_null(copy);
	m->n = 0;
	m->s = NULL;
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char a[96], b[96];

		if (strncmp(line, "# HELP ", 7) == 0) {
			assert_int_equal(sscanf(line, "# HELP %95s %95s", a, b), 2);
			for (size_t i = 0; i < n_families; i++)
				if (strcmp(names[i], a) == 0)
					fail_msg("family %s announced twice", a);
			assert_true(n_families < 64);
			snprintf(names[n_families++], sizeof(names[0]), "%s", a);
			snprintf(family, sizeof(family), "%s", a);
			help_pending = true;
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			assert_int_equal(sscanf(line, "# TYPE %95s %15s", a, type), 2);
			if (!help_pending || strcmp(a, family) != 0)
				fail_msg("TYPE %s does not follow its HELP", a);
			help_pending = false;
			if (strcmp(type, "counter") == 0) {
				size_t l = strlen(a);

				if (l < 6 || strcmp(a + l - 6, "_total") != 0)
					fail_msg("counter %s does not end in _total", a);
			} else if (strcmp(type, "gauge") != 0) {
				fail_msg("family %s has type %s", a, type);
			}
			continue;
		}
		if (line[0] == '#')
			fail_msg("unexpected comment line: %s", line);
		m->s = realloc(m->s, (m->n + 1) * sizeof(*m->s));
		assert_non_null(m->s);
		if (!sample_parse(line, &m->s[m->n]))
			fail_msg("not a sample line: \"%s\"", line);
		if (help_pending || strcmp(m->s[m->n].name, family) != 0)
			fail_msg("sample %s outside its family (last announced: %s)",
				 m->s[m->n].name, family);
		m->n++;
	}
	assert_false(help_pending);
	free(copy);
}

static unsigned long long metric(const struct metrics *m, const char *name, const char *labels)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->s[i].name, name) == 0 && strcmp(m->s[i].labels, labels) == 0)
			return m->s[i].value;
	fail_msg("no sample %s%s", name, labels);
	return 0;
}

/*
 * promtool's linter on the text, when there is one: $PROMTOOL, else
 * /usr/bin/promtool, else the copy `make integration` unpacks into
 * build/tools (tests run from the repository root).
 */
static void promtool_check(const char *text, size_t len)
{
	static const char *const fallback[] = { PROMTOOL, "build/tools/promtool" };
	const char *tool = getenv("PROMTOOL");
	char cmd[512];
	FILE *p;
	int status;

	for (size_t i = 0; (!tool || !*tool || access(tool, X_OK) != 0) && i < 2; i++)
		tool = fallback[i];
	if (access(tool, X_OK) != 0) {
		print_message("no promtool (%s, build/tools/promtool): its check is skipped\n",
			      PROMTOOL);
		return;
	}
	snprintf(cmd, sizeof(cmd), "'%s' check metrics", tool);
	p = popen(cmd, "w");
	assert_non_null(p);
	assert_int_equal(fwrite(text, 1, len, p), len);
	status = pclose(p);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("promtool check metrics failed (status %d)", status);
}

static void test_metrics(void **state)
{
	struct fx *fx = *state;
	struct response *rs;
	struct metrics m;
	json_t *c;
	char labels[192];
	uint8_t *buf = fx->buf;
	size_t n;

	port_create(fx, "{'name':'p0','type':'tap'}");
	port_create(fx, "{'name':'t0','type':'tun','strict':true}");
	port_create(fx, "{'name':'p1','type':'tap'}");
	bind_post(fx, "p0", "{'handler':'capture'}");
	bind_post(fx, "p0",
		  "{'match':{'ethertype':2048,'ip_protocol':17,'udp_port':53},"
		  "'handler':'count'}");
	bind_post(fx, "p0",
		  "{'match':{'ethertype':2048,'ip_protocol':17,'udp_port':7},"
		  "'handler':'forward','options':{'port':'p1'}}");
	/* The forward's target goes away: its frames become errors of the binding. */
	expect_status(call(fx, HTTP_DELETE, "/api/v1/ports/p1", NULL), 204);
	bind_post(fx, "t0", "{'match':{'ip_protocol':17,'udp_port':53},'handler':'count'}");
	/* Traffic: matched, unmatched, malformed of several reasons, truncated, a write error. */
	push(fx, "p0", buf, udp4(buf, 53));
	push(fx, "p0", buf, udp4(buf, 7));
	push(fx, "p0", buf, arp_frame(buf));
	push(fx, "p0", buf, 5);
	n = udp4(buf, 53);
	buf[14 + 2] = 0x03; /* total length 1000 */
	buf[14 + 3] = 0xe8;
	push(fx, "p0", buf, n);
	memset(buf, 0, PORT_FRAME_MAX + 1);
	push(fx, "p0", buf, PORT_FRAME_MAX + 1);
	n = udp_frame(buf, LINK_IP, AF_INET, 53, NULL, 0);
	push(fx, "t0", buf, n);
	push(fx, "t0", buf, n);
	n = udp_frame(buf, LINK_IP, AF_INET, 54, NULL, 0);
	push(fx, "t0", buf, n);
	buf[n - 1] ^= 1; /* the UDP checksum covers the header: now bad */
	push(fx, "t0", buf, n);
	buf[0] = 0x75;
	push(fx, "t0", buf, n);

	rs = get(fx, "/metrics");
	expect_status(rs, 200);
	assert_string_equal(rs->content_type, "text/plain; version=0.0.4; charset=utf-8");
	assert_true(rs->len > 0 && resp_text(rs)[rs->len - 1] == '\n');
	metrics_parse(resp_text(rs), &m);
	promtool_check(resp_text(rs), rs->len);
	rs = NULL;

	assert_int_equal(metric(&m, "paird_ports", ""), 2);
	for (int i = 0; i < 2; i++) {
		const char *port = i ? "t0" : "p0";
		json_t *arr, *b, *v;
		const char *key;
		size_t j;

		c = port_counters_json(fx, port);
		snprintf(labels, sizeof(labels), "{port=\"%s\"}", port);
		assert_int_equal(metric(&m, "paird_port_rx_frames_total", labels),
				 jint(c, "rx_frames"));
		assert_int_equal(metric(&m, "paird_port_rx_bytes_total", labels),
				 jint(c, "rx_bytes"));
		assert_int_equal(metric(&m, "paird_port_tx_frames_total", labels),
				 jint(c, "tx_frames"));
		assert_int_equal(metric(&m, "paird_port_truncated_frames_total", labels),
				 jint(c, "truncated"));
		assert_int_equal(metric(&m, "paird_port_matched_frames_total", labels),
				 jint(c, "matched"));
		assert_int_equal(metric(&m, "paird_port_fragments_total", labels),
				 jint(c, "fragments"));
		assert_int_equal(metric(&m, "paird_port_up", labels), 1);
		json_object_foreach(json_object_get(c, "malformed"), key, v) {
			snprintf(labels, sizeof(labels), "{port=\"%s\",reason=\"%s\"}", port, key);
			assert_int_equal(metric(&m, "paird_port_malformed_frames_total", labels),
					 json_integer_value(v));
		}
		json_object_foreach(json_object_get(c, "unmatched"), key, v) {
			snprintf(labels, sizeof(labels), "{port=\"%s\",level=\"%s\"}", port, key);
			assert_int_equal(metric(&m, "paird_port_unmatched_frames_total", labels),
					 json_integer_value(v));
		}
		json_object_foreach(json_object_get(c, "bad_checksum"), key, v) {
			snprintf(labels, sizeof(labels), "{port=\"%s\",protocol=\"%s\"}", port,
				 key);
			assert_int_equal(metric(&m, "paird_port_bad_checksum_frames_total", labels),
					 json_integer_value(v));
		}
		arr = json_object_get(c, "bindings");
		json_array_foreach(arr, j, b) {
			snprintf(labels, sizeof(labels),
				 "{port=\"%s\",binding=\"%lld\",handler=\"%s\"}", port,
				 (long long)jint(b, "id"), jstr(b, "handler"));
			/* Every counter the JSON gives, the handler's own too, under its metric. */
			json_object_foreach(b, key, v) {
				char fam[96];

				if (strcmp(key, "id") == 0 || strcmp(key, "handler") == 0)
					continue;
				snprintf(fam, sizeof(fam), "paird_binding_%s_total", key);
				assert_int_equal(metric(&m, fam, labels), json_integer_value(v));
			}
			assert_true(json_object_size(b) >= 5);
		}
		/* The accounting identity holds in what both views show. */
		{
			json_int_t sum = jint(c, "matched");

			json_object_foreach(json_object_get(c, "unmatched"), key, v)
				sum += json_integer_value(v);
			json_object_foreach(json_object_get(c, "malformed"), key, v)
				sum += json_integer_value(v);
			assert_int_equal(sum, jint(c, "rx_frames"));
		}
		json_decref(c);
	}
	/* The values this traffic must have given. */
	assert_int_equal(metric(&m, "paird_port_rx_frames_total", "{port=\"p0\"}"), 6);
	assert_int_equal(metric(&m, "paird_port_malformed_frames_total",
				"{port=\"p0\",reason=\"truncated\"}"),
			 1);
	assert_int_equal(metric(&m, "paird_port_malformed_frames_total",
				"{port=\"p0\",reason=\"eth_short\"}"),
			 1);
	assert_int_equal(metric(&m, "paird_port_malformed_frames_total",
				"{port=\"p0\",reason=\"ipv4_bad_total_length\"}"),
			 1);
	assert_int_equal(metric(&m, "paird_port_malformed_frames_total",
				"{port=\"t0\",reason=\"udp_bad_checksum\"}"),
			 1);
	assert_int_equal(metric(&m, "paird_port_malformed_frames_total",
				"{port=\"t0\",reason=\"ip_bad_version\"}"),
			 1);
	assert_int_equal(
		metric(&m, "paird_port_unmatched_frames_total", "{port=\"t0\",level=\"udp_port\"}"),
		1);
	assert_int_equal(metric(&m, "paird_binding_packets_total",
				"{port=\"t0\",binding=\"1\",handler=\"count\"}"),
			 2);
	assert_int_equal(metric(&m, "paird_binding_errors_total",
				"{port=\"p0\",binding=\"3\",handler=\"forward\"}"),
			 1);
	/* The root capture keeps what it saw, malformed frames too (not the truncated one). */
	assert_int_equal(metric(&m, "paird_port_capture_records", "{port=\"p0\"}"), 5);
	assert_int_equal(metric(&m, "paird_capture_memory_used_bytes", ""), CAPTURE_RING_DEFAULT);
	free(m.s);
}

/*
 * Per-queue figures: a sample for each queue of every port (queue 0 alone
 * on a single-queue port), the same numbers status.queues gives, frames
 * read by queue 1's worker and hand-offs it lost to a full ring included.
 */
static void test_metrics_queues(void **state)
{
	static const uint8_t payload[1400];
	struct fx *fx = *state;
	struct port *p;
	struct response *rs;
	struct metrics m;
	json_t *doc, *qs, *q;
	char labels[96];
	size_t n, i;

	port_create(fx, "{'name':'mq0','type':'tun','queues':2}");
	port_create(fx, "{'name':'sq0','type':'tun'}");
	bind_post(fx, "mq0", "{'handler':'capture','options':{'limit':0}}");
	p = portset_find(fx->a.ps, "mq0");
	assert_non_null(p);
	n = udp_frame(fx->buf, LINK_IP, AF_INET, 9, payload, sizeof(payload));
	push(fx, "mq0", fx->buf, n);
	push(fx, "sq0", fx->buf, n);
	push(fx, "sq0", fx->buf, n);
	/* More than queue 1's hand-off ring holds before the main loop's turn: some are lost. */
	for (i = 0; i < 600; i++)
		assert_int_equal(memio_push_queue(fx->a.m, "mq0", 1, fx->buf, n), 0);
	/* A turn reads at most the 256 KiB budget: 8 turns read all 600 (857 KiB). */
	for (i = 0; i < 8; i++)
		port_queue_read_ready(p, 1);
	port_queues_service(p);

	rs = get(fx, "/metrics");
	expect_status(rs, 200);
	metrics_parse(resp_text(rs), &m);
	promtool_check(resp_text(rs), rs->len);
	doc = ok_json(get(fx, "/api/v1/ports/mq0"), 200);
	qs = json_object_get(json_object_get(doc, "status"), "queues");
	assert_int_equal(json_array_size(qs), 2);
	json_array_foreach(qs, i, q) {
		snprintf(labels, sizeof(labels), "{port=\"mq0\",queue=\"%zu\"}", i);
		assert_int_equal(metric(&m, "paird_port_queue_rx_frames_total", labels),
				 jint(q, "rx_frames"));
		assert_int_equal(metric(&m, "paird_port_queue_handoff_dropped_total", labels),
				 jint(q, "handoff_dropped"));
	}
	json_decref(doc);
	assert_int_equal(
		metric(&m, "paird_port_queue_rx_frames_total", "{port=\"mq0\",queue=\"0\"}"), 1);
	assert_int_equal(
		metric(&m, "paird_port_queue_rx_frames_total", "{port=\"mq0\",queue=\"1\"}"), 600);
	assert_true(metric(&m, "paird_port_queue_handoff_dropped_total",
			   "{port=\"mq0\",queue=\"1\"}") > 0);
	assert_int_equal(
		metric(&m, "paird_port_queue_handoff_dropped_total", "{port=\"mq0\",queue=\"0\"}"),
		0);
	assert_int_equal(metric(&m, "paird_port_rx_frames_total", "{port=\"mq0\"}"), 601);
	/* A single-queue port: queue 0 only, holding every frame. */
	assert_int_equal(
		metric(&m, "paird_port_queue_rx_frames_total", "{port=\"sq0\",queue=\"0\"}"), 2);
	assert_int_equal(
		metric(&m, "paird_port_queue_handoff_dropped_total", "{port=\"sq0\",queue=\"0\"}"),
		0);
	for (i = 0; i < m.n; i++)
		assert_null(strstr(m.s[i].labels, "port=\"sq0\",queue=\"1\""));
	free(m.s);
}

#define T(name) \
	cmocka_unit_test_prestate_setup_teardown(name, api_fx_setup, api_fx_teardown, &fx_spec)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_bindings_crud),
		T(test_bindings_invalid),
		T(test_bindings_forward),
		T(test_bindings_persisted),
		T(test_bindings_limits),
		T(test_captures_pages),
		T(test_captures_gone_and_clear),
		T(test_capture_headers),
		T(test_capture_headers_cut_short),
		T(test_captures_pcap),
		T(test_follow_pcap),
		T(test_pcapng),
		T(test_cursors_and_wait),
		T(test_follow_own_capture),
		T(test_transmit),
		T(test_transmit_refused),
		T(test_metrics),
		T(test_metrics_queues),
		T(test_binding_delete_undone),
		T(test_replace_restarts_counters),
		T(test_captures_page_budget),
		T(test_captures_stream_memory),
		T(test_captures_stream_evicted),
		T(test_captures_stream_port_deleted),
		T(test_captures_stream_yields),
		T(test_binding_memory),
	};

	return cmocka_run_group_tests_name("api_dataplane", tests, NULL, NULL);
}
