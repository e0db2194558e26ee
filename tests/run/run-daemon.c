/* A daemon-like double fork: the grandchild outlives its parent (which
 * exits at once), waits until it has been re-parented, then leaks a socket
 * into CLOSE_WAIT for argv[2] ms. The run must wait for it. */
#include "rp.h"

#include <sys/wait.h>

static int connect_line;

SC_CONNECTER(daemon_connect, connect_line)

static void grandchild(const char *info, long hold_ms, pid_t parent)
{
	struct sockaddr_in a;
	int l, c;

	/* Re-parented once the middle process is gone: then leak. */
	for (int i = 0; i < 1000 && getppid() == parent; i++)
		rp_hold(5);
	if (getppid() == parent)
		sc_die("never re-parented");
	l = sc_listener(&a);
	c = daemon_connect(&a);
	rp_peer_closes(l, c);
	rp_info(info, "pid=%d func=daemon_connect file=run-daemon.c line=%d fd=%d",
		(int)getpid(), connect_line, c);
	rp_hold_seen(hold_ms);
	exit(0);
}

int main(int argc, char **argv)
{
	long hold = argc > 2 ? atol(argv[2]) : 1000;
	pid_t mid;

	if (argc < 2)
		sc_die("usage: run-daemon INFO [HOLD_MS]");
	mid = fork();
	if (mid < 0)
		sc_die("fork");
	if (mid == 0) {
		pid_t self = getpid(), gc;

		if (setsid() < 0)
			sc_die("setsid");
		gc = fork();
		if (gc < 0)
			sc_die("fork");
		if (gc == 0)
			grandchild(argv[1], hold, self);
		_exit(0);
	}
	if (waitpid(mid, NULL, 0) != mid)
		sc_die("waitpid");
	return 0;
}
