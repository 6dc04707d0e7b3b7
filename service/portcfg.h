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
#include <stdint.h>

#include "fault.h"
#include "netaddr.h"

/* jansson's object, named but not included: the data plane includes this header. */
struct json_t;

#define PORT_NAME_MAX 15
#define PORT_ADDR_MAX 16
#define PORT_MTU_MIN  68
#define PORT_MTU_MAX  65535
#define PORT_MTU_IPV6 1280 /* the IPv6 minimum, RFC 8200 section 5 */

enum port_type { PORT_TUN = 1, PORT_TAP = 2 };

struct port_config {
	char name[PORT_NAME_MAX + 1];
	enum port_type type;
	bool packet_info; /* false: IFF_NO_PI */
	bool attach;	  /* use an existing (persistent) device; never delete it */
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
 * An MTU below 1280 with an IPv6 address is refused: the kernel flushes a
 * link's IPv6 addresses below the IPv6 minimum MTU. @patch (may be NULL)
 * is what a PATCH brought, to name the field it changed; otherwise the
 * fault names "mtu" and its detail names "addresses". Kept apart from
 * portcfg_check() so that a state file holding such a port (written before
 * this rule) still loads, with that port in state "error".
 */
int portcfg_check_mtu(const struct port_config *cfg, const struct port_config *patch,
		      struct fault *f);

/* The configuration as JSON (only fields that were given). New reference. */
struct json_t *portcfg_to_json(const struct port_config *cfg);

/* Applies the fields present in @patch to @cfg. */
void portcfg_merge(struct port_config *cfg, const struct port_config *patch);

/*
 * True when @b can be reached from @a by changing the link only (up, MTU,
 * MAC, addresses), without opening the device again.
 */
bool portcfg_same_device(const struct port_config *a, const struct port_config *b);

const char *port_type_name(enum port_type type);

#endif
