/* SPDX-License-Identifier: MIT */
/*
 * One read of a port with a virtio-net header (IFF_VNET_HDR) turned into
 * the datagrams it holds: the header read and checked, the packet
 * information moved up against the frame, a GSO super-frame cut by gso.c,
 * a partial checksum completed, each datagram handed to a callback and
 * counted as a plain port would count it. Queue 0's read loop (port.c)
 * and every queue worker of a multi-queue port (queue.c) call it, each
 * with its own buffer, counters and callback, so both read alike.
 */
#ifndef PAIRD_VNET_H
#define PAIRD_VNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parse.h"
#include "port.h"

/*
 * One datagram of @len bytes at @frame (valid only during the call), with
 * what a port's sink is told of it (@rx, enum port_rx). Returns false to
 * drop the rest of the read (the port was closed from inside the callback).
 */
typedef bool (*vnet_dgram_fn)(void *arg, const uint8_t *frame, size_t len, unsigned rx);
/* The rest of a train after its lead, as port_train_fn: true when taken. */
typedef bool (*vnet_train_fn)(void *arg, uint64_t n, uint64_t bytes);

/*
 * The read of @n bytes (what read() returned: more than PORT_VNET_READ_MAX
 * means cut short) into @buf, which holds PORT_VNET_READ_MAX bytes laid
 * out as tun_put_user() writes them: [packet information, @pi bytes]
 * [virtio-net header][frame of @link]. @buf is used up. The datagrams go
 * to @fn in order, as a train when the sink @reads no payload
 * (port_set_sink_reads()), whose datagrams after the lead go to @train
 * at once, unbuilt, when it takes them; @c counts them (rx_frames, rx_bytes, truncated) and
 * the super-frames (rx_gso_frames) and refused frames (rx_gso_bad), with
 * single-writer relaxed stores (queue.h, rule 1): @c has one writer, the
 * caller's thread.
 */
void vnet_input(uint8_t *buf, size_t n, size_t pi, enum frame_link link, bool reads,
		struct port_counters *c, vnet_dgram_fn fn, vnet_train_fn train, void *arg);

/*
 * A frame of @len bytes (@pi of packet information first) as tun reads it
 * from a vnet_hdr port: [packet information][virtio-net header][frame],
 * the header zero (it asks nothing), into @tx, which holds PORT_FRAME_MAX +
 * GSO_VNET_HDR_LEN bytes. Returns the bytes to write, 0 when @len is over
 * PORT_FRAME_MAX or under @pi.
 */
size_t vnet_output(uint8_t *tx, const void *frame, size_t len, size_t pi);

#endif
