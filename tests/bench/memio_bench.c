// SPDX-License-Identifier: MIT
/*
 * The memory I/O harness of `make bench` (issue 11): paird's per-frame path
 * (port_read_ready -> frame_parse -> dispatch -> handlers) on a port whose
 * reads hand out prebuilt frames from memory and whose writes go nowhere,
 * so that callgrind counts the instructions paird itself spends on a frame
 * and nothing of the kernel's. The device is the memory port I/O of the
 * unit tests (tests/fakes) for everything but read and write.
 *
 *   memio_bench -c CASE [-T tun|tap] [-s PAYLOAD] [-b BINDINGS] [-n FRAMES]
 *
 * CASE is one of the bench's: count (a count binding at UDP port 9000),
 * capture (a capture binding at the root: every frame), echo (UDP echo at
 * port 9000, a reply written per frame), forward (every frame written to a
 * second port), host (ARP reply on tap, ICMP echo and UDP echo at port 7;
 * the frames are UDP datagrams to port 7, as the bench's host case sends),
 * ping (the same host fed ICMP echo requests, the bench's ping -f case),
 * countN (-b count bindings on UDP ports 9000.., frames spread over all of
 * them). tests/bench/callgrind.sh runs it under callgrind, collecting only
 * port_read_ready() less the harness's read and write, and prints
 * instructions per frame.
 *
 * -t PASSES times it instead, run natively: after a pass that warms the
 * caches (and fills a capture ring), PASSES passes of FRAMES frames, each
 * followed by the same reads with nothing else (the harness's own part: the
 * copy the kernel's read() would make); it prints the median pass's time
 * per frame less that part, in nanoseconds and in TSC ticks (reference
 * cycles at the TSC's fixed rate: a VM without a cycle counter for perf
 * still has the TSC), and the harness's part beside them.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#include <jansson.h>

#include "../../service/bindcfg.h"
#include "../../service/build.h"
#include "../../service/capture.h"
#include "../../service/log.h"
#include "../../service/port.h"
#include "../../service/stack.h"
#include "../fakes/portio_mem.h"

#define MAX_FRAMES 4096
#define BURST	   64

static uint8_t *frames[MAX_FRAMES];
static size_t frame_len[MAX_FRAMES], n_frames, next_frame, burst_left;
static unsigned long long writes;

static ssize_t fast_read(void *ctx, int fd, void *buf, size_t len)
{
	size_t n;

	(void)ctx;
	(void)fd;
	if (!burst_left)
		return -EAGAIN;
	burst_left--;
	n = frame_len[next_frame];
	memcpy(buf, frames[next_frame], n < len ? n : len);
	if (++next_frame == n_frames)
		next_frame = 0;
	return (ssize_t)n;
}

static ssize_t fast_write(void *ctx, int fd, const void *buf, size_t len)
{
	(void)ctx;
	(void)fd;
	(void)buf;
	writes++;
	return (ssize_t)len;
}

static struct port *ports[2];

static struct port *lookup(void *arg, const char *name)
{
	(void)arg;
	for (int i = 0; i < 2; i++)
		if (ports[i] && strcmp(port_name(ports[i]), name) == 0)
			return ports[i];
	return NULL;
}

static void die(const char *what, const char *why)
{
	fprintf(stderr, "memio_bench: %s: %s\n", what, why);
	exit(1);
}

static uint64_t ticks(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __rdtsc();
#else
	return 0;
#endif
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* @n frames through paird's read loop, in bursts of BURST reads. */
static void drive(struct port *p, unsigned long long n)
{
	while (n) {
		burst_left = n < BURST ? (size_t)n : BURST;
		n -= burst_left;
		port_read_ready(p);
		if (burst_left)
			die("read loop", "stopped before the burst was read");
	}
}

/* The harness's part of drive(): the same reads into a buffer, nothing else. */
static void drive_reads(uint8_t *buf, unsigned long long n)
{
	ssize_t (*volatile rd)(void *, int, void *, size_t) = fast_read;

	burst_left = (size_t)n;
	while (rd(NULL, -1, buf, PORT_FRAME_MAX) > 0)
		;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of @n values (sorted in place). */
static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void bind_json(struct stack *s, enum port_type type, const char *spec)
{
	struct fault f = FAULT_INIT;
	struct binding_config cfg;
	json_error_t jerr;
	json_t *doc = json_loads(spec, 0, &jerr);

	if (!doc)
		die(spec, jerr.text);
	if (bindcfg_from_json(doc, type, false, &cfg, &f) < 0 || stack_bind(s, &cfg, NULL, &f) < 0)
		die(spec, f.detail);
	json_decref(doc);
}

static void add_frame(const uint8_t *buf, ssize_t n)
{
	if (n <= 0 || n_frames == MAX_FRAMES)
		die("frame", "cannot build");
	frames[n_frames] = malloc((size_t)n);
	if (!frames[n_frames])
		die("frame", "out of memory");
	memcpy(frames[n_frames], buf, (size_t)n);
	frame_len[n_frames++] = (size_t)n;
}

int main(int argc, char **argv)
{
	static const uint8_t mac_k[6] = { 2, 0, 0, 0, 0, 1 }, mac_p[6] = { 2, 0, 0, 0, 0, 2 };
	static const uint8_t v4_k[4] = { 198, 18, 0, 1 }, v4_p[4] = { 198, 18, 0, 2 };
	static uint8_t buf[PORT_FRAME_MAX], payload[1500];
	const char *kase = "count";
	unsigned long long n = 100000, total;
	unsigned nb = 1, passes = 0;
	size_t plen = 64;
	enum port_type type = PORT_TAP;
	struct port_io_ops ops;
	struct port_env penv = { 0 };
	struct stack_env senv = { 0 };
	struct stack *stacks[2] = { 0 };
	struct build_link l = { 0 };
	struct build_ip ip = { .family = AF_INET };
	struct memio *m;
	char spec[256];
	int c;

	while ((c = getopt(argc, argv, "c:T:s:b:n:t:")) != -1) {
		switch (c) {
		case 'c':
			kase = optarg;
			break;
		case 'T':
			type = strcmp(optarg, "tun") == 0 ? PORT_TUN : PORT_TAP;
			break;
		case 's':
			plen = strtoul(optarg, NULL, 10);
			break;
		case 'b':
			nb = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'n':
			n = strtoull(optarg, NULL, 10);
			break;
		case 't':
			passes = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default:
			die("usage", "memio_bench -c CASE [-T tun|tap] [-s PAYLOAD] [-b N] "
				     "[-n FRAMES] [-t PASSES]");
		}
	}
	if (plen > sizeof(payload) || nb < 1 || nb > MAX_FRAMES || n < 1 || passes > 99)
		die("options", "payload at most 1500, bindings 1..4096, frames >= 1, passes <= 99");
	log_set_level(LOG_ERROR);
	m = memio_new();
	if (!m)
		die("memio", "out of memory");
	penv.io = memio_io(m);
	ops = *penv.io.ops;
	ops.read = fast_read;
	ops.write = fast_write;
	penv.io.ops = &ops;
	penv.read_budget = (size_t)1 << 30;
	senv.budget = capture_budget_new(64u << 20);
	senv.ring_bytes = CAPTURE_RING_DEFAULT;
	senv.max_bindings = 4096;
	senv.scratch = malloc(PORT_FRAME_MAX);
	senv.lookup = lookup;
	if (!senv.budget || !senv.scratch)
		die("setup", "out of memory");
	for (int i = 0; i < (strcmp(kase, "forward") == 0 ? 2 : 1); i++) {
		struct fault f = FAULT_INIT;
		struct port_config pc = { .type = type };

		snprintf(pc.name, sizeof(pc.name), "%s%d", type == PORT_TAP ? "tap" : "tun", i);
		ports[i] = port_open(&penv, &pc, &f);
		if (!ports[i])
			die("port_open", f.detail);
		stacks[i] = stack_new(&senv, ports[i]);
		if (!stacks[i])
			die("stack_new", "out of memory");
	}

	l.link = type == PORT_TAP ? LINK_ETHERNET : LINK_IP;
	memcpy(l.dst, mac_p, 6);
	memcpy(l.src, mac_k, 6);
	memcpy(ip.src, v4_k, 4);
	memcpy(ip.dst, v4_p, 4);
	for (size_t i = 0; i < plen; i++)
		payload[i] = (uint8_t)i;
	if (strcmp(kase, "count") == 0 || strcmp(kase, "countN") == 0) {
		if (strcmp(kase, "count") == 0)
			nb = 1;
		for (unsigned i = 0; i < nb; i++) {
			snprintf(
				spec, sizeof(spec),
				"{\"match\":{\"ethertype\":2048,\"ip_protocol\":17,\"udp_port\":%u},"
				"\"handler\":\"count\"}",
				9000 + i);
			bind_json(stacks[0], type, spec);
			add_frame(buf, build_udp(buf, sizeof(buf), &l, &ip, 40000,
						 (uint16_t)(9000 + i), payload, plen));
		}
	} else if (strcmp(kase, "capture") == 0) {
		bind_json(stacks[0], type, "{\"handler\":\"capture\"}");
		add_frame(buf, build_udp(buf, sizeof(buf), &l, &ip, 40000, 9000, payload, plen));
	} else if (strcmp(kase, "echo") == 0) {
		bind_json(stacks[0], type,
			  "{\"match\":{\"ethertype\":2048,\"ip_protocol\":17,\"udp_port\":9000},"
			  "\"handler\":\"echo\"}");
		add_frame(buf, build_udp(buf, sizeof(buf), &l, &ip, 40000, 9000, payload, plen));
	} else if (strcmp(kase, "forward") == 0) {
		snprintf(spec, sizeof(spec),
			 "{\"handler\":\"forward\",\"options\":{\"port\":\"%s\"}}",
			 port_name(ports[1]));
		bind_json(stacks[0], type, spec);
		add_frame(buf, build_udp(buf, sizeof(buf), &l, &ip, 40000, 9000, payload, plen));
	} else if (strcmp(kase, "host") == 0 || strcmp(kase, "ping") == 0) {
		if (type == PORT_TAP)
			bind_json(stacks[0], type,
				  "{\"match\":{\"ethertype\":2054},\"handler\":\"arp_reply\","
				  "\"options\":{\"addresses\":[\"198.18.0.2\"]}}");
		bind_json(
			stacks[0], type,
			"{\"match\":{\"ethertype\":2048,\"ip_protocol\":1},\"handler\":\"echo\"}");
		bind_json(stacks[0], type,
			  "{\"match\":{\"ethertype\":2048,\"ip_protocol\":17,\"udp_port\":7},"
			  "\"handler\":\"echo\"}");
		if (strcmp(kase, "ping") == 0)
			add_frame(buf, build_icmp_echo(buf, sizeof(buf), &l, &ip, false, 1, 1,
						       payload, plen));
		else
			add_frame(buf,
				  build_udp(buf, sizeof(buf), &l, &ip, 40000, 7, payload, plen));
	} else {
		die(kase, "unknown case (count capture echo forward host ping countN)");
	}

	drive(ports[0], n);
	total = n;
	printf("RESULT memio case=%s dev=%s payload=%zu bindings=%u frames=%llu", kase,
	       type == PORT_TAP ? "tap" : "tun", plen, nb, n);
	if (passes) {
		double ns[99], tk[99], null_ns[99], null_tk[99], t0, t1;
		uint64_t k0, k1;

		for (unsigned i = 0; i < passes; i++) {
			t0 = now_ns();
			k0 = ticks();
			drive(ports[0], n);
			k1 = ticks();
			t1 = now_ns();
			ns[i] = (t1 - t0) / (double)n;
			tk[i] = (double)(k1 - k0) / (double)n;
			t0 = now_ns();
			k0 = ticks();
			drive_reads(buf, n);
			k1 = ticks();
			t1 = now_ns();
			null_ns[i] = (t1 - t0) / (double)n;
			null_tk[i] = (double)(k1 - k0) / (double)n;
			total += n;
		}
		printf(" passes=%u ns_per_frame=%.1f tsc_per_frame=%.0f harness_ns_per_frame=%.1f "
		       "harness_tsc_per_frame=%.0f",
		       passes, median(ns, passes) - median(null_ns, passes),
		       median(tk, passes) - median(null_tk, passes), median(null_ns, passes),
		       median(null_tk, passes));
	}
	{
		const struct stack_counters *sc = stack_counters(stacks[0]);

		printf(" matched=%llu writes=%llu\n", (unsigned long long)sc->matched, writes);
		if (sc->matched != total)
			die("dispatch", "not every frame matched a binding");
	}
	for (int i = 1; i >= 0; i--) {
		stack_free(stacks[i]);
		if (ports[i])
			port_free(ports[i]);
	}
	for (size_t i = 0; i < n_frames; i++)
		free(frames[i]);
	capture_budget_free(senv.budget);
	free(senv.scratch);
	memio_free(m);
	return 0;
}
