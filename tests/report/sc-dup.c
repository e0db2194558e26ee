/* One socket, two fds: a connected client dup()ed. The report shows one
 * socket listing both fds, under the connect stack. */
#include "sc.h"

static int connect_line;

SC_CONNECTER(dup_client, connect_line)

int main(void)
{
	struct sockaddr_in a;
	int l = sc_listener(&a), c, d, s;

	c = dup_client(&a);
	d = dup(c);
	s = accept(l, NULL, NULL);
	if (d < 0 || s < 0)
		sc_die("dup/accept");
	sc_say("ready fd=%d dup=%d line=%d func=dup_client file=sc-dup.c", c, d, connect_line);
	sc_wait();
	return 0;
}
