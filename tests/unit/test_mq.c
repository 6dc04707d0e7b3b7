// SPDX-License-Identifier: MIT
/*
 * Multi-queue ports (service/queue.h) on the memory port I/O: the same
 * frames through one queue and through two give the same counters, the
 * same captures and the same replies; counters restart on every queue; a
 * worker's refused super-frame is logged with its queue's name; a
 * queue's read error or a deleted device reaches the port's state; an
 * attach to a single-queue device is refused on "queues"; and, with real
 * worker threads, the bindings change under traffic without a race (run
 * under ASan/UBSan by `make unit-asan`, and under TSan by `make unit-tsan`).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../service/bindcfg.h"
#include "../../service/build.h"
#include "../../service/capture.h"
#include "../../service/gso.h"
#include "../../service/log.h"
#include "../../service/port.h"
#include "../../service/stack.h"
#include "../../service/state.h"
#include "../fakes/portio_mem.h"
#include "support.h"

struct fx {
	struct memio *m;
	struct port_env penv;
	struct stack_env senv;
	struct event_base *base;
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	log_set_level(LOG_ERROR);
	fx->m = memio_new();
	assert_non_null(fx->m);
	fx->penv.io = memio_io(fx->m);
	fx->senv.budget = capture_budget_new(8u << 20);
	assert_non_null(fx->senv.budget);
	fx->senv.ring_bytes = 2u << 20;
	fx->senv.max_bindings = 16;
	fx->senv.scratch = malloc(PORT_FRAME_MAX);
	assert_non_null(fx->senv.scratch);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(capture_budget_used(fx->senv.budget), 0);
	assert_int_equal(memio_open_fds(fx->m), 0);
	capture_budget_free(fx->senv.budget);
	free(fx->senv.scratch);
	if (fx->base)
		event_base_free(fx->base);
	memio_free(fx->m);
	free(fx);
	return 0;
}

static struct port *tun_open_with(struct fx *fx, const char *name, unsigned queues, bool vnet_hdr)
{
	struct fault f = FAULT_INIT;
	struct port_config c;
	struct port *p;

	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "%s", name);
	c.type = PORT_TUN;
	c.queues = (uint8_t)queues;
	c.vnet_hdr = vnet_hdr;
	p = port_open(&fx->penv, &c, &f);
	if (!p)
		fail_msg("port_open %s: %s", name, f.detail);
	assert_int_equal(port_queues(p), queues);
	return p;
}

static struct port *tun_open(struct fx *fx, const char *name, unsigned queues)
{
	return tun_open_with(fx, name, queues, false);
}

static struct binding *bind_ok(struct stack *s, const char *spec)
{
	struct fault f = FAULT_INIT;
	struct binding_config cfg;
	struct binding *b = NULL;
	json_t *doc = json_loads(spec, 0, NULL);

	assert_non_null(doc);
	if (bindcfg_from_json(doc, PORT_TUN, false, &cfg, &f) < 0)
		fail_msg("%s: %s", spec, f.detail);
	json_decref(doc);
	if (stack_bind(s, &cfg, &b, &f) < 0)
		fail_msg("%s: %s", spec, f.detail);
	return b;
}

/* A UDP datagram 198.18.0.2:@sport -> 198.18.0.1:@dport as a tun reads it. */
static size_t udp_frame(uint8_t *buf, uint16_t sport, uint16_t dport, unsigned seed)
{
	struct build_link l = { .link = LINK_IP };
	struct build_ip ip = { .family = AF_INET,
			       .src = { 198, 18, 0, 2 },
			       .dst = { 198, 18, 0, 1 } };
	uint8_t payload[64];
	ssize_t n;

	frame_fill(payload, sizeof(payload), seed);
	n = build_udp(buf, PORT_FRAME_MAX, &l, &ip, sport, dport, payload, 8 + seed % 50);
	assert_true(n > 0);
	return (size_t)n;
}

/* The traffic both runs see: four UDP ports (three bound), and frames cut short. */
static size_t traffic_frame(uint8_t *buf, unsigned i)
{
	static const uint16_t dports[] = { 7, 9, 11, 13 };

	if (i % 17 == 16) {
		size_t n = udp_frame(buf, 1000, 7, i);

		return n - 20; /* IPv4 total length beyond the bytes: malformed */
	}
	return udp_frame(buf, (uint16_t)(1024 + i), dports[i % 4], i);
}

#define TRAFFIC 120

struct run {
	struct port *p;
	struct stack *s;
	struct binding *b[4];
};

static void run_bind(struct run *r)
{
	r->b[0] = bind_ok(r->s,
			  "{\"match\":{\"ip_protocol\":17,\"udp_port\":7},\"handler\":\"echo\"}");
	r->b[1] = bind_ok(r->s, "{\"match\":{},\"handler\":\"capture\"}");
	r->b[2] = bind_ok(r->s, "{\"match\":{\"ip_protocol\":17,\"udp_port\":9},\"handler\":"
				"\"capture\",\"options\":{\"snaplen\":40,\"filter\":\"udp\"}}");
	r->b[3] = bind_ok(r->s,
			  "{\"match\":{\"ip_protocol\":17,\"udp_port\":11},\"handler\":\"count\"}");
}

/* @n bytes at @buf onto queue @q of @name, read by that queue's turn. */
static void push_read(struct fx *fx, struct run *r, const char *name, unsigned q,
		      const uint8_t *buf, size_t n)
{
	assert_int_equal(memio_push_queue(fx->m, name, q, buf, n), 0);
	if (q == 0)
		port_read_ready(r->p);
	else
		port_queue_read_ready(r->p, q);
}

/* Frame i goes to queue i % queues, read by that queue's turn as it would be. */
static void run_traffic(struct fx *fx, struct run *r, const char *name, unsigned queues)
{
	uint8_t buf[PORT_FRAME_MAX];

	for (unsigned i = 0; i < TRAFFIC; i++) {
		size_t n = traffic_frame(buf, i);
		unsigned q = i % queues;

		push_read(fx, r, name, q, buf, n);
	}
	port_queues_service(r->p);
}

/* Every record of @ring as "binding:len:caplen:bytes" lines, sorted: a set to compare. */
static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t ring_set(const struct capture_ring *ring, char **out, size_t max)
{
	struct capture_record rec;
	uint64_t after = 0;
	size_t n = 0;

	while (capture_ring_next(ring, after, 0, &rec)) {
		char *line = malloc(64 + 2 * rec.caplen);
		int at;

		assert_non_null(line);
		assert_true(n < max);
		at = sprintf(line, "%u:%u:%u:", rec.binding_id, rec.len, rec.caplen);
		for (uint32_t i = 0; i < rec.caplen; i++)
			at += sprintf(line + at, "%02x", rec.data[i]);
		out[n++] = line;
		after = rec.seq;
	}
	qsort(out, n, sizeof(*out), cmp_str);
	return n;
}

/*
 * One datagram written as a hex line, its IPv4 identification and header
 * checksum left out: each queue numbers its own replies
 * (port_next_ip_id()), so which queue answered shows there and nowhere else.
 */
static char *dgram_line(const uint8_t *d, size_t len)
{
	char *line = malloc(2 * len + 1);

	assert_non_null(line);
	for (size_t k = 0; k < len; k++) {
		bool numbered =
			len >= 20 && d[0] >> 4 == 4 && (k == 4 || k == 5 || k == 10 || k == 11);

		sprintf(line + 2 * k, "%02x", numbered ? 0 : d[k]);
	}
	line[2 * len] = '\0';
	return line;
}

/*
 * Every datagram written to @name (a tun without packet information) as a
 * sorted set of hex lines: on a vnet_hdr port, a UDP GSO super-frame
 * (coalesced replies, coalesce.h) cut back into its datagrams as the kernel
 * cuts it, whose runs depend on each queue's read turns.
 */
static size_t written_set(struct fx *fx, const char *name, char **out, size_t max)
{
	size_t n = memio_written_count(fx->m, name), k = 0;
	bool vnet = memio_vnet_hdr(fx->m, name);
	uint8_t *buf = malloc(PORT_VNET_READ_MAX);

	assert_non_null(buf);
	for (size_t i = 0; i < n; i++) {
		size_t len, m;
		const uint8_t *w = memio_written(fx->m, name, i, &len), *seg;
		struct gso_iter it;
		struct gso_hdr h;

		if (!vnet) {
			assert_true(k < max);
			out[k++] = dgram_line(w, len);
			continue;
		}
		assert_true(gso_hdr_read(w, len, &h) && len <= PORT_VNET_READ_MAX);
		memcpy(buf, w + GSO_VNET_HDR_LEN, len - GSO_VNET_HDR_LEN);
		assert_int_equal(gso_begin(&it, &h, buf, len - GSO_VNET_HDR_LEN, LINK_IP), 0);
		while ((m = gso_next(&it, &seg)) > 0) {
			assert_true(k < max);
			out[k++] = dgram_line(seg, m);
		}
	}
	free(buf);
	qsort(out, k, sizeof(*out), cmp_str);
	return k;
}

/* Two sorted sets of lines are equal (and freed). */
static void expect_same_set(char **a, size_t na, char **b, size_t nb)
{
	assert_int_equal(na, nb);
	for (size_t i = 0; i < na; i++) {
		assert_string_equal(a[i], b[i]);
		free(a[i]);
		free(b[i]);
	}
}

/*
 * @one (port "one", one queue) and @two (port "two", several) after the
 * same traffic: the same port, stack and binding counters, the same
 * captured frames whatever their order across queues, the same frames
 * written. Returns the port counters.
 */
static struct port_counters expect_same_runs(struct fx *fx, struct run *one, struct run *two,
					     size_t traffic)
{
	enum { SET_MAX = 4096 };
	char **set1 = calloc(SET_MAX, sizeof(char *)), **set2 = calloc(SET_MAX, sizeof(char *));
	struct port_counters c1, c2;
	struct stack_counters s1;
	size_t n1, n2;

	assert_true(set1 && set2);
	/* Port counters: rx, and tx (echo replies, some of them on another queue's fd). */
	c1 = *port_counters(one->p);
	c2 = *port_counters(two->p);
	assert_true(c1.rx_frames >= traffic);
	/* Replies coalesce within a queue's read turn: into how many writes is each queue's own. */
	c1.tx_gso_frames = c2.tx_gso_frames = 0;
	assert_memory_equal(&c2, &c1, sizeof(c1));
	assert_true(c1.tx_frames > 0);
	n1 = written_set(fx, "one", set1, SET_MAX);
	n2 = written_set(fx, "two", set2, SET_MAX);
	expect_same_set(set1, n1, set2, n2);

	/* The stack's counters, every one of them. */
	s1 = *stack_counters(one->s);
	assert_true(s1.matched > 0 && s1.malformed[MAL_ipv4_bad_total_length] > 0);
	assert_memory_equal(stack_counters(two->s), &s1, sizeof(s1));

	/* Each binding's counters, summed over the queues (handlers' own ones too). */
	for (int i = 0; i < 4; i++) {
		struct binding_counters a, b;

		binding_counters_sum(one->b[i], &a);
		binding_counters_sum(two->b[i], &b);
		assert_true(a.packets > 0);
		assert_memory_equal(&a, &b, sizeof(a));
	}

	/* The same captured frames, whatever their order across queues. */
	n1 = ring_set(stack_ring(one->s), set1, SET_MAX);
	n2 = ring_set(stack_ring(two->s), set2, SET_MAX);
	assert_true(n1 > traffic);
	expect_same_set(set1, n1, set2, n2);
	free(set1);
	free(set2);
	return c1;
}

/* Tuns "one" (1 queue) and "two" (2 queues), each with a stack and run_bind()'s bindings. */
static void run_pair(struct fx *fx, struct run *one, struct run *two, bool vnet_hdr)
{
	one->p = tun_open_with(fx, "one", 1, vnet_hdr);
	two->p = tun_open_with(fx, "two", 2, vnet_hdr);
	one->s = stack_new(&fx->senv, one->p);
	two->s = stack_new(&fx->senv, two->p);
	assert_non_null(one->s);
	assert_non_null(two->s);
	run_bind(one);
	run_bind(two);
}

static void test_same_as_one_queue(void **state)
{
	struct fx *fx = *state;
	struct run one = { 0 }, two = { 0 };

	run_pair(fx, &one, &two, false);
	run_traffic(fx, &one, "one", 1);
	run_traffic(fx, &two, "two", 2);

	/* Both queues read: the split is real. */
	assert_int_equal(port_queue_rx_frames(two.p, 0), TRAFFIC / 2);
	assert_int_equal(port_queue_rx_frames(two.p, 1), TRAFFIC / 2);
	assert_int_equal(stack_queue_dropped(two.s, 1), 0);
	assert_int_equal(expect_same_runs(fx, &one, &two, TRAFFIC).rx_frames, TRAFFIC);

	/* A restart zeroes every queue's share. */
	stack_restart(two.s);
	{
		struct binding_counters z, b;

		memset(&z, 0, sizeof(z));
		binding_counters_sum(two.b[3], &b);
		assert_memory_equal(&b, &z, sizeof(z));
		assert_int_equal(stack_counters(two.s)->matched, 0);
	}
	stack_free(one.s);
	stack_free(two.s);
	port_free(one.p);
	port_free(two.p);
}

/* --- vnet_hdr: every queue reads super-frames as queue 0 does --- */

#define VNET_TRAFFIC 90

/*
 * Read @i of a vnet_hdr tun as the kernel hands it over, [virtio-net
 * header][IPv4], into @buf: mostly UDP super-frames (USO, a partial
 * checksum to complete, 1 to 7 segments of 200, 300 or 400 bytes, the
 * last one shorter), plain datagrams behind an empty header (some of them
 * malformed), and reads the port must refuse or cut: a header with
 * gso_size 0, a read shorter than a header, a frame longer than a plain
 * port reads.
 */
static size_t vnet_frame(uint8_t *buf, unsigned i)
{
	static const uint16_t dports[] = { 7, 9, 11, 13 };
	struct build_link l = { .link = LINK_IP };
	struct build_ip ip = { .family = AF_INET,
			       .src = { 198, 18, 0, 2 },
			       .dst = { 198, 18, 0, 1 } };
	static uint8_t payload[7 * 400];
	uint16_t mss = (uint16_t)(200 + 100 * (i % 3)), h[4] = { 0 };
	size_t plen = (size_t)(i % 7) * mss + 1 + i % mss;
	ssize_t n;

	memset(buf, 0, GSO_VNET_HDR_LEN);
	switch (i % 6) {
	case 0: /* a plain datagram, asking nothing */
		return GSO_VNET_HDR_LEN + traffic_frame(buf + GSO_VNET_HDR_LEN, i);
	case 5:
		if (i % 18 == 5)
			return 5; /* shorter than the header */
		if (i % 18 == 11) {
			/* Longer than a plain port reads, asking nothing: cut and counted. */
			memset(buf, 0x45, PORT_FRAME_MAX + 100);
			memset(buf, 0, GSO_VNET_HDR_LEN);
			return PORT_FRAME_MAX + 100;
		}
		mss = 0; /* a super-frame without a segment size: refused */
		break;
	default:
		break;
	}
	frame_fill(payload, plen, i);
	n = build_udp(buf + GSO_VNET_HDR_LEN, PORT_VNET_READ_MAX - GSO_VNET_HDR_LEN, &l, &ip,
		      (uint16_t)(5000 + i), dports[(i + i / 5) % 4], payload, plen);
	assert_true(n > 0);
	/* struct virtio_net_hdr, host order: what tun_put_user() writes for a USO skb. */
	buf[0] = GSO_F_NEEDS_CSUM;
	buf[1] = GSO_TYPE_UDP_L4;
	h[0] = 28;  /* hdr_len */
	h[1] = mss; /* gso_size */
	h[2] = 20;  /* csum_start: the UDP header */
	h[3] = 6;   /* csum_offset: its checksum */
	memcpy(buf + 2, h, sizeof(h));
	return GSO_VNET_HDR_LEN + (size_t)n;
}

/* Read i goes to queue (i + i / 6) % queues: each kind of read reaches every queue. */
static void run_vnet_traffic(struct fx *fx, struct run *r, const char *name, unsigned queues)
{
	static uint8_t buf[PORT_VNET_READ_MAX + 128];

	for (unsigned i = 0; i < VNET_TRAFFIC; i++) {
		size_t n = vnet_frame(buf, i);
		unsigned q = (i + i / 6) % queues;

		push_read(fx, r, name, q, buf, n);
	}
	port_queues_service(r->p);
}

/*
 * Count bindings alone on a vnet_hdr port with two queues: each queue
 * counts the datagrams of a super-frame after its lead at once (trains,
 * port_train_fn), never built. The same traffic through a port whose
 * capture makes every datagram go through on its own gives the same
 * counters: the port's, the stack's and each count binding's.
 */
static void test_vnet_hdr_trains(void **state)
{
	struct fx *fx = *state;
	struct run tr = { 0 }, each = { 0 };
	struct binding_counters a, b;
	const char *const counts[] = {
		"{\"match\":{},\"handler\":\"count\"}",
		"{\"match\":{\"ip_protocol\":17,\"udp_port\":9},\"handler\":\"count\"}",
		"{\"match\":{\"ip_protocol\":17},\"handler\":\"count\"}",
	};

	tr.p = tun_open_with(fx, "one", 2, true);
	each.p = tun_open_with(fx, "two", 2, true);
	tr.s = stack_new(&fx->senv, tr.p);
	each.s = stack_new(&fx->senv, each.p);
	assert_non_null(tr.s);
	assert_non_null(each.s);
	for (int i = 0; i < 3; i++) {
		tr.b[i] = bind_ok(tr.s, counts[i]);
		each.b[i] = bind_ok(each.s, counts[i]);
	}
	each.b[3] = bind_ok(each.s, "{\"match\":{},\"handler\":\"capture\"}");
	run_vnet_traffic(fx, &tr, "one", 2);
	run_vnet_traffic(fx, &each, "two", 2);

	assert_true(port_counters(tr.p)->rx_frames > 2 * VNET_TRAFFIC);
	assert_true(port_queue_rx_frames(tr.p, 1) > VNET_TRAFFIC / 2);
	assert_memory_equal(port_counters(tr.p), port_counters(each.p),
			    sizeof(struct port_counters));
	assert_memory_equal(stack_counters(tr.s), stack_counters(each.s),
			    sizeof(struct stack_counters));
	for (int i = 0; i < 3; i++) {
		binding_counters_sum(tr.b[i], &a);
		binding_counters_sum(each.b[i], &b);
		assert_memory_equal(&a, &b, sizeof(a));
		assert_true(a.packets > 0);
	}
	stack_free(tr.s);
	stack_free(each.s);
	port_free(tr.p);
	port_free(each.p);
}

/*
 * A vnet_hdr port read by one queue and by two: the worker cuts
 * super-frames, completes checksums, refuses and truncates exactly as
 * queue 0 does, so the counters (rx_gso_frames, rx_gso_bad and truncated
 * among them), the captures and the echo replies, written behind an
 * empty virtio-net header on whichever queue read the request, are the
 * same. The old worker read plain frames: the header became IP bytes.
 */
static void test_vnet_hdr_same_as_one_queue(void **state)
{
	struct fx *fx = *state;
	struct run one = { 0 }, two = { 0 };
	struct port_counters c;
	unsigned supers = 0, bad = 0;

	run_pair(fx, &one, &two, true);
	assert_true(memio_vnet_hdr(fx->m, "two"));
	assert_int_equal(memio_offloads(fx->m, "two"), memio_offloads(fx->m, "one"));
	run_vnet_traffic(fx, &one, "one", 1);
	run_vnet_traffic(fx, &two, "two", 2);

	for (unsigned i = 0; i < VNET_TRAFFIC; i++) {
		supers += i % 6 != 0 && i % 18 != 5 && i % 18 != 11;
		bad += i % 6 == 5 && i % 18 != 11;
	}
	c = expect_same_runs(fx, &one, &two, VNET_TRAFFIC);
	assert_int_equal(c.rx_gso_frames, supers);
	assert_int_equal(c.rx_gso_bad, bad);
	assert_int_equal(c.truncated, VNET_TRAFFIC / 18);
	assert_true(c.rx_frames > 2 * VNET_TRAFFIC);
	/* Queue 1 cut super-frames of its own, and its replies carry the header. */
	assert_true(port_queue_rx_frames(two.p, 1) > VNET_TRAFFIC / 2);
	assert_int_equal(port_queue_rx_frames(two.p, 0) + port_queue_rx_frames(two.p, 1),
			 c.rx_frames);
	assert_int_equal(stack_queue_dropped(two.s, 1), 0);
	/*
	 * Each write is a frame behind an empty header, or the echoes of a
	 * super-frame's datagrams as one UDP GSO super-frame (written_set()
	 * cut them back), on both ports.
	 */
	for (size_t i = 0; i < memio_written_count(fx->m, "two"); i++) {
		static const uint8_t empty[GSO_VNET_HDR_LEN];
		size_t len;
		const uint8_t *w = memio_written(fx->m, "two", i, &len);
		struct gso_hdr h;

		assert_true(len > GSO_VNET_HDR_LEN + 28 && gso_hdr_read(w, len, &h));
		if (h.gso_type == GSO_TYPE_NONE)
			assert_memory_equal(w, empty, GSO_VNET_HDR_LEN);
		else
			assert_int_equal(h.gso_type, GSO_TYPE_UDP_L4);
	}
	assert_true(port_counters(one.p)->tx_gso_frames > 0);
	assert_true(port_counters(two.p)->tx_gso_frames > 0);
	stack_free(one.s);
	stack_free(two.s);
	port_free(one.p);
	port_free(two.p);
}

/* A capture's limit holds across queues: the main loop applies it to every hand-off. */
static void test_capture_limit_across_queues(void **state)
{
	struct fx *fx = *state;
	uint8_t buf[PORT_FRAME_MAX];
	struct binding_counters c;
	struct capture_stats st;
	struct port *p = tun_open(fx, "lim", 3);
	struct stack *s = stack_new(&fx->senv, p);
	struct binding *b;

	assert_non_null(s);
	b = bind_ok(s, "{\"match\":{},\"handler\":\"capture\",\"options\":{\"limit\":5}}");
	for (unsigned i = 0; i < 12; i++) {
		size_t n = udp_frame(buf, (uint16_t)(2000 + i), 9, i);

		assert_int_equal(memio_push_queue(fx->m, "lim", i % 3, buf, n), 0);
		if (i % 3)
			port_queue_read_ready(p, i % 3);
		else
			port_read_ready(p);
	}
	port_queues_service(p);
	capture_ring_stats(stack_ring(s), &st);
	assert_int_equal(st.records, 5);
	binding_counters_sum(b, &c);
	assert_int_equal(c.packets, 12);
	assert_int_equal(c.extra[0], 5);
	stack_free(s);
	port_free(p);
}

struct turn {
	struct port *p;
	unsigned q;
};

static void queue_turn_at_warn(void *arg)
{
	const struct turn *t = arg;

	log_set_level(LOG_WARN);
	port_queue_read_ready(t->p, t->q);
	log_set_level(LOG_ERROR);
}

/*
 * A worker whose super-frame the kernel refuses (no USO on tun writes,
 * before 6.2) writes the run's replies one by one on its own queue, and
 * the log names the port and the queue.
 */
static void test_queue_refusal_logged(void **state)
{
	struct fx *fx = *state;
	uint8_t buf[GSO_VNET_HDR_LEN + PORT_FRAME_MAX];
	struct port *p = tun_open_with(fx, "rq", 2, true);
	struct stack *s = stack_new(&fx->senv, p);
	struct turn t = { p, 1 };
	size_t n;
	char *log;

	assert_non_null(s);
	bind_ok(s, "{\"match\":{\"ip_protocol\":17,\"udp_port\":7},\"handler\":\"echo\"}");
	/* Three equal datagrams of one flow, behind an empty header: one run. */
	memset(buf, 0, GSO_VNET_HDR_LEN);
	n = GSO_VNET_HDR_LEN + udp_frame(buf + GSO_VNET_HDR_LEN, 1000, 7, 3);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(memio_push_queue(fx->m, "rq", 1, buf, n), 0);
	memio_inject(fx->m, MEMIO_WRITE, EINVAL);
	log = stderr_of(queue_turn_at_warn, &t);
	assert_non_null(strstr(log, "port rq queue 1: the kernel refused a UDP GSO super-frame"));
	free(log);
	/* The refused super-frame, then its three replies on their own. */
	assert_int_equal(memio_calls(fx->m, MEMIO_WRITE), 4);
	assert_int_equal(memio_written_count(fx->m, "rq"), 3);
	assert_int_equal(port_counters(p)->tx_frames, 3);
	stack_free(s);
	port_free(p);
}

/* A worker's read error puts the port in state error, as queue 0's does. */
static void test_queue_read_error(void **state)
{
	struct fx *fx = *state;
	uint8_t buf[PORT_FRAME_MAX];
	size_t n = udp_frame(buf, 1, 7, 0);
	struct port *p = tun_open(fx, "err", 2);
	struct stack *s = stack_new(&fx->senv, p);

	assert_non_null(s);
	assert_int_equal(memio_push_queue(fx->m, "err", 1, buf, n), 0);
	memio_inject(fx->m, MEMIO_READ, EIO);
	port_queue_read_ready(p, 1);
	/* Seen by the main loop's turn, not before. */
	assert_int_not_equal(port_state(p), PORT_STATE_ERROR);
	port_queues_service(p);
	assert_int_equal(port_state(p), PORT_STATE_ERROR);
	assert_int_equal(port_last_error(p)->err, EIO);
	assert_string_equal(port_last_error(p)->op, "read");
	assert_int_equal(port_counters(p)->read_errors[EIO], 1);
	/* The queue reads no more. */
	port_queue_read_ready(p, 1);
	assert_int_equal(port_counters(p)->rx_frames, 0);
	stack_free(s);
	port_free(p);
}

/* A device deleted under a worker: EBADFD on its queue makes the port gone, safely. */
static void test_queue_device_gone(void **state)
{
	struct fx *fx = *state;
	struct port *p = tun_open(fx, "gone", 2);
	struct stack *s = stack_new(&fx->senv, p);
	uint8_t buf[PORT_FRAME_MAX];

	assert_non_null(s);
	assert_int_equal(memio_push_queue(fx->m, "gone", 1, buf, udp_frame(buf, 5, 9, 0)), 0);
	port_queue_read_ready(p, 1);
	assert_int_equal(port_counters(p)->rx_frames, 1);
	assert_int_equal(memio_device_delete(fx->m, "gone"), 0);
	port_queue_read_ready(p, 1);
	/* The report releases the queues from inside their own service turn. */
	port_queues_service(p);
	assert_int_equal(port_state(p), PORT_STATE_GONE);
	assert_int_equal(port_queues(p), 1);
	/* What the worker counted is still the port's. */
	assert_int_equal(port_counters(p)->rx_frames, 1);
	assert_int_equal(port_queue_rx_frames(p, 0), 1);
	stack_free(s);
	port_free(p);
}

static void test_open_refusals(void **state)
{
	struct fx *fx = *state;
	struct fault f = FAULT_INIT;
	struct port_config c;

	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "pers");
	c.type = PORT_TUN;
	c.attach = true;
	c.queues = 2;
	/* A persistent device made without multi_queue cannot take a second queue. */
	assert_int_equal(memio_device_add(fx->m, "pers", false, true), 0);
	assert_null(port_open(&fx->penv, &c, &f));
	assert_string_equal(f.field, "queues");
	assert_non_null(strstr(f.detail, "multi-queue"));
	assert_int_equal(memio_open_fds(fx->m), 0);
	assert_int_equal(memio_device_delete(fx->m, "pers"), 0);

	/* The third queue's open fails: nothing is left behind. */
	f = (struct fault)FAULT_INIT;
	c.attach = false;
	c.queues = 3;
	snprintf(c.name, sizeof(c.name), "fail3");
	memio_inject(fx->m, MEMIO_OPEN, 0);
	memio_inject(fx->m, MEMIO_OPEN, 0);
	memio_inject(fx->m, MEMIO_OPEN, EMFILE);
	assert_null(port_open(&fx->penv, &c, &f));
	assert_string_equal(f.field, "queues");
	assert_int_equal(memio_open_fds(fx->m), 0);
	assert_false(memio_device_exists(fx->m, "fail3"));
}

/* The state file keeps "queues" when it is not 1; without it (an older file) a port has 1. */
static void test_state_round_trip(void **state)
{
	static const struct state_limits lim = { 4, 4 };
	const char *text = "{\"format\":1,\"ports\":[{\"name\":\"t0\",\"type\":\"tun\","
			   "\"packet_info\":false,\"attach\":false,\"queues\":4},"
			   "{\"name\":\"t1\",\"type\":\"tun\",\"packet_info\":false,"
			   "\"attach\":false}]}";
	json_t *doc = json_loads(text, 0, NULL), *want = json_loads(text, 0, NULL), *back;
	struct fault f = FAULT_INIT;
	struct state_doc d;

	(void)state;
	assert_int_equal(state_decode(doc, "s.json", &lim, &d, &f), 0);
	assert_int_equal(portcfg_queues(&d.ports[0].cfg), 4);
	assert_int_equal(portcfg_queues(&d.ports[1].cfg), 1);
	back = state_encode(&d);
	if (!json_equal(back, want))
		fail_msg("encoded: %s", json_dumps(back, JSON_COMPACT));
	json_decref(back);
	json_decref(want);
	json_decref(doc);
	state_doc_free(&d);
}

/* --- real worker threads --- */

/* Threads of this process named as queue workers are ("paird-q1", ...). */
static unsigned worker_count(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	unsigned n = 0;

	assert_non_null(d);
	while ((e = readdir(d))) {
		char path[300], comm[32] = "";
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && strncmp(comm, "paird-q", 7) == 0)
			n++;
		fclose(f);
	}
	closedir(d);
	return n;
}

struct count_tap {
	struct stack_tap tap;
	uint64_t frames;
};

static void count_tap_frame(struct stack_tap *t, struct dispatch_ctx *dc)
{
	(void)dc;
	((struct count_tap *)t)->frames++;
}

static void count_tap_gone(struct stack_tap *t)
{
	(void)t;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

#define THREADED_FRAMES 6000

/*
 * Two workers read while the main thread binds, unbinds, replaces and
 * restarts nothing else but the bindings, adds and removes a stream tap,
 * and runs its loop: every frame is dispatched exactly once, the root
 * count sees them all, and the threads are gone after port_free().
 */
static void test_threads_mutation_under_traffic(void **state)
{
	struct fx *fx = *state;
	uint8_t buf[PORT_FRAME_MAX];
	struct count_tap ct = { .tap = { .frame = count_tap_frame, .gone = count_tap_gone } };
	struct binding_counters c;
	struct binding *root;
	struct port *p;
	struct stack *s;
	uint64_t rx = 0, dispatched;
	const struct stack_counters *sc;
	int turns;

	fx->base = event_base_new();
	assert_non_null(fx->base);
	fx->penv.base = fx->base;
	p = tun_open(fx, "mt", 3);
	/* A thread names itself when it starts: bounded wait, 5 s at most. */
	for (turns = 0; turns < 5000 && worker_count() != 2; turns++)
		sleep_ms(1);
	assert_int_equal(worker_count(), 2);
	s = stack_new(&fx->senv, p);
	assert_non_null(s);
	root = bind_ok(s, "{\"match\":{},\"handler\":\"count\"}");
	for (unsigned i = 0; i < THREADED_FRAMES; i++) {
		size_t n = udp_frame(buf, (uint16_t)(3000 + i), (uint16_t)(7 + 2 * (i % 2)), i);

		assert_int_equal(memio_push_queue(fx->m, "mt", 1 + i % 2, buf, n), 0);
		if (i % 50 == 0) {
			struct binding *b1 = bind_ok(
				s,
				"{\"match\":{\"ip_protocol\":17,\"udp_port\":7},\"handler\":\"echo\"}");
			struct binding *b2 =
				bind_ok(s, "{\"match\":{\"ip_protocol\":17,\"udp_port\":9},"
					   "\"handler\":\"capture\"}");
			struct fault f = FAULT_INIT;

			if (i % 100 == 0)
				stack_tap_add(s, &ct.tap);
			event_base_loop(fx->base, EVLOOP_NONBLOCK);
			assert_int_equal(stack_unbind(s, b1->cfg.id, &f), 0);
			assert_int_equal(stack_unbind(s, b2->cfg.id, &f), 0);
			stack_ring_release(s);
			if (i % 100 == 50)
				stack_tap_remove(&ct.tap);
		}
	}
	stack_tap_remove(&ct.tap);
	/* Bounded: 20 s at most, on however slow a machine. */
	for (turns = 0; turns < 20000; turns++) {
		event_base_loop(fx->base, EVLOOP_NONBLOCK);
		rx = port_counters(p)->rx_frames;
		if (rx == THREADED_FRAMES)
			break;
		sleep_ms(1);
	}
	assert_int_equal(rx, THREADED_FRAMES);
	assert_true(port_queue_rx_frames(p, 1) > 0 && port_queue_rx_frames(p, 2) > 0);
	assert_int_equal(port_queue_rx_frames(p, 0), 0);
	/* Pause: every burst is over, so what was read is counted everywhere. */
	port_pause(p);
	binding_counters_sum(root, &c);
	sc = stack_counters(s);
	dispatched = sc->matched;
	for (int i = 0; i < LEVEL_COUNT; i++)
		dispatched += sc->unmatched[i];
	for (int i = 0; i < MALFORMED_COUNT; i++)
		dispatched += sc->malformed[i];
	port_resume(p);
	assert_int_equal(c.packets, THREADED_FRAMES);
	assert_int_equal(dispatched, THREADED_FRAMES);
	assert_int_equal(port_state(p), PORT_STATE_UP);
	stack_free(s);
	port_free(p);
	/* The workers are joined: no thread is left. */
	assert_int_equal(worker_count(), 0);

	/* A read error on a worker's queue: the port fails and its threads are joined. */
	p = tun_open(fx, "mt", 3);
	for (turns = 0; turns < 5000 && worker_count() != 2; turns++)
		sleep_ms(1);
	assert_int_equal(worker_count(), 2);
	memio_inject(fx->m, MEMIO_READ, EIO);
	assert_int_equal(memio_push_queue(fx->m, "mt", 2, buf, udp_frame(buf, 5, 9, 0)), 0);
	for (turns = 0; turns < 5000 && port_state(p) != PORT_STATE_ERROR; turns++) {
		event_base_loop(fx->base, EVLOOP_NONBLOCK);
		sleep_ms(1);
	}
	assert_int_equal(port_state(p), PORT_STATE_ERROR);
	assert_int_equal(worker_count(), 0);
	assert_int_equal(port_counters(p)->read_errors[EIO], 1);
	port_free(p);
	fx->penv.base = NULL;
}

/*
 * A vnet_hdr port's worker on a real thread: the super-frames it reads are
 * cut there, counted in its own counters, and the capture hand-offs reach
 * the main loop's ring whole (run under TSan by `make unit-tsan`).
 */
static void test_threads_vnet_hdr(void **state)
{
	static uint8_t buf[PORT_VNET_READ_MAX + 128];
	struct fx *fx = *state;
	struct binding_counters c;
	struct capture_stats st;
	struct binding *root, *cap;
	struct port *p;
	struct stack *s;
	uint64_t want = 0, supers = 0, rx = 0;
	int turns;

	fx->base = event_base_new();
	assert_non_null(fx->base);
	fx->penv.base = fx->base;
	p = tun_open_with(fx, "mv", 2, true);
	s = stack_new(&fx->senv, p);
	assert_non_null(s);
	root = bind_ok(s, "{\"match\":{},\"handler\":\"count\"}");
	cap = bind_ok(s, "{\"match\":{},\"handler\":\"capture\",\"options\":{\"limit\":0}}");
	for (unsigned i = 0; i < 300; i++) {
		/* Only super-frames (kinds 1..4 of vnet_frame()): i % 7 + 1 datagrams each. */
		if (i % 6 == 0 || i % 6 == 5)
			continue;
		assert_int_equal(memio_push_queue(fx->m, "mv", 1, buf, vnet_frame(buf, i)), 0);
		want += i % 7 + 1;
		supers++;
	}
	/* Bounded: 20 s at most, on however slow a machine. */
	for (turns = 0; turns < 20000; turns++) {
		event_base_loop(fx->base, EVLOOP_NONBLOCK);
		port_pause(p);
		capture_ring_stats(stack_ring(s), &st);
		rx = port_counters(p)->rx_frames;
		port_resume(p);
		if (rx == want && st.records == want)
			break;
		sleep_ms(1);
	}
	assert_int_equal(rx, want);
	assert_int_equal(st.records, want);
	assert_int_equal(port_queue_rx_frames(p, 1), want);
	assert_int_equal(port_counters(p)->rx_gso_frames, supers);
	assert_int_equal(port_counters(p)->rx_gso_bad, 0);
	assert_int_equal(stack_queue_dropped(s, 1), 0);
	port_pause(p);
	binding_counters_sum(root, &c);
	assert_int_equal(c.packets, want);
	binding_counters_sum(cap, &c);
	assert_int_equal(c.errors, 0);
	assert_int_equal(stack_counters(s)->matched, want);
	port_resume(p);
	stack_free(s);
	port_free(p);
	assert_int_equal(worker_count(), 0);
	fx->penv.base = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_same_as_one_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vnet_hdr_same_as_one_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vnet_hdr_trains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_capture_limit_across_queues, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_refusal_logged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_read_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_device_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_refusals, setup, teardown),
		cmocka_unit_test(test_state_round_trip),
		cmocka_unit_test_setup_teardown(test_threads_mutation_under_traffic, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_threads_vnet_hdr, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
