/* Stack capture (capture.c). */
#pragma once

#include "shim.h"

void shim_capture_init(void) SHIM_HIDDEN;
uint32_t shim_capture(uint64_t *frames, uint32_t max) SHIM_HIDDEN;
bool shim_capture_owns(const void *addr) SHIM_HIDDEN;
/* Is this thread inside a capture (libunwind called by the shim)? */
bool shim_capture_active(void) SHIM_HIDDEN;
