// SPDX-License-Identifier: MIT
/*
 * The loop's sharing between the data plane and the API (loopshare.h): a
 * count of ports with frames waiting, and the API's credit, a token bucket
 * in nanoseconds of paird's CPU time, up to LOOPSHARE_API_BURST_NS. While
 * frames wait, the API's runs spend it, it grows by 1/LOOPSHARE_API_DIV of
 * the CPU time that passes, and the API waits while it is spent. While no
 * frames wait nothing is counted and the bucket is full: an idle data plane
 * leaves the whole loop to the API. (The ports keep counting as waiting
 * while their turns still read half their cap, port.c: a queue that empties
 * for an instant does not hand the API a fresh burst.)
 *
 * Why CPU time and not the wall clock: on a shared host paird is off its
 * CPU for a part of the time, and a share of the wall clock would then be a
 * larger share of what paird really runs (1/16 of the wall is a quarter of
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
	loopshare_clock_fn clock;
	void *clock_arg;
	unsigned backlogged; /* ports whose last turn left frames waiting */
	int64_t credit;	     /* ns the API may still spend; negative: it waits */
	uint64_t last;	     /* when the credit was brought up to date */
};

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
	ls->clock_arg = arg;
	ls->credit = LOOPSHARE_API_BURST_NS;
	ls->last = ls->clock(ls->clock_arg);
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

/* Brings the credit up to @now: 1/DIV of the time since, full while nothing waits. */
static void accrue(struct loopshare *ls, uint64_t now)
{
	uint64_t dt = now > ls->last ? now - ls->last : 0;

	ls->last = now > ls->last ? now : ls->last;
	if (!ls->backlogged) {
		ls->credit = LOOPSHARE_API_BURST_NS;
		return;
	}
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
	/* Frames start waiting: the credit grows from now on, from a full bucket. */
	if (n && !ls->backlogged)
		accrue(ls, ls->clock(ls->clock_arg));
	ls->backlogged = n;
}

bool loopshare_backlogged(const struct loopshare *ls)
{
	return ls->backlogged > 0;
}

uint64_t loopshare_api_wait(struct loopshare *ls, uint64_t now)
{
	accrue(ls, now);
	if (!ls->backlogged || ls->credit > 0)
		return 0;
	/* Long enough for the credit to be positive again, whatever the rounding. */
	return ((uint64_t)(-ls->credit) + 1) * LOOPSHARE_API_DIV;
}

void loopshare_api_spent(struct loopshare *ls, uint64_t ns)
{
	if (!ls->backlogged)
		return;
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
