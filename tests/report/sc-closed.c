/* A connection used and closed properly on both ends, listener too: the
 * process holds no socket, nothing may be flagged. */
#include "sc.h"

int main(void)
{
	struct sockaddr_in a;
	int l = sc_listener(&a), c, s;

	c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (const struct sockaddr *)&a, sizeof(a)) < 0)
		sc_die("connect");
	s = accept(l, NULL, NULL);
	if (s < 0)
		sc_die("accept");
	sc_ping(c, s);
	close(c);
	close(s);
	close(l);
	sc_say("ready fd=%d", c);
	sc_wait();
	return 0;
}
