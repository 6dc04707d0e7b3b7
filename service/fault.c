// SPDX-License-Identifier: MIT
/*
 * The fault record: first error wins, the list of further invalid
 * fields, errno classification for kernel refusals, and errno names for
 * logs and JSON.
 */
#include "fault.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char *const slugs[FAULT_KIND_COUNT] = {
	[FAULT_NONE] = "none",
	[FAULT_SYNTAX] = "malformed-body",
	[FAULT_MEDIA_TYPE] = "unsupported-media-type",
	[FAULT_QUERY] = "invalid-query",
	[FAULT_INVALID] = "invalid-field",
	[FAULT_NOT_FOUND] = "not-found",
	[FAULT_CONFLICT] = "conflict",
	[FAULT_FORBIDDEN] = "forbidden",
	[FAULT_LIMIT] = "limit-reached",
	[FAULT_GONE] = "gone",
	[FAULT_UNAVAILABLE] = "unavailable",
	[FAULT_KERNEL] = "kernel-error",
	[FAULT_INTERNAL] = "internal-error",
	[FAULT_TOO_LARGE] = "body-too-large",
};

const char *fault_kind_slug(enum fault_kind kind)
{
	if ((unsigned)kind >= FAULT_KIND_COUNT)
		return "internal-error";
	return slugs[kind];
}

const char *errno_name(int err, char buf[16])
{
	const char *name = strerrorname_np(err);

	if (name)
		return name;
	snprintf(buf, 16, "E%d", err);
	return buf;
}

/* The one rule: a fault's errno negated, -EINVAL when it has none (never 0 or positive). */
static int errno_ret(int err)
{
	return err > 0 ? -err : -EINVAL;
}

int fault_ret(const struct fault *f)
{
	return errno_ret(f->err);
}

__attribute__((format(printf, 5, 0))) static int fault_vset(struct fault *f, enum fault_kind kind,
							    int err, const char *field,
							    const char *fmt, va_list ap)
{
	int ret = errno_ret(err);

	if (f->kind != FAULT_NONE)
		return ret;
	f->kind = kind;
	f->err = err;
	snprintf(f->field, sizeof(f->field), "%s", field ? field : "");
	vsnprintf(f->detail, sizeof(f->detail), fmt, ap);
	return ret;
}

int fault_set(struct fault *f, enum fault_kind kind, int err, const char *field, const char *fmt,
	      ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = fault_vset(f, kind, err, field, fmt, ap);
	va_end(ap);
	return ret;
}

static bool listed(const struct fault *f, const char *field)
{
	if (strcmp(f->field, field) == 0)
		return true;
	for (unsigned i = 0; i < f->n_extra; i++)
		if (strcmp(f->extra[i].field, field) == 0)
			return true;
	return false;
}

/* Lists @field with @detail on a FAULT_INVALID record (see fault_add()). */
static void add_item(struct fault *f, const char *field, const char *detail)
{
	struct fault_item *it;

	if (listed(f, field))
		return;
	if (f->n_extra == FAULT_ERRORS_MAX - 1) {
		f->n_more++;
		return;
	}
	it = &f->extra[f->n_extra++];
	snprintf(it->field, sizeof(it->field), "%s", field);
	snprintf(it->detail, sizeof(it->detail), "%s", detail);
}

int fault_add(struct fault *f, const char *field, const char *fmt, ...)
{
	char detail[sizeof(f->detail)];
	va_list ap;

	if (f->kind != FAULT_NONE && f->kind != FAULT_INVALID)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (f->kind == FAULT_NONE)
		return fault_set(f, FAULT_INVALID, 0, field, "%s", detail);
	add_item(f, field ? field : "", detail);
	return -EINVAL;
}

void fault_merge(struct fault *f, const struct fault *from)
{
	if (from->kind == FAULT_NONE)
		return;
	if (f->kind == FAULT_NONE) {
		*f = *from;
		return;
	}
	if (f->kind != FAULT_INVALID || from->kind != FAULT_INVALID)
		return;
	add_item(f, from->field, from->detail);
	for (unsigned i = 0; i < from->n_extra; i++)
		add_item(f, from->extra[i].field, from->extra[i].detail);
	f->n_more += from->n_more;
}

unsigned fault_count(const struct fault *f)
{
	return f->kind == FAULT_NONE ? 0 : 1 + f->n_extra;
}

static enum fault_kind kind_of_errno(int err)
{
	switch (err) {
	case EPERM:
	case EACCES:
		return FAULT_FORBIDDEN;
	case EBUSY:
	case EEXIST:
	case EADDRINUSE:
		return FAULT_CONFLICT;
	case ENOENT:
	case ENODEV:
	case ENXIO:
		return FAULT_NOT_FOUND;
	case EINVAL:
	case ERANGE:
	case EMSGSIZE:
	case EAFNOSUPPORT:
		return FAULT_INVALID;
	case ENOMEM:
	case ENOBUFS:
	case EAGAIN:
	case ENFILE:
	case EMFILE:
		return FAULT_UNAVAILABLE;
	default:
		return FAULT_KERNEL;
	}
}

int fault_errno(struct fault *f, int err, const char *field, const char *fmt, ...)
{
	char what[200];
	char nb[16];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return fault_set(f, kind_of_errno(err), err, field, "%s: %s (%s)", what,
			 errno_name(err, nb), strerror(err));
}
