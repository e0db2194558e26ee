/* Resolving the real libc entry points (shim_real). */
#pragma once

#include "shim.h"

/* dlsym(RTLD_NEXT) of every wrapped function, once, from shim_init(). */
void shim_real_resolve(void) SHIM_HIDDEN;
