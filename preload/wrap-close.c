/* Wrappers that release fds: clear the record *before* the real call, so
 * a close racing with a new socket on the same number cannot erase the new
 * record. Until the real pointers are resolved, raw syscalls stand in (no
 * dlsym here: close() is async-signal-safe and so must we be). */
#include "init.h"
#include "lang.h"
#include "record.h"
#include "util.h"

#include <errno.h>
#include <linux/close_range.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

SHIM_EXPORT int close(int fd)
{
	/* A close by a runtime's collector (lang.c): rescued, and counted as
	 * collected at its site; one load otherwise. */
	if (unlikely(shim_lang_on) && shim_lang_closing(fd, __builtin_return_address(0)))
		shim_forget_collected(fd);
	else
		shim_forget(fd);
	if (unlikely(!shim_real.close))
		return (int)shim_sys(SYS_close, fd);
	return shim_real.close(fd);
}

SHIM_EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	/* With CLOSE_RANGE_CLOEXEC nothing is closed now; invalid arguments
	 * close nothing either and must leave the records alone. */
	if (!(flags & CLOSE_RANGE_CLOEXEC) &&
	    !(flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC)) && first <= last)
		shim_forget_range(first, last);
	if (unlikely(!shim_real.close_range))
		return (int)shim_sys(SYS_close_range, first, last, flags);
	return shim_real.close_range(first, last, flags);
}

SHIM_EXPORT void closefrom(int lowfd)
{
	if (lowfd >= 0)
		shim_forget_range((unsigned)lowfd, ~0u);
	if (unlikely(!shim_real.closefrom)) {
		shim_sys(SYS_close_range, (unsigned)lowfd, ~0u, 0);
		return;
	}
	shim_real.closefrom(lowfd);
}

SHIM_EXPORT int fclose(FILE *f)
{
	/* glibc closes the fd with an internal call we never see. */
	if (f) {
		int saved = errno;
		int fd = fileno(f);
		errno = saved;
		if (fd >= 0)
			shim_forget(fd);
	}
	if (unlikely(!shim_real.fclose))
		shim_init();
	return shim_real.fclose(f);
}
