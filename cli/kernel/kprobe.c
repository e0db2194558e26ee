#include "kernel/kprobe.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int sockopt_int(int fd, int level, int name)
{
	int v = 0;
	socklen_t l = sizeof(v);

	return getsockopt(fd, level, name, &v, &l) == 0 ? v : -1;
}

/* Fill `s` from our copy of the descriptor; false when it is no longer the
 * socket the scan saw. */
static bool probe_one(int fd, uint64_t inode, struct ks_sock *s)
{
	struct stat st;
	struct tcp_info ti;
	socklen_t l;

	if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode) || st.st_ino != inode)
		return false;
	memset(s, 0, sizeof(*s));
	s->inode = inode;
	s->probed = true;
	s->family = sockopt_int(fd, SOL_SOCKET, SO_DOMAIN);
	s->type = sockopt_int(fd, SOL_SOCKET, SO_TYPE);
	s->protocol = sockopt_int(fd, SOL_SOCKET, SO_PROTOCOL);
	l = sizeof(s->local);
	if (getsockname(fd, (struct sockaddr *)&s->local, &l) < 0)
		memset(&s->local, 0, sizeof(s->local));
	l = sizeof(s->peer);
	if (getpeername(fd, (struct sockaddr *)&s->peer, &l) < 0)
		memset(&s->peer, 0, sizeof(s->peer));
	/* The kernel's own state numbering: an unconnected UDP socket is
	 * TCP_CLOSE, as sock_diag would say. */
	s->state = TCP_CLOSE;
	if ((s->family == AF_INET || s->family == AF_INET6) && s->protocol == IPPROTO_TCP) {
		l = sizeof(ti);
		if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l) == 0) {
			s->state = ti.tcpi_state;
			s->have_tcp_info = true;
			s->last_data_recv_ms = ti.tcpi_last_data_recv;
			s->last_data_sent_ms = ti.tcpi_last_data_sent;
			s->last_ack_recv_ms = ti.tcpi_last_ack_recv;
		}
	}
	return true;
}

int ks_probe_missing(struct ks_table *t, pid_t pid, const struct procfd_list *fds)
{
	int pidfd = -1, added = 0;

	for (size_t i = 0; i < fds->n; i++) {
		struct ks_sock s;
		int fd;

		if (ks_lookup(t, fds->v[i].inode))
			continue;
		if (pidfd < 0) {
			pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
			if (pidfd < 0)
				return -errno;
		}
		fd = (int)syscall(SYS_pidfd_getfd, pidfd, fds->v[i].fd, 0);
		if (fd < 0) {
			int err = errno;
			if (err == EBADF)
				continue;   /* closed since the scan */
			close(pidfd);
			return added ? added : -err;
		}
		if (probe_one(fd, fds->v[i].inode, &s) && ks_insert(t, &s) == 0)
			added++;
		close(fd);
	}
	if (pidfd >= 0)
		close(pidfd);
	return added;
}
