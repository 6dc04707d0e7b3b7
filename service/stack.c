// SPDX-License-Identifier: MIT
/*
 * The dispatcher. For each frame: parse once, work out the frame's path
 * (ethertype, IP protocol, UDP destination port, as deep as the frame
 * validly goes), then run every binding whose match is a prefix of that
 * path, in creation order. A handler's failure is counted on its binding
 * and never stops the others. The frame is then counted once: malformed
 * (by reason) if parsing stopped early, else matched if any binding ran,
 * else unmatched where dispatch stopped: at the first level where the tree
 * had no node for the frame's key, or, when the frame can go no deeper
 * than a node that exists (a fragment under a UDP-port binding), at the
 * frame's own deepest level. A frame with no ethertype at all (IEEE 802.3)
 * stops at the ethertype level.
 *
 * Bindings are few (--max-bindings, 64 by default), so a linear walk in
 * creation order is both the simplest and, at this size, the fastest
 * structure; it allocates nothing per frame.
 */
#include "stack.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "port.h"

struct stack {
	const struct stack_env *env;
	struct port *port;
	struct binding **b;
	size_t n;
	uint32_t next_id;
	struct stack_counters c;
	struct capture_ring *ring;
	struct timespec since;
	struct stack_tap *taps;
};

static const char *const level_names[LEVEL_COUNT] = {
	[LEVEL_ROOT] = "root",
	[LEVEL_ETHERTYPE] = "ethertype",
	[LEVEL_IP_PROTOCOL] = "ip_protocol",
	[LEVEL_UDP_PORT] = "udp_port",
};

static const char *const csum_names[CSUM_PROTO_COUNT] = {
	[CSUM_IPV4] = "ipv4",
	[CSUM_UDP] = "udp",
	[CSUM_ICMP] = "icmp",
	[CSUM_ICMPV6] = "icmpv6",
};

const char *level_name(enum level lv)
{
	return level_names[lv];
}

const char *csum_proto_name(enum csum_proto p)
{
	return csum_names[p];
}

struct stack *stack_new(const struct stack_env *env, struct port *port)
{
	struct stack *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	/* s->b holds pointers: sizeof(*s->b) is a pointer's size, as meant. */
	// NOLINTNEXTLINE(bugprone-sizeof-expression)
	s->b = calloc(env->max_bindings ? env->max_bindings : 1, sizeof(*s->b));
	if (!s->b) {
		free(s);
		return NULL;
	}
	s->env = env;
	s->next_id = 1;
	clock_gettime(CLOCK_REALTIME, &s->since);
	stack_attach(s, port);
	return s;
}

static void binding_free(struct binding *b)
{
	if (b->ops->fini)
		b->ops->fini(b);
	free(b);
}

void stack_free(struct stack *s)
{
	if (!s)
		return;
	if (s->port)
		port_set_sink(s->port, NULL, NULL);
	while (s->taps) {
		struct stack_tap *t = s->taps;

		stack_tap_remove(t);
		t->gone(t);
	}
	for (size_t i = 0; i < s->n; i++)
		binding_free(s->b[i]);
	capture_ring_free(s->ring);
	free(s->b);
	free(s);
}

void stack_attach(struct stack *s, struct port *port)
{
	/* The port left behind must not go on feeding (or, once freed, outlive) us. */
	if (s->port && s->port != port)
		port_set_sink(s->port, NULL, NULL);
	s->port = port;
	if (port)
		port_set_sink(port, stack_input, s);
}

int stack_bind(struct stack *s, const struct binding_config *cfg, struct binding **out,
	       struct fault *f)
{
	struct binding *b;
	bool new_ring = false;
	int ret;

	if (s->n >= s->env->max_bindings)
		return fault_set(f, FAULT_LIMIT, ENOSPC, NULL,
				 "port %s has %u bindings, the limit (--max-bindings)",
				 port_name(s->port), s->env->max_bindings);
	if (cfg->id && stack_find(s, cfg->id))
		return fault_set(f, FAULT_CONFLICT, EEXIST, "id", "binding %u already exists",
				 cfg->id);
	if (cfg->name[0] && stack_find_name(s, cfg->name))
		return fault_set(f, FAULT_CONFLICT, EEXIST, "name",
				 "port %s already has a binding named %s", port_name(s->port),
				 cfg->name);
	if (cfg->kind == HANDLER_CAPTURE && !s->ring) {
		s->ring = capture_ring_new(s->env->budget, s->env->ring_bytes, f);
		if (!s->ring)
			return -ENOSPC;
		new_ring = true;
	}
	b = calloc(1, sizeof(*b));
	if (!b) {
		ret = fault_set(f, FAULT_UNAVAILABLE, ENOMEM, NULL, "out of memory");
		goto fail;
	}
	b->cfg = *cfg;
	b->ops = handlers[cfg->kind];
	if (b->ops->init && b->ops->init(b, port_config(s->port), f) < 0) {
		free(b);
		ret = fault_ret(f);
		goto fail;
	}
	if (!b->cfg.id) {
		/*
		 * After a restored UINT32_MAX the count wraps: 0 is no id (no
		 * request or state file can name it), so take the next free one.
		 */
		while (!s->next_id || stack_find(s, s->next_id))
			s->next_id++;
		b->cfg.id = s->next_id;
	}
	if (b->cfg.id >= s->next_id)
		s->next_id = b->cfg.id + 1;
	clock_gettime(CLOCK_REALTIME, &b->created);
	s->b[s->n++] = b;
	if (out)
		*out = b;
	return 0;
fail:
	/* A refused binding reserves nothing (a bad capture filter, say). */
	if (new_ring)
		stack_ring_release(s);
	return ret;
}

void stack_ring_release(struct stack *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->b[i]->cfg.kind == HANDLER_CAPTURE)
			return;
	capture_ring_free(s->ring);
	s->ring = NULL;
}

struct binding *stack_detach(struct stack *s, uint32_t id, size_t *index)
{
	for (size_t i = 0; i < s->n; i++) {
		struct binding *b = s->b[i];

		if (b->cfg.id != id)
			continue;
		/* s->b holds pointers: sizeof(*s->b) is a pointer's size, as meant. */
		// NOLINTNEXTLINE(bugprone-sizeof-expression)
		memmove(&s->b[i], &s->b[i + 1], (s->n - i - 1) * sizeof(*s->b));
		s->n--;
		*index = i;
		return b;
	}
	return NULL;
}

void stack_reattach(struct stack *s, struct binding *b, size_t index)
{
	if (index > s->n)
		index = s->n;
	/* s->b holds pointers: sizeof(*s->b) is a pointer's size, as meant. */
	// NOLINTNEXTLINE(bugprone-sizeof-expression)
	memmove(&s->b[index + 1], &s->b[index], (s->n - index) * sizeof(*s->b));
	s->b[index] = b;
	s->n++;
}

void stack_binding_free(struct binding *b)
{
	if (b)
		binding_free(b);
}

int stack_unbind(struct stack *s, uint32_t id, struct fault *f)
{
	size_t i;
	struct binding *b = stack_detach(s, id, &i);

	if (!b)
		return fault_set(f, FAULT_NOT_FOUND, ENOENT, NULL, "port %s has no binding %u",
				 port_name(s->port), id);
	binding_free(b);
	return 0;
}

uint32_t stack_next_id(const struct stack *s)
{
	return s->next_id;
}

void stack_set_next_id(struct stack *s, uint32_t id)
{
	if (id > s->next_id)
		s->next_id = id;
}

void stack_restart(struct stack *s)
{
	memset(&s->c, 0, sizeof(s->c));
	for (size_t i = 0; i < s->n; i++)
		memset(&s->b[i]->c, 0, sizeof(s->b[i]->c));
	clock_gettime(CLOCK_REALTIME, &s->since);
}

size_t stack_count(const struct stack *s)
{
	return s->n;
}

struct binding *stack_at(const struct stack *s, size_t i)
{
	return i < s->n ? s->b[i] : NULL;
}

struct binding *stack_find(const struct stack *s, uint32_t id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->b[i]->cfg.id == id)
			return s->b[i];
	return NULL;
}

struct binding *stack_find_name(const struct stack *s, const char *name)
{
	if (!name[0])
		return NULL;
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->b[i]->cfg.name, name) == 0)
			return s->b[i];
	return NULL;
}

const struct stack_counters *stack_counters(const struct stack *s)
{
	return &s->c;
}

void stack_tap_add(struct stack *s, struct stack_tap *t)
{
	t->s = s;
	t->prev = NULL;
	t->next = s->taps;
	if (s->taps)
		s->taps->prev = t;
	s->taps = t;
}

void stack_tap_remove(struct stack_tap *t)
{
	if (!t->s)
		return;
	if (t->prev)
		t->prev->next = t->next;
	else
		t->s->taps = t->next;
	if (t->next)
		t->next->prev = t->prev;
	t->s = NULL;
	t->next = t->prev = NULL;
}

struct capture_budget *stack_budget(const struct stack *s)
{
	return s->env->budget;
}

struct capture_ring *stack_ring(const struct stack *s)
{
	return s->ring;
}

struct timespec stack_since(const struct stack *s)
{
	return s->since;
}

/*
 * How deep the frame validly goes and its key at each level. A frame
 * reaches the UDP port level only when its UDP header parsed cleanly and it
 * is not a fragment (DESIGN.md: fragments stop at the IP protocol node).
 */
static unsigned frame_path(const struct frame_info *fi, uint32_t key[LEVEL_COUNT])
{
	unsigned depth = 0;

	if (!fi->has_ethertype)
		return depth;
	key[LEVEL_ETHERTYPE] = fi->ethertype;
	depth = LEVEL_ETHERTYPE;
	if (!fi->has_ip_protocol)
		return depth;
	key[LEVEL_IP_PROTOCOL] = fi->ip_protocol;
	depth = LEVEL_IP_PROTOCOL;
	if (fi->l4 != L4_UDP || fi->fragment || fi->malformed != MALFORMED_NONE)
		return depth;
	key[LEVEL_UDP_PORT] = fi->udp.dport;
	return LEVEL_UDP_PORT;
}

/* How many leading levels of @m agree with the frame's path. */
static unsigned agreement(const struct match *m, unsigned depth, const uint32_t key[LEVEL_COUNT])
{
	const uint32_t want[LEVEL_COUNT] = { 0, m->ethertype, m->ip_protocol, m->udp_port };
	unsigned a = 0;

	while (a < m->depth && a < depth && want[a + 1] == key[a + 1])
		a++;
	return a;
}

static void count_checksums(struct stack_counters *c, const struct frame_info *fi)
{
	if (fi->ip4.checksum_status == CSUM_BAD)
		c->bad_checksum[CSUM_IPV4]++;
	if (fi->l4 == L4_UDP && fi->udp.checksum_status == CSUM_BAD)
		c->bad_checksum[CSUM_UDP]++;
	if (fi->l4 == L4_ICMP && fi->icmp.checksum_status == CSUM_BAD)
		c->bad_checksum[CSUM_ICMP]++;
	if (fi->l4 == L4_ICMPV6 && fi->icmp.checksum_status == CSUM_BAD)
		c->bad_checksum[CSUM_ICMPV6]++;
}

static struct port *lookup_none(void *arg, const char *name)
{
	(void)arg;
	(void)name;
	return NULL;
}

void stack_input(struct port *port, const uint8_t *frame, size_t len, bool truncated, void *arg)
{
	struct stack *s = arg;
	const struct port_config *pc = port_config(port);
	uint32_t key[LEVEL_COUNT] = { 0 };
	struct frame_info fi;
	struct dispatch_ctx dc;
	unsigned depth, node = 0;
	bool ran = false;

	if (truncated) {
		/* The tail is lost: nothing downstream could trust its lengths. */
		s->c.malformed[MAL_truncated]++;
		return;
	}
	frame_parse(frame, len, port_frame_link(port), pc->strict, &fi);
	count_checksums(&s->c, &fi);
	if (fi.fragment)
		s->c.fragments++;
	depth = frame_path(&fi, key);

	dc = (struct dispatch_ctx){
		.port = port,
		.frame = frame,
		.len = len,
		.fi = &fi,
		.ring = s->ring,
		.scratch = s->env->scratch,
		.lookup = s->env->lookup ? s->env->lookup : lookup_none,
		.lookup_arg = s->env->lookup_arg,
	};
	for (struct stack_tap *t = s->taps; t; t = t->next)
		t->frame(t, &dc);
	for (size_t i = 0; i < s->n; i++) {
		struct binding *b = s->b[i];
		unsigned a = agreement(&b->cfg.match, depth, key);

		if (a > node)
			node = a;
		if (a != b->cfg.match.depth)
			continue;
		ran = true;
		b->c.packets++;
		b->c.bytes += len;
		if (b->ops->run && b->ops->run(b, &dc) < 0)
			b->c.errors++;
	}
	if (fi.malformed != MALFORMED_NONE)
		s->c.malformed[fi.malformed]++;
	else if (ran)
		s->c.matched++;
	else if (depth == LEVEL_ROOT)
		/*
		 * No ethertype to dispatch on (an IEEE 802.3 frame, whose
		 * type/length field is a length): the tree stopped at the
		 * ethertype level, whatever bindings there are.
		 */
		s->c.unmatched[LEVEL_ETHERTYPE]++;
	else
		s->c.unmatched[node < depth ? node + 1 : depth]++;
}
