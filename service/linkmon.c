// SPDX-License-Identifier: MIT
/*
 * Link and address notifications from rtnetlink, decoded with
 * nl_parse_link() and nl_parse_addr(); an address event carries only the
 * link's index, for the port set to compare the link with its
 * configuration again. The socket is non-blocking and drained on
 * readiness; ENOBUFS (we fell behind and the kernel dropped notifications)
 * is logged and survived: the port set is told to read every link again
 * (an address event for ifindex 0), and the next notifications still
 * arrive.
 */
#include "linkmon.h"

#include <errno.h>
#include <event2/event.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "nl.h"

struct linkmon {
	struct mnl_socket *sock;
	struct event *ev;
	linkmon_fn fn;
	void *arg;
};

static int on_msg(const struct nlmsghdr *nlh, void *data)
{
	struct linkmon *lm = data;
	struct link_state ls;

	if (nlh->nlmsg_type == RTM_NEWADDR || nlh->nlmsg_type == RTM_DELADDR) {
		struct ip_prefix pfx;
		bool admin;

		/* Kernel-made addresses come and go by themselves; paird configures none. */
		if (nl_parse_addr(nlh, &ls.ifindex, &pfx, &admin) < 0 || !admin)
			return MNL_CB_OK;
		ls = (struct link_state){ .ifindex = ls.ifindex, .addr_event = true };
		lm->fn(&ls, false, lm->arg);
		return MNL_CB_OK;
	}
	if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK)
		return MNL_CB_OK;
	if (nl_parse_link(nlh, &ls) < 0)
		return MNL_CB_OK;
	lm->fn(&ls, nlh->nlmsg_type == RTM_DELLINK, lm->arg);
	return MNL_CB_OK;
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct linkmon *lm = arg;
	char buf[MNL_SOCKET_BUFFER_SIZE];

	(void)fd;
	(void)what;
	for (int i = 0; i < 64; i++) {
		ssize_t n = mnl_socket_recvfrom(lm->sock, buf, sizeof(buf));

		if (n < 0) {
			if (errno == ENOBUFS) {
				struct link_state all = { .ifindex = 0, .addr_event = true };

				log_warn("link monitor: notifications were dropped (ENOBUFS); "
					 "reading every port's link again");
				lm->fn(&all, false, lm->arg);
				continue;
			}
			if (errno != EAGAIN && errno != EINTR)
				log_warn("link monitor: %s", strerror(errno));
			return;
		}
		mnl_cb_run(buf, (size_t)n, 0, 0, on_msg, lm);
	}
}

struct linkmon *linkmon_new(struct event_base *base, linkmon_fn fn, void *arg)
{
	struct linkmon *lm = calloc(1, sizeof(*lm));
	int err;

	if (!lm)
		return NULL;
	lm->fn = fn;
	lm->arg = arg;
	lm->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!lm->sock)
		goto fail;
	if (mnl_socket_bind(lm->sock, RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR,
			    MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	lm->ev =
		event_new(base, mnl_socket_get_fd(lm->sock), EV_READ | EV_PERSIST, on_readable, lm);
	if (!lm->ev || event_add(lm->ev, NULL) < 0)
		goto fail;
	return lm;
fail:
	err = errno ? errno : ENOMEM;
	linkmon_free(lm);
	errno = err;
	return NULL;
}

void linkmon_free(struct linkmon *lm)
{
	if (!lm)
		return;
	if (lm->ev)
		event_free(lm->ev);
	if (lm->sock)
		mnl_socket_close(lm->sock);
	free(lm);
}
