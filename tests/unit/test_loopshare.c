// SPDX-License-Identifier: MIT
/*
 * Unit tests of service/loopshare.c: the API runs freely while no port has
 * frames waiting; while one has, it spends its burst, then waits, and over
 * a long run gets no more than 1/LOOPSHARE_API_DIV of the time; a debt is
 * bounded; the ports' backlog count never wraps. Time is the test's own
 * clock (and the thread's CPU clock where none is given).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../service/loopshare.h"

static uint64_t fake_now;

static uint64_t fake_clock(void *arg)
{
	(void)arg;
	return fake_now;
}

#define MS ((uint64_t)1000000)

static void test_idle_data_plane(void **state)
{
	struct loopshare *ls;

	(void)state;
	fake_now = 5 * MS;
	ls = loopshare_new(fake_clock, NULL);
	assert_non_null(ls);
	assert_int_equal(loopshare_now(ls), 5 * MS);
	assert_false(loopshare_backlogged(ls));
	/* Nothing waits: any amount of API time is fine (and paid back by the idle spell). */
	for (int i = 0; i < 100; i++) {
		assert_int_equal(loopshare_api_wait(ls, fake_now), 0);
		loopshare_api_spent(ls, 50 * MS);
		fake_now += 50 * MS;
	}
	/* Frames start waiting: the API still has its whole burst. */
	loopshare_backlog(ls, 1);
	assert_int_equal(loopshare_api_wait(ls, fake_now), 0);
	loopshare_api_spent(ls, (uint64_t)LOOPSHARE_API_BURST_NS - 1);
	assert_int_equal(loopshare_api_wait(ls, fake_now), 0);
	loopshare_api_spent(ls, 2);
	/* 1 ns over: it waits until 1/DIV of the time that passes pays it back. */
	assert_int_equal(loopshare_api_wait(ls, fake_now), 2 * LOOPSHARE_API_DIV);
	fake_now += LOOPSHARE_API_DIV;
	assert_int_equal(loopshare_api_wait(ls, fake_now), LOOPSHARE_API_DIV);
	fake_now += LOOPSHARE_API_DIV;
	assert_int_equal(loopshare_api_wait(ls, fake_now), 0);
	loopshare_free(ls);
}

static void test_wait_is_proportional(void **state)
{
	struct loopshare *ls;

	(void)state;
	fake_now = 0;
	ls = loopshare_new(fake_clock, NULL);
	loopshare_backlog(ls, 1);
	loopshare_api_spent(ls, (uint64_t)LOOPSHARE_API_BURST_NS + 2 * MS);
	assert_int_equal(loopshare_api_wait(ls, fake_now), (2 * MS + 1) * LOOPSHARE_API_DIV);
	/* Halfway there: still waiting, for the other half. */
	fake_now += MS * LOOPSHARE_API_DIV;
	assert_int_equal(loopshare_api_wait(ls, fake_now), (MS + 1) * LOOPSHARE_API_DIV);
	/* The ports empty their queues: the API runs at once, and what it runs is charged. */
	loopshare_backlog(ls, -1);
	assert_int_equal(loopshare_api_wait(ls, fake_now), 0);
	loopshare_api_spent(ls, MS);
	/* Frames wait again an instant later: only that instant is credited. */
	fake_now += 1000;
	loopshare_backlog(ls, 1);
	assert_int_equal(loopshare_api_wait(ls, fake_now), (2 * MS - 1000 + 1) * LOOPSHARE_API_DIV);
	/* Idle for longer: that time is credited in full, up to the burst. */
	loopshare_backlog(ls, -1);
	fake_now += 2 * (uint64_t)LOOPSHARE_API_BURST_NS;
	loopshare_backlog(ls, 1);
	loopshare_api_spent(ls, (uint64_t)LOOPSHARE_API_BURST_NS - 1);
	assert_int_equal(loopshare_api_wait(ls, fake_now), 0);
	loopshare_api_spent(ls, 1);
	assert_int_equal(loopshare_api_wait(ls, fake_now), LOOPSHARE_API_DIV);
	/* A run that costs a second leaves a debt of one burst, no more. */
	loopshare_api_spent(ls, 1000 * MS);
	assert_int_equal(loopshare_api_wait(ls, fake_now),
			 ((uint64_t)LOOPSHARE_API_BURST_NS + 1) * LOOPSHARE_API_DIV);
	loopshare_free(ls);
}

/*
 * A loop where a port's turn takes 0.3 ms and the API, whenever allowed,
 * runs for 0.7 ms: over ten seconds the API's time stays within its share
 * (plus the one burst), and it still runs regularly.
 */
static void test_long_run_share(void **state)
{
	struct loopshare *ls;
	uint64_t api = 0, runs = 0, start;

	(void)state;
	fake_now = 1000 * MS;
	ls = loopshare_new(fake_clock, NULL);
	start = fake_now;
	loopshare_backlog(ls, 1);
	while (fake_now - start < 10000 * MS) {
		fake_now += 300000; /* the port's turn */
		if (loopshare_api_wait(ls, fake_now) == 0) {
			fake_now += 700000;
			loopshare_api_spent(ls, 700000);
			api += 700000;
			runs++;
		}
	}
	assert_true(api <= (fake_now - start) / LOOPSHARE_API_DIV +
				   (uint64_t)LOOPSHARE_API_BURST_NS + 700000);
	assert_true(api >= (fake_now - start) / LOOPSHARE_API_DIV - 700000);
	assert_true(runs > 100);
	loopshare_free(ls);
}

static void test_backlog_count(void **state)
{
	struct loopshare *ls = loopshare_new(NULL, NULL);

	(void)state;
	assert_non_null(ls);
	assert_true(loopshare_now(ls) > 0); /* CLOCK_MONOTONIC */
	loopshare_backlog(ls, 1);
	loopshare_backlog(ls, 1);
	loopshare_backlog(ls, -1);
	assert_true(loopshare_backlogged(ls));
	loopshare_backlog(ls, -1);
	assert_false(loopshare_backlogged(ls));
	loopshare_backlog(ls, -1); /* never below zero */
	assert_false(loopshare_backlogged(ls));
	loopshare_backlog(ls, 1);
	assert_true(loopshare_backlogged(ls));
	loopshare_free(ls);
	loopshare_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idle_data_plane),
		cmocka_unit_test(test_wait_is_proportional),
		cmocka_unit_test(test_long_run_share),
		cmocka_unit_test(test_backlog_count),
	};

	return cmocka_run_group_tests_name("loopshare", tests, NULL, NULL);
}
