/* SPDX-License-Identifier: MIT */
/*
 * Every OS call a port makes goes through one table of operations
 * (DESIGN.md, "Ports"): the kernel implementation (portio_kernel.c) talks
 * to /dev/net/tun and rtnetlink; the memory implementation, a test fake
 * (tests/fakes/portio_mem.c), keeps devices and frames in memory, injects
 * errnos per call and needs no root, so unit tests drive the whole port
 * lifecycle and read loop on it.
 *
 * All operations return 0 (or a count) on success and a negative errno on
 * failure; none of them sets errno for the caller to read.
 */
#ifndef PAIRD_PORTIO_H
#define PAIRD_PORTIO_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "netaddr.h"

/* What the kernel says about a link (RTM_NEWLINK). */
struct link_state {
	int ifindex;
	unsigned int flags; /* IFF_UP, IFF_RUNNING, ... */
	uint32_t mtu;
	bool has_mac;
	uint8_t mac[6];
	/* IFLA_CARRIER: on a tun/tap, on while some program holds a queue of it (tun_attach()). */
	bool has_carrier, carrier;
	bool is_tun;   /* IFLA_LINKINFO's kind is "tun" (a tun or a tap) */
	char kind[16]; /* IFLA_LINKINFO's kind ("tun", "veth", ...); "" when none */
	/* A tun/tap's IFLA_INFO_DATA: IFF_TUN or IFF_TAP, 0 when not reported. */
	unsigned short tun_type;
	bool tun_multi_queue; /* IFLA_TUN_MULTI_QUEUE; meaningful with tun_type */
	bool moved;	      /* RTM_DELLINK because the link moved to another network namespace */
	/*
	 * RTM_NEWADDR/RTM_DELADDR: an address of the link changed; only
	 * @ifindex is meaningful, the link's other fields are not reported.
	 * With @ifindex 0: notifications were lost (ENOBUFS), every link is
	 * to be read again.
	 */
	bool addr_event;
};

/* A change to a link; fields left at their "keep" value are not touched. */
struct link_change {
	int up;		    /* -1 keep, 0 down, 1 up */
	uint32_t mtu;	    /* 0 keep */
	const uint8_t *mac; /* NULL keep */
};

struct port_io_ops {
	const char *name;
	/* open(2) of the clone device; returns an fd or -errno. */
	int (*open)(void *ctx, const char *path, int flags);
	/* ioctl(2) on a port fd (TUNSETIFF, TUNGETIFF, TUNSETOFFLOAD). */
	int (*ioctl)(void *ctx, int fd, unsigned long request, void *arg);
	/*
	 * One datagram. Like tun, returns the datagram's full length even when
	 * only @len bytes fit in @buf, so a result > @len means truncated.
	 */
	ssize_t (*read)(void *ctx, int fd, void *buf, size_t len);
	ssize_t (*write)(void *ctx, int fd, const void *buf, size_t len);
	int (*close)(void *ctx, int fd);
	/* The ifindex of the interface called @name, or -ENODEV. */
	int (*link_index)(void *ctx, const char *name);
	int (*link_get)(void *ctx, int ifindex, struct link_state *out);
	int (*link_set)(void *ctx, int ifindex, const struct link_change *change);
	/* Adds (@add) or removes one kernel-side address of the link. */
	int (*addr_set)(void *ctx, int ifindex, const struct ip_prefix *prefix, bool add);
	/*
	 * The link's administrator addresses (RTM_GETADDR: global scope and
	 * permanent; link-local, host-scope and the kernel's SLAAC, temporary
	 * or leased ones with a lifetime are left out): up to @max into @out. Returns how
	 * many the link has, which may exceed @max, or -errno.
	 */
	int (*addr_list)(void *ctx, int ifindex, struct ip_prefix *out, unsigned max);
	/*
	 * Makes the kernel keep the link's IPv6 addresses while it is down
	 * (net.ipv6.conf.<name>.keep_addr_on_down = 1). -ENOENT when the link
	 * has no IPv6 configuration (IPv6 off, or an MTU below 1280).
	 */
	int (*keep_addrs)(void *ctx, const char *name);
};

/* An implementation and its context; held by value. */
struct port_io {
	const struct port_io_ops *ops;
	void *ctx;
};

/* One write of @len bytes on @fd, EINTR retried (16 times at most): the op's result. */
static inline ssize_t port_io_write(const struct port_io *io, int fd, const void *buf, size_t len)
{
	ssize_t n;
	int tries = 0;

	do
		n = io->ops->write(io->ctx, fd, buf, len);
	while (n == -EINTR && ++tries < 16);
	return n;
}

#endif
