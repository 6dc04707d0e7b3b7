/* SPDX-License-Identifier: MIT */
/*
 * The port I/O that talks to the kernel: /dev/net/tun for frames,
 * rtnetlink (nl.c) for link configuration.
 */
#ifndef PAIRD_PORTIO_KERNEL_H
#define PAIRD_PORTIO_KERNEL_H

#include "portio.h"

/*
 * Fills @io with the kernel implementation. Opens an rtnetlink socket that
 * portio_kernel_fini() closes. Returns 0 or -errno.
 */
int portio_kernel_init(struct port_io *io);
void portio_kernel_fini(struct port_io *io);

#endif
