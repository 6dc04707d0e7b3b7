// SPDX-License-Identifier: MIT
/*
 * sd_notify(3) by hand: the protocol is one datagram on an AF_UNIX socket,
 * which is less code than a dependency on libsystemd. Called from main()
 * only; failures are the caller's to log (a missing service manager is not
 * one).
 */
#include "notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int notify_send(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len, n = strlen(state);
	socklen_t salen;
	ssize_t sent;
	int fd, ret = 0;

	if (!path || !path[0])
		return 0;
	len = strlen(path);
	/* A path or "@" + an abstract name; sun_path need not end in NUL for either. */
	if ((path[0] != '/' && path[0] != '@') || len > sizeof(sa.sun_path))
		return -EINVAL;
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	sent = sendto(fd, state, n, MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
	if (sent < 0)
		ret = -errno;
	else if ((size_t)sent != n)
		ret = -EMSGSIZE;
	close(fd);
	return ret;
}
