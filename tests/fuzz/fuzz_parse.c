// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the frame parser (service/parse.c): every input is
 * parsed as a tap frame, a tun packet and a tun packet with packet
 * information, strict and not, and each result must hold together (the
 * same properties tests/unit/test_parse.c checks): offsets and lengths
 * inside the input and nested layer in layer, UDP and ICMP payloads that
 * match their headers, no fragment parsed past its protocol, no bad
 * checksum let through by a strict parse, and a strict parse that agrees
 * with the lenient one whenever no checksum was bad. A violation aborts.
 * Built and run by `make fuzz`, seeded from the fixture frames.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../service/parse.h"
#include "../unit/frame_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct frame_info *fi, size_t len, bool strict, enum frame_link link)
{
	const char *why = frame_check(fi, len, strict);

	if (why) {
		fprintf(stderr, "fuzz_parse: link %d, %zu bytes, %s: %s (malformed %s)\n", link,
			len, strict ? "strict" : "lenient", why, malformed_name(fi->malformed));
		abort();
	}
}

static bool any_bad(const struct frame_info *fi)
{
	return fi->ip4.checksum_status == CSUM_BAD || fi->udp.checksum_status == CSUM_BAD ||
	       fi->icmp.checksum_status == CSUM_BAD;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum frame_link links[] = { LINK_ETHERNET, LINK_IP, LINK_IP_PI };
	struct frame_info lenient, strict;

	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		frame_parse(data, size, links[i], 0, &lenient);
		check(&lenient, size, false, links[i]);
		frame_parse(data, size, links[i], PARSE_STRICT, &strict);
		check(&strict, size, true, links[i]);
		/* Strictness only matters where a checksum is bad (and in the options recorded). */
		strict.opts = lenient.opts;
		if (!any_bad(&lenient) && memcmp(&lenient, &strict, sizeof(strict)) != 0) {
			fprintf(stderr, "fuzz_parse: link %d: strict and lenient differ\n",
				links[i]);
			abort();
		}
	}
	return 0;
}
