// SPDX-License-Identifier: MIT
/*
 * Address resolution on behalf of simulated hosts: arp_reply answers ARP
 * requests (RFC 826) and ndp_reply answers neighbour solicitations
 * (RFC 4861) for the addresses listed in the binding's options, with the
 * port's peer MAC or a given one, so the kernel side of a tap reaches those
 * addresses with no static neighbour entry (Twisted Pair issue #6875).
 * Both live on tap ports only: a tun has no link layer to resolve.
 * bindcfg.c configures them through handler_arp_reply and
 * handler_ndp_reply; the dispatcher runs them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "build.h"
#include "handlers.h"
#include "netaddr.h"
#include "port.h"
#include "wire.h"

#define NS_MIN_LEN   24 /* type, code, checksum, reserved, target (RFC 4861 4.3) */
#define NDP_OPT_SLLA 1	/* Source Link-Layer Address (RFC 4861 4.6.1) */

/* What differs between the two kinds. */
struct reply_kind {
	const struct handler_ops *ops;
	int family;
	size_t alen;
	const char *family_name;
};

static const struct reply_kind arp_kind = { &handler_arp_reply, AF_INET, 4, "IPv4" };
static const struct reply_kind ndp_kind = { &handler_ndp_reply, AF_INET6, 16, "IPv6" };

/* --- options --- */

static int parse_address(const struct reply_kind *k, const json_t *e, const char *field,
			 uint8_t out[16], struct fault *f)
{
	uint8_t other[16];
	const char *s;

	if (!json_is_string(e))
		return fault_set(f, FAULT_INVALID, 0, field, "must be a string");
	s = json_string_value(e);
	if (strlen(s) != json_string_length(e))
		return fault_set(f, FAULT_INVALID, 0, field, "must not contain NUL bytes");
	if (strchr(s, '/'))
		return fault_set(
			f, FAULT_INVALID, 0, field,
			"\"%s\": an address is answered for, not a prefix; drop the length", s);
	memset(out, 0, 16);
	if (inet_pton(k->family, s, out) != 1) {
		if (inet_pton(k->family == AF_INET ? AF_INET6 : AF_INET, s, other) == 1)
			return fault_set(f, FAULT_INVALID, 0, field,
					 "\"%s\": %s answers for %s addresses", s, k->ops->name,
					 k->family_name);
		return fault_set(f, FAULT_INVALID, 0, field, "\"%s\" is not an %s address", s,
				 k->family_name);
	}
	if (k->family == AF_INET && !addr4_is_unicast(out))
		/* RFC 1112 6.4: multicast maps to Ethernet algorithmically, never by ARP. */
		return fault_set(f, FAULT_INVALID, 0, field,
				 "\"%s\": only a unicast address is resolved with ARP, not an "
				 "unspecified, broadcast or multicast one",
				 s);
	if (k->family == AF_INET6 && !addr6_is_unicast(out))
		/* RFC 4861 7.1.1: the target of a solicitation is never multicast. */
		return fault_set(f, FAULT_INVALID, 0, field,
				 "\"%s\": only a unicast address is solicited, not :: or a "
				 "multicast one",
				 s);
	return 0;
}

static int parse_addresses(const struct reply_kind *k, const json_t *v, struct reply_opts *ro,
			   struct fault *f)
{
	char field[64];
	size_t i;
	json_t *e;

	if (!json_is_array(v))
		return fault_set(f, FAULT_INVALID, 0, "options.addresses",
				 "must be an array of %s addresses", k->family_name);
	if (json_array_size(v) < 1 || json_array_size(v) > REPLY_ADDR_MAX)
		return fault_set(f, FAULT_INVALID, 0, "options.addresses",
				 "must list 1 to %d addresses (got %zu)", REPLY_ADDR_MAX,
				 json_array_size(v));
	json_array_foreach(v, i, e) {
		snprintf(field, sizeof(field), "options.addresses[%zu]", i);
		if (parse_address(k, e, field, ro->addrs[i], f) < 0)
			return -EINVAL;
		for (size_t j = 0; j < i; j++)
			if (memcmp(ro->addrs[j], ro->addrs[i], k->alen) == 0)
				return fault_set(
					f, FAULT_INVALID, 0, field,
					"\"%s\" is listed twice (as options.addresses[%zu])",
					json_string_value(e), j);
		ro->n_addrs = (unsigned)i + 1;
	}
	return 0;
}

static int parse_mac_opt(const json_t *v, struct reply_opts *ro, struct fault *f)
{
	const char *s, *why;

	if (!json_is_string(v))
		return fault_set(f, FAULT_INVALID, 0, "options.mac", "must be a string");
	s = json_string_value(v);
	if (strlen(s) != json_string_length(v))
		return fault_set(f, FAULT_INVALID, 0, "options.mac", "must not contain NUL bytes");
	if (mac_parse(s, ro->mac, &why) < 0)
		return fault_set(f, FAULT_INVALID, 0, "options.mac", "\"%s\" %s", s, why);
	ro->has_mac = true;
	return 0;
}

/* {"addresses": [...] (required), "mac": "..." (default: the port's peer MAC)}. */
static int reply_options(const struct reply_kind *k, const json_t *opts, struct reply_opts *ro,
			 struct fault *f)
{
	char field[64];
	const char *key;
	json_t *v;

	memset(ro, 0, sizeof(*ro));
	if (opts && !json_is_object(opts))
		return fault_set(f, FAULT_INVALID, 0, "options", "must be an object");
	if (opts) {
		json_object_foreach((json_t *)opts, key, v) {
			int ret;

			if (strcmp(key, "addresses") == 0) {
				ret = parse_addresses(k, v, ro, f);
			} else if (strcmp(key, "mac") == 0) {
				ret = parse_mac_opt(v, ro, f);
			} else {
				snprintf(field, sizeof(field), "options.%s", key);
				ret = fault_set(
					f, FAULT_INVALID, 0, field,
					"unknown option: %s takes \"addresses\" and \"mac\"",
					k->ops->name);
			}
			if (ret < 0)
				return -EINVAL;
		}
	}
	if (ro->n_addrs == 0)
		return fault_set(f, FAULT_INVALID, 0, "options.addresses",
				 "is required: the %s addresses to answer for", k->family_name);
	return 0;
}

static int reply_configure(const struct reply_kind *k, const json_t *opts, enum port_type ptype,
			   struct binding_config *cfg, struct fault *f)
{
	const struct match *m = &cfg->match;
	bool placed;

	if (k->family == AF_INET)
		placed = m->depth == LEVEL_ETHERTYPE && m->ethertype == ETHERTYPE_ARP;
	else
		placed = m->depth == LEVEL_IP_PROTOCOL && m->ethertype == ETHERTYPE_IPV6 &&
			 m->ip_protocol == IPPROTO_ICMPV6_;
	if (!placed || ptype != PORT_TAP)
		return handler_misplaced(k->ops, f);
	return reply_options(k, opts, &cfg->o.reply, f);
}

static void reply_options_json(const struct reply_kind *k, const struct binding_config *cfg,
			       json_t *o)
{
	const struct reply_opts *ro = &cfg->o.reply;
	char buf[INET6_ADDRSTRLEN], mac[MAC_STR_MAX];
	json_t *a = json_array();

	for (unsigned i = 0; a && i < ro->n_addrs; i++)
		if (inet_ntop(k->family, ro->addrs[i], buf, sizeof(buf)))
			json_array_append_new(a, json_string(buf));
	json_object_set_new(o, "addresses", a);
	if (ro->has_mac) {
		mac_format(ro->mac, mac);
		json_object_set_new(o, "mac", json_string(mac));
	}
}

/* --- per frame --- */

static bool listed(const struct reply_opts *ro, const uint8_t *addr, size_t alen)
{
	for (unsigned i = 0; i < ro->n_addrs; i++)
		if (memcmp(ro->addrs[i], addr, alen) == 0)
			return true;
	return false;
}

/*
 * The MAC the answers claim: the binding's, or else the port's peer MAC
 * (port_peer_mac: the host on the far side of the tap, the same default the
 * transmit API uses). The tap's own MAC would make the kernel send to
 * itself.
 */
static const uint8_t *reply_mac(const struct binding *b, const struct dispatch_ctx *dc,
				uint8_t buf[6])
{
	if (b->cfg.o.reply.has_mac)
		return b->cfg.o.reply.mac;
	return port_peer_mac(dc->port, buf) ? buf : NULL;
}


/*
 * RFC 826, "Packet Reception": a request (ar$op 1) for Ethernet/IPv4 whose
 * target protocol address is ours is answered with the fields swapped, our
 * hardware address as sender, sent to the requester's hardware address.
 */
static int arp_run(struct binding *b, struct dispatch_ctx *dc)
{
	const struct frame_info *fi = dc->fi;
	const uint8_t *mac;
	uint8_t peer[6];

	if (fi->malformed != MALFORMED_NONE || !fi->has_eth || fi->l3 != L3_ARP ||
	    !fi->arp.ether_ipv4 || fi->arp.op != 1)
		return 0;
	if (!listed(&b->cfg.o.reply, fi->arp.tpa, 4))
		return 0;
	/* A group sender hardware address is no one to unicast a reply to. */
	if (fi->arp.sha[0] & 1)
		return 0;
	/*
	 * RFC 5227 2.3: sender and target protocol address equal is an
	 * announcement; it asks nothing. (A probe, sender 0.0.0.0, is
	 * answered: that is how an address in use is defended, 2.1.1.)
	 */
	if (memcmp(fi->arp.spa, fi->arp.tpa, 4) == 0)
		return 0;
	mac = reply_mac(b, dc, peer);
	if (!mac)
		return -EADDRNOTAVAIL;
	return handler_send(b, dc,
			  build_arp(dc->scratch, PORT_FRAME_MAX, fi->arp.sha, 2, mac, fi->arp.tpa,
				    fi->arp.sha, fi->arp.spa));
}

/*
 * The validity checks of RFC 4861 7.1.1 that the parser does not make: hop
 * limit 255 (so the sender is on the link), code 0, a correct checksum,
 * at least 24 bytes, options of non-zero length within the message, and,
 * from the unspecified address (Duplicate Address Detection), a
 * solicited-node destination and no source link-layer address option.
 */
static bool ns_valid(const struct frame_info *fi, const struct cursor *msg)
{
	static const uint8_t any[16];
	static const uint8_t snm[13] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff };
	bool dad = memcmp(fi->ip6.src, any, 16) == 0;
	size_t off = NS_MIN_LEN;
	uint8_t type, len8;

	if (fi->ip6.hop_limit != 255 || fi->icmp.code != 0 || fi->icmp.checksum_status != CSUM_OK ||
	    msg->len < NS_MIN_LEN)
		return false;
	if (dad && memcmp(fi->ip6.dst, snm, sizeof(snm)) != 0)
		return false;
	while (off < msg->len) {
		if (!cur_u8(msg, off, &type) || !cur_u8(msg, off + 1, &len8) || len8 == 0 ||
		    !cur_has(msg, off, (size_t)len8 * 8))
			return false;
		if (dad && type == NDP_OPT_SLLA)
			return false;
		off += (size_t)len8 * 8;
	}
	return true;
}

/*
 * RFC 4861 7.2.4: a valid solicitation for a listed target gets an
 * advertisement from the target, Override set; solicited and unicast to
 * the soliciting address, or, when that was the unspecified address (DAD),
 * unsolicited to all-nodes ff02::1 (Ethernet 33:33:00:00:00:01, RFC 2464 7).
 */
static int ndp_run(struct binding *b, struct dispatch_ctx *dc)
{
	static const uint8_t any[16];
	static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 0x01 };
	static const uint8_t all_nodes_mac[6] = { 0x33, 0x33, 0, 0, 0, 0x01 };
	const struct frame_info *fi = dc->fi;
	struct cursor frame = cur_init(dc->frame, dc->len), msg;
	struct build_link l = { .link = LINK_ETHERNET };
	uint8_t target[16], peer[6];
	const uint8_t *mac, *dst;
	bool dad;

	if (fi->malformed != MALFORMED_NONE || fi->fragment || !fi->has_eth || fi->l3 != L3_IPV6 ||
	    fi->l4 != L4_ICMPV6 || fi->icmp.type != 135)
		return 0;
	if (!cur_sub(&frame, fi->l4_off, fi->l4_len, &msg))
		return -EINVAL; /* the parser's offsets lie outside the frame */
	if (!ns_valid(fi, &msg) || !cur_bytes(&msg, 8, target, 16))
		return 0;
	/* RFC 4861 7.1.1: the target is not multicast (a listed one never is). */
	if (!addr6_is_unicast(target) || !listed(&b->cfg.o.reply, target, 16))
		return 0;
	/* RFC 4291 2.7: a multicast address is never a source. */
	if (fi->ip6.src[0] == 0xff)
		return 0;

	dad = memcmp(fi->ip6.src, any, 16) == 0;
	if (dad) {
		dst = all_nodes;
		memcpy(l.dst, all_nodes_mac, 6);
	} else {
		if (fi->eth_src[0] & 1)
			return 0; /* a group Ethernet source is no one to unicast to */
		dst = fi->ip6.src;
		memcpy(l.dst, fi->eth_src, 6);
	}
	mac = reply_mac(b, dc, peer);
	if (!mac)
		return -EADDRNOTAVAIL;
	memcpy(l.src, mac, 6);
	return handler_send(b, dc,
			  build_ndp_na(dc->scratch, PORT_FRAME_MAX, &l, target, dst, target, !dad,
				       true, mac));
}

/* --- the two vtables --- */

static int arp_configure(const json_t *opts, enum port_type ptype, struct binding_config *cfg,
			 struct fault *f)
{
	return reply_configure(&arp_kind, opts, ptype, cfg, f);
}

static int ndp_configure(const json_t *opts, enum port_type ptype, struct binding_config *cfg,
			 struct fault *f)
{
	return reply_configure(&ndp_kind, opts, ptype, cfg, f);
}

static void arp_options_json(const struct binding_config *cfg, json_t *o)
{
	reply_options_json(&arp_kind, cfg, o);
}

static void ndp_options_json(const struct binding_config *cfg, json_t *o)
{
	reply_options_json(&ndp_kind, cfg, o);
}

const struct handler_ops handler_arp_reply = {
	.name = "arp_reply",
	.levels = 1u << LEVEL_ETHERTYPE,
	.placement = "at ethertype 2054 of a tap port",
	.extra = { "replies" },
	.configure = arp_configure,
	.options_json = arp_options_json,
	.run = arp_run,
};

const struct handler_ops handler_ndp_reply = {
	.name = "ndp_reply",
	.levels = 1u << LEVEL_IP_PROTOCOL,
	.placement = "at ip_protocol 58 (ethertype 34525) of a tap port",
	.extra = { "replies" },
	.configure = ndp_configure,
	.options_json = ndp_options_json,
	.run = ndp_run,
};
