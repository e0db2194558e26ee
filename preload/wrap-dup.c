/* Wrappers that duplicate fds. The new number is recorded after the real
 * call: dup2/dup3 replace newfd atomically, so no other thread can be handed
 * that number in between. */
#include "init.h"
#include "record.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <unistd.h>

SHIM_EXPORT int dup(int oldfd)
{
	int fd;

	if (unlikely(!shim_real.dup))
		shim_init();
	fd = shim_real.dup(oldfd);
	if (fd >= 0)
		shim_record_dup(oldfd, fd);
	return fd;
}

SHIM_EXPORT int dup2(int oldfd, int newfd)
{
	int fd;

	if (unlikely(!shim_real.dup2))
		shim_init();
	fd = shim_real.dup2(oldfd, newfd);
	if (fd >= 0)
		shim_record_dup(oldfd, fd);
	return fd;
}

SHIM_EXPORT int dup3(int oldfd, int newfd, int flags)
{
	int fd;

	if (unlikely(!shim_real.dup3))
		shim_init();
	fd = shim_real.dup3(oldfd, newfd, flags);
	if (fd >= 0)
		shim_record_dup(oldfd, fd);
	return fd;
}

/* fcntl is variadic; the argument is an int or a pointer depending on cmd,
 * and both travel in one register-sized slot, as glibc itself reads it. */
static int fcntl_common(int (*real)(int, int, ...), int fd, int cmd, void *arg)
{
	int rc = real(fd, cmd, arg);

	if (rc >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC))
		shim_record_dup(fd, rc);
	return rc;
}

/* Programs built with _FILE_OFFSET_BITS=64 call fcntl64, others fcntl:
 * export both names explicitly (a plain definition of fcntl would itself be
 * renamed to fcntl64 under that macro). */
SHIM_EXPORT int shim_fcntl(int fd, int cmd, ...) __asm__("fcntl");
SHIM_EXPORT int shim_fcntl64(int fd, int cmd, ...) __asm__("fcntl64");

int shim_fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (unlikely(!shim_real.fcntl))
		shim_init();
	return fcntl_common(shim_real.fcntl, fd, cmd, arg);
}

int shim_fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (unlikely(!shim_real.fcntl64))
		shim_init();
	return fcntl_common(shim_real.fcntl64, fd, cmd, arg);
}
