/* SPDX-License-Identifier: MIT */
/*
 * The capture handler's options (h_capture.c): how many frames, how many
 * bytes of each, and which ones (a tcpdump-syntax filter).
 */
#ifndef PAIRD_H_CAPTURE_H
#define PAIRD_H_CAPTURE_H

#include <stdint.h>

#include "port.h"

#define CAPTURE_FILTER_MAX  512
#define CAPTURE_SNAPLEN_MAX PORT_FRAME_MAX
#define CAPTURE_LIMIT_MAX   (1ull << 53) /* exact in every JSON reader's doubles */

struct capture_opts {
	uint64_t limit;			 /* frames to capture, then stop; 0 = no limit */
	uint32_t snaplen;		 /* bytes kept per frame (1..CAPTURE_SNAPLEN_MAX) */
	char filter[CAPTURE_FILTER_MAX]; /* tcpdump syntax, "" = none */
};

extern const struct handler_ops handler_capture;

#endif
