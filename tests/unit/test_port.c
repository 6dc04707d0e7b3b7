// SPDX-License-Identifier: MIT
/*
 * Unit tests of service/port.c on the memory port I/O (portio_mem.h): open
 * and its failures at every step (nothing left behind, undo on attached
 * devices, the fault naming kind, errno and field), unprivileged attach,
 * the read loop (EAGAIN, EINTR, byte budget, frame cap and the backlog it
 * reports to the loop's sharing, truncation, fatal errnos,
 * deleted devices, port_free() from inside callbacks, a real libevent
 * loop), writes and port_reconfigure() with undo. No root, no devices.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <event2/event.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdlib.h>
#include <string.h>

#include "../../service/loopshare.h"
#include "../../service/port.h"
#include "../fakes/portio_mem.h"
#include "support.h"

#define MAX_SEEN 256

struct fx {
	struct memio *m;
	struct port_env env;
	unsigned events[2]; /* by enum port_event */
	bool free_on_event;
	/* the sink's record */
	unsigned frames;
	unsigned seen_seed[MAX_SEEN];
	size_t last_len;
	bool last_truncated;
	unsigned truncated;
	unsigned free_at; /* port_free() from the sink at this frame (1-based), 0 never */
	bool endless;	  /* the sink queues a frame again for each one read */
	uint8_t *expect;  /* when set, the delivered bytes must match its prefix */
};

static void on_event(struct port *port, enum port_event ev, void *arg)
{
	struct fx *fx = arg;

	fx->events[ev]++;
	if (fx->free_on_event)
		port_free(port);
}

static void sink(struct port *port, const uint8_t *frame, size_t len, unsigned rx, void *arg)
{
	struct fx *fx = arg;
	bool truncated = rx & PORT_RX_TRUNCATED;

	if (fx->frames < MAX_SEEN)
		fx->seen_seed[fx->frames] = len ? frame[0] : 0;
	fx->frames++;
	fx->last_len = len;
	fx->last_truncated = truncated;
	fx->truncated += truncated;
	if (fx->expect)
		assert_memory_equal(frame, fx->expect, len);
	if (fx->free_at && fx->frames == fx->free_at)
		port_free(port);
	if (fx->endless)
		assert_int_equal(memio_push(fx->m, port_name(port), frame, len), 0);
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	fx->m = memio_env_new(&fx->env);
	fx->env.on_event = on_event;
	fx->env.event_arg = fx;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	memio_free(fx->m);
	free(fx);
	return 0;
}

static struct port_config cfg_of(const char *name, enum port_type type)
{
	struct port_config c;

	memset(&c, 0, sizeof(c));
	strcpy(c.name, name);
	c.type = type;
	return c;
}

static void cfg_addr(struct port_config *c, const char *prefix)
{
	const char *why;

	c->has_addresses = true;
	assert_int_equal(prefix_parse(prefix, &c->addrs[c->n_addrs++], &why), 0);
}

static void cfg_mtu(struct port_config *c, uint32_t mtu)
{
	c->has_mtu = true;
	c->mtu = mtu;
}

static struct port *open_ok(struct fx *fx, const struct port_config *cfg)
{
	struct fault f = FAULT_INIT;
	struct port *p = port_open(&fx->env, cfg, &f);

	if (!p)
		fail_msg("port_open(%s): %s (field %s)", cfg->name, f.detail, f.field);
	assert_int_equal(f.kind, FAULT_NONE);
	port_set_sink(p, sink, NULL, fx);
	return p;
}

/* Asserts that port_open() fails with @kind, @err and @field, leaving no fd open. */
static void open_fails(struct fx *fx, const struct port_config *cfg, enum fault_kind kind, int err,
		       const char *field, struct fault *out)
{
	struct fault f = FAULT_INIT;
	struct port *p = port_open(&fx->env, cfg, &f);

	assert_null(p);
	if (f.kind != kind || f.err != err || strcmp(f.field, field) != 0)
		fail_msg("%s: got kind %d err %d field \"%s\" (%s); want kind %d err %d field "
			 "\"%s\"",
			 cfg->name, f.kind, f.err, f.field, f.detail, kind, err, field);
	assert_true(strlen(f.detail) > 0);
	assert_int_equal(memio_open_fds(fx->m), 0);
	if (out)
		*out = f;
}

/* An administrator's change to a device, through the same I/O table. */
static void admin_link(struct fx *fx, const char *name, int up, uint32_t mtu)
{
	const struct link_state *ls = memio_link(fx->m, name);
	struct link_change ch = { .up = up, .mtu = mtu };

	assert_non_null(ls);
	assert_int_equal(fx->env.io.ops->link_set(fx->env.io.ctx, ls->ifindex, &ch), 0);
}

static void push_frames(struct fx *fx, const char *name, unsigned n, size_t len, unsigned seed)
{
	uint8_t *buf = malloc(len ? len : 1);

	assert_non_null(buf);
	for (unsigned i = 0; i < n; i++) {
		frame_fill(buf, len, 0);
		if (len)
			buf[0] = (uint8_t)(seed + i);
		assert_int_equal(memio_push(fx->m, name, buf, len), 0);
	}
	free(buf);
}

/* --- open --- */

static void test_create_tap(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_of("p0", PORT_TAP);
	const struct link_state *ls;
	struct port *p;

	cfg_mtu(&c, 9000);
	cfg_addr(&c, "198.18.0.1/24");
	cfg_addr(&c, "2001:db8::1/64");
	p = open_ok(fx, &c);
	assert_true(memio_device_exists(fx->m, "p0"));
	ls = memio_link(fx->m, "p0");
	assert_int_equal(ls->mtu, 9000);
	assert_true(ls->flags & IFF_UP); /* a created device comes up by default */
	assert_int_equal(memio_addr_count(fx->m, "p0"), 2);
	assert_true(memio_has_addr(fx->m, "p0", "198.18.0.1/24"));
	assert_true(memio_has_addr(fx->m, "p0", "2001:db8::1/64"));

	assert_string_equal(port_name(p), "p0");
	assert_int_equal(port_state(p), PORT_STATE_UP);
	assert_string_equal(port_state_name(port_state(p)), "up");
	assert_int_equal(port_ifindex(p), ls->ifindex);
	assert_int_equal(port_link(p)->mtu, 9000);
	assert_true(port_link(p)->has_mac);
	assert_true(port_tun_flags(p) & IFF_TAP);
	assert_true(port_tun_flags(p) & IFF_NO_PI);
	assert_false(port_tun_flags(p) & IFF_TUN);
	assert_true(port_config(p)->has_up);
	assert_true(port_config(p)->up);
	assert_int_equal(port_config(p)->n_addrs, 2);
	assert_int_equal(port_last_error(p)->err, 0);
	assert_true(port_created(p).tv_sec > 0);
	assert_int_equal(memio_open_fds(fx->m), 1);

	port_free(p);
	assert_false(memio_device_exists(fx->m, "p0"));
	assert_int_equal(memio_open_fds(fx->m), 0);
	port_free(NULL);
}

static void test_create_tun_packet_info_down(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_of("t0", PORT_TUN);
	struct port *p;

	c.packet_info = true;
	c.has_up = true;
	c.up = false;
	p = open_ok(fx, &c);
	assert_true(port_tun_flags(p) & IFF_TUN);
	assert_false(port_tun_flags(p) & IFF_NO_PI);
	assert_false(port_link(p)->has_mac);
	assert_false(memio_link(fx->m, "t0")->flags & IFF_UP);
	assert_int_equal(port_state(p), PORT_STATE_DOWN);
	port_free(p);
	assert_false(memio_device_exists(fx->m, "t0"));
}

static void test_open_enoent(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_of("p0", PORT_TAP);
	struct fault f;

	memio_inject(fx->m, MEMIO_OPEN, ENOENT);
	/* A missing /dev/net/tun is the host's problem, not a missing resource (no 404). */
	open_fails(fx, &c, FAULT_KERNEL, ENOENT, "", &f);
	assert_non_null(strstr(f.detail, "/dev/net/tun"));
	assert_non_null(strstr(f.detail, "ENOENT"));
	assert_false(memio_device_exists(fx->m, "p0"));
	assert_int_equal(memio_calls(fx->m, MEMIO_IOCTL), 0);
}

static void test_open_emfile(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_of("p0", PORT_TAP);

	memio_inject(fx->m, MEMIO_OPEN, EMFILE);
	open_fails(fx, &c, FAULT_UNAVAILABLE, EMFILE, "", NULL);
	assert_false(memio_device_exists(fx->m, "p0"));
}

static void test_create_unprivileged(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_of("p0", PORT_TAP);
	struct fault f;

	memio_set_privileged(fx->m, false);
	open_fails(fx, &c, FAULT_FORBIDDEN, EPERM, "", &f);
	assert_non_null(strstr(f.detail, "CAP_NET_ADMIN"));
	assert_non_null(strstr(f.detail, "EPERM"));
	assert_false(memio_device_exists(fx->m, "p0"));
}

static void test_attach_busy(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_of("pre0", PORT_TAP);
	struct port *first;
	struct fault f = FAULT_INIT;

	c.attach = true;
	assert_int_equal(memio_device_add(fx->m, "pre0", true, true), 0);
	first = open_ok(fx, &c);
	/* A single-queue device has one reader: a second attach is EBUSY. */
	assert_null(port_open(&fx->env, &c, &f));
	assert_int_equal(f.kind, FAULT_CONFLICT);
	assert_int_equal(f.err, EBUSY);
	assert_string_equal(f.field, "name");
	assert_int_equal(memio_open_fds(fx->m), 1);
	port_free(first);
	/* Detaching leaves a persistent device in place. */
	assert_true(memio_device_exists(fx->m, "pre0"));
	assert_int_equal(memio_open_fds(fx->m), 0);
}

static void test_attach_type_mismatch(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_of("pre0", PORT_TAP);

	c.attach = true;
	assert_int_equal(memio_device_add(fx->m, "pre0", false, true), 0);
	admin_link(fx, "pre0", 1, 1400);
	open_fails(fx, &c, FAULT_INVALID, EINVAL, "type", NULL);
	assert_true(memio_device_exists(fx->m, "pre0"));
	assert_int_equal(memio_link(fx->m, "pre0")->mtu, 1400);
	assert_true(memio_link(fx->m, "pre0")->flags & IFF_UP);
}

static void test_create_link_set_eperm(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_of("p0", PORT_TAP);

	cfg_mtu(&c, 9000);
	memio_inject(fx->m, MEMIO_LINK_SET, EPERM);
	open_fails(fx, &c, FAULT_FORBIDDEN, EPERM, "mtu", NULL);
	assert_false(memio_device_exists(fx->m, "p0"));

	/* Without an MTU the first link change is bringing it up. */
	c = cfg_of("p1", PORT_TUN);
	memio_inject(fx->m, MEMIO_LINK_SET, EPERM);
	open_fails(fx, &c, FAULT_FORBIDDEN, EPERM, "up", NULL);
	assert_false(memio_device_exists(fx->m, "p1"));
}

static void test_create_addr_fails_midway(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_of("p0", PORT_TAP);
	struct fault f;

	cfg_addr(&c, "198.18.0.1/24");
	cfg_addr(&c, "198.18.1.1/24");
	cfg_addr(&c, "2001:db8::1/64");
	memio_inject(fx->m, MEMIO_ADDR_SET, 0);
	memio_inject(fx->m, MEMIO_ADDR_SET, 0);
	memio_inject(fx->m, MEMIO_ADDR_SET, ENOSPC);
	open_fails(fx, &c, FAULT_KERNEL, ENOSPC, "addresses", &f);
	assert_non_null(strstr(f.detail, "2001:db8::1/64"));
	assert_false(memio_device_exists(fx->m, "p0"));
}

static void test_create_later_steps_fail(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_of("p0", PORT_TAP);

	/* TUNSETIFF passes, TUNGETIFF fails. */
	memio_inject(fx->m, MEMIO_IOCTL, 0);
	memio_inject(fx->m, MEMIO_IOCTL, EIO);
	open_fails(fx, &c, FAULT_KERNEL, EIO, "", NULL);
	assert_false(memio_device_exists(fx->m, "p0"));

	/* Reading the link back fails. */
	memio_inject(fx->m, MEMIO_LINK_GET, ENOBUFS);
	open_fails(fx, &c, FAULT_UNAVAILABLE, ENOBUFS, "", NULL);
	assert_false(memio_device_exists(fx->m, "p0"));

	/* The name appears between the check and TUNSETIFF (IFF_TUN_EXCL): a conflict. */
	memio_inject(fx->m, MEMIO_IOCTL, EBUSY);
	open_fails(fx, &c, FAULT_CONFLICT, EBUSY, "name", NULL);
	assert_false(memio_device_exists(fx->m, "p0"));
}

/*
 * Every TUNSETIFF refusal and the detail it becomes, word for word: the
 * mapping is a table of formats (port.c), which the compiler cannot check
 * against their arguments, so this pins each row's text and arguments.
 */
static void test_tunsetiff_details(void **state)
{
	/* pq0 is an administrator's tap to attach to; pn0 is to be created. */
	static const struct {
		const char *name;
		bool attach;
		int err;
		enum fault_kind kind;
		const char *field;
		const char *detail;
	} cases[] = {
		{ "pn0", false, EBUSY, FAULT_CONFLICT, "name",
		  "an interface named pn0 appeared while creating it" },
		{ "pq0", true, EBUSY, FAULT_CONFLICT, "name",
		  "pq0 is in use by another program (a single-queue device has one reader): "
		  "EBUSY (Device or resource busy)" },
		{ "pq0", true, EINVAL, FAULT_INVALID, "type",
		  "pq0 is not a tap device: EINVAL (Invalid argument)" },
		{ "pn0", false, EINVAL, FAULT_INVALID, "",
		  "TUNSETIFF pn0 failed: EINVAL (Invalid argument)" },
		{ "pq0", true, EPERM, FAULT_FORBIDDEN, "name",
		  "pq0 belongs to another user or group, and paird lacks CAP_NET_ADMIN: "
		  "EPERM (Operation not permitted)" },
		{ "pn0", false, EPERM, FAULT_FORBIDDEN, "",
		  "creating a tap device needs CAP_NET_ADMIN; an administrator can pre-create it "
		  "(ip tuntap add dev pn0 mode tap user USER) for paird to attach to: "
		  "EPERM (Operation not permitted)" },
		{ "pq0", true, ENOMEM, FAULT_UNAVAILABLE, "",
		  "TUNSETIFF pq0 failed: ENOMEM (Cannot allocate memory)" },
	};
	struct fx *fx = *state;

	assert_int_equal(memio_device_add(fx->m, "pq0", true, true), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct port_config c = cfg_of(cases[i].name, PORT_TAP);
		struct fault f;

		c.attach = cases[i].attach;
		memio_inject(fx->m, MEMIO_IOCTL, cases[i].err);
		open_fails(fx, &c, cases[i].kind, cases[i].err, cases[i].field, &f);
		assert_string_equal(f.detail, cases[i].detail);
		assert_false(memio_device_exists(fx->m, "pn0"));
	}
}

static void test_attach_undo_addresses(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_of("pre0", PORT_TAP);
	const struct link_state *ls;
	uint8_t mac0[6];
	struct fault f;

	assert_int_equal(memio_device_add(fx->m, "pre0", true, true), 0);
	admin_link(fx, "pre0", 0, 1400);
	admin_addr_add(fx->m, "pre0", "198.18.0.1/24");
	memcpy(mac0, memio_link(fx->m, "pre0")->mac, 6);

	c.attach = true;
	cfg_mtu(&c, 9000);
	c.has_mac = true;
	memcpy(c.mac, (uint8_t[6]){ 0x02, 0, 0, 0, 0, 0x42 }, 6);
	c.has_up = true;
	c.up = true;
	cfg_addr(&c, "198.18.0.1/24"); /* already there: must survive the undo */
	cfg_addr(&c, "198.18.1.1/24");
	cfg_addr(&c, "2001:db8::1/64");
	cfg_addr(&c, "198.18.2.1/24");
	/* 198.18.0.1/24 is on the link already: no call; the third add fails. */
	memio_inject(fx->m, MEMIO_ADDR_SET, 0);
	memio_inject(fx->m, MEMIO_ADDR_SET, 0);
	memio_inject(fx->m, MEMIO_ADDR_SET, EACCES);
	open_fails(fx, &c, FAULT_FORBIDDEN, EACCES, "addresses", &f);
	assert_non_null(strstr(f.detail, "198.18.2.1/24"));

	/* The administrator's device is exactly as it was. */
	assert_true(memio_device_exists(fx->m, "pre0"));
	ls = memio_link(fx->m, "pre0");
	assert_int_equal(ls->mtu, 1400);
	assert_false(ls->flags & IFF_UP);
	assert_memory_equal(ls->mac, mac0, 6);
	assert_int_equal(memio_addr_count(fx->m, "pre0"), 1);
	assert_true(memio_has_addr(fx->m, "pre0", "198.18.0.1/24"));
}

static void test_attach_undo_link(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_of("pre0", PORT_TAP);
	const struct link_state *ls;
	uint8_t mac0[6];

	assert_int_equal(memio_device_add(fx->m, "pre0", true, true), 0);
	admin_link(fx, "pre0", 1, 1400);
	memcpy(mac0, memio_link(fx->m, "pre0")->mac, 6);

	c.attach = true;
	cfg_mtu(&c, 9000);
	c.has_mac = true;
	memcpy(c.mac, (uint8_t[6]){ 0x02, 0, 0, 0, 0, 0x42 }, 6);
	c.has_up = true;
	c.up = false;
	cfg_addr(&c, "198.18.1.1/24");
	/* MAC and MTU are changed, the address added, then bringing it down fails. */
	memio_inject(fx->m, MEMIO_LINK_SET, 0);
	memio_inject(fx->m, MEMIO_LINK_SET, 0);
	memio_inject(fx->m, MEMIO_LINK_SET, EPERM);
	open_fails(fx, &c, FAULT_FORBIDDEN, EPERM, "up", NULL);
	ls = memio_link(fx->m, "pre0");
	assert_int_equal(ls->mtu, 1400);
	assert_true(ls->flags & IFF_UP);
	assert_memory_equal(ls->mac, mac0, 6);
	assert_int_equal(memio_addr_count(fx->m, "pre0"), 0);
}

static void test_create_over_existing_name(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_of("pre0", PORT_TAP);
	struct fault f;

	assert_int_equal(memio_device_add(fx->m, "pre0", true, false), 0);
	admin_link(fx, "pre0", 1, 1400);
	open_fails(fx, &c, FAULT_CONFLICT, EEXIST, "name", &f);
	assert_non_null(strstr(f.detail, "attach"));
	assert_int_equal(memio_calls(fx->m, MEMIO_OPEN), 0);
	assert_true(memio_device_exists(fx->m, "pre0"));
	assert_int_equal(memio_link(fx->m, "pre0")->mtu, 1400);
}

static void test_attach_missing(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_of("nope0", PORT_TUN);
	struct fault f;

	c.attach = true;
	open_fails(fx, &c, FAULT_NOT_FOUND, ENODEV, "name", &f);
	assert_non_null(strstr(f.detail, "ip tuntap add dev nope0 mode tun"));
	assert_false(memio_device_exists(fx->m, "nope0"));
}

static void test_unprivileged_attach_ours(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_of("pre0", PORT_TAP), want;
	uint8_t frame[60];
	const uint8_t *w;
	size_t wlen;
	struct fault f = FAULT_INIT;
	struct port *p;

	/* `ip tuntap add dev pre0 mode tap user paird; ip link set pre0 up`, then drop root. */
	assert_int_equal(memio_device_add(fx->m, "pre0", true, true), 0);
	admin_link(fx, "pre0", 1, 0);
	memio_set_privileged(fx->m, false);

	c.attach = true;
	p = open_ok(fx, &c);
	assert_int_equal(port_state(p), PORT_STATE_UP);

	push_frames(fx, "pre0", 2, 60, 7);
	port_read_ready(p);
	assert_int_equal(fx->frames, 2);
	assert_int_equal(port_counters(p)->rx_frames, 2);
	frame_fill(frame, sizeof(frame), 3);
	assert_int_equal(port_write(p, frame, sizeof(frame)), 0);
	assert_int_equal(memio_written_count(fx->m, "pre0"), 1);
	w = memio_written(fx->m, "pre0", 0, &wlen);
	assert_int_equal(wlen, sizeof(frame));
	assert_memory_equal(w, frame, sizeof(frame));

	/* Link changes need CAP_NET_ADMIN: refused, and nothing changes. */
	want = *port_config(p);
	cfg_mtu(&want, 9000);
	assert_true(port_reconfigure(p, &want, &f) < 0);
	assert_int_equal(f.kind, FAULT_FORBIDDEN);
	assert_int_equal(f.err, EPERM);
	assert_string_equal(f.field, "mtu");
	assert_int_equal(memio_link(fx->m, "pre0")->mtu, 1500);
	assert_false(port_config(p)->has_mtu);

	want = *port_config(p);
	cfg_addr(&want, "198.18.0.1/24");
	f = (struct fault)FAULT_INIT;
	assert_true(port_reconfigure(p, &want, &f) < 0);
	assert_int_equal(f.kind, FAULT_FORBIDDEN);
	assert_string_equal(f.field, "addresses");
	assert_int_equal(memio_addr_count(fx->m, "pre0"), 0);
	assert_false(port_config(p)->has_addresses);
	assert_true(memio_link(fx->m, "pre0")->flags & IFF_UP);
	assert_int_equal(port_state(p), PORT_STATE_UP);

	port_free(p);
	assert_true(memio_device_exists(fx->m, "pre0"));
	assert_int_equal(memio_open_fds(fx->m), 0);
}

static void test_unprivileged_attach_not_ours(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_of("pre0", PORT_TUN);

	assert_int_equal(memio_device_add(fx->m, "pre0", false, false), 0);
	memio_set_privileged(fx->m, false);
	c.attach = true;
	open_fails(fx, &c, FAULT_FORBIDDEN, EPERM, "name", NULL);
	assert_true(memio_device_exists(fx->m, "pre0"));
}

/* --- the read loop --- */

static void test_read_until_eagain(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_of("p0", PORT_TAP);
	struct port *p = open_ok(fx, &c);
	unsigned before;

	push_frames(fx, "p0", 3, 60, 1);
	before = memio_calls(fx->m, MEMIO_READ);
	port_read_ready(p);
	assert_int_equal(fx->frames, 3);
	assert_int_equal(memio_calls(fx->m, MEMIO_READ) - before, 4); /* 3 frames + EAGAIN */
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(fx->seen_seed[i], 1 + i);
	assert_int_equal(fx->last_len, 60);
	assert_false(fx->last_truncated);
	assert_int_equal(port_counters(p)->rx_frames, 3);
	assert_int_equal(port_counters(p)->rx_bytes, 180);
	assert_int_equal(memio_queued(fx->m, "p0"), 0);

	/* Nothing queued: one read, EAGAIN, no error. */
	port_read_ready(p);
	assert_int_equal(fx->frames, 3);
	assert_int_equal(port_state(p), PORT_STATE_UP);
	port_free(p);
}

static void test_read_eintr(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_of("p0", PORT_TAP);
	struct port *p = open_ok(fx, &c);

	push_frames(fx, "p0", 3, 60, 1);
	memio_inject(fx->m, MEMIO_READ, 0);
	memio_inject(fx->m, MEMIO_READ, EINTR);
	port_read_ready(p);
	/* EINTR ends this turn without an error ... */
	assert_int_equal(fx->frames, 1);
	assert_int_equal(memio_queued(fx->m, "p0"), 2);
	assert_int_equal(port_state(p), PORT_STATE_UP);
	assert_int_equal(port_counters(p)->read_errors[EINTR], 0);
	/* ... and the next turn carries on where it stopped. */
	port_read_ready(p);
	assert_int_equal(fx->frames, 3);
	assert_int_equal(fx->seen_seed[1], 2);
	assert_int_equal(fx->seen_seed[2], 3);
	assert_int_equal(memio_queued(fx->m, "p0"), 0);
	port_free(p);
}

static void test_read_budget(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_of("p0", PORT_TAP);
	struct port *p;

	fx->env.read_budget = 1000;
	p = open_ok(fx, &c);
	push_frames(fx, "p0", 50, 100, 0);
	port_read_ready(p);
	assert_int_equal(fx->frames, 10);
	assert_int_equal(memio_queued(fx->m, "p0"), 40);
	port_read_ready(p);
	assert_int_equal(fx->frames, 20);
	assert_int_equal(memio_queued(fx->m, "p0"), 30);
	port_free(p);

	/* Frames that do not divide the budget: the frame that crosses it is the last. */
	c = cfg_of("p1", PORT_TAP);
	fx->frames = 0;
	p = open_ok(fx, &c);
	push_frames(fx, "p1", 10, 300, 0);
	port_read_ready(p);
	assert_int_equal(fx->frames, 4);
	assert_int_equal(memio_queued(fx->m, "p1"), 6);
	port_free(p);
}

static void test_read_default_budget(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_of("p0", PORT_TAP);
	struct port *p;

	cfg_mtu(&c, 9000);
	p = open_ok(fx, &c);
	push_frames(fx, "p0", 40, 9000, 0);
	port_read_ready(p);
	/* 256 KiB / 9000 = 29.1: the 30th frame crosses the budget. */
	assert_int_equal(fx->frames, (PORT_READ_BUDGET + 8999) / 9000);
	assert_int_equal(memio_queued(fx->m, "p0"), 40 - fx->frames);
	port_free(p);
}

/*
 * Small frames stop at the frame cap long before the byte budget: 64-byte
 * frames would otherwise be read 4,096 to a turn (8-10 ms on a slow host)
 * while the API and the other ports wait.
 */
static void test_read_frame_cap(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_of("p0", PORT_TAP);
	struct port *p = open_ok(fx, &c);

	push_frames(fx, "p0", 2 * PORT_READ_FRAMES + 10, 64, 0);
	port_read_ready(p);
	assert_int_equal(fx->frames, PORT_READ_FRAMES);
	assert_int_equal(memio_queued(fx->m, "p0"), PORT_READ_FRAMES + 10);
	port_read_ready(p);
	assert_int_equal(fx->frames, 2 * PORT_READ_FRAMES);
	port_read_ready(p);
	assert_int_equal(fx->frames, 2 * PORT_READ_FRAMES + 10);
	assert_int_equal(memio_queued(fx->m, "p0"), 0);
	port_free(p);

	/* A cap of the environment's own; the byte budget still applies under it. */
	c = cfg_of("p1", PORT_TAP);
	fx->frames = 0;
	fx->env.read_frames = 7;
	p = open_ok(fx, &c);
	push_frames(fx, "p1", 20, 64, 0);
	port_read_ready(p);
	assert_int_equal(fx->frames, 7);
	fx->env.read_budget = 3 * 64;
	port_read_ready(p);
	assert_int_equal(fx->frames, 10);
	port_free(p);
}

/*
 * A port whose turn ends on the cap or the budget tells the loop's sharing
 * that frames wait, until a turn ends on EAGAIN; an error, a deleted device
 * or port_free() take it back, so the API is never held to its share by a
 * port that cannot read (or has nothing left to).
 */
static void test_read_backlog(void **state)
{
	struct fx *fx = *state;
	struct loopshare *ls = loopshare_new(NULL, NULL);
	struct port_config c0 = cfg_of("p0", PORT_TAP), c1 = cfg_of("p1", PORT_TUN);
	struct port *p0, *p1;

	assert_non_null(ls);
	fx->env.share = ls;
	fx->env.read_frames = 4;
	p0 = open_ok(fx, &c0);
	p1 = open_ok(fx, &c1);
	assert_false(loopshare_backlogged(ls));
	push_frames(fx, "p0", 10, 64, 0);
	push_frames(fx, "p1", 10, 64, 0);
	port_read_ready(p0);
	assert_true(loopshare_backlogged(ls));
	port_read_ready(p1);
	port_read_ready(p0); /* the cap again: counted once */
	port_read_ready(p0); /* the last 2, then EAGAIN: p0 is done, p1 still waits */
	assert_int_equal(memio_queued(fx->m, "p0"), 0);
	assert_true(loopshare_backlogged(ls));
	port_read_ready(p1);
	port_read_ready(p1);
	assert_false(loopshare_backlogged(ls));
	/* A turn that ends on EAGAIN never starts it. */
	push_frames(fx, "p0", 3, 64, 0);
	port_read_ready(p0);
	assert_false(loopshare_backlogged(ls));

	/* Exactly the cap left: the next turn's EAGAIN clears it. */
	push_frames(fx, "p0", 4, 64, 0);
	port_read_ready(p0);
	assert_true(loopshare_backlogged(ls));
	port_read_ready(p0);
	assert_false(loopshare_backlogged(ls));

	/* A read error stops the port: nothing waits any more. */
	push_frames(fx, "p0", 10, 64, 0);
	port_read_ready(p0);
	assert_true(loopshare_backlogged(ls));
	memio_inject(fx->m, MEMIO_READ, EIO);
	port_read_ready(p0);
	assert_int_equal(port_state(p0), PORT_STATE_ERROR);
	assert_false(loopshare_backlogged(ls));

	/* Freed while frames wait, from its own sink too. */
	push_frames(fx, "p1", 10, 64, 0);
	port_read_ready(p1);
	assert_true(loopshare_backlogged(ls));
	fx->free_at = fx->frames + 2;
	port_read_ready(p1);
	assert_false(loopshare_backlogged(ls));
	port_free(p0);
	loopshare_free(ls);
}

static void test_read_truncated(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_of("p0", PORT_TAP);
	size_t big = PORT_FRAME_MAX + 100;
	uint8_t *frame = malloc(big);
	struct port *p = open_ok(fx, &c);

	assert_non_null(frame);
	frame_fill(frame, big, 5);
	assert_int_equal(memio_push(fx->m, "p0", frame, big), 0);
	assert_int_equal(memio_push(fx->m, "p0", frame, PORT_FRAME_MAX), 0);
	assert_int_equal(memio_push(fx->m, "p0", frame, 60), 0);
	fx->expect = frame;
	port_read_ready(p);
	assert_int_equal(fx->frames, 3);
	assert_int_equal(fx->truncated, 1);
	assert_int_equal(port_counters(p)->truncated, 1);
	assert_int_equal(port_counters(p)->rx_frames, 3);
	assert_false(fx->last_truncated);
	assert_int_equal(fx->last_len, 60);
	port_free(p);
	free(frame);
}

static void test_read_truncated_len(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_of("p0", PORT_TAP);
	size_t big = PORT_FRAME_MAX + 1;
	uint8_t *frame = calloc(1, big);
	struct port *p = open_ok(fx, &c);

	assert_non_null(frame);
	assert_int_equal(memio_push(fx->m, "p0", frame, big), 0);
	port_read_ready(p);
	assert_int_equal(fx->frames, 1);
	assert_true(fx->last_truncated);
	assert_int_equal(fx->last_len, PORT_FRAME_MAX);
	port_free(p);
	free(frame);
}

static void test_read_fatal_errno(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_of("p0", PORT_TAP);
	struct port *p = open_ok(fx, &c);
	const struct port_error *e;
	unsigned reads;

	push_frames(fx, "p0", 3, 60, 1);
	memio_inject(fx->m, MEMIO_READ, 0);
	memio_inject(fx->m, MEMIO_READ, EIO);
	port_read_ready(p);
	assert_int_equal(fx->frames, 1);
	assert_int_equal(port_state(p), PORT_STATE_ERROR);
	assert_string_equal(port_state_name(port_state(p)), "error");
	e = port_last_error(p);
	assert_int_equal(e->err, EIO);
	assert_string_equal(e->op, "read");
	assert_true(strlen(e->message) > 0);
	assert_true(e->when.tv_sec > 0);
	assert_int_equal(port_counters(p)->read_errors[EIO], 1);
	assert_int_equal(port_counters(p)->rx_frames, 1); /* counters are kept */
	assert_int_equal(fx->events[PORT_EV_ERROR], 1);

	/* Reading has stopped: no more read calls, the rest stays queued. */
	reads = memio_calls(fx->m, MEMIO_READ);
	port_read_ready(p);
	port_read_ready(p);
	assert_int_equal(memio_calls(fx->m, MEMIO_READ), reads);
	assert_int_equal(memio_queued(fx->m, "p0"), 2);
	assert_int_equal(fx->frames, 1);
	assert_int_equal(fx->events[PORT_EV_ERROR], 1);

	port_free(p);
	assert_int_equal(memio_open_fds(fx->m), 0);
	assert_false(memio_device_exists(fx->m, "p0"));
}

static void test_read_errno_other_slot(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_of("p0", PORT_TAP);
	struct port *p = open_ok(fx, &c);

	memio_inject(fx->m, MEMIO_READ, 4000); /* beyond the named errno slots */
	port_read_ready(p);
	assert_int_equal(port_state(p), PORT_STATE_ERROR);
	assert_int_equal(port_counters(p)->read_errors[0], 1);
	assert_int_equal(port_last_error(p)->err, 4000);
	port_free(p);
}

static void test_read_device_deleted(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_of("pre0", PORT_TAP);
	struct port *p;
	struct fault f = FAULT_INIT;
	unsigned reads;

	assert_int_equal(memio_device_add(fx->m, "pre0", true, true), 0);
	c.attach = true;
	p = open_ok(fx, &c);
	push_frames(fx, "pre0", 1, 60, 1);
	port_read_ready(p);
	assert_int_equal(fx->frames, 1);

	assert_int_equal(memio_device_delete(fx->m, "pre0"), 0);
	port_read_ready(p);
	assert_int_equal(port_state(p), PORT_STATE_GONE);
	assert_string_equal(port_state_name(port_state(p)), "gone");
	assert_int_equal(fx->events[PORT_EV_GONE], 1);
	assert_int_equal(port_last_error(p)->err, ENODEV);
	assert_int_equal(memio_open_fds(fx->m), 0); /* released, not spinning */
	assert_int_equal(port_counters(p)->rx_frames, 1);

	reads = memio_calls(fx->m, MEMIO_READ);
	port_read_ready(p);
	assert_int_equal(memio_calls(fx->m, MEMIO_READ), reads);
	assert_int_equal(port_write(p, "x", 1), -ENODEV);
	assert_true(port_reconfigure(p, port_config(p), &f) < 0);
	assert_int_equal(f.kind, FAULT_CONFLICT);
	port_mark_gone(p); /* idempotent */
	assert_int_equal(fx->events[PORT_EV_GONE], 1);
	port_free(p);
}

static void test_read_ebadfd_injected(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_of("p0", PORT_TUN);
	struct port *p = open_ok(fx, &c);

	memio_inject(fx->m, MEMIO_READ, EBADFD);
	port_read_ready(p);
	assert_int_equal(port_state(p), PORT_STATE_GONE);
	assert_int_equal(memio_open_fds(fx->m), 0);
	assert_int_equal(port_counters(p)->read_errors[EBADFD], 0);
	port_free(p);
}

static void test_free_from_sink(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_of("p0", PORT_TAP);
	struct port *p = open_ok(fx, &c);

	push_frames(fx, "p0", 3, 60, 1);
	fx->free_at = 1;
	port_read_ready(p); /* frees p from inside the sink; p is invalid afterwards */
	assert_int_equal(fx->frames, 1);
	assert_int_equal(memio_open_fds(fx->m), 0);
	assert_false(memio_device_exists(fx->m, "p0"));
}

static void test_free_from_event(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_of("p0", PORT_TAP);
	struct port *p = open_ok(fx, &c);

	push_frames(fx, "p0", 2, 60, 1);
	memio_inject(fx->m, MEMIO_READ, EIO);
	fx->free_on_event = true;
	port_read_ready(p);
	assert_int_equal(fx->events[PORT_EV_ERROR], 1);
	assert_int_equal(memio_open_fds(fx->m), 0);
	assert_false(memio_device_exists(fx->m, "p0"));
}

static void test_event_loop(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_of("p0", PORT_TAP);
	struct event_base *base = event_base_new();
	struct port *p;

	assert_non_null(base);
	fx->env.base = base;
	p = open_ok(fx, &c);
	assert_int_equal(port_state(p), PORT_STATE_UP);
	push_frames(fx, "p0", 3, 60, 1);
	assert_int_equal(event_base_loop(base, EVLOOP_NONBLOCK), 0);
	assert_int_equal(fx->frames, 3);
	assert_int_equal(memio_queued(fx->m, "p0"), 0);

	/* Nothing readable: the loop does not call the port. */
	assert_int_equal(event_base_loop(base, EVLOOP_NONBLOCK), 0);
	assert_int_equal(fx->frames, 3);

	/* Freed from the sink while libevent runs the port's callback. */
	push_frames(fx, "p0", 2, 60, 10);
	fx->free_at = 4;
	/* 1: the loop ran the callback, then found no events left (the port's is freed). */
	assert_int_equal(event_base_loop(base, EVLOOP_NONBLOCK), 1);
	assert_int_equal(fx->frames, 4);
	assert_int_equal(memio_open_fds(fx->m), 0);
	assert_int_equal(event_base_loop(base, EVLOOP_NONBLOCK), 1); /* no events left */
	event_base_free(base);
}

/*
 * A port that never runs dry (its sink queues a frame for each one read)
 * gives the loop back after PORT_READ_FRAMES frames of 64 bytes, turn after
 * turn: everything else on the loop gets its turn that often.
 */
static void test_event_loop_endless(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_of("p0", PORT_TAP);
	struct event_base *base = event_base_new();
	struct port *p;

	assert_non_null(base);
	fx->env.base = base;
	p = open_ok(fx, &c);
	push_frames(fx, "p0", 1, 64, 1);
	fx->endless = true;
	for (unsigned turn = 1; turn <= 3; turn++) {
		assert_int_equal(event_base_loop(base, EVLOOP_ONCE), 0);
		assert_int_equal(fx->frames, turn * PORT_READ_FRAMES);
		assert_int_equal(memio_queued(fx->m, "p0"), 1);
	}
	port_free(p);
	event_base_free(base);
}

/* --- writes --- */

static void test_write(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_of("p0", PORT_TAP);
	struct port *p = open_ok(fx, &c);
	uint8_t frame[64];
	const uint8_t *w;
	size_t wlen;

	frame_fill(frame, sizeof(frame), 9);
	assert_int_equal(port_write(p, frame, sizeof(frame)), 0);
	assert_int_equal(memio_written_count(fx->m, "p0"), 1);
	w = memio_written(fx->m, "p0", 0, &wlen);
	assert_int_equal(wlen, sizeof(frame));
	assert_memory_equal(w, frame, sizeof(frame));
	assert_int_equal(port_counters(p)->tx_frames, 1);
	assert_int_equal(port_counters(p)->tx_bytes, sizeof(frame));
	port_free(p);
}

static void test_write_eintr(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_of("p0", PORT_TAP);
	struct port *p = open_ok(fx, &c);
	uint8_t frame[64] = { 1 };
	unsigned before = memio_calls(fx->m, MEMIO_WRITE);

	memio_inject(fx->m, MEMIO_WRITE, EINTR);
	memio_inject(fx->m, MEMIO_WRITE, EINTR);
	assert_int_equal(port_write(p, frame, sizeof(frame)), 0);
	assert_int_equal(memio_calls(fx->m, MEMIO_WRITE) - before, 3);
	assert_int_equal(memio_written_count(fx->m, "p0"), 1);
	assert_int_equal(port_counters(p)->tx_frames, 1);
	assert_int_equal(port_counters(p)->write_errors[EINTR], 0);

	/* A signal storm does not spin forever. */
	for (int i = 0; i < 16; i++)
		memio_inject(fx->m, MEMIO_WRITE, EINTR);
	before = memio_calls(fx->m, MEMIO_WRITE);
	assert_int_equal(port_write(p, frame, sizeof(frame)), -EINTR);
	assert_true(memio_calls(fx->m, MEMIO_WRITE) - before <= 16);
	port_free(p);
}

static void test_write_errors(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_of("p0", PORT_TAP);
	struct port *p = open_ok(fx, &c);
	uint8_t frame[64] = { 1 };
	const struct port_counters *k = port_counters(p);

	memio_set_write_limit(fx->m, 1);
	assert_int_equal(port_write(p, frame, sizeof(frame)), 0);
	assert_int_equal(port_write(p, frame, sizeof(frame)), -ENOBUFS);
	assert_int_equal(port_write(p, frame, sizeof(frame)), -ENOBUFS);
	assert_int_equal(k->write_errors[ENOBUFS], 2);
	memio_inject(fx->m, MEMIO_WRITE, EIO);
	assert_int_equal(port_write(p, frame, sizeof(frame)), -EIO);
	assert_int_equal(k->write_errors[EIO], 1);
	assert_int_equal(k->tx_frames, 1);
	assert_int_equal(k->tx_bytes, sizeof(frame));
	assert_int_equal(memio_written_count(fx->m, "p0"), 1);
	/* A write error does not stop the port. */
	assert_int_equal(port_state(p), PORT_STATE_UP);
	port_free(p);
}

static void test_write_down_link(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_of("p0", PORT_TAP);
	struct port *p;
	uint8_t frame[64] = { 1 };

	c.has_up = true;
	c.up = false;
	p = open_ok(fx, &c);
	assert_int_equal(port_write(p, frame, sizeof(frame)), -EIO);
	assert_int_equal(port_counters(p)->write_errors[EIO], 1);
	assert_int_equal(port_counters(p)->tx_frames, 0);
	assert_int_equal(memio_written_count(fx->m, "p0"), 0);
	port_free(p);
}

/* --- reconfigure --- */

static void test_reconfigure(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_of("p0", PORT_TAP), want;
	struct fault f = FAULT_INIT;
	const struct link_state *ls;
	struct port *p;

	cfg_addr(&c, "198.18.0.1/24");
	cfg_addr(&c, "198.18.1.1/24");
	p = open_ok(fx, &c);
	want = *port_config(p);
	want.n_addrs = 0;
	cfg_addr(&want, "198.18.0.1/25"); /* the same address moves to /25 */
	cfg_addr(&want, "2001:db8::1/64");
	cfg_mtu(&want, 9000);
	want.has_mac = true;
	memcpy(want.mac, (uint8_t[6]){ 0x02, 0, 0, 0, 0, 0x42 }, 6);
	want.up = false;
	assert_int_equal(port_reconfigure(p, &want, &f), 0);
	assert_int_equal(f.kind, FAULT_NONE);
	ls = memio_link(fx->m, "p0");
	assert_int_equal(ls->mtu, 9000);
	assert_false(ls->flags & IFF_UP);
	assert_int_equal(ls->mac[5], 0x42);
	assert_int_equal(memio_addr_count(fx->m, "p0"), 2);
	assert_true(memio_has_addr(fx->m, "p0", "198.18.0.1/25"));
	assert_true(memio_has_addr(fx->m, "p0", "2001:db8::1/64"));
	assert_int_equal(port_state(p), PORT_STATE_DOWN);
	assert_int_equal(port_link(p)->mtu, 9000);
	assert_int_equal(port_config(p)->mtu, 9000);
	assert_int_equal(port_config(p)->n_addrs, 2);

	/* The same configuration again changes nothing on the link. */
	{
		unsigned ls_calls = memio_calls(fx->m, MEMIO_LINK_SET);
		unsigned as_calls = memio_calls(fx->m, MEMIO_ADDR_SET);

		assert_int_equal(port_reconfigure(p, &want, &f), 0);
		assert_int_equal(memio_calls(fx->m, MEMIO_LINK_SET), ls_calls);
		assert_int_equal(memio_calls(fx->m, MEMIO_ADDR_SET), as_calls);
	}
	port_free(p);
}

static void test_reconfigure_undo(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_of("p0", PORT_TAP), want;
	struct fault f = FAULT_INIT;
	struct port *p;

	cfg_mtu(&c, 1500);
	cfg_addr(&c, "198.18.0.1/24");
	p = open_ok(fx, &c);
	want = *port_config(p);
	cfg_mtu(&want, 9000);
	cfg_addr(&want, "198.18.1.1/24");
	cfg_addr(&want, "198.18.2.1/24");
	/* The MTU changes, the first new address is added, the second fails. */
	memio_inject(fx->m, MEMIO_ADDR_SET, 0);
	memio_inject(fx->m, MEMIO_ADDR_SET, EACCES);
	assert_true(port_reconfigure(p, &want, &f) < 0);
	assert_int_equal(f.kind, FAULT_FORBIDDEN);
	assert_int_equal(f.err, EACCES);
	assert_string_equal(f.field, "addresses");
	assert_int_equal(memio_link(fx->m, "p0")->mtu, 1500);
	assert_int_equal(port_link(p)->mtu, 1500);
	assert_int_equal(memio_addr_count(fx->m, "p0"), 1);
	assert_true(memio_has_addr(fx->m, "p0", "198.18.0.1/24"));
	assert_int_equal(port_config(p)->mtu, 1500);
	assert_int_equal(port_config(p)->n_addrs, 1);
	assert_int_equal(port_state(p), PORT_STATE_UP);
	port_free(p);
}

static void test_reconfigure_undo_removals(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_of("p0", PORT_TUN), want;
	struct fault f = FAULT_INIT;
	struct port *p;

	cfg_addr(&c, "198.18.0.1/24");
	cfg_addr(&c, "198.18.1.1/24");
	p = open_ok(fx, &c);
	want = *port_config(p);
	want.n_addrs = 0;
	cfg_addr(&want, "2001:db8::1/64");
	memio_inject(fx->m, MEMIO_ADDR_SET, 0);
	memio_inject(fx->m, MEMIO_ADDR_SET, 0);
	memio_inject(fx->m, MEMIO_ADDR_SET, ENOMEM);
	assert_true(port_reconfigure(p, &want, &f) < 0);
	assert_int_equal(f.kind, FAULT_UNAVAILABLE);
	assert_int_equal(memio_addr_count(fx->m, "p0"), 2);
	assert_true(memio_has_addr(fx->m, "p0", "198.18.0.1/24"));
	assert_true(memio_has_addr(fx->m, "p0", "198.18.1.1/24"));
	assert_false(memio_has_addr(fx->m, "p0", "2001:db8::1/64"));
	port_free(p);
}

/* --- ports that never opened, link events, names --- */

static void test_new_failed(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_of("lost0", PORT_TAP);
	struct fault why = FAULT_INIT, f = FAULT_INIT;
	struct port *p;
	unsigned reads = memio_calls(fx->m, MEMIO_READ);

	cfg_mtu(&c, 9000);
	fault_set(&why, FAULT_NOT_FOUND, ENODEV, "name", "no interface named lost0");
	p = port_new_failed(&fx->env, &c, &why);
	assert_non_null(p);
	assert_int_equal(port_state(p), PORT_STATE_ERROR);
	assert_string_equal(port_last_error(p)->op, "open");
	assert_int_equal(port_last_error(p)->err, ENODEV);
	assert_string_equal(port_last_error(p)->message, "no interface named lost0");
	assert_int_equal(port_config(p)->mtu, 9000);
	assert_int_equal(port_ifindex(p), 0);
	assert_int_equal(port_write(p, "x", 1), -EBADF);
	port_read_ready(p);
	assert_int_equal(memio_calls(fx->m, MEMIO_READ), reads);
	assert_true(port_reconfigure(p, &c, &f) < 0);
	assert_int_equal(f.kind, FAULT_CONFLICT);
	port_free(p);
}

static void test_link_update_and_gone(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_of("p0", PORT_TAP);
	struct port *p = open_ok(fx, &c);
	struct link_state ls = *port_link(p);

	ls.flags &= ~(unsigned)IFF_UP;
	port_link_update(p, &ls);
	assert_int_equal(port_state(p), PORT_STATE_DOWN);
	ls.flags |= IFF_UP;
	ls.ifindex += 100; /* another interface: ignored */
	port_link_update(p, &ls);
	assert_int_equal(port_state(p), PORT_STATE_DOWN);
	ls.ifindex -= 100;
	ls.mtu = 1280;
	port_link_update(p, &ls);
	assert_int_equal(port_state(p), PORT_STATE_UP);
	assert_int_equal(port_link(p)->mtu, 1280);

	port_mark_gone(p);
	assert_int_equal(port_state(p), PORT_STATE_GONE);
	assert_int_equal(fx->events[PORT_EV_GONE], 1);
	assert_int_equal(port_ifindex(p), 0);
	assert_int_equal(memio_open_fds(fx->m), 0);
	port_link_update(p, &ls); /* a gone port stays gone */
	assert_int_equal(port_state(p), PORT_STATE_GONE);
	port_free(p);
}

static void test_flag_names(void **state)
{
	const char *names[4];

	(void)state;
	assert_int_equal(port_tun_flag_names(IFF_TAP | IFF_NO_PI | IFF_PERSIST, names, 4), 3);
	assert_string_equal(names[0], "IFF_TAP");
	assert_string_equal(names[1], "IFF_NO_PI");
	assert_string_equal(names[2], "IFF_PERSIST");
	assert_int_equal(port_tun_flag_names(IFF_TAP | IFF_NO_PI, names, 1), 1);
	assert_int_equal(port_tun_flag_names(0, names, 4), 0);
	assert_string_equal(port_state_name(PORT_STATE_DOWN), "down");
}

/* --- the kernel's view: IPv6 addresses kept, lost ones added back, drift shown --- */

/* An outside `ip link set NAME ...` on the memory kernel. */
static void outside_link(struct fx *fx, const char *name, int up, uint32_t mtu)
{
	struct link_change ch = { .up = up, .mtu = mtu };

	assert_int_equal(memio_link_change(fx->m, name, &ch), 0);
}

static bool kernel_lists(const struct port *p, const char *prefix)
{
	struct ip_prefix want;
	const struct ip_prefix *a;
	const char *why;
	unsigned n;

	assert_int_equal(prefix_parse(prefix, &want, &why), 0);
	a = port_kernel_addrs(p, &n);
	for (unsigned i = 0; a && i < n; i++)
		if (prefix_equal(&a[i], &want))
			return true;
	return false;
}

static struct port_config cfg_dual(void)
{
	struct port_config c = cfg_of("p0", PORT_TAP);

	cfg_addr(&c, "198.18.0.1/24");
	cfg_addr(&c, "2001:db8::1/64");
	return c;
}

/* PATCH {"up":false} then {"up":true}: the IPv6 address stays on the link. */
static void test_ipv6_kept_down_up(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_dual();
	struct port *p = open_ok(fx, &c);
	struct fault f = FAULT_INIT;

	assert_true(memio_keeps_addrs(fx->m, "p0"));
	c.has_up = true;
	c.up = false;
	assert_int_equal(port_reconfigure(p, &c, &f), 0);
	assert_true(memio_has_addr(fx->m, "p0", "2001:db8::1/64"));
	c.up = true;
	assert_int_equal(port_reconfigure(p, &c, &f), 0);
	assert_true(memio_has_addr(fx->m, "p0", "2001:db8::1/64"));
	assert_true(memio_has_addr(fx->m, "p0", "198.18.0.1/24"));
	assert_true(kernel_lists(p, "2001:db8::1/64"));
	assert_int_equal(port_drift(p), 0);
	port_free(p);
}

/*
 * Without keep_addr_on_down (the sysctl could not be written) the kernel
 * flushes the IPv6 address when the link goes down; bringing the link up
 * adds it back.
 */
static void test_ipv6_readded_on_up(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_dual();
	struct port *p;
	struct fault f = FAULT_INIT;

	memio_inject(fx->m, MEMIO_KEEP_ADDRS, EACCES);
	p = open_ok(fx, &c);
	assert_false(memio_keeps_addrs(fx->m, "p0"));
	outside_link(fx, "p0", 0, 0);
	assert_false(memio_has_addr(fx->m, "p0", "2001:db8::1/64"));
	memio_inject(fx->m, MEMIO_KEEP_ADDRS, EACCES);
	c.has_up = true;
	c.up = true;
	assert_int_equal(port_reconfigure(p, &c, &f), 0);
	assert_true(memio_link(fx->m, "p0")->flags & IFF_UP);
	assert_true(memio_has_addr(fx->m, "p0", "2001:db8::1/64"));
	assert_int_equal(port_drift(p), 0);
	port_free(p);
}

/* Asking again for the same list puts back what the kernel lost: not a no-op. */
static void test_same_list_restores(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_dual();
	struct port *p = open_ok(fx, &c);
	struct fault f = FAULT_INIT;
	unsigned adds;

	assert_int_equal(memio_addr_remove(fx->m, "p0", "2001:db8::1/64"), 0);
	assert_int_equal(memio_addr_remove(fx->m, "p0", "198.18.0.1/24"), 0);
	adds = memio_calls(fx->m, MEMIO_ADDR_SET);
	assert_int_equal(port_reconfigure(p, &c, &f), 0);
	assert_int_equal(memio_calls(fx->m, MEMIO_ADDR_SET), adds + 2);
	assert_true(memio_has_addr(fx->m, "p0", "2001:db8::1/64"));
	assert_true(memio_has_addr(fx->m, "p0", "198.18.0.1/24"));
	assert_int_equal(port_drift(p), 0);
	port_free(p);
}

/*
 * An outside MTU below 1280 flushes the IPv6 address: it cannot come back
 * and shows as drift; once the MTU is back, a link event restores it.
 */
static void test_reconcile_outside_mtu(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_dual();
	struct port *p = open_ok(fx, &c);

	outside_link(fx, "p0", -1, 1000);
	port_link_update(p, memio_link(fx->m, "p0"));
	assert_int_equal(port_reconcile(p), 0);
	assert_false(memio_has_addr(fx->m, "p0", "2001:db8::1/64"));
	assert_false(kernel_lists(p, "2001:db8::1/64"));
	assert_true(kernel_lists(p, "198.18.0.1/24"));
	assert_int_equal(port_drift(p), PORT_DRIFT_ADDRESSES);

	outside_link(fx, "p0", -1, 1500);
	port_link_update(p, memio_link(fx->m, "p0"));
	assert_int_equal(port_reconcile(p), 0);
	assert_true(memio_has_addr(fx->m, "p0", "2001:db8::1/64"));
	/* The link's IPv6 state was made afresh: the sysctl is set again. */
	assert_true(memio_keeps_addrs(fx->m, "p0"));
	assert_int_equal(port_drift(p), 0);
	port_free(p);
}

/* An outside `ip addr del` is undone at the next address event. */
static void test_reconcile_outside_delete(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_dual();
	struct port *p = open_ok(fx, &c);

	assert_int_equal(memio_addr_remove(fx->m, "p0", "198.18.0.1/24"), 0);
	assert_int_equal(port_reconcile(p), 0);
	assert_true(memio_has_addr(fx->m, "p0", "198.18.0.1/24"));
	assert_true(kernel_lists(p, "198.18.0.1/24"));
	assert_int_equal(port_drift(p), 0);
	port_free(p);
}

/* What differs is named: an outside down, an extra address on paird's own device. */
static void test_drift(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_dual();
	struct port *p = open_ok(fx, &c);
	struct port_config none = cfg_of("p1", PORT_TUN);
	struct port *q;

	outside_link(fx, "p0", 0, 0);
	port_link_update(p, memio_link(fx->m, "p0"));
	assert_int_equal(port_reconcile(p), 0);
	/* keep_addr_on_down held the IPv6 address; only "up" (implied at creation) differs. */
	assert_true(memio_has_addr(fx->m, "p0", "2001:db8::1/64"));
	assert_int_equal(port_drift(p), PORT_DRIFT_UP);

	/* A device paird created holds only what paird put there. */
	q = open_ok(fx, &none);
	admin_addr_add(fx->m, "p1", "198.18.9.1/24");
	assert_int_equal(port_reconcile(q), 0);
	assert_true(kernel_lists(q, "198.18.9.1/24"));
	assert_int_equal(port_drift(q), PORT_DRIFT_ADDRESSES);
	port_free(q);
	port_free(p);
}

/*
 * IPv6 address out, MTU below 1280, then a refusal: the undo raises the
 * MTU before adding the IPv6 address back, so the link ends as it began.
 */
static void test_undo_mtu_drop_keeps_ipv6(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_dual();
	struct port *p = open_ok(fx, &c);
	struct port_config want = cfg_of("p0", PORT_TAP);
	struct fault f = FAULT_INIT;

	cfg_addr(&want, "198.18.0.1/24");
	cfg_mtu(&want, 1000);
	want.has_up = true;
	want.up = false;
	memio_inject(fx->m, MEMIO_LINK_SET, 0);	  /* the MTU */
	memio_inject(fx->m, MEMIO_LINK_SET, EIO); /* the down */
	assert_true(port_reconfigure(p, &want, &f) < 0);
	assert_int_equal(f.err, EIO);
	assert_int_equal(memio_link(fx->m, "p0")->mtu, 1500);
	assert_true(memio_has_addr(fx->m, "p0", "2001:db8::1/64"));
	assert_true(memio_has_addr(fx->m, "p0", "198.18.0.1/24"));
	assert_int_equal(port_drift(p), 0);
	port_free(p);
}

/*
 * The link's MTU fell below 1280 outside paird (IPv6 flushed); a request
 * that drops the IPv6 address and raises the MTU succeeds instead of
 * failing on the removal (ENXIO: the link has no IPv6 state).
 */
static void test_remove_lost_ipv6(void **state)
{
	struct fx *fx = *state;
	struct port_config c = cfg_dual();
	struct port *p = open_ok(fx, &c);
	struct port_config want = cfg_of("p0", PORT_TAP);
	struct fault f = FAULT_INIT;

	outside_link(fx, "p0", -1, 1000);
	cfg_addr(&want, "198.18.0.1/24");
	cfg_mtu(&want, 1500);
	if (port_reconfigure(p, &want, &f) != 0)
		fail_msg("%s", f.detail);
	assert_int_equal(memio_link(fx->m, "p0")->mtu, 1500);
	assert_int_equal(memio_addr_count(fx->m, "p0"), 1);
	assert_int_equal(port_drift(p), 0);
	port_free(p);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_create_tap),
		T(test_create_tun_packet_info_down),
		T(test_open_enoent),
		T(test_open_emfile),
		T(test_create_unprivileged),
		T(test_attach_busy),
		T(test_attach_type_mismatch),
		T(test_create_link_set_eperm),
		T(test_create_addr_fails_midway),
		T(test_create_later_steps_fail),
		T(test_tunsetiff_details),
		T(test_attach_undo_addresses),
		T(test_attach_undo_link),
		T(test_create_over_existing_name),
		T(test_attach_missing),
		T(test_unprivileged_attach_ours),
		T(test_unprivileged_attach_not_ours),
		T(test_read_until_eagain),
		T(test_read_eintr),
		T(test_read_budget),
		T(test_read_default_budget),
		T(test_read_frame_cap),
		T(test_read_backlog),
		T(test_read_truncated),
		T(test_read_truncated_len),
		T(test_read_fatal_errno),
		T(test_read_errno_other_slot),
		T(test_read_device_deleted),
		T(test_read_ebadfd_injected),
		T(test_free_from_sink),
		T(test_free_from_event),
		T(test_event_loop),
		T(test_event_loop_endless),
		T(test_write),
		T(test_write_eintr),
		T(test_write_errors),
		T(test_write_down_link),
		T(test_reconfigure),
		T(test_reconfigure_undo),
		T(test_reconfigure_undo_removals),
		T(test_new_failed),
		T(test_link_update_and_gone),
		T(test_flag_names),
		T(test_ipv6_kept_down_up),
		T(test_ipv6_readded_on_up),
		T(test_same_list_restores),
		T(test_reconcile_outside_mtu),
		T(test_reconcile_outside_delete),
		T(test_drift),
		T(test_undo_mtu_drop_keeps_ipv6),
		T(test_remove_lost_ipv6),
	};

	return cmocka_run_group_tests_name("port", tests, NULL, NULL);
}
