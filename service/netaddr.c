// SPDX-License-Identifier: MIT
/*
 * Strict parsing and formatting of IP prefixes and MAC addresses for port
 * configuration. inet_pton() does the address syntax; this file adds the
 * prefix length and the rules on top (unicast MAC, no trailing junk).
 */
#include "netaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "num.h"

int prefix_parse(const char *s, struct ip_prefix *out, const char **why)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t alen;
	uint64_t len;
	unsigned max;
	const char *p;
	int ret;

	if (!slash) {
		*why = "must be ADDRESS/LENGTH, e.g. 198.18.0.1/24 or 2001:db8::1/64";
		return -EINVAL;
	}
	alen = (size_t)(slash - s);
	if (alen == 0 || alen >= sizeof(addr)) {
		*why = "address part is empty or too long";
		return -EINVAL;
	}
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, addr, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else {
		*why = "not an IPv4 or IPv6 address";
		return -EINVAL;
	}
	p = slash + 1;
	if (*p == '\0' || strlen(p) > 3) {
		*why = "prefix length is missing or too long";
		return -EINVAL;
	}
	ret = num_parse_u64(p, 1, max, &len);
	if (ret == -EINVAL) {
		*why = "prefix length must be a decimal number";
		return -EINVAL;
	}
	if (ret < 0) {
		*why = out->family == AF_INET ? "prefix length must be 1..32 for IPv4"
					      : "prefix length must be 1..128 for IPv6";
		return -EINVAL;
	}
	out->len = (uint8_t)len;
	return 0;
}

void prefix_format(const struct ip_prefix *p, char buf[PREFIX_STR_MAX])
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(p->family, p->addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	snprintf(buf, PREFIX_STR_MAX, "%s/%u", a, p->len);
}

bool prefix_equal(const struct ip_prefix *a, const struct ip_prefix *b)
{
	size_t n = a->family == AF_INET ? 4 : 16;

	return a->family == b->family && a->len == b->len && memcmp(a->addr, b->addr, n) == 0;
}

int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int mac_parse_any(const char *s, uint8_t mac[6], const char **why)
{
	if (strlen(s) != 17) {
		*why = "must be six colon-separated hex octets, e.g. 02:00:00:00:00:01";
		return -EINVAL;
	}
	for (size_t i = 0; i < 6; i++) {
		int hi = hex_digit(s[i * 3]), lo = hex_digit(s[i * 3 + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[i * 3 + 2] != ':')) {
			*why = "must be six colon-separated hex octets, e.g. 02:00:00:00:00:01";
			return -EINVAL;
		}
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int mac_parse(const char *s, uint8_t mac[6], const char **why)
{
	if (mac_parse_any(s, mac, why) < 0)
		return -EINVAL;
	/* The kernel refuses these with EADDRNOTAVAIL; say why up front. */
	if (mac[0] & 1) {
		*why = "must be a unicast address (the low bit of the first octet clear)";
		return -EINVAL;
	}
	if (!(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5])) {
		*why = "must not be all zeros";
		return -EINVAL;
	}
	return 0;
}

void mac_format(const uint8_t mac[6], char buf[MAC_STR_MAX])
{
	snprintf(buf, MAC_STR_MAX, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
}
