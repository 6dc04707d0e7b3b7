/* SPDX-License-Identifier: MIT */
/*
 * Files embedded into the binary at build time (tools/embed.c): the
 * dashboard under webui/ and openapi.yaml.
 */
#ifndef PAIRD_ASSETS_H
#define PAIRD_ASSETS_H

#include <stddef.h>

struct asset {
	const char *path; /* URL path, e.g. "/app.js" */
	const unsigned char *data;
	size_t len;
};

extern const struct asset assets[];
extern const size_t assets_count;

/* The asset served at @path ("/" is "/index.html"), or NULL. */
const struct asset *asset_find(const char *path);
/* The media type for @path's extension. */
const char *asset_type(const char *path);

#endif
