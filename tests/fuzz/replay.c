// SPDX-License-Identifier: MIT
/*
 * A plain driver for the libFuzzer targets of tests/fuzz/: linked with one
 * target's LLVMFuzzerTestOneInput (built with the project's compiler, no
 * libFuzzer), it feeds that entry point every regular file of the
 * directories or files named on the command line, one call per file, the
 * way the fuzzer itself would. `make unit` uses it to replay the crash
 * inputs the fuzzers found (tests/fixtures/crashes/TARGET/), so a find
 * stays fixed: a target that aborts or trips a sanitizer fails the run.
 * README files and hidden files are skipped; a missing directory holds no
 * inputs, which is not an error (not every target has had a crash).
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Inputs larger than this are not what libFuzzer makes (-max_len); refuse them loudly. */
#define REPLAY_MAX (1u << 20)

static int replay_file(const char *path)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret = -1;
	FILE *f;

	f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	buf = malloc(REPLAY_MAX + 1);
	if (!buf)
		goto out;
	len = fread(buf, 1, REPLAY_MAX + 1, f);
	if (ferror(f) || len > REPLAY_MAX) {
		fprintf(stderr, "replay: %s: unreadable or over %u bytes\n", path, REPLAY_MAX);
		goto out;
	}
	fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
	/* An exactly sized copy, so that a sanitizer sees any read past the input. */
	{
		uint8_t *exact = malloc(len ? len : 1);

		if (!exact)
			goto out;
		memcpy(exact, buf, len);
		LLVMFuzzerTestOneInput(exact, len);
		free(exact);
	}
	ret = 0;
out:
	free(buf);
	fclose(f);
	return ret;
}

static int skip_name(const char *name)
{
	return name[0] == '.' || strncmp(name, "README", 6) == 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replays every regular file of @dir in name order; returns the count or -1. */
static int replay_dir(const char *dir)
{
	char **names = NULL, path[4096];
	size_t n = 0, cap = 0;
	struct dirent *de;
	int count = 0;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d))) {
		if (skip_name(de->d_name))
			continue;
		if (n == cap) {
			char **more = realloc(names, (cap = cap ? 2 * cap : 16) * sizeof(*names));

			if (!more)
				break;
			names = more;
		}
		names[n] = strdup(de->d_name);
		if (names[n])
			n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n; i++) {
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			if (replay_file(path) < 0)
				count = -1;
			else if (count >= 0)
				count++;
		}
		free(names[i]);
	}
	free(names);
	return count;
}

int main(int argc, char **argv)
{
	int total = 0, failed = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		int n;

		if (stat(argv[i], &st) == 0 && S_ISREG(st.st_mode))
			n = replay_file(argv[i]) < 0 ? -1 : 1;
		else
			n = replay_dir(argv[i]);
		if (n < 0)
			failed = 1;
		else
			total += n;
	}
	printf("replay: %d input%s passed\n", total, total == 1 ? "" : "s");
	return failed;
}
