// SPDX-License-Identifier: MIT
/*
 * RFC 1071 checksum over byte strings, summed as native words and turned
 * to network order once (no host struct or alignment is ever assumed),
 * with the odd final byte padded with zero. On x86-64 CPUs with AVX2 the
 * bulk of a long buffer is summed by the vector unit.
 */
#include "csum.h"

#include <arpa/inet.h>
#include <string.h>

bool csum_portable;

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define CSUM_AVX2 1

/* Eight 32-bit lanes: GCC keeps these in registers where __m256i sums get copied. */
typedef uint32_t lanes8 __attribute__((vector_size(32)));

/* The eight native 16-bit words at @p, zero-extended. */
__attribute__((target("avx2"), always_inline)) static inline lanes8 widen8(const uint8_t *p)
{
	return (lanes8)_mm256_cvtepu16_epi32(_mm_loadu_si128((const void *)p));
}

/*
 * The 16-bit words of @n bytes (a multiple of 64), zero-extended into
 * 32-bit lanes and added there: four sums of eight lanes, so that four
 * additions are under way at once where the scalar loop below waits on
 * each carry (1,400 bytes: ~20 ns against ~48 here). A lane takes at most
 * 0xffff a turn: 4,096 turns (256 KiB) between folds cannot overflow it.
 * The words are native, as in csum_add(): the sum is the same modulo
 * 0xffff as that of the 64-bit words.
 */
__attribute__((target("avx2"))) static uint64_t sum_avx2(const uint8_t *data, size_t n)
{
	uint64_t total = 0;

	while (n) {
		size_t turns = n / 64 < 4096 ? n / 64 : 4096;
		lanes8 a0 = { 0 }, a1 = a0, a2 = a0, a3 = a0;

		for (size_t i = 0; i < turns; i++, data += 64) {
			a0 += widen8(data);
			a1 += widen8(data + 16);
			a2 += widen8(data + 32);
			a3 += widen8(data + 48);
		}
		n -= turns * 64;
		/* Each lane is at most 4,096 * 4 * 0xffff < 2^30: their sum fits in 32 bits. */
		a0 += a1 + a2 + a3;
		for (int i = 0; i < 8; i++)
			total += a0[i];
	}
	return total;
}
#endif

/* Adds the words of @len bytes at @data to @acc, and ends as csum_add() does. */
static inline __attribute__((always_inline)) uint32_t sum_words(uint64_t acc, uint32_t sum,
								const uint8_t *data, size_t len)
{
	uint64_t carries = 0, w;
	uint32_t v;

	/*
	 * RFC 1071 2(B): the one's-complement sum does not depend on byte
	 * order. Sum the bytes as native 64-bit words (copied, so nothing is
	 * assumed of alignment), keeping the carries out of the top apart,
	 * fold to 16 bits, and put that one result in network order: about
	 * two instructions per 8 bytes, four words per turn (the per-frame
	 * cost of verifying a UDP checksum, issue 11). An odd last byte is
	 * the high byte of a zero-padded 16-bit word (RFC 1071 4.1).
	 */
	for (; len >= 32; data += 32, len -= 32) {
		/* Four copies, not one of 32 bytes: that one goes through the stack. */
		uint64_t x0, x1, x2, x3;

		memcpy(&x0, data, 8);
		memcpy(&x1, data + 8, 8);
		memcpy(&x2, data + 16, 8);
		memcpy(&x3, data + 24, 8);
		acc += x0;
		carries += acc < x0;
		acc += x1;
		carries += acc < x1;
		acc += x2;
		carries += acc < x2;
		acc += x3;
		carries += acc < x3;
	}
	for (; len >= 8; data += 8, len -= 8) {
		memcpy(&w, data, 8);
		acc += w;
		carries += acc < w;
	}
	/*
	 * Native 32- and 16-bit words: the same byte positions as in a 64-bit
	 * one. None are left of a multiple of 8 bytes: one test, not three.
	 */
	if (len) {
		w = 0;
		if (len & 4) {
			uint32_t v4;

			memcpy(&v4, data, 4);
			w += v4;
			data += 4;
		}
		if (len & 2) {
			uint16_t v2;

			memcpy(&v2, data, 2);
			w += v2;
			data += 2;
		}
		if (len & 1) {
			uint8_t pad[2] = { data[0], 0 };
			uint16_t v2;

			memcpy(&v2, pad, 2);
			w += v2;
		}
		acc += w;
		carries += acc < w;
	}
	/*
	 * 2^64 and 2^32 are 1 modulo 0xffff: fold to 32 bits with end-around
	 * carries. Swapping the bytes of the 32-bit result swaps those of both
	 * its 16-bit halves (and the halves, which does not change their sum):
	 * network order without folding to 16 bits first; csum_fold() ends it.
	 */
	acc += carries;
	carries = acc < carries;
	acc += carries;
	acc = (acc & 0xffffffffu) + (acc >> 32);
	v = ntohl((uint32_t)acc + (uint32_t)(acc >> 32));
	acc = (uint64_t)sum + v;
	return (uint32_t)((acc & 0xffffffffu) + (acc >> 32));
}

#ifdef CSUM_AVX2
/* Apart, so that the short buffers of csum_add() save no register for it. */
__attribute__((noinline)) static uint32_t csum_add_avx2(uint32_t sum, const uint8_t *data,
							size_t len)
{
	size_t n = len & ~(size_t)63;

	return sum_words(sum_avx2(data, n), sum, data + n, len - n);
}
#endif

uint32_t csum_add(uint32_t sum, const uint8_t *data, size_t len)
{
#ifdef CSUM_AVX2
	/* Below 128 bytes the vector unit's set-up costs what it saves. */
	if (len >= 128 && !csum_portable && __builtin_cpu_supports("avx2"))
		return csum_add_avx2(sum, data, len);
#endif
	return sum_words(0, sum, data, len);
}

uint32_t csum_pseudo6(const uint8_t src[16], const uint8_t dst[16], uint8_t next_header,
		      uint32_t len)
{
	uint32_t s = csum_add(0, src, 16);

	s = csum_add(s, dst, 16);
	return s + (len >> 16) + (len & 0xffff) + next_header;
}
