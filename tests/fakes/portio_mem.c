// SPDX-License-Identifier: MIT
/*
 * Memory port I/O for tests: see portio_mem.h for the contract. Test-only
 * code, linked into the unit tests and never into paird; it allocates
 * freely and keeps small fixed tables.
 */
#include "portio_mem.h"

#include <errno.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define MEM_DEVS   16
#define MEM_FDS	   32
#define MEM_INJECT 16
#define MEM_ADDRS  32
#define MEM_QUEUES 8

struct mem_frame {
	struct mem_frame *next;
	size_t len;
	uint8_t data[];
};

struct mem_dev {
	bool used, tap, persistent, ours;
	char name[IFNAMSIZ];
	int attached_fd; /* -1 when no fd is attached */
	bool no_pi;
	bool vnet_hdr;		/* IFF_VNET_HDR */
	int vnet_hdr_sz;	/* TUNSETVNETHDRSZ */
	unsigned long offloads; /* TUNSETOFFLOAD */
	bool keep_addrs;	/* net.ipv6.conf.<name>.keep_addr_on_down */
	struct link_state link;
	unsigned n_addrs;
	struct ip_prefix addrs[MEM_ADDRS];
	struct mem_frame *rx_head, *rx_tail; /* to be read by paird */
	size_t rx_count;
	struct mem_frame **tx; /* written by paird */
	size_t tx_count, tx_cap;
	bool multi_queue;	  /* IFF_MULTI_QUEUE: more fds may attach */
	int queue_fd[MEM_QUEUES]; /* queues 1..: their fds, -1 when none */
};

struct mem_fd {
	int fd;	 /* the eventfd; -1 when the slot is free */
	int dev; /* index into devs, -1 before TUNSETIFF */
	bool dev_gone;
	unsigned queue;			     /* 0, or its queue of a multi-queue device */
	struct mem_frame *rx_head, *rx_tail; /* queue > 0: its own frames */
	size_t rx_count;
};

struct memio {
	/* Queue workers read and write from their threads: every entry point locks (recursive). */
	pthread_mutex_t lock;
	bool unprivileged;
	int next_ifindex;
	unsigned next_unit;
	struct mem_dev devs[MEM_DEVS];
	struct mem_fd fds[MEM_FDS];
	int inject[MEMIO_OP_COUNT][MEM_INJECT];
	unsigned n_inject[MEMIO_OP_COUNT];
	unsigned calls[MEMIO_OP_COUNT];
	bool write_limited;
	size_t write_left;
	bool offload_mask_set;
	unsigned long offload_mask;
};

void memio_set_offload_mask(struct memio *m, unsigned long mask)
{
	m->offload_mask_set = true;
	m->offload_mask = mask;
}

static int take_injected(struct memio *m, enum memio_op op)
{
	int err;

	m->calls[op]++;
	if (m->n_inject[op] == 0)
		return 0;
	err = m->inject[op][0];
	memmove(&m->inject[op][0], &m->inject[op][1], (m->n_inject[op] - 1) * sizeof(int));
	m->n_inject[op]--;
	return -err;
}

void memio_inject(struct memio *m, enum memio_op op, int err)
{
	if (m->n_inject[op] < MEM_INJECT)
		m->inject[op][m->n_inject[op]++] = err;
}

unsigned memio_calls(const struct memio *m, enum memio_op op)
{
	return m->calls[op];
}

void memio_set_write_limit(struct memio *m, size_t frames)
{
	m->write_limited = true;
	m->write_left = frames;
}

void memio_set_privileged(struct memio *m, bool privileged)
{
	m->unprivileged = !privileged;
}

static struct mem_dev *dev_by_name(const struct memio *m, const char *name)
{
	for (int i = 0; i < MEM_DEVS; i++)
		if (m->devs[i].used && strcmp(m->devs[i].name, name) == 0)
			return (struct mem_dev *)&m->devs[i];
	return NULL;
}

static struct mem_dev *dev_by_index(struct memio *m, int ifindex)
{
	for (int i = 0; i < MEM_DEVS; i++)
		if (m->devs[i].used && m->devs[i].link.ifindex == ifindex)
			return &m->devs[i];
	return NULL;
}

static struct mem_fd *fd_slot(struct memio *m, int fd)
{
	for (int i = 0; i < MEM_FDS; i++)
		if (m->fds[i].fd == fd && fd >= 0)
			return &m->fds[i];
	return NULL;
}

static void signal_fd(int fd, bool readable)
{
	uint64_t v = 1;

	if (readable) {
		if (write(fd, &v, sizeof(v)) < 0)
			return;
	} else if (read(fd, &v, sizeof(v)) < 0) {
		return;
	}
}

static struct mem_dev *dev_new(struct memio *m, const char *name, bool tap)
{
	for (int i = 0; i < MEM_DEVS; i++) {
		struct mem_dev *d = &m->devs[i];

		if (d->used)
			continue;
		memset(d, 0, sizeof(*d));
		d->used = true;
		d->tap = tap;
		d->attached_fd = -1;
		for (int q = 0; q < MEM_QUEUES; q++)
			d->queue_fd[q] = -1;
		snprintf(d->name, sizeof(d->name), "%s", name);
		d->link.ifindex = m->next_ifindex++;
		d->link.mtu = 1500;
		/* As rtnetlink reports a tun/tap (nl.c linkinfo_parse()). */
		d->link.is_tun = true;
		snprintf(d->link.kind, sizeof(d->link.kind), "tun");
		d->link.tun_type = tap ? IFF_TAP : IFF_TUN;
		if (tap) {
			uint8_t mac[6] = { 0x02, 0x00, 0x5e, 0x00, 0x00, (uint8_t)d->link.ifindex };

			d->link.has_mac = true;
			memcpy(d->link.mac, mac, 6);
		}
		return d;
	}
	return NULL;
}

static void fd_rx_free(struct mem_fd *s)
{
	while (s->rx_head) {
		struct mem_frame *next = s->rx_head->next;

		free(s->rx_head);
		s->rx_head = next;
	}
	s->rx_tail = NULL;
	s->rx_count = 0;
}

static void dev_free(struct mem_dev *d)
{
	struct mem_frame *f = d->rx_head;

	while (f) {
		struct mem_frame *next = f->next;

		free(f);
		f = next;
	}
	for (size_t i = 0; i < d->tx_count; i++)
		free(d->tx[i]);
	free(d->tx);
	memset(d, 0, sizeof(*d));
}

struct memio *memio_new(void)
{
	struct memio *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->next_ifindex = 10;
	for (int i = 0; i < MEM_FDS; i++)
		m->fds[i].fd = -1;
	{
		pthread_mutexattr_t a;

		pthread_mutexattr_init(&a);
		pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
		pthread_mutex_init(&m->lock, &a);
		pthread_mutexattr_destroy(&a);
	}
	return m;
}

void memio_free(struct memio *m)
{
	if (!m)
		return;
	for (int i = 0; i < MEM_FDS; i++)
		if (m->fds[i].fd >= 0)
			close(m->fds[i].fd);
	for (int i = 0; i < MEM_DEVS; i++)
		if (m->devs[i].used)
			dev_free(&m->devs[i]);
	for (int i = 0; i < MEM_FDS; i++)
		fd_rx_free(&m->fds[i]);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

int memio_device_add(struct memio *m, const char *name, bool tap, bool ours)
{
	struct mem_dev *d;

	if (dev_by_name(m, name))
		return -EEXIST;
	d = dev_new(m, name, tap);
	if (!d)
		return -ENOSPC;
	d->persistent = true;
	d->ours = ours;
	return 0;
}

int memio_device_delete(struct memio *m, const char *name)
{
	struct mem_dev *d = dev_by_name(m, name);

	if (!d)
		return -ENODEV;
	if (d->attached_fd >= 0) {
		struct mem_fd *s = fd_slot(m, d->attached_fd);

		s->dev = -1;
		s->dev_gone = true;
		signal_fd(s->fd, true); /* tun reports EPOLLERR; wake the reader */
	}
	for (int q = 1; q < MEM_QUEUES; q++) {
		struct mem_fd *s = d->queue_fd[q] >= 0 ? fd_slot(m, d->queue_fd[q]) : NULL;

		if (!s)
			continue;
		s->dev = -1;
		s->dev_gone = true;
		signal_fd(s->fd, true);
	}
	dev_free(d);
	return 0;
}

bool memio_device_exists(const struct memio *m, const char *name)
{
	return dev_by_name(m, name) != NULL;
}

const struct link_state *memio_link(const struct memio *m, const char *name)
{
	const struct mem_dev *d = dev_by_name(m, name);

	return d ? &d->link : NULL;
}

bool memio_has_addr(const struct memio *m, const char *name, const char *prefix)
{
	const struct mem_dev *d = dev_by_name(m, name);
	struct ip_prefix p;
	const char *why;

	if (!d || prefix_parse(prefix, &p, &why) < 0)
		return false;
	for (unsigned i = 0; i < d->n_addrs; i++)
		if (prefix_equal(&d->addrs[i], &p))
			return true;
	return false;
}

unsigned memio_addr_count(const struct memio *m, const char *name)
{
	const struct mem_dev *d = dev_by_name(m, name);

	return d ? d->n_addrs : 0;
}

unsigned memio_open_fds(const struct memio *m)
{
	unsigned n = 0;

	for (int i = 0; i < MEM_FDS; i++)
		n += m->fds[i].fd >= 0;
	return n;
}

static int push_locked(struct memio *m, const char *name, const void *frame, size_t len);

int memio_push(struct memio *m, const char *name, const void *frame, size_t len)
{
	int ret;

	pthread_mutex_lock(&m->lock);
	ret = push_locked(m, name, frame, len);
	pthread_mutex_unlock(&m->lock);
	return ret;
}

static int push_locked(struct memio *m, const char *name, const void *frame, size_t len)
{
	struct mem_dev *d = dev_by_name(m, name);
	struct mem_frame *f;

	if (!d)
		return -ENODEV;
	f = malloc(sizeof(*f) + len);
	if (!f)
		return -ENOMEM;
	f->next = NULL;
	f->len = len;
	memcpy(f->data, frame, len);
	if (d->rx_tail)
		d->rx_tail->next = f;
	else
		d->rx_head = f;
	d->rx_tail = f;
	if (d->rx_count++ == 0 && d->attached_fd >= 0)
		signal_fd(d->attached_fd, true);
	return 0;
}

int memio_push_queue(struct memio *m, const char *name, unsigned q, const void *frame, size_t len)
{
	struct mem_dev *d;
	struct mem_frame *f;
	struct mem_fd *s;
	int ret = 0;

	if (q == 0)
		return memio_push(m, name, frame, len);
	pthread_mutex_lock(&m->lock);
	d = dev_by_name(m, name);
	s = d && q < MEM_QUEUES && d->queue_fd[q] >= 0 ? fd_slot(m, d->queue_fd[q]) : NULL;
	f = s ? malloc(sizeof(*f) + len) : NULL;
	if (!f) {
		ret = s ? -ENOMEM : -ENODEV;
		goto out;
	}
	f->next = NULL;
	f->len = len;
	memcpy(f->data, frame, len);
	if (s->rx_tail)
		s->rx_tail->next = f;
	else
		s->rx_head = f;
	s->rx_tail = f;
	if (s->rx_count++ == 0)
		signal_fd(s->fd, true);
out:
	pthread_mutex_unlock(&m->lock);
	return ret;
}

size_t memio_queued(const struct memio *m, const char *name)
{
	const struct mem_dev *d = dev_by_name(m, name);

	return d ? d->rx_count : 0;
}

unsigned long memio_offloads(const struct memio *m, const char *name)
{
	const struct mem_dev *d = dev_by_name(m, name);

	return d ? d->offloads : 0;
}

bool memio_vnet_hdr(const struct memio *m, const char *name)
{
	const struct mem_dev *d = dev_by_name(m, name);

	return d && d->vnet_hdr && d->vnet_hdr_sz == 10;
}

size_t memio_written_count(const struct memio *m, const char *name)
{
	struct memio *w = (struct memio *)m; /* the lock only */
	const struct mem_dev *d;
	size_t n;

	pthread_mutex_lock(&w->lock);
	d = dev_by_name(m, name);
	n = d ? d->tx_count : 0;
	pthread_mutex_unlock(&w->lock);
	return n;
}

const uint8_t *memio_written(const struct memio *m, const char *name, size_t i, size_t *len)
{
	const struct mem_dev *d = dev_by_name(m, name);

	if (!d || i >= d->tx_count)
		return NULL;
	*len = d->tx[i]->len;
	return d->tx[i]->data;
}

void memio_written_clear(struct memio *m, const char *name)
{
	struct mem_dev *d;

	pthread_mutex_lock(&m->lock);
	d = dev_by_name(m, name);
	for (size_t i = 0; d && i < d->tx_count; i++)
		free(d->tx[i]);
	if (d)
		d->tx_count = 0;
	pthread_mutex_unlock(&m->lock);
}

/* --- the operations --- */

static int m_open_locked(void *ctx, const char *path, int flags)
{
	struct memio *m = ctx;
	int ret = take_injected(m, MEMIO_OPEN);

	(void)flags;
	if (ret < 0)
		return ret;
	if (strcmp(path, "/dev/net/tun") != 0)
		return -ENOENT;
	for (int i = 0; i < MEM_FDS; i++) {
		if (m->fds[i].fd >= 0)
			continue;
		m->fds[i].fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (m->fds[i].fd < 0)
			return -errno;
		m->fds[i].dev = -1;
		m->fds[i].dev_gone = false;
		return m->fds[i].fd;
	}
	return -EMFILE;
}

static int tun_setiff(struct memio *m, struct mem_fd *s, struct ifreq *ifr)
{
	bool tap = ifr->ifr_flags & IFF_TAP;
	bool mq = ifr->ifr_flags & IFF_MULTI_QUEUE;
	struct mem_dev *d;
	char name[IFNAMSIZ];

	if (s->dev >= 0)
		return -EINVAL;
	memcpy(name, ifr->ifr_name, IFNAMSIZ);
	name[IFNAMSIZ - 1] = '\0';
	d = name[0] ? dev_by_name(m, name) : NULL;
	if (d) {
		if (ifr->ifr_flags & IFF_TUN_EXCL)
			return -EBUSY;
		if (d->tap != tap || d->multi_queue != mq)
			return -EINVAL;
		if (m->unprivileged && !d->ours)
			return -EPERM;
		if (d->attached_fd >= 0 && mq) {
			/* Another queue of a multi-queue device: it reads its own frames. */
			for (unsigned q = 1; q < MEM_QUEUES; q++) {
				if (d->queue_fd[q] >= 0)
					continue;
				d->queue_fd[q] = s->fd;
				s->queue = q;
				s->dev = (int)(d - m->devs);
				return 0;
			}
			return -EBUSY;
		}
		if (d->attached_fd >= 0)
			return -EBUSY;
	} else {
		if (m->unprivileged)
			return -EPERM;
		if (!name[0])
			snprintf(name, sizeof(name), "%s%u", tap ? "tap" : "tun", m->next_unit++);
		d = dev_new(m, name, tap);
		if (!d)
			return -ENOMEM;
		d->multi_queue = mq;
		d->link.tun_multi_queue = mq;
	}
	d->attached_fd = s->fd;
	d->no_pi = ifr->ifr_flags & IFF_NO_PI;
	d->vnet_hdr = ifr->ifr_flags & IFF_VNET_HDR;
	d->vnet_hdr_sz = 10;
	s->dev = (int)(d - m->devs);
	if (d->rx_count)
		signal_fd(s->fd, true);
	return 0;
}

static int m_ioctl_locked(void *ctx, int fd, unsigned long request, void *arg)
{
	struct memio *m = ctx;
	struct mem_fd *s = fd_slot(m, fd);
	struct ifreq *ifr = arg;
	int ret = take_injected(m, MEMIO_IOCTL);

	if (ret < 0)
		return ret;
	if (!s)
		return -EBADF;
	switch (request) {
	case TUNSETIFF:
		return tun_setiff(m, s, ifr);
	case TUNGETIFF:
		if (s->dev < 0)
			return -EBADFD;
		memset(ifr, 0, sizeof(*ifr));
		memcpy(ifr->ifr_name, m->devs[s->dev].name, IFNAMSIZ);
		ifr->ifr_flags = (short)((m->devs[s->dev].tap ? IFF_TAP : IFF_TUN) |
					 (m->devs[s->dev].no_pi ? IFF_NO_PI : 0) |
					 (m->devs[s->dev].persistent ? IFF_PERSIST : 0) |
					 (m->devs[s->dev].vnet_hdr ? IFF_VNET_HDR : 0) |
					 (m->devs[s->dev].multi_queue ? IFF_MULTI_QUEUE : 0) |
					 /* as tun: set whenever no socket filter is attached */
					 IFF_NOFILTER);
		return 0;
	case TUNSETOFFLOAD: {
		/* TUN_F_CSUM .. TUN_F_USO6 (0x7f); kernels before 6.2 know up to 0x1f. */
		unsigned long mask = m->offload_mask_set ? m->offload_mask : 0x7f;

		if (s->dev < 0)
			return -EBADFD;
		if ((unsigned long)arg & ~mask)
			return -EINVAL;
		m->devs[s->dev].offloads = (unsigned long)arg;
		return 0;
	}
	case TUNSETVNETHDRSZ:
		if (s->dev < 0)
			return -EBADFD;
		if (*(int *)arg < 10)
			return -EINVAL;
		m->devs[s->dev].vnet_hdr_sz = *(int *)arg;
		return 0;
	default:
		return -ENOTTY;
	}
}

static ssize_t m_read_locked(void *ctx, int fd, void *buf, size_t len)
{
	struct memio *m = ctx;
	struct mem_fd *s = fd_slot(m, fd);
	struct mem_dev *d;
	struct mem_frame *f;
	ssize_t n;
	int ret = take_injected(m, MEMIO_READ);

	if (ret < 0)
		return ret;
	if (!s)
		return -EBADF;
	if (s->dev_gone || s->dev < 0)
		return -EBADFD;
	d = &m->devs[s->dev];
	if (s->queue) {
		f = s->rx_head;
		if (!f)
			return -EAGAIN;
		s->rx_head = f->next;
		if (!s->rx_head)
			s->rx_tail = NULL;
		if (--s->rx_count == 0)
			signal_fd(fd, false);
	} else {
		f = d->rx_head;
		if (!f)
			return -EAGAIN;
		d->rx_head = f->next;
		if (!d->rx_head)
			d->rx_tail = NULL;
		if (--d->rx_count == 0)
			signal_fd(fd, false);
	}
	memcpy(buf, f->data, f->len < len ? f->len : len);
	n = (ssize_t)f->len; /* the full length, as tun does */
	free(f);
	return n;
}

static ssize_t m_write_locked(void *ctx, int fd, const void *buf, size_t len)
{
	struct memio *m = ctx;
	struct mem_fd *s = fd_slot(m, fd);
	struct mem_dev *d;
	struct mem_frame *f;
	int ret = take_injected(m, MEMIO_WRITE);

	if (ret < 0)
		return ret;
	if (!s)
		return -EBADF;
	if (s->dev_gone || s->dev < 0)
		return -EBADFD;
	d = &m->devs[s->dev];
	if (!(d->link.flags & IFF_UP))
		return -EIO;
	if (m->write_limited) {
		if (m->write_left == 0)
			return -ENOBUFS;
		m->write_left--;
	}
	if (d->tx_count == d->tx_cap) {
		size_t cap = d->tx_cap ? d->tx_cap * 2 : 16;
		struct mem_frame **tx = realloc(d->tx, cap * sizeof(*tx));

		if (!tx)
			return -ENOMEM;
		d->tx = tx;
		d->tx_cap = cap;
	}
	f = malloc(sizeof(*f) + len);
	if (!f)
		return -ENOMEM;
	f->next = NULL;
	f->len = len;
	memcpy(f->data, buf, len);
	d->tx[d->tx_count++] = f;
	return (ssize_t)len;
}

static int m_close_locked(void *ctx, int fd)
{
	struct memio *m = ctx;
	struct mem_fd *s = fd_slot(m, fd);
	int ret = take_injected(m, MEMIO_CLOSE);

	if (!s)
		return -EBADF;
	if (s->dev >= 0 && s->queue) {
		m->devs[s->dev].queue_fd[s->queue] = -1;
	} else if (s->dev >= 0) {
		struct mem_dev *d = &m->devs[s->dev];

		d->attached_fd = -1;
		if (!d->persistent)
			dev_free(d);
	}
	fd_rx_free(s);
	s->queue = 0;
	/* Like close(2), the fd is released even when an error is reported. */
	close(s->fd);
	s->fd = -1;
	s->dev = -1;
	return ret;
}

static int m_link_index(void *ctx, const char *name)
{
	struct memio *m = ctx;
	struct mem_dev *d;
	int ret = take_injected(m, MEMIO_LINK_INDEX);

	if (ret < 0)
		return ret;
	d = dev_by_name(m, name);
	return d ? d->link.ifindex : -ENODEV;
}

static int m_link_get_locked(void *ctx, int ifindex, struct link_state *out)
{
	struct memio *m = ctx;
	struct mem_dev *d;
	int ret = take_injected(m, MEMIO_LINK_GET);

	if (ret < 0)
		return ret;
	d = dev_by_index(m, ifindex);
	if (!d)
		return -ENODEV;
	*out = d->link;
	return 0;
}

/*
 * The kernel's IPv6 side of a link change (net/ipv6/addrconf.c): going
 * down flushes the IPv6 addresses unless keep_addr_on_down is set; an MTU
 * below 1280 tears the link's IPv6 configuration down, addresses and
 * sysctls with it, and a later one of 1280 or more starts it afresh.
 */
static void dev_ipv6_flush(struct mem_dev *d)
{
	for (unsigned i = 0; i < d->n_addrs;) {
		if (d->addrs[i].family == AF_INET6)
			d->addrs[i] = d->addrs[--d->n_addrs];
		else
			i++;
	}
}

static void dev_link_apply(struct mem_dev *d, const struct link_change *ch)
{
	if (ch->mtu) {
		if (ch->mtu < 1280) {
			dev_ipv6_flush(d);
			d->keep_addrs = false;
		}
		d->link.mtu = ch->mtu;
	}
	if (ch->mac)
		memcpy(d->link.mac, ch->mac, 6);
	if (ch->up == 1) {
		d->link.flags |= IFF_UP;
	} else if (ch->up == 0 && (d->link.flags & IFF_UP)) {
		d->link.flags &= ~(unsigned)IFF_UP;
		if (!d->keep_addrs)
			dev_ipv6_flush(d);
	}
}

static int m_link_set_locked(void *ctx, int ifindex, const struct link_change *ch)
{
	struct memio *m = ctx;
	struct mem_dev *d;
	int ret = take_injected(m, MEMIO_LINK_SET);

	if (ret < 0)
		return ret;
	d = dev_by_index(m, ifindex);
	if (!d)
		return -ENODEV;
	if (m->unprivileged)
		return -EPERM;
	if (ch->mtu && (ch->mtu < 68 || ch->mtu > 65535))
		return -EINVAL;
	if (ch->mac && !d->tap)
		return -EOPNOTSUPP;
	dev_link_apply(d, ch);
	return 0;
}

int memio_link_change(struct memio *m, const char *name, const struct link_change *ch)
{
	struct mem_dev *d = dev_by_name(m, name);

	if (!d)
		return -ENODEV;
	dev_link_apply(d, ch);
	return 0;
}

int memio_addr_remove(struct memio *m, const char *name, const char *prefix)
{
	struct mem_dev *d = dev_by_name(m, name);
	struct ip_prefix p;
	const char *why;

	if (!d || prefix_parse(prefix, &p, &why) < 0)
		return -EINVAL;
	for (unsigned i = 0; i < d->n_addrs; i++) {
		if (prefix_equal(&d->addrs[i], &p)) {
			d->addrs[i] = d->addrs[--d->n_addrs];
			return 0;
		}
	}
	return -EADDRNOTAVAIL;
}

int memio_addr_add(struct memio *m, const char *name, const char *prefix)
{
	struct mem_dev *d = dev_by_name(m, name);
	struct ip_prefix p;
	const char *why;

	if (!d || prefix_parse(prefix, &p, &why) < 0)
		return -EINVAL;
	if (d->n_addrs == MEM_ADDRS)
		return -ENOSPC;
	d->addrs[d->n_addrs++] = p;
	return 0;
}

bool memio_keeps_addrs(const struct memio *m, const char *name)
{
	const struct mem_dev *d = dev_by_name(m, name);

	return d && d->keep_addrs;
}

static int m_addr_set(void *ctx, int ifindex, const struct ip_prefix *prefix, bool add)
{
	struct memio *m = ctx;
	struct mem_dev *d;
	int ret = take_injected(m, MEMIO_ADDR_SET);

	if (ret < 0)
		return ret;
	d = dev_by_index(m, ifindex);
	if (!d)
		return -ENODEV;
	if (m->unprivileged)
		return -EPERM;
	/* Below MTU 1280 the link has no IPv6 state at all (addrconf: ENXIO on delete). */
	if (!add && prefix->family == AF_INET6 && d->link.mtu < 1280)
		return -ENXIO;
	for (unsigned i = 0; i < d->n_addrs; i++) {
		if (!prefix_equal(&d->addrs[i], prefix))
			continue;
		if (add)
			return -EEXIST;
		d->addrs[i] = d->addrs[--d->n_addrs];
		return 0;
	}
	if (!add)
		return -EADDRNOTAVAIL;
	/* No IPv6 configuration below the IPv6 minimum MTU (addrconf: EINVAL). */
	if (prefix->family == AF_INET6 && d->link.mtu < 1280)
		return -EINVAL;
	if (d->n_addrs == MEM_ADDRS)
		return -ENOSPC;
	d->addrs[d->n_addrs++] = *prefix;
	return 0;
}

static int m_addr_list(void *ctx, int ifindex, struct ip_prefix *out, unsigned max)
{
	struct memio *m = ctx;
	struct mem_dev *d;
	int ret = take_injected(m, MEMIO_ADDR_LIST);

	if (ret < 0)
		return ret;
	d = dev_by_index(m, ifindex);
	if (!d)
		return -ENODEV;
	for (unsigned i = 0; i < d->n_addrs && i < max; i++)
		out[i] = d->addrs[i];
	return (int)d->n_addrs;
}

static int m_keep_addrs(void *ctx, const char *name)
{
	struct memio *m = ctx;
	struct mem_dev *d;
	int ret = take_injected(m, MEMIO_KEEP_ADDRS);

	if (ret < 0)
		return ret;
	d = dev_by_name(m, name);
	if (!d || d->link.mtu < 1280)
		return -ENOENT;
	if (m->unprivileged)
		return -EACCES;
	d->keep_addrs = true;
	return 0;
}

static int m_open(void *ctx, const char *path, int flags)
{
	struct memio *m = ctx;
	int ret;

	pthread_mutex_lock(&m->lock);
	ret = m_open_locked(ctx, path, flags);
	pthread_mutex_unlock(&m->lock);
	return ret;
}

static int m_ioctl(void *ctx, int fd, unsigned long request, void *arg)
{
	struct memio *m = ctx;
	int ret;

	pthread_mutex_lock(&m->lock);
	ret = m_ioctl_locked(ctx, fd, request, arg);
	pthread_mutex_unlock(&m->lock);
	return ret;
}

static ssize_t m_read(void *ctx, int fd, void *buf, size_t len)
{
	struct memio *m = ctx;
	ssize_t ret;

	pthread_mutex_lock(&m->lock);
	ret = m_read_locked(ctx, fd, buf, len);
	pthread_mutex_unlock(&m->lock);
	return ret;
}

static ssize_t m_write(void *ctx, int fd, const void *buf, size_t len)
{
	struct memio *m = ctx;
	ssize_t ret;

	pthread_mutex_lock(&m->lock);
	ret = m_write_locked(ctx, fd, buf, len);
	pthread_mutex_unlock(&m->lock);
	return ret;
}

static int m_close(void *ctx, int fd)
{
	struct memio *m = ctx;
	int ret;

	pthread_mutex_lock(&m->lock);
	ret = m_close_locked(ctx, fd);
	pthread_mutex_unlock(&m->lock);
	return ret;
}

static int m_link_get(void *ctx, int ifindex, struct link_state *out)
{
	struct memio *m = ctx;
	int ret;

	pthread_mutex_lock(&m->lock);
	ret = m_link_get_locked(ctx, ifindex, out);
	pthread_mutex_unlock(&m->lock);
	return ret;
}

static int m_link_set(void *ctx, int ifindex, const struct link_change *ch)
{
	struct memio *m = ctx;
	int ret;

	pthread_mutex_lock(&m->lock);
	ret = m_link_set_locked(ctx, ifindex, ch);
	pthread_mutex_unlock(&m->lock);
	return ret;
}

static const struct port_io_ops mem_ops = {
	.name = "memory",
	.open = m_open,
	.ioctl = m_ioctl,
	.read = m_read,
	.write = m_write,
	.close = m_close,
	.link_index = m_link_index,
	.link_get = m_link_get,
	.link_set = m_link_set,
	.addr_set = m_addr_set,
	.addr_list = m_addr_list,
	.keep_addrs = m_keep_addrs,
};

struct port_io memio_io(struct memio *m)
{
	return (struct port_io){ .ops = &mem_ops, .ctx = m };
}
