// SPDX-License-Identifier: MIT
/*
 * Unit tests of api/http.c in paird's one loop: libmicrohttpd on a real
 * loopback socket, a port on the memory I/O kept saturated (its queue never
 * runs dry), the loop driven one turn at a time (event_base_loop with
 * EVLOOP_ONCE). What is checked is how the turns are shared, never how long
 * anything takes: the clock the loop's sharing (loopshare.h) reads is the
 * test's own, advanced by the work done (frames read, bytes answered).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../api/http.h"
#include "../../service/build.h"
#include "../../service/log.h"
#include "../../service/loopshare.h"
#include "../../service/port.h"
#include "../../service/portset.h"
#include "../fakes/portio_mem.h"
#include "support.h"

#define CLIENTS_MAX 8

struct client {
	int fd;
	char *buf; /* what came and is not consumed yet */
	size_t len, cap;
	uint64_t consumed; /* bytes read and dropped */
	unsigned answers;  /* whole answers read */
};

struct fx {
	struct api_fx a;
	struct event_base *base;
	struct loopshare *ls;
	struct httpd *h;
	uint16_t port;
	struct port *p0;
	struct client c[CLIENTS_MAX];
	unsigned n_clients;
	/* The test's clock: frames read and bytes answered, at these costs. */
	uint64_t frame_ns, byte_ns;
};

/* Nanoseconds of work done so far: the data plane's frames and the API's answers. */
static uint64_t work_clock(void *arg)
{
	struct fx *fx = arg;
	uint64_t bytes = 0;

	for (unsigned i = 0; i < fx->n_clients; i++) {
		int n = 0;

		if (ioctl(fx->c[i].fd, FIONREAD, &n) == 0)
			bytes += (uint64_t)n;
		bytes += fx->c[i].consumed + fx->c[i].len;
	}
	return (fx->p0 ? port_counters(fx->p0)->rx_frames * fx->frame_ns : 0) + bytes * fx->byte_ns;
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct fault f = FAULT_INIT;
	struct http_listen hl;
	struct httpd_limits lim = { .max_connections = 32,
				    .timeout_s = 60,
				    .request_timeout_s = 60 };
	struct fake_req fr;

	assert_non_null(fx);
	api_fx_init(&fx->a, 4);
	fx->base = event_base_new();
	assert_non_null(fx->base);
	fx->ls = loopshare_new(work_clock, fx);
	assert_non_null(fx->ls);
	/* api_fx_start(), with a loop: the port reads from it and tells the sharing. */
	fx->a.ps = portset_new(fx->base, memio_io(fx->a.m), fx->a.path, fx->a.max_ports);
	assert_non_null(fx->a.ps);
	portset_set_share(fx->a.ps, fx->ls);
	if (portset_restore(fx->a.ps, &f) != 0)
		fail_msg("restore: %s", f.detail);
	fx->a.cfg.ports = fx->a.ps;
	fx->a.cfg.base = fx->base;
	fx->a.api = api_new(&fx->a.cfg);
	assert_non_null(fx->a.api);

	freq_init(&fr, HTTP_POST, "/api/v1/ports");
	freq_header(&fr, "Host", "127.0.0.1:8080");
	freq_body(&fr, "application/json", "{\"name\":\"p0\",\"type\":\"tap\"}");
	expect_status(api_fx_run(&fx->a, &fr), 201);
	fx->p0 = portset_find(fx->a.ps, "p0");
	assert_non_null(fx->p0);

	if (http_listen("127.0.0.1:0", &hl, &f) < 0)
		fail_msg("listen: %s", f.detail);
	fx->port = hl.port;
	lim.share = fx->ls;
	fx->h = httpd_new(fx->base, fx->a.api, hl.fd, REQ_VIA_TCP, &lim, &f);
	if (!fx->h)
		fail_msg("httpd_new: %s", f.detail);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	for (unsigned i = 0; i < fx->n_clients; i++) {
		close(fx->c[i].fd);
		free(fx->c[i].buf);
	}
	httpd_free(fx->h);
	fx->p0 = NULL;
	api_fx_fini(&fx->a);
	loopshare_free(fx->ls);
	event_base_free(fx->base);
	free(fx);
	return 0;
}

/* Queues @n UDP datagrams of 64 bytes on p0's device. */
static void push_frames(struct fx *fx, unsigned n)
{
	static const uint8_t payload[64] = "paird";
	struct build_link l = { .link = LINK_ETHERNET,
				.dst = { 2, 0, 0, 0, 0, 2 },
				.src = { 2, 0, 0, 0, 0, 1 } };
	struct build_ip ip = { .family = AF_INET,
			       .src = { 198, 18, 0, 1 },
			       .dst = { 198, 18, 0, 2 } };
	uint8_t frame[256];
	ssize_t len =
		build_udp(frame, sizeof(frame), &l, &ip, 40000, 9000, payload, sizeof(payload));

	assert_true(len > 0);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(memio_push(fx->a.m, "p0", frame, (size_t)len), 0);
}

static struct client *client_new(struct fx *fx)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(fx->port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct client *c = &fx->c[fx->n_clients];
	int one = 1;

	assert_true(fx->n_clients < CLIENTS_MAX);
	memset(c, 0, sizeof(*c));
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(c->fd >= 0);
	/* The kernel completes the handshake itself: MHD accepts on its next run. */
	assert_int_equal(connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fx->n_clients++;
	return c;
}

static void client_send(struct client *c, const char *path)
{
	char req[256];
	int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);

	assert_int_equal(send(c->fd, req, (size_t)n, MSG_NOSIGNAL), n);
}

/* Reads what has come, without waiting. */
static void client_read(struct client *c)
{
	for (;;) {
		ssize_t n;

		if (c->cap - c->len < 65536) {
			c->cap = c->cap ? c->cap * 2 : 131072;
			c->buf = realloc(c->buf, c->cap + 1);
			assert_non_null(c->buf);
		}
		n = recv(c->fd, c->buf + c->len, c->cap - c->len, MSG_DONTWAIT);
		if (n <= 0)
			break;
		c->len += (size_t)n;
	}
	c->buf[c->len] = '\0';
}

/*
 * If a whole answer is at the front of @c's buffer: its status, and the
 * answer is consumed. 0 otherwise.
 */
static int client_answer(struct client *c)
{
	char *end = c->buf ? strstr(c->buf, "\r\n\r\n") : NULL;
	size_t head, total;
	const char *cl;
	int status;

	if (!end)
		return 0;
	head = (size_t)(end - c->buf) + 4;
	assert_int_equal(sscanf(c->buf, "HTTP/1.1 %d", &status), 1);
	cl = strcasestr(c->buf, "\r\nContent-Length:");
	if (status == 204 || status == 304) {
		total = head; /* no body (RFC 9112, 6.3) */
	} else if (cl && cl < end) {
		total = head + strtoul(cl + 17, NULL, 10);
		if (c->len < total)
			return 0;
	} else {
		/* Chunked: the answer ends with the last, empty chunk. */
		char *last = strstr(end + 4, "\r\n0\r\n\r\n");

		if (!last)
			return 0;
		total = (size_t)(last - c->buf) + 7;
	}
	memmove(c->buf, c->buf + total, c->len - total + 1);
	c->len -= total;
	c->consumed += total;
	c->answers++;
	return status;
}

/*
 * While a port is saturated, a page of 100 decoded capture records (~60 KB,
 * streamed 16 KB per call of its reader) is answered within two turns of
 * the loop: MHD runs again while it has work ready instead of sending one
 * buffer per turn, and each turn of the port is PORT_READ_FRAMES frames.
 * (Before: one MHD run per turn, and 4,096 frames of 64 bytes per turn of
 * the port, 8-10 ms each on a slow host: tens of milliseconds a page.)
 * The clock stands still: the API's share is not what is tested here.
 */
static void test_page_while_saturated(void **state)
{
	struct fx *fx = *state;
	struct fake_req fr;
	struct client *c;
	uint64_t rx0;
	unsigned turns;
	int status = 0;

	freq_init(&fr, HTTP_POST, "/api/v1/ports/p0/bindings");
	freq_header(&fr, "Host", "127.0.0.1:8080");
	freq_body(&fr, "application/json", "{\"handler\":\"capture\"}");
	expect_status(api_fx_run(&fx->a, &fr), 201);
	/* The ring gets its records from the loop, the way frames come in. */
	push_frames(fx, 200);
	for (turns = 0; memio_queued(fx->a.m, "p0") && turns < 10; turns++)
		assert_int_equal(event_base_loop(fx->base, EVLOOP_ONCE), 0);
	assert_int_equal(memio_queued(fx->a.m, "p0"), 0);

	push_frames(fx, 20 * PORT_READ_FRAMES);
	c = client_new(fx);
	client_send(c, "/api/v1/ports/p0/captures?limit=100");
	rx0 = port_counters(fx->p0)->rx_frames;
	for (turns = 0; !status && turns < 20; turns++) {
		assert_int_equal(event_base_loop(fx->base, EVLOOP_ONCE), 0);
		client_read(c);
		status = client_answer(c);
	}
	assert_int_equal(status, 200);
	assert_true(c->consumed > 50000);
	assert_true(turns <= 2);
	/* The port had its turn each time, and no more than its cap. */
	assert_int_equal(port_counters(fx->p0)->rx_frames - rx0, turns * PORT_READ_FRAMES);
	assert_true(loopshare_backlogged(fx->ls));
}

/*
 * Eight clients asking for a port as fast as they are answered, while the
 * port is saturated; an answer costs 0.1 us a byte (~0.1 ms), a frame 2 us.
 * The API gets its burst, then no more than its share of the time, and
 * every client is still answered: neither side starves the other. (Before,
 * MHD ran whenever it had work: the API took as much of the loop as the
 * clients asked for.)
 */
static void test_flood_keeps_share(void **state)
{
	struct fx *fx = *state;
	const unsigned want = 100;
	uint64_t dp_ns, api_ns, bytes = 0, rx0;
	unsigned turns, answers = 0;

	fx->frame_ns = 2000;
	fx->byte_ns = 100;
	push_frames(fx, 1000 * PORT_READ_FRAMES);
	for (unsigned i = 0; i < CLIENTS_MAX; i++)
		client_send(client_new(fx), "/api/v1/ports/p0");
	rx0 = port_counters(fx->p0)->rx_frames;
	for (turns = 0; answers < want && turns < 1000; turns++) {
		assert_int_equal(event_base_loop(fx->base, EVLOOP_ONCE), 0);
		for (unsigned i = 0; i < fx->n_clients; i++) {
			struct client *c = &fx->c[i];

			client_read(c);
			while (answers < want && c->buf && c->len) {
				int status = client_answer(c);

				if (!status)
					break;
				assert_int_equal(status, 200);
				if (++answers + fx->n_clients <= want)
					client_send(c, "/api/v1/ports/p0");
			}
		}
	}
	assert_int_equal(answers, want);
	assert_true(loopshare_backlogged(fx->ls));
	for (unsigned i = 0; i < fx->n_clients; i++) {
		bytes += fx->c[i].consumed;
		assert_true(fx->c[i].answers >= want / CLIENTS_MAX / 2);
	}
	dp_ns = (port_counters(fx->p0)->rx_frames - rx0) * fx->frame_ns;
	api_ns = bytes * fx->byte_ns;
	print_message("flood: %u turns, data plane %llu us, API %llu us\n", turns,
		      (unsigned long long)dp_ns / 1000, (unsigned long long)api_ns / 1000);
	/*
	 * The share, plus the burst, plus the one run past a spent credit
	 * (all eight clients answered: ~1.3 ms here).
	 */
	assert_true(api_ns <= (dp_ns + api_ns) / LOOPSHARE_API_DIV +
				      (uint64_t)LOOPSHARE_API_BURST_NS + 2000000);
	/* And the data plane had every turn, at its cap. */
	assert_int_equal(port_counters(fx->p0)->rx_frames - rx0, turns * PORT_READ_FRAMES);
}

/* Reads what came on every client; returns the whole answers among it (all 200). */
static unsigned read_answers(struct fx *fx)
{
	unsigned n = 0;

	for (unsigned i = 0; i < fx->n_clients; i++) {
		client_read(&fx->c[i]);
		while (fx->c[i].len) {
			int status = client_answer(&fx->c[i]);

			if (!status)
				break;
			assert_int_equal(status, 200);
			n++;
		}
	}
	return n;
}

/*
 * Once the ports have read all there was, the API is not held to its
 * share any more, whatever it owes: the requests left from a flood are
 * answered within a few turns, and new ones at once.
 */
static void test_drained_port_frees_api(void **state)
{
	struct fx *fx = *state;
	unsigned turns, outstanding = 0;

	fx->frame_ns = 2000;
	fx->byte_ns = 100;
	push_frames(fx, 4 * PORT_READ_FRAMES + PORT_READ_FRAMES / 2);
	for (unsigned i = 0; i < CLIENTS_MAX; i++) {
		struct client *c = client_new(fx);

		for (unsigned k = 0; k < 4; k++)
			client_send(c, "/api/v1/ports/p0");
		outstanding += 4;
	}
	/* Five turns of the port at its cap, the last one with half a cap and EAGAIN. */
	for (turns = 0; turns < 5; turns++) {
		assert_int_equal(event_base_loop(fx->base, EVLOOP_ONCE), 0);
		outstanding -= read_answers(fx);
	}
	assert_int_equal(memio_queued(fx->a.m, "p0"), 0);
	assert_false(loopshare_backlogged(fx->ls));
	for (turns = 0; outstanding && turns < 8; turns++) {
		assert_int_equal(event_base_loop(fx->base, EVLOOP_ONCE), 0);
		outstanding -= read_answers(fx);
	}
	assert_int_equal(outstanding, 0);
	for (unsigned i = 0; i < fx->n_clients; i++)
		client_send(&fx->c[i], "/api/v1/ports/p0");
	outstanding = fx->n_clients;
	for (turns = 0; outstanding && turns < 2; turns++) {
		assert_int_equal(event_base_loop(fx->base, EVLOOP_ONCE), 0);
		outstanding -= read_answers(fx);
	}
	assert_int_equal(outstanding, 0);
}

/* With no frames waiting the API is not held back: the same flood is answered at once. */
static void test_flood_idle_data_plane(void **state)
{
	struct fx *fx = *state;
	unsigned turns, answers = 0;

	fx->byte_ns = 100;
	for (unsigned i = 0; i < CLIENTS_MAX; i++)
		client_send(client_new(fx), "/api/v1/ports/p0");
	for (turns = 0; answers < CLIENTS_MAX && turns < 10; turns++) {
		assert_int_equal(event_base_loop(fx->base, EVLOOP_ONCE), 0);
		for (unsigned i = 0; i < fx->n_clients; i++) {
			client_read(&fx->c[i]);
			if (fx->c[i].len && client_answer(&fx->c[i]) == 200)
				answers++;
		}
	}
	assert_int_equal(answers, CLIENTS_MAX);
	assert_true(turns <= 2);
	assert_false(loopshare_backlogged(fx->ls));
}

/* Sends a request line of @method and @target (as it is, escapes and all) on @c. */
static void client_send_raw(struct client *c, const char *method, const char *target)
{
	char req[512];
	int n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", method,
			 target);

	assert_int_equal(send(c->fd, req, (size_t)n, MSG_NOSIGNAL), n);
}

/* Runs the loop until @c has a whole answer; its status. */
static int answer_of(struct fx *fx, struct client *c)
{
	int status = 0;

	for (unsigned turns = 0; !status && turns < 50; turns++) {
		struct timeval most = { 0, 100000 }; /* a turn with nothing to do ends */

		event_base_loopexit(fx->base, &most);
		assert_int_equal(event_base_loop(fx->base, EVLOOP_ONCE), 0);
		client_read(c);
		status = client_answer(c);
	}
	return status;
}

/* The escaped requests of test_escaped_path, asked on one connection (the log is caught). */
static const struct {
	const char *method, *target;
	int status;
} escaped[] = {
	/* Decoded, %00 ended the path: these were tap0 itself (204, 200) and app.js. */
	{ "DELETE", "/api/v1/ports/p0%00junk", 404 },
	{ "GET", "/api/v1/ports/p0%00x", 404 },
	{ "GET", "/app.js%00.x", 404 },
	{ "PUT", "/api/v1/ports/p0%00", 422 },
	/* An escaped '/' is no separator: this was p0's bindings. */
	{ "GET", "/api/v1/ports/p0%2fbindings", 404 },
	{ "GET", "/api/v1/ports/p0%2Fbindings", 404 },
	/* Other escapes decode as before. */
	{ "GET", "/api/v1/ports/%70%30", 200 },
	/* The query's %00 is not cut off but refused (this was limit=1). */
	{ "GET", "/api/v1/ports/p0/captures?limit=1%00junk", 400 },
	{ "GET", "/api/v1/ports/p0/captures?limit=1", 200 },
};

struct escaped_run {
	struct fx *fx;
	struct client *c;
	int status[sizeof(escaped) / sizeof(escaped[0])];
};

static void escaped_ask(void *arg)
{
	struct escaped_run *r = arg;

	/* Asserted outside: a failure here would be told to the caught stderr. */
	for (size_t i = 0; i < sizeof(escaped) / sizeof(escaped[0]); i++) {
		client_send_raw(r->c, escaped[i].method, escaped[i].target);
		r->status[i] = answer_of(r->fx, r->c);
	}
}

/*
 * MHD decodes the request's path in place and hands it on as a C string:
 * an escaped NUL cut it short and an escaped '/' split it, so DELETE of
 * "p0%00junk" deleted p0. Those two escapes stay encoded in the path now,
 * the name check refuses the '%', and the log shows the path as sent.
 */
static void test_escaped_path(void **state)
{
	struct fx *fx = *state;
	struct escaped_run r = { .fx = fx, .c = client_new(fx) };
	enum log_level level = log_get_level();
	struct client *c;
	char *log;

	log_set_level(LOG_INFO);
	log = stderr_of(escaped_ask, &r);
	log_set_level(level);
	for (size_t i = 0; i < sizeof(escaped) / sizeof(escaped[0]); i++)
		if (r.status[i] != escaped[i].status)
			fail_msg("%s %s: %d, not %d\n%s", escaped[i].method, escaped[i].target,
				 r.status[i], escaped[i].status, log);
	assert_non_null(portset_find(fx->a.ps, "p0"));
	/*
	 * The query still decodes '+', %20 and %2F (a filter's prefix length):
	 * the followed capture starts.
	 */
	c = client_new(fx);
	client_send_raw(c, "GET",
			"/api/v1/ports/p0/captures.pcap?follow=true&"
			"filter=udp+and%20net+198.18.0.0%2F24");
	for (unsigned turns = 0; !strstr(c->buf ? c->buf : "", "\r\n\r\n") && turns < 50; turns++) {
		assert_int_equal(event_base_loop(fx->base, EVLOOP_ONCE), 0);
		client_read(c);
	}
	assert_non_null(c->buf);
	assert_memory_equal(c->buf, "HTTP/1.1 200", 12);
	assert_non_null(strstr(log, "DELETE /api/v1/ports/p0%00junk -> 404"));
	assert_non_null(strstr(log, "GET /api/v1/ports/p0%2fbindings -> 404"));
	free(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_page_while_saturated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flood_keeps_share, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flood_idle_data_plane, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drained_port_frees_api, setup, teardown),
		cmocka_unit_test_setup_teardown(test_escaped_path, setup, teardown),
	};

	return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
