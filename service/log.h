/* SPDX-License-Identifier: MIT */
/*
 * One line per event on stderr: an ISO 8601 UTC timestamp, a level and a
 * message. Everything in paird logs through here; main() sets the level
 * from --log-level. Messages never contain secrets (the API token is never
 * passed in).
 */
#ifndef PAIRD_LOG_H
#define PAIRD_LOG_H

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Returns the level named @name ("error", "warn", "info", "debug") or -1. */
int log_level_parse(const char *name);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
