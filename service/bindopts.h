/* SPDX-License-Identifier: MIT */
/*
 * The "options" of each handler kind in their JSON form, the config layer
 * between the API or the state file and the handlers, which see plain
 * structs only (binding.h): read with every rule and the field each fault
 * names, and written back with their effective values. bindcfg.c reads
 * and writes whole bindings through it.
 */
#ifndef PAIRD_BINDOPTS_H
#define PAIRD_BINDOPTS_H

#include <jansson.h>

#include "binding.h"
#include "fault.h"
#include "portcfg.h"

/*
 * Checks that a handler of kind @cfg->kind may live at @cfg->match on a
 * @ptype port (beyond the levels bindcfg.c checks: a FAULT_INVALID on
 * "handler" saying where it lives), then reads @opts (NULL when absent)
 * into @cfg->o and has the handler check them (a capture filter must
 * compile). Faults name the field, e.g. "options.addresses[1]". Returns 0
 * or a negative errno.
 */
int bindopts_from_json(const json_t *opts, enum port_type ptype, struct binding_config *cfg,
		       struct fault *f);

/* Adds the options of @cfg with their effective values to the object @o. */
void bindopts_to_json(const struct binding_config *cfg, json_t *o);

#endif
