// SPDX-License-Identifier: MIT
/*
 * Atomic state file I/O. The document is serialized in memory first, so a
 * serialization failure never touches the disk; then written to a sibling
 * temp file, fsync'ed and renamed over the old file, and the directory is
 * fsync'ed so the rename itself survives a crash. A state path that is a
 * symbolic link is written through: the temp file goes next to the file
 * the link finally names and is renamed over it, so the link stays (an
 * operator's /etc/paird/state.json -> /var/lib/paird/state.json).
 */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#define STATE_MAX_BYTES (16 * 1024 * 1024)

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
 * exist yet is itself (a first start); a link to nothing is an error.
 */
static int resolve(const char *path, char *out, size_t size, struct fault *f)
{
	struct stat st;
	char *real;

	if (lstat(path, &st) < 0 || !S_ISLNK(st.st_mode)) {
		if ((size_t)snprintf(out, size, "%s", path) >= size)
			return fault_set(f, FAULT_INTERNAL, ENAMETOOLONG, NULL,
					 "state file path too long");
		return 0;
	}
	real = realpath(path, NULL);
	if (!real) {
		if (errno == ENOENT)
			return dangling(path, f);
		return fault_errno(f, errno, NULL, "cannot follow the state file link %s", path);
	}
	if ((size_t)snprintf(out, size, "%s", real) >= size) {
		free(real);
		return fault_set(f, FAULT_INTERNAL, ENAMETOOLONG, NULL, "state file path too long");
	}
	free(real);
	return 0;
}

int state_load(const char *path, json_t **out, struct fault *f)
{
	json_error_t jerr;
	struct stat st;
	json_t *doc;
	int fd;

	*out = NULL;
	/* O_NONBLOCK: a FIFO put in its place must be refused below, not block start-up. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT && lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
			return dangling(path, f);
		if (errno == ENOENT)
			return -ENOENT;
		return fault_errno(f, errno, NULL, "cannot open state file %s", path);
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > STATE_MAX_BYTES) {
		close(fd);
		return fault_set(f, FAULT_INVALID, EINVAL, NULL,
				 "state file %s is not a regular file of at most %d bytes", path,
				 STATE_MAX_BYTES);
	}
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

/* O_NOFOLLOW: a link planted at the temp name must not redirect the write. */
#define TMP_FLAGS (O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW)

int state_check_writable(const char *path, struct fault *f)
{
	char target[PATH_MAX], tmp[PATH_MAX], dir[PATH_MAX];
	int fd, ret;

	ret = paths(path, target, tmp, f);
	if (ret < 0)
		return ret;
	fd = open(tmp, TMP_FLAGS, 0600);
	if (fd < 0) {
		snprintf(dir, sizeof(dir), "%s", target);
		return fault_errno(f, errno, NULL,
				   "state file %s: cannot create %s, so no change could be "
				   "saved; make the directory %s writable for paird or choose "
				   "another --state",
				   path, tmp, dirname(dir));
	}
	close(fd);
	unlink(tmp);
	return 0;
}

int state_save(const char *path, const json_t *doc, struct fault *f)
{
	char target[PATH_MAX];
	char tmp[PATH_MAX];
	char dir[PATH_MAX];
	char *text = NULL;
	int fd = -1, dfd = -1;
	int ret;

	ret = paths(path, target, tmp, f);
	if (ret < 0)
		return ret;
	text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!text)
		return fault_set(f, FAULT_UNAVAILABLE, ENOMEM, NULL,
				 "cannot serialize the state file: out of memory");
	fd = open(tmp, TMP_FLAGS, 0600);
	if (fd < 0) {
		ret = fault_errno(f, errno, NULL, "cannot write state file %s", tmp);
		goto out;
	}
	ret = write_all(fd, text, strlen(text));
	if (ret == 0)
		ret = write_all(fd, "\n", 1);
	if (ret == 0 && fsync(fd) < 0)
		ret = -errno;
	if (close(fd) < 0 && ret == 0)
		ret = -errno;
	if (ret < 0) {
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
	free(text);
	return ret;
}
