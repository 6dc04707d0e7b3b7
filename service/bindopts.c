// SPDX-License-Identifier: MIT
/*
 * Handler options from and to JSON: one strict-object table (jsonobj.h)
 * per handler kind with the readers of its members, the defaults, and the
 * writer of its effective options. Placement and the checks only a
 * handler can make (fits(), check()) come from the handler table.
 */
#include "bindopts.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "handler.h"
#include "jsonobj.h"
#include "netaddr.h"

/* --- capture: {"limit", "snaplen", "filter"} --- */

static int read_limit(const json_t *v, const char *field, void *out, struct fault *f)
{
	struct capture_opts *o = &((struct binding_config *)out)->o.capture;
	json_int_t n = json_integer_value(v);

	if (n < 0 || (unsigned long long)n > CAPTURE_LIMIT_MAX)
		return fault_set(f, FAULT_INVALID, 0, field,
				 "must be 0 (no limit) to %llu (got %lld)", CAPTURE_LIMIT_MAX,
				 (long long)n);
	o->limit = (uint64_t)n;
	return 0;
}

static int read_snaplen(const json_t *v, const char *field, void *out, struct fault *f)
{
	struct capture_opts *o = &((struct binding_config *)out)->o.capture;
	json_int_t n = json_integer_value(v);

	if (n < 1 || n > CAPTURE_SNAPLEN_MAX)
		return fault_set(f, FAULT_INVALID, 0, field, "must be 1..%d (got %lld)",
				 CAPTURE_SNAPLEN_MAX, (long long)n);
	o->snaplen = (uint32_t)n;
	return 0;
}

static int read_filter(const json_t *v, const char *field, void *out, struct fault *f)
{
	struct capture_opts *o = &((struct binding_config *)out)->o.capture;
	size_t len = json_string_length(v);
	const char *s;

	if (len >= CAPTURE_FILTER_MAX)
		return fault_set(f, FAULT_INVALID, 0, field,
				 "a filter is at most %d bytes long (got %zu)",
				 CAPTURE_FILTER_MAX - 1, len);
	if (jsonobj_string(v, field, &s, f) < 0)
		return -EINVAL;
	memcpy(o->filter, s, len + 1);
	return 0;
}

static const struct jfield capture_fields[] = {
	{ "limit", JT_INTEGER, .read = read_limit },
	{ "snaplen", JT_INTEGER, .read = read_snaplen },
	{ "filter", JT_STRING, .read = read_filter },
};

static void capture_defaults(struct binding_config *cfg)
{
	cfg->o.capture.snaplen = CAPTURE_SNAPLEN_MAX;
}

static void capture_to_json(const struct binding_config *cfg, json_t *o)
{
	const struct capture_opts *c = &cfg->o.capture;

	json_object_set_new(o, "limit", json_integer((json_int_t)c->limit));
	json_object_set_new(o, "snaplen", json_integer(c->snaplen));
	json_object_set_new(o, "filter", json_string(c->filter));
}

/* --- arp_reply and ndp_reply: {"addresses": [...] (required), "mac"} --- */

/* What differs between the two kinds. */
struct reply_family {
	const char *handler;
	int family;
	size_t alen;
	const char *name;
};

static const struct reply_family arp_family = { "arp_reply", AF_INET, 4, "IPv4" };
static const struct reply_family ndp_family = { "ndp_reply", AF_INET6, 16, "IPv6" };

static int read_address(const struct reply_family *k, const json_t *e, const char *field,
			uint8_t out[16], struct fault *f)
{
	uint8_t other[16];
	const char *s;

	if (jsonobj_string(e, field, &s, f) < 0)
		return -EINVAL;
	if (strchr(s, '/'))
		return fault_set(
			f, FAULT_INVALID, 0, field,
			"\"%s\": an address is answered for, not a prefix; drop the length", s);
	memset(out, 0, 16);
	if (inet_pton(k->family, s, out) != 1) {
		if (inet_pton(k->family == AF_INET ? AF_INET6 : AF_INET, s, other) == 1)
			return fault_set(f, FAULT_INVALID, 0, field,
					 "\"%s\": %s answers for %s addresses", s, k->handler,
					 k->name);
		return fault_set(f, FAULT_INVALID, 0, field, "\"%s\" is not an %s address", s,
				 k->name);
	}
	if (k->family == AF_INET && !addr4_is_unicast(out))
		/* RFC 1112 6.4: multicast maps to Ethernet algorithmically, never by ARP. */
		return fault_set(f, FAULT_INVALID, 0, field,
				 "\"%s\": only a unicast address is resolved with ARP, not an "
				 "unspecified, broadcast or multicast one",
				 s);
	if (k->family == AF_INET6 && !addr6_is_unicast(out))
		/* RFC 4861 7.1.1: the target of a solicitation is never multicast. */
		return fault_set(f, FAULT_INVALID, 0, field,
				 "\"%s\": only a unicast address is solicited, not :: or a "
				 "multicast one",
				 s);
	return 0;
}

static int read_addresses(const struct reply_family *k, const json_t *v, const char *field,
			  struct reply_opts *ro, struct fault *f)
{
	bool good[REPLY_ADDR_MAX];
	char item[64];
	int ret = 0;
	size_t i;
	json_t *e;

	if (!json_is_array(v))
		return fault_set(f, FAULT_INVALID, 0, field, "must be an array of %s addresses",
				 k->name);
	if (json_array_size(v) < 1 || json_array_size(v) > REPLY_ADDR_MAX)
		return fault_set(f, FAULT_INVALID, 0, field,
				 "must list 1 to %d addresses (got %zu)", REPLY_ADDR_MAX,
				 json_array_size(v));
	/* Every bad item is listed; a duplicate is looked for among the good ones. */
	json_array_foreach(v, i, e) {
		struct fault one = FAULT_INIT;

		snprintf(item, sizeof(item), "%s[%zu]", field, i);
		good[i] = read_address(k, e, item, ro->addrs[i], &one) == 0;
		if (!good[i]) {
			fault_merge(f, &one);
			ret = -EINVAL;
			continue;
		}
		for (size_t j = 0; j < i && good[i]; j++) {
			if (good[j] && memcmp(ro->addrs[j], ro->addrs[i], k->alen) == 0) {
				ret = fault_add(f, item, "\"%s\" is listed twice (as %s[%zu])",
						json_string_value(e), field, j);
				good[i] = false;
			}
		}
		ro->n_addrs = (unsigned)i + 1;
	}
	return ret;
}

static int read_arp_addresses(const json_t *v, const char *field, void *out, struct fault *f)
{
	return read_addresses(&arp_family, v, field, &((struct binding_config *)out)->o.reply, f);
}

static int read_ndp_addresses(const json_t *v, const char *field, void *out, struct fault *f)
{
	return read_addresses(&ndp_family, v, field, &((struct binding_config *)out)->o.reply, f);
}

static int read_reply_mac(const json_t *v, const char *field, void *out, struct fault *f)
{
	struct reply_opts *ro = &((struct binding_config *)out)->o.reply;
	const char *s, *why;

	if (jsonobj_string(v, field, &s, f) < 0)
		return -EINVAL;
	if (mac_parse(s, ro->mac, &why) < 0)
		return fault_set(f, FAULT_INVALID, 0, field, "\"%s\" %s", s, why);
	ro->has_mac = true;
	return 0;
}

static const struct jfield arp_fields[] = {
	{ "addresses", JT_ANY, .required = "is required: the IPv4 addresses to answer for",
	  .read = read_arp_addresses },
	{ "mac", JT_STRING, .read = read_reply_mac },
};

static const struct jfield ndp_fields[] = {
	{ "addresses", JT_ANY, .required = "is required: the IPv6 addresses to answer for",
	  .read = read_ndp_addresses },
	{ "mac", JT_STRING, .read = read_reply_mac },
};

static void reply_to_json(const struct reply_family *k, const struct binding_config *cfg, json_t *o)
{
	const struct reply_opts *ro = &cfg->o.reply;
	char buf[INET6_ADDRSTRLEN], mac[MAC_STR_MAX];
	json_t *a = json_array();

	for (unsigned i = 0; a && i < ro->n_addrs; i++)
		if (inet_ntop(k->family, ro->addrs[i], buf, sizeof(buf)))
			json_array_append_new(a, json_string(buf));
	json_object_set_new(o, "addresses", a);
	if (ro->has_mac) {
		mac_format(ro->mac, mac);
		json_object_set_new(o, "mac", json_string(mac));
	}
}

static void arp_to_json(const struct binding_config *cfg, json_t *o)
{
	reply_to_json(&arp_family, cfg, o);
}

static void ndp_to_json(const struct binding_config *cfg, json_t *o)
{
	reply_to_json(&ndp_family, cfg, o);
}

/* --- forward: {"port": "NAME"} (required) --- */

/*
 * Whether that port exists is not decided here: it may be created later,
 * and the port set checks it when the binding is made.
 */
static int read_forward_port(const json_t *v, const char *field, void *out, struct fault *f)
{
	struct forward_opts *fo = &((struct binding_config *)out)->o.forward;
	const char *s;

	if (jsonobj_string(v, field, &s, f) < 0 || portcfg_name_check(s, field, f) < 0)
		return -EINVAL;
	memcpy(fo->port, s, strlen(s) + 1);
	return 0;
}

static const struct jfield forward_fields[] = {
	{ "port", JT_STRING, .required = "is required: the name of the port to forward to",
	  .read = read_forward_port },
};

static void forward_to_json(const struct binding_config *cfg, json_t *o)
{
	json_object_set_new(o, "port", json_string(cfg->o.forward.port));
}

/* --- the kinds --- */

struct kind_options {
	const struct jfield *fields; /* the members of "options" */
	size_t n_fields;
	const char *unknown;			      /* the detail for any other member */
	void (*defaults)(struct binding_config *cfg); /* before reading; NULL: all zero */
	void (*to_json)(const struct binding_config *cfg, json_t *o); /* NULL: none */
};

static const struct kind_options kinds[HANDLER_KIND_COUNT] = {
	[HANDLER_COUNT] = { .unknown = "unknown option: count takes no options" },
	[HANDLER_CAPTURE] = { JOBJ_FIELDS(capture_fields),
			      "unknown option of a capture (limit, snaplen, filter)",
			      capture_defaults, capture_to_json },
	[HANDLER_ECHO] = { .unknown = "unknown option: echo takes no options" },
	[HANDLER_ARP_REPLY] = { JOBJ_FIELDS(arp_fields),
				"unknown option: arp_reply takes \"addresses\" and \"mac\"", NULL,
				arp_to_json },
	[HANDLER_NDP_REPLY] = { JOBJ_FIELDS(ndp_fields),
				"unknown option: ndp_reply takes \"addresses\" and \"mac\"", NULL,
				ndp_to_json },
	[HANDLER_FORWARD] = { JOBJ_FIELDS(forward_fields),
			      "unknown option: forward takes \"port\" only", NULL,
			      forward_to_json },
	[HANDLER_DROP] = { .unknown = "unknown option: drop takes no options" },
};

int bindopts_read(const json_t *opts, enum port_type ptype, struct binding_config *cfg,
		  struct fault *f)
{
	const struct handler_ops *ops = handlers[cfg->kind];
	const struct kind_options *k = &kinds[cfg->kind];
	const struct jobj spec = { "options", k->fields, k->n_fields, k->unknown, NULL };

	if (ops->fits && !ops->fits(&cfg->match, ptype))
		return fault_set(f, FAULT_INVALID, 0, "handler", "%s lives %s", ops->name,
				 ops->placement);
	memset(&cfg->o, 0, sizeof(cfg->o));
	if (k->defaults)
		k->defaults(cfg);
	if (jsonobj_read(opts, &spec, cfg, f) < 0)
		return -EINVAL;
	return 0;
}

int bindopts_check(const struct binding_config *cfg, enum port_type ptype, struct fault *f)
{
	const struct handler_ops *ops = handlers[cfg->kind];

	return ops->check ? ops->check(cfg, ptype, f) : 0;
}

int bindopts_from_json(const json_t *opts, enum port_type ptype, struct binding_config *cfg,
		       struct fault *f)
{
	if (bindopts_read(opts, ptype, cfg, f) < 0)
		return -EINVAL;
	return bindopts_check(cfg, ptype, f);
}

void bindopts_to_json(const struct binding_config *cfg, json_t *o)
{
	const struct kind_options *k = &kinds[cfg->kind];

	if (k->to_json)
		k->to_json(cfg, o);
}
