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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../service/capture.h"
#include "../service/portset.h"
#include "../service/stack.h"
#include "internal.h"

#define PAGE_DEFAULT 100
#define PAGE_MAX     1000

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
	json_object_set_new(o, "checksum_status",
			    json_string(csum_words[fi->ip4.checksum_status]));
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
	if (fi->l3 == L3_ARP)
		json_object_set_new(o, "arp", arp_json(fi));
	if (fi->l3 == L3_IPV4)
		json_object_set_new(o, "ipv4", ipv4_json(fi));
	if (fi->l3 == L3_IPV6)
		json_object_set_new(o, "ipv6", ipv6_json(fi));
	if (fi->has_ip_protocol) {
		json_object_set_new(o, "ip_protocol", json_integer(fi->ip_protocol));
		json_object_set_new(o, "fragment", json_boolean(fi->fragment));
	}
	if (fi->l4 == L4_UDP) {
		l4 = json_object();
		json_object_set_new(l4, "src_port", json_integer(fi->udp.sport));
		json_object_set_new(l4, "dst_port", json_integer(fi->udp.dport));
		json_object_set_new(l4, "length", json_integer(fi->udp.length));
		json_object_set_new(l4, "checksum", json_integer(fi->udp.checksum));
		json_object_set_new(l4, "checksum_status",
				    json_string(csum_words[fi->udp.checksum_status]));
		json_object_set_new(o, "udp", l4);
	}
	if (fi->l4 == L4_ICMP || fi->l4 == L4_ICMPV6) {
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
		json_object_set_new(o, "payload", json_hex_bytes(data + (off > caplen ? 0 : off), n));
		json_object_set_new(o, "payload_length", json_integer((json_int_t)fi->payload_len));
	}
	return o;
}

static json_t *record_json(const struct capture_record *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "seq", json_integer((json_int_t)r->seq));
	json_object_set_new(o, "time", json_time(r->ts));
	json_object_set_new(o, "binding", json_integer(r->binding_id));
	json_object_set_new(o, "len", json_integer(r->len));
	json_object_set_new(o, "caplen", json_integer(r->caplen));
	json_object_set_new(o, "headers", frame_headers_json(r->fi, r->data, r->caplen));
	json_object_set_new(o, "data", json_hex_bytes(r->data, r->caplen));
	return o;
}

/* An unsigned decimal query parameter in [min, max]; absent leaves *out. */
static int query_u64(const struct request *rq, const char *name, uint64_t min, uint64_t max,
		     uint64_t *out, struct fault *f)
{
	const char *v = rq->query ? rq->query(rq->lookup_ctx, name) : NULL;
	uint64_t n = 0;
	const char *p;

	if (!v)
		return 0;
	for (p = v; *p; p++) {
		if (*p < '0' || *p > '9' || p - v >= 20 ||
		    n > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return fault_set(f, FAULT_QUERY, 0, name,
					 "query parameter %s must be a decimal integer %llu..%llu",
					 name, (unsigned long long)min, (unsigned long long)max);
		n = n * 10 + (uint64_t)(*p - '0');
	}
	if (p == v || n < min || n > max)
		return fault_set(f, FAULT_QUERY, 0, name,
				 "query parameter %s must be a decimal integer %llu..%llu", name,
				 (unsigned long long)min, (unsigned long long)max);
	*out = n;
	return 0;
}

int h_captures_get(struct api *api, struct request *rq, struct response *rs, struct fault *f)
{
	struct port *p = api_find_port(api, rq, f);
	uint64_t after = 0, limit = PAGE_DEFAULT, binding = 0, last;
	struct capture_stats st = { 0 };
	struct capture_ring *ring;
	struct capture_record rec;
	json_t *o, *arr;

	if (!p)
		return -1;
	if (query_u64(rq, "after", 0, INT64_MAX, &after, f) < 0 ||
	    query_u64(rq, "limit", 1, PAGE_MAX, &limit, f) < 0 ||
	    query_u64(rq, "binding", 1, UINT32_MAX, &binding, f) < 0)
		return -1;
	ring = stack_ring(portset_stack(api->cfg.ports, p));
	if (ring)
		capture_ring_stats(ring, &st);
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
		json_object_set_new(ext, "oldest_seq",
				    json_integer((json_int_t)(st.records ? st.oldest_seq
									 : st.newest_seq + 1)));
		reply_problem_ext(rs, 410, "gone", detail, rq->path, ext);
		return 0;
	}
	arr = json_array();
	last = after;
	while (ring && json_array_size(arr) < limit &&
	       capture_ring_next(ring, last, (uint32_t)binding, &rec)) {
		json_array_append_new(arr, record_json(&rec));
		last = rec.seq;
	}
	o = json_object();
	json_object_set_new(o, "records", arr);
	json_object_set_new(o, "next_after", json_integer((json_int_t)last));
	json_object_set_new(o, "oldest_seq", json_integer((json_int_t)st.oldest_seq));
	json_object_set_new(o, "newest_seq", json_integer((json_int_t)st.newest_seq));
	return reply_json(rs, 200, o);
}

int h_captures_pcap(struct api *api, struct request *rq, struct response *rs, struct fault *f)
{
	struct port *p = api_find_port(api, rq, f);
	struct capture_ring *ring;
	uint64_t binding = 0;
	enum frame_link link;
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret;

	if (!p)
		return -1;
	if (query_u64(rq, "binding", 1, UINT32_MAX, &binding, f) < 0)
		return -1;
	ring = stack_ring(portset_stack(api->cfg.ports, p));
	link = port_frame_link(p);
	/* No ring yet: a capture file with no records is still a valid one. */
	ret = capture_ring_pcap(ring, (uint32_t)binding,
				link == LINK_ETHERNET ? PCAP_LINKTYPE_ETHERNET : PCAP_LINKTYPE_RAW,
				link == LINK_IP_PI ? 4 : 0, &buf, &len);
	if (ret < 0)
		return fault_set(f, FAULT_UNAVAILABLE, ENOMEM, NULL,
				 "out of memory building the pcap file");
	rs->status = 200;
	rs->body = (char *)buf;
	rs->len = len;
	rs->content_type = "application/vnd.tcpdump.pcap";
	response_header(rs, "Content-Disposition", "attachment; filename=\"%s.pcap\"",
			port_name(p));
	return 0;
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
