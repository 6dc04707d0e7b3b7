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

int jsonobj_read(const json_t *obj, const struct jobj *spec, void *out, struct fault *f)
{
	char field[80];
	const char *key;
	json_t *v;

	if (obj && !json_is_object(obj))
		return fault_set(f, FAULT_INVALID, 0, spec->prefix, "must be an object");
	json_object_foreach((json_t *)obj, key, v) {
		const struct jfield *fd = field_find(spec, key);

		if (!fd && spec->on_unknown) {
			if (spec->on_unknown(key, out, f) < 0)
				return -EINVAL;
			continue;
		}
		jsonobj_field(field, sizeof(field), spec->prefix, key);
		if (!fd)
			return fault_set(f, FAULT_INVALID, 0, field, "%s", spec->unknown);
		if (!(fd->nullable && json_is_null(v)) && !type_matches(fd->type, v))
			return fault_set(f, FAULT_INVALID, 0, field, "must be %s",
					 type_words[fd->type]);
		if (fd->read && fd->read(v, field, out, f) < 0)
			return -EINVAL;
	}
	for (size_t i = 0; i < spec->n_fields; i++) {
		const struct jfield *fd = &spec->fields[i];

		if (!fd->required || (obj && json_object_get(obj, fd->key)))
			continue;
		jsonobj_field(field, sizeof(field), spec->prefix, fd->key);
		return fault_set(f, FAULT_INVALID, 0, field, "%s", fd->required);
	}
	return 0;
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
