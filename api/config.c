// SPDX-License-Identifier: MIT
/*
 * /api/v1/config: the whole desired state as one document. GET answers it
 * with the configuration version as ETag; PUT (If-Match honoured,
 * ?dry_run=true to only plan) makes the running state equal to it through
 * service/config.c and answers with the actions carried out (or planned)
 * and the kernel operations they imply.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../service/config.h"
#include "../service/portset.h"
#include "internal.h"

static void etag_header(struct response *rs, uint64_t version)
{
	response_header(rs, "ETag", "\"%llu\"", (unsigned long long)version);
}

/*
 * If-Match (RFC 9110 section 13.1.1): "*" or a list of entity tags, one of
 * which must be the current one, compared strongly (a weak tag never
 * matches). No header: no condition.
 */
static bool if_match_ok(const char *v, uint64_t version)
{
	char tag[32];
	size_t n;

	if (!v)
		return true;
	n = (size_t)snprintf(tag, sizeof(tag), "\"%llu\"", (unsigned long long)version);
	while (*v) {
		size_t len;

		v += strspn(v, " \t,");
		len = strcspn(v, " \t,");
		if (len == 1 && v[0] == '*')
			return true;
		if (len == n && strncmp(v, tag, n) == 0)
			return true;
		v += len;
	}
	return false;
}

int h_config_get(struct api *api, struct request *rq, struct response *rs, struct fault *f)
{
	json_t *doc = config_to_json(api->cfg.ports);

	(void)rq;
	if (!doc)
		return fault_set(f, FAULT_UNAVAILABLE, ENOMEM, NULL, "out of memory");
	etag_header(rs, portset_version(api->cfg.ports));
	return reply_json(rs, 200, doc);
}

/* ?dry_run: true or false (also 1 or 0); anything else is a 400 naming it. */
static int parse_dry_run(const struct request *rq, bool *out, struct fault *f)
{
	const char *v = rq->query ? rq->query(rq->lookup_ctx, "dry_run") : NULL;

	*out = false;
	if (!v)
		return 0;
	if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || v[0] == '\0')
		*out = true;
	else if (strcmp(v, "false") != 0 && strcmp(v, "0") != 0)
		return fault_set(f, FAULT_QUERY, 0, "query.dry_run", "must be true or false");
	return 0;
}

int h_config_put(struct api *api, struct request *rq, struct response *rs, struct fault *f)
{
	struct portset *ps = api->cfg.ports;
	const char *if_match = rq->header ? rq->header(rq->lookup_ctx, "If-Match") : NULL;
	struct config_plan *plan = NULL;
	struct state_doc want = { 0 };
	json_t *doc = NULL, *o;
	bool dry_run;
	int ret = -1;

	if (parse_dry_run(rq, &dry_run, f) < 0)
		return -1;
	if (!if_match_ok(if_match, portset_version(ps))) {
		char detail[160];

		snprintf(detail, sizeof(detail),
			 "If-Match does not match the configuration's version, now \"%llu\"; "
			 "GET /api/v1/config again",
			 (unsigned long long)portset_version(ps));
		reply_problem(rs, 412, "precondition-failed", detail, rq->path);
		etag_header(rs, portset_version(ps));
		return 0;
	}
	if (body_json(rq, false, &doc, f) < 0)
		return -1;
	if (config_decode(doc, &want, f) < 0)
		goto out;
	if (config_plan_new(ps, &want, &plan, f) < 0)
		goto out;
	if (!dry_run && config_apply(ps, plan, f) < 0) {
		json_t *ext = json_object();

		json_object_set_new(ext, "rolled_back", config_plan_json(plan, true));
		reply_fault_ext(rs, f, rq->path, ext);
		ret = 0;
		goto out;
	}
	o = json_object();
	json_object_set_new(o, "changed", json_boolean(!dry_run && config_plan_count(plan)));
	json_object_set_new(o, "dry_run", json_boolean(dry_run));
	json_object_set_new(o, "version", json_integer((json_int_t)portset_version(ps)));
	json_object_set_new(o, "actions", config_plan_json(plan, false));
	etag_header(rs, portset_version(ps));
	response_header(rs, "Paird-Changed", "%s",
			!dry_run && config_plan_count(plan) ? "true" : "false");
	ret = reply_json(rs, 200, o);
out:
	config_plan_free(plan);
	state_doc_free(&want);
	json_decref(doc);
	return ret;
}
