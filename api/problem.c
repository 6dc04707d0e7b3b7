// SPDX-License-Identifier: MIT
/*
 * RFC 9457 problem details: the one place where a fault becomes an HTTP
 * status and an application/problem+json body. `type` is a stable URN per
 * kind of problem, so clients can branch on it without parsing `detail`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const int kind_status[FAULT_KIND_COUNT] = {
	[FAULT_NONE] = 500,	[FAULT_SYNTAX] = 400,	   [FAULT_MEDIA_TYPE] = 415,
	[FAULT_QUERY] = 400,	[FAULT_INVALID] = 422,	   [FAULT_NOT_FOUND] = 404,
	[FAULT_CONFLICT] = 409, [FAULT_FORBIDDEN] = 403,   [FAULT_LIMIT] = 409,
	[FAULT_GONE] = 410,	[FAULT_UNAVAILABLE] = 503, [FAULT_KERNEL] = 500,
	[FAULT_INTERNAL] = 500, [FAULT_TOO_LARGE] = 413,
};

static const char *title_of(int status)
{
	switch (status) {
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 410:
		return "Gone";
	case 412:
		return "Precondition Failed";
	case 413:
		return "Content Too Large";
	case 415:
		return "Unsupported Media Type";
	case 422:
		return "Unprocessable Content";
	case 503:
		return "Service Unavailable";
	default:
		return "Internal Server Error";
	}
}

int fault_status(const struct fault *f)
{
	if ((unsigned)f->kind >= FAULT_KIND_COUNT)
		return 500;
	return kind_status[f->kind];
}

static void reply_body(struct response *rs, int status, const char *slug, const char *detail,
		       const char *field, int err, const char *instance, json_t *ext)
{
	json_t *o = json_object();
	char type[64], nb[16];
	size_t len = 0;
	char *text;

	snprintf(type, sizeof(type), "urn:paird:problem:%s", slug);
	json_object_set_new(o, "type", json_string(type));
	json_object_set_new(o, "title", json_string(title_of(status)));
	json_object_set_new(o, "status", json_integer(status));
	json_object_set_new(o, "detail", json_text(detail));
	if (field && field[0])
		json_object_set_new(o, "field", json_text(field));
	if (err > 0) {
		json_object_set_new(o, "errno", json_integer(err));
		json_object_set_new(o, "errno_name", json_string(errno_name(err, nb)));
	}
	if (instance)
		json_object_set_new(o, "instance", json_text(instance));
	if (ext)
		json_object_update(o, ext);
	json_decref(ext);
	text = json_dump_line(o, &len);
	json_decref(o);
	rs->status = status;
	rs->content_type = "application/problem+json";
	if (text) {
		rs->body = text;
		rs->len = len;
	} else {
		static const char oom[] = "{\"type\":\"urn:paird:problem:unavailable\","
					  "\"title\":\"Service Unavailable\",\"status\":503,"
					  "\"detail\":\"out of memory\"}\n";
		rs->status = 503;
		rs->static_body = oom;
		rs->len = sizeof(oom) - 1;
	}
}

static json_t *error_item(const char *field, const char *detail)
{
	json_t *o = json_object();

	json_object_set_new(o, "field", json_text(field));
	json_object_set_new(o, "detail", json_text(detail));
	return o;
}

/*
 * "errors": every field the fault names, the first (also "field" and
 * "detail", for clients that read only those) then the others, and
 * "errors_omitted" when more were found than a fault holds. NULL when the
 * fault names no field.
 */
static json_t *errors_json(const struct fault *f)
{
	json_t *ext, *arr;

	if (!f->field[0])
		return NULL;
	ext = json_object();
	arr = json_array();
	json_array_append_new(arr, error_item(f->field, f->detail));
	for (unsigned i = 0; i < f->n_extra; i++)
		json_array_append_new(arr, error_item(f->extra[i].field, f->extra[i].detail));
	json_object_set_new(ext, "errors", arr);
	if (f->n_more)
		json_object_set_new(ext, "errors_omitted", json_integer(f->n_more));
	return ext;
}

void reply_fault(struct response *rs, const struct fault *f, const char *instance)
{
	int status = fault_status(f);

	reply_body(rs, status, fault_kind_slug(f->kind),
		   f->detail[0] ? f->detail : title_of(status), f->field, f->err, instance,
		   errors_json(f));
}

void reply_fault_ext(struct response *rs, const struct fault *f, const char *instance, json_t *ext)
{
	int status = fault_status(f);
	json_t *errors = errors_json(f);

	if (errors && ext)
		json_object_update(ext, errors);
	json_decref(errors);
	reply_body(rs, status, fault_kind_slug(f->kind),
		   f->detail[0] ? f->detail : title_of(status), f->field, f->err, instance, ext);
}

void reply_problem(struct response *rs, int status, const char *slug, const char *detail,
		   const char *instance)
{
	reply_body(rs, status, slug, detail, NULL, 0, instance, NULL);
}

void reply_problem_ext(struct response *rs, int status, const char *slug, const char *detail,
		       const char *instance, json_t *ext)
{
	reply_body(rs, status, slug, detail, NULL, 0, instance, ext);
}

void reply_fault_as(struct response *rs, int status, const char *slug, const struct fault *f,
		    const char *instance)
{
	reply_body(rs, status, slug, f->detail, f->field, f->err, instance, errors_json(f));
}
