/* SPDX-License-Identifier: MIT */
/*
 * Aligned text tables for pairctl's listings (ports, bindings): cells are
 * copied in, column widths are found when the table is printed. Headers in
 * capitals, two spaces between columns, the last column not padded.
 */
#ifndef PAIRCTL_TABLE_H
#define PAIRCTL_TABLE_H

#include <stdio.h>

struct table;

/* ncols columns named by headers[0..ncols). NULL with errno on failure. */
struct table *table_new(unsigned ncols, const char *const *headers);
void table_free(struct table *t);

/* Adds a row of ncols cells (NULL prints as "-"). 0 or -ENOMEM. */
int table_add(struct table *t, const char *const *cells);

void table_print(const struct table *t, FILE *f);

#endif
