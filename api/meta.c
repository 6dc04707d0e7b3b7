// SPDX-License-Identifier: MIT
/*
 * The routes around the API: /healthz (up, and whether every port works),
 * /api/v1/info (which machine this is), /openapi.yaml and the dashboard's
 * static files, all served from memory.
 */
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "../service/port.h"
#include "../service/portset.h"
#include "assets.h"
#include "internal.h"

#ifndef PAIRD_VERSION
#define PAIRD_VERSION "0.0.0"
#endif

const struct asset *asset_find(const char *path)
{
	if (strcmp(path, "/") == 0)
		path = "/index.html";
	for (size_t i = 0; i < assets_count; i++)
		if (strcmp(assets[i].path, path) == 0)
			return &assets[i];
	return NULL;
}

const char *asset_type(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".yaml", "application/yaml" },
		{ ".svg", "image/svg+xml" },
		{ ".json", "application/json" },
	};
	const char *dot = strrchr(path, '.');

	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

/*
 * Ports that do not work: state error (a device that could not be opened
 * again at start, a read that failed) or gone (deleted behind paird's back).
 */
static json_t *failed_ports(const struct portset *ps)
{
	json_t *arr = json_array();
	struct port *p;

	for (size_t i = 0; arr && (p = portset_at(ps, i)); i++) {
		enum port_state st = port_state(p);
		json_t *o;

		if (st != PORT_STATE_ERROR && st != PORT_STATE_GONE)
			continue;
		o = json_object();
		json_object_set_new(o, "name", json_string(port_name(p)));
		json_object_set_new(o, "state", json_string(port_state_name(st)));
		json_object_set_new(o, "last_error", last_error_json(port_last_error(p)));
		json_array_append_new(arr, o);
	}
	return arr;
}

/*
 * 200 even when degraded: /healthz is what liveness probes poll, and
 * restarting paird cannot bring back a device that is missing; it would
 * only drop every working port for a moment. "status" says degraded and
 * "failed" how many ports fail, for monitoring and readiness checks to act
 * on. Which ports, and their kernel errors, only a client that may see the
 * ports learns: anyone who reaches the listener may read /healthz.
 */
int h_healthz(struct api *api, struct request *rq, struct response *rs, struct fault *f)
{
	struct timespec now;
	json_t *o = json_object();
	json_t *failed = failed_ports(api->cfg.ports);

	(void)f;
	clock_gettime(CLOCK_MONOTONIC, &now);
	json_object_set_new(o, "status", json_string(json_array_size(failed) ? "degraded" : "ok"));
	json_object_set_new(o, "version", json_string(PAIRD_VERSION));
	json_object_set_new(o, "started", json_time(api->started));
	json_object_set_new(o, "uptime_seconds",
			    json_integer((json_int_t)(now.tv_sec - api->started_mono.tv_sec)));
	json_object_set_new(o, "ports", json_integer((json_int_t)portset_count(api->cfg.ports)));
	json_object_set_new(o, "failed", json_integer((json_int_t)json_array_size(failed)));
	if (auth_ok(api, rq))
		json_object_set_new(o, "failed_ports", failed);
	else
		json_decref(failed);
	return reply_json(rs, 200, o);
}

/*
 * The machine's host name, for the dashboard's title (a user with tabs on
 * several hosts tells them apart by it). Under /api/, so only a client
 * that may see the ports learns it; /healthz, which anyone who reaches the
 * listener may read, does not carry it. Read per request: it may change
 * while paird runs.
 */
int h_info(struct api *api, struct request *rq, struct response *rs, struct fault *f)
{
	char host[HOST_NAME_MAX + 1];
	json_t *o = json_object();

	(void)api;
	(void)rq;
	(void)f;
	if (gethostname(host, sizeof(host)) < 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0'; /* truncated names need not end in NUL */
	json_object_set_new(o, "hostname", json_text(host));
	json_object_set_new(o, "version", json_string(PAIRD_VERSION));
	return reply_json(rs, 200, o);
}

int h_asset(struct api *api, struct request *rq, struct response *rs, struct fault *f)
{
	const struct asset *a = asset_find(rq->path);
	const char *path = strcmp(rq->path, "/") == 0 ? "/index.html" : rq->path;

	(void)api;
	if (!a)
		return fault_set(f, FAULT_NOT_FOUND, 0, NULL, "no resource at this path");
	reply_static(rs, 200, asset_type(path), a->data, a->len);
	return 0;
}
