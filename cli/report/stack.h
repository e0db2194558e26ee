/* stack: a stack identity as reports compare it.
 *
 * The connect stack when there is one, else the open stack, compared as raw
 * return addresses (valid within one process and one image generation,
 * which is part of the identity). Sockets without a stack carry the reason
 * they have none instead ("inherited-start", "process not instrumented").
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "table.h"

struct group_stack {
	uint32_t depth;                  /* 0: no stack, see nostack */
	uint32_t generation;             /* image generation the addresses belong to */
	uint64_t frames[SA_MAX_FRAMES];  /* raw return addresses, innermost first */
	const char *kind;                /* "connect", "open"; NULL without a stack */
	char nostack[96];                /* why there is none; "" with a stack */
};

/* Kinds are static strings, compared by value so a copy matches too. */
static inline bool group_stack_kind_same(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}
