/* ident: a group's stack identity, which survives rebuilds (no
 * addresses, no lines): the string (caller frees) and its hash. */
#pragma once

#include "report/group.h"

char *run_stack_id(const struct group *g);
void run_stack_hash(const char *id, char hex[17]);
