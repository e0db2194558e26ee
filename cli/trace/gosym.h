/* trace/gosym: where a function of a running Go program lies, from its
 * executable's symbol table (libelf): enough to tell a close made by the
 * garbage collector's finalizer goroutine (runtime.runfinq) from one made
 * by the program. A stripped binary (-ldflags='-s -w', strip) has no
 * symbol table: its Go pc-line table (symbolize/gopclntab.h) names the
 * function instead. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* [*lo, *hi) of `name` in pid's address space. False when the executable
 * has no such function (not Go) or cannot be read. */
bool tr_gosym_range(pid_t pid, const char *name, uint64_t *lo, uint64_t *hi);
