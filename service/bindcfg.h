/* SPDX-License-Identifier: MIT */
/*
 * A binding's configuration in its JSON form, shared by the API and the
 * state file: {"id", "name", "match", "handler", "options"} read with every rule
 * into the plain struct binding_config (binding.h), and written back in
 * the normalized form (a tun's implied ethertype filled in, options with
 * their effective values). The data plane never sees this form.
 */
#ifndef PAIRD_BINDCFG_H
#define PAIRD_BINDCFG_H

#include <jansson.h>
#include <stdbool.h>

#include "binding.h"
#include "fault.h"
#include "portcfg.h"

/*
 * Checks a binding name: ^[A-Za-z0-9_.-]{1,15}$ (the port-name rule), not
 * "." or "..", and not all digits (so that /bindings/{x} is an id when x is
 * all digits and a name otherwise). A FAULT_INVALID on @field otherwise.
 */
int bindcfg_name_check(const char *name, const char *field, struct fault *f);

/*
 * Reads a binding request {"name": "...", "match": {...}, "handler": "...",
 * "options": {...}} for a port of type @ptype ("name" optional: "" in @out
 * when absent), checking every rule: the name (bindcfg_name_check()), key
 * ranges, a udp_port only with ip_protocol 17, keys of a layer the port lacks (no
 * ethertype on tun unless it picks the IP version of an ip_protocol match;
 * then 2048 or 34525, and 2048 when omitted), a handler that cannot live
 * at that node, and the handler's options (bindopts.h). With @allow_id
 * (the state file) an "id" member is accepted too.
 */
int bindcfg_from_json(const json_t *obj, enum port_type ptype, bool allow_id,
		      struct binding_config *out, struct fault *f);
/*
 * bindcfg_from_json() (without "id") short of the handler's check
 * (bindopts_check(), which the caller makes later): nothing here costs
 * more than reading the JSON.
 */
int bindcfg_read(const json_t *obj, enum port_type ptype, struct binding_config *out,
		 struct fault *f);

/*
 * {"id", "name", "match", "handler", "options"}: the form the state file
 * keeps; "name" only when the binding has one, so state files of older
 * paird versions and newer ones read the same. New reference.
 */
json_t *bindcfg_to_json(const struct binding_config *cfg);
/*
 * {"match", "handler", "options"} only: what a client sends in a PUT of a
 * named binding and reads back as its "config". New reference.
 */
json_t *bindcfg_spec_json(const struct binding_config *cfg);
/*
 * True when @a and @b bind the same handler with the same options at the
 * same node: a replace of one by the other changes nothing. Ids and names
 * are not compared.
 */
bool bindcfg_same(const struct binding_config *a, const struct binding_config *b);
json_t *match_to_json(const struct match *m);

#endif
