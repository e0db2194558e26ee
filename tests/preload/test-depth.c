/* SOCKAUDIT_DEPTH: a value from 1 to 32 is used silently; anything else
 * (out of range, not a number) is replaced by 32 with exactly one warning
 * line that names the value given and the value used, unless
 * SOCKAUDIT_QUIET. The host's stdout and exit status never change, and the
 * table's header says the depth really used. Runs without LD_PRELOAD
 * itself: it starts the sample host with the shim explicitly. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../tap.h"
#include "harness.h"
#include "trun.h"
#include "table-reader.h"

static const char *shim, *host;
static char dir[] = "/tmp/sockaudit-depth-XXXXXX";

struct env {
	bool preload;
	const char *depth;   /* NULL: unset */
	bool quiet;          /* SOCKAUDIT_QUIET=1 */
};

static void set_env(void *arg)
{
	const struct env *e = arg;

	if (e->preload)
		setenv("LD_PRELOAD", shim, 1);
	setenv("SOCKAUDIT_DIR", dir, 1);
	setenv("SOCKAUDIT_RUN_ID", "depth-test", 1);   /* keep the table */
	if (e->depth)
		setenv("SOCKAUDIT_DEPTH", e->depth, 1);
	else
		unsetenv("SOCKAUDIT_DEPTH");
	if (e->quiet)
		setenv("SOCKAUDIT_QUIET", "1", 1);
	else
		unsetenv("SOCKAUDIT_QUIET");
}

static void run_host(struct trun *r, bool preload, const char *depth, bool quiet)
{
	const char *argv[] = { host, NULL };
	struct env e = { preload, depth, quiet };

	trun_capture_setup(r, argv, 10000, set_env, &e, NULL);
}

/* The depth in the header of the table `pid` left (under a run id), or 0. */
static uint32_t table_depth(pid_t pid)
{
	char path[4200], err[256];
	struct sa_reader rd;
	uint32_t d = 0;

	if (sa_table_find(dir, (uint32_t)geteuid(), pid, 0, path, sizeof(path)) != 0)
		return 0;
	if (sa_reader_open(&rd, path, geteuid(), err, sizeof(err)) == 0) {
		d = rd.hdr.depth;
		sa_reader_close(&rd);
	}
	unlink(path);
	return d;
}

static const struct depth_case {
	const char *value;
	uint32_t used;
	bool warns;
} cases[] = {
	{ NULL, 32, false },
	{ "1", 1, false },
	{ "7", 7, false },
	{ "32", 32, false },
	{ "64", 32, true },
	{ "33", 32, true },
	{ "0", 32, true },
	{ "-3", 32, true },
	{ "abc", 32, true },
	{ "8x", 32, true },
	{ "99999999999999999999", 32, true },
};

int main(void)
{
	struct trun base;

	shim = getenv("SOCKAUDIT_SHIM");
	host = getenv("SOCKAUDIT_SAMPLE_HOST");
	if (!shim || !host)
		bail("SOCKAUDIT_SHIM and SOCKAUDIT_SAMPLE_HOST must be set");
	if (!mkdtemp(dir))
		bail("mkdtemp: %s", strerror(errno));

	run_host(&base, false, NULL, false);
	ok(base.status == 3 && strstr(base.out, "hello out"), "baseline run without the shim");

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct depth_case *c = &cases[i];
		const char *label = c->value ? c->value : "unset";
		char expect[4400];
		struct trun r;
		uint32_t d;

		run_host(&r, true, c->value, false);
		d = table_depth(r.pid);
		if (c->warns)
			snprintf(expect, sizeof(expect),
				 "sockaudit: SOCKAUDIT_DEPTH=%s is not a number from 1 to 32; "
				 "using %u\n%s", c->value, c->used, base.err);
		else
			snprintf(expect, sizeof(expect), "%s", base.err);
		ok(strcmp(r.out, base.out) == 0 && r.status == base.status,
		   "DEPTH=%s: stdout and exit status (%d) unchanged", label, r.status);
		ok(strcmp(r.err, expect) == 0, "DEPTH=%s: %s", label,
		   c->warns ? "stderr has exactly one warning naming the value used"
			    : "stderr unchanged, no warning");
		if (strcmp(r.err, expect) != 0)
			diag("stderr was: %s", r.err);
		ok(d == c->used, "DEPTH=%s: the table records depth %u (got %u)", label, c->used, d);

		if (c->warns) {
			trun_free(&r);
			run_host(&r, true, c->value, true);
			d = table_depth(r.pid);
			ok(strcmp(r.err, base.err) == 0 && strcmp(r.out, base.out) == 0 &&
			   r.status == base.status && d == c->used,
			   "DEPTH=%s with SOCKAUDIT_QUIET=1: no warning, depth %u", label, d);
		}
		trun_free(&r);
	}
	trun_free(&base);
	rmdir(dir);
	return tap_done();
}
