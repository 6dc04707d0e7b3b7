// SPDX-License-Identifier: MIT
/*
 * Unit tests of the rtnetlink decoders in service/nl.c on messages built
 * with libmnl: RTM_NEWADDR gives the link, the prefix (our own IFA_LOCAL,
 * not a point-to-point peer) and whether it is an administrator's address
 * (global scope, permanent: not the kernel's SLAAC or a lease); short or
 * malformed messages and other families are refused, never read past.
 * The requests themselves run against the kernel in the integration tests.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>

#include "../../service/nl.h"
#include "support.h"

/* An RTM_NEWADDR message in @buf: @family, @plen, @scope, @ifindex, then attributes. */
static struct nlmsghdr *addr_msg(char *buf, unsigned char family, unsigned char plen,
				 unsigned char scope, unsigned ifindex)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa;

	nlh->nlmsg_type = RTM_NEWADDR;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = family;
	ifa->ifa_prefixlen = plen;
	ifa->ifa_scope = scope;
	ifa->ifa_index = ifindex;
	ifa->ifa_flags = IFA_F_PERMANENT;
	return nlh;
}

static void assert_prefix(const struct ip_prefix *p, const char *text)
{
	char buf[PREFIX_STR_MAX];

	prefix_format(p, buf);
	assert_string_equal(buf, text);
}

static void test_parse_ipv6(void **state)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = addr_msg(buf, AF_INET6, 64, RT_SCOPE_UNIVERSE, 7);
	uint8_t a[16];
	struct ip_prefix p;
	bool global = false;
	int ifindex = 0;

	(void)state;
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::1", a), 1);
	mnl_attr_put(nlh, IFA_ADDRESS, 16, a);
	assert_int_equal(nl_parse_addr(nlh, &ifindex, &p, &global), 0);
	assert_int_equal(ifindex, 7);
	assert_true(global);
	assert_prefix(&p, "2001:db8::1/64");

	/* The link-local address every link gets has link scope. */
	nlh = addr_msg(buf, AF_INET6, 64, RT_SCOPE_LINK, 7);
	assert_int_equal(inet_pton(AF_INET6, "fe80::1", a), 1);
	mnl_attr_put(nlh, IFA_ADDRESS, 16, a);
	assert_int_equal(nl_parse_addr(nlh, &ifindex, &p, &global), 0);
	assert_false(global);
}

/*
 * A SLAAC, temporary or leased address has a lifetime and no
 * IFA_F_PERMANENT: the kernel or a DHCP client removes it, paird does not.
 * IFA_FLAGS, when present, is the whole set of flags.
 */
static void test_parse_lifetime(void **state)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	uint8_t a[16];
	struct ip_prefix p;
	bool admin = true;
	int ifindex = 0;

	(void)state;
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::5054:ff:fe12:3456", a), 1);
	nlh = addr_msg(buf, AF_INET6, 64, RT_SCOPE_UNIVERSE, 7);
	((struct ifaddrmsg *)mnl_nlmsg_get_payload(nlh))->ifa_flags = 0;
	mnl_attr_put(nlh, IFA_ADDRESS, 16, a);
	assert_int_equal(nl_parse_addr(nlh, &ifindex, &p, &admin), 0);
	assert_false(admin);
	assert_prefix(&p, "2001:db8::5054:ff:fe12:3456/64");

	/* IFA_FLAGS without IFA_F_PERMANENT wins over the header's byte. */
	nlh = addr_msg(buf, AF_INET6, 64, RT_SCOPE_UNIVERSE, 7);
	mnl_attr_put(nlh, IFA_ADDRESS, 16, a);
	mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_MANAGETEMPADDR);
	assert_int_equal(nl_parse_addr(nlh, &ifindex, &p, &admin), 0);
	assert_false(admin);

	/* ...and with it, the address is an administrator's. */
	nlh = addr_msg(buf, AF_INET6, 64, RT_SCOPE_UNIVERSE, 7);
	((struct ifaddrmsg *)mnl_nlmsg_get_payload(nlh))->ifa_flags = 0;
	mnl_attr_put(nlh, IFA_ADDRESS, 16, a);
	mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_PERMANENT | IFA_F_NODAD);
	assert_int_equal(nl_parse_addr(nlh, &ifindex, &p, &admin), 0);
	assert_true(admin);
}

/* On a point-to-point IPv4 link IFA_ADDRESS is the peer: ours is IFA_LOCAL. */
static void test_parse_ipv4_local(void **state)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = addr_msg(buf, AF_INET, 24, RT_SCOPE_UNIVERSE, 3);
	uint8_t local[4] = { 198, 18, 0, 1 }, peer[4] = { 198, 18, 0, 2 };
	struct ip_prefix p;
	bool global;
	int ifindex;

	(void)state;
	mnl_attr_put(nlh, IFA_ADDRESS, 4, peer);
	mnl_attr_put(nlh, IFA_LOCAL, 4, local);
	assert_int_equal(nl_parse_addr(nlh, &ifindex, &p, &global), 0);
	assert_int_equal(ifindex, 3);
	assert_prefix(&p, "198.18.0.1/24");
}

static void test_parse_refused(void **state)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	uint8_t a[16] = { 0 };
	struct ip_prefix p;
	bool global;
	int ifindex;

	(void)state;
	/* No address attribute. */
	nlh = addr_msg(buf, AF_INET6, 64, RT_SCOPE_UNIVERSE, 1);
	assert_int_equal(nl_parse_addr(nlh, &ifindex, &p, &global), -EINVAL);
	/* An address of the wrong length for the family. */
	nlh = addr_msg(buf, AF_INET, 24, RT_SCOPE_UNIVERSE, 1);
	mnl_attr_put(nlh, IFA_LOCAL, 16, a);
	assert_int_equal(nl_parse_addr(nlh, &ifindex, &p, &global), -EINVAL);
	/* Another family. */
	nlh = addr_msg(buf, AF_PACKET, 0, RT_SCOPE_UNIVERSE, 1);
	assert_int_equal(nl_parse_addr(nlh, &ifindex, &p, &global), -EAFNOSUPPORT);
	/* Shorter than its own header. */
	nlh = addr_msg(buf, AF_INET6, 64, RT_SCOPE_UNIVERSE, 1);
	nlh->nlmsg_len = mnl_nlmsg_size(sizeof(struct ifaddrmsg)) - 1;
	assert_int_equal(nl_parse_addr(nlh, &ifindex, &p, &global), -EINVAL);
}

/* An RTM_NEWLINK of link 9 whose IFLA_LINKINFO names @kind, with tun data when @type. */
static struct nlmsghdr *link_msg(char *buf, const char *kind, uint8_t type, uint8_t mq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm;
	struct nlattr *li, *data;

	nlh->nlmsg_type = RTM_NEWLINK;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_index = 9;
	mnl_attr_put_u32(nlh, IFLA_MTU, 1500);
	mnl_attr_put_u8(nlh, IFLA_CARRIER, 0);
	li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, kind);
	if (type) {
		data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
		mnl_attr_put_u8(nlh, IFLA_TUN_TYPE, type);
		mnl_attr_put_u8(nlh, IFLA_TUN_MULTI_QUEUE, mq);
		mnl_attr_nest_end(nlh, data);
	}
	mnl_attr_nest_end(nlh, li);
	return nlh;
}

/*
 * A link's kind, and a tun/tap's type and queue mode, as an attach is
 * checked against them before TUNSETIFF; a kind too long for the field is
 * cut, never read past.
 */
static void test_parse_link_kind(void **state)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct link_state ls;

	(void)state;
	assert_int_equal(nl_parse_link(link_msg(buf, "tun", IFF_TAP, 1), &ls), 0);
	assert_int_equal(ls.ifindex, 9);
	assert_true(ls.is_tun);
	assert_string_equal(ls.kind, "tun");
	assert_int_equal(ls.tun_type, IFF_TAP);
	assert_true(ls.tun_multi_queue);
	assert_true(ls.has_carrier);

	/* A kernel that gives no tun data: a tun/tap of unknown type. */
	assert_int_equal(nl_parse_link(link_msg(buf, "tun", 0, 0), &ls), 0);
	assert_true(ls.is_tun);
	assert_int_equal(ls.tun_type, 0);

	/* Another kind: no tun/tap, whatever data it carries. */
	assert_int_equal(nl_parse_link(link_msg(buf, "dummy", IFF_TUN, 0), &ls), 0);
	assert_false(ls.is_tun);
	assert_string_equal(ls.kind, "dummy");
	assert_int_equal(ls.tun_type, 0);
	assert_int_equal(nl_parse_link(link_msg(buf, "tunnel-of-a-long-name", IFF_TUN, 0), &ls), 0);
	assert_false(ls.is_tun);
	assert_int_equal(strlen(ls.kind), sizeof(ls.kind) - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ipv6),	 cmocka_unit_test(test_parse_lifetime),
		cmocka_unit_test(test_parse_ipv4_local), cmocka_unit_test(test_parse_refused),
		cmocka_unit_test(test_parse_link_kind),
	};

	return cmocka_run_group_tests_name("nl", tests, NULL, NULL);
}
