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

struct bpf_program;
struct fault;
/*
 * Compiles the tcpdump-syntax @filter for frames of a @link port (a tun's
 * frames are filtered without their packet information header) into @prog,
 * released with pcap_freecode(). A bad filter is a FAULT_INVALID naming
 * @field, in libpcap's words.
 */
int capture_filter_compile(const char *filter, enum frame_link link, uint32_t snaplen,
			   struct bpf_program *prog, const char *field, struct fault *f);
/* Filters capture_filter_compile() has compiled since start (tests count them). */
uint64_t capture_filter_compiles(void);
/*
 * Whether the frame at @frame (@len bytes, of a @link port, read at @ts)
 * passes @prog.
 */
bool capture_filter_match(const struct bpf_program *prog, enum frame_link link,
			  const uint8_t *frame, size_t len, const struct timespec *ts);

#endif
