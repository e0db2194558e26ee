/* The per-call check: may this thread write the table now? (gate.c) */
#pragma once

#include "shim.h"

/* True when the table may be written by this thread now (handles fork
 * children and vfork children). No syscall in the owner until the image has
 * vforked; from then on one getpid. */
bool shim_writable(void) SHIM_HIDDEN;
/* The same answer, for open-type calls, with the common case inlined. A
 * vfork child's socket() does not write its parent's table either. */
bool shim_writable_open(void) SHIM_HIDDEN;
