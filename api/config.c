// SPDX-License-Identifier: MIT
/*
 * /api/v1/config: the whole desired state as one document. GET answers it
 * with the configuration version as ETag; PUT (If-Match honoured,
 * ?dry_run=true to only plan) makes the running state equal to it through
 * service/config.c and answers with the actions carried out (or planned)
 * and the kernel operations they imply. ETags and If-Match/If-None-Match
 * go through precond.c, as for every resource with a version.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../service/config.h"
#include "../service/filtercheck.h"
#include "../service/portset.h"
#include "internal.h"

int h_config_get(struct api *api, struct request *rq, struct response *rs, struct fault *f)
{
	uint64_t version = portset_version(api->cfg.ports);
	json_t *doc;

	/* If-None-Match with the current version: 304. */
	if (precond_check(rq, true, version, rs))
		return 0;
	doc = config_to_json(api->cfg.ports);
	if (!doc)
		return fault_set(f, FAULT_UNAVAILABLE, ENOMEM, NULL, "out of memory");
	reply_etag(rs, version);
	return reply_json(rs, 200, doc);
}

/*
 * ?dry_run: true or false (also 1 or 0, and a bare ?dry_run, which errs on
 * the side of changing nothing); anything else is a 400 naming it.
 */
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
	const struct config_limits lim = {
		.max_ports = portset_max_ports(ps),
		.max_bindings = portset_max_bindings(ps),
		.filter_budget_ns = (uint64_t)FILTER_CHECK_BUDGET_MS * 1000000u,
	};
	struct config_plan *plan = NULL;
	struct state_doc want = { 0 };
	json_t *doc = NULL, *o;
	bool dry_run;
	int ret = -1;

	if (parse_dry_run(rq, &dry_run, f) < 0)
		return -1;
	/* If-Match (412 when stale), before the body is looked at. */
	if (precond_check(rq, true, portset_version(ps), rs))
		return 0;
	if (body_json_doc(rq, config_values_max(lim.max_ports, lim.max_bindings), &doc, f) < 0)
		return -1;
	if (config_decode(doc, &lim, &want, f) < 0)
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
	reply_etag(rs, portset_version(ps));
	reply_changed(rs, !dry_run && config_plan_count(plan));
	ret = reply_json(rs, 200, o);
out:
	config_plan_free(plan);
	state_doc_free(&want);
	json_decref(doc);
	return ret;
}
