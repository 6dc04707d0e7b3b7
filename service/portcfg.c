// SPDX-License-Identifier: MIT
/*
 * Port configuration rules and their JSON form. A static table per mode
 * (create, patch) maps each field to its JSON type and its parser, and
 * jsonobj_read() walks the object once, so an unknown field, a field of
 * the wrong type and a value out of range are all caught in one place and
 * reported with the field's name.
 */
#include "portcfg.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "jsonobj.h"

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
			return fault_set(
				f, FAULT_INVALID, 0, field,
				"an interface name may only hold letters, digits, '_', '.' "
				"and '-' (found byte 0x%02x at offset %zu)",
				c, i);
	}
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return fault_set(f, FAULT_INVALID, 0, field,
				 "\".\" and \"..\" are not interface names");
	return 0;
}

static int parse_name(const json_t *v, const char *field, void *arg, struct fault *f)
{
	struct port_config *out = arg;
	const char *s;

	if (jsonobj_string(v, field, &s, f) < 0 || portcfg_name_check(s, field, f) < 0)
		return -EINVAL;
	memcpy(out->name, s, strlen(s) + 1);
	return 0;
}

static int parse_type(const json_t *v, const char *field, void *arg, struct fault *f)
{
	struct port_config *out = arg;
	const char *s = json_string_value(v);

	if (strcmp(s, "tun") == 0)
		out->type = PORT_TUN;
	else if (strcmp(s, "tap") == 0)
		out->type = PORT_TAP;
	else
		return fault_set(f, FAULT_INVALID, 0, field, "must be \"tun\" or \"tap\"");
	return 0;
}

/*
 * The booleans: the member each sets and, for those a PATCH may bring, the
 * has_ member saying it was given (0 for none: offset 0 is the name).
 */
static const struct {
	const char *key;
	size_t val, has;
} flags[] = {
	{ "packet_info", offsetof(struct port_config, packet_info), 0 },
	{ "attach", offsetof(struct port_config, attach), 0 },
	{ "vnet_hdr", offsetof(struct port_config, vnet_hdr), 0 },
	{ "up", offsetof(struct port_config, up), offsetof(struct port_config, has_up) },
	{ "strict", offsetof(struct port_config, strict),
	  offsetof(struct port_config, has_strict) },
};

static int parse_flag(const json_t *v, const char *field, void *arg, struct fault *f)
{
	char *out = arg;

	(void)f;
	/* A create's null is the field left out (the canonical "config" says so with null). */
	if (json_is_null(v))
		return 0;
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		if (strcmp(flags[i].key, field) != 0)
			continue;
		*(bool *)(out + flags[i].val) = json_is_true(v);
		if (flags[i].has)
			*(bool *)(out + flags[i].has) = true;
	}
	return 0;
}

static int parse_queues(const json_t *v, const char *field, void *arg, struct fault *f)
{
	struct port_config *out = arg;
	json_int_t n = json_integer_value(v);

	if (n < 1 || n > PORTCFG_QUEUES_MAX)
		return fault_set(f, FAULT_INVALID, 0, field, "must be 1..%d (got %lld)",
				 PORTCFG_QUEUES_MAX, (long long)n);
	out->queues = (uint8_t)n;
	return 0;
}

static int parse_mtu(const json_t *v, const char *field, void *arg, struct fault *f)
{
	struct port_config *out = arg;
	json_int_t mtu = json_integer_value(v);

	if (json_is_null(v))
		return 0;
	if (mtu < PORT_MTU_MIN || mtu > PORT_MTU_MAX)
		return fault_set(f, FAULT_INVALID, 0, field, "must be %d..%d (got %lld)",
				 PORT_MTU_MIN, PORT_MTU_MAX, (long long)mtu);
	out->has_mtu = true;
	out->mtu = (uint32_t)mtu;
	return 0;
}

static int parse_mac(const json_t *v, const char *field, void *arg, struct fault *f)
{
	struct port_config *out = arg;
	const char *why;

	if (json_is_null(v))
		return 0;
	if (mac_parse(json_string_value(v), out->mac, &why) < 0)
		return fault_set(f, FAULT_INVALID, 0, field, "%s", why);
	out->has_mac = true;
	return 0;
}

static int parse_addresses(const json_t *v, const char *field, void *arg, struct fault *f)
{
	struct port_config *out = arg;
	bool good[PORT_ADDR_MAX];
	char item[32];
	const char *why;
	int ret = 0;
	size_t i;
	json_t *e;

	out->has_addresses = true;
	out->n_addrs = 0;
	if (json_is_null(v))
		return 0;
	if (json_array_size(v) > PORT_ADDR_MAX)
		return fault_set(f, FAULT_INVALID, 0, field, "at most %d addresses per port",
				 PORT_ADDR_MAX);
	/* Every bad item is listed; a duplicate is looked for among the good ones. */
	json_array_foreach(v, i, e) {
		struct ip_prefix *p = &out->addrs[i];

		snprintf(item, sizeof(item), "%s[%zu]", field, i);
		good[i] = false;
		if (!json_is_string(e)) {
			ret = fault_add(f, item, "must be a string");
			continue;
		}
		if (prefix_parse(json_string_value(e), p, &why) < 0) {
			ret = fault_add(f, item, "\"%s\": %s", json_string_value(e), why);
			continue;
		}
		good[i] = true;
		for (size_t j = 0; j < i && good[i]; j++) {
			if (good[j] && prefix_equal(&out->addrs[j], p)) {
				ret = fault_add(f, item, "\"%s\" is listed twice",
						json_string_value(e));
				good[i] = false;
			}
		}
		out->n_addrs = (unsigned)i + 1;
	}
	return ret;
}

/* A field of the device itself: only a create (POST, PUT) sets it. */
static int create_only(const json_t *v, const char *field, void *arg, struct fault *f)
{
	(void)v;
	(void)arg;
	return fault_set(f, FAULT_INVALID, 0, field,
			 "cannot be changed here; replace the port with PUT");
}

static const struct jfield create_fields[] = {
	{ "name", JT_STRING, .read = parse_name },
	{ "type", JT_STRING, .read = parse_type },
	{ "packet_info", JT_BOOLEAN, .read = parse_flag },
	{ "attach", JT_BOOLEAN, .read = parse_flag },
	{ "vnet_hdr", JT_BOOLEAN, .read = parse_flag },
	{ "queues", JT_INTEGER, .read = parse_queues },
	/* null: not given (GET's "config" shows what paird leaves alone so). */
	{ "up", JT_BOOLEAN, .nullable = true, .read = parse_flag },
	{ "mtu", JT_INTEGER, .nullable = true, .read = parse_mtu },
	{ "mac", JT_STRING, .nullable = true, .read = parse_mac },
	{ "addresses", JT_ARRAY, .read = parse_addresses },
	{ "strict", JT_BOOLEAN, .read = parse_flag },
};

/* RFC 7396: a PATCH's null removes; only the addresses can be removed. */
static const struct jfield patch_fields[] = {
	{ "name", JT_ANY, .read = create_only },
	{ "type", JT_ANY, .read = create_only },
	{ "packet_info", JT_ANY, .read = create_only },
	{ "attach", JT_ANY, .read = create_only },
	{ "vnet_hdr", JT_ANY, .read = create_only },
	{ "queues", JT_ANY, .read = create_only },
	{ "up", JT_BOOLEAN, .read = parse_flag },
	{ "mtu", JT_INTEGER, .read = parse_mtu },
	{ "mac", JT_STRING, .read = parse_mac },
	{ "addresses", JT_ARRAY, .nullable = true, .read = parse_addresses },
	{ "strict", JT_BOOLEAN, .read = parse_flag },
};

static const struct jobj specs[] = {
	[PORTCFG_CREATE] = { NULL, JOBJ_FIELDS(create_fields), "unknown field", NULL },
	[PORTCFG_PATCH] = { NULL, JOBJ_FIELDS(patch_fields), "unknown field", NULL },
};

int portcfg_check(const struct port_config *out, struct fault *f)
{
	int ret = 0;

	/* Each missing or contradicting field is listed (fault_add()), not only the first. */
	if (out->name[0] == '\0')
		ret = fault_add(f, "name", "is required");
	if (out->type == 0)
		ret = fault_add(f, "type", "is required (\"tun\" or \"tap\")");
	if (out->has_mac && out->type == PORT_TUN)
		ret = fault_add(f, "mac", "a tun device carries IP packets and has no MAC address");
	return ret;
}

/*
 * Why the kernel would not hold @p as an address of global scope, or NULL.
 * IPv6 (RFC 4291 2.4; its ipv6_addr_scope()): it refuses the unspecified,
 * loopback and multicast ones, and gives fe80::/10 and fec0::/10 link or
 * site scope, which paird neither lists nor compares, so such an address
 * would be added again by every apply. IPv4: 0.0.0.0 is taken and not held.
 */
static const char *not_global(const struct ip_prefix *p)
{
	static const uint8_t zero[16], loopback[16] = { [15] = 1 };

	/* IPv4's 0.0.0.0 (RFC 1122 3.2.1.3): the kernel answers yes and adds nothing. */
	if (p->family == AF_INET && memcmp(p->addr, zero, 4) == 0)
		return "the unspecified address";
	if (p->family != AF_INET6)
		return NULL;
	if (memcmp(p->addr, zero, 16) == 0)
		return "the unspecified address";
	if (memcmp(p->addr, loopback, 16) == 0)
		return "the loopback address";
	if (p->addr[0] == 0xff)
		return "a multicast address";
	if (p->addr[0] == 0xfe && (p->addr[1] & 0xc0) == 0x80)
		return "a link-local address (the kernel makes the link's own fe80:: one)";
	if (p->addr[0] == 0xfe && (p->addr[1] & 0xc0) == 0xc0)
		return "a site-local address (deprecated, RFC 3879)";
	return NULL;
}

int portcfg_check_addrs(const struct port_config *cfg, struct fault *f)
{
	char item[32], text[PREFIX_STR_MAX];
	const char *why;
	int ret = 0;

	for (unsigned i = 0; cfg->has_addresses && i < cfg->n_addrs; i++) {
		const struct ip_prefix *p = &cfg->addrs[i];

		why = not_global(p);
		if (why) {
			snprintf(item, sizeof(item), "addresses[%u]", i);
			prefix_format(p, text);
			ret = fault_add(f, item,
					"%s is %s: paird configures addresses of global scope",
					text, why);
			continue;
		}
		for (unsigned j = 0; p->family == AF_INET6 && j < i; j++) {
			const struct ip_prefix *q = &cfg->addrs[j];

			if (q->family != AF_INET6 || q->len == p->len ||
			    memcmp(q->addr, p->addr, sizeof(p->addr)) != 0)
				continue;
			snprintf(item, sizeof(item), "addresses[%u]", i);
			prefix_format(p, text);
			ret = fault_add(f, item,
					"%s: the address is listed already with prefix length %u, "
					"and a link holds an IPv6 address once",
					text, q->len);
			break;
		}
	}
	return ret;
}

int portcfg_check_mtu(const struct port_config *cfg, const struct port_config *patch,
		      struct fault *f)
{
	char text[PREFIX_STR_MAX];
	const char *field = "mtu";

	if (cfg->has_mtu && cfg->type == PORT_TAP && cfg->mtu > PORT_MTU_MAX_TAP)
		return fault_set(
			f, FAULT_INVALID, 0, field,
			"must be %d..%d on a tap (got %u): the kernel's limit, %d less the "
			"14-byte Ethernet header",
			PORT_MTU_MIN, PORT_MTU_MAX_TAP, cfg->mtu, PORT_MTU_MAX);
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

int portcfg_check_held(const struct port_config *cfg, const struct port_config *patch,
		       struct fault *f)
{
	int ret = portcfg_check_addrs(cfg, f);

	return ret < 0 ? ret : portcfg_check_mtu(cfg, patch, f);
}

int portcfg_from_json(const json_t *obj, enum portcfg_mode mode, const char *path_name,
		      struct port_config *out, struct fault *f)
{
	int ret;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(obj))
		return fault_set(f, FAULT_SYNTAX, 0, NULL, "the body must be a JSON object");
	/* An invalid member does not end the checks: the later ones are listed too. */
	ret = jsonobj_read(obj, &specs[mode], out, f);
	if (ret < 0 && f->kind != FAULT_INVALID)
		return ret;
	if (mode == PORTCFG_CREATE && path_name) {
		if (out->name[0] == '\0')
			memcpy(out->name, path_name, strlen(path_name) + 1);
		else if (strcmp(out->name, path_name) != 0)
			ret = fault_add(f, "name",
					"\"%s\" differs from the name in the path, \"%s\"",
					out->name, path_name);
	}
	if (mode == PORTCFG_CREATE && portcfg_check(out, f) < 0)
		ret = -EINVAL;
	return ret;
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
	/* Only when set: a state file without it is what older versions read. */
	if (cfg->vnet_hdr)
		json_object_set_new(o, "vnet_hdr", json_true());
	/* Only when not 1: a single-queue port's state stays as older paird wrote and reads it. */
	if (portcfg_queues(cfg) > 1)
		json_object_set_new(o, "queues", json_integer(portcfg_queues(cfg)));
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
	       a->packet_info == b->packet_info && a->attach == b->attach &&
	       a->vnet_hdr == b->vnet_hdr && portcfg_queues(a) == portcfg_queues(b);
}

json_t *portcfg_config_json(const struct port_config *cfg)
{
	json_t *o = json_object(), *a = json_array();
	char buf[PREFIX_STR_MAX];

	if (!o || !a) {
		json_decref(o);
		json_decref(a);
		return NULL;
	}
	json_object_set_new(o, "type", json_string(port_type_name(cfg->type)));
	json_object_set_new(o, "mtu", cfg->has_mtu ? json_integer(cfg->mtu) : json_null());
	if (cfg->has_mac) {
		mac_format(cfg->mac, buf);
		json_object_set_new(o, "mac", json_string(buf));
	} else {
		json_object_set_new(o, "mac", json_null());
	}
	json_object_set_new(o, "up", cfg->has_up ? json_boolean(cfg->up) : json_null());
	for (unsigned i = 0; cfg->has_addresses && i < cfg->n_addrs; i++) {
		prefix_format(&cfg->addrs[i], buf);
		json_array_append_new(a, json_string(buf));
	}
	json_object_set_new(o, "addresses", a);
	json_object_set_new(o, "attach", json_boolean(cfg->attach));
	json_object_set_new(o, "queues", json_integer(portcfg_queues(cfg)));
	json_object_set_new(o, "packet_info", json_boolean(cfg->packet_info));
	json_object_set_new(o, "vnet_hdr", json_boolean(cfg->vnet_hdr));
	json_object_set_new(o, "strict", json_boolean(cfg->has_strict && cfg->strict));
	return o;
}

/* A configuration's addresses, none when it does not list any (the same to the kernel). */
static unsigned n_addrs(const struct port_config *c)
{
	return c->has_addresses ? c->n_addrs : 0;
}

unsigned portcfg_changes(const struct port_config *a, const struct port_config *b)
{
	unsigned ch = 0;

	if (strcmp(a->name, b->name) != 0)
		ch |= PORTCFG_F_NAME;
	if (a->type != b->type)
		ch |= PORTCFG_F_TYPE;
	if (a->packet_info != b->packet_info)
		ch |= PORTCFG_F_PACKET_INFO;
	if (a->attach != b->attach)
		ch |= PORTCFG_F_ATTACH;
	if (a->vnet_hdr != b->vnet_hdr)
		ch |= PORTCFG_F_VNET_HDR;
	if (portcfg_queues(a) != portcfg_queues(b))
		ch |= PORTCFG_F_QUEUES;
	if (a->has_up != b->has_up || (a->has_up && a->up != b->up))
		ch |= PORTCFG_F_UP;
	if (a->has_mtu != b->has_mtu || (a->has_mtu && a->mtu != b->mtu))
		ch |= PORTCFG_F_MTU;
	if (a->has_mac != b->has_mac || (a->has_mac && memcmp(a->mac, b->mac, 6) != 0))
		ch |= PORTCFG_F_MAC;
	/* An absent strict is false, an absent list of addresses an empty one: both alike. */
	if ((a->has_strict && a->strict) != (b->has_strict && b->strict))
		ch |= PORTCFG_F_STRICT;
	if (n_addrs(a) != n_addrs(b)) {
		ch |= PORTCFG_F_ADDRESSES;
	} else {
		for (unsigned i = 0; i < n_addrs(a); i++)
			if (!prefix_equal(&a->addrs[i], &b->addrs[i]))
				ch |= PORTCFG_F_ADDRESSES;
	}
	return ch;
}

static const char *const change_names[] = {
	"name", "type",	     "packet_info", "attach",	"up",	  "mtu",
	"mac",	"addresses", "strict",	    "vnet_hdr", "queues",
};

const char *portcfg_field_name(unsigned bit)
{
	for (unsigned i = 0; i < sizeof(change_names) / sizeof(change_names[0]); i++)
		if (bit == 1u << i)
			return change_names[i];
	return NULL;
}

/* Appends to @buf at *@at, cut at @size; snprintf's return beyond the end is clamped. */
static void append(char *buf, size_t size, size_t *at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void append(char *buf, size_t size, size_t *at, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*at >= size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *at, size - *at, fmt, ap);
	va_end(ap);
	if (n > 0)
		*at = *at + (size_t)n < size ? *at + (size_t)n : size - 1;
}

void portcfg_describe_changes(const struct port_config *a, const struct port_config *b, char *buf,
			      size_t size)
{
	unsigned ch = portcfg_changes(a, b);
	char ma[MAC_STR_MAX], mb[MAC_STR_MAX];
	size_t at = 0;

	buf[0] = '\0';
	for (unsigned bit = 1; bit && bit <= PORTCFG_F_ALL; bit <<= 1) {
		if (!(ch & bit))
			continue;
		append(buf, size, &at, "%s%s", at ? ", " : "", portcfg_field_name(bit));
		if (bit == PORTCFG_F_MTU) {
			snprintf(ma, sizeof(ma), a->has_mtu ? "%u" : "unset", a->mtu);
			snprintf(mb, sizeof(mb), b->has_mtu ? "%u" : "unset", b->mtu);
			append(buf, size, &at, " %s -> %s", ma, mb);
		} else if (bit == PORTCFG_F_UP)
			append(buf, size, &at, " %s -> %s",
			       a->has_up ? (a->up ? "true" : "false") : "unset",
			       b->has_up ? (b->up ? "true" : "false") : "unset");
		else if (bit == PORTCFG_F_MAC) {
			if (a->has_mac)
				mac_format(a->mac, ma);
			if (b->has_mac)
				mac_format(b->mac, mb);
			append(buf, size, &at, " %s -> %s", a->has_mac ? ma : "unset",
			       b->has_mac ? mb : "unset");
		} else if (bit == PORTCFG_F_STRICT)
			append(buf, size, &at, " %s -> %s", a->strict ? "true" : "false",
			       b->strict ? "true" : "false");
	}
}
