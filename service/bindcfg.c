// SPDX-License-Identifier: MIT
/*
 * Binding requests and their rules: the match (which node of the tree)
 * and the handler (which kinds may live there), read from JSON for the API
 * and the state file alike, the handler's options through bindopts.c, and
 * all of it written back in the normalized form.
 */
#include "bindcfg.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bindopts.h"
#include "handler.h"
#include "jsonobj.h"
#include "wire.h"

/* The levels as errors name them. */
static const char *const level_names[LEVEL_COUNT] = {
	[LEVEL_ROOT] = "root",
	[LEVEL_ETHERTYPE] = "ethertype",
	[LEVEL_IP_PROTOCOL] = "ip_protocol",
	[LEVEL_UDP_PORT] = "udp_port",
};

/* The keys a match gave, by level, as read. */
struct match_keys {
	bool has[LEVEL_COUNT];
	json_int_t v[LEVEL_COUNT];
};

static int match_key(enum level lv, json_int_t max, const json_t *v, const char *field,
		     struct match_keys *mk, struct fault *f)
{
	json_int_t n = json_integer_value(v);

	if (n < 0 || n > max)
		return fault_add(f, field, "must be 0..%lld (got %lld)", (long long)max,
				 (long long)n);
	mk->has[lv] = true;
	mk->v[lv] = n;
	return 0;
}

static int read_ethertype(const json_t *v, const char *field, void *out, struct fault *f)
{
	return match_key(LEVEL_ETHERTYPE, 65535, v, field, out, f);
}

static int read_ip_protocol(const json_t *v, const char *field, void *out, struct fault *f)
{
	return match_key(LEVEL_IP_PROTOCOL, 255, v, field, out, f);
}

static int read_udp_port(const json_t *v, const char *field, void *out, struct fault *f)
{
	return match_key(LEVEL_UDP_PORT, 65535, v, field, out, f);
}

static const struct jfield match_fields[] = {
	{ "ethertype", JT_INTEGER, .read = read_ethertype },
	{ "ip_protocol", JT_INTEGER, .read = read_ip_protocol },
	{ "udp_port", JT_INTEGER, .read = read_udp_port },
};

static const struct jobj match_spec = {
	"match", JOBJ_FIELDS(match_fields),
	"unknown key (a match has ethertype, ip_protocol and udp_port)", NULL
};

static bool is_ip_ethertype(json_int_t et)
{
	return et == ETHERTYPE_IPV4 || et == ETHERTYPE_IPV6;
}

static int match_from_json(const json_t *m, enum port_type ptype, struct match *out,
			   struct fault *f)
{
	struct match_keys mk = { 0 };
	bool has_et, has_proto, has_port;
	json_int_t et, proto, port;

	memset(out, 0, sizeof(*out));
	if (jsonobj_read(m, &match_spec, &mk, f) < 0)
		return -EINVAL;
	has_et = mk.has[LEVEL_ETHERTYPE];
	has_proto = mk.has[LEVEL_IP_PROTOCOL];
	has_port = mk.has[LEVEL_UDP_PORT];
	et = mk.v[LEVEL_ETHERTYPE];
	proto = mk.v[LEVEL_IP_PROTOCOL];
	port = mk.v[LEVEL_UDP_PORT];
	/*
	 * IEEE 802.3 3.2.6: below 1536 (0x0600) the type/length field is a
	 * length (up to 1500; 1501..1535 undefined), not an EtherType. Such
	 * frames have no ethertype node, so a binding there would be a
	 * binding on a frame size, and never runs.
	 */
	if (has_et && et < ETHERTYPE_MIN)
		return fault_add(f, "match.ethertype",
				 "must be 1536..65535 (got %lld): below 1536 (0x0600) the "
				 "Ethernet type/length field is an IEEE 802.3 frame length, not "
				 "an EtherType; bind {} to see such frames",
				 (long long)et);

	if (has_port && (!has_proto || proto != IPPROTO_UDP_))
		return fault_add(f, "match.udp_port",
				 "a udp_port match needs \"ip_protocol\": 17 (UDP)");
	if (ptype == PORT_TUN) {
		/* A tun carries IP packets: its first level is the IP version only. */
		if (has_et && !has_proto)
			return fault_add(f, "match.ethertype",
					 "a tun port has no Ethernet layer; match IP packets with "
					 "ip_protocol (ethertype 2048 or 34525 may accompany it to "
					 "pick the IP version)");
		if (has_proto && !has_et) {
			has_et = true;
			et = ETHERTYPE_IPV4;
		}
	}
	if (has_proto && !has_et)
		return fault_add(f, "match.ethertype",
				 "an ip_protocol match needs \"ethertype\": 2048 (IPv4) or 34525 "
				 "(IPv6)");
	if (has_proto && !is_ip_ethertype(et))
		return fault_add(f, "match.ethertype",
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
		if (strcmp(handlers[k]->name, name) == 0) {
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
		n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s", n ? ", " : "",
				      handlers[k]->name);
	return fault_add(f, "handler", "must be one of %s", names);
}

static int read_id(const json_t *v, const char *field, void *out, struct fault *f)
{
	struct binding_config *cfg = out;

	if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > UINT32_MAX)
		return fault_add(f, field, "must be an integer 1..%u", UINT32_MAX);
	cfg->id = (uint32_t)json_integer_value(v);
	return 0;
}

int bindcfg_name_check(const char *name, const char *field, struct fault *f)
{
	size_t len = strlen(name), digits = 0;

	if (len < 1 || len > BINDING_NAME_MAX)
		return fault_set(f, FAULT_INVALID, 0, field,
				 "a binding name is 1 to %d characters long (got %zu)",
				 BINDING_NAME_MAX, len);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c >= '0' && c <= '9')
			digits++;
		else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
			   c == '.' || c == '-'))
			return fault_set(f, FAULT_INVALID, 0, field,
					 "a binding name may only hold letters, digits, '_', '.' "
					 "and '-' (found byte 0x%02x at offset %zu)",
					 c, i);
	}
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return fault_set(f, FAULT_INVALID, 0, field,
				 "\".\" and \"..\" are not binding names");
	/* /bindings/{x} is binding id x when x is all digits, so a name never is. */
	if (digits == len)
		return fault_set(f, FAULT_INVALID, 0, field,
				 "a binding name cannot be all digits: /bindings/%s names the "
				 "binding with id %s",
				 name, name);
	return 0;
}

static int read_name(const json_t *v, const char *field, void *out, struct fault *f)
{
	struct binding_config *cfg = out;
	const char *s;

	if (jsonobj_string(v, field, &s, f) < 0 || bindcfg_name_check(s, field, f) < 0)
		return -EINVAL;
	memcpy(cfg->name, s, strlen(s) + 1);
	return 0;
}

/* "id" first: a request's table starts after it (the state file keeps ids). */
static const struct jfield binding_fields[] = {
	{ "id", JT_ANY, .read = read_id },	 { "name", JT_STRING, .read = read_name },
	{ .key = "match", .type = JT_OBJECT },	 { .key = "handler", .type = JT_STRING },
	{ .key = "options", .type = JT_OBJECT },
};

static const struct jobj binding_spec[2] = {
	[false] = { NULL, binding_fields + 1, 4, "unknown field", NULL },
	[true] = { NULL, JOBJ_FIELDS(binding_fields), "unknown field", NULL },
};

static int from_json(const json_t *obj, enum port_type ptype, bool allow_id, bool check,
		     struct binding_config *out, struct fault *f)
{
	const struct handler_ops *ops;
	const json_t *h;
	int ret;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(obj))
		return fault_set(f, FAULT_SYNTAX, 0, NULL, "a binding must be a JSON object");
	/* The match and the handler are looked at even after an invalid member: all are listed. */
	ret = jsonobj_read(obj, &binding_spec[allow_id], out, f);
	if (ret < 0 && f->kind != FAULT_INVALID)
		return ret;
	if (match_from_json(json_object_get(obj, "match"), ptype, &out->match, f) < 0)
		ret = -EINVAL;
	h = json_object_get(obj, "handler");
	if (!h)
		return fault_add(f, "handler", "is required");
	if (!json_is_string(h))
		return -EINVAL; /* jsonobj_read() said so */
	ops = handler_by_name(json_string_value(h), &out->kind);
	if (!ops)
		return unknown_handler(f);
	if (ret < 0)
		return ret; /* where it may live and its options depend on a valid match */
	if (!(ops->levels & (1u << out->match.depth)))
		return fault_add(f, "handler", "%s cannot be bound at a %s node: it lives %s",
				 ops->name, level_names[out->match.depth], ops->placement);
	if (!check)
		return bindopts_read(json_object_get(obj, "options"), ptype, out, f);
	return bindopts_from_json(json_object_get(obj, "options"), ptype, out, f);
}

int bindcfg_from_json(const json_t *obj, enum port_type ptype, bool allow_id,
		      struct binding_config *out, struct fault *f)
{
	return from_json(obj, ptype, allow_id, true, out, f);
}

int bindcfg_read(const json_t *obj, enum port_type ptype, struct binding_config *out,
		 struct fault *f)
{
	return from_json(obj, ptype, false, false, out, f);
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

json_t *bindcfg_spec_json(const struct binding_config *cfg)
{
	const struct handler_ops *ops = handlers[cfg->kind];
	json_t *o = json_object(), *opts = json_object();

	json_object_set_new(o, "match", match_to_json(&cfg->match));
	json_object_set_new(o, "handler", json_string(ops->name));
	bindopts_to_json(cfg, opts);
	json_object_set_new(o, "options", opts);
	return o;
}

json_t *bindcfg_to_json(const struct binding_config *cfg)
{
	json_t *o = json_object(), *spec = bindcfg_spec_json(cfg);

	json_object_set_new(o, "id", json_integer(cfg->id));
	if (cfg->name[0])
		json_object_set_new(o, "name", json_string(cfg->name));
	json_object_update(o, spec);
	json_decref(spec);
	return o;
}

bool bindcfg_same(const struct binding_config *a, const struct binding_config *b)
{
	json_t *ja, *jb;
	bool same;

	/*
	 * The options are a union of structs with padding and unused tails,
	 * so they are compared in their normalized JSON form, the same form a
	 * client reads back: equal there is equal in effect.
	 */
	if (a->kind != b->kind || a->match.depth != b->match.depth ||
	    a->match.ethertype != b->match.ethertype ||
	    a->match.ip_protocol != b->match.ip_protocol || a->match.udp_port != b->match.udp_port)
		return false;
	ja = bindcfg_spec_json(a);
	jb = bindcfg_spec_json(b);
	same = ja && jb && json_equal(ja, jb);
	json_decref(ja);
	json_decref(jb);
	return same;
}
