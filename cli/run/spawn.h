/* spawn: the private table directory, the shim's path, CMD under the
 * shim, subreaper, reaping, signal forwarding. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "run/model.h"

void run_spawn_prepare(struct run_state *rs);      /* dir, run id, shim; dies on error */
void run_spawn_start(struct run_state *rs);        /* CMD started, or dies */
/* Wait up to ms for a child to change state or a signal to forward; reap
 * what exited. Returns false once no descendant is left. */
bool run_spawn_wait(struct run_state *rs, uint64_t ms);
void run_spawn_cleanup(struct run_state *rs);      /* remove the private directory */

struct run_tree_proc {
	pid_t pid;                 /* as we see it */
	uint64_t starttime;
};
/* Every process below us now, found by their parents in /proc. Returns how
 * many, *out malloc'ed (NULL for none). */
size_t run_spawn_tree(struct run_tree_proc **out);
