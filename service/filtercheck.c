// SPDX-License-Identifier: MIT
/*
 * The capture filters of one request, each distinct one compiled once,
 * under a budget of compile time (filtercheck.h). The cache is an
 * open-addressing hash table of the filters met, keyed by the framing and
 * the text, holding each one's compile time and, for a bad one, libpcap's
 * words; it lives as long as the request's check.
 */
#include "filtercheck.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "h_capture.h"

struct fentry {
	char *filter; /* NULL: a free slot */
	enum frame_link link;
	uint64_t hash;
	uint64_t cost_ns; /* what its one compile took */
	char *error;	  /* libpcap's words for a bad filter; NULL when it compiled */
};

struct filter_check {
	struct fentry *e;
	size_t cap, n; /* cap: a power of two */
	uint64_t budget_ns, spent_ns;
	bool over;
};

static filter_clock_fn clock_fn;

void filter_check_set_clock(filter_clock_fn fn)
{
	clock_fn = fn;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	if (clock_fn)
		return clock_fn();
	/*
	 * The loop thread's CPU time: what a compile holds the loop for,
	 * without the time another process or the hypervisor took meanwhile,
	 * which one binding's charge would pass on to all that share its filter.
	 */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* FNV-1a over the framing and the text. */
static uint64_t hash_of(const char *filter, enum frame_link link)
{
	uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)link;

	for (const unsigned char *p = (const unsigned char *)filter; *p; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	return h;
}

struct filter_check *filter_check_new(uint64_t budget_ns)
{
	struct filter_check *fc = calloc(1, sizeof(*fc));

	if (!fc)
		return NULL;
	fc->cap = 64;
	fc->e = calloc(fc->cap, sizeof(*fc->e));
	if (!fc->e) {
		free(fc);
		return NULL;
	}
	fc->budget_ns = budget_ns;
	return fc;
}

void filter_check_free(struct filter_check *fc)
{
	if (!fc)
		return;
	for (size_t i = 0; i < fc->cap; i++) {
		free(fc->e[i].filter);
		free(fc->e[i].error);
	}
	free(fc->e);
	free(fc);
}

uint64_t filter_check_spent(const struct filter_check *fc)
{
	return fc->spent_ns;
}

/* The slot of (@filter, @link): its entry, or the free slot where it goes. */
static struct fentry *slot_of(struct fentry *e, size_t cap, const char *filter,
			      enum frame_link link, uint64_t h)
{
	size_t i = (size_t)h & (cap - 1);

	while (e[i].filter &&
	       !(e[i].hash == h && e[i].link == link && strcmp(e[i].filter, filter) == 0))
		i = (i + 1) & (cap - 1);
	return &e[i];
}

/* Doubles the table once it is half full. 0 or -ENOMEM. */
static int grow(struct filter_check *fc)
{
	size_t cap = fc->cap * 2;
	struct fentry *e;

	if (fc->n * 2 < fc->cap)
		return 0;
	e = calloc(cap, sizeof(*e));
	if (!e)
		return -ENOMEM;
	for (size_t i = 0; i < fc->cap; i++)
		if (fc->e[i].filter)
			*slot_of(e, cap, fc->e[i].filter, fc->e[i].link, fc->e[i].hash) = fc->e[i];
	free(fc->e);
	fc->e = e;
	fc->cap = cap;
	return 0;
}

/* Compiles @filter once into the free slot @s. 0 or -ENOMEM. */
static int compile_into(struct filter_check *fc, struct fentry *s, const char *filter,
			enum frame_link link, uint64_t h, uint32_t snaplen)
{
	struct fault cf = FAULT_INIT;
	struct bpf_program prog;
	uint64_t t0;

	s->filter = strdup(filter);
	if (!s->filter)
		return -ENOMEM;
	s->link = link;
	s->hash = h;
	fc->n++;
	t0 = now_ns();
	if (capture_filter_compile(filter, link, snaplen, &prog, NULL, &cf) == 0)
		pcap_freecode(&prog);
	s->cost_ns = now_ns() - t0;
	if (cf.kind == FAULT_UNAVAILABLE)
		return -ENOMEM;
	if (cf.kind != FAULT_NONE) {
		s->error = strdup(cf.detail);
		if (!s->error)
			return -ENOMEM;
	}
	return 0;
}

int filter_check_one(struct filter_check *fc, const char *filter, enum frame_link link,
		     uint32_t snaplen, const char *field, struct fault *f)
{
	uint64_t h = hash_of(filter, link);
	struct fentry *s;

	if (fc->over)
		return -E2BIG;
	if (grow(fc) < 0)
		return fault_set(f, FAULT_UNAVAILABLE, ENOMEM, NULL, "out of memory");
	s = slot_of(fc->e, fc->cap, filter, link, h);
	if (!s->filter && compile_into(fc, s, filter, link, h, snaplen) < 0)
		return fault_set(f, FAULT_UNAVAILABLE, ENOMEM, NULL, "out of memory");
	fc->spent_ns += s->cost_ns;
	if (fc->budget_ns && fc->spent_ns > fc->budget_ns) {
		fc->over = true;
		fault_add(f, field,
			  "the capture filters cost too much to compile: with this one (%.1f ms) "
			  "they take over %llu ms, the most one request may spend (each binding "
			  "compiles its own filter; use fewer or simpler filters)",
			  (double)s->cost_ns / 1e6, (unsigned long long)(fc->budget_ns / 1000000u));
		return -E2BIG;
	}
	if (s->error)
		return fault_add(f, field, "%s", s->error);
	return 0;
}
