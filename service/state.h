/* SPDX-License-Identifier: MIT */
/*
 * The state file: one JSON document holding every acknowledged
 * configuration change, written atomically (temp file, fsync, rename,
 * fsync of the directory; through a symbolic link to the file it names)
 * before the API answers 2xx, and read back at start. A file that cannot
 * be read or parsed is an error, never an empty start: silently discarding
 * it would lose the operator's configuration.
 */
#ifndef PAIRD_STATE_H
#define PAIRD_STATE_H

#include <jansson.h>

#include "fault.h"

#define STATE_FORMAT 1

/*
 * Loads @path. Returns 0 with *out (a new reference) holding the document,
 * -ENOENT with @f left empty when the file does not exist (a first start),
 * or a negative errno with @f describing what is wrong and where; a
 * symbolic link to a missing file is such an error (-ENOENT, @f filled).
 */
int state_load(const char *path, json_t **out, struct fault *f);

/*
 * Checks at start that a save can create its temp file (next to the file
 * @path names, through symbolic links) and removes it again, so an
 * unwritable directory is reported as such before any port exists.
 * Returns 0 or -errno with @f naming the directory.
 */
int state_check_writable(const char *path, struct fault *f);

/*
 * Replaces @path with @doc atomically; when @path is a symbolic link, the
 * file it names is replaced and the link stays. Returns 0 or -errno with
 * @f filled.
 */
int state_save(const char *path, const json_t *doc, struct fault *f);

#endif
