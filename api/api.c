// SPDX-License-Identifier: MIT
/*
 * The front door of the control plane: security checks, the route table
 * and dispatch to resource handlers. A route is a path pattern ("{}"
 * captures one segment) with one handler per method; the table alone says
 * which methods a path allows, so 404, 405 + Allow and OPTIONS all come
 * from it.
 *
 * Security (DESIGN.md, "Security"): over TCP every request's Host must be
 * on the allow-list (DNS rebinding); requests to /api/ and /metrics must
 * not be cross-site (Origin, Sec-Fetch-Site) and must be authenticated
 * (auth.c: the bearer token or a dashboard session) unless auth was turned
 * off. Requests over the Unix socket were admitted by its file mode and
 * group, which no browser can reach; only the body limit applies to them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../service/log.h"
#include "../service/num.h"
#include "assets.h"
#include "internal.h"

struct route {
	const char *pattern;
	handler_fn h[HTTP_METHOD_COUNT];
};

static const struct route routes[] = {
	{ "/api/v1/ports", { [HTTP_GET] = h_ports_list, [HTTP_POST] = h_ports_create } },
	{ "/api/v1/ports/{}",
	  { [HTTP_GET] = h_port_get,
	    [HTTP_PUT] = h_port_put,
	    [HTTP_PATCH] = h_port_patch,
	    [HTTP_DELETE] = h_port_delete } },
	{ "/api/v1/ports/{}/bindings",
	  { [HTTP_GET] = h_bindings_list, [HTTP_POST] = h_bindings_create } },
	{ "/api/v1/ports/{}/bindings/{}",
	  { [HTTP_GET] = h_binding_get,
	    [HTTP_PUT] = h_binding_put,
	    [HTTP_DELETE] = h_binding_delete } },
	{ "/api/v1/ports/{}/captures",
	  { [HTTP_GET] = h_captures_get, [HTTP_DELETE] = h_captures_delete } },
	{ "/api/v1/ports/{}/captures.pcap", { [HTTP_GET] = h_captures_pcap } },
	{ "/api/v1/ports/{}/captures.pcapng", { [HTTP_GET] = h_captures_pcapng } },
	{ "/api/v1/captures.pcapng", { [HTTP_GET] = h_all_captures_pcapng } },
	{ "/api/v1/ports/{}/transmit", { [HTTP_POST] = h_transmit } },
	{ "/api/v1/events", { [HTTP_GET] = h_events } },
	{ "/api/v1/config", { [HTTP_GET] = h_config_get, [HTTP_PUT] = h_config_put } },
	{ "/api/v1/info", { [HTTP_GET] = h_info } },
	{ "/api/v1/login-codes", { [HTTP_POST] = h_login_codes } },
	{ "/metrics", { [HTTP_GET] = h_metrics } },
	{ "/healthz", { [HTTP_GET] = h_healthz } },
	{ "/login", { [HTTP_GET] = h_login } },
};

/*
 * The query parameters each route's method reads, space separated: any
 * other, or one given twice, is a 400 before the handler runs
 * (check_query()), so a misspelt ?dry_run never falls through to a real
 * change. A route and method not listed take none. A new parameter is one
 * line here; api_query_table_check() (unit tests) finds a line whose route
 * or method is not in routes[].
 */
static const struct route_query {
	const char *pattern;
	enum http_method method;
	const char *names;
} route_queries[] = {
	{ "/api/v1/ports/{}/captures", HTTP_GET, "after limit binding wait generation" },
	{ "/api/v1/ports/{}/captures.pcap", HTTP_GET,
	  "binding after follow filter snaplen generation" },
	{ "/api/v1/ports/{}/captures.pcapng", HTTP_GET,
	  "binding after follow filter snaplen generation" },
	{ "/api/v1/captures.pcapng", HTTP_GET, "ports follow filter snaplen" },
	{ "/api/v1/events", HTTP_GET, "last_event_id captures" },
	{ "/login", HTTP_GET, "code" },
	{ "/api/v1/config", HTTP_PUT, "dry_run" },
};

/* The pattern a static asset's request is logged under. */
#define ASSET_ROUTE "/{asset}"

static const char *const method_names[HTTP_METHOD_COUNT] = {
	[HTTP_GET] = "GET",	    [HTTP_HEAD] = "HEAD",   [HTTP_POST] = "POST",
	[HTTP_PUT] = "PUT",	    [HTTP_PATCH] = "PATCH", [HTTP_DELETE] = "DELETE",
	[HTTP_OPTIONS] = "OPTIONS", [HTTP_OTHER] = "OTHER",
};

struct api *api_new(const struct api_config *cfg)
{
	struct api *api = calloc(1, sizeof(*api));

	if (!api)
		return NULL;
	api->cfg = *cfg;
	api->cfg.token = NULL; /* the caller's copy may go; ours is api->token */
	if (!api->cfg.max_streams)
		api->cfg.max_streams = API_MAX_STREAMS_DEFAULT;
	if (api_set_token(api, cfg->token) < 0) {
		free(api);
		return NULL;
	}
	if (cfg->events && !(api->events = api_events_new(api, cfg))) {
		api_free(api);
		return NULL;
	}
	clock_gettime(CLOCK_REALTIME, &api->started);
	clock_gettime(CLOCK_MONOTONIC, &api->started_mono);
	return api;
}

void api_free(struct api *api)
{
	if (!api)
		return;
	api_set_token(api, NULL); /* wipes the token, sessions and code */
	api_events_free(api->events);
	free(api);
}

/* Matches @path against @pattern, capturing "{}" segments into @params (in place copies). */
static bool route_match(const char *pattern, const char *path, char caps[][64], unsigned *ncaps)
{
	const char *p = pattern, *s = path;

	*ncaps = 0;
	while (*p && *s) {
		if (p[0] == '{' && p[1] == '}') {
			size_t n = strcspn(s, "/");

			if (n == 0 || n >= 64 || *ncaps >= API_PATH_PARAMS)
				return false;
			memcpy(caps[*ncaps], s, n);
			caps[(*ncaps)++][n] = '\0';
			s += n;
			p += 2;
			continue;
		}
		if (*p != *s)
			return false;
		p++;
		s++;
	}
	return *p == '\0' && *s == '\0';
}

/* The methods of a route for Allow; routes of the table also answer OPTIONS. */
static size_t allow_list(const handler_fn *h, bool options, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int m = 0; m < HTTP_METHOD_COUNT; m++) {
		if (!h[m])
			continue;
		n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? ", " : "", method_names[m]);
		if (m == HTTP_GET)
			n += (size_t)snprintf(buf + n, size - n, ", HEAD");
	}
	if (options)
		n += (size_t)snprintf(buf + n, size - n, ", OPTIONS");
	return n;
}

static const char *header(const struct request *rq, const char *name)
{
	return rq->header ? rq->header(rq->lookup_ctx, name) : NULL;
}

static bool guarded_path(const char *path)
{
	return strncmp(path, "/api/", 5) == 0 || strcmp(path, "/api") == 0 ||
	       strcmp(path, "/metrics") == 0;
}

/* Copies the host part of "host", "host:port" or "[v6]:port" into @out. */
static bool split_host(const char *hp, char *out, size_t size, const char **port)
{
	const char *end;
	size_t n;

	*port = NULL;
	if (hp[0] == '[') {
		end = strchr(hp, ']');
		if (!end)
			return false;
		hp++;
		n = (size_t)(end - hp);
		if (end[1] == ':')
			*port = end + 2;
		else if (end[1] != '\0')
			return false;
	} else {
		end = strchr(hp, ':');
		n = end ? (size_t)(end - hp) : strlen(hp);
		if (end) {
			if (strchr(end + 1, ':'))
				return false;
			*port = end + 1;
		}
	}
	if (n == 0 || n >= size)
		return false;
	memcpy(out, hp, n);
	out[n] = '\0';
	return true;
}

/* Parses an IP literal into @addr (16 bytes); returns its family or 0. */
static int ip_literal(const char *s, unsigned char *addr)
{
	if (inet_pton(AF_INET, s, addr) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, s, addr) == 1)
		return AF_INET6;
	return 0;
}

/* Equal names, or IP literals for the same address ("::1" and "0::1"). */
static bool same_host(const char *a, const char *b)
{
	unsigned char x[16], y[16];
	int fa, fb;

	if (!b)
		return false;
	if (strcasecmp(a, b) == 0)
		return true;
	fa = ip_literal(a, x);
	fb = ip_literal(b, y);
	return fa && fa == fb && memcmp(x, y, fa == AF_INET ? 4 : 16) == 0;
}

/*
 * True when @host is an IP literal of an address on one of this machine's
 * interfaces: with a wildcard listen, that is an address paird serves.
 */
static bool local_address(const char *host)
{
	unsigned char want[16];
	struct ifaddrs *ifa = NULL;
	bool found = false;
	int fam = ip_literal(host, want);

	if (!fam || getifaddrs(&ifa) < 0)
		return false;
	for (const struct ifaddrs *i = ifa; i && !found; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != fam)
			continue;
		if (fam == AF_INET)
			found = memcmp(&((const struct sockaddr_in *)i->ifa_addr)->sin_addr, want,
				       4) == 0;
		else
			found = memcmp(&((const struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, want,
				       16) == 0;
	}
	freeifaddrs(ifa);
	return found;
}

static bool host_allowed(const struct api *api, const char *host)
{
	static const char *const loopback[] = { "localhost", "127.0.0.1", "::1" };

	for (size_t i = 0; i < sizeof(loopback) / sizeof(loopback[0]); i++)
		if (same_host(host, loopback[i]))
			return true;
	if (same_host(host, api->cfg.listen_host) || same_host(host, api->cfg.listen_name) ||
	    same_host(host, api->cfg.hostname))
		return true;
	for (size_t i = 0; i < api->cfg.n_allow_hosts; i++)
		if (strcmp(api->cfg.allow_hosts[i], "*") == 0 ||
		    strcasecmp(host, api->cfg.allow_hosts[i]) == 0)
			return true;
	return api->cfg.listen_any && local_address(host);
}

/* Same origin: http://ALLOWED-HOST:OUR-PORT. */
static bool origin_allowed(const struct api *api, const char *origin)
{
	char host[256];
	const char *port;
	uint64_t pn;

	if (strncasecmp(origin, "http://", 7) != 0)
		return false;
	if (!split_host(origin + 7, host, sizeof(host), &port) || !host_allowed(api, host))
		return false;
	if (!port)
		return api->cfg.listen_port == 80;
	return num_parse_u64(port, 0, 65535, &pn) == 0 && pn == api->cfg.listen_port;
}

size_t api_body_max(const char *path)
{
	return strcmp(path, "/api/v1/config") == 0 ? API_CONFIG_BODY_MAX : API_BODY_MAX;
}

/* 413: the body is or would be larger than api_body_max(). */
static void reply_too_large(struct response *rs, const char *path)
{
	char detail[80];

	snprintf(detail, sizeof(detail), "request bodies to this resource are limited to %zu bytes",
		 api_body_max(path));
	reply_problem(rs, 413, "body-too-large", detail, path);
}

bool api_precheck(struct api *api, const struct request *rq, struct response *rs)
{
	const char *host = header(rq, "Host");
	const char *v, *port;
	uint64_t clen;
	char name[256];

	if (rq->via == REQ_VIA_UNIX)
		goto body; /* admitted by the socket's permissions; no browser gets here */
	if (host && (!split_host(host, name, sizeof(name), &port) || !host_allowed(api, name))) {
		reply_problem(rs, 403, "host-not-allowed",
			      "the Host header names a host paird does not serve (DNS rebinding "
			      "protection); to serve that name, start paird with --allow-host NAME",
			      rq->path);
		return true;
	}
	if (guarded_path(rq->path)) {
		v = header(rq, "Origin");
		if (v && !origin_allowed(api, v)) {
			reply_problem(rs, 403, "cross-site",
				      "cross-site requests are refused (the Origin is not this "
				      "server)",
				      rq->path);
			return true;
		}
		v = header(rq, "Sec-Fetch-Site");
		if (v && strcasecmp(v, "same-origin") != 0 && strcasecmp(v, "none") != 0) {
			reply_problem(rs, 403, "cross-site",
				      "cross-site requests are refused (Sec-Fetch-Site is not "
				      "same-origin)",
				      rq->path);
			return true;
		}
		if (!auth_ok(api, rq)) {
			reply_problem(rs, 401, "unauthorized",
				      "over TCP this API needs the header Authorization: Bearer "
				      "TOKEN or a dashboard session (the login URL paird logs); "
				      "the Unix socket needs neither",
				      rq->path);
			response_header(rs, "WWW-Authenticate", "Bearer realm=\"paird\"");
			return true;
		}
	}
body:
	v = header(rq, "Content-Length");
	/* A decimal beyond the cap (or beyond 20 digits): too large either way. */
	if (v && *v && !v[strspn(v, "0123456789")] &&
	    num_parse_u64(v, 0, api_body_max(rq->path), &clen) < 0) {
		reply_too_large(rs, rq->path);
		return true;
	}
	return false;
}

unsigned api_streams(const struct api *api)
{
	return api->streams;
}

/*
 * A long-lived stream takes one of --max-streams slots until it ends, so a
 * crowd of followers costs bounded memory; beyond, 503 and Retry-After.
 */
bool api_stream_admit(struct api *api, const struct request *rq, struct response *rs)
{
	char detail[96];

	if (rs->stream_slot)
		return true; /* the handler took it before its costly part */
	if (api->streams < api->cfg.max_streams) {
		api->streams++;
		rs->stream_slot = &api->streams;
		return true;
	}
	response_fini(rs);
	snprintf(detail, sizeof(detail),
		 "%u long-lived streams are open, the most --max-streams allows", api->streams);
	reply_problem(rs, 503, "too-many-streams", detail, rq->path);
	response_header(rs, "Retry-After", "5");
	return false;
}

/* The parameters @rt's method @m reads (route_queries[]); NULL: none. */
static const char *route_query_names(const struct route *rt, enum http_method m)
{
	for (size_t i = 0; i < sizeof(route_queries) / sizeof(route_queries[0]); i++)
		if (route_queries[i].method == m &&
		    strcmp(route_queries[i].pattern, rt->pattern) == 0)
			return route_queries[i].names;
	return NULL;
}

int api_query_table_check(void)
{
	for (size_t i = 0; i < sizeof(route_queries) / sizeof(route_queries[0]); i++) {
		const struct route_query *q = &route_queries[i];
		bool found = false;

		for (size_t j = 0; j < sizeof(routes) / sizeof(routes[0]) && !found; j++)
			found = strcmp(routes[j].pattern, q->pattern) == 0 &&
				routes[j].h[q->method];
		if (!found)
			return -ENOENT;
	}
	return 0;
}

/* True when the space-separated @list holds @name. */
static bool word_listed(const char *list, const char *name)
{
	size_t n = strlen(name);

	while (list && *list && n) {
		size_t w = strcspn(list, " ");

		if (w == n && strncmp(list, name, n) == 0)
			return true;
		list += w;
		list += strspn(list, " ");
	}
	return false;
}

/* What check_query() gathers while the request's query arguments are listed. */
struct query_check {
	const char *allowed;
	bool repeats; /* the second pass: the repeated ones */
	struct fault f;
	unsigned n_unknown;
	/* The allowed names seen, for the repeats (a route takes a few: room for all). */
	const char *seen[32];
	unsigned n_seen;
};

/* Two passes, so the unknown parameters come first (the problem's "field" names one). */
static void query_visit(void *arg, const char *name, const char *value)
{
	struct query_check *qc = arg;
	char field[64];

	(void)value;
	snprintf(field, sizeof(field), "query.%s", name);
	if (!word_listed(qc->allowed, name)) {
		if (qc->repeats)
			return;
		qc->n_unknown++;
		fault_add(&qc->f, field, "unknown query parameter%s%s",
			  qc->allowed ? "; this method takes: " : " (this method takes none)",
			  qc->allowed ? qc->allowed : "");
		return;
	}
	if (!qc->repeats)
		return;
	for (unsigned i = 0; i < qc->n_seen; i++) {
		if (strcmp(qc->seen[i], name) == 0) {
			fault_add(&qc->f, field, "given more than once; give it once");
			return;
		}
	}
	if (qc->n_seen < sizeof(qc->seen) / sizeof(qc->seen[0]))
		qc->seen[qc->n_seen++] = name;
}

/*
 * Refuses a query parameter @allowed (route_queries[]) does not name, and
 * one given twice: 400, every such parameter in "errors". Returns true
 * when @rs holds the refusal.
 */
static bool check_query(const struct request *rq, const char *allowed, struct response *rs)
{
	struct query_check qc = { .allowed = allowed, .f = FAULT_INIT };

	if (!rq->query_each)
		return false;
	rq->query_each(rq->lookup_ctx, query_visit, &qc);
	qc.repeats = true;
	rq->query_each(rq->lookup_ctx, query_visit, &qc);
	if (qc.f.kind == FAULT_NONE)
		return false;
	reply_fault_as(rs, 400,
		       qc.n_unknown ? "unknown-query-parameter" : "repeated-query-parameter", &qc.f,
		       rq->path);
	return true;
}

/* The route pattern of @path for the log: a table pattern, ASSET_ROUTE, or "-". */
static const char *route_of(const char *path)
{
	char caps[API_PATH_PARAMS][64];
	unsigned ncaps;

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (route_match(routes[i].pattern, path, caps, &ncaps))
			return routes[i].pattern;
	return asset_find(path) ? ASSET_ROUTE : "-";
}

/*
 * Milliseconds since the request's first byte was handed over, until its
 * answer (a stream: until its headers); 0 when the caller did not say.
 */
static double elapsed_ms(const struct request *rq)
{
	struct timespec now;

	if (!rq->started.tv_sec && !rq->started.tv_nsec)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - rq->started.tv_sec) * 1e3 +
	       (double)(now.tv_nsec - rq->started.tv_nsec) / 1e6;
}

static void log_request_line(enum log_level level, const struct request *rq,
			     const struct response *rs)
{
	const struct log_field fields[] = {
		LOG_STR("client", rq->client ? rq->client : "-"),
		LOG_STR("method", method_names[rq->method]),
		LOG_STR("route", route_of(rq->path)),
		LOG_STR("path", rq->path),
		LOG_INT("status", rs->status),
		LOG_NUM("duration_ms", elapsed_ms(rq)),
	};

	log_fields(level, fields, sizeof(fields) / sizeof(fields[0]), "%s %s -> %d",
		   method_names[rq->method], rq->path, rs->status);
}

void api_log_request(const struct request *rq, const struct response *rs)
{
	bool read = rq->method == HTTP_GET || rq->method == HTTP_HEAD || rq->method == HTTP_OPTIONS;
	enum log_level level = read && rs->status < 400 ? LOG_DEBUG : LOG_INFO;

	/* The route is looked up again only for a line that is written. */
	if (level <= log_get_level())
		log_request_line(level, rq, rs);
}

void api_handle(struct api *api, struct request *rq, struct response *rs)
{
	struct fault f = FAULT_INIT;
	char caps[API_PATH_PARAMS][64];
	char allow[96];
	const struct route *rt = NULL;
	enum http_method m = rq->method == HTTP_HEAD ? HTTP_GET : rq->method;
	unsigned ncaps = 0;

	memset(rs, 0, sizeof(*rs));
	/* The HTTP layer ran it when the headers arrived; a direct caller may not have. */
	if (!rq->prechecked && api_precheck(api, rq, rs))
		goto out;
	if (rq->body_too_large) {
		reply_too_large(rs, rq->path);
		goto out;
	}
	if (rq->body_no_memory) {
		reply_problem(rs, 503, "unavailable", "out of memory holding the request body",
			      rq->path);
		goto out;
	}
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (route_match(routes[i].pattern, rq->path, caps, &ncaps)) {
			rt = &routes[i];
			break;
		}
	}
	if (!rt) {
		static const handler_fn asset_methods[HTTP_METHOD_COUNT] = { [HTTP_GET] = h_asset };

		if (!asset_find(rq->path)) {
			reply_problem(rs, 404, "not-found", "no resource at this path", rq->path);
			goto out;
		}
		if (m != HTTP_GET) {
			allow_list(asset_methods, false, allow, sizeof(allow));
			goto not_allowed;
		}
		if (check_query(rq, NULL, rs))
			goto out;
		h_asset(api, rq, rs, &f);
		goto out;
	}
	for (unsigned i = 0; i < ncaps; i++)
		rq->params[i] = caps[i];
	allow_list(rt->h, true, allow, sizeof(allow));
	if (m == HTTP_OPTIONS) {
		reply_empty(rs, 204);
		response_header(rs, "Allow", "%s", allow);
		goto out;
	}
	if (m == HTTP_OTHER || !rt->h[m])
		goto not_allowed;
	if (check_query(rq, route_query_names(rt, m), rs))
		goto out;
	if (rt->h[m](api, rq, rs, &f) < 0) {
		response_fini(rs);
		reply_fault(rs, &f, rq->path);
	}
	goto out;
not_allowed:
	reply_problem(rs, 405, "method-not-allowed", "this resource does not support the method",
		      rq->path);
	response_header(rs, "Allow", "%s", allow);
out:
	if (rs->read && rs->long_lived)
		api_stream_admit(api, rq, rs);
	for (unsigned i = 0; i < API_PATH_PARAMS; i++)
		rq->params[i] = NULL;
	api_log_request(rq, rs);
}
