/* SPDX-License-Identifier: MIT */
/*
 * Writes to a vnet_hdr port, coalesced (issue 11): on tun/tap the kernel
 * runs its whole receive path for a written frame inside write(), so a
 * reply per datagram costs a write per datagram. Consecutive UDP
 * datagrams of one flow, as echo writes them back to a burst of requests,
 * are held and written as one USO super-frame (VIRTIO_NET_HDR_GSO_UDP_L4,
 * the kernel's UDP GSO since Linux 6.2), which the kernel cuts back into
 * exactly those datagrams: one write, one skb through IP, for up to
 * COALESCE_SEGS_MAX of them.
 *
 * A datagram joins the held ones only when the kernel's cut gives it back
 * byte for byte (gso.c cuts as the kernel does, and the tests cut with
 * it): the same link header, the same IP and UDP header but for lengths,
 * checksums and an IPv4 identification one above the last, no IP options
 * or extension headers, no fragment, no link padding, correct checksums
 * (the kernel recomputes them), a payload no longer than the first's, and
 * none after a shorter one. Anything else is written as it is.
 *
 * Pure and allocation-free: the caller owns the buffer and does the
 * writes (port.c for queue 0, queue.c for each queue worker).
 */
#ifndef PAIRD_COALESCE_H
#define PAIRD_COALESCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parse.h"

/* Datagrams in one super-frame at most (the kernel's UDP GSO sends up to 128). */
#define COALESCE_SEGS_MAX 64

/* Where a datagram's headers are, as coalesce_add() found them. */
struct coalesce_dgram {
	size_t l3, l4, payload;
	bool v6;
	uint16_t id;
};

struct coalesce {
	uint8_t *buf; /* [packet information][virtio-net header][frame]: COALESCE_BUF bytes */
	size_t pi;    /* packet information bytes (LINK_IP_PI: 4) */
	enum frame_link link;
	size_t len;	/* bytes held in @buf; 0 when empty */
	size_t l3, l4;	/* the IP and UDP headers, from the frame's start (after pi) */
	size_t mss;	/* the first datagram's UDP payload */
	size_t payload; /* UDP payload held in all */
	uint64_t bytes; /* the datagrams' lengths as written plain (pi included) */
	unsigned n;	/* datagrams held */
	bool closed;	/* the last one held was short: nothing more joins */
	bool v6;
	uint16_t id;		    /* IPv4: the first's identification */
	bool startable;		    /* the last frame refused could start a run: coalesce_start() */
	struct coalesce_dgram next; /* what coalesce_add() found of it */
};

/*
 * What @buf must hold: the packet information, the header, an Ethernet
 * header and the longest IP datagram a run may become, an IPv6 one (40
 * bytes of header beside a payload length of up to 65,535).
 */
#define COALESCE_BUF (4 + 10 + 14 + 40 + 65535)

/* An empty coalescer over @buf for frames of @link. */
void coalesce_init(struct coalesce *c, uint8_t *buf, enum frame_link link);

/*
 * Holds the @len bytes at @frame (a frame of the coalescer's link, as a
 * plain port writes it) behind the datagrams held, or as the first of a
 * new run when none are. False when it does not join them, nothing held
 * changed: then, when @c->startable, the frame could start a run of its
 * own (the caller writes out what is held, coalesce_take(), then calls
 * coalesce_start()); otherwise it is to be written as it is.
 */
bool coalesce_add(struct coalesce *c, const uint8_t *frame, size_t len);

/*
 * Starts a run with the frame coalesce_add() just refused while
 * @c->startable, once what was held is taken, without looking at the frame
 * again: the same @frame and @len, unchanged.
 */
void coalesce_start(struct coalesce *c, const uint8_t *frame, size_t len);

/*
 * What is held, as one write: its length (0 when nothing is), *@out
 * pointing at it in the buffer, *@n the datagrams in it and *@bytes their
 * lengths written plain. One datagram is written as a plain vnet_hdr
 * frame (an empty header), more as a USO super-frame. The coalescer is
 * then empty; the bytes stay valid until the next coalesce_add().
 */
size_t coalesce_take(struct coalesce *c, const uint8_t **out, unsigned *n, uint64_t *bytes);

#endif
