// SPDX-License-Identifier: MIT
/*
 * /api/v1/ports/{name}/captures: the port's capture ring as JSON pages
 * (?after=SEQ&limit=N&binding=ID, 410 once the cursor fell off the ring),
 * as a pcap download (captures.pcap) and cleared with DELETE. Each record
 * carries the headers as the parser decoded them when the frame arrived:
 * every field Twisted Pair hands its protocols, plus checksum status.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../service/capture.h"
#include "../service/h_capture.h"
#include "../service/log.h"
#include "../service/num.h"
#include "../service/portcfg.h"
#include "../service/portset.h"
#include "../service/stack.h"
#include "internal.h"

#define PAGE_DEFAULT 100
#define PAGE_MAX     1000
#define WAIT_MAX     60 /* seconds a page may wait for its first record */

static const char *const csum_words[] = {
	[CSUM_UNCHECKED] = "unchecked",
	[CSUM_OK] = "ok",
	[CSUM_BAD] = "bad",
	[CSUM_NONE] = "none",
};

static json_t *json_mac(const uint8_t mac[6])
{
	char buf[MAC_STR_MAX];

	mac_format(mac, buf);
	return json_string(buf);
}

static json_t *json_ip(int family, const uint8_t *addr)
{
	char buf[INET6_ADDRSTRLEN];

	if (!inet_ntop(family, addr, buf, sizeof(buf)))
		return json_null();
	return json_string(buf);
}

static json_t *ipv4_json(const struct frame_info *fi)
{
	json_t *o = json_object();

	json_object_set_new(o, "version", json_integer(fi->ip4.version));
	json_object_set_new(o, "ihl", json_integer(fi->ip4.ihl));
	json_object_set_new(o, "tos", json_integer(fi->ip4.tos));
	json_object_set_new(o, "total_length", json_integer(fi->ip4.total_length));
	json_object_set_new(o, "id", json_integer(fi->ip4.id));
	json_object_set_new(o, "fragment_offset", json_integer(fi->ip4.fragment_offset));
	json_object_set_new(o, "df", json_boolean(fi->ip4.df));
	json_object_set_new(o, "mf", json_boolean(fi->ip4.mf));
	json_object_set_new(o, "ttl", json_integer(fi->ip4.ttl));
	json_object_set_new(o, "protocol", json_integer(fi->ip4.protocol));
	json_object_set_new(o, "checksum", json_integer(fi->ip4.checksum));
	json_object_set_new(o, "checksum_status", json_string(csum_words[fi->ip4.checksum_status]));
	json_object_set_new(o, "src", json_ip(AF_INET, fi->ip4.src));
	json_object_set_new(o, "dst", json_ip(AF_INET, fi->ip4.dst));
	return o;
}

static json_t *ipv6_json(const struct frame_info *fi)
{
	json_t *o = json_object();

	json_object_set_new(o, "traffic_class", json_integer(fi->ip6.traffic_class));
	json_object_set_new(o, "flow_label", json_integer(fi->ip6.flow_label));
	json_object_set_new(o, "payload_length", json_integer(fi->ip6.payload_length));
	json_object_set_new(o, "next_header", json_integer(fi->ip6.next_header));
	json_object_set_new(o, "hop_limit", json_integer(fi->ip6.hop_limit));
	json_object_set_new(o, "src", json_ip(AF_INET6, fi->ip6.src));
	json_object_set_new(o, "dst", json_ip(AF_INET6, fi->ip6.dst));
	return o;
}

static json_t *arp_json(const struct frame_info *fi)
{
	json_t *o = json_object();

	json_object_set_new(o, "htype", json_integer(fi->arp.htype));
	json_object_set_new(o, "ptype", json_integer(fi->arp.ptype));
	json_object_set_new(o, "op", json_integer(fi->arp.op));
	if (fi->arp.ether_ipv4) {
		json_object_set_new(o, "sha", json_mac(fi->arp.sha));
		json_object_set_new(o, "spa", json_ip(AF_INET, fi->arp.spa));
		json_object_set_new(o, "tha", json_mac(fi->arp.tha));
		json_object_set_new(o, "tpa", json_ip(AF_INET, fi->arp.tpa));
	}
	return o;
}

/*
 * Whether the header of a layer the parser reached was cut short: its
 * object is then left out rather than shown with zeros where bytes were
 * missing (`malformed` names the layer).
 */
static bool cut_short(const struct frame_info *fi, enum malformed m)
{
	return fi->malformed == m;
}

/* The decoded headers of a captured frame; @data holds its first @caplen bytes. */
json_t *frame_headers_json(const struct frame_info *fi, const uint8_t *data, uint32_t caplen)
{
	json_t *o = json_object(), *l4;

	json_object_set_new(o, "malformed", json_string(malformed_name(fi->malformed)));
	if (fi->has_pi) {
		l4 = json_object();
		json_object_set_new(l4, "flags", json_integer(fi->pi_flags));
		json_object_set_new(l4, "proto", json_integer(fi->pi_proto));
		json_object_set_new(o, "packet_info", l4);
	}
	if (fi->has_eth) {
		l4 = json_object();
		json_object_set_new(l4, "src", json_mac(fi->eth_src));
		json_object_set_new(l4, "dst", json_mac(fi->eth_dst));
		json_object_set_new(l4, "type", json_integer(fi->eth_type));
		json_object_set_new(o, "ethernet", l4);
	}
	/* An ARP message cut among its addresses still shows the fixed part it has. */
	if (fi->l3 == L3_ARP && fi->arp.fixed)
		json_object_set_new(o, "arp", arp_json(fi));
	if (fi->l3 == L3_IPV4 && !cut_short(fi, MAL_ipv4_short))
		json_object_set_new(o, "ipv4", ipv4_json(fi));
	if (fi->l3 == L3_IPV6 && !cut_short(fi, MAL_ipv6_short))
		json_object_set_new(o, "ipv6", ipv6_json(fi));
	if (fi->has_ip_protocol) {
		json_object_set_new(o, "ip_protocol", json_integer(fi->ip_protocol));
		json_object_set_new(o, "fragment", json_boolean(fi->fragment));
	}
	if (fi->l4 == L4_UDP && !cut_short(fi, MAL_udp_short)) {
		l4 = json_object();
		json_object_set_new(l4, "src_port", json_integer(fi->udp.sport));
		json_object_set_new(l4, "dst_port", json_integer(fi->udp.dport));
		json_object_set_new(l4, "length", json_integer(fi->udp.length));
		json_object_set_new(l4, "checksum", json_integer(fi->udp.checksum));
		json_object_set_new(l4, "checksum_status",
				    json_string(csum_words[fi->udp.checksum_status]));
		json_object_set_new(o, "udp", l4);
	}
	if ((fi->l4 == L4_ICMP && !cut_short(fi, MAL_icmp_short)) ||
	    (fi->l4 == L4_ICMPV6 && !cut_short(fi, MAL_icmpv6_short))) {
		l4 = json_object();
		json_object_set_new(l4, "type", json_integer(fi->icmp.type));
		json_object_set_new(l4, "code", json_integer(fi->icmp.code));
		json_object_set_new(l4, "checksum", json_integer(fi->icmp.checksum));
		json_object_set_new(l4, "checksum_status",
				    json_string(csum_words[fi->icmp.checksum_status]));
		if (fi->icmp.echo) {
			json_object_set_new(l4, "id", json_integer(fi->icmp.id));
			json_object_set_new(l4, "seq", json_integer(fi->icmp.seq));
		}
		json_object_set_new(o, fi->l4 == L4_ICMP ? "icmp" : "icmpv6", l4);
	}
	if (fi->l4 == L4_UDP || fi->l4 == L4_ICMP || fi->l4 == L4_ICMPV6) {
		/* The payload as the protocol sees it, cut where the capture was. */
		size_t off = fi->payload_off, n = fi->payload_len;

		if (off > caplen)
			n = 0;
		else if (off + n > caplen)
			n = caplen - off;
		json_object_set_new(o, "payload",
				    json_hex_bytes(data + (off > caplen ? 0 : off), n));
		json_object_set_new(o, "payload_length", json_integer((json_int_t)fi->payload_len));
	}
	return o;
}

/* An unsigned decimal query parameter in [min, max]; absent leaves *out. */
static int query_u64(const struct request *rq, const char *name, uint64_t min, uint64_t max,
		     uint64_t *out, struct fault *f)
{
	const char *v = rq->query ? rq->query(rq->lookup_ctx, name) : NULL;

	if (v && num_parse_u64(v, min, max, out) < 0)
		return fault_set(f, FAULT_QUERY, 0, name,
				 "query parameter %s must be a decimal integer %llu..%llu", name,
				 (unsigned long long)min, (unsigned long long)max);
	return 0;
}

/* --- streaming from the ring --- */

/*
 * A capture response is produced while it is sent (a content reader, see
 * api.h), so a client costs the same memory whatever the ring holds: this
 * state, a copy of the one record being sent (at most a frame,
 * CAPTURE_SNAPLEN_MAX bytes) and the HTTP server's own buffer. The stream
 * keeps only the port's name and its ring's id between calls: it finds the
 * ring again on every call, so a port deleted (or its ring replaced) while a
 * client is reading ends the stream cleanly instead of leaving a dangling
 * pointer.
 *
 * Records are sent by sequence number, from the cursor up to the newest
 * record when the request came (a page never chases records that arrive
 * while it is being read). A record is copied when the stream starts it, so
 * it is always sent whole. If the next record to send was evicted (or the
 * ring cleared) in the meantime, the stream stops there: what was sent is a
 * contiguous run, a JSON page says so in "stop" and its next_after then
 * answers 410 as any cursor that fell off the ring does, and a pcap file
 * ends after its last whole record.
 */
#define PAGE_BYTES	(1u << 20)	    /* no record is started once a page holds this */
#define STREAM_SCAN_MAX 4096		    /* records looked at per call, matching or not */
#define STREAM_CALL_MAX ((size_t)16 * 1024) /* bytes per call: ~0.3 ms of CPU for small records */
#define STREAM_TEXT	4096		    /* a record's JSON without its hex strings */
#define STREAM_SEGS	8

enum seg_kind { SEG_TEXT, SEG_BYTES, SEG_HEX };

/* One piece of output: @len bytes at @p, written as they are or as hex digits. */
struct seg {
	enum seg_kind kind;
	const uint8_t *p;
	size_t len;
};

struct cstream {
	struct api *api;
	char port[PORT_NAME_MAX + 1];
	uint64_t ring_id; /* 0: the port had no ring when the request came */
	bool pcap;
	uint32_t binding;		 /* 0: every binding */
	uint32_t skip;			 /* pcap: leading bytes of each record left out */
	uint64_t next;			 /* the next sequence number to look at */
	uint64_t end;			 /* the newest sequence number when the request came */
	uint64_t last;			 /* the last record sent, the page's next_after */
	uint64_t left;			 /* records the page may still hold (limit) */
	uint64_t sent;			 /* bytes produced */
	uint64_t oldest_seq, newest_seq; /* the ring as the request found it */
	uint64_t generation;		 /* of the ring, 0 without one */
	const char *stop;		 /* why the page ended; NULL while it goes on */
	bool done;			 /* the closing output is queued */
	bool first;			 /* no record sent yet */
	struct seg seg[STREAM_SEGS];
	unsigned nseg, cur;
	size_t off;	      /* into seg[cur], in output bytes */
	struct frame_info fi; /* the record being sent, copied */
	uint8_t *copy;
	size_t copy_cap;
	char text[STREAM_TEXT];
	size_t text_len;
	/* A long poll (?wait=): an empty page waits for a record or the deadline. */
	bool waiting, expired;
	struct capture_watcher w;
	struct response_wake *wake;
	struct event *timer;
};

static void cstream_free(void *ctx)
{
	struct cstream *cs = ctx;

	if (!cs)
		return;
	capture_ring_unwatch(&cs->w);
	if (cs->timer)
		event_free(cs->timer);
	free(cs->copy);
	free(cs);
}

/* The port's ring if it is still the one the stream started on, else NULL. */
static struct capture_ring *cstream_ring(const struct cstream *cs)
{
	struct port *p = portset_find(cs->api->cfg.ports, cs->port);
	struct capture_ring *ring;

	if (!p || !cs->ring_id)
		return NULL;
	ring = stack_ring(portset_stack(cs->api->cfg.ports, p));
	return ring && capture_ring_id(ring) == cs->ring_id ? ring : NULL;
}

static void seg_add(struct cstream *cs, enum seg_kind kind, const void *p, size_t len)
{
	if (len == 0)
		return;
	cs->seg[cs->nseg].kind = kind;
	cs->seg[cs->nseg].p = p;
	cs->seg[cs->nseg].len = len;
	cs->nseg++;
}

/* Appends printf output to cs->text and queues it. Returns -EOVERFLOW if it does not fit. */
static int __attribute__((format(printf, 2, 3)))
seg_printf(struct cstream *cs, const char *fmt, ...)
{
	size_t room = sizeof(cs->text) - cs->text_len;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(cs->text + cs->text_len, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room)
		return -EOVERFLOW;
	seg_add(cs, SEG_TEXT, cs->text + cs->text_len, (size_t)n);
	cs->text_len += (size_t)n;
	return 0;
}

static void segs_reset(struct cstream *cs)
{
	cs->nseg = 0;
	cs->cur = 0;
	cs->off = 0;
	cs->text_len = 0;
}

/* Copies queued output into @buf; returns the bytes written. */
static size_t segs_emit(struct cstream *cs, char *buf, size_t max)
{
	static const char digits[] = "0123456789abcdef";
	size_t n = 0;

	while (n < max && cs->cur < cs->nseg) {
		const struct seg *sg = &cs->seg[cs->cur];
		size_t total = sg->kind == SEG_HEX ? sg->len * 2 : sg->len;
		size_t k = total - cs->off < max - n ? total - cs->off : max - n;

		if (sg->kind == SEG_HEX) {
			for (size_t i = 0; i < k; i++) {
				size_t h = cs->off + i;
				uint8_t b = sg->p[h / 2];

				buf[n + i] = digits[h % 2 ? b & 15 : b >> 4];
			}
		} else {
			memcpy(buf + n, sg->p + cs->off, k);
		}
		n += k;
		cs->off += k;
		if (cs->off == total) {
			cs->cur++;
			cs->off = 0;
		}
	}
	return n;
}

/* Keeps a copy of @rec: the ring may evict it before it is all sent. */
static int record_copy(struct cstream *cs, const struct capture_record *rec)
{
	if (rec->caplen > cs->copy_cap) {
		uint8_t *c = realloc(cs->copy, rec->caplen);

		if (!c)
			return -ENOMEM;
		cs->copy = c;
		cs->copy_cap = rec->caplen;
	}
	memcpy(cs->copy, rec->data, rec->caplen);
	capture_record_info(rec, &cs->fi);
	return 0;
}

/*
 * A JSON record: the members but the hex strings go through jansson (a
 * record without its bytes is small), the hex strings are written from the
 * copy as they are sent.
 */
static int record_json_segs(struct cstream *cs, const struct capture_record *rec)
{
	json_t *o = json_object(), *h = frame_headers_json(&cs->fi, cs->copy, 0);
	bool has_payload = json_object_get(h, "payload") != NULL;
	size_t off = cs->fi.payload_off, plen = cs->fi.payload_len, n;

	/* The payload as the protocol sees it, cut where the capture was. */
	if (off > rec->caplen)
		plen = 0;
	else if (off + plen > rec->caplen)
		plen = rec->caplen - off;
	json_object_del(h, "payload");
	json_object_del(h, "payload_length");
	json_object_set_new(o, "seq", json_integer((json_int_t)rec->seq));
	json_object_set_new(o, "time", json_time(rec->ts));
	json_object_set_new(o, "binding", json_integer(rec->binding_id));
	json_object_set_new(o, "len", json_integer(rec->len));
	json_object_set_new(o, "caplen", json_integer(rec->caplen));
	json_object_set_new(o, "headers", h);
	if (!cs->first)
		cs->text[cs->text_len++] = ',';
	n = json_dumpb(o, cs->text + cs->text_len, sizeof(cs->text) - cs->text_len - 1,
		       JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	/* The dump ends in "}}": the headers object and the record stay open. */
	if (n < 2 || cs->text_len + n >= sizeof(cs->text) - 1)
		return n ? -EOVERFLOW : -ENOMEM;
	seg_add(cs, SEG_TEXT, cs->text, cs->text_len + n - 2);
	cs->text_len += n;
	if (has_payload) {
		if (seg_printf(cs, ",\"payload\":\"") < 0)
			return -EOVERFLOW;
		seg_add(cs, SEG_HEX, cs->copy + (off > rec->caplen ? 0 : off), plen);
		if (seg_printf(cs, "\",\"payload_length\":%zu", (size_t)cs->fi.payload_len) < 0)
			return -EOVERFLOW;
	}
	if (seg_printf(cs, "},\"data\":\"") < 0)
		return -EOVERFLOW;
	seg_add(cs, SEG_HEX, cs->copy, rec->caplen);
	return seg_printf(cs, "\"}");
}

static int record_pcap_segs(struct cstream *cs, const struct capture_record *rec)
{
	uint32_t incl = capture_pcap_record_header(rec, cs->skip, (uint8_t *)cs->text);

	cs->text_len = PCAP_REC_HDR;
	seg_add(cs, SEG_BYTES, cs->text, PCAP_REC_HDR);
	seg_add(cs, SEG_BYTES, cs->copy + (rec->caplen - incl), incl);
	return 0;
}

static int cstream_finish(struct cstream *cs, const char *stop)
{
	cs->done = true;
	cs->stop = stop;
	if (cs->pcap)
		return 0;
	return seg_printf(cs,
			  "],\"next_after\":%llu,\"oldest_seq\":%llu,\"newest_seq\":%llu,"
			  "\"generation\":%llu,\"stop\":\"%s\"}",
			  (unsigned long long)cs->last, (unsigned long long)cs->oldest_seq,
			  (unsigned long long)cs->newest_seq, (unsigned long long)cs->generation,
			  stop);
}

/*
 * Queues the next record's output, or the closing output. Returns 0, or
 * -EAGAIN after STREAM_SCAN_MAX records of other bindings (the rest waits
 * for the next call), or -errno.
 */
static int cstream_step(struct cstream *cs)
{
	struct capture_ring *ring = cstream_ring(cs);
	struct capture_record rec;
	int ret;

	segs_reset(cs);
	if (!ring && cs->next <= cs->end)
		return cstream_finish(cs, "removed");
	if (!cs->pcap && cs->left == 0)
		return cstream_finish(cs, "limit");
	if (!cs->pcap && !cs->first && cs->sent >= PAGE_BYTES)
		return cstream_finish(cs, "bytes");
	for (unsigned scanned = 0; scanned < STREAM_SCAN_MAX; scanned++) {
		if (cs->next > cs->end && cs->waiting && cs->first && !cs->expired) {
			struct capture_stats st;

			/* The port (and its ring) went while the poll waited. */
			if (!ring)
				return cstream_finish(cs, "removed");
			/* A long poll with nothing yet: what came since, or wait for it. */
			capture_ring_stats(ring, &st);
			cs->end = st.newest_seq;
			if (cs->next > cs->end) {
				capture_ring_watch(ring, &cs->w);
				return RESPONSE_WAIT;
			}
			cs->newest_seq = st.newest_seq;
			cs->oldest_seq = st.oldest_seq;
		}
		if (cs->next > cs->end)
			return cstream_finish(cs, "newest");
		ret = capture_ring_get(ring, cs->next, &rec);
		if (ret < 0)
			return cstream_finish(cs, "evicted");
		cs->next++;
		if (cs->binding && rec.binding_id != cs->binding)
			continue;
		ret = record_copy(cs, &rec);
		if (ret == 0)
			ret = cs->pcap ? record_pcap_segs(cs, &rec) : record_json_segs(cs, &rec);
		if (ret < 0)
			return ret;
		cs->first = false;
		cs->last = rec.seq;
		cs->left--;
		return 0;
	}
	return -EAGAIN;
}

static ssize_t cstream_read(void *ctx, char *buf, size_t max)
{
	struct cstream *cs = ctx;
	size_t n = 0;
	int ret;

	/* The loop waits while a call runs: keep each one well under a millisecond. */
	if (max > STREAM_CALL_MAX)
		max = STREAM_CALL_MAX;
	while (n < max) {
		if (cs->cur < cs->nseg) {
			n += segs_emit(cs, buf + n, max - n);
			continue;
		}
		if (cs->done)
			break;
		ret = cstream_step(cs);
		if (ret == -EAGAIN)
			break;
		if (ret == RESPONSE_WAIT) {
			if (n)
				break;
			return RESPONSE_WAIT;
		}
		if (ret < 0) {
			log_warn("captures of %s: the stream stopped: %s", cs->port,
				 strerror(-ret));
			return ret;
		}
	}
	cs->sent += n;
	if (n)
		return (ssize_t)n;
	return cs->done ? 0 : -EAGAIN;
}

/* A stream of @p's ring from the record after @after; the first output is queued. */
static struct cstream *cstream_new(struct api *api, const struct port *p, bool pcap, uint64_t after,
				   uint32_t binding)
{
	struct capture_ring *ring = stack_ring(portset_stack(api->cfg.ports, p));
	struct capture_stats st = { 0 };
	struct cstream *cs = calloc(1, sizeof(*cs));
	uint64_t start;

	if (!cs)
		return NULL;
	if (ring)
		capture_ring_stats(ring, &st);
	cs->api = api;
	snprintf(cs->port, sizeof(cs->port), "%s", port_name(p));
	cs->ring_id = ring ? capture_ring_id(ring) : 0;
	cs->pcap = pcap;
	cs->binding = binding;
	cs->first = true;
	cs->last = after;
	cs->oldest_seq = st.oldest_seq;
	cs->newest_seq = st.newest_seq;
	cs->generation = ring ? capture_ring_generation(ring) : 0;
	cs->end = st.newest_seq;
	/* After a clear the ring is empty and its next record is newest + 1. */
	start = st.records ? st.oldest_seq : st.newest_seq + 1;
	cs->next = after + 1 > start ? after + 1 : start;
	if (pcap) {
		enum frame_link link = port_frame_link(p);

		cs->skip = link == LINK_IP_PI ? PI_HDR_LEN : 0;
		capture_pcap_file_header((uint8_t *)cs->text, link == LINK_ETHERNET
								      ? PCAP_LINKTYPE_ETHERNET
								      : PCAP_LINKTYPE_RAW);
		cs->text_len = PCAP_FILE_HDR;
		seg_add(cs, SEG_BYTES, cs->text, PCAP_FILE_HDR);
	} else {
		seg_printf(cs, "{\"records\":[");
	}
	return cs;
}

static int reply_stream(struct response *rs, struct cstream *cs, const char *content_type,
			struct fault *f)
{
	if (!cs)
		return fault_set(f, FAULT_UNAVAILABLE, ENOMEM, NULL,
				 "out of memory starting the response");
	rs->status = 200;
	rs->content_type = content_type;
	rs->read = cstream_read;
	rs->read_ctx = cs;
	rs->read_free = cstream_free;
	return 0;
}

static void cstream_notify(struct capture_watcher *w)
{
	struct cstream *cs = (struct cstream *)((char *)w - offsetof(struct cstream, w));

	if (cs->wake)
		response_wake(cs->wake);
}

static void cstream_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct cstream *cs = arg;

	(void)fd;
	(void)what;
	cs->expired = true;
	if (cs->wake)
		response_wake(cs->wake);
}

static void cstream_attach(void *ctx, struct response_wake *w)
{
	((struct cstream *)ctx)->wake = w;
}

/*
 * Cursors hold within one generation of the ring (capture.h): a client's
 * ?generation= that is not the ring's, or an ?after= beyond the newest
 * record (the ring was made again, paird restarted), is refused with a 409
 * that says which and gives the ring's figures to start over from, instead
 * of an empty page after which the client would skip records. Returns true
 * when @rs holds the refusal.
 */
static bool cursor_refused(struct request *rq, const struct capture_ring *ring, uint64_t after,
			   struct response *rs, struct fault *f, int *ret)
{
	const char *g = rq->query ? rq->query(rq->lookup_ctx, "generation") : NULL;
	struct capture_stats st = { 0 };
	uint64_t gen = ring ? capture_ring_generation(ring) : 0, want = 0;
	char detail[200];
	json_t *ext;

	*ret = 0;
	if (ring)
		capture_ring_stats(ring, &st);
	if (g && query_u64(rq, "generation", 0, INT64_MAX, &want, f) < 0) {
		*ret = -1;
		return true;
	}
	if (g && want != gen)
		snprintf(detail, sizeof(detail),
			 "the cursor is from generation %llu of the capture ring, which is now at "
			 "generation %llu (cleared, made again or paird restarted): start over "
			 "without after",
			 (unsigned long long)want, (unsigned long long)gen);
	else if (after > st.newest_seq)
		snprintf(detail, sizeof(detail),
			 "after=%llu is beyond the newest record (%llu): the cursor is not from "
			 "this ring (made again, or paird restarted); start over without after",
			 (unsigned long long)after, (unsigned long long)st.newest_seq);
	else
		return false;
	ext = json_object();
	json_object_set_new(ext, "generation", json_integer((json_int_t)gen));
	json_object_set_new(ext, "newest_seq", json_integer((json_int_t)st.newest_seq));
	reply_problem_ext(rs, 409, g && want != gen ? "cursor-generation" : "cursor-ahead", detail,
			  rq->path, ext);
	return true;
}

int h_captures_get(struct api *api, struct request *rq, struct response *rs, struct fault *f)
{
	struct port *p = api_find_port(api, rq, f);
	uint64_t after = 0, limit = PAGE_DEFAULT, binding = 0, wait = 0;
	struct capture_stats st = { 0 };
	struct capture_ring *ring;
	struct cstream *cs;
	int ret;

	if (!p)
		return -1;
	if (query_u64(rq, "after", 0, INT64_MAX, &after, f) < 0 ||
	    query_u64(rq, "limit", 1, PAGE_MAX, &limit, f) < 0 ||
	    query_u64(rq, "binding", 1, UINT32_MAX, &binding, f) < 0 ||
	    query_u64(rq, "wait", 0, WAIT_MAX, &wait, f) < 0)
		return -1;
	ring = stack_ring(portset_stack(api->cfg.ports, p));
	if (ring)
		capture_ring_stats(ring, &st);
	if (cursor_refused(rq, ring, after, rs, f, &ret))
		return ret;
	/*
	 * Only a cursor the client holds can fall off the ring; without one the
	 * page starts at the oldest record, else a full ring (its steady state)
	 * would answer every plain GET with 410.
	 */
	if (rq->query && rq->query(rq->lookup_ctx, "after") && after < st.evicted_upto) {
		char detail[200];
		json_t *ext = json_object();

		snprintf(detail, sizeof(detail),
			 "records after %llu were evicted from the ring; the oldest retained is "
			 "%llu",
			 (unsigned long long)after,
			 (unsigned long long)(st.records ? st.oldest_seq : st.newest_seq + 1));
		/* After a clear the ring may be empty: the next record is the one to wait for. */
		json_object_set_new(
			ext, "oldest_seq",
			json_integer((json_int_t)(st.records ? st.oldest_seq : st.newest_seq + 1)));
		reply_problem_ext(rs, 410, "gone", detail, rq->path, ext);
		return 0;
	}
	cs = cstream_new(api, p, false, after, (uint32_t)binding);
	if (cs)
		cs->left = limit;
	ret = reply_stream(rs, cs, "application/json", f);
	/* A long poll needs a ring to wait on; without one the empty page is the answer. */
	if (ret == 0 && cs && wait && ring) {
		cs->waiting = true;
		cs->w.notify = cstream_notify;
		rs->long_lived = true;
		rs->attach_wake = cstream_attach;
		if (api->cfg.base) {
			struct timeval tv = { .tv_sec = (time_t)wait };

			cs->timer = evtimer_new(api->cfg.base, cstream_deadline, cs);
			if (!cs->timer || evtimer_add(cs->timer, &tv) < 0)
				cs->expired = true; /* cannot wait: answer now */
		}
	}
	return ret;
}

/* ?follow=true|false (also 1|0); absent: false. */
static int query_bool(const struct request *rq, const char *name, bool *out, struct fault *f)
{
	const char *v = rq->query ? rq->query(rq->lookup_ctx, name) : NULL;

	if (!v)
		return 0;
	if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
		*out = true;
	else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
		*out = false;
	else
		return fault_set(f, FAULT_QUERY, 0, name,
				 "query parameter %s must be true or false", name);
	return 0;
}

/*
 * ?filter=EXPR and ?snaplen=N: the stream's own capture (follow.c), for a
 * stream that follows only. 0, or -1 with @f filled.
 */
static int own_capture_opts(const struct request *rq, struct follow_opts *o, struct fault *f)
{
	const char *filter = rq->query ? rq->query(rq->lookup_ctx, "filter") : NULL;
	uint64_t snaplen = 0;

	if (query_u64(rq, "snaplen", 1, CAPTURE_SNAPLEN_MAX, &snaplen, f) < 0)
		return -1;
	if (filter && (!*filter || strlen(filter) >= CAPTURE_FILTER_MAX))
		return fault_set(f, FAULT_QUERY, 0, "filter",
				 "query parameter filter must be 1..%d bytes of tcpdump syntax",
				 CAPTURE_FILTER_MAX - 1);
	o->filter = filter;
	o->snaplen = (uint32_t)snaplen;
	if ((filter || snaplen) && !o->follow)
		return fault_set(f, FAULT_QUERY, 0, filter ? "filter" : "snaplen",
				 "filter and snaplen make a capture of the stream's own: they need "
				 "follow=true");
	return 0;
}

/* A follow stream needs a ring to follow: one made by a capture binding. */
static int need_ring(struct api *api, struct port *p, struct fault *f)
{
	if (stack_ring(portset_stack(api->cfg.ports, p)))
		return 0;
	return fault_set(f, FAULT_CONFLICT, 0, NULL,
			 "port %s has no capture ring to follow: bind a capture handler first",
			 port_name(p));
}

/* captures.pcap and captures.pcapng of one port (@pcapng: asked by path or Accept). */
static int captures_file(struct api *api, struct request *rq, struct response *rs, struct fault *f,
			 bool pcapng)
{
	struct port *p = api_find_port(api, rq, f);
	struct follow_opts o = { .pcapng = pcapng };
	uint64_t binding = 0, after = 0;
	struct capture_ring *ring;
	int ret;

	if (!p)
		return -1;
	if (query_u64(rq, "binding", 1, UINT32_MAX, &binding, f) < 0 ||
	    query_u64(rq, "after", 0, INT64_MAX, &after, f) < 0 ||
	    query_bool(rq, "follow", &o.follow, f) < 0 || own_capture_opts(rq, &o, f) < 0)
		return -1;
	ring = stack_ring(portset_stack(api->cfg.ports, p));
	if (!o.filter && !o.snaplen) {
		if (cursor_refused(rq, ring, after, rs, f, &ret))
			return ret;
		if (o.follow && need_ring(api, p, f) < 0)
			return -1;
	}
	o.after = after;
	o.binding = (uint32_t)binding;
	if (o.follow || o.pcapng || after) {
		ret = follow_reply(api, rq, &p, 1, &o, rs, f);
	} else {
		/* No ring yet: a capture file with no records is still a valid one. */
		ret = reply_stream(rs, cstream_new(api, p, true, 0, (uint32_t)binding),
				   "application/vnd.tcpdump.pcap", f);
	}
	if (ret == 0 && rs->read) /* not on a 503 for want of a stream slot */
		response_header(rs, "Content-Disposition", "attachment; filename=\"%s.%s\"",
				port_name(p), pcapng ? "pcapng" : "pcap");
	return ret;
}

int h_captures_pcap(struct api *api, struct request *rq, struct response *rs, struct fault *f)
{
	const char *accept = rq->header ? rq->header(rq->lookup_ctx, "Accept") : NULL;

	/* Wireshark's own format when the client says it takes it (and not pcap first). */
	return captures_file(api, rq, rs, f,
			     accept && strstr(accept, "application/x-pcapng") &&
				     !strstr(accept, "application/vnd.tcpdump.pcap"));
}

int h_captures_pcapng(struct api *api, struct request *rq, struct response *rs, struct fault *f)
{
	return captures_file(api, rq, rs, f, true);
}

/* GET /api/v1/captures.pcapng?ports=a,b[&follow=true]: one file, one interface per port. */
int h_all_captures_pcapng(struct api *api, struct request *rq, struct response *rs, struct fault *f)
{
	const char *list = rq->query ? rq->query(rq->lookup_ctx, "ports") : NULL;
	struct follow_opts o = { .pcapng = true };
	struct port *ports[FOLLOW_PORTS_MAX];
	unsigned n = 0;

	if (query_bool(rq, "follow", &o.follow, f) < 0 || own_capture_opts(rq, &o, f) < 0)
		return -1;
	if (!list || !*list)
		return fault_set(f, FAULT_QUERY, 0, "ports",
				 "query parameter ports names the ports, comma-separated");
	while (*list) {
		const char *comma = strchr(list, ',');
		size_t len = comma ? (size_t)(comma - list) : strlen(list);
		char name[PORT_NAME_MAX + 1];

		if (n == FOLLOW_PORTS_MAX)
			return fault_set(f, FAULT_QUERY, 0, "ports",
					 "at most %d ports in one capture stream",
					 FOLLOW_PORTS_MAX);
		if (len == 0 || len > PORT_NAME_MAX)
			return fault_set(f, FAULT_QUERY, 0, "ports",
					 "query parameter ports holds an empty or too long name");
		memcpy(name, list, len);
		name[len] = '\0';
		ports[n] = portset_find(api->cfg.ports, name);
		if (!ports[n])
			return fault_set(f, FAULT_NOT_FOUND, 0, "ports", "no port named %.15s",
					 name);
		for (unsigned i = 0; i < n; i++)
			if (ports[i] == ports[n])
				return fault_set(f, FAULT_QUERY, 0, "ports",
						 "port %s is named twice", name);
		if (o.follow && !o.filter && !o.snaplen && need_ring(api, ports[n], f) < 0)
			return -1;
		n++;
		list += len + (comma ? 1 : 0);
		if (comma && !*list)
			return fault_set(f, FAULT_QUERY, 0, "ports",
					 "query parameter ports ends in a comma");
	}
	return follow_reply(api, rq, ports, n, &o, rs, f);
}

int h_captures_delete(struct api *api, struct request *rq, struct response *rs, struct fault *f)
{
	struct port *p = api_find_port(api, rq, f);
	struct capture_ring *ring;

	if (!p)
		return -1;
	ring = stack_ring(portset_stack(api->cfg.ports, p));
	if (ring)
		capture_ring_clear(ring);
	reply_empty(rs, 204);
	return 0;
}
