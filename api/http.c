// SPDX-License-Identifier: MIT
/*
 * libmicrohttpd glue. The access handler runs three times per request in
 * MHD's state machine: headers (the security prechecks run here, so a
 * refused request's body is never read), body chunks (accumulated up to
 * api_body_max(), the rest dropped and answered 413), and the final call,
 * where api_handle() builds the response.
 *
 * Every client costs bounded time and memory (DESIGN.md, "Security"): a
 * connection must deliver each request's headers and body within
 * --request-timeout of opening, or of its previous response ending (MHD's
 * own timeout is an idle one, which a client sending a byte a second never
 * meets); a client that closes while its request is incomplete is let go at
 * once; and at --max-connections a new client waiting to be accepted
 * displaces the connection that has waited longest for its request, or
 * else the one sending a response whose client has taken no bytes for
 * longest (HTTP_STALL_MS at least), so a flood of slow, idle or stalled
 * connections cannot lock well-behaved clients out.
 *
 * Long-lived streams (api.h, "Waiting for data"): a reader that returns
 * RESPONSE_WAIT has its connection suspended until the stream's owner wakes
 * it. MHD does not see a suspended connection's peer close, so paird
 * watches the socket for EV_CLOSED meanwhile and ends the stream when the
 * client goes; a suspended connection has no idle timeout (MHD's rule) and
 * no request deadline (it is past its request), but still counts against
 * --max-connections.
 */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../service/log.h"
#include "../service/loopshare.h"
#include "../service/netaddr.h"
#include "../service/num.h"
#include "../service/pathsafe.h"
#include "api.h"

struct link;
struct stream;

struct httpd {
	struct MHD_Daemon *d;
	struct event_base *base;
	struct event *io;
	struct event *timer;
	struct event *deadline; /* the oldest reading connection's */
	struct event *waiting;	/* the listening socket, watched at the limit */
	struct api *api;
	struct loopshare *share; /* NULL: no data plane to share the loop with */
	unsigned deferred;	 /* MHD waits for its credit: turns until it looks again */
	enum request_via via;
	unsigned max_connections;
	uint64_t request_timeout_ms;
	/* Connections waiting for a request, the longest-waiting first (named: cppcheck). */
	TAILQ_HEAD(link_queue, link) reading;
	struct link_queue sending; /* the others: past their request, answering it */
	struct event *stalls;	   /* at the limit: looks at the senders' progress */
	bool peer_closed;	   /* some reading connection's peer closed: check after MHD_run */
	/* The request line MHD parses now, as it came (compared, never read: unescape()). */
	const char *target;
	LIST_HEAD(stream_list, stream) suspended; /* streams waiting for their owner's wake */
	/*
	 * Out of file descriptors: an accept() failed with EMFILE or ENFILE
	 * (MHD's "resource limit"). @starved says so for the run it happened
	 * in; @resting while MHD's epoll fd is let be for HTTP_STARVED_MS
	 * (with no connection of its own MHD retries the accept at every run,
	 * and its listening socket stays readable: the loop spun at full CPU,
	 * logging a line per try). One warning every HTTP_STARVED_LOG_MS at
	 * most (@starved_logged_ms), not one per failed accept.
	 */
	bool starved, resting;
	uint64_t starved_logged_ms;
};

/*
 * A connection, from MHD's start to close notifications: whether it waits
 * for a request (headers or body still to come) and since when, or else
 * when its client last took bytes of the response.
 */
struct link {
	TAILQ_ENTRY(link) entry; /* in httpd.reading while reading, else in httpd.sending */
	struct httpd *h;
	int fd;	     /* MHD's: only looked at or shut down, never closed here */
	bool listed; /* in one of the two queues */
	bool reading;
	bool peer_closed;     /* the peer sent FIN while we waited for its request */
	bool dropped;	      /* shut down to make room; MHD closes it next */
	bool sampled;	      /* taken holds a look at this response's socket */
	uint64_t since_ms;    /* CLOCK_MONOTONIC: reading since */
	uint64_t moved_ms;    /* sending: when its client was last seen taking bytes */
	uint64_t taken;	      /* sending: link_sample()'s figure at the last look */
	struct event *closed; /* EV_CLOSED on fd while reading */
};

/*
 * At the limit, a connection sending a response is displaced once its
 * client has taken no bytes for this long; the senders are looked at every
 * STALL_TICK_S seconds meanwhile.
 */
#define HTTP_STALL_MS 3000
#define STALL_TICK_S  1
/* Out of file descriptors, MHD's accept() is tried again this often, not at every turn. */
#define HTTP_STARVED_MS	    250
#define HTTP_STARVED_LOG_MS 10000

static void link_moved(struct MHD_Connection *c);

struct conn {
	struct request rq;
	char client[INET6_ADDRSTRLEN];
	char *body;
	size_t len, cap;
	bool answered;
};

/* MHD's buffer for a streamed body sent without chunked encoding (HTTP/1.0). */
#define STREAM_BLOCK ((size_t)16 * 1024)

static const char csp[] = "default-src 'self'; script-src 'self'; style-src 'self'; "
			  "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
			  "base-uri 'none'; form-action 'self'";

/* --- listening socket --- */

static int parse_port(const char *s, uint16_t *out)
{
	uint64_t v;

	if (num_parse_u64(s, 0, 65535, &v) < 0)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

int http_listen(const char *spec, struct http_listen *out, struct fault *f)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl = sizeof(ss);
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	char host[256], portstr[8];
	const char *colon;
	uint16_t port;
	int fd = -1, one = 1, ret;

	memset(out, 0, sizeof(*out));
	out->fd = -1;
	if (spec[0] == '[') {
		const char *end = strchr(spec, ']');

		if (!end || end[1] != ':' || (size_t)(end - spec - 1) >= sizeof(host))
			goto bad;
		memcpy(host, spec + 1, (size_t)(end - spec - 1));
		host[end - spec - 1] = '\0';
		colon = end + 1;
	} else {
		colon = strrchr(spec, ':');
		if (!colon || (size_t)(colon - spec) >= sizeof(host))
			goto bad;
		memcpy(host, spec, (size_t)(colon - spec));
		host[colon - spec] = '\0';
	}
	if (parse_port(colon + 1, &port) < 0)
		goto bad;
	if (!host[0])
		snprintf(host, sizeof(host), "127.0.0.1");
	snprintf(portstr, sizeof(portstr), "%u", port);
	ret = getaddrinfo(host, portstr, &hints, &ai);
	if (ret != 0)
		return fault_set(f, FAULT_INVALID, EINVAL, "listen", "cannot resolve %s: %s", host,
				 gai_strerror(ret));
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = fault_errno(f, errno, "listen", "socket");
		goto out;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		ret = fault_errno(f, errno, "listen", "cannot bind %s", spec);
		goto out;
	}
	if (listen(fd, 128) < 0 || getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		ret = fault_errno(f, errno, "listen", "cannot listen on %s", spec);
		goto out;
	}
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &sin->sin_addr, out->host, sizeof(out->host));
		out->port = ntohs(sin->sin_port);
		out->loopback = (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	} else {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, out->host, sizeof(out->host));
		/* getsockname() filled the whole sockaddr_in6; the analyzer cannot tell. */
		// NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage)
		out->port = ntohs(sin6->sin6_port);
		out->loopback = IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
	}
	out->fd = fd;
	fd = -1;
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return ret;
bad:
	return fault_set(f, FAULT_INVALID, EINVAL, "listen",
			 "--listen takes ADDR:PORT, [ADDR6]:PORT or :PORT (got \"%s\")", spec);
}

/* Makes the directory holding @path (one level, 0755) unless it exists. */
static int make_parent(const char *path, struct fault *f)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) == 0)
		return chmod(dir, 0755) < 0 ? fault_errno(f, errno, "socket", "chmod %s", dir) : 0;
	if (errno != EEXIST)
		return fault_errno(f, errno, "socket", "cannot create the directory %s", dir);
	return 0;
}

int http_listen_unix(const char *path, gid_t gid, struct fault *f)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct pathsafe ps;
	struct stat st;
	mode_t old_mask;
	int fd = -1, probe = -1, ret;

	if (!path[0] || strlen(path) >= sizeof(sa.sun_path))
		return fault_set(f, FAULT_INVALID, ENAMETOOLONG, "socket",
				 "--socket takes a path of 1..%zu bytes (got \"%s\")",
				 sizeof(sa.sun_path) - 1, path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	ret = make_parent(path, f);
	if (ret < 0)
		return ret;
	/*
	 * A directory another user may change (or their socket in a sticky one)
	 * would let them replace root's socket with their own: refused.
	 */
	ret = pathsafe_walk("--socket", path, &ps, f);
	if (ret < 0)
		return ret;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return fault_set(f, FAULT_CONFLICT, EEXIST, "socket",
					 "%s exists and is not a socket; refusing to replace it",
					 path);
		/* A socket file: stale if nobody answers, else another server owns it. */
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe < 0)
			return fault_errno(f, errno, "socket", "socket");
		if (connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			return fault_set(f, FAULT_CONFLICT, EADDRINUSE, "socket",
					 "%s is in use: another server answers on it (is paird "
					 "already running?)",
					 path);
		}
		ret = -errno;
		close(probe);
		if (ret != -ECONNREFUSED)
			return fault_errno(f, -ret, "socket", "cannot check the socket %s", path);
		if (unlink(path) < 0)
			return fault_errno(f, errno, "socket", "cannot remove the stale socket %s",
					   path);
	} else if (errno != ENOENT) {
		return fault_errno(f, errno, "socket", "cannot look at %s", path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fault_errno(f, errno, "socket", "socket");
	/*
	 * Born 0660 with paird's own group, so no chmod by path is needed; the
	 * group is then changed with lchown, which never follows a symlink
	 * someone might have put in the socket's place.
	 */
	old_mask = umask(0117);
	ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old_mask);
	if (ret < 0) {
		ret = fault_errno(f, errno, "socket", "cannot bind %s", path);
		goto fail;
	}
	if (gid != getegid() && lchown(path, (uid_t)-1, gid) < 0) {
		ret = fault_errno(f, errno, "socket", "cannot give %s to group %u", path,
				  (unsigned)gid);
		goto fail_unlink;
	}
	if (listen(fd, 128) < 0) {
		ret = fault_errno(f, errno, "socket", "cannot listen on %s", path);
		goto fail_unlink;
	}
	return fd;
fail_unlink:
	unlink(path);
fail:
	close(fd);
	return ret;
}

/* --- requests --- */

static const char *lookup_header(void *ctx, const char *name)
{
	return MHD_lookup_connection_value(ctx, MHD_HEADER_KIND, name);
}

/*
 * A query argument's value; "" for a bare "?name" (MHD gives it no value),
 * so a present flag is never mistaken for an absent one.
 */
static const char *lookup_query(void *ctx, const char *name)
{
	const char *v = NULL;

	if (MHD_lookup_connection_value_n(ctx, MHD_GET_ARGUMENT_KIND, name, strlen(name), &v,
					  NULL) != MHD_YES)
		return NULL;
	return v ? v : "";
}

/* What query_each() hands MHD's iterator. */
struct query_walk {
	query_visit_fn fn;
	void *arg;
};

static enum MHD_Result query_walk_one(void *cls, enum MHD_ValueKind kind, const char *key,
				      const char *value)
{
	struct query_walk *w = cls;

	(void)kind;
	w->fn(w->arg, key ? key : "", value);
	return MHD_YES;
}

static void query_each(void *ctx, query_visit_fn fn, void *arg)
{
	struct query_walk w = { fn, arg };

	MHD_get_connection_values(ctx, MHD_GET_ARGUMENT_KIND, query_walk_one, &w);
}

/*
 * MHD hands each request's target here before it touches it, then the same
 * pointer to unescape() for the path, after the query's names and values:
 * this is how unescape() tells the path from the query. Nothing is kept of
 * the request (NULL: the access handler starts with no state).
 */
static void *on_target(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct httpd *h = cls;

	(void)c;
	h->target = uri;
	return NULL;
}

/*
 * MHD's unescaper (MHD_http_unescape(): "%HH" decoded in place, anything
 * else kept; the query's '+' is a space before this runs), except that
 * "%00" is never decoded, and in the path neither is an escaped '/'. MHD
 * and the API read the path as a C string and split it at '/': decoded,
 * "/api/v1/ports/tap0%00junk" was the path "/api/v1/ports/tap0" and
 * "tap0%2fbindings" the bindings of tap0. Kept encoded, the '%' is a
 * character no port name or file has (404, 422), and the log shows what
 * the client sent. A query value keeps its "%00" the same way, so a strict
 * parser refuses it instead of reading what came before it.
 */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
	struct httpd *h = cls;
	bool path = s == h->target;
	char *r = s, *w = s;

	(void)c;
	if (path)
		h->target = NULL;
	while (*r) {
		int hi = r[0] == '%' ? hex_digit(r[1]) : -1;
		int lo = hi >= 0 ? hex_digit(r[2]) : -1;
		int ch = lo >= 0 ? hi << 4 | lo : -1;

		if (ch > 0 && !(path && ch == '/')) {
			*w++ = (char)ch;
			r += 3;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return (size_t)(w - s);
}

/* The request log's client: "unix", or the peer's address without its port. */
static void client_of(struct MHD_Connection *c, enum request_via via, char *out, size_t size)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = info ? info->client_addr : NULL;

	snprintf(out, size, "%s", via == REQ_VIA_UNIX ? "unix" : "-");
	if (via == REQ_VIA_UNIX || !sa)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out,
			  (socklen_t)size);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out,
			  (socklen_t)size);
}

static enum http_method method_of(const char *m)
{
	static const char *const names[] = {
		[HTTP_GET] = "GET",	    [HTTP_HEAD] = "HEAD",   [HTTP_POST] = "POST",
		[HTTP_PUT] = "PUT",	    [HTTP_PATCH] = "PATCH", [HTTP_DELETE] = "DELETE",
		[HTTP_OPTIONS] = "OPTIONS",
	};

	for (int i = 0; i < HTTP_OTHER; i++)
		if (strcmp(m, names[i]) == 0)
			return (enum http_method)i;
	return HTTP_OTHER;
}

/*
 * A streamed body as MHD holds it: the reader of api.h, what frees it, and
 * the wake handle its owner holds (the first member, so the handle is the
 * stream).
 */
struct stream {
	struct response_wake wake;
	body_read_fn read;
	void *ctx;
	void (*free)(void *ctx);
	unsigned *slot; /* the long-lived stream count to give back */
	struct httpd *h;
	struct MHD_Connection *c;
	LIST_ENTRY(stream) entry; /* in h->suspended while suspended */
	struct event *closed;	  /* EV_CLOSED on the socket while suspended */
	bool suspended;
	bool woken; /* a wake came while the reader ran or the stream was awake */
	bool gone;  /* the client closed while suspended: end at the next read */
};

static void stream_resume(struct stream *s)
{
	if (!s->suspended)
		return;
	s->suspended = false;
	LIST_REMOVE(s, entry);
	if (s->closed)
		event_del(s->closed);
	MHD_resume_connection(s->c);
	/* No MHD thread and no ITC: our next MHD_run() is what resumes it. */
	event_active(s->h->timer, EV_TIMEOUT, 1);
}

static void stream_wake(struct response_wake *w)
{
	struct stream *s = (struct stream *)w;

	s->woken = true;
	stream_resume(s);
}

static void on_stream_closed(evutil_socket_t fd, short what, void *arg)
{
	struct stream *s = arg;

	(void)fd;
	(void)what;
	s->gone = true;
	stream_resume(s);
}

/* Suspends @s's connection until a wake or its client's close. 0 or -errno. */
static int stream_suspend(struct stream *s)
{
	if (!s->closed) {
		const union MHD_ConnectionInfo *info =
			MHD_get_connection_info(s->c, MHD_CONNECTION_INFO_CONNECTION_FD);

		if (!info)
			return -EBADF;
		s->closed = event_new(s->h->base, info->connect_fd, EV_CLOSED, on_stream_closed, s);
		if (!s->closed)
			return -ENOMEM;
	}
	if (event_add(s->closed, NULL) < 0)
		return -ENOMEM;
	MHD_suspend_connection(s->c);
	s->suspended = true;
	LIST_INSERT_HEAD(&s->h->suspended, s, entry);
	return 0;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *s = cls;
	ssize_t n;

	(void)pos; /* a response is never reused: MHD asks for the bytes in order */
	/* The client went while it waited: end quietly, MHD finds the socket closed. */
	if (s->gone)
		return MHD_CONTENT_READER_END_OF_STREAM;
	s->woken = false;
	/* MHD has room for more: the client took what came before. */
	link_moved(s->c);
	n = s->read(s->ctx, buf, max);
	if (n > 0)
		return n;
	if (n == 0)
		return MHD_CONTENT_READER_END_OF_STREAM;
	/*
	 * 0 keeps the connection in MHD's ready list, so MHD_get_timeout() says
	 * 0 and the loop calls again on its next turn, after other events.
	 */
	if (n == -EAGAIN)
		return 0;
	if (n == RESPONSE_WAIT) {
		/*
		 * Woken while it ran: the news may be for this very read, so
		 * call again next turn. A failed suspend polls the same way.
		 */
		if (!s->woken)
			(void)stream_suspend(s);
		return 0;
	}
	return MHD_CONTENT_READER_END_WITH_ERROR;
}

static void stream_free(void *cls)
{
	struct stream *s = cls;

	if (s->suspended) /* not while MHD holds it suspended; defensive */
		LIST_REMOVE(s, entry);
	if (s->closed)
		event_free(s->closed);
	if (s->free)
		s->free(s->ctx);
	if (s->slot && *s->slot)
		(*s->slot)--;
	free(s);
}

/*
 * A streamed response: MHD calls the reader whenever the connection's write
 * buffer has room (MHD_OPTION_CONNECTION_MEMORY_LIMIT), so a client that
 * does not read costs no more than that buffer and the reader's state.
 */
static struct MHD_Response *stream_response(struct httpd *h, struct MHD_Connection *c,
					    struct response *rs)
{
	struct stream *s = calloc(1, sizeof(*s));
	struct MHD_Response *r;

	if (!s)
		return NULL;
	s->wake.wake = stream_wake;
	s->read = rs->read;
	s->ctx = rs->read_ctx;
	s->free = rs->read_free;
	s->slot = rs->stream_slot;
	s->h = h;
	s->c = c;
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK, stream_read, s,
					      stream_free);
	if (!r) {
		free(s);
		return NULL;
	}
	if (rs->attach_wake)
		rs->attach_wake(rs->read_ctx, &s->wake);
	rs->read = NULL; /* MHD owns the reader now */
	rs->read_ctx = NULL;
	rs->read_free = NULL;
	rs->attach_wake = NULL;
	rs->stream_slot = NULL;
	return r;
}

static enum MHD_Result send_response(struct httpd *h, struct MHD_Connection *c, struct response *rs)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (rs->read) {
		r = stream_response(h, c, rs);
	} else if (rs->body) {
		r = MHD_create_response_from_buffer(rs->len, rs->body, MHD_RESPMEM_MUST_FREE);
		if (r)
			rs->body = NULL; /* MHD owns it now */
	} else {
		r = MHD_create_response_from_buffer(rs->len, (void *)rs->static_body,
						    MHD_RESPMEM_PERSISTENT);
	}
	if (!r) {
		response_fini(rs);
		return MHD_NO;
	}
	if (rs->content_type)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, rs->content_type);
	for (unsigned i = 0; i < rs->n_headers; i++)
		MHD_add_response_header(r, rs->headers[i].name, rs->headers[i].value);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Content-Security-Policy", csp);
	ret = MHD_queue_response(c, (unsigned)rs->status, r);
	MHD_destroy_response(r);
	response_fini(rs);
	return ret;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct link *link_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return info ? info->socket_context : NULL;
}

/* The connection waits for a request from now on. */
static void link_reading(struct link *l)
{
	if (l->reading)
		return;
	if (l->listed)
		TAILQ_REMOVE(&l->h->sending, l, entry);
	l->listed = true;
	l->reading = true;
	l->peer_closed = false;
	l->since_ms = now_ms();
	TAILQ_INSERT_TAIL(&l->h->reading, l, entry);
	if (l->closed)
		event_add(l->closed, NULL);
}

/* The request is in (or refused): the response is being sent, no deadline. */
static void link_responding(struct link *l)
{
	if (!l || !l->reading)
		return;
	l->reading = false;
	TAILQ_REMOVE(&l->h->reading, l, entry);
	TAILQ_INSERT_TAIL(&l->h->sending, l, entry);
	l->moved_ms = now_ms();
	l->sampled = false;
	if (l->closed)
		event_del(l->closed);
}

static void link_unlist(struct link *l)
{
	if (!l->listed)
		return;
	TAILQ_REMOVE(l->reading ? &l->h->reading : &l->h->sending, l, entry);
	l->listed = false;
	l->reading = false;
}

static void link_moved(struct MHD_Connection *c)
{
	struct link *l = link_of(c);

	if (l)
		l->moved_ms = now_ms();
}

/* Bytes on the socket its client has not taken yet (SIOCOUTQ: TCP's also unacknowledged). */
static int unsent(int fd)
{
	int n = 0;

	return ioctl(fd, SIOCOUTQ, &n) == 0 ? n : 0;
}

/*
 * A figure that changes whenever the client takes bytes: over TCP the
 * bytes it acknowledged, which only grow; over a Unix socket (no such
 * count) the bytes it has still to read.
 */
static uint64_t taken_mark(int fd, int queued)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 &&
	    len >= offsetof(struct tcp_info, tcpi_bytes_acked) + sizeof(ti.tcpi_bytes_acked))
		return ti.tcpi_bytes_acked;
	return (uint64_t)queued;
}

/*
 * Looks at a sending connection's socket: its client moved if the figure
 * changed since the last look, or if it has taken all there is (a stream
 * waiting for data waits for paird, not for its client). A response's first
 * look counts as a move: what came before it was not seen.
 */
static void link_sample(struct link *l, uint64_t now)
{
	int queued = unsent(l->fd);
	uint64_t mark = taken_mark(l->fd, queued);

	if (queued == 0 || !l->sampled || mark != l->taken)
		l->moved_ms = now;
	l->taken = mark;
	l->sampled = true;
}

/*
 * Ends a connection that is sending a response, in the middle of it: its
 * client sees the transfer cut. MHD finds the socket shut down on its next
 * run (a suspended stream, through its EV_CLOSED watch) and frees it.
 */
static void link_drop(struct link *l, const char *why)
{
	log_debug("http: closing a connection: %s", why);
	l->dropped = true;
	shutdown(l->fd, SHUT_RDWR);
	event_active(l->h->timer, EV_TIMEOUT, 1);
}

/*
 * Ends a connection that waits for a request: shutting the socket down
 * makes MHD's next run see it closed and free it (MHD owns the fd). A
 * client cut at its deadline is told so with a 408 first (RFC 9110, 15.5.9)
 * unless it has gone already.
 */
static void link_cut(struct link *l, const char *why)
{
	static const char r408[] = "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n"
				   "Content-Length: 0\r\n\r\n";

	log_debug("http: closing a connection: %s", why);
	if (!l->peer_closed)
		(void)!send(l->fd, r408, sizeof(r408) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	shutdown(l->fd, SHUT_RDWR);
	link_responding(l);
	/* Shut down already: never a sender to look at, nor to displace again. */
	l->dropped = true;
	event_active(l->h->timer, EV_TIMEOUT, 1);
}

/* Bytes received and not yet read by MHD. */
static int unread(int fd)
{
	int n = 0;

	return ioctl(fd, FIONREAD, &n) == 0 ? n : 0;
}

static void on_peer_closed(evutil_socket_t fd, short what, void *arg)
{
	struct link *l = arg;

	(void)fd;
	(void)what;
	l->peer_closed = true;
	l->h->peer_closed = true;
	event_active(l->h->timer, EV_TIMEOUT, 1);
}

/*
 * MHD reads a connection until a short read and then waits for the next
 * edge of its edge-triggered epoll: when a request's last bytes and the FIN
 * arrive together, that edge never comes and MHD would hold the dead
 * connection until its idle timeout. So once MHD has read all there is of
 * a connection whose peer closed while its request is incomplete, the
 * request can never complete: cut it.
 */
static void check_peer_closed(struct httpd *h)
{
	struct link *l, *next;
	bool again = false;

	if (!h->peer_closed)
		return;
	for (l = TAILQ_FIRST(&h->reading); l; l = next) {
		next = TAILQ_NEXT(l, entry);
		if (!l->peer_closed)
			continue;
		if (unread(l->fd) > 0)
			again = true; /* MHD has more to read first */
		else
			link_cut(l, "the client closed with its request incomplete");
	}
	h->peer_closed = again;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct httpd *h = cls;
	struct link *l = *socket_context;
	const union MHD_ConnectionInfo *info;

	if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (!l)
			return;
		link_unlist(l);
		if (l->closed)
			event_free(l->closed);
		free(l);
		*socket_context = NULL;
		return;
	}
	info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	l = calloc(1, sizeof(*l));
	if (!l || !info) {
		/* Without its link the connection only has MHD's idle timeout. */
		free(l);
		return;
	}
	l->h = h;
	l->fd = info->connect_fd;
	l->closed = event_new(h->base, l->fd, EV_CLOSED, on_peer_closed, l);
	*socket_context = l;
	link_reading(l);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct httpd *h = cls;
	struct conn *st = *con_cls;
	struct response rs;

	(void)version;
	if (!st) {
		st = calloc(1, sizeof(*st));
		if (!st)
			return MHD_NO;
		*con_cls = st;
		st->rq.method = method_of(method);
		st->rq.via = h->via;
		st->rq.path = url;
		st->rq.header = lookup_header;
		st->rq.query = lookup_query;
		st->rq.query_each = query_each;
		st->rq.lookup_ctx = c;
		client_of(c, h->via, st->client, sizeof(st->client));
		st->rq.client = st->client;
		clock_gettime(CLOCK_MONOTONIC, &st->rq.started);
		memset(&rs, 0, sizeof(rs));
		if (api_precheck(h->api, &st->rq, &rs)) {
			api_log_request(&st->rq, &rs);
			st->answered = true;
			link_responding(link_of(c));
			return send_response(h, c, &rs);
		}
		/* Passed: api_handle() does not ask again once the body is in. */
		st->rq.prechecked = true;
		return MHD_YES;
	}
	if (st->answered) {
		*upload_data_size = 0; /* refused early: drop the body */
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		/* Dropped: the answer is 413 or 503 already. */
		if (st->rq.body_too_large || st->rq.body_no_memory)
			return MHD_YES;
		if (st->len + n > api_body_max(st->rq.path)) {
			st->rq.body_too_large = true;
			return MHD_YES;
		}
		if (st->len + n > st->cap) {
			size_t cap = st->cap ? st->cap : 1024;
			char *b;

			while (cap < st->len + n)
				cap *= 2;
			b = realloc(st->body, cap);
			if (!b) {
				/*
				 * The rest is read and dropped, and the client told
				 * 503; MHD_NO closed the connection with no answer
				 * at all (after its 100 Continue).
				 */
				body_free(st->body, st->cap);
				st->body = NULL;
				st->len = st->cap = 0;
				st->rq.body_no_memory = true;
				return MHD_YES;
			}
			st->body = b;
			st->cap = cap;
		}
		memcpy(st->body + st->len, upload_data, n);
		st->len += n;
		return MHD_YES;
	}
	st->rq.body = st->body;
	st->rq.body_len = st->len;
	st->answered = true;
	link_responding(link_of(c));
	api_handle(h->api, &st->rq, &rs);
	return send_response(h, c, &rs);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode code)
{
	struct conn *st = *con_cls;
	struct link *l = link_of(c);

	(void)cls;
	(void)code;
	/* Kept alive, the connection waits for its next request (closed, MHD frees it next). */
	if (l)
		link_reading(l);
	if (!st)
		return;
	body_free(st->body, st->cap);
	free(st);
	*con_cls = NULL;
}

/* The format is libmicrohttpd's, checked where it calls its logger. */
static void __attribute__((format(printf, 2, 0))) mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct httpd *h = cls;
	char msg[512];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	/* A long-lived stream's client going away is how such a stream ends: not a warning. */
	if (strstr(msg, "socket is no longer available")) {
		log_debug("http: %s", msg);
		return;
	}
	/* Each failed accept says so (twice): one warning an episode, in paird's words. */
	if (strstr(msg, "resource limit") || strstr(msg, "Too many open files")) {
		h->starved = true;
		if (h->starved_logged_ms && now_ms() - h->starved_logged_ms < HTTP_STARVED_LOG_MS) {
			log_debug("http: %s", msg);
			return;
		}
		h->starved_logged_ms = now_ms();
		log_warn("http: cannot accept a connection: out of file descriptors (%s); new "
			 "clients wait until some are released (raise the limit, ulimit -n or "
			 "LimitNOFILE=, or lower --max-connections)",
			 msg);
		return;
	}
	log_warn("http: %s", msg);
}

/* --- the loop --- */

/*
 * How long MHD may run in one callback before the rest of its ready work
 * waits for the next loop turn: what a port's frames wait at most for their
 * turn because of the API (besides a single run's own length).
 */
#define MHD_SLICE_NS ((uint64_t)1000 * 1000)
/*
 * Waiting for its credit, MHD looks at it again after this many turns of
 * the loop, or on its timer, never sooner than DEFER_MIN_NS: each look
 * reads paird's CPU clock, a system call.
 */
#define DEFER_TURNS  8
#define DEFER_MIN_NS ((uint64_t)500 * 1000)

static void rearm(struct httpd *h)
{
	MHD_UNSIGNED_LONG_LONG ms;

	if (MHD_get_timeout(h->d, &ms) == MHD_YES) {
		struct timeval tv = { .tv_sec = (time_t)(ms / 1000),
				      .tv_usec = (suseconds_t)(ms % 1000) * 1000 };
		evtimer_add(h->timer, &tv);
	} else {
		evtimer_del(h->timer);
	}
}

static unsigned connections(const struct httpd *h)
{
	const union MHD_DaemonInfo *info =
		MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

	return info ? info->num_connections : 0;
}

static void deadline_rearm(struct httpd *h)
{
	struct link *l = TAILQ_FIRST(&h->reading);
	uint64_t now = now_ms(), due;
	struct timeval tv;

	if (!l) {
		evtimer_del(h->deadline);
		return;
	}
	due = l->since_ms + h->request_timeout_ms;
	due = due > now ? due - now : 0;
	tv.tv_sec = (time_t)(due / 1000);
	tv.tv_usec = (suseconds_t)(due % 1000) * 1000;
	evtimer_add(h->deadline, &tv);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct httpd *h = arg;
	uint64_t now = now_ms();
	struct link *l;

	(void)fd;
	(void)what;
	while ((l = TAILQ_FIRST(&h->reading)) && l->since_ms + h->request_timeout_ms <= now)
		link_cut(l, "request deadline (--request-timeout) passed");
	deadline_rearm(h);
}

/*
 * At the limit with a client waiting to be accepted: the connection that has
 * waited longest for its request (an idle keep-alive one, or a slow one)
 * makes room, unless it has unread bytes MHD is about to handle. Failing
 * that, the connection sending a response whose client has taken no bytes
 * for longest, if that is HTTP_STALL_MS or more; one whose client reads,
 * however slowly, is left alone (the idle timeout still ends it if nothing
 * moves at all).
 */
static void on_waiting(evutil_socket_t fd, short what, void *arg)
{
	struct httpd *h = arg;
	struct link *l, *stalest = NULL;
	uint64_t now = now_ms();

	(void)fd;
	(void)what;
	/* Spelled out as in the loops above: cppcheck does not know TAILQ_FOREACH. */
	for (l = TAILQ_FIRST(&h->reading); l; l = TAILQ_NEXT(l, entry)) {
		if (l->peer_closed || unread(l->fd) == 0) {
			link_cut(l, "at --max-connections, a new client needs its place");
			return;
		}
	}
	for (l = TAILQ_FIRST(&h->sending); l; l = TAILQ_NEXT(l, entry)) {
		if (l->dropped)
			continue;
		link_sample(l, now);
		if (now - l->moved_ms >= HTTP_STALL_MS &&
		    (!stalest || l->moved_ms < stalest->moved_ms))
			stalest = l;
	}
	if (stalest)
		link_drop(stalest, "at --max-connections, a new client needs the place of a "
				   "response its client does not read");
}

/*
 * Every STALL_TICK_S at the limit: a look at each sender, so that a stall
 * is seen as it lasts, and another chance for a client waiting to be accepted.
 */
static void on_stalls(evutil_socket_t fd, short what, void *arg)
{
	struct httpd *h = arg;
	uint64_t now = now_ms();
	struct link *l;

	(void)fd;
	(void)what;
	for (l = TAILQ_FIRST(&h->sending); l; l = TAILQ_NEXT(l, entry))
		if (!l->dropped)
			link_sample(l, now);
	if (!event_pending(h->waiting, EV_READ, NULL))
		event_add(h->waiting, NULL);
}

static uint64_t clock_ns(const struct httpd *h)
{
	struct timespec ts;

	if (h->share)
		return loopshare_now(h->share);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void timer_in_ns(struct httpd *h, uint64_t ns)
{
	uint64_t us = (ns + 999) / 1000;
	struct timeval tv = { .tv_sec = (time_t)(us / 1000000),
			      .tv_usec = (suseconds_t)(us % 1000000) };

	evtimer_add(h->timer, &tv);
}

static void defer(struct httpd *h, uint64_t ns)
{
	h->deferred = DEFER_TURNS;
	timer_in_ns(h, ns > DEFER_MIN_NS ? ns : DEFER_MIN_NS);
}

static void run_once(struct httpd *h)
{
	unsigned before = connections(h);

	MHD_run(h->d);
	/*
	 * At the connection limit, and after an accept() failed for want of
	 * file descriptors (EMFILE, ENFILE: MHD's "resource limit", which it
	 * clears only when one of its connections closes), MHD takes the
	 * listening socket out of its epoll set and puts it back only at the
	 * start of its next run. If this run closed a connection, run again
	 * now: nothing else would wake us while clients wait in the backlog,
	 * and the listener stayed deaf for good once the process had had no
	 * descriptor to spare.
	 */
	if (connections(h) < before)
		MHD_run(h->d);
}

/* MHD has work it can do now (a connection ready, a body to send on): it says 0 ms. */
static bool ready_now(struct httpd *h)
{
	MHD_UNSIGNED_LONG_LONG ms;

	return MHD_get_timeout(h->d, &ms) == MHD_YES && ms == 0;
}

/*
 * MHD's runs from the loop. One run moves each ready connection one step
 * (read a request, or send one buffer of a response), so a page of 100
 * capture records (~60 KB) takes about eight runs; one run per loop turn
 * made it wait for eight turns of the ports. So MHD runs again while it
 * has work ready, within MHD_SLICE_NS, and (with a loopshare) only within
 * the API's share while a port has frames waiting: past it, MHD waits for
 * its credit on the timer.
 */
static void on_mhd(evutil_socket_t fd, short what, void *arg)
{
	struct httpd *h = arg;
	uint64_t start, t0, t1, wait = 0;

	(void)fd;
	if (h->resting) {
		/* Only the timer ends the rest; MHD's fd is watched again from here. */
		if (!(what & EV_TIMEOUT))
			return;
		h->resting = false;
		event_add(h->io, NULL);
	}
	/*
	 * Waiting for its credit, MHD's fd (still readable) is let be for a few
	 * turns, or until the timer: the clock (a system call) is not read on
	 * every turn of the ports. Unless no frames wait any more: then the
	 * API need not wait at all.
	 */
	if (h->deferred && !(what & EV_TIMEOUT) && loopshare_backlogged(h->share) && --h->deferred)
		return;
	h->deferred = 0;
	start = t0 = clock_ns(h);
	if (h->share) {
		wait = loopshare_api_wait(h->share, start);
		if (wait) {
			defer(h, wait);
			return;
		}
	}
	for (;;) {
		run_once(h);
		t1 = clock_ns(h);
		if (h->share)
			loopshare_api_spent(h->share, t1 - t0);
		t0 = t1;
		if (h->starved || t1 - start >= MHD_SLICE_NS || !ready_now(h))
			break;
		if (h->share && (wait = loopshare_api_wait(h->share, t1)) != 0)
			break;
	}
	check_peer_closed(h);
	/* Watch the backlog while MHD does not: a waiting client may displace a slow one. */
	if (connections(h) >= h->max_connections) {
		static const struct timeval tick = { .tv_sec = STALL_TICK_S };

		if (!event_pending(h->waiting, EV_READ, NULL))
			event_add(h->waiting, NULL);
		if (!event_pending(h->stalls, EV_TIMEOUT, NULL))
			event_add(h->stalls, &tick);
	} else {
		event_del(h->waiting);
		event_del(h->stalls);
	}
	deadline_rearm(h);
	rearm(h);
	if (wait)
		defer(h, wait);
	if (h->starved && !connections(h)) {
		/*
		 * MHD with no connection left to close (which is what ends its
		 * own pause of accept()) tries again at every run: rest instead.
		 * Its connections have none to be served meanwhile.
		 */
		h->resting = true;
		event_del(h->io);
		timer_in_ns(h, (uint64_t)HTTP_STARVED_MS * 1000 * 1000);
	}
	h->starved = false;
}

struct httpd *httpd_new(struct event_base *base, struct api *api, int listen_fd,
			enum request_via via, const struct httpd_limits *limits, struct fault *f)
{
	const union MHD_DaemonInfo *info;
	struct httpd *h = calloc(1, sizeof(*h));

	if (!h) {
		close(listen_fd);
		fault_set(f, FAULT_UNAVAILABLE, ENOMEM, NULL, "out of memory");
		return NULL;
	}
	h->api = api;
	h->via = via;
	h->base = base;
	h->share = limits->share;
	h->max_connections = limits->max_connections;
	h->request_timeout_ms = (uint64_t)limits->request_timeout_s * 1000;
	TAILQ_INIT(&h->reading);
	TAILQ_INIT(&h->sending);
	LIST_INIT(&h->suspended);
	h->d = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0,
				NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h,
				MHD_OPTION_LISTEN_SOCKET, listen_fd, MHD_OPTION_CONNECTION_LIMIT,
				limits->max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
				limits->timeout_s, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
				MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
				MHD_OPTION_URI_LOG_CALLBACK, on_target, h,
				MHD_OPTION_UNESCAPE_CALLBACK, unescape, h, MHD_OPTION_END);
	if (!h->d) {
		close(listen_fd);
		fault_set(f, FAULT_INTERNAL, 0, NULL, "libmicrohttpd did not start");
		goto fail;
	}
	info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
	h->io = event_new(base, info->epoll_fd, EV_READ | EV_PERSIST, on_mhd, h);
	h->timer = evtimer_new(base, on_mhd, h);
	h->deadline = evtimer_new(base, on_deadline, h);
	h->waiting = event_new(base, listen_fd, EV_READ, on_waiting, h);
	h->stalls = event_new(base, -1, EV_PERSIST, on_stalls, h);
	if (!h->io || !h->timer || !h->deadline || !h->waiting || !h->stalls ||
	    event_add(h->io, NULL) < 0) {
		fault_set(f, FAULT_UNAVAILABLE, ENOMEM, NULL, "cannot watch the HTTP server");
		goto fail;
	}
	rearm(h);
	return h;
fail:
	httpd_free(h);
	return NULL;
}

void httpd_free(struct httpd *h)
{
	struct stream *s;

	if (!h)
		return;
	/* MHD refuses to stop with suspended connections: resume them to their end. */
	while ((s = LIST_FIRST(&h->suspended))) {
		s->gone = true;
		stream_resume(s);
	}
	if (h->io)
		event_free(h->io);
	if (h->timer)
		event_free(h->timer);
	if (h->deadline)
		event_free(h->deadline);
	if (h->waiting)
		event_free(h->waiting);
	if (h->stalls)
		event_free(h->stalls);
	/* Closes the connections: their links go with the close notifications. */
	if (h->d)
		MHD_stop_daemon(h->d);
	free(h);
}
