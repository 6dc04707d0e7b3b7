/* SPDX-License-Identifier: MIT */
/*
 * One line per event on stderr: an ISO 8601 UTC timestamp, a level, a
 * message and optional structured fields, as text ("key=value" after the
 * message) or as one JSON object per line ({"ts", "level", "msg", and the
 * fields}). Everything in paird logs through here; main() sets the level
 * from --log-level and the format from --log-format. Messages never
 * contain secrets (the API token is never passed in).
 */
#ifndef PAIRD_LOG_H
#define PAIRD_LOG_H

#include <stddef.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Returns the level named @name ("error", "warn", "info", "debug") or -1. */
int log_level_parse(const char *name);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

/* Returns the format named @name ("text", "json") or -1. */
int log_format_parse(const char *name);
void log_set_format(enum log_format format);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A structured field of a log line; build them with LOG_STR, LOG_INT and LOG_NUM. */
struct log_field {
	const char *key; /* a literal: written as it is */
	char type;	 /* 's', 'i' or 'd' */
	const char *s;	 /* escaped like the message; NULL is written as "-" (text), null */
	long long i;
	double d; /* written with 3 decimals */
};

#define LOG_STR(k, v)                             \
	{                                         \
		.key = (k), .type = 's', .s = (v) \
	}
#define LOG_INT(k, v)                             \
	{                                         \
		.key = (k), .type = 'i', .i = (v) \
	}
#define LOG_NUM(k, v)                             \
	{                                         \
		.key = (k), .type = 'd', .d = (v) \
	}

/* log_msg() with @n fields after the message. */
void log_fields(enum log_level level, const struct log_field *fields, size_t n, const char *fmt,
		...) __attribute__((format(printf, 4, 5)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
