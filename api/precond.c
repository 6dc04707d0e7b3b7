// SPDX-License-Identifier: MIT
/*
 * Versions on the wire: the ETag of a port, a binding or the whole
 * configuration (the port set's version, portset.h, as a strong quoted
 * decimal), the conditional requests on them (RFC 9110 section 13:
 * If-Match on PUT, PATCH and DELETE, If-None-Match: * for a create-only
 * PUT, If-None-Match on GET answered 304) and the Paird-Changed header that
 * tells a client whether its PUT or PATCH changed anything. Every resource
 * handler that has a version goes through here, so they all read the
 * headers alike.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

void reply_etag(struct response *rs, uint64_t version)
{
	response_header(rs, "ETag", "\"%" PRIu64 "\"", version);
}

void reply_changed(struct response *rs, bool changed)
{
	response_header(rs, "Paird-Changed", "%s", changed ? "true" : "false");
}

/*
 * Whether the entity-tag list @list (RFC 9110 8.8.3: "*" or a comma
 * separated list of [W/]"opaque") names @tag. @weak_ok: If-None-Match's
 * weak comparison, where W/"5" matches "5"; If-Match compares strongly, so
 * a weak tag never matches there. An element that does not parse matches
 * nothing: a mangled If-Match fails safe (412), never changes a resource.
 */
static bool etag_listed(const char *list, bool exists, const char *tag, bool weak_ok)
{
	const char *s = list;

	while (*s) {
		bool weak = false;
		const char *end;

		s += strspn(s, " \t,");
		if (!*s)
			break;
		if (*s == '*') {
			if (exists)
				return true;
			s++;
			continue;
		}
		if (strncmp(s, "W/", 2) == 0) {
			weak = true;
			s += 2;
		}
		if (*s != '"')
			return false;
		end = strchr(s + 1, '"');
		if (!end)
			return false;
		if (exists && (!weak || weak_ok) && (size_t)(end - s - 1) == strlen(tag) &&
		    strncmp(s + 1, tag, strlen(tag)) == 0)
			return true;
		s = end + 1;
	}
	return false;
}

int precond_check(const struct request *rq, bool exists, uint64_t version, struct response *rs)
{
	const char *im = rq->header ? rq->header(rq->lookup_ctx, "If-Match") : NULL;
	const char *inm = rq->header ? rq->header(rq->lookup_ctx, "If-None-Match") : NULL;
	bool read = rq->method == HTTP_GET || rq->method == HTTP_HEAD;
	char tag[24], detail[192];

	snprintf(tag, sizeof(tag), "%" PRIu64, version);
	/* RFC 9110 13.2.2: If-Match first; If-None-Match only when it passed or was absent. */
	if (im && !read && !etag_listed(im, exists, tag, false)) {
		if (exists)
			snprintf(detail, sizeof(detail),
				 "If-Match: %.60s does not match the current ETag \"%s\": the "
				 "resource changed since it was read; nothing was done",
				 im, tag);
		else
			snprintf(detail, sizeof(detail),
				 "If-Match: %.60s, but the resource does not exist; nothing was "
				 "done",
				 im);
		reply_problem(rs, 412, "precondition-failed", detail, rq->path);
		if (exists)
			reply_etag(rs, version);
		return 1;
	}
	if (inm && etag_listed(inm, exists, tag, true)) {
		if (read) {
			reply_empty(rs, 304);
			reply_etag(rs, version);
			return 1;
		}
		snprintf(detail, sizeof(detail),
			 "If-None-Match: %.60s, and the resource exists (ETag \"%s\"); nothing "
			 "was done",
			 inm, tag);
		reply_problem(rs, 412, "precondition-failed", detail, rq->path);
		reply_etag(rs, version);
		return 1;
	}
	return 0;
}
