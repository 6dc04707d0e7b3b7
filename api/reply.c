// SPDX-License-Identifier: MIT
/*
 * Response helpers: JSON bodies, empty and static bodies, timestamps, and
 * the response lifecycle.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../service/text.h"
#include "internal.h"

char *json_dump_line(const json_t *j, size_t *len)
{
	char *text = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	size_t n;
	char *line;

	if (!text)
		return NULL;
	n = strlen(text);
	line = realloc(text, n + 2);
	if (!line) {
		free(text);
		return NULL;
	}
	line[n] = '\n';
	line[n + 1] = '\0';
	*len = n + 1;
	return line;
}

int reply_json(struct response *rs, int status, json_t *body)
{
	size_t len = 0;
	char *text = json_dump_line(body, &len);

	json_decref(body);
	if (!text) {
		/* The 503 is the answer: callers return it like any other. */
		reply_problem(rs, 503, "unavailable", "out of memory building the response", NULL);
		return 0;
	}
	rs->status = status;
	rs->content_type = "application/json";
	rs->body = text;
	rs->len = len;
	return 0;
}

void reply_empty(struct response *rs, int status)
{
	rs->status = status;
	rs->content_type = NULL;
	rs->len = 0;
}

void reply_static(struct response *rs, int status, const char *content_type, const void *data,
		  size_t len)
{
	rs->status = status;
	rs->content_type = content_type;
	rs->static_body = data;
	rs->len = len;
}

json_t *json_time(struct timespec ts)
{
	char buf[40];
	struct tm tm;
	size_t n;

	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, sizeof(buf) - n, ".%03ldZ", ts.tv_nsec / 1000000);
	return json_string(buf);
}

json_t *json_text(const char *s)
{
	size_t len = strlen(s), size;
	json_t *j;
	char *e;

	if (text_utf8_valid(s, len))
		return json_stringn(s, len);
	/* Each ill-formed byte becomes 4 characters at most. */
	size = len * 4 + 1;
	e = malloc(size);
	if (!e)
		return NULL;
	j = json_stringn(e, text_escape(e, size, s, len, 0));
	free(e);
	return j;
}

json_t *json_hex_bytes(const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char *s = malloc(n * 2 + 1);
	json_t *j;

	if (!s)
		return json_null();
	for (size_t i = 0; i < n; i++) {
		s[2 * i] = digits[p[i] >> 4];
		s[2 * i + 1] = digits[p[i] & 15];
	}
	j = json_stringn(s, n * 2);
	free(s);
	return j;
}

void response_header(struct response *rs, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (rs->n_headers >= API_HEADERS_MAX)
		return;
	rs->headers[rs->n_headers].name = name;
	va_start(ap, fmt);
	vsnprintf(rs->headers[rs->n_headers].value, sizeof(rs->headers[0].value), fmt, ap);
	va_end(ap);
	rs->n_headers++;
}

void response_stream_release(struct response *rs)
{
	if (rs->stream_slot && *rs->stream_slot)
		(*rs->stream_slot)--;
	rs->stream_slot = NULL;
}

int response_drain(struct response *rs)
{
	size_t len, cap;
	char *buf;
	ssize_t n;
	int ret = 0;

	if (!rs->read)
		return 0;
	/* A streamed response's body is what earlier calls drained (a wait stopped them). */
	buf = rs->body;
	len = buf ? rs->len : 0;
	cap = buf ? len + 1 : 0;
	rs->body = NULL;
	for (;;) {
		if (cap - len < 4096) {
			size_t ncap = cap < 8192 ? 16384 : cap * 2;
			char *b = realloc(buf, ncap);

			if (!b) {
				ret = -ENOMEM;
				break;
			}
			buf = b;
			cap = ncap;
		}
		/* Odd sizes on purpose: a reader must cope with any @max. */
		n = rs->read(rs->read_ctx, buf + len, (cap - len - 1) % 7919 + 1);
		if (n == -EAGAIN)
			continue;
		if (n <= 0) {
			ret = (int)n;
			break;
		}
		len += (size_t)n;
	}
	if (ret != RESPONSE_WAIT) {
		if (rs->read_free)
			rs->read_free(rs->read_ctx);
		rs->read = NULL;
		rs->read_ctx = NULL;
		rs->read_free = NULL;
		rs->attach_wake = NULL;
		response_stream_release(rs);
	}
	rs->body = buf;
	rs->len = len;
	if (buf)
		buf[len] = '\0'; /* text bodies are read as strings by tests */
	return ret;
}

void response_fini(struct response *rs)
{
	if (rs->read_free)
		rs->read_free(rs->read_ctx);
	response_stream_release(rs);
	free(rs->body);
	memset(rs, 0, sizeof(*rs));
}
