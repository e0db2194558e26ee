/* Sockets opened by raw socket system calls, which no preload library sees:
 * held but untracked. The UDP one is connected to port 53 (labelled DNS),
 * the netlink one is unknown to sock_diag (labelled netlink/other). */
#include <linux/netlink.h>
#include <sys/syscall.h>

#include "sc.h"

int main(void)
{
	struct sockaddr_in dns = { .sin_family = AF_INET, .sin_port = htons(53),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int u = (int)syscall(SYS_socket, AF_INET, SOCK_DGRAM, 0);
	int n = (int)syscall(SYS_socket, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);

	/* A UDP connect only sets the peer: no server needed. */
	if (u < 0 || n < 0 || connect(u, (const struct sockaddr *)&dns, sizeof(dns)) < 0)
		sc_die("raw sockets");
	sc_say("ready fd=%d netlink_fd=%d", u, n);
	sc_wait();
	return 0;
}
