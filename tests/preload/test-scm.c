/* SCM_RIGHTS: a socket passed from another process is recorded as
 * received (recvmsg and recvmmsg); a pipe passed the same way is not. */
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../tap.h"
#include "harness.h"

static void send_fd(int via, int fd)
{
	char data = 'x', ctl[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { &data, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			    .msg_controllen = sizeof(ctl) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	sendmsg(via, &m, 0);
}

static int fd_of(struct msghdr *m)
{
	struct cmsghdr *c = CMSG_FIRSTHDR(m);
	int fd = -1;

	if (c && c->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

int main(void)
{
	int sv[2], st, p[2];
	pid_t pid;
	char data, ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &data, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			    .msg_controllen = sizeof(ctl) };
	struct th_table t;
	int got1, got2, got3;

	tap_deadline(100, "receiving the three fds from the child (recvmsg, recvmmsg, waitpid)");
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	pid = fork();
	if (pid == 0) {
		int a = socket(AF_INET, SOCK_STREAM, 0), b = socket(AF_INET6, SOCK_DGRAM, 0);
		pipe(p);
		send_fd(sv[1], a);
		send_fd(sv[1], b);
		send_fd(sv[1], p[0]);
		_exit(0);
	}
	recvmsg(sv[0], &m, 0);
	got1 = fd_of(&m);
	{
		struct mmsghdr mm = { 0 };
		char ctl2[CMSG_SPACE(sizeof(int))];
		mm.msg_hdr.msg_iov = &iov;
		mm.msg_hdr.msg_iovlen = 1;
		mm.msg_hdr.msg_control = ctl2;
		mm.msg_hdr.msg_controllen = sizeof(ctl2);
		recvmmsg(sv[0], &mm, 1, 0, NULL);
		got2 = fd_of(&mm.msg_hdr);
	}
	m.msg_controllen = sizeof(ctl);
	recvmsg(sv[0], &m, 0);
	got3 = fd_of(&m);
	waitpid(pid, &st, 0);
	ok(got1 >= 0 && got2 >= 0 && got3 >= 0, "received three fds");
	ok(th_load(&t, getpid()), "table loads");
	ok(th_find(&t, got1) && th_find(&t, got1)->origin == SA_ORIGIN_RECEIVED &&
	   th_find(&t, got1)->dup_of == sv[0], "recvmsg: socket recorded as received via fd %d", sv[0]);
	ok(th_find(&t, got2) && th_find(&t, got2)->origin == SA_ORIGIN_RECEIVED,
	   "recvmmsg: socket recorded as received");
	ok(th_find(&t, got3) == NULL, "a received pipe is not recorded");
	th_unload(&t);
	ok(th_exact(getpid()), "table exact");
	return tap_done();
}
