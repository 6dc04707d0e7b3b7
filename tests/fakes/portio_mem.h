/* SPDX-License-Identifier: MIT */
/*
 * The memory port I/O (Twisted Pair's MemoryIOSystem idea): tun/tap
 * devices, their links and addresses, frames to read and frames written,
 * all in memory. Every operation can be made to fail with a chosen errno,
 * in order, so tests reach each error path of the port code without root.
 *
 * Semantics follow the kernel where tests depend on them: TUNSETIFF creates
 * a non-persistent device (EPERM when unprivileged), attaches to an
 * existing one (EBUSY if attached, EINVAL on a type mismatch, EBUSY with
 * IFF_TUN_EXCL), closing the last fd removes a non-persistent device,
 * reads return the full frame length even when truncated, a deleted
 * device's fd reads EBADFD, writes to a down link fail with EIO, going
 * down flushes IPv6 addresses unless keep_addr_on_down is set, an MTU
 * below 1280 flushes them, refuses new ones (EINVAL) and removals (ENXIO). Each fd is
 * a real eventfd that is readable while frames are queued, so a libevent
 * loop can poll it.
 */
#ifndef PAIRD_PORTIO_MEM_H
#define PAIRD_PORTIO_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../service/portio.h"

enum memio_op {
	MEMIO_OPEN,
	MEMIO_IOCTL,
	MEMIO_READ,
	MEMIO_WRITE,
	MEMIO_CLOSE,
	MEMIO_LINK_INDEX,
	MEMIO_LINK_GET,
	MEMIO_LINK_SET,
	MEMIO_ADDR_SET,
	MEMIO_ADDR_LIST,
	MEMIO_KEEP_ADDRS,
	MEMIO_OP_COUNT
};

struct memio;

struct memio *memio_new(void);
void memio_free(struct memio *m);
/* The operations table bound to @m. */
struct port_io memio_io(struct memio *m);

/* Privileged (the default) behaves as CAP_NET_ADMIN; unprivileged gets EPERM. */
void memio_set_privileged(struct memio *m, bool privileged);

/* An administrator's `ip tuntap add`: a persistent device, @ours if owned by paird's user. */
int memio_device_add(struct memio *m, const char *name, bool tap, bool ours);
/* `ip link del`: the device vanishes; an attached fd reads EBADFD from then on. */
int memio_device_delete(struct memio *m, const char *name);
bool memio_device_exists(const struct memio *m, const char *name);
/* The link as the "kernel" sees it, NULL if no such device. */
const struct link_state *memio_link(const struct memio *m, const char *name);
bool memio_has_addr(const struct memio *m, const char *name, const char *prefix);
unsigned memio_addr_count(const struct memio *m, const char *name);
/*
 * What an administrator does behind paird's back (`ip link set`, `ip addr
 * del`), with the kernel's side effects: going down flushes IPv6
 * addresses unless keep_addr_on_down is set, an MTU below 1280 flushes
 * them (and the sysctl) always. No call is counted or injected.
 */
int memio_link_change(struct memio *m, const char *name, const struct link_change *ch);
int memio_addr_remove(struct memio *m, const char *name, const char *prefix);
int memio_addr_add(struct memio *m, const char *name, const char *prefix);
/* net.ipv6.conf.<name>.keep_addr_on_down as paird left it. */
bool memio_keeps_addrs(const struct memio *m, const char *name);

/*
 * The TUN_F_* bits TUNSETOFFLOAD accepts (all of 6.2's by default); a
 * request with any other bit fails EINVAL, as tun's set_offload() does:
 * without TUN_F_USO4/6 this is a kernel before 6.2.
 */
void memio_set_offload_mask(struct memio *m, unsigned long mask);
/* What TUNSETOFFLOAD last set on @name, and whether it has IFF_VNET_HDR (size 10). */
unsigned long memio_offloads(const struct memio *m, const char *name);
bool memio_vnet_hdr(const struct memio *m, const char *name);

/* fds currently open through this I/O. */
unsigned memio_open_fds(const struct memio *m);

/* Queues a frame for paird to read from @name. Returns 0 or -errno. */
int memio_push(struct memio *m, const char *name, const void *frame, size_t len);
/*
 * Queues a frame on queue @q of a multi-queue device (IFF_MULTI_QUEUE):
 * 0 is the first fd attached, 1.. the others in the order they attached.
 * Safe from any thread (every entry point of the fake locks).
 */
int memio_push_queue(struct memio *m, const char *name, unsigned q, const void *frame, size_t len);
size_t memio_queued(const struct memio *m, const char *name);
/* Frames paird wrote to @name, oldest first. */
size_t memio_written_count(const struct memio *m, const char *name);
const uint8_t *memio_written(const struct memio *m, const char *name, size_t i, size_t *len);
/* Forgets what paird wrote to @name (a long run's memory). */
void memio_written_clear(struct memio *m, const char *name);

/* The next call of @op fails with -@err (calls queue up, first in first out). */
void memio_inject(struct memio *m, enum memio_op op, int err);
/* How many times @op was called. */
unsigned memio_calls(const struct memio *m, enum memio_op op);
/* After @frames more writes succeed, writes fail with ENOBUFS (a full send buffer). */
void memio_set_write_limit(struct memio *m, size_t frames);

#endif
