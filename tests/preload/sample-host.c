/* A small host program for behaviour-preservation tests: opens sockets,
 * writes known text to stdout and stderr, exits with status 3. */
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void)
{
	int sv[2], fds[64];

	for (int i = 0; i < 64; i++)
		fds[i] = socket(AF_INET, SOCK_DGRAM, 0);
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	write(sv[0], "ping", 4);
	printf("hello out %d\n", fds[63] - fds[0]);
	fprintf(stderr, "hello err\n");
	for (int i = 0; i < 64; i += 2)
		close(fds[i]);
	return 3;
}
