/* The syscall() trampoline (wrap-syscall.c). */
#pragma once

#include "shim.h"

/* Called by the trampoline: clears the records a close or close_range is
 * about to release and returns libc's syscall() to jump to. */
void *shim_syscall_prepare(long nr, long a1, long a2, long a3) SHIM_HIDDEN;
