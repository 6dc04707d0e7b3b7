/* SPDX-License-Identifier: MIT */
/*
 * The state file: one JSON document holding every acknowledged
 * configuration change, written atomically (temp file, fsync, rename,
 * fsync of the directory) before the API answers 2xx, and read back at
 * start. A file that cannot be read or parsed is an error, never an empty
 * start: silently discarding it would lose the operator's configuration.
 */
#ifndef PAIRD_STATE_H
#define PAIRD_STATE_H

#include <jansson.h>

#include "fault.h"

#define STATE_FORMAT 1

/*
 * Loads @path. Returns 0 with *out (a new reference) holding the document,
 * -ENOENT when the file does not exist (a first start), or another negative
 * errno with @f describing what is wrong and where.
 */
int state_load(const char *path, json_t **out, struct fault *f);

/* Replaces @path with @doc atomically. Returns 0 or -errno with @f filled. */
int state_save(const char *path, const json_t *doc, struct fault *f);

#endif
