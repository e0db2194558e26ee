/* pipe2() is wrapped for one caller only: libunwind, whose long-lived
 * validation pipe must not take the host's fd numbers (capture.c). Every
 * other caller gets the real call untouched. */
#include "capture.h"

#include <sys/syscall.h>
#include <unistd.h>

SHIM_EXPORT int pipe2(int fds[2], int flags)
{
	const void *caller = __builtin_return_address(0);
	int rc;

	if (unlikely(!shim_real.pipe2))
		rc = (int)syscall(SYS_pipe2, fds, flags);
	else
		rc = shim_real.pipe2(fds, flags);
	if (rc == 0 && unlikely(shim_capture_owns(caller)))
		shim_capture_relocate(fds);
	return rc;
}
