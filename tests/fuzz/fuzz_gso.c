// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the GSO segmenter (service/gso.c). An input is one
 * byte choosing the link (tap, tun, tun with packet information), a
 * virtio-net header as tun writes it, and the frame. The frame is a heap
 * copy of exactly its size, so ASan sees a byte read or written past it.
 * What gso_begin() accepts must hold together: at most GSO_SEGS_MAX
 * segments, each inside the frame (they are built there), their payloads adding up to the super-frame's, every IPv4
 * header checksum and every TCP or UDP checksum good (a strict parse finds
 * nothing wrong with a UDP segment), and a completed partial checksum
 * written in its field alone. The same segments with gso_leave_l4_csum()
 * differ in the TCP or UDP checksum field alone. A violation aborts. Built and run by
 * `make fuzz`, seeded by tests/fuzz/seeds.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../service/csum.h"
#include "../../service/gso.h"
#include "../../service/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BAD(...)                                           \
	do {                                               \
		fprintf(stderr, "fuzz_gso: " __VA_ARGS__); \
		abort();                                   \
	} while (0)

/* The TCP or UDP checksum of a segment, verified over the pseudo-header. */
static void check_l4(const struct gso_iter *it, const uint8_t *seg, size_t len)
{
	const uint8_t *ip = seg + it->l3;
	size_t l4len = len - it->l4;
	uint32_t sum = it->v6 ? csum_pseudo6(ip + 8, ip + 24, it->kind, (uint32_t)l4len)
			      : csum_pseudo4(ip + 12, ip + 16, it->kind, (uint32_t)l4len);

	if (csum_fold(csum_add(sum, seg + it->l4, l4len)) != 0)
		BAD("segment %u: bad %s checksum\n", it->i, it->kind == 6 ? "TCP" : "UDP");
	if (!it->v6 && csum_fold(csum_add(0, ip, it->l4 - it->l3)) != 0)
		BAD("segment %u: bad IPv4 header checksum\n", it->i);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum frame_link links[] = { LINK_ETHERNET, LINK_IP, LINK_IP_PI };
	enum frame_link link;
	size_t len, m, payload = 0, want;
	const uint8_t *seg, *seg2;
	struct gso_iter it, it2;
	struct gso_hdr h;
	uint8_t *frame, *frame2;
	unsigned n = 0;

	if (size < 1 + GSO_VNET_HDR_LEN)
		return 0;
	link = links[data[0] % 3];
	if (!gso_hdr_read(data + 1, size - 1, &h))
		BAD("a header of %zu bytes not read\n", size - 1);
	len = size - 1 - GSO_VNET_HDR_LEN;
	frame = malloc(len ? len : 1);
	frame2 = malloc(len ? len : 1);
	if (!frame || !frame2)
		abort();
	memcpy(frame, data + 1 + GSO_VNET_HDR_LEN, len);
	memcpy(frame2, frame, len);
	if (gso_begin(&it, &h, frame, len, link) < 0)
		goto out;
	/* A second copy, cut leaving the checksums: in step with the first. */
	if (gso_begin(&it2, &h, frame2, len, link) < 0)
		BAD("the same super-frame refused the second time\n");
	gso_leave_l4_csum(&it2);
	if (gso_count(&it) > GSO_SEGS_MAX)
		BAD("%u segments\n", gso_count(&it));
	want = it.kind ? it.end - it.hlen : 0;
	if (!it.kind && (h.flags & GSO_F_NEEDS_CSUM)) {
		/* The field now holds the checksum of the original bytes; nothing else moved. */
		const uint8_t *orig = data + 1 + GSO_VNET_HDR_LEN;
		size_t cs = (link == LINK_IP_PI ? PI_HDR_LEN : 0) + h.csum_start;
		size_t at = cs + h.csum_offset;
		uint16_t v = csum_fold(csum_add(0, orig + cs, len - cs));

		v = v ? v : 0xffff;
		if (frame[at] != v >> 8 || frame[at + 1] != (v & 0xff) ||
		    memcmp(frame, orig, at) != 0 ||
		    memcmp(frame + at + 2, orig + at + 2, len - at - 2))
			BAD("the partial checksum was not completed in its field alone\n");
	}
	while ((m = gso_next(&it, &seg)) > 0) {
		size_t at = it.l4 + (it.kind == 6 ? 16 : 6);

		n++;
		if (gso_next(&it2, &seg2) != m)
			BAD("segment %u: another length when leaving checksums\n", n);
		if (it.kind && (memcmp(seg, seg2, at) != 0 ||
				memcmp(seg + at + 2, seg2 + at + 2, m - at - 2) != 0))
			BAD("segment %u: leaving checksums changed more than them\n", n);
		if (m > gso_seg_max(&it))
			BAD("segment %u: %zu bytes, longer than the longest announced\n", n, m);
		if (!it.kind) {
			if (seg != frame || m != len)
				BAD("a frame passed through changed\n");
			continue;
		}
		if (seg < frame || m > len - (size_t)(seg - frame) || m <= it.hlen)
			BAD("segment %u: %zu bytes at %td of a frame of %zu\n", n, m, seg - frame,
			    len);
		payload += m - it.hlen;
		check_l4(&it, seg, m);
		if (it.kind == 17) {
			struct frame_info fi;

			frame_parse(seg, m, link, PARSE_STRICT, &fi);
			if (fi.l4 == L4_UDP &&
			    (fi.malformed != MALFORMED_NONE || fi.udp.checksum_status != CSUM_OK ||
			     fi.udp.length != m - it.l4))
				BAD("segment %u: parsed as %s\n", n, malformed_name(fi.malformed));
		}
	}
	if (n != gso_count(&it) || payload != want)
		BAD("%u segments of %zu payload bytes, announced %u of %zu\n", n, payload,
		    gso_count(&it), want);
out:
	free(frame2);
	free(frame);
	return 0;
}
