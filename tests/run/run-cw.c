/* Leaks a client socket into CLOSE_WAIT for argv[2] ms (default 1000) and
 * until the run has polled twice more (rp_hold_seen), then exits with it
 * still open. */
#include "rp.h"

static int connect_line;

SC_CONNECTER(cw_connect, connect_line)

int main(int argc, char **argv)
{
	struct sockaddr_in a;
	int l = sc_listener(&a), c;

	if (argc < 2)
		sc_die("usage: run-cw INFO [HOLD_MS]");
	c = cw_connect(&a);
	rp_peer_closes(l, c);
	rp_info(argv[1], "pid=%d func=cw_connect file=run-cw.c line=%d fd=%d", (int)getpid(),
		connect_line, c);
	rp_hold_seen(argc > 2 ? atol(argv[2]) : 1000);
	return 0;
}
