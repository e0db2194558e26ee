/* kprobe: sockets sock_diag does not list (a TCP socket reset by its peer,
 * one never connected, an unbound UDP socket, netlink) are read through the
 * target's own descriptors with pidfd_getfd. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../tap.h"
#include "kernel/kprobe.h"

struct held {
	uint64_t reset, fresh, udp, nl;
};

static uint64_t ino(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 ? st.st_ino : 0;
}

/* The child: makes the sockets, reports their inodes, waits. */
static void child(int out)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);
	struct linger lg = { 1, 0 };
	struct held h;
	int lfd, c, s, fresh, udp, nl;
	char buf[8];

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	bind(lfd, (struct sockaddr *)&a, sizeof(a));
	listen(lfd, 1);
	getsockname(lfd, (struct sockaddr *)&a, &l);
	c = socket(AF_INET, SOCK_STREAM, 0);
	connect(c, (struct sockaddr *)&a, sizeof(a));
	s = accept(lfd, NULL, NULL);
	setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(s);                   /* RST: c goes to CLOSE, unhashed */
	close(lfd);
	recv(c, buf, sizeof(buf), 0);   /* consume the reset */
	fresh = socket(AF_INET6, SOCK_STREAM, 0);
	udp = socket(AF_INET, SOCK_DGRAM, 0);
	nl = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	h.reset = ino(c);
	h.fresh = ino(fresh);
	h.udp = ino(udp);
	h.nl = ino(nl);
	write(out, &h, sizeof(h));
	pause();
}

int main(void)
{
	struct ks_table t = { 0 };
	struct procfd_list fds = { 0 };
	struct held h;
	const struct ks_sock *k;
	int p[2], added;
	pid_t pid;

	pipe(p);
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		child(p[1]);
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &h, sizeof(h)) != sizeof(h))
		bail("child did not report");
	ok(ks_collect(&t, pid) == 0, "kernel view collected");
	{
		int rc = procfd_scan(pid, &fds);
		ok(rc == 0 && fds.n == 4, "child holds 4 sockets (%zu)", fds.n);
	}
	ok(ks_lookup(&t, h.reset) == NULL, "the dump does not list the reset TCP socket");
	ok(ks_lookup(&t, h.nl) == NULL, "nor the netlink socket");
	added = ks_probe_missing(&t, pid, &fds);
	if (added == -EPERM || added == -EACCES) {
		ok(1, "# SKIP pidfd_getfd not permitted here");
	} else {
		ok(added >= 2, "probed %d sockets", added);
		k = ks_lookup(&t, h.reset);
		ok(k && k->probed && k->family == AF_INET && k->protocol == IPPROTO_TCP &&
		   k->state == TCP_CLOSE && k->have_tcp_info, "reset socket: TCP, CLOSE, with tcp_info");
		k = ks_lookup(&t, h.fresh);
		ok(k && k->family == AF_INET6 && k->state == TCP_CLOSE,
		   "never-connected socket: TCPv6, CLOSE");
		k = ks_lookup(&t, h.udp);
		ok(k && k->family == AF_INET && k->protocol == IPPROTO_UDP, "unbound UDP socket found");
		k = ks_lookup(&t, h.nl);
		ok(k && k->family == AF_NETLINK, "netlink socket: family netlink");
		ok(ks_probe_missing(&t, pid, &fds) == 0, "a second pass adds nothing");
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	ks_finish(&t);
	procfd_finish(&fds);
	return tap_done();
}
