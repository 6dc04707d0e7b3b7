// SPDX-License-Identifier: MIT
/*
 * Tests of service/csum.c: the word-at-a-time RFC 1071 sum must equal the
 * textbook one (16-bit big-endian words, odd byte zero-padded) for every
 * length, alignment and running sum, and known checksums must come out.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>

#include "../../service/csum.h"

/* RFC 1071's reference: 16 bits at a time in network order. */
static uint16_t reference(uint32_t sum, const uint8_t *p, size_t len)
{
	uint64_t s = sum;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (i < len)
		s += (uint32_t)p[i] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void test_matches_reference(void **state)
{
	uint8_t buf[600];

	(void)state;
	srand(1071);
	for (int round = 0; round < 20; round++) {
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = (uint8_t)(round < 2 ? (round ? 0xff : 0) : rand());
		for (size_t off = 0; off < 8; off++)
			for (size_t len = 0; len + off <= 300; len++) {
				uint32_t sum = round & 1 ? (uint32_t)rand() & 0xfffff : 0;

				assert_int_equal(csum_fold(csum_add(sum, buf + off, len)),
						 reference(sum, buf + off, len));
			}
	}
}

static void test_known_values(void **state)
{
	/* RFC 1071 3's example words 0001 f203 f4f5 f6f7 sum to ddf2; the checksum is 220d. */
	static const uint8_t rfc[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	/* An IPv4 header whose checksum (b861) is known (Wikipedia's example). */
	static const uint8_t ip[] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
				      0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };
	uint8_t s4[4] = { 198, 18, 0, 1 }, d4[4] = { 198, 18, 0, 2 };

	(void)state;
	assert_int_equal(csum_fold(csum_add(0, rfc, sizeof(rfc))), 0x220d);
	assert_int_equal(csum_fold(csum_add(0, ip, sizeof(ip))), 0xb861);
	/* The pseudo header sums its fields: addresses, protocol, length. */
	assert_int_equal(csum_pseudo4(s4, d4, 17, 8),
			 (uint32_t)(0xc612 + 0x0001 + 0xc612 + 0x0002 + 17 + 8));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matches_reference),
		cmocka_unit_test(test_known_values),
	};

	return cmocka_run_group_tests_name("csum", tests, NULL, NULL);
}
