/* SPDX-License-Identifier: MIT */
/*
 * The HTTP server: libmicrohttpd inside paird's one libevent loop (no MHD
 * thread). MHD's epoll fd is a persistent read event and a timer is
 * re-armed from MHD_get_timeout() after every MHD_run(), as DESIGN.md
 * ("Threads and the loop") lays out. Requests are handed to api_handle().
 * With a loopshare, the server runs MHD only within the API's share of the
 * loop while a port has frames waiting (loopshare.h).
 */
#ifndef PAIRD_HTTP_H
#define PAIRD_HTTP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../service/fault.h"
#include "api.h"

struct api;
struct event_base;
struct httpd;
struct loopshare;

struct http_listen {
	int fd;
	char host[64]; /* the numeric address bound, without brackets */
	uint16_t port; /* the port bound (the one picked when :0 was asked) */
	bool loopback;
};

struct httpd_limits {
	unsigned max_connections;
	unsigned timeout_s;	    /* idle: nothing received or sent for this long */
	unsigned request_timeout_s; /* a request's headers and body, whole */
	struct loopshare *share;    /* NULL: MHD runs whenever it has work */
};

/*
 * Parses "ADDR:PORT", "[ADDR6]:PORT" or ":PORT" (ADDR defaults to
 * 127.0.0.1), binds and listens. Returns 0 or -errno with @f filled.
 */
int http_listen(const char *spec, struct http_listen *out, struct fault *f);

/*
 * Binds and listens on the Unix socket @path, mode 0660, group @gid: its
 * parent directory is made (0755) when missing; a directory on the way
 * another user may change (pathsafe.h) is an error; a stale socket
 * (connect refused) is replaced; anything else at @path, or a live server
 * there, is an error. Returns the listening fd or -errno with @f filled.
 */
int http_listen_unix(const char *path, gid_t gid, struct fault *f);

/*
 * Serves the listening socket @listen_fd (ownership taken) with its own
 * MHD daemon in @base; its requests are marked @via. Several may share one
 * @api. NULL with @f filled on failure.
 */
struct httpd *httpd_new(struct event_base *base, struct api *api, int listen_fd,
			enum request_via via, const struct httpd_limits *limits, struct fault *f);
/* Closes every connection and the listening socket. NULL is a no-op. */
void httpd_free(struct httpd *h);

#endif
