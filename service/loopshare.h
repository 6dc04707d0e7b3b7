/* SPDX-License-Identifier: MIT */
/*
 * How the data plane and the API share the one event loop (DESIGN.md,
 * "Threads and the loop"). The ports say whether frames are waiting (a read
 * turn that ended on its frame cap or byte budget rather than on EAGAIN);
 * the HTTP server asks before each run of libmicrohttpd whether the API may
 * run now, and says how long it ran. While no port has frames waiting the
 * API runs whenever it has work; while one has, the API gets at most
 * LOOPSHARE_API_DIV-th of the loop's time over the long run, after a burst
 * of LOOPSHARE_API_BURST_NS, so neither side can starve the other. Time is
 * paird's own CPU time; the ports read the clock only when the first of
 * them starts having frames waiting, never per frame or per turn.
 *
 * Single-threaded: one loopshare per event loop, owned by whoever made the
 * loop (paird.c), shared by the port set and every HTTP server on it.
 */
#ifndef PAIRD_LOOPSHARE_H
#define PAIRD_LOOPSHARE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * The API's share of the loop while frames are waiting: 1/32. The issue
 * asks the data plane to keep >= 90 % of its rate while the API is loaded;
 * what the API costs besides its own run (the loop turns it adds, the
 * kernel's TCP work on paird's CPU) comes out of the same 10 %. At 1/16 a
 * tap port under wrk kept 0.88-0.90 of its rate (issue 11's bench, the
 * README): the rest of the API's cost was as large as its own run, so
 * its own run gets a third of the 10 %. A dashboard or a CLI request is
 * still answered from the burst below at once.
 */
#define LOOPSHARE_API_DIV 32
/*
 * The credit the API may spend at once after a quiet spell: a page of 100
 * decoded capture records costs ~2.4 ms on a slow host, so one such request
 * from a dashboard is answered whole, in one go, however busy the ports.
 */
#define LOOPSHARE_API_BURST_NS ((int64_t)4 * 1000 * 1000)

struct loopshare;

/* Nanoseconds of a clock that never goes back; @arg is the one given to loopshare_new(). */
typedef uint64_t (*loopshare_clock_fn)(void *arg);

/*
 * @clock NULL means the calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID):
 * the loop's thread must be the one that calls. Tests give a clock of their
 * own, so what the API "costs" is decided by the test, not by the machine.
 * NULL with errno ENOMEM.
 */
struct loopshare *loopshare_new(loopshare_clock_fn clock, void *arg);
/* NULL is a no-op. Every port and server using it must be gone. */
void loopshare_free(struct loopshare *ls);

uint64_t loopshare_now(const struct loopshare *ls);

/* A port starts (+1) or stops (-1) having frames waiting after its turn. */
void loopshare_backlog(struct loopshare *ls, int delta);
/* True while some port has frames waiting. */
bool loopshare_backlogged(const struct loopshare *ls);

/*
 * 0 when the API may run at @now; otherwise the nanoseconds until it may
 * (its credit back to zero, if no port empties its queue first).
 */
uint64_t loopshare_api_wait(struct loopshare *ls, uint64_t now);
/*
 * The API ran for @ns: charged to its credit (while no frames wait, the
 * idle spell pays it back when they do again).
 */
void loopshare_api_spent(struct loopshare *ls, uint64_t ns);

#endif
