// SPDX-License-Identifier: MIT
/*
 * The strict-object walker and the NUL-refusing string getter of
 * jsonobj.h: the table lookup, the type words of every "must be ..."
 * fault, the unknown and required members.
 */
#include "jsonobj.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const type_words[] = {
	[JT_ANY] = "anything",	    [JT_STRING] = "a string", [JT_INTEGER] = "an integer",
	[JT_BOOLEAN] = "a boolean", [JT_ARRAY] = "an array",  [JT_OBJECT] = "an object",
};

static bool type_matches(enum jtype t, const json_t *v)
{
	switch (t) {
	case JT_STRING:
		return json_is_string(v);
	case JT_INTEGER:
		return json_is_integer(v);
	case JT_BOOLEAN:
		return json_is_boolean(v);
	case JT_ARRAY:
		return json_is_array(v);
	case JT_OBJECT:
		return json_is_object(v);
	default:
		return true;
	}
}

void jsonobj_field(char *buf, size_t size, const char *prefix, const char *key)
{
	if (prefix && prefix[0])
		snprintf(buf, size, "%s.%s", prefix, key);
	else
		snprintf(buf, size, "%s", key);
}

static const struct jfield *field_find(const struct jobj *spec, const char *key)
{
	for (size_t i = 0; i < spec->n_fields; i++)
		if (strcmp(spec->fields[i].key, key) == 0)
			return &spec->fields[i];
	return NULL;
}

/*
 * Runs @read on one member with a record of its own and merges what it
 * found into @f: a reader stops at its member's first problem, the walk
 * goes on to the next member. -EINVAL when it refused.
 */
static int read_member(int (*read)(const json_t *v, const char *field, void *out, struct fault *f),
		       const json_t *v, const char *field, void *out, struct fault *f)
{
	struct fault one = FAULT_INIT;

	if (read(v, field, out, &one) == 0)
		return 0;
	if (one.kind == FAULT_NONE) /* refused without saying why: still a refusal */
		fault_set(&one, FAULT_INVALID, 0, field, "is invalid");
	fault_merge(f, &one);
	return -EINVAL;
}

static int unknown_member(int (*on_unknown)(const char *key, void *out, struct fault *f),
			  const char *key, void *out, struct fault *f)
{
	struct fault one = FAULT_INIT;

	if (on_unknown(key, out, &one) == 0)
		return 0;
	if (one.kind == FAULT_NONE)
		fault_set(&one, FAULT_INVALID, 0, key, "unknown field");
	fault_merge(f, &one);
	return -EINVAL;
}

int jsonobj_read(const json_t *obj, const struct jobj *spec, void *out, struct fault *f)
{
	char field[80];
	bool bad = false;
	const char *key;
	json_t *v;

	if (obj && !json_is_object(obj))
		return fault_set(f, FAULT_INVALID, 0, spec->prefix, "must be an object");
	/*
	 * Every member is looked at, so every invalid one is listed (fault.h);
	 * a fault of another kind than FAULT_INVALID (out of memory) stops
	 * the walk.
	 */
	json_object_foreach((json_t *)obj, key, v) {
		const struct jfield *fd = field_find(spec, key);

		if (f->kind != FAULT_NONE && f->kind != FAULT_INVALID)
			return -EINVAL;
		if (!fd && spec->on_unknown) {
			if (unknown_member(spec->on_unknown, key, out, f) < 0)
				bad = true;
			continue;
		}
		jsonobj_field(field, sizeof(field), spec->prefix, key);
		if (!fd)
			bad = fault_add(f, field, "%s", spec->unknown) < 0 || bad;
		else if (!(fd->nullable && json_is_null(v)) && !type_matches(fd->type, v))
			bad = fault_add(f, field, "must be %s", type_words[fd->type]) < 0 || bad;
		else if (fd->read && read_member(fd->read, v, field, out, f) < 0)
			bad = true;
	}
	for (size_t i = 0; i < spec->n_fields; i++) {
		const struct jfield *fd = &spec->fields[i];

		if (!fd->required || (obj && json_object_get(obj, fd->key)))
			continue;
		jsonobj_field(field, sizeof(field), spec->prefix, fd->key);
		bad = fault_add(f, field, "%s", fd->required) < 0 || bad;
	}
	return bad ? -EINVAL : 0;
}

int jsonobj_string(const json_t *v, const char *field, const char **out, struct fault *f)
{
	if (!json_is_string(v))
		return fault_set(f, FAULT_INVALID, 0, field, "must be a string");
	/* jansson keeps \u0000; C would end the string there and see another value. */
	if (strlen(json_string_value(v)) != json_string_length(v))
		return fault_set(f, FAULT_INVALID, 0, field, "must not contain NUL bytes");
	*out = json_string_value(v);
	return 0;
}
