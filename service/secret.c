// SPDX-License-Identifier: MIT
/*
 * Random hex secrets and constant-time comparison (see secret.h). The
 * randomness comes from getrandom(2), which blocks only until the kernel's
 * pool is first initialised, so a secret is never predictable, even early
 * at boot.
 */
#include "secret.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

int secret_hex(char *out, size_t bytes)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char buf[64];
	size_t got = 0;

	if (bytes > sizeof(buf))
		return -EINVAL;
	while (got < bytes) {
		ssize_t n = getrandom(buf + got, bytes - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)n;
	}
	for (size_t i = 0; i < bytes; i++) {
		out[2 * i] = digits[buf[i] >> 4];
		out[2 * i + 1] = digits[buf[i] & 15];
	}
	out[2 * bytes] = '\0';
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

bool secret_equal(const char *given, size_t glen, const char *want)
{
	size_t wlen = strlen(want);
	unsigned char diff = glen != wlen;

	/* No early exit: the time taken says nothing about a matching prefix. */
	for (size_t i = 0; i < wlen; i++)
		diff |= (unsigned char)(want[i] ^ (i < glen ? given[i] : 0));
	return diff == 0;
}
