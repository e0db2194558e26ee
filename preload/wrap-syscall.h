/* The syscall() trampoline (wrap-syscall.c). */
#pragma once

#include "shim.h"

/* Called by the trampoline: clears the records a close or close_range is
 * about to release and returns libc's syscall() to jump to (or, for a
 * statx() of Node's hand-over path, a function that answers it). */
void *shim_syscall_prepare(long nr, long a1, long a2, long a3, long a4) SHIM_HIDDEN;
