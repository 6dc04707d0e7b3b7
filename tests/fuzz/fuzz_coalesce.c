// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the write coalescer (service/coalesce.c). An input
 * is a link byte, a family byte and steps of three bytes each: a frame
 * built from the step (UDP datagrams of one flow with the next IPv4
 * identification, or a jump, another port, a TTL, a corrupted byte, or raw
 * bytes from the input as the frame), written the way vnet.c writes
 * (vnet_write(), vnet_flush()). What comes out, each super-frame cut back
 * as the kernel cuts it (gso.c) and each plain frame taken as it is, must
 * be exactly the frames that went in, byte for byte and in order: a
 * coalescer that changed, dropped, reordered or invented a datagram
 * aborts. Every frame is a heap copy of exactly its size, so ASan sees a
 * byte read past it. Built and run by `make fuzz`, seeded by
 * tests/fuzz/seeds.sh; crash inputs are replayed by `make test`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../../service/build.h"
#include "../../service/coalesce.h"
#include "../../service/gso.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BAD(...)                                                \
	do {                                                    \
		fprintf(stderr, "fuzz_coalesce: " __VA_ARGS__); \
		abort();                                        \
	} while (0)

#define STEPS_MAX 160
#define FRAME_MAX 2048

struct expect {
	uint8_t *f[STEPS_MAX];
	size_t len[STEPS_MAX];
	unsigned n, seen;
};

/* One datagram that came out must be the next that went in. */
static void came_out(struct expect *e, const uint8_t *d, size_t len)
{
	if (e->seen >= e->n)
		BAD("datagram %u came out, only %u went in\n", e->seen, e->n);
	if (len != e->len[e->seen] || memcmp(d, e->f[e->seen], len) != 0)
		BAD("datagram %u: %zu bytes out, %zu in, or other bytes\n", e->seen, len,
		    e->len[e->seen]);
	e->seen++;
}

/* A write of @w bytes at @p on a port of @link: [pi][virtio-net header][frame]. */
static void written(struct expect *e, const uint8_t *p, size_t w, enum frame_link link)
{
	size_t pi = link == LINK_IP_PI ? PI_HDR_LEN : 0, m;
	uint8_t *buf = malloc(w);
	const uint8_t *seg;
	struct gso_iter it;
	struct gso_hdr h;

	if (!buf || w < pi + GSO_VNET_HDR_LEN || !gso_hdr_read(p + pi, w - pi, &h))
		BAD("a write of %zu bytes without its header\n", w);
	memcpy(buf, p, w);
	/* As vnet.c lays a read out: the packet information moved up against the frame. */
	memmove(buf + GSO_VNET_HDR_LEN, buf, pi);
	if (h.gso_type == GSO_TYPE_NONE) {
		if (h.flags)
			BAD("a plain write asks for a checksum\n");
		came_out(e, buf + GSO_VNET_HDR_LEN, w - GSO_VNET_HDR_LEN);
	} else {
		if (h.gso_type != GSO_TYPE_UDP_L4 ||
		    gso_begin(&it, &h, buf + GSO_VNET_HDR_LEN, w - GSO_VNET_HDR_LEN, link) < 0 ||
		    gso_count(&it) < 2 || gso_count(&it) > COALESCE_SEGS_MAX)
			BAD("a super-frame gso.c does not cut into 2 to %d\n", COALESCE_SEGS_MAX);
		while ((m = gso_next(&it, &seg)) > 0)
			came_out(e, seg, m);
	}
	free(buf);
}

static void take(struct coalesce *c, struct expect *e)
{
	const uint8_t *out;
	uint64_t bytes;
	unsigned n, before = e->seen;
	size_t w = coalesce_take(c, &out, &n, &bytes);

	if (w)
		written(e, out, w, c->link);
	if (e->seen - before != n)
		BAD("a take of %u datagrams gave %u\n", n, e->seen - before);
}

/* A step, [op][a][b], as a frame of @link into @buf; its length, 0 for none. */
static size_t step_frame(const uint8_t *s, enum frame_link link, int family, uint16_t *id,
			 const uint8_t *raw, size_t raw_len, uint8_t *buf)
{
	struct build_link l = { .link = link };
	struct build_ip ip = { .family = family };
	static const uint8_t payload[FRAME_MAX];
	size_t plen = ((size_t)s[2] << 8 | s[1]) % 1480;
	uint16_t dport = 9000;
	ssize_t n;

	switch (s[0] & 7) {
	case 4: /* the identification jumps */
		*id = (uint16_t)(*id + s[1]);
		break;
	case 5: /* another destination port */
		dport = (uint16_t)(9000 + (s[1] & 3));
		break;
	case 6: /* raw bytes as the frame */
		if (raw_len > FRAME_MAX)
			raw_len = FRAME_MAX;
		memcpy(buf, raw, raw_len);
		return raw_len;
	default:
		break;
	}
	memcpy(l.dst, "\x02\0\0\0\0\x01", 6);
	memcpy(l.src, "\x02\0\0\0\0\x02", 6);
	if (family == AF_INET) {
		memcpy(ip.src, "\xc6\x12\0\x01", 4);
		memcpy(ip.dst, "\xc6\x12\0\x02", 4);
	} else {
		memcpy(ip.src, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
		memcpy(ip.dst, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02", 16);
	}
	ip.id = (*id)++;
	if ((s[0] & 7) == 3)
		ip.ttl = s[1];
	n = build_udp(buf, FRAME_MAX, &l, &ip, 40000, dport, payload, plen);
	if (n <= 0)
		return 0;
	/* A corrupted byte somewhere: the frame must still come out as it went in. */
	if (s[0] & 8)
		buf[((size_t)s[1] * 7 + s[2]) % (size_t)n] ^= (uint8_t)(s[0] | 1);
	return (size_t)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum frame_link links[] = { LINK_ETHERNET, LINK_IP, LINK_IP_PI };
	static uint8_t frame[FRAME_MAX];
	struct expect e = { .n = 0 };
	struct coalesce c;
	enum frame_link link;
	uint16_t id;
	int family;
	uint8_t *buf;
	size_t at;

	if (size < 2)
		return 0;
	link = links[data[0] % 3];
	family = data[1] & 1 ? AF_INET6 : AF_INET;
	id = (uint16_t)(data[1] << 8);
	buf = malloc(COALESCE_BUF);
	if (!buf)
		return 0;
	coalesce_init(&c, buf, link);
	for (at = 2; at + 3 <= size && e.n < STEPS_MAX; at += 3) {
		const uint8_t *s = data + at;
		size_t rest = size - at - 3;
		size_t len =
			step_frame(s, link, family, &id, s + 3, s[1] < rest ? s[1] : rest, frame);

		if ((s[0] & 7) == 6)
			at += len;
		if (!len)
			continue;
		/* A heap copy of exactly its size. */
		e.f[e.n] = malloc(len);
		if (!e.f[e.n])
			break;
		memcpy(e.f[e.n], frame, len);
		e.len[e.n] = len;
		/* As vnet_write() does. */
		if (!coalesce_add(&c, e.f[e.n], len)) {
			take(&c, &e);
			/* What was held came out before this frame, which goes as it is or starts a run. */
			if (e.seen != e.n)
				BAD("%u datagrams held when frame %u was refused\n", e.n - e.seen,
				    e.n);
			if (c.startable) {
				coalesce_start(&c, e.f[e.n], len);
			} else {
				e.n++;
				e.seen++;
				continue;
			}
		}
		e.n++;
	}
	take(&c, &e);
	if (e.seen != e.n)
		BAD("%u datagrams went in, %u came out\n", e.n, e.seen);
	for (unsigned i = 0; i < e.n; i++)
		free(e.f[i]);
	free(buf);
	return 0;
}
