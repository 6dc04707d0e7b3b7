/* SPDX-License-Identifier: MIT */
/*
 * The MATCH shorthand of `pairctl bind` (udp/53, icmp6, arp, ip/47, any ...)
 * to the API's match object and back (for the bindings table). Pure
 * functions over jansson values; tests/unit/test_cli_match.c runs them.
 */
#ifndef PAIRCTL_MATCH_H
#define PAIRCTL_MATCH_H

#include <stddef.h>

#include <jansson.h>

/*
 * Parses text into a new match object (the caller owns it) in *out:
 *   any                      {}
 *   arp                      {"ethertype":2054}
 *   ipv4 | ip, ipv6 | ip6    {"ethertype":2048} / 34525
 *   icmp, icmp6              IPv4 protocol 1 / IPv6 next header 58
 *   udp, udp6, tcp, tcp6     IPv4 / IPv6 protocol 17 or 6
 *   udp/PORT, udp6/PORT      a UDP destination port, 0..65535
 *   ethertype/N              0..65535, decimal or 0x hex
 *   ip/N, ip6/N              an IPv4 protocol / IPv6 next header, 0..255
 *   {...}                    a JSON match object, sent as is
 * Keywords are case-insensitive. Returns 0, or -EINVAL with err set
 * (errlen bytes), or -ENOMEM.
 */
int match_parse(const char *text, json_t **out, char *err, size_t errlen);

/*
 * Writes the shorthand of a match object into buf (len bytes): the
 * keyword match_parse takes for it, or its compact JSON when there is none.
 * Returns 0, or -ENOSPC when buf is too small (buf then holds a cut string).
 */
int match_format(const json_t *match, char *buf, size_t len);

#endif
