/* SPDX-License-Identifier: MIT */
/*
 * Strict JSON objects, the one way paird reads them (STYLE.md rule 12): a
 * static table names each member a request or file may hold, with its JSON
 * type, whether it may be null, whether it is required and the function
 * that reads its value. jsonobj_read() walks the object once, so an unknown
 * key, a member of the wrong type and a value out of range are caught in
 * one place and reported into the fault with the member's full name
 * ("options.limit"). The configuration readers (portcfg.c, bindcfg.c, the
 * state file) and the API's transmit bodies use it; also the one getter of
 * a string that refuses embedded NUL bytes.
 */
#ifndef PAIRD_JSONOBJ_H
#define PAIRD_JSONOBJ_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "fault.h"

/* What a member's value must be. JT_ANY leaves the check to its reader. */
enum jtype { JT_ANY, JT_STRING, JT_INTEGER, JT_BOOLEAN, JT_ARRAY, JT_OBJECT };

struct jfield {
	const char *key;
	enum jtype type;
	bool nullable;	      /* null passes the type check (a merge patch's "remove") */
	const char *required; /* the fault's detail when absent; NULL when optional */
	/*
	 * Reads @v (of the right type) into @out; @field is the member's full
	 * name for faults. 0 or a negative errno with the fault set. May be
	 * NULL: the caller reads the member itself afterwards.
	 */
	int (*read)(const json_t *v, const char *field, void *out, struct fault *f);
};

struct jobj {
	const char *prefix; /* members are named "prefix.key"; NULL or "" at the top */
	const struct jfield *fields;
	size_t n_fields;
	const char *unknown; /* the fault's detail for a key not in @fields */
	/*
	 * When set, called for a key not in @fields instead: 0 lets the key
	 * pass (the caller reads it), a negative errno with the fault set (in
	 * its own words) refuses it.
	 */
	int (*on_unknown)(const char *key, void *out, struct fault *f);
};

#define JOBJ_FIELDS(a) (a), (sizeof(a) / sizeof((a)[0]))

/*
 * Reads the JSON object @obj under @spec: walks its members in order, and
 * for each one a key not in the table, a type other than the table's ("must
 * be a string", "must be an integer", ...) and its reader's refusal are
 * FAULT_INVALID faults naming the member; afterwards a required member
 * that is absent is one too, in table order. Every invalid member is
 * listed in the fault (fault_add(); the first one is its field and
 * detail); a reader stops at its own member's first problem. @out is
 * handed to the readers. @obj NULL is an absent object, read as {}; any
 * other non-object is "must be an object" on the prefix (callers with
 * other words check first). Returns 0 or -EINVAL.
 */
int jsonobj_read(const json_t *obj, const struct jobj *spec, void *out, struct fault *f);

/* "prefix.key", or "key" when @prefix is NULL or empty, cut to @size. */
void jsonobj_field(char *buf, size_t size, const char *prefix, const char *key);

/*
 * The string @v as a C string: a non-string is "must be a string" and a
 * string with an embedded NUL (which C would silently cut) "must not
 * contain NUL bytes", both FAULT_INVALID on @field. 0 or -EINVAL.
 */
int jsonobj_string(const json_t *v, const char *field, const char **out, struct fault *f);

#endif
