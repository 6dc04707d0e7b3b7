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

#include "coalesce.h"
#include "parse.h"
#include "port.h"
#include "portio.h"

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
 * The write side of one reader of a vnet_hdr port (queue 0 or a queue
 * worker), written by that reader's thread only. Inside the reader's read
 * turn (@turn), UDP datagrams wait in @co for the ones after them and go
 * out as one USO super-frame (coalesce.h) when the run ends, at the latest
 * when the turn does; anything else goes out at once, after what waits.
 */
struct vnet_tx {
	uint8_t *frame;	    /* one frame behind its header: PORT_FRAME_MAX + GSO_VNET_HDR_LEN */
	struct coalesce co; /* over COALESCE_BUF bytes of its own */
	bool turn;	    /* the reader is in its read turn: writes may wait */
	bool plain;	    /* the kernel refused a super-frame: every write goes as it is */
	char who[40];	    /* "port tq0", "port tq0 queue 1": the log's subject */
};

/* Allocates the buffers of @t for frames of @link, written by @who (the log's subject); -ENOMEM. */
int vnet_tx_init(struct vnet_tx *t, enum frame_link link, const char *who);
void vnet_tx_free(struct vnet_tx *t);

/*
 * Writes the @len bytes at @frame (a frame as a plain port writes it) on
 * @fd behind an empty header, or holds it in a run when @t is in a turn.
 * 0 when written or held, or a negative errno (counted in @c's
 * write_errors). What is written is counted in @c's tx_frames and
 * tx_bytes as a plain port counts it, and each super-frame in
 * tx_gso_frames, with single-writer relaxed stores.
 */
int vnet_write(struct vnet_tx *t, const struct port_io *io, int fd, const void *frame, size_t len,
	       struct port_counters *c);

/*
 * Writes out the run held; a failed write is counted in @c's write_errors,
 * once for each datagram lost. When the kernel refuses the super-frame with
 * EINVAL (tun takes UDP GSO from Linux 6.2 on), its datagrams are written
 * one by one, @t writes every frame as it is from then on, and the log says
 * so, once, wherever the refusal came (a turn's end, or vnet_write() when
 * a frame ended a run).
 */
void vnet_flush(struct vnet_tx *t, const struct port_io *io, int fd, struct port_counters *c);

#endif
