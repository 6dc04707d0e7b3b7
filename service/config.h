/* SPDX-License-Identifier: MIT */
/*
 * The whole desired state as one document (GET/PUT /api/v1/config,
 * paird --config FILE, SIGHUP): every port's configuration with its
 * bindings keyed by name (or, for an unnamed binding, its decimal id).
 * config_decode() reads and checks a document, listing every invalid item;
 * config_plan_new() compares it with the port set and lists the actions
 * that make the running state equal to it; config_apply() carries them out
 * all or nothing, with one state-file write at the end.
 *
 * Order of the actions (each step only needs what the earlier ones made):
 *   1. remove_binding   bindings the document drops (taken out, kept aside)
 *   2. update_port      ports whose configuration changed (in place, or a
 *                       new device for type, packet_info or attach)
 *   3. create_port      new ports, in document order
 *   4. replace_binding  bindings whose match, handler or options changed
 *   5. add_binding      new bindings (a forward's target exists by now)
 *   6. delete_port      ports the document drops (an attached device stays)
 * then the state file is written once. The kernel can refuse in steps 2
 * and 3 (and a handler in 4 and 5); any refusal, or a failed state-file
 * write, undoes every step done so far in reverse. A port changing type
 * has all its bindings removed in step 1 and the document's added in 5.
 * Users call this module from the API (api/config.c) and main (paird.c).
 */
#ifndef PAIRD_CONFIG_H
#define PAIRD_CONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fault.h"
#include "state.h"

struct portset;
struct config_plan;

/* What one document may hold and cost; a zero member is no limit. */
struct config_limits {
	unsigned max_ports;	   /* --max-ports */
	unsigned max_bindings;	   /* --max-bindings, per port */
	uint64_t filter_budget_ns; /* compile time of its capture filters (filtercheck.h) */
};

/*
 * Reads the document @doc ({"version": N (ignored), "ports": {NAME:
 * {type, mtu, mac, up, addresses, attach, packet_info, strict, bindings:
 * {KEY: {match, handler, options}}}}}) into @out (state_doc_free()), with
 * the API's rules for each port and binding, a forward's target among the
 * document's ports and framing alike. Every invalid item is listed in @f
 * (fault_add()), each field under "ports.NAME." or
 * "ports.NAME.bindings.KEY.". Within @lim (NULL: none): more ports or a
 * port with more bindings than it allows is a FAULT_LIMIT, found before a
 * port (or that port's bindings) is read. The capture filters are compiled
 * last, and only when nothing else is wrong: each distinct one once, the
 * total compile time within @lim's budget (a FAULT_INVALID on the binding
 * where it ran out). 0, or -errno with @out empty.
 */
int config_decode(const json_t *doc, const struct config_limits *lim, struct state_doc *out,
		  struct fault *f);

/*
 * The most JSON values a document within @max_ports ports of
 * @max_bindings bindings can hold, every member given at its longest:
 * more values than this cannot be a document paird takes.
 */
size_t config_values_max(unsigned max_ports, unsigned max_bindings);

/* The running desired state as such a document, with "version". New reference or NULL. */
json_t *config_to_json(const struct portset *ps);

/*
 * The actions that bring @ps to @want (nothing is changed). An all-digit
 * binding key must name an unnamed binding the running port has: FAULT_INVALID
 * otherwise, every such key listed. 0 with *@out set (config_plan_free()),
 * or -errno with @f filled.
 */
int config_plan_new(const struct portset *ps, const struct state_doc *want,
		    struct config_plan **out, struct fault *f);
void config_plan_free(struct config_plan *plan);
/* How many actions @plan holds: 0 when the running state equals the document. */
size_t config_plan_count(const struct config_plan *plan);

/*
 * Carries out @plan on @ps: every action, then one state-file write, or,
 * at the first refusal, the actions done so far undone in reverse and
 * nothing written. @f then names the item ("ports.tap1",
 * "ports.tap1.bindings.dns", or the field under it the refusal names) and
 * the plan remembers what was rolled back (config_plan_json()). Logs one
 * line per action and a summary. @plan must be fresh from
 * config_plan_new() on the same @ps, with nothing changed in between.
 */
int config_apply(struct portset *ps, struct config_plan *plan, struct fault *f);

/*
 * The actions as the API shows them: [{"op", "port", "binding", "fields",
 * "kernel"}]; with @rolled_back, only those undone by a failed apply, in
 * the order they were undone. New reference or NULL.
 */
json_t *config_plan_json(const struct config_plan *plan, bool rolled_back);

/* The largest --config file, as PUT /api/v1/config's body (API_CONFIG_BODY_MAX). */
#define CONFIG_FILE_MAX (16 << 20)

/*
 * Loads the file @path (a document as above; duplicate keys refused) and
 * decodes it. Anything but a regular file of at most CONFIG_FILE_MAX
 * bytes is refused without blocking (a FIFO in its place). 0 or -errno
 * with @f saying what and where, its detail starting with the file name.
 */
int config_load(const char *path, struct state_doc *out, struct fault *f);

#endif
