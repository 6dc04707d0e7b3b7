// SPDX-License-Identifier: MIT
/*
 * The read side of a vnet_hdr port, shared by queue 0 (port.c) and the
 * queue workers (queue.c): what tun hands over, [packet info][virtio-net
 * header][frame], becomes the datagrams a plain port would have read
 * (gso.c cuts them), counted and handed to the caller's callback. No
 * allocation, no state of its own: every buffer and counter is the
 * caller's.
 */
#include "vnet.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gso.h"
#include "log.h"
#include "queue.h"

/*
 * A frame of @len bytes (@pi of packet information first) as tun takes it
 * on a vnet_hdr port: [packet information][virtio-net header][frame], the
 * header zero (it asks nothing), into @tx (PORT_FRAME_MAX +
 * GSO_VNET_HDR_LEN bytes). The bytes to write, 0 when @len is over
 * PORT_FRAME_MAX or under @pi.
 */
static size_t vnet_output(uint8_t *tx, const void *frame, size_t len, size_t pi)
{
	if (len > PORT_FRAME_MAX || len < pi)
		return 0;
	memcpy(tx, frame, pi);
	memset(tx + pi, 0, GSO_VNET_HDR_LEN);
	memcpy(tx + pi + GSO_VNET_HDR_LEN, (const uint8_t *)frame + pi, len - pi);
	return len + GSO_VNET_HDR_LEN;
}

int vnet_tx_init(struct vnet_tx *t, enum frame_link link, const char *who)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->who, sizeof(t->who), "%s", who);
	t->frame = malloc(PORT_FRAME_MAX + GSO_VNET_HDR_LEN);
	coalesce_init(&t->co, malloc(COALESCE_BUF), link);
	if (!t->frame || !t->co.buf) {
		vnet_tx_free(t);
		return -ENOMEM;
	}
	return 0;
}

void vnet_tx_free(struct vnet_tx *t)
{
	free(t->frame);
	free(t->co.buf);
	t->frame = t->co.buf = NULL;
}

/* One frame as it is, behind an empty header. */
static int write_plain(struct vnet_tx *t, const struct port_io *io, int fd, const void *frame,
		       size_t len, struct port_counters *c)
{
	size_t w = vnet_output(t->frame, frame, len, t->co.pi);
	ssize_t n;

	if (!w) {
		QUEUE_CTR_ADD(c->write_errors[port_errno_slot(EMSGSIZE)], 1);
		return -EMSGSIZE;
	}
	n = port_io_write(io, fd, t->frame, w);
	if (n < 0) {
		QUEUE_CTR_ADD(c->write_errors[port_errno_slot((int)-n)], 1);
		return (int)n;
	}
	QUEUE_CTR_ADD(c->tx_frames, 1);
	QUEUE_CTR_ADD(c->tx_bytes, len);
	return 0;
}

int vnet_write(struct vnet_tx *t, const struct port_io *io, int fd, const void *frame, size_t len,
	       struct port_counters *c)
{
	if (t->turn && !t->plain) {
		if (coalesce_add(&t->co, frame, len))
			return 0;
		/* The run ends here: it goes first, and this frame may start the next. */
		if (t->co.n)
			vnet_flush(t, io, fd, c);
		if (t->co.startable && !t->plain) {
			coalesce_start(&t->co, frame, len);
			return 0;
		}
	}
	return write_plain(t, io, fd, frame, len, c);
}

void vnet_flush(struct vnet_tx *t, const struct port_io *io, int fd, struct port_counters *c)
{
	const uint8_t *out, *seg;
	struct gso_iter it;
	struct gso_hdr h;
	uint64_t bytes;
	size_t w, m, pi = t->co.pi;
	unsigned n;
	ssize_t r;

	w = coalesce_take(&t->co, &out, &n, &bytes);
	if (!w)
		return;
	r = port_io_write(io, fd, out, w);
	if (r >= 0) {
		QUEUE_CTR_ADD(c->tx_frames, n);
		QUEUE_CTR_ADD(c->tx_bytes, bytes);
		if (n > 1)
			QUEUE_CTR_ADD(c->tx_gso_frames, 1);
		return;
	}
	if (n < 2 || r != -EINVAL) {
		QUEUE_CTR_ADD(c->write_errors[port_errno_slot((int)-r)], n);
		return;
	}
	/*
	 * No UDP GSO on this kernel's tun writes: the run cut back into its
	 * datagrams as the kernel would have (gso.c, as a read is), each
	 * written as it is, and no more runs.
	 */
	t->plain = true;
	log_warn("%s: the kernel refused a UDP GSO super-frame (EINVAL; tun takes them from "
		 "Linux 6.2 on): frames are written one by one from now on",
		 t->who);
	gso_hdr_read(t->co.buf + pi, w - pi, &h);
	memmove(t->co.buf + GSO_VNET_HDR_LEN, t->co.buf, pi);
	if (gso_begin(&it, &h, t->co.buf + GSO_VNET_HDR_LEN, w - GSO_VNET_HDR_LEN, t->co.link) <
	    0) {
		QUEUE_CTR_ADD(c->write_errors[port_errno_slot(EINVAL)], n);
		return;
	}
	while ((m = gso_next(&it, &seg)) > 0)
		write_plain(t, io, fd, seg, m, c);
}

/*
 * One read: the header goes, the packet information is moved up against
 * the frame (4 bytes), and each logical datagram of the frame reaches @fn
 * and the counters as a plain port would have read it. A frame whose
 * header does not hold together is counted and dropped.
 */
void vnet_input(uint8_t *buf, size_t n, size_t pi, enum frame_link link, bool reads,
		struct port_counters *c, vnet_dgram_fn fn, vnet_train_fn train, void *arg)
{
	bool truncated = n > PORT_VNET_READ_MAX;
	const uint8_t *seg;
	struct gso_iter it;
	struct gso_hdr h;
	uint8_t *frame;
	size_t len, m;
	unsigned rx;

	if (!gso_hdr_read(buf + (n < pi ? n : pi), n < pi ? 0 : n - pi, &h)) {
		QUEUE_CTR_ADD(c->rx_gso_bad, 1);
		return;
	}
	frame = buf + GSO_VNET_HDR_LEN;
	len = n - GSO_VNET_HDR_LEN;
	memmove(frame, buf, pi);
	if (h.gso_type != GSO_TYPE_NONE)
		QUEUE_CTR_ADD(c->rx_gso_frames, 1);
	/* Longer than a plain port reads, a frame that asks nothing is cut and counted as there. */
	if (len > PORT_FRAME_MAX && h.gso_type == GSO_TYPE_NONE && !(h.flags & GSO_F_NEEDS_CSUM)) {
		QUEUE_CTR_ADD(c->truncated, 1);
		QUEUE_CTR_ADD(c->rx_frames, 1);
		QUEUE_CTR_ADD(c->rx_bytes, len);
		fn(arg, frame, PORT_FRAME_MAX, PORT_RX_TRUNCATED);
		return;
	}
	/* Cut short, or holding a datagram longer than a plain port reads: not segmented. */
	if (truncated || gso_begin(&it, &h, frame, len, link) < 0 ||
	    gso_seg_max(&it) > PORT_FRAME_MAX) {
		QUEUE_CTR_ADD(c->rx_gso_bad, 1);
		return;
	}
	/*
	 * Segments are alike but for lengths, ids and checksums: for a reader
	 * of no payload, a train (port.h), whose TCP or UDP checksums are left
	 * unsummed where the sender left them to the device.
	 */
	rx = gso_cuts(&it) ? PORT_RX_L4_CSUM_OK : 0;
	if (rx && !reads) {
		if (h.flags & GSO_F_NEEDS_CSUM)
			gso_leave_l4_csum(&it);
		rx |= PORT_RX_LEAD;
	}
	/* The callback may close the port (port_free() from a handler): then it says stop. */
	while ((m = gso_next(&it, &seg)) > 0) {
		QUEUE_CTR_ADD(c->rx_frames, 1);
		QUEUE_CTR_ADD(c->rx_bytes, m);
		if (!fn(arg, seg, m, rx))
			break;
		if (rx & PORT_RX_LEAD) {
			uint64_t bytes;
			unsigned rest = gso_rest(&it, &bytes);

			/* The rest at once, never built, when the sink takes them so. */
			if (rest && train(arg, rest, bytes)) {
				QUEUE_CTR_ADD(c->rx_frames, rest);
				QUEUE_CTR_ADD(c->rx_bytes, bytes);
				gso_skip(&it);
			}
			rx &= ~(unsigned)PORT_RX_LEAD;
		}
	}
}
