/* Wrappers that create socket fds: record after the real call succeeds.
 * Each returns exactly what libc returned, with its errno. */
#include "init.h"
#include "lang.h"
#include "record.h"
#include "writer.h"

#include <errno.h>
#include <string.h>

SHIM_EXPORT int socket(int domain, int type, int protocol)
{
	int fd, kind[3] = { domain, type, protocol };

	if (unlikely(!shim_real.socket))
		shim_init();
	fd = shim_real.socket(domain, type, protocol);
	if (fd >= 0)
		shim_record(fd, SA_ORIGIN_SOCKET, -1, NULL, 0, kind);
	if (unlikely(shim_lang_on))
		shim_lang_done(SHIM_LANG_OPEN);
	return fd;
}

SHIM_EXPORT int socketpair(int domain, int type, int protocol, int sv[2])
{
	int rc, kind[3] = { domain, type, protocol };

	if (unlikely(!shim_real.socketpair))
		shim_init();
	rc = shim_real.socketpair(domain, type, protocol, sv);
	if (rc == 0) {
		shim_record(sv[0], SA_ORIGIN_SOCKETPAIR, sv[1], NULL, 0, kind);
		shim_record(sv[1], SA_ORIGIN_SOCKETPAIR, sv[0], NULL, 0, kind);
	}
	return rc;
}

SHIM_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	int rc;

	if (unlikely(!shim_real.connect))
		shim_init();
	rc = shim_real.connect(fd, addr, len);
	/* A non-blocking connect in progress holds the peer all the same. */
	if (rc == 0 || errno == EINPROGRESS)
		shim_record_connect(fd, addr, len);
	if (unlikely(shim_lang_on))
		shim_lang_done(SHIM_LANG_CONNECT);
	return rc;
}

/* The caller's buffer holds the peer, truncated to the size it had: the
 * kernel reports the full length, which may exceed the buffer. */
static void record_accepted(int fd, int listener, const struct sockaddr *addr,
			    socklen_t bufsize, const socklen_t *len)
{
	socklen_t n = 0;

	int kind[3];
	const int *k = shim_slot_kind(listener, kind) ? kind : NULL;

	if (addr && len)
		n = *len < bufsize ? *len : bufsize;
	/* An accepted socket has its listener's family, type and protocol:
	 * take them from its record and save three getsockopt calls. */
	shim_record(fd, SA_ORIGIN_ACCEPT, listener, n ? addr : NULL, n, k);
}

SHIM_EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	socklen_t bufsize = addr && len ? *len : 0;
	int nfd;

	if (unlikely(!shim_real.accept))
		shim_init();
	nfd = shim_real.accept(fd, addr, len);
	if (nfd >= 0)
		record_accepted(nfd, fd, addr, bufsize, len);
	return nfd;
}

SHIM_EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	socklen_t bufsize = addr && len ? *len : 0;
	int nfd;

	if (unlikely(!shim_real.accept4))
		shim_init();
	nfd = shim_real.accept4(fd, addr, len, flags);
	if (nfd >= 0)
		record_accepted(nfd, fd, addr, bufsize, len);
	return nfd;
}
