/* Start-up (init.c): the constructor and the knobs. */
#pragma once

#include "shim.h"

/* Idempotent; the wrappers call it when they find shim_real unresolved
 * (a constructor that ran before ours). */
void shim_init(void) SHIM_HIDDEN;
