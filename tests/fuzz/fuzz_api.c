// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for request routing and validation: api_handle() with an
 * arbitrary method, path, query, headers and body, over a port set on the
 * memory port I/O (no root, no devices). The input reads like a request:
 *
 *   byte 0     method (low 3 bits), bit 3 body_too_large, bit 4 no body,
 *              bit 5 the API that needs a bearer token (FUZZ_TOKEN),
 *              bit 6 the request came over the Unix socket (else TCP)
 *   line 1     the path, a '?' starting the query (name=value&...)
 *   lines      headers "Name: value", up to an empty line
 *   the rest   the body
 *
 * Whatever the request, the answer must be a well-formed response: a status
 * in 100..599, a body that is there when its length says so, at most
 * API_HEADERS_MAX headers, streamed bodies that read to their end, JSON bodies that parse, and for errors an RFC
 * 9457 problem whose status matches. Every input starts from the same two
 * ports (a tap with a capture binding, a tun). Built and run by `make fuzz`;
 * its crash inputs are replayed by `make unit` (tests/fixtures/crashes/).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../api/api.h"
#include "../../service/bindcfg.h"
#include "../../service/log.h"
#include "../fakes/portio_mem.h"
#include "../../service/portset.h"

#define FUZZ_TOKEN  "fuzz-token-0123456789abcdef"
#define MAX_HEADERS 16
#define MAX_QUERY   8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct memio *mem;
static struct portset *ports;
static struct api *api_open, *api_token;

/* The request's lookup tables, pointing into one NUL-separated copy of the input. */
struct fuzz_req {
	unsigned n_hdr, n_query;
	const char *hdr_name[MAX_HEADERS], *hdr_value[MAX_HEADERS];
	const char *q_name[MAX_QUERY], *q_value[MAX_QUERY];
};

static const char *lookup(const char *const *names, const char *const *values, unsigned n,
			  const char *name, bool fold)
{
	for (unsigned i = 0; i < n; i++)
		if (fold ? strcasecmp(names[i], name) == 0 : strcmp(names[i], name) == 0)
			return values[i];
	return NULL;
}

static const char *header(void *ctx, const char *name)
{
	struct fuzz_req *fr = ctx;

	return lookup(fr->hdr_name, fr->hdr_value, fr->n_hdr, name, true);
}

static const char *query(void *ctx, const char *name)
{
	struct fuzz_req *fr = ctx;

	return lookup(fr->q_name, fr->q_value, fr->n_query, name, false);
}

/* Cuts @s at the first @c (returned past it), or NULL when there is none. */
static char *cut(char *s, char c)
{
	char *p = strchr(s, c);

	if (!p)
		return NULL;
	*p = '\0';
	return p + 1;
}

static void query_each(void *ctx, query_visit_fn fn, void *arg)
{
	struct fuzz_req *fr = ctx;

	for (unsigned i = 0; i < fr->n_query; i++)
		fn(arg, fr->q_name[i], fr->q_value[i]);
}

static void parse_query(struct fuzz_req *fr, char *q)
{
	while (q && fr->n_query < MAX_QUERY) {
		char *next = cut(q, '&'), *v = cut(q, '=');

		fr->q_name[fr->n_query] = q;
		fr->q_value[fr->n_query++] = v ? v : "";
		q = next;
	}
}

/* Back to a tap fz0 with one capture binding and a tun fz1, as created by a client. */
static void reset(void)
{
	static const char capture[] =
		"{\"handler\":\"capture\",\"options\":{\"limit\":4,\"snaplen\":128}}";
	struct port_config tap = { .name = "fz0", .type = PORT_TAP };
	struct port_config tun = { .name = "fz1", .type = PORT_TUN };
	struct binding_config bc;
	struct fault f = FAULT_INIT;
	struct port *p = NULL;
	json_t *doc;

	while (portset_count(ports))
		portset_delete(ports, port_name(portset_at(ports, 0)), &f);
	f = (struct fault)FAULT_INIT;
	doc = json_loads(capture, 0, NULL);
	if (!doc || portset_create(ports, &tap, &p, &f) < 0 ||
	    portset_create(ports, &tun, NULL, &f) < 0 ||
	    bindcfg_from_json(doc, PORT_TAP, false, &bc, &f) < 0 ||
	    portset_bind(ports, p, &bc, NULL, &f) < 0) {
		fprintf(stderr, "fuzz_api: cannot set up the ports: %s\n", f.detail);
		abort();
	}
	json_decref(doc);
}

static void setup(void)
{
	struct api_config ac = { 0 };

	log_set_level(LOG_ERROR);
	mem = memio_new();
	ports = mem ? portset_new(NULL, memio_io(mem), NULL, 8) : NULL;
	if (!ports || portset_set_dataplane(ports, 1 << 20, 1 << 16, 8) < 0)
		abort();
	/* An existing device to attach to, as an administrator would pre-create. */
	memio_device_add(mem, "fzpre", true, false);
	ac.ports = ports;
	api_open = api_new(&ac);
	ac.token = FUZZ_TOKEN;
	api_token = api_new(&ac);
	if (!api_open || !api_token)
		abort();
	reset();
}

static void check(const struct request *rq, const struct response *rs)
{
	const void *body = rs->body ? (const void *)rs->body : rs->static_body;
	const char *ct = rs->content_type;
	json_t *doc = NULL;
	bool json;

	if (rs->status < 100 || rs->status > 599 || rs->n_headers > API_HEADERS_MAX ||
	    (rs->len && !body)) {
		fprintf(stderr, "fuzz_api: bad response: status %d, %u headers, %zu bytes at %p\n",
			rs->status, rs->n_headers, rs->len, body);
		abort();
	}
	for (unsigned i = 0; i < rs->n_headers; i++)
		if (!rs->headers[i].name ||
		    !memchr(rs->headers[i].value, '\0', sizeof(rs->headers[i].value)))
			abort();
	json = ct && (strncmp(ct, "application/json", 16) == 0 ||
		      strcmp(ct, "application/problem+json") == 0);
	if (rs->status >= 400 && (!ct || strcmp(ct, "application/problem+json") != 0)) {
		fprintf(stderr, "fuzz_api: %d is not a problem (%s)\n", rs->status,
			ct ? ct : "no type");
		abort();
	}
	if (!json || rq->method == HTTP_HEAD)
		return;
	doc = json_loadb(body, rs->len, JSON_REJECT_DUPLICATES, NULL);
	if (!doc) {
		fprintf(stderr, "fuzz_api: %d %s body is not JSON: %.*s\n", rs->status, ct,
			(int)rs->len, (const char *)body);
		abort();
	}
	if (rs->status >= 400 &&
	    (json_integer_value(json_object_get(doc, "status")) != rs->status ||
	     !json_is_string(json_object_get(doc, "type")) ||
	     !json_is_string(json_object_get(doc, "title")) ||
	     !json_is_string(json_object_get(doc, "detail")))) {
		fprintf(stderr, "fuzz_api: a %d problem without its members: %.*s\n", rs->status,
			(int)rs->len, (const char *)body);
		abort();
	}
	json_decref(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_req fr = { 0 };
	struct request rq = { 0 };
	struct response rs;
	char *copy, *line, *rest, *body = NULL;
	size_t body_len = 0;
	uint8_t flags;

	if (size < 1)
		return 0;
	if (!api_open)
		setup();
	flags = data[0];
	/* One NUL more than the input, so the last line ends too. */
	copy = calloc(1, size);
	if (!copy)
		return 0;
	memcpy(copy, data + 1, size - 1);

	/* The path line, then header lines up to an empty one, then the body. */
	rest = cut(copy, '\n');
	parse_query(&fr, cut(copy, '?'));
	while (rest) {
		line = rest;
		rest = cut(line, '\n');
		if (!*line || !strcmp(line, "\r")) {
			body = rest;
			break;
		}
		if (fr.n_hdr < MAX_HEADERS) {
			char *v = cut(line, ':');

			while (v && *v == ' ')
				v++;
			fr.hdr_name[fr.n_hdr] = line;
			fr.hdr_value[fr.n_hdr++] = v ? v : "";
		}
	}
	if (body)
		body_len = size - 1 - (size_t)(body - copy);

	rq.method = (enum http_method)(flags & 7);
	rq.path = copy;
	rq.header = header;
	rq.query = query;
	rq.query_each = query_each;
	rq.lookup_ctx = &fr;
	rq.body = flags & 0x10 ? NULL : body;
	rq.body_len = rq.body ? body_len : 0;
	rq.body_too_large = flags & 0x08;
	rq.via = flags & 0x40 ? REQ_VIA_UNIX : REQ_VIA_TCP;
	api_handle(flags & 0x20 ? api_token : api_open, &rq, &rs);
	/* A streamed body (capture pages, pcap) is read to its end like a client would. */
	if (response_drain(&rs) < 0 && rs.status < 400) {
		fprintf(stderr, "fuzz_api: a %d stream failed to drain\n", rs.status);
		abort();
	}
	for (unsigned i = 0; i < API_PATH_PARAMS; i++)
		if (rq.params[i])
			abort(); /* the router's captures must not outlive the call */
	check(&rq, &rs);
	response_fini(&rs);
	free(copy);
	reset();
	return 0;
}
