/* Sockets received from another process (SCM_RIGHTS) are sockets this
 * process now holds: record them with origin "received". */
#include "init.h"
#include "record.h"

#include <stddef.h>
#include <sys/socket.h>

static void record_rights(int via, const struct msghdr *msg)
{
	struct cmsghdr *c;

	if (!msg->msg_control || msg->msg_controllen < sizeof(struct cmsghdr))
		return;
	for (c = CMSG_FIRSTHDR((struct msghdr *)msg); c; c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
		const unsigned char *data = CMSG_DATA(c);
		size_t n;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0))
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;
			__builtin_memcpy(&fd, data + i * sizeof(int), sizeof(int));
			/* shim_record checks S_ISSOCK: pipes and files are skipped. */
			shim_record(fd, SA_ORIGIN_RECEIVED, via, NULL, 0, NULL);
		}
	}
}

SHIM_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	ssize_t n;

	if (unlikely(!shim_real.recvmsg))
		shim_init();
	n = shim_real.recvmsg(fd, msg, flags);
	if (n >= 0 && msg && msg->msg_controllen)
		record_rights(fd, msg);
	return n;
}

SHIM_EXPORT int recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags,
			 struct timespec *timeout)
{
	int n;

	if (unlikely(!shim_real.recvmmsg))
		shim_init();
	n = shim_real.recvmmsg(fd, vec, vlen, flags, timeout);
	for (int i = 0; i < n; i++)
		if (vec[i].msg_hdr.msg_controllen)
			record_rights(fd, &vec[i].msg_hdr);
	return n;
}
