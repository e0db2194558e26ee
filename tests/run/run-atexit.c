/* Exits at once with a connected socket still open: no time to meet the
 * CLOSE_WAIT or idle rule, only the at-exit finding (valgrind --track-fds). */
#include "rp.h"

static int connect_line;

SC_CONNECTER(atexit_connect, connect_line)

int main(int argc, char **argv)
{
	struct sockaddr_in a;
	int l = sc_listener(&a), c;

	if (argc < 2)
		sc_die("usage: run-atexit INFO");
	c = atexit_connect(&a);
	rp_peer_closes(l, c);
	rp_info(argv[1], "pid=%d func=atexit_connect file=run-atexit.c line=%d fd=%d",
		(int)getpid(), connect_line, c);
	return 0;
}
