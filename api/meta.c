// SPDX-License-Identifier: MIT
/*
 * The routes around the API: /healthz, /openapi.yaml and the dashboard's
 * static files, all served from memory.
 */
#include <string.h>

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

int h_healthz(struct api *api, struct request *rq, struct response *rs, struct fault *f)
{
	struct timespec now;
	json_t *o = json_object();

	(void)rq;
	(void)f;
	clock_gettime(CLOCK_MONOTONIC, &now);
	json_object_set_new(o, "status", json_string("ok"));
	json_object_set_new(o, "version", json_string(PAIRD_VERSION));
	json_object_set_new(o, "started", json_time(api->started));
	json_object_set_new(o, "uptime_seconds",
			    json_integer((json_int_t)(now.tv_sec - api->started_mono.tv_sec)));
	json_object_set_new(o, "ports", json_integer((json_int_t)portset_count(api->cfg.ports)));
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
