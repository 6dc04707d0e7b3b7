/* SPDX-License-Identifier: MIT */
/*
 * Whether a path paird writes as root (the state file, the control
 * socket, the generated token) can be taken over by another local user,
 * checked the way sshd's StrictModes checks authorized_keys: every
 * directory the path is looked up through, symbolic links followed, must
 * belong to root or to paird's own user and be writable by nobody else
 * unless it is sticky; in a sticky directory others may write (/tmp), the
 * entries paird uses there (a link it follows, the file itself) must
 * belong to root or to paird's user. Called by state.c, api/http.c (the
 * socket) and paird.c (the token).
 */
#ifndef PAIRD_PATHSAFE_H
#define PAIRD_PATHSAFE_H

#include <stdbool.h>
#include <sys/stat.h>

#include "fault.h"

/* What pathsafe_walk() found at the end of a path. */
struct pathsafe {
	char real[4096]; /* the path with every link resolved (as far as it exists) */
	bool final_link; /* the last component was (or led through) a symbolic link */
	int missing;	 /* 0, or the errno that stopped the walk (ENOENT, ENOTDIR, ...) */
	struct stat st;	 /* lstat of real, when !missing */
};

/*
 * Walks @path (relative ones from the working directory) component by
 * component as the kernel would, following symbolic links, and checks
 * each directory it looks a name up in and each link it follows by the
 * rules above. Returns 0 with @out filled (a path that does not exist
 * past some point is not an error: @out->missing says so), or -errno with
 * @f naming @what (e.g. "state file"), @path, the directory or entry at
 * fault and why, in one sentence.
 */
int pathsafe_walk(const char *what, const char *path, struct pathsafe *out, struct fault *f);

/*
 * Opens @path to read (@flags added to O_RDONLY | O_CLOEXEC), never
 * waiting on a FIFO put in its place (O_NONBLOCK), and keeps it only when
 * fstat() says a regular file of at most @max bytes (0: any size), into
 * @st when not NULL. Returns the fd, or -errno: the open's, -EINVAL for
 * what is no regular file, -EFBIG beyond @max. The state file, --config
 * and --token-file are read through it.
 */
int pathsafe_open_read(const char *path, int flags, off_t max, struct stat *st);

#endif
