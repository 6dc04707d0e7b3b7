/* SPDX-License-Identifier: MIT */
/*
 * rtnetlink through libmnl: read and change a link (up, MTU, MAC), list,
 * add and remove its addresses, and decode RTM_NEWLINK and RTM_NEWADDR
 * messages for the link monitor. Requests are synchronous with a short
 * receive timeout; they run on the control path only (API requests,
 * start-up, link events), never per frame.
 */
#ifndef PAIRD_NL_H
#define PAIRD_NL_H

#include <stdbool.h>

#include "portio.h"

struct nl;
struct nlmsghdr;

/* Opens a NETLINK_ROUTE request socket; NULL with errno set on failure. */
struct nl *nl_open(void);
void nl_close(struct nl *nl);

int nl_link_get(struct nl *nl, int ifindex, struct link_state *out);
/*
 * The ifindex of the link named @name, or -errno (-ENODEV: none). Over the
 * open rtnetlink socket: if_nametoindex() opens a socket of its own, and
 * out of file descriptors it failed with the errno of some other call
 * (ENOENT), which named a device paird had just made as missing.
 */
int nl_link_index(struct nl *nl, const char *name);
int nl_link_set(struct nl *nl, int ifindex, const struct link_change *change);
int nl_addr_set(struct nl *nl, int ifindex, const struct ip_prefix *prefix, bool add);

/* Decodes an RTM_NEWLINK/RTM_DELLINK message. Returns 0 or -EINVAL. */
int nl_parse_link(const struct nlmsghdr *nlh, struct link_state *out);

/* The link's administrator addresses (see nl_parse_addr); port_io_ops.addr_list. */
int nl_addr_list(struct nl *nl, int ifindex, struct ip_prefix *out, unsigned max);
/*
 * Decodes an RTM_NEWADDR/RTM_DELADDR message: the link, the prefix and
 * whether it is an administrator's address: global scope and permanent
 * (no lifetime), not one the kernel or a lease made. Returns 0, -EINVAL or
 * -EAFNOSUPPORT.
 */
int nl_parse_addr(const struct nlmsghdr *nlh, int *ifindex, struct ip_prefix *out, bool *admin);

#endif
