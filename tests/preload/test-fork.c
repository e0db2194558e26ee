/* fork and _Fork: a child's close must never erase the parent's record,
 * and every child gets its own exact table (vfork and clone: test-vfork.c). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../tap.h"
#include "harness.h"

static void case_fork(void)
{
	int keep = socket(AF_INET, SOCK_STREAM, 0), drop = socket(AF_INET, SOCK_DGRAM, 0);
	int go[2], done[2];
	char c;
	pid_t pid;

	pipe(go);
	pipe(done);
	pid = fork();
	if (pid == 0) {
		struct th_table t;
		int rc = 0;

		close(drop);
		/* In the child: its own table, inherited records, exact. */
		if (!th_load(&t, getpid()))
			_exit(10);
		if (!th_find(&t, keep) || th_find(&t, keep)->origin != SA_ORIGIN_INHERIT_FORK)
			rc = 11;
		if (th_find(&t, keep) && th_find(&t, keep)->open_stack == 0)
			rc = 12;
		if (!(t.s.hdr.flags & SA_HDR_FORKED) || t.s.hdr.ppid != getppid())
			rc = 13;
		th_unload(&t);
		if (!rc && !th_exact(getpid()))
			rc = 14;
		write(done[1], "x", 1);
		read(go[0], &c, 1);   /* stay alive while the parent checks */
		_exit(rc);
	}
	read(done[0], &c, 1);
	ok(th_exact(getpid()), "fork: parent's table exact after the child closed a socket");
	{
		struct th_table t;
		ok(th_load(&t, getpid()) && th_find(&t, drop) &&
		   th_find(&t, drop)->origin == SA_ORIGIN_SOCKET,
		   "fork: parent still records the socket the child closed");
		th_unload(&t);
	}
	ok(th_exact(pid), "fork: child's table exact (read from outside)");
	write(go[1], "x", 1);
	{
		int rc = th_wait_child(pid, 10000);
		ok(rc == 0, "fork: child's own checks passed (status %d)", rc);
	}
	close(keep);
	close(drop);
	close(go[0]); close(go[1]); close(done[0]); close(done[1]);
}

static void case_raw_fork(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	int done[2], go[2];
	char c;
	pid_t pid;

	pipe(done);
	pipe(go);
	/* _Fork() runs no atfork handlers: only the wipe-on-fork page tells. */
	pid = _Fork();
	if (pid == 0) {
		close(s);
		write(done[1], "x", 1);
		read(go[0], &c, 1);
		_exit(0);
	}
	read(done[0], &c, 1);
	ok(th_exact(getpid()), "_Fork: parent's table exact after the child's close");
	ok(th_exact(pid), "_Fork: child's table exact");
	write(go[1], "x", 1);
	ok(th_wait_child(pid, 10000) == 0, "_Fork: child exited");
	close(s);
	close(done[0]); close(done[1]); close(go[0]); close(go[1]);
}

int main(void)
{
	case_fork();
	case_raw_fork();
	return tap_done();
}
