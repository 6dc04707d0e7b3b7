/* SPDX-License-Identifier: MIT */
/* The count handler (h_count.c): no options, nothing to do per frame. */
#ifndef PAIRD_H_COUNT_H
#define PAIRD_H_COUNT_H

extern const struct handler_ops handler_count;

#endif
