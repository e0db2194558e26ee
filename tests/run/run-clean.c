/* Opens a connection, uses it, optionally holds it for argv[2] ms, closes
 * both ends and the listener: a run must never report it. */
#include "rp.h"

int main(int argc, char **argv)
{
	struct sockaddr_in a;
	int l = sc_listener(&a), c, s;

	if (argc < 2)
		sc_die("usage: run-clean INFO [HOLD_MS]");
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (const struct sockaddr *)&a, sizeof(a)) < 0)
		sc_die("connect");
	s = accept(l, NULL, NULL);
	if (s < 0)
		sc_die("accept");
	sc_ping(c, s);
	/* Optionally held, ESTABLISHED and healthy, long enough for polls. */
	if (argc > 2)
		rp_hold(atol(argv[2]));
	close(c);
	close(s);
	close(l);
	rp_info(argv[1], "pid=%d", (int)getpid());
	return 0;
}
