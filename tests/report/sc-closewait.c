/* A client whose server closes: after the "close" command the client socket
 * sits in CLOSE_WAIT, held and never closed (the leak report must flag).
 * Also built with -static: the same leak, invisible to LD_PRELOAD. */
#include "sc.h"

static int connect_line;

__attribute__((noinline))
static int leak_client(const struct sockaddr_in *a)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		sc_die("socket");
	connect_line = __LINE__ + 1;
	if (connect(fd, (const struct sockaddr *)a, sizeof(*a)) < 0)
		sc_die("connect");
	return fd;
}

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
