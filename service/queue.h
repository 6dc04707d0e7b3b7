/* SPDX-License-Identifier: MIT */
/*
 * The extra queues of a multi-queue port (port option "queues": N > 1,
 * IFF_MULTI_QUEUE): the device is opened N times under one name; queue 0
 * stays in the main loop exactly as a single-queue port's fd does, and
 * each of queues 1..N-1 gets a worker thread of its own running its own
 * libevent event_base that reads only its own fd (DESIGN.md, "Threads and
 * the loop": one loop per queue, each with its own counters, summed on
 * read). The kernel picks the queue of a frame by flow hash (RPS/XPS), so
 * one flow always lands on one queue. port.c owns this module; stack.c
 * runs on it through the queue sink.
 *
 * The threading rule, which every line of the data plane obeys:
 *
 * 1. The per-frame path shares nothing writable. A worker reads into its
 *    own buffer (on a vnet_hdr port one as large as queue 0's, where it
 *    cuts super-frames into datagrams as queue 0 does: vnet.h), counts in its own counter blocks (this queue's struct
 *    port_counters here; its lane of the stack's counters and of every
 *    binding's counters in stack.c), builds replies in its own scratch and
 *    writes them on its own queue fd. Each of those counter blocks has one
 *    writer, its worker, which stores with relaxed atomics (a plain
 *    load, add, store on x86-64: no lock prefix); readers on the main
 *    thread sum them with relaxed atomic loads. A counter reset happens
 *    with the queues locked (rule 2), so it never races with a worker.
 *
 * 2. Everything else a worker reads during a burst (the port's
 *    configuration and link, the stack's dispatch index, its bindings and
 *    their options and handler state, stream taps, the sinks) is changed
 *    by the main thread only, and only between queues_lock() and
 *    queues_unlock(): each queue has a mutex its worker holds for a whole
 *    burst (one readiness turn, at most the read budget), and
 *    queues_lock() takes every queue's mutex of the port, in queue order.
 *    The one path all mutations go through is port_pause()/port_resume()
 *    (port.h), which stack.c calls inside each of its mutating functions
 *    (stack_bind, stack_unbind, stack_detach, stack_reattach,
 *    stack_restart, stack_attach, stack_free, tap add/remove, ring
 *    release), and port.c around every store to the configuration, the
 *    link and the sinks: no caller outside those two files can forget it.
 *    A worker never waits for the main thread while holding its mutex,
 *    and the main thread takes the mutexes in one order, so there is no
 *    deadlock; the lock is nested on the main thread (a depth count).
 *
 * 3. What must happen in the main loop (a capture ring append, which
 *    wakes long polls and streams; a forward to another port and that
 *    port's counters; stream taps) is handed off: the worker copies the
 *    frame into its lane's single-producer single-consumer ring (stack.c)
 *    and wakes the main loop through an eventfd once per burst; the main
 *    loop runs the handler there, with the main thread's counters, as a
 *    single-queue port would have. Before any mutation (rule 2) the
 *    hand-offs are drained, so a pending record never outlives the
 *    binding it names. Frames of different queues may therefore reach a
 *    capture in another order than they were read; within one queue the
 *    order is kept.
 *
 * 4. A queue's read error (or EBADFD: the device is gone) stops that
 *    worker's reading and is reported to the main loop through the same
 *    eventfd, which puts the port in state error (or gone) as queue 0's
 *    error would. Threads start once the port is open and are stopped and
 *    joined when it fails and before its fds close (delete, replace, gone,
 *    shutdown). They
 *    block every signal: signals are the main loop's.
 *
 * Without a main event_base (unit tests on the memory I/O) no thread
 * starts; tests call queues_read_ready() and queues_service() themselves.
 */
#ifndef PAIRD_QUEUE_H
#define PAIRD_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "port.h"
#include "portio.h"

struct event_base;
struct queues;

/*
 * A frame read by worker @q (1..N-1), on that worker's thread with its
 * mutex held, @rx as for a port's sink (enum port_rx). Returns true when
 * it handed work off to the main loop.
 */
typedef bool (*queue_frame_fn)(void *arg, unsigned q, const uint8_t *frame, size_t len,
			       unsigned rx);
/* The rest of a train, on worker @q (port_train_fn). */
typedef bool (*queue_train_fn)(void *arg, unsigned q, uint64_t n, uint64_t bytes);
/* Runs, in the main loop, what worker @q handed off. */
typedef void (*queue_drain_fn)(void *arg, unsigned q);
/* In the main loop: worker @q stopped reading on errno @err (EBADFD: the device is gone). */
typedef void (*queue_report_fn)(void *arg, unsigned q, int err);

/* Single-writer counters: the owner stores with this, readers load with queue_ctr_load(). */
#define QUEUE_CTR_ADD(x, v)                                                             \
	__atomic_store_n(&(x), __atomic_load_n(&(x), __ATOMIC_RELAXED) + (uint64_t)(v), \
			 __ATOMIC_RELAXED)

static inline uint64_t queue_ctr_load(const uint64_t *x)
{
	return __atomic_load_n(x, __ATOMIC_RELAXED);
}

/*
 * Queues 1..@n of a port configured as @cfg on @fds[0..@n-1], which the
 * set owns from now on (closed by queues_free(), also on failure). A
 * vnet_hdr port's queues read and write as queue 0 does (vnet.h). With
 * @main NULL no thread starts. NULL with errno set.
 */
struct queues *queues_new(struct event_base *main, const struct port_io *io, size_t budget,
			  const struct port_config *cfg, const int *fds, unsigned n,
			  queue_report_fn report, void *report_arg);
/* Starts the workers (a no-op without a main event_base). 0 or -errno; nothing runs on failure. */
int queues_start(struct queues *qs);
/* Stops and joins the workers, closes the fds, frees. NULL is a no-op. */
void queues_free(struct queues *qs);

/* Takes (nested) / gives back every queue's mutex: see rule 2 above. */
void queues_lock(struct queues *qs);
void queues_unlock(struct queues *qs);
/* Stops every worker's reading and joins its thread (the port failed); counters stay. */
void queues_halt(struct queues *qs);

/* Sets the sinks (under queues_lock()): NULL @frame: frames are counted, not dispatched. */
void queues_set_sink(struct queues *qs, queue_frame_fn frame, queue_train_fn train,
		     queue_drain_fn drain, void *arg);
/* Whether the sink reads payload (port_set_sink_reads()): true until told. */
void queues_set_sink_reads(struct queues *qs, bool reads);

/* The extra queues' count (the port's queues - 1). */
unsigned queues_count(const struct queues *qs);
/* Adds worker @q's port counters to @sum (1..N-1). */
void queues_counters_add(const struct queues *qs, unsigned q, struct port_counters *sum);
/* Frames worker @q read (1..N-1). */
uint64_t queues_rx_frames(const struct queues *qs, unsigned q);

/* Worker @q's write of one frame on its own fd, counted on its own counters. */
int queues_write(struct queues *qs, unsigned q, const void *frame, size_t len);
/* port_next_ip_id() for queue @q: the worker's own numbering. */
uint16_t queues_next_ip_id(struct queues *qs, unsigned q);

/* The worker's read turn on queue @q: called by its thread, or by a test. */
void queues_read_ready(struct queues *qs, unsigned q);
/* The main loop's turn: reports and hand-off drains of every queue. */
void queues_service(struct queues *qs);

/*
 * A single-producer single-consumer ring of variable-size records: a
 * worker hands frames to the main loop through one (rule 3). Records are
 * 16-byte aligned; the producer reserves, fills and commits; the consumer
 * peeks and pops. Never blocks, never allocates after qring_new().
 */
struct qring;
/* @bytes: a power of two, at least 4096. NULL on ENOMEM. */
struct qring *qring_new(size_t bytes);
void qring_free(struct qring *r);
/* Room for a record of @len bytes, NULL when the ring is full (producer). */
void *qring_reserve(struct qring *r, size_t len);
/* Publishes the record qring_reserve() gave, of @len bytes (producer). */
void qring_commit(struct qring *r, size_t len);
/* The oldest record and its length, NULL when empty (consumer). */
void *qring_peek(struct qring *r, size_t *len);
/* Drops the record qring_peek() gave (consumer). */
void qring_pop(struct qring *r);

#endif
