// SPDX-License-Identifier: MIT
/*
 * Aligned text tables (table.h). Rows are kept as copied strings until the
 * table is printed, since a column's width is known only after its last
 * row; control characters in cells (a server's text) are shown as '?'.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

struct table {
	unsigned ncols;
	size_t nrows; /* the header row included */
	size_t cap;
	char **cells; /* nrows * ncols */
};

struct table *table_new(unsigned ncols, const char *const *headers)
{
	struct table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->ncols = ncols;
	if (table_add(t, headers) < 0) {
		table_free(t);
		errno = ENOMEM;
		return NULL;
	}
	return t;
}

void table_free(struct table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

int table_add(struct table *t, const char *const *cells)
{
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 8;
		char **nc = reallocarray(t->cells, cap * t->ncols, sizeof(*nc));

		if (!nc)
			return -ENOMEM;
		t->cells = nc;
		t->cap = cap;
	}
	for (unsigned c = 0; c < t->ncols; c++) {
		char *s = strdup(cells[c] ? cells[c] : "-");

		if (!s) {
			while (c--)
				free(t->cells[t->nrows * t->ncols + c]);
			return -ENOMEM;
		}
		for (char *p = s; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
		t->cells[t->nrows * t->ncols + c] = s;
	}
	t->nrows++;
	return 0;
}

void table_print(const struct table *t, FILE *f)
{
	size_t *w = calloc(t->ncols, sizeof(*w));

	if (!w)
		return;
	for (size_t r = 0; r < t->nrows; r++)
		for (unsigned c = 0; c < t->ncols; c++) {
			size_t n = strlen(t->cells[r * t->ncols + c]);

			if (n > w[c])
				w[c] = n;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		for (unsigned c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];

			if (c + 1 < t->ncols)
				fprintf(f, "%-*s  ", (int)w[c], s);
			else
				fprintf(f, "%s\n", s);
		}
	}
	free(w);
}
