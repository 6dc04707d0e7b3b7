/* SPDX-License-Identifier: MIT */
/* The forward handler's one option (h_forward.c): the port frames go to. */
#ifndef PAIRD_H_FORWARD_H
#define PAIRD_H_FORWARD_H

#include "portcfg.h"

struct forward_opts {
	char port[PORT_NAME_MAX + 1];
};

extern const struct handler_ops handler_forward;

#endif
