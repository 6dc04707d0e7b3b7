// SPDX-License-Identifier: MIT
/*
 * Binding requests and their rules: the match (which node of the tree),
 * the handler (which kinds may live there) and the handler's options, read
 * from JSON for the API and the state file alike, and written back in the
 * normalized form (a tun's implied ethertype filled in, options with their
 * effective values).
 */
#include "binding.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const level_keys[LEVEL_COUNT] = {
	[LEVEL_ROOT] = "",
	[LEVEL_ETHERTYPE] = "ethertype",
	[LEVEL_IP_PROTOCOL] = "ip_protocol",
	[LEVEL_UDP_PORT] = "udp_port",
};

static int match_key(const json_t *m, enum level lv, json_int_t max, bool *has, json_int_t *out,
		     struct fault *f)
{
	char field[32];
	json_t *v = json_object_get(m, level_keys[lv]);

	*has = v != NULL;
	if (!v)
		return 0;
	snprintf(field, sizeof(field), "match.%s", level_keys[lv]);
	if (!json_is_integer(v))
		return fault_set(f, FAULT_INVALID, 0, field, "must be an integer");
	*out = json_integer_value(v);
	if (*out < 0 || *out > max)
		return fault_set(f, FAULT_INVALID, 0, field, "must be 0..%lld (got %lld)",
				 (long long)max, (long long)*out);
	return 0;
}

static bool is_ip_ethertype(json_int_t et)
{
	return et == ETHERTYPE_IPV4 || et == ETHERTYPE_IPV6;
}

static int match_from_json(const json_t *m, enum port_type ptype, struct match *out,
			   struct fault *f)
{
	json_int_t et = 0, proto = 0, port = 0;
	bool has_et, has_proto, has_port;
	const char *key;
	json_t *v;

	memset(out, 0, sizeof(*out));
	if (!m)
		return 0;
	if (!json_is_object(m))
		return fault_set(f, FAULT_INVALID, 0, "match", "must be an object");
	json_object_foreach((json_t *)m, key, v) {
		char field[80];

		if (!strcmp(key, "ethertype") || !strcmp(key, "ip_protocol") ||
		    !strcmp(key, "udp_port"))
			continue;
		snprintf(field, sizeof(field), "match.%s", key);
		return fault_set(f, FAULT_INVALID, 0, field,
				 "unknown key (a match has ethertype, ip_protocol and udp_port)");
	}
	if (match_key(m, LEVEL_ETHERTYPE, 65535, &has_et, &et, f) < 0 ||
	    match_key(m, LEVEL_IP_PROTOCOL, 255, &has_proto, &proto, f) < 0 ||
	    match_key(m, LEVEL_UDP_PORT, 65535, &has_port, &port, f) < 0)
		return -EINVAL;
	/*
	 * IEEE 802.3 3.2.6: below 1536 (0x0600) the type/length field is a
	 * length (up to 1500; 1501..1535 undefined), not an EtherType. Such
	 * frames have no ethertype node, so a binding there would be a
	 * binding on a frame size, and never runs.
	 */
	if (has_et && et < ETHERTYPE_MIN)
		return fault_set(f, FAULT_INVALID, 0, "match.ethertype",
				 "must be 1536..65535 (got %lld): below 1536 (0x0600) the "
				 "Ethernet type/length field is an IEEE 802.3 frame length, not "
				 "an EtherType; bind {} to see such frames",
				 (long long)et);

	if (has_port && (!has_proto || proto != IPPROTO_UDP_))
		return fault_set(f, FAULT_INVALID, 0, "match.udp_port",
				 "a udp_port match needs \"ip_protocol\": 17 (UDP)");
	if (ptype == PORT_TUN) {
		/* A tun carries IP packets: its first level is the IP version only. */
		if (has_et && !has_proto)
			return fault_set(f, FAULT_INVALID, 0, "match.ethertype",
					 "a tun port has no Ethernet layer; match IP packets with "
					 "ip_protocol (ethertype 2048 or 34525 may accompany it to "
					 "pick the IP version)");
		if (has_proto && !has_et) {
			has_et = true;
			et = ETHERTYPE_IPV4;
		}
	}
	if (has_proto && !has_et)
		return fault_set(f, FAULT_INVALID, 0, "match.ethertype",
				 "an ip_protocol match needs \"ethertype\": 2048 (IPv4) or 34525 "
				 "(IPv6)");
	if (has_proto && !is_ip_ethertype(et))
		return fault_set(f, FAULT_INVALID, 0, "match.ethertype",
				 "ip_protocol is only defined under ethertype 2048 (IPv4) or 34525 "
				 "(IPv6), not %lld",
				 (long long)et);
	out->depth = has_port ? 3 : has_proto ? 2 : has_et ? 1 : 0;
	out->ethertype = (uint16_t)et;
	out->ip_protocol = (uint8_t)proto;
	out->udp_port = (uint16_t)port;
	return 0;
}

static const struct handler_ops *handler_by_name(const char *name, enum handler_kind *kind)
{
	for (int k = 0; k < HANDLER_KIND_COUNT; k++) {
		if (handlers[k] && strcmp(handlers[k]->name, name) == 0) {
			*kind = (enum handler_kind)k;
			return handlers[k];
		}
	}
	return NULL;
}

static int unknown_handler(struct fault *f)
{
	char names[160] = "";
	size_t n = 0;

	for (int k = 0; k < HANDLER_KIND_COUNT; k++)
		if (handlers[k])
			n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s", n ? ", " : "",
					      handlers[k]->name);
	return fault_set(f, FAULT_INVALID, 0, "handler", "must be one of %s", names);
}

int bindcfg_from_json(const json_t *obj, enum port_type ptype, bool allow_id,
		      struct binding_config *out, struct fault *f)
{
	const struct handler_ops *ops;
	const json_t *opts, *h, *id;
	const char *key;
	json_t *v;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(obj))
		return fault_set(f, FAULT_SYNTAX, 0, NULL, "a binding must be a JSON object");
	json_object_foreach((json_t *)obj, key, v) {
		if (strcmp(key, "match") != 0 && strcmp(key, "handler") != 0 &&
		    strcmp(key, "options") != 0 && !(allow_id && strcmp(key, "id") == 0))
			return fault_set(f, FAULT_INVALID, 0, key, "unknown field");
	}
	id = json_object_get(obj, "id");
	if (id) {
		if (!json_is_integer(id) || json_integer_value(id) < 1 ||
		    json_integer_value(id) > UINT32_MAX)
			return fault_set(f, FAULT_INVALID, 0, "id", "must be an integer 1..%u",
					 UINT32_MAX);
		out->id = (uint32_t)json_integer_value(id);
	}
	if (match_from_json(json_object_get(obj, "match"), ptype, &out->match, f) < 0)
		return -EINVAL;
	h = json_object_get(obj, "handler");
	if (!h)
		return fault_set(f, FAULT_INVALID, 0, "handler", "is required");
	if (!json_is_string(h))
		return fault_set(f, FAULT_INVALID, 0, "handler", "must be a string");
	ops = handler_by_name(json_string_value(h), &out->kind);
	if (!ops)
		return unknown_handler(f);
	if (!(ops->levels & (1u << out->match.depth)))
		return fault_set(f, FAULT_INVALID, 0, "handler",
				 "%s cannot be bound at a %s node: it lives %s", ops->name,
				 out->match.depth ? level_keys[out->match.depth] : "root",
				 ops->placement);
	opts = json_object_get(obj, "options");
	if (opts && !json_is_object(opts))
		return fault_set(f, FAULT_INVALID, 0, "options", "must be an object");
	if (ops->configure)
		return ops->configure(opts, ptype, out, f);
	if (opts && json_object_size(opts)) {
		char field[80];

		snprintf(field, sizeof(field), "options.%s", json_object_iter_key(
								    json_object_iter((json_t *)opts)));
		return fault_set(f, FAULT_INVALID, 0, field, "%s takes no options", ops->name);
	}
	return 0;
}

json_t *match_to_json(const struct match *m)
{
	json_t *o = json_object();

	if (m->depth >= 1)
		json_object_set_new(o, "ethertype", json_integer(m->ethertype));
	if (m->depth >= 2)
		json_object_set_new(o, "ip_protocol", json_integer(m->ip_protocol));
	if (m->depth >= 3)
		json_object_set_new(o, "udp_port", json_integer(m->udp_port));
	return o;
}

json_t *bindcfg_to_json(const struct binding_config *cfg)
{
	const struct handler_ops *ops = handlers[cfg->kind];
	json_t *o = json_object(), *opts = json_object();

	json_object_set_new(o, "id", json_integer(cfg->id));
	json_object_set_new(o, "match", match_to_json(&cfg->match));
	json_object_set_new(o, "handler", json_string(ops->name));
	if (ops->options_json)
		ops->options_json(cfg, opts);
	json_object_set_new(o, "options", opts);
	return o;
}
