// SPDX-License-Identifier: MIT
/*
 * Atomic state file I/O. The document is written to a sibling temp file,
 * fsync'ed and renamed over the old file, and the directory is fsync'ed so
 * the rename itself survives a crash; a failure on the way (out of memory
 * while serializing, a full disk) removes the temp file and leaves the old
 * file as it was. The document is serialized as it is written, a port's
 * configuration or a binding at a time, never whole in memory: a thousand
 * bindings made the whole document's JSON tree and text about 2 KB a
 * binding, which the allocator then kept resident (issue 11). A state path
 * that is a symbolic link is written through: the temp file goes next to
 * the file the link finally names and is renamed over it, so the link
 * stays (an operator's /etc/paird/state.json -> /var/lib/paird/state.json),
 * but only through directories and links no other user controls
 * (pathsafe.h): paird runs as root and must not write where they point.
 *
 * The document's form: state_decode() reads it into plain structs, checked
 * by the same code as the API (portcfg, bindcfg), and state_encode() writes
 * them back; the port set restores from the one and saves through the
 * other.
 */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bindcfg.h"
#include "jsonobj.h"
#include "log.h"
#include "pathsafe.h"
#include "portcfg.h"

#define STATE_MAX_BYTES (16 << 20)

/* A symbolic link to nothing is an error, never a first start that would replace the link. */
static int dangling(const char *path, struct fault *f)
{
	char to[PATH_MAX];
	ssize_t n = readlink(path, to, sizeof(to) - 1);

	to[n > 0 ? n : 0] = '\0';
	return fault_set(f, FAULT_INVALID, ENOENT, NULL,
			 "state file %s is a symbolic link to %s, which does not exist; fix the "
			 "link or remove it for a start with no ports",
			 path, to);
}

/*
 * The file a save replaces, into @out: @path itself, or for a symbolic
 * link (a chain of them) the file it finally names. A path that does not
 * exist yet is itself (a first start); a link to nothing is an error. So
 * is a path another user could redirect (pathsafe.h): a directory on the
 * way that is not root's or paird's user's, or writable by others without
 * the sticky bit, or in a sticky one a link or file of another user. Root
 * would otherwise write wherever their link points.
 */
static int resolve(const char *path, char *out, size_t size, struct fault *f)
{
	struct pathsafe ps;
	const char *real = path;
	int ret;

	ret = pathsafe_walk("state file", path, &ps, f);
	if (ret < 0)
		return ret;
	if (ps.final_link && ps.missing == ENOENT)
		return dangling(path, f);
	if (ps.final_link && ps.missing)
		return fault_errno(f, ps.missing, NULL, "cannot follow the state file link %s",
				   path);
	if (ps.final_link)
		real = ps.real;
	if ((size_t)snprintf(out, size, "%s", real) >= size)
		return fault_set(f, FAULT_INTERNAL, ENAMETOOLONG, NULL, "state file path too long");
	return 0;
}

int state_load(const char *path, json_t **out, struct fault *f)
{
	char target[PATH_MAX];
	json_error_t jerr;
	struct stat st;
	json_t *doc;
	int fd;

	*out = NULL;
	fd = resolve(path, target, sizeof(target), f);
	if (fd < 0)
		return fd;
	/* A FIFO put in its place is refused, never waited on (start-up would block). */
	fd = pathsafe_open_read(target, O_NOFOLLOW, STATE_MAX_BYTES, NULL);
	if (fd == -ENOENT && lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
		return dangling(path, f);
	if (fd == -ENOENT)
		return -ENOENT;
	if (fd == -EINVAL || fd == -EFBIG)
		return fault_set(f, FAULT_INVALID, EINVAL, NULL,
				 "state file %s is not a regular file of at most %d bytes", path,
				 STATE_MAX_BYTES);
	if (fd < 0)
		return fault_errno(f, -fd, NULL, "cannot open state file %s", path);
	doc = json_loadfd(fd, JSON_REJECT_DUPLICATES, &jerr);
	close(fd);
	if (!doc)
		return fault_set(f, FAULT_SYNTAX, EINVAL, NULL,
				 "state file %s is corrupt: line %d column %d: %s", path, jerr.line,
				 jerr.column, jerr.text);
	*out = doc;
	return 0;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The target of @path and its temp file: "TARGET.tmp", in the target's directory. */
static int paths(const char *path, char target[PATH_MAX], char tmp[PATH_MAX], struct fault *f)
{
	int ret = resolve(path, target, PATH_MAX, f);

	if (ret < 0)
		return ret;
	if ((size_t)snprintf(tmp, PATH_MAX, "%s.tmp", target) >= PATH_MAX)
		return fault_set(f, FAULT_INTERNAL, ENAMETOOLONG, NULL, "state file path too long");
	return 0;
}

/*
 * A new temp file, never one found in its place: a stale one (a crash's)
 * is removed first, and O_EXCL then refuses whatever appeared meanwhile,
 * a symbolic link (which it does not follow) or a FIFO (whose open would
 * have blocked the loop until someone read it). Returns the fd or -errno.
 */
static int open_tmp(const char *tmp)
{
	int fd;

	if (unlink(tmp) < 0 && errno != ENOENT)
		return -errno;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	return fd < 0 ? -errno : fd;
}

int state_check_writable(const char *path, struct fault *f)
{
	char target[PATH_MAX], tmp[PATH_MAX], dir[PATH_MAX];
	int fd, ret;

	ret = paths(path, target, tmp, f);
	if (ret < 0)
		return ret;
	fd = open_tmp(tmp);
	if (fd < 0) {
		snprintf(dir, sizeof(dir), "%s", target);
		return fault_errno(f, -fd, NULL,
				   "state file %s: cannot create %s, so no change could be "
				   "saved; make the directory %s writable for paird or choose "
				   "another --state",
				   path, tmp, dirname(dir));
	}
	close(fd);
	unlink(tmp);
	return 0;
}

int state_lock(const char *path, struct fault *f)
{
	char target[PATH_MAX], lock[PATH_MAX], pid[24] = "";
	struct stat st, wst;
	ssize_t n;
	int fd, wfd, ret;

	ret = resolve(path, target, sizeof(target), f);
	if (ret < 0)
		return ret;
	if ((size_t)snprintf(lock, sizeof(lock), "%s.lock", target) >= sizeof(lock))
		return fault_set(f, FAULT_INTERNAL, ENAMETOOLONG, NULL, "state file path too long");
	/*
	 * Never through a link, never blocking on a FIFO put in its place.
	 * Kept open read-only: a file open for writing would keep the state
	 * file's filesystem from being remounted read-only while paird runs.
	 */
	fd = open(lock, O_RDONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = errno;
		/* No file can be made there: the directory's own message, when it is that. */
		if ((ret == EACCES || ret == EROFS || ret == ENOENT) &&
		    state_check_writable(path, f) < 0)
			return fault_ret(f);
		return fault_errno(f, ret, NULL, "state file %s: cannot open its lock file %s",
				   path, lock);
	}
	/*
	 * One link only: in a shared (sticky) directory another user could
	 * have made the name a hard link to a file of root's (where
	 * fs.protected_hardlinks is off), which the pid would overwrite.
	 */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
	    (st.st_uid != 0 && st.st_uid != geteuid())) {
		close(fd);
		return fault_set(f, FAULT_INVALID, EPERM, NULL,
				 "state file %s: its lock file %s is not a regular file of root "
				 "or paird's user with one link; remove it",
				 path, lock);
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		ret = errno;
		n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? strcspn(pid, "\n") : 0] = '\0';
		close(fd);
		if (ret == EWOULDBLOCK)
			return fault_set(f, FAULT_CONFLICT, EBUSY, NULL,
					 "state file %s is in use by another paird (pid %s, which "
					 "holds %s); stop it, or give this one another --state",
					 path, pid[0] ? pid : "unknown", lock);
		return fault_errno(f, ret, NULL, "state file %s: cannot lock %s", path, lock);
	}
	/*
	 * Who holds it, for the message of the next one refused: written only
	 * into the file just checked and locked (truncated once it is known to
	 * be that one, not by the open).
	 */
	wfd = open(lock, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (wfd < 0 || fstat(wfd, &wst) < 0 || wst.st_dev != st.st_dev || wst.st_ino != st.st_ino ||
	    ftruncate(wfd, 0) < 0 || write(wfd, pid, (size_t)n) != n)
		log_debug("state file %s: cannot write the pid to %s", path, lock);
	if (wfd >= 0)
		close(wfd);
	return fd;
}

/* --- writing --- */

/* A port that never had a binding says nothing about them (no "bindings", no next id). */
static bool says_bindings(const struct state_port *sp)
{
	return sp->n_bindings || (sp->has_next_id && sp->next_binding_id != 1);
}

/* The configuration of the @i-th binding of @sp, its own or borrowed. */
static const struct binding_config *state_binding(const struct state_port *sp, size_t i)
{
	return sp->borrowed ? sp->borrowed[i] : &sp->bindings[i];
}

#define STATE_INDENT 2
#define STATE_DUMP   (JSON_INDENT(STATE_INDENT) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY)

/*
 * A buffered writer of the temp file that dumps JSON values at a depth:
 * jansson indents what it dumps as if it were the whole document, so after
 * each newline of a dumped value the writer adds @depth levels. Newlines
 * only ever separate tokens (jansson escapes those inside strings).
 */
struct out {
	int fd;
	int err;	/* the first failure, -errno: nothing is written after it */
	unsigned depth; /* levels added after each newline */
	size_t n;	/* bytes in buf */
	char buf[16384];
};

static void out_flush(struct out *o)
{
	if (!o->err && o->n)
		o->err = write_all(o->fd, o->buf, o->n);
	o->n = 0;
}

static void out_byte(struct out *o, char c)
{
	if (o->n == sizeof(o->buf))
		out_flush(o);
	o->buf[o->n++] = c;
}

/* json_dump_callback()'s: @len bytes, each newline followed by o->depth levels. */
static int out_cb(const char *s, size_t len, void *arg)
{
	struct out *o = arg;

	for (size_t i = 0; i < len && !o->err; i++) {
		out_byte(o, s[i]);
		if (s[i] == '\n')
			for (unsigned k = 0; k < o->depth * STATE_INDENT; k++)
				out_byte(o, ' ');
	}
	return o->err ? -1 : 0;
}

/* Text without newlines. */
static void out_str(struct out *o, const char *s)
{
	out_cb(s, strlen(s), o);
}

/* A newline, then the indentation of @depth levels. */
static void out_nl(struct out *o, unsigned depth)
{
	o->depth = depth;
	out_cb("\n", 1, o);
}

/* @v as jansson dumps it @depth levels deep. */
static void out_json(struct out *o, const json_t *v, unsigned depth)
{
	o->depth = depth;
	if (json_dump_callback(v, out_cb, o, STATE_DUMP) < 0 && !o->err)
		o->err = -ENOMEM;
}

/* The same for a new value, stolen; NULL is out of memory. */
static void out_json_new(struct out *o, json_t *v, unsigned depth)
{
	if (!v && !o->err)
		o->err = -ENOMEM;
	if (v)
		out_json(o, v, depth);
	json_decref(v);
}

/* A member of an object @depth levels deep, after its predecessor's comma if any. */
static void out_member(struct out *o, const char *key, const json_t *v, unsigned depth)
{
	out_nl(o, depth);
	out_json_new(o, json_string(key), depth);
	out_str(o, ": ");
	out_json(o, v, depth);
}

/*
 * One port as encode_port() has it, two levels deep (doc, ports): its
 * configuration, then its bindings one at a time, each dumped and freed
 * before the next is encoded.
 */
static void out_port(struct out *o, const struct state_port *sp)
{
	json_t *pj = portcfg_to_json(&sp->cfg), *v;
	const char *key;
	bool first = true;

	if (!pj || !says_bindings(sp)) {
		out_json_new(o, pj, 2);
		return;
	}
	out_str(o, "{");
	json_object_foreach(pj, key, v) {
		out_str(o, first ? "" : ",");
		out_member(o, key, v, 3);
		first = false;
	}
	json_decref(pj);
	out_str(o, first ? "" : ",");
	out_nl(o, 3);
	out_str(o, "\"bindings\": [");
	for (size_t i = 0; i < sp->n_bindings; i++) {
		out_str(o, i ? "," : "");
		out_nl(o, 4);
		out_json_new(o, bindcfg_to_json(state_binding(sp, i)), 4);
	}
	if (sp->n_bindings)
		out_nl(o, 3);
	out_str(o, "]");
	if (sp->has_next_id) {
		out_str(o, ",");
		out_nl(o, 3);
		out_str(o, "\"next_binding_id\": ");
		out_json_new(o, json_integer(sp->next_binding_id), 3);
	}
	out_nl(o, 2);
	out_str(o, "}");
}

/* What json_dumps(state_encode(@d)) gives, a port or a binding at a time. */
static void out_doc(struct out *o, const void *arg)
{
	const struct state_doc *d = arg;

	out_str(o, "{");
	out_nl(o, 1);
	out_str(o, "\"format\": ");
	out_json_new(o, json_integer(STATE_FORMAT), 1);
	out_str(o, ",");
	out_nl(o, 1);
	out_str(o, "\"ports\": [");
	for (size_t i = 0; i < d->n_ports; i++) {
		out_str(o, i ? "," : "");
		out_nl(o, 2);
		out_port(o, &d->ports[i]);
	}
	if (d->n_ports)
		out_nl(o, 1);
	out_str(o, "]");
	out_nl(o, 0);
	out_str(o, "}");
}

static void out_whole(struct out *o, const void *arg)
{
	out_json(o, arg, 0);
}

/*
 * Replaces @path with what @fill writes, and a newline: into the temp
 * file, fsync'ed, renamed over the target, the directory fsync'ed.
 */
static int replace(const char *path, void (*fill)(struct out *o, const void *arg), const void *arg,
		   struct fault *f)
{
	char target[PATH_MAX];
	char tmp[PATH_MAX];
	char dir[PATH_MAX];
	struct out *o = NULL;
	int dfd = -1;
	int ret;

	ret = paths(path, target, tmp, f);
	if (ret < 0)
		return ret;
	o = calloc(1, sizeof(*o));
	if (!o)
		return fault_set(f, FAULT_UNAVAILABLE, ENOMEM, NULL,
				 "cannot serialize the state file: out of memory");
	o->fd = open_tmp(tmp);
	if (o->fd < 0) {
		ret = fault_errno(f, -o->fd, NULL, "cannot write state file %s", tmp);
		goto out;
	}
	fill(o, arg);
	out_str(o, "\n");
	out_flush(o);
	ret = o->err;
	if (ret == 0 && fsync(o->fd) < 0)
		ret = -errno;
	if (close(o->fd) < 0 && ret == 0)
		ret = -errno;
	if (ret < 0) {
		if (ret == -ENOMEM)
			fault_set(f, FAULT_UNAVAILABLE, ENOMEM, NULL,
				  "cannot serialize the state file: out of memory");
		else
			fault_errno(f, -ret, NULL, "cannot write state file %s", tmp);
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, target) < 0) {
		ret = fault_errno(f, errno, NULL, "cannot rename %s to %s", tmp, target);
		unlink(tmp);
		goto out;
	}
	snprintf(dir, sizeof(dir), "%s", target);
	dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		/*
		 * The rename is what makes the change durable; flush it too. If that
		 * fails the new file is in place all the same: reporting failure
		 * would make the caller undo a change the file already holds.
		 */
		if (fsync(dfd) < 0)
			log_warn("state file %s: fsync of its directory failed: %s", path,
				 strerror(errno));
		close(dfd);
	}
out:
	free(o);
	return ret;
}

int state_save(const char *path, const json_t *doc, struct fault *f)
{
	return replace(path, out_whole, doc, f);
}

void state_doc_free(struct state_doc *d)
{
	for (size_t i = 0; d->ports && i < d->n_ports; i++) {
		free(d->ports[i].bindings);
		free(d->ports[i].borrowed);
	}
	free(d->ports);
	d->ports = NULL;
	d->n_ports = 0;
}

int state_binding_fault(struct fault *f, const char *path, size_t i, size_t j,
			const struct fault *why)
{
	/* A binding without an id has no fault of its own: the id is what is missing. */
	return fault_set(f, FAULT_INVALID, EINVAL, why->field,
			 "state file %s: ports[%zu].bindings[%zu]: %s %s", path, i, j,
			 why->field[0] ? why->field : "id",
			 why->detail[0] ? why->detail : "is required");
}

/*
 * The bindings of ports[@i] into @sp, read after the port, whose type their
 * rules depend on. The limit is checked after each binding's own rules, as
 * the port's stack would when adding them one by one.
 */
static int decode_bindings(const json_t *bindings, const char *path, size_t i,
			   const struct state_limits *lim, struct state_port *sp, struct fault *f)
{
	const json_t *bj;
	size_t j;

	if (!json_array_size(bindings))
		return 0;
	sp->bindings = calloc(json_array_size(bindings) < lim->max_bindings
				      ? json_array_size(bindings)
				      : lim->max_bindings + (size_t)1,
			      sizeof(*sp->bindings));
	if (!sp->bindings)
		return fault_set(f, FAULT_UNAVAILABLE, ENOMEM, NULL, "out of memory");
	json_array_foreach(bindings, j, bj) {
		struct binding_config *bc = &sp->bindings[j];
		struct fault pf = FAULT_INIT;

		if (bindcfg_from_json(bj, sp->cfg.type, true, bc, &pf) < 0 || !bc->id)
			return state_binding_fault(f, path, i, j, &pf);
		if (j >= lim->max_bindings) {
			fault_set(&pf, FAULT_LIMIT, ENOSPC, NULL,
				  "port %s has %u bindings, the limit (--max-bindings)",
				  sp->cfg.name, lim->max_bindings);
			return state_binding_fault(f, path, i, j, &pf);
		}
		sp->n_bindings++;
	}
	return 0;
}

/* Reads ports[@i] (@v, with its @bindings and @next id taken out, both may be NULL) into @d. */
static int decode_port(const json_t *v, const json_t *bindings, const json_t *next,
		       const char *path, size_t i, const struct state_limits *lim,
		       struct state_doc *d, struct fault *f)
{
	struct state_port *sp = &d->ports[d->n_ports];
	struct fault pf = FAULT_INIT;

	if (portcfg_from_json(v, PORTCFG_CREATE, NULL, &sp->cfg, &pf) < 0)
		return fault_set(f, FAULT_INVALID, EINVAL, pf.field,
				 "state file %s: ports[%zu]: %s %s", path, i, pf.field, pf.detail);
	if (bindings && !json_is_array(bindings))
		return fault_set(f, FAULT_INVALID, EINVAL, "bindings",
				 "state file %s: ports[%zu]: bindings must be an array", path, i);
	if (next && (!json_is_integer(next) || json_integer_value(next) < 1 ||
		     json_integer_value(next) > UINT32_MAX))
		return fault_set(f, FAULT_INVALID, EINVAL, "next_binding_id",
				 "state file %s: ports[%zu]: next_binding_id must be 1..%u", path,
				 i, UINT32_MAX);
	for (size_t k = 0; k < d->n_ports; k++)
		if (strcmp(d->ports[k].cfg.name, sp->cfg.name) == 0)
			return fault_set(f, FAULT_INVALID, EINVAL, "name",
					 "state file %s: ports[%zu]: port %s already exists", path,
					 i, sp->cfg.name);
	if (d->n_ports >= lim->max_ports)
		return fault_set(f, FAULT_INVALID, EINVAL, "name",
				 "state file %s: ports[%zu]: paird holds %u ports, its limit "
				 "(--max-ports)",
				 path, i, lim->max_ports);
	/* Counted from here on, so that state_doc_free() releases its bindings. */
	d->n_ports++;
	if (next) {
		sp->has_next_id = true;
		sp->next_binding_id = (uint32_t)json_integer_value(next);
	}
	return decode_bindings(bindings, path, i, lim, sp, f);
}

/* The top of the file, read by the one strict-object walker (jsonobj.h). */
struct top_ctx {
	const char *path;
	json_t *ports;
};

static int read_format(const json_t *v, const char *field, void *out, struct fault *f)
{
	const struct top_ctx *tc = out;

	if (!json_is_integer(v) || json_integer_value(v) != STATE_FORMAT)
		return fault_set(f, FAULT_INVALID, EINVAL, field,
				 "state file %s: format must be %d", tc->path, STATE_FORMAT);
	return 0;
}

static int read_ports(const json_t *v, const char *field, void *out, struct fault *f)
{
	struct top_ctx *tc = out;

	if (!json_is_array(v))
		return fault_set(f, FAULT_INVALID, EINVAL, field,
				 "state file %s: \"ports\" must be an array", tc->path);
	tc->ports = (json_t *)v;
	return 0;
}

static int top_unknown(const char *key, void *out, struct fault *f)
{
	const struct top_ctx *tc = out;

	return fault_set(f, FAULT_INVALID, EINVAL, key, "state file %s: unexpected field \"%s\"",
			 tc->path, key);
}

int state_decode(json_t *doc, const char *path, const struct state_limits *lim,
		 struct state_doc *out, struct fault *f)
{
	static const struct jfield top_fields[] = {
		{ "format", JT_ANY, false, NULL, read_format },
		{ "ports", JT_ANY, false, NULL, read_ports },
	};
	static const struct jobj top = {
		.fields = JOBJ_FIELDS(top_fields),
		.on_unknown = top_unknown,
	};
	struct top_ctx tc = { .path = path };
	json_t *ports = NULL, *v;
	size_t i, cap;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(doc))
		return fault_set(f, FAULT_SYNTAX, EINVAL, NULL, "state file %s: not a JSON object",
				 path);
	if (jsonobj_read(doc, &top, &tc, f) < 0) {
		ret = -EINVAL;
		goto out;
	}
	ports = tc.ports;
	if (!ports || !json_object_get(doc, "format")) {
		ret = fault_set(f, FAULT_INVALID, EINVAL, NULL,
				"state file %s: \"format\" and \"ports\" are required", path);
		goto out;
	}
	/* One past the limit: room for the entry whose fault says so. */
	cap = json_array_size(ports) < lim->max_ports ? json_array_size(ports)
						      : lim->max_ports + (size_t)1;
	out->ports = calloc(cap ? cap : 1, sizeof(*out->ports));
	if (!out->ports) {
		ret = fault_set(f, FAULT_UNAVAILABLE, ENOMEM, NULL, "out of memory");
		goto out;
	}
	json_array_foreach(ports, i, v) {
		json_t *bindings = NULL, *next = NULL;

		/* The bindings are read after the port, whose type their rules depend on. */
		if (json_is_object(v) && (bindings = json_object_get(v, "bindings"))) {
			json_incref(bindings);
			json_object_del(v, "bindings");
		}
		if (json_is_object(v) && (next = json_object_get(v, "next_binding_id"))) {
			json_incref(next);
			json_object_del(v, "next_binding_id");
		}
		ret = decode_port(v, bindings, next, path, i, lim, out, f);
		json_decref(bindings);
		json_decref(next);
		if (ret < 0)
			goto out;
	}
out:
	if (ret < 0)
		state_doc_free(out);
	return ret;
}

/* One port as the state file keeps it: its configuration, then its bindings and next id. */
static json_t *encode_port(const struct state_port *sp)
{
	json_t *pj = portcfg_to_json(&sp->cfg), *arr;

	if (!pj || !says_bindings(sp))
		return pj;
	arr = json_array();
	for (size_t i = 0; i < sp->n_bindings; i++)
		json_array_append_new(arr, bindcfg_to_json(state_binding(sp, i)));
	json_object_set_new(pj, "bindings", arr);
	/* So that an id deleted before a restart is not handed out again after it. */
	if (sp->has_next_id)
		json_object_set_new(pj, "next_binding_id", json_integer(sp->next_binding_id));
	return pj;
}

json_t *state_encode(const struct state_doc *d)
{
	json_t *doc = json_object(), *arr = json_array();

	if (!doc || !arr) {
		json_decref(doc);
		json_decref(arr);
		return NULL;
	}
	json_object_set_new(doc, "format", json_integer(STATE_FORMAT));
	json_object_set_new(doc, "ports", arr);
	for (size_t i = 0; i < d->n_ports; i++) {
		json_t *pj = encode_port(&d->ports[i]);

		if (!pj || json_array_append_new(arr, pj) < 0) {
			json_decref(doc);
			return NULL;
		}
	}
	return doc;
}

int state_write(const char *path, const struct state_doc *d, struct fault *f)
{
	return replace(path, out_doc, d, f);
}
