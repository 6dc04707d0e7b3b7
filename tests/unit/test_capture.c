// SPDX-License-Identifier: MIT
/*
 * Unit tests of service/capture.c and of the capture handler
 * (service/h_capture.c). Rings: budget accounting, add/next in order,
 * eviction under a long run of records of varied sizes against a model of
 * what must be retained (every byte checked), the no-wrap skip at the end
 * of the area, records that can never fit, the binding filter of next(),
 * clear, caplen < len, and the pcap output parsed back here and, when
 * installed, by tshark. The handler through its ops on a memory port:
 * option checks, libpcap's own words for a bad filter, "udp port 53"
 * against a UDP/53 and an ARP frame (also behind a tun's packet
 * information header), limit and snaplen.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../service/bindopts.h"
#include "../../service/capture.h"
#include "../../service/handler.h"
#include "../../service/port.h"
#include "../fakes/portio_mem.h"
#include "support.h"

#define TSHARK "/usr/bin/tshark"

/* --- helpers --- */

static void pattern(uint8_t *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed * 131u + i * 7u + (i >> 8));
}

static struct timespec ts_of(uint64_t n)
{
	struct timespec ts = { .tv_sec = 1700000000 + (time_t)n, .tv_nsec = (long)(n * 1000 + 7) };

	return ts;
}

static struct frame_info fi_of(uint64_t n)
{
	struct frame_info fi;

	memset(&fi, 0, sizeof(fi));
	fi.has_ethertype = true;
	fi.ethertype = (uint16_t)n;
	fi.l3_off = (size_t)n;
	return fi;
}

static struct capture_budget *budget(size_t bytes)
{
	struct capture_budget *b = capture_budget_new(bytes);

	assert_non_null(b);
	return b;
}

static struct capture_ring *ring(struct capture_budget *b, size_t bytes)
{
	struct fault f = FAULT_INIT;
	struct capture_ring *r = capture_ring_new(b, bytes, &f);

	if (!r)
		fail_msg("capture_ring_new(%zu): %s", bytes, f.detail);
	return r;
}

/* Adds a record of @len bytes patterned by @seed, keeping @caplen; returns its seq. */
static uint64_t add(struct capture_ring *r, uint32_t bid, uint32_t len, uint32_t caplen,
		    unsigned seed, uint64_t n)
{
	static uint8_t buf[PORT_FRAME_MAX];
	struct timespec ts = ts_of(n);
	struct frame_info fi = fi_of(n);

	assert_true(len <= sizeof(buf));
	pattern(buf, len, seed);
	return capture_ring_add(r, &ts, bid, buf, len, caplen, &fi);
}

static struct capture_stats stats(const struct capture_ring *r)
{
	struct capture_stats s;

	capture_ring_stats(r, &s);
	return s;
}

/* What a record must hold: the model of the ring's content. */
struct expect {
	uint32_t bid, len, caplen;
	unsigned seed;
};

static void check_record(const struct capture_record *rec, const struct expect *e)
{
	static uint8_t buf[PORT_FRAME_MAX];
	struct timespec ts = ts_of(rec->seq);
	struct frame_info fi = fi_of(rec->seq), want, got;

	assert_int_equal(rec->binding_id, e->bid);
	assert_int_equal(rec->len, e->len);
	assert_int_equal(rec->caplen, e->caplen);
	assert_int_equal(rec->ts.tv_sec, ts.tv_sec);
	assert_int_equal(rec->ts.tv_nsec, ts.tv_nsec);
	assert_int_equal((uintptr_t)rec->data % 8, 0);
	pattern(buf, e->caplen, e->seed);
	assert_memory_equal(rec->data, buf, e->caplen);
	/* A cut frame keeps the frame_info it came with; a whole one is parsed again. */
	if (e->caplen < e->len) {
		want = fi;
		assert_non_null(rec->kept);
	} else {
		frame_parse(buf, e->len, fi.link, fi.opts, &want);
		assert_null(rec->kept);
	}
	capture_record_info(rec, &got);
	assert_memory_equal(&got, &want, sizeof(got));
}

/* Walks the whole ring and checks every retained record against @model (indexed by seq). */
static void check_all(const struct capture_ring *r, const struct expect *model)
{
	struct capture_stats s = stats(r);
	struct capture_record rec;
	uint64_t after = 0, n = 0, bytes = 0;

	while (capture_ring_next(r, after, 0, &rec)) {
		assert_int_equal(rec.seq, n ? after + 1 : s.oldest_seq);
		check_record(&rec, &model[rec.seq]);
		bytes += rec.caplen;
		after = rec.seq;
		n++;
	}
	assert_int_equal(n, s.records);
	assert_int_equal(bytes, s.bytes);
	if (n)
		assert_int_equal(after, s.newest_seq);
}

static uint32_t rnd(uint32_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 17;
	*state ^= *state << 5;
	return *state;
}

/* --- the budget --- */

static void test_budget(void **state)
{
	struct capture_budget *b = budget(100000);
	struct fault f = FAULT_INIT;
	struct capture_ring *r1, *r2, *r3;

	(void)state;
	assert_int_equal(capture_budget_limit(b), 100000);
	assert_int_equal(capture_budget_used(b), 0);
	r1 = ring(b, 60000);
	assert_int_equal(capture_budget_used(b), 60000);
	assert_int_equal(stats(r1).capacity, 60000);

	errno = 0;
	r2 = capture_ring_new(b, 40001, &f);
	assert_null(r2);
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(f.kind, FAULT_LIMIT);
	assert_string_equal(f.field, ""); /* a server limit, not a request field */
	assert_int_equal(capture_budget_used(b), 60000);

	r2 = ring(b, 40000); /* exactly the rest */
	assert_int_equal(capture_budget_used(b), 100000);
	capture_ring_free(r1);
	assert_int_equal(capture_budget_used(b), 40000);
	r3 = ring(b, 60000);
	assert_int_equal(capture_budget_used(b), 100000);
	capture_ring_free(r2);
	capture_ring_free(r3);
	capture_ring_free(NULL);
	assert_int_equal(capture_budget_used(b), 0);
	capture_budget_free(b);
	capture_budget_free(NULL);
}

/* --- add, next, order --- */

static void test_add_next_order(void **state)
{
	struct capture_budget *b = budget(1 << 20);
	struct capture_ring *r = ring(b, 64 * 1024);
	struct expect model[11];
	struct capture_record rec;
	struct capture_stats s = stats(r);
	uint64_t bytes = 0;

	(void)state;
	assert_int_equal(s.records, 0);
	assert_int_equal(s.oldest_seq, 0);
	assert_int_equal(s.newest_seq, 0);
	assert_false(capture_ring_next(r, 0, 0, &rec));
	for (unsigned i = 1; i <= 10; i++) {
		model[i] = (struct expect){ .bid = 1, .len = i * 97, .caplen = i * 97, .seed = i };
		assert_int_equal(add(r, 1, i * 97, i * 97, i, i), i);
		bytes += i * 97;
	}
	s = stats(r);
	assert_int_equal(s.records, 10);
	assert_int_equal(s.bytes, bytes);
	assert_int_equal(s.oldest_seq, 1);
	assert_int_equal(s.newest_seq, 10);
	assert_int_equal(s.evictions, 0);
	assert_int_equal(s.evicted_upto, 0);
	assert_int_equal(s.dropped, 0);
	check_all(r, model);

	assert_true(capture_ring_next(r, 4, 0, &rec));
	assert_int_equal(rec.seq, 5);
	check_record(&rec, &model[5]);
	assert_true(capture_ring_next(r, 9, 0, &rec));
	assert_int_equal(rec.seq, 10);
	assert_false(capture_ring_next(r, 10, 0, &rec));
	assert_false(capture_ring_next(r, UINT64_MAX, 0, &rec));
	capture_ring_free(r);
	capture_budget_free(b);
}

/* --- eviction --- */

#define EVICT_RECORDS 6000

static void test_eviction(void **state)
{
	struct capture_budget *b = budget(1 << 20);
	struct capture_ring *r = ring(b, 48 * 1024);
	struct expect *model = calloc(EVICT_RECORDS + 1, sizeof(*model));
	uint32_t rs = 12345;
	uint64_t evicted_seen = 0;

	(void)state;
	assert_non_null(model);
	for (uint64_t i = 1; i <= EVICT_RECORDS; i++) {
		struct expect *e = &model[i];
		struct capture_stats s;
		uint64_t bytes = 0;

		e->bid = 1 + rnd(&rs) % 3;
		e->len = rnd(&rs) % 1600;
		e->caplen = rnd(&rs) % 4 ? e->len : e->len / 2;
		e->seed = (unsigned)i;
		assert_int_equal(add(r, e->bid, e->len, e->caplen, e->seed, i), i);

		s = stats(r);
		assert_int_equal(s.newest_seq, i);
		assert_int_equal(s.dropped, 0);
		assert_int_equal(s.records, s.newest_seq - s.oldest_seq + 1);
		/* Evictions take the oldest, in order, and nothing else was lost. */
		assert_int_equal(s.evictions, s.evicted_upto);
		assert_int_equal(s.oldest_seq, s.evicted_upto + 1);
		assert_true(s.evictions >= evicted_seen);
		evicted_seen = s.evictions;
		for (uint64_t q = s.oldest_seq; q <= s.newest_seq; q++)
			bytes += model[q].caplen;
		assert_int_equal(s.bytes, bytes);
		if (i % 61 == 0 || i == EVICT_RECORDS)
			check_all(r, model);
	}
	assert_true(evicted_seen > EVICT_RECORDS / 2);
	/*
	 * The ring is used, not wasted: retained records fill most of it (a
	 * 40-byte header each, and a frame_info kept with each cut frame).
	 */
	{
		struct capture_stats s = stats(r);
		uint64_t used = s.bytes + s.records * 40;

		for (uint64_t q = s.oldest_seq; q <= s.newest_seq; q++)
			if (model[q].caplen < model[q].len)
				used += sizeof(struct frame_info);

		assert_true(used >= s.capacity / 2);
		assert_true(used <= s.capacity);
	}
	free(model);
	capture_ring_free(r);
	capture_budget_free(b);
}

/* --- the no-wrap skip at the end of the area --- */

static const uint8_t *data_of(const struct capture_ring *r, uint64_t seq)
{
	struct capture_record rec;

	assert_true(capture_ring_next(r, seq - 1, 0, &rec));
	assert_int_equal(rec.seq, seq);
	return rec.data;
}

static void test_no_wrap_skip(void **state)
{
	struct capture_budget *b = budget(1 << 20);
	struct capture_ring *r = ring(b, 16 * 1024);
	struct expect model[200];
	const uint8_t *start, *p;
	size_t size;
	uint64_t k, n;

	(void)state;
	for (n = 1; n < 200; n++)
		model[n] =
			(struct expect){ .bid = 1, .len = 200, .caplen = 200, .seed = (unsigned)n };
	/* Fill with records of one size until the first eviction. */
	add(r, 1, 200, 200, 1, 1);
	add(r, 1, 200, 200, 2, 2);
	start = data_of(r, 1);
	size = (size_t)(data_of(r, 2) - start);
	assert_int_equal(size % 8, 0);
	assert_true(size >= 200);
	for (k = 3; stats(r).evictions == 0; k++) {
		assert_true(k < 200);
		add(r, 1, 200, 200, (unsigned)k, k);
		if (stats(r).evictions == 0)
			assert_ptr_equal(data_of(r, k), start + (k - 1) * size);
	}
	k--; /* the record that did not fit before the end */
	/* k - 1 records fit; the rest of the area (less than one record) was skipped. */
	assert_ptr_equal(data_of(r, k), start);
	assert_int_equal(stats(r).evictions, 1);
	assert_int_equal(stats(r).evicted_upto, 1);
	assert_int_equal(stats(r).oldest_seq, 2);
	check_all(r, model);

	/* A record three slots long after it evicts the three records in its way. */
	model[k + 1] = (struct expect){ .bid = 2,
					.len = 200 + 2 * (uint32_t)size,
					.caplen = 200 + 2 * (uint32_t)size,
					.seed = 999 };
	assert_int_equal(add(r, 2, model[k + 1].len, model[k + 1].caplen, 999, k + 1), k + 1);
	assert_ptr_equal(data_of(r, k + 1), start + size);
	assert_int_equal(stats(r).evictions, 4);
	assert_int_equal(stats(r).oldest_seq, 5);
	check_all(r, model);

	/* Round and round: no record ever lands in the skipped tail. */
	for (n = k + 2; n < 200; n++) {
		assert_int_equal(add(r, 1, 200, 200, (unsigned)n, n), n);
		p = data_of(r, n);
		assert_true(p >= start && p <= start + (k - 2) * size);
		assert_int_equal((size_t)(p - start) % size, 0);
		check_all(r, model);
	}
	capture_ring_free(r);
	capture_budget_free(b);
}

/* --- records that can never fit --- */

static void test_too_large(void **state)
{
	struct capture_budget *b = budget(1 << 20);
	struct capture_ring *r = ring(b, 4096);
	struct capture_ring *empty = ring(b, 0);
	struct capture_record rec;
	struct capture_stats s;

	(void)state;
	assert_int_equal(add(r, 1, 5000, 5000, 1, 1), 0);
	s = stats(r);
	assert_int_equal(s.dropped, 1);
	assert_int_equal(s.records, 0);
	assert_int_equal(s.newest_seq, 0); /* no seq is spent on a drop */
	assert_int_equal(s.evictions, 0);
	/* The same frame cut to a snaplen fits. */
	assert_int_equal(add(r, 1, 5000, 100, 1, 1), 1);
	assert_true(capture_ring_next(r, 0, 0, &rec));
	assert_int_equal(rec.len, 5000);
	assert_int_equal(rec.caplen, 100);
	/* A drop evicts nothing. */
	assert_int_equal(add(r, 1, 5000, 5000, 1, 2), 0);
	s = stats(r);
	assert_int_equal(s.dropped, 2);
	assert_int_equal(s.records, 1);
	assert_int_equal(s.oldest_seq, 1);

	assert_int_equal(add(empty, 1, 0, 0, 1, 1), 0);
	assert_int_equal(stats(empty).dropped, 1);
	assert_false(capture_ring_next(empty, 0, 0, &rec));
	capture_ring_free(empty);
	capture_ring_free(r);
	capture_budget_free(b);
}

/* --- next() by binding --- */

static void test_next_binding(void **state)
{
	struct capture_budget *b = budget(1 << 20);
	struct capture_ring *r = ring(b, 64 * 1024);
	struct capture_record rec;
	uint64_t after;
	unsigned n;

	(void)state;
	for (unsigned i = 1; i <= 30; i++)
		add(r, 1 + (i - 1) % 3, 50, 50, i, i); /* bindings 1, 2, 3, 1, 2, 3, ... */
	for (after = 0, n = 0; capture_ring_next(r, after, 2, &rec); after = rec.seq, n++) {
		assert_int_equal(rec.binding_id, 2);
		assert_int_equal(rec.seq, 2 + 3 * n);
	}
	assert_int_equal(n, 10);
	assert_true(capture_ring_next(r, 2, 2, &rec));
	assert_int_equal(rec.seq, 5);
	assert_true(capture_ring_next(r, 3, 1, &rec));
	assert_int_equal(rec.seq, 4);
	assert_false(capture_ring_next(r, 0, 9, &rec));
	assert_false(capture_ring_next(r, 28, 1, &rec));
	capture_ring_free(r);
	capture_budget_free(b);
}

/* --- clear --- */

static void test_clear(void **state)
{
	struct capture_budget *b = budget(1 << 20);
	struct capture_ring *r = ring(b, 64 * 1024);
	struct capture_record rec;
	struct capture_stats s;

	(void)state;
	for (unsigned i = 1; i <= 5; i++)
		add(r, 1, 100, 100, i, i);
	capture_ring_clear(r);
	s = stats(r);
	assert_int_equal(s.records, 0);
	assert_int_equal(s.bytes, 0);
	assert_int_equal(s.oldest_seq, 0);
	assert_int_equal(s.newest_seq, 5);
	assert_int_equal(s.evictions, 0);
	assert_int_equal(s.evicted_upto, 0);
	assert_false(capture_ring_next(r, 0, 0, &rec));
	assert_int_equal(add(r, 1, 100, 100, 6, 6), 6);
	assert_true(capture_ring_next(r, 0, 0, &rec));
	assert_int_equal(rec.seq, 6);
	assert_false(capture_ring_next(r, 6, 0, &rec));
	s = stats(r);
	assert_int_equal(s.records, 1);
	assert_int_equal(s.oldest_seq, 6);
	assert_int_equal(s.newest_seq, 6);
	assert_int_equal(capture_budget_used(b), 64 * 1024);
	capture_ring_free(r);
	capture_budget_free(b);
}

/* --- caplen --- */

static void test_caplen(void **state)
{
	struct capture_budget *b = budget(1 << 20);
	struct capture_ring *r = ring(b, 64 * 1024);
	struct expect model[3] = {
		[1] = { .bid = 4, .len = 1000, .caplen = 64, .seed = 1 },
		/* A caplen above len is cut to len. */
		[2] = { .bid = 4, .len = 30, .caplen = 30, .seed = 2 },
	};

	(void)state;
	assert_int_equal(add(r, 4, 1000, 64, 1, 1), 1);
	assert_int_equal(add(r, 4, 30, 100, 2, 2), 2);
	assert_int_equal(stats(r).bytes, 94);
	check_all(r, model);
	capture_ring_free(r);
	capture_budget_free(b);
}

/*
 * A whole frame's record is a 40-byte header and its bytes; a cut one
 * also keeps its frame_info (232 bytes). 64 KiB, less its index, holds
 * 572 records of a 64-byte frame (it held 192 when every record kept its
 * frame_info) and 177 of one cut to 63 bytes.
 */
static void test_records_per_ring(void **state)
{
	struct capture_budget *b = budget(1 << 20);
	static const uint32_t caplen[] = { 64, 63 }, want[] = { 572, 177 };

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct capture_ring *r = ring(b, 64 * 1024);

		for (uint64_t n = 1; stats(r).evictions == 0; n++)
			add(r, 1, 64, caplen[i], (unsigned)n, n);
		assert_int_equal(stats(r).records, want[i]);
		capture_ring_free(r);
	}
	capture_budget_free(b);
}

/* --- pcap --- */

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint16_t get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

struct pcap_want {
	uint64_t n; /* the record's seq and ts index */
	uint32_t len, caplen;
	unsigned seed;
};

/* Parses @buf as a classic pcap file and checks it holds exactly @want. */
static void check_pcap(const uint8_t *buf, size_t len, uint32_t linktype, uint32_t skip,
		       const struct pcap_want *want, size_t n)
{
	static uint8_t frame[PORT_FRAME_MAX];
	size_t off = 24;

	assert_true(len >= 24);
	assert_int_equal(get32(buf), 0xa1b2c3d4);
	assert_int_equal(get16(buf + 4), 2);
	assert_int_equal(get16(buf + 6), 4);
	assert_int_equal(get32(buf + 8), 0);
	assert_int_equal(get32(buf + 12), 0);
	assert_int_equal(get32(buf + 16), 262144);
	assert_int_equal(get32(buf + 20), linktype);
	for (size_t i = 0; i < n; i++) {
		struct timespec ts = ts_of(want[i].n);
		uint32_t incl = want[i].caplen > skip ? want[i].caplen - skip : 0;

		assert_true(off + 16 <= len);
		assert_int_equal(get32(buf + off), (uint32_t)ts.tv_sec);
		assert_int_equal(get32(buf + off + 4), (uint32_t)(ts.tv_nsec / 1000));
		assert_int_equal(get32(buf + off + 8), incl);
		assert_int_equal(get32(buf + off + 12),
				 want[i].len > skip ? want[i].len - skip : 0);
		off += 16;
		assert_true(off + incl <= len);
		pattern(frame, want[i].caplen, want[i].seed);
		assert_memory_equal(buf + off, frame + skip, incl);
		off += incl;
	}
	assert_int_equal(off, len);
}

/* Runs tshark on @buf and checks that it lists @want's frame lengths. */
static void check_tshark(const uint8_t *buf, size_t len, const struct pcap_want *want, size_t n,
			 uint32_t skip)
{
	char path[] = "/tmp/test_capture_XXXXXX";
	char cmd[128], line[64];
	size_t i = 0;
	FILE *fp;
	int fd;

	if (access(TSHARK, X_OK) != 0) {
		print_message("(tshark not installed: pcap not read back by tshark)\n");
		return;
	}
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
	snprintf(cmd, sizeof(cmd), TSHARK " -r %s -T fields -e frame.len 2>/dev/null", path);
	fp = popen(cmd, "r");
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp)) {
		assert_true(i < n);
		assert_int_equal(strtoul(line, NULL, 10),
				 want[i].len > skip ? want[i].len - skip : 0);
		i++;
	}
	assert_int_equal(pclose(fp), 0);
	unlink(path);
	assert_int_equal(i, n);
}

static void test_pcap(void **state)
{
	struct capture_budget *b = budget(1 << 20);
	struct capture_ring *r = ring(b, 64 * 1024);
	const struct pcap_want all[] = {
		{ 1, 60, 60, 11 },
		{ 2, 1000, 100, 12 },
		{ 3, 3, 3, 13 },
		{ 4, 98, 98, 14 },
	};
	const struct pcap_want of1[] = { all[0], all[2], all[3] };
	uint8_t *buf;
	size_t len;

	(void)state;
	assert_int_equal(capture_ring_pcap(r, 0, PCAP_LINKTYPE_ETHERNET, 0, &buf, &len), 0);
	check_pcap(buf, len, PCAP_LINKTYPE_ETHERNET, 0, NULL, 0);
	free(buf);

	add(r, 1, 60, 60, 11, 1);
	add(r, 2, 1000, 100, 12, 2);
	add(r, 1, 3, 3, 13, 3);
	add(r, 1, 98, 98, 14, 4);

	assert_int_equal(capture_ring_pcap(r, 0, PCAP_LINKTYPE_ETHERNET, 0, &buf, &len), 0);
	check_pcap(buf, len, PCAP_LINKTYPE_ETHERNET, 0, all, 4);
	check_tshark(buf, len, all, 4, 0);
	free(buf);

	/* One binding, on a tun with packet info: the 4-byte header is left out. */
	assert_int_equal(capture_ring_pcap(r, 1, PCAP_LINKTYPE_RAW, 4, &buf, &len), 0);
	check_pcap(buf, len, PCAP_LINKTYPE_RAW, 4, of1, 3);
	check_tshark(buf, len, of1, 3, 4);
	free(buf);

	assert_int_equal(capture_ring_pcap(r, 7, PCAP_LINKTYPE_RAW, 0, &buf, &len), 0);
	check_pcap(buf, len, PCAP_LINKTYPE_RAW, 0, NULL, 0);
	free(buf);

	capture_ring_clear(r);
	assert_int_equal(capture_ring_pcap(r, 0, PCAP_LINKTYPE_ETHERNET, 0, &buf, &len), 0);
	assert_int_equal(len, 24);
	free(buf);
	capture_ring_free(r);
	capture_budget_free(b);
}

/* --- the capture handler --- */

/* One line per header; clang-format would pack the bytes into even rows. */
/* clang-format off */
/* Ethernet, IPv4 198.18.0.1 -> 198.18.0.2, UDP 12345 -> 53, "hello". */
static const uint8_t udp53_eth[] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
	0x45, 0x00, 0x00, 0x21, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0xee, 0xa3,
	0xc6, 0x12, 0x00, 0x01, 0xc6, 0x12, 0x00, 0x02,
	0x30, 0x39, 0x00, 0x35, 0x00, 0x0d, 0x00, 0x00,
	'h', 'e', 'l', 'l', 'o',
};

/* Ethernet broadcast, ARP request: who has 198.18.0.2, tell 198.18.0.1. */
static const uint8_t arp_eth[] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06,
	0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0xc6, 0x12, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc6, 0x12, 0x00, 0x02,
};
/* clang-format on */

struct hfx {
	struct memio *m;
	struct port_env env;
	struct port *port;
	struct capture_budget *budget;
	struct capture_ring *ring;
	struct binding b;
	struct frame_info fi;
	uint8_t frame[256];
};

static int hsetup(void **state)
{
	struct hfx *h = calloc(1, sizeof(*h));

	assert_non_null(h);
	h->m = memio_env_new(&h->env);
	h->budget = budget(1 << 20);
	h->ring = ring(h->budget, 256 * 1024);
	*state = h;
	return 0;
}

static int hteardown(void **state)
{
	struct hfx *h = *state;

	if (h->b.ops)
		h->b.ops->fini(&h->b);
	port_free(h->port);
	capture_ring_free(h->ring);
	capture_budget_free(h->budget);
	memio_free(h->m);
	free(h);
	return 0;
}

static void hport(struct hfx *h, enum port_type type, bool packet_info)
{
	struct port_config c;
	struct fault f = FAULT_INIT;

	memset(&c, 0, sizeof(c));
	strcpy(c.name, type == PORT_TAP ? "cap0" : "tun0");
	c.type = type;
	c.packet_info = packet_info;
	h->port = port_open(&h->env, &c, &f);
	if (!h->port)
		fail_msg("port_open: %s (field %s)", f.detail, f.field);
}

/* Reads capture options @opts (NULL: none) into @cfg, as a binding at the root. */
static int capture_configure(const json_t *opts, enum port_type type, struct binding_config *cfg,
			     struct fault *f)
{
	uint32_t id = cfg->id;

	memset(cfg, 0, sizeof(*cfg));
	cfg->id = id;
	cfg->kind = HANDLER_CAPTURE;
	return bindopts_from_json(opts, type, cfg, f);
}

/* Configures and starts the binding from the options @json (NULL: none). */
static void hbind(struct hfx *h, const char *json)
{
	struct fault f = FAULT_INIT;
	json_t *opts = NULL;

	if (json) {
		opts = json_loads(json, 0, NULL);
		assert_non_null(opts);
	}
	memset(&h->b, 0, sizeof(h->b));
	h->b.cfg.id = 7;
	h->b.cfg.kind = HANDLER_CAPTURE;
	if (capture_configure(opts, port_config(h->port)->type, &h->b.cfg, &f) < 0)
		fail_msg("configure: %s (field %s)", f.detail, f.field);
	json_decref(opts);
	if (handler_capture.init(&h->b, port_config(h->port), &f) < 0)
		fail_msg("init: %s (field %s)", f.detail, f.field);
	h->b.ops = &handler_capture;
}

/* Runs the binding on @len bytes at @frame; returns run()'s result. */
static int hrun(struct hfx *h, const uint8_t *frame, size_t len)
{
	struct dispatch_ctx dc = {
		.port = h->port,
		.frame = h->frame,
		.len = len,
		.fi = &h->fi,
		.ts = ts_of(1),
		.ring = h->ring,
	};

	assert_true(len <= sizeof(h->frame));
	memcpy(h->frame, frame, len);
	frame_parse(h->frame, len, port_frame_link(h->port), 0, &h->fi);
	return h->b.ops->run(&h->b, &dc);
}

/* Asserts that options @json are refused, naming @field (and saying @detail, unless NULL). */
static void configure_fails_with(const char *json, enum port_type type, const char *field,
				 const char *detail)
{
	struct binding_config cfg;
	struct fault f = FAULT_INIT;
	json_t *opts = json_loads(json, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);

	assert_non_null(opts);
	if (capture_configure(opts, type, &cfg, &f) == 0)
		fail_msg("configure accepted %s", json);
	assert_int_equal(f.kind, FAULT_INVALID);
	assert_string_equal(f.field, field);
	assert_true(f.detail[0] != '\0');
	if (detail)
		assert_string_equal(f.detail, detail);
	json_decref(opts);
}

static void configure_fails(const char *json, enum port_type type, const char *field)
{
	configure_fails_with(json, type, field, NULL);
}

static void test_handler_ops(void **state)
{
	struct binding_config cfg;
	struct fault f = FAULT_INIT;
	json_t *o;

	(void)state;
	assert_string_equal(handler_capture.name, "capture");
	assert_string_equal(handler_capture.placement, "at any node");
	assert_int_equal(handler_capture.levels, (1u << LEVEL_COUNT) - 1);
	assert_string_equal(handler_capture.extra[0], "captured");
	assert_string_equal(handler_capture.extra[1], "filtered_out");

	assert_int_equal(capture_configure(NULL, PORT_TAP, &cfg, &f), 0);
	assert_int_equal(cfg.o.capture.limit, 0);
	assert_int_equal(cfg.o.capture.snaplen, CAPTURE_SNAPLEN_MAX);
	assert_string_equal(cfg.o.capture.filter, "");

	o = json_object();
	bindopts_to_json(&cfg, o);
	assert_int_equal(json_object_size(o), 3);
	assert_int_equal(json_integer_value(json_object_get(o, "limit")), 0);
	assert_int_equal(json_integer_value(json_object_get(o, "snaplen")), CAPTURE_SNAPLEN_MAX);
	assert_string_equal(json_string_value(json_object_get(o, "filter")), "");
	json_decref(o);

	o = json_loads("{\"limit\": 9007199254740992, \"snaplen\": 1, \"filter\": \"udp\"}", 0,
		       NULL);
	assert_int_equal(capture_configure(o, PORT_TUN, &cfg, &f), 0);
	json_decref(o);
	assert_int_equal(cfg.o.capture.limit, 1ull << 53);
	assert_int_equal(cfg.o.capture.snaplen, 1);
	assert_string_equal(cfg.o.capture.filter, "udp");
	o = json_object();
	bindopts_to_json(&cfg, o);
	assert_int_equal(json_integer_value(json_object_get(o, "limit")), 1ll << 53);
	assert_int_equal(json_integer_value(json_object_get(o, "snaplen")), 1);
	assert_string_equal(json_string_value(json_object_get(o, "filter")), "udp");
	json_decref(o);
	assert_int_equal(f.kind, FAULT_NONE);
}

static void test_configure_errors(void **state)
{
	char big[CAPTURE_FILTER_MAX + 32];

	(void)state;
	configure_fails("{\"limit\": \"5\"}", PORT_TAP, "options.limit");
	configure_fails("{\"limit\": 1.5}", PORT_TAP, "options.limit");
	configure_fails("{\"limit\": -1}", PORT_TAP, "options.limit");
	configure_fails("{\"limit\": 9007199254740993}", PORT_TAP, "options.limit");
	configure_fails("{\"limit\": null}", PORT_TAP, "options.limit");
	configure_fails("{\"snaplen\": true}", PORT_TAP, "options.snaplen");
	configure_fails("{\"snaplen\": 0}", PORT_TAP, "options.snaplen");
	configure_fails("{\"snaplen\": 65562}", PORT_TAP, "options.snaplen");
	configure_fails("{\"snaplen\": 4294967297}", PORT_TAP, "options.snaplen");
	configure_fails("{\"filter\": 53}", PORT_TAP, "options.filter");
	configure_fails("{\"filter\": [\"udp\"]}", PORT_TAP, "options.filter");
	configure_fails("{\"filter\": \"udp\\u0000 port 53\"}", PORT_TAP, "options.filter");
	configure_fails("{\"snaplen\": 64, \"bogus\": 1}", PORT_TAP, "options.bogus");
	configure_fails("[]", PORT_TAP, "options");

	/* The longest filter is CAPTURE_FILTER_MAX - 1 bytes. */
	memset(big, ' ', sizeof(big));
	memcpy(big, "{\"filter\": \"udp", 15);
	strcpy(big + CAPTURE_FILTER_MAX + 12, "\"}");
	configure_fails(big, PORT_TAP, "options.filter");
	{
		struct binding_config cfg;
		struct fault f = FAULT_INIT;
		json_t *o;

		strcpy(big + CAPTURE_FILTER_MAX + 11, "\"}"); /* 511 bytes of filter */
		o = json_loads(big, 0, NULL);
		assert_non_null(o);
		assert_int_equal(capture_configure(o, PORT_TAP, &cfg, &f), 0);
		assert_int_equal(strlen(cfg.o.capture.filter), CAPTURE_FILTER_MAX - 1);
		json_decref(o);
	}
}

/* libpcap's own error text for @filter compiled for Ethernet. */
static void pcap_error_of(const char *filter, int dlt, char *out, size_t size)
{
	pcap_t *p = pcap_open_dead(dlt, 65535);
	struct bpf_program prog;

	assert_non_null(p);
	assert_true(pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0);
	snprintf(out, size, "%s", pcap_geterr(p));
	pcap_close(p);
}

static void test_filter_invalid(void **state)
{
	struct hfx *h = *state;
	const char *bad = "udp port 53 and ((";
	char want[PCAP_ERRBUF_SIZE + 64];
	struct fault f = FAULT_INIT;
	json_t *o = json_pack("{s:s}", "filter", bad);

	hport(h, PORT_TAP, false);
	pcap_error_of(bad, DLT_EN10MB, want, sizeof(want));
	assert_true(want[0] != '\0');
	memset(&h->b, 0, sizeof(h->b));
	assert_true(capture_configure(o, PORT_TAP, &h->b.cfg, &f) < 0);
	assert_int_equal(f.kind, FAULT_INVALID);
	assert_string_equal(f.field, "options.filter");
	assert_string_equal(f.detail, want);

	/* init() says the same when handed such a configuration (a state file, say). */
	strcpy(h->b.cfg.o.capture.filter, bad);
	h->b.cfg.o.capture.snaplen = 100;
	f = (struct fault)FAULT_INIT;
	assert_true(handler_capture.init(&h->b, port_config(h->port), &f) < 0);
	assert_int_equal(f.kind, FAULT_INVALID);
	assert_string_equal(f.field, "options.filter");
	assert_string_equal(f.detail, want);
	assert_null(h->b.priv);
	json_decref(o);

	/* "arp" means nothing on a tun's raw IP packets: libpcap's words again. */
	pcap_error_of("arp", DLT_RAW, want, sizeof(want));
	configure_fails_with("{\"filter\": \"arp\"}", PORT_TUN, "options.filter", want);
}

static void test_filter_udp53(void **state)
{
	struct hfx *h = *state;
	struct capture_record rec;
	struct frame_info fi, got;

	hport(h, PORT_TAP, false);
	hbind(h, "{\"filter\": \"udp port 53\"}");
	assert_non_null(h->b.priv);
	assert_int_equal(hrun(h, udp53_eth, sizeof(udp53_eth)), 0);
	memcpy(&fi, &h->fi, sizeof(fi));
	assert_int_equal(hrun(h, arp_eth, sizeof(arp_eth)), 0);
	assert_int_equal(h->b.c.extra[0], 1);
	assert_int_equal(h->b.c.extra[1], 1);
	assert_int_equal(stats(h->ring).records, 1);
	assert_true(capture_ring_next(h->ring, 0, 0, &rec));
	assert_int_equal(rec.binding_id, 7);
	assert_int_equal(rec.len, sizeof(udp53_eth));
	assert_int_equal(rec.caplen, sizeof(udp53_eth));
	assert_memory_equal(rec.data, udp53_eth, sizeof(udp53_eth));
	capture_record_info(&rec, &got);
	assert_memory_equal(&got, &fi, sizeof(fi));
	assert_int_equal(rec.ts.tv_sec, ts_of(1).tv_sec);

	/* Without a filter the ARP frame is captured too. */
	h->b.ops->fini(&h->b);
	assert_null(h->b.priv);
	hbind(h, NULL);
	assert_null(h->b.priv);
	assert_int_equal(hrun(h, arp_eth, sizeof(arp_eth)), 0);
	assert_int_equal(h->b.c.extra[0], 1);
	assert_int_equal(stats(h->ring).records, 2);
}

/* On a tun with packet info the filter sees the IP packet after the 4-byte header. */
static void test_filter_tun_pi(void **state)
{
	struct hfx *h = *state;
	uint8_t pkt[4 + sizeof(udp53_eth) - 14] = { 0x00, 0x00, 0x08, 0x00 };
	uint8_t other[sizeof(pkt)];

	memcpy(pkt + 4, udp53_eth + 14, sizeof(udp53_eth) - 14);
	memcpy(other, pkt, sizeof(pkt));
	other[4 + 22] = 0x00; /* destination port 53 -> 54 */
	other[4 + 23] = 0x36;
	hport(h, PORT_TUN, true);
	assert_int_equal(port_frame_link(h->port), LINK_IP_PI);
	hbind(h, "{\"filter\": \"udp port 53\", \"snaplen\": 10}");
	assert_int_equal(hrun(h, pkt, sizeof(pkt)), 0);
	assert_int_equal(hrun(h, other, sizeof(other)), 0);
	assert_int_equal(hrun(h, pkt, 3), 0); /* shorter than the packet information */
	assert_int_equal(h->b.c.extra[0], 1);
	assert_int_equal(h->b.c.extra[1], 2);
	assert_int_equal(stats(h->ring).records, 1);
	assert_int_equal(stats(h->ring).bytes, 10);
}

static void test_filter_tun_raw(void **state)
{
	struct hfx *h = *state;

	hport(h, PORT_TUN, false);
	hbind(h, "{\"filter\": \"udp port 53\"}");
	assert_int_equal(hrun(h, udp53_eth + 14, sizeof(udp53_eth) - 14), 0);
	assert_int_equal(hrun(h, udp53_eth, sizeof(udp53_eth)), 0); /* not an IP packet */
	assert_int_equal(h->b.c.extra[0], 1);
	assert_int_equal(h->b.c.extra[1], 1);
}

static void test_limit(void **state)
{
	struct hfx *h = *state;

	hport(h, PORT_TAP, false);
	hbind(h, "{\"limit\": 2, \"filter\": \"arp\"}");
	for (int i = 0; i < 5; i++) {
		assert_int_equal(hrun(h, arp_eth, sizeof(arp_eth)), 0);
		assert_int_equal(hrun(h, udp53_eth, sizeof(udp53_eth)), 0);
	}
	assert_int_equal(h->b.c.extra[0], 2);
	/* Once the limit is reached frames are not even filtered. */
	assert_int_equal(h->b.c.extra[1], 1);
	assert_int_equal(stats(h->ring).records, 2);
	assert_int_equal(stats(h->ring).newest_seq, 2);
}

static void test_snaplen(void **state)
{
	struct hfx *h = *state;
	struct capture_record rec;
	struct frame_info whole, got;

	hport(h, PORT_TAP, false);
	hbind(h, "{\"snaplen\": 20}");
	assert_int_equal(hrun(h, udp53_eth, sizeof(udp53_eth)), 0);
	memcpy(&whole, &h->fi, sizeof(whole));
	assert_int_equal(hrun(h, udp53_eth, 16), 0);
	assert_true(capture_ring_next(h->ring, 0, 0, &rec));
	assert_int_equal(rec.len, sizeof(udp53_eth));
	assert_int_equal(rec.caplen, 20);
	assert_memory_equal(rec.data, udp53_eth, 20);
	/* Cut at 20 bytes, the record still says what the whole frame held. */
	capture_record_info(&rec, &got);
	assert_memory_equal(&got, &whole, sizeof(got));
	assert_int_equal(got.udp.dport, 53);
	assert_true(capture_ring_next(h->ring, rec.seq, 0, &rec));
	assert_int_equal(rec.len, 16);
	assert_int_equal(rec.caplen, 16);
	/* Whole (16 bytes, a truncated Ethernet header): parsed again, the same. */
	capture_record_info(&rec, &got);
	assert_memory_equal(&got, &h->fi, sizeof(got));
	assert_int_equal(got.malformed, h->fi.malformed);
	assert_int_equal(h->b.c.extra[0], 2);
}

static void test_no_ring(void **state)
{
	struct hfx *h = *state;

	hport(h, PORT_TAP, false);
	hbind(h, NULL);
	capture_ring_free(h->ring);
	h->ring = NULL;
	assert_int_equal(hrun(h, arp_eth, sizeof(arp_eth)), -ENOSPC);
	assert_int_equal(h->b.c.extra[0], 0);
}

static void test_ring_too_small(void **state)
{
	struct hfx *h = *state;

	hport(h, PORT_TAP, false);
	hbind(h, NULL);
	capture_ring_free(h->ring);
	h->ring = ring(h->budget, 64);
	assert_int_equal(hrun(h, arp_eth, sizeof(arp_eth)), -EMSGSIZE);
	assert_int_equal(h->b.c.extra[0], 0);
	assert_int_equal(stats(h->ring).dropped, 1);
}

struct tw {
	struct capture_watcher w; /* first */
	unsigned n;
	struct capture_ring *rearm; /* arms again from inside the notify */
};

static void tw_notify(struct capture_watcher *w)
{
	struct tw *t = (struct tw *)w;

	assert_null(w->ring); /* disarmed before the call */
	t->n++;
	if (t->rearm)
		capture_ring_watch(t->rearm, w);
}

/*
 * Watchers: an armed watcher is notified once by the next add, then
 * disarmed (a burst of frames costs one notify per follower); unwatch
 * removes any of several; a clear and a free notify too, and a free leaves
 * nothing armed. A notify may arm again without being called twice.
 */
static void test_watchers(void **state)
{
	struct capture_budget *b = budget(1 << 20);
	struct capture_ring *r = ring(b, 1 << 16);
	struct tw a = { .w.notify = tw_notify }, c = { .w.notify = tw_notify },
		  d = { .w.notify = tw_notify };

	(void)state;
	add(r, 1, 60, 60, 1, 1);
	assert_int_equal(a.n, 0);
	capture_ring_watch(r, &a.w);
	capture_ring_watch(r, &a.w); /* twice: still once */
	capture_ring_watch(r, &c.w);
	capture_ring_watch(r, &d.w);
	capture_ring_unwatch(&c.w);
	capture_ring_unwatch(&c.w);
	add(r, 1, 60, 60, 2, 2);
	add(r, 1, 60, 60, 3, 3);
	assert_int_equal(a.n, 1);
	assert_int_equal(c.n, 0);
	assert_int_equal(d.n, 1);
	assert_null(a.w.ring);
	/* Re-armed from its own notify: called once per add, not in a loop. */
	a.rearm = r;
	capture_ring_watch(r, &a.w);
	add(r, 1, 60, 60, 4, 4);
	assert_int_equal(a.n, 2);
	assert_ptr_equal(a.w.ring, r);
	a.rearm = NULL;
	capture_ring_clear(r);
	assert_int_equal(a.n, 3);
	capture_ring_watch(r, &a.w);
	capture_ring_watch(r, &d.w);
	capture_ring_free(r);
	assert_int_equal(a.n, 4);
	assert_int_equal(d.n, 2);
	assert_null(a.w.ring);
	capture_ring_unwatch(&a.w); /* after the free: a no-op, no touch of the ring */
	capture_budget_free(b);
}

/* Generations: new at creation and at every clear, never repeated, below 2^53. */
static void test_generation(void **state)
{
	struct capture_budget *b = budget(1 << 20);
	struct capture_ring *r1 = ring(b, 1 << 16), *r2 = ring(b, 1 << 16);
	uint64_t g1 = capture_ring_generation(r1), g2 = capture_ring_generation(r2), g3;

	(void)state;
	assert_true(g1 > 0 && g2 > 0 && g1 != g2);
	assert_true(g2 < (1ull << 53));
	add(r1, 1, 60, 60, 1, 1);
	assert_int_equal(capture_ring_generation(r1), g1); /* records do not change it */
	capture_ring_clear(r1);
	g3 = capture_ring_generation(r1);
	assert_true(g3 != g1 && g3 != g2);
	capture_ring_free(r1);
	capture_ring_free(r2);
	capture_budget_free(b);
}

int main(void)
{
#define T(fn)  cmocka_unit_test(fn)
#define TH(fn) cmocka_unit_test_setup_teardown(fn, hsetup, hteardown)
	/* One test a line; clang-format would pack these short entries into columns. */
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		T(test_budget),
		T(test_add_next_order),
		T(test_eviction),
		T(test_no_wrap_skip),
		T(test_too_large),
		T(test_next_binding),
		T(test_clear),
		T(test_caplen),
		T(test_records_per_ring),
		T(test_pcap),
		T(test_handler_ops),
		T(test_configure_errors),
		TH(test_filter_invalid),
		TH(test_filter_udp53),
		TH(test_filter_tun_pi),
		TH(test_filter_tun_raw),
		TH(test_limit),
		TH(test_snaplen),
		TH(test_no_ring),
		TH(test_ring_too_small),
		T(test_watchers),
		T(test_generation),
	};
	/* clang-format on */

	return cmocka_run_group_tests_name("capture", tests, NULL, NULL);
}
