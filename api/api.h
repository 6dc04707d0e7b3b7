/* SPDX-License-Identifier: MIT */
/*
 * The control plane without the HTTP library: a request (method, path,
 * headers and query through getters, the body) goes in, a response
 * (status, headers, body) comes out. api/http.c feeds it from
 * libmicrohttpd; unit tests feed it fake requests. Routing, the security
 * checks and every resource handler sit behind api_handle().
 */
#ifndef PAIRD_API_H
#define PAIRD_API_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct event_base;
struct portset;
struct events;
struct event_base;

#define API_BODY_MAX	(64 << 10) /* 64 KiB: a shift, whose widening clang-tidy does not flag */
#define API_PATH_PARAMS 2
#define API_HEADERS_MAX 6

/*
 * PUT /api/v1/config carries every port and binding in one document: what
 * GET /api/v1/config answers must fit in it (64 ports x 1,024 bindings of
 * about 200 bytes is ~13 MiB). Only a client that passed the socket's
 * permissions or the token gets this far.
 */
#define API_CONFIG_BODY_MAX (16 << 20)

/* The most bytes of body a request to @path may carry (API_BODY_MAX, or more for a few routes). */
size_t api_body_max(const char *path);

/*
 * A request body of this size or more (its buffer's) is given back to the
 * system once the request ends (body_free()): jansson's tree of a large
 * document is many times the text, and glibc keeps the heap grown.
 */
#define BODY_TRIM_MIN ((size_t)1 << 20)
/* Frees a request body held in a buffer of @cap bytes (api/body.c). */
void body_free(char *body, size_t cap);

enum http_method {
	HTTP_GET,
	HTTP_HEAD,
	HTTP_POST,
	HTTP_PUT,
	HTTP_PATCH,
	HTTP_DELETE,
	HTTP_OPTIONS,
	HTTP_OTHER,
	HTTP_METHOD_COUNT
};

typedef const char *(*lookup_fn)(void *ctx, const char *name);
/* Called once per query argument, in order; @value is NULL for a bare "?name". */
typedef void (*query_visit_fn)(void *arg, const char *name, const char *value);
/* Calls @fn for every query argument of the request (a repeated name each time). */
typedef void (*query_each_fn)(void *ctx, query_visit_fn fn, void *arg);

/*
 * The listener a request came in on. TCP is the zero value on purpose: a
 * request that does not say where it came from gets TCP's checks.
 */
enum request_via {
	REQ_VIA_TCP,  /* Host/Origin checks; token or session unless auth is off */
	REQ_VIA_UNIX, /* the Unix socket: its file permissions already admitted the client */
};

struct request {
	enum http_method method;
	enum request_via via;
	const char *path;
	lookup_fn header; /* case-insensitive; NULL result when absent */
	lookup_fn query;
	query_each_fn query_each; /* for the check of unknown parameters; NULL: none to list */
	void *lookup_ctx;
	const char *body; /* NULL when the request has none */
	size_t body_len;
	bool body_too_large; /* more than api_body_max() bytes arrived and were dropped */
	bool body_no_memory; /* no memory to hold the body: it was dropped (503) */
	bool prechecked;     /* api_precheck() passed when the headers arrived */
	const char *params[API_PATH_PARAMS]; /* path segments captured by the router */
	/* For the request log: who asked ("unix", or the peer's address) and since when. */
	const char *client;
	struct timespec started; /* CLOCK_MONOTONIC; zero: not measured */
};

/*
 * A body produced while it is sent (captures, event streams): fills up to
 * @max bytes at @buf and returns how many (> 0), 0 at the end of the body,
 * -EAGAIN when it has nothing right now but will very soon (the server
 * calls again on the loop's next turn: a bounded download's pacing, never a
 * wait for new data), RESPONSE_WAIT when it has nothing to send until its
 * owner says so (below), or another -errno to abort the response (the
 * client sees a cut transfer). Each call does a bounded amount of work.
 */
typedef ssize_t (*body_read_fn)(void *ctx, char *buf, size_t max);

/*
 * Waiting for data: a long-lived stream (a capture that follows, an event
 * stream) whose reader returns RESPONSE_WAIT has its connection suspended
 * (MHD_suspend_connection: no CPU, no timer, no idle timeout) until the
 * stream's owner calls response_wake() on the handle it was given, after
 * which the reader is called again on the loop's next turn.
 *
 * The handle: when @rs->attach_wake is set, the server calls
 * attach_wake(read_ctx, w) once, before the first read, with a handle that
 * stays valid until read_free(read_ctx) returns. So read_free must take the
 * handle out of wherever the owner keeps it (a waiter list, a timer's
 * argument); after that, waking it is a use after free. A stream whose
 * client goes away (also while suspended: the server watches the socket
 * for the peer's close, EPOLLRDHUP, so a client that half-closes its
 * sending side counts as gone) ends in read_free, never in a wake.
 *
 * response_wake() may be called at any time from the loop's thread, any
 * number of times, also when the connection is not suspended (then it does
 * nothing but make sure the next RESPONSE_WAIT does not sleep through the
 * news: the reader is called once more first). It does no I/O and never
 * calls the reader itself, so it is safe from inside the data plane or from
 * another stream's reader; many wakes in one loop turn cost one resume.
 *
 * Timers (heartbeats, long-poll deadlines) belong to the owner: a libevent
 * timer whose callback calls response_wake(). Response_drain() (tests) stops
 * at RESPONSE_WAIT and leaves the stream open (see there).
 */
#define RESPONSE_WAIT (-EINPROGRESS)

struct response_wake {
	/* Set by whoever attaches the handle (api/http.c, or a test). */
	void (*wake)(struct response_wake *w);
};

static inline void response_wake(struct response_wake *w)
{
	w->wake(w);
}

struct response {
	int status;
	const char *content_type;
	char *body; /* malloc'ed, freed by response_fini() unless body_static */
	const void *static_body;
	size_t len;
	/* A streamed body, instead of the above: its length is not known in advance. */
	body_read_fn read;
	void *read_ctx;
	void (*read_free)(void *ctx); /* frees read_ctx; response_fini() calls it */
	/* Optional, for readers that return RESPONSE_WAIT: see "Waiting for data". */
	void (*attach_wake)(void *ctx, struct response_wake *w);
	/*
	 * A long-lived stream (it follows, it may wait for data): api_handle()
	 * admits at most api_config.max_streams of them at once and answers
	 * 503 "too-many-streams" beyond; the slot is given back when read_free
	 * runs (response_fini() or the server's close). Set by the handler.
	 */
	bool long_lived;
	unsigned *stream_slot; /* the admitted count to decrement at the end (api.c) */
	unsigned n_headers;
	struct {
		const char *name; /* a string literal */
		char value[192];
	} headers[API_HEADERS_MAX];
};

struct api_config {
	struct portset *ports;
	/*
	 * The bearer token TCP requests need (copied by api_new()); NULL turns
	 * authentication off on TCP (--no-auth). The Unix socket never needs it.
	 */
	const char *token;
	const char *const *allow_hosts; /* extra Host names besides the loopback ones */
	size_t n_allow_hosts;
	const char *listen_host; /* the address paird listens on, allowed as Host */
	const char *listen_name; /* the host as --listen gave it (a name?), allowed as Host */
	const char *hostname;	 /* the machine's name, allowed as Host; NULL: not */
	bool listen_any;	 /* bound to 0.0.0.0 or ::: any local IP literal is a Host */
	uint16_t listen_port;	 /* for same-origin checks */
	/* "http://127.0.0.1:8080", the base of login URLs; NULL: no TCP listener. */
	const char *url_base;
	unsigned max_streams; /* long-lived streams at once (--max-streams); 0: the default */
	/* The event stream (GET /api/v1/events); without @events the route answers 503. */
	struct events *events; /* the port set's event ring; outlives the api */
	struct event_base
		*base; /* for the streams' timers (long polls, heartbeats); NULL: none (tests) */
	unsigned max_event_clients; /* --max-event-clients; 0: API_EVENT_CLIENTS */
	unsigned event_heartbeat_s; /* --event-heartbeat; 0: API_EVENT_HEARTBEAT */
};

#define API_EVENT_CLIENTS   16
#define API_EVENT_HEARTBEAT 15

#define API_MAX_STREAMS_DEFAULT 32

struct api;

struct api *api_new(const struct api_config *cfg);
void api_free(struct api *api);

/*
 * Replaces the TCP bearer token (copied; NULL turns TCP auth off), ending
 * every dashboard session and the pending login code. 0 or -ENOMEM (the
 * old token stays).
 */
int api_set_token(struct api *api, const char *token);
/*
 * Makes a new one-time dashboard login code, replacing any unused one, and
 * copies it to @out (at least API_LOGIN_CODE_SIZE bytes): GET
 * /login?code=CODE then opens a session, within API_LOGIN_CODE_SECONDS.
 * -EPERM when TCP auth is off.
 */
int api_login_code(struct api *api, char *out, size_t size);
#define API_LOGIN_CODE_SIZE    65
#define API_LOGIN_CODE_MINUTES 15 /* a code's life; the session's is longer */
#define API_LOGIN_CODE_SECONDS (API_LOGIN_CODE_MINUTES * 60)

/* Monotonic seconds for sessions and login codes; NULL: CLOCK_MONOTONIC (tests inject). */
typedef double (*api_clock_fn)(void);
void api_set_clock(api_clock_fn fn);

/*
 * The checks that need only the method, path and headers (Host, Origin,
 * Sec-Fetch-Site, token, Content-Length). Returns true and fills @rs when
 * the request is refused before its body is read.
 */
bool api_precheck(struct api *api, const struct request *rq, struct response *rs);

/*
 * Handles a complete request; @rs is always filled. api_precheck() runs
 * first unless @rq->prechecked says the caller ran it already.
 */
void api_handle(struct api *api, struct request *rq, struct response *rs);

/*
 * Logs one line for a request and its answer: client, method, the route's
 * pattern ("/api/v1/ports/{}"), path, status and duration. Writes and
 * refusals (status >= 400) at info, successful reads (GET, HEAD, OPTIONS)
 * at debug. api_handle() calls it; the HTTP layer too for what it refuses
 * before the body.
 */
void api_log_request(const struct request *rq, const struct response *rs);

void response_fini(struct response *rs);
/*
 * Gives back @rs's long-lived stream slot, if it holds one (the server, or
 * response_fini(), once read_free has run). Idempotent.
 */
void response_stream_release(struct response *rs);
/* Event streams open now (GET /api/v1/events). */
unsigned api_event_clients(const struct api *api);
/* Long-lived streams open now (api_handle() admitted them, not yet released). */
unsigned api_streams(const struct api *api);
/*
 * Runs a streamed body into @rs->body and @rs->len, as a client would
 * receive it (tests, and tools that want a whole body); a response that is
 * not streamed is left as it is. Returns 0 at the body's end (the reader is
 * freed), RESPONSE_WAIT when the reader waits for its owner (the stream
 * stays open and a later call appends what comes next), -ENOMEM, or the
 * error a reader aborted with (the body then holds what came before it).
 */
int response_drain(struct response *rs);
/* Adds a header; names are string literals. */
void response_header(struct response *rs, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
