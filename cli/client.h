/* SPDX-License-Identifier: MIT */
/*
 * pairctl's HTTP client: one request at a time to paird's public API over
 * its Unix socket (the default) or TCP with a bearer token, through
 * libcurl. It turns what goes wrong into one line for the user: a
 * connection failure names the socket and says why (missing, permission
 * denied, nobody listening), an RFC 9457 problem shows its title, detail,
 * field and every entry of `errors`.
 */
#ifndef PAIRCTL_CLIENT_H
#define PAIRCTL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct client;

struct client_cfg {
	const char *socket; /* the Unix socket, when url is NULL */
	const char *url;    /* http(s)://host:port, or NULL */
	const char *token;  /* bearer token for url, or NULL */
};

struct response {
	long status;
	char *body; /* NUL-terminated; len bytes before the NUL */
	size_t len;
	char content_type[128];
	char etag[128];
	int changed; /* Paird-Changed: 1 true, 0 false, -1 absent */
};

/* A request body and its conditions; every member may be zero/NULL. */
struct request {
	const char *body;
	size_t body_len;
	const char *content_type; /* default application/json */
	const char *if_match;	  /* an ETag, or a bare version sent as "VERSION" */
	const char *if_none_match;
};

/* Returns NULL with errno set when libcurl cannot start. */
struct client *client_new(const struct client_cfg *cfg);
void client_free(struct client *c);

/*
 * Sends method path (path with its query, already escaped) and keeps the
 * whole answer in *r (response_fini releases it). Returns 0 when an
 * answer came, whatever its status, or a negative errno after printing
 * why no answer came.
 */
int client_request(struct client *c, const char *method, const char *path, const struct request *rq,
		   struct response *r);

/*
 * GETs path and writes a 2xx answer's body to fd as it arrives (for a
 * capture that follows); any other answer is kept in *r as
 * client_request does. The reader of fd going away (EPIPE) ends the
 * stream quietly: 0. Returns 0 or a negative errno (printed).
 */
int client_stream(struct client *c, const char *path, int fd, struct response *r);

void response_fini(struct response *r);

/* The body parsed as JSON, or NULL (printed) when it is not. */
json_t *response_json(const struct response *r);

/*
 * Prints a non-2xx answer for the user on stderr: "pairctl: TITLE: DETAIL
 * (field F)" and one line per `errors` entry; with json, the problem body
 * itself also goes to stdout for a script to parse.
 */
void response_report(const struct response *r, bool json);

/* Escapes one path segment (a port or binding name) into buf. 0 or -ENOSPC. */
int client_escape(const char *seg, char *buf, size_t len);

#endif
