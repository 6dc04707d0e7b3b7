// SPDX-License-Identifier: MIT
/*
 * Capture files that follow (issue 8): captures.pcap?follow=true,
 * captures.pcapng (or Accept: application/x-pcapng) and
 * /api/v1/captures.pcapng?ports=a,b across ports. The stream sends the
 * file header (pcapng: a Section Header Block and one Interface Description
 * Block per port), the records already in the rings after the cursor, and
 * with follow=true every record added afterwards until the client goes:
 * when it has sent all there is, its reader returns RESPONSE_WAIT and arms
 * a watcher on each ring (capture.h); the ring's next add wakes the stream
 * (api.h, "Waiting for data"), so a waiting follower costs no CPU and each
 * record goes out as soon as the loop turns.
 *
 * A follower never slows the data plane and is never buffered without
 * bound: it reads records from the ring itself at its own pace, holding
 * one block (one record) of its own, and the HTTP server's buffer. Records
 * evicted before it read them are skipped and counted: on /metrics
 * (paird_capture_stream_missed_total), and in pcapng as the next block's
 * epb_dropcount option and a comment.
 *
 * Across ports, records are sent in timestamp order among those available
 * when a block is made (each port's own order is its sequence order).
 *
 * With ?filter= (tcpdump syntax) and/or ?snaplen=, a stream that follows
 * needs no capture binding: it adds a stream tap to each port's stack
 * (stack.h), called for every frame the port reads, and keeps what passes
 * in a private ring of TAP_RING bytes taken from --capture-memory; it reads
 * that ring as it reads a port's. Tap and ring go with the stream, and
 * nothing of them is in the state file or the port's bindings.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../service/capture.h"
#include "../service/h_capture.h"
#include "../service/handler.h"
#include "../service/log.h"
#include "../service/port.h"
#include "../service/portcfg.h"
#include "../service/portset.h"
#include "../service/stack.h"
#include "internal.h"

#define FOLLOW_SCAN_MAX 4096		   /* records looked at per call, matching or not */
#define FOLLOW_CALL_MAX ((size_t)16 << 10) /* bytes per call: the loop waits while one runs */
#define PCAPNG_SNAPLEN	262144
#define TAP_RING	(256u << 10)

/* pcapng block types and options (draft-ietf-opsawg-pcapng). */
#define PCAPNG_SHB	  0x0A0D0D0Au
#define PCAPNG_IDB	  0x00000001u
#define PCAPNG_EPB	  0x00000006u
#define PCAPNG_BOM	  0x1A2B3C4Du
#define OPT_ENDOFOPT	  0
#define OPT_COMMENT	  1
#define OPT_IF_NAME	  2
#define OPT_EPB_DROPCOUNT 4

static uint64_t streams_open, missed_total, tap_frames, tap_filtered;

uint64_t follow_tap_frames(void)
{
	return tap_frames;
}

uint64_t follow_tap_filtered(void)
{
	return tap_filtered;
}

uint64_t follow_streams_open(void)
{
	return streams_open;
}

uint64_t follow_missed_total(void)
{
	return missed_total;
}

struct fstream;
struct fsource;

/* A stream's own capture on one port: a tap into the stack and a private ring. */
struct ftap {
	struct stack_tap tap; /* first */
	struct fsource *src;
	struct capture_ring *ring;
	struct bpf_program prog;
	bool has_prog;
	uint32_t snaplen;
	enum frame_link link;
};

struct fsource {
	struct fstream *fs;
	char port[PORT_NAME_MAX + 1];
	uint64_t ring_id;   /* the ring the stream started on */
	uint64_t next;	    /* the next sequence number to look at */
	uint64_t end;	    /* without follow: the newest when the request came */
	uint64_t missed;    /* evicted before read, not reported yet */
	uint32_t skip;	    /* leading bytes left out of each record (a tun's PI) */
	bool gone;	    /* port or ring gone: nothing more from here */
	bool tap_port_gone; /* a tap's port was deleted: end once its ring is sent */
	struct capture_watcher w;
	struct ftap *tap; /* NULL: the port's ring */
};

struct fstream {
	struct api *api;
	bool pcapng, follow;
	uint32_t binding; /* 0: every binding */
	unsigned n;
	struct fsource src[FOLLOW_PORTS_MAX];
	uint8_t *buf; /* the block being sent */
	size_t cap, len, off;
	struct response_wake *wake;
};

/* --- block encoding --- */

static uint8_t *put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
	return p + 2;
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
	return p + 4;
}

static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* An option (code, length, value padded to 4) at @p; returns the end. */
static uint8_t *put_opt(uint8_t *p, uint16_t code, const void *v, uint16_t len)
{
	p = put16(p, code);
	p = put16(p, len);
	memcpy(p, v, len);
	memset(p + len, 0, pad4(len) - len);
	return p + pad4(len);
}

size_t pcapng_shb(uint8_t *out)
{
	uint8_t *p = put32(out, PCAPNG_SHB);
	uint64_t section_len = UINT64_MAX; /* -1: not known, a stream */

	p = put32(p, 28);
	p = put32(p, PCAPNG_BOM);
	p = put16(p, 1);
	p = put16(p, 0);
	memcpy(p, &section_len, 8);
	p = put32(p + 8, 28);
	return (size_t)(p - out);
}

size_t pcapng_idb(uint8_t *out, uint16_t linktype, const char *name)
{
	size_t nlen = strlen(name);
	size_t total = 16 + 4 + pad4(nlen) + 4 + 4;
	uint8_t *p = put32(out, PCAPNG_IDB);

	p = put32(p, (uint32_t)total);
	p = put16(p, linktype);
	p = put16(p, 0);
	p = put32(p, PCAPNG_SNAPLEN);
	p = put_opt(p, OPT_IF_NAME, name, (uint16_t)nlen);
	p = put32(p, OPT_ENDOFOPT); /* code 0, length 0 */
	p = put32(p, (uint32_t)total);
	return (size_t)(p - out);
}

size_t pcapng_epb_size(uint32_t incl, uint64_t missed)
{
	/* header 28, data, comment "binding N" (<= 16), maybe a dropcount and its comment */
	return 28 + pad4(incl) + 4 + 20 + (missed ? 12 + 4 + 96 : 0) + 4 + 4;
}

size_t pcapng_epb(uint8_t *out, uint32_t ifid, const struct capture_record *rec, uint32_t skip,
		  uint64_t missed)
{
	uint32_t incl = rec->caplen > skip ? rec->caplen - skip : 0;
	uint32_t orig = rec->len > skip ? rec->len - skip : 0;
	uint64_t us = (uint64_t)rec->ts.tv_sec * 1000000 + (uint64_t)rec->ts.tv_nsec / 1000;
	char comment[96];
	uint8_t *p = out + 8, *q;
	int n;

	p = put32(p, ifid);
	p = put32(p, (uint32_t)(us >> 32));
	p = put32(p, (uint32_t)us);
	p = put32(p, incl);
	p = put32(p, orig);
	memcpy(p, rec->data + (rec->caplen - incl), incl);
	memset(p + incl, 0, pad4(incl) - incl);
	p += pad4(incl);
	/* Binding 0: the stream's own capture (?filter=, ?snaplen=). */
	if (rec->binding_id)
		n = snprintf(comment, sizeof(comment), "binding %u", rec->binding_id);
	else
		n = snprintf(comment, sizeof(comment), "stream capture");
	p = put_opt(p, OPT_COMMENT, comment, (uint16_t)n);
	if (missed) {
		p = put_opt(p, OPT_EPB_DROPCOUNT, &missed, 8);
		n = snprintf(comment, sizeof(comment),
			     "%llu earlier records of this port were missed: the reader was "
			     "slower than the capture",
			     (unsigned long long)missed);
		p = put_opt(p, OPT_COMMENT, comment, (uint16_t)n);
	}
	p = put32(p, OPT_ENDOFOPT);
	p = put32(p, (uint32_t)(p - out + 4));
	q = put32(out, PCAPNG_EPB);
	put32(q, (uint32_t)(p - out));
	return (size_t)(p - out);
}

/* --- the stream --- */

static void source_notify(struct capture_watcher *w)
{
	struct fsource *s = (struct fsource *)((char *)w - offsetof(struct fsource, w));

	if (s->fs->wake)
		response_wake(s->fs->wake);
}

/* @s's ring if it is still the one the stream started on; else marks @s gone. */
static struct capture_ring *source_ring(struct fsource *s)
{
	struct portset *ps = s->fs->api->cfg.ports;
	struct port *p;
	struct capture_ring *ring = NULL;

	if (s->gone)
		return NULL;
	if (s->tap)
		return s->tap->ring;
	p = portset_find(ps, s->port);
	if (p)
		ring = stack_ring(portset_stack(ps, p));
	if (!ring || capture_ring_id(ring) != s->ring_id) {
		s->gone = true;
		capture_ring_unwatch(&s->w);
		return NULL;
	}
	return ring;
}

/*
 * The next record of @s to send, in *@rec, skipping (and counting) those
 * the ring evicted first. 1 when there is one, 0 when not yet (or never),
 * -EAGAIN when @budget records were looked at.
 */
static int source_peek(struct fsource *s, struct capture_ring *ring, unsigned *budget,
		       struct capture_record *rec)
{
	struct capture_stats st;

	for (;;) {
		if (!s->fs->follow && s->next > s->end)
			return 0;
		if (*budget == 0)
			return -EAGAIN;
		(*budget)--;
		switch (capture_ring_get(ring, s->next, rec)) {
		case -ENOENT:
			if (s->tap_port_gone)
				s->gone = true;
			return 0;
		case -ESTALE:
			capture_ring_stats(ring, &st);
			{
				uint64_t to = st.records ? st.oldest_seq : st.newest_seq + 1;

				s->missed += to - s->next;
				missed_total += to - s->next;
				s->next = to;
			}
			continue;
		default:
			break;
		}
		if (s->fs->binding && rec->binding_id != s->fs->binding) {
			s->next++;
			continue;
		}
		return 1;
	}
}

static int fstream_reserve(struct fstream *fs, size_t n)
{
	if (n > fs->cap) {
		uint8_t *b = realloc(fs->buf, n);

		if (!b)
			return -ENOMEM;
		fs->buf = b;
		fs->cap = n;
	}
	return 0;
}

/*
 * Makes the next block into fs->buf. 1 when made, 0 when nothing is
 * available, -EAGAIN when the scan budget ran out, -errno.
 */
static int fstream_next(struct fstream *fs)
{
	struct capture_record rec, best_rec;
	struct fsource *best = NULL;
	unsigned budget = FOLLOW_SCAN_MAX;
	bool scan_out = false;
	int ret;

	for (unsigned i = 0; i < fs->n; i++) {
		struct fsource *s = &fs->src[i];
		struct capture_ring *ring = source_ring(s);

		if (!ring)
			continue;
		ret = source_peek(s, ring, &budget, &rec);
		if (ret == -EAGAIN)
			scan_out = true;
		if (ret != 1)
			continue;
		if (!best || rec.ts.tv_sec < best_rec.ts.tv_sec ||
		    (rec.ts.tv_sec == best_rec.ts.tv_sec && rec.ts.tv_nsec < best_rec.ts.tv_nsec)) {
			best = s;
			best_rec = rec;
		}
	}
	if (!best)
		return scan_out ? -EAGAIN : 0;
	if (fs->pcapng) {
		ret = fstream_reserve(fs, pcapng_epb_size(best_rec.caplen, best->missed));
		if (ret < 0)
			return ret;
		fs->len = pcapng_epb(fs->buf, (uint32_t)(best - fs->src), &best_rec, best->skip,
				     best->missed);
	} else {
		uint32_t incl;

		ret = fstream_reserve(fs, PCAP_REC_HDR + best_rec.caplen);
		if (ret < 0)
			return ret;
		incl = capture_pcap_record_header(&best_rec, best->skip, fs->buf);
		memcpy(fs->buf + PCAP_REC_HDR, best_rec.data + (best_rec.caplen - incl), incl);
		fs->len = PCAP_REC_HDR + incl;
	}
	best->missed = 0;
	best->next = best_rec.seq + 1;
	fs->off = 0;
	return 1;
}

/* True when no source can give anything more. */
static bool fstream_over(struct fstream *fs)
{
	for (unsigned i = 0; i < fs->n; i++)
		if (!fs->src[i].gone && source_ring(&fs->src[i]))
			return false;
	return true;
}

static void fstream_arm(struct fstream *fs)
{
	for (unsigned i = 0; i < fs->n; i++) {
		struct capture_ring *ring = source_ring(&fs->src[i]);

		if (ring)
			capture_ring_watch(ring, &fs->src[i].w);
	}
}

static ssize_t fstream_read(void *ctx, char *buf, size_t max)
{
	struct fstream *fs = ctx;
	size_t n = 0;
	int ret = 0;

	if (max > FOLLOW_CALL_MAX)
		max = FOLLOW_CALL_MAX;
	while (n < max) {
		if (fs->off < fs->len) {
			size_t k = fs->len - fs->off < max - n ? fs->len - fs->off : max - n;

			memcpy(buf + n, fs->buf + fs->off, k);
			fs->off += k;
			n += k;
			continue;
		}
		ret = fstream_next(fs);
		if (ret <= 0)
			break;
	}
	if (n)
		return (ssize_t)n;
	if (ret == -EAGAIN)
		return -EAGAIN;
	if (ret < 0) {
		log_warn("capture stream: stopped: %s", strerror(-ret));
		return ret;
	}
	/* Nothing available: the end, unless following a port that is still there. */
	if (!fs->follow || fstream_over(fs))
		return 0;
	fstream_arm(fs);
	return RESPONSE_WAIT;
}

static void fstream_attach(void *ctx, struct response_wake *w)
{
	((struct fstream *)ctx)->wake = w;
}

static void ftap_free(struct ftap *t)
{
	if (!t)
		return;
	stack_tap_remove(&t->tap);
	if (t->has_prog)
		pcap_freecode(&t->prog);
	capture_ring_free(t->ring);
	free(t);
}

static void fstream_free(void *ctx)
{
	struct fstream *fs = ctx;

	for (unsigned i = 0; i < fs->n; i++) {
		capture_ring_unwatch(&fs->src[i].w);
		ftap_free(fs->src[i].tap);
	}
	if (fs->follow)
		streams_open--;
	free(fs->buf);
	free(fs);
}

/* Every frame of the port: filtered, cut and kept in the stream's ring (the data plane). */
static void ftap_frame(struct stack_tap *st, struct dispatch_ctx *dc)
{
	struct ftap *t = (struct ftap *)st;
	uint32_t len = (uint32_t)dc->len;

	tap_frames++;
	if (t->has_prog &&
	    !capture_filter_match(&t->prog, t->link, dc->frame, dc->len, dispatch_time(dc))) {
		tap_filtered++;
		return;
	}
	/* Notifies the stream's watcher, if it waits: a wake, no I/O. */
	capture_ring_add(t->ring, dispatch_time(dc), 0, dc->frame, len,
			 len < t->snaplen ? len : t->snaplen, dc->fi);
}

/* The port was deleted: what the ring holds is still sent, then the source ends. */
static void ftap_gone(struct stack_tap *st)
{
	struct ftap *t = (struct ftap *)st;

	if (t->src->fs->wake)
		response_wake(t->src->fs->wake);
	t->src->tap_port_gone = true;
}

/* Gives @s a private capture of @p: a tap with @o's filter and snaplen. 0 or -1 with @f. */
static int ftap_start(struct fsource *s, struct api *api, struct port *p,
		      const struct follow_opts *o, struct fault *f)
{
	struct stack *st = portset_stack(api->cfg.ports, p);
	struct ftap *t = calloc(1, sizeof(*t));

	if (!t)
		return fault_set(f, FAULT_UNAVAILABLE, ENOMEM, NULL, "out of memory");
	t->src = s;
	t->link = port_frame_link(p);
	t->snaplen = o->snaplen ? o->snaplen : CAPTURE_SNAPLEN_MAX;
	t->tap.frame = ftap_frame;
	t->tap.gone = ftap_gone;
	if (o->filter &&
	    capture_filter_compile(o->filter, t->link, t->snaplen, &t->prog, "filter", f) < 0) {
		/* A query parameter here, not a body field: 400 invalid-query. */
		if (f->kind == FAULT_INVALID)
			f->kind = FAULT_QUERY;
		free(t);
		return -1;
	}
	t->has_prog = o->filter != NULL;
	t->ring = capture_ring_new(stack_budget(st), TAP_RING, f);
	if (!t->ring) {
		ftap_free(t);
		return -1;
	}
	stack_tap_add(st, &t->tap);
	s->tap = t;
	return 0;
}

/* Adds @p as the next source, from the record after @after. */
static int fstream_add(struct fstream *fs, struct api *api, struct port *p, uint64_t after)
{
	struct capture_ring *ring = stack_ring(portset_stack(api->cfg.ports, p));
	struct fsource *s = &fs->src[fs->n++];
	struct capture_stats st = { 0 };
	enum frame_link link = port_frame_link(p);
	uint64_t start;

	s->fs = fs;
	s->w.notify = source_notify;
	snprintf(s->port, sizeof(s->port), "%s", port_name(p));
	s->skip = link == LINK_IP_PI ? PI_HDR_LEN : 0;
	if (ring) {
		capture_ring_stats(ring, &st);
		s->ring_id = capture_ring_id(ring);
	} else {
		s->gone = true; /* no ring: a file with no records from this port */
	}
	s->end = st.newest_seq;
	start = st.records ? st.oldest_seq : st.newest_seq + 1;
	s->next = after + 1 > start ? after + 1 : start;
	/* The header: the caller made room for it. */
	if (fs->pcapng) {
		fs->len += pcapng_idb(fs->buf + fs->len,
				      link == LINK_ETHERNET ? PCAP_LINKTYPE_ETHERNET
							    : PCAP_LINKTYPE_RAW,
				      port_name(p));
	} else {
		capture_pcap_file_header(fs->buf, link == LINK_ETHERNET ? PCAP_LINKTYPE_ETHERNET
									: PCAP_LINKTYPE_RAW);
		fs->len = PCAP_FILE_HDR;
	}
	return 0;
}

int follow_reply(struct api *api, const struct request *rq, struct port **ports, unsigned n,
		 const struct follow_opts *o, struct response *rs, struct fault *f)
{
	bool own = o->filter || o->snaplen;
	struct fstream *fs;

	/* The slot first: a follower refused for want of one costs no filter compile. */
	if (o->follow && !api_stream_admit(api, rq, rs))
		return 0;
	fs = calloc(1, sizeof(*fs));
	if (!fs || fstream_reserve(fs, 64 + (size_t)n * 64) < 0 || !fs->buf) {
		free(fs);
		return fault_set(f, FAULT_UNAVAILABLE, ENOMEM, NULL,
				 "out of memory starting the response");
	}
	fs->api = api;
	fs->pcapng = o->pcapng;
	fs->follow = o->follow;
	fs->binding = o->binding;
	if (fs->pcapng)
		fs->len = pcapng_shb(fs->buf);
	for (unsigned i = 0; i < n; i++) {
		fstream_add(fs, api, ports[i], own ? 0 : o->after);
		if (own) {
			struct fsource *s = &fs->src[i];

			/* The stream's own capture starts empty: the port's ring is not read. */
			s->gone = false;
			s->next = 1;
			if (ftap_start(s, api, ports[i], o, f) < 0) {
				fs->follow = false; /* not counted yet */
				fstream_free(fs);
				return -1;
			}
		}
	}
	if (fs->follow) {
		streams_open++;
		rs->long_lived = true;
		rs->attach_wake = fstream_attach;
	}
	rs->status = 200;
	rs->content_type = fs->pcapng ? "application/x-pcapng" : "application/vnd.tcpdump.pcap";
	rs->read = fstream_read;
	rs->read_ctx = fs;
	rs->read_free = fstream_free;
	return 0;
}
