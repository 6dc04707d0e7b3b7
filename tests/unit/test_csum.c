// SPDX-License-Identifier: MIT
/*
 * Tests of service/csum.c: the word-at-a-time RFC 1071 sum must equal the
 * textbook one (16-bit big-endian words, odd byte zero-padded) for every
 * length, alignment and running sum, and known checksums must come out;
 * RFC 1624's update of one word must give what summing it all again gives.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

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
	/* Even rounds on the vector unit where the CPU has one, odd ones on the portable loop. */
	for (int round = 0; round < 20; round++) {
		csum_portable = round & 1;
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = (uint8_t)(round < 2 ? (round ? 0xff : 0) : rand());
		for (size_t off = 0; off < 8; off++)
			for (size_t len = 0; len + off <= 300; len++) {
				uint32_t sum = round & 1 ? (uint32_t)rand() & 0xfffff : 0;

				assert_int_equal(csum_fold(csum_add(sum, buf + off, len)),
						 reference(sum, buf + off, len));
			}
	}
	csum_portable = false;
}

/*
 * Long runs of 0xff carry out of every word the sum is taken in (the
 * 64-bit words' carries are kept apart), and any 32-bit running sum folds.
 */
static void test_carries(void **state)
{
	static uint8_t buf[9000];
	static const uint32_t sums[] = { 0, 1, 0xffff, 0x10000, 0xfffffff0u, 0xffffffffu };

	(void)state;
	srand(768);
	for (int round = 0; round < 6; round++) {
		csum_portable = round >= 3;
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = (uint8_t)(round == 0	? 0xff
					   : round == 1 ? (i & 1 ? 0xff : 0xfe)
							: rand());
		for (size_t s = 0; s < sizeof(sums) / sizeof(sums[0]); s++)
			for (size_t len = 1000; len <= sizeof(buf); len += 997)
				assert_int_equal(csum_fold(csum_add(sums[s], buf + 1, len)),
						 reference(sums[s], buf + 1, len));
	}
	csum_portable = false;
}

/*
 * Past 256 KiB the vector sum folds its lanes and goes on (4,096 turns of
 * 64 bytes); all ones is the most any lane can take a turn, and 2 MiB of
 * them would overflow its lanes without the folds. Lengths around the
 * first fold, and the whole 2 MiB, on both paths.
 */
static void test_long_buffers(void **state)
{
	static const size_t lens[] = { 262143,	     262144,	     262145,  262144 + 64,
				       262144 + 127, 3 * 262144 + 5, 1u << 21 };
	const size_t max = 1u << 21;
	uint8_t *buf = malloc(max + 1);

	(void)state;
	assert_non_null(buf);
	srand(9000);
	for (int round = 0; round < 4; round++) {
		csum_portable = round & 1;
		for (size_t i = 0; i < max + 1; i++)
			buf[i] = (uint8_t)(round < 2 ? 0xff : rand());
		for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
			assert_int_equal(csum_fold(csum_add(7, buf + (i & 1), lens[i])),
					 reference(7, buf + (i & 1), lens[i]));
	}
	csum_portable = false;
	free(buf);
}

/* The pseudo header of IPv4 is the sum csum_add() gives of its fields. */
static void test_pseudo4_as_bytes(void **state)
{
	(void)state;
	srand(791);
	for (int i = 0; i < 10000; i++) {
		uint8_t a[8], p[12];
		uint8_t proto = (uint8_t)rand();
		uint32_t len = (uint32_t)rand() & 0x1ffff;

		for (int j = 0; j < 8; j++)
			a[j] = (uint8_t)rand();
		memcpy(p, a, 8);
		p[8] = 0;
		p[9] = proto;
		p[10] = (uint8_t)(len >> 8);
		p[11] = (uint8_t)len;
		assert_int_equal(csum_fold(csum_pseudo4(a, a + 4, proto, len)),
				 reference(0, p, sizeof(p)));
	}
}

/*
 * csum_ipv4_header_ok() (the parser's IPv4 header check) says what the
 * full sum says, for every header length (20..60), with and without a
 * correct checksum, at any alignment, and for words of all ones (carries
 * out of every word).
 */
static void test_ipv4_header_words(void **state)
{
	uint8_t buf[72];

	(void)state;
	srand(791);
	for (int round = 0; round < 4000; round++) {
		size_t off = (size_t)round % 8, len = 4 * (size_t)(5 + round % 11);
		uint8_t *h = buf + off;
		uint16_t c;

		for (size_t i = 0; i < len; i++)
			h[i] = (uint8_t)(round % 5 == 0 ? 0xff : round % 5 == 1 ? 0 : rand());
		if (len >= 12 && round % 3) {
			/* Fill in the checksum field (bytes 10-11) so the header is correct. */
			h[10] = h[11] = 0;
			c = csum_fold(csum_add(0, h, len));
			h[10] = (uint8_t)(c >> 8);
			h[11] = (uint8_t)c;
			if (round % 3 == 2)
				h[round % len] ^= (uint8_t)(1u << (round % 8));
		}
		assert_int_equal(csum_ipv4_header_ok(h, len), csum_fold(csum_add(0, h, len)) == 0);
	}
}

/* Two folds take any 32-bit sum to 16 bits, as folding until nothing is left over does. */
static void test_fold_any_32_bit_sum(void **state)
{
	/* Both halves from these: no carry, one into the low half, one out of it again. */
	static const uint32_t halves[] = { 0, 1, 0xfffe, 0xffff };

	(void)state;
	for (size_t i = 0; i < 16; i++) {
		uint32_t s = halves[i / 4] << 16 | halves[i % 4];

		assert_int_equal(csum_fold(s), reference(s, NULL, 0));
	}
	srand(1624);
	for (int i = 0; i < 100000; i++) {
		uint32_t s = (uint32_t)rand() << 16 ^ (uint32_t)rand();

		assert_int_equal(csum_fold(s), reference(s, NULL, 0));
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

/*
 * csum_replace16() after a word changes is the checksum summed again, to
 * the bit, but 0 where the words are now all zero (summed again: 0xffff):
 * random messages, every word position, messages half zeros or half ones,
 * and the words 0, 0xffff and the old value itself among the new ones.
 */
static void test_replace16_as_summed_again(void **state)
{
	uint8_t m[64];
	uint32_t seed = 12345;
	int zeros = 0;

	(void)state;
	for (int round = 0; round < 20000; round++) {
		size_t len = 2 + (size_t)(round % 31) * 2, at;
		uint16_t check, old, nw;

		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			m[i] = (uint8_t)(seed >> 16);
		}
		if (round % 7 == 0)
			memset(m, round % 14 ? 0xff : 0, len / 2);
		at = (size_t)(round % (int)(len / 2)) * 2;
		check = reference(0, m, len);
		old = (uint16_t)(m[at] << 8 | m[at + 1]);
		nw = round % 5 == 0   ? 0
		     : round % 5 == 1 ? 0xffff
		     : round % 5 == 2 ? old
				      : (uint16_t)seed;
		m[at] = (uint8_t)(nw >> 8);
		m[at + 1] = (uint8_t)nw;
		if (csum_replace16(check, old, nw) != 0 || reference(0, m, len) == 0) {
			assert_int_equal(csum_replace16(check, old, nw), reference(0, m, len));
		} else {
			/* Summed again, all zeros give 0xffff; the update, 0 ("sum it again"). */
			for (size_t i = 0; i < len; i++)
				assert_int_equal(m[i], 0);
			zeros++;
		}
	}
	assert_true(zeros > 0); /* the all-zero case was met */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matches_reference),
		cmocka_unit_test(test_known_values),
		cmocka_unit_test(test_carries),
		cmocka_unit_test(test_long_buffers),
		cmocka_unit_test(test_pseudo4_as_bytes),
		cmocka_unit_test(test_ipv4_header_words),
		cmocka_unit_test(test_fold_any_32_bit_sum),
		cmocka_unit_test(test_replace16_as_summed_again),
	};

	return cmocka_run_group_tests_name("csum", tests, NULL, NULL);
}
