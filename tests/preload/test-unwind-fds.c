/* The stack capture must never read, write or hold a descriptor the host can
 * reach or be handed (docs/security.md). Runs unwind-fds-host in each mode,
 * under a given RLIMIT_NOFILE, without the shim and with it, each with a
 * deadline: a host that hangs in a read on its own socket, dies of SIGPIPE,
 * or finds a byte missing from or added to one of its sockets fails here;
 * so does one killed by a fault while its unwind info points at unreadable
 * memory.
 * The host's output (with the number of sockets it could open) must be the
 * same with the shim. Runs without LD_PRELOAD itself: it starts the host
 * with the shim. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../tap.h"
#include "harness.h"
#include "trun.h"

static const char *shim, *host, *host_unw, *dir;

struct env {
	bool preload;
	struct rlimit rl;
};

/* In the child: a clean fd table from 3 up (the host counts on its
 * numbers), the shim if asked, the limit. */
static void set_env(void *arg)
{
	const struct env *e = arg;

	closefrom(3);
	if (e->preload) {
		setenv("LD_PRELOAD", shim, 1);
		setenv("SOCKAUDIT_DIR", dir, 1);
	}
	if (setrlimit(RLIMIT_NOFILE, &e->rl) < 0) {
		dprintf(STDOUT_FILENO, "setrlimit %lu:%lu: %s\n", (unsigned long)e->rl.rlim_cur,
			(unsigned long)e->rl.rlim_max, strerror(errno));
		_exit(126);
	}
}

static void run_host(struct trun *r, const char *exe, bool preload, const char *mode, rlim_t soft,
		     rlim_t hard)
{
	const char *argv[] = { exe, mode, NULL };
	struct env e = { preload, { soft, hard } };

	trun_capture_setup(r, argv, 10000, set_env, &e, NULL);
}

static void check_host(const char *exe, const char *label, const char *mode, rlim_t soft,
		       rlim_t hard)
{
	struct trun base, r;

	run_host(&base, exe, false, mode, soft, hard);
	if (!ok(base.status == 0 && strncmp(base.out, "ok", 2) == 0,
		"%s: without the shim the host prints ok", label)) {
		diag("status %d, stdout: %s, stderr: %s", base.status, base.out, base.err);
		trun_free(&base);
		return;
	}
	run_host(&r, exe, true, mode, soft, hard);
	if (!ok(r.status == 0 && strcmp(r.out, base.out) == 0,
		"%s: with the shim too (status %d%s)", label, r.status,
		r.timed_out ? ": hung, killed at the deadline" : ""))
		diag("stdout: %s, stderr: %s", r.out, r.err);
	trun_free(&base);
	trun_free(&r);
}

static void check(const char *label, const char *mode, rlim_t soft, rlim_t hard)
{
	check_host(host, label, mode, soft, hard);
}

int main(void)
{
	struct rlimit rl;

	shim = getenv("SOCKAUDIT_SHIM");
	host = getenv("SOCKAUDIT_UNWIND_HOST");
	host_unw = getenv("SOCKAUDIT_UNWIND_HOST_UNW");
	dir = getenv("SOCKAUDIT_DIR");
	if (!shim || !host || !host_unw || !dir)
		bail("SOCKAUDIT_SHIM, SOCKAUDIT_UNWIND_HOST(_UNW) and SOCKAUDIT_DIR must be set");
	unsetenv("LD_PRELOAD");
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_max < 1024)
		bail("needs a hard RLIMIT_NOFILE of at least 1024");

	/* soft == hard (the default here, Docker, systemd LimitNOFILE=) */
	check("closefrom(3), fd table full of socketpairs, socket in a handler",
	      "fill", 1024, 1024);
	check("socket with data on the first fd above the old soft limit",
	      "raise", 256, 1024);
	check("socketpair on the last two fds the limit allows", "last", 1024, 1024);
	/* The same with room above the soft limit. */
	check("fd table full, soft < hard", "fill", 1024, rl.rlim_max);
	check("last two fds below a soft limit under the hard one", "last", 1024, rl.rlim_max);
	/* The validation that replaced the pipe must still stop the unwinder
	 * at unreadable memory. */
	check("unwind info pointing at unreadable memory", "garbage", 1024, 1024);
	/* A host linked with libunwind shares the shim's copy: its own
	 * unwinds (with libunwind's pipe) and fd numbers are as without the
	 * shim, and the shim's captures still leave its fds alone. */
	check_host(host_unw, "host's own unwinds with the same libunwind", "own", 1024, 1024);
	check_host(host_unw, "fd table full, the host linked with libunwind", "fill", 1024, 1024);
	check_host(host_unw, "last two fds, the host linked with libunwind", "last", 1024, 1024);
	return tap_done();
}
