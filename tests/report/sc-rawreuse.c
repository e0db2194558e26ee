/* Two recorded sockets closed by raw close system calls, their fds then
 * taken by raw system calls the shim never sees: fd A by a UDP socket
 * connected to another port than the record's, fd B by a unix socket where
 * the record says inet. Without SOCKAUDIT_INODE_AT_OPEN the records carry
 * no inode; the reader must still call both records stale. */
#include <sys/syscall.h>
#include <sys/un.h>

#include "../raw-syscall.h"
#include "sc.h"

int main(void)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int a = socket(AF_INET, SOCK_DGRAM, 0), b, a2, b2;

	/* A UDP connect only sets the peer: no server needed. */
	if (a < 0 || connect(a, (const struct sockaddr *)&to, sizeof(to)) < 0)
		sc_die("socket/connect");
	b = socket(AF_INET, SOCK_DGRAM, 0);
	if (b < 0 || raw_syscall3(SYS_close, a, 0, 0) != 0 || raw_syscall3(SYS_close, b, 0, 0) != 0)
		sc_die("raw close");
	a2 = (int)syscall(SYS_socket, AF_INET, SOCK_DGRAM, 0);
	b2 = (int)syscall(SYS_socket, AF_UNIX, SOCK_DGRAM, 0);
	to.sin_port = htons(53);
	/* connect() too would be seen (and would update the record). */
	if (a2 != a || b2 != b ||
	    syscall(SYS_connect, a2, (const struct sockaddr *)&to, sizeof(to)) < 0)
		sc_die("raw reopen at the same fds");
	sc_say("ready fd=%d other_fd=%d", a, b);
	sc_wait();
	return 0;
}
