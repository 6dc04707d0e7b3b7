// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the state file loader: the input is written as the
 * state file and a fresh port set on the memory port I/O restores from it
 * (service/state.c state_load, then portset_restore: the format, each
 * port's config, its bindings and next id). Whatever the bytes, restore
 * either refuses them with a fault that says why, or succeeds; a success
 * has written the file back, and that file must restore again, in a second
 * port set, to the same ports and the same bytes (restore is a fixed point
 * of what paird writes), and state_decode() then state_encode() of it must
 * give its bytes back (the encoding a whole-configuration apply reuses
 * loses nothing). The files live on /dev/shm when it exists, so the
 * fsyncs of the write-back cost nothing, in a directory made and removed
 * for each input. Built and run by `make fuzz`; its
 * crash inputs are replayed by `make unit` (tests/fixtures/crashes/).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../service/log.h"
#include "../fakes/portio_mem.h"
#include "../../service/portset.h"
#include "../../service/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64], path[96];

/*
 * A fresh directory per input, removed again after it: libFuzzer ends a
 * run without atexit handlers, so nothing may be left for one to clean.
 */
static void dir_new(void)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

	snprintf(dir, sizeof(dir), "%s/paird-fuzz-state.XXXXXX", base);
	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/state.json", dir);
}

static void dir_remove(void)
{
	char tmp[128];

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(tmp);
	/* The lock file stays after paird (state_lock()). */
	snprintf(tmp, sizeof(tmp), "%s.lock", path);
	unlink(tmp);
	unlink(path);
	if (rmdir(dir) < 0) {
		fprintf(stderr, "fuzz_state: %s left behind something: %s\n", dir, strerror(errno));
		abort();
	}
}

static void write_file(const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");

	if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
		abort();
}

/* The state file as it is now, malloc'ed and NUL-terminated; @len its length. */
static char *read_file(size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		abort();
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		abort();
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
		abort();
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* A port set as paird builds one at start, small limits; restored from the state file. */
static struct portset *restore(struct memio **mem, struct fault *f, int *ret)
{
	struct portset *ps;

	*mem = memio_new();
	ps = *mem ? portset_new(NULL, memio_io(*mem), path, 8) : NULL;
	if (!ps || portset_set_dataplane(ps, 1 << 20, 1 << 16, 8) < 0)
		abort();
	/* A device a state file may attach to, as an administrator pre-creates it. */
	memio_device_add(*mem, "pre0", true, false);
	*ret = portset_restore(ps, f);
	return ps;
}

/* The state file @text, decoded and encoded again, must be @text (@len bytes, with its newline). */
static void check_codec(const char *text, size_t len)
{
	const struct state_limits lim = { 8, 8 };
	struct fault f = FAULT_INIT;
	struct state_doc d;
	json_t *doc = json_loads(text, JSON_REJECT_DUPLICATES, NULL), *back;
	char *again;

	if (!doc || state_decode(doc, path, &lim, &d, &f) < 0) {
		fprintf(stderr, "fuzz_state: paird's own state file does not decode: %s\n%s\n",
			f.detail, text);
		abort();
	}
	back = state_encode(&d);
	again = back ? json_dumps(back, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	if (!again || strlen(again) + 1 != len || memcmp(again, text, len - 1) != 0) {
		fprintf(stderr, "fuzz_state: decode then encode changed the file:\n%s\n---\n%s\n",
			text, again ? again : "(out of memory)");
		abort();
	}
	free(again);
	json_decref(back);
	json_decref(doc);
	state_doc_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fault f = FAULT_INIT;
	struct memio *mem, *mem2;
	struct portset *ps, *ps2;
	char *first, *second;
	size_t n1, n2, count;
	int ret;

	log_set_level(LOG_ERROR);
	dir_new();
	write_file(data, size);
	ps = restore(&mem, &f, &ret);
	if (ret < 0) {
		if (!f.detail[0] || ret == -ENOENT) {
			fprintf(stderr, "fuzz_state: refused (%d) without saying why\n", ret);
			abort();
		}
		goto out;
	}
	count = portset_count(ps);
	first = read_file(&n1);
	check_codec(first, n1);

	/* What paird wrote back must come back the same, after a restart (the lock released). */
	portset_free(ps);
	memio_free(mem);
	ps = NULL;
	mem = NULL;
	f = (struct fault)FAULT_INIT;
	ps2 = restore(&mem2, &f, &ret);
	if (ret < 0) {
		fprintf(stderr, "fuzz_state: paird's own state file is refused: %s\n%s\n", f.detail,
			first);
		abort();
	}
	second = read_file(&n2);
	if (portset_count(ps2) != count || n1 != n2 || memcmp(first, second, n1) != 0) {
		fprintf(stderr, "fuzz_state: restore is not a fixed point:\n%s\n---\n%s\n", first,
			second);
		abort();
	}
	free(first);
	free(second);
	portset_free(ps2);
	memio_free(mem2);
out:
	portset_free(ps);
	memio_free(mem);
	dir_remove();
	return 0;
}
