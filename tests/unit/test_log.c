// SPDX-License-Identifier: MIT
/*
 * Unit tests of service/log.c with stderr sent to a scratch file: one line
 * per call whatever the message holds (a "%0a" in a URL once forged a log
 * line), control characters and ill-formed UTF-8 escaped, long messages cut
 * but still ended by a newline, and the level filter.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../service/log.h"
#include "support.h"

/* Logs @msg at info with stderr in a file; returns what was written. */
static char *logged(const char *msg)
{
	char *dir = tmpdir_new(), *path = path_join(dir, "log"), *text;
	int saved = dup(STDERR_FILENO);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(saved >= 0 && fd >= 0);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	close(fd);
	log_info("%s", msg);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	text = file_read(path, NULL);
	assert_non_null(text);
	free(path);
	tmpdir_remove(dir);
	return text;
}

static size_t lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_one_line(void **state)
{
	char *t = logged("PATCH /api/v1/ports/x\nFAKE 2026-01-01T00:00:00.000Z info  forged\r"
			 "\x1b[1A -> 404");

	(void)state;
	assert_int_equal(lines(t), 1);
	assert_int_equal(t[strlen(t) - 1], '\n');
	assert_null(strchr(t, '\r'));
	assert_null(strchr(t, '\x1b'));
	assert_non_null(strstr(t, " info  PATCH /api/v1/ports/x\\x0aFAKE 2026-"));
	assert_non_null(strstr(t, "forged\\x0d\\x1b[1A -> 404\n"));
	free(t);
}

static void test_not_utf8(void **state)
{
	char *t = logged("GET /api/v1/ports/\xff\xc3");

	(void)state;
	assert_non_null(strstr(t, "GET /api/v1/ports/\\xff\\xc3\n"));
	free(t);
}

static void test_long(void **state)
{
	char big[3000];
	char *t;

	(void)state;
	/* Every byte becomes a 4-byte escape: far more than a line holds. */
	memset(big, '\n', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	t = logged(big);
	assert_int_equal(lines(t), 1);
	assert_int_equal(t[strlen(t) - 1], '\n');
	/* Cut between escapes, never inside one. */
	assert_non_null(strstr(t, "\\x0a\n"));
	free(t);
}

static void test_level(void **state)
{
	char *t;

	(void)state;
	log_set_level(LOG_WARN);
	t = logged("hidden");
	assert_string_equal(t, "");
	free(t);
	log_set_level(LOG_INFO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_line),
		cmocka_unit_test(test_not_utf8),
		cmocka_unit_test(test_long),
		cmocka_unit_test(test_level),
	};

	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
