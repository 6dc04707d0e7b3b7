/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the unit tests (tests/unit/test_*.c): a fake HTTP
 * request for api_handle() with header and query tables, response
 * inspection (JSON body, headers, the RFC 9457 problem members), the
 * API and port set fixtures, a scratch directory per test, whole-file
 * reads, JSON written with ' for ", hex/frame builders, the memory I/O and
 * stack environment port tests start from, and a frame fed through a
 * port's read loop on the memory I/O. Linked into
 * every unit test binary; failures are reported through cmocka's
 * assertions, so callers need no error handling.
 */
#ifndef PAIRD_TEST_SUPPORT_H
#define PAIRD_TEST_SUPPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../api/api.h"

#define FAKE_HEADERS_MAX 16
#define FAKE_QUERY_MAX	 8

/* A request as api/http.c would build it, with its lookup tables inline. */
struct fake_req {
	struct request rq;
	unsigned n_hdr, n_query;
	const char *hdr_name[FAKE_HEADERS_MAX], *hdr_value[FAKE_HEADERS_MAX];
	const char *q_name[FAKE_QUERY_MAX], *q_value[FAKE_QUERY_MAX];
};

/* @path and every string given later must outlive the request. No headers. */
void freq_init(struct fake_req *fr, enum http_method method, const char *path);
/* Adds (or, for a repeated name, replaces) a header; a NULL @value removes it. */
void freq_header(struct fake_req *fr, const char *name, const char *value);
void freq_query(struct fake_req *fr, const char *name, const char *value);
/* Sets Content-Type (unless @ct is NULL) and the body (NUL-terminated text). */
void freq_body(struct fake_req *fr, const char *ct, const char *body);

/* The value of response header @name (case-insensitive), or NULL. */
const char *resp_header(const struct response *rs, const char *name);
/* The body as text (static or malloc'ed); "" when empty. Valid until response_fini(). */
const char *resp_text(const struct response *rs);
/* The body parsed as a JSON object; asserts that it parses. New reference. */
json_t *resp_json(const struct response *rs);
/*
 * Asserts an RFC 9457 problem: Content-Type application/problem+json, and
 * a body with string type ("urn:paird:problem:..."), title and detail and
 * integer status equal to @status; @field, when not NULL, must be the
 * "field" member ("" means no field member at all). Returns the body.
 */
json_t *assert_problem(const struct response *rs, int status, const char *field);
/* The same, and its type ends in @slug ("not-found"; NULL: any). Returns the body. */
json_t *assert_problem_of(const struct response *rs, int status, const char *slug,
			  const char *field);
/* True when the comma-separated @list holds @item. */
bool list_has(const char *list, const char *item);

/* Asserts the response status, showing the body when it differs. */
void expect_status(const struct response *rs, int status);

struct memio;
struct portset;
/*
 * An API over a port set on the memory port I/O whose state file,
 * state.json, is in a scratch directory: what the test_api*.c files test
 * through api_handle().
 */
struct api_fx {
	struct memio *m;
	char *dir, *path; /* the scratch directory and its state.json */
	unsigned max_ports;
	struct portset *ps;
	struct api *api;
	struct api_config cfg; /* listens on 127.0.0.1:8080; ports is ps */
	struct response rs;    /* the last response, until the next request */
};

/*
 * Quiets the log and makes the memory I/O and the scratch directory; the
 * port set and the API come with api_fx_start(), so cfg can be set first.
 */
void api_fx_init(struct api_fx *fx, unsigned max_ports);
/* A port set restored from the state file, and an API over it. */
void api_fx_start(struct api_fx *fx);
/* A new API with cfg as it is now, over the same port set. */
void api_fx_restart(struct api_fx *fx);
/* Frees the API and the port set (a later api_fx_start() restores them from the file). */
void api_fx_stop(struct api_fx *fx);
/* api_fx_stop(), asserts no device fd is left open, removes the scratch directory. */
void api_fx_fini(struct api_fx *fx);
/* Runs @fr and reads its body to the end as a client would; returns &fx->rs. */
struct response *api_fx_run(struct api_fx *fx, struct fake_req *fr);

/*
 * A fixture that begins with a struct api_fx: its @size in bytes and the
 * port set's @max_ports. Given to cmocka as the test's initial state
 * (cmocka_unit_test_prestate_setup_teardown) with the two functions below.
 */
struct api_fx_spec {
	size_t size;
	unsigned max_ports;
};

/* cmocka setup: *@state, a struct api_fx_spec, becomes the fixture it describes, started. */
int api_fx_setup(void **state);
/* cmocka teardown: api_fx_fini() and free() of api_fx_setup()'s fixture. */
int api_fx_teardown(void **state);

/*
 * A port set on the memory port I/O whose state file, state.json, is in a
 * scratch directory, without an API: what test_portset.c and
 * test_config.c test directly.
 */
struct ps_fx {
	struct memio *m;
	char *dir, *path, *tmp; /* the scratch directory, its state.json and state.json.tmp */
	struct portset *ps;	/* NULL until ps_fx_start() */
};

/* Quiets the log, makes the memory I/O and the scratch directory; no port set yet. */
struct ps_fx *ps_fx_new(void);
/* A fresh port set on fx->path (the old one freed), restored; @max 0 is the default. */
void ps_fx_start(struct ps_fx *fx, unsigned max);
/* Frees the port set, asserts no device fd is left open, removes the directory. */
void ps_fx_free(struct ps_fx *fx);

/* A fresh directory under $TMPDIR (or /tmp); remove it with tmpdir_remove(). */
char *tmpdir_new(void);
/* Removes @dir recursively and frees the string. NULL is a no-op. */
void tmpdir_remove(char *dir);
/* "@dir/@name", malloc'ed. */
char *path_join(const char *dir, const char *name);

/* The whole file, NUL-terminated, malloc'ed; NULL if it cannot be read. */
char *file_read(const char *path, size_t *len);
/* Runs @fn(@arg) with stderr in a scratch file; what it wrote there, malloc'ed. */
char *stderr_of(void (*fn)(void *arg), void *arg);
/* Writes @text to @path, replacing it. */
void file_write(const char *path, const char *text);
bool file_exists(const char *path);
/* Entries of @dir other than "." and "..". */
unsigned dir_count(const char *dir);

/* @text with every ' turned into ", so JSON reads well in C strings; malloc'ed. */
char *text_dq(const char *text);
/* text_dq(@text) parsed (any value, duplicate keys refused); fails the test if it does not parse. */
json_t *json_sq(const char *text);

/* Decodes hex digits (whitespace ignored) into @out; returns the byte count. */
size_t hex_decode(const char *hex, uint8_t *out, size_t max);
/* Fills @buf with a pattern that depends on @seed and the offset. */
void frame_fill(uint8_t *buf, size_t len, unsigned seed);

/* Recomputes the header checksum of the IPv4 header at @ip (IHL taken from it). */
void ipv4_checksum_fix(uint8_t *ip);

struct port_env;
/* Quiets the log to errors and makes a memory I/O whose ops @env's ports use. */
struct memio *memio_env_new(struct port_env *env);

/* An administrator's `ip addr add @prefix dev @name` on the memory I/O @m. */
void admin_addr_add(struct memio *m, const char *name, const char *prefix);

struct stack_env;
/*
 * A stack environment over a capture budget of @budget bytes: rings of
 * @ring_bytes, @max_bindings per port, the handlers' scratch buffer, no
 * port lookup (the caller sets one if it needs it).
 */
void senv_init(struct stack_env *env, size_t budget, size_t ring_bytes, unsigned max_bindings);
/* Asserts that every capture ring gave its bytes back to the budget, then frees both. */
void senv_fini(struct stack_env *env);

struct port;
/*
 * Queues @len bytes at @frame on @port's device of the memory I/O and runs
 * the port's read loop until the queue is drained (asserting that it is,
 * within a bounded number of turns), so the frame reaches the port's sink
 * the way a real read would deliver it.
 */
void frame_feed(struct memio *m, struct port *port, const void *frame, size_t len);

#endif
