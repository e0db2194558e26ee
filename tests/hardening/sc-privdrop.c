/* A server that binds as root and drops privileges, as nginx, sshd and
 * postfix do: a listener opened as root, setgroups/setgid/setuid(65534),
 * then sockets opened after the drop (enough that new table pages must be
 * backed), and a forked worker that connects, accepts and holds sockets.
 * Prints "ready pid=.. worker=.. fd=.. high=.. wfd=.. uid=..", then waits
 * for EOF on stdin, stops the worker and exits normally.
 *
 * Runs under the shim, started by root (tests/hardening/test-privdrop.c). */
#include <grp.h>
#include <sys/wait.h>

#include "../report/sc.h"

#define NOBODY    65534
#define AFTER     100   /* sockets opened after the drop: fds up to ~105 */
#define HIGH_FD   700   /* a slot page of its own */

/* The worker's own sockets: the report must name this function. */
static int __attribute__((noinline)) worker_sockets(const struct sockaddr_in *a, int l, int *s)
{
	int c = socket(AF_INET, SOCK_STREAM, 0);

	if (c < 0 || connect(c, (const struct sockaddr *)a, sizeof(*a)) < 0)
		sc_die("worker connect");
	*s = accept(l, NULL, NULL);
	if (*s < 0)
		sc_die("worker accept");
	return c;
}

static void worker(const struct sockaddr_in *a, int l, int ready_fd, int stop_fd)
{
	int s, c = worker_sockets(a, l, &s);
	char buf[16];

	if (dprintf(ready_fd, "%d\n", c) < 0)
		sc_die("worker ready");
	close(ready_fd);
	while (read(stop_fd, buf, sizeof(buf)) > 0)
		;
	/* A normal exit: the shim's exit path removes the worker's table. */
	exit(0);
}

/* Opened after the drop: the report must name this function too. */
static int __attribute__((noinline)) after_drop_socket(void)
{
	return socket(AF_INET, SOCK_DGRAM, 0);
}

int main(void)
{
	struct sockaddr_in a;
	int l = sc_listener(&a), ready[2], stop[2], fd = -1, wfd = 0, st;
	char buf[32];
	ssize_t n;
	pid_t w;

	if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
		sc_die("drop privileges");
	if (getuid() != NOBODY || geteuid() != NOBODY)
		sc_die("still privileged");
	for (int i = 0; i < AFTER; i++)
		if ((fd = after_drop_socket()) < 0)
			sc_die("socket after the drop");
	if (dup2(fd, HIGH_FD) != HIGH_FD)
		sc_die("dup2");
	if (pipe(ready) < 0 || pipe(stop) < 0)
		sc_die("pipe");
	w = fork();
	if (w < 0)
		sc_die("fork");
	if (w == 0) {
		close(ready[0]);
		close(stop[1]);
		worker(&a, l, ready[1], stop[0]);
	}
	close(ready[1]);
	close(stop[0]);
	n = read(ready[0], buf, sizeof(buf) - 1);
	if (n <= 0)
		sc_die("worker did not start");
	buf[n] = '\0';
	wfd = atoi(buf);
	sc_say("ready pid=%d worker=%d fd=%d high=%d wfd=%d uid=%d", (int)getpid(), (int)w, fd,
	       HIGH_FD, wfd, (int)geteuid());
	sc_wait();
	close(stop[1]);
	if (waitpid(w, &st, 0) != w || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		sc_die("worker did not exit 0");
	return 0;
}
