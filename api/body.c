// SPDX-License-Identifier: MIT
/*
 * Request bodies: the media type is checked before a byte is parsed (a
 * browser can send text/plain cross-origin without a preflight; JSON-only
 * closes that door), the size cap was enforced while the body arrived, a
 * body that is not an object or holds more values than the resource can
 * take is refused before jansson builds anything, and jansson parses with
 * duplicate keys rejected. api/http.c frees the body here, so the memory
 * of a large request goes back to the system.
 */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

/* True when @ct names @type, ignoring case and any ";parameters". */
static bool media_type_is(const char *ct, const char *type)
{
	size_t n = strlen(type);

	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, type, n) != 0)
		return false;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

/*
 * The key jansson names in a duplicate-key error (its text ends with
 * near '"KEY"'), so the problem can name the field; NULL otherwise.
 */
static const char *duplicate_key(const json_error_t *jerr)
{
	static char key[64];
	const char *p = strstr(jerr->text, "near '\"");
	size_t n;

	if (json_error_code(jerr) != json_error_duplicate_key || !p)
		return NULL;
	p += 7;
	n = strcspn(p, "\"");
	if (n == 0 || n >= sizeof(key) || p[n] != '"')
		return NULL;
	memcpy(key, p, n);
	key[n] = '\0';
	return key;
}

/* RFC 8259 2: the whitespace allowed around a value. */
static bool json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * An upper bound on the values of the JSON text at @p (@len bytes), from
 * one pass that never builds anything: each value is the top one or an
 * element of a container, and a non-empty container of n elements holds
 * n - 1 commas, so values <= 1 + commas + containers, counted outside
 * strings. Stops counting past @max (the answer is then > @max).
 */
static size_t values_bound(const char *p, size_t len, size_t max)
{
	bool in_string = false;
	size_t n = 1;

	for (size_t i = 0; i < len && n <= max; i++) {
		char c = p[i];

		if (in_string) {
			if (c == '\\')
				i++; /* the escaped byte cannot end the string */
			else if (c == '"')
				in_string = false;
		} else if (c == '"') {
			in_string = true;
		} else if (c == ',' || c == '{' || c == '[') {
			n++;
		}
	}
	return n;
}

static int parse(const struct request *rq, bool merge_patch, size_t max_values, json_t **out,
		 struct fault *f)
{
	const char *ct = rq->header ? rq->header(rq->lookup_ctx, "Content-Type") : NULL;
	json_error_t jerr;
	size_t i = 0;
	json_t *doc;

	*out = NULL;
	if (!ct || !(media_type_is(ct, "application/json") ||
		     (merge_patch && media_type_is(ct, "application/merge-patch+json"))))
		return fault_set(f, FAULT_MEDIA_TYPE, 0, NULL,
				 "the body must be %s (Content-Type was %s)",
				 merge_patch ? "application/merge-patch+json or application/json"
					     : "application/json",
				 ct ? ct : "absent");
	if (!rq->body || rq->body_len == 0)
		return fault_set(f, FAULT_SYNTAX, 0, NULL, "the request has no body");
	/*
	 * jansson builds the whole tree (~20 times the text) before the top
	 * level can be looked at: what cannot be an object, or holds more
	 * values than any document of the resource, is refused unparsed.
	 */
	while (i < rq->body_len && json_space(rq->body[i]))
		i++;
	if (i < rq->body_len && rq->body[i] != '{')
		return fault_set(f, FAULT_SYNTAX, 0, NULL, "the body must be a JSON object");
	if (max_values != SIZE_MAX && values_bound(rq->body, rq->body_len, max_values) > max_values)
		return fault_set(f, FAULT_TOO_LARGE, 0, NULL,
				 "the body holds more than %zu JSON values, more than any "
				 "request to this resource can hold",
				 max_values);
	doc = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc)
		return fault_set(f, FAULT_SYNTAX, 0, duplicate_key(&jerr),
				 "invalid JSON at line %d column %d: %s", jerr.line, jerr.column,
				 jerr.text);
	if (!json_is_object(doc)) {
		json_decref(doc);
		return fault_set(f, FAULT_SYNTAX, 0, NULL, "the body must be a JSON object");
	}
	*out = doc;
	return 0;
}

int body_json(const struct request *rq, bool merge_patch, json_t **out, struct fault *f)
{
	/* API_BODY_MAX bytes hold a few thousand values at most: no count needed. */
	return parse(rq, merge_patch, SIZE_MAX, out, f);
}

int body_json_doc(const struct request *rq, size_t max_values, json_t **out, struct fault *f)
{
	return parse(rq, false, max_values, out, f);
}

void body_free(char *body, size_t cap)
{
	free(body);
	/*
	 * A large body (and the tree parsed from it, freed by now) leaves the
	 * heap grown by many times its size, which glibc keeps: give it back.
	 */
	if (cap >= BODY_TRIM_MIN)
		malloc_trim(0);
}
