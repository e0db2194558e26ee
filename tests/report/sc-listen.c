/* A listener and nothing else: LISTEN is never flagged, whatever the
 * thresholds. */
#include "sc.h"

static int listen_line;

__attribute__((noinline))
static int open_listener(struct sockaddr_in *a)
{
	socklen_t len = sizeof(*a);
	int l;

	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	listen_line = __LINE__ + 1;
	l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *)a, sizeof(*a)) < 0 || listen(l, 16) < 0 ||
	    getsockname(l, (struct sockaddr *)a, &len) < 0)
		sc_die("listener");
	return l;
}

int main(void)
{
	struct sockaddr_in a;
	int l = open_listener(&a);

	sc_say("ready fd=%d line=%d func=open_listener file=sc-listen.c port=%u", l, listen_line,
	       ntohs(a.sin_port));
	sc_wait();
	return 0;
}
