// SPDX-License-Identifier: MIT
/*
 * The bare read-and-write loop of `make bench` (issue 11): the least a
 * program that answers or forwards frames can cost, to set paird's echo,
 * forward and host cases beside. ../shared/bench's tunread only reads; a
 * handler that writes also pays the write, and on tun/tap the kernel runs
 * its whole receive path for the written frame inside that write() (IP,
 * UDP, socket lookup), charged to the writer. This loop does just that much:
 * a libevent loop like tunread's "event" mode that, per frame read,
 *
 *   echo     swaps the Ethernet (tap), IPv4 and UDP addresses and ports in
 *            place and writes the frame back (checksums stay valid: a swap
 *            changes no one's-complement sum);
 *   forward  writes the frame unchanged to a second device (-o).
 *
 *   rwloop -m echo|forward -i IF -T tun|tap [-o IF2] [-w IDLE_MS] [-t SEC] [-C CPU]
 *
 * Attaches to existing (persistent) devices, prints READY, then drains
 * until IDLE_MS without frames (once the first came) or SEC, and prints one
 * "RESULT read mode=rw-MODE ..." line with tunread's keys.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

struct loop {
	int fd, out;
	bool tap, echo;
	double idle_s, max_s, t_start, t_first, t_last, t_seen;
	long long pkts, bytes, writes, write_errors, seen;
	struct event_base *base;
	uint8_t buf[65536];
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int tun_attach(const char *name, bool tap)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_flags = (short)((tap ? IFF_TAP : IFF_TUN) | IFF_NO_PI);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int err = errno;

		close(fd);
		return -err;
	}
	return fd;
}

static void swap(uint8_t *a, uint8_t *b, size_t n)
{
	uint8_t t[16];

	memcpy(t, a, n);
	memcpy(a, b, n);
	memcpy(b, t, n);
}

/* Turns an IPv4/UDP frame around in place; false for anything else. */
static bool turn_around(uint8_t *f, size_t len, bool tap)
{
	size_t l3 = tap ? 14 : 0, ihl;

	if (len < l3 + 28 || (tap && (f[12] != 0x08 || f[13] != 0x00)))
		return false;
	if ((f[l3] >> 4) != 4 || f[l3 + 9] != 17)
		return false;
	ihl = (size_t)(f[l3] & 0x0f) * 4;
	if (ihl < 20 || len < l3 + ihl + 8)
		return false;
	if (tap)
		swap(f, f + 6, 6);
	swap(f + l3 + 12, f + l3 + 16, 4);
	swap(f + l3 + ihl, f + l3 + ihl + 2, 2);
	return true;
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
	struct loop *l = arg;

	(void)what;
	for (int i = 0; i < 4096; i++) {
		ssize_t n = read((int)fd, l->buf, sizeof(l->buf));

		if (n < 0)
			break;
		l->t_last = now_s();
		if (!l->pkts++)
			l->t_first = l->t_last;
		l->bytes += n;
		if (l->echo && !turn_around(l->buf, (size_t)n, l->tap))
			continue;
		if (write(l->echo ? (int)fd : l->out, l->buf, (size_t)n) == n)
			l->writes++;
		else
			l->write_errors++;
	}
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct loop *l = arg;
	double t = now_s();

	(void)fd;
	(void)what;
	if (l->pkts != l->seen) {
		l->seen = l->pkts;
		l->t_seen = t;
	}
	if ((l->pkts > 0 && t - l->t_seen >= l->idle_s) || t - l->t_start >= l->max_s)
		event_base_loopbreak(l->base);
}

static void usage(void)
{
	fprintf(stderr, "usage: rwloop -m echo|forward -i IF -T tun|tap [-o IF2] [-w IDLE_MS] "
			"[-t SEC] [-C CPU]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static struct loop l = { .fd = -1, .out = -1, .idle_s = 0.4, .max_s = 30, .seen = -1 };
	const char *ifname = "atun0", *out = NULL, *mode = NULL;
	struct timeval tick = { 0, 50000 };
	struct event *ev, *tk;
	double c0, c1, span;
	int opt, cpu = -1;

	while ((opt = getopt(argc, argv, "m:i:T:o:w:t:C:h")) != -1) {
		switch (opt) {
		case 'm':
			mode = optarg;
			break;
		case 'i':
			ifname = optarg;
			break;
		case 'T':
			l.tap = strcmp(optarg, "tap") == 0;
			break;
		case 'o':
			out = optarg;
			break;
		case 'w':
			l.idle_s = atof(optarg) / 1000;
			break;
		case 't':
			l.max_s = atof(optarg);
			break;
		case 'C':
			cpu = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (!mode || (strcmp(mode, "echo") != 0 && strcmp(mode, "forward") != 0) ||
	    (strcmp(mode, "forward") == 0 && !out))
		usage();
	l.echo = strcmp(mode, "echo") == 0;
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	l.fd = tun_attach(ifname, l.tap);
	if (l.fd < 0 || (out && (l.out = tun_attach(out, l.tap)) < 0)) {
		fprintf(stderr, "rwloop: cannot attach to %s: %s\n", l.fd < 0 ? ifname : out,
			strerror(l.fd < 0 ? -l.fd : -l.out));
		return 1;
	}
	l.base = event_base_new();
	ev = event_new(l.base, l.fd, EV_READ | EV_PERSIST, on_read, &l);
	tk = event_new(l.base, -1, EV_PERSIST, on_tick, &l);
	if (!l.base || !ev || !tk || event_add(ev, NULL) < 0 || event_add(tk, &tick) < 0) {
		fprintf(stderr, "rwloop: libevent failed\n");
		return 1;
	}
	l.t_start = now_s();
	l.t_seen = l.t_start;
	printf("READY\n");
	fflush(stdout);
	c0 = cpu_s();
	event_base_dispatch(l.base);
	c1 = cpu_s();
	span = l.pkts > 1 ? l.t_last - l.t_first : 0;
	printf("RESULT read mode=rw-%s dev=%s if=%s pkts=%lld bytes=%lld writes=%lld "
	       "write_errors=%lld span_s=%.6f pps=%.0f cpu_s=%.3f cpu_ns_per_pkt=%.0f\n",
	       mode, l.tap ? "tap" : "tun", ifname, l.pkts, l.bytes, l.writes, l.write_errors, span,
	       span > 0 ? (double)(l.pkts - 1) / span : 0, c1 - c0,
	       l.pkts ? (c1 - c0) * 1e9 / (double)l.pkts : 0);
	event_free(ev);
	event_free(tk);
	event_base_free(l.base);
	close(l.fd);
	if (l.out >= 0)
		close(l.out);
	return 0;
}
