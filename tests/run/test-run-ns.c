/* `sockaudit run` over a command that puts a leaking program in its own pid
 * namespace (`unshare --pid --fork`, sharing our /dev/shm): the program
 * names its table with the pid it sees (1), and the run must still watch it
 * under the pid it has here and report its CLOSE_WAIT leak with the stack.
 *
 * Needs root (unshare); where CI is set a skip is a failure. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../tap.h"
#include "tjson.h"
#include "tlib.h"
#include "trun.h"

static char *path2(const char *a, const char *b)
{
	char *p;

	if (asprintf(&p, "%s/%s", a, b) < 0)
		bail("asprintf");
	return p;
}

static json_object *aget(json_object *o, const char *path, size_t i)
{
	return i < tj_len(o, path) ? json_object_array_get_idx(tj_get(o, path), i) : NULL;
}

static long info_pid(const char *path)
{
	char line[512];
	FILE *f = fopen(path, "r");
	long v = -1;
	const char *s;

	if (!f)
		return -1;
	if (fgets(line, sizeof(line), f) && (s = strstr(line, "pid=")))
		v = strtol(s + 4, NULL, 10);
	fclose(f);
	return v;
}

static const char *unshare_path(void)
{
	static const char *const dirs[] = { "/usr/bin", "/bin", "/usr/sbin", "/sbin" };
	static char p[64];

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(p, sizeof(p), "%s/unshare", dirs[i]);
		if (access(p, X_OK) == 0)
			return p;
	}
	bail("unshare not found");
}

int main(void)
{
	const char *dir, *bin = getenv("RUN_BIN_DIR");
	char *json, *info, *cw;
	struct trun r;
	json_object *root, *g = NULL;
	long nspid;

	if (geteuid() != 0) {
		if ((getenv("CI") && *getenv("CI")) || tap_strict())
			bail("root is needed, and no skip is allowed under CI or SOCKAUDIT_STRICT=1");
		printf("1..0 # SKIP a pid namespace needs root (unshare)\n");
		return 0;
	}
	if (!bin)
		bail("RUN_BIN_DIR is not set");
	dir = tlib_case_dir(tlib_env("RUN_WORK"), "pidns");
	json = path2(dir, "run.json");
	info = path2(dir, "cw.info");
	cw = path2(bin, "run-cw");
	{
		const char *args[] = { "run", "--close-wait", "200ms", "--json", json, "--",
				       unshare_path(), "--pid", "--fork", "--kill-child", cw, info,
				       "1500", NULL };

		ok(tlib_cli(&r, args), "the run finished");
	}
	nspid = info_pid(info);
	ok(nspid == 1, "the leaking program was pid %ld in its own pid namespace", nspid);
	ok(r.status == 1, "its CLOSE_WAIT fails the run: exit %d (stderr: %s)", r.status, r.err);
	root = json_object_from_file(json);
	for (size_t i = 0; root && i < tj_len(root, "groups"); i++) {
		json_object *x = aget(root, "groups", i);

		if (tj_str_is(x, "kind", "close-wait"))
			g = x;
	}
	ok(g && tj_bool(g, "failing") &&
	   tj_str_is(aget(g, "frames", 0), "function", "cw_connect"),
	   "a failing close-wait group at cw_connect");
	ok(g && tj_int(aget(g, "processes", 0), "pid", -1) > 1,
	   "named by the pid we see (%ld), not the one in its namespace",
	   (long)tj_int(aget(g, "processes", 0), "pid", -1));
	if (!g && root)
		diag("%s", json_object_to_json_string(root));
	json_object_put(root);
	trun_free(&r);
	free(json);
	free(info);
	free(cw);
	return tlib_finish(tap_done());
}
