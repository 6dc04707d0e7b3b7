// SPDX-License-Identifier: MIT
/*
 * The port registry and its transactions: kernel first, state file second,
 * undo on failure. Each port comes with its protocol stack (bindings,
 * data-plane counters, capture ring); both are kept in a small array in
 * creation order (a few dozen at most, looked up by name on the control
 * path only).
 */
#include "portset.h"

#include <errno.h>
#include <event2/event.h>
#include <linux/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bindcfg.h"
#include "events.h"
#include "log.h"
#include "stack.h"
#include "state.h"

struct entry {
	struct port *port;
	struct stack *stack;
	struct event_port shown; /* the port as its last event showed it */
	struct events_rate rate; /* its counter snapshots */
	uint64_t version;	 /* of its last configuration change: the port's ETag */
};

struct portset {
	struct port_env env;
	struct stack_env senv;
	char *state_path;
	int state_lock; /* the state file's lock (state_lock()), -1 before the restore */
	unsigned max_ports;
	size_t n;
	struct entry *e;
	struct events *events;	/* NULL: nobody watches */
	struct event *counters; /* the counter-snapshot timer */
	uint64_t counters_ms;
	uint64_t version; /* the configuration version (portset_version()) */
	bool held;	  /* saves wait for portset_save() (portset_hold()) */
};

static struct port *lookup(void *arg, const char *name)
{
	return portset_find(arg, name);
}

/* The version of an acknowledged configuration change, recorded by what it changed. */
static uint64_t bump(struct portset *ps)
{
	return ++ps->version;
}

uint64_t portset_version(const struct portset *ps)
{
	return ps->version;
}

/* --- events (events.h): every change a client may watch is posted from here --- */

/* @p as an event shows it; zeroed first, so two views compare with memcmp. */
static void port_view(const struct port *p, struct event_port *v)
{
	const struct link_state *ls = port_link(p);
	const struct port_error *err = port_last_error(p);
	bool open = port_ifindex(p) > 0;

	memset(v, 0, sizeof(*v));
	v->type = port_config(p)->type;
	v->state = port_state(p);
	v->up = open && (ls->flags & IFF_UP);
	v->mtu = open ? ls->mtu : 0;
	v->ifindex = open ? port_ifindex(p) : 0;
	v->drift = port_drift(p);
	v->err = err->err;
	snprintf(v->op, sizeof(v->op), "%s", err->op);
}

static void counters_view(const struct port *p, const struct stack *s, struct event_counters *c)
{
	const struct port_counters *pc = port_counters(p);
	const struct stack_counters *sc = stack_counters(s);

	memset(c, 0, sizeof(*c));
	c->rx_frames = pc->rx_frames;
	c->rx_bytes = pc->rx_bytes;
	c->tx_frames = pc->tx_frames;
	c->tx_bytes = pc->tx_bytes;
	c->truncated = pc->truncated;
	for (int i = 0; i < PORT_ERRNO_SLOTS; i++) {
		c->read_errors += pc->read_errors[i];
		c->write_errors += pc->write_errors[i];
	}
	c->matched = sc->matched;
	for (int i = 0; i < LEVEL_COUNT; i++)
		c->unmatched += sc->unmatched[i];
	for (int i = 0; i < MALFORMED_COUNT; i++)
		c->malformed += sc->malformed[i];
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* What the next events of @e are compared with: the port and its counters as they are now. */
static void entry_watch(struct entry *e)
{
	struct event_counters c;

	port_view(e->port, &e->shown);
	counters_view(e->port, e->stack, &c);
	e->rate = (struct events_rate){ .digest = events_counters_digest(&c), .sent = true };
}

static void post_port(struct portset *ps, struct entry *e, enum event_kind kind)
{
	struct event ev = { .kind = kind };

	if (!ps->events)
		return;
	snprintf(ev.port, sizeof(ev.port), "%s", port_name(e->port));
	if (kind != EVENT_PORT_DELETED) {
		port_view(e->port, &ev.u.port);
		ev.u.port.version = e->version;
		e->shown = ev.u.port;
	}
	events_post(ps->events, &ev);
}

/* Member by member: the struct has padding, which memcmp() would compare too. */
static bool event_port_same(const struct event_port *a, const struct event_port *b)
{
	return a->type == b->type && a->state == b->state && a->up == b->up && a->mtu == b->mtu &&
	       a->ifindex == b->ifindex && a->drift == b->drift && a->err == b->err &&
	       strcmp(a->op, b->op) == 0;
}

/* A port_changed event, when @e looks different from its last event. */
static void post_if_changed(struct portset *ps, struct entry *e)
{
	struct event_port now;

	if (!ps->events)
		return;
	port_view(e->port, &now);
	if (!event_port_same(&now, &e->shown))
		post_port(ps, e, EVENT_PORT_CHANGED);
}

static void post_binding(struct portset *ps, const struct port *p, enum event_kind kind,
			 const struct binding *b)
{
	struct event ev = { .kind = kind };

	if (!ps->events)
		return;
	snprintf(ev.port, sizeof(ev.port), "%s", port_name(p));
	binding_config_get(b, &ev.u.binding);
	events_post(ps->events, &ev);
}

static struct entry *entry_of(struct portset *ps, const struct port *p)
{
	for (size_t i = 0; i < ps->n; i++)
		if (ps->e[i].port == p)
			return &ps->e[i];
	return NULL;
}

/* A port's own state change (a read error, its interface deleted). */
static void on_port_event(struct port *p, enum port_event what, void *arg)
{
	struct portset *ps = arg;
	struct entry *e = entry_of(ps, p);

	(void)what;
	if (e)
		post_if_changed(ps, e);
}

/*
 * Counter snapshots, while someone watches: a port's counters are posted
 * when they changed, at most once per interval.
 */
static void on_counters(evutil_socket_t fd, short what, void *arg)
{
	struct portset *ps = arg;
	uint64_t now = mono_ms();

	(void)fd;
	(void)what;
	if (!events_subscribers(ps->events))
		return;
	for (size_t i = 0; i < ps->n; i++) {
		struct entry *e = &ps->e[i];
		struct event ev = { .kind = EVENT_COUNTERS };

		counters_view(e->port, e->stack, &ev.u.counters);
		if (!events_rate_due(&e->rate, events_counters_digest(&ev.u.counters), now,
				     ps->counters_ms))
			continue;
		snprintf(ev.port, sizeof(ev.port), "%s", port_name(e->port));
		events_post(ps->events, &ev);
	}
}

int portset_set_events(struct portset *ps, struct events *ev, unsigned counters_ms)
{
	struct timeval tv = { .tv_sec = counters_ms / 1000,
			      .tv_usec = (suseconds_t)(counters_ms % 1000) * 1000 };

	ps->events = ev;
	ps->counters_ms = counters_ms;
	for (size_t i = 0; i < ps->n; i++)
		entry_watch(&ps->e[i]);
	if (!ps->env.base || !ev || !counters_ms)
		return 0;
	ps->counters = event_new(ps->env.base, -1, EV_PERSIST, on_counters, ps);
	if (!ps->counters || event_add(ps->counters, &tv) < 0)
		return -ENOMEM;
	return 0;
}

struct portset *portset_new(struct event_base *base, struct port_io io, const char *state_path,
			    unsigned max_ports)
{
	struct portset *ps = calloc(1, sizeof(*ps));
	struct timespec now;

	if (!ps)
		return NULL;
	ps->state_lock = -1;
	ps->env.base = base;
	ps->env.io = io;
	ps->env.on_event = on_port_event;
	ps->env.event_arg = ps;
	ps->max_ports = max_ports ? max_ports : PORTSET_DEFAULT_MAX;
	ps->senv.ring_bytes = CAPTURE_RING_DEFAULT;
	ps->senv.max_bindings = PORTSET_DEFAULT_MAX_BINDINGS;
	ps->senv.lookup = lookup;
	ps->senv.lookup_arg = ps;
	/*
	 * Seeded from the wall clock in microseconds: a version is never
	 * handed out twice across restarts (each change writes and fsyncs the
	 * state file, far slower than one per microsecond), so an ETag a client
	 * kept from an earlier run of paird never matches by accident. Not
	 * nanoseconds: the "version" members of the JSON bodies must stay below
	 * 2^53 for JavaScript clients (the dashboard), which read numbers as
	 * doubles; microseconds do until the year 2255.
	 */
	clock_gettime(CLOCK_REALTIME, &now);
	ps->version = (uint64_t)now.tv_sec * 1000000u + (uint64_t)now.tv_nsec / 1000u;
	ps->e = calloc(ps->max_ports, sizeof(*ps->e));
	ps->senv.scratch = malloc(PORT_FRAME_MAX);
	ps->senv.budget = capture_budget_new(CAPTURE_MEMORY_DEFAULT);
	if (!ps->e || !ps->senv.scratch || !ps->senv.budget ||
	    (state_path && !(ps->state_path = strdup(state_path)))) {
		portset_free(ps);
		return NULL;
	}
	return ps;
}

int portset_set_dataplane(struct portset *ps, size_t capture_memory, size_t ring_bytes,
			  unsigned max_bindings)
{
	struct capture_budget *b;

	if (ps->n)
		return -EBUSY;
	b = capture_budget_new(capture_memory);
	if (!b)
		return -ENOMEM;
	capture_budget_free(ps->senv.budget);
	ps->senv.budget = b;
	ps->senv.ring_bytes = ring_bytes < capture_memory ? ring_bytes : capture_memory;
	ps->senv.max_bindings = max_bindings;
	return 0;
}

void portset_set_share(struct portset *ps, struct loopshare *ls)
{
	ps->env.share = ls;
}

uint8_t *portset_scratch(const struct portset *ps)
{
	return ps->senv.scratch;
}

const struct capture_budget *portset_budget(const struct portset *ps)
{
	return ps->senv.budget;
}

void portset_adopt_state_lock(struct portset *ps, int fd)
{
	if (ps->state_lock >= 0)
		close(ps->state_lock);
	ps->state_lock = fd;
}

size_t portset_ring_bytes(const struct portset *ps)
{
	return ps->senv.ring_bytes;
}

static void entry_free(struct entry *e)
{
	/* The stack first: it detaches itself from the port's sink. */
	stack_free(e->stack);
	port_free(e->port);
}

void portset_free(struct portset *ps)
{
	if (!ps)
		return;
	if (ps->counters)
		event_free(ps->counters);
	for (size_t i = 0; i < ps->n; i++)
		entry_free(&ps->e[i]);
	capture_budget_free(ps->senv.budget);
	free(ps->senv.scratch);
	free(ps->e);
	free(ps->state_path);
	if (ps->state_lock >= 0)
		close(ps->state_lock);
	free(ps);
}

size_t portset_count(const struct portset *ps)
{
	return ps->n;
}

struct port *portset_at(const struct portset *ps, size_t i)
{
	return i < ps->n ? ps->e[i].port : NULL;
}

static ssize_t index_of(const struct portset *ps, const char *name)
{
	for (size_t i = 0; i < ps->n; i++)
		if (strcmp(port_name(ps->e[i].port), name) == 0)
			return (ssize_t)i;
	return -1;
}

struct port *portset_find(const struct portset *ps, const char *name)
{
	ssize_t i = index_of(ps, name);

	return i < 0 ? NULL : ps->e[i].port;
}

uint64_t portset_port_version(const struct portset *ps, const struct port *p)
{
	for (size_t i = 0; i < ps->n; i++)
		if (ps->e[i].port == p)
			return ps->e[i].version;
	return 0;
}

struct stack *portset_stack(const struct portset *ps, const struct port *p)
{
	for (size_t i = 0; i < ps->n; i++)
		if (ps->e[i].port == p)
			return ps->e[i].stack;
	return NULL;
}

static void insert_at(struct portset *ps, size_t i, struct entry e)
{
	memmove(&ps->e[i + 1], &ps->e[i], (ps->n - i) * sizeof(*ps->e));
	ps->e[i] = e;
	ps->n++;
	entry_watch(&ps->e[i]);
}

static struct entry remove_at(struct portset *ps, size_t i)
{
	struct entry e = ps->e[i];

	memmove(&ps->e[i], &ps->e[i + 1], (ps->n - i - 1) * sizeof(*ps->e));
	ps->n--;
	return e;
}

/*
 * A kernel errno such as ENXIO or ENODEV met while opening or configuring
 * a port would read as 404, "no such port", on a path that names one. Only
 * a missing device to attach to is a 404; anything else is the kernel's.
 */
static void kernel_not_found(struct fault *f, const struct port_config *cfg)
{
	if (f->kind == FAULT_NOT_FOUND && !(cfg->attach && strcmp(f->field, "name") == 0))
		f->kind = FAULT_KERNEL;
}

/* A port and a fresh stack for it, or NULL with @f filled and nothing left. */
static int entry_open(struct portset *ps, const struct port_config *cfg, struct entry *e,
		      struct fault *f)
{
	struct port_config want = *cfg;

	/*
	 * A device paird creates starts at MTU 1500 (and up, port_open()):
	 * its configuration says so, so that it reads the same in a port's
	 * "config" as after a PUT, which asks for 1500 when it names no MTU
	 * (put_target()), and a PUT of what GET shows changes nothing.
	 */
	if (!want.attach && !want.has_mtu) {
		want.has_mtu = true;
		want.mtu = 1500;
	}
	e->port = port_open(&ps->env, &want, f);
	if (!e->port) {
		kernel_not_found(f, cfg);
		return fault_ret(f);
	}
	e->stack = stack_new(&ps->senv, e->port);
	if (!e->stack) {
		port_free(e->port);
		return fault_set(f, FAULT_UNAVAILABLE, ENOMEM, NULL, "out of memory");
	}
	return 0;
}

int portset_snapshot(const struct portset *ps, struct state_doc *out)
{
	struct binding *b;

	out->n_ports = 0;
	out->ports = calloc(ps->n ? ps->n : 1, sizeof(*out->ports));
	if (!out->ports)
		return -ENOMEM;
	for (size_t i = 0; i < ps->n; i++) {
		const struct entry *e = &ps->e[i];
		struct state_port *sp = &out->ports[out->n_ports++];

		sp->cfg = *port_config(e->port);
		sp->has_next_id = true;
		/*
		 * 0 is where the count wrapped after id UINT32_MAX: no file may
		 * hold it, and 1 means the same to the stack (the lowest free id).
		 */
		sp->next_binding_id = stack_next_id(e->stack) ? stack_next_id(e->stack) : 1;
		if (!stack_count(e->stack))
			continue;
		/*
		 * Borrowed, not copied: a save holds a pointer per binding.
		 * sp->borrowed holds pointers: sizeof(*sp->borrowed) is a
		 * pointer's size, as meant.
		 */
		// NOLINTNEXTLINE(bugprone-sizeof-expression)
		sp->borrowed = calloc(stack_count(e->stack), sizeof(*sp->borrowed));
		if (!sp->borrowed) {
			state_doc_free(out);
			return -ENOMEM;
		}
		for (size_t j = 0; (b = stack_at(e->stack, j)); j++)
			sp->borrowed[sp->n_bindings++] = &b->cfg;
	}
	return 0;
}

/* Writes the state file; @f says which file and why when it cannot. */
static int save_doc(struct portset *ps, struct fault *f)
{
	struct state_doc d;
	int ret;

	if (portset_snapshot(ps, &d) < 0)
		return fault_set(f, FAULT_UNAVAILABLE, ENOMEM, NULL, "out of memory");
	ret = state_write(ps->state_path, &d, f);
	state_doc_free(&d);
	return ret;
}

/* Persists a change; on failure @f tells the client the change was not made. */
static int save(struct portset *ps, struct fault *f)
{
	struct fault sf = FAULT_INIT;
	int ret;

	if (!ps->state_path || ps->held)
		return 0;
	ret = save_doc(ps, &sf);
	if (ret < 0) {
		/* The log says which file and why; the client, what it means for it. */
		log_error("state file not written, change undone: %s", sf.detail);
		/* Through fault_set(): a fault already recorded stays the one reported. */
		fault_set(f, FAULT_INTERNAL, sf.err, sf.field,
			  "the change could not be saved to the state file (%s), so it was not "
			  "made; the log has the details",
			  strerror(sf.err));
	}
	return ret;
}

void portset_hold(struct portset *ps, bool hold)
{
	ps->held = hold;
}

int portset_save(struct portset *ps, struct fault *f)
{
	bool held = ps->held;
	int ret;

	ps->held = false;
	ret = save(ps, f);
	ps->held = held;
	return ret;
}

const struct port_env *portset_env(const struct portset *ps)
{
	return &ps->env;
}

unsigned portset_max_ports(const struct portset *ps)
{
	return ps->max_ports;
}

unsigned portset_max_bindings(const struct portset *ps)
{
	return ps->senv.max_bindings;
}

static int check_room(const struct portset *ps, const char *name, struct fault *f)
{
	if (index_of(ps, name) >= 0)
		return fault_set(f, FAULT_CONFLICT, EEXIST, "name", "port %s already exists", name);
	if (ps->n >= ps->max_ports)
		return fault_set(f, FAULT_LIMIT, ENOSPC, NULL,
				 "paird holds %u ports, its limit (--max-ports)", ps->max_ports);
	return 0;
}

int portset_create(struct portset *ps, const struct port_config *cfg, struct port **out,
		   struct fault *f)
{
	struct entry e = { 0 };
	int ret;

	/* -EEXIST for a taken name, -ENOSPC at --max-ports: the fault's own errno. */
	ret = check_room(ps, cfg->name, f);
	if (ret < 0)
		return ret;
	ret = portcfg_check_held(cfg, NULL, f);
	if (ret < 0)
		return ret;
	ret = entry_open(ps, cfg, &e, f);
	if (ret < 0)
		return ret;
	insert_at(ps, ps->n, e);
	if (save(ps, f) < 0) {
		remove_at(ps, ps->n - 1);
		port_unconfigure(e.port);
		entry_free(&e);
		return -EIO;
	}
	ps->e[ps->n - 1].version = bump(ps);
	post_port(ps, &ps->e[ps->n - 1], EVENT_PORT_CREATED);
	if (out)
		*out = e.port;
	return 0;
}

/*
 * Undoes a successful port_reconfigure() away from @old. port_reconfigure()
 * leaves alone what its target does not mention, and @old may not mention
 * what the change set (a port created without "mtu" whose MTU a PATCH set):
 * those go back to the link as it was @before, then @old is the
 * configuration again.
 */
static void reconfigure_back(struct port *p, const struct port_config *old,
			     const struct link_state *before)
{
	struct port_config back = *old;
	struct fault ignored = FAULT_INIT;
	struct ip_prefix strays[PORT_KADDR_MAX];
	/* The addresses found beside the configuration go back too (taken before they move). */
	unsigned n = port_strays_removed(p, strays, PORT_KADDR_MAX);

	if (!back.has_up) {
		back.has_up = true;
		back.up = before->flags & IFF_UP;
	}
	if (!back.has_mtu) {
		back.has_mtu = true;
		back.mtu = before->mtu;
	}
	if (!back.has_mac && before->has_mac) {
		back.has_mac = true;
		memcpy(back.mac, before->mac, 6);
	}
	if (!back.has_addresses) {
		back.has_addresses = true;
		back.n_addrs = 0;
	}
	if (port_reconfigure(p, &back, &ignored) < 0)
		log_error("port %s: could not undo a link change: %s", old->name, ignored.detail);
	port_reconfigure(p, old, &ignored);
	port_addrs_restore(p, strays, n);
}

void portset_link_back(struct portset *ps, struct port *p, const struct port_config *old,
		       const struct link_state *before)
{
	reconfigure_back(p, old, before);
	post_if_changed(ps, entry_of(ps, p));
}

/* The full configuration a PUT asks for, given what the port has now. */
static void put_target(const struct port_config *old, const struct port_config *cfg,
		       struct port_config *want)
{
	*want = *cfg;
	if (!want->attach && !want->has_up) {
		want->has_up = true;
		want->up = true;
	}
	/*
	 * A device paird creates starts at MTU 1500; a PUT without "mtu" asks
	 * for that, and says so in the state file, so a restart brings back
	 * the MTU the client was told about.
	 */
	if (!want->attach && !want->has_mtu) {
		want->has_mtu = true;
		want->mtu = 1500;
	}
	/* PUT replaces: addresses paird added and the new body omits go away. */
	if (!want->has_addresses && old->has_addresses) {
		want->has_addresses = true;
		want->n_addrs = 0;
	}
}

/*
 * The log line of a PUT or PATCH: which fields changed, and how
 * ("port tap0 updated: mtu 1500 -> 1400, addresses"), or that the link was
 * brought back to an unchanged configuration.
 */
static void log_changes(const struct port_config *old, const struct port_config *want)
{
	char what[256];

	portcfg_describe_changes(old, want, what, sizeof(what));
	if (what[0])
		log_info("port %s updated: %s", want->name, what);
	else
		log_info("port %s: link brought back to its configuration", want->name);
}

/* Nothing to do: the configuration is the same and the link is as it says. */
static bool put_noop(const struct port *p, const struct port_config *old,
		     const struct port_config *want)
{
	return !portcfg_changes(old, want) && !port_drift(p) && port_state(p) != PORT_STATE_GONE &&
	       port_state(p) != PORT_STATE_ERROR;
}

/* A PUT that keeps the device: the link changes in place, undone if the save fails. */
static int put_in_place(struct portset *ps, size_t i, const struct port_config *old,
			const struct link_state *before, const struct port_config *want,
			struct port **out, struct fault *f)
{
	struct port *p = ps->e[i].port;

	if (port_reconfigure(p, want, f) < 0) {
		kernel_not_found(f, want);
		return fault_ret(f);
	}
	if (save(ps, f) < 0) {
		reconfigure_back(p, old, before);
		post_if_changed(ps, &ps->e[i]);
		return -EIO;
	}
	ps->e[i].version = bump(ps);
	log_changes(old, want);
	post_port(ps, &ps->e[i], EVENT_PORT_CHANGED);
	if (out)
		*out = p;
	return 0;
}

/*
 * Puts entry @i back after a failed replace. @p is the old port if it kept
 * its record (it never had a device to release): back exactly as it was.
 * Otherwise the old device was released and is opened again as well as we
 * can; its counters start again.
 */
static void replace_undo(struct portset *ps, size_t i, struct port *p,
			 const struct port_config *old)
{
	struct stack *stack = ps->e[i].stack;
	struct fault again = FAULT_INIT;

	if (!p) {
		p = port_open(&ps->env, old, &again);
		if (!p) {
			log_error("port %s: could not be reopened after a failed replace: %s",
				  old->name, again.detail);
			p = port_new_failed(&ps->env, old, &again);
		}
	}
	if (p) {
		ps->e[i].port = p;
		stack_attach(stack, p);
		post_if_changed(ps, &ps->e[i]);
		return;
	}
	log_error("port %s: lost while undoing a failed replace", old->name);
	stack_free(stack);
	remove_at(ps, i);
	if (ps->events) {
		struct event ev = { .kind = EVENT_PORT_DELETED };

		snprintf(ev.port, sizeof(ev.port), "%s", old->name);
		events_post(ps->events, &ev);
	}
}

/*
 * A PUT that needs another device (type, packet info, attach) or mends a
 * broken port: the old device is released first, since the new one takes
 * its name, and the entry keeps its stack (bindings, capture ring).
 */
static int put_replace(struct portset *ps, size_t i, const struct port_config *old,
		       const struct port_config *want, struct port **out, struct fault *f)
{
	struct stack *stack = ps->e[i].stack;
	struct port *p = ps->e[i].port;
	/* A port that lost its device (gone, or never reopened) has none to give back. */
	bool had_device = port_ifindex(p) > 0;
	struct port *fresh;

	/* The bindings stay with the port; they were checked against its type. */
	if (want->type != old->type && stack_count(stack))
		return fault_set(f, FAULT_CONFLICT, EBUSY, "type",
				 "port %s has %zu binding(s) made for a %s port; delete them "
				 "before changing its type",
				 old->name, stack_count(stack), port_type_name(old->type));
	/*
	 * The only interface of that name is the one paird created for this
	 * port, and it disappears when released: there would be nothing left
	 * to attach to, and the port would have been torn down for nothing.
	 */
	if (want->attach && !old->attach && had_device)
		return fault_set(f, FAULT_CONFLICT, EBUSY, "attach",
				 "the interface %s is the one paird created for this port and "
				 "goes away when released, so there is no device to attach to; "
				 "delete the port and create a persistent device first (ip tuntap "
				 "add dev %s mode %s user USER)",
				 old->name, old->name, port_type_name(want->type));
	/* The new device's queues need room in the stack: found out before anything goes. */
	if (stack_reserve_queues(stack, portcfg_queues(want)) < 0)
		return fault_set(f, FAULT_UNAVAILABLE, ENOMEM, NULL, "out of memory");
	/* A port with no device keeps its record until the new one is saved. */
	stack_attach(stack, NULL);
	if (had_device) {
		port_free(p);
		ps->e[i].port = p = NULL;
	}
	fresh = port_open(&ps->env, want, f);
	if (!fresh) {
		kernel_not_found(f, want);
		goto undo;
	}
	ps->e[i].port = fresh;
	stack_attach(stack, fresh);
	if (save(ps, f) < 0) {
		stack_attach(stack, NULL);
		port_unconfigure(fresh);
		port_free(fresh);
		goto undo;
	}
	port_free(p);
	/* Old records were framed another way (packet info); they go. */
	if (stack_ring(stack) && want->packet_info != old->packet_info)
		capture_ring_clear(stack_ring(stack));
	/* A new device counts from zero: so does its stack, with a new since. */
	stack_restart(stack);
	entry_watch(&ps->e[i]);
	ps->e[i].version = bump(ps);
	post_port(ps, &ps->e[i], EVENT_PORT_CHANGED);
	if (out)
		*out = fresh;
	{
		char what[256];

		portcfg_describe_changes(old, want, what, sizeof(what));
		log_info("port %s: replaced (new device)%s%s", want->name, what[0] ? ": " : "",
			 what);
	}
	return 0;
undo:
	replace_undo(ps, i, p, old);
	return fault_ret(f);
}

int portset_put(struct portset *ps, const struct port_config *cfg, bool *created, struct port **out,
		struct fault *f)
{
	ssize_t i = index_of(ps, cfg->name);
	struct port_config old, want;
	struct link_state before;
	struct port *p;

	*created = i < 0;
	if (i < 0) {
		struct port_config none = { .attach = cfg->attach };

		put_target(&none, cfg, &want);
		return portset_create(ps, &want, out, f);
	}
	p = ps->e[i].port;
	old = *port_config(p);
	before = *port_link(p);
	put_target(&old, cfg, &want);
	if (portcfg_check_held(&want, NULL, f) < 0)
		return -EINVAL;
	/* No kernel operation, no counter reset, no state write, no event, same version. */
	if (put_noop(p, &old, &want)) {
		if (out)
			*out = p;
		return 0;
	}
	if (portcfg_same_device(&old, &want) && port_state(p) != PORT_STATE_GONE &&
	    port_state(p) != PORT_STATE_ERROR)
		return put_in_place(ps, (size_t)i, &old, &before, &want, out, f);
	return put_replace(ps, (size_t)i, &old, &want, out, f);
}

int portset_patch(struct portset *ps, struct port *p, const struct port_config *patch,
		  struct fault *f)
{
	struct port_config old = *port_config(p);
	struct port_config want = old;
	struct link_state before = *port_link(p);

	portcfg_merge(&want, patch);
	if (portcfg_check(&want, f) < 0 || portcfg_check_held(&want, patch, f) < 0)
		return fault_ret(f);
	if (put_noop(p, &old, &want))
		return 0;
	if (port_reconfigure(p, &want, f) < 0) {
		kernel_not_found(f, &want);
		return fault_ret(f);
	}
	if (save(ps, f) < 0) {
		reconfigure_back(p, &old, &before);
		post_if_changed(ps, entry_of(ps, p));
		return -EIO;
	}
	entry_of(ps, p)->version = bump(ps);
	log_changes(&old, &want);
	post_port(ps, entry_of(ps, p), EVENT_PORT_CHANGED);
	return 0;
}

int portset_delete(struct portset *ps, const char *name, struct fault *f)
{
	ssize_t i = index_of(ps, name);
	struct entry e = { 0 };

	if (i < 0)
		return fault_set(f, FAULT_NOT_FOUND, ENOENT, NULL, "no port named %s", name);
	e = remove_at(ps, (size_t)i);
	if (save(ps, f) < 0) {
		insert_at(ps, (size_t)i, e);
		return -EIO;
	}
	bump(ps);
	log_info("port %s: deleted (%s)", name,
		 port_config(e.port)->attach ? "detached; the device stays" : "device removed");
	post_port(ps, &e, EVENT_PORT_DELETED);
	entry_free(&e);
	return 0;
}

/* What a binding needs of other ports: a forward's target must exist and frame alike. */
static int check_forward(const struct portset *ps, const struct port *p,
			 const struct binding_config *cfg, struct fault *f)
{
	const struct port *target;

	if (cfg->kind != HANDLER_FORWARD)
		return 0;
	target = portset_find(ps, cfg->o.forward.port);
	if (!target)
		return fault_set(f, FAULT_INVALID, ENODEV, "options.port", "no port named %s",
				 cfg->o.forward.port);
	if (target == p)
		return fault_set(f, FAULT_INVALID, ELOOP, "options.port",
				 "a port cannot forward to itself");
	if (port_frame_link(target) != port_frame_link(p))
		return fault_set(f, FAULT_INVALID, EPROTOTYPE, "options.port",
				 "%s frames differently (tap, tun, tun with packet info); forward "
				 "joins ports of the same kind",
				 cfg->o.forward.port);
	return 0;
}

int portset_bind(struct portset *ps, struct port *p, const struct binding_config *cfg,
		 struct binding **out, struct fault *f)
{
	struct stack *s = portset_stack(ps, p);
	bool had_ring = stack_ring(s) != NULL;
	struct binding *b;

	if (check_forward(ps, p, cfg, f) < 0)
		return fault_ret(f);
	if (stack_bind(s, cfg, &b, f) < 0)
		return fault_ret(f);
	if (save(ps, f) < 0) {
		struct fault ignored = FAULT_INIT;

		stack_unbind(s, b->cfg.id, &ignored);
		/* The ring this binding reserved goes back to --capture-memory. */
		if (!had_ring)
			stack_ring_release(s);
		return -EIO;
	}
	b->version = bump(ps);
	if (b->cfg.name[0])
		log_info("port %s: binding %u \"%s\" (%s) added", port_name(p), b->cfg.id,
			 b->cfg.name, b->ops->name);
	else
		log_info("port %s: binding %u (%s) added", port_name(p), b->cfg.id, b->ops->name);
	post_binding(ps, p, EVENT_BINDING_CREATED, b);
	if (out)
		*out = b;
	return 0;
}

/*
 * Puts binding @b of @s where the binding it replaced stood: at @at in the
 * list and, with @seq, at the same place in dispatch order (the index runs
 * a node's bindings by seq), as a restart would.
 */
static void move_to(struct stack *s, struct binding *b, size_t at, uint64_t seq)
{
	size_t from;

	stack_detach(s, b->cfg.id, &from);
	b->seq = seq;
	stack_reattach(s, b, at);
}

/*
 * The replace of @old by @cfg: the new binding takes @old's id, name and
 * place in the order, so a client that knew either keeps finding it.
 */
static int bind_replace(struct portset *ps, struct port *p, struct binding *old,
			const struct binding_config *cfg, struct binding **out, struct fault *f)
{
	struct stack *s = portset_stack(ps, p);
	bool had_ring = stack_ring(s) != NULL;
	struct binding_config want = *cfg;
	struct binding *b;
	size_t at;

	if (check_forward(ps, p, cfg, f) < 0)
		return fault_ret(f);
	want.id = old->cfg.id;
	memcpy(want.name, old->cfg.name, sizeof(want.name));
	stack_detach(s, old->cfg.id, &at);
	if (stack_bind(s, &want, &b, f) < 0)
		goto undo;
	move_to(s, b, at, old->seq);
	if (save(ps, f) < 0) {
		stack_detach(s, b->cfg.id, &at);
		stack_binding_free(b);
		goto undo;
	}
	b->version = bump(ps);
	log_info("port %s: binding %u%s%s%s replaced (%s -> %s)", port_name(p), b->cfg.id,
		 b->cfg.name[0] ? " \"" : "", b->cfg.name, b->cfg.name[0] ? "\"" : "",
		 old->ops->name, b->ops->name);
	post_binding(ps, p, EVENT_BINDING_DELETED, old);
	post_binding(ps, p, EVENT_BINDING_CREATED, b);
	stack_binding_free(old);
	*out = b;
	return 0;
undo:
	/* Back where it stood, counters and all; a ring reserved for the new one goes back. */
	stack_reattach(s, old, at);
	if (!had_ring)
		stack_ring_release(s);
	return fault_ret(f);
}

int portset_bind_put(struct portset *ps, struct port *p, const struct binding_config *cfg,
		     bool *created, bool *changed, struct binding **out, struct fault *f)
{
	struct stack *s = portset_stack(ps, p);
	struct binding *old, *b = NULL;
	int ret;

	*created = false;
	*changed = false;
	if (cfg->name[0])
		old = stack_find_name(s, cfg->name);
	else if (cfg->id)
		old = stack_find(s, cfg->id);
	else
		old = NULL;
	if (!old && !cfg->name[0] && cfg->id)
		return fault_set(f, FAULT_NOT_FOUND, ENOENT, NULL, "port %s has no binding %u",
				 port_name(p), cfg->id);
	if (old && bindcfg_same(&old->cfg, cfg)) {
		/* Nothing to do, and nothing done: same counters, same version, no event. */
		b = old;
		ret = 0;
	} else if (old) {
		ret = bind_replace(ps, p, old, cfg, &b, f);
		*changed = ret == 0;
	} else {
		ret = portset_bind(ps, p, cfg, &b, f);
		*created = *changed = ret == 0;
	}
	if (ret == 0 && out)
		*out = b;
	return ret;
}

struct binding *portset_find_binding(const struct portset *ps, const struct port *p,
				     const char *key)
{
	struct stack *s = portset_stack(ps, p);
	size_t len = strspn(key, "0123456789");
	unsigned long long id;

	if (!s || !key[0])
		return NULL;
	if (key[len] != '\0')
		return stack_find_name(s, key);
	/* All digits: an id, 1..UINT32_MAX in at most 10 digits. */
	if (len > 10)
		return NULL;
	id = strtoull(key, NULL, 10);
	if (id < 1 || id > UINT32_MAX)
		return NULL;
	return stack_find(s, (uint32_t)id);
}

int portset_unbind(struct portset *ps, struct port *p, uint32_t id, struct fault *f)
{
	struct stack *s = portset_stack(ps, p);
	struct binding *b;
	size_t at;

	b = stack_detach(s, id, &at);
	if (!b)
		return fault_set(f, FAULT_NOT_FOUND, ENOENT, NULL, "port %s has no binding %u",
				 port_name(p), id);
	if (save(ps, f) < 0) {
		/* Back where it stood, counters and all: nothing changed. */
		stack_reattach(s, b, at);
		return -EIO;
	}
	bump(ps);
	post_binding(ps, p, EVENT_BINDING_DELETED, b);
	stack_binding_free(b);
	log_info("port %s: binding %u deleted", port_name(p), id);
	return 0;
}

/* Recreates ports[@i] of the state file with its bindings, as @sp describes them. */
static int restore_port(struct portset *ps, const struct state_port *sp, size_t i, struct fault *f)
{
	struct fault pf = FAULT_INIT;
	struct entry e = { 0 };

	if (check_room(ps, sp->cfg.name, &pf) < 0)
		return fault_set(f, FAULT_INVALID, EINVAL, "name", "state file %s: ports[%zu]: %s",
				 ps->state_path, i, pf.detail);
	/*
	 * A state file written before the IPv6 MTU rule (or the rule of an
	 * IPv6 address once) may hold a port the API now refuses: it is kept
	 * in state error with the rule as its reason, not opened
	 * half-configured and not dropped.
	 */
	if (portcfg_check_held(&sp->cfg, NULL, &pf) < 0 || entry_open(ps, &sp->cfg, &e, &pf) < 0) {
		/* Kept in state error, with its bindings, rather than dropped. */
		log_error("port %s: cannot be restored: %s", sp->cfg.name, pf.detail);
		e.port = port_new_failed(&ps->env, &sp->cfg, &pf);
		e.stack = e.port ? stack_new(&ps->senv, e.port) : NULL;
		if (!e.stack) {
			port_free(e.port);
			return fault_set(f, FAULT_UNAVAILABLE, ENOMEM, NULL, "out of memory");
		}
	}
	e.version = bump(ps);
	insert_at(ps, ps->n, e);
	for (size_t j = 0; j < sp->n_bindings; j++) {
		struct binding *b;

		pf = (struct fault)FAULT_INIT;
		if (stack_bind(e.stack, &sp->bindings[j], &b, &pf) < 0)
			return state_binding_fault(f, ps->state_path, i, j, &pf);
		b->version = bump(ps);
	}
	if (sp->has_next_id)
		stack_set_next_id(e.stack, sp->next_binding_id);
	return 0;
}

/*
 * The start-up line: a port kept in state error was not restored, and the
 * operator reading the log must not be told it was.
 */
static void log_restored(const struct portset *ps)
{
	char failed[512] = "";
	size_t nfailed = 0, at = 0;
	char nb[16];

	for (size_t i = 0; i < ps->n; i++) {
		const struct port *p = ps->e[i].port;
		const struct port_error *e = port_last_error(p);
		int r;

		if (port_state(p) != PORT_STATE_ERROR)
			continue;
		/* The reason has a line of its own, logged when the open failed. */
		r = snprintf(failed + at, sizeof(failed) - at, "%s%s (%s)", nfailed ? ", " : "",
			     port_name(p), errno_name(e->err, nb));
		nfailed++;
		if (r > 0)
			at = (size_t)r < sizeof(failed) - at ? at + (size_t)r : sizeof(failed) - 1;
	}
	if (!nfailed)
		log_info("state file %s: %zu port(s) restored", ps->state_path, ps->n);
	else
		log_warn("state file %s: %zu of %zu port(s) restored, %zu in error: %s",
			 ps->state_path, ps->n - nfailed, ps->n, nfailed, failed);
}

int portset_restore(struct portset *ps, struct fault *f)
{
	const struct state_limits lim = { ps->max_ports, ps->senv.max_bindings };
	struct state_doc d = { 0 };
	json_t *doc = NULL;
	int ret;

	if (!ps->state_path)
		return 0;
	/*
	 * Before the file is read (another paird on it may rewrite it
	 * meanwhile) and before anything is written beside it: the writable
	 * check makes and removes TARGET.tmp, the name a running paird's save
	 * writes through before its rename, which could then fail or put an
	 * empty file in the state file's place.
	 */
	if (ps->state_lock < 0) {
		ret = state_lock(ps->state_path, f);
		if (ret < 0)
			return ret;
		ps->state_lock = ret;
	}
	ret = state_load(ps->state_path, &doc, f);
	if (ret == -ENOENT && f->kind == FAULT_NONE) {
		ret = state_check_writable(ps->state_path, f);
		if (ret < 0)
			return ret;
		log_info("state file %s does not exist yet; starting with no ports",
			 ps->state_path);
		return save_doc(ps, f);
	}
	if (ret < 0)
		return ret;
	/* Before any port is made: an unwritable directory has its own message. */
	ret = state_check_writable(ps->state_path, f);
	if (ret < 0)
		goto out;
	/* The whole file is read before the first port is made. */
	ret = state_decode(doc, ps->state_path, &lim, &d, f);
	if (ret < 0)
		goto out;
	for (size_t i = 0; i < d.n_ports; i++) {
		ret = restore_port(ps, &d.ports[i], i, f);
		if (ret < 0)
			goto out;
	}
	log_restored(ps);
	ret = save_doc(ps, f);
out:
	state_doc_free(&d);
	json_decref(doc);
	return ret;
}

void portset_link_event(struct portset *ps, const struct link_state *ls, bool deleted)
{
	/* Notifications were lost: nothing the monitor says can be trusted to be complete. */
	if (ls->addr_event && ls->ifindex == 0) {
		for (size_t i = 0; i < ps->n; i++) {
			port_resync(ps->e[i].port);
			post_if_changed(ps, &ps->e[i]);
		}
		return;
	}
	for (size_t i = 0; i < ps->n; i++) {
		struct port *p = ps->e[i].port;

		if (port_ifindex(p) != ls->ifindex || port_state(p) == PORT_STATE_GONE ||
		    port_moved(p))
			continue;
		if (deleted && ls->moved) {
			port_mark_moved(p);
		} else if (deleted) {
			port_mark_gone(p);
		} else {
			/* A link going down or changing MTU may have taken addresses with it. */
			if (!ls->addr_event)
				port_link_update(p, ls);
			port_reconcile(p);
		}
		/* Gone, down, an MTU changed outside, drift: what the watchers see change. */
		post_if_changed(ps, &ps->e[i]);
	}
}
