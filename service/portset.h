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
/* The bytes of --capture-memory a port's capture ring takes (--capture-ring). */
size_t portset_ring_bytes(const struct portset *ps);

/*
 * The state file's lock (state_lock()), taken by the caller before
 * anything is written beside the file: the port set keeps the fd and
 * closes it in portset_free(), and portset_restore() takes none of its own.
 */
void portset_adopt_state_lock(struct portset *ps, int fd);
/* The limits the set holds to: ports (--max-ports) and bindings per port (--max-bindings). */
unsigned portset_max_ports(const struct portset *ps);
unsigned portset_max_bindings(const struct portset *ps);
/* The I/O and loop the set's ports are opened with. */
const struct port_env *portset_env(const struct portset *ps);
/*
 * The loop's sharing (loopshare.h) every port tells when frames wait after
 * its read turn; NULL (the default) tells nobody. @ls must outlive the set.
 */
struct loopshare;
void portset_set_share(struct portset *ps, struct loopshare *ls);

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
 * state_doc_free()). The bindings' configurations are borrowed (@out's
 * ports[].borrowed), valid until a binding changes: for state_write() and
 * state_encode() at once. Returns 0 or -ENOMEM with @out empty.
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
 * cannot be written. A name (@cfg->name non-empty, checked with
 * bindcfg_name_check()) already used on @port is FAULT_CONFLICT (409) on
 * "name"; a name is kept in the state file and survives a restart.
 */
int portset_bind(struct portset *ps, struct port *port, const struct binding_config *cfg,
		 struct binding **out, struct fault *f);
int portset_unbind(struct portset *ps, struct port *port, uint32_t id, struct fault *f);

/*
 * PUT of a binding: @cfg->name (or, for an unnamed binding, @cfg->id) says
 * which. None there: created like portset_bind() (*created, *changed true;
 * an id without a name must exist: FAULT_NOT_FOUND). One there with the
 * same match, handler and options (bindcfg_same()): nothing is done, no
 * counter restarts, no state write, no event, same version (*changed
 * false). Otherwise replaced: the new binding keeps the old one's id, name
 * and place in the order, with fresh counters and a new version; undone
 * (the old one back, counters and all) if the handler refuses or the state
 * file cannot be written. *@out (may be NULL) is the binding now in place.
 */
int portset_bind_put(struct portset *ps, struct port *port, const struct binding_config *cfg,
		     bool *created, bool *changed, struct binding **out, struct fault *f);

/*
 * A binding of @port by the key of a path or a config document: all digits
 * is an id (1..UINT32_MAX, at most 10 digits), anything else a name. NULL
 * when none.
 */
struct binding *portset_find_binding(const struct portset *ps, const struct port *port,
				     const char *key);

/*
 * Several changes written to the state file once (a whole-configuration
 * apply, service/config.c): while @hold is set, the changes above are
 * carried out on the kernel but not saved, and portset_save() writes the
 * file. The caller undoes what it did when the save fails.
 */
void portset_hold(struct portset *ps, bool hold);
/* Writes the state file now (also while held); 0 or -errno with @f filled. */
int portset_save(struct portset *ps, struct fault *f);
/*
 * Gives @p's link and configuration back after a change made in place from
 * @old, the link having been @before (port_link() then): the undo of a
 * PUT that kept the device. Failures are logged.
 */
void portset_link_back(struct portset *ps, struct port *p, const struct port_config *old,
		       const struct link_state *before);

/*
 * Versions (ETags). The set keeps one 64-bit counter, seeded at
 * portset_new() from CLOCK_REALTIME in microseconds (below 2^53, so exact
 * in JavaScript's numbers too), and every acknowledged
 * configuration change (a port created, replaced, patched or deleted, a
 * binding added, replaced or deleted) takes the next value; the port or
 * binding it changed records it (struct binding's version, and
 * portset_port_version()). A restore gives every restored port and binding
 * a value of its own. Observed state (link, counters, captures) never
 * changes a version, and a call that changes nothing (a PUT or PATCH to
 * what is already there) leaves every version as it was: comparing a
 * version before and after a call tells whether it changed anything.
 */
uint64_t portset_version(const struct portset *ps);
/* The version of @port's last configuration change; 0 when @port is not in the set. */
uint64_t portset_port_version(const struct portset *ps, const struct port *port);

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
