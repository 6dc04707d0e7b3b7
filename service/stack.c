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
 * A frame visits only the bindings of its own path, whatever their number
 * (issue 11): every node of the tree that some binding's match names is an
 * entry of one open-addressing hash table per stack, keyed by (level,
 * ethertype, IP protocol, UDP port), holding the bindings matched exactly
 * there in creation order and how many bindings sit at it or below it (the
 * node exists while that is non-zero, which is what the unmatched counters
 * need). A frame looks up at most three nodes and merges their lists, and
 * the root's, by creation order; nothing is allocated per frame. The index
 * grows when a binding is added and never shrinks when one goes, so a
 * binding taken out (stack_detach) goes back without allocating.
 */
#include "stack.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "port.h"
#include "queue.h"

/*
 * A queue worker's share of the stack (queue.h): its counters, its reply
 * scratch, the ring it hands frames to the main loop through, and the
 * frames that did not fit there. Written by that worker only, and on
 * cache lines of its own (two workers never write one line).
 */
/*
 * What dispatch() decided of a frame: kept for the rest of a train
 * (PORT_RX_LEAD, port_train_fn) in the stack, or a lane, that read it.
 */
struct dispatch_memo {
	struct dnode *lists[LEVEL_COUNT]; /* the path's binding lists, k of them */
	unsigned k, depth, node;
	bool clean; /* well formed, no bad checksum, no fragment: train() may use it */
};

struct stack_lane {
	struct stack_counters c;
	struct dispatch_memo memo;
	uint8_t *scratch;
	struct qring *ring;
	uint64_t dropped; /* hand-offs lost to a full ring */
	bool pending;	  /* handed off in the current burst */
} __attribute__((aligned(64)));

/* A frame handed from a worker to the main loop: @b's run(), or the taps when NULL. */
struct deferred {
	struct binding *b;
	struct timespec ts;
	size_t len;
	struct frame_info fi;
	uint8_t frame[];
};

#define LANE_RING_BYTES ((size_t)512 * 1024)

/*
 * A node of the dispatch tree below the root. 32 bytes; the table keeps at
 * most half of its slots in use, so a node costs 64 to 128 bytes of table.
 */
struct dnode {
	uint64_t key;	    /* node_key(); 0 is an empty slot */
	uint32_t refs;	    /* bindings at this node or below: it exists while > 0 */
	uint32_t n, cap;    /* bindings matched exactly here, in b[] */
	uint32_t up;	    /* the parent's slot + 1; 0: the parent is the root */
	struct binding **b; /* sorted by seq (creation order) */
};

struct stack {
	const struct stack_env *env;
	struct port *port;
	struct binding **b; /* creation order */
	size_t n, cap;
	uint64_t next_seq;
	struct dnode root; /* the bindings of match {} */
	struct dnode *tab; /* tab_size slots, a power of two (0: none yet) */
	size_t tab_size, tab_used;
	size_t n_mid; /* bindings at the ethertype or IP protocol level */
	size_t n_run; /* bindings whose handler has a run() */
	uint32_t next_id;
	struct capture_ring *ring;
	struct timespec since;
	struct stack_tap *taps;
	/* Queues 1..n_lanes of a multi-queue port (queue.h); none with one queue. */
	struct stack_lane *lanes;
	unsigned n_lanes;
	struct stack_counters *sum; /* stack_counters() of a multi-queue port */
	int paused;		    /* stack_pause() nesting */
	/*
	 * Last and on cache lines of their own: the main loop writes them per
	 * frame while queue workers read the fields above (a shared line
	 * would bounce between their cores on every frame).
	 */
	struct stack_counters c __attribute__((aligned(64)));
	struct dispatch_memo memo; /* queue 0's train (dispatch()) */
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
	/* Aligned: the counters' cache lines are the counters' only (struct stack). */
	struct stack *s = aligned_alloc(64, sizeof(*s));

	if (!s)
		return NULL;
	memset(s, 0, sizeof(*s));
	s->env = env;
	s->next_id = 1;
	clock_gettime(CLOCK_REALTIME, &s->since);
	if (port && stack_reserve_queues(s, port_queues(port)) < 0) {
		stack_free(s);
		return NULL;
	}
	stack_attach(s, port);
	return s;
}

/* A binding's per-queue counters: PORTCFG_QUEUES_MAX blocks, a cache line each. */
static struct binding_qcounters *qc_new(void)
{
	size_t n = PORTCFG_QUEUES_MAX * sizeof(struct binding_qcounters);
	struct binding_qcounters *qc = aligned_alloc(64, n);

	if (qc)
		memset(qc, 0, n);
	return qc;
}

static void binding_free(struct binding *b)
{
	if (b->ops->fini)
		b->ops->fini(b);
	free(b->qc);
	free(b);
}

static void lane_drain(struct stack *s, unsigned q);
static void stack_input_mq(struct port *port, const uint8_t *frame, size_t len, unsigned rx,
			   void *arg);
static bool stack_train_mq(struct port *port, uint64_t n, uint64_t bytes, void *arg);
static bool stack_queue_train(void *arg, unsigned q, uint64_t n, uint64_t bytes);

/*
 * The one gate of every change to what a queue worker reads (queue.h, rule
 * 2): the port's queues paused, and what they handed off run first, so no
 * pending record outlives the binding it names. Nested.
 */
static void stack_pause(struct stack *s)
{
	if (s->paused++ > 0)
		return;
	if (s->port)
		port_pause(s->port);
	for (unsigned q = 1; q <= s->n_lanes; q++)
		lane_drain(s, q);
}

static void stack_resume(struct stack *s)
{
	if (--s->paused > 0)
		return;
	if (!s->port)
		return;
	/* Whatever changed, the port learns whether payload is still read (port.h). */
	port_set_sink_reads(s->port, s->taps || s->n_run);
	port_resume(s->port);
}

void stack_free(struct stack *s)
{
	if (!s)
		return;
	stack_pause(s);
	if (s->port) {
		port_set_sink(s->port, NULL, NULL, NULL);
		port_set_queue_sink(s->port, NULL, NULL, NULL, NULL);
		port_resume(s->port);
	}
	s->paused = 0;
	s->port = NULL;
	while (s->taps) {
		struct stack_tap *t = s->taps;

		stack_tap_remove(t);
		t->gone(t);
	}
	for (size_t i = 0; i < s->n; i++)
		binding_free(s->b[i]);
	capture_ring_free(s->ring);
	for (size_t i = 0; i < s->tab_size; i++)
		free(s->tab[i].b);
	free(s->tab);
	free(s->root.b);
	free(s->b);
	for (unsigned i = 0; i < s->n_lanes; i++) {
		free(s->lanes[i].scratch);
		qring_free(s->lanes[i].ring);
	}
	free(s->lanes);
	free(s->sum);
	free(s);
}

/* --- the dispatch index --- */

/* A node's key: its level and the keys of the path down to it, the rest 0. */
static uint64_t node_key(unsigned level, uint32_t ethertype, uint32_t ip_protocol,
			 uint32_t udp_port)
{
	uint64_t k = (uint64_t)level << 48 | (uint64_t)ethertype << 24;

	if (level >= LEVEL_IP_PROTOCOL)
		k |= (uint64_t)ip_protocol << 16;
	if (level >= LEVEL_UDP_PORT)
		k |= udp_port;
	return k;
}

/*
 * The key of the node above the one of @key (level 2 or 3). Of a level-1
 * key it gives a level-0 one, which no slot holds (the root is not in the
 * table).
 */
static uint64_t parent_key(uint64_t key)
{
	unsigned level = (unsigned)(key >> 48);

	return (uint64_t)(level - 1) << 48 |
	       (key & (level == LEVEL_UDP_PORT ? 0xffffff0000ull : 0xffff000000ull));
}

static uint64_t match_key(const struct match *m, unsigned level)
{
	return node_key(level, m->ethertype, m->ip_protocol, m->udp_port);
}

static size_t slot_of(uint64_t key, size_t size)
{
	/* Fibonacci hashing: UDP ports in a row land apart. */
	return (size_t)((key * 0x9e3779b97f4a7c15ull) >> 32) & (size_t)(size - 1);
}

/* The node of @key, NULL when the table has no slot for it. */
static struct dnode *tab_find(const struct stack *s, uint64_t key)
{
	size_t i;

	if (!s->tab_size)
		return NULL;
	/* At most half the slots are used, so an empty slot ends every probe. */
	for (i = slot_of(key, s->tab_size);; i = (i + 1) & (s->tab_size - 1)) {
		if (s->tab[i].key == key)
			return &s->tab[i];
		if (!s->tab[i].key)
			return NULL;
	}
}

static struct dnode *tab_slot(struct dnode *tab, size_t size, uint64_t key)
{
	size_t i = slot_of(key, size);

	while (tab[i].key)
		i = (i + 1) & (size - 1);
	return &tab[i];
}

/*
 * Room for @more new nodes: a larger table when they would fill more than
 * half of it, nodes left without bindings (refs 0) dropped on the way.
 */
static int tab_reserve(struct stack *s, size_t more)
{
	size_t live = 0, size = 16;
	struct dnode *tab;

	if ((s->tab_used + more) * 2 <= s->tab_size)
		return 0;
	for (size_t i = 0; i < s->tab_size; i++)
		live += s->tab[i].refs > 0;
	while (size < (live + more) * 4)
		size *= 2;
	tab = calloc(size, sizeof(*tab));
	if (!tab)
		return -ENOMEM;
	for (size_t i = 0; i < s->tab_size; i++) {
		if (s->tab[i].refs)
			*tab_slot(tab, size, s->tab[i].key) = s->tab[i];
		else
			free(s->tab[i].b);
	}
	free(s->tab);
	s->tab = tab;
	s->tab_size = size;
	s->tab_used = live;
	/* Slots moved: every node finds its parent again (a live node's parent is live). */
	for (size_t i = 0; i < size; i++)
		if (tab[i].key && tab[i].key >> 48 > LEVEL_ETHERTYPE)
			tab[i].up = (uint32_t)(tab_find(s, parent_key(tab[i].key)) - tab) + 1;
	return 0;
}

/* Grows @d's list to hold one more binding. */
static int node_reserve(struct dnode *d)
{
	struct binding **b;
	uint32_t cap;

	if (d->n < d->cap)
		return 0;
	cap = d->cap ? d->cap * 2 : 1;
	/* d->b holds pointers: sizeof(*b) is a pointer's size, as meant. */
	// NOLINTNEXTLINE(bugprone-sizeof-expression)
	b = reallocarray(d->b, cap, sizeof(*b));
	if (!b)
		return -ENOMEM;
	d->b = b;
	d->cap = cap;
	return 0;
}

/*
 * Puts @b into the index: its nodes made where missing, @b into its own
 * node's list by seq, the path's refs raised. Fails (-ENOMEM) leaving the
 * bindings as they were; never allocates for a binding stack_detach() took
 * out, whose nodes and room are still there.
 */
static int index_add(struct stack *s, struct binding *b)
{
	const struct match *m = &b->cfg.match;
	struct dnode *path[LEVEL_COUNT] = { &s->root };
	size_t missing = 0;
	struct dnode *d;
	uint32_t i;

	for (unsigned lv = LEVEL_ETHERTYPE; lv <= m->depth; lv++)
		missing += !tab_find(s, match_key(m, lv));
	if (tab_reserve(s, missing) < 0)
		return -ENOMEM;
	for (unsigned lv = LEVEL_ETHERTYPE; lv <= m->depth; lv++) {
		uint64_t key = match_key(m, lv);

		path[lv] = tab_find(s, key);
		if (!path[lv]) {
			path[lv] = tab_slot(s->tab, s->tab_size, key);
			path[lv]->key = key;
			path[lv]->up =
				lv > LEVEL_ETHERTYPE ? (uint32_t)(path[lv - 1] - s->tab) + 1 : 0;
			s->tab_used++;
		}
	}
	d = path[m->depth];
	/* A node made above and left empty by a failure here is no node (refs 0). */
	if (node_reserve(d) < 0)
		return -ENOMEM;
	for (i = d->n; i > 0 && d->b[i - 1]->seq > b->seq; i--)
		d->b[i] = d->b[i - 1];
	d->b[i] = b;
	d->n++;
	for (unsigned lv = LEVEL_ETHERTYPE; lv <= m->depth; lv++)
		path[lv]->refs++;
	s->n_mid += m->depth == LEVEL_ETHERTYPE || m->depth == LEVEL_IP_PROTOCOL;
	s->n_run += handlers[b->cfg.kind]->run != NULL;
	return 0;
}

/* Takes @b out of the index; its nodes and their room stay. */
static void index_del(struct stack *s, const struct binding *b)
{
	const struct match *m = &b->cfg.match;
	struct dnode *d = &s->root;

	for (unsigned lv = LEVEL_ETHERTYPE; lv <= m->depth; lv++) {
		d = tab_find(s, match_key(m, lv));
		d->refs--;
	}
	s->n_mid -= m->depth == LEVEL_ETHERTYPE || m->depth == LEVEL_IP_PROTOCOL;
	s->n_run -= handlers[b->cfg.kind]->run != NULL;
	for (uint32_t i = 0; i < d->n; i++) {
		if (d->b[i] != b)
			continue;
		/* d->b holds pointers: sizeof(*d->b) is a pointer's size, as meant. */
		// NOLINTNEXTLINE(bugprone-sizeof-expression)
		memmove(&d->b[i], &d->b[i + 1], (d->n - i - 1) * sizeof(*d->b));
		d->n--;
		break;
	}
}

int stack_reserve_queues(struct stack *s, unsigned queues)
{
	unsigned n = queues > 1 ? queues - 1 : 0;
	struct stack_lane *lanes;
	int ret = 0;

	if (n <= s->n_lanes)
		return 0;
	lanes = aligned_alloc(64, n * sizeof(*lanes));
	if (!lanes)
		return -ENOMEM;
	memset(lanes, 0, n * sizeof(*lanes));
	if (!s->sum)
		s->sum = calloc(1, sizeof(*s->sum));
	ret = s->sum ? 0 : -ENOMEM;
	for (unsigned i = s->n_lanes; i < n && !ret; i++) {
		lanes[i].scratch = malloc(PORT_FRAME_MAX);
		lanes[i].ring = qring_new(LANE_RING_BYTES);
		if (!lanes[i].scratch || !lanes[i].ring)
			ret = -ENOMEM;
	}
	/* Every binding gets its queues' counters (as many as any port may have). */
	for (size_t i = 0; i < s->n && !ret; i++)
		if (!s->b[i]->qc) {
			s->b[i]->qc = qc_new();
			if (!s->b[i]->qc)
				ret = -ENOMEM;
		}
	if (ret < 0) {
		for (unsigned i = s->n_lanes; i < n; i++) {
			free(lanes[i].scratch);
			qring_free(lanes[i].ring);
		}
		free(lanes);
		return ret;
	}
	stack_pause(s);
	if (s->n_lanes)
		memcpy(lanes, s->lanes, s->n_lanes * sizeof(*lanes));
	free(s->lanes);
	s->lanes = lanes;
	s->n_lanes = n;
	stack_resume(s);
	return 0;
}

void stack_attach(struct stack *s, struct port *port)
{
	struct port *old = s->port;
	unsigned queues = port ? port_queues(port) : 1;
	bool mq = false;

	/* What the old port's workers handed off runs while the port is still the stack's. */
	stack_pause(s);
	/* The port left behind must not go on feeding (or, once freed, outlive) us. */
	if (old && old != port) {
		port_set_sink(old, NULL, NULL, NULL);
		port_set_queue_sink(old, NULL, NULL, NULL, NULL);
	}
	stack_resume(s);
	/* portset.c reserves first where a failure can still be answered; this is the rest. */
	if (queues > 1) {
		mq = stack_reserve_queues(s, queues) == 0;
		if (!mq)
			log_error("port %s: out of memory for its queues; they count frames only",
				  port_name(port));
	}
	s->port = port;
	if (!port)
		return;
	port_pause(port);
	port_set_sink(port, mq ? stack_input_mq : stack_input, mq ? stack_train_mq : stack_train,
		      s);
	port_set_sink_reads(port, s->taps || s->n_run);
	if (mq)
		port_set_queue_sink(port, stack_queue_input, stack_queue_train, stack_queue_drain,
				    s);
	port_resume(port);
}

/*
 * Whether @cfg may join @s: within --max-bindings, its id and name free,
 * and a slot for it in s->b (grown here). 0, or a fault.
 */
static int bind_room(struct stack *s, const struct binding_config *cfg, struct fault *f)
{
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
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		struct binding **grown;

		if (cap > s->env->max_bindings)
			cap = s->env->max_bindings;
		/* s->b holds pointers: sizeof(*s->b) is a pointer's size, as meant. */
		// NOLINTNEXTLINE(bugprone-sizeof-expression)
		grown = reallocarray(s->b, cap, sizeof(*s->b));
		if (!grown)
			return fault_set(f, FAULT_UNAVAILABLE, ENOMEM, NULL, "out of memory");
		s->b = grown;
		s->cap = cap;
	}
	return 0;
}

static int bind_paused(struct stack *s, const struct binding_config *cfg, struct binding **out,
		       struct fault *f)
{
	struct binding *b;
	bool new_ring = false;
	int ret = bind_room(s, cfg, f);

	if (ret < 0)
		return ret;
	if (cfg->kind == HANDLER_CAPTURE && !s->ring) {
		s->ring = capture_ring_new(s->env->budget, s->env->ring_bytes, f);
		if (!s->ring)
			return -ENOSPC;
		new_ring = true;
	}
	b = calloc(1, binding_alloc_size(cfg->kind));
	if (!b) {
		ret = fault_set(f, FAULT_UNAVAILABLE, ENOMEM, NULL, "out of memory");
		goto fail;
	}
	/* What the binding has of its configuration: its kind's options and no more. */
	memcpy(&b->cfg, cfg, offsetof(struct binding_config, o) + handlers[cfg->kind]->options);
	b->ops = handlers[cfg->kind];
	if (s->n_lanes) {
		b->qc = qc_new();
		if (!b->qc) {
			free(b);
			ret = fault_set(f, FAULT_UNAVAILABLE, ENOMEM, NULL, "out of memory");
			goto fail;
		}
	}
	if (b->ops->init && b->ops->init(b, port_config(s->port), f) < 0) {
		free(b->qc);
		free(b);
		ret = fault_ret(f);
		goto fail;
	}
	b->seq = s->next_seq;
	if (index_add(s, b) < 0) {
		binding_free(b);
		ret = fault_set(f, FAULT_UNAVAILABLE, ENOMEM, NULL, "out of memory");
		goto fail;
	}
	s->next_seq++;
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

int stack_bind(struct stack *s, const struct binding_config *cfg, struct binding **out,
	       struct fault *f)
{
	int ret;

	stack_pause(s);
	ret = bind_paused(s, cfg, out, f);
	stack_resume(s);
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

static struct binding *detach_paused(struct stack *s, uint32_t id, size_t *index)
{
	for (size_t i = 0; i < s->n; i++) {
		struct binding *b = s->b[i];

		if (b->cfg.id != id)
			continue;
		/* s->b holds pointers: sizeof(*s->b) is a pointer's size, as meant. */
		// NOLINTNEXTLINE(bugprone-sizeof-expression)
		memmove(&s->b[i], &s->b[i + 1], (s->n - i - 1) * sizeof(*s->b));
		s->n--;
		index_del(s, b);
		*index = i;
		return b;
	}
	return NULL;
}

struct binding *stack_detach(struct stack *s, uint32_t id, size_t *index)
{
	struct binding *b;

	stack_pause(s);
	b = detach_paused(s, id, index);
	stack_resume(s);
	return b;
}

void stack_reattach(struct stack *s, struct binding *b, size_t index)
{
	stack_pause(s);
	if (index > s->n)
		index = s->n;
	/* s->b holds pointers: sizeof(*s->b) is a pointer's size, as meant. */
	// NOLINTNEXTLINE(bugprone-sizeof-expression)
	memmove(&s->b[index + 1], &s->b[index], (s->n - index) * sizeof(*s->b));
	s->b[index] = b;
	s->n++;
	/*
	 * Its nodes and their room are still there (index_del keeps them, and
	 * only stack_bind grows the table), so this allocates nothing.
	 */
	if (index_add(s, b) < 0)
		log_error("port %s: binding %u could not go back into the dispatch index",
			  port_name(s->port), b->cfg.id);
	stack_resume(s);
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
	stack_pause(s);
	memset(&s->c, 0, sizeof(s->c));
	for (size_t i = 0; i < s->n; i++) {
		memset(&s->b[i]->c, 0, sizeof(s->b[i]->c));
		if (s->b[i]->qc)
			memset(s->b[i]->qc, 0, PORTCFG_QUEUES_MAX * sizeof(*s->b[i]->qc));
	}
	for (unsigned q = 0; q < s->n_lanes; q++) {
		memset(&s->lanes[q].c, 0, sizeof(s->lanes[q].c));
		s->lanes[q].dropped = 0;
	}
	clock_gettime(CLOCK_REALTIME, &s->since);
	stack_resume(s);
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

static void stack_counters_add(struct stack_counters *sum, const struct stack_counters *c)
{
	sum->matched += queue_ctr_load(&c->matched);
	sum->fragments += queue_ctr_load(&c->fragments);
	for (int i = 0; i < LEVEL_COUNT; i++)
		sum->unmatched[i] += queue_ctr_load(&c->unmatched[i]);
	for (int i = 0; i < MALFORMED_COUNT; i++)
		sum->malformed[i] += queue_ctr_load(&c->malformed[i]);
	for (int i = 0; i < CSUM_PROTO_COUNT; i++)
		sum->bad_checksum[i] += queue_ctr_load(&c->bad_checksum[i]);
}

const struct stack_counters *stack_counters(const struct stack *s)
{
	if (!s->n_lanes)
		return &s->c;
	*s->sum = s->c;
	for (unsigned q = 0; q < s->n_lanes; q++)
		stack_counters_add(s->sum, &s->lanes[q].c);
	return s->sum;
}

void binding_counters_sum(const struct binding *b, struct binding_counters *out)
{
	*out = b->c;
	for (unsigned q = 0; b->qc && q < PORTCFG_QUEUES_MAX; q++) {
		const struct binding_counters *c = &b->qc[q].c;

		out->packets += queue_ctr_load(&c->packets);
		out->bytes += queue_ctr_load(&c->bytes);
		out->errors += queue_ctr_load(&c->errors);
		for (int i = 0; i < BINDING_EXTRA_MAX; i++)
			out->extra[i] += queue_ctr_load(&c->extra[i]);
	}
}

uint64_t stack_queue_dropped(const struct stack *s, unsigned q)
{
	return q >= 1 && q <= s->n_lanes ? queue_ctr_load(&s->lanes[q - 1].dropped) : 0;
}

void stack_tap_add(struct stack *s, struct stack_tap *t)
{
	stack_pause(s);
	t->s = s;
	t->prev = NULL;
	t->next = s->taps;
	if (s->taps)
		s->taps->prev = t;
	s->taps = t;
	stack_resume(s);
}

void stack_tap_remove(struct stack_tap *t)
{
	struct stack *s = t->s;

	if (!s)
		return;
	stack_pause(s);
	if (t->prev)
		t->prev->next = t->next;
	else
		t->s->taps = t->next;
	if (t->next)
		t->next->prev = t->prev;
	t->s = NULL;
	t->next = t->prev = NULL;
	stack_resume(s);
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
 * How deep the frame validly goes, and the key of its node at that depth
 * (0 at the root). A frame reaches the UDP port level only when its UDP
 * header parsed cleanly and it is not a fragment (DESIGN.md: fragments
 * stop at the IP protocol node).
 */
static unsigned frame_path(const struct frame_info *fi, uint64_t *key)
{
	*key = 0;
	if (!fi->has_ethertype)
		return LEVEL_ROOT;
	if (!fi->has_ip_protocol) {
		*key = node_key(LEVEL_ETHERTYPE, fi->ethertype, 0, 0);
		return LEVEL_ETHERTYPE;
	}
	if (fi->l4 != L4_UDP || fi->fragment || fi->malformed != MALFORMED_NONE) {
		*key = node_key(LEVEL_IP_PROTOCOL, fi->ethertype, fi->ip_protocol, 0);
		return LEVEL_IP_PROTOCOL;
	}
	*key = node_key(LEVEL_UDP_PORT, fi->ethertype, fi->ip_protocol, fi->udp.dport);
	return LEVEL_UDP_PORT;
}

/*
 * Adds @v to the counter @x of queue @q's block: a plain add in the main
 * loop (q 0, a constant there, so it costs what it always did), a
 * single-writer relaxed atomic store on a worker (queue.h, rule 1).
 */
#define CTR(q, x, v)                          \
	do {                                  \
		if (q)                        \
			QUEUE_CTR_ADD(x, v);  \
		else                          \
			(x) += (uint64_t)(v); \
	} while (0)

/*
 * A worker hands @b's run() (or, @b NULL, the stream taps) to the main
 * loop: the frame, its parse and its time into the lane's ring (queue.h,
 * rule 3). -ENOBUFS when the ring is full: the main loop is behind.
 */
static int lane_defer(struct stack_lane *l, struct binding *b, struct dispatch_ctx *dc)
{
	size_t n = sizeof(struct deferred) + dc->len;
	struct deferred *d = qring_reserve(l->ring, n);

	if (!d) {
		QUEUE_CTR_ADD(l->dropped, 1);
		return -ENOBUFS;
	}
	d->b = b;
	d->ts = *dispatch_time(dc);
	d->len = dc->len;
	d->fi = *dc->fi;
	memcpy(d->frame, dc->frame, dc->len);
	qring_commit(l->ring, n);
	l->pending = true;
	return 0;
}

/*
 * Runs @b on the frame: the dispatcher counts every binding's packets and
 * bytes (the count handler has no run()); a handler's failure stops nothing.
 * On a worker (@q > 0) the counts go to the queue's block, and a handler
 * that needs the main loop is handed to it.
 */
static inline __attribute__((always_inline)) void run_binding(struct binding *b,
							      struct dispatch_ctx *dc, size_t len,
							      const unsigned q, const bool mq,
							      struct stack_lane *l)
{
	struct binding_counters *c = mq ? &b->qc[q].c : &b->c;

	CTR(mq, c->packets, 1);
	CTR(mq, c->bytes, len);
	if (!b->ops->run)
		return;
	if (q && b->ops->main_loop) {
		if (lane_defer(l, b, dc) < 0)
			QUEUE_CTR_ADD(c->errors, 1);
		return;
	}
	if (b->ops->run(b, dc) < 0)
		CTR(mq, c->errors, 1);
}

/*
 * Runs the bindings of the frame's path: @k lists (the root's and those of
 * the nodes the frame reaches), each in creation order, merged into one
 * creation order as a single list of every binding would have it.
 */
static inline __attribute__((always_inline)) void run_lists(struct dnode *const *l, unsigned k,
							    struct dispatch_ctx *dc, size_t len,
							    const unsigned q, const bool mq,
							    struct stack_lane *lane)
{
	uint32_t at[LEVEL_COUNT] = { 0 };

	if (k == 1) {
		for (uint32_t i = 0; i < l[0]->n; i++)
			run_binding(l[0]->b[i], dc, len, q, mq, lane);
		return;
	}
	for (;;) {
		struct binding *next = NULL;
		unsigned from = 0;

		for (unsigned j = 0; j < k; j++) {
			if (at[j] < l[j]->n && (!next || l[j]->b[at[j]]->seq < next->seq)) {
				next = l[j]->b[at[j]];
				from = j;
			}
		}
		if (!next)
			return;
		at[from]++;
		run_binding(next, dc, len, q, mq, lane);
	}
}

/* Counts the frame's bad checksums; true when it had any. */
static inline __attribute__((always_inline)) bool
count_checksums(struct stack_counters *c, const struct frame_info *fi, const unsigned q)
{
	bool bad = false;

	if (fi->ip4.checksum_status == CSUM_BAD) {
		CTR(q, c->bad_checksum[CSUM_IPV4], 1);
		bad = true;
	}
	if (fi->l4 == L4_UDP && fi->udp.checksum_status == CSUM_BAD) {
		CTR(q, c->bad_checksum[CSUM_UDP], 1);
		bad = true;
	}
	if (fi->l4 == L4_ICMP && fi->icmp.checksum_status == CSUM_BAD) {
		CTR(q, c->bad_checksum[CSUM_ICMP], 1);
		bad = true;
	}
	if (fi->l4 == L4_ICMPV6 && fi->icmp.checksum_status == CSUM_BAD) {
		CTR(q, c->bad_checksum[CSUM_ICMPV6], 1);
		bad = true;
	}
	return bad;
}

static struct port *lookup_none(void *arg, const char *name)
{
	(void)arg;
	(void)name;
	return NULL;
}

/*
 * Parses and dispatches one frame read by queue @q: 0 is the main loop
 * (stack_input(), where @q is a constant and this compiles to the
 * single-queue dispatcher), 1..N-1 a worker (stack_queue_input(), with
 * the port paused for the main thread: queue.h).
 */
/* The frame's last counter: malformed, matched, or unmatched at the level its path ended. */
static inline __attribute__((always_inline)) void count_outcome(struct stack_counters *c,
								enum malformed malformed, bool ran,
								unsigned depth, unsigned node,
								uint64_t n, const unsigned q)
{
	if (malformed != MALFORMED_NONE)
		CTR(q, c->malformed[malformed], n);
	else if (ran)
		CTR(q, c->matched, n);
	else if (depth == LEVEL_ROOT)
		/*
		 * No ethertype to dispatch on (an IEEE 802.3 frame, whose
		 * type/length field is a length): the tree stopped at the
		 * ethertype level, whatever bindings there are.
		 */
		CTR(q, c->unmatched[LEVEL_ETHERTYPE], n);
	else
		CTR(q, c->unmatched[node < depth ? node + 1 : depth], n);
}

/*
 * The rest of a train at once (port_train_fn): @n datagrams of @bytes in
 * all, counted as dispatch() counted the lead, from what it kept of it:
 * they differ from it only in lengths, IPv4 id, TCP sequence and flags,
 * and checksums, none of which a dispatch decision or a count binding
 * reads. The port hands trains only to a stack that runs nothing but
 * count bindings (no run(), no taps), so their packets and bytes are all
 * there is to add, in any order. False, and nothing done, when the lead
 * was not clean (malformed, a bad checksum, a fragment): each is then
 * dispatched on its own.
 */
static inline __attribute__((always_inline)) bool train(struct stack *s, uint64_t n, uint64_t bytes,
							const unsigned q, const bool mq)
{
	struct stack_lane *lane = q ? &s->lanes[q - 1] : NULL;
	struct stack_counters *c = q ? &lane->c : &s->c;
	const struct dispatch_memo *m = q ? &lane->memo : &s->memo;

	if (!m->clean || s->n_run || s->taps)
		return false;
	for (unsigned j = 0; j < m->k; j++) {
		for (uint32_t i = 0; i < m->lists[j]->n; i++) {
			struct binding *b = m->lists[j]->b[i];
			struct binding_counters *bc = mq ? &b->qc[q].c : &b->c;

			CTR(mq, bc->packets, n);
			CTR(mq, bc->bytes, bytes);
		}
	}
	count_outcome(c, MALFORMED_NONE, m->k > 0, m->depth, m->node, n, q);
	return true;
}

/*
 * The binding lists on the path of a frame of @depth and @key (frame_path())
 * into @lists, *@k of them, deepest first; returns the deepest level of the
 * path where the tree has a node, looked for from the bottom: the nodes
 * above one that exists exist too, and are reached through its parent
 * links. The frame's key is built once, at its depth; a level up is a mask
 * of it.
 */
static inline __attribute__((always_inline)) unsigned
path_lists(struct stack *s, unsigned depth, uint64_t key, struct dnode **lists, unsigned *k)
{
	struct dnode *d = NULL;
	unsigned node;

	for (node = depth; node > LEVEL_ROOT; node--, key = parent_key(key)) {
		d = tab_find(s, key);
		if (d && d->refs)
			break;
	}
	if (node > LEVEL_ROOT) {
		if (d->n)
			lists[(*k)++] = d;
		/* Only bindings at the middle levels can be above it (most ports have none). */
		while (s->n_mid && d->up) {
			d = &s->tab[d->up - 1];
			if (d->n)
				lists[(*k)++] = d;
		}
	}
	if (s->root.n)
		lists[(*k)++] = &s->root;
	return node;
}

static void dispatch_rx(struct stack *s, struct port *port, const uint8_t *frame, size_t len,
			unsigned rx, unsigned q, bool mq);

/*
 * Parses and dispatches one frame read by queue @q: 0 is the main loop
 * (stack_input(), where @q is a constant and this compiles to the
 * single-queue dispatcher), 1..N-1 a worker (stack_queue_input(), with
 * the port paused for the main thread: queue.h). A frame the port says
 * something of (@rx, enum port_rx: truncated, or cut from a super-frame)
 * takes dispatch_rx(), @special, so that a plain frame pays nothing for
 * what they need. What it decides of the lead of a train (PORT_RX_LEAD)
 * is kept for the rest (train()).
 */
static inline __attribute__((always_inline)) void dispatch(struct stack *s, struct port *port,
							   const uint8_t *frame, size_t len,
							   unsigned rx, const unsigned q,
							   const bool mq, const bool special)
{
	struct stack_lane *lane = q ? &s->lanes[q - 1] : NULL;
	struct stack_counters *c = q ? &lane->c : &s->c;
	const struct port_config *pc = port_config(port);
	struct dnode *lists[LEVEL_COUNT];
	struct frame_info fi;
	struct dispatch_ctx dc;
	unsigned depth, node, k = 0;
	uint64_t key;
	bool bad;

	if (!special && rx) {
		dispatch_rx(s, port, frame, len, rx, q, mq);
		return;
	}
	if (special && (rx & PORT_RX_TRUNCATED)) {
		/* The tail is lost: nothing downstream could trust its lengths. */
		CTR(q, c->malformed[MAL_truncated], 1);
		return;
	}
	frame_parse(frame, len, portcfg_frame_link(pc),
		    (pc->strict ? PARSE_STRICT : 0) |
			    (special && (rx & PORT_RX_L4_CSUM_OK) ? PARSE_L4_CSUM_OK : 0),
		    &fi);
	bad = count_checksums(c, &fi, q);
	if (fi.fragment)
		CTR(q, c->fragments, 1);
	depth = frame_path(&fi, &key);

	/* What taps and handlers see: count bindings have no run() and need none of it. */
	if (s->taps || s->n_run) {
		dc = (struct dispatch_ctx){
			.port = port,
			.frame = frame,
			.len = len,
			.fi = &fi,
			/* A worker never touches the ring, the shared scratch or other ports. */
			.ring = q ? NULL : s->ring,
			.scratch = q ? lane->scratch : s->env->scratch,
			.lookup = !q && s->env->lookup ? s->env->lookup : lookup_none,
			.lookup_arg = s->env->lookup_arg,
			.queue = q,
		};
		if (q && s->taps)
			lane_defer(lane, NULL, &dc);
		else
			for (struct stack_tap *t = s->taps; t; t = t->next)
				t->frame(t, &dc);
	}
	node = path_lists(s, depth, key, lists, &k);
	if (k)
		run_lists(lists, k, &dc, len, q, mq, lane);
	count_outcome(c, fi.malformed, k > 0, depth, node, 1, q);
	if (special && (rx & PORT_RX_LEAD)) {
		struct dispatch_memo *m = q ? &lane->memo : &s->memo;

		for (unsigned i = 0; i < k; i++)
			m->lists[i] = lists[i];
		m->k = k;
		m->depth = depth;
		m->node = node;
		m->clean = !bad && !fi.fragment && fi.malformed == MALFORMED_NONE;
	}
}

/* Out of line: the frames of super-frames, and truncated ones. */
static __attribute__((noinline)) void dispatch_rx(struct stack *s, struct port *port,
						  const uint8_t *frame, size_t len, unsigned rx,
						  unsigned q, bool mq)
{
	dispatch(s, port, frame, len, rx, q, mq, true);
}

void stack_input(struct port *port, const uint8_t *frame, size_t len, unsigned rx, void *arg)
{
	dispatch(arg, port, frame, len, rx, 0, false, false);
}

/*
 * Queue 0 of a multi-queue port: the main loop counts its bindings' frames
 * in their queue-0 block (b->qc[0], a cache line of its own), not in b->c,
 * which shares lines with what the workers read of the binding.
 */
static void stack_input_mq(struct port *port, const uint8_t *frame, size_t len, unsigned rx,
			   void *arg)
{
	dispatch(arg, port, frame, len, rx, 0, true, false);
}

bool stack_train(struct port *port, uint64_t n, uint64_t bytes, void *arg)
{
	(void)port;
	return train(arg, n, bytes, 0, false);
}

static bool stack_train_mq(struct port *port, uint64_t n, uint64_t bytes, void *arg)
{
	(void)port;
	return train(arg, n, bytes, 0, true);
}

static bool stack_queue_train(void *arg, unsigned q, uint64_t n, uint64_t bytes)
{
	return train(arg, n, bytes, q, true);
}

bool stack_queue_input(void *arg, unsigned q, const uint8_t *frame, size_t len, unsigned rx)
{
	struct stack *s = arg;
	struct stack_lane *l = &s->lanes[q - 1];

	l->pending = false;
	dispatch(s, s->port, frame, len, rx, q, true, false);
	return l->pending;
}

/* In the main loop: runs what worker @q handed off, as the main loop would have. */
static void lane_drain(struct stack *s, unsigned q)
{
	struct stack_lane *l = &s->lanes[q - 1];
	struct deferred *d;
	size_t n;

	while ((d = qring_peek(l->ring, &n))) {
		struct dispatch_ctx dc = {
			.port = s->port,
			.frame = d->frame,
			.len = d->len,
			.fi = &d->fi,
			.ts = d->ts,
			.ring = s->ring,
			.scratch = s->env->scratch,
			.lookup = s->env->lookup ? s->env->lookup : lookup_none,
			.lookup_arg = s->env->lookup_arg,
		};

		/* A stack without a port (being moved or freed) has nobody to run for. */
		if (s->port && d->b && d->b->ops->run(d->b, &dc) < 0)
			d->b->c.errors++;
		else if (s->port && !d->b)
			for (struct stack_tap *t = s->taps; t; t = t->next)
				t->frame(t, &dc);
		qring_pop(l->ring);
	}
}

void stack_queue_drain(void *arg, unsigned q)
{
	lane_drain(arg, q);
}
