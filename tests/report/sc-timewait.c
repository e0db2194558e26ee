/* A connection closed on both ends, one of them still held: the server
 * side closes first, the client answers with shutdown(SHUT_WR) and keeps
 * its fd. The server's end waits in TIME_WAIT, kept by the kernel with no
 * process; the client's fd holds a socket in CLOSE. */
#include <netinet/tcp.h>

#include "sc.h"

static int tcp_state(int fd)
{
	struct tcp_info ti;
	socklen_t l = sizeof(ti);

	return getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l) == 0 ? ti.tcpi_state : -1;
}

int main(void)
{
	struct sockaddr_in a, me;
	socklen_t ml = sizeof(me);
	int l = sc_listener(&a), c, s;
	char b;

	c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (const struct sockaddr *)&a, sizeof(a)) < 0)
		sc_die("connect");
	s = accept(l, NULL, NULL);
	if (s < 0)
		sc_die("accept");
	if (getsockname(c, (struct sockaddr *)&me, &ml) < 0)
		sc_die("getsockname");
	close(s);
	if (read(c, &b, 1) != 0)
		sc_die("read: expected the server's FIN");
	if (shutdown(c, SHUT_WR) < 0)
		sc_die("shutdown");
	/* The server's last ACK: CLOSE here, TIME_WAIT there. Bounded wait. */
	for (int i = 0; i < 2000 && tcp_state(c) != TCP_CLOSE; i++)
		usleep(1000);
	if (tcp_state(c) != TCP_CLOSE)
		sc_die("the client never reached CLOSE");
	sc_say("ready fd=%d port=%d server_port=%d", c, ntohs(me.sin_port), ntohs(a.sin_port));
	sc_wait();
	return 0;
}
