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

static const char *shim, *host, *host_unw, *dir;

struct run {
	char out[1024], err[4096];
	int status;   /* th_wait_child: -1 when it hung past the deadline */
};

static void slurp(int fd, char *buf, size_t len)
{
	size_t n = 0;
	ssize_t r;

	while (n + 1 < len && (r = read(fd, buf + n, len - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
}

static void run_host(struct run *r, const char *exe, bool preload, const char *mode, rlim_t soft,
		     rlim_t hard)
{
	struct rlimit rl = { soft, hard };
	int o[2], e[2];
	pid_t pid;

	if (pipe(o) < 0 || pipe(e) < 0)
		bail("pipe: %s", strerror(errno));
	pid = fork();
	if (pid == 0) {
		dup2(o[1], 1);
		dup2(e[1], 2);
		closefrom(3);
		if (preload) {
			setenv("LD_PRELOAD", shim, 1);
			setenv("SOCKAUDIT_DIR", dir, 1);
		} else {
			unsetenv("LD_PRELOAD");
		}
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
			printf("setrlimit %lu:%lu: %s\n", (unsigned long)soft,
			       (unsigned long)hard, strerror(errno));
			_exit(126);
		}
		execl(exe, exe, mode, (char *)NULL);
		_exit(127);
	}
	close(o[1]);
	close(e[1]);
	/* The output is a line or two: the pipes cannot fill before the
	 * deadline, and a hung host is killed before they are read. */
	r->status = th_wait_child(pid, 10000);
	slurp(o[0], r->out, sizeof(r->out));
	slurp(e[0], r->err, sizeof(r->err));
	close(o[0]);
	close(e[0]);
}

static void check_host(const char *exe, const char *label, const char *mode, rlim_t soft,
		       rlim_t hard)
{
	struct run base, r;

	run_host(&base, exe, false, mode, soft, hard);
	if (!ok(base.status == 0 && strncmp(base.out, "ok", 2) == 0,
		"%s: without the shim the host prints ok", label)) {
		diag("status %d, stdout: %s, stderr: %s", base.status, base.out, base.err);
		return;
	}
	run_host(&r, exe, true, mode, soft, hard);
	if (!ok(r.status == 0 && strcmp(r.out, base.out) == 0,
		"%s: with the shim too (status %d%s)", label, r.status,
		r.status < 0 ? ": hung, killed at the deadline" : ""))
		diag("stdout: %s, stderr: %s", r.out, r.err);
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
