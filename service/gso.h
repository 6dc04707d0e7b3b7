/* SPDX-License-Identifier: MIT */
/*
 * Segmentation of the kernel's GSO super-frames (issue 11): on a port with
 * a virtio-net header (IFF_VNET_HDR), tun hands paird one TCP or UDP
 * super-frame of up to 64 KiB where a plain port would read many
 * datagrams, and a frame whose checksum is still partial. The read loops
 * (vnet.c, for queue 0 and every queue worker) turn each into the logical
 * datagrams the wire would carry, one at a time, so counters, captures and handlers see what a plain port
 * sees: TCP over IPv4 and IPv6 (TSO, RFC 9293 for the flags), UDP (USO,
 * the UDP_SEGMENT socket option) and a partial checksum completed
 * (RFC 1071) where the header asks for it.
 *
 * Pure and allocation-free: the caller owns every buffer, and segments are
 * built in the super-frame's own bytes (no payload is copied). Every field of
 * the header and every length of the frame is a claim, checked before the
 * first byte is written; a super-frame that does not hold together is
 * refused whole, with a negative errno, and nothing is produced.
 */
#ifndef PAIRD_GSO_H
#define PAIRD_GSO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parse.h"

/* struct virtio_net_hdr (linux/virtio_net.h): what TUNSETVNETHDRSZ is set to. */
#define GSO_VNET_HDR_LEN 10
/* More segments than this in one super-frame is refused (a UDP socket sends at most 128). */
#define GSO_SEGS_MAX 1024
/* The longest headers a segment repeats: Ethernet, a VLAN tag, IPv4 or IPv6, TCP, options. */
#define GSO_HDR_MAX (18 + 60 + 60)

/*
 * The header's fields. tun writes them in the host's byte order (legacy
 * virtio, no TUNSETVNETLE/BE); @hdr_len is the kernel's linear length, not
 * the headers' (skb_headlen()), so it is bounded but never relied upon.
 */
struct gso_hdr {
	uint8_t flags;	  /* GSO_F_* (VIRTIO_NET_HDR_F_*) */
	uint8_t gso_type; /* GSO_TYPE_*, ORed with GSO_ECN for TCP */
	uint16_t hdr_len, gso_size, csum_start, csum_offset;
};

enum {
	GSO_F_NEEDS_CSUM = 1, /* checksum from csum_start to the end, stored at +csum_offset */
	GSO_F_DATA_VALID = 2, /* the kernel already verified the checksum */
};

enum {
	GSO_TYPE_NONE = 0,
	GSO_TYPE_TCPV4 = 1,
	GSO_TYPE_UDP = 3, /* UFO (IP fragments): refused, no kernel sends it any more */
	GSO_TYPE_TCPV6 = 4,
	GSO_TYPE_UDP_L4 = 5, /* USO: UDP segments, IPv4 or IPv6 */
	GSO_ECN = 0x80,	     /* TCP with CWR set in the super-frame (RFC 3168) */
};

/* Reads a header from @len bytes at @p; false when fewer than GSO_VNET_HDR_LEN. */
bool gso_hdr_read(const uint8_t *p, size_t len, struct gso_hdr *h);

/* Where a super-frame is in its segmentation; filled by gso_begin(). */
struct gso_iter {
	uint8_t *frame;
	size_t len;	 /* the frame as given */
	size_t l3, l4;	 /* offsets of the IP and TCP/UDP headers */
	size_t hlen;	 /* every header: copied in front of each segment */
	size_t end;	 /* the IP datagram's end (link padding excluded) */
	size_t mss;	 /* payload bytes per segment */
	size_t off;	 /* the next payload byte */
	unsigned i, n;	 /* segments produced, segments in all */
	uint8_t kind;	 /* 0: pass the frame through; IPPROTO_TCP or _UDP: segment */
	bool v6;	 /* IPv6 (else IPv4) */
	bool data_valid; /* GSO_F_DATA_VALID was set: noted, not acted upon */
	bool leave_l4;	 /* gso_leave_l4_csum() */
	uint8_t tcp_flags;
	uint16_t ip_id;
	uint32_t ip_sum; /* IPv4: the header's sum but for length, id and checksum */
	uint32_t seq;
	uint8_t hdr[GSO_HDR_MAX]; /* the super-frame's headers, as they came */
};

/*
 * Checks @h against the @len bytes at @frame, a frame of @link (as a plain
 * port reads it, the packet information header included) and prepares
 * @it. A frame that needs no segmenting passes through; one whose header
 * asks for a partial checksum to be completed (GSO_F_NEEDS_CSUM without
 * GSO) has it completed in place. Returns 0, or -EINVAL for a header or
 * length that does not hold together (an empty frame too),
 * -EPROTONOSUPPORT for what is not segmented here (UFO, IPv6 extension
 * headers, IP fragments, more than one VLAN tag), -E2BIG for more than
 * GSO_SEGS_MAX segments; @it is then unusable and @frame unchanged.
 */
int gso_begin(struct gso_iter *it, const struct gso_hdr *h, uint8_t *frame, size_t len,
	      enum frame_link link);

/*
 * The next logical datagram: its length, with *@seg pointing at it inside
 * the frame given to gso_begin(); 0 when every one was produced. Cannot
 * fail. Segment i is built over the last bytes of segment i - 1 (its
 * headers written in front of its own payload), so a segment is only
 * valid until the next call, and the frame is used up.
 */
size_t gso_next(struct gso_iter *it, const uint8_t **seg);

/*
 * Segments are built with their TCP or UDP checksum as the super-frame
 * had it, not summed: for a reader that never looks at it or at the
 * payload (count bindings). Between gso_begin() and the first gso_next().
 */
static inline void gso_leave_l4_csum(struct gso_iter *it)
{
	it->leave_l4 = true;
}

/* True when gso_next() cuts the frame into segments (it does not pass it through). */
static inline bool gso_cuts(const struct gso_iter *it)
{
	return it->kind != 0;
}

/*
 * The segments gso_next() has yet to produce, counted without building
 * them: how many, and their bytes in all into *@bytes (each is hlen plus
 * its share of the payload). gso_skip() then drops them.
 */
static inline unsigned gso_rest(const struct gso_iter *it, uint64_t *bytes)
{
	unsigned n = it->kind ? it->n - it->i : 0;

	*bytes = n ? (uint64_t)n * it->hlen + (it->end - it->off) : 0;
	return n;
}

static inline void gso_skip(struct gso_iter *it)
{
	it->i = it->n;
	it->off = it->end;
}

/* How many datagrams gso_next() produces in all. */
static inline unsigned gso_count(const struct gso_iter *it)
{
	return it->n;
}

/* The length of the longest datagram gso_next() produces. */
static inline size_t gso_seg_max(const struct gso_iter *it)
{
	if (!it->kind)
		return it->len;
	return it->hlen + (it->end - it->hlen < it->mss ? it->end - it->hlen : it->mss);
}

#endif
