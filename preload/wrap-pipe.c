/* pipe2() is wrapped for one caller only: libunwind, which opens a pipe to
 * validate addresses. While the shim itself is using libunwind (capture.c)
 * the call is refused without a syscall: the shim validates addresses
 * itself and must not hold a descriptor the host can reach. Every other
 * caller, libunwind used by the host itself included, gets the real call
 * untouched. */
#include "capture.h"
#include "util.h"

#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

SHIM_EXPORT int pipe2(int fds[2], int flags)
{
	const void *caller = __builtin_return_address(0);

	if (unlikely(shim_capture_active()) && shim_capture_owns(caller)) {
		errno = EMFILE;
		return -1;
	}
	if (unlikely(!shim_real.pipe2))
		return (int)shim_sys(SYS_pipe2, fds, flags);
	return shim_real.pipe2(fds, flags);
}
