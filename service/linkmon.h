/* SPDX-License-Identifier: MIT */
/*
 * The link monitor: an rtnetlink socket subscribed to RTMGRP_LINK and the
 * IPv4/IPv6 address groups in the event loop. It tells the port set when a
 * link changes (MTU, up/down, MAC), loses or gains a global address
 * (link_state.addr_event), or is deleted behind paird's back, so a port
 * turns "gone" within a loop turn instead of when its next read fails, and
 * lost addresses are put back. Needs no privilege.
 */
#ifndef PAIRD_LINKMON_H
#define PAIRD_LINKMON_H

#include <stdbool.h>

#include "portio.h"

struct event_base;
struct linkmon;

typedef void (*linkmon_fn)(const struct link_state *ls, bool deleted, void *arg);

/* NULL with errno set on failure. */
struct linkmon *linkmon_new(struct event_base *base, linkmon_fn fn, void *arg);
void linkmon_free(struct linkmon *lm);

#endif
