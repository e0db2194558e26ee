/* The vfork() and clone() trampolines (vfork.c). */
#pragma once

#include "shim.h"

/* What the trampolines call before they jump to the real function (exported
 * names defined in assembly there). */
#if defined(__x86_64__) || defined(__aarch64__)
#define SHIM_VFORK_TRAMPOLINES 1
#else
#define SHIM_VFORK_TRAMPOLINES 0
#endif
void *shim_vfork_prepare(void) SHIM_HIDDEN;
void *shim_clone_prepare(int flags) SHIM_HIDDEN;
