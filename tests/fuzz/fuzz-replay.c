/* Replays stored fuzz inputs through one fuzz target, without libFuzzer.
 *
 *   test-fuzz-replay-<target> DIR...
 *
 * Linked with fuzz/fuzz-<target>.c, whose LLVMFuzzerTestOneInput checks its
 * own invariants and aborts on a broken one. Every regular file of every DIR
 * (sorted, dot files skipped) is one test point; a DIR that does not exist
 * holds nothing yet (regress/<target> appears with the first crash kept).
 * At least one input must be found in all.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "tap.h"

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static uint8_t *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	uint8_t *buf;

	if (!f)
		return NULL;
	if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
		fclose(f);
		return NULL;
	}
	/* malloc(0) may be NULL: keep one byte, the target gets len 0. */
	buf = malloc((size_t)st.st_size + 1);
	if (!buf || fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	*len = (size_t)st.st_size;
	return buf;
}

/* Returns how many inputs DIR held. */
static size_t replay_dir(const char *dir)
{
	struct dirent *e;
	char **names = NULL, path[4096];
	size_t n = 0, cap = 0;
	DIR *d = opendir(dir);

	if (!d) {
		if (errno != ENOENT)
			ok(0, "open %s: %s", dir, strerror(errno));
		else
			diag("%s: no such directory, nothing to replay", dir);
		return 0;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			names = realloc(names, cap * sizeof(*names));
			if (!names)
				bail("out of memory");
		}
		if (!(names[n++] = strdup(e->d_name)))
			bail("out of memory");
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		uint8_t *data;
		size_t len = 0;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		data = read_all(path, &len);
		if (!data) {
			ok(0, "read %s", path);
		} else {
			/* A broken invariant or a sanitizer report ends the process here. */
			LLVMFuzzerTestOneInput(data, len);
			ok(1, "replayed %s (%zu bytes)", path, len);
		}
		free(data);
		free(names[i]);
	}
	free(names);
	return n;
}

int main(int argc, char **argv)
{
	size_t total = 0;

	if (argc < 2)
		bail("usage: %s DIR...", argv[0]);
	for (int i = 1; i < argc; i++)
		total += replay_dir(argv[i]);
	ok(total > 0, "%zu stored inputs replayed", total);
	return tap_done();
}
