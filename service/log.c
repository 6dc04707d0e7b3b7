// SPDX-License-Identifier: MIT
/*
 * Leveled logging to stderr, one line per call, as text or JSON. The line
 * is formatted in a stack buffer and written with a single write(2) so
 * lines from paird never interleave mid-line with anything else writing to
 * the same stderr. The message and every string field are escaped in this
 * one place (text.h): they carry request paths, header values and kernel
 * names, and a newline or a terminal escape in one of them must not forge
 * a line or rewrite the screen. In JSON the escaped text is then quoted,
 * so a field's decoded value reads exactly as the text format shows it. */
#include "log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "text.h"

static enum log_level current = LOG_INFO;
static enum log_format format = LOG_FORMAT_TEXT;

static const char *const level_names[] = {
	[LOG_ERROR] = "error",
	[LOG_WARN] = "warn",
	[LOG_INFO] = "info",
	[LOG_DEBUG] = "debug",
};

int log_level_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(name, level_names[i]) == 0)
			return (int)i;
	return -1;
}

void log_set_level(enum log_level level)
{
	current = level;
}

enum log_level log_get_level(void)
{
	return current;
}

int log_format_parse(const char *name)
{
	if (strcmp(name, "text") == 0)
		return LOG_FORMAT_TEXT;
	if (strcmp(name, "json") == 0)
		return LOG_FORMAT_JSON;
	return -1;
}

void log_set_format(enum log_format f)
{
	format = f;
}

/*
 * A line being built. Sized so that nothing is ever cut (a cut JSON line
 * would not parse): a message escapes to at most 4095 bytes and a string
 * field to at most 1023, each at most doubled by JSON's quoting, and a line
 * has at most LOG_FIELDS_MAX fields. put() still stops at the end.
 */
#define LOG_FIELDS_MAX 8
#define FIELD_ESC_MAX  1024

struct line {
	char buf[8448 + LOG_FIELDS_MAX * (2 * FIELD_ESC_MAX + 64)];
	size_t n;
};

/* Kept back for the end of a line: a closing quote, "}" and the newline. */
#define LINE_END_ROOM 4

static void put(struct line *l, const char *s, size_t len)
{
	size_t room = sizeof(l->buf) - LINE_END_ROOM - l->n;

	if (len > room)
		len = room;
	memcpy(l->buf + l->n, s, len);
	l->n += len;
}

static void puts_(struct line *l, const char *s)
{
	put(l, s, strlen(s));
}

static bool needs_quotes(const char *s)
{
	return !*s || strpbrk(s, " \"=") != NULL;
}

/*
 * @len bytes at @s, escaped (text_escape()); quoted when @quote (JSON
 * strings, text values with spaces), where '"' and (JSON) '\' get a
 * backslash. An escape pair is never cut in two.
 */
static void put_text(struct line *l, const char *s, size_t len, size_t max, bool json)
{
	char esc[4096];
	size_t m =
		text_escape(esc, max < sizeof(esc) ? max : sizeof(esc), s, len, TEXT_ESC_CONTROL);
	bool quote = json || needs_quotes(esc);

	if (quote)
		put(l, "\"", 1);
	for (size_t i = 0; i < m; i++) {
		bool pair = quote && (esc[i] == '"' || (json && esc[i] == '\\'));

		if (l->n + (pair ? 2 : 1) > sizeof(l->buf) - LINE_END_ROOM)
			break;
		if (pair)
			l->buf[l->n++] = '\\';
		l->buf[l->n++] = esc[i];
	}
	if (quote) /* LINE_END_ROOM has a byte for it */
		l->buf[l->n++] = '"';
}

static void put_field(struct line *l, const struct log_field *fd, bool json)
{
	char num[48];

	puts_(l, json ? ",\"" : " ");
	puts_(l, fd->key);
	puts_(l, json ? "\":" : "=");
	switch (fd->type) {
	case 's':
		if (fd->s)
			put_text(l, fd->s, strlen(fd->s), FIELD_ESC_MAX, json);
		else
			puts_(l, json ? "null" : "-");
		return;
	case 'i':
		snprintf(num, sizeof(num), "%lld", fd->i);
		break;
	default:
		snprintf(num, sizeof(num), "%.3f", fd->d);
		break;
	}
	puts_(l, num);
}

__attribute__((format(printf, 4, 0))) static void log_v(enum log_level level,
							const struct log_field *fields,
							size_t n_fields, const char *fmt,
							va_list ap)
{
	char msg[1024], ts[40];
	struct line l = { .n = 0 };
	bool json = format == LOG_FORMAT_JSON;
	struct timespec now;
	struct tm tm;
	size_t len, n;
	int r;

	r = vsnprintf(msg, sizeof(msg), fmt, ap);
	len = r < 0 ? 0 : (size_t)r < sizeof(msg) ? (size_t)r : sizeof(msg) - 1;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	n = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + n, sizeof(ts) - n, ".%03ldZ", now.tv_nsec / 1000000);
	if (json) {
		puts_(&l, "{\"ts\":\"");
		puts_(&l, ts);
		puts_(&l, "\",\"level\":\"");
		puts_(&l, level_names[level]);
		puts_(&l, "\",\"msg\":");
		put_text(&l, msg, len, sizeof(msg) * 2, true);
	} else {
		char head[64];

		snprintf(head, sizeof(head), "%s %-5s ", ts, level_names[level]);
		puts_(&l, head);
		/* The message as it always was: escaped, never quoted. */
		l.n += text_escape(l.buf + l.n, sizeof(l.buf) - LINE_END_ROOM - l.n, msg, len,
				   TEXT_ESC_CONTROL);
	}
	for (size_t i = 0; i < n_fields && i < LOG_FIELDS_MAX; i++)
		put_field(&l, &fields[i], json);
	if (json)
		l.buf[l.n++] = '}';
	l.buf[l.n++] = '\n';
	/* Nothing sensible to do if stderr is gone. */
	if (write(STDERR_FILENO, l.buf, l.n) < 0)
		return;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > current)
		return;
	va_start(ap, fmt);
	log_v(level, NULL, 0, fmt, ap);
	va_end(ap);
}

void log_fields(enum log_level level, const struct log_field *fields, size_t n, const char *fmt,
		...)
{
	va_list ap;

	if (level > current)
		return;
	va_start(ap, fmt);
	log_v(level, fields, n, fmt, ap);
	va_end(ap);
}
