// SPDX-License-Identifier: MIT
/*
 * Port lifecycle, link configuration with undo, the read loop and writes.
 *
 * Open follows iproute2's tuntap sequence: open the clone device
 * non-blocking and close-on-exec, TUNSETIFF with the type and IFF_NO_PI
 * (IFF_TUN_EXCL when creating, so an existing device is never taken over by
 * accident), read the kernel's name and flags back with TUNGETIFF, switch
 * offloads off (they persist on a device across owners), then configure the
 * link. Any failure undoes what was done, in reverse order.
 */
#include "port.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <string.h>

#include "log.h"
#include "loopshare.h"

/* Not in the uapi headers of kernels before 6.2 (Debian 12 builds with 6.1's). */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif
#define TUN_F_TSO_ALL (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN)
#include "queue.h"
#include "vnet.h"

struct port {
	struct port_config cfg; /* the configuration the link was brought to */
	const struct port_env *env;
	int fd;
	int ifindex;
	unsigned int tun_flags;
	unsigned int offloads; /* TUN_F_* the kernel accepted (vnet_hdr) */
	enum port_state state;
	struct link_state link;
	struct port_counters c;
	struct port_error last;
	struct timespec created;
	struct event *ev;
	port_frame_fn sink;
	port_train_fn train; /* the rest of a train at once (vnet_hdr) */
	void *sink_arg;
	bool sink_reads;   /* port_set_sink_reads() */
	bool moved;	   /* the link moved to another network namespace */
	bool kaddrs_known; /* kaddrs holds the kernel's answer */
	unsigned n_kaddrs; /* administrator addresses the kernel reported, may exceed the array */
	struct ip_prefix kaddrs[PORT_KADDR_MAX];
	/* What the last port_reconfigure() removed beside the configuration (remove_strays()). */
	unsigned n_strays;
	struct ip_prefix strays[PORT_KADDR_MAX];
	/* An attached link as port_open() found it, for port_unconfigure(). */
	struct link_state found;
	bool found_known;
	unsigned n_found;
	struct ip_prefix found_addrs[PORT_KADDR_MAX];
	int in_callback;   /* depth of our own callbacks on the stack */
	bool free_pending; /* port_free() ran inside a callback */
	bool backlog;	   /* the last read turn left frames waiting */
	uint8_t *buf;	   /* the read size: PORT_VNET_READ_MAX or PORT_FRAME_MAX bytes */
	struct vnet_tx vt; /* vnet_hdr: queue 0's writes (vnet.h) */
	/* Ports written to during this port's read turn, holding writes till its end (turn_port). */
	struct port *held_peers, *held_next;
	uint16_t ip_id; /* the next IPv4 identification of queue 0's replies */
	/* Queues 1..N-1 of a multi-queue port (queue.h); NULL with one queue. */
	struct queues *qs;
	struct port_counters *sum; /* port_counters() of a multi-queue port */
};

/* A flag and its name, as the kernel's headers spell it. */
struct flag_name {
	unsigned int flag;
	const char *name;
};

/* The names of the @flags set, in @table's order, at most @max of them into @names. */
static size_t flag_names(const struct flag_name *table, size_t n_table, unsigned int flags,
			 const char **names, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < n_table; i++)
		if ((flags & table[i].flag) && n < max)
			names[n++] = table[i].name;
	return n;
}

static const struct flag_name offload_names[] = {
	{ TUN_F_CSUM, "TUN_F_CSUM" }, { TUN_F_TSO4, "TUN_F_TSO4" },
	{ TUN_F_TSO6, "TUN_F_TSO6" }, { TUN_F_TSO_ECN, "TUN_F_TSO_ECN" },
	{ TUN_F_USO4, "TUN_F_USO4" }, { TUN_F_USO6, "TUN_F_USO6" },
};

size_t port_offload_names(unsigned int offloads, const char **names, size_t max)
{
	return flag_names(offload_names, sizeof(offload_names) / sizeof(offload_names[0]), offloads,
			  names, max);
}

static const struct flag_name tun_flag_names[] = {
	{ IFF_TUN, "IFF_TUN" },
	{ IFF_TAP, "IFF_TAP" },
	{ IFF_NO_PI, "IFF_NO_PI" },
	{ IFF_ONE_QUEUE, "IFF_ONE_QUEUE" },
	{ IFF_VNET_HDR, "IFF_VNET_HDR" },
	{ IFF_MULTI_QUEUE, "IFF_MULTI_QUEUE" },
	{ IFF_PERSIST, "IFF_PERSIST" },
	{ IFF_NAPI, "IFF_NAPI" },
	{ IFF_NAPI_FRAGS, "IFF_NAPI_FRAGS" },
};

size_t port_tun_flag_names(unsigned int flags, const char **names, size_t max)
{
	return flag_names(tun_flag_names, sizeof(tun_flag_names) / sizeof(tun_flag_names[0]), flags,
			  names, max);
}

static const char *const state_names[] = {
	[PORT_STATE_UP] = "up",
	[PORT_STATE_DOWN] = "down",
	[PORT_STATE_ERROR] = "error",
	[PORT_STATE_GONE] = "gone",
};

const char *port_state_name(enum port_state state)
{
	return state_names[state];
}

static const struct port_io_ops *OPS(const struct port *p)
{
	return p->env->io.ops;
}

#define IOCTX(p) ((p)->env->io.ctx)

static void record_error(struct port *p, const char *op, int err, const char *msg)
{
	p->last.err = err;
	snprintf(p->last.op, sizeof(p->last.op), "%s", op);
	snprintf(p->last.message, sizeof(p->last.message), "%s", msg);
	clock_gettime(CLOCK_REALTIME, &p->last.when);
}

static void refresh_state(struct port *p)
{
	if (p->state == PORT_STATE_ERROR || p->state == PORT_STATE_GONE)
		return;
	p->state = (p->link.flags & IFF_UP) ? PORT_STATE_UP : PORT_STATE_DOWN;
}

static struct port *port_alloc(const struct port_env *env, const struct port_config *cfg)
{
	struct port *p = calloc(1, sizeof(*p));
	char who[32];

	if (!p)
		return NULL;
	snprintf(who, sizeof(who), "port %s", cfg->name);
	/* A read's size: a super-frame's only where one may come. */
	p->buf = malloc(cfg->vnet_hdr ? PORT_VNET_READ_MAX : PORT_FRAME_MAX);
	if (!p->buf || (cfg->vnet_hdr && vnet_tx_init(&p->vt, portcfg_frame_link(cfg), who) < 0)) {
		free(p->buf);
		free(p);
		return NULL;
	}
	p->env = env;
	p->fd = -1;
	p->sink_reads = true;
	p->cfg = *cfg;
	clock_gettime(CLOCK_REALTIME, &p->created);
	return p;
}

/* Tells the loop's sharing (loopshare.h) whether frames wait on @p after its turn. */
static void set_backlog(struct port *p, bool backlog)
{
	if (p->backlog == backlog)
		return;
	p->backlog = backlog;
	if (p->env->share)
		loopshare_backlog(p->env->share, backlog ? 1 : -1);
}

/*
 * The port whose read turn this thread is in (the main loop's; a queue
 * worker writes only its own queue, vnet.h), or NULL. Writes to a vnet_hdr
 * port made meanwhile may wait for the turn's end: the turn's own port's
 * (replies), and other ports' (forwards), which the turn's port lists in
 * held_peers and writes out when its turn ends. No port is freed during
 * another's turn (handlers delete none; the API runs between turns), and
 * one that is released while listed is unlisted first.
 */
static __thread struct port *turn_port;

/* Writes out what queue 0 holds (vnet.h). */
static void tx_flush(struct port *p)
{
	if (p->cfg.vnet_hdr)
		vnet_flush(&p->vt, &p->env->io, p->fd, &p->c);
}

/* The end of @p's read turn: what it and the ports it wrote to hold goes now. */
static void turn_end(struct port *p)
{
	p->vt.turn = false;
	if (p->fd >= 0)
		tx_flush(p);
	while (p->held_peers) {
		struct port *peer = p->held_peers;

		p->held_peers = peer->held_next;
		peer->held_next = NULL;
		peer->vt.turn = false;
		tx_flush(peer);
	}
	turn_port = NULL;
}

/* @p is written to during another port's turn: its writes may wait until that turn ends. */
static void turn_join(struct port *p)
{
	p->vt.turn = true;
	p->held_next = turn_port->held_peers;
	turn_port->held_peers = p;
}

/* @p leaves the running turn's list (it is being released). */
static void turn_leave(struct port *p)
{
	if (!turn_port || turn_port == p || !p->vt.turn)
		return;
	for (struct port **at = &turn_port->held_peers; *at; at = &(*at)->held_next)
		if (*at == p) {
			*at = p->held_next;
			p->held_next = NULL;
			p->vt.turn = false;
			return;
		}
}

/* Stops I/O and gives the device back; the memory stays until port_destroy(). */
static void port_release(struct port *p)
{
	set_backlog(p, false);
	if (p->ev)
		event_del(p->ev);
	/*
	 * The workers stop (and are joined) before their fds close; what they
	 * counted joins queue 0's counters, so the port's totals stay.
	 */
	if (p->qs) {
		queues_halt(p->qs);
		for (unsigned q = 1; q <= queues_count(p->qs); q++)
			queues_counters_add(p->qs, q, &p->c);
		queues_free(p->qs);
		p->qs = NULL;
	}
	if (p->fd >= 0) {
		turn_leave(p);
		tx_flush(p);
		OPS(p)->close(IOCTX(p), p->fd);
		p->fd = -1;
	}
}

static void port_destroy(struct port *p)
{
	port_release(p);
	if (p->ev)
		event_free(p->ev);
	vnet_tx_free(&p->vt);
	free(p->buf);
	free(p->sum);
	free(p);
}

void port_free(struct port *p)
{
	if (!p)
		return;
	if (p->in_callback) {
		/* The read loop still holds @p; it frees it on the way out. */
		port_release(p);
		p->free_pending = true;
		return;
	}
	port_destroy(p);
}

/* --- link configuration with undo --- */

enum undo_kind { UNDO_MAC, UNDO_MTU, UNDO_UP, UNDO_ADDR_ADDED, UNDO_ADDR_REMOVED };

struct undo {
	enum undo_kind kind;
	uint32_t mtu;
	int up;
	uint8_t mac[6];
	struct ip_prefix prefix;
};

struct undo_log {
	/* MAC, MTU, up; the configured addresses removed and added; those found beside them. */
	struct undo op[3 + 2 * PORT_ADDR_MAX + PORT_KADDR_MAX];
	unsigned n;
};

static void undo_all(struct port *p, struct undo_log *log)
{
	while (log->n > 0) {
		const struct undo *u = &log->op[--log->n];
		struct link_change ch = { .up = -1 };
		int ret;

		switch (u->kind) {
		case UNDO_MAC:
			ch.mac = u->mac;
			ret = OPS(p)->link_set(IOCTX(p), p->ifindex, &ch);
			break;
		case UNDO_MTU:
			ch.mtu = u->mtu;
			ret = OPS(p)->link_set(IOCTX(p), p->ifindex, &ch);
			break;
		case UNDO_UP:
			ch.up = u->up;
			ret = OPS(p)->link_set(IOCTX(p), p->ifindex, &ch);
			break;
		case UNDO_ADDR_ADDED:
			ret = OPS(p)->addr_set(IOCTX(p), p->ifindex, &u->prefix, false);
			break;
		case UNDO_ADDR_REMOVED:
		default:
			ret = OPS(p)->addr_set(IOCTX(p), p->ifindex, &u->prefix, true);
			break;
		}
		if (ret < 0)
			log_warn("port %s: could not undo a link change: %s", p->cfg.name,
				 strerror(-ret));
	}
}

static bool has_prefix(const struct port_config *cfg, const struct ip_prefix *pfx)
{
	for (unsigned i = 0; i < cfg->n_addrs; i++)
		if (prefix_equal(&cfg->addrs[i], pfx))
			return true;
	return false;
}

static int link_step(struct port *p, const struct link_change *ch, const char *field,
		     struct fault *f)
{
	int ret = OPS(p)->link_set(IOCTX(p), p->ifindex, ch);

	if (ret < 0)
		return fault_errno(f, -ret, field, "the kernel refused to set %s of %s", field,
				   p->cfg.name);
	return 0;
}

static int addr_step(struct port *p, const struct ip_prefix *pfx, bool add, struct fault *f)
{
	char text[PREFIX_STR_MAX];
	int ret = OPS(p)->addr_set(IOCTX(p), p->ifindex, pfx, add);

	/* Already there (attached device) or already gone: the goal holds. */
	if (ret == -EEXIST && add)
		return 1;
	if (ret == -EADDRNOTAVAIL && !add)
		return 1;
	if (ret < 0) {
		prefix_format(pfx, text);
		return fault_errno(f, -ret, "addresses",
				   "the kernel refused to %s address %s %s %s",
				   add ? "add" : "remove", text, add ? "to" : "from", p->cfg.name);
	}
	return 0;
}

/* Reads the link's administrator addresses back from the kernel into p->kaddrs. */
static int addrs_refresh(struct port *p)
{
	int ret = OPS(p)->addr_list(IOCTX(p), p->ifindex, p->kaddrs, PORT_KADDR_MAX);

	p->kaddrs_known = ret >= 0;
	p->n_kaddrs = ret >= 0 ? (unsigned)ret : 0;
	return ret < 0 ? ret : 0;
}

static bool kernel_has(const struct port *p, const struct ip_prefix *pfx)
{
	unsigned n = p->n_kaddrs < PORT_KADDR_MAX ? p->n_kaddrs : PORT_KADDR_MAX;

	for (unsigned i = 0; i < n; i++)
		if (prefix_equal(&p->kaddrs[i], pfx))
			return true;
	return false;
}

/*
 * The kernel flushes a link's IPv6 addresses when it goes down, unless
 * keep_addr_on_down is set; paird sets it on every link it configures.
 * The setting lives with the link's IPv6 state, which an MTU below 1280
 * destroys, so it is set again after each MTU change. Best effort: an
 * address lost anyway is re-added by port_reconcile() and shown as drift.
 */
static void keep_addrs(struct port *p)
{
	int ret = OPS(p)->keep_addrs(IOCTX(p), p->cfg.name);

	if (ret < 0 && ret != -ENOENT)
		log_debug("port %s: cannot set keep_addr_on_down: %s", p->cfg.name, strerror(-ret));
}

static int add_missing(struct port *p, const struct port_config *want, struct undo_log *log,
		       struct fault *f)
{
	struct undo *u;
	int ret;

	/* Diffed against the kernel, not against the last request: lost addresses come back. */
	if (addrs_refresh(p) < 0)
		p->kaddrs_known = false;
	for (unsigned i = 0; i < want->n_addrs; i++) {
		if (p->kaddrs_known && kernel_has(p, &want->addrs[i]))
			continue;
		ret = addr_step(p, &want->addrs[i], true, f);
		if (ret < 0)
			return -1;
		if (ret == 0) {
			u = &log->op[log->n++];
			u->kind = UNDO_ADDR_ADDED;
			u->prefix = want->addrs[i];
		}
	}
	return 0;
}

static int remove_addr(struct port *p, const struct ip_prefix *pfx, struct undo_log *log,
		       struct fault *f)
{
	struct undo *u;
	int ret = addr_step(p, pfx, false, f);

	if (ret == 0) {
		u = &log->op[log->n++];
		u->kind = UNDO_ADDR_REMOVED;
		u->prefix = *pfx;
	}
	return ret < 0 ? -1 : 0;
}

/* The kernel's addresses of @p that neither @want nor the current configuration holds, removed. */
static int remove_strays(struct port *p, const struct port_config *want, struct undo_log *log,
			 struct fault *f)
{
	unsigned n = p->n_kaddrs < PORT_KADDR_MAX ? p->n_kaddrs : PORT_KADDR_MAX;
	struct ip_prefix k[PORT_KADDR_MAX];

	/* A copy: p->kaddrs is the kernel's list as last read, which the loop does not change. */
	memcpy(k, p->kaddrs, n * sizeof(*k));
	for (unsigned i = 0; i < n; i++) {
		if (has_prefix(want, &k[i]) || has_prefix(&p->cfg, &k[i]))
			continue;
		if (remove_addr(p, &k[i], log, f) < 0)
			return -1;
		p->strays[p->n_strays++] = k[i];
	}
	return 0;
}

/*
 * The order keeps IPv6 addresses alive: addresses leave before an MTU
 * change (an MTU below 1280 flushes IPv6 ones, and its undo must find
 * them gone by our hand, to add back), the link goes up or down, and only
 * then are the wanted addresses added, against what the kernel still has.
 */
static int apply_link(struct port *p, const struct port_config *want, struct undo_log *log,
		      struct fault *f)
{
	const struct port_config *cur = &p->cfg;
	struct link_change ch;
	struct undo *u;

	keep_addrs(p);
	if (want->has_mac && (!p->link.has_mac || memcmp(p->link.mac, want->mac, 6) != 0)) {
		ch = (struct link_change){ .up = -1, .mac = want->mac };
		if (link_step(p, &ch, "mac", f) < 0)
			return -1;
		u = &log->op[log->n++];
		u->kind = UNDO_MAC;
		memcpy(u->mac, p->link.mac, 6);
	}
	/*
	 * Remove first: a prefix may move between lengths (/24 → /25). What
	 * the kernel already lost is not removed again: below MTU 1280 the
	 * link has no IPv6 state and removing an IPv6 address fails ENXIO.
	 */
	if (((want->has_addresses && cur->has_addresses) || !want->attach) && addrs_refresh(p) < 0)
		p->kaddrs_known = false;
	for (unsigned i = 0; want->has_addresses && cur->has_addresses && i < cur->n_addrs; i++) {
		if (has_prefix(want, &cur->addrs[i]) ||
		    (p->kaddrs_known && !kernel_has(p, &cur->addrs[i])))
			continue;
		if (remove_addr(p, &cur->addrs[i], log, f) < 0)
			return -1;
	}
	/*
	 * A link paird created holds only what its configuration says
	 * (port_drift()): an address put there outside paird goes too, or
	 * the drift it shows would never end.
	 */
	if (!want->attach && p->kaddrs_known && remove_strays(p, want, log, f) < 0)
		return -1;
	if (want->has_mtu && p->link.mtu != want->mtu) {
		ch = (struct link_change){ .up = -1, .mtu = want->mtu };
		if (link_step(p, &ch, "mtu", f) < 0)
			return -1;
		u = &log->op[log->n++];
		u->kind = UNDO_MTU;
		u->mtu = p->link.mtu;
		keep_addrs(p);
	}
	if (want->has_up && !!(p->link.flags & IFF_UP) != want->up) {
		ch = (struct link_change){ .up = want->up };
		if (link_step(p, &ch, "up", f) < 0)
			return -1;
		u = &log->op[log->n++];
		u->kind = UNDO_UP;
		u->up = !want->up;
	}
	return add_missing(p, want, log, f);
}

static int link_refresh(struct port *p)
{
	struct link_state ls;
	int ret = OPS(p)->link_get(IOCTX(p), p->ifindex, &ls);

	if (ret == 0) {
		/* Workers read the link (a reply's source MAC): changed with them paused. */
		port_pause(p);
		p->link = ls;
		port_resume(p);
		refresh_state(p);
	}
	return ret;
}

int port_reconfigure(struct port *p, const struct port_config *want, struct fault *f)
{
	struct undo_log log = { .n = 0 };
	int ret;

	if (p->state == PORT_STATE_GONE)
		return fault_set(f, FAULT_CONFLICT, ENODEV, NULL,
				 "the interface of port %s no longer exists: PUT the port to "
				 "make it again (a created port) or delete it",
				 p->cfg.name);
	if (p->fd < 0)
		return fault_set(f, FAULT_CONFLICT, EBADF, NULL,
				 "port %s has no open device (state %s); replace it with PUT",
				 p->cfg.name, port_state_name(p->state));
	if (p->moved)
		return fault_set(f, FAULT_CONFLICT, EXDEV, NULL,
				 "the interface of port %s moved to another network namespace; its "
				 "link cannot be configured from here",
				 p->cfg.name);
	p->n_strays = 0;
	ret = link_refresh(p);
	if (ret < 0)
		return fault_errno(f, -ret, NULL, "cannot read the link state of %s", p->cfg.name);
	if (apply_link(p, want, &log, f) < 0) {
		undo_all(p, &log);
		link_refresh(p);
		addrs_refresh(p);
		return fault_ret(f);
	}
	/* Workers read the configuration (strict, framing): changed with them paused. */
	port_pause(p);
	p->cfg = *want;
	port_resume(p);
	link_refresh(p);
	addrs_refresh(p);
	return 0;
}

unsigned port_strays_removed(const struct port *p, struct ip_prefix *out, unsigned max)
{
	unsigned n = p->n_strays < max ? p->n_strays : max;

	memcpy(out, p->strays, n * sizeof(*out));
	return n;
}

void port_addrs_restore(struct port *p, const struct ip_prefix *pfx, unsigned n)
{
	char text[PREFIX_STR_MAX];
	int ret;

	if (p->fd < 0 || p->moved || p->state == PORT_STATE_GONE)
		return;
	for (unsigned i = 0; i < n; i++) {
		ret = OPS(p)->addr_set(IOCTX(p), p->ifindex, &pfx[i], true);
		if (ret < 0 && ret != -EEXIST) {
			prefix_format(&pfx[i], text);
			log_error("port %s: could not put %s back: %s", p->cfg.name, text,
				  strerror(-ret));
		}
	}
	addrs_refresh(p);
}

int port_reconcile(struct port *p)
{
	char text[PREFIX_STR_MAX];
	bool added = false;
	int ret;

	if (p->state == PORT_STATE_GONE || p->state == PORT_STATE_ERROR || p->fd < 0 || p->moved)
		return 0;
	/* The link as the last event reported it; its addresses, asked now. */
	keep_addrs(p);
	ret = addrs_refresh(p);
	if (ret < 0)
		return ret;
	for (unsigned i = 0; i < p->cfg.n_addrs; i++) {
		const struct ip_prefix *pfx = &p->cfg.addrs[i];

		/* Below the IPv6 minimum MTU the kernel holds no IPv6 address: drift it is. */
		if (kernel_has(p, pfx) || (pfx->family == AF_INET6 && p->link.mtu < 1280))
			continue;
		prefix_format(pfx, text);
		ret = OPS(p)->addr_set(IOCTX(p), p->ifindex, pfx, true);
		if (ret < 0 && ret != -EEXIST) {
			log_debug("port %s: cannot add %s back: %s", p->cfg.name, text,
				  strerror(-ret));
			continue;
		}
		if (ret == 0)
			log_info("port %s: address %s was removed outside paird; added back",
				 p->cfg.name, text);
		added = true;
	}
	if (added)
		addrs_refresh(p);
	return 0;
}

int port_resync(struct port *p)
{
	int ret;

	if (p->state == PORT_STATE_GONE || p->fd < 0 || p->moved)
		return 0;
	ret = link_refresh(p);
	/* Deleted while we were not listening: the device fd tells the rest. */
	if (ret == -ENODEV) {
		port_mark_gone(p);
		return 0;
	}
	return ret < 0 ? ret : port_reconcile(p);
}

const struct ip_prefix *port_kernel_addrs(const struct port *p, unsigned *n)
{
	if (!p->kaddrs_known || p->fd < 0 || p->moved) {
		*n = 0;
		return NULL;
	}
	*n = p->n_kaddrs < PORT_KADDR_MAX ? p->n_kaddrs : PORT_KADDR_MAX;
	return p->kaddrs;
}

unsigned port_drift(const struct port *p)
{
	const struct port_config *c = &p->cfg;
	unsigned drift = 0;

	if (p->fd < 0 || p->moved || p->state == PORT_STATE_GONE)
		return 0;
	if (c->has_up && !!(p->link.flags & IFF_UP) != c->up)
		drift |= PORT_DRIFT_UP;
	if (c->has_mtu && p->link.mtu != c->mtu)
		drift |= PORT_DRIFT_MTU;
	if (c->has_mac && (!p->link.has_mac || memcmp(p->link.mac, c->mac, 6) != 0))
		drift |= PORT_DRIFT_MAC;
	if (!p->kaddrs_known)
		return drift;
	for (unsigned i = 0; i < c->n_addrs; i++)
		if (!kernel_has(p, &c->addrs[i]))
			drift |= PORT_DRIFT_ADDRESSES;
	/* A link paird created holds only what paird put there; an attached one, anything. */
	for (unsigned i = 0; !c->attach && i < p->n_kaddrs && i < PORT_KADDR_MAX; i++)
		if (!has_prefix(c, &p->kaddrs[i]))
			drift |= PORT_DRIFT_ADDRESSES;
	if (p->n_kaddrs > PORT_KADDR_MAX && !c->attach)
		drift |= PORT_DRIFT_ADDRESSES;
	return drift;
}

/* --- open --- */

/*
 * TUNSETIFF refusals and what they mean for this request (drivers/net/tun.c,
 * tun_set_iff()), by errno and whether paird was attaching to an existing
 * device or creating one. Each format takes the device name as
 * argument 1 and its type ("tun", "tap") as argument 2. A row with a kind
 * is recorded as is; one without becomes fault_errno()'s kind and suffix.
 * The first matching row wins; no match is "TUNSETIFF NAME failed".
 */
static const struct setiff_refusal {
	int err;
	bool attach;
	enum fault_kind kind;
	const char *field;
	const char *fmt;
} setiff_refusals[] = {
	/* IFF_TUN_EXCL: the name was free when we looked, and taken by the time we asked. */
	{ EBUSY, false, FAULT_CONFLICT, "name",
	  "an interface named %1$s appeared while creating it" },
	{ EBUSY, true, FAULT_NONE, "name",
	  "%1$s is in use by another program (a single-queue device has one reader)" },
	{ EINVAL, true, FAULT_NONE, "type", "%1$s is not a %2$s device" },
	{ EPERM, true, FAULT_NONE, "name",
	  "%1$s belongs to another user or group, and paird lacks CAP_NET_ADMIN" },
	{ EPERM, false, FAULT_NONE, NULL,
	  "creating a %2$s device needs CAP_NET_ADMIN; an administrator can pre-create it "
	  "(ip tuntap add dev %1$s mode %2$s user USER) for paird to attach to" },
};

/* The formats are the table's above; test_port.c pins each one's text and arguments. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static int setiff_fault(const struct port_config *cfg, int err, struct fault *f)
{
	const char *type = port_type_name(cfg->type);

	/* tun_set_iff(): a device's IFF_MULTI_QUEUE must match the request's. */
	if (err == EINVAL && cfg->attach && portcfg_queues(cfg) > 1)
		return fault_errno(
			f, err, "queues",
			"%s is not a multi-queue %s device (ip tuntap add dev %s mode %s "
			"multi_queue user USER)",
			cfg->name, type, cfg->name, type);

	for (size_t i = 0; i < sizeof(setiff_refusals) / sizeof(setiff_refusals[0]); i++) {
		const struct setiff_refusal *r = &setiff_refusals[i];

		if (r->err != err || r->attach != cfg->attach)
			continue;
		if (r->kind != FAULT_NONE)
			return fault_set(f, r->kind, err, r->field, r->fmt, cfg->name, type);
		return fault_errno(f, err, r->field, r->fmt, cfg->name, type);
	}
	return fault_errno(f, err, NULL, "TUNSETIFF %s failed", cfg->name);
}
#pragma GCC diagnostic pop

int port_name_check(const struct port_env *env, const struct port_config *cfg, struct fault *f)
{
	int ret = env->io.ops->link_index(env->io.ctx, cfg->name);
	struct link_state ls;

	if (!cfg->attach && ret >= 0)
		return fault_set(f, FAULT_CONFLICT, EEXIST, "name",
				 "an interface named %s already exists; set \"attach\": true to "
				 "use a persistent tun/tap device",
				 cfg->name);
	if (cfg->attach && ret == -ENODEV)
		return fault_set(f, FAULT_NOT_FOUND, ENODEV, "name",
				 "no interface named %s to attach to (create it with: ip tuntap "
				 "add dev %s mode %s user USER)",
				 cfg->name, cfg->name, port_type_name(cfg->type));
	if (!cfg->attach || ret < 0 || env->io.ops->link_get(env->io.ctx, ret, &ls) < 0)
		return 0;
	/*
	 * What TUNSETIFF would refuse (EINVAL: no tun/tap, another type or
	 * queue count; EBUSY: held) is said before anything is done, in a dry
	 * run's plan or an apply's first step, and named.
	 */
	if (!ls.is_tun)
		return fault_errno(
			f, EINVAL, "name",
			"%s is not a tun/tap device (its kind is %s): paird attaches to "
			"a persistent tun/tap device only (ip tuntap add dev %s mode %s)",
			cfg->name, ls.kind[0] ? ls.kind : "none", cfg->name,
			port_type_name(cfg->type));
	/*
	 * A tun/tap's carrier is on while a program holds a queue of it. A
	 * single-queue device refuses a second reader itself (EBUSY); a
	 * multi-queue one would take paird's queues beside the other
	 * program's and share its traffic out between them.
	 */
	if (ls.has_carrier && ls.carrier)
		return fault_set(f, FAULT_CONFLICT, EBUSY, "name",
				 "%s is in use by another program (one of its queues is held: its "
				 "carrier is on); paird does not share a device's traffic",
				 cfg->name);
	if (ls.tun_type && ls.tun_type != (cfg->type == PORT_TAP ? IFF_TAP : IFF_TUN))
		return fault_errno(f, EINVAL, "type", "%s is a %s device, not a %s", cfg->name,
				   ls.tun_type == IFF_TAP ? "tap" : "tun",
				   port_type_name(cfg->type));
	if (ls.tun_type && !ls.tun_multi_queue && portcfg_queues(cfg) > 1)
		return fault_errno(
			f, EINVAL, "queues",
			"%s is not a multi-queue %s device (ip tuntap add dev %s mode %s "
			"multi_queue user USER)",
			cfg->name, port_type_name(cfg->type), cfg->name, port_type_name(cfg->type));
	if (ls.tun_type && ls.tun_multi_queue && portcfg_queues(cfg) == 1)
		return fault_errno(f, EINVAL, "queues",
				   "%s is a multi-queue %s device: attach with queues 2 or more",
				   cfg->name, port_type_name(cfg->type));
	return 0;
}

/*
 * Reads back the name and flags the kernel gave the device (TUNGETIFF) into
 * p->tun_flags; a name other than the one asked for is an internal fault.
 */
static int read_back_flags(struct port *p, struct fault *f)
{
	const struct port_config *cfg = &p->cfg;
	struct ifreq ifr;
	int ret;

	memset(&ifr, 0, sizeof(ifr));
	ret = OPS(p)->ioctl(IOCTX(p), p->fd, TUNGETIFF, &ifr);
	if (ret < 0)
		return fault_errno(f, -ret, NULL, "TUNGETIFF on %s failed", cfg->name);
	if (strncmp(ifr.ifr_name, cfg->name, IFNAMSIZ) != 0)
		return fault_set(f, FAULT_INTERNAL, 0, "name", "the kernel named the device %.16s",
				 ifr.ifr_name);
	/*
	 * TUNGETIFF reports IFF_NOFILTER (0x1000, the value of IFF_NO_PI) when
	 * no socket filter is attached, so that bit cannot tell packet info
	 * apart; the device has what TUNSETIFF asked for.
	 */
	p->tun_flags = ((unsigned short)ifr.ifr_flags & ~(unsigned)IFF_NO_PI) |
		       (cfg->packet_info ? 0 : IFF_NO_PI);
	return 0;
}

/* TUNSETOFFLOAD takes the bits themselves as its argument, not a pointer to them. */
static int set_offload(struct port *p, int fd, unsigned long bits)
{
	// NOLINTNEXTLINE(performance-no-int-to-ptr)
	return OPS(p)->ioctl(IOCTX(p), fd, TUNSETOFFLOAD, (void *)bits);
}

/*
 * A vnet_hdr port: the header is struct virtio_net_hdr, and the kernel may
 * hand over checksum-partial frames and TCP super-frames (TSO, with ECN),
 * and UDP ones (USO) where it knows them: tun's set_offload() answers
 * EINVAL to a bit it does not know, as kernels before 6.2 do to USO, so
 * the set is asked again without it.
 */
static int set_offloads(struct port *p, struct fault *f)
{
	const char *names[8];
	char list[96] = "";
	int sz = GSO_VNET_HDR_LEN;
	unsigned long want = TUN_F_TSO_ALL | TUN_F_USO4 | TUN_F_USO6;
	size_t n, at = 0;
	int ret;

	ret = OPS(p)->ioctl(IOCTX(p), p->fd, TUNSETVNETHDRSZ, &sz);
	if (ret < 0)
		return fault_errno(f, -ret, "vnet_hdr", "TUNSETVNETHDRSZ %d on %s failed", sz,
				   p->cfg.name);
	ret = set_offload(p, p->fd, want);
	if (ret == -EINVAL) {
		want = TUN_F_TSO_ALL;
		ret = set_offload(p, p->fd, want);
	}
	if (ret < 0)
		return fault_errno(f, -ret, "vnet_hdr", "TUNSETOFFLOAD on %s failed", p->cfg.name);
	p->offloads = (unsigned int)want;
	n = port_offload_names(p->offloads, names, 8);
	for (size_t i = 0; i < n && at < sizeof(list); i++)
		at += (size_t)snprintf(list + at, sizeof(list) - at, "%s%s", i ? " " : "",
				       names[i]);
	log_info("port %s: virtio-net header, offloads %s%s", p->cfg.name, list,
		 (want & TUN_F_USO4) ? "" : " (UDP segmentation refused: kernel before 6.2)");
	return 0;
}

static int open_device(struct port *p, struct fault *f)
{
	const struct port_config *cfg = &p->cfg;
	struct ifreq ifr;
	int ret;

	ret = port_name_check(p->env, &p->cfg, f);
	if (ret < 0)
		return ret;

	ret = OPS(p)->open(IOCTX(p), "/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	/* No clone device is the host's fault, not a missing resource: never a 404. */
	if (ret == -ENOENT || ret == -ENODEV || ret == -ENXIO) {
		char nb[16];

		return fault_set(f, FAULT_KERNEL, -ret, NULL,
				 "cannot open /dev/net/tun: %s (%s); is the tun module loaded?",
				 errno_name(-ret, nb), strerror(-ret));
	}
	if (ret < 0)
		return fault_errno(f, -ret, NULL, "cannot open /dev/net/tun");
	p->fd = ret;

	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, cfg->name, strlen(cfg->name));
	ifr.ifr_flags =
		(short)((cfg->type == PORT_TUN ? IFF_TUN : IFF_TAP) |
			(cfg->packet_info ? 0 : IFF_NO_PI) | (cfg->attach ? 0 : IFF_TUN_EXCL) |
			(cfg->vnet_hdr ? IFF_VNET_HDR : 0));
	/* Queue 0 of a multi-queue device (queue.h); open_queues() adds the others. */
	if (portcfg_queues(cfg) > 1)
		ifr.ifr_flags |= IFF_MULTI_QUEUE;
	ret = OPS(p)->ioctl(IOCTX(p), p->fd, TUNSETIFF, &ifr);
	if (ret < 0)
		return setiff_fault(cfg, -ret, f);
	ret = read_back_flags(p, f);
	if (ret < 0)
		return ret;

	if (cfg->vnet_hdr) {
		ret = set_offloads(p, f);
		if (ret < 0)
			return ret;
	} else {
		/* Offload settings outlive their owner; without a vnet header we want none. */
		ret = OPS(p)->ioctl(IOCTX(p), p->fd, TUNSETOFFLOAD, (void *)0UL);
		if (ret < 0 && ret != -EINVAL)
			log_debug("port %s: TUNSETOFFLOAD 0: %s", cfg->name, strerror(-ret));
	}

	ret = OPS(p)->link_index(IOCTX(p), cfg->name);
	if (ret < 0)
		return fault_errno(f, -ret, NULL, "cannot find the ifindex of %s", cfg->name);
	p->ifindex = ret;
	ret = link_refresh(p);
	if (ret < 0)
		return fault_errno(f, -ret, NULL, "cannot read the link state of %s", cfg->name);
	return 0;
}

static void on_queue_report(void *arg, unsigned q, int err);

/*
 * A vnet_hdr port's queue 1..N-1: the header size and offloads queue 0
 * got (set_offloads()). tun keeps both per device, not per queue, so
 * this only repeats them; each fd still asks for what it reads, rather
 * than relying on where the kernel keeps them.
 */
static int set_queue_offloads(struct port *p, int fd)
{
	int sz = GSO_VNET_HDR_LEN;
	int ret = OPS(p)->ioctl(IOCTX(p), fd, TUNSETVNETHDRSZ, &sz);

	return ret < 0 ? ret : set_offload(p, fd, p->offloads);
}

/*
 * Queues 1..N-1 of a multi-queue device: the same name opened again with
 * IFF_MULTI_QUEUE (never IFF_TUN_EXCL: the device exists now), each fd
 * handed to the queue set, which owns it from then on.
 */
static int open_queues(struct port *p, struct fault *f)
{
	const struct port_config *cfg = &p->cfg;
	unsigned n = portcfg_queues(cfg) - 1, i;
	int fds[PORTCFG_QUEUES_MAX];
	struct ifreq ifr;
	int ret = 0;

	for (i = 0; i < n; i++) {
		ret = OPS(p)->open(IOCTX(p), "/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (ret < 0) {
			fault_errno(f, -ret, "queues",
				    "cannot open /dev/net/tun for queue %u of %s", i + 1,
				    cfg->name);
			break;
		}
		fds[i] = ret;
		memset(&ifr, 0, sizeof(ifr));
		memcpy(ifr.ifr_name, cfg->name, strlen(cfg->name));
		ifr.ifr_flags = (short)((cfg->type == PORT_TUN ? IFF_TUN : IFF_TAP) |
					(cfg->packet_info ? 0 : IFF_NO_PI) | IFF_MULTI_QUEUE |
					(cfg->vnet_hdr ? IFF_VNET_HDR : 0));
		ret = OPS(p)->ioctl(IOCTX(p), fds[i], TUNSETIFF, &ifr);
		if (ret < 0) {
			OPS(p)->close(IOCTX(p), fds[i]);
			fault_errno(f, -ret, "queues", "TUNSETIFF for queue %u of %s failed", i + 1,
				    cfg->name);
			break;
		}
		if (cfg->vnet_hdr) {
			ret = set_queue_offloads(p, fds[i]);
			if (ret < 0) {
				OPS(p)->close(IOCTX(p), fds[i]);
				fault_errno(f, -ret, "vnet_hdr",
					    "TUNSETVNETHDRSZ or TUNSETOFFLOAD for queue %u of %s "
					    "failed",
					    i + 1, cfg->name);
				break;
			}
		}
	}
	if (ret < 0) {
		while (i > 0)
			OPS(p)->close(IOCTX(p), fds[--i]);
		return ret;
	}
	p->sum = calloc(1, sizeof(*p->sum));
	if (p->sum)
		p->qs = queues_new(p->env->base, &p->env->io,
				   p->env->read_budget ? p->env->read_budget : PORT_READ_BUDGET,
				   cfg, fds, n, on_queue_report, p);
	else
		for (i = 0; i < n; i++)
			OPS(p)->close(IOCTX(p), fds[i]);
	if (!p->qs)
		return fault_set(f, FAULT_UNAVAILABLE, ENOMEM, NULL,
				 "cannot set up the queues of %s", cfg->name);
	return 0;
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	port_read_ready(arg);
}

struct port *port_open(const struct port_env *env, const struct port_config *cfg, struct fault *f)
{
	struct port_config want = *cfg;
	struct port_config none;
	struct port *p;

	/* A device paird creates comes up unless told otherwise; an attached one is left as is. */
	if (!want.attach && !want.has_up) {
		want.has_up = true;
		want.up = true;
	}
	/* The link starts with no configuration; apply_link() diffs against it. */
	memset(&none, 0, sizeof(none));
	memcpy(none.name, cfg->name, sizeof(none.name));
	none.type = cfg->type;
	none.packet_info = cfg->packet_info;
	none.attach = cfg->attach;
	none.vnet_hdr = cfg->vnet_hdr;
	none.queues = cfg->queues;

	p = port_alloc(env, &none);
	if (!p) {
		fault_set(f, FAULT_UNAVAILABLE, ENOMEM, NULL, "out of memory");
		return NULL;
	}
	if (open_device(p, f) < 0)
		goto fail;
	if (portcfg_queues(cfg) > 1 && open_queues(p, f) < 0)
		goto fail;
	if (cfg->attach) {
		p->found = p->link;
		p->found_known = addrs_refresh(p) == 0;
		p->n_found = p->n_kaddrs < PORT_KADDR_MAX ? p->n_kaddrs : PORT_KADDR_MAX;
		memcpy(p->found_addrs, p->kaddrs, p->n_found * sizeof(p->kaddrs[0]));
	}
	if (port_reconfigure(p, &want, f) < 0)
		goto fail;
	if (env->base) {
		p->ev = event_new(env->base, p->fd, EV_READ | EV_PERSIST, on_readable, p);
		if (!p->ev || event_add(p->ev, NULL) < 0) {
			fault_set(f, FAULT_UNAVAILABLE, ENOMEM, NULL, "cannot watch the device");
			port_unconfigure(p);
			goto fail;
		}
	}
	/* The workers start last: from here on the port only needs releasing. */
	if (p->qs && queues_start(p->qs) < 0) {
		fault_set(f, FAULT_UNAVAILABLE, EAGAIN, "queues", "cannot start the queue threads");
		port_unconfigure(p);
		goto fail;
	}
	log_info("port %s: %s %s (ifindex %d, mtu %u, %s)", p->cfg.name,
		 cfg->attach ? "attached to" : "created", port_type_name(cfg->type), p->ifindex,
		 p->link.mtu, port_state_name(p->state));
	return p;
fail:
	port_destroy(p);
	return NULL;
}

void port_unconfigure(struct port *p)
{
	struct fault ignored = FAULT_INIT;
	struct port_config back;

	if (!p->cfg.attach || p->fd < 0 || p->moved || p->state == PORT_STATE_GONE)
		return;
	back = p->cfg;
	back.has_up = true;
	back.up = p->found.flags & IFF_UP;
	back.has_mtu = p->found.mtu != 0;
	back.mtu = p->found.mtu;
	back.has_mac = p->found.has_mac;
	memcpy(back.mac, p->found.mac, 6);
	/* Only what paird added goes; without the kernel's list at open, nothing does. */
	back.has_addresses = true;
	back.n_addrs = 0;
	for (unsigned i = 0; i < p->cfg.n_addrs; i++) {
		bool was = !p->found_known;

		for (unsigned j = 0; !was && j < p->n_found; j++)
			was = prefix_equal(&p->found_addrs[j], &p->cfg.addrs[i]);
		if (was)
			back.addrs[back.n_addrs++] = p->cfg.addrs[i];
	}
	if (port_reconfigure(p, &back, &ignored) < 0)
		log_warn("port %s: could not give the link back as it was found: %s", p->cfg.name,
			 ignored.detail);
}

struct port *port_new_failed(const struct port_env *env, const struct port_config *cfg,
			     const struct fault *why)
{
	struct port *p = port_alloc(env, cfg);

	if (!p)
		return NULL;
	p->state = PORT_STATE_ERROR;
	record_error(p, "open", why->err, why->detail);
	return p;
}

/* --- data path --- */

static void port_fail(struct port *p, const char *op, int err)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "%s on %s failed: %s", op, p->cfg.name, strerror(err));
	record_error(p, op, err, msg);
	if (p->ev)
		event_del(p->ev);
	set_backlog(p, false);
	if (p->qs)
		queues_halt(p->qs);
	p->state = PORT_STATE_ERROR;
	log_error("port %s: %s; reading stopped", p->cfg.name, msg);
	if (p->env->on_event)
		p->env->on_event(p, PORT_EV_ERROR, p->env->event_arg);
}

void port_mark_gone(struct port *p)
{
	if (p->state == PORT_STATE_GONE)
		return;
	port_release(p);
	p->state = PORT_STATE_GONE;
	p->ifindex = 0;
	record_error(p, "link", ENODEV, "the interface was deleted outside paird");
	log_warn("port %s: interface deleted outside paird; port is gone (delete it to clean up)",
		 p->cfg.name);
	if (p->env->on_event)
		p->env->on_event(p, PORT_EV_GONE, p->env->event_arg);
}

void port_mark_moved(struct port *p)
{
	if (p->moved)
		return;
	p->moved = true;
	log_info("port %s: the interface moved to another network namespace; frames still flow, "
		 "its link can no longer be configured from here",
		 p->cfg.name);
}

bool port_moved(const struct port *p)
{
	return p->moved;
}

void port_link_update(struct port *p, const struct link_state *ls)
{
	if (p->state == PORT_STATE_GONE || p->moved || ls->ifindex != p->ifindex)
		return;
	port_pause(p);
	p->link = *ls;
	port_resume(p);
	refresh_state(p);
}

/* A datagram of a vnet_hdr read (vnet.c) to the sink; a port closed meanwhile stops the rest. */
static bool vnet_dgram(void *arg, const uint8_t *frame, size_t len, unsigned rx)
{
	struct port *p = arg;

	if (p->sink)
		p->sink(p, frame, len, rx, p->sink_arg);
	return p->fd >= 0;
}

static bool vnet_train(void *arg, uint64_t n, uint64_t bytes)
{
	struct port *p = arg;

	return p->train && p->train(p, n, bytes, p->sink_arg);
}

void port_read_ready(struct port *p)
{
	size_t budget = p->env->read_budget ? p->env->read_budget : PORT_READ_BUDGET;
	unsigned cap = p->env->read_frames ? p->env->read_frames : PORT_READ_FRAMES;
	size_t spent = 0;
	unsigned frames = 0;
	bool more = true;		   /* no EAGAIN yet: frames may be waiting */
	const bool vnet = p->cfg.vnet_hdr; /* fixed for the port's life: read once a turn */
	const size_t rmax = vnet ? PORT_VNET_READ_MAX : PORT_FRAME_MAX;

	p->in_callback++;
	p->vt.turn = vnet;
	turn_port = p;
	while (spent < budget && frames < cap && p->fd >= 0 && p->state != PORT_STATE_ERROR) {
		ssize_t n = OPS(p)->read(IOCTX(p), p->fd, p->buf, rmax);
		bool truncated;

		if (n == -EAGAIN || n == -EINTR) {
			/* EINTR: the rest comes at the next turn; nothing is known to wait. */
			more = false;
			break;
		}
		if (n == -EBADFD) {
			/* tun answers EBADFD once its device was unregistered. */
			port_mark_gone(p);
			break;
		}
		if (n < 0) {
			p->c.read_errors[port_errno_slot((int)-n)]++;
			port_fail(p, "read", (int)-n);
			break;
		}
		if (vnet) {
			spent += n > 0 ? (size_t)n : 1;
			frames++;
			vnet_input(p->buf, (size_t)n, p->cfg.packet_info ? PI_HDR_LEN : 0,
				   port_frame_link(p), p->sink_reads, &p->c, vnet_dgram, vnet_train,
				   p);
			continue;
		}
		truncated = (size_t)n > PORT_FRAME_MAX;
		p->c.rx_frames++;
		p->c.rx_bytes += (uint64_t)n;
		if (truncated)
			p->c.truncated++;
		spent += n > 0 ? (size_t)n : 1;
		frames++;
		if (p->sink)
			p->sink(p, p->buf, truncated ? PORT_FRAME_MAX : (size_t)n,
				truncated ? PORT_RX_TRUNCATED : 0, p->sink_arg);
	}
	/* What the turn's writes left waiting goes now (a closed port wrote its own on closing). */
	turn_end(p);
	/*
	 * Stopped by the cap or the budget: frames wait, and the port's fd,
	 * still readable, brings the next turn. (A queue that empties for an
	 * instant between bursts is weighed by loopshare.c, not here: a port
	 * counted as waiting after its EAGAIN would get no turn to undo it.)
	 */
	set_backlog(p, more && p->fd >= 0 && p->state != PORT_STATE_ERROR);
	if (--p->in_callback == 0 && p->free_pending)
		port_destroy(p);
}

int port_write(struct port *p, const void *frame, size_t len)
{
	ssize_t n;

	if (p->fd < 0)
		return p->state == PORT_STATE_GONE ? -ENODEV : -EBADF;
	if (p->cfg.vnet_hdr) {
		if (turn_port && !p->vt.turn)
			turn_join(p);
		return vnet_write(&p->vt, &p->env->io, p->fd, frame, len, &p->c);
	}
	n = port_io_write(&p->env->io, p->fd, frame, len);
	if (n < 0) {
		p->c.write_errors[port_errno_slot((int)-n)]++;
		return (int)n;
	}
	p->c.tx_frames++;
	p->c.tx_bytes += (uint64_t)n;
	return 0;
}

uint16_t port_next_ip_id(struct port *p, unsigned q)
{
	if (q && p->qs && q <= queues_count(p->qs))
		return queues_next_ip_id(p->qs, q);
	return p->ip_id++;
}

bool port_peer_mac(const struct port *p, uint8_t mac[6])
{
	if (!p->link.has_mac)
		return false;
	memcpy(mac, p->link.mac, 6);
	mac[0] = (uint8_t)((mac[0] | 0x02) & ~0x01);
	mac[5] ^= 0xff;
	return true;
}

void port_set_sink(struct port *p, port_frame_fn fn, port_train_fn train, void *arg)
{
	p->sink = fn;
	p->train = train;
	p->sink_arg = arg;
}

void port_set_sink_reads(struct port *p, bool reads)
{
	p->sink_reads = reads;
	if (p->qs)
		queues_set_sink_reads(p->qs, reads);
}

const char *port_name(const struct port *p)
{
	return p->cfg.name;
}

enum frame_link port_frame_link(const struct port *p)
{
	return portcfg_frame_link(&p->cfg);
}

const struct port_config *port_config(const struct port *p)
{
	return &p->cfg;
}

enum port_state port_state(const struct port *p)
{
	return p->state;
}

int port_ifindex(const struct port *p)
{
	return p->ifindex;
}

unsigned int port_tun_flags(const struct port *p)
{
	return p->tun_flags;
}

unsigned int port_offloads(const struct port *p)
{
	return p->offloads;
}

const struct link_state *port_link(const struct port *p)
{
	return &p->link;
}

const struct port_counters *port_counters(const struct port *p)
{
	if (!p->qs)
		return &p->c;
	*p->sum = p->c;
	for (unsigned q = 1; q <= queues_count(p->qs); q++)
		queues_counters_add(p->qs, q, p->sum);
	return p->sum;
}

/* --- queues (queue.h) --- */

/* In the main loop: worker @q stopped on @err, which is the port's as queue 0's would be. */
static void on_queue_report(void *arg, unsigned q, int err)
{
	struct port *p = arg;

	log_debug("port %s: queue %u: %s", p->cfg.name, q, strerror(err));
	if (err == EBADFD)
		port_mark_gone(p);
	else if (p->state != PORT_STATE_ERROR)
		port_fail(p, "read", err);
}

unsigned port_queues(const struct port *p)
{
	return p->qs ? queues_count(p->qs) + 1 : 1;
}

uint64_t port_queue_rx_frames(const struct port *p, unsigned q)
{
	if (q == 0)
		return p->c.rx_frames;
	return p->qs && q <= queues_count(p->qs) ? queues_rx_frames(p->qs, q) : 0;
}

void port_pause(struct port *p)
{
	if (p->qs)
		queues_lock(p->qs);
}

void port_resume(struct port *p)
{
	if (p->qs)
		queues_unlock(p->qs);
}

void port_set_queue_sink(struct port *p, port_queue_frame_fn fn, port_queue_train_fn train,
			 port_queue_drain_fn drain, void *arg)
{
	if (p->qs)
		queues_set_sink(p->qs, fn, train, drain, arg);
}

int port_queue_write(struct port *p, unsigned q, const void *frame, size_t len)
{
	return queues_write(p->qs, q, frame, len);
}

void port_queue_read_ready(struct port *p, unsigned q)
{
	if (p->qs && q >= 1 && q <= queues_count(p->qs))
		queues_read_ready(p->qs, q);
}

void port_queues_service(struct port *p)
{
	if (p->qs)
		queues_service(p->qs);
}

const struct port_error *port_last_error(const struct port *p)
{
	return &p->last;
}

struct timespec port_created(const struct port *p)
{
	return p->created;
}
