// SPDX-License-Identifier: MIT
/*
 * The worker threads of a multi-queue port (queue.h has the design and
 * the threading rule). Each worker runs an event_base of its own with two
 * events: its queue fd's readiness (a burst under the queue's mutex) and
 * a stop eventfd the main thread writes to end it. The main loop hears
 * from the workers through one eventfd per port: hand-offs to drain and
 * read errors to report.
 */
#include "queue.h"

#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "vnet.h"

struct queue {
	struct queues *qs;
	unsigned index; /* 1..N-1 */
	int fd;
	int stop_fd;
	struct event_base *base;
	struct event *ev_read, *ev_stop;
	pthread_t thread;
	bool running;
	pthread_mutex_t lock;
	bool halted;		/* under lock: stop reading */
	int report;		/* atomic: an errno for the main loop, 0 none */
	bool reported;		/* main thread: the report was acted on */
	bool deferred;		/* under lock: the burst handed work off */
	uint8_t *buf;		/* the read size: PORT_VNET_READ_MAX or PORT_FRAME_MAX bytes */
	struct vnet_tx vt;	/* vnet_hdr: the worker's writes (vnet.h) */
	uint16_t ip_id;		/* the next IPv4 identification of the worker's replies */
	struct port_counters c; /* written by the worker only (QUEUE_CTR_ADD) */
};

struct queues {
	char name[PORT_NAME_MAX + 1]; /* the port's, for the log */
	struct event_base *main;
	struct port_io io;
	size_t budget;
	/* vnet_hdr: reads and writes carry a virtio-net header (vnet.h), after @pi bytes. */
	bool vnet;
	size_t pi;
	enum frame_link link;
	size_t rmax; /* bytes per read */
	unsigned n;
	int depth; /* queues_lock() nesting, main thread only */
	queue_frame_fn frame;
	queue_train_fn train;
	queue_drain_fn drain;
	void *arg;
	bool sink_reads; /* queues_set_sink_reads() */
	queue_report_fn report;
	void *report_arg;
	int wake_fd;
	struct event *ev_wake;
	bool servicing;	   /* inside queues_service(): a free waits for its end */
	bool free_pending; /* queues_free() ran meanwhile */
	struct queue q[];
};

static void wake_main(struct queues *qs)
{
	uint64_t one = 1;

	/* EAGAIN: the counter is saturated, the main loop is woken already. */
	if (qs->wake_fd >= 0 && write(qs->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_debug("queue wake: %s", strerror(errno));
}

/* A datagram of a vnet_hdr read (vnet.c) to the sink, as queue 0's go to the port's. */
static bool vnet_dgram(void *arg, const uint8_t *frame, size_t len, unsigned rx)
{
	struct queue *q = arg;
	struct queues *qs = q->qs;

	if (qs->frame)
		q->deferred |= qs->frame(qs->arg, q->index, frame, len, rx);
	return true;
}

static bool vnet_train(void *arg, uint64_t n, uint64_t bytes)
{
	struct queue *q = arg;
	struct queues *qs = q->qs;

	return qs->train && qs->train(qs->arg, q->index, n, bytes);
}

void queues_read_ready(struct queues *qs, unsigned qi)
{
	struct queue *q = &qs->q[qi - 1];
	size_t spent = 0;
	bool deferred, wake = false;

	pthread_mutex_lock(&q->lock);
	q->deferred = false;
	q->vt.turn = qs->vnet;
	while (spent < qs->budget && !q->halted) {
		ssize_t n = qs->io.ops->read(qs->io.ctx, q->fd, q->buf, qs->rmax);
		bool truncated;

		if (n == -EAGAIN || n == -EINTR)
			break;
		if (n < 0) {
			/* EBADFD: the device was unregistered; anything else: a read error. */
			if (n != -EBADFD)
				QUEUE_CTR_ADD(q->c.read_errors[port_errno_slot((int)-n)], 1);
			q->halted = true;
			__atomic_store_n(&q->report, (int)-n, __ATOMIC_RELEASE);
			wake = true;
			break;
		}
		if (qs->vnet) {
			spent += n > 0 ? (size_t)n : 1;
			vnet_input(q->buf, (size_t)n, qs->pi, qs->link, qs->sink_reads, &q->c,
				   vnet_dgram, vnet_train, q);
			continue;
		}
		truncated = (size_t)n > PORT_FRAME_MAX;
		QUEUE_CTR_ADD(q->c.rx_frames, 1);
		QUEUE_CTR_ADD(q->c.rx_bytes, n);
		if (truncated)
			QUEUE_CTR_ADD(q->c.truncated, 1);
		spent += n > 0 ? (size_t)n : 1;
		if (qs->frame)
			q->deferred |= qs->frame(qs->arg, qi, q->buf,
						 truncated ? PORT_FRAME_MAX : (size_t)n,
						 truncated ? PORT_RX_TRUNCATED : 0);
	}
	/* What the turn's replies left waiting goes now. */
	q->vt.turn = false;
	if (qs->vnet)
		vnet_flush(&q->vt, &qs->io, q->fd, &q->c);
	/* A halted queue stops polling its fd (its own base: this thread's to change). */
	if (q->halted && q->ev_read)
		event_del(q->ev_read);
	deferred = q->deferred;
	pthread_mutex_unlock(&q->lock);
	if (deferred || wake)
		wake_main(qs);
}

static void queues_destroy(struct queues *qs);

void queues_service(struct queues *qs)
{
	unsigned failed = 0;
	int err = 0;

	qs->servicing = true;
	for (unsigned i = 0; i < qs->n; i++) {
		struct queue *q = &qs->q[i];
		int e = __atomic_load_n(&q->report, __ATOMIC_ACQUIRE);

		if (qs->drain)
			qs->drain(qs->arg, q->index);
		if (e && !q->reported && !failed) {
			q->reported = true;
			failed = q->index;
			err = e;
		}
	}
	/* Last: the report may release the port's device, and with it this set. */
	if (failed && qs->report)
		qs->report(qs->report_arg, failed, err);
	qs->servicing = false;
	if (qs->free_pending)
		queues_destroy(qs);
}

static void on_queue_readable(evutil_socket_t fd, short what, void *arg)
{
	struct queue *q = arg;

	(void)fd;
	(void)what;
	queues_read_ready(q->qs, q->index);
}

static void on_queue_stop(evutil_socket_t fd, short what, void *arg)
{
	struct queue *q = arg;

	(void)fd;
	(void)what;
	event_base_loopbreak(q->base);
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct queues *qs = arg;
	uint64_t v;

	(void)what;
	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_debug("queue wake: %s", strerror(errno));
	queues_service(qs);
}

static void *queue_thread(void *arg)
{
	struct queue *q = arg;
	char name[16];

	/* What `top -H` and /proc/PID/task/TID/comm show. */
	snprintf(name, sizeof(name), "paird-q%u", q->index);
	pthread_setname_np(pthread_self(), name);

	event_base_dispatch(q->base);
	return NULL;
}

struct queues *queues_new(struct event_base *main, const struct port_io *io, size_t budget,
			  const struct port_config *cfg, const int *fds, unsigned n,
			  queue_report_fn report, void *report_arg)
{
	struct queues *qs = calloc(1, sizeof(*qs) + n * sizeof(qs->q[0]));
	unsigned i;

	if (!qs) {
		for (i = 0; i < n; i++)
			io->ops->close(io->ctx, fds[i]);
		errno = ENOMEM;
		return NULL;
	}
	memcpy(qs->name, cfg->name, sizeof(qs->name));
	qs->main = main;
	qs->io = *io;
	qs->budget = budget;
	qs->vnet = cfg->vnet_hdr;
	qs->sink_reads = true;
	qs->pi = cfg->packet_info ? PI_HDR_LEN : 0;
	qs->link = portcfg_frame_link(cfg);
	/* The big buffer only where a read may bring a super-frame. */
	qs->rmax = qs->vnet ? PORT_VNET_READ_MAX : PORT_FRAME_MAX;
	qs->n = n;
	qs->report = report;
	qs->report_arg = report_arg;
	qs->wake_fd = -1;
	for (i = 0; i < n; i++) {
		struct queue *q = &qs->q[i];

		q->qs = qs;
		q->index = i + 1;
		q->fd = fds[i];
		q->stop_fd = -1;
		pthread_mutex_init(&q->lock, NULL);
	}
	for (i = 0; i < n; i++) {
		char who[48];

		snprintf(who, sizeof(who), "port %s queue %u", qs->name, i + 1);
		qs->q[i].buf = malloc(qs->rmax);
		if (!qs->q[i].buf || (qs->vnet && vnet_tx_init(&qs->q[i].vt, qs->link, who) < 0))
			goto fail;
	}
	if (!main)
		return qs;
	qs->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (qs->wake_fd < 0)
		goto fail;
	qs->ev_wake = event_new(main, qs->wake_fd, EV_READ | EV_PERSIST, on_wake, qs);
	if (!qs->ev_wake || event_add(qs->ev_wake, NULL) < 0)
		goto fail;
	for (i = 0; i < n; i++) {
		struct queue *q = &qs->q[i];

		q->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		q->base = q->stop_fd >= 0 ? event_base_new() : NULL;
		if (!q->base)
			goto fail;
		q->ev_read = event_new(q->base, q->fd, EV_READ | EV_PERSIST, on_queue_readable, q);
		q->ev_stop = event_new(q->base, q->stop_fd, EV_READ, on_queue_stop, q);
		if (!q->ev_read || !q->ev_stop || event_add(q->ev_read, NULL) < 0 ||
		    event_add(q->ev_stop, NULL) < 0)
			goto fail;
	}
	return qs;
fail:
	queues_free(qs);
	errno = ENOMEM;
	return NULL;
}

int queues_start(struct queues *qs)
{
	sigset_t all, old;
	int ret = 0;

	if (!qs->main)
		return 0;
	/* Signals are the main loop's: a worker inherits a mask that blocks them all. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (unsigned i = 0; i < qs->n; i++) {
		struct queue *q = &qs->q[i];

		ret = -pthread_create(&q->thread, NULL, queue_thread, q);
		if (ret < 0)
			break;
		q->running = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}

static void queues_stop(struct queues *qs)
{
	for (unsigned i = 0; i < qs->n; i++) {
		struct queue *q = &qs->q[i];
		uint64_t one = 1;

		if (!q->running)
			continue;
		if (write(q->stop_fd, &one, sizeof(one)) < 0)
			log_error("port %s queue %u: cannot stop its thread: %s", qs->name,
				  q->index, strerror(errno));
		pthread_join(q->thread, NULL);
		q->running = false;
	}
}

void queues_free(struct queues *qs)
{
	if (!qs)
		return;
	queues_stop(qs);
	/* From the report of queues_service(): it frees the set on its way out. */
	if (qs->servicing) {
		qs->free_pending = true;
		qs->frame = NULL;
		qs->train = NULL;
		qs->drain = NULL;
		qs->report = NULL;
		return;
	}
	queues_destroy(qs);
}

static void queues_destroy(struct queues *qs)
{
	for (unsigned i = 0; i < qs->n; i++) {
		struct queue *q = &qs->q[i];

		if (q->ev_read)
			event_free(q->ev_read);
		if (q->ev_stop)
			event_free(q->ev_stop);
		if (q->base)
			event_base_free(q->base);
		if (q->stop_fd >= 0)
			close(q->stop_fd);
		if (q->fd >= 0)
			qs->io.ops->close(qs->io.ctx, q->fd);
		pthread_mutex_destroy(&q->lock);
		free(q->buf);
		vnet_tx_free(&q->vt);
	}
	if (qs->ev_wake)
		event_free(qs->ev_wake);
	if (qs->wake_fd >= 0)
		close(qs->wake_fd);
	free(qs);
}

void queues_lock(struct queues *qs)
{
	if (qs->depth++ > 0)
		return;
	for (unsigned i = 0; i < qs->n; i++)
		pthread_mutex_lock(&qs->q[i].lock);
}

void queues_unlock(struct queues *qs)
{
	if (--qs->depth > 0)
		return;
	for (unsigned i = qs->n; i > 0; i--)
		pthread_mutex_unlock(&qs->q[i - 1].lock);
}

void queues_halt(struct queues *qs)
{
	queues_lock(qs);
	for (unsigned i = 0; i < qs->n; i++)
		qs->q[i].halted = true;
	queues_unlock(qs);
	/* A failed port's threads end now; their counters stay for reading. */
	queues_stop(qs);
}

void queues_set_sink(struct queues *qs, queue_frame_fn frame, queue_train_fn train,
		     queue_drain_fn drain, void *arg)
{
	queues_lock(qs);
	qs->frame = frame;
	qs->train = train;
	qs->drain = drain;
	qs->arg = arg;
	queues_unlock(qs);
}

void queues_set_sink_reads(struct queues *qs, bool reads)
{
	queues_lock(qs);
	qs->sink_reads = reads;
	queues_unlock(qs);
}

unsigned queues_count(const struct queues *qs)
{
	return qs->n;
}

void queues_counters_add(const struct queues *qs, unsigned qi, struct port_counters *sum)
{
	const struct port_counters *c = &qs->q[qi - 1].c;

	sum->rx_frames += queue_ctr_load(&c->rx_frames);
	sum->rx_bytes += queue_ctr_load(&c->rx_bytes);
	sum->tx_frames += queue_ctr_load(&c->tx_frames);
	sum->tx_bytes += queue_ctr_load(&c->tx_bytes);
	sum->truncated += queue_ctr_load(&c->truncated);
	sum->rx_gso_frames += queue_ctr_load(&c->rx_gso_frames);
	sum->rx_gso_bad += queue_ctr_load(&c->rx_gso_bad);
	sum->tx_gso_frames += queue_ctr_load(&c->tx_gso_frames);
	for (int i = 0; i < PORT_ERRNO_SLOTS; i++) {
		sum->read_errors[i] += queue_ctr_load(&c->read_errors[i]);
		sum->write_errors[i] += queue_ctr_load(&c->write_errors[i]);
	}
}

uint64_t queues_rx_frames(const struct queues *qs, unsigned qi)
{
	return queue_ctr_load(&qs->q[qi - 1].c.rx_frames);
}

int queues_write(struct queues *qs, unsigned qi, const void *frame, size_t len)
{
	struct queue *q = &qs->q[qi - 1];
	ssize_t n;

	if (qs->vnet)
		return vnet_write(&q->vt, &qs->io, q->fd, frame, len, &q->c);
	n = port_io_write(&qs->io, q->fd, frame, len);
	if (n < 0) {
		QUEUE_CTR_ADD(q->c.write_errors[port_errno_slot((int)-n)], 1);
		return (int)n;
	}
	QUEUE_CTR_ADD(q->c.tx_frames, 1);
	QUEUE_CTR_ADD(q->c.tx_bytes, n);
	return 0;
}

uint16_t queues_next_ip_id(struct queues *qs, unsigned qi)
{
	return qs->q[qi - 1].ip_id++;
}

/* --- the hand-off ring --- */

#define QRING_HDR  16u
#define QRING_SKIP UINT32_MAX /* the rest up to the end is unused: go on at 0 */

struct qring {
	size_t size;
	size_t head; /* consumer's position (monotonic); written by the consumer */
	size_t tail; /* producer's position (monotonic); written by the producer */
	uint8_t data[];
};

static size_t qring_span(size_t len)
{
	return (QRING_HDR + len + QRING_HDR - 1) & ~(size_t)(QRING_HDR - 1);
}

struct qring *qring_new(size_t bytes)
{
	struct qring *r = malloc(sizeof(*r) + bytes);

	if (!r)
		return NULL;
	r->size = bytes;
	r->head = r->tail = 0;
	return r;
}

void qring_free(struct qring *r)
{
	free(r);
}

void *qring_reserve(struct qring *r, size_t len)
{
	size_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
	size_t tail = r->tail, pos = tail & (r->size - 1), need = qring_span(len);
	size_t room = r->size - pos;

	if (need > r->size / 2)
		return NULL;
	if (need > room) {
		/* Not contiguous: skip to the start, if the consumer has freed it. */
		if (tail + room + need - head > r->size)
			return NULL;
		*(uint32_t *)(r->data + pos) = QRING_SKIP;
		__atomic_store_n(&r->tail, tail + room, __ATOMIC_RELEASE);
		tail += room;
		pos = 0;
	}
	if (tail + need - head > r->size)
		return NULL;
	return r->data + pos + QRING_HDR;
}

void qring_commit(struct qring *r, size_t len)
{
	size_t pos = r->tail & (r->size - 1);

	*(uint32_t *)(r->data + pos) = (uint32_t)len;
	__atomic_store_n(&r->tail, r->tail + qring_span(len), __ATOMIC_RELEASE);
}

void *qring_peek(struct qring *r, size_t *len)
{
	for (;;) {
		size_t tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
		size_t pos = r->head & (r->size - 1);
		uint32_t n;

		if (r->head == tail)
			return NULL;
		n = *(uint32_t *)(r->data + pos);
		if (n == QRING_SKIP) {
			__atomic_store_n(&r->head, r->head + (r->size - pos), __ATOMIC_RELEASE);
			continue;
		}
		*len = n;
		return r->data + pos + QRING_HDR;
	}
}

void qring_pop(struct qring *r)
{
	size_t pos = r->head & (r->size - 1);
	uint32_t n = *(uint32_t *)(r->data + pos);

	__atomic_store_n(&r->head, r->head + qring_span(n), __ATOMIC_RELEASE);
}
