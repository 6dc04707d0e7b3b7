// SPDX-License-Identifier: MIT
/* The decimal parser of num.h, with its overflow check before each step. */
#include "num.h"

#include <errno.h>
#include <stdbool.h>

#define NUM_DIGITS_MAX 20 /* UINT64_MAX is 18446744073709551615 */

int num_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t n = 0;
	bool overflow = false;
	const char *p;

	for (p = s; *p; p++) {
		uint64_t d = (uint64_t)(*p - '0');

		if (*p < '0' || *p > '9' || p - s >= NUM_DIGITS_MAX)
			return -EINVAL;
		if (n > (UINT64_MAX - d) / 10)
			overflow = true;
		n = n * 10 + d;
	}
	if (p == s)
		return -EINVAL;
	if (overflow || n < min || n > max)
		return -ERANGE;
	*out = n;
	return 0;
}
