// SPDX-License-Identifier: MIT
/*
 * Kernel port I/O: thin wrappers that turn the libc convention (-1 and
 * errno) into negative errno returns, and route link configuration to the
 * rtnetlink module. No policy lives here; port.c decides what to call.
 */
#include "portio_kernel.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "nl.h"

static int k_open(void *ctx, const char *path, int flags)
{
	int fd;

	(void)ctx;
	fd = open(path, flags);
	return fd < 0 ? -errno : fd;
}

static int k_ioctl(void *ctx, int fd, unsigned long request, void *arg)
{
	(void)ctx;
	return ioctl(fd, request, arg) < 0 ? -errno : 0;
}

static ssize_t k_read(void *ctx, int fd, void *buf, size_t len)
{
	ssize_t n;

	(void)ctx;
	n = read(fd, buf, len);
	return n < 0 ? -errno : n;
}

static ssize_t k_write(void *ctx, int fd, const void *buf, size_t len)
{
	ssize_t n;

	(void)ctx;
	n = write(fd, buf, len);
	return n < 0 ? -errno : n;
}

static int k_close(void *ctx, int fd)
{
	(void)ctx;
	return close(fd) < 0 ? -errno : 0;
}

static int k_link_index(void *ctx, const char *name)
{
	int ret = nl_link_index(ctx, name);

	/* What if_nametoindex() said of a link that does not exist. */
	return ret == -ENXIO || ret == -ENOENT ? -ENODEV : ret;
}

static int k_link_get(void *ctx, int ifindex, struct link_state *out)
{
	return nl_link_get(ctx, ifindex, out);
}

static int k_link_set(void *ctx, int ifindex, const struct link_change *change)
{
	return nl_link_set(ctx, ifindex, change);
}

static int k_addr_set(void *ctx, int ifindex, const struct ip_prefix *prefix, bool add)
{
	return nl_addr_set(ctx, ifindex, prefix, add);
}

static int k_addr_list(void *ctx, int ifindex, struct ip_prefix *out, unsigned max)
{
	return nl_addr_list(ctx, ifindex, out, max);
}

/*
 * rtnetlink reports IFLA_INET6_CONF but cannot change it, so the sysctl
 * goes through /proc/sys (of paird's own network namespace). "all" and
 * "default" are directories there, not links: never written.
 */
static int k_keep_addrs(void *ctx, const char *name)
{
	char path[96];
	ssize_t n;
	int fd;

	(void)ctx;
	if (strcmp(name, "all") == 0 || strcmp(name, "default") == 0 || strchr(name, '/'))
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/keep_addr_on_down", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, "1\n", 2);
	if (n < 0)
		n = -errno;
	close(fd);
	return n < 0 ? (int)n : 0;
}

static const struct port_io_ops kernel_ops = {
	.name = "kernel",
	.open = k_open,
	.ioctl = k_ioctl,
	.read = k_read,
	.write = k_write,
	.close = k_close,
	.link_index = k_link_index,
	.link_get = k_link_get,
	.link_set = k_link_set,
	.addr_set = k_addr_set,
	.addr_list = k_addr_list,
	.keep_addrs = k_keep_addrs,
};

int portio_kernel_init(struct port_io *io)
{
	struct nl *nl = nl_open();

	if (!nl)
		return -errno;
	io->ops = &kernel_ops;
	io->ctx = nl;
	return 0;
}

void portio_kernel_fini(struct port_io *io)
{
	nl_close(io->ctx);
	io->ctx = NULL;
}
