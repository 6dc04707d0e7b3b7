// SPDX-License-Identifier: MIT
/*
 * Leveled logging to stderr, one line per call. The line is formatted in a
 * stack buffer and written with a single write(2) so lines from paird never
 * interleave mid-line with anything else writing to the same stderr. The
 * message is escaped in this one place (text.h): messages carry request
 * paths, header values and kernel names, and a newline or a terminal
 * escape in one of them must not forge a line or rewrite the screen.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "text.h"

static enum log_level current = LOG_INFO;

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

void log_msg(enum log_level level, const char *fmt, ...)
{
	char msg[1024];
	/* Room for a prefix and a message that escaping made longer. */
	char line[2048];
	struct timespec ts;
	struct tm tm;
	size_t n, len;
	va_list ap;
	int r;

	if (level > current)
		return;
	va_start(ap, fmt);
	r = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	len = r < 0 ? 0 : (size_t)r < sizeof(msg) ? (size_t)r : sizeof(msg) - 1;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	r = snprintf(line + n, sizeof(line) - n, ".%03ldZ %-5s ", ts.tv_nsec / 1000000,
		     level_names[level]);
	n += (size_t)r;
	/* One byte kept back for the newline. */
	n += text_escape(line + n, sizeof(line) - n - 1, msg, len, TEXT_ESC_CONTROL);
	line[n++] = '\n';
	/* Nothing sensible to do if stderr is gone. */
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}
