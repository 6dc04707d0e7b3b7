/* SPDX-License-Identifier: MIT */
/*
 * A binding's configuration in its JSON form, shared by the API and the
 * state file: {"id", "match", "handler", "options"} read with every rule
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
 * Reads a binding request {"match": {...}, "handler": "...", "options":
 * {...}} for a port of type @ptype, checking every rule: key ranges, a
 * udp_port only with ip_protocol 17, keys of a layer the port lacks (no
 * ethertype on tun unless it picks the IP version of an ip_protocol match;
 * then 2048 or 34525, and 2048 when omitted), a handler that cannot live
 * at that node, and the handler's options (bindopts.h). With @allow_id
 * (the state file) an "id" member is accepted too.
 */
int bindcfg_from_json(const json_t *obj, enum port_type ptype, bool allow_id,
		      struct binding_config *out, struct fault *f);

/* {"id", "match", "handler", "options"}: the form the state file keeps. New reference. */
json_t *bindcfg_to_json(const struct binding_config *cfg);
json_t *match_to_json(const struct match *m);

#endif
