/* SPDX-License-Identifier: MIT */
/*
 * What the files of api/ share: the api object, the handler type, reply
 * helpers and the resource handlers the route table names. Not used
 * outside api/.
 */
#ifndef PAIRD_API_INTERNAL_H
#define PAIRD_API_INTERNAL_H

#include <jansson.h>
#include <time.h>

#include "../service/fault.h"
#include "../service/secret.h"
#include "api.h"

#define API_SESSIONS 32

struct api_session {
	char id[SECRET_HEX_LEN + 1]; /* "" when the slot is free */
	double expires;		     /* CLOCK_MONOTONIC seconds */
};

struct api {
	struct api_config cfg;		     /* cfg.token is NULL here: the token lives in .token */
	char *token;			     /* owned; NULL: no auth on TCP */
	char login_code[SECRET_HEX_LEN + 1]; /* the pending one-time code, "" when none */
	double login_code_expires;	     /* CLOCK_MONOTONIC seconds */
	struct api_session sessions[API_SESSIONS];
	struct timespec started;      /* CLOCK_REALTIME, for display */
	struct timespec started_mono; /* CLOCK_MONOTONIC, for uptime */
	struct api_events *events;    /* the event stream (events.c); NULL without a ring */
	unsigned streams;	      /* long-lived streams admitted and not yet released */
};

/*
 * Takes one of --max-streams slots for the long-lived stream @rs will be
 * (released by response_fini()), or fills @rs with the 503
 * "too-many-streams" (Retry-After) and returns false. api_handle() calls
 * it after the handler for a long-lived response that has none yet; a
 * handler whose set-up costs (a filter to compile) calls it first.
 */
bool api_stream_admit(struct api *api, const struct request *rq, struct response *rs);

/* 0 when every line of the query parameter table names a route and method of routes[]. */
int api_query_table_check(void);

/* A resource handler: fills @rs and returns 0, or returns < 0 with @f filled. */
typedef int (*handler_fn)(struct api *api, struct request *rq, struct response *rs,
			  struct fault *f);

/* --- reply.c --- */
/*
 * @j as compact JSON ending in a newline (so a curl user's prompt starts on
 * its own line), malloc'ed, its length in *@len; NULL when out of memory.
 */
char *json_dump_line(const json_t *j, size_t *len);
/* Sends @body (stolen) as application/json with @status; 503 when out of memory. Returns 0. */
int reply_json(struct response *rs, int status, json_t *body);
void reply_empty(struct response *rs, int status);
/* Sends @len bytes at @data (not copied; must outlive the response). */
void reply_static(struct response *rs, int status, const char *content_type, const void *data,
		  size_t len);
/* RFC 3339 UTC with milliseconds. */
json_t *json_time(struct timespec ts);
/*
 * @s as a JSON string even when it is not UTF-8 (a request path, a query
 * value, a detail cut mid-character): ill-formed bytes become "\xNN".
 * jansson refuses such strings, and a NULL member silently disappears.
 * NULL only when out of memory.
 */
json_t *json_text(const char *s);
/* @n bytes as a lower-case hex string. */
json_t *json_hex_bytes(const uint8_t *p, size_t n);

/* --- problem.c --- */
/* The problem+json response for @f. */
void reply_fault(struct response *rs, const struct fault *f, const char *instance);
/* The same with extension members from @ext (stolen), e.g. a failed apply's rolled_back. */
void reply_fault_ext(struct response *rs, const struct fault *f, const char *instance, json_t *ext);
/* A problem with an explicit status, for HTTP-level refusals (401, 405, 413, 415, ...). */
void reply_problem(struct response *rs, int status, const char *slug, const char *detail,
		   const char *instance);
/* The same with extension members from @ext (stolen), e.g. a 410's oldest_seq. */
void reply_problem_ext(struct response *rs, int status, const char *slug, const char *detail,
		       const char *instance, json_t *ext);
/* @f (its field, detail and "errors") under another status and slug than its kind's. */
void reply_fault_as(struct response *rs, int status, const char *slug, const struct fault *f,
		    const char *instance);
int fault_status(const struct fault *f);

/* --- precond.c --- */
/* ETag: "<version>" (strong, quoted decimal). */
void reply_etag(struct response *rs, uint64_t version);
/* Paird-Changed: true | false, on every PUT, PATCH, POST and DELETE that succeeded. */
void reply_changed(struct response *rs, bool changed);
/*
 * The preconditions of @rq on a resource that exists (@exists) at
 * @version: If-Match on a write that names neither "*" (when it exists)
 * nor the current ETag is 412 (also when it does not exist), and so is
 * If-None-Match that matches ("*": it exists) on a write; on GET/HEAD a
 * matching If-None-Match is 304 with the ETag. Returns 0 to go on, or 1
 * with the answer in @rs (the handler then returns 0).
 */
int precond_check(const struct request *rq, bool exists, uint64_t version, struct response *rs);

/* --- body.c --- */
/*
 * Parses the body as one JSON object: 415 unless Content-Type is JSON
 * (application/json, or application/merge-patch+json when @merge_patch),
 * 400 for empty bodies, invalid JSON or duplicate keys.
 */
int body_json(const struct request *rq, bool merge_patch, json_t **out, struct fault *f);
/*
 * body_json() for a resource whose document may be large (PUT
 * /api/v1/config): a body holding more than @max_values JSON values
 * (counted before parsing) is a FAULT_TOO_LARGE, 413.
 */
int body_json_doc(const struct request *rq, size_t max_values, json_t **out, struct fault *f);

/* --- auth.c --- */
/* True when @rq may use a guarded path: the Unix socket, auth off, the token or a session. */
bool auth_ok(struct api *api, const struct request *rq);
int h_login(struct api *api, struct request *rq, struct response *rs, struct fault *f);
int h_login_codes(struct api *api, struct request *rq, struct response *rs, struct fault *f);

/* --- resources --- */
struct port;
struct binding;
struct frame_info;

/* The port named by the first path parameter; NULL with a 404 fault. */
struct port *api_find_port(struct api *api, const struct request *rq, struct fault *f);
json_t *binding_counters_json(const struct binding *b);
struct handler_ops;
struct binding_counters;

/* One counter of a binding, as the JSON views and /metrics both give it. */
struct binding_counter {
	const char *name; /* the JSON member; the metric is paird_binding_NAME_total */
	const char *help; /* the metric's HELP text */
	uint64_t value;
};

/* Every binding's packets, bytes and errors, and a handler's own (BINDING_EXTRA_MAX). */
#define BINDING_COUNTERS_MAX 5

/*
 * The counters a binding with handler @ops has, in the order both views
 * give them (packets, bytes, errors, then the handler's own), with their
 * values from @c (0 when @c is NULL: the names alone). Returns how many.
 */
size_t binding_counter_list(const struct handler_ops *ops, const struct binding_counters *c,
			    struct binding_counter out[BINDING_COUNTERS_MAX]);
struct port_error;
/* A port's last error as the API shows it, JSON null when it never met one. */
json_t *last_error_json(const struct port_error *e);
json_t *frame_headers_json(const struct frame_info *fi, const uint8_t *data, uint32_t caplen);

/* --- counters.c --- */
struct stack;
struct capture_stats;

enum counter_shape {
	COUNTER_VALUE,	  /* one number, read by .value */
	COUNTER_BY_ERRNO, /* .slots by errno, slot 0 "other"; only the slots that are not 0 */
	COUNTER_BY_LABEL, /* .slots first..count-1, each named by .label_of */
};

/* One counter of a port, as the JSON and /metrics show it. */
struct port_counter {
	const char *key;    /* in the port's "counters" object; NULL: /metrics only */
	const char *metric; /* the Prometheus family */
	const char *type;   /* "counter" or "gauge" */
	const char *help;
	enum counter_shape shape;
	uint64_t (*value)(const struct port *p, const struct stack *s);
	const uint64_t *(*slots)(const struct port *p, const struct stack *s);
	const char *label; /* the family's label for a slot: "errno", "level", ... */
	int first, count;
	const char *(*label_of)(int i);
};

/* Whether slot @k of @t's @slots is shown, and its label value. */
bool port_counter_slot_shown(const struct port_counter *t, const uint64_t *slots, int k);
const char *port_counter_slot_name(const struct port_counter *t, int k, char nb[16]);

/* In the order both views show them. */
extern const struct port_counter port_counter_table[];
extern const size_t port_counter_count;

/* A field of a port's capture ring statistics ("capture" in the JSON). */
struct capture_counter {
	const char *key, *metric, *type, *help;
	size_t off; /* of the uint64_t in struct capture_stats */
};

extern const struct capture_counter capture_counter_table[];
extern const size_t capture_counter_count;

/* The statistics of @s's capture ring, all 0 when it has none. */
void port_capture_stats(const struct stack *s, struct capture_stats *st);
uint64_t capture_counter_value(const struct capture_counter *c, const struct capture_stats *st);

int h_ports_list(struct api *api, struct request *rq, struct response *rs, struct fault *f);
int h_ports_create(struct api *api, struct request *rq, struct response *rs, struct fault *f);
int h_port_get(struct api *api, struct request *rq, struct response *rs, struct fault *f);
int h_port_put(struct api *api, struct request *rq, struct response *rs, struct fault *f);
int h_port_patch(struct api *api, struct request *rq, struct response *rs, struct fault *f);
int h_port_delete(struct api *api, struct request *rq, struct response *rs, struct fault *f);

int h_bindings_list(struct api *api, struct request *rq, struct response *rs, struct fault *f);
int h_bindings_create(struct api *api, struct request *rq, struct response *rs, struct fault *f);
int h_binding_get(struct api *api, struct request *rq, struct response *rs, struct fault *f);
int h_binding_delete(struct api *api, struct request *rq, struct response *rs, struct fault *f);
int h_captures_get(struct api *api, struct request *rq, struct response *rs, struct fault *f);
int h_captures_pcap(struct api *api, struct request *rq, struct response *rs, struct fault *f);
int h_captures_delete(struct api *api, struct request *rq, struct response *rs, struct fault *f);
int h_captures_pcapng(struct api *api, struct request *rq, struct response *rs, struct fault *f);
int h_all_captures_pcapng(struct api *api, struct request *rq, struct response *rs,
			  struct fault *f);

/* --- follow.c --- */
#define FOLLOW_PORTS_MAX 8

struct follow_opts {
	bool pcapng;	  /* else classic pcap (one port only) */
	bool follow;	  /* keep sending new records until the client goes */
	uint64_t after;	  /* start after this sequence number (one port) */
	uint32_t binding; /* only this binding's records (one port); 0: all */
	/* The stream's own capture, no binding needed (with follow): */
	const char *filter; /* tcpdump syntax; NULL: every frame */
	uint32_t snaplen;   /* bytes kept per frame; 0: all */
};

/*
 * A capture file of @ports (pcap: exactly one) into @rs, streamed; with
 * @o->follow a long-lived stream that waits for new records, admitted
 * (api_stream_admit(): 0 with the 503 in @rs when none is free) before its
 * filter is compiled. 0, or -1 with @f filled.
 */
int follow_reply(struct api *api, const struct request *rq, struct port **ports, unsigned n,
		 const struct follow_opts *o, struct response *rs, struct fault *f);
/* Follow streams open now, and records they missed (evicted before read) since start. */
uint64_t follow_streams_open(void);
uint64_t follow_missed_total(void);
/* Frames the streams' own taps saw, and those their filters turned away. */
uint64_t follow_tap_frames(void);
uint64_t follow_tap_filtered(void);
/* pcapng blocks (exposed for the unit tests); each returns the bytes written at @out. */
size_t pcapng_shb(uint8_t *out);
size_t pcapng_idb(uint8_t *out, uint16_t linktype, const char *name);
size_t pcapng_epb_size(uint32_t incl, uint64_t missed);
struct capture_record;
size_t pcapng_epb(uint8_t *out, uint32_t ifid, const struct capture_record *rec, uint32_t skip,
		  uint64_t missed);
int h_transmit(struct api *api, struct request *rq, struct response *rs, struct fault *f);
int h_metrics(struct api *api, struct request *rq, struct response *rs, struct fault *f);

/* --- events.c --- */
struct api_events;
struct api_events *api_events_new(struct api *api, const struct api_config *cfg);
void api_events_free(struct api_events *ae);
int h_events(struct api *api, struct request *rq, struct response *rs, struct fault *f);
/* A port as GET /api/v1/ports/{name} shows it, and a binding as its GET does. */
json_t *port_json(const struct api *api, const struct port *p);
json_t *binding_json(const struct binding *b);
int h_binding_put(struct api *api, struct request *rq, struct response *rs, struct fault *f);

/* --- config.c --- */
int h_config_get(struct api *api, struct request *rq, struct response *rs, struct fault *f);
int h_config_put(struct api *api, struct request *rq, struct response *rs, struct fault *f);

int h_healthz(struct api *api, struct request *rq, struct response *rs, struct fault *f);
int h_info(struct api *api, struct request *rq, struct response *rs, struct fault *f);
int h_asset(struct api *api, struct request *rq, struct response *rs, struct fault *f);

#endif
