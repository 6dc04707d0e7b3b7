// SPDX-License-Identifier: MIT
/*
 * The whole-configuration document and its apply (config.h): decode with
 * every invalid item listed, the difference against the port set as a list
 * of actions with the kernel operations they imply, and an all-or-nothing
 * apply through the port set's own calls, the state file held until the
 * end and each step undone in reverse on the first refusal. Called by
 * api/config.c (GET/PUT /api/v1/config) and paird.c (--config, SIGHUP).
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bindcfg.h"
#include "bindopts.h"
#include "capture.h"
#include "filtercheck.h"
#include "h_reply.h"
#include "handler.h"
#include "log.h"
#include "pathsafe.h"
#include "port.h"
#include "portset.h"
#include "stack.h"

#define KEY_MAX	   16 /* a port name or a binding key, with its NUL */
#define KERNEL_MAX (2 * PORT_ADDR_MAX + 6)
#define KERNEL_LEN 72

enum config_op {
	OP_REMOVE_BINDING,
	OP_UPDATE_PORT,
	OP_CREATE_PORT,
	OP_REPLACE_BINDING,
	OP_ADD_BINDING,
	OP_DELETE_PORT,
	OP_COUNT
};

static const char *const op_names[OP_COUNT] = {
	[OP_REMOVE_BINDING] = "remove_binding", [OP_UPDATE_PORT] = "update_port",
	[OP_CREATE_PORT] = "create_port",	[OP_REPLACE_BINDING] = "replace_binding",
	[OP_ADD_BINDING] = "add_binding",	[OP_DELETE_PORT] = "delete_port",
};

/* The fields an update_port changes, in the order the answer lists them. */
enum {
	F_TYPE = 1u << 0,
	F_PACKET_INFO = 1u << 1,
	F_ATTACH = 1u << 2,
	F_UP = 1u << 3,
	F_MTU = 1u << 4,
	F_MAC = 1u << 5,
	F_ADDRESSES = 1u << 6,
	F_STRICT = 1u << 7,
	F_STATE = 1u << 8, /* a port in state error or gone is opened again */
	F_VNET_HDR = 1u << 9,
	F_QUEUES = 1u << 10,
};

static const char *const field_names[] = { "type",  "packet_info", "attach",	"up",
					   "mtu",   "mac",	   "addresses", "strict",
					   "state", "vnet_hdr",	   "queues" };

struct action {
	enum config_op op;
	char port[KEY_MAX];
	char key[KEY_MAX];	 /* binding ops: its name, or its id in decimal */
	unsigned fields;	 /* update_port: F_* */
	bool new_device;	 /* update_port: the device is opened again */
	struct port_config want; /* create/update: as the document says */
	struct port_config old;	 /* update/delete: as it was */
	struct link_state before;
	struct binding_config bcfg; /* add/replace: the new one */
	struct binding_config bold; /* replace/remove: the one there */
	char kernel[KERNEL_MAX][KERNEL_LEN];
	unsigned n_kernel;
	/* While applying. */
	bool done, undone;
	struct binding *detached; /* remove_binding: taken out, not yet freed */
	size_t at;		  /* remove_binding: where it stood */
	uint64_t seq;		  /* remove_binding: its place in dispatch order */
	bool finished;		  /* remove_binding: freed through portset_unbind() */
	uint32_t new_id;	  /* add_binding: the id it got */
	struct state_port saved;  /* delete_port: its bindings, for a rollback */
};

struct config_plan {
	struct action *a;
	size_t n, cap;
	/* The order a failed apply undid its actions in (indexes into @a). */
	size_t *undo_order;
	size_t n_undone;
};

/* --- the document --- */

/* Lists every item of @sub under @prefix ("ports.tap0.") in @f. */
static void merge_under(struct fault *f, const char *prefix, const struct fault *sub)
{
	char field[sizeof(f->field)];

	if (sub->kind == FAULT_NONE)
		return;
	snprintf(field, sizeof(field), "%s%s", prefix, sub->field);
	/* A bare prefix names the item itself: "ports.tap0" rather than "ports.tap0.". */
	if (!sub->field[0] && field[0])
		field[strlen(field) - 1] = '\0';
	fault_add(f, field, "%s", sub->detail);
	for (unsigned i = 0; i < sub->n_extra; i++) {
		snprintf(field, sizeof(field), "%s%s", prefix, sub->extra[i].field);
		fault_add(f, field, "%s", sub->extra[i].detail);
	}
	f->n_more += sub->n_more;
}

/* An all-digit key: the id of an unnamed binding, 1..UINT32_MAX; 0 when it is none. */
static uint32_t key_id(const char *key)
{
	size_t len = strspn(key, "0123456789");
	unsigned long long v;

	if (!len || key[len] || len > 10)
		return 0;
	v = strtoull(key, NULL, 10);
	return v <= UINT32_MAX ? (uint32_t)v : 0;
}

static bool all_digits(const char *key)
{
	return key[0] && !key[strspn(key, "0123456789")];
}

/* "@prefix@key" into @buf: a field under an item. */
static const char *field_of(char *buf, size_t size, const char *prefix, const char *key)
{
	snprintf(buf, size, "%s%s", prefix, key);
	return buf;
}

static int decode_binding(const char *pkey, enum port_type type, const char *bkey, const json_t *v,
			  struct binding_config *out, struct fault *f)
{
	char prefix[64], field[80];
	struct fault sub = FAULT_INIT;

	snprintf(prefix, sizeof(prefix), "ports.%s.bindings.%s.", pkey, bkey);
	if (all_digits(bkey)) {
		if (!key_id(bkey)) {
			prefix[strlen(prefix) - 1] = '\0';
			return fault_add(f, prefix,
					 "an all-digit key is the id of an unnamed binding, "
					 "1..4294967295");
		}
	} else if (bindcfg_name_check(bkey, "", &sub) < 0) {
		merge_under(f, prefix, &sub);
		return -EINVAL;
	}
	/* The handler's check (a capture filter compiled) waits for check_handlers(). */
	if (bindcfg_read(v, type, out, &sub) < 0) {
		merge_under(f, prefix, &sub);
		return -EINVAL;
	}
	if (all_digits(bkey)) {
		if (out->name[0]) {
			fault_add(f, field_of(field, sizeof(field), prefix, "name"),
				  "an unnamed binding (keyed by its id, %s) has no name", bkey);
			return -EINVAL;
		}
		out->id = key_id(bkey);
	} else if (out->name[0] && strcmp(out->name, bkey) != 0) {
		fault_add(f, field_of(field, sizeof(field), prefix, "name"),
			  "\"%s\" differs from the key, \"%s\"", out->name, bkey);
		return -EINVAL;
	} else {
		snprintf(out->name, sizeof(out->name), "%s", bkey);
	}
	return 0;
}

/* ports.@key: its configuration (into @sp->cfg) and its bindings. */
static int decode_port(const char *key, const json_t *v, const struct config_limits *lim,
		       struct state_port *sp, struct fault *f)
{
	static const char *const nullable[] = { "mtu", "mac", "up" };
	struct fault sub = FAULT_INIT;
	json_t *copy, *bindings, *bv;
	char prefix[32], field[48];
	const char *bkey;
	int ret = 0;

	snprintf(prefix, sizeof(prefix), "ports.%s.", key);
	if (portcfg_name_check(key, "", &sub) < 0) {
		merge_under(f, prefix, &sub);
		return -EINVAL;
	}
	if (!json_is_object(v)) {
		prefix[strlen(prefix) - 1] = '\0';
		return fault_add(f, prefix, "must be a port's configuration object");
	}
	copy = json_copy((json_t *)v);
	if (!copy)
		return fault_set(f, FAULT_UNAVAILABLE, ENOMEM, NULL, "out of memory");
	bindings = json_incref(json_object_get(copy, "bindings"));
	json_object_del(copy, "bindings");
	/* GET shows what is not set as null: the same as leaving it out. */
	for (size_t i = 0; i < sizeof(nullable) / sizeof(nullable[0]); i++)
		if (json_is_null(json_object_get(copy, nullable[i])))
			json_object_del(copy, nullable[i]);
	if (portcfg_from_json(copy, PORTCFG_CREATE, key, &sp->cfg, &sub) < 0 ||
	    portcfg_check_held(&sp->cfg, NULL, &sub) < 0) {
		merge_under(f, prefix, &sub);
		ret = -EINVAL;
	}
	json_decref(copy);
	if (!bindings || json_is_null(bindings))
		goto out;
	if (!json_is_object(bindings)) {
		ret = fault_add(f, field_of(field, sizeof(field), prefix, "bindings"),
				"must be an object of bindings by name");
		goto out;
	}
	/* Counted before a binding is read: the limit the apply would meet at its end. */
	if (lim && lim->max_bindings && json_object_size(bindings) > lim->max_bindings) {
		ret = fault_set(f, FAULT_LIMIT, ENOSPC,
				field_of(field, sizeof(field), prefix, "bindings"),
				"port %s would have %zu bindings, over the limit (--max-bindings "
				"%u)",
				key, json_object_size(bindings), lim->max_bindings);
		goto out;
	}
	sp->bindings = calloc(json_object_size(bindings) + 1, sizeof(*sp->bindings));
	if (!sp->bindings) {
		ret = fault_set(f, FAULT_UNAVAILABLE, ENOMEM, NULL, "out of memory");
		goto out;
	}
	/* Bindings are checked against the port's type; without a valid type they cannot be. */
	json_object_foreach(bindings, bkey, bv) {
		if (!sp->cfg.type)
			break;
		if (decode_binding(key, sp->cfg.type, bkey, bv, &sp->bindings[sp->n_bindings], f) <
		    0)
			ret = -EINVAL;
		else
			sp->n_bindings++;
	}
out:
	json_decref(bindings);
	return ret;
}

static const struct state_port *doc_port(const struct state_doc *d, const char *name)
{
	for (size_t i = 0; i < d->n_ports; i++)
		if (strcmp(d->ports[i].cfg.name, name) == 0)
			return &d->ports[i];
	return NULL;
}

/* A forward's target: a port of the document, not itself, framing alike. */
static void check_forwards(const struct state_doc *d, struct fault *f)
{
	char field[64];

	for (size_t i = 0; i < d->n_ports; i++) {
		const struct state_port *sp = &d->ports[i];

		for (size_t j = 0; j < sp->n_bindings; j++) {
			const struct binding_config *b = &sp->bindings[j];
			const struct state_port *t;
			char key[KEY_MAX];

			if (b->kind != HANDLER_FORWARD)
				continue;
			if (b->name[0])
				snprintf(key, sizeof(key), "%s", b->name);
			else
				snprintf(key, sizeof(key), "%u", b->id);
			snprintf(field, sizeof(field), "ports.%s.bindings.%s.options.port",
				 sp->cfg.name, key);
			t = doc_port(d, b->o.forward.port);
			if (!t)
				fault_add(f, field,
					  "no port named %s in the document (a port the document "
					  "leaves out is deleted, so nothing could forward to it)",
					  b->o.forward.port);
			else if (t == sp)
				fault_add(f, field, "a port cannot forward to itself");
			else if (t->cfg.type != sp->cfg.type ||
				 t->cfg.packet_info != sp->cfg.packet_info)
				fault_add(f, field,
					  "%s frames differently (tap, tun, tun with packet info); "
					  "forward joins ports of the same kind",
					  t->cfg.name);
		}
	}
}

static void binding_key(const struct binding_config *b, char key[KEY_MAX])
{
	if (b->name[0])
		snprintf(key, KEY_MAX, "%s", b->name);
	else
		snprintf(key, KEY_MAX, "%u", b->id);
}

/*
 * Every binding's handler check, once all else is known good: a capture
 * filter through @fc (each distinct one compiled once, the total held to
 * its budget), any other check as bindcfg_from_json() makes it.
 */
static int check_handlers(const struct state_doc *d, struct filter_check *fc, struct fault *f)
{
	char prefix[64], key[KEY_MAX];
	int ret = 0;

	for (size_t i = 0; i < d->n_ports; i++) {
		const struct state_port *sp = &d->ports[i];
		enum frame_link link = sp->cfg.type == PORT_TAP ? LINK_ETHERNET : LINK_IP;

		for (size_t j = 0; j < sp->n_bindings; j++) {
			const struct binding_config *b = &sp->bindings[j];
			struct fault sub = FAULT_INIT;
			int r;

			if (b->kind == HANDLER_CAPTURE && !b->o.capture.filter[0])
				continue;
			if (b->kind == HANDLER_CAPTURE)
				r = filter_check_one(fc, b->o.capture.filter, link,
						     b->o.capture.snaplen, "options.filter", &sub);
			else
				r = bindopts_check(b, sp->cfg.type, &sub);
			binding_key(b, key);
			snprintf(prefix, sizeof(prefix), "ports.%s.bindings.%s.", sp->cfg.name,
				 key);
			if (sub.kind == FAULT_INVALID)
				merge_under(f, prefix, &sub);
			else if (sub.kind != FAULT_NONE)
				fault_merge(f, &sub);
			if (r == -E2BIG)
				return r; /* over the budget: no more compiles */
			if (r < 0)
				ret = r;
		}
	}
	return ret;
}

int config_decode(const json_t *doc, const struct config_limits *lim, struct state_doc *out,
		  struct fault *f)
{
	struct filter_check *fc = NULL;
	const json_t *ports, *v;
	const char *key;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(doc))
		return fault_set(f, FAULT_SYNTAX, 0, NULL, "the document must be a JSON object");
	json_object_foreach((json_t *)doc, key, v) {
		if (strcmp(key, "ports") == 0)
			continue;
		if (strcmp(key, "version") == 0) {
			/* What GET answered; PUT ignores it (If-Match is the precondition). */
			if (!json_is_integer(v) || json_integer_value(v) < 0)
				ret = fault_add(f, "version", "must be a non-negative integer");
			continue;
		}
		ret = fault_add(f, key, "unknown field (a document has \"ports\" and \"version\")");
	}
	ports = json_object_get(doc, "ports");
	if (!ports) {
		fault_add(f, "ports", "is required (an object of ports by name; {} for none)");
		return -EINVAL;
	}
	if (!json_is_object(ports)) {
		fault_add(f, "ports", "must be an object of ports by name");
		return -EINVAL;
	}
	if (lim && lim->max_ports && json_object_size(ports) > lim->max_ports)
		return fault_set(f, FAULT_LIMIT, ENOSPC, "ports",
				 "the document has %zu ports, over the limit (--max-ports %u)",
				 json_object_size(ports), lim->max_ports);
	out->ports = calloc(json_object_size(ports) + 1, sizeof(*out->ports));
	if (!out->ports)
		return fault_set(f, FAULT_UNAVAILABLE, ENOMEM, NULL, "out of memory");
	json_object_foreach((json_t *)ports, key, v) {
		struct state_port *sp = &out->ports[out->n_ports++];

		if (decode_port(key, v, lim, sp, f) < 0)
			ret = -EINVAL;
	}
	if (f->kind == FAULT_NONE || f->kind == FAULT_INVALID)
		check_forwards(out, f);
	/* The costly checks last, and only for a document with nothing else wrong. */
	if (f->kind == FAULT_NONE) {
		fc = filter_check_new(lim ? lim->filter_budget_ns : 0);
		if (!fc)
			fault_set(f, FAULT_UNAVAILABLE, ENOMEM, NULL, "out of memory");
		else
			check_handlers(out, fc, f);
		filter_check_free(fc);
	}
	if (f->kind != FAULT_NONE) {
		state_doc_free(out);
		return fault_ret(f);
	}
	return ret;
}

/*
 * The values of a document, each member at its longest (what GET answers
 * is within them): the document, "version" and "ports" (3); per port its
 * object, the 11 members of a port's configuration, PORT_ADDR_MAX
 * addresses and "bindings"; per binding its object, "name", "match" with
 * its three keys, "handler", "options" and the longest options (arp_reply's
 * or ndp_reply's: "addresses", REPLY_ADDR_MAX of them, "mac").
 */
#define DOC_VALUES     3
#define PORT_VALUES    (1 + 11 + PORT_ADDR_MAX + 1)
#define BINDING_VALUES (1 + 1 + 4 + 1 + 1 + 1 + REPLY_ADDR_MAX + 1)

size_t config_values_max(unsigned max_ports, unsigned max_bindings)
{
	return DOC_VALUES +
	       (size_t)max_ports * (PORT_VALUES + (size_t)max_bindings * BINDING_VALUES);
}

int config_load(const char *path, struct state_doc *out, struct fault *f)
{
	struct fault sub = FAULT_INIT;
	json_error_t je;
	json_t *doc;
	int fd, ret;

	memset(out, 0, sizeof(*out));
	/*
	 * A FIFO put in the file's place is refused, never waited on (the loop,
	 * on SIGHUP, would block for good). Links are followed: /etc has them.
	 */
	fd = pathsafe_open_read(path, 0, CONFIG_FILE_MAX, NULL);
	if (fd == -EINVAL || fd == -EFBIG)
		return fault_set(f, FAULT_SYNTAX, EINVAL, NULL,
				 "%s: not a regular file of at most %d bytes", path,
				 CONFIG_FILE_MAX);
	if (fd < 0)
		return fault_set(f, FAULT_SYNTAX, -fd, NULL, "%s: cannot open it: %s", path,
				 strerror(-fd));
	doc = json_loadfd(fd, JSON_REJECT_DUPLICATES, &je);
	close(fd);
	if (!doc)
		return fault_set(f, FAULT_SYNTAX, 0, NULL, "%s: line %d: %s", path, je.line,
				 je.text);
	/* The administrator's own file: no budget, and the port set's limits hold at apply. */
	ret = config_decode(doc, NULL, out, &sub);
	json_decref(doc);
	if (ret < 0) {
		/* One line for a log or a start error: the first item, and how many more. */
		char line[sizeof(f->detail) + sizeof(f->field) + 64];
		int n = snprintf(line, sizeof(line), "%s: %s%s%s", path, sub.field,
				 sub.field[0] ? ": " : "", sub.detail);

		if (sub.n_extra && n > 0 && (size_t)n < sizeof(line))
			snprintf(line + n, sizeof(line) - (size_t)n, " (and %u more)",
				 sub.n_extra + sub.n_more);
		*f = sub;
		snprintf(f->detail, sizeof(f->detail), "%.*s", (int)sizeof(f->detail) - 1, line);
	}
	return ret;
}

/* --- the running state as a document --- */

/* What a configuration means once defaults are applied (what PUT of a port asks for). */
struct effective {
	int up;	     /* -1: not managed (an attached device without "up") */
	int64_t mtu; /* -1: not managed */
	bool has_mac;
	bool strict;
};

static struct effective effective(const struct port_config *c)
{
	struct effective e = { .up = -1, .mtu = -1 };

	if (c->has_up)
		e.up = c->up;
	else if (!c->attach)
		e.up = 1;
	if (c->has_mtu)
		e.mtu = c->mtu;
	else if (!c->attach)
		e.mtu = 1500; /* a device paird creates starts at 1500 (portset_put()) */
	e.has_mac = c->has_mac;
	e.strict = c->has_strict && c->strict;
	return e;
}

static bool addr_in(const struct port_config *c, const struct ip_prefix *p)
{
	for (unsigned i = 0; c->has_addresses && i < c->n_addrs; i++)
		if (prefix_equal(&c->addrs[i], p))
			return true;
	return false;
}

/* Same addresses, in any order: the kernel keeps no order worth a change. */
static bool addrs_same(const struct port_config *a, const struct port_config *b)
{
	unsigned na = a->has_addresses ? a->n_addrs : 0, nb = b->has_addresses ? b->n_addrs : 0;

	if (na != nb)
		return false;
	for (unsigned i = 0; i < na; i++)
		if (!addr_in(b, &a->addrs[i]))
			return false;
	return true;
}

json_t *config_to_json(const struct portset *ps)
{
	json_t *doc = json_object(), *ports = json_object();
	struct port *p;

	if (!doc || !ports) {
		json_decref(doc);
		json_decref(ports);
		return NULL;
	}
	json_object_set_new(doc, "version", json_integer((json_int_t)portset_version(ps)));
	for (size_t i = 0; (p = portset_at(ps, i)); i++) {
		const struct stack *s = portset_stack(ps, p);
		json_t *o = portcfg_config_json(port_config(p)), *bs = json_object();
		struct binding *b;
		char key[KEY_MAX];

		for (size_t j = 0; (b = stack_at(s, j)); j++) {
			binding_key(&b->cfg, key);
			json_object_set_new(bs, key, bindcfg_spec_json(&b->cfg));
		}
		json_object_set_new(o, "bindings", bs);
		json_object_set_new(ports, port_name(p), o);
	}
	json_object_set_new(doc, "ports", ports);
	return doc;
}

/* --- the plan --- */

static struct action *plan_add(struct config_plan *pl, enum config_op op, const char *port,
			       const char *key)
{
	struct action *a;

	if (pl->n == pl->cap) {
		size_t cap = pl->cap ? pl->cap * 2 : 16;
		struct action *na = realloc(pl->a, cap * sizeof(*na));

		if (!na)
			return NULL;
		pl->a = na;
		pl->cap = cap;
	}
	a = &pl->a[pl->n++];
	memset(a, 0, sizeof(*a));
	a->op = op;
	snprintf(a->port, sizeof(a->port), "%s", port);
	if (key)
		snprintf(a->key, sizeof(a->key), "%s", key);
	return a;
}

static void kernel_op(struct action *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void kernel_op(struct action *a, const char *fmt, ...)
{
	va_list ap;

	if (a->n_kernel == KERNEL_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(a->kernel[a->n_kernel++], KERNEL_LEN, fmt, ap);
	va_end(ap);
}

/*
 * The link operations from @from (NULL: a fresh device, at its defaults)
 * to @to, as `ip` would name them.
 */
static void link_ops(struct action *a, const struct port_config *from, const struct port_config *to)
{
	struct effective t = effective(to);
	struct effective s = from ? effective(from) : (struct effective){ .up = 0, .mtu = 1500 };
	char buf[PREFIX_STR_MAX];

	if (!from && to->attach)
		s = (struct effective){ .up = -1, .mtu = -1 };
	if (t.mtu >= 0 && t.mtu != s.mtu)
		kernel_op(a, "set mtu %u", (unsigned)t.mtu);
	if (to->has_mac && (!from || !from->has_mac || memcmp(from->mac, to->mac, 6) != 0)) {
		mac_format(to->mac, buf);
		kernel_op(a, "set address %s", buf);
	}
	for (unsigned i = 0; from && from->has_addresses && i < from->n_addrs; i++) {
		if (addr_in(to, &from->addrs[i]))
			continue;
		prefix_format(&from->addrs[i], buf);
		kernel_op(a, "remove address %s", buf);
	}
	for (unsigned i = 0; to->has_addresses && i < to->n_addrs; i++) {
		if (from && addr_in(from, &to->addrs[i]))
			continue;
		prefix_format(&to->addrs[i], buf);
		kernel_op(a, "add address %s", buf);
	}
	if (t.up >= 0 && t.up != s.up)
		kernel_op(a, "set %s", t.up ? "up" : "down");
}

static void open_op(struct action *a, const struct port_config *c)
{
	if (c->attach)
		kernel_op(a, "attach to %s %s", port_type_name(c->type), c->name);
	else
		kernel_op(a, "create %s %s", port_type_name(c->type), c->name);
}

static void close_op(struct action *a, const struct port_config *c)
{
	if (c->attach)
		kernel_op(a, "detach from %s %s (the device stays)", port_type_name(c->type),
			  c->name);
	else
		kernel_op(a, "delete %s %s", port_type_name(c->type), c->name);
}

static unsigned port_diff(const struct port *p, const struct port_config *want)
{
	const struct port_config *old = port_config(p);
	struct effective o = effective(old), w = effective(want);
	unsigned fields = 0;

	if (old->type != want->type)
		fields |= F_TYPE;
	if (old->packet_info != want->packet_info)
		fields |= F_PACKET_INFO;
	if (old->attach != want->attach)
		fields |= F_ATTACH;
	if (old->vnet_hdr != want->vnet_hdr)
		fields |= F_VNET_HDR;
	if (portcfg_queues(old) != portcfg_queues(want))
		fields |= F_QUEUES;
	if (o.up != w.up && w.up >= 0)
		fields |= F_UP;
	if (o.mtu != w.mtu && w.mtu >= 0)
		fields |= F_MTU;
	if (old->has_mac != want->has_mac || (want->has_mac && memcmp(old->mac, want->mac, 6) != 0))
		fields |= F_MAC;
	if (!addrs_same(old, want))
		fields |= F_ADDRESSES;
	if (o.strict != w.strict)
		fields |= F_STRICT;
	if (port_state(p) == PORT_STATE_ERROR || port_state(p) == PORT_STATE_GONE)
		fields |= F_STATE;
	return fields;
}

/*
 * Where the kernel no longer holds what the configuration says (changed
 * behind paird's back and not mended by itself, port_drift()): the
 * running state is not yet the document, so an apply brings it back.
 */
static unsigned drift_fields(const struct port *p)
{
	unsigned d = port_drift(p), fields = 0;

	if (d & PORT_DRIFT_UP)
		fields |= F_UP;
	if (d & PORT_DRIFT_MTU)
		fields |= F_MTU;
	if (d & PORT_DRIFT_MAC)
		fields |= F_MAC;
	if (d & PORT_DRIFT_ADDRESSES)
		fields |= F_ADDRESSES;
	return fields;
}

/* The kernel operations that mend @drift (F_* bits) on @p toward @want. */
static void mend_ops(struct action *a, const struct port *p, const struct port_config *want,
		     unsigned drift)
{
	const struct link_state *ls = port_link(p);
	struct effective w = effective(want);
	const struct ip_prefix *k;
	char buf[PREFIX_STR_MAX];
	unsigned nk;

	if ((drift & F_MTU) && w.mtu >= 0 && (uint32_t)w.mtu != ls->mtu)
		kernel_op(a, "set mtu %u", (unsigned)w.mtu);
	if ((drift & F_MAC) && want->has_mac) {
		mac_format(want->mac, buf);
		kernel_op(a, "set address %s", buf);
	}
	if (drift & F_ADDRESSES) {
		k = port_kernel_addrs(p, &nk);
		for (unsigned i = 0; want->has_addresses && i < want->n_addrs; i++) {
			bool held = false;

			for (unsigned j = 0; k && j < nk && !held; j++)
				held = prefix_equal(&k[j], &want->addrs[i]);
			if (held)
				continue;
			prefix_format(&want->addrs[i], buf);
			kernel_op(a, "add address %s", buf);
		}
		/* A link paird created holds only its own (port_reconfigure() removes the rest). */
		for (unsigned j = 0; !want->attach && k && j < nk; j++) {
			if (addr_in(want, &k[j]))
				continue;
			prefix_format(&k[j], buf);
			kernel_op(a, "remove address %s", buf);
		}
	}
	if ((drift & F_UP) && w.up >= 0)
		kernel_op(a, "set %s", w.up ? "up" : "down");
}

/*
 * A port the plan opens a device for by name, a new one or one that lost
 * its device (gone, or never reopened), whose name the kernel already
 * gives another interface (or, to attach, gives none): refused before any
 * step, as the open would be halfway, so that a dry run does not promise
 * it and an apply does not first replace devices it then has to open
 * again to undo. A port that holds its device frees the name itself.
 */
static void check_new_names(const struct portset *ps, const struct state_doc *want, struct fault *f)
{
	char field[128]; /* "ports.", a name, ".", the port's field */

	for (size_t i = 0; i < want->n_ports && f->kind == FAULT_NONE; i++) {
		const struct port_config *c = &want->ports[i].cfg;
		const struct port *p = portset_find(ps, c->name);
		struct fault sub = FAULT_INIT;

		if ((p && port_ifindex(p) > 0) || port_name_check(portset_env(ps), c, &sub) == 0)
			continue;
		snprintf(field, sizeof(field), "ports.%s%s%s", c->name, sub.field[0] ? "." : "",
			 sub.field);
		/* A device missing for "attach" is a field of the document at fault (422). */
		fault_set(f, sub.kind == FAULT_NOT_FOUND ? FAULT_INVALID : sub.kind, sub.err, field,
			  "%s", sub.detail);
	}
}

/* An all-digit key of the document that names no unnamed binding of the running port. */
static void check_ids(const struct portset *ps, const struct state_doc *want, struct fault *f)
{
	char field[64];

	for (size_t i = 0; i < want->n_ports; i++) {
		const struct state_port *sp = &want->ports[i];
		const struct port *p = portset_find(ps, sp->cfg.name);
		const struct stack *s = p ? portset_stack(ps, p) : NULL;

		for (size_t j = 0; j < sp->n_bindings; j++) {
			const struct binding_config *b = &sp->bindings[j];
			const struct binding *r;

			if (b->name[0])
				continue;
			r = s ? stack_find(s, b->id) : NULL;
			if (r && !r->cfg.name[0])
				continue;
			snprintf(field, sizeof(field), "ports.%s.bindings.%u", sp->cfg.name, b->id);
			fault_add(f, field,
				  "port %s has no unnamed binding %u: a binding the document adds "
				  "needs a name (an all-digit key is the id of an existing unnamed "
				  "binding)",
				  sp->cfg.name, b->id);
		}
	}
}

/* The bindings of port @p (running) against @sp (the document): steps 1, 4 and 5. */
static int plan_bindings(struct config_plan *pl, const struct portset *ps, const struct port *p,
			 const struct state_port *sp, bool retype, struct config_plan *later)
{
	const struct stack *s = p ? portset_stack(ps, p) : NULL;
	struct binding *b;
	char key[KEY_MAX];
	struct action *a;

	for (size_t i = 0; s && (b = stack_at(s, i)); i++) {
		const struct binding_config *w = NULL;

		for (size_t j = 0; j < sp->n_bindings && !w; j++) {
			char wk[KEY_MAX];

			binding_key(&sp->bindings[j], wk);
			binding_key(&b->cfg, key);
			if (strcmp(wk, key) == 0)
				w = &sp->bindings[j];
		}
		binding_key(&b->cfg, key);
		if (!w || retype) {
			a = plan_add(pl, OP_REMOVE_BINDING, sp->cfg.name, key);
			if (!a)
				return -ENOMEM;
			binding_config_get(b, &a->bold);
		} else if (!bindcfg_same(&b->cfg, w)) {
			a = plan_add(later, OP_REPLACE_BINDING, sp->cfg.name, key);
			if (!a)
				return -ENOMEM;
			binding_config_get(b, &a->bold);
			a->bcfg = *w;
			a->bcfg.id = b->cfg.id;
		}
	}
	return 0;
}

static int plan_adds(struct config_plan *pl, const struct portset *ps, const struct port *p,
		     const struct state_port *sp, bool retype)
{
	const struct stack *s = p ? portset_stack(ps, p) : NULL;

	for (size_t j = 0; j < sp->n_bindings; j++) {
		const struct binding_config *w = &sp->bindings[j];
		struct binding *there = NULL;
		char key[KEY_MAX];
		struct action *a;

		if (s && !retype)
			there = w->name[0] ? stack_find_name(s, w->name) : stack_find(s, w->id);
		if (there)
			continue;
		binding_key(w, key);
		a = plan_add(pl, OP_ADD_BINDING, sp->cfg.name, key);
		if (!a)
			return -ENOMEM;
		a->bcfg = *w;
	}
	return 0;
}

/* Step 2: a port that both hold, whose configuration differs or drifted. */
static int plan_port_update(struct config_plan *pl, struct port *p, const struct state_port *sp)
{
	unsigned fields = port_diff(p, &sp->cfg);
	unsigned drift = drift_fields(p) & ~fields;
	struct action *a;

	if (!(fields | drift))
		return 0;
	a = plan_add(pl, OP_UPDATE_PORT, sp->cfg.name, NULL);
	if (!a)
		return -ENOMEM;
	a->fields = fields | drift;
	a->want = sp->cfg;
	a->old = *port_config(p);
	a->before = *port_link(p);
	a->new_device = !portcfg_same_device(&a->old, &a->want) || (fields & F_STATE);
	if (a->new_device) {
		if (port_ifindex(p) > 0)
			close_op(a, &a->old);
		open_op(a, &a->want);
		link_ops(a, NULL, &a->want);
	} else {
		link_ops(a, &a->old, &a->want);
		mend_ops(a, p, &a->want, drift);
	}
	return 0;
}

/* Step 3: a port only the document holds. */
static int plan_port_create(struct config_plan *pl, const struct state_port *sp)
{
	struct action *a = plan_add(pl, OP_CREATE_PORT, sp->cfg.name, NULL);

	if (!a)
		return -ENOMEM;
	a->want = sp->cfg;
	open_op(a, &a->want);
	link_ops(a, NULL, &a->want);
	return 0;
}

/* Step 6: a port the document leaves out. */
static int plan_port_delete(struct config_plan *pl, struct port *p)
{
	struct action *a = plan_add(pl, OP_DELETE_PORT, port_name(p), NULL);

	if (!a)
		return -ENOMEM;
	a->old = *port_config(p);
	if (port_ifindex(p) > 0)
		close_op(a, &a->old);
	return 0;
}

/*
 * What the apply holds at its peak, met here before any step (a dry run
 * included) as the port set's limits would meet it halfway: ports are
 * deleted last, so the running ports and the new ones are held at once
 * (--max-ports); a port's capture ring is taken with its first capture
 * binding and kept, so each port of the document that has a capture
 * binding and no ring yet takes --capture-ring of --capture-memory.
 */
static void check_room(const struct portset *ps, const struct config_plan *pl,
		       const struct state_doc *want, struct fault *f)
{
	const struct capture_budget *b = portset_budget(ps);
	size_t ports = portset_count(ps), used = capture_budget_used(b);
	size_t limit = capture_budget_limit(b), ring = portset_ring_bytes(ps);
	char field[64], key[KEY_MAX];

	for (size_t i = 0; i < pl->n; i++) {
		if (pl->a[i].op != OP_CREATE_PORT || ++ports <= portset_max_ports(ps))
			continue;
		snprintf(field, sizeof(field), "ports.%s", pl->a[i].port);
		fault_set(f, FAULT_LIMIT, ENOSPC, field,
			  "paird would hold %zu ports at once, over its limit (--max-ports %u): "
			  "new ports are made before the ports the document leaves out are "
			  "deleted",
			  ports, portset_max_ports(ps));
		return;
	}
	for (size_t i = 0; i < want->n_ports; i++) {
		const struct state_port *sp = &want->ports[i];
		const struct port *p = portset_find(ps, sp->cfg.name);
		const struct binding_config *cap = NULL;

		for (size_t j = 0; j < sp->n_bindings && !cap; j++)
			if (sp->bindings[j].kind == HANDLER_CAPTURE)
				cap = &sp->bindings[j];
		if (!cap || (p && stack_ring(portset_stack(ps, p))))
			continue;
		if (ring <= limit && used <= limit - ring) {
			used += ring;
			continue;
		}
		binding_key(cap, key);
		snprintf(field, sizeof(field), "ports.%s.bindings.%s", sp->cfg.name, key);
		fault_set(f, FAULT_LIMIT, ENOSPC, field,
			  "a capture ring of %zu bytes would not fit: %zu of the %zu bytes of "
			  "--capture-memory would be in use",
			  ring, used, limit);
		return;
	}
}

int config_plan_new(const struct portset *ps, const struct state_doc *want,
		    struct config_plan **out, struct fault *f)
{
	struct config_plan *pl = calloc(1, sizeof(*pl));
	struct config_plan later = { 0 }; /* replace_binding, then add_binding */
	struct port *p;
	int ret = -ENOMEM;

	*out = NULL;
	if (!pl)
		goto oom;
	check_ids(ps, want, f);
	if (f->kind == FAULT_NONE)
		check_new_names(ps, want, f);
	if (f->kind != FAULT_NONE) {
		config_plan_free(pl);
		return fault_ret(f);
	}
	/* 1: removals; 4: replacements (kept aside in @later). */
	for (size_t i = 0; (p = portset_at(ps, i)); i++) {
		const struct state_port *sp = doc_port(want, port_name(p));

		if (sp &&
		    plan_bindings(pl, ps, p, sp, sp->cfg.type != port_config(p)->type, &later) < 0)
			goto oom;
	}
	/* 2: ports that change; 3: new ports. */
	for (size_t i = 0; i < want->n_ports; i++) {
		p = portset_find(ps, want->ports[i].cfg.name);
		if (p && plan_port_update(pl, p, &want->ports[i]) < 0)
			goto oom;
	}
	for (size_t i = 0; i < want->n_ports; i++)
		if (!portset_find(ps, want->ports[i].cfg.name) &&
		    plan_port_create(pl, &want->ports[i]) < 0)
			goto oom;
	/* 4, then 5. */
	for (size_t i = 0; i < later.n; i++) {
		struct action *a = plan_add(pl, later.a[i].op, later.a[i].port, later.a[i].key);

		if (!a)
			goto oom;
		*a = later.a[i];
	}
	for (size_t i = 0; i < want->n_ports; i++) {
		const struct state_port *sp = &want->ports[i];

		p = portset_find(ps, sp->cfg.name);
		if (plan_adds(pl, ps, p, sp, p && sp->cfg.type != port_config(p)->type) < 0)
			goto oom;
	}
	/* 6: ports the document leaves out. */
	for (size_t i = 0; (p = portset_at(ps, i)); i++)
		if (!doc_port(want, port_name(p)) && plan_port_delete(pl, p) < 0)
			goto oom;
	free(later.a);
	check_room(ps, pl, want, f);
	if (f->kind != FAULT_NONE) {
		config_plan_free(pl);
		return fault_ret(f);
	}
	*out = pl;
	return 0;
oom:
	free(later.a);
	config_plan_free(pl);
	fault_set(f, FAULT_UNAVAILABLE, ENOMEM, NULL, "out of memory");
	return ret;
}

void config_plan_free(struct config_plan *pl)
{
	if (!pl)
		return;
	for (size_t i = 0; i < pl->n; i++) {
		/* A removal that was neither finished nor undone (cannot happen after apply). */
		if (pl->a[i].detached && !pl->a[i].finished && !pl->a[i].undone)
			stack_binding_free(pl->a[i].detached);
		free(pl->a[i].saved.bindings);
	}
	free(pl->undo_order);
	free(pl->a);
	free(pl);
}

size_t config_plan_count(const struct config_plan *pl)
{
	return pl->n;
}

static json_t *action_json(const struct action *a)
{
	json_t *o = json_object(), *arr;

	json_object_set_new(o, "op", json_string(op_names[a->op]));
	json_object_set_new(o, "port", json_string(a->port));
	if (a->key[0])
		json_object_set_new(o, "binding", json_string(a->key));
	if (a->op == OP_UPDATE_PORT) {
		arr = json_array();
		for (size_t i = 0; i < sizeof(field_names) / sizeof(field_names[0]); i++)
			if (a->fields & (1u << i))
				json_array_append_new(arr, json_string(field_names[i]));
		json_object_set_new(o, "fields", arr);
	}
	arr = json_array();
	for (unsigned i = 0; i < a->n_kernel; i++)
		json_array_append_new(arr, json_string(a->kernel[i]));
	json_object_set_new(o, "kernel", arr);
	return o;
}

json_t *config_plan_json(const struct config_plan *pl, bool rolled_back)
{
	json_t *arr = json_array();

	if (!arr)
		return NULL;
	if (rolled_back) {
		for (size_t i = 0; i < pl->n_undone; i++)
			json_array_append_new(arr, action_json(&pl->a[pl->undo_order[i]]));
		return arr;
	}
	for (size_t i = 0; i < pl->n; i++)
		json_array_append_new(arr, action_json(&pl->a[i]));
	return arr;
}

/* --- the apply --- */

/* The item an action is about, as the document names it. */
static void item_name(const struct action *a, char *buf, size_t size)
{
	if (a->key[0])
		snprintf(buf, size, "ports.%s.bindings.%s", a->port, a->key);
	else
		snprintf(buf, size, "ports.%s", a->port);
}

/* Re-creates a port delete_port took away, with its bindings (counters start again). */
static int undelete(struct portset *ps, struct action *a, struct fault *f)
{
	struct port *p;
	struct stack *s;

	if (portset_create(ps, &a->old, &p, f) < 0)
		return fault_ret(f);
	s = portset_stack(ps, p);
	for (size_t j = 0; j < a->saved.n_bindings; j++)
		if (portset_bind(ps, p, &a->saved.bindings[j], NULL, f) < 0)
			return fault_ret(f);
	stack_set_next_id(s, a->saved.next_binding_id);
	return 0;
}

static int do_action(struct portset *ps, struct action *a, struct fault *f)
{
	struct port *p = portset_find(ps, a->port);
	struct stack *s = p ? portset_stack(ps, p) : NULL;
	struct binding *b;
	bool created, changed;

	switch (a->op) {
	case OP_REMOVE_BINDING:
		/* Taken out, counters and all, until every other step is done. */
		a->detached = stack_detach(s, a->bold.id, &a->at);
		if (a->detached)
			a->seq = a->detached->seq;
		return 0;
	case OP_UPDATE_PORT:
	case OP_CREATE_PORT:
		return portset_put(ps, &a->want, &created, NULL, f);
	case OP_REPLACE_BINDING:
		return portset_bind_put(ps, p, &a->bcfg, &created, &changed, NULL, f);
	case OP_ADD_BINDING:
		if (portset_bind(ps, p, &a->bcfg, &b, f) < 0)
			return fault_ret(f);
		a->new_id = b->cfg.id;
		return 0;
	case OP_DELETE_PORT:
		a->saved.n_bindings = 0;
		a->saved.bindings = calloc(stack_count(s) + 1, sizeof(*a->saved.bindings));
		if (!a->saved.bindings)
			return fault_set(f, FAULT_UNAVAILABLE, ENOMEM, NULL, "out of memory");
		for (size_t j = 0; (b = stack_at(s, j)); j++)
			binding_config_get(b, &a->saved.bindings[a->saved.n_bindings++]);
		a->saved.next_binding_id = stack_next_id(s);
		return portset_delete(ps, a->port, f);
	default:
		return -EINVAL;
	}
}

/*
 * The removals of step 1 made final, once the rest is done: each goes
 * back in place and is deleted the port set's way (event, version, log).
 */
static void finish_removals(struct portset *ps, struct config_plan *pl)
{
	for (size_t k = 0; k < pl->n; k++) {
		struct action *a = &pl->a[k];
		struct fault ignored = FAULT_INIT;
		struct port *p;
		struct stack *s;

		if (a->op != OP_REMOVE_BINDING || !a->detached || a->finished)
			continue;
		p = portset_find(ps, a->port);
		s = portset_stack(ps, p);
		a->finished = true;
		/*
		 * A port that changed type had its unnamed bindings added again
		 * under their ids: the one taken out only has to go.
		 */
		if (stack_find(s, a->bold.id)) {
			stack_binding_free(a->detached);
			continue;
		}
		stack_reattach(s, a->detached, stack_count(s));
		portset_unbind(ps, p, a->bold.id, &ignored);
	}
}

static void undo_action(struct portset *ps, struct action *a)
{
	struct port *p = portset_find(ps, a->port);
	struct stack *s = p ? portset_stack(ps, p) : NULL;
	struct fault f = FAULT_INIT;
	struct binding *b;
	bool created, changed;
	size_t at;
	int ret = 0;

	switch (a->op) {
	case OP_REMOVE_BINDING:
		if (!a->finished) {
			stack_reattach(s, a->detached, a->at);
			break;
		}
		/* Deleted for good before a failed save: bound again where it stood. */
		ret = portset_bind(ps, p, &a->bold, &b, &f);
		if (ret == 0) {
			stack_detach(s, b->cfg.id, &at);
			b->seq = a->seq; /* and in dispatch order too */
			stack_reattach(s, b, a->at);
		}
		break;
	case OP_UPDATE_PORT:
		if (!a->new_device) {
			portset_link_back(ps, p, &a->old, &a->before);
			break;
		}
		ret = portset_put(ps, &a->old, &created, &p, &f);
		/* Back to the exact configuration it had (PUT fills in defaults). */
		if (ret == 0)
			port_reconfigure(p, &a->old, &f);
		break;
	case OP_CREATE_PORT:
		/* An attached device gets its link back as it was found. */
		if (p && a->want.attach)
			port_unconfigure(p);
		ret = portset_delete(ps, a->port, &f);
		break;
	case OP_REPLACE_BINDING:
		ret = portset_bind_put(ps, p, &a->bold, &created, &changed, NULL, &f);
		break;
	case OP_ADD_BINDING:
		ret = portset_unbind(ps, p, a->new_id, &f);
		break;
	case OP_DELETE_PORT:
		ret = undelete(ps, a, &f);
		break;
	default:
		break;
	}
	if (ret < 0)
		log_error("config: could not undo %s of %s: %s", op_names[a->op], a->port,
			  f.detail);
}

/* One log line per action: what it is and the kernel operations it made. */
static void log_action(const struct action *a)
{
	char item[64], ops[512] = "";
	size_t at = 0;

	item_name(a, item, sizeof(item));
	for (unsigned i = 0; i < a->n_kernel && at < sizeof(ops); i++)
		at += (size_t)snprintf(ops + at, sizeof(ops) - at, "%s%s", i ? ", " : "",
				       a->kernel[i]);
	log_info("config: %s %s%s%s", op_names[a->op], item, a->n_kernel ? ": " : "", ops);
}

/*
 * After a step of @pl failed (@failed, NULL when the state file could not
 * be written) for the reason @why: every step done undone in reverse, and
 * the refusal in @f, naming the item at fault.
 */
static int roll_back(struct portset *ps, struct config_plan *pl, const struct action *failed,
		     const struct fault *why, int ret, struct fault *f)
{
	char item[64] = "", anew[160] = "", outcome[320];
	size_t at = 0;

	for (size_t k = pl->n; k-- > 0;) {
		const struct action *a = &pl->a[k];

		if (!a->done)
			continue;
		undo_action(ps, &pl->a[k]);
		pl->a[k].undone = true;
		pl->undo_order[pl->n_undone++] = k;
		/*
		 * Undone, a replaced or deleted device is a device opened again,
		 * not the old one (an attached one is the same persistent device).
		 */
		if (((a->op == OP_UPDATE_PORT && a->new_device) || a->op == OP_DELETE_PORT) &&
		    !a->old.attach && at < sizeof(anew))
			at += (size_t)snprintf(anew + at, sizeof(anew) - at, "%s%s", at ? ", " : "",
					       a->port);
	}
	portset_hold(ps, false);
	if (failed) {
		size_t n, m = strlen(why->field);

		item_name(failed, item, sizeof(item));
		n = strlen(item);
		/* The field under the item the refusal names: "ports.tap1.name". */
		if (m && n + 1 + m < sizeof(item)) {
			item[n] = '.';
			memcpy(item + n + 1, why->field, m + 1);
		}
	}
	log_error("config not applied: %s%s%s; %zu step(s) rolled back%s%s", item,
		  item[0] ? ": " : "", why->detail, pl->n_undone,
		  anew[0] ? "; devices opened anew: " : "", anew);
	/*
	 * The document's path exists: a device missing for "attach" is a
	 * field of the document at fault (422), not a 404.
	 */
	if (anew[0])
		snprintf(outcome, sizeof(outcome),
			 "the configuration is as it was (%zu step(s) rolled back), but the "
			 "devices of %s were opened anew (new ifindex; counters, and routes "
			 "through them, gone)",
			 pl->n_undone, anew);
	else
		snprintf(outcome, sizeof(outcome), "nothing was changed (%zu step(s) rolled back)",
			 pl->n_undone);
	fault_set(f, why->kind == FAULT_NOT_FOUND ? FAULT_INVALID : why->kind, why->err,
		  item[0] ? item : NULL, "%s%s%s; %s", item, item[0] ? ": " : "", why->detail,
		  outcome);
	return ret;
}

/* Once @pl is applied: a line per action and one for the whole. */
static void log_applied(const struct portset *ps, const struct config_plan *pl)
{
	size_t created = 0, changed = 0, deleted = 0;

	for (size_t i = 0; i < pl->n; i++) {
		const struct action *a = &pl->a[i];

		log_action(a);
		if (a->op == OP_CREATE_PORT || a->op == OP_ADD_BINDING)
			created++;
		else if (a->op == OP_DELETE_PORT || a->op == OP_REMOVE_BINDING)
			deleted++;
		else
			changed++;
	}
	log_info("config applied: %zu created, %zu changed, %zu deleted (version %llu)", created,
		 changed, deleted, (unsigned long long)portset_version(ps));
}

int config_apply(struct portset *ps, struct config_plan *pl, struct fault *f)
{
	struct fault why = FAULT_INIT;
	const struct action *failed = NULL;
	int ret = 0;

	pl->n_undone = 0;
	if (!pl->n)
		return 0;
	free(pl->undo_order);
	pl->undo_order = calloc(pl->n, sizeof(*pl->undo_order));
	if (!pl->undo_order)
		return fault_set(f, FAULT_UNAVAILABLE, ENOMEM, NULL, "out of memory");
	portset_hold(ps, true);
	for (size_t i = 0; i < pl->n; i++) {
		struct action *a = &pl->a[i];

		/* The removals are made final before the ports go (their forwards, say). */
		if (a->op == OP_DELETE_PORT && (i == 0 || pl->a[i - 1].op != OP_DELETE_PORT))
			finish_removals(ps, pl);
		ret = do_action(ps, a, &why);
		if (ret < 0) {
			failed = a;
			break;
		}
		a->done = true;
	}
	if (!failed) {
		if (pl->a[pl->n - 1].op != OP_DELETE_PORT)
			finish_removals(ps, pl);
		ret = portset_save(ps, &why);
	}
	if (ret < 0)
		return roll_back(ps, pl, failed, &why, ret, f);
	portset_hold(ps, false);
	log_applied(ps, pl);
	return 0;
}
