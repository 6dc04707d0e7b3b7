// SPDX-License-Identifier: MIT
/*
 * Unit tests of service/state.c in a scratch directory: atomic save (exact
 * content, no temp file left, replaces the old file, failures leave the
 * old file alone, written through symbolic links), load (missing file,
 * non-regular files that must not block, oversized and corrupt files and
 * links to nothing named in the fault), the start-up writability check,
 * and paths another user could redirect: a FIFO at the temp name, unsafe
 * directories and links planted in them.
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

/*
 * Bytes in use at most while tracking is on: glibc lets a program replace
 * malloc, and these forward to its own allocator (as test_stack's do).
 * Under AddressSanitizer, whose allocator owns malloc, nothing is tracked.
 */
#if defined(__SANITIZE_ADDRESS__)
#define ALLOC_TRACKING 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ALLOC_TRACKING 0
#endif
#endif
#ifndef ALLOC_TRACKING
#define ALLOC_TRACKING 1
#endif

#if ALLOC_TRACKING
#include <malloc.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void __libc_free(void *p);

/* volatile: the compiler takes malloc to touch no globals */
static volatile bool tracking;
static volatile long long in_use, peak;

static void *tracked(void *p)
{
	if (tracking && p) {
		in_use += (long long)malloc_usable_size(p);
		if (in_use > peak)
			peak = in_use;
	}
	return p;
}

void *malloc(size_t size)
{
	return tracked(__libc_malloc(size));
}

void *calloc(size_t n, size_t size)
{
	return tracked(__libc_calloc(n, size));
}

void *realloc(void *p, size_t size)
{
	if (tracking && p)
		in_use -= (long long)malloc_usable_size(p);
	return tracked(__libc_realloc(p, size));
}

void free(void *p)
{
	if (tracking && p)
		in_use -= (long long)malloc_usable_size(p);
	__libc_free(p);
}
#endif

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

static bool is_link_to(const char *link, const char *want)
{
	char to[512];
	struct stat st;
	ssize_t n;

	if (lstat(link, &st) < 0 || !S_ISLNK(st.st_mode))
		return false;
	n = readlink(link, to, sizeof(to) - 1);
	if (n < 0)
		return false;
	to[n] = '\0';
	return strcmp(to, want) == 0;
}

/* A state path that is a symbolic link (or a chain) is written through; the links stay. */
static void test_save_through_symlink(void **state)
{
	struct fx *fx = *state;
	struct fault f = FAULT_INIT;
	char *real_dir = path_join(fx->dir, "real");
	char *target = path_join(real_dir, "state.json");
	char *target_tmp = path_join(real_dir, "state.json.tmp");
	char *link2 = path_join(fx->dir, "link2.json");
	json_t *a = sample(1500), *b = sample(9000), *back;

	assert_int_equal(mkdir(real_dir, 0700), 0);
	assert_int_equal(state_save(target, a, &f), 0);
	/* state.json -> real/state.json, link2.json -> state.json */
	assert_int_equal(symlink("real/state.json", fx->path), 0);
	assert_int_equal(symlink("state.json", link2), 0);

	assert_int_equal(state_save(fx->path, b, &f), 0);
	assert_true(is_link_to(fx->path, "real/state.json"));
	assert_int_equal(state_load(target, &back, &f), 0);
	assert_true(json_equal(back, b));
	json_decref(back);
	/* The temp file was made next to the target, and renamed. */
	assert_false(file_exists(fx->tmp));
	assert_false(file_exists(target_tmp));
	assert_int_equal(dir_count(real_dir), 1);

	assert_int_equal(state_save(link2, a, &f), 0);
	assert_true(is_link_to(link2, "state.json"));
	assert_true(is_link_to(fx->path, "real/state.json"));
	assert_int_equal(state_load(link2, &back, &f), 0);
	assert_true(json_equal(back, a));
	json_decref(back);
	assert_int_equal(dir_count(fx->dir), 3);
	assert_int_equal(dir_count(real_dir), 1);
	assert_int_equal(state_check_writable(link2, &f), 0);
	assert_int_equal(dir_count(real_dir), 1);
	assert_int_equal(f.kind, FAULT_NONE);

	json_decref(a);
	json_decref(b);
	free(real_dir);
	free(target);
	free(target_tmp);
	free(link2);
}

/* A link to nothing is an error naming the file, never a first start replacing the link. */
static void test_dangling_symlink(void **state)
{
	struct fx *fx = *state;
	struct fault f = FAULT_INIT;
	json_t *doc = sample(1500), *back = (json_t *)1;

	assert_int_equal(symlink("missing/state.json", fx->path), 0);
	assert_true(state_load(fx->path, &back, &f) < 0);
	assert_null(back);
	/* Unlike a missing file, this is a fault. */
	assert_int_equal(f.kind, FAULT_INVALID);
	assert_int_equal(f.err, ENOENT);
	assert_non_null(strstr(f.detail, fx->path));
	assert_non_null(strstr(f.detail, "missing/state.json"));

	f = (struct fault)FAULT_INIT;
	assert_true(state_save(fx->path, doc, &f) < 0);
	assert_non_null(strstr(f.detail, "symbolic link"));
	f = (struct fault)FAULT_INIT;
	assert_true(state_check_writable(fx->path, &f) < 0);
	assert_non_null(strstr(f.detail, fx->path));
	/* The link is as it was, and nothing else appeared. */
	assert_true(is_link_to(fx->path, "missing/state.json"));
	assert_int_equal(dir_count(fx->dir), 1);
	json_decref(doc);
}

static void test_check_writable(void **state)
{
	struct fx *fx = *state;
	struct fault f = FAULT_INIT;
	char *file = path_join(fx->dir, "plain");
	char *under_file = path_join(file, "state.json");

	/* A fine directory: the probe leaves nothing behind, not even an old temp file. */
	file_write(fx->tmp, "left by a crash");
	assert_int_equal(state_check_writable(fx->path, &f), 0);
	assert_int_equal(dir_count(fx->dir), 0);
	/* A directory that cannot take the temp file: its own message, naming it. */
	file_write(file, "x");
	assert_int_equal(state_check_writable(under_file, &f), -ENOTDIR);
	assert_int_equal(f.err, ENOTDIR);
	assert_non_null(strstr(f.detail, under_file));
	assert_non_null(strstr(f.detail, "writable"));
	free(file);
	free(under_file);
}

/*
 * state_lock(): the pid goes only into a lock file of one link. A hard link
 * planted at TARGET.lock (another user's, in a sticky directory, where
 * fs.protected_hardlinks is off) to a file of root's is refused, and that
 * file is left as it was.
 */
static void test_lock_hard_link(void **state)
{
	struct fx *fx = *state;
	struct fault f = FAULT_INIT;
	char *lock = path_join(fx->dir, "state.json.lock");
	char *victim = path_join(fx->dir, "victim");
	char buf[64] = "";
	int fd;

	file_write(victim, "keep me");
	assert_int_equal(link(victim, lock), 0);
	assert_int_equal(state_lock(fx->path, &f), -EPERM);
	assert_non_null(strstr(f.detail, "one link"));
	fd = open(victim, O_RDONLY);
	assert_true(fd >= 0);
	assert_true(read(fd, buf, sizeof(buf) - 1) >= 0);
	close(fd);
	assert_string_equal(buf, "keep me");
	/* A lock file of its own: taken, the pid in it. */
	assert_int_equal(unlink(lock), 0);
	f = (struct fault)FAULT_INIT;
	fd = state_lock(fx->path, &f);
	assert_true(fd >= 0);
	memset(buf, 0, sizeof(buf));
	assert_true(pread(fd, buf, sizeof(buf) - 1, 0) > 0);
	assert_int_equal(atol(buf), (long)getpid());
	close(fd);
	free(lock);
	free(victim);
}

/*
 * A FIFO planted at the temp file's name: the save goes on with a new temp
 * file. Opened for writing, the FIFO would block until a reader came (the
 * whole event loop, in paird); here the alarm of setup() would end the test.
 */
static void test_save_tmp_fifo(void **state)
{
	struct fx *fx = *state;
	struct fault f = FAULT_INIT;
	json_t *doc = sample(1500), *back;
	struct stat st;

	assert_int_equal(mkfifo(fx->tmp, 0666), 0);
	assert_int_equal(state_check_writable(fx->path, &f), 0);
	assert_false(file_exists(fx->tmp));
	assert_int_equal(mkfifo(fx->tmp, 0666), 0);
	assert_int_equal(state_save(fx->path, doc, &f), 0);
	assert_int_equal(f.kind, FAULT_NONE);
	assert_int_equal(lstat(fx->path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(state_load(fx->path, &back, &f), 0);
	assert_true(json_equal(back, doc));
	assert_false(file_exists(fx->tmp));
	json_decref(back);
	json_decref(doc);
}

/* Every way in refuses @path, naming @needle; nothing is written. */
static void path_refused(const char *path, const char *needle)
{
	json_t *doc = sample(1500), *back = (json_t *)1;
	struct fault f = FAULT_INIT;

	assert_true(state_save(path, doc, &f) < 0);
	if (!strstr(f.detail, needle) || !strstr(f.detail, path))
		fail_msg("save: detail \"%s\" lacks \"%s\"", f.detail, needle);
	f = (struct fault)FAULT_INIT;
	assert_true(state_load(path, &back, &f) < 0);
	assert_null(back);
	if (!strstr(f.detail, needle))
		fail_msg("load: detail \"%s\" lacks \"%s\"", f.detail, needle);
	f = (struct fault)FAULT_INIT;
	assert_true(state_check_writable(path, &f) < 0);
	if (!strstr(f.detail, needle))
		fail_msg("check: detail \"%s\" lacks \"%s\"", f.detail, needle);
	json_decref(doc);
}

/*
 * A directory other users may change is refused (StrictModes): writable by
 * them without the sticky bit, or (as root, who can give it away) owned by
 * another user. A sticky one, like /tmp, is fine.
 */
static void test_unsafe_dir(void **state)
{
	struct fx *fx = *state;
	struct fault f = FAULT_INIT;
	json_t *doc = sample(1500);

	assert_int_equal(chmod(fx->dir, 0777), 0);
	path_refused(fx->path, "is writable by other users (mode 0777) and not sticky");
	assert_int_equal(dir_count(fx->dir), 0);
	assert_int_equal(chmod(fx->dir, 0770), 0);
	path_refused(fx->path, "is writable by other users (mode 0770)");
	assert_int_equal(chmod(fx->dir, 01777), 0);
	assert_int_equal(state_save(fx->path, doc, &f), 0);
	assert_int_equal(chmod(fx->dir, 0755), 0);
	if (geteuid() == 0) {
		assert_int_equal(chown(fx->dir, 65534, 65534), 0);
		path_refused(fx->path, "belongs to uid 65534, neither root nor paird's user");
		assert_int_equal(chown(fx->dir, 0, 0), 0);
	}
	assert_int_equal(state_save(fx->path, doc, &f), 0);
	json_decref(doc);
}

/*
 * A state path that is a link in a directory another user controls, or one
 * leading into such a directory, is never written through: the file it
 * names stays as it was. In a sticky directory the link must be paird's
 * user's (or root's), the rule the kernel's protected_symlinks applies
 * and realpath() does not.
 */
static void test_link_in_unsafe_dir(void **state)
{
	struct fx *fx = *state;
	struct fault f = FAULT_INIT;
	char *shared_dir = path_join(fx->dir, "shared");
	char *link = path_join(shared_dir, "state.json");
	char *victim = path_join(fx->dir, "victim");
	char *inward = path_join(fx->dir, "inward.json");
	char *shared_file = path_join(shared_dir, "file.json");
	json_t *doc = sample(1500);
	char *text;

	file_write(victim, "precious\n");
	assert_int_equal(mkdir(shared_dir, 0700), 0);
	assert_int_equal(chmod(shared_dir, 0777), 0);
	assert_int_equal(symlink("../victim", link), 0);
	path_refused(link, "is writable by other users");
	/* A link in a safe directory into a shared one: the same. */
	assert_int_equal(symlink("shared/file.json", inward), 0);
	file_write(shared_file, "{}");
	path_refused(inward, "is writable by other users");
	text = file_read(victim, NULL);
	assert_string_equal(text, "precious\n");
	free(text);

	/* Sticky: a link of paird's own user is followed... */
	assert_int_equal(chmod(shared_dir, 01777), 0);
	assert_int_equal(state_save(link, doc, &f), 0);
	assert_true(is_link_to(link, "../victim"));
	if (geteuid() == 0) {
		/* ...another user's is not, nor another user's file. */
		file_write(victim, "precious\n");
		assert_int_equal(lchown(link, 65534, 65534), 0);
		path_refused(link, "belongs to uid 65534");
		assert_int_equal(chown(shared_file, 65534, 65534), 0);
		path_refused(shared_file, "belongs to uid 65534");
		text = file_read(victim, NULL);
		assert_string_equal(text, "precious\n");
		free(text);
	}
	json_decref(doc);
	free(shared_dir);
	free(link);
	free(victim);
	free(inward);
	free(shared_file);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

/* --- the document: decode to plain structs, encode back --- */

static const struct state_limits lim = { 4, 4 };

static void test_decode_encode(void **state)
{
	/* In the form paird writes: every port and binding field it always gives. */
	static const char text[] =
		"{\"format\":1,\"ports\":[{\"name\":\"p0\",\"type\":\"tap\","
		"\"packet_info\":false,\"attach\":false,\"mtu\":9000,"
		"\"bindings\":[{\"id\":3,\"match\":{},\"handler\":\"count\",\"options\":{}},"
		"{\"id\":5,\"match\":{\"ethertype\":2054},\"handler\":\"drop\",\"options\":{}}],"
		"\"next_binding_id\":7},"
		"{\"name\":\"t0\",\"type\":\"tun\",\"packet_info\":false,\"attach\":false}]}";
	json_t *doc = json_loads(text, 0, NULL), *want = json_loads(text, 0, NULL), *back;
	struct fault f = FAULT_INIT;
	struct state_doc d;

	(void)state;
	assert_int_equal(state_decode(doc, "s.json", &lim, &d, &f), 0);
	assert_int_equal(d.n_ports, 2);
	assert_string_equal(d.ports[0].cfg.name, "p0");
	assert_int_equal(d.ports[0].cfg.mtu, 9000);
	assert_int_equal(d.ports[0].n_bindings, 2);
	assert_int_equal(d.ports[0].bindings[1].id, 5);
	assert_int_equal(d.ports[0].bindings[1].kind, HANDLER_DROP);
	assert_true(d.ports[0].has_next_id);
	assert_int_equal(d.ports[0].next_binding_id, 7);
	assert_int_equal(d.ports[1].n_bindings, 0);
	assert_false(d.ports[1].has_next_id);
	/* Encoding gives the document back, field for field. */
	back = state_encode(&d);
	if (!json_equal(back, want))
		fail_msg("encoded: %s", json_dumps(back, JSON_COMPACT));
	json_decref(back);
	json_decref(want);
	json_decref(doc);
	state_doc_free(&d);
	assert_null(d.ports);
}

/* Refused with the file named and the entry pointed at; nothing left to free. */
static void decode_refused(const char *text, const char *needle)
{
	json_t *doc = json_loads(text, 0, NULL);
	struct fault f = FAULT_INIT;
	struct state_doc d;

	assert_non_null(doc);
	assert_true(state_decode(doc, "s.json", &lim, &d, &f) < 0);
	if (!strstr(f.detail, "state file s.json") || !strstr(f.detail, needle))
		fail_msg("%s: detail \"%s\" lacks \"%s\"", text, f.detail, needle);
	assert_null(d.ports);
	assert_int_equal(d.n_ports, 0);
	json_decref(doc);
}

static void test_decode_refused(void **state)
{
	(void)state;
	decode_refused("{\"format\":1,\"ports\":[{\"name\":\"a\",\"type\":\"tap\"},"
		       "{\"name\":\"b\",\"type\":\"tap\"},{\"name\":\"c\",\"type\":\"tap\"},"
		       "{\"name\":\"d\",\"type\":\"tap\"},{\"name\":\"e\",\"type\":\"tap\"}]}",
		       "ports[4]: paird holds 4 ports, its limit (--max-ports)");
	decode_refused("{\"format\":1,\"ports\":[{\"name\":\"a\",\"type\":\"tap\"},"
		       "{\"name\":\"a\",\"type\":\"tun\"}]}",
		       "ports[1]: port a already exists");
	decode_refused("{\"format\":1,\"ports\":[{\"name\":\"a\",\"type\":\"tap\","
		       "\"bindings\":[{\"id\":1,\"match\":{},\"handler\":\"count\"},"
		       "{\"match\":{},\"handler\":\"count\"}]}]}",
		       "ports[0].bindings[1]: id is required");
	decode_refused("{\"format\":1,\"ports\":[{\"name\":\"a\",\"type\":\"tap\","
		       "\"next_binding_id\":0}]}",
		       "ports[0]: next_binding_id must be 1..4294967295");
	decode_refused("{\"format\":1,\"ports\":[{\"name\":\"a\",\"type\":\"tap\","
		       "\"bindings\":{}}]}",
		       "ports[0]: bindings must be an array");
}

/*
 * state_write() streams the document a port or a binding at a time (so a
 * save never holds every binding's JSON at once); the file must be, byte
 * for byte, what the whole document dumped at once was: every handler's
 * options, names, escapes, a port with bindings and none, empty arrays,
 * and more bindings than the writer's buffer holds.
 */
static void write_matches_dump(struct fx *fx, const char *text)
{
	struct state_limits big = { 8, 4096 };
	json_t *doc = json_loads(text, 0, NULL), *enc;
	struct fault f = FAULT_INIT;
	struct state_doc d;
	char *want, *got;
	size_t len;

	assert_non_null(doc);
	if (state_decode(doc, "s.json", &big, &d, &f) != 0)
		fail_msg("decode: %s", f.detail);
	assert_int_equal(state_write(fx->path, &d, &f), 0);
	enc = state_encode(&d);
	want = json_dumps(enc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	got = file_read(fx->path, &len);
	assert_non_null(want);
	assert_non_null(got);
	if (len != strlen(want) + 1 || memcmp(got, want, len - 1) != 0 || got[len - 1] != '\n')
		fail_msg("written:\n%s\nwanted:\n%s", got, want);
	free(want);
	free(got);
	json_decref(enc);
	json_decref(doc);
	state_doc_free(&d);
}

/* A state document of one tap port p0 with @n count bindings on UDP ports 10000 on. */
static json_t *count_bindings_doc(int n)
{
	json_t *many = json_array();

	for (int i = 0; i < n; i++)
		json_array_append_new(many, json_pack("{s:i, s:{s:i, s:i, s:i}, s:s}", "id", i + 1,
						      "match", "ethertype", 2048, "ip_protocol", 17,
						      "udp_port", 10000 + i, "handler", "count"));
	return json_pack("{s:i, s:[{s:s, s:s, s:o}]}", "format", 1, "ports", "name", "p0", "type",
			 "tap", "bindings", many);
}

static void test_write_streams_same_bytes(void **state)
{
	struct fx *fx = *state;
	json_t *doc;
	char *text;

	write_matches_dump(fx, "{\"format\":1,\"ports\":[]}");
	write_matches_dump(
		fx, "{\"format\":1,\"ports\":["
		    "{\"name\":\"p0\",\"type\":\"tap\",\"mtu\":9000,\"mac\":\"02:00:00:00:00:01\","
		    "\"addresses\":[\"198.18.0.1/24\",\"2001:db8::1/64\"],\"strict\":true,"
		    "\"bindings\":[{\"id\":3,\"match\":{},\"handler\":\"count\"},"
		    "{\"id\":4,\"name\":\"cap.1\",\"match\":{\"ethertype\":2048},"
		    "\"handler\":\"capture\",\"options\":{\"filter\":\"ether proto \\\\ip "
		    "and\\tudp\",\"snaplen\":128,\"limit\":5}},"
		    "{\"id\":5,\"match\":{\"ethertype\":2054},\"handler\":\"arp_reply\","
		    "\"options\":{\"addresses\":[\"198.18.0.9\",\"198.18.0.10\"],"
		    "\"mac\":\"02:00:00:00:00:09\"}},"
		    "{\"id\":6,\"match\":{},\"handler\":\"forward\",\"options\":{\"port\":\"t0\"}},"
		    "{\"id\":7,\"match\":{\"ethertype\":34525,\"ip_protocol\":58},"
		    "\"handler\":\"ndp_reply\",\"options\":{\"addresses\":[\"2001:db8::9\"]}},"
		    "{\"id\":8,\"match\":{\"ethertype\":2048,\"ip_protocol\":17,\"udp_port\":7},"
		    "\"handler\":\"echo\"}],\"next_binding_id\":9},"
		    "{\"name\":\"t0\",\"type\":\"tun\",\"packet_info\":true,\"next_binding_id\":4},"
		    "{\"name\":\"t1\",\"type\":\"tun\"}]}");
	doc = count_bindings_doc(600);
	text = json_dumps(doc, JSON_COMPACT);
	write_matches_dump(fx, text);
	free(text);
	json_decref(doc);
}

/*
 * A save holds one binding's JSON at a time, not the document's (issue 11):
 * for 2,000 bindings the whole document's tree and text took about 5 MB,
 * which glibc then kept resident; the streamed writer needs its 16 KiB
 * buffer and a binding's worth besides, whatever the number of bindings.
 */
static void test_write_memory_bounded(void **state)
{
	struct fx *fx = *state;
	struct state_limits big = { 8, 4096 };
	json_t *doc;
	struct fault f = FAULT_INIT;
	struct state_doc d;

	doc = count_bindings_doc(2000);
	assert_int_equal(state_decode(doc, "s.json", &big, &d, &f), 0);
#if ALLOC_TRACKING
	in_use = peak = 0;
	tracking = true;
#endif
	assert_int_equal(state_write(fx->path, &d, &f), 0);
#if ALLOC_TRACKING
	tracking = false;
	print_message("state_write of 2000 bindings: %lld bytes at most\n", peak);
	assert_true(peak < 64 * 1024);
#else
	print_message("allocations not tracked under AddressSanitizer\n");
#endif
	json_decref(doc);
	state_doc_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_save_exact),
		T(test_save_load_round_trip),
		T(test_save_replaces),
		T(test_save_failures),
		T(test_save_failure_keeps_old),
		T(test_load_missing),
		T(test_load_not_regular),
		T(test_load_too_large),
		T(test_load_corrupt),
		T(test_load_ok_any_shape),
		T(test_save_through_symlink),
		T(test_dangling_symlink),
		T(test_check_writable),
		T(test_lock_hard_link),
		T(test_save_tmp_fifo),
		T(test_unsafe_dir),
		T(test_link_in_unsafe_dir),
		T(test_decode_encode),
		T(test_decode_refused),
		T(test_write_streams_same_bytes),
		T(test_write_memory_bounded),
	};

	return cmocka_run_group_tests_name("state", tests, NULL, NULL);
}
