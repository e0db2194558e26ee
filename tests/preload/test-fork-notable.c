/* A forked child that cannot have its own socket table runs unrecorded and
 * otherwise exactly as without the shim (issue 13, item 1: such a child
 * died of SIGSEGV on its first accept(), reading the parent's unmapped
 * table). Each case runs prefork-host without and with the shim and
 * compares stdout and exit status; stderr may differ by one "sockaudit:"
 * warning line only. On a difference the test prints both runs.
 *
 * Cases: the fd table full at fork (RLIMIT_NOFILE 64), the same with an
 * exec in the child, the table directory (a private 2 MB tmpfs, root only)
 * full at fork, and the parent's table removed before it grows and forks.
 * Runs without LD_PRELOAD itself. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../tap.h"
#include "harness.h"
#include "trun.h"

static const char *shim, *host;

struct env {
	bool preload;
	const char *dir;
};

static void set_env(void *arg)
{
	const struct env *e = arg;

	if (e->preload)
		setenv("LD_PRELOAD", shim, 1);
	setenv("SOCKAUDIT_DIR", e->dir, 1);
	unsetenv("SOCKAUDIT_QUIET");
}

static void run_host(struct trun *r, bool preload, const char *dir, const char *mode,
		     const char *arg)
{
	const char *argv[] = { host, mode, arg, NULL };
	struct env e = { preload, dir };

	trun_capture_setup(r, argv, 20000, set_env, &e, NULL);
}

/* err == base plus at most one "sockaudit: " line. */
static bool at_most_one_warning(const char *err, const char *base)
{
	const char *w = strstr(err, "sockaudit: "), *eol;
	char rest[4096];

	if (!w)
		return strcmp(err, base) == 0;
	eol = strchr(w, '\n');
	if (!eol || strstr(eol, "sockaudit: "))
		return false;
	snprintf(rest, sizeof(rest), "%.*s%s", (int)(w - err), err, eol + 1);
	return strcmp(rest, base) == 0;
}

static void show(const char *what, const struct trun *r)
{
	diag("%s: status %d%s, stdout: %s", what, r->status,
	     r->status > 128 ? " (killed by a signal: 128 + signal)" : "",
	     r->out[0] ? r->out : "(empty)");
	diag("%s: stderr: %s", what, r->err[0] ? r->err : "(empty)");
}

static void check_case(const char *label, const char *dir, const char *mode, const char *arg,
		       void (*reset)(const char *))
{
	struct trun base, r;
	bool same;

	if (reset)
		reset(dir);
	run_host(&base, false, dir, mode, arg);
	ok(base.status == 0 && strcmp(base.out, "child exit 0\n") == 0,
	   "%s: without the shim the child accepts and exits 0", label);
	if (base.status != 0)
		show("without the shim", &base);
	if (reset)
		reset(dir);
	run_host(&r, true, dir, mode, arg);
	same = strcmp(r.out, base.out) == 0 && r.status == base.status;
	ok(same, "%s: under the shim stdout and exit status are the same (%d)", label, r.status);
	ok(at_most_one_warning(r.err, base.err), "%s: stderr the same but for one warning", label);
	if (!same || !at_most_one_warning(r.err, base.err)) {
		show("without the shim", &base);
		show("with the shim", &r);
	}
	trun_free(&base);
	trun_free(&r);
}

static void remove_filler(const char *dir)
{
	char cmd[4400];

	snprintf(cmd, sizeof(cmd), "rm -f %s/filler %s/sockaudit.*", dir, dir);
	if (system(cmd) != 0)
		diag("could not empty %s", dir);
}

int main(void)
{
	char dir[] = "/tmp/sockaudit-forknt-XXXXXX", tdir[] = "/tmp/sockaudit-forkfs-XXXXXX";
	char cmd[4400];

	shim = getenv("SOCKAUDIT_SHIM");
	host = getenv("SOCKAUDIT_PREFORK_HOST");
	if (!shim || !host)
		bail("SOCKAUDIT_SHIM and SOCKAUDIT_PREFORK_HOST must be set");
	/* The reads of a host's output wait for its EOF: a host (or its child)
	 * that hangs, the deadlock this guards against, fails here. */
	tap_deadline(100, "the hosts and their forked children");
	if (!mkdtemp(dir))
		bail("mkdtemp: %s", strerror(errno));

	check_case("fd table full at fork", dir, "rlimit", NULL, NULL);
	check_case("fd table full at fork, child execs", dir, "exec", NULL, NULL);
	check_case("own table removed, then grown and forked", dir, "unlink", dir, NULL);

	/* A 2 MB tmpfs as the table directory, filled while the parent waits:
	 * mounting needs a private mount namespace, so root (CI runs as root). */
	if (geteuid() != 0) {
		tap_skip_env("table directory full at fork: needs root to mount a tmpfs");
	} else if (!mkdtemp(tdir) || unshare(CLONE_NEWNS) < 0 ||
		   mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		   mount("tmpfs", tdir, "tmpfs", 0, "size=2m,mode=0700") < 0) {
		/* Root may: not being able to is a failure, not a skip. */
		ok(0, "table directory full at fork: cannot mount a private tmpfs as root: %s",
		   strerror(errno));
		rmdir(tdir);
	} else {
		check_case("table directory full at fork", tdir, "fill", tdir, remove_filler);
		umount(tdir);
		rmdir(tdir);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		diag("could not remove %s", dir);
	return tap_done();
}
