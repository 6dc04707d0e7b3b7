// SPDX-License-Identifier: MIT
/*
 * The StrictModes-style check of the paths paird writes (pathsafe.h): a
 * walk of the path as the kernel resolves it, with realpath()'s loop but
 * lstat() on every step, so that a directory another user may change, or
 * a link another user planted in a shared directory, is seen before root
 * writes through it. realpath() alone reads links without the kernel's
 * protected_symlinks rule, which is how a link in /tmp made a root paird
 * overwrite the file it named.
 */
#include "pathsafe.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Links followed before the walk gives up, as the kernel's own limit (MAXSYMLINKS). */
#define PATHSAFE_MAX_LINKS 40

static bool ours(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

/* Writable by its group or by others: other users may add, remove and rename entries. */
static bool shared(const struct stat *st)
{
	return (st->st_mode & (S_IWGRP | S_IWOTH)) != 0;
}

/* Rule one: @dir, where a name is looked up, may be changed by root and paird's user only. */
static int check_dir(const char *what, const char *path, const char *dir, struct stat *st,
		     struct fault *f)
{
	if (stat(dir, st) < 0)
		return fault_errno(f, errno, NULL, "%s %s: cannot look at the directory %s", what,
				   path, dir);
	if (!ours(st->st_uid))
		return fault_set(f, FAULT_INVALID, EPERM, NULL,
				 "%s %s: the directory %s belongs to uid %u, neither root nor "
				 "paird's user (uid %u), who could replace what paird keeps there; "
				 "chown it or choose another path",
				 what, path, dir, (unsigned)st->st_uid, (unsigned)geteuid());
	if (shared(st) && !(st->st_mode & S_ISVTX))
		return fault_set(f, FAULT_INVALID, EPERM, NULL,
				 "%s %s: the directory %s is writable by other users (mode %04o) "
				 "and not sticky, so they could replace what paird keeps there; "
				 "chmod go-w it or choose another path",
				 what, path, dir, (unsigned)(st->st_mode & 07777));
	return 0;
}

/* Rule two: in a shared (sticky) directory, what paird uses must be its own or root's. */
static int check_entry(const char *what, const char *path, const char *dir, const struct stat *dst,
		       const char *entry, const struct stat *st, struct fault *f)
{
	if (!shared(dst) || ours(st->st_uid))
		return 0;
	return fault_set(f, FAULT_INVALID, EPERM, NULL,
			 "%s %s: %s, in the shared directory %s, belongs to uid %u, neither root "
			 "nor paird's user (uid %u); remove it or choose another path",
			 what, path, entry, dir, (unsigned)st->st_uid, (unsigned)geteuid());
}

int pathsafe_walk(const char *what, const char *path, struct pathsafe *out, struct fault *f)
{
	char rest[2 * PATH_MAX], cur[PATH_MAX] = "", cand[PATH_MAX], target[PATH_MAX];
	char comp[NAME_MAX + 1];
	struct stat dst, st;
	unsigned links = 0;
	size_t i = 0, len, j;
	ssize_t n;
	int ret;

	memset(out, 0, sizeof(*out));
	if (path[0] == '/') {
		ret = snprintf(rest, sizeof(rest), "%s", path);
	} else {
		if (!getcwd(cur, sizeof(cur)))
			return fault_errno(f, errno, NULL,
					   "%s %s: cannot find the working directory", what, path);
		ret = snprintf(rest, sizeof(rest), "%s/%s", cur, path);
		cur[0] = '\0';
	}
	if (ret < 0 || (size_t)ret >= sizeof(rest))
		goto too_long;
	if (lstat("/", &st) < 0)
		return fault_errno(f, errno, NULL, "%s %s: cannot look at /", what, path);
	for (;;) {
		while (rest[i] == '/')
			i++;
		if (!rest[i])
			break;
		len = strcspn(rest + i, "/");
		if (len > NAME_MAX)
			goto too_long;
		memcpy(comp, rest + i, len);
		comp[len] = '\0';
		i += len;
		for (j = i; rest[j] == '/'; j++)
			;
		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			char *slash = strrchr(cur, '/');

			if (slash)
				*slash = '\0';
			continue;
		}
		ret = check_dir(what, path, cur[0] ? cur : "/", &dst, f);
		if (ret < 0)
			return ret;
		ret = snprintf(cand, sizeof(cand), "%s/%s", cur, comp);
		if (ret < 0 || (size_t)ret >= sizeof(cand))
			goto too_long;
		if (lstat(cand, &st) < 0) {
			/* Nothing beyond exists: nobody can have planted anything there. */
			out->missing = errno;
			snprintf(out->real, sizeof(out->real), "%s%s", cand, rest + i);
			return 0;
		}
		ret = check_entry(what, path, cur[0] ? cur : "/", &dst, cand, &st, f);
		if (ret < 0)
			return ret;
		if (S_ISLNK(st.st_mode)) {
			if (++links > PATHSAFE_MAX_LINKS)
				return fault_set(f, FAULT_INVALID, ELOOP, NULL,
						 "%s %s: too many levels of symbolic links", what,
						 path);
			n = readlink(cand, target, sizeof(target) - 1);
			if (n < 0)
				return fault_errno(f, errno, NULL, "%s %s: cannot read the link %s",
						   what, path, cand);
			target[n] = '\0';
			if (!rest[j])
				out->final_link = true;
			/* The link's text takes its place in what is left to walk. */
			ret = snprintf(cand, sizeof(cand), "%s", rest + i);
			if (ret < 0 || (size_t)ret >= sizeof(cand))
				goto too_long;
			ret = snprintf(rest, sizeof(rest), "%s%s", target, cand);
			if (ret < 0 || (size_t)ret >= sizeof(rest))
				goto too_long;
			i = 0;
			if (target[0] == '/')
				cur[0] = '\0';
			continue;
		}
		if (rest[j] && !S_ISDIR(st.st_mode)) {
			out->missing = ENOTDIR;
			snprintf(out->real, sizeof(out->real), "%s%s", cand, rest + i);
			return 0;
		}
		snprintf(cur, sizeof(cur), "%s", cand);
	}
	snprintf(out->real, sizeof(out->real), "%s", cur[0] ? cur : "/");
	out->st = st;
	return 0;
too_long:
	return fault_set(f, FAULT_INVALID, ENAMETOOLONG, NULL, "%s %s: path too long", what, path);
}

int pathsafe_open_read(const char *path, int flags, off_t max, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | flags), err = 0;
	struct stat own;

	if (fd < 0)
		return -errno;
	if (!st)
		st = &own;
	if (fstat(fd, st) < 0)
		err = errno;
	else if (!S_ISREG(st->st_mode))
		err = EINVAL;
	else if (max && st->st_size > max)
		err = EFBIG;
	if (err) {
		close(fd);
		return -err;
	}
	return fd;
}
