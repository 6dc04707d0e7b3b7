/* SPDX-License-Identifier: MIT */
/*
 * The service manager's readiness protocol (sd_notify(3)), without
 * libsystemd: one datagram of "KEY=VALUE" lines to the AF_UNIX socket named
 * by $NOTIFY_SOCKET. main() says READY=1 once the listeners are open and the
 * state file's ports are back, and STOPPING=1 when a signal stops it, so a
 * Type=notify unit starts the units after it only when paird answers.
 */
#ifndef PAIRD_NOTIFY_H
#define PAIRD_NOTIFY_H

/*
 * Sends @state ("READY=1", "STOPPING=1", "STATUS=...", newline-separated)
 * to $NOTIFY_SOCKET: a path, or "@name" for the abstract namespace. 0 when
 * sent or when no service manager asked (the variable is unset), -errno
 * otherwise (-EINVAL for a name that is no AF_UNIX address).
 */
int notify_send(const char *state);

#endif
