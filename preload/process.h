/* Process life: a forked child's table, exec adoption, exit (process.c). */
#pragma once

#include "shim.h"

int shim_fork_child(int32_t pid) SHIM_HIDDEN;
void shim_adopt_exec(void) SHIM_HIDDEN;
void shim_exit(void) SHIM_HIDDEN;
