/* dump-host: the process the dump tests point `sockaudit dump` at. It opens
 * one socket of each origin they check (a TCP listener, a connected client
 * and the accepted end, a dup of the client, a socketpair), says where they
 * are on one line, and holds them until its stdin reaches EOF. It runs under
 * the shim or, as a process with no table, without it. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void fail(const char *what)
{
	printf("error %s: %s\n", what, strerror(errno));
	exit(1);
}

int main(void)
{
	struct sockaddr_in addr = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	struct sockaddr_in local, peer;
	socklen_t len = sizeof(addr);
	int lfd, cfd, afd, dfd, pair[2];
	char buf[256];
	ssize_t n;

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(lfd, 4) < 0 || getsockname(lfd, (struct sockaddr *)&addr, &len) < 0)
		fail("listener");
	cfd = socket(AF_INET, SOCK_STREAM, 0);
	if (cfd < 0 || connect(cfd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		fail("connect");
	len = sizeof(local);
	if (getsockname(cfd, (struct sockaddr *)&local, &len) < 0)
		fail("getsockname");
	len = sizeof(peer);
	afd = accept(lfd, (struct sockaddr *)&peer, &len);
	if (afd < 0)
		fail("accept");
	dfd = dup(cfd);
	if (dfd < 0)
		fail("dup");
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) < 0)
		fail("socketpair");

	printf("ready pid=%d listen=%d port=%u client=%d client_port=%u accept=%d dup=%d "
	       "pair=%d,%d\n", (int)getpid(), lfd, ntohs(addr.sin_port), cfd,
	       ntohs(local.sin_port), afd, dfd, pair[0], pair[1]);
	fflush(stdout);

	for (;;) {
		n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n > 0 || (n < 0 && errno == EINTR))
			continue;
		break;
	}
	return 0;
}
