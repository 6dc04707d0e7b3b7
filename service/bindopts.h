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

/*
 * bindopts_from_json() in two steps: the reading and every rule of its
 * own, and the handler's check (what may cost: a capture filter compiled
 * by libpcap), so that a caller reading many bindings (config.c) can check
 * everything cheap first and compile each distinct filter once.
 */
int bindopts_read(const json_t *opts, enum port_type ptype, struct binding_config *cfg,
		  struct fault *f);
int bindopts_check(const struct binding_config *cfg, enum port_type ptype, struct fault *f);

/* Adds the options of @cfg with their effective values to the object @o. */
void bindopts_to_json(const struct binding_config *cfg, json_t *o);

#endif
