/* SPDX-License-Identifier: MIT */
/*
 * The one decimal number parser of paird, for text a client or an operator
 * typed: query parameters (?after=, ?limit=), path ids, prefix lengths,
 * command-line values. Digits only: no sign, no space, no "0x", which
 * strtoul() would all take.
 */
#ifndef PAIRD_NUM_H
#define PAIRD_NUM_H

#include <stdint.h>

/*
 * Reads @s, 1 to 20 decimal digits (the digits of UINT64_MAX, leading
 * zeros included), as a value in [@min, @max] into @out. Returns 0,
 * -EINVAL when @s is empty, too long or holds anything but digits, or
 * -ERANGE when the value overflows or lies outside [@min, @max]; @out is
 * only written on success.
 */
int num_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

#endif
