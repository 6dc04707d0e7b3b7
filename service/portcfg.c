// SPDX-License-Identifier: MIT
/*
 * Port configuration rules and their JSON form. A static table maps each
 * field to its JSON type, the modes it is allowed in and its parser;
 * portcfg_from_json() walks the object once, so an unknown field, a field
 * of the wrong type and a value out of range are all caught in one place
 * and reported with the field's name.
 */
#include "portcfg.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

const char *port_type_name(enum port_type type)
{
	return type == PORT_TUN ? "tun" : "tap";
}

int portcfg_name_check(const char *name, const char *field, struct fault *f)
{
	size_t len = strlen(name);

	if (len < 1 || len > PORT_NAME_MAX)
		return fault_set(f, FAULT_INVALID, 0, field,
				 "an interface name is 1 to %d characters long (got %zu)",
				 PORT_NAME_MAX, len);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return fault_set(f, FAULT_INVALID, 0, field,
					 "an interface name may only hold letters, digits, '_', '.' "
					 "and '-' (found byte 0x%02x at offset %zu)",
					 c, i);
	}
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return fault_set(f, FAULT_INVALID, 0, field,
				 "\".\" and \"..\" are not interface names");
	return 0;
}

enum { M_CREATE = 1 << PORTCFG_CREATE, M_PATCH = 1 << PORTCFG_PATCH };

struct field {
	const char *name;
	json_type type;
	unsigned modes;
	bool nullable_in_patch;
	int (*parse)(const json_t *v, struct port_config *out, struct fault *f);
};

static int parse_name(const json_t *v, struct port_config *out, struct fault *f)
{
	const char *s = json_string_value(v);

	if (strlen(s) != json_string_length(v))
		return fault_set(f, FAULT_INVALID, 0, "name", "must not contain NUL bytes");
	if (portcfg_name_check(s, "name", f) < 0)
		return -EINVAL;
	memcpy(out->name, s, strlen(s) + 1);
	return 0;
}

static int parse_type(const json_t *v, struct port_config *out, struct fault *f)
{
	const char *s = json_string_value(v);

	if (strcmp(s, "tun") == 0)
		out->type = PORT_TUN;
	else if (strcmp(s, "tap") == 0)
		out->type = PORT_TAP;
	else
		return fault_set(f, FAULT_INVALID, 0, "type", "must be \"tun\" or \"tap\"");
	return 0;
}

static int parse_packet_info(const json_t *v, struct port_config *out, struct fault *f)
{
	(void)f;
	out->packet_info = json_is_true(v);
	return 0;
}

static int parse_attach(const json_t *v, struct port_config *out, struct fault *f)
{
	(void)f;
	out->attach = json_is_true(v);
	return 0;
}

static int parse_up(const json_t *v, struct port_config *out, struct fault *f)
{
	(void)f;
	out->has_up = true;
	out->up = json_is_true(v);
	return 0;
}

static int parse_strict(const json_t *v, struct port_config *out, struct fault *f)
{
	(void)f;
	out->has_strict = true;
	out->strict = json_is_true(v);
	return 0;
}

static int parse_mtu(const json_t *v, struct port_config *out, struct fault *f)
{
	json_int_t mtu = json_integer_value(v);

	if (mtu < PORT_MTU_MIN || mtu > PORT_MTU_MAX)
		return fault_set(f, FAULT_INVALID, 0, "mtu", "must be %d..%d (got %lld)",
				 PORT_MTU_MIN, PORT_MTU_MAX, (long long)mtu);
	out->has_mtu = true;
	out->mtu = (uint32_t)mtu;
	return 0;
}

static int parse_mac(const json_t *v, struct port_config *out, struct fault *f)
{
	const char *why;

	if (mac_parse(json_string_value(v), out->mac, &why) < 0)
		return fault_set(f, FAULT_INVALID, 0, "mac", "%s", why);
	out->has_mac = true;
	return 0;
}

static int parse_addresses(const json_t *v, struct port_config *out, struct fault *f)
{
	char field[32];
	const char *why;
	size_t i;
	json_t *e;

	out->has_addresses = true;
	out->n_addrs = 0;
	if (json_is_null(v))
		return 0;
	if (json_array_size(v) > PORT_ADDR_MAX)
		return fault_set(f, FAULT_INVALID, 0, "addresses", "at most %d addresses per port",
				 PORT_ADDR_MAX);
	json_array_foreach(v, i, e) {
		struct ip_prefix *p = &out->addrs[i];

		snprintf(field, sizeof(field), "addresses[%zu]", i);
		if (!json_is_string(e))
			return fault_set(f, FAULT_INVALID, 0, field, "must be a string");
		if (prefix_parse(json_string_value(e), p, &why) < 0)
			return fault_set(f, FAULT_INVALID, 0, field, "\"%s\": %s",
					 json_string_value(e), why);
		for (size_t j = 0; j < i; j++)
			if (prefix_equal(&out->addrs[j], p))
				return fault_set(f, FAULT_INVALID, 0, field,
						 "\"%s\" is listed twice", json_string_value(e));
		out->n_addrs = (unsigned)i + 1;
	}
	return 0;
}

static const struct field fields[] = {
	{ "name", JSON_STRING, M_CREATE, false, parse_name },
	{ "type", JSON_STRING, M_CREATE, false, parse_type },
	{ "packet_info", JSON_TRUE, M_CREATE, false, parse_packet_info },
	{ "attach", JSON_TRUE, M_CREATE, false, parse_attach },
	{ "up", JSON_TRUE, M_CREATE | M_PATCH, false, parse_up },
	{ "mtu", JSON_INTEGER, M_CREATE | M_PATCH, false, parse_mtu },
	{ "mac", JSON_STRING, M_CREATE | M_PATCH, false, parse_mac },
	{ "addresses", JSON_ARRAY, M_CREATE | M_PATCH, true, parse_addresses },
	{ "strict", JSON_TRUE, M_CREATE | M_PATCH, false, parse_strict },
};

static const char *type_words(json_type t)
{
	switch (t) {
	case JSON_STRING:
		return "a string";
	case JSON_TRUE:
		return "a boolean";
	case JSON_INTEGER:
		return "an integer";
	case JSON_ARRAY:
		return "an array";
	default:
		return "something else";
	}
}

static bool type_matches(json_type want, const json_t *v)
{
	if (want == JSON_TRUE)
		return json_is_boolean(v);
	return json_typeof(v) == want;
}

static const struct field *field_find(const char *key)
{
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strcmp(fields[i].name, key) == 0)
			return &fields[i];
	return NULL;
}

int portcfg_check(const struct port_config *out, struct fault *f)
{
	if (out->name[0] == '\0')
		return fault_set(f, FAULT_INVALID, 0, "name", "is required");
	if (out->type == 0)
		return fault_set(f, FAULT_INVALID, 0, "type", "is required (\"tun\" or \"tap\")");
	if (out->has_mac && out->type == PORT_TUN)
		return fault_set(f, FAULT_INVALID, 0, "mac",
				 "a tun device carries IP packets and has no MAC address");
	return 0;
}

int portcfg_check_mtu(const struct port_config *cfg, const struct port_config *patch,
		      struct fault *f)
{
	char text[PREFIX_STR_MAX];
	const char *field = "mtu";

	if (!cfg->has_mtu || cfg->mtu >= PORT_MTU_IPV6)
		return 0;
	for (unsigned i = 0; cfg->has_addresses && i < cfg->n_addrs; i++) {
		if (cfg->addrs[i].family != AF_INET6)
			continue;
		/* The offending field is the one this request brings in. */
		if (patch && patch->has_addresses && !patch->has_mtu)
			field = "addresses";
		prefix_format(&cfg->addrs[i], text);
		return fault_set(f, FAULT_INVALID, 0, field,
				 "mtu %u is below %d, the IPv6 minimum (RFC 8200), while "
				 "addresses holds the IPv6 address %s; the kernel drops a link's "
				 "IPv6 addresses below that MTU. Raise mtu or remove the IPv6 "
				 "addresses",
				 cfg->mtu, PORT_MTU_IPV6, text);
	}
	return 0;
}

int portcfg_from_json(const json_t *obj, enum portcfg_mode mode, const char *path_name,
		      struct port_config *out, struct fault *f)
{
	const char *key;
	json_t *v;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(obj))
		return fault_set(f, FAULT_SYNTAX, 0, NULL, "the body must be a JSON object");
	json_object_foreach((json_t *)obj, key, v) {
		const struct field *fd = field_find(key);

		if (!fd)
			return fault_set(f, FAULT_INVALID, 0, key, "unknown field");
		if (!(fd->modes & (1u << mode)))
			return fault_set(f, FAULT_INVALID, 0, key,
					 "cannot be changed here; replace the port with PUT");
		if (json_is_null(v) && mode == PORTCFG_PATCH && fd->nullable_in_patch) {
			if (fd->parse(v, out, f) < 0)
				return -EINVAL;
			continue;
		}
		if (!type_matches(fd->type, v))
			return fault_set(f, FAULT_INVALID, 0, key, "must be %s", type_words(fd->type));
		if (fd->parse(v, out, f) < 0)
			return -EINVAL;
	}
	if (mode == PORTCFG_CREATE && path_name) {
		if (out->name[0] == '\0')
			memcpy(out->name, path_name, strlen(path_name) + 1);
		else if (strcmp(out->name, path_name) != 0)
			return fault_set(f, FAULT_INVALID, 0, "name",
					 "\"%s\" differs from the name in the path, \"%s\"",
					 out->name, path_name);
	}
	return mode == PORTCFG_CREATE ? portcfg_check(out, f) : 0;
}

json_t *portcfg_to_json(const struct port_config *cfg)
{
	json_t *o = json_object();
	char buf[PREFIX_STR_MAX];

	if (!o)
		return NULL;
	json_object_set_new(o, "name", json_string(cfg->name));
	json_object_set_new(o, "type", json_string(port_type_name(cfg->type)));
	json_object_set_new(o, "packet_info", json_boolean(cfg->packet_info));
	json_object_set_new(o, "attach", json_boolean(cfg->attach));
	if (cfg->has_up)
		json_object_set_new(o, "up", json_boolean(cfg->up));
	if (cfg->has_mtu)
		json_object_set_new(o, "mtu", json_integer(cfg->mtu));
	if (cfg->has_mac) {
		mac_format(cfg->mac, buf);
		json_object_set_new(o, "mac", json_string(buf));
	}
	if (cfg->has_addresses) {
		json_t *a = json_array();

		for (unsigned i = 0; i < cfg->n_addrs; i++) {
			prefix_format(&cfg->addrs[i], buf);
			json_array_append_new(a, json_string(buf));
		}
		json_object_set_new(o, "addresses", a);
	}
	if (cfg->has_strict)
		json_object_set_new(o, "strict", json_boolean(cfg->strict));
	return o;
}

void portcfg_merge(struct port_config *cfg, const struct port_config *patch)
{
	if (patch->has_up) {
		cfg->has_up = true;
		cfg->up = patch->up;
	}
	if (patch->has_mtu) {
		cfg->has_mtu = true;
		cfg->mtu = patch->mtu;
	}
	if (patch->has_mac) {
		cfg->has_mac = true;
		memcpy(cfg->mac, patch->mac, 6);
	}
	if (patch->has_strict) {
		cfg->has_strict = true;
		cfg->strict = patch->strict;
	}
	if (patch->has_addresses) {
		cfg->has_addresses = true;
		cfg->n_addrs = patch->n_addrs;
		memcpy(cfg->addrs, patch->addrs, sizeof(cfg->addrs));
	}
}

bool portcfg_same_device(const struct port_config *a, const struct port_config *b)
{
	return strcmp(a->name, b->name) == 0 && a->type == b->type &&
	       a->packet_info == b->packet_info && a->attach == b->attach;
}
