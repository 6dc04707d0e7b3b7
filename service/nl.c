// SPDX-License-Identifier: MIT
/*
 * Synchronous rtnetlink requests with libmnl. Each request carries a fresh
 * sequence number and asks for an ACK, so the kernel's errno comes back as
 * the request's result (EPERM without CAP_NET_ADMIN, EINVAL for an MTU the
 * driver refuses, ...). Callers are the kernel port I/O and the link
 * monitor; nothing here knows about ports.
 */
#include "nl.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

struct nl {
	struct mnl_socket *sock;
	unsigned int portid;
	unsigned int seq;
};

struct nl *nl_open(void)
{
	struct timeval tv = { .tv_sec = 2 };
	struct nl *nl = calloc(1, sizeof(*nl));
	int err;

	if (!nl)
		return NULL;
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sock)
		goto fail;
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	/* A kernel that never answers must not hang the one loop forever. */
	if (setsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		goto fail;
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (unsigned int)time(NULL);
	return nl;
fail:
	err = errno;
	if (nl->sock)
		mnl_socket_close(nl->sock);
	free(nl);
	errno = err;
	return NULL;
}

void nl_close(struct nl *nl)
{
	if (!nl)
		return;
	mnl_socket_close(nl->sock);
	free(nl);
}

/* Sends @nlh and runs @cb on the replies until the ACK (NLMSG_DONE for a @dump) or an error. */
static int nl_talk(struct nl *nl, struct nlmsghdr *nlh, bool dump, mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned int seq = ++nl->seq;
	ssize_t n;
	int ret;

	nlh->nlmsg_seq = seq;
	/*
	 * A dump ends with NLMSG_DONE; an ACK is asked of the other requests.
	 * (NLM_F_DUMP's bits are shared with NLM_F_EXCL on a NEW request.)
	 */
	if (!dump)
		nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		ret = mnl_cb_run(buf, (size_t)n, seq, nl->portid, cb, data);
		if (ret < 0)
			return -errno;
		if (ret == MNL_CB_STOP)
			return 0;
	}
}

static int link_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, IFLA_MAX) < 0)
		return MNL_CB_OK;
	if (type == IFLA_MTU && mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
		return MNL_CB_ERROR;
	tb[type] = attr;
	return MNL_CB_OK;
}

static int info_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_type_valid(attr, IFLA_INFO_MAX) < 0)
		return MNL_CB_OK;
	tb[mnl_attr_get_type(attr)] = attr;
	return MNL_CB_OK;
}

static int tun_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_type_valid(attr, IFLA_TUN_MAX) < 0)
		return MNL_CB_OK;
	tb[mnl_attr_get_type(attr)] = attr;
	return MNL_CB_OK;
}

/*
 * IFLA_LINKINFO @li into @out: the link's kind, whether it is "tun"
 * (drivers/net/tun.c: tun and tap alike) and, for one, its type and
 * whether it is multi-queue (tun_fill_info(), Linux 4.15 on).
 */
static void linkinfo_parse(const struct nlattr *li, struct link_state *out)
{
	const struct nlattr *tb[IFLA_INFO_MAX + 1] = { 0 };
	const struct nlattr *tun[IFLA_TUN_MAX + 1] = { 0 };
	size_t len;

	if (mnl_attr_parse_nested(li, info_attr_cb, tb) < 0 || !tb[IFLA_INFO_KIND])
		return;
	len = strnlen(mnl_attr_get_payload(tb[IFLA_INFO_KIND]),
		      mnl_attr_get_payload_len(tb[IFLA_INFO_KIND]));
	if (len >= sizeof(out->kind))
		len = sizeof(out->kind) - 1;
	memcpy(out->kind, mnl_attr_get_payload(tb[IFLA_INFO_KIND]), len);
	out->kind[len] = '\0';
	out->is_tun = strcmp(out->kind, "tun") == 0;
	if (!out->is_tun || !tb[IFLA_INFO_DATA] ||
	    mnl_attr_parse_nested(tb[IFLA_INFO_DATA], tun_attr_cb, tun) < 0)
		return;
	if (tun[IFLA_TUN_TYPE] && mnl_attr_get_payload_len(tun[IFLA_TUN_TYPE]) >= 1) {
		uint8_t type = mnl_attr_get_u8(tun[IFLA_TUN_TYPE]);

		out->tun_type = type == IFF_TUN || type == IFF_TAP ? type : 0;
	}
	if (tun[IFLA_TUN_MULTI_QUEUE] && mnl_attr_get_payload_len(tun[IFLA_TUN_MULTI_QUEUE]) >= 1)
		out->tun_multi_queue = mnl_attr_get_u8(tun[IFLA_TUN_MULTI_QUEUE]) != 0;
}

int nl_parse_link(const struct nlmsghdr *nlh, struct link_state *out)
{
	const struct nlattr *tb[IFLA_MAX + 1] = { 0 };
	const struct ifinfomsg *ifm;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifm)))
		return -EINVAL;
	ifm = mnl_nlmsg_get_payload(nlh);
	if (mnl_attr_parse(nlh, sizeof(*ifm), link_attr_cb, tb) < 0)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->ifindex = ifm->ifi_index;
	out->flags = ifm->ifi_flags;
	if (tb[IFLA_MTU])
		out->mtu = mnl_attr_get_u32(tb[IFLA_MTU]);
	/* Moving a link to another namespace sends RTM_DELLINK naming the new one. */
	out->moved = tb[IFLA_NEW_NETNSID] != NULL;
	if (tb[IFLA_ADDRESS] && mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == 6) {
		out->has_mac = true;
		memcpy(out->mac, mnl_attr_get_payload(tb[IFLA_ADDRESS]), 6);
	}
	if (tb[IFLA_CARRIER] && mnl_attr_get_payload_len(tb[IFLA_CARRIER]) >= 1) {
		out->has_carrier = true;
		out->carrier = mnl_attr_get_u8(tb[IFLA_CARRIER]) != 0;
	}
	if (tb[IFLA_LINKINFO])
		linkinfo_parse(tb[IFLA_LINKINFO], out);
	return 0;
}

static int link_get_cb(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	return nl_parse_link(nlh, data) == 0 ? MNL_CB_OK : MNL_CB_ERROR;
}

/* A link request of @type about @ifindex in @buf; its ifinfomsg through @ifm. */
static struct nlmsghdr *link_msg(char *buf, uint16_t type, int ifindex, struct ifinfomsg **ifm)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	*ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(**ifm));
	(*ifm)->ifi_family = AF_UNSPEC;
	(*ifm)->ifi_index = ifindex;
	return nlh;
}

int nl_link_get(struct nl *nl, int ifindex, struct link_state *out)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct ifinfomsg *ifm;
	struct nlmsghdr *nlh = link_msg(buf, RTM_GETLINK, ifindex, &ifm);

	out->ifindex = 0;
	/* A GETLINK answers with the link and then an ACK, or an error. */
	int ret = nl_talk(nl, nlh, false, link_get_cb, out);
	if (ret == 0 && out->ifindex != ifindex)
		return -ENODEV;
	return ret;
}

int nl_link_index(struct nl *nl, const char *name)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct ifinfomsg *ifm;
	struct nlmsghdr *nlh = link_msg(buf, RTM_GETLINK, 0, &ifm);
	struct link_state ls = { 0 };
	int ret;

	if (strlen(name) >= IFNAMSIZ)
		return -ENODEV;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	ret = nl_talk(nl, nlh, false, link_get_cb, &ls);
	if (ret < 0)
		return ret;
	return ls.ifindex > 0 ? ls.ifindex : -ENODEV;
}

int nl_link_set(struct nl *nl, int ifindex, const struct link_change *change)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct ifinfomsg *ifm;
	struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, ifindex, &ifm);

	if (change->up >= 0) {
		ifm->ifi_change = IFF_UP;
		ifm->ifi_flags = change->up ? IFF_UP : 0;
	}
	if (change->mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, change->mtu);
	if (change->mac)
		mnl_attr_put(nlh, IFLA_ADDRESS, 6, change->mac);
	return nl_talk(nl, nlh, false, NULL, NULL);
}

int nl_addr_set(struct nl *nl, int ifindex, const struct ip_prefix *prefix, bool add)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	size_t alen = prefix->family == AF_INET ? 4 : 16;
	struct ifaddrmsg *ifa;

	nlh->nlmsg_type = add ? RTM_NEWADDR : RTM_DELADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | (add ? NLM_F_CREATE | NLM_F_EXCL : 0);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (unsigned char)prefix->family;
	ifa->ifa_prefixlen = prefix->len;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (unsigned int)ifindex;
	mnl_attr_put(nlh, IFA_LOCAL, alen, prefix->addr);
	mnl_attr_put(nlh, IFA_ADDRESS, alen, prefix->addr);
	/*
	 * No duplicate address detection: the address belongs to a link paird
	 * just made, and tests need it usable at once, not after DAD's delay.
	 */
	if (add && prefix->family == AF_INET6)
		mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
	return nl_talk(nl, nlh, false, NULL, NULL);
}

static int addr_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_type_valid(attr, IFA_MAX) < 0)
		return MNL_CB_OK;
	tb[mnl_attr_get_type(attr)] = attr;
	return MNL_CB_OK;
}

int nl_parse_addr(const struct nlmsghdr *nlh, int *ifindex, struct ip_prefix *out, bool *admin)
{
	const struct nlattr *tb[IFA_MAX + 1] = { 0 };
	const struct ifaddrmsg *ifa;
	const struct nlattr *a;
	uint32_t flags;
	size_t alen;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifa)))
		return -EINVAL;
	ifa = mnl_nlmsg_get_payload(nlh);
	if (mnl_attr_parse(nlh, sizeof(*ifa), addr_attr_cb, tb) < 0)
		return -EINVAL;
	*ifindex = (int)ifa->ifa_index;
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return -EAFNOSUPPORT;
	alen = ifa->ifa_family == AF_INET ? 4 : 16;
	/* IFA_ADDRESS is the peer on a point-to-point IPv4 link; IFA_LOCAL is ours. */
	a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!a || mnl_attr_get_payload_len(a) != alen)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->family = ifa->ifa_family;
	out->len = ifa->ifa_prefixlen;
	memcpy(out->addr, mnl_attr_get_payload(a), alen);
	/* IFA_FLAGS, when present, holds every flag; ifa_flags only the low eight. */
	flags = ifa->ifa_flags;
	if (tb[IFA_FLAGS] && mnl_attr_get_payload_len(tb[IFA_FLAGS]) == sizeof(uint32_t))
		flags = mnl_attr_get_u32(tb[IFA_FLAGS]);
	/*
	 * An administrator's address has global scope and no lifetime. The
	 * kernel's own (link-local, SLAAC, temporary) and a DHCP lease's expire
	 * or come back by themselves: neither drift nor paird's to remove.
	 */
	*admin = ifa->ifa_scope == RT_SCOPE_UNIVERSE && (flags & IFA_F_PERMANENT);
	return 0;
}

struct addr_dump {
	int ifindex;
	struct ip_prefix *out;
	unsigned max, n;
};

static int addr_list_cb(const struct nlmsghdr *nlh, void *data)
{
	struct addr_dump *d = data;
	struct ip_prefix pfx;
	bool admin;
	int ifindex;

	if (nlh->nlmsg_type != RTM_NEWADDR)
		return MNL_CB_OK;
	if (nl_parse_addr(nlh, &ifindex, &pfx, &admin) < 0 || ifindex != d->ifindex || !admin)
		return MNL_CB_OK;
	if (d->n < d->max)
		d->out[d->n] = pfx;
	d->n++;
	return MNL_CB_OK;
}

int nl_addr_list(struct nl *nl, int ifindex, struct ip_prefix *out, unsigned max)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct addr_dump d = { .ifindex = ifindex, .out = out, .max = max };
	struct ifaddrmsg *ifa;
	int ret;

	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_UNSPEC;
	/* Older kernels dump every link's addresses; the callback keeps this link's. */
	ifa->ifa_index = (unsigned int)ifindex;
	ret = nl_talk(nl, nlh, true, addr_list_cb, &d);
	return ret < 0 ? ret : (int)d.n;
}
