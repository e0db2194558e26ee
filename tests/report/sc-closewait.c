/* A client whose server closes: after the "close" command the client socket
 * sits in CLOSE_WAIT, held and never closed (the leak report must flag).
 * Also built with -static: the same leak, invisible to LD_PRELOAD. */
#include "sc.h"

static int connect_line;

SC_CONNECTER(leak_client, connect_line)

int main(void)
{
	struct sockaddr_in a;
	int l = sc_listener(&a), c, s;
	char cmd[64];

	c = leak_client(&a);
	s = accept(l, NULL, NULL);
	if (s < 0)
		sc_die("accept");
	sc_ping(c, s);
	sc_say("ready fd=%d line=%d func=leak_client file=sc-closewait.c", c, connect_line);
	while (sc_command(cmd, sizeof(cmd))) {
		if (strcmp(cmd, "close") == 0) {
			char b;

			/* The server side goes; the client sees EOF and keeps
			 * its socket: CLOSE_WAIT from now on. */
			close(s);
			if (read(c, &b, 1) != 0)
				sc_die("expected EOF");
			sc_say("closed");
		}
	}
	return 0;
}
