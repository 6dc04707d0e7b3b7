/* SPDX-License-Identifier: MIT */
/*
 * A port's configuration: what a client asked for when creating, patching
 * or replacing it, and what the state file keeps. This module owns the
 * rules (name syntax, types, ranges) and the JSON form, so the API and the
 * state file validate with exactly the same code and a state file cannot
 * hold what the API would refuse.
 */
#ifndef PAIRD_PORTCFG_H
#define PAIRD_PORTCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fault.h"
#include "netaddr.h"
#include "parse.h"

/* jansson's object, named but not included: the data plane includes this header. */
struct json_t;

#define PORT_NAME_MAX 15
#define PORT_ADDR_MAX 16
#define PORT_MTU_MIN  68
#define PORT_MTU_MAX  65535
#define PORT_MTU_IPV6 1280 /* the IPv6 minimum, RFC 8200 section 5 */
/* A tap's frames carry a 14-byte Ethernet header: the kernel's max_mtu is 65535 less it. */
#define PORT_MTU_MAX_TAP (PORT_MTU_MAX - 14)

/* IFF_MULTI_QUEUE queues a port may have ("queues"). */
#define PORTCFG_QUEUES_MAX 8

enum port_type { PORT_TUN = 1, PORT_TAP = 2 };

struct port_config {
	char name[PORT_NAME_MAX + 1];
	enum port_type type;
	bool packet_info; /* false: IFF_NO_PI */
	bool attach;	  /* use an existing (persistent) device; never delete it */
	bool vnet_hdr;	  /* IFF_VNET_HDR with GSO offloads: super-frames segmented (gso.c) */
	/*
	 * IFF_MULTI_QUEUE queues, 1..PORTCFG_QUEUES_MAX; 0 reads as 1 (see
	 * portcfg_queues()). Queue 0 is read by the main loop, each other one
	 * by a thread of its own (service/queue.h).
	 */
	uint8_t queues;
	bool has_up, has_mtu, has_mac, has_addresses, has_strict;
	bool up;
	bool strict; /* a bad checksum stops a frame (malformed) instead of being counted */
	uint32_t mtu;
	uint8_t mac[6];
	unsigned n_addrs;
	struct ip_prefix addrs[PORT_ADDR_MAX];
};

enum portcfg_mode {
	PORTCFG_CREATE, /* every field; name and type required */
	PORTCFG_PATCH,	/* up, mtu, mac, addresses, strict (RFC 7396 merge patch) */
};

/* Checks @name against ^[A-Za-z0-9_.-]{1,15}$ minus "." and "..". */
int portcfg_name_check(const char *name, const char *field, struct fault *f);

/*
 * Fills @out from the JSON object @obj under the rules of @mode. Unknown
 * fields, wrong JSON types and values out of range are faults naming the
 * field. In PORTCFG_CREATE mode a missing name is taken from @path_name
 * (may be NULL), and a name that differs from it is a fault. @out is only
 * meaningful when 0 is returned.
 */
int portcfg_from_json(const struct json_t *obj, enum portcfg_mode mode, const char *path_name,
		      struct port_config *out, struct fault *f);

/* The rules between fields of a whole configuration (e.g. no MAC on tun). */
int portcfg_check(const struct port_config *cfg, struct fault *f);

/*
 * An IPv6 address listed twice with different prefix lengths is refused
 * (fault_add() on "addresses[I]", the later one): the kernel holds an
 * IPv6 address once, so the second could never be there and every apply
 * would add it again (IPv4 addresses may repeat with another length). So
 * is an IPv6 address the kernel refuses (unspecified, loopback, multicast)
 * or holds with a scope other than global (link-local, site-local).
 * Kept apart from portcfg_from_json() as portcfg_check_mtu() is, so that
 * a state file holding such a port still loads, that port in state error.
 */
int portcfg_check_addrs(const struct port_config *cfg, struct fault *f);

/*
 * A tap's MTU above PORT_MTU_MAX_TAP is refused (the kernel would, halfway
 * through an apply its dry run promised). An MTU below 1280 with an IPv6
 * address is refused: the kernel flushes a
 * link's IPv6 addresses below the IPv6 minimum MTU. @patch (may be NULL)
 * is what a PATCH brought, to name the field it changed; otherwise the
 * fault names "mtu" and its detail names "addresses". Kept apart from
 * portcfg_check() so that a state file holding such a port (written before
 * this rule) still loads, with that port in state "error".
 */
int portcfg_check_mtu(const struct port_config *cfg, const struct port_config *patch,
		      struct fault *f);

/*
 * What the kernel would not hold as asked: portcfg_check_addrs(), then
 * portcfg_check_mtu(). Every path that takes a configuration (a create,
 * PUT, PATCH, a config document, a restore) checks through this one.
 */
int portcfg_check_held(const struct port_config *cfg, const struct port_config *patch,
		       struct fault *f);

/* The configuration as JSON (only fields that were given). New reference. */
struct json_t *portcfg_to_json(const struct port_config *cfg);

/*
 * The configuration as a port's "config" shows it (and GET /api/v1/config):
 * every field a PUT body may hold but the name, always present, in a
 * fixed form: "mtu", "mac" and "up" are null where paird leaves the link
 * as it is (an attached device, a tap's kernel-chosen MAC), "addresses" is
 * [] when none, "strict" false when not given. A PUT of this object (with
 * the port's name) asks for exactly this configuration: portcfg_changes()
 * finds nothing. New reference, NULL when out of memory.
 */
struct json_t *portcfg_config_json(const struct port_config *cfg);

/* The fields portcfg_changes() compares, by name as portcfg_field_name() gives them. */
enum {
	PORTCFG_F_NAME = 1 << 0,
	PORTCFG_F_TYPE = 1 << 1,
	PORTCFG_F_PACKET_INFO = 1 << 2,
	PORTCFG_F_ATTACH = 1 << 3,
	PORTCFG_F_UP = 1 << 4,
	PORTCFG_F_MTU = 1 << 5,
	PORTCFG_F_MAC = 1 << 6,
	PORTCFG_F_ADDRESSES = 1 << 7,
	PORTCFG_F_STRICT = 1 << 8,
	PORTCFG_F_VNET_HDR = 1 << 9,
	PORTCFG_F_QUEUES = 1 << 10,
	PORTCFG_F_ALL = (1 << 11) - 1,
};

/*
 * The PORTCFG_F_* bits of the fields where @b asks for something else than
 * @a; 0 when a change from @a to @b is no change. An absent "strict" equals
 * false and absent "addresses" equal [] (the kernel is treated alike);
 * "up", "mtu" and "mac" given or not differ (not given: left as it is).
 * Addresses are compared in order.
 */
unsigned portcfg_changes(const struct port_config *a, const struct port_config *b);
/* The JSON name of the single PORTCFG_F_* bit @bit ("mtu"), NULL for anything else. */
const char *portcfg_field_name(unsigned bit);
/*
 * The changes from @a to @b for a log line, into @buf (cut at @size):
 * "mtu 1500 -> 1400, addresses"; "" when none.
 */
void portcfg_describe_changes(const struct port_config *a, const struct port_config *b, char *buf,
			      size_t size);

/* Applies the fields present in @patch to @cfg. */
void portcfg_merge(struct port_config *cfg, const struct port_config *patch);

/*
 * True when @b can be reached from @a by changing the link only (up, MTU,
 * MAC, addresses), without opening the device again.
 */
bool portcfg_same_device(const struct port_config *a, const struct port_config *b);

const char *port_type_name(enum port_type type);

/* The port's queue count: @cfg->queues, or 1 when it was left at 0. */
/*
 * What the device's frames start with: Ethernet on a tap, IP (after the
 * packet information if asked for) on a tun. Inline: the dispatch asks
 * for every frame (issue 11).
 */
static inline enum frame_link portcfg_frame_link(const struct port_config *cfg)
{
	if (cfg->type == PORT_TAP)
		return LINK_ETHERNET;
	return cfg->packet_info ? LINK_IP_PI : LINK_IP;
}

static inline unsigned portcfg_queues(const struct port_config *cfg)
{
	return cfg->queues ? cfg->queues : 1;
}

#endif
