// SPDX-License-Identifier: MIT
/*
 * Capture rings and their memory budget (DESIGN.md, "Counters and
 * captures"). A port's stack (stack.c) makes the port's ring when its first
 * capture binding is made; the capture handler (h_capture.c) appends to it
 * from the data plane; the API reads it as JSON pages, as a pcap file and
 * as an event stream. A ring is a single allocation: a records area where
 * variable-length records are appended contiguously (a record never wraps:
 * when it does not fit before the end, the tail of the area is skipped),
 * followed by a circular index of record offsets keyed by sequence number.
 * A record keeps the frame's parse (struct frame_info, 232 bytes) only when
 * the snaplen cut the frame: a whole one is parsed again when read, which
 * keeps a 64-byte frame's record at 104 bytes instead of 336 (three times
 * the records per ring, and a third of the memory written per frame).
 * The ring always holds a contiguous run of sequence numbers, so any record
 * is found in O(1) through the index, and appending evicts the oldest
 * records until the new one fits.
 */
#include "capture.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Offsets and sizes in a ring fit in 32 bits: the index stays small. */
#define RING_BYTES_MAX UINT32_MAX
#define PCAP_SNAPLEN   262144
#define ALIGN8(x)      (((x) + 7) & ~(size_t)7)

struct capture_budget {
	size_t limit;
	size_t used;
};

/*
 * A record as laid out in the area: this header, the frame_info when kept
 * (the snaplen cut the frame), then caplen bytes, padded to 8. A whole
 * frame is parsed again from its bytes with link and opts when read.
 */
struct rec {
	uint64_t seq;
	struct timespec ts;
	uint32_t binding_id;
	uint32_t len;
	uint32_t caplen;
	bool kept;
	uint8_t link, opts;
	_Alignas(8) uint8_t body[];
};

/* The smallest record (no data): bounds how many records the area can hold. */
#define REC_MIN ALIGN8(offsetof(struct rec, body))

struct capture_ring {
	struct capture_budget *budget;
	uint64_t id;	    /* capture_ring_id() */
	size_t reserved;    /* bytes taken from the budget */
	uint32_t area_size; /* bytes of the records area, a multiple of 8 */
	uint32_t nslots;    /* index slots; always more than the area can hold records */
	uint32_t *index;    /* offset of the record of seq s at index[s % nslots] */
	/*
	 * Records occupy [head, tail) or, once wrapped, [head, wrap_end) and
	 * [0, tail); the rest of the area is free.
	 */
	uint32_t head, tail, wrap_end;
	bool wrapped;
	uint64_t count;	 /* records retained */
	uint64_t bytes;	 /* their caplen total */
	uint64_t oldest; /* seq of the record at head, when count > 0 */
	uint64_t newest; /* the last seq handed out */
	uint64_t evicted_upto, evictions, dropped;
	/* Given at creation and at every clear: capture_ring_generation(). */
	uint64_t generation;
	/* Armed watchers, notified by the next add, clear or free. */
	struct capture_watcher *watchers;
	_Alignas(8) uint8_t area[];
};

struct capture_budget *capture_budget_new(size_t bytes)
{
	struct capture_budget *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->limit = bytes;
	return b;
}

void capture_budget_free(struct capture_budget *b)
{
	free(b);
}

size_t capture_budget_limit(const struct capture_budget *b)
{
	return b->limit;
}

size_t capture_budget_used(const struct capture_budget *b)
{
	return b->used;
}

static size_t rec_size(uint32_t caplen, bool kept)
{
	return ALIGN8(offsetof(struct rec, body) + (kept ? sizeof(struct frame_info) : 0) +
		      (size_t)caplen);
}

/* Where the frame's bytes start in the record's body. */
static size_t rec_data_off(const struct rec *rec)
{
	return rec->kept ? sizeof(struct frame_info) : 0;
}

static struct rec *rec_at_off(const struct capture_ring *r, uint32_t off)
{
	return (struct rec *)(r->area + off);
}

/* The record of @seq, which the caller knows to be retained. */
static struct rec *rec_of(const struct capture_ring *r, uint64_t seq)
{
	return rec_at_off(r, r->index[seq % r->nslots]);
}

/* Generations start at the wall clock in microseconds: a restart never repeats one. */
static uint64_t next_generation(void)
{
	static uint64_t last;
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = ((uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000) & ((1ull << 53) - 1);
	last = now > last ? now : last + 1;
	return last;
}

/* Notifies and disarms every armed watcher; each may arm itself again meanwhile. */
static void notify_watchers(struct capture_ring *r)
{
	struct capture_watcher *w = r->watchers;

	r->watchers = NULL;
	while (w) {
		struct capture_watcher *next = w->next;

		w->ring = NULL;
		w->next = w->prev = NULL;
		w->notify(w);
		w = next;
	}
}

void capture_ring_watch(struct capture_ring *r, struct capture_watcher *w)
{
	if (w->ring == r)
		return;
	capture_ring_unwatch(w);
	w->ring = r;
	w->prev = NULL;
	w->next = r->watchers;
	if (r->watchers)
		r->watchers->prev = w;
	r->watchers = w;
}

void capture_ring_unwatch(struct capture_watcher *w)
{
	if (!w->ring)
		return;
	if (w->prev)
		w->prev->next = w->next;
	else
		w->ring->watchers = w->next;
	if (w->next)
		w->next->prev = w->prev;
	w->ring = NULL;
	w->next = w->prev = NULL;
}

uint64_t capture_ring_generation(const struct capture_ring *r)
{
	return r->generation;
}

struct capture_ring *capture_ring_new(struct capture_budget *b, size_t bytes, struct fault *f)
{
	static uint64_t next_id; /* one loop thread: no atomics needed */
	struct capture_ring *r;
	size_t nslots, idx_bytes, area;

	if (bytes > b->limit - b->used) {
		fault_set(f, FAULT_LIMIT, ENOSPC, NULL,
			  "a capture ring of %zu bytes does not fit: %zu of the %zu bytes of "
			  "--capture-memory are in use",
			  bytes, b->used, b->limit);
		errno = ENOSPC;
		return NULL;
	}
	if (bytes > RING_BYTES_MAX) {
		fault_set(f, FAULT_LIMIT, ENOSPC, NULL,
			  "a capture ring holds at most %u bytes (asked for %zu)", RING_BYTES_MAX,
			  bytes);
		errno = ENOSPC;
		return NULL;
	}
	/*
	 * Split @bytes into index and area so that the area holds fewer than
	 * nslots records even when all are empty: every retained seq then has
	 * its own slot.
	 */
	nslots = bytes / (REC_MIN + sizeof(uint32_t)) + 1;
	idx_bytes = nslots * sizeof(uint32_t);
	area = bytes > idx_bytes ? (bytes - idx_bytes) & ~(size_t)7 : 0;
	r = malloc(sizeof(*r) + area + idx_bytes);
	if (!r) {
		fault_errno(f, ENOMEM, NULL, "cannot allocate a capture ring of %zu bytes", bytes);
		errno = ENOMEM;
		return NULL;
	}
	/* The area itself is left untouched: its pages are only committed as records arrive. */
	memset(r, 0, sizeof(*r));
	r->budget = b;
	r->id = ++next_id;
	r->generation = next_generation();
	r->reserved = bytes;
	r->area_size = (uint32_t)area;
	r->nslots = (uint32_t)nslots;
	r->index = (uint32_t *)(r->area + area);
	b->used += bytes;
	return r;
}

void capture_ring_free(struct capture_ring *r)
{
	if (!r)
		return;
	notify_watchers(r); /* they see w->ring NULL: the ring is gone */
	r->budget->used -= r->reserved;
	free(r);
}

static void ring_reset(struct capture_ring *r)
{
	r->count = 0;
	r->bytes = 0;
	r->head = r->tail = r->wrap_end = 0;
	r->wrapped = false;
	r->oldest = r->newest + 1;
}

static void evict_oldest(struct capture_ring *r)
{
	const struct rec *old = rec_at_off(r, r->head);

	r->evictions++;
	r->evicted_upto = old->seq;
	r->bytes -= old->caplen;
	r->head += (uint32_t)rec_size(old->caplen, old->kept);
	r->oldest++;
	if (--r->count == 0) {
		ring_reset(r);
		return;
	}
	if (r->wrapped && r->head == r->wrap_end) {
		r->head = 0;
		r->wrapped = false;
	}
	/*
	 * The next record to go was written a whole ring ago and is out of
	 * the cache: fetched now, it is there when the next add reads its
	 * header (that miss was 40 % of capture_ring_add on a full ring).
	 */
	__builtin_prefetch(r->area + r->head);
}

/* Where a record of @size bytes goes, after evicting what is in its way. */
static uint32_t ring_make_room(struct capture_ring *r, size_t size)
{
	for (;;) {
		if (r->count == 0)
			return 0;
		if (r->wrapped) {
			if (r->tail + size <= r->head)
				return r->tail;
		} else {
			if (r->tail + size <= r->area_size)
				return r->tail;
			/* It does not fit before the end: skip the rest, start over at 0. */
			if (size <= r->head) {
				r->wrap_end = r->tail;
				r->wrapped = true;
				return 0;
			}
		}
		evict_oldest(r);
	}
}

uint64_t capture_ring_add(struct capture_ring *r, const struct timespec *ts, uint32_t binding_id,
			  const uint8_t *frame, uint32_t len, uint32_t caplen,
			  const struct frame_info *fi)
{
	size_t size;
	uint32_t off;
	struct rec *rec;

	if (caplen > len)
		caplen = len;
	size = rec_size(caplen, caplen < len);
	if (size > r->area_size) {
		r->dropped++;
		return 0;
	}
	off = ring_make_room(r, size);
	rec = rec_at_off(r, off);
	rec->seq = ++r->newest;
	rec->ts = *ts;
	rec->binding_id = binding_id;
	rec->len = len;
	rec->caplen = caplen;
	rec->kept = caplen < len;
	rec->link = (uint8_t)fi->link;
	rec->opts = fi->opts;
	if (rec->kept)
		memcpy(rec->body, fi, sizeof(*fi));
	memcpy(rec->body + rec_data_off(rec), frame, caplen);
	r->index[rec->seq % r->nslots] = off;
	if (r->count == 0)
		r->oldest = rec->seq;
	r->count++;
	r->bytes += caplen;
	r->tail = off + (uint32_t)size;
	if (r->watchers)
		notify_watchers(r);
	return rec->seq;
}

static void record_fill(const struct rec *rec, struct capture_record *out)
{
	out->seq = rec->seq;
	out->ts = rec->ts;
	out->binding_id = rec->binding_id;
	out->len = rec->len;
	out->caplen = rec->caplen;
	out->data = rec->body + rec_data_off(rec);
	out->kept = rec->kept ? (const struct frame_info *)rec->body : NULL;
	out->link = rec->link;
	out->opts = rec->opts;
}

void capture_record_info(const struct capture_record *rec, struct frame_info *out)
{
	if (rec->kept)
		memcpy(out, rec->kept, sizeof(*out));
	else
		frame_parse(rec->data, rec->caplen, (enum frame_link)rec->link, rec->opts, out);
}

bool capture_ring_next(const struct capture_ring *r, uint64_t after, uint32_t binding_id,
		       struct capture_record *out)
{
	uint64_t s;

	if (r->count == 0 || after >= r->newest)
		return false;
	for (s = after < r->oldest ? r->oldest : after + 1; s <= r->newest; s++) {
		const struct rec *rec = rec_of(r, s);

		if (binding_id == 0 || rec->binding_id == binding_id) {
			record_fill(rec, out);
			return true;
		}
	}
	return false;
}

int capture_ring_get(const struct capture_ring *r, uint64_t seq, struct capture_record *out)
{
	if (seq > r->newest)
		return -ENOENT;
	if (r->count == 0 || seq < r->oldest)
		return -ESTALE;
	record_fill(rec_of(r, seq), out);
	return 0;
}

uint64_t capture_ring_id(const struct capture_ring *r)
{
	return r->id;
}

void capture_ring_stats(const struct capture_ring *r, struct capture_stats *out)
{
	out->records = r->count;
	out->bytes = r->bytes;
	out->oldest_seq = r->count ? r->oldest : 0;
	out->newest_seq = r->newest;
	out->evicted_upto = r->evicted_upto;
	out->evictions = r->evictions;
	out->dropped = r->dropped;
	out->capacity = r->reserved;
}

void capture_ring_clear(struct capture_ring *r)
{
	ring_reset(r);
	r->generation = next_generation();
	notify_watchers(r);
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
	return p + sizeof(v);
}

static uint8_t *put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
	return p + sizeof(v);
}

void capture_pcap_file_header(uint8_t out[PCAP_FILE_HDR], uint32_t linktype)
{
	/* Host byte order: readers tell it from the magic (pcap-savefile(5)). */
	uint8_t *p = put32(out, 0xa1b2c3d4);

	p = put16(p, 2);
	p = put16(p, 4);
	p = put32(p, 0); /* thiszone */
	p = put32(p, 0); /* sigfigs */
	p = put32(p, PCAP_SNAPLEN);
	put32(p, linktype);
}

uint32_t capture_pcap_record_header(const struct capture_record *rec, uint32_t skip,
				    uint8_t out[PCAP_REC_HDR])
{
	uint32_t incl = rec->caplen > skip ? rec->caplen - skip : 0;
	uint8_t *p = put32(out, (uint32_t)rec->ts.tv_sec);

	p = put32(p, (uint32_t)(rec->ts.tv_nsec / 1000));
	p = put32(p, incl);
	put32(p, rec->len > skip ? rec->len - skip : 0);
	return incl;
}

int capture_ring_pcap(const struct capture_ring *r, uint32_t binding_id, uint32_t linktype,
		      uint32_t skip, uint8_t **buf, size_t *len)
{
	size_t total = PCAP_FILE_HDR;
	uint8_t *out, *p;
	uint64_t s;

	*buf = NULL;
	*len = 0;
	for (s = r ? r->oldest : 1; r && r->count && s <= r->newest; s++) {
		const struct rec *rec = rec_of(r, s);

		if (binding_id && rec->binding_id != binding_id)
			continue;
		total += PCAP_REC_HDR + (rec->caplen > skip ? rec->caplen - skip : 0);
	}
	out = malloc(total);
	if (!out)
		return -ENOMEM;
	capture_pcap_file_header(out, linktype);
	p = out + PCAP_FILE_HDR;
	for (s = r ? r->oldest : 1; r && r->count && s <= r->newest; s++) {
		struct capture_record rec;
		uint32_t incl;

		record_fill(rec_of(r, s), &rec);
		if (binding_id && rec.binding_id != binding_id)
			continue;
		incl = capture_pcap_record_header(&rec, skip, p);
		p += PCAP_REC_HDR;
		memcpy(p, rec.data + (rec.caplen - incl), incl);
		p += incl;
	}
	*buf = out;
	*len = total;
	return 0;
}
