/* Exits at once with a connected socket still open: no time to meet the
 * CLOSE_WAIT or idle rule, only the at-exit finding (valgrind --track-fds). */
#include "rp.h"

static int connect_line;

__attribute__((noinline))
static int atexit_connect(const struct sockaddr_in *a)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		sc_die("socket");
	connect_line = __LINE__ + 1;
	if (connect(fd, (const struct sockaddr *)a, sizeof(*a)) < 0)
		sc_die("connect");
	return fd;
}

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
