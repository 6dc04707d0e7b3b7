/* SPDX-License-Identifier: MIT */
/*
 * The state file: one JSON document holding every acknowledged
 * configuration change, written atomically (temp file, fsync, rename,
 * fsync of the directory; through a symbolic link to the file it names)
 * before the API answers 2xx, and read back at start. A file that cannot
 * be read or parsed is an error, never an empty start: silently discarding
 * it would lose the operator's configuration.
 *
 * The document is the whole desired state: the ports in creation order,
 * each with its bindings (id, name when it has one, match, handler,
 * options: bindcfg.h) and the next binding id its stack hands out. Files
 * written before bindings had names load as unnamed bindings.
 * state_decode() turns it into plain structs (struct state_doc) that the
 * port set applies, state_encode() turns such structs back into it; the
 * port set's restore and any whole-configuration apply share both.
 */
#ifndef PAIRD_STATE_H
#define PAIRD_STATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "binding.h"
#include "fault.h"
#include "portcfg.h"

#define STATE_FORMAT 1

/* One port of the desired state. */
struct state_port {
	struct port_config cfg;
	struct binding_config *bindings; /* n_bindings of them, in order; owned */
	/*
	 * Instead of @bindings when not NULL, for encoding only: the
	 * configurations held elsewhere (a port set's live bindings),
	 * borrowed; the array is owned. A save then copies a pointer per
	 * binding, not a whole configuration (issue 11: memory per binding).
	 */
	const struct binding_config **borrowed;
	size_t n_bindings;
	bool has_next_id; /* next_binding_id was given */
	uint32_t next_binding_id;
};

/* The desired state; state_doc_free() releases what it owns. */
struct state_doc {
	struct state_port *ports; /* n_ports of them, in creation order; owned */
	size_t n_ports;
};

/* The registry's limits a document must fit in, so a huge file is refused early. */
struct state_limits {
	unsigned max_ports;    /* --max-ports */
	unsigned max_bindings; /* --max-bindings, per port */
};

/*
 * Reads the document @doc, loaded from the file @path (named in every
 * fault), into @out under the same rules as the API, and within @lim.
 * @doc is changed: each port's "bindings" and "next_binding_id" are taken
 * out of it. Returns 0 with @out filled, or -errno with @f saying which
 * entry breaks which rule and @out empty. Rules that depend on what
 * exists (opening the device, a binding's handler) are the applier's.
 */
int state_decode(json_t *doc, const char *path, const struct state_limits *lim,
		 struct state_doc *out, struct fault *f);

/*
 * The fault of the applier when ports[@i].bindings[@j] of @path is refused
 * with @why, worded like the decoder's own. Returns -EINVAL.
 */
int state_binding_fault(struct fault *f, const char *path, size_t i, size_t j,
			const struct fault *why);

/* @d as the state file's document (new reference), or NULL when out of memory. */
json_t *state_encode(const struct state_doc *d);

/*
 * Replaces @path with @d as state_encode() has it, as state_save() would,
 * but encoding a port or a binding at a time while writing: the whole
 * document is never in memory. Returns 0 or -errno with @f filled.
 */
int state_write(const char *path, const struct state_doc *d, struct fault *f);

void state_doc_free(struct state_doc *d);

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
 * Takes the state file @path for this process: an exclusive flock() on
 * "TARGET.lock" beside the file it names (made if missing, holding the
 * holder's pid), so that a second paird on the same file is refused
 * instead of both rewriting it, each losing the other's changes. The
 * kernel releases the lock when the process ends, however it ends; the
 * file stays. Returns the fd, to keep open (closed: released), or -errno
 * with @f filled (-EBUSY: another process holds it; a directory no file
 * can be made in has state_check_writable()'s message).
 */
int state_lock(const char *path, struct fault *f);

/*
 * Replaces @path with @doc atomically; when @path is a symbolic link, the
 * file it names is replaced and the link stays. Returns 0 or -errno with
 * @f filled.
 */
int state_save(const char *path, const json_t *doc, struct fault *f);

#endif
