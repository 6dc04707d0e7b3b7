/* SPDX-License-Identifier: MIT */
/*
 * The capture filters of one request, checked at a bounded cost. libpcap
 * compiles a filter on the loop's thread, and a legal one (under
 * CAPTURE_FILTER_MAX bytes: "portrange 0-9 or portrange 1-9 or ...")
 * takes tens of milliseconds where an ordinary one takes microseconds; a
 * document of thousands of them would hold the data plane and the API for
 * minutes. So each distinct filter (its text and the framing it filters)
 * is compiled once per request, and the compile time its bindings add up
 * to (each binding charged its filter's cost, as applying the document
 * compiles each binding's own program) is held to a budget. config.c
 * checks a document's filters through it; nothing else keeps one.
 */
#ifndef PAIRD_FILTERCHECK_H
#define PAIRD_FILTERCHECK_H

#include <stdint.h>

#include "fault.h"
#include "port.h"

/*
 * The budget of one request (PUT /api/v1/config): an ordinary filter
 * compiles in 5-20 us, so the largest legal document (64 x 1,024 capture
 * bindings, each with its own ordinary filter) costs ~1.3 s at worst but
 * any realistic set far less; one of the costliest 512-byte filters takes
 * ~30 ms, so ~33 bindings carrying such filters fit in it.
 */
#define FILTER_CHECK_BUDGET_MS 1000

struct filter_check;

/* A check of at most @budget_ns of compile time (0: no budget). NULL when out of memory. */
struct filter_check *filter_check_new(uint64_t budget_ns);
void filter_check_free(struct filter_check *fc);

/*
 * Checks that @filter compiles for frames of a @link port (compiled only
 * the first time this check meets it), charging its compile time to the
 * budget. A bad filter is a FAULT_INVALID naming @field in libpcap's words
 * (the same for every binding carrying it); a filter that takes the total
 * over the budget is a FAULT_INVALID naming @field that says so. Returns
 * 0, -EINVAL (bad filter), -E2BIG (over the budget: every later call
 * returns -E2BIG at once, with no fault), or -ENOMEM with @f filled.
 */
int filter_check_one(struct filter_check *fc, const char *filter, enum frame_link link,
		     uint32_t snaplen, const char *field, struct fault *f);

/* The compile time charged so far, in ns. */
uint64_t filter_check_spent(const struct filter_check *fc);

/*
 * Tests: the clock the compile time is read from (the calling thread's
 * CPU time, CLOCK_THREAD_CPUTIME_ID in ns, when NULL, the default), so a test can make every compile cost what it
 * wants instead of timing libpcap on a machine of unknown speed.
 */
typedef uint64_t (*filter_clock_fn)(void);
void filter_check_set_clock(filter_clock_fn fn);

#endif
