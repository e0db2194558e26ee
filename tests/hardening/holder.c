/* Holds a few sockets (a TCP pair, UDP sockets, a socketpair) under the
 * shim, prints "ready <pid>" and waits for stdin to close. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);
	int lfd = socket(AF_INET, SOCK_STREAM, 0), c, s, sv[2];
	char buf[16];

	bind(lfd, (struct sockaddr *)&a, sizeof(a));
	listen(lfd, 4);
	getsockname(lfd, (struct sockaddr *)&a, &l);
	c = socket(AF_INET, SOCK_STREAM, 0);
	connect(c, (struct sockaddr *)&a, sizeof(a));
	s = accept(lfd, NULL, NULL);
	for (int i = 0; i < 32; i++)
		socket(AF_INET, SOCK_DGRAM, 0);
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	while (read(0, buf, sizeof(buf)) > 0)
		;
	(void)s;
	return 0;
}
