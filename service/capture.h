/* SPDX-License-Identifier: MIT */
/*
 * Captured frames (DESIGN.md, "Counters and captures"): one bounded ring
 * per port, allocated once from a global memory budget (--capture-memory),
 * holding records in sequence order. Adding a record never allocates: when
 * the ring is full the oldest records are evicted and counted. Records are
 * read as JSON pages by sequence number and as a pcap file.
 */
#ifndef PAIRD_CAPTURE_H
#define PAIRD_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "fault.h"
#include "parse.h"

#define CAPTURE_MEMORY_DEFAULT (64u << 20)
#define CAPTURE_RING_DEFAULT   (8u << 20)

/* LINKTYPE_ETHERNET and LINKTYPE_RAW (tcpdump.org/linktypes.html). */
#define PCAP_LINKTYPE_ETHERNET 1
#define PCAP_LINKTYPE_RAW      101

struct capture_budget;
struct capture_ring;

/* The global memory cap shared by every ring. NULL on ENOMEM. */
struct capture_budget *capture_budget_new(size_t bytes);
void capture_budget_free(struct capture_budget *b);
size_t capture_budget_limit(const struct capture_budget *b);
size_t capture_budget_used(const struct capture_budget *b);

/*
 * A ring of @bytes (records and their index), reserved from @b. NULL with
 * @f filled (FAULT_LIMIT naming --capture-memory) when the budget cannot
 * cover it, or on ENOMEM. Freeing gives the bytes back.
 */
struct capture_ring *capture_ring_new(struct capture_budget *b, size_t bytes, struct fault *f);
void capture_ring_free(struct capture_ring *r);

/* A record as stored: valid until the next add, clear or free of its ring. */
struct capture_record {
	uint64_t seq;
	struct timespec ts;
	uint32_t binding_id;
	uint32_t len;	     /* the frame's length on the wire */
	uint32_t caplen;     /* bytes kept (len cut to the binding's snaplen) */
	const uint8_t *data; /* caplen bytes */
	/*
	 * For capture_record_info(): the frame_info kept with a cut frame,
	 * else NULL and the frame is parsed again with link and opts.
	 */
	const struct frame_info *kept;
	uint8_t link, opts;
};

/*
 * The frame as parsed when it was captured. A whole frame (caplen == len)
 * is parsed again from its bytes with the link and options it was parsed
 * with then, which gives the same result; a frame the snaplen cut keeps
 * its frame_info in the ring.
 */
void capture_record_info(const struct capture_record *rec, struct frame_info *out);

/*
 * Appends a record holding the first @caplen bytes of @frame, evicting the
 * oldest records as needed; @fi, the frame as parsed (never NULL), is
 * kept only when @caplen cuts the frame (capture_record_info()). Returns its sequence
 * number (1, 2, ... per ring, never reused, not even after a clear), or 0
 * when a record of that size can never fit in the ring (counted as
 * dropped).
 */
uint64_t capture_ring_add(struct capture_ring *r, const struct timespec *ts, uint32_t binding_id,
			  const uint8_t *frame, uint32_t len, uint32_t caplen,
			  const struct frame_info *fi);

/*
 * The first record with seq > @after (and of binding @binding_id, unless it
 * is 0). Returns false when there is none. Finding the start is O(1): the
 * ring holds a contiguous run of sequence numbers.
 */
bool capture_ring_next(const struct capture_ring *r, uint64_t after, uint32_t binding_id,
		       struct capture_record *out);

struct capture_stats {
	uint64_t records;      /* retained now */
	uint64_t bytes;	       /* of frame data retained now */
	uint64_t oldest_seq;   /* 0 when empty */
	uint64_t newest_seq;   /* the last seq handed out, 0 if none yet */
	uint64_t evicted_upto; /* the highest seq lost to eviction (not to a clear), 0 if none */
	uint64_t evictions;    /* records evicted to make room */
	uint64_t dropped;      /* records too large to ever fit */
	size_t capacity;       /* bytes reserved */
};
void capture_ring_stats(const struct capture_ring *r, struct capture_stats *out);

/*
 * The record of sequence number @seq: 0, -ENOENT when @seq was not handed
 * out yet, -ESTALE when it left the ring (evicted or cleared). O(1).
 */
int capture_ring_get(const struct capture_ring *r, uint64_t seq, struct capture_record *out);

/*
 * A number no other ring of this process had or will have: a reader that
 * keeps only a port's name between calls checks it to know that the ring it
 * finds is still the one it started on (a port deleted and made again has a
 * new ring, maybe at the same address).
 */
uint64_t capture_ring_id(const struct capture_ring *r);

/*
 * The ring's generation: a number given at its creation and again at every
 * clear, different from every generation this process or an earlier one
 * gave (it starts from the wall clock in microseconds, so a restart never
 * repeats one; below 2^53, exact in JSON). A cursor (an "after" sequence
 * number) is only meaningful within the generation it was read in.
 */
uint64_t capture_ring_generation(const struct capture_ring *r);

/*
 * Removes every record (sequence numbers go on from where they were) and
 * gives the ring a new generation; watchers are notified.
 */
void capture_ring_clear(struct capture_ring *r);

/*
 * Followers (a capture stream that follows, a long poll): a watcher armed
 * with capture_ring_watch() is notified once, by the next add, clear or
 * free of the ring, and then disarmed; it arms again when it has read what
 * there is. Appending costs O(armed watchers), each notify must be O(1) and
 * do no I/O (api.h's response_wake), so the data plane is never slowed by
 * a follower: a follower reads records from the ring itself, at its pace,
 * and those evicted before it read them are its loss, never a buffer.
 *
 * A watcher belongs to at most one ring and is disarmed (w->ring NULL)
 * before its notify runs, which may arm it again. A notify never says what
 * changed: the follower looks the ring up again by its own means (port
 * name and capture_ring_id()), since a free notifies too.
 */
struct capture_watcher {
	void (*notify)(struct capture_watcher *w);
	struct capture_ring *ring; /* set while armed on a ring */
	struct capture_watcher *next, *prev;
};

/* Arms @w on @r (a no-op when armed on it already; moved when armed on another). */
void capture_ring_watch(struct capture_ring *r, struct capture_watcher *w);
/* Disarms @w, wherever it is armed; a no-op when it is not. */
void capture_ring_unwatch(struct capture_watcher *w);

/*
 * The records (of @binding_id, or all when 0) as a pcap file in a new
 * malloc'ed buffer: classic format, microsecond timestamps, snaplen 262144,
 * @linktype for the header; the first @skip bytes of every record (a tun's
 * packet information header) are left out. A NULL @r gives a file with no
 * records. Returns 0 or -ENOMEM.
 */
int capture_ring_pcap(const struct capture_ring *r, uint32_t binding_id, uint32_t linktype,
		      uint32_t skip, uint8_t **buf, size_t *len);

#define PCAP_FILE_HDR 24
#define PCAP_REC_HDR  16
/* The pcap file header capture_ring_pcap() writes, into @out. */
void capture_pcap_file_header(uint8_t out[PCAP_FILE_HDR], uint32_t linktype);
/*
 * The pcap record header of @rec without its first @skip bytes, into @out;
 * returns how many bytes of the record follow it (rec->data + caplen - that).
 */
uint32_t capture_pcap_record_header(const struct capture_record *rec, uint32_t skip,
				    uint8_t out[PCAP_REC_HDR]);

#endif
