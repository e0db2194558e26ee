/* _exit() skips destructors, and shells (dash) and many forked children
 * leave through it: run the shim's exit path here too, or every such process
 * would leave its table behind for garbage collection. */
#include "process.h"
#include "util.h"

#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static __attribute__((noreturn)) void leave(void (*real)(int), int status)
{
	shim_exit();
	if (real)
		real(status);
	for (;;)
		shim_sys(SYS_exit_group, status);
}

SHIM_EXPORT void _exit(int status)
{
	leave(shim_real._exit, status);
}

SHIM_EXPORT void _Exit(int status)
{
	leave(shim_real._Exit, status);
}
