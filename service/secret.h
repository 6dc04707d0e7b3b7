/* SPDX-License-Identifier: MIT */
/*
 * Secrets for the control plane's authentication: random hex strings from
 * the kernel's CSPRNG (the generated API token, login codes, session ids)
 * and a comparison whose time does not depend on where two strings first
 * differ. main() and api/auth.c use it; nothing here logs.
 */
#ifndef PAIRD_SECRET_H
#define PAIRD_SECRET_H

#include <stdbool.h>
#include <stddef.h>

/* Bytes of randomness behind every secret paird makes (256 bits). */
#define SECRET_BYTES 32
/* Characters of a secret as hex, without the NUL: two a byte. */
#define SECRET_HEX_LEN 64
_Static_assert(SECRET_HEX_LEN == 2 * SECRET_BYTES, "two hex digits a byte");

/*
 * Fills @out with @bytes random bytes as lower-case hex and a NUL (@out
 * holds 2 * @bytes + 1). Returns 0 or -errno (getrandom failed).
 */
int secret_hex(char *out, size_t bytes);

/* True when the @glen bytes at @given equal the string @want, in time independent of the content. */
bool secret_equal(const char *given, size_t glen, const char *want);

#endif
