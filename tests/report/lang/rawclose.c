/* Closes made outside close(): sockets A (syscall(SYS_close)) and B, C
 * (syscall(SYS_close_range)) through libc's syscall(), as libuv does, and D
 * with the system call instruction itself, which nothing can see; E stays
 * open (LEAK-E). Prints "ready", waits for EOF on stdin; with an argument
 * exits at once, E still open. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../raw-syscall.h"

static int udp(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0)
		exit(3);
	return fd;
}

int main(int argc, char **argv)
{
	int a = udp(), b = udp(), c = udp(), d = udp();
	int e = udp(); // LEAK-E

	(void)argv;
	if (c != b + 1 || syscall(SYS_close, a) != 0 ||
	    syscall(SYS_close_range, (unsigned)b, (unsigned)c, 0) != 0 ||
	    raw_syscall3(SYS_close, d, 0, 0) != 0)
		return 4;
	/* What syscall() returns and leaves in errno is libc's. */
	errno = 0;
	if (syscall(SYS_close, a) != -1 || errno != EBADF)
		return 5;
	printf("ready e=%d\n", e);
	fflush(stdout);
	if (argc > 1)
		return 0;
	while (getchar() != EOF)
		;
	return 0;
}
