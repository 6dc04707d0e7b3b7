/* SPDX-License-Identifier: MIT */
/*
 * The set of ports paird holds, by name, and the only way to change it.
 * Every change is carried out on the kernel first, then written to the
 * state file; if the state file cannot be written the change is undone, so
 * what a client was told succeeded is exactly what a restart restores.
 */
#ifndef PAIRD_PORTSET_H
#define PAIRD_PORTSET_H

#include <stdbool.h>
#include <stddef.h>

#include "binding.h"
#include "capture.h"
#include "fault.h"
#include "port.h"
#include "portcfg.h"
#include "portio.h"

struct event_base;
struct portset;
struct stack;
struct state_doc;

#define PORTSET_DEFAULT_MAX	     64
#define PORTSET_DEFAULT_MAX_BINDINGS 1024

/*
 * @state_path may be NULL (nothing persisted). @io and @base are used by
 * every port; @base may be NULL in tests.
 */
struct portset *portset_new(struct event_base *base, struct port_io io, const char *state_path,
			    unsigned max_ports);
/* Closes every port (devices paird created disappear) and frees the set. */
void portset_free(struct portset *ps);

/*
 * Sets the data-plane limits before any port exists: the capture memory cap
 * (--capture-memory), each port's capture ring, bindings per port. The
 * defaults are CAPTURE_MEMORY_DEFAULT, CAPTURE_RING_DEFAULT and
 * PORTSET_DEFAULT_MAX_BINDINGS. Returns 0, -EBUSY once ports exist, -ENOMEM.
 */
int portset_set_dataplane(struct portset *ps, size_t capture_memory, size_t ring_bytes,
			  unsigned max_bindings);
const struct capture_budget *portset_budget(const struct portset *ps);

/*
 * Recreates the ports of the state file. A missing file is an empty start;
 * an unreadable or invalid one, or a symbolic link to nothing, is an error.
 * A directory where the file cannot be replaced is an error with its own
 * message, found before any port is made. A port that cannot be opened
 * again is kept in state "error" and logged. Then the file is written back.
 */
int portset_restore(struct portset *ps, struct fault *f);

/*
 * The desired state as the state file keeps it: every port's configuration,
 * its bindings and next binding id, into @out (released with
 * state_doc_free()). Returns 0 or -ENOMEM with @out empty.
 */
int portset_snapshot(const struct portset *ps, struct state_doc *out);

size_t portset_count(const struct portset *ps);
/* Ports in creation order; NULL past the end. */
struct port *portset_at(const struct portset *ps, size_t i);
struct port *portset_find(const struct portset *ps, const char *name);
/*
 * The PORT_FRAME_MAX bytes every port's stack builds its handlers' replies
 * in (struct stack_env's scratch). Free between two dispatches, as there is
 * one loop thread: the API may build a frame in it for port_write(), as
 * long as nothing dispatches a frame meanwhile.
 */
uint8_t *portset_scratch(const struct portset *ps);

/* The protocol stack of @port (bindings, data-plane counters, captures). */
struct stack *portset_stack(const struct portset *ps, const struct port *port);

/* POST: 409 (FAULT_CONFLICT) when the name is taken. */
int portset_create(struct portset *ps, const struct port_config *cfg, struct port **out,
		   struct fault *f);
/* PUT: creates (*created = true) or brings the port to @cfg. */
int portset_put(struct portset *ps, const struct port_config *cfg, bool *created, struct port **out,
		struct fault *f);
/* PATCH: applies the fields present in @patch. */
int portset_patch(struct portset *ps, struct port *port, const struct port_config *patch,
		  struct fault *f);
int portset_delete(struct portset *ps, const char *name, struct fault *f);

/*
 * Adds a binding to @port's stack (after checking what it needs of other
 * ports: a forward's target) and persists it; undone if the state file
 * cannot be written.
 */
int portset_bind(struct portset *ps, struct port *port, const struct binding_config *cfg,
		 struct binding **out, struct fault *f);
int portset_unbind(struct portset *ps, struct port *port, uint32_t id, struct fault *f);

/*
 * Posts every change to @ev from now on (events.h): ports created, changed
 * (state, link, drift, configuration) and deleted, bindings created and
 * deleted, and, every @counters_ms while @ev has subscribers, the counters
 * of each port whose counters changed (0: none). @ev must outlive the set,
 * or be replaced by NULL first. 0 or -ENOMEM (the timer).
 */
struct events;
int portset_set_events(struct portset *ps, struct events *ev, unsigned counters_ms);

/* From the link monitor: @ls changed, or was deleted. */
void portset_link_event(struct portset *ps, const struct link_state *ls, bool deleted);

#endif
