/* SPDX-License-Identifier: MIT */
/*
 * Text forms of the link-layer and IP values paird is configured with:
 * interface prefixes ("198.18.0.1/24", "2001:db8::1/64") and MAC addresses
 * ("02:00:00:00:00:01"). Parsers are strict: the whole string must match,
 * so validation errors can name exactly what was wrong.
 */
#ifndef PAIRD_NETADDR_H
#define PAIRD_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ip_prefix {
	int family;	  /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network byte order; 4 bytes used for AF_INET */
	uint8_t len;	  /* prefix length */
};

#define PREFIX_STR_MAX 64 /* "ffff:...:ffff/128" with room to spare */
#define MAC_STR_MAX    18

/*
 * Parses "ADDR/LEN". Returns 0, or -EINVAL with a static reason in *why
 * (e.g. "prefix length must be 1..32 for IPv4").
 */
int prefix_parse(const char *s, struct ip_prefix *out, const char **why);
void prefix_format(const struct ip_prefix *p, char buf[PREFIX_STR_MAX]);
bool prefix_equal(const struct ip_prefix *a, const struct ip_prefix *b);

/* The value of one hex digit (either case), or -1. */
int hex_digit(char c);

/* Parses six colon-separated hex octets. Returns 0 or -EINVAL with *why. */
int mac_parse(const char *s, uint8_t mac[6], const char **why);
/* The same without the unicast rules: any six octets (a frame's destination). */
int mac_parse_any(const char *s, uint8_t mac[6], const char **why);
void mac_format(const uint8_t mac[6], char buf[MAC_STR_MAX]);

#endif
