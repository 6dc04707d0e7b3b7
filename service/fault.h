/* SPDX-License-Identifier: MIT */
/*
 * The one error record of paird (STYLE.md rule 7). Service code fills it
 * when a request cannot be carried out; the API turns it into an RFC 9457
 * problem+json body in one place (api/problem.c). The first error wins: a
 * later fault_set() on a filled record changes nothing, so the innermost,
 * most specific cause is what the client sees. Validators that go on after
 * an invalid field (jsonobj.c) list the further ones with fault_add() and
 * fault_merge(), so a client learns of every invalid field in one answer.
 */
#ifndef PAIRD_FAULT_H
#define PAIRD_FAULT_H

enum fault_kind {
	FAULT_NONE = 0,
	FAULT_SYNTAX,	   /* the body is not well-formed JSON of the right shape */
	FAULT_MEDIA_TYPE,  /* the body is not of a media type the resource takes */
	FAULT_QUERY,	   /* a query parameter is malformed or out of range */
	FAULT_INVALID,	   /* a field breaks a rule */
	FAULT_NOT_FOUND,   /* the named resource does not exist */
	FAULT_CONFLICT,	   /* the resource exists, or is in a state that forbids this */
	FAULT_FORBIDDEN,   /* the kernel refused for lack of privilege (EPERM, EACCES) */
	FAULT_LIMIT,	   /* a configured resource limit is reached */
	FAULT_GONE,	   /* what was asked for is no longer retained */
	FAULT_UNAVAILABLE, /* out of memory or another transient shortage */
	FAULT_KERNEL,	   /* the kernel refused with an errno we do not classify */
	FAULT_INTERNAL,	   /* paird itself failed (state file write, ...) */
	FAULT_TOO_LARGE,   /* the body holds more than the resource can take */
	FAULT_KIND_COUNT
};

/* Invalid fields listed in one fault, the first (field, detail) included. */
#define FAULT_ERRORS_MAX 16

struct fault_item {
	char field[64];
	char detail[320];
};

struct fault {
	enum fault_kind kind;
	int err;	  /* the errno behind the fault, 0 if none */
	char field[64];	  /* the offending field ("mtu", "addresses[2]"), "" if none */
	char detail[320]; /* one human sentence */
	/*
	 * FAULT_INVALID only: the invalid fields after the first, in the order
	 * found, one entry per field; @n_more counts those beyond the room.
	 */
	unsigned n_extra, n_more;
	struct fault_item extra[FAULT_ERRORS_MAX - 1];
};

#define FAULT_INIT                 \
	{                          \
		.kind = FAULT_NONE \
	}

/*
 * Records a fault unless one is already recorded. @err is the errno behind
 * it or 0; @field may be NULL. Returns -err, or -EINVAL when @err is 0, so
 * callers can write `return fault_set(...)`.
 */
int fault_set(struct fault *f, enum fault_kind kind, int err, const char *field, const char *fmt,
	      ...) __attribute__((format(printf, 5, 6)));

/*
 * Records one more invalid field: on an empty record it is fault_set() with
 * FAULT_INVALID; on a FAULT_INVALID record it is listed after the others
 * (unless that field is listed already: its first reason stands); on a
 * record of another kind nothing changes. Returns -EINVAL.
 */
int fault_add(struct fault *f, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Moves what @from records into @f by the same rules: all of it when @f is
 * empty, its fields added one by one (fault_add()) when both are
 * FAULT_INVALID, nothing otherwise.
 */
void fault_merge(struct fault *f, const struct fault *from);

/* Fields @f lists: 0 when empty, else 1 + n_extra (n_more not counted). */
unsigned fault_count(const struct fault *f);

/*
 * What a function that failed with @f filled returns: -f->err, or -EINVAL
 * when the fault names no errno (the rule fault_set() returns by).
 */
int fault_ret(const struct fault *f);

/*
 * Records a kernel refusal: the kind follows @err (EPERM → FAULT_FORBIDDEN,
 * EBUSY/EEXIST → FAULT_CONFLICT, ENOMEM → FAULT_UNAVAILABLE, ...) and the
 * detail ends with the errno name and strerror text. @err is positive.
 */
int fault_errno(struct fault *f, int err, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Stable, lower-case slug of a kind ("invalid", "not-found", ...). */
const char *fault_kind_slug(enum fault_kind kind);

/* "EPERM", "EIO", ... or "E<number>" for unnamed values; never NULL. */
const char *errno_name(int err, char buf[16]);

#endif
