// SPDX-License-Identifier: MIT
/*
 * The loop's sharing between the data plane and the API (loopshare.h): a
 * count of ports with frames waiting, and the API's credit, a token bucket
 * in nanoseconds, up to LOOPSHARE_API_BURST_NS. The API's runs spend it.
 * While frames wait it grows by 1/LOOPSHARE_API_DIV of paird's CPU time,
 * and the API waits while it is spent. While no frames wait the API never
 * waits, and the idle spell is credited at its length on the wall clock
 * (paird may be asleep) when frames wait again. So a queue that empties for
 * an instant between bursts (a generator itself short of CPU) gives the API
 * only that instant, not a fresh burst; what the API ran meanwhile is
 * charged all the same; a quiet spell of a few milliseconds fills the
 * bucket again.
 *
 * Why CPU time and not the wall clock: on a shared host paird is off its
 * CPU for a part of the time, and a share of the wall clock would then be a
 * larger share of what paird really runs (1/32 of the wall is an eighth of
 * paird's time when paird gets a quarter of a CPU). The thread's CPU clock
 * is a system call (~0.1-2 us), read only around the API's runs and when
 * the backlog starts or ends, never per frame or per turn of a port.
 *
 * Why a time budget rather than turns or libevent priorities: a priority
 * above the ports would let a flood of requests starve them, one below would
 * never run the API while a port is saturated (its fd is always readable),
 * and a run of libmicrohttpd costs anything from a few microseconds (an
 * idle check) to milliseconds (sixteen connections asking for capture
 * pages), so only time measures what it took from the ports.
 */
#include "loopshare.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

struct loopshare {
	loopshare_clock_fn clock, idle_clock;
	void *clock_arg;
	uint64_t idle_since; /* idle_clock when the last port stopped having frames waiting */
	unsigned backlogged; /* ports whose last turn left frames waiting */
	int64_t credit;	     /* ns the API may still spend; negative: it waits */
	uint64_t last;	     /* when the credit was brought up to date */
};

static uint64_t monotonic_ns(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t thread_cpu_ns(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct loopshare *loopshare_new(loopshare_clock_fn clock, void *arg)
{
	struct loopshare *ls = calloc(1, sizeof(*ls));

	if (!ls) {
		errno = ENOMEM;
		return NULL;
	}
	ls->clock = clock ? clock : thread_cpu_ns;
	ls->idle_clock = clock ? clock : monotonic_ns;
	ls->clock_arg = arg;
	ls->credit = LOOPSHARE_API_BURST_NS;
	ls->last = ls->clock(ls->clock_arg);
	ls->idle_since = ls->idle_clock(ls->clock_arg);
	return ls;
}

void loopshare_free(struct loopshare *ls)
{
	free(ls);
}

uint64_t loopshare_now(const struct loopshare *ls)
{
	return ls->clock(ls->clock_arg);
}

/* Brings the credit up to @now while frames wait: 1/DIV of the time since. */
static void accrue(struct loopshare *ls, uint64_t now)
{
	uint64_t dt = now > ls->last ? now - ls->last : 0;

	ls->last = now > ls->last ? now : ls->last;
	/* Capped before the add: a long spell cannot overflow it. */
	if (dt > (uint64_t)LOOPSHARE_API_BURST_NS * LOOPSHARE_API_DIV)
		dt = (uint64_t)LOOPSHARE_API_BURST_NS * LOOPSHARE_API_DIV;
	ls->credit += (int64_t)(dt / LOOPSHARE_API_DIV);
	if (ls->credit > LOOPSHARE_API_BURST_NS)
		ls->credit = LOOPSHARE_API_BURST_NS;
}

void loopshare_backlog(struct loopshare *ls, int delta)
{
	unsigned n = ls->backlogged;

	if (delta < 0 && n < (unsigned)-delta)
		n = 0; /* defensive: never wraps */
	else
		n = (unsigned)((int)n + delta);
	if (n && !ls->backlogged) {
		/* Frames wait again: the idle spell is credited in full. */
		uint64_t now = ls->idle_clock(ls->clock_arg);
		uint64_t idle = now > ls->idle_since ? now - ls->idle_since : 0;

		if (idle > (uint64_t)2 * LOOPSHARE_API_BURST_NS)
			idle = (uint64_t)2 * LOOPSHARE_API_BURST_NS;
		ls->credit += (int64_t)idle;
		if (ls->credit > LOOPSHARE_API_BURST_NS)
			ls->credit = LOOPSHARE_API_BURST_NS;
		ls->last = ls->clock(ls->clock_arg);
	} else if (!n && ls->backlogged) {
		accrue(ls, ls->clock(ls->clock_arg));
		ls->idle_since = ls->idle_clock(ls->clock_arg);
	}
	ls->backlogged = n;
}

bool loopshare_backlogged(const struct loopshare *ls)
{
	return ls->backlogged > 0;
}

uint64_t loopshare_api_wait(struct loopshare *ls, uint64_t now)
{
	if (!ls->backlogged)
		return 0;
	accrue(ls, now);
	if (ls->credit > 0)
		return 0;
	/* Long enough for the credit to be positive again, whatever the rounding. */
	return ((uint64_t)(-ls->credit) + 1) * LOOPSHARE_API_DIV;
}

void loopshare_api_spent(struct loopshare *ls, uint64_t ns)
{
	/* One run cannot cost more than a second, whatever the clock says. */
	if (ns > 1000000000u)
		ns = 1000000000u;
	ls->credit -= (int64_t)ns;
	/*
	 * A debt of one burst at most: a single run that costs more (sixteen
	 * connections each sent a buffer of a capture page) is not paid back
	 * by waiting more than LOOPSHARE_API_DIV bursts (64 ms).
	 */
	if (ls->credit < -LOOPSHARE_API_BURST_NS)
		ls->credit = -LOOPSHARE_API_BURST_NS;
}
