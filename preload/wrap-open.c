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
	int fd;

	if (unlikely(!shim_real.socket))
		shim_init();
	fd = shim_real.socket(domain, type, protocol);
	if (unlikely(shim_lang_on)) {
		if (fd >= 0)
			shim_record_socket(fd, domain, type, protocol);
		shim_lang_done(SHIM_LANG_OPEN);
		return fd;
	}
	/* A sibling call (record.h says why). */
	return fd >= 0 ? shim_record_socket(fd, domain, type, protocol) : fd;
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
	if (unlikely(shim_lang_on)) {
		shim_record_connect(rc, fd, addr, len);
		shim_lang_done(SHIM_LANG_CONNECT);
		return rc;
	}
	return shim_record_connect(rc, fd, addr, len);
}

/* The caller's buffer holds the peer, truncated to the size it had: the
 * kernel reports the full length, which may exceed the buffer. */
static inline socklen_t peer_len(const struct sockaddr *addr, socklen_t bufsize,
				 const socklen_t *len)
{
	return addr && len ? (*len < bufsize ? *len : bufsize) : 0;
}

SHIM_EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	socklen_t bufsize = addr && len ? *len : 0;
	int nfd;

	if (unlikely(!shim_real.accept))
		shim_init();
	nfd = shim_real.accept(fd, addr, len);
	return nfd >= 0 ? shim_record_accept(nfd, fd, addr, peer_len(addr, bufsize, len)) : nfd;
}

SHIM_EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	socklen_t bufsize = addr && len ? *len : 0;
	int nfd;

	if (unlikely(!shim_real.accept4))
		shim_init();
	nfd = shim_real.accept4(fd, addr, len, flags);
	return nfd >= 0 ? shim_record_accept(nfd, fd, addr, peer_len(addr, bufsize, len)) : nfd;
}
