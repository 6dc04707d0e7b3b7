// SPDX-License-Identifier: MIT
/*
 * Request bodies: the media type is checked before a byte is parsed (a
 * browser can send text/plain cross-origin without a preflight; JSON-only
 * closes that door), the size cap was enforced while the body arrived,
 * and jansson parses with duplicate keys rejected.
 */
#include <errno.h>
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

int body_json(const struct request *rq, bool merge_patch, json_t **out, struct fault *f)
{
	const char *ct = rq->header ? rq->header(rq->lookup_ctx, "Content-Type") : NULL;
	json_error_t jerr;
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
