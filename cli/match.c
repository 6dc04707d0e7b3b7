// SPDX-License-Identifier: MIT
/*
 * MATCH shorthand (match.h): the keywords are a table of (name, ethertype,
 * IP protocol, whether a /N follows and what it sets), so parsing and
 * formatting read the same rows and cannot disagree.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "match.h"

#define ETH_IPV4 2048
#define ETH_ARP	 2054
#define ETH_IPV6 34525

#define NONE (-1)

enum arg_sets {
	SETS_NOTHING,	/* no /N */
	SETS_UDP_PORT,	/* udp/53 */
	SETS_ETHERTYPE, /* ethertype/0x88cc */
	SETS_PROTOCOL,	/* ip/47 */
};

struct keyword {
	const char *name;
	long ethertype;	  /* NONE: not in the match */
	long ip_protocol; /* NONE: not in the match */
	enum arg_sets arg;
	bool formats; /* match_format uses this row (first of its synonyms) */
};

static const struct keyword keywords[] = {
	{ "any", NONE, NONE, SETS_NOTHING, true },
	{ "arp", ETH_ARP, NONE, SETS_NOTHING, true },
	{ "ipv4", ETH_IPV4, NONE, SETS_NOTHING, true },
	{ "ip", ETH_IPV4, NONE, SETS_NOTHING, false },
	{ "ipv6", ETH_IPV6, NONE, SETS_NOTHING, true },
	{ "ip6", ETH_IPV6, NONE, SETS_NOTHING, false },
	{ "icmp", ETH_IPV4, 1, SETS_NOTHING, true },
	{ "icmp6", ETH_IPV6, 58, SETS_NOTHING, true },
	{ "tcp", ETH_IPV4, 6, SETS_NOTHING, true },
	{ "tcp6", ETH_IPV6, 6, SETS_NOTHING, true },
	{ "udp", ETH_IPV4, 17, SETS_NOTHING, true },
	{ "udp6", ETH_IPV6, 17, SETS_NOTHING, true },
	{ "udp", ETH_IPV4, 17, SETS_UDP_PORT, true },
	{ "udp6", ETH_IPV6, 17, SETS_UDP_PORT, true },
	{ "ethertype", NONE, NONE, SETS_ETHERTYPE, true },
	{ "ip", ETH_IPV4, NONE, SETS_PROTOCOL, true },
	{ "ip6", ETH_IPV6, NONE, SETS_PROTOCOL, true },
};

#define NKEYWORDS (sizeof(keywords) / sizeof(keywords[0]))

/* A number in [0, max]: decimal, or hex after 0x. */
static int parse_num(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v;
	char *end;
	int base = 10;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!isxdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, base);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int set_int(json_t *m, const char *key, long v)
{
	return v == NONE ? 0 : json_object_set_new(m, key, json_integer(v)) < 0 ? -ENOMEM : 0;
}

static int parse_json(const char *text, json_t **out, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *m = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);

	if (!m || !json_is_object(m)) {
		snprintf(err, errlen, "MATCH '%s' is not a JSON object%s%s", text, m ? "" : ": ",
			 m ? "" : jerr.text);
		json_decref(m);
		return -EINVAL;
	}
	*out = m;
	return 0;
}

int match_parse(const char *text, json_t **out, char *err, size_t errlen)
{
	const char *slash = strchr(text, '/');
	size_t klen = slash ? (size_t)(slash - text) : strlen(text);
	const struct keyword *kw = NULL;
	unsigned long n = 0;
	json_t *m = NULL;
	int ret = 0;

	*out = NULL;
	if (text[0] == '{')
		return parse_json(text, out, err, errlen);
	for (size_t i = 0; i < NKEYWORDS; i++) {
		if (strlen(keywords[i].name) == klen &&
		    strncasecmp(keywords[i].name, text, klen) == 0 &&
		    (keywords[i].arg != SETS_NOTHING) == (slash != NULL)) {
			kw = &keywords[i];
			break;
		}
	}
	if (!kw) {
		snprintf(err, errlen,
			 "unknown MATCH '%s' (any, arp, ipv4, ipv6, icmp, icmp6, udp/PORT, "
			 "udp6/PORT, tcp, tcp6, ethertype/N, ip/N, ip6/N or a JSON object)",
			 text);
		return -EINVAL;
	}
	if (slash) {
		unsigned long max = kw->arg == SETS_PROTOCOL ? 255 : 65535;

		if (parse_num(slash + 1, max, &n) < 0) {
			snprintf(err, errlen, "MATCH '%s': '%s' is not a number 0..%lu", text,
				 slash + 1, max);
			return -EINVAL;
		}
	}
	m = json_object();
	if (!m)
		return -ENOMEM;
	ret = set_int(m, "ethertype", kw->arg == SETS_ETHERTYPE ? (long)n : kw->ethertype);
	if (!ret)
		ret = set_int(m, "ip_protocol",
			      kw->arg == SETS_PROTOCOL ? (long)n : kw->ip_protocol);
	if (!ret && kw->arg == SETS_UDP_PORT)
		ret = set_int(m, "udp_port", (long)n);
	if (ret) {
		json_decref(m);
		return ret;
	}
	*out = m;
	return 0;
}

static long member(const json_t *m, const char *key)
{
	const json_t *v = json_object_get(m, key);

	return json_is_integer(v) ? (long)json_integer_value(v) : NONE;
}

static int fits(int n, size_t len)
{
	return n >= 0 && (size_t)n < len ? 0 : -ENOSPC;
}

int match_format(const json_t *match, char *buf, size_t len)
{
	long eth = member(match, "ethertype"), proto = member(match, "ip_protocol");
	long port = member(match, "udp_port");
	size_t known = (eth != NONE) + (proto != NONE) + (port != NONE);
	char *dump;
	int n;

	if (!json_is_object(match) || json_object_size(match) != known)
		goto as_json;
	for (size_t i = 0; i < NKEYWORDS; i++) {
		const struct keyword *kw = &keywords[i];

		if (!kw->formats)
			continue;
		switch (kw->arg) {
		case SETS_NOTHING:
			if (eth == kw->ethertype && proto == kw->ip_protocol && port == NONE)
				return fits(snprintf(buf, len, "%s", kw->name), len);
			break;
		case SETS_UDP_PORT:
			if (eth == kw->ethertype && proto == kw->ip_protocol && port != NONE)
				return fits(snprintf(buf, len, "%s/%ld", kw->name, port), len);
			break;
		case SETS_ETHERTYPE:
			if (eth != NONE && proto == NONE && port == NONE)
				return fits(snprintf(buf, len, "%s/0x%04lx", kw->name, eth), len);
			break;
		case SETS_PROTOCOL:
			if (eth == kw->ethertype && proto != NONE && port == NONE)
				return fits(snprintf(buf, len, "%s/%ld", kw->name, proto), len);
			break;
		}
	}
as_json:
	dump = json_dumps(match, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	if (!dump)
		return -ENOMEM;
	n = snprintf(buf, len, "%s", dump);
	free(dump);
	return fits(n, len);
}
