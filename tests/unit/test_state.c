// SPDX-License-Identifier: MIT
/*
 * Unit tests of service/state.c in a scratch directory: atomic save (exact
 * content, no temp file left, replaces the old file, failures leave the
 * old file alone) and load (missing file, non-regular files that must not
 * block, oversized and corrupt files named in the fault).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../service/state.h"
#include "support.h"

struct fx {
	char *dir;
	char *path; /* dir/state.json */
	char *tmp;  /* dir/state.json.tmp */
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	fx->dir = tmpdir_new();
	fx->path = path_join(fx->dir, "state.json");
	fx->tmp = path_join(fx->dir, "state.json.tmp");
	*state = fx;
	/* A FIFO open that blocks must fail the test, not hang it. */
	alarm(10);
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	alarm(0);
	tmpdir_remove(fx->dir);
	free(fx->path);
	free(fx->tmp);
	free(fx);
	return 0;
}

static json_t *sample(int mtu)
{
	json_t *doc =
		json_pack("{s:i, s:[{s:s, s:s, s:i, s:[s]}]}", "format", STATE_FORMAT, "ports",
			  "name", "p0", "type", "tap", "mtu", mtu, "addresses", "198.18.0.1/24");

	assert_non_null(doc);
	return doc;
}

static void test_save_exact(void **state)
{
	struct fx *fx = *state;
	struct fault f = FAULT_INIT;
	json_t *doc = sample(1500);
	char *want, *got;
	size_t len;
	struct stat st;

	assert_int_equal(state_save(fx->path, doc, &f), 0);
	assert_int_equal(f.kind, FAULT_NONE);
	want = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	got = file_read(fx->path, &len);
	assert_non_null(got);
	assert_int_equal(len, strlen(want) + 1);
	assert_memory_equal(got, want, strlen(want));
	assert_int_equal(got[len - 1], '\n');
	/* Nothing else in the directory: the temp file was renamed. */
	assert_false(file_exists(fx->tmp));
	assert_int_equal(dir_count(fx->dir), 1);
	/* The state file may hold addresses; it is not world-readable. */
	assert_int_equal(stat(fx->path, &st), 0);
	assert_int_equal(st.st_mode & 0077, 0);
	free(want);
	free(got);
	json_decref(doc);
}

static void test_save_load_round_trip(void **state)
{
	struct fx *fx = *state;
	struct fault f = FAULT_INIT;
	json_t *doc = sample(9000), *back = NULL;

	assert_int_equal(state_save(fx->path, doc, &f), 0);
	assert_int_equal(state_load(fx->path, &back, &f), 0);
	assert_non_null(back);
	assert_true(json_equal(doc, back));
	json_decref(back);
	json_decref(doc);
}

static void test_save_replaces(void **state)
{
	struct fx *fx = *state;
	struct fault f = FAULT_INIT;
	json_t *a = sample(1500), *b = sample(9000), *back;

	assert_int_equal(state_save(fx->path, a, &f), 0);
	/* A temp file left by a crash is overwritten, not appended to. */
	file_write(fx->tmp, "garbage from a crash, longer than the document will be ............"
			    "...............................................................\n");
	assert_int_equal(state_save(fx->path, b, &f), 0);
	assert_false(file_exists(fx->tmp));
	assert_int_equal(state_load(fx->path, &back, &f), 0);
	assert_true(json_equal(back, b));
	assert_int_equal(dir_count(fx->dir), 1);
	json_decref(back);
	json_decref(a);
	json_decref(b);
}

static void test_save_failures(void **state)
{
	struct fx *fx = *state;
	struct fault f = FAULT_INIT;
	json_t *doc = sample(1500);
	char *file = path_join(fx->dir, "plain");
	char *under_file = path_join(file, "state.json");
	char *missing = path_join(fx->dir, "no/such/dir/state.json");

	/* The parent is a regular file. */
	file_write(file, "x");
	assert_int_equal(state_save(under_file, doc, &f), -ENOTDIR);
	assert_int_equal(f.err, ENOTDIR);
	assert_non_null(strstr(f.detail, under_file));
	/* The parent does not exist. */
	f = (struct fault)FAULT_INIT;
	assert_int_equal(state_save(missing, doc, &f), -ENOENT);
	assert_int_equal(f.err, ENOENT);
	/* The target is a directory: the rename fails and the temp file goes. */
	assert_int_equal(mkdir(fx->path, 0700), 0);
	f = (struct fault)FAULT_INIT;
	assert_true(state_save(fx->path, doc, &f) < 0);
	assert_int_equal(f.err, EISDIR);
	assert_false(file_exists(fx->tmp));
	free(file);
	free(under_file);
	free(missing);
	json_decref(doc);
}

static void test_save_failure_keeps_old(void **state)
{
	struct fx *fx = *state;
	struct fault f = FAULT_INIT;
	json_t *a = sample(1500), *b = sample(9000), *back;

	assert_int_equal(state_save(fx->path, a, &f), 0);
	/* The temp file's name is taken by a directory: the old file must survive. */
	assert_int_equal(mkdir(fx->tmp, 0700), 0);
	assert_true(state_save(fx->path, b, &f) < 0);
	assert_int_equal(f.err, EISDIR);
	assert_int_equal(state_load(fx->path, &back, &(struct fault)FAULT_INIT), 0);
	assert_true(json_equal(back, a));
	json_decref(back);
	json_decref(a);
	json_decref(b);
}

static void test_load_missing(void **state)
{
	struct fx *fx = *state;
	struct fault f = FAULT_INIT;
	json_t *doc = (json_t *)1;

	assert_int_equal(state_load(fx->path, &doc, &f), -ENOENT);
	assert_null(doc);
	/* A first start is not a fault. */
	assert_int_equal(f.kind, FAULT_NONE);
}

static void load_refused(const char *path, enum fault_kind kind, const char *needle)
{
	struct fault f = FAULT_INIT;
	json_t *doc = (json_t *)1;
	int ret = state_load(path, &doc, &f);

	if (ret >= 0 || ret == -ENOENT)
		fail_msg("%s: state_load returned %d", path, ret);
	assert_null(doc);
	assert_int_equal(f.kind, kind);
	assert_non_null(strstr(f.detail, path));
	if (!strstr(f.detail, needle))
		fail_msg("detail \"%s\" lacks \"%s\"", f.detail, needle);
}

static void test_load_not_regular(void **state)
{
	struct fx *fx = *state;
	char *fifo = path_join(fx->dir, "fifo");

	assert_int_equal(mkdir(fx->path, 0700), 0);
	load_refused(fx->path, FAULT_INVALID, "regular file");
	load_refused("/dev/null", FAULT_INVALID, "regular file");
	/* A FIFO with no writer: opening it for reading must not block. */
	assert_int_equal(mkfifo(fifo, 0600), 0);
	load_refused(fifo, FAULT_INVALID, "regular file");
	free(fifo);
}

static void test_load_too_large(void **state)
{
	struct fx *fx = *state;
	int fd = open(fx->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 16 * 1024 * 1024 + 1), 0); /* sparse */
	close(fd);
	load_refused(fx->path, FAULT_INVALID, "at most");
}

static void test_load_corrupt(void **state)
{
	struct fx *fx = *state;
	static const char *const bad[] = {
		"",
		"{",
		"{\"format\": 1,}",
		"{\"format\": 1} trailing",
		"{\"format\": 1, \"format\": 1}",
		"\x7f"
		"ELF",
		"{\"ports\": [\"\\u0000\"]}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		file_write(fx->path, bad[i]);
		load_refused(fx->path, FAULT_SYNTAX, "corrupt");
	}
	file_write(fx->path, "{\n  \"format\": 1,\n  \"ports\": [\n}\n");
	load_refused(fx->path, FAULT_SYNTAX, "line 4");
}

static void test_load_ok_any_shape(void **state)
{
	struct fx *fx = *state;
	struct fault f = FAULT_INIT;
	json_t *doc;

	/* state_load only parses; the shape is the port set's business. */
	file_write(fx->path, "[1, 2]\n");
	assert_int_equal(state_load(fx->path, &doc, &f), 0);
	assert_true(json_is_array(doc));
	json_decref(doc);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_save_exact),	   T(test_save_load_round_trip),   T(test_save_replaces),
		T(test_save_failures),	   T(test_save_failure_keeps_old), T(test_load_missing),
		T(test_load_not_regular),  T(test_load_too_large),	   T(test_load_corrupt),
		T(test_load_ok_any_shape),
	};

	return cmocka_run_group_tests_name("state", tests, NULL, NULL);
}
